import Candles
import Feed
import TickCore

/// A capture's decoded records and 1-minute bars as CSV files or JSON lines, for pandas, DuckDB or a spreadsheet
/// (`kistick capture export`).
///
/// CSV: `PREFIX.trades.csv`, `PREFIX.books.csv` and `PREFIX.bars.csv`. JSON lines: one object per line with a
/// `type` (trade, book, notice, bar), in the order the records came, to one output. Bars are built by the engine's
/// candle builder from the trades, by exchange time, for the codes the capture's header names.
public enum CaptureExport {
    public enum Format: Sendable {
        case csv, jsonl
    }

    /// What an export wrote.
    public struct Summary: Sendable, Equatable {
        /// The files written (none for JSON lines to standard output).
        public var paths: [String] = []
        /// Messages that did not decode.
        public var malformed = 0
        /// How the read of the capture ended.
        public var end = CaptureEnd.complete
        /// The stretches of the capture the read skipped (damaged blocks).
        public var damage: [CaptureDamage] = []
    }

    /// Exports `capture`: CSV files named `prefix.trades.csv` and so on, or JSON lines to `prefix` (standard output
    /// when nil). Existing outputs are replaced.
    ///
    /// - Throws: `CaptureError` reading the capture or writing an output.
    public static func run(capture: String, format: Format, prefix: String?) throws -> Summary {
        let reader = try CaptureReader(path: capture)
        let codes = reader.header.codes.compactMap(SymbolCode.init)
        var exporter = try Exporter(codes: codes, format: format, prefix: prefix)
        var decoder = try FeedDecoder()
        var summary = Summary()
        summary.end = reader.read { message in
            guard message.kind == .message else { return }
            do {
                _ = try unsafe decoder.decode(message.bytes, localTs: message.localNs, into: &exporter)
            } catch {
                summary.malformed += 1
            }
        }
        try exporter.finish()
        summary.paths = exporter.paths
        summary.damage = reader.damage
        return summary
    }
}

/// Decoded records and bars as CSV rows or JSON lines.
private struct Exporter: FeedSink {
    let format: CaptureExport.Format
    let symbols: SymbolTable
    var builder: CandleBuilder
    var closed = CandleCollector()
    /// CSV: trades, books, bars; JSON lines: one output for all, in the order the records came.
    var outputs: [TextFile] = []
    let (trades, books, bars): (Int, Int, Int)
    var lastTime: UInt32 = 0
    private(set) var paths: [String] = []

    init(codes: [SymbolCode], format: CaptureExport.Format, prefix: String?) throws {
        self.format = format
        self.symbols = try SymbolTable(codes)
        self.builder = try CandleBuilder(symbols: max(codes.count, 1), intervals: [60])
        if format == .jsonl {
            self.outputs = [try prefix.map { try TextFile(creating: $0) } ?? TextFile.standardOutput()]
            (self.trades, self.books, self.bars) = (0, 0, 0)
            self.paths = prefix.map { [$0] } ?? []
            return
        }
        let base = prefix ?? "capture"
        for (name, header) in [
            (
                "trades",
                "local_ns,code,exchange_time,kst_time,price,change,volume,side,cum_volume,cum_value,ask,bid,ask_qty,"
                    + "bid_qty,strength\n"
            ),
            ("books", "local_ns,code,exchange_time,kst_time," + Self.levelColumns + ",total_ask_qty,total_bid_qty\n"),
            (
                "bars",
                "code,start,kst_start,seconds,open,high,low,close,volume,buy_volume,sell_volume,trades,value,flags\n"
            ),
        ] {
            let path = "\(base).\(name).csv"
            let output = try TextFile(creating: path)
            output.write(header)
            self.outputs.append(output)
            self.paths.append(path)
        }
        (self.trades, self.books, self.bars) = (0, 1, 2)
    }

    private static let levelColumns = ["ask_price", "ask_qty", "bid_price", "bid_qty"].flatMap { name in
        (1...10).map { "\(name)_\($0)" }
    }.joined(separator: ",")

    mutating func trade(_ trade: Trade) {
        switch self.format {
        case .jsonl:
            self.outputs[self.trades].write(RecordFormat.json(trade) + "\n")
        case .csv:
            self.outputs[self.trades].write(
                "\(trade.localTs),\(trade.code),\(trade.exchangeTime),\(RecordFormat.kstTime(trade.exchangeTime)),"
                    + "\(trade.price),\(trade.change),\(trade.volume),\(RecordFormat.side(trade)),"
                    + "\(trade.cumulativeVolume),\(trade.cumulativeValue),\(trade.askPrice),\(trade.bidPrice),"
                    + "\(trade.askQuantity),\(trade.bidQuantity),\(RecordFormat.hundredths(trade.strength))\n"
            )
        }
        if let symbol = self.symbols.index(of: trade.code) {
            _ = self.builder.update(Tick(trade, symbol: symbol), into: &self.closed)
            self.writeClosedBars()
        }
        self.lastTime = max(self.lastTime, trade.exchangeTime)
    }

    mutating func book(_ book: Book) {
        switch self.format {
        case .jsonl:
            self.outputs[self.books].write(RecordFormat.json(book) + "\n")
        case .csv:
            let levels = [book.askPrices, book.askQuantities, book.bidPrices, book.bidQuantities].map { array in
                (0..<10).map { String(array[$0]) }.joined(separator: ",")
            }.joined(separator: ",")
            self.outputs[self.books].write(
                "\(book.localTs),\(book.code),\(book.exchangeTime),\(RecordFormat.kstTime(book.exchangeTime)),"
                    + "\(levels),\(book.totalAskQuantity),\(book.totalBidQuantity)\n"
            )
        }
    }

    mutating func notice(_ notice: Notice) {
        // Notices are one row shape of their own; the CSV export keeps to market data.
        if self.format == .jsonl { self.outputs[self.trades].write(RecordFormat.json(notice) + "\n") }
    }

    private mutating func writeClosedBars() {
        for candle in self.closed.candles { self.write(candle) }
        self.closed.candles.removeAll(keepingCapacity: true)
    }

    private func write(_ candle: Candle) {
        switch self.format {
        case .jsonl:
            self.outputs[self.bars].write(
                "{\"type\":\"bar\",\"code\":\"\(candle.code)\",\"start\":\(candle.start),\"seconds\":\(candle.seconds)"
                    + ",\"open\":\(candle.open),\"high\":\(candle.high),\"low\":\(candle.low),\"close\":\(candle.close)"
                    + ",\"volume\":\(candle.volume),\"buyVolume\":\(candle.buyVolume)"
                    + ",\"sellVolume\":\(candle.sellVolume),\"trades\":\(candle.trades),\"value\":\(candle.value)"
                    + ",\"flags\":\(candle.flags.rawValue)}\n"
            )
        case .csv:
            self.outputs[self.bars].write(
                "\(candle.code),\(candle.start),\(RecordFormat.kstTime(candle.start)),\(candle.seconds),"
                    + "\(candle.open),\(candle.high),\(candle.low),\(candle.close),\(candle.volume),"
                    + "\(candle.buyVolume),\(candle.sellVolume),\(candle.trades),\(candle.value),"
                    + "\(candle.flags.rawValue)\n"
            )
        }
    }

    /// Closes the bars still open and writes out every output.
    mutating func finish() throws(CaptureError) {
        if self.lastTime > 0 {
            self.builder.advance(to: self.lastTime + 3_600, into: &self.closed)
            self.writeClosedBars()
        }
        for output in self.outputs { try output.close() }
    }
}

/// Bars as the builder closes them, for the exporter to write in order.
private struct CandleCollector: CandleSink {
    var candles: [Candle] = []

    mutating func candle(_ candle: Candle, symbol: SymbolIndex) {
        self.candles.append(candle)
    }
}

public import Candles
import Feed
import Foundation
import Metrics
public import TickCore

/// `bench --html`: one self-contained page (inline SVG and CSS, no scripts, no external assets) with the
/// throughput, the latency distribution of each interval and one code's one-minute candles with the strategy's trades.
public struct BenchPage {
    public let file: String
    public let report: BenchReport
    public let code: String
    public let bars: [Candle]
    public let fills: [ReplaySummary.Fill]

    public init(file: String, report: BenchReport, code: String, bars: [Candle], fills: [ReplaySummary.Fill]) {
        self.file = file
        self.report = report
        self.code = code
        self.bars = bars
        self.fills = fills
    }

    /// One-minute bars of `code` from the recorded trades, by exchange time, as the market stage builds them.
    public static func minuteBars(of code: SymbolCode, in recorded: RecordedMessages) -> [Candle] {
        guard var decoder = try? FeedDecoder(), var builder = try? CandleBuilder(symbols: 1, intervals: [60]) else {
            return []
        }
        var sink = OneCode(code: code)
        recorded.forEachMessage { localNs, message in
            _ = try? decoder.decode(message, localTs: localNs, into: &sink)
            for tick in sink.ticks { builder.update(tick, into: &sink.bars) }
            sink.ticks.removeAll(keepingCapacity: true)
        }
        builder.advance(to: .max, into: &sink.bars)
        return sink.bars.candles
    }

    public func html() -> String {
        let rows = self.report.intervals.map { interval, s in
            "<tr><td>\(interval.label)</td><td>\(s.count)</td>"
                + [s.p50, s.p90, s.p99, s.p999, s.max].map { "<td>\(LatencySummary.text($0))</td>" }.joined() + "</tr>"
        }
        return """
            <!DOCTYPE html>
            <html><head><meta charset="utf-8"><title>kistick bench \(Self.escaped(self.file))</title>
            <style>body{font:14px system-ui,sans-serif;margin:2em;color:#222}td,th{padding:2px 10px;text-align:right}
            th:first-child,td:first-child{text-align:left}svg{background:#fafafa;border:1px solid #ddd}</style></head><body>
            <h1>kistick bench</h1>
            <p>\(Self.escaped(self.file)): \(self.report.table()[0])<br>\(self.report.table()[1])</p>
            <h2>Stage latency</h2>
            <table><tr><th>interval</th><th>count</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th></tr>
            \(rows.joined(separator: "\n"))</table>
            <h2>Latency distribution</h2>
            \(self.latencyChart())
            <h2>\(Self.escaped(self.code)) one-minute candles and the strategy's trades</h2>
            \(self.candleChart())
            </body></html>
            """
    }

    /// Latency against percentile, both on log scales (the HdrHistogram percentile plot): one line per interval.
    private func latencyChart() -> String {
        let (width, height, left, bottom) = (820.0, 360.0, 60.0, 30.0)
        // Percentiles 0, 90, 99, 99.9, 99.99 sit at equal steps: x = log10(1 / (1 − p)).
        let steps = (0...40).map { 100 * (1 - pow(10, -Double($0) / 10)) }
        let colours = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2"]
        let values = self.report.intervals.map { interval, _ in
            steps.map { max(1, Double(self.report.latency[interval].value(atPercentile: $0))) }
        }
        let top = log10(max(10, values.flatMap { $0 }.max() ?? 10))
        func x(_ step: Int) -> Double { left + Double(step) / 40 * (width - left - 10) }
        func y(_ ns: Double) -> Double { height - bottom - log10(ns) / top * (height - bottom - 10) }
        var svg =
            ##"<svg width="\##(Int(width))" height="\##(Int(height))" viewBox="0 0 \##(Int(width)) \##(Int(height))">"##
        for decade in 0...Int(top.rounded(.up)) where Double(decade) <= top {
            let yy = y(pow(10, Double(decade)))
            svg += ##"<line x1="\##(left)" y1="\##(yy)" x2="\##(width - 10)" y2="\##(yy)" stroke="#ddd"/>"##
            svg +=
                ##"<text x="4" y="\##(yy + 4)" font-size="11">\##(LatencySummary.text(Int64(pow(10, Double(decade)))))</text>"##
        }
        for (step, label) in [(0, "0%"), (10, "90%"), (20, "99%"), (30, "99.9%"), (40, "99.99%")] {
            svg += ##"<text x="\##(x(step) - 12)" y="\##(height - 10)" font-size="11">\##(label)</text>"##
        }
        for (i, (interval, _)) in self.report.intervals.enumerated() {
            let colour = colours[i % colours.count]
            let points = values[i].enumerated().map { "\(x($0)),\(y($1))" }.joined(separator: " ")
            svg += ##"<polyline fill="none" stroke="\##(colour)" stroke-width="2" points="\##(points)"/>"##
            svg +=
                ##"<text x="\##(left + 10)" y="\##(20 + 14 * i)" font-size="12" fill="\##(colour)">\##(interval.label)</text>"##
        }
        return svg + "</svg>"
    }

    /// Candlesticks by minute; buys as green up-triangles and sells as red down-triangles at their fill prices.
    private func candleChart() -> String {
        guard let first = self.bars.first, let lastBar = self.bars.last else { return "<p>no trades of this code</p>" }
        let (width, height, left) = (820.0, 360.0, 70.0)
        let prices = self.bars.flatMap { [Int64($0.low), Int64($0.high)] } + self.fills.map { Int64($0.price) }
        let (low, high) = (Double(prices.min()!), Double(max(prices.max()!, prices.min()! + 1)))
        let minutes = Double(max(1, Self.minute(lastBar) - Self.minute(first) + 1))
        let slot = (width - left - 10) / minutes
        func x(_ minute: Double) -> Double { left + (minute - Double(Self.minute(first))) * slot + slot / 2 }
        func y(_ price: Double) -> Double { height - 20 - (price - low) / (high - low) * (height - 40) }
        var svg =
            ##"<svg width="\##(Int(width))" height="\##(Int(height))" viewBox="0 0 \##(Int(width)) \##(Int(height))">"##
        for price in [low, (low + high) / 2, high] {
            svg += ##"<text x="4" y="\##(y(price) + 4)" font-size="11">\##(Int(price))</text>"##
            svg += ##"<line x1="\##(left)" y1="\##(y(price))" x2="\##(width - 10)" y2="\##(y(price))" stroke="#eee"/>"##
        }
        for bar in self.bars {
            let colour = bar.close >= bar.open ? "#d62728" : "#1f77b4"
            let cx = x(Double(Self.minute(bar)))
            let top = y(Double(max(bar.open, bar.close)))
            let body = max(1, y(Double(min(bar.open, bar.close))) - top)
            svg +=
                ##"<line x1="\##(cx)" y1="\##(y(Double(bar.high)))" x2="\##(cx)" y2="\##(y(Double(bar.low)))" stroke="\##(colour)"/>"##
            svg +=
                ##"<rect x="\##(cx - slot * 0.35)" y="\##(top)" width="\##(slot * 0.7)" height="\##(body)" fill="\##(colour)"/>"##
        }
        for fill in self.fills {
            let cx = x(Double(Int64(fill.exchangeTime) / 60))
            let cy = y(Double(fill.price))
            let shape =
                fill.side == "buy"
                ? "\(cx),\(cy) \(cx - 5),\(cy + 9) \(cx + 5),\(cy + 9)"
                : "\(cx),\(cy) \(cx - 5),\(cy - 9) \(cx + 5),\(cy - 9)"
            let colour = fill.side == "buy" ? "#2ca02c" : "#d62728"
            svg +=
                ##"<polygon points="\##(shape)" fill="\##(colour)" stroke="#000" stroke-width="0.5">"##
                + "<title>\(fill.side) \(fill.quantity) @ \(fill.price)</title></polygon>"
        }
        let start = KST.text(time: KST.time(epochSeconds: Self.minute(first) * 60))
        let end = KST.text(time: KST.time(epochSeconds: Self.minute(lastBar) * 60))
        svg += ##"<text x="\##(left)" y="\##(height - 4)" font-size="11">\##(start) KST</text>"##
        svg += ##"<text x="\##(width - 90)" y="\##(height - 4)" font-size="11">\##(end) KST</text>"##
        return svg + "</svg>"
    }

    private static func minute(_ bar: Candle) -> Int64 { Int64(bar.start) / 60 }

    private static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}

/// The ticks of one code, and the bars the builder closes.
private struct OneCode: FeedSink {
    let code: SymbolCode
    var ticks: [Tick] = []
    var bars = Closed()

    mutating func trade(_ trade: Trade) {
        if trade.code == self.code { self.ticks.append(Tick(trade, symbol: 0)) }
    }

    mutating func book(_ book: Book) {}
    mutating func notice(_ notice: Notice) {}

    struct Closed: CandleSink {
        var candles: [Candle] = []
        mutating func candle(_ candle: Candle, symbol: SymbolIndex) { self.candles.append(candle) }
    }
}

import ArgumentParser
import Feed
import Foundation
import KIS
import Synchronization
import TickCore

/// `kistick watch CODE...`: live trades and the best bid/ask as a refreshing table, or JSON lines with --json.
struct Watch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Stream live trades and best bid/ask for some codes.",
        discussion: """
            The table refreshes once a second. After a reconnect the row is marked with a REST price snapshot, \
            because trades during the outage are not replayed. --json prints one line per trade and book update.
            """
    )
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "KRX short codes, e.g. 005930 000660.") var codes: [String]
    @Option(help: "Stop after this many seconds (default: until interrupted).") var seconds: Double?
    @Option(help: "Feeds to watch: krx (default), nxt or sor (KRX's and NXT's), combined (the combined market).")
    var venue: VenueOption = .krx

    func validate() throws {
        guard !self.codes.isEmpty else { throw ValidationError("name at least one code") }
        if let seconds = self.seconds, !(seconds > 0 && seconds.isFinite) {
            throw ValidationError("--seconds must be positive")
        }
        let perCode = 2 * self.venue.mode.feeds.count
        guard self.codes.count * perCode <= 41 else {
            throw ValidationError(
                "KIS allows 41 registrations: at most \(41 / perCode) codes with --venue \(self.venue)"
            )
        }
        for code in self.codes where SymbolCode(code) == nil || code.count > 7 {
            throw ValidationError("not a KRX code: \(code)")
        }
    }

    func run() async throws {
        try await self.connection.withClient(longRunning: true) { client in
            let session = WebSocketSession(configuration: .init(url: client.settings.webSocketURL))
            for code in self.codes {
                for subscription in Subscription.marketData(code, venues: self.venue.mode.feeds) {
                    try session.subscribe(subscription)
                }
            }
            let board = Board(codes: self.codes, json: self.connection.json)
            let feed = Thread {
                var keys = client
                var sink = BoardSink(board: board)
                var observer = BoardObserver(board: board)
                do {
                    try session.run(approvalKeys: &keys, sink: &sink, observer: &observer)
                } catch {
                    board.note("cannot start the notice cipher: \(error)")
                }
                board.finished()
            }
            feed.name = "kistick-feed"
            feed.start()
            let stopAt = self.seconds.map { Date().addingTimeInterval($0) }
            let interrupt = InterruptFlag()
            while !interrupt.isRaised, stopAt.map({ Date() < $0 }) ?? true {
                try await Task.sleep(for: .seconds(1))
                for code in board.takeGaps() {
                    board.snapshot(code, (try? client.price(code.description)).map { $0.price })
                }
                if !self.connection.json { board.render(counters: session.counters) }
            }
            session.stop()
            await board.waitFinished()
        }
    }

}

/// Raised by SIGINT, so Ctrl-C ends the session cleanly instead of killing the process mid-frame.
/// `@unchecked` because Dispatch sources are thread-safe but not marked `Sendable`; the flag itself is atomic.
final class InterruptFlag: @unchecked Sendable {
    private let raised = Atomic(false)
    private let source: any DispatchSourceSignal

    init() {
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        self.source = source
        source.setEventHandler { [weak self] in self?.raised.store(true, ordering: .relaxed) }
        source.resume()
    }

    var isRaised: Bool { self.raised.load(ordering: .relaxed) }
}

/// The latest trade and book of each code, written by the feed thread and read by the display.
private final class Board: Sendable {
    struct Row {
        var trade: Trade?
        var book: Book?
        var trades = 0
        var gapNote = ""
    }
    private struct State {
        var rows: [SymbolCode: Row] = [:]
        var gaps: [SymbolCode] = []
        var notes: [String] = []
        var finished = false
    }
    let order: [SymbolCode]
    let json: Bool
    private let state = Mutex(State())

    init(codes: [String], json: Bool) {
        self.order = codes.compactMap { SymbolCode($0) }
        self.json = json
    }

    func trade(_ trade: Trade) {
        self.state.withLock { state in
            state.rows[trade.code, default: Row()].trade = trade
            state.rows[trade.code, default: Row()].trades += 1
        }
        if self.json {
            print(
                #"{"type":"trade","code":"\#(trade.code)","time":"\#(Self.hhmmss(trade.exchangeTime))","price":\#(trade.price),"volume":\#(trade.volume),"side":"\#(trade.side.map { "\($0)" } ?? "")","cumulative_volume":\#(trade.cumulativeVolume),"strength":\#(Double(trade.strength) / 100)}"#
            )
        }
    }

    func book(_ book: Book) {
        self.state.withLock { $0.rows[book.code, default: Row()].book = book }
        if self.json {
            print(
                #"{"type":"book","code":"\#(book.code)","time":"\#(Self.hhmmss(book.exchangeTime))","bid":\#(book.bidPrices[0]),"bid_qty":\#(book.bidQuantities[0]),"ask":\#(book.askPrices[0]),"ask_qty":\#(book.askQuantities[0])}"#
            )
        }
    }

    /// HHMMSS in KST of exchange epoch seconds, as KIS prints times.
    static func hhmmss(_ epochSeconds: UInt32) -> String {
        KST.text(time: KST.time(epochSeconds: Int64(epochSeconds)))
    }

    func gap(_ code: SymbolCode) { self.state.withLock { $0.gaps.append(code) } }
    func takeGaps() -> [SymbolCode] {
        self.state.withLock { state in
            defer { state.gaps = [] }
            return state.gaps
        }
    }

    func snapshot(_ code: SymbolCode, _ price: Int64?) {
        let time = KST.time(epochSeconds: Int64(Date().timeIntervalSince1970))
        let note = "reconnected \(KST.text(time: time)); REST price \(price.map(String.init) ?? "unavailable")"
        self.state.withLock { $0.rows[code, default: Row()].gapNote = note }
        if self.json {
            print(
                #"{"type":"gap","code":"\#(code)","time":"\#(KST.text(time: time))","rest_price":\#(price.map(String.init) ?? "null")}"#
            )
        }
    }

    func note(_ text: String) {
        self.state.withLock { $0.notes = Array(($0.notes + [text]).suffix(5)) }
        if self.json { FileHandle.standardError.write(Data((text + "\n").utf8)) }
    }

    func finished() { self.state.withLock { $0.finished = true } }

    func waitFinished() async {
        while !self.state.withLock({ $0.finished }) { try? await Task.sleep(for: .milliseconds(20)) }
    }

    func render(counters: WebSocketCounters) {
        let (rows, notes) = self.state.withLock { state in (self.order.map { state.rows[$0] ?? Row() }, state.notes) }
        var table = [
            ["code", "time", "price", "change", "volume", "strength", "bid", "ask", "bid qty", "ask qty", "trades", ""]
        ]
        for (code, row) in zip(self.order, rows) {
            let trade = row.trade
            let book = row.book
            table.append([
                code.description, trade.map { Self.hhmmss($0.exchangeTime) } ?? "-",
                trade.map { String($0.price) } ?? "-",
                trade.map { String($0.change) } ?? "-", trade.map { String($0.cumulativeVolume) } ?? "-",
                trade.map { String(format: "%.2f", Double($0.strength) / 100) } ?? "-",
                book.map { String($0.bidPrices[0]) } ?? "-", book.map { String($0.askPrices[0]) } ?? "-",
                book.map { String($0.bidQuantities[0]) } ?? "-", book.map { String($0.askQuantities[0]) } ?? "-",
                String(row.trades), row.gapNote,
            ])
        }
        if isatty(STDOUT_FILENO) != 0 { print("\u{1B}[H\u{1B}[2J", terminator: "") }
        printTable(table)
        print(
            "frames \(counters.frames)  records \(counters.records)  malformed \(counters.malformed)  reconnects \(counters.reconnects)"
        )
        for note in notes { print(note) }
    }
}

private struct BoardSink: FeedSink {
    let board: Board
    mutating func trade(_ trade: Trade) { self.board.trade(trade) }
    mutating func book(_ book: Book) { self.board.book(book) }
    mutating func notice(_ notice: Notice) {}
}

private struct BoardObserver: WebSocketObserver {
    let board: Board
    mutating func event(_ event: WebSocketEvent) {
        switch event {
        case .gap(let code): self.board.gap(code)
        case .disconnected(.stopped): break
        case .disconnected(let reason): self.board.note("disconnected: \(reason)")
        case .subscribeFailed(let subscription, let error): self.board.note("\(subscription): \(error)")
        case .serverError(let code, let message): self.board.note("KIS \(code): \(message)")
        case .approvalKeyUnavailable(let error): self.board.note("approval key: \(error)")
        default: break
        }
    }
}

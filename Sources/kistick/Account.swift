import ArgumentParser
import Foundation
import KIS
import Logging
import TickCore

/// `kistick price CODE`.
struct Price: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print a stock's current price and the day's figures.")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "KRX short code, e.g. 005930.") var code: String

    func run() async throws {
        try await self.connection.withClient { client in
            let quote = try client.price(self.code)
            try emit(quote, json: self.connection.json) {
                printTable([
                    ["code", "price", "change", "%", "open", "high", "low", "volume", "value (KRW)", "limits"],
                    [
                        quote.code, "\(quote.price)", "\(quote.change)", String(format: "%.2f", quote.changeRate),
                        "\(quote.open)", "\(quote.high)", "\(quote.low)", "\(quote.volume)", "\(quote.tradedValue)",
                        "\(quote.lowerLimit)–\(quote.upperLimit)",
                    ],
                ])
            }
        }
    }
}

/// `kistick balance`.
struct BalanceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "balance", abstract: "Print holdings and cash.")
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        try await self.connection.withClient { client in
            let balance = try client.balance()
            try emit(balance, json: self.connection.json) {
                printTable(
                    [["code", "name", "qty", "sellable", "avg price", "price", "value", "P&L", "%"]]
                        + balance.holdings.map {
                            [
                                $0.code, $0.name, "\($0.quantity)", "\($0.sellable)",
                                String(format: "%.2f", $0.averagePrice),
                                "\($0.price)", "\($0.value)", "\($0.profit)", String(format: "%.2f", $0.profitRate),
                            ]
                        }
                )
                print(
                    "cash \(balance.cash) KRW (D+2 \(balance.cashD2)), securities \(balance.securitiesValue), total \(balance.totalValue), P&L \(balance.profit)"
                )
            }
        }
    }
}

/// `kistick orders`: what is still working and what filled today.
struct Orders: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print open orders and today's fills.")
    @OptionGroup var connection: ConnectionOptions

    private struct Report: Encodable {
        var open: [OrderRecord]
        var today: [OrderRecord]
    }

    func run() async throws {
        try await self.connection.withClient { client in
            let today = KST.date(epochSeconds: Int64(Date().timeIntervalSince1970))
            let report = Report(
                open: try client.cancellableOrders(),
                today: try client.dailyOrders(from: today, to: today)
            )
            try emit(report, json: self.connection.json) {
                for (title, records) in [("open orders", report.open), ("today", report.today)] {
                    print("\(title): \(records.count)")
                    guard !records.isEmpty else { continue }
                    printTable(
                        [["time", "order", "code", "side", "qty", "price", "filled", "avg", "left", "cancelled"]]
                            + records.map {
                                [
                                    $0.time, $0.orderNumber, $0.code, $0.side, "\($0.quantity)", "\($0.price)",
                                    "\($0.filledQuantity)", String(format: "%.0f", $0.averageFillPrice),
                                    "\($0.remainingQuantity)", $0.cancelled ? "yes" : "",
                                ]
                            }
                    )
                }
            }
        }
    }
}

/// A sell of more shares than the account can sell now, refused before it is sent.
struct NotSellable: Error, CustomStringConvertible {
    let code: String
    let quantity: Int64
    let holding: Sellable

    var description: String {
        "cannot sell \(self.quantity) of \(self.code): the account holds \(self.holding.held), of which "
            + "\(self.holding.sellable) can be sold now; nothing was sent"
    }
}

/// `kistick order buy|sell CODE QTY [--price P]`.
struct Order: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Place a cash order: a limit order with --price, else a market order.",
        discussion: "With --env real the order is real money and needs --yes-real-money."
    )
    enum Side: String, ExpressibleByArgument { case buy, sell }

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "buy or sell.") var side: Side
    @Argument(help: "KRX short code, e.g. 005930.") var code: String
    @Argument(help: "Number of shares.") var quantity: Int64
    @Option(help: "Limit price in KRW (omit for a market order).") var price: Int64?
    @Option(help: "Where the order goes: krx (default), nxt, or sor (KIS routes it); paper takes krx only.")
    var venue: VenueOption = .krx
    @Flag(help: "Required with --env real: this order spends real money.") var yesRealMoney = false

    /// The order's EXCG_ID_DVSN_CD.
    var route: OrderRoute? {
        switch self.venue {
        case .krx: .krx
        case .nxt: .nxt
        case .sor: .sor
        case .combined: nil
        }
    }

    func validate() throws {
        guard self.route != nil else { throw ValidationError("--venue: an order goes to krx, nxt or sor") }
        guard self.quantity > 0 else { throw ValidationError("quantity must be positive") }
        guard (self.price ?? 1) > 0 else {
            throw ValidationError("--price must be positive (omit it for a market order)")
        }
        guard SymbolCode(self.code) != nil, self.code.count <= 7 else {
            throw ValidationError("not a KRX code: \(self.code)")
        }
        guard self.connection.env == .paper || self.yesRealMoney else {
            throw ValidationError("--env real places a real-money order: add --yes-real-money if that is what you want")
        }
    }

    func run() async throws {
        try await self.connection.withClient { client in
            let ticket = OrderTicket(
                side: self.side == .buy ? .buy : .sell,
                code: SymbolCode(self.code)!,
                quantity: self.quantity,
                price: self.price ?? 0,
                route: self.route ?? .krx
            )
            var logger = Logger(label: "kistick.order")
            logger[metadataKey: "code"] = "\(self.code)"
            logger[metadataKey: "side"] = "\(self.side.rawValue)"
            logger[metadataKey: "qty"] = "\(self.quantity)"
            logger[metadataKey: "price"] = "\(self.price ?? 0)"
            if self.side == .sell {
                // Checked here because KIS's own refusal comes only after the order took a slot of the key's budget,
                // and says less: what is held, and what of it can be sold now.
                let holding = try client.sellable(self.code)
                guard self.quantity <= holding.sellable else {
                    throw NotSellable(code: self.code, quantity: self.quantity, holding: holding)
                }
            }
            var lane = try client.makeOrderLane()
            // The simulator's made-up account keeps its order numbers with its tokens, gone when it ends.
            let folder =
                try self.connection.sim
                ? ConnectionOptions.simulatorCache : LocalFolders.cache(LocalFolders.environment)
            let known = try KnownOrders(
                directory: folder,
                environment: client.settings.environment,
                account: client.settings.account
            )
            let now = { Int64(Date().timeIntervalSince1970) }
            logger.info("order sent", metadata: ["event": "order.sent"])
            let placement = try known.place(
                ticket,
                lane: &lane,
                recovery: OrderRecovery(client: client),
                day: KST.date(epochSeconds: now()),
                clock: { KST.time(epochSeconds: now()) },
                waiting: { Self.say("waiting for another kistick order of this account to be answered…") },
                refused: { _ in
                    logger.warning(
                        "order refused by KIS's gateway (EGW00201, over the key's budget), not placed: sending it once more",
                        metadata: ["event": "order.refused", "msg_cd": "EGW00201"]
                    )
                    Self.say(
                        "EGW00201: KIS refused the order unplaced (over the key's budget); sending it again after the window"
                    )
                },
                lost: { error in
                    logger.warning("order answer lost: \(error)", metadata: ["event": "order.answer_lost"])
                    Self.say("\(error); checking today's orders…")
                }
            )
            switch placement {
            case .accepted(let ack):
                logger.notice(
                    "order accepted",
                    metadata: ["event": "order.accepted", "kis_order": "\(ack.orderNumber)"]
                )
                try emit(ack, json: self.connection.json) {
                    print(
                        "accepted: order \(ack.orderNumber) (branch \(ack.organization)) at \(KST.text(time: ack.time)): \(ack.messageCode)"
                    )
                }
            case .found(let record):
                logger.notice(
                    "order found in today's orders",
                    metadata: ["event": "order.found", "kis_order": "\(record.orderNumber)"]
                )
                try emit(record, json: self.connection.json) {
                    print("accepted (found in today's orders): order \(record.orderNumber) at \(record.time)")
                }
            case .notPlaced:
                logger.warning("order not placed", metadata: ["event": "order.not_placed"])
                throw ValidationError("the order was not placed (KIS has no record of it); nothing was resent")
            }
        }
    }

    private static func say(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}

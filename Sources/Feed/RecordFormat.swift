public import TickCore

/// Text renderings of decoded records, for `kistick decode` and `kistick capture export`. Cold path: these allocate
/// freely.
public enum RecordFormat {
    /// 30399334 → "303993.34".
    public static func hundredths(_ value: Int32) -> String {
        let magnitude = abs(Int64(value))
        let fraction = magnitude % 100
        return (value < 0 ? "-" : "") + "\(magnitude / 100)." + (fraction < 10 ? "0" : "") + "\(fraction)"
    }

    public static func kstDate(_ epoch: UInt32) -> String {
        let d = KST.date(epochSeconds: Int64(epoch))
        return "\(d / 10_000)-\(pad(Int(d / 100 % 100)))-\(pad(Int(d % 100)))"
    }

    public static func kstTime(_ epoch: UInt32) -> String {
        let t = KST.time(epochSeconds: Int64(epoch))
        return "\(pad(Int(t / 10_000))):\(pad(Int(t / 100 % 100))):\(pad(Int(t % 100)))"
    }

    /// A packed class code (`PackedASCII` bytes, first low) as its text; "" when empty.
    public static func ascii(_ packed: UInt32) -> String { PackedASCII(rawValue: UInt64(packed)).description }

    public static func pad(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }

    public static func right(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : String(repeating: " ", count: width - s.count) + s
    }

    public static func ascii(_ byte: UInt8) -> String { byte == 0 ? "" : String(UnicodeScalar(byte)) }

    public static func ascii(_ pair: UInt16) -> String {
        ascii(UInt8(truncatingIfNeeded: pair)) + ascii(UInt8(truncatingIfNeeded: pair >> 8))
    }

    public static func side(_ t: Trade) -> String {
        switch t.side {
        case .buy?: "buy"
        case .sell?: "sell"
        case .preMarket?: "pre"
        case nil: "?\(t.sideCode)"
        }
    }

    // MARK: Table

    public static func table(_ t: Trade) -> String {
        "TRADE  \(t.code) \(kstDate(t.exchangeTime)) \(kstTime(t.exchangeTime)) \(right("\(t.price)", 8))"
            + " \(right("\(t.change)", 7)) ×\(right("\(t.volume)", 6)) \(right(side(t), 4))"
            + "  cum \(t.cumulativeVolume) / \(t.cumulativeValue)  vwap \(hundredths(t.vwap))"
            + "  strength \(hundredths(t.strength))  ask \(t.askPrice)×\(t.askQuantity)  bid \(t.bidPrice)×\(t.bidQuantity)"
            + (t.halted ? "  HALTED" : "")
    }

    public static func table(_ b: Book) -> String {
        "BOOK   \(b.code) \(kstTime(b.exchangeTime))  ask \(b.askPrices[0])×\(b.askQuantities[0])"
            + "  bid \(b.bidPrices[0])×\(b.bidQuantities[0])  totals \(b.totalAskQuantity)/\(b.totalBidQuantity)"
            + "  cum \(b.cumulativeVolume)"
            + (b.expectedPrice != 0 ? "  expected \(b.expectedPrice)×\(b.expectedQuantity)" : "")
    }

    public static func table(_ n: Notice) -> String {
        let what =
            n.rejected ? "REJECTED" : n.isFill ? "FILL" : ["ORDER", "MODIFY", "CANCEL"][min(Int(n.amendCode), 2)]
        let side = n.side == .buy ? "buy" : n.side == .sell ? "sell" : "?\(n.sideCode)"
        return "NOTICE \(n.code) \(kstTime(n.exchangeTime))  \(what) \(side) \(n.quantity) @ \(n.price)"
            + "  order \(n.orderNumber) (orig \(n.originalOrderNumber)) qty \(n.orderQuantity) @ \(n.orderPrice)"
            + "  account \(n.account)"
    }

    public static func table(_ s: MarketStatus) -> String {
        "STATUS \(s.code) \(s.venue)  session \(ascii(s.sessionClass)) expected \(ascii(s.expectedSessionClass))"
            + "  issue \(ascii(s.issueStatus))  vi \(ascii(s.viClass))/\(ascii(s.afterHoursVIClass))"
            + (s.halted ? "  HALTED" : "")
    }

    /// Control messages, with the session key and iv reported as present but never printed.
    public static func table(_ c: ControlMessage, in line: [UInt8]) -> String {
        func text(_ range: Range<Int>?) -> String { range.map { JSONText.decode(line[$0]) } ?? "" }
        switch c.kind {
        case .pingPong: return "PING   \(text(c.datetime))"
        case .ack, .error, .other:
            let label = c.kind == .error ? "ERROR " : "ACK   "
            return "\(label) \(c.trID) \(text(c.trKey))  rt_cd \(c.returnCode?.description ?? "-")"
                + " \(c.messageCode?.description ?? "-") \(text(c.messageText))"
                + (c.key != nil ? "  (session key and iv received)" : "") + (c.encrypted ? "  encrypt=Y" : "")
        }
    }

    // MARK: JSON lines

    public static func json(_ t: Trade) -> String {
        "{\"type\":\"trade\",\"code\":\"\(t.code)\",\"exchangeTime\":\(t.exchangeTime),\"localTs\":\(t.localTs)"
            + ",\"price\":\(t.price),\"change\":\(t.change),\"sign\":\(t.signCode),\"vwap\":\(hundredths(t.vwap))"
            + ",\"open\":\(t.open),\"high\":\(t.high),\"low\":\(t.low),\"ask\":\(t.askPrice),\"bid\":\(t.bidPrice)"
            + ",\"askQty\":\(t.askQuantity),\"bidQty\":\(t.bidQuantity),\"volume\":\(t.volume)"
            + ",\"cumVolume\":\(t.cumulativeVolume),\"cumValue\":\(t.cumulativeValue)"
            + ",\"sellCount\":\(t.sellInitiatedCount),\"buyCount\":\(t.buyInitiatedCount)"
            + ",\"sellVolume\":\(t.sellInitiatedVolume),\"buyVolume\":\(t.buyInitiatedVolume)"
            + ",\"strength\":\(hundredths(t.strength)),\"side\":\(t.sideCode)"
            + ",\"totalAskQty\":\(t.totalAskQuantity),\"totalBidQty\":\(t.totalBidQuantity)"
            + ",\"session\":\"\(ascii(t.sessionCode))\",\"halted\":\(t.halted),\"hourClass\":\"\(ascii(t.hourClass))\""
            + ",\"viBase\":\(t.viBasePrice),\"venue\":\(t.venue.rawValue)}"
    }

    public static func json(_ b: Book) -> String {
        func levels(_ a: InlineArray<10, Int32>) -> String {
            "[" + (0..<10).map { "\(a[$0])" }.joined(separator: ",") + "]"
        }
        return "{\"type\":\"book\",\"code\":\"\(b.code)\",\"exchangeTime\":\(b.exchangeTime),\"localTs\":\(b.localTs)"
            + ",\"askPrices\":\(levels(b.askPrices)),\"askQtys\":\(levels(b.askQuantities))"
            + ",\"bidPrices\":\(levels(b.bidPrices)),\"bidQtys\":\(levels(b.bidQuantities))"
            + ",\"totalAskQty\":\(b.totalAskQuantity),\"totalBidQty\":\(b.totalBidQuantity)"
            + ",\"afterHoursAskQty\":\(b.afterHoursAskQuantity),\"afterHoursBidQty\":\(b.afterHoursBidQuantity)"
            + ",\"expectedPrice\":\(b.expectedPrice),\"expectedQty\":\(b.expectedQuantity)"
            + ",\"expectedVolume\":\(b.expectedVolume),\"expectedChange\":\(b.expectedChange)"
            + ",\"expectedChangeRate\":\(hundredths(b.expectedChangeRate)),\"cumVolume\":\(b.cumulativeVolume)"
            + ",\"hourClass\":\"\(ascii(b.hourClass))\",\"venue\":\(b.venue.rawValue)}"
    }

    public static func json(_ n: Notice) -> String {
        "{\"type\":\"notice\",\"code\":\"\(n.code)\",\"exchangeTime\":\(n.exchangeTime),\"localTs\":\(n.localTs)"
            + ",\"account\":\(n.account),\"order\":\(n.orderNumber),\"originalOrder\":\(n.originalOrderNumber)"
            + ",\"side\":\(n.sideCode),\"amend\":\(n.amendCode),\"orderType\":\(n.orderType),\"condition\":\(n.conditionCode)"
            + ",\"quantity\":\(n.quantity),\"price\":\(n.price),\"rejected\":\(n.rejected),\"fill\":\(n.isFill)"
            + ",\"accept\":\(n.acceptCode),\"branch\":\(n.branch),\"orderQty\":\(n.orderQuantity)"
            + ",\"orderPrice\":\(n.orderPrice),\"stopPrice\":\(n.stopPrice),\"exchange\":\(n.exchangeCode)}"
    }

    public static func json(_ s: MarketStatus) -> String {
        "{\"type\":\"status\",\"code\":\"\(s.code)\",\"localTs\":\(s.localTs),\"halted\":\(s.halted)"
            + ",\"session\":\"\(ascii(s.sessionClass))\",\"expectedSession\":\"\(ascii(s.expectedSessionClass))\""
            + ",\"extension\":\"\(ascii(s.extensionClass))\",\"allocation\":\"\(ascii(s.allocationClass))\""
            + ",\"issueStatus\":\"\(ascii(s.issueStatus))\",\"vi\":\"\(ascii(s.viClass))\""
            + ",\"afterHoursVI\":\"\(ascii(s.afterHoursVIClass))\",\"exchange\":\"\(ascii(s.exchangeClass))\""
            + ",\"venue\":\(s.venue.rawValue)}"
    }

    public static func json(_ c: ControlMessage, in line: [UInt8]) -> String {
        func string(_ range: Range<Int>?) -> String {
            // The raw JSON string contents are already valid inside quotes.
            range.map { "\"" + String(decoding: line[$0], as: UTF8.self) + "\"" } ?? "null"
        }
        let kind =
            switch c.kind {
            case .pingPong: "pingpong"
            case .ack: "ack"
            case .error: "error"
            case .other: "control"
            }
        return "{\"type\":\"\(kind)\",\"trID\":\"\(c.trID)\",\"trKey\":\(string(c.trKey)),\"encrypt\":\(c.encrypted)"
            + ",\"rtCd\":\(c.returnCode.map { "\"\($0)\"" } ?? "null"),\"msgCd\":\(c.messageCode.map { "\"\($0)\"" } ?? "null")"
            + ",\"msg1\":\(string(c.messageText)),\"datetime\":\(string(c.datetime)),\"sessionKey\":\(c.key != nil)}"
    }
}

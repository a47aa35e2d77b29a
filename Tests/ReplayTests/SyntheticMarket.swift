import TickCore

/// A seeded market of H0STCNT0 and H0STASP0 messages, as KIS sends them (complete payloads), for replay tests:
/// a few codes random-walking on the KRX ladder with runs up and down, a book every market second and a few
/// trades between, received at `speed` times real time.
struct SyntheticMarket {
    struct Message {
        var localNs: Int64
        var bytes: [UInt8]
    }

    static let date: UInt32 = 20_260_608
    static let codes = ["005930", "000660", "035420"]
    private static let starts: [Int64] = [71_000, 152_000, 98_500]

    /// `seconds` market seconds from 09:10:00 KST on `date`.
    static func messages(seed: UInt64, seconds: Int, speed: Double = 60) -> [Message] {
        var random = SplitMix64(seed: seed)
        let open = KST.epochSeconds(date: Self.date, time: 91_000)!
        // The receive clock starts at the open's instant and runs `speed` times slower than the market.
        let nsPerMarketSecond = Int64(1e9 / speed)
        var mids = Self.starts
        var drift = [Int64](repeating: 0, count: Self.codes.count)
        var volume = [Int64](repeating: 0, count: Self.codes.count)
        var out: [Message] = []
        for second in 0..<seconds {
            let time = KST.time(epochSeconds: open + Int64(second))
            let base = open * 1_000_000_000 + Int64(second) * nsPerMarketSecond
            for (c, code) in Self.codes.enumerated() {
                if random.next() % 40 == 0 { drift[c] = Int64(random.next() % 3) - 1 }
                let roll = Int64(random.next() % 10)
                let step: Int64 = roll < 3 ? -1 : roll > 6 ? 1 : 0
                let move = step + (random.next() % 3 == 0 ? drift[c] : 0)
                mids[c] = move > 0 ? KRX.up(mids[c]) : move < 0 ? KRX.down(mids[c]) : mids[c]
                let slot = nsPerMarketSecond / Int64(Self.codes.count * 4)
                let at = base + Int64(c) * slot * 4
                out.append(
                    Message(localNs: at, bytes: Self.book(code: code, time: time, bid: mids[c], random: &random))
                )
                for t in 0..<Int(random.next() % 3) {
                    let buy = random.next() % 3 != 0
                    let price = buy ? KRX.up(mids[c]) : mids[c]
                    let quantity = Int64(1 + random.next() % 200)
                    volume[c] += quantity
                    out.append(
                        Message(
                            localNs: at + Int64(t + 1) * slot,
                            bytes: Self.trade(
                                code: code,
                                time: time,
                                price: price,
                                bid: mids[c],
                                quantity: quantity,
                                cumulative: volume[c],
                                buy: buy
                            )
                        )
                    )
                }
            }
        }
        return out
    }

    /// A one-record H0STCNT0 message; the fields the engine reads are set, the derivable ones are 0.
    static func trade(
        code: String,
        time: UInt32,
        price: Int64,
        bid: Int64,
        quantity: Int64,
        cumulative: Int64,
        buy: Bool
    ) -> [UInt8] {
        var fields = [String](repeating: "0", count: 46)
        fields[0] = code
        fields[1] = Self.hhmmss(time)
        fields[2] = "\(price)"
        fields[3] = "2"
        fields[6] = "\(price).00"
        fields[7] = "\(price)"
        fields[8] = "\(price)"
        fields[9] = "\(price)"
        fields[10] = "\(KRX.up(bid))"
        fields[11] = "\(bid)"
        fields[12] = "\(quantity)"
        fields[13] = "\(cumulative)"
        fields[14] = "\(cumulative * price)"
        fields[18] = "150.00"
        fields[21] = buy ? "1" : "5"
        fields[33] = "\(Self.date)"
        fields[34] = "20"
        fields[35] = "N"
        return Array("0|H0STCNT0|001|\(fields.joined(separator: "^"))".utf8)
    }

    /// A one-record H0STASP0 message, ten levels a side from `bid`, bids deeper than asks.
    static func book(code: String, time: UInt32, bid: Int64, random: inout SplitMix64) -> [UInt8] {
        var fields = [String](repeating: "0", count: 59)
        fields[0] = code
        fields[1] = Self.hhmmss(time)
        var ask = KRX.up(bid)
        var level = bid
        for i in 0..<10 {
            fields[3 + i] = "\(ask)"
            fields[13 + i] = "\(level)"
            fields[23 + i] = "\(100 + random.next() % 400)"
            fields[33 + i] = "\(400 + random.next() % 800)"
            ask = KRX.up(ask)
            level = KRX.down(level)
        }
        return Array("0|H0STASP0|001|\(fields.joined(separator: "^"))".utf8)
    }

    private static func hhmmss(_ time: UInt32) -> String {
        let text = "\(time)"
        return String(repeating: "0", count: 6 - text.count) + text
    }
}

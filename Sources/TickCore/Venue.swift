/// Where a record was traded or quoted, from the TR id family (KRX `H0ST…`, NXT `H0NX…`, combined `H0UN…`).
public enum Venue: UInt8, BitwiseCopyable, Sendable {
    case krx = 1
    case nxt = 2
    case combined = 3
}

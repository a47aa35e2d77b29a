import Testing
import TickCore

@testable import Feed

/// The field map and the scanner's word-at-a-time paths against a slow, obvious reference, on random fields placed
/// at every alignment and at the payload's end, read in any order.
@Suite struct FieldScannerTests {
    enum Kind: CaseIterable { case unsigned, signed, hundredths, code, packed, skip }

    /// A random field: mostly well-formed numbers of every length, sometimes junk.
    static func field(_ kind: Kind, _ rng: inout SplitMix64) -> String {
        let digits = "0123456789"
        func number(_ maxDigits: Int) -> String {
            String((0..<rng.next(upTo: maxDigits + 1)).map { _ in digits.randomElement(using: &rng)! })
        }
        if rng.next(upTo: 8) == 0 {
            let junk = Array("0123456789-+.xYN ~é")
            return String((0..<rng.next(upTo: 12)).map { _ in junk.randomElement(using: &rng)! })
        }
        switch kind {
        case .unsigned, .code: return number(kind == .code ? 3 : 20)
        case .signed: return (rng.next(upTo: 3) == 0 ? "-" : "") + number(20)
        case .hundredths:
            let sign = rng.next(upTo: 3) == 0 ? "-" : ""
            return sign + number(12) + (rng.next(upTo: 2) == 0 ? "." + number(4) : "")
        case .packed:
            return String((0..<rng.next(upTo: 10)).map { _ in Array("ABCxyz019").randomElement(using: &rng)! })
        case .skip: return number(30)
        }
    }

    /// What each reader must return for `text`: the value, or nil where the field is malformed.
    static func reference(_ kind: Kind, _ text: String) -> Int64? {
        let chars = Array(text.utf8)
        func digits(_ d: ArraySlice<UInt8>, limit: Int) -> Int64? {
            guard d.count <= limit, d.allSatisfy({ (48...57).contains($0) }) else { return nil }
            return d.reduce(0) { $0 * 10 + Int64($1 - 48) }
        }
        switch kind {
        case .skip: return 0
        case .unsigned: return digits(chars[...], limit: 18)
        case .code: return digits(chars[...], limit: 2)
        case .signed:
            guard let first = chars.first, first == 45 || first == 43 else { return digits(chars[...], limit: 18) }
            guard chars.count > 1, let magnitude = digits(chars.dropFirst(), limit: 18) else { return nil }
            return first == 45 ? -magnitude : magnitude
        case .hundredths:
            var body = chars[...]
            var negative = false
            if let first = body.first, first == 45 || first == 43 {
                negative = first == 45
                body = body.dropFirst()
                if body.isEmpty { return nil }
            }
            let dot = body.firstIndex(of: 46) ?? body.endIndex
            guard let whole = digits(body[..<dot], limit: 16) else { return nil }
            var fraction: Int64 = 0
            if dot < body.endIndex {
                let tail = body[(dot + 1)...]
                guard !tail.isEmpty, tail.count <= 10, let all = digits(tail, limit: 10) else { return nil }
                fraction = tail.count == 1 ? all * 10 : digits(tail.prefix(2), limit: 2)!
            }
            let value = whole * 100 + fraction
            return negative ? -value : value
        case .packed:
            guard chars.count <= 8 else { return nil }
            return Int64(
                bitPattern: chars.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << UInt64(8 * $1.offset) }
            )
        }
    }

    @Test func matchesTheReferenceOnRandomFields() {
        var rng = SplitMix64(seed: 2026)
        var checked = 0
        for _ in 0..<3000 {
            let count = 1 + rng.next(upTo: 120)
            let kinds = (0..<count).map { _ in Kind.allCases.randomElement(using: &rng)! }
            let texts = kinds.map { Self.field($0, &rng) }
            // A prefix of random length moves the fields across every alignment of the 64-byte blocks; readers
            // load the eight bytes ending at a field's end, so a payload starts at least that far into a message.
            let prefix = String(repeating: "#", count: FieldScanner.lookBehind + rng.next(upTo: 70))
            let bytes = Array((prefix + texts.joined(separator: "^")).utf8)
            bytes.withUnsafeBytes { raw in
                let span = raw.bytes
                var map = FieldMap(payloadBytes: 16)
                #expect(map.map(span, start: prefix.utf8.count, end: bytes.count) == texts.count)
                var scanner = FieldScanner(map: map)
                // Read in a scrambled order: a field's value must not depend on the reads before it.
                for k in texts.indices.shuffled(using: &rng) {
                    let (kind, text) = (kinds[k], texts[k])
                    scanner.bad = false
                    let value: Int64
                    switch kind {
                    case .skip: value = 0
                    case .unsigned: value = scanner.unsigned(span, k)
                    case .signed: value = scanner.signed(span, k)
                    case .hundredths: value = scanner.hundredths(span, k)
                    case .code: value = Int64(scanner.code(span, k))
                    case .packed: value = Int64(bitPattern: scanner.packed(span, k, maxLength: 8))
                    }
                    let expected = Self.reference(kind, text)
                    #expect(scanner.bad == (expected == nil), "\(kind) \"\(text)\"")
                    if let expected, kind != .skip {
                        #expect(value == expected, "\(kind) \"\(text)\"")
                    }
                    checked += 1
                }
            }
        }
        #expect(checked > 100_000)
    }
}

extension SplitMix64 {
    mutating func next(upTo n: Int) -> Int { Int(self.next() % UInt64(n)) }
}

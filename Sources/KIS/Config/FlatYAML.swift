/// The YAML subset `kis_devlp.yaml` is written in: one flat block mapping of `key: scalar` lines, where a scalar is
/// double-quoted (with YAML's escapes), single-quoted (`''` for a quote) or plain, kept verbatim as text (so
/// `my_prod: 01` is "01", not the number 1). Comments, blank lines, CRLF or CR line ends and a leading UTF-8 BOM are
/// accepted; every other YAML construct is refused, because accepting it half-way would read a different value than
/// the official Python samples do.
struct FlatYAML {
    struct Entry: Equatable {
        var value: String
        var line: Int
    }

    /// A refused line: its number and what is wrong, never its text.
    struct Failure: Error, Equatable {
        var line: Int
        var problem: ConfigSyntaxProblem
    }

    private(set) var entries: [String: Entry] = [:]

    /// Parses `bytes`. `nameableKeys` are the keys a duplicate-key error may name: any other key text could be a
    /// pasted credential.
    init(parsing bytes: [UInt8], nameableKeys: Set<String>) throws(Failure) {
        var start = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        var lineNumber = 1
        while start < bytes.count {
            var end = start
            while end < bytes.count, bytes[end] != Self.lf, bytes[end] != Self.cr { end += 1 }
            try self.parseLine(bytes[start..<end], number: lineNumber, nameableKeys: nameableKeys)
            // YAML line breaks are LF, CRLF or a lone CR.
            if end < bytes.count, bytes[end] == Self.cr, end + 1 < bytes.count, bytes[end + 1] == Self.lf { end += 1 }
            start = end + 1
            lineNumber += 1
        }
    }

    private mutating func parseLine(
        _ line: ArraySlice<UInt8>,
        number: Int,
        nameableKeys: Set<String>
    ) throws(Failure) {
        func fail(_ problem: ConfigSyntaxProblem) -> Failure { Failure(line: number, problem: problem) }

        guard String(validating: line, as: UTF8.self) != nil else { throw fail(.notUTF8) }
        guard !line.contains(where: { ($0 < 0x20 && $0 != Self.tab) || $0 == 0x7F }) else {
            throw fail(.controlCharacter)
        }
        let end = line.endIndex
        var i = Self.skipBlanks(line, from: line.startIndex)
        if i == end || line[i] == Self.hash { return }
        if i != line.startIndex {
            throw fail(line[line.startIndex..<i].contains(Self.tab) ? .tabIndentation : .indented)
        }
        if line[i] == Self.dash, Self.isBlankOrEnd(line, i + 1) { throw fail(.list) }

        while i < end, Self.isKeyByte(line[i]) { i += 1 }
        let key = String(decoding: line[line.startIndex..<i], as: UTF8.self)
        i = Self.skipBlanks(line, from: i)
        guard !key.isEmpty, i < end, line[i] == Self.colon, Self.isBlankOrEnd(line, i + 1) else {
            throw fail(.notAKeyValuePair)
        }
        let value = try Self.scalar(line, from: Self.skipBlanks(line, from: i + 1), number: number)
        if let first = self.entries[key] {
            throw fail(.duplicateKey(key: nameableKeys.contains(key) ? key : nil, firstLine: first.line))
        }
        self.entries[key] = Entry(value: value, line: number)
    }

    /// The scalar starting at `start` (just past the blanks after the colon) and running to the end of the line.
    private static func scalar(_ line: ArraySlice<UInt8>, from start: Int, number: Int) throws(Failure) -> String {
        func fail(_ problem: ConfigSyntaxProblem) -> Failure { Failure(line: number, problem: problem) }

        let end = line.endIndex
        guard start < end, line[start] != Self.hash else { return "" }
        let quoted: (bytes: [UInt8], rest: Int)
        switch line[start] {
        case Self.doubleQuote:
            quoted = try Self.doubleQuoted(line, from: start + 1, number: number)
        case Self.singleQuote:
            quoted = try Self.singleQuoted(line, from: start + 1, number: number)
        case UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: ","):
            throw fail(.flowCollection)
        case UInt8(ascii: "&"), UInt8(ascii: "*"): throw fail(.anchorOrAlias)
        case UInt8(ascii: "!"): throw fail(.tag)
        case UInt8(ascii: "|"), UInt8(ascii: ">"): throw fail(.blockScalar)
        case UInt8(ascii: "@"), UInt8(ascii: "`"), UInt8(ascii: "%"): throw fail(.reservedIndicator)
        case Self.dash where Self.isBlankOrEnd(line, start + 1): throw fail(.list)
        case UInt8(ascii: "?") where Self.isBlankOrEnd(line, start + 1): throw fail(.nestedMapping)
        default:
            return try Self.plain(line, from: start, number: number)
        }
        // After a quoted scalar only blanks may follow, then a comment that a blank separates from the quote.
        let after = Self.skipBlanks(line, from: quoted.rest)
        guard after == end || (line[after] == Self.hash && after > quoted.rest) else {
            throw fail(.textAfterQuotedValue)
        }
        return String(decoding: quoted.bytes, as: UTF8.self)
    }

    /// A plain scalar ends at a comment (` #`) or the end of the line; trailing blanks are not part of it.
    private static func plain(_ line: ArraySlice<UInt8>, from start: Int, number: Int) throws(Failure) -> String {
        var i = start
        var last = start
        while i < line.endIndex {
            let byte = line[i]
            if byte == Self.hash, Self.isBlank(line[i - 1]) { break }
            if byte == Self.colon, Self.isBlankOrEnd(line, i + 1) {
                throw Failure(line: number, problem: .nestedMapping)
            }
            if !Self.isBlank(byte) { last = i + 1 }
            i += 1
        }
        return String(decoding: line[start..<last], as: UTF8.self)
    }

    /// The text between single quotes (`''` stands for one quote) and the index just past the closing quote.
    private static func singleQuoted(
        _ line: ArraySlice<UInt8>,
        from start: Int,
        number: Int
    ) throws(Failure) -> (bytes: [UInt8], rest: Int) {
        var out: [UInt8] = []
        var i = start
        while i < line.endIndex {
            if line[i] == Self.singleQuote {
                guard i + 1 < line.endIndex, line[i + 1] == Self.singleQuote else { return (out, i + 1) }
                i += 1
            }
            out.append(line[i])
            i += 1
        }
        throw Failure(line: number, problem: .unterminatedQuote)
    }

    /// The unescaped text between double quotes and the index just past the closing quote.
    private static func doubleQuoted(
        _ line: ArraySlice<UInt8>,
        from start: Int,
        number: Int
    ) throws(Failure) -> (bytes: [UInt8], rest: Int) {
        func fail(_ problem: ConfigSyntaxProblem) -> Failure { Failure(line: number, problem: problem) }

        var out: [UInt8] = []
        var i = start
        while i < line.endIndex {
            let byte = line[i]
            i += 1
            if byte == Self.doubleQuote { return (out, i) }
            guard byte == Self.backslash else {
                out.append(byte)
                continue
            }
            guard i < line.endIndex else { throw fail(.unterminatedQuote) }
            let escape = line[i]
            i += 1
            if let simple = Self.simpleEscapes[escape] {
                out.append(contentsOf: simple.utf8)
                continue
            }
            let digits: Int
            switch escape {
            case UInt8(ascii: "x"): digits = 2
            case UInt8(ascii: "u"): digits = 4
            case UInt8(ascii: "U"): digits = 8
            default: throw fail(.invalidEscape)
            }
            guard i + digits <= line.endIndex,
                // `UInt32(_:radix:)` alone would also take a sign.
                line[i..<i + digits].allSatisfy(\.isASCIIHexDigit),
                let code = UInt32(String(decoding: line[i..<i + digits], as: UTF8.self), radix: 16),
                let scalar = Unicode.Scalar(code)
            else { throw fail(.invalidEscape) }
            out.append(contentsOf: String(Character(scalar)).utf8)
            i += digits
        }
        throw fail(.unterminatedQuote)
    }

    /// YAML 1.2's single-character escapes (§5.7).
    private static let simpleEscapes: [UInt8: String] = [
        UInt8(ascii: "0"): "\u{0}", UInt8(ascii: "a"): "\u{7}", UInt8(ascii: "b"): "\u{8}",
        UInt8(ascii: "t"): "\t", Self.tab: "\t", UInt8(ascii: "n"): "\n", UInt8(ascii: "v"): "\u{B}",
        UInt8(ascii: "f"): "\u{C}", UInt8(ascii: "r"): "\r", UInt8(ascii: "e"): "\u{1B}", UInt8(ascii: " "): " ",
        Self.doubleQuote: "\"", UInt8(ascii: "/"): "/", Self.backslash: "\\", UInt8(ascii: "N"): "\u{85}",
        UInt8(ascii: "_"): "\u{A0}", UInt8(ascii: "L"): "\u{2028}", UInt8(ascii: "P"): "\u{2029}",
    ]

    private static func skipBlanks(_ line: ArraySlice<UInt8>, from start: Int) -> Int {
        var i = start
        while i < line.endIndex, Self.isBlank(line[i]) { i += 1 }
        return i
    }

    private static func isBlank(_ byte: UInt8) -> Bool { byte == Self.space || byte == Self.tab }

    private static func isBlankOrEnd(_ line: ArraySlice<UInt8>, _ i: Int) -> Bool {
        i >= line.endIndex || Self.isBlank(line[i])
    }

    private static func isKeyByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "."):
            true
        default: false
        }
    }

    private static let lf = UInt8(ascii: "\n")
    private static let cr = UInt8(ascii: "\r")
    private static let tab = UInt8(ascii: "\t")
    private static let space = UInt8(ascii: " ")
    private static let hash = UInt8(ascii: "#")
    private static let colon = UInt8(ascii: ":")
    private static let dash = UInt8(ascii: "-")
    private static let doubleQuote = UInt8(ascii: "\"")
    private static let singleQuote = UInt8(ascii: "'")
    private static let backslash = UInt8(ascii: "\\")
}

extension UInt8 {
    fileprivate var isASCIIHexDigit: Bool {
        switch self {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"),
            UInt8(ascii: "A")...UInt8(ascii: "F"):
            true
        default: false
        }
    }
}

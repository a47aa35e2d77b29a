import Foundation
import TickCore

/// Static facts about a listed stock: what `search-info` and `inquire-price` report and what seeds its market.
public struct Listing: Sendable, Equatable {
    public var code: String
    public var name: String
    public var englishName: String
    /// Listed shares (`lstn_stcn`).
    public var listedShares: Int64
    /// The previous close the simulated day starts from (`stck_sdpr`).
    public var basePrice: Int64
    /// Sector name (`bstp_kor_isnm`).
    public var sector: String

    /// The 12-character ISIN (`std_pdno`): `KR7` + code + `00` + check digit.
    public var isin: String {
        let body = "KR7" + self.code + "00"
        return body + String(Self.isinCheckDigit(body))
    }

    /// ISO 6166 check digit: letters become two digits (A = 10), then Luhn from the right.
    static func isinCheckDigit(_ body: String) -> Int {
        var digits: [Int] = []
        for scalar in body.unicodeScalars {
            if let d = Int(String(scalar)) {
                digits.append(d)
            } else {
                let v = Int(scalar.value) - 55
                digits.append(v / 10)
                digits.append(v % 10)
            }
        }
        var sum = 0
        for (i, d) in digits.reversed().enumerated() {
            if i % 2 == 0 {
                let doubled = d * 2
                sum += doubled / 10 + doubled % 10
            } else {
                sum += d
            }
        }
        return (10 - sum % 10) % 10
    }
}

public enum Catalog {
    /// The codes a simulator trades when none are given: a handful of liquid KOSPI names.
    public static let defaultCodes = ["005930", "000660", "005380", "035420", "035720"]

    /// The 30 largest KOSPI listings with names, listed shares and closing prices from the real market-cap ranking
    /// of 2025-07-25 (Tests/Fixtures/kis/real_ranking_market_cap_FHPST01740000_20250725.json). Two of its prices
    /// are mid-point prints between two ladder steps (005930 at 65,850, 005380 at 217,250); the simulated market
    /// has no mid-point orders, so they start one half step lower, on the ladder.
    static let known: [Listing] = [
        .init(
            code: "005930",
            name: "삼성전자",
            englishName: "SamsungElectronics",
            listedShares: 5_919_637_922,
            basePrice: 65800,
            sector: "전기·전자"
        ),
        .init(
            code: "000660",
            name: "SK하이닉스",
            englishName: "SK hynix",
            listedShares: 728_002_365,
            basePrice: 270000,
            sector: "전기·전자"
        ),
        .init(
            code: "373220",
            name: "LG에너지솔루션",
            englishName: "LG Energy Solution",
            listedShares: 234_000_000,
            basePrice: 363000,
            sector: "전기·전자"
        ),
        .init(
            code: "207940",
            name: "삼성바이오로직스",
            englishName: "SAMSUNG BIOLOGICS",
            listedShares: 71_174_000,
            basePrice: 1_078_000,
            sector: "의약품"
        ),
        .init(
            code: "012450",
            name: "한화에어로스페이스",
            englishName: "Hanwha Aerospace",
            listedShares: 51_563_401,
            basePrice: 943000,
            sector: "운수장비"
        ),
        .init(
            code: "105560",
            name: "KB금융",
            englishName: "KB Financial Group",
            listedShares: 381_462_103,
            basePrice: 119100,
            sector: "금융업"
        ),
        .init(
            code: "005380",
            name: "현대차",
            englishName: "HYUNDAI MOTOR",
            listedShares: 204_757_766,
            basePrice: 217000,
            sector: "운수장비"
        ),
        .init(
            code: "005935",
            name: "삼성전자우",
            englishName: "SamsungElectronics(1P)",
            listedShares: 815_974_664,
            basePrice: 54500,
            sector: "전기·전자"
        ),
        .init(
            code: "000270",
            name: "기아",
            englishName: "KIA",
            listedShares: 397_672_632,
            basePrice: 105700,
            sector: "운수장비"
        ),
        .init(
            code: "034020",
            name: "두산에너빌리티",
            englishName: "DOOSAN ENERBILITY",
            listedShares: 640_561_146,
            basePrice: 65300,
            sector: "기계"
        ),
        .init(
            code: "068270",
            name: "셀트리온",
            englishName: "Celltrion",
            listedShares: 230_920_342,
            basePrice: 178000,
            sector: "의약품"
        ),
        .init(
            code: "329180",
            name: "HD현대중공업",
            englishName: "HD HYUNDAI HEAVY INDUSTRIES",
            listedShares: 88_773_116,
            basePrice: 432500,
            sector: "운수장비"
        ),
        .init(
            code: "035420",
            name: "NAVER",
            englishName: "NAVER",
            listedShares: 158_437_008,
            basePrice: 226500,
            sector: "서비스업"
        ),
        .init(
            code: "055550",
            name: "신한지주",
            englishName: "Shinhan Financial Group",
            listedShares: 485_494_934,
            basePrice: 69800,
            sector: "금융업"
        ),
        .init(
            code: "028260",
            name: "삼성물산",
            englishName: "SAMSUNG C&T",
            listedShares: 169_976_544,
            basePrice: 168400,
            sector: "유통업"
        ),
        .init(
            code: "012330",
            name: "현대모비스",
            englishName: "HYUNDAI MOBIS",
            listedShares: 91_795_094,
            basePrice: 300000,
            sector: "운수장비"
        ),
        .init(
            code: "042660",
            name: "한화오션",
            englishName: "Hanwha Ocean",
            listedShares: 306_413_394,
            basePrice: 88000,
            sector: "운수장비"
        ),
        .init(
            code: "005490",
            name: "POSCO홀딩스",
            englishName: "POSCO Holdings",
            listedShares: 80_932_952,
            basePrice: 331500,
            sector: "철강금속"
        ),
        .init(
            code: "086790",
            name: "하나금융지주",
            englishName: "Hana Financial Group",
            listedShares: 284_723_889,
            basePrice: 92300,
            sector: "금융업"
        ),
        .init(
            code: "032830",
            name: "삼성생명",
            englishName: "Samsung Life Insurance",
            listedShares: 200_000_000,
            basePrice: 127600,
            sector: "보험"
        ),
        .init(
            code: "011200",
            name: "HMM",
            englishName: "HMM",
            listedShares: 1_025_039_496,
            basePrice: 24750,
            sector: "운수창고업"
        ),
        .init(
            code: "196170",
            name: "알테오젠",
            englishName: "ALTEOGEN",
            listedShares: 53_464_968,
            basePrice: 466000,
            sector: "제약"
        ),
        .init(
            code: "009540",
            name: "HD한국조선해양",
            englishName: "HD KSOE",
            listedShares: 70_773_116,
            basePrice: 347000,
            sector: "운수장비"
        ),
        .init(
            code: "015760",
            name: "한국전력",
            englishName: "KEPCO",
            listedShares: 641_964_077,
            basePrice: 38000,
            sector: "전기가스업"
        ),
        .init(
            code: "035720",
            name: "카카오",
            englishName: "Kakao",
            listedShares: 442_013_722,
            basePrice: 54300,
            sector: "서비스업"
        ),
        .init(
            code: "051910",
            name: "LG화학",
            englishName: "LG Chem",
            listedShares: 70_592_343,
            basePrice: 305000,
            sector: "화학"
        ),
        .init(
            code: "064350",
            name: "현대로템",
            englishName: "HYUNDAI ROTEM",
            listedShares: 109_142_293,
            basePrice: 194700,
            sector: "운수장비"
        ),
        .init(
            code: "000810",
            name: "삼성화재",
            englishName: "Samsung Fire & Marine Insurance",
            listedShares: 46_011_155,
            basePrice: 456500,
            sector: "보험"
        ),
        .init(
            code: "138040",
            name: "메리츠금융지주",
            englishName: "Meritz Financial Group",
            listedShares: 180_014_473,
            basePrice: 116000,
            sector: "금융업"
        ),
        .init(
            code: "402340",
            name: "SK스퀘어",
            englishName: "SK Square",
            listedShares: 132_540_858,
            basePrice: 152400,
            sector: "서비스업"
        ),
    ]

    /// Whether `code` is one of the catalogued large caps (all KOSPI 200 constituents, whose dynamic VI threshold
    /// is 3 % rather than 6 %).
    static func isLargeCap(_ code: String) -> Bool {
        Self.known.contains { $0.code == code }
    }

    /// The codes of all catalogued listings, largest first (`--symbols all` and the 20-symbol CPU measurement).
    public static var knownCodes: [String] { Self.known.map(\.code) }

    /// The listing for `code`: a catalogued one, or a synthetic small cap whose price and size derive from the code
    /// so that the same code always gets the same market.
    public static func listing(_ code: String) -> Listing {
        if let known = Self.known.first(where: { $0.code == code }) { return known }
        var random = SimRandom(
            seed: 0x4B52_58,
            stream: UInt64(code) ?? UInt64(code.utf8.reduce(0) { $0 &* 31 &+ UInt64($1) })
        )
        let price = KRX.floorToTick(Int64(1_000 * exp(random.unit() * 5.5)))
        return Listing(
            code: code,
            name: "모의종목\(code)",
            englishName: "SIM \(code)",
            listedShares: Int64(10_000_000 + random.int(0...90_000_000)),
            basePrice: max(price, 1_000),
            sector: "서비스업"
        )
    }

    /// Whether `code` has the shape of a KRX short code: six digits, or `Q` and six digits for an ETN.
    public static func isValidCode(_ code: String) -> Bool {
        let bytes = Array(code.utf8)
        let digits = bytes.first == UInt8(ascii: "Q") ? bytes.dropFirst() : bytes[...]
        return digits.count == 6 && digits.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }
}

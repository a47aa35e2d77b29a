import JSON
import TestVectors
import Testing

@testable import KIS

/// The screener's inputs read from real KIS answers (docs/kis-protocol.md §4.7, §4.11).
@Suite struct QuotationModelTests {
    @Test func marketCapRankingReadsEveryRowInItsUnits() throws {
        let answer = try #require(JSON(parsing: Vectors.bytes(Vectors.marketCapRanking)))
        let rows = MarketCapRow.rows(answer)
        #expect(rows.count == 30)
        let first = try #require(rows.first)
        #expect(first.rank == 1)
        #expect(first.code == "005930")
        #expect(first.name == "삼성전자")
        #expect(first.price == 65_850)
        #expect(first.changeRate == -0.23)
        #expect(first.volume == 1_943_202)
        #expect(first.listedShares == 5_919_637_922)
        #expect(first.marketCap == 3_898_082)
        #expect(first.marketShare == 11.89)
        #expect(rows.map(\.rank) == (1...30).map(Int64.init))
        // stck_avls is 억원: price × listed shares / 10^8, rounded, on every row.
        for row in rows {
            let computed = (Double(row.price) * Double(row.listedShares) / 1e8).rounded()
            #expect(abs(computed - Double(row.marketCap)) <= 1, "\(row.code)")
        }
        #expect(zip(rows, rows.dropFirst()).allSatisfy { $0.marketCap >= $1.marketCap })
    }

    @Test func priceCarriesMarketCapTradedValueAndTheDesignationFlags() throws {
        let answer = try #require(JSON(parsing: Vectors.bytes(Vectors.price)))
        let output = try #require(answer["output"])
        let quote = Quote(code: "005930", output)
        #expect(quote.price == 65_850)
        #expect(quote.marketCap == 3_898_082)
        #expect(quote.tradedValue == 127_737_129_950)
        #expect(quote.status == "55")
        #expect(!quote.suspended)
        #expect(quote.marketWarning == "00")
        #expect(!quote.administrative)
        #expect(!quote.investorCaution)
        #expect(!quote.overheated)
        #expect(quote.viCode == "N")
    }
}

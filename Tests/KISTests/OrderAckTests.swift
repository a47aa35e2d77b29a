import KIS
import TestVectors
import Testing
import TickCore

/// The order answer read straight from its bytes: what the engine's order path takes from every answer.
@Suite struct OrderAckTests {
    static func read(_ text: String, status: Int = 200) throws(KISError) -> OrderAck {
        let bytes = Array(text.utf8)
        return try OrderAck.read(status: status, body: bytes[...], trID: "TTTC0012U")
    }

    @Test func realAnswersReadAsNumbers() throws {
        let real = try OrderAck.read(
            status: 200,
            body: try Vectors.bytes(Vectors.orderAccepted)[...],
            trID: "TTTC0012U"
        )
        #expect(real.orderNumber == 6_555 && real.organization == 6_590 && real.time == 151_059)
        #expect(real.messageCode == PackedASCII(ascii: "APBK0013"))
        let paper = try OrderAck.read(
            status: 200,
            body: try Vectors.bytes(Vectors.paperOrderAccepted)[...],
            trID: "VTTC0012U"
        )
        #expect(paper.orderNumber == 47_589 && paper.organization == 950 && paper.time == 134_354)
    }

    @Test func lowerCaseNamesAndSpacesAsTheDocumentationWritesThem() throws {
        let ack = try Self.read(
            #"{ "rt_cd" : "0", "msg_cd":"APBK0013", "output": { "krx_fwdg_ord_orgno": "91252", "odno": "1", "ord_tmd": "090001" } }"#
        )
        #expect(ack.orderNumber == 1 && ack.organization == 91_252 && ack.time == 90_001)
    }

    @Test func aRefusalIsKISsRejectionWithItsMessage() throws {
        #expect {
            _ = try OrderAck.read(
                status: 500,
                body: try Vectors.bytes(Vectors.orderRefused)[...],
                trID: "TTTC0012U"
            )
        } throws: { error in
            guard case KISError.rejected(let failure) = error else { return false }
            return failure.msgCd == "IGW00007" && failure.httpStatus == 500 && failure.rtCd == "1"
        }
    }

    /// An accepted order whose number cannot be read is not number 0: the client reports it malformed, which the
    /// order lane turns into a lost answer (the order may stand).
    @Test(arguments: [
        #"{"rt_cd":"0","output":{"KRX_FWDG_ORD_ORGNO":"06590","ORD_TMD":"151059"}}"#,
        #"{"rt_cd":"0","output":{"KRX_FWDG_ORD_ORGNO":"06590","ODNO":"","ORD_TMD":"151059"}}"#,
        #"{"rt_cd":"0","output":{"KRX_FWDG_ORD_ORGNO":"06590","ODNO":"00A1","ORD_TMD":"151059"}}"#,
        #"{"rt_cd":"0","output":{"KRX_FWDG_ORD_ORGNO":"06590","ODNO":"0000000000"}}"#,
        #"{"rt_cd":"0","output":{"KRX_FWDG_ORD_ORGNO":"x","ODNO":"12"}}"#,
        #"{"rt_cd":"0","output":{"ODNO":"12"}}"#,
    ])
    func anUnreadableNumberIsMalformedNotZero(_ text: String) {
        #expect {
            _ = try Self.read(text)
        } throws: { error in
            if case KISError.malformedResponse = error { return true }
            return false
        }
    }

    @Test func bytesThatAreNotAnAnswerAreMalformed() {
        #expect {
            _ = try Self.read("<html>502 Bad Gateway</html>", status: 502)
        } throws: { error in
            if case KISError.malformedResponse = error { return true }
            return false
        }
    }
}

import KIS
import Testing

@Suite struct SecretTests {
    @Test func everyRenderingIsRedacted() {
        let secret = Secret("PSabcdefghijklmnopqrstuvwxyz0123456789")
        struct Holder { var key: Secret }
        let renderings = [
            "\(secret)", String(describing: secret), String(reflecting: secret), "\(Holder(key: secret))",
            String(reflecting: Holder(key: secret)), "\([secret])", "\(Optional(secret) as Any)",
        ]
        for text in renderings {
            #expect(!text.contains("PSabc"), "leaked in \(text.count) characters")
            #expect(text.contains("<redacted>"))
        }
        var dumped = ""
        dump(Holder(key: secret), to: &dumped)
        #expect(!dumped.contains("PSabc"))
        #expect(secret.reveal == "PSabcdefghijklmnopqrstuvwxyz0123456789")
    }
}

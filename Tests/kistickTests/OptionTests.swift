import ArgumentParser
import Testing

@testable import kistick

/// Every numeric and date option is checked before anything runs: a bad value is an error naming the option, never a
/// trap, a port taken modulo 65536, a PINGPONG flood or a silent default.
@Suite struct OptionTests {
    /// The message a command's parse gives for `arguments`, or nil when they are accepted.
    func refusal<C: ParsableCommand>(_ command: C.Type, _ arguments: [String]) -> String? {
        do {
            _ = try command.parse(arguments)
            return nil
        } catch {
            return command.message(for: error)
        }
    }

    @Test(arguments: [
        // Once a trap in KRX.nextTradingDay ("Unexpectedly found nil"), or 30 February read as 2 March.
        (["--date", "20261345"], "--date"), (["--date", "2026"], "--date"), (["--date", "00000000"], "--date"),
        (["--date", "20260230"], "--date"), (["--date", "99991231"], "--date"),
        // Once bound as 70000 mod 65536 = 4464.
        (["--rest-port", "70000"], "--rest-port"), (["--ws-port", "-1"], "--ws-port"),
        (["--paper", "--real-rest-port", "65536"], "--real-rest-port"),
        (["--real-ws-port", "5000"], "--real-ws-port"),
        // Once about 100 PINGPONGs a second.
        (["--ping-interval", "0"], "--ping-interval"), (["--ping-interval", "nan"], "--ping-interval"),
        (["--ping-interval", "inf"], "--ping-interval"),
        (["--speed", "0"], "--speed"), (["--speed", "inf"], "--speed"), (["--speed", "nan"], "--speed"),
        (["--start", "250000"], "--start"), (["--start", "126000"], "--start"),
        (["--schema-drift", "-1"], "--schema-drift"), (["--order-delay", "-1"], "--order-delay"),
        (["--order-delay", "1e12"], "--order-delay"),
    ])
    func simRefuses(_ arguments: [String], option: String) throws {
        let message = try #require(self.refusal(Sim.self, arguments))
        #expect(message.contains(option), "\(arguments): \(message)")
    }

    @Test func simTakesTheEdgesOfEachRange() {
        #expect(self.refusal(Sim.self, ["--date", "20240229", "--start", "235959", "--ping-interval", "1"]) == nil)
        #expect(self.refusal(Sim.self, ["--rest-port", "65535", "--ws-port", "0", "--speed", "max"]) == nil)
        #expect(self.refusal(Sim.self, ["--paper", "--real-rest-port", "1", "--order-delay", "30"]) == nil)
    }

    @Test(arguments: [
        // Once run as 09:00.
        (["--start", "250000"], "--start"), (["--duration", "0"], "--duration"), (["--duration", "nan"], "--duration"),
        (["--speed", "0"], "--speed"), (["--speed", "601"], "--speed"), (["--capture-level", "23"], "--capture-level"),
        (["--app-keys", "0"], "--app-keys"), (["--app-keys", "5"], "--app-keys"),
        (["--http", "localhost:80"], "--http"), (["--http", "127.0.0.1"], "--http"),
        (["--http", "127.0.0.1:70000"], "--http"),
    ])
    func paperRefuses(_ arguments: [String], option: String) throws {
        let message = try #require(self.refusal(Paper.self, arguments))
        #expect(message.contains(option), "\(arguments): \(message)")
    }

    /// 20 codes per app key: two registrations each and the notices, of KIS's 41 per session.
    @Test func paperAndLiveTakeTwentyCodesPerAppKey() {
        let codes = { (count: Int) in (0..<count).map { String(900_000 + 10 * $0) }.joined(separator: ",") }
        #expect(self.refusal(Paper.self, ["--codes", codes(20)]) == nil)
        #expect(
            self.refusal(Paper.self, ["--codes", codes(21)])
                == "at most 20 codes: KIS allows 41 registrations per session"
        )
        #expect(self.refusal(Paper.self, ["--codes", codes(40), "--app-keys", "2"]) == nil)
        #expect(
            self.refusal(Paper.self, ["--codes", codes(41), "--app-keys", "2"])
                == "at most 40 codes with 2 app keys: KIS allows 41 registrations per session"
        )
        // Live reads its keys when it runs: before that, only the most the keys file may hold bounds the codes.
        #expect(self.refusal(Live.self, ["--codes", codes(21)]) != nil)
        #expect(self.refusal(Live.self, ["--codes", codes(40), "--feed-keys", "keys.yaml"]) == nil)
        let simulated = self.refusal(Live.self, ["--sim", "--feed-keys", "keys.yaml"])
        #expect(simulated?.contains("--app-keys") == true, "\(simulated ?? "accepted")")
    }

    @Test(arguments: [
        (["--out", "x.kcap", "--start", "250000"], "--start"),
        (["--out", "x.kcap", "--rotate-mb", "0"], "--rotate-mb"),
        (["--out", "x.kcap", "--rotate-mb", "9000000000000"], "--rotate-mb"),
        (["--out", "x.kcap", "--duration", "inf"], "--duration"),
    ])
    func recordRefuses(_ arguments: [String], option: String) throws {
        let message = try #require(self.refusal(Record.self, arguments))
        #expect(message.contains(option), "\(arguments): \(message)")
    }

    @Test func everyOtherCommandChecksItsNumbers() throws {
        for (message, option) in [
            (self.refusal(Live.self, ["--duration", "-1"]), "--duration"),
            (self.refusal(Watch.self, ["005930", "--seconds", "0"]), "--seconds"),
            (self.refusal(Replay.self, ["x.kcap", "--speed", "inf"]), "--speed"),
            (self.refusal(Replay.self, ["x.kcap", "--market-speed", "inf"]), "--market-speed"),
            (self.refusal(Replay.self, ["x.kcap", "--entry-latency-us", "-1"]), "--entry-latency-us"),
            (self.refusal(Bench.self, ["x.kcap", "--ack-latency-us", "10000000000000000"]), "--ack-latency-us"),
        ] {
            let text = try #require(message, "\(option) was accepted")
            #expect(text.contains(option), "\(text)")
        }
    }
}

/// Errors say what went wrong in words and name the file, not errno numbers or NSCocoaErrorDomain codes.
@Suite struct ErrorTextTests {
    @Test func aFileThatCannotBeReadIsNamedWithTheSystemsWords() throws {
        let missing = "/nonexistent-kistick-folder/messages.txt"
        var decode = try Decode.parse([missing])
        #expect {
            try decode.run()
        } throws: { error in
            let message = Decode.message(for: error)
            return message == "\(missing): open failed: No such file or directory"
        }
        decode = try Decode.parse(["/"])
        #expect {
            try decode.run()
        } throws: { error in
            Decode.message(for: error) == "/: read failed: Is a directory"
        }
    }
}

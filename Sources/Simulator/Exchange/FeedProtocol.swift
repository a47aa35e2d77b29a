import JSON
import TickCore

/// The KIS WebSocket control protocol (docs/kis-protocol.md §5.2–5.4): subscribe and unsubscribe requests, their
/// acks and errors, and the PINGPONG keep-alive.
extension ExchangeState {
    /// TRs the simulator accepts, and whether their frames are encrypted. The overseas notice TRs (H0GSCNI0/9)
    /// are accepted because clients such as python-kis subscribe them alongside the domestic ones; the simulated
    /// market is domestic only, so they never carry data.
    static let feedTRs: [String: Bool] = [
        "H0STCNT0": false, "H0STASP0": false, "H0STCNI0": true, "H0STCNI9": true, "H0GSCNI0": true, "H0GSCNI9": true,
        "H0NXCNT0": false, "H0NXASP0": false, "H0UNCNT0": false, "H0UNASP0": false,
    ]

    /// The NXT and combined TRs: the real server's only; paper (모의투자) is KRX alone (docs/venues.md).
    static func isRealOnly(_ tr: String) -> Bool { tr.hasPrefix("H0NX") || tr.hasPrefix("H0UN") }

    /// Handles one text message from a client; returns the reply, if any.
    mutating func receive(_ text: [UInt8], from session: Session) -> [UInt8]? {
        guard let message = JSON(parsing: text) else {
            return Self.ack(
                tr: "",
                key: "",
                encrypted: false,
                rt: "9",
                code: "OPSP9999",
                text: "JSON PARSING ERROR : invalid json format"
            )
        }
        guard let header = message["header"], case .object = header else {
            return Self.ack(
                tr: "",
                key: "",
                encrypted: false,
                rt: "9",
                code: "OPSP9998",
                text: "JSON PARSING ERROR : header not found"
            )
        }
        if header["tr_id"]?.text == "PINGPONG" {
            // The text echo most clients send back.
            session.pingSentAt.store(0, ordering: .relaxed)
            return nil
        }
        guard let approval = header["approval_key"]?.text, let appKey = self.auth.approvals[approval] else {
            return Self.ack(
                tr: "",
                key: "",
                encrypted: false,
                rt: "1",
                code: "OPSP0011",
                text: "invalid approval : NOT FOUND"
            )
        }
        guard let custType = header["custtype"]?.text, custType == "P" || custType == "B" else {
            return Self.ack(
                tr: "",
                key: "",
                encrypted: false,
                rt: "9",
                code: "OPSP8998",
                text: "JSON PARSING ERROR : invalid custtype"
            )
        }
        guard let type = header["tr_type"]?.text, type == "1" || type == "2" else {
            return Self.ack(
                tr: "",
                key: "",
                encrypted: false,
                rt: "9",
                code: "OPSP8997",
                text: "JSON PARSING ERROR : invalid tr_type"
            )
        }
        guard let body = message["body"] else {
            return Self.ack(
                tr: "",
                key: "",
                encrypted: false,
                rt: "9",
                code: "OPSP9992",
                text: "JSON PARSING ERROR : body not found"
            )
        }
        guard let input = body["input"], let tr = input["tr_id"]?.text else {
            return Self.ack(
                tr: "",
                key: "",
                encrypted: false,
                rt: "9",
                code: "OPSP9991",
                text: "JSON PARSING ERROR : input not found"
            )
        }
        let key = input["tr_key"]?.text ?? ""
        guard let encrypted = Self.feedTRs[tr], !(Self.isRealOnly(tr) && session.environment == .paper) else {
            return Self.ack(
                tr: tr,
                key: key,
                encrypted: false,
                rt: "1",
                code: "OPSP0007",
                text: "SUBSCRIBE ERROR : invalid tr_id"
            )
        }
        guard encrypted ? !key.isEmpty && key.utf8.count <= 16 : Catalog.isValidCode(key) else {
            return Self.ack(
                tr: "",
                key: "",
                encrypted: false,
                rt: "9",
                code: "OPSP8992",
                text: "JSON PARSING ERROR : invalid tr_key"
            )
        }
        if let bound = self.sessions.appKey(of: session), bound != appKey {
            return Self.ack(
                tr: tr,
                key: key,
                encrypted: encrypted,
                rt: "1",
                code: "OPSP8996",
                text: "ALREADY IN USE appkey"
            )
        }
        if self.sessions.otherSession(of: appKey, on: session.environment, besides: session) != nil {
            return Self.ack(
                tr: tr,
                key: key,
                encrypted: encrypted,
                rt: "1",
                code: "OPSP8996",
                text: "ALREADY IN USE appkey"
            )
        }
        self.sessions.bind(session, to: appKey)
        let subscription = SessionRegistry.Subscription(tr: tr, key: key)
        let output = (session.ivText, session.keyText)
        if type == "2" {
            guard self.sessions.isSubscribed(session, subscription) else {
                return Self.ack(
                    tr: tr,
                    key: key,
                    encrypted: encrypted,
                    rt: "1",
                    code: "OPSP0003",
                    text: "UNSUBSCRIBE ERROR(not found!)"
                )
            }
            self.sessions.unsubscribe(session, subscription)
            self.sessionLog.released(session, holding: self.sessions.count(session))
            return Self.ack(
                tr: tr,
                key: key,
                encrypted: encrypted,
                rt: "0",
                code: "OPSP0001",
                text: "UNSUBSCRIBE SUCCESS",
                output: output
            )
        }
        if self.sessions.isSubscribed(session, subscription) {
            return Self.ack(
                tr: tr,
                key: key,
                encrypted: encrypted,
                rt: "0",
                code: "OPSP0002",
                text: "ALREADY IN SUBSCRIBE",
                output: output
            )
        }
        guard self.sessions.count(session) < SessionRegistry.maxRegistrations else {
            self.sessionLog.refused(session)
            return Self.ack(
                tr: tr,
                key: key,
                encrypted: encrypted,
                rt: "1",
                code: "OPSP0008",
                text: "MAX SUBSCRIBE OVER"
            )
        }
        self.sessions.subscribe(session, subscription)
        self.sessionLog.registered(session, tr: tr, holding: self.sessions.count(session), at: self.wallMicros)
        if let symbol = self.symbolIndex[key] {
            // A new book subscriber gets the current book with the next flush.
            switch tr {
            case "H0STASP0": self.symbols[symbol].bookChanged = true
            case "H0NXASP0": self.nxtSymbols[symbol].bookChanged = true
            case "H0UNASP0":
                self.symbols[symbol].bookChanged = true
                self.nxtSymbols[symbol].bookChanged = true
            default: break
            }
        }
        return Self.ack(
            tr: tr,
            key: key,
            encrypted: encrypted,
            rt: "0",
            code: "OPSP0000",
            text: "SUBSCRIBE SUCCESS",
            output: output
        )
    }

    /// An ack in the real key order: header (tr_id, tr_key, encrypt), then body (rt_cd, msg_cd, msg1, output iv/key).
    static func ack(
        tr: String,
        key: String,
        encrypted: Bool,
        rt: String,
        code: String,
        text: String,
        output: (iv: String, key: String)? = nil
    ) -> [UInt8] {
        var body: [(String, JSON)] = [("rt_cd", .string(rt)), ("msg_cd", .string(code)), ("msg1", .string(text))]
        if let output { body.append(("output", .obj(["iv": .string(output.iv), "key": .string(output.key)]))) }
        return JSON.obj([
            "header": .obj(["tr_id": .string(tr), "tr_key": .string(key), "encrypt": encrypted ? "Y" : "N"]),
            "body": .object(body),
        ]).bytes
    }

    /// Keep-alive: a PINGPONG to every session idle for the ping interval, and a drop for one that left a
    /// PINGPONG unanswered past the timeout. Nothing goes out while the `silent` fault holds.
    mutating func keepAlive() {
        guard !self.faults.silent else { return }
        let wall = self.wallMicros
        let interval = Int64(self.config.pingInterval * 1e6)
        let timeout = Int64(self.config.pongTimeout * 1e6)
        for id in self.sessions.all.keys.sorted() {
            let session = self.sessions.all[id]!
            let pinged = session.pingSentAt.load(ordering: .relaxed)
            if pinged != 0, wall - pinged >= timeout {
                session.drop()
            } else if wall - session.lastSent.load(ordering: .relaxed) >= interval {
                let seconds = wall / 1_000_000
                var stamp: [UInt8] = []
                stamp.appendInt(Int64(KST.date(epochSeconds: seconds)))
                stamp.appendPadded(Int64(KST.time(epochSeconds: seconds)), width: 6)
                let ping = JSON.obj([
                    "header": .obj(["tr_id": "PINGPONG", "datetime": .string(String(decoding: stamp, as: UTF8.self))])
                ])
                session.sendText(ping.bytes, at: wall)
                if pinged == 0 { session.pingSentAt.store(wall, ordering: .relaxed) }
            }
        }
    }
}

import Engine
import TickCore

/// Everything the bot says, in Korean or English.
struct Phrasebook {
    let language: BotLanguage

    private func say(_ korean: String, _ english: String) -> String {
        self.language == .korean ? korean : english
    }

    // MARK: Notifications

    func text(_ notification: Notification) -> String {
        switch notification {
        case .started(let codes):
            return self.say(
                "▶️ 엔진 시작: \(codes.joined(separator: ", "))",
                "▶️ Engine started: \(codes.joined(separator: ", "))"
            )
        case .stopped(let day):
            return self.say("⏹ 엔진 종료\n", "⏹ Engine stopped\n") + self.summary(day)
        case .fills(let fills):
            return fills.map(self.fill).joined(separator: "\n")
        case .killSwitchArmed:
            return self.say(
                "🛑 킬 스위치 작동: 모든 주문 취소, 전 종목 청산, 신규 진입 금지",
                "🛑 Kill switch armed: cancelling every order, flattening every position, no entries"
            )
        case .dailyLossLimit(let pnl, let limit):
            return self.say(
                "⚠️ 일일 손실 한도 도달: 손익 \(Self.won(pnl)) (한도 \(Self.won(-limit))). 신규 진입 중단",
                "⚠️ Daily loss limit reached: P&L \(Self.won(pnl)) (limit \(Self.won(-limit))). No more entries"
            )
        case .connectionLost:
            return self.say("📡 시세 연결 끊김, 재연결 중", "📡 Market data connection lost, reconnecting")
        case .connectionRestored:
            return self.say("📡 시세 연결 복구", "📡 Market data connection restored")
        case .error(let note):
            return self.say("❗ \(note)", "❗ \(note)")
        case .dailySummary(let day):
            return self.say("📊 장 마감 요약\n", "📊 Close of day\n") + self.summary(day)
        }
    }

    private func fill(_ fill: FillReport) -> String {
        let side = fill.side == .buy ? self.say("매수", "BUY") : self.say("매도", "SELL")
        return self.say(
            "✅ 체결 \(fill.code) \(side) \(fill.quantity)주 @ \(Self.won(Int64(fill.price)))",
            "✅ Fill \(fill.code) \(side) \(fill.quantity) @ \(Self.won(Int64(fill.price)))"
        )
    }

    private func summary(_ day: DaySummary) -> String {
        let net = day.realised + day.unrealised - day.fees - day.taxes
        return self.say(
            """
            실현 \(Self.won(day.realised)) · 평가 \(Self.won(day.unrealised))
            수수료 \(Self.won(day.fees)) · 세금 \(Self.won(day.taxes)) · 순손익 \(Self.won(net))
            주문 \(day.ordersSent)건 · 체결 \(day.fills)건 · 보유 \(day.openPositions)종목
            """,
            """
            realised \(Self.won(day.realised)) · unrealised \(Self.won(day.unrealised))
            fees \(Self.won(day.fees)) · taxes \(Self.won(day.taxes)) · net \(Self.won(net))
            \(day.ordersSent) orders · \(day.fills) fills · \(day.openPositions) positions open
            """
        )
    }

    // MARK: Answers

    var help: String {
        self.say(
            """
            명령어
            /status 엔진 상태
            /balance 계좌 잔고
            /positions 보유 종목
            /pnl 오늘 손익
            /orders 미체결 주문
            /pause 신규 진입 중지 (청산은 계속)
            /resume 신규 진입 재개
            /stop 킬 스위치: 전부 취소하고 청산 (확인 필요)
            /help 이 도움말
            """,
            """
            Commands
            /status engine status
            /balance account balance
            /positions open positions
            /pnl today's profit and loss
            /orders working orders
            /pause no new entries (exits still go)
            /resume entries again
            /stop kill switch: cancel all and flatten (asks to confirm)
            /help this help
            """
        )
    }

    var notReady: String { self.say("엔진 시작 중입니다. 잠시 후 다시 시도하세요.", "The engine is starting; try again in a moment.") }

    func unknown(_ text: String) -> String {
        self.say("알 수 없는 명령: \(text)\n/help 로 명령어를 확인하세요.", "Unknown command: \(text)\nSend /help for the list.")
    }

    func status(_ status: EngineStatus, paused: Bool, telegramDropped: Int) -> String {
        let market = status.marketTime > 0 ? Self.clock(KST.time(epochSeconds: status.marketTime / 1_000_000_000)) : "-"
        let minutes = Int(status.wallSeconds / 60)
        let state: String
        if status.killSwitch {
            state = self.say("킬 스위치 작동", "kill switch armed")
        } else if paused {
            state = self.say("진입 중지", "entries paused")
        } else {
            state = self.say("매매 중", "trading")
        }
        let orders = status.orders
        return self.say(
            """
            상태: \(state)
            장 시각 \(market) · 가동 \(minutes)분
            시세 구독 \(status.subscribedCodes)종목 · 수신 \(status.records)건 · 재연결 \(status.reconnects)회
            주문 \(orders.sent) · 체결 \(orders.fills) · 미체결 \(orders.open) · 리스크 거부 \(status.riskRejections)
            손실 \(status.drops.lost) · 텔레그램 누락 \(telegramDropped)
            """,
            """
            State: \(state)
            market time \(market) · up \(minutes) min
            \(status.subscribedCodes) codes subscribed · \(status.records) records · \(status.reconnects) reconnects
            \(orders.sent) orders · \(orders.fills) fills · \(orders.open) open · \(status.riskRejections) risk refusals
            \(status.drops.lost) records lost · \(telegramDropped) Telegram messages dropped
            """
        )
    }

    func positions(_ status: EngineStatus) -> String {
        guard !status.positions.isEmpty else { return self.say("보유 종목 없음", "No open positions") }
        let lines = status.positions.map { row in
            let average = Self.won(Int64(row.averagePrice.rounded()))
            return self.say(
                "\(row.code) \(row.quantity)주 · 평균 \(average) · 현재 \(Self.won(row.lastPrice)) · 평가 \(Self.won(row.unrealisedPnL))",
                "\(row.code) \(row.quantity) · avg \(average) · last \(Self.won(row.lastPrice)) · unrealised \(Self.won(row.unrealisedPnL))"
            )
        }
        return self.say("보유 종목\n", "Positions\n") + lines.joined(separator: "\n")
    }

    func pnl(_ status: EngineStatus) -> String {
        self.say("오늘 손익\n", "Today's P&L\n") + self.summary(DaySummary(status))
    }

    func balance(_ account: AccountSummary) -> String {
        var lines = [
            self.say(
                "예수금 \(Self.won(account.cash)) · 총평가 \(Self.won(account.totalValue)) · 평가손익 \(Self.won(account.profit))",
                "cash \(Self.won(account.cash)) · total \(Self.won(account.totalValue)) · profit \(Self.won(account.profit))"
            )
        ]
        for holding in account.holdings {
            lines.append(
                self.say(
                    "\(holding.code) \(holding.name) \(holding.quantity)주 · 현재 \(Self.won(holding.price)) · 손익 \(Self.won(holding.profit))",
                    "\(holding.code) \(holding.name) \(holding.quantity) · last \(Self.won(holding.price)) · profit \(Self.won(holding.profit))"
                )
            )
        }
        return self.say("계좌 잔고\n", "Balance\n") + lines.joined(separator: "\n")
    }

    func orders(_ orders: [OpenOrder]) -> String {
        guard !orders.isEmpty else { return self.say("미체결 주문 없음", "No working orders") }
        let lines = orders.map { order in
            let side = order.side == .buy ? self.say("매수", "buy") : self.say("매도", "sell")
            let price = order.price == 0 ? self.say("시장가", "market") : Self.won(order.price)
            return self.say(
                "\(order.code) \(side) \(order.quantity)주 (체결 \(order.filled)) @ \(price) #\(order.orderNumber)",
                "\(order.code) \(side) \(order.quantity) (\(order.filled) filled) @ \(price) #\(order.orderNumber)"
            )
        }
        return self.say("미체결 주문\n", "Working orders\n") + lines.joined(separator: "\n")
    }

    func queryFailed(_ error: any Error) -> String {
        self.say("증권사 조회 실패: \(error)", "The broker could not be asked: \(error)")
    }

    var paused: String {
        self.say("⏸ 신규 진입 중지. 청산 주문은 계속됩니다. /resume 으로 재개", "⏸ Entries paused; exits still go. /resume to resume")
    }
    var alreadyPaused: String { self.say("이미 진입 중지 상태입니다.", "Entries are already paused.") }
    var resumed: String { self.say("▶️ 신규 진입 재개", "▶️ Entries resumed") }
    var notPaused: String { self.say("진입 중지 상태가 아닙니다.", "Entries are not paused.") }

    func stopAsk(seconds: Int) -> String {
        self.say(
            "⚠️ 킬 스위치: 모든 주문을 취소하고 전 종목을 청산합니다. \(seconds)초 안에 /stop yes 또는 이 메시지에 '예'로 답하세요.",
            "⚠️ Kill switch: cancels every order and flattens every position. Confirm within \(seconds) s with /stop yes, or reply 'yes'."
        )
    }

    var stopArmed: String { self.say("🛑 킬 스위치를 작동했습니다.", "🛑 Kill switch armed.") }
    var stopNotAsked: String { self.say("먼저 /stop 을 보내세요.", "Send /stop first.") }
    var stopExpired: String {
        self.say("확인 시간이 지났습니다. 다시 /stop 을 보내세요.", "The confirmation expired; send /stop again.")
    }
    var stopCancelled: String { self.say("킬 스위치 취소", "Kill switch not armed") }

    // MARK: Numbers

    /// `09:04:20` of an HHMMSS time.
    static func clock(_ time: UInt32) -> String {
        let digits = Array(KST.text(time: time))
        return "\(String(digits[0..<2])):\(String(digits[2..<4])):\(String(digits[4..<6]))"
    }

    /// `₩1,234,500`, the sign in front; the won sign reads the same in both languages.
    static func won(_ value: Int64) -> String {
        let digits = String(value.magnitude)
        var grouped = ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { grouped.append(",") }
            grouped.append(digit)
        }
        return (value < 0 ? "-" : "") + "₩" + grouped
    }
}

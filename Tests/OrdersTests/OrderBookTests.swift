import Orders
import Testing
import TickCore

@Suite struct OrderBookTests {
    /// The REST ack, the acceptance notice and three fill notices of one 10-share order.
    static let arrivals: [OrderEvent] = [
        Make.acknowledged(1, 6555),
        .notice(Make.ack(6555)),
        .notice(Make.fill(6555, 3, at: 70_000, time: 1_800_000_001)),
        .notice(Make.fill(6555, 3, at: 70_100, time: 1_800_000_002)),
        .notice(Make.fill(6555, 4, at: 70_000, time: 1_800_000_003)),
    ]
    static let value: Int64 = 3 * 70_000 + 3 * 70_100 + 4 * 70_000

    @Test func everyOrderingOfAckAndNoticesEndsFilledOnce() throws {
        for order in permutations(Self.arrivals) {
            var book = OrderBook(capacity: 8, account: Make.account)
            var sink = Recorder()
            try book.send(Make.intent(1), into: &sink)
            for event in order { _ = book.apply(event, into: &sink) }
            let final = try #require(book.order(OrderID(rawValue: 1)))
            #expect(final.state == .filled)
            #expect(final.filled == 10 && final.remaining == 0 && final.fillValue == Self.value)
            #expect(sink.fills.count == 3 && sink.filledQuantity == 10 && sink.filledValue == Self.value)
            #expect(book.heldNoticeCount == 0)
            #expect(book.needsReconciliationCount == 0)
            // The strategy sees the fill count only grow, and a terminal state only at the end.
            let filled = sink.changes.map(\.filled)
            #expect(filled == filled.sorted())
            #expect(sink.changes.dropLast().allSatisfy { !$0.state.isTerminal })
        }
    }

    /// Every notice delivered twice, the copy anywhere after the original: nothing is applied twice, and KIS's
    /// count of the order's fills settles what was held in doubt.
    @Test func everyNoticeTwiceIsAppliedOnce() throws {
        let notices = Array(Self.arrivals.dropFirst())
        for order in permutations(Self.arrivals) {
            for copyAt in [1, order.count] {
                var book = OrderBook(capacity: 8)
                var sink = Recorder()
                try book.send(Make.intent(1), into: &sink)
                var events = order
                events.insert(contentsOf: notices, at: min(copyAt, events.count))
                for event in events { _ = book.apply(event, into: &sink) }
                #expect(book.state(1) == .filled)
                #expect(sink.filledQuantity == 10 && sink.filledValue == Self.value)
                #expect(book.order(OrderID(rawValue: 1))?.fillValue == Self.value)
                _ = book.apply(Make.record(6555, filled: 10, value: Self.value, remaining: 0), into: &sink)
                #expect(book.needsReconciliationCount == 0 && book.doubtfulCount == 0)
                #expect(sink.filledQuantity == 10)
            }
        }
    }

    @Test func anIdenticalFillIsHeldUntilKISCountsIt() throws {
        var book = OrderBook(capacity: 4)
        var sink = Recorder()
        try book.send(Make.intent(1), into: &sink)
        _ = book.apply(Make.acknowledged(1, 7), into: &sink)
        #expect(book.apply(.notice(Make.fill(7, 2, time: 1_800_000_005)), into: &sink) == .applied)
        #expect(book.apply(.notice(Make.fill(7, 2, time: 1_800_000_005)), into: &sink) == .doubtful)
        #expect(sink.filledQuantity == 2 && book.doubtfulCount == 1)
        // It was a real second fill after all: KIS counts 4, and the held fill is applied at its own price and time.
        #expect(book.apply(Make.record(7, filled: 4, value: 280_000, remaining: 6), into: &sink) == .applied)
        #expect(sink.fills.map(\.quantity) == [2, 2])
        #expect(sink.fills.map(\.exchangeTime) == [1_800_000_005, 1_800_000_005])
        #expect(book.state(1) == .partiallyFilled)
        #expect(book.needsReconciliationCount == 0 && book.doubtfulCount == 0)
        // The same notice a third time, and KIS still counts 4: it was a repeat, dropped.
        #expect(book.apply(.notice(Make.fill(7, 2, time: 1_800_000_005)), into: &sink) == .doubtful)
        #expect(book.apply(Make.record(7, filled: 4, value: 280_000, remaining: 6), into: &sink) == .applied)
        #expect(sink.filledQuantity == 4 && book.doubtfulCount == 0)
        // A repeat that no further fill could be (the order has no room left) is one without asking.
        _ = book.apply(.notice(Make.fill(7, 6, time: 1_800_000_006)), into: &sink)
        #expect(book.apply(.notice(Make.fill(7, 6, time: 1_800_000_006)), into: &sink) == .unchanged)
    }

    /// A notice held in doubt, then a different fill that completes the order: the held one had no room left, so it
    /// was a repeat, and nothing stays in doubt (nor waits for KIS's count) for shares the order can never get.
    @Test func aHeldFillWithNoRoomLeftIsARepeat() throws {
        var book = OrderBook(capacity: 4)
        var sink = Recorder()
        try book.send(Make.intent(1), into: &sink)
        _ = book.apply(Make.acknowledged(1, 7), into: &sink)
        _ = book.apply(.notice(Make.fill(7, 3, time: 1_800_000_005)), into: &sink)
        #expect(book.apply(.notice(Make.fill(7, 3, time: 1_800_000_005)), into: &sink) == .doubtful)
        #expect(book.doubtfulCount == 1)
        #expect(book.apply(.notice(Make.fill(7, 7, time: 1_800_000_006)), into: &sink) == .applied)
        #expect(book.state(1) == .filled && sink.filledQuantity == 10)
        #expect(book.doubtfulCount == 0)
    }

    /// A buy of 30 sweeps three resting sells of 10 at one price in one second: three identical fill notices. In
    /// every ordering of the answer, the acceptance, the three notices and a periodic reconciliation (KIS's count of
    /// the order's fills, which the engine also asks for at once whenever a fill is held in doubt), the order ends
    /// filled 30 at 70,000, and at no point does the book count more than KIS executed.
    @Test func everyOrderingOfASweepAtOnePriceCountsEachFill() throws {
        let time: UInt32 = 1_800_000_007
        let sweep: [OrderEvent] = [
            Make.acknowledged(1, 8),
            .notice(Make.ack(8, quantity: 30)),
            .notice(Make.fill(8, 10, time: time)),
            .notice(Make.fill(8, 10, time: time)),
            .notice(Make.fill(8, 10, time: time)),
            Make.record(8, quantity: 30, filled: 30, value: 2_100_000, remaining: 0),
        ]
        let count = sweep[5]
        for order in permutations(sweep) {
            var book = OrderBook(capacity: 8, account: Make.account)
            var sink = Recorder()
            try book.send(Make.intent(1, quantity: 30), into: &sink)
            for event in order {
                // What the engine asks KIS for: that order when a fill is held in doubt, the whole day when the book
                // flags an order (a notice arriving after KIS's count already had its fill).
                let before = book.doubtfulCount
                _ = book.apply(event, into: &sink)
                if book.doubtfulCount > before || book.needsReconciliationCount > 0 {
                    _ = book.apply(count, into: &sink)
                }
                #expect(sink.filledQuantity <= 30)
            }
            let final = try #require(book.order(OrderID(rawValue: 1)))
            #expect(final.state == .filled && final.filled == 30 && final.fillValue == 2_100_000)
            #expect(sink.filledQuantity == 30 && sink.filledValue == 2_100_000)
            #expect(sink.fills.allSatisfy { $0.price == 70_000 })
            #expect(book.doubtfulCount == 0 && book.needsReconciliationCount == 0 && book.heldNoticeCount == 0)
        }
    }

    /// Two real fills of 10 at one price in one second and one of their notices delivered twice: three identical
    /// notices, of which KIS counts two. In every ordering (the count answering each doubt as it arises), the book
    /// ends at 20, never passing what KIS executed.
    @Test func everyOrderingOfTwoIdenticalFillsAndARepeatCountsTwo() throws {
        let time: UInt32 = 1_800_000_008
        let arrivals: [OrderEvent] = [
            Make.acknowledged(1, 9),
            .notice(Make.fill(9, 10, time: time)),
            .notice(Make.fill(9, 10, time: time)),
            .notice(Make.fill(9, 10, time: time)),
        ]
        let count = Make.record(9, quantity: 30, filled: 20, value: 1_400_000, remaining: 10)
        for order in permutations(arrivals) {
            var book = OrderBook(capacity: 8)
            var sink = Recorder()
            try book.send(Make.intent(1, quantity: 30), into: &sink)
            for event in order {
                // The engine asks KIS for the order as soon as a fill is held in doubt (a notice held for the REST
                // answer may become one when the answer comes).
                let before = book.doubtfulCount
                _ = book.apply(event, into: &sink)
                if book.doubtfulCount > before { _ = book.apply(count, into: &sink) }
                #expect(sink.filledQuantity <= 20)
            }
            let final = try #require(book.order(OrderID(rawValue: 1)))
            #expect(final.filled == 20 && final.remaining == 10 && final.state == .partiallyFilled)
            #expect(sink.filledQuantity == 20 && sink.filledValue == 1_400_000)
            #expect(book.doubtfulCount == 0)
        }
    }

    @Test func missingNoticesAreFoundByReconciliation() throws {
        var book = OrderBook(capacity: 4)
        var sink = Recorder()
        try book.send(Make.intent(1), into: &sink)
        _ = book.apply(Make.acknowledged(1, 7), into: &sink)
        _ = book.apply(.notice(Make.fill(7, 3, at: 70_000)), into: &sink)
        #expect(book.state(1) == .partiallyFilled)
        // The other 7 were filled at 70 100 while the WebSocket was down: KIS reports 10 at an average of 70 070.
        let outcome = book.apply(Make.record(7, filled: 10, value: 700_700, remaining: 0), into: &sink)
        #expect(outcome == .applied)
        #expect(book.state(1) == .filled)
        #expect(sink.fills.map(\.quantity) == [3, 7])
        #expect(sink.fills.last?.price == 70_100)
        #expect(book.order(OrderID(rawValue: 1))?.fillValue == 700_700)
        // The record again changes nothing more.
        _ = book.apply(Make.record(7, filled: 10, value: 700_700, remaining: 0), into: &sink)
        #expect(sink.fills.count == 2)
    }

    @Test func partialFillsCountDown() throws {
        var book = OrderBook(capacity: 4)
        var sink = Recorder()
        try book.send(Make.intent(1, side: .sell), into: &sink)
        _ = book.apply(Make.acknowledged(1, 7), into: &sink)
        for (i, shares) in [2, 5, 3].enumerated() {
            _ = book.apply(.notice(Make.fill(7, Int32(shares), time: 1_800_000_000 + UInt32(i))), into: &sink)
        }
        #expect(sink.changes.map(\.state) == [.new, .sent, .accepted, .partiallyFilled, .partiallyFilled, .filled])
        #expect(sink.changes.suffix(3).map(\.remaining) == [8, 3, 0])
        #expect(sink.changes.suffix(3).map(\.lastFillQuantity) == [2, 5, 3])
        #expect(sink.fills.allSatisfy { $0.side == .sell && $0.orderNumber == 7 })
    }

    @Test func overfillIsRefused() throws {
        var book = OrderBook(capacity: 4)
        var sink = Recorder()
        try book.send(Make.intent(1), into: &sink)
        _ = book.apply(Make.acknowledged(1, 7), into: &sink)
        _ = book.apply(.notice(Make.fill(7, 8, time: 1)), into: &sink)
        #expect(book.apply(.notice(Make.fill(7, 3, time: 2)), into: &sink) == .refused(.overfill))
        #expect(sink.filledQuantity == 8)
        #expect(book.order(OrderID(rawValue: 1))?.needsReconciliation == true)
        #expect(book.apply(.notice(Make.fill(7, 0, time: 3)), into: &sink) == .refused(.invalidEvent))
    }

    @Test func modifyMovesTheRemainderToItsOwnNumber() throws {
        var book = OrderBook(capacity: 4)
        var sink = Recorder()
        try book.send(Make.intent(1), into: &sink)
        _ = book.apply(Make.acknowledged(1, 7), into: &sink)
        _ = book.apply(.notice(Make.fill(7, 4)), into: &sink)
        let intent = Make.intent(2, quantity: 0, price: 70_100, action: .modify, target: 1)
        let dispatch = try book.submit(intent, into: &sink)
        #expect(dispatch.targetOrderNumber == 7 && dispatch.targetOrganization == 6590)
        _ = book.apply(.written(OrderID(rawValue: 2), at: 2), into: &sink)
        // The modify's notice comes first (held), then its REST ack with its own ODNO.
        #expect(book.apply(.notice(Make.ack(8, original: 7, amend: 1, quantity: 6)), into: &sink) == .held)
        _ = book.apply(Make.acknowledged(2, 8), into: &sink)
        let original = try #require(book.order(OrderID(rawValue: 1)))
        let modify = try #require(book.order(OrderID(rawValue: 2)))
        #expect(original.state == .replaced && original.filled == 4 && original.remaining == 0)
        #expect(modify.state == .accepted && modify.quantity == 6 && modify.remaining == 6 && modify.orderNumber == 8)
        _ = book.apply(.notice(Make.fill(8, 6, at: 70_100)), into: &sink)
        #expect(book.state(2) == .filled)
        #expect(sink.fills.map(\.id) == [OrderID(rawValue: 1), OrderID(rawValue: 2)])
        #expect(book.heldNoticeCount == 0)
    }

    @Test func partialModifyLeavesTheRestWorking() throws {
        var book = OrderBook(capacity: 4)
        var sink = Recorder()
        try book.send(Make.intent(1), into: &sink)
        _ = book.apply(Make.acknowledged(1, 7), into: &sink)
        try book.send(Make.intent(2, quantity: 4, price: 69_900, action: .modify, target: 1), into: &sink)
        _ = book.apply(Make.acknowledged(2, 8), into: &sink)
        #expect(book.order(OrderID(rawValue: 1))?.remaining == 6)
        #expect(book.state(1) == .accepted)
        #expect(book.order(OrderID(rawValue: 2))?.remaining == 4)
    }

    @Test func cancelEndsTheRemainder() throws {
        var book = OrderBook(capacity: 4)
        var sink = Recorder()
        try book.send(Make.intent(1), into: &sink)
        _ = book.apply(Make.acknowledged(1, 7), into: &sink)
        _ = book.apply(.notice(Make.fill(7, 3)), into: &sink)
        try book.send(Make.intent(2, quantity: 0, action: .cancel, target: 1), into: &sink)
        _ = book.apply(Make.acknowledged(2, 8), into: &sink)
        let original = try #require(book.order(OrderID(rawValue: 1)))
        #expect(original.state == .cancelled && original.filled == 3 && original.remaining == 0)
        #expect(book.order(OrderID(rawValue: 2))?.quantity == 7)
        // The cancel's confirmation notice changes nothing more.
        #expect(book.apply(.notice(Make.ack(8, original: 7, amend: 2, quantity: 7)), into: &sink) == .unchanged)
        #expect(book.openOrders().isEmpty)
    }

    /// The exchange filled shares before the cancel reached it; their notices come after the cancel's ack.
    @Test func cancelRacingAFill() throws {
        var book = OrderBook(capacity: 4)
        var sink = Recorder()
        try book.send(Make.intent(1), into: &sink)
        _ = book.apply(Make.acknowledged(1, 7), into: &sink)
        try book.send(Make.intent(2, quantity: 0, action: .cancel, target: 1), into: &sink)
        _ = book.apply(Make.acknowledged(2, 8), into: &sink)
        #expect(book.state(1) == .cancelled)
        #expect(book.apply(.notice(Make.fill(7, 4, time: 1)), into: &sink) == .applied)
        #expect(book.state(1) == .cancelled)
        #expect(book.order(OrderID(rawValue: 1))?.filled == 4)
        #expect(book.order(OrderID(rawValue: 2))?.quantity == 6)
        #expect(book.apply(.notice(Make.fill(7, 6, time: 2)), into: &sink) == .applied)
        #expect(book.state(1) == .filled)
        #expect(book.order(OrderID(rawValue: 2))?.quantity == 0)
        #expect(sink.filledQuantity == 10)
        #expect(book.apply(.notice(Make.fill(7, 1, time: 3)), into: &sink) == .refused(.overfill))
    }

    /// A cancel's REST ack and confirmation, and a fill of the original the exchange executed before the cancel,
    /// in every order (and each notice twice): the fill counts, the rest is cancelled.
    @Test func everyOrderingOfACancelAndARacingFill() throws {
        let arrivals: [OrderEvent] = [
            Make.acknowledged(2, 8), .notice(Make.ack(8, original: 7, amend: 2, quantity: 6)), .notice(Make.fill(7, 4)),
        ]
        for order in permutations(arrivals) {
            for twice in [false, true] {
                var book = OrderBook(capacity: 4)
                var sink = Recorder()
                try book.send(Make.intent(1), into: &sink)
                _ = book.apply(Make.acknowledged(1, 7), into: &sink)
                try book.send(Make.intent(2, quantity: 0, action: .cancel, target: 1), into: &sink)
                for event in twice ? order + order : order { _ = book.apply(event, into: &sink) }
                let original = try #require(book.order(OrderID(rawValue: 1)))
                #expect(original.state == .cancelled && original.filled == 4 && original.remaining == 0)
                #expect(book.order(OrderID(rawValue: 2))?.quantity == 6)
                #expect(sink.filledQuantity == 4)
                #expect(book.heldNoticeCount == 0 && book.openOrders().isEmpty)
            }
        }
    }

    /// A modify's REST ack and confirmation, a fill of the original that raced it, and the fill of the modify at
    /// its new price, in every order: 4 at the old price, 6 at the new, both orders done.
    @Test func everyOrderingOfAModifyAndARacingFill() throws {
        let arrivals: [OrderEvent] = [
            Make.acknowledged(2, 8), .notice(Make.ack(8, original: 7, amend: 1, quantity: 6)),
            .notice(Make.fill(7, 4)), .notice(Make.fill(8, 6, at: 70_100)),
        ]
        for order in permutations(arrivals) {
            var book = OrderBook(capacity: 4)
            var sink = Recorder()
            try book.send(Make.intent(1), into: &sink)
            _ = book.apply(Make.acknowledged(1, 7), into: &sink)
            try book.send(Make.intent(2, quantity: 0, price: 70_100, action: .modify, target: 1), into: &sink)
            for event in order { _ = book.apply(event, into: &sink) }
            let original = try #require(book.order(OrderID(rawValue: 1)))
            let modify = try #require(book.order(OrderID(rawValue: 2)))
            #expect(original.state == .replaced && original.filled == 4 && original.remaining == 0)
            #expect(modify.state == .filled && modify.quantity == 6 && modify.fillValue == 6 * 70_100)
            #expect(sink.filledValue == 4 * 70_000 + 6 * 70_100)
            #expect(book.needsReconciliationCount == 0 && book.heldNoticeCount == 0)
        }
    }

    @Test func amendmentsNeedAWorkingTargetOneAtATime() throws {
        var book = OrderBook(capacity: 4)
        var sink = Recorder()
        try book.send(Make.intent(1), into: &sink)
        #expect(throws: OrderRefusal.targetNotWorking) {
            try book.submit(Make.intent(2, action: .cancel, target: 1), into: &sink)
        }
        #expect(throws: OrderRefusal.unknownOrder) {
            try book.submit(Make.intent(2, action: .cancel, target: 9), into: &sink)
        }
        _ = book.apply(Make.acknowledged(1, 7), into: &sink)
        try book.send(Make.intent(2, quantity: 0, price: 70_100, action: .modify, target: 1), into: &sink)
        #expect(throws: OrderRefusal.targetBusy) {
            try book.submit(Make.intent(3, action: .cancel, target: 1), into: &sink)
        }
        // KIS refuses the modify: the original is free for another.
        _ = book.apply(.refused(OrderID(rawValue: 2), messageCode: PackedASCII(ascii: "APBK0400")), into: &sink)
        #expect(book.state(2) == .rejected)
        #expect(book.order(OrderID(rawValue: 1))?.needsReconciliation == true)
        try book.send(Make.intent(3, quantity: 0, action: .cancel, target: 1), into: &sink)
        #expect(throws: OrderRefusal.duplicateID) { try book.submit(Make.intent(3), into: &sink) }
        #expect(throws: OrderRefusal.invalidIntent) { try book.submit(Make.intent(4, quantity: 0), into: &sink) }
    }

    @Test func rejectedByREST() throws {
        var book = OrderBook(capacity: 4)
        var sink = Recorder()
        try book.send(Make.intent(1), into: &sink)
        let refusal = OrderEvent.refused(OrderID(rawValue: 1), messageCode: PackedASCII(ascii: "APBK0952"))
        let outcome = book.apply(refusal, into: &sink)
        #expect(outcome == .applied)
        #expect(book.state(1) == .rejected)
        #expect(sink.changes.last?.remaining == 0)
        // Nothing awaits a number any more, so an unknown ODNO is not ours.
        #expect(book.apply(.notice(Make.fill(9, 1)), into: &sink) == .foreign)
    }

    @Test func rejectedByNotice() throws {
        var book = OrderBook(capacity: 4)
        var sink = Recorder()
        try book.send(Make.intent(1), into: &sink)
        #expect(book.apply(.notice(Make.ack(7, rejected: true)), into: &sink) == .held)
        _ = book.apply(Make.acknowledged(1, 7), into: &sink)
        #expect(book.state(1) == .rejected)
        #expect(book.order(OrderID(rawValue: 1))?.remaining == 0)
        #expect(book.apply(.notice(Make.ack(7, rejected: true)), into: &sink) == .unchanged)
    }

    @Test func modifyRejectedByNoticeIsUndone() throws {
        var book = OrderBook(capacity: 4)
        var sink = Recorder()
        try book.send(Make.intent(1), into: &sink)
        _ = book.apply(Make.acknowledged(1, 7), into: &sink)
        try book.send(Make.intent(2, quantity: 0, price: 70_100, action: .modify, target: 1), into: &sink)
        _ = book.apply(Make.acknowledged(2, 8), into: &sink)
        #expect(book.state(1) == .replaced)
        _ = book.apply(.notice(Make.ack(8, original: 7, amend: 1, rejected: true)), into: &sink)
        #expect(book.state(1) == .accepted)
        #expect(book.order(OrderID(rawValue: 1))?.remaining == 10)
        #expect(book.state(2) == .rejected)
        #expect(book.order(OrderID(rawValue: 2))?.remaining == 0)
    }

    @Test func iocRemainderCancelledByKIS() throws {
        var book = OrderBook(capacity: 4)
        var sink = Recorder()
        try book.send(Make.intent(1), into: &sink)
        _ = book.apply(Make.acknowledged(1, 7), into: &sink)
        _ = book.apply(.notice(Make.fill(7, 4)), into: &sink)
        _ = book.apply(.notice(Make.ack(7, quantity: 6, acceptCode: 3)), into: &sink)
        #expect(book.state(1) == .cancelled)
        #expect(book.order(OrderID(rawValue: 1))?.filled == 4)
    }

    @Test func lostAnswerFoundByReconciliation() throws {
        var book = OrderBook(capacity: 4)
        var sink = Recorder()
        try book.send(Make.intent(1), into: &sink)
        _ = book.apply(.lost(OrderID(rawValue: 1)), into: &sink)
        #expect(book.state(1) == .unknown)
        #expect(book.ordersNeedingReconciliation().map(\.id) == [OrderID(rawValue: 1)])
        // A fill notice of it came while we did not know its number.
        #expect(book.apply(.notice(Make.fill(7, 2)), into: &sink) == .held)
        // KIS lists it: 5 filled. The held notice's 2 come first, the record adds the 3 the notices missed.
        #expect(book.apply(Make.record(7, filled: 5, value: 350_000, remaining: 5), into: &sink) == .applied)
        let order = try #require(book.order(OrderID(rawValue: 1)))
        #expect(order.state == .partiallyFilled && order.orderNumber == 7 && order.filled == 5 && order.remaining == 5)
        #expect(sink.fills.map(\.quantity) == [2, 3])
        #expect(book.needsReconciliationCount == 0)
        #expect(book.heldNoticeCount == 0)
    }

    @Test func lostAnswerNotFoundIsNotPlaced() throws {
        var book = OrderBook(capacity: 4)
        var sink = Recorder()
        try book.send(Make.intent(1), into: &sink)
        _ = book.apply(.lost(OrderID(rawValue: 1)), into: &sink)
        // Someone else's order, not the lost one: other price.
        #expect(book.apply(Make.record(9, price: 69_000, filled: 0, value: 0, remaining: 10), into: &sink) == .foreign)
        _ = book.apply(.notPlaced(OrderID(rawValue: 1)), into: &sink)
        #expect(book.state(1) == .notPlaced)
        #expect(book.needsReconciliationCount == 0)
        #expect(book.openOrders().isEmpty)
    }

    @Test func notificationsOfOtherAccountsAreForeign() throws {
        var book = OrderBook(capacity: 4, account: Make.account)
        var sink = Recorder()
        try book.send(Make.intent(1), into: &sink)
        var other = Make.fill(7, 1)
        other.account = 12_345_678_01
        #expect(book.apply(.notice(other), into: &sink) == .foreign)
        #expect(book.heldNoticeCount == 0)
    }

    @Test func heldNoticesOverflowFlagsTheWaitingOrders() throws {
        var book = OrderBook(capacity: 4, heldNotices: 2)
        var sink = Recorder()
        try book.send(Make.intent(1), into: &sink)
        #expect(book.apply(.notice(Make.fill(7, 1, time: 1)), into: &sink) == .held)
        #expect(book.apply(.notice(Make.fill(7, 1, time: 2)), into: &sink) == .held)
        #expect(book.apply(.notice(Make.fill(7, 1, time: 3)), into: &sink) == .refused(.heldNoticesFull))
        #expect(book.order(OrderID(rawValue: 1))?.needsReconciliation == true)
    }

    @Test func capacityIsATypedRefusalAndTerminalSlotsAreReused() throws {
        var book = OrderBook(capacity: 2)
        var sink = Recorder()
        try book.send(Make.intent(1), into: &sink)
        try book.send(Make.intent(2), into: &sink)
        #expect(throws: OrderRefusal.full) { try book.submit(Make.intent(3), into: &sink) }
        _ = book.apply(.refused(OrderID(rawValue: 1), messageCode: PackedASCII(ascii: "APBK0952")), into: &sink)
        try book.send(Make.intent(3), into: &sink)
        #expect(book.order(OrderID(rawValue: 1)) == nil)
        #expect(book.state(3) == .sent)
        #expect(book.apply(.written(OrderID(rawValue: 1), at: 0), into: &sink) == .refused(.unknownOrder))
    }

    @Test func conflictingNumbersAreRefused() throws {
        var book = OrderBook(capacity: 4)
        var sink = Recorder()
        try book.send(Make.intent(1), into: &sink)
        try book.send(Make.intent(2), into: &sink)
        _ = book.apply(Make.acknowledged(1, 7), into: &sink)
        #expect(book.apply(Make.acknowledged(1, 7), into: &sink) == .unchanged)
        #expect(book.apply(Make.acknowledged(1, 8), into: &sink) == .refused(.conflictingNumber))
        #expect(book.apply(Make.acknowledged(2, 7), into: &sink) == .refused(.conflictingNumber))
    }

    @Test func restoreRebuildsTheBook() throws {
        var book = OrderBook(capacity: 4)
        var sink = Recorder()
        try book.send(Make.intent(1), into: &sink)
        _ = book.apply(Make.acknowledged(1, 7), into: &sink)
        _ = book.apply(.notice(Make.fill(7, 4)), into: &sink)
        var copy = OrderBook(capacity: 4)
        for order in book.openOrders() { try copy.restore(order) }
        #expect(copy.openOrders() == book.openOrders())
        _ = copy.apply(.notice(Make.fill(7, 6, time: 5)), into: &sink)
        #expect(copy.state(1) == .filled)
    }

    @Test func capacityZeroIsAProgrammingError() async {
        await #expect(processExitsWith: .failure) {
            _ = OrderBook(capacity: 0)
        }
    }

    @Test func noRoomForHeldNoticesIsAProgrammingError() async {
        await #expect(processExitsWith: .failure) {
            _ = OrderBook(capacity: 4, heldNotices: 0)
        }
    }
}

// libFuzzer target for what the order path reads out of a KIS REST answer's body: the envelope (`rt_cd`, or OAuth's
// `error_code`), the order ack, today's orders and what the reconciliation makes of them. Built and run by
// scripts/fuzz (with -enable-testing, for the internal readers).
//
// Input: 1 byte choosing the HTTP status (200, 500, 403, 404), then the body.
//
// Oracles, besides traps and ASan/LSan reports:
//   - JSON: a body that parses writes out to bytes that parse to the same bytes again;
//   - the envelope: success exactly when `rt_cd` is "0", or when neither `rt_cd` nor `error_code` is there and the
//     status is 2xx; a refusal carries the answer's own code; anything else is a typed error;
//   - an accepted order answer has an order number, the one the JSON reading finds;
//   - each row of today's orders that reads as an order goes through the order book's reconciliation against a
//     book holding numbered, lost and amended orders without breaking its invariants (TICK_INTERNAL_CHECKS).
import JSON
import Orders
import Recovery
import TickCore

@testable import KIS

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOrderAnswer(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size >= 1 else { return 0 }
    let input = UnsafeBufferPointer(start: data, count: size)
    let status = [200, 500, 403, 404][Int(input[0] & 3)]
    let body = ArraySlice(input[1...])

    let parsed = JSON(parsing: body)
    if let parsed {
        let written = parsed.bytes
        guard let again = JSON(parsing: written) else { preconditionFailure("JSON wrote what it cannot read") }
        precondition(again.bytes == written, "JSON's writing is not stable")
    }

    let json: JSON
    do {
        json = try Envelope.open(status: status, body: body, trID: "VTTC0012U")
    } catch {
        switch error {
        case .rejected(let failure):
            let code = parsed?["error_code"]?.text ?? parsed?["msg_cd"]?.text ?? ""
            precondition(parsed != nil && failure.msgCd == code, "refusal \(failure) without its code")
            precondition(parsed?["error_code"]?.text != nil || parsed?["rt_cd"]?.text != "0")
        case .malformedResponse:
            precondition(
                parsed == nil
                    || (parsed?["rt_cd"]?.text == nil && parsed?["error_code"]?.text == nil
                        && !(200..<300).contains(status)),
                "a readable answer called malformed"
            )
        default:
            preconditionFailure("the envelope failed with \(error)")
        }
        return 0
    }
    precondition(json["error_code"]?.text == nil)
    precondition(json["rt_cd"]?.text == "0" || (json["rt_cd"]?.text == nil && (200..<300).contains(status)))

    // The ack is read from the bytes without JSON; where it accepts, the JSON reading must say the same.
    if let ack = try? OrderAck.read(status: status, body: body, trID: "VTTC0012U") {
        precondition(ack.orderNumber != 0, "an accepted order without a number")
        // Compared where the reading is unambiguous: one ODNO in the body, its value plain digits.
        let mentions = body.indices.dropLast(3).count { i in
            zip(body[i..<i + 4], "odno".utf8).allSatisfy { $0 | 0x20 == $1 }
        }
        if mentions == 1, let number = (json["output"]?["ODNO"] ?? json["output"]?["odno"])?.text,
            (1...19).contains(number.utf8.count), number.utf8.allSatisfy({ (0x30...0x39).contains($0) })
        {
            precondition(UInt64(number) == ack.orderNumber, "ODNO \(number) read as \(ack.orderNumber)")
        }
    }
    var book = SampleBook()
    for row in json.rows("output1") + json.rows("output") {
        let record = OrderRecord(row)
        guard let order = BrokerOrder(record) else { continue }
        book.reconcile(order)
    }
    return 0
}

/// A book as an engine has it mid-session: a numbered buy partly filled, a numbered sell with a modify in flight, and
/// an order whose answer was lost.
struct SampleBook {
    var book = OrderBook(capacity: 32)
    var sink = Discard()

    init() {
        let code = SymbolCode("005930")!
        func intent(
            _ id: UInt32,
            _ side: OrderSide,
            action: OrderIntent.Action = .new,
            target: UInt32 = 0
        )
            -> OrderIntent
        {
            OrderIntent(
                id: OrderID(rawValue: id),
                code: code,
                side: side,
                quantity: 10,
                price: 70_000,
                purpose: .entry,
                action: action,
                target: OrderID(rawValue: target == 0 ? id : target),
                decidedAt: 0
            )
        }
        _ = try? self.book.submit(intent(1, .buy), into: &self.sink)
        _ = self.book.apply(.acknowledged(OrderID(rawValue: 1), orderNumber: 1, organization: 950), into: &self.sink)
        _ = try? self.book.submit(intent(2, .sell), into: &self.sink)
        _ = self.book.apply(.acknowledged(OrderID(rawValue: 2), orderNumber: 2, organization: 950), into: &self.sink)
        _ = try? self.book.submit(intent(3, .sell, action: .modify, target: 2), into: &self.sink)
        _ = try? self.book.submit(intent(4, .buy), into: &self.sink)
        _ = self.book.apply(.written(OrderID(rawValue: 4), at: 1), into: &self.sink)
        _ = self.book.apply(.lost(OrderID(rawValue: 4)), into: &self.sink)
    }

    mutating func reconcile(_ order: BrokerOrder) {
        _ = self.book.apply(.reconciled(order, localTs: 0), into: &self.sink)
    }
}

struct Discard: OrderSink {
    mutating func orderChanged(_ change: OrderChange) {}
    mutating func filled(_ fill: Fill) {}
}

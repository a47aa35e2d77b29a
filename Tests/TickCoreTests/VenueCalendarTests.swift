import Testing
import TickCore

@Suite struct VenueCalendarTests {
    static func at(_ hour: Int64, _ minute: Int64, _ second: Int64 = 0) -> Int64 { hour * 3600 + minute * 60 + second }

    /// The default KRX half is the timetable the simulator and risk always used, second by second.
    @Test func standardKRXIsTheKRXTimetable() {
        for second in Int64(0)..<86_400 {
            let phase = VenueCalendar.standard.phase(.krx, secondOfDay: second)
            guard phase == KRX.phase(secondOfDay: second) else {
                Issue.record("at second \(second): \(phase) against \(KRX.phase(secondOfDay: second))")
                return
            }
        }
    }

    @Test(arguments: [
        (at(7, 59, 59), KRX.Phase.closed), (at(8, 0), .continuous), (at(8, 49, 59), .continuous),
        // Halted through KRX's opening auction, until just after its opening print.
        (at(8, 50), .closed), (at(9, 0), .closed), (at(9, 0, 29), .closed), (at(9, 0, 30), .continuous),
        (at(15, 19, 59), .continuous),
        // Halted through KRX's closing auction.
        (at(15, 20), .closed), (at(15, 29, 59), .closed), (at(15, 30), .continuous), (at(19, 59, 59), .continuous),
        (at(20, 0), .closed),
    ])
    func standardNXTHours(second: Int64, phase: KRX.Phase) {
        #expect(VenueCalendar.standard.phase(.nxt, secondOfDay: second) == phase)
        #expect(VenueCalendar.standard.phase(route: .nxt, secondOfDay: second) == phase)
    }

    /// The combined market (and a SOR order) trades when either venue does, with KRX's auctions as KRX has them.
    @Test(arguments: [
        (at(8, 10), KRX.Phase.continuous), (at(8, 40), .preOpen), (at(8, 55), .preOpen), (at(12, 0), .continuous),
        (at(15, 25), .closingAuction), (at(17, 0), .continuous), (at(20, 30), .closed),
    ])
    func combinedAndSOR(second: Int64, phase: KRX.Phase) {
        #expect(VenueCalendar.standard.phase(.combined, secondOfDay: second) == phase)
        #expect(VenueCalendar.standard.phase(route: .sor, secondOfDay: second) == phase)
    }

    @Test func textRoundTrips() throws {
        let calendar = VenueCalendar.standard
        #expect(calendar.text(.krx) == "08:30-09:00 opening-auction, 09:00-15:20, 15:20-15:30 closing-auction")
        #expect(calendar.text(.nxt) == "08:00-08:50, 09:00:30-15:20, 15:30-20:00")
        let read = try VenueCalendar(
            krx: VenueCalendar.windows(parsing: calendar.text(.krx), venue: .krx),
            nxt: VenueCalendar.windows(parsing: calendar.text(.nxt), venue: .nxt)
        )
        #expect(read == calendar)
    }

    /// KRX's announced 2026 extension is a settings change.
    @Test func aLongerKRXDayIsData() throws {
        let krx = try VenueCalendar.windows(
            parsing: "07:00-08:00,08:30-09:00 opening-auction,09:00-15:20,15:20-15:30 closing-auction,16:00-20:00",
            venue: .krx
        )
        let calendar = try VenueCalendar(krx: krx, nxt: VenueCalendar.standard.nxt)
        #expect(calendar.phase(.krx, secondOfDay: Self.at(7, 30)) == .continuous)
        #expect(calendar.phase(.krx, secondOfDay: Self.at(8, 15)) == .closed)
        #expect(calendar.phase(.krx, secondOfDay: Self.at(17, 0)) == .continuous)
        #expect(calendar.phase(.krx, secondOfDay: Self.at(20, 0)) == .closed)
    }

    @Test(arguments: [
        ("08:00-8:50", VenueCalendarError.unreadable(venue: .nxt, window: "08:00-8:50")),
        ("08:00-08:50 auction", .unreadable(venue: .nxt, window: "08:00-08:50 auction")),
        ("08:00", .unreadable(venue: .nxt, window: "08:00")),
        ("08:60-09:00", .unreadable(venue: .nxt, window: "08:60-09:00")),
        ("09:00-08:00", .badWindows(venue: .nxt)),
        ("08:00-09:00, 08:30-10:00", .badWindows(venue: .nxt)),
        ("15:00-24:01", .unreadable(venue: .nxt, window: "15:00-24:01")),
    ])
    func badWindowsAreNamed(text: String, error: VenueCalendarError) {
        #expect(throws: error) { try VenueCalendar.windows(parsing: text, venue: .nxt) }
    }

    @Test func anEmptyTextIsAVenueClosedAllDay() throws {
        let closed = try VenueCalendar.windows(parsing: "", venue: .nxt)
        let calendar = try VenueCalendar(krx: VenueCalendar.standard.krx, nxt: closed)
        #expect((0..<86_400).allSatisfy { calendar.phase(.nxt, secondOfDay: Int64($0)) == .closed })
    }

    /// KRX-only routes everything to KRX as before; `nxt` and `combined` go to NXT only when KRX is not in its
    /// continuous session and NXT is; SOR is SOR.
    @Test func venueModesRoute() {
        let phases: [KRX.Phase] = [.closed, .preOpen, .continuous, .closingAuction]
        for krx in phases {
            for nxt in phases {
                #expect(VenueMode.krx.route(krx: krx, nxt: nxt) == .krx)
                #expect(VenueMode.sor.route(krx: krx, nxt: nxt) == .sor)
                let expected: OrderRoute = krx != .continuous && nxt == .continuous ? .nxt : .krx
                #expect(VenueMode.nxt.route(krx: krx, nxt: nxt) == expected)
                #expect(VenueMode.combined.route(krx: krx, nxt: nxt) == expected)
            }
        }
        #expect(VenueMode.krx.feeds == [.krx])
        #expect(VenueMode.nxt.feeds == [.krx, .nxt])
        #expect(VenueMode.combined.feeds == [.combined])
    }
}

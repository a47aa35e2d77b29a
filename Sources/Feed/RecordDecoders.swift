import TickCore

/// Field layouts of the TRs we decode (docs/kis-protocol.md §6). Each decoder reads the documented fields of
/// one record that it keeps, by index; the others, and whatever KIS appended after them, are never read, so a wider
/// record (47-field trades, 62-field books) decodes the same as the documented width.
enum RecordLayout {
    /// H0STCNT0 / H0NXCNT0 / H0UNCNT0.
    static let tradeFields = 46
    /// H0STASP0 / H0NXASP0 / H0UNASP0 (the NXT and combined books append mid-point fields after these).
    static let bookFields = 59
    /// H0STCNI0 / H0STCNI9, the 2025 layout.
    static let noticeFields = 26
    /// H0STMKO0 / H0NXMKO0 / H0UNMKO0: ten in KIS's older list, eleven with EXCH_CLS_CODE in the current one.
    static let statusFields = 10

    @inline(__always)
    static func decodeTrade<R: RecordReader>(
        _ bytes: RawSpan,
        _ reader: inout R,
        localTs: Int64,
        venue: Venue,
        clock: inout ExchangeClock
    ) -> Trade {
        // A local copy: a reader whose address never escapes is kept in registers for the whole record.
        var scan = reader
        defer { reader = scan }
        var t = Trade()
        t.localTs = localTs
        t.venue = venue
        t.code = SymbolCode(rawValue: scan.packed(bytes, 0))  // 0 MKSC_SHRN_ISCD
        let time = scan.unsigned(bytes, 1)  // 1 STCK_CNTG_HOUR
        t.price = scan.uint32(bytes, 2)  // 2 STCK_PRPR
        t.signCode = scan.code(bytes, 3)  // 3 PRDY_VRSS_SIGN
        t.change = scan.int32(bytes, 4)  // 4 PRDY_VRSS
        // 5 PRDY_CTRT: change ÷ previous close
        t.vwap = scan.hundredths32(bytes, 6)  // 6 WGHN_AVRG_STCK_PRC
        t.open = scan.uint32(bytes, 7)  // 7 STCK_OPRC
        t.high = scan.uint32(bytes, 8)  // 8 STCK_HGPR
        t.low = scan.uint32(bytes, 9)  // 9 STCK_LWPR
        t.askPrice = scan.uint32(bytes, 10)  // 10 ASKP1
        t.bidPrice = scan.uint32(bytes, 11)  // 11 BIDP1
        t.volume = scan.uint32(bytes, 12)  // 12 CNTG_VOL
        t.cumulativeVolume = scan.unsigned(bytes, 13)  // 13 ACML_VOL
        t.cumulativeValue = scan.unsigned(bytes, 14)  // 14 ACML_TR_PBMN
        t.sellInitiatedCount = scan.uint32(bytes, 15)  // 15 SELN_CNTG_CSNU
        t.buyInitiatedCount = scan.uint32(bytes, 16)  // 16 SHNU_CNTG_CSNU
        // 17 NTBY_CNTG_CSNU: buy count − sell count
        t.strength = scan.hundredths32(bytes, 18)  // 18 CTTR
        t.sellInitiatedVolume = scan.unsigned(bytes, 19)  // 19 SELN_CNTG_SMTN
        t.buyInitiatedVolume = scan.unsigned(bytes, 20)  // 20 SHNU_CNTG_SMTN
        t.sideCode = scan.code(bytes, 21)  // 21 CCLD_DVSN
        // 22 SHNU_RATE, 23 PRDY_VOL_VRSS_ACML_VOL_RATE, 24…32 open/high/low times and distances: derivable.
        let date = scan.unsigned(bytes, 33)  // 33 BSOP_DATE
        t.sessionCode = UInt16(truncatingIfNeeded: scan.packed(bytes, 34, maxLength: 2))  // 34 NEW_MKOP_CLS_CODE
        t.halted = scan.flag(bytes, 35)  // 35 TRHT_YN
        t.askQuantity = scan.uint32(bytes, 36)  // 36 ASKP_RSQN1
        t.bidQuantity = scan.uint32(bytes, 37)  // 37 BIDP_RSQN1
        t.totalAskQuantity = scan.uint32(bytes, 38)  // 38 TOTAL_ASKP_RSQN
        t.totalBidQuantity = scan.uint32(bytes, 39)  // 39 TOTAL_BIDP_RSQN
        // 40 VOL_TNRT, 41–42 previous day's volume at this time and its ratio
        t.hourClass = UInt8(truncatingIfNeeded: scan.packed(bytes, 43, maxLength: 1))  // 43 HOUR_CLS_CODE
        // 44 MRKT_TRTM_CLS_CODE
        t.viBasePrice = scan.uint32(bytes, 45)  // 45 VI_STND_PRC

        let epoch = clock.epochSeconds(date: date, time: time)
        t.exchangeTime = UInt32(truncatingIfNeeded: epoch ?? 0)
        scan.require(t.code.rawValue != 0, field: 0)
        scan.require(t.price > 0, field: 2)
        // A bad time and a bad date both void the timestamp; name the time when that alone is wrong.
        scan.require(epoch != nil || clock.epochSeconds(date: date, time: 0) == nil, field: 1)
        scan.require(epoch != nil, field: 33)
        return t
    }

    @inline(__always)
    static func decodeBook<R: RecordReader>(
        _ bytes: RawSpan,
        _ reader: inout R,
        localTs: Int64,
        venue: Venue,
        clock: inout ExchangeClock
    ) -> Book {
        // A local copy: a reader whose address never escapes is kept in registers for the whole record.
        var scan = reader
        defer { reader = scan }
        var b = Book()
        b.localTs = localTs
        b.venue = venue
        b.code = SymbolCode(rawValue: scan.packed(bytes, 0))  // 0 MKSC_SHRN_ISCD
        let time = scan.unsigned(bytes, 1)  // 1 BSOP_HOUR
        b.hourClass = UInt8(truncatingIfNeeded: scan.packed(bytes, 2, maxLength: 1))  // 2 HOUR_CLS_CODE
        for level in 0..<10 { b.askPrices[level] = scan.uint32(bytes, 3 + level) }  // 3–12 ASKP1…10
        for level in 0..<10 { b.bidPrices[level] = scan.uint32(bytes, 13 + level) }  // 13–22 BIDP1…10
        for level in 0..<10 { b.askQuantities[level] = scan.uint32(bytes, 23 + level) }  // 23–32 ASKP_RSQN1…10
        for level in 0..<10 { b.bidQuantities[level] = scan.uint32(bytes, 33 + level) }  // 33–42 BIDP_RSQN1…10
        b.totalAskQuantity = scan.uint32(bytes, 43)  // 43 TOTAL_ASKP_RSQN
        b.totalBidQuantity = scan.uint32(bytes, 44)  // 44 TOTAL_BIDP_RSQN
        b.afterHoursAskQuantity = scan.uint32(bytes, 45)  // 45 OVTM_TOTAL_ASKP_RSQN
        b.afterHoursBidQuantity = scan.uint32(bytes, 46)  // 46 OVTM_TOTAL_BIDP_RSQN
        b.expectedPrice = scan.uint32(bytes, 47)  // 47 ANTC_CNPR
        b.expectedQuantity = scan.uint32(bytes, 48)  // 48 ANTC_CNQN
        b.expectedVolume = scan.unsigned(bytes, 49)  // 49 ANTC_VOL
        b.expectedChange = scan.int32(bytes, 50)  // 50 ANTC_CNTG_VRSS
        b.expectedSignCode = scan.code(bytes, 51)  // 51 ANTC_CNTG_VRSS_SIGN
        b.expectedChangeRate = scan.hundredths32(bytes, 52)  // 52 ANTC_CNTG_PRDY_CTRT
        b.cumulativeVolume = scan.unsigned(bytes, 53)  // 53 ACML_VOL
        b.totalAskQuantityChange = scan.int32(bytes, 54)  // 54 TOTAL_ASKP_RSQN_ICDC
        b.totalBidQuantityChange = scan.int32(bytes, 55)  // 55 TOTAL_BIDP_RSQN_ICDC
        // 56–57 after-hours total changes, 58 STCK_DEAL_CLS_CODE (withdrawn per the portal), then KIS's additions.

        let exchange = clock.epochSeconds(time: time, localTs: localTs)
        b.exchangeTime = UInt32(truncatingIfNeeded: exchange ?? 0)
        scan.require(b.code.rawValue != 0, field: 0)
        scan.require(exchange != nil, field: 1)
        return b
    }

    @inline(__always)
    static func decodeNotice<R: RecordReader>(
        _ bytes: RawSpan,
        _ reader: inout R,
        localTs: Int64,
        clock: inout ExchangeClock
    ) -> Notice {
        // A local copy: a reader whose address never escapes is kept in registers for the whole record.
        var scan = reader
        defer { reader = scan }
        var n = Notice()
        n.localTs = localTs
        // 0 CUST_ID: the HTS id the subscription was made with
        n.account = UInt64(bitPattern: scan.unsigned(bytes, 1))  // 1 ACNT_NO
        n.orderNumber = UInt64(bitPattern: scan.unsigned(bytes, 2))  // 2 ODER_NO
        n.originalOrderNumber = UInt64(bitPattern: scan.unsigned(bytes, 3))  // 3 OODER_NO
        n.sideCode = scan.code(bytes, 4)  // 4 SELN_BYOV_CLS
        n.amendCode = scan.code(bytes, 5)  // 5 RCTF_CLS
        n.orderType = scan.code(bytes, 6)  // 6 ODER_KIND
        n.conditionCode = scan.code(bytes, 7)  // 7 ODER_COND
        n.code = SymbolCode(rawValue: scan.packed(bytes, 8))  // 8 STCK_SHRN_ISCD
        n.quantity = scan.uint32(bytes, 9)  // 9 CNTG_QTY
        n.price = scan.uint32(bytes, 10)  // 10 CNTG_UNPR
        let time = scan.unsigned(bytes, 11)  // 11 STCK_CNTG_HOUR
        let refused = scan.code(bytes, 12)  // 12 RFUS_YN
        let filled = scan.code(bytes, 13)  // 13 CNTG_YN
        n.acceptCode = scan.code(bytes, 14)  // 14 ACPT_YN
        n.branch = UInt32(truncatingIfNeeded: scan.unsigned(bytes, 15))  // 15 BRNC_NO
        n.orderQuantity = scan.uint32(bytes, 16)  // 16 ODER_QTY
        // 17 ACNT_NAME
        n.stopPrice = scan.uint32(bytes, 18)  // 18 ORD_COND_PRC
        n.exchangeCode = scan.code(bytes, 19)  // 19 ORD_EXG_GB
        // 20 POPUP_YN, 21 FILLER, 22 CRDT_CLS, 23 CRDT_LOAN_DATE, 24 CNTG_ISNM40
        n.orderPrice = scan.uint32(bytes, 25)  // 25 ODER_PRC

        n.rejected = refused == 1
        n.isFill = filled == 2
        let exchange = clock.epochSeconds(time: time, localTs: localTs)
        n.exchangeTime = UInt32(truncatingIfNeeded: exchange ?? 0)
        scan.require(n.orderNumber != 0, field: 2)
        scan.require(n.code.rawValue != 0, field: 8)
        scan.require(exchange != nil, field: 11)
        scan.require(refused <= 1, field: 12)
        scan.require(filled == 1 || filled == 2, field: 13)
        return n
    }

    /// `width` is the record's field count, so EXCH_CLS_CODE (field 10) is read only when the record has it.
    @inline(__always)
    static func decodeStatus<R: RecordReader>(
        _ bytes: RawSpan,
        _ reader: inout R,
        width: Int,
        localTs: Int64,
        venue: Venue
    ) -> MarketStatus {
        // A local copy: a reader whose address never escapes is kept in registers for the whole record.
        var scan = reader
        defer { reader = scan }
        var s = MarketStatus()
        s.localTs = localTs
        s.venue = venue
        s.code = SymbolCode(rawValue: scan.packed(bytes, 0))  // 0 MKSC_SHRN_ISCD
        s.halted = scan.flag(bytes, 1)  // 1 TRHT_YN
        // 2 TR_SUSP_REAS_CNTT: the halt reason, free text
        s.sessionClass = UInt32(truncatingIfNeeded: scan.packed(bytes, 3, maxLength: 4))  // 3 MKOP_CLS_CODE
        // 4 ANTC_MKOP_CLS_CODE
        s.expectedSessionClass = UInt32(truncatingIfNeeded: scan.packed(bytes, 4, maxLength: 4))
        s.extensionClass = UInt8(truncatingIfNeeded: scan.packed(bytes, 5, maxLength: 1))  // 5 MRKT_TRTM_CLS_CODE
        s.allocationClass = UInt32(truncatingIfNeeded: scan.packed(bytes, 6, maxLength: 4))  // 6 DIVI_APP_CLS_CODE
        s.issueStatus = UInt32(truncatingIfNeeded: scan.packed(bytes, 7, maxLength: 4))  // 7 ISCD_STAT_CLS_CODE
        s.viClass = UInt8(truncatingIfNeeded: scan.packed(bytes, 8, maxLength: 1))  // 8 VI_CLS_CODE
        s.afterHoursVIClass = UInt8(truncatingIfNeeded: scan.packed(bytes, 9, maxLength: 1))  // 9 OVTM_VI_CLS_CODE
        if width > 10 {
            s.exchangeClass = UInt8(truncatingIfNeeded: scan.packed(bytes, 10, maxLength: 1))  // 10 EXCH_CLS_CODE
        }
        scan.require(s.code.rawValue != 0, field: 0)
        return s
    }
}

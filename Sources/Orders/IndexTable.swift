/// A fixed-capacity map from nonzero `UInt64` keys to slot numbers: open addressing with linear probing and
/// deletion by backward shift, at most half full, so it never rehashes and never allocates after `init`.
///
/// Keys are ODNOs, order ids + 1 and packed symbol codes: integers, never Strings.
struct IndexTable {
    private var keys: [UInt64]
    private var values: [Int32]
    private let mask: Int
    private let shift: UInt64
    /// The most keys it accepts.
    let capacity: Int
    private(set) var count = 0

    init(capacity: Int) {
        precondition(capacity > 0 && capacity <= 1 << 24, "IndexTable capacity \(capacity) is out of 1...16M")
        var size = 4
        while size < capacity * 2 { size <<= 1 }
        self.keys = Array(repeating: 0, count: size)
        self.values = Array(repeating: -1, count: size)
        self.mask = size - 1
        self.shift = UInt64(64 - size.trailingZeroBitCount)
        self.capacity = capacity
    }

    /// Fibonacci hashing: consecutive keys (ODNOs, ids) spread over the table.
    private func home(_ key: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> self.shift)
    }

    /// - Complexity: O(1) expected.
    func find(_ key: UInt64) -> Int? {
        assert(key != 0, "0 is the empty marker")
        var i = self.home(key)
        while true {
            let k = self.keys[i]
            if k == key { return Int(self.values[i]) }
            if k == 0 { return nil }
            i = (i + 1) & self.mask
        }
    }

    /// Sets `key` to `value`; false when the table is at capacity and `key` is new.
    /// - Complexity: O(1) expected.
    mutating func insert(_ key: UInt64, _ value: Int) -> Bool {
        assert(key != 0, "0 is the empty marker")
        var i = self.home(key)
        while true {
            let k = self.keys[i]
            if k == key {
                self.values[i] = Int32(value)
                return true
            }
            if k == 0 { break }
            i = (i + 1) & self.mask
        }
        guard self.count < self.capacity else { return false }
        self.keys[i] = key
        self.values[i] = Int32(value)
        self.count += 1
        return true
    }

    /// - Complexity: O(1) expected.
    mutating func remove(_ key: UInt64) {
        var i = self.home(key)
        while self.keys[i] != key {
            if self.keys[i] == 0 { return }
            i = (i + 1) & self.mask
        }
        // Backward shift: pull later members of the probe run into the hole, so lookups never need tombstones.
        var hole = i
        var j = i
        while true {
            j = (j + 1) & self.mask
            let k = self.keys[j]
            if k == 0 { break }
            let h = self.home(k)
            // Move k only if its home is not in the cyclic range (hole, j].
            let inRange = hole <= j ? (h > hole && h <= j) : (h > hole || h <= j)
            if !inRange {
                self.keys[hole] = k
                self.values[hole] = self.values[j]
                hole = j
            }
        }
        self.keys[hole] = 0
        self.values[hole] = -1
        self.count -= 1
    }
}

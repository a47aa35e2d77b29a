#include "CByteScan.h"

#if defined(__x86_64__) && defined(__linux__) && (defined(__clang__) || defined(__GNUC__))
#define KISTICK_SPLIT_DISPATCH 1
#include <immintrin.h>
#endif

/// The bitmap of one block, or of the last n - i (< 64) bytes, low bit first; `match` is the 64-byte compare.
#define KISTICK_BLOCK_BITS(match, p, n, i, byte)                                                                   \
    ((i) + 64 <= (n)  ? match((p) + (i), (byte))                                                                   \
     : (n) >= 64      ? match((p) + (n) - 64, (byte)) >> (64 - ((n) - (i)))                                        \
                      : kistick_bits_slowly((p) + (i), (n) - (i), (byte)))

/// Bit j set when p[j] == byte, for the m < 64 bytes at p: a payload shorter than one block.
static uint64_t kistick_bits_slowly(const uint8_t *p, long m, uint8_t byte) {
    uint64_t bits = 0;
    for (long j = 0; j < m; j++) {
        bits |= (uint64_t)(p[j] == byte) << j;
    }
    return bits;
}

/// The portable path: one branch per separator.
static long kistick_split_baseline(const uint8_t *p, long n, uint8_t byte, uint32_t first, uint32_t *offsets) {
    long count = 0;
    for (long i = 0; i < n; i += 64) {
        uint64_t bits = KISTICK_BLOCK_BITS(kistick_match64, p, n, i, byte);
        while (bits != 0) {
            offsets[count++] = first + (uint32_t)i + (uint32_t)__builtin_ctzll(bits);
            bits &= bits - 1;
        }
    }
    return count;
}

#if KISTICK_SPLIT_DISPATCH
/// kistick_match64 in two 32-byte compares.
__attribute__((target("avx2"), always_inline)) static inline uint64_t kistick_match64_avx2(
    const uint8_t *p, uint8_t byte) {
    const __m256i needle = _mm256_set1_epi8((char)byte);
    const __m256i low = _mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)p), needle);
    const __m256i high = _mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)(p + 32)), needle);
    return (uint64_t)(uint32_t)_mm256_movemask_epi8(low) | ((uint64_t)(uint32_t)_mm256_movemask_epi8(high) << 32);
}

/// Four offsets per step whatever the bitmap holds, and `count` moved by its population count: no branch per
/// separator, only one per four. A step past the last set bit writes `base` + 64 (tzcnt of 0 is 64, defined for
/// the instruction, unlike __builtin_ctzll) into entries at or after the block's last separator's, never read.
///
/// Proof of the bound: a block with c separators writes entries count ..< count + 4⌈c/4⌉ <= count + c + 3, and
/// count + c, the count after the block, is at most the bytes scanned so far, <= n; so every write is below
/// n + KISTICK_SPLIT_SLACK.
__attribute__((target("avx2,bmi,popcnt"))) static long kistick_split_avx2(
    const uint8_t *p, long n, uint8_t byte, uint32_t first, uint32_t *offsets) {
    long count = 0;
    for (long i = 0; i < n; i += 64) {
        uint64_t bits = KISTICK_BLOCK_BITS(kistick_match64_avx2, p, n, i, byte);
        const uint32_t base = first + (uint32_t)i;
        const long found = _mm_popcnt_u64(bits);
        uint32_t *out = offsets + count;
        for (long written = 0; written < found; written += 4) {
            out[written + 0] = base + (uint32_t)_tzcnt_u64(bits);
            bits = _blsr_u64(bits);
            out[written + 1] = base + (uint32_t)_tzcnt_u64(bits);
            bits = _blsr_u64(bits);
            out[written + 2] = base + (uint32_t)_tzcnt_u64(bits);
            bits = _blsr_u64(bits);
            out[written + 3] = base + (uint32_t)_tzcnt_u64(bits);
            bits = _blsr_u64(bits);
        }
        count += found;
    }
    return count;
}

typedef long (*kistick_split_fn)(const uint8_t *, long, uint8_t, uint32_t, uint32_t *);

/// Runs once, when the dynamic linker binds kistick_split (an ELF ifunc): every later call goes straight to the
/// chosen path.
static kistick_split_fn kistick_split_resolve(void) {
    __builtin_cpu_init();
    const int fast =
        __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi") && __builtin_cpu_supports("popcnt");
    return fast ? kistick_split_avx2 : kistick_split_baseline;
}

long kistick_split(const uint8_t *p, long n, uint8_t byte, uint32_t first, uint32_t *offsets)
    __attribute__((ifunc("kistick_split_resolve")));
#else
long kistick_split(const uint8_t *p, long n, uint8_t byte, uint32_t first, uint32_t *offsets) {
    return kistick_split_baseline(p, n, byte, first, offsets);
}
#endif

#pragma once
#include <stdint.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/// Bit i is set when p[i] == byte, for the 64 bytes at p, all of which must be readable.
///
/// Swift's SIMD types have no byte-mask extraction (SSE2 `pmovmskb`), which turns 16 comparisons into 16 bits in
/// one instruction; this is the whole reason for this C target. Other architectures take the portable loop.
static inline uint64_t kistick_match64(const uint8_t *p, uint8_t byte) {
#if defined(__SSE2__)
    const __m128i needle = _mm_set1_epi8((char)byte);
    const uint64_t m0 = (uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(p + 0)), needle));
    const uint64_t m1 = (uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(p + 16)), needle));
    const uint64_t m2 = (uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(p + 32)), needle));
    const uint64_t m3 = (uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(p + 48)), needle));
    return m0 | (m1 << 16) | (m2 << 32) | (m3 << 48);
#else
    uint64_t mask = 0;
    for (int i = 0; i < 64; i++) {
        mask |= (uint64_t)(p[i] == byte) << i;
    }
    return mask;
#endif
}

/// Asks for the cache line at p in a writable state ahead of a store, so the store does not wait for it: Swift has
/// no prefetch.
static inline void kistick_prefetch_for_write(const void *p) {
    __builtin_prefetch(p, 1, 3);
}

/// Entries past the last separator that kistick_split may write (and later overwrite or leave): `offsets` must have
/// room for n + KISTICK_SPLIT_SLACK.
#define KISTICK_SPLIT_SLACK 3

/// Writes the offset (`first` + i) of every byte p[i] equal to `byte`, of the n at p, to `offsets`, in order, and
/// returns how many there are; `offsets` must have room for n + KISTICK_SPLIT_SLACK entries.
///
/// Each 64-byte block becomes a bitmap word (one bit per byte), and each set bit an offset through count-trailing-
/// zeros; the last, partial block is the 64 bytes that end at p + n, shifted, or bytes one by one if n < 64. On an
/// x86-64 with AVX2, BMI1 and POPCNT (chosen once, when the program loads) the block takes two 32-byte compares and
/// the offsets are written four at a time with no branch per separator; elsewhere, SSE2 and one branch per
/// separator. Defined in CByteScan.c.
long kistick_split(const uint8_t *p, long n, uint8_t byte, uint32_t first, uint32_t *offsets);

/// The top n bytes of a 64-bit word set, for n in 0...8 (any n reads inside the table; above 8 means nothing).
///
/// A table because no single shift covers all nine: a 64-bit shift by 64 is undefined in C and wraps to 0 in Swift.
static inline uint64_t kistick_high_bytes(unsigned long n) {
    static const uint64_t table[16] = {
        0, 0xFF00000000000000u, 0xFFFF000000000000u, 0xFFFFFF0000000000u, 0xFFFFFFFF00000000u,
        0xFFFFFFFFFF000000u, 0xFFFFFFFFFFFF0000u, 0xFFFFFFFFFFFFFF00u, 0xFFFFFFFFFFFFFFFFu,
        0xFFFFFFFFFFFFFFFFu, 0xFFFFFFFFFFFFFFFFu, 0xFFFFFFFFFFFFFFFFu, 0xFFFFFFFFFFFFFFFFu,
        0xFFFFFFFFFFFFFFFFu, 0xFFFFFFFFFFFFFFFFu, 0xFFFFFFFFFFFFFFFFu,
    };
    return table[n & 15];
}

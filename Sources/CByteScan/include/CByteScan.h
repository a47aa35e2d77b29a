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

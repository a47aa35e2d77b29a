#pragma once
#include <pthread.h>
#include <stdint.h>

/// Restricts threads created with `attr` to `cpu`. Returns 0 or an errno value (EINVAL for a cpu outside the
/// kernel's set size). Glibc's `CPU_SET` is a macro behind `_GNU_SOURCE`, which Swift's Glibc module cannot reach;
/// that is why this target exists.
int caff_attr_set_cpu(pthread_attr_t *attr, int cpu);

/// Sets the calling thread's name (at most 15 bytes; longer is ERANGE). Returns 0 or an errno value.
int caff_set_thread_name(const char *name);

/// Sets the calling thread's timer slack, how late the kernel may wake a sleeping thread (50 µs by default, which
/// would turn a 1 µs backoff sleep into 50). Returns 0 or an errno value.
int caff_set_timer_slack(unsigned long nanoseconds);

/// The calling thread's `pthread_self()`, unique among live threads and read without a syscall; for debug-build
/// ownership checks.
uint64_t caff_thread_id(void);

/// Sleeps while `*word == expected`, for at most `timeout_ns` (no limit when negative), until `caff_futex_wake` on the
/// same word: Linux's futex(2), which Swift cannot call (`syscall` is variadic). Returns 0 when woken, or the errno:
/// EAGAIN when `*word` already differed, ETIMEDOUT, EINTR (a spurious wake-up; callers re-check their condition).
int caff_futex_wait(uint32_t *word, uint32_t expected, int64_t timeout_ns);

/// Wakes up to `count` threads sleeping in `caff_futex_wait` on `word`. Returns how many were woken, or -1.
int caff_futex_wake(uint32_t *word, int count);

/// Tells the CPU this is a spin-wait loop (x86 `pause`, arm64 `yield`): the sibling hyperthread gets the core's
/// resources and the loop's exit does not pay a memory-order mis-speculation. Swift has no such intrinsic.
static inline void caff_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

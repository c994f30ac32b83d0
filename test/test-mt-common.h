/* ----------------------------------------------------------------------------
Shared helpers of the multithreaded ownership regression tests (test-mt-*.c).

Block pattern
  Every block handed out by mi_mt_block_alloc carries a header of six words:
    [0] its own address      [1] a process-wide serial number
    [2] the requested size   [3] the token of the allocating thread
    [4] a check word (hash of words 0..3)
    [5] a link word, free for the test to use (queues); never checked
  Blocks of at least 256 bytes also carry four derived words at their end.
  Blocks of at least 16 KiB carry derived words in their first and last
  4 KiB and one derived word every 64 KiB in between. mi_mt_block_free
  verifies everything before it frees; any mismatch counts as a corruption.

Counting
  The tests' own counts (allocations, frees, cross-thread frees, hand-offs,
  corruptions, ...) are C11 atomics updated with atomic_fetch_add. The
  allocator's event counters come from mi_test_counters_get().

Reporting
  mi_mt_finish() prints one summary block of `mi-test: <key>: <value>` lines
  (greppable by the report scripts), applies the checks every test shares,
  and returns the exit code. mi_mt_require_path() fails a test that did not
  reach the path it is named for.

Time
  Work is scaled by MI_TEST_SCALE (default 1.0) and reduced automatically
  under ThreadSanitizer / AddressSanitizer. Loops also stop at a soft
  deadline, and a watchdog turns a hang into a reported failure.
-----------------------------------------------------------------------------*/
#pragma once
#ifndef MI_TEST_MT_COMMON_H
#define MI_TEST_MT_COMMON_H

#if !defined(_GNU_SOURCE) && !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L   // clock_gettime, nanosleep
#endif

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mimalloc.h>
#include <mimalloc/testing.h>

// ---------------------------------------------------------------------------
// Sanitizer detection (clang: __has_feature, gcc: __SANITIZE_*__)
// ---------------------------------------------------------------------------
#if defined(__SANITIZE_THREAD__)
#define MI_MT_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define MI_MT_TSAN 1
#endif
#endif
#ifndef MI_MT_TSAN
#define MI_MT_TSAN 0
#endif

#if defined(__SANITIZE_ADDRESS__)
#define MI_MT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MI_MT_ASAN 1
#endif
#endif
#ifndef MI_MT_ASAN
#define MI_MT_ASAN 0
#endif

#define MI_MT_KIB  ((size_t)1024)
#define MI_MT_MIB  (MI_MT_KIB * MI_MT_KIB)

// Size classes of the allocator, as the tests use them.
#define MI_MT_SMALL_MAX   (8 * MI_MT_KIB)      // small objects live on 64 KiB pages
#define MI_MT_MEDIUM_MAX  (128 * MI_MT_KIB)    // medium objects live on 512 KiB pages
#define MI_MT_LARGE_MAX   (16 * MI_MT_MIB)     // large objects get a span of their own
#define MI_MT_SEGMENT_SIZE (32 * MI_MT_MIB)    // above MI_MT_LARGE_MAX: a segment of its own

#define MI_MT_PRINT_LIMIT 20                  // detailed messages printed per kind

// ---------------------------------------------------------------------------
// Counters of the test itself
// ---------------------------------------------------------------------------
typedef struct mi_mt_counts_s {
  atomic_llong allocations;
  atomic_llong frees;
  atomic_llong cross_thread_frees;   // frees by a thread other than the allocating one
  atomic_llong handoffs;             // blocks passed from one thread to another
  atomic_llong threads_started;
  atomic_llong rounds;
  atomic_llong corruptions;          // pattern mismatches and impossible block properties
  atomic_llong allocation_failures;  // NULL from the allocator
  atomic_llong failures;             // failed checks of the verdict
} mi_mt_counts_t;

static mi_mt_counts_t mi_mt_counts;

static inline void mi_mt_count_add(atomic_llong* counter, long long n) {
  atomic_fetch_add_explicit(counter, n, memory_order_relaxed);
}

static inline long long mi_mt_count_get(atomic_llong* counter) {
  return atomic_load_explicit(counter, memory_order_relaxed);
}

// ---------------------------------------------------------------------------
// Test-wide settings: name, scale, time budget
// ---------------------------------------------------------------------------
typedef struct mi_mt_settings_s {
  const char* name;
  double scale;               // multiplier of all work
  double soft_budget_seconds; // loops stop starting new rounds after this
  double watchdog_seconds;    // the process is failed after this
  long   claim_pause_us;
  struct timespec start;
} mi_mt_settings_t;

static mi_mt_settings_t mi_mt_settings;
static atomic_int mi_mt_finished;

static inline double mi_mt_seconds_since(const struct timespec* start) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) * 1e-9;
}

static inline double mi_mt_elapsed(void) {
  return mi_mt_seconds_since(&mi_mt_settings.start);
}

static inline bool mi_mt_deadline_passed(void) {
  return (mi_mt_elapsed() > mi_mt_settings.soft_budget_seconds);
}

static inline void mi_mt_sleep_us(long microseconds) {
  struct timespec pause;
  pause.tv_sec  = microseconds / 1000000;
  pause.tv_nsec = (microseconds % 1000000) * 1000;
  while (nanosleep(&pause, &pause) != 0 && errno == EINTR) { }
}

// `base` units of work scaled by the test scale, at least `minimum`.
static inline long mi_mt_scaled(long base, long minimum) {
  double value = (double)base * mi_mt_settings.scale;
  long result = (long)(value + 0.5);
  return (result < minimum ? minimum : result);
}

static inline double mi_mt_env_double(const char* name, double fallback) {
  const char* text = getenv(name);
  if (text == NULL || text[0] == 0) return fallback;
  char* end = NULL;
  double value = strtod(text, &end);
  if (end == text) return fallback;
  return value;
}

// ---------------------------------------------------------------------------
// Reporting helpers
// ---------------------------------------------------------------------------
static inline void mi_mt_report(const char* key, long long value) {
  printf("mi-test: %s: %lld\n", key, value);
}

#if defined(__GNUC__)
#define MI_MT_PRINTF(fmt_index, args_index) __attribute__((format(printf, fmt_index, args_index)))
#else
#define MI_MT_PRINTF(fmt_index, args_index)
#endif

static inline void mi_mt_fail_va(const char* format, va_list args) {
  mi_mt_count_add(&mi_mt_counts.failures, 1);
  char message[512];
  vsnprintf(message, sizeof(message), format, args);
  printf("mi-test: FAIL: %s\n", message);
  fflush(stdout);
}

// A failed check of the verdict: counted and printed.
static inline MI_MT_PRINTF(1, 2) void mi_mt_fail(const char* format, ...) {
  va_list args;
  va_start(args, format);
  mi_mt_fail_va(format, args);
  va_end(args);
}

static inline MI_MT_PRINTF(2, 3) void mi_mt_expect(bool ok, const char* format, ...) {
  if (ok) return;
  va_list args;
  va_start(args, format);
  mi_mt_fail_va(format, args);
  va_end(args);
}

// Fails the test when the path it relies on was never taken.
static inline void mi_mt_require_path(const char* path, long long count) {
  mi_mt_expect(count > 0, "did not reach path %s (count 0)", path);
}

// Prints an error found by a worker thread (limited number of messages).
static atomic_llong mi_mt_messages_printed;
static inline MI_MT_PRINTF(1, 2) void mi_mt_complain(const char* format, ...) {
  long long printed = atomic_fetch_add_explicit(&mi_mt_messages_printed, 1, memory_order_relaxed);
  if (printed >= MI_MT_PRINT_LIMIT) return;
  char message[512];
  va_list args;
  va_start(args, format);
  vsnprintf(message, sizeof(message), format, args);
  va_end(args);
  fprintf(stderr, "mi-test: error: %s\n", message);
}

// ---------------------------------------------------------------------------
// Random numbers (per thread, no shared state)
// ---------------------------------------------------------------------------
typedef struct mi_mt_random_s {
  uint64_t state;
} mi_mt_random_t;

static inline uint64_t mi_mt_mix(uint64_t x) {
  // a 64-bit finalizer: every input bit affects every output bit
  x ^= x >> 31;
  x *= 0x7fb5d329728ea185ULL;
  x ^= x >> 27;
  x *= 0x81dadef4bc2dd44dULL;
  x ^= x >> 33;
  return x;
}

static inline void mi_mt_random_init(mi_mt_random_t* random, uint64_t seed) {
  random->state = mi_mt_mix(seed + 0x9e3779b97f4a7c15ULL) | 1;
}

static inline uint64_t mi_mt_random_next(mi_mt_random_t* random) {
  random->state += 0x9e3779b97f4a7c15ULL;
  return mi_mt_mix(random->state);
}

// Uniform in [low, high] (inclusive).
static inline size_t mi_mt_random_range(mi_mt_random_t* random, size_t low, size_t high) {
  if (high <= low) return low;
  return low + (size_t)(mi_mt_random_next(random) % (uint64_t)(high - low + 1));
}

static inline bool mi_mt_random_chance(mi_mt_random_t* random, unsigned percent) {
  return (mi_mt_random_next(random) % 100) < percent;
}

// ---------------------------------------------------------------------------
// Thread tokens: a small unique number per thread, for cross-thread counting
// ---------------------------------------------------------------------------
static atomic_ullong mi_mt_next_token = 1;
static _Thread_local uint64_t mi_mt_thread_token;

static inline uint64_t mi_mt_token_get(void) {
  if (mi_mt_thread_token == 0) {
    mi_mt_thread_token = atomic_fetch_add_explicit(&mi_mt_next_token, 1, memory_order_relaxed);
  }
  return mi_mt_thread_token;
}

// A random generator seeded from the thread token and a caller value.
static inline void mi_mt_random_init_thread(mi_mt_random_t* random, uint64_t extra) {
  mi_mt_random_init(random, (mi_mt_token_get() << 20) ^ extra);
}

// ---------------------------------------------------------------------------
// Block sizes
// ---------------------------------------------------------------------------
#define MI_MT_MIN_BLOCK ((size_t)64)

// Small sizes with a bias towards the smaller bins.
static inline size_t mi_mt_size_small(mi_mt_random_t* random) {
  size_t limit = (size_t)64 << mi_mt_random_range(random, 0, 7);   // 64 .. 8 KiB
  return mi_mt_random_range(random, MI_MT_MIN_BLOCK, limit);
}

static inline size_t mi_mt_size_medium(mi_mt_random_t* random) {
  return mi_mt_random_range(random, MI_MT_SMALL_MAX + 1, MI_MT_MEDIUM_MAX);
}

static inline size_t mi_mt_size_large(mi_mt_random_t* random, size_t max_large) {
  return mi_mt_random_range(random, MI_MT_MEDIUM_MAX + 1, max_large);
}

// A mix of small, medium and large sizes: `medium_percent` and
// `large_percent` give the shares of the larger classes.
static inline size_t mi_mt_size_mixed(mi_mt_random_t* random, unsigned medium_percent,
                                      unsigned large_percent, size_t max_large) {
  uint64_t pick = mi_mt_random_next(random) % 100;
  if (pick < large_percent) return mi_mt_size_large(random, max_large);
  if (pick < large_percent + medium_percent) return mi_mt_size_medium(random);
  return mi_mt_size_small(random);
}

// ---------------------------------------------------------------------------
// Block pattern
// ---------------------------------------------------------------------------
enum {
  MI_MT_WORD_ADDRESS = 0,
  MI_MT_WORD_SERIAL  = 1,
  MI_MT_WORD_SIZE    = 2,
  MI_MT_WORD_THREAD  = 3,
  MI_MT_WORD_CHECK   = 4,
  MI_MT_WORD_LINK    = 5,
  MI_MT_HEADER_WORDS = 6
};

#define MI_MT_TAIL_MIN_SIZE    ((size_t)256)        // from here: 4 words at the end
#define MI_MT_REGION_MIN_SIZE  (16 * MI_MT_KIB)     // from here: first/last 4 KiB + stride
#define MI_MT_REGION_WORDS     ((size_t)(4 * MI_MT_KIB / sizeof(uint64_t)))
#define MI_MT_STRIDE_WORDS     ((size_t)(64 * MI_MT_KIB / sizeof(uint64_t)))

static atomic_ullong mi_mt_next_serial = 1;

static inline uint64_t mi_mt_check_word(uint64_t address, uint64_t serial, uint64_t size, uint64_t thread) {
  uint64_t h = mi_mt_mix(address ^ 0x243f6a8885a308d3ULL);
  h = mi_mt_mix(h ^ serial);
  h = mi_mt_mix(h ^ (size * 0x13198a2e03707344ULL));
  h = mi_mt_mix(h ^ (thread + 0xa4093822299f31d0ULL));
  return h;
}

// The value expected at word `index` of a block with check word `check`.
static inline uint64_t mi_mt_derived_word(uint64_t check, size_t index) {
  return mi_mt_mix(check + (uint64_t)index * 0x9e3779b97f4a7c15ULL);
}

// Calls `visit(words, index, check, context)` for every derived word index.
typedef bool (mi_mt_word_visit_fun)(uint64_t* words, size_t index, uint64_t check, void* context);

static inline bool mi_mt_pattern_visit(uint64_t* words, size_t size, uint64_t check,
                                       mi_mt_word_visit_fun* visit, void* context) {
  const size_t count = size / sizeof(uint64_t);
  if (size >= MI_MT_REGION_MIN_SIZE) {
    // first 4 KiB after the header, last 4 KiB, one word every 64 KiB between
    for (size_t i = MI_MT_HEADER_WORDS; i < MI_MT_REGION_WORDS; i++) {
      if (!visit(words, i, check, context)) return false;
    }
    const size_t tail_start = count - MI_MT_REGION_WORDS;
    for (size_t i = MI_MT_STRIDE_WORDS; i < tail_start; i += MI_MT_STRIDE_WORDS) {
      if (!visit(words, i, check, context)) return false;
    }
    for (size_t i = tail_start; i < count; i++) {
      if (!visit(words, i, check, context)) return false;
    }
  }
  else if (size >= MI_MT_TAIL_MIN_SIZE) {
    for (size_t i = count - 4; i < count; i++) {
      if (!visit(words, i, check, context)) return false;
    }
  }
  return true;
}

static inline bool mi_mt_word_write(uint64_t* words, size_t index, uint64_t check, void* context) {
  (void)context;
  words[index] = mi_mt_derived_word(check, index);
  return true;
}

typedef struct mi_mt_mismatch_s {
  size_t   index;
  uint64_t expected;
  uint64_t found;
} mi_mt_mismatch_t;

static inline bool mi_mt_word_verify(uint64_t* words, size_t index, uint64_t check, void* context) {
  const uint64_t expected = mi_mt_derived_word(check, index);
  if (words[index] == expected) return true;
  mi_mt_mismatch_t* mismatch = (mi_mt_mismatch_t*)context;
  mismatch->index = index;
  mismatch->expected = expected;
  mismatch->found = words[index];
  return false;
}

static inline MI_MT_PRINTF(2, 3) void mi_mt_corruption(const void* block, const char* format, ...) {
  mi_mt_count_add(&mi_mt_counts.corruptions, 1);
  long long printed = atomic_fetch_add_explicit(&mi_mt_messages_printed, 1, memory_order_relaxed);
  if (printed >= MI_MT_PRINT_LIMIT) return;
  char message[400];
  va_list args;
  va_start(args, format);
  vsnprintf(message, sizeof(message), format, args);
  va_end(args);
  fprintf(stderr, "mi-test: corruption: block %p: %s\n", block, message);
}

// Writes the pattern into a block of `size` bytes (size >= MI_MT_MIN_BLOCK).
static inline void mi_mt_block_fill(void* block, size_t size) {
  uint64_t* words = (uint64_t*)block;
  const uint64_t address = (uint64_t)(uintptr_t)block;
  const uint64_t serial  = atomic_fetch_add_explicit(&mi_mt_next_serial, 1, memory_order_relaxed);
  const uint64_t thread  = mi_mt_token_get();
  const uint64_t check   = mi_mt_check_word(address, serial, (uint64_t)size, thread);
  words[MI_MT_WORD_ADDRESS] = address;
  words[MI_MT_WORD_SERIAL]  = serial;
  words[MI_MT_WORD_SIZE]    = (uint64_t)size;
  words[MI_MT_WORD_THREAD]  = thread;
  words[MI_MT_WORD_CHECK]   = check;
  words[MI_MT_WORD_LINK]    = 0;
  mi_mt_pattern_visit(words, size, check, &mi_mt_word_write, NULL);
}

// Verifies the pattern; returns the size recorded in the block, or 0 when
// the block is corrupted (the corruption is counted and reported).
static inline size_t mi_mt_block_verify(void* block) {
  uint64_t* words = (uint64_t*)block;
  const uint64_t address = (uint64_t)(uintptr_t)block;
  if (words[MI_MT_WORD_ADDRESS] != address) {
    mi_mt_corruption(block, "address word is %#llx", (unsigned long long)words[MI_MT_WORD_ADDRESS]);
    return 0;
  }
  const uint64_t size = words[MI_MT_WORD_SIZE];
  const uint64_t check = mi_mt_check_word(address, words[MI_MT_WORD_SERIAL], size, words[MI_MT_WORD_THREAD]);
  if (words[MI_MT_WORD_CHECK] != check || size < MI_MT_MIN_BLOCK) {
    mi_mt_corruption(block, "header check failed (serial %llu, size %llu, thread %llu, check %#llx, expected %#llx)",
                     (unsigned long long)words[MI_MT_WORD_SERIAL], (unsigned long long)size,
                     (unsigned long long)words[MI_MT_WORD_THREAD],
                     (unsigned long long)words[MI_MT_WORD_CHECK], (unsigned long long)check);
    return 0;
  }
  // the header is consistent, so the recorded size can be trusted
  const size_t usable = mi_usable_size(block);
  if (usable < size) {
    mi_mt_corruption(block, "usable size %zu is below the requested %llu", usable, (unsigned long long)size);
    return 0;
  }
  mi_mt_mismatch_t mismatch = { 0, 0, 0 };
  if (!mi_mt_pattern_visit(words, (size_t)size, check, &mi_mt_word_verify, &mismatch)) {
    mi_mt_corruption(block, "word %zu of %llu-byte block (serial %llu) is %#llx, expected %#llx",
                     mismatch.index, (unsigned long long)size, (unsigned long long)words[MI_MT_WORD_SERIAL],
                     (unsigned long long)mismatch.found, (unsigned long long)mismatch.expected);
    return 0;
  }
  return (size_t)size;
}

// Allocates and fills a block; NULL (counted as a failure) if the allocator
// returned NULL.
static inline void* mi_mt_block_alloc(size_t size) {
  if (size < MI_MT_MIN_BLOCK) size = MI_MT_MIN_BLOCK;
  void* block = mi_malloc(size);
  if (block == NULL) {
    mi_mt_count_add(&mi_mt_counts.allocation_failures, 1);
    mi_mt_complain("mi_malloc(%zu) returned NULL", size);
    return NULL;
  }
  if (((uintptr_t)block % alignof(max_align_t)) != 0) {
    mi_mt_corruption(block, "misaligned block of %zu bytes", size);
  }
  mi_mt_block_fill(block, size);
  mi_mt_count_add(&mi_mt_counts.allocations, 1);
  return block;
}

// Verifies and frees a block. Counts cross-thread frees. NULL is ignored.
static inline void mi_mt_block_free(void* block) {
  if (block == NULL) return;
  uint64_t* words = (uint64_t*)block;
  const size_t size = mi_mt_block_verify(block);
  if (size != 0) {
    if (words[MI_MT_WORD_THREAD] != mi_mt_token_get()) {
      mi_mt_count_add(&mi_mt_counts.cross_thread_frees, 1);
    }
    // spoil the check word so a second holder of this block would notice
    words[MI_MT_WORD_CHECK] = ~words[MI_MT_WORD_CHECK];
  }
  mi_free(block);
  mi_mt_count_add(&mi_mt_counts.frees, 1);
}

// ---------------------------------------------------------------------------
// A lock-free stack of blocks, linked through MI_MT_WORD_LINK. Push is a CAS
// loop; the consumer takes the whole stack with one exchange, so there is no
// ABA problem.
// ---------------------------------------------------------------------------
typedef struct mi_mt_stack_s {
  _Atomic(uint64_t*) top;
} mi_mt_stack_t;

static inline void mi_mt_stack_push(mi_mt_stack_t* stack, void* block) {
  uint64_t* words = (uint64_t*)block;
  uint64_t* top = atomic_load_explicit(&stack->top, memory_order_relaxed);
  do {
    words[MI_MT_WORD_LINK] = (uint64_t)(uintptr_t)top;
  } while (!atomic_compare_exchange_weak_explicit(&stack->top, &top, words,
                                                   memory_order_release, memory_order_relaxed));
  mi_mt_count_add(&mi_mt_counts.handoffs, 1);
}

// Takes all blocks; walk them with mi_mt_stack_next.
static inline uint64_t* mi_mt_stack_take_all(mi_mt_stack_t* stack) {
  if (atomic_load_explicit(&stack->top, memory_order_relaxed) == NULL) return NULL;
  return atomic_exchange_explicit(&stack->top, NULL, memory_order_acquire);
}

static inline uint64_t* mi_mt_stack_next(uint64_t* block) {
  return (uint64_t*)(uintptr_t)block[MI_MT_WORD_LINK];
}

// Frees every block on the stack; returns how many.
static inline size_t mi_mt_stack_free_all(mi_mt_stack_t* stack) {
  size_t count = 0;
  uint64_t* block = mi_mt_stack_take_all(stack);
  while (block != NULL) {
    uint64_t* next = mi_mt_stack_next(block);
    mi_mt_block_free(block);
    block = next;
    count++;
  }
  return count;
}

// ---------------------------------------------------------------------------
// Slots: an array of atomic block pointers for publishing blocks to others.
// ---------------------------------------------------------------------------
static inline void mi_mt_slot_publish(_Atomic(void*)* slot, void* block) {
  void* previous = atomic_exchange_explicit(slot, block, memory_order_acq_rel);
  if (previous != NULL) {
    // never expected: the test gives each producer its own slots
    mi_mt_fail("slot %p was still occupied by %p", (void*)slot, previous);
    mi_mt_block_free(previous);
  }
  mi_mt_count_add(&mi_mt_counts.handoffs, 1);
}

static inline void* mi_mt_slot_take(_Atomic(void*)* slot) {
  if (atomic_load_explicit(slot, memory_order_relaxed) == NULL) return NULL;
  return atomic_exchange_explicit(slot, NULL, memory_order_acq_rel);
}

// Takes and frees the blocks in slots [0, count); returns how many.
static inline size_t mi_mt_slots_free(_Atomic(void*)* slots, size_t count) {
  size_t freed = 0;
  for (size_t i = 0; i < count; i++) {
    void* block = mi_mt_slot_take(&slots[i]);
    if (block != NULL) {
      mi_mt_block_free(block);
      freed++;
    }
  }
  return freed;
}

// ---------------------------------------------------------------------------
// Threads
// ---------------------------------------------------------------------------
static inline void mi_mt_thread_start(pthread_t* thread, void* (*run)(void*), void* arg) {
  for (int attempt = 0; ; attempt++) {
    int error = pthread_create(thread, NULL, run, arg);
    if (error == 0) break;
    if (error == EAGAIN && attempt < 100) { mi_mt_sleep_us(10000); continue; }
    printf("mi-test: FAIL: pthread_create failed: %s\n", strerror(error));
    fflush(stdout);
    exit(2);
  }
  mi_mt_count_add(&mi_mt_counts.threads_started, 1);
}

static inline void mi_mt_thread_join(pthread_t thread) {
  int error = pthread_join(thread, NULL);
  if (error != 0) {
    printf("mi-test: FAIL: pthread_join failed: %s\n", strerror(error));
    fflush(stdout);
    exit(2);
  }
}

// Makes sure the calling thread has an initialized heap (a thread that only
// frees would otherwise never own anything and never claim a segment).
static inline void mi_mt_thread_heap_init(void) {
  void* p = mi_malloc(16);
  mi_free(p);
}

// ---------------------------------------------------------------------------
// Allocator counters and the summary
// ---------------------------------------------------------------------------
static inline mi_test_counters_t mi_mt_counters(void) {
  mi_test_counters_t counters;
  memset(&counters, 0, sizeof(counters));
  mi_test_counters_get(&counters);
  return counters;
}

static long long mi_mt_reclaimed_at_end;
static atomic_llong mi_mt_abandoned_peak;   // largest segments_abandoned_now sampled
static atomic_llong mi_mt_live_peak;        // largest segments_allocated - segments_freed sampled

static inline void mi_mt_peak_update(atomic_llong* peak, long long now) {
  long long seen = atomic_load_explicit(peak, memory_order_relaxed);
  while (now > seen &&
         !atomic_compare_exchange_weak_explicit(peak, &seen, now, memory_order_relaxed, memory_order_relaxed)) { }
}

// Samples the size of the abandoned set and the number of live segments
// (informational: numbers that keep growing with the rounds mean segments
// are not taken up again or not released).
static inline void mi_mt_abandoned_sample(void) {
  const mi_test_counters_t c = mi_mt_counters();
  mi_mt_peak_update(&mi_mt_abandoned_peak, c.segments_abandoned_now);
  mi_mt_peak_update(&mi_mt_live_peak, c.segments_allocated - c.segments_freed);
}

// Reclaims every abandoned segment into the calling (main) thread and collects.
static inline void mi_mt_reclaim_everything(void) {
  mi_mt_abandoned_sample();
  mi_mt_reclaimed_at_end += mi_test_reclaim_all();
  mi_collect(true);
}

static void* mi_mt_watchdog_run(void* arg) {
  (void)arg;
  while (atomic_load_explicit(&mi_mt_finished, memory_order_acquire) == 0) {
    if (mi_mt_elapsed() > mi_mt_settings.watchdog_seconds) {
      mi_test_counters_t c = mi_mt_counters();
      printf("mi-test: FAIL: watchdog: %s still running after %.0f s (hang?)\n",
             mi_mt_settings.name, mi_mt_settings.watchdog_seconds);
      printf("mi-test: corruptions: %lld\n", mi_mt_count_get(&mi_mt_counts.corruptions));
      printf("mi-test: claim_overlaps: %lld\n", c.claim_overlaps);
      printf("mi-test: result: FAIL\n");
      fflush(stdout);
      _exit(3);
    }
    mi_mt_sleep_us(100000);
  }
  return NULL;
}

// On a crash (e.g. the allocator aborting on a violated invariant, or a
// segmentation fault after corruption) print the counts the report scripts
// look for, with async-signal-safe writes only, then die of the same signal.
static inline size_t mi_mt_signal_format(char* out, const char* key, long long value) {
  size_t n = 0;
  const char* prefix = "mi-test: ";
  while (*prefix) out[n++] = *prefix++;
  while (*key) out[n++] = *key++;
  out[n++] = ':'; out[n++] = ' ';
  if (value < 0) { out[n++] = '-'; value = -value; }
  char digits[24];
  size_t count = 0;
  do { digits[count++] = (char)('0' + (value % 10)); value /= 10; } while (value > 0);
  while (count > 0) out[n++] = digits[--count];
  out[n++] = '\n';
  return n;
}

static void mi_mt_signal_report(int signal_number) {
  mi_test_counters_t c;
  memset(&c, 0, sizeof(c));
  mi_test_counters_get(&c);
  char buffer[512];
  size_t n = 0;
  n += mi_mt_signal_format(buffer + n, "crash_signal", signal_number);
  n += mi_mt_signal_format(buffer + n, "corruptions", atomic_load_explicit(&mi_mt_counts.corruptions, memory_order_relaxed));
  n += mi_mt_signal_format(buffer + n, "claim_overlaps", c.claim_overlaps);
  n += mi_mt_signal_format(buffer + n, "claims_won", c.claims_won);
  n += mi_mt_signal_format(buffer + n, "abandons", c.abandons);
  const char* result = "mi-test: result: CRASH\n";
  const size_t result_length = strlen(result);
  memcpy(buffer + n, result, result_length);
  n += result_length;
  ssize_t written = write(STDOUT_FILENO, buffer, n);
  (void)written;
  raise(signal_number);   // the handler was reset: die of the same signal
}

static inline void mi_mt_signal_install(void) {
  const int signals[] = { SIGABRT, SIGSEGV, SIGBUS, SIGILL, SIGFPE };
  for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) {
    struct sigaction action;
    memset(&action, 0, sizeof(action));
    action.sa_handler = &mi_mt_signal_report;
    action.sa_flags = (int)SA_RESETHAND;
    sigemptyset(&action.sa_mask);
    sigaction(signals[i], &action, NULL);
  }
}

// Reads the settings from the environment, applies the claim pause, starts
// the watchdog. `soft_budget` is the normal-build time budget of the loops.
static inline void mi_mt_init(const char* name, double soft_budget) {
  clock_gettime(CLOCK_MONOTONIC, &mi_mt_settings.start);
  mi_mt_settings.name = name;
  double scale = mi_mt_env_double("MI_TEST_SCALE", 1.0);
  if (!(scale > 0.0)) scale = 1.0;
  if (MI_MT_TSAN) { scale *= 0.2; }
  else if (MI_MT_ASAN) { scale *= 0.5; }
  mi_mt_settings.scale = scale;
  mi_mt_settings.soft_budget_seconds = soft_budget * ((MI_MT_TSAN || MI_MT_ASAN) ? 5.0 : 1.0);
  // the watchdog fires a little before the CTest timeout (300 s), or later
  // when the caller asked for a longer run
  double watchdog_default = mi_mt_settings.soft_budget_seconds + 120.0;
  if (watchdog_default < 280.0) watchdog_default = 280.0;
  mi_mt_settings.watchdog_seconds = mi_mt_env_double("MI_TEST_WATCHDOG_SECONDS", watchdog_default);
  mi_mt_settings.claim_pause_us = (long)mi_mt_env_double("MI_TEST_CLAIM_PAUSE_US", 0.0);
  if (mi_mt_settings.claim_pause_us > 0) {
    mi_test_set_claim_pause(mi_mt_settings.claim_pause_us);
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  mi_mt_signal_install();
  mi_mt_thread_heap_init();
  pthread_t watchdog;
  if (pthread_create(&watchdog, NULL, &mi_mt_watchdog_run, NULL) == 0) {
    pthread_detach(watchdog);
  }
  printf("mi-test: ---- %s: start (scale %.2f, tsan %d, legacy_ownership %d, claim_pause_us %ld) ----\n",
         name, scale, MI_MT_TSAN, mi_test_legacy_ownership(), mi_mt_settings.claim_pause_us);
}

// Prints the summary block, applies the checks shared by every test and
// returns the exit code. Call after all worker threads were joined and after
// mi_mt_reclaim_everything().
static inline int mi_mt_finish(void) {
  mi_test_counters_t c = mi_mt_counters();
  const long long corruptions = mi_mt_count_get(&mi_mt_counts.corruptions);
  const long long allocations = mi_mt_count_get(&mi_mt_counts.allocations);
  const long long frees = mi_mt_count_get(&mi_mt_counts.frees);

  mi_mt_expect(corruptions == 0, "%lld corrupted blocks", corruptions);
  mi_mt_expect(c.claim_overlaps == 0, "%lld claim overlaps (a claim succeeded while another thread held the segment)", c.claim_overlaps);
  mi_mt_expect(c.invalid_frees == 0, "%lld invalid frees detected by the allocator", c.invalid_frees);
  mi_mt_expect(mi_mt_count_get(&mi_mt_counts.allocation_failures) == 0, "%lld allocations returned NULL",
               mi_mt_count_get(&mi_mt_counts.allocation_failures));
  mi_mt_expect(allocations == frees, "%lld blocks allocated but %lld freed", allocations, frees);
  mi_mt_expect(c.segments_abandoned_now == 0, "%lld segments still abandoned after mi_test_reclaim_all (lost)",
               c.segments_abandoned_now);
  mi_mt_expect(c.abandons == c.claims_won + c.segments_abandoned_now,
               "abandons (%lld) != claims won (%lld) + segments still abandoned (%lld)",
               c.abandons, c.claims_won, c.segments_abandoned_now);

  const long long failures = mi_mt_count_get(&mi_mt_counts.failures);
  printf("mi-test: ---- summary: %s ----\n", mi_mt_settings.name);
  printf("mi-test: test: %s\n", mi_mt_settings.name);
  printf("mi-test: seconds: %.2f\n", mi_mt_elapsed());
  printf("mi-test: scale: %.2f\n", mi_mt_settings.scale);
  mi_mt_report("tsan", MI_MT_TSAN);
  mi_mt_report("legacy_ownership", mi_test_legacy_ownership());
  mi_mt_report("claim_pause_us", mi_mt_settings.claim_pause_us);
  mi_mt_report("rounds", mi_mt_count_get(&mi_mt_counts.rounds));
  mi_mt_report("threads_started", mi_mt_count_get(&mi_mt_counts.threads_started));
  mi_mt_report("operations", allocations + frees);
  mi_mt_report("allocations", allocations);
  mi_mt_report("frees", frees);
  mi_mt_report("cross_thread_frees", mi_mt_count_get(&mi_mt_counts.cross_thread_frees));
  mi_mt_report("handoffs", mi_mt_count_get(&mi_mt_counts.handoffs));
  mi_mt_report("abandons", c.abandons);
  mi_mt_report("claims_won", c.claims_won);
  mi_mt_report("claims_lost", c.claims_lost);
  mi_mt_report("reclaims_on_free", c.reclaims_on_free);
  mi_mt_report("reclaims_on_alloc", c.reclaims_on_alloc);
  mi_mt_report("reclaimed_at_end", mi_mt_reclaimed_at_end);
  mi_mt_report("coalesce_prev", c.coalesce_prev);
  mi_mt_report("coalesce_next", c.coalesce_next);
  mi_mt_report("coalesce_prev_abandoned", c.coalesce_prev_abandoned);
  mi_mt_report("coalesce_next_abandoned", c.coalesce_next_abandoned);
  mi_mt_report("huge_free_after_exit", c.huge_free_after_exit);
  mi_mt_report("huge_segments_freed", c.huge_segments_freed);
  mi_mt_report("segments_allocated", c.segments_allocated);
  mi_mt_report("segments_freed", c.segments_freed);
  mi_mt_report("segments_live_peak", atomic_load_explicit(&mi_mt_live_peak, memory_order_relaxed));
  mi_mt_report("segments_abandoned_peak", atomic_load_explicit(&mi_mt_abandoned_peak, memory_order_relaxed));
  mi_mt_report("segments_abandoned_now", c.segments_abandoned_now);
  mi_mt_report("invalid_frees", c.invalid_frees);
  mi_mt_report("allocation_failures", mi_mt_count_get(&mi_mt_counts.allocation_failures));
  mi_mt_report("corruptions", corruptions);
  mi_mt_report("claim_overlaps", c.claim_overlaps);
  mi_mt_report("failures", failures);
  printf("mi-test: result: %s\n", (failures == 0 ? "PASS" : "FAIL"));
  fflush(stdout);
  atomic_store_explicit(&mi_mt_finished, 1, memory_order_release);
  return (failures == 0 ? 0 : 1);
}

#endif

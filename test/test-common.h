/* ----------------------------------------------------------------------------
Small helpers shared by the API test programs (test-api-*.c).

- CHECK(cond) / CHECKF(cond, fmt, ...) count every check and every failure and
  print file:line of a failure (only the first MI_TEST_PRINT_LIMIT failures
  are printed, all are counted). The counters are atomic so worker threads
  may use the macros too.
- mi_test_summary(name) prints "name: N checks, F failures" and returns the
  process exit code (0 only when nothing failed).
- A position-dependent fill pattern: byte i of a block filled with `seed` is a
  function of (seed, i) only, so any prefix of a block stays valid after a
  realloc and blocks with different seeds cannot be mistaken for each other.
- mi_test_execve(path, argv, envp) starts a child program (this test again)
  also in a cross build, where CTest runs the tests under an emulator.
- mi_test_opaque_size(n) hides a constant from the compiler so that calls such
  as mi_malloc(SIZE_MAX) do not trigger -Walloc-size-larger-than.
-----------------------------------------------------------------------------*/
#pragma once
#ifndef MI_TEST_COMMON_H
#define MI_TEST_COMMON_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <mimalloc.h>

// Do blocks carry padding after the requested size (the rule of types.h)?
// Then mi_usable_size is exactly the requested size.
#if defined(MI_PADDING)
#define MI_TEST_PADDED MI_PADDING
#elif (defined(MI_DEBUG) && MI_DEBUG > 0) || (defined(MI_SECURE) && MI_SECURE > 0) ||                          \
    (defined(MI_TRACK_VALGRIND) && MI_TRACK_VALGRIND) || (defined(MI_TRACK_ASAN) && MI_TRACK_ASAN)
#define MI_TEST_PADDED 1
#else
#define MI_TEST_PADDED 0
#endif

#ifndef MI_TEST_PRINT_LIMIT
#define MI_TEST_PRINT_LIMIT 50
#endif

static atomic_size_t mi_test_checks_done;
static atomic_size_t mi_test_checks_failed;

static inline void mi_test_check_failed(const char* file, int line, const char* expr) {
  size_t failed = atomic_fetch_add_explicit(&mi_test_checks_failed, 1, memory_order_relaxed);
  if (failed < MI_TEST_PRINT_LIMIT) {
    fprintf(stderr, "%s:%d: check failed: %s\n", file, line, expr);
  }
  else if (failed == MI_TEST_PRINT_LIMIT) {
    fprintf(stderr, "(further failures are counted but not printed)\n");
  }
}

static inline bool mi_test_failure_is_printed(void) {
  return atomic_load_explicit(&mi_test_checks_failed, memory_order_relaxed) <= MI_TEST_PRINT_LIMIT;
}

#define CHECK(cond) \
  do { \
    atomic_fetch_add_explicit(&mi_test_checks_done, 1, memory_order_relaxed); \
    if (!(cond)) { mi_test_check_failed(__FILE__, __LINE__, #cond); } \
  } while (0)

// Like CHECK, with a printf-style detail line (e.g. the size under test).
#define CHECKF(cond, ...) \
  do { \
    atomic_fetch_add_explicit(&mi_test_checks_done, 1, memory_order_relaxed); \
    if (!(cond)) { \
      mi_test_check_failed(__FILE__, __LINE__, #cond); \
      if (mi_test_failure_is_printed()) { fprintf(stderr, "    "); fprintf(stderr, __VA_ARGS__); fprintf(stderr, "\n"); } \
    } \
  } while (0)

static inline size_t mi_test_failures(void) {
  return atomic_load_explicit(&mi_test_checks_failed, memory_order_relaxed);
}

static inline int mi_test_summary(const char* name) {
  size_t done = atomic_load_explicit(&mi_test_checks_done, memory_order_relaxed);
  size_t failed = mi_test_failures();
  printf("%s: %zu checks, %zu failures: %s\n", name, done, failed, (failed == 0 ? "OK" : "FAILED"));
  fflush(stdout);
  return (failed == 0 ? 0 : 1);
}

// Capture of the allocator's messages (mi_register_output) in a fixed buffer;
// the callback allocates nothing. mi_test_capture_begin() clears it.
#define MI_TEST_CAPTURE_SIZE (64 * 1024)

static inline char* mi_test_captured(void) {
  static char buffer[MI_TEST_CAPTURE_SIZE];
  return buffer;
}

static inline size_t* mi_test_captured_len(void) {
  static size_t len;
  return &len;
}

static inline void mi_test_capture_output(const char* msg, void* arg) {
  (void)arg;
  char* buffer = mi_test_captured();
  size_t* len = mi_test_captured_len();
  size_t n = strlen(msg);
  if (*len + n >= MI_TEST_CAPTURE_SIZE) n = MI_TEST_CAPTURE_SIZE - 1 - *len;
  memcpy(buffer + *len, msg, n);
  *len += n;
  buffer[*len] = 0;
}

static inline void mi_test_capture_begin(void) {
  *mi_test_captured_len() = 0;
  mi_test_captured()[0] = 0;
  mi_register_output(&mi_test_capture_output, NULL);
}

static inline void mi_test_capture_end(void) { mi_register_output(NULL, NULL); }

// ---------------------------------------------------------------------------
// Starting a program (for tests that re-run themselves in a child process).
// In a cross build CTest runs the test under the emulator and passes its
// command line in MI_TEST_EMULATOR (space-separated): the host kernel cannot
// run the target's program, so the emulator is started with it instead.
// Returns only on failure, like execve; envp NULL means the current environment.
// ---------------------------------------------------------------------------
extern char** environ;

static inline int mi_test_execve(const char* path, char* const argv[], char* const envp[]) {
  char* const* env = (envp != NULL ? envp : environ);
  const char* emulator = getenv("MI_TEST_EMULATOR");
  if (emulator == NULL || emulator[0] == 0) return execve(path, argv, env);
  static char words[1024];
  char* args[64];
  size_t n = 0;
  snprintf(words, sizeof(words), "%s", emulator);
  for (char* w = strtok(words, " "); w != NULL && n < 32; w = strtok(NULL, " ")) args[n++] = w;
  args[n++] = (char*)path;
  for (size_t i = 1; argv[0] != NULL && argv[i] != NULL && n < 63; i++) args[n++] = argv[i];
  args[n] = NULL;
  return execve(args[0], args, env);
}

static inline size_t mi_test_opaque_size(size_t n) {
  volatile size_t hidden = n;
  return hidden;
}

// ---------------------------------------------------------------------------
// Deterministic pseudo-random numbers (splitmix64 step).
// ---------------------------------------------------------------------------

static inline uint64_t mi_test_random_next(uint64_t* state) {
  uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
  return z ^ (z >> 31);
}

// Uniform-ish value in [0, bound) (bound > 0).
static inline size_t mi_test_random_below(uint64_t* state, size_t bound) {
  return (size_t)(mi_test_random_next(state) % bound);
}

// ---------------------------------------------------------------------------
// Position-dependent fill pattern.
// ---------------------------------------------------------------------------

// The 8 pattern bytes covering byte offsets [8*word_index, 8*word_index + 8).
static inline uint64_t mi_test_pattern_word(uint64_t seed, size_t word_index) {
  uint64_t x = seed ^ ((uint64_t)word_index * UINT64_C(0xD6E8FEB86659FD93));
  return x ^ (x >> 29) ^ ((uint64_t)word_index << 7);
}

static inline uint8_t mi_test_pattern_byte(uint64_t seed, size_t offset) {
  return (uint8_t)(mi_test_pattern_word(seed, offset / 8) >> (8 * (offset % 8)));
}

// Fill bytes [from, to) of `block` with the pattern of `seed`.
static inline void mi_test_pattern_fill(void* block, size_t from, size_t to, uint64_t seed) {
  uint8_t* bytes = (uint8_t*)block;
  size_t i = from;
  while (i < to && (i % 8) != 0) { bytes[i] = mi_test_pattern_byte(seed, i); i++; }
  while (i + 8 <= to) {
    uint64_t w = mi_test_pattern_word(seed, i / 8);
    memcpy(bytes + i, &w, 8);  // little-endian layout matches mi_test_pattern_byte
    i += 8;
  }
  while (i < to) { bytes[i] = mi_test_pattern_byte(seed, i); i++; }
}

// Returns the offset of the first byte in [from, to) that does not match the
// pattern of `seed`, or `to` when all match.
static inline size_t mi_test_pattern_mismatch(const void* block, size_t from, size_t to, uint64_t seed) {
  const uint8_t* bytes = (const uint8_t*)block;
  size_t i = from;
  while (i < to && (i % 8) != 0) {
    if (bytes[i] != mi_test_pattern_byte(seed, i)) return i;
    i++;
  }
  while (i + 8 <= to) {
    uint64_t w;
    memcpy(&w, bytes + i, 8);
    if (w != mi_test_pattern_word(seed, i / 8)) break;  // locate the byte below
    i += 8;
  }
  while (i < to) {
    if (bytes[i] != mi_test_pattern_byte(seed, i)) return i;
    i++;
  }
  return to;
}

static inline bool mi_test_pattern_ok(const void* block, size_t from, size_t to, uint64_t seed) {
  return mi_test_pattern_mismatch(block, from, to, seed) == to;
}

// Offset of the first non-zero byte in [from, to), or `to` if all are zero.
static inline size_t mi_test_nonzero_at(const void* block, size_t from, size_t to) {
  const uint8_t* bytes = (const uint8_t*)block;
  size_t i = from;
  while (i < to && (i % 8) != 0) { if (bytes[i] != 0) return i; i++; }
  while (i + 8 <= to) {
    uint64_t w;
    memcpy(&w, bytes + i, 8);
    if (w != 0) break;
    i += 8;
  }
  while (i < to) { if (bytes[i] != 0) return i; i++; }
  return to;
}

static inline bool mi_test_is_zero(const void* block, size_t from, size_t to) {
  return mi_test_nonzero_at(block, from, to) == to;
}

#define MI_TEST_KIB ((size_t)1024)
#define MI_TEST_MIB ((size_t)1024 * 1024)

#endif

/* Shared helpers for the benchmark workloads.
 *
 * Every workload is a standalone program that only uses the plain C
 * allocation interface (malloc, calloc, realloc, free), so the allocator
 * under test is chosen from outside with LD_PRELOAD.  Each one:
 *   - takes a size argument (amount of work; the driver passes a small value
 *     in quick mode) and, where it makes sense, a thread count;
 *   - uses a fixed random seed, so every allocator sees the same sequence;
 *   - stamps every block it allocates and checks the stamp before freeing,
 *     exiting with status 2 if the allocator handed out overlapping or
 *     corrupted memory;
 *   - prints one summary line of key=value pairs on stdout.
 */
#ifndef MI_BENCH_COMMON_H
#define MI_BENCH_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* CPU affinity for the threaded workloads */
#endif

#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MI_BENCH_SEED 0x5eed2024c0ffee11ULL

/* ---- deterministic random numbers (xorshift64*) ---- */

typedef struct mi_bench_rng_s {
  uint64_t state;
} mi_bench_rng_t;

static inline void mi_bench_rng_init(mi_bench_rng_t* rng, uint64_t stream) {
  /* mix the stream number so per-thread generators do not overlap */
  uint64_t x = MI_BENCH_SEED ^ (stream * 0x9e3779b97f4a7c15ULL);
  x ^= x >> 31;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 29;
  rng->state = (x == 0 ? 1 : x);
}

static inline uint64_t mi_bench_rng_next(mi_bench_rng_t* rng) {
  uint64_t x = rng->state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  rng->state = x;
  return x * 0x2545f4914f6cdd1dULL;
}

/* uniform in [0, bound) */
static inline size_t mi_bench_rng_below(mi_bench_rng_t* rng, size_t bound) {
  return (size_t)((mi_bench_rng_next(rng) >> 11) % (uint64_t)bound);
}

/* uniform in [low, high] */
static inline size_t mi_bench_rng_range(mi_bench_rng_t* rng, size_t low, size_t high) {
  return low + mi_bench_rng_below(rng, high - low + 1);
}

/* roughly log-uniform in [low, high]: pick a power of two, then a value inside it */
static inline size_t mi_bench_rng_log_range(mi_bench_rng_t* rng, size_t low, size_t high) {
  unsigned low_bits = 0, high_bits = 0;
  while (((size_t)1 << (low_bits + 1)) <= low) low_bits++;
  while (((size_t)1 << (high_bits + 1)) <= high) high_bits++;
  unsigned bits = low_bits + (unsigned)mi_bench_rng_below(rng, high_bits - low_bits + 1);
  size_t base = (size_t)1 << bits;
  size_t size = base + mi_bench_rng_below(rng, base);
  if (size < low) size = low;
  if (size > high) size = high;
  return size;
}

/* ---- arguments ---- */

static inline long mi_bench_arg_long(int argc, char** argv, int index, long fallback) {
  if (argc <= index) return fallback;
  char* end = NULL;
  long value = strtol(argv[index], &end, 10);
  if (end == argv[index] || *end != 0 || value <= 0) {
    fprintf(stderr, "bench: argument %d must be a positive integer, got '%s'\n", index, argv[index]);
    exit(64);
  }
  return value;
}

/* ---- failure reporting ---- */

static inline void mi_bench_fail(const char* format, ...) {
  va_list args;
  va_start(args, format);
  fputs("bench: FAILED: ", stderr);
  vfprintf(stderr, format, args);
  fputc('\n', stderr);
  va_end(args);
  fflush(stderr);
  _exit(2);
}

static inline void* mi_bench_malloc_checked(size_t size) {
  void* p = malloc(size);
  if (p == NULL) mi_bench_fail("malloc(%zu) returned NULL", size);
  if (((uintptr_t)p % sizeof(void*)) != 0) mi_bench_fail("malloc(%zu) returned misaligned %p", size, p);
  return p;
}

/* ---- block stamps: first and last word carry a tag derived from the
 * block's identity, so a block handed out twice or overwritten by another
 * block is noticed when it is freed.  Blocks are at least 8 bytes. ---- */

static inline uint64_t mi_bench_tag_make(uint64_t id, size_t size) {
  return (id * 0x9e3779b97f4a7c15ULL) ^ ((uint64_t)size << 1) ^ 0xa5a5a5a5a5a5a5a5ULL;
}

static inline void mi_bench_stamp_write(void* p, size_t size, uint64_t tag) {
  memcpy(p, &tag, sizeof(tag));
  if (size >= 2 * sizeof(tag)) {
    uint64_t tail = ~tag;
    memcpy((char*)p + size - sizeof(tail), &tail, sizeof(tail));
  }
}

static inline int mi_bench_stamp_ok(const void* p, size_t size, uint64_t tag) {
  uint64_t head;
  memcpy(&head, p, sizeof(head));
  if (head != tag) return 0;
  if (size >= 2 * sizeof(tag)) {
    uint64_t tail;
    memcpy(&tail, (const char*)p + size - sizeof(tail), sizeof(tail));
    if (tail != ~tag) return 0;
  }
  return 1;
}

static inline void mi_bench_stamp_check(const void* p, size_t size, uint64_t tag, const char* where) {
  if (!mi_bench_stamp_ok(p, size, tag)) {
    mi_bench_fail("%s: block %p of %zu bytes lost its stamp (memory reused while live?)", where, p, size);
  }
}

/* ---- threads ---- */

/* Pin the calling thread to the index-th CPU the process may run on
 * (modulo their number).  Workloads whose result depends on threads being
 * on different cores (cross-core frees, false sharing) use this so the
 * scheduler's placement does not make their timing bimodal. */
static inline void mi_bench_thread_pin(size_t index) {
  cpu_set_t allowed;
  if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0) return;
  int count = CPU_COUNT(&allowed);
  if (count <= 1) return;
  int wanted = (int)(index % (size_t)count);
  for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
    if (!CPU_ISSET(cpu, &allowed)) continue;
    if (wanted-- == 0) {
      cpu_set_t one;
      CPU_ZERO(&one);
      CPU_SET(cpu, &one);
      pthread_setaffinity_np(pthread_self(), sizeof(one), &one);
      return;
    }
  }
}

/* ---- time and memory ---- */

static inline double mi_bench_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* current resident set in KiB, from /proc/self/statm (second field, in pages) */
static inline long mi_bench_rss_current_kb(void) {
  FILE* f = fopen("/proc/self/statm", "r");
  if (f == NULL) return -1;
  long size_pages = 0, resident_pages = 0;
  int n = fscanf(f, "%ld %ld", &size_pages, &resident_pages);
  fclose(f);
  if (n != 2) return -1;
  return resident_pages * (sysconf(_SC_PAGESIZE) / 1024);
}

/* peak resident set in KiB, from VmHWM in /proc/self/status */
static inline long mi_bench_rss_peak_kb(void) {
  FILE* f = fopen("/proc/self/status", "r");
  if (f == NULL) return -1;
  char line[256];
  long peak = -1;
  while (fgets(line, sizeof(line), f) != NULL) {
    if (strncmp(line, "VmHWM:", 6) == 0) {
      peak = strtol(line + 6, NULL, 10);
      break;
    }
  }
  fclose(f);
  return peak;
}

#endif

/* Workload 14: multi-threaded stress in rounds (threads joined often).
 *
 * Each round starts `threads` threads and joins them all.  A thread makes
 * `steps` allocations of mostly small objects (8..256 bytes; some up to
 * 4 KiB, a few up to 256 KiB), keeps a random working set of its own,
 * frees random members of it, and swaps objects with a shared transfer
 * array, freeing whatever other threads left there.  At exit it frees half
 * of its working set and leaves the other half in the transfer array, so
 * every round abandons memory that later threads free into or reclaim.
 * With 2 threads and many rounds it is shaped like mimalloc-bench's
 * `mstress`; with 32 threads like its thread-churn `xstress`, which the
 * driver also runs with MIMALLOC_ABANDONED_RECLAIM_ON_FREE=1.
 *
 * usage: stress [rounds] [threads] [steps_per_thread]
 */
#include "bench_common.h"

#include <stdatomic.h>

#define TRANSFER_SLOTS 1024
#define WORKING_SET 512
#define MAX_THREADS 64

static _Atomic(uint64_t*) transfer[TRANSFER_SLOTS];
static _Atomic(uint64_t) next_thread;
static long steps_per_thread;

/* word 0: tag, word 1: size in words, last word: ~tag */
static uint64_t* object_new(mi_bench_rng_t* rng, uint64_t id) {
  size_t r = mi_bench_rng_below(rng, 1000);
  size_t words;
  if (r < 900) words = mi_bench_rng_range(rng, 3, 32);
  else if (r < 995) words = mi_bench_rng_range(rng, 33, 512);
  else words = mi_bench_rng_range(rng, 513, 32768);
  uint64_t* object = mi_bench_malloc_checked(words * sizeof(uint64_t));
  uint64_t tag = mi_bench_tag_make(id, words);
  object[0] = tag;
  object[1] = words;
  object[words - 1] = ~tag;
  return object;
}

static void object_free(uint64_t* object) {
  size_t words = (size_t)object[1];
  if (words < 3 || words > 32768 || object[words - 1] != ~object[0]) {
    mi_bench_fail("stress: object %p lost its stamp", (void*)object);
  }
  free(object);
}

static void* worker_main(void* arg) {
  (void)arg;
  uint64_t number = atomic_fetch_add_explicit(&next_thread, 1, memory_order_relaxed);
  mi_bench_rng_t rng;
  mi_bench_rng_init(&rng, 1400 + number);
  uint64_t* working[WORKING_SET] = {0};
  uint64_t id = number << 32;
  for (long step = 0; step < steps_per_thread; step++) {
    size_t r = mi_bench_rng_below(&rng, 100);
    size_t slot = mi_bench_rng_below(&rng, WORKING_SET);
    if (r < 70) {
      if (working[slot] != NULL) object_free(working[slot]);
      working[slot] = object_new(&rng, id++);
    } else if (r < 90) {
      if (working[slot] != NULL) object_free(working[slot]);
      working[slot] = NULL;
    } else {
      uint64_t* given = (working[slot] != NULL ? working[slot] : object_new(&rng, id++));
      working[slot] = atomic_exchange(&transfer[mi_bench_rng_below(&rng, TRANSFER_SLOTS)], given);
    }
  }
  for (size_t i = 0; i < WORKING_SET; i++) {
    if (working[i] == NULL) continue;
    if (i % 2 == 0) {
      object_free(working[i]);
    } else {
      uint64_t* old = atomic_exchange(&transfer[mi_bench_rng_below(&rng, TRANSFER_SLOTS)], working[i]);
      if (old != NULL) object_free(old);
    }
  }
  return NULL;
}

int main(int argc, char** argv) {
  long rounds = mi_bench_arg_long(argc, argv, 1, 50);
  long threads = mi_bench_arg_long(argc, argv, 2, 2);
  steps_per_thread = mi_bench_arg_long(argc, argv, 3, 20000);
  if (threads > MAX_THREADS) threads = MAX_THREADS;
  double start = mi_bench_now();
  for (long round = 0; round < rounds; round++) {
    pthread_t running[MAX_THREADS];
    for (long t = 0; t < threads; t++) {
      if (pthread_create(&running[t], NULL, worker_main, NULL) != 0) mi_bench_fail("pthread_create");
    }
    for (long t = 0; t < threads; t++) pthread_join(running[t], NULL);
  }
  size_t left = 0;
  for (size_t i = 0; i < TRANSFER_SLOTS; i++) {
    uint64_t* object = atomic_exchange(&transfer[i], NULL);
    if (object != NULL) {
      object_free(object);
      left++;
    }
  }
  printf("workload=stress rounds=%ld threads=%ld steps=%ld left=%zu seconds=%.3f\n", rounds, threads,
         steps_per_thread, left, mi_bench_now() - start);
  return 0;
}

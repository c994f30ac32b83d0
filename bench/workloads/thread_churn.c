/* Workload 7: thread churn with live data left behind.
 *
 * Short-lived threads (four at a time; as one ends the next starts) each
 * perform a few thousand allocations.  Some blocks are kept and freed by the
 * thread itself; the others are swapped into a shared pool, and whatever
 * block was in that pool slot (allocated by some earlier, often already
 * exited thread) is checked and freed.  A thread exits while the pool still
 * holds blocks it allocated, so its memory must be abandoned and later
 * freed or reclaimed by other threads.  Sizes are mostly small, with a few
 * 64 KiB..4 MiB blocks.  This measures thread start/exit cost, abandon and
 * reclaim, and frees into memory whose owner has gone.
 *
 * usage: thread_churn [steps_in_thousands_total] [concurrent_threads]
 */
#include "bench_common.h"

#include <pthread.h>
#include <stdatomic.h>

#define POOL_SLOTS 16384
#define STEPS_PER_THREAD 4000
#define LOCAL_KEEP 64
#define MAX_THREADS 32

/* block layout: word 0 tag, word 1 size, last word ~tag */
static _Atomic(uint64_t*) pool[POOL_SLOTS];
static _Atomic(uint64_t) blocks_freed;
static _Atomic(uint64_t) thread_counter;

static uint64_t* block_new(mi_bench_rng_t* rng, uint64_t id) {
  size_t size;
  uint64_t r = mi_bench_rng_below(rng, 2048);
  if (r == 0) size = mi_bench_rng_log_range(rng, 64 * 1024, 4 * 1024 * 1024);
  else if (r < 64) size = mi_bench_rng_range(rng, 1025, 16384);
  else size = mi_bench_rng_range(rng, 24, 1024); /* >= 24: size word must not overlap the tail stamp */
  uint64_t* block = mi_bench_malloc_checked(size);
  uint64_t tag = mi_bench_tag_make(id, size);
  mi_bench_stamp_write(block, size, tag);
  block[1] = size;
  return block;
}

static void block_free(uint64_t* block, const char* where) {
  size_t size = (size_t)block[1];
  if (size < 24 || size > 4 * 1024 * 1024) mi_bench_fail("thread_churn: %s: block %p has a bad size word", where, (void*)block);
  uint64_t tail;
  memcpy(&tail, (char*)block + size - sizeof(tail), sizeof(tail));
  if (tail != ~block[0]) mi_bench_fail("thread_churn: %s: block %p of %zu bytes lost its stamp", where, (void*)block, size);
  free(block);
  atomic_fetch_add_explicit(&blocks_freed, 1, memory_order_relaxed);
}

static void pool_swap(mi_bench_rng_t* rng, uint64_t* block) {
  uint64_t* old = atomic_exchange(&pool[mi_bench_rng_below(rng, POOL_SLOTS)], block);
  if (old != NULL) block_free(old, "pool");
}

static void* worker_main(void* arg) {
  (void)arg;
  uint64_t number = atomic_fetch_add(&thread_counter, 1);
  mi_bench_rng_t rng;
  mi_bench_rng_init(&rng, 700 + number);
  uint64_t* kept[LOCAL_KEEP] = {0};
  uint64_t id = number << 32;
  for (size_t step = 0; step < STEPS_PER_THREAD; step++) {
    uint64_t* block = block_new(&rng, id++);
    if (mi_bench_rng_below(&rng, 10) < 6) {
      pool_swap(&rng, block);
    } else {
      size_t slot = step % LOCAL_KEEP;
      if (kept[slot] != NULL) block_free(kept[slot], "local");
      kept[slot] = block;
    }
  }
  /* on the way out: free half of what we kept, leave the rest to others */
  for (size_t i = 0; i < LOCAL_KEEP; i++) {
    if (kept[i] == NULL) continue;
    if (i % 2 == 0) block_free(kept[i], "exit");
    else pool_swap(&rng, kept[i]);
  }
  return NULL;
}

int main(int argc, char** argv) {
  long thousands = mi_bench_arg_long(argc, argv, 1, 12000);
  long concurrent = mi_bench_arg_long(argc, argv, 2, 4);
  if (concurrent > MAX_THREADS) concurrent = MAX_THREADS;
  size_t total_threads = (size_t)thousands * 1000 / STEPS_PER_THREAD;
  if (total_threads < (size_t)concurrent) total_threads = (size_t)concurrent;
  pthread_t running[MAX_THREADS];
  double start = mi_bench_now();
  for (long t = 0; t < concurrent; t++) {
    if (pthread_create(&running[t], NULL, worker_main, NULL) != 0) mi_bench_fail("pthread_create");
  }
  for (size_t started = (size_t)concurrent; started < total_threads; started++) {
    size_t slot = started % (size_t)concurrent;
    pthread_join(running[slot], NULL);
    if (pthread_create(&running[slot], NULL, worker_main, NULL) != 0) mi_bench_fail("pthread_create");
  }
  for (long t = 0; t < concurrent; t++) pthread_join(running[t], NULL);
  double elapsed = mi_bench_now() - start;
  size_t left = 0;
  for (size_t i = 0; i < POOL_SLOTS; i++) {
    uint64_t* block = atomic_exchange(&pool[i], NULL);
    if (block != NULL) {
      block_free(block, "final");
      left++;
    }
  }
  printf("workload=thread_churn threads=%zu concurrent=%ld freed=%llu left_behind=%zu seconds=%.3f\n", total_threads,
         concurrent, (unsigned long long)atomic_load(&blocks_freed), left, elapsed);
  return 0;
}

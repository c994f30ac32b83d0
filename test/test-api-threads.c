/* ----------------------------------------------------------------------------
API test: many threads allocating and freeing their own memory.

Rounds of 8 threads start together (barrier); each runs a fixed number of
random steps (fixed per-thread seed) over its own table of blocks: allocate
(mi_malloc / mi_zalloc / mi_calloc), free, or reallocate, with every block
filled with a per-block pattern and fully verified before it is freed or
reallocated. A thread leaves some blocks live when it finishes; the main
thread verifies and frees them after the join (the only cross-thread frees
here). Work is a fixed step count, so the verdict does not depend on timing;
CTest's timeout bounds the run. Usage: test-api-threads [threads] [steps] [rounds].
-----------------------------------------------------------------------------*/
#define _POSIX_C_SOURCE 200809L  // pthread_barrier_t under strict C11
#include <mimalloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "test-common.h"

#define MI_THREADS_MAX   64
#define MI_THREADS_SLOTS 512
#define MI_THREADS_LEFT_LIVE 16   // blocks a worker leaves for the main thread

typedef struct mi_thread_block_s {
  uint8_t* p;
  size_t size;
  uint64_t seed;
} mi_thread_block_t;

typedef struct mi_thread_work_s {
  pthread_t thread;
  size_t index;
  size_t round;
  size_t steps;
  pthread_barrier_t* start;
  mi_thread_block_t blocks[MI_THREADS_SLOTS];
  size_t allocs, frees, reallocs;
} mi_thread_work_t;

static size_t mi_thread_size(uint64_t* rng) {
  const size_t r = mi_test_random_below(rng, 1000);
  if (r < 900) return 1 + mi_test_random_below(rng, 512);
  if (r < 990) return 513 + mi_test_random_below(rng, 16 * 1024);
  return 16 * 1024 + mi_test_random_below(rng, 240 * 1024);
}

static void mi_thread_verify(mi_thread_work_t* w, const mi_thread_block_t* b, const char* when) {
  const size_t bad = mi_test_pattern_mismatch(b->p, 0, b->size, b->seed);
  CHECKF(bad == b->size, "round %zu thread %zu (%s): block %p of size %zu corrupted at offset %zu",
         w->round, w->index, when, (void*)b->p, b->size, bad);
}

static void* mi_thread_main(void* arg) {
  mi_thread_work_t* w = (mi_thread_work_t*)arg;
  uint64_t rng = UINT64_C(0xA54FF53A5F1D36F1) ^ ((uint64_t)(w->round * MI_THREADS_MAX + w->index) << 20);
  uint64_t next_seed = ((uint64_t)(w->round * MI_THREADS_MAX + w->index) << 40) + 1;
  pthread_barrier_wait(w->start);
  for (size_t step = 0; step < w->steps; step++) {
    mi_thread_block_t* b = &w->blocks[mi_test_random_below(&rng, MI_THREADS_SLOTS)];
    if (b->p == NULL) {
      const size_t size = mi_thread_size(&rng);
      const size_t how = mi_test_random_below(&rng, 4);
      b->p = (uint8_t*)(how == 0 ? mi_zalloc(size) : how == 1 ? mi_calloc(size, 1) : mi_malloc(size));
      CHECKF(b->p != NULL, "thread %zu: allocation of %zu bytes failed", w->index, size);
      if (b->p == NULL) continue;
      if (how <= 1) {
        CHECKF(mi_test_is_zero(b->p, 0, size), "thread %zu: zeroed block of %zu bytes not zero", w->index, size);
      }
      b->size = size;
      b->seed = (next_seed++) * UINT64_C(0xD1B54A32D192ED03);
      mi_test_pattern_fill(b->p, 0, size, b->seed);
      w->allocs++;
    }
    else if (mi_test_random_below(&rng, 3) != 0) {
      mi_thread_verify(w, b, "before free");
      mi_free(b->p);
      b->p = NULL;
      w->frees++;
    }
    else {
      mi_thread_verify(w, b, "before realloc");
      const size_t new_size = mi_thread_size(&rng);
      uint8_t* q = (uint8_t*)mi_realloc(b->p, new_size);
      CHECKF(q != NULL, "thread %zu: realloc to %zu failed", w->index, new_size);
      if (q == NULL) continue;
      const size_t keep = (b->size < new_size ? b->size : new_size);
      CHECKF(mi_test_pattern_ok(q, 0, keep, b->seed), "thread %zu: realloc %zu -> %zu lost content",
             w->index, b->size, new_size);
      if (new_size > b->size) mi_test_pattern_fill(q, b->size, new_size, b->seed);
      b->p = q;
      b->size = new_size;
      w->reallocs++;
    }
  }
  // free all but a few, which are handed to the main thread
  size_t kept = 0;
  for (size_t i = 0; i < MI_THREADS_SLOTS; i++) {
    mi_thread_block_t* b = &w->blocks[i];
    if (b->p == NULL) continue;
    mi_thread_verify(w, b, "at thread end");
    if (kept < MI_THREADS_LEFT_LIVE) { kept++; continue; }
    mi_free(b->p);
    b->p = NULL;
    w->frees++;
  }
  return NULL;
}

int main(int argc, char** argv) {
  size_t thread_count = 8;
  size_t steps = 100000;
  size_t rounds = 3;
  if (argc > 1) thread_count = (size_t)strtoull(argv[1], NULL, 10);
  if (argc > 2) steps = (size_t)strtoull(argv[2], NULL, 10);
  if (argc > 3) rounds = (size_t)strtoull(argv[3], NULL, 10);
  if (thread_count < 1) thread_count = 1;
  if (thread_count > MI_THREADS_MAX) thread_count = MI_THREADS_MAX;

  static mi_thread_work_t work[MI_THREADS_MAX];
  size_t allocs = 0, frees = 0, reallocs = 0, handed_over = 0;
  for (size_t round = 0; round < rounds; round++) {
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)thread_count);
    size_t started = 0;
    for (size_t i = 0; i < thread_count; i++) {
      mi_thread_work_t* w = &work[i];
      memset(w, 0, sizeof(*w));
      w->index = i;
      w->round = round;
      w->steps = steps;
      w->start = &start;
      const int err = pthread_create(&w->thread, NULL, &mi_thread_main, w);
      CHECKF(err == 0, "pthread_create failed with %d", err);
      if (err != 0) break;
      started++;
    }
    if (started != thread_count) {  // cannot pass the barrier; report and stop
      fprintf(stderr, "could not start %zu threads\n", thread_count);
      return mi_test_summary("test-api-threads") | 1;
    }
    for (size_t i = 0; i < thread_count; i++) pthread_join(work[i].thread, NULL);
    pthread_barrier_destroy(&start);
    // the blocks left live by the (now finished) workers
    for (size_t i = 0; i < thread_count; i++) {
      mi_thread_work_t* w = &work[i];
      for (size_t s = 0; s < MI_THREADS_SLOTS; s++) {
        mi_thread_block_t* b = &w->blocks[s];
        if (b->p == NULL) continue;
        mi_thread_verify(w, b, "after join");
        mi_free(b->p);
        b->p = NULL;
        handed_over++;
      }
      allocs += w->allocs;
      frees += w->frees;
      reallocs += w->reallocs;
    }
  }
  printf("test-api-threads: %zu rounds of %zu threads x %zu steps: %zu allocations, %zu frees, "
         "%zu reallocations, %zu blocks freed by the main thread after join\n",
         rounds, thread_count, steps, allocs, frees, reallocs, handed_over);
  return mi_test_summary("test-api-threads");
}

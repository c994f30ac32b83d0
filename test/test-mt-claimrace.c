/* ----------------------------------------------------------------------------
mt-claimrace: many claimants meet one abandoned segment at the same instant.

Each round:
  1. a producer thread allocates one small block per claimant (all on one page
     of its segment), publishes them and exits holding them: the segment is
     abandoned;
  2. fresh claimant threads set up their heaps and wait at a spinning
     barrier together with fresh searcher threads that have not allocated
     yet;
  3. the barrier opens: every claimant frees its block into the abandoned
     segment at the same instant (each one tries to reclaim it on free), and
     every searcher makes its first allocation (it scans the abandoned set and
     tries to reclaim on allocation).
Exactly one of them may win the segment; the others must back off (a
claimant's block then goes onto the page's thread-free list). A second winner
shows up as a claim overlap, a corrupted block, or a crash.

The verdict adds to the shared checks: reclaims on free happened, and every
round met its barrier. How often the claimants really met (claims lost) is
printed.
-----------------------------------------------------------------------------*/
#include "test-mt-common.h"

#define MI_CLAIMRACE_CLAIMANTS 4
#define MI_CLAIMRACE_SEARCHERS 2
#define MI_CLAIMRACE_THREADS (MI_CLAIMRACE_CLAIMANTS + MI_CLAIMRACE_SEARCHERS)

typedef struct mi_claimrace_state_s {
  _Atomic(void*) blocks[MI_CLAIMRACE_CLAIMANTS];
  void* found[MI_CLAIMRACE_SEARCHERS]; // a searcher's block, freed by the main thread after the join
  atomic_int arrived;                  // threads waiting at the barrier
  atomic_long open_round;              // the barrier opens when this equals the round
  long round;
} mi_claimrace_state_t;

static mi_claimrace_state_t mi_claimrace;

// Spins until the main thread opens the barrier of `round` (yields now and
// then so that a waiting thread cannot starve the others on a small machine).
static void mi_claimrace_barrier_wait(long round) {
  atomic_fetch_add_explicit(&mi_claimrace.arrived, 1, memory_order_acq_rel);
  unsigned spins = 0;
  while (atomic_load_explicit(&mi_claimrace.open_round, memory_order_acquire) != round) {
    if (++spins % 256 == 0) sched_yield();
  }
}

static void* mi_claimrace_producer_run(void* arg) {
  (void)arg;
  mi_mt_random_t random;
  mi_mt_random_init_thread(&random, (uint64_t)mi_claimrace.round);
  const size_t size = mi_mt_random_range(&random, MI_MT_MIN_BLOCK, 256);
  for (size_t i = 0; i < MI_CLAIMRACE_CLAIMANTS; i++) {
    void* block = mi_mt_block_alloc(size);
    if (block != NULL) mi_mt_slot_publish(&mi_claimrace.blocks[i], block);
  }
  return NULL; // exits holding the blocks: the segment is abandoned
}

static void* mi_claimrace_claimant_run(void* arg) {
  const size_t index = (size_t)(uintptr_t)arg;
  mi_mt_thread_heap_init(); // owns a segment of its own, so it may reclaim one
  void* block = mi_mt_slot_take(&mi_claimrace.blocks[index]);
  mi_claimrace_barrier_wait(mi_claimrace.round);
  mi_mt_block_free(block);
  return NULL;
}

static void* mi_claimrace_searcher_run(void* arg) {
  const size_t index = (size_t)(uintptr_t)arg;
  mi_claimrace_barrier_wait(mi_claimrace.round);
  // The first allocation of this thread: no span of its own, so it looks at
  // the abandoned set first.
  mi_claimrace.found[index] = mi_mt_block_alloc(MI_MT_MIN_BLOCK);
  return NULL;
}

static void mi_claimrace_round_run(void) {
  mi_claimrace.round++;
  atomic_store_explicit(&mi_claimrace.arrived, 0, memory_order_relaxed);
  pthread_t producer;
  mi_mt_thread_start(&producer, &mi_claimrace_producer_run, NULL);
  mi_mt_thread_join(producer);

  pthread_t threads[MI_CLAIMRACE_THREADS];
  for (size_t i = 0; i < MI_CLAIMRACE_CLAIMANTS; i++) {
    mi_mt_thread_start(&threads[i], &mi_claimrace_claimant_run, (void*)(uintptr_t)i);
  }
  for (size_t i = 0; i < MI_CLAIMRACE_SEARCHERS; i++) {
    mi_mt_thread_start(&threads[MI_CLAIMRACE_CLAIMANTS + i], &mi_claimrace_searcher_run, (void*)(uintptr_t)i);
  }
  while (atomic_load_explicit(&mi_claimrace.arrived, memory_order_acquire) < MI_CLAIMRACE_THREADS) {
    sched_yield();
  }
  atomic_store_explicit(&mi_claimrace.open_round, mi_claimrace.round, memory_order_release);
  for (size_t i = 0; i < MI_CLAIMRACE_THREADS; i++) {
    mi_mt_thread_join(threads[i]);
  }
  for (size_t i = 0; i < MI_CLAIMRACE_SEARCHERS; i++) {
    mi_mt_block_free(mi_claimrace.found[i]);
    mi_claimrace.found[i] = NULL;
  }
  mi_mt_abandoned_sample();
  mi_mt_count_add(&mi_mt_counts.rounds, 1);
}

int main(void) {
  mi_mt_init("mt-claimrace", 10.0);
  mi_option_enable(mi_option_abandoned_reclaim_on_free);
  mi_option_set(mi_option_max_segment_reclaim, 100);
  const long rounds = mi_mt_scaled(2000, 10);
  const long minimum_rounds = 10;
  for (long round = 0; round < rounds; round++) {
    if (round >= minimum_rounds && mi_mt_deadline_passed()) {
      printf("mi-test: note: time budget reached after %ld of %ld rounds\n", round, rounds);
      break;
    }
    mi_claimrace_round_run();
  }
  mi_mt_reclaim_everything();
  const mi_test_counters_t c = mi_mt_counters();
  mi_mt_require_path("abandon (thread exit with live blocks)", c.abandons);
  mi_mt_require_path("reclaim on free", c.reclaims_on_free);
  mi_mt_require_path("cross-thread free", mi_mt_count_get(&mi_mt_counts.cross_thread_frees));
  printf("mi-test: claimants_met (claims lost): %lld\n", c.claims_lost);
  return mi_mt_finish();
}

/* ----------------------------------------------------------------------------
mt-coalesce: freed spans merge with their free neighbours, in segments a
thread owns and in segments taken from the abandoned set, and the merged
space is reusable afterwards.

Each round:
  owned      two threads each allocate a run of large blocks (every block a
             span of its own) and free them in four orders: holes first then
             the rest ascending / descending (each free merges with both
             neighbours), all ascending (merges with the previous span), all
             descending (merges with the next span).
  abandoned  an owner allocates a run of large blocks, frees every other one
             (holes), hands the rest to other threads and exits, so its
             segment is abandoned with holes between live spans.
             A: reclaim-on-free off. Freers free half of the handed blocks
                while the segment is abandoned (their pages become empty but
                stay in the abandoned segment), then the other half while a
                fresh thread reclaims by allocating; the main thread finally
                reclaims whatever is left. Whoever takes the segment merges
                the emptied pages with the holes.
             B: reclaim-on-free on. Freers (heaps initialized before the owner
                exits) free the handed blocks, so the first free claims the
                segment, while a fresh thread reclaims by allocating.
  reuse      a fresh thread allocates 30 blocks of 1 MiB (nearly a segment),
             checks they do not overlap and keep their pattern, frees them.
Options are changed only while no worker thread runs.
-----------------------------------------------------------------------------*/
#include "test-mt-common.h"

#define MI_COALESCE_BLOCKS        16                   // large blocks per run
#define MI_COALESCE_MIN_SIZE      (200 * MI_MT_KIB)
#define MI_COALESCE_MAX_SIZE      (1536 * MI_MT_KIB)   // 16 blocks stay below one segment
#define MI_COALESCE_SMALL_BLOCKS  8
#define MI_COALESCE_SLOTS         (MI_COALESCE_BLOCKS / 2 + MI_COALESCE_SMALL_BLOCKS)
#define MI_COALESCE_OWNED_THREADS 2
#define MI_COALESCE_FREERS        2
#define MI_COALESCE_REUSE_BLOCKS  30
#define MI_COALESCE_REUSE_SIZE    (1 * MI_MT_MIB)

typedef struct mi_coalesce_state_s {
  uint64_t round;
  _Atomic(void*) slots[MI_COALESCE_SLOTS];
  size_t range_from;        // freers take slots [range_from, range_to)
  size_t range_to;
  bool   freers_init_heap;  // freers allocate once before waiting for `go`
  atomic_int freers_ready;
  atomic_int go;
} mi_coalesce_state_t;

static mi_coalesce_state_t mi_coalesce_state;

typedef enum mi_coalesce_order_e {
  MI_COALESCE_HOLES_ASCENDING,    // evens, then odds ascending: merges both ways
  MI_COALESCE_HOLES_DESCENDING,   // evens, then odds descending: merges both ways
  MI_COALESCE_ASCENDING,          // 0,1,2,...: each free merges with the previous span
  MI_COALESCE_DESCENDING,         // n-1,...,0: each free merges with the next span
  MI_COALESCE_ORDER_COUNT
} mi_coalesce_order_t;

static void mi_coalesce_run_alloc(mi_mt_random_t* random, void** blocks, size_t count) {
  for (size_t i = 0; i < count; i++) {
    blocks[i] = mi_mt_block_alloc(mi_mt_random_range(random, MI_COALESCE_MIN_SIZE, MI_COALESCE_MAX_SIZE));
  }
}

static void mi_coalesce_run_free(void** blocks, size_t count, mi_coalesce_order_t order) {
  switch (order) {
    case MI_COALESCE_HOLES_ASCENDING:
    case MI_COALESCE_HOLES_DESCENDING:
      for (size_t i = 0; i < count; i += 2) mi_mt_block_free(blocks[i]);
      if (order == MI_COALESCE_HOLES_ASCENDING) {
        for (size_t i = 1; i < count; i += 2) mi_mt_block_free(blocks[i]);
      }
      else {
        const size_t last_odd = (count % 2 == 0 ? count - 1 : count - 2);
        for (size_t i = last_odd + 2; i >= 3; i -= 2) mi_mt_block_free(blocks[i - 2]);
      }
      break;
    case MI_COALESCE_ASCENDING:
      for (size_t i = 0; i < count; i++) mi_mt_block_free(blocks[i]);
      break;
    default:
      for (size_t i = count; i > 0; i--) mi_mt_block_free(blocks[i - 1]);
      break;
  }
}

// Owned segments: allocate a run, free it in every order.
static void* mi_coalesce_owned_run(void* arg) {
  mi_mt_random_t random;
  mi_mt_random_init_thread(&random, mi_coalesce_state.round * 7 + (uint64_t)(uintptr_t)arg);
  void* blocks[MI_COALESCE_BLOCKS];
  for (int order = 0; order < MI_COALESCE_ORDER_COUNT; order++) {
    mi_coalesce_run_alloc(&random, blocks, MI_COALESCE_BLOCKS);
    mi_coalesce_run_free(blocks, MI_COALESCE_BLOCKS, (mi_coalesce_order_t)order);
    mi_collect(false);   // pages kept back for reuse go to their segment now
  }
  return NULL;
}

// The owner of the abandoned case: holes, hand out the rest, exit.
static void* mi_coalesce_owner_run(void* arg) {
  (void)arg;
  mi_mt_random_t random;
  mi_mt_random_init_thread(&random, mi_coalesce_state.round * 13);
  void* small[MI_COALESCE_SMALL_BLOCKS];
  for (size_t i = 0; i < MI_COALESCE_SMALL_BLOCKS; i++) {
    small[i] = mi_mt_block_alloc(mi_mt_size_small(&random));
  }
  void* blocks[MI_COALESCE_BLOCKS];
  mi_coalesce_run_alloc(&random, blocks, MI_COALESCE_BLOCKS);
  for (size_t i = 0; i < MI_COALESCE_BLOCKS; i += 2) {
    mi_mt_block_free(blocks[i]);      // holes while we own the segment
  }
  mi_collect(false);
  size_t slot = 0;
  for (size_t i = 1; i < MI_COALESCE_BLOCKS; i += 2) {
    mi_mt_slot_publish(&mi_coalesce_state.slots[slot++], blocks[i]);
  }
  for (size_t i = 0; i < MI_COALESCE_SMALL_BLOCKS; i++) {
    mi_mt_slot_publish(&mi_coalesce_state.slots[slot++], small[i]);
  }
  return NULL;   // exit holding the odd blocks: the segment is abandoned
}

static void* mi_coalesce_freer_run(void* arg) {
  (void)arg;
  if (mi_coalesce_state.freers_init_heap) {
    mi_mt_thread_heap_init();
  }
  atomic_fetch_add_explicit(&mi_coalesce_state.freers_ready, 1, memory_order_acq_rel);
  while (atomic_load_explicit(&mi_coalesce_state.go, memory_order_acquire) == 0) {
    sched_yield();
  }
  mi_mt_slots_free(&mi_coalesce_state.slots[mi_coalesce_state.range_from],
                   mi_coalesce_state.range_to - mi_coalesce_state.range_from);
  return NULL;
}

// A fresh thread that needs pages: it looks at the abandoned set first.
static void* mi_coalesce_reclaimer_run(void* arg) {
  (void)arg;
  mi_mt_random_t random;
  mi_mt_random_init_thread(&random, mi_coalesce_state.round * 17);
  enum { COUNT = 24 };
  void* blocks[COUNT];
  for (size_t i = 0; i < COUNT; i++) {
    blocks[i] = mi_mt_block_alloc(mi_mt_size_mixed(&random, 25, 25, 1 * MI_MT_MIB));
  }
  for (size_t i = 0; i < COUNT; i++) {
    mi_mt_block_free(blocks[i]);
  }
  return NULL;
}

// Starts the freers on [from, to) (and a reclaimer if asked), joins them all.
static void mi_coalesce_freers_run(size_t from, size_t to, bool with_reclaimer) {
  pthread_t freers[MI_COALESCE_FREERS];
  pthread_t reclaimer;
  mi_coalesce_state.range_from = from;
  mi_coalesce_state.range_to = to;
  atomic_store_explicit(&mi_coalesce_state.go, 1, memory_order_release);
  for (size_t i = 0; i < MI_COALESCE_FREERS; i++) {
    mi_mt_thread_start(&freers[i], &mi_coalesce_freer_run, NULL);
  }
  if (with_reclaimer) mi_mt_thread_start(&reclaimer, &mi_coalesce_reclaimer_run, NULL);
  for (size_t i = 0; i < MI_COALESCE_FREERS; i++) {
    mi_mt_thread_join(freers[i]);
  }
  if (with_reclaimer) mi_mt_thread_join(reclaimer);
}

static void mi_coalesce_owner_start_and_join(void) {
  pthread_t owner;
  mi_mt_thread_start(&owner, &mi_coalesce_owner_run, NULL);
  mi_mt_thread_join(owner);
}

// A: reclaim-on-free off; frees pile up in the abandoned segment.
static void mi_coalesce_abandoned_without_reclaim_on_free(void) {
  mi_option_disable(mi_option_abandoned_reclaim_on_free);
  mi_coalesce_state.freers_init_heap = false;
  mi_coalesce_owner_start_and_join();
  const size_t half = MI_COALESCE_BLOCKS / 4;
  mi_coalesce_freers_run(0, half, false);                     // only while abandoned
  mi_coalesce_freers_run(half, MI_COALESCE_SLOTS, true);      // while a thread reclaims
  mi_mt_reclaim_everything();                                 // take what is left
  mi_option_enable(mi_option_abandoned_reclaim_on_free);
}

// B: reclaim-on-free on; the first free into the abandoned segment claims it.
static void mi_coalesce_abandoned_with_reclaim_on_free(void) {
  mi_option_enable(mi_option_abandoned_reclaim_on_free);
  pthread_t freers[MI_COALESCE_FREERS];
  pthread_t reclaimer;
  mi_coalesce_state.freers_init_heap = true;
  mi_coalesce_state.range_from = 0;
  mi_coalesce_state.range_to = MI_COALESCE_SLOTS;
  atomic_store_explicit(&mi_coalesce_state.go, 0, memory_order_release);
  atomic_store_explicit(&mi_coalesce_state.freers_ready, 0, memory_order_release);
  for (size_t i = 0; i < MI_COALESCE_FREERS; i++) {
    mi_mt_thread_start(&freers[i], &mi_coalesce_freer_run, NULL);
  }
  while (atomic_load_explicit(&mi_coalesce_state.freers_ready, memory_order_acquire) < MI_COALESCE_FREERS) {
    sched_yield();
  }
  mi_coalesce_owner_start_and_join();
  atomic_store_explicit(&mi_coalesce_state.go, 1, memory_order_release);
  mi_mt_thread_start(&reclaimer, &mi_coalesce_reclaimer_run, NULL);
  for (size_t i = 0; i < MI_COALESCE_FREERS; i++) {
    mi_mt_thread_join(freers[i]);
  }
  mi_mt_thread_join(reclaimer);
}

static int mi_coalesce_address_compare(const void* a, const void* b) {
  const uintptr_t x = (uintptr_t)*(void* const*)a;
  const uintptr_t y = (uintptr_t)*(void* const*)b;
  return (x < y ? -1 : (x > y ? 1 : 0));
}

static atomic_llong mi_coalesce_reuse_segments_max;

// Nearly a segment's worth of 1 MiB blocks: distinct, non-overlapping, intact.
static void* mi_coalesce_reuse_run(void* arg) {
  (void)arg;
  void* blocks[MI_COALESCE_REUSE_BLOCKS];
  for (size_t i = 0; i < MI_COALESCE_REUSE_BLOCKS; i++) {
    blocks[i] = mi_mt_block_alloc(MI_COALESCE_REUSE_SIZE);
  }
  void* sorted[MI_COALESCE_REUSE_BLOCKS];
  memcpy(sorted, blocks, sizeof(sorted));
  qsort(sorted, MI_COALESCE_REUSE_BLOCKS, sizeof(void*), &mi_coalesce_address_compare);
  long long segments = 0;
  uintptr_t last_segment = 0;
  for (size_t i = 0; i < MI_COALESCE_REUSE_BLOCKS; i++) {
    if (sorted[i] == NULL) continue;
    const uintptr_t segment = (uintptr_t)sorted[i] & ~((uintptr_t)MI_MT_SEGMENT_SIZE - 1);
    if (segment != last_segment) { segments++; last_segment = segment; }
    if (i + 1 < MI_COALESCE_REUSE_BLOCKS && sorted[i + 1] != NULL &&
        (uintptr_t)sorted[i] + MI_COALESCE_REUSE_SIZE > (uintptr_t)sorted[i + 1]) {
      mi_mt_corruption(sorted[i], "overlaps the block at %p", sorted[i + 1]);
    }
  }
  long long seen = atomic_load_explicit(&mi_coalesce_reuse_segments_max, memory_order_relaxed);
  while (segments > seen &&
         !atomic_compare_exchange_weak_explicit(&mi_coalesce_reuse_segments_max, &seen, segments,
                                                memory_order_relaxed, memory_order_relaxed)) { }
  for (size_t i = 0; i < MI_COALESCE_REUSE_BLOCKS; i++) {
    mi_mt_block_free(blocks[i]);
  }
  return NULL;
}

// One round of all cases. Must run while no other worker threads run (it
// changes options).
static void mi_coalesce_round_run(void) {
  mi_coalesce_state.round++;
  pthread_t owned[MI_COALESCE_OWNED_THREADS];
  for (size_t i = 0; i < MI_COALESCE_OWNED_THREADS; i++) {
    mi_mt_thread_start(&owned[i], &mi_coalesce_owned_run, (void*)(uintptr_t)i);
  }
  for (size_t i = 0; i < MI_COALESCE_OWNED_THREADS; i++) {
    mi_mt_thread_join(owned[i]);
  }
  mi_coalesce_abandoned_without_reclaim_on_free();
  mi_coalesce_abandoned_with_reclaim_on_free();
  pthread_t reuse;
  mi_mt_thread_start(&reuse, &mi_coalesce_reuse_run, NULL);
  mi_mt_thread_join(reuse);
  mi_mt_abandoned_sample();
  mi_mt_count_add(&mi_mt_counts.rounds, 1);
}

#ifndef MI_MT_SOAK
static void mi_coalesce_paths_require(void) {
  mi_test_counters_t c = mi_mt_counters();
  mi_mt_require_path("coalesce with previous span", c.coalesce_prev);
  mi_mt_require_path("coalesce with next span", c.coalesce_next);
  mi_mt_require_path("coalesce with previous span in a segment taken from the abandoned set", c.coalesce_prev_abandoned);
  mi_mt_require_path("coalesce with next span in a segment taken from the abandoned set", c.coalesce_next_abandoned);
  mi_mt_require_path("abandon (thread exit with live blocks)", c.abandons);
  mi_mt_require_path("cross-thread free", mi_mt_count_get(&mi_mt_counts.cross_thread_frees));
}

int main(void) {
  mi_mt_init("mt-coalesce", 25.0);
  mi_option_set(mi_option_max_segment_reclaim, 100);
  const long rounds = mi_mt_scaled(300, 3);
  const long minimum_rounds = 3;
  for (long round = 0; round < rounds; round++) {
    if (round >= minimum_rounds && mi_mt_deadline_passed()) {
      printf("mi-test: note: time budget reached after %ld of %ld rounds\n", round, rounds);
      break;
    }
    mi_coalesce_round_run();
  }
  mi_mt_reclaim_everything();
  printf("mi-test: reuse_segments_max: %lld\n",
         atomic_load_explicit(&mi_coalesce_reuse_segments_max, memory_order_relaxed));
  mi_coalesce_paths_require();
  return mi_mt_finish();
}
#endif

/* ----------------------------------------------------------------------------
mt-abandonrace: a claimant takes a segment over the instant it is abandoned.

Each round:
  1. a producer fragments its segment: large blocks of 4 slices, every other
     one freed, so its span queues hold many free spans of the segment whose
     purges are pending (the test runs with `abandoned_page_purge`, so the
     abandoner purges them all, one system call per span, before the
     segment's metadata is final: real work inside the abandon);
  2. a claimant thread watches the abandoned-set size (the test counter
     `segments_abandoned_now`) in a tight loop while the producer exits;
  3. the moment the segment shows up in the set, the claimant frees a block
     into it, which reclaims it on free: it inserts the segment's free spans
     into its own span queues and adopts its pages.
If the abandoner published the segment before its metadata was final (spans
still in its own queues, purges not yet done), both threads edit the same
span links, queues and purge lists at once, and the abandoner's purges wipe
blocks the claimant has already carved out of the adopted spans: corrupted
blocks, assertion failures or crashes. The claimant carves blocks out of the
adopted spans right away; all of them must be intact.
The claimant meets the abandon only by chance, so the first round holds the
producer inside its abandon with the allocator's test hook (its slices
checked, its spans still in its queues, not yet published) until the
claimant has reclaimed and carved, for at most half a second, and the
claimant keeps its carved blocks until the producer is gone: a segment
published too early is then reclaimed during the hold every time, and the
producer's own edits of its spans and purges run over the claimant's.
-----------------------------------------------------------------------------*/
#include "test-mt-common.h"

#define MI_ABANDONRACE_LARGE (256 * MI_MT_KIB) // a span of 4 slices
#define MI_ABANDONRACE_BLOCKS 120              // large blocks placed by the producer (480 slices)
#define MI_ABANDONRACE_CARVE 40                // blocks the claimant allocates from the adopted spans

typedef struct mi_abandonrace_state_s {
  void* kept[MI_ABANDONRACE_BLOCKS]; // the producer's blocks still alive
  _Atomic(void*) bait;               // a small block of the producer, freed by the claimant
  atomic_int claimant_ready;         // the claimant has read the baseline of the abandoned set
  long long met;                     // rounds in which the claimant saw the segment abandoned in time
} mi_abandonrace_state_t;

static mi_abandonrace_state_t mi_abandonrace;

// The hold of the first round (see above).
enum {
  MI_HOLD_INACTIVE, // no hold (rounds after the first)
  MI_HOLD_ARMED,    // round 1: the producer's abandon will be held
  MI_HOLD_HELD,     // the producer is inside its abandon
  MI_HOLD_CARVED,   // the claimant reclaimed the segment and carved blocks from it
  MI_HOLD_DONE      // the producer went on (after the claimant, or after half a second)
};
static atomic_int mi_abandonrace_hold;                   // MI_HOLD_*
static atomic_int mi_abandonrace_producer_gone;          // round 1: the producer has been joined
static _Atomic(const void*) mi_abandonrace_bait_segment; // the segment the claimant reclaims
static _Thread_local bool mi_abandonrace_is_producer;

static void mi_abandonrace_hook(mi_test_point_t point, const void* segment) {
  // The producer may abandon more than one segment: hold the one the claimant will reclaim.
  if (point != MI_TEST_POINT_ABANDON || !mi_abandonrace_is_producer ||
      segment != atomic_load_explicit(&mi_abandonrace_bait_segment, memory_order_acquire))
    return;
  int expected = MI_HOLD_ARMED;
  if (!atomic_compare_exchange_strong_explicit(&mi_abandonrace_hold, &expected, MI_HOLD_HELD,
                                               memory_order_acq_rel, memory_order_acquire))
    return;
  // A correct abandon has not published the segment yet, so the claimant
  // cannot reclaim it: the hold then ends after half a second.
  const double start = mi_mt_elapsed();
  while (atomic_load_explicit(&mi_abandonrace_hold, memory_order_acquire) != MI_HOLD_CARVED &&
         mi_mt_elapsed() - start < 0.5)
    sched_yield();
  atomic_store_explicit(&mi_abandonrace_hold, MI_HOLD_DONE, memory_order_release);
}

static void* mi_abandonrace_producer_run(void* arg) {
  (void)arg;
  mi_abandonrace_is_producer = true;
  void* blocks[MI_ABANDONRACE_BLOCKS];
  for (size_t i = 0; i < MI_ABANDONRACE_BLOCKS; i++) {
    blocks[i] = mi_mt_block_alloc(MI_ABANDONRACE_LARGE);
  }
  for (size_t i = 0; i < MI_ABANDONRACE_BLOCKS; i++) {
    mi_abandonrace.kept[i] = NULL;
    if (i % 2 == 1)
      mi_mt_block_free(blocks[i]);
    else
      mi_abandonrace.kept[i] = blocks[i];
  }
  void* bait = mi_mt_block_alloc(MI_MT_MIN_BLOCK);
  atomic_store_explicit(&mi_abandonrace_bait_segment, mi_test_segment_of(bait), memory_order_release);
  mi_mt_slot_publish(&mi_abandonrace.bait, bait);
  while (atomic_load_explicit(&mi_abandonrace.claimant_ready, memory_order_acquire) == 0) {
    sched_yield();
  }
  return NULL; // exits holding the blocks: the segment is abandoned
}

static void* mi_abandonrace_claimant_run(void* arg) {
  (void)arg;
  mi_mt_thread_heap_init(); // owns a segment of its own, so it may reclaim one
  const long long baseline = mi_mt_counters().segments_abandoned_now;
  atomic_store_explicit(&mi_abandonrace.claimant_ready, 1, memory_order_release);
  void* bait = NULL;
  while ((bait = mi_mt_slot_take(&mi_abandonrace.bait)) == NULL) {
    sched_yield();
  }
  // Spin (without yielding) until the producer's segment is in the set.
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  bool seen = false;
  while (!(seen = (mi_mt_counters().segments_abandoned_now > baseline))) {
    if (mi_mt_seconds_since(&start) > 2.0)
      break;
  }
  const uintptr_t bait_address = (uintptr_t)bait; // names the producer's segment after the free
  mi_mt_block_free(bait);                         // reclaim on free, right after the publication
  if (seen)
    mi_abandonrace.met++;
  // Use the adopted spans: carve blocks of the holes' size, check, free.
  // While the producer is held, only two: the holes left share a span queue,
  // whose links the producer's late removal would then cut.
  const size_t carve = (atomic_load_explicit(&mi_abandonrace_hold, memory_order_acquire) == MI_HOLD_HELD
                            ? 2
                            : MI_ABANDONRACE_CARVE);
  void* carved[MI_ABANDONRACE_CARVE] = {NULL};
  for (size_t i = 0; i < carve; i++) {
    carved[i] = mi_mt_block_alloc(MI_ABANDONRACE_LARGE);
  }
  if (mi_test_is_owned_by_me((const void*)bait_address))
    mi_mt_expect(mi_test_spans_queued((const void*)bait_address),
                 "a free span of the reclaimed segment is not in the claimant's span queues");
  // First round: release the held producer, and keep the blocks until it is gone.
  int held = MI_HOLD_HELD;
  if (atomic_compare_exchange_strong_explicit(&mi_abandonrace_hold, &held, MI_HOLD_CARVED,
                                              memory_order_acq_rel, memory_order_acquire)) {
    while (atomic_load_explicit(&mi_abandonrace_producer_gone, memory_order_acquire) == 0)
      sched_yield();
    // The producer's last edits must not have touched the adopted segment's spans.
    if (mi_test_is_owned_by_me((const void*)bait_address))
      mi_mt_expect(mi_test_spans_queued((const void*)bait_address),
                   "a free span of the reclaimed segment left the claimant's span queues");
    // Collect (purge lists, span queues) and use the adopted segment's spans
    // again.
    mi_collect(true);
    void* more[2 * MI_ABANDONRACE_CARVE];
    for (size_t i = 0; i < 2 * MI_ABANDONRACE_CARVE; i++)
      more[i] = mi_mt_block_alloc(MI_ABANDONRACE_LARGE * (1 + i % 3));
    for (size_t i = 0; i < 2 * MI_ABANDONRACE_CARVE; i++)
      mi_mt_block_free(more[i]);
    mi_collect(true);
  }
  for (size_t i = 0; i < MI_ABANDONRACE_CARVE; i++) {
    mi_mt_block_free(carved[i]);
  }
  return NULL;
}

static void mi_abandonrace_round_run(void) {
  atomic_store_explicit(&mi_abandonrace.claimant_ready, 0, memory_order_relaxed);
  pthread_t claimant;
  pthread_t producer;
  mi_mt_thread_start(&claimant, &mi_abandonrace_claimant_run, NULL);
  mi_mt_thread_start(&producer, &mi_abandonrace_producer_run, NULL);
  mi_mt_thread_join(producer);
  atomic_store_explicit(&mi_abandonrace_producer_gone, 1, memory_order_release);
  mi_mt_thread_join(claimant);
  if (atomic_load_explicit(&mi_abandonrace_hold, memory_order_acquire) != MI_HOLD_INACTIVE) {
    mi_mt_expect(atomic_load_explicit(&mi_abandonrace_hold, memory_order_acquire) == MI_HOLD_DONE,
                 "the producer's abandon was never held");
    atomic_store_explicit(&mi_abandonrace_hold, MI_HOLD_INACTIVE, memory_order_release);
  }
  for (size_t i = 0; i < MI_ABANDONRACE_BLOCKS; i++) {
    mi_mt_block_free(mi_abandonrace.kept[i]);
    mi_abandonrace.kept[i] = NULL;
  }
  // what the threads left behind goes to the main thread, so each round starts empty
  mi_mt_reclaim_everything();
  mi_mt_count_add(&mi_mt_counts.rounds, 1);
}

int main(void) {
  mi_mt_init("mt-abandonrace", 4.0);
  mi_option_enable(mi_option_abandoned_reclaim_on_free);
  mi_option_set(mi_option_max_segment_reclaim, 100);
  // The holes' purges stay pending until the abandon, which then runs them.
  mi_option_set(mi_option_purge_delay, 1000);
  mi_option_enable(mi_option_abandoned_page_purge);
  mi_test_set_hook(&mi_abandonrace_hook);
  atomic_store_explicit(&mi_abandonrace_hold, MI_HOLD_ARMED, memory_order_release);
  const long rounds = mi_mt_scaled(200, 4);
  for (long round = 0; round < rounds; round++) {
    if (round >= 4 && mi_mt_deadline_passed()) {
      printf("mi-test: note: time budget reached after %ld of %ld rounds\n", round, rounds);
      break;
    }
    mi_abandonrace_round_run();
  }
  mi_mt_reclaim_everything();
  const mi_test_counters_t c = mi_mt_counters();
  printf("mi-test: claimant_met_abandon: %lld\n", mi_abandonrace.met);
  mi_mt_require_path("abandon (thread exit with live blocks)", c.abandons);
  mi_mt_require_path("reclaim on free", c.reclaims_on_free);
  mi_mt_require_path("claimant saw the abandon", mi_abandonrace.met);
  return mi_mt_finish();
}

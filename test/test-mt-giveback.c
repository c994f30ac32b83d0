/* ----------------------------------------------------------------------------
mt-giveback: a claimant that does not need a normal segment gives it back,
and keeps nothing of it.

Each round, one thread at a time:
  1. a producer fills its segment with large blocks, frees every other one
     (holes of 16 slices that cannot merge) and exits holding the rest: its
     segment is abandoned with only small free spans;
  2. a searcher (a fresh thread) asks for a block bigger than any of those
     holes: it claims the abandoned segment, finds it unsuitable and gives it
     back. It then allocates blocks of the holes' size, which must all come
     from its own new segment: none may land in the given-back segment, and
     the given-back segment must not count as its own;
  3. a second fresh thread asks for a block of the holes' size: it reclaims
     the given-back segment and uses its holes;
  4. everything is freed by the main thread.
A claimant that kept the given-back segment's spans in its span queues would
allocate from a segment it does not own (caught in step 2), and two threads
would carve the same holes (corrupted blocks, crashes).
-----------------------------------------------------------------------------*/
#include "test-mt-common.h"

// Segments are 32 MiB on 64-bit targets and 8 MiB on 32-bit ones.
#define MI_GIVEBACK_SEGMENT_SIZE ((sizeof(void*) == 8 ? 32 : 8) * MI_MT_MIB)
#define MI_GIVEBACK_LARGE (1 * MI_MT_MIB) // the size of every hole
// Large blocks a producer places in its segment (30 in 32 MiB, 7 in 8 MiB: the
// tail left after them is smaller than a hole).
#define MI_GIVEBACK_BLOCKS (sizeof(void*) == 8 ? 30 : 7)
// Bigger than any hole, and still a large (not huge) block: the searcher gives back.
#define MI_GIVEBACK_NEED ((sizeof(void*) == 8 ? 4 : 2) * MI_MT_MIB)
// Blocks the searcher then allocates: they fit in its own new segment.
#define MI_GIVEBACK_SEARCH_BLOCKS (sizeof(void*) == 8 ? 8 : 4)

typedef struct mi_giveback_state_s {
  void* kept[MI_GIVEBACK_BLOCKS];          // the producer's blocks still alive
  uintptr_t segment;                       // the producer's segment
  void* searcher_blocks[MI_GIVEBACK_SEARCH_BLOCKS + 1];
  void* reclaimer_block;
  long long gave_back;                     // rounds in which the searcher gave the segment back
  long long reclaimed;                     // rounds in which the second thread took it
} mi_giveback_state_t;

static mi_giveback_state_t mi_giveback;

static uintptr_t mi_giveback_segment_of(const void* p) {
  return ((uintptr_t)p & ~((uintptr_t)MI_GIVEBACK_SEGMENT_SIZE - 1));
}

static void* mi_giveback_producer_run(void* arg) {
  (void)arg;
  void* blocks[MI_GIVEBACK_BLOCKS];
  for (size_t i = 0; i < MI_GIVEBACK_BLOCKS; i++) {
    blocks[i] = mi_mt_block_alloc(MI_GIVEBACK_LARGE);
  }
  mi_giveback.segment = mi_giveback_segment_of(blocks[0]);
  for (size_t i = 0; i < MI_GIVEBACK_BLOCKS; i++) {
    mi_giveback.kept[i] = NULL;
    if (blocks[i] != NULL && mi_giveback_segment_of(blocks[i]) != mi_giveback.segment) {
      mi_mt_fail("the producer's large blocks do not share one segment");
    }
    if (i % 2 == 0) mi_mt_block_free(blocks[i]);
    else mi_giveback.kept[i] = blocks[i];
  }
  return NULL; // exits holding the odd blocks: the segment is abandoned
}

static void* mi_giveback_searcher_run(void* arg) {
  (void)arg;
  const mi_test_counters_t before = mi_mt_counters();
  // No span of its own yet, and no hole is big enough: claim, inspect, give back.
  mi_giveback.searcher_blocks[0] = mi_mt_block_alloc(MI_GIVEBACK_NEED);
  const mi_test_counters_t after = mi_mt_counters();
  const bool gave_back = (after.claims_won > before.claims_won && after.segments_abandoned_now == 1);
  if (gave_back) mi_giveback.gave_back++;
  void* probe = mi_giveback.kept[1];
  if (probe != NULL && mi_test_is_owned_by_me(probe)) {
    mi_mt_fail("the searcher counts the given-back segment as its own");
  }
  for (size_t i = 1; i <= MI_GIVEBACK_SEARCH_BLOCKS; i++) {
    void* block = mi_mt_block_alloc(MI_GIVEBACK_LARGE);
    mi_giveback.searcher_blocks[i] = block;
    if (gave_back && block != NULL && mi_giveback_segment_of(block) == mi_giveback.segment) {
      mi_mt_fail("after giving the segment back, the searcher allocated a block from it");
    }
  }
  return NULL; // exits holding its blocks (freed by the main thread)
}

static void* mi_giveback_reclaimer_run(void* arg) {
  (void)arg;
  mi_giveback.reclaimer_block = mi_mt_block_alloc(MI_GIVEBACK_LARGE);
  if (mi_giveback.reclaimer_block != NULL &&
      mi_giveback_segment_of(mi_giveback.reclaimer_block) == mi_giveback.segment) {
    mi_giveback.reclaimed++;
  }
  return NULL;
}

static void mi_giveback_step(void* (*run)(void*)) {
  pthread_t thread;
  mi_mt_thread_start(&thread, run, NULL);
  mi_mt_thread_join(thread);
}

static void mi_giveback_round_run(void) {
  mi_giveback_step(&mi_giveback_producer_run);
  mi_giveback_step(&mi_giveback_searcher_run);
  mi_giveback_step(&mi_giveback_reclaimer_run);
  for (size_t i = 0; i < MI_GIVEBACK_BLOCKS; i++) {
    mi_mt_block_free(mi_giveback.kept[i]);
    mi_giveback.kept[i] = NULL;
  }
  for (size_t i = 0; i <= MI_GIVEBACK_SEARCH_BLOCKS; i++) {
    mi_mt_block_free(mi_giveback.searcher_blocks[i]);
    mi_giveback.searcher_blocks[i] = NULL;
  }
  mi_mt_block_free(mi_giveback.reclaimer_block);
  mi_giveback.reclaimer_block = NULL;
  // what the threads left behind goes to the main thread, so each round starts empty
  mi_mt_reclaim_everything();
  mi_mt_count_add(&mi_mt_counts.rounds, 1);
}

int main(void) {
  mi_mt_init("mt-giveback", 4.0);
  // Frees must not claim: the segment stays abandoned until the searcher looks.
  mi_option_disable(mi_option_abandoned_reclaim_on_free);
  mi_option_set(mi_option_max_segment_reclaim, 100);
  const long rounds = mi_mt_scaled(40, 4);
  for (long round = 0; round < rounds; round++) {
    if (round >= 4 && mi_mt_deadline_passed()) {
      printf("mi-test: note: time budget reached after %ld of %ld rounds\n", round, rounds);
      break;
    }
    mi_giveback_round_run();
  }
  mi_mt_reclaim_everything();
  printf("mi-test: gave_back: %lld\n", mi_giveback.gave_back);
  printf("mi-test: reclaimed_after_give_back: %lld\n", mi_giveback.reclaimed);
  mi_mt_require_path("give-back of a claimed segment", mi_giveback.gave_back);
  mi_mt_require_path("reclaim of a given-back segment", mi_giveback.reclaimed);
  return mi_mt_finish();
}

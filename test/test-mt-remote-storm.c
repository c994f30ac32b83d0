/* ----------------------------------------------------------------------------
mt-remote-storm: many threads free into the same pages at the same instant
while the owner keeps collecting them.

Each round the main thread allocates a batch of small blocks from a heap of
its own (a few pages, all owned by the main thread) and hands an equal share
to each freer thread. Released together by a barrier, the freers free their
blocks as fast as they can, so the pushes onto each page's thread-free list
collide, while the main thread collects the heap in a loop (taking the
thread-free lists over). Then
  - after a final collection no block of the batch may be visited as live
    (a lost push leaves a block allocated forever);
  - the next batch from the same heap must not hand out any address twice
    (a push that overwrote a collection puts a block on two free lists);
  - every block carries its own address and round, checked before it is
    freed (a block handed out twice is overwritten).
Two cores rarely meet inside one push, so the first round makes the owner's
take of a list meet a push: the owner stops collecting, freer 1 frees 50
blocks of the first page, then the allocator's test hook holds freer 0
inside its first push to that page (list read, block linked to it, not yet
swapped in) while the owner takes every list of the heap over (a visit of
its blocks). A correct push then fails its CAS and retries; a push that
stores puts the taken blocks back on the page's list, and they are handed
out twice: an anchor block keeps that page in use through the round, and a
probe of twice the batch, allocated after the freers are done, must not hold
an address twice.
-----------------------------------------------------------------------------*/
#include "test-mt-common.h"

#define MI_STORM_FREERS 3
#define MI_STORM_PER_FREER 600
#define MI_STORM_BLOCKS (MI_STORM_FREERS * MI_STORM_PER_FREER)
#define MI_STORM_SIZE ((size_t)48)

typedef struct mi_rstorm_state_s {
  mi_heap_t* heap;
  uint64_t* blocks[MI_STORM_BLOCKS];
  uint64_t round;
  atomic_int arrived;
  atomic_int freeing;   // freers still freeing
  atomic_ullong opened; // the round whose barrier is open
} mi_rstorm_state_t;

static mi_rstorm_state_t mi_rstorm;

// The hold of round 1 (see above).
#define MI_STORM_HOLD_FREES 50
enum {
  MI_HOLD_INACTIVE,  // no hold (rounds after the first)
  MI_HOLD_ARMED,     // round 1: the owner does not collect; freer 0 waits for freer 1
  MI_HOLD_HELD,      // freer 0 is inside its push; the owner takes the lists over
  MI_HOLD_COLLECTED, // the owner took them; freer 0 may finish its push
  MI_HOLD_DONE       // freer 0 finished its push; the owner collects again
};
static atomic_int mi_rstorm_hold;                // MI_HOLD_*
static _Atomic(const void*) mi_rstorm_held_page; // the page of freer 0's first block in round 1
static atomic_int mi_rstorm_freer1_frees;        // frees done by freer 1 in round 1
static _Thread_local int mi_rstorm_freer_index = -1;

// Waits (yielding) until `done` holds or 10 seconds pass; false on the timeout.
static bool mi_rstorm_wait(bool (*done)(void)) {
  const double start = mi_mt_elapsed();
  while (!done()) {
    if (mi_mt_elapsed() - start > 10.0)
      return false;
    sched_yield();
  }
  return true;
}
static bool mi_rstorm_collected(void) {
  return atomic_load_explicit(&mi_rstorm_hold, memory_order_acquire) == MI_HOLD_COLLECTED;
}
static bool mi_rstorm_freer1_freed(void) {
  return atomic_load_explicit(&mi_rstorm_freer1_frees, memory_order_acquire) >= MI_STORM_HOLD_FREES;
}

static void mi_rstorm_hook(mi_test_point_t point, const void* page) {
  if (point != MI_TEST_POINT_REMOTE_FREE_PUSH || mi_rstorm_freer_index != 0 ||
      page != atomic_load_explicit(&mi_rstorm_held_page, memory_order_acquire))
    return;
  int expected = MI_HOLD_ARMED;
  if (!atomic_compare_exchange_strong_explicit(&mi_rstorm_hold, &expected, MI_HOLD_HELD, memory_order_acq_rel,
                                               memory_order_acquire))
    return; // not armed, or held once already
  mi_mt_expect(mi_rstorm_wait(&mi_rstorm_collected), "the owner did not take the lists over");
  atomic_store_explicit(&mi_rstorm_hold, MI_HOLD_DONE, memory_order_release);
}

static bool mi_rstorm_visit_none(const mi_heap_t* heap, const mi_heap_area_t* area, void* block, size_t size,
                                 void* arg) {
  (void)heap, (void)area, (void)block, (void)size, (void)arg;
  return true;
}

static void mi_rstorm_block_check(uint64_t* block) {
  if (block[0] != (uint64_t)(uintptr_t)block || block[1] != mi_rstorm.round) {
    mi_mt_corruption(block, "block %p holds (%llx, %llu) instead of its address and round %llu", (void*)block,
                     (unsigned long long)block[0], (unsigned long long)block[1],
                     (unsigned long long)mi_rstorm.round);
  }
}

static void* mi_rstorm_freer_run(void* arg) {
  const size_t first = (size_t)(uintptr_t)arg * MI_STORM_PER_FREER;
  mi_rstorm_freer_index = (int)(uintptr_t)arg;
  mi_mt_thread_heap_init();
  atomic_fetch_add_explicit(&mi_rstorm.arrived, 1, memory_order_acq_rel);
  unsigned spins = 0;
  while (atomic_load_explicit(&mi_rstorm.opened, memory_order_acquire) != mi_rstorm.round) {
    if (++spins % 256 == 0)
      sched_yield();
  }
  // Round 1: freer 0 starts once freer 1 has put blocks on the first page's list.
  if (mi_rstorm_freer_index == 0 && mi_rstorm.round == 1)
    mi_mt_expect(mi_rstorm_wait(&mi_rstorm_freer1_freed), "freer 1 did not free %d blocks",
                 MI_STORM_HOLD_FREES);
  for (size_t i = first; i < first + MI_STORM_PER_FREER; i++) {
    mi_rstorm_block_check(mi_rstorm.blocks[i]);
    mi_free(mi_rstorm.blocks[i]);
    if (mi_rstorm_freer_index == 1 && mi_rstorm.round == 1)
      atomic_fetch_add_explicit(&mi_rstorm_freer1_frees, 1, memory_order_acq_rel);
  }
  mi_mt_count_add(&mi_mt_counts.cross_thread_frees, MI_STORM_PER_FREER);
  mi_mt_count_add(&mi_mt_counts.frees, MI_STORM_PER_FREER);
  atomic_fetch_sub_explicit(&mi_rstorm.freeing, 1, memory_order_acq_rel);
  return NULL;
}

static int mi_rstorm_compare(const void* a, const void* b) {
  const uintptr_t x = (uintptr_t) * (void* const*)a;
  const uintptr_t y = (uintptr_t) * (void* const*)b;
  return (x < y ? -1 : (x > y ? 1 : 0));
}

// Allocates a batch from the heap; fails the test on a duplicate address.
static void mi_rstorm_batch_alloc(void) {
  for (size_t i = 0; i < MI_STORM_BLOCKS; i++) {
    uint64_t* block = (uint64_t*)mi_heap_malloc(mi_rstorm.heap, MI_STORM_SIZE);
    mi_rstorm.blocks[i] = block;
    if (block == NULL) {
      mi_mt_count_add(&mi_mt_counts.allocation_failures, 1);
      mi_mt_fail("mi_heap_malloc returned NULL");
      exit(1);
    }
    block[0] = (uint64_t)(uintptr_t)block;
    block[1] = mi_rstorm.round;
  }
  mi_mt_count_add(&mi_mt_counts.allocations, MI_STORM_BLOCKS);
  uint64_t* sorted[MI_STORM_BLOCKS];
  memcpy(sorted, mi_rstorm.blocks, sizeof(sorted));
  qsort(sorted, MI_STORM_BLOCKS, sizeof(sorted[0]), &mi_rstorm_compare);
  for (size_t i = 1; i < MI_STORM_BLOCKS; i++) {
    if (sorted[i] == sorted[i - 1]) {
      mi_mt_corruption(sorted[i], "block %p handed out twice in one batch", (void*)sorted[i]);
    }
  }
}

static bool mi_rstorm_count_live(const mi_heap_t* heap, const mi_heap_area_t* area, void* block, size_t size,
                                 void* arg) {
  (void)heap;
  (void)area;
  (void)size;
  if (block != NULL)
    (*(long long*)arg)++;
  return true;
}

// After round 1: the page the anchor keeps in use must not hand out a block twice.
static void mi_rstorm_probe(uint64_t* anchor) {
  enum { PROBE = 2 * MI_STORM_BLOCKS };
  static uint64_t* probe[PROBE + 1];
  size_t count = 0;
  probe[count++] = anchor;
  for (size_t i = 0; i < PROBE; i++) {
    uint64_t* block = (uint64_t*)mi_heap_malloc(mi_rstorm.heap, MI_STORM_SIZE);
    if (block == NULL) {
      mi_mt_fail("mi_heap_malloc returned NULL");
      break;
    }
    probe[count++] = block;
  }
  uint64_t* sorted[PROBE + 1];
  memcpy(sorted, probe, count * sizeof(sorted[0]));
  qsort(sorted, count, sizeof(sorted[0]), &mi_rstorm_compare);
  for (size_t i = 1; i < count; i++) {
    if (sorted[i] == sorted[i - 1])
      mi_mt_corruption(sorted[i], "block %p handed out twice after the held push", (void*)sorted[i]);
  }
  for (size_t i = 0; i < count; i++)
    mi_free(probe[i]);
}

static void mi_rstorm_round_run(void) {
  mi_rstorm.round++;
  uint64_t* anchor = NULL;
  if (mi_rstorm.round == 1) {
    anchor = (uint64_t*)mi_heap_malloc(mi_rstorm.heap, MI_STORM_SIZE);
    if (anchor == NULL) {
      mi_mt_fail("mi_heap_malloc returned NULL");
      exit(1);
    }
  }
  mi_rstorm_batch_alloc();
  if (mi_rstorm.round == 1) {
    // Freer 0's first block and freer 1's first ones go on the anchor's page.
    const void* page = mi_test_page_of(anchor);
    size_t from = 1;
    for (size_t k = 0; k < MI_STORM_PER_FREER + MI_STORM_HOLD_FREES;
         k = (k == 0 ? MI_STORM_PER_FREER : k + 1)) {
      while (from < MI_STORM_BLOCKS &&
             (mi_test_page_of(mi_rstorm.blocks[from]) != page ||
              (from >= MI_STORM_PER_FREER && from < MI_STORM_PER_FREER + MI_STORM_HOLD_FREES)))
        from++;
      if (mi_test_page_of(mi_rstorm.blocks[k]) == page)
        continue;
      if (from >= MI_STORM_BLOCKS) {
        mi_mt_fail("fewer than %d blocks of the batch share the anchor's page", MI_STORM_HOLD_FREES + 1);
        break;
      }
      uint64_t* swap = mi_rstorm.blocks[k];
      mi_rstorm.blocks[k] = mi_rstorm.blocks[from];
      mi_rstorm.blocks[from++] = swap;
    }
    atomic_store_explicit(&mi_rstorm_held_page, page, memory_order_release);
    atomic_store_explicit(&mi_rstorm_hold, MI_HOLD_ARMED, memory_order_release);
  }
  atomic_store_explicit(&mi_rstorm.arrived, 0, memory_order_relaxed);
  atomic_store_explicit(&mi_rstorm.freeing, MI_STORM_FREERS, memory_order_relaxed);
  pthread_t freers[MI_STORM_FREERS];
  for (size_t i = 0; i < MI_STORM_FREERS; i++) {
    mi_mt_thread_start(&freers[i], &mi_rstorm_freer_run, (void*)(uintptr_t)i);
  }
  while (atomic_load_explicit(&mi_rstorm.arrived, memory_order_acquire) < MI_STORM_FREERS) {
    sched_yield();
  }
  atomic_store_explicit(&mi_rstorm.opened, mi_rstorm.round, memory_order_release);
  // The owner takes the thread-free lists over while they are being pushed to.
  while (atomic_load_explicit(&mi_rstorm.freeing, memory_order_acquire) > 0) {
    const int hold = atomic_load_explicit(&mi_rstorm_hold, memory_order_acquire);
    if (hold == MI_HOLD_HELD) {
      // Visiting the blocks merges every list of every page into `free`.
      mi_heap_visit_blocks(mi_rstorm.heap, true, &mi_rstorm_visit_none, NULL);
      atomic_store_explicit(&mi_rstorm_hold, MI_HOLD_COLLECTED, memory_order_release);
    } else if (hold == MI_HOLD_ARMED || hold == MI_HOLD_COLLECTED) {
      sched_yield();
    } else {
      mi_heap_collect(mi_rstorm.heap, false);
    }
  }
  for (size_t i = 0; i < MI_STORM_FREERS; i++) {
    mi_mt_thread_join(freers[i]);
  }
  if (anchor != NULL)
    mi_rstorm_probe(anchor);
  mi_heap_collect(mi_rstorm.heap, true);
  long long live = 0;
  mi_heap_visit_blocks(mi_rstorm.heap, true, &mi_rstorm_count_live, &live);
  mi_mt_expect(live == 0, "round %llu: %lld blocks freed by other threads are still live (lost frees)",
               (unsigned long long)mi_rstorm.round, live);
  if (mi_rstorm.round == 1)
    mi_mt_expect(atomic_load_explicit(&mi_rstorm_hold, memory_order_acquire) == MI_HOLD_DONE,
                 "round 1: freer 0 was never held inside a push");
  mi_mt_count_add(&mi_mt_counts.rounds, 1);
}

int main(void) {
  mi_mt_init("mt-remote-storm", 4.0);
  mi_test_set_hook(&mi_rstorm_hook);
  mi_rstorm.heap = mi_heap_new();
  if (mi_rstorm.heap == NULL) {
    mi_mt_fail("mi_heap_new returned NULL");
    return 1;
  }
  const long rounds = mi_mt_scaled(400, 4);
  for (long round = 0; round < rounds; round++) {
    if (round >= 4 && mi_mt_deadline_passed()) {
      printf("mi-test: note: time budget reached after %ld of %ld rounds\n", round, rounds);
      break;
    }
    mi_rstorm_round_run();
    if (mi_mt_count_get(&mi_mt_counts.failures) > 0 || mi_mt_count_get(&mi_mt_counts.corruptions) > 0)
      break;
  }
  mi_heap_delete(mi_rstorm.heap);
  mi_mt_reclaim_everything();
  return mi_mt_finish();
}

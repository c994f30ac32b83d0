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

static void mi_rstorm_block_check(uint64_t* block) {
  if (block[0] != (uint64_t)(uintptr_t)block || block[1] != mi_rstorm.round) {
    mi_mt_corruption(block, "block %p holds (%llx, %llu) instead of its address and round %llu", (void*)block,
                     (unsigned long long)block[0], (unsigned long long)block[1],
                     (unsigned long long)mi_rstorm.round);
  }
}

static void* mi_rstorm_freer_run(void* arg) {
  const size_t first = (size_t)(uintptr_t)arg * MI_STORM_PER_FREER;
  mi_mt_thread_heap_init();
  atomic_fetch_add_explicit(&mi_rstorm.arrived, 1, memory_order_acq_rel);
  unsigned spins = 0;
  while (atomic_load_explicit(&mi_rstorm.opened, memory_order_acquire) != mi_rstorm.round) {
    if (++spins % 256 == 0) sched_yield();
  }
  for (size_t i = first; i < first + MI_STORM_PER_FREER; i++) {
    mi_rstorm_block_check(mi_rstorm.blocks[i]);
    mi_free(mi_rstorm.blocks[i]);
  }
  mi_mt_count_add(&mi_mt_counts.cross_thread_frees, MI_STORM_PER_FREER);
  mi_mt_count_add(&mi_mt_counts.frees, MI_STORM_PER_FREER);
  atomic_fetch_sub_explicit(&mi_rstorm.freeing, 1, memory_order_acq_rel);
  return NULL;
}

static int mi_rstorm_compare(const void* a, const void* b) {
  const uintptr_t x = (uintptr_t)*(void* const*)a;
  const uintptr_t y = (uintptr_t)*(void* const*)b;
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
  if (block != NULL) (*(long long*)arg)++;
  return true;
}

static void mi_rstorm_round_run(void) {
  mi_rstorm.round++;
  mi_rstorm_batch_alloc();
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
    mi_heap_collect(mi_rstorm.heap, false);
  }
  for (size_t i = 0; i < MI_STORM_FREERS; i++) {
    mi_mt_thread_join(freers[i]);
  }
  mi_heap_collect(mi_rstorm.heap, true);
  long long live = 0;
  mi_heap_visit_blocks(mi_rstorm.heap, true, &mi_rstorm_count_live, &live);
  mi_mt_expect(live == 0, "round %llu: %lld blocks freed by other threads are still live (lost frees)",
               (unsigned long long)mi_rstorm.round, live);
  mi_mt_count_add(&mi_mt_counts.rounds, 1);
}

int main(void) {
  mi_mt_init("mt-remote-storm", 4.0);
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
    if (mi_mt_count_get(&mi_mt_counts.failures) > 0 || mi_mt_count_get(&mi_mt_counts.corruptions) > 0) break;
  }
  mi_heap_delete(mi_rstorm.heap);
  mi_mt_reclaim_everything();
  return mi_mt_finish();
}

/* ----------------------------------------------------------------------------
mt-visit: visiting the blocks of abandoned segments, concurrently and while
freeing them from inside the visitor.

Each round, producer threads allocate patterned blocks (small, medium, large
and one huge block each), record them, and exit: their segments are
abandoned. Then
  1. two visitor threads walk the abandoned blocks at the same time; each
     must see every recorded block exactly once (visits are serialised, so
     neither skips a segment the other is visiting);
  2. the main thread walks them again and frees every recorded block from
     inside the visitor -- the natural way to release what dead threads
     leaked. The visiting thread must not look like the segment's owner to
     its own frees (a visit claims with a reserved id): a free that took the
     owner-local path would reach a page without a heap and crash;
  3. everything left is reclaimed and must come back to the OS.
-----------------------------------------------------------------------------*/
#include "test-mt-common.h"

#define MI_VISIT_PRODUCERS 3
#define MI_VISIT_PER_PRODUCER 400
#define MI_VISIT_MAX_BLOCKS (MI_VISIT_PRODUCERS * MI_VISIT_PER_PRODUCER)

static void* mi_visit_blocks[MI_VISIT_MAX_BLOCKS]; // written by producers before they exit
static atomic_int mi_visit_block_count;

static int mi_visit_compare(const void* a, const void* b) {
  uintptr_t x = *(const uintptr_t*)a, y = *(const uintptr_t*)b;
  return (x < y ? -1 : (x > y ? 1 : 0));
}

static bool mi_visit_recorded(const void* block) {
  int count = atomic_load_explicit(&mi_visit_block_count, memory_order_relaxed);
  return (bsearch(&block, mi_visit_blocks, (size_t)count, sizeof(void*), &mi_visit_compare) != NULL);
}

static void* mi_visit_producer_run(void* arg) {
  size_t index = (size_t)(uintptr_t)arg;
  mi_mt_random_t random;
  mi_mt_random_init_thread(&random, index);
  for (size_t i = 0; i < MI_VISIT_PER_PRODUCER; i++) {
    size_t size;
    if (i == 0) size = MI_MT_SEGMENT_SIZE + MI_MT_MIB; // a huge block of its own
    else if (i % 50 == 0) size = mi_mt_random_range(&random, MI_MT_MEDIUM_MAX + 1, 2 * MI_MT_MIB);
    else if (i % 5 == 0) size = mi_mt_size_medium(&random);
    else size = mi_mt_size_small(&random);
    void* block = mi_mt_block_alloc(size);
    if (block == NULL) continue;
    int slot = atomic_fetch_add_explicit(&mi_visit_block_count, 1, memory_order_relaxed);
    mi_visit_blocks[slot] = block;
  }
  // Some garbage the thread frees itself, so the abandoned pages have free blocks too.
  void* garbage[64];
  for (size_t i = 0; i < 64; i++) garbage[i] = mi_mt_block_alloc(mi_mt_size_small(&random));
  for (size_t i = 0; i < 64; i++) mi_mt_block_free(garbage[i]);
  return NULL;
}

typedef struct mi_visit_count_s {
  long long recorded; // recorded blocks seen
  long long areas;
  int visitor;        // 0 or 1 for the concurrent visitors, -1 otherwise
} mi_visit_count_t;

// The concurrent visitors meet inside their first area: each waits (up to
// 100 ms) for the other to be inside a visit too, so that without the
// serialisation of visits both would hold a segment at the same time.
static atomic_int mi_visit_inside[2];

static void mi_visit_meet(int visitor) {
  if (atomic_exchange_explicit(&mi_visit_inside[visitor], 1, memory_order_acq_rel) != 0) return;
  for (int waited = 0; waited < 500 && !atomic_load_explicit(&mi_visit_inside[1 - visitor], memory_order_acquire);
       waited++) {
    mi_mt_sleep_us(200);
  }
}

static bool mi_visit_count_block(const mi_heap_t* heap, const mi_heap_area_t* area, void* block,
                                 size_t block_size, void* arg) {
  (void)heap;
  (void)block_size;
  (void)area;
  mi_visit_count_t* count = (mi_visit_count_t*)arg;
  if (count->visitor >= 0) mi_visit_meet(count->visitor);
  if (block == NULL) count->areas++;
  else if (mi_visit_recorded(block)) count->recorded++;
  return true;
}

static atomic_int mi_visit_visitors_ready;

static void* mi_visit_counter_run(void* arg) {
  mi_visit_count_t* count = (mi_visit_count_t*)arg;
  // No allocation here: a new thread's first allocation may reclaim abandoned segments.
  atomic_fetch_add_explicit(&mi_visit_visitors_ready, 1, memory_order_acq_rel);
  while (atomic_load_explicit(&mi_visit_visitors_ready, memory_order_acquire) < 2) sched_yield();
  if (!mi_abandoned_visit_blocks(mi_subproc_main(), -1, true, &mi_visit_count_block, count)) {
    mi_mt_fail("mi_abandoned_visit_blocks returned false in a counting visitor");
  }
  return NULL;
}

static bool mi_visit_free_block(const mi_heap_t* heap, const mi_heap_area_t* area, void* block,
                                size_t block_size, void* arg) {
  (void)heap;
  (void)area;
  (void)block_size;
  if (block != NULL && mi_visit_recorded(block)) {
    mi_mt_block_free(block);
    (*(long long*)arg)++;
  }
  return true;
}

static void mi_visit_round(uint64_t round) {
  atomic_store_explicit(&mi_visit_block_count, 0, memory_order_relaxed);
  pthread_t producers[MI_VISIT_PRODUCERS];
  for (size_t i = 0; i < MI_VISIT_PRODUCERS; i++)
    mi_mt_thread_start(&producers[i], &mi_visit_producer_run, (void*)(uintptr_t)(round * 16 + i));
  for (size_t i = 0; i < MI_VISIT_PRODUCERS; i++) mi_mt_thread_join(producers[i]);
  int recorded = atomic_load_explicit(&mi_visit_block_count, memory_order_relaxed);
  qsort(mi_visit_blocks, (size_t)recorded, sizeof(void*), &mi_visit_compare);

  // 1. two concurrent counting visitors
  mi_visit_count_t counts[2];
  memset(counts, 0, sizeof(counts));
  for (int i = 0; i < 2; i++) {
    counts[i].visitor = i;
    atomic_store_explicit(&mi_visit_inside[i], 0, memory_order_relaxed);
  }
  atomic_store_explicit(&mi_visit_visitors_ready, 0, memory_order_relaxed);
  pthread_t visitors[2];
  for (size_t i = 0; i < 2; i++) mi_mt_thread_start(&visitors[i], &mi_visit_counter_run, &counts[i]);
  for (size_t i = 0; i < 2; i++) mi_mt_thread_join(visitors[i]);
  for (size_t i = 0; i < 2; i++) {
    mi_mt_expect(counts[i].recorded == recorded,
                 "round %llu: concurrent visitor %zu saw %lld of %d abandoned blocks",
                 (unsigned long long)round, i, counts[i].recorded, recorded);
  }

  // 2. free every recorded block from inside the visitor
  long long freed = 0;
  if (!mi_abandoned_visit_blocks(mi_subproc_main(), -1, true, &mi_visit_free_block, &freed)) {
    mi_mt_fail("mi_abandoned_visit_blocks returned false while freeing");
  }
  mi_mt_expect(freed == recorded, "round %llu: freed %lld of %d blocks while visiting",
               (unsigned long long)round, freed, recorded);

  // 3. nothing recorded is left to visit
  mi_visit_count_t after;
  memset(&after, 0, sizeof(after));
  after.visitor = -1;
  mi_abandoned_visit_blocks(mi_subproc_main(), -1, true, &mi_visit_count_block, &after);
  mi_mt_expect(after.recorded == 0, "round %llu: %lld freed blocks are still visited as live",
               (unsigned long long)round, after.recorded);
  mi_mt_count_add(&mi_mt_counts.rounds, 1);
  mi_mt_reclaim_everything();
}

int main(void) {
  mi_option_enable(mi_option_visit_abandoned);
  mi_mt_init("mt-visit", 20.0);
  const long rounds = mi_mt_scaled(6, 2);
  for (long round = 0; round < rounds && !mi_mt_deadline_passed(); round++) mi_visit_round((uint64_t)round);
  mi_mt_require_path("rounds", mi_mt_count_get(&mi_mt_counts.rounds));
  return mi_mt_finish();
}

/* ----------------------------------------------------------------------------
mt-remote-count: the count of remote frees never runs ahead of their blocks.

A remote free pushes its block onto the page's thread-free list and then adds
one to the page's count of remote frees; the owner takes the count first and
the list second, and subtracts the count from the page's `used`. If a count
could arrive before its block (or be lost), the owner would see the page
empty while the block is still on its way (the page is freed, and the late
push writes into memory that is no longer the page's), or never see the page
empty again.

The test holds the remote free inside its window with the allocator's test
hook (MI_TEST_POINT_REMOTE_FREE_COUNT: pushed, not yet counted) while the
owner frees every other block of the page and collects its heap with force:
  - inside the window the page must stay, with one block in use (the block
    on its way is taken from the list but its count has not come);
  - once the remote free has finished, a forced collect must find the page
    empty and free it.
Verdict by visiting the heap's pages (areas) each round.
-----------------------------------------------------------------------------*/
#include "test-mt-common.h"

#define MI_COUNT_BLOCKS 64
#define MI_COUNT_SIZE ((size_t)48)
#define MI_COUNT_WAIT_US 2000000L

static _Atomic(const void*) mi_count_page; // the page whose remote free the test holds
static atomic_int mi_count_in_window;      // the remote free is between its push and its count
static atomic_int mi_count_go;             // the owner has checked; the remote free may count

static void mi_count_wait_for(atomic_int* flag) {
  for (long waited = 0; waited < MI_COUNT_WAIT_US; waited += 100) {
    if (atomic_load_explicit(flag, memory_order_acquire)) return;
    mi_mt_sleep_us(100);
  }
}

static void mi_count_hook(mi_test_point_t point, const void* page) {
  if (point != MI_TEST_POINT_REMOTE_FREE_COUNT || page != atomic_load_explicit(&mi_count_page, memory_order_acquire))
    return;
  atomic_store_explicit(&mi_count_in_window, 1, memory_order_release);
  mi_count_wait_for(&mi_count_go);
}

static void* mi_count_remote_run(void* arg) {
  mi_mt_thread_heap_init();
  mi_free(arg);
  return NULL;
}

typedef struct mi_count_area_s {
  const void* block; // the remotely freed block
  size_t pages;      // areas (pages) that hold it
  size_t used;       // their `used` counts together
} mi_count_area_t;

static bool mi_count_visit(const mi_heap_t* heap, const mi_heap_area_t* area, void* block, size_t block_size,
                           void* arg) {
  (void)heap;
  (void)block_size;
  mi_count_area_t* count = (mi_count_area_t*)arg;
  const char* start = (const char*)area->blocks;
  const char* end = start + area->reserved; // `reserved` is in bytes
  if (block == NULL && (const char*)count->block >= start && (const char*)count->block < end) {
    count->pages++;
    count->used += area->used;
  }
  return true;
}

// The heap's pages that hold `block` (one while it is there, none once freed).
static mi_count_area_t mi_count_pages(mi_heap_t* heap, const void* block) {
  mi_count_area_t count = {block, 0, 0};
  mi_heap_visit_blocks(heap, false, &mi_count_visit, &count);
  return count;
}

static void mi_count_round(uint64_t round) {
  mi_heap_t* heap = mi_heap_new();
  if (heap == NULL) {
    mi_mt_fail("mi_heap_new failed");
    return;
  }
  void* blocks[MI_COUNT_BLOCKS];
  for (size_t i = 0; i < MI_COUNT_BLOCKS; i++) {
    blocks[i] = mi_heap_malloc(heap, MI_COUNT_SIZE);
    if (blocks[i] == NULL) {
      mi_mt_fail("mi_heap_malloc failed");
      return;
    }
  }
  void* victim = blocks[round % MI_COUNT_BLOCKS];
  atomic_store_explicit(&mi_count_in_window, 0, memory_order_relaxed);
  atomic_store_explicit(&mi_count_go, 0, memory_order_relaxed);
  atomic_store_explicit(&mi_count_page, mi_test_page_of(victim), memory_order_release);

  pthread_t remote;
  mi_mt_thread_start(&remote, &mi_count_remote_run, victim);
  mi_count_wait_for(&mi_count_in_window);
  bool in_window = atomic_load_explicit(&mi_count_in_window, memory_order_acquire) != 0;
  mi_mt_expect(in_window, "round %llu: the remote free never reached its count", (unsigned long long)round);
  for (size_t i = 0; i < MI_COUNT_BLOCKS; i++) {
    if (blocks[i] != victim) mi_free(blocks[i]);
  }
  mi_heap_collect(heap, true);
  mi_count_area_t during = mi_count_pages(heap, victim);
  if (in_window) {
    mi_mt_expect(during.pages == 1 && during.used == 1,
                 "round %llu: with a remote free pushed but not counted, %zu pages hold the block, with %zu blocks in "
                 "use (expected 1 and 1)",
                 (unsigned long long)round, during.pages, during.used);
  }
  atomic_store_explicit(&mi_count_go, 1, memory_order_release);
  mi_mt_thread_join(remote);
  atomic_store_explicit(&mi_count_page, NULL, memory_order_release);
  mi_heap_collect(heap, true);
  mi_count_area_t after = mi_count_pages(heap, victim);
  mi_mt_expect(after.pages == 0, "round %llu: after the remote free, %zu pages still hold the block (%zu in use)",
               (unsigned long long)round, after.pages, after.used);
  mi_heap_delete(heap);
  mi_mt_count_add(&mi_mt_counts.rounds, 1);
}

int main(void) {
  mi_mt_init("mt-remote-count", 10.0);
  mi_test_set_hook(&mi_count_hook);
  const long rounds = mi_mt_scaled(16, 4);
  for (long round = 0; round < rounds && !mi_mt_deadline_passed(); round++) mi_count_round((uint64_t)round);
  mi_test_set_hook(NULL);
  mi_mt_reclaim_everything();
  mi_mt_require_path("rounds", mi_mt_count_get(&mi_mt_counts.rounds));
  return mi_mt_finish();
}

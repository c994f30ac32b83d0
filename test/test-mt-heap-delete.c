/* ----------------------------------------------------------------------------
mt-heap-delete: mi_heap_delete racing a remote free into a full page.

Deleting a heap moves its pages to the backing heap. A remote free into a
full page hands its block to the page's heap (the delayed-free list), so
the move must switch the page's heap first and then wait out any remote
free that read the old heap; the other order lets a remote free read the
old heap after the wait and push onto it once it has been freed (the block
is lost and freed memory is written).

The test holds both windows open with the allocator's test hooks, so the
interleaving is the same every round:
  - the deleting thread, at MI_TEST_POINT_HEAP_SWITCH for the chosen page,
    lets the remote thread start its free and waits until that free has
    read the page's heap (or 200 ms);
  - the remote thread, at MI_TEST_POINT_DELAYED_FREE_PUSH, waits until the
    deletion has finished (or 200 ms) before it pushes.
In a correct build the remote free reads the new heap, or the deletion waits
for it; either way the block is freed exactly once. Verdict: after the
deletion every other block is still live and the freed block is gone.
-----------------------------------------------------------------------------*/
#include "test-mt-common.h"

#define MI_DELETE_BLOCKS 400
#define MI_DELETE_SIZE ((size_t)1000)
#define MI_DELETE_WAIT_US 200000L

static _Atomic(const void*) mi_delete_page; // the page whose switch the test watches
static atomic_int mi_delete_in_window;      // the deleting thread is inside the switch window
static atomic_int mi_delete_at_push;        // the remote free has read the page's heap
static atomic_int mi_delete_done;           // mi_heap_delete returned
static atomic_llong mi_delete_pushes_seen;  // remote frees that reached the delayed push

static void mi_delete_wait_for(atomic_int* flag) {
  for (long waited = 0; waited < MI_DELETE_WAIT_US; waited += 200) {
    if (atomic_load_explicit(flag, memory_order_acquire)) return;
    mi_mt_sleep_us(200);
  }
}

static void mi_delete_hook(mi_test_point_t point, const void* page) {
  if (page != atomic_load_explicit(&mi_delete_page, memory_order_acquire)) return;
  if (point == MI_TEST_POINT_HEAP_SWITCH) {
    atomic_store_explicit(&mi_delete_in_window, 1, memory_order_release);
    mi_delete_wait_for(&mi_delete_at_push);
  } else if (point == MI_TEST_POINT_DELAYED_FREE_PUSH) {
    mi_mt_count_add(&mi_delete_pushes_seen, 1);
    atomic_store_explicit(&mi_delete_at_push, 1, memory_order_release);
    mi_delete_wait_for(&mi_delete_done);
  }
}

static void* mi_delete_remote_run(void* arg) {
  void* block = arg;
  mi_mt_thread_heap_init();
  mi_delete_wait_for(&mi_delete_in_window);
  mi_free(block); // not mi_mt_block_free: the test counts this free itself
  return NULL;
}

typedef struct mi_delete_count_s {
  size_t block_size;
  void* const* blocks;
  long long live;      // recorded blocks still live in the backing heap
  long long victim;    // the remotely freed block, if still live
  const void* freed;
} mi_delete_count_t;

static bool mi_delete_count_block(const mi_heap_t* heap, const mi_heap_area_t* area, void* block,
                                  size_t block_size, void* arg) {
  (void)heap;
  (void)area;
  (void)block_size;
  mi_delete_count_t* count = (mi_delete_count_t*)arg;
  if (block == NULL) return true;
  if (block == count->freed) count->victim++;
  for (size_t i = 0; i < MI_DELETE_BLOCKS; i++) {
    if (count->blocks[i] == block) {
      count->live++;
      break;
    }
  }
  return true;
}

static void mi_delete_round(uint64_t round) {
  static void* blocks[MI_DELETE_BLOCKS];
  mi_heap_t* heap = mi_heap_new();
  if (heap == NULL) {
    mi_mt_fail("mi_heap_new failed");
    return;
  }
  for (size_t i = 0; i < MI_DELETE_BLOCKS; i++) {
    blocks[i] = mi_heap_malloc(heap, MI_DELETE_SIZE);
    if (blocks[i] == NULL) {
      mi_mt_fail("mi_heap_malloc failed");
      return;
    }
    memset(blocks[i], (int)(i & 0xFF), MI_DELETE_SIZE);
  }
  // The first page is full by now (later allocations moved it to the full queue).
  void* victim = blocks[round % 8];
  atomic_store_explicit(&mi_delete_in_window, 0, memory_order_relaxed);
  atomic_store_explicit(&mi_delete_at_push, 0, memory_order_relaxed);
  atomic_store_explicit(&mi_delete_done, 0, memory_order_relaxed);
  atomic_store_explicit(&mi_delete_page, mi_test_page_of(victim), memory_order_release);
  const long long pushes_before = mi_mt_count_get(&mi_delete_pushes_seen);

  pthread_t remote;
  mi_mt_thread_start(&remote, &mi_delete_remote_run, victim);
  mi_heap_delete(heap);
  atomic_store_explicit(&mi_delete_done, 1, memory_order_release);
  mi_mt_thread_join(remote);
  atomic_store_explicit(&mi_delete_page, NULL, memory_order_release);
  mi_mt_expect(mi_mt_count_get(&mi_delete_pushes_seen) > pushes_before,
               "round %llu: the remote free did not take the delayed-free path (page not full?)",
               (unsigned long long)round);

  // The blocks now belong to the backing heap; process pending delayed frees and count.
  mi_heap_t* backing = mi_heap_get_backing();
  mi_heap_collect(backing, false);
  mi_delete_count_t count = {MI_DELETE_SIZE, blocks, 0, 0, victim};
  mi_heap_visit_blocks(backing, true, &mi_delete_count_block, &count);
  mi_mt_expect(count.victim == 0, "round %llu: the block freed during mi_heap_delete is still live (lost free)",
               (unsigned long long)round);
  mi_mt_expect(count.live == MI_DELETE_BLOCKS - 1, "round %llu: %lld of %d blocks live after mi_heap_delete",
               (unsigned long long)round, count.live, MI_DELETE_BLOCKS - 1);
  for (size_t i = 0; i < MI_DELETE_BLOCKS; i++) {
    if (blocks[i] == victim) continue;
    const unsigned char* bytes = (const unsigned char*)blocks[i];
    if (bytes[0] != (i & 0xFF) || bytes[MI_DELETE_SIZE - 1] != (i & 0xFF)) {
      mi_mt_corruption(blocks[i], "round %llu: block %zu changed during mi_heap_delete", (unsigned long long)round, i);
    }
    mi_free(blocks[i]);
  }
  mi_mt_count_add(&mi_mt_counts.rounds, 1);
}

int main(void) {
  mi_mt_init("mt-heap-delete", 10.0);
  mi_test_set_hook(&mi_delete_hook);
  const long rounds = mi_mt_scaled(12, 4);
  for (long round = 0; round < rounds && !mi_mt_deadline_passed(); round++) mi_delete_round((uint64_t)round);
  mi_test_set_hook(NULL);
  mi_mt_reclaim_everything();
  mi_mt_require_path("rounds", mi_mt_count_get(&mi_mt_counts.rounds));
  return mi_mt_finish();
}

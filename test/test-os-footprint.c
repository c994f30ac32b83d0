/* ----------------------------------------------------------------------------
Page footprint: a page hands out its blocks lazily, extending its free list by
at most 4 KiB at a time (at least 8 blocks), and the allocation slow path grows
a page that still has free blocks only while those are few (under 8 KiB). So a
page that serves a small steady working set stays a few KiB large, however
long the churn, instead of being written (faulted in) up to its full 64 KiB.
Every thread has such a page per size class it uses, so this is what a
program of many short-lived threads pays in memory per thread.

The test churns a working set of 16 blocks of one size through a heap of its
own for many rounds, freed by the owner (its free list never runs dry) or by
a second thread (the owner's free list runs dry, and the slow path collects
the other thread's frees and decides whether to grow the page). It reads the
page's extent (`committed`: the blocks made available so far) with
mi_heap_visit_blocks and fails when the page grew past one extension plus the
growth limit plus the working set.
-----------------------------------------------------------------------------*/
#include "test-common.h"

#include <pthread.h>

#define WORKING_SET 16
#define ROUNDS 4000
#define EXTEND_BYTES (4 * 1024)
#define GROW_BELOW_BYTES (8 * 1024)

typedef struct extent_s {
  size_t pages;
  size_t committed;
  size_t block_size;
} extent_t;

static bool extent_visit(const mi_heap_t* heap, const mi_heap_area_t* area, void* block, size_t block_size,
                         void* arg) {
  (void)heap;
  (void)block_size;
  if (block != NULL)
    return true;
  extent_t* extent = (extent_t*)arg;
  extent->pages++;
  if (area->committed > extent->committed)
    extent->committed = area->committed;
  extent->block_size = area->block_size;
  return true;
}

// The second thread frees each round's working set between two barriers.
static void* live[WORKING_SET];
static pthread_barrier_t round_barrier;
static atomic_bool freer_stop;

static void free_working_set(size_t round) {
  // Free in a shifting order, so the free list is not simply a stack.
  for (size_t i = 0; i < WORKING_SET; i++) {
    size_t index = (i * 7 + round) % WORKING_SET;
    mi_free(live[index]);
    live[index] = NULL;
  }
}

static void* freer_main(void* arg) {
  (void)arg;
  for (size_t round = 0;; round++) {
    pthread_barrier_wait(&round_barrier); // the owner filled `live` (or asks to stop)
    if (atomic_load(&freer_stop))
      return NULL;
    free_working_set(round);
    pthread_barrier_wait(&round_barrier); // `live` is empty again
  }
}

static void churn_one_size(size_t size, bool remote) {
  mi_heap_t* heap = mi_heap_new();
  CHECK(heap != NULL);
  if (heap == NULL)
    return;
  for (size_t round = 0; round < ROUNDS; round++) {
    for (size_t i = 0; i < WORKING_SET; i++) {
      live[i] = mi_heap_malloc(heap, size);
      CHECK(live[i] != NULL);
      if (live[i] != NULL)
        memset(live[i], (int)(round + i), size);
    }
    if (remote) {
      pthread_barrier_wait(&round_barrier);
      pthread_barrier_wait(&round_barrier);
    } else {
      free_working_set(round);
    }
  }
  // One live block keeps the page in the heap for the visit.
  void* keep = mi_heap_malloc(heap, size);
  CHECK(keep != NULL);
  extent_t extent = {0, 0, 0};
  CHECK(mi_heap_visit_blocks(heap, false, &extent_visit, &extent));
  CHECKF(extent.pages == 1, "size %zu: %zu pages", size, extent.pages);
  size_t extension = EXTEND_BYTES;
  if (extension < 8 * extent.block_size)
    extension = 8 * extent.block_size;
  size_t limit = extension + GROW_BELOW_BYTES + WORKING_SET * extent.block_size;
  CHECKF(extent.committed <= limit,
         "size %zu (block %zu, %s frees): the page made %zu bytes of blocks available for a working set of "
         "%d blocks (limit %zu)",
         size, extent.block_size, remote ? "remote" : "local", extent.committed, WORKING_SET, limit);
  CHECKF(extent.committed >= WORKING_SET * extent.block_size, "size %zu: page extent %zu below the working set",
         size, extent.committed);
  mi_free(keep);
  mi_heap_delete(heap);
}

int main(void) {
  pthread_t freer;
  if (pthread_barrier_init(&round_barrier, NULL, 2) != 0 || pthread_create(&freer, NULL, &freer_main, NULL) != 0) {
    fprintf(stderr, "test-os-footprint: cannot start the freeing thread\n");
    return 1;
  }
  static const size_t sizes[] = {24, 64, 200, 512};
  for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
    churn_one_size(sizes[i], false);
    churn_one_size(sizes[i], true);
  }
  atomic_store(&freer_stop, true);
  pthread_barrier_wait(&round_barrier);
  pthread_join(freer, NULL);
  pthread_barrier_destroy(&round_barrier);
  return mi_test_summary("test-os-footprint");
}

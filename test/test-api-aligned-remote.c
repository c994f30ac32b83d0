/* ----------------------------------------------------------------------------
API test: blocks handed out at interior aligned addresses, freed by another
thread.

For each size and alignment, the main thread allocates a batch in a heap of
its own with mi_heap_malloc_aligned_at, so that many of them lie inside their
block rather than at its start (counted from the block starts that
mi_heap_visit_blocks reports), and fills each with a pattern. A second
thread frees every other one (a remote free: the main thread owns the pages
and stays alive). The main thread then hands the freed memory out again as
plain blocks of the size the aligned ones took, written in full, allocates
more aligned ones, and checks every live block: its alignment, its pattern,
and that no two live blocks overlap. A remote free that pushed the interior
address instead of the block's start would hand out memory that runs into
a neighbour. Work
is fixed, so the verdict does not depend on timing.
-----------------------------------------------------------------------------*/
#include <mimalloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "test-common.h"

#define MI_BATCH 1500

typedef struct mi_live_s {
  uint8_t* p;
  size_t size;
  uint64_t seed;
} mi_live_t;

typedef struct mi_remote_s {
  mi_live_t* blocks;
  size_t count;
  size_t freed;
} mi_remote_t;

static void* mi_free_every_other(void* arg) {
  mi_remote_t* r = (mi_remote_t*)arg;
  for (size_t i = 0; i < r->count; i += 2) {
    mi_free(r->blocks[i].p);
    r->blocks[i].p = NULL;
    r->freed++;
  }
  return NULL;
}

static int mi_live_compare(const void* a, const void* b) {
  const uintptr_t x = (uintptr_t)((const mi_live_t*)a)->p, y = (uintptr_t)((const mi_live_t*)b)->p;
  return (x < y ? -1 : x > y);
}

static bool mi_alloc_one(mi_heap_t* heap, mi_live_t* b, size_t size, size_t alignment, size_t offset,
                         bool aligned, uint64_t seed) {
  b->p = (uint8_t*)(aligned ? mi_heap_malloc_aligned_at(heap, size, alignment, offset)
                            : mi_heap_malloc(heap, size));
  b->size = size;
  b->seed = seed;
  CHECKF(b->p != NULL, "allocation of %zu bytes (alignment %zu) failed", size, alignment);
  if (b->p == NULL)
    return false;
  if (aligned)
    CHECKF(((uintptr_t)b->p + offset) % alignment == 0, "%p + %zu is not aligned to %zu", (void*)b->p, offset,
           alignment);
  mi_test_pattern_fill(b->p, 0, size, seed);
  return true;
}

typedef struct mi_starts_s {
  uintptr_t at[2 * MI_BATCH];
  size_t count;
} mi_starts_t;

static bool mi_collect_start(const mi_heap_t* heap, const mi_heap_area_t* area, void* block, size_t size,
                             void* arg) {
  (void)heap, (void)area, (void)size;
  mi_starts_t* starts = (mi_starts_t*)arg;
  if (block != NULL && starts->count < 2 * MI_BATCH)
    starts->at[starts->count++] = (uintptr_t)block;
  return true;
}

static int mi_address_compare(const void* a, const void* b) {
  const uintptr_t x = *(const uintptr_t*)a, y = *(const uintptr_t*)b;
  return (x < y ? -1 : x > y);
}

// Returns how many of the first batch's blocks were at interior addresses.
static size_t mi_check_one(size_t size, size_t alignment, size_t offset) {
  static mi_live_t live[2 * MI_BATCH];
  static mi_starts_t starts;
  uint64_t seed = ((uint64_t)size << 32) ^ ((uint64_t)alignment << 8) ^ offset;
  size_t interior = 0;
  mi_heap_t* heap = mi_heap_new();
  CHECK(heap != NULL);
  if (heap == NULL)
    return 0;
  for (size_t i = 0; i < MI_BATCH; i++) {
    if (!mi_alloc_one(heap, &live[i], size, alignment, offset, true, ++seed))
      return interior;
  }
  starts.count = 0;
  CHECK(mi_heap_visit_blocks(heap, true, &mi_collect_start, &starts));
  CHECKF(starts.count == MI_BATCH, "visited %zu blocks of %d", starts.count, MI_BATCH);
  qsort(starts.at, starts.count, sizeof(starts.at[0]), &mi_address_compare);
  for (size_t i = 0; i < MI_BATCH; i++) {
    const uintptr_t p = (uintptr_t)live[i].p;
    interior += (bsearch(&p, starts.at, starts.count, sizeof(starts.at[0]), &mi_address_compare) == NULL);
  }
  mi_remote_t remote = {live, MI_BATCH, 0};
  pthread_t thread;
  const int err = pthread_create(&thread, NULL, &mi_free_every_other, &remote);
  CHECKF(err == 0, "pthread_create failed with %d", err);
  if (err != 0)
    return interior;
  pthread_join(thread, NULL);
  CHECK(remote.freed == (MI_BATCH + 1) / 2);

  // Hand out the freed memory again, first as plain blocks of the size the
  // aligned ones took (their request plus alignment - 1), written in full:
  // one handed out at an interior address would run into its neighbour.
  size_t count = MI_BATCH;
  for (size_t i = 0; i < MI_BATCH; i++) {
    if (live[i].p != NULL)
      continue;
    if (!mi_alloc_one(heap, &live[i], size + alignment - 1, alignment, offset, false, ++seed))
      return interior;
  }
  for (size_t i = 0; i < MI_BATCH / 2; i++) {
    if (!mi_alloc_one(heap, &live[count], size, alignment, offset, (i % 2) == 0, ++seed))
      break;
    count++;
  }

  size_t corrupt = 0;
  for (size_t i = 0; i < count; i++)
    corrupt += !mi_test_pattern_ok(live[i].p, 0, live[i].size, live[i].seed);
  CHECKF(corrupt == 0, "size %zu alignment %zu offset %zu: %zu of %zu live blocks corrupted", size, alignment,
         offset, corrupt, count);
  qsort(live, count, sizeof(live[0]), &mi_live_compare);
  size_t overlaps = 0;
  for (size_t i = 0; i + 1 < count; i++)
    overlaps += ((uintptr_t)live[i].p + live[i].size > (uintptr_t)live[i + 1].p);
  CHECKF(overlaps == 0, "size %zu alignment %zu offset %zu: %zu overlapping live blocks", size, alignment,
         offset, overlaps);
  for (size_t i = 0; i < count; i++)
    mi_free(live[i].p);
  mi_heap_delete(heap);
  return interior;
}

int main(void) {
  static const size_t sizes[] = {8, 24, 40, 100, 200, 1000, 3000, 20000, 100000};
  static const size_t alignments[] = {16, 32, 64, 128, 256, 4096};
  size_t interior = 0, cases = 0;
  for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
    for (size_t a = 0; a < sizeof(alignments) / sizeof(alignments[0]); a++) {
      interior += mi_check_one(sizes[s], alignments[a], 0);
      interior += mi_check_one(sizes[s], alignments[a], 8);
      cases += 2;
    }
  }
  // The test means something only if interior addresses were freed remotely.
  CHECKF(interior >= 10 * MI_BATCH, "only %zu interior blocks in %zu cases", interior, cases);
  printf("aligned-remote: %zu cases, %zu blocks at interior addresses\n", cases, interior);
  return mi_test_summary("test-api-aligned-remote");
}

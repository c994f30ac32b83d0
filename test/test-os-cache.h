/* ----------------------------------------------------------------------------
Helpers shared by the tests of the segment cache (test-os-reuse.c,
test-os-move-fail.c): where a block's segment is, and huge blocks whose
segments lie next to each other, the geometry the cache's joins and moves
need. Include after test-common.h.
-----------------------------------------------------------------------------*/
#pragma once
#ifndef MI_TEST_OS_CACHE_H
#define MI_TEST_OS_CACHE_H

#include "mimalloc/types.h"

#define SEGMENT ((uintptr_t)MI_SEGMENT_SIZE)

// The segment of a block (a huge block starts just past its segment's header).
static inline uintptr_t segment_of(const void* p) { return ((uintptr_t)p - 1) & ~(SEGMENT - 1); }

// Huge blocks of `size` (one segment size each) until the segments of `count`
// lie next to each other: run[0] lowest; the others are freed.
// False if none of a few do.
static inline bool consecutive_run(size_t size, size_t count, char* run[]) {
  enum { TRIES = 16 };
  char* blocks[TRIES] = {0};
  bool found = false;
  for (size_t i = 0; i < TRIES && !found; i++) {
    blocks[i] = (char*)mi_malloc(size);
    CHECK(blocks[i] != NULL);
    if (blocks[i] == NULL)
      break;
    for (size_t low = 0; low <= i && !found; low++) {
      size_t length = 0;
      for (size_t n = 0; n < count; n++) {
        run[n] = NULL;
        for (size_t k = 0; k <= i; k++) {
          if (segment_of(blocks[k]) == segment_of(blocks[low]) + n * SEGMENT)
            run[n] = blocks[k];
        }
        if (run[n] == NULL)
          break;
        length++;
      }
      found = (length == count);
    }
  }
  for (size_t i = 0; i < TRIES; i++) {
    bool kept = false;
    for (size_t n = 0; found && n < count; n++)
      kept = kept || (blocks[i] == run[n]);
    if (blocks[i] != NULL && !kept)
      mi_free(blocks[i]);
  }
  if (!found)
    printf("no %zu huge mappings next to each other in %d; a cache phase is skipped\n", count, TRIES);
  return found;
}

// The geometry of the moved phases: one freed, written huge mapping of
// `size` between two live ones (next to each other; the cache holds nothing
// else resident): triple[0], [1], [2] written with 12, 9, 13, then triple[1]
// freed. False (and nothing to free) if no such run was found.
static inline bool one_freed_between_live(size_t size, char* triple[3]) {
  mi_collect(true);
  if (!consecutive_run(size, 3, triple))
    return false;
  mi_collect(true); // nothing else resident in the cache
  memset(triple[0], 12, size);
  memset(triple[1], 9, size);
  memset(triple[2], 13, size);
  mi_free(triple[1]);
  return true;
}

// Four freed huge mappings next to each other (one cached range) between two
// live ones: run[0] and run[5] live, written with 23 and 24; of the freed
// run[1..4], run[2] was written in full (14) and run[4] a sixteenth (15), so
// the range's warmer end is run[4] and its resident memory lies in its middle.
static inline bool four_freed_between_live(size_t size, char* run[6]) {
  mi_collect(true);
  if (!consecutive_run(size, 6, run))
    return false;
  mi_collect(true);
  memset(run[0], 23, size);
  memset(run[2], 14, size);
  memset(run[4], 15, size / 16);
  memset(run[5], 24, size);
  for (size_t i = 1; i <= 4; i++)
    mi_free(run[i]);
  return true;
}

#endif

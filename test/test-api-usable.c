/* ----------------------------------------------------------------------------
API test: mi_usable_size and mi_good_size.

- mi_good_size(n) >= n for every n up to 1 MiB and sampled sizes up to
  1 GiB, and it never decreases as n grows.
- For small sizes (up to 8 KiB) a block from mi_malloc, mi_zalloc, mi_calloc
  or (up to MI_SMALL_SIZE_MAX) mi_malloc_small/mi_zalloc_small has exactly
  mi_usable_size == mi_good_size(n) (== n in builds with padding).
- For all larger sizes tested, mi_usable_size >= n, and the usable size
  stays the same for the block's whole life (checked again before free).
- mi_usable_size(NULL) == 0.
- Many blocks of one size live at once, each written over its full usable
  size, do not overlap: every block is verified after all were written.
-----------------------------------------------------------------------------*/
#include <mimalloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "test-common.h"

#define MI_USABLE_SMALL_MAX (8 * 1024)
#define MI_USABLE_LIVE 64

static size_t mi_usable_blocks_checked;

static void mi_usable_check_exact(size_t n) {
  const size_t good = mi_good_size(n);
  void* blocks[5] = { mi_malloc(n), mi_zalloc(n), mi_calloc(1, n), NULL, NULL };
  const char* names[5] = { "mi_malloc", "mi_zalloc", "mi_calloc", "mi_malloc_small", "mi_zalloc_small" };
  size_t count = 3;
  if (n <= MI_SMALL_SIZE_MAX) {
    blocks[3] = mi_malloc_small(n);
    blocks[4] = mi_zalloc_small(n);
    count = 5;
  }
  for (size_t i = 0; i < count; i++) {
    CHECKF(blocks[i] != NULL, "%s(%zu) returned NULL", names[i], n);
    if (blocks[i] == NULL) continue;
    const size_t usable = mi_usable_size(blocks[i]);
    // With padding the usable size is the request itself (a byte more is an overflow).
    const size_t expected = (MI_TEST_PADDED ? n : good);
    CHECKF(usable == expected, "%s(%zu): mi_usable_size=%zu but mi_good_size=%zu", names[i], n, usable, good);
    mi_usable_blocks_checked++;
    mi_free(blocks[i]);
  }
}

// Keep MI_USABLE_LIVE blocks of size n alive, write each over its full usable
// size, then verify them all (overlap / overstated usable size check).
static void mi_usable_check_no_overlap(size_t n, size_t live) {
  void* blocks[MI_USABLE_LIVE];
  size_t usable[MI_USABLE_LIVE];
  if (live > MI_USABLE_LIVE) live = MI_USABLE_LIVE;
  for (size_t i = 0; i < live; i++) {
    blocks[i] = mi_malloc(n);
    usable[i] = 0;
    CHECKF(blocks[i] != NULL, "mi_malloc(%zu) returned NULL", n);
    if (blocks[i] == NULL) continue;
    usable[i] = mi_usable_size(blocks[i]);
    CHECKF(usable[i] >= n, "mi_malloc(%zu): mi_usable_size=%zu", n, usable[i]);
    mi_test_pattern_fill(blocks[i], 0, usable[i], (uint64_t)n * 1000 + i);
  }
  for (size_t i = 0; i < live; i++) {
    if (blocks[i] == NULL) continue;
    const size_t bad = mi_test_pattern_mismatch(blocks[i], 0, usable[i], (uint64_t)n * 1000 + i);
    CHECKF(bad == usable[i], "size %zu: block %zu of %zu (usable %zu) overwritten at offset %zu",
           n, i, live, usable[i], bad);
    CHECKF(mi_usable_size(blocks[i]) == usable[i], "size %zu: usable size changed from %zu to %zu",
           n, usable[i], mi_usable_size(blocks[i]));
    mi_usable_blocks_checked++;
    mi_free(blocks[i]);
  }
}

int main(void) {
  CHECK(mi_usable_size(NULL) == 0);

  // mi_good_size: never below the request, never decreasing.
  size_t previous = 0;
  for (size_t n = 1; n <= MI_TEST_MIB; n++) {
    const size_t good = mi_good_size(n);
    if (good < n || good < previous) {
      CHECKF(good >= n && good >= previous, "mi_good_size(%zu)=%zu (previous %zu)", n, good, previous);
    }
    previous = good;
  }
  CHECK(previous >= MI_TEST_MIB);
  for (size_t n = MI_TEST_MIB; n <= 1024 * MI_TEST_MIB; n += n / 7 + 4093) {
    const size_t good = mi_good_size(n);
    CHECKF(good >= n && good >= previous, "mi_good_size(%zu)=%zu (previous %zu)", n, good, previous);
    previous = good;
  }

  // Small sizes: the usable size is exactly what mi_good_size promised.
  for (size_t n = 1; n <= MI_USABLE_SMALL_MAX; n++) mi_usable_check_exact(n);

  // No overlap between live blocks of one size, for a spread of sizes.
  for (size_t n = 1; n <= 1024; n++) mi_usable_check_no_overlap(n, 16);
  for (size_t n = 1024; n <= 128 * MI_TEST_KIB; n += n / 8 + 1) mi_usable_check_no_overlap(n, 64);
  for (size_t n = 128 * MI_TEST_KIB; n <= 16 * MI_TEST_MIB; n = 2 * n + 4097) mi_usable_check_no_overlap(n, 4);
  mi_usable_check_no_overlap(20 * MI_TEST_MIB + 5, 2);

  printf("test-api-usable: %zu blocks checked\n", mi_usable_blocks_checked);
  return mi_test_summary("test-api-usable");
}

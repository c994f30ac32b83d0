/* ----------------------------------------------------------------------------
API test: every size-class (bin) boundary.

For each size under test a few blocks are allocated at once; each must be
non-NULL, report a usable size of at least the request (and at most about
twice it), be aligned (16 bytes for requests of 16 bytes or more, 8 below), and
its whole usable size is written with a per-block pattern and read back after
all of them were written, so overlapping blocks or a usable size that reaches
into foreign memory show up as a mismatch (or a crash).

Sizes: every size 1..8192; the bin sizes found by walking mi_good_size from 1
to 4 MiB, each at s-1, s and s+1; every power of two up to 64 MiB at s-1, s,
s+1; and the quarter points between powers of two from 4 MiB to 64 MiB.
Blocks above 1 MiB that are not exact powers of two are written sparsely
(first and last 64 KiB plus one word per 4 KiB) to keep the run short.
-----------------------------------------------------------------------------*/
#include <mimalloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "test-common.h"

#define MI_BINS_MAX_LIVE   4
#define MI_BINS_EXHAUSTIVE 8192
#define MI_BINS_PROBE_MAX  (4 * MI_TEST_MIB)
#define MI_BINS_TOP        (64 * MI_TEST_MIB)
#define MI_BINS_MAX_STEPS  8192

static size_t mi_bins_sizes_tested;
static size_t mi_bins_blocks_allocated;

static size_t mi_bins_required_alignment(size_t size) {
  return (size >= 16 ? 16 : 8);
}

// Sparse fill: the first and last 64 KiB fully, one 8-byte word per 4 KiB between.
static void mi_bins_fill_sparse(uint8_t* p, size_t usable, uint64_t seed) {
  const size_t edge = 64 * MI_TEST_KIB;
  if (usable <= 2 * edge) { mi_test_pattern_fill(p, 0, usable, seed); return; }
  mi_test_pattern_fill(p, 0, edge, seed);
  for (size_t ofs = edge; ofs + 8 <= usable - edge; ofs += 4096) {
    mi_test_pattern_fill(p, ofs, ofs + 8, seed);
  }
  mi_test_pattern_fill(p, usable - edge, usable, seed);
}

static bool mi_bins_check_sparse(const uint8_t* p, size_t usable, uint64_t seed) {
  const size_t edge = 64 * MI_TEST_KIB;
  if (usable <= 2 * edge) return mi_test_pattern_ok(p, 0, usable, seed);
  if (!mi_test_pattern_ok(p, 0, edge, seed)) return false;
  for (size_t ofs = edge; ofs + 8 <= usable - edge; ofs += 4096) {
    if (!mi_test_pattern_ok(p, ofs, ofs + 8, seed)) return false;
  }
  return mi_test_pattern_ok(p, usable - edge, usable, seed);
}

// Allocate `live` blocks of `size` at once, check them, write their full
// usable size (or sparsely), verify all, free all.
static void mi_bins_check_size(size_t size, size_t live, bool sparse) {
  void* blocks[MI_BINS_MAX_LIVE];
  size_t usable[MI_BINS_MAX_LIVE];
  if (live > MI_BINS_MAX_LIVE) live = MI_BINS_MAX_LIVE;
  const size_t align = mi_bins_required_alignment(size);
  mi_bins_sizes_tested++;
  for (size_t i = 0; i < live; i++) {
    blocks[i] = mi_malloc(size);
    usable[i] = 0;
    CHECKF(blocks[i] != NULL, "mi_malloc(%zu) returned NULL", size);
    if (blocks[i] == NULL) continue;
    mi_bins_blocks_allocated++;
    usable[i] = mi_usable_size(blocks[i]);
    CHECKF(usable[i] >= size, "mi_usable_size=%zu < requested %zu", usable[i], size);
    CHECKF(usable[i] <= 2 * size + 64 * MI_TEST_KIB,
           "mi_usable_size=%zu wastes too much for request %zu", usable[i], size);
    CHECKF(((uintptr_t)blocks[i] % align) == 0, "mi_malloc(%zu)=%p not %zu-byte aligned", size, blocks[i], align);
    const uint64_t seed = ((uint64_t)size << 8) ^ (uint64_t)i ^ UINT64_C(0x5bd1e995);
    if (sparse) mi_bins_fill_sparse((uint8_t*)blocks[i], usable[i], seed);
    else        mi_test_pattern_fill(blocks[i], 0, usable[i], seed);
  }
  for (size_t i = 0; i < live; i++) {
    if (blocks[i] == NULL) continue;
    const uint64_t seed = ((uint64_t)size << 8) ^ (uint64_t)i ^ UINT64_C(0x5bd1e995);
    if (sparse) {
      CHECKF(mi_bins_check_sparse((const uint8_t*)blocks[i], usable[i], seed),
             "content of block %zu of size %zu (usable %zu) overwritten", i, size, usable[i]);
    }
    else {
      size_t bad = mi_test_pattern_mismatch(blocks[i], 0, usable[i], seed);
      CHECKF(bad == usable[i], "content of block %zu of size %zu (usable %zu) overwritten at offset %zu",
             i, size, usable[i], bad);
    }
  }
  for (size_t i = 0; i < live; i++) mi_free(blocks[i]);
}

static size_t mi_bins_live_for(size_t size) {
  if (size <= 128 * MI_TEST_KIB) return 4;
  if (size <= MI_TEST_MIB) return 2;
  return 1;
}

static void mi_bins_check_around(size_t size, bool sparse_above_mib) {
  for (size_t s = (size > 1 ? size - 1 : 1); s <= size + 1; s++) {
    const bool sparse = sparse_above_mib && s > MI_TEST_MIB;
    mi_bins_check_size(s, mi_bins_live_for(s), sparse);
  }
}

int main(void) {
  // 1. Every size up to 8 KiB.
  for (size_t size = 1; size <= MI_BINS_EXHAUSTIVE; size++) {
    mi_bins_check_size(size, 4, false);
  }

  // 2. Walk mi_good_size to find every bin (and page-rounding step) up to 4 MiB.
  static size_t steps[MI_BINS_MAX_STEPS];
  size_t step_count = 0;
  size_t previous = 0;
  for (size_t n = 1; n <= MI_BINS_PROBE_MAX && step_count < MI_BINS_MAX_STEPS; ) {
    const size_t good = mi_good_size(n);
    CHECKF(good >= n, "mi_good_size(%zu)=%zu is smaller than the request", n, good);
    CHECKF(good > previous, "mi_good_size not increasing: good_size(%zu)=%zu after %zu", n, good, previous);
    CHECKF(mi_good_size(good) == good, "mi_good_size(%zu)=%zu is not a fixed point", good, mi_good_size(good));
    if (good < n || good <= previous) break;  // cannot continue the walk safely
    steps[step_count++] = good;
    previous = good;
    n = good + 1;
  }
  CHECKF(step_count < MI_BINS_MAX_STEPS, "more than %d good_size steps below 4 MiB", MI_BINS_MAX_STEPS);
  // Small sizes: about four bins per doubling, so there are far fewer bins than sizes.
  size_t bins_to_8k = 0;
  for (size_t i = 0; i < step_count && steps[i] <= MI_BINS_EXHAUSTIVE; i++) bins_to_8k++;
  CHECKF(bins_to_8k >= 8 && bins_to_8k <= 64, "unexpected number of size classes up to 8 KiB: %zu", bins_to_8k);
  for (size_t i = 0; i < step_count; i++) {
    mi_bins_check_around(steps[i], true);
  }

  // 3. Powers of two up to 64 MiB (always fully written) and, above 4 MiB,
  //    the quarter points between them (written sparsely).
  for (size_t pow2 = 1; pow2 <= MI_BINS_TOP; pow2 *= 2) {
    mi_bins_check_around(pow2, false);
    if (pow2 >= MI_BINS_PROBE_MAX && pow2 < MI_BINS_TOP) {
      for (size_t quarter = 1; quarter <= 3; quarter++) {
        mi_bins_check_around(pow2 + quarter * (pow2 / 4), true);
      }
    }
  }

  printf("test-api-bins: %zu good_size steps up to 4 MiB (%zu up to 8 KiB), %zu sizes, %zu blocks checked\n",
         step_count, bins_to_8k, mi_bins_sizes_tested, mi_bins_blocks_allocated);
  return mi_test_summary("test-api-bins");
}

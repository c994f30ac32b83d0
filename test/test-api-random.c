/* ----------------------------------------------------------------------------
API test: a long random sequence of allocations, frees and reallocations,
checked against a shadow record.

A fixed-seed generator drives 10^6 steps over a table of slots. An empty slot
gets a new block (mi_malloc, mi_zalloc, mi_calloc or mi_malloc_small), whose
requested bytes are filled with the pattern of a fresh per-block seed; the
shadow keeps pointer, size and seed. A live slot is either freed or
reallocated (mi_realloc, mi_reallocn or mi_reallocf); its entire content is
verified before, and the preserved prefix after a reallocation. Sizes are
mostly small, with a tail up to 1 MiB. Every 100,000 steps all live blocks
are verified. Usage: test-api-random [steps] [seed].
-----------------------------------------------------------------------------*/
#include <mimalloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "test-common.h"

#define MI_RANDOM_SLOTS 2048
#define MI_RANDOM_SWEEP_EVERY 100000

typedef struct mi_random_block_s {
  uint8_t* p;
  size_t size;
  uint64_t seed;
} mi_random_block_t;

static mi_random_block_t mi_random_shadow[MI_RANDOM_SLOTS];

typedef struct mi_random_counts_s {
  size_t allocs, zero_allocs, frees, reallocs, sweeps, bytes_verified, max_live_bytes;
} mi_random_counts_t;

static mi_random_counts_t mi_random_counts;

static size_t mi_random_size(uint64_t* rng) {
  const size_t r = mi_test_random_below(rng, 1000);
  if (r < 900) {
    // skewed towards the smallest sizes: min of two draws
    size_t a = 1 + mi_test_random_below(rng, 256);
    size_t b = 1 + mi_test_random_below(rng, 256);
    return (a < b ? a : b);
  }
  if (r < 985) return 257 + mi_test_random_below(rng, 8 * 1024 - 256);
  if (r < 998) return 8 * 1024 + mi_test_random_below(rng, 120 * 1024);
  return 128 * 1024 + mi_test_random_below(rng, 896 * 1024 + 1);   // up to 1 MiB
}

static bool mi_random_verify(const mi_random_block_t* b, size_t slot, const char* when, size_t step) {
  const size_t bad = mi_test_pattern_mismatch(b->p, 0, b->size, b->seed);
  mi_random_counts.bytes_verified += b->size;
  CHECKF(bad == b->size, "step %zu (%s): block %p in slot %zu of size %zu corrupted at offset %zu",
         step, when, (void*)b->p, slot, b->size, bad);
  return bad == b->size;
}

int main(int argc, char** argv) {
  size_t steps = 1000000;
  uint64_t rng = UINT64_C(0x6A09E667F3BCC908);
  if (argc > 1) steps = (size_t)strtoull(argv[1], NULL, 10);
  if (argc > 2) rng = (uint64_t)strtoull(argv[2], NULL, 0);
  uint64_t next_seed = 1;
  size_t live_bytes = 0;

  for (size_t step = 1; step <= steps; step++) {
    const size_t slot = mi_test_random_below(&rng, MI_RANDOM_SLOTS);
    mi_random_block_t* b = &mi_random_shadow[slot];
    if (b->p == NULL) {
      const size_t size = mi_random_size(&rng);
      const size_t how = mi_test_random_below(&rng, 20);
      bool zeroed = false;
      if (how < 12)       { b->p = (uint8_t*)mi_malloc(size); }
      else if (how < 15)  { b->p = (uint8_t*)mi_zalloc(size); zeroed = true; }
      else if (how < 18)  { b->p = (uint8_t*)mi_calloc(1, size); zeroed = true; }
      else if (size <= MI_SMALL_SIZE_MAX) { b->p = (uint8_t*)mi_malloc_small(size); }
      else                { b->p = (uint8_t*)mi_mallocn(1, size); }
      CHECKF(b->p != NULL, "step %zu: allocation of %zu bytes failed", step, size);
      if (b->p == NULL) continue;
      CHECKF(mi_usable_size(b->p) >= size, "step %zu: usable size %zu < %zu", step, mi_usable_size(b->p), size);
      if (zeroed) {
        mi_random_counts.zero_allocs++;
        CHECKF(mi_test_is_zero(b->p, 0, size), "step %zu: zeroed allocation of %zu bytes not zero", step, size);
      }
      b->size = size;
      b->seed = (next_seed++) * UINT64_C(0x9E3779B97F4A7C15);
      mi_test_pattern_fill(b->p, 0, size, b->seed);
      mi_random_counts.allocs++;
      live_bytes += size;
    }
    else if (mi_test_random_below(&rng, 2) == 0) {
      mi_random_verify(b, slot, "before free", step);
      mi_free(b->p);
      live_bytes -= b->size;
      b->p = NULL;
      b->size = 0;
      mi_random_counts.frees++;
    }
    else {
      mi_random_verify(b, slot, "before realloc", step);
      const size_t new_size = mi_random_size(&rng);
      const size_t how = mi_test_random_below(&rng, 8);
      uint8_t* q;
      if (how < 6)       q = (uint8_t*)mi_realloc(b->p, new_size);
      else if (how < 7)  q = (uint8_t*)mi_reallocn(b->p, new_size, 1);
      else               q = (uint8_t*)mi_reallocf(b->p, new_size);
      CHECKF(q != NULL, "step %zu: realloc %zu -> %zu failed", step, b->size, new_size);
      if (q == NULL) {
        if (how >= 7) {  // a failing mi_reallocf has freed the block
          live_bytes -= b->size;
          b->p = NULL;
          b->size = 0;
        }
        continue;
      }
      CHECKF(mi_usable_size(q) >= new_size, "step %zu: usable size %zu < %zu", step, mi_usable_size(q), new_size);
      const size_t keep = (b->size < new_size ? b->size : new_size);
      const size_t bad = mi_test_pattern_mismatch(q, 0, keep, b->seed);
      CHECKF(bad == keep, "step %zu: realloc %zu -> %zu (%p -> %p) lost content at offset %zu",
             step, b->size, new_size, (void*)b->p, (void*)q, bad);
      if (new_size > b->size) mi_test_pattern_fill(q, b->size, new_size, b->seed);
      live_bytes = live_bytes - b->size + new_size;
      b->p = q;
      b->size = new_size;
      mi_random_counts.reallocs++;
    }
    if (live_bytes > mi_random_counts.max_live_bytes) mi_random_counts.max_live_bytes = live_bytes;
    if (step % MI_RANDOM_SWEEP_EVERY == 0) {
      for (size_t i = 0; i < MI_RANDOM_SLOTS; i++) {
        if (mi_random_shadow[i].p != NULL) mi_random_verify(&mi_random_shadow[i], i, "sweep", step);
      }
      mi_random_counts.sweeps++;
    }
  }
  for (size_t i = 0; i < MI_RANDOM_SLOTS; i++) {
    if (mi_random_shadow[i].p == NULL) continue;
    mi_random_verify(&mi_random_shadow[i], i, "final", steps);
    mi_free(mi_random_shadow[i].p);
    mi_random_shadow[i].p = NULL;
  }

  printf("test-api-random: %zu steps: %zu allocations (%zu zeroed), %zu frees, %zu reallocations, "
         "%zu sweeps, %zu MiB verified, peak %zu KiB live\n",
         steps, mi_random_counts.allocs, mi_random_counts.zero_allocs, mi_random_counts.frees,
         mi_random_counts.reallocs, mi_random_counts.sweeps, mi_random_counts.bytes_verified / MI_TEST_MIB,
         mi_random_counts.max_live_bytes / MI_TEST_KIB);
  return mi_test_summary("test-api-random");
}

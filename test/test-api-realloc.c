/* ----------------------------------------------------------------------------
API test: content survives reallocation across every page kind.

1. Chains: one block is reallocated through increasing sizes from 1 byte to
   64 MiB (small, medium, large and huge pages) and back down to 1 byte.
   Byte i always holds pattern(seed, i); after each step the preserved prefix
   min(old, new) is verified and the newly gained tail is filled.
2. Every pair of representative sizes (one per page kind and boundaries
   between them): malloc, fill, realloc, verify the prefix.
3. mi_reallocn (including count*size overflow), mi_reallocf (success and a
   failing request), mi_rezalloc and mi_recalloc (the new tail is zero),
   mi_expand (NULL, or the same pointer with a usable size that covers the
   request; contents untouched either way).
-----------------------------------------------------------------------------*/
#include <errno.h>
#include <mimalloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "test-common.h"

#define MI_REALLOC_TOP (64 * MI_TEST_MIB)

static size_t mi_realloc_steps;

// Reallocate `p` (holding `old_size` pattern bytes of `seed`) to `new_size`,
// verify the kept prefix and fill the gained tail. Returns the new block, or
// NULL (after freeing the old block) when reallocation failed.
static void* mi_realloc_step(void* p, size_t old_size, size_t new_size, uint64_t seed) {
  mi_realloc_steps++;
  void* q = mi_realloc(p, new_size);
  CHECKF(q != NULL, "mi_realloc(%p, %zu) from %zu bytes returned NULL", p, new_size, old_size);
  if (q == NULL) { mi_free(p); return NULL; }
  CHECKF(mi_usable_size(q) >= new_size, "mi_realloc to %zu: usable size %zu too small", new_size, mi_usable_size(q));
  CHECKF(((uintptr_t)q % 16) == 0 || new_size < 16, "mi_realloc to %zu: %p not 16-byte aligned", new_size, q);
  const size_t keep = (old_size < new_size ? old_size : new_size);
  const size_t bad = mi_test_pattern_mismatch(q, 0, keep, seed);
  CHECKF(bad == keep, "realloc %zu -> %zu lost content at offset %zu", old_size, new_size, bad);
  if (new_size > old_size) mi_test_pattern_fill(q, old_size, new_size, seed);
  return q;
}

// Grow from 1 byte to `top` multiplying by num/den (plus `bump`), then shrink back.
static void mi_realloc_chain(size_t num, size_t den, size_t bump, uint64_t seed) {
  static size_t sizes[512];
  size_t count = 0;
  for (size_t s = 1; s <= MI_REALLOC_TOP && count < 512; ) {
    sizes[count++] = s;
    size_t next = (s * num) / den + bump;
    if (next <= s) next = s + 1;
    s = next;
  }
  if (sizes[count - 1] != MI_REALLOC_TOP && count < 512) sizes[count++] = MI_REALLOC_TOP;

  void* p = mi_malloc(sizes[0]);
  CHECK(p != NULL);
  if (p == NULL) return;
  mi_test_pattern_fill(p, 0, sizes[0], seed);
  size_t current = sizes[0];
  for (size_t i = 1; i < count && p != NULL; i++) {            // up
    p = mi_realloc_step(p, current, sizes[i], seed);
    current = sizes[i];
  }
  for (size_t i = count - 1; i-- > 0 && p != NULL; ) {          // and down again
    p = mi_realloc_step(p, current, sizes[i], seed);
    current = sizes[i];
  }
  if (p != NULL) {
    CHECK(mi_test_pattern_ok(p, 0, current, seed));
    mi_free(p);
  }
}

static const size_t mi_realloc_kinds[] = {
  1, 8, 16, 17, 100, 1024, 8 * 1024, 8 * 1024 + 1,              // small pages
  16 * 1024 + 1, 60 * 1024, 128 * 1024,                          // medium
  128 * 1024 + 1, 600 * 1024, 3 * 1024 * 1024 + 5,               // large
  16 * 1024 * 1024, 16 * 1024 * 1024 + 1, 40 * 1024 * 1024 + 3  // edge of large, huge
};
#define MI_REALLOC_KIND_COUNT (sizeof(mi_realloc_kinds) / sizeof(mi_realloc_kinds[0]))
#define MI_REALLOC_BIG (4 * MI_TEST_MIB)

// All pairs of sizes up to 4 MiB; sizes above that are paired with one size
// of each smaller page kind, with themselves, and with each other, which keeps
// the amount of memory written (and the run time) small.
static bool mi_realloc_pair_wanted(size_t a, size_t b) {
  const size_t from = mi_realloc_kinds[a];
  const size_t to = mi_realloc_kinds[b];
  if (from <= MI_REALLOC_BIG && to <= MI_REALLOC_BIG) return true;
  if (from > MI_REALLOC_BIG && to > MI_REALLOC_BIG) return true;
  const size_t small = (from <= MI_REALLOC_BIG ? from : to);
  return (small == 17 || small == 8 * 1024 + 1 || small == 60 * 1024 || small == 600 * 1024 || small == 3 * 1024 * 1024 + 5);
}

static void mi_realloc_pairs(void) {
  for (size_t a = 0; a < MI_REALLOC_KIND_COUNT; a++) {
    for (size_t b = 0; b < MI_REALLOC_KIND_COUNT; b++) {
      if (!mi_realloc_pair_wanted(a, b)) continue;
      const size_t from = mi_realloc_kinds[a];
      const size_t to = mi_realloc_kinds[b];
      const uint64_t seed = (uint64_t)(a * 131 + b) * UINT64_C(0x2545F4914F6CDD1D);
      // a neighbour of the same size that must stay intact while the block moves
      const size_t neighbour_size = (from <= MI_REALLOC_BIG ? from : 0);
      void* neighbour = (neighbour_size > 0 ? mi_malloc(neighbour_size) : NULL);
      void* p = mi_malloc(from);
      CHECK(p != NULL && (neighbour != NULL || neighbour_size == 0));
      if (p == NULL || (neighbour == NULL && neighbour_size > 0)) { mi_free(p); mi_free(neighbour); continue; }
      if (neighbour != NULL) mi_test_pattern_fill(neighbour, 0, neighbour_size, ~seed);
      mi_test_pattern_fill(p, 0, from, seed);
      p = mi_realloc_step(p, from, to, seed);
      if (p != NULL) {
        CHECKF(mi_test_pattern_ok(p, 0, to, seed), "realloc %zu -> %zu: content wrong after fill", from, to);
        mi_free(p);
      }
      CHECKF(neighbour == NULL || mi_test_pattern_ok(neighbour, 0, neighbour_size, ~seed),
             "realloc %zu -> %zu disturbed a neighbour block", from, to);
      mi_free(neighbour);
    }
  }
}

static void mi_realloc_variants(void) {
  // mi_reallocn: count * size, with overflow detection.
  {
    uint64_t* p = (uint64_t*)mi_mallocn(10, sizeof(uint64_t));
    CHECK(p != NULL);
    if (p != NULL) {
      for (size_t i = 0; i < 10; i++) p[i] = i * 7 + 1;
      uint64_t* q = (uint64_t*)mi_reallocn(p, 100000, sizeof(uint64_t));
      CHECK(q != NULL);
      if (q != NULL) {
        CHECK(mi_usable_size(q) >= 100000 * sizeof(uint64_t));
        bool kept = true;
        for (size_t i = 0; i < 10; i++) kept = kept && (q[i] == i * 7 + 1);
        CHECK(kept);
        p = q;
      }
      errno = 0;
      void* r = mi_reallocn(p, mi_test_opaque_size(SIZE_MAX / 4), 8);  // count*size overflows
      CHECK(r == NULL);
      CHECKF(errno == ENOMEM, "mi_reallocn overflow: errno=%d, expected ENOMEM", errno);
      if (r != NULL) p = (uint64_t*)r;
      bool still = true;  // a failed reallocn leaves the block alone
      for (size_t i = 0; i < 10; i++) still = still && (p[i] == i * 7 + 1);
      CHECK(still);
      mi_free(p);
    }
  }
  // mi_reallocf: success keeps content; failure returns NULL and frees the block.
  {
    char* p = (char*)mi_malloc(1000);
    CHECK(p != NULL);
    if (p != NULL) {
      mi_test_pattern_fill(p, 0, 1000, 77);
      char* q = (char*)mi_reallocf(p, 300000);
      CHECK(q != NULL);
      if (q != NULL) {
        CHECK(mi_test_pattern_ok(q, 0, 1000, 77));
        errno = 0;
        void* r = mi_reallocf(q, mi_test_opaque_size(SIZE_MAX));
        CHECK(r == NULL);
        CHECKF(errno == ENOMEM, "mi_reallocf(p, SIZE_MAX): errno=%d, expected ENOMEM", errno);
        if (r != NULL) mi_free(r);
        // q has been freed by the failing mi_reallocf; it must not be used again.
      }
    }
    void* fresh = mi_reallocf(NULL, 64);  // NULL acts as malloc
    CHECK(fresh != NULL);
    mi_free(fresh);
  }
  // mi_rezalloc / mi_recalloc: prefix kept, new tail zero; tried at every page kind.
  for (size_t a = 0; a < MI_REALLOC_KIND_COUNT; a++) {
    for (size_t b = 0; b < MI_REALLOC_KIND_COUNT; b++) {
      if (!mi_realloc_pair_wanted(a, b)) continue;
      const size_t from = mi_realloc_kinds[a];
      const size_t to = mi_realloc_kinds[b];
      const uint64_t seed = (uint64_t)(a * 977 + b + 1);
      uint8_t* p = (uint8_t*)mi_zalloc(from);
      CHECK(p != NULL);
      if (p == NULL) continue;
      mi_test_pattern_fill(p, 0, from, seed);
      uint8_t* q = (uint8_t*)mi_rezalloc(p, to);
      CHECKF(q != NULL, "mi_rezalloc %zu -> %zu returned NULL", from, to);
      if (q == NULL) { mi_free(p); continue; }
      const size_t keep = (from < to ? from : to);
      CHECKF(mi_test_pattern_ok(q, 0, keep, seed), "mi_rezalloc %zu -> %zu lost content", from, to);
      if (to > from) {
        const size_t nz = mi_test_nonzero_at(q, from, to);
        CHECKF(nz == to, "mi_rezalloc %zu -> %zu: tail byte at %zu not zero", from, to, nz);
      }
      mi_free(q);
      // the same through mi_recalloc (count * size form), from a fresh mi_calloc block
      uint8_t* c = (uint8_t*)mi_calloc(from, 1);
      CHECK(c != NULL);
      if (c == NULL) continue;
      mi_test_pattern_fill(c, 0, from, seed);
      uint8_t* r = (uint8_t*)mi_recalloc(c, to, 1);
      CHECKF(r != NULL, "mi_recalloc %zu -> %zu returned NULL", from, to);
      if (r == NULL) { mi_free(c); continue; }
      CHECKF(mi_test_pattern_ok(r, 0, keep, seed), "mi_recalloc %zu -> %zu lost content", from, to);
      if (to > from) {
        const size_t nz2 = mi_test_nonzero_at(r, from, to);
        CHECKF(nz2 == to, "mi_recalloc %zu -> %zu: tail byte at %zu not zero", from, to, nz2);
      }
      mi_free(r);
    }
  }
  {
    errno = 0;
    void* p = mi_zalloc(64);
    CHECK(p != NULL);
    void* q = mi_recalloc(p, mi_test_opaque_size(SIZE_MAX / 2), 3);  // overflow
    CHECK(q == NULL);
    CHECKF(errno == ENOMEM, "mi_recalloc overflow: errno=%d, expected ENOMEM", errno);
    mi_free(q == NULL ? p : q);
    void* fresh = mi_rezalloc(NULL, 100);  // NULL acts as zalloc
    CHECK(fresh != NULL && mi_test_is_zero(fresh, 0, 100));
    mi_free(fresh);
  }
  // mi_expand: NULL, or the same block now covering the request, content intact.
  for (size_t a = 0; a < MI_REALLOC_KIND_COUNT; a++) {
    const size_t from = mi_realloc_kinds[a];
    uint8_t* p = (uint8_t*)mi_malloc(from);
    CHECK(p != NULL);
    if (p == NULL) continue;
    mi_test_pattern_fill(p, 0, from, from);
    const size_t usable = mi_usable_size(p);
    const size_t requests[4] = { from, usable, usable + 1, 2 * usable + 100 };
    for (size_t r = 0; r < 4; r++) {
      void* q = mi_expand(p, requests[r]);
      CHECKF(q == NULL || q == p, "mi_expand(%p, %zu) moved the block to %p", (void*)p, requests[r], q);
      if (q == p) {
        CHECKF(mi_usable_size(p) >= requests[r], "mi_expand to %zu succeeded but usable size is %zu",
               requests[r], mi_usable_size(p));
      }
      CHECK(mi_test_pattern_ok(p, 0, from, from));
    }
    mi_free(p);
  }
  CHECK(mi_expand(NULL, 10) == NULL);
}

int main(void) {
  mi_realloc_chain(2, 1, 0, 0x1111);       // powers of two
  mi_realloc_chain(2, 1, 1, 0x2222);       // powers of two plus one
  mi_realloc_chain(13, 10, 3, 0x3333);     // factor 1.3, odd sizes
  mi_realloc_chain(5, 4, 0, 0x4444);       // factor 1.25, roughly one step per bin
  mi_realloc_pairs();
  mi_realloc_variants();
  printf("test-api-realloc: %zu realloc steps checked\n", mi_realloc_steps);
  return mi_test_summary("test-api-realloc");
}

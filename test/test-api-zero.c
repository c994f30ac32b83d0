/* ----------------------------------------------------------------------------
API test: zero-initialising allocation, in particular on reused memory.

For sizes in small, medium, large and huge pages: allocate a batch of blocks,
fill their whole usable size with 0xAA, free them, then allocate the same
number again with mi_zalloc (and, in a second round, mi_calloc with a
count*size split, and for small sizes mi_zalloc_small) and check that every
byte of the usable size is zero. The freed 0xAA blocks are the ones an
allocator hands out next, so a missed zeroing shows up directly. Also
checks fresh zero allocations, mi_calloc(0, n) / mi_calloc(n, 0), and
mi_malloc_small.
-----------------------------------------------------------------------------*/
#include <mimalloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test-common.h"

#define MI_ZERO_MAX_BATCH 512

typedef enum mi_zero_kind_e {
  MI_ZERO_ZALLOC,
  MI_ZERO_CALLOC,
  MI_ZERO_ZALLOC_SMALL,
} mi_zero_kind_t;

static const char* mi_zero_kind_names[] = { "mi_zalloc", "mi_calloc", "mi_zalloc_small" };

static size_t mi_zero_blocks_checked;
static size_t mi_zero_bytes_checked;

static void* mi_zero_allocate(mi_zero_kind_t kind, size_t size) {
  switch (kind) {
    case MI_ZERO_ZALLOC: return mi_zalloc(size);
    case MI_ZERO_CALLOC:
      // split into count * element when it divides evenly, to exercise the product
      if (size % 8 == 0) return mi_calloc(size / 8, 8);
      if (size % 3 == 0) return mi_calloc(3, size / 3);
      return mi_calloc(size, 1);
    case MI_ZERO_ZALLOC_SMALL: return mi_zalloc_small(size);
  }
  return NULL;
}

static void mi_zero_check_reuse(size_t size, size_t batch, mi_zero_kind_t kind) {
  static void* blocks[MI_ZERO_MAX_BATCH];
  if (batch > MI_ZERO_MAX_BATCH) batch = MI_ZERO_MAX_BATCH;
  // dirty a batch of blocks and free them
  for (size_t i = 0; i < batch; i++) {
    blocks[i] = mi_malloc(size);
    CHECKF(blocks[i] != NULL, "mi_malloc(%zu) returned NULL", size);
    if (blocks[i] != NULL) memset(blocks[i], 0xAA, mi_usable_size(blocks[i]));
  }
  for (size_t i = 0; i < batch; i++) mi_free(blocks[i]);
  // the same number of zero allocations must all read as zero
  for (size_t i = 0; i < batch; i++) {
    blocks[i] = mi_zero_allocate(kind, size);
    CHECKF(blocks[i] != NULL, "%s(%zu) returned NULL", mi_zero_kind_names[kind], size);
    if (blocks[i] == NULL) continue;
    const size_t usable = mi_usable_size(blocks[i]);
    CHECKF(usable >= size, "%s(%zu): usable size %zu", mi_zero_kind_names[kind], size, usable);
    const size_t nonzero = mi_test_nonzero_at(blocks[i], 0, usable);
    CHECKF(nonzero == usable, "%s(%zu) block %zu (usable %zu): byte at offset %zu is 0x%02x, not zero%s",
           mi_zero_kind_names[kind], size, i, usable, nonzero,
           (nonzero < usable ? ((uint8_t*)blocks[i])[nonzero] : 0),
           (nonzero >= size ? " (beyond the requested size)" : ""));
    mi_zero_blocks_checked++;
    mi_zero_bytes_checked += usable;
    // dirty it again so the next round reuses dirty memory too
    memset(blocks[i], 0xAA, usable);
  }
  for (size_t i = 0; i < batch; i++) mi_free(blocks[i]);
}

static size_t mi_zero_batch_for(size_t size) {
  if (size <= 1024) return 512;
  if (size <= 16 * MI_TEST_KIB) return 128;
  if (size <= 128 * MI_TEST_KIB) return 32;
  if (size <= 2 * MI_TEST_MIB) return 8;
  return 3;
}

int main(void) {
  static const size_t sizes[] = {
    1, 7, 8, 15, 16, 24, 100, 512, 1000, 1024,            // small
    4000, 8 * 1024, 8 * 1024 + 8,                         // small pages, upper end
    16 * 1024 + 8, 30000, 64 * 1024, 128 * 1024,          // medium
    128 * 1024 + 8, 500 * 1024, 2 * 1024 * 1024 + 24,     // large
    10 * 1024 * 1024, 16 * 1024 * 1024,                   // large, top
    16 * 1024 * 1024 + 8, 40 * 1024 * 1024,               // huge
  };
  const size_t count = sizeof(sizes) / sizeof(sizes[0]);
  for (int round = 0; round < 2; round++) {
    for (size_t i = 0; i < count; i++) {
      mi_zero_check_reuse(sizes[i], mi_zero_batch_for(sizes[i]), MI_ZERO_ZALLOC);
      mi_zero_check_reuse(sizes[i], mi_zero_batch_for(sizes[i]), MI_ZERO_CALLOC);
      if (sizes[i] <= MI_SMALL_SIZE_MAX) {
        mi_zero_check_reuse(sizes[i], mi_zero_batch_for(sizes[i]), MI_ZERO_ZALLOC_SMALL);
      }
    }
  }
  // every small size once, dirty then zero
  for (size_t size = 1; size <= 2048; size++) {
    mi_zero_check_reuse(size, 16, MI_ZERO_ZALLOC);
    mi_zero_check_reuse(size, 16, MI_ZERO_CALLOC);
  }

  // mi_malloc_small: usable and writable
  for (size_t size = 1; size <= MI_SMALL_SIZE_MAX; size++) {
    void* p = mi_malloc_small(size);
    CHECKF(p != NULL && mi_usable_size(p) >= size, "mi_malloc_small(%zu)", size);
    if (p != NULL) {
      mi_test_pattern_fill(p, 0, mi_usable_size(p), size);
      CHECK(mi_test_pattern_ok(p, 0, mi_usable_size(p), size));
    }
    mi_free(p);
  }

  // calloc with a zero count or element size gives a freeable block
  void* a = mi_calloc(0, 16);
  void* b = mi_calloc(16, 0);
  CHECK(a != NULL && b != NULL && a != b);
  mi_free(a);
  mi_free(b);

  printf("test-api-zero: %zu zeroed blocks checked (%zu bytes)\n", mi_zero_blocks_checked, mi_zero_bytes_checked);
  return mi_test_summary("test-api-zero");
}

/* ----------------------------------------------------------------------------
Misuse test: double free, and free of a pointer that realloc already moved.

Expected: each is reported once as "mi_free: double free of P detected", the
free lists are not corrupted (no block is ever handed out twice, the heap
keeps working), and the live blocks keep their contents.
-----------------------------------------------------------------------------*/
#include "test-misuse.h"

#define COUNT 1000

static int compare_ptr(const void* a, const void* b) {
  uintptr_t x = *(const uintptr_t*)a, y = *(const uintptr_t*)b;
  return (x < y ? -1 : (x > y ? 1 : 0));
}

// Allocate COUNT blocks of `size`: no two may be the same block.
static void check_no_duplicates(size_t size) {
  static void* blocks[COUNT];
  for (size_t i = 0; i < COUNT; i++)
    blocks[i] = mi_malloc(size);
  qsort(blocks, COUNT, sizeof(void*), compare_ptr);
  size_t dups = 0;
  for (size_t i = 1; i < COUNT; i++)
    dups += (blocks[i] == blocks[i - 1]);
  CHECKF(dups == 0, "size %zu: %zu blocks handed out twice", size, dups);
  for (size_t i = 0; i < COUNT; i++)
    if (i == 0 || blocks[i] != blocks[i - 1])
      mi_free(blocks[i]);
}

int main(void) {
  void* keep = mi_malloc(40); // keeps the page in use
  mi_test_pattern_fill(keep, 0, 40, 1);
  void* p = mi_malloc(40);
  mi_free(p);
  misuse_begin();
  mi_free(p);
  CHECKF(misuse_countf("mi_free: double free of %p detected\n", p) == 1, "double free of %p not reported once", p);
  check_no_duplicates(40);
  CHECK(mi_test_pattern_ok(keep, 0, 40, 1));

  // Free after realloc moved the block.
  p = mi_malloc(40);
  void* q = mi_realloc(p, 4000);
  CHECK(q != NULL && q != p);
  mi_test_pattern_fill(q, 0, 4000, 2);
  misuse_begin();
  mi_free(p);
  CHECKF(misuse_countf("mi_free: double free of %p detected\n", p) == 1, "free after realloc of %p not reported", p);
  CHECK(mi_test_pattern_ok(q, 0, 4000, 2));
  check_no_duplicates(40);
  check_no_duplicates(4000);
  CHECK(misuse_heap_works(40, 2000, NULL));
  mi_free(q);
  mi_free(keep);
  if (mi_test_failures() != 0)
    misuse_dump("double free");
  mi_test_capture_end();
  return mi_test_summary("test-misuse-double-free");
}

/* ----------------------------------------------------------------------------
Misuse test: free and realloc of a pointer into the middle of a block.

Expected: "mi_free: pointer P points inside a block" (and the mi_realloc
variant, with EINVAL), the block stays live with its contents, and freeing
its real start afterwards works without any report.
-----------------------------------------------------------------------------*/
#include "test-misuse.h"

static void interior(size_t size, size_t offset) {
  uint8_t* p = (uint8_t*)mi_malloc(size);
  mi_test_pattern_fill(p, 0, size, size);
  misuse_begin();
  mi_free(p + offset);
  CHECKF(misuse_countf("mi_free: pointer %p points inside a block\n", (void*)(p + offset)) == 1,
         "size %zu: interior free not reported", size);
  errno = 0;
  void* q = mi_realloc(p + offset, size * 2);
  CHECK(q == NULL && errno == EINVAL);
  CHECKF(misuse_countf("mi_realloc: pointer %p points inside a block\n", (void*)(p + offset)) == 1,
         "size %zu: interior realloc not reported", size);
  CHECKF(mi_test_pattern_ok(p, 0, size, size), "size %zu: the block was changed", size);
  misuse_begin();
  mi_free(p);
  CHECKF(mi_test_captured()[0] == 0, "size %zu: freeing the real block start was reported", size);
  if (mi_test_failures() != 0)
    misuse_dump("interior pointer");
}

int main(void) {
  interior(64, 16);
  interior(1000, 8);
  interior(50000, 4096);
  interior(300000, 8192);
  CHECK(misuse_heap_works(64, 2000, NULL));
  mi_test_capture_end();
  return mi_test_summary("test-misuse-interior");
}

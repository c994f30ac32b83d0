/* ----------------------------------------------------------------------------
Misuse test: realloc of a pointer that was already freed.

Expected: reported once as "mi_realloc: double free of P detected", realloc
returns NULL with errno EINVAL, nothing is freed or copied, and the heap
keeps working (the freed block is handed out at most once afterwards).
-----------------------------------------------------------------------------*/
#include "test-misuse.h"

int main(void) {
  void* keep = mi_malloc(64);
  mi_test_pattern_fill(keep, 0, 64, 3);
  void* p = mi_malloc(64);
  mi_free(p);
  misuse_begin();
  errno = 0;
  void* q = mi_realloc(p, 200);
  CHECKF(q == NULL && errno == EINVAL, "realloc of a freed pointer returned %p, errno %d", q, errno);
  CHECKF(misuse_countf("mi_realloc: double free of %p detected\n", p) == 1, "realloc of freed %p not reported", p);

  errno = 0;
  q = mi_realloc_aligned(p, 300, 64);
  CHECK(q == NULL && errno == EINVAL);
  CHECK(misuse_countf("mi_realloc: double free of %p detected\n", p) == 2);

  // The freed block is still free exactly once: two allocations never share it.
  void* x = mi_malloc(64);
  void* y = mi_malloc(64);
  CHECK(x != NULL && y != NULL && x != y);
  CHECK(mi_test_pattern_ok(keep, 0, 64, 3));
  CHECK(misuse_heap_works(64, 2000, NULL));
  mi_free(x);
  mi_free(y);
  mi_free(keep);
  if (mi_test_failures() != 0)
    misuse_dump("realloc of a freed pointer");
  mi_test_capture_end();
  return mi_test_summary("test-misuse-realloc-freed");
}

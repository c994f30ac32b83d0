/* ----------------------------------------------------------------------------
Misuse test: pointers this allocator never handed out.

Expected: free of a stack or system-malloc pointer is reported (the first
time only, as programs that do it tend to do it often) with
  mi_free: pointer P was not allocated by this allocator; it is left alone
and does nothing; realloc of one fails with EINVAL; mi_usable_size is 0; a
pointer into our own segment metadata is "not an allocated block". The
system allocator's block and the heap keep working.
-----------------------------------------------------------------------------*/
#include "test-misuse.h"

int main(void) {
  int local = 42;
  misuse_begin();
  mi_free(&local);
  CHECK(misuse_countf("mi_free: pointer %p was not allocated by this allocator; it is left alone\n",
                      (void*)&local) == 1);
  CHECK(local == 42);

  char* sys = (char*)malloc(100); // the system allocator (this program does not override it)
  strcpy(sys, "system block");
  mi_free(sys);
  errno = 0;
  CHECK(mi_realloc(sys, 1000) == NULL && errno == EINVAL);
  CHECK(mi_usable_size(sys) == 0);
  CHECK(strcmp(sys, "system block") == 0);
  free(sys);

  // A pointer into our own segment's metadata.
  void* p = mi_malloc(32);
  uint8_t* meta = (uint8_t*)((uintptr_t)p & ~(((uintptr_t)32 << 20) - 1)) + 256;
  misuse_begin();
  mi_free(meta);
  CHECKF(misuse_countf("mi_free: pointer %p is not an allocated block\n", (void*)meta) == 1,
         "free of a metadata pointer not reported");
  CHECK(misuse_heap_works(32, 2000, NULL));
  mi_free(p);
  if (mi_test_failures() != 0)
    misuse_dump("foreign pointers");
  mi_test_capture_end();
  return mi_test_summary("test-misuse-foreign");
}

/* ----------------------------------------------------------------------------
A purge that fails leaves memory counted as holding what it held.

Freed memory is purged (madvise MADV_DONTNEED) after a delay, and purged
memory of our own mappings reads as zero, so a zero-initialised allocation
there skips the clearing. But the purge can fail: on locked memory (mlock,
mlockall) Linux answers EINVAL and drops nothing from the locked pages on.
A failed purge must not count as one, or calloc hands out old bytes.

Each phase writes a block, locks one of its pages (as a program that locks
a buffer and frees it still locked, or runs under mlockall), frees it, forces
the purge (mi_collect(true), purge delay 0), and then asks calloc for the
same size: the block it gets, the same memory, must read zero in every byte.
The three places that purge: a free span inside a segment (a 1 MiB block),
the segment cache (a 40 MiB block's mapping), and an arena reserved with
mi_reserve_os_memory (last: from then on segments come from the arena).
A phase whose mlock is refused (RLIMIT_MEMLOCK) is skipped, not failed.
-----------------------------------------------------------------------------*/
#include <sys/mman.h>
#include "test-common.h"

static void locked_phase(const char* phase, size_t size, void* keep) {
  const size_t page = (size_t)sysconf(_SC_PAGESIZE);
  unsigned char* p = (unsigned char*)mi_malloc(size);
  CHECK(p != NULL);
  if (p == NULL)
    return;
  memset(p, 0xab, size);
  unsigned char* locked = (unsigned char*)(((uintptr_t)p + size / 2) & ~(uintptr_t)(page - 1));
  if (mlock(locked, page) != 0) {
    printf("test-os-purge-locked: %s: mlock refused; skipped\n", phase);
    mi_free(p);
    return;
  }
  mi_free(p);
  mi_collect(true);
  unsigned char* q = (unsigned char*)mi_calloc(1, size);
  CHECK(q != NULL);
  if (q != NULL) {
    // The same memory again: otherwise the phase tests nothing.
    CHECKF(q == p, "%s: calloc gave %p, not the freed block's memory %p", phase, (void*)q, (void*)p);
    size_t nonzero = 0;
    for (size_t i = 0; i < size; i++)
      nonzero += (q[i] != 0);
    CHECKF(nonzero == 0, "%s: %zu of %zu bytes of a zero-initialised block are not zero", phase, nonzero,
           size);
  }
  munlock(locked, page);
  mi_free(q);
  (void)keep;
}

int main(void) {
  mi_option_set(mi_option_purge_delay, 0);
  mi_option_disable(mi_option_allow_thp);
  void* keep = mi_malloc(100); // keeps the 1 MiB block's segment alive
  locked_phase("free span", (size_t)1 << 20, keep);
  locked_phase("segment cache", (size_t)40 << 20, keep);
  CHECK(mi_reserve_os_memory((size_t)256 << 20, true, false) == 0);
  locked_phase("arena", (size_t)40 << 20, keep);
  mi_free(keep);
  return mi_test_summary("test-os-purge-locked");
}

/* ----------------------------------------------------------------------------
At the limit of OS mappings, memory the allocator cannot unmap still goes
back to the OS.

Linux refuses (ENOMEM) to unmap the middle of a mapping when the process has
vm.max_map_count mappings: the split would need one more. The allocator's
segments lie next to each other with equal flags, so the kernel keeps them
as one mapping, and a freed segment between two live ones is such a middle.
Processes near the limit exist (many file mappings, many guard pages), and
there every segment the allocator unmapped stayed mapped and resident, owned
by nobody.

The test makes 48 huge blocks (each a segment mapping of its own, next to
each other) with 1 MiB of each written, uses up the mapping limit with
mappings of its own, then frees every other block: more ranges than the
segment cache keeps, so some are unmapped (or, failing that, must be purged),
the others cached and, after mi_collect(true), purged. No page of a freed
block may stay resident. Then it gives its mappings back and checks that the
allocator still works.
-----------------------------------------------------------------------------*/
#include <errno.h>
#include <sys/mman.h>
#include "test-common.h"
#include "mimalloc/types.h"

#define BLOCKS 48
#define WRITTEN ((size_t)1 << 20)

// Resident pages of [p, p + size); a range that is not mapped has none.
static size_t resident_pages(const void* p, size_t size) {
  static unsigned char vec[WRITTEN / 4096];
  const size_t page = (size_t)sysconf(_SC_PAGESIZE);
  uintptr_t start = (uintptr_t)p & ~(uintptr_t)(page - 1);
  size_t pages = ((uintptr_t)p + size - start + page - 1) / page;
  if (pages > sizeof(vec))
    pages = sizeof(vec);
  if (mincore((void*)start, pages * page, vec) != 0)
    return 0;
  size_t n = 0;
  for (size_t i = 0; i < pages; i++)
    n += (vec[i] & 1);
  return n;
}

int main(void) {
  mi_option_set(mi_option_purge_delay, -1); // nothing purged but by mi_collect(true)
  mi_option_disable(mi_option_allow_thp);
  const size_t size = MI_SEGMENT_SIZE / 32 * 17; // a huge block: a segment mapping of its own
  char* blocks[BLOCKS];
  for (size_t i = 0; i < BLOCKS; i++) {
    blocks[i] = (char*)mi_malloc(size);
    CHECK(blocks[i] != NULL);
    if (blocks[i] != NULL)
      memset(blocks[i], 7, WRITTEN);
  }
  // Use up the mapping limit: every other page of a large reservation made
  // read-only, each a mapping of its own, until the kernel refuses.
  const size_t page = (size_t)sysconf(_SC_PAGESIZE);
  const size_t filler_pages = (size_t)300000;
  char* filler = (char*)mmap(NULL, filler_pages * page, PROT_READ | PROT_WRITE,
                             MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  CHECK(filler != MAP_FAILED);
  if (filler == MAP_FAILED)
    return mi_test_summary("test-os-map-limit");
  size_t split = 0;
  bool limit = false;
  for (size_t i = 0; i + 1 < filler_pages; i += 2) {
    if (mprotect(filler + i * page, page, PROT_READ) != 0) {
      limit = (errno == ENOMEM);
      break;
    }
    split++;
  }
  printf("test-os-map-limit: %zu pages protected apart before the limit (%s)\n", split,
         limit ? "reached" : "not reached");
  if (limit) {
    for (size_t i = 0; i < BLOCKS; i += 2)
      mi_free(blocks[i]);
    mi_collect(true);
    size_t resident = 0;
    for (size_t i = 0; i < BLOCKS; i += 2)
      resident += resident_pages(blocks[i], WRITTEN);
    CHECKF(resident == 0, "%zu pages of freed blocks stayed resident at the mapping limit", resident);
    // The live blocks are intact.
    size_t changed = 0;
    for (size_t i = 1; i < BLOCKS; i += 2)
      changed += (blocks[i][0] != 7 || blocks[i][WRITTEN - 1] != 7);
    CHECKF(changed == 0, "%zu live blocks changed", changed);
  } else {
    printf("test-os-map-limit: the mapping limit was not reached; skipped\n");
    for (size_t i = 0; i < BLOCKS; i += 2)
      mi_free(blocks[i]);
  }
  munmap(filler, filler_pages * page);
  // Away from the limit, the allocator works as before.
  char* again = (char*)mi_malloc(size);
  CHECK(again != NULL);
  if (again != NULL)
    memset(again, 8, size);
  mi_free(again);
  for (size_t i = 1; i < BLOCKS; i += 2)
    mi_free(blocks[i]);
  return mi_test_summary("test-os-map-limit");
}

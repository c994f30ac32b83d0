/* ----------------------------------------------------------------------------
A failed move of cached memory under a new segment loses nothing and takes
nothing that is not the allocator's.

Linux's mremap with MREMAP_FIXED unmaps the destination before it checks
the source and before it moves any page table; when a later step fails (the
source spans several mappings, the kernel is short of memory), the call
returns an error and leaves a hole where the destination was. Another thread
may map something into that hole before the allocator looks again.

The test library makes moves fail on request (mi_test_fail_moves), in the
two ways the kernel's can: early, with nothing changed, and late, with the
destination unmapped; at a late failure the test's hook may map memory of
its own into the hole, as another thread could. For each, in the geometry of
test-os-reuse's moved phases (a block needing two segment sizes, next to
resident memory it cannot use in place; a block going to the end of a cached
range whose middle is resident):
- the allocation succeeds, a zero-initialised block reads zero, and every
  byte of it can be written (without the fix, a late failure crashed here:
  the new segment lay partly in the hole);
- live neighbours keep their bytes;
- memory mapped into the hole by someone else is never handed out, written or
  unmapped by the allocator, also after everything is freed and collected;
- the failure was reached (test counters: moves_failed, moves_lost).
-----------------------------------------------------------------------------*/
#include <sys/mman.h>
#include "test-common.h"
#include "test-os-cache.h"
#include "mimalloc/testing.h"

#define FOREIGN_BYTE 0x5a

static bool take_hole;      // the hook maps into the hole the failed move left
static uint8_t* foreign;    // what it mapped there (one segment size), or NULL
static long foreign_mapped; // how often it managed to
static long phases_run;     // phases that found their geometry
static long holes_offered;  // of those, phases whose hook was to take the hole

static void on_move_failed(mi_test_point_t point, const void* destination) {
  if (point != MI_TEST_POINT_MOVE_FAILED || !take_hole || foreign != NULL)
    return;
#ifdef MAP_FIXED_NOREPLACE
  void* p = mmap((void*)destination, SEGMENT, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (p == MAP_FAILED)
    return;
  if (p != destination) { // a kernel without MAP_FIXED_NOREPLACE
    munmap(p, SEGMENT);
    return;
  }
  foreign = (uint8_t*)p;
  memset(foreign, FOREIGN_BYTE, SEGMENT);
  foreign_mapped++;
#else
  (void)destination;
#endif
}

static bool overlaps(const void* block, size_t size, const uint8_t* range, size_t range_size) {
  const uint8_t* b = (const uint8_t*)block;
  return (range != NULL && b < range + range_size && range < b + size);
}

// Every byte of the foreign mapping still holds FOREIGN_BYTE, and it is mapped.
static void check_foreign(const char* when) {
  if (foreign == NULL)
    return;
  CHECKF(msync(foreign, SEGMENT, MS_ASYNC) == 0, "%s: the memory mapped into the hole was unmapped", when);
  size_t changed = 0;
  for (size_t i = 0; i < SEGMENT; i += 64)
    changed += (foreign[i] != FOREIGN_BYTE);
  CHECKF(changed == 0, "%s: %zu sampled bytes of the memory mapped into the hole changed", when, changed);
}

// Under an emulator (qemu-user, cross builds) the hole may not be mapped
// again: qemu-i386 keeps its own map of a 32-bit guest's address space and
// does not honour MAP_FIXED_NOREPLACE there. The destination then counts as
// lost (the safe answer: leaked, never used); everything else is checked.
static bool emulated;

// The destinations lost in a phase: one where the hook took the hole, none
// otherwise, or, under an emulator, one either way.
static void check_lost(const char* phase, long long lost) {
  const long long expected = (foreign != NULL ? 1 : 0);
  CHECKF(lost == expected || (emulated && lost == 1), "%s: %lld destinations lost, expected %lld", phase,
         lost, expected);
}

static void counters(long long* failed, long long* lost) {
  mi_test_counters_t c;
  mi_test_counters_get(&c);
  *failed = c.moves_failed;
  *lost = c.moves_lost;
}

// The new block: zero (if `zeroed`), writable to its end, and apart from the foreign mapping.
static void check_block(const char* phase, char* block, size_t size, bool zeroed) {
  CHECKF(block != NULL, "%s: no block of %zu bytes", phase, size);
  if (block == NULL)
    return;
  CHECKF(!overlaps(block, size, foreign, SEGMENT), "%s: the block %p overlaps memory mapped into the hole %p",
         phase, (void*)block, (void*)foreign);
  if (zeroed && !overlaps(block, size, foreign, SEGMENT)) {
    size_t nonzero = 0;
    for (size_t i = 0; i < size; i += 512)
      nonzero += (block[i] != 0);
    CHECKF(nonzero == 0, "%s: %zu sampled bytes of a zero-initialised block are not zero", phase, nonzero);
  }
  check_foreign(phase);
  if (!overlaps(block, size, foreign, SEGMENT))
    memset(block, 21, size);
  check_foreign(phase);
}

static void reset_phase(bool late, bool take) {
  phases_run++;
  holes_offered += (take ? 1 : 0);
  take_hole = take;
  foreign = NULL;
  mi_test_fail_moves(1, late);
}

// After a phase: the foreign mapping survives everything being freed and
// collected and more huge blocks coming and going; then the test unmaps it.
static void end_phase(const char* phase) {
  mi_test_fail_moves(0, false);
  mi_collect(true);
  char* more[4];
  for (size_t i = 0; i < 4; i++) {
    more[i] = (char*)mi_malloc(SEGMENT / 4 * 3);
    CHECK(more[i] != NULL);
    CHECKF(!overlaps(more[i], SEGMENT / 4 * 3, foreign, SEGMENT),
           "%s: a later block overlaps the hole's memory", phase);
    if (more[i] != NULL && !overlaps(more[i], SEGMENT / 4 * 3, foreign, SEGMENT))
      memset(more[i], 22, SEGMENT / 4 * 3);
  }
  for (size_t i = 0; i < 4; i++)
    mi_free(more[i]);
  mi_collect(true);
  check_foreign(phase);
  if (foreign != NULL)
    munmap(foreign, SEGMENT);
  foreign = NULL;
  take_hole = false;
}

// A zero-initialised block of `size` whose one move fails (early or late,
// the hole taken or not): exactly one move failed, the right number of
// destinations was lost, and the block is zero, writable and apart from the
// memory mapped into the hole.
static char* zalloc_with_failing_move(const char* phase, size_t size, bool late, bool take) {
  long long failed0, lost0, failed1, lost1;
  counters(&failed0, &lost0);
  reset_phase(late, take);
  char* block = (char*)mi_zalloc(size);
  counters(&failed1, &lost1);
  CHECKF(failed1 == failed0 + 1, "%s: %lld moves failed, expected 1", phase, failed1 - failed0);
  check_lost(phase, lost1 - lost0);
  check_block(phase, block, size, true);
  return block;
}

// A block of two segment sizes next to nothing but a freed, written mapping
// of one segment size between two live ones: its first segment size would get
// that memory moved under it (a fresh mapping's move), and the move fails.
static void fresh_phase(const char* phase, bool late, bool take) {
  const size_t size = MI_SEGMENT_SIZE / 4 * 3;
  char* triple[3] = {NULL, NULL, NULL};
  if (!one_freed_between_live(size, triple))
    return;
  const size_t both = MI_SEGMENT_SIZE / 4 * 5;
  char* block = zalloc_with_failing_move(phase, both, late, take);
  CHECKF(triple[0][0] == 12 && triple[0][size - 1] == 12, "%s: the block below changed", phase);
  CHECKF(triple[2][0] == 13 && triple[2][size - 1] == 13, "%s: the block above changed", phase);
  mi_free(block);
  mi_free(triple[0]);
  mi_free(triple[2]);
  end_phase(phase);
}

// Four freed huge mappings next to each other between two live ones, the
// second resident: a new huge block goes to the range's end and the second's
// memory, in the middle of what is left, would be moved under it (a move
// into memory taken from the cache), and the move fails.
static void cached_phase(const char* phase, bool late, bool take) {
  const size_t size = MI_SEGMENT_SIZE / 4 * 3;
  char* run[6] = {NULL, NULL, NULL, NULL, NULL, NULL};
  if (!four_freed_between_live(size, run))
    return;
  char* block = zalloc_with_failing_move(phase, size, late, take);
  CHECKF(run[0][0] == 23 && run[0][size - 1] == 23, "%s: the block below changed", phase);
  CHECKF(run[5][0] == 24 && run[5][size - 1] == 24, "%s: the block above changed", phase);
  // What is left of the range still serves a block of two segment sizes.
  char* both = (char*)mi_malloc(MI_SEGMENT_SIZE / 4 * 5);
  check_block(phase, both, MI_SEGMENT_SIZE / 4 * 5, false);
  mi_free(both);
  mi_free(block);
  mi_free(run[0]);
  mi_free(run[5]);
  end_phase(phase);
}

int main(void) {
  emulated = (getenv("MI_TEST_EMULATOR") != NULL);
  mi_option_set(mi_option_purge_delay, -1);
  mi_option_disable(mi_option_allow_thp);
  mi_test_set_hook(on_move_failed);
  fresh_phase("fresh mapping, early failure", false, false);
  fresh_phase("fresh mapping, late failure", true, false);
  fresh_phase("fresh mapping, late failure, hole taken", true, true);
  cached_phase("cached memory, early failure", false, false);
  cached_phase("cached memory, late failure", true, false);
  cached_phase("cached memory, late failure, hole taken", true, true);
  printf("test-os-move-fail: %ld of 6 phases ran\n", phases_run);
#if MI_TEST_EXPECT_ALL_PHASES
  // Segments come from a hint and lie next to each other: every phase finds
  // its geometry (see os.cmake for where it may not).
  CHECKF(phases_run == 6, "only %ld of 6 phases found their geometry", phases_run);
#endif
#ifdef MAP_FIXED_NOREPLACE
  CHECKF(foreign_mapped == holes_offered || emulated, "the hook mapped into %ld holes, expected %ld",
         foreign_mapped, holes_offered);
#endif
  return mi_test_summary("test-os-move-fail");
}

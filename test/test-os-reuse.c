/* ----------------------------------------------------------------------------
Freed large memory is reused without being faulted in again.

Sizes are in segment sizes (32 MiB on 64-bit, 8 MiB on 32-bit); the MiB
below are 64-bit's. Two phases of SLOTS slots; each step frees the block of
a random slot and allocates one of a new random size, then writes every byte
of it: first 4..16 MiB (large pages inside segments), then 17..31 MiB (huge
blocks, each with a segment of its own, whose freed mappings must serve
later blocks of other sizes). After a warm-up, the minor page faults of the
measured steps are counted (getrusage) against the 4 KiB pages written.
Purging and huge pages are off, so the count is deterministic and measures
reuse only: a freed mapping that could not serve a request of another size
shows up as faults. A first phase frees a huge block and checks that the
normal segments allocated next are split off its mapping, written again
without faults. The last phases check the segment cache's choices: two freed
mappings that lie next to each other serve, joined, a block needing both; of
a cached range whose one end is resident and the other not, the resident
end is taken; the mapping of a freed over-aligned block serves as whole
segments; and the residency of a range outlives a normal segment that used
a little of it; and a block that needs two segment sizes, for which only a
single resident segment size lies free between two live ones, gets that
memory moved under it (and reads as zero when zero-initialised), as does a
block that goes to an end of a cached range resident in its middle; where
the freed memory is barely resident, nothing is moved.
-----------------------------------------------------------------------------*/
#include <pthread.h>
#include <sys/resource.h>
#include "test-common.h"
#include "test-os-cache.h"

#define SLOTS 8
#define WARMUP_STEPS 60
#define MEASURED_STEPS 100

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static size_t rng_below(size_t bound) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (size_t)(rng_state % bound);
}

static long minor_faults(void) {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

// One phase with block sizes in [min_size, min_size + range).
static void churn_phase(const char* name, size_t min_size, size_t range, size_t limit_permille) {
  char* blocks[SLOTS] = {0};
  size_t sizes[SLOTS] = {0};
  long faults_before = 0;
  size_t pages_written = 0;
  for (size_t step = 0; step < WARMUP_STEPS + MEASURED_STEPS; step++) {
    if (step == WARMUP_STEPS) {
      faults_before = minor_faults();
      pages_written = 0;
    }
    size_t slot = rng_below(SLOTS);
    if (blocks[slot] != NULL) {
      CHECK(blocks[slot][0] == (char)slot && blocks[slot][sizes[slot] - 1] == (char)slot);
      mi_free(blocks[slot]);
    }
    sizes[slot] = min_size + rng_below(range);
    blocks[slot] = (char*)mi_malloc(sizes[slot]);
    CHECK(blocks[slot] != NULL);
    if (blocks[slot] == NULL)
      return;
    memset(blocks[slot], (char)slot, sizes[slot]);
    pages_written += sizes[slot] / 4096;
  }
  long faults = minor_faults() - faults_before;
  printf("test-os-reuse: %s: %ld minor faults for %zu pages written in %d steps\n", name, faults,
         pages_written, MEASURED_STEPS);
  // Steady state: the live set is constant, so little should fault.
  CHECKF((size_t)faults * 1000 < pages_written * limit_permille,
         "%s: %ld faults for %zu pages written (limit %zu per mille)", name, faults, pages_written,
         limit_permille);
  for (size_t i = 0; i < SLOTS; i++)
    mi_free(blocks[i]);
}

// A freed huge block's mapping, still resident, serves the next normal
// segments: large blocks (which live in normal segments) allocated after it
// land inside it and are written without faulting their pages in again. Runs
// first, while the process holds a single segment (which takes the first few
// large blocks).
static void split_phase(void) {
  const size_t huge_size = MI_SEGMENT_SIZE / 2 * 5; // a mapping of three segment sizes
  char* huge = (char*)mi_malloc(huge_size);
  CHECK(huge != NULL);
  if (huge == NULL)
    return;
  memset(huge, 1, huge_size);
  mi_free(huge);
  enum { LARGE_COUNT = 9 };
  const size_t large_size = MI_SEGMENT_SIZE / 4;
  char* large[LARGE_COUNT];
  size_t inside = 0;
  long inside_faults = 0;
  for (size_t i = 0; i < LARGE_COUNT; i++) {
    large[i] = (char*)mi_malloc(large_size);
    CHECK(large[i] != NULL);
    if (large[i] == NULL)
      return;
    long faults_before = minor_faults();
    memset(large[i], 2, large_size);
    if (large[i] >= huge - MI_TEST_MIB && large[i] + large_size <= huge + huge_size) {
      inside++;
      inside_faults += minor_faults() - faults_before;
    }
  }
  size_t pages_inside = inside * large_size / 4096;
  printf("test-os-reuse: split: %zu of %d large blocks inside the freed huge mapping, %ld minor faults for "
         "their "
         "%zu pages\n",
         inside, LARGE_COUNT, inside_faults, pages_inside);
  // Two new segments' worth: the process's first segment holds at most three.
  CHECKF(inside >= LARGE_COUNT - 3, "only %zu of %d large blocks reuse the freed huge mapping", inside,
         LARGE_COUNT);
  CHECKF((size_t)inside_faults * 20 < pages_inside, "%ld faults for %zu pages written", inside_faults,
         pages_inside);
  for (size_t i = 0; i < LARGE_COUNT; i++)
    mi_free(large[i]);
}

// Writes `size` bytes at p and returns the minor faults that took.
static long faults_writing(char* p, size_t size, int value) {
  long before = minor_faults();
  memset(p, value, size);
  return minor_faults() - before;
}

// Two freed huge mappings next to each other serve, as one range, a block
// that needs two segment sizes, and it is written without faults.
static void joined_phase(void) {
  const size_t size = MI_SEGMENT_SIZE / 4 * 3; // huge, in one segment size
  char* pair[2] = {NULL, NULL};
  if (!consecutive_run(size, 2, pair))
    return;
  char* low = pair[0];
  char* high = pair[1];
  mi_collect(true); // the rest of the cache is purged: no resident memory to prefer there
  memset(low, 1, size);
  memset(high, 2, size);
  uintptr_t base = segment_of(low);
  mi_free(low);
  mi_free(high);
  const size_t both = MI_SEGMENT_SIZE / 4 * 5; // needs two segment sizes
  char* joined = (char*)mi_malloc(both);
  CHECK(joined != NULL);
  if (joined == NULL)
    return;
  CHECKF(segment_of(joined) == base, "a block of two segment sizes is at %p, not in the joined range at %p",
         (void*)joined, (void*)base);
  // Its first `size` bytes lie where the lower block was written.
  long faults = faults_writing(joined, size, 3);
  printf("test-os-reuse: joined: %ld minor faults for %zu resident pages written\n", faults, size / 4096);
  CHECKF((size_t)faults * 20 < size / 4096, "%ld faults writing %zu pages of a joined range", faults,
         size / 4096);
  mi_free(joined);
}

// Of a cached range whose upper end is resident and lower end is not, a new
// segment takes the upper end. The range lies between two live mappings:
// otherwise the mappings freed while looking for the pair may join it, and
// where they lie above it (addresses that rise, as musl's do) the resident
// segment would not be an end of the range.
static void resident_end_phase(void) {
  const size_t size = MI_SEGMENT_SIZE / 4 * 3;
  char* run[4] = {NULL, NULL, NULL, NULL};
  mi_collect(true); // the pair comes from purged memory or fresh mappings: cold
  if (!consecutive_run(size, 4, run))
    return;
  char* low = run[1];
  char* high = run[2];
  mi_collect(true);
  memset(high, 2, size); // `low` stays untouched but for its header
  uintptr_t resident = segment_of(high);
  mi_free(low);
  mi_free(high);
  char* again = (char*)mi_malloc(size);
  CHECK(again != NULL);
  if (again != NULL) {
    CHECKF(segment_of(again) == resident, "a huge block went to %p, not to the resident end at %p",
           (void*)again, (void*)resident);
    long faults = faults_writing(again, size, 4);
    printf("test-os-reuse: resident end: %ld minor faults for %zu pages written\n", faults, size / 4096);
    CHECKF((size_t)faults * 20 < size / 4096, "%ld faults writing %zu pages at the resident end", faults,
           size / 4096);
  }
  mi_free(again);
  mi_free(run[0]);
  mi_free(run[3]);
}

// A freed over-aligned block (alignment above MI_BLOCK_ALIGNMENT_MAX: its
// segment has a header segment size in front of the block) leaves a mapping
// the cache can cut segments from: a huge block allocated next, drawn to the
// written memory, takes the second segment of that mapping, just past a
// segment-aligned header, and the segment found from the block is its own.
static void over_aligned_phase(void) {
  const size_t size = MI_SEGMENT_SIZE / 2;
  char* aligned = (char*)mi_malloc_aligned(size, 2 * MI_SEGMENT_SIZE);
  CHECK(aligned != NULL && ((uintptr_t)aligned % (2 * SEGMENT)) == 0);
  if (aligned == NULL)
    return;
  mi_collect(true);
  memset(aligned, 5, size);
  mi_free(aligned);
  const size_t huge_size = MI_SEGMENT_SIZE - MI_SEGMENT_SIZE / 16;
  char* huge = (char*)mi_malloc(huge_size);
  CHECK(huge != NULL);
  if (huge == NULL)
    return;
  uintptr_t header = (uintptr_t)huge - segment_of(huge);
  CHECKF(header <= SEGMENT / 16, "a huge block at %p lies %zu bytes past a segment start", (void*)huge,
         (size_t)header);
  CHECK(mi_usable_size(huge) >= huge_size);
  // Its segment is the freed one's second, where the aligned block was written.
  CHECKF(segment_of(huge) == (uintptr_t)aligned, "a huge block went to %p, not to the freed block's %p",
         (void*)huge, (void*)aligned);
  memset(huge, 6, huge_size);
  mi_free(huge);
}

// A thread whose first large block takes a new normal segment, cut from the
// cache; the thread frees it and exits, and its segment goes back.
static void* one_large_block(void* arg) {
  char* p = (char*)mi_malloc(MI_TEST_MIB);
  if (p != NULL)
    memset(p, 7, MI_TEST_MIB);
  *(uintptr_t*)arg = (p == NULL ? 0 : segment_of(p));
  mi_free(p);
  return NULL;
}

// A normal segment cut from a resident cached range uses little of it; when
// it is freed, the memory it left untouched still counts as resident (the
// cache hands its residency to the segment as dirty slices, and takes it back).
// So the next huge block goes to that range, not to a less resident one.
static void carried_phase(void) {
  mi_collect(true);
  const size_t a_size = MI_SEGMENT_SIZE - MI_SEGMENT_SIZE / 16;
  const size_t b_size = MI_SEGMENT_SIZE / 2 + MI_SEGMENT_SIZE / 16;
  char* a = (char*)mi_malloc(a_size);
  char* b = (char*)mi_malloc(b_size);
  CHECK(a != NULL && b != NULL);
  if (a == NULL || b == NULL)
    return;
  memset(a, 1, a_size);
  memset(b, 2, b_size);
  uintptr_t a_segment = segment_of(a);
  mi_free(a);
  uintptr_t thread_segment = 0;
  pthread_t thread;
  CHECK(pthread_create(&thread, NULL, &one_large_block, &thread_segment) == 0);
  pthread_join(thread, NULL);
  mi_free(b);
  if (thread_segment != a_segment) {
    printf("test-os-reuse: the thread's segment is not the freed block's; carried phase skipped\n");
    return;
  }
  const size_t c_size = MI_SEGMENT_SIZE - MI_SEGMENT_SIZE / 8;
  char* c = (char*)mi_malloc(c_size);
  CHECK(c != NULL);
  if (c == NULL)
    return;
  CHECKF(segment_of(c) == a_segment, "a huge block went to %p, not to the more resident %p", (void*)c,
         (void*)a_segment);
  long faults = faults_writing(c, c_size, 8);
  printf("test-os-reuse: carried: %ld minor faults for %zu pages written\n", faults, c_size / 4096);
  CHECKF((size_t)faults * 20 < c_size / 4096, "%ld faults writing %zu pages of a resident range", faults,
         c_size / 4096);
  mi_free(c);
}

// A freed huge block's mapping, resident but between two live ones, is too
// small for a block of two segment sizes; that block's first segment size
// gets the resident memory moved under it instead of faulting fresh pages,
// and a zero-initialised block reads as zero all the same.
static void moved_phase(void) {
  const size_t size = MI_SEGMENT_SIZE / 4 * 3;
  char* triple[3] = {NULL, NULL, NULL};
  if (!one_freed_between_live(size, triple))
    return;
  const size_t both = MI_SEGMENT_SIZE / 4 * 5; // needs two segment sizes
  char* moved = (char*)mi_zalloc(both);
  CHECK(moved != NULL);
  if (moved == NULL)
    return;
  // What moved in held the freed block's bytes; the block must read as zero.
  size_t nonzero = 0;
  for (size_t i = 0; i < both; i += 512)
    nonzero += (moved[i] != 0);
  CHECKF(nonzero == 0, "%zu sampled bytes of a zero-initialised block are not zero", nonzero);
  long faults = faults_writing(moved, size, 10);
  printf("test-os-reuse: moved: %ld minor faults for %zu pages written\n", faults, size / 4096);
  CHECKF((size_t)faults * 20 < size / 4096, "%ld faults writing %zu pages where resident memory was free",
         faults, size / 4096);
  // The block is usable to its end, and its neighbours are intact.
  memset(moved, 11, both);
  CHECK(triple[0][0] == 12 && triple[0][size - 1] == 12);
  CHECK(triple[2][0] == 13 && triple[2][size - 1] == 13);
  mi_free(moved);
  mi_free(triple[0]);
  mi_free(triple[2]);
}

// Four freed huge mappings next to each other (one cached range between two
// live ones): the second is resident, the fourth a little. A new huge block
// goes to the fourth, the range's warmer end, and the second's memory, now in
// the middle of what is left ([first, second, third]), is moved under it.
static void moved_middle_phase(void) {
  const size_t size = MI_SEGMENT_SIZE / 4 * 3;
  char* run[6] = {NULL, NULL, NULL, NULL, NULL, NULL};
  if (!four_freed_between_live(size, run))
    return;
  char* block = (char*)mi_malloc(size);
  CHECK(block != NULL);
  if (block == NULL)
    return;
  CHECKF(segment_of(block) == segment_of(run[4]), "a huge block went to %p, not to the warmer end %p",
         (void*)segment_of(block), (void*)segment_of(run[4]));
  long faults = faults_writing(block, size, 16);
  CHECK(run[0][0] == 23 && run[0][size - 1] == 23 && run[5][0] == 24 && run[5][size - 1] == 24);
  printf("test-os-reuse: moved from the middle: %ld minor faults for %zu pages written\n", faults,
         size / 4096);
  CHECKF((size_t)faults * 20 < size / 4096, "%ld faults writing %zu pages where resident memory was free",
         faults, size / 4096);
  // What is left of the range still serves a block of two segment sizes.
  char* both = (char*)mi_malloc(MI_SEGMENT_SIZE / 4 * 5);
  CHECK(both != NULL);
  if (both != NULL)
    memset(both, 17, MI_SEGMENT_SIZE / 4 * 5);
  mi_free(both);
  mi_free(block);
  mi_free(run[0]);
  mi_free(run[5]);
}

// The same geometry, but the freed mapping between the two live ones holds
// only a sixteenth of a segment size written: a move would gain less than it
// is worth (half a segment size), so none is made, and the block needing two
// segment sizes does not show the freed block's bytes.
static void small_gain_phase(void) {
  const size_t size = MI_SEGMENT_SIZE / 4 * 3;
  const size_t written = MI_SEGMENT_SIZE / 16;
  char* triple[3] = {NULL, NULL, NULL};
  mi_collect(true);
  if (!consecutive_run(size, 3, triple))
    return;
  mi_collect(true);
  const uintptr_t offset = (uintptr_t)triple[1] - segment_of(triple[1]);
  memset(triple[1], 18, written);
  mi_free(triple[1]);
  const size_t both = MI_SEGMENT_SIZE / 4 * 5;
  char* block = (char*)mi_malloc(both);
  CHECK(block != NULL);
  if (block == NULL)
    return;
  // Where the freed block's bytes would lie had its memory moved under this block.
  char* from = (char*)(segment_of(block) + offset);
  size_t shown = 0;
  for (size_t i = 0; i < written; i += 4096) {
    if (from + i >= block && from + i < block + both)
      shown += (from[i] == 18);
  }
  CHECKF(shown == 0, "%zu pages of a freed block with %zu bytes written moved under a new block", shown,
         written);
  mi_free(block);
  mi_free(triple[0]);
  mi_free(triple[2]);
}

int main(void) {
  mi_option_set(mi_option_purge_delay, -1);
  mi_option_disable(mi_option_allow_thp);
  split_phase();
  // Limits: about twice what reuse leaves (spans and mappings first used for
  // a smaller block); mappings sized to their block fault about 2.5% here.
  // 32-bit segments hold one or two of the large blocks, so more spans are
  // cut anew: 31 per mille measured there.
  churn_phase("large", MI_SEGMENT_SIZE / 8, MI_SEGMENT_SIZE / 8 * 3, MI_INTPTR_SIZE == 4 ? 50 : 25);
  churn_phase("huge", MI_SEGMENT_SIZE / 32 * 17, MI_SEGMENT_SIZE / 16 * 7, 10);
  joined_phase();
  resident_end_phase();
  over_aligned_phase();
  carried_phase();
  moved_phase();
  moved_middle_phase();
  small_gain_phase();
  return mi_test_summary("test-os-reuse");
}

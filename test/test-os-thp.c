/* ----------------------------------------------------------------------------
Transparent huge pages (mi_option_allow_thp), checked in /proc/self/smaps:
- a small program's first segment does not ask for huge pages (no RSS
  inflation: a touched 4 KiB would cost 2 MiB);
- the mapping of a huge block does not ask either (it is written once and
  freed: huge pages would save it little and their first touch can cost more);
- at 160 MiB resident a new segment does not ask (the threshold is 1 GiB);
- past the threshold (which the test then lowers to 128 MiB with
  mi_test_set_thp_min_rss, rather than touch 1 GiB) a new segment does ask
  (THPeligible: 1);
- with allow_thp off, new memory is not eligible, also where the system gives
  huge pages unasked ("always" mode: the process is taken off them).
Skipped (exit 0 with a note) where the kernel has THP off or smaps does not
report THPeligible. In a build with MI_NO_THP nothing may ask for them.
-----------------------------------------------------------------------------*/
#include "test-common.h"
#include "mimalloc/testing.h"
#include "mimalloc/types.h"

// THP mode of the system: 'a' always, 'm' madvise, 'n' never or unknown.
static char thp_mode(void) {
  FILE* f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
  if (f == NULL)
    return 'n';
  char buf[128] = {0};
  size_t n = fread(buf, 1, sizeof(buf) - 1, f);
  fclose(f);
  buf[n] = 0;
  if (strstr(buf, "[always]") != NULL)
    return 'a';
  if (strstr(buf, "[madvise]") != NULL)
    return 'm';
  return 'n';
}

// THPeligible of the mapping that contains p: 1, 0, or -1 if not reported.
static int thp_eligible(const void* p) {
  FILE* f = fopen("/proc/self/smaps", "r");
  if (f == NULL)
    return -1;
  char line[512];
  bool inside = false;
  int result = -1;
  uintptr_t addr = (uintptr_t)p;
  while (fgets(line, sizeof(line), f) != NULL) {
    unsigned long start, end;
    if (sscanf(line, "%lx-%lx ", &start, &end) == 2 && strchr(line, '-') < strchr(line, ' ')) {
      inside = (addr >= start && addr < end);
      continue;
    }
    int value;
    if (inside && sscanf(line, "THPeligible: %d", &value) == 1) {
      result = value;
      break;
    }
  }
  fclose(f);
  return result;
}

// Allocate blocks of `size` into `blocks` until one lies in a segment not in
// `segments` (which it joins); returns that block's THPeligible (-2: none did).
static int next_segment_eligible(char** blocks, size_t* count, size_t max, size_t size, uintptr_t* segments,
                                 size_t* segment_count) {
  while (*count < max) {
    char* p = (char*)mi_malloc(size);
    CHECK(p != NULL);
    if (p == NULL)
      return -2;
    blocks[(*count)++] = p;
    uintptr_t segment = (uintptr_t)p & ~(uintptr_t)(MI_SEGMENT_SIZE - 1);
    bool seen = false;
    for (size_t i = 0; i < *segment_count; i++)
      seen = seen || (segments[i] == segment);
    if (!seen) {
      segments[(*segment_count)++] = segment;
      return thp_eligible(p);
    }
  }
  return -2;
}

int main(void) {
  char mode = thp_mode();
  mi_process_init();
  char* small = (char*)mi_malloc(1024);
  CHECK(small != NULL);
  int small_eligible = thp_eligible(small);
  if (mode == 'n' || small_eligible < 0) {
    printf("test-os-thp: skipped (THP off on this system or THPeligible not reported)\n");
    mi_free(small);
    return 0;
  }
  memset(small, 1, 1024);
  if (mode == 'm')
    CHECKF(small_eligible == 0, "a small program's segment asked for huge pages");

  // A huge block, touched whole: the process is now 160 MiB resident.
  size_t huge_size = 160u << 20;
  char* huge = (char*)mi_malloc(huge_size);
  CHECK(huge != NULL);
  if (mode == 'm')
    CHECKF(thp_eligible(huge) == 0, "the mapping of a %zu-byte block asked for huge pages", huge_size);
  memset(huge, 2, huge_size);
  mi_free(huge);

  // Large blocks (in normal segments; untouched, they cost address space only)
  // until one sits in a segment not seen before. Below the threshold it has
  // not asked for huge pages; past the threshold it has.
  enum { LARGE_COUNT = 32, SEGMENTS_MAX = LARGE_COUNT + 1 };
  size_t large_size = MI_LARGE_OBJ_SIZE_MAX / 4 * 3; // a large block, in a normal segment
  char* large[LARGE_COUNT] = {NULL};
  size_t large_count = 0;
  uintptr_t segments[SEGMENTS_MAX] = {(uintptr_t)small & ~(uintptr_t)(MI_SEGMENT_SIZE - 1)};
  size_t segment_count = 1;
  int below = next_segment_eligible(large, &large_count, LARGE_COUNT, large_size, segments, &segment_count);
  if (mode == 'm')
    CHECKF(below == 0, "at 160 MiB resident, a new segment asked for huge pages (%d)", below);
  mi_test_set_thp_min_rss((size_t)128 << 20);
  int past = next_segment_eligible(large, &large_count, LARGE_COUNT, large_size, segments, &segment_count);
#if defined(MI_TEST_NO_THP)
  // Built with MI_NO_THP: never asked for (in "always" mode the system gives them anyway).
  if (mode == 'm')
    CHECKF(past == 0, "MI_NO_THP build, yet a new segment is THP eligible");
#else
  CHECKF(past == 1, "past the resident threshold, a new segment did not ask for huge pages (%d)", past);
#endif

  mi_option_disable(mi_option_allow_thp);
  char* off = (char*)mi_malloc(huge_size);
  CHECK(off != NULL);
  CHECKF(thp_eligible(off) == 0, "allow_thp=0, yet a new huge block is THP eligible (mode %c)", mode);
  mi_free(off);
  for (size_t i = 0; i < large_count; i++)
    mi_free(large[i]);
  mi_free(small);
  return mi_test_summary("test-os-thp");
}

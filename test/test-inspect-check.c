/* ----------------------------------------------------------------------------
mimalloc-inspect --check finds heap corruption and reports it with the right
kind and address; a clean heap reports nothing (label `inspect`).

The workload (`--workload`) allocates 64- and 4096-byte blocks on the main
thread, frees every other 64-byte block, and lets a second thread allocate
256-byte blocks and exit (its segment is abandoned). Sixteen 4 MiB
blocks are allocated and freed first, so freed segment mappings sit in the
segment cache (their old headers must not count as segments in use).
The driver inspects it (live and from a gcore dump): no violations, exit 0. Then the workload
corrupts its own heap in four ways and the driver requires each to be
reported (exit 1), live and from a core:
  - a freed block's free-list link overwritten with an address outside its
    page: free-list-link-outside-page at that block
  - the `used` count of the 4096-byte page raised by 3: page-count-mismatch
    at the count
  - the main segment's owner set to an id no thread has: owner-not-live-thread
  - the abandoned segment's owner set to the main thread's id while it is in
    the abandoned set: abandoned-set-segment-owned
The test reads the segment and page layout from the library's types.h.
-----------------------------------------------------------------------------*/
#include <inttypes.h>
#include <pthread.h>
#include <stddef.h>
#include <mimalloc.h>
#include "mimalloc/types.h"
#include "test-inspect-common.h"

#define SMALL_COUNT 1000
#define PAGE_COUNT 100
#define THREAD_COUNT 100

static void* small_blocks[SMALL_COUNT];
static void* page_blocks[PAGE_COUNT];
static void* thread_blocks[THREAD_COUNT];

static void* thread_main(void* arg) {
  (void)arg;
  for (int i = 0; i < THREAD_COUNT; i++)
    thread_blocks[i] = mi_malloc(256);
  return NULL; // exits with live blocks: its segment is abandoned
}

static uintptr_t segment_of(const void* p) { return (uintptr_t)p & ~MI_SEGMENT_MASK; }

static mi_page_t* page_of(const void* p) {
  const mi_segment_t* segment = (const mi_segment_t*)segment_of(p);
  return segment->page_map[((uintptr_t)p - (uintptr_t)segment) >> MI_SEGMENT_SLICE_SHIFT];
}

static uintptr_t* owner_field(uintptr_t segment) {
  return (uintptr_t*)(segment + offsetof(mi_segment_t, thread_id));
}

static int workload(void) {
  for (int i = 0; i < SMALL_COUNT; i++)
    small_blocks[i] = mi_malloc(64);
  for (int i = 0; i < PAGE_COUNT; i++)
    page_blocks[i] = mi_malloc(4096);
  for (int i = 0; i < SMALL_COUNT; i += 2)
    mi_free(small_blocks[i]);
  pthread_t thread;
  if (pthread_create(&thread, NULL, thread_main, NULL) != 0 || pthread_join(thread, NULL) != 0)
    return 3;
  // More 4 MiB blocks than one segment holds, all freed: the extra segments
  // become empty and their mappings stay in the segment cache. (A heap of its
  // own, which does not reclaim the abandoned segment; after the thread exit,
  // which purges the cache.)
  mi_heap_t* heap = mi_heap_new();
  void* large[16];
  for (int i = 0; i < 16; i++)
    large[i] = mi_heap_malloc(heap, 4 * MI_MiB);
  for (int i = 0; i < 16; i++)
    mi_free(large[i]);
  if (write(1, "ready\n", 6) != 6)
    return 3;
  char command;
  if (read(0, &command, 1) != 1)
    return 0;
  // The corruption. From here on the heap is not used again.
  uintptr_t freed = (uintptr_t)small_blocks[SMALL_COUNT / 2];
  *(uintptr_t*)freed = (uintptr_t)page_blocks[7] + 8; // a link outside the 64-byte page
  mi_page_t* page = page_of(page_blocks[0]);
  page->used += 3;
  uintptr_t main_segment = segment_of(small_blocks[1]);
  uintptr_t abandoned_segment = segment_of(thread_blocks[0]);
  uintptr_t main_owner = *owner_field(main_segment);
  *owner_field(abandoned_segment) = main_owner;
  *owner_field(main_segment) = (uintptr_t)0x5eed0000;
  char line[256];
  int n = snprintf(line, sizeof(line), "%#" PRIxPTR " %#" PRIxPTR " %#" PRIxPTR " %#" PRIxPTR "\n", freed,
                   (uintptr_t)&page->used, main_segment, abandoned_segment);
  if (write(1, line, (size_t)n) != n)
    return 3;
  mi_workload_wait_for_driver();
  _exit(0); // without the allocator's exit path: the heap is corrupt
}

// ---------------------------------------------------------------------------
// The driver
// ---------------------------------------------------------------------------
typedef struct expect_s {
  const char* kind;
  unsigned long long address;
  bool found;
} expect_t;

// Run the inspector; check its exit code and that every expected violation is reported.
static void inspect(const char* what, char* const argv[], const char* dir, int want_rc, expect_t* expect,
                    size_t expect_count) {
  char out[512], err[512];
  snprintf(out, sizeof(out), "%s/report.json", dir);
  snprintf(err, sizeof(err), "%s/report.err", dir);
  int rc = mi_run(argv, out, err);
  EXPECT(rc == want_rc, "%s: inspector exited %d, expected %d", what, rc, want_rc);
  char* text = mi_read_file(out);
  EXPECT(text != NULL, "%s: no report", what);
  if (text == NULL)
    return;
  long long count = -1;
  for (char* line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
    if (strstr(line, "\"violation_count\": ") != NULL)
      count = mi_json_number(line, "violation_count");
    char kind[64], address[32];
    if (strncmp(line, "{\"kind\": ", 9) != 0 || !mi_json_string(line, "kind", kind, sizeof(kind)) ||
        !mi_json_string(line, "address", address, sizeof(address)))
      continue;
    printf("%s: reported %s at %s\n", what, kind, address);
    for (size_t i = 0; i < expect_count; i++) {
      if (strcmp(kind, expect[i].kind) == 0 && strtoull(address, NULL, 0) == expect[i].address)
        expect[i].found = true;
    }
  }
  EXPECT(count == (expect_count == 0 ? 0 : count) && count >= (long long)expect_count,
         "%s: %lld violations reported, expected %s %zu", what, count, (expect_count == 0 ? "exactly" : "at least"),
         expect_count);
  for (size_t i = 0; i < expect_count; i++) {
    EXPECT(expect[i].found, "%s: %s at %#llx not reported", what, expect[i].kind, expect[i].address);
    expect[i].found = false;
  }
  free(text);
}

static void inspect_both(const char* what, const char* inspector, pid_t pid, const char* dir, int want_rc,
                         expect_t* expect, size_t expect_count) {
  char pid_text[32], label[64], core[4300];
  snprintf(pid_text, sizeof(pid_text), "%d", (int)pid);
  char* live[] = {(char*)inspector, "--json", "--check", "--pid", pid_text, NULL};
  snprintf(label, sizeof(label), "%s, live", what);
  inspect(label, live, dir, want_rc, expect, expect_count);
  if (!mi_gcore(pid, dir, core, sizeof(core))) {
    EXPECT(false, "%s: gcore failed", what);
    return;
  }
  char* from_core[] = {(char*)inspector, "--json", "--check", core, NULL};
  snprintf(label, sizeof(label), "%s, core", what);
  inspect(label, from_core, dir, want_rc, expect, expect_count);
  unlink(core);
}

int main(int argc, char** argv) {
  if (argc == 2 && strcmp(argv[1], "--workload") == 0)
    return workload();
  if (argc != 2) {
    fprintf(stderr, "usage: test-inspect-check INSPECTOR\n");
    return 2;
  }
  const char* inspector = argv[1];
  char dir[256];
  mi_scratch_dir(dir, sizeof(dir), "test-inspect-check");
  char* child_argv[] = {argv[0], "--workload", NULL};
  mi_child_t child;
  char line[256];
  if (!mi_child_start(&child, child_argv) || fgets(line, sizeof(line), child.from_child) == NULL ||
      strcmp(line, "ready\n") != 0) {
    fprintf(stderr, "the workload failed\n");
    return 1;
  }
  inspect_both("clean heap", inspector, child.pid, dir, 0, NULL, 0);

  EXPECT(write(child.to_child, "c", 1) == 1, "cannot signal the workload");
  unsigned long long freed = 0, used = 0, main_segment = 0, abandoned_segment = 0;
  EXPECT(fgets(line, sizeof(line), child.from_child) != NULL &&
             sscanf(line, "%llx %llx %llx %llx", &freed, &used, &main_segment, &abandoned_segment) == 4,
         "the workload did not corrupt its heap");
  expect_t expect[] = {{"free-list-link-outside-page", freed, false},
                       {"page-count-mismatch", used, false},
                       {"owner-not-live-thread", main_segment, false},
                       {"abandoned-set-segment-owned", abandoned_segment, false}};
  inspect_both("corrupted heap", inspector, child.pid, dir, 1, expect, sizeof(expect) / sizeof(expect[0]));

  int status = mi_child_finish(&child);
  EXPECT(status == 0, "the workload exited with %d", status);
  if (mi_test_failures == 0)
    mi_scratch_remove(dir);
  printf("test-inspect-check: %s (%d failures)\n", (mi_test_failures == 0 ? "PASS" : "FAIL"), mi_test_failures);
  return (mi_test_failures == 0 ? 0 : 1);
}

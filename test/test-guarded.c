/* ----------------------------------------------------------------------------
Guarded allocation (library built with MI_GUARDED).

- With a sample rate of 1 every block ends at a guard page: mi_usable_size is
  the size rounded up to 16 (exactly the size with guarded_precise), the
  block's end is page aligned, the whole usable size is writable, and one
  byte written or read past it faults at exactly that address (checked in a
  child process with a SIGSEGV handler).
- Sampling: rate N with seed S guards allocation S % N + 1 and every N-th
  after it; sizes outside mi_heap_guarded_set_size_bound are never guarded;
  the mi_option_guarded_* settings reach new heaps.
- Guard pages are released when a block goes back: after guarded blocks are
  freed (locally, by another thread, through realloc) or their heap is
  destroyed, the memory is reused by ordinary blocks written in full.
- Use after free: a freed guarded block faults on access while it is in its
  heap's quarantine (8 blocks; a forced collection empties it); freeing it
  again is reported as a double free and changes nothing.
- calloc, aligned allocation and heap visiting work on guarded blocks.
-----------------------------------------------------------------------------*/
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <mimalloc.h>

#include "test-common.h"

#define MI_TEST_OS_PAGE ((uintptr_t)4096)

static volatile char* mi_test_fault_expected;
static volatile char mi_test_sink;

static void mi_test_on_fault(int sig, siginfo_t* info, void* context) {
  (void)sig, (void)context;
  _exit(info->si_addr == (void*)mi_test_fault_expected ? 42 : 43);
}

// Does accessing `addr` fault, with the fault reported at `addr` itself?
static bool mi_test_faults_at(char* addr, bool write) {
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    mi_test_fault_expected = addr;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = &mi_test_on_fault;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    if (write)
      *(volatile char*)addr = 1;
    else
      mi_test_sink = *(volatile char*)addr;
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 42;
}

static size_t mi_test_align16(size_t n) { return (n + 15) & ~(size_t)15; }

static bool mi_test_ends_at_page(const void* p) {
  return (((uintptr_t)p + mi_usable_size(p)) % MI_TEST_OS_PAGE) == 0;
}

// A guarded block of `n` bytes: layout, full use, and faults just past it.
static void mi_test_check_guarded(char* p, size_t n, bool precise, bool probe) {
  size_t usable = mi_usable_size(p);
  size_t expect = (precise ? n : mi_test_align16(n));
  CHECKF(usable == expect, "guarded block of %zu: usable %zu, expected %zu", n, usable, expect);
  CHECKF(mi_test_ends_at_page(p), "guarded block of %zu at %p does not end at a page boundary", n, (void*)p);
  memset(p, 0x6b, usable);
  CHECK(usable == 0 || p[usable - 1] == 0x6b);
  if (probe) {
    CHECKF(mi_test_faults_at(p + usable, true), "writing 1 byte past a guarded block of %zu did not fault there", n);
    CHECKF(mi_test_faults_at(p + usable, false), "reading 1 byte past a guarded block of %zu did not fault there", n);
  }
}

static bool mi_test_is_guarded_precise(const void* p, size_t n) { return mi_usable_size(p) == n && mi_test_ends_at_page(p); }

static void* mi_test_free_all(void* arg) {
  void** blocks = (void**)arg;
  for (size_t i = 0; i < 64; i++)
    mi_free(blocks[i]);
  return NULL;
}

static bool mi_test_visit_fill(const mi_heap_t* heap, const mi_heap_area_t* area, void* block, size_t size,
                               void* arg) {
  (void)heap, (void)area;
  if (block != NULL) {
    memset(block, 0x11, size); // the reported size excludes the guard page
    (*(size_t*)arg)++;
  }
  return true;
}

// Ordinary blocks over the memory guarded blocks used: must not fault.
static void mi_test_reuse(void) {
  for (int round = 0; round < 3; round++) {
    void* blocks[400];
    for (size_t i = 0; i < 400; i++) {
      size_t n = (i % 4 == 0 ? 150000 + i * 1000 : 100 + i * 300);
      blocks[i] = mi_malloc(n);
      memset(blocks[i], 0x22, mi_usable_size(blocks[i]));
    }
    for (size_t i = 0; i < 400; i++)
      mi_free(blocks[i]);
  }
  CHECK(true);
}

int main(void) {
  mi_heap_t* heap = mi_heap_new();
  mi_heap_guarded_set_sample_rate(heap, 1, 0);

  // Every allocation guarded: sizes across small, medium and large.
  const size_t sizes[] = {0, 1, 8, 13, 16, 100, 1000, 4095, 4096, 5000, 70000, 300000, 3 * MI_TEST_MIB};
  for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
    char* p = (char*)mi_heap_malloc(heap, sizes[i]);
    CHECK(p != NULL);
    mi_test_check_guarded(p, sizes[i], false, i % 3 == 1);
    mi_free(p);
  }
  char* z = (char*)mi_heap_calloc(heap, 10, 30);
  CHECK(mi_test_is_zero(z, 0, 300));
  mi_test_check_guarded(z, 300, false, false);
  z = (char*)mi_heap_realloc(heap, z, 40000);
  CHECK(z[299] == 0x6b);
  mi_test_check_guarded(z, 40000, false, true);
  mi_free(z);
  char* a = (char*)mi_heap_malloc_aligned(heap, 200, 256);
  CHECK(((uintptr_t)a % 256) == 0 && mi_usable_size(a) >= 200);
  memset(a, 1, mi_usable_size(a));
  mi_free(a);

  // Use after free: a freed guarded block stays inaccessible while it is in
  // the quarantine; a second free is reported and changes nothing; the
  // quarantine gives blocks back oldest first and on a forced collection.
  mi_option_enable(mi_option_show_errors);
  char* freed = (char*)mi_heap_malloc(heap, 100);
  memset(freed, 1, 100);
  mi_free(freed);
  CHECKF(mi_test_faults_at(freed, false), "reading a freed guarded block did not fault");
  CHECKF(mi_test_faults_at(freed + 50, true), "writing a freed guarded block did not fault");
  mi_test_capture_begin();
  mi_free(freed);
  mi_test_capture_end();
  CHECKF(strstr(mi_test_captured(), "double free of the guarded block") != NULL, "no report: \"%s\"",
         mi_test_captured());
  for (size_t i = 0; i < 8; i++)
    mi_free(mi_heap_malloc(heap, 200)); // pushes `freed` out of the quarantine of 8
  CHECKF(!mi_test_faults_at(freed, false), "a block out of the quarantine is still protected");
  char* last = (char*)mi_heap_malloc(heap, 300);
  mi_free(last);
  CHECK(mi_test_faults_at(last, false));
  mi_heap_collect(heap, true);
  CHECKF(!mi_test_faults_at(last, false), "a forced collection left a block in the quarantine");

  // Visiting a heap of guarded blocks.
  void* live[20];
  for (size_t i = 0; i < 20; i++)
    live[i] = mi_heap_malloc(heap, 50 + 10 * i);
  size_t visited = 0;
  CHECK(mi_heap_visit_blocks(heap, true, &mi_test_visit_fill, &visited));
  CHECKF(visited == 20, "visited %zu blocks", visited);
  for (size_t i = 0; i < 20; i++)
    mi_free(live[i]);

  // Precise placement (the option is read at each call).
  mi_option_set(mi_option_guarded_precise, 1);
  for (size_t n = 1; n < 40; n += 3) {
    char* p = (char*)mi_heap_malloc(heap, n);
    mi_test_check_guarded(p, n, true, n == 13);
    mi_free(p);
  }

  // Size bounds: only [100, 200] is guarded.
  mi_heap_guarded_set_size_bound(heap, 100, 200);
  char* small = (char*)mi_heap_malloc(heap, 50);
  char* inside = (char*)mi_heap_malloc(heap, 150);
  char* large = (char*)mi_heap_malloc(heap, 201);
  CHECK(!mi_test_is_guarded_precise(small, 50));
  CHECK(mi_test_is_guarded_precise(inside, 150));
  CHECK(!mi_test_is_guarded_precise(large, 201));
  mi_free(small);
  mi_free(inside);
  mi_free(large);

  // Sampling: rate 10, seed 3 guards allocations 4, 14, 24, ...
  mi_heap_guarded_set_size_bound(heap, 0, SIZE_MAX);
  mi_heap_guarded_set_sample_rate(heap, 10, 3);
  size_t guarded = 0, first = 0;
  void* sampled[100];
  for (size_t i = 0; i < 100; i++) {
    sampled[i] = mi_heap_malloc(heap, 50);
    if (mi_test_is_guarded_precise(sampled[i], 50)) {
      if (guarded++ == 0)
        first = i + 1;
    }
  }
  CHECKF(guarded == 10 && first == 4, "rate 10 seed 3: %zu guarded, first at allocation %zu", guarded, first);
  for (size_t i = 0; i < 100; i++)
    mi_free(sampled[i]);
  mi_heap_guarded_set_sample_rate(heap, 0, 0);
  char* never = (char*)mi_heap_malloc(heap, 50);
  CHECK(!mi_test_is_guarded_precise(never, 50));
  mi_free(never);
  mi_heap_guarded_set_sample_rate(NULL, 1, 0); // ignored
  mi_heap_guarded_set_size_bound(NULL, 1, 2);

  // Options reach new heaps.
  mi_option_set(mi_option_guarded_sample_rate, 1);
  mi_option_set(mi_option_guarded_min, 64);
  mi_option_set(mi_option_guarded_max, 4096);
  mi_heap_t* from_options = mi_heap_new();
  char* g = (char*)mi_heap_malloc(from_options, 100);
  char* ng = (char*)mi_heap_malloc(from_options, 10);
  CHECK(mi_test_is_guarded_precise(g, 100));
  CHECK(!mi_test_is_guarded_precise(ng, 10));
  mi_free(g);
  mi_free(ng);
  mi_option_set(mi_option_guarded_sample_rate, 0);
  mi_option_set(mi_option_guarded_precise, 0);

  // Guards are released: by frees of another thread, by heap destroy.
  mi_heap_guarded_set_sample_rate(from_options, 1, 0);
  mi_heap_guarded_set_size_bound(from_options, 0, SIZE_MAX);
  void* remote[64];
  for (size_t i = 0; i < 64; i++)
    remote[i] = mi_heap_malloc(from_options, 1000 + 2000 * i);
  pthread_t t;
  CHECK(pthread_create(&t, NULL, &mi_test_free_all, remote) == 0);
  CHECK(pthread_join(t, NULL) == 0);
  void* doomed[64];
  for (size_t i = 0; i < 64; i++) {
    doomed[i] = mi_heap_malloc(from_options, 3000 + 1000 * i); // live when the heap goes
    CHECK(doomed[i] != NULL);
  }
  mi_heap_destroy(from_options);
  for (size_t i = 0; i < 300; i++)
    mi_free(mi_heap_malloc(heap, 100 + 500 * i)); // guarded earlier, now ordinary
  mi_heap_delete(heap);
  mi_test_reuse();
  return mi_test_summary("test-guarded");
}

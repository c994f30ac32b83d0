/* ----------------------------------------------------------------------------
Secure mode (MI_SECURE >= 2): a linear overflow off the end of a page, or a
write into the segment metadata's guard page, faults at once (checked in a
child process: SIGSEGV); the free list of a fresh page is handed out in a
random order, never block after block in address order; a planted free-list
link is caught (encoded links).
-----------------------------------------------------------------------------*/
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include "test-common.h"

// Run `fn(arg)` in a child: true if it died of SIGSEGV.
static bool faults(void (*fn)(uint8_t*), uint8_t* arg) {
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) {
    fn(arg);
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV;
}

// Write forward from the block for 1 MiB: the guard at the end of its page stops it.
static void write_forward(uint8_t* p) {
  volatile uint8_t* q = p;
  for (size_t i = 0; i < ((size_t)1 << 20); i++)
    q[i] = 1;
}

static void write_here(uint8_t* p) { *(volatile uint8_t*)p = 1; }

int main(void) {
  static const size_t sizes[] = {16, 1000, 20000, 200000};
  for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
    uint8_t* p = (uint8_t*)mi_malloc(sizes[i]);
    CHECKF(faults(write_forward, p), "size %zu: overflow off the page did not fault", sizes[i]);
    mi_free(p);
  }
  uint8_t* p = (uint8_t*)mi_malloc(64);
  uint8_t* segment = (uint8_t*)((uintptr_t)p & ~(((uintptr_t)32 << 20) - 1));
  CHECK(faults(write_here, segment + (64 << 10) - 1)); // the last byte of the metadata slice
  mi_free(p);

  // A fresh page (a new heap) hands out its blocks in a random order.
  mi_heap_t* heap = mi_heap_new();
  uint8_t* blocks[64];
  size_t in_order = 0;
  const size_t block_size = mi_good_size(48) + 8; // the usable part and the padding
  for (size_t i = 0; i < 64; i++) {
    blocks[i] = (uint8_t*)mi_heap_malloc(heap, 48);
    if (i > 0 && (blocks[i] == blocks[i - 1] + block_size || blocks[i - 1] == blocks[i] + block_size))
      in_order++;
  }
  CHECKF(in_order == 0, "%zu of 63 blocks followed their predecessor in memory", in_order);
  mi_heap_destroy(heap);

  // A use-after-free write plants a well-formed pointer to a live block in a
  // free block's link. Encoded links decode it to garbage: it is reported
  // and the live block is never handed out a second time.
  heap = mi_heap_new();
  uint8_t* live = (uint8_t*)mi_heap_malloc(heap, 48);
  uint8_t* freed = (uint8_t*)mi_heap_malloc(heap, 48);
  mi_free(freed);
  memcpy(freed, &live, sizeof(live));
  mi_test_capture_begin();
  size_t twice = 0;
  for (size_t i = 0; i < 4000; i++)
    twice += (mi_heap_malloc(heap, 48) == live);
  mi_test_capture_end();
  CHECKF(twice == 0, "a live block was handed out %zu more times", twice);
  CHECK(strstr(mi_test_captured(), "corrupted free list in page ") != NULL);
  mi_heap_destroy(heap);
  return mi_test_summary("test-secure");
}

/* ----------------------------------------------------------------------------
Fuzz harness: random sequences of API calls against a shadow model.

Each input is read as a program of operations: malloc, calloc, zalloc,
realloc, rezalloc, aligned malloc and realloc, mi_expand, writing a block up
to mi_usable_size, free, and first-class heaps (new, allocate in, delete,
destroy). The model records every live block's size, pattern seed, alignment
and heap; every block touched is checked against it (content, alignment,
usable size, zeroing), and at the end of the input every live block is
checked and released. Any difference aborts.

With libFuzzer (clang, -fsanitize=fuzzer, the asan preset) this is
LLVMFuzzerTestOneInput; with MI_TEST_FUZZ_STANDALONE a main() runs the
harness on fixed-seed random inputs (argument: the number of inputs).
-----------------------------------------------------------------------------*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <mimalloc.h>

#include "test-common.h"

#define MI_FUZZ_SLOTS 64
#define MI_FUZZ_HEAPS 4

typedef struct mi_fuzz_block_s {
  uint8_t* p;
  size_t size;      // bytes the model vouches for
  uint64_t seed;    // pattern of those bytes
  size_t alignment; // 0 for none
  int heap;         // index of the heap it came from, -1 for the default heap
} mi_fuzz_block_t;

typedef struct mi_fuzz_s {
  const uint8_t* data;
  size_t len;
  size_t pos;
  mi_fuzz_block_t slots[MI_FUZZ_SLOTS];
  mi_heap_t* heaps[MI_FUZZ_HEAPS];
  uint64_t next_seed;
} mi_fuzz_t;

static void mi_fuzz_fail(const char* what, const mi_fuzz_block_t* b) {
  fprintf(stderr, "fuzz: %s (block %p, size %zu, alignment %zu, heap %d)\n", what, (void*)b->p, b->size,
          b->alignment, b->heap);
  abort();
}

static uint8_t mi_fuzz_byte(mi_fuzz_t* f) { return (f->pos < f->len ? f->data[f->pos++] : 0); }

// Mostly small sizes, some medium and large ones, rarely zero.
static size_t mi_fuzz_size(mi_fuzz_t* f) {
  uint8_t kind = mi_fuzz_byte(f);
  size_t low = mi_fuzz_byte(f) | ((size_t)mi_fuzz_byte(f) << 8);
  if (kind < 160)
    return low % 1100;
  if (kind < 230)
    return low % 20000;
  if (kind < 252)
    return 16000 + low * 4;
  return low % 4;
}

static void mi_fuzz_check(const mi_fuzz_block_t* b) {
  if (b->p == NULL)
    return;
  if (b->alignment > 0 && ((uintptr_t)b->p % b->alignment) != 0)
    mi_fuzz_fail("misaligned block", b);
  if (mi_usable_size(b->p) < b->size)
    mi_fuzz_fail("usable size below the request", b);
  if (!mi_test_pattern_ok(b->p, 0, b->size, b->seed))
    mi_fuzz_fail("block contents changed", b);
}

static void mi_fuzz_set(mi_fuzz_t* f, mi_fuzz_block_t* b, void* p, size_t size, size_t alignment, int heap) {
  b->p = (uint8_t*)p;
  b->size = (p == NULL ? 0 : size);
  b->seed = ++f->next_seed;
  b->alignment = alignment;
  b->heap = heap;
  if (p != NULL)
    mi_test_pattern_fill(p, 0, size, b->seed);
}

static mi_heap_t* mi_fuzz_heap(mi_fuzz_t* f, int* index) {
  int i = mi_fuzz_byte(f) % (MI_FUZZ_HEAPS + 1);
  if (i == MI_FUZZ_HEAPS || f->heaps[i] == NULL) {
    *index = -1;
    return mi_heap_get_default();
  }
  *index = i;
  return f->heaps[i];
}

static void mi_fuzz_step(mi_fuzz_t* f) {
  uint8_t op = mi_fuzz_byte(f);
  mi_fuzz_block_t* b = &f->slots[mi_fuzz_byte(f) % MI_FUZZ_SLOTS];
  mi_fuzz_check(b);
  switch (op % 14) {
  case 0: // malloc (or heap malloc)
  case 1: {
    mi_free(b->p);
    int hi;
    mi_heap_t* heap = mi_fuzz_heap(f, &hi);
    size_t size = mi_fuzz_size(f);
    mi_fuzz_set(f, b, mi_heap_malloc(heap, size), size, 0, hi);
    break;
  }
  case 2: { // calloc / zalloc: zero
    mi_free(b->p);
    size_t size = mi_fuzz_size(f);
    size_t count = 1 + mi_fuzz_byte(f) % 4;
    uint8_t* p = (uint8_t*)(op & 0x80 ? mi_zalloc(size * count) : mi_calloc(count, size));
    if (p != NULL && !mi_test_is_zero(p, 0, size * count))
      mi_fuzz_fail("calloc memory not zero", b);
    mi_fuzz_set(f, b, p, size * count, 0, -1);
    break;
  }
  case 3: { // realloc keeps the prefix
    size_t size = mi_fuzz_size(f);
    uint8_t* p = (uint8_t*)mi_realloc(b->p, size);
    if (p == NULL && size > 0)
      mi_fuzz_fail("realloc failed", b);
    size_t keep = (b->size < size ? b->size : size);
    if (p != b->p)
      b->heap = -1; // moved to the default heap; in place it stays where it was
    b->p = p;
    if (p != NULL && !mi_test_pattern_ok(p, 0, keep, b->seed))
      mi_fuzz_fail("realloc lost contents", b);
    if (p != NULL)
      mi_test_pattern_fill(p, keep, size, b->seed);
    b->size = (p == NULL ? 0 : size);
    b->alignment = 0;
    break;
  }
  case 4: { // rezalloc of nothing: a zeroed block
    mi_free(b->p);
    size_t size = mi_fuzz_size(f);
    uint8_t* p = (uint8_t*)mi_rezalloc(NULL, size);
    if (p != NULL && !mi_test_is_zero(p, 0, size))
      mi_fuzz_fail("rezalloc memory not zero", b);
    mi_fuzz_set(f, b, p, size, 0, -1);
    break;
  }
  case 5: { // aligned malloc
    mi_free(b->p);
    size_t alignment = (size_t)1 << (mi_fuzz_byte(f) % 13);
    size_t size = mi_fuzz_size(f);
    int hi;
    mi_heap_t* heap = mi_fuzz_heap(f, &hi);
    mi_fuzz_set(f, b, mi_heap_malloc_aligned(heap, size, alignment), size, alignment, hi);
    break;
  }
  case 6: { // aligned realloc
    size_t alignment = (size_t)1 << (mi_fuzz_byte(f) % 10);
    size_t size = mi_fuzz_size(f);
    uint8_t* p = (uint8_t*)mi_realloc_aligned(b->p, size, alignment);
    if (p == NULL && size > 0)
      mi_fuzz_fail("aligned realloc failed", b);
    size_t keep = (b->size < size ? b->size : size);
    if (p != NULL && !mi_test_pattern_ok(p, 0, keep, b->seed))
      mi_fuzz_fail("aligned realloc lost contents", b);
    if (p != b->p)
      b->heap = -1;
    b->p = p;
    if (p != NULL)
      mi_test_pattern_fill(p, keep, size, b->seed);
    b->size = (p == NULL ? 0 : size);
    b->alignment = (p == NULL ? 0 : alignment);
    break;
  }
  case 7: // the whole usable size is the program's
    if (b->p != NULL) {
      size_t usable = mi_usable_size(b->p);
      mi_test_pattern_fill(b->p, b->size, usable, b->seed);
      b->size = usable;
    }
    break;
  case 8: // expand in place within the usable size
    if (b->p != NULL) {
      size_t usable = mi_usable_size(b->p);
      if (mi_expand(b->p, usable) != b->p)
        mi_fuzz_fail("mi_expand within the usable size moved or failed", b);
    }
    break;
  case 9: // free
  case 10:
    mi_free(b->p);
    b->p = NULL;
    b->size = 0;
    break;
  case 11: { // a new heap
    int i = mi_fuzz_byte(f) % MI_FUZZ_HEAPS;
    if (f->heaps[i] == NULL)
      f->heaps[i] = mi_heap_new();
    break;
  }
  case 12: { // destroy a heap: its blocks are gone
    int i = mi_fuzz_byte(f) % MI_FUZZ_HEAPS;
    if (f->heaps[i] == NULL)
      break;
    mi_heap_destroy(f->heaps[i]);
    f->heaps[i] = NULL;
    for (size_t s = 0; s < MI_FUZZ_SLOTS; s++) {
      if (f->slots[s].p != NULL && f->slots[s].heap == i)
        f->slots[s].p = NULL, f->slots[s].size = 0;
    }
    break;
  }
  case 13: { // delete a heap: its blocks live on in the default heap
    int i = mi_fuzz_byte(f) % MI_FUZZ_HEAPS;
    if (f->heaps[i] == NULL)
      break;
    mi_heap_delete(f->heaps[i]);
    f->heaps[i] = NULL;
    for (size_t s = 0; s < MI_FUZZ_SLOTS; s++) {
      if (f->slots[s].heap == i)
        f->slots[s].heap = -1;
    }
    break;
  }
  }
  mi_fuzz_check(b);
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t len) {
  static mi_fuzz_t f;
  memset(&f, 0, sizeof(f));
  f.data = data;
  f.len = len;
  while (f.pos < f.len)
    mi_fuzz_step(&f);
  for (size_t s = 0; s < MI_FUZZ_SLOTS; s++) {
    mi_fuzz_check(&f.slots[s]);
    mi_free(f.slots[s].p);
  }
  for (int i = 0; i < MI_FUZZ_HEAPS; i++)
    mi_heap_destroy(f.heaps[i]);
  return 0;
}

#if defined(MI_TEST_FUZZ_STANDALONE)
int main(int argc, char** argv) {
  long inputs = (argc > 1 ? strtol(argv[1], NULL, 10) : 1000);
  static uint8_t buffer[4096];
  uint64_t state = 20261201;
  for (long i = 0; i < inputs; i++) {
    size_t len = 1 + mi_test_random_below(&state, sizeof(buffer));
    for (size_t k = 0; k < len; k++)
      buffer[k] = (uint8_t)mi_test_random_next(&state);
    LLVMFuzzerTestOneInput(buffer, len);
  }
  printf("test-fuzz-api: %ld random inputs, no difference from the model\n", inputs);
  return 0;
}
#endif

/* ----------------------------------------------------------------------------
Misuse test: an overflow through a block's padding into a free neighbour,
whose free-list link it overwrites, then a free of the overflowing block.

Expected: the overflow is reported once on free (exact message) and the block
is left alone; the overwritten link is caught before it is followed, by the
debug walk of the free lists or when the allocator pops it, and reported as
  corrupted free list in page ... (overflow of a neighbouring block?)
The process does not crash and every later allocation is a sound block.
-----------------------------------------------------------------------------*/
#include "test-misuse.h"

#define COUNT 256
#define SIZE 48

static int compare_ptr(const void* a, const void* b) {
  uintptr_t x = *(const uintptr_t*)a, y = *(const uintptr_t*)b;
  return (x < y ? -1 : (x > y ? 1 : 0));
}

int main(void) {
  void* blocks[COUNT];
  for (size_t i = 0; i < COUNT; i++)
    blocks[i] = mi_malloc(SIZE);
  qsort(blocks, COUNT, sizeof(void*), compare_ptr);
  // The block stride is the smallest distance between two blocks.
  size_t stride = SIZE_MAX;
  for (size_t i = 1; i < COUNT; i++) {
    size_t d = (size_t)((uint8_t*)blocks[i] - (uint8_t*)blocks[i - 1]);
    if (d < stride)
      stride = d;
  }
  size_t ia = COUNT;
  for (size_t i = 1; i < COUNT && ia == COUNT; i++) {
    if ((size_t)((uint8_t*)blocks[i] - (uint8_t*)blocks[i - 1]) == stride)
      ia = i - 1;
  }
  CHECK(ia < COUNT);
  if (ia == COUNT)
    return mi_test_summary("test-misuse-neighbour");
  uint8_t* a = (uint8_t*)blocks[ia];
  uint8_t* b = (uint8_t*)blocks[ia + 1];
  blocks[ia] = blocks[ia + 1] = NULL;

  mi_free(b);
  memset(a, 'A', stride + sizeof(void*)); // through a's padding into b's link
  misuse_begin();
  mi_free(a);
  // The padding itself is overwritten, so the requested size is not known any more.
  size_t seen = misuse_countf("buffer overflow in heap block %p of size ", (void*)a);
  CHECKF(seen == 1, "the overflow of %p was reported %zu times", (void*)a, seen);

  // Allocate well past the page's capacity: b's link must be caught, never followed.
  CHECK(misuse_heap_works(SIZE, 4 * COUNT, a));
  CHECK(misuse_heap_works(SIZE, 8 * COUNT, a));
  size_t corrupted = misuse_count("corrupted free list in page ");
  CHECKF(corrupted >= 1 && misuse_count("(overflow of a neighbouring block?)\n") == corrupted,
         "corrupted link reported %zu times", corrupted);
  if (seen != 1 || corrupted == 0)
    misuse_dump("overflow into a free neighbour");
  for (size_t i = 0; i < COUNT; i++)
    mi_free(blocks[i]);
  mi_test_capture_end();
  return mi_test_summary("test-misuse-neighbour");
}

/* Workload 11: large zero-initialised blocks, 5..25 MiB.
 *
 * 20 slots; each step replaces a random slot with a new block of 5..25 MiB
 * that is zero-initialised the way C++ `std::make_unique<char[]>(n)` does it
 * (allocate, then clear every byte), and checks that a few bytes of the old
 * block still hold what was written there before freeing it.  Every page of
 * every block is written, so an allocator that gives memory back to the OS
 * between steps and faults it in again pays for it here; the minor page
 * fault count shows it.
 *
 * usage: large_zeroed [steps]
 */
#include "bench_common.h"

#define SLOT_COUNT 20
#define PAGE 4096

typedef struct slot_s {
  unsigned char* block;
  size_t size;
  uint64_t tag;
} slot_t;

static void slot_check(const slot_t* slot, const char* where) {
  mi_bench_stamp_check(slot->block, slot->size, slot->tag, where);
  size_t middle = (slot->size / 2) / PAGE * PAGE;
  if (slot->block[middle + 1] != 0 || slot->block[middle] != (unsigned char)(slot->tag | 1)) {
    mi_bench_fail("large_zeroed: %s: contents of a block of %zu bytes changed", where, slot->size);
  }
}

int main(int argc, char** argv) {
  long steps = mi_bench_arg_long(argc, argv, 1, 2000);
  mi_bench_rng_t rng;
  mi_bench_rng_init(&rng, 11);
  slot_t slots[SLOT_COUNT] = {{0}};
  uint64_t next_id = 1;
  double start = mi_bench_now();
  for (long step = 0; step < steps; step++) {
    slot_t* slot = &slots[mi_bench_rng_below(&rng, SLOT_COUNT)];
    if (slot->block != NULL) {
      slot_check(slot, "large_zeroed");
      free(slot->block);
    }
    slot->size = mi_bench_rng_range(&rng, 5 * 1024 * 1024, 25 * 1024 * 1024);
    slot->tag = mi_bench_tag_make(next_id++, slot->size);
    slot->block = mi_bench_malloc_checked(slot->size);
    /* value-initialisation of a char array: operator new, then clearing every
     * byte.  The empty asm keeps the compiler from folding malloc + memset
     * into calloc (gcc -O2 does), which would measure calloc instead. */
    __asm__ volatile("" : : "r"(slot->block) : "memory");
    memset(slot->block, 0, slot->size);
    for (size_t offset = 0; offset < slot->size; offset += PAGE) {
      if (slot->block[offset] != 0) mi_bench_fail("large_zeroed: cleared block reads nonzero");
    }
    slot->block[(slot->size / 2) / PAGE * PAGE] = (unsigned char)(slot->tag | 1);
    mi_bench_stamp_write(slot->block, slot->size, slot->tag);
  }
  for (size_t i = 0; i < SLOT_COUNT; i++) {
    if (slots[i].block == NULL) continue;
    slot_check(&slots[i], "large_zeroed final");
    free(slots[i].block);
  }
  printf("workload=large_zeroed steps=%ld seconds=%.3f\n", steps, mi_bench_now() - start);
  return 0;
}

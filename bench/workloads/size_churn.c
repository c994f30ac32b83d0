/* Workload 12: allocation, reallocation and free churn across all sizes.
 *
 * 1024 slots; each step picks a random slot and allocates into it if it is
 * empty, otherwise reallocates it to a new size (half of the time) or frees
 * it.  Sizes: 70% up to 1 KiB, 25% up to 256 KiB, 4.8% up to 8 MiB and 0.2%
 * 16..64 MiB.  The program writes one byte every 512 bytes of each new or
 * grown block (as code filling a buffer would) and checks the bytes it kept
 * across reallocations.  Small, medium, large and huge blocks are all in
 * play, and big blocks come and go, so it measures how an allocator reuses
 * freed large memory (page faults) as much as its fast paths.
 *
 * usage: size_churn [steps_in_thousands]
 */
#include "bench_common.h"

#define SLOT_COUNT 1024
#define STRIDE 512

typedef struct slot_s {
  unsigned char* block;
  size_t size;
  uint64_t tag;
} slot_t;

static size_t size_pick(mi_bench_rng_t* rng) {
  size_t r = mi_bench_rng_below(rng, 1000);
  if (r < 700) return mi_bench_rng_range(rng, 16, 1024);
  if (r < 950) return mi_bench_rng_range(rng, 1025, 256 * 1024);
  if (r < 998) return mi_bench_rng_range(rng, 256 * 1024 + 1, 8 * 1024 * 1024);
  return mi_bench_rng_range(rng, 16 * 1024 * 1024, 64 * 1024 * 1024);
}

/* write the stride bytes from `from` to the end, and the stamps */
static void slot_fill(slot_t* slot, size_t from) {
  for (size_t offset = from; offset < slot->size; offset += STRIDE) {
    slot->block[offset] = (unsigned char)(slot->tag + offset / STRIDE);
  }
  mi_bench_stamp_write(slot->block, slot->size, slot->tag);
}

/* check the stride bytes below `upto` (the head stamp overwrote byte 0) */
static void slot_check(const slot_t* slot, size_t upto, const char* where) {
  for (size_t offset = STRIDE; offset + sizeof(uint64_t) < upto; offset += STRIDE * 64) {
    if (slot->block[offset] != (unsigned char)(slot->tag + offset / STRIDE)) {
      mi_bench_fail("size_churn: %s: byte %zu of a block of %zu bytes changed", where, offset, slot->size);
    }
  }
}

int main(int argc, char** argv) {
  long thousands = mi_bench_arg_long(argc, argv, 1, 400);
  mi_bench_rng_t rng;
  mi_bench_rng_init(&rng, 12);
  static slot_t slots[SLOT_COUNT];
  uint64_t next_id = 1;
  uint64_t reallocs = 0;
  double start = mi_bench_now();
  for (long step = 0; step < thousands * 1000; step++) {
    slot_t* slot = &slots[mi_bench_rng_below(&rng, SLOT_COUNT)];
    if (slot->block == NULL) {
      slot->size = size_pick(&rng);
      slot->tag = mi_bench_tag_make(next_id++, slot->size);
      slot->block = mi_bench_malloc_checked(slot->size);
      slot_fill(slot, 0);
    } else if (mi_bench_rng_below(&rng, 2) == 0) {
      mi_bench_stamp_check(slot->block, slot->size, slot->tag, "size_churn realloc");
      size_t old_size = slot->size;
      size_t new_size = size_pick(&rng);
      unsigned char* grown = realloc(slot->block, new_size);
      if (grown == NULL) mi_bench_fail("size_churn: realloc(%zu) returned NULL", new_size);
      slot->block = grown;
      slot->size = new_size;
      size_t kept = (old_size < new_size ? old_size : new_size);
      slot_check(slot, kept - sizeof(uint64_t), "size_churn after realloc");
      slot_fill(slot, (kept - sizeof(uint64_t)) / STRIDE * STRIDE);
      reallocs++;
    } else {
      mi_bench_stamp_check(slot->block, slot->size, slot->tag, "size_churn free");
      slot_check(slot, slot->size, "size_churn free");
      free(slot->block);
      slot->block = NULL;
    }
  }
  for (size_t i = 0; i < SLOT_COUNT; i++) {
    if (slots[i].block == NULL) continue;
    mi_bench_stamp_check(slots[i].block, slots[i].size, slots[i].tag, "size_churn final");
    free(slots[i].block);
  }
  printf("workload=size_churn steps=%ld reallocs=%llu seconds=%.3f\n", thousands * 1000,
         (unsigned long long)reallocs, mi_bench_now() - start);
  return 0;
}

/* Workload 1: single-threaded small-object churn.
 *
 * A table of live blocks (8..1024 bytes, skewed toward small sizes as in
 * typical programs) is continually refreshed: each step frees a random slot
 * and allocates a new block into it.  Every few thousand steps a burst frees
 * and refills a run of consecutive slots, so pages empty and refill.
 * This measures the allocator's fast paths for malloc and local free.
 *
 * usage: small_churn [steps_in_thousands]
 */
#include "bench_common.h"

#define SLOT_COUNT 4096

typedef struct slot_s {
  void* block;
  size_t size;
  uint64_t tag;
} slot_t;

static size_t small_size_pick(mi_bench_rng_t* rng) {
  uint64_t r = mi_bench_rng_below(rng, 100);
  if (r < 50) return mi_bench_rng_range(rng, 8, 64);
  if (r < 80) return mi_bench_rng_range(rng, 65, 256);
  return mi_bench_rng_range(rng, 257, 1024);
}

int main(int argc, char** argv) {
  long thousands = mi_bench_arg_long(argc, argv, 1, 45000);
  size_t steps = (size_t)thousands * 1000;
  mi_bench_rng_t rng;
  mi_bench_rng_init(&rng, 1);
  static slot_t slots[SLOT_COUNT];
  uint64_t next_id = 1;
  uint64_t checksum = 0;
  double start = mi_bench_now();

  for (size_t step = 0; step < steps; step++) {
    size_t index = mi_bench_rng_below(&rng, SLOT_COUNT);
    size_t run = 1;
    if ((step & 4095) == 4095) run = 256; /* burst: a run of neighbouring slots */
    for (size_t k = 0; k < run; k++) {
      slot_t* slot = &slots[(index + k) % SLOT_COUNT];
      if (slot->block != NULL) {
        mi_bench_stamp_check(slot->block, slot->size, slot->tag, "small_churn");
        checksum += slot->tag & 0xff;
        free(slot->block);
      }
      slot->size = small_size_pick(&rng);
      slot->tag = mi_bench_tag_make(next_id++, slot->size);
      slot->block = mi_bench_malloc_checked(slot->size);
      mi_bench_stamp_write(slot->block, slot->size, slot->tag);
    }
  }
  for (size_t i = 0; i < SLOT_COUNT; i++) {
    if (slots[i].block != NULL) {
      mi_bench_stamp_check(slots[i].block, slots[i].size, slots[i].tag, "small_churn final");
      free(slots[i].block);
    }
  }
  printf("workload=small_churn steps=%zu allocations=%llu checksum=%llu seconds=%.3f\n", steps,
         (unsigned long long)(next_id - 1), (unsigned long long)checksum, mi_bench_now() - start);
  return 0;
}

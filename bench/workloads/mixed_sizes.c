/* Workload 2: mixed sizes up to 1 MiB, single-threaded.
 *
 * Sizes are drawn log-uniformly from 8 bytes to 1 MiB, so every size class
 * family is used: small pages, medium pages, large pages and (for most
 * allocators) directly mapped blocks.  A live set of 2000 blocks is refreshed
 * in random order.  Blocks are stamped at both ends and, for sizes above
 * 4 KiB, one byte is written in every page so fresh memory is really touched.
 *
 * usage: mixed_sizes [steps_in_thousands]
 */
#include "bench_common.h"

#define SLOT_COUNT 2000
#define PAGE_STRIDE 4096

typedef struct slot_s {
  void* block;
  size_t size;
  uint64_t tag;
} slot_t;

static void pages_touch(void* block, size_t size) {
  volatile char* bytes = (volatile char*)block;
  for (size_t offset = 64; offset + 64 < size; offset += PAGE_STRIDE) bytes[offset] = (char)offset;
}

int main(int argc, char** argv) {
  long thousands = mi_bench_arg_long(argc, argv, 1, 2500);
  size_t steps = (size_t)thousands * 1000;
  mi_bench_rng_t rng;
  mi_bench_rng_init(&rng, 2);
  static slot_t slots[SLOT_COUNT];
  uint64_t next_id = 1;
  uint64_t bytes_total = 0;
  double start = mi_bench_now();

  for (size_t step = 0; step < steps; step++) {
    slot_t* slot = &slots[mi_bench_rng_below(&rng, SLOT_COUNT)];
    if (slot->block != NULL) {
      mi_bench_stamp_check(slot->block, slot->size, slot->tag, "mixed_sizes");
      free(slot->block);
    }
    /* two thirds of the blocks are small (<= 1 KiB), the rest log-uniform up to 1 MiB */
    if (mi_bench_rng_below(&rng, 3) != 0) {
      slot->size = mi_bench_rng_log_range(&rng, 8, 1024);
    } else {
      slot->size = mi_bench_rng_log_range(&rng, 1025, 1024 * 1024);
    }
    slot->tag = mi_bench_tag_make(next_id++, slot->size);
    slot->block = mi_bench_malloc_checked(slot->size);
    if (slot->size > PAGE_STRIDE) pages_touch(slot->block, slot->size);
    mi_bench_stamp_write(slot->block, slot->size, slot->tag);
    bytes_total += slot->size;
  }
  for (size_t i = 0; i < SLOT_COUNT; i++) {
    if (slots[i].block != NULL) {
      mi_bench_stamp_check(slots[i].block, slots[i].size, slots[i].tag, "mixed_sizes final");
      free(slots[i].block);
    }
  }
  printf("workload=mixed_sizes steps=%zu allocated_mib=%.1f seconds=%.3f\n", steps,
         (double)bytes_total / (1024.0 * 1024.0), mi_bench_now() - start);
  return 0;
}

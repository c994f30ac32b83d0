/* Workload 8: large blocks, 64 KiB to 32 MiB.
 *
 * A small live set (8 blocks) of large allocations, sizes log-uniform from
 * 64 KiB to 32 MiB, replaced in random order.  The program writes one byte
 * in every 4 KiB page of each new block, as a program using its buffers
 * would, so an allocator that returns memory to the OS and maps it again
 * pays the page faults, while one that reuses memory does not.  It measures
 * the large/huge allocation path, OS interaction, and memory retention
 * (peak RSS).
 *
 * usage: large_blocks [steps]
 */
#include "bench_common.h"

#define SLOT_COUNT 8
#define PAGE 4096

typedef struct slot_s {
  unsigned char* block;
  size_t size;
  uint64_t tag;
} slot_t;

int main(int argc, char** argv) {
  long steps = mi_bench_arg_long(argc, argv, 1, 1500);
  mi_bench_rng_t rng;
  mi_bench_rng_init(&rng, 8);
  slot_t slots[SLOT_COUNT] = {{0}};
  uint64_t next_id = 1;
  uint64_t touched_pages = 0;
  double start = mi_bench_now();
  for (long step = 0; step < steps; step++) {
    slot_t* slot = &slots[mi_bench_rng_below(&rng, SLOT_COUNT)];
    if (slot->block != NULL) {
      mi_bench_stamp_check(slot->block, slot->size, slot->tag, "large_blocks");
      /* spot-check a page in the middle as well */
      size_t middle = (slot->size / 2) / PAGE * PAGE;
      if (middle > 0 && slot->block[middle] != (unsigned char)(slot->tag + middle / PAGE)) {
        mi_bench_fail("large_blocks: page byte lost in block of %zu bytes", slot->size);
      }
      free(slot->block);
    }
    slot->size = mi_bench_rng_log_range(&rng, 64 * 1024, 32 * 1024 * 1024);
    slot->tag = mi_bench_tag_make(next_id++, slot->size);
    slot->block = mi_bench_malloc_checked(slot->size);
    for (size_t offset = PAGE; offset + PAGE <= slot->size; offset += PAGE) {
      slot->block[offset] = (unsigned char)(slot->tag + offset / PAGE);
      touched_pages++;
    }
    mi_bench_stamp_write(slot->block, slot->size, slot->tag);
  }
  for (size_t i = 0; i < SLOT_COUNT; i++) {
    if (slots[i].block == NULL) continue;
    mi_bench_stamp_check(slots[i].block, slots[i].size, slots[i].tag, "large_blocks final");
    free(slots[i].block);
  }
  printf("workload=large_blocks steps=%ld touched_pages=%llu seconds=%.3f\n", steps,
         (unsigned long long)touched_pages, mi_bench_now() - start);
  return 0;
}

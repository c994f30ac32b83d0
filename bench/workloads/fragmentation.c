/* Workload 9: fragmentation, peak and final RSS.
 *
 * A series of cycles; each cycle allocates a batch of objects from one size
 * range (the ranges change from cycle to cycle: small, medium, tiny, ...),
 * then frees about 90% of the batch in a scattered pattern, so the survivors
 * are spread thinly over the memory the batch used.  Survivors of all cycles
 * stay live to the end.  An allocator that cannot reuse the partly used
 * memory for the next cycle's different sizes grows; one that returns empty
 * memory to the OS shrinks.  The program prints its live bytes, the RSS after
 * the last cycle (survivors still live), the RSS after freeing everything,
 * and its peak RSS.  RSS is read from /proc/self/statm and VmHWM.
 *
 * usage: fragmentation [mib_per_cycle]
 */
#include "bench_common.h"

#define CYCLES 12
#define KEEP_PERCENT 10

typedef struct size_range_s {
  size_t low;
  size_t high;
} size_range_t;

static const size_range_t cycle_ranges[] = {
  {16, 256}, {512, 2048}, {24, 96}, {2048, 16384}, {256, 768}, {16, 48},
  {4096, 65536}, {96, 400}, {1024, 4096}, {32, 128}, {400, 1200}, {8, 32},
};

typedef struct object_s {
  void* block;
  size_t size;
  uint64_t tag;
} object_t;

int main(int argc, char** argv) {
  long mib_per_cycle = mi_bench_arg_long(argc, argv, 1, 48);
  size_t budget = (size_t)mib_per_cycle * 1024 * 1024;
  mi_bench_rng_t rng;
  mi_bench_rng_init(&rng, 9);
  object_t* survivors = NULL;
  size_t survivor_count = 0, survivor_capacity = 0;
  size_t live_bytes = 0;
  uint64_t next_id = 1;
  double start = mi_bench_now();
  long rss_after_cycle[CYCLES];

  for (size_t cycle = 0; cycle < CYCLES; cycle++) {
    size_range_t range = cycle_ranges[cycle % (sizeof(cycle_ranges) / sizeof(cycle_ranges[0]))];
    size_t max_objects = budget / range.low + 1;
    object_t* batch = mi_bench_malloc_checked(max_objects * sizeof(object_t));
    size_t count = 0, batch_bytes = 0;
    while (batch_bytes < budget && count < max_objects) {
      object_t* object = &batch[count++];
      object->size = mi_bench_rng_range(&rng, range.low, range.high);
      object->tag = mi_bench_tag_make(next_id++, object->size);
      object->block = mi_bench_malloc_checked(object->size);
      mi_bench_stamp_write(object->block, object->size, object->tag);
      batch_bytes += object->size;
    }
    for (size_t i = 0; i < count; i++) {
      object_t* object = &batch[i];
      if (mi_bench_rng_below(&rng, 100) < KEEP_PERCENT) {
        if (survivor_count == survivor_capacity) {
          survivor_capacity = survivor_capacity ? survivor_capacity * 2 : 4096;
          survivors = realloc(survivors, survivor_capacity * sizeof(object_t));
          if (survivors == NULL) mi_bench_fail("realloc of survivor table");
        }
        survivors[survivor_count++] = *object;
        live_bytes += object->size;
      } else {
        mi_bench_stamp_check(object->block, object->size, object->tag, "fragmentation");
        free(object->block);
      }
    }
    free(batch);
    rss_after_cycle[cycle] = mi_bench_rss_current_kb();
  }
  long rss_final = mi_bench_rss_current_kb();
  for (size_t i = 0; i < survivor_count; i++) {
    mi_bench_stamp_check(survivors[i].block, survivors[i].size, survivors[i].tag, "fragmentation final");
    free(survivors[i].block);
  }
  free(survivors);
  long rss_empty = mi_bench_rss_current_kb();
  long rss_peak = mi_bench_rss_peak_kb();
  printf("rss_kb_after_each_cycle=");
  for (size_t cycle = 0; cycle < CYCLES; cycle++) printf("%s%ld", cycle ? "," : "", rss_after_cycle[cycle]);
  printf("\n");
  printf("workload=fragmentation live_kb=%zu rss_final_kb=%ld rss_empty_kb=%ld rss_peak_kb=%ld blowup=%.2f seconds=%.3f\n",
         live_bytes / 1024, rss_final, rss_empty, rss_peak, (double)rss_final / (double)(live_bytes / 1024 + 1),
         mi_bench_now() - start);
  return 0;
}

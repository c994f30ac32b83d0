/* ----------------------------------------------------------------------------
mi_option_target_segments_per_thread limits reclaim-on-free.

With abandoned_reclaim_on_free on, the main thread (which owns a segment)
frees a block that an exited worker left in an abandoned segment:
- target 1: the main thread already owns 1 segment, so it must not take the
  abandoned segment over (the test counters show no reclaim on free);
- target 0 (no target): it takes it over (one reclaim on free).
Each block is checked before it is freed. No timing involved.
-----------------------------------------------------------------------------*/
#include <pthread.h>
#include <mimalloc/testing.h>
#include "test-common.h"

static uint64_t* worker_block;

static void* worker(void* arg) {
  (void)arg;
  worker_block = (uint64_t*)mi_malloc(64);
  CHECK(worker_block != NULL);
  if (worker_block != NULL) worker_block[0] = 0x5eed;
  return NULL; // exits holding the block: its segment is abandoned
}

static long long reclaims_on_free_after_worker_block_freed(void) {
  pthread_t thread;
  CHECK(pthread_create(&thread, NULL, worker, NULL) == 0);
  pthread_join(thread, NULL);
  mi_test_counters_t before, after;
  mi_test_counters_get(&before);
  if (worker_block != NULL) {
    CHECK(worker_block[0] == 0x5eed);
    mi_free(worker_block);
  }
  mi_test_counters_get(&after);
  return after.reclaims_on_free - before.reclaims_on_free;
}

int main(void) {
  mi_option_enable(mi_option_abandoned_reclaim_on_free);
  void* own = mi_malloc(64); // the main thread owns a segment
  CHECK(own != NULL);
  mi_option_set(mi_option_target_segments_per_thread, 1);
  long long with_target = reclaims_on_free_after_worker_block_freed();
  CHECKF(with_target == 0, "target 1 reached, yet %lld reclaim(s) on free", with_target);
  mi_option_set(mi_option_target_segments_per_thread, 0);
  long long without_target = reclaims_on_free_after_worker_block_freed();
  CHECKF(without_target == 1, "no target, yet %lld reclaim(s) on free", without_target);
  mi_free(own);
  return mi_test_summary("test-mt-reclaim-target");
}

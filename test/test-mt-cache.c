/* ----------------------------------------------------------------------------
mt-cache: the process-wide segment cache under threads that allocate and
free large and huge blocks while another thread purges it.

Three workers keep a few blocks each of 5-15 MiB (large pages in shared
segments), 17-31 MiB (huge, one segment size) and 32-48 MiB (huge, two
segment sizes), replace them in random order, and now and then swap one
through a shared slot, so that some frees are remote. A fourth thread
forces a collect of the whole cache every few milliseconds, and the purge
delay is 1 ms, so segments are pushed, joined, split, purged and popped at
once, and resident cached memory is moved under new segments (mremap)
while other threads push and collect. Every block carries the common pattern
(first and last 4 KiB, a word every 64 KiB) and is verified before its free:
memory moved from under a live block, or a cached range handed out twice,
shows up as a corruption. The test requires that memory was moved.
-----------------------------------------------------------------------------*/
#include "test-mt-common.h"

#define MI_CACHE_WORKERS 3
#define MI_CACHE_SLOTS 4
#define MI_CACHE_SHARED 4

static _Atomic(void*) mi_cache_shared[MI_CACHE_SHARED];
static atomic_int mi_cache_workers_left;

static size_t mi_cache_block_size(mi_mt_random_t* random) {
  const unsigned kind = (unsigned)mi_mt_random_range(random, 0, 9);
  if (kind < 4)
    return mi_mt_random_range(random, 5 * MI_MT_MIB, 15 * MI_MT_MIB);
  if (kind < 8)
    return mi_mt_random_range(random, 17 * MI_MT_MIB, 31 * MI_MT_MIB);
  return mi_mt_random_range(random, 32 * MI_MT_MIB, 48 * MI_MT_MIB);
}

static void mi_cache_block_free(void* block) {
  if (block == NULL)
    return;
  mi_mt_block_verify(block);
  mi_free(block);
  mi_mt_count_add(&mi_mt_counts.frees, 1);
}

static void* mi_cache_worker_run(void* arg) {
  const long steps = *(const long*)arg;
  mi_mt_random_t random;
  mi_mt_random_init_thread(&random, 0xcace);
  void* slots[MI_CACHE_SLOTS] = {NULL};
  for (long step = 0; step < steps && !mi_mt_deadline_passed(); step++) {
    const size_t slot = mi_mt_random_range(&random, 0, MI_CACHE_SLOTS - 1);
    mi_cache_block_free(slots[slot]);
    slots[slot] = mi_mt_block_alloc(mi_cache_block_size(&random));
    if (slots[slot] != NULL && mi_mt_random_chance(&random, 20)) {
      const size_t shared = mi_mt_random_range(&random, 0, MI_CACHE_SHARED - 1);
      slots[slot] = atomic_exchange(&mi_cache_shared[shared], slots[slot]);
    }
    mi_mt_count_add(&mi_mt_counts.rounds, 1);
  }
  for (size_t slot = 0; slot < MI_CACHE_SLOTS; slot++)
    mi_cache_block_free(slots[slot]);
  atomic_fetch_sub(&mi_cache_workers_left, 1);
  return NULL;
}

static void* mi_cache_collector_run(void* arg) {
  (void)arg;
  while (atomic_load(&mi_cache_workers_left) > 0) {
    mi_collect(true);
    mi_mt_sleep_us(3000);
  }
  return NULL;
}

int main(void) {
  mi_mt_init("mt-cache", 25.0);
  mi_option_set(mi_option_purge_delay, 1);
  mi_option_disable(mi_option_allow_thp);
  long steps = mi_mt_scaled(600, 20);
  atomic_store(&mi_cache_workers_left, MI_CACHE_WORKERS);
  pthread_t workers[MI_CACHE_WORKERS];
  pthread_t collector;
  for (size_t i = 0; i < MI_CACHE_WORKERS; i++)
    mi_mt_expect(pthread_create(&workers[i], NULL, &mi_cache_worker_run, &steps) == 0, "pthread_create");
  mi_mt_expect(pthread_create(&collector, NULL, &mi_cache_collector_run, NULL) == 0, "pthread_create");
  for (size_t i = 0; i < MI_CACHE_WORKERS; i++)
    pthread_join(workers[i], NULL);
  pthread_join(collector, NULL);
  for (size_t i = 0; i < MI_CACHE_SHARED; i++)
    mi_cache_block_free(atomic_exchange(&mi_cache_shared[i], NULL));
  mi_mt_reclaim_everything();
  mi_test_counters_t counters = mi_mt_counters();
  mi_mt_report("cache_moves", counters.cache_moves);
  mi_mt_require_path("cache_moves", counters.cache_moves);
  return mi_mt_finish();
}

/* ----------------------------------------------------------------------------
mt-subproc: sub-processes never exchange segments, also with
abandoned_reclaim_on_free.

Each round:
  1. a thread of sub-process A allocates patterned blocks and exits (its
     segments go to A's abandoned set);
  2. a thread of sub-process B frees half of them: it must never take one of
     A's segments (reclaims on free stay 0), and A's set must keep them;
  3. mi_subproc_delete(A) must refuse (A still has abandoned segments);
  4. a thread of A frees the other half: a free inside the same sub-process
     does reclaim (the path is alive, not just switched off);
  5. a thread of A reclaims what is left, then A and B can be deleted.
With the sub-process check missing, B takes A's segments in step 2, A's set
looks empty, A is deleted, and B's exit later abandons into freed memory.
-----------------------------------------------------------------------------*/
#include "test-mt-common.h"

#define MI_SUBPROC_BLOCKS 600

static void* mi_subproc_blocks[MI_SUBPROC_BLOCKS];

typedef struct mi_subproc_job_s {
  mi_subproc_id_t subproc;
  size_t first, last; // range of mi_subproc_blocks to free
  uint64_t seed;
} mi_subproc_job_t;

static void* mi_subproc_alloc_run(void* arg) {
  mi_subproc_job_t* job = (mi_subproc_job_t*)arg;
  mi_subproc_add_current_thread(job->subproc);
  mi_mt_random_t random;
  mi_mt_random_init_thread(&random, job->seed);
  for (size_t i = 0; i < MI_SUBPROC_BLOCKS; i++) {
    mi_subproc_blocks[i] = mi_mt_block_alloc(i % 7 == 0 ? mi_mt_size_medium(&random) : mi_mt_size_small(&random));
  }
  return NULL;
}

static void* mi_subproc_free_run(void* arg) {
  mi_subproc_job_t* job = (mi_subproc_job_t*)arg;
  // Joining the sub-process sets up the heap without allocating (an allocation
  // could reclaim the abandoned segments before the frees reach them).
  mi_subproc_add_current_thread(job->subproc);
  for (size_t i = job->first; i < job->last; i++) {
    mi_mt_block_free(mi_subproc_blocks[i]);
    mi_subproc_blocks[i] = NULL;
  }
  return NULL;
}

static void* mi_subproc_reclaim_run(void* arg) {
  mi_subproc_job_t* job = (mi_subproc_job_t*)arg;
  mi_subproc_add_current_thread(job->subproc);
  mi_mt_thread_heap_init();
  mi_test_reclaim_all();
  return NULL;
}

static void mi_subproc_run_thread(void* (*run)(void*), mi_subproc_job_t* job) {
  pthread_t thread;
  mi_mt_thread_start(&thread, run, job);
  mi_mt_thread_join(thread);
}

static bool mi_subproc_count_area(const mi_heap_t* heap, const mi_heap_area_t* area, void* block,
                                  size_t block_size, void* arg) {
  (void)heap;
  (void)block;
  (void)block_size;
  if (block == NULL) *(long long*)arg += (long long)area->used;
  return true;
}

static long long mi_subproc_abandoned_blocks(mi_subproc_id_t subproc) {
  long long used = 0;
  mi_abandoned_visit_blocks(subproc, -1, false, &mi_subproc_count_area, &used);
  return used;
}

static void mi_subproc_round(uint64_t round) {
  mi_subproc_id_t a = mi_subproc_new();
  mi_subproc_id_t b = mi_subproc_new();
  if (a == NULL || b == NULL) {
    mi_mt_fail("mi_subproc_new failed");
    return;
  }
  mi_subproc_job_t job_a = {a, 0, 0, round};
  mi_subproc_run_thread(&mi_subproc_alloc_run, &job_a);
  const long long abandoned_a = mi_subproc_abandoned_blocks(a);
  mi_mt_expect(abandoned_a >= MI_SUBPROC_BLOCKS, "round %llu: A's set holds %lld blocks, expected >= %d",
               (unsigned long long)round, abandoned_a, MI_SUBPROC_BLOCKS);

  // 2. B frees half of A's blocks
  const long long reclaims_before = mi_mt_counters().reclaims_on_free;
  mi_subproc_job_t job_b = {b, 0, MI_SUBPROC_BLOCKS / 2, round};
  mi_subproc_run_thread(&mi_subproc_free_run, &job_b);
  const long long reclaims_by_b = mi_mt_counters().reclaims_on_free - reclaims_before;
  mi_mt_expect(reclaims_by_b == 0, "round %llu: a thread of sub-process B reclaimed %lld of A's segments",
               (unsigned long long)round, reclaims_by_b);
  const long long still_a = mi_subproc_abandoned_blocks(a);
  mi_mt_expect(still_a > 0, "round %llu: A's abandoned set lost its segments", (unsigned long long)round);

  // 3. A cannot go while it has abandoned segments (the call warns and refuses)
  mi_subproc_delete(a);
  mi_mt_expect(mi_subproc_abandoned_blocks(a) == still_a, "round %llu: deleting A changed its abandoned set",
               (unsigned long long)round);

  // 4. a thread of A frees the rest: reclaim on free works inside A
  const long long reclaims_mid = mi_mt_counters().reclaims_on_free;
  mi_subproc_job_t job_a2 = {a, MI_SUBPROC_BLOCKS / 2, MI_SUBPROC_BLOCKS, round};
  mi_subproc_run_thread(&mi_subproc_free_run, &job_a2);
  const long long reclaims_by_a = mi_mt_counters().reclaims_on_free - reclaims_mid;
  mi_mt_expect(reclaims_by_a > 0, "round %llu: a thread of A never reclaimed one of A's segments on free",
               (unsigned long long)round);

  // 5. clean up both sub-processes, then delete them
  mi_subproc_job_t job_a3 = {a, 0, 0, round};
  mi_subproc_run_thread(&mi_subproc_reclaim_run, &job_a3);
  mi_subproc_job_t job_b2 = {b, 0, 0, round};
  mi_subproc_run_thread(&mi_subproc_reclaim_run, &job_b2);
  mi_mt_expect(mi_subproc_abandoned_blocks(a) == 0, "round %llu: A still has abandoned blocks",
               (unsigned long long)round);
  mi_subproc_delete(a);
  mi_subproc_delete(b);
  mi_mt_count_add(&mi_mt_counts.rounds, 1);
}

int main(void) {
  mi_option_enable(mi_option_visit_abandoned);
  mi_option_set(mi_option_abandoned_reclaim_on_free, 1);
  mi_mt_init("mt-subproc", 15.0);
  const long rounds = mi_mt_scaled(20, 3);
  for (long round = 0; round < rounds && !mi_mt_deadline_passed(); round++) mi_subproc_round((uint64_t)round);
  mi_mt_reclaim_everything();
  mi_mt_require_path("rounds", mi_mt_count_get(&mi_mt_counts.rounds));
  return mi_mt_finish();
}

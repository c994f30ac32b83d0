/* ----------------------------------------------------------------------------
mt-claim-storm: many claimants meet one abandoned segment at the same
instant.

Each round a thread allocates one block per claimant (all in one segment)
and exits, so the segment is abandoned. Then, released together by a
barrier, every claimant frees its block (each free into an abandoned
segment tries to reclaim it, abandoned_reclaim_on_free is on) while one
more thread searches the abandoned set (mi_test_reclaim_all). The claim
window is held open (100 us between observing the owner and taking it,
unless MI_TEST_CLAIM_PAUSE_US says otherwise), so every claimant observes
the segment abandoned: only the compare-and-swap keeps the second one out.
Verdict per round: exactly one claim wins, nobody else ever held the
segment at the same time (claim overlaps), and every block was freed once.
-----------------------------------------------------------------------------*/
#include "test-mt-common.h"

#define MI_STORM_CLAIMANTS 6

static pthread_barrier_t mi_storm_start;
static pthread_barrier_t mi_storm_end;
static void* mi_storm_blocks[MI_STORM_CLAIMANTS];
static atomic_int mi_storm_stop;

static void* mi_storm_owner_run(void* arg) {
  (void)arg;
  for (size_t i = 0; i < MI_STORM_CLAIMANTS; i++) mi_storm_blocks[i] = mi_mt_block_alloc(96 + 16 * i);
  return NULL;
}

static void* mi_storm_claimant_run(void* arg) {
  size_t index = (size_t)(uintptr_t)arg;
  mi_mt_thread_heap_init();
  // The first allocation may reclaim abandoned segments: finish it before round 0.
  pthread_barrier_wait(&mi_storm_end);
  for (;;) {
    pthread_barrier_wait(&mi_storm_start);
    if (atomic_load_explicit(&mi_storm_stop, memory_order_acquire)) break;
    if (index < MI_STORM_CLAIMANTS) mi_mt_block_free(mi_storm_blocks[index]);
    else mi_test_reclaim_all();
    // Give back what this thread took over, so the next round starts clean.
    mi_collect(true);
    pthread_barrier_wait(&mi_storm_end);
  }
  return NULL;
}

int main(void) {
  mi_option_set(mi_option_abandoned_reclaim_on_free, 1);
  mi_mt_init("mt-claim-storm", 15.0);
  if (mi_mt_settings.claim_pause_us == 0) mi_test_set_claim_pause(100);
  const unsigned threads = MI_STORM_CLAIMANTS + 1;
  pthread_barrier_init(&mi_storm_start, NULL, threads + 1);
  pthread_barrier_init(&mi_storm_end, NULL, threads + 1);
  pthread_t claimants[MI_STORM_CLAIMANTS + 1];
  for (size_t i = 0; i < threads; i++) mi_mt_thread_start(&claimants[i], &mi_storm_claimant_run, (void*)(uintptr_t)i);

  pthread_barrier_wait(&mi_storm_end);
  const long rounds = mi_mt_scaled(300, 30);
  long long wins_total = 0;
  for (long round = 0; round < rounds && !mi_mt_deadline_passed(); round++) {
    pthread_t owner;
    mi_mt_thread_start(&owner, &mi_storm_owner_run, NULL);
    mi_mt_thread_join(owner);
    const mi_test_counters_t before = mi_mt_counters();
    pthread_barrier_wait(&mi_storm_start);
    pthread_barrier_wait(&mi_storm_end);
    const mi_test_counters_t after = mi_mt_counters();
    const long long wins = after.claims_won - before.claims_won;
    wins_total += wins;
    mi_mt_expect(wins == 1, "round %ld: %lld claims won for one abandoned segment", round, wins);
    mi_mt_expect(after.claim_overlaps == 0, "round %ld: %lld claim overlaps", round, after.claim_overlaps);
    mi_mt_count_add(&mi_mt_counts.rounds, 1);
  }
  atomic_store_explicit(&mi_storm_stop, 1, memory_order_release);
  pthread_barrier_wait(&mi_storm_start);
  for (size_t i = 0; i < threads; i++) mi_mt_thread_join(claimants[i]);
  mi_test_set_claim_pause(mi_mt_settings.claim_pause_us);
  mi_mt_report("storm_claims_won", wins_total);
  mi_mt_require_path("claims won", wins_total);
  mi_mt_reclaim_everything();
  return mi_mt_finish();
}

/* ----------------------------------------------------------------------------
mt-soak: a time-bounded mix of the reclaim, coalesce, huge and churn
scenarios (usage: test-mt-soak [seconds], default 20).

The scenario code is shared with the single tests: their files are included
here with MI_MT_SOAK defined, which leaves out their main().
The first cycle runs every scenario on its own (so every path is reached
exactly as in the single tests); later cycles run reclaim, huge and churn at
the same time, followed by a coalesce round on its own (it changes options,
which is only done while no worker thread runs). Cycles repeat until the
time is up. The verdict: no corruption, no overlap, nothing lost, and every
path the scenarios rely on was taken.
-----------------------------------------------------------------------------*/
#define MI_MT_SOAK 1
#include "test-mt-common.h"
#include "test-mt-reclaim.c"
#include "test-mt-coalesce.c"
#include "test-mt-huge.c"
#include "test-mt-churn.c"

#define MI_SOAK_RECLAIM_ROUNDS  2
#define MI_SOAK_HUGE_ROUNDS     1
#define MI_SOAK_CHURN_WAVES     50

static void* mi_soak_reclaim_drive(void* arg) {
  (void)arg;
  mi_reclaim_config_t config = mi_reclaim_config_default();
  config.blocks_per_producer = 128;
  for (int i = 0; i < MI_SOAK_RECLAIM_ROUNDS; i++) {
    mi_reclaim_round_run(&config);
  }
  return NULL;
}

static void* mi_soak_huge_drive(void* arg) {
  (void)arg;
  for (int i = 0; i < MI_SOAK_HUGE_ROUNDS; i++) {
    mi_huge_round_run();
  }
  return NULL;
}

static void* mi_soak_churn_drive(void* arg) {
  (void)arg;
  const long waves = mi_mt_scaled(MI_SOAK_CHURN_WAVES, 4);
  mi_churn_survivors_start();
  for (long i = 0; i < waves; i++) {
    mi_churn_wave_run();
  }
  mi_churn_survivors_stop();
  return NULL;
}

int main(int argc, char** argv) {
  double seconds = 20.0;
  if (argc > 1) {
    char* end = NULL;
    seconds = strtod(argv[1], &end);
    if (end == argv[1] || !(seconds > 0.0)) {
      fprintf(stderr, "usage: %s [seconds]\n", argv[0]);
      return 2;
    }
  }
  mi_mt_init("mt-soak", seconds);
  mi_reclaim_options_set();
  printf("mi-test: soak_seconds: %.0f\n", seconds);

  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  long long cycles = 0;
  do {
    if (cycles == 0) {
      // every scenario on its own first
      mi_soak_reclaim_drive(NULL);
      mi_soak_huge_drive(NULL);
      mi_soak_churn_drive(NULL);
    }
    else {
      pthread_t drivers[3];
      mi_mt_thread_start(&drivers[0], &mi_soak_reclaim_drive, NULL);
      mi_mt_thread_start(&drivers[1], &mi_soak_huge_drive, NULL);
      mi_mt_thread_start(&drivers[2], &mi_soak_churn_drive, NULL);
      for (int i = 0; i < 3; i++) {
        mi_mt_thread_join(drivers[i]);
      }
    }
    mi_coalesce_round_run();   // alone: it changes options
    cycles++;
  } while (mi_mt_seconds_since(&start) < seconds);

  mi_mt_reclaim_everything();
  printf("mi-test: cycles: %lld\n", cycles);
  printf("mi-test: short_lived_threads: %llu\n",
         (unsigned long long)atomic_load_explicit(&mi_churn_state.threads_run, memory_order_relaxed));
  // every path the scenarios rely on (their own checks, without repeats)
  mi_test_counters_t c = mi_mt_counters();
  mi_mt_require_path("abandon (thread exit with live blocks)", c.abandons);
  mi_mt_require_path("claim of an abandoned segment", c.claims_won);
  mi_mt_require_path("reclaim on free", c.reclaims_on_free);
  mi_mt_require_path("reclaim on allocation", c.reclaims_on_alloc);
  mi_mt_require_path("coalesce with previous span", c.coalesce_prev);
  mi_mt_require_path("coalesce with next span", c.coalesce_next);
  mi_mt_require_path("coalesce with previous span in a segment taken from the abandoned set", c.coalesce_prev_abandoned);
  mi_mt_require_path("coalesce with next span in a segment taken from the abandoned set", c.coalesce_next_abandoned);
  mi_mt_require_path("huge block freed after its thread exited", c.huge_free_after_exit);
  mi_mt_require_path("cross-thread free", mi_mt_count_get(&mi_mt_counts.cross_thread_frees));
  return mi_mt_finish();
}

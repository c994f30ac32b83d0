/* ----------------------------------------------------------------------------
mt-churn: thousands of short-lived threads allocate, hand some blocks to
long-lived survivor threads, free the rest and exit; the survivors verify and
free what they receive.

Short-lived threads run in waves (MI_CHURN_WAVE at a time). Each hands about
a third of its blocks to a survivor (some at once, some right before it
exits, so they are often still live when it exits) and frees the rest. The
first thread of every wave also leaves two blocks on a `held` stack that the
main thread passes to the survivors only after the wave was joined: those
blocks were certainly live when their thread exited, so its segment was
abandoned. Hand-over uses lock-free stacks linked through the blocks.
-----------------------------------------------------------------------------*/
#include "test-mt-common.h"

#define MI_CHURN_WAVE        8
#define MI_CHURN_SURVIVORS   2
#define MI_CHURN_BLOCKS      24
#define MI_CHURN_HELD        2
#define MI_CHURN_RING        8
#define MI_CHURN_MAX_LARGE   (512 * MI_MT_KIB)

typedef struct mi_churn_state_s {
  mi_mt_stack_t inbox[MI_CHURN_SURVIVORS];
  mi_mt_stack_t held;
  pthread_t survivors[MI_CHURN_SURVIVORS];
  atomic_int stop;
  atomic_ullong threads_run;   // short-lived threads that ran to completion
  uint64_t wave;
} mi_churn_state_t;

static mi_churn_state_t mi_churn_state;

static void* mi_churn_short_run(void* arg) {
  const size_t index = (size_t)(uintptr_t)arg;
  mi_mt_random_t random;
  mi_mt_random_init_thread(&random, mi_churn_state.wave);
  void* blocks[MI_CHURN_BLOCKS];
  bool hand_at_exit[MI_CHURN_BLOCKS];
  for (size_t i = 0; i < MI_CHURN_BLOCKS; i++) {
    hand_at_exit[i] = false;
    blocks[i] = mi_mt_block_alloc(mi_mt_size_mixed(&random, 15, 2, MI_CHURN_MAX_LARGE));
    if (blocks[i] == NULL) continue;
    const unsigned pick = (unsigned)(mi_mt_random_next(&random) % 6);
    if (pick == 0) {
      // hand over at once, while we are alive
      mi_mt_stack_push(&mi_churn_state.inbox[mi_mt_random_range(&random, 0, MI_CHURN_SURVIVORS - 1)], blocks[i]);
      blocks[i] = NULL;
    }
    else if (pick == 1) {
      hand_at_exit[i] = true;
    }
  }
  size_t held = 0;
  for (size_t i = 0; i < MI_CHURN_BLOCKS; i++) {
    if (blocks[i] == NULL || hand_at_exit[i]) continue;
    if (index == 0 && held < MI_CHURN_HELD) {
      mi_mt_stack_push(&mi_churn_state.held, blocks[i]);
      held++;
    }
    else {
      mi_mt_block_free(blocks[i]);
    }
  }
  for (size_t i = 0; i < MI_CHURN_BLOCKS; i++) {
    if (blocks[i] != NULL && hand_at_exit[i]) {
      mi_mt_stack_push(&mi_churn_state.inbox[mi_mt_random_range(&random, 0, MI_CHURN_SURVIVORS - 1)], blocks[i]);
    }
  }
  atomic_fetch_add_explicit(&mi_churn_state.threads_run, 1, memory_order_relaxed);
  return NULL;
}

static void* mi_churn_survivor_run(void* arg) {
  const size_t index = (size_t)(uintptr_t)arg;
  mi_mt_random_t random;
  mi_mt_random_init_thread(&random, index);
  mi_mt_thread_heap_init();
  void* ring[MI_CHURN_RING] = { NULL };
  size_t ring_position = 0;
  for (;;) {
    const int stop = atomic_load_explicit(&mi_churn_state.stop, memory_order_acquire);
    const size_t freed = mi_mt_stack_free_all(&mi_churn_state.inbox[index]);
    mi_mt_block_free(ring[ring_position]);
    ring[ring_position] = mi_mt_block_alloc(mi_mt_size_mixed(&random, 10, 0, MI_CHURN_MAX_LARGE));
    ring_position = (ring_position + 1) % MI_CHURN_RING;
    if (stop != 0 && freed == 0) break;   // nothing is pushed after `stop`
    if (freed == 0) mi_mt_sleep_us(200);
  }
  for (size_t i = 0; i < MI_CHURN_RING; i++) {
    mi_mt_block_free(ring[i]);
  }
  return NULL;
}

static void mi_churn_survivors_start(void) {
  atomic_store_explicit(&mi_churn_state.stop, 0, memory_order_release);
  for (size_t i = 0; i < MI_CHURN_SURVIVORS; i++) {
    mi_mt_thread_start(&mi_churn_state.survivors[i], &mi_churn_survivor_run, (void*)(uintptr_t)i);
  }
}

static void mi_churn_survivors_stop(void) {
  atomic_store_explicit(&mi_churn_state.stop, 1, memory_order_release);
  for (size_t i = 0; i < MI_CHURN_SURVIVORS; i++) {
    mi_mt_thread_join(mi_churn_state.survivors[i]);
  }
}

// Runs one wave of short-lived threads (survivors must be running).
static void mi_churn_wave_run(void) {
  mi_churn_state.wave++;
  pthread_t threads[MI_CHURN_WAVE];
  for (size_t i = 0; i < MI_CHURN_WAVE; i++) {
    mi_mt_thread_start(&threads[i], &mi_churn_short_run, (void*)(uintptr_t)i);
  }
  for (size_t i = 0; i < MI_CHURN_WAVE; i++) {
    mi_mt_thread_join(threads[i]);
  }
  // the held blocks outlived their (now joined) thread: pass them on
  uint64_t* block = mi_mt_stack_take_all(&mi_churn_state.held);
  size_t next_survivor = 0;
  while (block != NULL) {
    uint64_t* next = mi_mt_stack_next(block);
    mi_mt_stack_push(&mi_churn_state.inbox[next_survivor], block);
    next_survivor = (next_survivor + 1) % MI_CHURN_SURVIVORS;
    block = next;
  }
  mi_mt_abandoned_sample();
  mi_mt_count_add(&mi_mt_counts.rounds, 1);
}

#ifndef MI_MT_SOAK
static void mi_churn_paths_require(void) {
  mi_test_counters_t c = mi_mt_counters();
  mi_mt_require_path("abandon (thread exit with live blocks)", c.abandons);
  mi_mt_require_path("cross-thread free", mi_mt_count_get(&mi_mt_counts.cross_thread_frees));
}

int main(void) {
  mi_mt_init("mt-churn", 25.0);
  mi_option_enable(mi_option_abandoned_reclaim_on_free);
  mi_option_set(mi_option_max_segment_reclaim, 100);
  const long threads = mi_mt_scaled(10000, 2 * MI_CHURN_WAVE);
  const long waves = (threads + MI_CHURN_WAVE - 1) / MI_CHURN_WAVE;
  const long minimum_waves = 2;
  mi_churn_survivors_start();
  for (long wave = 0; wave < waves; wave++) {
    if (wave >= minimum_waves && mi_mt_deadline_passed()) {
      printf("mi-test: note: time budget reached after %ld of %ld waves\n", wave, waves);
      break;
    }
    mi_churn_wave_run();
  }
  mi_churn_survivors_stop();
  mi_mt_reclaim_everything();
  printf("mi-test: short_lived_threads: %llu\n",
         (unsigned long long)atomic_load_explicit(&mi_churn_state.threads_run, memory_order_relaxed));
  mi_churn_paths_require();
  return mi_mt_finish();
}
#endif

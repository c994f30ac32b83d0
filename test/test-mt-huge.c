/* ----------------------------------------------------------------------------
mt-huge: huge blocks (32 MiB and more, each in a segment of its own) freed by
another thread, after the allocating thread has exited and while it lives.

Each round runs three hand-offs of 32, 40 and 64 MiB blocks (plus two small
blocks, so the thread's normal segment is abandoned as well):
  after-exit  the allocating thread publishes its blocks and exits; it is
              joined before the receivers start (frees into abandoned huge
              segments);
  alive       the allocating thread waits until the receivers have freed
              every block it published, then exits;
  race        the allocating thread publishes and exits at once while the
              receivers are already freeing.
Every huge block carries the pattern in its first and last 4 KiB and a word
every 64 KiB, checked before the free.
-----------------------------------------------------------------------------*/
#include "test-mt-common.h"

#define MI_HUGE_BLOCKS      3
#define MI_HUGE_SMALL       2
#define MI_HUGE_SLOTS       (MI_HUGE_BLOCKS + MI_HUGE_SMALL)
#define MI_HUGE_RECEIVERS   2

typedef enum mi_huge_mode_e {
  MI_HUGE_AFTER_EXIT,
  MI_HUGE_ALIVE,
  MI_HUGE_RACE,
  MI_HUGE_MODE_COUNT
} mi_huge_mode_t;

typedef struct mi_huge_state_s {
  uint64_t round;
  mi_huge_mode_t mode;
  _Atomic(void*) slots[MI_HUGE_SLOTS];
  atomic_int published;
  atomic_int freed;
  atomic_int receivers_ready;
} mi_huge_state_t;

static mi_huge_state_t mi_huge_state;

static const size_t mi_huge_sizes[MI_HUGE_BLOCKS] = {
  32 * MI_MT_MIB, 40 * MI_MT_MIB, 64 * MI_MT_MIB
};

static void* mi_huge_allocator_run(void* arg) {
  (void)arg;
  mi_mt_random_t random;
  mi_mt_random_init_thread(&random, mi_huge_state.round);
  // one huge block freed by its own thread first
  mi_mt_block_free(mi_mt_block_alloc(mi_huge_sizes[mi_huge_state.round % MI_HUGE_BLOCKS]));

  int published = 0;
  for (size_t i = 0; i < MI_HUGE_BLOCKS; i++) {
    // vary the sizes a little between rounds (still above a segment)
    const size_t size = mi_huge_sizes[i] + (size_t)(mi_huge_state.round % 4) * 4096;
    void* block = mi_mt_block_alloc(size);
    if (block == NULL) continue;
    mi_mt_slot_publish(&mi_huge_state.slots[i], block);
    published++;
  }
  for (size_t i = 0; i < MI_HUGE_SMALL; i++) {
    void* block = mi_mt_block_alloc(mi_mt_size_small(&random));
    if (block == NULL) continue;
    mi_mt_slot_publish(&mi_huge_state.slots[MI_HUGE_BLOCKS + i], block);
    published++;
  }
  atomic_store_explicit(&mi_huge_state.published, published, memory_order_release);
  if (mi_huge_state.mode == MI_HUGE_ALIVE) {
    // stay alive until the receivers have freed everything we handed out
    while (atomic_load_explicit(&mi_huge_state.freed, memory_order_acquire) < published) {
      mi_mt_sleep_us(100);
    }
  }
  return NULL;
}

static void* mi_huge_receiver_run(void* arg) {
  (void)arg;
  mi_mt_thread_heap_init();
  atomic_fetch_add_explicit(&mi_huge_state.receivers_ready, 1, memory_order_acq_rel);
  for (;;) {
    // read `published` first: once it is set, every block is in its slot
    const int published = atomic_load_explicit(&mi_huge_state.published, memory_order_acquire);
    const size_t freed = mi_mt_slots_free(mi_huge_state.slots, MI_HUGE_SLOTS);
    int total = 0;
    if (freed > 0) {
      total = atomic_fetch_add_explicit(&mi_huge_state.freed, (int)freed, memory_order_acq_rel) + (int)freed;
    }
    else {
      total = atomic_load_explicit(&mi_huge_state.freed, memory_order_acquire);
    }
    if (published >= 0 && total >= published) break;
    if (freed == 0) sched_yield();
  }
  return NULL;
}

static void mi_huge_handoff_run(mi_huge_mode_t mode) {
  pthread_t allocator;
  pthread_t receivers[MI_HUGE_RECEIVERS];
  mi_huge_state.mode = mode;
  atomic_store_explicit(&mi_huge_state.published, -1, memory_order_release);
  atomic_store_explicit(&mi_huge_state.freed, 0, memory_order_release);
  atomic_store_explicit(&mi_huge_state.receivers_ready, 0, memory_order_release);
  if (mode == MI_HUGE_AFTER_EXIT) {
    mi_mt_thread_start(&allocator, &mi_huge_allocator_run, NULL);
    mi_mt_thread_join(allocator);   // the allocating thread has exited for sure
  }
  for (size_t i = 0; i < MI_HUGE_RECEIVERS; i++) {
    mi_mt_thread_start(&receivers[i], &mi_huge_receiver_run, NULL);
  }
  if (mode != MI_HUGE_AFTER_EXIT) {
    while (atomic_load_explicit(&mi_huge_state.receivers_ready, memory_order_acquire) < MI_HUGE_RECEIVERS) {
      sched_yield();
    }
    mi_mt_thread_start(&allocator, &mi_huge_allocator_run, NULL);
  }
  for (size_t i = 0; i < MI_HUGE_RECEIVERS; i++) {
    mi_mt_thread_join(receivers[i]);
  }
  if (mode != MI_HUGE_AFTER_EXIT) {
    mi_mt_thread_join(allocator);
  }
}

static void mi_huge_round_run(void) {
  mi_huge_state.round++;
  for (int mode = 0; mode < MI_HUGE_MODE_COUNT; mode++) {
    mi_huge_handoff_run((mi_huge_mode_t)mode);
  }
  mi_mt_abandoned_sample();
  mi_mt_count_add(&mi_mt_counts.rounds, 1);
}

#ifndef MI_MT_SOAK
static void mi_huge_paths_require(void) {
  mi_test_counters_t c = mi_mt_counters();
  mi_mt_require_path("huge block freed after its thread exited", c.huge_free_after_exit);
  mi_mt_require_path("cross-thread free", mi_mt_count_get(&mi_mt_counts.cross_thread_frees));
}

int main(void) {
  mi_mt_init("mt-huge", 25.0);
  mi_option_enable(mi_option_abandoned_reclaim_on_free);
  mi_option_set(mi_option_max_segment_reclaim, 100);
  const long rounds = mi_mt_scaled(100, 2);
  const long minimum_rounds = 2;
  for (long round = 0; round < rounds; round++) {
    if (round >= minimum_rounds && mi_mt_deadline_passed()) {
      printf("mi-test: note: time budget reached after %ld of %ld rounds\n", round, rounds);
      break;
    }
    mi_huge_round_run();
  }
  mi_mt_reclaim_everything();
  mi_huge_paths_require();
  return mi_mt_finish();
}
#endif

/* ----------------------------------------------------------------------------
mt-reclaim: abandoned segments are claimed by exactly one thread, both by a
thread that frees into them and by a thread that needs pages.

Each round:
  1. consumers start and keep freeing whatever is published in the `early`
     slots (cross-thread frees while the producer is alive);
  2. producers allocate a batch of small/medium/large blocks, publish some at
     once (`early`), keep the rest for `late` and `deferred`, publish those
     right before they exit, and exit holding them (their segments are
     abandoned). Producer 0 is silent: it publishes only `deferred` blocks,
     so its segment stays abandoned until some thread needs pages;
  3. after all producers are joined, consumers free the `late` blocks (frees
     into abandoned segments: reclaim on free) while fresh allocator threads
     start allocating (reclaim on allocation); allocators also leave a few
     blocks in `deferred` when they exit;
  4. after the allocators are joined, consumers free the `deferred` blocks
     and exit once every slot is empty.
At the end everything is freed, the main thread reclaims what is left, and
the claim counters must balance.
-----------------------------------------------------------------------------*/
#include "test-mt-common.h"

#define MI_RECLAIM_MAX_PRODUCERS   8
#define MI_RECLAIM_MAX_ALLOCATORS  4
#define MI_RECLAIM_MAX_CONSUMERS   4
#define MI_RECLAIM_MAX_BLOCKS      512   // per producer
#define MI_RECLAIM_ALLOCATOR_KEEP  8     // blocks an allocator leaves behind
#define MI_RECLAIM_RING            16    // live blocks of a consumer's own

typedef struct mi_reclaim_config_s {
  size_t producers;
  size_t consumers;
  size_t allocators;
  size_t blocks_per_producer;
  size_t max_large;
} mi_reclaim_config_t;

typedef enum mi_reclaim_phase_e {
  MI_RECLAIM_PRODUCING = 0,   // producers alive: free `early` only
  MI_RECLAIM_LATE      = 1,   // producers exited: free `late` too
  MI_RECLAIM_DONE      = 2    // allocators exited: free everything, then stop
} mi_reclaim_phase_t;

typedef struct mi_reclaim_state_s {
  mi_reclaim_config_t config;
  uint64_t round;
  atomic_int phase;
  _Atomic(void*) early[MI_RECLAIM_MAX_PRODUCERS * MI_RECLAIM_MAX_BLOCKS];
  _Atomic(void*) late[MI_RECLAIM_MAX_PRODUCERS * MI_RECLAIM_MAX_BLOCKS];
  _Atomic(void*) deferred[(MI_RECLAIM_MAX_PRODUCERS + MI_RECLAIM_MAX_ALLOCATORS) * MI_RECLAIM_MAX_BLOCKS];
} mi_reclaim_state_t;

static mi_reclaim_state_t mi_reclaim_state;

static mi_reclaim_config_t mi_reclaim_config_default(void) {
  mi_reclaim_config_t config;
  config.producers = 4;
  config.consumers = 2;
  config.allocators = 2;
  config.blocks_per_producer = 256;
  config.max_large = 1 * MI_MT_MIB;
  return config;
}

static size_t mi_reclaim_slot_count(void) {
  return mi_reclaim_state.config.producers * mi_reclaim_state.config.blocks_per_producer;
}

static void* mi_reclaim_producer_run(void* arg) {
  const size_t index = (size_t)(uintptr_t)arg;
  const mi_reclaim_config_t* config = &mi_reclaim_state.config;
  const size_t count = config->blocks_per_producer;
  const size_t base = index * count;
  const bool silent = (index == 0);
  mi_mt_random_t random;
  mi_mt_random_init_thread(&random, mi_reclaim_state.round);

  void* late[MI_RECLAIM_MAX_BLOCKS];
  void* deferred[MI_RECLAIM_MAX_BLOCKS];
  for (size_t i = 0; i < count; i++) {
    late[i] = NULL;
    deferred[i] = NULL;
    void* block = mi_mt_block_alloc(mi_mt_size_mixed(&random, 20, 4, config->max_large));
    if (block == NULL) continue;
    const unsigned kind = (silent ? 3 : (unsigned)(mi_mt_random_next(&random) % 4));
    if (kind <= 1)      mi_mt_slot_publish(&mi_reclaim_state.early[base + i], block);
    else if (kind == 2) late[i] = block;
    else                deferred[i] = block;
    if (i % 8 == 7) {
      // a short-lived block of our own: a local free
      mi_mt_block_free(mi_mt_block_alloc(mi_mt_size_small(&random)));
    }
  }
  // publish the rest and exit holding them: the segments get abandoned
  for (size_t i = 0; i < count; i++) {
    if (late[i] != NULL) mi_mt_slot_publish(&mi_reclaim_state.late[base + i], late[i]);
    if (deferred[i] != NULL) mi_mt_slot_publish(&mi_reclaim_state.deferred[base + i], deferred[i]);
  }
  return NULL;
}

static void* mi_reclaim_allocator_run(void* arg) {
  const size_t index = (size_t)(uintptr_t)arg;
  const mi_reclaim_config_t* config = &mi_reclaim_state.config;
  const size_t base = (config->producers + index) * config->blocks_per_producer;
  mi_mt_random_t random;
  mi_mt_random_init_thread(&random, mi_reclaim_state.round);

  // a fresh thread: its first allocations need pages, so it looks at the
  // abandoned segments first
  enum { COUNT = 64 };
  void* blocks[COUNT];
  for (size_t i = 0; i < COUNT; i++) {
    blocks[i] = mi_mt_block_alloc(mi_mt_size_mixed(&random, 20, 4, config->max_large));
  }
  // free half of them in random order
  for (size_t i = 0; i < COUNT / 2; i++) {
    const size_t pick = mi_mt_random_range(&random, 0, COUNT - 1);
    mi_mt_block_free(blocks[pick]);
    blocks[pick] = NULL;
  }
  // leave a few behind for the consumers, free the rest
  size_t kept = 0;
  for (size_t i = 0; i < COUNT; i++) {
    if (blocks[i] == NULL) continue;
    if (kept < MI_RECLAIM_ALLOCATOR_KEEP) {
      mi_mt_slot_publish(&mi_reclaim_state.deferred[base + kept], blocks[i]);
      kept++;
    }
    else {
      mi_mt_block_free(blocks[i]);
    }
  }
  return NULL;
}

static void* mi_reclaim_consumer_run(void* arg) {
  const size_t index = (size_t)(uintptr_t)arg;
  const mi_reclaim_config_t* config = &mi_reclaim_state.config;
  const size_t slots = mi_reclaim_slot_count();
  const size_t deferred_slots = (config->producers + config->allocators) * config->blocks_per_producer;
  mi_mt_random_t random;
  mi_mt_random_init_thread(&random, mi_reclaim_state.round * 31 + index);
  mi_mt_thread_heap_init();

  void* ring[MI_RECLAIM_RING] = { NULL };
  size_t ring_position = 0;
  for (;;) {
    const int phase = atomic_load_explicit(&mi_reclaim_state.phase, memory_order_acquire);
    size_t found = mi_mt_slots_free(mi_reclaim_state.early, slots);
    if (phase >= MI_RECLAIM_LATE) found += mi_mt_slots_free(mi_reclaim_state.late, slots);
    if (phase >= MI_RECLAIM_DONE) found += mi_mt_slots_free(mi_reclaim_state.deferred, deferred_slots);
    // allocations of our own, interleaved with the frees
    mi_mt_block_free(ring[ring_position]);
    ring[ring_position] = mi_mt_block_alloc(mi_mt_size_mixed(&random, 15, 2, config->max_large));
    ring_position = (ring_position + 1) % MI_RECLAIM_RING;
    if (phase == MI_RECLAIM_DONE && found == 0) break;  // everything was published before DONE
    if (found == 0) sched_yield();
  }
  for (size_t i = 0; i < MI_RECLAIM_RING; i++) {
    mi_mt_block_free(ring[i]);
  }
  return NULL;
}

// One round with the given configuration (the caller sets the options).
static void mi_reclaim_round_run(const mi_reclaim_config_t* config) {
  mi_reclaim_state.config = *config;
  mi_reclaim_config_t* c = &mi_reclaim_state.config;
  if (c->producers < 2) c->producers = 2;
  if (c->producers > MI_RECLAIM_MAX_PRODUCERS) c->producers = MI_RECLAIM_MAX_PRODUCERS;
  if (c->consumers < 1) c->consumers = 1;
  if (c->consumers > MI_RECLAIM_MAX_CONSUMERS) c->consumers = MI_RECLAIM_MAX_CONSUMERS;
  if (c->allocators < 1) c->allocators = 1;
  if (c->allocators > MI_RECLAIM_MAX_ALLOCATORS) c->allocators = MI_RECLAIM_MAX_ALLOCATORS;
  if (c->blocks_per_producer < MI_RECLAIM_ALLOCATOR_KEEP) c->blocks_per_producer = MI_RECLAIM_ALLOCATOR_KEEP;
  if (c->blocks_per_producer > MI_RECLAIM_MAX_BLOCKS) c->blocks_per_producer = MI_RECLAIM_MAX_BLOCKS;
  if (c->max_large <= MI_MT_MEDIUM_MAX) c->max_large = MI_MT_MEDIUM_MAX + 1;
  mi_reclaim_state.round++;

  pthread_t consumers[MI_RECLAIM_MAX_CONSUMERS];
  pthread_t producers[MI_RECLAIM_MAX_PRODUCERS];
  pthread_t allocators[MI_RECLAIM_MAX_ALLOCATORS];
  atomic_store_explicit(&mi_reclaim_state.phase, MI_RECLAIM_PRODUCING, memory_order_release);
  for (size_t i = 0; i < c->consumers; i++) {
    mi_mt_thread_start(&consumers[i], &mi_reclaim_consumer_run, (void*)(uintptr_t)i);
  }
  for (size_t i = 0; i < c->producers; i++) {
    mi_mt_thread_start(&producers[i], &mi_reclaim_producer_run, (void*)(uintptr_t)i);
  }
  for (size_t i = 0; i < c->producers; i++) {
    mi_mt_thread_join(producers[i]);
  }
  // every producer has exited: their segments are abandoned
  atomic_store_explicit(&mi_reclaim_state.phase, MI_RECLAIM_LATE, memory_order_release);
  for (size_t i = 0; i < c->allocators; i++) {
    mi_mt_thread_start(&allocators[i], &mi_reclaim_allocator_run, (void*)(uintptr_t)i);
  }
  for (size_t i = 0; i < c->allocators; i++) {
    mi_mt_thread_join(allocators[i]);
  }
  atomic_store_explicit(&mi_reclaim_state.phase, MI_RECLAIM_DONE, memory_order_release);
  for (size_t i = 0; i < c->consumers; i++) {
    mi_mt_thread_join(consumers[i]);
  }
  mi_mt_abandoned_sample();
  mi_mt_count_add(&mi_mt_counts.rounds, 1);
}

static void mi_reclaim_options_set(void) {
  mi_option_enable(mi_option_abandoned_reclaim_on_free);
  mi_option_set(mi_option_max_segment_reclaim, 100);
}

// The path checks of this scenario (also used by the soak test).
#ifndef MI_MT_SOAK
static void mi_reclaim_paths_require(void) {
  mi_test_counters_t c = mi_mt_counters();
  mi_mt_require_path("abandon (thread exit with live blocks)", c.abandons);
  mi_mt_require_path("claim of an abandoned segment", c.claims_won);
  mi_mt_require_path("reclaim on free", c.reclaims_on_free);
  mi_mt_require_path("reclaim on allocation", c.reclaims_on_alloc);
  mi_mt_require_path("cross-thread free", mi_mt_count_get(&mi_mt_counts.cross_thread_frees));
}

int main(void) {
  mi_mt_init("mt-reclaim", 25.0);
  mi_reclaim_options_set();
  const long rounds = mi_mt_scaled(1000, 4);
  const long minimum_rounds = 4;
  mi_reclaim_config_t config = mi_reclaim_config_default();
  for (long round = 0; round < rounds; round++) {
    if (round >= minimum_rounds && mi_mt_deadline_passed()) {
      printf("mi-test: note: time budget reached after %ld of %ld rounds\n", round, rounds);
      break;
    }
    mi_reclaim_round_run(&config);
  }
  mi_mt_reclaim_everything();
  mi_reclaim_paths_require();
  return mi_mt_finish();
}
#endif

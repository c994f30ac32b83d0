/* Workload 4: larson-style server simulation.
 *
 * Worker threads play server threads handling requests: each owns a table
 * of live blocks (16..512 bytes), and each step frees a random block of the
 * table and allocates a replacement.  After every batch of steps a worker
 * trades its table for another one through a shared pool (an atomic
 * exchange), so it keeps freeing blocks that other threads allocated, as a
 * server does when a request is handed between threads.  This measures
 * cross-thread free and the remote-free path under steady load.
 *
 * usage: larson [steps_in_thousands_total] [threads]
 */
#include "bench_common.h"

#include <pthread.h>
#include <stdatomic.h>

#define TABLE_SLOTS 1000
#define BATCH_STEPS 2000
#define MAX_THREADS 64

typedef struct table_s {
  void* blocks[TABLE_SLOTS];
  uint32_t sizes[TABLE_SLOTS];
  uint64_t tags[TABLE_SLOTS];
} table_t;

typedef struct worker_s {
  pthread_t thread;
  size_t index;
  size_t steps;
  uint64_t frees;
} worker_t;

static _Atomic(table_t*) pool[MAX_THREADS];
static size_t pool_size;

/* take any table out of the pool, scanning from `start` */
static table_t* pool_take_any(size_t start) {
  table_t* table = NULL;
  for (size_t i = start % pool_size; table == NULL; i = (i + 1) % pool_size) table = atomic_exchange(&pool[i], NULL);
  return table;
}

static void* worker_main(void* arg) {
  worker_t* worker = (worker_t*)arg;
  mi_bench_rng_t rng;
  mi_bench_rng_init(&rng, 400 + worker->index);
  /* another worker may already have traded with "our" slot: take any table */
  table_t* table = pool_take_any(worker->index);
  /* the pool has twice as many slots as workers, so there is always a table
     to take and always an empty slot to put one into */
  uint64_t id = (uint64_t)(worker->index + 1) << 40;
  for (size_t done = 0; done < worker->steps; done += BATCH_STEPS) {
    for (size_t k = 0; k < BATCH_STEPS; k++) {
      size_t slot = mi_bench_rng_below(&rng, TABLE_SLOTS);
      mi_bench_stamp_check(table->blocks[slot], table->sizes[slot], table->tags[slot], "larson");
      free(table->blocks[slot]);
      worker->frees++;
      size_t size = mi_bench_rng_range(&rng, 16, 512);
      table->sizes[slot] = (uint32_t)size;
      table->tags[slot] = mi_bench_tag_make(id++, size);
      table->blocks[slot] = mi_bench_malloc_checked(size);
      mi_bench_stamp_write(table->blocks[slot], size, table->tags[slot]);
    }
    /* trade tables: deposit ours, take whatever was in a random pool slot;
       if that slot was empty, ours stays there and we take any other one */
    table_t* other = atomic_exchange(&pool[mi_bench_rng_below(&rng, pool_size)], table);
    table = (other != NULL) ? other : pool_take_any(mi_bench_rng_below(&rng, pool_size));
  }
  /* return the table to the pool for the main thread to drain */
  for (size_t i = 0;; i = (i + 1) % pool_size) {
    table_t* expected = NULL;
    if (atomic_compare_exchange_strong(&pool[i], &expected, table)) break;
  }
  return NULL;
}

int main(int argc, char** argv) {
  long thousands = mi_bench_arg_long(argc, argv, 1, 24000);
  long threads = mi_bench_arg_long(argc, argv, 2, 2);
  if (threads > MAX_THREADS / 2) threads = MAX_THREADS / 2;
  pool_size = (size_t)threads * 2;
  mi_bench_rng_t rng;
  mi_bench_rng_init(&rng, 4);
  uint64_t id = 1;
  for (size_t t = 0; t < pool_size; t++) {
    table_t* table = mi_bench_malloc_checked(sizeof(table_t));
    for (size_t i = 0; i < TABLE_SLOTS; i++) {
      size_t size = mi_bench_rng_range(&rng, 16, 512);
      table->sizes[i] = (uint32_t)size;
      table->tags[i] = mi_bench_tag_make(id++, size);
      table->blocks[i] = mi_bench_malloc_checked(size);
      mi_bench_stamp_write(table->blocks[i], size, table->tags[i]);
    }
    atomic_store(&pool[t], table);
  }
  double start = mi_bench_now();
  worker_t workers[MAX_THREADS];
  for (long t = 0; t < threads; t++) {
    workers[t].index = (size_t)t;
    workers[t].steps = (size_t)thousands * 1000 / (size_t)threads;
    workers[t].frees = 0;
    if (pthread_create(&workers[t].thread, NULL, worker_main, &workers[t]) != 0) mi_bench_fail("pthread_create");
  }
  uint64_t frees = 0;
  for (long t = 0; t < threads; t++) {
    pthread_join(workers[t].thread, NULL);
    frees += workers[t].frees;
  }
  double elapsed = mi_bench_now() - start;
  size_t tables = 0;
  for (size_t t = 0; t < pool_size; t++) {
    table_t* table = atomic_load(&pool[t]);
    if (table == NULL) continue;
    tables++;
    for (size_t i = 0; i < TABLE_SLOTS; i++) {
      mi_bench_stamp_check(table->blocks[i], table->sizes[i], table->tags[i], "larson final");
      free(table->blocks[i]);
    }
    free(table);
  }
  if (tables != pool_size) mi_bench_fail("larson: %zu of %zu tables came back", tables, pool_size);
  printf("workload=larson threads=%ld frees=%llu seconds=%.3f\n", threads, (unsigned long long)frees, elapsed);
  return 0;
}

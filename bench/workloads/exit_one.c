/* Workload 13: threads that exit holding one block.
 *
 * Each round starts 10 threads; each allocates one zeroed 128-byte object
 * with calloc, swaps it into a random slot of a shared array of 1000 slots
 * (freeing the object that was there, usually from an earlier, exited
 * thread) and exits.  Almost every thread leaves exactly one live block
 * behind, so the memory it used must be found again by later threads; an
 * allocator that keeps a mostly empty region per exited thread shows it in
 * peak RSS.
 *
 * usage: exit_one [rounds]
 */
#include "bench_common.h"

#include <stdatomic.h>

#define SLOT_COUNT 1000
#define THREADS_PER_ROUND 10
#define OBJECT_SIZE 128

static _Atomic(uint64_t*) slots[SLOT_COUNT];
static _Atomic(uint64_t) next_thread;

static void object_check_free(uint64_t* object) {
  uint64_t id = object[0];
  for (size_t i = 1; i < OBJECT_SIZE / sizeof(uint64_t); i++) {
    if (object[i] != (i == 1 ? ~id : 0)) mi_bench_fail("exit_one: object %llu changed", (unsigned long long)id);
  }
  free(object);
}

static void* worker_main(void* arg) {
  (void)arg;
  uint64_t number = atomic_fetch_add_explicit(&next_thread, 1, memory_order_relaxed);
  uint64_t* object = calloc(1, OBJECT_SIZE);
  if (object == NULL) mi_bench_fail("exit_one: calloc returned NULL");
  for (size_t i = 0; i < OBJECT_SIZE / sizeof(uint64_t); i++) {
    if (object[i] != 0) mi_bench_fail("exit_one: calloc memory is not zero");
  }
  object[0] = number;
  object[1] = ~number;
  mi_bench_rng_t rng;
  mi_bench_rng_init(&rng, 1300 + number);
  uint64_t* old = atomic_exchange(&slots[mi_bench_rng_below(&rng, SLOT_COUNT)], object);
  if (old != NULL) object_check_free(old);
  return NULL;
}

int main(int argc, char** argv) {
  long rounds = mi_bench_arg_long(argc, argv, 1, 500);
  double start = mi_bench_now();
  for (long round = 0; round < rounds; round++) {
    pthread_t threads[THREADS_PER_ROUND];
    for (size_t t = 0; t < THREADS_PER_ROUND; t++) {
      if (pthread_create(&threads[t], NULL, worker_main, NULL) != 0) mi_bench_fail("pthread_create");
    }
    for (size_t t = 0; t < THREADS_PER_ROUND; t++) pthread_join(threads[t], NULL);
  }
  size_t live = 0;
  for (size_t i = 0; i < SLOT_COUNT; i++) {
    uint64_t* object = atomic_exchange(&slots[i], NULL);
    if (object != NULL) {
      object_check_free(object);
      live++;
    }
  }
  printf("workload=exit_one rounds=%ld threads=%ld live_at_end=%zu seconds=%.3f\n", rounds,
         rounds * THREADS_PER_ROUND, live, mi_bench_now() - start);
  return 0;
}

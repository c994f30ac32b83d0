/* Workload 6: allocator-induced false sharing.
 *
 * Phase "scratch": the main thread allocates one small object per worker
 * back to back (so they sit in one cache line) and hands one to each worker.
 * Each worker frees the object it was given, then repeatedly allocates a
 * small object of the same size, writes it many times, and frees it.  An
 * allocator that hands the freed block straight back to the freeing thread
 * puts the workers' hot objects into one cache line, and the writes then
 * bounce that line between cores.
 * Phase "thrash": each worker allocates and writes its own small objects;
 * an allocator that serves several threads from one cache line makes these
 * writes bounce too.
 * Time is dominated by the writes; a good allocator keeps it flat.  Since
 * the cost of a bouncing line depends on the machine (on some virtual
 * machines it is invisible), the program also samples the workers' object
 * addresses at the same iterations and prints how many sample pairs shared a
 * cache line (scratch_shared_lines, thrash_shared_lines: 0 is ideal).
 *
 * usage: false_sharing [iterations_in_thousands_per_thread] [threads]
 */
#include "bench_common.h"

#include <pthread.h>

#define OBJECT_SIZE 8
#define WRITES_PER_OBJECT 2000
#define MAX_THREADS 64
#define SAMPLES 64

typedef struct worker_s {
  pthread_t thread;
  size_t index;
  size_t iterations;
  void* handed; /* scratch phase: object allocated by the main thread, or NULL */
  uint64_t sum;
  uintptr_t samples[SAMPLES]; /* addresses of objects at fixed iterations */
} worker_t;

static void object_hammer(worker_t* worker, volatile uint64_t* object) {
  for (size_t w = 0; w < WRITES_PER_OBJECT; w++) *object += w;
  worker->sum += *object;
}

static void* worker_main(void* arg) {
  worker_t* worker = (worker_t*)arg;
  mi_bench_thread_pin(worker->index); /* workers on different cores, or nothing can bounce */
  if (worker->handed != NULL) {
    object_hammer(worker, (volatile uint64_t*)worker->handed);
    free(worker->handed);
    worker->handed = NULL;
  }
  size_t sample_every = worker->iterations / SAMPLES + 1;
  for (size_t i = 0; i < worker->iterations; i++) {
    uint64_t* object = mi_bench_malloc_checked(OBJECT_SIZE);
    if (i % sample_every == 0) worker->samples[i / sample_every] = (uintptr_t)object;
    *object = worker->index;
    object_hammer(worker, object);
    free(object);
  }
  return NULL;
}

static double phase_run(const char* name, long threads, size_t iterations, int scratch, size_t* shared_out) {
  worker_t workers[MAX_THREADS];
  void* handed[MAX_THREADS];
  for (long t = 0; t < threads; t++) handed[t] = scratch ? mi_bench_malloc_checked(OBJECT_SIZE) : NULL;
  double start = mi_bench_now();
  for (long t = 0; t < threads; t++) {
    workers[t].index = (size_t)t;
    workers[t].iterations = iterations;
    workers[t].handed = handed[t];
    if (handed[t] != NULL) *(uint64_t*)handed[t] = 0;
    workers[t].sum = 0;
    memset(workers[t].samples, 0, sizeof(workers[t].samples));
    if (pthread_create(&workers[t].thread, NULL, worker_main, &workers[t]) != 0) mi_bench_fail("pthread_create");
  }
  uint64_t sum = 0;
  for (long t = 0; t < threads; t++) {
    pthread_join(workers[t].thread, NULL);
    sum += workers[t].sum;
  }
  double elapsed = mi_bench_now() - start;
  /* the machine-independent part: how often did two workers' objects, taken
     at the same iteration, sit in the same 64-byte cache line? */
  size_t shared = 0, compared = 0;
  for (size_t k = 0; k < SAMPLES; k++) {
    for (long t = 0; t < threads; t++) {
      for (long u = t + 1; u < threads; u++) {
        if (workers[t].samples[k] == 0 || workers[u].samples[k] == 0) continue;
        compared++;
        if (workers[t].samples[k] / 64 == workers[u].samples[k] / 64) shared++;
      }
    }
  }
  printf("phase=%s seconds=%.3f shared_lines=%zu/%zu sum=%llu\n", name, elapsed, shared, compared, (unsigned long long)sum);
  *shared_out = shared;
  return elapsed;
}

int main(int argc, char** argv) {
  long thousands = mi_bench_arg_long(argc, argv, 1, 400);
  long threads = mi_bench_arg_long(argc, argv, 2, 2);
  if (threads > MAX_THREADS) threads = MAX_THREADS;
  size_t iterations = (size_t)thousands * 1000 / 2;
  size_t scratch_shared = 0, thrash_shared = 0;
  double scratch = phase_run("scratch", threads, iterations, 1, &scratch_shared);
  double thrash = phase_run("thrash", threads, iterations, 0, &thrash_shared);
  printf("workload=false_sharing threads=%ld iterations=%zu scratch_seconds=%.3f thrash_seconds=%.3f "
         "scratch_shared_lines=%zu thrash_shared_lines=%zu\n",
         threads, iterations, scratch, thrash, scratch_shared, thrash_shared);
  return 0;
}

/* Workload 5: producer/consumer cross-thread frees.
 *
 * Pairs of threads connected by a bounded single-producer/single-consumer
 * ring: the producer allocates messages (mostly 16..512 bytes, one in 64 is
 * 1..16 KiB), stamps them and passes them on; the consumer checks and frees
 * them.  Every free is therefore a free of memory owned by another thread,
 * which is the pattern of pipelines and work queues.  It measures the
 * remote-free path and how quickly the producer gets that memory back.
 * Producer and consumer are pinned to different CPUs when there are several.
 *
 * usage: producer_consumer [messages_in_thousands_total] [pairs]
 */
#include "bench_common.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#define RING_SIZE 4096 /* power of two */
#define MAX_PAIRS 16

typedef struct message_ref_s {
  void* block;
  size_t size;
  uint64_t tag;
} message_ref_t;

typedef struct ring_s {
  _Alignas(64) _Atomic(size_t) head; /* next slot the producer writes */
  _Alignas(64) _Atomic(size_t) tail; /* next slot the consumer reads */
  _Alignas(64) message_ref_t entries[RING_SIZE];
} ring_t;

typedef struct pair_s {
  ring_t ring;
  size_t messages;
  size_t index;
  uint64_t consumed_bytes;
  pthread_t producer;
  pthread_t consumer;
} pair_t;

static void* producer_main(void* arg) {
  pair_t* pair = (pair_t*)arg;
  ring_t* ring = &pair->ring;
  mi_bench_rng_t rng;
  mi_bench_rng_init(&rng, 500 + pair->index);
  mi_bench_thread_pin(2 * pair->index);
  size_t head = 0;
  size_t tail_seen = 0;
  for (size_t n = 0; n < pair->messages; n++) {
    size_t size = (mi_bench_rng_below(&rng, 64) == 0) ? mi_bench_rng_range(&rng, 1024, 16384) : mi_bench_rng_range(&rng, 16, 512);
    message_ref_t ref;
    ref.size = size;
    ref.tag = mi_bench_tag_make(((uint64_t)pair->index << 40) + n, size);
    ref.block = mi_bench_malloc_checked(size);
    mi_bench_stamp_write(ref.block, size, ref.tag);
    while (head - tail_seen >= RING_SIZE) {
      tail_seen = atomic_load_explicit(&ring->tail, memory_order_acquire);
      if (head - tail_seen >= RING_SIZE) sched_yield();
    }
    ring->entries[head % RING_SIZE] = ref;
    head++;
    if ((head & 31) == 0 || n + 1 == pair->messages) atomic_store_explicit(&ring->head, head, memory_order_release);
  }
  return NULL;
}

static void* consumer_main(void* arg) {
  pair_t* pair = (pair_t*)arg;
  ring_t* ring = &pair->ring;
  mi_bench_thread_pin(2 * pair->index + 1);
  size_t tail = 0;
  size_t head_seen = 0;
  while (tail < pair->messages) {
    while (tail == head_seen) {
      head_seen = atomic_load_explicit(&ring->head, memory_order_acquire);
      if (tail == head_seen) sched_yield();
    }
    message_ref_t ref = ring->entries[tail % RING_SIZE];
    mi_bench_stamp_check(ref.block, ref.size, ref.tag, "producer_consumer");
    pair->consumed_bytes += ref.size;
    free(ref.block);
    tail++;
    if ((tail & 31) == 0) atomic_store_explicit(&ring->tail, tail, memory_order_release);
  }
  atomic_store_explicit(&ring->tail, tail, memory_order_release);
  return NULL;
}

int main(int argc, char** argv) {
  long thousands = mi_bench_arg_long(argc, argv, 1, 5000);
  long pairs = mi_bench_arg_long(argc, argv, 2, 1);
  if (pairs > MAX_PAIRS) pairs = MAX_PAIRS;
  size_t all_bytes = (size_t)pairs * sizeof(pair_t);
  pair_t* all = aligned_alloc(64, (all_bytes + 63) / 64 * 64); /* the rings want cache-line alignment */
  if (all == NULL) mi_bench_fail("aligned_alloc of rings");
  memset(all, 0, all_bytes);
  double start = mi_bench_now();
  for (long p = 0; p < pairs; p++) {
    all[p].index = (size_t)p;
    all[p].messages = (size_t)thousands * 1000 / (size_t)pairs;
    if (pthread_create(&all[p].consumer, NULL, consumer_main, &all[p]) != 0) mi_bench_fail("pthread_create");
    if (pthread_create(&all[p].producer, NULL, producer_main, &all[p]) != 0) mi_bench_fail("pthread_create");
  }
  uint64_t bytes = 0, messages = 0;
  for (long p = 0; p < pairs; p++) {
    pthread_join(all[p].producer, NULL);
    pthread_join(all[p].consumer, NULL);
    bytes += all[p].consumed_bytes;
    messages += all[p].messages;
  }
  double elapsed = mi_bench_now() - start;
  free(all);
  printf("workload=producer_consumer pairs=%ld messages=%llu mib=%.1f seconds=%.3f\n", pairs,
         (unsigned long long)messages, (double)bytes / (1024.0 * 1024.0), elapsed);
  return 0;
}

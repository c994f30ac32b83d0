/* Workload 3: realloc growth.
 *
 * 64 growing buffers.  Half of them grow like strings being appended to
 * (1..64 bytes per realloc, up to 64 KiB), half like vectors that grow by
 * 1.5x-2x (up to 512 KiB, sometimes 4 MiB).  When a buffer reaches its
 * random target size it is freed and starts again from a few bytes; now and
 * then a buffer is shrunk by a quarter instead.  After every realloc the buffer's head stamp and the last
 * byte written before the realloc are checked, so a realloc that loses data
 * is caught.  This measures in-place growth and copy costs.
 *
 * usage: realloc_growth [steps_in_thousands]
 */
#include "bench_common.h"

#define BUFFER_COUNT 64

typedef struct buffer_s {
  unsigned char* data;
  size_t size;
  size_t target;
  uint64_t tag;
  int vector_like;
} buffer_t;

static unsigned char marker_byte(const buffer_t* buffer) {
  return (unsigned char)((buffer->size * 31u) ^ (buffer->tag & 0xff));
}

static void buffer_start(buffer_t* buffer, mi_bench_rng_t* rng, uint64_t id) {
  buffer->size = mi_bench_rng_range(rng, 16, 48); /* the 8-byte head stamp plus the tail byte fit */
  buffer->vector_like = (int)(id & 1);
  if (buffer->vector_like) {
    buffer->target = (mi_bench_rng_below(rng, 50) == 0) ? 4u * 1024 * 1024 : mi_bench_rng_log_range(rng, 256, 512 * 1024);
  } else {
    buffer->target = mi_bench_rng_log_range(rng, 64, 64 * 1024);
  }
  buffer->tag = mi_bench_tag_make(id, 0);
  buffer->data = mi_bench_malloc_checked(buffer->size);
  memcpy(buffer->data, &buffer->tag, sizeof(buffer->tag));
  buffer->data[buffer->size - 1] = marker_byte(buffer);
}

static void buffer_check(const buffer_t* buffer, const char* where) {
  uint64_t head;
  memcpy(&head, buffer->data, sizeof(head));
  if (head != buffer->tag) mi_bench_fail("realloc_growth: %s: head stamp lost (size %zu)", where, buffer->size);
  if (buffer->data[buffer->size - 1] != marker_byte(buffer)) {
    mi_bench_fail("realloc_growth: %s: tail byte lost (size %zu)", where, buffer->size);
  }
}

int main(int argc, char** argv) {
  long thousands = mi_bench_arg_long(argc, argv, 1, 9000);
  size_t steps = (size_t)thousands * 1000;
  mi_bench_rng_t rng;
  mi_bench_rng_init(&rng, 3);
  buffer_t buffers[BUFFER_COUNT];
  uint64_t next_id = 1;
  uint64_t reallocs = 0, restarts = 0;
  double start = mi_bench_now();

  for (size_t i = 0; i < BUFFER_COUNT; i++) buffer_start(&buffers[i], &rng, next_id++);

  for (size_t step = 0; step < steps; step++) {
    buffer_t* buffer = &buffers[mi_bench_rng_below(&rng, BUFFER_COUNT)];
    if (buffer->size >= buffer->target) {
      buffer_check(buffer, "before free");
      free(buffer->data);
      buffer_start(buffer, &rng, next_id++);
      restarts++;
      continue;
    }
    size_t old_size = buffer->size;
    buffer_check(buffer, "before realloc");
    unsigned char old_last = buffer->data[old_size - 1];
    size_t new_size;
    if (mi_bench_rng_below(&rng, 1024) == 0 && old_size > 64) {
      new_size = old_size / 4 * 3; /* occasional shrink */
    } else if (buffer->vector_like) {
      new_size = old_size + old_size / 2 + mi_bench_rng_below(&rng, old_size / 2 + 1);
    } else {
      new_size = old_size + mi_bench_rng_range(&rng, 1, 64);
    }
    unsigned char* grown = realloc(buffer->data, new_size);
    if (grown == NULL) mi_bench_fail("realloc_growth: realloc(%zu) returned NULL", new_size);
    buffer->data = grown;
    reallocs++;
    uint64_t head;
    memcpy(&head, grown, sizeof(head));
    if (head != buffer->tag) mi_bench_fail("realloc_growth: realloc %zu -> %zu lost the head stamp", old_size, new_size);
    if (new_size > old_size && grown[old_size - 1] != old_last) {
      mi_bench_fail("realloc_growth: realloc %zu -> %zu lost the old last byte", old_size, new_size);
    }
    buffer->size = new_size;
    /* the program writes what it appended: one byte per 256 for big growth steps */
    for (size_t offset = old_size; offset + 1 < new_size; offset += 256) grown[offset] = (unsigned char)offset;
    grown[new_size - 1] = marker_byte(buffer);
  }
  for (size_t i = 0; i < BUFFER_COUNT; i++) {
    buffer_check(&buffers[i], "final");
    free(buffers[i].data);
  }
  printf("workload=realloc_growth steps=%zu reallocs=%llu restarts=%llu seconds=%.3f\n", steps,
         (unsigned long long)reallocs, (unsigned long long)restarts, mi_bench_now() - start);
  return 0;
}

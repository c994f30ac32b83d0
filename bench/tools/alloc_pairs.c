/* alloc_pairs: a fixed, tiny program for counting instructions per
 * malloc+free pair under callgrind.
 *
 * usage: alloc_pairs fixed|mixed|batch COUNT
 *   fixed  COUNT times: malloc(32), write a byte, free
 *   mixed  COUNT times: malloc(s), write a byte, free, with s cycling through
 *          a table of sizes 8..1024 prepared before the loop
 *   batch  COUNT pairs in groups of 64: allocate 64 blocks of table sizes,
 *          then free them in reverse order
 * Running it with two COUNT values and dividing the difference in executed
 * instructions by the difference in COUNT cancels start-up and set-up costs.
 * Some blocks of every size stay live throughout, so the pairs exercise the
 * ordinary paths rather than "page became empty" handling.
 * Built with -fno-builtin so the compiler cannot remove the pairs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TABLE_SIZE 1024
#define BATCH 64

static size_t size_table[TABLE_SIZE];
static void* volatile ballast[2 * TABLE_SIZE];

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: alloc_pairs fixed|mixed|batch COUNT\n");
    return 64;
  }
  long count = strtol(argv[2], NULL, 10);
  unsigned long long state = 0x2545f4914f6cdd1dULL;
  for (size_t i = 0; i < TABLE_SIZE; i++) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    size_table[i] = 8 + (size_t)(state % 1017);
  }
  /* warm up every size, and keep some blocks of each size live for the whole
     run: otherwise every free would empty its page, and allocators that do
     extra work when a page becomes empty would be measured on that slow path
     instead of the ordinary one */
  for (size_t i = 0; i < TABLE_SIZE; i++) {
    ballast[2 * i] = malloc(size_table[i]);
    ballast[2 * i + 1] = malloc(32);
    if (ballast[2 * i] == NULL || ballast[2 * i + 1] == NULL) return 1;
  }
  for (size_t i = 0; i < TABLE_SIZE; i++) {
    volatile char* p = malloc(size_table[i]);
    if (p == NULL) return 1;
    p[0] = 1;
    free((void*)p);
  }
  if (strcmp(argv[1], "fixed") == 0) {
    for (long i = 0; i < count; i++) {
      volatile char* p = malloc(32);
      p[0] = (char)i;
      free((void*)p);
    }
  } else if (strcmp(argv[1], "mixed") == 0) {
    for (long i = 0; i < count; i++) {
      volatile char* p = malloc(size_table[i & (TABLE_SIZE - 1)]);
      p[0] = (char)i;
      free((void*)p);
    }
  } else if (strcmp(argv[1], "batch") == 0) {
    void* blocks[BATCH];
    for (long done = 0; done < count; done += BATCH) {
      for (size_t k = 0; k < BATCH; k++) {
        volatile char* p = malloc(size_table[(done + (long)k) & (TABLE_SIZE - 1)]);
        p[0] = (char)k;
        blocks[k] = (void*)p;
      }
      for (size_t k = BATCH; k > 0; k--) free(blocks[k - 1]);
    }
  } else {
    fprintf(stderr, "alloc_pairs: unknown mode %s\n", argv[1]);
    return 64;
  }
  return 0;
}

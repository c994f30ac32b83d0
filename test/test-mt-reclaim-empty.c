/* ----------------------------------------------------------------------------
A claimant frees an abandoned segment whose pages all emptied.

A worker allocates one block in each of four pages of its segment (64 B,
512 B, 4000 B and 60000 B: small and medium pages) and exits holding them, so
its segment is abandoned with four pages in use. The main thread then frees
the four blocks (remote frees into the abandoned segment). A new thread that
needs a page claims the segment, collects every page, finds them all empty
and frees the segment instead of adopting it: the test counters show a claim
and a freed segment while that thread is still alive. A claimant that looks
at only some of the pages adopts a segment of empty pages instead. No timing.
-----------------------------------------------------------------------------*/
#include <pthread.h>
#include <string.h>
#include <mimalloc/testing.h>
#include "test-common.h"

#define MI_EMPTY_PAGES 4
static const size_t block_sizes[MI_EMPTY_PAGES] = {64, 512, 4000, 60000};
static uint8_t* worker_blocks[MI_EMPTY_PAGES];

static void* worker(void* arg) {
  (void)arg;
  for (size_t i = 0; i < MI_EMPTY_PAGES; i++) {
    worker_blocks[i] = (uint8_t*)mi_malloc(block_sizes[i]);
    CHECK(worker_blocks[i] != NULL);
    if (worker_blocks[i] != NULL)
      memset(worker_blocks[i], (int)(0x40 + i), block_sizes[i]);
  }
  return NULL; // exits holding the blocks: its segment is abandoned
}

typedef struct claimant_result_s {
  mi_test_counters_t before, after;
} claimant_result_t;

static void* claimant(void* arg) {
  claimant_result_t* result = (claimant_result_t*)arg;
  mi_test_counters_get(&result->before);
  void* p = mi_malloc(64); // a fresh thread with no segment: looks at the abandoned set first
  mi_test_counters_get(&result->after);
  CHECK(p != NULL);
  mi_free(p);
  return NULL;
}

int main(void) {
  void* own = mi_malloc(64); // the main thread keeps a segment of its own
  CHECK(own != NULL);
  pthread_t thread;
  CHECK(pthread_create(&thread, NULL, worker, NULL) == 0);
  pthread_join(thread, NULL);
  for (size_t i = 0; i < MI_EMPTY_PAGES; i++) {
    if (worker_blocks[i] == NULL)
      continue;
    CHECKF(worker_blocks[i][0] == 0x40 + i && worker_blocks[i][block_sizes[i] - 1] == 0x40 + i,
           "block %zu of the exited worker changed", i);
    mi_free(worker_blocks[i]);
  }
  claimant_result_t result;
  CHECK(pthread_create(&thread, NULL, claimant, &result) == 0);
  pthread_join(thread, NULL);
  long long claims = result.after.claims_won - result.before.claims_won;
  long long freed = result.after.segments_freed - result.before.segments_freed;
  CHECKF(claims >= 1, "the new thread claimed %lld abandoned segments", claims);
  CHECKF(freed >= 1, "the claimed segment of empty pages was not freed (%lld segments freed)", freed);
  CHECKF(result.after.segments_abandoned_now == 0, "%lld segments still abandoned",
         result.after.segments_abandoned_now);
  mi_free(own);
  return mi_test_summary("test-mt-reclaim-empty");
}

/* ----------------------------------------------------------------------------
Purge back-off: memory purged and taken again soon doubles the purge delay.

With purge_delay = 100 ms (and arena_purge_mult = 1, so large spans wait as
long), a freed 1 MiB block must still be resident shortly before the delay
has passed and purged (not resident, `mincore`) after it. Taking the purged
memory again at once doubles the process's delay (a test counter, and the
next freed block is still resident at 1.5 delays); taking it again more than
a second after the purge does not; ten quiet seconds halve it again. The
back-off is process-wide: a new thread that takes a cached segment mapping
this thread freed (and the cache purged) doubles this thread's delay too.

Timing: a "still resident" check is made only when the collection ran
before the delay had passed (measured), and the new thread's back-off is
checked only when it took the mapping within the second (measured); on a
machine so loaded that it did not, those checks are skipped, never failed.
A "purged" check waits past the delay, so it holds at any load.
-----------------------------------------------------------------------------*/
#include <pthread.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <mimalloc/testing.h>
#include "test-common.h"

#define BLOCK_SIZE ((size_t)1 << 20) // a large page: freed to its segment at once
#define BASE_DELAY_MS 100
#define HUGE_SIZE ((size_t)20 << 20) // a huge block: a segment of its own, cached when freed

static long long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void sleep_until(long long deadline_ms) {
  long long now;
  while ((now = now_ms()) < deadline_ms) {
    struct timespec t = {(time_t)((deadline_ms - now) / 1000), (long)((deadline_ms - now) % 1000) * 1000000};
    nanosleep(&t, NULL);
  }
}

// Whether the OS page holding `p` is resident.
static bool resident(const void* p) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  void* start = (void*)((uintptr_t)p & ~(uintptr_t)(page - 1));
  unsigned char vec = 0;
  CHECK(mincore(start, page, &vec) == 0);
  return (vec & 1) != 0;
}

static long long backoffs(void) {
  mi_test_counters_t counters;
  mi_test_counters_get(&counters);
  return counters.purge_backoffs;
}

static long long skipped_checks;

// Allocate a block (checking whether that counted as a back-off), write it,
// free it, and check that it is purged after `wait_ms` and not before.
static void round_check(const char* name, long long expect_backoffs, long long wait_ms) {
  long long before = backoffs();
  uint8_t* p = (uint8_t*)mi_malloc(BLOCK_SIZE);
  CHECK(p != NULL);
  if (p == NULL)
    return;
  CHECKF(backoffs() - before == expect_backoffs, "%s: taking the block counted %lld back-offs, expected %lld",
         name, backoffs() - before, expect_backoffs);
  memset(p, 0x5a, BLOCK_SIZE);
  uint8_t* probe = p + BLOCK_SIZE / 2;
  long long freed = now_ms();
  mi_free(p);
  // Before the delay: the memory stays.
  sleep_until(freed + wait_ms * 3 / 4);
  mi_collect(false);
  if (now_ms() < freed + wait_ms)
    CHECKF(resident(probe), "%s: purged before its delay of %lld ms", name, wait_ms);
  else
    skipped_checks++;
  // After the delay: purged by the next collection.
  sleep_until(freed + wait_ms + 60);
  mi_collect(false);
  CHECKF(!resident(probe), "%s: not purged %lld ms after its delay of %lld ms", name,
         now_ms() - freed - wait_ms, wait_ms);
}

// Another thread takes a huge block (the purged cached mapping): one back-off.
static void* huge_taker(void* arg) {
  long long before = backoffs();
  void* p = mi_malloc(HUGE_SIZE);
  CHECK(p != NULL);
  *(long long*)arg = backoffs() - before;
  mi_free(p);
  return NULL;
}

int main(void) {
  mi_option_set(mi_option_purge_delay, BASE_DELAY_MS);
  mi_option_set(mi_option_arena_purge_mult, 1);
  void* keep = mi_malloc(64); // keeps the segment alive between rounds
  CHECK(keep != NULL);

  round_check("first block", 0, BASE_DELAY_MS);
  long long doubled_at = now_ms();
  round_check("taken again at once", 1, 2 * BASE_DELAY_MS);
  sleep_until(now_ms() + 1100);
  round_check("taken again after a second", 0, 2 * BASE_DELAY_MS);
  // Ten seconds after the doubling (and no back-off since): the next free halves it.
  sleep_until(doubled_at + 10100);
  round_check("after ten quiet seconds", 0, BASE_DELAY_MS);

  // A huge block freed here goes to the segment cache, which purges it after
  // the delay; a new thread then takes that mapping within the second.
  sleep_until(now_ms() + 1100); // this thread's own purged slices are old by now
  uint8_t* huge = (uint8_t*)mi_malloc(HUGE_SIZE);
  CHECK(huge != NULL);
  if (huge != NULL) {
    memset(huge, 0x33, HUGE_SIZE);
    long long freed = now_ms();
    mi_free(huge);
    sleep_until(freed + BASE_DELAY_MS + 60);
    mi_collect(false);
    CHECKF(!resident(huge + HUGE_SIZE / 2),
           "a freed huge block's cached mapping was not purged after the delay");
    long long taker_backoffs = -1;
    pthread_t thread;
    CHECK(pthread_create(&thread, NULL, huge_taker, &taker_backoffs) == 0);
    pthread_join(thread, NULL);
    // The purge ran no earlier than the delay after the free: a take before
    // one second past that is a take within the second.
    if (now_ms() < freed + BASE_DELAY_MS + 950) {
      CHECKF(taker_backoffs == 1,
             "another thread taking the purged mapping counted %lld back-offs, expected 1", taker_backoffs);
      round_check("after another thread took purged memory", 0, 2 * BASE_DELAY_MS);
    } else {
      skipped_checks++;
    }
  }

  mi_free(keep);
  if (skipped_checks > 0)
    printf("note: %lld timing checks skipped (the machine was too slow to make them in time)\n",
           skipped_checks);
  return mi_test_summary("test-os-purge-backoff");
}

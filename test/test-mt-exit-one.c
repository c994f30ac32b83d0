/* ----------------------------------------------------------------------------
Threads that exit holding one block: their memory is reused, not piled up.

Rounds of 10 threads; each allocates one zeroed 128-byte object, swaps it into
a random slot of a shared array of 1000 slots (freeing the object that was
there, usually allocated by a thread that has exited) and exits. A thread that
starts with no memory of its own must take over the abandoned segments and
allocate from their nearly empty pages of this size; if it cut a fresh page
instead, every exited thread would leave a page behind holding one block.
The check: the live objects at the end sit in few distinct 64 KiB slices
(about 1000 * 128 bytes = 2 slices' worth; a fresh page per thread would
spread them over hundreds). Every object carries its thread number and is
checked before it is freed. Fixed amount of work, no timing.
-----------------------------------------------------------------------------*/
#include <pthread.h>
#include <stdlib.h>
#include "test-common.h"

#define ROUNDS 300
#define THREADS 10
#define SLOTS 1000
#define OBJECT_WORDS 16
#define SLICE_SHIFT 16
#define MAX_SLICES 64

static _Atomic(uint64_t*) slots[SLOTS];
static atomic_uint_fast64_t next_number;

static void object_free_checked(uint64_t* object) {
  CHECK(object[1] == ~object[0]);
  for (size_t i = 2; i < OBJECT_WORDS; i++) CHECK(object[i] == 0);
  mi_free(object);
}

static void* worker(void* arg) {
  (void)arg;
  uint64_t number = atomic_fetch_add(&next_number, 1);
  uint64_t* object = (uint64_t*)mi_calloc(OBJECT_WORDS, sizeof(uint64_t));
  CHECK(object != NULL);
  if (object == NULL) return NULL;
  for (size_t i = 0; i < OBJECT_WORDS; i++) CHECK(object[i] == 0);
  object[0] = number;
  object[1] = ~number;
  uint64_t x = number * 0x9e3779b97f4a7c15ULL;
  x ^= x >> 29;
  uint64_t* old = atomic_exchange(&slots[x % SLOTS], object);
  if (old != NULL) object_free_checked(old);
  return NULL;
}

int main(void) {
  for (int round = 0; round < ROUNDS; round++) {
    pthread_t threads[THREADS];
    for (int t = 0; t < THREADS; t++) CHECK(pthread_create(&threads[t], NULL, worker, NULL) == 0);
    for (int t = 0; t < THREADS; t++) pthread_join(threads[t], NULL);
  }
  uintptr_t seen[SLOTS];
  size_t distinct = 0, live = 0;
  for (size_t i = 0; i < SLOTS; i++) {
    uint64_t* object = atomic_load(&slots[i]);
    if (object == NULL) continue;
    live++;
    uintptr_t slice = (uintptr_t)object >> SLICE_SHIFT;
    size_t j = 0;
    while (j < distinct && seen[j] != slice) j++;
    if (j == distinct) seen[distinct++] = slice;
  }
  printf("test-mt-exit-one: %zu live objects in %zu distinct 64 KiB slices\n", live, distinct);
  CHECKF(distinct <= MAX_SLICES, "%zu live 128-byte objects spread over %zu slices (limit %d)", live, distinct,
         MAX_SLICES);
  for (size_t i = 0; i < SLOTS; i++) {
    uint64_t* object = atomic_exchange(&slots[i], NULL);
    if (object != NULL) object_free_checked(object);
  }
  return mi_test_summary("test-mt-exit-one");
}

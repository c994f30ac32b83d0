/* ----------------------------------------------------------------------------
API test: arenas (mi_reserve_os_memory*, mi_manage_os_memory*, huge OS pages,
mi_arena_area, mi_heap_new_in_arena, mi_arenas_print / mi_debug_show_arenas).

Checks, in order (arena ids are process-wide, so the order matters):
 1. invalid arena ids give NULL / size 0;
 2. reserving 1 GiB of address space barely moves the RSS;
 3. an exclusive arena: blocks of every size class of a heap in it (small,
    medium, large, huge, over-aligned huge) lie inside mi_arena_area, default
    heap blocks never do, the heap runs out (NULL) instead of using the OS,
    and after freeing everything the arena serves again;
 4. zero-initialisation on reused arena memory (purged, and unpurged with
    purge_delay = -1) and on program-provided memory that is not zero
    (mi_manage_os_memory_ex with is_zero = false);
 5. a non-exclusive arena serves a fresh thread's first segment, and the
    blocks of an exclusive arena are back once its thread has exited;
 6. four threads at once, each with a heap in one shared exclusive arena,
    filling and verifying blocks over several rounds (claims race);
 7. mi_manage_os_memory refuses regions without an aligned 32 MiB block;
 8. huge OS pages: 0 or ENOMEM, never a crash, pages_reserved consistent;
 9. printing lists each arena; the registry refuses a 65th arena.
A child run with MIMALLOC_RESERVE_OS_MEMORY=64MiB checks the start-up
reservation (arena 1 exists before main allocates anything of its own).
-----------------------------------------------------------------------------*/
#define _GNU_SOURCE
#include <mimalloc.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test-common.h"

// Segments (and arena blocks) are 32 MiB on 64-bit targets, 8 MiB on 32-bit ones.
#define MI_TEST_SEGMENT ((size_t)(sizeof(void*) == 8 ? 32 : 8) * MI_TEST_MIB)

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------
static bool in_arena(mi_arena_id_t id, const void* p, size_t size) {
  size_t arena_size = 0;
  const uint8_t* start = (const uint8_t*)mi_arena_area(id, &arena_size);
  const uint8_t* q = (const uint8_t*)p;
  return (start != NULL && q >= start && q + size <= start + arena_size);
}


// Blocks in use of arena `id` according to mi_arenas_print; -1 if not listed.
static long arena_blocks_in_use(mi_arena_id_t id, size_t* total) {
  mi_test_capture_begin();
  mi_arenas_print();
  mi_test_capture_end();
  char key[32];
  snprintf(key, sizeof(key), "arena %d:", id);
  const char* line = strstr(mi_test_captured(), key);
  if (line == NULL) return -1;
  const char* of = strstr(line, " of ");
  if (of == NULL) return -1;
  const char* num = of;
  while (num > line && num[-1] >= '0' && num[-1] <= '9') num--;
  long used = strtol(num, NULL, 10);
  if (total != NULL) *total = (size_t)strtoul(of + 4, NULL, 10);
  return used;
}

static size_t current_rss(void) {
  size_t rss = 0;
  mi_process_info(NULL, NULL, NULL, &rss, NULL, NULL, NULL, NULL);
  return rss;
}

// ---------------------------------------------------------------------------
// 1. invalid ids
// ---------------------------------------------------------------------------
static void test_invalid_ids(void) {
  const mi_arena_id_t ids[] = {0, -1, 65, 1000};
  for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
    size_t size = 12345;
    CHECKF(mi_arena_area(ids[i], &size) == NULL, "id %d", ids[i]);
    CHECKF(size == 0, "id %d", ids[i]);
  }
  CHECK(mi_arena_area(0, NULL) == NULL);
  CHECK(mi_reserve_os_memory_ex(0, true, false, true, NULL) == ENOMEM);
}

// ---------------------------------------------------------------------------
// 2. reserving costs address space, not memory
// ---------------------------------------------------------------------------
static void test_reserve_rss(void) {
  size_t before = current_rss();
  mi_arena_id_t id = 0;
  CHECK(mi_reserve_os_memory_ex((size_t)1024 * MI_TEST_MIB, true, false, true, &id) == 0);
  CHECK(id > 0);
  size_t after = current_rss();
  CHECKF(after < before + 8 * MI_TEST_MIB, "RSS grew from %zu to %zu KiB by reserving 1 GiB", before / 1024,
         after / 1024);
  size_t size = 0;
  uint8_t* start = (uint8_t*)mi_arena_area(id, &size);
  CHECK(start != NULL && ((uintptr_t)start % MI_TEST_SEGMENT) == 0);
  CHECK(size == (size_t)1024 * MI_TEST_MIB);
  size_t total = 0;
  CHECK(arena_blocks_in_use(id, &total) == 0);
  CHECK(total == (size_t)1024 * MI_TEST_MIB / MI_TEST_SEGMENT);
  printf("reserve: 1 GiB arena %d at %p, RSS %zu -> %zu KiB\n", id, (void*)start, before / 1024, after / 1024);
}

// ---------------------------------------------------------------------------
// 3. an exclusive arena
// ---------------------------------------------------------------------------
static void test_exclusive_arena(void) {
  mi_arena_id_t id = 0;
  CHECK(mi_reserve_os_memory_ex(250 * MI_TEST_MIB, true, false, true, &id) == 0); // rounds up to 256 MiB
  size_t size = 0;
  CHECK(mi_arena_area(id, &size) != NULL && size == 256 * MI_TEST_MIB);
  mi_heap_t* heap = mi_heap_new_in_arena(id);
  CHECK(heap != NULL);
  if (heap == NULL) return;

  // Every size class.
  const size_t sizes[] = {8, 100, 1000, 10000, 100000, 1000000, 8 * MI_TEST_MIB, 20 * MI_TEST_MIB, 40 * MI_TEST_MIB};
  void* blocks[sizeof(sizes) / sizeof(sizes[0])];
  for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
    blocks[i] = mi_heap_malloc(heap, sizes[i]);
    CHECKF(blocks[i] != NULL, "size %zu", sizes[i]);
    if (blocks[i] == NULL) continue;
    CHECKF(in_arena(id, blocks[i], sizes[i]), "size %zu at %p", sizes[i], blocks[i]);
    CHECK(mi_heap_contains_block(heap, blocks[i]));
    mi_test_pattern_fill(blocks[i], 0, sizes[i], i + 1);
  }
  // Aligned, including an alignment larger than a segment (a huge segment
  // placed so the block is aligned).
  void* a1 = mi_heap_malloc_aligned(heap, 1000, 4096);
  void* a2 = mi_heap_malloc_aligned(heap, MI_TEST_MIB, 64 * MI_TEST_MIB);
  CHECK(a1 != NULL && ((uintptr_t)a1 % 4096) == 0 && in_arena(id, a1, 1000));
  CHECKF(a2 != NULL && ((uintptr_t)a2 % (64 * MI_TEST_MIB)) == 0 && in_arena(id, a2, MI_TEST_MIB), "a2 = %p", a2);
  mi_free(a1);
  mi_free(a2);
  for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
    if (blocks[i] == NULL) continue;
    CHECKF(mi_test_pattern_ok(blocks[i], 0, sizes[i], i + 1), "size %zu", sizes[i]);
    mi_free(blocks[i]);
  }

  // The default heap never uses an exclusive arena.
  size_t outside = 0;
  void* normal[64];
  for (size_t i = 0; i < 64; i++) {
    normal[i] = mi_malloc((i % 8 == 0) ? MI_TEST_MIB : 64 + i * 50);
    if (normal[i] != NULL && !in_arena(id, normal[i], 1)) outside++;
  }
  CHECK(outside == 64);
  for (size_t i = 0; i < 64; i++) mi_free(normal[i]);

  // Exhaustion: the arena heap gets NULL rather than OS memory.
  enum { MAX_BLOCKS = 512 };
  static void* big[MAX_BLOCKS];
  size_t count = 0;
  size_t stray = 0;
  while (count < MAX_BLOCKS) {
    void* p = mi_heap_malloc(heap, MI_TEST_MIB);
    if (p == NULL) break;
    if (!in_arena(id, p, MI_TEST_MIB)) stray++;
    ((volatile char*)p)[0] = 1;
    big[count++] = p;
  }
  CHECKF(count > 192 && count < 256, "got %zu blocks of 1 MiB from a 256 MiB arena", count);
  CHECK(stray == 0);
  size_t total = 0;
  CHECK(arena_blocks_in_use(id, &total) == 256 * MI_TEST_MIB / MI_TEST_SEGMENT);
  CHECK(total == 256 * MI_TEST_MIB / MI_TEST_SEGMENT);
  for (size_t i = 0; i < count; i++) mi_free(big[i]);
  // Memory given back is served again.
  mi_heap_collect(heap, true);
  void* again = mi_heap_malloc(heap, 30 * MI_TEST_MIB);
  CHECK(again != NULL && in_arena(id, again, 30 * MI_TEST_MIB));
  mi_free(again);
  printf("exclusive: arena %d, %zu blocks of 1 MiB before exhaustion\n", id, count);
  mi_heap_destroy(heap);
  mi_collect(true);
  CHECK(arena_blocks_in_use(id, NULL) == 0);
}

// ---------------------------------------------------------------------------
// 4. zero-initialised blocks on reused and on program-provided dirty memory
// ---------------------------------------------------------------------------
static void check_zero_allocations(mi_heap_t* heap, mi_arena_id_t id, const char* what) {
  const size_t sizes[] = {16, 200, 3000, 50000, 400000, 3 * MI_TEST_MIB, 20 * MI_TEST_MIB};
  for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
    for (int round = 0; round < 3; round++) {
      uint8_t* z = (uint8_t*)mi_heap_zalloc(heap, sizes[i]);
      uint8_t* c = (uint8_t*)mi_heap_calloc(heap, 1, sizes[i]);
      CHECKF(z != NULL && in_arena(id, z, sizes[i]), "%s: zalloc %zu", what, sizes[i]);
      CHECKF(c != NULL && in_arena(id, c, sizes[i]), "%s: calloc %zu", what, sizes[i]);
      if (z != NULL) {
        size_t at = mi_test_nonzero_at(z, 0, sizes[i]);
        CHECKF(at == sizes[i], "%s: zalloc(%zu) nonzero at %zu", what, sizes[i], at);
        memset(z, 0xA5, sizes[i]);
      }
      if (c != NULL) {
        size_t at = mi_test_nonzero_at(c, 0, sizes[i]);
        CHECKF(at == sizes[i], "%s: calloc(%zu) nonzero at %zu", what, sizes[i], at);
        memset(c, 0x5A, sizes[i]);
      }
      // Dirty plain blocks so the next round reuses written memory.
      uint8_t* m = (uint8_t*)mi_heap_malloc(heap, sizes[i]);
      if (m != NULL) memset(m, 0xFF, sizes[i]);
      mi_free(z);
      mi_free(c);
      mi_free(m);
    }
  }
}

static void test_zero(void) {
  // Reserved memory, reused after a heap was destroyed.
  mi_arena_id_t id = 0;
  CHECK(mi_reserve_os_memory_ex(256 * MI_TEST_MIB, true, false, true, &id) == 0);
  mi_heap_t* heap = mi_heap_new_in_arena(id);
  if (heap != NULL) {
    for (int i = 0; i < 200; i++) {
      void* p = mi_heap_malloc(heap, 1000 + (size_t)i * 997);
      if (p != NULL) memset(p, 0xEE, 1000 + (size_t)i * 997);
    }
    mi_heap_destroy(heap);
  }
  mi_collect(true);
  heap = mi_heap_new_in_arena(id);
  CHECK(heap != NULL);
  if (heap != NULL) {
    check_zero_allocations(heap, id, "reserved");
    mi_heap_destroy(heap);
  }

  // Without purging, freed arena blocks come back dirty: the allocator must
  // not take them for zero.
  long purge_delay = mi_option_get(mi_option_purge_delay);
  mi_option_set(mi_option_purge_delay, -1);
  heap = mi_heap_new_in_arena(id);
  if (heap != NULL) {
    for (int i = 0; i < 100; i++) {
      size_t n = (i % 10 == 0 ? 20 * MI_TEST_MIB : 5000 + (size_t)i * 1013);
      void* p = mi_heap_malloc(heap, n);
      if (p != NULL) memset(p, 0xDD, n);
    }
    mi_heap_destroy(heap);
  }
  mi_collect(true);
  heap = mi_heap_new_in_arena(id);
  CHECK(heap != NULL);
  if (heap != NULL) {
    check_zero_allocations(heap, id, "unpurged");
    mi_heap_destroy(heap);
  }
  mi_collect(true);
  mi_option_set(mi_option_purge_delay, purge_delay);

  // Program-provided memory full of garbage, declared not zero.
  size_t map_size = 200 * MI_TEST_MIB;
  uint8_t* region = (uint8_t*)mmap(NULL, map_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK(region != MAP_FAILED);
  if (region == MAP_FAILED) return;
  memset(region, 0xC3, map_size);
  mi_arena_id_t mid = 0;
  CHECK(mi_manage_os_memory_ex(region, map_size, true, false, false, -1, true, &mid));
  CHECK(mid > 0);
  size_t size = 0;
  uint8_t* start = (uint8_t*)mi_arena_area(mid, &size);
  CHECK(start != NULL && ((uintptr_t)start % MI_TEST_SEGMENT) == 0);
  CHECK(start >= region && start + size <= region + map_size);
  CHECK(size >= 160 * MI_TEST_MIB);
  heap = mi_heap_new_in_arena(mid);
  CHECK(heap != NULL);
  if (heap != NULL) {
    check_zero_allocations(heap, mid, "managed");
    mi_heap_destroy(heap);
  }
  mi_collect(true);
  CHECK(arena_blocks_in_use(mid, NULL) == 0);
  printf("zero: reserved arena %d and managed arena %d (%zu MiB of a %zu MiB mapping)\n", id, mid, size / MI_TEST_MIB,
         map_size / MI_TEST_MIB);
  // The region stays registered for the rest of the process: never unmap it.
}

// ---------------------------------------------------------------------------
// 5. non-exclusive arena for fresh threads; blocks return at thread exit
// ---------------------------------------------------------------------------
typedef struct thread_probe_s {
  mi_arena_id_t arena;
  bool first_in_arena;
  bool arena_heap_ok;
} thread_probe_t;

static void* thread_first_alloc(void* arg) {
  thread_probe_t* probe = (thread_probe_t*)arg;
  void* p = mi_malloc(64);
  probe->first_in_arena = in_arena(probe->arena, p, 64);
  mi_free(p);
  return NULL;
}

static void* thread_arena_heap(void* arg) {
  thread_probe_t* probe = (thread_probe_t*)arg;
  mi_heap_t* heap = mi_heap_new_in_arena(probe->arena);
  bool ok = (heap != NULL);
  void* blocks[100];
  for (size_t i = 0; i < 100 && heap != NULL; i++) {
    blocks[i] = mi_heap_malloc(heap, 1000 * (i + 1));
    ok = ok && in_arena(probe->arena, blocks[i], 1000 * (i + 1));
  }
  for (size_t i = 0; i < 100 && heap != NULL; i++) mi_free(blocks[i]);
  // The heap itself is left for thread exit to delete.
  probe->arena_heap_ok = ok;
  return NULL;
}

static void test_threads_and_exit(void) {
  mi_arena_id_t shared = 0;
  CHECK(mi_reserve_os_memory_ex(64 * MI_TEST_MIB, true, false, false, &shared) == 0);
  thread_probe_t probe = {shared, false, false};
  pthread_t t;
  CHECK(pthread_create(&t, NULL, &thread_first_alloc, &probe) == 0);
  pthread_join(t, NULL);
  CHECK(probe.first_in_arena);

  mi_arena_id_t excl = 0;
  CHECK(mi_reserve_os_memory_ex(64 * MI_TEST_MIB, true, false, true, &excl) == 0);
  thread_probe_t probe2 = {excl, false, false};
  CHECK(pthread_create(&t, NULL, &thread_arena_heap, &probe2) == 0);
  pthread_join(t, NULL);
  CHECK(probe2.arena_heap_ok);
  long used = arena_blocks_in_use(excl, NULL);
  CHECKF(used == 0, "arena %d still has %ld blocks in use after its thread exited", excl, used);
  printf("threads: non-exclusive arena %d served a new thread: %s; exclusive arena %d empty after exit: %s\n", shared,
         probe.first_in_arena ? "yes" : "no", excl, used == 0 ? "yes" : "no");
}

// ---------------------------------------------------------------------------
// 6. concurrent claims in one arena
// ---------------------------------------------------------------------------
#define RACE_THREADS 4
#define RACE_ROUNDS 6
#define RACE_BLOCKS 24

typedef struct race_arg_s {
  mi_arena_id_t arena;
  size_t index;
  size_t round;
  pthread_barrier_t* barrier;
  size_t allocated;
  size_t outside;
  size_t corrupt;
} race_arg_t;

static void* race_thread(void* arg) {
  race_arg_t* r = (race_arg_t*)arg;
  mi_heap_t* heap = mi_heap_new_in_arena(r->arena);
  void* blocks[RACE_BLOCKS];
  size_t sizes[RACE_BLOCKS];
  pthread_barrier_wait(r->barrier);
  for (size_t i = 0; i < RACE_BLOCKS; i++) {
    // Large blocks so each thread needs its own segments soon.
    sizes[i] = (i % 6 == 5 ? 18 * MI_TEST_MIB : MI_TEST_MIB + i * 4096);
    blocks[i] = (heap != NULL ? mi_heap_malloc(heap, sizes[i]) : NULL);
    if (blocks[i] == NULL) continue;
    r->allocated++;
    if (!in_arena(r->arena, blocks[i], sizes[i])) r->outside++;
    mi_test_pattern_fill(blocks[i], 0, sizes[i], (uint64_t)(r->round * 1000 + r->index * 100 + i + 1));
  }
  for (size_t i = 0; i < RACE_BLOCKS; i++) {
    if (blocks[i] == NULL) continue;
    if (!mi_test_pattern_ok(blocks[i], 0, sizes[i], (uint64_t)(r->round * 1000 + r->index * 100 + i + 1))) {
      r->corrupt++;
    }
  }
  if (heap != NULL) mi_heap_destroy(heap);
  return NULL;
}

static void test_concurrent_claims(void) {
  mi_arena_id_t id = 0;
  // 4 threads x (~20 MiB in 1 MiB blocks + 4 huge blocks of 18 MiB): about 16 blocks of 32 MiB.
  CHECK(mi_reserve_os_memory_ex((size_t)1024 * MI_TEST_MIB, true, false, true, &id) == 0);
  size_t allocated = 0, outside = 0, corrupt = 0;
  for (size_t round = 0; round < RACE_ROUNDS; round++) {
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, RACE_THREADS);
    pthread_t threads[RACE_THREADS];
    race_arg_t args[RACE_THREADS];
    for (size_t i = 0; i < RACE_THREADS; i++) {
      args[i] = (race_arg_t){id, i, round, &barrier, 0, 0, 0};
      CHECK(pthread_create(&threads[i], NULL, &race_thread, &args[i]) == 0);
    }
    for (size_t i = 0; i < RACE_THREADS; i++) {
      pthread_join(threads[i], NULL);
      allocated += args[i].allocated;
      outside += args[i].outside;
      corrupt += args[i].corrupt;
    }
    pthread_barrier_destroy(&barrier);
  }
  CHECKF(allocated == RACE_THREADS * RACE_ROUNDS * RACE_BLOCKS, "allocated %zu", allocated);
  CHECK(outside == 0);
  CHECK(corrupt == 0);
  long used = arena_blocks_in_use(id, NULL);
  CHECKF(used == 0, "%ld blocks in use after all threads exited", used);
  printf("concurrent: %zu blocks in arena %d by %d threads x %d rounds, %zu outside, %zu corrupt\n", allocated, id,
         RACE_THREADS, RACE_ROUNDS, outside, corrupt);
}

// ---------------------------------------------------------------------------
// 7. regions too small to manage
// ---------------------------------------------------------------------------
static void test_manage_too_small(void) {
  static uint8_t small_buffer[MI_TEST_MIB];
  mi_arena_id_t id = 77;
  CHECK(!mi_manage_os_memory_ex(small_buffer, sizeof(small_buffer), true, false, true, -1, false, &id));
  CHECK(id == 0);
  CHECK(!mi_manage_os_memory(NULL, 64 * MI_TEST_MIB, true, false, true, -1));
  // 1.25 segments that straddle a segment boundary without holding a whole aligned segment.
  uint8_t* region = (uint8_t*)mmap(NULL, 128 * MI_TEST_MIB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK(region != MAP_FAILED);
  if (region != MAP_FAILED) {
    uint8_t* boundary = (uint8_t*)(((uintptr_t)region + 2 * MI_TEST_SEGMENT - 1) & ~(MI_TEST_SEGMENT - 1));
    CHECK(!mi_manage_os_memory(boundary - MI_TEST_SEGMENT * 5 / 8, MI_TEST_SEGMENT * 5 / 4, true, false, true, -1));
    munmap(region, 128 * MI_TEST_MIB);
  }
}

// ---------------------------------------------------------------------------
// 8. huge OS pages (usually unavailable: ENOMEM, never a crash)
// ---------------------------------------------------------------------------
static void test_huge_pages(void) {
  mi_arena_id_t id = 99;
  int err = mi_reserve_huge_os_pages_at_ex(1, 0, 200, true, &id);
  CHECKF(err == 0 || err == ENOMEM, "err %d", err);
  if (err == 0) CHECK(id > 0 && mi_arena_area(id, NULL) != NULL);
  else CHECK(id == 0);
  int err2 = mi_reserve_huge_os_pages_at(1, 0, 200);
  CHECK(err2 == 0 || err2 == ENOMEM);
  int err3 = mi_reserve_huge_os_pages_interleave(1, 1, 200);
  CHECK(err3 == 0 || err3 == ENOMEM);
  size_t reserved = 12345;
  int err4 = mi_reserve_huge_os_pages(1, 0.2, &reserved);
  CHECK(err4 == 0 || err4 == ENOMEM);
  CHECK(err4 == 0 ? reserved == 1 : reserved == 0);
  CHECK(mi_reserve_huge_os_pages_at(0, 0, 0) == 0); // nothing asked, nothing to fail
  printf("huge pages: %s\n", err == 0 ? "available" : "not available (ENOMEM)");
}

// ---------------------------------------------------------------------------
// 9. printing and the registry limit
// ---------------------------------------------------------------------------
static void test_print_and_limit(void) {
  mi_test_capture_begin();
  mi_debug_show_arenas();
  mi_test_capture_end();
  CHECK(strstr(mi_test_captured(), "arena 1:") != NULL);
  CHECK(strstr(mi_test_captured(), "exclusive") != NULL);
  CHECK(strstr(mi_test_captured(), "program memory") != NULL);
  CHECK(strstr(mi_test_captured(), "arenas: ") != NULL);
  size_t arenas_before = 0;
  const char* n = strstr(mi_test_captured(), "arenas: ");
  if (n != NULL) arenas_before = (size_t)strtoul(n + 8, NULL, 10);
  CHECK(arenas_before >= 6);

  size_t added = 0;
  int err = 0;
  mi_arena_id_t last = 0;
  while (added < 100) {
    mi_arena_id_t id = 0;
    err = mi_reserve_os_memory_ex(MI_TEST_SEGMENT, true, false, true, &id);
    if (err != 0) break;
    last = id;
    added++;
  }
  CHECKF(err == ENOMEM, "err %d", err);
  CHECKF(arenas_before + added == 64, "%zu arenas before, %zu added", arenas_before, added);
  CHECK(last == 64);
  CHECK(mi_arena_area(64, NULL) != NULL);
  mi_manage_os_memory_ex(NULL, 0, true, false, true, -1, false, NULL); // harmless
  printf("registry: %zu arenas before, %zu more reserved until ENOMEM\n", arenas_before, added);
}

// ---------------------------------------------------------------------------
// Child: start-up reservation from the environment
// ---------------------------------------------------------------------------
static int child_startup_reservation(void) {
  size_t size = 0;
  void* start = mi_arena_area(1, &size);
  if (start == NULL || size != 64 * MI_TEST_MIB) {
    fprintf(stderr, "child: arena 1 is %p with %zu bytes; expected the 64 MiB start-up reservation\n", start, size);
    return 1;
  }
  // A non-exclusive start-up arena serves the main thread's allocations.
  void* p = mi_malloc(100);
  bool inside = in_arena(1, p, 100);
  mi_free(p);
  if (!inside) {
    fprintf(stderr, "child: first allocation %p is not in the start-up arena\n", p);
    return 1;
  }
  return 0;
}

static int run_child(const char* self, const char* mode, const char* env) {
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    if (env != NULL) putenv((char*)env);
    char* argv[] = {(char*)self, (char*)mode, NULL};
    mi_test_execve(self, argv, NULL);
    _exit(127);
  }
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return -1;
  return (WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0));
}

int main(int argc, char** argv) {
  if (argc > 1 && strcmp(argv[1], "--child-startup") == 0) return child_startup_reservation();
  test_invalid_ids();
  test_reserve_rss();
  test_exclusive_arena();
  test_zero();
  test_threads_and_exit();
  test_concurrent_claims();
  test_manage_too_small();
  test_huge_pages();
  test_print_and_limit();
  int rc = run_child(argv[0], "--child-startup", "MIMALLOC_RESERVE_OS_MEMORY=64MiB");
  CHECKF(rc == 0, "start-up reservation child exited with %d", rc);
  return mi_test_summary("test-api-arena");
}

/* ----------------------------------------------------------------------------
mimalloc-inspect accounts for every live block (label `inspect`).

The workload (`--workload`): each of T threads allocates N blocks of each of
16, 32, 64, 128, 256, 512 and 1024 bytes and L blocks of each of 1, 2 and
3 MiB, frees a random third of its own blocks, then every thread frees a
random tenth of its neighbour's remaining blocks (remote frees: thread-free
and delayed-free lists). Half of the threads then exit (their segments are
abandoned); the survivors free a tenth of the exited threads' blocks (frees
into abandoned segments) and allocate large blocks until one lands in a
segment of an exited thread (so some abandoned segments are reclaimed, at
most 6 L blocks).
Last, each survivor frees a tenth of the next survivor's blocks; the owners
allocate no more, so those blocks stay on thread-free and delayed-free lists. The survivors stay alive. The workload counts
what is live by size and reports it.

The driver checks that the library the workload runs on has no debug
information, dumps the workload with gcore, and requires mimalloc-inspect to
report exactly the live count of every one of the ten sizes from the core
(--json --check: no violations) and from the live process, with abandoned
segments among the owners, and the process running again afterwards.

Usage: test-inspect-seed INSPECTOR [--threads T] [--small N] [--large L]
-----------------------------------------------------------------------------*/
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/mman.h>
#include <mimalloc.h>
#include "mimalloc/types.h" // MI_PADDING_SIZE of this tree's build
#include "test-inspect-common.h"

#define SIZE_COUNT 10
static const size_t sizes[SIZE_COUNT] = {16, 32, 64, 128, 256, 512, 1024, 1 << 20, 2 << 20, 3 << 20};

static long threads_n = 4, small_n = 20000, large_n = 200;

// ---------------------------------------------------------------------------
// The workload
// ---------------------------------------------------------------------------
typedef struct worker_s {
  pthread_t thread;
  long index;
  void** blocks; // mmap'ed, so the bookkeeping is not on the heap being counted
  size_t count;
  uint64_t rng;
} worker_t;

static worker_t* workers;
static atomic_long live_count[SIZE_COUNT];
static pthread_barrier_t phase_barrier; // all threads: after allocating, after remote frees
static pthread_barrier_t survivor_barrier;
static pthread_mutex_t exit_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t exit_cond = PTHREAD_COND_INITIALIZER;
static bool exit_now;

static uint64_t rng_next(uint64_t* s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

static int size_index(size_t size) {
  for (int i = 0; i < SIZE_COUNT; i++)
    if (sizes[i] == size)
      return i;
  return -1;
}

// Blocks of exactly `size` bytes: in builds with padding (debug, secure) the
// request leaves room for it, so the inspector's block sizes are the sizes.
static void* tracked_alloc(size_t size) {
  void* p = mi_malloc(size - MI_PADDING_SIZE);
  if (p == NULL) {
    fprintf(stderr, "workload: out of memory\n");
    _exit(3);
  }
  memset(p, 0x5a, size - MI_PADDING_SIZE < 64 ? size - MI_PADDING_SIZE : 64);
  atomic_fetch_add(&live_count[size_index(size)], 1);
  return p;
}

// Free the blocks of `w` selected with probability 1/`one_in` (by the calling thread).
static void free_some(worker_t* w, uint64_t* rng, unsigned one_in) {
  for (size_t i = 0; i < w->count; i++) {
    void* p = w->blocks[i];
    if (p != NULL && rng_next(rng) % one_in == 0) {
      atomic_fetch_sub(&live_count[size_index(mi_usable_size(p) + MI_PADDING_SIZE)], 1);
      mi_free(p);
      w->blocks[i] = NULL;
    }
  }
}

// Does `p` lie in a segment that holds live blocks of an exited thread?
// (Called while nobody changes the exited threads' block lists.)
static bool in_exited_segment(const void* p) {
  uintptr_t segment = (uintptr_t)p & ~(uintptr_t)(32 * 1024 * 1024 - 1);
  for (long t = 1; t < threads_n; t += 2) {
    for (size_t i = 0; i < workers[t].count; i++) {
      uintptr_t block = (uintptr_t)workers[t].blocks[i];
      if (block != 0 && (block & ~(uintptr_t)(32 * 1024 * 1024 - 1)) == segment)
        return true;
    }
  }
  return false;
}

static void* worker_main(void* arg) {
  worker_t* w = arg;
  for (int s = 0; s < SIZE_COUNT; s++) {
    long n = (sizes[s] <= 1024 ? small_n : large_n);
    for (long i = 0; i < n; i++)
      w->blocks[w->count++] = tracked_alloc(sizes[s]);
  }
  free_some(w, &w->rng, 3);
  pthread_barrier_wait(&phase_barrier);
  free_some(&workers[(w->index + 1) % threads_n], &w->rng, 10);
  pthread_barrier_wait(&phase_barrier);
  if (w->index % 2 == 1)
    return NULL; // exits: its segments are abandoned
  pthread_barrier_wait(&survivor_barrier); // the others have been joined
  if (w->index + 1 < threads_n)
    free_some(&workers[w->index + 1], &w->rng, 10); // the exited neighbour's blocks
  pthread_barrier_wait(&survivor_barrier);
  // Allocate large blocks until one lands in a segment of an exited thread
  // (reclaimed), at most 6 L: some abandoned segments are reclaimed, not all.
  for (long i = 0; i < 6 * large_n; i++) {
    void* p = tracked_alloc(sizes[7 + i % 3]);
    w->blocks[w->count++] = p;
    if (in_exited_segment(p))
      break;
  }
  pthread_barrier_wait(&survivor_barrier);
  // Remote frees the owners never collect (they allocate no more): blocks stay
  // on page thread-free lists and, for full pages, on the owners' delayed lists.
  long next = (w->index + 2 < threads_n ? w->index + 2 : 0);
  if (next != w->index)
    free_some(&workers[next], &w->rng, 10);
  pthread_barrier_wait(&survivor_barrier);
  pthread_mutex_lock(&exit_lock);
  while (!exit_now)
    pthread_cond_wait(&exit_cond, &exit_lock);
  pthread_mutex_unlock(&exit_lock);
  return NULL;
}

static int workload(void) {
  size_t per_thread = (size_t)(7 * small_n + 9 * large_n);
  workers = mmap(NULL, (size_t)threads_n * sizeof(worker_t), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                 -1, 0);
  if (workers == MAP_FAILED)
    return 3;
  long survivors = (threads_n + 1) / 2;
  pthread_barrier_init(&phase_barrier, NULL, (unsigned)threads_n);
  pthread_barrier_init(&survivor_barrier, NULL, (unsigned)survivors + 1);
  for (long t = 0; t < threads_n; t++) {
    worker_t* w = &workers[t];
    w->index = t;
    w->rng = 0x9e3779b97f4a7c15ULL * (uint64_t)(t + 1);
    w->blocks = mmap(NULL, per_thread * sizeof(void*), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (w->blocks == MAP_FAILED || pthread_create(&w->thread, NULL, worker_main, w) != 0)
      return 3;
  }
  for (long t = 1; t < threads_n; t += 2)
    pthread_join(workers[t].thread, NULL);
  pthread_barrier_wait(&survivor_barrier); // survivors: free into abandoned segments
  pthread_barrier_wait(&survivor_barrier); // survivors: allocate until one reclaims
  pthread_barrier_wait(&survivor_barrier); // survivors: free each other's blocks
  pthread_barrier_wait(&survivor_barrier); // done
  // The report: "size count" lines, then "ready". Formatting uses no heap memory.
  char line[64];
  for (int s = 0; s < SIZE_COUNT; s++) {
    int n = snprintf(line, sizeof(line), "%zu %ld\n", sizes[s], atomic_load(&live_count[s]));
    if (write(1, line, (size_t)n) != n)
      return 3;
  }
  if (write(1, "ready\n", 6) != 6)
    return 3;
  mi_workload_wait_for_driver();
  pthread_mutex_lock(&exit_lock);
  exit_now = true;
  pthread_cond_broadcast(&exit_cond);
  pthread_mutex_unlock(&exit_lock);
  for (long t = 0; t < threads_n; t += 2)
    pthread_join(workers[t].thread, NULL);
  return 0;
}

// ---------------------------------------------------------------------------
// The driver
// ---------------------------------------------------------------------------

// The path of the loaded libmimalloc from the process's maps.
static bool loaded_library(pid_t pid, char* path, size_t size) {
  char maps[64], line[4200];
  snprintf(maps, sizeof(maps), "/proc/%d/maps", (int)pid);
  FILE* f = fopen(maps, "r");
  bool found = false;
  while (f != NULL && !found && fgets(line, sizeof(line), f) != NULL) {
    char* name = strchr(line, '/');
    if (name != NULL && strstr(name, "libmimalloc") != NULL) {
      name[strcspn(name, "\n")] = 0;
      snprintf(path, size, "%s", name);
      found = true;
    }
  }
  if (f != NULL)
    fclose(f);
  return found;
}

// No DWARF (.debug_*) and no static symbol table: only what a stripped release library has.
static void check_no_debug_info(const char* library, const char* dir) {
  char out[4200], err[4200];
  snprintf(out, sizeof(out), "%s/readelf.out", dir);
  snprintf(err, sizeof(err), "%s/readelf.err", dir);
  char* argv[] = {"readelf", "-S", "-W", (char*)library, NULL};
  int rc = mi_run(argv, out, err);
  char* text = mi_read_file(out);
  EXPECT(rc == 0 && text != NULL, "readelf -S %s failed (%d)", library, rc);
  if (text != NULL) {
    EXPECT(strstr(text, ".debug_") == NULL, "%s has debug information", library);
    EXPECT(strstr(text, ".symtab") == NULL, "%s has a static symbol table", library);
  }
  free(text);
}

static void check_report(const char* what, const char* report, const long long expected[SIZE_COUNT]) {
  char* text = mi_read_file(report);
  EXPECT(text != NULL, "%s: no report", what);
  if (text == NULL)
    return;
  long long found[SIZE_COUNT];
  for (int s = 0; s < SIZE_COUNT; s++)
    found[s] = -1;
  long long abandoned_segments = 0, abandoned_blocks = 0, reclaimed = 0, thread_owners = 0, violations = -1;
  for (char* line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
    char kind[32];
    if (strncmp(line, "{\"block_size\": ", 15) == 0) {
      int s = size_index((size_t)mi_json_number(line, "block_size"));
      if (s >= 0) {
        mi_json_string(line, "page_kind", kind, sizeof(kind));
        EXPECT(strcmp(kind, sizes[s] <= 1024 ? "small" : "large") == 0, "%s: size %zu on %s pages", what,
               sizes[s], kind);
        found[s] = (found[s] < 0 ? 0 : found[s]) + mi_json_number(line, "live_blocks");
      }
    } else if (strncmp(line, "{\"owner\": ", 10) == 0) {
      mi_json_string(line, "owner", kind, sizeof(kind));
      if (strcmp(kind, "abandoned") == 0) {
        abandoned_segments += mi_json_number(line, "segments");
        abandoned_blocks += mi_json_number(line, "live_blocks");
      } else if (strcmp(kind, "thread") == 0) {
        thread_owners++;
        reclaimed += mi_json_number(line, "reclaimed_segments");
      }
    } else if (strstr(line, "\"violation_count\": ") != NULL) {
      violations = mi_json_number(line, "violation_count");
    }
  }
  for (int s = 0; s < SIZE_COUNT; s++) {
    EXPECT(found[s] == expected[s], "%s: size %zu: inspector reports %lld live blocks, the workload has %lld", what,
           sizes[s], found[s], expected[s]);
    printf("%s: size %8zu: %8lld live (expected %8lld) %s\n", what, sizes[s], found[s], expected[s],
           (found[s] == expected[s] ? "100%" : "MISMATCH"));
  }
  printf("%s: abandoned segments %lld holding %lld live blocks; %lld thread owners; %lld reclaimed segments\n",
         what, abandoned_segments, abandoned_blocks, thread_owners, reclaimed);
  EXPECT(abandoned_segments > 0 && abandoned_blocks > 0, "%s: no abandoned segment with live blocks", what);
  EXPECT(reclaimed > 0, "%s: no segment was reclaimed by a surviving thread", what);
  EXPECT(thread_owners >= (threads_n + 1) / 2, "%s: %lld thread owners, the survivors are %ld", what, thread_owners,
         (threads_n + 1) / 2);
  EXPECT(violations == 0, "%s: --check reports %lld violations", what, violations);
  free(text);
}

static int driver(const char* inspector, char** argv) {
  char dir[256];
  mi_scratch_dir(dir, sizeof(dir), "test-inspect-seed");
  char threads_arg[32], small_arg[32], large_arg[32];
  snprintf(threads_arg, sizeof(threads_arg), "%ld", threads_n);
  snprintf(small_arg, sizeof(small_arg), "%ld", small_n);
  snprintf(large_arg, sizeof(large_arg), "%ld", large_n);
  char* child_argv[] = {argv[0], "--workload", "--threads", threads_arg, "--small", small_arg, "--large", large_arg,
                        NULL};
  mi_child_t child;
  if (!mi_child_start(&child, child_argv)) {
    fprintf(stderr, "cannot start the workload\n");
    return 1;
  }
  long long expected[SIZE_COUNT];
  char line[256];
  for (int s = 0; s < SIZE_COUNT; s++) {
    unsigned long long size;
    long long count;
    if (fgets(line, sizeof(line), child.from_child) == NULL || sscanf(line, "%llu %lld", &size, &count) != 2 ||
        size != sizes[s]) {
      fprintf(stderr, "the workload failed (exit %d)\n", mi_child_finish(&child));
      return 1;
    }
    expected[s] = count;
  }
  EXPECT(fgets(line, sizeof(line), child.from_child) != NULL && strcmp(line, "ready\n") == 0, "workload not ready");

  char library[4096];
  EXPECT(loaded_library(child.pid, library, sizeof(library)), "the workload has no libmimalloc mapped");
  printf("library: %s\n", library);
  check_no_debug_info(library, dir);

  char core[4300], report[4300], err[4300];
  snprintf(report, sizeof(report), "%s/report.json", dir);
  snprintf(err, sizeof(err), "%s/report.err", dir);
  if (mi_gcore(child.pid, dir, core, sizeof(core))) {
    char* inspect_core[] = {(char*)inspector, "--json", "--check", core, NULL};
    int rc = mi_run(inspect_core, report, err);
    EXPECT(rc == 0, "inspector on the core exited %d", rc);
    check_report("core", report, expected);
    unlink(core);
  } else {
    EXPECT(false, "gcore could not dump the workload");
  }

  char pid_text[32], stat_path[64];
  snprintf(pid_text, sizeof(pid_text), "%d", (int)child.pid);
  char* inspect_live[] = {(char*)inspector, "--json", "--check", "--pid", pid_text, NULL};
  int rc = mi_run(inspect_live, report, err);
  EXPECT(rc == 0, "inspector on the live process exited %d", rc);
  check_report("live", report, expected);
  // The process runs again: not left stopped.
  snprintf(stat_path, sizeof(stat_path), "/proc/%d/stat", (int)child.pid);
  char* stat = mi_read_file(stat_path);
  char* paren = (stat == NULL ? NULL : strrchr(stat, ')'));
  EXPECT(paren != NULL && paren[2] != 'T', "the workload was left stopped (%s)", stat == NULL ? "?" : stat);
  free(stat);

  int status = mi_child_finish(&child);
  EXPECT(status == 0, "the workload exited with %d", status);
  if (mi_test_failures == 0)
    mi_scratch_remove(dir);
  printf("test-inspect-seed: %s (%d failures)\n", (mi_test_failures == 0 ? "PASS" : "FAIL"), mi_test_failures);
  return (mi_test_failures == 0 ? 0 : 1);
}

int main(int argc, char** argv) {
  const char* inspector = NULL;
  bool is_workload = false;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--workload") == 0)
      is_workload = true;
    else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
      threads_n = atol(argv[++i]);
    else if (strcmp(argv[i], "--small") == 0 && i + 1 < argc)
      small_n = atol(argv[++i]);
    else if (strcmp(argv[i], "--large") == 0 && i + 1 < argc)
      large_n = atol(argv[++i]);
    else
      inspector = argv[i];
  }
  if (threads_n < 2 || small_n < 1 || large_n < 1 || (!is_workload && inspector == NULL)) {
    fprintf(stderr, "usage: test-inspect-seed INSPECTOR [--threads T>=2] [--small N] [--large L]\n");
    return 2;
  }
  return (is_workload ? workload() : driver(inspector, argv));
}

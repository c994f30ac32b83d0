/* ----------------------------------------------------------------------------
override-fork: fork() with the allocator preloaded.

Phase 1 (quiet fork): the parent fills a set of blocks, forks; the child
  checks and frees the inherited blocks, then allocates heavily (small,
  medium, large and huge sizes, realloc chains, two threads of its own) and
  forks a grandchild that does the same. Exit 0 means every pattern checked.
  The parent then checks its own copies, which the child must not have
  disturbed, and frees them.
Phase 2 (busy fork): two worker threads allocate and free continuously while
  the main thread forks FORK_ROUNDS children in a row. A child inherits the
  allocator in whatever state the workers left it (a worker may have been in
  the middle of malloc), so a lock or list left half-updated shows up here as
  a hang or a crash. Each child allocates, checks and exits; two watchdogs turn
  a hang into a failure: a CPU-time limit catches a child spinning on a lock
  (and is not fooled by a loaded machine that merely runs it slowly), and a
  generous wall-clock alarm catches one blocked for good.
-----------------------------------------------------------------------------*/
#define _GNU_SOURCE
#include "override-common.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define INHERITED_COUNT  2000
#define FORK_ROUNDS      16
#define CHILD_CPU_SECONDS   20   // a child needs well under one second of CPU
#define CHILD_ALARM_SECONDS 120  // wall clock: only a blocked child gets here

static void* inherited[INHERITED_COUNT];

static size_t inherited_size(size_t i) {
  if (i % 500 == 0) return (size_t)3 << 20;      // a few huge blocks
  if (i % 50 == 0) return 200000 + i;            // large
  return 16 + (i * 131) % 4000;                  // small and medium
}

// Sparse patterns keep big blocks cheap: every byte of the first and last
// KiB, and the first byte of each 4 KiB page in between.
static size_t sparse_next(size_t i, size_t size) {
  size_t next = i + 1;
  if (next >= 1024 && next + 1024 < size && (next % 4096) != 0) {
    next = (next / 4096 + 1) * 4096;                 // the next page start ...
    if (next + 1024 > size) next = size - 1024;      // ... or the tail, whichever comes first
  }
  return next;
}

static void sparse_fill(void* block, size_t size, uint64_t seed) {
  unsigned char* bytes = (unsigned char*)block;
  for (size_t i = 0; i < size; i = sparse_next(i, size)) bytes[i] = ovr_pattern_byte(seed, i);
}

static bool sparse_verify(const void* block, size_t size, uint64_t seed) {
  const unsigned char* bytes = (const unsigned char*)block;
  for (size_t i = 0; i < size; i = sparse_next(i, size)) {
    if (bytes[i] != ovr_pattern_byte(seed, i)) return false;
  }
  return true;
}

// Allocation-heavy work used by children and workers; returns the number of
// pattern mismatches and foreign blocks it saw.
static size_t churn(uint64_t seed, size_t rounds) {
  enum { SLOTS = 512 };
  void* slots[SLOTS] = { 0 };
  size_t sizes[SLOTS] = { 0 };
  uint64_t seeds[SLOTS] = { 0 };
  size_t errors = 0;
  uint64_t state = seed * 2654435761u + 1;
  for (size_t r = 0; r < rounds; r++) {
    state = state * 6364136223846793005u + 1442695040888963407u;
    size_t slot = (size_t)(state >> 33) % SLOTS;
    if (slots[slot] != NULL) {
      if (!sparse_verify(slots[slot], sizes[slot], seeds[slot])) errors++;
      if ((state >> 20) % 4 == 0 && sizes[slot] < ((size_t)4 << 20)) {
        size_t grown = sizes[slot] * 2 + 1;
        void* moved = realloc(slots[slot], grown);
        if (moved == NULL || !sparse_verify(moved, sizes[slot], seeds[slot])) errors++;
        slots[slot] = moved;
        sizes[slot] = grown;
        sparse_fill(moved, grown, seeds[slot]);
        continue;
      }
      free(slots[slot]);
      slots[slot] = NULL;
    }
    size_t kind = (size_t)(state >> 40) % 100;
    size_t size = (kind < 80 ? 1 + (size_t)(state >> 50) % 1024
                 : kind < 98 ? 1024 + (size_t)(state >> 45) % 65536
                 : 256 * 1024 + (size_t)(state >> 44) % (2 << 20));
    slots[slot] = malloc(size);
    if (!ovr_is_ours(slots[slot])) { errors++; continue; }
    sizes[slot] = size;
    seeds[slot] = state;
    sparse_fill(slots[slot], size, state);
  }
  for (size_t i = 0; i < SLOTS; i++) {
    if (slots[i] == NULL) continue;
    if (!sparse_verify(slots[i], sizes[i], seeds[i])) errors++;
    free(slots[i]);
  }
  return errors;
}

static void* child_thread_main(void* arg) {
  uintptr_t seed = (uintptr_t)arg;
  return (void*)(uintptr_t)churn(seed, 5000);
}

// Work of a child process: returns its exit status.
static int child_work(uint64_t seed, bool fork_grandchild) {
  struct rlimit cpu_limit = {CHILD_CPU_SECONDS, CHILD_CPU_SECONDS + 5};
  size_t errors = (setrlimit(RLIMIT_CPU, &cpu_limit) == 0 ? 0 : 1);
  alarm(CHILD_ALARM_SECONDS);
  errors += churn(seed, 8000);
  pthread_t threads[2];
  for (uintptr_t t = 0; t < 2; t++) {
    if (pthread_create(&threads[t], NULL, &child_thread_main, (void*)(uintptr_t)(seed * 10 + t)) != 0) errors++;
  }
  for (int t = 0; t < 2; t++) {
    void* result = NULL;
    pthread_join(threads[t], &result);
    errors += (size_t)(uintptr_t)result;
  }
  if (fork_grandchild) {
    pid_t grandchild = fork();
    if (grandchild == 0) {
      _exit(churn(seed + 99, 5000) == 0 ? 0 : 1);
    }
    int status = 0;
    if (grandchild < 0 || waitpid(grandchild, &status, 0) != grandchild || !WIFEXITED(status) || WEXITSTATUS(status) != 0) errors++;
  }
  return (errors == 0 ? 0 : 1);
}

static void check_child_status(pid_t child, const char* what, size_t round) {
  int status = 0;
  pid_t waited = waitpid(child, &status, 0);
  OVR_CHECKF(waited == child, "%s %zu: waitpid failed", what, round);
  if (waited != child) return;
  if (WIFSIGNALED(status)) {
    OVR_CHECKF(false, "%s %zu: child killed by signal %d%s", what, round, WTERMSIG(status),
               (WTERMSIG(status) == SIGALRM   ? " (blocked: wall-clock watchdog fired)"
                : WTERMSIG(status) == SIGXCPU ? " (spinning: CPU-time watchdog fired)"
                                              : ""));
  }
  else {
    OVR_CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s %zu: child exit status %d", what, round, WEXITSTATUS(status));
  }
}

static void phase_quiet_fork(void) {
  for (size_t i = 0; i < INHERITED_COUNT; i++) {
    inherited[i] = malloc(inherited_size(i));
    OVR_CHECK(ovr_is_ours(inherited[i]));
    sparse_fill(inherited[i], inherited_size(i), i);
  }
  fflush(stdout);
  pid_t child = fork();
  if (child == 0) {
    size_t errors = 0;
    for (size_t i = 0; i < INHERITED_COUNT; i++) {
      if (!sparse_verify(inherited[i], inherited_size(i), i)) errors++;
      if (i % 2 == 0) { free(inherited[i]); inherited[i] = NULL; }
      else sparse_fill(inherited[i], inherited_size(i), i + 1000000);   // scribble on our copy
    }
    int status = child_work(1, true);
    for (size_t i = 1; i < INHERITED_COUNT; i += 2) {
      if (!sparse_verify(inherited[i], inherited_size(i), i + 1000000)) errors++;
      free(inherited[i]);
    }
    _exit(errors == 0 ? status : 1);
  }
  OVR_CHECK(child > 0);
  if (child > 0) check_child_status(child, "quiet fork", 0);
  size_t damaged = 0;
  for (size_t i = 0; i < INHERITED_COUNT; i++) {
    if (!sparse_verify(inherited[i], inherited_size(i), i)) damaged++;
    free(inherited[i]);
  }
  OVR_CHECKF(damaged == 0, "%zu parent blocks changed by the child", damaged);
}

static atomic_bool workers_stop;
static atomic_size_t worker_rounds;

static void* worker_main(void* arg) {
  uintptr_t seed = (uintptr_t)arg;
  size_t errors = 0;
  while (!atomic_load_explicit(&workers_stop, memory_order_relaxed)) {
    errors += churn(seed++, 2000);
    atomic_fetch_add_explicit(&worker_rounds, 1, memory_order_relaxed);
  }
  return (void*)(uintptr_t)errors;
}

static void phase_busy_fork(void) {
  pthread_t workers[2];
  for (uintptr_t t = 0; t < 2; t++) {
    OVR_CHECK(pthread_create(&workers[t], NULL, &worker_main, (void*)(uintptr_t)(1000 + t * 100000)) == 0);
  }
  for (size_t round = 0; round < FORK_ROUNDS; round++) {
    // let the workers get going between forks
    size_t seen = atomic_load_explicit(&worker_rounds, memory_order_relaxed);
    while (atomic_load_explicit(&worker_rounds, memory_order_relaxed) < seen + 1) usleep(100);
    fflush(stdout);
    pid_t child = fork();
    if (child == 0) {
      _exit(child_work(round + 7, round % 5 == 0));
    }
    OVR_CHECK(child > 0);
    if (child > 0) check_child_status(child, "busy fork", round);
  }
  atomic_store(&workers_stop, true);
  for (int t = 0; t < 2; t++) {
    void* result = NULL;
    pthread_join(workers[t], &result);
    OVR_CHECKF(result == NULL, "worker %d saw %zu errors", t, (size_t)(uintptr_t)result);
  }
}

int main(void) {
  ovr_init("override-fork");
  phase_quiet_fork();
  phase_busy_fork();
  printf("override-fork: 1 quiet fork (+1 grandchild), %d forks under load, %zu worker rounds\n",
         FORK_ROUNDS, atomic_load(&worker_rounds));
  return ovr_summary("override-fork");
}

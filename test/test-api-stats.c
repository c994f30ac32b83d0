/* ----------------------------------------------------------------------------
API test: statistics and hooks.

Statistics:
 1. mi_stats_print_out with a capturing output function prints a table whose
    rows reflect what the test allocated; mi_stats_print(NULL) goes to the
    registered output function;
 2. mi_stats_reset clears the counters; mi_stats_merge moves this thread's
    counts into the process totals; a thread's counts arrive when it exits;
 3. mi_thread_stats_print_out shows this thread's own counts;
 4. mi_stats_get fills in the version and plausible numbers (a freed huge
    block leaves the current huge bytes), and copies no more than it is
    asked to;
 5. mi_stats_get_json gives a JSON object (allocated, freed with mi_free, or
    into a caller's buffer);
 6. mi_process_info: RSS > 0, peak >= current, elapsed time counts from
    process start;
 7. MIMALLOC_SHOW_STATS=1 prints the table at exit (child process).
Hooks:
 8. mi_register_output captures messages, NULL restores the default;
 9. mi_register_error is called with ENOMEM (and its argument) when an
    allocation is impossible;
10. mi_register_deferred_free is called from allocation slow paths with an
    increasing heartbeat, with force on mi_collect(true), and not after it
    was unregistered.
-----------------------------------------------------------------------------*/
#define _GNU_SOURCE
#include <mimalloc.h>
#include <mimalloc-stats.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test-common.h"

extern char** environ;

// Per-block counts (normal blocks, bytes requested, per-bin bytes) are kept
// only by libraries built with MI_DEBUG > 0 (as in mimalloc 2.x); huge
// blocks, threads and OS memory are always counted. The build passes the
// library's MI_DEBUG level to the tests.
#if defined(MI_DEBUG) && (MI_DEBUG > 0)
#define MI_TEST_BLOCK_STATS 1
#else
#define MI_TEST_BLOCK_STATS 0
#endif

// ---------------------------------------------------------------------------
// Output capture (static buffer: the callback must not allocate)
// ---------------------------------------------------------------------------
typedef struct capture_s {
  char text[64 * 1024];
  size_t len;
  size_t calls;
} capture_t;

static capture_t capture;

static void capture_output(const char* msg, void* arg) {
  capture_t* c = (capture_t*)arg;
  c->calls++;
  size_t n = strlen(msg);
  if (c->len + n >= sizeof(c->text)) n = sizeof(c->text) - 1 - c->len;
  memcpy(c->text + c->len, msg, n);
  c->len += n;
  c->text[c->len] = 0;
}

static void capture_reset(void) {
  capture.len = 0;
  capture.calls = 0;
  capture.text[0] = 0;
}

// The last number on the first line that starts with `row` (after spaces), or -1.
static double table_row_last_number(const char* text, const char* row) {
  const char* line = text;
  while (line != NULL && *line != 0) {
    const char* start = line;
    while (*start == ' ') start++;
    const char* end = strchr(line, '\n');
    if (strncmp(start, row, strlen(row)) == 0) {
      const char* stop = (end != NULL ? end : line + strlen(line));
      const char* p = stop;
      while (p > start && (p[-1] == ' ' || p[-1] == 'B' || p[-1] == 'i' || p[-1] == 'K' || p[-1] == 'M' ||
                           p[-1] == 'G' || p[-1] == 'k')) {
        p--;
      }
      const char* q = p;
      while (q > start && ((q[-1] >= '0' && q[-1] <= '9') || q[-1] == '.')) q--;
      if (q == p) return -1;
      return strtod(q, NULL);
    }
    line = (end != NULL ? end + 1 : NULL);
  }
  return -1;
}

// ---------------------------------------------------------------------------
// 1-3. printing, reset, merge
// ---------------------------------------------------------------------------
static void* stats_thread(void* arg) {
  (void)arg;
  for (int i = 0; i < 1000; i++) mi_free(mi_malloc(100));
  for (int i = 0; i < 2; i++) mi_free(mi_malloc(20 * MI_TEST_MIB));
  return NULL;
}

static void test_print_reset_merge(void) {
  mi_stats_reset();
  enum { N = 500 };
  static void* blocks[N];
  for (size_t i = 0; i < N; i++) blocks[i] = mi_malloc(64);
  void* huge = mi_malloc(20 * MI_TEST_MIB);

  // This thread's own table first (printing the process table merges it away).
  capture_reset();
  mi_thread_stats_print_out(&capture_output, &capture);
  CHECK(capture.calls > 0);
  double thread_blocks = table_row_last_number(capture.text, "normal blocks");
  double thread_huge = table_row_last_number(capture.text, "huge blocks");
  if (MI_TEST_BLOCK_STATS) {
    CHECKF(thread_blocks >= N, "thread table: normal blocks %.0f, expected >= %d\n%s", thread_blocks, N, capture.text);
  }
  CHECKF(thread_huge >= 1, "thread table: huge blocks %.0f\n%s", thread_huge, capture.text);

  capture_reset();
  mi_stats_print_out(&capture_output, &capture);
  CHECK(capture.calls > 0 && capture.len > 200);
  CHECK(strstr(capture.text, "current") != NULL && strstr(capture.text, "peak") != NULL);
  CHECK(strstr(capture.text, "total") != NULL);
  double normal_blocks = table_row_last_number(capture.text, "normal blocks");
  double huge_blocks = table_row_last_number(capture.text, "huge blocks");
  if (MI_TEST_BLOCK_STATS) CHECKF(normal_blocks >= N, "normal blocks %.0f, expected >= %d", normal_blocks, N);
  CHECKF(huge_blocks >= 1, "huge blocks %.0f", huge_blocks);
  CHECK(strstr(capture.text, "process rss") != NULL || strstr(capture.text, "rss") != NULL);

  // mi_stats_print(NULL) uses the registered output function.
  capture_reset();
  mi_register_output(&capture_output, &capture);
  mi_stats_print(NULL);
  mi_register_output(NULL, NULL);
  CHECK(capture.len > 200 && strstr(capture.text, "huge blocks") != NULL);
  for (size_t i = 0; i < N; i++) mi_free(blocks[i]);
  mi_free(huge);

  // Reset: the totals start again from zero.
  mi_stats_reset();
  mi_stats_t stats;
  memset(&stats, 0, sizeof(stats));
  mi_stats_get(sizeof(stats), &stats);
  CHECKF(stats.malloc_normal_count.total < 50, "after reset: %lld normal blocks",
         (long long)stats.malloc_normal_count.total);
  CHECKF(stats.malloc_huge_count.total == 0, "after reset: %lld huge blocks", (long long)stats.malloc_huge_count.total);

  // Merge: this thread's counts move to the process totals.
  for (size_t i = 0; i < 300; i++) mi_free(mi_malloc(32));
  for (size_t i = 0; i < 3; i++) mi_free(mi_malloc(20 * MI_TEST_MIB));
  mi_stats_merge();
  capture_reset();
  mi_thread_stats_print_out(&capture_output, &capture);
  double after_merge = table_row_last_number(capture.text, "normal blocks");
  double huge_after_merge = table_row_last_number(capture.text, "huge blocks");
  CHECKF(after_merge >= 0 && after_merge < 10, "thread table after merge: %.0f normal blocks", after_merge);
  CHECKF(huge_after_merge == 0, "thread table after merge: %.0f huge blocks", huge_after_merge);
  mi_stats_get(sizeof(stats), &stats);
  if (MI_TEST_BLOCK_STATS) {
    CHECKF(stats.malloc_normal_count.total >= 300, "process normal blocks %lld after merge",
           (long long)stats.malloc_normal_count.total);
  }
  CHECKF(stats.malloc_huge_count.total >= 3, "process huge blocks %lld after merge",
         (long long)stats.malloc_huge_count.total);

  // Another thread's counts arrive when it exits.
  long long before = stats.malloc_normal_count.total;
  long long huge_before = stats.malloc_huge_count.total;
  pthread_t t;
  CHECK(pthread_create(&t, NULL, &stats_thread, NULL) == 0);
  pthread_join(t, NULL);
  mi_stats_get(sizeof(stats), &stats);
  if (MI_TEST_BLOCK_STATS) {
    CHECKF(stats.malloc_normal_count.total >= before + 1000, "after a thread's exit: %lld, before %lld",
           (long long)stats.malloc_normal_count.total, before);
  }
  CHECKF(stats.malloc_huge_count.total >= huge_before + 2, "after a thread's exit: %lld huge, before %lld",
         (long long)stats.malloc_huge_count.total, huge_before);
  CHECK(stats.threads.peak >= 1);
  printf("stats: %.0f normal blocks printed, %.0f huge; %lld after merge and a thread\n", normal_blocks, huge_blocks,
         (long long)stats.malloc_normal_count.total);
}

// ---------------------------------------------------------------------------
// 4-5. mi_stats_get, JSON
// ---------------------------------------------------------------------------
static void test_get_and_json(void) {
  void* keep = mi_malloc(1000);
  void* keep_huge = mi_malloc(20 * MI_TEST_MIB);
  mi_stats_t stats;
  memset(&stats, 0xEE, sizeof(stats));
  mi_stats_get(sizeof(stats), &stats);
  CHECK(stats.version == MI_STAT_VERSION);
  // (Counts since the last mi_stats_reset: `current` may even be negative.)
  CHECK(stats.reserved.peak >= stats.reserved.current);
  CHECK(stats.committed.peak >= stats.committed.current);
  CHECK(stats.malloc_normal.peak >= stats.malloc_normal.current);
  if (MI_TEST_BLOCK_STATS) CHECK(stats.malloc_normal.total >= 1000 && stats.malloc_normal_count.total >= 1);
  CHECK(stats.malloc_huge_count.total >= 1 && stats.malloc_huge.current >= 20 * (long long)MI_TEST_MIB);
  // Freeing a huge block takes its bytes out of `current` again.
  long long huge_current = stats.malloc_huge.current;
  void* extra_huge = mi_malloc(24 * MI_TEST_MIB);
  CHECK(extra_huge != NULL);
  mi_free(extra_huge);
  mi_stats_get(sizeof(stats), &stats);
  CHECKF(stats.malloc_huge.current == huge_current, "huge bytes current %lld after an alloc and free, before %lld",
         (long long)stats.malloc_huge.current, huge_current);
  // Only the requested prefix is written.
  mi_stats_t partial;
  memset(&partial, 0xEE, sizeof(partial));
  mi_stats_get(sizeof(int), &partial);
  CHECK(partial.version == MI_STAT_VERSION);
  const uint8_t* bytes = (const uint8_t*)&partial;
  bool untouched = true;
  for (size_t i = sizeof(partial) - 64; i < sizeof(partial); i++) untouched = untouched && (bytes[i] == 0xEE);
  CHECK(untouched);
  mi_stats_get(0, NULL); // harmless

  char* json = mi_stats_get_json(0, NULL);
  CHECK(json != NULL);
  if (json != NULL) {
    size_t len = strlen(json);
    CHECK(len > 100);
    size_t first = 0;
    while (json[first] == ' ' || json[first] == '\n') first++;
    size_t last = len;
    while (last > 0 && (json[last - 1] == ' ' || json[last - 1] == '\n')) last--;
    CHECK(json[first] == '{' && last > 0 && json[last - 1] == '}');
    long depth = 0, min_depth = 0, quotes = 0;
    for (size_t i = 0; i < len; i++) {
      if (json[i] == '{' || json[i] == '[') depth++;
      if (json[i] == '}' || json[i] == ']') depth--;
      if (json[i] == '"') quotes++;
      if (depth < min_depth) min_depth = depth;
    }
    CHECK(depth == 0 && min_depth == 0 && quotes % 2 == 0);
    CHECK(strstr(json, "\"version\"") != NULL);
    CHECK(strstr(json, "\"reserved\"") != NULL);
    CHECK(mi_usable_size(json) > len); // allocated by us
    mi_free(json);
  }
  static char buf[128 * 1024];
  char* in_buf = mi_stats_get_json(sizeof(buf), buf);
  CHECK(in_buf == buf && strstr(buf, "\"version\"") != NULL);
  char tiny[16];
  char* in_tiny = mi_stats_get_json(sizeof(tiny), tiny);
  CHECK(in_tiny == tiny && strlen(tiny) < sizeof(tiny)); // truncated, still terminated
  mi_free(keep);
  mi_free(keep_huge);
}

// ---------------------------------------------------------------------------
// 6. process info
// ---------------------------------------------------------------------------
static void test_process_info(void) {
  size_t elapsed = 0, user = 0, sys = 0, rss = 0, peak_rss = 0, commit = 0, peak_commit = 0, faults = 0;
  mi_process_info(&elapsed, &user, &sys, &rss, &peak_rss, &commit, &peak_commit, &faults);
  CHECK(rss > 0);
  CHECKF(peak_rss >= rss, "peak rss %zu < current rss %zu", peak_rss, rss);
  CHECK(peak_commit >= commit);
  // main() spent at least 150 ms before the first call (see main).
  CHECKF(elapsed >= 100, "elapsed %zu ms since process start", elapsed);
  // Touch 16 MiB: RSS grows.
  uint8_t* p = (uint8_t*)mi_malloc(16 * MI_TEST_MIB);
  if (p != NULL) memset(p, 1, 16 * MI_TEST_MIB);
  size_t rss2 = 0, peak2 = 0, elapsed2 = 0;
  mi_process_info(&elapsed2, NULL, NULL, &rss2, &peak2, NULL, NULL, NULL);
  CHECKF(rss2 >= rss + 8 * MI_TEST_MIB, "rss %zu -> %zu after touching 16 MiB", rss, rss2);
  CHECKF(peak2 >= rss2, "peak rss %zu < current rss %zu", peak2, rss2);
  CHECK(elapsed2 >= elapsed);
  mi_free(p);
  mi_process_info(NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL); // all optional
  printf("process info: rss %zu KiB (peak %zu KiB), elapsed %zu ms\n", rss2 / 1024, peak2 / 1024, elapsed2);
}

// ---------------------------------------------------------------------------
// 7. MIMALLOC_SHOW_STATS=1 at exit
// ---------------------------------------------------------------------------
static int child_main(void) {
  for (int i = 0; i < 1000; i++) mi_free(mi_malloc((size_t)i * 8));
  mi_free(mi_malloc(20 * MI_TEST_MIB));
  return 0;
}

static void test_show_stats_at_exit(const char* self) {
  int err_pipe[2];
  if (pipe(err_pipe) != 0) return;
  char* envp[256];
  size_t n = 0;
  for (char** e = environ; *e != NULL && n < 250; e++) {
    if (strncmp(*e, "MIMALLOC_", 9) != 0) envp[n++] = *e;
  }
  envp[n++] = (char*)"MIMALLOC_SHOW_STATS=1";
  envp[n] = NULL;
  pid_t pid = fork();
  if (pid < 0) return;
  if (pid == 0) {
    dup2(err_pipe[1], STDERR_FILENO);
    close(err_pipe[0]);
    char* argv[] = {(char*)self, (char*)"--child", NULL};
    mi_test_execve(self, argv, envp);
    _exit(127);
  }
  close(err_pipe[1]);
  static char err[64 * 1024];
  size_t used = 0;
  for (;;) {
    ssize_t r = read(err_pipe[0], err + used, sizeof(err) - 1 - used);
    if (r <= 0) break;
    used += (size_t)r;
    if (used + 1 >= sizeof(err)) break;
  }
  err[used] = 0;
  close(err_pipe[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  double blocks = table_row_last_number(err, "normal blocks");
  double huge = table_row_last_number(err, "huge blocks");
  if (MI_TEST_BLOCK_STATS) {
    CHECKF(blocks >= 999, "MIMALLOC_SHOW_STATS=1: normal blocks %.0f in the exit table:\n%.500s", blocks, err);
  }
  CHECKF(huge >= 1, "MIMALLOC_SHOW_STATS=1: huge blocks %.0f in the exit table:\n%.500s", huge, err);
  CHECK(strstr(err, "peak") != NULL);
}

// ---------------------------------------------------------------------------
// 8-10. hooks
// ---------------------------------------------------------------------------
static void test_output_hook(void) {
  capture_reset();
  mi_register_output(&capture_output, &capture);
  mi_option_set(mi_option_verbose, 1);
  mi_options_print();
  mi_option_set(mi_option_verbose, 0);
  mi_register_output(NULL, NULL);
  CHECK(capture.calls > 0 && strstr(capture.text, "purge_delay") != NULL);
  size_t calls = capture.calls;
  // Restored: output no longer arrives here (it goes to stderr).
  mi_options_print();
  CHECK(capture.calls == calls);
}

typedef struct error_log_s {
  int count;
  int last_err;
  void* last_arg;
} error_log_t;

static error_log_t error_log;

static void error_handler(int err, void* arg) {
  error_log.count++;
  error_log.last_err = err;
  error_log.last_arg = arg;
}

static void test_error_hook(void) {
  mi_register_error(&error_handler, &error_log);
  errno = 0;
  void* p = mi_malloc(mi_test_opaque_size(SIZE_MAX));
  CHECK(p == NULL && errno == ENOMEM);
  CHECKF(error_log.count >= 1 && error_log.last_err == ENOMEM, "handler: %d calls, last error %d", error_log.count,
         error_log.last_err);
  CHECK(error_log.last_arg == &error_log);
  int count = error_log.count;
  void* q = mi_malloc_aligned(100, mi_test_opaque_size(3)); // not a power of two
  CHECK(q == NULL);
  CHECK(error_log.count >= count); // (reported or not, the handler survives)
  mi_register_error(NULL, NULL);
  count = error_log.count;
  p = mi_malloc(mi_test_opaque_size(SIZE_MAX));
  CHECK(p == NULL && error_log.count == count);
}

typedef struct deferred_log_s {
  size_t calls;
  size_t forced;
  unsigned long long last_heartbeat;
  bool heartbeat_decreased;
  void* arg_seen;
} deferred_log_t;

static deferred_log_t deferred_log;

static void deferred_free(bool force, unsigned long long heartbeat, void* arg) {
  deferred_log.calls++;
  if (force) deferred_log.forced++;
  if (heartbeat < deferred_log.last_heartbeat) deferred_log.heartbeat_decreased = true;
  deferred_log.last_heartbeat = heartbeat;
  deferred_log.arg_seen = arg;
}

static void test_deferred_hook(void) {
  mi_register_deferred_free(&deferred_free, &deferred_log);
  // Plenty of slow-path work: fresh pages of many sizes.
  enum { N = 20000 };
  static void* blocks[N];
  for (size_t i = 0; i < N; i++) blocks[i] = mi_malloc(16 + (i % 200) * 24);
  for (size_t i = 0; i < N; i++) mi_free(blocks[i]);
  CHECKF(deferred_log.calls > 0, "deferred free called %zu times", deferred_log.calls);
  CHECK(deferred_log.arg_seen == &deferred_log);
  CHECK(!deferred_log.heartbeat_decreased);
  size_t forced = deferred_log.forced;
  mi_collect(true);
  CHECK(deferred_log.forced > forced);
  mi_register_deferred_free(NULL, NULL);
  size_t calls = deferred_log.calls;
  for (size_t i = 0; i < N; i++) blocks[i] = mi_malloc(16 + (i % 200) * 24);
  for (size_t i = 0; i < N; i++) mi_free(blocks[i]);
  mi_collect(true);
  CHECK(deferred_log.calls == calls);
  printf("hooks: deferred free called %zu times (%zu forced), last heartbeat %llu\n", deferred_log.calls,
         deferred_log.forced, deferred_log.last_heartbeat);
}

int main(int argc, char** argv) {
  if (argc == 2 && strcmp(argv[1], "--child") == 0) return child_main();
  struct timespec pause = {0, 150 * 1000 * 1000};
  nanosleep(&pause, NULL); // so elapsed time since process start is measurable
  test_process_info();
  test_print_reset_merge();
  test_get_and_json();
  test_show_stats_at_exit(argv[0]);
  test_output_hook();
  test_error_hook();
  test_deferred_hook();
  return mi_test_summary("test-api-stats");
}

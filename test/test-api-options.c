/* ----------------------------------------------------------------------------
API test: runtime options.

 1. the numeric values of mi_option_t (binary interface with mimalloc 2.x)
    and the old alias names;
 2. a few documented defaults;
 3. every option through every call: get, set, set_default (ignored once
    set), enable/disable/set_enabled/set_enabled_default, is_enabled,
    get_clamp, get_size (KiB for the two size options, bytes otherwise);
    out-of-range options are ignored;
 4. mi_options_print lists the options through the output function;
 5. MIMALLOC_* environment parsing, each case in a child process (this
    program re-run with `--child <option>`): numbers, negative numbers,
    yes/On/OFF/TRUE/no/empty, size suffixes, the legacy name of an option,
    and a malformed value (warning containing "invalid", default kept);
    set_default after an environment value leaves the environment's value.
-----------------------------------------------------------------------------*/
#define _GNU_SOURCE
#include <mimalloc.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test-common.h"

extern char** environ;

// ---------------------------------------------------------------------------
// 1. enumerator values
// ---------------------------------------------------------------------------
static void test_enum_values(void) {
  CHECK(mi_option_show_errors == 0);
  CHECK(mi_option_show_stats == 1);
  CHECK(mi_option_verbose == 2);
  CHECK(mi_option_eager_commit == 3);
  CHECK(mi_option_reserve_huge_os_pages == 7);
  CHECK(mi_option_reserve_os_memory == 9);
  CHECK(mi_option_purge_delay == 15);
  CHECK(mi_option_disallow_os_alloc == 17);
  CHECK(mi_option_max_errors == 19);
  CHECK(mi_option_destroy_on_exit == 22);
  CHECK(mi_option_arena_reserve == 23);
  CHECK(mi_option_abandoned_reclaim_on_free == 26);
  CHECK(mi_option_disallow_arena_alloc == 27);
  CHECK(mi_option_visit_abandoned == 29);
  CHECK(mi_option_target_segments_per_thread == 35);
  CHECK(mi_option_generic_collect == 36);
  CHECK(mi_option_allow_thp == 37);
  CHECK(_mi_option_last == 38);
  CHECK(mi_option_large_os_pages == mi_option_allow_large_os_pages);
  CHECK(mi_option_eager_region_commit == mi_option_arena_eager_commit);
  CHECK(mi_option_reset_decommits == mi_option_purge_decommits);
  CHECK(mi_option_reset_delay == mi_option_purge_delay);
  CHECK(mi_option_abandoned_page_reset == mi_option_abandoned_page_purge);
  CHECK(mi_option_limit_os_alloc == mi_option_disallow_os_alloc);
}

// ---------------------------------------------------------------------------
// 2. defaults (as documented for mimalloc 2.x)
// ---------------------------------------------------------------------------
static void test_defaults(void) {
  CHECK(mi_option_get(mi_option_show_stats) == 0);
  CHECK(mi_option_get(mi_option_verbose) == 0);
  CHECK(mi_option_get(mi_option_purge_delay) == 10);
  CHECK(mi_option_get(mi_option_reserve_huge_os_pages_at) == -1);
  CHECK(mi_option_get(mi_option_reserve_os_memory) == 0);
  CHECK(mi_option_get(mi_option_max_errors) == 32);
  CHECK(mi_option_get(mi_option_max_warnings) == 32);
  CHECK(mi_option_get(mi_option_arena_reserve) == 1024L * 1024L); // KiB: 1 GiB
  CHECK(mi_option_get_size(mi_option_arena_reserve) == (size_t)1 << 30);
  CHECK(mi_option_get(mi_option_visit_abandoned) == 0);
  CHECK(mi_option_get(mi_option_disallow_os_alloc) == 0);
  CHECK(mi_option_get(mi_option_generic_collect) == 10000);
}

// ---------------------------------------------------------------------------
// 3. every call on every option
// ---------------------------------------------------------------------------
static bool option_size_in_kib(mi_option_t option) {
  return (option == mi_option_reserve_os_memory || option == mi_option_arena_reserve);
}

static void test_every_option(void) {
  // Nothing below allocates between changing an option and restoring it.
  for (int i = 0; i < _mi_option_last; i++) {
    mi_option_t o = (mi_option_t)i;
    long saved = mi_option_get(o);
    mi_option_set(o, 4321);
    CHECKF(mi_option_get(o) == 4321, "option %d", i);
    CHECKF(mi_option_is_enabled(o), "option %d", i);
    CHECKF(mi_option_get_clamp(o, 0, 100) == 100, "option %d", i);
    CHECKF(mi_option_get_clamp(o, 5000, 6000) == 5000, "option %d", i);
    CHECKF(mi_option_get_clamp(o, 0, 10000) == 4321, "option %d", i);
    size_t expected_size = option_size_in_kib(o) ? (size_t)4321 * 1024 : 4321;
    CHECKF(mi_option_get_size(o) == expected_size, "option %d: get_size %zu, expected %zu", i, mi_option_get_size(o),
           expected_size);
    mi_option_set_default(o, 77); // already set explicitly: no effect
    CHECKF(mi_option_get(o) == 4321, "option %d", i);
    mi_option_set_enabled_default(o, false); // likewise
    CHECKF(mi_option_get(o) == 4321, "option %d", i);
    mi_option_disable(o);
    CHECKF(mi_option_get(o) == 0 && !mi_option_is_enabled(o), "option %d", i);
    CHECKF(mi_option_get_size(o) == 0, "option %d", i);
    mi_option_enable(o);
    CHECKF(mi_option_get(o) == 1 && mi_option_is_enabled(o), "option %d", i);
    mi_option_set_enabled(o, false);
    CHECKF(!mi_option_is_enabled(o), "option %d", i);
    mi_option_set_enabled(o, true);
    CHECKF(mi_option_get(o) == 1, "option %d", i);
    mi_option_set(o, -5);
    CHECKF(mi_option_get(o) == -5 && mi_option_is_enabled(o), "option %d", i);
    CHECKF(mi_option_get_size(o) == 0, "option %d: negative sizes read as 0", i);
    CHECKF(mi_option_get_clamp(o, -2, 2) == -2, "option %d", i);
    mi_option_set(o, saved);
    CHECKF(mi_option_get(o) == saved, "option %d", i);
  }
  // Out of range: ignored, reads as 0.
  mi_option_set((mi_option_t)_mi_option_last, 5);
  mi_option_set((mi_option_t)1000, 5);
  mi_option_set_default((mi_option_t)-1, 5);
  CHECK(mi_option_get((mi_option_t)_mi_option_last) == 0);
  CHECK(mi_option_get((mi_option_t)-1) == 0);
  CHECK(!mi_option_is_enabled((mi_option_t)1000));
  CHECK(mi_option_get_size((mi_option_t)1000) == 0);
  printf("options: %d options through set/get/default/enable/clamp/size\n", (int)_mi_option_last);
}

// ---------------------------------------------------------------------------
// 4. mi_options_print
// ---------------------------------------------------------------------------
static void test_options_print(void) {
  mi_test_capture_begin();
  mi_options_print();
  mi_test_capture_end();
  CHECK(strstr(mi_test_captured(), "purge_delay") != NULL);
  CHECK(strstr(mi_test_captured(), "show_errors") != NULL);
  CHECK(strstr(mi_test_captured(), "generic_collect") != NULL);
  CHECK(strstr(mi_test_captured(), "2.") != NULL); // the version
}

// ---------------------------------------------------------------------------
// 5. environment parsing in child processes
// ---------------------------------------------------------------------------
typedef struct child_result_s {
  int status;
  long value;
  size_t size;
  char err[8192];
} child_result_t;

static void read_all(int fd, char* buf, size_t size) {
  size_t used = 0;
  for (;;) {
    if (used + 1 >= size) { // keep draining so the child never blocks
      char sink[256];
      if (read(fd, sink, sizeof(sink)) <= 0) break;
      continue;
    }
    ssize_t n = read(fd, buf + used, size - 1 - used);
    if (n <= 0) break;
    used += (size_t)n;
  }
  buf[used] = 0;
}

// Run `self --child <option>` with `env` added to (a copy of) the environment,
// without any MIMALLOC_ variable of ours leaking in.
static void run_child(const char* self, mi_option_t option, const char* const* env, child_result_t* result) {
  memset(result, 0, sizeof(*result));
  result->status = -1;
  char* envp[256];
  size_t n = 0;
  for (char** e = environ; *e != NULL && n < 200; e++) {
    if (strncmp(*e, "MIMALLOC_", 9) != 0) envp[n++] = *e;
  }
  for (size_t i = 0; env[i] != NULL && n < 250; i++) envp[n++] = (char*)env[i];
  envp[n] = NULL;
  char option_text[16];
  snprintf(option_text, sizeof(option_text), "%d", (int)option);
  int out_pipe[2], err_pipe[2];
  if (pipe(out_pipe) != 0 || pipe(err_pipe) != 0) return;
  pid_t pid = fork();
  if (pid < 0) return;
  if (pid == 0) {
    dup2(out_pipe[1], STDOUT_FILENO);
    dup2(err_pipe[1], STDERR_FILENO);
    close(out_pipe[0]);
    close(err_pipe[0]);
    char* argv[] = {(char*)self, (char*)"--child", option_text, NULL};
    mi_test_execve(self, argv, envp);
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  // The child writes little to stdout; read stderr fully first, then stdout.
  char out[256];
  read_all(err_pipe[0], result->err, sizeof(result->err));
  read_all(out_pipe[0], out, sizeof(out));
  close(out_pipe[0]);
  close(err_pipe[0]);
  int status = 0;
  if (waitpid(pid, &status, 0) == pid && WIFEXITED(status)) result->status = WEXITSTATUS(status);
  if (sscanf(out, "value=%ld size=%zu", &result->value, &result->size) != 2) result->status = -2;
}

static int child_main(int option) {
  mi_option_t o = (mi_option_t)option;
  long value = mi_option_get(o);
  // An environment value counts as set: set_default must not replace it.
  mi_option_set_default(o, value + 1000);
  if (mi_option_get(o) != value && getenv("MI_TEST_EXPECT_DEFAULTED") == NULL) {
    fprintf(stderr, "child: set_default replaced the environment value\n");
    return 3;
  }
  mi_option_set(o, value); // (restores a defaulted option too)
  printf("value=%ld size=%zu\n", value, mi_option_get_size(o));
  return 0;
}

typedef struct env_case_s {
  mi_option_t option;
  const char* env[4];
  long value;            // expected mi_option_get
  size_t size;           // expected mi_option_get_size (SIZE_MAX: not checked)
  const char* err_has;   // expected in the child's stderr (or NULL)
  bool defaulted;        // the value is the default (set_default may change it)
} env_case_t;

static void test_environment(const char* self) {
  const env_case_t cases[] = {
    {mi_option_purge_delay, {"MIMALLOC_PURGE_DELAY=250", NULL}, 250, 250, NULL, false},
    {mi_option_purge_delay, {"MIMALLOC_PURGE_DELAY=-1", NULL}, -1, 0, NULL, false},
    {mi_option_verbose, {"MIMALLOC_VERBOSE=yes", NULL}, 1, 1, NULL, false},
    {mi_option_show_stats, {"MIMALLOC_SHOW_STATS=OFF", NULL}, 0, 0, NULL, false},
    {mi_option_show_errors, {"MIMALLOC_SHOW_ERRORS=On", NULL}, 1, 1, NULL, false},
    {mi_option_abandoned_reclaim_on_free, {"MIMALLOC_ABANDONED_RECLAIM_ON_FREE=TRUE", NULL}, 1, 1, NULL, false},
    {mi_option_destroy_on_exit, {"MIMALLOC_DESTROY_ON_EXIT=no", NULL}, 0, 0, NULL, false},
    {mi_option_visit_abandoned, {"MIMALLOC_VISIT_ABANDONED=", NULL}, 1, 1, NULL, false}, // empty means on
    {mi_option_reserve_os_memory, {"MIMALLOC_RESERVE_OS_MEMORY=4MiB", NULL}, 4096, 4 * MI_TEST_MIB, NULL, false},
    {mi_option_arena_reserve, {"MIMALLOC_ARENA_RESERVE=1GiB", NULL}, 1024L * 1024L, (size_t)1 << 30, NULL, false},
    {mi_option_arena_reserve, {"MIMALLOC_ARENA_RESERVE=512k", NULL}, 512, 512 * 1024, NULL, false},
    {mi_option_arena_reserve, {"MIMALLOC_ARENA_RESERVE=8mb", NULL}, 8192, 8 * MI_TEST_MIB, NULL, false},
    {mi_option_arena_reserve, {"MIMALLOC_ARENA_RESERVE=300", NULL}, 300, 300 * 1024, NULL, false},
    {mi_option_purge_delay, {"MIMALLOC_RESET_DELAY=77", NULL}, 77, 77, NULL, false}, // legacy name
    {mi_option_purge_delay,
     {"MIMALLOC_PURGE_DELAY=abc", "MIMALLOC_SHOW_ERRORS=1", NULL},
     10,
     10,
     "invalid",
     true},
    {mi_option_max_errors, {"MIMALLOC_MAX_ERRORS=12x", "MIMALLOC_SHOW_ERRORS=1", NULL}, 32, 32, "invalid", true},
  };
  size_t passed = 0;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    const env_case_t* c = &cases[i];
    const char* env[6];
    size_t n = 0;
    for (size_t k = 0; c->env[k] != NULL; k++) env[n++] = c->env[k];
    if (c->defaulted) env[n++] = "MI_TEST_EXPECT_DEFAULTED=1";
    env[n] = NULL;
    child_result_t r;
    run_child(self, c->option, env, &r);
    bool ok = (r.status == 0 && r.value == c->value && (c->size == SIZE_MAX || r.size == c->size) &&
               (c->err_has == NULL || strstr(r.err, c->err_has) != NULL));
    CHECKF(ok, "%s: status %d, value %ld (expected %ld), size %zu (expected %zu), stderr: %.300s", c->env[0], r.status,
           r.value, c->value, r.size, c->size, r.err);
    passed += ok;
  }
  printf("environment: %zu of %zu cases parsed as expected\n", passed, sizeof(cases) / sizeof(cases[0]));
}

int main(int argc, char** argv) {
  if (argc == 3 && strcmp(argv[1], "--child") == 0) return child_main(atoi(argv[2]));
  test_enum_values();
  test_defaults();
  test_every_option();
  test_options_print();
  test_environment(argv[0]);
  return mi_test_summary("test-api-options");
}

/* ----------------------------------------------------------------------------
mimalloc-inspect on input it cannot inspect: a clear message on stderr and
exit status 2, never a crash (label `inspect`).

  - a missing file, an empty file, a file that is not ELF
  - a gcore dump of this allocator's workload cut to half its size
  - a gcore dump of a process without this allocator (`sleep`)
  - a pid with no process, a process that has exited but is not reaped
  - a process killed while the inspector reads it (six timings): each
    run ends with a complete report (exit 0) or exit 2 and a message
-----------------------------------------------------------------------------*/
#include <time.h>
#include <mimalloc.h>
#include "test-inspect-common.h"

// Run the inspector on `args`; require exit 2 with `message` in its stderr.
static void expect_error(const char* what, const char* inspector, const char* arg1, const char* arg2,
                         const char* message, const char* dir) {
  char out[512], err[512];
  snprintf(out, sizeof(out), "%s/out", dir);
  snprintf(err, sizeof(err), "%s/err", dir);
  char* argv[] = {(char*)inspector, (char*)arg1, (char*)arg2, NULL};
  int rc = mi_run(argv, out, err);
  char* text = mi_read_file(err);
  printf("%-34s exit %d: %s", what, rc, (text != NULL && text[0] != 0 ? text : "(no message)\n"));
  EXPECT(rc == 2, "%s: exit %d, expected 2", what, rc);
  EXPECT(text != NULL && strstr(text, message) != NULL, "%s: message lacks '%s'", what, message);
  free(text);
}

static void write_file(const char* path, const char* content, size_t size) {
  FILE* f = fopen(path, "w");
  if (f != NULL) {
    fwrite(content, 1, size, f);
    fclose(f);
  }
}

static int workload(long blocks) {
  // Enough blocks to spread over many pages and segments, so that reading takes a while.
  for (long i = 0; i < blocks; i++) {
    void* volatile p = mi_malloc((size_t)(16 + (i % 64) * 16));
    (void)p;
  }
  if (write(1, "ready\n", 6) != 6)
    return 3;
  mi_workload_wait_for_driver();
  return 0;
}

static pid_t start_waiting(mi_child_t* child, char* self, const char* blocks) {
  char* argv[] = {self, "--workload", (char*)blocks, NULL};
  char line[64];
  if (!mi_child_start(child, argv) || fgets(line, sizeof(line), child->from_child) == NULL)
    return 0;
  return child->pid;
}

int main(int argc, char** argv) {
  if (argc == 3 && strcmp(argv[1], "--workload") == 0)
    return workload(atol(argv[2]));
  if (argc != 2) {
    fprintf(stderr, "usage: test-inspect-badinput INSPECTOR\n");
    return 2;
  }
  const char* inspector = argv[1];
  char dir[256], path[512], core[4300];
  mi_scratch_dir(dir, sizeof(dir), "test-inspect-badinput");

  // Files that are no core.
  snprintf(path, sizeof(path), "%s/missing", dir);
  expect_error("missing file", inspector, path, NULL, "cannot open", dir);
  snprintf(path, sizeof(path), "%s/empty", dir);
  write_file(path, "", 0);
  expect_error("empty file", inspector, path, NULL, "not a core file", dir);
  snprintf(path, sizeof(path), "%s/text", dir);
  const char* text = "This is not an ELF file but plain text, longer than an ELF file header is.\n";
  write_file(path, text, strlen(text));
  expect_error("text file", inspector, path, NULL, "not a 64-bit ELF core file", dir);

  // A truncated core of this allocator's workload.
  mi_child_t child;
  pid_t pid = start_waiting(&child, argv[0], "20000");
  EXPECT(pid != 0, "the workload did not start");
  if (pid != 0 && mi_gcore(pid, dir, core, sizeof(core))) {
    struct stat st;
    EXPECT(stat(core, &st) == 0 && truncate(core, st.st_size / 2) == 0, "cannot truncate the core");
    expect_error("truncated core", inspector, core, NULL, "truncated", dir);
    unlink(core);
  }
  if (pid != 0)
    mi_child_finish(&child);

  // A core of a process that does not use this allocator.
  pid_t sleeper = fork();
  if (sleeper == 0) {
    execlp("sleep", "sleep", "60", (char*)NULL);
    _exit(127);
  }
  struct timespec pause = {0, 200 * 1000 * 1000};
  nanosleep(&pause, NULL);
  if (mi_gcore(sleeper, dir, core, sizeof(core))) {
    expect_error("core without this allocator", inspector, core, NULL, "does not use libmimalloc", dir);
    unlink(core);
  } else {
    EXPECT(false, "gcore of sleep failed");
  }
  char pid_text[32];
  snprintf(pid_text, sizeof(pid_text), "%d", (int)sleeper);
  expect_error("live process without this allocator", inspector, "--pid", pid_text, "does not use libmimalloc",
               dir);

  // Processes that are gone.
  kill(sleeper, SIGKILL);
  nanosleep(&pause, NULL); // a zombie now: exited, not yet reaped
  expect_error("exited (zombie) process", inspector, "--pid", pid_text, "has exited", dir);
  waitpid(sleeper, NULL, 0);
  expect_error("pid without a process", inspector, "--pid", pid_text, "no process", dir);

  // Killed while being read: whichever moment the kill lands, a report or a clean error.
  int reports = 0, errors = 0;
  for (int run = 0; run < 6; run++) {
    pid = start_waiting(&child, argv[0], "200000");
    if (pid == 0) {
      EXPECT(false, "the workload did not start");
      break;
    }
    snprintf(pid_text, sizeof(pid_text), "%d", (int)pid);
    char out[512], err[512];
    snprintf(out, sizeof(out), "%s/out", dir);
    snprintf(err, sizeof(err), "%s/err", dir);
    pid_t tool = fork();
    if (tool == 0) {
      char* tool_argv[] = {(char*)inspector, "--check", "--pid", pid_text, NULL};
      _exit(mi_run(tool_argv, out, err));
    }
    struct timespec delay = {0, run * 30 * 1000 * 1000L}; // reading takes about 0.15 s
    nanosleep(&delay, NULL);
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(tool, &status, 0);
    int rc = (WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    char* text = mi_read_file(err);
    EXPECT(rc == 0 || (rc == 2 && text != NULL && text[0] != 0), "run %d: inspector exit %d (%s)", run, rc,
           text == NULL ? "" : text);
    if (rc == 2)
      printf("killed after %3d ms: exit 2: %s", run * 30, text);
    else
      printf("killed after %3d ms: exit %d (finished first)\n", run * 30, rc);
    reports += (rc == 0);
    errors += (rc == 2);
    free(text);
    mi_child_finish(&child);
  }
  printf("killed while read: %d complete reports, %d clean errors\n", reports, errors);

  if (mi_test_failures == 0)
    mi_scratch_remove(dir);
  printf("test-inspect-badinput: %s (%d failures)\n", (mi_test_failures == 0 ? "PASS" : "FAIL"), mi_test_failures);
  return (mi_test_failures == 0 ? 0 : 1);
}

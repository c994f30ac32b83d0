/* ----------------------------------------------------------------------------
Helpers of the mimalloc-inspect tests (test-inspect-*.c, label `inspect`).

Each test program is both the driver and, started again with `--workload`,
the process that is inspected. The workload reports on its stdout (a pipe to
the driver) and stays alive until the driver closes its stdin. The driver
dumps it with gcore and runs mimalloc-inspect on the core and on the live
process, with stdout captured to a file; it reads the JSON report line by
line (the tool writes one array element per line, see doc/inspect.md).
-----------------------------------------------------------------------------*/
#pragma once
#ifndef MI_TEST_INSPECT_COMMON_H
#define MI_TEST_INSPECT_COMMON_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int mi_test_failures;

#define EXPECT(cond, ...)                                                                                     \
  do {                                                                                                         \
    if (!(cond)) {                                                                                             \
      mi_test_failures++;                                                                                      \
      fprintf(stderr, "%s:%d: FAILED %s: ", __FILE__, __LINE__, #cond);                                     \
      fprintf(stderr, __VA_ARGS__);                                                                            \
      fputc('\n', stderr);                                                                                     \
    }                                                                                                          \
  } while (0)

// A workload child: its stdout is `from_child`, its stdin `to_child`.
typedef struct mi_child_s {
  pid_t pid;
  FILE* from_child;
  int to_child;
} mi_child_t;

// Start `self --workload args...`.
static inline bool mi_child_start(mi_child_t* child, char* const argv[]) {
  int out[2], in[2];
  if (pipe(out) != 0 || pipe(in) != 0)
    return false;
  child->pid = fork();
  if (child->pid < 0)
    return false;
  if (child->pid == 0) {
    dup2(out[1], 1);
    dup2(in[0], 0);
    close(out[0]);
    close(out[1]);
    close(in[0]);
    close(in[1]);
    execv("/proc/self/exe", argv);
    _exit(127);
  }
  close(out[1]);
  close(in[0]);
  child->from_child = fdopen(out[0], "r");
  child->to_child = in[1];
  return (child->from_child != NULL);
}

// Tell the child to finish and collect its exit status (-1 if it died of a signal).
static inline int mi_child_finish(mi_child_t* child) {
  if (child->to_child >= 0)
    close(child->to_child);
  child->to_child = -1;
  int status = 0;
  if (waitpid(child->pid, &status, 0) != child->pid)
    return -1;
  if (child->from_child != NULL)
    fclose(child->from_child);
  child->from_child = NULL;
  return (WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

// The workload's side: block until the driver closes our stdin.
static inline void mi_workload_wait_for_driver(void) {
  char c;
  for (;;) {
    ssize_t n = read(0, &c, 1);
    if (n == 0 || (n < 0 && errno != EINTR))
      return;
  }
}

// Run a command with stdout (and stderr) into files; returns the exit code,
// or 128 + signal if it was killed by one.
static inline int mi_run(char* const argv[], const char* out_path, const char* err_path) {
  pid_t pid = fork();
  if (pid < 0)
    return -1;
  if (pid == 0) {
    int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out < 0 || err < 0)
      _exit(126);
    dup2(out, 1);
    dup2(err, 2);
    execvp(argv[0], argv);
    _exit(127);
  }
  int status = 0;
  if (waitpid(pid, &status, 0) != pid)
    return -1;
  return (WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

// The whole file as a string (NUL-terminated), or NULL.
static inline char* mi_read_file(const char* path) {
  FILE* f = fopen(path, "r");
  if (f == NULL)
    return NULL;
  size_t size = 0, capacity = 4096;
  char* text = malloc(capacity);
  size_t n;
  while (text != NULL && (n = fread(text + size, 1, capacity - size - 1, f)) > 0) {
    size += n;
    if (capacity - size < 2) {
      capacity *= 2;
      char* grown = realloc(text, capacity);
      if (grown == NULL)
        free(text);
      text = grown;
    }
  }
  fclose(f);
  if (text != NULL)
    text[size] = 0;
  return text;
}

// Dump a live process with gcore into `dir`; the core's path goes to `core`.
static inline bool mi_gcore(pid_t pid, const char* dir, char* core, size_t core_size) {
  char prefix[4096], out[4200], err[4200], pid_text[32];
  snprintf(prefix, sizeof(prefix), "%s/core", dir);
  snprintf(out, sizeof(out), "%s/gcore.out", dir);
  snprintf(err, sizeof(err), "%s/gcore.err", dir);
  snprintf(pid_text, sizeof(pid_text), "%d", (int)pid);
  char* argv[] = {"gcore", "-o", prefix, pid_text, NULL};
  int rc = mi_run(argv, out, err);
  snprintf(core, core_size, "%s.%d", prefix, (int)pid);
  struct stat st;
  if (rc != 0 || stat(core, &st) != 0) {
    fprintf(stderr, "gcore failed (exit %d); see %s\n", rc, err);
    return false;
  }
  return true;
}

// The number after `"key": ` in `line`, or -1.
static inline long long mi_json_number(const char* line, const char* key) {
  char pattern[128];
  snprintf(pattern, sizeof(pattern), "\"%s\": ", key);
  const char* at = strstr(line, pattern);
  return (at == NULL ? -1 : strtoll(at + strlen(pattern), NULL, 0));
}

// The string after `"key": "` in `line` into `out`.
static inline bool mi_json_string(const char* line, const char* key, char* out, size_t size) {
  char pattern[128];
  snprintf(pattern, sizeof(pattern), "\"%s\": \"", key);
  const char* at = strstr(line, pattern);
  if (at == NULL)
    return false;
  at += strlen(pattern);
  size_t n = strcspn(at, "\"");
  snprintf(out, size, "%.*s", (int)(n < size ? n : size - 1), at);
  return true;
}

// A private scratch directory under the build tree for cores and reports.
static inline void mi_scratch_dir(char* dir, size_t size, const char* name) {
  snprintf(dir, size, "%s-scratch.%d", name, (int)getpid());
  mkdir(dir, 0755);
}

static inline void mi_scratch_remove(const char* dir) {
  char* argv[] = {"rm", "-rf", (char*)dir, NULL};
  mi_run(argv, "/dev/null", "/dev/null");
}

#endif

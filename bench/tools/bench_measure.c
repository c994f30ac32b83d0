/* bench_measure: run one benchmark program and record what it cost.
 *
 * usage: bench_measure --out FILE [--preload LIB] [--timeout SECONDS] [--env NAME=VALUE]...
 *                      -- PROGRAM [ARGS...]
 *
 * The program runs as a child with LD_PRELOAD set to LIB (or removed when
 * no --preload is given, so glibc's malloc is used) and each --env variable
 * set; this wrapper itself is never preloaded.  When the child ends, one
 * line is written to FILE:
 *   status=exit:N|signal:N|timeout wall=SECONDS maxrss_kb=KB user=SECONDS sys=SECONDS minflt=N
 * wall is measured from just before fork to the reaping of the child;
 * maxrss_kb (peak resident set) and minflt (minor page faults) come from
 * wait4's rusage of the child and the descendants it waited for.  The exit
 * code of the wrapper is 0 when the child exited 0, 1 otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double seconds_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double timeval_seconds(struct timeval tv) { return (double)tv.tv_sec + (double)tv.tv_usec * 1e-6; }

static void usage_exit(void) {
  fprintf(stderr, "usage: bench_measure --out FILE [--preload LIB] [--timeout SECONDS] [--env NAME=VALUE]..."
                  " -- PROGRAM [ARGS...]\n");
  exit(64);
}

int main(int argc, char** argv) {
  const char* out_path = NULL;
  const char* preload = NULL;
  double timeout = 120.0;
  char* env[16];
  int env_count = 0;
  int arg = 1;
  for (; arg < argc; arg++) {
    if (strcmp(argv[arg], "--") == 0) {
      arg++;
      break;
    } else if (strcmp(argv[arg], "--out") == 0 && arg + 1 < argc) {
      out_path = argv[++arg];
    } else if (strcmp(argv[arg], "--preload") == 0 && arg + 1 < argc) {
      preload = argv[++arg];
    } else if (strcmp(argv[arg], "--timeout") == 0 && arg + 1 < argc) {
      timeout = atof(argv[++arg]);
    } else if (strcmp(argv[arg], "--env") == 0 && arg + 1 < argc && strchr(argv[arg + 1], '=') != NULL &&
               env_count < 16) {
      env[env_count++] = argv[++arg];
    } else {
      usage_exit();
    }
  }
  if (out_path == NULL || arg >= argc || timeout <= 0) usage_exit();

  /* SIGCHLD is blocked so sigtimedwait can wait for the child with a deadline */
  sigset_t child_signal;
  sigemptyset(&child_signal);
  sigaddset(&child_signal, SIGCHLD);
  sigprocmask(SIG_BLOCK, &child_signal, NULL);

  double start = seconds_now();
  pid_t child = fork();
  if (child < 0) {
    perror("bench_measure: fork");
    return 1;
  }
  if (child == 0) {
    sigprocmask(SIG_UNBLOCK, &child_signal, NULL);
    if (preload != NULL && preload[0] != 0) setenv("LD_PRELOAD", preload, 1);
    else unsetenv("LD_PRELOAD");
    for (int i = 0; i < env_count; i++) putenv(env[i]);
    execvp(argv[arg], &argv[arg]);
    fprintf(stderr, "bench_measure: cannot run %s: %s\n", argv[arg], strerror(errno));
    _exit(127);
  }

  int timed_out = 0;
  int status = 0;
  struct rusage usage;
  memset(&usage, 0, sizeof(usage));
  for (;;) {
    pid_t done = wait4(child, &status, WNOHANG, &usage);
    if (done == child) break;
    double left = timeout - (seconds_now() - start);
    if (left <= 0) {
      kill(child, SIGKILL);
      wait4(child, &status, 0, &usage);
      timed_out = 1;
      break;
    }
    struct timespec wait_time;
    wait_time.tv_sec = (time_t)left;
    wait_time.tv_nsec = (long)((left - (double)wait_time.tv_sec) * 1e9);
    sigtimedwait(&child_signal, NULL, &wait_time);
  }
  double wall = seconds_now() - start;

  char status_text[64];
  int ok = 0;
  if (timed_out) {
    snprintf(status_text, sizeof(status_text), "timeout");
  } else if (WIFEXITED(status)) {
    snprintf(status_text, sizeof(status_text), "exit:%d", WEXITSTATUS(status));
    ok = (WEXITSTATUS(status) == 0);
  } else if (WIFSIGNALED(status)) {
    snprintf(status_text, sizeof(status_text), "signal:%d", WTERMSIG(status));
  } else {
    snprintf(status_text, sizeof(status_text), "unknown");
  }
  FILE* out = fopen(out_path, "w");
  if (out == NULL) {
    perror("bench_measure: cannot write result");
    return 1;
  }
  fprintf(out, "status=%s wall=%.4f maxrss_kb=%ld user=%.3f sys=%.3f minflt=%ld\n", status_text, wall,
          usage.ru_maxrss, timeval_seconds(usage.ru_utime), timeval_seconds(usage.ru_stime), usage.ru_minflt);
  fclose(out);
  return ok ? 0 : 1;
}

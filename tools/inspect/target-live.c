/* ----------------------------------------------------------------------------
Copyright (c) 2026 The project authors. MIT license, see LICENSE.

Reading a live process: its mappings from /proc/<pid>/maps, its threads from
/proc/<pid>/task, its memory with process_vm_readv. So that the heap is read
in one consistent state the process is stopped (SIGSTOP) only while it is
read and continued (SIGCONT) right after, also when the tool is interrupted.
A process that was already stopped is left stopped. A process that exits
while being read makes every later read fail, which the heap walk reports.
-----------------------------------------------------------------------------*/
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include "inspect.h"

// The process to continue if the tool is interrupted while it is stopped.
static volatile sig_atomic_t mi_live_stopped_pid;

static void mi_live_on_signal(int sig) {
  if (mi_live_stopped_pid != 0)
    kill((pid_t)mi_live_stopped_pid, SIGCONT);
  signal(sig, SIG_DFL);
  raise(sig);
}

// The state letter of a process or thread from its stat file, or 0 if it is gone.
static char mi_live_state(const char* stat_path) {
  FILE* f = fopen(stat_path, "re");
  if (f == NULL)
    return 0;
  char line[1024];
  char state = 0;
  if (fgets(line, sizeof(line), f) != NULL) {
    const char* paren = strrchr(line, ')'); // the command name may contain spaces
    if (paren != NULL && paren[1] == ' ')
      state = paren[2];
  }
  fclose(f);
  return state;
}

static bool mi_live_add_tid(mi_target_t* target, uint64_t tid) {
  uint64_t* tids = realloc(target->os_tids, (target->os_tid_count + 1) * sizeof(uint64_t));
  if (tids == NULL)
    return false;
  target->os_tids = tids;
  target->os_tids[target->os_tid_count++] = tid;
  return true;
}

// Collect the threads; with `wait_stopped`, also true only once every one is stopped.
static bool mi_live_threads(mi_target_t* target, bool* all_stopped) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/%ld/task", target->pid);
  DIR* dir = opendir(path);
  if (dir == NULL)
    return false;
  target->os_tid_count = 0;
  *all_stopped = true;
  struct dirent* entry;
  bool ok = true;
  while (ok && (entry = readdir(dir)) != NULL) {
    char* end;
    unsigned long tid = strtoul(entry->d_name, &end, 10);
    if (*end != 0 || tid == 0)
      continue;
    char stat_path[96];
    snprintf(stat_path, sizeof(stat_path), "/proc/%ld/task/%lu/stat", target->pid, tid);
    char state = mi_live_state(stat_path);
    if (state != 'T' && state != 't')
      *all_stopped = false;
    ok = mi_live_add_tid(target, tid);
  }
  closedir(dir);
  return ok;
}

static void mi_live_sleep_ms(long ms) {
  struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&t, NULL);
}

static bool mi_live_fail(mi_target_t* target) {
  mi_target_close(target);
  return false;
}

static bool mi_live_maps(mi_target_t* target, char* error) {
  char path[64];
  snprintf(path, sizeof(path), "/proc/%ld/maps", target->pid);
  FILE* f = fopen(path, "re");
  if (f == NULL) {
    snprintf(error, MI_ERROR_SIZE, "cannot read %s: %s", path, strerror(errno));
    return false;
  }
  size_t capacity = 0;
  char line[4096 + 128];
  while (fgets(line, sizeof(line), f) != NULL) {
    unsigned long long start, end;
    char perms[8];
    int name_at = 0;
    if (sscanf(line, "%llx-%llx %7s %*s %*s %*s %n", &start, &end, perms, &name_at) < 3)
      continue;
    const char* name = line + name_at;
    if (perms[0] != 'r' || strncmp(name, "[vvar]", 6) == 0 || strncmp(name, "[vsyscall]", 10) == 0)
      continue;
    if (target->region_count == capacity) {
      capacity = (capacity == 0 ? 64 : capacity * 2);
      mi_region_t* regions = realloc(target->regions, capacity * sizeof(mi_region_t));
      if (regions == NULL) {
        fclose(f);
        snprintf(error, MI_ERROR_SIZE, "out of memory");
        return false;
      }
      target->regions = regions;
    }
    target->regions[target->region_count++] = (mi_region_t){start, end, 0};
  }
  fclose(f);
  if (target->region_count == 0) {
    snprintf(error, MI_ERROR_SIZE, "process %ld has no readable memory (it exited?)", target->pid);
    return false;
  }
  return true;
}

bool mi_target_live_open(mi_target_t* target, long pid, char* error) {
  memset(target, 0, sizeof(*target));
  target->kind = MI_TARGET_PROCESS;
  target->pid = pid;
  snprintf(target->source, sizeof(target->source), "pid %ld", pid);
  char path[64];
  snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
  char state = (pid > 0 ? mi_live_state(path) : 0);
  if (state == 0) {
    snprintf(error, MI_ERROR_SIZE, "no process with pid %ld", pid);
    return false;
  }
  if (state == 'Z' || state == 'X') {
    snprintf(error, MI_ERROR_SIZE, "process %ld has exited (state %c)", pid, state);
    return false;
  }
  snprintf(path, sizeof(path), "/proc/%ld/exe", pid);
  ssize_t len = readlink(path, target->executable, sizeof(target->executable) - 1);
  target->executable[len > 0 ? len : 0] = 0;

  if (state != 'T' && state != 't') {
    signal(SIGINT, mi_live_on_signal);
    signal(SIGTERM, mi_live_on_signal);
    signal(SIGHUP, mi_live_on_signal);
    mi_live_stopped_pid = (sig_atomic_t)pid;
    if (kill((pid_t)pid, SIGSTOP) != 0) {
      mi_live_stopped_pid = 0;
      snprintf(error, MI_ERROR_SIZE, "cannot stop process %ld: %s", pid, strerror(errno));
      return false;
    }
    target->stopped_by_us = true;
  }
  // Wait (at most 5 s) until every thread has stopped.
  bool all_stopped = false;
  for (int tries = 0; tries < 5000; tries++) {
    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    state = mi_live_state(path);
    if (state == 0 || state == 'Z' || state == 'X' || !mi_live_threads(target, &all_stopped)) {
      snprintf(error, MI_ERROR_SIZE, "process %ld exited while being read", pid);
      return mi_live_fail(target);
    }
    if (all_stopped)
      break;
    mi_live_sleep_ms(1);
  }
  if (!all_stopped) {
    snprintf(error, MI_ERROR_SIZE, "process %ld did not stop", pid);
    return mi_live_fail(target);
  }
  if (!mi_live_maps(target, error))
    return mi_live_fail(target);
  return true;
}

bool mi_target_live_read(mi_target_t* target, uint64_t addr, void* dst, size_t len) {
  if (target->gone)
    return false;
  struct iovec local = {dst, len};
  struct iovec remote = {(void*)(uintptr_t)addr, len};
  ssize_t n = process_vm_readv((pid_t)target->pid, &local, 1, &remote, 1, 0);
  if (n < 0 && errno == ESRCH)
    target->gone = true;
  return (n == (ssize_t)len);
}

void mi_target_live_resume(mi_target_t* target) {
  if (!target->stopped_by_us)
    return;
  kill((pid_t)target->pid, SIGCONT);
  target->stopped_by_us = false;
  mi_live_stopped_pid = 0;
}

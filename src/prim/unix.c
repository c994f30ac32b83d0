/* ----------------------------------------------------------------------------
Copyright (c) 2026 The project authors. MIT license, see LICENSE.

Platform layer for Linux and other POSIX systems: memory mapping, clock,
output, environment, thread-exit and fork hooks.
-----------------------------------------------------------------------------*/
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/syscall.h>
#endif

#include "mimalloc/internal.h"

// Whether the system gives transparent huge pages at all: the selected mode in
// /sys/kernel/mm/transparent_hugepage/enabled is not "[never]".
static bool mi_thp_available(void) {
#if defined(MI_NO_THP) || !defined(__linux__)
  return false;
#else
  int fd = open("/sys/kernel/mm/transparent_hugepage/enabled", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  char buf[128];
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0)
    return false;
  buf[n] = 0;
  return (strstr(buf, "[never]") == NULL);
#endif
}

void _mi_prim_os_config(mi_os_config_t* config) {
  long page_size = sysconf(_SC_PAGESIZE);
  config->page_size = (page_size > 0 ? (size_t)page_size : 4096);
  config->large_page_size = (mi_thp_available() ? 2 * MI_MiB : 0);
  config->has_overcommit = true;
  config->has_virtual_reserve = true;
}

int _mi_prim_mmap(void* hint, size_t size, bool allow_large, void** addr) {
  int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
  void* p = mmap(hint, size, PROT_READ | PROT_WRITE, flags, -1, 0);
  if (p == MAP_FAILED) {
    *addr = NULL;
    return errno;
  }
  if (allow_large)
    _mi_prim_thp_advise(p, size);
  *addr = p;
  return 0;
}

int _mi_prim_thp_advise(void* addr, size_t size) {
#if defined(MADV_HUGEPAGE) && !defined(MI_NO_THP)
  return (madvise(addr, size, MADV_HUGEPAGE) == 0 ? 0 : errno);
#else
  (void)addr;
  (void)size;
  return ENOTSUP;
#endif
}

void _mi_prim_thp_disable(void) {
#if defined(__linux__) && defined(PR_SET_THP_DISABLE)
  prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
#endif
}

int _mi_prim_munmap(void* addr, size_t size) { return (munmap(addr, size) == 0 ? 0 : errno); }

int _mi_prim_mmap_huge_pages(void* hint, size_t size, void** addr) {
  *addr = NULL;
#if defined(MAP_HUGETLB) && defined(MAP_HUGE_SHIFT)
  // No MAP_NORESERVE: the pages must be taken from the pool now, or touching them later
  // would raise SIGBUS when the pool is empty.
  int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | (30 << MAP_HUGE_SHIFT); // 2^30: 1 GiB pages
  void* p = mmap(hint, size, PROT_READ | PROT_WRITE, flags, -1, 0);
  if (p == MAP_FAILED)
    return errno;
  *addr = p;
  return 0;
#else
  (void)hint;
  (void)size;
  return ENOMEM;
#endif
}

int _mi_prim_purge(void* addr, size_t size) {
  // MADV_DONTNEED drops the pages at once (RSS falls); the range reads back as zeros.
  return (madvise(addr, size, MADV_DONTNEED) == 0 ? 0 : errno);
}

int _mi_prim_resident(void* addr, size_t size, uint8_t* pages) {
  return (mincore(addr, size, (unsigned char*)pages) == 0 ? 0 : errno);
}

int _mi_prim_move(void* from, size_t size, void* to) {
#if defined(__linux__) && defined(SYS_mremap)
  // The system call directly: mremap's declaration and flags need _GNU_SOURCE.
  const long may_move = 1, fixed = 2; // MREMAP_MAYMOVE, MREMAP_FIXED
  const long result = syscall(SYS_mremap, from, size, size, may_move | fixed, to);
  return (result == -1 ? errno : 0);
#else
  (void)from;
  (void)size;
  (void)to;
  return ENOTSUP;
#endif
}

int _mi_prim_remap_hole(void* addr, size_t size, bool* remapped) {
  *remapped = false;
#if defined(__linux__)
  // msync fails with ENOMEM exactly when part of the range is not mapped (on
  // private anonymous memory MS_ASYNC does nothing else).
  if (msync(addr, size, MS_ASYNC) == 0)
    return 0;
  if (errno != ENOMEM)
    return errno;
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000 // Linux 4.17; older kernels take it as a hint
#endif
  // Never MAP_FIXED: if anything was mapped into the hole meanwhile, it is
  // someone else's, and this fails (EEXIST) instead of replacing it.
  void* p = mmap(addr, size, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
  if (p == addr) {
    *remapped = true;
    return 0;
  }
  if (p == MAP_FAILED)
    return errno;
  munmap(p, size); // a kernel that took the flag as a hint put it elsewhere
  return EEXIST;
#else
  (void)addr;
  (void)size;
  return ENOTSUP;
#endif
}

int _mi_prim_read_word(const void* addr, uintptr_t* value) {
  // Through a pipe: the kernel copies from `addr` and answers EFAULT where it
  // cannot read, instead of the signal a load would raise.
  int fds[2];
#if defined(__linux__) && defined(SYS_pipe2)
  // Close-on-exec from the start: another thread may fork and exec meanwhile.
  if (syscall(SYS_pipe2, fds, O_CLOEXEC) != 0)
    return errno;
#else
  if (pipe(fds) != 0)
    return errno;
#endif
  int err = 0;
  if (write(fds[1], addr, sizeof(*value)) != (ssize_t)sizeof(*value))
    err = (errno != 0 ? errno : EIO);
  else if (read(fds[0], value, sizeof(*value)) != (ssize_t)sizeof(*value))
    err = (errno != 0 ? errno : EIO);
  close(fds[0]);
  close(fds[1]);
  return err;
}

int _mi_prim_protect(void* addr, size_t size, bool protect) {
  return (mprotect(addr, size, protect ? PROT_NONE : (PROT_READ | PROT_WRITE)) == 0 ? 0 : errno);
}

int64_t _mi_prim_clock_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return ((int64_t)t.tv_sec * 1000) + ((int64_t)t.tv_nsec / 1000000);
}

static int64_t mi_timeval_msecs(const struct timeval* tv) {
  return ((int64_t)tv->tv_sec * 1000) + ((int64_t)tv->tv_usec / 1000);
}

static size_t mi_proc_status_kib(const char* key) {
  int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return 0;
  char buf[4096];
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0)
    return 0;
  buf[n] = 0;
  const char* s = strstr(buf, key);
  if (s == NULL)
    return 0;
  s += strlen(key);
  while (*s == ' ' || *s == '\t' || *s == ':')
    s++;
  size_t value = 0;
  while (*s >= '0' && *s <= '9')
    value = value * 10 + (size_t)(*s++ - '0');
  return value;
}

void _mi_prim_process_info(mi_process_info_t* info) {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  info->utime_msecs = mi_timeval_msecs(&usage.ru_utime);
  info->stime_msecs = mi_timeval_msecs(&usage.ru_stime);
  info->page_faults = (size_t)usage.ru_majflt;
  info->peak_rss = (size_t)usage.ru_maxrss * 1024;
  info->current_rss = mi_proc_status_kib("VmRSS") * 1024;
  if (info->current_rss == 0)
    info->current_rss = info->peak_rss;
  if (info->peak_rss < info->current_rss)
    info->peak_rss = info->current_rss; // the kernel updates the peak lazily
  info->current_commit = info->current_rss;
  info->peak_commit = info->peak_rss;
}

size_t _mi_prim_peak_rss(void) {
  struct rusage usage;
  if (getrusage(RUSAGE_SELF, &usage) != 0)
    return 0;
  return (size_t)usage.ru_maxrss * 1024;
}

void _mi_prim_out_stderr(const char* msg) {
  size_t len = strlen(msg);
  while (len > 0) {
    ssize_t n = write(STDERR_FILENO, msg, len);
    if (n <= 0) {
      if (n < 0 && errno == EINTR)
        continue;
      return;
    }
    msg += n;
    len -= (size_t)n;
  }
}

// Read the environment without allocating. `environ` may be unset very early.
extern char** environ;
bool _mi_prim_getenv(const char* name, char* result, size_t result_size) {
  if (name == NULL || result == NULL || result_size == 0 || environ == NULL)
    return false;
  size_t len = strlen(name);
  for (char** env = environ; *env != NULL; env++) {
    const char* entry = *env;
    if (strncmp(entry, name, len) == 0 && entry[len] == '=') {
      size_t vlen = strlen(entry + len + 1);
      if (vlen >= result_size)
        vlen = result_size - 1;
      memcpy(result, entry + len + 1, vlen);
      result[vlen] = 0;
      return true;
    }
  }
  return false;
}

void _mi_prim_sleep_us(long microseconds) {
  struct timespec t;
  t.tv_sec = microseconds / 1000000;
  t.tv_nsec = (microseconds % 1000000) * 1000;
  while (nanosleep(&t, &t) != 0 && errno == EINTR) {
  }
}

void _mi_prim_yield(void) { sched_yield(); }

uint64_t _mi_prim_random_seed(void) {
  uint64_t seed = 0;
#if defined(__linux__)
  if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) == (ssize_t)sizeof(seed))
    return seed;
#endif
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  seed = ((uint64_t)t.tv_sec << 32) ^ (uint64_t)t.tv_nsec ^ (uint64_t)(uintptr_t)&seed;
  return seed;
}

// A test-and-test-and-set lock. Acquire pairs with the release in unlock.
void _mi_prim_lock(mi_lock_t* lock) {
  for (unsigned spins = 0;; spins++) {
    if (mi_atomic_load_relaxed(&lock->state) == 0 &&
        mi_atomic_exchange_acquire(&lock->state, 1) == 0) { // pairs with the release in _mi_prim_unlock
      return;
    }
    if (spins < 64)
      mi_atomic_spin_pause();
    else
      sched_yield();
  }
}

void _mi_prim_unlock(mi_lock_t* lock) {
  mi_atomic_store_release(&lock->state, 0); // pairs with the acquire exchange in _mi_prim_lock
}

uint64_t _mi_prim_thread_os_id(void) { return (uint64_t)syscall(SYS_gettid); }

// Thread exit: a pthread key whose destructor runs the allocator's thread-done.
static pthread_key_t mi_heap_key;
static bool mi_heap_key_valid = false;

void _mi_prim_thread_init_auto_done(void (*done)(void*)) {
  if (!mi_heap_key_valid)
    mi_heap_key_valid = (pthread_key_create(&mi_heap_key, done) == 0);
}

void _mi_prim_thread_associate_default_heap(void* heap) {
  if (mi_heap_key_valid)
    pthread_setspecific(mi_heap_key, heap);
}

void _mi_prim_at_fork(void (*prepare)(void), void (*parent)(void), void (*child)(void)) {
  pthread_atfork(prepare, parent, child);
}

/* ----------------------------------------------------------------------------
Helpers for the override test programs (C and C++).

Most of these programs are NOT linked with the allocator: they are run with
LD_PRELOAD=libmimalloc.so, exactly like a user's program. They reach the
allocator's inspection API at run time through dlsym(RTLD_DEFAULT, ...), which
also proves that the preloaded library is present in the global scope.
Programs that do link the allocator (statically) define OVERRIDE_LINKED before
including this header and call the API directly.

- ovr_init(name): resolve the API; exits with an error when the allocator is
  not there (the test was started without LD_PRELOAD).
- ovr_is_ours(p): true when `p` lies in memory managed by the allocator.
- ovr_symbol_from_mimalloc(name): true when the global definition of symbol
  `name` lives in a file whose name contains "mimalloc" (preloaded runs).
- OVR_CHECK(cond) / OVR_CHECKF(cond, fmt, ...): count checks and failures.
- ovr_summary(name): print "name: N checks, F failures: OK|FAILED" and return
  the exit code.
-----------------------------------------------------------------------------*/
#pragma once
#ifndef MI_OVERRIDE_COMMON_H
#define MI_OVERRIDE_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <dlfcn.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef OVERRIDE_LINKED
#include <mimalloc.h>
#endif

#ifdef __cplusplus
  #include <atomic>
  typedef std::atomic<size_t> ovr_counter_t;
  #define ovr_counter_add(c)   ((c).fetch_add(1, std::memory_order_relaxed))
  #define ovr_counter_get(c)   ((c).load(std::memory_order_relaxed))
  #define OVR_INLINE           inline
#else
  #include <stdatomic.h>
  typedef atomic_size_t ovr_counter_t;
  #define ovr_counter_add(c)   (atomic_fetch_add_explicit(&(c), 1, memory_order_relaxed))
  #define ovr_counter_get(c)   (atomic_load_explicit(&(c), memory_order_relaxed))
  #define OVR_INLINE           static inline
#endif

typedef bool   (*ovr_in_region_fun_t)(const void* p);
typedef size_t (*ovr_usable_size_fun_t)(const void* p);

static ovr_in_region_fun_t   ovr_in_heap_region;
static ovr_usable_size_fun_t ovr_usable_size;
static ovr_counter_t         ovr_checks_done;
static ovr_counter_t         ovr_checks_failed;

// dlsym returns an object pointer; copying the bits is the portable way to
// turn it into a function pointer.
OVR_INLINE void ovr_lookup(const char* name, void* function_pointer_out, size_t size) {
  void* address = dlsym(RTLD_DEFAULT, name);
  memset(function_pointer_out, 0, size);
  if (address != NULL) memcpy(function_pointer_out, &address, size);
}

OVR_INLINE void ovr_init(const char* program) {
#ifdef OVERRIDE_LINKED
  ovr_in_heap_region = &mi_is_in_heap_region;
  ovr_usable_size = &mi_usable_size;
#else
  ovr_lookup("mi_is_in_heap_region", &ovr_in_heap_region, sizeof(ovr_in_heap_region));
  ovr_lookup("mi_usable_size", &ovr_usable_size, sizeof(ovr_usable_size));
#endif
  if (ovr_in_heap_region == NULL || ovr_usable_size == NULL) {
    fprintf(stderr, "%s: the allocator is not loaded; run with LD_PRELOAD=<path>/libmimalloc.so\n", program);
    exit(2);
  }
}

OVR_INLINE bool ovr_is_ours(const void* p) {
  return (p != NULL && ovr_in_heap_region(p));
}

OVR_INLINE bool ovr_symbol_from_mimalloc(const char* name) {
  void* address = dlsym(RTLD_DEFAULT, name);
  if (address == NULL) return false;
  Dl_info info;
  memset(&info, 0, sizeof(info));
  if (dladdr(address, &info) == 0 || info.dli_fname == NULL) return false;
  return (strstr(info.dli_fname, "mimalloc") != NULL);
}

// True when a file whose path contains `needle` is mapped into this process.
OVR_INLINE bool ovr_is_mapped(const char* needle) {
  FILE* maps = fopen("/proc/self/maps", "r");
  if (maps == NULL) return false;
  char line[1024];
  bool found = false;
  while (!found && fgets(line, sizeof(line), maps) != NULL) {
    if (strstr(line, needle) != NULL) found = true;
  }
  fclose(maps);
  return found;
}

OVR_INLINE void ovr_check_failed(const char* file, int line, const char* expr) {
  size_t failed = ovr_counter_add(ovr_checks_failed);
  if (failed < 50) fprintf(stderr, "%s:%d: check failed: %s\n", file, line, expr);
}

#define OVR_CHECK(cond) \
  do { \
    ovr_counter_add(ovr_checks_done); \
    if (!(cond)) ovr_check_failed(__FILE__, __LINE__, #cond); \
  } while (0)

#define OVR_CHECKF(cond, ...) \
  do { \
    ovr_counter_add(ovr_checks_done); \
    if (!(cond)) { \
      ovr_check_failed(__FILE__, __LINE__, #cond); \
      fprintf(stderr, "    "); fprintf(stderr, __VA_ARGS__); fprintf(stderr, "\n"); \
    } \
  } while (0)

OVR_INLINE size_t ovr_failures(void) {
  return ovr_counter_get(ovr_checks_failed);
}

OVR_INLINE int ovr_summary(const char* name) {
  size_t done = ovr_counter_get(ovr_checks_done);
  size_t failed = ovr_counter_get(ovr_checks_failed);
  printf("%s: %zu checks, %zu failures: %s\n", name, done, failed, (failed == 0 ? "OK" : "FAILED"));
  fflush(stdout);
  return (failed == 0 ? 0 : 1);
}

// Hide a value from the optimizer (e.g. a huge size, so the compiler neither
// warns about it nor folds the call away).
OVR_INLINE size_t ovr_opaque_size(size_t n) {
  volatile size_t hidden = n;
  return hidden;
}

// A fill pattern that depends on the seed and the byte position.
OVR_INLINE unsigned char ovr_pattern_byte(uint64_t seed, size_t i) {
  uint64_t x = (seed + 1) * UINT64_C(0x9E3779B97F4A7C15) + (uint64_t)i * UINT64_C(0xBF58476D1CE4E5B9);
  return (unsigned char)(x >> 56);
}

OVR_INLINE void ovr_fill(void* block, size_t size, uint64_t seed) {
  unsigned char* bytes = (unsigned char*)block;
  for (size_t i = 0; i < size; i++) bytes[i] = ovr_pattern_byte(seed, i);
}

OVR_INLINE bool ovr_verify(const void* block, size_t size, uint64_t seed) {
  const unsigned char* bytes = (const unsigned char*)block;
  for (size_t i = 0; i < size; i++) {
    if (bytes[i] != ovr_pattern_byte(seed, i)) return false;
  }
  return true;
}

// The operator new/delete symbols of the Itanium C++ ABI (LP64 spelling).
__attribute__((unused)) static const char* const ovr_cxx_operator_symbols[] = {
  "_Znwm", "_Znam", "_ZnwmRKSt9nothrow_t", "_ZnamRKSt9nothrow_t",
  "_ZnwmSt11align_val_t", "_ZnamSt11align_val_t",
  "_ZnwmSt11align_val_tRKSt9nothrow_t", "_ZnamSt11align_val_tRKSt9nothrow_t",
  "_ZdlPv", "_ZdaPv", "_ZdlPvm", "_ZdaPvm",
  "_ZdlPvRKSt9nothrow_t", "_ZdaPvRKSt9nothrow_t",
  "_ZdlPvSt11align_val_t", "_ZdaPvSt11align_val_t",
  "_ZdlPvmSt11align_val_t", "_ZdaPvmSt11align_val_t",
  "_ZdlPvSt11align_val_tRKSt9nothrow_t", "_ZdaPvSt11align_val_tRKSt9nothrow_t",
};
#define OVR_CXX_OPERATOR_COUNT (sizeof(ovr_cxx_operator_symbols) / sizeof(ovr_cxx_operator_symbols[0]))

#endif

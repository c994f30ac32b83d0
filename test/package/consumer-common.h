/* ----------------------------------------------------------------------------
Shared body of the C package consumers: a few calls of the public API, every
function of the 2.2.7 usable-size interface, the version check, and (for the shared library) a check that the library in use
is the installed one under MI_EXPECTED_LIB_DIR. Exits non-zero on failure.
-----------------------------------------------------------------------------*/
#ifndef MI_CONSUMER_COMMON_H
#define MI_CONSUMER_COMMON_H

#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <mimalloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int mi_consumer_fail(const char* name, const char* what) {
  fprintf(stderr, "consumer %s: %s\n", name, what);
  return 1;
}

static int mi_consumer_run(const char* name, bool check_library_path) {
  if (mi_version() != MI_MALLOC_VERSION) return mi_consumer_fail(name, "mi_version() != MI_MALLOC_VERSION");
  void* p = mi_malloc(100);
  char* s = mi_strdup("installed");
  void* z = mi_zalloc_aligned(1000, 256);
  mi_heap_t* heap = mi_heap_new();
  void* h = (heap != NULL ? mi_heap_malloc(heap, 5000) : NULL);
  if (p == NULL || mi_usable_size(p) < 100) return mi_consumer_fail(name, "mi_malloc");
  if (s == NULL || strcmp(s, "installed") != 0) return mi_consumer_fail(name, "mi_strdup");
  if (z == NULL || ((size_t)z % 256) != 0 || ((unsigned char*)z)[999] != 0) return mi_consumer_fail(name, "mi_zalloc_aligned");
  if (h == NULL || !mi_heap_contains_block(heap, h)) return mi_consumer_fail(name, "mi_heap_malloc");
  mi_free(p);
  mi_free(s);
  mi_free(z);
  mi_heap_destroy(heap);
  // Every function of the mimalloc 2.2.7 usable-size interface.
  size_t bs[9] = { 0 };
  void* u[6];
  u[0] = mi_umalloc(10, &bs[0]);
  u[1] = mi_ucalloc(4, 25, &bs[1]);
  u[2] = mi_umalloc_aligned(100, 64, &bs[2]);
  u[3] = mi_uzalloc_aligned(100, 64, &bs[3]);
  u[4] = mi_umalloc_small(24, &bs[4]);
  u[5] = mi_uzalloc_small(24, &bs[5]);
  for (int i = 0; i < 6; i++) {
    if (u[i] == NULL || bs[i] < 10 || bs[i] != mi_usable_size(u[i])) return mi_consumer_fail(name, "mi_u* allocation");
  }
  u[0] = mi_urealloc(u[0], 3000, &bs[6], &bs[7]);
  if (u[0] == NULL || bs[6] != bs[0] || bs[7] < 3000 || bs[7] != mi_usable_size(u[0])) {
    return mi_consumer_fail(name, "mi_urealloc");
  }
  for (int i = 0; i < 6; i++) {
    const size_t expected = mi_usable_size(u[i]);
    mi_ufree(u[i], &bs[8]);
    if (bs[8] != expected) return mi_consumer_fail(name, "mi_ufree");
  }
#ifdef MI_EXPECTED_LIB_DIR
  if (check_library_path) {
    Dl_info info;
    if (dladdr((void*)&mi_malloc, &info) == 0 || info.dli_fname == NULL) return mi_consumer_fail(name, "dladdr");
    char lib[PATH_MAX], dir[PATH_MAX];
    if (realpath(info.dli_fname, lib) == NULL || realpath(MI_EXPECTED_LIB_DIR, dir) == NULL) {
      return mi_consumer_fail(name, "realpath");
    }
    if (strncmp(lib, dir, strlen(dir)) != 0 || strstr(lib, "libmimalloc") == NULL) {
      fprintf(stderr, "consumer %s: mi_malloc comes from %s, not from %s\n", name, lib, dir);
      return 1;
    }
  }
#else
  (void)check_library_path;
#endif
  printf("consumer %s: mimalloc %d, calls ok\n", name, mi_version());
  return 0;
}

#endif

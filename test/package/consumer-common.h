/* ----------------------------------------------------------------------------
Shared body of the C package consumers: a few calls of the public API, the
version check, and (for the shared library) a check that the library in use
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

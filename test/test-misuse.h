/* ----------------------------------------------------------------------------
Helpers of the misuse tests (test-misuse-*.c): programs that commit one kind
of heap bug on purpose and check that the allocator reports it with its exact
message, leaves the block alone and keeps the rest of the heap working.

They run in builds that promise detection: the debug build of the tree
(MI_DEBUG >= 1, padding on) and the hardened test variant (MI_SECURE=4,
MI_XMALLOC, MI_SHOW_ERRORS) that test/misuse.cmake builds in every preset.
-----------------------------------------------------------------------------*/
#pragma once
#ifndef MI_TEST_MISUSE_H
#define MI_TEST_MISUSE_H

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include "test-common.h"

// Start capturing the allocator's messages, with no limit on their number.
static inline void misuse_begin(void) {
  mi_option_set(mi_option_max_errors, -1);
  mi_option_set(mi_option_max_warnings, -1);
  mi_test_capture_begin();
}

// Occurrences of `needle` in the captured messages.
static inline size_t misuse_count(const char* needle) {
  size_t n = 0;
  for (const char* s = strstr(mi_test_captured(), needle); s != NULL; s = strstr(s + 1, needle))
    n++;
  return n;
}

// Occurrences of the formatted message in the captured messages.
static inline size_t misuse_countf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
static inline size_t misuse_countf(const char* fmt, ...) {
  char expected[512];
  va_list args;
  va_start(args, fmt);
  vsnprintf(expected, sizeof(expected), fmt, args);
  va_end(args);
  return misuse_count(expected);
}

// Print what was captured (for a failing check).
static inline void misuse_dump(const char* what) {
  fprintf(stderr, "--- allocator messages (%s) ---\n%s--- end ---\n", what, mi_test_captured());
}

// The heap still works: `count` blocks of `size` bytes, all distinct from
// `avoid` (a block the allocator must have left alone), filled and checked.
static inline bool misuse_heap_works(size_t size, size_t count, const void* avoid) {
  void** blocks = (void**)calloc(count, sizeof(void*));
  bool ok = (blocks != NULL);
  for (size_t i = 0; ok && i < count; i++) {
    blocks[i] = mi_malloc(size);
    ok = (blocks[i] != NULL && blocks[i] != avoid && mi_check_owned(blocks[i]));
    if (ok)
      mi_test_pattern_fill(blocks[i], 0, size, 77 + i);
  }
  for (size_t i = 0; ok && i < count; i++)
    ok = mi_test_pattern_ok(blocks[i], 0, size, 77 + i);
  for (size_t i = 0; blocks != NULL && i < count; i++)
    mi_free(blocks[i]);
  free(blocks);
  return ok;
}

#endif

/* ----------------------------------------------------------------------------
API test: edge cases of the basic entry points.

- mi_free(NULL) does nothing; mi_malloc(0) and mi_zalloc(0) give distinct,
  freeable blocks; mi_realloc(NULL, n) acts as mi_malloc(n).
- mi_realloc(p, 0) follows mimalloc 2.x: it returns a valid, freeable
  (zero-size) block and releases p.
- mi_strdup / mi_strndup copy correctly, stop at n, never read past n, and
  return NULL for a NULL string.
- mi_realpath agrees with realpath(3) for existing paths (with and without a
  caller buffer) and returns NULL for a missing path.
- mi_version() == MI_MALLOC_VERSION.
- A 1 GiB block can be allocated, its first and last bytes written and read.
-----------------------------------------------------------------------------*/
#define _XOPEN_SOURCE 700  // realpath, getcwd, PATH_MAX
#include <limits.h>
#include <mimalloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test-common.h"

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

#define MI_MISC_ZERO_BLOCKS 1000

static int mi_misc_compare_pointers(const void* a, const void* b) {
  const uintptr_t x = (uintptr_t)*(void* const*)a;
  const uintptr_t y = (uintptr_t)*(void* const*)b;
  return (x < y ? -1 : x > y ? 1 : 0);
}

static void mi_misc_null_and_zero(void) {
  mi_free(NULL);
  mi_free(NULL);

  // mi_malloc(0): every call a distinct, freeable block
  static void* blocks[MI_MISC_ZERO_BLOCKS];
  for (size_t i = 0; i < MI_MISC_ZERO_BLOCKS; i++) {
    blocks[i] = (i % 2 == 0 ? mi_malloc(0) : mi_zalloc(0));
    CHECKF(blocks[i] != NULL, "zero-size allocation %zu returned NULL", i);
  }
  qsort(blocks, MI_MISC_ZERO_BLOCKS, sizeof(void*), &mi_misc_compare_pointers);
  size_t duplicates = 0;
  for (size_t i = 1; i < MI_MISC_ZERO_BLOCKS; i++) {
    if (blocks[i] != NULL && blocks[i] == blocks[i - 1]) duplicates++;
  }
  CHECKF(duplicates == 0, "mi_malloc(0) returned the same pointer %zu times", duplicates);
  for (size_t i = 0; i < MI_MISC_ZERO_BLOCKS; i++) mi_free(blocks[i]);

  // mi_realloc(NULL, n) is mi_malloc(n)
  for (size_t n = 0; n <= 4 * MI_TEST_MIB; n = 3 * n + 1) {
    uint8_t* p = (uint8_t*)mi_realloc(NULL, n);
    CHECKF(p != NULL, "mi_realloc(NULL, %zu) returned NULL", n);
    if (p == NULL) continue;
    CHECKF(mi_usable_size(p) >= n, "mi_realloc(NULL, %zu): usable size %zu", n, mi_usable_size(p));
    mi_test_pattern_fill(p, 0, n, n);
    CHECK(mi_test_pattern_ok(p, 0, n, n));
    mi_free(p);
  }

  // mi_realloc(p, 0): a valid zero-size block comes back, p is released
  for (size_t n = 1; n <= 32 * MI_TEST_MIB; n *= 8) {
    void* p = mi_malloc(n);
    CHECKF(p != NULL, "mi_malloc(%zu) returned NULL", n);
    if (p == NULL) continue;
    mi_test_pattern_fill(p, 0, n, 3);
    void* q = mi_realloc(p, 0);
    CHECKF(q != NULL, "mi_realloc(p of %zu bytes, 0) returned NULL", n);
    if (q != NULL) {
      // a zero-size allocation: one of the smallest blocks, not the old one kept
      CHECKF(mi_usable_size(q) <= 64, "mi_realloc(p of %zu bytes, 0): usable size %zu", n, mi_usable_size(q));
      mi_free(q);
    }
  }
  // the same cycle many times in a row (a leaked p would show in a memory checker)
  for (size_t i = 0; i < 100000; i++) {
    void* p = mi_malloc(200);
    CHECK(p != NULL);
    void* q = mi_realloc(p, 0);
    CHECK(q != NULL);
    mi_free(q);
  }
}

static void mi_misc_strings(void) {
  const char* text = "the quick brown fox";
  char* copy = mi_strdup(text);
  CHECK(copy != NULL && copy != text && strcmp(copy, text) == 0);
  CHECK(copy == NULL || mi_usable_size(copy) >= strlen(text) + 1);
  mi_free(copy);
  copy = mi_strdup("");
  CHECK(copy != NULL && copy[0] == 0);
  mi_free(copy);
  CHECK(mi_strdup(NULL) == NULL);

  // mi_strndup: at most n characters, always terminated
  const size_t len = strlen(text);
  for (size_t n = 0; n <= len + 3; n++) {
    char* s = mi_strndup(text, n);
    const size_t expect = (n < len ? n : len);
    CHECKF(s != NULL, "mi_strndup(text, %zu) returned NULL", n);
    if (s == NULL) continue;
    CHECKF(strlen(s) == expect && memcmp(s, text, expect) == 0, "mi_strndup(text, %zu) gave \"%s\"", n, s);
    mi_free(s);
  }
  char* whole = mi_strndup(text, mi_test_opaque_size(SIZE_MAX));  // n + 1 must not wrap
  CHECK(whole != NULL && strcmp(whole, text) == 0);
  mi_free(whole);
  CHECK(mi_strndup(NULL, 5) == NULL);

  // an unterminated buffer: mi_strndup must stop at n (a sanitizer build sees any over-read)
  char* raw = (char*)malloc(5);
  CHECK(raw != NULL);
  if (raw != NULL) {
    memcpy(raw, "abcde", 5);
    char* s = mi_strndup(raw, 5);
    CHECK(s != NULL && strcmp(s, "abcde") == 0);
    mi_free(s);
    s = mi_strndup(raw, 3);
    CHECK(s != NULL && strcmp(s, "abc") == 0);
    mi_free(s);
    free(raw);
  }

  // a long string crossing into medium and large sizes
  const size_t big = 300 * MI_TEST_KIB;
  char* long_text = (char*)mi_malloc(big + 1);
  CHECK(long_text != NULL);
  if (long_text != NULL) {
    for (size_t i = 0; i < big; i++) long_text[i] = (char)('a' + (i % 26));
    long_text[big] = 0;
    char* d = mi_strdup(long_text);
    CHECK(d != NULL && strcmp(d, long_text) == 0);
    mi_free(d);
    d = mi_strndup(long_text, big / 2);
    CHECK(d != NULL && strlen(d) == big / 2 && memcmp(d, long_text, big / 2) == 0);
    mi_free(d);
    mi_free(long_text);
  }
}

static void mi_misc_realpath(const char* program) {
  const char* paths[] = { ".", "/", "/tmp/../tmp/.", program };
  for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
    char expected[PATH_MAX];
    if (paths[i] == NULL || realpath(paths[i], expected) == NULL) continue;  // not resolvable here
    char* got = mi_realpath(paths[i], NULL);
    CHECKF(got != NULL && strcmp(got, expected) == 0, "mi_realpath(\"%s\", NULL) gave \"%s\", expected \"%s\"",
           paths[i], (got != NULL ? got : "(null)"), expected);
    mi_free(got);
    char buffer[PATH_MAX];
    // mi_realpath is declared `malloc`, so the compiler may assume its result
    // never equals `buffer`: compare the addresses through a volatile
    volatile uintptr_t into = (uintptr_t)mi_realpath(paths[i], buffer);
    CHECKF(into == (uintptr_t)buffer && strcmp(buffer, expected) == 0, "mi_realpath(\"%s\", buffer) did not fill the buffer",
           paths[i]);
  }
  char cwd[PATH_MAX];
  if (getcwd(cwd, sizeof(cwd)) != NULL) {
    char* got = mi_realpath(".", NULL);
    char resolved[PATH_MAX];
    CHECK(got != NULL && realpath(cwd, resolved) != NULL && strcmp(got, resolved) == 0);
    mi_free(got);
  }
  CHECK(mi_realpath("/nonexistent-mi-test-directory/missing-file", NULL) == NULL);
  char buffer[PATH_MAX];
  CHECK(mi_realpath("/nonexistent-mi-test-directory/missing-file", buffer) == NULL);
}

static void mi_misc_gigabyte(void) {
  const size_t gib = mi_test_opaque_size((size_t)1 << 30);
  uint8_t* p = (uint8_t*)mi_malloc(gib);
  CHECK(p != NULL);
  if (p != NULL) {
    CHECK(mi_usable_size(p) >= gib);
    p[0] = 0x5A;
    p[gib - 1] = 0xA5;
    const size_t usable = mi_usable_size(p);
    p[usable - 1] = 0x3C;
    CHECK(p[0] == 0x5A && (usable == gib || p[gib - 1] == 0xA5) && p[usable - 1] == 0x3C);
    CHECK(((uintptr_t)p % 16) == 0);
    mi_free(p);
  }
}

int main(int argc, char** argv) {
  (void)argc;
  CHECKF(mi_version() == MI_MALLOC_VERSION, "mi_version()=%d, MI_MALLOC_VERSION=%d", mi_version(), MI_MALLOC_VERSION);
  mi_misc_null_and_zero();
  mi_misc_strings();
  mi_misc_realpath(argv[0]);
  mi_misc_gigabyte();
  return mi_test_summary("test-api-misc");
}

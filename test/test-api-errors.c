/* ----------------------------------------------------------------------------
API test: requests that cannot be satisfied.

Every impossible request returns NULL and sets errno to ENOMEM:
- count * size overflow in mi_calloc, mi_mallocn, mi_reallocn, mi_recalloc;
- sizes above PTRDIFF_MAX, SIZE_MAX, sizes just below SIZE_MAX (where
  rounding up could wrap around to a small size) and sizes beyond any
  address space in mi_malloc, mi_zalloc, mi_realloc, mi_malloc of
  PTRDIFF_MAX itself.
A failed mi_realloc / mi_reallocn leaves the original block valid and
unchanged. After all failures the allocator still works normally.
-----------------------------------------------------------------------------*/
#include <errno.h>
#include <string.h>
#include <mimalloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "test-common.h"

// Each expression must yield NULL with errno == ENOMEM; a non-NULL result is freed.
#define CHECK_ENOMEM(expr) \
  do { \
    errno = 0; \
    void* result_ = (expr); \
    const int err_ = errno; \
    CHECKF(result_ == NULL, "%s returned %p, expected NULL", #expr, result_); \
    CHECKF(err_ == ENOMEM, "%s set errno=%d, expected ENOMEM (%d)", #expr, err_, ENOMEM); \
    if (result_ != NULL) mi_free(result_); \
  } while (0)

int main(void) {
  const size_t half = mi_test_opaque_size(SIZE_MAX / 2);
  const size_t max = mi_test_opaque_size(SIZE_MAX);
  const size_t above_ptrdiff = mi_test_opaque_size((size_t)PTRDIFF_MAX + 1);
  const size_t at_ptrdiff = mi_test_opaque_size((size_t)PTRDIFF_MAX);
  // 2^(half the bits of size_t): its square just overflows.
  const size_t half_bits = mi_test_opaque_size((size_t)1 << (4 * sizeof(size_t)));

  // count * size overflow
  CHECK_ENOMEM(mi_calloc(half, 3));
  CHECK_ENOMEM(mi_calloc(3, half));
  CHECK_ENOMEM(mi_calloc(max, max));
  CHECK_ENOMEM(mi_calloc(half_bits + 1, half_bits));
  CHECK_ENOMEM(mi_mallocn(half, 3));
  CHECK_ENOMEM(mi_mallocn(2, half + 1));
  CHECK_ENOMEM(mi_mallocn(half_bits, half_bits));

  // too large for any address space
  CHECK_ENOMEM(mi_malloc(above_ptrdiff));
  CHECK_ENOMEM(mi_malloc(max));
  CHECK_ENOMEM(mi_malloc(max - 1));
  CHECK_ENOMEM(mi_malloc(max - 4095));                      // rounding up to a page would wrap
  CHECK_ENOMEM(mi_malloc(max - mi_test_opaque_size(64 * MI_TEST_MIB)));  // or to a segment
#if SIZE_MAX > UINT32_MAX
  // (a 32-bit process may really get PTRDIFF_MAX bytes: 2 GiB of its 4 GiB)
  CHECK_ENOMEM(mi_malloc(at_ptrdiff));
  CHECK_ENOMEM(mi_malloc(mi_test_opaque_size((size_t)1 << 60)));  // far beyond 48-bit address space
#else
  (void)at_ptrdiff;
#endif
  CHECK_ENOMEM(mi_zalloc(above_ptrdiff));
  CHECK_ENOMEM(mi_zalloc(max));
  CHECK_ENOMEM(mi_calloc(1, max));
  CHECK_ENOMEM(mi_calloc(above_ptrdiff, 1));
  CHECK_ENOMEM(mi_realloc(NULL, max));

  // failed reallocation keeps the original block
  for (size_t from = 16; from <= 32 * MI_TEST_MIB; from *= 16) {
    uint8_t* p = (uint8_t*)mi_malloc(from);
    CHECKF(p != NULL, "mi_malloc(%zu) returned NULL", from);
    if (p == NULL) continue;
    mi_test_pattern_fill(p, 0, from, from);
    CHECK_ENOMEM(mi_realloc(p, max));
    CHECK_ENOMEM(mi_realloc(p, above_ptrdiff));
    CHECK_ENOMEM(mi_realloc(p, max - 4095));
    CHECK_ENOMEM(mi_reallocn(p, half, 3));
    CHECK_ENOMEM(mi_recalloc(p, 3, half));
    CHECK_ENOMEM(mi_rezalloc(p, max));
    CHECKF(mi_usable_size(p) >= from, "after failed reallocations the block of %zu reports %zu", from, mi_usable_size(p));
    CHECKF(mi_test_pattern_ok(p, 0, from, from), "failed reallocations changed a block of %zu bytes", from);
    mi_free(p);
  }

  // the allocator still works after the failures
  for (size_t n = 1; n <= 64 * MI_TEST_KIB; n = 2 * n + 1) {
    void* p = mi_malloc(n);
    CHECKF(p != NULL, "mi_malloc(%zu) failed after the error cases", n);
    if (p != NULL) {
      mi_test_pattern_fill(p, 0, n, n);
      CHECK(mi_test_pattern_ok(p, 0, n, n));
    }
    mi_free(p);
  }

  // Reallocating memory this allocator did not hand out fails with EINVAL and
  // leaves that memory alone (its size is unknown, so moving it could lose data).
  {
    static char foreign[64] = "foreign memory stays as it is";
    errno = 0;
    void* r = mi_realloc(foreign, 4096);
    const int err = errno;
    CHECKF(r == NULL, "mi_realloc(foreign) returned %p, expected NULL", r);
    CHECKF(err == EINVAL, "mi_realloc(foreign) set errno=%d, expected EINVAL", err);
    CHECK(strcmp(foreign, "foreign memory stays as it is") == 0);
    mi_free(foreign); // detected and ignored
    CHECK(strcmp(foreign, "foreign memory stays as it is") == 0);
  }
  return mi_test_summary("test-api-errors");
}

/* ----------------------------------------------------------------------------
Misuse test: a write one byte past the requested size (MI_PADDING).

For sizes across every page kind (and an aligned block): writing the whole
mi_usable_size is fine and reported by nothing (the usable size is truthful);
one byte more is reported on free, and on realloc, exactly once (any byte
but MI_DEBUG_PADDING, which the byte after the request always holds) as
  buffer overflow in heap block P of size N: write after N bytes
and the block is left alone: never handed out again, realloc fails with
EINVAL and keeps its contents, and the rest of the heap keeps working.
-----------------------------------------------------------------------------*/
#include "test-misuse.h"

static void overflow_on_free(size_t n, size_t alignment) {
  uint8_t* p = (uint8_t*)(alignment == 0 ? mi_malloc(n) : mi_malloc_aligned(n, alignment));
  CHECKF(p != NULL && mi_usable_size(p) == n, "size %zu: usable %zu", n, p == NULL ? 0 : mi_usable_size(p));
  if (p == NULL)
    return;
  memset(p, 0x5A, n);
  misuse_begin();
  mi_free(p);
  CHECKF(misuse_count("buffer overflow") == 0, "size %zu: writing the usable size was reported", n);

  p = (uint8_t*)(alignment == 0 ? mi_malloc(n) : mi_malloc_aligned(n, alignment));
  if (p == NULL)
    return;
  mi_test_pattern_fill(p, 0, n, n);
  p[n] = 'x'; // one byte too far
  misuse_begin();
  mi_free(p);
  size_t seen = misuse_countf("buffer overflow in heap block %p of size %zu: write after %zu bytes\n", (void*)p, n, n);
  CHECKF(seen == 1 && misuse_count("buffer overflow") == 1, "size %zu (alignment %zu): reported %zu times", n,
         alignment, seen);
  if (seen != 1)
    misuse_dump("overflow on free");
  // Left alone: the contents stay and the block is never handed out again.
  CHECKF(mi_test_pattern_ok(p, 0, n, n), "size %zu: the reported block was changed", n);
  CHECKF(misuse_heap_works(n, 64, p), "size %zu: the heap does not work after the report", n);
}

// The byte just after the request reads MI_DEBUG_PADDING in every block, also
// when the request ends right at the padding's canary: otherwise a one-byte
// overflow that happens to write the canary's byte goes unseen.
static void first_padding_byte(size_t n) {
  enum { max_count = 256 };
  uint8_t* blocks[max_count];
  // 256 blocks of the small sizes make a cookie-dependent byte show for sure;
  // a few of the big ones (3 MiB each) suffice.
  const size_t count = (n <= 4096 ? max_count : 4);
  size_t wrong = 0;
  for (size_t i = 0; i < count; i++) {
    blocks[i] = (uint8_t*)mi_malloc(n);
    if (blocks[i] != NULL && blocks[i][n] != MI_DEBUG_PADDING)
      wrong++;
  }
  CHECKF(wrong == 0, "size %zu: %zu of %zu blocks hold another byte after the request", n, wrong, count);
  for (size_t i = 0; i < count; i++)
    mi_free(blocks[i]);
}

static void overflow_on_realloc(size_t n) {
  uint8_t* p = (uint8_t*)mi_malloc(n);
  if (p == NULL)
    return;
  mi_test_pattern_fill(p, 0, n, n + 1);
  p[n] = 'x';
  misuse_begin();
  errno = 0;
  void* q = mi_realloc(p, 2 * n);
  CHECKF(q == NULL && errno == EINVAL, "size %zu: realloc of an overflowed block returned %p (errno %d)", n, q,
         errno);
  size_t seen = misuse_countf("buffer overflow in heap block %p of size %zu: write after %zu bytes\n", (void*)p, n, n);
  CHECKF(seen == 1, "size %zu: realloc reported the overflow %zu times", n, seen);
  CHECKF(mi_test_pattern_ok(p, 0, n, n + 1), "size %zu: realloc changed the reported block", n);
}

int main(void) {
  static const size_t sizes[] = {1, 7, 8, 24, 100, 1000, 1024, 1025, 5000, 20000, 100000, 300000, 3 << 20};
  for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
    overflow_on_free(sizes[i], 0);
    overflow_on_realloc(sizes[i]);
    first_padding_byte(sizes[i]);
  }
  overflow_on_free(100, 64);
  overflow_on_free(3000, 4096);
  // A shrinking realloc keeps the block: its padding follows the new size.
  uint8_t* p = (uint8_t*)mi_malloc(200);
  p = (uint8_t*)mi_realloc(p, 150);
  CHECK(p != NULL && mi_usable_size(p) == 150);
  if (p != NULL) {
    p[mi_test_opaque_size(150)] = (uint8_t)'x'; // hidden from the compiler: a deliberate overflow
    misuse_begin();
    mi_free(p);
    CHECK(misuse_countf("buffer overflow in heap block %p of size 150: write after 150 bytes\n", (void*)p) == 1);
  }
  mi_test_capture_end();
  return mi_test_summary("test-misuse-overflow");
}

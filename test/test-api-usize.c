/* ----------------------------------------------------------------------------
API test: the mimalloc 2.2.7 entry points that report the usable size
(mi_umalloc, mi_ucalloc, mi_urealloc, mi_ufree, mi_umalloc_aligned,
mi_uzalloc_aligned, mi_umalloc_small, mi_uzalloc_small).

- The reported size equals mi_usable_size of the returned pointer, is at
  least the request, and the whole reported size is writable without
  disturbing neighbouring live blocks; small sizes report mi_good_size.
- Aligned forms: the result is aligned and the report is the usable size
  from the (interior) aligned address, also for huge alignments.
- Zeroing forms (mi_ucalloc, mi_uzalloc_*) return zeroed memory also when
  the memory is reused after being dirtied.
- mi_urealloc reports the old and the new usable size; contents survive;
  from NULL the old size is 0; a failing request (ENOMEM) returns NULL,
  reports 0 as the new size, and leaves the block intact.
- mi_ufree reports the usable size of the block it frees; NULL reports 0.
- Failing requests (overflow, SIZE_MAX, bad alignment) return NULL, set
  errno, and report 0. Every out-parameter may be NULL.
- MI_MALLOC_VERSION is 227 and mi_version() agrees.
-----------------------------------------------------------------------------*/
#include <errno.h>
#include <mimalloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test-common.h"

#define MI_USIZE_LIVE 16
#define MI_USIZE_UNSET ((size_t)0xA5A5A5A5u)

// Allocate MI_USIZE_LIVE blocks of `n` (2 above 1 MiB) with `alloc`, fill each over its whole
// reported size, then verify all of them and free them with mi_ufree.
typedef void* mi_usize_alloc_fun(size_t n, size_t* block_size);

static void mi_usize_check_live(const char* name, mi_usize_alloc_fun* alloc, size_t n, bool zeroed) {
  void* blocks[MI_USIZE_LIVE];
  size_t sizes[MI_USIZE_LIVE];
  const size_t live = (n > ((size_t)1 << 20) ? 2 : MI_USIZE_LIVE); // keep large fills short
  for (size_t i = 0; i < live; i++) {
    sizes[i] = MI_USIZE_UNSET;
    blocks[i] = alloc(n, &sizes[i]);
    CHECKF(blocks[i] != NULL, "%s(%zu) returned NULL", name, n);
    if (blocks[i] == NULL) {
      sizes[i] = 0;
      continue;
    }
    const size_t usable = mi_usable_size(blocks[i]);
    CHECKF(sizes[i] == usable, "%s(%zu): reported %zu, mi_usable_size %zu", name, n, sizes[i], usable);
    CHECKF(sizes[i] >= n, "%s(%zu): reported %zu", name, n, sizes[i]);
    if (zeroed)
      CHECKF(mi_test_is_zero(blocks[i], 0, n), "%s(%zu): not zeroed", name, n);
    if (sizes[i] > usable)
      sizes[i] = usable;
    mi_test_pattern_fill(blocks[i], 0, sizes[i], (uint64_t)n * 977 + i);
  }
  for (size_t i = 0; i < live; i++) {
    if (blocks[i] == NULL)
      continue;
    CHECKF(mi_test_pattern_ok(blocks[i], 0, sizes[i], (uint64_t)n * 977 + i), "%s(%zu): block %zu overwritten",
           name, n, i);
    size_t freed = MI_USIZE_UNSET;
    mi_ufree(blocks[i], &freed);
    CHECKF(freed == sizes[i], "mi_ufree after %s(%zu): reported %zu, expected %zu", name, n, freed, sizes[i]);
  }
}

static void* mi_usize_umalloc(size_t n, size_t* bs) { return mi_umalloc(n, bs); }
static void* mi_usize_ucalloc(size_t n, size_t* bs) { return mi_ucalloc(1, n, bs); }
static void* mi_usize_umalloc_small(size_t n, size_t* bs) { return mi_umalloc_small(n, bs); }
static void* mi_usize_uzalloc_small(size_t n, size_t* bs) { return mi_uzalloc_small(n, bs); }

static void mi_usize_check_plain(void) {
  static const size_t sizes[] = { 0, 1, 7, 8, 9, 15, 16, 17, 100, 1000, 1024, 4000, 8192, 16385, 70000,
                                  130000, 600000, 3u << 20, 20u << 20 };
  for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
    mi_usize_check_live("mi_umalloc", &mi_usize_umalloc, sizes[i], false);
    mi_usize_check_live("mi_ucalloc", &mi_usize_ucalloc, sizes[i], true);
  }
  for (size_t n = 0; n <= MI_SMALL_SIZE_MAX; n += (n < 64 ? 1 : 24)) {
    size_t bs = MI_USIZE_UNSET;
    void* p = mi_umalloc_small(n, &bs);
    // Without padding the usable size is the size class (mi_good_size); with
    // padding (debug, secure, tracking builds) it is what was asked for.
    CHECKF(p != NULL && bs == mi_usable_size(p) && bs >= n && bs <= mi_good_size(n),
           "mi_umalloc_small(%zu): %zu, mi_good_size %zu", n, bs, mi_good_size(n));
    mi_ufree(p, NULL);
    mi_usize_check_live("mi_umalloc_small", &mi_usize_umalloc_small, n, false);
    mi_usize_check_live("mi_uzalloc_small", &mi_usize_uzalloc_small, n, true);
  }
  // NULL out-parameters are allowed everywhere.
  void* p = mi_umalloc(40, NULL);
  CHECK(p != NULL);
  p = mi_urealloc(p, 4000, NULL, NULL);
  CHECK(p != NULL);
  mi_ufree(p, NULL);
  p = mi_ucalloc(3, 5, NULL);
  CHECK(p != NULL && mi_test_is_zero(p, 0, 15));
  mi_ufree(p, NULL);
  mi_ufree(mi_umalloc_small(8, NULL), NULL);
  mi_ufree(mi_uzalloc_small(8, NULL), NULL);
  mi_ufree(mi_umalloc_aligned(8, 64, NULL), NULL);
  mi_ufree(mi_uzalloc_aligned(8, 64, NULL), NULL);
}

// Dirty many blocks of size `n`, free them, then ask for as many zeroed
// blocks: the page's free list runs dry, so reused (dirty) blocks come back,
// and the zeroing forms must clear them.
#define MI_USIZE_REUSE 600
static void mi_usize_check_zero_reuse(size_t n, size_t alignment, bool use_calloc) {
  static void* blocks[MI_USIZE_REUSE];
  for (size_t i = 0; i < MI_USIZE_REUSE; i++) {
    blocks[i] = mi_malloc_aligned(n, alignment);
    if (blocks[i] != NULL)
      memset(blocks[i], 0xEE, mi_usable_size(blocks[i]));
  }
  for (size_t i = 0; i < MI_USIZE_REUSE; i++)
    mi_free(blocks[i]);
  size_t dirty = 0;
  for (size_t i = 0; i < MI_USIZE_REUSE; i++) {
    size_t bs = MI_USIZE_UNSET;
    blocks[i] = (use_calloc ? mi_ucalloc(n, 1, &bs) : mi_uzalloc_aligned(n, alignment, &bs));
    CHECKF(blocks[i] != NULL && ((uintptr_t)blocks[i] % alignment) == 0 && bs == mi_usable_size(blocks[i]),
           "%s(%zu, %zu) on reused memory", (use_calloc ? "mi_ucalloc" : "mi_uzalloc_aligned"), n, alignment);
    if (blocks[i] != NULL && !mi_test_is_zero(blocks[i], 0, n))
      dirty++;
  }
  CHECKF(dirty == 0, "%s(%zu, %zu): %zu of %d reused blocks not zeroed", (use_calloc ? "mi_ucalloc" : "mi_uzalloc_aligned"),
         n, alignment, dirty, MI_USIZE_REUSE);
  for (size_t i = 0; i < MI_USIZE_REUSE; i++)
    mi_free(blocks[i]);
}

static void mi_usize_check_aligned(void) {
  static const size_t sizes[] = { 1, 24, 100, 3000, 70000, 1u << 20 };
  for (size_t alignment = sizeof(void*); alignment <= ((size_t)64 << 20); alignment *= 4) {
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
      const size_t n = sizes[i];
      size_t bs = MI_USIZE_UNSET;
      void* p = mi_umalloc_aligned(n, alignment, &bs);
      CHECKF(p != NULL, "mi_umalloc_aligned(%zu, %zu) returned NULL", n, alignment);
      if (p == NULL)
        continue;
      CHECKF(((uintptr_t)p % alignment) == 0, "mi_umalloc_aligned(%zu, %zu) = %p", n, alignment, p);
      CHECKF(bs == mi_usable_size(p) && bs >= n, "mi_umalloc_aligned(%zu, %zu): reported %zu, usable %zu", n,
             alignment, bs, mi_usable_size(p));
      mi_test_pattern_fill(p, 0, bs, n ^ alignment);
      size_t bz = MI_USIZE_UNSET;
      void* q = mi_uzalloc_aligned(n, alignment, &bz);
      CHECKF(q != NULL && ((uintptr_t)q % alignment) == 0 && bz == mi_usable_size(q) && bz >= n &&
                 mi_test_is_zero(q, 0, n),
             "mi_uzalloc_aligned(%zu, %zu): reported %zu", n, alignment, bz);
      CHECKF(mi_test_pattern_ok(p, 0, bs, n ^ alignment), "mi_umalloc_aligned(%zu, %zu) block overwritten", n,
             alignment);
      size_t freed = MI_USIZE_UNSET;
      mi_ufree(q, &freed);
      CHECKF(q == NULL || freed == bz, "mi_ufree of an aligned block: %zu, expected %zu", freed, bz);
      freed = MI_USIZE_UNSET;
      mi_ufree(p, &freed);
      CHECKF(freed == bs, "mi_ufree of an aligned block: %zu, expected %zu", freed, bs);
    }
    mi_usize_check_zero_reuse(200, (alignment <= 4096 ? alignment : 4096), false);
  }
}

static void mi_usize_check_realloc(void) {
  size_t pre = MI_USIZE_UNSET;
  size_t post = MI_USIZE_UNSET;
  void* p = mi_urealloc(NULL, 10, &pre, &post);
  CHECKF(p != NULL && pre == 0 && post == mi_usable_size(p), "mi_urealloc(NULL, 10): pre %zu post %zu", pre, post);
  size_t filled = 10;
  mi_test_pattern_fill(p, 0, filled, 42);
  // Grow through every page kind and back down; each step reports the old and new sizes.
  static const size_t steps[] = { 11, 100, 5000, 40000, 300000, 5u << 20, 40u << 20, 64, 3 };
  for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
    const size_t old_usable = mi_usable_size(p);
    pre = post = MI_USIZE_UNSET;
    void* q = mi_urealloc(p, steps[i], &pre, &post);
    CHECKF(q != NULL, "mi_urealloc(%zu) returned NULL", steps[i]);
    if (q == NULL)
      break;
    p = q;
    CHECKF(pre == old_usable, "mi_urealloc(%zu): pre %zu, expected %zu", steps[i], pre, old_usable);
    CHECKF(post == mi_usable_size(p) && post >= steps[i], "mi_urealloc(%zu): post %zu, usable %zu", steps[i], post,
           mi_usable_size(p));
    const size_t kept = (filled < steps[i] ? filled : steps[i]);
    CHECKF(mi_test_pattern_ok(p, 0, kept, 42), "mi_urealloc(%zu) lost the contents", steps[i]);
    filled = steps[i];
    mi_test_pattern_fill(p, 0, filled, 42);
  }
  // A failing request leaves the block alone and reports it as it was.
  const size_t before = mi_usable_size(p);
  pre = post = MI_USIZE_UNSET;
  errno = 0;
  void* q = mi_urealloc(p, mi_test_opaque_size(SIZE_MAX), &pre, &post);
  CHECKF(q == NULL && errno == ENOMEM, "mi_urealloc(SIZE_MAX) = %p, errno %d", q, errno);
  CHECKF(pre == before && post == 0, "failed mi_urealloc: pre %zu (expected %zu) post %zu", pre, before, post);
  CHECK(mi_test_pattern_ok(p, 0, filled, 42));
  size_t freed = MI_USIZE_UNSET;
  mi_ufree(p, &freed);
  CHECKF(freed == before, "mi_ufree: %zu, expected %zu", freed, before);
}

static void mi_usize_check_failures(void) {
  size_t bs = MI_USIZE_UNSET;
  errno = 0;
  void* p = mi_umalloc(mi_test_opaque_size(SIZE_MAX), &bs);
  CHECKF(p == NULL && errno == ENOMEM && bs == 0, "mi_umalloc(SIZE_MAX): %p errno %d size %zu", p, errno, bs);
  bs = MI_USIZE_UNSET;
  errno = 0;
  p = mi_ucalloc(mi_test_opaque_size(SIZE_MAX / 2), 3, &bs);
  CHECKF(p == NULL && errno == ENOMEM && bs == 0, "mi_ucalloc overflow: %p errno %d size %zu", p, errno, bs);
  bs = MI_USIZE_UNSET;
  p = mi_umalloc_aligned(16, mi_test_opaque_size(24), &bs);
  CHECKF(p == NULL && bs == 0, "mi_umalloc_aligned(16, 24): %p size %zu", p, bs);
  bs = MI_USIZE_UNSET;
  p = mi_uzalloc_aligned(mi_test_opaque_size(SIZE_MAX), 64, &bs);
  CHECKF(p == NULL && bs == 0, "mi_uzalloc_aligned(SIZE_MAX, 64): %p size %zu", p, bs);
  bs = MI_USIZE_UNSET;
  mi_ufree(NULL, &bs);
  CHECKF(bs == 0, "mi_ufree(NULL): %zu", bs);
}

int main(void) {
  CHECKF(MI_MALLOC_VERSION == 227 && mi_version() == MI_MALLOC_VERSION, "version %d / %d", MI_MALLOC_VERSION,
         mi_version());
  mi_usize_check_plain();
  mi_usize_check_aligned();
  mi_usize_check_zero_reuse(200, sizeof(void*), true);
  mi_usize_check_realloc();
  mi_usize_check_failures();
  return mi_test_summary("test-api-usize");
}

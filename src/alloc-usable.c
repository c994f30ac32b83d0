/* ----------------------------------------------------------------------------
Copyright (c) 2026 The project authors. MIT license, see LICENSE.

The mimalloc 2.2.7 "usable size" entry points: the usual allocation calls,
each also reporting the usable size of the block it returns (or frees)
through an optional out-parameter, so a caller need not ask mi_usable_size
separately. A size of 0 is reported whenever no block is involved.
-----------------------------------------------------------------------------*/
#include "mimalloc/internal.h"

// The usable size of `p`, 0 for NULL or for memory this allocator did not hand
// out. Quiet: the call that follows (free, realloc) reports a foreign pointer.
static size_t mi_usable_size_quiet(const void* p) {
  if (p == NULL || !_mi_segment_map_contains(_mi_ptr_segment(p)))
    return 0;
  return _mi_usable_size(p, "mi_usable_size_quiet");
}

static void* mi_usable_report(void* p, size_t* block_size) {
  if (block_size != NULL)
    *block_size = (p == NULL ? 0 : _mi_usable_size(p, "mi_usable_report"));
  return p;
}

mi_decl_restrict void* mi_umalloc(size_t size, size_t* block_size) mi_attr_noexcept {
  return mi_usable_report(mi_malloc(size), block_size);
}

mi_decl_restrict void* mi_ucalloc(size_t count, size_t size, size_t* block_size) mi_attr_noexcept {
  return mi_usable_report(mi_calloc(count, size), block_size);
}

mi_decl_restrict void* mi_umalloc_small(size_t size, size_t* block_size) mi_attr_noexcept {
  return mi_usable_report(mi_malloc_small(size), block_size);
}

mi_decl_restrict void* mi_uzalloc_small(size_t size, size_t* block_size) mi_attr_noexcept {
  return mi_usable_report(mi_zalloc_small(size), block_size);
}

mi_decl_restrict void* mi_umalloc_aligned(size_t size, size_t alignment,
                                          size_t* block_size) mi_attr_noexcept {
  return mi_usable_report(mi_malloc_aligned(size, alignment), block_size);
}

mi_decl_restrict void* mi_uzalloc_aligned(size_t size, size_t alignment,
                                          size_t* block_size) mi_attr_noexcept {
  return mi_usable_report(mi_zalloc_aligned(size, alignment), block_size);
}

// On failure `p` is left as it was and `block_size_pre` still describes it.
void* mi_urealloc(void* p, size_t newsize, size_t* block_size_pre, size_t* block_size_post) mi_attr_noexcept {
  if (block_size_pre != NULL)
    *block_size_pre = mi_usable_size_quiet(p);
  return mi_usable_report(mi_realloc(p, newsize), block_size_post);
}

void mi_ufree(void* p, size_t* block_size) mi_attr_noexcept {
  if (block_size != NULL)
    *block_size = mi_usable_size_quiet(p);
  mi_free(p);
}

/* ----------------------------------------------------------------------------
Copyright (c) 2026 The project authors. MIT license, see LICENSE.

Aligned allocation. Alignments up to MI_BLOCK_ALIGNMENT_MAX over-allocate
inside a normal page and hand out an interior address (the page is marked
`has_aligned` so free finds the block start); larger alignments get a huge
segment whose single block starts at an aligned address.
-----------------------------------------------------------------------------*/
#include "mimalloc/internal.h"

static void* mi_aligned_fail(int err, size_t size, size_t alignment) {
  errno = err;
  _mi_error_message(err, "aligned allocation failed (size %zu, alignment %zu)\n", size, alignment);
  return NULL;
}

static void* mi_heap_malloc_zero_aligned_at_generic(mi_heap_t* heap, size_t size, size_t alignment,
                                                    size_t offset, bool zero) {
  if (alignment > MI_BLOCK_ALIGNMENT_MAX) {
    // Huge alignment: the block starts at the aligned address itself.
    if (offset != 0)
      return mi_aligned_fail(EOVERFLOW, size, alignment);
    size_t huge_size = (size <= MI_MEDIUM_OBJ_SIZE_MAX ? MI_MEDIUM_OBJ_SIZE_MAX + 1 : size);
    void* p = _mi_heap_malloc_zero_ex(heap, huge_size, zero, alignment);
    mi_assert_internal(p == NULL || ((uintptr_t)p % alignment) == 0);
    return (p == NULL ? NULL : _mi_realloc_in_place(p, size)); // the padding follows `size`
  }
  if (size > MI_MAX_ALLOC_SIZE - alignment)
    return mi_aligned_fail(ENOMEM, size, alignment);
  size_t oversize = size + alignment - 1;
  void* p = _mi_heap_malloc_zero(heap, oversize, zero);
  if (p == NULL)
    return NULL;
  uintptr_t adjust = (alignment - (((uintptr_t)p + offset) % alignment)) % alignment;
  void* aligned = (uint8_t*)p + adjust;
  if (aligned != p)
    mi_page_set_has_aligned(_mi_ptr_page(p));
  mi_assert_internal((((uintptr_t)aligned + offset) % alignment) == 0);
  return _mi_realloc_in_place(aligned, size); // the padding follows `size`, not the over-allocation
}

static void* mi_heap_malloc_zero_aligned_at(mi_heap_t* heap, size_t size, size_t alignment, size_t offset,
                                            bool zero) {
  if (mi_unlikely(alignment == 0 || !_mi_is_power_of_two(alignment)))
    return mi_aligned_fail(EINVAL, size, alignment);
  if (mi_unlikely(size > MI_MAX_ALLOC_SIZE))
    return mi_aligned_fail(ENOMEM, size, alignment);
  // Fast path: the next free block of the size happens to be aligned.
  if (mi_likely(size <= MI_SMALL_SIZE_MAX && alignment <= size)) {
    mi_page_t* page = _mi_heap_get_free_small_page(heap, size + MI_PADDING_SIZE);
    if (page->free != NULL && (((uintptr_t)page->free + offset) & (alignment - 1)) == 0) {
      return _mi_page_malloc_zero(heap, page, size + MI_PADDING_SIZE, zero);
    }
  }
  return mi_heap_malloc_zero_aligned_at_generic(heap, size, alignment, offset, zero);
}

mi_decl_restrict void* mi_heap_malloc_aligned_at(mi_heap_t* heap, size_t size, size_t alignment,
                                                 size_t offset) mi_attr_noexcept {
  return mi_heap_malloc_zero_aligned_at(heap, size, alignment, offset, false);
}

mi_decl_restrict void* mi_heap_malloc_aligned(mi_heap_t* heap, size_t size,
                                              size_t alignment) mi_attr_noexcept {
  return mi_heap_malloc_zero_aligned_at(heap, size, alignment, 0, false);
}

mi_decl_restrict void* mi_heap_zalloc_aligned_at(mi_heap_t* heap, size_t size, size_t alignment,
                                                 size_t offset) mi_attr_noexcept {
  return mi_heap_malloc_zero_aligned_at(heap, size, alignment, offset, true);
}

mi_decl_restrict void* mi_heap_zalloc_aligned(mi_heap_t* heap, size_t size,
                                              size_t alignment) mi_attr_noexcept {
  return mi_heap_malloc_zero_aligned_at(heap, size, alignment, 0, true);
}

mi_decl_restrict void* mi_heap_calloc_aligned_at(mi_heap_t* heap, size_t count, size_t size, size_t alignment,
                                                 size_t offset) mi_attr_noexcept {
  size_t total;
  if (mi_count_size_overflow(count, size, &total))
    return mi_aligned_fail(ENOMEM, SIZE_MAX, alignment);
  return mi_heap_malloc_zero_aligned_at(heap, total, alignment, offset, true);
}

mi_decl_restrict void* mi_heap_calloc_aligned(mi_heap_t* heap, size_t count, size_t size,
                                              size_t alignment) mi_attr_noexcept {
  return mi_heap_calloc_aligned_at(heap, count, size, alignment, 0);
}

mi_decl_restrict void* mi_malloc_aligned_at(size_t size, size_t alignment, size_t offset) mi_attr_noexcept {
  return mi_heap_malloc_aligned_at(mi_prim_get_default_heap(), size, alignment, offset);
}

mi_decl_restrict void* mi_malloc_aligned(size_t size, size_t alignment) mi_attr_noexcept {
  return mi_heap_malloc_aligned(mi_prim_get_default_heap(), size, alignment);
}

mi_decl_restrict void* mi_zalloc_aligned_at(size_t size, size_t alignment, size_t offset) mi_attr_noexcept {
  return mi_heap_zalloc_aligned_at(mi_prim_get_default_heap(), size, alignment, offset);
}

mi_decl_restrict void* mi_zalloc_aligned(size_t size, size_t alignment) mi_attr_noexcept {
  return mi_heap_zalloc_aligned(mi_prim_get_default_heap(), size, alignment);
}

mi_decl_restrict void* mi_calloc_aligned_at(size_t count, size_t size, size_t alignment,
                                            size_t offset) mi_attr_noexcept {
  return mi_heap_calloc_aligned_at(mi_prim_get_default_heap(), count, size, alignment, offset);
}

mi_decl_restrict void* mi_calloc_aligned(size_t count, size_t size, size_t alignment) mi_attr_noexcept {
  return mi_heap_calloc_aligned(mi_prim_get_default_heap(), count, size, alignment);
}

// ---------------------------------------------------------------------------
// Aligned reallocation
// ---------------------------------------------------------------------------
static void* mi_heap_realloc_zero_aligned_at(mi_heap_t* heap, void* p, size_t newsize, size_t alignment,
                                             size_t offset, bool zero) {
  if (alignment <= sizeof(uintptr_t))
    return _mi_heap_realloc_zero(heap, p, newsize, zero);
  if (p == NULL)
    return mi_heap_malloc_zero_aligned_at(heap, newsize, alignment, offset, zero);
  if (mi_unlikely(!_mi_segment_map_contains(_mi_ptr_segment(p)))) {
    return _mi_heap_realloc_zero(heap, p, newsize, zero); // reports the foreign pointer, fails with EINVAL
  }
  if (!_mi_realloc_check(p))
    return NULL;
  size_t size = mi_usable_size(p);
  if (newsize <= size && newsize >= (size - (size / 2)) && (((uintptr_t)p + offset) % alignment) == 0) {
    return _mi_realloc_in_place(p, newsize); // still fits, still aligned, not too wasteful
  }
  void* newp = mi_heap_malloc_aligned_at(heap, newsize, alignment, offset);
  if (newp == NULL)
    return NULL;
  return _mi_realloc_move(p, size, newp, newsize, zero);
}

void* mi_heap_realloc_aligned_at(mi_heap_t* heap, void* p, size_t newsize, size_t alignment,
                                 size_t offset) mi_attr_noexcept {
  return mi_heap_realloc_zero_aligned_at(heap, p, newsize, alignment, offset, false);
}

void* mi_heap_realloc_aligned(mi_heap_t* heap, void* p, size_t newsize, size_t alignment) mi_attr_noexcept {
  return mi_heap_realloc_zero_aligned_at(heap, p, newsize, alignment, 0, false);
}

void* mi_heap_rezalloc_aligned_at(mi_heap_t* heap, void* p, size_t newsize, size_t alignment,
                                  size_t offset) mi_attr_noexcept {
  return mi_heap_realloc_zero_aligned_at(heap, p, newsize, alignment, offset, true);
}

void* mi_heap_rezalloc_aligned(mi_heap_t* heap, void* p, size_t newsize, size_t alignment) mi_attr_noexcept {
  return mi_heap_realloc_zero_aligned_at(heap, p, newsize, alignment, 0, true);
}

void* mi_heap_recalloc_aligned_at(mi_heap_t* heap, void* p, size_t newcount, size_t size, size_t alignment,
                                  size_t offset) mi_attr_noexcept {
  size_t total;
  if (mi_count_size_overflow(newcount, size, &total))
    return mi_aligned_fail(ENOMEM, SIZE_MAX, alignment);
  return mi_heap_rezalloc_aligned_at(heap, p, total, alignment, offset);
}

void* mi_heap_recalloc_aligned(mi_heap_t* heap, void* p, size_t newcount, size_t size,
                               size_t alignment) mi_attr_noexcept {
  return mi_heap_recalloc_aligned_at(heap, p, newcount, size, alignment, 0);
}

void* mi_realloc_aligned_at(void* p, size_t newsize, size_t alignment, size_t offset) mi_attr_noexcept {
  return mi_heap_realloc_aligned_at(mi_prim_get_default_heap(), p, newsize, alignment, offset);
}

void* mi_realloc_aligned(void* p, size_t newsize, size_t alignment) mi_attr_noexcept {
  return mi_heap_realloc_aligned(mi_prim_get_default_heap(), p, newsize, alignment);
}

void* mi_rezalloc_aligned_at(void* p, size_t newsize, size_t alignment, size_t offset) mi_attr_noexcept {
  return mi_heap_rezalloc_aligned_at(mi_prim_get_default_heap(), p, newsize, alignment, offset);
}

void* mi_rezalloc_aligned(void* p, size_t newsize, size_t alignment) mi_attr_noexcept {
  return mi_heap_rezalloc_aligned(mi_prim_get_default_heap(), p, newsize, alignment);
}

void* mi_recalloc_aligned_at(void* p, size_t newcount, size_t size, size_t alignment,
                             size_t offset) mi_attr_noexcept {
  return mi_heap_recalloc_aligned_at(mi_prim_get_default_heap(), p, newcount, size, alignment, offset);
}

void* mi_recalloc_aligned(void* p, size_t newcount, size_t size, size_t alignment) mi_attr_noexcept {
  return mi_heap_recalloc_aligned(mi_prim_get_default_heap(), p, newcount, size, alignment);
}

/* ----------------------------------------------------------------------------
Copyright (c) 2026 The project authors. MIT license, see LICENSE.

The allocation API: malloc, zalloc, calloc, realloc and friends, for the
default heap and for explicit heaps. The small-object fast path is one table
lookup and a free-list pop: no lock, no search.
-----------------------------------------------------------------------------*/
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE
#endif
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "mimalloc/internal.h"

// Fast path: pop a block from the page's free list. `size` includes the padding.
inline void* _mi_page_malloc_zero(mi_heap_t* heap, mi_page_t* page, size_t size, bool zero) {
  mi_block_t* const block = page->free;
  if (mi_unlikely(block == NULL))
    return _mi_malloc_generic(heap, size, zero, 0);
#if MI_DEBUG > 0 || MI_SECURE >= 3
  // A link overwritten by an overflow (or, encoded, decoding to garbage) is caught before use.
  mi_block_t* next = mi_block_next(block);
  if (mi_unlikely(next != NULL && !mi_page_holds_block(page, next)))
    next = _mi_free_list_corrupted(page, block);
  page->free = next;
#else
  page->free = mi_block_next(block);
#endif
  page->used++;
#if MI_DEBUG > 0
  // Per-size statistics cost a few instructions on every allocation: debug builds only.
  if (page->block_size <= MI_LARGE_OBJ_SIZE_MAX) {
    mi_stats_t* stats = &heap->tld->stats;
    mi_stat_increase(stats->malloc_normal, page->block_size);
    mi_stat_increase(stats->malloc_bins[page->block_size <= MI_MEDIUM_OBJ_SIZE_MAX ? _mi_bin(page->block_size)
                                                                                   : MI_BIN_HUGE],
                     page->block_size);
    mi_stat_counter_increase(stats->malloc_normal_count, 1);
  }
  mi_stat_increase(heap->tld->stats.malloc_requested, size);
#endif
  mi_track_malloc(block, mi_page_usable_block_size(page), zero && page->free_is_zero);
  // With padding, a block of 0 usable bytes has its link in the padding, which
  // is written below (and must stay untouched for ASan and memcheck).
  const bool link_is_usable = (!MI_PADDING || mi_page_usable_block_size(page) >= sizeof(mi_block_t));
  if (mi_unlikely(zero)) {
    if (!page->free_is_zero)
      memset(block, 0, mi_page_usable_block_size(page));
    else if (link_is_usable)
      block->next = NULL; // the rest of the block is fresh, zeroed memory
  }
#if MI_SECURE >= 4
  // A live block's first word must not look like a free-list link, or every
  // free of it would walk the lists for a double free (see checks.c).
  if (link_is_usable)
    *(uintptr_t*)block = 0;
#endif
  (void)link_is_usable;
#if MI_PADDING || MI_DEBUG >= 2
  mi_block_init_debug(page, block, size, zero);
#endif
  return block;
}

void* _mi_malloc_fail(size_t size) {
  errno = ENOMEM;
  _mi_error_message(ENOMEM, "unable to allocate memory (%zu bytes)\n", size);
  return NULL;
}

static inline void* mi_heap_malloc_small_zero(mi_heap_t* heap, size_t size, bool zero) {
#if MI_GUARDED
  if (mi_heap_guarded_sample(heap, size))
    return _mi_heap_malloc_guarded(heap, size, zero);
#endif
  mi_page_t* page = _mi_heap_get_free_small_page(heap, size + MI_PADDING_SIZE);
  return _mi_page_malloc_zero(heap, page, size + MI_PADDING_SIZE, zero);
}

inline void* _mi_heap_malloc_zero_ex(mi_heap_t* heap, size_t size, bool zero, size_t huge_alignment) {
  if (mi_likely(size <= MI_SMALL_SIZE_MAX))
    return mi_heap_malloc_small_zero(heap, size, zero);
  if (mi_unlikely(size > MI_MAX_ALLOC_SIZE - MI_PADDING_SIZE))
    return _mi_malloc_fail(size);
#if MI_GUARDED
  if (huge_alignment == 0 && mi_heap_guarded_sample(heap, size))
    return _mi_heap_malloc_guarded(heap, size, zero);
#endif
  return _mi_malloc_generic(heap, size + MI_PADDING_SIZE, zero, huge_alignment);
}

inline void* _mi_heap_malloc_zero(mi_heap_t* heap, size_t size, bool zero) {
  return _mi_heap_malloc_zero_ex(heap, size, zero, 0);
}

mi_decl_restrict void* mi_heap_malloc_small(mi_heap_t* heap, size_t size) mi_attr_noexcept {
  return mi_heap_malloc_small_zero(heap, size, false);
}

mi_decl_restrict void* mi_malloc_small(size_t size) mi_attr_noexcept {
  return mi_heap_malloc_small_zero(mi_prim_get_default_heap(), size, false);
}

mi_decl_restrict void* mi_zalloc_small(size_t size) mi_attr_noexcept {
  return mi_heap_malloc_small_zero(mi_prim_get_default_heap(), size, true);
}

mi_decl_restrict void* mi_heap_malloc(mi_heap_t* heap, size_t size) mi_attr_noexcept {
  return _mi_heap_malloc_zero(heap, size, false);
}

mi_decl_restrict void* mi_malloc(size_t size) mi_attr_noexcept {
  return _mi_heap_malloc_zero(mi_prim_get_default_heap(), size, false);
}

mi_decl_restrict void* mi_heap_zalloc(mi_heap_t* heap, size_t size) mi_attr_noexcept {
  return _mi_heap_malloc_zero(heap, size, true);
}

mi_decl_restrict void* mi_zalloc(size_t size) mi_attr_noexcept {
  return _mi_heap_malloc_zero(mi_prim_get_default_heap(), size, true);
}

mi_decl_restrict void* mi_heap_calloc(mi_heap_t* heap, size_t count, size_t size) mi_attr_noexcept {
  size_t total;
  if (mi_count_size_overflow(count, size, &total))
    return NULL;
  return _mi_heap_malloc_zero(heap, total, true);
}

mi_decl_restrict void* mi_calloc(size_t count, size_t size) mi_attr_noexcept {
  return mi_heap_calloc(mi_prim_get_default_heap(), count, size);
}

mi_decl_restrict void* mi_heap_mallocn(mi_heap_t* heap, size_t count, size_t size) mi_attr_noexcept {
  size_t total;
  if (mi_count_size_overflow(count, size, &total))
    return NULL;
  return mi_heap_malloc(heap, total);
}

mi_decl_restrict void* mi_mallocn(size_t count, size_t size) mi_attr_noexcept {
  return mi_heap_mallocn(mi_prim_get_default_heap(), count, size);
}

// ---------------------------------------------------------------------------
// Reallocation
// ---------------------------------------------------------------------------

// Grow in place if the block is already big enough; never moves.
void* mi_expand(void* p, size_t newsize) mi_attr_noexcept {
  if (p == NULL)
    return NULL;
  size_t size = _mi_usable_size(p, "mi_expand");
  if (newsize > size)
    return NULL;
  return p;
}

// realloc of a pointer of ours: the checks of free (debug, padding and secure
// builds). A pointer free would refuse makes realloc fail with EINVAL and
// stay untouched.
bool _mi_realloc_check(void* p) {
#if MI_FREE_CHECKS
  const mi_segment_t* segment = _mi_ptr_segment(p);
  if (mi_unlikely(!_mi_free_check(segment, _mi_segment_page_of(segment, p), p, "mi_realloc"))) {
    errno = EINVAL;
    return false;
  }
#endif
  (void)p;
  return true;
}

// Keep `p` for `newsize` bytes (no more than it has): the padding follows the new size.
void* _mi_realloc_in_place(void* p, size_t newsize) {
#if MI_PADDING
  mi_page_t* page = _mi_ptr_page(p);
  mi_block_t* block = (mi_page_has_aligned(page) ? _mi_page_ptr_unalign(page, p) : (mi_block_t*)p);
  mi_padding_set(page, block, (uint8_t*)p + newsize);
#endif
  (void)newsize;
  return p;
}

void* _mi_heap_realloc_zero(mi_heap_t* heap, void* p, size_t newsize, bool zero) {
  if (p == NULL)
    return _mi_heap_malloc_zero(heap, newsize, zero);
  if (mi_unlikely(!_mi_segment_map_contains(_mi_ptr_segment(p)))) {
    // Not ours: its size is unknown, so moving it could lose data. Leave it be.
    _mi_usable_size(p, "mi_realloc"); // reports the pointer
    errno = EINVAL;
    return NULL;
  }
  if (!_mi_realloc_check(p))
    return NULL;
  size_t size = _mi_usable_size(p, "mi_realloc");
  // Keep the block if the new size fits and wastes at most half of it.
  if (mi_unlikely(newsize <= size && newsize >= (size / 2) && newsize > 0))
    return _mi_realloc_in_place(p, newsize);
  void* newp = mi_heap_malloc(heap, newsize);
  if (mi_unlikely(newp == NULL))
    return NULL; // the old block is untouched
  return _mi_realloc_move(p, size, newp, newsize, zero);
}

// Move the contents of `p` (usable size `size`) to the new block and free `p`.
// With `zero`, the part of the new block beyond the old contents is cleared.
void* _mi_realloc_move(void* p, size_t size, void* newp, size_t newsize, bool zero) {
  if (zero && newsize > size) {
    // The old block was zero beyond what was used; the last word may hold padding.
    size_t start = (size >= sizeof(intptr_t) ? size - sizeof(intptr_t) : 0);
    memset((uint8_t*)newp + start, 0, newsize - start);
  }
  memcpy(newp, p, (newsize > size ? size : newsize));
  mi_free(p);
  return newp;
}

void* mi_heap_realloc(mi_heap_t* heap, void* p, size_t newsize) mi_attr_noexcept {
  return _mi_heap_realloc_zero(heap, p, newsize, false);
}

void* mi_heap_reallocn(mi_heap_t* heap, void* p, size_t count, size_t size) mi_attr_noexcept {
  size_t total;
  if (mi_count_size_overflow(count, size, &total))
    return NULL;
  return mi_heap_realloc(heap, p, total);
}

// Like realloc, but frees `p` when the reallocation fails.
void* mi_heap_reallocf(mi_heap_t* heap, void* p, size_t newsize) mi_attr_noexcept {
  void* newp = mi_heap_realloc(heap, p, newsize);
  if (newp == NULL && p != NULL)
    mi_free(p);
  return newp;
}

void* mi_heap_rezalloc(mi_heap_t* heap, void* p, size_t newsize) mi_attr_noexcept {
  return _mi_heap_realloc_zero(heap, p, newsize, true);
}

void* mi_heap_recalloc(mi_heap_t* heap, void* p, size_t count, size_t size) mi_attr_noexcept {
  size_t total;
  if (mi_count_size_overflow(count, size, &total))
    return NULL;
  return mi_heap_rezalloc(heap, p, total);
}

void* mi_realloc(void* p, size_t newsize) mi_attr_noexcept {
  return mi_heap_realloc(mi_prim_get_default_heap(), p, newsize);
}

void* mi_reallocn(void* p, size_t count, size_t size) mi_attr_noexcept {
  return mi_heap_reallocn(mi_prim_get_default_heap(), p, count, size);
}

void* mi_reallocf(void* p, size_t newsize) mi_attr_noexcept {
  return mi_heap_reallocf(mi_prim_get_default_heap(), p, newsize);
}

void* mi_rezalloc(void* p, size_t newsize) mi_attr_noexcept {
  return mi_heap_rezalloc(mi_prim_get_default_heap(), p, newsize);
}

void* mi_recalloc(void* p, size_t count, size_t size) mi_attr_noexcept {
  return mi_heap_recalloc(mi_prim_get_default_heap(), p, count, size);
}

// ---------------------------------------------------------------------------
// Strings and paths
// ---------------------------------------------------------------------------
mi_decl_restrict char* mi_heap_strdup(mi_heap_t* heap, const char* s) mi_attr_noexcept {
  if (s == NULL)
    return NULL;
  size_t len = strlen(s);
  char* t = (char*)mi_heap_malloc(heap, len + 1);
  if (t == NULL)
    return NULL;
  memcpy(t, s, len + 1);
  return t;
}

mi_decl_restrict char* mi_strdup(const char* s) mi_attr_noexcept {
  return mi_heap_strdup(mi_prim_get_default_heap(), s);
}

mi_decl_restrict char* mi_heap_strndup(mi_heap_t* heap, const char* s, size_t n) mi_attr_noexcept {
  if (s == NULL)
    return NULL;
  size_t len = strnlen(s, n);
  char* t = (char*)mi_heap_malloc(heap, len + 1);
  if (t == NULL)
    return NULL;
  memcpy(t, s, len);
  t[len] = 0;
  return t;
}

mi_decl_restrict char* mi_strndup(const char* s, size_t n) mi_attr_noexcept {
  return mi_heap_strndup(mi_prim_get_default_heap(), s, n);
}

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

mi_decl_restrict char* mi_heap_realpath(mi_heap_t* heap, const char* fname,
                                        char* resolved_name) mi_attr_noexcept {
  if (resolved_name != NULL)
    return realpath(fname, resolved_name);
  char buf[PATH_MAX + 1];
  char* rname = realpath(fname, buf);
  if (rname == NULL)
    return NULL;
  return mi_heap_strdup(heap, rname);
}

mi_decl_restrict char* mi_realpath(const char* fname, char* resolved_name) mi_attr_noexcept {
  return mi_heap_realpath(mi_prim_get_default_heap(), fname, resolved_name);
}

#if MI_OVERRIDE_ALIASES
mi_override_link_all();
void* malloc(size_t size) mi_attr_malloc mi_attr_alloc_size(1) mi_decl_alias_of(mi_malloc);
void* __libc_malloc(size_t size) mi_attr_malloc mi_attr_alloc_size(1) mi_decl_alias_of(mi_malloc);
#endif

/* ----------------------------------------------------------------------------
Copyright (c) 2026 The project authors. MIT license, see LICENSE.

Freeing. The owner of a page pushes onto its local free list (the fast path).
Other threads push onto the page's atomic thread-free list, or, for a full
page, onto the owning heap's delayed-free list so the owner notices the page
has room again. Frees into abandoned segments may claim the segment (see
abandon.c and ownership.h).
-----------------------------------------------------------------------------*/
#include <string.h>
#include "mimalloc/internal.h"

// ---------------------------------------------------------------------------
// Pointers that are not ours (checks of our own blocks: checks.c)
// ---------------------------------------------------------------------------
static bool mi_invalid_free_reported; // atomic

static mi_decl_noinline mi_decl_cold void mi_free_invalid(const void* p, const char* msg) {
  mi_test_count(MI_TEST_INVALID_FREE);
  bool expected = false;
  // Report only the first one: a program that frees foreign pointers tends to do it often.
  if (mi_atomic_cas_strong_acq_rel(&mi_invalid_free_reported, &expected,
                                   true)) { // pairs with itself only; no data
    _mi_warning_message("%s: pointer %p was not allocated by this allocator; it is left alone\n", msg, p);
  }
}

// ---------------------------------------------------------------------------
// Freeing a block
// ---------------------------------------------------------------------------

mi_block_t* _mi_page_ptr_unalign(const mi_page_t* page, const void* p) {
  size_t diff = (size_t)((uint8_t*)p - page->page_start);
  size_t adjust = diff % page->block_size;
  return (mi_block_t*)((uintptr_t)p - adjust);
}

// Debug builds count frees against the freeing thread's statistics.
static inline void mi_free_stats(const mi_page_t* page) {
#if MI_DEBUG > 0
  mi_heap_t* heap = mi_prim_get_default_heap();
  if (!mi_heap_is_initialized(heap) || page->block_size > MI_LARGE_OBJ_SIZE_MAX)
    return;
  mi_stats_t* stats = &heap->tld->stats;
  mi_stat_decrease(stats->malloc_normal, page->block_size);
  mi_stat_decrease(stats->malloc_bins[page->block_size <= MI_MEDIUM_OBJ_SIZE_MAX ? _mi_bin(page->block_size)
                                                                                 : MI_BIN_HUGE],
                   page->block_size);
#else
  (void)page;
#endif
}

#define MI_REMOTE_FREES_PER_COLLECT (16 * 1024)

// The owner gives a block back. Outside secure builds it goes on `free`, so the next
// allocation of this size gets memory that is still in the cache (larson,
// mstress, xstress: 5-20% faster than waiting until `free` runs out); the
// generic path is then entered only when a page runs out or fills up. Secure
// builds keep the owner's frees in `local_free` until `free` runs out, so a
// freed block is not handed out again at once.
static inline void mi_page_free_push(mi_page_t* page, mi_block_t* block) {
#if MI_SECURE > 0
  mi_block_set_next(block, page->local_free);
  page->local_free = block;
#else
  mi_block_set_next(block, page->free);
  page->free = block;
  page->free_is_zero = false;
#endif
}

static inline void mi_free_block_local(mi_page_t* page, mi_block_t* block) {
  mi_free_stats(page);
  mi_page_free_push(page, block);
  if (mi_unlikely(--page->used == 0)) {
    if (page->retire_expire == 0)
      _mi_page_retire(page);
  } else if (mi_unlikely(mi_page_is_full(page))) {
    _mi_page_unfull(page);
  }
}

// A free by a thread that does not own the page.
static mi_decl_noinline void mi_free_block_remote(mi_segment_t* segment, mi_page_t* page, mi_block_t* block) {
  if (mi_unlikely(mi_segment_is_huge(segment))) {
    // A huge block whose owner has gone: claim the segment and free it now.
    mi_heap_t* heap = mi_prim_get_default_heap();
    if (mi_segment_is_abandoned(segment)) {
      if (!mi_heap_is_initialized(heap)) {
        _mi_thread_ensure_initialized();
        heap = mi_prim_get_default_heap();
      }
      if (mi_heap_is_initialized(heap) && _mi_segment_reclaim_on_free(segment, heap)) {
        mi_test_count(MI_TEST_HUGE_FREE_AFTER_EXIT);
        mi_free_block_local(page, block);
        return;
      }
    }
    // The owner is alive (or someone else claimed it): return the memory now,
    // leave the block for the owner.
    _mi_segment_huge_page_free_remote(segment, page, block);
  } else if (_mi_option_get_fast(mi_option_abandoned_reclaim_on_free) != 0 &&
             mi_segment_is_abandoned(segment)) {
    mi_heap_t* heap = mi_prim_get_default_heap();
    if (mi_heap_is_initialized(heap) && !heap->no_reclaim && _mi_segment_reclaim_on_free(segment, heap)) {
      mi_free_block_local(page, block);
      return;
    }
  }

  // A thread that mostly frees other threads' blocks may own pages (e.g.
  // reclaimed ones) that collect remote frees too; collect them now and then.
  mi_heap_t* own = mi_prim_get_default_heap();
  if (mi_heap_is_initialized(own) && ++own->tld->remote_since_collect >= MI_REMOTE_FREES_PER_COLLECT) {
    own->tld->remote_since_collect = 0;
    mi_heap_collect(own, false);
  }

  // Push onto the page's thread-free list, or start a delayed free.
  uintptr_t tfree = mi_atomic_load_relaxed(&page->xthread_free);
  uintptr_t tfreex;
  bool use_delayed;
  do {
    use_delayed = (mi_tf_delayed(tfree) == MI_USE_DELAYED_FREE);
    if (mi_unlikely(use_delayed)) {
      tfreex = mi_tf_set_delayed(tfree, MI_DELAYED_FREEING);
    } else {
      mi_block_set_next(block, mi_tf_block(tfree));
      tfreex = mi_tf_set_block(tfree, block);
      mi_test_point(MI_TEST_POINT_REMOTE_FREE_PUSH, page);
    }
    // Release pairs with the acquire CAS in mi_page_thread_free_collect (the
    // owner sees our `next` write) and in _mi_page_try_use_delayed_free;
    // acquire pairs with the read-modify-write in _mi_page_delayed_freeing_wait
    // that follows a heap switch (we then read the new heap below).
  } while (!mi_atomic_cas_weak_acq_rel(&page->xthread_free, &tfree, tfreex));

  if (mi_likely(!use_delayed)) {
    mi_test_point(MI_TEST_POINT_REMOTE_FREE_COUNT, page);
    // Counted after the push. Release pairs with the acquire exchange in
    // mi_page_thread_free_collect: whoever takes this count also takes the block.
    mi_atomic_add_release(&page->xthread_freed, 1);
  } else {
    // The page is full: hand the block to the owning heap. The heap stays
    // alive while the page is in MI_DELAYED_FREEING (heap deletion waits).
    mi_heap_t* heap =
        (mi_heap_t*)mi_atomic_load_acquire(&page->xheap); // pairs with mi_page_set_heap's release
    mi_test_point(MI_TEST_POINT_DELAYED_FREE_PUSH, page);
    if (heap != NULL) {
      mi_block_t* dfree = mi_atomic_load_relaxed(&heap->thread_delayed_free);
      do {
        mi_block_set_next(block, dfree);
        // Release pairs with the acquire exchange in _mi_heap_delayed_free_partial.
      } while (!mi_atomic_cas_weak_release(&heap->thread_delayed_free, &dfree, block));
    }
    tfree = mi_atomic_load_relaxed(&page->xthread_free);
    do {
      tfreex = mi_tf_set_delayed(tfree, MI_NO_DELAYED_FREE);
      // Release pairs with the acquire loads in _mi_page_try_use_delayed_free.
    } while (!mi_atomic_cas_weak_release(&page->xthread_free, &tfree, tfreex));
  }
}

void _mi_free_generic(mi_segment_t* segment, mi_page_t* page, bool is_local, void* p) {
  const bool aligned = (is_local ? mi_page_has_aligned(page) : mi_page_has_aligned_remote(segment, page));
  mi_block_t* block = (aligned ? _mi_page_ptr_unalign(page, p) : (mi_block_t*)p);
#if MI_GUARDED
  if (mi_unlikely(page->is_guarded != MI_GUARD_NONE) && _mi_page_guard_free(page, block, is_local))
    return;
#endif
  mi_track_free(block, mi_page_usable_block_size(page));
  if (is_local)
    mi_free_block_local(page, block);
  else
    mi_free_block_remote(segment, page, block);
}

// Checks of debug, padding and secure builds, then the debug fill; false if
// the pointer must be left alone (the problem was reported). Nothing in release.
static inline bool mi_free_prepare(const mi_segment_t* segment, mi_page_t* page, void* p) {
#if MI_FREE_CHECKS
  if (!_mi_free_check(segment, page, p, "mi_free"))
    return false;
#endif
#if MI_DEBUG >= 2
  mi_block_fill_freed(page, (mi_page_has_aligned(page) ? _mi_page_ptr_unalign(page, p) : (mi_block_t*)p));
#endif
  (void)segment, (void)page, (void)p;
  return true;
}

// Everything the fast path of mi_free does not handle: NULL, pointers this
// allocator did not hand out, and blocks that start exactly at a segment
// boundary (huge alignments), whose segment is the one before.
static mi_decl_noinline void mi_free_slow(void* p) {
  mi_segment_t* const segment = _mi_ptr_segment(p);
  if (!_mi_segment_map_contains(segment)) {
    if (p != NULL)
      mi_free_invalid(p, "mi_free");
    return;
  }
  mi_page_t* const page = _mi_segment_page_of(segment, p);
  if (!mi_free_prepare(segment, page, p))
    return; // reported; the block is left alone
  _mi_free_generic(segment, page, mi_segment_is_owned_by_me(segment), p);
}

void mi_free(void* p) mi_attr_noexcept {
  // `p & ~mask`, not `_mi_ptr_segment`: every block but one at a segment
  // boundary lies inside its segment's first unit, and that one (like NULL,
  // whose unit is never ours) fails the map check and takes the slow path.
  mi_segment_t* const segment = (mi_segment_t*)((uintptr_t)p & ~MI_SEGMENT_MASK);
  if (mi_unlikely(!_mi_segment_map_contains(segment))) {
    mi_free_slow(p);
    return;
  }
  mi_page_t* const page = _mi_segment_page_of(segment, p);
  if (!mi_free_prepare(segment, page, p))
    return; // reported; the block is left alone
  const bool is_local = mi_segment_is_owned_by_me(segment);
  if (mi_likely(is_local && page->flags.full_aligned == 0)) {
    // Fast path: the owner frees into a page that is not full and has no aligned blocks.
    mi_block_t* const block = (mi_block_t*)p;
    mi_free_stats(page);
    mi_track_free(block, mi_page_usable_block_size(page));
    mi_page_free_push(page, block);
    if (mi_unlikely(--page->used == 0) && page->retire_expire == 0)
      _mi_page_retire(page);
  } else {
    _mi_free_generic(segment, page, is_local, p);
  }
}

// A block from a heap's delayed-free list (owner thread). Returns false if a
// remote thread is still busy with the page; the block is retried later.
static bool mi_free_delayed_block(mi_block_t* block) {
  mi_page_t* page = _mi_ptr_page(block);
  if (!_mi_page_try_use_delayed_free(page, MI_NO_DELAYED_FREE, false))
    return false;
  _mi_page_free_collect(page, false);
  mi_free_block_local(page, block);
  return true;
}

// Process the blocks other threads freed into this heap's full pages.
bool _mi_heap_delayed_free_partial(mi_heap_t* heap) {
  if (mi_atomic_load_relaxed(&heap->thread_delayed_free) == NULL)
    return true;
  // Acquire pairs with the release CAS that pushed each block.
  mi_block_t* block = mi_atomic_exchange_acquire(&heap->thread_delayed_free, NULL);
  bool all_freed = true;
  while (block != NULL) {
    mi_block_t* next = mi_block_next(block);
    if (!mi_free_delayed_block(block)) {
      all_freed = false;
      mi_block_t* dfree = mi_atomic_load_relaxed(&heap->thread_delayed_free);
      do {
        mi_block_set_next(block, dfree);
        // Release pairs with the acquire exchange above (next round).
      } while (!mi_atomic_cas_weak_release(&heap->thread_delayed_free, &dfree, block));
    }
    block = next;
  }
  return all_freed;
}

void _mi_heap_delayed_free_all(mi_heap_t* heap) {
  while (!_mi_heap_delayed_free_partial(heap))
    _mi_prim_yield();
}

// ---------------------------------------------------------------------------
// Sizes of blocks
// ---------------------------------------------------------------------------
size_t _mi_usable_size(const void* p, const char* msg) {
  if (p == NULL)
    return 0;
  const mi_segment_t* segment = _mi_ptr_segment(p);
  if (mi_unlikely(!_mi_segment_map_contains(segment))) {
    mi_free_invalid(p, msg);
    return 0;
  }
  const mi_page_t* page = _mi_segment_page_of(segment, p);
  const mi_block_t* block =
      (mi_page_has_aligned(page) ? _mi_page_ptr_unalign(page, p) : (const mi_block_t*)p);
  return mi_block_requested_size(page, block, p) - mi_page_guard_size(page);
}

size_t mi_usable_size(const void* p) mi_attr_noexcept { return _mi_usable_size(p, "mi_usable_size"); }

void mi_free_size(void* p, size_t size) mi_attr_noexcept {
  mi_assert(p == NULL || size <= _mi_usable_size(p, "mi_free_size"));
  (void)size;
  mi_free(p);
}

void mi_free_size_aligned(void* p, size_t size, size_t alignment) mi_attr_noexcept {
  mi_assert(((uintptr_t)p % (alignment == 0 ? 1 : alignment)) == 0);
  (void)alignment;
  mi_free_size(p, size);
}

void mi_free_aligned(void* p, size_t alignment) mi_attr_noexcept {
  mi_assert(((uintptr_t)p % (alignment == 0 ? 1 : alignment)) == 0);
  (void)alignment;
  mi_free(p);
}

#if MI_OVERRIDE_ALIASES
mi_override_link_all();
void free(void* p) mi_decl_alias_of(mi_free);
void __libc_free(void* p) mi_decl_alias_of(mi_free);
#endif

/* ----------------------------------------------------------------------------
Copyright (c) 2026 The project authors. MIT license, see LICENSE.

Guarded allocation (MI_GUARDED builds). A sampled allocation gets a page of
its own whose single block ends at a protected OS page, and the program's
bytes are placed right before that guard page: the first byte written or read
past the object faults at the instruction that does it. Sampling is per heap:
every `guarded_sample_rate`-th allocation with a size in
[guarded_min, guarded_max] (options, or mi_heap_guarded_set_*). With
`guarded_precise` the object ends exactly at the guard page; otherwise its
size is rounded up to 16 bytes so the pointer stays 16-byte aligned.

A guarded block its owner frees stays in a small per-heap quarantine with
all of its memory protected, so a use after free faults as well; the oldest
is really freed when the quarantine is full, when the heap is collected with
force (also at thread exit) and when it is deleted.

Without MI_GUARDED the settings are accepted and have no effect, as in
mimalloc builds without guarded allocation.
-----------------------------------------------------------------------------*/
#include "mimalloc/internal.h"

#if MI_GUARDED

// The first guarded allocation of a heap comes after 1..rate allocations in
// range, chosen by the seed (0: a random seed).
static void mi_heap_guarded_set_count(mi_heap_t* heap, size_t seed) {
  if (heap->guarded_sample_rate == 0) {
    heap->guarded_sample_count = 0;
    return;
  }
  if (seed == 0)
    seed = (size_t)(_mi_prim_random_seed() ^ heap->cookie);
  heap->guarded_sample_count = 1 + (seed % heap->guarded_sample_rate);
}

void _mi_heap_guarded_init(mi_heap_t* heap) {
  long rate = mi_option_get(mi_option_guarded_sample_rate);
  long min = mi_option_get(mi_option_guarded_min);
  long max = mi_option_get(mi_option_guarded_max);
  heap->guarded_sample_rate = (rate > 0 ? (size_t)rate : 0);
  heap->guarded_size_min = (min > 0 ? (size_t)min : 0);
  heap->guarded_size_max = (max >= 0 ? (size_t)max : SIZE_MAX);
  mi_heap_guarded_set_count(heap, (size_t)mi_option_get(mi_option_guarded_sample_seed));
}

void mi_heap_guarded_set_sample_rate(mi_heap_t* heap, size_t sample_rate, size_t seed) {
  if (heap == NULL || !mi_heap_is_initialized(heap))
    return;
  heap->guarded_sample_rate = sample_rate;
  mi_heap_guarded_set_count(heap, seed);
}

void mi_heap_guarded_set_size_bound(mi_heap_t* heap, size_t min, size_t max) {
  if (heap == NULL || !mi_heap_is_initialized(heap))
    return;
  heap->guarded_size_min = min;
  heap->guarded_size_max = (max < min ? min : max);
}

// A block of more than MI_MEDIUM_OBJ_SIZE_MAX bytes always gets a page of its
// own (page.c), so the guard page never sits inside another block.
void* _mi_heap_malloc_guarded(mi_heap_t* heap, size_t size, bool zero) {
  const size_t os_page = _mi_os_page_size();
  const size_t obj_size = (mi_option_is_enabled(mi_option_guarded_precise) ? size : _mi_align_up(size, 16));
  if (obj_size > MI_LARGE_OBJ_SIZE_MAX)
    return _mi_malloc_generic(heap, size, zero, 0); // huge: not guarded
  size_t block_size = _mi_align_up(obj_size, os_page) + os_page;
  if (block_size <= MI_MEDIUM_OBJ_SIZE_MAX)
    block_size = MI_MEDIUM_OBJ_SIZE_MAX + 1;
  uint8_t* block = (uint8_t*)_mi_malloc_generic(heap, block_size, zero, 0);
  if (block == NULL)
    return NULL;
  mi_page_t* page = _mi_ptr_page(block);
  mi_assert_internal(page->reserved == 1 && (uint8_t*)block == page->page_start);
  uint8_t* guard = block + page->block_size - os_page;
  mi_page_set_has_aligned(page); // interior pointer: frees take the generic path and find the block
  if (_mi_prim_protect(guard, os_page, true) != 0) {
    _mi_warning_message("unable to protect the guard page of a guarded block at %p\n", (void*)block);
  } else {
    page->is_guarded = MI_GUARD_LIVE; // a checker's own report would pre-empt the fault: no tracking change
  }
  mi_stat_counter_increase(heap->tld->stats.malloc_guarded_count, 1);
  return (guard - obj_size);
}

// Make a guarded page's memory accessible again: the guard page, and for a
// quarantined block the whole block.
void _mi_page_guard_release(mi_page_t* page) {
  const size_t os_page = _mi_os_page_size();
  uint8_t* end = page->page_start + page->block_size;
  uint8_t* start = (page->is_guarded == MI_GUARD_QUARANTINED ? page->page_start : end - os_page);
  if (_mi_prim_protect(start, (size_t)(end - start), false) != 0)
    _mi_error_message(EFAULT, "unable to unprotect guarded memory at %p\n", (void*)start);
  page->is_guarded = MI_GUARD_NONE;
}

// Free the oldest block of the heap's quarantine for real.
static void mi_heap_guarded_evict(mi_heap_t* heap) {
  mi_assert_internal(heap->guarded_quarantine_count > 0);
  mi_block_t* block = heap->guarded_quarantine[heap->guarded_quarantine_first];
  heap->guarded_quarantine_first = (heap->guarded_quarantine_first + 1) % MI_GUARDED_QUARANTINE;
  heap->guarded_quarantine_count--;
  mi_page_t* page = _mi_ptr_page(block);
  mi_assert_internal(page->is_guarded == MI_GUARD_QUARANTINED);
  _mi_page_guard_release(page);
  _mi_free_generic(_mi_ptr_segment(block), page, true, block);
}

void _mi_heap_guarded_flush(mi_heap_t* heap) {
  while (heap->guarded_quarantine_count > 0)
    mi_heap_guarded_evict(heap);
}

// A guarded block is freed. The owner keeps it in its heap's quarantine with
// all of it inaccessible, so a use after free faults at the access; a free
// of a block already there is a double free and leaves it alone. Returns
// true if the free is done; false if the block is to be freed as usual (a
// remote free: the guard page is released first).
bool _mi_page_guard_free(mi_page_t* page, mi_block_t* block, bool is_local) {
  if (page->is_guarded == MI_GUARD_QUARANTINED) {
    _mi_error_message(EAGAIN, "mi_free: double free of the guarded block at %p\n", (void*)block);
    return true;
  }
  mi_heap_t* heap = mi_page_heap(page);
  const size_t os_page = _mi_os_page_size();
  if (!is_local || heap == NULL ||
      _mi_prim_protect(page->page_start, page->block_size - os_page, true) != 0) {
    _mi_page_guard_release(page);
    return false;
  }
  page->is_guarded = MI_GUARD_QUARANTINED;
  if (heap->guarded_quarantine_count == MI_GUARDED_QUARANTINE)
    mi_heap_guarded_evict(heap);
  size_t last = (heap->guarded_quarantine_first + heap->guarded_quarantine_count) % MI_GUARDED_QUARANTINE;
  heap->guarded_quarantine[last] = block;
  heap->guarded_quarantine_count++;
  return true;
}

#else

void mi_heap_guarded_set_sample_rate(mi_heap_t* heap, size_t sample_rate, size_t seed) {
  (void)heap, (void)sample_rate, (void)seed;
}

void mi_heap_guarded_set_size_bound(mi_heap_t* heap, size_t min, size_t max) {
  (void)heap, (void)min, (void)max;
}

#endif

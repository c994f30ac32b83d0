/* ----------------------------------------------------------------------------
Copyright (c) 2026 The project authors. MIT license, see LICENSE.

Checks of the program's pointers and of the free lists they could corrupt.

_mi_free_check runs on every free and realloc in debug, padding and secure
(level 4) builds: the pointer must be a live block of a page in use, not an
interior pointer, not already free, and its padding must be intact. A block
that fails is reported and left alone: the program keeps running on a heap
that was not made worse.

Walks of a free list validate every link before following it (a block start
inside the page, at most `capacity` of them). An overflow into a free
neighbour overwrites exactly such a link; the walk reports it and cuts the
list at the last sound block, leaking the rest of the list instead of
handing out wild memory.
-----------------------------------------------------------------------------*/
#include <string.h>
#include "mimalloc/internal.h"

static void mi_free_list_report(const mi_page_t* page, const mi_block_t* block, const mi_block_t* next) {
  _mi_error_message(
      EFAULT, "corrupted free list in page %p: block %p links to %p (overflow of a neighbouring block?)\n",
      (void*)page->page_start, (const void*)block, (const void*)next);
}

// The link of `block` (popped from `page->free`) is not a block of the page.
mi_block_t* _mi_free_list_corrupted(const mi_page_t* page, const mi_block_t* block) {
  mi_free_list_report(page, block, mi_block_next(block));
  return NULL;
}

// Walk the list at `*list` (owned by the caller) to its tail, validating
// every link; a bad link is reported and cut. Returns the tail (NULL for an
// empty list) and the number of blocks in `*count`.
mi_block_t* _mi_free_list_tail(const mi_page_t* page, mi_block_t** list, size_t* count) {
  *count = 0;
  mi_block_t* block = *list;
  if (block == NULL)
    return NULL;
  if (!mi_page_holds_block(page, block)) {
    mi_free_list_report(page, NULL, block);
    *list = NULL;
    return NULL;
  }
  *count = 1;
  for (;;) {
    mi_block_t* next = mi_block_next(block);
    if (next == NULL)
      return block;
    if (!mi_page_holds_block(page, next) || *count >= page->capacity) {
      mi_free_list_report(page, block, next);
      mi_block_set_next(block, NULL);
      return block;
    }
    block = next;
    (*count)++;
  }
}

#if MI_FREE_CHECKS
#if MI_DEBUG > 0 || MI_SECURE >= 4
// Is `block` on the list? Each link is validated first; the owner's own lists
// (`cut`) are cut at a bad link, the shared thread-free list only reported.
static bool mi_list_contains(const mi_page_t* page, mi_block_t** list, const mi_block_t* block, bool cut) {
  mi_block_t* prev = NULL;
  mi_block_t* b = *list;
  size_t count = 0;
  while (b != NULL) {
    if (!mi_page_holds_block(page, b) || count >= page->capacity) {
      mi_free_list_report(page, prev, b);
      if (cut) {
        if (prev == NULL)
          *list = NULL;
        else
          mi_block_set_next(prev, NULL);
      }
      return false;
    }
    if (b == block)
      return true;
    prev = b;
    b = mi_block_next(b);
    count++;
  }
  return false;
}

static bool mi_block_is_free(mi_page_t* page, const mi_block_t* block) {
#if MI_DEBUG == 0
  // Release secure builds: a live block almost never holds a word that
  // decodes to a block of its page (or NULL); only then walk the lists.
  mi_block_t* next = mi_block_next(block);
  if (next != NULL && !mi_page_holds_block(page, next))
    return false;
#endif
  if (mi_list_contains(page, &page->free, block, true) ||
      mi_list_contains(page, &page->local_free, block, true))
    return true;
  // Acquire pairs with the release CAS of the remote frees that pushed the blocks.
  mi_block_t* tfree = mi_tf_block(mi_atomic_load_acquire(&page->xthread_free));
  return mi_list_contains(page, &tfree, block, false);
}
#endif

#if MI_PADDING
// Is the padding after the requested size of the block at `p` intact?
// Reports the first overwritten byte otherwise.
static bool mi_padding_check(const mi_page_t* page, const mi_block_t* block, const void* p) {
  const mi_padding_t* padding = mi_block_padding(page, block);
  size_t size = mi_block_requested_size(page, block, p);
  const uint8_t* end = (const uint8_t*)p + size;
  size_t gap = (size_t)((const uint8_t*)padding - end);
  mi_track_mem_defined(end, gap + MI_PADDING_SIZE); // the padding is not the program's to touch
  const mi_padding_t saved = *padding;
  size_t fill = (gap < MI_PADDING_FILL_MAX ? gap : MI_PADDING_FILL_MAX);
  static const uint8_t pattern[MI_PADDING_FILL_MAX] = {[0 ... MI_PADDING_FILL_MAX - 1] = MI_DEBUG_PADDING};
  size_t wrong = SIZE_MAX;
  if (memcmp(end, pattern, fill) != 0) { // then find the first overwritten byte
    size_t i = 0;
    while (end[i] == MI_DEBUG_PADDING)
      i++;
    wrong = size + i;
  }
  mi_track_mem_noaccess(end, gap + MI_PADDING_SIZE);
  if (wrong == SIZE_MAX && saved.canary != mi_padding_canary(block))
    wrong = (size_t)((const uint8_t*)padding - (const uint8_t*)p);
  if (wrong == SIZE_MAX && (saved.delta < MI_PADDING_SIZE || saved.delta > page->block_size))
    wrong = (size_t)((const uint8_t*)&padding->delta - (const uint8_t*)p);
  if (wrong == SIZE_MAX)
    return true;
  _mi_error_message(EFAULT, "buffer overflow in heap block %p of size %zu: write after %zu bytes\n", p, size,
                    wrong);
  return false;
}
#endif

bool _mi_free_check(const mi_segment_t* segment, const mi_page_t* page, const void* p, const char* msg) {
#if MI_DEBUG > 0 || MI_SECURE >= 4
  if (mi_unlikely((segment->cookie ^ (uintptr_t)segment) != _mi_process_cookie)) {
    _mi_error_message(EINVAL, "%s: pointer %p has a corrupted segment header\n", msg, p);
    return false;
  }
  size_t offset = (size_t)((const uint8_t*)p - page->page_start);
  if (mi_unlikely(page->block_size <= 1 || (const uint8_t*)p < page->page_start ||
                  offset >= (size_t)page->reserved * page->block_size)) {
    _mi_error_message(EINVAL, "%s: pointer %p is not an allocated block\n", msg, p);
    return false;
  }
  if (mi_unlikely(!mi_page_has_aligned(page) && (offset % page->block_size) != 0)) {
    _mi_error_message(EINVAL, "%s: pointer %p points inside a block\n", msg, p);
    return false;
  }
#endif
  const mi_block_t* block =
      (mi_page_has_aligned(page) ? _mi_page_ptr_unalign(page, p) : (const mi_block_t*)p);
#if MI_DEBUG > 0 || MI_SECURE >= 4
  if (mi_segment_is_owned_by_me(segment) && mi_block_is_free((mi_page_t*)page, block)) {
    _mi_error_message(EAGAIN, "%s: double free of %p detected\n", msg, p);
    return false;
  }
#else
  (void)segment, (void)msg;
#endif
#if MI_PADDING
  if (!mi_padding_check(page, block, p))
    return false;
#endif
  (void)block;
  return true;
}
#endif

// Mark the blocks of one free list in the bitmap `seen` (one bit a block,
// by index), counting them. Stops and returns false at a link that leaves the
// page's blocks or at a block seen before (on this list or another): the
// blocks before it stay marked.
bool _mi_free_list_mark(const mi_page_t* page, const mi_block_t* list, uint64_t* seen, size_t* count) {
  for (const mi_block_t* block = list; block != NULL; block = mi_block_next(block)) {
    if (!mi_page_holds_block(page, block))
      return false;
    size_t index = (size_t)((const uint8_t*)block - page->page_start) / page->block_size;
    uint64_t bit = (uint64_t)1 << (index % 64);
    if ((seen[index / 64] & bit) != 0)
      return false;
    seen[index / 64] |= bit;
    (*count)++;
  }
  return true;
}

#if MI_DEBUG > 2
// Full check of a page held by the calling thread (its owner, or the claimant
// of its abandoned segment): with `used`, the free lists account for every
// block made available so far. Lists the program has corrupted (a link out of
// the page, a block twice) cannot be judged and pass: the program's bug is
// reported where the list is used, and this check is for the allocator's.
//
// Remote frees go on while this runs, so the balance is a bound: a block
// another thread has pushed but not yet counted is on a list and still in
// `used` (the left side grows), and the pending count is read before the list
// so that a count can only be for a block the walk will find.
bool _mi_page_is_valid(const mi_page_t* page) {
  if (page->capacity > page->reserved || page->used > page->capacity)
    return false;
  if (mi_page_is_quarantined(page))
    return true; // its blocks are in the guard quarantine, not on lists
  // Acquire pairs with the release add of mi_free_block_remote: the blocks it
  // counts were pushed before, and the list read below holds them.
  uint32_t pending = mi_atomic_load_acquire(&page->xthread_freed);
  // Acquire pairs with the release CAS of the remote pushes: their links are visible.
  const mi_block_t* thread_list = mi_tf_block(mi_atomic_load_acquire(&page->xthread_free));
  uint64_t seen[MI_PAGE_BLOCKS_MAX / 64];
  memset(seen, 0, _mi_divide_up(page->capacity, 64) * sizeof(uint64_t));
  size_t on_lists = 0;
  if (!_mi_free_list_mark(page, page->free, seen, &on_lists) ||
      !_mi_free_list_mark(page, page->local_free, seen, &on_lists) ||
      !_mi_free_list_mark(page, thread_list, seen, &on_lists))
    return true;
  return on_lists + page->used >= (size_t)page->capacity + pending;
}
#endif

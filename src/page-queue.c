/* ----------------------------------------------------------------------------
Copyright (c) 2026 The project authors. MIT license, see LICENSE.

Size bins and the heap's page queues. Each bin has a queue of pages whose
blocks have that size; MI_BIN_FULL holds full pages, MI_BIN_HUGE the
single-block (large and huge) pages. The direct table `pages_free_direct`
caches, per word size up to MI_SMALL_SIZE_MAX, the first page of the bin.
-----------------------------------------------------------------------------*/
#include "mimalloc/internal.h"

// Largest size in a bin (the block size of its pages).
size_t _mi_bin_size(uint8_t bin) {
  if (bin == 0 || bin >= MI_BIN_HUGE)
    return (bin == MI_BIN_HUGE ? MI_LARGE_OBJ_SIZE_MAX : 0);
  if (bin <= 8)
    return (size_t)bin * MI_BIN_UNIT;
  size_t b = ((size_t)bin + 3) >> 2;
  size_t k = ((size_t)bin + 3) & 3;
  return ((5 + k) << (b - 2)) * MI_BIN_UNIT;
}

// With padding, the good size leaves room for it in the same block.
size_t mi_good_size(size_t size) mi_attr_noexcept {
  if (size <= MI_MEDIUM_OBJ_SIZE_MAX - MI_PADDING_SIZE)
    return _mi_bin_size(_mi_bin(size == 0 ? 1 : size + MI_PADDING_SIZE)) - MI_PADDING_SIZE;
  if (size > MI_MAX_ALLOC_SIZE - MI_PADDING_SIZE)
    return size;
  return _mi_align_up(size + MI_PADDING_SIZE, _mi_os_page_size()) - MI_PADDING_SIZE;
}

// Keep the direct table in step with the first page of a small bin. All word
// sizes that map to this bin point at the queue's first page (or the empty page).
void _mi_heap_queue_first_update(mi_heap_t* heap, const mi_page_queue_t* queue) {
  size_t size = queue->block_size;
  size_t idx = _mi_wsize_from_size(size);
  if (size > MI_SMALL_SIZE_MAX) {
    // With padding the table reaches past MI_SMALL_SIZE_MAX, into this bin perhaps.
    if (MI_PAGES_DIRECT - 1 == MI_SMALL_WSIZE_MAX || mi_page_queue_is_special(queue) ||
        _mi_bin((MI_PAGES_DIRECT - 1) * MI_INTPTR_SIZE) != _mi_bin(size))
      return;
    idx = MI_PAGES_DIRECT - 1;
  }
  mi_page_t* page = queue->first;
  if (page == NULL)
    page = (mi_page_t*)&_mi_page_empty;
  if (heap->pages_free_direct[idx] == page)
    return;
  // Find the first word size of this bin: walk down while the previous word size maps here too.
  size_t start = idx;
  if (idx > 1) {
    uint8_t bin = _mi_bin(size);
    while (start > 1 && _mi_bin((start - 1) * MI_INTPTR_SIZE) == bin)
      start--;
  }
  if (start == 1)
    start = 0; // size 0 is served by the one-word bin
  for (size_t sz = start; sz <= idx; sz++)
    heap->pages_free_direct[sz] = page;
}

void _mi_page_queue_remove(mi_page_queue_t* queue, mi_page_t* page) {
  mi_assert_internal(page != NULL);
  mi_heap_t* heap = mi_page_heap(page);
  bool was_first = (page == queue->first);
  if (page->prev != NULL)
    page->prev->next = page->next;
  if (page->next != NULL)
    page->next->prev = page->prev;
  if (page == queue->last)
    queue->last = page->prev;
  if (was_first) {
    queue->first = page->next;
    _mi_heap_queue_first_update(heap, queue);
  }
  heap->page_count--;
  page->next = NULL;
  page->prev = NULL;
  mi_page_set_in_full(page, false);
}

void _mi_page_queue_push(mi_heap_t* heap, mi_page_queue_t* queue, mi_page_t* page) {
  mi_assert_internal(mi_page_heap(page) == heap);
  mi_page_set_in_full(page, mi_page_queue_is_full(queue));
  page->next = queue->first;
  page->prev = NULL;
  if (queue->first != NULL)
    queue->first->prev = page;
  else
    queue->last = page;
  queue->first = page;
  _mi_heap_queue_first_update(heap, queue);
  heap->page_count++;
}

void _mi_page_queue_move_to_front(mi_heap_t* heap, mi_page_queue_t* queue, mi_page_t* page) {
  if (queue->first == page)
    return;
  _mi_page_queue_remove(queue, page);
  _mi_page_queue_push(heap, queue, page);
}

// Move `page` from queue `from` to the end of queue `to` (same heap).
void _mi_page_queue_enqueue_from(mi_page_queue_t* to, mi_page_queue_t* from, mi_page_t* page) {
  mi_heap_t* heap = mi_page_heap(page);
  if (page->prev != NULL)
    page->prev->next = page->next;
  if (page->next != NULL)
    page->next->prev = page->prev;
  if (page == from->last)
    from->last = page->prev;
  if (page == from->first) {
    from->first = page->next;
    _mi_heap_queue_first_update(heap, from);
  }
  page->prev = to->last;
  page->next = NULL;
  if (to->last != NULL)
    to->last->next = page;
  else {
    to->first = page;
    _mi_heap_queue_first_update(heap, to);
  }
  to->last = page;
  mi_page_set_in_full(page, mi_page_queue_is_full(to));
}

// Append all pages of `from` (of another heap) to `to`; returns the number moved.
size_t _mi_page_queue_append(mi_heap_t* heap, mi_page_queue_t* to, mi_page_queue_t* from) {
  if (from->first == NULL)
    return 0;
  size_t count = 0;
  for (mi_page_t* page = from->first; page != NULL; page = page->next) {
    // Switch first, then wait: a remote free that starts a delayed free from
    // now on reads the new heap, and one that read the old heap is waited out
    // here, so its block is on the old heap's delayed list before the caller
    // drains that list (and frees the old heap).
    mi_page_set_heap(page, heap);
    mi_test_point(MI_TEST_POINT_HEAP_SWITCH, page);
    _mi_page_delayed_freeing_wait(page);
    count++;
  }
  if (to->last == NULL) {
    to->first = from->first;
    to->last = from->last;
    _mi_heap_queue_first_update(heap, to);
  } else {
    to->last->next = from->first;
    from->first->prev = to->last;
    to->last = from->last;
  }
  from->first = from->last = NULL;
  return count;
}

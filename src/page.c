/* ----------------------------------------------------------------------------
Copyright (c) 2026 The project authors. MIT license, see LICENSE.

Pages: free-list initialisation and extension, collecting the local and
thread free lists, the delayed-free protocol for full pages, retiring empty
pages, and the generic (slow) allocation path that finds or makes a page
with free blocks.
-----------------------------------------------------------------------------*/
#include <string.h>
#include "mimalloc/internal.h"

// Extend a page's free list by at most this many bytes at a time, so a
// program touches (and commits) only the memory it uses.
#define MI_MAX_EXTEND_SIZE (4 * 1024)
#define MI_MIN_EXTEND (8)
// The generic path grows a page with free blocks only while they are fewer than this many bytes.
#define MI_GROW_FREE_BELOW (2 * MI_MAX_EXTEND_SIZE)
// Pages up to this block size stay a while when they become empty.
#define MI_MAX_RETIRE_SIZE MI_MEDIUM_OBJ_SIZE_MAX
#define MI_RETIRE_CYCLES (16)

// ---------------------------------------------------------------------------
// Delayed free
// ---------------------------------------------------------------------------

// Try to set the page's delayed-free state. Fails (returns false) if a remote
// thread is in the middle of a delayed free and does not finish soon.
bool _mi_page_try_use_delayed_free(mi_page_t* page, mi_delayed_t delay, bool override_never) {
  size_t yields = 0;
  // Acquire pairs with the release CAS of a remote thread ending its delayed free.
  uintptr_t tfree = mi_atomic_load_acquire(&page->xthread_free);
  for (;;) {
    mi_delayed_t old = mi_tf_delayed(tfree);
    if (mi_unlikely(old == MI_DELAYED_FREEING)) {
      if (yields >= 4)
        return false;
      yields++;
      _mi_prim_yield();
      tfree = mi_atomic_load_acquire(&page->xthread_free); // pairs as above
      continue;
    }
    if (old == delay)
      return true;
    if (!override_never && old == MI_NEVER_DELAYED_FREE)
      return true;
    uintptr_t tfreex = mi_tf_set_delayed(tfree, delay);
    // Release pairs with the acquire load of remote frees reading the state.
    if (mi_atomic_cas_weak_release(&page->xthread_free, &tfree, tfreex))
      return true;
  }
}

// Wait until no remote free is inside a delayed free of the page. Used after
// switching the page's heap: a remote free that read the old heap has then
// finished pushing onto that heap's list. The read is a read-modify-write so
// that it sees the newest state: its release half pairs with the acquire CAS
// that starts a delayed free (that free then reads the new heap), its acquire
// half with the release CAS that ends one (its push is visible here).
void _mi_page_delayed_freeing_wait(mi_page_t* page) {
  while (mi_tf_delayed(mi_atomic_or_acq_rel(&page->xthread_free, 0)) == MI_DELAYED_FREEING)
    _mi_prim_yield();
}

void _mi_page_use_delayed_free(mi_page_t* page, mi_delayed_t delay, bool override_never) {
  while (!_mi_page_try_use_delayed_free(page, delay, override_never)) {
    _mi_prim_yield();
  }
}

// ---------------------------------------------------------------------------
// Collecting free lists
// ---------------------------------------------------------------------------

// Take the count of the blocks other threads freed, and move their list onto
// the local free list. The count is kept beside the list so the list need not
// be walked: its blocks are in other cores' caches, and walking them is a
// cache miss each. Without a walk the list becomes `local_free` whole, or
// `free` with `local_free` moving there first; when both are in use (rare:
// `free` ran out first) the list stays where it is unless `merge` asks for a
// walk. Either way `used` counts no block whose free has finished: a list left
// behind was counted.
static void mi_page_thread_free_collect(mi_page_t* page, bool merge) {
  // The count first: a remote free adds to it after its push, so every block
  // counted here is on the list taken below (or on one taken earlier, or left
  // for a later collect), and `used` never drops below the blocks really in
  // use. Acquire pairs with the release add in mi_free_block_remote (its push
  // then precedes our take).
  if (mi_atomic_load_relaxed(&page->xthread_freed) != 0) {
    uint32_t count = mi_atomic_exchange_acquire(&page->xthread_freed, 0);
    if (mi_unlikely(count > page->used)) {
      _mi_error_message(EFAULT,
                        "page %p: %u blocks freed by other threads but only %u in use (double free?)\n",
                        (void*)page, count, page->used);
      count = page->used;
    }
    page->used -= count;
  }
  if (!merge && page->free != NULL && page->local_free != NULL)
    return;
  uintptr_t tfree = mi_atomic_load_relaxed(&page->xthread_free);
  mi_block_t* head;
  do {
    head = mi_tf_block(tfree);
    if (head == NULL)
      return;
    // Acquire pairs with the release CAS of the remote frees that pushed the
    // blocks: their writes of the `next` links are visible to us.
  } while (!mi_atomic_cas_weak_acq_rel(&page->xthread_free, &tfree, mi_tf_set_block(tfree, NULL)));

#if MI_DEBUG > 0 || MI_SECURE > 0
  // Every link is validated; a corrupted one is reported and the list cut
  // there (the blocks after the cut are lost rather than handed out twice).
  size_t walked;
  mi_block_t* tail = _mi_free_list_tail(page, &head, &walked);
  if (head == NULL)
    return;
#else
  mi_block_t* tail = NULL;
#endif
  if (page->local_free == NULL) {
    page->local_free = head;
    return;
  }
  if (page->free == NULL) {
    page->free = page->local_free;
    page->free_is_zero = false;
    page->local_free = head;
    return;
  }
  if (tail == NULL) {
    size_t walked;
    tail = _mi_free_list_tail(page, &head, &walked);
    if (head == NULL)
      return;
  }
  mi_block_set_next(tail, page->local_free);
  page->local_free = head;
}

void _mi_page_free_collect(mi_page_t* page, bool merge) {
  if (merge || mi_page_thread_free(page) != NULL || mi_atomic_load_relaxed(&page->xthread_freed) != 0)
    mi_page_thread_free_collect(page, merge);
  mi_assert_expensive(_mi_page_is_valid(page));
  if (page->local_free != NULL) {
    if (mi_likely(page->free == NULL)) {
      page->free = page->local_free;
      page->local_free = NULL;
      page->free_is_zero = false;
    } else if (merge) {
      size_t count;
      mi_block_t* tail = _mi_free_list_tail(page, &page->local_free, &count);
      if (tail == NULL)
        return; // the list was corrupt from its first link (reported) and is gone
      mi_block_set_next(tail, page->free);
      page->free = page->local_free;
      page->local_free = NULL;
      page->free_is_zero = false;
    }
  }
}

// ---------------------------------------------------------------------------
// Page initialisation and extension
// ---------------------------------------------------------------------------

#if MI_SECURE > 0
static size_t mi_gcd(size_t a, size_t b) {
  while (b != 0) {
    size_t t = a % b;
    a = b;
    b = t;
  }
  return a;
}

// Secure builds: link the fresh blocks in a random order, so the address of
// the next allocation cannot be predicted from the last one. Block k of the
// list is block (first + k * step) mod extend, with a random start and a
// random step in [2, extend - 2] coprime to `extend` (which makes it a
// permutation in which no two neighbours in memory follow each other).
static void mi_page_free_list_extend_random(mi_page_t* page, size_t extend) {
  mi_assert_internal(extend >= 5);
  size_t bsize = page->block_size;
  uint8_t* start = page->page_start + (size_t)page->capacity * bsize;
  uint64_t r = _mi_random_next();
  size_t index = (size_t)(r % extend);
  size_t step = 2 + (size_t)((r >> 32) % (extend - 3));
  for (size_t tries = 0; mi_gcd(step, extend) != 1; tries++)
    step = (tries < extend ? 2 + (step - 1) % (extend - 3) : 1); // next candidate; only 6 has none
  mi_block_t* first = (mi_block_t*)(start + index * bsize);
  mi_block_t* block = first;
  for (size_t i = 1; i < extend; i++) {
    index = (index + step) % extend;
    mi_block_t* next = (mi_block_t*)(start + index * bsize);
    mi_block_set_next(block, next);
    block = next;
  }
  mi_block_set_next(block, page->free);
  page->free = first;
  page->capacity += (uint32_t)extend;
}
#endif

// Link `extend` fresh blocks after the current capacity into the free list.
static void mi_page_free_list_extend(mi_page_t* page, size_t extend) {
#if MI_SECURE > 0
  if (extend >= 5) {
    mi_page_free_list_extend_random(page, extend);
    return;
  }
#endif
  size_t bsize = page->block_size;
  uint8_t* start = page->page_start + (size_t)page->capacity * bsize;
  mi_block_t* first = (mi_block_t*)start;
  mi_block_t* block = first;
  for (size_t i = 1; i < extend; i++) {
    mi_block_t* next = (mi_block_t*)((uint8_t*)block + bsize);
    mi_block_set_next(block, next);
    block = next;
  }
  mi_block_set_next(block, page->free);
  page->free = first;
  page->capacity += (uint32_t)extend;
}

// Make more of the page's blocks available. Normally only when the free list
// is empty; `grow` also extends a page that the generic path keeps coming back
// to while its free list is short (under MI_GROW_FREE_BELOW bytes of blocks),
// so a page in steady full use gets a longer free list over time. A page with
// plenty of free blocks is left as it is: an extension writes, and so faults
// in, memory the page may never need (and every thread has such a page per
// size class it uses).
static void mi_page_extend_free(mi_heap_t* heap, mi_page_t* page, bool grow) {
  if (page->capacity >= page->reserved)
    return;
  if (page->free != NULL &&
      !(grow && (size_t)(page->capacity - page->used) * page->block_size < MI_GROW_FREE_BELOW))
    return;
  bool was_empty = (page->free == NULL);
  size_t bsize = page->block_size;
  size_t extend = page->reserved - page->capacity;
  size_t max_extend = (bsize >= MI_MAX_EXTEND_SIZE ? MI_MIN_EXTEND : MI_MAX_EXTEND_SIZE / bsize);
  if (max_extend < MI_MIN_EXTEND)
    max_extend = MI_MIN_EXTEND;
  if (extend > max_extend)
    extend = max_extend;
  mi_page_free_list_extend(page, extend);
  page->free_is_zero = (was_empty && page->is_zero_init);
  mi_assert_expensive(_mi_page_is_valid(page));
  mi_stat_counter_increase(heap->tld->stats.pages_extended, 1);
}

void _mi_page_init(mi_heap_t* heap, mi_page_t* page, size_t block_size) {
  mi_assert_internal(block_size > 0);
  size_t page_size = _mi_segment_size_of_page(page);
  mi_page_set_heap(page, heap);
  page->heap_tag = heap->tag;
  page->block_size = block_size;
  page->reserved = (uint32_t)(page_size / block_size);
  mi_assert_internal(page->reserved > 0);
  page->capacity = 0;
  page->used = 0;
  page->free = NULL;
  page->local_free = NULL;
  page->free_is_zero = page->is_zero_init;
  page->retire_expire = 0;
  page->flags.full_aligned = 0;
  page->next = page->prev = NULL;
  mi_atomic_store_relaxed(&page->xthread_free, mi_tf_make(NULL, MI_NO_DELAYED_FREE));
  mi_atomic_store_relaxed(&page->xthread_freed, 0);
  mi_track_mem_noaccess(page->page_start, (size_t)page->reserved * block_size); // no block is live yet
  mi_stat_increase(heap->tld->stats.pages, 1);
  if (block_size <= MI_MEDIUM_OBJ_SIZE_MAX)
    mi_stat_increase(heap->tld->stats.page_bins[_mi_bin(block_size)], 1);
  mi_page_extend_free(heap, page, false);
}

// ---------------------------------------------------------------------------
// Full pages, retire, free, abandon, reclaim
// ---------------------------------------------------------------------------
static void mi_page_to_full(mi_page_t* page, mi_page_queue_t* queue) {
  mi_heap_t* heap = mi_page_heap(page);
  if (mi_page_is_full(page))
    return;
  _mi_page_use_delayed_free(page, MI_USE_DELAYED_FREE, false);
  _mi_page_queue_enqueue_from(&heap->pages[MI_BIN_FULL], queue, page);
  // A remote free may have arrived before the state changed: collect it now.
  _mi_page_free_collect(page, false);
}

void _mi_page_unfull(mi_page_t* page) {
  if (!mi_page_is_full(page))
    return;
  mi_heap_t* heap = mi_page_heap(page);
  mi_page_queue_t* full = &heap->pages[MI_BIN_FULL];
  _mi_page_use_delayed_free(page, MI_NO_DELAYED_FREE, false);
  mi_page_set_in_full(page, false);
  mi_page_queue_t* queue = _mi_page_queue_of(page);
  mi_page_set_in_full(page, true);
  _mi_page_queue_enqueue_from(queue, full, page);
}

// The page leaves the heap: its huge bytes and its place in the per-bin page
// counts go (matching the increases in mi_large_huge_page_alloc and _mi_page_init).
void _mi_page_stats_release(mi_heap_t* heap, const mi_page_t* page) {
  if (page->block_size > MI_LARGE_OBJ_SIZE_MAX)
    mi_stat_decrease(heap->tld->stats.malloc_huge, page->block_size);
  if (page->block_size <= MI_MEDIUM_OBJ_SIZE_MAX)
    mi_stat_decrease(heap->tld->stats.page_bins[_mi_bin(page->block_size)], 1);
}

void _mi_page_free(mi_page_t* page, mi_page_queue_t* queue) {
  mi_heap_t* heap = mi_page_heap(page);
  mi_assert_internal(mi_page_all_free(page));
  mi_assert_expensive(_mi_page_is_valid(page));
  _mi_page_queue_remove(queue, page);
  mi_segments_tld_t* tld = &heap->tld->segments;
  _mi_page_stats_release(heap, page);
  mi_page_set_heap(page, NULL);
  mi_track_mem_undefined(page->page_start, (size_t)page->reserved * page->block_size); // back to the segment
  _mi_segment_page_free(page, tld);
}

// The page's last block was freed. Keep it a while if it is the only page of
// its size (so alternating allocation and free does not thrash), else free it.
static void mi_page_retire_refresh(mi_page_t* page) {
  page->retire_expire = (page->block_size <= MI_SMALL_OBJ_SIZE_MAX ? MI_RETIRE_CYCLES : MI_RETIRE_CYCLES / 4);
}

void _mi_page_retire(mi_page_t* page) {
  mi_heap_t* heap = mi_page_heap(page);
  mi_page_queue_t* queue = _mi_page_queue_of(page);
  size_t bsize = page->block_size;
  if (mi_likely(bsize <= MI_MAX_RETIRE_SIZE && !mi_page_queue_is_special(queue))) {
    if (queue->last == page && queue->first == page) {
      mi_stat_counter_increase(heap->tld->stats.pages_retire, 1);
      mi_page_retire_refresh(page);
      size_t bin = (size_t)(queue - heap->pages);
      if (bin < heap->page_retired_min)
        heap->page_retired_min = bin;
      if (bin > heap->page_retired_max)
        heap->page_retired_max = bin;
      return;
    }
  }
  _mi_page_free(page, queue);
}

// Free retired pages whose time is up (all of them if `force`).
void _mi_heap_collect_retired(mi_heap_t* heap, bool force) {
  size_t min = MI_BIN_FULL;
  size_t max = 0;
  for (size_t bin = heap->page_retired_min; bin <= heap->page_retired_max; bin++) {
    mi_page_queue_t* queue = &heap->pages[bin];
    mi_page_t* page = queue->first;
    if (page == NULL || page->retire_expire == 0)
      continue;
    if (!mi_page_all_free(page)) {
      page->retire_expire = 0;
      continue;
    }
    page->retire_expire--;
    if (force || page->retire_expire == 0) {
      _mi_page_free(page, queue);
    } else {
      if (bin < min)
        min = bin;
      if (bin > max)
        max = bin;
    }
  }
  heap->page_retired_min = min;
  heap->page_retired_max = max;
}

// The heap is going away but the page has live blocks: detach it. Remote
// frees from now on go to the page's thread-free list only.
void _mi_page_abandon(mi_page_t* page, mi_page_queue_t* queue) {
  mi_heap_t* heap = mi_page_heap(page);
  mi_segments_tld_t* tld = &heap->tld->segments;
  _mi_page_use_delayed_free(page, MI_NEVER_DELAYED_FREE, false);
  _mi_page_queue_remove(queue, page);
  mi_page_set_heap(page, NULL);
  _mi_segment_page_abandon(page, tld);
}

// Adopt a page of a reclaimed segment into `heap`.
void _mi_page_reclaim(mi_heap_t* heap, mi_page_t* page) {
  mi_assert_internal(mi_page_heap(page) == NULL);
  mi_page_set_heap(page, heap);
  _mi_page_use_delayed_free(page, MI_NO_DELAYED_FREE, true);
  mi_page_set_in_full(page, false);
  mi_page_queue_t* queue = _mi_page_queue_of(page);
  _mi_page_queue_push(heap, queue, page);
}

// ---------------------------------------------------------------------------
// Finding a page with free blocks
// ---------------------------------------------------------------------------
static mi_page_t* mi_page_fresh(mi_heap_t* heap, mi_page_queue_t* queue) {
  mi_page_t* page = _mi_segment_page_alloc(heap, queue->block_size, 0, &heap->tld->segments);
  if (page == NULL)
    return NULL;
  _mi_page_init(heap, page, queue->block_size);
  _mi_page_queue_push(heap, queue, page);
  return page;
}

static mi_page_t* mi_page_queue_find_free(mi_heap_t* heap, mi_page_queue_t* queue, bool first_try) {
  size_t searched = 0;
  mi_page_t* page = queue->first;
  while (page != NULL) {
    mi_page_t* next = page->next;
    searched++;
    _mi_page_free_collect(page, false);
    if (mi_page_immediate_available(page))
      break;
    mi_page_extend_free(heap, page, false);
    if (mi_page_immediate_available(page))
      break;
    mi_page_to_full(page, queue);
    page = next;
  }
  mi_stat_counter_increase(heap->tld->stats.page_searches, searched);
  if (page == NULL) {
    _mi_heap_collect_retired(heap, false);
    // Pages adopted from abandoned segments come before a fresh page.
    if (first_try && _mi_segment_reclaim_for_page(heap, queue->block_size, &heap->tld->segments) &&
        queue->first != NULL)
      return mi_page_queue_find_free(heap, queue, false);
    page = mi_page_fresh(heap, queue);
    if (page == NULL && first_try)
      page = mi_page_queue_find_free(heap, queue, false);
  } else {
    _mi_page_queue_move_to_front(heap, queue, page);
    page->retire_expire = 0;
  }
  return page;
}

static mi_page_t* mi_find_free_page(mi_heap_t* heap, size_t size) {
  mi_page_queue_t* queue = mi_page_queue(heap, size);
  mi_page_t* page = queue->first;
  if (page != NULL) {
    _mi_page_free_collect(page, false);
    if (mi_page_immediate_available(page)) {
      // A retired page in use again restarts its countdown instead of leaving
      // retirement: its next "empty" moment then costs the free path nothing.
      if (page->retire_expire != 0)
        mi_page_retire_refresh(page);
      mi_page_extend_free(heap, page, true);
      return page;
    }
  }
  return mi_page_queue_find_free(heap, queue, true);
}

// Large and huge blocks get a fresh page of their own. The page holds one
// block, so it is full from the start: it goes straight to the full queue in
// delayed-free mode, and a free by another thread hands the block to this
// heap's delayed list, where the next slow-path allocation frees the page.
static mi_page_t* mi_large_huge_page_alloc(mi_heap_t* heap, size_t size, size_t page_alignment) {
  size_t block_size = _mi_align_up(size == 0 ? 1 : size, _mi_os_page_size());
  mi_page_t* page = _mi_segment_page_alloc(heap, block_size, page_alignment, &heap->tld->segments);
  if (page == NULL)
    return NULL;
  _mi_page_init(heap, page, block_size);
  mi_assert_internal(page->reserved == 1);
  _mi_page_use_delayed_free(page, MI_USE_DELAYED_FREE, false);
  _mi_page_queue_push(heap, &heap->pages[MI_BIN_FULL], page);
  if (block_size > MI_LARGE_OBJ_SIZE_MAX || page_alignment > MI_BLOCK_ALIGNMENT_MAX) {
    mi_stat_increase(heap->tld->stats.malloc_huge, block_size);
    mi_stat_counter_increase(heap->tld->stats.malloc_huge_count, 1);
  }
  return page;
}

static mi_page_t* mi_find_page(mi_heap_t* heap, size_t size, size_t huge_alignment) {
  if (mi_unlikely(size > MI_MEDIUM_OBJ_SIZE_MAX || huge_alignment > 0)) {
    if (mi_unlikely(size > MI_MAX_ALLOC_SIZE))
      return NULL;
    return mi_large_huge_page_alloc(heap, size, huge_alignment);
  }
  return mi_find_free_page(heap, size);
}

// ---------------------------------------------------------------------------
// Deferred free callback
// ---------------------------------------------------------------------------
static mi_deferred_free_fun* volatile mi_deferred_free_callback; // atomic pointer
static void* mi_deferred_free_arg;                               // atomic pointer

void mi_register_deferred_free(mi_deferred_free_fun* fn, void* arg) mi_attr_noexcept {
  mi_atomic_store_relaxed(&mi_deferred_free_arg, arg);
  mi_atomic_store_relaxed(&mi_deferred_free_callback, fn);
}

void _mi_deferred_free(mi_heap_t* heap, bool force) {
  mi_tld_t* tld = heap->tld;
  tld->heartbeat++;
  mi_deferred_free_fun* fn = (mi_deferred_free_fun*)mi_atomic_load_relaxed(&mi_deferred_free_callback);
  if (fn != NULL && !tld->recurse) {
    tld->recurse = true;
    fn(force, tld->heartbeat, mi_atomic_load_relaxed(&mi_deferred_free_arg));
    tld->recurse = false;
  }
}

// ---------------------------------------------------------------------------
// The generic allocation path
// ---------------------------------------------------------------------------
void* _mi_malloc_generic(mi_heap_t* heap, size_t size, bool zero, size_t huge_alignment) {
  if (mi_unlikely(!mi_heap_is_initialized(heap))) {
    _mi_thread_ensure_initialized();
    heap = mi_prim_get_default_heap();
    if (!mi_heap_is_initialized(heap))
      return _mi_malloc_fail(size);
  }
  mi_segments_tld_t* stld = &heap->tld->segments;
  _mi_deferred_free(heap, false);
  if (mi_atomic_load_relaxed(&heap->thread_delayed_free) != NULL)
    _mi_heap_delayed_free_partial(heap);
  if ((++stld->generic_count & 31) == 0)
    _mi_segments_collect(false, stld);
  // Every so often collect the whole heap: pages of bins this thread no longer
  // allocates from may hold blocks other threads freed.
  long collect_every = _mi_option_get_fast(mi_option_generic_collect);
  if (collect_every > 0 && ++heap->tld->generic_since_collect >= (size_t)collect_every) {
    heap->tld->generic_since_collect = 0;
    mi_heap_collect(heap, false);
  }

  mi_page_t* page = mi_find_page(heap, size, huge_alignment);
  if (mi_unlikely(page == NULL)) {
    mi_heap_collect(heap, true);
    page = mi_find_page(heap, size, huge_alignment);
  }
  if (mi_unlikely(page == NULL))
    return _mi_malloc_fail(size);
  mi_assert_internal(mi_page_immediate_available(page));
  return _mi_page_malloc_zero(heap, page, size, zero);
}

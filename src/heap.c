/* ----------------------------------------------------------------------------
Copyright (c) 2026 The project authors. MIT license, see LICENSE.

Heaps: initialisation, collection (including abandoning at thread exit),
first-class heaps (new, delete, destroy, default), ownership queries and
visiting of blocks.
-----------------------------------------------------------------------------*/
#include <string.h>
#include "mimalloc/internal.h"

void _mi_heap_init(mi_heap_t* heap, mi_tld_t* tld, mi_arena_id_t arena_id, bool no_reclaim, uint8_t tag) {
  memcpy(heap, &_mi_heap_empty, sizeof(*heap));
  heap->tld = tld;
  heap->thread_ident = tld->thread_ident;
  heap->arena_id = arena_id;
  heap->no_reclaim = no_reclaim;
  heap->tag = tag;
  heap->cookie = _mi_process_cookie ^ (uintptr_t)heap;
  heap->page_retired_min = MI_BIN_FULL;
  heap->page_retired_max = 0;
  for (size_t bin = 0; bin < MI_BIN_HUGE; bin++)
    heap->pages[bin].block_size = _mi_bin_size((uint8_t)bin);
  heap->pages[MI_BIN_HUGE].block_size = MI_QUEUE_HUGE_SIZE;
  heap->pages[MI_BIN_FULL].block_size = MI_QUEUE_FULL_SIZE;
  heap->next = tld->heaps;
  tld->heaps = heap;
#if MI_GUARDED
  _mi_heap_guarded_init(heap);
#endif
}

// Visit every page of the heap; stops when `fn` returns false.
bool _mi_heap_visit_pages(mi_heap_t* heap, mi_heap_page_visit_fun* fn, void* arg) {
  if (heap == NULL || heap->page_count == 0)
    return true;
  for (size_t bin = 0; bin <= MI_BIN_FULL; bin++) {
    mi_page_queue_t* queue = &heap->pages[bin];
    mi_page_t* page = queue->first;
    while (page != NULL) {
      mi_page_t* next = page->next; // `fn` may free the page
      if (!fn(heap, queue, page, arg))
        return false;
      page = next;
    }
  }
  return true;
}

#if MI_DEBUG > 2
static bool mi_heap_page_check(mi_heap_t* heap, mi_page_queue_t* queue, mi_page_t* page, void* arg) {
  size_t* pages = (size_t*)arg;
  (*pages)++;
  return (mi_page_heap(page) == heap && _mi_page_queue_of(page) == queue && _mi_page_is_valid(page));
}

// Full heap check (MI_DEBUG 3): every page in the heap's queues belongs to the
// heap, sits in the queue of its size (or the full queue, as its flag says),
// passes the page check, and the pages add up to the heap's count.
bool _mi_heap_is_valid(mi_heap_t* heap) {
  size_t pages = 0;
  return (_mi_heap_visit_pages(heap, &mi_heap_page_check, &pages) && pages == heap->page_count);
}
#endif

// ---------------------------------------------------------------------------
// Collection
// ---------------------------------------------------------------------------
typedef enum mi_collect_e { MI_COLLECT_NORMAL, MI_COLLECT_FORCE, MI_COLLECT_ABANDON } mi_collect_t;

static bool mi_heap_page_never_delayed(mi_heap_t* heap, mi_page_queue_t* queue, mi_page_t* page, void* arg) {
  (void)heap;
  (void)queue;
  (void)arg;
  _mi_page_use_delayed_free(page, MI_NEVER_DELAYED_FREE, false);
  return true;
}

static bool mi_heap_page_collect(mi_heap_t* heap, mi_page_queue_t* queue, mi_page_t* page, void* arg) {
  (void)heap;
  mi_collect_t collect = *(mi_collect_t*)arg;
  _mi_page_free_collect(page, false);
  if (mi_page_all_free(page)) {
    _mi_page_free(page, queue);
  } else if (collect == MI_COLLECT_ABANDON) {
    _mi_page_abandon(page, queue);
  }
  return true;
}

static void mi_heap_collect_ex(mi_heap_t* heap, mi_collect_t collect) {
  if (heap == NULL || !mi_heap_is_initialized(heap))
    return;
  bool force = (collect >= MI_COLLECT_FORCE);
#if MI_GUARDED
  if (force)
    _mi_heap_guarded_flush(heap);
#endif
  _mi_deferred_free(heap, force);
  // The main thread's forced collection also takes over what exited threads left behind.
  if (collect == MI_COLLECT_FORCE && mi_heap_is_backing(heap) && _mi_is_main_thread() && !heap->no_reclaim) {
    _mi_abandoned_reclaim_all(heap);
  }
  if (collect == MI_COLLECT_ABANDON) {
    // From now on no remote free may use this heap's delayed list.
    _mi_heap_visit_pages(heap, &mi_heap_page_never_delayed, NULL);
  }
  _mi_heap_delayed_free_all(heap);
  _mi_heap_collect_retired(heap, force);
  mi_assert_expensive(_mi_heap_is_valid(heap));
  _mi_heap_visit_pages(heap, &mi_heap_page_collect, &collect);
  _mi_segments_collect(force, &heap->tld->segments);
  if (collect == MI_COLLECT_FORCE)
    _mi_segment_cache_collect(true, &heap->tld->stats);
}

void _mi_heap_collect_abandon(mi_heap_t* heap) { mi_heap_collect_ex(heap, MI_COLLECT_ABANDON); }

void mi_heap_collect(mi_heap_t* heap, bool force) mi_attr_noexcept {
  mi_heap_collect_ex(heap, (force ? MI_COLLECT_FORCE : MI_COLLECT_NORMAL));
}

void mi_collect(bool force) mi_attr_noexcept { mi_heap_collect(mi_prim_get_default_heap(), force); }

void mi_collect_reduce(size_t target_thread_owned) mi_attr_noexcept {
  (void)target_thread_owned;
  mi_collect(true);
}

// ---------------------------------------------------------------------------
// First-class heaps
// ---------------------------------------------------------------------------
mi_heap_t* mi_heap_get_default(void) {
  _mi_thread_ensure_initialized();
  return mi_prim_get_default_heap();
}

mi_heap_t* mi_heap_get_backing(void) {
  mi_heap_t* heap = mi_heap_get_default();
  if (!mi_heap_is_initialized(heap))
    return NULL;
  return heap->tld->heap_backing;
}

mi_heap_t* mi_heap_new_ex(int heap_tag, bool allow_destroy, mi_arena_id_t arena_id) {
  mi_heap_t* backing = mi_heap_get_backing();
  if (backing == NULL)
    return NULL;
  mi_heap_t* heap = (mi_heap_t*)mi_heap_malloc(backing, sizeof(mi_heap_t));
  if (heap == NULL)
    return NULL;
  // A heap that may be destroyed must not take in abandoned segments: their
  // blocks belong to others and must survive the destroy.
  _mi_heap_init(heap, backing->tld, arena_id, allow_destroy, (uint8_t)heap_tag);
  return heap;
}

mi_heap_t* mi_heap_new_in_arena(mi_arena_id_t arena_id) { return mi_heap_new_ex(0, true, arena_id); }

mi_heap_t* mi_heap_new(void) { return mi_heap_new_ex(0, true, 0); }

// The heap of the thread that should adopt a reclaimed page: one with the
// page's tag that may take in others' blocks, else `heap` itself.
mi_heap_t* _mi_heap_for_reclaim(mi_heap_t* heap, uint8_t tag) {
  if (heap->tag == tag && !heap->no_reclaim)
    return heap;
  for (mi_heap_t* h = heap->tld->heaps; h != NULL; h = h->next) {
    if (h->tag == tag && !h->no_reclaim)
      return h;
  }
  return heap;
}

static void mi_heap_unlink(mi_heap_t* heap) {
  mi_tld_t* tld = heap->tld;
  mi_heap_t* prev = NULL;
  for (mi_heap_t* h = tld->heaps; h != NULL; prev = h, h = h->next) {
    if (h != heap)
      continue;
    if (prev == NULL)
      tld->heaps = heap->next;
    else
      prev->next = heap->next;
    break;
  }
}

static void mi_heap_free_struct(mi_heap_t* heap) {
  mi_heap_t* backing = heap->tld->heap_backing;
  if (mi_prim_get_default_heap() == heap)
    _mi_heap_set_default_direct(backing);
  mi_heap_unlink(heap);
  mi_free(heap);
}

// Move every page of `from` into `heap` (same thread).
static void mi_heap_absorb(mi_heap_t* heap, mi_heap_t* from) {
  if (from->page_count == 0)
    return;
  _mi_heap_delayed_free_partial(from);
  for (size_t bin = 0; bin <= MI_BIN_FULL; bin++) {
    size_t moved = _mi_page_queue_append(heap, &heap->pages[bin], &from->pages[bin]);
    heap->page_count += moved;
    from->page_count -= moved;
  }
  // Remote frees that raced with the move went to `from`'s delayed list.
  _mi_heap_delayed_free_all(from);
  memset(from->pages_free_direct, 0, sizeof(from->pages_free_direct));
  for (size_t i = 0; i < MI_PAGES_DIRECT; i++)
    from->pages_free_direct[i] = (mi_page_t*)&_mi_page_empty;
}

// Delete a heap: its live blocks move to the backing heap.
void mi_heap_delete(mi_heap_t* heap) {
  if (heap == NULL || !mi_heap_is_initialized(heap))
    return;
  if (mi_heap_is_backing(heap)) {
    mi_heap_collect(heap, false);
    return;
  }
#if MI_GUARDED
  _mi_heap_guarded_flush(heap);
#endif
  mi_heap_absorb(heap->tld->heap_backing, heap);
  mi_heap_free_struct(heap);
}

#if MI_TRACK_ENABLED
// A block still live when its heap is destroyed leaves the program as well.
static bool mi_heap_block_track_free(const mi_heap_t* heap, const mi_heap_area_t* area, void* block,
                                     size_t size, void* arg) {
  (void)heap, (void)area, (void)arg;
  mi_track_free(block, size);
  return true;
}
#endif

static bool mi_heap_page_destroy(mi_heap_t* heap, mi_page_queue_t* queue, mi_page_t* page, void* arg) {
  (void)arg;
  (void)queue;
  _mi_page_use_delayed_free(page, MI_NEVER_DELAYED_FREE, false);
#if MI_TRACK_ENABLED
  mi_heap_area_t area;
  _mi_heap_area_init(&area, page);
  _mi_heap_area_visit_blocks(&area, page, &mi_heap_block_track_free, NULL);
#endif
  mi_page_guard_release(page);
  mi_track_mem_undefined(page->page_start, (size_t)page->reserved * page->block_size);
  _mi_page_stats_release(heap, page);
  // Every block goes at once, live or not.
  page->used = 0;
  page->next = page->prev = NULL;
  mi_page_set_heap(page, NULL);
  _mi_segment_page_free(page, &heap->tld->segments);
  return true;
}

void _mi_heap_destroy_pages(mi_heap_t* heap) {
  _mi_heap_visit_pages(heap, &mi_heap_page_destroy, NULL);
  for (size_t bin = 0; bin <= MI_BIN_FULL; bin++)
    heap->pages[bin].first = heap->pages[bin].last = NULL;
  for (size_t i = 0; i < MI_PAGES_DIRECT; i++)
    heap->pages_free_direct[i] = (mi_page_t*)&_mi_page_empty;
  heap->page_count = 0;
}

// Destroy a heap: all its blocks are freed at once.
void mi_heap_destroy(mi_heap_t* heap) {
  if (heap == NULL || !mi_heap_is_initialized(heap))
    return;
  if (!heap->no_reclaim || mi_heap_is_backing(heap)) {
    // Heaps that may hold reclaimed blocks of others cannot be destroyed safely.
    mi_heap_delete(heap);
    return;
  }
  _mi_heap_delayed_free_all(heap);
  _mi_heap_destroy_pages(heap);
  mi_heap_free_struct(heap);
}

mi_heap_t* mi_heap_set_default(mi_heap_t* heap) {
  if (heap == NULL || !mi_heap_is_initialized(heap))
    return NULL;
  mi_heap_t* old = mi_prim_get_default_heap();
  _mi_heap_set_default_direct(heap);
  return old;
}

// ---------------------------------------------------------------------------
// Ownership queries
// ---------------------------------------------------------------------------
bool mi_heap_contains_block(mi_heap_t* heap, const void* p) {
  if (heap == NULL || !mi_heap_is_initialized(heap) || p == NULL)
    return false;
  mi_segment_t* segment = _mi_ptr_segment(p);
  if (!_mi_segment_map_contains(segment))
    return false;
  return (mi_page_heap(_mi_segment_page_of(segment, p)) == heap);
}

typedef struct mi_owned_search_s {
  const void* p;
  bool found;
} mi_owned_search_t;

static bool mi_heap_page_check_owned(mi_heap_t* heap, mi_page_queue_t* queue, mi_page_t* page, void* arg) {
  (void)heap;
  (void)queue;
  mi_owned_search_t* search = (mi_owned_search_t*)arg;
  uint8_t* start = page->page_start;
  uint8_t* end = start + (size_t)page->capacity * page->block_size;
  search->found = ((const uint8_t*)search->p >= start && (const uint8_t*)search->p < end);
  return !search->found;
}

bool mi_heap_check_owned(mi_heap_t* heap, const void* p) {
  if (heap == NULL || !mi_heap_is_initialized(heap))
    return false;
  if (((uintptr_t)p & (MI_INTPTR_SIZE - 1)) != 0)
    return false;
  mi_owned_search_t search = {p, false};
  _mi_heap_visit_pages(heap, &mi_heap_page_check_owned, &search);
  return search.found;
}

bool mi_check_owned(const void* p) { return mi_heap_check_owned(mi_prim_get_default_heap(), p); }

// ---------------------------------------------------------------------------
// Visiting blocks
// ---------------------------------------------------------------------------
void _mi_heap_area_init(mi_heap_area_t* area, mi_page_t* page) {
  size_t bsize = page->block_size;
  area->blocks = page->page_start;
  area->reserved = (size_t)page->reserved * bsize;
  area->committed = (size_t)page->capacity * bsize;
  area->used = page->used;
  area->block_size = bsize;
  area->full_block_size = bsize;
  area->heap_tag = page->heap_tag;
}

// Visit the live blocks of a page: mark the free ones in a bitmap first.
bool _mi_heap_area_visit_blocks(const mi_heap_area_t* area, mi_page_t* page, mi_block_visit_fun* visitor,
                                void* arg) {
  if (page == NULL || page->used == 0 || mi_page_is_quarantined(page))
    return true;
  _mi_page_free_collect(page, true);
  size_t bsize = page->block_size;
  uint8_t* start = page->page_start;
  mi_heap_t* heap = mi_page_heap(page);
  if (page->capacity == 1)
    return visitor(heap, area, start, bsize - mi_page_guard_size(page), arg);
  uint64_t free_map[MI_PAGE_BLOCKS_MAX / 64];
  size_t words = _mi_divide_up(page->capacity, 64);
  memset(free_map, 0, words * sizeof(uint64_t));
  size_t free_count = 0;
  (void)_mi_free_list_mark(page, page->free, free_map, &free_count); // a cut list: its sound part is marked
  for (size_t i = 0; i < page->capacity; i++) {
    if ((free_map[i / 64] & ((uint64_t)1 << (i % 64))) != 0)
      continue;
    if (!visitor(heap, area, start + i * bsize, bsize, arg))
      return false;
  }
  return true;
}

typedef struct mi_visit_args_s {
  bool visit_blocks;
  mi_block_visit_fun* visitor;
  void* arg;
} mi_visit_args_t;

static bool mi_heap_page_visit(mi_heap_t* heap, mi_page_queue_t* queue, mi_page_t* page, void* arg) {
  (void)queue;
  mi_visit_args_t* args = (mi_visit_args_t*)arg;
  mi_heap_area_t area;
  _mi_heap_area_init(&area, page);
  if (!args->visitor(heap, &area, NULL, area.block_size, args->arg))
    return false;
  if (args->visit_blocks)
    return _mi_heap_area_visit_blocks(&area, page, args->visitor, args->arg);
  return true;
}

bool mi_heap_visit_blocks(const mi_heap_t* heap, bool visit_blocks, mi_block_visit_fun* visitor, void* arg) {
  if (heap == NULL || !mi_heap_is_initialized(heap) || visitor == NULL)
    return false;
  mi_visit_args_t args = {visit_blocks, visitor, arg};
  return _mi_heap_visit_pages((mi_heap_t*)heap, &mi_heap_page_visit, &args);
}

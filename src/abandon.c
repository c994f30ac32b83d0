/* ----------------------------------------------------------------------------
Copyright (c) 2026 The project authors. MIT license, see LICENSE.

Abandoned segments: a thread that ends (or deletes a heap) while a segment
still holds live blocks abandons it into a process-wide abandoned set.
Another thread later claims it, either while looking for free space or when
it frees a block into it (`mi_option_abandoned_reclaim_on_free`), and adopts
its pages.

The set is a doubly linked list under a lock; membership is separate from
ownership. A claim is the single compare-and-swap in `mi_segment_claim`
(ownership.h): scanners claim while holding the set's lock (which keeps the
segments they look at alive), a freeing thread claims without it (its live
block keeps the segment alive). Whoever wins unlinks the segment; losers
touch nothing. See doc/ownership.md.
-----------------------------------------------------------------------------*/
#include "mimalloc/internal.h"

// ---------------------------------------------------------------------------
// Sub-processes: each has its own abandoned set.
// ---------------------------------------------------------------------------
static mi_subproc_t mi_subproc_default;
static mi_lock_t mi_subprocs_lock;                      // guards the registry list
static mi_subproc_t* mi_subprocs = &mi_subproc_default; // guarded by mi_subprocs_lock

mi_subproc_t* _mi_subproc_main(void) { return &mi_subproc_default; }

mi_subproc_id_t mi_subproc_main(void) { return (mi_subproc_id_t)&mi_subproc_default; }

mi_subproc_id_t mi_subproc_new(void) {
  void* base;
  size_t mapped;
  mi_subproc_t* subproc = (mi_subproc_t*)_mi_os_alloc_aligned(sizeof(mi_subproc_t), _mi_os_page_size(), 0,
                                                              &base, &mapped, &_mi_stats_main);
  if (subproc == NULL)
    return NULL;
  _mi_prim_lock(&mi_subprocs_lock);
  subproc->next = mi_subprocs;
  mi_subprocs = subproc;
  _mi_prim_unlock(&mi_subprocs_lock);
  return (mi_subproc_id_t)subproc;
}

// A sub-process can go once no segment is abandoned in it any more.
void mi_subproc_delete(mi_subproc_id_t subproc_id) {
  mi_subproc_t* subproc = (mi_subproc_t*)subproc_id;
  if (subproc == NULL || subproc == &mi_subproc_default)
    return;
  _mi_prim_lock(&subproc->abandoned_lock);
  bool empty = (subproc->abandoned_first == NULL);
  _mi_prim_unlock(&subproc->abandoned_lock);
  if (!empty) {
    _mi_warning_message("mi_subproc_delete: sub-process %p still has abandoned segments; not deleted\n",
                        subproc_id);
    return;
  }
  _mi_prim_lock(&mi_subprocs_lock);
  for (mi_subproc_t** p = &mi_subprocs; *p != NULL; p = &(*p)->next) {
    if (*p == subproc) {
      *p = subproc->next;
      break;
    }
  }
  _mi_prim_unlock(&mi_subprocs_lock);
  _mi_os_free(subproc, _mi_align_up(sizeof(mi_subproc_t), _mi_os_page_size()), &_mi_stats_main);
}

// Move the calling thread into a sub-process. Only a thread that owns no
// segments yet can move (its segments would otherwise end up in two sets).
void mi_subproc_add_current_thread(mi_subproc_id_t subproc_id) {
  mi_subproc_t* subproc = (mi_subproc_t*)subproc_id;
  if (subproc == NULL)
    return;
  mi_heap_t* heap = mi_heap_get_default();
  if (!mi_heap_is_initialized(heap))
    return;
  mi_segments_tld_t* tld = &heap->tld->segments;
  if (tld->subproc == subproc)
    return;
  if (tld->count != 0) {
    _mi_warning_message(
        "mi_subproc_add_current_thread: the thread already owns memory; it stays in its sub-process\n");
    return;
  }
  tld->subproc = subproc;
}

size_t _mi_abandoned_count(mi_subproc_t* subproc) {
  return mi_atomic_load_relaxed(&subproc->abandoned_count);
}

// fork: hold every abandoned-set lock across the fork so the child finds them consistent.
void _mi_abandoned_lock_for_fork(void) {
  _mi_prim_lock(&mi_subprocs_lock);
  for (mi_subproc_t* subproc = mi_subprocs; subproc != NULL; subproc = subproc->next) {
    _mi_prim_lock(&subproc->visit_lock);
    _mi_prim_lock(&subproc->abandoned_lock);
  }
}

void _mi_abandoned_unlock_after_fork(void) {
  for (mi_subproc_t* subproc = mi_subprocs; subproc != NULL; subproc = subproc->next) {
    _mi_prim_unlock(&subproc->abandoned_lock);
    _mi_prim_unlock(&subproc->visit_lock);
  }
  _mi_prim_unlock(&mi_subprocs_lock);
}

// ---------------------------------------------------------------------------
// The abandoned set of a sub-process
// ---------------------------------------------------------------------------

// Both called with the set's lock held.
static void mi_abandoned_link(mi_subproc_t* subproc, mi_segment_t* segment) {
  segment->abandoned_next = NULL;
  segment->abandoned_prev = subproc->abandoned_last;
  if (subproc->abandoned_last != NULL)
    subproc->abandoned_last->abandoned_next = segment;
  else
    subproc->abandoned_first = segment;
  subproc->abandoned_last = segment;
  segment->in_abandoned_set = true;
  mi_atomic_add_relaxed(&subproc->abandoned_count, 1);
  mi_test_count(MI_TEST_ABANDONED_NOW_INC);
}

static void mi_abandoned_unlink(mi_subproc_t* subproc, mi_segment_t* segment) {
  if (!segment->in_abandoned_set)
    return;
  if (segment->abandoned_prev != NULL)
    segment->abandoned_prev->abandoned_next = segment->abandoned_next;
  else
    subproc->abandoned_first = segment->abandoned_next;
  if (segment->abandoned_next != NULL)
    segment->abandoned_next->abandoned_prev = segment->abandoned_prev;
  else
    subproc->abandoned_last = segment->abandoned_prev;
  segment->abandoned_next = segment->abandoned_prev = NULL;
  segment->in_abandoned_set = false;
  mi_atomic_sub_relaxed(&subproc->abandoned_count, 1);
  mi_test_count(MI_TEST_ABANDONED_NOW_DEC);
}

// Link the segment into its sub-process's set and release ownership, in one
// critical section so that a claimant always finds a released segment linked.
static void mi_abandoned_publish(mi_segment_t* segment) {
  mi_subproc_t* subproc = segment->subproc;
  _mi_prim_lock(&subproc->abandoned_lock);
  mi_abandoned_link(subproc, segment);
  mi_segment_release_to_abandoned(segment); // every owner-only field is final
  _mi_prim_unlock(&subproc->abandoned_lock);
}

// Abandon a segment the calling thread owns and whose pages all belong to no
// heap. Its free spans leave the thread's queues, pending purges run now, and
// only then is ownership released (release store of 0, under the set's lock
// so that a claimant always finds the segment linked).
void _mi_segment_abandon(mi_segment_t* segment, mi_segments_tld_t* tld) {
  mi_assert_internal(mi_segment_is_owned_by_me(segment));
  mi_assert_internal(segment->used == segment->abandoned);
  mi_assert_internal(segment->used > 0);
  _mi_segment_slices_check(segment);
  mi_test_point(MI_TEST_POINT_ABANDON, segment);
  _mi_segment_span_queues_remove(segment, tld);
  _mi_segment_purge_release(segment, tld); // pending purges stay with the segment
  segment->reclaim_scan = false;
  if (segment->was_reclaimed) {
    segment->was_reclaimed = false;
    tld->reclaim_count--;
  }
  tld->count--;
  mi_stat_increase(tld->stats->segments_abandoned, 1);
  mi_test_count(MI_TEST_ABANDON);
  mi_abandoned_publish(segment);
}

// Claim the next abandoned segment of the set, or NULL. The lock keeps every
// linked segment alive while we try: a winner must take the lock to unlink a
// segment before it can ever free it.
static mi_segment_t* mi_abandoned_claim_next(mi_subproc_t* subproc, size_t* tries_left) {
  if (_mi_abandoned_count(subproc) == 0)
    return NULL;
  uintptr_t tid = _mi_thread_id();
  mi_segment_t* claimed = NULL;
  _mi_prim_lock(&subproc->abandoned_lock);
  for (mi_segment_t* segment = subproc->abandoned_first; segment != NULL && *tries_left > 0;
       segment = segment->abandoned_next) {
    (*tries_left)--;
    if (mi_segment_claim(segment, tid)) {
      mi_test_count(MI_TEST_CLAIM_WON);
      mi_abandoned_unlink(subproc, segment);
      claimed = segment;
      break;
    }
    // Someone else (a thread freeing into it) won; it will unlink the segment.
    mi_test_count(MI_TEST_CLAIM_LOST);
  }
  _mi_prim_unlock(&subproc->abandoned_lock);
  return claimed;
}

// After winning a claim: make sure the segment is out of the set.
static void mi_abandoned_remove(mi_segment_t* segment) {
  mi_subproc_t* subproc = segment->subproc;
  _mi_prim_lock(&subproc->abandoned_lock);
  mi_abandoned_unlink(subproc, segment);
  _mi_prim_unlock(&subproc->abandoned_lock);
}

// Give a claimed segment back to the set, unchanged except for freed pages.
static void mi_segment_give_back(mi_segment_t* segment, mi_segments_tld_t* tld) {
  _mi_segment_span_queues_remove(segment, tld);
  _mi_segment_purge_release(segment, tld);
  segment->abandoned_visits++;
  segment->reclaim_scan = false;
  mi_test_count(MI_TEST_ABANDON);
  mi_abandoned_publish(segment);
}

// The index of the first page in use at or after `index` (slice_entries if none).
static size_t mi_segment_next_page_index(const mi_segment_t* segment, size_t index) {
  while (index < segment->slice_entries && segment->slices[index].block_size == 0) {
    mi_assert_internal(segment->slices[index].slice_count > 0);
    index += segment->slices[index].slice_count;
  }
  return index;
}

// The claimant inspects a segment it just won: collects the blocks other
// threads freed into its pages and frees pages that became empty (which
// coalesces their spans). Returns false if the segment became empty and was
// freed; then it must not be touched again.
static bool mi_segment_inspect(mi_segment_t* segment, mi_segments_tld_t* tld) {
  mi_assert_internal(mi_segment_is_owned_by_me(segment));
  segment->reclaim_scan = true;
  tld->count++;
  _mi_segment_purge_adopt(segment, tld);
  mi_stat_decrease(tld->stats->segments_abandoned, 1);
  _mi_segment_span_queues_insert(segment, tld);
  // Freeing a page merges it with the free spans beside it, never with a page
  // in use: find the next page in use before freeing the current one.
  size_t index = mi_segment_next_page_index(segment, segment->segment_info_slices);
  while (index < segment->slice_entries) {
    mi_page_t* page = &segment->slices[index];
    index = mi_segment_is_huge(segment) ? segment->slice_entries
                                        : mi_segment_next_page_index(segment, index + page->slice_count);
    _mi_page_free_collect(page, false);
    if (mi_page_all_free(page)) {
      segment->abandoned--;
      mi_stat_decrease(tld->stats->pages_abandoned, 1);
      _mi_segment_page_free(page, tld);
    }
  }
  segment->reclaim_scan = false;
  if (segment->used == 0) {
    _mi_segment_free(segment, tld);
    return false;
  }
  return true;
}

// Adopt every remaining page of an inspected segment into `heap`.
static void mi_segment_adopt(mi_segment_t* segment, mi_heap_t* heap, mi_segments_tld_t* tld) {
  for (size_t index = segment->segment_info_slices; index < segment->slice_entries;) {
    mi_slice_t* slice = &segment->slices[index];
    if (slice->block_size != 0) {
      segment->abandoned--;
      mi_stat_decrease(tld->stats->pages_abandoned, 1);
      _mi_page_reclaim(_mi_heap_for_reclaim(heap, slice->heap_tag), slice);
    }
    if (mi_segment_is_huge(segment))
      break;
    index += slice->slice_count;
  }
  mi_assert_internal(segment->abandoned == 0);
  segment->was_reclaimed = true;
  tld->reclaim_count++;
  _mi_segment_slices_check(segment);
}

// A thread needs `slices_needed` free slices: look at a bounded number of
// abandoned segments, keep those that help, give back the others.
bool _mi_segment_try_reclaim_for(mi_heap_t* heap, size_t slices_needed, mi_segments_tld_t* tld) {
  size_t count = _mi_abandoned_count(tld->subproc);
  long percent = mi_option_get_clamp(mi_option_max_segment_reclaim, 0, 1000000);
  size_t tries = (count * (size_t)percent) / 100;
  if (tries < 8)
    tries = 8;
  if (tries > count)
    tries = count;
  bool found = false;
  mi_segment_t* segment;
  while (!found && (segment = mi_abandoned_claim_next(tld->subproc, &tries)) != NULL) {
    mi_test_count(MI_TEST_RECLAIM_ON_ALLOC);
    if (!mi_segment_inspect(segment, tld)) {
      found = true; // memory went back to the OS; retrying the OS is now cheaper
      continue;
    }
    bool suitable = _mi_arena_is_suitable(segment->arena_id, heap->arena_id);
    if (suitable && (_mi_segment_has_free_span(segment, slices_needed) || segment->abandoned_visits >= 3)) {
      mi_segment_adopt(segment, heap, tld);
      found = _mi_segment_has_free_span(segment, slices_needed);
    } else {
      tld->count--;
      mi_stat_increase(tld->stats->segments_abandoned, 1);
      mi_segment_give_back(segment, tld);
    }
  }
  return found;
}

// May a thread freeing into an abandoned (non-huge) segment take it over? A
// thread that mostly frees must not hoard other threads' segments: it keeps
// the reclaimed ones at most about half of what it owns and, with
// `target_segments_per_thread` N > 0, stops taking segments over once it owns N.
static bool mi_reclaim_on_free_allowed(const mi_segments_tld_t* tld) {
  if (tld->reclaim_count * 2 > tld->count)
    return false;
  long target = mi_option_get(mi_option_target_segments_per_thread);
  return (target <= 0 || tld->count < (size_t)target);
}

// A thread freeing a block into an abandoned segment tries to take it over.
// Returns true if it now owns the segment (which is adopted into `heap`).
bool _mi_segment_reclaim_on_free(mi_segment_t* segment, mi_heap_t* heap) {
  mi_segments_tld_t* tld = &heap->tld->segments;
  // Huge segments are freed at once, so they do not count.
  if (!mi_segment_is_huge(segment) && !mi_reclaim_on_free_allowed(tld))
    return false;
  // Sub-processes never exchange segments. `subproc` is immutable after the
  // segment is created, and the caller's live block keeps the segment mapped.
  if (segment->subproc != tld->subproc)
    return false;
  if (!mi_segment_claim(segment, _mi_thread_id())) {
    mi_test_count(MI_TEST_CLAIM_LOST);
    return false;
  }
  mi_test_count(MI_TEST_CLAIM_WON);
  mi_test_count(MI_TEST_RECLAIM_ON_FREE);
  mi_abandoned_remove(segment);
  // The caller's block is live, so inspecting cannot free the segment.
  bool alive = mi_segment_inspect(segment, tld);
  mi_assert(alive);
  (void)alive;
  mi_segment_adopt(segment, heap, tld);
  return true;
}

// Claim and adopt every abandoned segment (empty ones are freed).
size_t _mi_abandoned_reclaim_all(mi_heap_t* heap) {
  size_t claimed = 0;
  mi_segments_tld_t* tld = &heap->tld->segments;
  for (;;) {
    size_t tries = SIZE_MAX;
    mi_segment_t* segment = mi_abandoned_claim_next(tld->subproc, &tries);
    if (segment == NULL)
      break;
    claimed++;
    if (mi_segment_inspect(segment, tld))
      mi_segment_adopt(segment, heap, tld);
  }
  return claimed;
}

// ---------------------------------------------------------------------------
// Visiting the blocks of abandoned segments
// ---------------------------------------------------------------------------

// Visit the pages of a segment the caller has claimed.
static bool mi_segment_visit_pages(mi_segment_t* segment, int heap_tag, bool visit_blocks,
                                   mi_block_visit_fun* visitor, void* arg) {
  for (size_t index = segment->segment_info_slices; index < segment->slice_entries;) {
    mi_slice_t* page = &segment->slices[index];
    if (page->block_size > 1 && (heap_tag < 0 || page->heap_tag == heap_tag)) {
      _mi_page_free_collect(page, true);
      mi_heap_area_t area;
      _mi_heap_area_init(&area, page);
      if (!visitor(NULL, &area, NULL, area.block_size, arg))
        return false;
      if (visit_blocks && !_mi_heap_area_visit_blocks(&area, page, visitor, arg))
        return false;
    }
    if (mi_segment_is_huge(segment))
      break;
    index += page->slice_count;
  }
  return true;
}

// Each segment is claimed while it is visited (so nobody reclaims it under
// the visitor) and given back afterwards; it stays linked in the set, and
// the set's lock is not held while the visitor runs (it may allocate).
// The claim uses MI_THREAD_ID_VISITOR, an id no thread has: the visiting
// thread must not look like the owner to its own frees (a visitor freeing
// what dead threads leaked takes the remote path, onto the thread-free
// lists the next claimant collects). Visits of one sub-process are serialised
// so that each visitor sees every abandoned segment.
bool mi_abandoned_visit_blocks(mi_subproc_id_t subproc_id, int heap_tag, bool visit_blocks,
                               mi_block_visit_fun* visitor, void* arg) {
  mi_subproc_t* subproc = (mi_subproc_t*)subproc_id;
  if (subproc == NULL || visitor == NULL)
    return false;
  if (!mi_option_is_enabled(mi_option_visit_abandoned)) {
    _mi_error_message(EINVAL, "mi_abandoned_visit_blocks needs mi_option_visit_abandoned enabled\n");
    return false;
  }
  mi_segment_t* current = NULL;
  bool ok = true;
  _mi_prim_lock(&subproc->visit_lock);
  for (;;) {
    _mi_prim_lock(&subproc->abandoned_lock);
    mi_segment_t* next = NULL;
    if (ok) {
      // `current` is ours, so nobody can have unlinked it: its successor is valid.
      next = (current == NULL ? subproc->abandoned_first : current->abandoned_next);
      while (next != NULL && !mi_segment_claim(next, MI_THREAD_ID_VISITOR))
        next = next->abandoned_next;
    }
    if (current != NULL)
      mi_segment_release_to_abandoned(current); // nothing changed but collected lists
    _mi_prim_unlock(&subproc->abandoned_lock);
    current = next;
    if (current == NULL)
      break;
    ok = mi_segment_visit_pages(current, heap_tag, visit_blocks, visitor, arg);
  }
  _mi_prim_unlock(&subproc->visit_lock);
  return ok;
}

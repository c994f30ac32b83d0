/* ----------------------------------------------------------------------------
Copyright (c) 2026 The project authors. MIT license, see LICENSE.

Segments: MI_SEGMENT_SIZE-aligned regions cut into 64 KiB slices. A span is a
run of slices, either a page or free. Free spans of the segments a thread owns
sit in that thread's span queues by size; freeing a span merges it with free
neighbours (coalescing). Huge blocks get a segment of their own.

Everything here runs on the owner of the segment (see ownership.h): the thread
recorded as its owner or the winner of a claim on an abandoned segment.
-----------------------------------------------------------------------------*/
#include <string.h>
#include "mimalloc/internal.h"

// ---------------------------------------------------------------------------
// Span queues
// ---------------------------------------------------------------------------

// Bin of a slice count: exact up to 8, then four bins per power of two.
static size_t mi_slice_bin(size_t slice_count) {
  if (slice_count <= 8)
    return slice_count;
  size_t w = slice_count - 1;
  size_t b = mi_bsr(w);
  size_t bin = ((b << 2) + ((w >> (b - 2)) & 3)) - 3;
  mi_assert_internal(bin <= MI_SEGMENT_BIN_MAX);
  return bin;
}

static mi_span_queue_t* mi_span_queue_for(size_t slice_count, mi_segments_tld_t* tld) {
  return &tld->spans[mi_slice_bin(slice_count)];
}

static void mi_span_queue_push(mi_span_queue_t* sq, mi_slice_t* slice) {
  slice->prev = NULL;
  slice->next = sq->first;
  if (sq->first != NULL)
    sq->first->prev = slice;
  else
    sq->last = slice;
  sq->first = slice;
}

static void mi_span_queue_delete(mi_span_queue_t* sq, mi_slice_t* slice) {
  if (slice->prev != NULL)
    slice->prev->next = slice->next;
  if (slice->next != NULL)
    slice->next->prev = slice->prev;
  if (slice == sq->first)
    sq->first = slice->next;
  if (slice == sq->last)
    sq->last = slice->prev;
  slice->prev = NULL;
  slice->next = NULL;
}

static bool mi_slice_is_free(const mi_slice_t* slice) {
  return (slice->block_size == 0 && slice->slice_count > 0);
}

// The first slice of the span after `slice`'s span, or NULL at the end.
static mi_slice_t* mi_slice_next_span(const mi_segment_t* segment, const mi_slice_t* slice) {
  const mi_slice_t* next = slice + slice->slice_count;
  return (next < &segment->slices[segment->slice_entries] ? (mi_slice_t*)next : NULL);
}

void _mi_segment_span_queues_remove(mi_segment_t* segment, mi_segments_tld_t* tld) {
  if (mi_segment_is_huge(segment))
    return;
  for (mi_slice_t* s = &segment->slices[segment->segment_info_slices]; s != NULL;
       s = mi_slice_next_span(segment, s)) {
    if (mi_slice_is_free(s))
      mi_span_queue_delete(mi_span_queue_for(s->slice_count, tld), s);
  }
}

void _mi_segment_span_queues_insert(mi_segment_t* segment, mi_segments_tld_t* tld) {
  if (mi_segment_is_huge(segment))
    return;
  for (mi_slice_t* s = &segment->slices[segment->segment_info_slices]; s != NULL;
       s = mi_slice_next_span(segment, s)) {
    if (mi_slice_is_free(s))
      mi_span_queue_push(mi_span_queue_for(s->slice_count, tld), s);
  }
}

#if MI_TESTING
// Whether every free span of `segment` is in its span queue of `tld` (the
// queues' invariant for an owned segment; asked by tests).
bool _mi_segment_spans_queued(const mi_segment_t* segment, mi_segments_tld_t* tld) {
  if (mi_segment_is_huge(segment))
    return true;
  for (const mi_slice_t* s = &segment->slices[segment->segment_info_slices]; s != NULL;
       s = mi_slice_next_span(segment, s)) {
    if (!mi_slice_is_free(s))
      continue;
    const mi_slice_t* queued = mi_span_queue_for(s->slice_count, tld)->first;
    while (queued != NULL && queued != s)
      queued = queued->next;
    if (queued == NULL)
      return false;
  }
  return true;
}
#endif

bool _mi_segment_has_free_span(const mi_segment_t* segment, size_t slices_needed) {
  if (mi_segment_is_huge(segment))
    return false;
  for (const mi_slice_t* s = &segment->slices[segment->segment_info_slices]; s != NULL;
       s = mi_slice_next_span(segment, s)) {
    if (mi_slice_is_free(s) && s->slice_count >= slices_needed)
      return true;
  }
  return false;
}

// ---------------------------------------------------------------------------
// Slice bitmaps (purge and dirty tracking)
// ---------------------------------------------------------------------------
static void mi_bits_set(uint64_t* bits, size_t index, size_t count, bool value) {
  for (size_t i = index; i < index + count; i++) {
    if (value)
      bits[i / 64] |= ((uint64_t)1 << (i % 64));
    else
      bits[i / 64] &= ~((uint64_t)1 << (i % 64));
  }
}

static bool mi_bits_any(const uint64_t* bits, size_t index, size_t count) {
  for (size_t i = index; i < index + count; i++) {
    if ((bits[i / 64] & ((uint64_t)1 << (i % 64))) != 0)
      return true;
  }
  return false;
}

// ---------------------------------------------------------------------------
// Purging free spans after a delay
// ---------------------------------------------------------------------------
// A (re)scheduled segment goes to the end of the list, so the list is in order
// of scheduling; with the longer wait of large spans a segment near the front
// can hold back the purge of those behind it by at most that wait.
static void mi_purge_list_add(mi_segment_t* segment, mi_segments_tld_t* tld) {
  if (segment->in_purge_list) {
    if (tld->purge_last == segment)
      return;
    _mi_segment_purge_list_remove(segment, tld);
  }
  segment->purge_next = NULL;
  segment->purge_prev = tld->purge_last;
  if (tld->purge_last != NULL)
    tld->purge_last->purge_next = segment;
  else
    tld->purge_first = segment;
  tld->purge_last = segment;
  segment->in_purge_list = true;
}

void _mi_segment_purge_list_remove(mi_segment_t* segment, mi_segments_tld_t* tld) {
  if (!segment->in_purge_list)
    return;
  if (segment->purge_prev != NULL)
    segment->purge_prev->purge_next = segment->purge_next;
  else
    tld->purge_first = segment->purge_next;
  if (segment->purge_next != NULL)
    segment->purge_next->purge_prev = segment->purge_prev;
  else
    tld->purge_last = segment->purge_prev;
  segment->purge_next = segment->purge_prev = NULL;
  segment->in_purge_list = false;
}

// Purge every pending free slice of the segment now.
// Only a purge that worked, of memory that reads back as zero after it,
// clears the dirty bits that zero-initialised allocations trust.
static void mi_segment_purge_now(mi_segment_t* segment, mi_segments_tld_t* tld) {
  size_t i = 0;
  bool purged = false;
  const bool may_purge = _mi_arena_may_purge(segment->arena_id);
  const bool zeroes = _mi_arena_purge_zeroes(segment->arena_id);
  while (i < segment->slice_entries) {
    if ((segment->purge_mask[i / 64] & ((uint64_t)1 << (i % 64))) == 0) {
      i++;
      continue;
    }
    size_t start = i;
    while (i < segment->slice_entries && (segment->purge_mask[i / 64] & ((uint64_t)1 << (i % 64))) != 0)
      i++;
    if (!may_purge || !_mi_os_purge((uint8_t*)segment + start * MI_SEGMENT_SLICE_SIZE,
                                    (i - start) * MI_SEGMENT_SLICE_SIZE, tld->stats))
      continue;
    if (zeroes)
      mi_bits_set(segment->dirty_mask, start, i - start, false);
    mi_bits_set(segment->purged_mask, start, i - start, true);
    purged = true;
  }
  if (purged)
    segment->purged_at = _mi_clock_now(); // one clock read for all runs
  memset(segment->purge_mask, 0, sizeof(segment->purge_mask));
  segment->purge_expire = 0;
  _mi_segment_purge_list_remove(segment, tld);
}

// A free span of at least this many slices (a 2 MiB huge page) waits as long as
// a freed segment in the cache does, purge_delay * arena_purge_mult: whole huge
// pages are the costliest memory to fault in again, and a large block freed
// inside a segment should be kept no shorter than one freed on its own.
#define MI_PURGE_LONG_MIN_SLICES (32)

// Back-off. A purge whose memory the program takes again soon after was for
// nothing: the memory is faulted back in, page by page. That happens when
// blocks live about as long as the purge delay, so that segments drain and
// refill at that pace; and a slower round then lets more purges fall due,
// which slows the next one further. Each such take within MI_PURGE_REGRET_MS of
// the purge doubles the purge delays, up to 2^MI_PURGE_BACKOFF_MAX times (640
// ms and 6.4 s with the default options); each MI_PURGE_CALM_S without one
// halves them again (counted in whole seconds of the clock, so after 9 to 10
// s). The back-off is process-wide: a segment emptied by one thread may be
// refilled by another (or by a thread that did not exist when the purge ran),
// and the segment cache is shared.
#define MI_PURGE_REGRET_MS (1000)
#define MI_PURGE_CALM_S (10)
#define MI_PURGE_BACKOFF_MAX (6)
// Both atomic (relaxed): a lost update between two threads only makes a step
// of the back-off a little late or early.
static size_t mi_purge_backoff;     // purge delays are doubled this many times
static long mi_purge_backoff_since; // when it last changed, in seconds of _mi_clock_now

// Halve the delays once for every MI_PURGE_CALM_S without a purge taken again.
static void mi_purge_backoff_decay(mi_msecs_t now) {
  size_t backoff = mi_atomic_load_relaxed(&mi_purge_backoff);
  if (backoff == 0)
    return;
  long since = mi_atomic_load_relaxed(&mi_purge_backoff_since);
  long quiet = (long)(now / 1000) - since;
  if (quiet < MI_PURGE_CALM_S)
    return;
  size_t steps = (size_t)(quiet / MI_PURGE_CALM_S);
  mi_atomic_store_relaxed(&mi_purge_backoff, (steps >= backoff ? 0 : backoff - steps));
  mi_atomic_store_relaxed(&mi_purge_backoff_since, since + (long)steps * MI_PURGE_CALM_S);
}

// How long a free span of `count` slices (a freed segment: MI_SLICES_PER_SEGMENT)
// freed at `now` waits before it is purged; -1 if never.
static mi_msecs_t mi_purge_wait(size_t count, mi_msecs_t now) {
  long delay = mi_option_get(mi_option_purge_delay);
  if (delay < 0)
    return -1;
  mi_purge_backoff_decay(now);
  mi_msecs_t wait = delay;
  if (count >= MI_PURGE_LONG_MIN_SLICES)
    wait *= mi_option_get_clamp(mi_option_arena_purge_mult, 1, 1000);
  return wait << mi_atomic_load_relaxed(&mi_purge_backoff);
}

// Memory purged at `purged_at` (0: not purged) is taken again now.
static void mi_purge_taken_again(mi_msecs_t purged_at) {
  if (purged_at == 0)
    return;
  mi_msecs_t now = _mi_clock_now();
  if (now - purged_at >= MI_PURGE_REGRET_MS)
    return;
  // At the maximum too: no halving while this goes on.
  mi_atomic_store_relaxed(&mi_purge_backoff_since, (long)(now / 1000));
  size_t backoff = mi_atomic_load_relaxed(&mi_purge_backoff);
  if (backoff < MI_PURGE_BACKOFF_MAX) {
    mi_atomic_store_relaxed(&mi_purge_backoff, backoff + 1);
    mi_test_count(MI_TEST_PURGE_BACKOFF);
  }
}

static void mi_segment_schedule_purge(mi_segment_t* segment, size_t index, size_t count,
                                      mi_segments_tld_t* tld) {
  long delay = mi_option_get(mi_option_purge_delay);
  if (delay < 0 || mi_segment_is_huge(segment))
    return;
  mi_bits_set(segment->purge_mask, index, count, true);
  if (delay == 0) {
    mi_segment_purge_now(segment, tld);
    return;
  }
  mi_msecs_t now = _mi_clock_now();
  // Purge once the segment has been quiet for a full delay: while spans keep
  // being freed (and reused), the memory stays and is not faulted in again.
  mi_msecs_t wait = mi_purge_wait(count, now);
  if (!segment->in_purge_list || segment->purge_expire < now + wait)
    segment->purge_expire = now + wait;
  mi_purge_list_add(segment, tld);
  // Meanwhile purge the segments that have been quiet long enough (the list is
  // in expiry order), so a program that only frees still returns memory.
  while (tld->purge_first != NULL && tld->purge_first != segment && tld->purge_first->purge_expire <= now) {
    mi_segment_purge_now(tld->purge_first, tld);
  }
}

// The owner gives the segment up (abandons it): with `abandoned_page_purge`
// its pending purges run now, otherwise they stay in its purge mask for the
// next owner.
void _mi_segment_purge_release(mi_segment_t* segment, mi_segments_tld_t* tld) {
  if (mi_option_is_enabled(mi_option_abandoned_page_purge))
    mi_segment_purge_now(segment, tld);
  _mi_segment_purge_list_remove(segment, tld);
}

// A claimant took the segment over: schedule the purges it still has pending.
void _mi_segment_purge_adopt(mi_segment_t* segment, mi_segments_tld_t* tld) {
  for (size_t i = 0; i < MI_SLICES_PER_SEGMENT / 64; i++) {
    if (segment->purge_mask[i] != 0) {
      long delay = mi_option_get(mi_option_purge_delay);
      segment->purge_expire = _mi_clock_now() + (delay > 0 ? delay : 0);
      mi_purge_list_add(segment, tld);
      return;
    }
  }
}

// Purge the segments whose delay has passed (all of them if `force`), and
// the cached mappings whose delay has passed (the cache is process-wide: only
// an explicit forced collection purges all of it, see heap.c, not a thread
// that exits).
void _mi_segments_collect(bool force, mi_segments_tld_t* tld) {
  _mi_segment_cache_collect(false, tld->stats);
  if (tld->purge_first == NULL)
    return;
  mi_msecs_t now = (force ? 0 : _mi_clock_now());
  while (tld->purge_first != NULL && (force || tld->purge_first->purge_expire <= now)) {
    mi_segment_purge_now(tld->purge_first, tld); // removes it from the list
  }
}

// ---------------------------------------------------------------------------
// Spans
// ---------------------------------------------------------------------------

// Mark slices [index, index+count) as one free span; queue it if the caller
// owns the segment's span queues.
static void mi_segment_span_free(mi_segment_t* segment, size_t index, size_t count, bool allow_purge,
                                 mi_segments_tld_t* tld) {
  mi_assert_internal(index + count <= segment->slice_entries);
  mi_slice_t* slice = &segment->slices[index];
  slice->slice_count = (uint32_t)count;
  slice->slice_offset = 0;
  slice->block_size = 0;
  segment->page_map[index] = slice; // a (debug-checked) free of a pointer here finds a free span
  segment->page_map[index + count - 1] = slice;
  if (count > 1) {
    mi_slice_t* last = &segment->slices[index + count - 1];
    last->slice_count = 0;
    last->slice_offset = (uint32_t)((count - 1) * sizeof(mi_slice_t));
    last->block_size = 0;
  }
  if (allow_purge)
    mi_segment_schedule_purge(segment, index, count, tld);
  if (mi_segment_spans_in_my_queues(segment))
    mi_span_queue_push(mi_span_queue_for(count, tld), slice);
}

// Free the span of `slice`, merging it with free neighbours. Returns the
// first slice of the merged span.
static mi_slice_t* mi_segment_span_free_coalesce(mi_slice_t* slice, mi_segments_tld_t* tld) {
  mi_segment_t* segment = _mi_page_segment(slice);
  // Only the owner may move spans between its queues; the check goes through
  // the ownership helpers (a plain read in the legacy build).
  bool in_my_queues = mi_segment_spans_in_my_queues(segment);
  size_t count = slice->slice_count;
  mi_slice_t* next = slice + count;
  if (next < &segment->slices[segment->slice_entries] && mi_slice_is_free(next)) {
    count += next->slice_count;
    if (in_my_queues)
      mi_span_queue_delete(mi_span_queue_for(next->slice_count, tld), next);
    next->slice_count = 0;
    mi_test_count(MI_TEST_COALESCE_NEXT);
    if (segment->reclaim_scan)
      mi_test_count(MI_TEST_COALESCE_NEXT_ABANDONED);
  }
  if (slice > &segment->slices[segment->segment_info_slices]) {
    mi_slice_t* prev = mi_slice_first(slice - 1);
    if (mi_slice_is_free(prev)) {
      count += prev->slice_count;
      if (in_my_queues)
        mi_span_queue_delete(mi_span_queue_for(prev->slice_count, tld), prev);
      slice->slice_count = 0;
      slice = prev;
      mi_test_count(MI_TEST_COALESCE_PREV);
      if (segment->reclaim_scan)
        mi_test_count(MI_TEST_COALESCE_PREV_ABANDONED);
    }
  }
  mi_segment_span_free(segment, mi_slice_index(slice), count, true, tld);
  return slice;
}

// Turn slices [index, index+count) into a page span.
static mi_page_t* mi_segment_span_allocate(mi_segment_t* segment, size_t index, size_t count) {
  mi_assert_internal(index + count <= segment->slice_entries);
  mi_slice_t* slice = &segment->slices[index];
  slice->slice_count = (uint32_t)count;
  slice->slice_offset = 0;
  slice->block_size = 1; // in use; the page sets the real size
  if (count > 1) {
    mi_slice_t* last = slice + count - 1; // for coalescing with the next span
    last->slice_count = 0;
    last->slice_offset = (uint32_t)((count - 1) * sizeof(mi_slice_t));
    last->block_size = 1;
  }
  // Every slice maps to the page so any interior pointer finds it.
  for (size_t i = 0; i < count; i++)
    segment->page_map[index + i] = slice;
  mi_page_t* page = slice;
  page->page_start = mi_slice_start(slice);
  page->is_committed = 1;
  page->is_zero_init = (segment->is_zero_init && !mi_bits_any(segment->dirty_mask, index, count)) ? 1 : 0;
  mi_bits_set(segment->dirty_mask, index, count, true);
  mi_bits_set(segment->purge_mask, index, count, false);
  if (mi_bits_any(segment->purged_mask, index, count)) {
    mi_bits_set(segment->purged_mask, index, count, false);
    mi_purge_taken_again(segment->purged_at);
  }
  segment->used++;
#if MI_SECURE >= 2
  _mi_secure_page_guard(page, true);
#endif
  return page;
}

// Take `count` slices from the first fitting free span in the thread's queues.
static mi_page_t* mi_segments_span_find(size_t count, mi_arena_id_t req_arena_id, mi_segments_tld_t* tld) {
  for (size_t bin = mi_slice_bin(count); bin <= MI_SEGMENT_BIN_MAX; bin++) {
    mi_span_queue_t* sq = &tld->spans[bin];
    for (mi_slice_t* slice = sq->first; slice != NULL; slice = slice->next) {
      if (slice->slice_count < count)
        continue;
      mi_segment_t* segment = _mi_page_segment(slice);
      mi_assert_internal(mi_segment_is_owned_by_me(segment));
      if (!_mi_arena_is_suitable(segment->arena_id, req_arena_id))
        continue;
      size_t index = mi_slice_index(slice);
      size_t available = slice->slice_count;
      mi_span_queue_delete(sq, slice);
      if (available > count)
        mi_segment_span_free(segment, index + count, available - count, false, tld);
      return mi_segment_span_allocate(segment, index, count);
    }
  }
  return NULL;
}

// Does the thread have a free span of at least `count` slices it may use?
static bool mi_segments_span_available(size_t count, mi_arena_id_t req_arena_id, mi_segments_tld_t* tld) {
  for (size_t bin = mi_slice_bin(count); bin <= MI_SEGMENT_BIN_MAX; bin++) {
    for (const mi_slice_t* slice = tld->spans[bin].first; slice != NULL; slice = slice->next) {
      if (slice->slice_count >= count &&
          _mi_arena_is_suitable(_mi_page_segment(slice)->arena_id, req_arena_id))
        return true;
    }
  }
  return false;
}

// ---------------------------------------------------------------------------
// Segment allocation and freeing
// ---------------------------------------------------------------------------
_Static_assert(sizeof(mi_segment_t) <= MI_SEGMENT_SLICE_SIZE, "the segment header fits in one slice");

static size_t mi_segment_info_size(void) { return _mi_align_up(sizeof(mi_segment_t), MI_SEGMENT_SLICE_SIZE); }

// A new segment owned by the calling thread. `huge_size` 0 makes a normal
// segment; otherwise a huge segment with one page of that size whose start is
// aligned to `page_alignment` (if nonzero).
static mi_segment_t* mi_segment_alloc(size_t huge_size, size_t page_alignment, mi_arena_id_t req_arena_id,
                                      mi_segments_tld_t* tld) {
  size_t info_size = mi_segment_info_size();
  size_t info_slices = info_size / MI_SEGMENT_SLICE_SIZE;
  size_t page_offset = info_size;
  size_t segment_size = MI_SEGMENT_SIZE;
  size_t alignment = MI_SEGMENT_ALIGN;
  size_t align_offset = 0;
  if (huge_size > 0) {
    if (page_alignment > 0) {
      // The block starts one segment size in, at an address aligned to
      // `page_alignment`; the header stays at the aligned segment start.
      page_offset = MI_SEGMENT_SIZE;
      alignment = (page_alignment > MI_SEGMENT_ALIGN ? page_alignment : MI_SEGMENT_ALIGN);
      align_offset = page_offset;
    }
    if (huge_size > SIZE_MAX - page_offset - MI_SEGMENT_SIZE)
      return NULL;
    segment_size = _mi_align_up(page_offset + huge_size + mi_secure_guard_size(), _mi_os_page_size());
  }
  void* base = NULL;
  size_t mapped = 0;
  mi_arena_id_t arena_id = 0;
  bool is_zero = true;
  uint64_t cached_resident[MI_SLICES_PER_SEGMENT / 64] = {0};
  // Reserved arenas first, then the cache of freed segments, then the OS.
  mi_segment_t* segment = (mi_segment_t*)_mi_arena_alloc_aligned(
      segment_size, alignment, align_offset, req_arena_id, &arena_id, &is_zero, tld->stats);
  if (segment != NULL) {
    base = segment;
    mapped = segment_size;
  } else if (req_arena_id == 0) {
    if (align_offset == 0 && alignment == MI_SEGMENT_ALIGN) {
      mi_msecs_t purged_at = 0;
      segment = (mi_segment_t*)_mi_segment_cache_pop(segment_size, &mapped, &is_zero, &purged_at,
                                                     cached_resident, tld->stats);
      base = segment;
      mi_purge_taken_again(purged_at);
    }
    if (segment == NULL && !mi_option_is_enabled(mi_option_disallow_os_alloc)) {
      // Whole segment sizes (also for an over-aligned block, whose mapping starts
      // at its segment): a freed mapping of a huge block is then cached like any
      // other and serves the next huge block of a different size (or a normal
      // segment); the untouched tail costs address space only.
      size_t map_size = _mi_align_up(segment_size, MI_SEGMENT_SIZE);
      segment =
          (mi_segment_t*)_mi_os_alloc_aligned(map_size, alignment, align_offset, &base, &mapped, tld->stats);
      is_zero = true;
      // Resident cached memory moves in rather than fresh pages being faulted
      // (not under an over-aligned block's header, which uses one slice of its
      // segment size).
      if (segment != NULL && align_offset == 0 &&
          !_mi_segment_cache_fill(segment, segment_size, mapped, cached_resident, &is_zero, tld->stats)) {
        // A failed move lost part of that mapping (and unmapped the rest): map again, without moves.
        memset(cached_resident, 0, sizeof(cached_resident));
        segment = (mi_segment_t*)_mi_os_alloc_aligned(map_size, alignment, align_offset, &base, &mapped,
                                                      tld->stats);
        is_zero = true;
      }
    }
    if (segment != NULL)
      _mi_os_thp_consider(base, mapped, huge_size > 0);
  }
  if (segment == NULL)
    return NULL;
  // Reused memory: clear the header fields and the slice entries set up below.
  if (!is_zero)
    memset(segment, 0, offsetof(mi_segment_t, slices) + (info_slices + 1) * sizeof(mi_slice_t));
  mi_assert_internal(((uintptr_t)segment & MI_SEGMENT_MASK) == 0);

  // Fresh mappings are zero: only the header fields that must be nonzero are set.
  segment->mem_base = base;
  segment->mem_size = mapped;
  segment->segment_size = segment_size;
  segment->kind = (huge_size > 0 ? MI_SEGMENT_HUGE : MI_SEGMENT_NORMAL);
  segment->arena_id = arena_id;
  segment->subproc = tld->subproc;
  segment->cookie = (uintptr_t)segment ^ _mi_process_cookie;
  _mi_registry_segment_init(segment);
  segment->segment_info_slices = info_slices;
  segment->is_zero_init = is_zero;
#if MI_SECURE > 0
  _mi_secure_segment_init(segment);
#endif
  // The header span: never free, never purged.
  segment->slices[0].slice_count = (uint32_t)info_slices;
  segment->slices[0].block_size = 1;
  for (size_t i = 0; i < info_slices; i++) {
    segment->slices[i].slice_offset = (uint32_t)(i * sizeof(mi_slice_t));
    segment->slices[i].block_size = 1;
    segment->page_map[i] = &segment->slices[0];
  }
  mi_bits_set(segment->dirty_mask, 0, info_slices, true);
  // Memory left resident by the cached range's last user is dirty too (and
  // goes back to the cache as resident, see mi_segment_free).
  for (size_t i = 0; i < MI_SLICES_PER_SEGMENT / 64; i++)
    segment->dirty_mask[i] |= cached_resident[i];
  mi_segment_owner_init(segment, _mi_thread_id());

  if (huge_size > 0) {
    // One page entry covers the whole block. A block pointer is at most one
    // segment size past the segment start (see _mi_ptr_segment), so every
    // entry up to the last one points back to the page.
    segment->slice_entries = info_slices + 1;
    mi_slice_t* page = &segment->slices[info_slices];
    for (size_t i = info_slices; i <= MI_SLICES_PER_SEGMENT; i++)
      segment->page_map[i] = page;
    page->slice_count = 1;
    page->slice_offset = 0;
    page->block_size = 1;
    page->page_start = (uint8_t*)segment + page_offset;
    page->is_committed = 1;
    page->is_zero_init = is_zero;
    segment->used = 1;
#if MI_SECURE >= 2
    _mi_secure_page_guard(page, true);
#endif
  } else {
    segment->slice_entries = MI_SLICES_PER_SEGMENT;
  }
  if (huge_size == 0)
    segment->slices[segment->slice_entries].block_size = 1; // sentinel: never a free neighbour

  _mi_segment_map_allocated(segment);
  tld->count++;
  mi_stat_increase(tld->stats->segments, 1);
  mi_test_count(MI_TEST_SEGMENT_ALLOCATED);
  if (huge_size == 0) {
    mi_segment_span_free(segment, info_slices, MI_SLICES_PER_SEGMENT - info_slices, false, tld);
  }
  return segment;
}

// Return a segment to the OS. Only its owner calls this, after every page is free.
void _mi_segment_free(mi_segment_t* segment, mi_segments_tld_t* tld) {
  mi_assert_internal(segment->used == 0 || mi_segment_is_huge(segment));
  mi_assert_internal(mi_segment_is_owned_by_me(segment));
  _mi_segment_span_queues_remove(segment, tld);
  _mi_segment_purge_list_remove(segment, tld);
  if (segment->was_reclaimed)
    tld->reclaim_count--;
  mi_segment_owner_done(segment);
  _mi_segment_map_freed(segment);
  _mi_registry_segment_done(segment);
  tld->count--;
  mi_stat_decrease(tld->stats->segments, 1);
  mi_test_count(MI_TEST_SEGMENT_FREED);
  if (mi_segment_is_huge(segment))
    mi_test_count(MI_TEST_HUGE_SEGMENT_FREED);
#if MI_SECURE > 0
  _mi_secure_segment_done(segment);
#endif
  if (segment->arena_id != 0)
    _mi_arena_free(segment->mem_base, segment->mem_size, segment->arena_id, tld->stats);
  else if (segment->mem_base != (void*)segment ||
           !_mi_segment_cache_push(segment->mem_base, segment->mem_size,
                                   mi_segment_is_huge(segment) ? NULL : segment->dirty_mask,
                                   mi_purge_wait(MI_SLICES_PER_SEGMENT, _mi_clock_now()), tld->stats)) {
    _mi_os_free(segment->mem_base, segment->mem_size, tld->stats);
  }
}

size_t _mi_segment_size_of_page(const mi_page_t* page) {
  const mi_segment_t* segment = _mi_page_segment(page);
  if (mi_segment_is_huge(segment))
    return segment->segment_size - (size_t)(page->page_start - (uint8_t*)segment) - mi_secure_guard_size();
  return (size_t)page->slice_count * MI_SEGMENT_SLICE_SIZE - mi_secure_guard_size();
}

// ---------------------------------------------------------------------------
// Pages
// ---------------------------------------------------------------------------
static size_t mi_slices_for_block(size_t block_size) {
  if (block_size <= MI_SMALL_OBJ_SIZE_MAX)
    return 1;
  if (block_size <= MI_MEDIUM_OBJ_SIZE_MAX)
    return MI_MEDIUM_PAGE_SIZE / MI_SEGMENT_SLICE_SIZE;
  return _mi_divide_up(block_size + mi_secure_guard_size(), MI_SEGMENT_SLICE_SIZE);
}

mi_page_t* _mi_segment_page_alloc(mi_heap_t* heap, size_t block_size, size_t page_alignment,
                                  mi_segments_tld_t* tld) {
  if (page_alignment > MI_BLOCK_ALIGNMENT_MAX || block_size > MI_LARGE_OBJ_SIZE_MAX) {
    mi_segment_t* segment = mi_segment_alloc(block_size, page_alignment, heap->arena_id, tld);
    if (segment == NULL)
      return NULL;
    return &segment->slices[segment->segment_info_slices];
  }
  size_t count = mi_slices_for_block(block_size);
  mi_page_t* page = mi_segments_span_find(count, heap->arena_id, tld);
  if (page == NULL && !heap->no_reclaim && _mi_abandoned_count(tld->subproc) > 0) {
    if (_mi_segment_try_reclaim_for(heap, count, tld))
      page = mi_segments_span_find(count, heap->arena_id, tld);
  }
  if (page == NULL) {
    if (mi_segment_alloc(0, 0, heap->arena_id, tld) == NULL)
      return NULL;
    page = mi_segments_span_find(count, heap->arena_id, tld);
  }
  return page;
}

// The heap has no page with a free block of `block_size` and is about to make
// one. If the thread has no free span for it either, it takes over abandoned
// segments first (as it would before mapping a new segment): the pages it
// adopts, often of this very size and nearly empty (a thread that exited
// holding a few blocks), then serve the allocation instead of a fresh page.
// Returns true if anything was adopted.
bool _mi_segment_reclaim_for_page(mi_heap_t* heap, size_t block_size, mi_segments_tld_t* tld) {
  if (heap->no_reclaim || block_size > MI_LARGE_OBJ_SIZE_MAX || _mi_abandoned_count(tld->subproc) == 0)
    return false;
  size_t count = mi_slices_for_block(block_size);
  if (mi_segments_span_available(count, heap->arena_id, tld))
    return false;
  return _mi_segment_try_reclaim_for(heap, count, tld);
}

// A page of the segment is no longer used: free its span.
void _mi_segment_page_free(mi_page_t* page, mi_segments_tld_t* tld) {
  mi_segment_t* segment = _mi_page_segment(page);
  mi_assert_internal(mi_segment_is_owned_by_me(segment));
  mi_assert_internal(segment->used > 0);
  mi_stat_decrease(tld->stats->pages, 1);
#if MI_SECURE >= 2
  _mi_secure_page_guard(page, false);
#endif
  // Reset the page but keep its span shape.
  uint32_t slice_count = page->slice_count;
  memset(&page->capacity, 0, sizeof(mi_page_t) - offsetof(mi_page_t, capacity));
  page->slice_count = slice_count;
  page->flags.full_aligned = 0;
  page->retire_expire = 0;
  page->free_is_zero = 0;
  segment->used--;
  if (mi_segment_is_huge(segment)) {
    mi_assert_internal(segment->used == 0);
    if (!segment->reclaim_scan)
      _mi_segment_free(segment, tld);
    return;
  }
  page->block_size = 1; // still in use until the span is freed below
  mi_segment_span_free_coalesce(page, tld);
  if (segment->reclaim_scan)
    return; // the claimant decides what happens to the segment
  if (segment->used == 0) {
    _mi_segment_free(segment, tld); // to the segment cache, when it fits there
  } else if (segment->used == segment->abandoned) {
    // Only abandoned pages remain (the heap is going away): abandon the segment.
    _mi_segment_abandon(segment, tld);
  }
}

// The page's heap is going away while the page still has live blocks.
void _mi_segment_page_abandon(mi_page_t* page, mi_segments_tld_t* tld) {
  mi_segment_t* segment = _mi_page_segment(page);
  mi_assert_internal(mi_segment_is_owned_by_me(segment));
  mi_assert_internal(mi_page_heap(page) == NULL);
  segment->abandoned++;
  mi_stat_increase(tld->stats->pages_abandoned, 1);
  mi_assert_internal(segment->abandoned <= segment->used);
  if (segment->used == segment->abandoned)
    _mi_segment_abandon(segment, tld);
}

// Huge blocks freed by a thread that does not own their segment: give the
// memory back to the OS now (all but the first page, which holds the free
// list link) and leave the block for the owner to collect.
void _mi_segment_huge_page_free_remote(mi_segment_t* segment, mi_page_t* page, mi_block_t* block) {
  if (!_mi_arena_may_purge(segment->arena_id))
    return;
  size_t os_page = _mi_os_page_size();
  uint8_t* start = (uint8_t*)block + os_page;
  size_t size = _mi_segment_size_of_page(page);
  uint8_t* end = page->page_start + size;
  if (end > start + os_page)
    _mi_os_purge(start, (size_t)(end - start), NULL);
}

// Debug check of the span structure of a segment (MI_DEBUG >= 2).
void _mi_segment_slices_check(const mi_segment_t* segment) {
#if MI_DEBUG > 1
  size_t index = segment->segment_info_slices;
  size_t used = 0;
  while (index < segment->slice_entries) {
    const mi_slice_t* slice = &segment->slices[index];
    mi_assert_internal(slice->slice_count > 0);
    mi_assert_internal(slice->slice_offset == 0);
    if (!mi_slice_is_free(slice))
      used++;
    if (mi_segment_is_huge(segment))
      break;
    size_t last = index + slice->slice_count - 1;
    mi_assert_internal(last < segment->slice_entries);
    mi_assert_internal(segment->slices[last].slice_offset == (slice->slice_count - 1) * sizeof(mi_slice_t));
    index += slice->slice_count;
  }
  mi_assert_internal(used == segment->used);
#else
  (void)segment;
#endif
}

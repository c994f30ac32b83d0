/* ----------------------------------------------------------------------------
Copyright (c) 2026 The project authors. MIT license, see LICENSE.

Test-only interface (include/mimalloc/testing.h): event counters and the
claim-window hook. Compiled into the `mimalloc-test` library only
(MI_TESTING=1); empty otherwise.
-----------------------------------------------------------------------------*/
#include "mimalloc/internal.h"

#if MI_TESTING
#include "mimalloc/testing.h"

static long long mi_test_events[MI_TEST_EVENT_COUNT]; // atomic counters
static long long mi_test_overlaps;                    // atomic
static long mi_test_pause_us;                         // atomic

void _mi_test_count(mi_test_event_t event) { mi_atomic_add_relaxed(&mi_test_events[event], 1); }

void _mi_test_count_claim_overlap(void) {
  mi_atomic_add_relaxed(&mi_test_overlaps, 1);
  _mi_error_message(EFAULT, "ownership violated: a segment was claimed while another thread held it\n");
}

void _mi_test_claim_pause(void) {
  long us = mi_atomic_load_relaxed(&mi_test_pause_us);
  if (us > 0)
    _mi_prim_sleep_us(us);
}

void mi_test_set_claim_pause(long microseconds) { mi_atomic_store_relaxed(&mi_test_pause_us, microseconds); }

static mi_test_hook_fun* mi_test_hook; // atomic

void mi_test_set_hook(mi_test_hook_fun* hook) { mi_atomic_store_relaxed(&mi_test_hook, hook); }

void _mi_test_point(mi_test_point_t point, const void* page) {
  mi_test_hook_fun* hook = mi_atomic_load_relaxed(&mi_test_hook);
  if (hook != NULL)
    hook(point, page);
}

const void* mi_test_page_of(const void* p) {
  mi_segment_t* segment = _mi_ptr_segment(p);
  if (p == NULL || !_mi_segment_map_contains(segment))
    return NULL;
  return _mi_segment_page_of(segment, p);
}

const void* mi_test_segment_of(const void* p) {
  mi_segment_t* segment = _mi_ptr_segment(p);
  return (p == NULL || !_mi_segment_map_contains(segment) ? NULL : segment);
}

bool mi_test_is_owned_by_me(const void* p) {
  mi_segment_t* segment = _mi_ptr_segment(p);
  return (p != NULL && _mi_segment_map_contains(segment) && mi_segment_is_owned_by_me(segment));
}

bool mi_test_spans_queued(const void* p) {
  mi_segment_t* segment = _mi_ptr_segment(p);
  mi_heap_t* heap = mi_prim_get_default_heap();
  if (p == NULL || !_mi_segment_map_contains(segment) || !mi_segment_is_owned_by_me(segment) ||
      !mi_heap_is_initialized(heap))
    return false;
  return _mi_segment_spans_queued(segment, &heap->tld->segments);
}

unsigned long long mi_test_thread_id(void) { return _mi_thread_id(); }

void mi_test_thread_skip_done(void) { _mi_thread_forget(); }

int mi_test_legacy_ownership(void) { return MI_LEGACY_OWNERSHIP; }

static long mi_test_moves_to_fail;   // atomic
static long mi_test_moves_fail_late; // atomic

void mi_test_fail_moves(long count, bool late) {
  mi_atomic_store_relaxed(&mi_test_moves_fail_late, (late ? 1 : 0));
  mi_atomic_store_relaxed(&mi_test_moves_to_fail, count);
}

int _mi_test_move_failure(void) {
  if (mi_atomic_load_relaxed(&mi_test_moves_to_fail) <= 0 ||
      mi_atomic_sub_relaxed(&mi_test_moves_to_fail, 1) <= 0)
    return 0;
  return (mi_atomic_load_relaxed(&mi_test_moves_fail_late) != 0 ? 2 : 1);
}

void mi_test_set_thp_min_rss(size_t bytes) { _mi_os_thp_min_rss_set(bytes); }

static long long mi_test_get(mi_test_event_t event) { return mi_atomic_load_relaxed(&mi_test_events[event]); }

void mi_test_counters_get(mi_test_counters_t* out) {
  out->abandons = mi_test_get(MI_TEST_ABANDON);
  out->claims_won = mi_test_get(MI_TEST_CLAIM_WON);
  out->claims_lost = mi_test_get(MI_TEST_CLAIM_LOST);
  out->claim_overlaps = mi_atomic_load_relaxed(&mi_test_overlaps);
  out->reclaims_on_free = mi_test_get(MI_TEST_RECLAIM_ON_FREE);
  out->reclaims_on_alloc = mi_test_get(MI_TEST_RECLAIM_ON_ALLOC);
  out->coalesce_prev = mi_test_get(MI_TEST_COALESCE_PREV);
  out->coalesce_next = mi_test_get(MI_TEST_COALESCE_NEXT);
  out->coalesce_prev_abandoned = mi_test_get(MI_TEST_COALESCE_PREV_ABANDONED);
  out->coalesce_next_abandoned = mi_test_get(MI_TEST_COALESCE_NEXT_ABANDONED);
  out->huge_free_after_exit = mi_test_get(MI_TEST_HUGE_FREE_AFTER_EXIT);
  out->huge_segments_freed = mi_test_get(MI_TEST_HUGE_SEGMENT_FREED);
  out->segments_abandoned_now =
      mi_test_get(MI_TEST_ABANDONED_NOW_INC) - mi_test_get(MI_TEST_ABANDONED_NOW_DEC);
  out->segments_allocated = mi_test_get(MI_TEST_SEGMENT_ALLOCATED);
  out->segments_freed = mi_test_get(MI_TEST_SEGMENT_FREED);
  out->invalid_frees = mi_test_get(MI_TEST_INVALID_FREE);
  out->purge_backoffs = mi_test_get(MI_TEST_PURGE_BACKOFF);
  out->cache_moves = mi_test_get(MI_TEST_CACHE_MOVE);
  out->moves_failed = mi_test_get(MI_TEST_MOVE_FAILED);
  out->moves_lost = mi_test_get(MI_TEST_MOVE_LOST);
}

long mi_test_reclaim_all(void) {
  mi_heap_t* heap = mi_heap_get_default();
  if (!mi_heap_is_initialized(heap))
    return 0;
  long claimed = (long)_mi_abandoned_reclaim_all(heap->tld->heap_backing);
  mi_heap_collect(heap->tld->heap_backing, true);
  return claimed;
}
#endif

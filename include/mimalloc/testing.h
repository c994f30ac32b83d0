/* ----------------------------------------------------------------------------
Test-only interface of the allocator. Available only in the `mimalloc-test`
library variant (compiled with MI_TESTING=1); never part of the installed API.
It exposes event counters so a test can prove it reached the path it is named
for, and a hook that widens the race window of the ownership claim.
-----------------------------------------------------------------------------*/
#pragma once
#ifndef MIMALLOC_TESTING_H
#define MIMALLOC_TESTING_H

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

// Process-wide event counters; every field is updated with an atomic
// read-modify-write by the allocator and read with an atomic load here.
typedef struct mi_test_counters_s {
  long long abandons;    // segments handed to the abandoned set (thread exit or a reclaim that gave it back)
  long long claims_won;  // claims of an abandoned segment that succeeded (any path)
  long long claims_lost; // claim attempts that found the segment already owned
  long long claim_overlaps;    // a claim succeeded while another thread still held the segment (must stay 0)
  long long reclaims_on_free;  // claims made by a thread freeing into an abandoned segment
  long long reclaims_on_alloc; // claims made by a thread searching the abandoned set for pages
  long long coalesce_prev;     // span merges with the previous free span (any segment)
  long long coalesce_next;     // span merges with the next free span (any segment)
  long long coalesce_prev_abandoned; // merges with the previous span while processing a segment taken from
                                     // the abandoned set
  long long coalesce_next_abandoned; // merges with the next span while processing a segment taken from the
                                     // abandoned set
  long long
      huge_free_after_exit; // huge blocks freed by a thread after the allocating thread abandoned the segment
  long long huge_segments_freed;    // huge segments returned to the OS
  long long segments_abandoned_now; // segments currently in the abandoned set
  long long segments_allocated;     // segments obtained from the OS
  long long segments_freed;         // segments returned to the OS or cache
  long long invalid_frees;          // frees of pointers this allocator did not hand out
  long long purge_backoffs;         // times the purge delays were doubled (purged memory taken again soon)
  long long cache_moves;            // segment sizes of resident cached memory moved under a new segment
  long long moves_failed;           // such moves that failed (see mi_test_fail_moves)
  long long moves_lost;             // failed moves whose destination could not be mapped again
} mi_test_counters_t;

// Copy the current counter values into `out`.
void mi_test_counters_get(mi_test_counters_t* out);

// When `microseconds > 0`, every claim of an abandoned segment sleeps that long
// between looking at the owner and taking ownership. In the normal build the
// claim is one compare-and-swap, so the pause changes nothing; in the
// MI_LEGACY_OWNERSHIP build it holds open the window between the plain check
// and the plain write. 0 turns the pause off.
void mi_test_set_claim_pause(long microseconds);

// Named points inside racy windows of the allocator. A hook installed with
// `mi_test_set_hook` runs at each point, in the thread that reaches it, with
// the page concerned; a test uses it to hold one thread inside a window until
// another thread has acted, which makes a race deterministic.
typedef enum mi_test_point_e {
  // mi_heap_delete/absorb: between switching a page to the new heap and waiting
  // out remote frees that are still pushing onto the old heap's delayed list.
  MI_TEST_POINT_HEAP_SWITCH,
  // A remote free into a full page: after reading the page's heap, before
  // pushing the block onto that heap's delayed-free list.
  MI_TEST_POINT_DELAYED_FREE_PUSH,
  // A remote free into a page that is not full: after pushing the block onto
  // the page's thread-free list, before adding it to the page's count.
  MI_TEST_POINT_REMOTE_FREE_COUNT,
  // A remote free into a page that is not full: after reading the page's
  // thread-free list and linking the block to it, before the push (a CAS
  // that fails, and is retried, if the list changed meanwhile).
  MI_TEST_POINT_REMOTE_FREE_PUSH,
  // A thread abandoning a segment (the `page` argument is the segment): its
  // slices checked, before its free spans leave the thread's queues and its
  // counts are final; the segment is published only after all of that.
  MI_TEST_POINT_ABANDON,
  // A move of cached memory under a new segment has failed after the OS
  // unmapped the destination (the `page` argument is the destination), before
  // the allocator maps it again; another thread could map something there now.
  MI_TEST_POINT_MOVE_FAILED,
} mi_test_point_t;
typedef void(mi_test_hook_fun)(mi_test_point_t point, const void* page);

// Install (or with NULL remove) the hook. Set it before the threads it concerns start.
void mi_test_set_hook(mi_test_hook_fun* hook);

// The page (an opaque address) holding block `p`, as passed to the hook.
const void* mi_test_page_of(const void* p);
// The segment (an opaque address) holding block `p`, as passed to the hook at MI_TEST_POINT_ABANDON.
const void* mi_test_segment_of(const void* p);

// Does the calling thread count as the owner of the segment holding `p`?
// (The check the free fast path makes.)
bool mi_test_is_owned_by_me(const void* p);

// Is every free span of the segment holding `p` (an address only; the block
// may be freed) in the calling thread's span queues? False if the thread
// does not own the segment.
bool mi_test_spans_queued(const void* p);

// The calling thread's id (the value a segment it owns records).
unsigned long long mi_test_thread_id(void);

// Forget the calling thread's heap without running its exit teardown, as if
// the thread's exit hook never ran (e.g. a thread ended by a raw exit system
// call): its segments stay owned by its id forever.
void mi_test_thread_skip_done(void);

// Make the next `count` moves of cached memory under a new segment fail, as
// the OS's moves can: if `late`, after the destination was unmapped (Linux
// does that before some of its checks, and leaves a hole when one fails;
// MI_TEST_POINT_MOVE_FAILED runs then), otherwise with nothing changed.
void mi_test_fail_moves(long count, bool late);

// 1 when the library was built with MI_LEGACY_OWNERSHIP=ON, else 0.
int mi_test_legacy_ownership(void);

// Set the peak resident size from which new segments ask for transparent huge
// pages (default 1 GiB), so a test can reach it without touching that much.
void mi_test_set_thp_min_rss(size_t bytes);

// Claim every segment in the abandoned set into the calling thread's heap and
// collect them (frees fully empty segments). Returns the number claimed.
long mi_test_reclaim_all(void);

#ifdef __cplusplus
}
#endif

#endif

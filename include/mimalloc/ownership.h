/* ----------------------------------------------------------------------------
Copyright (c) 2026 The project authors. MIT license, see LICENSE.

The segment ownership protocol: the only code that reads or writes a
segment's `thread_id`. See doc/ownership.md for the states, transitions and
the happens-before edges these helpers provide.

  owned(T)  --abandon: release store 0-->  abandoned
  abandoned --claim: observe 0, CAS 0 -> T' (acquire)--> owned(T')
  abandoned --visit: the same claim with MI_THREAD_ID_VISITOR--> visited
  visited   --release store 0--> abandoned
  owned(T)  --free segment-->  gone (only T; no other thread can reach it then)

After the helpers, the field name is poisoned: any later use of `thread_id`
in the library is a compile error, so no code can bypass the protocol.
-----------------------------------------------------------------------------*/
#pragma once
#ifndef MIMALLOC_OWNERSHIP_H
#define MIMALLOC_OWNERSHIP_H

#include "internal.h" // thread ids and asserts; it includes this file at its end

#if MI_TESTING
void _mi_test_claim_pause(void);
void _mi_test_count_claim_overlap(void);
#define mi_test_claim_pause() _mi_test_claim_pause()
#else
#define mi_test_claim_pause() ((void)0)
#endif

// Test builds track how many threads believe they own a segment; the protocol
// keeps it at exactly one while owned and zero while abandoned.
static inline void mi_segment_holders_enter(mi_segment_t* segment) {
#if MI_TESTING
  if (mi_atomic_add_relaxed(&segment->claim_holders, 1) != 0)
    _mi_test_count_claim_overlap();
#else
  (void)segment;
#endif
}

static inline void mi_segment_holders_leave(mi_segment_t* segment) {
#if MI_TESTING
  mi_atomic_sub_relaxed(&segment->claim_holders, 1);
#else
  (void)segment;
#endif
}

// A new segment starts owned by its creator. Relaxed: no other thread can
// reach the segment before the creator hands out one of its blocks, and that
// hand-over is the program's own synchronisation.
static inline void mi_segment_owner_init(mi_segment_t* segment, uintptr_t tid) {
  mi_assert_internal(tid >= MI_THREAD_ID_FIRST);
  mi_atomic_store_relaxed(&segment->thread_id, tid);
  mi_segment_holders_enter(segment);
}

// Is the calling thread the owner? Relaxed is enough: only the owner itself
// ever moves the field away from its own id (by abandoning), and only a claim
// by this thread can move it to this thread's id, so reading our own id can
// never be stale in a way that matters.
static inline bool mi_segment_is_owned_by_me(const mi_segment_t* segment) {
  return (mi_atomic_load_relaxed(&segment->thread_id) == _mi_thread_id());
}

// Is the segment abandoned right now? Only a hint: the answer may change
// immediately. Callers must claim before touching anything. Acquire pairs
// with the release store in `mi_segment_release_to_abandoned`, so a `true`
// answer also sees the abandoner's final metadata.
static inline bool mi_segment_is_abandoned(const mi_segment_t* segment) {
#if MI_LEGACY_OWNERSHIP
  return (segment->thread_id == 0); // legacy: plain, racy read
#else
  return (mi_atomic_load_acquire(&segment->thread_id) == 0);
#endif
}

// Take ownership of an abandoned segment on behalf of `tid` (a thread id, or
// MI_THREAD_ID_VISITOR for a visit). Exactly one of any number of concurrent
// claimants wins; losers must back off and touch nothing. The claim first
// observes the owner (a cheap early exit for segments that are owned), then
// acts; test builds can pause between the two, and only the compare-and-swap
// keeps a second claimant that observed 0 in the same window from winning too.
// Acquire on success pairs with the abandoner's release store of 0: the winner
// sees every metadata write made before the segment was abandoned.
static inline bool mi_segment_claim(mi_segment_t* segment, uintptr_t tid) {
  mi_assert_internal(tid != 0);
#if MI_LEGACY_OWNERSHIP
  // The old logic: plain check, then plain write. Two claimants can both pass the check.
  if (segment->thread_id != 0)
    return false;
  mi_test_claim_pause();
  segment->thread_id = tid;
#else
  // Acquire pairs with the abandoner's release store (only a hint here).
  if (mi_atomic_load_acquire(&segment->thread_id) != 0)
    return false;
  mi_test_claim_pause();
  uintptr_t expected = 0;
  // Acquire on success pairs with the abandoner's release store of 0.
  if (!mi_atomic_cas_strong_acquire(&segment->thread_id, &expected, tid))
    return false;
#endif
  mi_segment_holders_enter(segment);
  return true;
}

// Give up ownership: the segment becomes abandoned. Every owner-only field
// must be final before this call. Release pairs with the acquire of a
// successful `mi_segment_claim` (and of `mi_segment_is_abandoned`).
static inline void mi_segment_release_to_abandoned(mi_segment_t* segment) {
  mi_segment_holders_leave(segment);
  mi_atomic_store_release(&segment->thread_id, 0);
}

// The owner is about to free the segment; nobody else can reach it any more
// (it is in no abandoned set and has no live blocks).
static inline void mi_segment_owner_done(mi_segment_t* segment) { mi_segment_holders_leave(segment); }

// Span freeing and coalescing: may the caller move spans of this segment in
// and out of its thread-local span queues? Only the owner may; the spans of an
// abandoned segment belong to no thread's queues.
static inline bool mi_segment_spans_in_my_queues(const mi_segment_t* segment) {
#if MI_LEGACY_OWNERSHIP
  return (segment->thread_id != 0); // legacy: plain read, "not abandoned" means "mine"
#else
  return mi_segment_is_owned_by_me(segment);
#endif
}

// The owner recorded in a private copy of a segment header (mimalloc-inspect
// reads one from a core dump or another process). Never on a live segment:
// the copy is not shared, so a plain read is exact.
static inline uintptr_t mi_segment_owner_of_copy(const mi_segment_t* copy) { return copy->thread_id; }

#pragma GCC poison thread_id

#endif

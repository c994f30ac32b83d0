/* ----------------------------------------------------------------------------
Copyright (c) 2026 The project authors. MIT license, see LICENSE.

Internal data layout: blocks, pages (which double as span descriptors, the
"slices" of a segment), segments, heaps and thread-local data. Invariants are
written next to the fields they constrain.
-----------------------------------------------------------------------------*/
#pragma once
#ifndef MIMALLOC_TYPES_H
#define MIMALLOC_TYPES_H

#include <mimalloc.h>
#include <mimalloc-stats.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "atomic.h"

#ifndef MI_DEBUG
#define MI_DEBUG 0
#endif
#ifndef MI_LEGACY_OWNERSHIP
#define MI_LEGACY_OWNERSHIP 0
#endif
#ifndef MI_TESTING
#define MI_TESTING 0
#endif
#ifndef MI_GUARDED
#define MI_GUARDED 0
#endif

// Secure mode (CMake MI_SECURE), cumulative levels:
//   1: a guard page after each segment's metadata; a random initial order of
//      each page's free list
//   2: and a guard page at the end of every page
//   3: and free-list links encoded with per-page keys (a corrupted link is
//      detected when it is used)
//   4: and double-free and invalid-pointer checks on every free
#ifndef MI_SECURE
#define MI_SECURE 0
#endif
// Abort instead of returning NULL when memory runs out (CMake MI_XMALLOC).
#ifndef MI_XMALLOC
#define MI_XMALLOC 0
#endif
// Show errors and warnings by default, also in release builds (CMake MI_SHOW_ERRORS).
#ifndef MI_SHOW_ERRORS
#define MI_SHOW_ERRORS 0
#endif
// Padding (CMake MI_PADDING / MI_NO_PADDING): each block ends with a canary
// after the requested size, checked on free. On by default in debug, secure
// and tracking builds (there the padding is unaddressable to valgrind and
// ASan, so a write one byte past the request is reported where it happens).
// Guarded builds leave overflows to their guard pages: no padding there.
#ifndef MI_PADDING
#if (MI_DEBUG > 0 || MI_SECURE > 0 || (defined(MI_TRACK_VALGRIND) && MI_TRACK_VALGRIND) ||                   \
     (defined(MI_TRACK_ASAN) && MI_TRACK_ASAN)) &&                                                           \
    !(defined(MI_GUARDED) && MI_GUARDED)
#define MI_PADDING 1
#else
#define MI_PADDING 0
#endif
#endif

// ---------------------------------------------------------------------------
// Sizes
// ---------------------------------------------------------------------------
// 64-bit: 64 KiB slices, 512 to a 32 MiB segment, a 48-bit address space.
// 32-bit: 32 KiB slices, 256 to an 8 MiB segment (a 4 GiB address space holds
// few large segments, and a thread needs at least one), so a word-size bin
// covers the same number of words on both.
#if INTPTR_MAX == INT64_MAX
#define MI_INTPTR_SHIFT (3)
#define MI_SEGMENT_SLICE_SHIFT (16)
#define MI_SEGMENT_SLICES_SHIFT (9)
#define MI_ADDRESS_BITS (48)
#elif INTPTR_MAX == INT32_MAX
#define MI_INTPTR_SHIFT (2)
#define MI_SEGMENT_SLICE_SHIFT (15)
#define MI_SEGMENT_SLICES_SHIFT (8)
#define MI_ADDRESS_BITS (32)
#else
#error "mimalloc: only 32-bit and 64-bit platforms are supported"
#endif
#define MI_INTPTR_SIZE ((size_t)1 << MI_INTPTR_SHIFT)
#define MI_MAX_ALIGN_SIZE (16) // every block of 16 bytes or more is aligned to this

#define MI_KiB ((size_t)1024)
#define MI_MiB (MI_KiB * MI_KiB)
#define MI_GiB (MI_MiB * MI_KiB)

#define MI_SEGMENT_SHIFT (MI_SEGMENT_SLICE_SHIFT + MI_SEGMENT_SLICES_SHIFT)
#define MI_SEGMENT_SLICE_SIZE ((size_t)1 << MI_SEGMENT_SLICE_SHIFT)
#define MI_SEGMENT_SIZE ((size_t)1 << MI_SEGMENT_SHIFT)
#define MI_SEGMENT_ALIGN MI_SEGMENT_SIZE
#define MI_SEGMENT_MASK ((uintptr_t)(MI_SEGMENT_ALIGN - 1))
#define MI_SLICES_PER_SEGMENT (MI_SEGMENT_SIZE / MI_SEGMENT_SLICE_SIZE)

#define MI_SMALL_PAGE_SIZE (MI_SEGMENT_SLICE_SIZE)      // 1 slice
#define MI_MEDIUM_PAGE_SIZE (8 * MI_SEGMENT_SLICE_SIZE) // 8 slices

#define MI_SMALL_OBJ_SIZE_MAX (MI_SMALL_PAGE_SIZE / 4)   // 16 KiB (8 KiB on 32-bit)
#define MI_MEDIUM_OBJ_SIZE_MAX (MI_MEDIUM_PAGE_SIZE / 4) // 128 KiB (64 KiB)
#define MI_LARGE_OBJ_SIZE_MAX (MI_SEGMENT_SIZE / 2)      // 16 MiB (4 MiB); larger blocks are huge

// The largest request we accept; above it allocation fails with ENOMEM.
#define MI_MAX_ALLOC_SIZE ((size_t)PTRDIFF_MAX)

// Alignments up to this are served by over-allocating inside a normal page;
// larger ones get a huge segment placed so the block is aligned.
#define MI_BLOCK_ALIGNMENT_MAX (MI_SEGMENT_SIZE >> 1)

// Size bins count in units of MI_BIN_UNIT bytes (a word on 64-bit, two on
// 32-bit, so a 32-bit block of 16 bytes or more is a multiple of 16 and
// thereby 16-byte aligned, as i386 programs expect of malloc).
// 1..8 units are exact (rounded to even units above one), then four
// bins per power of two. Bins cover sizes up to MI_MEDIUM_OBJ_SIZE_MAX; all
// larger blocks sit one to a page in the MI_BIN_HUGE queue.
#define MI_BIN_UNIT ((size_t)8)
#define MI_BIN_HUGE (73U)
#define MI_BIN_FULL (MI_BIN_HUGE + 1)
#define MI_BIN_COUNT (MI_BIN_FULL + 1)

// The padding at the end of every block (MI_PADDING). Between the end of the
// requested size and this struct, up to MI_PADDING_FILL_MAX bytes hold
// MI_DEBUG_PADDING. Invariant of an allocated block:
//   MI_PADDING_SIZE <= delta <= block_size, canary == mi_padding_canary(block).
#if MI_PADDING
typedef struct mi_padding_s {
  uint32_t canary; // derived from the block address and the process cookie
  uint32_t delta;  // bytes from the end of the requested size to the end of the block
} mi_padding_t;
#define MI_PADDING_SIZE (sizeof(mi_padding_t))
#define MI_PADDING_FILL_MAX (64)
#else
#define MI_PADDING_SIZE (0)
#endif
#define MI_PADDING_WSIZE ((MI_PADDING_SIZE + MI_INTPTR_SIZE - 1) / MI_INTPTR_SIZE)

// The direct page table covers sizes up to MI_SMALL_SIZE_MAX (1 KiB) plus the
// padding, by words.
#define MI_PAGES_DIRECT (MI_SMALL_WSIZE_MAX + MI_PADDING_WSIZE + 1)

// Freed guarded blocks a heap keeps inaccessible before reusing them.
#define MI_GUARDED_QUARANTINE (8)

// Blocks per page are bounded by the medium page size over 16 bytes (32768).
#define MI_PAGE_BLOCKS_MAX (MI_MEDIUM_PAGE_SIZE / MI_MAX_ALIGN_SIZE)

// ---------------------------------------------------------------------------
// Blocks and pages
// ---------------------------------------------------------------------------

// A free block: the first word links to the next free block of its page.
typedef struct mi_block_s {
  struct mi_block_s* next;
} mi_block_t;

// States of a page's delayed-free protocol, kept in the low two bits of
// `page->xthread_free` so that the state and the list change in one CAS.
typedef enum mi_delayed_e {
  MI_USE_DELAYED_FREE = 0,  // the page is full: the next remote free goes to the heap's delayed list
  MI_DELAYED_FREEING = 1,   // a remote thread is pushing onto the heap's delayed list right now
  MI_NO_DELAYED_FREE = 2,   // remote frees go to the page's thread_free list
  MI_NEVER_DELAYED_FREE = 3 // as above, and the state never changes back (heap gone / page abandoned)
} mi_delayed_t;

#define MI_DELAYED_MASK ((uintptr_t)3)

// Guarded pages (MI_GUARDED) hold a single block that ends at a protected
// OS page. A guarded block the owner frees is kept in its heap's quarantine,
// all of it inaccessible, before it really goes back.
typedef enum mi_guard_state_e {
  MI_GUARD_NONE = 0,       // an ordinary page
  MI_GUARD_LIVE = 1,       // the block is live; its last OS page is protected
  MI_GUARD_QUARANTINED = 2 // the block is freed and in quarantine; all of it is protected
} mi_guard_state_t;

// A page holds blocks of one size. The same struct describes every slice of a
// segment: the first slice of a span carries the span's data (`slice_count`),
// the last slice of a span points back with `slice_offset`. A free span has
// `block_size == 0`.
typedef struct mi_page_s {
  // Span bookkeeping (owner only).
  uint32_t slice_count; // slices in the span, valid at the first slice; 0 elsewhere
  uint32_t
      slice_offset;     // distance in bytes back to the span's first slice (a multiple of sizeof(mi_slice_t))
  uint8_t is_committed; // memory of this span is accessible
  uint8_t is_zero_init; // all blocks were zero when the page was set up
  uint8_t free_is_zero; // every block in `free` is zero (fresh OS memory)
  uint8_t retire_expire; // > 0: the page is empty and will be freed when this counts down
  // `in_full` and `has_aligned` together: the free fast path of the owner
  // checks both with one load. They are separate bytes because other threads
  // read `has_aligned` (atomically, relaxed) while the owner writes `in_full`.
  union {
    uint16_t full_aligned;
    struct {
      uint8_t in_full;     // the page is in the heap's full queue (owner only)
      uint8_t has_aligned; // atomic: some block was handed out at an interior aligned address;
                           // only ever set while the page lives, so a block's reader sees it set
                           // if its block needed it (the block hand-off orders the write)
    } x;
  } flags;
  uint8_t heap_tag;   // tag of the heap the page was made for (for visiting)
  uint8_t is_guarded; // mi_guard_state_t (MI_GUARDED builds; always MI_GUARD_NONE otherwise)

  // Blocks (owner only, except `xheap`, `xthread_free` and `xthread_freed`).
  // The two that remote frees write sit together at offsets 64 and 72 (on
  // 64-bit), so that they always share a cache line: a remote free then
  // takes one line from the owner, not two.
  uint32_t capacity;      // blocks made available so far (lazily extended); <= reserved
  uint32_t used;          // blocks handed out, less the remote frees whose count was taken (so a block on
                          // `xthread_free` still counts until its count is taken; never less than the
                          // blocks really in use: a count is added after its block's push)
  uintptr_t xheap;        // atomic: owning heap; 0 while the page is abandoned
  size_t block_size;      // 0 for a free span
  uint8_t* page_start;    // address of the first block
  mi_block_t* free;       // allocation pops here
  mi_block_t* local_free; // collected remote frees, and owner frees in secure builds; moved to `free` when it
                          // runs out
  uintptr_t xthread_free; // atomic: list of blocks freed by other threads | mi_delayed_t
  uint32_t xthread_freed; // atomic: remote frees pushed onto `xthread_free` and not yet counted in `used`
  uint32_t reserved;      // blocks that fit in the page

  struct mi_page_s* next; // page queue (or span queue, for free spans)
  struct mi_page_s* prev;
} mi_page_t;

typedef mi_page_t mi_slice_t;

// A queue of pages of one block size (or of all single-block pages for MI_BIN_HUGE).
typedef struct mi_page_queue_s {
  mi_page_t* first;
  mi_page_t* last;
  size_t block_size;
} mi_page_queue_t;

// A queue of free spans of similar slice counts.
typedef struct mi_span_queue_s {
  mi_slice_t* first;
  mi_slice_t* last;
  size_t slice_count;
} mi_span_queue_t;

#define MI_SEGMENT_BIN_MAX (35) // span queues by slice count, see _mi_slice_bin

// ---------------------------------------------------------------------------
// Segments
// ---------------------------------------------------------------------------

typedef enum mi_segment_kind_e {
  MI_SEGMENT_NORMAL, // MI_SEGMENT_SIZE, holds small, medium and large pages
  MI_SEGMENT_HUGE    // one huge page; may be larger than MI_SEGMENT_SIZE
} mi_segment_kind_t;

typedef int64_t mi_msecs_t;

// The lock of the platform layer (see prim.h).
typedef struct mi_lock_s {
  int state;
} mi_lock_t;

// A sub-process: threads of one sub-process only ever reclaim segments
// abandoned by threads of the same sub-process. It owns an abandoned set.
typedef struct mi_subproc_s {
  mi_lock_t abandoned_lock;             // guards the list below
  struct mi_segment_s* abandoned_first; // guarded by abandoned_lock
  struct mi_segment_s* abandoned_last;  // guarded by abandoned_lock
  size_t abandoned_count;               // atomic; written under the lock, read as a hint without it
  struct mi_subproc_s* next;            // all sub-processes (for fork), guarded by the registry lock
  mi_lock_t visit_lock;                 // serialises mi_abandoned_visit_blocks (taken before abandoned_lock)
} mi_subproc_t;

// A segment is aligned to MI_SEGMENT_ALIGN so `ptr & ~MI_SEGMENT_MASK` finds it.
//
// Ownership: `thread_id` is the owning thread's id, or 0 while the segment is
// abandoned. It is read and written ONLY through the helpers in
// `ownership.h`; every other use of the name is a compile error (the name is
// poisoned after those helpers). Fields marked "owner only" are touched only
// by the thread that currently owns the segment: the owner recorded in
// `thread_id`, or the single winner of the claim that moved it from 0 to its id.
typedef struct mi_segment_s {
  // Self-description (see "Inspection" below): set when the segment is made,
  // `magic` cleared when it is freed, so a core dump or another process can
  // find every segment in use by scanning segment-aligned addresses.
  uint64_t magic;                       // MI_SEGMENT_MAGIC while in use; 0 once freed
  uint32_t layout_version;              // MI_LAYOUT_VERSION of the library that made it
  uint32_t header_size;                 // sizeof(mi_segment_t)
  const struct mi_registry_s* registry; // the process's registry (process cookie, live threads)

  // OS memory (immutable after creation).
  void* mem_base;      // start of the OS mapping (may precede the segment for huge alignment)
  size_t mem_size;     // size of the OS mapping
  size_t segment_size; // bytes from the segment start that belong to it
  mi_segment_kind_t kind;
  mi_arena_id_t arena_id; // the arena the memory came from, or 0 for direct OS memory
  uintptr_t cookie;       // segment address ^ process cookie, checked on free in debug builds
#if MI_SECURE >= 3
  uintptr_t keys[2]; // random secrets from which each page's free-list keys derive (mi_block_key)
#endif

  // Abandoned-set linkage (guarded by the abandoned set's lock).
  mi_subproc_t* subproc; // the sub-process whose abandoned set this segment goes to
  struct mi_segment_s* abandoned_next;
  struct mi_segment_s* abandoned_prev;
  bool in_abandoned_set;

  // Owner only.
  size_t used;                // pages in use (not free spans)
  size_t abandoned;           // pages in use that belong to no heap; == used while abandoned
  size_t abandoned_visits;    // times a reclaim scan looked at this segment and gave it back
  size_t segment_info_slices; // slices taken by this header
  size_t slice_entries;       // entries of `slices` in use
  bool reclaim_scan;          // set while a claimant inspects the segment (for test counters)
  bool was_reclaimed;         // the owner took it from the abandoned set (counted in reclaim_count)
  bool is_zero_init;          // the OS memory was fresh (zeroed)

  // Purging of free spans (owner only). dirty_mask also holds what a cached
  // range left resident (see mi_segment_alloc).
  mi_msecs_t purge_expire;                          // when pending purges become due; 0 if none
  uint64_t purge_mask[MI_SLICES_PER_SEGMENT / 64];  // free slices whose memory may be returned
  uint64_t dirty_mask[MI_SLICES_PER_SEGMENT / 64];  // slices written since mapped or last purged
  uint64_t purged_mask[MI_SLICES_PER_SEGMENT / 64]; // slices purged and not in use since
  mi_msecs_t purged_at;                             // when the last purge ran; 0 if none did
  struct mi_segment_s* purge_next;                  // in the owner's list of segments with pending purges
  struct mi_segment_s* purge_prev;
  bool in_purge_list;

  // The owner; see ownership.h. Never touched directly.
  uintptr_t thread_id;
  // Atomic: set before the first block at an interior aligned address of any
  // of its pages is handed out (with that page's `has_aligned`), never cleared
  // while the segment lives. A remote free that finds it clear needs no page
  // flag, so it does not read the page's first cache line, which the owner's
  // allocations keep writing (larson: 6% of the time). The hand-off of the
  // block orders the write before the free, as for the page flag.
  uint8_t has_aligned;

#if MI_TESTING
  long claim_holders; // atomic: threads currently holding a claim (test builds; must be <= 1)
#endif

  // The page of each slice, for the free path: valid for every slice of a page
  // in use (in a huge segment, for every entry); stale for free spans.
  mi_page_t* page_map[MI_SLICES_PER_SEGMENT + 1];
  mi_slice_t slices[MI_SLICES_PER_SEGMENT + 1]; // +1 sentinel for coalescing at the end
} mi_segment_t;

// ---------------------------------------------------------------------------
// Heaps and thread-local data
// ---------------------------------------------------------------------------
typedef struct mi_tld_s mi_tld_t;

// A heap is owned by one thread and never touched by another, except
// `thread_delayed_free`, which remote threads push onto (see free.c).
struct mi_heap_s {
  mi_tld_t* tld;
  mi_block_t* thread_delayed_free; // atomic: blocks of full pages freed by other threads
  uintptr_t thread_ident;          // the owning thread's id (see _mi_thread_id)
  mi_arena_id_t arena_id;
  uintptr_t cookie;
  size_t page_count;       // pages in the queues
  size_t page_retired_min; // lowest bin with a retired page
  size_t page_retired_max; // highest bin with a retired page
  struct mi_heap_s* next;  // the thread's heaps
  bool no_reclaim;         // this heap does not reclaim abandoned segments
  uint8_t tag;
#if MI_GUARDED
  // Sampling of guarded allocations (guarded.c): every `guarded_sample_rate`-th
  // allocation with a size in [guarded_size_min, guarded_size_max]; 0 = never.
  size_t guarded_sample_rate;
  size_t guarded_sample_count; // allocations in range left until the next guarded one; >= 1 while rate > 0
  size_t guarded_size_min;
  size_t guarded_size_max;
  mi_block_t* guarded_quarantine[MI_GUARDED_QUARANTINE]; // ring, oldest at guarded_quarantine_first
  size_t guarded_quarantine_first;
  size_t guarded_quarantine_count; // <= MI_GUARDED_QUARANTINE
#endif
  mi_page_t* pages_free_direct[MI_PAGES_DIRECT]; // by word size: a page with free blocks, or the empty page
  mi_page_queue_t pages[MI_BIN_COUNT];           // by bin; MI_BIN_FULL holds full pages
};

// Segment bookkeeping of one thread.
typedef struct mi_segments_tld_s {
  mi_span_queue_t spans[MI_SEGMENT_BIN_MAX + 1]; // free spans of owned segments, by size
  size_t count;                                  // segments owned
  size_t reclaim_count;                          // owned segments that came from the abandoned set
  mi_segment_t* purge_first;                     // owned segments with pending purges
  mi_segment_t* purge_last;
  size_t generic_count;  // calls of the generic allocation path (to pace periodic work)
  mi_subproc_t* subproc; // the thread's sub-process
  mi_stats_t* stats;
} mi_segments_tld_t;

// Thread-local data: everything a thread's allocator state needs.
struct mi_tld_s {
  uintptr_t thread_ident;       // this thread's id (see _mi_thread_id)
  uint64_t os_tid;              // the thread's kernel id (gettid), for inspection
  mi_tld_t* registry_next;      // live threads (registry.c), guarded by the registry's lock
  mi_tld_t* registry_prev;      // likewise
  unsigned long long heartbeat; // monotonic tick of the generic path
  size_t generic_since_collect; // generic allocations since the heap was last collected
  size_t remote_since_collect;  // frees into other threads' pages since the heap was last collected
  bool recurse;                 // guards deferred-free callbacks against recursion
  mi_heap_t* heap_backing;      // the backing heap of this thread
  mi_heap_t* heaps;             // every heap of this thread
  mi_segments_tld_t segments;
  mi_stats_t stats;
};

// ---------------------------------------------------------------------------
// Inspection: what mimalloc-inspect (tools/inspect/) reads from a core dump or
// a live process without debug information. The tool is compiled against this
// header and refuses memory whose layout version or sizes differ from its own.
// ---------------------------------------------------------------------------
#define MI_SEGMENT_MAGIC ((uint64_t)0x314753454d494d53)  // "SMIMESG1" in memory
#define MI_REGISTRY_MAGIC ((uint64_t)0x3147455249494d53) // "SMIIREG1" in memory
// Bumped whenever a struct above changes; test builds (MI_TESTING) differ.
#define MI_LAYOUT_VERSION ((uint32_t)(4 + (MI_TESTING ? 0x10000 : 0)))

// A few recently freed segment mappings (segment-cache.c).
typedef struct mi_cache_entry_s {
  void* base;           // segment-aligned start of the mapping; NULL if the entry is empty
  size_t size;          // bytes mapped: whole segment sizes (MI_SEGMENT_MASK bits clear)
  mi_msecs_t expire;    // when the memory is purged; 0 once it is purged
  mi_msecs_t purged_at; // when the memory was purged; 0 if it was not
  bool is_zero;         // purged memory reads back as zero
} mi_cache_entry_t;

#define MI_SEGMENT_CACHE_SIZE (16)

// The process's registry (registry.c, exported as `_mi_registry`); every
// segment points to it. Invariant: `threads` lists exactly the threads whose
// allocator state is set up, each once, so a segment's owner id is 0
// (abandoned), `visitor_id`, or the `thread_ident` of one listed thread.
typedef struct mi_registry_s {
  uint64_t magic;          // MI_REGISTRY_MAGIC
  uint32_t layout_version; // MI_LAYOUT_VERSION
  uint32_t segment_size_of;
  uint32_t page_size_of;
  uint32_t heap_size_of;
  uint32_t tld_size_of;
  uint32_t subproc_size_of;
  uintptr_t process_cookie; // segment cookies are `segment ^ process_cookie`
  uintptr_t visitor_id;     // owner id while mi_abandoned_visit_blocks holds a segment (MI_THREAD_ID_VISITOR)
  mi_subproc_t* subproc_main;            // the default sub-process (others are found through segments)
  const mi_cache_entry_t* segment_cache; // MI_SEGMENT_CACHE_SIZE entries
  mi_lock_t threads_lock;
  mi_tld_t* threads;   // live threads, guarded by threads_lock
  size_t thread_count; // entries of `threads`
} mi_registry_t;

_Static_assert(offsetof(mi_segment_t, magic) == 0, "inspection finds a segment by its first word");
_Static_assert(sizeof(mi_page_t) == (sizeof(void*) == 8 ? 96 : 64),
               "mi_page_t changed: bump MI_LAYOUT_VERSION");
_Static_assert(sizeof(void*) != 8 ||
                   (offsetof(mi_page_t, xthread_free) == 64 && offsetof(mi_page_t, xthread_freed) == 72),
               "the fields remote frees write must share a cache line");
_Static_assert(sizeof(mi_block_t) == sizeof(void*), "a free block's link is one plain pointer");

#endif

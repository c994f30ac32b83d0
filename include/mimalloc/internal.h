/* ----------------------------------------------------------------------------
Copyright (c) 2026 The project authors. MIT license, see LICENSE.

Library-internal declarations shared between the source files, and the small
inline functions of the fast paths. Include this last, after system headers:
it ends by poisoning the segment owner field (see ownership.h).
-----------------------------------------------------------------------------*/
#pragma once
#ifndef MIMALLOC_INTERNAL_H
#define MIMALLOC_INTERNAL_H

#include <errno.h>
#include "types.h"
#include "prim.h"
#include "track.h"

#define mi_likely(x) __builtin_expect(!!(x), 1)
#define mi_unlikely(x) __builtin_expect(!!(x), 0)
#define mi_decl_noinline __attribute__((noinline))
#define mi_decl_hidden __attribute__((visibility("hidden")))
#define mi_decl_cold __attribute__((cold))

// Overriding the standard names (see alloc-override.c): the hottest ones are
// aliases defined next to their implementation. Not in sanitizer builds: the
// sanitizer runtime defines malloc itself, and an alias in alloc.o would be
// linked in (and win) whenever mi_malloc is used.
#if !MI_TESTING && defined(MI_MALLOC_OVERRIDE) && defined(__ELF__) && !defined(MI_TSAN) && !defined(MI_ASAN)
#define MI_OVERRIDE_ALIASES 1
#define mi_decl_alias_of(fun) __attribute__((alias(#fun), visibility("default"), used))
#else
#define MI_OVERRIDE_ALIASES 0
#endif

// A static library must override all or nothing: a program that only names
// `malloc` and `free` still gets our `realloc` (glibc's getline calls it on
// our blocks). The objects holding the aliases therefore reference a symbol
// of alloc-override.c, which holds every other override and references them.
#if MI_OVERRIDE_ALIASES
extern mi_decl_hidden const char _mi_override_all;
#define mi_override_link_all()                                                                               \
  static const void* const mi_override_all_ref __attribute__((used)) = &_mi_override_all
#endif

// ---------------------------------------------------------------------------
// Assertions (MI_DEBUG 1: cheap checks, 2: internal invariants, 3: full heap checks)
// ---------------------------------------------------------------------------
#if MI_DEBUG > 0
void _mi_assert_fail(const char* assertion, const char* fname, unsigned int line, const char* func);
#define mi_assert(expr) ((expr) ? (void)0 : _mi_assert_fail(#expr, __FILE__, __LINE__, __func__))
#else
#define mi_assert(x) ((void)0)
#endif
#if MI_DEBUG > 1
#define mi_assert_internal mi_assert
#else
#define mi_assert_internal(x) ((void)0)
#endif
#if MI_DEBUG > 2
#define mi_assert_expensive mi_assert
#else
#define mi_assert_expensive(x) ((void)0)
#endif

// ---------------------------------------------------------------------------
// Cross-file functions
// ---------------------------------------------------------------------------

// options.c
void _mi_options_init(void);
void _mi_fputs(mi_output_fun* out, void* arg, const char* prefix, const char* message);
void _mi_fprintf(mi_output_fun* out, void* arg, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
void _mi_message(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void _mi_verbose_message(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void _mi_warning_message(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void _mi_error_message(int err, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
long _mi_option_get_fast(mi_option_t option);

// init.c
extern mi_decl_hidden const mi_page_t _mi_page_empty;
extern mi_decl_hidden mi_heap_t _mi_heap_empty;
extern mi_decl_hidden mi_heap_t _mi_heap_main;
extern mi_decl_hidden uintptr_t _mi_process_cookie;
extern mi_decl_hidden bool _mi_process_is_initialized;
// The library's thread-locals use the initial-exec model (one load from the
// thread pointer); a library meant to be dlopen-ed after start-up is built with
// MI_LOCAL_DYNAMIC_TLS, which goes through __tls_get_addr instead.
#if defined(MI_LOCAL_DYNAMIC_TLS) && MI_LOCAL_DYNAMIC_TLS
#define mi_decl_thread_local __thread __attribute__((tls_model("local-dynamic")))
#else
#define mi_decl_thread_local __thread __attribute__((tls_model("initial-exec")))
#endif
extern mi_decl_thread_local mi_heap_t* _mi_heap_default;

// Thread ids, the values of a segment's owner field. A thread draws its id
// from a process-wide counter when it first sets up its heap and keeps it for
// life; ids are never handed out twice (the counter is 64 bits on 64-bit
// targets), so a segment still owned by a thread that died without its exit
// hook, or by a parent's thread in a fork child, never looks owned by a later
// thread that reuses the dead one's stack or thread control block.
#define MI_THREAD_ID_ABANDONED ((uintptr_t)0) // owner field of an abandoned segment
#define MI_THREAD_ID_NONE ((uintptr_t)1)      // a thread that has not set up its heap (TLS default)
#define MI_THREAD_ID_VISITOR ((uintptr_t)2)   // mi_abandoned_visit_blocks holds the segment
#define MI_THREAD_ID_FIRST ((uintptr_t)16)    // the first id handed to a thread
extern mi_decl_thread_local uintptr_t _mi_thread_id_value;
static inline uintptr_t _mi_thread_id(void) { return _mi_thread_id_value; }
void _mi_thread_id_ensure(void);
void _mi_thread_ensure_initialized(void);
bool _mi_is_main_thread(void);
void _mi_heap_set_default_direct(mi_heap_t* heap);
mi_msecs_t _mi_process_elapsed(void);

// os.c
void _mi_os_init(void);
size_t _mi_os_page_size(void);
void* _mi_os_alloc_aligned(size_t size, size_t alignment, size_t offset, void** base, size_t* mapped,
                           mi_stats_t* stats);
void _mi_os_free(void* base, size_t size, mi_stats_t* stats);
typedef enum mi_move_result_e {
  MI_MOVE_DONE,             // the pages are at `to`; `from` is unmapped
  MI_MOVE_FAILED,           // nothing moved; both ranges are the caller's, as they were or `to` fresh
  MI_MOVE_DESTINATION_LOST, // nothing moved; `to` is not the caller's any more
} mi_move_result_t;
mi_move_result_t _mi_os_move(void* from, size_t size, void* to, mi_stats_t* stats);
bool _mi_os_purge(void* addr, size_t size, mi_stats_t* stats);
void _mi_os_thp_consider(void* start, size_t size, bool one_block);
#if MI_TESTING
void _mi_os_thp_min_rss_set(size_t bytes);
#endif
mi_msecs_t _mi_clock_now(void);

// arena.c: arenas are regions of reserved or program-provided memory that
// segments are carved from before the OS is asked directly.
void* _mi_arena_alloc_aligned(size_t size, size_t alignment, size_t align_offset, mi_arena_id_t req_arena_id,
                              mi_arena_id_t* arena_id, bool* is_zero, mi_stats_t* stats);
void _mi_arena_free(void* p, size_t size, mi_arena_id_t arena_id, mi_stats_t* stats);
bool _mi_arena_is_suitable(mi_arena_id_t arena_id, mi_arena_id_t req_arena_id);
bool _mi_arena_may_purge(mi_arena_id_t arena_id);
bool _mi_arena_purge_zeroes(mi_arena_id_t arena_id);
void _mi_arenas_init(void); // reserve what the reserve_* options ask for (from mi_process_init)

// segment-cache.c
void* _mi_segment_cache_pop(size_t size, size_t* mapped, bool* is_zero, mi_msecs_t* purged_at,
                            uint64_t resident[MI_SLICES_PER_SEGMENT / 64], mi_stats_t* stats);
bool _mi_segment_cache_push(void* base, size_t size, const uint64_t* resident, mi_msecs_t purge_delay,
                            mi_stats_t* stats);
bool _mi_segment_cache_fill(void* base, size_t size, size_t mapped,
                            uint64_t resident[MI_SLICES_PER_SEGMENT / 64], bool* is_zero, mi_stats_t* stats);
void _mi_segment_cache_collect(bool force, mi_stats_t* stats);
void _mi_segment_cache_lock_for_fork(void);
void _mi_segment_cache_unlock_after_fork(void);
const mi_cache_entry_t* _mi_segment_cache_entries(void);

// registry.c: what mimalloc-inspect needs to find (see types.h, "Inspection")
void _mi_registry_init(void);
void _mi_registry_thread_add(mi_tld_t* tld);
void _mi_registry_thread_remove(mi_tld_t* tld);
void _mi_registry_segment_init(mi_segment_t* segment);
void _mi_registry_segment_done(mi_segment_t* segment);
void _mi_registry_lock_for_fork(void);
void _mi_registry_unlock_after_fork(void);

// segment-map.c: one byte per MI_SEGMENT_SIZE unit of the address space
#define MI_SEGMENT_MAP_UNITS ((size_t)1 << (MI_ADDRESS_BITS - MI_SEGMENT_SHIFT))
extern mi_decl_hidden uint8_t _mi_segment_map[MI_SEGMENT_MAP_UNITS];
void _mi_segment_map_allocated(const mi_segment_t* segment);
void _mi_segment_map_freed(const mi_segment_t* segment);

// segment.c
mi_page_t* _mi_segment_page_alloc(mi_heap_t* heap, size_t block_size, size_t page_alignment,
                                  mi_segments_tld_t* tld);
void _mi_segment_page_free(mi_page_t* page, mi_segments_tld_t* tld);
void _mi_segment_page_abandon(mi_page_t* page, mi_segments_tld_t* tld);
void _mi_segments_collect(bool force, mi_segments_tld_t* tld);
void _mi_segment_span_queues_remove(mi_segment_t* segment, mi_segments_tld_t* tld);
void _mi_segment_span_queues_insert(mi_segment_t* segment, mi_segments_tld_t* tld);
void _mi_segment_purge_list_remove(mi_segment_t* segment, mi_segments_tld_t* tld);
void _mi_segment_purge_release(mi_segment_t* segment, mi_segments_tld_t* tld);
void _mi_segment_purge_adopt(mi_segment_t* segment, mi_segments_tld_t* tld);
void _mi_segment_free(mi_segment_t* segment, mi_segments_tld_t* tld);
bool _mi_segment_has_free_span(const mi_segment_t* segment, size_t slices_needed);
void _mi_segment_huge_page_free_remote(mi_segment_t* segment, mi_page_t* page, mi_block_t* block);
void _mi_segment_slices_check(const mi_segment_t* segment);
#if MI_TESTING
bool _mi_segment_spans_queued(const mi_segment_t* segment, mi_segments_tld_t* tld);
#endif
size_t _mi_segment_size_of_page(const mi_page_t* page);

// abandon.c: the abandoned set, abandon, claim and reclaim
void _mi_segment_abandon(mi_segment_t* segment, mi_segments_tld_t* tld);
bool _mi_segment_try_reclaim_for(mi_heap_t* heap, size_t slices_needed, mi_segments_tld_t* tld);
bool _mi_segment_reclaim_for_page(mi_heap_t* heap, size_t block_size, mi_segments_tld_t* tld);
bool _mi_segment_reclaim_on_free(mi_segment_t* segment, mi_heap_t* heap);
size_t _mi_abandoned_reclaim_all(mi_heap_t* heap);
size_t _mi_abandoned_count(mi_subproc_t* subproc);
mi_subproc_t* _mi_subproc_main(void);
void _mi_abandoned_lock_for_fork(void);
void _mi_abandoned_unlock_after_fork(void);

// page-queue.c
size_t _mi_bin_size(uint8_t bin);
void _mi_page_queue_push(mi_heap_t* heap, mi_page_queue_t* queue, mi_page_t* page);
void _mi_page_queue_remove(mi_page_queue_t* queue, mi_page_t* page);
void _mi_page_queue_move_to_front(mi_heap_t* heap, mi_page_queue_t* queue, mi_page_t* page);
void _mi_page_queue_enqueue_from(mi_page_queue_t* to, mi_page_queue_t* from, mi_page_t* page);
size_t _mi_page_queue_append(mi_heap_t* heap, mi_page_queue_t* to, mi_page_queue_t* from);
void _mi_heap_queue_first_update(mi_heap_t* heap, const mi_page_queue_t* queue);

// page.c
void* _mi_malloc_generic(mi_heap_t* heap, size_t size, bool zero, size_t huge_alignment) mi_decl_noinline;
// Collect the blocks freed by other threads (`used` then counts no block whose
// free has finished); `merge` also joins every free list into `free` (for
// visitors that read only `free`).
void _mi_page_free_collect(mi_page_t* page, bool merge);
void _mi_page_retire(mi_page_t* page);
void _mi_page_free(mi_page_t* page, mi_page_queue_t* queue);
void _mi_page_stats_release(mi_heap_t* heap, const mi_page_t* page);
void _mi_page_abandon(mi_page_t* page, mi_page_queue_t* queue);
void _mi_page_unfull(mi_page_t* page);
void _mi_page_reclaim(mi_heap_t* heap, mi_page_t* page);
void _mi_page_use_delayed_free(mi_page_t* page, mi_delayed_t delay, bool override_never);
void _mi_page_delayed_freeing_wait(mi_page_t* page);
bool _mi_page_try_use_delayed_free(mi_page_t* page, mi_delayed_t delay, bool override_never);
void _mi_page_init(mi_heap_t* heap, mi_page_t* page, size_t block_size);
void _mi_heap_delayed_free_all(mi_heap_t* heap);
bool _mi_heap_delayed_free_partial(mi_heap_t* heap);
void _mi_heap_collect_retired(mi_heap_t* heap, bool force);
void _mi_deferred_free(mi_heap_t* heap, bool force);

// heap.c
void _mi_heap_init(mi_heap_t* heap, mi_tld_t* tld, mi_arena_id_t arena_id, bool no_reclaim, uint8_t tag);
void _mi_heap_collect_abandon(mi_heap_t* heap);
mi_heap_t* _mi_heap_for_reclaim(mi_heap_t* heap, uint8_t tag);
void _mi_heap_destroy_pages(mi_heap_t* heap);
bool _mi_heap_area_visit_blocks(const mi_heap_area_t* area, mi_page_t* page, mi_block_visit_fun* visitor,
                                void* arg);
void _mi_heap_area_init(mi_heap_area_t* area, mi_page_t* page);
typedef bool(mi_heap_page_visit_fun)(mi_heap_t* heap, mi_page_queue_t* queue, mi_page_t* page, void* arg);
bool _mi_heap_visit_pages(mi_heap_t* heap, mi_heap_page_visit_fun* fn, void* arg);

// alloc.c / free.c
void* _mi_heap_malloc_zero(mi_heap_t* heap, size_t size, bool zero);
void* _mi_heap_malloc_zero_ex(mi_heap_t* heap, size_t size, bool zero, size_t huge_alignment);
void* _mi_heap_realloc_zero(mi_heap_t* heap, void* p, size_t newsize, bool zero);
void* _mi_realloc_move(void* p, size_t size, void* newp, size_t newsize, bool zero);
bool _mi_realloc_check(void* p);
void* _mi_realloc_in_place(void* p, size_t newsize);
void* _mi_page_malloc_zero(mi_heap_t* heap, mi_page_t* page, size_t size, bool zero);
void _mi_free_generic(mi_segment_t* segment, mi_page_t* page, bool is_local, void* p) mi_decl_noinline;
mi_block_t* _mi_page_ptr_unalign(const mi_page_t* page, const void* p);
size_t _mi_usable_size(const void* p, const char* msg);
void* _mi_malloc_fail(size_t size);

// checks.c: checks of client pointers and free lists (debug, padding and secure builds)
#define MI_FREE_CHECKS (MI_DEBUG > 0 || MI_PADDING || MI_SECURE >= 4)
bool _mi_free_check(const mi_segment_t* segment, const mi_page_t* page, const void* p, const char* msg);
mi_block_t* _mi_free_list_corrupted(const mi_page_t* page, const mi_block_t* block);
mi_block_t* _mi_free_list_tail(const mi_page_t* page, mi_block_t** list, size_t* count);
bool _mi_free_list_mark(const mi_page_t* page, const mi_block_t* list, uint64_t* seen, size_t* count);
#if MI_DEBUG > 2
bool _mi_page_is_valid(const mi_page_t* page); // full check of a page the caller holds
bool _mi_heap_is_valid(mi_heap_t* heap);       // every page of the heap, in its queue
#endif

// secure.c: random numbers, segment keys and guard pages (MI_SECURE builds)
uint64_t _mi_random_next(void);
void _mi_secure_segment_init(mi_segment_t* segment);
void _mi_secure_segment_done(mi_segment_t* segment);
void _mi_secure_page_guard(mi_page_t* page, bool protect);
// Bytes at the end of each page (and huge segment) taken by its guard page.
static inline size_t mi_secure_guard_size(void) { return (MI_SECURE >= 2 ? _mi_os_page_size() : 0); }

// stats.c
void _mi_stat_increase(mi_stat_count_t* stat, size_t amount);
void _mi_stat_decrease(mi_stat_count_t* stat, size_t amount);
void _mi_stat_counter_increase(mi_stat_counter_t* stat, size_t amount);
void _mi_stats_done(mi_stats_t* stats);
void _mi_stats_merge_from(mi_stats_t* to, const mi_stats_t* from);
extern mi_decl_hidden mi_stats_t _mi_stats_main;
#define mi_stat_increase(stat, amount) _mi_stat_increase(&(stat), amount)
#define mi_stat_decrease(stat, amount) _mi_stat_decrease(&(stat), amount)
#define mi_stat_counter_increase(stat, amount) _mi_stat_counter_increase(&(stat), amount)

// testing.c (test builds only)
#if MI_TESTING
typedef enum mi_test_event_e {
  MI_TEST_ABANDON,
  MI_TEST_CLAIM_WON,
  MI_TEST_CLAIM_LOST,
  MI_TEST_RECLAIM_ON_FREE,
  MI_TEST_RECLAIM_ON_ALLOC,
  MI_TEST_COALESCE_PREV,
  MI_TEST_COALESCE_NEXT,
  MI_TEST_COALESCE_PREV_ABANDONED,
  MI_TEST_COALESCE_NEXT_ABANDONED,
  MI_TEST_HUGE_FREE_AFTER_EXIT,
  MI_TEST_HUGE_SEGMENT_FREED,
  MI_TEST_SEGMENT_ALLOCATED,
  MI_TEST_SEGMENT_FREED,
  MI_TEST_INVALID_FREE,
  MI_TEST_ABANDONED_NOW_INC,
  MI_TEST_ABANDONED_NOW_DEC,
  MI_TEST_PURGE_BACKOFF,
  MI_TEST_CACHE_MOVE,
  MI_TEST_MOVE_FAILED,
  MI_TEST_MOVE_LOST,
  MI_TEST_EVENT_COUNT
} mi_test_event_t;
void _mi_test_count(mi_test_event_t event);
#define mi_test_count(event) _mi_test_count(event)
#include "testing.h"
void _mi_test_point(mi_test_point_t point, const void* page);
void _mi_thread_forget(void);
int _mi_test_move_failure(void); // 0, or how the next move is to fail (see mi_test_fail_moves)
#define mi_test_point(point, page) _mi_test_point(point, page)
#else
#define mi_test_count(event) ((void)0)
#define mi_test_point(point, page) ((void)0)
#endif

// ---------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------
static inline bool _mi_is_power_of_two(uintptr_t x) { return ((x & (x - 1)) == 0); }

static inline uintptr_t _mi_align_up(uintptr_t size, size_t alignment) {
  mi_assert_internal(alignment != 0);
  uintptr_t mask = alignment - 1;
  if ((alignment & mask) == 0)
    return ((size + mask) & ~mask);
  return (((size + mask) / alignment) * alignment);
}

static inline size_t _mi_divide_up(size_t size, size_t divider) {
  return (divider == 0 ? size : ((size + divider - 1) / divider));
}

// Bytes to words, rounding up.
static inline size_t _mi_wsize_from_size(size_t size) {
  return ((size + MI_INTPTR_SIZE - 1) / MI_INTPTR_SIZE);
}

// count * size, false on overflow.
static inline bool mi_mul_overflow(size_t count, size_t size, size_t* total) {
  return __builtin_mul_overflow(count, size, total);
}

static inline bool mi_count_size_overflow(size_t count, size_t size, size_t* total) {
  if (count == 1) {
    *total = size;
    return false;
  }
  if (mi_unlikely(mi_mul_overflow(count, size, total))) {
    errno = ENOMEM;
    _mi_error_message(ENOMEM, "allocation request is too large (%zu * %zu bytes)\n", count, size);
    *total = SIZE_MAX;
    return true;
  }
  return false;
}

static inline size_t mi_bsr(size_t x) {
  return (x == 0 ? 0 : (MI_INTPTR_SIZE * 8 - 1 - (size_t)__builtin_clzl(x)));
}
// ---------------------------------------------------------------------------
// Heaps
// ---------------------------------------------------------------------------
static inline mi_heap_t* mi_prim_get_default_heap(void) { return _mi_heap_default; }

static inline bool mi_heap_is_initialized(const mi_heap_t* heap) { return (heap != &_mi_heap_empty); }

static inline bool mi_heap_is_backing(const mi_heap_t* heap) { return (heap->tld->heap_backing == heap); }

static inline mi_page_t* _mi_heap_get_free_small_page(mi_heap_t* heap, size_t size) {
  mi_assert_internal(size <= MI_SMALL_SIZE_MAX + MI_PADDING_SIZE);
  return heap->pages_free_direct[_mi_wsize_from_size(size)];
}

// ---------------------------------------------------------------------------
// Segments and pages
// ---------------------------------------------------------------------------

// The segment of a block. `p - 1` so a block that starts exactly at the next
// segment boundary (huge alignments) still finds its own segment header; no
// block ever starts at its segment's first byte, so this is exact.
static inline mi_segment_t* _mi_ptr_segment(const void* p) {
  return (mi_segment_t*)(((uintptr_t)p - 1) & ~MI_SEGMENT_MASK);
}

static inline mi_segment_t* _mi_page_segment(const mi_page_t* page) {
  return (mi_segment_t*)((uintptr_t)page & ~MI_SEGMENT_MASK);
}

static inline size_t mi_slice_index(const mi_slice_t* slice) {
  const mi_segment_t* segment = _mi_page_segment(slice);
  return (size_t)(slice - segment->slices);
}

static inline mi_slice_t* mi_slice_first(const mi_slice_t* slice) {
  mi_slice_t* start = (mi_slice_t*)((uint8_t*)slice - slice->slice_offset);
  return start;
}

// The page descriptor of a block pointer inside `segment`. The pointer is at
// most MI_SEGMENT_SIZE past the segment start (see _mi_ptr_segment), so the
// index is at most MI_SLICES_PER_SEGMENT; every slice of a page (and, in a
// huge segment, every entry) points back to the page's first slice.
static inline mi_page_t* _mi_segment_page_of(const mi_segment_t* segment, const void* p) {
  size_t index = (size_t)((uint8_t*)p - (uint8_t*)segment) >> MI_SEGMENT_SLICE_SHIFT;
  mi_assert_internal(index <= MI_SLICES_PER_SEGMENT);
  return segment->page_map[index];
}

// Is a segment of ours at this (segment-aligned) address? Relaxed: a pointer
// to a live block reaches another thread only through the program's own
// synchronisation, which also orders the bit set when the segment was made.
static inline bool _mi_segment_map_contains(const void* segment) {
  uintptr_t unit = (uintptr_t)segment >> MI_SEGMENT_SHIFT;
  if (mi_unlikely(unit >= MI_SEGMENT_MAP_UNITS))
    return false;
  return (mi_atomic_load_relaxed(&_mi_segment_map[unit]) != 0);
}

static inline mi_page_t* _mi_ptr_page(const void* p) { return _mi_segment_page_of(_mi_ptr_segment(p), p); }

static inline uint8_t* mi_slice_start(const mi_slice_t* slice) {
  const mi_segment_t* segment = _mi_page_segment(slice);
  return ((uint8_t*)segment + (mi_slice_index(slice) * MI_SEGMENT_SLICE_SIZE));
}

static inline mi_heap_t* mi_page_heap(const mi_page_t* page) {
  return (mi_heap_t*)mi_atomic_load_relaxed(&((mi_page_t*)page)->xheap);
}

static inline void mi_page_set_heap(mi_page_t* page, mi_heap_t* heap) {
  // Release pairs with the acquire load of `xheap` in the delayed-free path of a
  // remote free: a remote thread that sees this heap also sees its initialisation.
  mi_atomic_store_release(&page->xheap, (uintptr_t)heap);
}

static inline mi_block_t* mi_tf_block(uintptr_t tf) { return (mi_block_t*)(tf & ~MI_DELAYED_MASK); }
static inline mi_delayed_t mi_tf_delayed(uintptr_t tf) { return (mi_delayed_t)(tf & MI_DELAYED_MASK); }
static inline uintptr_t mi_tf_make(mi_block_t* block, mi_delayed_t delayed) {
  return ((uintptr_t)block | (uintptr_t)delayed);
}
static inline uintptr_t mi_tf_set_delayed(uintptr_t tf, mi_delayed_t delayed) {
  return mi_tf_make(mi_tf_block(tf), delayed);
}
static inline uintptr_t mi_tf_set_block(uintptr_t tf, mi_block_t* block) {
  return mi_tf_make(block, mi_tf_delayed(tf));
}

static inline mi_block_t* mi_page_thread_free(const mi_page_t* page) {
  return mi_tf_block(mi_atomic_load_relaxed(&((mi_page_t*)page)->xthread_free));
}

static inline bool mi_page_all_free(const mi_page_t* page) { return (page->used == 0); }

static inline bool mi_page_immediate_available(const mi_page_t* page) { return (page->free != NULL); }

static inline bool mi_page_is_full(const mi_page_t* page) { return page->flags.x.in_full; }
static inline void mi_page_set_in_full(mi_page_t* page, bool in_full) { page->flags.x.in_full = in_full; }
static inline bool mi_page_has_aligned(const mi_page_t* page) {
  return (mi_atomic_load_relaxed(&((mi_page_t*)page)->flags.x.has_aligned) != 0);
}
// Whether a block of `page` (in `segment`) freed by another thread may be at an interior address.
static inline bool mi_page_has_aligned_remote(const mi_segment_t* segment, const mi_page_t* page) {
  return (mi_atomic_load_relaxed(&((mi_segment_t*)segment)->has_aligned) != 0 && mi_page_has_aligned(page));
}
static inline void mi_page_set_has_aligned(mi_page_t* page) {
  if (mi_page_has_aligned(page))
    return;
  mi_segment_t* const segment = _mi_page_segment(page);
  if (mi_atomic_load_relaxed(&segment->has_aligned) == 0)
    mi_atomic_store_relaxed(&segment->has_aligned, 1);
  mi_atomic_store_relaxed(&page->flags.x.has_aligned, 1);
}

// Queue kinds are told apart by their block size field.
#define MI_QUEUE_HUGE_SIZE (MI_LARGE_OBJ_SIZE_MAX + 1)
#define MI_QUEUE_FULL_SIZE (MI_LARGE_OBJ_SIZE_MAX + 2)
static inline bool mi_page_queue_is_full(const mi_page_queue_t* queue) {
  return (queue->block_size == MI_QUEUE_FULL_SIZE);
}

static inline bool mi_page_queue_is_special(const mi_page_queue_t* queue) {
  return (queue->block_size > MI_LARGE_OBJ_SIZE_MAX);
}

// Bin of a size: 1, 2, 4, 6, 8 units exactly, then four bins per power of two.
static inline uint8_t _mi_bin(size_t size) {
  size_t wsize = (size + MI_BIN_UNIT - 1) / MI_BIN_UNIT;
  if (wsize <= 1)
    return 1;
  if (wsize <= 8)
    return (uint8_t)((wsize + 1) & ~(size_t)1);
  if (wsize > MI_MEDIUM_OBJ_SIZE_MAX / MI_BIN_UNIT)
    return MI_BIN_HUGE;
  // With w = wsize - 1 and b its highest bit, the bin is 4*b plus the two
  // bits below b, shifted so that 9 units land right after bin 8.
  size_t w = wsize - 1;
  size_t b = mi_bsr(w);
  uint8_t bin = (uint8_t)(((b << 2) + ((w >> (b - 2)) & 3)) - 3);
  mi_assert_internal(bin > 8 && bin < MI_BIN_HUGE);
  return bin;
}

static inline mi_page_queue_t* mi_page_queue(const mi_heap_t* heap, size_t size) {
  return &((mi_heap_t*)heap)->pages[_mi_bin(size)];
}

// Free-list links. In secure builds (MI_SECURE >= 3) a link is stored encoded
// with keys of the page the block lies in, derived from its segment's random
// secrets: an overwritten link decodes to a wild address, which the checks
// below catch before it is used. In tracking builds the link word is made
// accessible for the access only: to the program a free block is no-access.
#if MI_SECURE >= 3
static inline uintptr_t mi_rotl(uintptr_t x, uintptr_t shift) {
  shift &= (MI_INTPTR_SIZE * 8 - 1);
  return (shift == 0 ? x : (x << shift) | (x >> (MI_INTPTR_SIZE * 8 - shift)));
}
static inline uintptr_t mi_rotr(uintptr_t x, uintptr_t shift) {
  shift &= (MI_INTPTR_SIZE * 8 - 1);
  return (shift == 0 ? x : (x >> shift) | (x << (MI_INTPTR_SIZE * 8 - shift)));
}
static inline void mi_block_keys(const mi_block_t* block, uintptr_t* k0, uintptr_t* k1) {
  const mi_segment_t* segment = _mi_ptr_segment(block);
  uintptr_t page = (uintptr_t)_mi_segment_page_of(segment, block);
  *k0 = segment->keys[0] ^ (page * (uintptr_t)0x9E3779B97F4A7C15ULL);
  *k1 = segment->keys[1] + page;
}
static inline uintptr_t mi_block_link_encode(const mi_block_t* block, const mi_block_t* next) {
  uintptr_t k0, k1;
  mi_block_keys(block, &k0, &k1);
  return mi_rotl((uintptr_t)next ^ k0, k0) + k1;
}
static inline mi_block_t* mi_block_link_decode(const mi_block_t* block, uintptr_t link) {
  uintptr_t k0, k1;
  mi_block_keys(block, &k0, &k1);
  return (mi_block_t*)(mi_rotr(link - k1, k0) ^ k0);
}
#else
#define mi_block_link_encode(block, next) ((uintptr_t)(next))
#define mi_block_link_decode(block, link) ((mi_block_t*)(link))
#endif

static inline mi_block_t* mi_block_next(const mi_block_t* block) {
  mi_track_mem_defined(block, sizeof(mi_block_t));
  uintptr_t link = (uintptr_t)block->next;
  mi_track_mem_noaccess(block, sizeof(mi_block_t));
  return mi_block_link_decode(block, link);
}

static inline void mi_block_set_next(mi_block_t* block, mi_block_t* next) {
  mi_track_mem_undefined(block, sizeof(mi_block_t));
  block->next = (mi_block_t*)mi_block_link_encode(block, next);
  mi_track_mem_noaccess(block, sizeof(mi_block_t));
}

// Is `block` one of the blocks made available in `page` so far (a block start
// below the capacity)? Every link of a sound free list satisfies it.
static inline bool mi_page_holds_block(const mi_page_t* page, const mi_block_t* block) {
  size_t offset = (size_t)((const uint8_t*)block - page->page_start);
  return (offset < (size_t)page->capacity * page->block_size && (offset % page->block_size) == 0);
}

// ---------------------------------------------------------------------------
// Guarded allocation (MI_GUARDED builds only; see guarded.c)
// ---------------------------------------------------------------------------
#if MI_GUARDED
void _mi_heap_guarded_init(mi_heap_t* heap);
void* _mi_heap_malloc_guarded(mi_heap_t* heap, size_t size, bool zero);
void _mi_page_guard_release(mi_page_t* page);
bool _mi_page_guard_free(mi_page_t* page, mi_block_t* block, bool is_local);
void _mi_heap_guarded_flush(mi_heap_t* heap);

// Is this allocation one of the sampled ones? Counts the allocations in range.
static inline bool mi_heap_guarded_sample(mi_heap_t* heap, size_t size) {
  if (mi_likely(heap->guarded_sample_rate == 0) || size < heap->guarded_size_min ||
      size > heap->guarded_size_max)
    return false;
  mi_assert_internal(heap->guarded_sample_count >= 1);
  if (--heap->guarded_sample_count > 0)
    return false;
  heap->guarded_sample_count = heap->guarded_sample_rate;
  return true;
}

// The guard page at the end of a guarded block is not part of its usable size.
static inline size_t mi_page_guard_size(const mi_page_t* page) {
  return (page->is_guarded != MI_GUARD_NONE ? _mi_os_page_size() : 0);
}

#define mi_page_is_quarantined(page) ((page)->is_guarded == MI_GUARD_QUARANTINED)

// Unprotect a guarded page before its memory goes back (heap destroy).
#define mi_page_guard_release(page)                                                                          \
  do {                                                                                                       \
    if (mi_unlikely((page)->is_guarded))                                                                     \
      _mi_page_guard_release(page);                                                                          \
  } while (0)
#else
#define mi_page_guard_size(page) ((size_t)0)
#define mi_page_is_quarantined(page) (false)
#define mi_page_guard_release(page) ((void)0)
#endif

// The bytes of a block the program may use at most (its padding and, for a
// guarded block, its guard page excluded).
static inline size_t mi_page_usable_block_size(const mi_page_t* page) {
  return page->block_size - MI_PADDING_SIZE - mi_page_guard_size(page);
}

static inline bool mi_segment_is_huge(const mi_segment_t* segment) {
  return (segment->kind == MI_SEGMENT_HUGE);
}

// The queue a page of the heap is in.
static inline mi_page_queue_t* _mi_page_queue_of(const mi_page_t* page) {
  mi_heap_t* heap = mi_page_heap(page);
  uint8_t bin;
  if (mi_page_is_full(page))
    bin = MI_BIN_FULL;
  else if (page->block_size > MI_MEDIUM_OBJ_SIZE_MAX)
    bin = MI_BIN_HUGE;
  else
    bin = _mi_bin(page->block_size);
  return &heap->pages[bin];
}

#include "padding.h"
#include "ownership.h"

#endif

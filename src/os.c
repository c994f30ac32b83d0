/* ----------------------------------------------------------------------------
Copyright (c) 2026 The project authors. MIT license, see LICENSE.

OS memory: aligned mappings for segments, unmapping, and purging of unused
ranges. Statistics of reserved/committed memory are kept here.
-----------------------------------------------------------------------------*/
#include <string.h>
#include "mimalloc/internal.h"

// Read from the OS once, in mi_process_init (before any other thread can
// allocate), and only read afterwards. The defaults hold until then.
static mi_os_config_t mi_os_config = {4096, 0, true, true};

void _mi_os_init(void) { _mi_prim_os_config(&mi_os_config); }

size_t _mi_os_page_size(void) { return mi_os_config.page_size; }

mi_msecs_t _mi_clock_now(void) { return _mi_prim_clock_now(); }

// Segment-aligned addresses are handed out from a rising hint so that most
// mappings are aligned on the first try (no over-allocation and trimming).
// The hint area starts at 2 TiB plus a random offset and wraps after 1 TiB.
// A 32-bit address space has no room for such an area: no hints there.
#if MI_ADDRESS_BITS > 32
#define MI_HINT_BASE ((uintptr_t)2 << 40)
#define MI_HINT_AREA ((uintptr_t)1 << 40)
static uintptr_t mi_os_hint_next; // atomic

static void* mi_os_hint_reserve(size_t size) {
  uintptr_t hint = mi_atomic_add_relaxed(&mi_os_hint_next, size);
  if (hint == 0 || hint + size > MI_HINT_BASE + MI_HINT_AREA) {
    // First use, or wrapped: start again at a random place inside the area.
    uintptr_t start = MI_HINT_BASE + ((_mi_prim_random_seed() % 4096) << MI_SEGMENT_SHIFT);
    uintptr_t expected = mi_atomic_load_relaxed(&mi_os_hint_next);
    mi_atomic_cas_strong_acq_rel(&mi_os_hint_next, &expected,
                                 start + size); // no data published: ordering irrelevant
    return NULL;
  }
  return (void*)hint;
}

static void mi_os_hint_note(void* p) { (void)p; } // the rising hint needs no note
#else
// A 32-bit address space is too small for an area of its own, and mappings
// come top-down there: each segment is asked for just below the one mapped
// last. Without that, every segment was over-allocated by a segment size
// and trimmed, and the trimmed piece below it stayed a hole too small for the
// next over-allocation: half the address space went unused between segments.
static uintptr_t mi_os_hint_low; // atomic: start of the segment mapped last (0: none yet)

static void* mi_os_hint_reserve(size_t size) {
  uintptr_t low = mi_atomic_load_relaxed(&mi_os_hint_low);
  do {
    if (low == 0 || low < size + MI_SEGMENT_ALIGN)
      return NULL;
  } while (!mi_atomic_cas_weak_acq_rel(&mi_os_hint_low, &low,
                                       low - size)); // no data published: ordering irrelevant
  return (void*)(low - size);
}

// A segment mapped at `p` (by the hint or not): the next one is asked for below it.
static void mi_os_hint_note(void* p) { mi_atomic_store_relaxed(&mi_os_hint_low, (uintptr_t)p); }
#endif

static void* mi_os_mmap(void* hint, size_t size, mi_stats_t* stats) {
  void* p = NULL;
  int err = _mi_prim_mmap(hint, size, false, &p);
  if (err != 0) {
    _mi_warning_message("unable to map %zu bytes (error %d)\n", size, err);
    return NULL;
  }
  if (stats != NULL) {
    mi_stat_counter_increase(stats->mmap_calls, 1);
    mi_stat_increase(stats->reserved, size);
    mi_stat_increase(stats->committed, size);
  }
  return p;
}

// `size` bytes of ours are no longer mapped (unmapped, moved away, or lost).
static void mi_os_stat_unmapped(mi_stats_t* stats, size_t size) {
  if (stats != NULL) {
    mi_stat_decrease(stats->reserved, size);
    mi_stat_decrease(stats->committed, size);
  }
}

static void mi_os_munmap(void* p, size_t size, mi_stats_t* stats) {
  if (p == NULL || size == 0)
    return;
  int err = _mi_prim_munmap(p, size);
  if (err != 0) {
    // E.g. ENOMEM at vm.max_map_count: unmapping the middle of a mapping
    // splits it, which needs one mapping more. The range stays mapped (and
    // counted), lost to us, but its memory goes back to the OS.
    _mi_warning_message("unable to unmap %p of %zu bytes (error %d); purged instead\n", p, size, err);
    if (_mi_prim_purge(p, size) == 0)
      mi_track_mem_defined(p, size);
    return;
  }
  mi_os_stat_unmapped(stats, size);
}

// ---------------------------------------------------------------------------
// Transparent huge pages (mi_option_allow_thp)
// ---------------------------------------------------------------------------
// A huge page is faulted in whole, so a region used sparsely costs up to 2 MiB
// of resident memory per touched 4 KiB page, and where fresh huge pages are
// dear (a VM whose balloon hands free memory back to the host faults each one
// in again in the host) its first touch costs 2-5 times what 4 KiB pages do.
// What huge pages buy is TLB reach, which matters once a process's working
// set is far beyond the reach of 4 KiB pages (a few MiB). So a segment's
// mapping (fresh or from the segment cache) asks for them only once the
// process has been MI_THP_MIN_RSS resident; below that, the bench's
// workloads (up to 550 MiB) lost time with them on both VMs measured
// (issue13.md, rounds 6 and 8). (Mapped address space is no measure: threads
// each own sparsely used segments.) The mapping of one huge block never
// asks: it is mostly written once, front to back, and freed.
#define MI_THP_MIN_RSS ((size_t)32 * MI_SEGMENT_SIZE)

static size_t mi_os_thp_min_rss = MI_THP_MIN_RSS; // atomic; lowered by tests only

static bool mi_os_thp_disabled; // atomic: the process was taken off huge pages

static bool mi_os_thp_allowed(void) {
  if (mi_os_config.large_page_size == 0)
    return false;
  if (mi_option_is_enabled(mi_option_allow_thp))
    return true;
  // Turned off: also where the system gives huge pages unasked ("always").
  if (!mi_atomic_load_relaxed(&mi_os_thp_disabled)) {
    mi_atomic_store_relaxed(&mi_os_thp_disabled, true);
    _mi_prim_thp_disable();
  }
  return false;
}

void _mi_os_thp_consider(void* start, size_t size, bool one_block) {
  // Asked first in every case: with allow_thp off it takes the process off THP.
  if (!mi_os_thp_allowed() || one_block || _mi_prim_peak_rss() < mi_atomic_load_relaxed(&mi_os_thp_min_rss))
    return;
  _mi_prim_thp_advise(start, size);
}

#if MI_TESTING
void _mi_os_thp_min_rss_set(size_t bytes) { mi_atomic_store_relaxed(&mi_os_thp_min_rss, bytes); }
#endif

// Map `size` bytes such that `result + offset` is aligned to `alignment`
// (a power of two, at least the page size). `*base`/`*mapped` receive the
// mapping to pass to _mi_os_free later.
void* _mi_os_alloc_aligned(size_t size, size_t alignment, size_t offset, void** base, size_t* mapped,
                           mi_stats_t* stats) {
  *base = NULL;
  *mapped = 0;
  if (size == 0 || !_mi_is_power_of_two(alignment) || offset > size)
    return NULL;
  size = _mi_align_up(size, mi_os_config.page_size);
  if (alignment < mi_os_config.page_size)
    alignment = mi_os_config.page_size;

  // First try: the aligned hint (only for the common segment case).
  if (offset == 0 && alignment == MI_SEGMENT_ALIGN) {
    void* hint = mi_os_hint_reserve(_mi_align_up(size, MI_SEGMENT_ALIGN));
    if (hint != NULL) {
      void* p = mi_os_mmap(hint, size, stats);
      if (p == NULL)
        return NULL;
      if (((uintptr_t)p % alignment) == 0) {
        mi_os_hint_note(p);
        *base = p;
        *mapped = size;
        return p;
      }
      mi_os_munmap(p, size, stats);
    }
  }

  // Otherwise over-allocate and trim both ends.
  if (size + alignment < size)
    return NULL; // overflow
  size_t over_size = size + alignment;
  uint8_t* p = (uint8_t*)mi_os_mmap(NULL, over_size, stats);
  if (p == NULL)
    return NULL;
  uintptr_t aligned_at = _mi_align_up((uintptr_t)p + offset, alignment);
  uint8_t* start = (uint8_t*)(aligned_at - offset);
  size_t pre = (size_t)(start - p);
  size_t post = over_size - pre - size;
  if (pre > 0)
    mi_os_munmap(p, pre, stats);
  if (post > 0)
    mi_os_munmap(start + size, post, stats);
  if (offset == 0 && alignment == MI_SEGMENT_ALIGN)
    mi_os_hint_note(start);
  *base = start;
  *mapped = size;
  return start;
}

void _mi_os_free(void* base, size_t size, mi_stats_t* stats) { mi_os_munmap(base, size, stats); }

// Move mapped pages to `to` (see _mi_prim_move): one mapping of `size` bytes
// fewer. After a failure `from` is intact, and so is `to` unless the result
// says it is lost: then [to, to + size) is no longer the caller's (another
// thread mapped into the hole the OS left), and it is counted as unmapped.
// A failed move may have left a hole at `to` that another mapping has filled
// since, indistinguishable by the OS's answers from our own memory: a secret
// word written at `to` before the move tells them apart (still there: ours, as
// it was; it also differs between moves, so another thread's move to the same
// address cannot forge it). It costs the write of one page that the move then drops.
static uintptr_t mi_os_move_serial; // atomic

mi_move_result_t _mi_os_move(void* from, size_t size, void* to, mi_stats_t* stats) {
  uintptr_t* const mark = (uintptr_t*)to;
  const uintptr_t saved = *mark;
  // Different for every move, also of two threads to the same address.
  const uintptr_t serial = mi_atomic_add_relaxed(&mi_os_move_serial, 1);
  const uintptr_t secret = _mi_process_cookie ^ (uintptr_t)to ^ (serial * (uintptr_t)0x9e3779b97f4a7c15ULL);
  *mark = secret;
  int err;
#if MI_TESTING
  // Test builds can make a move fail as the OS's can (see mi_test_fail_moves).
  const int injected = _mi_test_move_failure();
  if (injected != 0) {
    if (injected == 2) {
      _mi_prim_munmap(to, size); // what Linux does before a late failure
      mi_test_point(MI_TEST_POINT_MOVE_FAILED, to);
    }
    err = EFAULT;
  } else
#endif
    err = _mi_prim_move(from, size, to);
  if (err == 0) {
    mi_os_stat_unmapped(stats, size);
    return MI_MOVE_DONE;
  }
  mi_test_count(MI_TEST_MOVE_FAILED);
  if (err == ENOTSUP) {
    *mark = saved; // the OS cannot move: nothing was tried
    return MI_MOVE_FAILED;
  }
  bool remapped = false;
  uintptr_t seen = 0;
  if (_mi_prim_remap_hole(to, size, &remapped) == 0) {
    if (remapped)
      return MI_MOVE_FAILED; // fresh memory in the hole: ours, zero
    if (_mi_prim_read_word(mark, &seen) == 0 && seen == secret) {
      *mark = saved; // never unmapped: ours, as it was
      return MI_MOVE_FAILED;
    }
  }
  _mi_warning_message("a failed move of %zu bytes to %p lost the destination (error %d)\n", size, to, err);
  mi_test_count(MI_TEST_MOVE_LOST);
  mi_os_stat_unmapped(stats, size);
  return MI_MOVE_DESTINATION_LOST;
}

// True if the OS dropped the pages. On failure (e.g. EINVAL where part of the
// range is locked: mlock, mlockall) some of them may be dropped and some not,
// so the caller must take the whole range as still holding what it held.
bool _mi_os_purge(void* addr, size_t size, mi_stats_t* stats) {
  if (size == 0)
    return true;
  int err = _mi_prim_purge(addr, size);
  if (err != 0)
    _mi_warning_message("unable to purge %p of %zu bytes (error %d)\n", addr, size, err);
  else
    mi_track_mem_defined(addr, size); // it reads as zero now, whatever a block's free left it as
  if (stats != NULL) {
    mi_stat_counter_increase(stats->purge_calls, 1);
    mi_stat_counter_increase(stats->purged, size);
  }
  return (err == 0);
}

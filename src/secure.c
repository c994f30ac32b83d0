/* ----------------------------------------------------------------------------
Copyright (c) 2026 The project authors. MIT license, see LICENSE.

Secure mode (MI_SECURE, levels in types.h): per-thread random numbers, the
random secrets of each segment from which its pages' free-list keys derive
(internal.h, mi_block_keys), and guard pages: one after the segment metadata
(level >= 1) and one at the end of every page (level >= 2), so a linear
overflow out of the metadata or out of a page faults at once instead of
silently corrupting the neighbour.
-----------------------------------------------------------------------------*/
#include "mimalloc/internal.h"

#if MI_SECURE > 0
// ---------------------------------------------------------------------------
// Random numbers (splitmix64 over a per-thread state seeded from the OS)
// ---------------------------------------------------------------------------
static mi_decl_thread_local uint64_t mi_random_state;

uint64_t _mi_random_next(void) {
  if (mi_unlikely(mi_random_state == 0))
    mi_random_state = _mi_prim_random_seed() ^ _mi_thread_id() ^ _mi_process_cookie;
  uint64_t z = (mi_random_state += UINT64_C(0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
  return z ^ (z >> 31);
}

// ---------------------------------------------------------------------------
// Guard pages
// ---------------------------------------------------------------------------
static void mi_guard_protect(void* addr, bool protect) {
  int err = _mi_prim_protect(addr, _mi_os_page_size(), protect);
  if (err != 0)
    _mi_warning_message("unable to %s the guard page at %p (error %d)\n", (protect ? "protect" : "unprotect"),
                        addr, err);
}

// The metadata guard: the last OS page of the segment's header slices.
static void* mi_segment_guard(const mi_segment_t* segment) {
  return (uint8_t*)segment + segment->segment_info_slices * MI_SEGMENT_SLICE_SIZE - _mi_os_page_size();
}

void _mi_secure_segment_init(mi_segment_t* segment) {
  mi_assert_internal(sizeof(mi_segment_t) + _mi_os_page_size() <=
                     segment->segment_info_slices * MI_SEGMENT_SLICE_SIZE);
#if MI_SECURE >= 3
  segment->keys[0] = (uintptr_t)_mi_random_next() | 1;
  segment->keys[1] = (uintptr_t)_mi_random_next();
#endif
  mi_guard_protect(mi_segment_guard(segment), true);
}

// The memory goes back to the OS, an arena or the segment cache: no guard may remain.
void _mi_secure_segment_done(mi_segment_t* segment) {
  mi_guard_protect(mi_segment_guard(segment), false);
  if (mi_segment_is_huge(segment))
    _mi_secure_page_guard(&segment->slices[segment->segment_info_slices], false);
}

// The page guard: the last OS page of the page's span (of the segment, for a huge page).
void _mi_secure_page_guard(mi_page_t* page, bool protect) {
#if MI_SECURE >= 2
  const mi_segment_t* segment = _mi_page_segment(page);
  uint8_t* end =
      (mi_segment_is_huge(segment) ? (uint8_t*)segment + segment->segment_size
                                   : mi_slice_start(page) + page->slice_count * MI_SEGMENT_SLICE_SIZE);
  mi_guard_protect(end - _mi_os_page_size(), protect);
#else
  (void)page, (void)protect;
#endif
}
#else
typedef int mi_secure_disabled_t; // ISO C wants a declaration in every translation unit
#endif

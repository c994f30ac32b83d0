/* ----------------------------------------------------------------------------
Copyright (c) 2026 The project authors. MIT license, see LICENSE.

The segment map: one bit per MI_SEGMENT_SIZE unit of the address space, set
while a segment of ours starts there. `mi_free` consults it (inline, see
`_mi_segment_map_contains`) to reject pointers this allocator never handed
out before it reads any segment header.
-----------------------------------------------------------------------------*/
#include "mimalloc/internal.h"

#define MI_MAP_WORD_BITS (8 * sizeof(uintptr_t))

// 1 MiB of zero-initialised address space; only the words in use are touched.
mi_decl_hidden uintptr_t _mi_segment_map[MI_SEGMENT_MAP_WORDS]; // atomic words

void _mi_segment_map_allocated(const mi_segment_t* segment) {
  uintptr_t unit = (uintptr_t)segment >> MI_SEGMENT_SHIFT;
  if (unit >= MI_SEGMENT_MAP_UNITS)
    return;
  mi_atomic_or_relaxed(&_mi_segment_map[unit / MI_MAP_WORD_BITS], (uintptr_t)1 << (unit % MI_MAP_WORD_BITS));
}

void _mi_segment_map_freed(const mi_segment_t* segment) {
  uintptr_t unit = (uintptr_t)segment >> MI_SEGMENT_SHIFT;
  if (unit >= MI_SEGMENT_MAP_UNITS)
    return;
  mi_atomic_and_relaxed(&_mi_segment_map[unit / MI_MAP_WORD_BITS],
                        ~((uintptr_t)1 << (unit % MI_MAP_WORD_BITS)));
}

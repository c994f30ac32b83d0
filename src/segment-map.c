/* ----------------------------------------------------------------------------
Copyright (c) 2026 The project authors. MIT license, see LICENSE.

The segment map: one byte per MI_SEGMENT_SIZE unit of the address space, set
while a segment of ours starts there. `mi_free` consults it (inline, see
`_mi_segment_map_contains`) to reject pointers this allocator never handed
out before it reads any segment header. A byte rather than a bit keeps that
check to a shift, a compare and one load.
-----------------------------------------------------------------------------*/
#include "mimalloc/internal.h"

// 8 MiB of zero-initialised address space; only the pages in use are touched.
mi_decl_hidden uint8_t _mi_segment_map[MI_SEGMENT_MAP_UNITS]; // atomic bytes

void _mi_segment_map_allocated(const mi_segment_t* segment) {
  uintptr_t unit = (uintptr_t)segment >> MI_SEGMENT_SHIFT;
  if (unit < MI_SEGMENT_MAP_UNITS)
    mi_atomic_store_relaxed(&_mi_segment_map[unit], 1);
}

void _mi_segment_map_freed(const mi_segment_t* segment) {
  uintptr_t unit = (uintptr_t)segment >> MI_SEGMENT_SHIFT;
  if (unit < MI_SEGMENT_MAP_UNITS)
    mi_atomic_store_relaxed(&_mi_segment_map[unit], 0);
}

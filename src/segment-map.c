/* ----------------------------------------------------------------------------
Copyright (c) 2026 The project authors. MIT license, see LICENSE.

The segment map: one bit per MI_SEGMENT_SIZE unit of the address space, set
while a segment of ours starts there. `mi_free` consults it to reject
pointers this allocator never handed out (they are left alone and reported)
before it reads any segment header.
-----------------------------------------------------------------------------*/
#include "mimalloc/internal.h"

#define MI_MAP_ADDRESS_BITS (48)
#define MI_MAP_UNITS        ((size_t)1 << (MI_MAP_ADDRESS_BITS - MI_SEGMENT_SHIFT))
#define MI_MAP_WORD_BITS    (8 * sizeof(uintptr_t))
#define MI_MAP_WORDS        (MI_MAP_UNITS / MI_MAP_WORD_BITS)

// 1 MiB of zero-initialised address space; only the words in use are ever touched.
static uintptr_t mi_segment_map[MI_MAP_WORDS]; // atomic words

static bool mi_segment_map_index(const void* segment, size_t* word, uintptr_t* mask) {
  uintptr_t unit = (uintptr_t)segment >> MI_SEGMENT_SHIFT;
  if (unit >= MI_MAP_UNITS) return false;
  *word = unit / MI_MAP_WORD_BITS;
  *mask = (uintptr_t)1 << (unit % MI_MAP_WORD_BITS);
  return true;
}

void _mi_segment_map_allocated(const mi_segment_t* segment) {
  size_t word;
  uintptr_t mask;
  if (!mi_segment_map_index(segment, &word, &mask)) return;
  mi_atomic_or_relaxed(&mi_segment_map[word], mask);
}

void _mi_segment_map_freed(const mi_segment_t* segment) {
  size_t word;
  uintptr_t mask;
  if (!mi_segment_map_index(segment, &word, &mask)) return;
  mi_atomic_and_relaxed(&mi_segment_map[word], ~mask);
}

// Relaxed: a pointer to a live block reaches another thread only through the
// program's own synchronisation, which also orders the bit set at creation.
bool _mi_segment_map_contains(const void* segment) {
  size_t word;
  uintptr_t mask;
  if (!mi_segment_map_index(segment, &word, &mask)) return false;
  return ((mi_atomic_load_relaxed(&mi_segment_map[word]) & mask) != 0);
}

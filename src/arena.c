/* ----------------------------------------------------------------------------
Copyright (c) 2026 The project authors. MIT license, see LICENSE.

Arenas: regions of reserved or program-provided memory that segments are
carved from before the OS is asked directly.
-----------------------------------------------------------------------------*/
#include "mimalloc/internal.h"

void* _mi_arena_alloc_aligned(size_t size, size_t alignment, size_t align_offset, mi_arena_id_t req_arena_id,
                              mi_arena_id_t* arena_id, bool* is_zero, mi_stats_t* stats) {
  (void)size, (void)alignment, (void)align_offset, (void)req_arena_id, (void)stats;
  *arena_id = 0;
  *is_zero = true;
  return NULL;
}

void _mi_arena_free(void* p, size_t size, mi_arena_id_t arena_id, mi_stats_t* stats) {
  (void)arena_id;
  _mi_os_free(p, size, stats);
}

bool _mi_arena_is_suitable(mi_arena_id_t arena_id, mi_arena_id_t req_arena_id) { return (arena_id == req_arena_id || req_arena_id == 0); }

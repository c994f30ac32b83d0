/* ----------------------------------------------------------------------------
Copyright (c) 2026 The project authors. MIT license, see LICENSE.

The segment cache: a few recently freed segment mappings, kept so that a
program that frees and soon allocates large memory again does not pay for
unmapping, mapping and faulting the pages back in. A cached mapping keeps its
memory for `mi_option_purge_delay` milliseconds; after that its memory is
purged (returned to the OS) but the address range stays cached until it is
reused or evicted (the pusher gives the delay: purge_delay * arena_purge_mult,
as for memory that mimalloc returns to its arenas, times the back-off in
segment.c; never if purge_delay < 0). The cache is process-wide and guarded
by a lock; it is only touched when a segment is created or freed.
-----------------------------------------------------------------------------*/
#include "mimalloc/internal.h"

// MI_SEGMENT_CACHE_SIZE and mi_cache_entry_t are in types.h (mimalloc-inspect reads the cache).

static mi_lock_t mi_cache_lock;
static mi_cache_entry_t mi_cache[MI_SEGMENT_CACHE_SIZE]; // guarded by mi_cache_lock
static size_t mi_cache_count;                            // atomic: a hint read without the lock

// Take a cached mapping of at least `size` bytes. The smallest one that fits
// is taken whole if it is not much larger; a larger one is split: the caller
// gets its first `size` bytes (whole segment sizes) and the rest stays cached.
// Splitting lets a freed huge block's memory, still resident, serve normal
// segments and smaller huge blocks instead of fresh memory (mappings are whole
// segment sizes and segment aligned, see mi_segment_alloc, so both parts are
// too, and each part can be purged or unmapped on its own).
// `*purged_at` tells when its memory was purged (0 if it was not).
void* _mi_segment_cache_pop(size_t size, size_t* mapped, bool* is_zero, mi_msecs_t* purged_at,
                            mi_stats_t* stats) {
  if (mi_atomic_load_relaxed(&mi_cache_count) == 0)
    return NULL;
  size_t whole_limit = size + (size / 2 > MI_SEGMENT_SIZE ? size / 2 : MI_SEGMENT_SIZE);
  size_t take = _mi_align_up(size, MI_SEGMENT_SIZE);
  mi_cache_entry_t found = {NULL, 0, 0, 0, false};
  _mi_prim_lock(&mi_cache_lock);
  size_t best = MI_SEGMENT_CACHE_SIZE;
  for (size_t i = 0; i < MI_SEGMENT_CACHE_SIZE; i++) {
    const mi_cache_entry_t* entry = &mi_cache[i];
    if (entry->base == NULL || entry->size < size)
      continue;
    if (best == MI_SEGMENT_CACHE_SIZE || entry->size < mi_cache[best].size)
      best = i;
  }
  bool split = false;
  if (best < MI_SEGMENT_CACHE_SIZE) {
    mi_cache_entry_t* entry = &mi_cache[best];
    found = *entry;
    split = (entry->size >= whole_limit && entry->size - take >= MI_SEGMENT_SIZE);
    if (split) {
      mi_assert_internal(((uintptr_t)entry->base & MI_SEGMENT_MASK) == 0 &&
                         entry->size % MI_SEGMENT_SIZE == 0);
      found.size = take;
      entry->base = (uint8_t*)entry->base + take;
      entry->size -= take;
    } else {
      entry->base = NULL;
      mi_atomic_sub_relaxed(&mi_cache_count, 1);
    }
  }
  _mi_prim_unlock(&mi_cache_lock);
  if (found.base == NULL)
    return NULL;
  if (!split)
    mi_stat_decrease(stats->segments_cache, 1);
  *mapped = found.size;
  *is_zero = found.is_zero;
  *purged_at = found.purged_at;
  return found.base;
}

// Keep a freed segment mapping, to be purged after `purge_delay` ms (never if
// negative). Returns false if the caller must unmap it.
bool _mi_segment_cache_push(void* base, size_t size, mi_msecs_t purge_delay, mi_stats_t* stats) {
  mi_msecs_t expire_delay = (purge_delay < 0 ? INT64_MAX / 2 : purge_delay);
  mi_cache_entry_t evicted = {NULL, 0, 0, 0, false};
  mi_msecs_t now = _mi_clock_now();
  _mi_prim_lock(&mi_cache_lock);
  size_t slot = MI_SEGMENT_CACHE_SIZE;
  for (size_t i = 0; i < MI_SEGMENT_CACHE_SIZE; i++) {
    if (mi_cache[i].base == NULL) {
      slot = i;
      break;
    }
    // Otherwise evict a purged entry (or, failing that, the one that expires first).
    if (slot == MI_SEGMENT_CACHE_SIZE || mi_cache[i].expire < mi_cache[slot].expire)
      slot = i;
  }
  if (mi_cache[slot].base != NULL)
    evicted = mi_cache[slot];
  else
    mi_atomic_add_relaxed(&mi_cache_count, 1);
  mi_cache[slot].base = base;
  mi_cache[slot].size = size;
  mi_cache[slot].expire = now + expire_delay;
  mi_cache[slot].purged_at = 0;
  mi_cache[slot].is_zero = false;
  _mi_prim_unlock(&mi_cache_lock);
  mi_stat_increase(stats->segments_cache, 1);
  if (evicted.base != NULL) {
    mi_stat_decrease(stats->segments_cache, 1);
    _mi_os_free(evicted.base, evicted.size, stats);
  }
  return true;
}

// Purge the cached mappings whose delay has passed (all of them if `force`).
void _mi_segment_cache_collect(bool force, mi_stats_t* stats) {
  if (mi_atomic_load_relaxed(&mi_cache_count) == 0)
    return;
  mi_msecs_t now = _mi_clock_now();
  for (size_t i = 0; i < MI_SEGMENT_CACHE_SIZE; i++) {
    // Take the entry out while purging so the lock is not held across the system call.
    mi_cache_entry_t entry = {NULL, 0, 0, 0, false};
    _mi_prim_lock(&mi_cache_lock);
    if (mi_cache[i].base != NULL && mi_cache[i].expire != 0 && (force || mi_cache[i].expire <= now)) {
      entry = mi_cache[i];
      mi_cache[i].base = NULL;
    }
    _mi_prim_unlock(&mi_cache_lock);
    if (entry.base == NULL)
      continue;
    _mi_os_purge(entry.base, entry.size, stats);
    entry.expire = 0;
    entry.purged_at = _mi_clock_now();
    entry.is_zero = true;
    _mi_prim_lock(&mi_cache_lock);
    bool placed = (mi_cache[i].base == NULL);
    if (placed)
      mi_cache[i] = entry;
    _mi_prim_unlock(&mi_cache_lock);
    if (!placed) {
      // Someone pushed into the slot meanwhile.
      mi_atomic_sub_relaxed(&mi_cache_count, 1);
      mi_stat_decrease(stats->segments_cache, 1);
      _mi_os_free(entry.base, entry.size, stats);
    }
  }
}

// The entries, for the registry (inspection reads them without the lock).
const mi_cache_entry_t* _mi_segment_cache_entries(void) { return mi_cache; }

// fork: the child must not inherit a held lock.
void _mi_segment_cache_lock_for_fork(void) { _mi_prim_lock(&mi_cache_lock); }
void _mi_segment_cache_unlock_after_fork(void) { _mi_prim_unlock(&mi_cache_lock); }

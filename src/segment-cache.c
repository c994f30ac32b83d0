/* ----------------------------------------------------------------------------
Copyright (c) 2026 The project authors. MIT license, see LICENSE.

The segment cache: a few recently freed segment mappings, kept so that a
program that frees and soon allocates large memory again does not pay for
unmapping, mapping and faulting the pages back in. A cached mapping keeps its
memory for `mi_option_purge_delay` milliseconds; after that its memory is
purged (returned to the OS) but the address range stays cached until it is
reused or evicted (the pusher gives the delay: purge_delay * arena_purge_mult,
as for memory that mimalloc returns to its arenas, times the back-off in
segment.c; never if purge_delay < 0). Cached mappings that touch are kept
as one range: the OS maps segments next to each other, so memory freed beside
memory freed earlier serves a later, larger request instead of fresh pages.
The cache is process-wide and guarded by a lock; it is only touched when a
segment is created or freed.
-----------------------------------------------------------------------------*/
#include <string.h>
#include "mimalloc/internal.h"

// MI_SEGMENT_CACHE_SIZE and mi_cache_entry_t are in types.h (mimalloc-inspect reads the cache).

static mi_lock_t mi_cache_lock;
static mi_cache_entry_t mi_cache[MI_SEGMENT_CACHE_SIZE]; // guarded by mi_cache_lock
static size_t mi_cache_count;                            // atomic: a hint read without the lock

// One byte per OS page of a step of a residency query (the step is 64 MiB
// with 4 KiB pages; more with larger pages); guarded by mi_cache_lock.
static uint8_t mi_cache_pages[(64 * MI_MiB) / 4096];

// Resident pages among mi_cache_pages[from, to), eight bytes at a time.
static ptrdiff_t mi_cache_pages_count(size_t from, size_t to) {
  size_t count = 0;
  size_t i = from;
  for (; i + 8 <= to; i += 8) {
    uint64_t word;
    memcpy(&word, &mi_cache_pages[i], sizeof(word));
    count += (size_t)(((word & 0x0101010101010101ULL) * 0x0101010101010101ULL) >> 56);
  }
  for (; i < to; i++)
    count += (mi_cache_pages[i] & 1);
  return (ptrdiff_t)count;
}

// The score of placing a segment that uses `size` of its `take` bytes at `at`
// in `entry`: bytes resident under the used part minus bytes resident in the
// idle rest. No memory of a range purged since it was freed is resident; the
// score is 0 where the OS cannot tell.
static ptrdiff_t mi_cache_place_score(const mi_cache_entry_t* entry, uint8_t* at, size_t size, size_t take) {
  if (entry->expire == 0)
    return 0;
  const size_t page_size = _mi_os_page_size();
  const size_t used_pages = _mi_divide_up(size, page_size);
  const size_t step_max = sizeof(mi_cache_pages) * page_size;
  ptrdiff_t score = 0;
  for (size_t done = 0; done < take; done += step_max) {
    size_t step = (take - done < step_max ? take - done : step_max);
    if (_mi_prim_resident(at + done, step, mi_cache_pages) != 0)
      return 0;
    size_t pages = step / page_size;
    size_t first = done / page_size;
    size_t split = (used_pages <= first ? 0 : (used_pages - first < pages ? used_pages - first : pages));
    score += mi_cache_pages_count(0, split) - mi_cache_pages_count(split, pages);
  }
  return score * (ptrdiff_t)page_size;
}

// Take `take` bytes (whole segment sizes) of cached memory for a segment that
// uses its first `size` bytes. The candidates are the two ends of every cached
// range that is large enough (a piece from the middle would leave the range in
// two pieces too small for the next huge block). The one chosen leaves the least
// memory to be faulted in: the most resident bytes under the part the segment
// uses, fewest resident bytes locked up idle in its tail (a huge block's segment
// ends on a segment size); a place resident under all the segment uses and
// nowhere else ends the search. Ties, as between purged ranges, go to the
// smallest range, then the lowest address, then its start.
// `*purged_at` tells when its memory was purged (0 if it was not).
void* _mi_segment_cache_pop(size_t size, size_t* mapped, bool* is_zero, mi_msecs_t* purged_at,
                            mi_stats_t* stats) {
  if (mi_atomic_load_relaxed(&mi_cache_count) == 0)
    return NULL;
  size_t take = _mi_align_up(size, MI_SEGMENT_SIZE);
  _mi_prim_lock(&mi_cache_lock);
  size_t fitting = 0;
  for (size_t i = 0; i < MI_SEGMENT_CACHE_SIZE; i++)
    fitting += (mi_cache[i].base != NULL && mi_cache[i].size >= take ? (mi_cache[i].size > take ? 2 : 1) : 0);
  size_t best = MI_SEGMENT_CACHE_SIZE;
  size_t best_offset = 0;
  ptrdiff_t best_score = 0;
  const ptrdiff_t perfect = (ptrdiff_t)_mi_align_up(size, _mi_os_page_size());
  for (size_t i = 0; i < MI_SEGMENT_CACHE_SIZE && best_score < perfect; i++) {
    const mi_cache_entry_t* entry = &mi_cache[i];
    if (entry->base == NULL || entry->size < take)
      continue;
    for (size_t offset = 0;; offset = entry->size - take) {
      ptrdiff_t score = 0;
      if (fitting > 1) { // the residency only decides between candidates
        score = mi_cache_place_score(entry, (uint8_t*)entry->base + offset, size, take);
      }
      if (best == MI_SEGMENT_CACHE_SIZE || score > best_score ||
          (score == best_score &&
           (entry->size < mi_cache[best].size ||
            (entry->size == mi_cache[best].size && entry->base < mi_cache[best].base)))) {
        best = i;
        best_offset = offset;
        best_score = score;
      }
      if (offset == entry->size - take || best_score >= perfect)
        break;
    }
  }
  mi_cache_entry_t found = {NULL, 0, 0, 0, false};
  bool whole = false;
  if (best < MI_SEGMENT_CACHE_SIZE) {
    mi_cache_entry_t* entry = &mi_cache[best];
    found = *entry;
    found.base = (uint8_t*)entry->base + best_offset;
    found.size = take;
    whole = (entry->size == take);
    if (whole) {
      entry->base = NULL;
      mi_atomic_sub_relaxed(&mi_cache_count, 1);
    } else {
      // Entries and their pieces are whole segment sizes at segment-aligned
      // addresses (mappings are, see mi_segment_alloc), so the rest is too.
      if (best_offset == 0)
        entry->base = (uint8_t*)entry->base + take;
      entry->size -= take;
    }
  }
  _mi_prim_unlock(&mi_cache_lock);
  if (found.base == NULL)
    return NULL;
  if (whole)
    mi_stat_decrease(stats->segments_cache, 1);
  mi_assert_internal(((uintptr_t)found.base & MI_SEGMENT_MASK) == 0);
  *mapped = found.size;
  *is_zero = found.is_zero;
  *purged_at = found.purged_at;
  return found.base;
}

// Join `other`, a cached range that touches `range`, into `range`. The joined
// memory is purged when the later of the two delays passes; it reads as zero
// only if both parts do.
static void mi_cache_entry_join(mi_cache_entry_t* range, const mi_cache_entry_t* other) {
  if ((uint8_t*)other->base < (uint8_t*)range->base)
    range->base = other->base;
  range->size += other->size;
  if (range->expire != 0 || other->expire != 0)
    range->expire = (range->expire > other->expire ? range->expire : other->expire);
  range->purged_at = (range->purged_at > other->purged_at ? range->purged_at : other->purged_at);
  range->is_zero = (range->is_zero && other->is_zero);
}

bool _mi_segment_cache_push(void* base, size_t size, mi_msecs_t purge_delay, mi_stats_t* stats) {
  // Every range is whole segment sizes at a segment-aligned address, so that
  // any end piece of it taken by _mi_segment_cache_pop is a segment.
  if (((uintptr_t)base & MI_SEGMENT_MASK) != 0 || (size & MI_SEGMENT_MASK) != 0)
    return false;
  mi_msecs_t expire_delay = (purge_delay < 0 ? INT64_MAX / 2 : purge_delay);
  mi_cache_entry_t evicted = {NULL, 0, 0, 0, false};
  mi_msecs_t now = _mi_clock_now();
  mi_cache_entry_t range = {base, size, now + expire_delay, 0, false};
  size_t joined = 0;
  _mi_prim_lock(&mi_cache_lock);
  // Entries never touch each other except while the collector has one out, so
  // a pass that joins nothing ends the search.
  bool grew;
  do {
    grew = false;
    for (size_t i = 0; i < MI_SEGMENT_CACHE_SIZE; i++) {
      mi_cache_entry_t* entry = &mi_cache[i];
      if (entry->base == NULL)
        continue;
      if ((uint8_t*)entry->base + entry->size == (uint8_t*)range.base ||
          (uint8_t*)range.base + range.size == (uint8_t*)entry->base) {
        mi_cache_entry_join(&range, entry);
        entry->base = NULL;
        joined++;
        grew = true;
      }
    }
  } while (grew);
  if (joined > 0)
    mi_atomic_sub_relaxed(&mi_cache_count, joined);
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
  mi_cache[slot] = range;
  _mi_prim_unlock(&mi_cache_lock);
  mi_stat_increase(stats->segments_cache, 1);
  if (joined > 0)
    mi_stat_decrease(stats->segments_cache, joined);
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

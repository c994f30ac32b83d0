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
memory freed earlier serves a later, larger request instead of fresh pages;
where a new segment still finds no resident memory under it, resident memory
at the end of another cached range is moved there (see mi_cache_fill).
The cache is process-wide and guarded by a lock; it is only touched when a
segment is created or freed.
-----------------------------------------------------------------------------*/
#include <string.h>
#include "mimalloc/internal.h"

// MI_SEGMENT_CACHE_SIZE and mi_cache_entry_t are in types.h (mimalloc-inspect reads the cache).

static mi_lock_t mi_cache_lock;
static mi_cache_entry_t mi_cache[MI_SEGMENT_CACHE_SIZE]; // guarded by mi_cache_lock
static size_t mi_cache_count;                            // atomic: a hint read without the lock

// What of a cached range is resident: one bit per slice, set if a page of the
// slice is, for the range's first MI_CACHE_RANGE_SEGMENTS segment sizes (ranges
// join up to that length; the rest of a longer mapping counts as not
// resident). Set when a mapping is pushed: a normal segment's from its dirty
// slices (see mi_segment_free), a huge one's from the OS.
// Nothing becomes resident while cached (nobody writes there), so the map
// stays true through joins and pops until a purge clears it, and choosing a
// place costs no system call; a segment cut from a range takes the map of its
// first segment size along as dirty slices. Bits past the end of a range are
// clear. Guarded by mi_cache_lock.
#define MI_CACHE_RANGE_SEGMENTS (16)
#define MI_CACHE_SEGMENT_WORDS (MI_SLICES_PER_SEGMENT / 64)
typedef struct mi_cache_resident_s {
  uint64_t bits[MI_CACHE_RANGE_SEGMENTS * MI_CACHE_SEGMENT_WORDS];
} mi_cache_resident_t;
static mi_cache_resident_t mi_cache_resident[MI_SEGMENT_CACHE_SIZE];

static size_t mi_cache_segments(size_t size) { return size / MI_SEGMENT_SIZE; }

// Any of the first `count` bytes of `pages` (a mincore vector) marks a resident page.
static bool mi_cache_pages_any(const uint8_t* pages, size_t count) {
  size_t i = 0;
  for (; i + 8 <= count; i += 8) {
    uint64_t word;
    memcpy(&word, &pages[i], sizeof(word));
    if ((word & 0x0101010101010101ULL) != 0)
      return true;
  }
  for (; i < count; i++) {
    if ((pages[i] & 1) != 0)
      return true;
  }
  return false;
}

// Marks in `map` the slices of [base, base + size) that the OS reports
// resident (none where it cannot tell). Asked in steps of a small page
// vector, without the lock. A step is sized so that the vector holds a byte
// per 4 KiB even where pages are larger: qemu-user emulating 64 KiB pages on
// a 4 KiB host fills it per host page (the bits are then rough, the stack
// intact).
static void mi_cache_resident_query(uint8_t* base, size_t size, mi_cache_resident_t* map) {
  uint8_t pages[4096];
  const size_t page_size = _mi_os_page_size();
  const size_t slice_pages = (MI_SEGMENT_SLICE_SIZE > page_size ? MI_SEGMENT_SLICE_SIZE / page_size : 1);
  const size_t step_max = sizeof(pages) * 4096; // a multiple of slices and of pages up to 16 MiB
  if (size > MI_CACHE_RANGE_SEGMENTS * MI_SEGMENT_SIZE)
    size = MI_CACHE_RANGE_SEGMENTS * MI_SEGMENT_SIZE;
  for (size_t done = 0; done < size; done += step_max) {
    const size_t step = (size - done < step_max ? size - done : step_max);
    if (_mi_prim_resident(base + done, step, pages) != 0)
      return;
    for (size_t at = 0; at < step; at += MI_SEGMENT_SLICE_SIZE) {
      if (mi_cache_pages_any(&pages[at / page_size], slice_pages)) {
        const size_t slice = (done + at) / MI_SEGMENT_SLICE_SIZE;
        map->bits[slice / 64] |= ((uint64_t)1 << (slice % 64));
      }
    }
  }
}

// Resident slices of the map in [from, to).
static size_t mi_cache_resident_count(const mi_cache_resident_t* map, size_t from, size_t to) {
  const size_t limit = MI_CACHE_RANGE_SEGMENTS * MI_SLICES_PER_SEGMENT;
  if (to > limit)
    to = limit;
  size_t count = 0;
  while (from < to) {
    const size_t bit = from % 64;
    const size_t n = (to - from < 64 - bit ? to - from : 64 - bit);
    uint64_t word = map->bits[from / 64] >> bit;
    if (n < 64)
      word &= ((uint64_t)1 << n) - 1;
    count += (size_t)__builtin_popcountll(word);
    from += n;
  }
  return count;
}

// Appends the first `high_segments` segment sizes of `high` to `low`, which
// holds `low_segments` (together at most MI_CACHE_RANGE_SEGMENTS).
static void mi_cache_resident_append(mi_cache_resident_t* low, size_t low_segments,
                                     const mi_cache_resident_t* high, size_t high_segments) {
  memcpy(&low->bits[low_segments * MI_CACHE_SEGMENT_WORDS], high->bits,
         high_segments * MI_CACHE_SEGMENT_WORDS * sizeof(uint64_t));
}

// Drops `segments` segment sizes from the front of the map.
static void mi_cache_resident_drop_front(mi_cache_resident_t* map, size_t segments) {
  if (segments >= MI_CACHE_RANGE_SEGMENTS) {
    memset(map, 0, sizeof(*map));
    return;
  }
  const size_t words = segments * MI_CACHE_SEGMENT_WORDS;
  const size_t kept = MI_CACHE_RANGE_SEGMENTS * MI_CACHE_SEGMENT_WORDS - words;
  memmove(map->bits, &map->bits[words], kept * sizeof(uint64_t));
  memset(&map->bits[kept], 0, words * sizeof(uint64_t));
}

// Clears the map from segment size `segments` on.
static void mi_cache_resident_cut(mi_cache_resident_t* map, size_t segments) {
  if (segments < MI_CACHE_RANGE_SEGMENTS)
    memset(&map->bits[segments * MI_CACHE_SEGMENT_WORDS], 0,
           (MI_CACHE_RANGE_SEGMENTS - segments) * MI_CACHE_SEGMENT_WORDS * sizeof(uint64_t));
}

// The score of placing a segment that uses `size` of its `take` bytes at
// `offset` in cached range `i`: resident bytes under the used part minus
// resident bytes in the idle rest.
static ptrdiff_t mi_cache_place_score(size_t i, size_t offset, size_t size, size_t take) {
  const mi_cache_resident_t* map = &mi_cache_resident[i];
  const size_t first = offset / MI_SEGMENT_SLICE_SIZE;
  const size_t used_end = first + _mi_divide_up(size, MI_SEGMENT_SLICE_SIZE);
  const size_t end = first + take / MI_SEGMENT_SLICE_SIZE;
  const ptrdiff_t slices = (ptrdiff_t)mi_cache_resident_count(map, first, used_end) -
                           (ptrdiff_t)mi_cache_resident_count(map, used_end, end);
  return slices * (ptrdiff_t)MI_SEGMENT_SLICE_SIZE;
}

// A segment cut from a range, or mapped fresh, may have no resident memory
// under the part it uses while resident memory sits elsewhere in the cache:
// in the middle of a range whose ends are cold, or in two resident pieces too
// far apart for a block of two segment sizes. Such memory is moved under the
// new segment, one segment size at a time (the OS moves the page tables:
// nothing is copied or faulted in), and leaves the cache. A move drops what
// was resident at its destination, so it is made only where it brings
// MI_CACHE_FILL_MARGIN more resident slices than it drops (half a segment
// size: with smaller gains the memory dropped was faulted in again later, and
// the large-block benchmarks faulted more). Only whole segment sizes move: every
// moved piece stays an OS mapping of its own, so finer moves could pile up
// mappings towards the system's limit in a long-running process.
#define MI_CACHE_FILL_MARGIN (MI_SLICES_PER_SEGMENT / 2)

// A free entry, or MI_SEGMENT_CACHE_SIZE if there is none. Under the lock.
static size_t mi_cache_free_entry(void) {
  for (size_t i = 0; i < MI_SEGMENT_CACHE_SIZE; i++) {
    if (mi_cache[i].base == NULL)
      return i;
  }
  return MI_SEGMENT_CACHE_SIZE;
}

// Removes `count` segment sizes from segment size `index` on of cached range
// `i`; a piece from the middle leaves the part above it in entry `spare`.
// Entries and their pieces are whole segment sizes at segment-aligned
// addresses (mappings are, see mi_segment_alloc), so what stays is too.
static void mi_cache_entry_remove(size_t i, size_t index, size_t count, size_t spare, mi_stats_t* stats) {
  mi_cache_entry_t* entry = &mi_cache[i];
  mi_cache_resident_t* map = &mi_cache_resident[i];
  const size_t segments = mi_cache_segments(entry->size);
  if (count == segments) {
    entry->base = NULL;
    mi_atomic_sub_relaxed(&mi_cache_count, 1);
    mi_stat_decrease(stats->segments_cache, 1);
  } else if (index == 0) {
    entry->base = (uint8_t*)entry->base + count * MI_SEGMENT_SIZE;
    entry->size -= count * MI_SEGMENT_SIZE;
    mi_cache_resident_drop_front(map, count);
  } else if (index + count == segments) {
    entry->size -= count * MI_SEGMENT_SIZE;
    mi_cache_resident_cut(map, index);
  } else {
    mi_cache_entry_t* upper = &mi_cache[spare];
    *upper = *entry;
    upper->base = (uint8_t*)entry->base + (index + count) * MI_SEGMENT_SIZE;
    upper->size = entry->size - (index + count) * MI_SEGMENT_SIZE;
    mi_cache_resident[spare] = *map;
    mi_cache_resident_drop_front(&mi_cache_resident[spare], index + count);
    entry->size = index * MI_SEGMENT_SIZE;
    mi_cache_resident_cut(map, index);
    mi_atomic_add_relaxed(&mi_cache_count, 1);
    mi_stat_increase(stats->segments_cache, 1);
  }
}

// Fills the segment sizes of [base, base + size) (`piece` maps what of them
// is resident; NULL: nothing) from cached ranges (a segment size from the
// middle of one only while an entry is free for the part above it; ends win
// ties); `resident` receives the map of the first segment size if it moved,
// and `*is_zero` turns false once anything moved (the memory holds what
// blocks left there). The caller owns [base, base + size) and does not hold
// the lock: each donor leaves the cache under the lock, and is moved after
// the lock is released (a move takes tens of microseconds), as purges are.
// Returns the index of a segment size that a failed move lost (the caller
// must give up the new segment: see mi_cache_release_except), or SIZE_MAX.
static size_t mi_cache_fill(uint8_t* base, size_t size, const mi_cache_resident_t* piece,
                            uint64_t resident[MI_CACHE_SEGMENT_WORDS], bool* is_zero, mi_stats_t* stats) {
  const size_t segments = _mi_divide_up(size, MI_SEGMENT_SIZE);
  for (size_t at = 0; at < segments && at < MI_CACHE_RANGE_SEGMENTS; at++) {
    const size_t first = at * MI_SLICES_PER_SEGMENT;
    const size_t rest = size - at * MI_SEGMENT_SIZE;
    const size_t used = _mi_divide_up(rest < MI_SEGMENT_SIZE ? rest : MI_SEGMENT_SIZE, MI_SEGMENT_SLICE_SIZE);
    const size_t have =
        (piece == NULL ? 0 : mi_cache_resident_count(piece, first, first + MI_SLICES_PER_SEGMENT));
    _mi_prim_lock(&mi_cache_lock);
    const size_t spare = mi_cache_free_entry();
    size_t donor = MI_SEGMENT_CACHE_SIZE;
    size_t donor_index = 0;
    size_t donor_gain = MI_CACHE_FILL_MARGIN - 1;
    for (size_t i = 0; i < MI_SEGMENT_CACHE_SIZE; i++) {
      if (mi_cache[i].base == NULL)
        continue;
      const size_t last = mi_cache_segments(mi_cache[i].size) - 1;
      // The ends first, then the middle.
      for (size_t k = 0; k <= last && k < MI_CACHE_RANGE_SEGMENTS; k++) {
        const size_t index = (k == 0 ? 0 : k == 1 ? last : k - 1);
        const bool middle = (index != 0 && index != last);
        if (index >= MI_CACHE_RANGE_SEGMENTS || (middle && spare == MI_SEGMENT_CACHE_SIZE))
          continue;
        const size_t gives = mi_cache_resident_count(&mi_cache_resident[i], index * MI_SLICES_PER_SEGMENT,
                                                     index * MI_SLICES_PER_SEGMENT + used);
        if (gives > have && gives - have > donor_gain) {
          donor = i;
          donor_index = index;
          donor_gain = gives - have;
        }
      }
    }
    if (donor == MI_SEGMENT_CACHE_SIZE) {
      _mi_prim_unlock(&mi_cache_lock);
      continue;
    }
    uint8_t* from = (uint8_t*)mi_cache[donor].base + donor_index * MI_SEGMENT_SIZE;
    uint64_t moved[MI_CACHE_SEGMENT_WORDS];
    memcpy(moved, &mi_cache_resident[donor].bits[donor_index * MI_CACHE_SEGMENT_WORDS], sizeof(moved));
    mi_cache_entry_remove(donor, donor_index, 1, spare, stats);
    _mi_prim_unlock(&mi_cache_lock);
    const mi_move_result_t result = _mi_os_move(from, MI_SEGMENT_SIZE, base + at * MI_SEGMENT_SIZE, stats);
    if (result != MI_MOVE_DONE) {
      // E.g. the kernel is short of memory: the donor, intact but out of the
      // cache now, goes back to the OS, and nothing more is tried.
      _mi_os_free(from, MI_SEGMENT_SIZE, stats);
      return (result == MI_MOVE_DESTINATION_LOST ? at : SIZE_MAX);
    }
    *is_zero = false;
    if (at == 0)
      memcpy(resident, moved, sizeof(moved));
    mi_test_count(MI_TEST_CACHE_MOVE);
  }
  return SIZE_MAX;
}

// A failed move lost segment size `lost` of the mapping [base, base + size)
// of a new segment: what is left of the mapping goes back to the OS, but not
// the lost part (someone else maps it now; its statistics are done).
static void mi_cache_release_except(uint8_t* base, size_t size, size_t lost, mi_stats_t* stats) {
  uint8_t* const hole = base + lost * MI_SEGMENT_SIZE;
  _mi_os_free(base, (size_t)(hole - base), stats);
  _mi_os_free(hole + MI_SEGMENT_SIZE, size - (lost + 1) * MI_SEGMENT_SIZE, stats);
}

// The same for a new segment using `size` bytes of a fresh mapping of
// `mapped` bytes at `base` (segment-aligned). Returns false if a failed move
// lost part of the mapping: the rest is unmapped, and the caller maps anew.
bool _mi_segment_cache_fill(void* base, size_t size, size_t mapped,
                            uint64_t resident[MI_SLICES_PER_SEGMENT / 64], bool* is_zero, mi_stats_t* stats) {
  if (mi_atomic_load_relaxed(&mi_cache_count) == 0)
    return true;
  const size_t lost = mi_cache_fill((uint8_t*)base, size, NULL, resident, is_zero, stats);
  if (lost == SIZE_MAX)
    return true;
  mi_cache_release_except((uint8_t*)base, mapped, lost, stats);
  return false;
}

// Take `take` bytes (whole segment sizes) of cached memory for a segment that
// uses its first `size` bytes. The candidates are the two ends of every cached
// range that is large enough (a piece from the middle would leave the range in
// two pieces too small for the next huge block). The one chosen leaves the least
// memory to be faulted in: the most resident bytes under the part the segment
// uses, fewest resident bytes locked up idle in its tail (a huge block's segment
// ends on a segment size). Ties, as between purged ranges, go to the smallest
// range, then the lowest address, then its start.
// `*purged_at` tells when its memory was purged (0 if it was not); `resident`
// receives the resident slices of its first segment size. NULL if nothing
// fits, or if a failed move lost part of what was taken (the rest is unmapped).
void* _mi_segment_cache_pop(size_t size, size_t* mapped, bool* is_zero, mi_msecs_t* purged_at,
                            uint64_t resident[MI_SLICES_PER_SEGMENT / 64], mi_stats_t* stats) {
  if (mi_atomic_load_relaxed(&mi_cache_count) == 0)
    return NULL;
  size_t take = _mi_align_up(size, MI_SEGMENT_SIZE);
  _mi_prim_lock(&mi_cache_lock);
  size_t best = MI_SEGMENT_CACHE_SIZE;
  size_t best_offset = 0;
  ptrdiff_t best_score = 0;
  for (size_t i = 0; i < MI_SEGMENT_CACHE_SIZE; i++) {
    const mi_cache_entry_t* entry = &mi_cache[i];
    if (entry->base == NULL || entry->size < take)
      continue;
    for (size_t offset = 0;; offset = entry->size - take) {
      ptrdiff_t score = mi_cache_place_score(i, offset, size, take);
      if (best == MI_SEGMENT_CACHE_SIZE || score > best_score ||
          (score == best_score &&
           (entry->size < mi_cache[best].size ||
            (entry->size == mi_cache[best].size && entry->base < mi_cache[best].base)))) {
        best = i;
        best_offset = offset;
        best_score = score;
      }
      if (offset == entry->size - take)
        break;
    }
  }
  mi_cache_entry_t found = {NULL, 0, 0, 0, false};
  mi_cache_resident_t piece;
  if (best < MI_SEGMENT_CACHE_SIZE) {
    mi_cache_entry_t* entry = &mi_cache[best];
    found = *entry;
    found.base = (uint8_t*)entry->base + best_offset;
    found.size = take;
    // The map covers the first MI_CACHE_RANGE_SEGMENTS segment sizes of a range
    // (a longer one is a single mapping of a huge block); past them, nothing
    // counts as resident.
    const size_t first_segment = mi_cache_segments(best_offset);
    if (first_segment < MI_CACHE_RANGE_SEGMENTS)
      memcpy(resident, &mi_cache_resident[best].bits[first_segment * MI_CACHE_SEGMENT_WORDS],
             MI_CACHE_SEGMENT_WORDS * sizeof(uint64_t));
    else
      memset(resident, 0, MI_CACHE_SEGMENT_WORDS * sizeof(uint64_t));
    // What of the piece is resident, for the fill below.
    piece = mi_cache_resident[best];
    mi_cache_resident_drop_front(&piece, first_segment);
    // An end piece: no spare entry is needed.
    mi_cache_entry_remove(best, first_segment, mi_cache_segments(take), MI_SEGMENT_CACHE_SIZE, stats);
  }
  _mi_prim_unlock(&mi_cache_lock);
  if (found.base == NULL)
    return NULL;
  const size_t lost = mi_cache_fill((uint8_t*)found.base, size, &piece, resident, &found.is_zero, stats);
  if (lost != SIZE_MAX) {
    mi_cache_release_except((uint8_t*)found.base, found.size, lost, stats);
    memset(resident, 0, MI_CACHE_SEGMENT_WORDS * sizeof(uint64_t));
    return NULL; // the caller maps fresh memory
  }
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

// Cache the mapping of a freed segment. For a normal segment (one segment
// size), `resident` gives the slices that hold resident memory (its dirty
// slices); for a huge one it is NULL, and the OS is asked (what a huge block's
// program wrote is not known here).
bool _mi_segment_cache_push(void* base, size_t size, const uint64_t* resident, mi_msecs_t purge_delay,
                            mi_stats_t* stats) {
  // Every range is whole segment sizes at a segment-aligned address, so that
  // any end piece of it taken by _mi_segment_cache_pop is a segment.
  if (((uintptr_t)base & MI_SEGMENT_MASK) != 0 || (size & MI_SEGMENT_MASK) != 0)
    return false;
  mi_msecs_t expire_delay = (purge_delay < 0 ? INT64_MAX / 2 : purge_delay);
  mi_cache_entry_t evicted = {NULL, 0, 0, 0, false};
  mi_msecs_t now = _mi_clock_now();
  mi_cache_entry_t range = {base, size, now + expire_delay, 0, false};
  mi_cache_resident_t range_map;
  memset(&range_map, 0, sizeof(range_map));
  if (resident != NULL && size == MI_SEGMENT_SIZE)
    memcpy(range_map.bits, resident, MI_CACHE_SEGMENT_WORDS * sizeof(uint64_t));
  else
    mi_cache_resident_query((uint8_t*)base, size, &range_map);
  size_t joined = 0;
  _mi_prim_lock(&mi_cache_lock);
  // Entries never touch each other except while the collector has one out (or
  // where a join would exceed MI_CACHE_RANGE_SEGMENTS), so a pass that joins
  // nothing ends the search.
  bool grew;
  do {
    grew = false;
    for (size_t i = 0; i < MI_SEGMENT_CACHE_SIZE; i++) {
      mi_cache_entry_t* entry = &mi_cache[i];
      if (entry->base == NULL ||
          mi_cache_segments(entry->size) + mi_cache_segments(range.size) > MI_CACHE_RANGE_SEGMENTS)
        continue;
      if ((uint8_t*)range.base + range.size == (uint8_t*)entry->base) {
        mi_cache_resident_append(&range_map, mi_cache_segments(range.size), &mi_cache_resident[i],
                                 mi_cache_segments(entry->size));
      } else if ((uint8_t*)entry->base + entry->size == (uint8_t*)range.base) {
        mi_cache_resident_t* below = &mi_cache_resident[i];
        mi_cache_resident_append(below, mi_cache_segments(entry->size), &range_map,
                                 mi_cache_segments(range.size));
        range_map = *below;
      } else {
        continue;
      }
      mi_cache_entry_join(&range, entry);
      entry->base = NULL;
      joined++;
      grew = true;
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
  mi_cache_resident[slot] = range_map;
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
    // A purge that failed (e.g. on locked memory) may have dropped nothing:
    // the range keeps its zero flag and its map of what is resident.
    const bool purged = _mi_os_purge(entry.base, entry.size, stats);
    entry.expire = 0;
    if (purged) {
      entry.purged_at = _mi_clock_now();
      entry.is_zero = true;
    }
    _mi_prim_lock(&mi_cache_lock);
    bool placed = (mi_cache[i].base == NULL);
    if (placed) {
      mi_cache[i] = entry;
      if (purged)
        memset(&mi_cache_resident[i], 0, sizeof(mi_cache_resident[i]));
    }
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

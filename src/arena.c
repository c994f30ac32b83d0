/* ----------------------------------------------------------------------------
Copyright (c) 2026 The project authors. MIT license, see LICENSE.

Arenas: regions of reserved or program-provided memory that segments are
carved from before the OS is asked directly.

An arena is a run of MI_ARENA_BLOCK_SIZE (= MI_SEGMENT_SIZE, 32 MiB) blocks
starting at a block-aligned address. A segment takes one block, a huge
segment as many consecutive blocks as it needs. Two bitmaps describe the
blocks:
- `in_use`: set while a segment lives in the block. Any thread may claim
  free blocks (a compare-and-swap per bitmap word, acquire) and the owner of
  a segment gives them back (compare-and-swap, release), so the next
  claimant sees everything the previous user did, including the purge.
- `dirty`: the block may hold nonzero bytes. Only the thread holding a
  block changes its dirty bit; the in_use hand-off orders those changes.

Arenas are registered in a fixed table (ids 1..MI_ARENA_MAX; 0 means "no
arena") and live as long as the process: their memory is never unmapped.
Reserving address space touches nothing, so an idle arena costs no RSS.
-----------------------------------------------------------------------------*/
#include <string.h>
#include "mimalloc/internal.h"

#define MI_ARENA_MAX (64)
#define MI_ARENA_BLOCK_SIZE (MI_SEGMENT_SIZE)
#define MI_HUGE_OS_PAGE_SIZE (MI_GiB)
#define MI_BITMAP_WORD_BITS (64)

typedef struct mi_arena_s {
  uint8_t* start;     // first block (MI_ARENA_BLOCK_SIZE aligned)
  size_t block_count; // blocks in the arena
  size_t word_count;  // 64-bit words of each bitmap
  mi_arena_id_t id;   // 1..MI_ARENA_MAX
  int numa_node;      // as given by the program (not used for placement)
  bool exclusive;     // only heaps created for this arena allocate here
  bool is_owned;      // we reserved the memory (else the program provided it)
  bool is_pinned;     // huge OS pages or large pages: never purged
  bool purge_zeroes;  // a purged block reads back as zero (our own anonymous mapping)
  uint64_t* in_use;   // atomic words: blocks handed out
  uint64_t* dirty;    // atomic words: blocks that may hold nonzero bytes
} mi_arena_t;

// Published with a release store once the arena is fully set up.
static mi_arena_t* mi_arenas[MI_ARENA_MAX]; // atomic pointers
static size_t mi_arena_slots_used;          // atomic: slots handed out (<= MI_ARENA_MAX)

static mi_arena_t* mi_arena_from_id(mi_arena_id_t id) {
  if (id <= 0 || id > MI_ARENA_MAX)
    return NULL;
  return mi_atomic_load_acquire(&mi_arenas[id - 1]); // pairs with the release store in mi_arena_register
}

static size_t mi_arena_slot_limit(void) {
  size_t used = mi_atomic_load_relaxed(&mi_arena_slots_used);
  return (used > MI_ARENA_MAX ? MI_ARENA_MAX : used);
}

static size_t mi_arena_size(const mi_arena_t* arena) { return arena->block_count * MI_ARENA_BLOCK_SIZE; }

// ---------------------------------------------------------------------------
// Bitmaps: runs of bits that may cross word boundaries
// ---------------------------------------------------------------------------

// The mask of the part of bit run [index, index+count) that lies in the word of
// bit `index`; `*taken` receives how many bits of the run that covers.
static uint64_t mi_bitmap_word_mask(size_t index, size_t count, size_t* taken) {
  size_t shift = index % MI_BITMAP_WORD_BITS;
  size_t n = MI_BITMAP_WORD_BITS - shift;
  if (n > count)
    n = count;
  *taken = n;
  uint64_t ones = (n == MI_BITMAP_WORD_BITS ? ~(uint64_t)0 : (((uint64_t)1 << n) - 1));
  return (ones << shift);
}

static bool mi_bitmap_is_all_clear(uint64_t* words, size_t index, size_t count) {
  while (count > 0) {
    size_t taken;
    uint64_t mask = mi_bitmap_word_mask(index, count, &taken);
    if ((mi_atomic_load_relaxed(&words[index / MI_BITMAP_WORD_BITS]) & mask) != 0)
      return false;
    index += taken;
    count -= taken;
  }
  return true;
}

// Clear bits of a run the caller holds. Release: a later claimant of these
// bits (acquire CAS in mi_bitmap_try_claim) sees all the caller's writes.
static void mi_bitmap_release(uint64_t* words, size_t index, size_t count) {
  while (count > 0) {
    size_t taken;
    uint64_t mask = mi_bitmap_word_mask(index, count, &taken);
    uint64_t* word = &words[index / MI_BITMAP_WORD_BITS];
    uint64_t expected = mi_atomic_load_relaxed(word);
    mi_assert_internal((expected & mask) == mask);
    while (!mi_atomic_cas_weak_acq_rel(word, &expected, expected & ~mask)) {
      // pairs with the acquire of the claiming CAS in mi_bitmap_try_claim; retry on contention
    }
    index += taken;
    count -= taken;
  }
}

// Set all bits of [index, index+count) that are all clear, or none. A run that
// crosses words is claimed word by word; if a later word is taken the words
// claimed so far are given back, so a racing claimant may fail spuriously but
// two claimants never both succeed on one bit.
static bool mi_bitmap_try_claim(uint64_t* words, size_t index, size_t count) {
  size_t done = 0;
  while (done < count) {
    size_t taken;
    uint64_t mask = mi_bitmap_word_mask(index + done, count - done, &taken);
    uint64_t* word = &words[(index + done) / MI_BITMAP_WORD_BITS];
    uint64_t expected = mi_atomic_load_relaxed(word);
    bool claimed = false;
    while ((expected & mask) == 0) {
      // Acquire pairs with the release in mi_bitmap_release: the previous holder's writes are visible.
      if (mi_atomic_cas_weak_acq_rel(word, &expected, expected | mask)) {
        claimed = true;
        break;
      }
    }
    if (!claimed) {
      if (done > 0)
        mi_bitmap_release(words, index, done);
      return false;
    }
    done += taken;
  }
  return true;
}

// Plain (relaxed) setting and clearing of dirty bits by the block holder.
static void mi_bitmap_set_relaxed(uint64_t* words, size_t index, size_t count, bool value) {
  while (count > 0) {
    size_t taken;
    uint64_t mask = mi_bitmap_word_mask(index, count, &taken);
    if (value)
      mi_atomic_or_relaxed(&words[index / MI_BITMAP_WORD_BITS], mask);
    else
      mi_atomic_and_relaxed(&words[index / MI_BITMAP_WORD_BITS], ~mask);
    index += taken;
    count -= taken;
  }
}

static size_t mi_bitmap_count(uint64_t* words, size_t word_count) {
  size_t n = 0;
  for (size_t i = 0; i < word_count; i++)
    n += (size_t)__builtin_popcountll(mi_atomic_load_relaxed(&words[i]));
  return n;
}

// ---------------------------------------------------------------------------
// Creating and registering arenas
// ---------------------------------------------------------------------------

static bool mi_arena_register(mi_arena_t* arena) {
  size_t slot = mi_atomic_load_relaxed(&mi_arena_slots_used);
  do {
    if (slot >= MI_ARENA_MAX)
      return false;
  } while (!mi_atomic_cas_weak_acq_rel(&mi_arena_slots_used, &slot,
                                       slot + 1)); // orders nothing else; retry on contention
  arena->id = (mi_arena_id_t)(slot + 1);
  mi_atomic_store_release(&mi_arenas[slot], arena); // pairs with the acquire load in mi_arena_from_id
  return true;
}

// Describe and register the blocks at `start` (block aligned). The descriptor
// and its bitmaps live in a small OS mapping of their own.
static mi_arena_t* mi_arena_add(uint8_t* start, size_t block_count, bool exclusive, bool is_owned,
                                bool is_pinned, bool is_zero, int numa_node) {
  mi_assert_internal(((uintptr_t)start % MI_ARENA_BLOCK_SIZE) == 0);
  mi_assert_internal(block_count > 0);
  size_t word_count = _mi_divide_up(block_count, MI_BITMAP_WORD_BITS);
  size_t desc_size = sizeof(mi_arena_t) + 2 * word_count * sizeof(uint64_t);
  void* base = NULL;
  size_t mapped = 0;
  mi_arena_t* arena =
      (mi_arena_t*)_mi_os_alloc_aligned(desc_size, _mi_os_page_size(), 0, &base, &mapped, &_mi_stats_main);
  if (arena == NULL)
    return NULL;
  arena->start = start;
  arena->block_count = block_count;
  arena->word_count = word_count;
  arena->numa_node = numa_node;
  arena->exclusive = exclusive;
  arena->is_owned = is_owned;
  arena->is_pinned = is_pinned;
  arena->purge_zeroes = (is_owned && !is_pinned);
  arena->in_use = (uint64_t*)(arena + 1);
  arena->dirty = arena->in_use + word_count;
  // The bits past the last block are permanently "in use" so no run reaches them.
  size_t tail = word_count * MI_BITMAP_WORD_BITS - block_count;
  if (tail > 0)
    mi_bitmap_set_relaxed(arena->in_use, block_count, tail, true);
  if (!is_zero)
    mi_bitmap_set_relaxed(arena->dirty, 0, block_count, true);
  if (!mi_arena_register(arena)) {
    _mi_os_free(base, mapped, &_mi_stats_main);
    return NULL;
  }
  mi_stat_counter_increase(_mi_stats_main.arena_count, 1);
  return arena;
}

// ---------------------------------------------------------------------------
// Allocating and freeing blocks (for segments)
// ---------------------------------------------------------------------------

// Claim `blocks` consecutive blocks of `arena` whose start plus `align_offset`
// is aligned to `alignment`. NULL if the arena has no such run free.
static void* mi_arena_try_alloc_in(mi_arena_t* arena, size_t blocks, size_t alignment, size_t align_offset,
                                   bool* is_zero) {
  if (blocks > arena->block_count)
    return NULL;
  // Block i starts at start + i*B, which is B-aligned. Alignments up to B only
  // need a suitable offset; larger ones restrict i to every (alignment/B)-th block.
  size_t first = 0;
  size_t stride = 1;
  if (alignment <= MI_ARENA_BLOCK_SIZE) {
    if ((align_offset % alignment) != 0)
      return NULL;
  } else {
    if ((align_offset % MI_ARENA_BLOCK_SIZE) != 0)
      return NULL;
    uintptr_t at = (uintptr_t)arena->start + align_offset;
    first = (_mi_align_up(at, alignment) - at) / MI_ARENA_BLOCK_SIZE;
    stride = alignment / MI_ARENA_BLOCK_SIZE;
  }
  for (size_t i = first; i + blocks <= arena->block_count; i += stride) {
    if (!mi_bitmap_is_all_clear(arena->in_use, i, blocks))
      continue;
    if (!mi_bitmap_try_claim(arena->in_use, i, blocks))
      continue;
    *is_zero = mi_bitmap_is_all_clear(arena->dirty, i, blocks);
    mi_bitmap_set_relaxed(arena->dirty, i, blocks, true); // the new holder will write to it
    return arena->start + i * MI_ARENA_BLOCK_SIZE;
  }
  return NULL;
}

void* _mi_arena_alloc_aligned(size_t size, size_t alignment, size_t align_offset, mi_arena_id_t req_arena_id,
                              mi_arena_id_t* arena_id, bool* is_zero, mi_stats_t* stats) {
  (void)stats;
  *arena_id = 0;
  *is_zero = false;
  if (size == 0 || size > SIZE_MAX - MI_ARENA_BLOCK_SIZE)
    return NULL;
  if (alignment == 0)
    alignment = 1;
  if (!_mi_is_power_of_two(alignment))
    return NULL;
  size_t blocks = _mi_divide_up(size, MI_ARENA_BLOCK_SIZE);

  if (req_arena_id != 0) {
    mi_arena_t* arena = mi_arena_from_id(req_arena_id);
    if (arena == NULL)
      return NULL;
    void* p = mi_arena_try_alloc_in(arena, blocks, alignment, align_offset, is_zero);
    if (p != NULL)
      *arena_id = arena->id;
    return p;
  }
  if (mi_option_is_enabled(mi_option_disallow_arena_alloc))
    return NULL;
  size_t limit = mi_arena_slot_limit();
  for (size_t i = 0; i < limit; i++) {
    mi_arena_t* arena =
        mi_atomic_load_acquire(&mi_arenas[i]); // pairs with the release store in mi_arena_register
    if (arena == NULL || arena->exclusive)
      continue;
    void* p = mi_arena_try_alloc_in(arena, blocks, alignment, align_offset, is_zero);
    if (p != NULL) {
      *arena_id = arena->id;
      return p;
    }
  }
  return NULL;
}

void _mi_arena_free(void* p, size_t size, mi_arena_id_t arena_id, mi_stats_t* stats) {
  mi_arena_t* arena = mi_arena_from_id(arena_id);
  uint8_t* q = (uint8_t*)p;
  if (arena == NULL || q < arena->start || q >= arena->start + mi_arena_size(arena) ||
      ((uintptr_t)q % MI_ARENA_BLOCK_SIZE) != 0 || size == 0) {
    _mi_error_message(EINVAL, "freeing %p (%zu bytes) into arena %d, which does not hold it\n", p, size,
                      arena_id);
    return;
  }
  size_t index = (size_t)(q - arena->start) / MI_ARENA_BLOCK_SIZE;
  size_t blocks = _mi_divide_up(size, MI_ARENA_BLOCK_SIZE);
  if (index + blocks > arena->block_count) {
    _mi_error_message(EINVAL, "freeing %zu bytes at %p overruns arena %d\n", size, p, arena_id);
    return;
  }
  // Give the memory back to the OS now (the segment layer already kept it as
  // long as it was useful). Our own anonymous mappings then read as zero.
  // Only a purge that worked clears the dirty bits (one that failed, e.g. on
  // locked memory, may have dropped nothing).
  if (!arena->is_pinned && mi_option_get(mi_option_purge_delay) >= 0) {
    if (_mi_os_purge(q, blocks * MI_ARENA_BLOCK_SIZE, stats) && arena->purge_zeroes)
      mi_bitmap_set_relaxed(arena->dirty, index, blocks, false);
  }
  mi_bitmap_release(arena->in_use, index, blocks);
}

// May memory of `arena_id` (0: the OS's own mappings) be purged? Not pinned
// memory (huge OS pages): the OS cannot drop part of it.
bool _mi_arena_may_purge(mi_arena_id_t arena_id) {
  const mi_arena_t* arena = mi_arena_from_id(arena_id);
  return (arena == NULL || !arena->is_pinned);
}

// Does memory of `arena_id` read as zero after a successful purge? Our own
// anonymous mappings do; memory a program handed over (shared memory, a
// file) may come back with its old contents.
bool _mi_arena_purge_zeroes(mi_arena_id_t arena_id) {
  const mi_arena_t* arena = mi_arena_from_id(arena_id);
  return (arena == NULL || arena->purge_zeroes);
}

bool _mi_arena_is_suitable(mi_arena_id_t arena_id, mi_arena_id_t req_arena_id) {
  if (req_arena_id != 0)
    return (arena_id == req_arena_id);
  if (arena_id == 0)
    return true;
  const mi_arena_t* arena = mi_arena_from_id(arena_id);
  return (arena != NULL && !arena->exclusive);
}

// ---------------------------------------------------------------------------
// Public API: reserving and managing memory
// ---------------------------------------------------------------------------

// Map `size` bytes (a multiple of the block size) at a block-aligned address:
// over-map by one block and unmap the unaligned ends.
static int mi_arena_map_aligned(size_t size, bool allow_large, uint8_t** start) {
  *start = NULL;
  size_t over_size = size + MI_ARENA_BLOCK_SIZE;
  void* p = NULL;
  int err = _mi_prim_mmap(NULL, over_size, allow_large, &p);
  if (err != 0)
    return err;
  uint8_t* raw = (uint8_t*)p;
  uint8_t* aligned = (uint8_t*)_mi_align_up((uintptr_t)raw, MI_ARENA_BLOCK_SIZE);
  size_t pre = (size_t)(aligned - raw);
  size_t post = over_size - pre - size;
  if (pre > 0)
    _mi_prim_munmap(raw, pre);
  if (post > 0)
    _mi_prim_munmap(aligned + size, post);
  *start = aligned;
  return 0;
}

int mi_reserve_os_memory_ex(size_t size, bool commit, bool allow_large, bool exclusive,
                            mi_arena_id_t* arena_id) mi_attr_noexcept {
  // With Linux overcommit every mapping is usable at once and costs nothing
  // until touched, so `commit` changes nothing here.
  (void)commit;
  if (arena_id != NULL)
    *arena_id = 0;
  if (size == 0 || size > SIZE_MAX / 2)
    return ENOMEM;
  size = _mi_align_up(size, MI_ARENA_BLOCK_SIZE);
  uint8_t* start = NULL;
  int err = mi_arena_map_aligned(size, allow_large, &start);
  if (err != 0) {
    _mi_warning_message("unable to reserve %zu MiB of OS memory (error %d)\n", size / MI_MiB, err);
    return ENOMEM;
  }
  mi_arena_t* arena = mi_arena_add(start, size / MI_ARENA_BLOCK_SIZE, exclusive, true, false, true, -1);
  if (arena == NULL) {
    _mi_prim_munmap(start, size);
    _mi_warning_message("unable to register an arena of %zu MiB (at most %d arenas)\n", size / MI_MiB,
                        MI_ARENA_MAX);
    return ENOMEM;
  }
  mi_stat_increase(_mi_stats_main.reserved, size);
  mi_stat_counter_increase(_mi_stats_main.mmap_calls, 1);
  if (arena_id != NULL)
    *arena_id = arena->id;
  _mi_verbose_message("reserved arena %d: %zu MiB at %p%s\n", arena->id, size / MI_MiB, (void*)start,
                      exclusive ? " (exclusive)" : "");
  return 0;
}

int mi_reserve_os_memory(size_t size, bool commit, bool allow_large) mi_attr_noexcept {
  return mi_reserve_os_memory_ex(size, commit, allow_large, false, NULL);
}

bool mi_manage_os_memory_ex(void* start, size_t size, bool is_committed, bool is_large, bool is_zero,
                            int numa_node, bool exclusive, mi_arena_id_t* arena_id) mi_attr_noexcept {
  if (arena_id != NULL)
    *arena_id = 0;
  if (start == NULL || size == 0)
    return false;
  if (!is_committed) {
    // This implementation has no commit step for arena memory.
    _mi_warning_message("cannot manage uncommitted memory at %p (pass is_committed = true)\n", start);
    return false;
  }
  uintptr_t begin = (uintptr_t)start;
  if (size > UINTPTR_MAX - begin)
    return false;
  uintptr_t end = begin + size;
  uintptr_t first = _mi_align_up(begin, MI_ARENA_BLOCK_SIZE);
  if (first < begin || first >= end)
    return false;
  size_t block_count = (size_t)(end - first) / MI_ARENA_BLOCK_SIZE;
  if (block_count == 0) {
    _mi_warning_message("memory at %p of %zu bytes holds no aligned %zu MiB block; not managed\n", start,
                        size, MI_ARENA_BLOCK_SIZE / MI_MiB);
    return false;
  }
  mi_arena_t* arena =
      mi_arena_add((uint8_t*)first, block_count, exclusive, false, is_large, is_zero, numa_node);
  if (arena == NULL) {
    _mi_warning_message("unable to register the memory at %p as an arena (at most %d arenas)\n", start,
                        MI_ARENA_MAX);
    return false;
  }
  if (arena_id != NULL)
    *arena_id = arena->id;
  _mi_verbose_message("managing arena %d: %zu MiB at %p%s\n", arena->id,
                      block_count * (MI_ARENA_BLOCK_SIZE / MI_MiB), (void*)first,
                      exclusive ? " (exclusive)" : "");
  return true;
}

bool mi_manage_os_memory(void* start, size_t size, bool is_committed, bool is_large, bool is_zero,
                         int numa_node) mi_attr_noexcept {
  return mi_manage_os_memory_ex(start, size, is_committed, is_large, is_zero, numa_node, false, NULL);
}

// Huge (1 GiB) OS pages. Without NUMA support every request goes to one
// mapping; if all pages cannot be had, fewer are tried (halving) until the
// timeout passes. Returns 0 if at least one page was reserved.
static int mi_reserve_huge_pages(size_t pages, int numa_node, size_t timeout_msecs, bool exclusive,
                                 mi_arena_id_t* arena_id, size_t* pages_reserved) {
  if (arena_id != NULL)
    *arena_id = 0;
  if (pages_reserved != NULL)
    *pages_reserved = 0;
  if (pages == 0)
    return 0;
  if (pages > SIZE_MAX / MI_HUGE_OS_PAGE_SIZE)
    return ENOMEM;
  mi_msecs_t start_time = _mi_clock_now();
  size_t count = pages;
  void* p = NULL;
  int err = ENOMEM;
  while (count > 0) {
    err = _mi_prim_mmap_huge_pages(NULL, count * MI_HUGE_OS_PAGE_SIZE, &p);
    if (err == 0)
      break;
    if (timeout_msecs > 0 && (size_t)(_mi_clock_now() - start_time) > timeout_msecs)
      break;
    count /= 2;
  }
  if (err != 0 || p == NULL) {
    _mi_warning_message("unable to reserve %zu GiB of huge OS pages (error %d)\n", pages, err);
    return ENOMEM;
  }
  size_t size = count * MI_HUGE_OS_PAGE_SIZE;
  if (((uintptr_t)p % MI_ARENA_BLOCK_SIZE) != 0) { // cannot happen for 1 GiB pages, but never trust it
    _mi_prim_munmap(p, size);
    return ENOMEM;
  }
  mi_arena_t* arena =
      mi_arena_add((uint8_t*)p, size / MI_ARENA_BLOCK_SIZE, exclusive, true, true, true, numa_node);
  if (arena == NULL) {
    _mi_prim_munmap(p, size);
    return ENOMEM;
  }
  mi_stat_increase(_mi_stats_main.reserved, size);
  if (arena_id != NULL)
    *arena_id = arena->id;
  if (pages_reserved != NULL)
    *pages_reserved = count;
  _mi_verbose_message("reserved %zu GiB of huge OS pages as arena %d\n", count, arena->id);
  return 0;
}

int mi_reserve_huge_os_pages_at_ex(size_t pages, int numa_node, size_t timeout_msecs, bool exclusive,
                                   mi_arena_id_t* arena_id) mi_attr_noexcept {
  return mi_reserve_huge_pages(pages, numa_node, timeout_msecs, exclusive, arena_id, NULL);
}

int mi_reserve_huge_os_pages_at(size_t pages, int numa_node, size_t timeout_msecs) mi_attr_noexcept {
  return mi_reserve_huge_pages(pages, numa_node, timeout_msecs, false, NULL, NULL);
}

int mi_reserve_huge_os_pages_interleave(size_t pages, size_t numa_nodes,
                                        size_t timeout_msecs) mi_attr_noexcept {
  (void)numa_nodes; // one node as far as this implementation is concerned
  return mi_reserve_huge_pages(pages, -1, timeout_msecs, false, NULL, NULL);
}

int mi_reserve_huge_os_pages(size_t pages, double max_secs, size_t* pages_reserved) mi_attr_noexcept {
  size_t timeout = (max_secs > 0 ? (size_t)(max_secs * 1000.0) : 0);
  size_t reserved = 0;
  int err = mi_reserve_huge_pages(pages, -1, timeout, false, NULL, &reserved);
  if (pages_reserved != NULL)
    *pages_reserved = reserved;
  return err;
}

void* mi_arena_area(mi_arena_id_t arena_id, size_t* size) {
  if (size != NULL)
    *size = 0;
  mi_arena_t* arena = mi_arena_from_id(arena_id);
  if (arena == NULL)
    return NULL;
  if (size != NULL)
    *size = mi_arena_size(arena);
  return arena->start;
}

// ---------------------------------------------------------------------------
// Start-up reservations and printing
// ---------------------------------------------------------------------------

void _mi_arenas_init(void) {
  static bool initialized = false; // called once from mi_process_init (single-threaded then)
  if (initialized)
    return;
  initialized = true;
  long huge_pages = mi_option_get(mi_option_reserve_huge_os_pages);
  if (huge_pages > 0) {
    long node = mi_option_get(mi_option_reserve_huge_os_pages_at);
    size_t timeout = (size_t)huge_pages * 500;
    if (node >= 0)
      mi_reserve_huge_os_pages_at((size_t)huge_pages, (int)node, timeout);
    else
      mi_reserve_huge_os_pages_interleave((size_t)huge_pages, 0, timeout);
  }
  size_t reserve = mi_option_get_size(mi_option_reserve_os_memory);
  if (reserve > 0) {
    bool commit = (mi_option_get(mi_option_arena_eager_commit) != 0);
    bool allow_large = mi_option_is_enabled(mi_option_allow_large_os_pages);
    int err = mi_reserve_os_memory(reserve, commit, allow_large);
    if (err != 0)
      _mi_warning_message("failed to reserve %zu KiB of memory at start-up (error %d)\n", reserve / MI_KiB,
                          err);
  }
}

static void mi_arena_print(const mi_arena_t* arena, bool show_map) {
  size_t used = mi_bitmap_count(arena->in_use, arena->word_count) -
                (arena->word_count * MI_BITMAP_WORD_BITS - arena->block_count);
  _mi_message("arena %d: %p, %zu MiB, %zu of %zu blocks in use%s%s%s\n", arena->id, (void*)arena->start,
              mi_arena_size(arena) / MI_MiB, used, arena->block_count, arena->exclusive ? ", exclusive" : "",
              arena->is_owned ? ", reserved" : ", program memory", arena->is_pinned ? ", pinned" : "");
  if (!show_map)
    return;
  // One character per block: 'x' in use, '.' free; 64 blocks a line.
  char line[MI_BITMAP_WORD_BITS + 2];
  for (size_t w = 0; w < arena->word_count; w++) {
    uint64_t bits = mi_atomic_load_relaxed(&arena->in_use[w]);
    size_t n = 0;
    for (size_t b = 0; b < MI_BITMAP_WORD_BITS && w * MI_BITMAP_WORD_BITS + b < arena->block_count; b++) {
      line[n++] = ((bits >> b) & 1) != 0 ? 'x' : '.';
    }
    line[n++] = '\n';
    line[n] = 0;
    _mi_message("  %s", line);
  }
}

static void mi_arenas_print_all(bool show_map) {
  size_t limit = mi_arena_slot_limit();
  size_t count = 0;
  for (size_t i = 0; i < limit; i++) {
    const mi_arena_t* arena =
        mi_atomic_load_acquire(&mi_arenas[i]); // pairs with the release store in mi_arena_register
    if (arena == NULL)
      continue;
    mi_arena_print(arena, show_map);
    count++;
  }
  _mi_message("arenas: %zu\n", count);
}

void mi_debug_show_arenas(void) mi_attr_noexcept { mi_arenas_print_all(true); }

void mi_arenas_print(void) mi_attr_noexcept { mi_arenas_print_all(false); }

/* ----------------------------------------------------------------------------
mimalloc-stats.h -- structured statistics.

Layout and functions follow the mimalloc 2.2 series (statistics version 1), so
a program that allocates a `mi_stats_t` from mimalloc 2.2's header and passes
`sizeof(mi_stats_t)` to `mi_stats_get` reads the same fields here.
Written for this project; see LICENSE (MIT).
-----------------------------------------------------------------------------*/
#pragma once
#ifndef MIMALLOC_STATS_H
#define MIMALLOC_STATS_H

#include "mimalloc.h"
#include <stdint.h>

// Bumped whenever the layout of mi_stats_t changes incompatibly.
#define MI_STAT_VERSION   1

// A quantity that goes up and down (bytes or objects).
typedef struct mi_stat_count_s {
  int64_t total;    // sum of all increases
  int64_t peak;     // highest value of `current` seen
  int64_t current;  // value now
} mi_stat_count_t;

// A quantity that only increases (events, calls, bytes processed).
typedef struct mi_stat_counter_s {
  int64_t total;
} mi_stat_counter_t;

// The statistics fields in their binary order. Expand with the three field
// macros defined to produce declarations, names, or any per-field code:
//   MI_STAT_COUNT(name)    for mi_stat_count_t fields
//   MI_STAT_COUNTER(name)  for mi_stat_counter_t fields
#define MI_STAT_FIELDS() \
  MI_STAT_COUNT(pages)                      /* pages in use */ \
  MI_STAT_COUNT(reserved)                   /* bytes of address space reserved */ \
  MI_STAT_COUNT(committed)                  /* bytes committed */ \
  MI_STAT_COUNTER(reset)                    /* bytes reset */ \
  MI_STAT_COUNTER(purged)                   /* bytes purged */ \
  MI_STAT_COUNT(page_committed)             /* bytes committed inside pages */ \
  MI_STAT_COUNT(pages_abandoned)            /* pages held by abandoned segments */ \
  MI_STAT_COUNT(threads)                    /* threads using the allocator */ \
  MI_STAT_COUNT(malloc_normal)              /* bytes in small/medium/large blocks */ \
  MI_STAT_COUNT(malloc_huge)                /* bytes in huge blocks */ \
  MI_STAT_COUNT(malloc_requested)           /* bytes asked for by the program */ \
  MI_STAT_COUNTER(mmap_calls)               /* OS map calls */ \
  MI_STAT_COUNTER(commit_calls)             /* OS commit calls */ \
  MI_STAT_COUNTER(reset_calls)              /* OS reset calls */ \
  MI_STAT_COUNTER(purge_calls)              /* OS purge calls */ \
  MI_STAT_COUNTER(arena_count)              /* arenas created */ \
  MI_STAT_COUNTER(malloc_normal_count)      /* non-huge blocks allocated */ \
  MI_STAT_COUNTER(malloc_huge_count)        /* huge blocks allocated */ \
  MI_STAT_COUNTER(malloc_guarded_count)     /* allocations placed before a guard page */ \
  MI_STAT_COUNTER(arena_rollback_count)     /* arena allocations undone */ \
  MI_STAT_COUNTER(arena_purges)             /* arena purge operations */ \
  MI_STAT_COUNTER(pages_extended)           /* times a page's free area was extended */ \
  MI_STAT_COUNTER(pages_retire)             /* pages retired after becoming empty */ \
  MI_STAT_COUNTER(page_searches)            /* pages examined looking for free space */ \
  MI_STAT_COUNT(segments)                   /* segments in use */ \
  MI_STAT_COUNT(segments_abandoned)         /* segments in the abandoned set */ \
  MI_STAT_COUNT(segments_cache)             /* segments held in the cache */ \
  MI_STAT_COUNT(_segments_reserved)         /* (reserved) */ \
  MI_STAT_COUNTER(pages_reclaim_on_alloc)   /* (not used by the segment design) */ \
  MI_STAT_COUNTER(pages_reclaim_on_free)    /* (not used by the segment design) */ \
  MI_STAT_COUNTER(pages_reabandon_full)     /* (not used by the segment design) */ \
  MI_STAT_COUNTER(pages_unabandon_busy_wait) /* (not used by the segment design) */

// Number of size bins minus one (the last bin holds huge blocks).
#define MI_BIN_HUGE  (73U)

#define MI_STAT_COUNT(name)    mi_stat_count_t name;
#define MI_STAT_COUNTER(name)  mi_stat_counter_t name;

typedef struct mi_stats_s {
  int version;                                   // MI_STAT_VERSION of the filled-in data

  MI_STAT_FIELDS()

  mi_stat_count_t   _stat_reserved[4];           // room for future fields
  mi_stat_counter_t _stat_counter_reserved[4];

  mi_stat_count_t   malloc_bins[MI_BIN_HUGE+1];  // bytes allocated per size bin
  mi_stat_count_t   page_bins[MI_BIN_HUGE+1];    // pages per size bin
} mi_stats_t;

#undef MI_STAT_COUNT
#undef MI_STAT_COUNTER

#ifdef __cplusplus
extern "C" {
#endif

// Copy the process-wide statistics into `stats`. Only the first `stats_size`
// bytes are written (so callers built against a smaller mi_stats_t are safe);
// `version` is set to MI_STAT_VERSION.
mi_decl_export void   mi_stats_get(size_t stats_size, mi_stats_t* stats) mi_attr_noexcept;

// Statistics as a JSON object. With buf == NULL the text is returned in
// memory from mi_malloc that the caller releases with mi_free; otherwise it is
// written into `buf` (truncated to buf_size) and `buf` is returned.
mi_decl_export char*  mi_stats_get_json(size_t buf_size, char* buf) mi_attr_noexcept;

// Block size of size bin `bin` (0 for an invalid bin). Not in the first 2.2
// releases; provided so later callers of the same header line link too.
mi_decl_export size_t mi_stats_get_bin_size(size_t bin) mi_attr_noexcept;

#ifdef __cplusplus
}
#endif

#endif // MIMALLOC_STATS_H

/* ----------------------------------------------------------------------------
Copyright (c) 2026 The project authors. MIT license, see LICENSE.

Statistics. Each thread counts into its own `tld->stats` without atomics; a
thread's numbers are merged into the process-wide `_mi_stats_main` (with
atomic adds) when the thread ends or when the program asks for them.
-----------------------------------------------------------------------------*/
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "mimalloc/internal.h"

mi_decl_hidden mi_stats_t _mi_stats_main = {.version = MI_STAT_VERSION};

static bool mi_is_in_main(const void* stat) {
  return ((const uint8_t*)stat >= (const uint8_t*)&_mi_stats_main &&
          (const uint8_t*)stat < (const uint8_t*)&_mi_stats_main + sizeof(mi_stats_t));
}

static void mi_stat_update(mi_stat_count_t* stat, int64_t amount) {
  if (amount == 0)
    return;
  if (mi_unlikely(mi_is_in_main(stat))) {
    int64_t current = mi_atomic_add_relaxed(&stat->current, amount) + amount;
    int64_t peak = mi_atomic_load_relaxed(&stat->peak);
    while (current > peak && !mi_atomic_cas_weak_acq_rel(&stat->peak, &peak, current)) {
      // retry: statistics only, the acq_rel order protects nothing else
    }
    if (amount > 0)
      mi_atomic_add_relaxed(&stat->total, amount);
  } else {
    stat->current += amount;
    if (stat->current > stat->peak)
      stat->peak = stat->current;
    if (amount > 0)
      stat->total += amount;
  }
}

void _mi_stat_increase(mi_stat_count_t* stat, size_t amount) { mi_stat_update(stat, (int64_t)amount); }
void _mi_stat_decrease(mi_stat_count_t* stat, size_t amount) { mi_stat_update(stat, -(int64_t)amount); }

void _mi_stat_counter_increase(mi_stat_counter_t* stat, size_t amount) {
  if (mi_is_in_main(stat))
    mi_atomic_add_relaxed(&stat->total, (int64_t)amount);
  else
    stat->total += (int64_t)amount;
}

// Merging: counts add their current values and totals; the peak of a merged
// count is at least the larger of the two peaks and the new current value.
static void mi_stat_count_merge(mi_stat_count_t* to, const mi_stat_count_t* from) {
  if (from->total == 0 && from->current == 0 && from->peak == 0)
    return;
  int64_t current = mi_atomic_add_relaxed(&to->current, from->current) + from->current;
  mi_atomic_add_relaxed(&to->total, from->total);
  int64_t want = (from->peak > current ? from->peak : current);
  int64_t peak = mi_atomic_load_relaxed(&to->peak);
  while (want > peak && !mi_atomic_cas_weak_acq_rel(&to->peak, &peak, want)) {
    // retry: statistics only
  }
}

static void mi_stat_counter_merge(mi_stat_counter_t* to, const mi_stat_counter_t* from) {
  if (from->total != 0)
    mi_atomic_add_relaxed(&to->total, from->total);
}

void _mi_stats_merge_from(mi_stats_t* to, const mi_stats_t* from) {
  if (to == from)
    return;
#define MI_STAT_COUNT(name) mi_stat_count_merge(&to->name, &from->name);
#define MI_STAT_COUNTER(name) mi_stat_counter_merge(&to->name, &from->name);
  MI_STAT_FIELDS()
#undef MI_STAT_COUNT
#undef MI_STAT_COUNTER
  for (size_t i = 0; i <= MI_BIN_HUGE; i++) {
    mi_stat_count_merge(&to->malloc_bins[i], &from->malloc_bins[i]);
    mi_stat_count_merge(&to->page_bins[i], &from->page_bins[i]);
  }
}

// A thread's statistics move to the main statistics (and are cleared).
void _mi_stats_done(mi_stats_t* stats) {
  if (stats == &_mi_stats_main)
    return;
  _mi_stats_merge_from(&_mi_stats_main, stats);
  memset(stats, 0, sizeof(*stats));
  stats->version = MI_STAT_VERSION;
}

static mi_stats_t* mi_stats_get_thread(void) {
  mi_heap_t* heap = mi_prim_get_default_heap();
  if (!mi_heap_is_initialized(heap))
    return NULL;
  return &heap->tld->stats;
}

void mi_stats_merge(void) mi_attr_noexcept {
  mi_stats_t* stats = mi_stats_get_thread();
  if (stats != NULL)
    _mi_stats_done(stats);
}

void mi_stats_reset(void) mi_attr_noexcept {
  mi_stats_t* stats = mi_stats_get_thread();
  if (stats != NULL) {
    memset(stats, 0, sizeof(*stats));
    stats->version = MI_STAT_VERSION;
  }
  memset(&_mi_stats_main, 0, sizeof(_mi_stats_main));
  _mi_stats_main.version = MI_STAT_VERSION;
}

void mi_stats_get(size_t stats_size, mi_stats_t* stats) mi_attr_noexcept {
  if (stats == NULL || stats_size == 0)
    return;
  mi_stats_merge();
  mi_stats_t copy;
  memcpy(&copy, &_mi_stats_main, sizeof(copy));
  copy.version = MI_STAT_VERSION;
  memcpy(stats, &copy, (stats_size < sizeof(copy) ? stats_size : sizeof(copy)));
}

size_t mi_stats_get_bin_size(size_t bin) mi_attr_noexcept {
  if (bin == 0 || bin > MI_BIN_HUGE)
    return 0;
  return _mi_bin_size((uint8_t)bin);
}

// ---------------------------------------------------------------------------
// Printing
// ---------------------------------------------------------------------------

// Format `n` (bytes when `unit` is 1, else a plain count) with a human unit.
static void mi_format_amount(char* buf, size_t size, int64_t n, int64_t unit) {
  const char* suffix = (unit == 1 ? "B" : "");
  int64_t pos = (n < 0 ? -n : n);
  if (pos < 1024 || unit != 1) {
    if (unit != 1 && pos >= 10000000)
      snprintf(buf, size, "%.1fM", (double)n / 1e6);
    else if (unit != 1 && pos >= 100000)
      snprintf(buf, size, "%.1fk", (double)n / 1e3);
    else
      snprintf(buf, size, "%lld%s", (long long)n, (unit == 1 ? " B" : ""));
    return;
  }
  const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
  double value = (double)n / 1024.0;
  int i = 0;
  while (i < 3 && (value >= 1024.0 || value <= -1024.0)) {
    value /= 1024.0;
    i++;
  }
  (void)suffix;
  snprintf(buf, size, "%.1f %s", value, units[i]);
}

static void mi_print_count(mi_output_fun* out, void* arg, const char* name, const mi_stat_count_t* stat,
                           int64_t unit) {
  char current[32], peak[32], total[32];
  mi_format_amount(current, sizeof(current), stat->current, unit);
  mi_format_amount(peak, sizeof(peak), stat->peak, unit);
  mi_format_amount(total, sizeof(total), stat->total, unit);
  _mi_fprintf(out, arg, "%-18s %12s %12s %12s\n", name, current, peak, total);
}

static void mi_print_counter(mi_output_fun* out, void* arg, const char* name, const mi_stat_counter_t* stat,
                             int64_t unit) {
  char total[32];
  mi_format_amount(total, sizeof(total), stat->total, unit);
  _mi_fprintf(out, arg, "%-18s %12s %12s %12s\n", name, "", "", total);
}

static void mi_stats_print_data(const mi_stats_t* stats, mi_output_fun* out, void* arg) {
  _mi_fprintf(out, arg, "%-18s %12s %12s %12s\n", "statistics", "current", "peak", "total");
  bool any_bins = false;
  for (size_t i = 1; i <= MI_BIN_HUGE; i++) {
    const mi_stat_count_t* bin = &stats->malloc_bins[i];
    if (bin->total == 0)
      continue;
    if (!any_bins)
      _mi_fprintf(out, arg, "blocks by size bin (bytes in use):\n");
    any_bins = true;
    char name[32];
    if (i == MI_BIN_HUGE)
      snprintf(name, sizeof(name), "  large/huge");
    else
      snprintf(name, sizeof(name), "  bin %3zu (%6zu)", i, _mi_bin_size((uint8_t)i));
    mi_print_count(out, arg, name, bin, 1);
  }
  mi_print_count(out, arg, "malloc requested", &stats->malloc_requested, 1);
  mi_print_count(out, arg, "malloc normal", &stats->malloc_normal, 1);
  mi_print_count(out, arg, "malloc huge", &stats->malloc_huge, 1);
  mi_print_counter(out, arg, "normal blocks", &stats->malloc_normal_count, 0);
  mi_print_counter(out, arg, "huge blocks", &stats->malloc_huge_count, 0);
  mi_print_count(out, arg, "reserved", &stats->reserved, 1);
  mi_print_count(out, arg, "committed", &stats->committed, 1);
  mi_print_count(out, arg, "page committed", &stats->page_committed, 1);
  mi_print_counter(out, arg, "purged", &stats->purged, 1);
  mi_print_count(out, arg, "pages", &stats->pages, 0);
  mi_print_count(out, arg, "pages abandoned", &stats->pages_abandoned, 0);
  mi_print_counter(out, arg, "pages extended", &stats->pages_extended, 0);
  mi_print_counter(out, arg, "pages retired", &stats->pages_retire, 0);
  mi_print_counter(out, arg, "page searches", &stats->page_searches, 0);
  mi_print_count(out, arg, "segments", &stats->segments, 0);
  mi_print_count(out, arg, "segments abandoned", &stats->segments_abandoned, 0);
  mi_print_count(out, arg, "threads", &stats->threads, 0);
  mi_print_counter(out, arg, "mmap calls", &stats->mmap_calls, 0);
  mi_print_counter(out, arg, "purge calls", &stats->purge_calls, 0);
  mi_process_info_t info;
  memset(&info, 0, sizeof(info));
  _mi_prim_process_info(&info);
  char rss[32], peak_rss[32];
  mi_format_amount(rss, sizeof(rss), (int64_t)info.current_rss, 1);
  mi_format_amount(peak_rss, sizeof(peak_rss), (int64_t)info.peak_rss, 1);
  _mi_fprintf(out, arg, "%-18s %12s %12s\n", "process rss", rss, peak_rss);
  _mi_fprintf(out, arg, "%-18s user: %lld.%03lld s, system: %lld.%03lld s, faults: %zu\n", "process time",
              (long long)info.utime_msecs / 1000, (long long)info.utime_msecs % 1000,
              (long long)info.stime_msecs / 1000, (long long)info.stime_msecs % 1000, info.page_faults);
}

void mi_stats_print_out(mi_output_fun* out, void* arg) mi_attr_noexcept {
  mi_stats_merge();
  mi_stats_print_data(&_mi_stats_main, out, arg);
}

void mi_stats_print(void* out) mi_attr_noexcept { mi_stats_print_out((mi_output_fun*)out, NULL); }

void mi_thread_stats_print_out(mi_output_fun* out, void* arg) mi_attr_noexcept {
  mi_stats_t* stats = mi_stats_get_thread();
  if (stats != NULL)
    mi_stats_print_data(stats, out, arg);
}

// JSON output of the merged statistics.
typedef struct mi_json_buf_s {
  char* buf;
  size_t size;
  size_t used;
} mi_json_buf_t;

static void mi_json_add(mi_json_buf_t* jb, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
static void mi_json_add(mi_json_buf_t* jb, const char* fmt, ...) {
  if (jb->used >= jb->size)
    return;
  va_list args;
  va_start(args, fmt);
  int n = vsnprintf(jb->buf + jb->used, jb->size - jb->used, fmt, args);
  va_end(args);
  if (n > 0)
    jb->used += (size_t)n;
  if (jb->used >= jb->size)
    jb->used = jb->size;
}

char* mi_stats_get_json(size_t buf_size, char* buf) mi_attr_noexcept {
  mi_stats_t stats;
  mi_stats_get(sizeof(stats), &stats);
  if (buf == NULL) {
    buf_size = 64 * MI_KiB;
    buf = (char*)mi_malloc(buf_size);
    if (buf == NULL)
      return NULL;
  }
  if (buf_size == 0)
    return buf;
  mi_json_buf_t jb = {buf, buf_size, 0};
  mi_json_add(&jb, "{\n  \"version\": %d,\n  \"mimalloc_version\": %d", MI_STAT_VERSION, MI_MALLOC_VERSION);
#define MI_STAT_COUNT(name)                                                                                  \
  mi_json_add(&jb, ",\n  \"%s\": { \"total\": %lld, \"peak\": %lld, \"current\": %lld }", #name,             \
              (long long)stats.name.total, (long long)stats.name.peak, (long long)stats.name.current);
#define MI_STAT_COUNTER(name)                                                                                \
  mi_json_add(&jb, ",\n  \"%s\": { \"total\": %lld }", #name, (long long)stats.name.total);
  MI_STAT_FIELDS()
#undef MI_STAT_COUNT
#undef MI_STAT_COUNTER
  mi_json_add(&jb, ",\n  \"malloc_bins\": [");
  for (size_t i = 0; i <= MI_BIN_HUGE; i++) {
    mi_json_add(&jb, "%s\n    { \"size\": %zu, \"total\": %lld, \"peak\": %lld, \"current\": %lld }",
                (i == 0 ? "" : ","), mi_stats_get_bin_size(i), (long long)stats.malloc_bins[i].total,
                (long long)stats.malloc_bins[i].peak, (long long)stats.malloc_bins[i].current);
  }
  mi_json_add(&jb, "\n  ]\n}\n");
  buf[(jb.used < buf_size ? jb.used : buf_size - 1)] = 0;
  return buf;
}

void mi_process_info(size_t* elapsed_msecs, size_t* user_msecs, size_t* system_msecs, size_t* current_rss,
                     size_t* peak_rss, size_t* current_commit, size_t* peak_commit,
                     size_t* page_faults) mi_attr_noexcept {
  mi_process_info_t info;
  memset(&info, 0, sizeof(info));
  _mi_prim_process_info(&info);
  if (elapsed_msecs != NULL)
    *elapsed_msecs = (size_t)_mi_process_elapsed();
  if (user_msecs != NULL)
    *user_msecs = (size_t)info.utime_msecs;
  if (system_msecs != NULL)
    *system_msecs = (size_t)info.stime_msecs;
  if (current_rss != NULL)
    *current_rss = info.current_rss;
  if (peak_rss != NULL)
    *peak_rss = info.peak_rss;
  if (current_commit != NULL)
    *current_commit = (size_t)mi_atomic_load_relaxed(&_mi_stats_main.committed.current);
  if (peak_commit != NULL)
    *peak_commit = (size_t)mi_atomic_load_relaxed(&_mi_stats_main.committed.peak);
  if (page_faults != NULL)
    *page_faults = info.page_faults;
}

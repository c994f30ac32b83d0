/* ----------------------------------------------------------------------------
Copyright (c) 2026 The project authors. MIT license, see LICENSE.

Reports: a readable table (bytes with units, block counts exact) and JSON
(every number exact; one array element per line). doc/inspect.md describes
both with a worked example.
-----------------------------------------------------------------------------*/
#include <inttypes.h>
#include <stdio.h>
#include "inspect.h"

static const char* mi_bytes(uint64_t n, char* buf, size_t size) {
  static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = (double)n;
  size_t u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    u++;
  }
  if (u == 0)
    snprintf(buf, size, "%" PRIu64 " B", n);
  else
    snprintf(buf, size, "%.1f %s", v, units[u]);
  return buf;
}

static double mi_fragmentation(const mi_usage_t* u) {
  return (u->committed_bytes == 0 ? 0.0 : 1.0 - (double)u->live_bytes / (double)u->committed_bytes);
}

static void mi_owner_label(const mi_owner_t* o, char* buf, size_t size) {
  if (o->kind == MI_OWNER_THREAD || o->kind == MI_OWNER_UNKNOWN || o->kind == MI_OWNER_VISITING)
    snprintf(buf, size, "%s %#" PRIx64, mi_owner_kind_name(o->kind), o->id);
  else
    snprintf(buf, size, "%s", mi_owner_kind_name(o->kind));
}

static void mi_table_usage_row(const char* label, const char* kind, const mi_usage_t* u) {
  char live[32], committed[32];
  printf("  %-12s %-7s %8" PRIu64 " %13" PRIu64 " %12s %12s %6.1f%%\n", label, kind, u->pages, u->live_blocks,
         mi_bytes(u->live_bytes, live, sizeof(live)),
         mi_bytes(u->committed_bytes, committed, sizeof(committed)), 100.0 * mi_fragmentation(u));
}

void mi_report_table(const mi_target_t* target, const mi_inspection_t* r, bool check) {
  char b1[32], b2[32], b3[32];
  if (target->kind == MI_TARGET_CORE)
    printf("mimalloc-inspect: core %s, pid %ld", target->source, target->pid);
  else
    printf("mimalloc-inspect: live process %ld", target->pid);
  printf(", executable %s\n", (target->executable[0] ? target->executable : "(unknown)"));
  printf("heap layout %#x, %zu live threads, %" PRIu64 " segments (%s mapped), %s live in %" PRIu64
         " blocks\n\n",
         r->layout_version, r->live_threads, r->total.segments, mi_bytes(r->segment_bytes, b1, sizeof(b1)),
         mi_bytes(r->total.live_bytes, b2, sizeof(b2)), r->total.live_blocks);

  printf("By size class\n  %-12s %-7s %8s %13s %12s %12s %7s\n", "block size", "kind", "pages", "live blocks",
         "live bytes", "committed", "frag");
  for (size_t i = 0; i < r->class_count; i++) {
    char label[32];
    snprintf(label, sizeof(label), "%zu", r->classes[i].block_size);
    mi_table_usage_row(label, mi_page_kind_name(r->classes[i].kind), &r->classes[i].usage);
  }
  mi_table_usage_row("total", "", &r->total);

  printf("\nBy page kind\n  %-12s %-7s %8s %13s %12s %12s %7s\n", "kind", "", "pages", "live blocks",
         "live bytes", "committed", "frag");
  for (int k = 0; k < MI_KIND_COUNT; k++)
    mi_table_usage_row(mi_page_kind_name((mi_page_kind_t)k), "", &r->kinds[k]);

  printf("\nBy owner\n  %-28s %8s %9s %11s %8s %13s %12s %12s\n", "owner", "os tid", "segments",
         "(reclaimed)", "pages", "live blocks", "live bytes", "segments'");
  for (size_t i = 0; i < r->owner_count; i++) {
    const mi_owner_t* o = &r->owners[i];
    char label[64], tid[24] = "-";
    mi_owner_label(o, label, sizeof(label));
    if (o->kind == MI_OWNER_THREAD)
      snprintf(tid, sizeof(tid), "%" PRIu64, o->os_tid);
    printf("  %-28s %8s %9" PRIu64 " %11" PRIu64 " %8" PRIu64 " %13" PRIu64 " %12s %12s\n", label, tid,
           o->usage.segments, o->reclaimed_segments, o->usage.pages, o->usage.live_blocks,
           mi_bytes(o->usage.live_bytes, b1, sizeof(b1)), mi_bytes(o->segment_bytes, b2, sizeof(b2)));
  }

  printf("\nLargest live blocks\n  %-18s %12s  %s\n", "address", "size", "owner");
  for (size_t i = 0; i < r->largest_count; i++) {
    char label[64] = "?";
    if (r->largest[i].owner < r->owner_count)
      mi_owner_label(&r->owners[r->largest[i].owner], label, sizeof(label));
    printf("  %#-18" PRIx64 " %12s  %s\n", r->largest[i].address,
           mi_bytes(r->largest[i].size, b3, sizeof(b3)), label);
  }
  if (r->ignored_segments > 0)
    printf("\nnote: %zu segments of a second allocator instance in this process were not inspected\n",
           r->ignored_segments);
  if (check) {
    printf("\nIntegrity check: %zu violation%s\n", r->violation_count + r->violations_dropped,
           (r->violation_count + r->violations_dropped == 1 ? "" : "s"));
    for (size_t i = 0; i < r->violation_count; i++) {
      const mi_violation_t* v = &r->violations[i];
      printf("  %-30s at %#" PRIx64 " (page %#" PRIx64 ", segment %#" PRIx64 "): %s\n", v->kind, v->address,
             v->page, v->segment, v->detail);
    }
  } else if (r->violation_count > 0) {
    printf("\nnote: %zu heap inconsistencies found; run with --check for the report\n", r->violation_count);
  }
}

// JSON strings here are paths and fixed texts; escape what JSON requires.
static void mi_json_string(const char* s) {
  putchar('"');
  for (; *s != 0; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\')
      printf("\\%c", c);
    else if (c < 0x20)
      printf("\\u%04x", c);
    else
      putchar(c);
  }
  putchar('"');
}

static void mi_json_usage(const mi_usage_t* u) {
  printf("\"pages\": %" PRIu64 ", \"live_blocks\": %" PRIu64 ", \"live_bytes\": %" PRIu64
         ", \"free_blocks\": %" PRIu64 ", \"committed_bytes\": %" PRIu64 ", \"fragmentation\": %.4f",
         u->pages, u->live_blocks, u->live_bytes, u->free_blocks, u->committed_bytes, mi_fragmentation(u));
}

void mi_report_json(const mi_target_t* target, const mi_inspection_t* r, bool check) {
  printf("{\n\"tool\": \"mimalloc-inspect\", \"format\": 1,\n\"source\": {\"kind\": \"%s\", \"path\": ",
         (target->kind == MI_TARGET_CORE ? "core" : "process"));
  mi_json_string(target->kind == MI_TARGET_CORE ? target->source : "");
  printf(", \"pid\": %ld, \"executable\": ", target->pid);
  mi_json_string(target->executable);
  printf("},\n\"layout_version\": %u, \"registry\": \"%#" PRIx64 "\", \"live_threads\": %zu,\n",
         r->layout_version, r->registry_address, r->live_threads);
  printf("\"totals\": {\"segments\": %" PRIu64 ", \"segment_bytes\": %" PRIu64 ", ", r->total.segments,
         r->segment_bytes);
  mi_json_usage(&r->total);
  printf("},\n\"size_classes\": [\n");
  for (size_t i = 0; i < r->class_count; i++) {
    printf("{\"block_size\": %zu, \"page_kind\": \"%s\", ", r->classes[i].block_size,
           mi_page_kind_name(r->classes[i].kind));
    mi_json_usage(&r->classes[i].usage);
    printf("}%s\n", (i + 1 < r->class_count ? "," : ""));
  }
  printf("],\n\"page_kinds\": [\n");
  for (int k = 0; k < MI_KIND_COUNT; k++) {
    printf("{\"page_kind\": \"%s\", ", mi_page_kind_name((mi_page_kind_t)k));
    mi_json_usage(&r->kinds[k]);
    printf("}%s\n", (k + 1 < MI_KIND_COUNT ? "," : ""));
  }
  printf("],\n\"owners\": [\n");
  for (size_t i = 0; i < r->owner_count; i++) {
    const mi_owner_t* o = &r->owners[i];
    printf("{\"owner\": \"%s\", \"id\": \"%#" PRIx64 "\", \"os_tid\": %" PRIu64 ", \"segments\": %" PRIu64
           ", \"reclaimed_segments\": %" PRIu64 ", \"segment_bytes\": %" PRIu64 ", ",
           mi_owner_kind_name(o->kind), o->id, o->os_tid, o->usage.segments, o->reclaimed_segments,
           o->segment_bytes);
    mi_json_usage(&o->usage);
    printf("}%s\n", (i + 1 < r->owner_count ? "," : ""));
  }
  printf("],\n\"largest_blocks\": [\n");
  for (size_t i = 0; i < r->largest_count; i++) {
    const mi_block_info_t* b = &r->largest[i];
    printf("{\"address\": \"%#" PRIx64 "\", \"size\": %" PRIu64
           ", \"owner\": \"%s\", \"owner_id\": \"%#" PRIx64 "\"}%s\n",
           b->address, b->size,
           (b->owner < r->owner_count ? mi_owner_kind_name(r->owners[b->owner].kind) : "?"),
           (b->owner < r->owner_count ? r->owners[b->owner].id : 0), (i + 1 < r->largest_count ? "," : ""));
  }
  printf("],\n\"ignored_segments\": %zu,\n\"check\": ", r->ignored_segments);
  if (!check) {
    printf("null\n}\n");
    return;
  }
  printf("{\"violation_count\": %zu, \"violations\": [\n", r->violation_count + r->violations_dropped);
  for (size_t i = 0; i < r->violation_count; i++) {
    const mi_violation_t* v = &r->violations[i];
    printf("{\"kind\": \"%s\", \"address\": \"%#" PRIx64 "\", \"page\": \"%#" PRIx64
           "\", \"segment\": \"%#" PRIx64 "\", \"detail\": ",
           v->kind, v->address, v->page, v->segment);
    mi_json_string(v->detail);
    printf("}%s\n", (i + 1 < r->violation_count ? "," : ""));
  }
  printf("]}\n}\n");
}

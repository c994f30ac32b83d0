/* ----------------------------------------------------------------------------
Copyright (c) 2026 The project authors. MIT license, see LICENSE.

mimalloc-inspect: accounts for every live block of a process that uses this
allocator, from an ELF core file or from the running process, and checks the
heap's invariants. It needs no debug information: segments describe
themselves (types.h, "Inspection"), and the tool is compiled against the
library's own headers, so the layout it assumes is the library's.

Files: target-core.c (ELF core reader), target-live.c (process_vm_readv),
heap-walk.c (finds segments, walks pages and free lists, checks invariants),
report.c (table and JSON), main.c (command line).
-----------------------------------------------------------------------------*/
#pragma once
#ifndef MI_INSPECT_H
#define MI_INSPECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "mimalloc/types.h"

// ---------------------------------------------------------------------------
// Targets: a core file or a live process, read by address
// ---------------------------------------------------------------------------
typedef struct mi_region_s {
  uint64_t start; // readable [start, end) of the target's address space
  uint64_t end;
  uint64_t file_offset; // core files: where the bytes are in the file
} mi_region_t;

typedef enum mi_target_kind_e { MI_TARGET_CORE, MI_TARGET_PROCESS } mi_target_kind_t;

typedef struct mi_target_s {
  mi_target_kind_t kind;
  char source[4096];     // the core file's path, or "pid N"
  char executable[4096]; // the program's path, "" if unknown
  long pid;
  mi_region_t* regions;
  size_t region_count;
  uint64_t* os_tids; // the process's threads at the time of the dump / read
  size_t os_tid_count;
  // core files
  const uint8_t* map;
  size_t map_size;
  // live processes
  bool stopped_by_us; // we sent SIGSTOP and owe a SIGCONT
  bool gone;          // the process exited while being read
} mi_target_t;

// Each returns false with a message in `error` (size MI_ERROR_SIZE) on failure.
#define MI_ERROR_SIZE (512)
bool mi_target_core_open(mi_target_t* target, const char* path, char* error);
bool mi_target_live_open(mi_target_t* target, long pid, char* error);
void mi_target_live_resume(mi_target_t* target);
void mi_target_close(mi_target_t* target);
// Read `len` bytes at `addr`; false if any of them is not in the target.
bool mi_target_read(mi_target_t* target, uint64_t addr, void* dst, size_t len);
bool mi_target_core_read(mi_target_t* target, uint64_t addr, void* dst, size_t len);
bool mi_target_live_read(mi_target_t* target, uint64_t addr, void* dst, size_t len);

// ---------------------------------------------------------------------------
// What the heap walk finds
// ---------------------------------------------------------------------------
typedef enum mi_page_kind_e {
  MI_KIND_SMALL,
  MI_KIND_MEDIUM,
  MI_KIND_LARGE,
  MI_KIND_HUGE,
  MI_KIND_COUNT
} mi_page_kind_t;

typedef struct mi_usage_s {
  uint64_t segments;
  uint64_t pages;
  uint64_t live_blocks;
  uint64_t live_bytes;
  uint64_t free_blocks;     // blocks of the pages' capacity not in use
  uint64_t committed_bytes; // bytes of the pages' areas
} mi_usage_t;

typedef struct mi_class_s {
  size_t block_size;
  mi_page_kind_t kind;
  mi_usage_t usage;
} mi_class_t;

typedef enum mi_owner_kind_e {
  MI_OWNER_THREAD,    // a live thread of the registry
  MI_OWNER_ABANDONED, // owner 0: in the abandoned set
  MI_OWNER_VISITING,  // held by mi_abandoned_visit_blocks (the registry's visitor id)
  MI_OWNER_UNKNOWN,   // an id that is no live thread: corruption
  MI_OWNER_CACHED     // a freed segment mapping kept in the segment cache
} mi_owner_kind_t;

typedef struct mi_owner_s {
  mi_owner_kind_t kind;
  uint64_t id;                 // the owner id (threads, unknown)
  uint64_t os_tid;             // threads: the kernel thread id
  uint64_t reclaimed_segments; // threads: segments taken over from the abandoned set
  uint64_t segment_bytes;      // bytes of the segments (mapped)
  mi_usage_t usage;
} mi_owner_t;

typedef struct mi_block_info_s {
  uint64_t address;
  uint64_t size;
  size_t owner; // index into the owners
} mi_block_info_t;

#define MI_LARGEST_COUNT (10)

typedef struct mi_violation_s {
  const char* kind; // e.g. "free-list-link-outside-page"
  uint64_t address; // where the bad value is stored (or the bad object)
  uint64_t page;    // the page descriptor concerned, or 0
  uint64_t segment; // the segment concerned, or 0
  char detail[160];
} mi_violation_t;

typedef struct mi_inspection_s {
  uint32_t layout_version;
  uint64_t registry_address;
  size_t live_threads;
  mi_usage_t total;
  uint64_t segment_bytes;
  mi_usage_t kinds[MI_KIND_COUNT];
  mi_class_t* classes; // sorted by block size
  size_t class_count;
  mi_owner_t* owners; // threads first, then abandoned, visiting, unknown, cached
  size_t owner_count;
  mi_block_info_t largest[MI_LARGEST_COUNT];
  size_t largest_count;
  mi_violation_t* violations;
  size_t violation_count;
  size_t violations_dropped; // beyond the stored maximum
  size_t ignored_segments;   // segments of another allocator instance in the same process
} mi_inspection_t;

// Walk the heap of the target. Returns false (with `error`) if the target is
// not a process of this allocator or its layout differs; heap corruption is
// never an error here but a violation in the result.
bool mi_inspect_heap(mi_target_t* target, mi_inspection_t* result, char* error);
void mi_inspection_free(mi_inspection_t* result);

const char* mi_page_kind_name(mi_page_kind_t kind);
const char* mi_owner_kind_name(mi_owner_kind_t kind);

// Reports on stdout.
void mi_report_table(const mi_target_t* target, const mi_inspection_t* result, bool check);
void mi_report_json(const mi_target_t* target, const mi_inspection_t* result, bool check);

#endif

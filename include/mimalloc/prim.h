/* ----------------------------------------------------------------------------
Copyright (c) 2026 The project authors. MIT license, see LICENSE.

The platform layer. Everything that calls the operating system is declared
here and implemented in src/prim/<platform>.c; the allocator itself makes no
system calls.
-----------------------------------------------------------------------------*/
#pragma once
#ifndef MIMALLOC_PRIM_H
#define MIMALLOC_PRIM_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

typedef struct mi_os_config_s {
  size_t page_size;         // OS page size (4 KiB)
  size_t large_page_size;   // transparent huge page size, or 0 if the system has them off
  bool has_overcommit;      // memory is committed on first touch
  bool has_virtual_reserve; // address space can be reserved without committing
} mi_os_config_t;

void _mi_prim_os_config(mi_os_config_t* config);

// Map `size` bytes of read/write memory, optionally near `hint`. Returns 0 or an errno.
int _mi_prim_mmap(void* hint, size_t size, bool allow_large, void** addr);
int _mi_prim_munmap(void* addr, size_t size);
// Map `size` bytes (a multiple of 1 GiB) backed by 1 GiB huge pages. Returns 0 or an errno;
// fails (ENOMEM) when the system has no such pages reserved.
int _mi_prim_mmap_huge_pages(void* hint, size_t size, void** addr);
// Tell the OS the memory contents are no longer needed; it reads back as zero.
int _mi_prim_purge(void* addr, size_t size);
// Ask for transparent huge pages on the range (a no-op, returning ENOTSUP, when
// built with MI_NO_THP or unsupported). Returns 0 or an errno.
int _mi_prim_thp_advise(void* addr, size_t size);
// Keep the whole process off transparent huge pages, also where the system
// gives them without being asked.
void _mi_prim_thp_disable(void);
// Which OS pages of the page-aligned range are in memory: bit 0 of one byte
// per page in `pages`. Returns 0 or an errno.
int _mi_prim_resident(void* addr, size_t size, uint8_t* pages);
// Move the pages of [from, from + size) to `to` without copying or faulting
// them (page-aligned; the ranges must not overlap). Whatever was mapped at
// `to` is dropped, and `from` is left unmapped. Returns 0 or an errno (ENOTSUP
// where the OS cannot). On failure `from` is as it was, but `to` may not be:
// Linux unmaps the destination before some of its checks of the source, and
// does not map it back when one fails (see _mi_prim_remap_hole).
int _mi_prim_move(void* from, size_t size, void* to);
// After a failed move: make [addr, addr + size) mapped again. Returns 0 if all
// of it is mapped: `*remapped` tells whether it was a hole (nothing of it was
// mapped) and fresh zeroed memory is mapped there now, or whether it was
// mapped already (by whomever). Returns an errno if part of it is mapped and
// part not (someone mapped into part of the hole), or if the OS refused.
int _mi_prim_remap_hole(void* addr, size_t size, bool* remapped);
// Read the word at `addr` without faulting, also where nothing readable is
// mapped. Returns 0 or an errno (EFAULT if it cannot be read).
int _mi_prim_read_word(const void* addr, uintptr_t* value);
// Make whole OS pages inaccessible (`protect`) or read/write again. Returns 0 or an errno.
int _mi_prim_protect(void* addr, size_t size, bool protect);

// Monotonic clock in milliseconds.
int64_t _mi_prim_clock_now(void);
// Resident and committed memory of the process.
typedef struct mi_process_info_s {
  int64_t elapsed_msecs, utime_msecs, stime_msecs;
  size_t current_rss, peak_rss, current_commit, peak_commit, page_faults;
} mi_process_info_t;
void _mi_prim_process_info(mi_process_info_t* info);
// Peak resident set of the process in bytes (cheap: no file is read).
size_t _mi_prim_peak_rss(void);

// Output and environment.
void _mi_prim_out_stderr(const char* msg);
bool _mi_prim_getenv(const char* name, char* result, size_t result_size);
void _mi_prim_sleep_us(long microseconds);
void _mi_prim_yield(void);
uint64_t _mi_prim_random_seed(void);

// A simple lock (the abandoned set and process-wide lists; never on a fast path).
typedef struct mi_lock_s mi_lock_t;
void _mi_prim_lock(mi_lock_t* lock);
void _mi_prim_unlock(mi_lock_t* lock);

// The kernel's id of the calling thread (what ps, gdb and core dumps show).
uint64_t _mi_prim_thread_os_id(void);

// Thread exit notification: `done` is called with the heap on thread exit.
void _mi_prim_thread_init_auto_done(void (*done)(void*));
void _mi_prim_thread_associate_default_heap(void* heap);
// fork: run `prepare` before, `parent` and `child` after.
void _mi_prim_at_fork(void (*prepare)(void), void (*parent)(void), void (*child)(void));

#endif

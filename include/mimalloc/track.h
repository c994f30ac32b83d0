/* ----------------------------------------------------------------------------
Copyright (c) 2026 The project authors. MIT license, see LICENSE.

Tracking builds: tell a memory checker which of our bytes the program may
use, so it sees every mi_ block as a heap block of its own.
  MI_TRACK_VALGRIND  valgrind memcheck client requests (malloc-like and
                     free-like blocks, addressability and definedness)
  MI_TRACK_ASAN      AddressSanitizer manual poisoning (addressability)
Without either, every macro below is empty and costs nothing.

The contract of the hooks:
- mi_track_malloc(p, size, zero): block `p` is handed to the program with
  `size` usable bytes (the block's usable size, so a program that uses all of
  mi_usable_size gets no report); `zero` says the bytes are known to be zero.
- mi_track_free(p, size): the program gave the block back; this is the last
  step before the block goes onto a free list (all checks of the block are
  done before it, the link write after it goes through mi_block_set_next).
- mi_track_mem_defined / _undefined / _noaccess(p, size): the allocator's own
  accesses to memory the program must not touch (free-list links inside free
  blocks) and the state of page memory that holds no live block.
A tracked block is always its block start with its usable size; interior
pointers (aligned and guarded allocations) stay inside that range.
-----------------------------------------------------------------------------*/
#pragma once
#ifndef MIMALLOC_TRACK_H
#define MIMALLOC_TRACK_H

#if defined(MI_TRACK_VALGRIND) && MI_TRACK_VALGRIND && defined(MI_TRACK_ASAN) && MI_TRACK_ASAN
#error "MI_TRACK_VALGRIND and MI_TRACK_ASAN exclude each other"
#endif

#if defined(MI_TRACK_VALGRIND) && MI_TRACK_VALGRIND

#include <valgrind/memcheck.h>
#define MI_TRACK_ENABLED 1
#define MI_TRACK_TOOL "valgrind"
// No red zones: the neighbouring blocks are unaddressable while free.
#define mi_track_malloc(p, size, zero) VALGRIND_MALLOCLIKE_BLOCK((p), (size), 0, (zero))
#define mi_track_free(p, size)                                                                               \
  do {                                                                                                       \
    (void)(size);                                                                                            \
    VALGRIND_FREELIKE_BLOCK((p), 0);                                                                         \
  } while (0)
#define mi_track_mem_defined(p, size) ((void)VALGRIND_MAKE_MEM_DEFINED((p), (size)))
#define mi_track_mem_undefined(p, size) ((void)VALGRIND_MAKE_MEM_UNDEFINED((p), (size)))
#define mi_track_mem_noaccess(p, size) ((void)VALGRIND_MAKE_MEM_NOACCESS((p), (size)))

#elif defined(MI_TRACK_ASAN) && MI_TRACK_ASAN

#include <sanitizer/asan_interface.h>
#define MI_TRACK_ENABLED 1
#define MI_TRACK_TOOL "asan"
// AddressSanitizer knows addressability only: "defined" and "undefined" are the same.
#define mi_track_malloc(p, size, zero) ((void)(zero), ASAN_UNPOISON_MEMORY_REGION((p), (size)))
#define mi_track_free(p, size) ASAN_POISON_MEMORY_REGION((p), (size))
#define mi_track_mem_defined(p, size) ASAN_UNPOISON_MEMORY_REGION((p), (size))
#define mi_track_mem_undefined(p, size) ASAN_UNPOISON_MEMORY_REGION((p), (size))
#define mi_track_mem_noaccess(p, size) ASAN_POISON_MEMORY_REGION((p), (size))

#else

#define MI_TRACK_ENABLED 0
#define MI_TRACK_TOOL "none"
#define mi_track_malloc(p, size, zero) ((void)0)
#define mi_track_free(p, size) ((void)0)
#define mi_track_mem_defined(p, size) ((void)0)
#define mi_track_mem_undefined(p, size) ((void)0)
#define mi_track_mem_noaccess(p, size) ((void)0)

#endif

#endif

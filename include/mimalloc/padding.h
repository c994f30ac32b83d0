/* ----------------------------------------------------------------------------
Copyright (c) 2026 The project authors. MIT license, see LICENSE.

Block padding and debug fill (included by internal.h).

With MI_PADDING every block ends with a mi_padding_t (types.h): a canary and
the distance from the end of the requested size to the end of the block. The
first MI_PADDING_FILL_MAX bytes after the requested size hold
MI_DEBUG_PADDING, so a write even one byte past the request is seen when the
block is freed or reallocated (src/checks.c). The sizes below are the single
source of "what the program asked for" and "where the padding lies" for every
other part of the library (usable size, realloc, tracking tools).

With MI_DEBUG >= 2, new blocks are filled with MI_DEBUG_UNINIT and freed ones
with MI_DEBUG_FREED (public macros in mimalloc.h).
-----------------------------------------------------------------------------*/
#pragma once
#ifndef MIMALLOC_PADDING_H
#define MIMALLOC_PADDING_H

#include <string.h>

// Blocks above this size are not filled (a huge block would be touched in full).
#define MI_DEBUG_FILL_MAX MI_LARGE_OBJ_SIZE_MAX

#if MI_PADDING
static inline mi_padding_t* mi_block_padding(const mi_page_t* page, const mi_block_t* block) {
  return (mi_padding_t*)((uint8_t*)block + page->block_size - MI_PADDING_SIZE);
}

// The canary's first byte (in memory order) is always MI_DEBUG_PADDING: when
// the requested size ends right at the padding, a one-byte overflow lands on
// it and must be seen whatever the process cookie (a random byte there would
// hide one overflow in 256). The other three bytes depend on the cookie.
static inline uint32_t mi_padding_canary(const mi_block_t* block) {
  uint64_t x = ((uintptr_t)block ^ _mi_process_cookie) * UINT64_C(0x9E3779B97F4A7C15);
  uint8_t bytes[sizeof(uint32_t)];
  uint32_t canary = (uint32_t)(x >> 32);
  memcpy(bytes, &canary, sizeof(bytes));
  bytes[0] = MI_DEBUG_PADDING;
  memcpy(&canary, bytes, sizeof(bytes));
  return canary;
}

// The requested bytes of `block` end at `end`: write the padding after them.
static inline void mi_padding_set(const mi_page_t* page, mi_block_t* block, uint8_t* end) {
  mi_padding_t* padding = mi_block_padding(page, block);
  mi_assert_internal(end >= (uint8_t*)block && end <= (uint8_t*)padding);
  size_t gap = (size_t)((uint8_t*)padding - end);
  mi_track_mem_undefined(end, gap + MI_PADDING_SIZE); // ours to write, if a tracking tool hid it before
  padding->canary = mi_padding_canary(block);
  padding->delta = (uint32_t)(gap + MI_PADDING_SIZE);
  memset(end, MI_DEBUG_PADDING, (gap < MI_PADDING_FILL_MAX ? gap : MI_PADDING_FILL_MAX));
  // Tracking tools: from the end of the request on, the program's accesses are overflows.
  mi_track_mem_noaccess(end, gap + MI_PADDING_SIZE);
}
#endif

// Bytes the program may use at `p` (a pointer into `block`): the requested
// size with padding, the rest of the block without.
static inline size_t mi_block_requested_size(const mi_page_t* page, const mi_block_t* block, const void* p) {
  size_t from_p = page->block_size - (size_t)((const uint8_t*)p - (const uint8_t*)block);
#if MI_PADDING
  const mi_padding_t* padding = mi_block_padding(page, block);
  mi_track_mem_defined(padding, MI_PADDING_SIZE);
  size_t delta = padding->delta;
  mi_track_mem_noaccess(padding, MI_PADDING_SIZE);
  return (delta >= MI_PADDING_SIZE && delta <= from_p ? from_p - delta : from_p - MI_PADDING_SIZE);
#else
  return from_p;
#endif
}

// A block was just taken from `page` for a request of `size` bytes (padding
// included): fill it in debug builds and write its padding.
static inline void mi_block_init_debug(const mi_page_t* page, mi_block_t* block, size_t size, bool zero) {
#if MI_DEBUG >= 2
  if (!zero && page->block_size <= MI_DEBUG_FILL_MAX) {
    memset(block, MI_DEBUG_UNINIT, page->block_size - MI_PADDING_SIZE);
    // The fill is no initialisation: memcheck still reports a read of it.
    mi_track_mem_undefined(block, page->block_size - MI_PADDING_SIZE);
  }
#endif
#if MI_PADDING
  mi_padding_set(page, block, (uint8_t*)block + size - MI_PADDING_SIZE);
#endif
  (void)page, (void)block, (void)size, (void)zero;
}

// A block is about to go back on a free list: fill it in debug builds.
static inline void mi_block_fill_freed(const mi_page_t* page, mi_block_t* block) {
#if MI_DEBUG >= 2
  // Guarded blocks are left alone: a freed one may already sit protected in quarantine.
  if (page->block_size <= MI_DEBUG_FILL_MAX && mi_page_guard_size(page) == 0) {
    mi_track_mem_undefined(block, mi_page_usable_block_size(page)); // the padding too (it is unaddressable)
    memset(block, MI_DEBUG_FREED, mi_page_usable_block_size(page));
  }
#endif
  (void)page, (void)block;
}

#endif

/* ----------------------------------------------------------------------------
POSIX, BSD and Windows flavoured allocation entry points.

Everything here is a thin layer over the public `mi_` interface of
include/mimalloc.h: it adds the argument checks and `errno` conventions that
each foreign interface promises (posix_memalign, aligned_alloc, reallocarray,
NetBSD reallocarr, Windows _expand / _dupenv_s, ...). The exported standard
names (`posix_memalign`, `valloc`, ...) are defined in alloc-override.c and
forward to the functions below.

This file may be compiled on its own or textually included into a single
translation unit together with the rest of the library, so every private
helper carries an `mi_posix_` prefix and every macro is undefined at the end.
-----------------------------------------------------------------------------*/
#include "mimalloc.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h> // getenv
#include <string.h> // memcpy, strlen

#if defined(_WIN32)
#include <windows.h>
#else
#include <unistd.h> // sysconf
#endif

#ifndef EOVERFLOW
#define EOVERFLOW (75)
#define MI_POSIX_DEFINED_EOVERFLOW
#endif

/* ----------------------------------------------------------------------------
Private helpers
-----------------------------------------------------------------------------*/

static inline bool mi_posix_is_power_of_two(size_t x) { return (x != 0 && (x & (x - 1)) == 0); }

// `count * size` into `*total`; true when the product does not fit in a size_t.
static inline bool mi_posix_mul_overflows(size_t count, size_t size, size_t* total) {
#if defined(__GNUC__) || defined(__clang__)
  return __builtin_mul_overflow(count, size, total);
#else
  *total = count * size;
  return (size != 0 && count > SIZE_MAX / size);
#endif
}

// The OS page size, asked for once. The value never changes, so racing
// threads that both ask store the same number; the relaxed atomic keeps the
// race well defined.
static size_t mi_posix_page_size(void) {
  static _Atomic(size_t) cached_page_size = 0;
  size_t page_size = atomic_load_explicit(&cached_page_size, memory_order_relaxed);
  if (page_size != 0)
    return page_size;
#if defined(_WIN32)
  SYSTEM_INFO info;
  GetSystemInfo(&info);
  page_size = (size_t)info.dwPageSize;
#else
  long queried = sysconf(_SC_PAGESIZE);
  page_size = (queried > 0 ? (size_t)queried : 4096);
#endif
  if (!mi_posix_is_power_of_two(page_size))
    page_size = 4096;
  atomic_store_explicit(&cached_page_size, page_size, memory_order_relaxed);
  return page_size;
}

/* ----------------------------------------------------------------------------
Sizes and checked free
-----------------------------------------------------------------------------*/

size_t mi_malloc_size(const void* p) mi_attr_noexcept { return mi_usable_size(p); }

size_t mi_malloc_usable_size(const void* p) mi_attr_noexcept { return mi_usable_size(p); }

size_t mi_malloc_good_size(size_t size) mi_attr_noexcept { return mi_good_size(size); }

// "Checked" free: only releases pointers that lie inside memory this
// allocator manages; anything else is silently ignored.
void mi_cfree(void* p) mi_attr_noexcept {
  if (p != NULL && mi_is_in_heap_region(p)) {
    mi_free(p);
  }
}

// Windows `_expand`: resize in place or fail; the block never moves.
void* mi__expand(void* p, size_t newsize) mi_attr_noexcept {
  if (p == NULL) {
    errno = EINVAL;
    return NULL;
  }
  if (newsize > mi_usable_size(p)) {
    errno = ENOMEM;
    return NULL;
  }
  return p;
}

/* ----------------------------------------------------------------------------
Aligned allocation
-----------------------------------------------------------------------------*/

// POSIX: the alignment must be a power of two that is also a multiple of
// sizeof(void*). Errors are returned, not stored in errno, and `*p` is only
// written on success.
int mi_posix_memalign(void** p, size_t alignment, size_t size) mi_attr_noexcept {
  if (p == NULL)
    return EINVAL;
  if (!mi_posix_is_power_of_two(alignment) || (alignment % sizeof(void*)) != 0) {
    return EINVAL;
  }
  void* block = mi_malloc_aligned(size, alignment);
  if (block == NULL)
    return ENOMEM;
  *p = block;
  return 0;
}

// Obsolete `memalign`. Like glibc we are lenient: an alignment that is not a
// power of two is rounded up to the next one, and 0 means "no constraint".
void* mi_memalign(size_t alignment, size_t size) mi_attr_noexcept {
  if (alignment == 0)
    return mi_malloc(size);
  if (!mi_posix_is_power_of_two(alignment)) {
    const size_t largest_power = ((size_t)1) << (sizeof(size_t) * 8 - 1);
    if (alignment > largest_power) {
      errno = EINVAL;
      return NULL;
    }
    size_t rounded = 1;
    while (rounded < alignment)
      rounded <<= 1;
    alignment = rounded;
  }
  return mi_malloc_aligned(size, alignment);
}

// `valloc`: page aligned.
void* mi_valloc(size_t size) mi_attr_noexcept { return mi_malloc_aligned(size, mi_posix_page_size()); }

// `pvalloc`: page aligned, and the size rounded up to whole pages (a request
// of 0 still gets one page).
void* mi_pvalloc(size_t size) mi_attr_noexcept {
  const size_t page_size = mi_posix_page_size();
  if (size == 0)
    size = page_size;
  if (size > SIZE_MAX - (page_size - 1)) {
    errno = ENOMEM;
    return NULL;
  }
  const size_t rounded = (size + page_size - 1) & ~(page_size - 1);
  return mi_malloc_aligned(rounded, page_size);
}

// C11/C17 `aligned_alloc`. Since DR 460 (C17) the size need not be a multiple
// of the alignment, but the alignment must be a valid one: we accept every
// power of two and reject anything else with EINVAL.
void* mi_aligned_alloc(size_t alignment, size_t size) mi_attr_noexcept {
  if (!mi_posix_is_power_of_two(alignment)) {
    errno = EINVAL;
    return NULL;
  }
  return mi_malloc_aligned(size, alignment);
}

/* ----------------------------------------------------------------------------
Array reallocation
-----------------------------------------------------------------------------*/

// OpenBSD/glibc `reallocarray`: on overflow fail with ENOMEM and leave the old
// block exactly as it was.
void* mi_reallocarray(void* p, size_t count, size_t size) mi_attr_noexcept {
  size_t total;
  if (mi_posix_mul_overflows(count, size, &total)) {
    errno = ENOMEM;
    return NULL;
  }
  return mi_realloc(p, total);
}

// NetBSD `reallocarr`: `p` is the address of the caller's pointer. The result
// is 0 or an errno code, the global errno is left as it was, and the caller's
// pointer is only changed on success. A zero count or size frees the block
// and stores NULL.
int mi_reallocarr(void* p, size_t count, size_t size) mi_attr_noexcept {
  if (p == NULL)
    return EINVAL;
  const int saved_errno = errno;
  void* old_block;
  memcpy(&old_block, p, sizeof(old_block)); // `p` need not be aligned for void*
  if (count == 0 || size == 0) {
    mi_free(old_block);
    void* none = NULL;
    memcpy(p, &none, sizeof(none));
    errno = saved_errno;
    return 0;
  }
  size_t total;
  if (mi_posix_mul_overflows(count, size, &total)) {
    errno = saved_errno;
    return EOVERFLOW;
  }
  void* new_block = mi_realloc(old_block, total);
  if (new_block == NULL) {
    errno = saved_errno;
    return ENOMEM;
  }
  memcpy(p, &new_block, sizeof(new_block));
  errno = saved_errno;
  return 0;
}

// Windows `_aligned_recalloc` / `_aligned_offset_recalloc`.
void* mi_aligned_recalloc(void* p, size_t newcount, size_t size, size_t alignment) mi_attr_noexcept {
  return mi_recalloc_aligned(p, newcount, size, alignment);
}

void* mi_aligned_offset_recalloc(void* p, size_t newcount, size_t size, size_t alignment,
                                 size_t offset) mi_attr_noexcept {
  return mi_recalloc_aligned_at(p, newcount, size, alignment, offset);
}

/* ----------------------------------------------------------------------------
String duplication and environment (Windows CRT names)
-----------------------------------------------------------------------------*/

// Duplicate a 0-terminated string of 16-bit code units.
unsigned short* mi_wcsdup(const unsigned short* s) mi_attr_noexcept {
  if (s == NULL)
    return NULL;
  size_t length = 0;
  while (s[length] != 0)
    length++;
  const size_t bytes = (length + 1) * sizeof(unsigned short);
  unsigned short* copy = (unsigned short*)mi_malloc(bytes);
  if (copy != NULL)
    memcpy(copy, s, bytes);
  return copy;
}

unsigned char* mi_mbsdup(const unsigned char* s) mi_attr_noexcept {
  return (unsigned char*)mi_strdup((const char*)s);
}

// `_dupenv_s`: a fresh copy of an environment variable's value. A missing
// variable is not an error: it gives *buf == NULL and *size == 0.
int mi_dupenv_s(char** buf, size_t* size, const char* name) mi_attr_noexcept {
  if (buf == NULL || name == NULL)
    return EINVAL;
  if (size != NULL)
    *size = 0;
  const char* value = getenv(name);
  if (value == NULL) {
    *buf = NULL;
    return 0;
  }
  *buf = mi_strdup(value);
  if (*buf == NULL)
    return ENOMEM;
  if (size != NULL)
    *size = strlen(value) + 1;
  return 0;
}

// `_wdupenv_s` for 16-bit strings. Outside Windows the environment is made of
// bytes, so only plain ASCII names can be looked up; each byte of the value
// becomes one code unit of the result. `*size` counts code units including
// the terminator.
int mi_wdupenv_s(unsigned short** buf, size_t* size, const unsigned short* name) mi_attr_noexcept {
  if (buf == NULL || name == NULL)
    return EINVAL;
  if (size != NULL)
    *size = 0;
  *buf = NULL;
  char narrow_name[256];
  size_t length = 0;
  for (; name[length] != 0; length++) {
    if (name[length] >= 0x80 || length + 1 >= sizeof(narrow_name))
      return EINVAL;
    narrow_name[length] = (char)name[length];
  }
  narrow_name[length] = 0;
  const char* value = getenv(narrow_name);
  if (value == NULL)
    return 0;
  const size_t units = strlen(value) + 1;
  unsigned short* wide = (unsigned short*)mi_mallocn(units, sizeof(unsigned short));
  if (wide == NULL)
    return ENOMEM;
  for (size_t i = 0; i < units; i++) {
    wide[i] = (unsigned char)value[i];
  }
  *buf = wide;
  if (size != NULL)
    *size = units;
  return 0;
}

#ifdef MI_POSIX_DEFINED_EOVERFLOW
#undef EOVERFLOW
#undef MI_POSIX_DEFINED_EOVERFLOW
#endif

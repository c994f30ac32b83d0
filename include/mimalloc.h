/* ----------------------------------------------------------------------------
mimalloc.h -- public interface of this allocator.

The names, signatures, constants and the order of `mi_option_t` follow the
published interface of mimalloc 2.x (2.2 series), so a program built against
mimalloc 2.x's header links and runs against this library unchanged.
Everything here is written for this project; see LICENSE (MIT).
-----------------------------------------------------------------------------*/
#pragma once
#ifndef MIMALLOC_H
#define MIMALLOC_H

// Interface version: major * 100 + minor (2.2.7 -> 227). `mi_version()`
// returns the same number at run time.
#define MI_MALLOC_VERSION 227

/* ============================================================================
   Declaration helpers
   Each public declaration is decorated with these so that compilers can warn
   about dropped results, know about allocation sizes and alignments, and (on
   Windows) import or export the symbols of a DLL.
============================================================================ */

// noexcept for C++ callers; nothing for C.
#if defined(__cplusplus)
  #if (__cplusplus >= 201103L) || (defined(_MSC_VER) && _MSC_VER > 1900)
    #define mi_attr_noexcept          noexcept
  #else
    #define mi_attr_noexcept          throw()
  #endif
#else
  #define mi_attr_noexcept
#endif

// Warn when the caller ignores the result (leaking the allocation).
#if defined(__cplusplus) && (__cplusplus >= 201703L)
  #define mi_decl_nodiscard           [[nodiscard]]
#elif defined(__clang__) || (defined(__GNUC__) && (__GNUC__ >= 4))
  #define mi_decl_nodiscard           __attribute__((warn_unused_result))
#elif defined(_HAS_NODISCARD)
  #define mi_decl_nodiscard           _NODISCARD
#elif defined(_MSC_VER) && (_MSC_VER >= 1700)
  #define mi_decl_nodiscard           _Check_return_
#else
  #define mi_decl_nodiscard
#endif

#if defined(_MSC_VER) || defined(__MINGW32__)
  // Windows: symbols are imported from / exported by the DLL only when the
  // library is used as a shared library (MI_SHARED_LIB); the library itself
  // is compiled with MI_SHARED_LIB_EXPORT as well.
  #if !defined(MI_SHARED_LIB)
    #define mi_decl_export
  #elif defined(MI_SHARED_LIB_EXPORT)
    #define mi_decl_export            __declspec(dllexport)
  #else
    #define mi_decl_export            __declspec(dllimport)
  #endif
  #if defined(__MINGW32__)
    #define mi_decl_restrict
    #define mi_attr_malloc            __attribute__((malloc))
  #elif defined(_MSC_VER) && (_MSC_VER >= 1900) && !defined(__EDG__)
    #define mi_decl_restrict          __declspec(allocator) __declspec(restrict)
    #define mi_attr_malloc
  #else
    #define mi_decl_restrict          __declspec(restrict)
    #define mi_attr_malloc
  #endif
  #define mi_cdecl                    __cdecl
  #define mi_attr_alloc_size(s)
  #define mi_attr_alloc_size2(s1,s2)
  #define mi_attr_alloc_align(p)
#elif defined(__GNUC__)
  // gcc, clang and compatible compilers. Public functions always get default
  // visibility so the shared library exports them even when the rest of the
  // library is compiled with -fvisibility=hidden.
  #define mi_decl_export              __attribute__((visibility("default")))
  #define mi_decl_restrict
  #define mi_attr_malloc              __attribute__((malloc))
  #define mi_cdecl
  #if (defined(__clang_major__) && (__clang_major__ < 4)) || (!defined(__clang__) && (__GNUC__ < 5))
    #define mi_attr_alloc_size(s)
    #define mi_attr_alloc_size2(s1,s2)
    #define mi_attr_alloc_align(p)
  #elif defined(__INTEL_COMPILER)
    #define mi_attr_alloc_size(s)       __attribute__((alloc_size(s)))
    #define mi_attr_alloc_size2(s1,s2)  __attribute__((alloc_size(s1,s2)))
    #define mi_attr_alloc_align(p)
  #else
    #define mi_attr_alloc_size(s)       __attribute__((alloc_size(s)))
    #define mi_attr_alloc_size2(s1,s2)  __attribute__((alloc_size(s1,s2)))
    #define mi_attr_alloc_align(p)      __attribute__((alloc_align(p)))
  #endif
#else
  #define mi_decl_export
  #define mi_decl_restrict
  #define mi_attr_malloc
  #define mi_cdecl
  #define mi_attr_alloc_size(s)
  #define mi_attr_alloc_size2(s1,s2)
  #define mi_attr_alloc_align(p)
#endif

// Helpers for the library's own sources (not used by any declaration below).
// Each is only defined here when not already defined, so an internal header
// may provide a different definition first.
#if defined(_MSC_VER)
  #ifndef mi_decl_noinline
  #define mi_decl_noinline            __declspec(noinline)
  #endif
  #ifndef mi_decl_thread
  #define mi_decl_thread              __declspec(thread)
  #endif
  #ifndef mi_decl_align
  #define mi_decl_align(a)            __declspec(align(a))
  #endif
#elif defined(__GNUC__)
  #ifndef mi_decl_noinline
  #define mi_decl_noinline            __attribute__((noinline))
  #endif
  #ifndef mi_decl_thread
  #define mi_decl_thread              __thread
  #endif
  #ifndef mi_decl_align
  #define mi_decl_align(a)            __attribute__((aligned(a)))
  #endif
#else
  #ifndef mi_decl_noinline
  #define mi_decl_noinline
  #endif
  #ifndef mi_decl_thread
  #define mi_decl_thread              _Thread_local
  #endif
  #ifndef mi_decl_align
  #define mi_decl_align(a)
  #endif
#endif
#ifndef mi_decl_cache_align
#define mi_decl_cache_align           mi_decl_align(64)
#endif

#include <stddef.h>     // size_t
#include <stdbool.h>    // bool
#include <stdint.h>     // PTRDIFF_MAX, int64_t

#ifdef __cplusplus
extern "C" {
#endif

/* ============================================================================
   The C allocation functions
============================================================================ */

mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_malloc(size_t size) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size(1);
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_calloc(size_t count, size_t size) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size2(1,2);
mi_decl_nodiscard mi_decl_export void* mi_realloc(void* p, size_t newsize) mi_attr_noexcept mi_attr_alloc_size(2);
// Grow or shrink in place only; NULL (and `p` untouched) when that is impossible.
mi_decl_export void* mi_expand(void* p, size_t newsize) mi_attr_noexcept mi_attr_alloc_size(2);
mi_decl_export void  mi_free(void* p) mi_attr_noexcept;

mi_decl_nodiscard mi_decl_export mi_decl_restrict char* mi_strdup(const char* s) mi_attr_noexcept mi_attr_malloc;
mi_decl_nodiscard mi_decl_export mi_decl_restrict char* mi_strndup(const char* s, size_t n) mi_attr_noexcept mi_attr_malloc;
mi_decl_nodiscard mi_decl_export mi_decl_restrict char* mi_realpath(const char* fname, char* resolved_name) mi_attr_noexcept mi_attr_malloc;

/* ============================================================================
   Extended allocation
============================================================================ */

// Requests of at most MI_SMALL_SIZE_MAX bytes (128 machine words) may use the
// `_small` entry points, which skip the size-class lookup for large sizes.
#define MI_SMALL_WSIZE_MAX  (128)
#define MI_SMALL_SIZE_MAX   (MI_SMALL_WSIZE_MAX*sizeof(void*))

// Byte patterns of debug builds (MI_DEBUG >= 2): new memory reads as
// MI_DEBUG_UNINIT, freed memory as MI_DEBUG_FREED; with padding, the bytes
// just after the requested size hold MI_DEBUG_PADDING.
#define MI_DEBUG_UNINIT     (0xD0)
#define MI_DEBUG_FREED      (0xDF)
#define MI_DEBUG_PADDING    (0xDE)

mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_malloc_small(size_t size) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size(1);
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_zalloc_small(size_t size) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size(1);
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_zalloc(size_t size) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size(1);

// `count * size` with overflow detection (NULL on overflow).
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_mallocn(size_t count, size_t size) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size2(1,2);
mi_decl_nodiscard mi_decl_export void* mi_reallocn(void* p, size_t count, size_t size) mi_attr_noexcept mi_attr_alloc_size2(2,3);
// Like realloc, but frees `p` when the reallocation fails.
mi_decl_nodiscard mi_decl_export void* mi_reallocf(void* p, size_t newsize) mi_attr_noexcept mi_attr_alloc_size(2);

// Bytes actually usable in the block at `p` (at least the requested size).
mi_decl_nodiscard mi_decl_export size_t mi_usable_size(const void* p) mi_attr_noexcept;
// The usable size a request of `size` bytes would get.
mi_decl_nodiscard mi_decl_export size_t mi_good_size(size_t size) mi_attr_noexcept;

/* ============================================================================
   Callbacks, statistics and process/thread control
============================================================================ */

// Called regularly from allocation slow paths (and with `force` on collect),
// so a program can release its own cached memory. `heartbeat` increases.
typedef void (mi_cdecl mi_deferred_free_fun)(bool force, unsigned long long heartbeat, void* arg);
mi_decl_export void mi_register_deferred_free(mi_deferred_free_fun* deferred_free, void* arg) mi_attr_noexcept;

// Receives every message (statistics, warnings, errors); NULL restores stderr.
typedef void (mi_cdecl mi_output_fun)(const char* msg, void* arg);
mi_decl_export void mi_register_output(mi_output_fun* out, void* arg) mi_attr_noexcept;

// Receives error codes (EFAULT, EAGAIN, ENOMEM, EOVERFLOW, EINVAL).
typedef void (mi_cdecl mi_error_fun)(int err, void* arg);
mi_decl_export void mi_register_error(mi_error_fun* fun, void* arg);

// Return unused memory; `force` also releases what would normally be kept.
mi_decl_export void mi_collect(bool force) mi_attr_noexcept;
mi_decl_export int  mi_version(void) mi_attr_noexcept;

mi_decl_export void mi_stats_reset(void) mi_attr_noexcept;
mi_decl_export void mi_stats_merge(void) mi_attr_noexcept;
// Kept for old callers: `out` is ignored (pass NULL); prints to the output function.
mi_decl_export void mi_stats_print(void* out) mi_attr_noexcept;
mi_decl_export void mi_stats_print_out(mi_output_fun* out, void* arg) mi_attr_noexcept;
mi_decl_export void mi_thread_stats_print_out(mi_output_fun* out, void* arg) mi_attr_noexcept;
mi_decl_export void mi_options_print(void) mi_attr_noexcept;

// Any argument may be NULL. Times in milliseconds, sizes in bytes.
mi_decl_export void mi_process_info(size_t* elapsed_msecs, size_t* user_msecs, size_t* system_msecs,
                                    size_t* current_rss, size_t* peak_rss,
                                    size_t* current_commit, size_t* peak_commit,
                                    size_t* page_faults) mi_attr_noexcept;

// Normally called automatically (library load, first allocation, thread exit).
mi_decl_export void mi_process_init(void) mi_attr_noexcept;
mi_decl_export void mi_process_done(void) mi_attr_noexcept;
mi_decl_export void mi_thread_init(void) mi_attr_noexcept;
mi_decl_export void mi_thread_done(void) mi_attr_noexcept;

/* ============================================================================
   Aligned allocation
   The alignment comes after the size (unlike posix_memalign/aligned_alloc);
   the `_at` forms align the address `p + offset` instead of `p`.
============================================================================ */

mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_malloc_aligned(size_t size, size_t alignment) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size(1) mi_attr_alloc_align(2);
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_malloc_aligned_at(size_t size, size_t alignment, size_t offset) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size(1);
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_zalloc_aligned(size_t size, size_t alignment) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size(1) mi_attr_alloc_align(2);
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_zalloc_aligned_at(size_t size, size_t alignment, size_t offset) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size(1);
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_calloc_aligned(size_t count, size_t size, size_t alignment) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size2(1,2) mi_attr_alloc_align(3);
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_calloc_aligned_at(size_t count, size_t size, size_t alignment, size_t offset) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size2(1,2);
mi_decl_nodiscard mi_decl_export void* mi_realloc_aligned(void* p, size_t newsize, size_t alignment) mi_attr_noexcept mi_attr_alloc_size(2) mi_attr_alloc_align(3);
mi_decl_nodiscard mi_decl_export void* mi_realloc_aligned_at(void* p, size_t newsize, size_t alignment, size_t offset) mi_attr_noexcept mi_attr_alloc_size(2);

/* ============================================================================
   Allocation that also reports the usable size (mimalloc 2.2.7)
   Each `block_size` out-parameter may be NULL. When it is not, it receives the
   usable size of the block (what mi_usable_size would return), or 0 when no
   block is returned (allocation failure, NULL or foreign pointer).
============================================================================ */

mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_umalloc(size_t size, size_t* block_size) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size(1);
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_ucalloc(size_t count, size_t size, size_t* block_size) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size2(1,2);
// `block_size_pre`: usable size of `p` before the call; `block_size_post`: of the result.
mi_decl_nodiscard mi_decl_export void* mi_urealloc(void* p, size_t newsize, size_t* block_size_pre, size_t* block_size_post) mi_attr_noexcept mi_attr_alloc_size(2);
// `block_size`: usable size of `p` just before it was freed.
mi_decl_export void mi_ufree(void* p, size_t* block_size) mi_attr_noexcept;
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_umalloc_aligned(size_t size, size_t alignment, size_t* block_size) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size(1) mi_attr_alloc_align(2);
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_uzalloc_aligned(size_t size, size_t alignment, size_t* block_size) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size(1) mi_attr_alloc_align(2);
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_umalloc_small(size_t size, size_t* block_size) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size(1);
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_uzalloc_small(size_t size, size_t* block_size) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size(1);

/* ============================================================================
   First-class heaps
   A heap allocates only on the thread that created it; any thread may free
   its blocks.
============================================================================ */

struct mi_heap_s;
typedef struct mi_heap_s mi_heap_t;

mi_decl_nodiscard mi_decl_export mi_heap_t* mi_heap_new(void);
// Delete: live blocks migrate to the thread's backing heap.
mi_decl_export void       mi_heap_delete(mi_heap_t* heap);
// Destroy: every block of the heap is freed at once.
mi_decl_export void       mi_heap_destroy(mi_heap_t* heap);
mi_decl_export mi_heap_t* mi_heap_set_default(mi_heap_t* heap);
mi_decl_export mi_heap_t* mi_heap_get_default(void);
mi_decl_export mi_heap_t* mi_heap_get_backing(void);
mi_decl_export void       mi_heap_collect(mi_heap_t* heap, bool force) mi_attr_noexcept;

mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_heap_malloc(mi_heap_t* heap, size_t size) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size(2);
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_heap_zalloc(mi_heap_t* heap, size_t size) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size(2);
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_heap_calloc(mi_heap_t* heap, size_t count, size_t size) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size2(2,3);
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_heap_mallocn(mi_heap_t* heap, size_t count, size_t size) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size2(2,3);
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_heap_malloc_small(mi_heap_t* heap, size_t size) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size(2);

mi_decl_nodiscard mi_decl_export void* mi_heap_realloc(mi_heap_t* heap, void* p, size_t newsize) mi_attr_noexcept mi_attr_alloc_size(3);
mi_decl_nodiscard mi_decl_export void* mi_heap_reallocn(mi_heap_t* heap, void* p, size_t count, size_t size) mi_attr_noexcept mi_attr_alloc_size2(3,4);
mi_decl_nodiscard mi_decl_export void* mi_heap_reallocf(mi_heap_t* heap, void* p, size_t newsize) mi_attr_noexcept mi_attr_alloc_size(3);

mi_decl_nodiscard mi_decl_export mi_decl_restrict char* mi_heap_strdup(mi_heap_t* heap, const char* s) mi_attr_noexcept mi_attr_malloc;
mi_decl_nodiscard mi_decl_export mi_decl_restrict char* mi_heap_strndup(mi_heap_t* heap, const char* s, size_t n) mi_attr_noexcept mi_attr_malloc;
mi_decl_nodiscard mi_decl_export mi_decl_restrict char* mi_heap_realpath(mi_heap_t* heap, const char* fname, char* resolved_name) mi_attr_noexcept mi_attr_malloc;

mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_heap_malloc_aligned(mi_heap_t* heap, size_t size, size_t alignment) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size(2) mi_attr_alloc_align(3);
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_heap_malloc_aligned_at(mi_heap_t* heap, size_t size, size_t alignment, size_t offset) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size(2);
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_heap_zalloc_aligned(mi_heap_t* heap, size_t size, size_t alignment) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size(2) mi_attr_alloc_align(3);
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_heap_zalloc_aligned_at(mi_heap_t* heap, size_t size, size_t alignment, size_t offset) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size(2);
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_heap_calloc_aligned(mi_heap_t* heap, size_t count, size_t size, size_t alignment) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size2(2,3) mi_attr_alloc_align(4);
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_heap_calloc_aligned_at(mi_heap_t* heap, size_t count, size_t size, size_t alignment, size_t offset) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size2(2,3);
mi_decl_nodiscard mi_decl_export void* mi_heap_realloc_aligned(mi_heap_t* heap, void* p, size_t newsize, size_t alignment) mi_attr_noexcept mi_attr_alloc_size(3) mi_attr_alloc_align(4);
mi_decl_nodiscard mi_decl_export void* mi_heap_realloc_aligned_at(mi_heap_t* heap, void* p, size_t newsize, size_t alignment, size_t offset) mi_attr_noexcept mi_attr_alloc_size(3);

/* ============================================================================
   Re-allocation that keeps new memory zeroed
   Valid only for blocks that were zero-initialised when first allocated
   (mi_zalloc, mi_calloc, mi_zalloc_aligned, ...): any growth is zero-filled.
============================================================================ */

mi_decl_nodiscard mi_decl_export void* mi_rezalloc(void* p, size_t newsize) mi_attr_noexcept mi_attr_alloc_size(2);
mi_decl_nodiscard mi_decl_export void* mi_recalloc(void* p, size_t newcount, size_t size) mi_attr_noexcept mi_attr_alloc_size2(2,3);

mi_decl_nodiscard mi_decl_export void* mi_rezalloc_aligned(void* p, size_t newsize, size_t alignment) mi_attr_noexcept mi_attr_alloc_size(2) mi_attr_alloc_align(3);
mi_decl_nodiscard mi_decl_export void* mi_rezalloc_aligned_at(void* p, size_t newsize, size_t alignment, size_t offset) mi_attr_noexcept mi_attr_alloc_size(2);
mi_decl_nodiscard mi_decl_export void* mi_recalloc_aligned(void* p, size_t newcount, size_t size, size_t alignment) mi_attr_noexcept mi_attr_alloc_size2(2,3) mi_attr_alloc_align(4);
mi_decl_nodiscard mi_decl_export void* mi_recalloc_aligned_at(void* p, size_t newcount, size_t size, size_t alignment, size_t offset) mi_attr_noexcept mi_attr_alloc_size2(2,3);

mi_decl_nodiscard mi_decl_export void* mi_heap_rezalloc(mi_heap_t* heap, void* p, size_t newsize) mi_attr_noexcept mi_attr_alloc_size(3);
mi_decl_nodiscard mi_decl_export void* mi_heap_recalloc(mi_heap_t* heap, void* p, size_t newcount, size_t size) mi_attr_noexcept mi_attr_alloc_size2(3,4);

mi_decl_nodiscard mi_decl_export void* mi_heap_rezalloc_aligned(mi_heap_t* heap, void* p, size_t newsize, size_t alignment) mi_attr_noexcept mi_attr_alloc_size(3) mi_attr_alloc_align(4);
mi_decl_nodiscard mi_decl_export void* mi_heap_rezalloc_aligned_at(mi_heap_t* heap, void* p, size_t newsize, size_t alignment, size_t offset) mi_attr_noexcept mi_attr_alloc_size(3);
mi_decl_nodiscard mi_decl_export void* mi_heap_recalloc_aligned(mi_heap_t* heap, void* p, size_t newcount, size_t size, size_t alignment) mi_attr_noexcept mi_attr_alloc_size2(3,4) mi_attr_alloc_align(5);
mi_decl_nodiscard mi_decl_export void* mi_heap_recalloc_aligned_at(mi_heap_t* heap, void* p, size_t newcount, size_t size, size_t alignment, size_t offset) mi_attr_noexcept mi_attr_alloc_size2(3,4);

/* ============================================================================
   Inspection
============================================================================ */

// Is `p` a block that `heap` handed out (contains) / inside `heap`'s memory (check_owned)?
mi_decl_export bool mi_heap_contains_block(mi_heap_t* heap, const void* p);
mi_decl_export bool mi_heap_check_owned(mi_heap_t* heap, const void* p);
// Is `p` inside memory managed by the default heap of this thread?
mi_decl_export bool mi_check_owned(const void* p);

// One area of a heap: a run of equally sized blocks (one page).
typedef struct mi_heap_area_s {
  void*  blocks;           // address of the first block
  size_t reserved;         // bytes of address space reserved for the area
  size_t committed;        // bytes currently committed
  size_t used;             // number of blocks in use
  size_t block_size;       // usable bytes per block
  size_t full_block_size;  // bytes per block including padding and metadata
  int    heap_tag;         // tag of the owning heap (see mi_heap_new_ex)
} mi_heap_area_t;

// Visitor: called once per area with block == NULL, then (if requested) once
// per live block. Return false to stop the walk.
typedef bool (mi_cdecl mi_block_visit_fun)(const mi_heap_t* heap, const mi_heap_area_t* area, void* block, size_t block_size, void* arg);

mi_decl_export bool mi_heap_visit_blocks(const mi_heap_t* heap, bool visit_blocks, mi_block_visit_fun* visitor, void* arg);

// Is `p` anywhere in memory reserved by this allocator?
mi_decl_nodiscard mi_decl_export bool mi_is_in_heap_region(const void* p) mi_attr_noexcept;
// True when malloc/free of the C runtime are redirected to this allocator (Windows).
mi_decl_nodiscard mi_decl_export bool mi_is_redirected(void) mi_attr_noexcept;

/* ============================================================================
   Reserving OS memory and arenas
============================================================================ */

mi_decl_export int  mi_reserve_huge_os_pages_interleave(size_t pages, size_t numa_nodes, size_t timeout_msecs) mi_attr_noexcept;
mi_decl_export int  mi_reserve_huge_os_pages_at(size_t pages, int numa_node, size_t timeout_msecs) mi_attr_noexcept;
mi_decl_export int  mi_reserve_os_memory(size_t size, bool commit, bool allow_large) mi_attr_noexcept;
// Hand a region the program obtained itself to the allocator.
mi_decl_export bool mi_manage_os_memory(void* start, size_t size, bool is_committed, bool is_large, bool is_zero, int numa_node) mi_attr_noexcept;

mi_decl_export void mi_debug_show_arenas(void) mi_attr_noexcept;
mi_decl_export void mi_arenas_print(void) mi_attr_noexcept;

// Arenas may be reserved "exclusive": only heaps created for that arena use them.
typedef int mi_arena_id_t;
mi_decl_export void* mi_arena_area(mi_arena_id_t arena_id, size_t* size);
mi_decl_export int   mi_reserve_huge_os_pages_at_ex(size_t pages, int numa_node, size_t timeout_msecs, bool exclusive, mi_arena_id_t* arena_id) mi_attr_noexcept;
mi_decl_export int   mi_reserve_os_memory_ex(size_t size, bool commit, bool allow_large, bool exclusive, mi_arena_id_t* arena_id) mi_attr_noexcept;
mi_decl_export bool  mi_manage_os_memory_ex(void* start, size_t size, bool is_committed, bool is_large, bool is_zero, int numa_node, bool exclusive, mi_arena_id_t* arena_id) mi_attr_noexcept;

// A heap that allocates only from `arena_id`.
mi_decl_nodiscard mi_decl_export mi_heap_t* mi_heap_new_in_arena(mi_arena_id_t arena_id);

/* ============================================================================
   Sub-processes
   Memory of different sub-processes is kept apart: no reclaim across them.
============================================================================ */

typedef void* mi_subproc_id_t;
mi_decl_export mi_subproc_id_t mi_subproc_main(void);
mi_decl_export mi_subproc_id_t mi_subproc_new(void);
mi_decl_export void mi_subproc_delete(mi_subproc_id_t subproc);
// Call on a fresh thread, before it allocates anything.
mi_decl_export void mi_subproc_add_current_thread(mi_subproc_id_t subproc);

// Walk areas left behind by exited threads (needs mi_option_visit_abandoned at startup).
mi_decl_export bool mi_abandoned_visit_blocks(mi_subproc_id_t subproc_id, int heap_tag, bool visit_blocks, mi_block_visit_fun* visitor, void* arg);

/* ============================================================================
   Miscellaneous experimental calls
============================================================================ */

// Guard pages behind sampled objects (active only in builds with guard support).
// sample_rate 0 = never, 1 = every object; seed 0 = random start.
mi_decl_export void mi_heap_guarded_set_sample_rate(mi_heap_t* heap, size_t sample_rate, size_t seed);
mi_decl_export void mi_heap_guarded_set_size_bound(mi_heap_t* heap, size_t min, size_t max);

// Tell the allocator the calling thread belongs to a thread pool.
mi_decl_export void mi_thread_set_in_threadpool(void) mi_attr_noexcept;

// A heap with a tag; with allow_destroy == false the heap may reclaim abandoned
// memory of the same tag and arena, and mi_heap_destroy acts as mi_heap_delete.
mi_decl_nodiscard mi_decl_export mi_heap_t* mi_heap_new_ex(int heap_tag, bool allow_destroy, mi_arena_id_t arena_id);

// Deprecated: use mi_reserve_huge_os_pages_interleave / _at.
mi_decl_export int  mi_reserve_huge_os_pages(size_t pages, double max_secs, size_t* pages_reserved) mi_attr_noexcept;
mi_decl_export void mi_collect_reduce(size_t target_thread_owned) mi_attr_noexcept;

/* ============================================================================
   Typed convenience macros
============================================================================ */

#define mi_malloc_tp(tp)                ((tp*)mi_malloc(sizeof(tp)))
#define mi_zalloc_tp(tp)                ((tp*)mi_zalloc(sizeof(tp)))
#define mi_calloc_tp(tp,n)              ((tp*)mi_calloc(n,sizeof(tp)))
#define mi_mallocn_tp(tp,n)             ((tp*)mi_mallocn(n,sizeof(tp)))
#define mi_reallocn_tp(p,tp,n)          ((tp*)mi_reallocn(p,n,sizeof(tp)))
#define mi_recalloc_tp(p,tp,n)          ((tp*)mi_recalloc(p,n,sizeof(tp)))

#define mi_heap_malloc_tp(hp,tp)        ((tp*)mi_heap_malloc(hp,sizeof(tp)))
#define mi_heap_zalloc_tp(hp,tp)        ((tp*)mi_heap_zalloc(hp,sizeof(tp)))
#define mi_heap_calloc_tp(hp,tp,n)      ((tp*)mi_heap_calloc(hp,n,sizeof(tp)))
#define mi_heap_mallocn_tp(hp,tp,n)     ((tp*)mi_heap_mallocn(hp,n,sizeof(tp)))
#define mi_heap_reallocn_tp(hp,p,tp,n)  ((tp*)mi_heap_reallocn(hp,p,n,sizeof(tp)))
#define mi_heap_recalloc_tp(hp,p,tp,n)  ((tp*)mi_heap_recalloc(hp,p,n,sizeof(tp)))

/* ============================================================================
   Runtime options
   Each option `mi_option_<name>` is read once from the environment variable
   MIMALLOC_<NAME> (upper case) and can be changed programmatically.
   The numeric values are part of the binary interface: never reorder.
============================================================================ */

typedef enum mi_option_e {
  // commonly used
  mi_option_show_errors                =  0,  // print error messages to the output
  mi_option_show_stats                 =  1,  // print statistics when the process exits
  mi_option_verbose                    =  2,  // print informational messages
  // memory behaviour
  mi_option_eager_commit               =  3,  // commit segment memory up front
  mi_option_arena_eager_commit         =  4,  // commit arena memory up front (2: only if the OS overcommits)
  mi_option_purge_decommits            =  5,  // purging decommits (1) or only resets (0)
  mi_option_allow_large_os_pages       =  6,  // use 2 MiB/4 MiB OS pages where possible
  mi_option_reserve_huge_os_pages      =  7,  // reserve N 1 GiB pages at startup
  mi_option_reserve_huge_os_pages_at   =  8,  // ... on this NUMA node
  mi_option_reserve_os_memory          =  9,  // reserve this much memory (KiB) in an arena at startup
  mi_option_deprecated_segment_cache   = 10,  // no longer used
  mi_option_deprecated_page_reset      = 11,  // no longer used
  mi_option_abandoned_page_purge       = 12,  // purge pending memory when a thread exits
  mi_option_deprecated_segment_reset   = 13,  // no longer used
  mi_option_eager_commit_delay         = 14,  // a thread's first N segments commit lazily
  mi_option_purge_delay                = 15,  // ms before unused memory is purged (0: at once, -1: never)
  mi_option_use_numa_nodes             = 16,  // use at most N NUMA nodes (0: all)
  mi_option_disallow_os_alloc          = 17,  // only use reserved arenas, never fresh OS memory
  mi_option_os_tag                     = 18,  // tag for OS memory (macOS)
  mi_option_max_errors                 = 19,  // stop printing after N errors
  mi_option_max_warnings               = 20,  // stop printing after N warnings
  mi_option_max_segment_reclaim        = 21,  // percentage of abandoned segments examined per reclaim attempt
  mi_option_destroy_on_exit            = 22,  // release all memory at process exit
  mi_option_arena_reserve              = 23,  // size (KiB) of each arena reservation
  mi_option_arena_purge_mult           = 24,  // arena purge delay = purge_delay * this
  mi_option_purge_extend_delay         = 25,  // extend a pending purge delay on reuse
  mi_option_abandoned_reclaim_on_free  = 26,  // a free into an abandoned segment may reclaim it
  mi_option_disallow_arena_alloc       = 27,  // no arena allocation except for explicit arena ids
  mi_option_retry_on_oom               = 28,  // ms to retry after running out of memory (Windows)
  mi_option_visit_abandoned            = 29,  // keep what is needed to visit abandoned blocks
  mi_option_guarded_min                = 30,  // smallest object size that may be guarded
  mi_option_guarded_max                = 31,  // largest object size that may be guarded
  mi_option_guarded_precise            = 32,  // place guarded objects right against the guard page
  mi_option_guarded_sample_rate        = 33,  // guard 1 in N eligible allocations
  mi_option_guarded_sample_seed        = 34,  // seed for the guard sampling
  mi_option_target_segments_per_thread = 35,  // try to keep a thread's segment count near N
  mi_option_generic_collect            = 36,  // collect the heap every N slow-path allocations
  mi_option_allow_thp                  = 37,  // transparent huge pages for large OS regions (0: off for the process)
  _mi_option_last                      = 38,
  // older names, kept for source compatibility
  mi_option_large_os_pages        = mi_option_allow_large_os_pages,
  mi_option_eager_region_commit   = mi_option_arena_eager_commit,
  mi_option_reset_decommits       = mi_option_purge_decommits,
  mi_option_reset_delay           = mi_option_purge_delay,
  mi_option_abandoned_page_reset  = mi_option_abandoned_page_purge,
  mi_option_limit_os_alloc        = mi_option_disallow_os_alloc
} mi_option_t;

mi_decl_nodiscard mi_decl_export bool mi_option_is_enabled(mi_option_t option);
mi_decl_export void mi_option_enable(mi_option_t option);
mi_decl_export void mi_option_disable(mi_option_t option);
mi_decl_export void mi_option_set_enabled(mi_option_t option, bool enable);
mi_decl_export void mi_option_set_enabled_default(mi_option_t option, bool enable);

mi_decl_nodiscard mi_decl_export long   mi_option_get(mi_option_t option);
mi_decl_nodiscard mi_decl_export long   mi_option_get_clamp(mi_option_t option, long min, long max);
// For size options stored in KiB: the value in bytes.
mi_decl_nodiscard mi_decl_export size_t mi_option_get_size(mi_option_t option);
mi_decl_export void mi_option_set(mi_option_t option, long value);
mi_decl_export void mi_option_set_default(mi_option_t option, long value);

/* ============================================================================
   `mi_`-prefixed versions of POSIX, BSD, glibc and Windows allocation calls
   (the targets of mimalloc-override.h and of the dynamic override).
============================================================================ */

// Free `p` only if it belongs to this allocator ("checked free").
mi_decl_export void  mi_cfree(void* p) mi_attr_noexcept;
mi_decl_export void* mi__expand(void* p, size_t newsize) mi_attr_noexcept;
mi_decl_nodiscard mi_decl_export size_t mi_malloc_size(const void* p) mi_attr_noexcept;
mi_decl_nodiscard mi_decl_export size_t mi_malloc_good_size(size_t size) mi_attr_noexcept;
mi_decl_nodiscard mi_decl_export size_t mi_malloc_usable_size(const void* p) mi_attr_noexcept;

mi_decl_export int mi_posix_memalign(void** p, size_t alignment, size_t size) mi_attr_noexcept;
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_memalign(size_t alignment, size_t size) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size(2) mi_attr_alloc_align(1);
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_valloc(size_t size) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size(1);
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_pvalloc(size_t size) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size(1);
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_aligned_alloc(size_t alignment, size_t size) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size(2) mi_attr_alloc_align(1);

mi_decl_nodiscard mi_decl_export void* mi_reallocarray(void* p, size_t count, size_t size) mi_attr_noexcept mi_attr_alloc_size2(2,3);
// NetBSD style: `p` points to the pointer to resize; returns 0 or an errno value.
mi_decl_nodiscard mi_decl_export int   mi_reallocarr(void* p, size_t count, size_t size) mi_attr_noexcept;
mi_decl_nodiscard mi_decl_export void* mi_aligned_recalloc(void* p, size_t newcount, size_t size, size_t alignment) mi_attr_noexcept;
mi_decl_nodiscard mi_decl_export void* mi_aligned_offset_recalloc(void* p, size_t newcount, size_t size, size_t alignment, size_t offset) mi_attr_noexcept;

// Windows string and environment helpers; `unsigned short` stands for wchar_t.
mi_decl_nodiscard mi_decl_export mi_decl_restrict unsigned short* mi_wcsdup(const unsigned short* s) mi_attr_noexcept mi_attr_malloc;
mi_decl_nodiscard mi_decl_export mi_decl_restrict unsigned char*  mi_mbsdup(const unsigned char* s) mi_attr_noexcept mi_attr_malloc;
mi_decl_export int mi_dupenv_s(char** buf, size_t* size, const char* name) mi_attr_noexcept;
mi_decl_export int mi_wdupenv_s(unsigned short** buf, size_t* size, const unsigned short* name) mi_attr_noexcept;

// Frees with size/alignment hints (the targets of C++ sized/aligned delete).
mi_decl_export void mi_free_size(void* p, size_t size) mi_attr_noexcept;
mi_decl_export void mi_free_size_aligned(void* p, size_t size, size_t alignment) mi_attr_noexcept;
mi_decl_export void mi_free_aligned(void* p, size_t alignment) mi_attr_noexcept;

// C++ `new` semantics: on failure call the installed new-handler and retry,
// and throw std::bad_alloc (or abort without exceptions) when there is none.
// The `_nothrow` forms return NULL instead of throwing.
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_new(size_t size) mi_attr_malloc mi_attr_alloc_size(1);
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_new_aligned(size_t size, size_t alignment) mi_attr_malloc mi_attr_alloc_size(1) mi_attr_alloc_align(2);
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_new_nothrow(size_t size) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size(1);
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_new_aligned_nothrow(size_t size, size_t alignment) mi_attr_noexcept mi_attr_malloc mi_attr_alloc_size(1) mi_attr_alloc_align(2);
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_new_n(size_t count, size_t size) mi_attr_malloc mi_attr_alloc_size2(1,2);
mi_decl_nodiscard mi_decl_export void* mi_new_realloc(void* p, size_t newsize) mi_attr_alloc_size(2);
mi_decl_nodiscard mi_decl_export void* mi_new_reallocn(void* p, size_t newcount, size_t size) mi_attr_alloc_size2(2,3);

mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_heap_alloc_new(mi_heap_t* heap, size_t size) mi_attr_malloc mi_attr_alloc_size(2);
mi_decl_nodiscard mi_decl_export mi_decl_restrict void* mi_heap_alloc_new_n(mi_heap_t* heap, size_t count, size_t size) mi_attr_malloc mi_attr_alloc_size2(2,3);

#ifdef __cplusplus
}
#endif

/* ============================================================================
   C++ standard-library allocators
   mi_stl_allocator<T>               allocates from the thread's default heap;
   mi_heap_stl_allocator<T>          allocates from one heap (a fresh one that
                                     is deleted with the last copy, or a given
                                     heap that is left alone);
   mi_heap_destroy_stl_allocator<T>  like the previous, but deallocate does
                                     nothing and the fresh heap is destroyed
                                     in one go with the last copy.
   (To replace the global operator new/delete see mimalloc-new-delete.h.)
============================================================================ */
#ifdef __cplusplus

#include <cstddef>
#include <cstdint>
#include <new>
#if (__cplusplus >= 201103L) || (defined(_MSC_VER) && _MSC_VER > 1900)
#include <type_traits>
#include <utility>
#endif

// Members shared by all the allocators below.
template<class T> struct mi_stl_allocator_common {
  typedef T                 value_type;
  typedef std::size_t       size_type;
  typedef std::ptrdiff_t    difference_type;
  typedef value_type&       reference;
  typedef value_type const& const_reference;
  typedef value_type*       pointer;
  typedef value_type const* const_pointer;

#if (__cplusplus >= 201103L) || (defined(_MSC_VER) && _MSC_VER > 1900)
  using propagate_on_container_copy_assignment = std::true_type;
  using propagate_on_container_move_assignment = std::true_type;
  using propagate_on_container_swap            = std::true_type;

  template<class U, class... Args> void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
  template<class U> void destroy(U* p) mi_attr_noexcept { p->~U(); }
#else
  void construct(pointer p, const_reference value) { ::new (static_cast<void*>(p)) value_type(value); }
  void destroy(pointer p) { p->~value_type(); }
#endif

  size_type     max_size() const mi_attr_noexcept { return static_cast<size_type>(PTRDIFF_MAX) / sizeof(value_type); }
  pointer       address(reference x) const { return &x; }
  const_pointer address(const_reference x) const { return &x; }
};

template<class T> struct mi_stl_allocator : public mi_stl_allocator_common<T> {
  typedef typename mi_stl_allocator_common<T>::size_type size_type;
  typedef typename mi_stl_allocator_common<T>::pointer   pointer;
  template<class U> struct rebind { typedef mi_stl_allocator<U> other; };

#if (__cplusplus >= 201103L) || (defined(_MSC_VER) && _MSC_VER > 1900)
  using is_always_equal = std::true_type;
  mi_stl_allocator() mi_attr_noexcept = default;
  mi_stl_allocator(const mi_stl_allocator&) mi_attr_noexcept = default;
  mi_stl_allocator& operator=(const mi_stl_allocator&) mi_attr_noexcept = default;
#else
  mi_stl_allocator() mi_attr_noexcept { }
  mi_stl_allocator(const mi_stl_allocator&) mi_attr_noexcept { }
#endif
  template<class U> mi_stl_allocator(const mi_stl_allocator<U>&) mi_attr_noexcept { }

  mi_stl_allocator select_on_container_copy_construction() const { return *this; }

#if (__cplusplus >= 201703L)
  mi_decl_nodiscard T* allocate(size_type count) { return static_cast<T*>(mi_new_n(count, sizeof(T))); }
  mi_decl_nodiscard T* allocate(size_type count, const void*) { return allocate(count); }
#else
  mi_decl_nodiscard pointer allocate(size_type count, const void* = 0) { return static_cast<pointer>(mi_new_n(count, sizeof(T))); }
#endif
  void deallocate(T* p, size_type) { mi_free(p); }
};

template<class T1, class T2> bool operator==(const mi_stl_allocator<T1>&, const mi_stl_allocator<T2>&) mi_attr_noexcept { return true; }
template<class T1, class T2> bool operator!=(const mi_stl_allocator<T1>&, const mi_stl_allocator<T2>&) mi_attr_noexcept { return false; }

#if (__cplusplus >= 201103L) || (defined(_MSC_VER) && _MSC_VER >= 1900)
#define MI_HAS_HEAP_STL_ALLOCATOR 1

#include <memory>   // std::shared_ptr

// Shared part of the heap allocators: the heap is held by a shared_ptr so all
// rebound copies of one allocator use (and keep alive) the same heap.
// `destroy_heap` selects what happens to a heap the allocator created itself.
template<class T, bool destroy_heap> struct mi_heap_stl_allocator_common : public mi_stl_allocator_common<T> {
  typedef typename mi_stl_allocator_common<T>::size_type size_type;
  using is_always_equal = std::false_type;

  // Use an existing heap; it is neither deleted nor destroyed by the allocator.
  mi_heap_stl_allocator_common(mi_heap_t* existing) : heap(existing, [](mi_heap_t*) {}) { }

#if (__cplusplus >= 201703L)
  mi_decl_nodiscard T* allocate(size_type count) { return static_cast<T*>(mi_heap_alloc_new_n(this->heap.get(), count, sizeof(T))); }
  mi_decl_nodiscard T* allocate(size_type count, const void*) { return allocate(count); }
#else
  mi_decl_nodiscard T* allocate(size_type count, const void* = 0) { return static_cast<T*>(mi_heap_alloc_new_n(this->heap.get(), count, sizeof(T))); }
#endif

  // Release unused memory of the underlying heap.
  void collect(bool force) { mi_heap_collect(this->heap.get(), force); }

  template<class U> bool is_equal(const mi_heap_stl_allocator_common<U, destroy_heap>& other) const {
    return this->heap == other.heap;
  }

protected:
  template<class U, bool D> friend struct mi_heap_stl_allocator_common;
  std::shared_ptr<mi_heap_t> heap;

  // Create a fresh heap, released when the last copy of the allocator goes away.
  mi_heap_stl_allocator_common() : heap(mi_heap_new(), destroy_heap ? &release_by_destroy : &release_by_delete) { }
  mi_heap_stl_allocator_common(const mi_heap_stl_allocator_common& other) mi_attr_noexcept : heap(other.heap) { }
  template<class U> mi_heap_stl_allocator_common(const mi_heap_stl_allocator_common<U, destroy_heap>& other) mi_attr_noexcept : heap(other.heap) { }
  mi_heap_stl_allocator_common& operator=(const mi_heap_stl_allocator_common& other) mi_attr_noexcept { heap = other.heap; return *this; }

private:
  static void release_by_delete(mi_heap_t* h)  { if (h != NULL) { mi_heap_delete(h); } }
  static void release_by_destroy(mi_heap_t* h) { if (h != NULL) { mi_heap_destroy(h); } }
};

template<class T> struct mi_heap_stl_allocator : public mi_heap_stl_allocator_common<T, false> {
  typedef typename mi_heap_stl_allocator_common<T, false>::size_type size_type;
  template<class U> struct rebind { typedef mi_heap_stl_allocator<U> other; };

  mi_heap_stl_allocator() : mi_heap_stl_allocator_common<T, false>() { }
  mi_heap_stl_allocator(mi_heap_t* existing) : mi_heap_stl_allocator_common<T, false>(existing) { }
  template<class U> mi_heap_stl_allocator(const mi_heap_stl_allocator<U>& other) mi_attr_noexcept : mi_heap_stl_allocator_common<T, false>(other) { }

  mi_heap_stl_allocator select_on_container_copy_construction() const { return *this; }
  void deallocate(T* p, size_type) { mi_free(p); }
};

template<class T1, class T2> bool operator==(const mi_heap_stl_allocator<T1>& a, const mi_heap_stl_allocator<T2>& b) mi_attr_noexcept { return a.is_equal(b); }
template<class T1, class T2> bool operator!=(const mi_heap_stl_allocator<T1>& a, const mi_heap_stl_allocator<T2>& b) mi_attr_noexcept { return !a.is_equal(b); }

// Use with care: individual deallocations are no-ops; memory comes back only
// when the heap is destroyed together with the last allocator copy.
template<class T> struct mi_heap_destroy_stl_allocator : public mi_heap_stl_allocator_common<T, true> {
  typedef typename mi_heap_stl_allocator_common<T, true>::size_type size_type;
  template<class U> struct rebind { typedef mi_heap_destroy_stl_allocator<U> other; };

  mi_heap_destroy_stl_allocator() : mi_heap_stl_allocator_common<T, true>() { }
  mi_heap_destroy_stl_allocator(mi_heap_t* existing) : mi_heap_stl_allocator_common<T, true>(existing) { }
  template<class U> mi_heap_destroy_stl_allocator(const mi_heap_destroy_stl_allocator<U>& other) mi_attr_noexcept : mi_heap_stl_allocator_common<T, true>(other) { }

  mi_heap_destroy_stl_allocator select_on_container_copy_construction() const { return *this; }
  void deallocate(T*, size_type) { }
};

template<class T1, class T2> bool operator==(const mi_heap_destroy_stl_allocator<T1>& a, const mi_heap_destroy_stl_allocator<T2>& b) mi_attr_noexcept { return a.is_equal(b); }
template<class T1, class T2> bool operator!=(const mi_heap_destroy_stl_allocator<T1>& a, const mi_heap_destroy_stl_allocator<T2>& b) mi_attr_noexcept { return !a.is_equal(b); }

#endif // C++11

#endif // __cplusplus

#endif // MIMALLOC_H

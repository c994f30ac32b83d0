/* ----------------------------------------------------------------------------
The drop-in override: standard allocation names that forward to this allocator.

Defining `malloc`, `free`, ..., and the C++ `operator new`/`operator delete`
symbols in the library is all it takes on ELF systems:
  - LD_PRELOAD=libmimalloc.so puts our definitions first in the global symbol
    lookup order, so the program, every shared library (libc itself included:
    strdup, getline, fopen, ... call `malloc` through the PLT) and the dynamic
    loader (after relocation) all use them;
  - linking libmimalloc.a or mimalloc.o into an executable makes the
    executable define them, which has the same effect.

What we deliberately leave alone: strdup, strndup, realpath, getcwd and
friends. glibc implements them on top of `malloc`, so they already return our
blocks, and not overriding them keeps glibc's exact behaviour.

This file is compiled into the shared library, the static library and
mimalloc.o. It is empty unless the build asks for the override
(MI_MALLOC_OVERRIDE, CMake option MI_OVERRIDE), and always empty in the
`mimalloc-test` variant (MI_TESTING): the test programs link that variant and
must keep the system allocator for their own malloc calls.

Every exported symbol gets default visibility explicitly, because the library
is built with -fvisibility=hidden. Each definition is a one-line forward to the
`mi_` function; with optimization it compiles to a single jump (through the
PLT in the shared library, unless it is linked with -Bsymbolic-functions).
-----------------------------------------------------------------------------*/
// `malloc`, `free`, `__libc_malloc` and `__libc_free` are the hottest entry
// points: normally they are aliases of `mi_malloc` and `mi_free` defined next
// to those functions (alloc.c, free.c, see MI_OVERRIDE_ALIASES), which saves a
// jump on every call; otherwise they are defined here.

#if !defined(MI_TESTING) && defined(MI_MALLOC_OVERRIDE)

#include "mimalloc/internal.h" // MI_OVERRIDE_ALIASES

#include <stddef.h>

#if defined(__ELF__) && (defined(__GNUC__) || defined(__clang__))

#define mi_override_export __attribute__((visibility("default"), used))

/* ----------------------------------------------------------------------------
Prototypes. We declare everything ourselves instead of including <stdlib.h>
and <malloc.h>, whose glibc versions carry attributes (nonnull, leaf) meant for
callers, and which hide some names depending on feature-test macros. The
signatures are the standard ones.
-----------------------------------------------------------------------------*/

// ISO C
void* malloc(size_t size);
void* calloc(size_t count, size_t size);
void* realloc(void* p, size_t newsize);
void free(void* p);
void* aligned_alloc(size_t alignment, size_t size);

// POSIX, BSD and glibc extensions
int posix_memalign(void** p, size_t alignment, size_t size);
void* memalign(size_t alignment, size_t size);
void* valloc(size_t size);
void* pvalloc(size_t size);
void* reallocarray(void* p, size_t count, size_t size);
int reallocarr(void* p, size_t count, size_t size);
void* reallocf(void* p, size_t newsize);
void cfree(void* p);
void vfree(void* p);
size_t malloc_usable_size(void* p);
size_t malloc_size(const void* p);
size_t malloc_good_size(size_t size);

// glibc's internal entry points, which some programs and libraries call
// directly to get "the real malloc".
void* __libc_malloc(size_t size);
void* __libc_calloc(size_t count, size_t size);
void* __libc_realloc(void* p, size_t newsize);
void __libc_free(void* p);
void __libc_cfree(void* p);
void* __libc_memalign(size_t alignment, size_t size);
void* __libc_valloc(size_t size);
void* __libc_pvalloc(size_t size);
int __posix_memalign(void** p, size_t alignment, size_t size);

/* ----------------------------------------------------------------------------
The C allocation interface
-----------------------------------------------------------------------------*/

#if MI_OVERRIDE_ALIASES
// Referenced by alloc.c and free.c (see mi_override_link_all).
mi_decl_hidden const char _mi_override_all = 1;
#else
mi_override_export void* malloc(size_t size) { return mi_malloc(size); }
mi_override_export void free(void* p) { mi_free(p); }
mi_override_export void* __libc_malloc(size_t size) { return mi_malloc(size); }
mi_override_export void __libc_free(void* p) { mi_free(p); }
#endif
mi_override_export void* calloc(size_t count, size_t size) { return mi_calloc(count, size); }
mi_override_export void* realloc(void* p, size_t newsize) { return mi_realloc(p, newsize); }
mi_override_export void* aligned_alloc(size_t alignment, size_t size) {
  return mi_aligned_alloc(alignment, size);
}

mi_override_export int posix_memalign(void** p, size_t alignment, size_t size) {
  return mi_posix_memalign(p, alignment, size);
}
mi_override_export void* memalign(size_t alignment, size_t size) { return mi_memalign(alignment, size); }
mi_override_export void* valloc(size_t size) { return mi_valloc(size); }
mi_override_export void* pvalloc(size_t size) { return mi_pvalloc(size); }
mi_override_export void* reallocarray(void* p, size_t count, size_t size) {
  return mi_reallocarray(p, count, size);
}
mi_override_export void* reallocf(void* p, size_t newsize) { return mi_reallocf(p, newsize); }
// glibc's cfree (kept for binary compatibility) is plain free.
mi_override_export void cfree(void* p) { mi_free(p); }
mi_override_export void vfree(void* p) { mi_free(p); }
mi_override_export size_t malloc_usable_size(void* p) { return mi_usable_size(p); }
mi_override_export size_t malloc_size(const void* p) { return mi_usable_size(p); }
mi_override_export size_t malloc_good_size(size_t size) { return mi_malloc_good_size(size); }

// NetBSD's reallocarr. Weak, so a C library that has its own definition and
// an executable that links us statically do not clash.
__attribute__((weak)) mi_override_export int reallocarr(void* p, size_t count, size_t size) {
  return mi_reallocarr(p, count, size);
}

#if defined(__GLIBC__) || defined(__linux__)
mi_override_export void* __libc_calloc(size_t count, size_t size) { return mi_calloc(count, size); }
mi_override_export void* __libc_realloc(void* p, size_t newsize) { return mi_realloc(p, newsize); }
mi_override_export void __libc_cfree(void* p) { mi_free(p); }
mi_override_export void* __libc_memalign(size_t alignment, size_t size) {
  return mi_memalign(alignment, size);
}
mi_override_export void* __libc_valloc(size_t size) { return mi_valloc(size); }
mi_override_export void* __libc_pvalloc(size_t size) { return mi_pvalloc(size); }
mi_override_export int __posix_memalign(void** p, size_t alignment, size_t size) {
  return mi_posix_memalign(p, alignment, size);
}
#endif

/* ----------------------------------------------------------------------------
C++ operator new and delete, by their Itanium ABI mangled names.

The file is C, so we define the mangled symbols directly. Parameter mapping:
  std::size_t          -> size_t
  std::align_val_t     -> size_t (an enum class whose underlying type is size_t)
  const std::nothrow_t& -> a pointer (references are passed as pointers); unused

The throwing forms go to mi_new* (new-handler loop, then std::bad_alloc), the
nothrow forms to mi_new*_nothrow (new-handler loop, then NULL). The size and
alignment given to delete are hints we pass on; mi_free works without them.

Mangling encodes std::size_t by its underlying type: `m` (unsigned long) on
LP64 targets, `j` (unsigned int) on 32-bit ones. The definitions below are
written with the LP64 names; on 32-bit targets each name is first #defined to
its `j` spelling so the same definitions produce the right symbols.
-----------------------------------------------------------------------------*/

#if (__SIZEOF_SIZE_T__ == 4)
#define _Znwm _Znwj
#define _Znam _Znaj
#define _ZnwmRKSt9nothrow_t _ZnwjRKSt9nothrow_t
#define _ZnamRKSt9nothrow_t _ZnajRKSt9nothrow_t
#define _ZnwmSt11align_val_t _ZnwjSt11align_val_t
#define _ZnamSt11align_val_t _ZnajSt11align_val_t
#define _ZnwmSt11align_val_tRKSt9nothrow_t _ZnwjSt11align_val_tRKSt9nothrow_t
#define _ZnamSt11align_val_tRKSt9nothrow_t _ZnajSt11align_val_tRKSt9nothrow_t
#define _ZdlPvm _ZdlPvj
#define _ZdaPvm _ZdaPvj
#define _ZdlPvmSt11align_val_t _ZdlPvjSt11align_val_t
#define _ZdaPvmSt11align_val_t _ZdaPvjSt11align_val_t
#elif (__SIZEOF_SIZE_T__ != 8) || (__SIZEOF_LONG__ != 8)
#error "unknown mangling of std::size_t on this target: add the operator new/delete names"
#endif

// operator new / new[]                                  (size)
void* _Znwm(size_t size);
void* _Znam(size_t size);
// operator new / new[] nothrow                          (size, const std::nothrow_t&)
void* _ZnwmRKSt9nothrow_t(size_t size, const void* tag);
void* _ZnamRKSt9nothrow_t(size_t size, const void* tag);
// operator new / new[] aligned (C++17)                  (size, std::align_val_t)
void* _ZnwmSt11align_val_t(size_t size, size_t alignment);
void* _ZnamSt11align_val_t(size_t size, size_t alignment);
// operator new / new[] aligned nothrow (C++17)          (size, std::align_val_t, const std::nothrow_t&)
void* _ZnwmSt11align_val_tRKSt9nothrow_t(size_t size, size_t alignment, const void* tag);
void* _ZnamSt11align_val_tRKSt9nothrow_t(size_t size, size_t alignment, const void* tag);

// operator delete / delete[]                            (ptr)
void _ZdlPv(void* p);
void _ZdaPv(void* p);
// operator delete / delete[] sized (C++14)              (ptr, size)
void _ZdlPvm(void* p, size_t size);
void _ZdaPvm(void* p, size_t size);
// operator delete / delete[] nothrow                    (ptr, const std::nothrow_t&)
void _ZdlPvRKSt9nothrow_t(void* p, const void* tag);
void _ZdaPvRKSt9nothrow_t(void* p, const void* tag);
// operator delete / delete[] aligned (C++17)            (ptr, std::align_val_t)
void _ZdlPvSt11align_val_t(void* p, size_t alignment);
void _ZdaPvSt11align_val_t(void* p, size_t alignment);
// operator delete / delete[] sized aligned (C++17)      (ptr, size, std::align_val_t)
void _ZdlPvmSt11align_val_t(void* p, size_t size, size_t alignment);
void _ZdaPvmSt11align_val_t(void* p, size_t size, size_t alignment);
// operator delete / delete[] aligned nothrow (C++17)    (ptr, std::align_val_t, const std::nothrow_t&)
void _ZdlPvSt11align_val_tRKSt9nothrow_t(void* p, size_t alignment, const void* tag);
void _ZdaPvSt11align_val_tRKSt9nothrow_t(void* p, size_t alignment, const void* tag);

mi_override_export void* _Znwm(size_t size) { return mi_new(size); }
mi_override_export void* _Znam(size_t size) { return mi_new(size); }
mi_override_export void* _ZnwmRKSt9nothrow_t(size_t size, const void* tag) {
  (void)tag;
  return mi_new_nothrow(size);
}
mi_override_export void* _ZnamRKSt9nothrow_t(size_t size, const void* tag) {
  (void)tag;
  return mi_new_nothrow(size);
}
mi_override_export void* _ZnwmSt11align_val_t(size_t size, size_t alignment) {
  return mi_new_aligned(size, alignment);
}
mi_override_export void* _ZnamSt11align_val_t(size_t size, size_t alignment) {
  return mi_new_aligned(size, alignment);
}
mi_override_export void* _ZnwmSt11align_val_tRKSt9nothrow_t(size_t size, size_t alignment, const void* tag) {
  (void)tag;
  return mi_new_aligned_nothrow(size, alignment);
}
mi_override_export void* _ZnamSt11align_val_tRKSt9nothrow_t(size_t size, size_t alignment, const void* tag) {
  (void)tag;
  return mi_new_aligned_nothrow(size, alignment);
}

mi_override_export void _ZdlPv(void* p) { mi_free(p); }
mi_override_export void _ZdaPv(void* p) { mi_free(p); }
mi_override_export void _ZdlPvm(void* p, size_t size) { mi_free_size(p, size); }
mi_override_export void _ZdaPvm(void* p, size_t size) { mi_free_size(p, size); }
mi_override_export void _ZdlPvRKSt9nothrow_t(void* p, const void* tag) {
  (void)tag;
  mi_free(p);
}
mi_override_export void _ZdaPvRKSt9nothrow_t(void* p, const void* tag) {
  (void)tag;
  mi_free(p);
}
mi_override_export void _ZdlPvSt11align_val_t(void* p, size_t alignment) { mi_free_aligned(p, alignment); }
mi_override_export void _ZdaPvSt11align_val_t(void* p, size_t alignment) { mi_free_aligned(p, alignment); }
mi_override_export void _ZdlPvmSt11align_val_t(void* p, size_t size, size_t alignment) {
  mi_free_size_aligned(p, size, alignment);
}
mi_override_export void _ZdaPvmSt11align_val_t(void* p, size_t size, size_t alignment) {
  mi_free_size_aligned(p, size, alignment);
}
mi_override_export void _ZdlPvSt11align_val_tRKSt9nothrow_t(void* p, size_t alignment, const void* tag) {
  (void)tag;
  mi_free_aligned(p, alignment);
}
mi_override_export void _ZdaPvSt11align_val_tRKSt9nothrow_t(void* p, size_t alignment, const void* tag) {
  (void)tag;
  mi_free_aligned(p, alignment);
}

#if (__SIZEOF_SIZE_T__ == 4)
#undef _Znwm
#undef _Znam
#undef _ZnwmRKSt9nothrow_t
#undef _ZnamRKSt9nothrow_t
#undef _ZnwmSt11align_val_t
#undef _ZnamSt11align_val_t
#undef _ZnwmSt11align_val_tRKSt9nothrow_t
#undef _ZnamSt11align_val_tRKSt9nothrow_t
#undef _ZdlPvm
#undef _ZdaPvm
#undef _ZdlPvmSt11align_val_t
#undef _ZdaPvmSt11align_val_t
#endif

#undef mi_override_export

#else
// Not an ELF target with gcc/clang: this layer does not know how to
// interpose there (Windows needs a redirection DLL, macOS interposing
// tables); use the mi_ API or mimalloc-override.h instead.
#endif // ELF and gcc/clang

#else
// No override (test variant, or MI_OVERRIDE=OFF); ISO C wants at least one
// declaration in a translation unit.
typedef int mi_override_disabled_t;
#endif // !MI_TESTING && MI_MALLOC_OVERRIDE

/* ----------------------------------------------------------------------------
C++ `operator new` semantics for C callers and for the override layer.

The C++ standard asks more of a failed `operator new` than "return NULL":
  1. if a new-handler is installed (std::set_new_handler), call it and try
     again; repeat for as long as a handler is installed;
  2. with no handler, the throwing forms throw std::bad_alloc and the
     `nothrow` forms return a null pointer.

This library is written in C and must not depend on libstdc++ (a C program
that preloads us must not drag a C++ runtime into its address space). So we
reach the C++ runtime only through *weak* references to the Itanium C++ ABI
symbols that every C++ program using `operator new` already has loaded:

  _ZSt15get_new_handlerv       std::get_new_handler()
  __cxa_allocate_exception     storage for an exception object
  __cxa_throw                  start unwinding with that object
  _ZTISt9bad_alloc             typeinfo for std::bad_alloc
  _ZTVSt9bad_alloc             vtable for std::bad_alloc
  _ZNSt9bad_allocD1Ev          std::bad_alloc::~bad_alloc()

A weak undefined reference resolves to NULL when no loaded object defines the
symbol, so in a pure C process all of them are NULL: there is never a handler
to call, and a throwing form that still fails reports the problem and aborts
(there is nobody who could catch the exception anyway).

Exceptions thrown here unwind through C frames (this file and the override
wrappers). That needs unwind tables for those frames, which gcc and clang emit
by default on x86-64 and AArch64 Linux; the build also passes -fexceptions to
be sure. No C frame here holds a lock or a resource while a handler runs or an
exception is thrown.

Known limitation: the `nothrow` forms call the new-handler too (as the
standard requires), but a handler that throws from inside a `nothrow` form
cannot be caught here in C; the exception propagates to the caller.

This file may be compiled on its own or included into one translation unit
with the rest of the library; private names carry an `mi_new_` prefix.
-----------------------------------------------------------------------------*/
#include "mimalloc.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h> // abort
#include <string.h> // strlen

#if !defined(_WIN32)
#include <unistd.h> // write
#endif

#if defined(__GNUC__) || defined(__clang__)
#define mi_new_unlikely(x) (__builtin_expect(!!(x), 0))
#else
#define mi_new_unlikely(x) (x)
#endif

/* ----------------------------------------------------------------------------
Weak links into the C++ runtime (Itanium ABI: Linux, BSDs, macOS, MinGW)
-----------------------------------------------------------------------------*/

typedef void (*mi_new_handler_fun_t)(void);

#if (defined(__GNUC__) || defined(__clang__)) && !defined(_MSC_VER)
#define MI_NEW_ITANIUM_ABI 1

// std::new_handler std::get_new_handler() noexcept  (C++11)
extern mi_new_handler_fun_t _ZSt15get_new_handlerv(void) __attribute__((weak));

// void* __cxa_allocate_exception(size_t thrown_size) noexcept
extern void* __cxa_allocate_exception(size_t thrown_size) __attribute__((weak));

// [[noreturn]] void __cxa_throw(void* object, std::type_info* type, void (*destructor)(void*))
extern void __cxa_throw(void* thrown_object, void* type_info, void (*destructor)(void*))
    __attribute__((weak, noreturn));

// The typeinfo object and the vtable of std::bad_alloc. We only ever take
// their addresses, so an opaque array type is enough.
extern char _ZTISt9bad_alloc[] __attribute__((weak));
extern void* _ZTVSt9bad_alloc[] __attribute__((weak));

// std::bad_alloc::~bad_alloc() (the complete-object destructor); `this` is
// passed as the first argument.
extern void _ZNSt9bad_allocD1Ev(void* self) __attribute__((weak));
#else
#define MI_NEW_ITANIUM_ABI 0
#endif

// The currently installed std::new_handler, or NULL (also when no C++
// runtime is loaded).
static mi_new_handler_fun_t mi_new_handler_current(void) {
#if MI_NEW_ITANIUM_ABI
  if (_ZSt15get_new_handlerv != NULL) {
    return _ZSt15get_new_handlerv();
  }
#endif
  return NULL;
}

// Last resort when std::bad_alloc cannot be thrown: say why and abort.
// Uses write(2) directly: stdio may want to allocate, and we are out of memory.
static void mi_new_fatal(const char* reason) __attribute__((noreturn));
static void mi_new_fatal(const char* reason) {
#if !defined(_WIN32)
  static const char prefix[] = "mimalloc: error: ";
  static const char suffix[] = "; aborting\n";
  ssize_t ignored = write(2, prefix, sizeof(prefix) - 1);
  ignored = write(2, reason, strlen(reason));
  ignored = write(2, suffix, sizeof(suffix) - 1);
  (void)ignored;
#else
  (void)reason;
#endif
  abort();
}

// Throw a std::bad_alloc by hand, exactly as a C++ `throw std::bad_alloc()`
// would: allocate the exception object through the runtime, construct it
// (std::bad_alloc holds nothing but its vtable pointer, which points two
// slots into the vtable, past the offset-to-top and typeinfo entries), and
// hand it to __cxa_throw together with its typeinfo and destructor.
static void mi_new_throw_bad_alloc(void) __attribute__((noreturn));
static void mi_new_throw_bad_alloc(void) {
  errno = ENOMEM;
#if MI_NEW_ITANIUM_ABI
  if (__cxa_allocate_exception != NULL && __cxa_throw != NULL && _ZTISt9bad_alloc != NULL &&
      _ZTVSt9bad_alloc != NULL) {
    void** exception_object = (void**)__cxa_allocate_exception(sizeof(void*));
    exception_object[0] = (void*)(&_ZTVSt9bad_alloc[2]);
    void (*destructor)(void*) = (_ZNSt9bad_allocD1Ev != NULL ? &_ZNSt9bad_allocD1Ev : NULL);
    __cxa_throw(exception_object, (void*)_ZTISt9bad_alloc, destructor);
  }
#endif
  mi_new_fatal("out of memory in operator new, and std::bad_alloc cannot be thrown "
               "because no C++ runtime is loaded");
}

// Called after an allocation attempt failed. Runs the installed new-handler
// and returns true when the caller should try again. Without a handler the
// throwing forms (`nothrow == false`) throw std::bad_alloc and the nothrow
// forms get false.
static bool mi_new_failure_should_retry(bool nothrow) {
  const mi_new_handler_fun_t handler = mi_new_handler_current();
  if (handler != NULL) {
    handler(); // may free memory, install another handler, throw, or abort
    return true;
  }
  if (!nothrow) {
    mi_new_throw_bad_alloc();
  }
  return false;
}

// A request that can never succeed (the byte count overflows, or the
// alignment is not a power of two): no handler can fix it, so fail at once.
static void* mi_new_impossible(bool nothrow) {
  if (!nothrow)
    mi_new_throw_bad_alloc();
  errno = ENOMEM;
  return NULL;
}

static inline bool mi_new_mul_overflows(size_t count, size_t size, size_t* total) {
#if defined(__GNUC__) || defined(__clang__)
  return __builtin_mul_overflow(count, size, total);
#else
  *total = count * size;
  return (size != 0 && count > SIZE_MAX / size);
#endif
}

static inline bool mi_new_alignment_is_valid(size_t alignment) {
  return (alignment != 0 && (alignment & (alignment - 1)) == 0);
}

/* ----------------------------------------------------------------------------
Slow paths: only reached after a first attempt returned NULL
-----------------------------------------------------------------------------*/

static mi_decl_noinline void* mi_new_malloc_retry(size_t size, bool nothrow) {
  void* block = NULL;
  while (block == NULL && mi_new_failure_should_retry(nothrow)) {
    block = mi_malloc(size);
  }
  return block;
}

static mi_decl_noinline void* mi_new_aligned_retry(size_t size, size_t alignment, bool nothrow) {
  if (!mi_new_alignment_is_valid(alignment))
    return mi_new_impossible(nothrow);
  void* block = NULL;
  while (block == NULL && mi_new_failure_should_retry(nothrow)) {
    block = mi_malloc_aligned(size, alignment);
  }
  return block;
}

static mi_decl_noinline void* mi_new_realloc_retry(void* p, size_t newsize) {
  // The old block stays valid while we retry, and also if we end up throwing.
  void* block = NULL;
  while (block == NULL && mi_new_failure_should_retry(false)) {
    block = mi_realloc(p, newsize);
  }
  return block;
}

static mi_decl_noinline void* mi_new_heap_retry(mi_heap_t* heap, size_t size) {
  void* block = NULL;
  while (block == NULL && mi_new_failure_should_retry(false)) {
    block = mi_heap_malloc(heap, size);
  }
  return block;
}

/* ----------------------------------------------------------------------------
Public entry points
-----------------------------------------------------------------------------*/

void* mi_new(size_t size) {
  void* block = mi_malloc(size);
  if (mi_new_unlikely(block == NULL))
    return mi_new_malloc_retry(size, false);
  return block;
}

void* mi_new_nothrow(size_t size) mi_attr_noexcept {
  void* block = mi_malloc(size);
  if (mi_new_unlikely(block == NULL))
    return mi_new_malloc_retry(size, true);
  return block;
}

void* mi_new_aligned(size_t size, size_t alignment) {
  void* block = mi_malloc_aligned(size, alignment);
  if (mi_new_unlikely(block == NULL))
    return mi_new_aligned_retry(size, alignment, false);
  return block;
}

void* mi_new_aligned_nothrow(size_t size, size_t alignment) mi_attr_noexcept {
  void* block = mi_malloc_aligned(size, alignment);
  if (mi_new_unlikely(block == NULL))
    return mi_new_aligned_retry(size, alignment, true);
  return block;
}

// `count` objects of `size` bytes; an overflowing product throws at once.
void* mi_new_n(size_t count, size_t size) {
  size_t total;
  if (mi_new_unlikely(mi_new_mul_overflows(count, size, &total)))
    return mi_new_impossible(false);
  return mi_new(total);
}

void* mi_new_realloc(void* p, size_t newsize) {
  void* block = mi_realloc(p, newsize);
  if (mi_new_unlikely(block == NULL))
    return mi_new_realloc_retry(p, newsize);
  return block;
}

void* mi_new_reallocn(void* p, size_t newcount, size_t size) {
  size_t total;
  if (mi_new_unlikely(mi_new_mul_overflows(newcount, size, &total)))
    return mi_new_impossible(false);
  return mi_new_realloc(p, total);
}

// `new` semantics on an explicit heap (used by mi_heap_stl_allocator).
void* mi_heap_alloc_new(mi_heap_t* heap, size_t size) {
  void* block = mi_heap_malloc(heap, size);
  if (mi_new_unlikely(block == NULL))
    return mi_new_heap_retry(heap, size);
  return block;
}

void* mi_heap_alloc_new_n(mi_heap_t* heap, size_t count, size_t size) {
  size_t total;
  if (mi_new_unlikely(mi_new_mul_overflows(count, size, &total)))
    return mi_new_impossible(false);
  return mi_heap_alloc_new(heap, total);
}

#undef mi_new_unlikely
#undef MI_NEW_ITANIUM_ABI

/* ----------------------------------------------------------------------------
mimalloc-new-delete.h -- replace the global C++ operator new and delete.

Include this header in exactly ONE C++ translation unit of a program (the
definitions are ordinary, non-inline functions, as the C++ standard requires
for replacement allocation functions; a second inclusion would define them
twice). Every replaceable form is covered: plain, array, nothrow, sized
(C++14) and aligned (C++17), each routed to the matching mi_new* / mi_free*
entry point.

Not needed when the whole process is overridden through LD_PRELOAD or by
linking the static library / object file, which already replace these
operators; it helps when linking the shared library without preloading it.
Written for this project; see LICENSE (MIT).
-----------------------------------------------------------------------------*/
#pragma once
#ifndef MIMALLOC_NEW_DELETE_H
#define MIMALLOC_NEW_DELETE_H

#if defined(__cplusplus)

#include <new>
#include "mimalloc.h"

// ---- allocation -------------------------------------------------------------
// Throwing forms: mi_new* call the new-handler and throw std::bad_alloc.
void* operator new  (std::size_t size) noexcept(false) { return mi_new(size); }
void* operator new[](std::size_t size) noexcept(false) { return mi_new(size); }

// nothrow forms return nullptr on failure.
void* operator new  (std::size_t size, const std::nothrow_t&) noexcept { return mi_new_nothrow(size); }
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept { return mi_new_nothrow(size); }

// ---- deallocation -----------------------------------------------------------
void operator delete  (void* p) noexcept { mi_free(p); }
void operator delete[](void* p) noexcept { mi_free(p); }

void operator delete  (void* p, const std::nothrow_t&) noexcept { mi_free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { mi_free(p); }

#if (__cplusplus >= 201402L) || (defined(_MSC_VER) && _MSC_VER >= 1916)
// Sized deallocation (C++14): the size is a hint the allocator may check.
void operator delete  (void* p, std::size_t size) noexcept { mi_free_size(p, size); }
void operator delete[](void* p, std::size_t size) noexcept { mi_free_size(p, size); }
#endif

#if (__cplusplus > 201402L) || defined(__cpp_aligned_new)
// ---- over-aligned types (C++17) -----------------------------------------------
void* operator new  (std::size_t size, std::align_val_t alignment) noexcept(false) {
  return mi_new_aligned(size, static_cast<std::size_t>(alignment));
}
void* operator new[](std::size_t size, std::align_val_t alignment) noexcept(false) {
  return mi_new_aligned(size, static_cast<std::size_t>(alignment));
}
void* operator new  (std::size_t size, std::align_val_t alignment, const std::nothrow_t&) noexcept {
  return mi_new_aligned_nothrow(size, static_cast<std::size_t>(alignment));
}
void* operator new[](std::size_t size, std::align_val_t alignment, const std::nothrow_t&) noexcept {
  return mi_new_aligned_nothrow(size, static_cast<std::size_t>(alignment));
}

void operator delete  (void* p, std::align_val_t alignment) noexcept {
  mi_free_aligned(p, static_cast<std::size_t>(alignment));
}
void operator delete[](void* p, std::align_val_t alignment) noexcept {
  mi_free_aligned(p, static_cast<std::size_t>(alignment));
}
void operator delete  (void* p, std::size_t size, std::align_val_t alignment) noexcept {
  mi_free_size_aligned(p, size, static_cast<std::size_t>(alignment));
}
void operator delete[](void* p, std::size_t size, std::align_val_t alignment) noexcept {
  mi_free_size_aligned(p, size, static_cast<std::size_t>(alignment));
}
void operator delete  (void* p, std::align_val_t alignment, const std::nothrow_t&) noexcept {
  mi_free_aligned(p, static_cast<std::size_t>(alignment));
}
void operator delete[](void* p, std::align_val_t alignment, const std::nothrow_t&) noexcept {
  mi_free_aligned(p, static_cast<std::size_t>(alignment));
}
#endif

#endif // __cplusplus

#endif // MIMALLOC_NEW_DELETE_H

/* ----------------------------------------------------------------------------
Copyright (c) 2026 The project authors. MIT license, see LICENSE.

The one place where atomic operations are spelled out. Every other file goes
through these wrappers, and every wrapper names its memory order, so a reader
of a call site sees the ordering without looking it up.

Shared fields are declared as plain integer or pointer types and accessed with
the compiler's __atomic builtins. That keeps a non-atomic access a visible data
race for ThreadSanitizer (the legacy ownership build relies on that) instead of
a silently sequentially-consistent access to an _Atomic object.

Rule for callers: a relaxed operation needs no comment; every acquire, release
or acq_rel operation carries a one-line comment naming the access it pairs with.
-----------------------------------------------------------------------------*/
#pragma once
#ifndef MIMALLOC_ATOMIC_H
#define MIMALLOC_ATOMIC_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#if !defined(__GNUC__) && !defined(__clang__)
#error "mimalloc: the atomic wrappers need gcc or clang __atomic builtins"
#endif

// Loads
#define mi_atomic_load_relaxed(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define mi_atomic_load_acquire(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)

// Stores
#define mi_atomic_store_relaxed(p, x) __atomic_store_n((p), (x), __ATOMIC_RELAXED)
#define mi_atomic_store_release(p, x) __atomic_store_n((p), (x), __ATOMIC_RELEASE)

// Read-modify-write; each returns the previous value.
#define mi_atomic_add_relaxed(p, x) __atomic_fetch_add((p), (x), __ATOMIC_RELAXED)
#define mi_atomic_sub_relaxed(p, x) __atomic_fetch_sub((p), (x), __ATOMIC_RELAXED)
#define mi_atomic_add_release(p, x) __atomic_fetch_add((p), (x), __ATOMIC_RELEASE)
#define mi_atomic_add_acq_rel(p, x) __atomic_fetch_add((p), (x), __ATOMIC_ACQ_REL)
#define mi_atomic_sub_acq_rel(p, x) __atomic_fetch_sub((p), (x), __ATOMIC_ACQ_REL)
#define mi_atomic_or_relaxed(p, x) __atomic_fetch_or((p), (x), __ATOMIC_RELAXED)
#define mi_atomic_or_acq_rel(p, x) __atomic_fetch_or((p), (x), __ATOMIC_ACQ_REL)
#define mi_atomic_and_relaxed(p, x) __atomic_fetch_and((p), (x), __ATOMIC_RELAXED)
#define mi_atomic_exchange_relaxed(p, x) __atomic_exchange_n((p), (x), __ATOMIC_RELAXED)
#define mi_atomic_exchange_acquire(p, x) __atomic_exchange_n((p), (x), __ATOMIC_ACQUIRE)
#define mi_atomic_exchange_acq_rel(p, x) __atomic_exchange_n((p), (x), __ATOMIC_ACQ_REL)

// Compare-and-swap: on failure `*expected` receives the current value.
// The failure order is the strongest one allowed that is not stronger than the
// success order (release fails relaxed, acq_rel fails acquire).
#define mi_atomic_cas_weak_release(p, expected, desired)                                                     \
  __atomic_compare_exchange_n((p), (expected), (desired), true, __ATOMIC_RELEASE, __ATOMIC_RELAXED)
#define mi_atomic_cas_weak_acq_rel(p, expected, desired)                                                     \
  __atomic_compare_exchange_n((p), (expected), (desired), true, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)
#define mi_atomic_cas_strong_acq_rel(p, expected, desired)                                                   \
  __atomic_compare_exchange_n((p), (expected), (desired), false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)
#define mi_atomic_cas_strong_acquire(p, expected, desired)                                                   \
  __atomic_compare_exchange_n((p), (expected), (desired), false, __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE)

// Fences
#define mi_atomic_fence_acq_rel() __atomic_thread_fence(__ATOMIC_ACQ_REL)

// Busy-wait hint for short spins.
static inline void mi_atomic_spin_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ volatile("yield" ::: "memory");
#endif
}

#endif

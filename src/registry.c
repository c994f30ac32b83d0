/* ----------------------------------------------------------------------------
Copyright (c) 2026 The project authors. MIT license, see LICENSE.

The registry: what mimalloc-inspect (tools/inspect/) needs to account for a
process's heap from a core dump or from outside the process, without debug
information. Every segment carries a magic value, the layout version and a
pointer to this registry; the registry holds the process cookie (to validate
segments), the default sub-process (its abandoned set), the segment cache
and the list of live threads with their owner ids and kernel thread ids.
Nothing here is on a fast path: threads register once at set-up and leave at
exit, segments are stamped when made and unstamped when freed.
-----------------------------------------------------------------------------*/
#include "mimalloc/internal.h"

mi_decl_export mi_registry_t _mi_registry = {
    .magic = MI_REGISTRY_MAGIC,
    .layout_version = MI_LAYOUT_VERSION,
    .segment_size_of = sizeof(mi_segment_t),
    .page_size_of = sizeof(mi_page_t),
    .heap_size_of = sizeof(mi_heap_t),
    .tld_size_of = sizeof(mi_tld_t),
    .subproc_size_of = sizeof(mi_subproc_t),
    .visitor_id = MI_THREAD_ID_VISITOR,
};

// From mi_process_init, once the process cookie is known.
void _mi_registry_init(void) {
  _mi_registry.process_cookie = _mi_process_cookie;
  _mi_registry.subproc_main = _mi_subproc_main();
  _mi_registry.segment_cache = _mi_segment_cache_entries();
}

// ---------------------------------------------------------------------------
// Live threads
// ---------------------------------------------------------------------------
void _mi_registry_thread_add(mi_tld_t* tld) {
  tld->os_tid = _mi_prim_thread_os_id();
  _mi_prim_lock(&_mi_registry.threads_lock);
  tld->registry_prev = NULL;
  tld->registry_next = _mi_registry.threads;
  if (_mi_registry.threads != NULL)
    _mi_registry.threads->registry_prev = tld;
  _mi_registry.threads = tld;
  _mi_registry.thread_count++;
  _mi_prim_unlock(&_mi_registry.threads_lock);
}

// At thread exit, after the thread's segments are abandoned or freed.
void _mi_registry_thread_remove(mi_tld_t* tld) {
  _mi_prim_lock(&_mi_registry.threads_lock);
  mi_assert_internal(_mi_registry.thread_count > 0);
  if (tld->registry_prev != NULL)
    tld->registry_prev->registry_next = tld->registry_next;
  else
    _mi_registry.threads = tld->registry_next;
  if (tld->registry_next != NULL)
    tld->registry_next->registry_prev = tld->registry_prev;
  tld->registry_next = tld->registry_prev = NULL;
  _mi_registry.thread_count--;
  _mi_prim_unlock(&_mi_registry.threads_lock);
}

void _mi_registry_lock_for_fork(void) { _mi_prim_lock(&_mi_registry.threads_lock); }
void _mi_registry_unlock_after_fork(void) { _mi_prim_unlock(&_mi_registry.threads_lock); }

// ---------------------------------------------------------------------------
// Segments
// ---------------------------------------------------------------------------
void _mi_registry_segment_init(mi_segment_t* segment) {
  segment->layout_version = MI_LAYOUT_VERSION;
  segment->header_size = (uint32_t)sizeof(mi_segment_t);
  segment->registry = &_mi_registry;
  segment->magic = MI_SEGMENT_MAGIC;
}

// A freed segment's memory may stay mapped (segment cache, arenas): without
// its magic it can no longer be mistaken for a segment in use.
void _mi_registry_segment_done(mi_segment_t* segment) { segment->magic = 0; }

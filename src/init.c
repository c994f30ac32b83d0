/* ----------------------------------------------------------------------------
Copyright (c) 2026 The project authors. MIT license, see LICENSE.

Process and thread initialisation and teardown. Every thread starts with the
shared, read-only empty heap as its default; its first allocation goes down
the generic path, which sets up the thread's own heap lazily. A pthread key
destructor tears the heap down when the thread exits.
-----------------------------------------------------------------------------*/
#include <string.h>
#include "mimalloc/internal.h"

// The empty page: no free blocks, so every allocation through it takes the generic path.
mi_decl_hidden const mi_page_t _mi_page_empty;

#define MI_DIRECT_EMPTY [0 ... MI_PAGES_DIRECT - 1] = (mi_page_t*)&_mi_page_empty

// The default heap of a thread that has not allocated yet. Never written.
mi_decl_hidden mi_heap_t _mi_heap_empty = {
    .tld = NULL,
    .page_retired_min = MI_BIN_FULL,
    .pages_free_direct = {MI_DIRECT_EMPTY},
};

mi_decl_thread_local mi_heap_t* _mi_heap_default = &_mi_heap_empty;

// The calling thread's id (see internal.h); MI_THREAD_ID_NONE until the thread sets up its heap.
mi_decl_thread_local uintptr_t _mi_thread_id_value = MI_THREAD_ID_NONE;
static uintptr_t mi_thread_id_next = MI_THREAD_ID_FIRST; // atomic

void _mi_thread_id_ensure(void) {
  if (_mi_thread_id_value != MI_THREAD_ID_NONE)
    return;
  // Relaxed: the add only has to hand out distinct values; nothing is published with it.
  uintptr_t id;
  do {
    id = mi_atomic_add_relaxed(&mi_thread_id_next, 1);
  } while (id < MI_THREAD_ID_FIRST); // skips the reserved values should a 32-bit counter wrap
  _mi_thread_id_value = id;
}

// The main thread's heap and thread data are static: the main thread can
// allocate before (and after) anything else is set up.
static mi_tld_t mi_tld_main;
mi_decl_hidden mi_heap_t _mi_heap_main;
mi_decl_hidden uintptr_t _mi_process_cookie;
mi_decl_hidden bool _mi_process_is_initialized;
static uintptr_t mi_main_thread_id;
static mi_msecs_t mi_process_start;

mi_msecs_t _mi_process_elapsed(void) {
  return (mi_process_start == 0 ? 0 : _mi_clock_now() - mi_process_start);
}

bool _mi_is_main_thread(void) { return (mi_main_thread_id == 0 || mi_main_thread_id == _mi_thread_id()); }

// ---------------------------------------------------------------------------
// Thread data of other threads: OS memory, with a small cache so that
// short-lived threads do not map and unmap every time.
// ---------------------------------------------------------------------------
typedef struct mi_thread_data_s {
  mi_heap_t heap;
  mi_tld_t tld;
} mi_thread_data_t;

#define MI_THREAD_DATA_CACHE (16)
static mi_thread_data_t* mi_thread_data_cache[MI_THREAD_DATA_CACHE]; // guarded by mi_thread_data_lock
static mi_lock_t mi_thread_data_lock;

static mi_thread_data_t* mi_thread_data_alloc(void) {
  mi_thread_data_t* td = NULL;
  _mi_prim_lock(&mi_thread_data_lock);
  for (size_t i = 0; i < MI_THREAD_DATA_CACHE; i++) {
    if (mi_thread_data_cache[i] != NULL) {
      td = mi_thread_data_cache[i];
      mi_thread_data_cache[i] = NULL;
      break;
    }
  }
  _mi_prim_unlock(&mi_thread_data_lock);
  if (td != NULL) {
    memset(td, 0, sizeof(*td));
    return td;
  }
  void* base;
  size_t mapped;
  td = (mi_thread_data_t*)_mi_os_alloc_aligned(sizeof(mi_thread_data_t), _mi_os_page_size(), 0, &base,
                                               &mapped, &_mi_stats_main);
  if (td == NULL)
    _mi_error_message(ENOMEM, "unable to allocate thread local heap metadata\n");
  return td; // fresh OS memory is zero
}

static void mi_thread_data_free(mi_thread_data_t* td) {
  _mi_prim_lock(&mi_thread_data_lock);
  for (size_t i = 0; i < MI_THREAD_DATA_CACHE; i++) {
    if (mi_thread_data_cache[i] == NULL) {
      mi_thread_data_cache[i] = td;
      td = NULL;
      break;
    }
  }
  _mi_prim_unlock(&mi_thread_data_lock);
  if (td != NULL)
    _mi_os_free(td, _mi_align_up(sizeof(mi_thread_data_t), _mi_os_page_size()), &_mi_stats_main);
}

static void mi_tld_init(mi_tld_t* tld, mi_heap_t* heap) {
  tld->thread_ident = _mi_thread_id();
  tld->heap_backing = heap;
  tld->heaps = NULL;
  tld->segments.stats = &tld->stats;
  tld->segments.subproc = _mi_subproc_main();
  tld->stats.version = MI_STAT_VERSION;
  for (size_t i = 0; i <= MI_SEGMENT_BIN_MAX; i++)
    tld->segments.spans[i].slice_count = i;
}

// ---------------------------------------------------------------------------
// Thread init and done
// ---------------------------------------------------------------------------
void _mi_heap_set_default_direct(mi_heap_t* heap) {
  _mi_heap_default = heap;
  // Keep the backing heap registered for the thread-exit destructor.
  if (mi_heap_is_initialized(heap))
    _mi_prim_thread_associate_default_heap(heap->tld->heap_backing);
}

static bool mi_main_heap_in_use;

void _mi_thread_ensure_initialized(void) {
  if (mi_heap_is_initialized(_mi_heap_default))
    return;
  mi_process_init();
  _mi_thread_id_ensure();
  mi_heap_t* heap;
  mi_tld_t* tld;
  if (_mi_is_main_thread() && !mi_main_heap_in_use) {
    mi_main_heap_in_use = true;
    heap = &_mi_heap_main;
    tld = &mi_tld_main;
    memset(tld, 0, sizeof(*tld));
  } else {
    mi_thread_data_t* td = mi_thread_data_alloc();
    if (td == NULL)
      return;
    heap = &td->heap;
    tld = &td->tld;
  }
  mi_tld_init(tld, heap);
  _mi_heap_init(heap, tld, 0, false, 0);
  _mi_registry_thread_add(tld);
  mi_stat_increase(tld->stats.threads, 1);
  _mi_heap_set_default_direct(heap);
}

void mi_thread_init(void) mi_attr_noexcept { _mi_thread_ensure_initialized(); }

// Tear down the heaps of the thread that owns `heap`.
static void mi_thread_heaps_done(mi_heap_t* backing) {
  mi_tld_t* tld = backing->tld;
  if (tld == NULL || tld->thread_ident != _mi_thread_id())
    return; // not ours
  // Other heaps of the thread hand their pages to the backing heap first.
  mi_heap_t* heap = tld->heaps;
  while (heap != NULL) {
    mi_heap_t* next = heap->next;
    if (heap != backing)
      mi_heap_delete(heap);
    heap = next;
  }
  _mi_heap_collect_abandon(backing);
  _mi_segments_collect(false, &tld->segments);
  mi_stat_decrease(tld->stats.threads, 1);
  _mi_stats_done(&tld->stats);
  _mi_registry_thread_remove(tld); // its segments are abandoned or freed by now
  _mi_heap_default = &_mi_heap_empty;
  _mi_prim_thread_associate_default_heap(NULL);
  if (backing == &_mi_heap_main) {
    mi_main_heap_in_use = false;
  } else {
    mi_thread_data_free((mi_thread_data_t*)((uint8_t*)backing - offsetof(mi_thread_data_t, heap)));
  }
}

// The pthread key destructor.
static void mi_thread_done_key(void* value) {
  if (value != NULL)
    mi_thread_heaps_done((mi_heap_t*)value);
}

void mi_thread_done(void) mi_attr_noexcept {
  mi_heap_t* heap = _mi_heap_default;
  if (mi_heap_is_initialized(heap))
    mi_thread_heaps_done(heap->tld->heap_backing);
}

#if MI_TESTING
// Test builds: drop the thread's heap the way a thread whose exit hook never
// runs leaves it (its segments stay owned by its id).
void _mi_thread_forget(void) {
  _mi_heap_default = &_mi_heap_empty;
  _mi_prim_thread_associate_default_heap(NULL);
}
#endif

void mi_thread_set_in_threadpool(void) mi_attr_noexcept {
  // Threads in a pool live long; nothing to change in this design.
}

// ---------------------------------------------------------------------------
// fork: no lock of ours may be held across fork(), or the child deadlocks.
// ---------------------------------------------------------------------------
static void mi_fork_prepare(void) {
  _mi_prim_lock(&mi_thread_data_lock);
  _mi_abandoned_lock_for_fork();
  _mi_segment_cache_lock_for_fork();
  _mi_registry_lock_for_fork();
}

static void mi_fork_after(void) {
  _mi_registry_unlock_after_fork();
  _mi_segment_cache_unlock_after_fork();
  _mi_abandoned_unlock_after_fork();
  _mi_prim_unlock(&mi_thread_data_lock);
}

// ---------------------------------------------------------------------------
// Process init and done
// ---------------------------------------------------------------------------

void mi_process_init(void) mi_attr_noexcept {
  if (_mi_process_is_initialized)
    return;
  _mi_process_is_initialized = true;
  _mi_os_init();
  _mi_thread_id_ensure();
  mi_main_thread_id = _mi_thread_id();
  mi_process_start = _mi_clock_now();
  _mi_process_cookie = (uintptr_t)_mi_prim_random_seed() | 1;
  _mi_registry_init();
  _mi_options_init(); // prints the version and the options when verbose
  _mi_arenas_init();  // reservations the options ask for
  _mi_prim_thread_init_auto_done(&mi_thread_done_key);
  _mi_prim_at_fork(&mi_fork_prepare, &mi_fork_after, &mi_fork_after);
  _mi_thread_ensure_initialized();
}

static bool mi_process_is_done;

void mi_process_done(void) mi_attr_noexcept {
  if (!_mi_process_is_initialized || mi_process_is_done)
    return;
  mi_process_is_done = true;
  mi_heap_t* heap = _mi_heap_default;
#if !defined(MI_SKIP_COLLECT_ON_EXIT) && (MI_DEBUG > 0 || !defined(MI_SHARED_LIB))
  // A static copy may live in a shared object that is unloaded and loaded
  // again; debug builds want the statistics at exit to show what leaked.
  const bool collect = true;
#else
  const bool collect = mi_option_is_enabled(mi_option_destroy_on_exit);
#endif
  if (collect && mi_heap_is_initialized(heap))
    mi_collect(true);
  if (mi_option_is_enabled(mi_option_show_stats) || mi_option_is_enabled(mi_option_verbose)) {
    mi_stats_print(NULL);
  }
  _mi_verbose_message("process done: %lld ms\n", (long long)(_mi_clock_now() - mi_process_start));
}

static void __attribute__((constructor(101))) mi_process_load(void) { mi_process_init(); }
static void __attribute__((destructor(101))) mi_process_unload(void) { mi_process_done(); }

// ---------------------------------------------------------------------------
// Version and small queries
// ---------------------------------------------------------------------------
int mi_version(void) mi_attr_noexcept { return MI_MALLOC_VERSION; }

bool mi_is_redirected(void) mi_attr_noexcept { return false; }

bool mi_is_in_heap_region(const void* p) mi_attr_noexcept {
  if (p == NULL)
    return false;
  return _mi_segment_map_contains(_mi_ptr_segment(p));
}

/* ----------------------------------------------------------------------------
Copyright (c) 2026 The project authors. MIT license, see LICENSE.

The heap walk. Segments are found by scanning every segment-aligned address
of the target's memory for a header with the segment magic, this build's
layout version and header size, and a cookie that matches the registry's
process cookie. The registry (found through the first segment) lists the
live threads; their heaps hold the delayed-free lists.

A page's live blocks are exact: `used` counts the blocks handed out,
including those other threads freed onto the owning heap's delayed-free list,
less the counts of remote frees the owner has taken; the remote frees whose
count it has not taken yet are `xthread_freed` (pending), so

  live = used - pending - |delayed blocks of the page|

and `capacity == used - pending + |free| + |local_free| + |thread_free|` must
hold (a remote free adds its count just after its push: a process stopped
between the two shows one block too few). Every free-list
link is checked to be a block of its page, and each block may be on at most
one list; violations are collected, never fatal.
-----------------------------------------------------------------------------*/
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "inspect.h"
#include "mimalloc/ownership.h" // the owner of a copied segment header

// The layout facts this walk relies on beyond the structs themselves.
_Static_assert(offsetof(mi_segment_t, layout_version) == 8 && offsetof(mi_segment_t, header_size) == 12 &&
                   offsetof(mi_segment_t, registry) == 16,
               "the scan reads a segment's first 24 bytes as magic, layout version, header size, registry");
_Static_assert(MI_SEGMENT_SIZE == MI_SEGMENT_ALIGN, "segments start at every multiple of their size");
_Static_assert(MI_PAGE_BLOCKS_MAX* MI_MAX_ALIGN_SIZE <= 1 * MI_MiB,
               "small and medium pages fit the page buffer");

#define MI_MAX_VIOLATIONS (1000)
#define MI_PAGE_BUFFER_MAX (1 * MI_MiB) // small and medium pages are read in one piece
#define MI_LIST_STEPS_MAX ((size_t)1 << 26)
#define MI_PAGE_BITS_MAX (2 * MI_PAGE_BLOCKS_MAX) // blocks of a page the walk can track (8-byte blocks)

typedef struct mi_thread_info_s {
  uint64_t id;
  uint64_t os_tid;
  uint64_t tld_address;
} mi_thread_info_t;

// What the cross-checks need of each segment found.
typedef struct mi_segment_info_s {
  uint64_t address;
  uint64_t owner_id;
  uint64_t subproc;
  bool in_abandoned_set; // the segment's own flag
  bool listed;           // reached by walking an abandoned set
} mi_segment_info_t;

typedef struct mi_walk_s {
  mi_target_t* target;
  mi_inspection_t* result;
  mi_registry_t registry;
  mi_thread_info_t* threads;
  size_t thread_count;
  uint64_t* heaps; // sorted
  size_t heap_count;
  uint64_t* delayed; // sorted addresses of blocks on heaps' delayed-free lists
  size_t delayed_count;
  mi_segment_info_t* segments;
  size_t segment_count;
  mi_segment_t* header; // the segment being walked (a copy)
  uint8_t* page_buffer; // the memory of the page being walked
  uint64_t* bits;       // blocks of the page seen on a list
  bool out_of_memory;
} mi_walk_t;

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------
const char* mi_page_kind_name(mi_page_kind_t kind) {
  static const char* names[] = {"small", "medium", "large", "huge"};
  return (kind < MI_KIND_COUNT ? names[kind] : "?");
}

const char* mi_owner_kind_name(mi_owner_kind_t kind) {
  static const char* names[] = {"thread", "abandoned", "visiting", "unknown", "cached"};
  return names[kind];
}

static void* mi_grow(mi_walk_t* w, void* array, size_t count, size_t elem) {
  // Arrays grow by doubling at powers of two.
  if (count != 0 && (count & (count - 1)) != 0)
    return array;
  void* grown = realloc(array, (count == 0 ? 8 : count * 2) * elem);
  if (grown == NULL)
    w->out_of_memory = true;
  return grown;
}

static void mi_violation(mi_walk_t* w, const char* kind, uint64_t address, uint64_t page, uint64_t segment,
                         const char* fmt, ...) __attribute__((format(printf, 6, 7)));

static void mi_violation(mi_walk_t* w, const char* kind, uint64_t address, uint64_t page, uint64_t segment,
                         const char* fmt, ...) {
  mi_inspection_t* r = w->result;
  if (r->violation_count >= MI_MAX_VIOLATIONS) {
    r->violations_dropped++;
    return;
  }
  mi_violation_t* grown = mi_grow(w, r->violations, r->violation_count, sizeof(mi_violation_t));
  if (grown == NULL)
    return;
  r->violations = grown;
  mi_violation_t* v = &r->violations[r->violation_count++];
  v->kind = kind;
  v->address = address;
  v->page = page;
  v->segment = segment;
  va_list args;
  va_start(args, fmt);
  vsnprintf(v->detail, sizeof(v->detail), fmt, args);
  va_end(args);
}

static int mi_compare_u64(const void* a, const void* b) {
  uint64_t x = *(const uint64_t*)a, y = *(const uint64_t*)b;
  return (x < y ? -1 : x > y);
}

// Index of the first element >= key in a sorted array.
static size_t mi_lower_bound(const uint64_t* array, size_t count, uint64_t key) {
  size_t lo = 0, hi = count;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (array[mid] < key)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

static bool mi_sorted_contains(const uint64_t* array, size_t count, uint64_t key) {
  size_t i = mi_lower_bound(array, count, key);
  return (i < count && array[i] == key);
}

static mi_page_kind_t mi_page_kind_of(size_t block_size, bool huge_segment) {
  if (huge_segment || block_size > MI_LARGE_OBJ_SIZE_MAX)
    return MI_KIND_HUGE;
  if (block_size <= MI_SMALL_OBJ_SIZE_MAX)
    return MI_KIND_SMALL;
  if (block_size <= MI_MEDIUM_OBJ_SIZE_MAX)
    return MI_KIND_MEDIUM;
  return MI_KIND_LARGE;
}

static size_t mi_owner_index(mi_walk_t* w, mi_owner_kind_t kind, uint64_t id, uint64_t os_tid) {
  mi_inspection_t* r = w->result;
  for (size_t i = 0; i < r->owner_count; i++) {
    if (r->owners[i].kind == kind && r->owners[i].id == id)
      return i;
  }
  mi_owner_t* grown = mi_grow(w, r->owners, r->owner_count, sizeof(mi_owner_t));
  if (grown == NULL)
    return SIZE_MAX;
  r->owners = grown;
  mi_owner_t* owner = &r->owners[r->owner_count];
  memset(owner, 0, sizeof(*owner));
  owner->kind = kind;
  owner->id = id;
  owner->os_tid = os_tid;
  return r->owner_count++;
}

static mi_class_t* mi_class_of(mi_walk_t* w, size_t block_size, mi_page_kind_t kind) {
  mi_inspection_t* r = w->result;
  for (size_t i = r->class_count; i > 0; i--) {
    if (r->classes[i - 1].block_size == block_size && r->classes[i - 1].kind == kind)
      return &r->classes[i - 1];
  }
  mi_class_t* grown = mi_grow(w, r->classes, r->class_count, sizeof(mi_class_t));
  if (grown == NULL)
    return NULL;
  r->classes = grown;
  mi_class_t* c = &r->classes[r->class_count++];
  memset(c, 0, sizeof(*c));
  c->block_size = block_size;
  c->kind = kind;
  return c;
}

static void mi_usage_add(mi_usage_t* to, const mi_usage_t* add) {
  to->segments += add->segments;
  to->pages += add->pages;
  to->live_blocks += add->live_blocks;
  to->live_bytes += add->live_bytes;
  to->free_blocks += add->free_blocks;
  to->committed_bytes += add->committed_bytes;
}

static void mi_largest_offer(mi_inspection_t* r, uint64_t address, uint64_t size, size_t owner) {
  size_t n = r->largest_count;
  if (n == MI_LARGEST_COUNT && size <= r->largest[n - 1].size)
    return;
  size_t at = (n < MI_LARGEST_COUNT ? n : n - 1);
  while (at > 0 && r->largest[at - 1].size < size) {
    r->largest[at] = r->largest[at - 1];
    at--;
  }
  r->largest[at] = (mi_block_info_t){address, size, owner};
  if (n < MI_LARGEST_COUNT)
    r->largest_count++;
}

// ---------------------------------------------------------------------------
// The registry: live threads, their heaps and delayed-free lists
// ---------------------------------------------------------------------------
static bool mi_registry_read(mi_walk_t* w, uint64_t address, char* error) {
  mi_registry_t* reg = &w->registry;
  if (!mi_target_read(w->target, address, reg, sizeof(*reg)) || reg->magic != MI_REGISTRY_MAGIC) {
    snprintf(error, MI_ERROR_SIZE, "the segments' registry at 0x%llx is unreadable or damaged",
             (unsigned long long)address);
    return false;
  }
  if (reg->layout_version != MI_LAYOUT_VERSION || reg->segment_size_of != sizeof(mi_segment_t) ||
      reg->page_size_of != sizeof(mi_page_t) || reg->heap_size_of != sizeof(mi_heap_t) ||
      reg->tld_size_of != sizeof(mi_tld_t) || reg->subproc_size_of != sizeof(mi_subproc_t)) {
    snprintf(error, MI_ERROR_SIZE,
             "the process's allocator has heap layout %#x (segment %u bytes), this tool reads layout %#x "
             "(segment %zu bytes): use the mimalloc-inspect built with that library",
             reg->layout_version, reg->segment_size_of, MI_LAYOUT_VERSION, sizeof(mi_segment_t));
    return false;
  }
  w->result->registry_address = address;
  w->result->layout_version = reg->layout_version;
  return true;
}

static void mi_delayed_collect(mi_walk_t* w, uint64_t heap_address, uint64_t head) {
  uint64_t holder = heap_address + offsetof(mi_heap_t, thread_delayed_free);
  uint64_t block = head;
  for (size_t steps = 0; block != 0 && steps < MI_LIST_STEPS_MAX; steps++) {
    uint64_t* grown = mi_grow(w, w->delayed, w->delayed_count, sizeof(uint64_t));
    if (grown == NULL)
      return;
    w->delayed = grown;
    w->delayed[w->delayed_count++] = block;
    uint64_t next;
    if (!mi_target_read(w->target, block, &next, sizeof(next))) {
      mi_violation(w, "delayed-list-link-invalid", holder, 0, 0,
                   "a delayed-free list link of heap 0x%llx points to unreadable memory 0x%llx",
                   (unsigned long long)heap_address, (unsigned long long)block);
      w->delayed_count--;
      return;
    }
    holder = block;
    block = next;
  }
}

static void mi_threads_read(mi_walk_t* w) {
  uint64_t tld_address = (uint64_t)(uintptr_t)w->registry.threads;
  size_t limit = w->registry.thread_count + 1;
  for (size_t n = 0; tld_address != 0; n++) {
    mi_tld_t tld;
    if (n >= limit || !mi_target_read(w->target, tld_address, &tld, sizeof(tld))) {
      mi_violation(w, "thread-registry-damaged", tld_address, 0, 0,
                   "the live-thread list is unreadable or longer than its count %zu",
                   w->registry.thread_count);
      break;
    }
    mi_thread_info_t* grown = mi_grow(w, w->threads, w->thread_count, sizeof(mi_thread_info_t));
    if (grown == NULL)
      return;
    w->threads = grown;
    w->threads[w->thread_count++] = (mi_thread_info_t){tld.thread_ident, tld.os_tid, tld_address};
    bool running = false;
    for (size_t i = 0; i < w->target->os_tid_count; i++)
      running = running || (w->target->os_tids[i] == tld.os_tid);
    if (!running)
      mi_violation(w, "registered-thread-not-running", tld_address, 0, 0,
                   "thread id 0x%llx (os tid %llu) is registered but is no thread of the process",
                   (unsigned long long)tld.thread_ident, (unsigned long long)tld.os_tid);
    // Its heaps: their addresses (pages point to them) and delayed-free lists.
    uint64_t heap_address = (uint64_t)(uintptr_t)tld.heaps;
    for (size_t h = 0; heap_address != 0 && h < 100000; h++) {
      mi_heap_t heap;
      if (!mi_target_read(w->target, heap_address, &heap, sizeof(heap))) {
        mi_violation(w, "heap-unreadable", heap_address, 0, 0, "a heap of thread 0x%llx is unreadable",
                     (unsigned long long)tld.thread_ident);
        break;
      }
      uint64_t* heaps = mi_grow(w, w->heaps, w->heap_count, sizeof(uint64_t));
      if (heaps == NULL)
        return;
      w->heaps = heaps;
      w->heaps[w->heap_count++] = heap_address;
      mi_delayed_collect(w, heap_address, (uint64_t)(uintptr_t)heap.thread_delayed_free);
      heap_address = (uint64_t)(uintptr_t)heap.next;
    }
    tld_address = (uint64_t)(uintptr_t)tld.registry_next;
  }
  w->result->live_threads = w->thread_count;
  if (w->heaps != NULL)
    qsort(w->heaps, w->heap_count, sizeof(uint64_t), mi_compare_u64);
  if (w->delayed != NULL)
    qsort(w->delayed, w->delayed_count, sizeof(uint64_t), mi_compare_u64);
}

// ---------------------------------------------------------------------------
// Pages
// ---------------------------------------------------------------------------
typedef struct mi_page_ctx_s {
  uint64_t page_address; // of the descriptor in the target
  uint64_t segment;
  uint64_t start;  // first block
  uint64_t extent; // capacity * block_size
  size_t block_size;
  bool buffered; // the page's memory is in page_buffer
} mi_page_ctx_t;

static bool mi_page_read_link(mi_walk_t* w, const mi_page_ctx_t* pc, uint64_t block, uint64_t* next) {
  if (pc->buffered) {
    memcpy(next, w->page_buffer + (block - pc->start), sizeof(*next));
    return true;
  }
  return mi_target_read(w->target, block, next, sizeof(*next));
}

// Is `block` a block of the page not yet seen on a list? Marks it seen.
static const char* mi_page_claim_block(mi_walk_t* w, const mi_page_ctx_t* pc, uint64_t block) {
  if (block < pc->start || block - pc->start >= pc->extent || (block - pc->start) % pc->block_size != 0)
    return "free-list-link-outside-page";
  uint64_t index = (block - pc->start) / pc->block_size;
  uint64_t bit = (uint64_t)1 << (index % 64);
  if (w->bits[index / 64] & bit)
    return "free-list-duplicate";
  w->bits[index / 64] |= bit;
  return NULL;
}

// Count a free list; `holder` is where its head is stored in the target.
static uint64_t mi_page_list_count(mi_walk_t* w, const mi_page_ctx_t* pc, const char* name, uint64_t holder,
                                   uint64_t head) {
  uint64_t count = 0;
  uint64_t block = head;
  while (block != 0) {
    const char* problem = mi_page_claim_block(w, pc, block);
    if (problem != NULL) {
      mi_violation(w, problem, holder, pc->page_address, pc->segment,
                   "%s list: link 0x%llx is %s (page blocks 0x%llx..0x%llx of %zu bytes)", name,
                   (unsigned long long)block,
                   (strcmp(problem, "free-list-duplicate") == 0 ? "already on a free list"
                                                                : "not a block of the page"),
                   (unsigned long long)pc->start, (unsigned long long)(pc->start + pc->extent),
                   pc->block_size);
      break;
    }
    count++;
    uint64_t next;
    if (!mi_page_read_link(w, pc, block, &next)) {
      mi_violation(w, "page-memory-unreadable", block, pc->page_address, pc->segment,
                   "%s list: block 0x%llx cannot be read", name, (unsigned long long)block);
      break;
    }
    holder = block;
    block = next;
  }
  return count;
}

static void mi_page_walk(mi_walk_t* w, uint64_t seg_address, size_t index, size_t owner_index,
                         bool abandoned) {
  const mi_segment_t* seg = w->header;
  const mi_page_t* page = &seg->slices[index];
  bool huge = (seg->kind == MI_SEGMENT_HUGE);
  mi_page_ctx_t pc = {0};
  pc.page_address = seg_address + offsetof(mi_segment_t, slices) + index * sizeof(mi_page_t);
  pc.segment = seg_address;
  pc.block_size = page->block_size;
  pc.start = (uint64_t)(uintptr_t)page->page_start;
  uint64_t slice_start = seg_address + index * MI_SEGMENT_SLICE_SIZE;
  uint64_t area =
      (huge ? seg->segment_size - (pc.start - seg_address) : page->slice_count * MI_SEGMENT_SLICE_SIZE);
  if (pc.start < slice_start || pc.start >= seg_address + seg->segment_size ||
      (!huge && pc.start != slice_start) || page->reserved > area / pc.block_size ||
      page->capacity > MI_PAGE_BITS_MAX || page->capacity > page->reserved) {
    mi_violation(w, "page-header-invalid", pc.page_address, pc.page_address, seg_address,
                 "page start 0x%llx, block size %zu, reserved %u, capacity %u do not fit its span",
                 (unsigned long long)pc.start, pc.block_size, page->reserved, page->capacity);
    return;
  }
  uint64_t heap = (uint64_t)page->xheap;
  if (abandoned && heap != 0)
    mi_violation(w, "abandoned-page-has-heap", pc.page_address + offsetof(mi_page_t, xheap), pc.page_address,
                 seg_address, "a page of an abandoned segment still points to heap 0x%llx",
                 (unsigned long long)heap);
  else if (heap != 0 && !mi_sorted_contains(w->heaps, w->heap_count, heap))
    mi_violation(w, "page-heap-unknown", pc.page_address + offsetof(mi_page_t, xheap), pc.page_address,
                 seg_address, "the page's heap 0x%llx is no heap of a live thread", (unsigned long long)heap);

  pc.extent = (uint64_t)page->capacity * pc.block_size;
  size_t words = ((size_t)page->capacity + 63) / 64;
  memset(w->bits, 0, (words == 0 ? 1 : words) * sizeof(uint64_t));
  pc.buffered = (pc.extent <= MI_PAGE_BUFFER_MAX &&
                 mi_target_read(w->target, pc.start, w->page_buffer, (size_t)pc.extent));

  uint64_t nfree = mi_page_list_count(w, &pc, "free", pc.page_address + offsetof(mi_page_t, free),
                                      (uint64_t)(uintptr_t)page->free);
  uint64_t nlocal =
      mi_page_list_count(w, &pc, "local_free", pc.page_address + offsetof(mi_page_t, local_free),
                         (uint64_t)(uintptr_t)page->local_free);
  uint64_t nthread =
      mi_page_list_count(w, &pc, "thread_free", pc.page_address + offsetof(mi_page_t, xthread_free),
                         (uint64_t)(page->xthread_free & ~MI_DELAYED_MASK));
  uint64_t ndelayed = 0;
  for (size_t i = mi_lower_bound(w->delayed, w->delayed_count, pc.start);
       i < w->delayed_count && w->delayed[i] < pc.start + pc.extent; i++) {
    const char* problem = mi_page_claim_block(w, &pc, w->delayed[i]);
    if (problem != NULL)
      mi_violation(w, problem, w->delayed[i], pc.page_address, seg_address,
                   "delayed-free block 0x%llx is not a free-able block of the page",
                   (unsigned long long)w->delayed[i]);
    else
      ndelayed++;
  }
  uint64_t pending = page->xthread_freed;
  if (pending + ndelayed > page->used || page->used - pending + nfree + nlocal + nthread != page->capacity)
    mi_violation(
        w, "page-count-mismatch", pc.page_address + offsetof(mi_page_t, used), pc.page_address, seg_address,
        "used %u - pending %llu + free %llu + local_free %llu + thread_free %llu != capacity %u, or "
        "pending + delayed %llu > used",
        page->used, (unsigned long long)pending, (unsigned long long)nfree, (unsigned long long)nlocal,
        (unsigned long long)nthread, page->capacity, (unsigned long long)ndelayed);
  uint64_t gone = pending + ndelayed;
  uint64_t live = (page->used > gone ? page->used - gone : 0);

  mi_page_kind_t kind = mi_page_kind_of(pc.block_size, huge);
  mi_usage_t usage = {0};
  usage.pages = 1;
  usage.live_blocks = live;
  usage.live_bytes = live * pc.block_size;
  usage.free_blocks = page->reserved - live;
  usage.committed_bytes = (page->is_committed ? area : 0);
  mi_class_t* c = mi_class_of(w, pc.block_size, kind);
  if (c != NULL)
    mi_usage_add(&c->usage, &usage);
  mi_usage_add(&w->result->kinds[kind], &usage);
  mi_usage_add(&w->result->total, &usage);
  if (owner_index != SIZE_MAX)
    mi_usage_add(&w->result->owners[owner_index].usage, &usage);

  // The largest live blocks: those of this page not on any list.
  mi_inspection_t* r = w->result;
  if (live > 0 &&
      (r->largest_count < MI_LARGEST_COUNT || pc.block_size > r->largest[r->largest_count - 1].size)) {
    size_t offered = 0;
    for (uint64_t i = 0; i < page->capacity && offered < MI_LARGEST_COUNT; i++) {
      if ((w->bits[i / 64] & ((uint64_t)1 << (i % 64))) == 0) {
        mi_largest_offer(r, pc.start + i * pc.block_size, pc.block_size, owner_index);
        offered++;
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Segments
// ---------------------------------------------------------------------------
static const mi_thread_info_t* mi_thread_find(const mi_walk_t* w, uint64_t id) {
  for (size_t i = 0; i < w->thread_count; i++) {
    if (w->threads[i].id == id)
      return &w->threads[i];
  }
  return NULL;
}

static void mi_segment_walk(mi_walk_t* w, uint64_t address) {
  mi_segment_t* seg = w->header;
  uint64_t owner_id = mi_segment_owner_of_copy(seg);
  size_t owner;
  const mi_thread_info_t* thread = mi_thread_find(w, owner_id);
  if (owner_id == 0) {
    owner = mi_owner_index(w, MI_OWNER_ABANDONED, 0, 0);
  } else if (owner_id == w->registry.visitor_id) {
    owner = mi_owner_index(w, MI_OWNER_VISITING, owner_id, 0);
  } else if (thread != NULL) {
    owner = mi_owner_index(w, MI_OWNER_THREAD, owner_id, thread->os_tid);
  } else {
    owner = mi_owner_index(w, MI_OWNER_UNKNOWN, owner_id, 0);
    mi_violation(w, "owner-not-live-thread", address, 0, address,
                 "the segment's owner id 0x%llx is neither 0 (abandoned) nor a live thread",
                 (unsigned long long)owner_id);
  }
  if (owner == SIZE_MAX)
    return;
  mi_owner_t* o = &w->result->owners[owner];
  o->usage.segments++;
  o->segment_bytes += seg->segment_size;
  o->reclaimed_segments += (seg->was_reclaimed ? 1 : 0);
  w->result->total.segments++;
  w->result->segment_bytes += seg->segment_size;

  mi_segment_info_t* grown = mi_grow(w, w->segments, w->segment_count, sizeof(mi_segment_info_t));
  if (grown == NULL)
    return;
  w->segments = grown;
  w->segments[w->segment_count++] =
      (mi_segment_info_t){address, owner_id, (uint64_t)(uintptr_t)seg->subproc, seg->in_abandoned_set, false};

  if (seg->segment_info_slices == 0 || seg->slice_entries > MI_SLICES_PER_SEGMENT ||
      seg->segment_info_slices >= seg->slice_entries) {
    mi_violation(w, "segment-header-invalid", address, 0, address, "slice entries %zu, header slices %zu",
                 seg->slice_entries, seg->segment_info_slices);
    return;
  }
  bool abandoned = (owner_id == 0);
  size_t pages = 0;
  for (size_t index = seg->segment_info_slices; index < seg->slice_entries;) {
    const mi_slice_t* slice = &seg->slices[index];
    if (slice->block_size != 0) {
      pages++;
      if (slice->block_size > 1)
        mi_page_walk(w, address, index, owner, abandoned);
    }
    if (seg->kind == MI_SEGMENT_HUGE)
      break;
    if (slice->slice_count == 0 || slice->slice_count > seg->slice_entries - index) {
      mi_violation(w, "span-invalid", address + offsetof(mi_segment_t, slices) + index * sizeof(mi_slice_t),
                   0, address, "span at slice %zu has slice count %u", index, slice->slice_count);
      return;
    }
    index += slice->slice_count;
  }
  if (pages != seg->used)
    mi_violation(w, "segment-count-mismatch", address, 0, address,
                 "the segment counts %zu pages in use, its spans hold %zu", seg->used, pages);
  if (abandoned && seg->abandoned != seg->used)
    mi_violation(w, "segment-count-mismatch", address, 0, address,
                 "abandoned segment: %zu abandoned pages but %zu in use", seg->abandoned, seg->used);
}

// Every segment-aligned address of the target's memory that holds a segment header.
static bool mi_segments_scan(mi_walk_t* w, char* error) {
  bool have_registry = false;
  for (size_t r = 0; r < w->target->region_count; r++) {
    const mi_region_t region = w->target->regions[r];
    uint64_t address = (region.start + MI_SEGMENT_MASK) & ~(uint64_t)MI_SEGMENT_MASK;
    if (address < region.start)
      continue; // a region at the very top of the address space
    for (; address < region.end && region.end - address >= 24; address += MI_SEGMENT_SIZE) {
      struct {
        uint64_t magic;
        uint32_t layout_version;
        uint32_t header_size;
        uint64_t registry;
      } head;
      if (!mi_target_read(w->target, address, &head, sizeof(head)) || head.magic != MI_SEGMENT_MAGIC)
        continue;
      if (!have_registry) {
        if (!mi_registry_read(w, head.registry, error))
          return false;
        have_registry = true;
        mi_threads_read(w);
      }
      if (head.registry != w->result->registry_address) {
        w->result->ignored_segments++;
        continue;
      }
      if (head.layout_version != MI_LAYOUT_VERSION || head.header_size != sizeof(mi_segment_t) ||
          !mi_target_read(w->target, address, w->header, sizeof(mi_segment_t))) {
        mi_violation(w, "segment-header-invalid", address, 0, address,
                     "segment header with layout %#x, size %u, or unreadable", head.layout_version,
                     head.header_size);
        continue;
      }
      if ((w->header->cookie ^ address) != w->registry.process_cookie) {
        mi_violation(w, "segment-cookie-mismatch", address, 0, address,
                     "the segment's cookie does not match the process cookie");
        continue;
      }
      mi_segment_walk(w, address);
      if (w->out_of_memory) {
        snprintf(error, MI_ERROR_SIZE, "out of memory");
        return false;
      }
    }
  }
  if (!have_registry) {
    snprintf(error, MI_ERROR_SIZE,
             "no heap segments of this allocator in %.200s: the process does not use libmimalloc (or has not "
             "allocated yet)",
             w->target->source);
    return false;
  }
  return true;
}

// ---------------------------------------------------------------------------
// Abandoned sets and the segment cache
// ---------------------------------------------------------------------------
static mi_segment_info_t* mi_segment_info_find(mi_walk_t* w, uint64_t address) {
  for (size_t i = 0; i < w->segment_count; i++) {
    if (w->segments[i].address == address)
      return &w->segments[i];
  }
  return NULL;
}

static void mi_abandoned_set_check(mi_walk_t* w, uint64_t subproc_address) {
  mi_subproc_t subproc;
  if (!mi_target_read(w->target, subproc_address, &subproc, sizeof(subproc))) {
    mi_violation(w, "subproc-unreadable", subproc_address, 0, 0, "a sub-process record cannot be read");
    return;
  }
  bool locked = (subproc.abandoned_lock.state != 0); // a thread is changing the set right now
  uint64_t address = (uint64_t)(uintptr_t)subproc.abandoned_first;
  size_t count = 0;
  while (address != 0) {
    mi_segment_info_t* info = mi_segment_info_find(w, address);
    if (info == NULL || info->listed) {
      mi_violation(w, "abandoned-set-link-invalid", address, 0, address,
                   "the abandoned set of sub-process 0x%llx links to 0x%llx, %s",
                   (unsigned long long)subproc_address, (unsigned long long)address,
                   (info == NULL ? "which is no segment in use" : "a second time (cycle)"));
      return;
    }
    info->listed = true;
    count++;
    if (info->owner_id != 0 && info->owner_id != w->registry.visitor_id)
      mi_violation(w, "abandoned-set-segment-owned", address, 0, address,
                   "the segment is in the abandoned set but owned by 0x%llx",
                   (unsigned long long)info->owner_id);
    mi_segment_t* seg = w->header;
    if (!mi_target_read(w->target, address, seg, offsetof(mi_segment_t, page_map)))
      return;
    address = (uint64_t)(uintptr_t)seg->abandoned_next;
  }
  if (!locked && count != subproc.abandoned_count)
    mi_violation(w, "abandoned-count-mismatch", subproc_address + offsetof(mi_subproc_t, abandoned_count), 0,
                 0, "the abandoned set holds %zu segments, its count says %zu", count,
                 subproc.abandoned_count);
}

static void mi_abandoned_sets_check(mi_walk_t* w) {
  uint64_t* subprocs = NULL;
  size_t n = 0;
  uint64_t main_subproc = (uint64_t)(uintptr_t)w->registry.subproc_main;
  for (size_t i = 0; i <= w->segment_count; i++) {
    uint64_t s = (i < w->segment_count ? w->segments[i].subproc : main_subproc);
    if (s == 0 || mi_sorted_contains(subprocs, n, s))
      continue;
    uint64_t* grown = mi_grow(w, subprocs, n, sizeof(uint64_t));
    if (grown == NULL)
      break;
    subprocs = grown;
    subprocs[n++] = s;
    qsort(subprocs, n, sizeof(uint64_t), mi_compare_u64);
    mi_abandoned_set_check(w, s);
  }
  free(subprocs);
  for (size_t i = 0; i < w->segment_count; i++) {
    const mi_segment_info_t* info = &w->segments[i];
    if (info->owner_id == 0 && !info->listed)
      mi_violation(w, "abandoned-segment-not-in-set", info->address, 0, info->address,
                   "the segment is abandoned (owner 0) but in no abandoned set");
    if (info->listed != info->in_abandoned_set)
      mi_violation(w, "abandoned-flag-mismatch", info->address, 0, info->address,
                   "the segment's in-set flag is %d but it is %s the abandoned set", info->in_abandoned_set,
                   (info->listed ? "in" : "not in"));
  }
}

static void mi_cache_read(mi_walk_t* w) {
  mi_cache_entry_t cache[MI_SEGMENT_CACHE_SIZE];
  uint64_t address = (uint64_t)(uintptr_t)w->registry.segment_cache;
  if (address == 0 || !mi_target_read(w->target, address, cache, sizeof(cache)))
    return;
  for (size_t i = 0; i < MI_SEGMENT_CACHE_SIZE; i++) {
    if (cache[i].base == NULL)
      continue;
    size_t owner = mi_owner_index(w, MI_OWNER_CACHED, 0, 0);
    if (owner == SIZE_MAX)
      return;
    if (mi_segment_info_find(w, (uint64_t)(uintptr_t)cache[i].base) != NULL)
      mi_violation(w, "cached-segment-in-use", (uint64_t)(uintptr_t)cache[i].base, 0,
                   (uint64_t)(uintptr_t)cache[i].base,
                   "a mapping in the segment cache still carries the header of a segment in use");
    w->result->owners[owner].usage.segments++;
    w->result->owners[owner].segment_bytes += cache[i].size;
    w->result->owners[owner].usage.committed_bytes += (cache[i].expire != 0 ? cache[i].size : 0);
  }
}

// ---------------------------------------------------------------------------
// The whole walk
// ---------------------------------------------------------------------------
static int mi_owner_order(const void* a, const void* b) {
  const mi_owner_t* x = a;
  const mi_owner_t* y = b;
  if (x->kind != y->kind)
    return (x->kind < y->kind ? -1 : 1);
  return (x->os_tid < y->os_tid ? -1 : x->os_tid > y->os_tid);
}

static int mi_class_order(const void* a, const void* b) {
  const mi_class_t* x = a;
  const mi_class_t* y = b;
  if (x->block_size != y->block_size)
    return (x->block_size < y->block_size ? -1 : 1);
  return (x->kind < y->kind ? -1 : x->kind > y->kind);
}

bool mi_inspect_heap(mi_target_t* target, mi_inspection_t* result, char* error) {
  memset(result, 0, sizeof(*result));
  mi_walk_t w = {0};
  w.target = target;
  w.result = result;
  w.header = malloc(sizeof(mi_segment_t));
  w.page_buffer = malloc(MI_PAGE_BUFFER_MAX);
  w.bits = malloc((MI_PAGE_BITS_MAX / 64 + 1) * sizeof(uint64_t));
  bool ok = (w.header != NULL && w.page_buffer != NULL && w.bits != NULL);
  if (!ok)
    snprintf(error, MI_ERROR_SIZE, "out of memory");
  if (ok)
    ok = mi_segments_scan(&w, error);
  if (ok) {
    mi_abandoned_sets_check(&w);
    mi_cache_read(&w);
    // Every live thread appears as an owner, also one that owns no segment.
    for (size_t i = 0; i < w.thread_count; i++)
      mi_owner_index(&w, MI_OWNER_THREAD, w.threads[i].id, w.threads[i].os_tid);
  }
  if (ok && target->gone) {
    snprintf(error, MI_ERROR_SIZE, "process %ld exited while being read", target->pid);
    ok = false;
  }
  if (ok && w.out_of_memory) {
    snprintf(error, MI_ERROR_SIZE, "out of memory");
    ok = false;
  }
  if (ok) {
    // Owners are sorted; the largest blocks refer to them by index, so map the indices.
    size_t* order = malloc((result->owner_count + 1) * sizeof(size_t));
    mi_owner_t* sorted = malloc((result->owner_count + 1) * sizeof(mi_owner_t));
    if (order != NULL && sorted != NULL) {
      memcpy(sorted, result->owners, result->owner_count * sizeof(mi_owner_t));
      qsort(sorted, result->owner_count, sizeof(mi_owner_t), mi_owner_order);
      for (size_t i = 0; i < result->owner_count; i++) {
        for (size_t j = 0; j < result->owner_count; j++) {
          if (sorted[j].kind == result->owners[i].kind && sorted[j].id == result->owners[i].id)
            order[i] = j;
        }
      }
      for (size_t i = 0; i < result->largest_count; i++) {
        if (result->largest[i].owner < result->owner_count)
          result->largest[i].owner = order[result->largest[i].owner];
      }
      memcpy(result->owners, sorted, result->owner_count * sizeof(mi_owner_t));
    }
    free(order);
    free(sorted);
    if (result->classes != NULL)
      qsort(result->classes, result->class_count, sizeof(mi_class_t), mi_class_order);
  }
  free(w.header);
  free(w.page_buffer);
  free(w.bits);
  free(w.threads);
  free(w.heaps);
  free(w.delayed);
  free(w.segments);
  if (!ok)
    mi_inspection_free(result);
  return ok;
}

void mi_inspection_free(mi_inspection_t* result) {
  free(result->classes);
  free(result->owners);
  free(result->violations);
  memset(result, 0, sizeof(*result));
}

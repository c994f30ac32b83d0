/* ----------------------------------------------------------------------------
API test: first-class heaps.

 1. every mi_heap_* allocation form (plain, zeroed, counted, small, realloc
    family, string, aligned and aligned-at, rezalloc/recalloc, alloc_new,
    typed macros): contents, zeroing, alignment, ownership by the heap;
 2. mi_heap_delete: live blocks move to the backing heap and stay valid;
 3. mi_heap_destroy: all blocks go at once (huge ones leave the heap region);
 4. default and backing heap: set_default redirects mi_malloc;
 5. ownership queries: mi_heap_contains_block, mi_heap_check_owned,
    mi_check_owned, mi_is_in_heap_region;
 6. mi_heap_visit_blocks: every live block exactly once, sizes add up,
    areas carry the heap tag, a visitor can stop the walk;
 7. remote frees before mi_heap_delete / mi_heap_destroy, and remote frees
    racing with mi_heap_delete;
 8. mi_heap_collect / mi_collect keep live blocks intact;
 9. mi_heap_new_in_arena keeps its blocks in the arena;
10. blocks left by exited threads are visited through
    mi_abandoned_visit_blocks (all tags and one tag), and no longer after
    they were freed.
-----------------------------------------------------------------------------*/
#define _GNU_SOURCE
#include <mimalloc.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test-common.h"

static bool is_aligned(const void* p, size_t alignment) { return ((uintptr_t)p % alignment) == 0; }

// ---------------------------------------------------------------------------
// 1. allocation forms
// ---------------------------------------------------------------------------
typedef struct point_s {
  int x, y;
} point_t;

static void test_allocation_forms(void) {
  mi_heap_t* heap = mi_heap_new();
  CHECK(heap != NULL);
  if (heap == NULL) return;
  const size_t sizes[] = {1, 8, 24, 100, 1000, 5000, 40000, 300000, 2 * MI_TEST_MIB, 20 * MI_TEST_MIB};
  size_t n = sizeof(sizes) / sizeof(sizes[0]);
  for (size_t i = 0; i < n; i++) {
    size_t size = sizes[i];
    uint8_t* m = (uint8_t*)mi_heap_malloc(heap, size);
    uint8_t* z = (uint8_t*)mi_heap_zalloc(heap, size);
    uint8_t* c = (uint8_t*)mi_heap_calloc(heap, size, 1);
    uint8_t* mn = (uint8_t*)mi_heap_mallocn(heap, 1, size);
    CHECKF(m != NULL && z != NULL && c != NULL && mn != NULL, "size %zu", size);
    if (m == NULL || z == NULL || c == NULL || mn == NULL) continue;
    CHECKF(mi_test_is_zero(z, 0, size) && mi_test_is_zero(c, 0, size), "size %zu", size);
    CHECK(mi_heap_contains_block(heap, m) && mi_heap_contains_block(heap, z));
    CHECK(mi_heap_contains_block(heap, c) && mi_heap_contains_block(heap, mn));
    CHECK(mi_usable_size(m) >= size && mi_usable_size(mn) >= size);
    mi_test_pattern_fill(m, 0, size, 11);
    mi_test_pattern_fill(mn, 0, size, 12);
    // realloc family: grow and keep the prefix
    m = (uint8_t*)mi_heap_realloc(heap, m, size * 2 + 10);
    CHECKF(m != NULL && mi_test_pattern_ok(m, 0, size, 11), "realloc %zu", size);
    mn = (uint8_t*)mi_heap_reallocn(heap, mn, 2, size + 5);
    CHECKF(mn != NULL && mi_test_pattern_ok(mn, 0, size, 12), "reallocn %zu", size);
    uint8_t* f = (uint8_t*)mi_heap_reallocf(heap, mi_heap_malloc(heap, size), size + 100);
    CHECK(f != NULL && mi_heap_contains_block(heap, f));
    // rezalloc / recalloc: zeroed growth of a zeroed block
    z = (uint8_t*)mi_heap_rezalloc(heap, z, size * 2);
    CHECKF(z != NULL && mi_test_is_zero(z, 0, size * 2), "rezalloc %zu", size);
    c = (uint8_t*)mi_heap_recalloc(heap, c, 2, size);
    CHECKF(c != NULL && mi_test_is_zero(c, 0, size * 2), "recalloc %zu", size);
    mi_free(m);
    mi_free(mn);
    mi_free(f);
    mi_free(z);
    mi_free(c);
  }
  // Small allocations.
  for (size_t size = 1; size <= MI_SMALL_SIZE_MAX; size += 37) {
    void* p = mi_heap_malloc_small(heap, size);
    CHECKF(p != NULL && mi_usable_size(p) >= size && mi_heap_contains_block(heap, p), "small %zu", size);
    mi_free(p);
  }
  // Strings.
  char* s = mi_heap_strdup(heap, "first-class heap");
  CHECK(s != NULL && strcmp(s, "first-class heap") == 0 && mi_heap_contains_block(heap, s));
  char* sn = mi_heap_strndup(heap, "first-class heap", 5);
  CHECK(sn != NULL && strcmp(sn, "first") == 0);
  char* rp = mi_heap_realpath(heap, "/", NULL);
  CHECK(rp != NULL && strcmp(rp, "/") == 0 && mi_heap_contains_block(heap, rp));
  // With a buffer the result is written there (the return value is declared
  // malloc-like, so comparing it with `buf` would be folded away: compare contents).
  char buf[PATH_MAX];
  memset(buf, 'x', sizeof(buf));
  char* rb = mi_heap_realpath(heap, "/", buf);
  CHECK(rb != NULL && strcmp(buf, "/") == 0);
  mi_free(s);
  mi_free(sn);
  mi_free(rp);
  // Aligned forms.
  const size_t alignments[] = {8, 16, 64, 256, 4096, 65536, MI_TEST_MIB, 32 * MI_TEST_MIB};
  for (size_t a = 0; a < sizeof(alignments) / sizeof(alignments[0]); a++) {
    size_t al = alignments[a];
    size_t size = 100 + a * 300;
    void* p1 = mi_heap_malloc_aligned(heap, size, al);
    void* p2 = mi_heap_zalloc_aligned(heap, size, al);
    void* p3 = mi_heap_calloc_aligned(heap, 3, size, al);
    CHECKF(p1 != NULL && is_aligned(p1, al), "malloc_aligned %zu", al);
    CHECKF(p2 != NULL && is_aligned(p2, al) && mi_test_is_zero(p2, 0, size), "zalloc_aligned %zu", al);
    CHECKF(p3 != NULL && is_aligned(p3, al) && mi_test_is_zero(p3, 0, 3 * size), "calloc_aligned %zu", al);
    CHECK(mi_heap_check_owned(heap, p1) && mi_heap_check_owned(heap, p3));
    if (p1 != NULL) mi_test_pattern_fill(p1, 0, size, 21);
    p1 = mi_heap_realloc_aligned(heap, p1, size * 3, al);
    CHECKF(p1 != NULL && is_aligned(p1, al) && mi_test_pattern_ok(p1, 0, size, 21), "realloc_aligned %zu", al);
    p2 = mi_heap_rezalloc_aligned(heap, p2, size * 3, al);
    CHECKF(p2 != NULL && is_aligned(p2, al) && mi_test_is_zero(p2, 0, size * 3), "rezalloc_aligned %zu", al);
    p3 = mi_heap_recalloc_aligned(heap, p3, 5, size, al);
    CHECKF(p3 != NULL && is_aligned(p3, al) && mi_test_is_zero(p3, 0, size * 5), "recalloc_aligned %zu", al);
    mi_free(p1);
    mi_free(p2);
    mi_free(p3);
    // _at forms: p + offset is aligned. Alignments above 16 MiB get a segment
    // of their own and take no offset (NULL, as in mimalloc 2.x), so test offset 0 there.
    size_t offset = (al > 16 * MI_TEST_MIB ? 0 : (al >= 16 ? al / 2 : 0) + 8);
    if (al > 16 * MI_TEST_MIB) {
      void* r = mi_heap_malloc_aligned_at(heap, size, al, 8);
      CHECKF(r == NULL || is_aligned((uint8_t*)r + 8, al), "malloc_aligned_at %zu/8 misaligned", al);
      mi_free(r);
    }
    void* q1 = mi_heap_malloc_aligned_at(heap, size, al, offset);
    void* q2 = mi_heap_zalloc_aligned_at(heap, size, al, offset);
    void* q3 = mi_heap_calloc_aligned_at(heap, 2, size, al, offset);
    CHECKF(q1 != NULL && is_aligned((uint8_t*)q1 + offset, al), "malloc_aligned_at %zu/%zu", al, offset);
    CHECKF(q2 != NULL && is_aligned((uint8_t*)q2 + offset, al) && mi_test_is_zero(q2, 0, size), "zalloc_aligned_at %zu",
           al);
    CHECKF(q3 != NULL && is_aligned((uint8_t*)q3 + offset, al) && mi_test_is_zero(q3, 0, 2 * size),
           "calloc_aligned_at %zu", al);
    if (q1 != NULL) mi_test_pattern_fill(q1, 0, size, 22);
    q1 = mi_heap_realloc_aligned_at(heap, q1, size * 2, al, offset);
    CHECKF(q1 != NULL && is_aligned((uint8_t*)q1 + offset, al) && mi_test_pattern_ok(q1, 0, size, 22),
           "realloc_aligned_at %zu", al);
    q2 = mi_heap_rezalloc_aligned_at(heap, q2, size * 2, al, offset);
    CHECKF(q2 != NULL && is_aligned((uint8_t*)q2 + offset, al) && mi_test_is_zero(q2, 0, size * 2),
           "rezalloc_aligned_at %zu", al);
    q3 = mi_heap_recalloc_aligned_at(heap, q3, 4, size, al, offset);
    CHECKF(q3 != NULL && is_aligned((uint8_t*)q3 + offset, al) && mi_test_is_zero(q3, 0, size * 4),
           "recalloc_aligned_at %zu", al);
    mi_free(q1);
    mi_free(q2);
    mi_free(q3);
  }
  // Allocation with C++ new semantics (succeeds here) and typed macros.
  void* nw = mi_heap_alloc_new(heap, 123);
  void* nwn = mi_heap_alloc_new_n(heap, 10, 123);
  CHECK(nw != NULL && nwn != NULL && mi_usable_size(nwn) >= 1230 && mi_heap_contains_block(heap, nwn));
  mi_free(nw);
  mi_free(nwn);
  point_t* pt = mi_heap_malloc_tp(heap, point_t);
  point_t* pz = mi_heap_zalloc_tp(heap, point_t);
  point_t* pc = mi_heap_calloc_tp(heap, point_t, 10);
  point_t* pm = mi_heap_mallocn_tp(heap, point_t, 10);
  CHECK(pt != NULL && pz != NULL && pc != NULL && pm != NULL);
  CHECK(pz != NULL && pz->x == 0 && pz->y == 0);
  CHECK(pc != NULL && mi_test_is_zero(pc, 0, 10 * sizeof(point_t)));
  if (pm != NULL) pm[9].x = 9;
  pm = mi_heap_reallocn_tp(heap, pm, point_t, 20);
  CHECK(pm != NULL && pm[9].x == 9);
  pc = mi_heap_recalloc_tp(heap, pc, point_t, 20);
  CHECK(pc != NULL && mi_test_is_zero(pc, 0, 20 * sizeof(point_t)));
  mi_free(pt);
  mi_free(pz);
  mi_free(pc);
  mi_free(pm);
  // Overflowing counts fail cleanly.
  CHECK(mi_heap_mallocn(heap, mi_test_opaque_size(SIZE_MAX / 2), 4) == NULL);
  CHECK(mi_heap_calloc(heap, mi_test_opaque_size(SIZE_MAX / 2), 4) == NULL);
  mi_heap_delete(heap);
}

// ---------------------------------------------------------------------------
// 2. delete and 3. destroy
// ---------------------------------------------------------------------------
#define MANY 3000

static size_t block_size_for(size_t i) {
  if (i % 500 == 499) return 17 * MI_TEST_MIB + i;  // huge
  if (i % 100 == 99) return 200 * MI_TEST_KIB + i;  // large
  if (i % 10 == 9) return 9000 + i;                 // medium
  return 8 + (i % 64) * 8;                          // small
}

static void test_delete_keeps_blocks(void) {
  mi_heap_t* backing = mi_heap_get_backing();
  mi_heap_t* heap = mi_heap_new();
  CHECK(heap != NULL && backing != NULL && heap != backing);
  if (heap == NULL) return;
  static void* blocks[MANY];
  for (size_t i = 0; i < MANY; i++) {
    blocks[i] = mi_heap_malloc(heap, block_size_for(i));
    if (blocks[i] != NULL) mi_test_pattern_fill(blocks[i], 0, block_size_for(i), i + 1000);
  }
  for (size_t i = 0; i < MANY; i += 2) { // half of them go before the delete
    mi_free(blocks[i]);
    blocks[i] = NULL;
  }
  mi_heap_delete(heap);
  size_t ok = 0, in_backing = 0;
  for (size_t i = 1; i < MANY; i += 2) {
    if (blocks[i] == NULL) continue;
    if (mi_test_pattern_ok(blocks[i], 0, block_size_for(i), i + 1000)) ok++;
    if (mi_heap_contains_block(backing, blocks[i])) in_backing++;
  }
  CHECKF(ok == MANY / 2, "%zu of %d blocks intact after delete", ok, MANY / 2);
  CHECKF(in_backing == MANY / 2, "%zu of %d blocks now in the backing heap", in_backing, MANY / 2);
  // The backing heap keeps allocating from the adopted pages without harm.
  void* extra[200];
  for (size_t i = 0; i < 200; i++) extra[i] = mi_malloc(8 + (i % 64) * 8);
  for (size_t i = 1; i < MANY; i += 2) {
    if (blocks[i] != NULL) CHECK(mi_test_pattern_ok(blocks[i], 0, block_size_for(i), i + 1000));
    mi_free(blocks[i]);
  }
  for (size_t i = 0; i < 200; i++) mi_free(extra[i]);
  printf("delete: %zu live blocks moved to the backing heap intact\n", ok);
}

static void test_destroy(void) {
  mi_heap_t* heap = mi_heap_new();
  CHECK(heap != NULL);
  if (heap == NULL) return;
  void* huge = NULL;
  size_t count = 0;
  for (size_t i = 0; i < MANY; i++) {
    void* p = mi_heap_malloc(heap, block_size_for(i));
    if (p == NULL) continue;
    count++;
    memset(p, 0x77, block_size_for(i) < 4096 ? block_size_for(i) : 4096);
    if (huge == NULL && block_size_for(i) > 16 * MI_TEST_MIB) huge = p;
  }
  CHECK(count == MANY);
  CHECK(huge != NULL && mi_is_in_heap_region(huge));
  mi_heap_destroy(heap);
  // A huge block has a segment of its own, which the destroy gave back.
  CHECK(!mi_is_in_heap_region(huge));
  // The thread's default heap is unaffected.
  void* p = mi_malloc(100);
  CHECK(p != NULL && mi_heap_contains_block(mi_heap_get_default(), p));
  mi_free(p);
  // A heap made with allow_destroy == false: destroy acts as delete.
  mi_heap_t* keep = mi_heap_new_ex(0, false, 0);
  CHECK(keep != NULL);
  if (keep != NULL) {
    char* s = mi_heap_strdup(keep, "still here");
    mi_heap_destroy(keep);
    CHECK(s != NULL && strcmp(s, "still here") == 0);
    mi_free(s);
  }
  printf("destroy: %zu blocks released at once\n", count);
}

// ---------------------------------------------------------------------------
// 4. default and backing heaps
// ---------------------------------------------------------------------------
static void test_default_heap(void) {
  mi_heap_t* backing = mi_heap_get_backing();
  CHECK(backing != NULL);
  CHECK(mi_heap_get_default() == backing);
  mi_heap_t* heap = mi_heap_new();
  CHECK(heap != NULL);
  if (heap == NULL) return;
  mi_heap_t* old = mi_heap_set_default(heap);
  CHECK(old == backing);
  CHECK(mi_heap_get_default() == heap);
  CHECK(mi_heap_get_backing() == backing);
  void* p = mi_malloc(48);
  void* q = mi_zalloc(5000);
  CHECK(mi_heap_contains_block(heap, p) && mi_heap_contains_block(heap, q));
  CHECK(!mi_heap_contains_block(backing, p));
  CHECK(mi_check_owned(p)); // the default heap is now `heap`
  CHECK(mi_heap_set_default(old) == heap);
  CHECK(mi_heap_get_default() == backing);
  CHECK(!mi_check_owned(p));
  mi_free(p);
  mi_free(q);
  // Deleting the current default heap falls back to the backing heap.
  mi_heap_set_default(heap);
  mi_heap_delete(heap);
  CHECK(mi_heap_get_default() == backing);
  CHECK(mi_heap_set_default(NULL) == NULL);
}

// ---------------------------------------------------------------------------
// 5. ownership queries
// ---------------------------------------------------------------------------
static void test_ownership(void) {
  mi_heap_t* heap = mi_heap_new();
  CHECK(heap != NULL);
  if (heap == NULL) return;
  int on_stack = 0;
  static int in_data = 0;
  const size_t sizes[] = {16, 3000, 100000, 4 * MI_TEST_MIB, 18 * MI_TEST_MIB};
  for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
    uint8_t* p = (uint8_t*)mi_heap_malloc(heap, sizes[i]);
    uint8_t* d = (uint8_t*)mi_malloc(sizes[i]);
    CHECK(p != NULL && d != NULL);
    if (p == NULL || d == NULL) continue;
    CHECKF(mi_heap_contains_block(heap, p), "size %zu", sizes[i]);
    CHECKF(!mi_heap_contains_block(heap, d), "size %zu", sizes[i]);
    CHECKF(mi_heap_check_owned(heap, p) && mi_heap_check_owned(heap, p + 8), "size %zu", sizes[i]);
    CHECKF(!mi_heap_check_owned(heap, d), "size %zu", sizes[i]);
    CHECKF(mi_check_owned(d) && !mi_check_owned(p), "size %zu", sizes[i]);
    CHECK(mi_is_in_heap_region(p) && mi_is_in_heap_region(d));
    mi_free(p);
    mi_free(d);
  }
  CHECK(!mi_heap_contains_block(heap, &on_stack) && !mi_heap_check_owned(heap, &on_stack));
  CHECK(!mi_check_owned(&on_stack) && !mi_check_owned(&in_data) && !mi_check_owned(NULL));
  CHECK(!mi_is_in_heap_region(&on_stack) && !mi_is_in_heap_region(NULL));
  CHECK(!mi_heap_contains_block(heap, NULL));
  mi_heap_delete(heap);
}

// ---------------------------------------------------------------------------
// 6. visiting
// ---------------------------------------------------------------------------
typedef struct visit_s {
  void** expected;      // sorted live blocks
  size_t expected_count;
  uint8_t* seen;        // per expected block: times visited
  size_t areas;
  size_t blocks;
  size_t unknown;       // visited blocks that are not ours
  size_t bad_size;      // block_size disagrees with the area or with mi_usable_size
  size_t size_sum;
  int tag;              // expected heap tag (or -1)
  size_t bad_tag;
  size_t stop_after;    // return false after this many blocks (0: never)
  bool null_block_seen; // a block callback with a NULL block in blocks-only mode
} visit_t;

static int compare_pointers(const void* a, const void* b) {
  uintptr_t x = (uintptr_t)*(void* const*)a, y = (uintptr_t)*(void* const*)b;
  return (x < y ? -1 : (x > y ? 1 : 0));
}

static bool visitor(const mi_heap_t* heap, const mi_heap_area_t* area, void* block, size_t block_size, void* arg) {
  (void)heap;
  visit_t* v = (visit_t*)arg;
  if (block == NULL) {
    v->areas++;
    if (v->tag >= 0 && area->heap_tag != v->tag) v->bad_tag++;
    return true;
  }
  v->blocks++;
  if (block_size != area->block_size) v->bad_size++;
  v->size_sum += block_size;
  void** found = (void**)bsearch(&block, v->expected, v->expected_count, sizeof(void*), &compare_pointers);
  if (found == NULL) v->unknown++;
  else {
    v->seen[found - v->expected]++;
    if (mi_usable_size(block) > block_size) v->bad_size++;
  }
  return (v->stop_after == 0 || v->blocks < v->stop_after);
}

static void visit_init(visit_t* v, void** expected, size_t count, int tag) {
  memset(v, 0, sizeof(*v));
  qsort(expected, count, sizeof(void*), &compare_pointers);
  v->expected = expected;
  v->expected_count = count;
  v->seen = (uint8_t*)calloc(count + 1, 1);
  v->tag = tag;
}

static size_t visit_seen_once(const visit_t* v) {
  size_t once = 0;
  for (size_t i = 0; i < v->expected_count; i++) once += (v->seen[i] == 1);
  return once;
}

static void test_visit(void) {
  mi_heap_t* heap = mi_heap_new_ex(7, true, 0);
  CHECK(heap != NULL);
  if (heap == NULL) return;
  enum { N = 4000 };
  static void* all[N];
  static void* live[N];
  size_t live_count = 0, usable_sum = 0;
  for (size_t i = 0; i < N; i++) all[i] = mi_heap_malloc(heap, block_size_for(i) % (300 * MI_TEST_KIB) + 1);
  for (size_t i = 0; i < N; i++) {
    if (i % 3 == 0) mi_free(all[i]);
    else {
      live[live_count++] = all[i];
      usable_sum += mi_usable_size(all[i]);
    }
  }
  visit_t v;
  visit_init(&v, live, live_count, 7);
  CHECK(mi_heap_visit_blocks(heap, true, &visitor, &v));
  CHECKF(v.blocks == live_count, "visited %zu blocks, %zu live", v.blocks, live_count);
  CHECKF(visit_seen_once(&v) == live_count, "%zu of %zu visited exactly once", visit_seen_once(&v), live_count);
  CHECK(v.unknown == 0 && v.bad_size == 0 && v.bad_tag == 0);
  CHECKF(v.size_sum >= usable_sum, "sum of visited sizes %zu < sum of usable sizes %zu", v.size_sum, usable_sum);
  CHECK(v.areas > 0);
  printf("visit: %zu areas, %zu blocks, %zu bytes in blocks (usable %zu)\n", v.areas, v.blocks, v.size_sum,
         usable_sum);
  free(v.seen);
  // Areas only.
  visit_init(&v, live, live_count, 7);
  CHECK(mi_heap_visit_blocks(heap, false, &visitor, &v));
  CHECK(v.blocks == 0 && v.areas > 0);
  free(v.seen);
  // Stopping early.
  visit_init(&v, live, live_count, 7);
  v.stop_after = 5;
  CHECK(!mi_heap_visit_blocks(heap, true, &visitor, &v));
  CHECK(v.blocks == 5);
  free(v.seen);
  CHECK(!mi_heap_visit_blocks(NULL, true, &visitor, &v));
  mi_heap_destroy(heap);
}

// ---------------------------------------------------------------------------
// 7. remote frees before delete/destroy, and racing with delete
// ---------------------------------------------------------------------------
typedef struct remote_s {
  void** blocks;
  size_t count;
  size_t from, step;
  size_t freed;
} remote_t;

static void* remote_free_thread(void* arg) {
  remote_t* r = (remote_t*)arg;
  for (size_t i = r->from; i < r->count; i += r->step) {
    mi_free(r->blocks[i]);
    r->blocks[i] = NULL;
    r->freed++;
  }
  return NULL;
}

static void test_remote_frees(void) {
  enum { R = 6000 };
  static void* blocks[R];
  for (int mode = 0; mode < 3; mode++) { // 0: delete after, 1: destroy after, 2: delete while freeing
    mi_heap_t* heap = mi_heap_new();
    CHECK(heap != NULL);
    if (heap == NULL) return;
    for (size_t i = 0; i < R; i++) {
      size_t size = (i % 50 == 0 ? 70000 : 64); // full small pages: remote frees take the delayed path
      blocks[i] = mi_heap_malloc(heap, size);
      if (blocks[i] != NULL) mi_test_pattern_fill(blocks[i], 0, 64, i + 7);
    }
    remote_t r = {blocks, R, 1, 2, 0};
    pthread_t t;
    CHECK(pthread_create(&t, NULL, &remote_free_thread, &r) == 0);
    if (mode == 2) {
      mi_heap_delete(heap); // races with the remote frees
      pthread_join(t, NULL);
    } else {
      pthread_join(t, NULL);
      size_t intact = 0;
      for (size_t i = 0; i < R; i += 2) intact += (blocks[i] != NULL && mi_test_pattern_ok(blocks[i], 0, 64, i + 7));
      CHECK(intact == R / 2);
      if (mode == 0) mi_heap_delete(heap);
      else mi_heap_destroy(heap);
    }
    CHECK(r.freed == R / 2);
    if (mode != 1) {
      size_t intact = 0;
      for (size_t i = 0; i < R; i += 2) {
        intact += (blocks[i] != NULL && mi_test_pattern_ok(blocks[i], 0, 64, i + 7));
        mi_free(blocks[i]);
      }
      CHECKF(intact == R / 2, "mode %d: %zu of %d intact", mode, intact, R / 2);
    }
    mi_collect(true);
  }
  // The thread's heap still works after all that.
  void* p = mi_malloc(64);
  CHECK(p != NULL);
  mi_free(p);
  printf("remote frees: delete after, destroy after, delete during: done\n");
}

// ---------------------------------------------------------------------------
// 8. collection keeps live blocks
// ---------------------------------------------------------------------------
static void test_collect(void) {
  mi_heap_t* heap = mi_heap_new();
  CHECK(heap != NULL);
  if (heap == NULL) return;
  static void* blocks[2000];
  for (size_t i = 0; i < 2000; i++) {
    blocks[i] = mi_heap_malloc(heap, block_size_for(i) % (300 * MI_TEST_KIB) + 1);
    mi_test_pattern_fill(blocks[i], 0, block_size_for(i) % (300 * MI_TEST_KIB) + 1, i + 3);
  }
  for (size_t i = 0; i < 2000; i += 3) {
    mi_free(blocks[i]);
    blocks[i] = NULL;
  }
  mi_heap_collect(heap, false);
  mi_heap_collect(heap, true);
  mi_collect(false);
  mi_collect(true);
  mi_heap_collect(NULL, true); // ignored
  size_t intact = 0, expected = 0;
  for (size_t i = 0; i < 2000; i++) {
    if (blocks[i] == NULL) continue;
    expected++;
    intact += mi_test_pattern_ok(blocks[i], 0, block_size_for(i) % (300 * MI_TEST_KIB) + 1, i + 3);
    CHECK(mi_heap_contains_block(heap, blocks[i]));
  }
  CHECK(intact == expected);
  mi_heap_destroy(heap);
}

// ---------------------------------------------------------------------------
// 9. heap in an arena
// ---------------------------------------------------------------------------
static void test_heap_in_arena(void) {
  mi_arena_id_t id = 0;
  CHECK(mi_reserve_os_memory_ex(64 * MI_TEST_MIB, true, false, true, &id) == 0);
  size_t size = 0;
  uint8_t* start = (uint8_t*)mi_arena_area(id, &size);
  CHECK(start != NULL && size >= 64 * MI_TEST_MIB);
  mi_heap_t* heap = mi_heap_new_in_arena(id);
  CHECK(heap != NULL);
  if (heap == NULL || start == NULL) return;
  size_t inside = 0;
  for (size_t i = 0; i < 300; i++) {
    uint8_t* p = (uint8_t*)mi_heap_malloc(heap, 16 + i * 97);
    if (p != NULL && p >= start && p + 16 + i * 97 <= start + size) inside++;
  }
  CHECK(inside == 300);
  mi_heap_destroy(heap);
}

// ---------------------------------------------------------------------------
// 10. abandoned blocks of exited threads
// ---------------------------------------------------------------------------
#define LEAVERS 4
#define LEFT_PER_THREAD 600

typedef struct leaver_s {
  size_t index;
  pthread_barrier_t* done;
  void* blocks[LEFT_PER_THREAD];
  size_t sizes[LEFT_PER_THREAD];
} leaver_t;

static void* leaver_thread(void* arg) {
  leaver_t* l = (leaver_t*)arg;
  mi_heap_t* tagged = mi_heap_new_ex(3, false, 0); // not deleted: thread exit does it
  for (size_t i = 0; i < LEFT_PER_THREAD; i++) {
    l->sizes[i] = block_size_for(i * 7 + l->index) % (200 * MI_TEST_KIB) + 1;
    l->blocks[i] = (i % 2 == 1 && tagged != NULL ? mi_heap_malloc(tagged, l->sizes[i]) : mi_malloc(l->sizes[i]));
    if (l->blocks[i] != NULL) mi_test_pattern_fill(l->blocks[i], 0, l->sizes[i], l->index * 10000 + i);
  }
  pthread_barrier_wait(l->done);
  return NULL;
}

static void test_abandoned_visit(void) {
  static leaver_t leavers[LEAVERS];
  pthread_t threads[LEAVERS];
  // All threads finish allocating before any exits (barrier), so no thread
  // reclaims another's pages into a heap of a different tag.
  pthread_barrier_t done;
  pthread_barrier_init(&done, NULL, LEAVERS);
  for (size_t t = 0; t < LEAVERS; t++) {
    leavers[t].index = t;
    leavers[t].done = &done;
    CHECK(pthread_create(&threads[t], NULL, &leaver_thread, &leavers[t]) == 0);
  }
  for (size_t t = 0; t < LEAVERS; t++) pthread_join(threads[t], NULL);
  pthread_barrier_destroy(&done);

  static void* left[LEAVERS * LEFT_PER_THREAD];
  static void* left_tagged[LEAVERS * LEFT_PER_THREAD];
  size_t n = 0, n_tagged = 0;
  for (size_t t = 0; t < LEAVERS; t++) {
    for (size_t i = 0; i < LEFT_PER_THREAD; i++) {
      left[n++] = leavers[t].blocks[i];
      if (i % 2 == 1) left_tagged[n_tagged++] = leavers[t].blocks[i];
    }
  }
  visit_t v;
  visit_init(&v, left, n, -1);
  CHECK(mi_abandoned_visit_blocks(mi_subproc_main(), -1, true, &visitor, &v));
  CHECKF(visit_seen_once(&v) == n, "abandoned: %zu of %zu left blocks visited exactly once", visit_seen_once(&v), n);
  CHECK(v.bad_size == 0);
  size_t all_blocks = v.blocks;
  free(v.seen);

  visit_init(&v, left_tagged, n_tagged, 3);
  CHECK(mi_abandoned_visit_blocks(mi_subproc_main(), 3, true, &visitor, &v));
  CHECKF(visit_seen_once(&v) == n_tagged, "abandoned, tag 3: %zu of %zu visited", visit_seen_once(&v), n_tagged);
  CHECKF(v.unknown == 0, "abandoned, tag 3: %zu blocks of other tags visited", v.unknown);
  CHECK(v.bad_tag == 0);
  free(v.seen);

  // Verify and free everything from this thread; then none of it is visited.
  size_t intact = 0;
  for (size_t t = 0; t < LEAVERS; t++) {
    for (size_t i = 0; i < LEFT_PER_THREAD; i++) {
      intact += mi_test_pattern_ok(leavers[t].blocks[i], 0, leavers[t].sizes[i], t * 10000 + i);
      mi_free(leavers[t].blocks[i]);
    }
  }
  CHECK(intact == n);
  qsort(left, n, sizeof(void*), &compare_pointers); // (visit_init sorts again; harmless)
  visit_init(&v, left, n, -1);
  CHECK(mi_abandoned_visit_blocks(mi_subproc_main(), -1, true, &visitor, &v));
  size_t still = 0;
  for (size_t i = 0; i < n; i++) still += (v.seen[i] != 0);
  CHECKF(still == 0, "%zu freed blocks still visited", still);
  free(v.seen);
  printf("abandoned: %zu blocks left by %d exited threads, %zu visited in all, %zu with tag 3\n", n, LEAVERS,
         all_blocks, n_tagged);
}

int main(void) {
  mi_option_enable(mi_option_visit_abandoned); // before any thread runs
  test_allocation_forms();
  test_delete_keeps_blocks();
  test_destroy();
  test_default_heap();
  test_ownership();
  test_visit();
  test_remote_frees();
  test_collect();
  test_heap_in_arena();
  test_abandoned_visit();
  return mi_test_summary("test-api-heap");
}

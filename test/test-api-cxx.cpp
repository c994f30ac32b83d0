// ----------------------------------------------------------------------------
// API test: the C++ interface.
//
//  1. mi_new / mi_new_nothrow / mi_new_aligned / mi_new_aligned_nothrow /
//     mi_new_n / mi_new_realloc / mi_new_reallocn: sizes, alignment, contents;
//  2. failure semantics: impossible requests throw std::bad_alloc (or give
//     nullptr for the nothrow forms); an installed new-handler is called and
//     the allocation retried; overflowing counts throw;
//  3. mi_stl_allocator with std::vector, std::map and std::string: every
//     element lives in memory of the thread's default heap;
//  4. mi_heap_stl_allocator on a fresh heap (rebinding containers share it)
//     and on an existing heap; mi_heap_destroy_stl_allocator releases its heap
//     in one go with the last allocator copy.
// ----------------------------------------------------------------------------
#include <mimalloc.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <new>
#include <string>
#include <vector>

static std::atomic<size_t> checks_done{0};
static std::atomic<size_t> checks_failed{0};

#define CHECK(cond)                                                                  \
  do {                                                                               \
    checks_done++;                                                                   \
    if (!(cond)) {                                                                   \
      if (checks_failed++ < 50) std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                                \
  } while (0)

static bool is_aligned(const void* p, size_t alignment) { return (reinterpret_cast<uintptr_t>(p) % alignment) == 0; }

static size_t opaque(size_t n) {
  volatile size_t hidden = n;
  return hidden;
}

// ---------------------------------------------------------------------------
// 1. allocation entry points
// ---------------------------------------------------------------------------
static void test_new_forms() {
  const size_t sizes[] = {0, 1, 24, 1000, 70000, 3 * 1024 * 1024, 20 * 1024 * 1024};
  for (size_t size : sizes) {
    void* p = mi_new(size);
    CHECK(p != nullptr && mi_usable_size(p) >= size);
    if (p != nullptr && size > 0) std::memset(p, 0x5C, size);
    void* q = mi_new_nothrow(size);
    CHECK(q != nullptr && mi_usable_size(q) >= size);
    mi_free(p);
    mi_free(q);
  }
  const size_t alignments[] = {16, 64, 4096, 65536, 1024 * 1024};
  for (size_t al : alignments) {
    void* p = mi_new_aligned(100, al);
    void* q = mi_new_aligned_nothrow(5000, al);
    CHECK(p != nullptr && is_aligned(p, al));
    CHECK(q != nullptr && is_aligned(q, al) && mi_usable_size(q) >= 5000);
    mi_free_aligned(p, al);
    mi_free_size_aligned(q, 5000, al);
  }
  int* n = static_cast<int*>(mi_new_n(1000, sizeof(int)));
  CHECK(n != nullptr && mi_usable_size(n) >= 1000 * sizeof(int));
  for (int i = 0; i < 1000; i++) n[i] = i;
  n = static_cast<int*>(mi_new_realloc(n, 5000 * sizeof(int)));
  CHECK(n != nullptr && mi_usable_size(n) >= 5000 * sizeof(int));
  bool kept = (n != nullptr);
  for (int i = 0; kept && i < 1000; i++) kept = (n[i] == i);
  CHECK(kept);
  n = static_cast<int*>(mi_new_reallocn(n, 20000, sizeof(int)));
  CHECK(n != nullptr && mi_usable_size(n) >= 20000 * sizeof(int));
  kept = (n != nullptr);
  for (int i = 0; kept && i < 1000; i++) kept = (n[i] == i);
  CHECK(kept);
  mi_free_size(n, 20000 * sizeof(int));
  void* fresh = mi_new_realloc(nullptr, 64); // like mi_new
  CHECK(fresh != nullptr && mi_usable_size(fresh) >= 64);
  mi_free(fresh);
}

// ---------------------------------------------------------------------------
// 2. failure semantics
// ---------------------------------------------------------------------------
static int handler_calls = 0;

static void one_shot_new_handler() {
  handler_calls++;
  std::set_new_handler(nullptr); // the retry fails again and then throws
}

static void test_failures() {
  mi_register_error(nullptr, nullptr);
  bool threw = false;
  try {
    void* p = mi_new(opaque(SIZE_MAX / 2 + 1));
    mi_free(p);
  } catch (const std::bad_alloc&) {
    threw = true;
  }
  CHECK(threw);
  CHECK(mi_new_nothrow(opaque(SIZE_MAX / 2 + 1)) == nullptr);
  CHECK(mi_new_aligned_nothrow(opaque(SIZE_MAX / 2 + 1), 64) == nullptr);

  threw = false;
  try {
    void* p = mi_new_n(opaque(SIZE_MAX / 4), 8); // count * size overflows
    mi_free(p);
  } catch (const std::bad_alloc&) {
    threw = true;
  }
  CHECK(threw);

  threw = false;
  try {
    void* p = mi_new_aligned(opaque(SIZE_MAX / 2 + 1), 4096);
    mi_free(p);
  } catch (const std::bad_alloc&) {
    threw = true;
  }
  CHECK(threw);

  // A new-handler is called before giving up.
  handler_calls = 0;
  std::set_new_handler(&one_shot_new_handler);
  threw = false;
  try {
    void* p = mi_new(opaque(SIZE_MAX / 2 + 1));
    mi_free(p);
  } catch (const std::bad_alloc&) {
    threw = true;
  }
  CHECK(threw);
  CHECK(handler_calls == 1);
  std::set_new_handler(nullptr);

  // A new-handler on the nothrow path too (then nullptr).
  handler_calls = 0;
  std::set_new_handler(&one_shot_new_handler);
  CHECK(mi_new_nothrow(opaque(SIZE_MAX / 2 + 1)) == nullptr);
  CHECK(handler_calls == 1);
  std::set_new_handler(nullptr);

  // mi_new_realloc failing leaves the block alone and throws.
  char* keep = static_cast<char*>(mi_new(32));
  std::strcpy(keep, "unchanged");
  threw = false;
  try {
    void* p = mi_new_realloc(keep, opaque(SIZE_MAX / 2 + 1));
    if (p != nullptr) keep = static_cast<char*>(p);
  } catch (const std::bad_alloc&) {
    threw = true;
  }
  CHECK(threw);
  CHECK(std::strcmp(keep, "unchanged") == 0);
  mi_free(keep);
}

// ---------------------------------------------------------------------------
// 3. mi_stl_allocator
// ---------------------------------------------------------------------------
static void test_stl_allocator() {
  mi_heap_t* heap = mi_heap_get_default();
  std::vector<int, mi_stl_allocator<int>> v;
  for (int i = 0; i < 100000; i++) v.push_back(i);
  CHECK(v.size() == 100000 && v[99999] == 99999);
  CHECK(mi_heap_contains_block(heap, v.data()));
  v.shrink_to_fit();
  CHECK(mi_heap_contains_block(heap, v.data()));

  typedef std::basic_string<char, std::char_traits<char>, mi_stl_allocator<char>> mi_string;
  std::map<int, mi_string, std::less<int>, mi_stl_allocator<std::pair<const int, mi_string>>> m;
  for (int i = 0; i < 2000; i++) m[i] = mi_string(100 + (i % 7), static_cast<char>('a' + i % 26));
  CHECK(m.size() == 2000);
  CHECK(m[1999].size() == 100 + (1999 % 7) && m[1999][0] == static_cast<char>('a' + 1999 % 26));
  CHECK(mi_heap_contains_block(heap, m[5].data()));
  size_t node_in_heap = 0;
  for (auto& kv : m) node_in_heap += mi_heap_check_owned(heap, &kv) ? 1 : 0;
  CHECK(node_in_heap == m.size());
  for (int i = 0; i < 2000; i += 2) m.erase(i);
  CHECK(m.size() == 1000);

  mi_stl_allocator<int> a;
  mi_stl_allocator<double> b(a);
  CHECK(a == b && !(a != b));
  int* raw = a.allocate(10);
  CHECK(raw != nullptr && mi_usable_size(raw) >= 10 * sizeof(int));
  a.deallocate(raw, 10);
  CHECK(a.max_size() >= 1000);
}

// ---------------------------------------------------------------------------
// 4. heap allocators
// ---------------------------------------------------------------------------
static void test_heap_allocators() {
  {
    mi_heap_stl_allocator<int> alloc; // a fresh heap
    std::vector<int, mi_heap_stl_allocator<int>> v(alloc);
    for (int i = 0; i < 50000; i++) v.push_back(i);
    CHECK(v[49999] == 49999);
    CHECK(!mi_heap_contains_block(mi_heap_get_default(), v.data()));
    std::map<int, int, std::less<int>, mi_heap_stl_allocator<std::pair<const int, int>>> m(alloc);
    for (int i = 0; i < 1000; i++) m[i] = i * 2;
    CHECK(m[999] == 1998);
    mi_heap_stl_allocator<std::pair<const int, int>> rebound(alloc);
    CHECK((rebound == mi_heap_stl_allocator<std::pair<const int, int>>(alloc)));
    mi_heap_stl_allocator<int> other; // another fresh heap
    CHECK(other != alloc);
    alloc.collect(true);
    CHECK(v[12345] == 12345 && m[500] == 1000);
  } // last copies gone: the heaps are deleted

  mi_heap_t* heap = mi_heap_new();
  CHECK(heap != nullptr);
  {
    mi_heap_stl_allocator<long> on_heap(heap);
    std::vector<long, mi_heap_stl_allocator<long>> v(on_heap);
    for (long i = 0; i < 10000; i++) v.push_back(i);
    CHECK(mi_heap_contains_block(heap, v.data()));
  }
  // The existing heap was left alone by the allocator: still usable.
  void* p = mi_heap_malloc(heap, 100);
  CHECK(p != nullptr && mi_heap_contains_block(heap, p));
  mi_free(p);
  mi_heap_delete(heap);

  {
    mi_heap_destroy_stl_allocator<int> destroying;
    std::vector<int, mi_heap_destroy_stl_allocator<int>> v(destroying);
    for (int i = 0; i < 100000; i++) v.push_back(i); // deallocations are no-ops
    CHECK(v[99999] == 99999);
    std::map<int, int, std::less<int>, mi_heap_destroy_stl_allocator<std::pair<const int, int>>> m(destroying);
    for (int i = 0; i < 1000; i++) m[i] = i;
    CHECK(m.size() == 1000);
  } // heap destroyed with everything in it
  void* after = mi_malloc(64);
  CHECK(after != nullptr);
  mi_free(after);
}

int main() {
  test_new_forms();
  test_failures();
  test_stl_allocator();
  test_heap_allocators();
  size_t done = checks_done, failed = checks_failed;
  std::printf("test-api-cxx: %zu checks, %zu failures: %s\n", done, failed, failed == 0 ? "OK" : "FAILED");
  return failed == 0 ? 0 : 1;
}

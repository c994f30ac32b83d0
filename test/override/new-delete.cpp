/* ----------------------------------------------------------------------------
override-new-delete: every form of C++ operator new/delete, run with
LD_PRELOAD=libmimalloc.so (the program itself is not linked with it).

  - all 20 operator symbols resolve to the preloaded library;
  - plain, array, nothrow, aligned and aligned-nothrow new return our blocks
    (aligned as requested); every delete form (plain, sized, nothrow,
    aligned, sized aligned, aligned nothrow) releases them;
  - new-expressions with over-aligned types use the aligned forms;
  - a request that cannot be satisfied throws std::bad_alloc (a real one:
    typeid, what(), catch as std::exception, rethrow via exception_ptr), the
    nothrow forms return nullptr;
  - an installed new_handler is called before giving up, for throwing and
    nothrow forms alike, and an exception thrown by the handler reaches the
    caller through the allocator's C frames;
  - mi_new_n / mi_new_realloc / mi_new_reallocn (looked up at run time)
    throw on overflow and keep the old block;
  - standard containers in several threads, freed across threads.
-----------------------------------------------------------------------------*/
#include "override-common.h"

#include <cstdint>
#include <exception>
#include <map>
#include <new>
#include <string>
#include <thread>
#include <typeinfo>
#include <unordered_map>
#include <vector>

namespace {

typedef void* (*mi_new_n_fun_t)(size_t count, size_t size);
typedef void* (*mi_new_realloc_fun_t)(void* p, size_t newsize);
typedef void* (*mi_new_reallocn_fun_t)(void* p, size_t newcount, size_t size);
typedef void  (*mi_free_fun_t)(void* p);

mi_new_n_fun_t        mi_new_n_call;
mi_new_realloc_fun_t  mi_new_realloc_call;
mi_new_reallocn_fun_t mi_new_reallocn_call;
mi_free_fun_t         mi_free_call;

bool aligned_to(const void* p, size_t alignment) {
  return (reinterpret_cast<uintptr_t>(p) % alignment) == 0;
}

// Results of allocations that are expected to fail are stored here, so the
// compiler cannot elide a new/delete pair (allowed since C++14).
void* volatile sink;

// A size no allocator can satisfy (more than half the address space).
size_t impossible_size() {
  return ovr_opaque_size(SIZE_MAX / 2 + 1);
}

void check_symbols() {
  for (size_t i = 0; i < OVR_CXX_OPERATOR_COUNT; i++) {
    OVR_CHECKF(ovr_symbol_from_mimalloc(ovr_cxx_operator_symbols[i]), "%s is not served by libmimalloc", ovr_cxx_operator_symbols[i]);
  }
}

void check_operator_forms() {
  const std::nothrow_t& nothrow = std::nothrow;
  for (size_t size : { size_t(0), size_t(1), size_t(24), size_t(1000), size_t(70000), size_t(3) << 20 }) {
    void* p = ::operator new(size);
    OVR_CHECKF(ovr_is_ours(p), "operator new(%zu)", size);
    ::operator delete(p);
    p = ::operator new[](size);
    OVR_CHECKF(ovr_is_ours(p), "operator new[](%zu)", size);
    ::operator delete[](p);

    p = ::operator new(size);
    ::operator delete(p, size);                       // sized
    p = ::operator new[](size);
    ::operator delete[](p, size);                     // sized array

    p = ::operator new(size, nothrow);
    OVR_CHECKF(ovr_is_ours(p), "operator new(%zu, nothrow)", size);
    ::operator delete(p, nothrow);                    // nothrow delete
    p = ::operator new[](size, nothrow);
    OVR_CHECKF(ovr_is_ours(p), "operator new[](%zu, nothrow)", size);
    ::operator delete[](p, nothrow);

    for (size_t alignment : { size_t(16), size_t(64), size_t(256), size_t(4096), size_t(1) << 16 }) {
      const std::align_val_t al = static_cast<std::align_val_t>(alignment);
      p = ::operator new(size, al);
      OVR_CHECKF(ovr_is_ours(p) && aligned_to(p, alignment), "operator new(%zu, align %zu)", size, alignment);
      ::operator delete(p, al);
      p = ::operator new[](size, al);
      OVR_CHECKF(ovr_is_ours(p) && aligned_to(p, alignment), "operator new[](%zu, align %zu)", size, alignment);
      ::operator delete[](p, al);

      p = ::operator new(size, al);
      ::operator delete(p, size, al);                 // sized aligned
      p = ::operator new[](size, al);
      ::operator delete[](p, size, al);

      p = ::operator new(size, al, nothrow);
      OVR_CHECKF(ovr_is_ours(p) && aligned_to(p, alignment), "operator new(%zu, align %zu, nothrow)", size, alignment);
      ::operator delete(p, al, nothrow);              // aligned nothrow delete
      p = ::operator new[](size, al, nothrow);
      OVR_CHECKF(ovr_is_ours(p) && aligned_to(p, alignment), "operator new[](%zu, align %zu, nothrow)", size, alignment);
      ::operator delete[](p, al, nothrow);
    }
  }
}

struct alignas(256) OverAligned {
  unsigned char bytes[300];
};

struct Plain {
  std::string name;
  std::vector<int> values;
};

void check_new_expressions() {
  int* one = new int(42);
  OVR_CHECK(ovr_is_ours(one) && *one == 42);
  delete one;
  int* many = new int[1000]();
  OVR_CHECK(ovr_is_ours(many) && many[999] == 0);
  delete[] many;
  OverAligned* big = new OverAligned();
  OVR_CHECK(ovr_is_ours(big) && aligned_to(big, 256));
  delete big;
  OverAligned* bigs = new OverAligned[7];
  OVR_CHECK(ovr_is_ours(bigs) && aligned_to(bigs, 256));
  delete[] bigs;
  OverAligned* maybe = new (std::nothrow) OverAligned;
  OVR_CHECK(ovr_is_ours(maybe) && aligned_to(maybe, 256));
  delete maybe;
  Plain* plain = new Plain{ std::string(100, 'x'), std::vector<int>(1000, 3) };
  OVR_CHECK(ovr_is_ours(plain) && ovr_is_ours(plain->name.data()) && ovr_is_ours(plain->values.data()));
  delete plain;
}

void check_bad_alloc() {
  size_t thrown = 0;
  try {
    sink = ::operator new(impossible_size());
    ::operator delete(sink);
  }
  catch (const std::bad_alloc& e) {
    thrown++;
    OVR_CHECK(typeid(e) == typeid(std::bad_alloc));
    OVR_CHECK(e.what() != nullptr && e.what()[0] != 0);
  }
  OVR_CHECK(thrown == 1);

  // Caught as std::exception, captured and rethrown through exception_ptr.
  std::exception_ptr captured;
  try {
    sink = new char[impossible_size()];
    delete[] static_cast<char*>(sink);
  }
  catch (const std::exception& e) {
    thrown++;
    OVR_CHECK(dynamic_cast<const std::bad_alloc*>(&e) != nullptr);
    captured = std::current_exception();
  }
  OVR_CHECK(thrown == 2 && captured != nullptr);
  try {
    if (captured) std::rethrow_exception(captured);
  }
  catch (const std::bad_alloc&) {
    thrown++;
  }
  OVR_CHECK(thrown == 3);
  captured = nullptr;   // releases the exception object (runs ~bad_alloc)

  try {
    sink = ::operator new[](impossible_size(), std::align_val_t(64));
    ::operator delete[](sink, std::align_val_t(64));
  }
  catch (const std::bad_alloc&) {
    thrown++;
  }
  OVR_CHECK(thrown == 4);

  sink = ::operator new(impossible_size(), std::nothrow);
  OVR_CHECK(sink == nullptr);
  sink = ::operator new[](impossible_size(), std::nothrow);
  OVR_CHECK(sink == nullptr);
  sink = ::operator new(impossible_size(), std::align_val_t(128), std::nothrow);
  OVR_CHECK(sink == nullptr);
  sink = ::operator new[](impossible_size(), std::align_val_t(128), std::nothrow);
  OVR_CHECK(sink == nullptr);
}

int handler_calls = 0;
int handler_calls_before_giving_up = 0;

// Called by operator new on failure; gives up (uninstalls itself) after a
// number of calls, after which operator new must throw or return nullptr.
void counting_handler() {
  handler_calls++;
  if (handler_calls >= handler_calls_before_giving_up) std::set_new_handler(nullptr);
}

struct HandlerGaveUp {
  int calls;
};

void throwing_handler() {
  handler_calls++;
  throw HandlerGaveUp{ handler_calls };
}

void check_new_handler() {
  handler_calls = 0;
  handler_calls_before_giving_up = 3;
  std::set_new_handler(&counting_handler);
  bool got_bad_alloc = false;
  try {
    sink = ::operator new(impossible_size());
    ::operator delete(sink);
  }
  catch (const std::bad_alloc&) {
    got_bad_alloc = true;
  }
  OVR_CHECKF(got_bad_alloc && handler_calls == 3, "throwing new: bad_alloc %d, handler calls %d (expected 3)", got_bad_alloc, handler_calls);
  OVR_CHECK(std::get_new_handler() == nullptr);

  handler_calls = 0;
  handler_calls_before_giving_up = 2;
  std::set_new_handler(&counting_handler);
  sink = ::operator new(impossible_size(), std::align_val_t(32), std::nothrow);
  OVR_CHECKF(sink == nullptr && handler_calls == 2, "nothrow aligned new: handler calls %d (expected 2)", handler_calls);

  handler_calls = 0;
  handler_calls_before_giving_up = 4;
  std::set_new_handler(&counting_handler);
  sink = ::operator new[](impossible_size(), std::nothrow);
  OVR_CHECKF(sink == nullptr && handler_calls == 4, "nothrow new[]: handler calls %d (expected 4)", handler_calls);

  // A handler's own exception travels through the allocator's C frames.
  handler_calls = 0;
  std::set_new_handler(&throwing_handler);
  int caught_calls = 0;
  try {
    sink = ::operator new(impossible_size(), std::align_val_t(64));
    ::operator delete(sink, std::align_val_t(64));
  }
  catch (const HandlerGaveUp& e) {
    caught_calls = e.calls;
  }
  std::set_new_handler(nullptr);
  OVR_CHECK(caught_calls == 1 && handler_calls == 1);

  // With a handler installed, successful allocations never call it.
  handler_calls = 0;
  handler_calls_before_giving_up = 1;
  std::set_new_handler(&counting_handler);
  std::vector<std::string> fine(1000, std::string(50, 'y'));
  OVR_CHECK(handler_calls == 0 && ovr_is_ours(fine.data()));
  std::set_new_handler(nullptr);
}

void check_mi_new_api() {
  ovr_lookup("mi_new_n", &mi_new_n_call, sizeof(mi_new_n_call));
  ovr_lookup("mi_new_realloc", &mi_new_realloc_call, sizeof(mi_new_realloc_call));
  ovr_lookup("mi_new_reallocn", &mi_new_reallocn_call, sizeof(mi_new_reallocn_call));
  ovr_lookup("mi_free", &mi_free_call, sizeof(mi_free_call));
  OVR_CHECK(mi_new_n_call != nullptr && mi_new_realloc_call != nullptr && mi_new_reallocn_call != nullptr && mi_free_call != nullptr);
  if (mi_new_n_call == nullptr || mi_new_realloc_call == nullptr || mi_new_reallocn_call == nullptr || mi_free_call == nullptr) return;

  void* block = mi_new_n_call(100, 8);
  OVR_CHECK(ovr_is_ours(block) && ovr_usable_size(block) >= 800);
  ovr_fill(block, 800, 17);
  bool thrown = false;
  try {
    void* never = mi_new_n_call(ovr_opaque_size(SIZE_MAX / 4), 8);
    mi_free_call(never);
  }
  catch (const std::bad_alloc&) {
    thrown = true;
  }
  OVR_CHECK(thrown);

  thrown = false;
  try {
    void* never = mi_new_reallocn_call(block, ovr_opaque_size(SIZE_MAX / 4), 8);
    mi_free_call(never);
  }
  catch (const std::bad_alloc&) {
    thrown = true;
  }
  OVR_CHECK(thrown && ovr_verify(block, 800, 17));   // the old block survives

  thrown = false;
  try {
    void* never = mi_new_realloc_call(block, impossible_size());
    mi_free_call(never);
  }
  catch (const std::bad_alloc&) {
    thrown = true;
  }
  OVR_CHECK(thrown && ovr_verify(block, 800, 17));

  void* grown = mi_new_reallocn_call(block, 1000, 100);
  OVR_CHECK(ovr_is_ours(grown) && ovr_verify(grown, 800, 17));
  mi_free_call(grown);
}

void check_containers_across_threads() {
  const int thread_count = 4;
  std::vector<std::map<std::string, std::vector<int>>*> results(thread_count, nullptr);
  std::vector<std::thread> threads;
  for (int t = 0; t < thread_count; t++) {
    threads.emplace_back([t, &results]() {
      auto* result = new std::map<std::string, std::vector<int>>();
      std::unordered_map<int, std::string> scratch;
      for (int i = 0; i < 20000; i++) {
        scratch[i % 3000] = std::to_string(i * (t + 1)) + std::string(static_cast<size_t>(i % 40), 'z');
        if (i % 10 == 0) (*result)["key-" + std::to_string(i)].assign(static_cast<size_t>(i % 100), i);
      }
      results[static_cast<size_t>(t)] = result;
    });
  }
  for (auto& thread : threads) thread.join();
  size_t entries = 0;
  size_t foreign = 0;
  for (auto* result : results) {
    OVR_CHECK(result != nullptr && ovr_is_ours(result));
    if (result == nullptr) continue;
    for (const auto& entry : *result) {
      entries++;
      if (!entry.second.empty() && !ovr_is_ours(entry.second.data())) foreign++;
    }
    delete result;   // freed by a thread other than the (exited) allocating one
  }
  OVR_CHECK(entries == static_cast<size_t>(thread_count) * 2000);
  OVR_CHECK(foreign == 0);
}

}  // namespace

int main() {
  ovr_init("override-new-delete");
  check_symbols();
  check_operator_forms();
  check_new_expressions();
  check_bad_alloc();
  check_new_handler();
  check_mi_new_api();
  check_containers_across_threads();
  return ovr_summary("override-new-delete");
}

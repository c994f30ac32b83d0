// Consumer of the installed package: C++, static library via find_package.
// Linking libmimalloc.a also replaces malloc and operator new.
#include <mimalloc.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

static int fail(const char* what) {
  std::fprintf(stderr, "consumer cxx-static: %s\n", what);
  return 1;
}

int main() {
  if (mi_version() != MI_MALLOC_VERSION) return fail("mi_version() != MI_MALLOC_VERSION");
  std::vector<int, mi_stl_allocator<int>> v;
  for (int i = 0; i < 10000; i++) v.push_back(i);
  if (v[9999] != 9999 || !mi_is_in_heap_region(v.data())) return fail("mi_stl_allocator");
  std::map<int, std::string> m; // global operator new
  for (int i = 0; i < 100; i++) m[i] = std::string(50, 'x');
  int* n = new int[1000];
  void* c = std::malloc(100);
  bool overridden = mi_is_in_heap_region(n) && mi_is_in_heap_region(c);
  delete[] n;
  std::free(c);
  if (!overridden) return fail("malloc/new are not served by the static library");
  void* p = mi_new_aligned(100, 64);
  if (p == nullptr || (reinterpret_cast<size_t>(p) % 64) != 0) return fail("mi_new_aligned");
  mi_free(p);
  std::printf("consumer cxx-static: mimalloc %d, calls ok, malloc and new overridden\n", mi_version());
  return 0;
}

/* ----------------------------------------------------------------------------
Debug fill (MI_DEBUG >= 2): new memory reads MI_DEBUG_UNINIT (0xD0), freed
memory MI_DEBUG_FREED (0xDF) beyond the free-list link, and mi_calloc /
mi_zalloc / mi_rezalloc stay zero even on reused, filled memory.
-----------------------------------------------------------------------------*/
#include "test-common.h"

static bool all_bytes(const uint8_t* p, size_t from, size_t to, uint8_t value) {
  for (size_t i = from; i < to; i++)
    if (p[i] != value)
      return false;
  return true;
}

int main(void) {
  static const size_t sizes[] = {8, 24, 100, 1024, 5000, 40000, 300000};
  for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
    size_t n = sizes[i];
    void* keep = mi_malloc(n); // keeps the page in use while p is free
    uint8_t* p = (uint8_t*)mi_malloc(n);
    CHECKF(all_bytes(p, 0, n, MI_DEBUG_UNINIT), "size %zu: new block not filled with 0xD0", n);
    memset(p, 0x11, n);
    mi_free(p);
    // Reading freed memory is what a debugger does; the allocator still owns it.
    const volatile uint8_t* freed = p;
    CHECKF(all_bytes((const uint8_t*)freed, sizeof(void*), n, MI_DEBUG_FREED), "size %zu: freed block not 0xDF", n);
    uint8_t* z = (uint8_t*)mi_zalloc(n);
    CHECKF(all_bytes(z, 0, n, 0), "size %zu: mi_zalloc not zero", n);
    memset(z, 0x22, n);
    mi_free(z);
    uint8_t* c = (uint8_t*)mi_calloc(1, n);
    CHECKF(all_bytes(c, 0, n, 0), "size %zu: mi_calloc not zero", n);
    c = (uint8_t*)mi_rezalloc(c, 2 * n);
    CHECKF(c != NULL && all_bytes(c, 0, 2 * n, 0), "size %zu: mi_rezalloc not zero", n);
    mi_free(c);
    mi_free(keep);
  }
  return mi_test_summary("test-debug-fill");
}

/* ----------------------------------------------------------------------------
override-dlopen: blocks crossing between the main program and a dlopen'ed
module, with the allocator preloaded.

Each of LOAD_ROUNDS rounds dlopen()s the module (argv[1]), then:
  - checks the block its constructor allocated is ours and intact,
  - main allocates blocks that the module checks and frees,
  - the module allocates blocks that main checks and frees,
  - main reallocs a module block, the module reallocs a main block,
  - a thread started inside the module allocates blocks and exits (its key
    destructor frees a thread-local buffer); main frees the blocks,
and finally dlclose()s the module, whose destructor frees its block.
-----------------------------------------------------------------------------*/
#define _GNU_SOURCE
#include "override-common.h"

#define LOAD_ROUNDS  6
#define BLOCK_COUNT  3000

typedef void* (*lib_constructor_block_fun_t)(size_t* size);
typedef void* (*lib_alloc_fun_t)(size_t size, uint64_t seed);
typedef bool  (*lib_check_and_free_fun_t)(void* block, size_t size, uint64_t seed);
typedef void* (*lib_realloc_fun_t)(void* block, size_t size);
typedef bool  (*lib_alloc_in_thread_fun_t)(void** blocks, size_t count, uint64_t seed);
typedef int   (*lib_key_destructor_runs_fun_t)(void);

static void* module_symbol(void* module, const char* name) {
  void* address = dlsym(module, name);
  if (address == NULL) {
    fprintf(stderr, "override-dlopen: symbol %s missing: %s\n", name, dlerror());
    exit(2);
  }
  return address;
}

#define RESOLVE(var, name) do { void* a_ = module_symbol(module, name); memcpy(&(var), &a_, sizeof(var)); } while (0)

static size_t block_size(size_t i) {
  return (i % 97 == 0 ? 70000 + i : 8 + (i * 53) % 2000);
}

static void* blocks[BLOCK_COUNT];

int main(int argc, char** argv) {
  ovr_init("override-dlopen");
  if (argc < 2) {
    fprintf(stderr, "usage: override-dlopen <path-to-module>\n");
    return 2;
  }
  size_t crossed = 0;
  for (size_t round = 0; round < LOAD_ROUNDS; round++) {
    void* module = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (module == NULL) {
      fprintf(stderr, "override-dlopen: dlopen failed: %s\n", dlerror());
      return 2;
    }
    lib_constructor_block_fun_t lib_constructor_block;
    lib_alloc_fun_t lib_alloc;
    lib_check_and_free_fun_t lib_check_and_free;
    lib_realloc_fun_t lib_realloc;
    lib_alloc_in_thread_fun_t lib_alloc_in_thread;
    lib_key_destructor_runs_fun_t lib_key_destructor_runs;
    RESOLVE(lib_constructor_block, "lib_constructor_block");
    RESOLVE(lib_alloc, "lib_alloc");
    RESOLVE(lib_check_and_free, "lib_check_and_free");
    RESOLVE(lib_realloc, "lib_realloc");
    RESOLVE(lib_alloc_in_thread, "lib_alloc_in_thread");
    RESOLVE(lib_key_destructor_runs, "lib_key_destructor_runs");

    size_t constructor_size = 0;
    char* constructor_block = (char*)lib_constructor_block(&constructor_size);
    OVR_CHECK(ovr_is_ours(constructor_block) && constructor_size == 100000);
    if (constructor_block != NULL) {
      bool intact = true;
      for (size_t i = 0; i < constructor_size; i++) intact = intact && (constructor_block[i] == 'c');
      OVR_CHECK(intact);
    }

    // main -> module
    size_t bad = 0;
    for (size_t i = 0; i < BLOCK_COUNT; i++) {
      blocks[i] = malloc(block_size(i));
      if (!ovr_is_ours(blocks[i])) bad++;
      ovr_fill(blocks[i], block_size(i), round * 100000 + i);
    }
    for (size_t i = 0; i < BLOCK_COUNT; i++) {
      if (!lib_check_and_free(blocks[i], block_size(i), round * 100000 + i)) bad++;
    }
    OVR_CHECKF(bad == 0, "round %zu: %zu bad blocks main -> module", round, bad);
    crossed += BLOCK_COUNT;

    // module -> main
    bad = 0;
    for (size_t i = 0; i < BLOCK_COUNT; i++) {
      blocks[i] = lib_alloc(block_size(i), round * 7 + i);
      if (!ovr_is_ours(blocks[i])) bad++;
    }
    for (size_t i = 0; i < BLOCK_COUNT; i++) {
      if (!ovr_verify(blocks[i], block_size(i), round * 7 + i)) bad++;
      free(blocks[i]);
    }
    OVR_CHECKF(bad == 0, "round %zu: %zu bad blocks module -> main", round, bad);
    crossed += BLOCK_COUNT;

    // realloc across the boundary
    void* from_module = lib_alloc(100, 5);
    void* grown = realloc(from_module, 100000);
    OVR_CHECK(ovr_is_ours(grown) && ovr_verify(grown, 100, 5));
    free(grown);
    void* from_main = malloc(200);
    ovr_fill(from_main, 200, 6);
    void* grown_by_module = lib_realloc(from_main, 300000);
    OVR_CHECK(ovr_is_ours(grown_by_module) && ovr_verify(grown_by_module, 200, 6));
    OVR_CHECK(lib_check_and_free(grown_by_module, 200, 6));

    // blocks of a thread that lived and died inside the module
    int destructor_runs_before = lib_key_destructor_runs();
    OVR_CHECK(lib_alloc_in_thread(blocks, BLOCK_COUNT, round * 1000));
    OVR_CHECK(lib_key_destructor_runs() == destructor_runs_before + 1);
    bad = 0;
    for (size_t i = 0; i < BLOCK_COUNT; i++) {
      if (!ovr_is_ours(blocks[i]) || !ovr_verify(blocks[i], 16 + (i % 200) * 8, round * 1000 + i)) bad++;
      free(blocks[i]);
    }
    OVR_CHECKF(bad == 0, "round %zu: %zu bad blocks from the module's thread", round, bad);
    crossed += BLOCK_COUNT;

    OVR_CHECK(dlclose(module) == 0);
  }
  printf("override-dlopen: %d load/unload rounds, %zu blocks crossed the module boundary\n", LOAD_ROUNDS, crossed);
  return ovr_summary("override-dlopen");
}

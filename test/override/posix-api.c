/* ----------------------------------------------------------------------------
override-posix-api: the standard allocation names, called by their standard
names in a program run with LD_PRELOAD=libmimalloc.so.

Checks that
  - every name the override layer promises resolves to the preloaded library
    (C functions, glibc's __libc_* entry points, all C++ operator new/delete
    symbols) and that strdup is left to glibc;
  - preloading us into a C program does not load a C++ runtime;
  - blocks from malloc, calloc, realloc, the aligned functions, strdup and
    asprintf (glibc calling our malloc) all come from our heap;
  - bad input is handled as the standards say: posix_memalign EINVAL/ENOMEM
    with *p untouched, aligned_alloc with a bad alignment, calloc and
    reallocarray overflow (the old block stays intact), NetBSD reallocarr.
-----------------------------------------------------------------------------*/
#define _GNU_SOURCE
#include "override-common.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

typedef int   (*reallocarr_fun_t)(void* p, size_t count, size_t size);
typedef void  (*cfree_fun_t)(void* p);
typedef void* (*libc_malloc_fun_t)(size_t size);
typedef void  (*libc_free_fun_t)(void* p);

// Called through volatile pointers where we use the old block after a failed
// call: gcc's -Wuse-after-free cannot know that the call failed.
static void* (*volatile reallocarray_call)(void*, size_t, size_t) = &reallocarray;
static void* (*volatile realloc_call)(void*, size_t) = &realloc;

static const char* const exported_c_symbols[] = {
  "malloc", "calloc", "realloc", "free", "aligned_alloc",
  "posix_memalign", "memalign", "valloc", "pvalloc", "reallocarray", "reallocarr",
  "reallocf", "cfree", "malloc_usable_size", "malloc_size", "malloc_good_size",
  "__libc_malloc", "__libc_calloc", "__libc_realloc", "__libc_free", "__libc_cfree",
  "__libc_memalign", "__libc_valloc", "__libc_pvalloc", "__posix_memalign",
};

static bool is_aligned(const void* p, size_t alignment) {
  return ((uintptr_t)p % alignment) == 0;
}

static void check_exports(void) {
  size_t count = sizeof(exported_c_symbols) / sizeof(exported_c_symbols[0]);
  for (size_t i = 0; i < count; i++) {
    OVR_CHECKF(ovr_symbol_from_mimalloc(exported_c_symbols[i]), "symbol %s is not served by libmimalloc", exported_c_symbols[i]);
  }
  for (size_t i = 0; i < OVR_CXX_OPERATOR_COUNT; i++) {
    OVR_CHECKF(ovr_symbol_from_mimalloc(ovr_cxx_operator_symbols[i]), "symbol %s is not served by libmimalloc", ovr_cxx_operator_symbols[i]);
  }
  // Deliberately not overridden: glibc's strdup calls our malloc.
  OVR_CHECK(!ovr_symbol_from_mimalloc("strdup"));
  // The weak C++ runtime references must not have loaded libstdc++.
  OVR_CHECK(!ovr_is_mapped("libstdc++"));
  OVR_CHECK(ovr_is_mapped("mimalloc"));
}

static void check_basic(void) {
  for (size_t size = 0; size <= 5 * 1024 * 1024; size = (size < 64 ? size + 1 : size * 3 / 2)) {
    void* p = malloc(size);
    OVR_CHECKF(ovr_is_ours(p), "malloc(%zu)", size);
    OVR_CHECKF(malloc_usable_size(p) >= size, "usable %zu < %zu", malloc_usable_size(p), size);
    OVR_CHECK(malloc_usable_size(p) == ovr_usable_size(p));
    ovr_fill(p, size, size);
    void* q = realloc(p, size * 2 + 1);
    OVR_CHECKF(ovr_is_ours(q) && ovr_verify(q, size, size), "realloc grow from %zu", size);
    void* r = realloc(q, size / 2);
    // realloc(q, 0) may free and return NULL (glibc) or return a minimal block.
    OVR_CHECKF((r != NULL || size / 2 == 0) && (r == NULL || ovr_verify(r, size / 2, size)),
               "realloc shrink from %zu", size * 2 + 1);
    free(r);
  }

  unsigned char* z = (unsigned char*)calloc(1000, 33);
  OVR_CHECK(ovr_is_ours(z));
  bool all_zero = true;
  for (size_t i = 0; i < 33000; i++) all_zero = all_zero && (z[i] == 0);
  OVR_CHECK(all_zero);
  free(z);

  void* grown = realloc(NULL, 100);       // realloc(NULL, n) is malloc(n)
  OVR_CHECK(ovr_is_ours(grown));
  free(grown);
  free(NULL);

  char* copy = strdup("strdup is glibc's, but its memory is ours");
  OVR_CHECK(ovr_is_ours(copy));
  free(copy);
  char* formatted = NULL;
  OVR_CHECK(asprintf(&formatted, "%s-%d", "asprintf", 42) > 0);
  OVR_CHECK(ovr_is_ours(formatted) && strcmp(formatted, "asprintf-42") == 0);
  free(formatted);

  // glibc entry points and cfree, looked up because the headers do not declare them.
  libc_malloc_fun_t libc_malloc = NULL;
  libc_free_fun_t libc_free = NULL;
  cfree_fun_t cfree_function = NULL;
  ovr_lookup("__libc_malloc", &libc_malloc, sizeof(libc_malloc));
  ovr_lookup("__libc_free", &libc_free, sizeof(libc_free));
  ovr_lookup("cfree", &cfree_function, sizeof(cfree_function));
  OVR_CHECK(libc_malloc != NULL && libc_free != NULL && cfree_function != NULL);
  if (libc_malloc != NULL && libc_free != NULL && cfree_function != NULL) {
    void* a = libc_malloc(77);
    OVR_CHECK(ovr_is_ours(a));
    free(a);                       // __libc_malloc'ed, freed with free
    void* b = malloc(77);
    libc_free(b);                  // malloc'ed, freed with __libc_free
    cfree_function(malloc(12));
  }
}

static void check_posix_memalign(void) {
  void* const sentinel = (void*)(uintptr_t)0x5e5e5e5e;
  for (size_t alignment = sizeof(void*); alignment <= ((size_t)1 << 22); alignment *= 2) {
    void* p = NULL;
    int rc = posix_memalign(&p, alignment, 100);
    OVR_CHECKF(rc == 0 && ovr_is_ours(p) && is_aligned(p, alignment), "posix_memalign alignment %zu rc %d", alignment, rc);
    free(p);
  }
  const size_t bad_alignments[] = { 0, 1, 2, 4, 3, 12, 24, 48, 100, 4097 };
  for (size_t i = 0; i < sizeof(bad_alignments) / sizeof(bad_alignments[0]); i++) {
    if (bad_alignments[i] != 0 && (bad_alignments[i] % sizeof(void*)) == 0 &&
        (bad_alignments[i] & (bad_alignments[i] - 1)) == 0) continue;  // 8 on 32-bit would be valid
    void* p = sentinel;
    int rc = posix_memalign(&p, ovr_opaque_size(bad_alignments[i]), 64);
    OVR_CHECKF(rc == EINVAL, "posix_memalign alignment %zu returned %d", bad_alignments[i], rc);
    OVR_CHECKF(p == sentinel, "posix_memalign wrote *p on error (alignment %zu)", bad_alignments[i]);
  }
  void* p = sentinel;
  int rc = posix_memalign(&p, 64, ovr_opaque_size(SIZE_MAX / 2));
  OVR_CHECKF(rc == ENOMEM, "posix_memalign huge size returned %d", rc);
  OVR_CHECK(p == sentinel);
  p = NULL;
  OVR_CHECK(posix_memalign(&p, 256, 0) == 0);
  free(p);
}

static void check_aligned_alloc(void) {
  errno = 0;
  void* p = aligned_alloc(ovr_opaque_size(3), 16);
  OVR_CHECK(p == NULL && errno == EINVAL);
  errno = 0;
  p = aligned_alloc(ovr_opaque_size(0), 16);
  OVR_CHECK(p == NULL && errno == EINVAL);
  errno = 0;
  p = aligned_alloc(ovr_opaque_size(96), 192);
  OVR_CHECK(p == NULL && errno == EINVAL);
  // C17 (DR 460): the size need not be a multiple of the alignment.
  p = aligned_alloc(64, 100);
  OVR_CHECK(ovr_is_ours(p) && is_aligned(p, 64) && malloc_usable_size(p) >= 100);
  free(p);
  for (size_t alignment = 1; alignment <= ((size_t)1 << 21); alignment *= 4) {
    p = aligned_alloc(alignment, alignment * 3);
    OVR_CHECKF(ovr_is_ours(p) && is_aligned(p, alignment), "aligned_alloc(%zu)", alignment);
    free(p);
  }
}

static void check_legacy_aligned(void) {
  const size_t page = (size_t)sysconf(_SC_PAGESIZE);
  void* p = memalign(64, 1000);
  OVR_CHECK(ovr_is_ours(p) && is_aligned(p, 64));
  free(p);
  p = memalign(ovr_opaque_size(48), 10);   // not a power of two: rounded up like glibc
  OVR_CHECK(ovr_is_ours(p) && is_aligned(p, 64));
  free(p);
  p = valloc(10);
  OVR_CHECK(ovr_is_ours(p) && is_aligned(p, page));
  free(p);
#ifdef __GLIBC__
  p = pvalloc(1);
  OVR_CHECK(ovr_is_ours(p) && is_aligned(p, page) && malloc_usable_size(p) >= page);
  free(p);
  p = pvalloc(page + 1);
  OVR_CHECK(ovr_is_ours(p) && is_aligned(p, page) && malloc_usable_size(p) >= 2 * page);
  free(p);
  p = pvalloc(0);
  OVR_CHECK(ovr_is_ours(p) && is_aligned(p, page));
  free(p);
#endif
}

static void check_overflow(void) {
  errno = 0;
  void* p = calloc(ovr_opaque_size(SIZE_MAX / 2), 4);
  OVR_CHECK(p == NULL && errno == ENOMEM);

  // reallocarray: overflow fails with ENOMEM and leaves the block untouched.
  unsigned char* block = (unsigned char*)malloc(100);
  ovr_fill(block, 100, 7);
  errno = 0;
  void* moved = reallocarray_call(block, ovr_opaque_size(SIZE_MAX / 2), 4);
  OVR_CHECK(moved == NULL && errno == ENOMEM);
  OVR_CHECK(ovr_is_ours(block) && ovr_verify(block, 100, 7) && malloc_usable_size(block) >= 100);
  moved = reallocarray_call(block, 10, 100);
  OVR_CHECK(ovr_is_ours(moved) && ovr_verify(moved, 100, 7));
  free(moved);
  p = reallocarray(NULL, 5, 8);
  OVR_CHECK(ovr_is_ours(p));
  free(p);

  // realloc to an impossible size fails and keeps the block.
  block = (unsigned char*)malloc(50);
  ovr_fill(block, 50, 9);
  errno = 0;
  moved = realloc_call(block, ovr_opaque_size(SIZE_MAX / 2));
  OVR_CHECK(moved == NULL && errno == ENOMEM && ovr_verify(block, 50, 9));
  free(block);

  // NetBSD reallocarr: returns an error code, keeps errno, updates *p only on success.
  reallocarr_fun_t reallocarr_function = NULL;
  ovr_lookup("reallocarr", &reallocarr_function, sizeof(reallocarr_function));
  OVR_CHECK(reallocarr_function != NULL);
  if (reallocarr_function != NULL) {
    void* array = malloc(40);
    ovr_fill(array, 40, 11);
    void* const before = array;
    errno = EDOM;
    int rc = reallocarr_function(&array, ovr_opaque_size(SIZE_MAX / 2), 4);
    OVR_CHECK(rc == EOVERFLOW && array == before && errno == EDOM && ovr_verify(array, 40, 11));
    rc = reallocarr_function(&array, 100, 40);
    OVR_CHECK(rc == 0 && ovr_is_ours(array) && ovr_verify(array, 40, 11) && errno == EDOM);
    rc = reallocarr_function(&array, 0, 40);
    OVR_CHECK(rc == 0 && array == NULL);
    void* fresh = NULL;
    OVR_CHECK(reallocarr_function(&fresh, 3, 3) == 0 && ovr_is_ours(fresh));
    free(fresh);
  }
}

// Blocks allocated in one thread and freed in another, through the standard names.
#define HANDOFF_COUNT 20000
static void* handoff_blocks[HANDOFF_COUNT];

static void* handoff_producer(void* arg) {
  (void)arg;
  for (size_t i = 0; i < HANDOFF_COUNT; i++) {
    size_t size = 8 + (i * 37) % 3000;
    handoff_blocks[i] = malloc(size);
    if (handoff_blocks[i] != NULL) ovr_fill(handoff_blocks[i], size, i);
  }
  return NULL;
}

static void check_cross_thread(void) {
  pthread_t thread;
  OVR_CHECK(pthread_create(&thread, NULL, &handoff_producer, NULL) == 0);
  pthread_join(thread, NULL);
  size_t bad = 0;
  for (size_t i = 0; i < HANDOFF_COUNT; i++) {
    size_t size = 8 + (i * 37) % 3000;
    if (!ovr_is_ours(handoff_blocks[i]) || !ovr_verify(handoff_blocks[i], size, i)) bad++;
    free(handoff_blocks[i]);
  }
  OVR_CHECKF(bad == 0, "%zu blocks from the exited thread were wrong", bad);
}

typedef void* (*operator_new_fun_t)(size_t size);
typedef void* (*operator_new_nothrow_fun_t)(size_t size, const void* tag);
typedef void  (*operator_delete_fun_t)(void* p);

static void check_cxx_new_without_runtime(void) {
  operator_new_fun_t operator_new = NULL;
  operator_new_nothrow_fun_t operator_new_nothrow = NULL;
  operator_delete_fun_t operator_delete = NULL;
  ovr_lookup("_Znwm", &operator_new, sizeof(operator_new));
  ovr_lookup("_ZnwmRKSt9nothrow_t", &operator_new_nothrow, sizeof(operator_new_nothrow));
  ovr_lookup("_ZdlPv", &operator_delete, sizeof(operator_delete));
  OVR_CHECK(operator_new != NULL && operator_new_nothrow != NULL && operator_delete != NULL);
  if (operator_new == NULL || operator_new_nothrow == NULL || operator_delete == NULL) return;

  void* p = operator_new(64);
  OVR_CHECK(ovr_is_ours(p));
  operator_delete(p);
  OVR_CHECK(operator_new_nothrow(ovr_opaque_size(SIZE_MAX / 2 + 1), NULL) == NULL);

  // The throwing form cannot throw without a C++ runtime: it must report and abort.
  int capture = memfd_create("posix-api-child-stderr", 0);
  OVR_CHECK(capture >= 0);
  fflush(stdout);
  fflush(stderr);
  pid_t child = fork();
  if (child == 0) {
    dup2(capture, 2);
    signal(SIGABRT, SIG_DFL);
    void* never = operator_new(ovr_opaque_size(SIZE_MAX / 2 + 1));
    (void)never;
    _exit(0);   // must not get here
  }
  int status = 0;
  OVR_CHECK(child > 0 && waitpid(child, &status, 0) == child);
  OVR_CHECKF(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
             "failing operator new in a C program: expected SIGABRT, got status 0x%x", (unsigned)status);
  char text[4096] = { 0 };
  ssize_t n = pread(capture, text, sizeof(text) - 1, 0);
  OVR_CHECKF(n > 0 && strstr(text, "mimalloc: error:") != NULL && strstr(text, "bad_alloc") != NULL,
             "expected a 'mimalloc: error:' message about std::bad_alloc, got: %s", (n > 0 ? text : "(nothing)"));
  close(capture);
}

int main(void) {
  ovr_init("override-posix-api");
  check_exports();
  check_basic();
  check_posix_memalign();
  check_aligned_alloc();
  check_legacy_aligned();
  check_overflow();
  check_cross_thread();
  check_cxx_new_without_runtime();
  OVR_CHECK(!ovr_is_mapped("libstdc++"));   // still no C++ runtime
  return ovr_summary("override-posix-api");
}

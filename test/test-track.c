/* ----------------------------------------------------------------------------
Tracking builds: a memory checker sees every mi_ block as a heap block.

Built twice: against the MI_TRACK_VALGRIND library (MI_TEST_VALGRIND names the
valgrind program; the library is linked as objects, so malloc, free, realloc
and the rest are ours as in a static override) and in the asan preset against
the MI_TRACK_ASAN library (MI_TEST_ASAN). Run without arguments the program
is a driver: it runs itself once per mode below under the checker, captures
what the checker prints and judges it.

  clean              correct use of the API: malloc/calloc/realloc chains,
                     aligned blocks used up to mi_usable_size, heaps destroyed
                     with live blocks, cross-thread frees, huge blocks (and,
                     with valgrind, libc functions that allocate: getline,
                     strdup, qsort, fopen, mixed with mi_free)
                     -> no report at all, the checker saw our blocks, and
                     (valgrind) none is left in use at exit
  overflow           one byte written just past mi_usable_size (into the
                     padding, or without it the free neighbour) -> one report
  overflow-request   one byte past a 200-byte request, still inside the
                     block (224 bytes): only the padding, which
                     tracking builds keep unaddressable, makes it visible
                                                              -> one report
  use-after-free     a byte read from a freed block           -> one report
  use-after-realloc  a byte read through the old pointer after a moving
                     realloc                                  -> one report
  uninit (valgrind)  a branch on a byte mi_malloc never initialised
                                                              -> one report
Each bug report must name the planted access's kind and address.
-----------------------------------------------------------------------------*/
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>
#include <mimalloc.h>
#if defined(MI_TEST_ASAN)
#include <sanitizer/asan_interface.h>
#endif

#include "test-common.h"

#if !defined(MI_TEST_VALGRIND) && !defined(MI_TEST_ASAN)
#error "define MI_TEST_VALGRIND (path of valgrind) or MI_TEST_ASAN"
#endif

// ---------------------------------------------------------------------------
// The planted bugs (run in a child under the checker). Each prints the
// address it touches first, so the driver can find it in the report.
// ---------------------------------------------------------------------------
static volatile char mi_test_sink;

static void mi_test_announce(const void* p) {
  printf("planted access at %p\n", p);
  fflush(stdout);
}

static __attribute__((noinline)) void mi_test_plant_overflow(void) {
  // A new heap's first block starts a fresh page: its neighbour is free.
  mi_heap_t* heap = mi_heap_new();
  char* p = (char*)mi_heap_malloc(heap, 200);
  size_t usable = mi_usable_size(p);
  memset(p, 1, usable); // all of the usable size is the program's
  mi_test_announce(p + usable);
  p[usable] = 2; // lands on the free neighbour's link: the heap is corrupt, touch it no more
}

static __attribute__((noinline)) void mi_test_plant_overflow_request(void) {
  char* p = (char*)mi_malloc(200);
  memset(p, 1, 200);
  volatile size_t past = 200; // the compiler would refuse a constant index past the allocation
  mi_test_announce(p + past);
  p[past] = 2;
}

static __attribute__((noinline)) void mi_test_plant_use_after_free(void) {
  char* p = (char*)mi_malloc(64);
  memset(p, 1, 64);
  mi_free(p);
  mi_test_announce(p + 8);
  mi_test_sink = p[8];
}

static __attribute__((noinline)) void mi_test_plant_use_after_realloc(void) {
  char* p = (char*)mi_malloc(32);
  memset(p, 1, 32);
  char* q = (char*)mi_realloc(p, 64 * 1024); // a different size class: the block moves
  if (q == p) {
    printf("realloc did not move the block\n");
    exit(3);
  }
  mi_test_announce(p + 16);
  mi_test_sink = p[16];
  mi_free(q);
}

static __attribute__((noinline)) void mi_test_plant_uninit(void) {
  char* p = (char*)mi_malloc(100);
  mi_test_announce(p + 10);
  if (p[10] == 42) // undefined: mi_malloc does not initialise
    printf("forty-two\n");
  mi_free(p);
}

// ---------------------------------------------------------------------------
// The clean run: no report may come out of any of this.
// ---------------------------------------------------------------------------
#if defined(MI_TEST_ASAN)
// The checker must see freed blocks as unaddressable and live ones as usable.
static void mi_test_check_poisoned(void* p, size_t size, bool poisoned) {
  CHECKF((__asan_address_is_poisoned(p) != 0) == poisoned, "block %p first byte: poisoned is %d",
         p, !poisoned);
  CHECKF((__asan_address_is_poisoned((char*)p + size - 1) != 0) == poisoned,
         "block %p last byte: poisoned is %d", p, !poisoned);
}
#endif

static void* mi_test_remote_free(void* arg) {
  void** blocks = (void**)arg;
  for (size_t i = 0; i < 256; i++)
    mi_free(blocks[i]);
  return NULL;
}

static void* mi_test_alloc_in_thread(void* arg) {
  void** blocks = (void**)arg;
  for (size_t i = 0; i < 256; i++) {
    blocks[i] = mi_malloc(8 + 24 * i);
    memset(blocks[i], (int)i, 8 + 24 * i);
  }
  return NULL;
}

static void mi_test_clean_api(void) {
  // Every size up to a few pages, written in full and read back.
  for (size_t size = 0; size <= 20000; size += (size < 256 ? 1 : 97)) {
    unsigned char* p = (unsigned char*)mi_malloc(size);
    size_t usable = mi_usable_size(p);
    CHECKF(usable >= size, "usable %zu < size %zu", usable, size);
    memset(p, 0x5a, usable);
    CHECK(usable == 0 || (p[0] == 0x5a && p[usable - 1] == 0x5a));
#if defined(MI_TEST_ASAN)
    if (usable > 0)
      mi_test_check_poisoned(p, usable, false);
#endif
    mi_free(p);
#if defined(MI_TEST_ASAN)
    if (usable > 0)
      mi_test_check_poisoned(p, usable, true);
#endif
  }
  // Zeroed memory reads as defined zeros, also when reused.
  for (int round = 0; round < 3; round++) {
    for (size_t size = 1; size <= 5000; size = size * 3 + 1) {
      unsigned char* p = (unsigned char*)mi_calloc(1, size);
      size_t nonzero = 0;
      for (size_t i = 0; i < size; i++)
        nonzero += (p[i] != 0);
      CHECK(nonzero == 0);
      unsigned char* z = (unsigned char*)mi_zalloc(size);
      CHECK(z[size - 1] == 0);
      memset(p, 7, size);
      mi_free(p);
      mi_free(z);
    }
  }
  // A realloc chain keeps its contents, growing and shrinking.
  size_t size = 1;
  char* r = (char*)mi_malloc(size);
  r[0] = 1;
  for (int i = 0; i < 40; i++) {
    size_t newsize = (i < 25 ? size * 2 + 3 : size / 2 + 1);
    char* q = (char*)mi_realloc(r, newsize);
    size_t keep = (size < newsize ? size : newsize);
    CHECK(q[keep - 1] == (char)(keep % 100));
    for (size_t k = 0; k < newsize; k++)
      q[k] = (char)((k + 1) % 100);
    r = q;
    size = newsize;
  }
  mi_free(r);
  // Aligned blocks, used up to their usable size.
  for (size_t align = 8; align <= 8192; align *= 2) {
    for (size_t n = 1; n < 3000; n = n * 5 + 3) {
      char* p = (char*)mi_malloc_aligned(n, align);
      CHECK(((uintptr_t)p % align) == 0);
      memset(p, 3, mi_usable_size(p));
      p = (char*)mi_realloc_aligned(p, n * 2, align);
      memset(p, 4, mi_usable_size(p));
      mi_free(p);
    }
  }
  // Destroyed heaps take their live blocks along; the memory is reused.
  for (int round = 0; round < 4; round++) {
    mi_heap_t* heap = mi_heap_new();
    for (size_t i = 0; i < 500; i++) {
      char* p = (char*)mi_heap_malloc(heap, 16 + (i * 37) % 3000);
      p[0] = 1;
      if (i % 3 == 0)
        mi_free(p);
    }
    char* big = (char*)mi_heap_malloc(heap, 300 * 1024);
    big[300 * 1024 - 1] = 1;
    mi_heap_destroy(heap);
    for (size_t i = 0; i < 500; i++) {
      char* p = (char*)mi_malloc(16 + (i * 37) % 3000);
      memset(p, 2, mi_usable_size(p));
      mi_free(p);
    }
  }
  mi_heap_t* kept = mi_heap_new();
  void* survivor = mi_heap_malloc(kept, 100);
  memset(survivor, 9, 100);
  mi_heap_delete(kept); // the block lives on in the backing heap
  CHECK(((char*)survivor)[99] == 9);
  mi_free(survivor);
  // Cross-thread frees, both ways.
  void* blocks[256];
  for (size_t i = 0; i < 256; i++) {
    blocks[i] = mi_malloc(16 + 8 * i);
    memset(blocks[i], 1, 16 + 8 * i);
  }
  pthread_t t;
  CHECK(pthread_create(&t, NULL, &mi_test_remote_free, blocks) == 0);
  CHECK(pthread_join(t, NULL) == 0);
  CHECK(pthread_create(&t, NULL, &mi_test_alloc_in_thread, blocks) == 0);
  CHECK(pthread_join(t, NULL) == 0);
  for (size_t i = 0; i < 256; i++) {
    CHECK(((unsigned char*)blocks[i])[8 + 24 * i - 1] == (unsigned char)i);
    mi_free(blocks[i]);
  }
  // Huge blocks, strings, expand.
  char* huge = (char*)mi_malloc(17 * MI_TEST_MIB);
  huge[0] = 1;
  huge[17 * MI_TEST_MIB - 1] = 1;
  mi_free(huge);
  char* s = mi_strdup("tracked string");
  char* sn = mi_strndup(s, 7);
  CHECK(strcmp(sn, "tracked") == 0);
  CHECK(mi_expand(s, 4) == s);
  mi_free(sn);
  mi_free(s);
  mi_free(NULL);
}

#if defined(MI_TEST_VALGRIND)
static int mi_test_compare_long(const void* a, const void* b) {
  long x = *(const long*)a, y = *(const long*)b;
  return (x > y) - (x < y);
}

// Standard names are ours here (object-file link): libc's own allocations too.
static void mi_test_clean_libc(void) {
  FILE* f = fopen("/proc/self/maps", "r");
  CHECK(f != NULL);
  if (f != NULL) {
    char* line = NULL;
    size_t cap = 0;
    size_t lines = 0;
    while (getline(&line, &cap, f) > 0)
      lines++;
    CHECK(lines > 0);
    free(line);
    fclose(f);
  }
  long* v = (long*)malloc(1000 * sizeof(long));
  for (long i = 0; i < 1000; i++)
    v[i] = (i * 7919) % 1000;
  qsort(v, 1000, sizeof(long), &mi_test_compare_long);
  CHECK(v[0] == 0 && v[999] == 999);
  v = (long*)realloc(v, 5000 * sizeof(long));
  CHECK(v[999] == 999);
  mi_free(v); // mixing the names is fine: they are one allocator
  char* d = strdup("duplicated");
  CHECK(mi_usable_size(d) >= 11);
  free(d);
  void* a = NULL;
  CHECK(posix_memalign(&a, 256, 1000) == 0);
  memset(a, 1, 1000);
  free(a);
  char* c = (char*)calloc(10, 10);
  CHECK(c[99] == 0);
  free(c);
}
#endif

static int mi_test_run_mode(const char* mode) {
  if (strcmp(mode, "clean") == 0) {
    mi_test_clean_api();
#if defined(MI_TEST_VALGRIND)
    mi_test_clean_libc();
#endif
    return mi_test_summary("test-track clean run");
  }
  if (strcmp(mode, "overflow") == 0)
    mi_test_plant_overflow();
  else if (strcmp(mode, "overflow-request") == 0)
    mi_test_plant_overflow_request();
  else if (strcmp(mode, "use-after-free") == 0)
    mi_test_plant_use_after_free();
  else if (strcmp(mode, "use-after-realloc") == 0)
    mi_test_plant_use_after_realloc();
  else if (strcmp(mode, "uninit") == 0)
    mi_test_plant_uninit();
  else {
    fprintf(stderr, "unknown mode %s\n", mode);
    return 2;
  }
  return 0;
}

// ---------------------------------------------------------------------------
// The driver
// ---------------------------------------------------------------------------
#define MI_TEST_OUTPUT_MAX (1024 * 1024)
static char mi_test_output[MI_TEST_OUTPUT_MAX];

// Runs this program in `mode` under the checker; returns the exit status.
static int mi_test_spawn(const char* mode, size_t* len) {
  static char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0)
    return -1;
  self[n] = 0;
  int fds[2];
  if (pipe(fds) != 0)
    return -1;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 1);
    dup2(fds[1], 2);
    close(fds[0]);
    close(fds[1]);
#if defined(MI_TEST_VALGRIND)
    // The soname synonym keeps valgrind from putting its own malloc in place of ours.
    execl(MI_TEST_VALGRIND, MI_TEST_VALGRIND, "--error-exitcode=99", "--leak-check=full",
          "--show-leak-kinds=definite", "--errors-for-leak-kinds=definite", "--soname-synonyms=somalloc=*mimalloc*",
          self, mode, (char*)NULL);
#else
    execl(self, self, mode, (char*)NULL);
#endif
    _exit(127);
  }
  close(fds[1]);
  *len = 0;
  ssize_t got;
  while ((got = read(fds[0], mi_test_output + *len, MI_TEST_OUTPUT_MAX - 1 - *len)) > 0)
    *len += (size_t)got;
  mi_test_output[*len] = 0;
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

static bool mi_test_output_has(const char* text) { return strcasestr(mi_test_output, text) != NULL; }

typedef struct mi_test_bug_s {
  const char* mode;
  const char* kind; // what the checker must call it
  const char* where;
} mi_test_bug_t;

int main(int argc, char** argv) {
  if (argc > 1)
    return mi_test_run_mode(argv[1]);

#if defined(MI_TEST_VALGRIND)
  static const mi_test_bug_t bugs[] = {
      {"overflow", "Invalid write of size 1", "mi_test_plant_overflow"},
      {"overflow-request", "Invalid write of size 1", "mi_test_plant_overflow_request"},
      {"use-after-free", "Invalid read of size 1", "mi_test_plant_use_after_free"},
      {"use-after-realloc", "Invalid read of size 1", "mi_test_plant_use_after_realloc"},
      {"uninit", "Conditional jump or move depends on uninitialised value", "mi_test_plant_uninit"},
  };
#else
  static const mi_test_bug_t bugs[] = {
      {"overflow", "WRITE of size 1", "AddressSanitizer: use-after-poison"},
      {"overflow-request", "WRITE of size 1", "AddressSanitizer: use-after-poison"},
      {"use-after-free", "READ of size 1", "AddressSanitizer: use-after-poison"},
      {"use-after-realloc", "READ of size 1", "AddressSanitizer: use-after-poison"},
  };
#endif

  size_t len = 0;
  int status = mi_test_spawn("clean", &len);
  bool clean_ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
#if defined(MI_TEST_VALGRIND)
  clean_ok = clean_ok && mi_test_output_has("ERROR SUMMARY: 0 errors");
  // Every block left the program: also those of destroyed heaps.
  clean_ok = clean_ok && mi_test_output_has("in use at exit: 0 bytes in 0 blocks");
  // The checker saw our blocks: its heap summary counts them.
  const char* usage = strstr(mi_test_output, "total heap usage: ");
  long allocs = 0;
  for (const char* c = (usage == NULL ? "" : usage + strlen("total heap usage: ")); *c != ' ' && *c != 0; c++) {
    if (*c >= '0' && *c <= '9')
      allocs = allocs * 10 + (*c - '0'); // "5,187": skip the separators
  }
  CHECKF(allocs >= 4000, "valgrind counted %ld allocations in the clean run", allocs);
#else
  clean_ok = clean_ok && !mi_test_output_has("AddressSanitizer");
#endif
  CHECKF(clean_ok, "clean run: status 0x%x, output:\n%s", status, mi_test_output);
  printf("clean: %s\n", clean_ok ? "no report" : "FAILED");

  for (size_t i = 0; i < sizeof(bugs) / sizeof(bugs[0]); i++) {
    status = mi_test_spawn(bugs[i].mode, &len);
    char address[64] = "";
    const char* planted = strstr(mi_test_output, "planted access at ");
    if (planted != NULL)
      sscanf(planted + strlen("planted access at "), "%63s", address);
    bool reported = (address[0] != 0 && mi_test_output_has(bugs[i].kind) && mi_test_output_has(bugs[i].where) &&
                     mi_test_output_has(address) && !(WIFEXITED(status) && WEXITSTATUS(status) == 0));
#if defined(MI_TEST_VALGRIND)
    reported = reported && mi_test_output_has("ERROR SUMMARY: 1 errors from 1 contexts");
#endif
    CHECKF(reported, "%s: not reported as expected (status 0x%x), output:\n%s", bugs[i].mode, status,
           mi_test_output);
    printf("%s: %s\n", bugs[i].mode, reported ? "reported" : "NOT REPORTED");
  }
  return mi_test_summary("test-track");
}

/* ----------------------------------------------------------------------------
override-foreign-free: `free` of pointers the allocator never handed out.

Run with LD_PRELOAD=libmimalloc.so and MIMALLOC_VERBOSE=1. Each foreign
pointer is freed through the standard `free`; the program must survive, the
foreign memory must be left exactly as it was (the allocator must not thread
it onto a free list or write a header into it), and the allocator must never
hand that memory out later. The allocator reports a bad free once per
process: the first one gives exactly one line starting with "mimalloc:" on
stderr, later ones stay silent (a program that frees foreign pointers tends
to do it often).

The foreign pointers:
  static    a pointer into a static array
  stack     a pointer into a local buffer of main
  mmap      the start of a page the program mapped itself
  interior  a pointer 3 KiB into that mapping
  aligned   a pointer just past a 32 MiB boundary inside a 96 MiB mapping
            whose first 64 KiB after the boundary are filled with 0xA5: an
            allocator that derives "segment" metadata by masking the address
            would find garbage there instead of a header
For every kind, a forked child (which starts with nothing reported yet) frees
that pointer first and must see exactly one report, then frees the next kind
and must see none. The parent then frees all of them in a row: one report for
the first, none after. To count report lines the program redirects its own
stderr (fd 2) into a memory file around each free and reads it back.
-----------------------------------------------------------------------------*/
#define _GNU_SOURCE
#include "override-common.h"

#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define STATIC_AREA_SIZE  4096
static unsigned char static_area[STATIC_AREA_SIZE];

// Called through a volatile pointer so the compiler cannot see (and warn
// about) a free of a non-heap object.
static void (*volatile free_function)(void*) = &free;

typedef struct foreign_case_s {
  const char*    name;
  unsigned char* pointer;       // what we pass to free
  unsigned char* watch;         // memory that must stay unchanged
  size_t         watch_size;
} foreign_case_t;

// Frees `pointer` with fd 2 redirected into a memory file; returns the number
// of captured lines that start with "mimalloc:" and copies the text out.
static int free_and_count_reports(void* pointer, char* text, size_t text_size) {
  fflush(stderr);
  int capture = memfd_create("foreign-free-stderr", 0);
  int saved_stderr = dup(2);
  if (capture < 0 || saved_stderr < 0 || dup2(capture, 2) < 0) {
    fprintf(stderr, "cannot redirect stderr\n");
    exit(2);
  }
  free_function(pointer);
  fflush(stderr);
  dup2(saved_stderr, 2);
  close(saved_stderr);

  size_t length = 0;
  if (lseek(capture, 0, SEEK_SET) == 0) {
    ssize_t n;
    while (length + 1 < text_size && (n = read(capture, text + length, text_size - 1 - length)) > 0) {
      length += (size_t)n;
    }
  }
  text[length] = 0;
  close(capture);

  int reports = 0;
  const char* line = text;
  while (*line != 0) {
    if (strncmp(line, "mimalloc:", 9) == 0) reports++;
    const char* next = strchr(line, '\n');
    if (next == NULL) break;
    line = next + 1;
  }
  return reports;
}

static foreign_case_t cases[5];
static uint64_t       case_seeds[5];   // 0: the watched memory must stay 0xA5
static const size_t   case_count = 5;

static bool case_memory_unchanged(size_t i) {
  if (case_seeds[i] == 0) {
    for (size_t k = 0; k < cases[i].watch_size; k++) {
      if (cases[i].watch[k] != 0xA5) return false;
    }
    return true;
  }
  return ovr_verify(cases[i].watch, cases[i].watch_size, case_seeds[i]);
}

// Free case `i`, expecting `expected_reports` report lines; check the memory.
static void free_case(size_t i, int expected_reports) {
  char text[8192];
  int reports = free_and_count_reports(cases[i].pointer, text, sizeof(text));
  fprintf(stderr, "--- [pid %d] stderr during free(%s pointer %p):\n%s---\n",
          (int)getpid(), cases[i].name, (void*)cases[i].pointer, text);
  OVR_CHECKF(reports == expected_reports, "free of the %s pointer produced %d \"mimalloc:\" report lines, expected %d",
             cases[i].name, reports, expected_reports);
  OVR_CHECKF(case_memory_unchanged(i), "free of the %s pointer wrote into memory the allocator does not own", cases[i].name);
}

int main(void) {
  ovr_init("override-foreign-free");

  // Make sure the allocator is initialized (and its start-up messages are out)
  // before we capture stderr.
  void* warm = malloc(100);
  OVR_CHECK(ovr_is_ours(warm));
  free(warm);

  const size_t segment_size = (size_t)32 << 20;
  const size_t mapping_size = 3 * segment_size;
  unsigned char* mapping = (unsigned char*)mmap(NULL, mapping_size, PROT_READ | PROT_WRITE,
                                                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapping == MAP_FAILED) {
    perror("mmap");
    return 2;
  }
  // The first 32 MiB boundary past the part the "mmap" cases watch.
  unsigned char* boundary = (unsigned char*)(((uintptr_t)mapping + 65536 + segment_size - 1) & ~(uintptr_t)(segment_size - 1));
  memset(boundary, 0xA5, 64 * 1024);

  unsigned char stack_area[1024];
  ovr_fill(static_area, STATIC_AREA_SIZE, 1);
  ovr_fill(stack_area, sizeof(stack_area), 2);
  ovr_fill(mapping, 8192, 3);

  const foreign_case_t all_cases[5] = {
    { "static",   static_area + 64, static_area, STATIC_AREA_SIZE },
    { "stack",    stack_area + 32,  stack_area,  sizeof(stack_area) },
    { "mmap",     mapping,          mapping,     8192 },
    { "interior", mapping + 3072,   mapping,     8192 },
    { "aligned",  boundary + 64,    boundary,    64 * 1024 },
  };
  const uint64_t all_seeds[5] = { 1, 2, 3, 3, 0 };
  memcpy(cases, all_cases, sizeof(cases));
  memcpy(case_seeds, all_seeds, sizeof(case_seeds));

  // One child per kind: that kind is reported, the next one is not.
  for (size_t i = 0; i < case_count; i++) {
    fflush(stdout);
    fflush(stderr);
    pid_t child = fork();
    if (child == 0) {
      free_case(i, 1);
      free_case((i + 1) % case_count, 0);
      _exit(ovr_failures() == 0 ? 0 : 1);
    }
    int status = 0;
    OVR_CHECK(child > 0 && waitpid(child, &status, 0) == child);
    OVR_CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0,
               "child freeing the %s pointer first failed (status 0x%x)", cases[i].name, (unsigned)status);
  }

  // The parent: all kinds in a row.
  for (size_t i = 0; i < case_count; i++) {
    free_case(i, (i == 0 ? 1 : 0));
  }

  // The allocator keeps working and never hands out the foreign memory.
  size_t handed_out_foreign = 0;
  void* blocks[4096];
  for (size_t round = 0; round < 8; round++) {
    for (size_t i = 0; i < 4096; i++) {
      size_t size = 16 + (i % 64) * 16;
      blocks[i] = malloc(size);
      unsigned char* b = (unsigned char*)blocks[i];
      for (size_t k = 0; k < case_count; k++) {
        if (b >= cases[k].watch && b < cases[k].watch + cases[k].watch_size) handed_out_foreign++;
      }
      if (b >= mapping && b < mapping + mapping_size) handed_out_foreign++;
      if (!ovr_is_ours(b)) handed_out_foreign++;
      memset(b, (int)round, size);
    }
    for (size_t i = 0; i < 4096; i++) free(blocks[i]);
  }
  OVR_CHECKF(handed_out_foreign == 0, "%zu allocations returned foreign memory", handed_out_foreign);
  for (size_t i = 0; i < case_count; i++) {
    OVR_CHECKF(case_memory_unchanged(i), "the %s memory changed later on", cases[i].name);
  }

  munmap(mapping, mapping_size);
  printf("override-foreign-free: %zu kinds of foreign pointer, each freed in a child and in the parent\n", case_count);
  return ovr_summary("override-foreign-free");
}

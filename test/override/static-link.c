/* ----------------------------------------------------------------------------
override-static-object / override-static-lib: a C program that links the
allocator statically (mimalloc.o, or libmimalloc.a) instead of preloading it.

The executable then defines malloc, free, ... itself; the dynamic linker
binds every shared library's calls (glibc's strdup, asprintf, getline and
stdio buffers included) to those definitions. We check through the mi_ API
that the blocks really come from our heap, across threads as well.
-----------------------------------------------------------------------------*/
#define _GNU_SOURCE
#define OVERRIDE_LINKED 1
#include "override-common.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>

static void* thread_blocks[8][1000];

static void* thread_main(void* arg) {
  size_t t = (size_t)(uintptr_t)arg;
  for (size_t i = 0; i < 1000; i++) {
    thread_blocks[t][i] = malloc(8 + (i * 29 + t) % 1500);
    if (thread_blocks[t][i] != NULL) ovr_fill(thread_blocks[t][i], 8, t * 1000 + i);
  }
  return NULL;
}

int main(void) {
  ovr_init("override-static");
  OVR_CHECK(mi_version() >= 200);

  void* p = malloc(100);
  OVR_CHECK(ovr_is_ours(p) && mi_check_owned(p));
  OVR_CHECK(malloc_usable_size(p) == mi_usable_size(p));
  p = realloc(p, 100000);
  OVR_CHECK(ovr_is_ours(p));
  free(p);

  void* z = calloc(100, 100);
  OVR_CHECK(ovr_is_ours(z));
  free(z);

  void* aligned = NULL;
  OVR_CHECK(posix_memalign(&aligned, 4096, 10) == 0 && ovr_is_ours(aligned) && ((uintptr_t)aligned % 4096) == 0);
  free(aligned);
  aligned = aligned_alloc(128, 1000);
  OVR_CHECK(ovr_is_ours(aligned) && ((uintptr_t)aligned % 128) == 0);
  free(aligned);

  // Memory that glibc allocates on our behalf goes through our malloc too.
  char* copy = strdup("static override");
  OVR_CHECK(ovr_is_ours(copy));
  free(copy);
  char* formatted = NULL;
  OVR_CHECK(asprintf(&formatted, "%d-%s", 7, "asprintf") > 0 && ovr_is_ours(formatted));
  free(formatted);
  FILE* memory_stream = fmemopen((void*)"line one\nline two\n", 18, "r");
  OVR_CHECK(memory_stream != NULL);
  if (memory_stream != NULL) {
    char* line = NULL;
    size_t capacity = 0;
    OVR_CHECK(getline(&line, &capacity, memory_stream) == 9 && ovr_is_ours(line));
    free(line);
    fclose(memory_stream);
  }

  // Blocks of exited threads, freed by main.
  pthread_t threads[8];
  for (size_t t = 0; t < 8; t++) OVR_CHECK(pthread_create(&threads[t], NULL, &thread_main, (void*)(uintptr_t)t) == 0);
  for (size_t t = 0; t < 8; t++) pthread_join(threads[t], NULL);
  size_t bad = 0;
  for (size_t t = 0; t < 8; t++) {
    for (size_t i = 0; i < 1000; i++) {
      if (!ovr_is_ours(thread_blocks[t][i]) || !ovr_verify(thread_blocks[t][i], 8, t * 1000 + i)) bad++;
      free(thread_blocks[t][i]);
    }
  }
  OVR_CHECKF(bad == 0, "%zu bad blocks from exited threads", bad);

  // Bad input through the standard names.
  void* untouched = &bad;
  OVR_CHECK(posix_memalign(&untouched, ovr_opaque_size(24), 8) == EINVAL && untouched == (void*)&bad);
  errno = 0;
  OVR_CHECK(aligned_alloc(ovr_opaque_size(3), 8) == NULL && errno == EINVAL);

  return ovr_summary("override-static");
}

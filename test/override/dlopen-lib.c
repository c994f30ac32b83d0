/* ----------------------------------------------------------------------------
override-dlopen-lib: a module the override-dlopen test loads and unloads.

With the allocator preloaded, this library's malloc/free calls bind to it
just like the main program's, so blocks can cross the boundary both ways.
The library also allocates in places that run outside normal control flow:
  - its constructor and destructor (run by dlopen / dlclose),
  - a thread it starts itself, whose blocks outlive the thread,
  - a thread-local buffer released by a pthread key destructor at thread exit.
-----------------------------------------------------------------------------*/
#define _GNU_SOURCE
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define LIB_EXPORT __attribute__((visibility("default")))

static char*  constructor_block;
static size_t constructor_block_size;
static pthread_key_t thread_buffer_key;
static bool   thread_buffer_key_created;
static int    key_destructor_runs;
static pthread_mutex_t key_destructor_lock = PTHREAD_MUTEX_INITIALIZER;

static unsigned char lib_pattern_byte(uint64_t seed, size_t i) {
  uint64_t x = (seed + 1) * UINT64_C(0x9E3779B97F4A7C15) + (uint64_t)i * UINT64_C(0xBF58476D1CE4E5B9);
  return (unsigned char)(x >> 56);
}

static void thread_buffer_release(void* buffer) {
  // A destructor that allocates and frees while the thread is going away.
  char* scratch = (char*)malloc(333);
  if (scratch != NULL) memset(scratch, 1, 333);
  free(scratch);
  free(buffer);
  pthread_mutex_lock(&key_destructor_lock);
  key_destructor_runs++;
  pthread_mutex_unlock(&key_destructor_lock);
}

__attribute__((constructor)) static void lib_constructor(void) {
  constructor_block_size = 100000;
  constructor_block = (char*)malloc(constructor_block_size);
  if (constructor_block != NULL) memset(constructor_block, 'c', constructor_block_size);
  thread_buffer_key_created = (pthread_key_create(&thread_buffer_key, &thread_buffer_release) == 0);
}

__attribute__((destructor)) static void lib_destructor(void) {
  free(constructor_block);
  constructor_block = NULL;
  if (thread_buffer_key_created) pthread_key_delete(thread_buffer_key);
}

LIB_EXPORT void* lib_constructor_block(size_t* size) {
  *size = constructor_block_size;
  return constructor_block;
}

LIB_EXPORT void* lib_alloc(size_t size, uint64_t seed) {
  unsigned char* block = (unsigned char*)malloc(size);
  if (block != NULL) {
    for (size_t i = 0; i < size; i++) block[i] = lib_pattern_byte(seed, i);
  }
  return block;
}

// Checks the pattern of a block the main program allocated, then frees it.
LIB_EXPORT bool lib_check_and_free(void* block, size_t size, uint64_t seed) {
  const unsigned char* bytes = (const unsigned char*)block;
  bool ok = (block != NULL);
  for (size_t i = 0; ok && i < size; i++) ok = (bytes[i] == lib_pattern_byte(seed, i));
  free(block);
  return ok;
}

LIB_EXPORT void* lib_realloc(void* block, size_t size) {
  return realloc(block, size);
}

typedef struct lib_thread_job_s {
  void** blocks;
  size_t count;
  uint64_t seed;
} lib_thread_job_t;

static void* lib_thread_main(void* arg) {
  lib_thread_job_t* job = (lib_thread_job_t*)arg;
  char* buffer = (char*)malloc(4096);
  if (buffer != NULL) memset(buffer, 't', 4096);
  if (thread_buffer_key_created) pthread_setspecific(thread_buffer_key, buffer);
  else free(buffer);
  for (size_t i = 0; i < job->count; i++) {
    job->blocks[i] = lib_alloc(16 + (i % 200) * 8, job->seed + i);
  }
  return NULL;
}

// Starts a thread inside the library that allocates `count` blocks (block i
// has size 16 + (i % 200) * 8 and seed `seed + i`) and exits; the caller owns
// the blocks afterwards. Returns false if the thread could not run.
LIB_EXPORT bool lib_alloc_in_thread(void** blocks, size_t count, uint64_t seed) {
  lib_thread_job_t job = { blocks, count, seed };
  pthread_t thread;
  if (pthread_create(&thread, NULL, &lib_thread_main, &job) != 0) return false;
  return (pthread_join(thread, NULL) == 0);
}

LIB_EXPORT int lib_key_destructor_runs(void) {
  pthread_mutex_lock(&key_destructor_lock);
  int runs = key_destructor_runs;
  pthread_mutex_unlock(&key_destructor_lock);
  return runs;
}

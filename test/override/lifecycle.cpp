/* ----------------------------------------------------------------------------
override-lifecycle: allocation outside the comfortable middle of a program's
life, with LD_PRELOAD=libmimalloc.so.

  - a C constructor with priority 101 (before every C++ static initializer)
    and C++ static initializers allocate with malloc and new;
  - threads fill thread_local objects whose destructors free (and allocate
    again) while the thread exits, and set pthread keys whose destructors
    free, allocate a scratch block, and on the first pass store a new value
    so that glibc runs them a second time;
  - blocks of exited threads are freed by main;
  - atexit handlers and static destructors free blocks after main returns;
    the last handler to run verifies the counts and turns a failure into a
    non-zero exit status with _exit.
-----------------------------------------------------------------------------*/
#include "override-common.h"

#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace {

// ---- before main ------------------------------------------------------------

void*  early_malloc_block;
int*   early_new_block;
bool   early_blocks_ours;

std::atomic<int> exit_stage_failures{ 0 };
std::atomic<int> static_destructor_runs{ 0 };
std::atomic<int> atexit_free_runs{ 0 };

// Constructed before the other static objects of this file, so destroyed
// after them and after every atexit handler registered in main: it checks
// that the exit stage went well and turns a failure into exit status 1.
struct FinalCheck {
  ~FinalCheck() {
    if (atexit_free_runs != 1 || static_destructor_runs != 1 || exit_stage_failures != 0) {
      static const char message[] = "override-lifecycle: failure in atexit handlers or static destructors\n";
      ssize_t ignored = write(2, message, sizeof(message) - 1);
      (void)ignored;
      _exit(1);
    }
  }
};
FinalCheck final_check;

struct StaticState {
  std::vector<std::string> strings;
  std::map<int, std::string> table;
  StaticState() {
    for (int i = 0; i < 2000; i++) {
      strings.push_back("static-initializer-string-" + std::to_string(i));
      table[i] = std::string(static_cast<size_t>(i % 64) + 20, 's');
    }
  }
};
StaticState static_state;   // constructed before main, destroyed after

struct StaticDestructorCheck {
  std::vector<char*> blocks;
  ~StaticDestructorCheck() {
    for (char* b : blocks) {
      if (!ovr_is_ours(b) || b[0] != 'd') exit_stage_failures++;
      free(b);
    }
    // allocate and free during static destruction
    std::string late(1000, 'l');
    if (!ovr_is_ours(late.data())) exit_stage_failures++;
    static_destructor_runs++;
  }
};
StaticDestructorCheck static_destructor_check;

// ---- threads -------------------------------------------------------------------

std::atomic<int> tls_destructor_runs{ 0 };
std::atomic<int> key_destructor_calls{ 0 };
std::atomic<int> tls_failures{ 0 };
pthread_key_t thread_key;

struct ThreadLocalState {
  std::vector<std::string> strings;
  char* raw = nullptr;
  ~ThreadLocalState() {
    for (const auto& s : strings) {
      if (s.size() > 15 && !ovr_is_ours(s.data())) tls_failures++;
    }
    strings.clear();
    strings.shrink_to_fit();
    free(raw);
    void* scratch = malloc(4096);        // allocate while the thread is exiting
    if (!ovr_is_ours(scratch)) tls_failures++;
    free(scratch);
    tls_destructor_runs++;
  }
};
thread_local ThreadLocalState thread_state;

void key_destructor(void* value) {
  key_destructor_calls++;
  char* block = static_cast<char*>(value);
  if (!ovr_is_ours(block) || (block[0] != 'k' && block[0] != 'K')) tls_failures++;
  bool first_pass = (block[0] == 'k');
  free(block);
  char* again = static_cast<char*>(malloc(64));
  if (!ovr_is_ours(again)) tls_failures++;
  if (first_pass && again != nullptr) {
    again[0] = 'K';                      // glibc calls us again for the new value
    pthread_setspecific(thread_key, again);
  }
  else {
    free(again);
  }
}

const int thread_count = 8;
const size_t blocks_per_thread = 5000;
std::vector<void*> orphan_blocks[thread_count];

void thread_body(int t) {
  thread_state.strings.reserve(100);
  for (int i = 0; i < 100; i++) thread_state.strings.push_back(std::string(40, static_cast<char>('a' + t)));
  thread_state.raw = static_cast<char*>(malloc(10000));
  char* keyed = static_cast<char*>(malloc(128));
  keyed[0] = 'k';
  pthread_setspecific(thread_key, keyed);
  for (size_t i = 0; i < blocks_per_thread; i++) {
    size_t size = 8 + (i * 7 + static_cast<size_t>(t)) % 700;
    void* block = malloc(size);
    ovr_fill(block, size, static_cast<uint64_t>(t) * 100000 + i);
    orphan_blocks[t].push_back(block);
  }
}

// ---- after main ----------------------------------------------------------------

std::vector<void*>* atexit_blocks;

void atexit_free_blocks() {
  for (void* b : *atexit_blocks) {
    if (!ovr_is_ours(b)) exit_stage_failures++;
    free(b);
  }
  delete atexit_blocks;
  atexit_free_runs++;
}

}  // namespace

extern "C" __attribute__((constructor(101))) void lifecycle_early_constructor() {
  early_malloc_block = malloc(1234);
  early_new_block = new int[333];
}

int main() {
  ovr_init("override-lifecycle");

  // Allocations made before main: C constructor and C++ static initializers.
  early_blocks_ours = ovr_is_ours(early_malloc_block) && ovr_is_ours(early_new_block);
  OVR_CHECK(early_blocks_ours);
  free(early_malloc_block);
  delete[] early_new_block;
  OVR_CHECK(static_state.strings.size() == 2000 && ovr_is_ours(static_state.strings[1999].data()));
  OVR_CHECK(static_state.table.size() == 2000 && ovr_is_ours(static_state.table[1999].data()));

  OVR_CHECK(pthread_key_create(&thread_key, &key_destructor) == 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < thread_count; t++) threads.emplace_back(thread_body, t);
  for (auto& thread : threads) thread.join();

  OVR_CHECKF(tls_destructor_runs == thread_count, "thread_local destructors ran %d times", tls_destructor_runs.load());
  OVR_CHECKF(key_destructor_calls == 2 * thread_count, "key destructors ran %d times", key_destructor_calls.load());
  OVR_CHECKF(tls_failures == 0, "%d failures inside thread exit destructors", tls_failures.load());

  size_t bad = 0;
  for (int t = 0; t < thread_count; t++) {
    for (size_t i = 0; i < orphan_blocks[t].size(); i++) {
      size_t size = 8 + (i * 7 + static_cast<size_t>(t)) % 700;
      if (!ovr_is_ours(orphan_blocks[t][i]) || !ovr_verify(orphan_blocks[t][i], size, static_cast<uint64_t>(t) * 100000 + i)) bad++;
      free(orphan_blocks[t][i]);
    }
    orphan_blocks[t].clear();
  }
  OVR_CHECKF(bad == 0, "%zu bad blocks from exited threads", bad);

  // Work for the exit stage.
  atexit_blocks = new std::vector<void*>();
  for (int i = 0; i < 1000; i++) atexit_blocks->push_back(malloc(static_cast<size_t>(i) + 1));
  atexit(&atexit_free_blocks);
  for (int i = 0; i < 100; i++) {
    char* b = static_cast<char*>(malloc(static_cast<size_t>(i) * 10 + 1));
    b[0] = 'd';
    static_destructor_check.blocks.push_back(b);
  }

  printf("override-lifecycle: %d threads, %d thread_local destructors, %d key destructor calls, %zu orphaned blocks freed\n",
         thread_count, tls_destructor_runs.load(), key_destructor_calls.load(), thread_count * blocks_per_thread);
  return ovr_summary("override-lifecycle");
}

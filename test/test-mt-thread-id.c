/* ----------------------------------------------------------------------------
mt-thread-id: a segment's owner id is never handed to another thread.

The C library reuses a finished thread's stack and thread control block for
the next thread it creates. Segments left owned by a thread that never ran
its exit hook, or by a parent's thread in a fork child, must not look owned
by the thread that inherits that control block.

  reuse  a thread allocates a block, then ends without its exit teardown
         (mi_test_thread_skip_done, as a thread that leaves with a raw exit
         system call); the next thread, usually on the same control block,
         must not count as the block's owner, and must get a new id;
  fork   the parent keeps a thread alive that holds a block; in the child
         that thread is gone and new threads take its control block; none
         of them may count as the block's owner.
Each case also requires that the control block really was reused at least
once, so the test cannot pass by not exercising the hazard.
-----------------------------------------------------------------------------*/
#include <sys/wait.h>
#include "test-mt-common.h"

typedef struct mi_tid_seen_s {
  pthread_t self;
  unsigned long long id;
  void* block;
  bool owner; // the thread counts as the owner of `block`
} mi_tid_seen_t;

static void* mi_tid_dying_run(void* arg) {
  mi_tid_seen_t* seen = (mi_tid_seen_t*)arg;
  seen->self = pthread_self();
  seen->block = mi_malloc(48);
  memset(seen->block, 0x5A, 48);
  seen->id = mi_test_thread_id();
  seen->owner = mi_test_is_owned_by_me(seen->block);
  mi_test_thread_skip_done();
  return NULL;
}

static void* mi_tid_next_run(void* arg) {
  mi_tid_seen_t* seen = (mi_tid_seen_t*)arg;
  seen->self = pthread_self();
  void* own = mi_malloc(48); // sets up this thread's heap and id
  seen->id = mi_test_thread_id();
  seen->owner = mi_test_is_owned_by_me(seen->block);
  mi_free(own);
  return NULL;
}

static void mi_tid_reuse_case(void) {
  int reused = 0;
  for (int attempt = 0; attempt < 16; attempt++) {
    mi_tid_seen_t dead = {0};
    pthread_t thread;
    mi_mt_thread_start(&thread, &mi_tid_dying_run, &dead);
    mi_mt_thread_join(thread);
    mi_mt_expect(dead.owner, "reuse: the allocating thread does not own its own block");
    mi_tid_seen_t next = {0};
    next.block = dead.block;
    mi_mt_thread_start(&thread, &mi_tid_next_run, &next);
    mi_mt_thread_join(thread);
    if (pthread_equal(dead.self, next.self)) reused++;
    mi_mt_expect(next.id != dead.id, "reuse: a new thread got the id %llu of a thread that ended", next.id);
    mi_mt_expect(!next.owner, "reuse: a new thread counts as owner of a block of a thread that ended");
    const unsigned char* bytes = (const unsigned char*)dead.block;
    mi_mt_expect(bytes[0] == 0x5A && bytes[47] == 0x5A, "reuse: the dead thread's block changed");
    mi_free(dead.block); // a free by a non-owner; the segment stays with the dead id
    mi_mt_count_add(&mi_mt_counts.rounds, 1);
  }
  mi_mt_report("reuse_tcb_reused", reused);
  mi_mt_expect(reused > 0, "reuse: the C library never reused a thread control block; the case proves nothing");
}

// ---------------------------------------------------------------------------
// fork
// ---------------------------------------------------------------------------
static pthread_mutex_t mi_tid_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t mi_tid_cond = PTHREAD_COND_INITIALIZER;
static int mi_tid_holder_state; // 1: holding its block, 2: may exit

static void* mi_tid_holder_run(void* arg) {
  mi_tid_seen_t* seen = (mi_tid_seen_t*)arg;
  seen->self = pthread_self();
  seen->block = mi_malloc(48);
  memset(seen->block, 0x3C, 48);
  seen->id = mi_test_thread_id();
  pthread_mutex_lock(&mi_tid_mutex);
  mi_tid_holder_state = 1;
  pthread_cond_broadcast(&mi_tid_cond);
  while (mi_tid_holder_state != 2) pthread_cond_wait(&mi_tid_cond, &mi_tid_mutex);
  pthread_mutex_unlock(&mi_tid_mutex);
  mi_free(seen->block);
  return NULL;
}

// Runs in the child; returns its exit code.
static int mi_tid_child(const mi_tid_seen_t* holder) {
  int reused = 0, failures = 0;
  for (int i = 0; i < 8; i++) {
    mi_tid_seen_t next = {0};
    next.block = holder->block;
    pthread_t thread;
    if (pthread_create(&thread, NULL, &mi_tid_next_run, &next) != 0 || pthread_join(thread, NULL) != 0) {
      printf("mi-test: FAIL: fork child: pthread_create/join failed\n");
      return 2;
    }
    if (pthread_equal(next.self, holder->self)) reused++;
    if (next.owner || next.id == holder->id) {
      printf("mi-test: FAIL: fork child: thread %d (id %llu) counts as owner of the parent thread's block\n", i,
             next.id);
      failures++;
    }
  }
  void* p = mi_malloc(100); // the forking thread still allocates normally
  if (p == NULL || !mi_test_is_owned_by_me(p)) failures++;
  mi_free(p);
  printf("mi-test: fork_child_tcb_reused: %d\n", reused);
  if (reused == 0) {
    printf("mi-test: FAIL: fork child: no new thread reused the parent thread's control block\n");
    failures++;
  }
  fflush(stdout);
  return (failures == 0 ? 0 : 1);
}

static void mi_tid_fork_case(void) {
  mi_tid_seen_t holder = {0};
  pthread_t thread;
  mi_mt_thread_start(&thread, &mi_tid_holder_run, &holder);
  pthread_mutex_lock(&mi_tid_mutex);
  while (mi_tid_holder_state != 1) pthread_cond_wait(&mi_tid_cond, &mi_tid_mutex);
  pthread_mutex_unlock(&mi_tid_mutex);
  fflush(stdout);
  pid_t child = fork();
  if (child < 0) {
    mi_mt_fail("fork failed: %s", strerror(errno));
  } else if (child == 0) {
    _exit(mi_tid_child(&holder));
  } else {
    int status = 0;
    if (waitpid(child, &status, 0) != child) mi_mt_fail("waitpid failed");
    else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) mi_mt_fail("fork child failed (status 0x%x)", status);
    else mi_mt_count_add(&mi_mt_counts.rounds, 1);
  }
  pthread_mutex_lock(&mi_tid_mutex);
  mi_tid_holder_state = 2;
  pthread_cond_broadcast(&mi_tid_cond);
  pthread_mutex_unlock(&mi_tid_mutex);
  mi_mt_thread_join(thread);
}

int main(void) {
  mi_mt_init("mt-thread-id", 10.0);
  mi_tid_reuse_case();
  if (MI_MT_TSAN) {
    // ThreadSanitizer refuses to start threads in the child of a multithreaded fork.
    printf("mi-test: fork case skipped: not supported under ThreadSanitizer\n");
  } else if (getenv("MI_TEST_EMULATOR") != NULL) {
    // qemu-user aborts in the child of a multithreaded fork (its own assertion in cpu_exec).
    printf("mi-test: fork case skipped: not supported under qemu-user\n");
  } else {
    mi_tid_fork_case();
  }
  mi_mt_reclaim_everything();
  mi_mt_require_path("rounds", mi_mt_count_get(&mi_mt_counts.rounds));
  return mi_mt_finish();
}

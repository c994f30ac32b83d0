/* ----------------------------------------------------------------------------
MI_XMALLOC: running out of memory aborts the program (SIGABRT, checked in a
child process) unless it registered an error handler, which then gets ENOMEM
while the call returns NULL. MI_SHOW_ERRORS: the error is printed by default.
-----------------------------------------------------------------------------*/
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include "test-common.h"

static int handled_err;
static void on_error(int err, void* arg) {
  (void)arg;
  handled_err = err;
}

int main(void) {
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) {
    mi_test_capture_begin();
    void* p = mi_malloc(mi_test_opaque_size(SIZE_MAX / 2));
    (void)p;
    _exit(0); // not reached with MI_XMALLOC
  }
  int status = 0;
  waitpid(pid, &status, 0);
  CHECKF(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "out of memory did not abort (status %d)", status);

  mi_register_error(on_error, NULL);
  mi_test_capture_begin();
  errno = 0;
  void* p = mi_malloc(mi_test_opaque_size(SIZE_MAX / 2));
  CHECK(p == NULL && errno == ENOMEM && handled_err == ENOMEM);
  CHECK(strstr(mi_test_captured(), "mimalloc: error: unable to allocate memory") != NULL);
  mi_test_capture_end();
  mi_register_error(NULL, NULL);
  return mi_test_summary("test-xmalloc");
}

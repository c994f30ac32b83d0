/* ----------------------------------------------------------------------------
Copyright (c) 2026 The project authors. MIT license, see LICENSE.

mimalloc-inspect [--json] [--check] CORE
mimalloc-inspect [--json] [--check] --pid PID

Exit status: 0 success (with --check: the heap is intact), 1 --check found
violations, 2 the input cannot be inspected (the message says why).
-----------------------------------------------------------------------------*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "inspect.h"

static int mi_usage(FILE* out, int status) {
  fprintf(out, "usage: mimalloc-inspect [--json] [--check] CORE\n"
               "       mimalloc-inspect [--json] [--check] --pid PID\n"
               "Accounts for the live blocks of a process using libmimalloc (by size class, page kind\n"
               "and owner thread) from a core file or the running process; --check reports heap\n"
               "corruption. Exit status: 0 ok, 1 violations found (--check), 2 error.\n");
  return status;
}

int main(int argc, char** argv) {
  bool json = false, check = false;
  const char* core = NULL;
  long pid = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--json") == 0) {
      json = true;
    } else if (strcmp(argv[i], "--check") == 0) {
      check = true;
    } else if (strcmp(argv[i], "--pid") == 0 && i + 1 < argc && pid == 0) {
      char* end;
      pid = strtol(argv[++i], &end, 10);
      if (*end != 0 || pid <= 0) {
        fprintf(stderr, "mimalloc-inspect: invalid pid '%s'\n", argv[i]);
        return 2;
      }
    } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
      return mi_usage(stdout, 0);
    } else if (argv[i][0] != '-' && core == NULL) {
      core = argv[i];
    } else {
      return mi_usage(stderr, 2);
    }
  }
  if ((core == NULL) == (pid == 0))
    return mi_usage(stderr, 2);

  char error[MI_ERROR_SIZE];
  mi_target_t target;
  bool ok =
      (core != NULL ? mi_target_core_open(&target, core, error) : mi_target_live_open(&target, pid, error));
  if (!ok) {
    fprintf(stderr, "mimalloc-inspect: %s\n", error);
    return 2;
  }
  mi_inspection_t result;
  ok = mi_inspect_heap(&target, &result, error);
  mi_target_close(&target); // a live process continues here, before the report is written
  if (!ok) {
    fprintf(stderr, "mimalloc-inspect: %s\n", error);
    return 2;
  }
  if (json)
    mi_report_json(&target, &result, check);
  else
    mi_report_table(&target, &result, check);
  int status = (check && result.violation_count + result.violations_dropped > 0 ? 1 : 0);
  mi_inspection_free(&result);
  if (fflush(stdout) != 0) {
    perror("mimalloc-inspect: writing the report");
    return 2;
  }
  return status;
}

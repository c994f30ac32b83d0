# ---------------------------------------------------------------------------
# Multithreaded ownership regression tests (reclaim, coalesce, huge, cache, churn,
# soak). They link the test variant of the library (MI_TESTING=1) for the
# event counters of include/mimalloc/testing.h.
#
# Environment read by the programs:
#   MI_TEST_SCALE             multiplier of the work (default 1.0; reduced
#                             automatically under ThreadSanitizer/ASan)
#   MI_TEST_CLAIM_PAUSE_US    widen the claim window (mi_test_set_claim_pause)
#   MI_TEST_WATCHDOG_SECONDS  fail a hung run after this long (default 280)
# Every program prints `mi-test: <key>: <value>` lines and exits non-zero on
# any corruption, claim overlap, lost segment or unreached path.
# ---------------------------------------------------------------------------
if(NOT TARGET mimalloc-test)
  return()
endif()

mi_add_test(NAME mt-reclaim  SOURCES test-mt-reclaim.c  LIBS mimalloc-test LABELS mt reclaim  TIMEOUT 300)
mi_add_test(NAME mt-coalesce SOURCES test-mt-coalesce.c LIBS mimalloc-test LABELS mt coalesce TIMEOUT 300)
mi_add_test(NAME mt-huge     SOURCES test-mt-huge.c     LIBS mimalloc-test LABELS mt huge     TIMEOUT 300)
mi_add_test(NAME mt-churn    SOURCES test-mt-churn.c    LIBS mimalloc-test LABELS mt churn    TIMEOUT 300)
# first argument: seconds to run
mi_add_test(NAME mt-cache    SOURCES test-mt-cache.c    LIBS mimalloc-test LABELS mt cache    TIMEOUT 300)
mi_add_test(NAME mt-soak     SOURCES test-mt-soak.c     LIBS mimalloc-test LABELS mt soak     TIMEOUT 300 ARGS 20)
# Regression tests of issue 10: each one opens its race window deterministically
# (barriers, the claim pause, or the allocator's test hooks).
mi_add_test(NAME mt-claim-storm SOURCES test-mt-claim-storm.c LIBS mimalloc-test LABELS mt reclaim TIMEOUT 300)
mi_add_test(NAME mt-visit       SOURCES test-mt-visit.c       LIBS mimalloc-test LABELS mt reclaim TIMEOUT 300)
mi_add_test(NAME mt-subproc     SOURCES test-mt-subproc.c     LIBS mimalloc-test LABELS mt reclaim TIMEOUT 300)
mi_add_test(NAME mt-heap-delete SOURCES test-mt-heap-delete.c LIBS mimalloc-test LABELS mt TIMEOUT 300)
mi_add_test(NAME mt-thread-id   SOURCES test-mt-thread-id.c   LIBS mimalloc-test LABELS mt TIMEOUT 300)
mi_add_test(NAME mt-remote-count SOURCES test-mt-remote-count.c LIBS mimalloc-test LABELS mt TIMEOUT 300)

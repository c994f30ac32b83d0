# ---------------------------------------------------------------------------
# Multithreaded tests written for mutants that the other mt tests did not
# kill (see scripts/mutants.toml and doc/mutants.md). Same conventions and
# environment as test/mt.cmake.
#
#   mt-giveback   a claimant gives an unsuitable segment back and keeps none
#                 of its spans; the next claimant uses them
#   mt-abandonrace a claimant reclaims a fragmented segment on free the instant
#                 it is abandoned, then allocates from its spans (round 1: the
#                 abandon is held by a test hook before its spans leave the
#                 producer's queues)
#   mt-remote-storm threads free into the same pages at once while the owner
#                 collects; no free may be lost, no block handed out twice
#                 (round 1: a push is held by a test hook while the owner
#                 takes the lists over)
# ---------------------------------------------------------------------------
if(NOT TARGET mimalloc-test)
  return()
endif()

mi_add_test(NAME mt-giveback  SOURCES test-mt-giveback.c  LIBS mimalloc-test LABELS mt giveback  TIMEOUT 300)
mi_add_test(NAME mt-abandonrace SOURCES test-mt-abandonrace.c LIBS mimalloc-test LABELS mt abandonrace TIMEOUT 300)
mi_add_test(NAME mt-remote-storm SOURCES test-mt-remote-storm.c LIBS mimalloc-test LABELS mt threadfree TIMEOUT 300)

# ---------------------------------------------------------------------------
# OS memory tests (label `os`), linked with the static library:
#
#   test-os-thp    transparent huge pages: asked for on new segments past the RSS threshold,
#                  not on a small program's first segment or huge blocks, not with allow_thp=0
#   test-os-reuse  freed large memory is reused without faulting it in again
#                  (minor page faults of a steady large-block churn)
#   test-os-footprint  a page serving a small steady working set stays a few
#                  KiB large (free-list extension and growth limits)
#   mt-exit-one    threads exiting with one live block: new threads allocate
#                  from the pages they leave (live objects in few slices)
#   mt-reclaim-target  target_segments_per_thread stops reclaim-on-free once a
#                  thread owns that many segments (test counters)
#   mt-reclaim-empty   a claimant frees an abandoned segment whose pages all
#                  emptied after it was abandoned (test counters)
#   test-os-purge-backoff  purged memory taken again within a second doubles
#                  the purge delay; ten quiet seconds halve it (mincore, counters)
#   test-os-purge-locked  a purge that fails (mlock'ed memory) is not taken
#                  as zeroing: calloc there still clears
#   test-os-map-limit  at vm.max_map_count, a freed segment that cannot be
#                  unmapped is purged instead (nothing stays resident)
#   test-os-move-fail  a failed move of cached memory (as Linux's can fail,
#                  after unmapping the destination) loses nothing and never
#                  takes memory another thread mapped into the hole
# ---------------------------------------------------------------------------
if(NOT TARGET mimalloc-static)
  return()
endif()

set(mi_os_definitions "")
if(MI_NO_THP)
  set(mi_os_definitions MI_TEST_NO_THP=1)
endif()
# Page-fault counts mean nothing under a sanitizer (its shadow memory faults too).
set(mi_os_tests footprint)
if(NOT MI_SANITIZE)
  list(APPEND mi_os_tests reuse)
endif()
foreach(mi_os_name IN LISTS mi_os_tests)
  # test-os-reuse checks the segment cache's geometry, which differs with
  # 32-bit segment sizes: label `cache` puts it in the cross presets too.
  set(mi_os_labels os)
  if(mi_os_name STREQUAL "reuse")
    list(APPEND mi_os_labels cache)
  endif()
  mi_add_test(NAME test-os-${mi_os_name}
              SOURCES test-os-${mi_os_name}.c
              LIBS mimalloc-static
              LABELS ${mi_os_labels}
              DEFINITIONS ${mi_os_definitions}
              TIMEOUT 120)
endforeach()

# A purge that fails (locked memory) must not count as zeroing the memory.
mi_add_test(NAME test-os-purge-locked SOURCES test-os-purge-locked.c LIBS mimalloc-static LABELS os TIMEOUT 60)
# At vm.max_map_count, a segment that cannot be unmapped is purged instead
# (not under a sanitizer or an emulator, whose own mappings fail at the limit).
if(NOT MI_SANITIZE AND NOT CMAKE_CROSSCOMPILING)
  mi_add_test(NAME test-os-map-limit SOURCES test-os-map-limit.c LIBS mimalloc-static LABELS os TIMEOUT 60)
endif()

# Memory of exited threads reused (label `mt` too, so `ctest -L mt` runs it).
mi_add_test(NAME mt-exit-one SOURCES test-mt-exit-one.c LIBS mimalloc-static LABELS mt reuse TIMEOUT 120)
if(TARGET mimalloc-test)
  mi_add_test(NAME mt-reclaim-target SOURCES test-mt-reclaim-target.c LIBS mimalloc-test LABELS mt reuse
              TIMEOUT 60)
  mi_add_test(NAME mt-reclaim-empty SOURCES test-mt-reclaim-empty.c LIBS mimalloc-test LABELS mt reclaim reuse
              TIMEOUT 60)
  mi_add_test(NAME test-os-thp SOURCES test-os-thp.c LIBS mimalloc-test LABELS os DEFINITIONS ${mi_os_definitions}
              TIMEOUT 120)
  mi_add_test(NAME test-os-purge-backoff SOURCES test-os-purge-backoff.c LIBS mimalloc-test LABELS os reuse
              TIMEOUT 60)
  # Its phases need huge mappings next to each other, which the allocator's
  # hints give (rising on 64-bit, falling on 32-bit); a sanitizer's own
  # mappings may leave gaps, and then phases are skipped, not failed.
  set(mi_move_fail_definitions "")
  if(NOT MI_SANITIZE)
    set(mi_move_fail_definitions MI_TEST_EXPECT_ALL_PHASES=1)
  endif()
  mi_add_test(NAME test-os-move-fail SOURCES test-os-move-fail.c LIBS mimalloc-test LABELS os cache
              DEFINITIONS ${mi_move_fail_definitions} TIMEOUT 60)
endif()

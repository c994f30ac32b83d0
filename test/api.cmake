# ---------------------------------------------------------------------------
# Core API tests (label `api`): one program per concern, each linked with the
# static library and using only the public interface in include/mimalloc.h.
#
#   test-api-bins     every size-class boundary: usable size, alignment, full writes
#   test-api-usable   mi_usable_size / mi_good_size agreement, no overlap of live blocks
#   test-api-realloc  content kept through realloc chains over every page kind,
#                     mi_reallocn / mi_reallocf / mi_rezalloc / mi_recalloc / mi_expand
#   test-api-zero     mi_zalloc / mi_calloc / mi_zalloc_small zero also on reused memory
#   test-api-random   10^6 fixed-seed alloc/free/realloc steps against a shadow record
#   test-api-threads  8 threads each working on their own blocks, fixed step count
#   test-api-errors   impossible requests: NULL with errno ENOMEM, blocks left intact
#   test-api-misc     NULL/zero-size cases, strdup/strndup, realpath, version, 1 GiB
#   test-api-usize    the 2.2.7 mi_u* functions: reported usable sizes, zeroing, failures
#   test-api-aligned-remote  blocks at interior aligned addresses freed by another thread
#
# Together they take well under a minute in a release build; the timeouts
# leave room for sanitizer and debug builds.
# ---------------------------------------------------------------------------
if(NOT TARGET mimalloc-static)
  message(STATUS "api tests skipped: the mimalloc-static target is not built")
  return()
endif()

set(mi_api_tests
  "bins:180"
  "usable:120"
  "realloc:180"
  "zero:180"
  "random:300"
  "threads:300"
  "errors:60"
  "misc:60"
  "usize:120"
  "aligned-remote:120"
)

foreach(mi_api_entry IN LISTS mi_api_tests)
  string(REPLACE ":" ";" mi_api_parts "${mi_api_entry}")
  list(GET mi_api_parts 0 mi_api_name)
  list(GET mi_api_parts 1 mi_api_timeout)
  mi_add_test(NAME test-api-${mi_api_name}
              SOURCES test-api-${mi_api_name}.c
              LIBS mimalloc-static
              LABELS api
              TIMEOUT ${mi_api_timeout})
endforeach()

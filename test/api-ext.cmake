# ---------------------------------------------------------------------------
# Further API tests (label `api`): heaps, options, statistics and hooks,
# arenas, and the C++ interface. Included from test/CMakeLists.txt (through
# test/package.cmake if the former does not include this file directly).
#
#   test-api-heap     first-class heaps: every mi_heap_* allocation form,
#                     delete/destroy (also after remote frees), ownership
#                     queries, visiting (also of abandoned blocks after the
#                     owning threads exited)
#   test-api-options  every option call, enumerator values, MIMALLOC_*
#                     environment parsing (child processes)
#   test-api-stats    statistics output, reset/merge, process info, JSON,
#                     MIMALLOC_SHOW_STATS at exit; output/error/deferred hooks
#   test-api-arena    reserved and program-provided arenas, exclusive heaps,
#                     zeroing on reuse, concurrent block claims, huge OS pages
#   test-api-cxx      mi_new* and the STL allocators
# ---------------------------------------------------------------------------
if(DEFINED mi_api_ext_included)
  return()
endif()
set(mi_api_ext_included ON)

if(NOT TARGET mimalloc-static)
  message(STATUS "extended api tests skipped: the mimalloc-static target is not built")
  return()
endif()

foreach(mi_api_ext_entry IN ITEMS "heap:180" "options:120" "stats:120" "arena:180")
  string(REPLACE ":" ";" mi_api_ext_parts "${mi_api_ext_entry}")
  list(GET mi_api_ext_parts 0 mi_api_ext_name)
  list(GET mi_api_ext_parts 1 mi_api_ext_timeout)
  mi_add_test(NAME test-api-${mi_api_ext_name}
              SOURCES test-api-${mi_api_ext_name}.c
              LIBS mimalloc-static
              LABELS api
              TIMEOUT ${mi_api_ext_timeout})
endforeach()

get_property(mi_api_ext_languages GLOBAL PROPERTY ENABLED_LANGUAGES)
if("CXX" IN_LIST mi_api_ext_languages)
  mi_add_test(NAME test-api-cxx
              SOURCES test-api-cxx.cpp
              LIBS mimalloc-static
              LABELS api
              TIMEOUT 120)
else()
  message(STATUS "test-api-cxx skipped: C++ is not enabled")
endif()

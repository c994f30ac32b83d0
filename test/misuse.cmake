# ---------------------------------------------------------------------------
# Misuse tests (label `misuse`): programs that commit one heap bug on purpose
# (overflow, overflow into a free neighbour, double free, realloc of a freed
# pointer, interior pointer, foreign pointer) and check the exact report, that
# the block is left alone and that the heap keeps working.
#
# Each runs against two builds that promise detection:
#   <name>            the tree's own build (mimalloc-test), when MI_DEBUG >= 1
#   <name>-hardened   mimalloc-hardened, built here: the tree's sources with
#                     MI_SECURE=4, MI_XMALLOC and MI_SHOW_ERRORS (so in the
#                     release preset it checks the release secure mode)
# Also: test-debug-fill (MI_DEBUG >= 2), test-secure (guard pages, random
# free-list order), test-xmalloc (abort on out-of-memory).
# ---------------------------------------------------------------------------
if(MI_SANITIZE STREQUAL "address")
  # The programs overflow and reuse blocks on purpose, which AddressSanitizer
  # (tracking our blocks) reports itself; the ASan runs have their own tests.
  message(STATUS "misuse tests: skipped in the MI_SANITIZE=address build")
  return()
endif()
if(mi_secure_level GREATER 0)
  set(mi_hardened_lib mimalloc-test) # the tree is secure already
else()
  list(TRANSFORM mi_sources PREPEND "${PROJECT_SOURCE_DIR}/" OUTPUT_VARIABLE mi_hardened_sources)
  add_library(mimalloc-hardened STATIC ${mi_hardened_sources})
  target_include_directories(mimalloc-hardened PUBLIC "${PROJECT_SOURCE_DIR}/include")
  target_compile_options(mimalloc-hardened PRIVATE -ftls-model=initial-exec -fno-builtin-malloc -pthread)
  target_compile_definitions(mimalloc-hardened PRIVATE MI_STATIC_LIB MI_SECURE=4 MI_XMALLOC=1 MI_SHOW_ERRORS=1)
  target_link_libraries(mimalloc-hardened PUBLIC Threads::Threads)
  set_target_properties(mimalloc-hardened PROPERTIES C_VISIBILITY_PRESET hidden POSITION_INDEPENDENT_CODE ON)
  set(mi_hardened_lib mimalloc-hardened)
endif()

set(mi_misuse_tests overflow neighbour double-free realloc-freed interior foreign)
foreach(mi_misuse IN LISTS mi_misuse_tests)
  if(MI_DEBUG_LEVEL GREATER 0)
    mi_add_test(NAME test-misuse-${mi_misuse}
                SOURCES test-misuse-${mi_misuse}.c
                LIBS mimalloc-test
                LABELS misuse
                TIMEOUT 60)
  endif()
  mi_add_test(NAME test-misuse-${mi_misuse}-hardened
              SOURCES test-misuse-${mi_misuse}.c
              LIBS ${mi_hardened_lib}
              LABELS misuse secure
              TIMEOUT 60)
endforeach()

if(MI_DEBUG_LEVEL GREATER 1 AND NOT MI_SANITIZE)
  mi_add_test(NAME test-debug-fill SOURCES test-debug-fill.c LIBS mimalloc-test LABELS misuse TIMEOUT 60)
endif()
if(NOT MI_SANITIZE)
  # fork() and a deliberate fault or abort: not under a sanitizer runtime.
  mi_add_test(NAME test-secure SOURCES test-secure.c LIBS ${mi_hardened_lib} LABELS secure TIMEOUT 60)
  if(mi_secure_level GREATER 0 AND NOT MI_XMALLOC)
    message(STATUS "test-xmalloc: skipped (the tree is secure but not MI_XMALLOC)")
  else()
    mi_add_test(NAME test-xmalloc SOURCES test-xmalloc.c LIBS ${mi_hardened_lib} LABELS secure TIMEOUT 60)
  endif()
endif()

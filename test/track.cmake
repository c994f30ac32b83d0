# ---------------------------------------------------------------------------
# Tracking, guarded allocation and fuzzing (labels track, valgrind, asan,
# guarded, fuzz). Included from test/CMakeLists.txt.
#
#   test-track-valgrind  (release/debug trees, valgrind installed) the
#                        MI_TRACK_VALGRIND objects under memcheck: a clean run
#                        without any report, and planted user bugs (overflow,
#                        use after free, use after realloc, uninitialised
#                        read) each reported
#   test-track-asan      (asan preset, MI_TRACK_ASAN) the same clean run and
#                        bugs under AddressSanitizer
#   test-guarded         (every tree) MI_GUARDED library: sampled blocks end
#                        at a guard page, overflows fault at the access, the
#                        sampling settings and bounds, guard release on free,
#                        heap destroy and remote free
#   test-fuzz-api        random API sequences against a shadow copy of every
#                        live block: libFuzzer (clang, asan preset) for a
#                        bounded number of runs, elsewhere the same harness on
#                        fixed-seed random inputs
# ---------------------------------------------------------------------------
if(TARGET mimalloc-test-valgrind)
  mi_add_test(NAME test-track-valgrind
              SOURCES test-track.c
              LIBS mimalloc-test-valgrind
              LABELS track valgrind
              TIMEOUT 300
              DEFINITIONS "MI_TEST_VALGRIND=\"${MI_VALGRIND_PROGRAM}\"")
  target_include_directories(test-track-valgrind PRIVATE "${PROJECT_SOURCE_DIR}/include")
endif()

if(MI_TRACK_ASAN AND TARGET mimalloc-static)
  mi_add_test(NAME test-track-asan
              SOURCES test-track.c
              LIBS mimalloc-static
              LABELS track asan
              TIMEOUT 300
              DEFINITIONS MI_TEST_ASAN=1)
endif()

if(TARGET mimalloc-test-guarded)
  mi_add_test(NAME test-guarded
              SOURCES test-guarded.c
              LIBS mimalloc-test-guarded
              LABELS guarded
              TIMEOUT 120)
endif()

if(TARGET mimalloc-static)
  if(CMAKE_C_COMPILER_ID MATCHES "Clang" AND MI_SANITIZE STREQUAL "address")
    mi_add_test(NAME test-fuzz-api
                SOURCES test-fuzz-api.c
                LIBS mimalloc-static
                LABELS fuzz
                TIMEOUT 600
                ARGS -runs=8000 -seed=1 -max_len=2048)
    target_compile_options(test-fuzz-api PRIVATE -fsanitize=fuzzer)
    target_link_options(test-fuzz-api PRIVATE -fsanitize=fuzzer)
  else()
    mi_add_test(NAME test-fuzz-api
                SOURCES test-fuzz-api.c
                LIBS mimalloc-static
                LABELS fuzz
                TIMEOUT 300
                ARGS 200
                DEFINITIONS MI_TEST_FUZZ_STANDALONE=1)
  endif()
endif()

# ---------------------------------------------------------------------------
# Drop-in override tests (label: override).
#
# Compiled programs run with LD_PRELOAD=libmimalloc.so (they are not linked
# with the allocator and find its API with dlsym), or link it statically
# (mimalloc.o / libmimalloc.a). Real programs -- python3, perl, sort, gzip,
# git -- run through test/override/run-program.sh, which compares their output
# with a run on the system allocator and checks that ours was loaded.
#
# Programs needed (Debian packages): python3, perl, coreutils, gzip, git.
# A script-driven test reports SKIP (exit 77) only when its program is missing.
# ---------------------------------------------------------------------------
set(mi_override_dir "${CMAKE_CURRENT_SOURCE_DIR}/override")

if(NOT CMAKE_SYSTEM_NAME STREQUAL "Linux")
  message(STATUS "override tests: only run on Linux")
  return()
endif()
if(MI_SANITIZE)
  # A sanitizer runtime intercepts malloc itself and must be loaded first;
  # preloading or statically linking another allocator conflicts with it.
  message(STATUS "override tests: skipped in the MI_SANITIZE=${MI_SANITIZE} build")
  return()
endif()
if(NOT MI_OVERRIDE)
  message(STATUS "override tests: skipped because MI_OVERRIDE is OFF")
  return()
endif()

# Options shared by every override test program: no builtin knowledge of
# malloc & co., so the compiler neither folds nor removes the calls under test.
function(mi_override_program_options target)
  target_compile_options(${target} PRIVATE -fno-builtin)
  target_include_directories(${target} PRIVATE "${mi_override_dir}")
endfunction()

# --- statically linked programs --------------------------------------------------
if(MI_BUILD_OBJECT AND DEFINED MI_OBJECT_FILE)
  mi_add_test(NAME override-static-object
              SOURCES override/static-link.c "${MI_OBJECT_FILE}"
              LIBS ${CMAKE_DL_LIBS}
              LABELS override
              TIMEOUT 60)
  set_source_files_properties("${MI_OBJECT_FILE}" PROPERTIES EXTERNAL_OBJECT TRUE GENERATED TRUE)
  add_dependencies(override-static-object mimalloc-object)
  target_include_directories(override-static-object PRIVATE "${PROJECT_SOURCE_DIR}/include")
  mi_override_program_options(override-static-object)
endif()

if(MI_BUILD_STATIC)
  mi_add_test(NAME override-static-lib
              SOURCES override/static-link.c
              LIBS mimalloc-static ${CMAKE_DL_LIBS}
              LABELS override
              TIMEOUT 60)
  mi_override_program_options(override-static-lib)

  # All or nothing: a program naming only malloc and free gets every override.
  mi_add_test(NAME override-static-all
              SOURCES override/static-all.c
              LIBS mimalloc-static
              LABELS override
              TIMEOUT 60)
  mi_override_program_options(override-static-all)
  add_test(NAME override-static-all-nm
           COMMAND bash "${mi_override_dir}/static-nm.sh" $<TARGET_FILE:override-static-all>)
  set_tests_properties(override-static-all-nm PROPERTIES LABELS override TIMEOUT 60)
endif()

if(NOT MI_BUILD_SHARED)
  message(STATUS "override tests: preload tests need MI_BUILD_SHARED=ON")
  return()
endif()

# --- compiled programs run with LD_PRELOAD ----------------------------------------
set(mi_preload "LD_PRELOAD=$<TARGET_FILE:mimalloc>")

mi_add_test(NAME override-posix-api
            SOURCES override/posix-api.c
            LIBS ${CMAKE_DL_LIBS}
            LABELS override
            TIMEOUT 60
            ENVIRONMENT ${mi_preload})

get_property(mi_override_languages GLOBAL PROPERTY ENABLED_LANGUAGES)
if("CXX" IN_LIST mi_override_languages)
mi_add_test(NAME override-new-delete
            SOURCES override/new-delete.cpp
            LIBS ${CMAKE_DL_LIBS}
            LABELS override
            TIMEOUT 60
            ENVIRONMENT ${mi_preload})
# clang declares the sized operator delete only with -fsized-deallocation.
target_compile_options(override-new-delete PRIVATE $<$<CXX_COMPILER_ID:Clang>:-fsized-deallocation>)

mi_add_test(NAME override-lifecycle
            SOURCES override/lifecycle.cpp
            LIBS ${CMAKE_DL_LIBS}
            LABELS override
            TIMEOUT 60
            ENVIRONMENT ${mi_preload})
else()
  message(STATUS "override-new-delete and override-lifecycle skipped: C++ is not enabled")
endif()

mi_add_test(NAME override-fork
            SOURCES override/fork.c
            LIBS ${CMAKE_DL_LIBS}
            LABELS override
            TIMEOUT 300
            ENVIRONMENT ${mi_preload})

add_library(override-dlopen-lib MODULE override/dlopen-lib.c)
target_link_libraries(override-dlopen-lib PRIVATE Threads::Threads)
mi_add_test(NAME override-dlopen
            SOURCES override/dlopen.c
            LIBS ${CMAKE_DL_LIBS}
            LABELS override
            TIMEOUT 60
            ARGS $<TARGET_FILE:override-dlopen-lib>
            ENVIRONMENT ${mi_preload})
add_dependencies(override-dlopen override-dlopen-lib)

mi_add_test(NAME override-foreign-free
            SOURCES override/foreign-free.c
            LIBS ${CMAKE_DL_LIBS}
            LABELS override
            TIMEOUT 60
            ENVIRONMENT ${mi_preload} MIMALLOC_VERBOSE=1)

foreach(target override-posix-api override-new-delete override-lifecycle override-fork override-dlopen override-foreign-free)
  if(NOT TARGET ${target})
    continue()
  endif()
  mi_override_program_options(${target})
  # The programs reach the allocator through dlsym only; building them after
  # the library keeps `ctest` from running them against a stale one.
  add_dependencies(${target} mimalloc)
endforeach()

# --- real programs through run-program.sh ----------------------------------------
find_program(MI_BASH bash REQUIRED)
find_program(MI_PYTHON3 NAMES python3)
find_program(MI_PERL NAMES perl)
find_program(MI_GIT NAMES git)
find_program(MI_GZIP NAMES gzip)
foreach(program MI_PYTHON3 MI_PERL MI_GIT MI_GZIP)
  if(NOT ${program})
    string(REPLACE "MI_" "" missing "${program}")
    string(TOLOWER "${missing}" missing)
    message(STATUS "override tests: '${missing}' not found; its test will be skipped")
    set(${program} "${missing}")    # run-program.sh reports SKIP (77) for it
  endif()
endforeach()

add_executable(override-make-lines override/make-lines.c)

set(mi_override_work "${CMAKE_CURRENT_BINARY_DIR}/override-work")

# mi_add_program_test(<name> <timeout> [REQUIRE <program>...] COMMAND <command>...)
function(mi_add_program_test name timeout)
  cmake_parse_arguments(PARSE_ARGV 2 arg "" "" "REQUIRE;COMMAND")
  set(require_args "")
  foreach(program IN LISTS arg_REQUIRE)
    list(APPEND require_args --require "${program}")
  endforeach()
  add_test(NAME ${name}
           COMMAND "${MI_BASH}" "${mi_override_dir}/run-program.sh"
                   --lib $<TARGET_FILE:mimalloc>
                   --workdir "${mi_override_work}"
                   --name ${name}
                   ${require_args}
                   -- ${arg_COMMAND})
  set_tests_properties(${name} PROPERTIES
    LABELS override
    TIMEOUT ${timeout}
    SKIP_RETURN_CODE 77)
endfunction()

mi_add_program_test(override-python 120
  REQUIRE "${MI_PYTHON3}"
  COMMAND env PYTHONMALLOC=malloc PYTHONHASHSEED=0 "${MI_PYTHON3}" "${mi_override_dir}/workload.py")

mi_add_program_test(override-perl 120
  REQUIRE "${MI_PERL}"
  COMMAND "${MI_PERL}" "${mi_override_dir}/workload.pl")

mi_add_program_test(override-sort-gzip 120
  REQUIRE sort gzip gunzip md5sum
  COMMAND "${MI_BASH}" "${mi_override_dir}/sort-gzip.sh" $<TARGET_FILE:override-make-lines>)

mi_add_program_test(override-git 300
  REQUIRE "${MI_GIT}" md5sum
  COMMAND "${MI_BASH}" "${mi_override_dir}/git.sh" $<TARGET_FILE:override-make-lines>)

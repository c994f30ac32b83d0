# ---------------------------------------------------------------------------
# mutants: the reduced mutation run of scripts/mutants.py (the fastest-killed
# mutant of each group and kind, see scripts/mutants.toml). It copies the tree
# into <build>/test/mutants/, builds a normal (gcc, MI_DEBUG=2) and a
# ThreadSanitizer (clang) tree of the test programs, applies each mutant in
# turn and passes only when every one of them is killed by the tests. The
# full run and its table: doc/mutants.md.
#
# Registered once per scripts/check.sh: only in a plain Release tree (not in
# the Debug, sanitizer or legacy trees). Turn off with -DMI_TEST_MUTANTS=OFF.
# ---------------------------------------------------------------------------
option(MI_TEST_MUTANTS "Register the reduced mutation test (builds 2 extra trees, a few minutes)" ON)

if(NOT MI_TEST_MUTANTS OR MI_LEGACY_OWNERSHIP OR MI_SANITIZE OR NOT CMAKE_BUILD_TYPE STREQUAL "Release")
  return()
endif()

find_package(Python3 3.11 COMPONENTS Interpreter QUIET)
if(NOT Python3_Interpreter_FOUND)
  message(STATUS "mutants test not registered: python3 >= 3.11 (tomllib) not found")
  return()
endif()

set(mi_mutants_dir "${CMAKE_CURRENT_BINARY_DIR}/mutants")
add_test(NAME mutants
         COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/scripts/mutants.py
                 --reduced --runs 2
                 --work-dir ${mi_mutants_dir}
                 --markdown ${mi_mutants_dir}/mutants.md)
# PROCESSORS 2: the nested builds use -j2 and the tests are multithreaded.
set_tests_properties(mutants PROPERTIES
                     LABELS "mutants"
                     TIMEOUT 900
                     PROCESSORS 2)

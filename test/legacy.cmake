# ---------------------------------------------------------------------------
# legacy-report: the before/after report of scripts/legacy-report.py in a
# reduced form (one run of every mt test per mode). It configures and builds
# four trees of its own under <build>/test/legacy-report/ (normal, legacy,
# each also under ThreadSanitizer with clang) and passes only when the normal
# build is clean in every mode and the legacy build fails: an owner-field
# race under ThreadSanitizer in every run and crashes, assertion failures or
# corruptions in every run with the claim window opened (a legacy run that did
# not show the bug is attempted again, at most 3 attempts in all).
# The table is always printed; `ctest -R legacy-report -V` shows it even when
# the test passes. Reading the table: "Reading the legacy report" in doc/ownership.md.
#
# Registered once per scripts/check.sh: only in a plain Release tree (not in
# the Debug, sanitizer or legacy trees). Turn off with
# -DMI_TEST_LEGACY_REPORT=OFF.
# ---------------------------------------------------------------------------
option(MI_TEST_LEGACY_REPORT "Register the legacy-report test (builds 4 extra trees, about 5 minutes)" ON)

if(NOT MI_TEST_LEGACY_REPORT OR MI_LEGACY_OWNERSHIP OR MI_SANITIZE OR NOT CMAKE_BUILD_TYPE STREQUAL "Release")
  return()
endif()

find_package(Python3 COMPONENTS Interpreter QUIET)
if(NOT Python3_Interpreter_FOUND)
  message(STATUS "legacy-report test not registered: python3 not found")
  return()
endif()

set(mi_legacy_report_dir "${CMAKE_CURRENT_BINARY_DIR}/legacy-report")
add_test(NAME legacy-report
         COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/scripts/legacy-report.py
                 --source-dir ${PROJECT_SOURCE_DIR}
                 --build-dir ${mi_legacy_report_dir}
                 --runs 1
                 --modes normal,normal+pause,normal+tsan,legacy+pause,legacy+tsan
                 --soak-seconds 2
                 --legacy-timeout 30
                 --markdown ${mi_legacy_report_dir}/legacy-report.md)
# PROCESSORS 2: the nested builds use -j2 and the tests are multithreaded, so
# under `ctest -j2` nothing else runs beside it.
set_tests_properties(legacy-report PROPERTIES
                     LABELS "legacy"
                     TIMEOUT 1500
                     PROCESSORS 2)

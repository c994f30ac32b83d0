# ---------------------------------------------------------------------------
# Package test (label `package`): install the current build tree into a
# scratch prefix and build three consumer projects against the installed copy:
#
#   test/package/c-shared     C,   find_package(mimalloc), links `mimalloc` (shared)
#   test/package/cxx-static   C++, find_package(mimalloc), links `mimalloc-static`
#   test/package/pkgconfig    C,   compiled with `pkg-config --cflags --libs mimalloc`
#
# Each consumer checks mi_version() == MI_MALLOC_VERSION, uses a few calls and
# checks that it runs on the installed library. The driver is
# test/package/run-package-test.cmake. Not registered for legacy builds (they
# refuse to install) nor for sanitizer builds (consumers would need the
# sanitizer runtime). Needs pkg-config (Debian: pkgconf).
#
# This file also pulls in test/api-ext.cmake (more `api` tests) in case
# test/CMakeLists.txt does not include it itself.
# ---------------------------------------------------------------------------
include(${CMAKE_CURRENT_LIST_DIR}/api-ext.cmake OPTIONAL)

if(MI_LEGACY_OWNERSHIP)
  message(STATUS "package test skipped: a legacy-ownership build cannot be installed")
  return()
endif()
if(MI_SANITIZE)
  message(STATUS "package test skipped: sanitizer build (MI_SANITIZE=${MI_SANITIZE})")
  return()
endif()
if(NOT TARGET mimalloc OR NOT TARGET mimalloc-static)
  message(STATUS "package test skipped: needs both the mimalloc and mimalloc-static targets")
  return()
endif()

find_program(MI_PKG_CONFIG_EXECUTABLE NAMES pkg-config pkgconf)
if(NOT MI_PKG_CONFIG_EXECUTABLE)
  message(WARNING "package test: pkg-config not found; the pkg-config consumer will fail (install pkgconf)")
  set(MI_PKG_CONFIG_EXECUTABLE "pkg-config")
endif()

add_test(NAME test-package
         COMMAND "${CMAKE_COMMAND}"
                 "-DMI_BUILD_DIR=${PROJECT_BINARY_DIR}"
                 "-DMI_CONFIG=$<CONFIG>"
                 "-DMI_CONSUMERS_DIR=${CMAKE_CURRENT_LIST_DIR}/package"
                 "-DMI_WORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/package-test"
                 "-DMI_GENERATOR=${CMAKE_GENERATOR}"
                 "-DMI_C_COMPILER=${CMAKE_C_COMPILER}"
                 "-DMI_CXX_COMPILER=${CMAKE_CXX_COMPILER}"
                 "-DMI_PKG_CONFIG=${MI_PKG_CONFIG_EXECUTABLE}"
                 "-DMI_INSTALL_TOPLEVEL=${MI_INSTALL_TOPLEVEL}"
                 "-DMI_INSTALL_VERSION=${mi_install_version}"
                 -P "${CMAKE_CURRENT_LIST_DIR}/package/run-package-test.cmake")
set_tests_properties(test-package PROPERTIES LABELS "package" TIMEOUT 240)

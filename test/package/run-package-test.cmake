# Driver of the package test (see test/package.cmake), run with `cmake -P`.
# Installs the build tree MI_BUILD_DIR into MI_WORK_DIR/prefix, then builds and
# runs each consumer against that prefix. Any failing step stops the test with
# the step's output.
cmake_minimum_required(VERSION 3.16)

foreach(mi_var IN ITEMS MI_BUILD_DIR MI_CONSUMERS_DIR MI_WORK_DIR MI_GENERATOR MI_C_COMPILER MI_CXX_COMPILER
                        MI_PKG_CONFIG)
  if(NOT DEFINED ${mi_var} OR "${${mi_var}}" STREQUAL "")
    message(FATAL_ERROR "package test: ${mi_var} is not set")
  endif()
endforeach()

set(mi_prefix "${MI_WORK_DIR}/prefix")
file(REMOVE_RECURSE "${MI_WORK_DIR}")
file(MAKE_DIRECTORY "${MI_WORK_DIR}")

# Run a command; stop with its output if it fails.
function(mi_package_step name)
  execute_process(COMMAND ${ARGN}
                  RESULT_VARIABLE mi_rc
                  OUTPUT_VARIABLE mi_out
                  ERROR_VARIABLE mi_err)
  if(NOT mi_rc STREQUAL "0")
    message(FATAL_ERROR "package test: ${name} failed (${mi_rc})\n  command: ${ARGN}\n${mi_out}\n${mi_err}")
  endif()
  string(STRIP "${mi_out}" mi_out)
  if(mi_out MATCHES "^consumer")
    message(STATUS "${name}: ${mi_out}")
  else()
    message(STATUS "${name}: ok")
  endif()
endfunction()

# 1. Install.
set(mi_config_args "")
if(MI_CONFIG)
  set(mi_config_args --config "${MI_CONFIG}")
endif()
mi_package_step("install into ${mi_prefix}"
  "${CMAKE_COMMAND}" --install "${MI_BUILD_DIR}" --prefix "${mi_prefix}" ${mi_config_args})

# The layout MI_INSTALL_TOPLEVEL asks for: the shared library always in lib/,
# the rest either there too or in versioned subdirectories.
if(DEFINED MI_INSTALL_TOPLEVEL AND DEFINED MI_INSTALL_VERSION)
  string(REPLACE "." "[.]" mi_v "${MI_INSTALL_VERSION}")
  if(MI_INSTALL_TOPLEVEL)
    set(mi_expected "^include/mimalloc[.]h$" "^lib[^/]*(/[^/]+)?/cmake/mimalloc/mimalloc-config[.]cmake$"
                    "^lib[^/]*(/[^/]+)?/libmimalloc[.]a$" "^lib[^/]*(/[^/]+)?/libmimalloc[.]so$")
  else()
    set(mi_expected "^include/mimalloc-${mi_v}/mimalloc[.]h$"
                    "^lib[^/]*(/[^/]+)?/cmake/mimalloc-${mi_v}/mimalloc-config[.]cmake$"
                    "^lib[^/]*(/[^/]+)?/mimalloc-${mi_v}/libmimalloc[.]a$" "^lib[^/]*(/[^/]+)?/libmimalloc[.]so$")
  endif()
  file(GLOB_RECURSE mi_installed LIST_DIRECTORIES false RELATIVE "${mi_prefix}" "${mi_prefix}/*")
  foreach(mi_pattern IN LISTS mi_expected)
    set(mi_matches "${mi_installed}")
    list(FILTER mi_matches INCLUDE REGEX "${mi_pattern}")
    if(NOT mi_matches)
      message(FATAL_ERROR "package test: MI_INSTALL_TOPLEVEL=${MI_INSTALL_TOPLEVEL}: nothing installed matches "
                          "${mi_pattern}; installed: ${mi_installed}")
    endif()
  endforeach()
  message(STATUS "install layout (MI_INSTALL_TOPLEVEL=${MI_INSTALL_TOPLEVEL}): ok")
endif()

# 2. The CMake consumers.
foreach(mi_consumer IN ITEMS c-shared cxx-static)
  set(mi_bin "${MI_WORK_DIR}/${mi_consumer}")
  mi_package_step("configure ${mi_consumer}"
    "${CMAKE_COMMAND}" -S "${MI_CONSUMERS_DIR}/${mi_consumer}" -B "${mi_bin}" -G "${MI_GENERATOR}"
    "-DCMAKE_BUILD_TYPE=Release"
    "-DCMAKE_C_COMPILER=${MI_C_COMPILER}"
    "-DCMAKE_CXX_COMPILER=${MI_CXX_COMPILER}"
    "-DCMAKE_PREFIX_PATH=${mi_prefix}"
    "-DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF"
    "-DMI_EXPECTED_PREFIX=${mi_prefix}")
  mi_package_step("build ${mi_consumer}" "${CMAKE_COMMAND}" --build "${mi_bin}" --config Release)
  set(mi_exe "${mi_bin}/consumer")
  if(NOT EXISTS "${mi_exe}" AND EXISTS "${mi_bin}/Release/consumer")
    set(mi_exe "${mi_bin}/Release/consumer")
  endif()
  mi_package_step("run ${mi_consumer}" "${mi_exe}")
endforeach()

# 3. The pkg-config consumer, compiled by hand.
file(GLOB_RECURSE mi_pc_files "${mi_prefix}/*/mimalloc.pc")
list(LENGTH mi_pc_files mi_pc_count)
if(NOT mi_pc_count EQUAL 1)
  message(FATAL_ERROR "package test: expected one installed mimalloc.pc, found: ${mi_pc_files}")
endif()
get_filename_component(mi_pc_dir "${mi_pc_files}" DIRECTORY)
set(ENV{PKG_CONFIG_PATH} "${mi_pc_dir}")
set(ENV{PKG_CONFIG_LIBDIR} "${mi_pc_dir}") # only our prefix: no system copy may answer
execute_process(COMMAND "${MI_PKG_CONFIG}" --cflags --libs mimalloc
                RESULT_VARIABLE mi_rc OUTPUT_VARIABLE mi_pc_flags ERROR_VARIABLE mi_err
                OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT mi_rc STREQUAL "0")
  message(FATAL_ERROR "package test: ${MI_PKG_CONFIG} --cflags --libs mimalloc failed: ${mi_err}")
endif()
execute_process(COMMAND "${MI_PKG_CONFIG}" --variable=libdir mimalloc
                OUTPUT_VARIABLE mi_pc_libdir OUTPUT_STRIP_TRAILING_WHITESPACE)
string(FIND "${mi_pc_flags}" "-I${mi_prefix}/" mi_include_at)
string(FIND "${mi_pc_libdir}" "${mi_prefix}/" mi_libdir_at)
if(mi_include_at LESS 0 OR NOT mi_libdir_at EQUAL 0)
  message(FATAL_ERROR "package test: pkg-config does not point into the prefix: '${mi_pc_flags}', libdir '${mi_pc_libdir}'")
endif()
message(STATUS "pkg-config flags: ${mi_pc_flags}")
separate_arguments(mi_pc_flag_list UNIX_COMMAND "${mi_pc_flags}")
set(mi_pc_exe "${MI_WORK_DIR}/pkgconfig-consumer")
mi_package_step("build pkgconfig"
  "${MI_C_COMPILER}" -std=c11 -Wall -Wextra -Werror "-DMI_EXPECTED_LIB_DIR=\"${mi_pc_libdir}\""
  "${MI_CONSUMERS_DIR}/pkgconfig/main.c" ${mi_pc_flag_list} -o "${mi_pc_exe}")
mi_package_step("run pkgconfig" "${CMAKE_COMMAND}" -E env "LD_LIBRARY_PATH=${mi_pc_libdir}" "${mi_pc_exe}")

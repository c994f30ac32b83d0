# ---------------------------------------------------------------------------
# musl builds (MI_LIBC_MUSL, label `musl`): the static override of a fully
# static musl program. musl-static-override links mimalloc.o into a program
# built with -static against musl's libc.a; override/static-link.c then checks
# that malloc & co., and the allocations musl makes itself (strdup, asprintf,
# getline), come from our heap, also across threads.
# ---------------------------------------------------------------------------
if(NOT MI_LIBC_MUSL OR NOT MI_OVERRIDE OR MI_SANITIZE)
  return()
endif()
if(NOT MI_BUILD_OBJECT OR NOT DEFINED MI_OBJECT_FILE)
  message(STATUS "musl static override test skipped: needs MI_BUILD_OBJECT=ON")
  return()
endif()

mi_add_test(NAME musl-static-override
            SOURCES override/static-link.c "${MI_OBJECT_FILE}"
            LABELS musl override
            TIMEOUT 60)
set_source_files_properties("${MI_OBJECT_FILE}" PROPERTIES EXTERNAL_OBJECT TRUE GENERATED TRUE)
add_dependencies(musl-static-override mimalloc-object)
target_include_directories(musl-static-override PRIVATE "${PROJECT_SOURCE_DIR}/include"
                                                        "${CMAKE_CURRENT_LIST_DIR}/override")
target_compile_options(musl-static-override PRIVATE -fno-builtin)
target_link_options(musl-static-override PRIVATE -static)

# musl libc on x86_64 with Debian's musl-tools (musl-gcc). musl-gcc compiles
# C only, so such a build enables no C++ (the preset sets MI_LIBC_MUSL before
# the project is declared; the C++ tests are left out). Used by the `musl`
# preset.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR "${CMAKE_HOST_SYSTEM_PROCESSOR}")
set(CMAKE_C_COMPILER musl-gcc)
set(MI_LIBC_MUSL ON CACHE BOOL "Build for musl libc")

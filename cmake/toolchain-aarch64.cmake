# Cross build for 64-bit ARM Linux (glibc) with Debian's gcc-aarch64-linux-gnu;
# the tests run under qemu-user (package qemu-user) with the target's C library
# from libc6-dev-arm64-cross. Used by the `aarch64` preset.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

set(mi_target_root /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH "${mi_target_root}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# MI_QEMU_PAGE_SIZE (bytes) runs the tests with that OS page size (qemu -p),
# e.g. 65536 to check that nothing assumes 4 KiB pages.
find_program(MI_QEMU_AARCH64 qemu-aarch64 REQUIRED)
set(CMAKE_CROSSCOMPILING_EMULATOR "${MI_QEMU_AARCH64};-L;${mi_target_root}")
if(MI_QEMU_PAGE_SIZE)
  list(APPEND CMAKE_CROSSCOMPILING_EMULATOR -p "${MI_QEMU_PAGE_SIZE}")
endif()

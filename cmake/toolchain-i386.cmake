# 32-bit x86 Linux (glibc): the host gcc with -m32 (packages libc6-dev-i386,
# lib32gcc-12-dev, lib32stdc++-12-dev). The tests run under qemu-i386 when it
# is installed (kernels without 32-bit support, such as some CI VMs, cannot
# run them directly), natively otherwise. Used by the `i386` preset.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR i686)
set(CMAKE_C_COMPILER gcc)
set(CMAKE_CXX_COMPILER g++)
set(CMAKE_C_FLAGS_INIT "-m32")
set(CMAKE_CXX_FLAGS_INIT "-m32")
# Debian's gcc-multilib, which links /usr/include/asm for -m32, conflicts with
# the aarch64 cross compiler; the kernel's asm headers of the x86_64 tree serve
# both word sizes, so they are searched last instead.
if(NOT EXISTS /usr/include/asm AND EXISTS /usr/include/x86_64-linux-gnu/asm)
  string(APPEND CMAKE_C_FLAGS_INIT " -idirafter /usr/include/x86_64-linux-gnu")
  string(APPEND CMAKE_CXX_FLAGS_INIT " -idirafter /usr/include/x86_64-linux-gnu")
endif()
set(CMAKE_EXE_LINKER_FLAGS_INIT "-m32")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-m32")
set(CMAKE_MODULE_LINKER_FLAGS_INIT "-m32")
set(CMAKE_LIBRARY_ARCHITECTURE i386-linux-gnu)

find_program(MI_QEMU_I386 qemu-i386)
if(MI_QEMU_I386)
  set(CMAKE_CROSSCOMPILING_EMULATOR "${MI_QEMU_I386}")
endif()

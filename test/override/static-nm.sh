#!/usr/bin/env bash
# usage: static-nm.sh <executable>
# Every overriding entry point of the allocator must be defined in the
# statically linked executable (all or nothing), not left to the C library.
set -euo pipefail
exe="$1"
symbols=(malloc free calloc realloc aligned_alloc posix_memalign memalign valloc pvalloc
         reallocarray reallocf cfree malloc_usable_size malloc_size malloc_good_size
         __libc_malloc __libc_free __libc_calloc __libc_realloc __libc_memalign
         __libc_valloc __libc_pvalloc __posix_memalign
         _Znwm _Znam _ZdlPv _ZdaPv _ZdlPvm _ZnwmRKSt9nothrow_t _ZnwmSt11align_val_t _ZdlPvSt11align_val_t)
defined=$(nm "$exe" | awk '$2 ~ /^[TW]$/ { print $3 }')
missing=()
for s in "${symbols[@]}"; do
  grep -qx -- "$s" <<<"$defined" || missing+=("$s")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "static-nm: not defined in $exe (left to the C library): ${missing[*]}"
  exit 1
fi
echo "static-nm: all ${#symbols[@]} overriding entry points are defined in $exe"

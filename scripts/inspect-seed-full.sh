#!/usr/bin/env bash
# The issue's full seed case for mimalloc-inspect (CI runs a reduced size):
# T threads (default 4) each allocate 20,000 blocks of each of 16..1024 bytes
# and 200 of each of 1, 2 and 3 MiB; half of them exit before the dump. The
# inspector must count every size exactly from a gcore dump and from the live
# process. Needs the release build (cmake --workflow --preset release) and gdb.
# About 2 minutes and up to 6 GB of disk for the core on 2 cores.
#
# Usage: scripts/inspect-seed-full.sh [THREADS]
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$repo_root/build/release"
threads="${1:-4}"
cmake --build "$build" --target test-inspect-seed mimalloc-inspect mimalloc-stripped -j2 >/dev/null
cd "$build/test"
start=$(date +%s)
LD_LIBRARY_PATH="$build/test/inspect-lib" ./test-inspect-seed "$build/mimalloc-inspect" \
  --threads "$threads" --small 20000 --large 200
echo "inspect-seed-full: $threads threads, $(( $(date +%s) - start )) s"

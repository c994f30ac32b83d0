#!/bin/sh
# Workload 16: a real compiler's allocation pattern (clang).
#
# Runs one clang++ process that checks compile_input.cpp (syntax and
# semantics, all the standard headers it includes) `count` times over: the
# driver compiles the files one after the other in the same process, so the
# allocator sees the compiler's whole life: many small AST nodes, symbol
# tables, strings and template instances, mostly freed at the end of each
# file.  Falls back to g++ when clang++ is not installed.  Exit status is the
# compiler's.
#
# usage: compile.sh [count]
count=${1:-4}
here=$(cd "$(dirname "$0")" && pwd)
compiler=$(command -v clang++ || command -v g++) || { echo "compile.sh: no C++ compiler" >&2; exit 127; }
set --
i=0
while [ "$i" -lt "$count" ]; do
  set -- "$@" "$here/compile_input.cpp"
  i=$((i + 1))
done
start=$(date +%s.%N)
"$compiler" -std=c++17 -fsyntax-only "$@" || exit $?
echo "workload=compile compiler=$(basename "$compiler") files=$count seconds=$(echo "$(date +%s.%N) - $start" | bc 2>/dev/null || echo '?')"

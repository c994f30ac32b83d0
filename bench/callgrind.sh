#!/usr/bin/env bash
# Instructions per malloc+free pair, counted with valgrind's callgrind.
#
# usage: bench/callgrind.sh [--count N] [--tsv FILE] [--build DIR] [--lib PATH] [LABEL=PATH ...]
#
# For each allocator, runs the small fixed program alloc_pairs (bench/tools)
# in three modes (fixed: 32-byte pairs; mixed: sizes 8..1024; batch: 64
# blocks of mixed sizes allocated, then freed) at two pair counts, N and 3N,
# and reports (instructions(3N) - instructions(N)) / 2N, so start-up, warm-up
# and set-up cost cancel.  The number includes the loop's own few
# instructions, the same for every allocator.
#
# Allocators: LABEL=PATH arguments (an empty PATH means glibc, no preload);
# without them, ours (--lib PATH, default build/release/libmimalloc.so.2),
# glibc and the installed peers.  Prints a markdown table; --tsv also writes
# "allocator<TAB>mode<TAB>instructions_per_pair" lines to FILE.
set -euo pipefail

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib.sh
. "$BENCH_ROOT/bench/lib.sh"

count=100000
tsv=""
build="${BENCH_BUILD_DIR:-$BENCH_ROOT/build/bench}"
lib=""
specs=()
while [ $# -gt 0 ]; do
  case "$1" in
    --count) count="$2"; shift 2 ;;
    --tsv) tsv="$2"; shift 2 ;;
    --build) build="$2"; shift 2 ;;
    --lib) lib="$2"; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *=*) specs+=("$1"); shift ;;
    *) bench_die "callgrind.sh: unknown argument $1" ;;
  esac
done

command -v valgrind >/dev/null 2>&1 || bench_die "valgrind is not installed (apt-get install -y valgrind)"
bench_tools_build "$build"

if [ ${#specs[@]} -eq 0 ]; then
  specs+=("ours=$(bench_our_lib "$lib")" "glibc=")
  while IFS=$'\t' read -r label path; do specs+=("$label=$path"); done < <(bench_peers_list)
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# instructions LABEL PATH MODE N: total instructions callgrind counted
instructions() {
  local out="$work/callgrind.$1.$3.$4"
  # LD_PRELOAD is handed to valgrind's environment; valgrind passes it on to
  # the program (adding its own preloads), which is how a preloaded
  # allocator is seen by the client.
  if ! LD_PRELOAD="$2" valgrind --tool=callgrind --callgrind-out-file="$out" \
      "$build/alloc_pairs" "$3" "$4" >"$out.log" 2>&1; then
    bench_log "callgrind run failed: $1 $3 $4"; sed 's/^/    /' "$out.log" | tail -n 5 >&2
    echo "FAIL"; return 0
  fi
  awk '/^summary:/ { print $2; found = 1 } END { if (!found) print "FAIL" }' "$out"
}

[ -n "$tsv" ] && : >"$tsv"
modes=(fixed mixed batch)
printf '| allocator | fixed 32 B | mixed 8..1024 B | batch of 64, mixed |\n'
printf '|---|---:|---:|---:|\n'
for spec in "${specs[@]}"; do
  label=${spec%%=*}
  path=${spec#*=}
  row="| $label |"
  for mode in "${modes[@]}"; do
    low=$(instructions "$label" "$path" "$mode" "$count")
    high=$(instructions "$label" "$path" "$mode" "$((3 * count))")
    if [ "$low" = FAIL ] || [ "$high" = FAIL ]; then
      per_pair="FAIL"
    else
      per_pair=$(awk -v a="$low" -v b="$high" -v n="$((2 * count))" 'BEGIN { printf "%.1f", (b - a) / n }')
    fi
    row="$row $per_pair |"
    [ -n "$tsv" ] && printf '%s\t%s\t%s\n' "$label" "$mode" "$per_pair" >>"$tsv"
  done
  printf '%s\n' "$row"
done

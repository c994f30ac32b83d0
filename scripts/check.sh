#!/usr/bin/env bash
# Build and run the whole test suite, one CMake workflow preset after another:
#   release  (gcc, -O3, MI_DEBUG=0, -Werror)
#   debug    (gcc, MI_DEBUG=2, -Werror)
#   tsan     (clang, ThreadSanitizer, all tests except the 'override' label)
# and, after the release workflow, a smoke run of the benchmark driver; then
# the asan preset (clang, AddressSanitizer with MI_TRACK_ASAN), reduced to
# the tests of labels track, fuzz and guarded (the libFuzzer run is bounded).
# Stops at the first failure with a non-zero exit status and prints a summary.
#
# Usage: scripts/check.sh [--quick] [--fresh]
#   --quick   run only the release workflow (no asan step)
#   --fresh   reconfigure each build tree from scratch (cmake --fresh)
# Logs go to build/logs/<preset>.log.
set -euo pipefail

usage() {
  sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
}

presets=(release debug tsan)
asan_step=1
fresh=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) presets=(release); asan_step=0 ;;
    --fresh) fresh=(--fresh) ;;
    -h|--help) usage; exit 0 ;;
    *) echo "check.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo_root"
log_dir="$repo_root/build/logs"
mkdir -p "$log_dir"

summary=()
current=""
started=$(date +%s)

print_summary() {
  local status=$1
  echo
  echo "==================== check.sh summary ===================="
  local line
  for line in "${summary[@]}"; do
    echo "  $line"
  done
  if [[ -n "$current" ]]; then
    echo "  $current: FAILED (log: build/logs/$current.log)"
  fi
  echo "  total time: $(( $(date +%s) - started ))s"
  if [[ $status -eq 0 ]]; then
    echo "  result: PASS (${#presets[@]} workflow(s): ${presets[*]}$( ((asan_step)) && echo "; asan: track, fuzz, guarded"))"
  else
    echo "  result: FAIL (exit status $status)"
  fi
  echo "=========================================================="
}
trap 'print_summary $?' EXIT

for preset in "${presets[@]}"; do
  current="$preset"
  echo "==> workflow '$preset'"
  begin=$(date +%s)
  cmake --workflow --preset "$preset" "${fresh[@]}" 2>&1 | tee "$log_dir/$preset.log"
  # ctest prints e.g. "100% tests passed, 0 tests failed out of 42"
  counts=$(grep -E 'tests passed, [0-9]+ tests? failed out of' "$log_dir/$preset.log" | tail -n 1 || true)
  summary+=("$preset: ok in $(( $(date +%s) - begin ))s${counts:+ -- $counts}")
  current=""
  if [[ "$preset" == release ]]; then
    # The benchmark driver, end to end at tiny sizes (never judged on timing).
    current="bench-smoke"
    echo "==> benchmark smoke run"
    begin=$(date +%s)
    bench/run.sh --smoke --lib build/release/libmimalloc.so.2 2>&1 | tee "$log_dir/bench-smoke.log"
    summary+=("bench-smoke: ok in $(( $(date +%s) - begin ))s -- $(tail -n 1 "$log_dir/bench-smoke.log")")
    current=""
  fi
done

if [[ $asan_step -eq 1 ]]; then
  # The full asan suite takes far longer than CI allows on 2 cores; the
  # tracking, fuzzing and guarded tests are the ones this preset is for.
  current="asan"
  echo "==> asan preset (labels track, fuzz, guarded)"
  begin=$(date +%s)
  {
    cmake --preset asan "${fresh[@]}" &&
      cmake --build --preset asan --target test-track-asan test-fuzz-api test-guarded &&
      ctest --preset asan -L 'track|fuzz|guarded'
  } 2>&1 | tee "$log_dir/asan.log"
  counts=$(grep -E 'tests passed, [0-9]+ tests? failed out of' "$log_dir/asan.log" | tail -n 1 || true)
  summary+=("asan: ok in $(( $(date +%s) - begin ))s${counts:+ -- $counts}")
  current=""
fi

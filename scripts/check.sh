#!/usr/bin/env bash
# Build and run the whole test suite, one CMake workflow preset after another:
#   release  (gcc, -O3, MI_DEBUG=0, -Werror)
#   debug    (gcc, MI_DEBUG=2, -Werror)
#   debug-full (gcc, MI_DEBUG=3: full heap checks, -Werror)
#   tsan     (clang, ThreadSanitizer, all tests except the 'override' label)
# and, after the release workflow, a smoke run of the benchmark driver; then
# the asan preset (clang, AddressSanitizer with MI_TRACK_ASAN), reduced to
# the tests of labels track, fuzz and guarded (the libFuzzer run is bounded);
# then reduced runs of the other platforms (each: configure and build its
# preset, then a subset of its tests, see run_platform below):
#   aarch64  (cross gcc, tests under qemu-aarch64)  api subset + mt (scale 0.25)
#            + the segment cache test (label cache)
#   aarch64-64k  (the same, MI_DEBUG=2, 64 KiB pages: qemu -p 65536)
#            api subset + mt (scale 0.25)
#   i386     (gcc -m32, MI_DEBUG=2)                 api subset + mt (scale 0.25)
#            + the segment cache test (label cache)
#   musl     (musl-gcc)                             api + static override
# Stops at the first failure with a non-zero exit status and prints a summary.
#
# Usage: scripts/check.sh [--quick] [--fresh] [--no-platforms]
#   --quick         run only the release workflow (no asan step, no platforms)
#   --fresh         reconfigure each build tree from scratch (cmake --fresh)
#   --no-platforms  skip the aarch64, aarch64-64k, i386 and musl runs
# Logs go to build/logs/<preset>.log.
set -euo pipefail

usage() {
  sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'
}

presets=(release debug debug-full tsan)
asan_step=1
platforms=(aarch64 aarch64-64k i386 musl)
fresh=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) presets=(release); asan_step=0; platforms=() ;;
    --fresh) fresh=(--fresh) ;;
    --no-platforms) platforms=() ;;
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
  # A step still running (the script was stopped or killed in it) is a failure
  # whatever the status the shell saw last.
  if [[ -n "$current" && $status -eq 0 ]]; then
    status=1
  fi
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
    echo "  result: PASS (${#presets[@]} workflow(s): ${presets[*]}$( ((asan_step)) && echo "; asan: track, fuzz, guarded"); platforms: ${platforms[*]:-none})"
  else
    echo "  result: FAIL (exit status $status)"
  fi
  echo "=========================================================="
  exit "$status"
}
trap 'print_summary $?' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

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

# Reduced runs of the other platforms; their full forms are the workflow
# presets of the same names (cmake --workflow --preset aarch64, ...). Under
# qemu the slowest api programs (bins, realloc, random, arena) are left to the
# full run, and so is mt-soak; the mt tests run at the presets' scale (0.25).
run_platform() {
  local preset=$1
  shift
  current="$preset"
  echo "==> platform '$preset' (reduced)"
  begin=$(date +%s)
  {
    cmake --preset "$preset" "${fresh[@]}" &&
      cmake --build --preset "$preset" &&
      ctest --preset "$preset" "$@"
  } 2>&1 | tee "$log_dir/$preset.log"
  counts=$(grep -E 'tests passed, [0-9]+ tests? failed out of' "$log_dir/$preset.log" | tail -n 1 || true)
  summary+=("$preset (reduced): ok in $(( $(date +%s) - begin ))s${counts:+ -- $counts}")
  current=""
}

for platform in "${platforms[@]}"; do
  case "$platform" in
    aarch64 | aarch64-64k | i386)
      run_platform "$platform" -E '^(test-api-(bins|realloc|random|arena)|mt-soak)$' ;;
    musl)
      run_platform musl ;;
  esac
done

#!/usr/bin/env bash
# Check the spin model of the segment ownership protocol (model/ownership.pml,
# described in doc/ownership-model.md):
#   real     the protocol as implemented: verified exhaustively (3 threads,
#            2 segments), once against the invariants (never claim `all`,
#            plus every assertion) and once for assertions and invalid end
#            states (deadlock); both must report 0 errors over a complete search
#   legacy   -DLEGACY, the old raw ownership logic: must yield a counterexample
#   legacy-sc  -DLEGACY -DSC_ONLY: the same without the happens-before check,
#            so the counterexample is the interleaving alone (a double claim)
# With --mutants, also every protocol mutant (-DMUT_*): each must yield a
# counterexample. A counterexample is searched breadth-first (the shortest)
# and printed as the model's own narrative of the steps, one line each.
#
# Usage: scripts/check-model.sh [--mutants | --mutants-only] [--work-dir DIR]
#   --mutants       also check the mutants
#   --mutants-only  check only the mutants
#   --work-dir DIR  where pan is generated and built (default build/model)
# Exit status: 0 all as expected, 1 a verdict failed, 2 usage or tool error,
# 77 spin or gcc is not installed (ctest reports the test as skipped).
set -euo pipefail

usage() {
  sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'
}

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
model="$repo_root/model/ownership.pml"
work_dir="$repo_root/build/model"
do_main=1
do_mutants=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --mutants) do_mutants=1 ;;
    --mutants-only) do_mutants=1; do_main=0 ;;
    --work-dir) [[ $# -ge 2 ]] || { usage >&2; exit 2; }; work_dir="$2"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "check-model.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

for tool in spin gcc; do
  if ! command -v "$tool" >/dev/null; then
    echo "check-model.sh: '$tool' not found (Debian: apt-get install $tool); not checked" >&2
    exit 77
  fi
done

# The named invariants (ltl blocks of the model) tried, in this order, to
# name the one a never-claim counterexample breaks.
invariants=(one_owner one_queue owners_queue not_lost counted)
mutants=(MUT_PUBLISH_EARLY MUT_UNLOCKED MUT_SPANS_LATE MUT_TF_PLAIN MUT_VISIT_OWN_ID)
failures=()
results=()
TIMEFORMAT='%U %S'

# build <dir> <gcc flags> <spin-defines...>: spin -a, then pan with gcc.
build() {
  local dir=$1 pan_flags=$2
  shift 2
  rm -rf "$dir"
  mkdir -p "$dir"
  cp "$model" "$dir/ownership.pml"
  (cd "$dir" && spin -a "$@" ownership.pml >spin.log 2>&1) || { cat "$dir/spin.log" >&2; exit 2; }
  # pan.c is generated code: its warnings are spin's business, not ours.
  # shellcheck disable=SC2086
  (cd "$dir" && gcc -w $pan_flags -o pan pan.c) || exit 2
}

# run_pan <dir> <log> <pan arguments...>: prints "<cpu seconds>" and leaves the
# output in <dir>/<log>.
run_pan() {
  local dir=$1 log=$2 cpu
  shift 2
  cpu=$( { time (cd "$dir" && ./pan "$@" >"$log" 2>&1); } 2>&1 ) || true
  awk '{ printf "%.1f", $1 + $2 }' <<<"$cpu"
}

field() { # field <log> <regex>: the number before the regex in the log
  grep -Eo "[0-9.e+]+ $2" "$1" | head -n 1 | awk '{ print $1 }'
}

# verify <name> <pan-defines> <pan-args> <spin-defines...>: exhaustive, expect 0 errors.
verify() {
  local name=$1 pan_defines=$2 pan_args=$3
  shift 3
  local dir="$work_dir/$name"
  build "$dir" "-O2 -DSAFETY $pan_defines" "$@"
  local cpu log="$dir/pan.out"
  # shellcheck disable=SC2086
  cpu=$(run_pan "$dir" pan.out -m200000 -w23 $pan_args)
  local errors states depth
  errors=$(grep -Eo 'errors: [0-9]+' "$log" | awk '{ print $2 }')
  states=$(field "$log" 'states, stored')
  depth=$(grep -Eo 'depth reached [0-9]+' "$log" | awk '{ print $3 }')
  if [[ "$errors" == 0 ]] && ! grep -qE 'Search not completed|max search depth too small|out of memory' "$log"; then
    results+=("$name: PASS -- exhaustive, 0 errors, $states states stored, depth $depth, ${cpu}s CPU")
  else
    results+=("$name: FAIL -- errors: ${errors:-?}, see $log")
    failures+=("$name")
    sed -n '1,20p' "$log"
    (cd "$dir" && spin -t -T "$@" ownership.pml 2>&1 | sed -n '1,/^spin: trail ends/p') || true
  fi
}

# refute <name> <spin-defines...>: expect a counterexample; print it.
refute() {
  local name=$1
  shift
  local dir="$work_dir/$name"
  # The searches for counterexamples are small: compiling pan fast beats running it fast.
  build "$dir" "-O0 -DSAFETY -DBFS" "$@"
  local cpu log="$dir/pan.out"
  cpu=$(run_pan "$dir" pan.out -N all -w23)
  local errors
  errors=$(grep -Eo 'errors: [0-9]+' "$log" | awk '{ print $2 }')
  if [[ -z "$errors" || "$errors" == 0 ]]; then
    results+=("$name: FAIL -- no counterexample found (expected one), see $log")
    failures+=("$name")
    return
  fi
  local trail="$dir/trail.txt"
  (cd "$dir" && spin -t -T "$@" ownership.pml >trail.log 2>&1) || true
  sed -n '1,/^spin: trail ends/p' "$dir/trail.log" | grep -vE '^(ltl |spin: text of failed)' >"$trail"
  local broken depth
  broken=$(grep -m 1 '^VIOLATION:' "$trail" | sed 's/^VIOLATION: //' || true)
  depth=$(grep -Eo 'depth reached [0-9]+' "$log" | awk '{ print $3 }')
  if [[ -z "$broken" ]]; then
    # A never-claim violation: name the invariant. Search again with each
    # named claim alone, no deeper than the counterexample (so each search
    # costs no more than the first). pan reports a broken claim as the
    # assertion `!( !(<formula>))`, a plain assertion without that prefix.
    local inv
    for inv in "${invariants[@]}"; do
      (cd "$dir" && ./pan -N "$inv" -m"$((depth + 1))" -w23 >"named-$inv.out" 2>&1) || true
      if grep -qF 'assertion violated  !( !(' "$dir/named-$inv.out"; then
        broken="invariant $inv"
        break
      fi
    done
    broken=${broken:-"an invariant"}
  fi
  local steps
  steps=$(grep -Eo 'trail ends after [0-9]+ steps' "$trail" | awk '{ print $4 }')
  results+=("$name: PASS -- counterexample, $steps steps: $broken, ${cpu}s CPU")
  echo "---- $name: counterexample (shortest; full trail: spin -t -p in $dir) ----"
  # The model's narrative of the steps up to the violation (each line one step
  # of a thread that prints; silent steps are left out).
  grep -vE '^spin: ' "$trail" | awk '{ printf "  %2d  %s\n", NR, $0 } /^VIOLATION:/ { exit }'
  if [[ "$broken" == invariant* ]]; then
    echo "      => $broken no longer holds"
  fi
  echo
}

if [[ $do_main -eq 1 ]]; then
  echo "==> real model: exhaustive check of the invariants"
  verify real "" "-N all"
  echo "==> real model: exhaustive check of assertions and deadlocks"
  verify real-noclaim "-DNOCLAIM" ""
  echo "==> legacy model: expecting a counterexample"
  refute legacy -DLEGACY
  refute legacy-sc -DLEGACY -DSC_ONLY
fi
if [[ $do_mutants -eq 1 ]]; then
  for mutant in "${mutants[@]}"; do
    echo "==> mutant $mutant: expecting a counterexample"
    refute "mutant-$mutant" "-D$mutant"
  done
fi

echo "==================== check-model.sh summary ===================="
for line in "${results[@]}"; do
  echo "  $line"
done
if [[ ${#failures[@]} -eq 0 ]]; then
  echo "  result: PASS"
  exit 0
fi
echo "  result: FAIL (${failures[*]})"
exit 1

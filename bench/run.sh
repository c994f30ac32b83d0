#!/usr/bin/env bash
# Side-by-side allocator benchmarks.
#
# usage: bench/run.sh [--quick|--full|--smoke] [--lib PATH] [--reps N]
#                     [--only w1,w2,...] [--no-callgrind] [--no-install] [--out DIR]
#                     [--variant NAME=PATH]... [--no-peers]
#
#   --quick    (default) small sizes, 3 repetitions; finishes in about 2 minutes
#   --full     full sizes (each run ~1-3 s with glibc), 5 repetitions
#   --smoke    tiny sizes, 1 repetition, our library and glibc only; checks the
#              whole pipeline works and every workload passes its own checks.
#              Never judges timing.  Results go to the build directory.
#   --lib PATH our shared library (default build/release/libmimalloc.so.2,
#              built with the release preset when missing)
#   --reps N   repetitions (overrides the mode's default)
#   --only L   comma-separated subset of workloads
#   --no-callgrind  skip the instruction counts
#   --no-install    do not apt-get install missing peers/tools
#   --out DIR  where results-<mode>.{md,png,tsv} go (default doc/benchmarks;
#              build/bench/smoke for --smoke)
#   --variant NAME=PATH  also run another build of ours (e.g. a secure or a
#              tracking build), labelled ours-NAME; the report adds its ratios
#              to ours. Repeatable.
#   --no-peers run only ours, its variants and glibc
#
# Every workload runs under every allocator through LD_PRELOAD (glibc: no
# preload), one allocator after the other within a repetition, so slow drifts
# of the machine hit all allocators alike.  The wrapper bench_measure records
# wall time and peak RSS of each run.  The report gives medians, ratios to
# mimalloc 2.0.9 and to glibc, each workload against its best peer, and
# geometric means.  Exit status is non-zero
# if any run failed (crash, wrong result, timeout).
set -euo pipefail

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib.sh
. "$BENCH_ROOT/bench/lib.sh"

mode=quick
lib=""
reps=""
only=""
callgrind=1
install=1
out_dir=""
variants=()
peers=1
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) mode=quick; shift ;;
    --full) mode=full; shift ;;
    --smoke) mode=smoke; shift ;;
    --lib) lib="$2"; shift 2 ;;
    --reps) reps="$2"; shift 2 ;;
    --only) only="$2"; shift 2 ;;
    --no-callgrind) callgrind=0; shift ;;
    --no-install) install=0; shift ;;
    --out) out_dir="$2"; shift 2 ;;
    --variant) variants+=("$2"); shift 2 ;;
    --no-peers) peers=0; shift ;;
    -h|--help) sed -n '2,32p' "$0"; exit 0 ;;
    *) bench_die "unknown argument $1 (see --help)" ;;
  esac
done

# workloads: name, program, size argument in full / quick / smoke mode, further
# arguments ("-": none) and environment ("-": none; NAME=VALUE[,NAME=VALUE]).
# Programs are built into the build directory, or are scripts in workloads/.
workload_table="
small_churn       small_churn        45000  6000  100  -       -
mixed_sizes       mixed_sizes         2500   300   20  -       -
realloc_growth    realloc_growth      9000  1200  100  -       -
larson            larson             24000  3000  100  -       -
producer_consumer producer_consumer   5000   700   50  -       -
false_sharing     false_sharing        400    50    4  -       -
thread_churn      thread_churn       12000  1500   40  -       -
large_blocks      large_blocks        1500   200   10  -       -
fragmentation     fragmentation         48     8    2  -       -
refcount          refcount           30000  4000  100  -       -
large_zeroed      large_zeroed         300   100    8  -       -
size_churn        size_churn            15     4    1  -       -
exit_one          exit_one             500   100    5  -       -
exit_one_long     exit_one            2000   300   10  -       -
mstress           stress                50    10    2  2,60000 -
xstress           stress                40     8    1  32,3000 -
xstress_rof       stress                40     8    1  32,3000 MIMALLOC_ABANDONED_RECLAIM_ON_FREE=1
compile           compile.sh             1     1    1  -       -
interp            interp.py             40     8    1  -       PYTHONMALLOC=malloc
"
case "$mode" in
  full) column=2; default_reps=5; timeout=180; callgrind_count=200000 ;;
  quick) column=3; default_reps=3; timeout=60; callgrind_count=100000 ;;
  smoke) column=4; default_reps=1; timeout=60; callgrind_count=2000 ;;
esac
reps=${reps:-$default_reps}

build="${BENCH_BUILD_DIR:-$BENCH_ROOT/build/bench}"
if [ -z "$out_dir" ]; then
  if [ "$mode" = smoke ]; then out_dir="$build/smoke"; else out_dir="$BENCH_ROOT/doc/benchmarks"; fi
fi
mkdir -p "$out_dir"
run_dir="$build/run-$mode"
rm -rf "$run_dir"
mkdir -p "$run_dir/logs"

bench_tools_build "$build"
our_lib=$(bench_our_lib "$lib")
bench_log "our library: $our_lib"

# allocators: labels and preload paths ("" = glibc)
labels=(ours glibc)
paths=("$our_lib" "")
for variant in "${variants[@]}"; do
  [[ "$variant" == *=* ]] || bench_die "--variant $variant: expected NAME=PATH"
  labels+=("ours-${variant%%=*}"); paths+=("$(bench_our_lib "${variant#*=}")")
done
if [ "$mode" != smoke ] && [ "$peers" = 1 ]; then
  [ "$install" = 1 ] && bench_peers_install
  while IFS=$'\t' read -r label path; do
    labels+=("$label"); paths+=("$path")
  done < <(bench_peers_list)
fi
bench_log "allocators: ${labels[*]}"

workloads=()
declare -A size_of program_of extra_of env_of
while read -r name program full quick smoke extra env; do
  [ -n "$name" ] || continue
  if [ -n "$only" ] && [[ ",$only," != *",$name,"* ]]; then continue; fi
  case "$program" in
    *.py) command -v python3 >/dev/null 2>&1 || { bench_log "no python3: skipping $name"; continue; } ;;
    *.sh) command -v clang++ >/dev/null 2>&1 || command -v g++ >/dev/null 2>&1 ||
      { bench_log "no C++ compiler: skipping $name"; continue; } ;;
  esac
  workloads+=("$name")
  program_of[$name]=$program
  extra_of[$name]=$extra
  env_of[$name]=$env
  case "$column" in 2) size_of[$name]=$full ;; 3) size_of[$name]=$quick ;; 4) size_of[$name]=$smoke ;; esac
done <<<"$workload_table"
# the interpreter: the system's python3 (not a version-manager shim, which is a script)
python_bin=$(command -v /usr/bin/python3 || command -v python3 || true)

# workload_command NAME: the command line of a workload, one word a line
workload_command() {
  local program=${program_of[$1]}
  case "$program" in
    *.py) printf '%s\n' "$python_bin" "$BENCH_ROOT/bench/workloads/$program" ;;
    *.sh) printf '%s\n' "$BENCH_ROOT/bench/workloads/$program" ;;
    *) printf '%s\n' "$build/$program" ;;
  esac
  printf '%s\n' "${size_of[$1]}"
  [ "${extra_of[$1]}" = - ] || printf '%s\n' ${extra_of[$1]//,/ }
}

# workload_env NAME: --env options for bench_measure, one word a line
workload_env() {
  [ "${env_of[$1]}" = - ] && return 0
  local item
  for item in ${env_of[$1]//,/ }; do printf '%s\n' --env "$item"; done
}
[ ${#workloads[@]} -gt 0 ] || bench_die "no workload selected by --only $only"

# sanity: a trivial program must start under each preloaded library
for i in "${!labels[@]}"; do
  if ! "$build/bench_measure" --out "$run_dir/sanity" --preload "${paths[$i]}" --timeout 20 -- /bin/true \
      2>"$run_dir/logs/sanity.${labels[$i]}.err"; then
    bench_log "warning: /bin/true fails under ${labels[$i]}: $(cat "$run_dir/sanity") $(head -c 300 "$run_dir/logs/sanity.${labels[$i]}.err")"
  fi
done

runs="$run_dir/runs.tsv"
printf 'rep\tworkload\tallocator\tstatus\twall\tmaxrss_kb\tcpu\tminflt\tsummary\n' >"$runs"
load_start=$(cut -d ' ' -f 1-3 /proc/loadavg)
commit=$(git -C "$BENCH_ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')
failures=0
started=$(date +%s)
# The allocator order of every repetition of every workload. A run is slowed by
# the one before it when that one freed much memory (on this VM a run right
# after glibc's large-block runs took 2-4x as long, whoever it was, even when
# the run before was of another workload), so no allocator may always follow
# the same one, as it would in a rotation. Runs go one after the other in this
# order; each order is the one whose pairs of neighbours (the first one paired
# with the run before it) and whose places (first, second, ...) were used least
# so far for that workload: the first run of a workload is often slow (its
# program's files, the VM's scheduling; compile took 1.9 and 4.1 s against
# 1.1-1.2 s when first). With 5 repetitions of 5 allocators no allocator is
# then in one place more than twice (it was up to 4 times) and no pair of
# neighbours is repeated more than twice.
mapfile -t orders < <(python3 - "${#labels[@]}" "$reps" "${#workloads[@]}" <<'EOF'
import itertools, sys
from collections import Counter
count, reps, workloads = (int(arg) for arg in sys.argv[1:])
follows = [Counter() for _ in range(workloads)]
places = [Counter() for _ in range(workloads)]
previous = None
for rep in range(reps):
    for workload in range(workloads):
        def pairs(order):
            return list(zip((previous,) + order, order))
        def cost(order):
            return (sum(follows[workload][pair] for pair in pairs(order)) +
                    sum(places[workload][place] for place in enumerate(order)))
        order = min(itertools.permutations(range(count)), key=lambda order: (cost(order), order))
        follows[workload].update(pairs(order))
        places[workload].update(enumerate(order))
        previous = order[-1]
        print(' '.join(map(str, order)))
EOF
)
slot=0
for rep in $(seq 1 "$reps"); do
  for workload in "${workloads[@]}"; do
    read -r -a order <<<"${orders[$slot]}"
    slot=$((slot + 1))
    for i in "${order[@]}"; do
      label=${labels[$i]}
      log="$run_dir/logs/$workload.$label.$rep"
      mapfile -t command < <(workload_command "$workload")
      mapfile -t env_options < <(workload_env "$workload")
      "$build/bench_measure" --out "$log.measure" --preload "${paths[$i]}" --timeout "$timeout" \
        "${env_options[@]}" -- "${command[@]}" >"$log.out" 2>"$log.err" || true
      read -r status wall rss user sys minflt _ <"$log.measure"
      status=${status#status=}; wall=${wall#wall=}; rss=${rss#maxrss_kb=}
      cpu=$(awk -v u="${user#user=}" -v s="${sys#sys=}" 'BEGIN { printf "%.3f", u + s }')
      summary=$(grep -E '^workload=' "$log.out" | tail -n 1 | tr '\t' ' ' || true)
      minflt=${minflt#minflt=}
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$rep" "$workload" "$label" "$status" "$wall" "$rss" "$cpu" \
        "$minflt" "$summary" >>"$runs"
      if [ "$status" != "exit:0" ]; then
        failures=$((failures + 1))
        bench_log "FAILED: $workload under $label (rep $rep): $status; stderr:"
        tail -n 5 "$log.err" | sed 's/^/    /' >&2
      fi
    done
  done
  bench_log "repetition $rep/$reps done ($(( $(date +%s) - started )) s)"
done

callgrind_tsv=""
checks=$(( $(wc -l <"$runs") - 1 ))
if [ "$callgrind" = 1 ]; then
  if command -v valgrind >/dev/null 2>&1; then
    callgrind_tsv="$run_dir/callgrind.tsv"
    specs=()
    for i in "${!labels[@]}"; do specs+=("${labels[$i]}=${paths[$i]}"); done
    bench_log "counting instructions with callgrind"
    checks=$((checks + 1))
    if ! "$BENCH_ROOT/bench/callgrind.sh" --count "$callgrind_count" --build "$build" --tsv "$callgrind_tsv" \
        "${specs[@]}" >"$run_dir/callgrind.md"; then
      bench_log "callgrind.sh failed"; failures=$((failures + 1))
    elif grep -q FAIL "$callgrind_tsv" 2>/dev/null; then
      bench_log "a callgrind run failed"; failures=$((failures + 1))
    fi
  else
    bench_log "valgrind not installed: no instruction counts"
  fi
fi

sizes=""
for workload in "${workloads[@]}"; do
  args=${size_of[$workload]}
  [ "${extra_of[$workload]}" = - ] || args="$args,${extra_of[$workload]}"
  [ "${env_of[$workload]}" = - ] || args="$args,${env_of[$workload]}"
  sizes="$sizes $workload=$args"
done
allocator_args=()
for i in "${!labels[@]}"; do allocator_args+=(--allocator "${labels[$i]}=${paths[$i]:-(none: glibc malloc)}"); done
python3 "$BENCH_ROOT/bench/report.py" --runs "$runs" --mode "$mode" --reps "$reps" --sizes "${sizes# }" \
  --callgrind "$callgrind_tsv" --commit "$commit" --load "$load_start / $(cut -d ' ' -f 1-3 /proc/loadavg)" --out "$out_dir/results-$mode" "${allocator_args[@]}" \
  || bench_die "writing the report failed"
cp "$runs" "$out_dir/results-$mode.tsv"
bench_log "wrote $out_dir/results-$mode.md (and .png, .tsv) in $(( $(date +%s) - started )) s"
echo "bench: $((checks - failures)) passed, $failures failed"
if [ "$failures" -gt 0 ]; then
  bench_log "$failures run(s) failed; see $run_dir/logs"
  exit 1
fi

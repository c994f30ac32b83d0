#!/usr/bin/env bash
# -----------------------------------------------------------------------------
# run-program.sh: run a real program (or workload script) twice, once with the
# system allocator and once with LD_PRELOAD=libmimalloc.so, and compare.
#
#   run-program.sh --lib <libmimalloc.so> --workdir <dir> --name <name>
#                  [--require <program>]... -- <command> [<argument>...]
#
# The test passes when
#   - both runs exit with status 0,
#   - their standard output is byte-for-byte identical,
#   - the preloaded run's stderr has at least one line starting with
#     "mimalloc:" (printed by MIMALLOC_VERBOSE=1), i.e. our allocator was
#     loaded and initialized in that process.
# Exit status 77 (CTest SKIP_RETURN_CODE) when a --require'd program is not
# installed; 1 on any failure.
#
# Each run gets a fresh scratch directory in $OVERRIDE_SCRATCH (removed after
# a successful comparison), and both runs share $OVERRIDE_SHARED for inputs
# generated once. The environment is made
# deterministic (LC_ALL=C, TZ=UTC) and cleared of MIMALLOC_* settings and any
# outer LD_PRELOAD. Stdout/stderr of both runs stay in <dir>/<name>/ for
# inspection.
# -----------------------------------------------------------------------------
set -u

lib=""
workdir=""
name=""
required=()
while [ $# -gt 0 ]; do
  case "$1" in
    --lib)      lib="$2"; shift 2 ;;
    --workdir)  workdir="$2"; shift 2 ;;
    --name)     name="$2"; shift 2 ;;
    --require)  required+=("$2"); shift 2 ;;
    --)         shift; break ;;
    *)          echo "run-program.sh: unknown argument '$1'" >&2; exit 1 ;;
  esac
done
if [ -z "$lib" ] || [ -z "$workdir" ] || [ -z "$name" ] || [ $# -eq 0 ]; then
  echo "usage: run-program.sh --lib <lib> --workdir <dir> --name <name> [--require <prog>]... -- <command>..." >&2
  exit 1
fi

for program in "${required[@]}" "$1"; do
  if ! command -v "$program" >/dev/null 2>&1; then
    echo "run-program.sh: SKIP $name: '$program' is not installed"
    exit 77
  fi
done

if [ ! -f "$lib" ]; then
  echo "run-program.sh: $name: library '$lib' not found" >&2
  exit 1
fi
lib="$(cd "$(dirname "$lib")" && pwd)/$(basename "$lib")"

out="$workdir/$name"
rm -rf "$out"
mkdir -p "$out" "$workdir/shared"

unset LD_PRELOAD
for variable in $(env | sed -n 's/^\(MIMALLOC_[A-Za-z0-9_]*\)=.*/\1/p'); do
  unset "$variable"
done
export LC_ALL=C TZ=UTC
export OVERRIDE_SHARED="$workdir/shared"

# run <tag> <preload: yes|no> <command...>
run() {
  local tag="$1" preload="$2"
  shift 2
  mkdir -p "$out/scratch-$tag"
  local start end status
  start=$(date +%s.%N)
  if [ "$preload" = yes ]; then
    OVERRIDE_SCRATCH="$out/scratch-$tag" LD_PRELOAD="$lib" MIMALLOC_VERBOSE=1 \
      "$@" >"$out/$tag.out" 2>"$out/$tag.err" </dev/null
  else
    OVERRIDE_SCRATCH="$out/scratch-$tag" "$@" >"$out/$tag.out" 2>"$out/$tag.err" </dev/null
  fi
  status=$?
  end=$(date +%s.%N)
  echo "$status" >"$out/$tag.status"
  awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", e - s }' >"$out/$tag.seconds"
  return 0
}

run system no "$@"
run mimalloc yes "$@"

failed=0
system_status=$(cat "$out/system.status")
mimalloc_status=$(cat "$out/mimalloc.status")
if [ "$system_status" != 0 ]; then
  echo "FAIL $name: the run with the system allocator exited with status $system_status (the workload itself is broken)"
  tail -n 20 "$out/system.err"
  failed=1
fi
if [ "$mimalloc_status" != 0 ]; then
  echo "FAIL $name: the run with LD_PRELOAD=$lib exited with status $mimalloc_status"
  grep -v '^mimalloc: ' "$out/mimalloc.err" | tail -n 20
  failed=1
fi
if ! cmp -s "$out/system.out" "$out/mimalloc.out"; then
  echo "FAIL $name: standard output differs between the system allocator and mimalloc"
  diff "$out/system.out" "$out/mimalloc.out" | head -n 20
  failed=1
fi
marker_lines=$(grep -c '^mimalloc:' "$out/mimalloc.err")
if [ "$marker_lines" -eq 0 ]; then
  echo "FAIL $name: no 'mimalloc:' line on stderr with MIMALLOC_VERBOSE=1: the allocator was not loaded"
  failed=1
fi

bytes=$(wc -c <"$out/system.out")
lines=$(wc -l <"$out/system.out")
echo "$name: output $bytes bytes / $lines lines, identical: $([ $failed = 0 ] && echo yes || echo see above);" \
     "mimalloc marker lines: $marker_lines;" \
     "system $(cat "$out/system.seconds")s, mimalloc $(cat "$out/mimalloc.seconds")s"
if [ $failed != 0 ]; then
  echo "$name: FAILED (outputs kept in $out)"
  exit 1
fi
rm -rf "$out"/scratch-*      # keep the outputs, drop the (large) scratch files
echo "$name: OK"
exit 0

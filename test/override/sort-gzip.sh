#!/usr/bin/env bash
# -----------------------------------------------------------------------------
# Workload for override-sort-gzip (run by run-program.sh, twice):
#   sort-gzip.sh <override-make-lines binary>
# Generates a 50 MB text file once (shared by both runs), then sorts it in
# several ways (multithreaded, with temporary files), compresses and
# decompresses it, and prints checksums and counts. Everything printed is
# deterministic.
# -----------------------------------------------------------------------------
set -euo pipefail
generator="$1"
shared="${OVERRIDE_SHARED:?}"
scratch="${OVERRIDE_SCRATCH:?}"
input="$shared/lines-50mb.txt"
if [ ! -s "$input" ]; then
  "$generator" 7 50000000 >"$input.tmp"
  mv "$input.tmp" "$input"
fi
mkdir -p "$scratch/tmp"
echo "input: $(wc -c <"$input") bytes, $(wc -l <"$input") lines, md5 $(md5sum <"$input" | cut -d' ' -f1)"
echo "sort: $(sort --parallel=2 -S 16M -T "$scratch/tmp" "$input" | md5sum | cut -d' ' -f1)"
echo "sort -u: $(sort -u --parallel=2 -S 16M -T "$scratch/tmp" "$input" | tee "$scratch/unique.txt" | wc -l) lines"
echo "sort -k2 -r: $(sort -k2,2 -r -S 24M -T "$scratch/tmp" "$input" | md5sum | cut -d' ' -f1)"
echo "top words: $(head -c 8000000 "$scratch/unique.txt" | tr ' ,' '\n\n' | sort -S 16M -T "$scratch/tmp" | uniq -c | sort -k1,1nr -k2 | head -n 5 | tr -s ' ' | tr '\n' ';')"
gzip -1 -n -c "$input" >"$scratch/input.gz"
echo "gzip -1: $(wc -c <"$scratch/input.gz") bytes, md5 $(md5sum <"$scratch/input.gz" | cut -d' ' -f1)"
gunzip -c "$scratch/input.gz" | cmp - "$input"
echo "gunzip: round trip identical"
head -c 8000000 "$scratch/unique.txt" >"$scratch/head.txt"
gzip -6 -n -c "$scratch/head.txt" | gunzip -c | cmp - "$scratch/head.txt"
echo "gzip -6 | gunzip: round trip identical"
rm -rf "$scratch/tmp" "$scratch/input.gz" "$scratch/unique.txt" "$scratch/head.txt"

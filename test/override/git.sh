#!/usr/bin/env bash
# -----------------------------------------------------------------------------
# Workload for override-git (run by run-program.sh, twice):
#   git.sh <override-make-lines binary>
# Creates a repository from scratch in the run's scratch directory: 200
# commits of generated files (with fixed author, committer and dates, so all
# object ids are reproducible), a branch and a merge, then runs log, diff,
# grep, blame, gc (repack with delta search threads) and fsck. Everything
# printed is deterministic; the pack layout is not printed because delta
# selection with several threads may differ from run to run.
# -----------------------------------------------------------------------------
set -euo pipefail
generator="$1"
scratch="${OVERRIDE_SCRATCH:?}"
repo="$scratch/repo"
rm -rf "$repo"
mkdir -p "$repo" "$scratch/home"

export HOME="$scratch/home"
export GIT_CONFIG_NOSYSTEM=1
export GIT_CONFIG_GLOBAL=/dev/null
export GIT_AUTHOR_NAME="Override Test" GIT_AUTHOR_EMAIL="override@example.invalid"
export GIT_COMMITTER_NAME="Override Test" GIT_COMMITTER_EMAIL="override@example.invalid"
git_quiet() { git -c gc.auto=0 -c core.fsync=none -c advice.detachedHead=false "$@"; }

cd "$repo"
git_quiet init -q -b main .
commit() {
  local n="$1" message="$2"
  export GIT_AUTHOR_DATE="@$((1700000000 + n * 97)) +0000"
  export GIT_COMMITTER_DATE="$GIT_AUTHOR_DATE"
  git_quiet add -A
  git_quiet commit -q -m "$message"
}

# main: commits 1-149 and 171-200; side (forked from commit 130): 150-170,
# touching only side/, merged into main before commit 171.
for i in $(seq 1 200); do
  if [ "$i" -eq 150 ]; then git_quiet checkout -q -b side HEAD~20; fi
  if [ "$i" -eq 171 ]; then
    git_quiet checkout -q main
    export GIT_AUTHOR_DATE="@$((1700000000 + i * 97 - 1)) +0000"
    export GIT_COMMITTER_DATE="$GIT_AUTHOR_DATE"
    git_quiet merge -q --no-ff -m "merge side" side
  fi
  if [ "$i" -ge 150 ] && [ "$i" -le 170 ]; then
    dir="side"
  else
    dir="dir$((i % 7))"
  fi
  mkdir -p "$dir"
  "$generator" "$i" $((2000 + (i * 131) % 20000)) >"$dir/file$((i % 23)).txt"
  if [ "$dir" != side ]; then "$generator" $((i * 3)) 500 >>notes.txt; fi
  if [ $((i % 40)) -eq 0 ]; then rm -f "dir$(((i / 40) % 7))/file$((i % 23)).txt"; fi
  commit "$i" "commit $i: update $dir"
done

echo "commits: $(git rev-list --count HEAD)"
echo "head: $(git rev-parse HEAD)"
echo "log hashes:"
git log --format=%H
echo "log --stat md5: $(git log --stat --format='%H %an %ad %s' | md5sum | cut -d' ' -f1)"
echo "objects md5: $(git rev-list --objects --all | sort | md5sum | cut -d' ' -f1)"
echo "diff stat: $(git diff --stat HEAD~100 HEAD | tail -n 1)"
echo "grep count: $(git grep -c 'quezon' HEAD -- dir1 | md5sum | cut -d' ' -f1)"
echo "blame md5: $(git blame -s dir3/file5.txt 2>/dev/null | md5sum | cut -d' ' -f1)"
git_quiet gc -q --aggressive --prune=now
echo "after gc: $(git count-objects -v | grep -E '^(count|packs):' | tr '\n' ' ')"
git fsck --full --strict --no-progress
echo "fsck: ok"
echo "tree after gc: $(git ls-tree -r HEAD | md5sum | cut -d' ' -f1)"

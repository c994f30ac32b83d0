# shellcheck shell=bash
# Shared shell functions for bench/run.sh and bench/callgrind.sh.
# Sourced, not run.  Expects BENCH_ROOT (repository root) to be set.
# The Debian packages the full comparison needs:
#   libmimalloc2.0 libjemalloc2 libtcmalloc-minimal4 gnuplot-nox valgrind

bench_log() { printf '[bench] %s\n' "$*" >&2; }
bench_die() { printf '[bench] error: %s\n' "$*" >&2; exit 1; }

# bench_package_lib PACKAGE SONAME: path of the shared object SONAME shipped by PACKAGE, or nothing
bench_package_lib() {
  dpkg -L "$1" 2>/dev/null | grep -E "/$2\$" | head -n 1 || true
}

# bench_package_version PACKAGE: upstream version (without the Debian revision), or "?"
bench_package_version() {
  local version
  version=$(dpkg-query -W -f '${Version}' "$1" 2>/dev/null || true)
  version=${version%%-*}
  version=${version%%+*}
  printf '%s' "${version:-?}"
}

# bench_peers_install: install the peer allocators and tools when any is missing.
# Needs root and apt-get; otherwise says what is missing and carries on.
bench_peers_install() {
  local missing=""
  [ -n "$(bench_package_lib libmimalloc2.0 libmimalloc.so.2)" ] || missing="$missing libmimalloc2.0"
  [ -n "$(bench_package_lib libjemalloc2 libjemalloc.so.2)" ] || missing="$missing libjemalloc2"
  [ -n "$(bench_package_lib libtcmalloc-minimal4 libtcmalloc_minimal.so.4)" ] || missing="$missing libtcmalloc-minimal4"
  command -v gnuplot >/dev/null 2>&1 || missing="$missing gnuplot-nox"
  command -v valgrind >/dev/null 2>&1 || missing="$missing valgrind"
  [ -z "$missing" ] && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    bench_log "missing:$missing (not root or no apt-get; those peers/tools are skipped)"
    return 0
  fi
  bench_log "installing:$missing"
  # shellcheck disable=SC2086
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null 2>&1 || true
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing >/dev/null 2>&1 \
      || bench_log "apt-get install of$missing failed; those peers/tools are skipped"
  fi
}

# bench_peers_list: print "label<TAB>path" for each installed peer allocator
bench_peers_list() {
  local path
  path=$(bench_package_lib libmimalloc2.0 libmimalloc.so.2)
  [ -n "$path" ] && printf 'mimalloc-%s\t%s\n' "$(bench_package_version libmimalloc2.0)" "$path"
  path=$(bench_package_lib libjemalloc2 libjemalloc.so.2)
  [ -n "$path" ] && printf 'jemalloc-%s\t%s\n' "$(bench_package_version libjemalloc2)" "$path"
  path=$(bench_package_lib libtcmalloc-minimal4 libtcmalloc_minimal.so.4)
  [ -n "$path" ] && printf 'tcmalloc-%s\t%s\n' "$(bench_package_version libtcmalloc-minimal4)" "$path"
  return 0
}

# bench_our_lib [PATH]: print the path of our shared library, building it if
# no PATH is given and the default one is missing.
bench_our_lib() {
  local lib="${1:-}"
  if [ -n "$lib" ]; then
    [ -f "$lib" ] || bench_die "--lib $lib: no such file"
    readlink -f "$lib"
    return 0
  fi
  lib="$BENCH_ROOT/build/release/libmimalloc.so.2"
  if [ ! -f "$lib" ]; then
    bench_log "building our library (release) into build/release"
    if [ -f "$BENCH_ROOT/CMakePresets.json" ] && grep -q '"release"' "$BENCH_ROOT/CMakePresets.json"; then
      (cd "$BENCH_ROOT" && cmake --preset release >&2 && cmake --build --preset release --target mimalloc >&2) \
        || bench_die "building our library with the release preset failed"
    else
      if ! { cmake -S "$BENCH_ROOT" -B "$BENCH_ROOT/build/release" -DCMAKE_BUILD_TYPE=Release >&2 &&
        cmake --build "$BENCH_ROOT/build/release" --target mimalloc -j 2 >&2; }; then
        bench_die "building our library failed"
      fi
    fi
    [ -f "$lib" ] || bench_die "the build did not produce $lib"
  fi
  readlink -f "$lib"
}

# bench_tools_build BUILD_DIR: compile the workloads and helper tools
bench_tools_build() {
  make -s -C "$BENCH_ROOT/bench" CC="${CC:-gcc}" BUILD_DIR="$1" >&2 || bench_die "building the workloads failed"
}

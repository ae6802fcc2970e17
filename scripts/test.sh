#!/usr/bin/env bash
# Runs every shardgate test suite from a clean checkout:
#   1. installs the dependencies (scripts/install-deps.sh)
#   2. build/        gcc, warnings as errors: unit, integration and dpdk suites
#   3. build-asan/   gcc with ASan+UBSan: unit suite (and the proxy's leak check)
#   4. build-fuzz/   clang with libFuzzer+ASan+UBSan: fuzz suite, bounded time
#
# Options:
#   --no-deps       skip step 1
#   --quick         only step 2
#   --suite NAME    run only this suite in step 2 (repeatable)
#   --fuzz-seconds N  time per fuzz harness (default 60; harnesses run in
#                   parallel, one per core)
set -euo pipefail
cd "$(dirname "$0")/.."

deps=1 quick=0 suites=() fuzz_seconds=60
while [ $# -gt 0 ]; do
	case "$1" in
	--no-deps) deps=0; shift ;;
	--quick) quick=1; shift ;;
	--suite) suites+=("$2"); shift 2 ;;
	--fuzz-seconds) fuzz_seconds=$2; shift 2 ;;
	-h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "test.sh: unknown option $1" >&2; exit 2 ;;
	esac
done

step() { printf '\n=== %s ===\n' "$*"; }

if [ $deps = 1 ]; then
	step "dependencies"
	scripts/install-deps.sh
fi

# setup DIR [meson options...]: configure once, reconfigure when options change.
setup() {
	local dir=$1; shift
	if [ -f "$dir/build.ninja" ]; then
		meson configure "$dir" "$@" >/dev/null
	else
		meson setup "$dir" "$@" >/dev/null
	fi
}

# Suites registered in the tree, as meson lists them.
has_suite() { meson test -C "$1" --list 2>/dev/null | grep -q "^shardgate:$2 /"; }

run_suites() {
	local dir=$1; shift
	local args=()
	for s in "$@"; do
		if has_suite "$dir" "$s"; then args+=(--suite "$s"); fi
	done
	[ ${#args[@]} -gt 0 ] || { echo "(no tests in: $*)"; return 0; }
	meson test -C "$dir" --print-errorlogs "${args[@]}"
}

step "build (gcc, -Werror)"
setup build -Dwerror=true -Dbuildtype=debugoptimized
ninja -C build

if [ ${#suites[@]} -eq 0 ]; then
	suites=(unit integration)
	[ "$(id -u)" = 0 ] && suites+=(dpdk)
fi
step "suites: ${suites[*]}"
run_suites build "${suites[@]}"
[ $quick = 1 ] && exit 0

step "build-asan (ASan + UBSan)"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
setup build-asan -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false
ninja -C build-asan
run_suites build-asan unit asan

step "build-fuzz (clang, libFuzzer, ASan + UBSan)"
CC=clang setup build-fuzz -Dfuzzers=true -Db_sanitize=address,undefined -Db_lundef=false
ninja -C build-fuzz
SG_FUZZ_SECONDS=$fuzz_seconds run_suites build-fuzz fuzz

step "all suites passed"

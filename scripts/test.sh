#!/usr/bin/env bash
# Runs every shardgate test suite from a clean checkout:
#   1. installs the dependencies (scripts/install-deps.sh)
#   2. build/        gcc, warnings as errors: unit, integration and dpdk suites
#   3. build-asan/   gcc with ASan+UBSan: unit suite, and suite asan (the
#                    kernel-mode proxy tests against the sanitized shardgate,
#                    LeakSanitizer at its exit)
#   4. build-fuzz/   clang with libFuzzer+ASan+UBSan: fuzz suite, bounded time
# Each step prints how long it took.
#
# Options:
#   --no-deps       skip step 1
#   --quick         only step 2
#   --suite NAME    run only this suite in step 2 (repeatable)
#   --fuzz-seconds N  time per fuzz harness (default 30; harnesses run in
#                   parallel, one per core)
set -euo pipefail
cd "$(dirname "$0")/.."

deps=1 quick=0 suites=() fuzz_seconds=30
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

t_start=$SECONDS t_step=$SECONDS
step() {
	printf '\n=== %s (%d s after the start; the last step took %d s) ===\n' "$*" \
		$((SECONDS - t_start)) $((SECONDS - t_step))
	t_step=$SECONDS
}

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
# (a test in several suites is listed as shardgate:a+b / name)
has_suite() { meson test -C "$1" --list 2>/dev/null | grep -qE "^shardgate:([^ ]*\+)?$2(\+[^ ]*)? /"; }

run_suites() {
	local dir=$1; shift
	local args=()
	for s in "$@"; do
		if has_suite "$dir" "$s"; then args+=(--suite "$s"); fi
	done
	[ ${#args[@]} -gt 0 ] || { echo "(no tests in: $*)"; return 0; }
	meson test -C "$dir" --no-rebuild --print-errorlogs "${args[@]}"
}

# build_for DIR SUITE...: builds only what the suites' tests depend on
# (their programs and the built targets they take as arguments) and
# shardgate itself, not every benchmark and test program of the tree.
build_for() {
	local dir=$1; shift
	local targets
	targets=$(meson introspect "$dir" --tests --targets | python3 -c '
import json, os, sys
d = json.load(sys.stdin)
root, suites = os.path.realpath(sys.argv[1]), set(sys.argv[2:])
files = {t["id"]: t["filename"] for t in d["targets"]}
want = {"app/shardgate/shardgate"}
for t in d["tests"]:
    if suites & {s.split(":")[-1] for s in t["suite"]}:
        for i in t.get("depends", []):
            want.update(os.path.relpath(f, root) for f in files.get(i, []))
print(" ".join(sorted(want)))
' "$dir" "$@")
	ninja -C "$dir" $targets
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
build_for build-asan unit asan
run_suites build-asan unit asan

step "build-fuzz (clang, libFuzzer, ASan + UBSan)"
CC=clang setup build-fuzz -Dfuzzers=true -Db_sanitize=address,undefined -Db_lundef=false
build_for build-fuzz fuzz
SG_FUZZ_SECONDS=$fuzz_seconds run_suites build-fuzz fuzz

step "all suites passed"

#!/usr/bin/env bash
# run_fuzz.sh HARNESS SEED_DIR: fuzzes for SG_FUZZ_SECONDS (default 60) from
# a scratch copy of the seed corpus; fails on any crash, leak, timeout or
# sanitizer report (libFuzzer exits non-zero and leaves the input).
set -euo pipefail
harness=$1 seeds=$2
seconds=${SG_FUZZ_SECONDS:-60}
work=$(mktemp -d /tmp/sg-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "$work/artifacts"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
if ! "$harness" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
	-print_final_stats=1 -artifact_prefix="$work/artifacts/" \
	"$work/corpus" "$seeds"; then
	echo "FAIL: $(basename "$harness") found a problem; reproducer(s):" >&2
	for f in "$work"/artifacts/*; do
		[ -e "$f" ] || continue
		echo "--- $f" >&2
		od -c "$f" | head -20 >&2
	done
	exit 1
fi

#!/usr/bin/env bash
# Single-core benchmark of the request front path (RESP parse -> command
# lookup -> key extraction -> hash slot) for pipelined SET/GET, MSET of 100
# keys and 1 MB values, fed in 2 KiB and 16 KiB chunks. Prints figures; it
# never passes or fails.
#
#   scripts/bench-core.sh [--quick] [--build DIR] [--seconds S]
#
#  1. tests/bench/bench_core, timed: commands/s, ns/command, GB/s (median
#     and best of 5 trials, pinned to one CPU with taskset);
#  2. instructions per command: `perf stat -e instructions` (difference of
#     a 1-pass and a 3-pass run, so building the input cancels out) when
#     the CPU exposes hardware counters; otherwise callgrind, counting only
#     inside measure_passes() (one dump per case), which is exact.
#
# Environment: SG_BUILD_DIR (default build), SG_BENCH_CPU (default: the
# last CPU).
set -euo pipefail
cd "$(dirname "$0")/.."

build=${SG_BUILD_DIR:-build}
secs=2
quick=0
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) quick=1; secs=0.5; shift ;;
	--build) build=$2; shift 2 ;;
	--seconds) secs=$2; shift 2 ;;
	-h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "bench-core.sh: unknown option $1" >&2; exit 2 ;;
	esac
done

[ -f "$build/build.ninja" ] || meson setup "$build" >/dev/null
ninja -C "$build" -j2 tests/bench/bench_core >/dev/null
exe=$build/tests/bench/bench_core
cpu=${SG_BENCH_CPU:-$(( $(nproc) - 1 ))}
tmp=$(mktemp -d /tmp/shardgate-bench-core.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

echo "== machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)," \
	"$(awk '{print "load average " $1 " " $2 " " $3}' /proc/loadavg), kernel $(uname -r)"
echo "== build: $build ($(meson introspect --buildoptions "$build" 2>/dev/null |
	/usr/bin/python3 -c 'import json,sys; o={x["name"]:x["value"] for x in json.load(sys.stdin)}; print("buildtype=%s, b_ndebug=%s" % (o["buildtype"], o["b_ndebug"]))' 2>/dev/null || echo '?'))"
echo "== timed, pinned to CPU $cpu"
if [ $quick = 1 ]; then
	taskset -c "$cpu" "$exe" -s "$secs" -t 3
else
	taskset -c "$cpu" "$exe" -s "$secs" -t 5
fi

echo
echo "== instructions per command"
# passes -> "case commands keys bytes" lines
counts() {
	"$exe" -p "$1" | sed 's/[a-z]*=//g'
}
if perf stat -x, -e instructions true 2>&1 | grep -q '^[0-9]'; then
	echo "(perf stat -e instructions, 3 passes minus 1 pass)"
	printf '%-12s %14s %14s %14s\n' case instr/command instr/key instr/byte
	counts 1 > "$tmp/c1"
	while read -r name cmds keys bytes; do
		i1=$(perf stat -x, -e instructions "$exe" -p 1 -c "$name" 2>&1 >/dev/null | awk -F, '/instructions/ {print $1}')
		i3=$(perf stat -x, -e instructions "$exe" -p 3 -c "$name" 2>&1 >/dev/null | awk -F, '/instructions/ {print $1}')
		awk -v n="$name" -v d=$((i3 - i1)) -v c="$cmds" -v k="$keys" -v b="$bytes" \
			'BEGIN { printf "%-12s %14.0f %14.1f %14.3f\n", n, d / (2 * c), d / (2 * k), d / (2 * b) }'
	done < "$tmp/c1"
elif command -v valgrind >/dev/null; then
	echo "(no hardware counters here: perf stat says instructions <not supported>;"
	echo " counted with callgrind --toggle-collect=measure_passes, 1 pass per case, exact)"
	valgrind --tool=callgrind --callgrind-out-file="$tmp/cg" \
		--toggle-collect=measure_passes --dump-after=measure_passes \
		"$exe" -p 1 2>/dev/null | sed 's/[a-z]*=//g' > "$tmp/c1"
	printf '%-12s %14s %14s %14s\n' case instr/command instr/key instr/byte
	part=1
	while read -r name cmds keys bytes; do
		ir=$(sed -n 's/^totals: //p' "$tmp/cg.$part")
		awk -v n="$name" -v d="$ir" -v c="$cmds" -v k="$keys" -v b="$bytes" \
			'BEGIN { printf "%-12s %14.0f %14.1f %14.3f\n", n, d / c, d / k, d / b }'
		part=$((part + 1))
	done < "$tmp/c1"
else
	echo "(neither hardware counters nor valgrind: skipped)"
fi

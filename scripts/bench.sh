#!/usr/bin/env bash
# Proxy benchmark: redis-benchmark GET/SET (100-byte values, 50 clients,
# pipeline 16 and 1) against, in one go on this machine:
#   cluster    the cluster directly (redis-benchmark --cluster)
#   shardgate  shardgate in kernel mode, 1 worker, in front of the cluster
#   twemproxy  Debian's nutcracker over three standalone redis-servers
# A third test, PING (redis-benchmark's ping_mbulk), goes to the two
# proxies only: both answer it themselves, so its CPU per request is what
# the client-facing half alone costs (one read and one write on a client
# socket per request, which any proxy pays), and SET/GET minus PING is
# the backend half, where proxies differ.
# Runs are interleaved (cluster shardgate twemproxy, cluster ...) so drift
# hits every target alike, and the median of N runs is printed: ops/s,
# redis-benchmark's p50/p99, the proxy's CPU seconds per million requests
# (utime+stime of the whole process from /proc/PID/stat over the run), the
# backends' and the client's CPU, the proxy's RSS, and shardgate/twemproxy
# ratios with the targets. It prints figures; it never passes or fails.
#
#   scripts/bench.sh [options]
#     --quick          one short run per case (smoke test)
#     --runs N         runs per case (default 3); the median is reported
#     --seconds S      aim for runs of about S seconds (default 4)
#     --pipelines L    pipeline depths (default "16 1")
#     --clients N      redis-benchmark -c (default 50)
#     --size B         value size, -d (default 100)
#     --keys N         key space, -r (default 100000)
#     --replicas N     replicas per primary in the cluster (default 0)
#     --base-port P    first port (default 7500; uses P..P+22, never 7000-7005)
#     --cpu C          CPU both proxies run on (default: the last CPU)
#     --backend-connections N  shardgate's backend.connections (default:
#                      shardgate's own default)
#     --build DIR      meson build directory (default build)
#     --out DIR        keep raw results, logs (and perf data) in DIR
#     --profile        instead of the table: syscalls per request (perf
#                      stat on syscall tracepoints) for both proxies, and
#                      perf record -g of shardgate (and nutcracker) under
#                      each pipeline depth, with the top hotspots
#     --core           run scripts/bench-core.sh (single-core parse path)
#     --dpdk           shardgate in DPDK mode vs kernel mode over the veth of
#                      the DPDK test network (scripts/bench-dpdk.sh, root;
#                      the other options are passed on: see its --help)
#
# Why twemproxy gets standalone servers: it shards by its own hash
# (fnv1a_64, ketama), not by cluster slots, so cluster-enabled primaries
# would answer most of its requests with -MOVED, which is cheap and would
# flatter it. It gets three redis-servers started exactly like the cluster
# nodes minus cluster-enabled.
#
# Fairness: each proxy is one process; shardgate's worker lcore and
# nutcracker are pinned to the same CPU (--cpu); the cluster nodes and
# redis-benchmark float. On a 2-core machine redis-benchmark and the
# backends compete with the proxy for CPU: read throughput as "this whole
# box", and CPU per request as the proxy's own cost.
#
# Everything it starts (cluster, servers, proxies, perf) is stopped by PID
# on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=3
secs=4
pipelines="16 1"
clients=50
size=100
keys=100000
replicas=0
base=7500
cpu=$(( $(nproc) - 1 ))
build=${SG_BUILD_DIR:-build}
sg_conns=""
out=""
mode=table
quick=0

die() { echo "bench.sh: $*" >&2; exit 1; }

for a in "$@"; do
	if [ "$a" = --dpdk ]; then
		args=()
		for b in "$@"; do [ "$b" = --dpdk ] || args+=("$b"); done
		exec scripts/bench-dpdk.sh "${args[@]}"
	fi
done

while [ $# -gt 0 ]; do
	case "$1" in
	--quick) quick=1; runs=1; secs=1; shift ;;
	--runs) runs=$2; shift 2 ;;
	--seconds) secs=$2; shift 2 ;;
	--pipelines) pipelines=$2; shift 2 ;;
	--clients) clients=$2; shift 2 ;;
	--size) size=$2; shift 2 ;;
	--keys) keys=$2; shift 2 ;;
	--replicas) replicas=$2; shift 2 ;;
	--base-port) base=$2; shift 2 ;;
	--cpu) cpu=$2; shift 2 ;;
	--backend-connections) sg_conns=$2; shift 2 ;;
	--build) build=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--profile) mode=profile; shift ;;
	--core) mode=core; shift ;;
	-h|--help) sed -n '2,56p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown option $1 (--help)" ;;
	esac
done

if [ $mode = core ]; then
	args=(--build "$build")
	[ $quick = 1 ] && args+=(--quick)
	exec scripts/bench-core.sh "${args[@]}"
fi

[ "$runs" -ge 1 ] || die "--runs must be at least 1"
# the ports this script uses: base..base+22
if [ "$base" -le 7005 ] && [ $((base + 22)) -ge 7000 ]; then
	die "--base-port $base would use ports 7000-7005 (the default local cluster)"
fi
for t in redis-server redis-cli redis-benchmark nutcracker taskset; do
	command -v $t >/dev/null || die "$t not found (run scripts/install-deps.sh)"
done
if [ $mode = profile ]; then
	command -v perf >/dev/null || die "perf not found (run scripts/install-deps.sh)"
fi

[ -f "$build/build.ninja" ] || meson setup "$build" >/dev/null
ninja -C "$build" -j2 app/shardgate/shardgate >/dev/null
exe=$build/app/shardgate/shardgate

ncpu=$(nproc)
hz=$(getconf CLK_TCK)
cl_port=$base			# cluster nodes: base .. base+nodes-1
so_port=$((base + 10))		# standalone servers for twemproxy: +10..+12
sg_port=$((base + 20))
nc_port=$((base + 21))
nc_stats=$((base + 22))

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in $(seq "$base" $((base + 5))) $so_port $((so_port + 1)) $((so_port + 2)) \
	$sg_port $nc_port $nc_stats; do
	port_busy "$p" && die "port $p is in use; choose another --base-port"
done

tmp=$(mktemp -d /tmp/shardgate-bench.XXXXXX)
sg_pid=""
nc_pid=""
perf_pid=""
so_pids=()

# pid_is PID PATTERN: PID still runs a command line matching PATTERN
pid_is() {
	[ -n "$1" ] && [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' < "/proc/$1/cmdline" | grep -q -- "$2"
}

stop_pid() {
	local pid=$1 pat=$2
	pid_is "$pid" "$pat" || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 1 50); do
		[ -d "/proc/$pid" ] || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
}

cleanup() {
	set +e
	[ -n "$perf_pid" ] && stop_pid "$perf_pid" "perf"
	stop_pid "$sg_pid" "$exe"
	stop_pid "$nc_pid" "nutcracker"
	for i in "${!so_pids[@]}"; do
		stop_pid "${so_pids[$i]}" "redis-server.*:$((so_port + i))"
	done
	scripts/cluster.sh --base-port "$base" --dir "$tmp/cluster" stop >/dev/null 2>&1
	if [ -n "$out" ]; then
		mkdir -p "$out"
		cp -r "$tmp"/*.log "$tmp"/*.yaml "$tmp"/*.yml "$tmp"/results.tsv "$tmp"/perf-* "$out"/ 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== machine: $ncpu CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)," \
	"kernel $(uname -r), $(awk '{print "load average " $1 " " $2 " " $3}' /proc/loadavg)"
if awk -v n="$ncpu" '{ exit !($1 > n / 2) }' /proc/loadavg; then
	echo "== note: the load average is above half the CPUs before we start: other work" \
		"competes, expect noisy throughput (CPU per request suffers less)"
fi
echo "== $(redis-benchmark --version | head -1); $(nutcracker --version 2>&1 | head -1); $("$exe" --version | head -1)"

echo "== starting: cluster (3 primaries, $replicas replicas each) on $cl_port.., 3 standalone servers on $so_port.."
scripts/cluster.sh --base-port "$base" --replicas "$replicas" --dir "$tmp/cluster" start >/dev/null
cluster_pids=$(cat "$tmp"/cluster/*.pid)
for i in 0 1 2; do
	p=$((so_port + i))
	mkdir -p "$tmp/so-$p"
	# the cluster nodes' settings (scripts/cluster.sh) minus cluster-enabled
	redis-server --port "$p" --bind 127.0.0.1 --protected-mode no --daemonize yes \
		--pidfile "$tmp/so-$p.pid" --logfile "$tmp/so-$p/redis.log" --dir "$tmp/so-$p" \
		--save "" --appendonly no
	for _ in $(seq 1 100); do
		[ -s "$tmp/so-$p.pid" ] && redis-cli -p "$p" ping 2>/dev/null | grep -q PONG && break
		sleep 0.05
	done
	so_pids[$i]=$(cat "$tmp/so-$p.pid")
	pid_is "${so_pids[$i]}" "redis-server.*:$p" || die "standalone redis-server on $p did not start"
done

# shardgate: the worker lcore on $cpu, the (idle) main lcore elsewhere
main_lcore=0
[ "$cpu" = 0 ] && main_lcore=1
cat > "$tmp/shardgate.yaml" <<YAML
listen:
  - address: 127.0.0.1
    port: $sg_port
io:
  mode: kernel
  workers: 1
  main_lcore: $main_lcore
  lcores: [$cpu]
backend:
  seeds:
    - 127.0.0.1:$cl_port
    - 127.0.0.1:$((cl_port + 1))
    - 127.0.0.1:$((cl_port + 2))
YAML
[ -n "$sg_conns" ] && echo "  connections: $sg_conns" >> "$tmp/shardgate.yaml"
"$exe" --config "$tmp/shardgate.yaml" --check >/dev/null || die "shardgate rejected $tmp/shardgate.yaml"
"$exe" --config "$tmp/shardgate.yaml" > "$tmp/shardgate.log" 2>&1 < /dev/null &
sg_pid=$!

cat > "$tmp/nutcracker.yml" <<YAML
bench:
  listen: 127.0.0.1:$nc_port
  hash: fnv1a_64
  distribution: ketama
  redis: true
  auto_eject_hosts: false
  servers:
    - 127.0.0.1:$so_port:1
    - 127.0.0.1:$((so_port + 1)):1
    - 127.0.0.1:$((so_port + 2)):1
YAML
taskset -c "$cpu" nutcracker -c "$tmp/nutcracker.yml" -a 127.0.0.1 -s "$nc_stats" \
	-o "$tmp/nutcracker.log" < /dev/null &
nc_pid=$!

for _ in $(seq 1 100); do
	a=$(redis-cli -p $sg_port set bench:probe 1 2>/dev/null || true)
	b=$(redis-cli -p $nc_port set bench:probe 1 2>/dev/null || true)
	[ "$a" = OK ] && [ "$b" = OK ] && break
	sleep 0.1
done
[ "$a" = OK ] || { tail -5 "$tmp/shardgate.log" >&2; die "shardgate does not serve SET"; }
[ "$b" = OK ] || { tail -5 "$tmp/nutcracker.log" >&2; die "nutcracker does not serve SET"; }
echo "== shardgate pid $sg_pid on 127.0.0.1:$sg_port (worker lcore on CPU $cpu)," \
	"nutcracker pid $nc_pid on 127.0.0.1:$nc_port (taskset CPU $cpu)"

# ---- one measured run ------------------------------------------------------

# ticks PID...: utime+stime of the processes, in clock ticks
ticks() {
	local t=0 p
	for p in "$@"; do
		# fields after the ")" of comm: utime is the 12th, stime the 13th
		[ -r "/proc/$p/stat" ] && t=$((t + $(sed 's/.*) //' "/proc/$p/stat" | awk '{print $12 + $13}')))
	done
	echo $t
}

# user_sys PID: "utime stime" in clock ticks
user_sys() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12, $13}'; }

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

target_args() {
	case $1 in
	cluster) echo "-p $cl_port --cluster" ;;
	shardgate) echo "-p $sg_port" ;;
	twemproxy) echo "-p $nc_port" ;;
	esac
}
target_pid() {
	case $1 in
	cluster) echo "" ;;
	shardgate) echo "$sg_pid" ;;
	twemproxy) echo "$nc_pid" ;;
	esac
}
target_backends() {
	case $1 in
	twemproxy) echo "${so_pids[*]}" ;;
	*) echo "$cluster_pids" ;;
	esac
}

# bench TARGET TEST PIPELINE N: runs redis-benchmark once and appends a
# line to results.tsv:
# P target test n rps p50 p99 proxy_s/M backend_s/M client_cpu% rss_kB wall phase
phase=warm
bench() {
	local target=$1 test=$2 pl=$3 n=$4 pid be p0 p1 b0 b1 csv TIMEFORMAT line rbt=$2
	[ "$test" = PING ] && rbt=ping_mbulk
	pid=$(target_pid "$target")
	be=$(target_backends "$target")
	p0=0; p1=0
	[ -n "$pid" ] && p0=$(ticks "$pid")
	# shellcheck disable=SC2086
	b0=$(ticks $be)
	TIMEFORMAT='%R %U %S'
	# shellcheck disable=SC2046
	{ time redis-benchmark -h 127.0.0.1 $(target_args "$target") -t "$rbt" -n "$n" \
		-c "$clients" -d "$size" -r "$keys" -P "$pl" --csv > "$tmp/csv" 2>/dev/null; } 2> "$tmp/time"
	[ -n "$pid" ] && p1=$(ticks "$pid")
	# shellcheck disable=SC2086
	b1=$(ticks $be)
	csv=$(grep -i "^\"$rbt\"" "$tmp/csv" | tr -d '"') || die "no result from redis-benchmark ($target $test P$pl)"
	line=$(awk -v P="$pl" -v tg="$target" -v ts="$test" -v n="$n" -v csv="$csv" \
		-v pd=$((p1 - p0)) -v bd=$((b1 - b0)) -v hz="$hz" -v rss="$([ -n "$pid" ] && rss_kb "$pid" || echo 0)" \
		-v tm="$(cat "$tmp/time")" -v haspid="${pid:+1}" -v ph="$phase" '
		BEGIN {
			split(csv, c, ","); split(tm, t, " ")
			pc = haspid ? sprintf("%.3f", pd / hz / n * 1e6) : "-"
			printf "%s\t%s\t%s\t%d\t%.0f\t%.3f\t%.3f\t%s\t%.3f\t%.0f\t%d\t%.2f\t%s\n",
				P, tg, ts, n, c[2], c[5], c[7], pc, bd / hz / n * 1e6,
				100 * (t[2] + t[3]) / t[1], rss, t[1], ph
		}')
	echo "$line" >> "$tmp/results.tsv"
	echo "$line"
}

targets="cluster shardgate twemproxy"

# size N so that a run lasts about $secs seconds: warm-up runs (which also
# fill the key space for GET) give each target's rate; the mean is used
calibrate() {
	local pl=$1 wn rates=() r
	wn=$(( pl >= 16 ? 100000 : 20000 ))
	[ $quick = 1 ] && wn=$(( wn / 4 ))
	for test in SET GET; do
		for t in $targets; do
			r=$(bench "$t" "$test" "$pl" "$wn" | awk -F'\t' '{print $5}')
			rates+=("$r")
		done
	done
	printf '%s\n' "${rates[@]}" | awk -v s="$secs" '{ t += $1 } END {
		n = t / NR * s; n = int(n / 10000 + 0.5) * 10000; if (n < 10000) n = 10000; print n }'
}

# ---- profile mode ------------------------------------------------------------

# every syscall, the I/O ones by name, and the wasted ones: reads and
# writes that failed (EAGAIN) and polls that returned no event
perf_events=(-e raw_syscalls:sys_enter)
for s in epoll_wait epoll_pwait epoll_ctl read readv recvfrom recvmsg write writev sendto \
	sendmsg accept4 getsockopt setsockopt getpeername getsockname; do
	perf_events+=(-e "syscalls:sys_enter_$s")
done
for s in read readv write writev sendmsg; do
	perf_events+=(-e "syscalls:sys_exit_$s" --filter 'ret < 0')
done
perf_events+=(-e syscalls:sys_exit_epoll_wait --filter 'ret == 0')

profile() {
	local pl n name pid
	for pl in $pipelines; do
		echo
		echo "== pipeline $pl: warm-up / sizing"
		n=$(calibrate "$pl" | tail -1)
		for name in shardgate twemproxy; do
			pid=$(target_pid $name)
			echo
			echo "-- $name, pipeline $pl: syscalls during SET then GET, $n requests each"
			perf stat -x, "${perf_events[@]}" -p "$pid" -o "$tmp/perf-syscalls-$name-P$pl.txt" &
			perf_pid=$!
			sleep 0.2
			us0=$(user_sys "$pid")
			bench "$name" SET "$pl" "$n" >/dev/null
			bench "$name" GET "$pl" "$n" >/dev/null
			us1=$(user_sys "$pid")
			kill -INT "$perf_pid"; wait "$perf_pid" || true; perf_pid=""
			echo "$us0 $us1" | awk -v n=$((2 * n)) -v hz="$hz" '{
				u = ($3 - $1) / hz / n * 1e6; s = ($4 - $2) / hz / n * 1e6
				printf "  CPU (/proc/PID/stat): user %.3f + system %.3f s per M requests (system %.0f%%)\n",
					u, s, (u + s > 0) ? 100 * s / (u + s) : 0 }'
			awk -F, -v n=$((2 * n)) '/sys_e/ && $1 ~ /^[0-9]+$/ && $1 > 0 {
				ev = $3; sub(/.*sys_enter_?/, "", ev); if (ev == "") ev = "ALL syscalls"
				if (ev ~ /sys_exit_epoll_wait/) ev = "epoll_wait, 0 events"
				else if (ev ~ /sys_exit_/) { sub(/.*sys_exit_/, "", ev); ev = ev ", failed" }
				printf "  %-22s %12d  %8.4f per request\n", ev, $1, $1 / n }' \
				"$tmp/perf-syscalls-$name-P$pl.txt"
			tail -2 "$tmp/results.tsv" | awk -F'\t' '{ printf "  (%s: %s ops/s, proxy CPU %s s per M requests)\n", $3, $5, $8 }'

			echo "-- $name, pipeline $pl: perf record -g (cpu-clock) during SET then GET"
			perf record -q -g -p "$pid" -o "$tmp/perf-$name-P$pl.data" 2>/dev/null &
			perf_pid=$!
			sleep 0.2
			bench "$name" SET "$pl" "$n" >/dev/null
			bench "$name" GET "$pl" "$n" >/dev/null
			kill -INT "$perf_pid"; wait "$perf_pid" || true; perf_pid=""
			echo "  by thread:"
			perf report -i "$tmp/perf-$name-P$pl.data" --no-children --sort comm --stdio 2>/dev/null |
				grep -E '^ +[0-9.]+%' | head -6 | sed 's/^/  /' || true
			echo "  kernel vs user (by DSO):"
			perf report -i "$tmp/perf-$name-P$pl.data" --no-children --sort dso --stdio 2>/dev/null |
				grep -E '^ +[0-9.]+%' | head -8 | sed 's/^/  /' || true
			echo "  inside each syscall, kernel work included (perf --children, share of samples):"
			perf report -i "$tmp/perf-$name-P$pl.data" --children --sort sym --stdio -g none 2>/dev/null |
				awk '$3 == "[.]" && $4 ~ /^(__libc_|__GI___)?(read|readv|write|writev|sendmsg|recvmsg|sendto|recvfrom|epoll_wait|epoll_ctl|accept4)$/ {
					printf "    %-16s %s\n", $4, $1 }
				$3 == "[k]" && $4 == "do_syscall_64" { printf "    %-16s %s\n", "(all syscalls)", $1 }' || true
			echo "  top symbols (self):"
			perf report -i "$tmp/perf-$name-P$pl.data" --no-children --sort dso,sym --stdio -g none 2>/dev/null |
				grep -E '^ +[0-9.]+%' | head -25 | sed 's/^/  /' || true
		done
	done
}

# ---- table mode --------------------------------------------------------------

report() {
	/usr/bin/python3 - "$tmp/results.tsv" <<'PY'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
groups = {}
for r in rows:
    if r[12] != "run":
        continue                             # warm-up runs
    groups.setdefault((r[0], r[1], r[2]), []).append(r)

def med(rs, i):
    v = [float(r[i]) for r in rs if r[i] != "-"]
    return statistics.median(v) if v else None

targets = ["cluster", "shardgate", "twemproxy"]
goal_cpu = {"16": 0.5, "1": 0.7}
for pl in dict.fromkeys(k[0] for k in groups):
    any_rs = next(rs for k, rs in groups.items() if k[0] == pl)
    print(f"\npipeline {pl}: {len(any_rs)} run(s), -n {any_rs[0][3]} each, median")
    print(f"{'target':<10} {'test':<4} {'ops/s':>10} {'spread':>7} {'p50 ms':>7} {'p99 ms':>7}"
          f" {'proxy CPU':>10} {'backends':>9} {'client':>7} {'proxy RSS':>10}")
    print(f"{'':<10} {'':<4} {'':>10} {'':>7} {'':>7} {'':>7}"
          f" {'s/M req':>10} {'s/M req':>9} {'CPU %':>7} {'MB':>10}")
    m = {}
    for t in targets:
        for test in ("SET", "GET", "PING"):
            rs = groups.get((pl, t, test))
            if not rs:
                continue
            ops = [float(r[4]) for r in rs]
            o = statistics.median(ops)
            spread = (max(ops) - min(ops)) / o * 100 if o else 0
            pc, bc, cc, rss = med(rs, 7), med(rs, 8), med(rs, 9), med(rs, 10)
            m[(t, test)] = (o, pc)
            print(f"{t:<10} {test:<4} {o:>10.0f} {spread:>6.0f}% {med(rs, 5):>7.3f} {med(rs, 6):>7.3f}"
                  f" {('%.3f' % pc) if pc is not None else '-':>10} {bc:>9.3f} {cc:>7.0f}"
                  f" {('%.1f' % (rss / 1024)) if pc is not None else '-':>10}")
    print(f"shardgate / twemproxy at pipeline {pl}: median of the ratios of runs side by side in")
    print(f"time (less sensitive to drift; the verdicts use it); in [], the ratio of the medians")
    for test in ("SET", "GET"):
        if (("shardgate", test) not in m) or (("twemproxy", test) not in m):
            continue
        (so, sc), (to, tc) = m[("shardgate", test)], m[("twemproxy", test)]
        thr, cpu = so / to, sc / tc
        sg, tw = groups[(pl, "shardgate", test)], groups[(pl, "twemproxy", test)]
        pthr = statistics.median(float(a[4]) / float(b[4]) for a, b in zip(sg, tw))
        pcpu = statistics.median(float(a[7]) / float(b[7]) for a, b in zip(sg, tw))
        line = f"  {test}: throughput {pthr:.2f}x [{thr:.2f}x] (target >= 1.0x: {'met' if pthr >= 1 else 'MISSED'})"
        line += f", CPU per request {pcpu:.2f}x [{cpu:.2f}x]"
        if pl in goal_cpu:
            g = goal_cpu[pl]
            line += f" (target <= {g}x: {'met' if pcpu <= g else 'MISSED'})"
        print(line)
    if ("shardgate", "PING") in m and ("twemproxy", "PING") in m:
        sp, tp = m[("shardgate", "PING")][1], m[("twemproxy", "PING")][1]
        print(f"  PING (answered by the proxy: the client-facing half alone): CPU per request"
              f" {sp / tp:.2f}x")
        for test in ("SET", "GET"):
            if (("shardgate", test) not in m) or (("twemproxy", test) not in m):
                continue
            sc, tc = m[("shardgate", test)][1], m[("twemproxy", test)][1]
            print(f"  {test}: shardgate's PING alone is {sp / tc:.2f}x of twemproxy's {test};"
                  f" the backend half ({test} - PING) {sc - sp:.3f} vs {tc - tp:.3f} s/M req:"
                  f" {(sc - sp) / (tc - tp) if tc > tp else float('nan'):.2f}x")
PY
}

if [ $mode = profile ]; then
	profile
	exit 0
fi

for pl in $pipelines; do
	echo
	echo "== pipeline $pl: warm-up runs (sizing -n for ~${secs} s; fills the key space)"
	n=$(calibrate "$pl" | tail -1)
	echo "== pipeline $pl: $runs interleaved run(s) of -n $n" \
		"(columns: P target test n ops/s p50 p99 proxy-s/M backend-s/M client-CPU% RSS-kB wall-s phase)"
	phase=run
	for _ in $(seq 1 "$runs"); do
		for test in SET GET PING; do
			for t in $targets; do
				[ "$test" = PING ] && [ "$t" = cluster ] && continue
				bench "$t" "$test" "$pl" "$n"
			done
		done
	done
	phase=warm
done

echo
echo "== results ($(awk '{print "load average " $1 " " $2 " " $3}' /proc/loadavg) at the end)"
echo "   proxy CPU = utime+stime of the proxy process per million requests;"
echo "   backends = the same summed over the redis-servers it uses; client = redis-benchmark"
report

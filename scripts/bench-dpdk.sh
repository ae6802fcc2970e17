#!/usr/bin/env bash
# DPDK-mode benchmark (scripts/bench.sh --dpdk): the workloads of
# scripts/bench.sh (redis-benchmark GET/SET, 100-byte values, 50 clients,
# pipeline 16 and 1) through shardgate in DPDK mode and through shardgate in
# kernel mode, both reached over the same veth of the test network of
# scripts/dpdk-testnet.sh in its --proxy-ns layout:
#
#   namespace NAME-px                          namespace NAME
#   shardgate, 1 worker on --cpu               redis-benchmark, 3 primaries
#     dpdk:   af_packet PMD on sgdp0,          (--replicas 0) on
#             198.18.0.2 its own TCP           198.18.0.1:7000-7002
#     kernel: sockets, 198.18.0.2/24 on sgdp0
#   sgdp0 ======================== veth ======================== sgk0
#
# Only one proxy owns sgdp0 at a time, so each run starts the proxy, runs
# SET and GET at every pipeline depth and stops it; runs alternate
# kernel, dpdk, dpdk, kernel, ... so drift hits both alike, and the
# median of N runs is printed: ops/s, redis-benchmark's p50/p99, the
# proxy's CPU seconds per million requests (utime+stime of the process
# from /proc/PID/stat over the run), its system share and its user time
# alone, the worker's busy TSC cycles per request from the telemetry
# command /shardgate/workers (n/a when the build lacks it), frames per
# request on the DPDK port, the backends' and the client's CPU, and
# dpdk/kernel ratios. It prints figures; it never passes or fails.
#
#   scripts/bench.sh --dpdk [options]     (or scripts/bench-dpdk.sh [options])
#     --quick          one short run (smoke test)
#     --runs N         runs per mode (default 3); the median is reported
#     --seconds S      aim for runs of about S seconds (default 4)
#     --pipelines L    pipeline depths (default "16 1")
#     --clients N      redis-benchmark -c (default 50)
#     --size B         value size, -d (default 100)
#     --keys N         key space, -r (default 100000)
#     --replicas N     replicas per primary in the cluster (default 0)
#     --cpu C          CPU of the proxy's worker lcore (default: the last)
#     --float          let the cluster and redis-benchmark run on every CPU
#                      (default: every CPU but --cpu, so the proxy's worker
#                      has its core to itself, as deployed)
#     --backend-connections N  shardgate's backend.connections
#     --build DIR      meson build directory (default build)
#     --out DIR        keep raw results, configs and logs in DIR
#
# What the af_packet/veth path costs. No frame here avoids the kernel:
#   - kernel mode: the proxy's sockets run the kernel's TCP/IP stack and
#     the veth; checksums and segmentation in software (the veth has its
#     offloads off, for af_packet's sake), so both modes move the same
#     1500-byte frames;
#   - DPDK mode: shardgate's own TCP/IP stack runs in user space, but
#     af_packet is still a kernel interface: the kernel copies each frame
#     it delivers into the mmap'd RX ring (in the softirq of the sender,
#     so on the client's or the cluster's CPU), and each TX burst is one
#     sendto() that copies the frames out of the TX ring and runs the veth
#     and the receiving side's IP/TCP input in the proxy's system time;
#   - both: the clients' and the cluster's kernel TCP on the other side,
#     and whichever side sends pays the veth and the receiver's softirq.
# So DPDK mode here saves the proxy's socket calls and kernel TCP but pays
# af_packet's copies, its per-burst system call, and polling (loops that
# find nothing cost user time until the worker's idle sleep sets in).
# With a physical NIC on a DPDK driver there is no kernel on the proxy's
# side at all: no system calls, no copies (the NIC writes frames into
# mbufs), no peer softirq in the proxy's time: the system time of DPDK
# mode here is what af_packet and the veth cost, and its user time is the
# nearest figure to what a request costs on a real NIC (a real PMD's
# descriptor work stands in for af_packet's ring handling, which is
# small next to the copies). scripts/bench-tcp.sh shows the same
# TCP stack over TAP, over af_packet and against kernel loopback.
#
# Needs root. Everything it starts (namespaces, cluster, proxies) is
# stopped by PID or deleted on exit, Ctrl-C included.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=3
secs=4
pipelines="16 1"
clients=50
size=100
keys=100000
replicas=0
cpu=$(( $(nproc) - 1 ))
float=0
build=${SG_BUILD_DIR:-build}
sg_conns=""
out=""
quick=0

die() { echo "bench-dpdk.sh: $*" >&2; exit 1; }

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
	--cpu) cpu=$2; shift 2 ;;
	--float) float=1; shift ;;
	--backend-connections) sg_conns=$2; shift 2 ;;
	--build) build=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	-h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown option $1 (--help)" ;;
	esac
done

[ "$(id -u)" = 0 ] || die "needs root (network namespaces, DPDK)"
[ "$runs" -ge 1 ] || die "--runs must be at least 1"
ncpu=$(nproc)
if [ "$cpu" -lt 0 ] || [ "$cpu" -ge "$ncpu" ]; then
	die "--cpu $cpu: this machine has CPUs 0-$((ncpu - 1))"
fi
for t in redis-server redis-cli redis-benchmark taskset ip ethtool; do
	command -v $t >/dev/null || die "$t not found (run scripts/install-deps.sh)"
done

[ -f "$build/build.ninja" ] || meson setup "$build" >/dev/null
ninja -C "$build" -j2 app/shardgate/shardgate >/dev/null
exe=$(cd "$build" && pwd)/app/shardgate/shardgate
net=scripts/dpdk-testnet.sh
hz=$(getconf CLK_TCK)
py=/usr/bin/python3

# the load (cluster, client) runs on every CPU but the worker's, unless
# --float or there is only one
load_cpus=$(seq 0 $((ncpu - 1)) | grep -vx "$cpu" | paste -sd, -)
[ $float = 1 ] || [ -z "$load_cpus" ] && load_cpus=$(seq -s, 0 $((ncpu - 1)))
main_lcore=0
[ "$cpu" = 0 ] && [ "$ncpu" -gt 1 ] && main_lcore=1

name=sgbd$$
tmp=$(mktemp -d /tmp/shardgate-bench-dpdk.XXXXXX)
sg_pid=""
net_up=0

# pid_is PID PATTERN: PID still runs a command line matching PATTERN
pid_is() {
	[ -n "$1" ] && [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' < "/proc/$1/cmdline" | grep -q -- "$2"
}

stop_proxy() {
	local pid=$sg_pid
	sg_pid=""
	pid_is "$pid" "$exe" || return 0
	kill -TERM "$pid" 2>/dev/null || true
	# shardgate lets in-flight requests finish for up to 3 s
	for _ in $(seq 1 60); do
		[ -d "/proc/$pid" ] || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	for _ in $(seq 1 20); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
}

cleanup() {
	set +e
	stop_proxy
	[ $net_up = 1 ] && $net --name "$name" down >/dev/null
	if [ -n "$out" ]; then
		mkdir -p "$out"
		cp "$tmp"/*.log "$tmp"/*.yaml "$tmp"/results.tsv "$out"/ 2>/dev/null
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
echo "== $(redis-benchmark --version | head -1); $("$exe" --version | head -1)"

echo "== test network $name (--proxy-ns), cluster: 3 primaries, $replicas replica(s) each, on 198.18.0.1:7000.."
net_up=1
$net --name "$name" --proxy-ns --replicas "$replicas" up > "$tmp/testnet.log" 2>&1 ||
	{ tail -5 "$tmp/testnet.log" >&2; die "dpdk-testnet.sh up failed"; }
eval "$($net --name "$name" env)"
cluster_pids=$(cat "/tmp/shardgate-testnet-$name-cluster"/*.pid)
for p in $cluster_pids; do
	taskset -a -p -c "$load_cpus" "$p" >/dev/null
done
echo "== proxy worker lcore on CPU $cpu (main lcore $main_lcore); cluster and redis-benchmark on CPUs $load_cpus"

# ---- the two proxies -----------------------------------------------------------

common_yaml() {
	cat <<YAML
  workers: 1
  main_lcore: $main_lcore
  lcores: [$cpu]
  file_prefix: $1
backend:
  seeds:
    - $SG_TESTNET_KERNEL_IP:7000
    - $SG_TESTNET_KERNEL_IP:7001
    - $SG_TESTNET_KERNEL_IP:7002
YAML
	[ -n "$sg_conns" ] && echo "  connections: $sg_conns"
	return 0
}
{
	printf 'listen:\n  - address: %s\n    port: 6379\nio:\n  mode: kernel\n' "$SG_TESTNET_PROXY_IP"
	common_yaml "sgbd-kernel-$$"
} > "$tmp/kernel.yaml"
{
	printf 'listen:\n  - address: 0.0.0.0\n    port: 6379\nio:\n  mode: dpdk\n'
	printf '  port: %s\n  address: %s\n  huge_pages: false\n  memory: 256mb\n' \
		"$SG_TESTNET_PORT" "$SG_TESTNET_PROXY_CIDR"
	common_yaml "sgbd-dpdk-$$"
} > "$tmp/dpdk.yaml"
for m in kernel dpdk; do
	"$exe" --config "$tmp/$m.yaml" --check >/dev/null || die "shardgate rejected $tmp/$m.yaml"
done

in_net() { ip netns exec "$name" "$@"; }

# start_proxy MODE: gives sgdp0 to the kernel or to DPDK, starts that
# shardgate and waits until it serves SET
start_proxy() {
	local m=$1 r=""
	if [ "$m" = kernel ]; then
		$net --name "$name" proxy-kernel
	else
		$net --name "$name" proxy-dpdk
	fi
	# exec-proxy execs `ip netns exec`, which execs shardgate: $! is its PID
	$net --name "$name" exec-proxy "$exe" --config "$tmp/$m.yaml" >> "$tmp/shardgate-$m.log" 2>&1 < /dev/null &
	sg_pid=$!
	for _ in $(seq 1 200); do
		r=$(in_net redis-cli -h "$SG_TESTNET_PROXY_IP" -p 6379 set bench:probe 1 2>/dev/null || true)
		[ "$r" = OK ] && break
		pid_is "$sg_pid" "$exe" || break
		sleep 0.1
	done
	[ "$r" = OK ] || { tail -5 "$tmp/shardgate-$m.log" >&2; die "shardgate ($m mode) does not serve SET"; }
	tel_sock=/var/run/dpdk/sgbd-$m-$$/dpdk_telemetry.v2
}

# workers: "busy_cycles requests rx_frames tx_frames tsc_hz" summed over
# the workers of /shardgate/workers, or "-" when there is no such command
workers() {
	"$py" - "$tel_sock" <<'PY' 2>/dev/null || echo "-"
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.settimeout(5)
s.connect(sys.argv[1])
s.recv(16384)
s.send(b"/shardgate/workers")
w = json.loads(s.recv(1 << 20).decode()).get("/shardgate/workers")
if not isinstance(w, dict) or not w:
    print("-")
else:
    v = list(w.values())
    print(sum(x["busy_cycles"] for x in v), sum(x["requests"] for x in v),
          sum(x.get("rx_packets", 0) for x in v), sum(x.get("tx_packets", 0) for x in v),
          v[0]["tsc_hz"])
PY
}

# ---- one measured run ------------------------------------------------------------

# user_sys PID...: "utime stime" in clock ticks, summed
user_sys() {
	local p u=0 s=0 a b
	for p in "$@"; do
		[ -r "/proc/$p/stat" ] || continue
		read -r a b < <(sed 's/.*) //' "/proc/$p/stat" | awk '{print $12, $13}')
		u=$((u + a)); s=$((s + b))
	done
	echo "$u $s"
}

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# bench MODE TEST PIPELINE N: runs redis-benchmark once against the running
# proxy and appends a line to results.tsv:
# P mode test n rps p50 p99 proxy_s/M sys% busy_cyc/req proxy_user_s/M
#   frames/req backend_s/M client_cpu% rss_kB wall phase run
phase=warm
run_no=0
bench() {
	local m=$1 test=$2 pl=$3 n=$4 us0 us1 b0 b1 w0 w1 csv TIMEFORMAT line
	w0=$(workers)
	# shellcheck disable=SC2086
	b0=$(user_sys $cluster_pids)
	us0=$(user_sys "$sg_pid")
	TIMEFORMAT='%R %U %S'
	{ time in_net taskset -c "$load_cpus" redis-benchmark -h "$SG_TESTNET_PROXY_IP" -p 6379 \
		-t "$test" -n "$n" -c "$clients" -d "$size" -r "$keys" -P "$pl" --csv \
		> "$tmp/csv" 2>/dev/null; } 2> "$tmp/time"
	us1=$(user_sys "$sg_pid")
	# shellcheck disable=SC2086
	b1=$(user_sys $cluster_pids)
	w1=$(workers)
	csv=$(grep -i "^\"$test\"" "$tmp/csv" | tr -d '"') || die "no result from redis-benchmark ($m $test P$pl)"
	line=$(awk -v P="$pl" -v m="$m" -v ts="$test" -v n="$n" -v csv="$csv" \
		-v us="$us0 $us1" -v bs="$b0 $b1" -v w="$w0|$w1" -v hz="$hz" -v rss="$(rss_kb "$sg_pid")" \
		-v tm="$(cat "$tmp/time")" -v ph="$phase" -v run="$run_no" '
		BEGIN {
			split(csv, c, ","); split(tm, t, " "); split(us, u, " "); split(bs, b, " ")
			cpu = (u[3] - u[1] + u[4] - u[2]) / hz
			sysp = cpu > 0 ? 100 * (u[4] - u[2]) / hz / cpu : 0
			split(w, ww, "|"); busy = "-"; fr = "-"
			if (ww[1] != "-" && ww[2] != "-") {
				split(ww[1], a, " "); split(ww[2], z, " ")
				req = z[2] - a[2]
				if (req > 0) {
					busy = sprintf("%.0f", (z[1] - a[1]) / req)
					if (m == "dpdk")
						fr = sprintf("%.3f", (z[3] - a[3] + z[4] - a[4]) / req)
				}
			}
			printf "%s\t%s\t%s\t%d\t%.0f\t%.3f\t%.3f\t%.3f\t%.0f\t%s\t%.3f\t%s\t%.3f\t%.0f\t%d\t%.2f\t%s\t%d\n",
				P, m, ts, n, c[2], c[5], c[7], cpu / n * 1e6, sysp, busy,
				(u[3] - u[1]) / hz / n * 1e6, fr,
				(b[3] - b[1] + b[4] - b[2]) / hz / n * 1e6,
				100 * (t[2] + t[3]) / t[1], rss, t[1], ph, run
		}')
	echo "$line" >> "$tmp/results.tsv"
	echo "$line"
}

declare -A nreq

# warm-up: each proxy once at every depth (fills the key space for GET);
# sizes -n so that a run lasts about $secs seconds (mean of the rates)
echo
echo "== warm-up runs (sizing -n for ~${secs} s; fills the key space)" \
	"(columns: P mode test n ops/s p50 p99 proxy-s/M sys% busy-cyc/req user-s/M frames/req backend-s/M client-CPU% RSS-kB wall-s phase run)"
for m in kernel dpdk; do
	start_proxy "$m"
	for pl in $pipelines; do
		wn=$(( pl >= 16 ? 100000 : 20000 ))
		[ $quick = 1 ] && wn=$(( wn / 4 ))
		for test in SET GET; do
			bench "$m" "$test" "$pl" "$wn" | tee -a "$tmp/warm-$pl"
		done
	done
	stop_proxy
done
for pl in $pipelines; do
	nreq[$pl]=$(awk -F'\t' -v s="$secs" '{ t += $5 } END {
		n = t / NR * s; n = int(n / 10000 + 0.5) * 10000; if (n < 10000) n = 10000; print n }' "$tmp/warm-$pl")
done

echo
echo "== $runs run(s) per mode, alternating; -n per depth:$(for pl in $pipelines; do printf ' P%s %s' "$pl" "${nreq[$pl]}"; done)"
phase=run
for r in $(seq 1 "$runs"); do
	order="kernel dpdk"
	[ $((r % 2)) = 0 ] && order="dpdk kernel"
	run_no=$r
	for m in $order; do
		start_proxy "$m"
		# a short untimed load: backend connections, ARP, caches
		in_net taskset -c "$load_cpus" redis-benchmark -h "$SG_TESTNET_PROXY_IP" -p 6379 \
			-t get -n 10000 -c "$clients" -r "$keys" -P 16 -q > /dev/null 2>&1 || true
		for pl in $pipelines; do
			for test in SET GET; do
				bench "$m" "$test" "$pl" "${nreq[$pl]}"
			done
		done
		stop_proxy
	done
done

echo
echo "== results ($(awk '{print "load average " $1 " " $2 " " $3}' /proc/loadavg) at the end)"
"$py" - "$tmp/results.tsv" <<'PY'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
groups = {}
for r in rows:
    if r[16] == "run":
        groups.setdefault((r[0], r[1], r[2]), []).append(r)

def med(rs, i):
    v = [float(r[i]) for r in rs if r[i] != "-"]
    return statistics.median(v) if v else None

def fmt(v, f):
    return "n/a" if v is None else f % v

for pl in dict.fromkeys(k[0] for k in groups):
    any_rs = next(rs for k, rs in groups.items() if k[0] == pl)
    print(f"\npipeline {pl}: {len(any_rs)} run(s) per mode, -n {any_rs[0][3]} each, median")
    print(f"{'mode':<7} {'test':<4} {'ops/s':>9} {'spread':>6} {'p50 ms':>7} {'p99 ms':>7}"
          f" {'proxy CPU':>9} {'sys':>4} {'user CPU':>8} {'busy':>7} {'frames':>6}"
          f" {'backends':>8} {'client':>6} {'RSS':>5}")
    print(f"{'':<7} {'':<4} {'':>9} {'':>6} {'':>7} {'':>7}"
          f" {'s/M req':>9} {'%':>4} {'s/M req':>8} {'cyc/req':>7} {'/req':>6}"
          f" {'s/M req':>8} {'CPU %':>6} {'MB':>5}")
    for m in ("kernel", "dpdk"):
        for test in ("SET", "GET"):
            rs = groups.get((pl, m, test))
            if not rs:
                continue
            ops = [float(r[4]) for r in rs]
            o = statistics.median(ops)
            spread = (max(ops) - min(ops)) / o * 100 if o else 0
            print(f"{m:<7} {test:<4} {o:>9.0f} {spread:>5.0f}% {med(rs, 5):>7.3f} {med(rs, 6):>7.3f}"
                  f" {med(rs, 7):>9.3f} {med(rs, 8):>4.0f} {med(rs, 10):>8.3f}"
                  f" {fmt(med(rs, 9), '%.0f'):>7} {fmt(med(rs, 11), '%.2f'):>6}"
                  f" {med(rs, 12):>8.3f} {med(rs, 13):>6.0f} {med(rs, 14) / 1024:>5.0f}")
    print(f"dpdk / kernel at pipeline {pl}: median of the ratios of the runs paired by run"
          f" number; in [], the ratio of the medians")
    for test in ("SET", "GET"):
        k, d = groups.get((pl, "kernel", test)), groups.get((pl, "dpdk", test))
        if not k or not d:
            continue
        parts = []
        for label, i in (("throughput", 4), ("proxy CPU/req", 7), ("user CPU/req", 10),
                         ("busy cycles/req", 9)):
            pairs = [(float(a[i]), float(b[i])) for a, b in zip(d, k)
                     if a[i] != "-" and b[i] != "-" and float(b[i]) > 0]
            km, dm = med(k, i), med(d, i)
            if not pairs or not km:
                parts.append(f"{label} n/a")
                continue
            pr = statistics.median(a / b for a, b in pairs)
            parts.append(f"{label} {pr:.2f}x [{dm / km:.2f}x]")
        print(f"  {test}: " + ", ".join(parts))
PY
cat <<'NOTE'

Columns: proxy CPU = utime+stime of the proxy process per million requests;
sys = the system share of it; user CPU = utime alone; busy cyc/req = TSC
cycles of the worker's loops that did work, per request (/shardgate/workers;
they include the system calls made in those loops); frames/req = DPDK port
frames (rx+tx) per request.
Every frame here crosses the kernel: on the clients' and the cluster's side
in both modes; for a kernel-mode proxy, its sockets and TCP; for the DPDK
one, af_packet: a copy into the mmap'd RX ring in the sender's softirq, and
per TX burst a sendto() that copies the frames out and runs the veth and
the receiver's IP/TCP input in the proxy's system time. DPDK mode's system
time is therefore the af_packet/veth path, not its own TCP. With a physical
NIC on a DPDK driver the proxy's side has no kernel at all (no system
calls, no copies, no softirq in its time): DPDK mode's user CPU per request
is the nearest figure for it there, while kernel mode keeps its system time.
NOTE

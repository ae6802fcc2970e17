#!/usr/bin/env bash
# The TCP benchmark: shardgate's userspace TCP (lib/io DPDK transport over
# lib/tcp and lib/net) on a TAP port, against the same echo service on the
# kernel's TCP over loopback. Prints a table; nothing here passes or fails.
#
#   scripts/bench-tcp.sh [BUILD_DIR] [SECONDS]
#
# Server: tests/dpdk/io_echo --no-crc, one worker lcore pinned to CPU 1
#   dpdk    --vdev=net_tap0 whose kernel side is moved into a namespace
#           created here (198.18.0.1 there, 198.18.0.2 the stack); the
#           worker busy-polls, as a DPDK core does;
#   afpacket  the same stack on --vdev=net_af_packet0 over a veth pair
#           (mmap'd packet rings: no system call per received frame, one
#           per transmitted burst), both ends in namespaces: the same
#           stack behind a cheaper virtual NIC, to show what the TAP costs;
#   kernel  the same program on lib/io's kernel transport (epoll) on
#           127.0.0.1 in this namespace (loopback: 64 KiB MTU, and TSO/GSO
#           carry up to 64 KiB per packet);
#   kernel1500  the same, in a namespace of its own whose loopback has
#           MTU 1500 and TSO/GSO/GRO off: the kernel moving the frames
#           the TAP moves, without the TAP's per-frame system calls.
# Client: tests/bench/tcp_load (kernel sockets, epoll) pinned to CPU 0,
# inside the namespace for dpdk. Tests, each SECONDS long after 1 s of
# warm-up:
#   stream   1 connection, 256 KiB writes, echoed Gbit/s
#   rr       100 connections, 64-byte request/response: req/s, latency
#   connect  32 in flight: connect, 1 byte each way, close: conn/s
#   idle     10 000 connections, one byte echoed on each, then idle: the
#            server's heap and mbufs per connection (dpdk: that is all
#            of the connection's state; kernel: plus the kernel's socket
#            memory, from /proc/meminfo Slab, per socket)
# For scale, bench_tcp runs lib/tcp alone: two stacks on one core joined
# by an in-process FIFO (no NIC, no system calls).
# The worker thread's CPU time is split into user (our code, and busy
# polling) and system (for dpdk: the TAP PMD's read()/writev() per frame
# and the kernel work they trigger, which is what the TAP path costs; a
# physical NIC has none of it). tcp_load prints latency in 1 us buckets.
# Needs root, /dev/net/tun, and a build with tests enabled.
set -u

build=${1:-build}
secs=${2:-5}
here=$(cd "$(dirname "$0")/.." && pwd)
echo_bin="$here/$build/tests/dpdk/io_echo"
load="$here/$build/tests/bench/tcp_load"
stack_bench="$here/$build/tests/bench/bench_tcp"
tel="$here/tests/dpdk/io_clients.py"
py=/usr/bin/python3
IDLE=10000
PORT=7100

[ "$(id -u)" = 0 ] || { echo "bench-tcp: needs root"; exit 1; }
[ -x "$echo_bin" ] && [ -x "$load" ] || { echo "bench-tcp: build $build first"; exit 1; }
[ -c /dev/net/tun ] || { echo "bench-tcp: no /dev/net/tun"; exit 1; }
ulimit -n "$(ulimit -Hn)"

tag=$$
ns=sgbench-$tag
nsd=sgbenchd-$tag
tap=sgb$tag
tmp=$(mktemp -d)
pid=""
hold_pid=""
ncpu=$(nproc)
scpu=$(( ncpu > 1 ? 1 : 0 ))

cleanup() {
	for p in $hold_pid $pid; do
		kill -TERM "$p" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null
	done
	ip netns del "$ns" 2>/dev/null
	ip netns del "$nsd" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

declare -A R	# R[mode.key] = value

client_sysctls() {	# short-lived connections need ports and TIME_WAIT reuse
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	ip netns exec "$1" sysctl -qw net.ipv4.ip_local_port_range="10000 65000"
	ip netns exec "$1" sysctl -qw net.ipv4.tcp_tw_reuse=1
}

start_server() {	# start_server dpdk|afpacket|kernel|kernel1500
	local mode=$1
	if [ "$mode" = afpacket ]; then
		# the stack's end of the veth in a namespace of its own
		ip netns add "$nsd"
		ip netns add "$ns"
		ip -n "$nsd" link add va$tag type veth peer name vb$tag netns "$ns"
		ip netns exec "$nsd" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
		ip netns exec "$nsd" ethtool -K va$tag rx off tx off tso off gso off gro off >/dev/null 2>&1
		ip -n "$nsd" link set va$tag up
		client_sysctls "$ns"
		ip netns exec "$ns" ethtool -K vb$tag tx off tso off gso off >/dev/null 2>&1
		ip -n "$ns" addr add 198.18.0.1/24 dev vb$tag
		ip -n "$ns" link set vb$tag up
		ip -n "$ns" link set lo up
		ip netns exec "$nsd" "$echo_bin" --no-huge -m 1024 --no-pci --file-prefix="sgb$tag" \
			--lcores="0@0,1@$scpu" --log-level=3 \
			--vdev="net_af_packet0,iface=va$tag,blocksz=4096,framesz=2048,framecnt=4096,qdisc_bypass=1" \
			-- --port net_af_packet0 --ip 198.18.0.2/24 --listen $PORT --busy --no-crc \
			--max-conns 20000 --mbufs 32767 >"$tmp/server.out" 2>"$tmp/server.err" &
	elif [ "$mode" = dpdk ]; then
		"$echo_bin" --no-huge -m 1024 --no-pci --file-prefix="sgb$tag" \
			--lcores="0@0,1@$scpu" --vdev="net_tap0,iface=$tap" --log-level=3 -- \
			--port net_tap0 --ip 198.18.0.2/24 --listen $PORT --busy --no-crc \
			--max-conns 20000 --mbufs 32767 >"$tmp/server.out" 2>"$tmp/server.err" &
	else
		local in=()
		if [ "$mode" = kernel1500 ]; then
			ip netns add "$ns"
			ip -n "$ns" link set lo mtu 1500 up
			ip netns exec "$ns" ethtool -K lo tso off gso off gro off >/dev/null 2>&1
			client_sysctls "$ns"
			in=(ip netns exec "$ns")
		fi
		"${in[@]}" "$echo_bin" --no-huge -m 512 --no-pci --file-prefix="sgb$tag" \
			--lcores="0@0,1@$scpu" --log-level=3 -- --mode kernel --no-crc \
			--ip 127.0.0.1 --listen $PORT --max-conns 20000 \
			>"$tmp/server.out" 2>"$tmp/server.err" &
	fi
	pid=$!
	for _ in $(seq 100); do
		grep -q '^LISTENING' "$tmp/server.out" && break
		sleep 0.1
	done
	grep -q '^LISTENING' "$tmp/server.out" || { cat "$tmp/server.err"; exit 1; }
	if [ "$mode" = afpacket ]; then
		host=198.18.0.2
		run=(ip netns exec "$ns" taskset -c 0)
		sleep 1
	elif [ "$mode" = dpdk ]; then
		ip netns add "$ns"
		client_sysctls "$ns"
		ip link set "$tap" netns "$ns"
		ip -n "$ns" addr add 198.18.0.1/24 dev "$tap"
		ip -n "$ns" link set lo up
		ip -n "$ns" link set "$tap" up
		host=198.18.0.2
		run=(ip netns exec "$ns" taskset -c 0)
		sleep 1
	elif [ "$mode" = kernel1500 ]; then
		host=127.0.0.1
		run=(ip netns exec "$ns" taskset -c 0)
	else
		host=127.0.0.1
		run=(taskset -c 0)
	fi
}

stop_server() {
	kill -TERM "$pid"
	wait "$pid" 2>/dev/null
	pid=""
	ip netns del "$ns" 2>/dev/null
	ip netns del "$nsd" 2>/dev/null
	sleep 1
}

cpu_ticks() {	# user and system clock ticks of the server's worker thread
	local t
	for t in /proc/"$pid"/task/*; do
		if [ "$(cat "$t/comm")" = rte-worker-1 ]; then
			awk '{ print $14, $15 }' "$t/stat"
			return
		fi
	done
	echo "0 0"
}

port_frames() {	# frames received + sent by the port (dpdk)
	"$py" "$tel" telemetry "/var/run/dpdk/sgb$tag/dpdk_telemetry.v2" /shardgate/port |
		"$py" -c 'import json,sys; d=json.load(sys.stdin); print(d["ipackets"] + d["opackets"])'
}

field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }

measure() {	# measure MODE TEST ARGS...: one tcp_load run
	local mode=$1 test=$2
	shift 2
	local c0 c1 f0=0 f1=0 hz
	hz=$(getconf CLK_TCK)
	read -r -a c0 <<<"$(cpu_ticks)"
	[ "$mode" = dpdk ] || [ "$mode" = afpacket ] && f0=$(port_frames)
	"${run[@]}" "$load" "$test" --host "$host" --port $PORT --seconds "$secs" "$@" \
		>"$tmp/$mode.$test" 2>&1
	[ "$mode" = dpdk ] || [ "$mode" = afpacket ] && f1=$(port_frames)
	read -r -a c1 <<<"$(cpu_ticks)"
	local line
	line=$(grep '^RESULT' "$tmp/$mode.$test")
	[ -n "$line" ] || { echo "bench-tcp: $mode $test failed:"; cat "$tmp/$mode.$test"; }
	echo "$mode $test: $line"
	# CPU shares over the whole run (warm-up included)
	local wall
	wall=$(awk -v s="$secs" 'BEGIN { print s + 1 }')
	R[$mode.$test.user]=$(awk -v a="${c0[0]}" -v b="${c1[0]}" -v h="$hz" -v w="$wall" \
		'BEGIN { printf "%.0f", (b - a) / h / w * 100 }')
	R[$mode.$test.sys]=$(awk -v a="${c0[1]}" -v b="${c1[1]}" -v h="$hz" -v w="$wall" \
		'BEGIN { printf "%.0f", (b - a) / h / w * 100 }')
	R[$mode.$test.frames]=$(( f1 - f0 ))
	R[$mode.$test.sys_ns_per_frame]=$(awk -v a="${c0[1]}" -v b="${c1[1]}" -v h="$hz" -v f="$(( f1 - f0 ))" \
		'BEGIN { if (f > 0) printf "%.0f", (b - a) / h * 1e9 / f; else print "-" }')
	case $test in
	stream) R[$mode.gbps]=$(field gbps <<<"$line") ;;
	rr) R[$mode.rps]=$(field rps <<<"$line")
	    R[$mode.p50]=$(field p50_us <<<"$line")
	    R[$mode.p99]=$(field p99_us <<<"$line")
	    R[$mode.p999]=$(field p999_us <<<"$line") ;;
	connect) R[$mode.cps]=$(field cps <<<"$line")
	    R[$mode.cerr]=$(field errors <<<"$line") ;;
	esac
}

mem_line() {	# the server's memory figures now
	local n
	n=$(grep -c '^mem' "$tmp/server.out")
	kill -USR2 "$pid"
	for _ in $(seq 50); do
		[ "$(grep -c '^mem' "$tmp/server.out")" -gt "$n" ] && break
		sleep 0.1
	done
	grep '^mem' "$tmp/server.out" | tail -1
}

slab_kb() { awk '/^Slab:/ { print $2 }' /proc/meminfo; }

measure_idle() {	# measure_idle MODE
	local mode=$1 m0 m1 s0 s1
	m0=$(mem_line)
	s0=$(slab_kb)
	"${run[@]}" "$load" hold --host "$host" --port $PORT --conns $IDLE --seconds 120 \
		>"$tmp/$mode.hold" 2>&1 &
	hold_pid=$!
	for _ in $(seq 600); do
		grep -q '^HELD' "$tmp/$mode.hold" && break
		kill -0 "$hold_pid" 2>/dev/null || break
		sleep 0.1
	done
	sleep 1
	m1=$(mem_line)
	s1=$(slab_kb)
	kill -TERM "$hold_pid"
	wait "$hold_pid" 2>/dev/null
	hold_pid=""
	if ! grep -q '^HELD' "$tmp/$mode.hold"; then
		echo "bench-tcp: $mode idle hold failed"; cat "$tmp/$mode.hold"
		return
	fi
	local h0 h1 b0 b1 n1
	h0=$(field heap <<<" $m0"); h1=$(field heap <<<" $m1")
	b0=$(( $(field io_inuse <<<" $m0") + $(field rx_inuse <<<" $m0") + $(field tx_inuse <<<" $m0") ))
	b1=$(( $(field io_inuse <<<" $m1") + $(field rx_inuse <<<" $m1") + $(field tx_inuse <<<" $m1") ))
	n1=$(field streams <<<" $m1")
	R[$mode.idle_streams]=$n1
	R[$mode.idle_heap]=$(( (h1 - h0) / IDLE ))
	R[$mode.idle_mbufs]=$(awk -v a="$b0" -v b="$b1" -v n="$IDLE" 'BEGIN { printf "%.3f", (b - a) / n }')
	# kernel sockets: both ends live in this kernel in loopback mode
	R[$mode.idle_slab]=$(( (s1 - s0) * 1024 / IDLE / 2 ))
	echo "$mode idle: $n1 streams; heap +$(( h1 - h0 )) B, mbufs +$(( b1 - b0 )), slab +$(( s1 - s0 )) KiB"
}

for mode in dpdk afpacket kernel kernel1500; do
	echo "== $mode"
	start_server "$mode"
	measure "$mode" stream --conns 1 --size 262144
	measure "$mode" rr --conns 100 --size 64
	measure "$mode" connect --conns 32
	measure_idle "$mode"
	stop_server
done

echo "== lib/tcp alone (bench_tcp)"
taskset -c "$scpu" "$stack_bench" 10000 256 50 >"$tmp/stack" 2>&1
grep -E 'handshakes|conn object|stack share|request/response|bulk' "$tmp/stack"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
row() {	# row LABEL KEY: the four figures and DPDK (TAP) / kernel
	echo "| $1 | ${R[dpdk.$2]:-} | ${R[afpacket.$2]:-} | ${R[kernel.$2]:-} | ${R[kernel1500.$2]:-} | $(ratio "${R[dpdk.$2]:-0}" "${R[kernel.$2]:-0}") |"
}

echo
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (the machine is shared: figures vary run to run)"
echo "| test (server: 1 worker core) | DPDK over TAP | DPDK over af_packet (veth) | kernel loopback | kernel loopback, MTU 1500, no TSO/GSO | TAP / kernel |"
echo "| --- | --- | --- | --- | --- | --- |"
row "echo throughput, 1 conn, 256 KiB writes (Gbit/s)" gbps
row "request/response, 100 conns, 64 B (req/s)" rps
row "  latency p50 (us)" p50
row "  latency p99 (us)" p99
row "  latency p99.9 (us)" p999
row "new connections per second, 32 in flight" cps
row "idle established connection: server heap (B)" idle_heap
row "idle established connection: mbufs held" idle_mbufs
echo "| idle established connection: kernel slab per socket (B) | - | - | ${R[kernel.idle_slab]:-} | ${R[kernel1500.idle_slab]:-} | |"
for t in stream rr connect; do
	echo "| worker thread CPU in $t: user % / system % | ${R[dpdk.$t.user]:-} / ${R[dpdk.$t.sys]:-} | ${R[afpacket.$t.user]:-} / ${R[afpacket.$t.sys]:-} | ${R[kernel.$t.user]:-} / ${R[kernel.$t.sys]:-} | ${R[kernel1500.$t.user]:-} / ${R[kernel1500.$t.sys]:-} | |"
done
for t in stream rr connect; do
	echo "| frames in $t (warm-up included); worker system time per frame (ns) | ${R[dpdk.$t.frames]:-} ; ${R[dpdk.$t.sys_ns_per_frame]:-} | ${R[afpacket.$t.frames]:-} ; ${R[afpacket.$t.sys_ns_per_frame]:-} | | | |"
done
echo
echo "| lib/tcp alone, two stacks on one core, no NIC (bench_tcp) | |"
echo "| --- | --- |"
echo "| bulk payload, sender + receiver | $(sed -n 's/^bulk *\([0-9.]* Gbit\/s\).*/\1/p' "$tmp/stack") |"
echo "| request/response (10 000 conns) | $(sed -n 's/^request\/response *\([0-9]*\) .*/\1/p' "$tmp/stack") per s |"
echo "| handshakes | $(sed -n 's/.*(handshakes \([0-9]*\/s\)).*/\1/p' "$tmp/stack") |"
echo "| connection object + stack share | $(sed -n 's/^conn object *\([0-9]*\).*/\1/p' "$tmp/stack") + $(sed -n 's/^stack share per conn *\([0-9]*\).*/\1/p' "$tmp/stack") B |"

#!/usr/bin/env bash
# lib/io's DPDK transport against the Linux kernel's TCP (DESIGN.md 10).
#
#   io_tap_test.sh IO_ECHO_BINARY [PYTHON]
#
# io_echo (an echo service on lib/io + lib/tcp + lib/net) drives
# --vdev=net_tap0; the TAP's kernel side is moved into namespaces this
# script creates (198.18.0.0/24: .1 the kernel clients, .2 the stack) and
# deletes on every path. Kernel clients are tests/dpdk/io_clients.py;
# each connection's bytes and CRC-32 are checked at both ends (the client
# checks the echo, `io_clients.py match` checks what the server received).
#
#   1. direct: 200 concurrent connections, 1 B .. 256 KiB each;
#   2. direct: 4 streaming clients, SIGSTOPped for 4 s: the server's mbufs
#      stay bounded and flat, zero-window probes go out, and after
#      SIGCONT every byte arrives intact;
#   3. direct, 2 workers on the one TAP queue: connections spread by flow
#      owner and software steering (checked in /shardgate/tcp);
#   4. faulty link: the TAP sits in a link namespace and the clients
#      behind a veth pair; frames are dropped, delayed, reordered,
#      duplicated and corrupted both ways: by `tc netem` on both sides of
#      a bridge when the kernel has sch_netem, else by io_relay.py, which
#      does the same in userspace (IO_TAP_LINK=netem|relay forces one):
#      1 % then 5 % loss with the rest, echo intact; then a 100 % black
#      hole: the stack gives the connections up with -ETIMEDOUT in time,
#      and once the wire heals the kernel clients meet a RST.
# Exit 0 pass, 1 fail, 77 skipped (not root, no TUN, no ip).
set -u

bin=${1:?usage: io_tap_test.sh IO_ECHO_BINARY [PYTHON]}
py=${2:-/usr/bin/python3}
here=$(cd "$(dirname "$0")" && pwd)
clients="$here/io_clients.py"
relay="$here/io_relay.py"

if [ "$(id -u)" != 0 ]; then
	echo "skip: needs root (TAP device, network namespaces)"
	exit 77
fi
for t in ip ethtool; do
	command -v "$t" >/dev/null || { echo "skip: no $t"; exit 77; }
done
[ -c /dev/net/tun ] || { echo "skip: no /dev/net/tun"; exit 77; }

tag=$$
nsc=sgioc-$tag		# the kernel clients
nsr=sgior-$tag		# the relay (faulty link phase)
tap=sgio$tag
tmp=$(mktemp -d)
pid=""
relay_pid=""
link=relay
bg_pids=()
fails=0
PORT=7000

stop_pid() {	# stop_pid PID: TERM, then KILL after 5 s
	local p=$1
	[ -n "$p" ] || return 0
	kill -0 "$p" 2>/dev/null || { wait "$p" 2>/dev/null; return 0; }
	kill -CONT "$p" 2>/dev/null
	kill -TERM "$p" 2>/dev/null
	for _ in $(seq 50); do
		kill -0 "$p" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$p" 2>/dev/null
	wait "$p" 2>/dev/null
}

cleanup() {
	for p in "${bg_pids[@]}"; do stop_pid "$p"; done
	stop_pid "$relay_pid"
	stop_pid "$pid"
	ip netns del "$nsc" 2>/dev/null
	ip netns del "$nsr" 2>/dev/null
	ip link del "$tap" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

check() {	# check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@"; then
		echo "ok   $what"
	else
		echo "FAIL $what"
		fails=$((fails + 1))
	fi
}

ncpu=$(nproc)

# start_echo NAME WORKERS EXTRA-ARGS...: io_echo on a fresh TAP, output
# in $tmp/NAME.out; waits for LISTENING.
start_echo() {
	local name=$1 workers=$2 lcores="0@0"
	shift 2
	for i in $(seq 1 "$workers"); do
		lcores="$lcores,$i@$(( i % ncpu ))"
	done
	"$bin" --no-huge -m 1024 --no-pci --file-prefix="sgio$tag" --lcores="$lcores" \
		--vdev="net_tap0,iface=$tap" --log-level=3 -- \
		--port net_tap0 --workers "$workers" --queues 1 \
		--ip 198.18.0.2/24 --listen $PORT --seconds 280 "$@" \
		>"$tmp/$name.out" 2>"$tmp/$name.err" &
	pid=$!
	for _ in $(seq 100); do
		grep -q '^LISTENING' "$tmp/$name.out" && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	echo "FAIL io_echo did not start"
	tail -5 "$tmp/$name.err"
	exit 1
}

stop_echo() {	# stop_echo NAME: SIGTERM, wait for END
	local name=$1
	kill -TERM "$pid"
	wait "$pid"
	local rc=$?
	pid=""
	check "$name: io_echo exited cleanly" [ "$rc" = 0 ]
	check "$name: no sanitizer report" sh -c "! grep -q 'runtime error\|Sanitizer' '$tmp/$name.err'"
	grep -q '^END' "$tmp/$name.out" || { echo "FAIL $name: no END"; fails=$((fails + 1)); }
}

stat() {	# stat NAME GROUP KEY
	awk -v g="$2" -v k="$3" '$1 == "stat" && $2 == g && $3 == k { print $4 }' "$tmp/$1.out"
}

telemetry() {	# telemetry COMMAND
	"$py" "$clients" telemetry "/var/run/dpdk/sgio$tag/dpdk_telemetry.v2" "$1"
}

# The TAP straight into the clients' namespace.
direct_net() {
	ip netns add "$nsc" || exit 1
	ip netns exec "$nsc" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	ip link set "$tap" netns "$nsc" || exit 1
	ip -n "$nsc" addr add 198.18.0.1/24 dev "$tap" || exit 1
	ip -n "$nsc" link set lo up
	ip -n "$nsc" link set "$tap" up || exit 1
}

# The link namespace impairs frames with tc netem, when the kernel has it.
netem_works() {
	[ "${IO_TAP_LINK:-}" = relay ] && return 1
	[ "${IO_TAP_LINK:-}" = netem ] && return 0
	ip netns exec "$nsr" tc qdisc add dev lo root netem delay 1ms 2>/dev/null || return 1
	ip netns exec "$nsr" tc qdisc del dev lo root 2>/dev/null
	return 0
}

# set_profile "loss=P delay_ms=D jitter_ms=J reorder=P dup=P corrupt=P":
# io_relay.py reads the file; for netem the same words become qdiscs on
# both bridge ports (each impairs the frames leaving towards its side).
set_profile() {
	echo "$1" >"$tmp/profile"
	[ "$link" = netem ] || return 0
	local args
	args=$(echo "$1" | awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
		END { printf "loss %g%% delay %gms %gms reorder %g%% duplicate %g%% corrupt %g%%",
			v["loss"] * 100, v["delay_ms"], v["jitter_ms"], v["reorder"] * 100,
			v["dup"] * 100, v["corrupt"] * 100 }')
	for dev in "$tap" vr$tag; do
		# shellcheck disable=SC2086
		ip netns exec "$nsr" tc qdisc replace dev "$dev" root netem $args ||
			{ echo "FAIL tc netem $args on $dev"; fails=$((fails + 1)); }
	done
}

# TAP -> link namespace, veth pair -> clients' namespace.
relay_net() {
	ip netns add "$nsr" || exit 1
	ip netns add "$nsc" || exit 1
	for ns in "$nsr" "$nsc"; do
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
		ip -n "$ns" link set lo up
	done
	ip link set "$tap" netns "$nsr" || exit 1
	ip -n "$nsr" link add vr$tag type veth peer name vc$tag netns "$nsc" || exit 1
	# the relay reads frames as they are: full checksums, no TSO/GSO
	ip netns exec "$nsc" ethtool -K vc$tag tx off tso off gso off >/dev/null 2>&1
	ip netns exec "$nsr" ethtool -K vr$tag tx off tso off gso off gro off >/dev/null 2>&1
	ip -n "$nsr" link set "$tap" promisc on up
	ip -n "$nsr" link set vr$tag promisc on up
	ip -n "$nsc" addr add 198.18.0.1/24 dev vc$tag
	ip -n "$nsc" link set vc$tag up
	# a healed wire should meet the kernel's next retransmission soon
	ip netns exec "$nsc" sysctl -qw net.ipv4.tcp_rto_max_ms=1000 2>/dev/null
	: >"$tmp/profile"
	if netem_works; then
		link=netem
		ip -n "$nsr" link add br$tag type bridge || exit 1
		# the TAP's kernel side carries the stack's own MAC; a bridge
		# would take that address as its own and never forward it
		ip -n "$nsr" link set "$tap" address 02:00:5e:10:00:01
		ip -n "$nsr" link set "$tap" master br$tag
		ip -n "$nsr" link set vr$tag master br$tag
		ip -n "$nsr" link set br$tag up
		echo "link: bridge with tc netem on both ports"
		return 0
	fi
	link=relay
	echo "link: io_relay.py (no sch_netem in this kernel)"
	ip netns exec "$nsr" "$py" "$relay" "$tap" vr$tag "$tmp/profile" --seconds 280 \
		>"$tmp/relay.out" 2>&1 &
	relay_pid=$!
	for _ in $(seq 50); do
		grep -q ready "$tmp/relay.out" && return 0
		sleep 0.1
	done
	echo "FAIL relay did not start"; cat "$tmp/relay.out"
	exit 1
}

del_net() {
	stop_pid "$relay_pid"
	relay_pid=""
	ip netns del "$nsc" 2>/dev/null
	ip netns del "$nsr" 2>/dev/null
	sleep 0.5
}

run_clients() {	# run_clients OUTNAME ARGS...: in the clients' namespace
	local out=$1
	shift
	ip netns exec "$nsc" "$py" "$clients" "$@" --host 198.18.0.2 --port $PORT \
		>"$tmp/$out" 2>&1
}

summary() { grep '^SUMMARY' "$tmp/$1" | head -1; }

# ---------------------------------------------------------------- 1 + 2
echo "== direct, 1 worker"
start_echo direct 1 --snd-buf 262144 --rcv-buf 262144 --high 262144
direct_net
run_clients echo1 echo --conns 200 --min-bytes 1 --max-bytes 262144 --seed 11 --timeout 90
check "200 echo clients: $(summary echo1)" grep -q '^SUMMARY ok=200 failed=0' "$tmp/echo1"

# 2: stop reading. Four clients write without reading (small receive
# buffers, large send buffers) until every buffer between them and the
# echo is full; we SIGSTOP them and sample the server's memory.
kill -USR2 "$pid"
sleep 0.3
base=$(awk '/^mem/ { l = $0 } END { print l }' "$tmp/direct.out" |
	awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
	print v["io_inuse"] + v["rx_inuse"] + v["tx_inuse"] }')
ip netns exec "$nsc" "$py" "$clients" stream --host 198.18.0.2 --port $PORT \
	--conns 4 --seconds 9 --read-after 5 --rcvbuf 65536 --sndbuf 2097152 \
	--chunk-max 65536 --seed 12 --timeout 60 >"$tmp/stall" 2>&1 &
cpid=$!
bg_pids+=("$cpid")
sleep 2
kill -STOP "$cpid"
sleep 1
for _ in $(seq 8); do
	kill -USR2 "$pid"
	sleep 0.5
done
kill -CONT "$cpid"
wait "$cpid"
grep '^mem' "$tmp/direct.out" | tail -8 >"$tmp/memsamples"
mbufs_now() { awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
	print v["io_inuse"] + v["rx_inuse"] + v["tx_inuse"] }' "$tmp/memsamples"; }
mem_max=$(mbufs_now | sort -n | tail -1)
mem_first=$(mbufs_now | head -4 | sort -n | tail -1)
mem_last=$(mbufs_now | tail -4 | sort -n | tail -1)
paused=$(awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == "paused") p = kv[2] } } END { print p + 0 }' "$tmp/memsamples")
echo "stalled: mbufs in use per sample: $(mbufs_now | tr '\n' ' ')(idle: $base)"
# per connection at most: receive memory (2 x rcv_buf of mbufs), the
# echo's high watermark plus one delivery, TCP's send buffer (2 x
# snd_buf of mbuf room): about 900 mbufs of 2 KiB; 4 of them.
check "stalled readers pin bounded memory: $(( ${mem_max:-0} - ${base:-0} )) mbufs over idle <= 3600" \
	[ "$(( ${mem_max:-99999} - ${base:-0} ))" -le 3600 ]
check "... and do hold some (the buffers really filled): ${mem_max:-0} > $(( ${base:-0} + 200 ))" \
	[ "${mem_max:-0}" -gt "$(( ${base:-0} + 200 ))" ]
check "and it stays flat while stopped: $mem_first then $mem_last" \
	[ "${mem_last:-99999}" -le $(( ${mem_first:-0} + 64 )) ]
check "the echo service paused reading ($paused streams)" [ "$paused" -ge 1 ]
check "stalled clients finish intact after SIGCONT: $(summary stall)" \
	grep -q '^SUMMARY ok=4 failed=0' "$tmp/stall"
sleep 0.5
stop_echo direct
check "server received what each client sent: $("$py" "$clients" match "$tmp/direct.out" "$tmp/echo1" | tail -1)" \
	"$py" "$clients" match "$tmp/direct.out" "$tmp/echo1"
check "... the stalled ones too: $("$py" "$clients" match "$tmp/direct.out" "$tmp/stall" | tail -1)" \
	"$py" "$clients" match "$tmp/direct.out" "$tmp/stall"
check "zero-window probes to the stopped clients: $(stat direct tcp persist_probes)" \
	[ "$(stat direct tcp persist_probes)" -ge 1 ]
check "passive opens: $(stat direct tcp passive_opens) = 204" [ "$(stat direct tcp passive_opens)" = 204 ]
check "no connection left: established $(stat direct tcp state_ESTABLISHED)" \
	[ "$(stat direct tcp state_ESTABLISHED)" = 0 ]
check "nothing dropped for lack of mbufs: rx_nombuf $(stat direct port rx_nombuf), io $(stat direct io nombuf)" \
	[ "$(stat direct port rx_nombuf)" = 0 ] && [ "$(stat direct io nombuf)" = 0 ]
check "no checksum errors on a clean wire: $(stat direct tcp cksum_errors)" \
	[ "$(stat direct tcp cksum_errors)" = 0 ]
check "all mbufs back after the clients left: io $(awk '/^mem/ { l = $0 } END { print l }' "$tmp/direct.out")" \
	awk '/^mem/ { l = $0 } END { exit !(l ~ /streams=0 / && l ~ /io_inuse=0 /) }' "$tmp/direct.out"
del_net

# ---------------------------------------------------------------- 3
echo "== direct, 2 workers, 1 queue"
start_echo steer 2
direct_net
run_clients echo2 echo --conns 100 --min-bytes 1000 --max-bytes 100000 --seed 21 --timeout 60
check "100 echo clients over 2 workers: $(summary echo2)" grep -q '^SUMMARY ok=100 failed=0' "$tmp/echo2"
telemetry /shardgate/tcp >"$tmp/tel_tcp"
telemetry /shardgate/port >"$tmp/tel_port"
tel() { "$py" -c "import json,sys; d=json.load(open(sys.argv[1])); print(d.get(sys.argv[2], -1))" "$@"; }
check "/shardgate/tcp: 2 stacks, $(tel "$tmp/tel_tcp" passive_opens) passive opens" \
	[ "$(tel "$tmp/tel_tcp" stacks)" = 2 ] && [ "$(tel "$tmp/tel_tcp" passive_opens)" = 100 ]
check "/shardgate/tcp: software-steered packets $(tel "$tmp/tel_tcp" steered_packets) > 0" \
	[ "$(tel "$tmp/tel_tcp" steered_packets)" -gt 0 ]
check "/shardgate/port: rx_nombuf $(tel "$tmp/tel_port" rx_nombuf), ipackets $(tel "$tmp/tel_port" ipackets)" \
	[ "$(tel "$tmp/tel_port" rx_nombuf)" = 0 ] && [ "$(tel "$tmp/tel_port" ipackets)" -gt 1000 ]
stop_echo steer
check "both workers accepted: $(stat steer worker0 accepted) + $(stat steer worker1 accepted)" \
	[ "$(stat steer worker0 accepted)" -gt 0 ] && [ "$(stat steer worker1 accepted)" -gt 0 ]
check "server received what each client sent: $("$py" "$clients" match "$tmp/steer.out" "$tmp/echo2" | tail -1)" \
	"$py" "$clients" match "$tmp/steer.out" "$tmp/echo2"
del_net

# ---------------------------------------------------------------- 4
echo "== faulty link (userspace relay, both directions)"
start_echo faults 1 --rto-max 1000 --data-retries 6
relay_net
set_profile "loss=0.01 delay_ms=3 jitter_ms=1 reorder=0.05 dup=0.01 corrupt=0.005"
run_clients loss1 echo --conns 50 --min-bytes 1 --max-bytes 524288 --seed 31 --timeout 120
check "1% loss, reorder, dup, corrupt, delay: $(summary loss1)" grep -q "^SUMMARY ok=50 failed=0" "$tmp/loss1"
set_profile "loss=0.05 delay_ms=3 jitter_ms=2 reorder=0.05 dup=0.02 corrupt=0.01"
run_clients loss5 echo --conns 30 --min-bytes 1 --max-bytes 262144 --seed 32 --timeout 120
check "5% loss, reorder, dup, corrupt, delay: $(summary loss5)" grep -q "^SUMMARY ok=30 failed=0" "$tmp/loss5"

# black hole: two streaming clients, then nothing passes
set_profile ""
ip netns exec "$nsc" "$py" "$clients" stream --host 198.18.0.2 --port $PORT \
	--conns 2 --seconds 60 --chunk-max 8192 --seed 33 --timeout 75 >"$tmp/hole" 2>&1 &
cpid=$!
bg_pids+=("$cpid")
sleep 2
set_profile "loss=1"
t0=$(date +%s%N)
gone=0
for _ in $(seq 300); do
	gone=$(grep -c 'status=-110$' "$tmp/faults.out")
	[ "$gone" -ge 2 ] && break
	sleep 0.1
done
t1=$(date +%s%N)
secs=$(( (t1 - t0) / 1000000000 ))
# RTO 200 ms doubling to the 1 s cap, 6 retries: about 5 s
check "black hole: the stack gave up both connections (-ETIMEDOUT) in ${secs} s <= 15 s" \
	[ "$gone" -ge 2 ] && [ "$secs" -le 15 ]
set_profile ""
wait "$cpid"
resets=$(grep -c 'err=ECONNRESET' "$tmp/hole")
check "healed wire: both kernel clients got a RST (ECONNRESET): $resets, after $(awk '/^client/ { sub("t=", "", $9); print $9 "s" }' "$tmp/hole" | tr '\n' ' ')" \
	[ "$resets" = 2 ]
stop_pid "$relay_pid"
relay_pid=""
stop_echo faults
[ "$link" = relay ] && grep '^relay' "$tmp/relay.out" | tail -1
for f in loss1 loss5; do
	check "server received what each $f client sent: $("$py" "$clients" match "$tmp/faults.out" "$tmp/$f" | tail -1)" \
		"$py" "$clients" match "$tmp/faults.out" "$tmp/$f"
done
if [ "$link" = relay ]; then
	rcorrupt=$(sed -n 's/.*corrupt=\([0-9]*\).*/\1/p' "$tmp/relay.out" | tail -1)
else
	rcorrupt=1	# netem keeps no count we can read after the fact
fi
bad=$(( $(stat faults tcp cksum_errors) + $(stat faults net drop_ip_cksum) + $(stat faults net drop_ip_len) + \
	$(stat faults net drop_eth_dst) + $(stat faults net drop_ip_not_ours) + $(stat faults tcp bad_segments) ))
echo "tcp: retransmits $(stat faults tcp retransmits), fast $(stat faults tcp fast_retransmits)," \
	"rto $(stat faults tcp rto_expiries), ooo $(stat faults tcp ooo_segments)," \
	"dup $(stat faults tcp dup_segments), cksum $(stat faults tcp cksum_errors), timeouts $(stat faults tcp timeouts)"
check "retransmissions, fast and by RTO" \
	[ "$(stat faults tcp fast_retransmits)" -gt 0 ] && [ "$(stat faults tcp rto_expiries)" -gt 0 ]
check "out-of-order segments queued: $(stat faults tcp ooo_segments)" [ "$(stat faults tcp ooo_segments)" -gt 0 ]
check "duplicates recognised: $(stat faults tcp dup_segments)" [ "$(stat faults tcp dup_segments)" -gt 0 ]
check "corrupted frames refused ($bad counted of ${rcorrupt:-0} corrupted on the wire)" \
	[ "${rcorrupt:-0}" -gt 0 ] && [ "$bad" -gt 0 ]
check "the black hole's connections timed out: $(stat faults tcp timeouts)" [ "$(stat faults tcp timeouts)" -ge 2 ]
del_net

if [ "$fails" -ne 0 ]; then
	for f in direct steer faults; do
		[ -f "$tmp/$f.err" ] && { echo "--- $f stderr"; tail -5 "$tmp/$f.err"; }
	done
	for f in echo1 stall echo2 loss1 loss5 hole; do
		[ -f "$tmp/$f" ] && { echo "--- $f"; grep -v 'ok=1' "$tmp/$f" | head -5; }
	done
	exit 1
fi
echo "all checks passed"
exit 0

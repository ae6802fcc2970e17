#!/usr/bin/env bash
# lib/net end to end on a TAP port (DESIGN.md 10).
#
#   net_tap_test.sh NET_TEST_BINARY [WORKERS]
#
# Starts net_test on --vdev=net_tap0,iface=sgntPID with one queue and
# WORKERS workers (with 2, worker 0 receives everything and steers), moves
# the TAP into a namespace created here (198.18.0.1/24 there, 198.18.0.2
# on the DPDK side), then checks from inside the namespace:
#   - the gratuitous ARP put our MAC in the neighbour table before any
#     traffic;
#   - ping -c 20 gets 20 replies (ARP both ways, ICMP echo);
#   - ping -s 4000 -c 5 gets 5 replies: the fragmented requests are
#     reassembled and answered with fragmented replies (asserted in the
#     counters: frag_rx, frag_reassembled, frag_tx);
#   - the TCP probe from the last worker got the peer's RST back on that
#     worker (with 2 workers: steered in software, sent through worker 0);
#   - the counters agree with what ping saw and with the device's own.
# Exit 0 pass, 1 fail, 77 skipped (not root, no TUN, no ping). The
# namespace and the process are removed on every path.
set -u

bin=${1:?usage: net_tap_test.sh NET_TEST_BINARY [WORKERS]}
workers=${2:-2}

if [ "$(id -u)" != 0 ]; then
	echo "skip: needs root (TAP device, network namespace)"
	exit 77
fi
for t in ip ping; do
	command -v "$t" >/dev/null || { echo "skip: no $t"; exit 77; }
done
[ -c /dev/net/tun ] || { echo "skip: no /dev/net/tun"; exit 77; }

ns=sgnet-$$
iface=sgnt$$
tmp=$(mktemp -d)
pid=""

cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null
		for _ in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
	ip netns del "$ns" 2>/dev/null
	ip link del "$iface" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fails=0
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

# lcore 0 is the main thread; workers spread over the CPUs we have.
ncpu=$(nproc)
lcores="0@0"
for i in $(seq 1 "$workers"); do
	lcores="$lcores,$i@$(( i % ncpu ))"
done

"$bin" --no-huge -m 512 --no-pci --file-prefix="sgnt$$" --lcores="$lcores" \
	--vdev="net_tap0,iface=$iface" --log-level=4 -- \
	--port net_tap0 --workers "$workers" --queues 1 \
	--ip 198.18.0.2/24 --peer 198.18.0.1 --seconds 120 \
	>"$tmp/out" 2>"$tmp/err" &
pid=$!

for _ in $(seq 300); do
	grep -q '^READY' "$tmp/out" && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
if ! grep -q '^READY' "$tmp/out"; then
	echo "FAIL net_test did not start"
	tail -20 "$tmp/err"
	exit 1
fi
mac=$(sed -n 's/^READY mac=\([0-9a-fA-F:]*\).*/\1/p' "$tmp/out" | tr 'A-F' 'a-f')
echo "net_test pid $pid: $(grep '^READY' "$tmp/out")"

ip netns add "$ns" || exit 1
ip link set "$iface" netns "$ns" || exit 1
ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.arp_accept=1
ip netns exec "$ns" sysctl -qw "net.ipv4.conf.$iface.arp_accept=1"
ip -n "$ns" addr add 198.18.0.1/24 dev "$iface" || exit 1
ip -n "$ns" link set lo up
ip -n "$ns" link set "$iface" up || exit 1
kill -USR1 "$pid"

# The gratuitous ARPs (worker 0's first poll, then one a second) must put
# our MAC in the table: net_test sends nothing else before SIGUSR2.
garp_seen() {
	for _ in $(seq 20); do
		ip -n "$ns" neigh show 198.18.0.2 dev "$iface" | grep -qi "lladdr $mac" &&
			return 0
		sleep 0.1
	done
	return 1
}
check "gratuitous ARP learnt by the namespace ($mac)" garp_seen

# Now our side resolves the peer (ARP request out, reply in) and sends the
# TCP probe. Then the namespace forgets us, so its first ping must ask
# (ARP request in, reply out).
kill -USR2 "$pid"
sleep 1
ip -n "$ns" neigh flush dev "$iface"

ip netns exec "$ns" ping -n -c 20 -i 0.2 -W 2 198.18.0.2 >"$tmp/ping1" 2>&1
ip netns exec "$ns" ping -n -c 5 -i 0.3 -W 2 -s 4000 198.18.0.2 >"$tmp/ping2" 2>&1
got1=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$tmp/ping1")
got2=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$tmp/ping2")
echo "ping:       $(tail -1 "$tmp/ping1")"
echo "ping -s 4000: $(tail -1 "$tmp/ping2")"
check "ping -c 20: ${got1:-0} replies" [ "${got1:-0}" = 20 ]
check "ping -s 4000 -c 5: ${got2:-0} replies" [ "${got2:-0}" = 5 ]

last=$((workers - 1))

kill -TERM "$pid"
wait "$pid"
rc=$?
pid=""
check "net_test exited cleanly" [ "$rc" = 0 ]

stat() { awk -v k="$1" '$1 == "stat" && $2 == k { print $3 }' "$tmp/out"; }
pstat() { awk -v k="$1" '$1 == "port" && $2 == k { print $3 }' "$tmp/out"; }
wstat() { awk -v w="$1" -v k="$2" '$1 == "wstat" && $2 == w && $3 == k { v = $4 } END { print v + 0 }' "$tmp/out"; }
rst=$(awk -v w="$last" '$1 == "rst" && $2 == w { print $3 }' "$tmp/out")

check "echo requests counted: $(stat icmp_echo_rx) = 25" [ "$(stat icmp_echo_rx)" = 25 ]
check "echo replies counted: $(stat icmp_echo_tx) = 25" [ "$(stat icmp_echo_tx)" = 25 ]
check "fragments in: $(stat frag_rx) = 15" [ "$(stat frag_rx)" = 15 ]
check "datagrams reassembled: $(stat frag_reassembled) = 5" [ "$(stat frag_reassembled)" = 5 ]
check "fragments out: $(stat frag_tx) = 15" [ "$(stat frag_tx)" = 15 ]
check "no fragment dropped" [ "$(stat drop_frag)" = 0 ] && [ "$(stat drop_frag_bad)" = 0 ]
check "gratuitous ARPs sent: $(stat arp_tx_gratuitous)" [ "$(stat arp_tx_gratuitous)" -ge 1 ]
check "ARP both ways: req in $(stat arp_rx_request), reply out $(stat arp_tx_reply), req out $(stat arp_tx_request), reply in $(stat arp_rx_reply)" \
	[ "$(stat arp_rx_request)" -ge 1 ] && [ "$(stat arp_tx_reply)" -ge 1 ] &&
	[ "$(stat arp_tx_request)" -ge 1 ] && [ "$(stat arp_rx_reply)" -ge 1 ]
check "TCP probe's RST reached worker $last: $rst" [ "${rst:-0}" -ge 1 ]
check "device RX frames = ours: $(pstat ipackets) = $(stat rx_pkts)" [ "$(pstat ipackets)" = "$(stat rx_pkts)" ]
check "device TX frames = ours: $(pstat opackets) = $(stat tx_pkts)" [ "$(pstat opackets)" = "$(stat tx_pkts)" ]
check "nothing lost in rings or TX" [ "$(stat drop_ring_full)" = 0 ] && [ "$(stat drop_tx_full)" = 0 ] &&
	[ "$(stat drop_no_mbuf)" = 0 ] && [ "$(pstat rx_nombuf)" = 0 ]
if [ "$workers" -ge 2 ]; then
	check "steered in software: out $(stat steer_out) = in $(stat steer_in) > 0" \
		[ "$(stat steer_out)" -gt 0 ] && [ "$(stat steer_out)" = "$(stat steer_in)" ]
	check "worker $last got ARP copies: $(wstat "$last" arp_rx_copy)" [ "$(wstat "$last" arp_rx_copy)" -ge 1 ]
	check "worker $last received its RST by steering: $(wstat "$last" tcp_rx)" \
		[ "$(wstat "$last" steer_in)" -ge "$(wstat "$last" tcp_rx)" ] && [ "$(wstat "$last" tcp_rx)" -ge 1 ]
	check "worker $last sent through worker 0: $(wstat "$last" steer_tx)" [ "$(wstat "$last" steer_tx)" -ge 2 ]
	check "worker $last has no queue: rx $(wstat "$last" rx_pkts)" [ "$(wstat "$last" rx_pkts)" = 0 ]
fi

if [ "$fails" -ne 0 ]; then
	echo "--- net_test stderr"; tail -20 "$tmp/err"
	echo "--- counters"; grep -v ' 0$' "$tmp/out" | grep '^stat\|^port\|^rst\|^probes'
	exit 1
fi
echo "all checks passed"
exit 0

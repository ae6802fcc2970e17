#!/usr/bin/env bash
# shardgate itself in DPDK mode (config/dpdk-tap.yaml, two workers): the
# proxy engine on lib/io's DPDK transport, unchanged.
#
#   proxy_tap_test.sh SHARDGATE_BINARY
#
# A namespace created here holds the TAP's kernel side (198.18.0.1/24)
# and a 3-primary Redis Cluster of real redis-server processes bound to
# 198.18.0.1:7000-7002; shardgate (198.18.0.2) reaches them through its
# own TCP: the backend connections are active opens whose local ports
# each worker picks so the replies come back to it (steered in software:
# the TAP has one queue). From the namespace, redis-cli and
# redis-benchmark talk to shardgate:
#   - SET/GET, a cross-slot MSET/MGET (split and merged by the proxy);
#   - redis-benchmark SET/GET, 50 clients, 20 000 requests, no errors;
#   - /shardgate/tcp, /shardgate/port and /shardgate/workers answer over
#     the telemetry socket (per worker: requests, cycles, frames, steering);
#   - SIGTERM stops it cleanly.
# Exit 0 pass, 1 fail, 77 skipped (not root, no TUN, no redis).
set -u

bin=${1:?usage: proxy_tap_test.sh SHARDGATE_BINARY}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
py=/usr/bin/python3

if [ "$(id -u)" != 0 ]; then
	echo "skip: needs root"
	exit 77
fi
for t in ip redis-server redis-cli redis-benchmark; do
	command -v "$t" >/dev/null || { echo "skip: no $t"; exit 77; }
done
[ -c /dev/net/tun ] || { echo "skip: no /dev/net/tun"; exit 77; }

tag=$$
ns=sgpx-$tag
tap=sgpx$tag
tmp=$(mktemp -d)
pid=""
rpids=()
fails=0

cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid"
		for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null
	fi
	for p in "${rpids[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${rpids[@]}"; do wait "$p" 2>/dev/null; done
	ip netns del "$ns" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

check() {
	local what=$1
	shift
	if "$@"; then
		echo "ok   $what"
	else
		echo "FAIL $what"
		fails=$((fails + 1))
	fi
}

in_ns() { ip netns exec "$ns" "$@"; }

# shardgate on config/dpdk-tap.yaml, with its own TAP name, file prefix
# and two workers
sed -e "s/iface=sgtap0/iface=$tap/" -e "s/^  workers: 1/  workers: 2/" -e "s/^  memory: 256mb/  memory: 512mb/" \
	-e "s/^  lcores: \[1\]/  lcores: [1, 2]\n  file_prefix: sgpx$tag/" \
	"$root/config/dpdk-tap.yaml" >"$tmp/sg.yaml"
"$bin" --config "$tmp/sg.yaml" >"$tmp/out" 2>"$tmp/err" &
pid=$!
for _ in $(seq 100); do
	grep -q 'listening on' "$tmp/out" && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
if ! grep -q 'listening on' "$tmp/out"; then
	echo "FAIL shardgate did not start"; cat "$tmp/out" "$tmp/err" | tail -20
	exit 1
fi
grep -E '^shardgate' "$tmp/out"
ip netns add "$ns" || exit 1
in_ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1
ip -n "$ns" link set lo up
ip link set "$tap" netns "$ns" || exit 1
ip -n "$ns" addr add 198.18.0.1/24 dev "$tap"
ip -n "$ns" link set "$tap" up

# the cluster, on the namespace side of the TAP (shardgate retries its
# topology refresh until it answers)
for port in 7000 7001 7002; do
	mkdir -p "$tmp/$port"
	# `ip netns exec` directly, not the in_ns function: a function in the
	# background is a subshell, and $! would be that shell, not redis
	ip netns exec "$ns" redis-server --port $port --bind 198.18.0.1 --cluster-enabled yes \
		--cluster-config-file "$tmp/$port/nodes.conf" --cluster-node-timeout 2000 \
		--save "" --appendonly no --dir "$tmp/$port" --daemonize no --protected-mode no \
		>"$tmp/$port/log" 2>&1 &
	rpids+=($!)
done
for port in 7000 7001 7002; do
	for _ in $(seq 50); do
		in_ns redis-cli -h 198.18.0.1 -p $port ping 2>/dev/null | grep -q PONG && break
		sleep 0.1
	done
done
in_ns redis-cli --cluster create 198.18.0.1:7000 198.18.0.1:7001 198.18.0.1:7002 \
	--cluster-yes >"$tmp/create" 2>&1 || { echo "FAIL cluster create"; cat "$tmp/create"; exit 1; }
for _ in $(seq 100); do
	in_ns redis-cli -h 198.18.0.1 -p 7000 cluster info | grep -q 'cluster_state:ok' && break
	sleep 0.1
done
check "cluster of 3 primaries in the namespace" \
	sh -c "ip netns exec $ns redis-cli -h 198.18.0.1 -p 7000 cluster info | grep -q cluster_state:ok"


# the first topology refresh happens once the wire is up
ok=""
for _ in $(seq 100); do
	if [ "$(in_ns redis-cli -h 198.18.0.2 -p 6379 set sg:k1 hello 2>/dev/null)" = OK ]; then
		ok=1
		break
	fi
	sleep 0.2
done
check "SET through shardgate's TCP" [ -n "$ok" ]
check "GET returns it" [ "$(in_ns redis-cli -h 198.18.0.2 -p 6379 get sg:k1)" = hello ]
check "the key lives in the cluster" \
	[ "$(in_ns redis-cli -c -h 198.18.0.1 -p 7000 get sg:k1)" = hello ]
in_ns redis-cli -h 198.18.0.2 -p 6379 mset a 1 b 2 c 3 d 4 e 5 >"$tmp/mset"
check "cross-slot MSET (split by the proxy): $(cat "$tmp/mset")" grep -q OK "$tmp/mset"
check "cross-slot MGET merged in order" \
	[ "$(in_ns redis-cli -h 198.18.0.2 -p 6379 mget a b c d e | tr '\n' ' ')" = "1 2 3 4 5 " ]
in_ns timeout 60 redis-benchmark -h 198.18.0.2 -p 6379 -t set,get -n 20000 -c 50 -r 10000 \
	-q >"$tmp/bench" 2>&1
tr '\r' '\n' <"$tmp/bench" | grep -E 'requests per second' >"$tmp/bench.rps"
cat "$tmp/bench.rps"
check "redis-benchmark SET and GET completed" [ "$(wc -l <"$tmp/bench.rps")" = 2 ]
check "no errors in redis-benchmark" sh -c "! grep -qi err $tmp/bench"
check "keys spread over the 3 primaries" sh -c "for p in 7000 7001 7002; do
	[ \$(ip netns exec $ns redis-cli -h 198.18.0.1 -p \$p dbsize) -gt 100 ] || exit 1; done"

tel=$("$py" "$here/io_clients.py" telemetry "/var/run/dpdk/sgpx$tag/dpdk_telemetry.v2" /shardgate/tcp)
check "/shardgate/tcp: 2 stacks, active opens (backends) and passive (clients)" \
	"$py" -c "import json,sys; d=json.loads(sys.argv[1]); sys.exit(not (d['stacks'] == 2 and d['active_opens'] >= 6 and d['passive_opens'] >= 50 and d['conns_by_state']['ESTABLISHED'] >= 6))" "$tel"
tel=$("$py" "$here/io_clients.py" telemetry "/var/run/dpdk/sgpx$tag/dpdk_telemetry.v2" /shardgate/port)
check "/shardgate/port: frames both ways, none refused for mbufs" \
	"$py" -c "import json,sys; d=json.loads(sys.argv[1]); sys.exit(not (d['ipackets'] > 1000 and d['opackets'] > 1000 and d['rx_nombuf'] == 0 and d['drop_no_mbuf'] == 0))" "$tel"
tel=$("$py" "$here/io_clients.py" telemetry "/var/run/dpdk/sgpx$tag/dpdk_telemetry.v2" /shardgate/workers)
echo "/shardgate/workers: $tel"
check "/shardgate/workers: both workers served requests, frames counted, packets steered between them" \
	"$py" -c "import json,sys; d=json.loads(sys.argv[1]); w=[d['0'], d['1']]; sys.exit(not (
		all(x['requests'] > 1000 and 0 < x['cycles_per_request'] < x['tsc_hz'] and x['loops_busy'] > 0 for x in w)
		and sum(x['rx_packets'] for x in w) > 1000 and sum(x['tx_packets'] for x in w) > 1000
		and sum(x['steered_in'] for x in w) > 0 and sum(x['steered_out'] for x in w) > 0
		and w[0]['lcore'] != w[1]['lcore']))" "$tel"

kill -TERM "$pid"
wait "$pid"
rc=$?
pid=""
check "shardgate stopped cleanly" [ "$rc" = 0 ]
check "no sanitizer report" sh -c "! grep -q 'runtime error\|Sanitizer' '$tmp/err'"
grep -q 'shardgate: stopped' "$tmp/out" || { echo "FAIL no 'stopped'"; fails=$((fails + 1)); }

if [ "$fails" -ne 0 ]; then
	echo "--- shardgate"; tail -20 "$tmp/out" "$tmp/err"
	exit 1
fi
echo "all checks passed"
exit 0

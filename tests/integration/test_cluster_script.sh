#!/usr/bin/env bash
# scripts/cluster.sh starts a healthy 3+3 cluster, reports it, and stops
# exactly the processes it started.
set -euo pipefail
src=${SG_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
port=${SG_TEST_BASE_PORT:-7600}
dir=$(mktemp -d /tmp/sg-cluster-test.XXXXXX)
cl() { "$src/scripts/cluster.sh" --base-port "$port" --dir "$dir/run" "$@"; }
fail() { echo "FAIL: $*" >&2; cl stop >/dev/null 2>&1 || true; rm -rf "$dir"; exit 1; }

# whatever happens below, nothing this test started outlives it
trap 'cl stop >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
cl start
for i in 0 1 2 3 4 5; do
	redis-cli -p $((port + i)) cluster info | grep -q cluster_state:ok || fail "node $((port + i)) not ok"
done
[ "$(redis-cli -p $port cluster info | sed -n 's/^cluster_slots_assigned:\([0-9]*\).*/\1/p')" = 16384 ] ||
	fail "not all 16384 slots assigned"
[ "$(redis-cli -p $port cluster nodes | grep -c master)" = 3 ] || fail "expected 3 primaries"
[ "$(redis-cli -p $port cluster nodes | grep -c slave)" = 3 ] || fail "expected 3 replicas"
redis-cli -c -p $port set sg-test-key hello >/dev/null
[ "$(redis-cli -c -p $((port + 1)) get sg-test-key)" = hello ] || fail "cluster does not serve data"
cl status | grep -q 'cluster_state:ok' || fail "status does not report ok"

# Persistence is off.
[ "$(redis-cli -p $port config get appendonly | tail -1)" = no ] || fail "AOF is on"
[ -z "$(redis-cli -p $port config get save | tail -1)" ] || fail "RDB snapshots are on"

# A second start on the same ports is refused, not doubled.
if cl start >/dev/null 2>&1; then fail "second start succeeded"; fi

# kill-node is a SIGKILL; restart-node brings the node back with its ID.
id=$(redis-cli -p $((port + 5)) cluster myid)
cl kill-node $((port + 5)) >/dev/null
if redis-cli -p $((port + 5)) ping >/dev/null 2>&1; then fail "killed node still answers"; fi
cl restart-node $((port + 5)) >/dev/null
[ "$(redis-cli -p $((port + 5)) cluster myid)" = "$id" ] || fail "restarted node has a new ID"

pids=$(cat "$dir"/run/*.pid)
[ "$(echo "$pids" | wc -w)" = 6 ] || fail "expected 6 recorded PIDs"
cl stop
for pid in $pids; do
	# gone, or a zombie that init has not reaped yet
	state=$(sed 's/^.*) //' /proc/$pid/stat 2>/dev/null | cut -c1) || true
	[ -z "$state" ] || [ "$state" = Z ] || fail "process $pid left behind"
done
for i in 0 1 2 3 4 5; do
	if redis-cli -p $((port + i)) ping >/dev/null 2>&1; then fail "port $((port + i)) still answers"; fi
done
[ ! -d "$dir/run" ] || fail "run directory left behind"
rm -rf "$dir"
echo "PASS: cluster.sh start/status/stop"

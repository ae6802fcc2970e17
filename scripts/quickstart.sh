#!/usr/bin/env bash
# Quickstart on Debian bookworm as root: installs the dependencies, builds
# shardgate, starts a local 3+3 Redis Cluster on 127.0.0.1:7000-7005, runs
# shardgate in front of it (kernel mode, config/local.yaml, port 6380),
# puts a short redis-benchmark load through it and shows the figures.
#
#   scripts/quickstart.sh          set up, start, show
#   scripts/quickstart.sh stop     stop what the quickstart started
#
# shardgate keeps running after this script ends; its log and PID are in
# /tmp/shardgate-quickstart/.
set -euo pipefail
cd "$(dirname "$0")/.."

run=/tmp/shardgate-quickstart
port=6380
exe=build/app/shardgate/shardgate

proxy_pid() {
	local pid
	pid=$(cat "$run/shardgate.pid" 2>/dev/null) || return 1
	[ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q 'shardgate --config' || return 1
	echo "$pid"
}

if [ "${1:-}" = stop ]; then
	if pid=$(proxy_pid); then
		kill -TERM "$pid"
		for _ in $(seq 1 100); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
		echo "shardgate stopped"
	fi
	rm -f "$run/shardgate.pid"
	scripts/cluster.sh stop
	exit 0
fi

echo "== installing dependencies"
scripts/install-deps.sh
echo "== building"
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null
echo "== starting the local cluster"
if scripts/cluster.sh status >/dev/null 2>&1; then
	echo "local cluster already running"
else
	scripts/cluster.sh start
fi
echo "== starting shardgate (config/local.yaml)"
mkdir -p "$run"
if pid=$(proxy_pid); then
	echo "shardgate already running (pid $pid)"
else
	"$exe" --config config/local.yaml --check >/dev/null
	setsid "$exe" --config config/local.yaml >"$run/shardgate.log" 2>&1 < /dev/null &
	echo $! > "$run/shardgate.pid"
	for _ in $(seq 1 100); do
		redis-cli -p $port ping 2>/dev/null | grep -q PONG && break
		sleep 0.1
	done
	redis-cli -p $port ping | grep -q PONG || { cat "$run/shardgate.log"; exit 1; }
	head -5 "$run/shardgate.log"
fi

echo "== a short load through shardgate: redis-benchmark GET/SET, 100-byte values, 50 clients"
redis-benchmark -p $port -t set,get -n 100000 -c 50 -d 100 -P 16 -q 2>&1 | tr '\r' '\n' | grep -E 'requests per second'
redis-benchmark -p $port -t set,get -n 20000 -c 50 -d 100 -q 2>&1 | tr '\r' '\n' | grep -E 'requests per second'

echo "== shardgate's own figures (INFO; the same numbers are in the DPDK telemetry socket)"
redis-cli -p $port info latency | grep -E '^latency_|^hold'
redis-cli -p $port info shardgate | grep -E '^(commands|commands_forwarded|clients_accepted|backend_conns|backend_requests|errors_[a-z_]*|topology_refreshes):'
redis-cli -p $port info cluster | grep -E '^topology_'
prefix=$(sed -n 's/.*dpdk-telemetry.py -f \([^ ]*\).*/\1/p' "$run/shardgate.log" | head -1)

cat <<MSG

shardgate runs on 127.0.0.1:$port in front of the cluster on 127.0.0.1:7000-7005.
  plain client:    redis-cli -p $port
  cluster client:  redis-cli -c -p $port    (shardgate presents itself as one node owning all slots)
  telemetry:       echo /shardgate/stats | dpdk-telemetry.py -f $prefix
  log:             $run/shardgate.log
  stop everything: scripts/quickstart.sh stop
MSG

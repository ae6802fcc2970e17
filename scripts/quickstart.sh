#!/usr/bin/env bash
# Quickstart on Debian bookworm as root: installs the dependencies, builds
# shardgate, starts a 3+3 Redis Cluster, runs shardgate in front of it,
# puts a short redis-benchmark load through it and shows the figures.
#
#   scripts/quickstart.sh              kernel mode: the cluster on
#                                      127.0.0.1:7000-7005, shardgate on
#                                      127.0.0.1:6380 (config/local.yaml)
#   scripts/quickstart.sh --dpdk       DPDK mode on the test network of
#                                      scripts/dpdk-testnet.sh: namespace
#                                      sgnet, the cluster on
#                                      198.18.0.1:7000-7005, shardgate's own
#                                      TCP/IP stack on a veth end (DPDK's
#                                      af_packet PMD) as 198.18.0.2:6379
#                                      (config/dpdk-testnet.yaml)
#   scripts/quickstart.sh stop         stops what either quickstart started
#   scripts/quickstart.sh --dpdk stop  stops the DPDK one only
#
# shardgate keeps running after this script ends; its log and PID are in
# /tmp/shardgate-quickstart/ (kernel) and /tmp/shardgate-quickstart-dpdk/.
# In DPDK mode the worker polls its port (lcore 1), sleeping a little
# longer each time it finds nothing to do.
set -euo pipefail
cd "$(dirname "$0")/.."

exe=build/app/shardgate/shardgate
mode=kernel
action=start

die() { echo "quickstart.sh: $*" >&2; exit 1; }

for a in "$@"; do
	case "$a" in
	--dpdk) mode=dpdk ;;
	stop) action=stop ;;
	-h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown argument $a (--dpdk, stop)" ;;
	esac
done

# proxy_pid RUN_DIR: the PID recorded there, if it still runs shardgate
proxy_pid() {
	local pid
	pid=$(cat "$1/shardgate.pid" 2>/dev/null) || return 1
	[ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q 'shardgate --config' || return 1
	echo "$pid"
}

stop_proxy() {
	local pid
	if pid=$(proxy_pid "$1"); then
		kill -TERM "$pid"
		# it lets in-flight requests finish for up to 3 s
		for _ in $(seq 1 60); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
		if [ -d "/proc/$pid" ]; then
			kill -KILL "$pid" 2>/dev/null || true
			echo "shardgate (pid $pid) did not stop on SIGTERM; killed"
		else
			echo "shardgate (pid $pid) stopped"
		fi
	fi
	rm -f "$1/shardgate.pid"
}

# ---- kernel mode -------------------------------------------------------------

krun=/tmp/shardgate-quickstart
kport=6380

kernel_stop() {
	stop_proxy "$krun"
	scripts/cluster.sh stop
}

kernel_start() {
	echo "== starting the local cluster"
	if scripts/cluster.sh status >/dev/null 2>&1; then
		echo "local cluster already running"
	else
		scripts/cluster.sh start
	fi
	echo "== starting shardgate (config/local.yaml)"
	mkdir -p "$krun"
	if pid=$(proxy_pid "$krun"); then
		echo "shardgate already running (pid $pid)"
	else
		"$exe" --config config/local.yaml --check >/dev/null
		setsid "$exe" --config config/local.yaml >"$krun/shardgate.log" 2>&1 < /dev/null &
		echo $! > "$krun/shardgate.pid"
		for _ in $(seq 1 100); do
			redis-cli -p $kport ping 2>/dev/null | grep -q PONG && break
			sleep 0.1
		done
		redis-cli -p $kport ping | grep -q PONG || { cat "$krun/shardgate.log"; exit 1; }
		head -5 "$krun/shardgate.log"
	fi

	echo "== a short load through shardgate: redis-benchmark GET/SET, 100-byte values, 50 clients"
	redis-benchmark -p $kport -t set,get -n 100000 -c 50 -d 100 -P 16 -q 2>&1 | tr '\r' '\n' | grep -E 'requests per second'
	redis-benchmark -p $kport -t set,get -n 20000 -c 50 -d 100 -q 2>&1 | tr '\r' '\n' | grep -E 'requests per second'

	echo "== shardgate's own figures (INFO; the same numbers are in the DPDK telemetry socket)"
	redis-cli -p $kport info latency | grep -E '^latency_|^hold'
	redis-cli -p $kport info shardgate | grep -E '^(commands|commands_forwarded|clients_accepted|backend_conns|backend_requests|errors_[a-z_]*|topology_refreshes):'
	redis-cli -p $kport info cluster | grep -E '^topology_'
	prefix=$(sed -n 's/.*dpdk-telemetry.py -f \([^ ]*\).*/\1/p' "$krun/shardgate.log" | head -1)

	cat <<MSG

shardgate runs on 127.0.0.1:$kport in front of the cluster on 127.0.0.1:7000-7005.
  plain client:    redis-cli -p $kport
  cluster client:  redis-cli -c -p $kport    (shardgate presents itself as one node owning all slots)
  telemetry:       echo /shardgate/stats | dpdk-telemetry.py -f $prefix
  log:             $krun/shardgate.log
  stop everything: scripts/quickstart.sh stop
MSG
}

# ---- DPDK mode ---------------------------------------------------------------

drun=/tmp/shardgate-quickstart-dpdk
dcfg=config/dpdk-testnet.yaml
net=scripts/dpdk-testnet.sh	# default namespace: sgnet
dport=6379

dpdk_stop() {
	stop_proxy "$drun"
	if [ -f "$drun/testnet_started" ]; then
		$net down
		rm -f "$drun/testnet_started"
	elif $net status >/dev/null 2>&1; then
		echo "test network sgnet left up (it was up before the quickstart; scripts/dpdk-testnet.sh down)"
	fi
}

# in_net CMD...: runs CMD on the clients' side of the test network
in_net() { $net exec "$@"; }

dpdk_start() {
	[ "$(id -u)" = 0 ] || die "--dpdk needs root (network namespaces, DPDK)"
	mkdir -p "$drun"
	echo "== the DPDK test network (namespace sgnet, veth sgdp0/sgk0, cluster on 198.18.0.1:7000-7005)"
	if $net status >/dev/null 2>&1; then
		echo "test network sgnet already up"
		in_net redis-cli -h 198.18.0.1 -p 7000 cluster info 2>/dev/null | grep -q 'cluster_state:ok' ||
			die "test network sgnet is up but has no cluster on 198.18.0.1:7000 (scripts/dpdk-testnet.sh down, then try again)"
	else
		$net up
		: > "$drun/testnet_started"
	fi
	echo "== starting shardgate in DPDK mode ($dcfg)"
	if pid=$(proxy_pid "$drun"); then
		echo "shardgate already running (pid $pid)"
	else
		"$exe" --config "$dcfg" --check >/dev/null
		# `dpdk-testnet.sh exec-proxy` execs `ip netns exec`, which execs
		# shardgate: $! is shardgate's PID
		setsid $net exec-proxy "$exe" --config "$dcfg" >"$drun/shardgate.log" 2>&1 < /dev/null &
		echo $! > "$drun/shardgate.pid"
		# EAL start, the port, ARP: a few seconds at most
		for _ in $(seq 1 150); do
			in_net redis-cli -h 198.18.0.2 -p $dport ping 2>/dev/null | grep -q PONG && break
			proxy_pid "$drun" >/dev/null || break
			sleep 0.1
		done
		in_net redis-cli -h 198.18.0.2 -p $dport ping 2>/dev/null | grep -q PONG || {
			tail -20 "$drun/shardgate.log"
			dpdk_stop
			die "shardgate in DPDK mode does not answer PING on 198.18.0.2:$dport"
		}
		grep -v '^TELEMETRY: No legacy' "$drun/shardgate.log" | head -6
	fi

	echo "== a short load through shardgate: redis-benchmark GET/SET, 100-byte values, 50 clients"
	in_net redis-benchmark -h 198.18.0.2 -p $dport -t set,get -n 100000 -c 50 -d 100 -P 16 -q 2>&1 |
		tr '\r' '\n' | grep -E 'requests per second'
	in_net redis-benchmark -h 198.18.0.2 -p $dport -t set,get -n 20000 -c 50 -d 100 -q 2>&1 |
		tr '\r' '\n' | grep -E 'requests per second'

	echo "== shardgate's own figures (INFO on the RESP port)"
	in_net redis-cli -h 198.18.0.2 -p $dport info latency | grep -E '^latency_|^hold'
	in_net redis-cli -h 198.18.0.2 -p $dport info shardgate |
		grep -E '^(commands|commands_forwarded|clients_accepted|backend_conns|backend_requests|errors_[a-z_]*|topology_refreshes):'
	prefix=$(sed -n 's/.*dpdk-telemetry.py -f \([^ ]*\).*/\1/p' "$drun/shardgate.log" | head -1)
	sock=/var/run/dpdk/$prefix/dpdk_telemetry.v2
	echo "== the worker's figures (telemetry /shardgate/workers, since start)"
	/usr/bin/python3 tests/dpdk/io_clients.py telemetry "$sock" /shardgate/workers 2>/dev/null |
		/usr/bin/python3 -c '
import json, sys
w = json.load(sys.stdin)
if not w:
    print("  n/a (no /shardgate/workers in this build)")
    sys.exit(0)
for k, v in sorted(w.items()):
    print("  worker %s (lcore %s): %d requests, %s busy cycles per request, "
          "rx %d frames, tx %d frames" % (k, v.get("lcore"), v.get("requests", 0),
          v.get("cycles_per_request", "n/a"), v.get("rx_packets", 0), v.get("tx_packets", 0)))
' 2>/dev/null || echo "  n/a (telemetry socket $sock did not answer)"

	cat <<MSG

shardgate runs in DPDK mode as 198.18.0.2:$dport (its own TCP/IP stack on sgdp0)
in front of the cluster on 198.18.0.1:7000-7005, all inside namespace sgnet.
  plain client:    scripts/dpdk-testnet.sh exec redis-cli -h 198.18.0.2 -p $dport
  cluster client:  scripts/dpdk-testnet.sh exec redis-cli -c -h 198.18.0.2 -p $dport
  telemetry:       echo /shardgate/workers | dpdk-telemetry.py -f $prefix
                   (socket $sock; also /shardgate/stats, /shardgate/port, /shardgate/tcp)
  log:             $drun/shardgate.log
  stop everything: scripts/quickstart.sh --dpdk stop    (shardgate, then the test network)
MSG
}

# ---- main ----------------------------------------------------------------------

if [ $action = stop ]; then
	if [ $mode = dpdk ]; then
		dpdk_stop
	else
		kernel_stop
		if [ "$(id -u)" = 0 ] && { proxy_pid "$drun" >/dev/null || [ -f "$drun/testnet_started" ]; }; then
			dpdk_stop
		fi
	fi
	exit 0
fi

echo "== installing dependencies"
scripts/install-deps.sh
echo "== building"
[ -f build/build.ninja ] || meson setup build >/dev/null
ninja -C build >/dev/null
if [ $mode = dpdk ]; then
	dpdk_start
else
	kernel_start
fi

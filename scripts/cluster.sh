#!/usr/bin/env bash
# Starts, stops and inspects a local Redis Cluster made of real redis-server
# processes on 127.0.0.1 (or another local address), for tests and the quickstart.
#
#   scripts/cluster.sh start     3 primaries + 3 replicas, waits for cluster_state:ok
#   scripts/cluster.sh stop      stops the processes this script started (by PID)
#   scripts/cluster.sh status    cluster info and nodes, PIDs
#   scripts/cluster.sh start-node PORT   an extra empty cluster node (scale-out tests)
#   scripts/cluster.sh stop-node PORT    stops one node this script started
#   scripts/cluster.sh kill-node PORT    SIGKILLs one node this script started
#                                        (an unplanned failure: no shutdown work)
#   scripts/cluster.sh restart-node PORT starts a node again on its port with its
#                                        own redis.conf and nodes.conf, so it keeps
#                                        its node ID and rejoins (stops it first
#                                        with SIGTERM if it still runs)
#
# Settings (environment or options before the verb):
#   --base-port N   / SG_CLUSTER_BASE_PORT   first port (default 7000)
#   --primaries N   / SG_CLUSTER_PRIMARIES   (default 3)
#   --replicas N    / SG_CLUSTER_REPLICAS    replicas per primary (default 1)
#   --dir DIR       / SG_CLUSTER_DIR         run directory (default /tmp/shardgate-cluster-<base-port>)
#   --node-timeout MS / SG_CLUSTER_NODE_TIMEOUT  cluster-node-timeout (default 2000)
#   --host ADDR     / SG_CLUSTER_HOST        address the nodes bind and announce
#                                            (default 127.0.0.1; scripts/dpdk-testnet.sh
#                                            uses 198.18.0.1 inside its namespace)
#
# No persistence: no RDB, no AOF. Each node's PID is recorded in
# DIR/PORT.pid; stop only signals PIDs recorded there that still run
# redis-server on that port.
set -euo pipefail

base_port=${SG_CLUSTER_BASE_PORT:-7000}
primaries=${SG_CLUSTER_PRIMARIES:-3}
replicas=${SG_CLUSTER_REPLICAS:-1}
run_dir=${SG_CLUSTER_DIR:-}
node_timeout=${SG_CLUSTER_NODE_TIMEOUT:-2000}
host=${SG_CLUSTER_HOST:-127.0.0.1}

die() { echo "cluster.sh: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
	case "$1" in
	--base-port) base_port=$2; shift 2 ;;
	--primaries) primaries=$2; shift 2 ;;
	--replicas) replicas=$2; shift 2 ;;
	--dir) run_dir=$2; shift 2 ;;
	--node-timeout) node_timeout=$2; shift 2 ;;
	--host) host=$2; shift 2 ;;
	-h|--help) sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) die "unknown option $1" ;;
	*) break ;;
	esac
done
[ $# -ge 1 ] || die "usage: cluster.sh [options] start|stop|status|start-node PORT|stop-node PORT|kill-node PORT|restart-node PORT"
verb=$1; shift
run_dir=${run_dir:-/tmp/shardgate-cluster-$base_port}
nodes=$(( primaries * (1 + replicas) ))

command -v redis-server >/dev/null || die "redis-server not found (run scripts/install-deps.sh)"
command -v redis-cli >/dev/null || die "redis-cli not found (run scripts/install-deps.sh)"

# pid_of PORT: the recorded PID if it is still a redis-server for PORT.
pid_of() {
	local port=$1 f="$run_dir/$1.pid" pid
	[ -f "$f" ] || return 1
	pid=$(cat "$f" 2>/dev/null) || return 1
	[ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
	tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q "redis-server.*:$port" || return 1
	echo "$pid"
}

start_node() {
	local port=$1 pid
	if pid=$(pid_of "$port"); then
		die "a node this script started already runs on port $port (pid $pid)"
	fi
	if redis-cli -h "$host" -p "$port" ping >/dev/null 2>&1; then
		die "port $port is already in use by a process this script did not start"
	fi
	mkdir -p "$run_dir/$port"
	rm -f "$run_dir/$port/nodes.conf"
	cat > "$run_dir/$port/redis.conf" <<CONF
port $port
bind $host
cluster-announce-ip $host
protected-mode no
daemonize yes
pidfile $run_dir/$port.pid
logfile $run_dir/$port/redis.log
dir $run_dir/$port
cluster-enabled yes
cluster-config-file nodes.conf
cluster-node-timeout $node_timeout
cluster-require-full-coverage no
cluster-allow-replica-migration no
save ""
appendonly no
repl-diskless-sync-delay 0
shutdown-on-sigterm nosave now
CONF
	redis-server "$run_dir/$port/redis.conf"
	for _ in $(seq 1 100); do
		if redis-cli -h "$host" -p "$port" ping 2>/dev/null | grep -q PONG; then
			pid_of "$port" >/dev/null && return 0
		fi
		sleep 0.05
	done
	die "node on port $port did not start; see $run_dir/$port/redis.log"
}

# running PID: true while the process exists and is not a zombie (a
# daemonized redis-server is reaped by init, which may take seconds).
running() {
	local state
	state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null) || return 1
	[ -n "$state" ] && [ "$state" != Z ]
}

stop_node() {
	local port=$1 pid
	pid=$(pid_of "$port") || { rm -f "$run_dir/$port.pid"; return 0; }
	kill "$pid" 2>/dev/null || true
	for _ in $(seq 1 100); do
		running "$pid" || break
		sleep 0.05
	done
	if running "$pid"; then
		kill -9 "$pid" 2>/dev/null || true
		sleep 0.1
	fi
	rm -f "$run_dir/$port.pid"
}

# kill_node PORT: SIGKILL, as a crash or an OOM kill would.
kill_node() {
	local port=$1 pid
	pid=$(pid_of "$port") || die "no node this script started runs on port $port"
	kill -9 "$pid"
	for _ in $(seq 1 100); do
		running "$pid" || break
		sleep 0.02
	done
	rm -f "$run_dir/$port.pid"
}

# restart_node PORT: same port, same config, same nodes.conf (node ID,
# epochs, what it knew of the cluster), unlike start_node, which makes a
# new empty node. With no persistence the node comes back without data.
restart_node() {
	local port=$1 pid
	[ -f "$run_dir/$port/redis.conf" ] || die "no node was ever started on port $port"
	if pid=$(pid_of "$port"); then
		# as stop_node, but done once the process has exited: the port is
		# free then, even if init has not reaped it yet
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 1 200); do
			running "$pid" || break
			sleep 0.02
		done
		if running "$pid"; then
			kill -9 "$pid" 2>/dev/null || true
			sleep 0.1
		fi
		rm -f "$run_dir/$port.pid"
	fi
	if redis-cli -h "$host" -p "$port" ping >/dev/null 2>&1; then
		die "port $port is in use by a process this script did not start"
	fi
	redis-server "$run_dir/$port/redis.conf"
	for _ in $(seq 1 200); do
		if redis-cli -h "$host" -p "$port" ping 2>/dev/null | grep -q -e PONG -e LOADING; then
			pid_of "$port" >/dev/null && return 0
		fi
		sleep 0.05
	done
	die "node on port $port did not restart; see $run_dir/$port/redis.log"
}

wait_ok() {
	local deadline=$(( $(date +%s) + 60 )) port ok
	while [ "$(date +%s)" -lt "$deadline" ]; do
		ok=1
		for i in $(seq 0 $((nodes - 1))); do
			port=$((base_port + i))
			redis-cli -h "$host" -p "$port" cluster info 2>/dev/null | grep -q 'cluster_state:ok' || { ok=0; break; }
		done
		if [ $ok = 1 ]; then
			# every replica has finished its first sync
			for i in $(seq 0 $((nodes - 1))); do
				port=$((base_port + i))
				if redis-cli -h "$host" -p "$port" info replication | grep -q '^role:slave'; then
					redis-cli -h "$host" -p "$port" info replication | grep -q 'master_link_status:up' || { ok=0; break; }
				fi
			done
		fi
		if [ $ok = 1 ]; then
			# and every node's view agrees on the roles (gossip can lag
			# behind the replicas' own state)
			for i in $(seq 0 $((nodes - 1))); do
				port=$((base_port + i))
				[ "$(redis-cli -h "$host" -p "$port" cluster nodes 2>/dev/null |
					awk '$3 ~ /slave/' | wc -l)" = $((primaries * replicas)) ] ||
					{ ok=0; break; }
			done
		fi
		[ $ok = 1 ] && return 0
		sleep 0.2
	done
	return 1
}

case "$verb" in
start)
	mkdir -p "$run_dir"
	addrs=()
	for i in $(seq 0 $((nodes - 1))); do
		start_node $((base_port + i))
		addrs+=("$host:$((base_port + i))")
	done
	if ! redis-cli --cluster create "${addrs[@]}" --cluster-replicas "$replicas" \
		--cluster-yes > "$run_dir/create.log" 2>&1; then
		cat "$run_dir/create.log" >&2
		die "redis-cli --cluster create failed"
	fi
	wait_ok || die "cluster did not reach cluster_state:ok within 60 s"
	echo "cluster ready: $primaries primaries, $replicas replica(s) each, ports $base_port-$((base_port + nodes - 1)), run dir $run_dir"
	;;
stop)
	[ -d "$run_dir" ] || { echo "nothing to stop in $run_dir"; exit 0; }
	for f in "$run_dir"/*.pid; do
		[ -e "$f" ] || continue
		stop_node "$(basename "$f" .pid)"
	done
	rm -rf "$run_dir"
	echo "cluster stopped"
	;;
status)
	running=0
	for f in "$run_dir"/*.pid; do
		[ -e "$f" ] || continue
		port=$(basename "$f" .pid)
		if pid=$(pid_of "$port"); then
			echo "node $host:$port pid $pid"
			running=$((running + 1))
		fi
	done
	[ $running -gt 0 ] || { echo "no nodes running in $run_dir"; exit 1; }
	redis-cli -h "$host" -p "$base_port" cluster info | grep -E 'cluster_state|cluster_slots_assigned|cluster_known_nodes|cluster_size' || true
	;;
start-node)
	[ $# -eq 1 ] || die "usage: cluster.sh start-node PORT"
	mkdir -p "$run_dir"
	start_node "$1"
	echo "node $host:$1 started"
	;;
stop-node)
	[ $# -eq 1 ] || die "usage: cluster.sh stop-node PORT"
	stop_node "$1"
	echo "node $host:$1 stopped"
	;;
kill-node)
	[ $# -eq 1 ] || die "usage: cluster.sh kill-node PORT"
	kill_node "$1"
	echo "node $host:$1 killed"
	;;
restart-node)
	[ $# -eq 1 ] || die "usage: cluster.sh restart-node PORT"
	restart_node "$1"
	echo "node $host:$1 restarted"
	;;
*)
	die "unknown verb $verb (start|stop|status|start-node|stop-node|kill-node|restart-node)"
	;;
esac

#!/usr/bin/env bash
# The DPDK test network: network namespaces holding a veth pair, one end
# for shardgate's own TCP/IP stack (DPDK's net_af_packet PMD drives it) and
# one end for the kernel, which runs a real Redis Cluster and the clients.
#
# Default layout (one namespace):
#   namespace NAME (default sgnet)
#   +------------------------------------------------------------------+
#   |  shardgate (io.mode: dpdk)           kernel: redis-server x 6,    |
#   |  198.18.0.2, its own TCP             clients, 198.18.0.1          |
#   |        |                                     |                    |
#   |  sgdp0 (af_packet, no kernel address) ==== sgk0 (198.18.0.1/24)  |
#   +------------------------------------------------------------------+
#
# --proxy-ns (two namespaces): sgdp0 sits in NAME-px, so the proxy's end
# can be either DPDK's (no kernel address, af_packet) or the kernel's
# (`proxy-kernel` puts 198.18.0.2/24 on sgdp0 for a kernel-mode shardgate;
# `proxy-dpdk` takes it away again). Both modes then cross the same veth
# with the same frames; scripts/bench.sh --dpdk compares them this way.
#   namespace NAME-px                     namespace NAME
#   +-------------------------------+    +------------------------------+
#   | shardgate, dpdk or kernel     |    | redis-server x 6, clients    |
#   | sgdp0: af_packet, or          |====| sgk0 198.18.0.1/24           |
#   |        198.18.0.2/24 (kernel) |    |                              |
#   +-------------------------------+    +------------------------------+
#   (In one namespace a kernel address on sgdp0 would be local to the
#   clients too, and their traffic would take the loopback, not the veth.)
#
# --link tap: no veth; a persistent multi-queue TAP device sgtap0 in NAME
# that DPDK's net_tap PMD attaches to when shardgate starts (io.port
# net_tap0,iface=sgtap0; the kernel side of the TAP is the cluster's
# side). 198.18.0.1 is also on NAME's loopback, so the cluster keeps its
# address while the TAP is down between proxy runs. shardgate must run in
# NAME (`exec-proxy` does that): the TAP is found by name in the
# namespace of the process that opens /dev/net/tun. Not with --proxy-ns.
#
# --link faulty: the veth layout with a faulty wire in the middle, for
# tests under loss and reordering (one namespace):
#   sgdp0 (af_packet) ==== sgf0 [impairment] sgf1 ==== sgk0 (198.18.0.1/24)
# The impairment is tc netem on both ports of a bridge (each impairs the
# frames leaving towards its side) when the kernel has sch_netem, else
# tests/dpdk/io_relay.py, which does the same in userspace. The wire
# starts clean; the `faults` verb sets the profile.
#
# The network outlives shardgate restarts, so the cluster keeps its
# addresses while proxies come and go. Addresses come from 198.18.0.0/15
# (RFC 2544 benchmarking space); nothing touches the host's interfaces.
#
#   scripts/dpdk-testnet.sh [options] up      creates the namespace(s) and the
#                                             link, starts the cluster (3+3 on
#                                             198.18.0.1:7000-7005) in NAME
#   scripts/dpdk-testnet.sh [options] down    stops that cluster, deletes the
#                                             namespaces, unmounts hugepages if
#                                             `up` mounted them
#   scripts/dpdk-testnet.sh [options] status
#   scripts/dpdk-testnet.sh [options] env     prints the settings as shell
#                                             assignments (SG_TESTNET_*)
#   scripts/dpdk-testnet.sh [options] exec CMD [ARGS...]
#                                             runs CMD in NAME (clients, the
#                                             cluster's side)
#   scripts/dpdk-testnet.sh [options] exec-proxy CMD [ARGS...]
#                                             runs CMD where the proxy's end
#                                             is (NAME-px with --proxy-ns,
#                                             else NAME)
#   scripts/dpdk-testnet.sh [options] proxy-kernel
#                                             (--proxy-ns) 198.18.0.2/24 on
#                                             sgdp0: for a kernel-mode proxy
#   scripts/dpdk-testnet.sh [options] proxy-dpdk
#                                             (--proxy-ns) no address on sgdp0:
#                                             for DPDK (the state after `up`)
#   scripts/dpdk-testnet.sh [options] faults "WORDS"
#                                             (--link faulty) impairs the wire
#                                             both ways; WORDS: loss=P
#                                             delay_ms=D jitter_ms=J reorder=P
#                                             dup=P corrupt=P (P a probability,
#                                             missing words 0, "" a clean wire)
#   scripts/dpdk-testnet.sh [options] wire-stats
#                                             (--link faulty) what the wire did
#                                             so far: "frames=N dropped=N ..."
# `up` records the layout (--proxy-ns, --link) in its state directory, so
# later verbs need only --name.
#
# Options:
#   --name NAME        namespace (default sgnet; at most 12 characters)
#   --proxy-ns         the two-namespace layout above
#   --link veth|tap|faulty  (default veth)
#   --hugepages N      reserve N 2 MB hugepages and mount hugetlbfs on
#                      /dev/hugepages if nothing is mounted there (default:
#                      none; shardgate then runs with huge_pages: false)
#   --no-cluster       network only (tests start their own clusters)
#   --base-port P      first cluster port (default 7000)
#   --primaries N      (default 3)
#   --replicas N       replicas per primary (default 1)
#   --node-timeout MS  cluster-node-timeout (default 2000)
#
# shardgate's side of the link, for its config (config/dpdk-testnet.yaml):
#   io.port:    net_af_packet0,iface=sgdp0,blocksz=4096,framesz=2048,framecnt=4096,qdisc_bypass=1
#               (--link tap: net_tap0,iface=sgtap0)
#   io.address: 198.18.0.2/24
# The veth ends have checksum offloads, TSO, GSO and GRO off: af_packet
# hands frames to the stack as they are on the wire, so the kernel must
# neither leave checksums to be filled in nor glue segments together.
# A kernel-mode proxy on sgdp0 (proxy-kernel) therefore moves the same
# 1500-byte frames, checksummed in software, as the DPDK one.
#
# What works: veth (both layouts) is what the quickstart and the benchmark
# use. tap: shardgate attaches to the persistent TAP, serves the cluster
# and can be restarted while the cluster keeps running.
#
# Root only. State (what `up` created) is kept in /run/shardgate-testnet/NAME.
set -Eeuo pipefail

here=$(cd "$(dirname "$0")" && pwd)
name=sgnet
hugepages=0
cluster=1
base_port=7000
primaries=3
replicas=1
node_timeout=2000
opt_proxy_ns=""
opt_link=""

KERNEL_IP=198.18.0.1
PROXY_IP=198.18.0.2
PREFIX_LEN=24
DP_IF=sgdp0
K_IF=sgk0
TAP_IF=sgtap0
# --link faulty: the two ends of the impairment
F_DP_IF=sgf0
F_K_IF=sgf1
F_BR=sgfbr

die() { echo "dpdk-testnet.sh: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
	case "$1" in
	--name) name=$2; shift 2 ;;
	--proxy-ns) opt_proxy_ns=1; shift ;;
	--link) opt_link=$2; shift 2 ;;
	--hugepages) hugepages=$2; shift 2 ;;
	--no-cluster) cluster=0; shift ;;
	--base-port) base_port=$2; shift 2 ;;
	--primaries) primaries=$2; shift 2 ;;
	--replicas) replicas=$2; shift 2 ;;
	--node-timeout) node_timeout=$2; shift 2 ;;
	-h|--help) sed -n '2,/^set -Eeuo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) die "unknown option $1" ;;
	*) break ;;
	esac
done
[ $# -ge 1 ] || die "usage: dpdk-testnet.sh [options] up|down|status|env|exec|exec-proxy|proxy-kernel|proxy-dpdk|faults|wire-stats ..."
verb=$1; shift

[[ "$name" =~ ^[a-zA-Z0-9_-]{1,12}$ ]] || die "--name: 1 to 12 letters, digits, '-' or '_', got \"$name\""
[[ "$hugepages" =~ ^[0-9]+$ ]] || die "--hugepages: a number of 2 MB pages, got \"$hugepages\""
state=/run/shardgate-testnet/$name

# the layout: what `up` recorded, else the options (default veth, one ns)
proxy_ns=${opt_proxy_ns:-$(cat "$state/proxy_ns" 2>/dev/null || echo 0)}
link=${opt_link:-$(cat "$state/link" 2>/dev/null || echo veth)}
case "$link" in
veth|faulty) port_args="net_af_packet0,iface=$DP_IF,blocksz=4096,framesz=2048,framecnt=4096,qdisc_bypass=1" ;;
tap) port_args="net_tap0,iface=$TAP_IF" ;;
*) die "--link: veth, tap or faulty, got \"$link\"" ;;
esac
[ "$link" != veth ] && [ "$proxy_ns" = 1 ] && die "--link $link works in one namespace only (no --proxy-ns)"
px=$name
[ "$proxy_ns" = 1 ] && px=$name-px

need_root() { [ "$(id -u)" = 0 ] || die "$verb needs root (network namespaces, veth)"; }
in_ns() { ip netns exec "$name" "$@"; }
ns_exists() { ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$1"; }

cluster_sh() {
	# the run directory is recorded so `down` stops what `up` started even
	# when called with other options
	local dir
	dir=$(cat "$state/cluster_dir" 2>/dev/null) || return 0
	in_ns "$here/cluster.sh" --host "$KERNEL_IP" --dir "$dir" \
		--base-port "$(cat "$state/cluster_base_port")" \
		--primaries "$(cat "$state/cluster_primaries")" \
		--replicas "$(cat "$state/cluster_replicas")" "$@"
}

print_env() {
	cat <<EOF
SG_TESTNET_NS=$name
SG_TESTNET_PROXY_NS=$px
SG_TESTNET_LINK=$link
SG_TESTNET_IFACE=$([ "$link" = tap ] && echo $TAP_IF || echo $DP_IF)
SG_TESTNET_PORT=$port_args
SG_TESTNET_PROXY_IP=$PROXY_IP
SG_TESTNET_PROXY_CIDR=$PROXY_IP/$PREFIX_LEN
SG_TESTNET_KERNEL_IP=$KERNEL_IP
SG_TESTNET_HUGEPAGES=$( [ -f "$state/hugepages" ] && echo 1 || echo 0 )
EOF
}

new_ns() {
	ip netns add "$1"
	echo "$1" >>"$state/netns"
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	ip netns exec "$1" sysctl -qw net.ipv6.conf.default.disable_ipv6=1
	ip -n "$1" link set lo up
}

no_offloads() {
	ip netns exec "$1" ethtool -K "$2" rx off tx off tso off gso off gro off >/dev/null 2>&1 ||
		die "ethtool -K $2 failed (is ethtool installed?)"
}

# netem_works: the kernel has sch_netem (SG_TESTNET_IMPAIR=relay|netem forces one)
netem_works() {
	[ "${SG_TESTNET_IMPAIR:-}" = relay ] && return 1
	[ "${SG_TESTNET_IMPAIR:-}" = netem ] && return 0
	in_ns tc qdisc add dev lo root netem delay 1ms 2>/dev/null || return 1
	in_ns tc qdisc del dev lo root 2>/dev/null
	return 0
}

# --link faulty: two veth pairs joined by a bridge with netem, or by
# io_relay.py (its PID in the state directory, stopped by `down`)
faulty_up() {
	local relay=$here/../tests/dpdk/io_relay.py
	ip -n "$name" link add "$K_IF" type veth peer name "$F_K_IF"
	ip -n "$name" link add "$DP_IF" type veth peer name "$F_DP_IF"
	local i
	for i in "$K_IF" "$F_K_IF" "$DP_IF" "$F_DP_IF"; do no_offloads "$name" "$i"; done
	ip -n "$name" addr add "$KERNEL_IP/$PREFIX_LEN" dev "$K_IF"
	for i in "$F_K_IF" "$F_DP_IF"; do ip -n "$name" link set "$i" promisc on up; done
	ip -n "$name" link set "$DP_IF" up
	ip -n "$name" link set "$K_IF" up
	# a healed wire should meet the kernel's next retransmission soon
	in_ns sysctl -qw net.ipv4.tcp_rto_max_ms=1000 2>/dev/null || true
	: >"$state/profile"
	if netem_works; then
		echo netem >"$state/impair"
		ip -n "$name" link add "$F_BR" type bridge
		ip -n "$name" link set "$F_DP_IF" master "$F_BR"
		ip -n "$name" link set "$F_K_IF" master "$F_BR"
		ip -n "$name" link set "$F_BR" up
		return 0
	fi
	[ -f "$relay" ] || die "no sch_netem in this kernel and no $relay"
	echo relay >"$state/impair"
	ip netns exec "$name" "$(command -v /usr/bin/python3 || command -v python3)" "$relay" "$F_DP_IF" "$F_K_IF" "$state/profile" \
		--seconds 86400 >"$state/relay.out" 2>&1 &
	echo $! >"$state/relay.pid"
	for _ in $(seq 50); do
		grep -q ready "$state/relay.out" && return 0
		sleep 0.1
	done
	die "io_relay.py did not start: $(cat "$state/relay.out")"
}

# faults "WORDS": the profile of the faulty wire (io_relay.py reads the file;
# for netem the same words become a qdisc on each bridge port)
faults() {
	need_root
	[ "$link" = faulty ] || die "faults needs --link faulty (up --link faulty)"
	ns_exists "$name" || die "test network $name is not up"
	local w
	for w in $1; do
		[[ "$w" =~ ^(loss|delay_ms|jitter_ms|reorder|dup|corrupt)=[0-9.]+$ ]] ||
			die "faults: \"$w\" is not one of loss= delay_ms= jitter_ms= reorder= dup= corrupt= with a number"
	done
	echo "$1" >"$state/profile.new"
	mv "$state/profile.new" "$state/profile"
	[ "$(cat "$state/impair")" = netem ] || return 0
	local args dev
	args=$(echo "$1" | awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
		END { printf "loss %g%% delay %gms %gms reorder %g%% duplicate %g%% corrupt %g%%",
			v["loss"] * 100, v["delay_ms"], v["jitter_ms"], v["reorder"] * 100,
			v["dup"] * 100, v["corrupt"] * 100 }')
	for dev in "$F_DP_IF" "$F_K_IF"; do
		# shellcheck disable=SC2086
		in_ns tc qdisc replace dev "$dev" root netem $args
	done
}

# wire_stats: one line of counters from the impairment
wire_stats() {
	need_root
	[ "$link" = faulty ] || die "wire-stats needs --link faulty"
	if [ "$(cat "$state/impair" 2>/dev/null)" = netem ]; then
		local dev sent=0 dropped=0 s d
		for dev in "$F_DP_IF" "$F_K_IF"; do
			read -r s d < <(in_ns tc -s qdisc show dev "$dev" |
				awk '/Sent/ { gsub(/,/, ""); print $4, $7; exit }')
			sent=$((sent + ${s:-0})); dropped=$((dropped + ${d:-0}))
		done
		echo "netem frames=$sent dropped=$dropped"
		return 0
	fi
	local pid lines
	pid=$(cat "$state/relay.pid" 2>/dev/null) || die "no relay running"
	lines=$(wc -l <"$state/relay.out")
	kill -USR1 "$pid" || die "the relay (pid $pid) is gone"
	for _ in $(seq 50); do
		[ "$(wc -l <"$state/relay.out")" -gt "$lines" ] && break
		sleep 0.05
	done
	tail -n 1 "$state/relay.out"
}

up() {
	need_root
	command -v ip >/dev/null || die "ip (iproute2) not found (run scripts/install-deps.sh)"
	ns_exists "$name" && die "namespace $name already exists (scripts/dpdk-testnet.sh --name $name down)"
	[ "$px" != "$name" ] && ns_exists "$px" && die "namespace $px already exists"
	[ -d "$state" ] && die "$state exists: $name is half up? (scripts/dpdk-testnet.sh --name $name down)"
	mkdir -p "$state"
	echo "$proxy_ns" >"$state/proxy_ns"
	echo "$link" >"$state/link"
	: >"$state/netns"
	trap 'rc=$?; trap - ERR; echo "dpdk-testnet.sh: up failed; removing what it created" >&2; down; exit $rc' ERR
	new_ns "$name"
	[ "$px" != "$name" ] && new_ns "$px"
	if [ "$link" = veth ]; then
		ip -n "$name" link add "$K_IF" type veth peer name "$DP_IF" netns "$px"
		no_offloads "$name" "$K_IF"
		no_offloads "$px" "$DP_IF"
		ip -n "$name" addr add "$KERNEL_IP/$PREFIX_LEN" dev "$K_IF"
		ip -n "$px" link set "$DP_IF" up
		ip -n "$name" link set "$K_IF" up
	elif [ "$link" = faulty ]; then
		faulty_up
	else
		[ -c /dev/net/tun ] || die "no /dev/net/tun (--link tap)"
		# net_tap asks for a multi-queue TAP; an existing device must match
		ip -n "$name" tuntap add dev "$TAP_IF" mode tap multi_queue
		# the cluster's address on lo too: it stays while the TAP is down
		ip -n "$name" addr add "$KERNEL_IP/32" dev lo
		ip -n "$name" addr add "$KERNEL_IP/$PREFIX_LEN" dev "$TAP_IF"
		ip -n "$name" link set "$TAP_IF" up
	fi
	if [ "$hugepages" -gt 0 ]; then
		echo "$hugepages" >/proc/sys/vm/nr_hugepages
		if ! mountpoint -q /dev/hugepages; then
			mkdir -p /dev/hugepages
			mount -t hugetlbfs nodev /dev/hugepages
			: >"$state/hugepages_mounted"
		fi
		echo "$hugepages" >"$state/hugepages"
	fi
	if [ "$cluster" = 1 ]; then
		echo "/tmp/shardgate-testnet-$name-cluster" >"$state/cluster_dir"
		echo "$base_port" >"$state/cluster_base_port"
		echo "$primaries" >"$state/cluster_primaries"
		echo "$replicas" >"$state/cluster_replicas"
		cluster_sh --node-timeout "$node_timeout" start
	fi
	trap - ERR
	if [ "$link" = faulty ]; then
		echo "test network $name up: shardgate side $DP_IF ($PROXY_IP/$PREFIX_LEN, io.port $port_args), impaired wire ($(cat "$state/impair"), clean until \`faults\`), kernel side $K_IF ($KERNEL_IP/$PREFIX_LEN), all in $name"
	elif [ "$link" = veth ]; then
		echo "test network $name up: shardgate side $DP_IF in $px ($PROXY_IP/$PREFIX_LEN, io.port $port_args), kernel side $K_IF in $name ($KERNEL_IP/$PREFIX_LEN)"
	else
		echo "test network $name up: TAP $TAP_IF in $name ($KERNEL_IP/$PREFIX_LEN, io.port $port_args; shardgate as $PROXY_IP/$PREFIX_LEN)"
	fi
}

down() {
	local ns
	need_root
	[ -d "$state" ] || { echo "test network $name: nothing to take down"; return 0; }
	cluster_sh stop || true
	local pid
	if pid=$(cat "$state/relay.pid" 2>/dev/null) &&
		tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q io_relay.py; then
		kill -TERM "$pid"
		for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	fi
	# a name per line (older state files: an empty file meant NAME)
	if [ -f "$state/netns" ]; then
		for ns in $(cat "$state/netns") $( [ -s "$state/netns" ] || echo "$name"); do
			ns_exists "$ns" && ip netns del "$ns"
		done
	fi
	if [ -f "$state/hugepages_mounted" ] && mountpoint -q /dev/hugepages; then
		umount /dev/hugepages || echo "dpdk-testnet.sh: /dev/hugepages is busy; left mounted" >&2
	fi
	[ -f "$state/hugepages" ] && echo 0 >/proc/sys/vm/nr_hugepages
	rm -rf "$state"
	echo "test network $name down"
}

# proxy_addr add|del: the kernel's address on the proxy's end of the veth
proxy_addr() {
	need_root
	[ "$proxy_ns" = 1 ] || die "$verb needs the --proxy-ns layout (up --proxy-ns)"
	ns_exists "$px" || die "test network $name is not up"
	if [ "$1" = add ]; then
		ip -n "$px" -br addr show dev "$DP_IF" | grep -q "$PROXY_IP/" ||
			ip -n "$px" addr add "$PROXY_IP/$PREFIX_LEN" dev "$DP_IF"
	else
		ip -n "$px" addr flush dev "$DP_IF"
	fi
}

case "$verb" in
up) up ;;
down) down ;;
status)
	ns_exists "$name" || { echo "test network $name is not up"; exit 1; }
	print_env
	ip -n "$name" -br addr
	[ "$px" != "$name" ] && ip -n "$px" -br addr
	[ -f "$state/cluster_dir" ] && cluster_sh status
	;;
env) print_env ;;
exec|exec-proxy)
	[ $# -ge 1 ] || die "usage: dpdk-testnet.sh $verb CMD [ARGS...]"
	ns=$name
	[ "$verb" = exec-proxy ] && ns=$px
	ns_exists "$ns" || die "test network $name is not up (scripts/dpdk-testnet.sh up)"
	exec ip netns exec "$ns" "$@"
	;;
wire-stats) wire_stats ;;
faults) [ $# -eq 1 ] || die "usage: dpdk-testnet.sh faults \"WORDS\""; faults "$1" ;;
proxy-kernel) proxy_addr add ;;
proxy-dpdk) proxy_addr del ;;
*) die "unknown verb $verb (up|down|status|env|exec|exec-proxy|proxy-kernel|proxy-dpdk|faults|wire-stats)" ;;
esac

#!/usr/bin/env bash
# The DPDK test network: a network namespace holding a veth pair, one end
# for shardgate's own TCP/IP stack (DPDK's net_af_packet PMD drives it) and
# one end for the kernel, which runs a real Redis Cluster and the clients.
#
#   namespace NAME (default sgnet)
#   +------------------------------------------------------------------+
#   |  shardgate (io.mode: dpdk)           kernel: redis-server x 6,    |
#   |  198.18.0.2, its own TCP             clients, 198.18.0.1          |
#   |        |                                     |                    |
#   |  sgdp0 (af_packet, no kernel address) ==== sgk0 (198.18.0.1/24)  |
#   +------------------------------------------------------------------+
#
# Both veth ends live inside the namespace, so nothing of the test network
# touches the host's interfaces, and shardgate runs inside it too
# (`dpdk-testnet.sh exec`). Addresses come from 198.18.0.0/15 (RFC 2544
# benchmarking space). The network outlives shardgate restarts, so the
# cluster keeps its addresses while proxies come and go.
#
#   scripts/dpdk-testnet.sh [options] up      creates the namespace and the veth
#                                             pair, starts the cluster (3+3 on
#                                             198.18.0.1:7000-7005) inside it
#   scripts/dpdk-testnet.sh [options] down    stops that cluster, deletes the
#                                             namespace, unmounts hugepages if
#                                             `up` mounted them
#   scripts/dpdk-testnet.sh [options] status
#   scripts/dpdk-testnet.sh [options] env     prints the settings as shell
#                                             assignments (SG_TESTNET_*)
#   scripts/dpdk-testnet.sh [options] exec CMD [ARGS...]
#                                             runs CMD inside the namespace
#
# Options:
#   --name NAME        namespace (default sgnet; at most 12 characters)
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
#   io.address: 198.18.0.2/24
# The veth ends have checksum offloads, TSO, GSO and GRO off: af_packet
# hands frames to the stack as they are on the wire, so the kernel must
# neither leave checksums to be filled in nor glue segments together.
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

KERNEL_IP=198.18.0.1
PROXY_IP=198.18.0.2
PREFIX_LEN=24
DP_IF=sgdp0
K_IF=sgk0

die() { echo "dpdk-testnet.sh: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
	case "$1" in
	--name) name=$2; shift 2 ;;
	--hugepages) hugepages=$2; shift 2 ;;
	--no-cluster) cluster=0; shift ;;
	--base-port) base_port=$2; shift 2 ;;
	--primaries) primaries=$2; shift 2 ;;
	--replicas) replicas=$2; shift 2 ;;
	--node-timeout) node_timeout=$2; shift 2 ;;
	-h|--help) sed -n '2,48p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) die "unknown option $1" ;;
	*) break ;;
	esac
done
[ $# -ge 1 ] || die "usage: dpdk-testnet.sh [options] up|down|status|env|exec CMD..."
verb=$1; shift

[[ "$name" =~ ^[a-zA-Z0-9_-]{1,12}$ ]] || die "--name: 1 to 12 letters, digits, '-' or '_', got \"$name\""
[[ "$hugepages" =~ ^[0-9]+$ ]] || die "--hugepages: a number of 2 MB pages, got \"$hugepages\""
state=/run/shardgate-testnet/$name
port_args="net_af_packet0,iface=$DP_IF,blocksz=4096,framesz=2048,framecnt=4096,qdisc_bypass=1"

need_root() { [ "$(id -u)" = 0 ] || die "$verb needs root (network namespaces, veth)"; }
in_ns() { ip netns exec "$name" "$@"; }
ns_exists() { ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$name"; }

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
SG_TESTNET_PORT=$port_args
SG_TESTNET_PROXY_IP=$PROXY_IP
SG_TESTNET_PROXY_CIDR=$PROXY_IP/$PREFIX_LEN
SG_TESTNET_KERNEL_IP=$KERNEL_IP
SG_TESTNET_HUGEPAGES=$( [ -f "$state/hugepages" ] && echo 1 || echo 0 )
EOF
}

up() {
	need_root
	command -v ip >/dev/null || die "ip (iproute2) not found (run scripts/install-deps.sh)"
	ns_exists && die "namespace $name already exists (scripts/dpdk-testnet.sh --name $name down)"
	mkdir -p "$state"
	trap 'rc=$?; trap - ERR; echo "dpdk-testnet.sh: up failed; removing what it created" >&2; down; exit $rc' ERR
	ip netns add "$name"
	: >"$state/netns"
	in_ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	in_ns sysctl -qw net.ipv6.conf.default.disable_ipv6=1
	ip -n "$name" link set lo up
	ip -n "$name" link add "$DP_IF" type veth peer name "$K_IF"
	for ifc in "$DP_IF" "$K_IF"; do
		in_ns ethtool -K "$ifc" rx off tx off tso off gso off gro off >/dev/null 2>&1 ||
			die "ethtool -K $ifc failed (is ethtool installed?)"
	done
	ip -n "$name" addr add "$KERNEL_IP/$PREFIX_LEN" dev "$K_IF"
	ip -n "$name" link set "$DP_IF" up
	ip -n "$name" link set "$K_IF" up
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
	echo "test network $name up: shardgate side $DP_IF ($PROXY_IP/$PREFIX_LEN, io.port $port_args), kernel side $K_IF ($KERNEL_IP/$PREFIX_LEN)"
}

down() {
	need_root
	[ -d "$state" ] || { echo "test network $name: nothing to take down"; return 0; }
	cluster_sh stop || true
	if [ -f "$state/netns" ] && ns_exists; then
		ip netns del "$name"
	fi
	if [ -f "$state/hugepages_mounted" ] && mountpoint -q /dev/hugepages; then
		umount /dev/hugepages || echo "dpdk-testnet.sh: /dev/hugepages is busy; left mounted" >&2
	fi
	[ -f "$state/hugepages" ] && echo 0 >/proc/sys/vm/nr_hugepages
	rm -rf "$state"
	echo "test network $name down"
}

case "$verb" in
up) up ;;
down) down ;;
status)
	ns_exists || { echo "test network $name is not up"; exit 1; }
	print_env
	ip -n "$name" -br addr
	[ -f "$state/cluster_dir" ] && cluster_sh status
	;;
env) print_env ;;
exec)
	[ $# -ge 1 ] || die "usage: dpdk-testnet.sh exec CMD [ARGS...]"
	ns_exists || die "test network $name is not up (scripts/dpdk-testnet.sh up)"
	exec ip netns exec "$name" "$@"
	;;
*) die "unknown verb $verb (up|down|status|env|exec)" ;;
esac

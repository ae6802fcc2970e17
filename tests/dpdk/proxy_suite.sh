#!/usr/bin/env bash
# The kernel-mode integration tests again, against shardgate in DPDK mode.
#
#   proxy_suite.sh [--faults "WORDS"] WORKERS TEST.py [ARGS...]
#
# Brings up a test network of its own (scripts/dpdk-testnet.sh, one
# namespace, no cluster: the test starts its own) and runs TEST.py inside
# that namespace with
#   SG_TEST_MODE=dpdk          sgtest.Proxy writes io.mode: dpdk
#   SG_TEST_WORKERS=WORKERS    its default worker count
#   SG_TEST_CLUSTER_HOST       198.18.0.1, the kernel's end of the veth, where
#                              the test's redis-servers and clients live
#   SG_TEST_PROXY_HOST/_CIDR   198.18.0.2, shardgate's own address
#   SG_TEST_DPDK_PORT          the af_packet vdev on the other veth end
# so the same assertions hold for the proxy on its own TCP/IP stack. The
# network is taken down on any exit (the test stops what it started).
# --faults: the wire between shardgate and the kernel is impaired both ways
# (dpdk-testnet.sh --link faulty; WORDS as its `faults` verb takes them,
# e.g. "loss=0.01 delay_ms=2 jitter_ms=1 reorder=0.05").
# Exit status: the test's; 77 (skipped) when not root or without redis.
set -u

usage="usage: proxy_suite.sh [--faults WORDS] WORKERS TEST.py [ARGS...]"
faults=""
if [ "${1:-}" = --faults ]; then
	faults=${2:?$usage}
	shift 2
fi
[ $# -ge 2 ] || { echo "$usage" >&2; exit 2; }
workers=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
testnet=$root/scripts/dpdk-testnet.sh

if [ "$(id -u)" != 0 ]; then
	echo "skip: needs root (network namespace, af_packet)"
	exit 77
fi
for t in ip ethtool redis-server redis-cli; do
	command -v "$t" >/dev/null || { echo "skip: no $t"; exit 77; }
done

# a namespace name of our own (12 characters at most)
name=sgs$$
name=${name:0:12}
trap '"$testnet" --name "$name" down >/dev/null' EXIT
trap 'exit 1' INT TERM
if [ -n "$faults" ]; then
	"$testnet" --name "$name" --link faulty --no-cluster up || exit 1
	"$testnet" --name "$name" faults "$faults" || exit 1
	echo "faulty wire: $faults"
else
	"$testnet" --name "$name" --no-cluster up || exit 1
fi
eval "$("$testnet" --name "$name" env)"

rc=0
"$testnet" --name "$name" exec env \
	SG_TEST_MODE=dpdk \
	SG_TEST_WORKERS="$workers" \
	SG_TEST_CLUSTER_HOST="$SG_TESTNET_KERNEL_IP" \
	SG_TEST_PROXY_HOST="$SG_TESTNET_PROXY_IP" \
	SG_TEST_DPDK_CIDR="$SG_TESTNET_PROXY_CIDR" \
	SG_TEST_DPDK_PORT="$SG_TESTNET_PORT" \
	"$@" || rc=$?
if [ -n "$faults" ]; then
	# the assertions above mean something only if the wire did misbehave
	wire=$("$testnet" --name "$name" wire-stats)
	echo "faulty wire: $wire"
	dropped=$(echo "$wire" | sed -n 's/.* dropped=\([0-9]*\).*/\1/p')
	if [ "${dropped:-0}" -eq 0 ]; then
		echo "FAIL the faulty wire dropped nothing: $wire"
		[ "$rc" = 0 ] && rc=1
	fi
fi
exit $rc

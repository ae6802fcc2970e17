#!/usr/bin/env bash
# Installs everything shardgate needs to build, test and benchmark on Debian
# bookworm. Idempotent and non-interactive: when every package is present it
# does nothing (not even apt-get update).
set -euo pipefail

packages=(
	# build
	build-essential meson ninja-build pkg-config
	dpdk dpdk-dev libdpdk-dev libssl-dev libjemalloc-dev libyaml-dev libcunit1-dev
	# fuzzing and sanitizers (clang's libFuzzer and ASan/UBSan runtimes)
	clang libclang-rt-14-dev llvm
	# backends, clients and benchmarks
	redis-server redis-tools python3 python3-redis python3-hiredis python3-yaml
	libhiredis-dev nutcracker
	linux-perf valgrind	# scripts/bench.sh --profile, scripts/bench-core.sh
	# DPDK test networks and process tools
	iproute2 ethtool kmod procps psmisc util-linux
	iputils-ping	# tests/dpdk: ping from the test namespace
)

missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all ${#packages[@]} packages present"
else
	if [ "$(id -u)" != 0 ]; then
		echo "install-deps: missing ${missing[*]}; run as root" >&2
		exit 1
	fi
	echo "install-deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Debian starts a redis-server on port 6379 when the package is installed on
# a machine with an init system. shardgate's tests never use that port, so it
# is left alone.

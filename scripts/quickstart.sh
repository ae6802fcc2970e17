#!/usr/bin/env bash
# Quickstart on Debian bookworm as root: installs the dependencies, builds
# shardgate, starts a local 3+3 Redis Cluster on 127.0.0.1:7000-7005 and
# validates config/local.yaml against it.
#
#   scripts/quickstart.sh          set up and start
#   scripts/quickstart.sh stop     stop what the quickstart started
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = stop ]; then
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
echo "== validating config/local.yaml"
build/app/shardgate/shardgate --config config/local.yaml --check
cat <<MSG

Done: the local cluster runs on 127.0.0.1:7000-7005 and config/local.yaml is valid.
Stop it with: scripts/quickstart.sh stop
MSG

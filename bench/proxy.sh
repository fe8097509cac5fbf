#!/bin/sh
# The added latency and the throughput of `chaosdeck proxy` with no toxic, on loopback:
# a 64-byte echo round trip direct and through a proxy, and 200 MB echoed both ways.
# Usage: bench/proxy.sh [path/to/chaosdeck]   (default: a release build, made if missing)
set -eu
cd "$(dirname "$0")/.."
bin="${1:-${CARGO_TARGET_DIR:-target}/release/chaosdeck}"
[ -x "$bin" ] || cargo build --release
port=18474
"$bin" proxy --listen "127.0.0.1:$port" 2>/dev/null &
pid=$!
trap 'kill $pid' EXIT
sleep 0.5
python3 bench/proxy_bench.py "http://127.0.0.1:$port"

#!/usr/bin/env bash
# Compatibility check: every experiment case of bench/compat/cases.yaml runs through Chaos Toolkit
# (installed by bench/ctk-setup.sh) and through chaosdeck, against the same loopback target
# (bench/compat/target.py on 127.0.0.1), and the journals are compared (bench/compat/compat.py
# says on what). Every difference is printed; those matching bench/compat/allowed.yaml (each a
# row of the README's "Differences from Chaos Toolkit") are marked "listed"; any other makes the
# script exit 1.
#
# chaosdeck runs with `--rollback-strategy default --ctk-exit-code` (unless a case names its own
# strategy): its own default strategy is `safe` and its own exit code follows the verdict, both
# deliberate and listed in the README, so this shows only the differences that are not.
#
# Usage: bench/compat.sh [CASE...]     (CARGO_TARGET_DIR and CTK_VENV are honoured)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export CTK_VENV=${CTK_VENV:-$root/bench/.venv}
bench/ctk-setup.sh
cargo build --release --quiet
chaosdeck=${CARGO_TARGET_DIR:-$root/target}/release/chaosdeck
work=$(mktemp -d /tmp/chaosdeck-compat.XXXXXX)
server=
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null || true; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
refused=$(free_port)   # bound once and released: nothing listens there during the run
python3 bench/compat/target.py "$port" & server=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.05; done

export COMPAT_BASE=http://127.0.0.1:$port COMPAT_REFUSED=http://127.0.0.1:$refused
export CHAOSDECK_PYTHON=$CTK_VENV/bin/python
# No proxy may stand between the tools and the loopback target.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
echo "chaosdeck: $("$chaosdeck" --version 2>/dev/null || echo "$chaosdeck")"
"$CTK_VENV/bin/python" bench/compat/compat.py "$CTK_VENV/bin/chaos" "$chaosdeck" "$work" "$COMPAT_BASE" "$@"

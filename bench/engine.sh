#!/usr/bin/env bash
# Engine figures (issue #2): validate one experiment, run 100 process actions, run 100 http
# probes against a loopback server, peak memory. Each beside its baseline (the spawns or the
# HTTP round trips alone), so the per-activity overhead of chaosdeck shows.
# Usage: bench/engine.sh [RUNS]   (needs hyperfine, curl, python3; installs hyperfine if root)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
command -v hyperfine >/dev/null || { apt-get install -y -qq hyperfine >/dev/null; }
cargo build --release --quiet
bin=${CARGO_TARGET_DIR:-$PWD/target}/release/chaosdeck
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT

# A loopback HTTP server for the probes (keep-alive, so round trips are what is measured).
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 bench/http_server.py "$port" & server=$!
for _ in $(seq 50); do curl -s "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done

python3 - "$work" "$port" <<'PY'
import sys
work, port = sys.argv[1], sys.argv[2]
head = "title: bench\ndescription: bench\n"
with open(f"{work}/process.yaml", "w") as f:
    f.write(head + "method:\n")
    for i in range(100):
        f.write(f"  - type: action\n    name: a{i}\n    provider: {{type: process, path: /bin/true}}\n")
with open(f"{work}/http.yaml", "w") as f:
    f.write(head + "method:\n")
    for i in range(100):
        f.write(f"  - type: probe\n    name: p{i}\n    provider: {{type: http, url: 'http://127.0.0.1:{port}/health', timeout: 5}}\n")
with open(f"{work}/urls", "w") as f:
    for i in range(100):
        f.write(f"url = \"http://127.0.0.1:{port}/health\"\noutput = /dev/null\n")
PY
cp experiments/quickstart.yaml "$work/validate.yaml"
cd "$work"
hyperfine -N --warmup 3 --runs "$runs" --export-json validate.json \
  "$bin validate validate.yaml"
hyperfine -N --warmup 2 --runs "$runs" --export-json process.json \
  -n "100 spawns of /bin/true by bash (baseline)" "bash -c 'for i in \$(seq 100); do /bin/true; done'" \
  -n "chaosdeck run, 100 process actions" "$bin run process.yaml --journal-path j.json"
hyperfine -N --warmup 2 --runs "$runs" --export-json http.json \
  -n "curl, 100 keep-alive requests (baseline)" "curl -s -K urls" \
  -n "chaosdeck run, 100 http probes" "$bin run http.yaml --journal-path j.json"
peak() { /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1; }
echo
echo "peak RSS (KiB): validate $(peak "$bin" validate validate.yaml)," \
  "100 process actions $(peak "$bin" run process.yaml --journal-path j.json)," \
  "100 http probes $(peak "$bin" run http.yaml --journal-path j.json)"
python3 - <<'PY'
import json
def med(f, i=0): return json.load(open(f))["results"][i]["median"]
v = med("validate.json")
p0, p1 = med("process.json", 0), med("process.json", 1)
h0, h1 = med("http.json", 0), med("http.json", 1)
print(f"validate: {v*1000:.2f} ms")
print(f"100 process actions: {p1*1000:.1f} ms (spawns alone {p0*1000:.1f} ms) -> "
      f"{(p1-p0)/100*1000:.3f} ms per activity over the spawn")
print(f"100 http probes: {h1*1000:.1f} ms (curl alone {h0*1000:.1f} ms) -> "
      f"{(h1-h0)/100*1000:.3f} ms per activity over the round trip")
PY

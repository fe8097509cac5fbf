#!/usr/bin/env bash
# Side by side with Chaos Toolkit (installed by bench/ctk-setup.sh): the same inputs through
# `chaos` and `chaosdeck`, alternately, and a table of medians and ratios:
#   validate one experiment; run 100 process actions; run 100 http probes on a loopback server;
#   abort latency (signal -> the first rollback's request reaching a loopback server, both tools
#   with --rollback-strategy always); peak memory (/usr/bin/time -f %M).
# Then chaosdeck-only figures: bench/engine.sh, `cargo bench --bench abort_latency` and, when
# present, bench/watcher.sh.
# Usage: bench/compare.sh    env: ROUNDS (default 3) x RUNS (default 5) timed runs per tool and
#   input, ABORT_RUNS (default 7), SKIP_CHAOSDECK_ONLY=1 to stop after the table.
#   CARGO_TARGET_DIR and CTK_VENV are honoured. Everything runs on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
rounds=${ROUNDS:-3} runs=${RUNS:-5} abort_runs=${ABORT_RUNS:-7}
export CTK_VENV=${CTK_VENV:-$root/bench/.venv}
command -v hyperfine >/dev/null || { apt-get install -y -qq hyperfine >/dev/null; }
ctk_version=$(bench/ctk-setup.sh)
cargo build --release --quiet
chaosdeck=${CARGO_TARGET_DIR:-$root/target}/release/chaosdeck
chaos=$CTK_VENV/bin/chaos
work=$(mktemp -d /tmp/chaosdeck-compare.XXXXXX)
server=
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 bench/compat/target.py "$port" "$work/arrivals.log" & server=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.05; done
base=http://127.0.0.1:$port

python3 - "$work" "$base" <<'PY'
import sys
work, base = sys.argv[1], sys.argv[2]
head = "title: bench\ndescription: bench\n"
with open(f"{work}/process.yaml", "w") as f:
    f.write(head + "method:\n")
    for i in range(100):
        f.write(f"  - type: action\n    name: a{i}\n    provider: {{type: process, path: /bin/true}}\n")
with open(f"{work}/http.yaml", "w") as f:
    f.write(head + "method:\n")
    for i in range(100):
        f.write(f"  - type: probe\n    name: p{i}\n    provider: {{type: http, url: '{base}/health', timeout: 5}}\n")
PY
# The experiment validated: the quickstart (no python activity), as in bench/engine.sh.
cp experiments/quickstart.yaml "$work/validate.yaml"
cd "$work"
ctk="$chaos --no-version-check --no-log-file --settings $work/none.yaml"
declare -A cmd_ctk=(
  [validate]="$ctk validate validate.yaml"
  [process]="$ctk run --journal-path ctk.json process.yaml"
  [http]="$ctk run --journal-path ctk.json http.yaml"
)
declare -A cmd_deck=(
  [validate]="$chaosdeck validate validate.yaml"
  [process]="$chaosdeck run --journal-path deck.json process.yaml"
  [http]="$chaosdeck run --journal-path deck.json http.yaml"
)
for input in validate process http; do
  for r in $(seq "$rounds"); do
    # Alternate which tool goes first, round by round.
    if [ $((r % 2)) = 1 ]; then order=(ctk deck); else order=(deck ctk); fi
    args=()
    for t in "${order[@]}"; do
      if [ "$t" = ctk ]; then args+=(-n ctk "${cmd_ctk[$input]}"); else args+=(-n chaosdeck "${cmd_deck[$input]}"); fi
    done
    hyperfine -N --style none --warmup 1 --runs "$runs" --export-json "time-$input-$r.json" "${args[@]}" >/dev/null
  done
  for t in ctk deck; do
    for _ in 1 2 3; do
      if [ "$t" = ctk ]; then c=${cmd_ctk[$input]}; else c=${cmd_deck[$input]}; fi
      # shellcheck disable=SC2086
      /usr/bin/time -f %M -o "mem-$input-$t.txt" -a $c >/dev/null 2>&1
    done
  done
done

python3 "$root/bench/abort_side_by_side.py" "$chaos" "$chaosdeck" "$work" "$base" "$work/arrivals.log" "$abort_runs" > abort.jsonl

python3 - "$rounds" "$runs" "$ctk_version" <<'PY'
import glob, json, statistics, sys
rounds, runs, version = sys.argv[1:4]
print(f"\nChaos Toolkit: {version}")
print(f"chaos vs chaosdeck, {rounds} alternating rounds x {runs} runs each (hyperfine, 1 warmup per round); "
      "ratio = Chaos Toolkit / chaosdeck\n")
rows = []
def med(xs): return statistics.median(xs)
for key, label in [("validate", "validate one experiment"), ("process", "run 100 process actions"),
                   ("http", "run 100 http probes (loopback)")]:
    t = {"ctk": [], "chaosdeck": []}
    for f in glob.glob(f"time-{key}-*.json"):
        for r in json.load(open(f))["results"]:
            t[r["command"]] += r["times"]
    a, b = med(t["ctk"]) * 1000, med(t["chaosdeck"]) * 1000
    rows.append((f"{label}, median wall time", f"{a:.1f} ms", f"{b:.1f} ms", f"{a/b:.1f}x"))
ab = [json.loads(l) for l in open("abort.jsonl")]
for kind, sig in [("process", "SIGTERM"), ("http", "SIGTERM"), ("process", "SIGINT")]:
    c = next(x for x in ab if x["tool"] == "ctk" and x["in_flight"] == kind and x["signal"] == sig)
    d = next(x for x in ab if x["tool"] == "chaosdeck" and x["in_flight"] == kind and x["signal"] == sig)
    def fmt(x):
        ok = [v for v in x["ms"] if v is not None]
        s = f"{med(ok):.1f} ms" if ok else "no rollback"
        if len(ok) < len(x["ms"]):
            s += f" ({len(x['ms']) - len(ok)}/{len(x['ms'])} without rollback in 30 s)"
        if x["orphans"]:
            s += f", {x['orphans']} in-flight sleep left running"
        return s
    okc = [v for v in c["ms"] if v is not None]; okd = [v for v in d["ms"] if v is not None]
    ratio = f"{med(okc)/med(okd):.0f}x" if okc and okd else "-"
    rows.append((f"abort latency, {sig} with {kind} in flight, median of {len(c['ms'])}", fmt(c), fmt(d), ratio))
for key, label in [("validate", "validate"), ("process", "100 process actions"), ("http", "100 http probes")]:
    m = {t: med([int(x) for x in open(f"mem-{key}-{t}.txt").read().split()]) for t in ("ctk", "deck")}
    rows.append((f"peak memory (max RSS), {label}", f"{m['ctk']/1024:.1f} MiB", f"{m['deck']/1024:.1f} MiB",
                 f"{m['ctk']/m['deck']:.1f}x"))
w = [max(len(r[i]) for r in rows + [("measure", "Chaos Toolkit", "chaosdeck", "ratio")]) for i in range(4)]
print("| " + " | ".join(h.ljust(w[i]) for i, h in enumerate(("measure", "Chaos Toolkit", "chaosdeck", "ratio"))) + " |")
print("| " + " | ".join("-" * w[i] for i in range(4)) + " |")
for r in rows:
    print("| " + " | ".join(c.ljust(w[i]) for i, c in enumerate(r)) + " |")
PY

[ "${SKIP_CHAOSDECK_ONLY:-0}" = 1 ] && exit 0
cd "$root"
echo
echo "== chaosdeck only: engine (bench/engine.sh)"
bench/engine.sh "${RUNS_ENGINE:-20}" 2>&1 | tail -n 5
echo
echo "== chaosdeck only: abort latency, in process (cargo bench --bench abort_latency)"
ABORT_BENCH_RUNS=${ABORT_BENCH_RUNS:-100} cargo bench --quiet --bench abort_latency 2>/dev/null | grep 'abort with'
if [ -x bench/watcher.sh ]; then
  echo
  echo "== chaosdeck only: watcher (bench/watcher.sh)"
  bench/watcher.sh
fi

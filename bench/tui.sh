#!/usr/bin/env bash
# TUI figures (issue #5) with the real binary in tmux at 200×60:
#  - CPU at rest over a window, with no container and with 30 running busybox containers
#    (from /proc/PID/stat utime+stime, as % of one core);
#  - CPU during a run (an experiment of 40 short process steps with pauses, ~20 s);
#  - peak memory (VmHWM) with 30 containers.
# The frame time is measured in process by `cargo bench --bench tui_frame`.
# Usage: bench/tui.sh [WINDOW_SECONDS]   (default 60; needs tmux and docker)
set -euo pipefail
cd "$(dirname "$0")/.."
window=${1:-60}
count=30
prefix=chaosdeck-tui-bench-$$
socket=chaosdeck-tui-bench-$$

cargo build --release --quiet
bin=${CARGO_TARGET_DIR:-$PWD/target}/release/chaosdeck
scripts/build-images.sh busybox >/dev/null
work=$(mktemp -d)
mkdir -p "$work/experiments" "$work/data"
cleanup() {
  # A killed server leaves its socket file behind: ask where it is first.
  socket_path=$(tmux -L "$socket" display-message -p '#{socket_path}' 2>/dev/null || true)
  tmux -L "$socket" kill-server 2>/dev/null || true
  [ -n "$socket_path" ] && rm -f "$socket_path"
  docker ps -aq --filter "name=^/$prefix-" | xargs -r docker rm -f >/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

{
  printf 'title: bench run\ndescription: forty short steps\nmethod:\n'
  for i in $(seq 1 40); do
    printf '  - type: action\n    name: step-%s\n    provider: {type: process, path: "true"}\n    pauses: {after: 0.5}\n' "$i"
  done
} >"$work/experiments/run.yaml"

hz=$(getconf CLK_TCK)
ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
percent() { awk -v t="$1" -v s="$2" -v hz="$hz" 'BEGIN {printf "%.3f", 100 * t / hz / s}'; }

start_tui() {
  tmux -L "$socket" kill-server 2>/dev/null || true
  tmux -L "$socket" new-session -d -x 200 -y 60 \
    "cd $work && XDG_DATA_HOME=$work/data NO_COLOR=1 exec $bin --experiments $work/experiments"
  sleep 2
  # The pane's shell execs chaosdeck, so the pane's process is chaosdeck itself.
  tmux -L "$socket" display-message -p '#{pane_pid}'
}

at_rest() {
  local pid=$1 before after
  before=$(ticks "$pid"); sleep "$window"; after=$(ticks "$pid")
  percent "$((after - before))" "$window"
}

pid=$(start_tui)
idle_none=$(at_rest "$pid")

echo "starting $count containers..." >&2
for i in $(seq 1 "$count"); do
  docker run -d --name "$prefix-$i" chaosdeck-busybox:local sleep 3600 >/dev/null
done
sleep 5
idle_thirty=$(at_rest "$pid")
peak=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")

# A run: start it from the plan and measure until it ends (about 20 s).
before=$(ticks "$pid"); t0=$(date +%s%N)
tmux -L "$socket" send-keys s; sleep 0.5; tmux -L "$socket" send-keys y
until tmux -L "$socket" capture-pane -p | grep -q "PASSED\|FAILED"; do sleep 0.2; done
t1=$(date +%s%N); after=$(ticks "$pid")
run_seconds=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", (b - a) / 1e9}')
during=$(percent "$((after - before))" "$run_seconds")

printf '\n| figure | measured | goal |\n| --- | --- | --- |\n'
printf '| CPU at rest, no container (%ss) | %s %% | < 0.05 %% |\n' "$window" "$idle_none"
printf '| CPU at rest, %s running containers (%ss) | %s %% | < 0.3 %% |\n' "$count" "$window" "$idle_thirty"
printf '| CPU during a run (%s s) | %s %% | < 2 %% |\n' "$run_seconds" "$during"
printf '| peak memory with %s containers | %s KiB | < 12 MiB |\n' "$count" "$peak"

#!/usr/bin/env bash
# Health watcher figures (issue #4), with 30 running busybox containers (`sleep 3600`):
#  - the watcher's own CPU over a window, as % of one core (from /proc/PID/stat utime+stime);
#  - dockerd's (and containerd's) CPU over the same length of window without and with the watcher;
#  - the time from killing one container to the snapshot showing it exited (median of several),
#    counted from before the kill request, and from the engine's own `die` event.
# The watcher runs as examples/watch.rs (release), which prints a timestamped line per snapshot.
# Usage: bench/watcher.sh [WINDOW_SECONDS] [STOPS]   (defaults 60 and 9; needs docker and curl)
set -euo pipefail
cd "$(dirname "$0")/.."
window=${1:-60}
stops=${2:-9}
count=30
socket=/var/run/docker.sock
prefix=chaosdeck-watch-bench-$$

cargo build --release --quiet --example watch
bin=${CARGO_TARGET_DIR:-$PWD/target}/release/examples/watch
scripts/build-images.sh busybox >/dev/null
work=$(mktemp -d)
watcher=
events=
cleanup() {
  [ -n "$watcher" ] && kill "$watcher" 2>/dev/null
  [ -n "$events" ] && kill "$events" 2>/dev/null
  docker ps -aq --filter "name=^/$prefix-" | xargs -r docker rm -f >/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

ticks_per_second=$(getconf CLK_TCK)
# utime + stime in clock ticks; the fields after the command name, which may hold spaces.
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
now_ns() { date +%s%N; }
percent() { awk -v t="$1" -v s="$2" -v hz="$ticks_per_second" 'BEGIN {printf "%.3f", 100 * t / hz / s}'; }
median() { sort -n | awk '{v[NR]=$1} END {if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }

# Measures the CPU ticks of the given processes over the window; prints "ticks..." and seconds.
measure() {
  local before=() after=() start end i
  for pid in "$@"; do before+=("$(cpu_ticks "$pid")"); done
  start=$(now_ns)
  sleep "$window"
  end=$(now_ns)
  for pid in "$@"; do after+=("$(cpu_ticks "$pid")"); done
  for i in "${!before[@]}"; do printf '%s ' "$((after[i] - before[i]))"; done
  awk -v a="$start" -v b="$end" 'BEGIN {printf "%.3f\n", (b - a) / 1e9}'
}

dockerd=$(pidof dockerd)
containerd=$(pidof containerd || echo "$dockerd")
echo "starting $count containers..." >&2
for i in $(seq 1 "$count"); do
  docker run -d --name "$prefix-$i" chaosdeck-busybox:local sleep 3600 >/dev/null
done
sleep 5

echo "window without the watcher (${window}s)..." >&2
read -r engine_idle containerd_idle idle_seconds < <(measure "$dockerd" "$containerd")

"$bin" "$prefix-" >"$work/out" &
watcher=$!
# Wait until every container shows a CPU figure: all stats streams are open and settled.
for _ in $(seq 600); do
  shown=$(grep -c " container $prefix-.* running .* cpu=[0-9]" "$work/out" || true)
  [ "$shown" -ge "$count" ] && break
  sleep 0.1
done
sleep 3
echo "window with the watcher (${window}s)..." >&2
snapshots_before=$(grep -c ' snapshot ' "$work/out")
read -r own engine_busy containerd_busy busy_seconds < <(measure "$watcher" "$dockerd" "$containerd")
snapshots_during=$(($(grep -c ' snapshot ' "$work/out") - snapshots_before))
rss_kib=$(awk '/VmRSS/ {print $2}' "/proc/$watcher/status")

echo "stop latency ($stops kills)..." >&2
docker events --filter type=container --filter event=die \
  --format '{{.TimeNano}} {{.Actor.Attributes.name}}' >"$work/events" &
events=$!
sleep 1
: >"$work/from_request"
: >"$work/from_event"
for i in $(seq 1 "$stops"); do
  name="$prefix-$i"
  sent=$(now_ns)
  curl -sf --unix-socket "$socket" -X POST "http://localhost/containers/$name/kill" >/dev/null
  shown_ms=
  for _ in $(seq 200); do
    shown_ms=$(awk -v n="$name" '$2 == "container" && $3 == n && $4 == "exited" {print $1; exit}' "$work/out")
    [ -n "$shown_ms" ] && break
    sleep 0.05
  done
  [ -n "$shown_ms" ] || { echo "error: no snapshot showed $name exited" >&2; exit 1; }
  awk -v s="$shown_ms" -v t="$sent" 'BEGIN {print s - t / 1e6}' >>"$work/from_request"
  died_ns=$(awk -v n="$name" '$2 == n {print $1; exit}' "$work/events")
  [ -n "$died_ns" ] && awk -v s="$shown_ms" -v t="$died_ns" 'BEGIN {print s - t / 1e6}' >>"$work/from_event"
  sleep 0.5
done

printf '\nwatcher with %d running containers, %ss windows, %d cores, CLK_TCK %s\n' \
  "$count" "$window" "$(nproc)" "$ticks_per_second"
printf '%-46s %12s\n' "figure" "value"
printf '%-46s %12s\n' "watcher CPU (% of one core; goal < 0.3)" "$(percent "$own" "$busy_seconds")"
printf '%-46s %12s\n' "watcher RSS (MiB)" "$(awk -v k="$rss_kib" 'BEGIN {printf "%.1f", k / 1024}')"
printf '%-46s %12s\n' "snapshots published in the window" "$snapshots_during"
printf '%-46s %12s\n' "dockerd CPU without watcher (%)" "$(percent "$engine_idle" "$idle_seconds")"
printf '%-46s %12s\n' "dockerd CPU with watcher (%)" "$(percent "$engine_busy" "$busy_seconds")"
printf '%-46s %12s\n' "containerd CPU without watcher (%)" "$(percent "$containerd_idle" "$idle_seconds")"
printf '%-46s %12s\n' "containerd CPU with watcher (%)" "$(percent "$containerd_busy" "$busy_seconds")"
printf '%-46s %12s\n' "kill request → snapshot, median ms (goal < 200)" "$(median <"$work/from_request")"
printf '%-46s %12s\n' "  (all, ms)" "$(sort -n "$work/from_request" | tr '\n' ' ')"
printf '%-46s %12s\n' "engine die event → snapshot, median ms" "$(median <"$work/from_event")"

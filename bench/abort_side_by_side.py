"""Abort latency, side by side: the time from a signal sent to the tool's PID to the first
rollback's HTTP request reaching the loopback target (target.py's arrival log, monotonic clock),
with a process (`sleep`) and with an HTTP request (to /hang) in flight. Chaos Toolkit runs with
`--rollback-strategy always` (its default plays no rollback after a signal), chaosdeck with the
same flag. Tools alternate run by run. Also counts in-flight `sleep` processes left running after
the tool exited (and ends them).

Usage: abort_side_by_side.py CHAOS CHAOSDECK WORKDIR BASE_URL ARRIVAL_LOG RUNS
Prints one JSON object per line: {"tool", "in_flight", "signal", "ms": [...], "orphans": N}.
"""
import json
import os
import signal
import statistics
import subprocess
import sys
import time

chaos, chaosdeck, work, base, log, runs = sys.argv[1:7]
runs = int(runs)
SLEEP = "21.5"  # a distinctive argument, so leftover children can be found and ended
IN_FLIGHT = {
    "process": ({"type": "process", "path": "sleep", "arguments": [SLEEP]}, "/mark"),
    "http": ({"type": "http", "url": f"{base}/hang", "timeout": 25}, "/hang"),
}


def experiment(kind):
    provider, _ = IN_FLIGHT[kind]
    doc = {
        "title": "abort latency", "description": "bench",
        "method": [
            {"type": "action", "name": "mark", "provider": {"type": "http", "url": f"{base}/mark"}},
            {"type": "action", "name": "in-flight", "provider": provider},
        ],
        "rollbacks": [{"type": "action", "name": "undo",
                       "provider": {"type": "http", "url": f"{base}/rollback"}}],
    }
    path = os.path.join(work, f"abort-{kind}.json")
    with open(path, "w") as f:
        json.dump(doc, f)
    return path


def arrivals(path):
    try:
        with open(path) as f:
            return [(float(t), p) for t, _, p in (line.split() for line in f)]
    except FileNotFoundError:
        return []


def wait_for(path, since, deadline):
    while time.monotonic() < deadline:
        for t, p in arrivals(log):
            if p == path and t >= since:
                return t
        time.sleep(0.002)
    return None


def leftover_sleeps():
    pids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/cmdline", "rb") as f:
                    if f.read().split(b"\0")[:2] == [b"sleep", SLEEP.encode()]:
                        pids.append(int(d))
            except OSError:
                pass
    return pids


def once(tool, kind, sig):
    exp = experiment(kind)
    journal = os.path.join(work, "abort-journal.json")
    if tool == "ctk":
        cmd = [chaos, "--no-version-check", "--no-log-file", "--settings", os.path.join(work, "none.yaml"),
               "run", "--rollback-strategy", "always", "--journal-path", journal, exp]
    else:
        cmd = [chaosdeck, "run", "--rollback-strategy", "always", "--journal-path", journal, exp]
    start = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _, in_flight_path = IN_FLIGHT[kind]
        if wait_for(in_flight_path, start, start + 30) is None:
            raise RuntimeError(f"{tool}: the in-flight activity never started")
        time.sleep(0.1)  # the process is spawned / the request has left
        sent = time.monotonic()
        p.send_signal(sig)
        arrived = wait_for("/rollback", sent, sent + 30)
        p.wait(timeout=40)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    orphans = leftover_sleeps()
    for pid in orphans:
        os.kill(pid, signal.SIGKILL)
    return (None if arrived is None else (arrived - sent) * 1000), len(orphans)


plan = [("process", signal.SIGTERM), ("http", signal.SIGTERM), ("process", signal.SIGINT)]
for kind, sig in plan:
    res = {"ctk": ([], 0), "chaosdeck": ([], 0)}
    # SIGINT leaves Chaos Toolkit waiting for the in-flight action: fewer runs of it.
    for i in range(runs if sig != signal.SIGINT else min(runs, 3)):
        for tool in (("ctk", "chaosdeck") if i % 2 == 0 else ("chaosdeck", "ctk")):
            ms, orphans = once(tool, kind, sig)
            times, n = res[tool]
            times.append(ms)
            res[tool] = (times, n + orphans)
    for tool, (times, orphans) in res.items():
        print(json.dumps({"tool": tool, "in_flight": kind, "signal": sig.name, "ms": times, "orphans": orphans}), flush=True)

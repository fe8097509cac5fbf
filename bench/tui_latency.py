#!/usr/bin/env python3
"""Two TUI latencies (issue #5), read off the bytes the terminal receives.

The release binary runs on a pseudo-terminal of 200x60 that this script owns, so every byte the
TUI writes is seen the moment it is written (tmux's capture-pane polls far too coarsely to time
16 ms). Figures, over ROUNDS starts:

  first frame   from just before the process is started to the moment the screen's last row
                (the key hints, drawn last in a frame: its "quit") has arrived;
  abort         from the moment `a` is written to the terminal, while an action is in flight,
                to the moment the screen shows the "Rollbacks" phase header.

The screen is kept by pyte, a terminal emulator (pip install pyte).

Usage: bench/tui_latency.py BINARY [ROUNDS]     (default 20; no Docker, no network)
"""

import fcntl
import os
import pty
import select
import shutil
import signal
import statistics
import struct
import sys
import tempfile
import termios
import time

try:
    import pyte
except ImportError:
    sys.exit("bench/tui_latency.py needs pyte (a terminal emulator): pip install pyte")

COLUMNS, ROWS = 200, 60

EXPERIMENT = """title: latency bench
description: one long action, then a rollback
method:
  - type: action
    name: long-action
    provider: {type: process, path: sleep, arguments: "30"}
rollbacks:
  - type: action
    name: undo
    provider: {type: process, path: "true"}
"""


def spawn(binary, folder, data):
    """Starts the TUI on a fresh pseudo-terminal; returns (pid, master fd, start time)."""
    env = dict(os.environ, XDG_DATA_HOME=data, NO_COLOR="1", TERM="xterm-256color")
    started = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
        os.execve(binary, [binary, "--experiments", folder], env)
    return pid, fd, started


class Screen:
    """What the terminal shows, kept by a terminal emulator (pyte) fed the TUI's output."""

    def __init__(self, fd):
        self.fd = fd
        self.screen = pyte.Screen(COLUMNS, ROWS)
        self.stream = pyte.ByteStream(self.screen)

    def shows(self, marker):
        return any(marker in line for line in self.screen.display)

    def record(self, marker, deadline=10.0):
        """Reads and timestamps the output, without interpreting it, for as long as it keeps
        coming (or `deadline`); then replays it through the emulator and returns the arrival
        time of the chunk after which the screen shows `marker`. Interpreting later keeps the
        emulator's own slowness out of the figure."""
        chunks = []
        end = time.perf_counter() + deadline
        quiet = 0.5
        while time.perf_counter() < end:
            ready, _, _ = select.select([self.fd], [], [], quiet)
            if not ready:
                break
            chunk = os.read(self.fd, 65536)
            if not chunk:
                break
            chunks.append((time.perf_counter(), chunk))
        shown_at = None
        for at, chunk in chunks:
            self.stream.feed(chunk)
            if shown_at is None and self.shows(marker):
                shown_at = at
        if shown_at is None:
            shown = "\n".join(self.screen.display)
            raise TimeoutError(f"{marker!r} never shown; the screen:\n{shown}")
        return shown_at

    def wait(self, marker, deadline=10.0):
        """Reads until the screen shows `marker`; returns the moment it did."""
        end = time.perf_counter() + deadline
        while not self.shows(marker):
            left = end - time.perf_counter()
            if left <= 0:
                shown = "\n".join(self.screen.display)
                raise TimeoutError(f"{marker!r} never shown; the screen:\n{shown}")
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                chunk = os.read(self.fd, 65536)
                if not chunk:
                    raise EOFError("the TUI closed the terminal")
                self.stream.feed(chunk)
        return time.perf_counter()


def stop(pid, fd):
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    os.waitpid(pid, 0)
    os.close(fd)


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    binary = os.path.abspath(sys.argv[1])
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    work = tempfile.mkdtemp(prefix="chaosdeck-latency-")
    try:
        folder = os.path.join(work, "experiments")
        os.makedirs(folder)
        with open(os.path.join(folder, "latency.yaml"), "w") as f:
            f.write(EXPERIMENT)
        first, abort = [], []
        for i in range(rounds):
            data = os.path.join(work, f"data-{i}")
            pid, fd, started = spawn(binary, folder, data)
            screen = Screen(fd)
            try:
                first.append(screen.record("quit") - started)
                # Wait for the catalog, open the plan, start, and wait for the action to run.
                screen.wait("never run")
                os.write(fd, b"s")
                screen.wait("long-action")
                os.write(fd, b"y")
                screen.wait("pause/resume")
                time.sleep(0.3)
                screen.wait("pause/resume")
                assert not screen.shows("Rollbacks"), "rollbacks on screen before the abort"
                pressed = time.perf_counter()
                os.write(fd, b"a")
                abort.append(screen.record("Rollbacks") - pressed)
            finally:
                stop(pid, fd)
        for name, values, goal in (
            ("first frame after start", first, 40),
            ("abort key to rollback on screen", abort, 16),
        ):
            ms = sorted(v * 1000 for v in values)
            p95 = ms[min(len(ms) - 1, int(round(0.95 * (len(ms) - 1))))]
            print(
                f"| {name} | median {statistics.median(ms):.1f} ms, p95 {p95:.1f} ms, "
                f"max {ms[-1]:.1f} ms ({len(ms)} runs) | < {goal} ms |"
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

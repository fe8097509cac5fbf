#!/usr/bin/env python3
"""Two TUI latencies (issue #5), read off the bytes the terminal receives.

The release binary runs on a pseudo-terminal of 200x60 that this script owns, so every byte the
TUI writes is seen the moment it is written (tmux's capture-pane polls far too coarsely to time
16 ms). Figures, over ROUNDS starts:

  first frame   from just before the process is started to the moment the screen's last row
                (the key hints, drawn last in a frame: its "quit") has arrived;
  abort         from the moment `a` is written to the terminal, while an action is in flight,
                to the moment the "Rollbacks" phase header has arrived.

Usage: bench/tui_latency.py BINARY [ROUNDS]     (default 20; no Docker, no network)
"""

import fcntl
import os
import pty
import re
import select
import shutil
import signal
import statistics
import struct
import sys
import tempfile
import termios
import time

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


# Escape sequences (colours, cursor moves) sit between the characters of a text on screen.
ESCAPES = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]")


class Screen:
    """The terminal's output so far, escape sequences left out."""

    def __init__(self, fd):
        self.fd = fd
        self.raw = b""
        self.text = b""

    def mark(self):
        """A position: `wait` can ask for a marker written after it."""
        return len(self.text)

    def wait(self, marker, since=0, deadline=10.0):
        """Reads until `marker` has arrived after position `since`; returns the moment it did."""
        end = time.perf_counter() + deadline
        while marker not in self.text[since:]:
            left = end - time.perf_counter()
            if left <= 0:
                raise TimeoutError(f"{marker!r} never arrived; last: {self.text[-300:]!r}")
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                chunk = os.read(self.fd, 65536)
                if not chunk:
                    raise EOFError("the TUI closed the terminal")
                self.raw += chunk
                # Strip whole escape sequences only; a cut one waits for its end.
                cut = self.raw.rfind(b"\x1b")
                if cut == -1 or ESCAPES.match(self.raw, cut):
                    cut = len(self.raw)
                self.text += ESCAPES.sub(b"", self.raw[:cut])
                self.raw = self.raw[cut:]
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
                first.append(screen.wait(b"quit") - started)
                # Wait for the catalog, open the plan, start, and wait for the action to run.
                screen.wait(b"never")
                mark = screen.mark()
                os.write(fd, b"s")
                screen.wait(b"long-action", mark)
                mark = screen.mark()
                os.write(fd, b"y")
                screen.wait(b"pause/resume", mark)
                time.sleep(0.3)
                mark = screen.mark()
                pressed = time.perf_counter()
                os.write(fd, b"a")
                abort.append(screen.wait(b"Rollbacks", mark) - pressed)
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

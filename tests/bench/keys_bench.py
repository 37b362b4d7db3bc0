"""Key response of the real workbench in a terminal: how soon a key shows its screen while Liferaft is busy.

Each figure starts ``liferaft`` in a pseudo-terminal, waits for its first frame (or for the busy moment the
figure is about), presses a key the way a terminal sends it, and times until the key's screen is drawn (its text
reaches the terminal). The floor is the same measure on a minimal Textual app: ctrl+p 0.1 s after its first
frame, until its command palette is drawn (for ctrl+q: its ctrl+q, until its process is gone). Figures are the
95th percentile of the runs (with few runs, the slowest), against the floor's median.

Run with ``python tests/bench/run.py keys``.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable
from pathlib import Path

from run import ENV, HERE, Figure, big_csv, liferaft_command

CTRL_P = b"\x10"
CTRL_Q = b"\x11"
F1 = b"\x1bOP"
PALETTE = b"earch for commands"  # the first letter is drawn under the cursor, in another style
HELP = b"esc to close"


class Terminal:
    """A process in a pseudo-terminal whose output is read (and kept) as it comes."""

    def __init__(self, command: list[str], columns: int = 120, rows: int = 40) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        env = {**ENV, "TERM": "xterm-256color", "COLUMNS": str(columns), "LINES": str(rows)}
        env.pop("TEXTUAL", None)
        self.started = time.perf_counter()
        self.process = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=slave, env=env,
                                        start_new_session=True)
        os.close(slave)
        self.output = bytearray()

    def read(self, seconds: float) -> None:
        deadline = time.perf_counter() + seconds
        while True:
            remaining = deadline - time.perf_counter()
            if remaining <= 0 or not select.select([self.master], [], [], remaining)[0]:
                return
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.output += chunk

    def wait_for(self, marker: bytes, timeout: float = 60.0, since: int = 0) -> float:
        """Read until ``marker`` appears in the output after offset ``since``; the time it did."""
        deadline = time.perf_counter() + timeout
        while marker not in self.output[max(0, since - len(marker)):]:
            if time.perf_counter() > deadline:
                raise RuntimeError(f"{marker!r} did not appear within {timeout:g} s")
            if self.process.poll() is not None:
                raise RuntimeError(f"the program exited with {self.process.returncode} before {marker!r}")
            self.read(0.005)
        return time.perf_counter()

    def press(self, key: bytes, marker: bytes, timeout: float = 60.0) -> float:
        """Seconds from ``key`` sent to ``marker`` drawn."""
        since = len(self.output)
        sent = time.perf_counter()
        os.write(self.master, key)
        return self.wait_for(marker, timeout, since) - sent

    def close(self) -> None:
        if self.process.poll() is None:
            with_group = getattr(os, "killpg", None)
            try:
                if with_group is not None:
                    with_group(self.process.pid, signal.SIGKILL)
                else:
                    self.process.kill()
            except ProcessLookupError:
                pass
        self.process.wait()
        os.close(self.master)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def minimal_palette(repeat: int) -> float:
    """The floor: ctrl+p 0.1 s after a minimal Textual app's first frame, until its palette is drawn."""
    times = []
    for _ in range(repeat):
        terminal = Terminal([sys.executable, str(HERE / "minimal_app.py"), "--stay"])
        try:
            terminal.wait_for(b"hello")
            terminal.read(0.1)
            times.append(terminal.press(CTRL_P, PALETTE))
        finally:
            terminal.close()
    return statistics.median(times)


def seconds_to_exit(terminal: Terminal) -> float:
    """Seconds from ctrl+q sent to the process gone (the terminal given back and the shell's prompt free)."""
    sent = time.perf_counter()
    os.write(terminal.master, CTRL_Q)
    while terminal.process.poll() is None and time.perf_counter() - sent < 60:
        terminal.read(0.01)
    return time.perf_counter() - sent


def minimal_exit(repeat: int, delay: float = 2.5) -> float:
    """The floor of the ctrl+q figure: a minimal Textual app, ctrl+q ``delay`` s after its first frame, until its
    process is gone (Textual's own leaving: its input thread is waited for, a tenth of a second or two)."""
    times = []
    for _ in range(repeat):
        terminal = Terminal([sys.executable, str(HERE / "minimal_app.py"), "--stay"])
        try:
            terminal.wait_for(b"hello")
            terminal.read(delay)
            times.append(seconds_to_exit(terminal))
        finally:
            terminal.close()
    return statistics.median(times)


def key_after_start(root: Path, key: bytes, marker: bytes, repeat: int, delay: float = 0.1,
                    before: Callable[[Terminal], None] | None = None) -> list[float]:
    """``key`` pressed ``delay`` s after the workbench's first frame on ``root``, until ``marker`` is drawn."""
    times = []
    for _ in range(repeat):
        terminal = Terminal([*liferaft_command(), str(root)])
        try:
            terminal.wait_for(b"Project")
            terminal.read(delay)
            if before is not None:
                before(terminal)
            times.append(terminal.press(key, marker))
        finally:
            terminal.close()
    return times


def many_files(work: Path, count: int = 200_000) -> Path:
    """A project of ``count`` small files (made once per run, shared)."""
    root = work.parent / "shared" / f"files-{count}"
    done = root / ".made"
    if done.exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    per_folder = 1000
    for n in range(count):
        if n % per_folder == 0:
            role = ("SOURCE", "OUTPUT", "CODE")[(n // per_folder) % 3]
            folder = root / role / f"batch_{n // per_folder:04d}"
            folder.mkdir(parents=True, exist_ok=True)
        suffix = (".csv", ".png", ".py")[n % 3]
        (folder / f"file_{n:06d}{suffix}").write_bytes(b"id,value\n1,2\n")
    done.write_text("")
    os.sync()  # the kernel's write-back of 200,000 new files is not part of any figure
    return root


def watch_latency(work: Path, count: int = 15) -> list[float]:
    """Seconds from a file written into a watched OUTPUT folder to its name drawn, in a real terminal."""
    root = work / "watched"
    (root / "SOURCE").mkdir(parents=True)
    (root / "OUTPUT").mkdir()
    (root / "SOURCE" / "data.csv").write_text("a,b\n1,2\n")
    terminal = Terminal([*liferaft_command(), str(root)], columns=160, rows=48)
    times = []
    try:
        terminal.wait_for(b"Project")
        terminal.read(3.0)  # the watcher is up, the first checks are done
        for n in range(count):
            name = f"fig_{n:02d}_watch.png"
            since = len(terminal.output)
            written = time.perf_counter()
            (root / "OUTPUT" / name).write_bytes(b"x")
            times.append(terminal.wait_for(name.encode(), 30, since) - written)
            terminal.read(0.5)
    finally:
        terminal.close()
    return times


def bench_keys(work: Path, repeat: int) -> list[Figure]:
    floor = minimal_palette(repeat)
    latencies = watch_latency(work)
    figures: list[Figure] = [Figure("watch: file written → its row drawn, median", statistics.median(latencies), 0.1,
                                    1.0, floor_name="the 100 ms target", limit=0.1)]
    name = "palette of a minimal Textual app"

    demo = work / "demo"
    subprocess.run([*liferaft_command(), "demo", str(demo), "--no-open"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    figures.append(Figure("ctrl+p 0.1 s after the first frame (demo), p95",
                          p95(key_after_start(demo, CTRL_P, PALETTE, repeat)), floor, 1.5, floor_name=name))
    figures.append(Figure("F1 0.1 s after the first frame (demo), p95",
                          p95(key_after_start(demo, F1, HELP, repeat)), floor, 1.5, floor_name=name))

    big = work / "big-project"
    (big / "SOURCE").mkdir(parents=True)
    os.link(big_csv(work), big / "SOURCE" / "orders.csv")
    os.sync()  # nor that of the 1 GB file just made
    figures.append(Figure("ctrl+p during a 1 GB check, p95",
                          p95(key_after_start(big, CTRL_P, PALETTE, repeat, delay=0.5)), floor, 1.5,
                          floor_name=name))

    writer = ("import sys, pathlib\nfolder = pathlib.Path(sys.argv[1])\n"
              "for n in range(10_000): (folder / f'chart_{n:05d}.png').write_bytes(b'x')\n")
    writers: list[subprocess.Popen[bytes]] = []

    def start_burst(terminal: Terminal) -> None:
        writers.append(subprocess.Popen([sys.executable, "-c", writer, str(burst / "OUTPUT")]))
        terminal.read(0.3)

    times = []
    for run in range(repeat):  # each run a project of its own: the burst lands in a folder of a few files
        burst = work / f"burst-project-{run}"
        (burst / "SOURCE").mkdir(parents=True)
        (burst / "OUTPUT").mkdir()
        (burst / "SOURCE" / "data.csv").write_text("a,b\n1,2\n")
        times += key_after_start(burst, CTRL_P, PALETTE, 1, delay=1.5, before=start_burst)
        for process in writers:
            process.wait()
        shutil.rmtree(burst, ignore_errors=True)
        os.sync()
    figures.append(Figure("ctrl+p during a 10,000-file burst, p95", p95(times), floor, 1.5, floor_name=name))

    many = many_files(work)
    figures.append(Figure("ctrl+p 0.1 s after the first frame (200,000 files), p95",
                          p95(key_after_start(many, CTRL_P, PALETTE, repeat)), floor, 1.5, floor_name=name))
    exits = []
    for _ in range(repeat):
        terminal = Terminal([*liferaft_command(), str(many)])
        try:
            terminal.wait_for(b"Project")
            terminal.read(2.5)
            exits.append(seconds_to_exit(terminal))
        finally:
            terminal.close()
    # Leaving is judged against leaving: the minimal app's ctrl+q (its palette opens faster than any app exits).
    figures.append(Figure("ctrl+q 2.5 s after start (200,000 files), p95", p95(exits), minimal_exit(repeat), 1.5,
                          floor_name="ctrl+q of a minimal Textual app"))
    return figures

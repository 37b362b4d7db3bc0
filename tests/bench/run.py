"""Liferaft's benchmarks: each figure beside a floor measured in the same run, as a ratio.

    python tests/bench/run.py                 # everything
    python tests/bench/run.py scan            # only benchmarks whose name contains "scan"
    python tests/bench/run.py --repeat 9      # more runs per figure (the median is reported)

Inputs are generated in a temporary folder. Machines here are shared and noisy, so every figure is the
median of several runs, alternating the command and its floor. Exit code 1 when a target is missed.
Run it with the Python of the environment Liferaft is installed in.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent

# A user's Python caches compiled modules; a session with PYTHONDONTWRITEBYTECODE set would recompile
# Liferaft on every run and measure the compiler, not the program. Both sides get the same environment.
ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


def liferaft_command() -> list[str]:
    script = Path(sys.executable).parent / "liferaft"
    return [str(script)] if script.exists() else [sys.executable, "-m", "liferaft"]


@dataclass
class Figure:
    name: str
    value: float
    floor: float
    target: float
    unit: str = "s"
    floor_name: str = ""

    @property
    def ratio(self) -> float:
        return self.value / self.floor if self.floor else float("inf")

    @property
    def ok(self) -> bool:
        return self.ratio <= self.target


# --- timing helpers ----------------------------------------------------------------------------------


def time_process(command: Sequence[str]) -> float:
    """Wall time of a whole process, output discarded."""
    start = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=ENV)
    return time.perf_counter() - start


def time_in_terminal(command: Sequence[str], columns: int = 120, rows: int = 40, timeout: float = 30) -> float:
    """Wall time of a process running in a pseudo-terminal of the given size, until it exits."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    env = {**ENV, "TERM": "xterm-256color", "COLUMNS": str(columns), "LINES": str(rows)}
    env.pop("TEXTUAL", None)
    start = time.perf_counter()
    process = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True)
    os.close(slave)
    deadline = start + timeout
    try:
        while process.poll() is None:
            if time.perf_counter() > deadline:
                process.kill()
                raise RuntimeError(f"{command} did not exit within {timeout} s")
            ready, _, _ = select.select([master], [], [], 0.01)
            if ready:
                try:
                    os.read(master, 65536)  # keep the terminal drained so the app never blocks on output
                except OSError:
                    break
        elapsed = time.perf_counter() - start
        process.wait()
    finally:
        os.close(master)
    if process.returncode != 0:
        raise RuntimeError(f"{command} exited with {process.returncode}")
    return elapsed


def paired_medians(measure_a: Callable[[], float], measure_b: Callable[[], float], repeat: int) -> tuple[float, float]:
    """Median of each after one discarded warm-up run of each, alternating A and B."""
    measure_a()
    measure_b()
    a_times, b_times = [], []
    for _ in range(repeat):
        a_times.append(measure_a())
        b_times.append(measure_b())
    return statistics.median(a_times), statistics.median(b_times)


# --- inputs ------------------------------------------------------------------------------------------


def make_scan_tree(root: Path, files: int = 20_000, total_bytes: int = 80_000_000) -> None:
    """~80 MB of small files in nested folders, laid out like a large, messy analysis project."""
    extensions = (".csv", ".csv", ".py", ".png", ".json", ".txt", ".md", ".parquet", ".xlsx", ".pdf")
    top = ("SOURCE", "CODE", "OUTPUT", "RESTART", "archive", "scratch", "data_old", "exports_2025")
    per_file = total_bytes // files
    block = (b"id,value,label\n" + b"1234,56.78,some text here\n" * (per_file // 26 + 1))[:per_file]
    made = 0
    folder_index = 0
    while made < files:
        folder = root / top[folder_index % len(top)] / f"batch_{folder_index // len(top):03d}" / "part"
        folder.mkdir(parents=True, exist_ok=True)
        for _ in range(50):
            if made >= files:
                break
            ext = extensions[made % len(extensions)]
            # About 1 % without an extension (README, LICENSE, Makefile...): these are sniffed.
            name = f"NOTES_{made:05d}" if made % 97 == 0 else f"file_{made:05d}{ext}"
            (folder / name).write_bytes(block)
            made += 1
        folder_index += 1


# --- benchmarks --------------------------------------------------------------------------------------


def drop_caches() -> bool:
    """Empty the kernel's page, dentry and inode caches (root on Linux only); False when not allowed."""
    try:
        os.sync()
        with open("/proc/sys/vm/drop_caches", "w") as caches:
            caches.write("3\n")
    except OSError:
        return False
    return True


def bench_scan(work: Path, repeat: int) -> list[Figure]:
    tree = work / "scan-tree"
    make_scan_tree(tree)
    liferaft = [*liferaft_command(), "scan", "--json", str(tree)]
    floor = [sys.executable, str(HERE / "walk_floor.py"), str(tree)]
    value, base = paired_medians(lambda: time_process(liferaft), lambda: time_process(floor), repeat)
    figures = [Figure("scan 20,000 files, warm cache", value, base, 1.5, floor_name="os.walk + stat")]
    if drop_caches():
        # A first look at a project the machine has not read lately: every stat goes to the disk.
        def cold(command: Sequence[str]) -> Callable[[], float]:
            return lambda: drop_caches() and time_process(command)

        value, base = paired_medians(cold(liferaft), cold(floor), repeat)
        figures.append(Figure("scan 20,000 files, cold cache", value, base, 1.5, floor_name="os.walk + stat"))
    else:
        print("(cold-cache scan skipped: dropping the kernel's caches needs root on Linux)")
    return figures


def bench_first_frame(work: Path, repeat: int) -> list[Figure]:
    demo = work / "demo"
    subprocess.run([*liferaft_command(), "demo", str(demo), "--no-open"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    liferaft = [*liferaft_command(), str(demo), "--first-frame-exit"]
    floor = [sys.executable, str(HERE / "minimal_app.py")]
    value, base = paired_medians(lambda: time_in_terminal(liferaft), lambda: time_in_terminal(floor), repeat)
    return [Figure("first frame, demo project", value, base, 1.5, floor_name="minimal Textual app")]


BENCHMARKS: dict[str, Callable[[Path, int], list[Figure]]] = {
    "scan": bench_scan,
    "first-frame": bench_first_frame,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("only", nargs="*", help="run only benchmarks whose name contains one of these")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per figure (default 5)")
    args = parser.parse_args(argv)
    chosen = {name: fn for name, fn in BENCHMARKS.items() if not args.only or any(o in name for o in args.only)}
    if not chosen:
        parser.error(f"no benchmark matches {args.only}; choose from {', '.join(BENCHMARKS)}")
    print(f"liferaft benchmarks · python {sys.version.split()[0]} · {os.cpu_count()} cores · median of {args.repeat}")
    print(f"{'figure':<44} {'value':>9} {'floor':>9} {'ratio':>7} {'target':>8}")
    figures: list[Figure] = []
    work = Path(tempfile.mkdtemp(prefix="liferaft-bench-"))
    try:
        for name, fn in chosen.items():
            for figure in fn(work / name, args.repeat):
                figures.append(figure)
                verdict = "ok" if figure.ok else "MISSED"
                print(
                    f"{figure.name:<44} {figure.value:>8.3f}{figure.unit} {figure.floor:>8.3f}{figure.unit} "
                    f"{figure.ratio:>6.2f}× {'≤' + format(figure.target, '.2f') + '×':>8}  {verdict}"
                    f"   (floor: {figure.floor_name})",
                    flush=True,
                )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if all(figure.ok for figure in figures) else 1


if __name__ == "__main__":
    sys.exit(main())

"""Liferaft's benchmarks: each figure beside a floor measured in the same run, as a ratio.

A figure with an absolute target (the 1 GB CSV preview and check: 1.0 s and 150 MB) is judged on its value;
its floor is shown for scale only.

    python tests/bench/run.py                 # everything
    python tests/bench/run.py scan            # only benchmarks whose name contains "scan"
    python tests/bench/run.py --repeat 9      # more runs per figure (the median is reported)

Inputs are generated in a temporary folder. Machines here are shared and noisy, so every figure is the
median of several runs, alternating the command and its floor. Exit code 1 when a target is missed.
Run it with the Python of the environment Liferaft is installed in.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import math
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
    limit: float | None = None
    """An absolute target (in ``unit``) instead of a ratio to the floor; the floor is then only for scale."""

    @property
    def ratio(self) -> float:
        return self.value / self.floor if self.floor else float("inf")

    @property
    def ok(self) -> bool:
        if self.limit is not None:
            return self.value <= self.limit
        return self.ratio <= self.target

    @property
    def target_text(self) -> str:
        if self.limit is not None:
            return f"≤{self.limit:g}{self.unit}"
        return f"≤{self.target:.2f}×"


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


def run_measured(command: Sequence[str], ok_codes: Sequence[int] = (0,)) -> tuple[float, float]:
    """Wall time (s) and peak resident memory (MB) of one whole process, output discarded."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    _, status, usage = os.wait4(process.pid, 0)  # this child's own rusage, not every child's maximum
    elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in ok_codes:
        raise RuntimeError(f"{command} exited with {process.returncode}")
    return elapsed, usage.ru_maxrss / 1024  # ru_maxrss is in KB on Linux


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


def big_csv(work: Path) -> Path:
    """The ~1 GB CSV, made once per run and shared by the benchmarks that read one (hard-link it elsewhere)."""
    path = work.parent / "shared" / "big.csv"
    if not path.exists():
        make_big_csv(path)
    return path


def make_big_csv(path: Path, total_bytes: int = 1_000_000_000) -> None:
    """A ~1 GB CSV of plausible rows (ids, dates, decimals, quoted text), written as one repeated block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    regions = ("North", "South", "East", "West")
    lines = ["order_id,order_date,region,revenue,paid,comment\n"]
    lines += [
        f'{i},2025-{i % 12 + 1:02d}-{i % 28 + 1:02d},{regions[i % 4]},{i % 9973 * 1.37:.2f},'
        f'{"true" if i % 3 else "false"},"note {i}, checked"\n'
        for i in range(1, 20_001)
    ]
    header, block = lines[0].encode(), "".join(lines[1:]).encode()
    with open(path, "wb") as out:
        out.write(header)
        for _ in range(total_bytes // len(block)):
            out.write(block)


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


def bench_scan_200k(work: Path, repeat: int) -> list[Figure]:
    """`liferaft scan --json` over 200,000 files, where fixed costs (start-up, imports) no longer dominate: its
    time against a plain os.walk + stat process, and its peak memory per file."""
    tree = work / "scan-200k"
    make_scan_tree(tree, files=200_000, total_bytes=100_000_000)
    liferaft = [*liferaft_command(), "scan", "--json", str(tree)]
    floor = [sys.executable, str(HERE / "walk_floor.py"), str(tree)]
    value, base = paired_medians(lambda: time_process(liferaft), lambda: time_process(floor), repeat)
    _, peak = run_measured(liferaft)
    per_file = peak * 1024 * 1024 / 200_000
    print(f"(scan 200,000 files: peak {peak:.0f} MB, {per_file:,.0f} bytes per file, the interpreter included)")
    return [Figure("scan 200,000 files, warm cache", value, base, 1.5, floor_name="os.walk + stat"),
            Figure("scan 200,000 files: memory per file", per_file, 1024, 1.0, unit="B",
                   floor_name="the 1 KB target", limit=1024)]


def bench_first_frame(work: Path, repeat: int) -> list[Figure]:
    demo = work / "demo"
    subprocess.run([*liferaft_command(), "demo", str(demo), "--no-open"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    liferaft = [*liferaft_command(), str(demo), "--first-frame-exit"]
    floor = [sys.executable, str(HERE / "minimal_app.py")]
    value, base = paired_medians(lambda: time_in_terminal(liferaft), lambda: time_in_terminal(floor), repeat)
    return [Figure("first frame, demo project", value, base, 1.5, floor_name="minimal Textual app")]


def bench_preview(work: Path, repeat: int) -> list[Figure]:
    big = big_csv(work)
    liferaft = [*liferaft_command(), "scan", "--inspect", str(big)]
    floor = ["wc", "-l", str(big)]
    run_measured(liferaft)  # warm-up: the page cache, compiled modules
    times, memories, floors = [], [], []
    for _ in range(repeat):
        elapsed, peak = run_measured(liferaft)
        times.append(elapsed)
        memories.append(peak)
        floors.append(run_measured(floor)[0])
    baseline = statistics.median(run_measured([*liferaft_command(), "--version"])[1] for _ in range(3))
    return [
        Figure("preview 1 GB CSV (scan --inspect)", statistics.median(times), statistics.median(floors), math.inf,
               floor_name="wc -l, same file", limit=1.0),
        Figure("preview 1 GB CSV, peak memory (worst run)", max(memories), baseline, math.inf, unit="MB",
               floor_name="liferaft --version", limit=150),
    ]


def bench_check(work: Path, repeat: int) -> list[Figure]:
    """`liferaft check` (the whole process) on a project whose SOURCE holds one 1 GB CSV."""
    source = work / "project" / "SOURCE"
    source.mkdir(parents=True)
    os.link(big_csv(work), source / "big.csv")
    liferaft = [*liferaft_command(), "check", str(work / "project")]
    floor = ["wc", "-l", str(source / "big.csv")]
    blocked = (0, 1)  # the file is too big to upload: check says so, and exits 1
    run_measured(liferaft, blocked)  # warm-up: the page cache, compiled modules
    times, memories, floors = [], [], []
    for _ in range(repeat):
        elapsed, peak = run_measured(liferaft, blocked)
        times.append(elapsed)
        memories.append(peak)
        floors.append(run_measured(floor)[0])
    baseline = statistics.median(run_measured([*liferaft_command(), "--version"])[1] for _ in range(3))
    return [
        Figure("check, SOURCE with a 1 GB CSV", statistics.median(times), statistics.median(floors), math.inf,
               floor_name="wc -l, same file", limit=1.0),
        Figure("check, peak memory (worst run)", max(memories), baseline, math.inf, unit="MB",
               floor_name="liferaft --version", limit=150),
    ]


def _head_of(source: Path, target: Path, size: int) -> None:
    """The first ``size`` bytes of ``source`` (up to a line break) as ``target``, copied in small pieces: the
    benchmark's own memory would show in the peak of the processes it starts (it is theirs until they exec)."""
    with open(source, "rb") as handle, open(target, "wb") as out:
        copied = 0
        while copied < size:
            chunk = handle.read(min(size - copied, 1 << 20))
            if not chunk:
                break
            copied += len(chunk)
            if copied >= size:
                chunk = chunk[: chunk.rindex(b"\n") + 1]
            out.write(chunk)


def bench_prepare(work: Path, repeat: int) -> list[Figure]:
    """`liferaft prepare FILE --split-mb 45` on a 1 GB CSV against `split --line-bytes=45M` of the same file.

    Both start from clean disk caches of written data (everything is synced before each run, and the parts of
    the run before are deleted first), since a split that is flushing the last run's gigabyte is slower.
    Liferaft fsyncs every part before it puts it in place; split does not, which is most of the difference.
    """
    if shutil.which("split") is None:
        print("(prepare figures skipped: they compare with `split`, which this system lacks)")
        return []
    work.mkdir(parents=True)
    big = work / "big.csv"
    os.link(big_csv(work), big)
    small = work / "small" / "big.csv"
    small.parent.mkdir()
    _head_of(big, small, 100_000_000)
    out = work / "split-out"

    def fresh() -> None:
        for folder in (work / "prepared", small.parent / "prepared", out):
            shutil.rmtree(folder, ignore_errors=True)
        out.mkdir()
        os.sync()

    def liferaft_run(path: Path) -> tuple[float, float]:
        fresh()
        return run_measured([*liferaft_command(), "prepare", str(path), str(path.parent), "--split-mb", "45"])

    def split_run() -> float:
        fresh()
        return run_measured(["split", "--line-bytes=45M", str(big), str(out / "part")])[0]

    liferaft_run(big)
    split_run()
    times, memories, floors = [], [], []
    for _ in range(repeat):
        elapsed, peak = liferaft_run(big)
        times.append(elapsed)
        memories.append(peak)
        floors.append(split_run())
    small_peak = max(liferaft_run(small)[1] for _ in range(3))
    fresh()
    return [
        Figure("prepare --split-mb 45, 1 GB CSV", statistics.median(times), statistics.median(floors), 3.0,
               floor_name="split --line-bytes=45M"),
        Figure("prepare --split-mb 45, peak memory (worst)", max(memories), small_peak, 1.25, unit="MB",
               floor_name="the same on a 100 MB CSV"),
    ]


#: How long the idle measurement watches the open workbench (seconds); LIFERAFT_BENCH_IDLE shortens it.
IDLE_SECONDS = float(os.environ.get("LIFERAFT_BENCH_IDLE", "60"))


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of process ``pid`` and of every process it started (the workbench's worker processes, which
    check the project while the workbench itself waits for them)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue  # gone meanwhile
            parents[int(entry.name)] = int(fields[1])
    family, total = {pid}, 0.0
    grew = True
    while grew:
        grew = False
        for child, parent in parents.items():
            if parent in family and child not in family:
                family.add(child)
                grew = True
    for member in family:
        with contextlib.suppress(OSError):  # ended meanwhile: its time is no longer counted
            total += _cpu_seconds(member)
    return total


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _rss_parts(pid: int) -> str:
    """Where a process's resident memory is: the main heap, other anonymous memory (thread arenas, large
    blocks), and mapped files (code, libraries), for the burst-memory figure's print-out."""
    parts = {"heap": 0, "anon": 0, "files": 0}
    kind = "files"
    try:
        for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
            fields = line.split()
            if not fields[0].endswith(":"):
                name = fields[5] if len(fields) > 5 else ""
                kind = "heap" if name == "[heap]" else "anon" if not name or name.startswith("[anon") else "files"
            elif fields[0] == "Rss:":
                parts[kind] += int(fields[1])
    except OSError:
        return "?"
    return " ".join(f"{name} {kb / 1024:.1f}" for name, kb in parts.items())


def bench_compose(work: Path, repeat: int) -> list[Figure]:
    """Assembling and secret-scanning the prompt of a project with 50 source files and 200 KB of code, in
    process (what the composer does on every change of an option), once its pieces are gathered."""
    from liferaft.core import compose
    from liferaft.core.project import open_project
    from liferaft.core.uploads import plan_uploads

    root = work / "compose"
    for number in range(50):
        path = root / "SOURCE" / f"table_{number:02d}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("id,region,month,revenue\n" + "".join(f"{i},North,2025-01,{i * 1.5}\n" for i in range(200)))
    for number in range(4):  # 4 × 50 KB of varied code: repeated lines would flatter the scanner
        path = root / "CODE" / f"step_{number}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        lines, size, i = [], 0, 0
        while size < 50_000:
            line = (f"frame_{number}_{i} = sales.loc[sales['region'] == 'R{i % 7}', ['order_id', 'revenue']]"
                    f".assign(share=lambda d: d['revenue'] / {i + 1}.5)  # step {i}: hash {i * 7919:08x}\n")
            lines.append(line)
            size += len(line)
            i += 1
        path.write_text("".join(lines))
    project = open_project(root)
    context = compose.gather(project.root, project.inventory, plan_uploads(project.inventory, check=False))
    templates, _ = compose.load_templates()
    times = []
    for _ in range(max(repeat, 5) * 6):
        started = time.perf_counter()
        prompt = compose.assemble(templates["rerun"], context, include_code=True, budget=200_000)
        compose.gate(prompt.text, context)
        times.append(time.perf_counter() - started)
    value = statistics.median(times)
    return [Figure("compose + secret scan, 50 files, 200 KB code", value, 0.05, 1.0, floor_name="the 50 ms target",
                   limit=0.05)]


def bench_idle(work: Path, repeat: int) -> list[Figure]:
    """The workbench open on the demo in a terminal, doing nothing: CPU over IDLE_SECONDS, and memory."""
    if not Path("/proc/self/stat").exists():
        print("(idle figures skipped: they read /proc, which this system lacks)")
        return []
    demo = work / "demo"
    subprocess.run([*liferaft_command(), "demo", str(demo), "--no-open"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    env = {**ENV, "TERM": "xterm-256color", "LIFERAFT_CONFIG_DIR": str(work / "config")}
    process = subprocess.Popen([*liferaft_command(), str(demo)], stdin=slave, stdout=slave, stderr=slave,
                               env=env, start_new_session=True)
    os.close(slave)

    def drain(seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if select.select([master], [], [], 0.05)[0]:
                try:
                    os.read(master, 65536)
                except OSError:
                    return

    try:
        drain(3.0)  # start-up, first scan, first frame
        rss = _rss_mb(process.pid)
        cpu_before, wall_before = _cpu_seconds(process.pid), time.monotonic()
        drain(IDLE_SECONDS)
        cpu = _cpu_seconds(process.pid) - cpu_before
        wall = time.monotonic() - wall_before
    finally:
        process.kill()
        process.wait()
        os.close(master)
    share = 100 * cpu / wall
    return [
        Figure(f"idle CPU over {wall:.0f} s, demo open", share, 100.0, 0, unit="%", limit=1.0,
               floor_name="one core = 100 %"),
        Figure("memory after opening the demo", rss, 150.0, 0, unit="MB", limit=150.0,
               floor_name="the limit, for scale"),
    ]


def bench_burst(work: Path, repeat: int) -> list[Figure]:
    """The workbench (in process, headless, watching) while another process writes 10,000 files into OUTPUT at
    once: the worst time from a key arriving to its action running, throughout, and how long from the last
    file written until the pane lists all of them (the writing itself is the disk's time, printed beside).

    A key is posted the way the terminal driver posts one, and timed until the pane's cursor action runs: the
    queue wait, the handler, and the interpreter lock held by the workers all count. (``pilot.press`` is no
    measure of this: it waits until the whole process is idle, up to a second.)"""
    import asyncio
    import subprocess

    from textual import events

    from liferaft.tui.app import LiferaftApp
    from liferaft.tui.widgets.project_pane import ProjectPane

    root = work / "burst"
    (root / "SOURCE").mkdir(parents=True)
    (root / "OUTPUT").mkdir()
    (root / "SOURCE" / "data.csv").write_text("a,b\n1,2\n")
    writer = ("import sys, pathlib\nfolder = pathlib.Path(sys.argv[1])\n"
              "for n in range(10_000): (folder / f'chart_{n:05d}.png').write_bytes(b'x')\n")

    async def run() -> tuple[float, float, int]:
        app = LiferaftApp(root, watch=True)
        async with app.run_test(size=(160, 48)) as pilot:
            for _ in range(200):
                if app.watcher is not None and app.watcher.running and app.project is not None:
                    break
                await pilot.pause(0.05)
            await pilot.pause(0.5)
            pane = app.query_one(ProjectPane)
            pane.focus()
            handled: list[float] = []
            cursor_down = pane.action_cursor_down

            def traced() -> None:
                handled.append(time.perf_counter())
                cursor_down()

            pane.action_cursor_down = traced  # type: ignore[method-assign]
            started = time.perf_counter()
            process = subprocess.Popen([sys.executable, "-c", writer, str(root / "OUTPUT")])
            worst, keys, done, written = 0.0, 0, None, None
            while time.perf_counter() - started < 20:
                count = len(handled)
                posted = time.perf_counter()
                app.post_message(events.Key("down", None))
                while len(handled) == count and time.perf_counter() - posted < 10:
                    await asyncio.sleep(0.002)
                worst = max(worst, (handled[-1] if len(handled) > count else time.perf_counter()) - posted)
                keys += 1
                project = app.project
                if written is None and process.poll() is not None:
                    written = time.perf_counter()  # all 10,000 are there now (to the nearest key)
                if written is not None and done is None and project is not None \
                        and pane._inventory is project.inventory \
                        and sum(1 for r in project.inventory.files if r.path.startswith("OUTPUT/")) == 10_000:
                    done = time.perf_counter() - written
                if done is not None and written is not None and time.perf_counter() - written > done + 1.0:
                    break  # a second more of keys once complete: the checks that follow count too
                await asyncio.sleep(0.05)
            process.wait()
            writing = (written or time.perf_counter()) - started
            return worst, done if done is not None else float("inf"), keys, writing

    worst, complete, keys, writing = asyncio.run(run())
    print(f"(burst: the other process took {writing:.2f} s to write the 10,000 files; keys were pressed all along)")
    return [Figure(f"10,000 files at once: slowest of {keys} keys", worst, 0.2, 1.0,
                   floor_name="the 200 ms target", limit=0.2),
            Figure("10,000 files at once: pane complete", complete, 3.0, 1.0, floor_name="the 3 s target", limit=3.0)]


def _settle(pid: int, drain: Callable[[float], None], *, window: float = 1.0, idle_share: float = 0.03,
            quiet_windows: int = 3, timeout: float = 180.0, peak: list[float] | None = None) -> float:
    """Wait until process ``pid`` and the processes it started have used under ``idle_share`` of a core for
    ``quiet_windows`` windows in a row (its watcher has caught up, its rescans and its checks in worker
    processes are done); returns the seconds waited. ``peak`` (one number) is raised to the highest RSS of
    ``pid`` seen meanwhile."""
    started = time.monotonic()
    quiet = 0
    while quiet < quiet_windows:
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"the workbench did not settle within {timeout:g} s")
        cpu_before, wall_before = _tree_cpu_seconds(pid), time.monotonic()
        end = wall_before + window
        while time.monotonic() < end:
            drain(0.05)
            if peak is not None:
                peak[0] = max(peak[0], _rss_mb(pid))
        share = (_tree_cpu_seconds(pid) - cpu_before) / (time.monotonic() - wall_before)
        quiet = quiet + 1 if share < idle_share else 0
    return time.monotonic() - started


#: Files written (then removed) by the burst-memory benchmark; LIFERAFT_BENCH_BURST_FILES changes it.
BURST_MEMORY_FILES = int(os.environ.get("LIFERAFT_BENCH_BURST_FILES", "50000"))


#: Workbenches the burst-memory figure is the median of (each one a fresh workbench and a fresh burst).
BURST_MEMORY_RUNS = 3


def bench_burst_memory(work: Path, repeat: int) -> list[Figure]:
    """A real workbench (``liferaft DIR``, in a terminal, watching) while another process writes 50,000 files
    into OUTPUT/ and then removes them again: its resident memory once everything has settled (the watcher has
    caught up, the rescans are done), against its memory before the burst. Peak memory is printed beside.

    "Settled" is the workbench and its worker processes using under 3 % of a core for 3 s in a row. The figure
    is the median of BURST_MEMORY_RUNS workbenches (how the allocator's free memory ends up scattered varies
    from run to run; each run's numbers are printed). Before the burst, a burst of 20 files
    (written and removed) warms up what any change brings in (the risk, the checks), so the figure is about
    what 50,000 files leave behind, not about modules loaded once."""
    if not Path("/proc/self/stat").exists():
        print("(burst-memory figure skipped: it reads /proc, which this system lacks)")
        return []
    runs = [_burst_memory_once(work / f"burst-{run}") for run in range(min(repeat, BURST_MEMORY_RUNS))]
    runs.sort(key=lambda run: run[1] / run[0])
    before, after, peak = runs[len(runs) // 2]  # the run with the median ratio
    return [Figure(f"burst memory: RSS after {BURST_MEMORY_FILES:,} files, median of {len(runs)}", after, before,
                   1.20, unit="MB", floor_name=f"RSS before the burst; peak {peak:.0f} MB")]


def _burst_memory_once(work: Path) -> tuple[float, float, float]:
    """One workbench through one burst: its RSS before, after (settled) and at the peak, in MB."""
    root = work / "project"
    (root / "SOURCE").mkdir(parents=True)
    (root / "OUTPUT").mkdir()
    (root / "CODE").mkdir()
    (root / "SOURCE" / "data.csv").write_text("id,value\n" + "".join(f"{i},{i * 1.5}\n" for i in range(200)))
    (root / "CODE" / "clean.py").write_text("import pandas as pd\nframe = pd.read_csv('SOURCE/data.csv')\n")
    output = root / "OUTPUT"
    writer = ("import sys, pathlib\nfolder, count = pathlib.Path(sys.argv[1]), int(sys.argv[2])\n"
              "for n in range(count): (folder / f'chart_{n:05d}.png').write_bytes(b'x' * 64)\n")
    remover = ("import sys, pathlib\nfolder, count = pathlib.Path(sys.argv[1]), int(sys.argv[2])\n"
               "for n in range(count): (folder / f'chart_{n:05d}.png').unlink()\n")

    def burst(count: int, drain: Callable[[float], None], pid: int, peak: list[float]) -> None:
        for script in (writer, remover):
            process = subprocess.Popen([sys.executable, "-c", script, str(output), str(count)], env=ENV)
            while process.poll() is None:
                drain(0.05)
                peak[0] = max(peak[0], _rss_mb(pid))
            if process.returncode != 0:
                raise RuntimeError(f"the burst's writer exited with {process.returncode}")
            _settle(pid, drain, peak=peak)

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    env = {**ENV, "TERM": "xterm-256color", "LIFERAFT_CONFIG_DIR": str(work / "config")}
    env.pop("TEXTUAL", None)
    process = subprocess.Popen([*liferaft_command(), str(root)], stdin=slave, stdout=slave, stderr=slave,
                               env=env, start_new_session=True)
    os.close(slave)

    def drain(seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([master], [], [], remaining)[0]:
                return
            try:
                os.read(master, 65536)  # keep the terminal drained so the app never blocks on output
            except OSError:
                return

    try:
        drain(2.0)  # start-up, first scan, first frame
        warm = [0.0]
        _settle(process.pid, drain)
        burst(20, drain, process.pid, warm)
        before = _rss_mb(process.pid)
        parts_before = _rss_parts(process.pid)
        peak = [before]
        started = time.monotonic()
        burst(BURST_MEMORY_FILES, drain, process.pid, peak)
        took = time.monotonic() - started
        after = _rss_mb(process.pid)
        parts_after = _rss_parts(process.pid)
        drain(10.0)
        later = _rss_mb(process.pid)  # printed beside: memory given back only after the figure was taken
        if process.poll() is not None:
            raise RuntimeError(f"the workbench exited with {process.returncode} during the burst")
    finally:
        process.kill()
        process.wait()
        os.close(master)
    print(f"(burst memory: {BURST_MEMORY_FILES:,} files written and removed, settled after {took:.1f} s; "
          f"RSS before {before:.1f} MB, peak {peak[0]:.1f} MB, after {after:.1f} MB, 10 s later {later:.1f} MB;\n"
          f" MB before: {parts_before}; after: {parts_after})")
    return before, after, peak[0]


def bench_watch(work: Path, repeat: int) -> list[Figure]:
    """The folder watcher in process (what the workbench runs in a worker): latency from a file written in a
    watched OUTPUT folder to the callback naming it, over 30 writes; and memory growth over 100,000 file
    changes reported (100 rounds of touching 1,000 files), measured after a warm-up."""
    import gc
    import random
    import threading

    from liferaft.core.watch import Watcher, WatchEvent

    root = work / "watched"
    (root / "OUTPUT").mkdir(parents=True)
    lock = threading.Condition()
    arrived: dict[str, float] = {}
    counted = [0]

    def on_event(event: WatchEvent) -> None:
        now = time.perf_counter()
        with lock:
            for change in event.changes:
                counted[0] += 1
                if change.path.startswith("OUTPUT/lat_") or change.path == "probe.csv":
                    arrived.setdefault(change.path, now)
            lock.notify_all()

    def wait(condition: Callable[[], bool], seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        with lock:
            while not condition():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                lock.wait(remaining)
        return True

    watcher = Watcher(root, on_event)
    watcher.start()
    try:
        # There is no "ready" signal: the first change seen says it is live. A probe written before the
        # watcher's first walk is part of its baseline, not a change, so it is written again until seen.
        for attempt in range(20):
            (root / "probe.csv").write_text("x" * (attempt + 1))
            if wait(lambda: "probe.csv" in arrived, 0.25):
                break
        else:
            raise RuntimeError("the watcher reported nothing within 5 s")
        latencies = []
        for number in range(30):
            rel = f"OUTPUT/lat_{number:02d}.csv"
            written = time.perf_counter()
            (root / rel).write_text("id,value\n1,2\n")
            if not wait(lambda rel=rel: rel in arrived, 2.0):
                latencies.append(2.0)  # counted as a 2 s latency: far over the limit
            else:
                latencies.append(arrived[rel] - written)
            time.sleep(random.uniform(0.02, 0.08))
        latencies.sort()
        median = statistics.median(latencies)
        p95 = latencies[min(len(latencies) - 1, math.ceil(0.95 * len(latencies)) - 1)]

        touched = root / "OUTPUT" / "touched"
        touched.mkdir()
        paths = [touched / f"t{number:04d}.csv" for number in range(1000)]
        for path in paths:
            path.write_bytes(b"x")
        stamp = [time.time_ns()]

        def rounds(count: int) -> None:
            for _ in range(count):
                target = counted[0] + len(paths)
                for path in paths:
                    stamp[0] += 1_000_000  # a distinct mtime each time: every touch is a real change
                    os.utime(path, ns=(stamp[0], stamp[0]))
                wait(lambda target=target: counted[0] >= target, 5.0)

        rounds(10)  # warm-up: the snapshot, the watcher's buffers, the allocator's pools
        gc.collect()
        before, start_count = _rss_mb(os.getpid()), counted[0]
        rounds(100)
        gc.collect()
        growth = _rss_mb(os.getpid()) - before
        events = counted[0] - start_count
    finally:
        watcher.stop()
    print(f"(watch: latency over {len(latencies)} writes; {events:,} changes reported in the memory run)")
    return [
        Figure("watch: write → callback, median", median, 0.2, math.inf, floor_name="the limit, for scale",
               limit=0.2),
        Figure("watch: write → callback, p95", p95, 0.4, math.inf, floor_name="the limit, for scale", limit=0.4),
        Figure("watch: memory growth, 100,000 changes", growth, 10.0, math.inf, unit="MB",
               floor_name="the limit, for scale", limit=10.0),
    ]


def bench_flag(work: Path, repeat: int) -> list[Figure]:
    """The watching workbench (in process, headless) on a project with a checkpoint: latency from a new file
    written in OUTPUT to its row drawn with the "unsaved" badge (watcher → scan → risk → pane), over 20 writes."""
    import asyncio
    import random

    from liferaft.core.checkpoints import record_checkpoint
    from liferaft.core.project import open_project
    from liferaft.tui.app import LiferaftApp
    from liferaft.tui.widgets.project_pane import ProjectPane

    root = work / "flagged"
    (root / "SOURCE").mkdir(parents=True)
    (root / "OUTPUT").mkdir()
    (root / "SOURCE" / "data.csv").write_text("a,b\n1,2\n")
    record_checkpoint(root, open_project(root).inventory, "start", now=time.time())

    def flagged_row(pane: ProjectPane, rel: str) -> bool:
        if rel not in pane.unsaved:
            return False
        for line in range(pane.last_line + 1):
            node = pane.get_node_at_line(line)
            record = getattr(node, "data", None) if node is not None else None
            if getattr(record, "path", None) == rel:
                return "unsaved" in pane.render_label(node, Style(), Style()).plain  # type: ignore[arg-type]
        return False

    async def run() -> list[float]:
        app = LiferaftApp(root, watch=True)
        latencies: list[float] = []
        async with app.run_test(size=(160, 48)) as pilot:
            for _ in range(200):
                if app.watcher is not None and app.watcher.running and app.risk is not None:
                    break
                await pilot.pause(0.05)
            await pilot.pause(0.5)
            pane = app.query_one(ProjectPane)
            for number in range(20):
                rel = f"OUTPUT/chart_{number:02d}.png"
                written = time.perf_counter()
                (root / rel).write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
                while not flagged_row(pane, rel) and time.perf_counter() - written < 3:
                    await asyncio.sleep(0.005)
                latencies.append(time.perf_counter() - written)
                await asyncio.sleep(random.uniform(0.2, 0.4))  # the next write after this one is settled
        return sorted(latencies)

    from rich.style import Style

    latencies = asyncio.run(run())
    median = statistics.median(latencies)
    p95 = latencies[min(len(latencies) - 1, math.ceil(0.95 * len(latencies)) - 1)]
    return [
        Figure("flag: output written → badge on screen, median", median, 0.2, math.inf,
               floor_name="the limit, for scale", limit=0.2),
        Figure("flag: output written → badge on screen, p95", p95, 0.4, math.inf,
               floor_name="the limit, for scale", limit=0.4),
    ]


BENCHMARKS: dict[str, Callable[[Path, int], list[Figure]]] = {
    "scan": bench_scan,
    "scan-200k": bench_scan_200k,
    "first-frame": bench_first_frame,
    "preview": bench_preview,
    "check": bench_check,
    "prepare": bench_prepare,
    "compose": bench_compose,
    "idle": bench_idle,
    "watch": bench_watch,
    "burst": bench_burst,
    "burst-memory": bench_burst_memory,
    "flag": bench_flag,
    # Imported when run: export_bench (and bounded_bench, secrets_bench) import this module for Figure.
    "export": lambda work, repeat: __import__("export_bench").bench_export(work, repeat),
    "bounded": lambda work, repeat: __import__("bounded_bench").bench_bounded(work, repeat),
    "note-import": lambda work, repeat: __import__("note_import_bench").bench_note_import(work, repeat),
    "secrets": lambda work, repeat: __import__("secrets_bench").bench_secrets(work, repeat),
    "benign-code": lambda work, repeat: __import__("benign_code_bench").bench_benign_code(work, repeat),
    "diagnose": lambda work, repeat: __import__("diagnose_bench").bench_diagnose(work, repeat),
    "verify": lambda work, repeat: __import__("verify_bench").bench_verify(work, repeat),
    "keys": lambda work, repeat: __import__("keys_bench").bench_keys(work, repeat),
    "replay": lambda work, repeat: __import__("replay_bench").bench_replay(work, repeat),
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
                digits = ".3f" if figure.unit == "s" else ".1f"
                value, base = format(figure.value, digits) + figure.unit, format(figure.floor, digits) + figure.unit
                print(
                    f"{figure.name:<44} {value:>9} {base:>9} {figure.ratio:>6.2f}× {figure.target_text:>8}  "
                    f"{verdict}   (floor: {figure.floor_name})",
                    flush=True,
                )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if all(figure.ok for figure in figures) else 1


if __name__ == "__main__":
    sys.exit(main())

"""Shared fixtures. Snapshot SVGs are kept in the top-level snapshots/ folder, not tests/__snapshots__/."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

try:
    import fcntl
except ImportError:  # Windows: no second run guarded against
    fcntl = None  # type: ignore[assignment]
from hypothesis import HealthCheck, settings
from pytest_textual_snapshot import SVGImageExtension

# A user's Python keeps compiled modules; with PYTHONDONTWRITEBYTECODE set (some sandboxes set it), every worker
# and every `python -m liferaft` a test starts would compile Liferaft, its libraries' uncached modules and the
# rewritten test modules again: a tenth of the suite's time. The test run keeps them, as a user's Python does.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
sys.dont_write_bytecode = False

REPO = Path(__file__).resolve().parent.parent
SNAPSHOT_ROOT = REPO / "snapshots"

#: A fixed "now" for everything that shows ages, so snapshots do not drift: 2026-03-02 12:00 UTC.
FROZEN_NOW = 1772452800.0

#: How long a test waits for something that should happen: long enough that only a hang reaches it, however
#: loaded the machine. Tests wait for conditions, never for fixed times; how fast things are is for tests/bench/.
HANG = 60.0


def eventually(condition: Callable[[], object], timeout: float = HANG, what: str = "the condition") -> None:
    """Wait until ``condition()`` is true, checking every 20 ms; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {timeout:g} s")
        time.sleep(0.02)


# Property tests: the default run is bounded and seeded (the same examples every run, on every machine, with no
# per-example deadline); HYPOTHESIS_PROFILE=long explores many more, at random, for a thorough run.
settings.register_profile("default", max_examples=100, derandomize=True, deadline=None, database=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.register_profile("long", max_examples=5_000, deadline=None, database=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

# Started as a background job (`pytest ... &` in a script), the run inherits an ignored Ctrl-C, and so would every
# command a test starts: the tests that stop one with SIGINT need the default, as at an interactive prompt.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

# Dates are shown in local time: pin the zone so snapshots match on every machine.
os.environ["TZ"] = "UTC"
time.tzset()


def _snapshot_dirname(cls: type, *, test_location) -> str:  # pytest-textual-snapshot 1.1.0 / syrupy 4.8.0
    return str(SNAPSHOT_ROOT / test_location.basename)


SVGImageExtension.dirname = classmethod(_snapshot_dirname)  # type: ignore[method-assign,assignment]


@pytest.fixture(autouse=True)
def isolated_config(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own empty config folder: the developer's settings never leak in."""
    folder = tmp_path_factory.mktemp("config")
    monkeypatch.setenv("LIFERAFT_CONFIG_DIR", str(folder))
    return folder


@pytest.fixture(autouse=True)
def no_key_from_another_test(monkeypatch: pytest.MonkeyPatch) -> None:
    """The moment a key's screen is drawn (liferaft.core.pace) is the process's: a key a previous test pressed
    just before it ended must not hold this test's results back (a test's first results waited, and a test that
    read the screen once "settled" read it too early)."""
    from liferaft.core import pace

    monkeypatch.setattr(pace, "_busy_until", 0.0)


@pytest.fixture(autouse=True)
def unhurried_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    """Liferaft stops reading a big file after a time budget and estimates the rest (row counts, JSON outlines).
    Where that cut falls depends on how loaded the machine is, so in-process tests get a budget only a hang
    reaches, and give a test that is about the cut its own (``COUNT_SECONDS = 0``)."""
    from liferaft.core.inspect import json_outline, json_reading, notebook, text

    monkeypatch.setattr(text, "COUNT_SECONDS", HANG)
    for module in (json_reading, json_outline, notebook):
        monkeypatch.setattr(module, "STREAM_SECONDS", HANG)


@pytest.fixture
def snap_compare(snap_compare: Callable[..., bool]) -> Callable[..., bool]:
    """The plugin's snap_compare, with every text cursor held steady: a blinking cursor is drawn or not by the
    clock, which made snapshots of screens with a text box fail at random."""

    def compare(app: object, *args: object, run_before: Callable[..., object] | None = None,
                **kwargs: object) -> bool:
        async def steady(pilot) -> None:  # type: ignore[no-untyped-def]
            if run_before is not None:
                await run_before(pilot)  # type: ignore[misc]
            for box in pilot.app.screen.query("Input, TextArea"):
                box.cursor_blink = False
                # Drawn again: its last drawing may be from the blink's hidden half, and TextArea's line cache
                # (Textual 8.2) keys a steady cursor's line without the cursor, so it must be emptied.
                cache = getattr(box, "_line_cache", None)
                if cache is not None:
                    cache.clear()
                box.refresh()
            await pilot.pause()

        return snap_compare(app, *args, run_before=steady, **kwargs)

    return compare


def write(path: Path, data: bytes | str, mtime: float | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A small project laid out by role, with fixed modification times."""
    return _fill_project(tmp_path / "sales-review")


def _fill_project(root: Path) -> Path:
    hour = 3600.0
    orders = "order_id,region,revenue\n1,North,10.5\n2,South,7\n"
    write(root / "SOURCE" / "orders_2025.csv", orders, FROZEN_NOW - 30 * hour)
    write(root / "SOURCE" / "customers.xlsx", b"PK\x03\x04" + b"\x00" * 2000, FROZEN_NOW - 30 * hour)
    write(root / "CODE" / "clean.py", "import pandas as pd\n", FROZEN_NOW - 3 * hour)
    write(root / "OUTPUT" / "revenue_by_region.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 5000, FROZEN_NOW - 20 * 60)
    write(root / "RESTART" / "restart-note.md", "# Restart note: sales\n", FROZEN_NOW - 2 * hour)
    write(root / "stray_summary.csv", "a,b\n1,2\n", FROZEN_NOW - 5 * 60)
    return root


@contextlib.contextmanager
def _fixed_folder(name: str) -> Iterator[Path]:
    """A folder at a fixed path (snapshots show it, so it must be the same everywhere, whatever TMPDIR says),
    emptied before and after, and held under a lock: two test runs at once (two checkouts, a developer and a
    helper) would otherwise empty it under each other."""
    base = (Path("/tmp") if Path("/tmp").is_dir() else Path(tempfile.gettempdir())) / "liferaft-snapshots"
    base.mkdir(exist_ok=True)
    with open(base / ".lock", "w") as lock:
        if fcntl is not None:
            fcntl.flock(lock, fcntl.LOCK_EX)
        root = base / name
        shutil.rmtree(root, ignore_errors=True)
        try:
            yield root
        finally:
            shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def fixed_project() -> Iterator[Path]:
    """The same project at a fixed path, for snapshots (the header shows the path)."""
    with _fixed_folder("sales-review") as root:
        yield _fill_project(root)


def _fill_previews(root: Path) -> Path:
    """A CSV, a two-sheet workbook and a broken workbook, with fixed modification times."""
    import openpyxl

    rows = ["order_id,order_date,region,revenue,paid"]
    rows += [f"{1000 + i},2025-0{1 + i % 9}-1{i % 10},{['North', 'South', 'East'][i % 3]},{12.5 * i:.2f},"
             f"{'true' if i % 2 else 'false'}" for i in range(40)]
    write(root / "SOURCE" / "orders_2025.csv", "\n".join(rows) + "\n", FROZEN_NOW - 3600)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Budget"
    sheet.append(["month", "department", "budget"])
    for month in range(1, 13):
        sheet.append([f"2026-{month:02d}", "Marketing", 1000 * month])
    actuals = book.create_sheet("Actuals")
    actuals.append(["month", "spent"])
    actuals.append(["2026-01", 950])
    (root / "SOURCE").mkdir(parents=True, exist_ok=True)
    book.save(root / "SOURCE" / "budget_2026.xlsx")
    os.utime(root / "SOURCE" / "budget_2026.xlsx", (FROZEN_NOW - 7200, FROZEN_NOW - 7200))
    write(root / "SOURCE" / "broken.xlsx", b"PK\x03\x04 this is not really a workbook", FROZEN_NOW - 60)
    return root


@pytest.fixture
def preview_project() -> Iterator[Path]:
    """The preview files at a fixed path, for snapshots (the header shows the path)."""
    with _fixed_folder("previews") as root:
        yield _fill_previews(root)


@pytest.fixture
def previews(tmp_path: Path) -> Path:
    """The preview files in the test's own folder, for tests that do not compare snapshots."""
    return _fill_previews(tmp_path / "previews")


@pytest.fixture(scope="session")
def copy_demo(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """``copy_demo(dest, big_csv_mb=60)`` puts a fresh demo project at ``dest``. Writing the demo takes seconds
    (3 s at its real size), so it is written once per size and session, and each test gets its own copy."""
    from liferaft.core.demo import write_demo

    templates: dict[float, Path] = {}

    def copy(dest: Path, big_csv_mb: float = 60.0) -> Path:
        if big_csv_mb not in templates:
            template = tmp_path_factory.mktemp("demo-template") / "demo"
            write_demo(template, big_csv_mb=big_csv_mb)
            templates[big_csv_mb] = template
        shutil.copytree(templates[big_csv_mb], dest, symlinks=True)
        return dest

    return copy


def cli_env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("LIFERAFT_", "TEXTUAL"))}
    env.pop("FORCE_COLOR", None)
    env.update(extra)
    return env


@pytest.fixture
def run_cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run `python -m liferaft ARGS` as a user would, capturing its output (a pipe, not a terminal)."""

    def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "liferaft", *args],
            capture_output=True, text=True, env=env or cli_env(), cwd=cwd, timeout=timeout,
            stdin=subprocess.DEVNULL,
        )

    return run


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: one worker more than there are cores. Many tests wait on a subprocess, a terminal or a
    file watcher for part of their time, and an extra worker fills those gaps (on 2 cores: 2:20 instead of 2:30)."""
    return (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1) + 1


def pytest_sessionstart(session: pytest.Session) -> None:
    """Before the workers start: load the secret scanner's rules once, so that they are compiled into its cache
    (5 s on a fresh machine) by one process, not by every worker and every `liferaft prompt` a test runs."""
    if hasattr(session.config, "workerinput"):  # a worker: the controller did it already
        return
    from liferaft.core import secrets

    secrets.warm_up()


#: Fixtures that write to one fixed path (snapshots show it): their tests must not run side by side.
FIXED_PATH_FIXTURES = {"fixed_project", "preview_project"}


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist, keep every test of a fixed-path fixture on one worker (``--dist loadgroup``); and
    start with the tests that run a replay kernel (several seconds each, after one environment build), all on one
    worker: sent first, they run beside the many short tests instead of trailing after them, and only that
    worker waits for the environment to be built (spread over the workers, every one of them waited)."""
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if FIXED_PATH_FIXTURES & names:
            item.add_marker(pytest.mark.xdist_group("fixed-paths"))
        elif "replay_env" in names:
            item.add_marker(pytest.mark.xdist_group("replay-env"))
    items.sort(key=lambda item: "replay_env" not in getattr(item, "fixturenames", ()))


# --- replay ----------------------------------------------------------------------------------------------------

#: What the demo's script needs to replay; the environment the replay tests share is built for exactly this.
REPLAY_DEMO_IMPORTS = frozenset({"pandas", "matplotlib"})


def replay_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One replay cache for the whole run, shared by the workers (the environment in it is built once)."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the workers' common folder
    return root / "replay-cache"


_index_reachable: list[str | None] = []


def replay_index_problem() -> str | None:
    """Why uv cannot reach the package index (None: it can), found once per process by resolving ipykernel."""
    if not _index_reachable:
        from liferaft.core.replay.environment import ReplayEnvironmentError, find_uv

        try:
            uv = find_uv()
            done = subprocess.run(
                [uv, "pip", "compile", "--quiet", "--no-header", "-"],
                input="ipykernel>=6.29.0\n",
                capture_output=True,
                text=True,
                timeout=60,
                env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"},
            )
            problem = None if done.returncode == 0 else (done.stderr.strip().splitlines() or ["uv failed"])[-1]
        except (ReplayEnvironmentError, OSError, subprocess.TimeoutExpired) as exc:
            problem = str(exc)
        _index_reachable.append(problem and f"uv cannot reach the package index: {problem}")
    return _index_reachable[0]


@pytest.fixture(scope="session")
def replay_env(tmp_path_factory: pytest.TempPathFactory):  # -> liferaft.core.replay.environment.Environment
    """The replay environment for the demo (pandas, matplotlib and the kernel), built once per run.

    Skips (with the reason) when uv cannot reach the package index. The cache folder is in
    ``LIFERAFT_CACHE_DIR`` only while it is built; a test that builds again sets it to the same folder.
    """
    problem = replay_index_problem()
    if problem:
        pytest.skip(problem)
    from liferaft.core.replay.environment import ensure_environment
    from liferaft.core.replay.packages import plan_requirements, requirement_specs

    plan = plan_requirements(REPLAY_DEMO_IMPORTS, local_modules=set())
    specs = requirement_specs(plan, sys.version_info[:2])
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LIFERAFT_CACHE_DIR", str(replay_cache_dir(tmp_path_factory)))
        return ensure_environment(specs)

"""Shared fixtures. Snapshot SVGs are kept in the top-level snapshots/ folder, not tests/__snapshots__/."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pytest_textual_snapshot import SVGImageExtension

REPO = Path(__file__).resolve().parent.parent
SNAPSHOT_ROOT = REPO / "snapshots"

#: A fixed "now" for everything that shows ages, so snapshots do not drift: 2026-03-02 12:00 UTC.
FROZEN_NOW = 1772452800.0

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


@pytest.fixture
def fixed_project() -> Iterator[Path]:
    """The same project at a fixed path, for snapshots (the header shows the path)."""
    # A fixed path, whatever TMPDIR says: the header shows it, and the snapshots must match everywhere.
    base = Path("/tmp") if Path("/tmp").is_dir() else Path(tempfile.gettempdir())
    root = base / "liferaft-snapshots" / "sales-review"
    shutil.rmtree(root, ignore_errors=True)
    yield _fill_project(root)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def preview_project() -> Iterator[Path]:
    """Files for the preview snapshots, at a fixed path: a CSV, a two-sheet workbook, a broken workbook."""
    import openpyxl

    base = Path("/tmp") if Path("/tmp").is_dir() else Path(tempfile.gettempdir())
    root = base / "liferaft-snapshots" / "previews"
    shutil.rmtree(root, ignore_errors=True)
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
    yield root
    shutil.rmtree(root, ignore_errors=True)


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

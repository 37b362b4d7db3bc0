"""`liferaft replay`'s results: the expected outputs (status's list), comparing a regenerated file with its saved
copy, the results table, accepting what OUTPUT lacks (never over a file), and OUTPUT/replayed/ kept out of status."""

from __future__ import annotations

import errno
import json
import os
import shutil
from pathlib import Path

import pytest
from PIL import Image

from liferaft.core import operations
from liferaft.core.project import open_project
from liferaft.core.replay import results
from liferaft.core.replay.results import (
    EXTRA,
    NEW,
    NOT_REGENERATED,
    Comparison,
    ReplayError,
    accept,
    compare,
    expected_outputs,
    latest_replay,
    results_table,
)
from liferaft.core.roles import Role
from liferaft.core.summary import written_by_liferaft
from tests.conftest import write

TABLES = Path(__file__).parent / "data" / "real" / "tables"
STAMP = "2025-03-04_101500"


@pytest.fixture
def demo(tmp_path: Path, copy_demo) -> Path:  # type: ignore[no-untyped-def]
    return copy_demo(tmp_path / "demo", big_csv_mb=1)


def _png(path: Path, size: tuple[int, int] = (40, 30), colour: str = "red") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path)
    return path


def _missing(root: Path) -> list[str]:
    return operations.missing_outputs(root, open_project(root).inventory)


def _replay(root: Path, stamp: str = STAMP) -> Path:
    folder = root / "OUTPUT" / "replayed" / stamp
    folder.mkdir(parents=True)
    return folder


# --- compare --------------------------------------------------------------------------------------------------


def test_real_csv_equal_copy_matches(tmp_path: Path) -> None:
    source = TABLES / "messytables-simple.csv"
    copy = shutil.copy(source, tmp_path / "simple.csv")
    result = compare(Path(copy), source)
    assert result.verdict == "matches", result
    assert "same columns" in result.detail and "rows" in result.detail


def test_real_tsv_with_a_changed_value_and_a_dropped_row_differs(tmp_path: Path) -> None:
    source = TABLES / "messytables-example.tsv"
    lines = source.read_text().splitlines(keepends=True)
    fields = lines[1].split("\t")
    fields[1] = str(int(fields[1]) + 100)
    changed = [lines[0], "\t".join(fields), *lines[2:-1]]
    regenerated = write(tmp_path / "example.tsv", "".join(changed))
    result = compare(regenerated, source)
    assert result.verdict == "differs"
    rows = len(lines) - 1
    assert result.detail.startswith(f"differs: {rows - 1:,} rows vs {rows:,}"), result.detail
    assert "column expr1_0_imp sums" in result.detail


def test_csv_sums_within_tolerance_and_formatting_match(tmp_path: Path) -> None:
    saved = write(tmp_path / "saved.csv", "region,revenue\nNorth,1204.50\nSouth,10\n")
    same = write(tmp_path / "same.csv", "region,revenue\nNorth,1204.5\nSouth,10.0\n")
    other = write(tmp_path / "other.csv", "region,revenue\nNorth,1210.00\nSouth,10\n")
    assert compare(same, saved).verdict == "matches"
    result = compare(other, saved)
    assert result == Comparison("differs", "differs: column revenue sums 1,220.00 vs 1,214.50")


def test_csv_column_names_differ(tmp_path: Path) -> None:
    saved = write(tmp_path / "a.csv", "region,revenue\nNorth,1\n")
    regenerated = write(tmp_path / "b.csv", "region,sales\nNorth,1\n")
    result = compare(regenerated, saved)
    assert result.verdict == "differs" and "new column sales" in result.detail and "no column revenue" in result.detail


def test_workbooks_sheets_and_shapes(tmp_path: Path) -> None:
    from openpyxl import Workbook

    def book(path: Path, rows: int, sheets: tuple[str, ...] = ("Budget", "Actuals")) -> Path:
        workbook = Workbook()
        workbook.remove(workbook.active)
        for name in sheets:
            sheet = workbook.create_sheet(name)
            for number in range(rows):
                sheet.append([number, number * 2, "x"])
        workbook.save(path)
        return path

    saved = book(tmp_path / "saved.xlsx", 5)
    assert compare(book(tmp_path / "same.xlsx", 5), saved).verdict == "matches"
    longer = compare(book(tmp_path / "longer.xlsx", 7), saved)
    assert longer.verdict == "differs" and "sheet Budget 7 × 3 vs 5 × 3" in longer.detail
    renamed = compare(book(tmp_path / "renamed.xlsx", 5, ("Budget",)), saved)
    assert renamed.verdict == "differs" and "sheets Budget vs Budget, Actuals" in renamed.detail


def test_images_by_size_only_and_said_so(tmp_path: Path) -> None:
    saved = _png(tmp_path / "saved.png")
    same_size = _png(tmp_path / "blue.png", colour="blue")
    result = compare(same_size, saved)
    assert result.verdict == "matches" and "pixels not compared" in result.detail
    bigger = compare(_png(tmp_path / "big.png", (80, 30)), saved)
    assert bigger.verdict == "differs" and "80" in bigger.detail


def test_other_files_by_bytes(tmp_path: Path) -> None:
    saved = write(tmp_path / "a.bin", b"abc" * 1000)
    assert compare(write(tmp_path / "b.bin", b"abc" * 1000), saved).verdict == "matches"
    assert compare(write(tmp_path / "c.bin", b"abc"), saved) == Comparison("differs", "differs: 3 bytes vs 3,000")
    assert compare(write(tmp_path / "d.bin", b"abd" * 1000), saved).verdict == "differs"


@pytest.mark.parametrize(("name", "data"), [
    ("broken.png", b"\x89PNG\r\n\x1a\nnot really"),
    ("broken.xlsx", b"PK\x03\x04 this is no zip"),
    ("broken.csv", b"\x00\x01\x02" * 400),
    ("empty.csv", b""),
])
def test_broken_files_are_not_compared_in_one_line(tmp_path: Path, name: str, data: bytes) -> None:
    broken = write(tmp_path / "new" / name, data)
    good = tmp_path / "old" / name
    if name.endswith(".png"):
        _png(good)
    elif name.endswith(".xlsx"):
        from openpyxl import Workbook

        good.parent.mkdir(parents=True)
        Workbook().save(good)
    else:
        write(good, "a,b\n1,2\n")
    result = compare(broken, good)
    assert result.verdict == "not compared"
    assert result.detail.startswith(f"not compared: could not read {name}: ") and "\n" not in result.detail


def test_missing_file_and_folder_are_not_compared(tmp_path: Path) -> None:
    saved = write(tmp_path / "a.csv", "a\n1\n")
    assert compare(tmp_path / "gone.csv", saved).verdict == "not compared"
    (tmp_path / "dir.csv").mkdir()
    assert compare(tmp_path / "dir.csv", saved).detail == "not compared: could not read dir.csv: it is not a " \
                                                           "regular file"


# --- the demo, end to end ---------------------------------------------------------------------------------------


def test_demo_expected_outputs_are_status_list(demo: Path) -> None:
    expected = expected_outputs(demo)
    assert [(item.name, item.path, item.saved) for item in expected] == [
        ("sales_2025_cleaned.csv", "sales_2025_cleaned.csv", "OUTPUT/sales_2025_cleaned.csv"),
        ("revenue_by_region.png", "revenue_by_region.png", "OUTPUT/revenue_by_region.png"),
        ("monthly_trend.png", "monthly_trend.png", None)]
    assert all(item.sources == ("restart note",) for item in expected)
    assert [item.name for item in expected if item.saved is None] == _missing(demo)


def test_demo_replay_table_then_accept(demo: Path) -> None:
    replay = _replay(demo)
    _png(replay / "Monthly_Trend.png")  # another case: still the output the note names
    shutil.copy(demo / "OUTPUT" / "sales_2025_cleaned.csv", replay / "sales_2025_cleaned.csv")
    _png(replay / "figures" / "cell-3-1.png")
    write(replay / "replay.ipynb", "{}")
    write(replay / "replay.json", json.dumps({"version": 1, "cells": 4}))
    write(replay / ".liferaft-tmp-x", b"")
    write(replay / "scratch" / "debug.txt", "hello")
    assert latest_replay(demo) == replay
    # the replay's files are no outputs: status still misses the chart, and lists nothing under replayed/
    assert _missing(demo) == ["monthly_trend.png"]
    report = operations.assess_risk(demo, open_project(demo).inventory)
    assert not any("replayed" in (item.path or "") for item in report.risk.unsaved_outputs)
    assert written_by_liferaft(f"OUTPUT/replayed/{STAMP}/monthly_trend.png", {"OUTPUT": Role.OUTPUT})

    rows = {row.name: row for row in results_table(demo, replay)}
    assert set(rows) == {"sales_2025_cleaned.csv", "revenue_by_region.png", "monthly_trend.png", "debug.txt"}
    assert rows["sales_2025_cleaned.csv"].status == "matches"
    assert rows["revenue_by_region.png"].status == NOT_REGENERATED
    assert rows["monthly_trend.png"].status == NEW and rows["monthly_trend.png"].regenerated == "Monthly_Trend.png"
    assert rows["debug.txt"].status == EXTRA and not rows["debug.txt"].expected

    before = (demo / "OUTPUT" / "sales_2025_cleaned.csv").read_bytes()
    done = accept(demo, replay)
    assert done.accepted == ("OUTPUT/monthly_trend.png",)
    assert done.kept == ("sales_2025_cleaned.csv",) and done.problems == () and done.recorded
    assert (demo / "OUTPUT" / "sales_2025_cleaned.csv").read_bytes() == before
    assert (replay / "sales_2025_cleaned.csv").exists() and not (replay / "Monthly_Trend.png").exists()
    assert not (demo / "OUTPUT" / "debug.txt").exists()
    record = json.loads((replay / "replay.json").read_text())
    assert record["cells"] == 4 and [item["path"] for item in record["accepted"]] == ["OUTPUT/monthly_trend.png"]
    assert _missing(demo) == []
    # a second accept has nothing left to move
    assert accept(demo, replay).accepted == ()


def test_demo_replay_whose_table_differs(demo: Path) -> None:
    replay = _replay(demo)
    lines = (demo / "OUTPUT" / "sales_2025_cleaned.csv").read_text().splitlines(keepends=True)
    write(replay / "sales_2025_cleaned.csv", "".join(lines[:-1]))
    row = next(row for row in results_table(demo, replay) if row.name == "sales_2025_cleaned.csv")
    assert row.status == "differs" and row.detail.startswith("differs: 59 rows vs 60"), row.detail


def test_accept_by_name_and_extra(demo: Path) -> None:
    replay = _replay(demo)
    _png(replay / "monthly_trend.png")
    write(replay / "extra.csv", "a\n1\n")
    done = accept(demo, replay, ["EXTRA.csv", "nothing.png"])
    assert done.accepted == ("OUTPUT/extra.csv",) and done.skipped == ("nothing.png",)
    assert (replay / "monthly_trend.png").exists() and not done.recorded  # no replay.json: fine


def test_accept_never_overwrites_a_file_appearing_meanwhile(demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    replay = _replay(demo)
    _png(replay / "monthly_trend.png")
    original = results._expected

    def then_the_user_saves_it(*args, **kwargs):  # type: ignore[no-untyped-def]
        found = original(*args, **kwargs)
        write(demo / "OUTPUT" / "monthly_trend.png", b"the user's own")
        return found

    monkeypatch.setattr(results, "_expected", then_the_user_saves_it)
    done = accept(demo, replay)
    assert done.accepted == () and done.kept == ("monthly_trend.png",)
    assert (demo / "OUTPUT" / "monthly_trend.png").read_bytes() == b"the user's own"
    assert (replay / "monthly_trend.png").exists()


@pytest.mark.parametrize("taken", [False, True])
def test_accept_without_hard_links(demo: Path, monkeypatch: pytest.MonkeyPatch, taken: bool) -> None:
    replay = _replay(demo)
    _png(replay / "monthly_trend.png")
    original = results._expected

    def no_links(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError(errno.EPERM, "Operation not permitted")

    def expected(*args, **kwargs):  # type: ignore[no-untyped-def]
        found = original(*args, **kwargs)
        if taken:
            write(demo / "OUTPUT" / "monthly_trend.png", b"mine")
        return found

    monkeypatch.setattr(os, "link", no_links)
    monkeypatch.setattr(results, "_expected", expected)
    done = accept(demo, replay)
    if taken:
        assert done.kept == ("monthly_trend.png",)
        assert (demo / "OUTPUT" / "monthly_trend.png").read_bytes() == b"mine"
    else:
        assert done.accepted == ("OUTPUT/monthly_trend.png",)
        assert Image.open(demo / "OUTPUT" / "monthly_trend.png").size == (40, 30)
        assert not (replay / "monthly_trend.png").exists()


def test_accept_makes_the_subfolder_an_export_names(demo: Path) -> None:
    from liferaft.core.recover.record import record_import

    record_import(demo, {"conversation": {"id": "c1", "title": "Sales"},
                         "generated": [{"name": "q4.csv", "path": "charts/q4%20peak.csv"}]})
    expected = {item.name: item for item in expected_outputs(demo)}
    assert expected["q4 peak.csv"].path == "charts/q4 peak.csv"
    assert expected["q4 peak.csv"].sources == ("chat export: Sales",)
    assert "q4 peak.csv" in _missing(demo)
    replay = _replay(demo)
    write(replay / "charts" / "q4 peak.csv", "a\n1\n")
    assert not (demo / "OUTPUT" / "charts").exists()
    done = accept(demo, replay)
    assert done.accepted == ("OUTPUT/charts/q4 peak.csv",)
    assert "q4 peak.csv" not in _missing(demo)


def test_accept_with_a_broken_record(demo: Path) -> None:
    replay = _replay(demo)
    _png(replay / "monthly_trend.png")
    write(replay / "replay.json", "{not json")
    done = accept(demo, replay)
    assert done.accepted == ("OUTPUT/monthly_trend.png",) and not done.recorded and done.problems == ()
    assert (replay / "replay.json").read_text() == "{not json"


def test_latest_replay_by_stamp_and_no_replay(demo: Path, tmp_path: Path) -> None:
    assert latest_replay(demo) is None
    for stamp in ("2025-03-04_101500", "2025-12-01_090000", "2025-12-01_090000-2", "notes"):
        (demo / "OUTPUT" / "replayed" / stamp).mkdir(parents=True)
    write(demo / "OUTPUT" / "replayed" / "2099-01-01_000000", "a file, not a replay")
    assert latest_replay(demo) == demo / "OUTPUT" / "replayed" / "2025-12-01_090000-2"
    with pytest.raises(ReplayError, match="no replay folder"):
        results_table(demo, tmp_path / "nowhere")


def test_replayed_files_are_not_in_the_prompt_outputs(demo: Path) -> None:
    from liferaft.core.compose import gather
    from liferaft.core.uploads import plan_uploads

    replay = _replay(demo)
    _png(replay / "monthly_trend.png")
    inventory = open_project(demo).inventory
    context = gather(demo, inventory, plan_uploads(inventory), targets_wait=0)
    assert "monthly_trend.png" not in context.outputs and context.missing == ["monthly_trend.png"]

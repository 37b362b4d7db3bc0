"""The upload plan: checked SOURCE files in upload order, prepared copies standing in for their originals,
the fixes offered per file, and restart-note mentions following a new name."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path

import pytest

from liferaft.core.demo import write_demo
from liferaft.core.fixes import available_fixes, run_fix
from liferaft.core.prepare import PrepareUsage
from liferaft.core.project import open_project, record_prepared
from liferaft.core.restart_note import rename_in_note, rename_mentions
from liferaft.core.state import load_state, state_path
from liferaft.core.uploads import plan_uploads
from liferaft.core.vendor import upload_limits
from tests.conftest import write

#: Small enough that the demo's 1 MB transactions file is over the spreadsheet limit.
SMALL = dataclasses.replace(upload_limits(), spreadsheet_mb=0.5)


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    root = tmp_path / "demo"
    write_demo(root, big_csv_mb=1)
    return root


def names(plan) -> list[str]:  # type: ignore[no-untyped-def]
    return [item.record.name for item in plan.items]


def test_the_plan_lists_source_files_smallest_first_with_their_checks(demo: Path) -> None:
    project = open_project(demo)
    plan = plan_uploads(project.inventory, project.state.prepared, limits=SMALL)
    assert names(plan) == ["final2.csv", "budget_2026.xlsx", "survey_responses.csv", "customers_eu.csv",
                           "transactions_2025.csv"]
    verdicts = {item.record.name: item.check.verdict for item in plan.items if item.check}
    assert verdicts["transactions_2025.csv"] == "block"
    assert verdicts["final2.csv"] == "warn"
    assert plan.verdicts == {"ok": 0, "warn": 4, "block": 1}
    assert not plan.replaced and not plan.stale


def test_without_checking_nothing_is_read(demo: Path) -> None:
    project = open_project(demo)
    plan = plan_uploads(project.inventory, check=False)
    assert len(plan.items) == 5 and all(item.check is None for item in plan.items) and not plan.checks


def test_prepared_parts_stand_in_for_the_original(demo: Path) -> None:
    original = demo / "SOURCE/transactions_2025.csv"
    before = hashlib.sha256(original.read_bytes()).hexdigest()
    prepared = run_fix(original, "split", "0.4")
    assert len(prepared.written) == 3
    assert record_prepared(demo, original, "split", [item.path for item in prepared.written]) is None

    project = open_project(demo)
    plan = plan_uploads(project.inventory, project.state.prepared, limits=SMALL)
    parts = [f"transactions_2025.part{n}.csv" for n in (1, 2, 3)]
    assert names(plan)[-3:] == parts  # in their order, where the original stood
    assert "transactions_2025.csv" not in names(plan)
    assert plan.replaced == {"SOURCE/transactions_2025.csv": [f"SOURCE/prepared/{name}" for name in parts]}
    assert all(item.original == "SOURCE/transactions_2025.csv" for item in plan.items[-3:])
    assert all(item.check is not None and item.check.verdict == "ok" for item in plan.items[-3:])
    assert plan.verdicts["block"] == 0
    assert hashlib.sha256(original.read_bytes()).hexdigest() == before


def test_a_changed_original_or_a_lost_part_is_not_replaced(demo: Path) -> None:
    original = demo / "SOURCE/transactions_2025.csv"
    prepared = run_fix(original, "split", "0.4")
    record_prepared(demo, original, "split", [item.path for item in prepared.written])

    os.unlink(prepared.written[1].path)
    project = open_project(demo)
    plan = plan_uploads(project.inventory, project.state.prepared, check=False)
    assert "transactions_2025.csv" in names(plan)
    assert "gone" in plan.stale["SOURCE/transactions_2025.csv"]

    prepared = run_fix(original, "split", "0.4")
    record_prepared(demo, original, "split", [item.path for item in prepared.written])
    stamp = original.stat().st_mtime + 10
    os.utime(original, (stamp, stamp))
    project = open_project(demo)
    plan = plan_uploads(project.inventory, project.state.prepared, check=False)
    assert "transactions_2025.csv" in names(plan)
    assert "prepare it again" in plan.stale["SOURCE/transactions_2025.csv"]


def test_prepared_files_are_followed_in_turn(demo: Path) -> None:
    # A copy under a clearer name, then that copy split: the original uploads as the named copy's parts.
    original = demo / "SOURCE/transactions_2025.csv"
    named = run_fix(original, "name", "orders_2025.csv").written[0].path
    record_prepared(demo, original, "name", [named])
    parts = [item.path for item in run_fix(named, "split", "0.4").written]
    record_prepared(demo, named, "split", parts)
    project = open_project(demo)
    plan = plan_uploads(project.inventory, project.state.prepared, limits=SMALL)
    assert names(plan)[-3:] == [path.name for path in parts]
    assert "orders_2025.csv" not in names(plan) and "transactions_2025.csv" not in names(plan)


def test_prepared_records_survive_a_round_trip_and_damage(demo: Path) -> None:
    original = demo / "SOURCE/final2.csv"
    copy = run_fix(original, "name", "channel_spend_2025.csv").written[0].path
    record_prepared(demo, original, "name", [copy])
    state = load_state(demo).state
    assert state.prepared["SOURCE/final2.csv"].files == ["SOURCE/prepared/channel_spend_2025.csv"]
    data = json.loads(state_path(demo).read_text())
    data["prepared"]["SOURCE/other.csv"] = {"action": "split", "files": "not a list"}
    state_path(demo).write_text(json.dumps(data))
    loaded = load_state(demo)
    assert not loaded.warnings  # a damaged entry loses only that entry
    assert set(loaded.state.prepared) == {"SOURCE/final2.csv"}


def test_fixes_offered_follow_the_problems(demo: Path) -> None:
    project = open_project(demo)
    plan = plan_uploads(project.inventory, limits=SMALL)
    by_name = {item.record.name: item.check for item in plan.items}

    big = available_fixes(by_name["transactions_2025.csv"], limits=SMALL)  # type: ignore[arg-type]
    assert big[0].action == "split" and big[0].recommended
    assert "utf8" not in {fix.action for fix in big}  # already UTF-8: nothing to convert

    latin = available_fixes(by_name["customers_eu.csv"])  # type: ignore[arg-type]
    assert [fix.action for fix in latin[:2]] == ["comma", "utf8"] and latin[0].recommended

    book = available_fixes(by_name["budget_2026.xlsx"], sheets=("Budget", "Actuals"))  # type: ignore[arg-type]
    assert [(fix.action, fix.argument) for fix in book[:2]] == [("sheet", "Budget"), ("sheet", "Actuals")]

    final2 = available_fixes(by_name["final2.csv"])  # type: ignore[arg-type]
    assert final2[0].action == "name" and final2[0].argument == "channel_spend_2025.csv"


def test_run_fix_refuses_a_bad_part_size(demo: Path) -> None:
    with pytest.raises(PrepareUsage, match="number of MB"):
        run_fix(demo / "SOURCE/transactions_2025.csv", "split", "lots")
    assert not (demo / "SOURCE/prepared").exists()


def test_a_fixer_stopped_midway_leaves_nothing(demo: Path) -> None:
    class Stop(Exception):
        pass

    def progress(done: int, total: int) -> None:
        raise Stop

    with pytest.raises(Stop):
        run_fix(demo / "SOURCE/transactions_2025.csv", "split", "0.2", progress=progress)
    assert not list((demo / "SOURCE").rglob("*part*"))


@pytest.mark.parametrize(("text", "expected", "count"), [
    ("- final2.csv — spend", "- spend.csv — spend", 1),
    ("see SOURCE/final2.csv and `final2.csv`.", "see SOURCE/spend.csv and `spend.csv`.", 2),
    ("old_final2.csv final2.csv.bak final2.csvx", "old_final2.csv final2.csv.bak final2.csvx", 0),
    ("(final2.csv), final2.csv; FINAL2.CSV", "(spend.csv), spend.csv; FINAL2.CSV", 2),
])
def test_rename_mentions_whole_names_only(text: str, expected: str, count: int) -> None:
    assert rename_mentions(text, "final2.csv", "spend.csv") == (expected, count)


def test_rename_in_note_writes_only_when_the_note_mentions_the_name(demo: Path) -> None:
    note = demo / "RESTART/restart-note.md"
    project = open_project(demo)
    assert rename_in_note(demo, project.inventory, "final2.csv", "channel_spend_2025.csv") == 3
    text = note.read_text()
    assert "channel_spend_2025.csv — monthly marketing spend" in text and "final2.csv" not in text
    stamp = note.stat().st_mtime_ns
    assert rename_in_note(demo, project.inventory, "nothing.csv", "x.csv") == 0
    assert note.stat().st_mtime_ns == stamp


def test_rename_in_note_never_writes_back_a_note_it_could_not_read_whole(tmp_path: Path) -> None:
    root = tmp_path / "p"
    note = write(root / "RESTART/restart-note.md", "final2.csv\n" + "x" * (5 * 1024 * 1024))
    before = note.read_bytes()
    with pytest.raises(OSError, match="larger than 4 MB"):
        rename_in_note(root, open_project(root).inventory, "final2.csv", "y.csv")
    assert note.read_bytes() == before


def test_many_parts_are_numbered_to_sort_and_a_second_split_never_mixes_with_the_first(demo: Path) -> None:
    original = demo / "SOURCE/transactions_2025.csv"
    first = [item.path.name for item in run_fix(original, "split", "0.08").written]
    assert len(first) >= 10 and first[0] == "transactions_2025.part01.csv" and first == sorted(first)
    second = [item.path.name for item in run_fix(original, "split", "0.08").written]
    assert second[0] == "transactions_2025-2.part01.csv"

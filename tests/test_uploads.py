"""The upload plan: checked SOURCE files in upload order, prepared copies standing in for their originals,
the fixes offered per file, and restart-note mentions following a new name."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path

import pytest

from liferaft.core.fixes import available_fixes, run_fix
from liferaft.core.prepare import PrepareError, PrepareUsage
from liferaft.core.project import open_project, record_prepared
from liferaft.core.restart_note import rename_in_note, rename_mentions
from liferaft.core.state import load_state, state_path
from liferaft.core.uploads import plan_uploads
from liferaft.core.vendor import upload_limits
from tests.conftest import write

#: Small enough that the demo's 1 MB transactions file is over the spreadsheet limit.
SMALL = dataclasses.replace(upload_limits(), spreadsheet_mb=0.5)


@pytest.fixture
def demo(tmp_path: Path, copy_demo) -> Path:  # type: ignore[no-untyped-def]
    return copy_demo(tmp_path / "demo", big_csv_mb=1)


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
    ("see SOURCE/final2.csv and `final2.csv`.", "see SOURCE/prepared/spend.csv and `spend.csv`.", 2),
    ("./SOURCE/final2.csv", "./SOURCE/prepared/spend.csv", 1),
    ("OUTPUT/final2.csv is another file", "OUTPUT/final2.csv is another file", 0),
    ("old_final2.csv final2.csv.bak final2.csvx", "old_final2.csv final2.csv.bak final2.csvx", 0),
    ("(final2.csv), final2.csv; FINAL2.CSV", "(spend.csv), spend.csv; FINAL2.CSV", 2),
])
def test_rename_mentions_whole_names_and_the_right_path_only(text: str, expected: str, count: int) -> None:
    assert rename_mentions(text, "final2.csv", "spend.csv", "SOURCE/final2.csv", "SOURCE/prepared/spend.csv") == (
        expected, count)


def test_rename_in_note_writes_only_when_the_note_mentions_the_name(demo: Path) -> None:
    note = demo / "RESTART/restart-note.md"
    project = open_project(demo)
    changed = rename_in_note(demo, project.inventory, "SOURCE/final2.csv", "SOURCE/prepared/channel_spend_2025.csv")
    assert changed == 3
    text = note.read_text()
    assert "channel_spend_2025.csv — monthly marketing spend" in text and "final2.csv" not in text
    stamp = note.stat().st_mtime_ns
    assert rename_in_note(demo, project.inventory, "SOURCE/nothing.csv", "SOURCE/x.csv") == 0
    assert note.stat().st_mtime_ns == stamp


def test_rename_in_note_never_writes_through_a_link(tmp_path: Path) -> None:
    root = tmp_path / "p"
    real = write(tmp_path / "elsewhere.md", "- final2.csv\n")
    (root / "RESTART").mkdir(parents=True)
    os.symlink(real, root / "RESTART/restart-note.md")
    with pytest.raises(OSError, match="is a link"):
        rename_in_note(root, open_project(root).inventory, "SOURCE/final2.csv", "SOURCE/prepared/x.csv")
    assert (root / "RESTART/restart-note.md").is_symlink() and real.read_text() == "- final2.csv\n"


def test_rename_in_note_never_writes_back_a_note_it_could_not_read_whole(tmp_path: Path) -> None:
    root = tmp_path / "p"
    note = write(root / "RESTART/restart-note.md", "final2.csv\n" + "x" * (5 * 1024 * 1024))
    before = note.read_bytes()
    with pytest.raises(OSError, match="larger than 4 MB"):
        rename_in_note(root, open_project(root).inventory, "SOURCE/final2.csv", "SOURCE/prepared/y.csv")
    assert note.read_bytes() == before


def test_many_parts_are_numbered_to_sort_and_a_second_split_never_mixes_with_the_first(demo: Path) -> None:
    original = demo / "SOURCE/transactions_2025.csv"
    first = [item.path.name for item in run_fix(original, "split", "0.08").written]
    assert len(first) >= 10 and first[0] == "transactions_2025.part01.csv" and first == sorted(first)
    second = [item.path.name for item in run_fix(original, "split", "0.08").written]
    assert second[0] == "transactions_2025-2.part01.csv"


def test_preparing_again_never_uploads_the_older_copy(demo: Path) -> None:
    original = demo / "SOURCE/customers_eu.csv"
    old = run_fix(original, "comma").written[0].path
    record_prepared(demo, original, "comma", [old])
    with original.open("ab") as handle:  # the original grows: prepare it again
        handle.write(b"9999;Someone;Somewhere\n")
    new = run_fix(original, "comma").written[0].path
    record_prepared(demo, original, "comma", [new])
    project = open_project(demo)
    plan = plan_uploads(project.inventory, project.state.prepared, check=False)
    assert new.name in names(plan) and old.name not in names(plan)
    assert "an older prepared copy" in plan.left_out[f"SOURCE/prepared/{old.name}"]


def test_a_step_on_the_way_is_left_out(demo: Path) -> None:
    original = demo / "SOURCE/customers_eu.csv"
    utf8 = run_fix(original, "utf8").written[0].path
    record_prepared(demo, original, "utf8", [utf8])
    comma = run_fix(utf8, "comma").written[0].path
    record_prepared(demo, utf8, "comma", [comma])
    project = open_project(demo)
    plan = plan_uploads(project.inventory, project.state.prepared, check=False)
    assert comma.name in names(plan) and utf8.name not in names(plan) and original.name not in names(plan)
    assert len(names(plan)) == 5
    assert "a step on the way" in plan.left_out[f"SOURCE/prepared/{utf8.name}"]


def test_stale_copies_are_left_out_and_the_original_uploaded(demo: Path) -> None:
    original = demo / "SOURCE/transactions_2025.csv"
    parts = [item.path for item in run_fix(original, "split", "0.4").written]
    record_prepared(demo, original, "split", parts)
    os.unlink(parts[0])
    project = open_project(demo)
    plan = plan_uploads(project.inventory, project.state.prepared, check=False)
    assert "transactions_2025.csv" in names(plan) and not any(".part" in name for name in names(plan))
    assert set(plan.left_out) == {f"SOURCE/prepared/{part.name}" for part in parts[1:]}


def test_loops_in_a_hand_edited_state_still_list_every_file(demo: Path) -> None:
    a, b = demo / "SOURCE/final2.csv", demo / "SOURCE/survey_responses.csv"
    data = {"version": 1, "overrides": {}, "prepared": {
        "SOURCE/final2.csv": {"action": "name", "files": ["SOURCE/survey_responses.csv"],
                              "source_size": a.stat().st_size, "source_mtime": a.stat().st_mtime},
        "SOURCE/survey_responses.csv": {"action": "name", "files": ["SOURCE/final2.csv"],
                                        "source_size": b.stat().st_size, "source_mtime": b.stat().st_mtime},
        "SOURCE/customers_eu.csv": {"action": "name", "files": ["SOURCE/customers_eu.csv"],
                                    "source_size": 1, "source_mtime": 1.0},
        "SOURCE/budget_2026.xlsx": {"action": "name", "files": [], "source_size": True, "source_mtime": "NaN"},
    }}
    state_path(demo).parent.mkdir(exist_ok=True)
    state_path(demo).write_text(json.dumps(data).replace('"NaN"', "NaN"))
    project = open_project(demo)
    assert "SOURCE/budget_2026.xlsx" not in project.state.prepared  # a bool size and a NaN time are refused
    plan = plan_uploads(project.inventory, project.state.prepared, check=False)
    assert sorted(names(plan)) == sorted(["final2.csv", "survey_responses.csv", "customers_eu.csv",
                                          "budget_2026.xlsx", "transactions_2025.csv"])


def test_fixers_refuse_a_prepared_folder_that_is_a_link_or_a_file(demo: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.symlink(elsewhere, demo / "SOURCE/prepared")
    with pytest.raises(PrepareError, match="is a link"):
        run_fix(demo / "SOURCE/transactions_2025.csv", "split", "0.4")
    with pytest.raises(PrepareError, match="is a link"):
        run_fix(demo / "SOURCE/final2.csv", "name", "spend.csv")
    assert list(elsewhere.iterdir()) == []
    os.unlink(demo / "SOURCE/prepared")
    write(demo / "SOURCE/prepared", "not a folder")
    with pytest.raises(PrepareError, match="is a file, not a folder"):
        run_fix(demo / "SOURCE/customers_eu.csv", "comma")


def test_an_absurd_part_size_is_a_usage_error(demo: Path) -> None:
    with pytest.raises(PrepareUsage, match="positive number of MB"):
        run_fix(demo / "SOURCE/transactions_2025.csv", "split", "1e303")


def test_the_recorded_source_is_the_one_read(demo: Path) -> None:
    original = demo / "SOURCE/final2.csv"
    before = original.stat()
    copy = run_fix(original, "name", "spend.csv").written[0].path
    with original.open("ab") as handle:  # changed while the fix ran
        handle.write(b"2025-13,x,1,2,3\n")
    record_prepared(demo, original, "name", [copy], (before.st_size, before.st_mtime))
    project = open_project(demo)
    plan = plan_uploads(project.inventory, project.state.prepared, check=False)
    assert "prepare it again" in plan.stale["SOURCE/final2.csv"]

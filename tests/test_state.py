"""Liferaft's state file: round trips, atomic writes, and bad files kept aside without a crash."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from liferaft.core import storage
from liferaft.core.project import open_project
from liferaft.core.roles import Role
from liferaft.core.state import ProjectState, load_state, save_state, state_path
from tests.conftest import write


def test_missing_state_gives_defaults(tmp_path: Path) -> None:
    loaded = load_state(tmp_path)
    assert loaded.state.overrides == {}
    assert loaded.warnings == []
    assert not state_path(tmp_path).exists()


def test_round_trip_keeps_overrides_and_unknown_keys(tmp_path: Path) -> None:
    state = ProjectState(overrides={"a.csv": Role.OUTPUT}, extra={"future_feature": [1, 2]})
    save_state(tmp_path, state)
    data = json.loads(state_path(tmp_path).read_text())
    assert data["version"] == 1
    loaded = load_state(tmp_path)
    assert loaded.state.overrides == {"a.csv": Role.OUTPUT}
    assert loaded.state.extra == {"future_feature": [1, 2]}
    leftovers = [p.name for p in state_path(tmp_path).parent.iterdir() if p.name.startswith(storage.TEMP_PREFIX)]
    assert leftovers == []


def test_corrupt_state_is_kept_aside_and_reported(tmp_path: Path) -> None:
    path = write(state_path(tmp_path), b'{"version": 1, "overrides": {"a.csv": "out')
    loaded = load_state(tmp_path)
    assert loaded.state.overrides == {}
    assert len(loaded.warnings) == 1
    assert "not valid JSON" in loaded.warnings[0]
    backups = list(path.parent.glob("state.json.corrupt-*"))
    assert len(backups) == 1
    assert backups[0].read_bytes() == b'{"version": 1, "overrides": {"a.csv": "out'
    assert backups[0].name in loaded.warnings[0]
    assert not path.exists()


def test_state_from_a_newer_version_is_kept_aside(tmp_path: Path) -> None:
    original = json.dumps({"version": 99, "overrides": {}, "shiny": True}).encode()
    path = write(state_path(tmp_path), original)
    loaded = load_state(tmp_path)
    assert "newer Liferaft" in loaded.warnings[0]
    backups = list(path.parent.glob("state.json.newer-*"))
    assert [b.read_bytes() for b in backups] == [original]


def test_wrong_shapes_are_reported_not_raised(tmp_path: Path) -> None:
    for content in (b"[]", b'{"overrides": {}}', b'{"version": 1, "overrides": []}',
                    b'{"version": 1, "overrides": {"a": "nonsense"}}', b"\xff\xfe\x00", b""):
        write(state_path(tmp_path), content)
        loaded = load_state(tmp_path)
        assert loaded.state.overrides == {}
        assert len(loaded.warnings) == 1, content


def test_stray_temp_files_from_a_killed_write_are_swept(tmp_path: Path) -> None:
    folder = state_path(tmp_path).parent
    stray = write(folder / f"{storage.TEMP_PREFIX}abc", "half", mtime=1.0)
    fresh = write(folder / f"{storage.TEMP_PREFIX}new", "in progress")
    load_state(tmp_path)
    assert not stray.exists()
    assert fresh.exists()


def test_role_override_persists_across_opens(project: Path) -> None:
    opened = open_project(project)
    opened.set_role("stray_summary.csv", Role.SOURCE)
    record = next(r for r in opened.inventory.files if r.path == "stray_summary.csv")
    assert record.role is Role.SOURCE and not record.role_guessed
    reopened = open_project(project)
    again = next(r for r in reopened.inventory.files if r.path == "stray_summary.csv")
    assert again.role is Role.SOURCE and not again.role_guessed
    reopened.set_role("stray_summary.csv", None)
    assert next(r for r in open_project(project).inventory.files if r.path == "stray_summary.csv").role_guessed


def test_atomic_writer_leaves_the_old_file_when_interrupted(tmp_path: Path) -> None:
    target = write(tmp_path / "note.md", "old content")
    try:
        with storage.atomic_writer(target) as handle:
            handle.write(b"new half")
            raise RuntimeError("killed")
    except RuntimeError:
        pass
    assert target.read_text() == "old content"
    assert [p.name for p in tmp_path.iterdir()] == ["note.md"]


def test_atomic_writer_refuses_to_overwrite_when_asked(tmp_path: Path) -> None:
    target = write(tmp_path / "note.md", "mine")
    try:
        storage.write_text(target, "theirs", overwrite=False)
    except FileExistsError:
        pass
    else:
        raise AssertionError("overwrote an existing file")
    assert target.read_text() == "mine"


def test_atomic_writes_give_new_files_the_usual_mode_and_keep_existing_modes(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        storage.write_text(tmp_path / "new.md", "x")
        assert (tmp_path / "new.md").stat().st_mode & 0o777 == 0o640
        target = write(tmp_path / "script.sh", "#!/bin/sh\n")
        target.chmod(0o750)
        storage.write_text(target, "#!/bin/sh\necho hi\n")
        assert target.stat().st_mode & 0o777 == 0o750
    finally:
        os.umask(old)


def test_a_failed_save_changes_nothing(project: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    opened = open_project(project)

    def fail(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(storage, "write_text", fail)
    try:
        opened.set_role("stray_summary.csv", Role.SOURCE)
    except OSError:
        pass
    else:
        raise AssertionError("the failed save was not reported")
    assert opened.state.overrides == {}
    record = next(r for r in opened.inventory.files if r.path == "stray_summary.csv")
    assert record.role is Role.OUTPUT and record.role_guessed


def test_the_groups_by_role_follow_a_role_change(project: Path) -> None:
    opened = open_project(project)
    before = opened.inventory.grouped()  # made once, then reused: a role change must make it again
    assert "stray_summary.csv" not in {r.path for r in before[Role.SOURCE]}
    sizes = opened.inventory.total_size
    opened.set_role("stray_summary.csv", Role.SOURCE)
    groups = opened.inventory.by_role()
    assert "stray_summary.csv" in {r.path for r in groups[Role.SOURCE]}
    assert "stray_summary.csv" not in {r.path for records in groups.values() if records is not groups[Role.SOURCE]
                                       for r in records}
    assert opened.inventory.total_size == sizes


def test_removing_an_override_restores_the_folder_role(project: Path) -> None:
    opened = open_project(project)
    opened.set_role("SOURCE/orders_2025.csv", Role.OUTPUT)
    assert next(r for r in opened.inventory.files if r.path == "SOURCE/orders_2025.csv").role is Role.OUTPUT
    opened.set_role("SOURCE/orders_2025.csv", None)
    record = next(r for r in opened.inventory.files if r.path == "SOURCE/orders_2025.csv")
    assert record.role is Role.SOURCE and not record.role_guessed


def test_overrides_for_undecodable_names_are_saved_and_read_back(tmp_path: Path) -> None:
    with open(os.fsencode(tmp_path) + b"/caf\xe9.csv", "wb") as handle:
        handle.write(b"a\n")
    project = open_project(tmp_path)
    name = project.inventory.files[0].path
    project.set_role(name, Role.OUTPUT)
    assert load_state(tmp_path).state.overrides == {name: Role.OUTPUT}
    assert open_project(tmp_path).inventory.files[0].role is Role.OUTPUT


def test_any_failed_save_rolls_back(project: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    opened = open_project(project)

    def fail(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise ValueError("cannot encode")

    monkeypatch.setattr(storage, "write_text", fail)
    with contextlib.suppress(ValueError):
        opened.set_role("stray_summary.csv", Role.SOURCE)
    assert opened.state.overrides == {}


def test_a_rescan_that_finds_nothing_new_keeps_the_inventory(project: Path) -> None:
    opened = open_project(project)
    inventory = opened.inventory
    assert opened.rescan() is inventory  # the same files, notes and state: the same object
    (project / "OUTPUT" / "new_chart.png").write_bytes(b"x")
    changed = opened.rescan()
    assert changed is not inventory and "OUTPUT/new_chart.png" in {r.path for r in changed.files}
    other = open_project(project)  # another process sets a role: the state changed, so the inventory is new
    other.set_role("OUTPUT/new_chart.png", Role.RESTART)
    again = opened.rescan()
    assert again is not changed
    assert next(r for r in again.files if r.path == "OUTPUT/new_chart.png").role is Role.RESTART

"""The session clock: the activity log in .liferaft/activity.json (persisted, bounded, damaged files kept aside)
and the clock computed from it and the files' times (ACTIVE → IDLE → LIKELY EXPIRED, the warning near the end)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from liferaft.core.diagnose.clock import (
    MAX_EVENTS,
    Activity,
    activity_path,
    load_activity,
    project_clock,
    record_activity,
    session_clock,
    session_window,
)
from liferaft.core.diagnose.knowledge import load_knowledge
from liferaft.core.summary import SessionState
from liferaft.core.vendor import session_facts

HOUR = 3600.0
NOW = 1772452800.0


def clock_at(events: list[Activity], idle_hours: float, newest_file: tuple[float, str] | None = None):  # type: ignore[no-untyped-def]
    return session_clock(events, NOW + idle_hours * HOUR, 13, newest_file, active_hours=0.5, warn_hours_left=3)


# --- the log ---------------------------------------------------------------------------------------------------


def test_recorded_activity_survives_a_restart(tmp_path: Path) -> None:
    record_activity(tmp_path, "folder", NOW - 60, "OUTPUT/chart.png")
    record_activity(tmp_path, "chat", NOW)
    log = load_activity(tmp_path)  # a fresh read, as the next start of the app does
    assert [(event.kind, event.time, event.detail) for event in log.events] == [
        ("folder", NOW - 60, "OUTPUT/chart.png"), ("chat", NOW, "")]
    assert log.warnings == [] and log.writable
    data = json.loads(activity_path(tmp_path).read_text(encoding="utf-8"))
    assert data["version"] == 1
    assert not [p for p in activity_path(tmp_path).parent.iterdir() if p.name.startswith(".liferaft-tmp-")]


def test_an_unknown_kind_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown activity kind"):
        record_activity(tmp_path, "lunch", NOW)
    assert not activity_path(tmp_path).exists()


def test_min_gap_keeps_bursts_to_one_write_per_kind(tmp_path: Path) -> None:
    record_activity(tmp_path, "folder", NOW, "a.csv", min_gap=60)
    record_activity(tmp_path, "folder", NOW + 30, "b.csv", min_gap=60)  # within the minute: not written
    record_activity(tmp_path, "chat", NOW + 31, min_gap=60)  # another kind is not held back
    record_activity(tmp_path, "folder", NOW + 61, "c.csv", min_gap=60)
    assert [(e.kind, e.detail) for e in load_activity(tmp_path).events] == [
        ("folder", "a.csv"), ("chat", ""), ("folder", "c.csv")]


def test_the_log_keeps_only_the_newest_events(tmp_path: Path) -> None:
    events = [Activity("folder", NOW + i, f"f{i}") for i in range(MAX_EVENTS + 20)]
    activity_path(tmp_path).parent.mkdir(parents=True)
    activity_path(tmp_path).write_text(json.dumps({"version": 1, "events": [e.to_json() for e in events]}))
    assert len(load_activity(tmp_path).events) == MAX_EVENTS
    log = record_activity(tmp_path, "chat", NOW + 10_000)
    saved = json.loads(activity_path(tmp_path).read_text())["events"]
    assert len(saved) == MAX_EVENTS == len(log.events)
    assert saved[-1]["kind"] == "chat" and saved[0]["detail"] == "f21"  # the oldest went


@pytest.mark.parametrize(("content", "reason"), [
    (b"{not json", "corrupt"),
    (b'["a list"]', "corrupt"),
    (b'{"events": []}', "corrupt"),
    (b'{"version": 99, "events": []}', "newer"),
])
def test_an_unusable_log_is_kept_aside_and_reported(tmp_path: Path, content: bytes, reason: str) -> None:
    path = activity_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    log = load_activity(tmp_path)
    assert log.events == [] and log.writable
    assert len(log.warnings) == 1 and "kept as .liferaft/activity.json." + reason in log.warnings[0]
    backups = [p for p in path.parent.iterdir() if p.name.startswith(f"activity.json.{reason}-")]
    assert len(backups) == 1 and backups[0].read_bytes() == content  # nothing lost
    record_activity(tmp_path, "chat", NOW)
    assert [e.kind for e in load_activity(tmp_path).events] == ["chat"]


def test_damaged_entries_are_dropped_and_the_rest_kept(tmp_path: Path) -> None:
    path = activity_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"version": 1, "events": [
        {"kind": "chat", "time": NOW}, {"kind": "dance", "time": NOW}, {"kind": "folder", "time": "noon"},
        {"kind": "folder", "time": float("nan")}, "junk", {"kind": "folder", "time": NOW - 5, "detail": 3}]}))
    log = load_activity(tmp_path)
    assert [(e.kind, e.time, e.detail) for e in log.events] == [("folder", NOW - 5, ""), ("chat", NOW, "")]
    assert log.warnings == []


def test_a_log_that_is_not_a_file_is_never_written_over(tmp_path: Path) -> None:
    path = activity_path(tmp_path)
    path.mkdir(parents=True)  # a folder where the file should be
    log = load_activity(tmp_path)
    assert not log.writable and "not a regular file" in log.warnings[0]
    with pytest.raises(OSError):
        record_activity(tmp_path, "chat", NOW)
    assert path.is_dir()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_pipe_at_the_logs_place_does_not_block(tmp_path: Path) -> None:
    path = activity_path(tmp_path)
    path.parent.mkdir(parents=True)
    os.mkfifo(path)
    log = load_activity(tmp_path)
    assert not log.writable and log.events == []


# --- the clock -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("idle", "state"), [
    (0.0, SessionState.ACTIVE), (0.49, SessionState.ACTIVE), (0.51, SessionState.IDLE), (12.9, SessionState.IDLE),
    (13.0, SessionState.LIKELY_EXPIRED), (40.0, SessionState.LIKELY_EXPIRED)])
def test_the_state_follows_the_time_since_the_last_activity(idle: float, state: SessionState) -> None:
    clock = clock_at([Activity("chat", NOW)], idle)
    assert clock.state is state
    assert clock.idle_hours == pytest.approx(idle)
    assert clock.used_fraction == pytest.approx(min(1.0, idle / 13))
    assert clock.expires_at == NOW + 13 * HOUR and clock.idle_from == NOW + 0.5 * HOUR


def test_it_warns_as_the_window_nears_its_end() -> None:
    assert clock_at([Activity("chat", NOW)], 9.9).warning == ""
    near = clock_at([Activity("chat", NOW)], 10.5)
    assert near.near_end and "download your outputs now" in near.warning and "2.5 h" in near.warning
    gone = clock_at([Activity("chat", NOW)], 14)
    assert not gone.near_end and "probably gone" in gone.warning and "rerun prompt" in gone.warning


def test_nothing_known_is_unknown_not_a_guess() -> None:
    clock = clock_at([], 3)
    assert clock.state is SessionState.UNKNOWN and clock.idle_hours is None and clock.warning == ""
    assert clock.last_said() == "nothing yet"


def test_the_newest_sign_of_life_wins() -> None:
    events = [Activity("folder", NOW - 2 * HOUR, "OUTPUT/a.png"), Activity("chat", NOW - HOUR)]
    by_chat = clock_at(events, 0, newest_file=(NOW - 5 * HOUR, "SOURCE/x.csv"))
    assert by_chat.last_kind == "chat" and by_chat.idle_hours == pytest.approx(1)
    assert by_chat.last_said() == "you said you used the chat"
    by_file = clock_at(events, 0, newest_file=(NOW - 600, "OUTPUT/b.png"))
    assert by_file.last_kind == "file" and by_file.last_said() == "OUTPUT/b.png was saved"
    tie = clock_at([Activity("chat", NOW)], 0, newest_file=(NOW, "x.csv"))
    assert tie.last_kind == "chat"
    by_folder = clock_at([Activity("folder", NOW, "CODE/clean.py")], 2)
    assert by_folder.last_said() == "the folder changed (CODE/clean.py)"


def test_a_clock_set_wrong_once_does_not_keep_it_active_for_ever() -> None:
    # An event stamped a day ahead (the machine's clock was wrong then) is not trusted; a file's future mtime is now.
    clock = clock_at([Activity("chat", NOW + 24 * HOUR)], 0, newest_file=(NOW - 20 * HOUR, "a.csv"))
    assert clock.state is SessionState.LIKELY_EXPIRED and clock.last_kind == "file"
    skewed = clock_at([], 0, newest_file=(NOW + 120, "a.csv"))
    assert skewed.idle_hours == 0 and skewed.state is SessionState.ACTIVE


def test_the_default_rules_come_from_the_triage_data() -> None:
    rules = load_knowledge().clock
    active_hours = rules.idle_after_minutes / 60
    just_after = session_clock([Activity("chat", NOW)], NOW + (active_hours + 0.01) * HOUR, 13)
    assert just_after.state is SessionState.IDLE
    warned = session_clock([Activity("chat", NOW)], NOW + (13 - rules.warn_hours_left + 0.1) * HOUR, 13)
    assert warned.near_end


def test_project_clock_reads_the_log(tmp_path: Path) -> None:
    record_activity(tmp_path, "chat", NOW - 2 * HOUR)
    clock, warnings = project_clock(tmp_path, NOW, 13)
    assert clock.state is SessionState.IDLE and clock.last_kind == "chat" and warnings == []
    assert clock.to_json()["state"] == "idle" and clock.to_json()["idle_hours"] == 2.0


# --- the window ------------------------------------------------------------------------------------------------


def test_the_window_is_the_vendors_unless_the_config_says_otherwise() -> None:
    vendor, warnings = session_window({})
    assert vendor.hours == session_facts().inactivity_hours and "vendor data" in vendor.source and not warnings
    mine, warnings = session_window({"session": {"inactivity_hours": 6}})
    assert (mine.hours, mine.source, warnings) == (6.0, "your config", [])
    assert session_window({"session": {}}) == (vendor, [])


@pytest.mark.parametrize("value", [0, -3, "13", True, float("inf"), 10_000])
def test_a_bad_window_in_the_config_is_reported_and_the_vendors_kept(value: object) -> None:
    window, warnings = session_window({"session": {"inactivity_hours": value}}, "config.toml")
    assert window.hours == session_facts().inactivity_hours
    assert len(warnings) == 1 and warnings[0].startswith("config.toml: session.inactivity_hours")


def test_a_session_key_that_is_not_a_table_is_reported() -> None:
    window, warnings = session_window({"session": 12})
    assert window.hours == session_facts().inactivity_hours and "[session] must be a table" in warnings[0]


def test_what_liferaft_writes_is_no_sign_the_chat_was_used(tmp_path: Path) -> None:
    from liferaft.core.project import open_project
    from liferaft.core.summary import last_change

    root = tmp_path / "p"
    for rel in ("SOURCE/sales.csv", "OUTPUT/chart.png", "RESTART/prompts/20260302-rerun.md",
                "CODE/recovered/sales.py", "OUTPUT/recovered/sales-cell03-1.png", "RESTART/restart-note.md"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("x")
    old = NOW - 14 * HOUR
    for rel in ("SOURCE/sales.csv", "RESTART/restart-note.md"):
        os.utime(root / rel, (old, old))
    os.utime(root / "OUTPUT/chart.png", (old + HOUR, old + HOUR))  # the user's newest file
    # Written by Liferaft just now: a saved prompt, a recovered script and figure.
    for rel in ("RESTART/prompts/20260302-rerun.md", "CODE/recovered/sales.py", "OUTPUT/recovered/sales-cell03-1.png"):
        os.utime(root / rel, (NOW, NOW))
    newest = last_change(open_project(root).inventory)
    assert newest is not None and newest.path == "OUTPUT/chart.png"
    clock, _warnings = project_clock(root, NOW, 13, (newest.mtime, newest.path))
    assert clock.state is SessionState.LIKELY_EXPIRED


def test_the_clock_does_not_load_the_classifier() -> None:
    # The clock is drawn in the workbench's first frame; the symptoms and their patterns wait for a diagnosis.
    import subprocess
    import sys

    code = ("import sys; from liferaft.core.diagnose.clock import clock_rules; clock_rules(); "
            "print(sorted(m for m in sys.modules if m.startswith('liferaft.core.diagnose.')))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "classify" not in loaded and "knowledge" not in loaded and "clock" in loaded
    from liferaft.core.diagnose import Match, StatusReport, load_knowledge  # the package's names, on demand

    assert Match and StatusReport and load_knowledge().clock == clock_rules_settings()


def clock_rules_settings():  # type: ignore[no-untyped-def]
    from liferaft.core.diagnose.clock import load_clock_settings

    return load_clock_settings()


def test_the_newest_file_of_the_inventory_on_show_and_of_the_next_is_each_found_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """While a burst of files is shown, the clock is asked of the inventory on show and of the one a scan just made,
    in turn: each one's files are looked at once, not again at every turn (10,000 files, on the UI thread)."""
    from liferaft.core import summary
    from liferaft.core.diagnose.session import SessionTracker
    from liferaft.core.scan import scan

    (tmp_path / "OUTPUT").mkdir()
    (tmp_path / "OUTPUT" / "a.png").write_bytes(b"x")
    shown = scan(tmp_path)
    (tmp_path / "OUTPUT" / "b.png").write_bytes(b"x")
    scanned = scan(tmp_path)
    looked = []
    real = summary.last_change
    monkeypatch.setattr(summary, "last_change", lambda inventory: looked.append(inventory) or real(inventory))
    tracker = SessionTracker({})
    for _ in range(3):
        for inventory in (shown, scanned):
            assert tracker.newest_change(inventory) == real(inventory)
    assert looked == [shown, scanned]

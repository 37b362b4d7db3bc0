"""Background loops keep out of the way of a key: a scan of a large folder waits, between folders, while the
screen a key opened is drawn (the UI thread and the scan's thread share one interpreter)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from liferaft.core import pace
from liferaft.core.scan import scan
from tests.conftest import write


def test_without_a_key_nothing_waits() -> None:
    waited = time.monotonic()
    pace.give_way()
    pace.key_pressed(time.monotonic() - 10 * pace.KEY_GRACE_S)  # long ago
    pace.give_way()
    assert time.monotonic() - waited < pace.KEY_GRACE_S  # a bound, not a speed: the wait would be the grace


def test_after_a_key_background_work_waits_until_the_grace_is_over() -> None:
    pressed = time.monotonic()
    pace.key_pressed(pressed)
    pace.give_way()
    assert time.monotonic() - pressed >= pace.KEY_GRACE_S * 0.99


def test_one_wait_is_bounded_however_many_keys_come(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pace, "KEY_GRACE_S", 60.0)  # keys held down
    started = time.monotonic()
    pace.key_pressed(started)
    pace.give_way()
    assert pace.MAX_WAIT_S * 0.99 <= time.monotonic() - started < 60.0


def test_a_scan_gives_way_before_each_folder(tmp_path: Path) -> None:
    for folder in ("SOURCE", "OUTPUT/figures", "CODE"):
        write(tmp_path / folder / "a.csv", "a\n1\n")
    asked: list[int] = []
    inventory = scan(tmp_path, give_way=lambda: asked.append(len(asked)))
    assert len(inventory.files) == 3
    assert len(asked) == 5  # the root, SOURCE, OUTPUT, OUTPUT/figures, CODE


def test_the_watcher_gives_way_before_its_walks_and_batches(tmp_path: Path) -> None:
    from liferaft.core.watch import ADDED, Watcher, WatchEvent
    from tests.conftest import eventually

    write(tmp_path / "SOURCE" / "a.csv", "a\n1\n")
    asked: list[int] = []
    events: list[WatchEvent] = []
    watcher = Watcher(tmp_path, events.append, give_way=lambda: asked.append(1))
    watcher.start()
    try:
        eventually(lambda: len(events) >= 2, what="the watcher's first walks")  # the baseline and the catch-up
        walked = len(asked)
        assert walked >= 2  # a walk gives way before each folder
        (tmp_path / "SOURCE" / "b.csv").write_text("b\n")
        eventually(lambda: any(change.kind == ADDED and change.path == "SOURCE/b.csv"
                               for event in events for change in event.changes), what="b.csv reported")
        assert len(asked) > walked  # and before a batch of events
    finally:
        watcher.stop()

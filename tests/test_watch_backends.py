"""What the other systems' watch backends send, fed to the watcher and to the workbench on Linux.

FSEvents (macOS) coalesces: one event may stand for several changes of a path (created, then removed), or a
whole folder may be hinted ("scan this folder") instead of the files in it. ReadDirectoryChangesW (Windows)
drops events when its buffer overflows, and what reaches watchfiles then is a hint for the watched root, or
nothing. The watcher takes every hint as a question for the disk, so the picture must end right either way.
A scripted stand-in for ``watchfiles.watch`` yields exactly the batches a test gives it.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import watchfiles

from liferaft.core import watch as watch_module
from liferaft.core.scan import FileRecord
from liferaft.core.watch import ADDED, DELETED, Change, Watcher
from liferaft.tui.app import LiferaftApp
from liferaft.tui.widgets.project_pane import ProjectPane
from tests.conftest import FROZEN_NOW, HANG, eventually, write
from tests.test_prepare_tui import wait_for
from tests.test_watch import Recorder

Batch = set[tuple[watchfiles.Change, str]]


class ScriptedBackend:
    """Stands in for ``watchfiles.watch``: yields the batches put in it, and an empty one when ``rust_timeout``
    passes with none (as ``yield_on_timeout=True`` does), until the stop event is set."""

    def __init__(self) -> None:
        self.batches: queue.Queue[Batch] = queue.Queue()
        self.started = threading.Event()
        self.handled = 0
        """Batches sent that the watcher is done with (it asked for the next one)."""

    def send(self, *hints: tuple[watchfiles.Change, Path]) -> None:
        self.batches.put({(kind, str(path)) for kind, path in hints})

    def __call__(self, *_paths: object, stop_event: threading.Event, rust_timeout: int,
                 **_kw: object) -> Iterator[Batch]:
        self.started.set()
        while not stop_event.is_set():
            try:
                batch = self.batches.get(timeout=rust_timeout / 1000)
            except queue.Empty:
                yield set()
                continue
            yield batch
            self.handled += 1


@pytest.fixture
def backend(monkeypatch: pytest.MonkeyPatch) -> ScriptedBackend:
    scripted = ScriptedBackend()
    monkeypatch.setattr(watchfiles, "watch", scripted)
    # The heartbeat's walk would find every change too, in time: put off, only the hints can.
    monkeypatch.setattr(watch_module, "HEARTBEAT_S", 3600.0)
    return scripted


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    write(folder / "SOURCE" / "sales.csv", "id,value\n1,2\n")
    write(folder / "OUTPUT" / "old_chart.png", b"\x89PNG")
    (folder / "CODE").mkdir()
    return folder


@pytest.fixture
def watching(root: Path, backend: ScriptedBackend) -> Iterator[Recorder]:
    recorder = Recorder()
    watcher = Watcher(root, recorder)
    assert watcher._heartbeat_s == 3600.0
    watcher.start()
    try:
        assert backend.started.wait(HANG)
        # The backend's first answer: the watcher walks the tree again (what changed while it started).
        backend.send()
        eventually(lambda: backend.handled == 1, what="the watcher's first batch")
        yield recorder
    finally:
        watcher.stop(timeout=10.0)


def _all_changes(recorder: Recorder, start: int) -> set[Change]:
    return {change for event in recorder.events[start:] for change in event.changes}


def test_a_folder_hinted_as_a_whole_is_walked(watching: Recorder, root: Path, backend: ScriptedBackend) -> None:
    """FSEvents' coalesced "scan this folder": three charts made and one removed, one hint for OUTPUT/."""
    start = len(watching.events)
    for name in ("a.png", "b.png", "c.png"):
        write(root / "OUTPUT" / name, b"\x89PNG")
    (root / "OUTPUT" / "old_chart.png").unlink()
    backend.send((watchfiles.Change.modified, root / "OUTPUT"))
    watching.wait_until(lambda: _all_changes(watching, start) == {
        Change(ADDED, "OUTPUT/a.png"), Change(ADDED, "OUTPUT/b.png"), Change(ADDED, "OUTPUT/c.png"),
        Change(DELETED, "OUTPUT/old_chart.png")})


def test_coalesced_kinds_are_checked_against_the_disk(watching: Recorder, root: Path,
                                                      backend: ScriptedBackend) -> None:
    """One event for a file made and removed again (said "added"), one "deleted" for a file that is there."""
    start = len(watching.events)
    write(root / "OUTPUT" / "kept.csv", "a\n1\n")
    write(root / "OUTPUT" / "gone.csv", "a\n1\n")
    (root / "OUTPUT" / "gone.csv").unlink()
    backend.send((watchfiles.Change.added, root / "OUTPUT" / "gone.csv"),
                 (watchfiles.Change.deleted, root / "OUTPUT" / "kept.csv"))
    watching.wait_until(lambda: Change(ADDED, "OUTPUT/kept.csv") in _all_changes(watching, start))
    assert _all_changes(watching, start) == {Change(ADDED, "OUTPUT/kept.csv")}


def test_an_overflow_hinting_the_root_finds_every_change(watching: Recorder, root: Path,
                                                         backend: ScriptedBackend) -> None:
    """ReadDirectoryChangesW overflowed: what was lost is found by a walk when the root is hinted."""
    start = len(watching.events)
    write(root / "SOURCE" / "extra.xlsx", b"PK")
    write(root / "CODE" / "clean.py", "x = 1\n")
    (root / "SOURCE" / "sales.csv").unlink()
    backend.send((watchfiles.Change.modified, root))
    event = watching.wait_for(lambda event: bool(event.changes), start=start)
    assert event.reconciled
    assert set(event.changes) == {Change(ADDED, "SOURCE/extra.xlsx"), Change(ADDED, "CODE/clean.py"),
                                  Change(DELETED, "SOURCE/sales.csv")}


async def test_the_workbench_ends_right_after_coalesced_and_overflowed_batches(root: Path,
                                                                               backend: ScriptedBackend) -> None:
    app = LiferaftApp(root, now=lambda: FROZEN_NOW, watch=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.watcher is not None and app.watcher.running and backend.started.is_set())
        backend.send()  # the backend's first answer, after which the watcher walks the tree again
        await wait_for(pilot, lambda: backend.handled == 1)
        pane = app.query_one(ProjectPane)

        def listed() -> set[str]:
            inventory = app.project.inventory if app.project else None
            return {record.path for record in inventory.files} if inventory else set()

        def shown() -> set[str]:
            return {node.data.path for node in _nodes(pane) if isinstance(node.data, FileRecord)}

        await wait_for(pilot, lambda: shown() == {"SOURCE/sales.csv", "OUTPUT/old_chart.png"})
        # coalesced: a folder hint for three new charts and a removed one
        for name in ("a.png", "b.png", "c.png"):
            write(root / "OUTPUT" / name, b"\x89PNG")
        (root / "OUTPUT" / "old_chart.png").unlink()
        backend.send((watchfiles.Change.modified, root / "OUTPUT"))
        expected = {"SOURCE/sales.csv", "OUTPUT/a.png", "OUTPUT/b.png", "OUTPUT/c.png"}
        await wait_for(pilot, lambda: shown() == expected and listed() == expected)
        # overflowed: only the root is hinted
        write(root / "CODE" / "clean.py", "x = 1\n")
        (root / "OUTPUT" / "b.png").unlink()
        backend.send((watchfiles.Change.modified, root))
        expected = {"SOURCE/sales.csv", "OUTPUT/a.png", "OUTPUT/c.png", "CODE/clean.py"}
        await wait_for(pilot, lambda: shown() == expected and listed() == expected)


def _nodes(pane: ProjectPane) -> list:  # type: ignore[type-arg]
    found, stack = [], [pane.root]
    while stack:
        node = stack.pop()
        found.append(node)
        stack.extend(node.children)
    return found


def test_a_folder_hinted_beside_the_files_made_in_it_is_not_walked(watching: Recorder, root: Path,
                                                                   backend: ScriptedBackend,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows hints a folder beside each file made in it: the files' own events say what changed, so a burst
    into a folder is not a walk of the whole tree per batch."""
    walks: list[int] = []
    real = watch_module.Watcher._reconcile

    def counted(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        walks.append(1)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(watch_module.Watcher, "_reconcile", counted)
    start = len(watching.events)
    write(root / "OUTPUT" / "a.png", b"\x89PNG")
    backend.send((watchfiles.Change.modified, root / "OUTPUT"), (watchfiles.Change.added, root / "OUTPUT" / "a.png"))
    watching.wait_until(lambda: Change(ADDED, "OUTPUT/a.png") in _all_changes(watching, start))
    assert walks == []

"""Memory after a burst of files (issue 14): what a burst of 50,000 files written and removed again leaves behind
is let go once it settles. No timing and no absolute memory here (tests/bench/run.py burst-memory measures it):
these check that the structures that kept the burst are emptied, and that the memory is handed back."""

from __future__ import annotations

import gc
import os
import platform
import subprocess
import sys
import weakref
from pathlib import Path

import pytest

from liferaft.core import memory
from liferaft.core.roles import Role
from liferaft.core.scan import VANISHED, FileRecord, Inventory, ScanNote, scan
from liferaft.core.watch import Watcher, WatchEvent
from liferaft.tui.app import LiferaftApp
from liferaft.tui.widgets.project_pane import MAX_ROWS, MORE, ProjectPane
from tests.conftest import FROZEN_NOW, eventually, write
from tests.test_prepare_tui import wait_for


def scanning(app: LiferaftApp) -> bool:
    return any(worker.group == "scan" and worker.is_running for worker in app.workers)


def test_a_scan_that_saw_files_vanish_says_so(tmp_path: Path) -> None:
    write(tmp_path / "OUTPUT/a.png", b"x")
    inventory = scan(tmp_path)
    assert not inventory.read_while_changing
    inventory.notes.append(ScanNote("OUTPUT/b.png", VANISHED))
    assert inventory.read_while_changing


async def test_notes_on_files_gone_during_a_scan_do_not_stay(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A burst being removed while the workbench reads the folder: the scan notes thousands of files as vanished,
    and the watcher, which saw them go before the scan did, has nothing more to say. The notes (and their rows)
    stayed until the next change; now the folder is read again once more and they go."""
    import liferaft.core.project as project_module

    root = tmp_path / "p"
    write(root / "SOURCE/sales.csv", "a,b\n1,2\n")
    (root / "OUTPUT").mkdir()
    real_scan = project_module.scan
    racing = {"on": False}

    def racing_scan(folder: Path, overrides=None, **options) -> Inventory:  # type: ignore[no-untyped-def]
        inventory = real_scan(folder, overrides, **options)
        if racing["on"]:  # once: this scan ran while 2,000 files were being removed
            racing["on"] = False
            inventory.notes.extend(ScanNote(f"OUTPUT/gone_{n:04d}.png", VANISHED) for n in range(2000))
        return inventory

    monkeypatch.setattr(project_module, "scan", racing_scan)
    app = LiferaftApp(root, now=lambda: FROZEN_NOW, watch=True)
    async with app.run_test(size=(120, 40)) as pilot:
        # Watching, caught up (the baseline, then the re-walk once the native watcher is live), and read.
        await wait_for(pilot, lambda: app.watcher is not None and app.watcher.events >= 2)
        await wait_for(pilot, lambda: app.project is not None and not app.workbench._rescan_pending
                       and not scanning(app))
        racing["on"] = True
        app.workbench._rescan_soon()  # as the watcher asks: the last scan it asks for, and it races with the removal
        await wait_for(pilot, lambda: not racing["on"])  # the racing scan ran
        await wait_for(pilot, lambda: app.project is not None and not app.project.inventory.notes)
        pane = app.query_one(ProjectPane)
        await wait_for(pilot, lambda: pane._inventory is app.project.inventory)  # type: ignore[union-attr]
        assert not any(isinstance(row.data, ScanNote) for group in pane.root.children for row in group.children)


async def test_the_project_pane_lets_go_of_the_rows_of_a_bigger_tree(tmp_path: Path) -> None:
    """Textual's Tree.clear keeps its map of node ids to nodes: the rows of a tree shown before a smaller one
    stayed in memory for good. The pane's rows of a burst must go once the burst is gone."""
    root = tmp_path / "p"
    write(root / "SOURCE/sales.csv", "a,b\n1,2\n")
    app = LiferaftApp(root, now=lambda: FROZEN_NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.project is not None)
        pane = app.query_one(ProjectPane)
        big = Inventory(
            app.project.root,
            list(app.project.inventory.files),  # type: ignore[union-attr]
            [ScanNote(f"OUTPUT/gone_{n:04d}.png", VANISHED) for n in range(MAX_ROWS + 100)],
        )
        big.files.extend(
            FileRecord(f"OUTPUT/chart_{n:04d}.png", Role.OUTPUT, False, "image", 1, FROZEN_NOW, ()) for n in range(300)
        )
        pane.show_inventory(big)
        await pilot.pause()
        notes_group = pane.root.children[-1]
        assert len(notes_group.children) == MAX_ROWS + 1  # the notes are cut like the files: and a "more" row
        assert notes_group.children[-1].data == MORE
        last_rows = [weakref.ref(group.children[-1]) for group in pane.root.children if group.children]
        pane.show_inventory(app.project.inventory)  # type: ignore[union-attr]
        await pilot.pause()
        del notes_group
        gc.collect()
        assert all(row() is None for row in last_rows)


async def test_the_memory_of_a_large_burst_is_given_back_once_it_settles(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    root = tmp_path / "p"
    write(root / "SOURCE/sales.csv", "a,b\n1,2\n")
    (root / "OUTPUT").mkdir()
    released: list[bool] = []
    monkeypatch.setattr(memory, "release_memory", lambda: released.append(True) or True)
    app = LiferaftApp(root, now=lambda: FROZEN_NOW, watch=True)
    app.workbench.RELEASE_AFTER_CHANGES = 40  # type: ignore[misc]  # a burst of 50,000 in the real thing
    app.workbench.RELEASE_QUIET_S = 0.05  # type: ignore[misc]
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.watcher is not None and app.watcher.running)
        for n in range(50):
            write(root / f"OUTPUT/chart_{n:02d}.png", b"x")
        await wait_for(pilot, lambda: bool(released))  # once the burst is read and nothing runs any more


def test_release_memory_asks_glibc_to_trim() -> None:
    trimmed = memory.release_memory()
    if platform.system() == "Linux" and platform.libc_ver()[0] == "glibc":
        assert trimmed is True
    else:
        assert trimmed is False


def test_keep_heap_compact_takes_on_glibc_only(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    glibc = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"
    assert memory.keep_heap_compact() is glibc
    monkeypatch.setattr(memory, "_allocator", None)
    assert memory.keep_heap_compact() is False


def test_release_memory_without_malloc_trim(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(memory, "_allocator", None)
    assert memory.release_memory() is False


#: Run in a fresh interpreter on the C allocator: a worker thread builds and drops ~45 MB of small objects (what
#: a scan of a large burst does), then the memory is released; prints the MB still held.
_THREAD_BURST = """
import sys, threading
from liferaft.core.memory import release_memory

def resident():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096 / 2**20

before = resident()
def work():
    chain = None
    for n in range(400_000):
        chain = (chain, str(n) * 4)
    del chain
thread = threading.Thread(target=work)
thread.start()
thread.join()
release_memory()
print(f"{resident() - before:.1f}")
"""


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc's allocator")
def test_what_a_worker_thread_freed_is_given_back_too() -> None:
    """malloc_trim gives back free pages inside the arenas and the main heap's top, but not the free top of a
    thread's arena: a burst read by a worker thread stayed resident (~45 MB here) until the thread arenas
    were trimmed as well."""
    env = {**os.environ, "PYTHONMALLOC": "malloc", "MALLOC_ARENA_MAX": "2"}
    result = subprocess.run([sys.executable, "-c", _THREAD_BURST], env=env, capture_output=True, text=True,
                            check=True)
    assert float(result.stdout) < 15, f"{result.stdout.strip()} MB still held after the release"


def test_the_watcher_lets_go_of_a_burst_it_has_reported(tmp_path: Path) -> None:
    """watchfiles keeps the last batch it yielded until it yields another one, which may be hours later: the
    watcher empties it once handled, so a burst's paths are not kept meanwhile."""
    (tmp_path / "OUTPUT").mkdir()
    events: list[WatchEvent] = []
    watcher = Watcher(tmp_path, events.append)
    watcher.start()
    try:
        eventually(lambda: len(events) >= 2)  # the baseline, then the caught-up re-walk: the native watcher is live
        for n in range(200):
            write(tmp_path / f"OUTPUT/burst_{n:03d}.csv", "x")
        eventually(lambda: sum(len(event.changes) for event in events) >= 200)
        eventually(lambda: not _batches_held(), what="the handled batch let go")
    finally:
        watcher.stop()


def _batches_held() -> list[set]:
    """Sets of (watchfiles.Change, path) tuples still alive: the batches watchfiles yielded."""
    import watchfiles

    gc.collect()
    return [
        obj
        for obj in gc.get_objects()
        if isinstance(obj, set)
        and obj
        and isinstance(next(iter(obj)), tuple)
        and isinstance(next(iter(obj))[0], watchfiles.Change)
    ]


async def test_a_burst_past_the_shown_rows_updates_them_in_place(tmp_path: Path) -> None:
    """Files arriving past the rows a group shows change only its count and its "more" row: the rows stay the
    same objects (no tree made again, no layout of the screen), the selection stays, and the counts are right."""
    from tests.test_tui import settle

    root = tmp_path / "p"
    write(root / "SOURCE/sales.csv", "a,b\n1,2\n")
    for n in range(MAX_ROWS + 20):
        write(root / f"OUTPUT/chart_{n:05d}.png", b"x")
    app = LiferaftApp(root, now=lambda: FROZEN_NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        pane = app.query_one(ProjectPane)
        output = next(group for group in pane.root.children if group.data is Role.OUTPUT)
        rows = list(output.children)
        assert rows[-1].data == MORE and "20 more" in str(rows[-1].label)
        pane.cursor_line = pane._line_of(rows[3])
        selected = pane.cursor_node.data if pane.cursor_node else None
        for n in range(MAX_ROWS + 20, MAX_ROWS + 120):  # sorted after every row shown
            write(root / f"OUTPUT/chart_{n:05d}.png", b"x")
        write(root / "OUTPUT/chart_00002.png", b"bigger")  # one shown file changed: its row is updated too
        await pilot.press("r")
        await settle(app, pilot)
        await wait_for(pilot, lambda: "120 more" in str(output.children[-1].label))
        assert list(output.children) == rows and all(a is b for a, b in zip(output.children, rows, strict=True))
        assert f"{MAX_ROWS + 120:,} files" in str(output.label)
        assert rows[2].data.size == len(b"bigger")
        assert pane.cursor_node is rows[3] and pane.cursor_node.data == selected
        write(root / "OUTPUT/chart_00000a.png", b"x")  # a new row among those shown: the tree is made again
        await pilot.press("r")
        await settle(app, pilot)
        await wait_for(pilot, lambda: any(getattr(node.data, "name", "") == "chart_00000a.png"
                                          for group in pane.root.children for node in group.children))
        assert pane.cursor_node is not None and pane.cursor_node.data.path == selected.path  # type: ignore[union-attr]


async def test_a_large_inventory_let_go_after_the_memory_was_given_back_is_given_back_too(tmp_path: Path,
                                                                                         monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The memory is given back once the watcher's events of a burst are read; a scan that reads the burst's
    removal only afterwards (no more events to count) let go of 50,000 files' records with nothing given back.
    Now a large inventory the panes let go counts too."""
    root = tmp_path / "p"
    write(root / "SOURCE/sales.csv", "a,b\n1,2\n")
    for n in range(60):
        write(root / f"OUTPUT/chart_{n:02d}.png", b"x")
    released: list[bool] = []
    monkeypatch.setattr(memory, "release_memory", lambda: released.append(True) or True)
    app = LiferaftApp(root, now=lambda: FROZEN_NOW)  # not watching: no event counts anything
    app.workbench.RELEASE_AFTER_CHANGES = 40  # type: ignore[misc]
    app.workbench.RELEASE_QUIET_S = 0.05  # type: ignore[misc]
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.project is not None and len(app.project.inventory.files) == 61)
        for n in range(60):
            (root / f"OUTPUT/chart_{n:02d}.png").unlink()
        await pilot.press("r")  # read again: the 60 charts are gone
        await wait_for(pilot, lambda: app.project is not None and len(app.project.inventory.files) == 1)
        await wait_for(pilot, lambda: bool(released))


async def test_a_rescan_for_the_watcher_waits_a_moment_after_a_key(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """During a burst of files, a key pressed meanwhile opens its screen first: the next scan for the watcher
    (a thread taking the interpreter, then a redraw of its result) starts only a moment after the key."""
    import time

    from liferaft.tui.screens.workbench import Workbench

    root = tmp_path / "p"
    write(root / "SOURCE/sales.csv", "a,b\n1,2\n")
    app = LiferaftApp(root, now=lambda: FROZEN_NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.project is not None and not scanning(app))
        project = app.project
        assert project is not None
        scans: list[float] = []
        real_rescan = type(project).rescan

        def rescan(self, **options) -> None:  # type: ignore[no-untyped-def]
            scans.append(time.monotonic())
            real_rescan(self, **options)

        monkeypatch.setattr(type(project), "rescan", rescan)
        app.last_input = pressed = time.monotonic()  # a key, just now
        app.workbench._rescan_now()
        assert not scans and not scanning(app)
        await wait_for(pilot, lambda: bool(scans))
        assert scans[0] - pressed >= Workbench.KEY_GRACE_S * 0.99

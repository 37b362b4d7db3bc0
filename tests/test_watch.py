"""The folder watcher, on real folders: native events, reconciles, the root going away, polling, own writes.

Every wait is bounded: :meth:`Recorder.wait_for` fails the test after its deadline instead of hanging.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from liferaft.core import watch as watch_module
from liferaft.core.watch import ADDED, DELETED, DOWNLOADING, MODIFIED, Change, Watcher, WatchEvent
from tests.conftest import HANG, eventually


class Recorder:
    """Collects a watcher's events (from its thread) and waits for one that satisfies a predicate."""

    def __init__(self) -> None:
        self.events: list[WatchEvent] = []
        self._cond = threading.Condition()
        self.callback_threads: set[str] = set()

    def __call__(self, event: WatchEvent) -> None:
        with self._cond:
            self.callback_threads.add(threading.current_thread().name)
            self.events.append(event)
            self._cond.notify_all()

    def wait_for(self, predicate: Callable[[WatchEvent], bool], timeout: float = HANG, start: int = 0) -> WatchEvent:
        deadline = time.monotonic() + timeout
        index = start
        with self._cond:
            while True:
                while index < len(self.events):
                    event = self.events[index]
                    index += 1
                    if predicate(event):
                        return event
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    pytest.fail(f"no matching event within {timeout} s; got {self.events[start:]}")
                self._cond.wait(remaining)

    def changes(self) -> list[Change]:
        with self._cond:
            return [change for event in self.events for change in event.changes]

    def seen(self, kind: str, path: str) -> bool:
        return Change(kind, path) in self.changes()

    def wait_change(self, kind: str, path: str, timeout: float = HANG) -> WatchEvent:
        return self.wait_for(lambda event: Change(kind, path) in event.changes, timeout)

    def wait_until(self, condition: Callable[[], bool], timeout: float = HANG) -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not condition():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    pytest.fail(f"condition not met within {timeout} s; {len(self.events)} events")
                self._cond.wait(remaining)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    (folder / "OUTPUT").mkdir(parents=True)
    (folder / "SOURCE").mkdir()
    (folder / "SOURCE" / "sales.csv").write_text("id,value\n1,2\n")
    return folder


@pytest.fixture
def watching(root: Path) -> Iterator[Callable[..., tuple[Watcher, Recorder]]]:
    """Start a watcher on ``root`` (options passed through), wait for its baseline, stop it afterwards."""
    started: list[Watcher] = []

    def start(**options: object) -> tuple[Watcher, Recorder]:
        recorder = Recorder()
        watcher = Watcher(options.pop("at", root), recorder, **options)  # type: ignore[arg-type]
        watcher.start()
        started.append(watcher)
        recorder.wait_for(lambda event: event.reconciled)
        return watcher, recorder

    yield start
    for watcher in started:
        watcher.stop(timeout=10.0)
        assert not watcher.running


def test_the_first_event_is_an_empty_reconcile_sent_from_the_watcher_thread(watching) -> None:
    _, recorder = watching()
    first = recorder.events[0]
    assert first.reconciled and first.changes == () and not first.root_missing and not first.polling
    assert recorder.callback_threads == {"liferaft-watch"}


def test_create_modify_delete_and_move_a_file(watching, root: Path) -> None:
    _, recorder = watching()
    chart = root / "OUTPUT" / "chart.png"
    chart.write_bytes(b"\x89PNG one")
    recorder.wait_change(ADDED, "OUTPUT/chart.png")
    time.sleep(0.05)
    chart.write_bytes(b"\x89PNG two, longer")
    recorder.wait_change(MODIFIED, "OUTPUT/chart.png")
    os.rename(chart, root / "OUTPUT" / "revenue.png")
    event = recorder.wait_change(ADDED, "OUTPUT/revenue.png")
    recorder.wait_until(lambda: recorder.seen(DELETED, "OUTPUT/chart.png"))
    assert event.changes  # a move arrives as one burst, or two: never lost
    (root / "OUTPUT" / "revenue.png").unlink()
    recorder.wait_change(DELETED, "OUTPUT/revenue.png")
    (root / "SOURCE" / "sales.csv").unlink()
    recorder.wait_change(DELETED, "SOURCE/sales.csv")


def test_a_change_right_after_start_is_not_lost(root: Path) -> None:
    """There is no "ready" signal: a change made before the native watcher is live is found by the
    catch-up walk."""
    recorder = Recorder()

    def on_event(event: WatchEvent) -> None:
        if not recorder.events:  # the baseline: the native watcher is not started yet
            (root / "OUTPUT" / "early.csv").write_text("a\n")
        recorder(event)

    watcher = Watcher(root, on_event)
    watcher.start()
    try:
        recorder.wait_until(lambda: recorder.seen(ADDED, "OUTPUT/early.csv"))
    finally:
        watcher.stop()


def test_a_10000_file_burst_is_complete_in_a_few_events(watching, root: Path) -> None:
    # How fast: tests/bench/run.py watch and burst.
    _, recorder = watching()
    before = len(recorder.events)
    folder = root / "OUTPUT"
    names = {f"OUTPUT/part_{i:05d}.csv" for i in range(10_000)}
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    for i in range(10_000):
        os.close(os.open(folder / f"part_{i:05d}.csv", flags))

    def complete() -> bool:
        return names <= {change.path for change in recorder.changes() if change.kind == ADDED}

    recorder.wait_until(complete)
    assert len(recorder.events) - before <= 200, "a burst must be coalesced, not one callback per file"


def test_root_deleted_and_recreated_is_reported_and_recovered(watching, root: Path) -> None:
    _, recorder = watching()
    shutil.rmtree(root)
    gone = recorder.wait_for(lambda event: event.root_missing)
    assert "gone" in gone.notice and str(root) in gone.notice
    mark = len(recorder.events)
    root.mkdir()
    (root / "new.csv").write_text("a\n")
    back = recorder.wait_for(lambda event: event.reconciled and not event.root_missing, start=mark)
    assert "back" in back.notice
    recorder.wait_until(lambda: recorder.seen(ADDED, "new.csv"))
    # The old files went with the old folder.
    assert recorder.seen(DELETED, "SOURCE/sales.csv")
    # And the new folder is watched natively again.
    (root / "later.csv").write_text("b\n")
    recorder.wait_change(ADDED, "later.csv")


def test_root_renamed_away_and_back(watching, root: Path) -> None:
    _, recorder = watching()
    aside = root.with_name("aside")
    os.rename(root, aside)
    recorder.wait_for(lambda event: event.root_missing)
    os.rename(aside, root)
    recorder.wait_for(lambda event: event.reconciled and "back" in event.notice)
    (root / "OUTPUT" / "after.csv").write_text("c\n")
    recorder.wait_change(ADDED, "OUTPUT/after.csv")


def test_a_folder_moved_in_with_200_files_shows_every_file(watching, root: Path, tmp_path: Path) -> None:
    _, recorder = watching()
    outside = tmp_path / "elsewhere" / "charts"
    (outside / "deep").mkdir(parents=True)
    expected = set()
    for i in range(200):
        sub = outside / "deep" if i % 2 else outside
        (sub / f"c{i:03d}.png").write_bytes(b"png")
        expected.add(f"OUTPUT/charts/{'deep/' if i % 2 else ''}c{i:03d}.png")
    os.rename(outside, root / "OUTPUT" / "charts")
    recorder.wait_until(lambda: expected <= {c.path for c in recorder.changes() if c.kind == ADDED})
    # Moved out again: every file is reported gone.
    shutil.move(str(root / "OUTPUT" / "charts"), str(tmp_path / "elsewhere" / "back"))
    recorder.wait_until(lambda: expected <= {c.path for c in recorder.changes() if c.kind == DELETED})


def test_a_file_written_in_a_new_folder_at_once_is_never_lost(watching, root: Path) -> None:
    # The folder and its file arrive in one batch, in any order: the file must not be lost to the walk the
    # new folder causes. Many rounds, since the order within a batch varies.
    _, recorder = watching()
    for number in range(12):
        folder = root / "OUTPUT" / f"run{number:02d}"
        folder.mkdir()
        (folder / "chart.png").write_bytes(b"png")
        recorder.wait_change(ADDED, f"OUTPUT/run{number:02d}/chart.png")


def test_a_partial_download_is_downloading_then_added_under_its_final_name(watching, root: Path) -> None:
    _, recorder = watching()
    partial = root / "OUTPUT" / "report.pdf.crdownload"
    partial.write_bytes(b"%PDF-1.7 part")
    recorder.wait_change(DOWNLOADING, "OUTPUT/report.pdf.crdownload")
    with open(partial, "ab") as handle:
        handle.write(b" more bytes")
    os.rename(partial, root / "OUTPUT" / "report.pdf")
    recorder.wait_change(ADDED, "OUTPUT/report.pdf")
    recorder.wait_until(lambda: recorder.seen(DELETED, "OUTPUT/report.pdf.crdownload"))
    assert not recorder.seen(ADDED, "OUTPUT/report.pdf.crdownload")
    for suffix in (".part", ".download"):
        (root / f"data{suffix}").write_bytes(b"x")
        recorder.wait_change(DOWNLOADING, f"data{suffix}")


@pytest.mark.parametrize("poll", [False, True])
def test_safaris_partial_download_folder_is_downloading_then_the_file_added(watching, root: Path,
                                                                           poll: bool) -> None:
    """Safari downloads X.csv into a folder X.csv.download (the partial file and an Info.plist), then moves the
    file out and removes the folder: the folder is one download, never the files in it."""
    _, recorder = watching(poll=poll)
    folder = root / "SOURCE" / "new.csv.download"
    folder.mkdir()
    (folder / "Info.plist").write_text("<plist/>")
    (folder / "new.csv").write_text("id,value\n1,")
    recorder.wait_change(DOWNLOADING, "SOURCE/new.csv.download")
    grown = len(recorder.events)
    with open(folder / "new.csv", "a") as handle:
        handle.write("2\n" * 500)
    recorder.wait_for(lambda event: Change(DOWNLOADING, "SOURCE/new.csv.download") in event.changes, start=grown)
    os.rename(folder / "new.csv", root / "SOURCE" / "new.csv")
    shutil.rmtree(folder)
    recorder.wait_change(ADDED, "SOURCE/new.csv")
    recorder.wait_until(lambda: recorder.seen(DELETED, "SOURCE/new.csv.download"))
    assert not [change for change in recorder.changes() if change.path.startswith("SOURCE/new.csv.download/")]
    assert not recorder.seen(ADDED, "SOURCE/new.csv.download")


def test_own_writes_state_and_temp_files_are_not_reported(watching, root: Path) -> None:
    watcher, recorder = watching()
    prompt = root / "RESTART" / "prompts" / "rerun.md"
    prompt.parent.mkdir(parents=True)
    watcher.ignore_own_write(prompt)
    watcher.ignore_own_write("RESTART/restart-note.md")
    prompt.write_text("the prompt")
    (root / "RESTART" / "restart-note.md").write_text("# note")
    (root / ".liferaft").mkdir()
    (root / ".liferaft" / "state.json").write_text("{}")
    (root / "OUTPUT" / ".liferaft-tmp-abc123").write_text("half")
    (root / "OUTPUT" / "~$budget.xlsx").write_text("lock")
    (root / ".DS_Store").write_text("junk")
    (root / ".git" / "objects").mkdir(parents=True)
    (root / ".git" / "objects" / "ab").write_text("obj")
    (root / "__pycache__").mkdir()
    (root / "__pycache__" / "m.pyc").write_text("pyc")
    (root / "OUTPUT" / "user.csv").write_text("the user's")
    recorder.wait_change(ADDED, "OUTPUT/user.csv")
    (root / "OUTPUT" / "later.csv").write_text("written after all the others")
    recorder.wait_change(ADDED, "OUTPUT/later.csv")  # whatever came before it has been reported by now
    paths = {change.path for change in recorder.changes()}
    assert paths == {"OUTPUT/user.csv", "OUTPUT/later.csv"}, paths
    # A later user edit of the same file, after the grace period, is reported.
    watcher.ignore_own_write(prompt, seconds=0.0)
    time.sleep(0.01)
    prompt.write_text("edited by the user")
    recorder.wait_change(MODIFIED, "RESTART/prompts/rerun.md")


def test_an_ignore_callable_drops_files_and_folders(watching, root: Path) -> None:
    _, recorder = watching(ignore=lambda rel: rel.endswith(".log") or rel == "scratch/")
    (root / "scratch").mkdir()
    (root / "scratch" / "tmp.csv").write_text("x")
    (root / "run.log").write_text("x")
    (root / "kept.csv").write_text("x")
    recorder.wait_change(ADDED, "kept.csv")
    (root / "later.csv").write_text("x")
    recorder.wait_change(ADDED, "later.csv")  # whatever came before it has been reported by now
    assert {change.path for change in recorder.changes()} == {"kept.csv", "later.csv"}


def test_poll_true_watches_by_polling_with_a_notice(watching, root: Path) -> None:
    watcher, recorder = watching(poll=True)
    first = recorder.events[0]
    assert first.polling and watcher.polling and "polling" in first.notice
    (root / "OUTPUT" / "polled.csv").write_text("a\n")
    event = recorder.wait_change(ADDED, "OUTPUT/polled.csv")
    assert event.polling
    (root / "OUTPUT" / "polled.csv").unlink()
    recorder.wait_change(DELETED, "OUTPUT/polled.csv")
    shutil.rmtree(root)
    recorder.wait_for(lambda event: event.root_missing)
    root.mkdir()
    recorder.wait_for(lambda event: event.reconciled and "back" in event.notice)


def test_stop_ends_the_watching_thread(watching, root: Path) -> None:
    for options in ({}, {"poll": True}):
        watcher, _ = watching(**options)
        watcher.stop(timeout=1.0)
        eventually(lambda w=watcher: not w.running, what="the watcher's thread ending")


def test_stop_while_the_root_is_missing(root: Path) -> None:
    recorder = Recorder()
    watcher = Watcher(root, recorder)
    shutil.rmtree(root)
    watcher.start()
    recorder.wait_for(lambda event: event.root_missing)
    watcher.stop(timeout=1.0)
    eventually(lambda: not watcher.running, what="the watcher's thread ending")


def test_a_failing_callback_does_not_stop_the_watching(root: Path) -> None:
    seen: list[WatchEvent] = []

    def callback(event: WatchEvent) -> None:
        seen.append(event)
        if any(change.path == "boom.csv" for change in event.changes):
            raise RuntimeError("the UI's bug")

    recorder = Recorder()
    watcher = Watcher(root, lambda event: (recorder(event), callback(event)))
    watcher.start()
    try:
        recorder.wait_for(lambda event: event.reconciled)
        (root / "boom.csv").write_text("x")
        recorder.wait_change(ADDED, "boom.csv")
        (root / "after.csv").write_text("x")
        recorder.wait_change(ADDED, "after.csv")
    finally:
        watcher.stop()


def test_a_watcher_error_becomes_a_reconcile_and_a_notice(watching, root: Path, monkeypatch) -> None:
    """The native watcher failing mid-way (fault injected around the real one): the change made meanwhile
    is found by the reconcile, the user is told, and watching goes on."""
    import watchfiles

    real_watch = watchfiles.watch
    failed = threading.Event()

    def flaky_watch(*args, **kwargs):
        for batch in real_watch(*args, **kwargs):
            had_changes = bool(batch)  # looked at first: the watcher empties a batch once it has handled it
            yield batch
            if had_changes and not failed.is_set():
                failed.set()
                (root / "while-down.csv").write_text("x")  # made while no watcher runs
                raise RuntimeError("simulated watcher crash")

    monkeypatch.setattr(watchfiles, "watch", flaky_watch)
    _, recorder = watching()
    (root / "trigger.csv").write_text("x")
    event = recorder.wait_for(lambda event: "failed" in event.notice)
    assert event.reconciled
    recorder.wait_until(lambda: recorder.seen(ADDED, "while-down.csv"))
    (root / "after.csv").write_text("x")
    recorder.wait_change(ADDED, "after.csv")


def test_a_watcher_that_cannot_start_falls_back_to_polling(watching, root: Path, monkeypatch) -> None:
    import watchfiles

    def no_inotify(*args, **kwargs):
        raise OSError(28, "No space left on device (os error 28)")
        yield set()  # pragma: no cover - makes this a generator, like the real one

    monkeypatch.setattr(watchfiles, "watch", no_inotify)
    watcher, recorder = watching()
    event = recorder.wait_for(lambda event: event.polling and "inotify limit" in event.notice)
    assert "watching by polling" in event.notice and watcher.polling
    (root / "polled.csv").write_text("x")
    recorder.wait_change(ADDED, "polled.csv")


@pytest.mark.parametrize("platform", ["darwin", "win32"])
def test_off_linux_a_watcher_that_cannot_start_does_not_speak_of_inotify(watching, root: Path, monkeypatch,
                                                                         platform: str) -> None:
    import sys

    import watchfiles

    def no_events(*args, **kwargs):
        raise OSError(24, "Too many open files (os error 24)")
        yield set()  # pragma: no cover - makes this a generator, like the real one

    monkeypatch.setattr(watchfiles, "watch", no_events)
    monkeypatch.setattr(sys, "platform", platform)
    watcher, recorder = watching()
    event = recorder.wait_for(lambda event: event.polling and bool(event.notice))
    assert event.notice == ("watching by polling: native file events are unavailable ([Errno 24] Too many open files "
                            "(os error 24))")
    assert "inotify" not in event.notice and watcher.polling
    (root / "polled.csv").write_text("x")
    recorder.wait_change(ADDED, "polled.csv")


def test_the_heartbeat_reconciles_what_events_missed(watching, root: Path, monkeypatch) -> None:
    """A change no event reports (as after a queue overflow) is found by the heartbeat walk."""
    import watchfiles

    real_watch = watchfiles.watch

    def deaf_watch(*args, **kwargs):
        for _batch in real_watch(*args, **kwargs):
            yield set()  # every event lost

    monkeypatch.setattr(watchfiles, "watch", deaf_watch)
    monkeypatch.setattr(watch_module, "RUST_TIMEOUT_MS", 100)
    _, recorder = watching(heartbeat_s=0.5)
    time.sleep(0.2)
    (root / "unseen.csv").write_text("x")
    event = recorder.wait_change(ADDED, "unseen.csv")
    assert event.reconciled


MOUNTS = """\
/dev/vda / ext4 rw,relatime 0 0
server:/export /home/ana/nfs nfs4 rw,relatime 0 0
//nas/share /media/share cifs rw 0 0
ana@host:/data /home/ana/remote fuse.sshfs rw 0 0
C:\\134 /mnt/c 9p rw,dirsync,aname=drvfs 0 0
overlay /var/lib/docker/overlay2/x/merged overlay rw 0 0
/dev/vdb /home/ana/my\\040disk ext4 rw 0 0
"""


@pytest.mark.parametrize(("path", "fstype", "polls"), [
    ("/home/ana/project", "ext4", False),
    ("/home/ana/nfs/project", "nfs4", True),
    ("/home/ana/nfsother", "ext4", False),
    ("/media/share/a", "cifs", True),
    ("/home/ana/remote", "fuse.sshfs", True),
    ("/mnt/c/Users/ana/analysis", "9p", True),
    ("/var/lib/docker/overlay2/x/merged/work", "overlay", True),
    ("/home/ana/my disk/project", "ext4", False),
])
def test_network_and_virtual_filesystems_are_polled(tmp_path: Path, path: str, fstype: str, polls: bool) -> None:
    mounts = tmp_path / "mounts"
    mounts.write_text(MOUNTS)
    assert watch_module.filesystem_type(path, str(mounts)) == fstype
    assert (watch_module.polling_reason(path, str(mounts)) is not None) is polls


def test_filesystem_type_without_proc_mounts(tmp_path: Path) -> None:
    assert watch_module.filesystem_type(tmp_path, str(tmp_path / "missing")) is None
    assert watch_module.polling_reason(tmp_path, str(tmp_path / "missing")) is None


# macOS's `mount` table (the format /sbin/mount prints), and FreeBSD's: network volumes lack "local".
MACOS_MOUNT = """/dev/disk3s1s1 on / (apfs, sealed, local, read-only, journaled)
devfs on /dev (devfs, local, nobrowse)
/dev/disk3s5 on /System/Volumes/Data (apfs, local, journaled, nobrowse)
map auto_home on /System/Volumes/Data/home (autofs, automounted, nobrowse)
//ana@nas.local/Team Share on /Volumes/Team Share (smbfs, nodev, nosuid, mounted by ana)
nas:/export/projects on /Volumes/projects (nfs, nodev, nosuid, mounted by ana)
https://dav.example.org/remote.php/webdav on /Volumes/webdav (webdav, nodev, noexec, nosuid, mounted by ana)
ana@host:/home/ana on /Users/ana/remote (macfuse, nodev, nosuid, synchronous, mounted by ana)
/dev/disk4s1 on /Volumes/USB Stick (msdos, local, nodev, nosuid, noowners, noatime, fskit)
"""
FREEBSD_MOUNT = """zroot/ROOT/default on / (zfs, local, noatime, nfsv4acls)
devfs on /dev (devfs)
zroot/usr/home on /usr/home (zfs, local, noatime, nfsv4acls)
fileserver:/export/home on /usr/home/ana/nfs (nfs)
tmpfs on /tmp (tmpfs, local)
"""


@pytest.mark.parametrize(("platform", "table", "path", "fstype", "polls"), [
    ("darwin", MACOS_MOUNT, "/Users/ana/analysis", "apfs", False),
    ("darwin", MACOS_MOUNT, "/System/Volumes/Data/Users/ana/analysis", "apfs", False),
    ("darwin", MACOS_MOUNT, "/Volumes/Team Share/q1/analysis", "smbfs", True),
    ("darwin", MACOS_MOUNT, "/volumes/team share/q1", "smbfs", True),  # the volume ignores case
    ("darwin", MACOS_MOUNT, "/Volumes/Team Shared/q1", "apfs", False),  # only a prefix of the name
    ("darwin", MACOS_MOUNT, "/Volumes/projects/a", "nfs", True),
    ("darwin", MACOS_MOUNT, "/Volumes/webdav/a", "webdav", True),
    ("darwin", MACOS_MOUNT, "/Users/ana/remote/x", "macfuse", True),
    ("darwin", MACOS_MOUNT, "/Volumes/USB Stick/x", "msdos", False),
    ("freebsd14", FREEBSD_MOUNT, "/usr/home/ana/work", "zfs", False),
    ("freebsd14", FREEBSD_MOUNT, "/usr/home/ana/nfs/work", "nfs", True),
    ("freebsd14", FREEBSD_MOUNT, "/tmp/x", "tmpfs", False),
])
def test_network_volumes_on_macos_and_bsd_are_polled(platform: str, table: str, path: str, fstype: str,
                                                      polls: bool) -> None:
    assert watch_module.filesystem_type(path, platform=platform, mount_output=table) == fstype
    reason = watch_module.polling_reason(path, platform=platform, mount_output=table)
    assert (reason is not None) is polls
    if polls:
        assert fstype in reason


def test_an_unreadable_mount_table_watches_natively() -> None:
    assert watch_module.filesystem_type("/Users/ana/a", platform="darwin", mount_output="") is None
    assert watch_module.polling_reason("/Users/ana/a", platform="darwin", mount_output="garbage\n") is None


@pytest.mark.parametrize(("path", "remote_drives", "reason"), [
    ("C:\\Users\\ana\\analysis", set(), None),
    ("Z:\\team\\analysis", {"Z:\\"}, "the network drive Z:"),
    ("z:/team/analysis", {"z:\\"}, "the network drive z:"),
    ("\\\\nas\\team\\analysis", set(), "the network share \\\\nas\\team"),
    ("//nas/team/analysis", set(), "the network share //nas/team"),
    ("\\\\?\\UNC\\nas\\team\\analysis", set(), "the network share \\\\nas\\team"),
    ("\\\\?\\C:\\Users\\ana\\analysis", set(), None),
])
def test_network_drives_and_shares_on_windows_are_polled(path: str, remote_drives: set[str],
                                                         reason: str | None) -> None:
    asked: list[str] = []

    def drive_type(root: str) -> int:
        asked.append(root)
        return watch_module.DRIVE_REMOTE if root in remote_drives else 3  # DRIVE_FIXED

    found = watch_module.polling_reason(path, platform="win32", drive_type=drive_type)
    assert (found is None) is (reason is None)
    if reason:
        assert found.startswith(f"the folder is on {reason},")


def test_on_windows_a_drive_that_cannot_be_asked_watches_natively() -> None:
    def broken(_root: str) -> int:
        raise OSError("no")

    assert watch_module.polling_reason("Z:\\a", platform="win32", drive_type=broken) is None

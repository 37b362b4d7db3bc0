"""The workbench's live side: the folder watcher, the downloads folder, rescans spaced by the last one's
duration, the memory of a large burst given back, and the folder activity the session clock hears of."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import cast

from textual import on, work
from textual.screen import Screen
from textual.timer import Timer

from liferaft.core.config import Settings
from liferaft.core.project import Project
from liferaft.core.scan import Inventory
from liferaft.tui.messages import ActivityRecorded, DownloadsFound, DownloadsListed
from liferaft.tui.widgets.diagnosis_pane import DiagnosisPane
from liferaft.tui.widgets.project_pane import ProjectPane

TYPE_CHECKING = False
if TYPE_CHECKING:
    from liferaft.core.diagnose.session import SessionTracker
    from liferaft.core.watch import Watcher, WatchEvent
    from liferaft.tui.app import LiferaftApp


class WatchFlow(Screen[None]):
    """The workbench's watching, as a part of it (see ``Workbench``): what it needs of the rest is declared here."""

    project: Project | None
    watcher: Watcher | None
    settings: Settings
    session: SessionTracker
    _poll: bool
    _root_missing: bool
    _rescan_pending: bool
    _quiet_rescan: bool
    _downloading: dict[str, int]
    _downloads_dir: Path | None
    _downloads_seen: frozenset[tuple[str, int]] | None
    #: When the watcher last reported a change (monotonic seconds): work that can wait waits for the folder too.
    _folder_changed_at = 0.0

    _now: Callable[[], float]
    _update_status: Callable[..., None]
    _load_project: Callable[[], None]
    _assess_risk: Callable[[Project, Inventory], object]

    def ignore_own_write(self, path: Path) -> None:
        """A file Liferaft itself wrote: the watcher is not to report it as a change."""
        if self.watcher is not None:
            self.watcher.ignore_own_write(path)

    def _start_watching(self) -> None:
        from liferaft.core.watch import Watcher

        if self.project is None or self.watcher is not None:
            return

        def handed_over(event: WatchEvent) -> None:  # on the watcher's thread
            with contextlib.suppress(Exception):  # the app is closing: nothing to show it on
                self.app.call_from_thread(self._on_watch, event)

        self._find_downloads()
        from liferaft.core.memory import keep_heap_compact

        keep_heap_compact()  # what a burst of files leaves behind must be given back once it is over
        from liferaft.core.pace import give_way

        self.watcher = Watcher(self.project.root, handed_over, poll=self._poll, give_way=give_way)
        try:
            self.watcher.start()
        except Exception as exc:  # watching is a help, not a must: say so and go on
            self.watcher = None
            self.notify(f"Live updates are off: {exc}. Press r to read the folder again.", severity="warning",
                        markup=False, timeout=10)

    def _look_at_downloads(self) -> None:
        if self._downloads_dir is not None and self.project is not None:
            self._list_downloads(self._downloads_dir)

    @work(thread=True, exclusive=True, exit_on_error=False, group="downloads-find",
          description="find the downloads folder")
    def _find_downloads(self) -> None:
        """Where the downloads folder is, off the UI thread: in WSL, Windows is asked (a few seconds at worst)."""
        from liferaft.core.risk import downloads_to_watch

        self.post_message(DownloadsFound(downloads_to_watch(self.settings.other)))

    @on(DownloadsFound)
    def _downloads_found(self, message: DownloadsFound) -> None:
        self._downloads_dir = message.folder
        if message.folder is not None:
            # The downloads folder is only listed (its top level, every 2 s), never watched deeply or read.
            self._look_at_downloads()  # what is there now: only what arrives later is news
            self.set_interval(2.0, self._look_at_downloads)

    @work(thread=True, exclusive=True, exit_on_error=False, group="downloads", description="list the downloads")
    def _list_downloads(self, folder: Path) -> None:
        """The downloads folder's names and times (its top level only; nothing is opened), off the UI thread:
        it may be slow, or on a network drive."""
        from liferaft.core.risk import downloads_seen

        self.post_message(DownloadsListed(downloads_seen(folder)))

    @on(DownloadsListed)
    def _downloads_listed(self, message: DownloadsListed) -> None:
        seen = message.seen
        if seen != self._downloads_seen and self.project is not None:
            first = self._downloads_seen is None
            self._downloads_seen = seen
            if not first:
                self._assess_risk(self.project, self.project.inventory)

    def _on_watch(self, event: WatchEvent) -> None:
        if not self.app.is_running or self.watcher is None:
            return
        if event.notice:
            self.notify(event.notice, title="Watching", severity="warning" if event.root_missing else "information",
                        markup=False, timeout=8)
        if event.root_missing:
            self._root_missing = True
            self._update_status()
            return
        self._root_missing = False
        self._folder_changed_at = time.monotonic()
        self._unsettled_rescans = 0
        self._churn += len(event.changes)
        self._note_folder_activity(event)
        self._tell_note_editor(event)
        self._track_downloads(event)
        if event.reconciled or any(change.kind != "downloading" for change in event.changes):
            self._rescan_soon()

    def _track_downloads(self, event: WatchEvent) -> None:
        """Partial downloads: a "downloading" row while they grow, gone when they complete or vanish."""

        from liferaft.core.watch import download_size

        assert self.project is not None
        before = dict(self._downloading)
        for change in event.changes:
            if change.kind == "downloading":
                try:
                    self._downloading[change.path] = download_size(self.project.root / change.path)
                except OSError:
                    self._downloading.pop(change.path, None)
            elif change.path in self._downloading:  # done, or gone (a burst of 10,000 files: no other work)
                del self._downloading[change.path]
        if event.reconciled:  # a walk: whatever partial is no longer there is done
            for path in list(self._downloading):
                if not (self.project.root / path).exists():
                    del self._downloading[path]
        if self._downloading != before:
            self.query_one(ProjectPane).set_downloading(self._downloading)

    #: Files changed (as the watcher reports them) after which the memory the burst took is given back once
    #: things are quiet again: the scans, the checks and the watcher's snapshot of a burst of 50,000 files
    #: take ~150 MB, which the C allocator keeps when they are freed unless asked.
    RELEASE_AFTER_CHANGES = 5_000
    #: Seconds of quiet (no scan, no check running) before the memory is given back.
    RELEASE_QUIET_S = 2.0
    _churn = 0
    _shown_files = 0  # files in the inventory the panes show: a large one let go counts as churn
    _release_timer: Timer | None = None

    def _release_soon(self) -> None:
        """Give the memory of a large burst back once it has settled: RELEASE_QUIET_S after the last scan, when
        no scan or check is running (each new scan puts it off again)."""
        if self._release_timer is not None:
            self._release_timer.stop()
        self._release_timer = self.set_timer(self.RELEASE_QUIET_S, self._release_if_quiet)

    def _release_if_quiet(self) -> None:
        self._release_timer = None
        busy = ("scan", "uploads", "compose", "risk", "secrets", "preview")
        if self._rescan_pending or self._rescan_timer is not None or \
                any(worker.group in busy and worker.is_running for worker in self.workers):
            self._release_soon()
            return
        self._churn = 0
        self._drop_render_caches()
        self.call_after_refresh(self._release_memory)

    def _drop_render_caches(self) -> None:
        """Let go of what the screen's widgets drew during the burst before the memory is given back.

        Textual keeps the lines it drew (each widget's, the tree's per row, and each line's cut and cropped
        copies) in caches that outlive the content they show. Drawn during a burst, they sit scattered among the
        burst's freed memory and pin its pages, so the allocator cannot return them. Dropped here and drawn
        again once (what is on screen only), they no longer do: in the burst-memory benchmark this gives back
        a further 5 to 12 MB."""
        import gc

        from textual.cache import FIFOCache, LRUCache
        from textual.widgets import Tree

        for widget in self.walk_children(with_self=False):
            widget.refresh()  # drops the widget's drawn lines
            if isinstance(widget, Tree):
                widget.notify_style_update()  # and the tree's per-row lines
        # The cut and cropped copies of a drawn line are cached on the line itself, which other lines of the
        # compositor may still hold: only a walk of the heap finds them all (~30 ms, once per burst).
        for thing in gc.get_objects():
            if isinstance(thing, (FIFOCache, LRUCache)):
                thing.clear()

    @work(thread=True, exclusive=True, exit_on_error=False, group="release",
          description="give the memory of a burst back")
    def _release_memory(self) -> None:
        from liferaft.core.memory import release_memory

        release_memory()

    #: Scans read again in a row because files went away while they read (see _project_loaded).
    UNSETTLED_RESCANS = 3
    _unsettled_rescans = 0
    #: A scan for the watcher starts no sooner than this many times the last one's duration after it ended
    #: (capped by RESCAN_GAP_MAX_S): a scan of a few files follows at once, while during a burst into a folder
    #: of 50,000 files the interpreter is free at least two thirds of the time, and the burst is read a few
    #: times instead of dozens (each read makes 50,000 records, and the memory churn with them).
    RESCAN_GAP_FACTOR = 2.0
    RESCAN_GAP_MAX_S = 3.0
    _scan_started: float | None = None
    _scan_ended = 0.0
    _scan_took = 0.0
    _rescan_timer: Timer | None = None

    def _rescan_soon(self) -> None:
        """Read the folder again for the watcher: one scan at a time (a burst of events while one runs makes
        one more scan after it, not a crowd of scans fighting over the interpreter), spaced by the time the
        last one took."""
        if any(worker.group == "scan" and worker.is_running for worker in self.workers):
            self._rescan_pending = True
            return
        if self._rescan_timer is not None:  # one is already on its way
            return
        gap = min(self.RESCAN_GAP_MAX_S, self.RESCAN_GAP_FACTOR * self._scan_took)
        wait = self._scan_ended + gap - time.monotonic()
        if wait > 0.01:
            self._rescan_timer = self.set_timer(wait, self._rescan_now)
            return
        self._rescan_now()

    #: A rescan for the watcher waits this long after a key (or a click): the screen the key opens is drawn
    #: first, without a scan's thread and the redraw of its result taking the interpreter meanwhile.
    KEY_GRACE_S = 0.5

    def _rescan_now(self) -> None:
        self._rescan_timer = None
        since_key = time.monotonic() - cast("LiferaftApp", self.app).last_input
        if 0 <= since_key < self.KEY_GRACE_S:
            self._rescan_timer = self.set_timer(self.KEY_GRACE_S - since_key, self._rescan_now)
            return
        if any(worker.group == "scan" and worker.is_running for worker in self.workers):
            self._rescan_pending = True
            return
        self._quiet_rescan = True
        self._scan_started = time.monotonic()
        self._load_project()

    def _tell_note_editor(self, event: WatchEvent) -> None:
        """The note editor, when open (perhaps under a dialog), hears of its file changing on disk."""
        paths: set[str] | None = None  # made only when an editor is open: a burst has 50,000 of them
        for screen in self.app.screen_stack:
            files_changed = getattr(screen, "files_changed", None)  # NoteScreen, not imported until used
            if callable(files_changed):
                if paths is None:
                    paths = {change.path for change in event.changes}
                files_changed(paths, event.reconciled)


    #: The watcher's changes are written to the activity log at most this often (seconds).
    FOLDER_ACTIVITY_GAP = 60.0
    _activity_written_at = float("-inf")
    _activity_pending: tuple[str, float] | None = None
    _activity_timer: Timer | None = None

    def _note_folder_activity(self, event: WatchEvent) -> None:
        """The folder changed while watched: a sign the chat is in use. Written at most once a minute (the last
        change of a burst is kept for the next write)."""
        if self.project is None:
            return
        from liferaft.core.summary import written_by_liferaft

        folders = self.project.inventory.role_folders
        # The last change not written by Liferaft (a saved prompt is no sign the chat was used), if any.
        last = next((change for change in reversed(event.changes) if not written_by_liferaft(change.path, folders)),
                    None)
        if last is None:
            return
        self._activity_pending = (last.path, self._now())
        wait = self.FOLDER_ACTIVITY_GAP - (time.monotonic() - self._activity_written_at)
        if wait <= 0:
            self._write_folder_activity()
        elif self._activity_timer is None:
            self._activity_timer = self.set_timer(wait, self._write_folder_activity)

    def _write_folder_activity(self) -> None:
        self._activity_timer = None
        pending, self._activity_pending = self._activity_pending, None
        if pending is None or self.project is None:
            return
        self._activity_written_at = time.monotonic()
        self._record_activity(self.project.root, "folder", pending[1], pending[0])

    @work(thread=True, group="activity", exit_on_error=False, description="record activity in the session clock")
    def _record_activity(self, root: Path, kind: str, now: float, detail: str) -> None:
        from liferaft.core.diagnose.clock import record_activity

        try:
            log = record_activity(root, kind, now, detail)
        except OSError as exc:
            if kind == "chat":
                self.app.call_from_thread(self.notify, f"Not recorded: {exc.strerror or exc}", severity="error",
                                      markup=False, timeout=8)
            return
        self.post_message(ActivityRecorded(log, kind))

    @on(ActivityRecorded)
    def _activity_recorded(self, message: ActivityRecorded) -> None:
        log, kind = message.log, message.kind
        self.session.set_activity(log)
        pane = self.query_one(DiagnosisPane)
        pane.refresh_clock()
        refresh = getattr(self.app.screen, "refresh_evidence", None)
        if callable(refresh):  # the diagnosis screen shows the clock too
            refresh()
        if self.project is not None:
            self._update_status()
        for warning in log.warnings:
            self.notify(warning, title="Session clock", severity="warning", markup=False, timeout=10)
        if kind == "chat":
            from liferaft.tui.widgets.diagnosis_pane import clock_time

            clock = pane.clock()
            until = clock_time(clock.expires_at, clock.now) if clock.expires_at else "?"
            self.notify(f"Noted: you used the chat just now. The session clock starts again; left quiet, the "
                        f"sandbox lasts until about {until}.", title="Session clock", markup=False, timeout=6)

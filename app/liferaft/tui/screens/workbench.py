"""The workbench: the main screen. Four panes over one project folder, and the flow that keeps them current:
scan the project, check the upload plan, gather what the prompt is made of, assess what is at risk. Workers post
their results as messages (``liferaft.tui.messages``); the handlers (``workbench_results``) put them on show, on the
UI thread."""

from __future__ import annotations

import ntpath
import posixpath
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.timer import Timer
from textual.widgets import Header, Input, Static, Tree
from textual.worker import get_current_worker

from liferaft.core.config import Settings
from liferaft.core.diagnose.session import SessionTracker
from liferaft.core.pace import give_way
from liferaft.core.project import Project, ProjectError, ProjectLoader, open_project
from liferaft.core.roles import Role
from liferaft.core.scan import Inventory, display_name, shown_name
from liferaft.core.units import format_count
from liferaft.core.uploads import UploadPlan, plan_uploads
from liferaft.core.vendor import UploadLimits
from liferaft.tui.messages import (
    ProjectFailed,
    ProjectLoaded,
    SecretsReady,
)
from liferaft.tui.screens.workbench_actions import WorkbenchActions
from liferaft.tui.screens.workbench_layout import WorkbenchLayout
from liferaft.tui.screens.workbench_results import WorkbenchResults
from liferaft.tui.screens.workbench_watch import WatchFlow
from liferaft.tui.threads import lower_this_thread
from liferaft.tui.widgets.composer_pane import ComposerPane
from liferaft.tui.widgets.diagnosis_pane import DiagnosisPane
from liferaft.tui.widgets.key_footer import KeyFooter
from liferaft.tui.widgets.preview_pane import PreviewPane, missing_view, saved_prompts_view
from liferaft.tui.widgets.project_pane import Arrangement, ProjectPane, SavedPrompts, arrange
from liferaft.tui.widgets.status_line import StatusLine, status_text

TYPE_CHECKING = False
if TYPE_CHECKING:
    from liferaft.core.risk import Risk
    from liferaft.core.watch import Watcher
    from liferaft.tui.app import LiferaftApp
    from liferaft.tui.offload import Offload

#: Seconds without a key before work that nothing on screen waits for (the secret rules, the sweep) starts.
QUIET_SECONDS = 1.0


def window_title(root: str, platform: str | None = None) -> str:
    """The window's title for the project folder ``root``: its own name, by this platform's rules
    (``C:\\Users\\ana\\sales`` is ``sales`` on Windows); a drive or the root shows whole."""
    paths = ntpath if (sys.platform if platform is None else platform) == "win32" else posixpath
    name = paths.basename(paths.normpath(root)) or root
    return f"Liferaft · {shown_name(display_name(name))}"


class Workbench(WatchFlow, WorkbenchResults, WorkbenchActions, WorkbenchLayout):
    """The main screen: the project pane (with its filter), the preview, the diagnosis, the composer, the status
    line. It owns the project on show and everything worked out from it."""

    def __init__(
        self,
        root: Path,
        *,
        settings: Settings,
        limits: UploadLimits,
        now: Callable[[], float] = time.time,
        first_frame_exit: bool = False,
        loader: ProjectLoader | None = None,
        watch: bool = False,
        poll: bool = False,
        warnings: list[str] | None = None,
        offload: bool = False,
        leave_promptly: bool = False,
    ) -> None:
        super().__init__()
        self._leave_promptly = leave_promptly
        """Closing waits for no thread (the watcher's is a daemon; the app's workers are, see ``tui.threads``)."""
        self._offload_wanted = offload
        """Run the upload check and the gathering in a worker process (``liferaft.tui.offload``), not a thread."""
        self._offload: Offload | None = None
        self._offload_lock = threading.Lock()
        self.settings = settings
        """The user's settings (shared with the app, which saves them)."""
        self.limits = limits
        """The upload limits: the vendor's, with the config file's [limits] applied."""
        self._settings_warnings = warnings or []
        self._watch = watch
        self._poll = poll
        self.watcher: Watcher | None = None
        """The folder watcher (live updates); None when watching is off (tests, --first-frame-exit)."""
        self._root_missing = False
        self.risk: Risk | None = None
        """What is at risk (outputs not checkpointed or missing, matching downloads); None until computed."""
        self._flagged: frozenset[str] = frozenset()
        self._offered: set[str] = set()
        self._started = time.time()
        self._rescan_pending = False
        self._downloading: dict[str, int] = {}
        """Partial downloads in the project the watcher saw (path → size so far)."""
        self._risk_warnings_shown: set[str] = set()
        self._downloads_dir: Path | None = None
        self._downloads_seen: frozenset[tuple[str, int]] | None = None
        self.root_path = Path(root)
        """The project folder."""
        self.project: Project | None = None
        """The opened project; None until the first scan finishes."""
        self.plan: UploadPlan | None = None
        """The upload plan of the project on show; its checks arrive from a worker after each scan."""
        self._quiet_rescan = False
        self._now = now
        self._loader = loader
        self._filter_timer: Timer | None = None
        self._first_frame_exit = first_frame_exit
        self.session = SessionTracker(settings.other, warn=lambda title, warning: self.notify(
            warning, title=title, severity="warning", markup=False, timeout=10))
        """The session clock's state (window, activity log): the diagnosis pane and screens show its clock."""

    def compose(self) -> ComposeResult:
        yield Header(icon="≋")
        with Horizontal(id="workspace"):
            with Vertical(id="left"):
                yield Input(placeholder="filter: type part of a path · esc clears", id="filter")
                yield ProjectPane(self._now, id="project")
            with Vertical(id="right"):
                yield PreviewPane(self._now, id="preview")
                with Horizontal(id="lower"):
                    yield DiagnosisPane(self._now, self.session, id="diagnosis")
                    yield ComposerPane(self._now, id="composer")
        yield StatusLine("Scanning…", id="status")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.app.title = window_title(str(self.root_path))
        self.app.sub_title = shown_name(display_name(str(self.root_path)))
        composer = self.query_one(ComposerPane)
        from liferaft.core.restart_note import request_prompt

        composer.note_request = request_prompt
        for warning in [*self._settings_warnings, *composer.template_warnings]:
            self.notify(warning, title="Settings", severity="warning", markup=False, timeout=10)
        # Ages and the session clock move with time, not only with the folder.
        self.set_interval(60, self._tick)
        self._when_quiet(self._sweep_leftovers)  # it walks the whole tree: not while the user waits for a key
        loader = self._loader
        if loader is not None and loader.done:
            # Scanned while Textual was starting: show it in the very first frame.
            self._loader = None
            try:
                project = loader.result()
            except Exception as exc:
                self._project_failed(exc)
            else:
                self._project_loaded(project)
            return
        # A spinner only if the scan is slow: a flash of one on every start looks like a glitch.
        self.set_timer(0.15, self._scan_is_slow)
        self._load_project()

    #: The inventory whose upload check came back (and was shown).
    _checked_inventory: Inventory | None = None

    #: What the status line shows, when it is the files' line (None: something else, or nothing yet).
    _status_shown: Text | None = None

    def _when_quiet(self, callback: Callable[[], object], quiet: float = QUIET_SECONDS) -> None:
        """Call ``callback`` once the user has pressed no key (nor clicked) and the folder has not changed for
        ``quiet`` seconds: startup work nothing on screen waits for (the secret scanner's rules, the sweep of
        leftovers) takes no core away from the first keys, nor from a burst of files being shown."""
        app = cast("LiferaftApp", self.app)

        def check() -> None:
            now = time.monotonic()
            if now - app.last_input >= quiet and now - self._folder_changed_at >= quiet:
                timer.stop()
                if self.app.is_running:
                    callback()

        timer = self.set_interval(quiet / 4, check)

    def _tick(self) -> None:
        if self.project is not None:
            self.query_one(DiagnosisPane).show(self.project.inventory)
            self._update_status()
            self.query_one(ProjectPane).refresh_ages()
            self.query_one(PreviewPane).refresh_ages()

    def _update_status(self, inventory: Inventory | None = None) -> None:
        """Draw the status line for ``inventory`` (default: the project's) with the risk and clock on show; while
        the project folder is gone, say that instead (a late scan or the minute tick must not hide it)."""
        if self._root_missing:
            self._status_shown = None
            self.query_one("#status", Static).update(
                Text("The project folder is gone (deleted, renamed or unmounted): Liferaft picks it up again when "
                     "it is back.", style="bold red"))
            return
        if inventory is None:
            if self.project is None:
                return
            inventory = self.project.inventory
        clock = self.query_one(DiagnosisPane).clock(inventory)
        status = self.query_one("#status", Static)
        width = (status.content_region.width or self.size.width - 2) if status.is_mounted else self.size.width - 2
        text = status_text(inventory, self._now(), self.risk, clock, width)
        if text != self._status_shown:  # one row, always: no layout of the screen for it
            self._status_shown = text
            status.update(text, layout=False)

    def _scan_is_slow(self) -> None:
        if self.project is None and self.app.is_running:  # not when the app closes before its first scan is in
            self.query_one(ProjectPane).loading = True

    @on(StatusLine.Resized)
    def _on_status_resized(self) -> None:
        self._update_status()  # shorter words when it is narrower

    # --- loading --------------------------------------------------------------------------------------

    def _load_project(self) -> None:
        """Scan the project (the first time, open it) in a worker; its result arrives as ProjectLoaded."""
        self.workers.cancel_group(self, "uploads")  # its inventory is about to go
        loader = None
        if self.project is None:
            loader, self._loader = self._loader, None
        pane = self.query_one(ProjectPane)
        self._scan(self.project, loader, pane.filter_text, pane.sort_order)

    @work(thread=True, exclusive=True, exit_on_error=False, group="scan", description="scan the project")
    def _scan(self, project: Project | None, loader: ProjectLoader | None, filter_text: str, sort_order: str
              ) -> None:
        worker = get_current_worker()
        try:
            before = project.inventory if project is not None else None
            if project is None:
                project = loader.result() if loader is not None else open_project(self.root_path, give_way=give_way)
            else:
                project.rescan(give_way=give_way)
            if project.inventory is before:  # nothing changed: what is on show (and its checks) still holds
                if not worker.is_cancelled:
                    self.post_message(ProjectLoaded(project, unchanged=True))
                return
            # What the screen shows of it, made here: on a large project, grouping, sorting and planning every
            # file is work (and memory churn) the UI thread is spared.
            inventory = project.inventory
            plan = plan_uploads(inventory, dict(project.state.prepared), check=False)
            arrangement = arrange(inventory, filter_text, sort_order)
            self.session.newest_change(inventory)  # for the session clock the status line shows
        except Exception as exc:
            if not worker.is_cancelled:
                self.post_message(ProjectFailed(exc))
            return
        if not worker.is_cancelled:  # a newer scan replaced this one: its result is stale
            self.post_message(ProjectLoaded(project, plan, arrangement))

    @work(thread=True, exit_on_error=False, group="sweep", description="remove stale temporary files")
    def _sweep_leftovers(self) -> None:
        """Remove the temporary files a killed Liferaft left in the project (it walks the tree: off the UI thread)."""
        from liferaft.core.leftovers import sweep_leftovers

        sweep_leftovers(self.root_path)

    # --- the project on show -------------------------------------------------------------------------

    def _project_loaded(self, project: Project, plan: UploadPlan | None = None,
                        arrangement: Arrangement | None = None, *, unchanged: bool = False) -> None:
        if self._scan_started is not None:
            self._scan_ended = time.monotonic()
            self._scan_took = self._scan_ended - self._scan_started
            self._scan_started = None
        pane = self.query_one(ProjectPane)
        first = self.project is None
        self.project = project
        pane.loading = False
        # The watcher saw more while this scan ran: show this one, and leave the checks to the next scan.
        more = self._rescan_pending and not first
        # Files went away while this scan read them (a burst being removed): the watcher may have nothing left
        # to say (it saw them go before this scan did), and its notes on files long gone would stay on show, and
        # in memory, until the next change. Read it again, a few times at most until the watcher speaks again.
        if not first and not more and self.watcher is not None and project.inventory.read_while_changing \
                and self._unsettled_rescans < self.UNSETTLED_RESCANS:
            self._unsettled_rescans += 1
            more = True
        if not unchanged or first:
            self._show_inventory(project.inventory, check=not more, plan=plan, arrangement=arrangement)
        elif not more and self._checked_inventory is not project.inventory:
            # Unchanged: the rows and the prompt on show are still right, but its check was left to this scan
            # (or stopped when it began): run it.
            self.call_after_refresh(self._check_uploads, project)
        if first:
            pane.focus()
            for warning in project.warnings:
                self.notify(warning, title="Project state", severity="warning", markup=False, timeout=10)
        elif not self._quiet_rescan:
            files = format_count(len(project.inventory.files), "file")
            self.notify(f"Project folder read again: {files}.", timeout=3)
        self._quiet_rescan = False
        if more:
            self._rescan_pending = False
            self.set_timer(0.05, self._rescan_soon)
            return
        if not self._first_frame_exit:
            self._assess_risk(project, project.inventory)
        if self._churn >= self.RELEASE_AFTER_CHANGES:
            self._release_soon()
        if self._first_frame_exit:
            self.call_after_refresh(self.app.exit, 0)
        elif first:
            self._when_quiet(self._warm_up_secrets)  # a second of compiling on a core: not while keys are answered
            if self._watch:
                self.call_after_refresh(self._start_watching)

    def _project_failed(self, error: BaseException | None) -> None:
        self._scan_started = None
        self.query_one(ProjectPane).loading = False
        message = str(error) if isinstance(error, ProjectError | OSError) else f"{type(error).__name__}: {error}"
        if self._root_missing:  # the scan failed because the folder is gone: the status line already says so
            return
        self._status_shown = None
        self.query_one("#status", Static).update(f"Cannot read the project: {message}")
        self.notify(f"Cannot read the project: {message}", severity="error", markup=False, timeout=15)
        if self._first_frame_exit:
            self.call_after_refresh(self.app.exit, 1)

    def _show_inventory(self, inventory: Inventory, *, check: bool = True, plan: UploadPlan | None = None,
                        arrangement: Arrangement | None = None) -> None:
        """Show ``inventory`` in every pane; ``plan`` (unchecked) and ``arrangement`` are what a scan's thread
        made of it already (made here when not given)."""
        pane = self.query_one(ProjectPane)
        # A large inventory let go by the panes (a burst removed, perhaps shown only after the memory of the
        # watcher's events was given back) is memory to give back as well.
        self._churn += max(0, self._shown_files - len(inventory.files))
        self._shown_files = len(inventory.files)
        # At once, what needs no reading (prepared copies in place of their originals); the checks follow.
        if plan is None:
            prepared = self.project.state.prepared if self.project is not None else {}
            plan = plan_uploads(inventory, prepared, check=False)
        self._show_plan(plan, inventory)
        if self.project is not None and check:
            # After this frame is drawn: the checks read files, and the screen matters first.
            self.call_after_refresh(self._check_uploads, self.project)
        pane.show_inventory(inventory, arrangement)
        self._update_status(inventory)
        self._show_node(pane.cursor_node.data if pane.cursor_node is not None else None)
        self.query_one(DiagnosisPane).show(inventory)
        self.query_one(ComposerPane).show(inventory)

    def _show_plan(self, plan: UploadPlan, inventory: Inventory | None = None) -> None:
        if inventory is None and self.project is not None:
            inventory = self.project.inventory
        self.plan = plan
        self.query_one(ProjectPane).set_plan(plan)
        self.query_one(PreviewPane).set_plan(plan)
        self.query_one(DiagnosisPane).set_plan(plan)
        self.query_one(ComposerPane).set_plan(plan)

    def _show_node(self, data: object) -> None:
        if self.project is None:
            return
        preview = self.query_one(PreviewPane)
        if isinstance(data, SavedPrompts):  # the folded row: what it holds, newest first
            preview.show(None, self.project.inventory, self.project.root)
            preview.query_one("#preview-summary", Static).update(saved_prompts_view(data, self._now()))
            return
        if data is Role.OUTPUT and self.risk is not None:
            preview.show(data, self.project.inventory, self.project.root, self.project.state.overrides)  # type: ignore[arg-type]
            missing = missing_view(self.risk)
            if missing is not None:  # the OUTPUT group's facts, then the outputs only the chat has
                from rich.console import Group

                from liferaft.tui.widgets.preview_pane import group_summary

                preview.query_one("#preview-summary", Static).update(
                    Group(group_summary(Role.OUTPUT, self.project.inventory), Text(""), missing))
            return
        preview.show(
            data, self.project.inventory, self.project.root, self.project.state.overrides  # type: ignore[arg-type]
        )

    # --- events ---------------------------------------------------------------------------------------

    @on(Tree.NodeHighlighted, "#project")
    def _on_highlight(self, event: Tree.NodeHighlighted) -> None:
        self._show_node(event.node.data)

    @on(Tree.NodeSelected, "#project")
    def _on_select(self, event: Tree.NodeSelected) -> None:
        if not isinstance(event.node.data, Role):
            self.query_one(PreviewPane).focus_body()

    @on(Input.Changed, "#filter")
    def _on_filter(self, event: Input.Changed) -> None:
        # Filter once typing pauses: on a big project every rebuild of the list costs a moment.
        if self._filter_timer is not None:
            self._filter_timer.stop()
        value = event.value
        self._filter_timer = self.set_timer(0.15, lambda: self.query_one(ProjectPane).set_filter(value))

    @on(Input.Submitted, "#filter")
    def _on_filter_done(self, event: Input.Submitted) -> None:
        if not event.value:
            self._clear_filter()
            return
        self.query_one(ProjectPane).set_filter(event.value)
        self.query_one(ProjectPane).focus()

    def on_unmount(self) -> None:
        if self._offload is not None:
            self._offload.close()
        if self.watcher is not None:
            # It stops at its next look at the stop flag; midway through a large folder that may be seconds away.
            self.watcher.stop(timeout=0.0 if self._leave_promptly else 2.0)
            self.watcher = None

    @work(thread=True, exclusive=True, exit_on_error=False, group="secrets",
          description="load the secret scanner's rules")
    def _warm_up_secrets(self) -> None:
        from liferaft.core import secrets

        lower_this_thread()  # no screen waits for it; the thread ends with it
        secrets.warm_up()
        self.post_message(SecretsReady())

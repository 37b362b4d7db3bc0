"""The workbench application: four panes over one project folder."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import NamedTuple

from rich.text import Text
from textual import events, on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Header, Input, Static, Tree
from textual.worker import Worker, WorkerState, get_current_worker

from liferaft import __version__
from liferaft.core.compose import ComposeContext, ComposedPrompt
from liferaft.core.config import Settings, load_settings, save_settings
from liferaft.core.project import Project, ProjectError, ProjectLoader, open_project
from liferaft.core.roles import Role
from liferaft.core.scan import Inventory, display_name, shown_lines, shown_name
from liferaft.core.state import PreparedFrom
from liferaft.core.units import format_age_short, format_count, format_size
from liferaft.core.uploads import UploadPlan, plan_uploads
from liferaft.tui.commands import BY_ID, COMMANDS, SCOPES, bindings, keys_shown
from liferaft.tui.composer_pane import ComposerPane
from liferaft.tui.diagnosis_pane import DiagnosisPane
from liferaft.tui.help_screen import HelpScreen
from liferaft.tui.preview_pane import PreviewPane
from liferaft.tui.project_pane import ProjectPane
from liferaft.tui.role_picker import AUTOMATIC, RolePicker
from liferaft.tui.styles import stylesheet_path

TYPE_CHECKING = False
if TYPE_CHECKING:
    from liferaft.core.diagnose.clock import ActivityLog, SessionClock
    from liferaft.core.outbound import Release
    from liferaft.core.risk import Risk
    from liferaft.core.watch import Watcher, WatchEvent
    from liferaft.tui.note_screen import NoteScreen
    from liferaft.tui.prepare_screen import PrepareOutcome

#: Below this width the diagnosis and composer panes fold to their titles until focused.
NARROW_WIDTH = 120
PANES: dict[str, str] = {"project": "#project", "preview": "#preview", "diagnosis": "#diagnosis",
                         "composer": "#composer"}


def _risk_text(risk: Risk, now: float, width: int = 1000) -> Text:
    """The at-risk part of the status line: outputs not checkpointed, missing or in Downloads (with the key that
    lists them: the line is clickable too), then the checkpoints (how many, how long ago) and the rework bar.
    Shorter words when ``width`` cells cannot hold the long ones, so that every count stays readable."""
    from datetime import datetime

    from liferaft.core.checkpoints import rework_percent

    rework = rework_percent(risk.checkpoints)
    filled = round(rework / 20)
    bar_style = "red" if rework > 50 else "dark_orange" if rework > 20 else "green"
    last = ""
    if risk.last_checkpoint is not None:
        with contextlib.suppress(ValueError):
            age = format_age_short(datetime.fromisoformat(risk.last_checkpoint).timestamp(), now)
            last = "just now" if age == "now" else f"{age} ago"
    flagged = risk.unsaved_outputs or risk.missing_outputs or risk.downloads
    text = Text()
    for short in (False, True):
        text = Text()
        gap = "  " if short else "   "
        if risk.unsaved_outputs:
            what = "unsaved" if short else "not checkpointed"
            text.append(f"⚑ {len(risk.unsaved_outputs)} {what}{gap}", style="bold dark_orange")
        if risk.missing_outputs:
            text.append(f"⚑ {len(risk.missing_outputs)} missing{gap}", style="bold red")
        if risk.downloads:
            what = "downloaded" if short else "in Downloads"
            text.append(f"⇣ {len(risk.downloads)} {what}{gap}", style="bold cyan")
        if flagged:
            text.append("(w)" if short else "w: what to do", style="bold")
            text.append(gap)
        if short:
            text.append(f"{format_count(risk.checkpoints, 'checkpoint')}", style="dim")
        else:
            text.append(f"checkpoints {risk.checkpoints}", style="dim")
            if last:
                text.append(f", last {last}", style="dim")
        text.append(" ")
        text.append("█" * filled, style=bar_style)
        text.append("░" * (5 - filled), style="dim")
        text.append(f" {rework:.0f} %" + ("" if short else " rework if lost"), style="dim")
        if text.cell_len <= width:
            break
    return text


def _status_text(inventory: Inventory, now: float, risk: Risk | None, clock: SessionClock,
                 width: int = 1000) -> Text:
    """The status line, most urgent first (a narrow terminal cuts its end): what is at risk and the
    checkpoints, the session, then the files per role (the project pane shows those too)."""
    parts: list[Text] = []
    if risk is not None:
        parts.append(_risk_text(risk, now, width))
    if clock.idle_hours is not None:
        parts.append(Text(f"session {clock.state.value} ({clock.idle_hours:.1f} h idle)"))
    counts = [f"{role.label} {len(records):,}" for role, records in inventory.by_role().items()
              if records or role is not Role.UNSORTED]
    line = " · ".join(counts) + f" ({format_size(sum(record.size for record in inventory.files))})"
    if inventory.notes:
        line += f"   {format_count(len(inventory.notes), 'note')}"
    parts.append(Text(line, style="dim"))
    return Text("   ").join(parts)


def _missing_view(risk: Risk) -> Text | None:
    """For the OUTPUT group's preview: the outputs only the chat has, by name."""
    if not risk.missing_outputs:
        return None
    text = Text(f"Missing ({len(risk.missing_outputs)}): named in the restart note or the chat, not in OUTPUT\n",
                style="bold red")
    for item in risk.missing_outputs[:20]:
        text.append(f"  ⚑ {shown_name(item.name)}", style="bold")
        text.append(f"  named in: {', '.join(item.sources)}\n", style="dim")
    if len(risk.missing_outputs) > 20:
        text.append(f"  … and {len(risk.missing_outputs) - 20} more\n", style="dim")
    text.append("Ask the chat for them again and save them in OUTPUT/; w lists what is at risk.", style="italic")
    return text


def _saved_prompts_view(fold: object, now: float) -> Text:
    """For the folded row of saved prompts: how many, where, and the newest ones."""
    from liferaft.core.delivery import KEEP_PROMPTS, OLD
    from liferaft.core.units import format_age

    records = getattr(fold, "records", ())
    folder = getattr(fold, "folder", "")
    kept = getattr(fold, "kept", 0)
    text = Text("Saved prompts\n", style="bold")
    text.append(f"{format_count(kept, 'prompt')} in {shown_name(folder)}/ (the newest {KEEP_PROMPTS} stay there; "
                f"older ones move to {OLD}/, never deleted)", style="dim")
    if len(records) > kept:
        text.append(f", {len(records) - kept:,} in {OLD}/", style="dim")
    text.append(". ctrl+y saves one each time it copies; e opens the folder.\n\n", style="dim")
    for record in records[:12]:
        text.append(f"  {shown_name(record.name)}", style="bold" if record is records[0] else "")
        text.append(f"  {format_age(record.mtime, now)}\n", style="dim")
    if len(records) > 12:
        text.append(f"  … and {len(records) - 12:,} more\n", style="dim")
    return text


class StatusLine(Static):
    """The status line. A click on it opens the list of what is at risk (as ``w`` does)."""

    DEFAULT_CLASSES = "status-line"

    async def on_click(self, event: events.Click) -> None:
        event.stop()
        await self.app.run_action("show_risk")

    def on_resize(self, event: events.Resize) -> None:
        update = getattr(self.app, "_update_status", None)
        if callable(update):  # shorter words when it is narrower
            update()


class CheckedPlan(NamedTuple):
    """An upload plan with the inventory it was made for (a rescan may have replaced it meanwhile)."""

    inventory: Inventory
    plan: UploadPlan


class AssessedRisk(NamedTuple):
    """What is at risk, with the inventory it was assessed on."""

    inventory: Inventory
    risk: Risk


class GatheredContext(NamedTuple):
    """What a prompt is made of, with the inventory it was gathered from."""

    inventory: Inventory
    context: ComposeContext


class LiferaftApp(App[int]):
    """The full-screen workbench over one project folder."""

    CSS_PATH = str(stylesheet_path())
    TITLE = "Liferaft"
    AUTO_FOCUS = "#project"
    BINDINGS = bindings("app")
    # Below 120 columns the diagnosis and composer panes fold to their titles until focused.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (NARROW_WIDTH, "-wide")]

    def __init__(
        self,
        root: Path,
        *,
        now: Callable[[], float] = time.time,
        first_frame_exit: bool = False,
        theme: str | None = None,
        settings: Settings | None = None,
        loader: ProjectLoader | None = None,
        watch: bool = False,
        poll: bool = False,
    ) -> None:
        super().__init__()
        self._watch = watch
        self._poll = poll
        self.watcher: Watcher | None = None
        """The folder watcher (live updates); None when watching is off (tests, --first-frame-exit)."""
        self._root_missing = False
        self.risk: Risk | None = None
        """What is at risk (outputs not checkpointed or missing, matching downloads); None until computed."""
        self._flagged: set[str] = set()
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
        self._settings_warnings: list[str] = []
        self._settings_writable = True
        if settings is None:
            loaded = load_settings()
            settings, self._settings_warnings, self._settings_writable = (
                loaded.settings, loaded.warnings, loaded.writable)
        self.settings = settings
        """The user's settings (theme, keys); changes are saved back to the config file."""
        from liferaft.core.config import config_path
        from liferaft.core.vendor import override_limits, upload_limits

        self.limits, refused = override_limits(upload_limits(), settings.other.get("limits"), str(config_path()))
        """The upload limits: the vendor's, with the config file's [limits] applied."""
        self._settings_warnings += refused
        chosen = theme or settings.theme
        if chosen and chosen in self.available_themes:
            self.theme = chosen
        elif chosen:
            self._settings_warnings.append(f"unknown theme {chosen!r} in the config file; using the default")
        keymap = {key: value for key, value in settings.keys.items() if key in BY_ID}
        unknown = sorted(set(settings.keys) - set(keymap))
        if unknown:
            self._settings_warnings.append("unknown command ids in [keys]: " + ", ".join(unknown))
        if keymap:
            self.set_keymap(keymap)

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = True) -> None:
        """Every notification, from any screen: file names in it show their control characters as escapes."""
        super().notify(shown_lines(message), title=shown_name(title), severity=severity, timeout=timeout,
                       markup=markup)

    def compose(self) -> ComposeResult:
        yield Header(icon="≋")
        with Horizontal(id="workspace"):
            with Vertical(id="left"):
                yield Input(placeholder="filter: type part of a path · esc clears", id="filter")
                yield ProjectPane(self._now, id="project")
            with Vertical(id="right"):
                yield PreviewPane(self._now, id="preview")
                with Horizontal(id="lower"):
                    yield DiagnosisPane(self._now, id="diagnosis")
                    yield ComposerPane(self._now, id="composer")
        yield StatusLine("Scanning…", id="status")
        yield Footer()

    def on_mount(self) -> None:
        shown = shown_name(display_name(str(self.root_path)))
        self.title = f"Liferaft · {shown.rstrip('/').rpartition('/')[2] or shown}"
        self.sub_title = shown
        composer = self.query_one(ComposerPane)
        from liferaft.core.restart_note import request_prompt

        composer.note_request = request_prompt
        for warning in [*self._settings_warnings, *composer.template_warnings]:
            self.notify(warning, title="Settings", severity="warning", markup=False, timeout=10)
        self.theme_changed_signal.subscribe(self, self._remember_theme)
        # Ages and the session clock move with time, not only with the folder.
        self.set_interval(60, self._tick)
        self._sweep_leftovers()
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
        status.update(_status_text(inventory, self._now(), self.risk, clock, width))

    def _scan_is_slow(self) -> None:
        if self.project is None and self.is_running:  # not when the app closes before its first scan is in
            self.query_one(ProjectPane).loading = True

    # --- loading --------------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="scan", description="scan the project")
    def _load_project(self) -> Project:
        self.call_from_thread(self.workers.cancel_group, self, "uploads")  # its inventory is about to go
        if self.project is None:
            loader, self._loader = self._loader, None
            return loader.result() if loader is not None else open_project(self.root_path)
        self.project.rescan()
        return self.project

    @work(thread=True, exit_on_error=False, group="sweep", description="remove stale temporary files")
    def _sweep_leftovers(self) -> None:
        """Remove the temporary files a killed Liferaft left in the project (it walks the tree: off the UI thread)."""
        from liferaft.core.leftovers import sweep_leftovers

        sweep_leftovers(self.root_path)

    def _check_uploads(self, project: Project) -> None:
        if project is self.project:
            self._run_upload_check(project.inventory, dict(project.state.prepared))

    @work(thread=True, exclusive=True, exit_on_error=False, group="uploads",
          description="check the files a new chat needs")
    def _run_upload_check(self, inventory: Inventory, prepared: dict[str, PreparedFrom]) -> CheckedPlan:
        worker = get_current_worker()
        plan = plan_uploads(inventory, prepared, limits=self.limits, cancelled=lambda: worker.is_cancelled)
        return CheckedPlan(inventory, plan)

    @work(thread=True, exclusive=True, exit_on_error=False, group="compose",
          description="gather what the prompt is made of")
    def _gather(self, project: Project, inventory: Inventory, plan: UploadPlan) -> GatheredContext:
        from liferaft.core.compose import gather

        worker = get_current_worker()
        context = gather(project.root, inventory, plan, name=project.name, cancelled=lambda: worker.is_cancelled)
        return GatheredContext(inventory, context)

    # --- what is at risk, checkpoints ------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="risk", description="look for outputs at risk")
    def _assess_risk(self, project: Project, inventory: Inventory) -> AssessedRisk:
        from liferaft.core.checkpoints import load_checkpoints
        from liferaft.core.restart_note import load_note
        from liferaft.core.risk import at_risk, downloads_folder

        checkpoints, warnings = load_checkpoints(project.root)
        try:
            note, _record = load_note(project.root, inventory)
        except OSError:
            note = None
        # The downloads folder only while watching (never in tests): files that appear there from now on.
        folder, configured = downloads_folder(self.settings.other) if self._watch else (None, False)
        if folder is not None and not configured and not folder.is_dir():
            folder = None  # no downloads folder on this machine, and none asked for: nothing to say
        from liferaft.core.recover.record import linked_outputs  # files a chat export says were generated

        risk = at_risk(project.root, inventory, checkpoints, note, downloads_dir=folder, since=self._started,
                       linked_outputs=linked_outputs(project.root))
        risk.warnings[:0] = warnings
        return AssessedRisk(inventory, risk)

    def _show_risk(self, risk: Risk) -> None:
        self.risk = risk
        if self.project is not None:
            self._update_status()
        self.query_one(ProjectPane).set_risk(risk)
        new = [item for item in risk.unsaved_outputs if item.path and item.path not in self._flagged]
        first_look = not self._flagged and not self._offered and risk.checkpoints == 0
        self._flagged = {item.path for item in risk.unsaved_outputs if item.path}
        if new and not first_look:
            names = ", ".join(shown_name(item.name) for item in new[:3]) + (" …" if len(new) > 3 else "")
            self.notify(f"{names}: saved in OUTPUT but not in a checkpoint yet. k records one.",
                        title="Not checkpointed", severity="warning", markup=False, timeout=6)
        offered = [item for item in risk.downloads if item.path and item.path not in self._offered]
        if offered:
            self._offered |= {item.path for item in offered if item.path}
            names = ", ".join(shown_name(item.name) for item in offered[:3])
            self.notify(f"{names} just arrived in your downloads and looks like this project's output: m moves "
                        "it into OUTPUT/.", title="Downloads", markup=False, timeout=10)
        for warning in risk.warnings:
            if warning not in self._risk_warnings_shown:  # once a session: risk is assessed after every change
                self._risk_warnings_shown.add(warning)
                self.notify(warning, severity="warning", markup=False, timeout=8)
        risk.warnings.clear()

    def action_show_risk(self) -> None:
        if self.project is None or self.risk is None:
            self.notify("Still looking at what is at risk: try again in a moment.", timeout=3)
            return
        from liferaft.tui.risk_screen import RiskScreen

        if isinstance(self.screen, RiskScreen):
            return

        def chosen(action: str | None) -> None:
            if action:
                self.call_later(self.run_action, action)

        self.push_screen(RiskScreen(self.risk, self._now()), chosen)

    def action_move_downloads(self) -> None:
        risk = self.risk
        if self.project is None or risk is None or not risk.downloads:
            self.notify("Nothing in your downloads looks like this project's output (Liferaft looks while it is "
                        "open).", timeout=4)
            return
        from liferaft.tui.downloads_screen import DownloadsScreen

        downloads = list(risk.downloads)
        project = self.project

        def chosen(index: int | None) -> None:
            if index is None:
                return
            from liferaft.core.risk import MoveError, move_into_output

            item = downloads[index]
            try:
                moved = move_into_output(project.root, project.inventory, Path(str(item.path)), name=item.matches)
            except (MoveError, OSError) as exc:
                self.notify(f"Not moved: {shown_name(str(exc))}", severity="error", markup=False, timeout=8)
                return
            self.notify(f"Moved {shown_name(item.name)} to {shown_name(moved.relative_to(project.root).as_posix())}.",
                        markup=False,
                        timeout=5)
            self._quiet_rescan = True
            self._load_project()

        self.push_screen(DownloadsScreen(downloads), chosen)

    def action_import_export(self) -> None:
        if self.project is None:
            self.notify("The project is still being read.", timeout=3)
            return
        from liferaft.core.risk import downloads_folder
        from liferaft.tui.import_screen import RecoverImportScreen

        def imported(result: object) -> None:
            if result is not None:  # the screen has said what was written
                self._quiet_rescan = True
                self._load_project()

        folder, _ = downloads_folder(self.settings.other)
        self.push_screen(RecoverImportScreen(self.project.root, look_in=folder), imported)

    def action_show_checkpoints(self) -> None:
        if self.project is None:
            self.notify("The project is still being read.", timeout=3)
            return
        from liferaft.core.checkpoints import load_checkpoints
        from liferaft.tui.checkpoints_screen import CheckpointsScreen

        checkpoints, warnings = load_checkpoints(self.project.root)
        for warning in warnings:
            self.notify(warning, severity="warning", markup=False, timeout=8)
        self.push_screen(CheckpointsScreen(checkpoints, self.project.inventory))

    def action_checkpoint(self) -> None:
        if self.project is None:
            self.notify("The project is still being read.", timeout=3)
            return
        self._record_checkpoint(self.project)

    @work(thread=True, exclusive=True, exit_on_error=False, group="checkpoint", description="record a checkpoint")
    def _record_checkpoint(self, project: Project) -> None:
        from liferaft.core.checkpoints import CheckpointError, record_checkpoint, saved_message

        try:
            checkpoint = record_checkpoint(project.root, project.inventory, "", now=time.time())
        except CheckpointError as exc:
            self.call_from_thread(self.notify, f"No checkpoint: {exc}", severity="error", markup=False, timeout=8)
            return
        outputs = sum(1 for record in project.inventory.files
                      if record.role is Role.OUTPUT and record.path in checkpoint.files)
        missing = [item.name for item in self.risk.missing_outputs] if self.risk is not None else []
        message = saved_message(checkpoint, outputs=outputs, missing=missing)
        self.call_from_thread(self.notify, message, title="Checkpoint", markup=False, timeout=10)
        self.call_from_thread(self._assess_risk, project, project.inventory)

    # --- live watching ---------------------------------------------------------------------------------

    def _start_watching(self) -> None:
        from liferaft.core.watch import Watcher

        if self.project is None or self.watcher is not None:
            return

        def handed_over(event: WatchEvent) -> None:  # on the watcher's thread
            with contextlib.suppress(Exception):  # the app is closing: nothing to show it on
                self.call_from_thread(self._on_watch, event)

        from liferaft.core.risk import downloads_folder

        self._downloads_dir, configured = downloads_folder(self.settings.other)
        if self._downloads_dir is not None and not configured and not self._downloads_dir.is_dir():
            self._downloads_dir = None
        if self._downloads_dir is not None:
            # The downloads folder is only listed (its top level, every 2 s), never watched deeply or read.
            self._look_at_downloads()  # what is there now: only what arrives later is news
            self.set_interval(2.0, self._look_at_downloads)
        self.watcher = Watcher(self.project.root, handed_over, poll=self._poll)
        try:
            self.watcher.start()
        except Exception as exc:  # watching is a help, not a must: say so and go on
            self.watcher = None
            self.notify(f"Live updates are off: {exc}. Press r to read the folder again.", severity="warning",
                        markup=False, timeout=10)

    def _look_at_downloads(self) -> None:
        if self._downloads_dir is not None and self.project is not None:
            self._list_downloads(self._downloads_dir)

    @work(thread=True, exclusive=True, exit_on_error=False, group="downloads", description="list the downloads")
    def _list_downloads(self, folder: Path) -> None:
        """The downloads folder's names and times (its top level only; nothing is opened), off the UI thread:
        it may be slow, or on a network drive."""
        import os

        seen: set[tuple[str, int]] = set()
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.name.startswith("."):
                        continue
                    with contextlib.suppress(OSError):  # gone while listed: it is simply not there
                        seen.add((entry.name, entry.stat(follow_symlinks=False).st_mtime_ns))
        except OSError:
            pass
        self.call_from_thread(self._downloads_listed, frozenset(seen))

    def _downloads_listed(self, seen: frozenset[tuple[str, int]]) -> None:
        if seen != self._downloads_seen and self.project is not None:
            first = self._downloads_seen is None
            self._downloads_seen = seen
            if not first:
                self._assess_risk(self.project, self.project.inventory)

    def _on_watch(self, event: WatchEvent) -> None:
        if not self.is_running or self.watcher is None:
            return
        if event.notice:
            self.notify(event.notice, title="Watching", severity="warning" if event.root_missing else "information",
                        markup=False, timeout=8)
        if event.root_missing:
            self._root_missing = True
            self._update_status()
            return
        self._root_missing = False
        self._unsettled_rescans = 0
        self._churn += len(event.changes)
        self._note_folder_activity(event)
        self._tell_note_editor(event)
        self._track_downloads(event)
        if event.reconciled or any(change.kind != "downloading" for change in event.changes):
            self._rescan_soon()

    def _track_downloads(self, event: WatchEvent) -> None:
        """Partial downloads: a "downloading" row while they grow, gone when they complete or vanish."""
        import os

        from liferaft.core.watch import is_partial

        assert self.project is not None
        before = dict(self._downloading)
        for change in event.changes:
            if change.kind == "downloading":
                try:
                    self._downloading[change.path] = os.stat(self.project.root / change.path).st_size
                except OSError:
                    self._downloading.pop(change.path, None)
            elif is_partial(change.path):
                self._downloading.pop(change.path, None)
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
    _release_timer: Timer | None = None

    def _release_soon(self) -> None:
        """Give the memory of a large burst back once it has settled: RELEASE_QUIET_S after the last scan, when
        no scan or check is running (each new scan puts it off again)."""
        if self._release_timer is not None:
            self._release_timer.stop()
        self._release_timer = self.set_timer(self.RELEASE_QUIET_S, self._release_if_quiet)

    def _release_if_quiet(self) -> None:
        self._release_timer = None
        busy = ("scan", "uploads", "compose", "risk")
        if self._rescan_pending or self._rescan_timer is not None or \
                any(worker.group in busy and worker.is_running for worker in self.workers):
            self._release_soon()
            return
        self._churn = 0
        self._release_memory()

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

    def _rescan_now(self) -> None:
        self._rescan_timer = None
        if any(worker.group == "scan" and worker.is_running for worker in self.workers):
            self._rescan_pending = True
            return
        self._quiet_rescan = True
        self._scan_started = time.monotonic()
        self._load_project()

    def on_unmount(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
            self.watcher = None

    @work(thread=True, exclusive=True, exit_on_error=False, group="secrets",
          description="load the secret scanner's rules")
    def _warm_up_secrets(self) -> None:
        from liferaft.core import secrets

        secrets.warm_up()
        self.call_from_thread(self.query_one(ComposerPane).refresh_prompt)

    @on(Worker.StateChanged)
    def _on_worker_state(self, event: Worker.StateChanged) -> None:
        from textual.css.query import NoMatches

        if not self.is_running:  # closing: the screens are being taken down, and a late result has no place
            return
        try:
            self._on_scan_state(event)
        except NoMatches:  # a result arriving while the app closes: there is nothing left to show it on
            if self.screen_stack and self.screen_stack[0].query(ProjectPane):
                raise  # the panes are there: a real mistake, not a late result

    def _on_scan_state(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "risk":
            result = event.worker.result
            if event.state is WorkerState.SUCCESS and isinstance(result, AssessedRisk) and \
                    self.project is not None and result.inventory is self.project.inventory:
                self._show_risk(result.risk)
            return
        if event.worker.group == "compose":
            result = event.worker.result
            if event.state is WorkerState.SUCCESS and isinstance(result, GatheredContext) and \
                    self.project is not None and result.inventory is self.project.inventory:
                self.query_one(ComposerPane).set_context(result.context)
            elif event.state is WorkerState.ERROR:
                error = event.worker.error
                self.notify(f"The prompt could not be put together: {type(error).__name__}: {error}",
                            severity="warning", markup=False, timeout=8)
            return
        if event.worker.group == "uploads":
            result = event.worker.result
            if event.state is WorkerState.SUCCESS and isinstance(result, CheckedPlan) and \
                    self.project is not None and result.inventory is self.project.inventory:
                self._show_plan(result.plan)  # a plan for an inventory no longer on show is dropped
                self._gather(self.project, result.inventory, result.plan)
            elif event.state is WorkerState.ERROR:
                error = event.worker.error
                self.notify(f"The upload check stopped: {type(error).__name__}: {error}", severity="warning",
                            markup=False, timeout=8)
            return
        if event.worker.group != "scan":
            return
        if event.state is WorkerState.SUCCESS:
            project = event.worker.result
            assert isinstance(project, Project)
            self._project_loaded(project)
        elif event.state is WorkerState.ERROR:
            self._project_failed(event.worker.error)

    def _project_loaded(self, project: Project) -> None:
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
        self._show_inventory(project.inventory, check=not more)
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
            self.call_after_refresh(self.exit, 0)
        elif first:
            self.call_after_refresh(self._warm_up_secrets)
            if self._watch:
                self.call_after_refresh(self._start_watching)

    def _project_failed(self, error: BaseException | None) -> None:
        self._scan_started = None
        self.query_one(ProjectPane).loading = False
        message = str(error) if isinstance(error, ProjectError | OSError) else f"{type(error).__name__}: {error}"
        if self._root_missing:  # the scan failed because the folder is gone: the status line already says so
            return
        self.query_one("#status", Static).update(f"Cannot read the project: {message}")
        self.notify(f"Cannot read the project: {message}", severity="error", markup=False, timeout=15)
        if self._first_frame_exit:
            self.call_after_refresh(self.exit, 1)

    def _show_inventory(self, inventory: Inventory, *, check: bool = True) -> None:
        pane = self.query_one(ProjectPane)
        # At once, what needs no reading (prepared copies in place of their originals); the checks follow.
        prepared = self.project.state.prepared if self.project is not None else {}
        self._show_plan(plan_uploads(inventory, prepared, check=False), inventory)
        if self.project is not None and check:
            # After this frame is drawn: the checks read files, and the screen matters first.
            self.call_after_refresh(self._check_uploads, self.project)
        pane.show_inventory(inventory)
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
        from liferaft.tui.project_pane import SavedPrompts

        preview = self.query_one(PreviewPane)
        if isinstance(data, SavedPrompts):  # the folded row: what it holds, newest first
            preview.show(None, self.project.inventory, self.project.root)
            preview.query_one("#preview-summary", Static).update(_saved_prompts_view(data, self._now()))
            return
        if data is Role.OUTPUT and self.risk is not None:
            preview.show(data, self.project.inventory, self.project.root, self.project.state.overrides)  # type: ignore[arg-type]
            missing = _missing_view(self.risk)
            if missing is not None:  # the OUTPUT group's facts, then the outputs only the chat has
                from rich.console import Group

                from liferaft.tui.preview_pane import group_summary

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

    def on_key(self, event) -> None:  # type: ignore[no-untyped-def]
        # esc clears the filter, from the filter box or from the file list.
        if event.key != "escape":
            return
        box = self.query_one("#filter", Input)
        if self.focused is box or (self.focused is self.query_one(ProjectPane) and box.value):
            self._clear_filter()
            event.stop()

    def _clear_filter(self) -> None:
        if self._filter_timer is not None:
            self._filter_timer.stop()
        box = self.query_one("#filter", Input)
        with box.prevent(Input.Changed):
            box.value = ""
        box.remove_class("-shown")
        pane = self.query_one(ProjectPane)
        pane.set_filter("")
        pane.focus()

    # --- actions --------------------------------------------------------------------------------------

    def action_help(self) -> None:
        if len(self.screen_stack) > 1:  # a screen in front of the workbench: its own keys
            from liferaft.tui.screen_help import ScreenHelpScreen

            self.push_screen(ScreenHelpScreen(self.screen))
            return
        keymap = {command.id: self.settings.keys.get(command.id, command.keys) for command in COMMANDS}
        self.push_screen(HelpScreen(keymap))

    def action_rescan(self) -> None:
        self.query_one(ProjectPane).loading = self.project is None
        self._load_project()

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        # The diagnosis or composer focused: the right column widens on narrow screens (see the stylesheet).
        with contextlib.suppress(NoMatches):
            lower = self.query_one("#lower")
            inside = event.widget in lower.walk_children()
            self.query_one("#right").set_class(inside, "-lower-focused")
            for pane in lower.children:  # the unfocused one is a sliver: a few words instead of wrapped text
                pane.set_class(inside and event.widget is not pane and event.widget not in pane.walk_children(),
                               "-sliver")

    def action_focus_pane(self, name: str) -> None:
        if self.screen.maximized is not None:
            self.screen.minimize()
        if name == "preview":
            self.query_one(PreviewPane).focus_body()
        else:
            self.query_one(PANES[name]).focus()

    def action_zoom(self) -> None:
        screen = self.screen
        if screen.maximized is not None:
            screen.minimize()
            return
        focused = self.focused
        pane = next((node for node in (focused, *(focused.ancestors if focused else ()))
                     if getattr(node, "id", None) in {p.lstrip("#") for p in PANES.values()}), None)
        if pane is None:
            self.notify("Go to a pane first (1–4), then zoom it.", timeout=3)
            return
        screen.maximize(pane, container=False)  # type: ignore[arg-type]

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.add_class("-shown")
        box.focus()

    def action_cycle_sort(self) -> None:
        order = self.query_one(ProjectPane).cycle_sort()
        self.notify(f"Sorted by {order}.", timeout=2)

    def action_set_role(self) -> None:
        record = self.query_one(ProjectPane).selected_record
        if self.project is None or record is None:
            self.notify("Select a file first: roles are set one file at a time.", timeout=3)
            return
        overridden = record.path in self.project.state.overrides
        self.push_screen(RolePicker(record, overridden), lambda choice: self._apply_role(record.path, choice))

    def _apply_role(self, path: str, choice: Role | str | None) -> None:
        if choice is None or self.project is None:
            return
        role = None if choice == AUTOMATIC else Role(choice)
        try:
            self.project.set_role(path, role)
        except Exception as exc:  # OSError, or anything else: the app must stay up and say so
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            self.notify(f"The role was not changed: {reason}", severity="error", markup=False)
            return
        self._show_inventory(self.project.inventory)
        record = next((r for r in self.project.inventory.files if r.path == path), None)
        if record is not None:
            how = "from its folder or a guess" if role is None else "remembered for next time"
            self.notify(f"{record.display_path} is now {record.role.label} ({how}).", markup=False, timeout=4)

    def action_prepare(self) -> None:
        record = self.query_one(ProjectPane).selected_record
        if self.project is None or record is None:
            self.notify("Select a file first: p prepares the selected file for upload.", timeout=3)
            return
        preview_pane = self.query_one(PreviewPane)
        preview = preview_pane.preview if preview_pane.record is not None and \
            preview_pane.record.path == record.path else None
        sheets = tuple(preview.sheets) if preview is not None else ()
        columns = tuple(column.name for column in preview.columns) if preview is not None and \
            preview.sheet is None else ()
        from liferaft.tui.prepare_screen import PrepareScreen  # deferred: its widgets cost start-up time

        check = self.plan.check_of(record.path) if self.plan is not None else None
        screen = PrepareScreen(self.project.root, record, self.project.inventory, check, sheets, columns,
                               self.limits)
        self.push_screen(screen, self._prepared)

    def _prepared(self, outcome: PrepareOutcome | None) -> None:
        if outcome is None or self.project is None:
            return
        project = self.project
        original = outcome.original.rpartition("/")[2]
        warnings: list[str] = []
        try:
            project.record_prepared(outcome.original, outcome.action, outcome.written, outcome.source)
        except OSError as exc:
            warnings.append(f"could not remember them in .liferaft/ ({exc.strerror or exc}): the composer lists "
                            "them beside the original")
        if outcome.new_name:
            from liferaft.core.restart_note import rename_in_note

            try:
                mentions = rename_in_note(project.root, project.inventory, outcome.original, outcome.written[0])
            except (OSError, UnicodeDecodeError) as exc:
                warnings.append(f"the restart note still says {original}: {getattr(exc, 'strerror', None) or exc}")
            else:
                if mentions:
                    times = "once" if mentions == 1 else f"{mentions} times"
                    warnings.append(f"the restart note now says {outcome.new_name} ({times})")
        first = outcome.written[0]
        folder = first.rpartition("/")[0]
        names = ", ".join(path.rpartition("/")[2] for path in outcome.written[:3])
        if len(outcome.written) > 3:
            names += f" and {len(outcome.written) - 3} more"
        size = format_size(sum(outcome.sizes))
        message = (f"Wrote {names} ({size}) in {folder}/. A new chat gets "
                   f"{'it' if len(outcome.written) == 1 else 'them'} instead of {original}, which is unchanged.")
        for detail in [*outcome.notes, *warnings]:
            message += f" {detail[:1].upper()}{detail[1:]}."
        self.notify(message, title="Prepared", markup=False, timeout=10)
        self._quiet_rescan = True
        self._load_project()

    def action_copy_path(self) -> None:
        record = self.query_one(ProjectPane).selected_record
        if self.project is None or record is None:
            self.notify("Select a file first.", timeout=3)
            return
        self._copy(str(self.project.root / record.path), "the file's path")

    def action_copy_prompt(self) -> None:
        if self.project is None:
            self.notify("The project is still being read.", timeout=3)
            return
        composer = self.query_one(ComposerPane)
        prompt, context = composer.prompt, composer.context
        if prompt is None or context is None:
            self.notify("The prompt is still being put together: try again in a moment.", timeout=3)
            return
        self._gate_and_copy(prompt, context)

    @work(thread=True, exclusive=True, group="gate", exit_on_error=False, description="check the prompt for secrets")
    def _gate_and_copy(self, prompt: ComposedPrompt, context: ComposeContext) -> None:
        from liferaft.core.compose import gate

        try:
            gated = gate(prompt.text, context)
        except Exception as exc:  # the scanner missing or broken: fail closed, and say so
            self.call_from_thread(self.notify, f"Nothing was copied: the secret check could not run ({exc}).",
                                  severity="error", markup=False, timeout=10)
            return
        what = prompt.template.title.lower()
        if not gated.findings:
            self.call_from_thread(self._deliver, gated.release(), what, prompt.template.name)
            return
        from liferaft.tui.secrets_screen import REDACT, SecretsScreen

        def chosen(choice: str | None) -> None:
            if choice == REDACT:
                cleared = gated.release()
                count = cleared.redacted
                self._deliver(cleared, what, prompt.template.name,
                              f" ({count} secret{'s' if count != 1 else ''} redacted)")
            else:
                self.notify("Nothing was copied.", timeout=3)

        self.call_from_thread(self.push_screen, SecretsScreen(gated.findings, f"the {what} prompt"), chosen)

    @work(thread=True, group="clipboard", exit_on_error=False, description="copy the prompt")
    def _deliver(self, cleared: Release, what: str, template: str, note: str = "") -> None:
        """Copy and save what the secret gate released (a Release, never the prompt's own text)."""
        from liferaft.core.delivery import deliver

        project = self.project
        if project is None:
            return

        def terminal(payload: str) -> None:
            self.call_from_thread(self.copy_to_clipboard, payload)

        done = deliver(cleared, what=f"the {what} prompt{note}", root=project.root,
                       role_folders=project.inventory.role_folders, template=template, now=self._now(),
                       terminal=terminal)
        # One line that says where the prompt went; the folder, not the file's long name (the project pane
        # folds the saved prompts into one row).
        message = done.notice or done.message
        redacted = note.strip(" ()")
        if redacted:
            message = f"{redacted[:1].upper()}{redacted[1:]}. {message}"
        title = f"{what[:1].upper()}{what[1:]} prompt"
        self.call_from_thread(self.notify, message, title=title, severity=done.severity, markup=False, timeout=10)
        if done.saved is not None:
            if self.watcher is not None:
                self.watcher.ignore_own_write(done.saved)
            self._quiet_rescan = True
            self.call_from_thread(self._load_project)

    def action_edit_note(self) -> None:
        if self.project is None:
            self.notify("The project is still being read.", timeout=3)
            return
        from liferaft.core.restart_note import NoteError, load_note
        from liferaft.tui.note_screen import NoteScreen  # deferred: the editor's widgets cost start-up time

        project = self.project
        try:
            note, record = load_note(project.root, project.inventory)
        except NoteError as exc:
            self.notify(f"Cannot open the restart note: {exc}", severity="error", markup=False, timeout=8)
            return

        def closed(saved: bool | None) -> None:
            if saved:
                self._quiet_rescan = True
                self._load_project()

        self.push_screen(NoteScreen(project.root, project.inventory, note, record is not None, project.name), closed)

    def on_note_screen_saved(self, message: NoteScreen.Saved) -> None:
        if self.watcher is not None:
            self.watcher.ignore_own_write(message.path)

    def _tell_note_editor(self, event: WatchEvent) -> None:
        """The note editor, when open (perhaps under a dialog), hears of its file changing on disk."""
        paths: set[str] | None = None  # made only when an editor is open: a burst has 50,000 of them
        for screen in self.screen_stack:
            files_changed = getattr(screen, "files_changed", None)  # NoteScreen, not imported until used
            if callable(files_changed):
                if paths is None:
                    paths = {change.path for change in event.changes}
                files_changed(paths, event.reconciled)

    # --- diagnosis: the session clock, the diagnose screen, the checklist, the support report ---------------

    #: The watcher's changes are written to the activity log at most this often (seconds).
    FOLDER_ACTIVITY_GAP = 60.0
    _activity_written_at = float("-inf")
    _activity_pending: tuple[str, float] | None = None
    _activity_timer: Timer | None = None

    def action_diagnose(self) -> None:
        from liferaft.core.diagnose.knowledge import load_knowledge
        from liferaft.tui.diagnose_actions import memory_of
        from liferaft.tui.diagnose_screen import DiagnoseScreen  # deferred: its widgets cost start-up time

        if isinstance(self.screen, DiagnoseScreen):
            self.screen.action_focus_paste()
            return
        pane = self.query_one(DiagnosisPane)
        self.push_screen(DiagnoseScreen(load_knowledge(), pane.clock, pane.window, lambda: self.plan,
                                        text=memory_of(self).error_text))

    def action_status_page(self) -> None:
        """Check the vendor's status page, on the diagnosis screen (where its answer shows)."""
        from liferaft.tui.diagnose_screen import DiagnoseScreen

        if isinstance(self.screen, DiagnoseScreen):
            self.screen.action_status()
            return
        self.action_diagnose()
        if isinstance(self.screen, DiagnoseScreen):
            self.screen.status_on_mount = True

    def action_chat_used(self) -> None:
        if self.project is None:
            self.notify("The project is still being read.", timeout=3)
            return
        self._record_activity(self.project.root, "chat", self._now(), "")

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
                self.call_from_thread(self.notify, f"Not recorded: {exc.strerror or exc}", severity="error",
                                      markup=False, timeout=8)
            return
        self.call_from_thread(self._activity_recorded, log, kind)

    def _activity_recorded(self, log: ActivityLog, kind: str) -> None:
        pane = self.query_one(DiagnosisPane)
        pane.set_activity(log)
        refresh = getattr(self.screen, "refresh_evidence", None)
        if callable(refresh):  # the diagnosis screen shows the clock too
            refresh()
        if self.project is not None:
            self._update_status()
        for warning in log.warnings:
            self.notify(warning, title="Session clock", severity="warning", markup=False, timeout=10)
        if kind == "chat":
            from liferaft.tui.diagnosis_pane import clock_time

            clock = pane.clock()
            until = clock_time(clock.expires_at, clock.now) if clock.expires_at else "?"
            self.notify(f"Noted: you used the chat just now. The session clock starts again; left quiet, the "
                        f"sandbox lasts until about {until}.", title="Session clock", markup=False, timeout=6)

    def action_checklist(self) -> None:
        if self.project is None:
            self.notify("The project is still being read.", timeout=3)
            return
        from liferaft.core.diagnose.knowledge import load_knowledge
        from liferaft.tui.checklist_screen import ChecklistScreen

        if isinstance(self.screen, ChecklistScreen):
            return
        self.push_screen(ChecklistScreen(self.project.root, load_knowledge(), self._now))

    def action_support_report(self) -> None:
        if self.project is None:
            self.notify("The project is still being read.", timeout=3)
            return
        from liferaft.core.config import config_path
        from liferaft.core.diagnose.checklist import load_checklist
        from liferaft.core.diagnose.knowledge import load_knowledge
        from liferaft.core.diagnose.support import SupportDetails, account_email, environment, tried_steps
        from liferaft.tui.diagnose_actions import memory_of
        from liferaft.tui.support_screen import SupportScreen

        if isinstance(self.screen, SupportScreen):
            return
        project, knowledge, memory = self.project, load_knowledge(), memory_of(self)
        email, warnings = account_email(self.settings.other, str(config_path()))
        for warning in warnings:
            self.notify(warning, title="Settings", severity="warning", markup=False, timeout=8)
        ticks = load_checklist(project.root)
        tried = tried_steps([(step.id, step.text) for step in knowledge.checklist],
                            {step.id for step in knowledge.checklist if ticks.is_ticked(step.id)})
        symptom = next((s.title for s in knowledge.symptoms if s.id == memory.symptom_id), "")
        status = memory.status.summary(knowledge.status.page) if memory.status is not None else ""
        details = SupportDetails(error_text=memory.error_text, email=email, symptom=symptom, tried=tried,
                                 status=status)

        def saved(path: Path) -> None:
            if self.watcher is not None:
                self.watcher.ignore_own_write(path)
            self._quiet_rescan = True
            self._load_project()

        self.push_screen(SupportScreen(details, lambda: environment(self._now()), project.root,
                                       dict(project.inventory.role_folders), saved=saved,
                                       email_help="" if email else "[diagnose] account_email in config.toml"))

    def action_cycle_template(self) -> None:
        title = self.query_one(ComposerPane).cycle_template()
        self.notify(f"Template: {title}.", timeout=2)

    def action_toggle_code(self) -> None:
        on = self.query_one(ComposerPane).toggle_code()
        self.notify("The saved code goes in the prompt." if on else "The code stays out of the prompt.", timeout=2)

    def action_edit_budget(self) -> None:
        from liferaft.tui.budget_screen import BudgetScreen

        composer = self.query_one(ComposerPane)

        def chosen(budget: int | None) -> None:
            if budget is not None:
                composer.set_budget(budget)
                self.notify(f"The prompt may now take {budget:,} tokens.", timeout=2)

        self.push_screen(BudgetScreen(composer.budget), chosen)

    def _upload_paths(self) -> list[Path]:
        composer = self.query_one(ComposerPane)
        if composer.context is not None:
            return composer.upload_paths()
        if self.project is None or self.plan is None:
            return []
        return [self.project.root / item.record.path for item in self.plan.items]

    def action_copy_uploads(self) -> None:
        paths = self._upload_paths()
        if not paths:
            self.notify("There is nothing to upload yet: put the original data in SOURCE/.", timeout=3)
            return
        self._copy("".join(f"{path}\n" for path in paths), f"the upload list ({len(paths)} files)")

    def action_open_uploads(self) -> None:
        import os

        paths = self._upload_paths()
        if not paths:
            self.notify("There is nothing to upload yet: put the original data in SOURCE/.", timeout=3)
            return
        folders = {path.parent for path in paths}
        folder = folders.pop() if len(folders) == 1 else Path(os.path.commonpath([str(p) for p in paths]))
        self._reveal(folder)

    def action_reveal(self) -> None:
        pane = self.query_one(ProjectPane)
        record = pane.selected_record
        if self.project is None:
            return
        target = self.project.root / record.path if record is not None else self.project.root
        if pane.selected_prompts is not None:
            target = self.project.root / pane.selected_prompts.folder
        self._reveal(target)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "copy_prompt" and getattr(self.screen, "OWN_COPY", False):
            return False  # a screen with its own text to copy (the support report) takes ctrl+y
        # Sheet keys only mean something (and only show in the footer) for a workbook with several sheets.
        if action == "prepare":
            return self.project is not None
        if action in ("copy_uploads", "open_uploads"):
            return self.project is not None
        if action == "sheet":
            preview = self.query_one(PreviewPane).preview
            return preview is not None and len(preview.sheets) > 1
        return True

    def action_sheet(self, step: int) -> None:
        if not self.query_one(PreviewPane).change_sheet(step):
            self.notify("This file has no other sheet.", timeout=2)

    # --- clipboard and the file manager ---------------------------------------------------------------

    @work(thread=True, group="clipboard", exit_on_error=False, description="copy to the clipboard")
    def _copy(self, text: str, what: str) -> None:
        from liferaft.core.clipboard import copy_native

        result = copy_native(text)
        if result.copied:
            self.call_from_thread(self.notify, f"Copied {what} to the clipboard.", timeout=3)
            return
        # No native clipboard (SSH, no display): ask the terminal (OSC 52); it cannot confirm.
        self.call_from_thread(self.copy_to_clipboard, text)
        self.call_from_thread(
            self.notify,
            f"Sent {what} to the terminal's clipboard (cannot be confirmed: {result.detail}).",
            severity="warning", timeout=6, markup=False,
        )

    @work(thread=True, group="reveal", exit_on_error=False, description="open the file manager")
    def _reveal(self, target: Path) -> None:
        import subprocess  # deferred: ~8 ms at start-up for a key pressed now and then

        folder = target if target.is_dir() else target.parent
        if sys.platform == "darwin":
            command = ["open", "-R", str(target)]
        elif sys.platform == "win32":
            command = ["explorer", f"/select,{target}"]
        else:
            command = ["xdg-open", str(folder)]
        try:
            # The openers hand over to the file manager and return at once; their exit code says if it worked.
            done = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, start_new_session=True, timeout=10)
            problem = f"{command[0]} exited with status {done.returncode}" if done.returncode else ""
        except (OSError, subprocess.TimeoutExpired) as exc:
            problem = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        if problem:
            self.call_from_thread(
                self.notify, f"Cannot open a file manager here ({problem}). The folder is {folder}",
                severity="warning", markup=False, timeout=8,
            )
            return
        self.call_from_thread(self.notify, f"Opened {folder} in the file manager.", markup=False, timeout=3)

    # --- palette and settings -------------------------------------------------------------------------

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        for command in COMMANDS:
            if command.palette and self.check_action(command.action.partition("(")[0], ()):
                action = command.action
                keys = keys_shown(command, self.settings.keys.get(command.id))
                where = f", {SCOPES[command.scope].lower()}" if command.scope != "app" and command.keys else ""
                yield SystemCommand(f"{command.category}: {command.title}  ({keys}{where})", command.help,
                                    lambda action=action: self.run_action(action))
        # Of Textual's own commands only the theme picker fits here (ours cover quit and the keys).
        for command in super().get_system_commands(screen):
            if command.title == "Theme":
                yield SystemCommand("View: Theme", "Change the colours; Liferaft remembers your choice",
                                    command.callback)

    def _remember_theme(self, theme: object) -> None:
        name = getattr(theme, "name", None)
        if not name or name == self.settings.theme:
            return
        self.settings.theme = name
        if not self._settings_writable:
            return
        try:
            save_settings(self.settings)
        except OSError as exc:
            self.notify(f"The theme was not saved: {exc.strerror or exc}", severity="warning", markup=False)


def run_app(root: Path, *, first_frame_exit: bool = False, headless: bool = False,
            loader: ProjectLoader | None = None, watch: bool = False, poll: bool = False) -> int:
    """Run the workbench on ``root`` until the user quits; returns the exit code."""
    app = LiferaftApp(root, first_frame_exit=first_frame_exit, loader=loader, watch=watch, poll=poll)
    result = app.run(headless=headless)
    if app.return_code:  # the app stopped on an error (Textual has printed it)
        return app.return_code
    if headless:
        # The smoke check CI runs against an installed wheel: say what was loaded.
        files = len(app.project.inventory.files) if app.project else 0
        print(f"liferaft {__version__}: first frame drawn; {files} files; stylesheet {LiferaftApp.CSS_PATH}")
    return result if isinstance(result, int) else 0


__all__ = ["LiferaftApp", "run_app"]

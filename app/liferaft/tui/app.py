"""The application: settings, theme, keys and the command palette around the workbench (the main screen)."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.screen import Screen

from liferaft import __version__
from liferaft.core.config import Settings, load_settings, save_settings
from liferaft.core.pace import key_pressed
from liferaft.core.project import Project, ProjectLoader
from liferaft.core.scan import shown_lines, shown_name
from liferaft.core.uploads import UploadPlan
from liferaft.tui.commands import BY_ID, COMMANDS, SCOPES, bindings, keys_shown
from liferaft.tui.screens.help import HelpScreen
from liferaft.tui.screens.workbench import Workbench
from liferaft.tui.styles import stylesheet_path
from liferaft.tui.widgets.preview_pane import PreviewPane

TYPE_CHECKING = False
if TYPE_CHECKING:
    from liferaft.core.risk import Risk
    from liferaft.core.watch import Watcher
    from liferaft.tui.screens.diagnose.actions import DiagnoseMemory
    from liferaft.tui.screens.note import NoteScreen

#: Below this width the diagnosis and composer panes fold to their titles until focused.
NARROW_WIDTH = 120


class LiferaftApp(App[int]):
    """The full-screen workbench over one project folder."""

    CSS_PATH = str(stylesheet_path())
    TITLE = "Liferaft"
    AUTO_FOCUS = "#project"
    # ctrl+p opens the palette, and f2 too: some terminals keep ctrl+p for themselves (VS Code's opens its own
    # file picker). Declared here, Textual adds no palette key of its own.
    BINDINGS = [*bindings("app"), Binding("ctrl+p,f2", "command_palette", "palette", show=False, priority=True,
                                          id="app.palette", tooltip="Open the command palette")]
    # Below 120 columns the diagnosis and composer panes fold to their titles until focused.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (NARROW_WIDTH, "-wide")]
    _diagnose_memory: DiagnoseMemory | None = None

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
        daemon_workers: bool = False,
        offload: bool = False,
        terminal_fd: int | None = None,
    ) -> None:
        super().__init__()
        self._daemon_workers = daemon_workers
        if daemon_workers:  # the real workbench: its process ends once the terminal is restored
            from liferaft.tui.leaving import leaving_at_once

            self.driver_class = leaving_at_once(self.driver_class)
        self._terminal_fd = terminal_fd
        """The terminal's descriptor, looked at every second: gone (hung up), the workbench ends."""
        self.last_input = time.monotonic()
        """When the user last pressed a key or clicked (``time.monotonic``): work nobody sees waits for a pause."""
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
        self._workbench = Workbench(root, settings=settings, limits=self.limits, now=now,
                                    first_frame_exit=first_frame_exit, loader=loader, watch=watch, poll=poll,
                                    warnings=self._settings_warnings, offload=offload,
                                    leave_promptly=daemon_workers)

    def notify(self, message: str, *, title: str = "", severity: SeverityLevel = "information",
               timeout: float | None = None, markup: bool = True) -> None:
        """Every notification, from any screen: file names in it show their control characters as escapes."""
        super().notify(shown_lines(message), title=shown_name(title), severity=severity, timeout=timeout,
                       markup=markup)

    def get_default_screen(self) -> Workbench:
        return self._workbench

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key | events.MouseDown):
            self.last_input = time.monotonic()
            key_pressed(self.last_input)  # the threads reading folders wait while its screen is drawn
        await super().on_event(event)

    def on_load(self) -> None:
        if self._daemon_workers:  # closing waits for no worker (see liferaft.tui.threads)
            import asyncio

            from liferaft.tui.threads import DaemonThreads

            asyncio.get_running_loop().set_default_executor(DaemonThreads())

    def on_mount(self) -> None:
        self.theme_changed_signal.subscribe(self, self._remember_theme)
        if self._terminal_fd is not None:
            self.set_interval(TERMINAL_CHECK_S, self._check_terminal)

    def _check_terminal(self) -> None:
        """A terminal that hangs up without a SIGHUP (it was not the workbench's controlling terminal: started
        with setsid, or by a tool) reads as endless empty input, and Textual's input thread would spin on it for
        ever, a whole core: the workbench ends instead, as it would on the hang-up signal."""
        if self._terminal_fd is not None and terminal_gone(self._terminal_fd):
            self._terminal_fd = None
            self.exit(return_code=EXIT_HANGUP)

    # --- the workbench's state, read (and set, by tests) through the app -----------------------------------

    @property
    def diagnose_memory(self) -> DiagnoseMemory:
        """The problem being diagnosed, remembered while the app runs (the diagnosis screens come and go)."""
        if self._diagnose_memory is None:
            from liferaft.tui.screens.diagnose.actions import DiagnoseMemory

            self._diagnose_memory = DiagnoseMemory()
        return self._diagnose_memory

    @property
    def workbench(self) -> Workbench:
        """The main screen (under any screen or dialog opened over it)."""
        return self._workbench

    @property
    def project(self) -> Project | None:
        """The opened project; None until the first scan finishes."""
        return self._workbench.project

    @project.setter
    def project(self, project: Project | None) -> None:
        self._workbench.project = project

    @property
    def plan(self) -> UploadPlan | None:
        """The upload plan of the project on show."""
        return self._workbench.plan

    @property
    def risk(self) -> Risk | None:
        """What is at risk; None until assessed."""
        return self._workbench.risk

    @property
    def watcher(self) -> Watcher | None:
        """The folder watcher; None when watching is off."""
        return self._workbench.watcher

    @watcher.setter
    def watcher(self, watcher: Watcher | None) -> None:
        self._workbench.watcher = watcher

    def on_note_screen_saved(self, message: NoteScreen.Saved) -> None:
        self._workbench.ignore_own_write(message.path)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "copy_prompt" and getattr(self.screen, "OWN_COPY", False):
            return False  # a screen with its own text to copy (the support report) takes ctrl+y
        # Sheet keys only mean something (and only show in the footer) for a workbook with several sheets.
        if action in ("prepare", "replay"):
            return self.project is not None
        if action in ("copy_uploads", "open_uploads"):
            return self.project is not None
        if action == "sheet":
            preview = self.workbench.query_one(PreviewPane).preview
            return preview is not None and len(preview.sheets) > 1
        return True

    def action_help(self) -> None:
        if len(self.screen_stack) > 1:  # a screen in front of the workbench: its own keys
            from liferaft.tui.screens.screen_help import ScreenHelpScreen

            self.push_screen(ScreenHelpScreen(self.screen))
            return
        keymap = {command.id: self.settings.keys.get(command.id, command.keys) for command in COMMANDS}
        self.push_screen(HelpScreen(keymap))

    # --- the commands' actions (``app.NAME`` in every binding and the palette): the workbench's -----------

    def action_copy_prompt(self) -> None:
        self._workbench.action_copy_prompt()

    def action_edit_note(self) -> None:
        self._workbench.action_edit_note()

    def action_checkpoint(self) -> None:
        self._workbench.action_checkpoint()

    def action_show_checkpoints(self) -> None:
        self._workbench.action_show_checkpoints()

    def action_show_risk(self) -> None:
        self._workbench.action_show_risk()

    def action_move_downloads(self) -> None:
        self._workbench.action_move_downloads()

    def action_import_export(self) -> None:
        self._workbench.action_import_export()

    def action_rescan(self) -> None:
        self._workbench.action_rescan()

    def action_diagnose(self) -> None:
        self._workbench.action_diagnose()

    def action_status_page(self) -> None:
        self._workbench.action_status_page()

    def action_chat_used(self) -> None:
        self._workbench.action_chat_used()

    def action_checklist(self) -> None:
        self._workbench.action_checklist()

    def action_support_report(self) -> None:
        self._workbench.action_support_report()

    def action_zoom(self) -> None:
        self._workbench.action_zoom()

    def action_filter(self) -> None:
        self._workbench.action_filter()

    def action_cycle_sort(self) -> None:
        self._workbench.action_cycle_sort()

    def action_set_role(self) -> None:
        self._workbench.action_set_role()

    def action_prepare(self) -> None:
        self._workbench.action_prepare()

    def action_replay(self) -> None:
        self._workbench.action_replay()

    def action_copy_path(self) -> None:
        self._workbench.action_copy_path()

    def action_reveal(self) -> None:
        self._workbench.action_reveal()

    def action_cycle_template(self) -> None:
        self._workbench.action_cycle_template()

    def action_toggle_code(self) -> None:
        self._workbench.action_toggle_code()

    def action_edit_budget(self) -> None:
        self._workbench.action_edit_budget()

    def action_copy_uploads(self) -> None:
        self._workbench.action_copy_uploads()

    def action_open_uploads(self) -> None:
        self._workbench.action_open_uploads()

    def action_focus_pane(self, name: str) -> None:
        self._workbench.action_focus_pane(name)

    def action_sheet(self, step: int) -> None:
        self._workbench.action_sheet(step)

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


#: How often (s) the workbench looks whether its terminal is still there.
TERMINAL_CHECK_S = 1.0
#: The exit code when the terminal went away (128 + SIGHUP, as a shell reports a hang-up).
EXIT_HANGUP = 129


def terminal_gone(fd: int) -> bool:
    """Whether the terminal on ``fd`` has hung up (its window closed, its pseudo-terminal's other end gone): a
    poll that reports a hang-up or an error. False where that cannot be asked (no ``poll``: Windows)."""
    import select

    if not hasattr(select, "poll"):
        return False
    poller = select.poll()
    try:
        poller.register(fd, select.POLLIN)  # a hang-up and an error are reported whatever is asked for
        ready = poller.poll(0)
    except (OSError, ValueError):
        return True  # the descriptor itself is gone
    return any(mask & (select.POLLHUP | select.POLLERR | select.POLLNVAL) for _fd, mask in ready)


def run_app(root: Path, *, first_frame_exit: bool = False, headless: bool = False,
            loader: ProjectLoader | None = None, watch: bool = False, poll: bool = False) -> int:
    """Run the workbench on ``root`` until the user quits; returns the exit code."""
    if not first_frame_exit:
        from liferaft.tui.offload import start_resource_tracker_quietly

        start_resource_tracker_quietly()
    terminal = None
    if not headless and not first_frame_exit:
        with contextlib.suppress(AttributeError, OSError, ValueError):
            if sys.__stdin__ is not None and os.isatty(sys.__stdin__.fileno()):
                terminal = sys.__stdin__.fileno()
    app = LiferaftApp(root, first_frame_exit=first_frame_exit, loader=loader, watch=watch, poll=poll,
                      daemon_workers=True, offload=not first_frame_exit, terminal_fd=terminal)
    result = app.run(headless=headless)
    if app.return_code:  # the app stopped on an error (Textual has printed it)
        return app.return_code
    if headless:
        # The smoke check CI runs against an installed wheel: say what was loaded.
        files = len(app.project.inventory.files) if app.project else 0
        print(f"liferaft {__version__}: first frame drawn; {files} files; stylesheet {LiferaftApp.CSS_PATH}")
    return result if isinstance(result, int) else 0


__all__ = ["LiferaftApp", "run_app"]

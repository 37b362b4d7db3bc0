"""The workbench's commands on the project: roles, preparing a file, the prompt, the restart note, checkpoints,
what is at risk, the diagnosis screens, the clipboard and the file manager. Each opens its screen, or runs its
worker, and hands what it changed back to the workbench (a quiet rescan)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from textual import work
from textual.screen import Screen

from liferaft.core.config import Settings
from liferaft.core.project import Project
from liferaft.core.roles import Role
from liferaft.core.scan import shown_name
from liferaft.core.units import format_size
from liferaft.core.uploads import UploadPlan
from liferaft.core.vendor import UploadLimits
from liferaft.tui.screens.role_picker import AUTOMATIC, RolePicker
from liferaft.tui.widgets.composer_pane import ComposerPane
from liferaft.tui.widgets.diagnosis_pane import DiagnosisPane
from liferaft.tui.widgets.preview_pane import PreviewPane
from liferaft.tui.widgets.project_pane import ProjectPane

TYPE_CHECKING = False
if TYPE_CHECKING:
    from liferaft.core.compose import ComposeContext, ComposedPrompt
    from liferaft.core.outbound import Release
    from liferaft.core.risk import Risk
    from liferaft.core.watch import Watcher
    from liferaft.tui.screens.prepare import PrepareOutcome


class WorkbenchActions(Screen[None]):
    """The workbench's commands, as a part of it (see ``Workbench``): what they need of the rest is declared here."""

    project: Project | None
    plan: UploadPlan | None
    risk: Risk | None
    watcher: Watcher | None
    settings: Settings
    limits: UploadLimits
    _quiet_rescan: bool
    _now: Callable[[], float]
    _load_project: Callable[[], None]
    _show_inventory: Callable[..., None]
    _assess_risk: Callable[[Project, object], object]
    _record_activity: Callable[[Path, str, float, str], object]
    ignore_own_write: Callable[[Path], None]

    def action_show_risk(self) -> None:
        if self.project is None or self.risk is None:
            self.notify("Still looking at what is at risk: try again in a moment.", timeout=3)
            return
        from liferaft.tui.screens.risk import RiskScreen

        if isinstance(self.app.screen, RiskScreen):
            return

        def chosen(action: str | None) -> None:
            if action:
                self.call_later(self.app.run_action, action)

        self.app.push_screen(RiskScreen(self.risk, self._now()), chosen)

    def action_move_downloads(self) -> None:
        risk = self.risk
        if self.project is None or risk is None or not risk.downloads:
            self.notify("Nothing in your downloads looks like this project's output (Liferaft looks while it is "
                        "open).", timeout=4)
            return
        from liferaft.tui.screens.downloads import DownloadsScreen

        downloads = list(risk.downloads)
        project = self.project

        def chosen(index: int | None) -> None:
            if index is None:
                return
            from liferaft.core.risk import MoveError, move_into_output

            item = downloads[index]
            notes: list[str] = []
            try:
                moved = move_into_output(project.root, project.inventory, Path(str(item.path)), name=item.matches,
                                         notes=notes)
            except (MoveError, OSError) as exc:
                self.notify(f"Not moved: {shown_name(str(exc))}", severity="error", markup=False, timeout=8)
                return
            said = "".join(f" {shown_name(note)[:1].upper()}{shown_name(note)[1:]}." for note in notes)
            self.notify(f"Moved {shown_name(item.name)} to {shown_name(moved.relative_to(project.root).as_posix())}."
                        + said, markup=False, timeout=8 if notes else 5)
            self._quiet_rescan = True
            self._load_project()

        self.app.push_screen(DownloadsScreen(downloads), chosen)

    def action_import_export(self) -> None:
        if self.project is None:
            self.notify("The project is still being read.", timeout=3)
            return
        from liferaft.core.risk import downloads_folder
        from liferaft.tui.screens.recover_import import RecoverImportScreen

        def imported(result: object) -> None:
            if result is not None:  # the screen has said what was written
                self._quiet_rescan = True
                self._load_project()

        # The folder found off the UI thread when watching began (in WSL, finding it asks Windows).
        folder = self._downloads_dir if self._downloads_dir is not None else downloads_folder(self.settings.other)[0]
        self.app.push_screen(RecoverImportScreen(self.project.root, look_in=folder), imported)

    def action_show_checkpoints(self) -> None:
        if self.project is None:
            self.notify("The project is still being read.", timeout=3)
            return
        from liferaft.core.checkpoints import load_checkpoints
        from liferaft.tui.screens.checkpoints import CheckpointsScreen

        checkpoints, warnings = load_checkpoints(self.project.root)
        for warning in warnings:
            self.notify(warning, severity="warning", markup=False, timeout=8)
        self.app.push_screen(CheckpointsScreen(checkpoints, self.project.inventory))

    def action_checkpoint(self) -> None:
        if self.project is None:
            self.notify("The project is still being read.", timeout=3)
            return
        self._record_checkpoint(self.project)

    @work(thread=True, exclusive=True, exit_on_error=False, group="checkpoint", description="record a checkpoint")
    def _record_checkpoint(self, project: Project) -> None:
        from liferaft.core.checkpoints import CheckpointError
        from liferaft.core.operations import checkpoint_project

        try:
            outcome = checkpoint_project(project.root, project.inventory, "", now=time.time())
        except CheckpointError as exc:
            self.app.call_from_thread(self.notify, f"No checkpoint: {exc}", severity="error", markup=False, timeout=8)
            return
        self.app.call_from_thread(self.notify, outcome.message, title="Checkpoint", markup=False, timeout=10)
        self.app.call_from_thread(self._assess_risk, project, project.inventory)

    def action_set_role(self) -> None:
        record = self.query_one(ProjectPane).selected_record
        if self.project is None or record is None:
            self.notify("Select a file first: roles are set one file at a time.", timeout=3)
            return
        overridden = record.path in self.project.state.overrides
        self.app.push_screen(RolePicker(record, overridden), lambda choice: self._apply_role(record.path, choice))

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
        from liferaft.tui.screens.prepare import PrepareScreen  # deferred: its widgets cost start-up time

        check = self.plan.check_of(record.path) if self.plan is not None else None
        screen = PrepareScreen(self.project.root, record, self.project.inventory, check, sheets, columns,
                               self.limits)
        self.app.push_screen(screen, self._prepared)

    def _prepared(self, outcome: PrepareOutcome | None) -> None:
        if outcome is None or self.project is None:
            return
        project = self.project
        original = outcome.original.rpartition("/")[2]
        warnings: list[str] = []
        if outcome.fix is not None:
            from liferaft.core.operations import remember_fix

            remembered = remember_fix(project.root, outcome.fix, project=project, rename_in_note=True)
            warnings += remembered.warnings
            if remembered.renamed_in_note:
                mentions = remembered.note_mentions
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

    def action_replay(self) -> None:
        """Replay the selected script or notebook; with anything else selected, the default script (the newest
        recovered one, else the one in CODE). The screen shows the plan first; nothing runs before enter."""
        if self.project is None:
            self.notify("The project is still being read.", timeout=3)
            return
        from liferaft.tui.screens.replay import ReplayOutcome, ReplayScreen  # deferred: its widgets cost start-up

        if isinstance(self.app.screen, ReplayScreen):
            return
        record = self.query_one(ProjectPane).selected_record
        script = None
        if record is not None and record.path.lower().endswith((".py", ".ipynb")):
            script = self.project.root / record.path

        def closed(outcome: ReplayOutcome | None) -> None:
            if outcome is not None:  # the replay folder (and anything accepted into OUTPUT) is new
                self._quiet_rescan = True
                self._load_project()

        self.app.push_screen(ReplayScreen(self.project.root, script), closed)

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
            self.app.call_from_thread(self.notify, f"Nothing was copied: the secret check could not run ({exc}).",
                                  severity="error", markup=False, timeout=10)
            return
        what = prompt.template.title.lower()
        if not gated.findings:
            self.app.call_from_thread(self._deliver, gated.release(), what, prompt.template.name)
            return
        from liferaft.tui.screens.secrets import REDACT, SecretsScreen

        def chosen(choice: str | None) -> None:
            if choice == REDACT:
                cleared = gated.release()
                count = cleared.redacted
                self._deliver(cleared, what, prompt.template.name,
                              f" ({count} secret{'s' if count != 1 else ''} redacted)")
            else:
                self.notify("Nothing was copied.", timeout=3)

        self.app.call_from_thread(self.app.push_screen, SecretsScreen(gated.findings, f"the {what} prompt"), chosen)

    @work(thread=True, group="clipboard", exit_on_error=False, description="copy the prompt")
    def _deliver(self, cleared: Release, what: str, template: str, note: str = "") -> None:
        """Copy and save what the secret gate released (a Release, never the prompt's own text)."""
        from liferaft.core.delivery import deliver

        project = self.project
        if project is None:
            return

        def terminal(payload: str) -> None:
            self.app.call_from_thread(self.app.copy_to_clipboard, payload)

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
        self.app.call_from_thread(self.notify, message, title=title, severity=done.severity, markup=False, timeout=10)
        if done.saved is not None:
            self.app.call_from_thread(self._written_by_us, done.saved)

    def _written_by_us(self, path: Path) -> None:
        """A file Liferaft wrote in the project: the watcher is not to report it; the workbench reads it quietly."""
        self.ignore_own_write(path)
        self._quiet_rescan = True
        self._load_project()

    def action_edit_note(self) -> None:
        if self.project is None:
            self.notify("The project is still being read.", timeout=3)
            return
        from liferaft.core.restart_note import NoteError, load_note
        from liferaft.tui.screens.note import NoteScreen  # deferred: the editor's widgets cost start-up time

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

        self.app.push_screen(NoteScreen(project.root, project.inventory, note, record is not None, project.name),
                             closed)

    def action_diagnose(self) -> None:
        from liferaft.core.diagnose.knowledge import load_knowledge
        from liferaft.tui.screens.diagnose.actions import memory_of
        from liferaft.tui.screens.diagnose.screen import DiagnoseScreen  # deferred: its widgets cost start-up time

        if isinstance(self.app.screen, DiagnoseScreen):
            self.app.screen.action_focus_paste()
            return
        pane = self.query_one(DiagnosisPane)
        self.app.push_screen(DiagnoseScreen(load_knowledge(), pane.clock, pane.window, lambda: self.plan,
                                        text=memory_of(self.app).error_text))

    def action_status_page(self) -> None:
        """Check the vendor's status page, on the diagnosis screen (where its answer shows)."""
        from liferaft.tui.screens.diagnose.screen import DiagnoseScreen

        if isinstance(self.app.screen, DiagnoseScreen):
            self.app.screen.action_status()
            return
        self.action_diagnose()
        if isinstance(self.app.screen, DiagnoseScreen):
            self.app.screen.status_on_mount = True

    def action_chat_used(self) -> None:
        if self.project is None:
            self.notify("The project is still being read.", timeout=3)
            return
        self._record_activity(self.project.root, "chat", self._now(), "")

    def action_checklist(self) -> None:
        if self.project is None:
            self.notify("The project is still being read.", timeout=3)
            return
        from liferaft.core.diagnose.knowledge import load_knowledge
        from liferaft.tui.screens.diagnose.checklist import ChecklistScreen

        if isinstance(self.app.screen, ChecklistScreen):
            return
        self.app.push_screen(ChecklistScreen(self.project.root, load_knowledge(), self._now))

    def action_support_report(self) -> None:
        if self.project is None:
            self.notify("The project is still being read.", timeout=3)
            return
        from liferaft.core.config import config_path
        from liferaft.core.diagnose.knowledge import load_knowledge
        from liferaft.core.diagnose.support import environment
        from liferaft.core.operations import support_report
        from liferaft.tui.screens.diagnose.actions import memory_of
        from liferaft.tui.screens.diagnose.support import SupportScreen

        if isinstance(self.app.screen, SupportScreen):
            return
        project, memory = self.project, memory_of(self.app)
        status = memory.status.summary(load_knowledge().status.page) if memory.status is not None else ""
        # The symptom last shown, if any: "" (not None) keeps the report from guessing one the user did not see.
        report = support_report(project.root, self.settings.other, now=self._now(), error_text=memory.error_text,
                                symptom_id=memory.symptom_id or "", status=status, where=str(config_path()))
        for warning in report.warnings:
            self.notify(warning, title="Settings", severity="warning", markup=False, timeout=8)
        details = report.details
        self.app.push_screen(SupportScreen(details, lambda: environment(self._now()), project.root,
                                       dict(project.inventory.role_folders), saved=self._written_by_us,
                                       email_help="" if details.email else "[diagnose] account_email in config.toml"))

    def action_cycle_template(self) -> None:
        title = self.query_one(ComposerPane).cycle_template()
        self.notify(f"Template: {title}.", timeout=2)

    def action_toggle_code(self) -> None:
        on = self.query_one(ComposerPane).toggle_code()
        self.notify("The saved code goes in the prompt." if on else "The code stays out of the prompt.", timeout=2)

    def action_edit_budget(self) -> None:
        from liferaft.tui.screens.budget import BudgetScreen

        composer = self.query_one(ComposerPane)

        def chosen(budget: int | None) -> None:
            if budget is not None:
                composer.set_budget(budget)
                self.notify(f"The prompt may now take {budget:,} tokens.", timeout=2)

        self.app.push_screen(BudgetScreen(composer.budget), chosen)

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

    def action_sheet(self, step: int) -> None:
        if not self.query_one(PreviewPane).change_sheet(step):
            self.notify("This file has no other sheet.", timeout=2)

    # --- clipboard and the file manager ---------------------------------------------------------------

    @work(thread=True, group="clipboard", exit_on_error=False, description="copy to the clipboard")
    def _copy(self, text: str, what: str) -> None:
        from liferaft.core.clipboard import copy_native

        result = copy_native(text)
        if result.copied:
            self.app.call_from_thread(self.notify, f"Copied {what} to the clipboard.", timeout=3)
            return
        # No native clipboard (SSH, no display): ask the terminal (OSC 52); it cannot confirm.
        from liferaft.core.delivery import terminal_clipboard_caveat

        self.app.call_from_thread(self.app.copy_to_clipboard, text)
        caveat = terminal_clipboard_caveat()
        self.app.call_from_thread(
            self.notify,
            f"Sent {what} to the terminal's clipboard (cannot be confirmed: {result.detail})."
            + (f" {caveat[:1].upper()}{caveat[1:]}." if caveat else ""),
            severity="warning", timeout=10 if caveat else 6, markup=False,
        )

    @work(thread=True, group="reveal", exit_on_error=False, description="open the file manager")
    def _reveal(self, target: Path) -> None:
        from liferaft.core.operations import reveal

        done = reveal(target)
        if not done.opened:
            self.app.call_from_thread(
                self.notify, f"Cannot open a file manager here ({done.problem}). The folder is {done.folder}",
                severity="warning", markup=False, timeout=8,
            )
            return
        self.app.call_from_thread(self.notify, f"Opened {done.folder} in the file manager.", markup=False, timeout=3)

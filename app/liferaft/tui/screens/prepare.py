"""The prepare dialog: what the pre-flight check found in one file, and the fixers that make an
upload-ready copy of it, run with a progress bar (esc cancels; nothing half-written is left).

The original is never changed: every fixer writes under ``prepared/`` next to it. When a fixer is done
the project remembers which files stand in for the original, so the composer lists those instead.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, ProgressBar, SelectionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from liferaft.core.fixes import Fix, available_fixes, relative
from liferaft.core.operations import FixCancelled, FixOutcome, prepare_fix
from liferaft.core.preflight import FileCheck, check_file
from liferaft.core.prepare import PrepareError
from liferaft.core.restart_note import note_mentions
from liferaft.core.scan import FileRecord, Inventory, shown_name
from liferaft.core.units import format_size
from liferaft.core.vendor import UploadLimits
from liferaft.tui.screens.screen_help import HELP_BINDING
from liferaft.tui.widgets.upload_check import check_view

#: Progress is drawn at most this often (seconds): a fixer reports every few MB.
PROGRESS_EVERY = 0.1

class Cancelled(Exception):
    """The user pressed esc while a fixer ran."""


@dataclass(slots=True)
class PrepareOutcome:
    action: str
    original: str
    """The prepared file's relative path."""
    written: list[str] = field(default_factory=list)
    """Relative paths of the files written, in order."""
    sizes: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    new_name: str | None = None
    """For a copy under a new name: the name (the restart note's mentions are updated by the app)."""
    source: tuple[int, float] | None = None
    """The original's size and modification time when the fix started."""
    fix: FixOutcome | None = None
    """What core's :func:`~liferaft.core.operations.prepare_fix` returned (the workbench remembers it)."""


class ColumnPicker(SelectionList[str]):
    """The columns to drop: space ticks one, enter is done (in a plain SelectionList enter ticks too)."""

    BINDINGS = [Binding("enter", "done", "Write the copy", id="prepare.columns_done",
                        tooltip="Write the copy without the ticked columns")]

    def action_done(self) -> None:
        screen = self.screen
        if isinstance(screen, PrepareScreen):
            screen._columns_done([str(value) for value in self.selected])


class PrepareScreen(ModalScreen[PrepareOutcome | None]):
    """Returns what was written, or None when closed without running a fixer."""

    BINDINGS = [HELP_BINDING, Binding("escape", "back", "Back", id="prepare.back",
                        tooltip="Back; while a fixer runs, cancel it (nothing is kept)")]
    HELP_TITLE = "preparing a file for upload"
    HELP_KEYS = (("↑ ↓", "pick a fix"), ("enter", "run it, or confirm what it asks for"),
                 ("space", "when it asks for columns: tick one to drop (enter writes the copy)"))

    def __init__(self, root: Path, record: FileRecord, inventory: Inventory, check: FileCheck | None = None,
                 sheets: tuple[str, ...] = (), columns: tuple[str, ...] = (),
                 limits: UploadLimits | None = None) -> None:
        super().__init__()
        self._limits = limits
        self._root = root
        self._record = record
        self._inventory = inventory
        self._check = check
        self._sheets = sheets
        self._columns = columns
        self._fixes: list[Fix] = []
        self._chosen: Fix | None = None
        self._mentions = 0
        self._cancel = threading.Event()
        self._busy = False

    def compose(self) -> ComposeResult:
        with Vertical(id="prepare-dialog"):
            yield Label(f"Prepare {shown_name(self._record.display_path)} for a new chat", id="prepare-title",
                        markup=False)
            with VerticalScroll(id="prepare-findings"):
                yield Static(Text("Checking the file…", style="italic"), id="prepare-check")
            yield Label("What to do", id="prepare-heading")
            yield OptionList(id="prepare-options")
            with Vertical(id="prepare-ask"):
                yield Label("", id="prepare-ask-label", markup=False)
                # Selected at once below, not on focus: a deferred select-all would swallow fast typing.
                yield Input(id="prepare-input", select_on_focus=False)
                yield ColumnPicker(id="prepare-columns")
            with Vertical(id="prepare-progress"):
                yield Label("", id="prepare-progress-label", markup=False)
                yield ProgressBar(id="prepare-bar", show_eta=True)
            yield Static("", id="prepare-error")
            yield Label("enter run · esc close · the original is never changed", id="prepare-help")

    def on_mount(self) -> None:
        self.query_one("#prepare-ask").display = False
        self.query_one("#prepare-progress").display = False
        self.query_one("#prepare-error").display = False
        self.query_one(OptionList).loading = True
        self._survey()

    # --- what fits this file ----------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="prepare-survey", exit_on_error=False, description="check the file")
    def _survey(self) -> None:
        path = self._root / self._record.path
        check = self._check or check_file(path, self._record.display_path, self._record.kind,
                                          limits=self._limits, flags=self._record.flags)
        sheets, columns = self._sheets, self._columns
        if check.kind == "xlsx" and not sheets:
            from liferaft.core.prepare import sheet_names

            try:
                sheets = sheet_names(path)
            except PrepareError:
                sheets = ()
        if check.kind in ("csv", "tsv") and not columns:
            from liferaft.core.inspect import inspect_file

            columns = tuple(column.name for column in inspect_file(path, check.kind).columns)
        mentions = note_mentions(self._root, self._inventory, self._record.path)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._surveyed, check, sheets, columns, mentions)

    def _surveyed(self, check: FileCheck, sheets: tuple[str, ...], columns: tuple[str, ...], mentions: int) -> None:
        self._check, self._sheets, self._columns, self._mentions = check, sheets, columns, mentions
        self.query_one("#prepare-check", Static).update(check_view(check))
        self._fixes = available_fixes(check, sheets=sheets, limits=self._limits)
        options = self.query_one(OptionList)
        options.loading = False
        options.clear_options()
        if not self._fixes:
            options.add_option(Option(Text("Nothing Liferaft can prepare for this file: see the fix above.",
                                           style="italic"), id="none", disabled=True))
            return
        for index, fix in enumerate(self._fixes):
            label = Text(fix.title)
            if fix.recommended:
                label.append("  recommended", style="bold green")
            options.add_option(Option(label, id=str(index)))
        options.highlighted = 0
        options.focus()

    # --- choosing and asking ----------------------------------------------------------------------

    @on(OptionList.OptionSelected, "#prepare-options")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        if self._busy or event.option.id in (None, "none"):
            return
        fix = self._fixes[int(event.option.id)]
        self._chosen = fix
        self._show_error("")
        if fix.asks is None:
            self._run(fix, fix.argument)
            return
        self._ask(fix)

    def _ask(self, fix: Fix) -> None:
        self.query_one("#prepare-ask").display = True
        label = self.query_one("#prepare-ask-label", Label)
        box = self.query_one("#prepare-input", Input)
        columns = self.query_one(ColumnPicker)
        use_list = fix.action == "drop_columns" and bool(self._columns)
        box.display = not use_list
        columns.display = use_list
        if fix.action == "drop_columns" and use_list:
            label.update("Columns to drop: space ticks one, enter writes the copy")
            columns.clear_options()
            columns.add_options([(name, name) for name in self._columns if name])
            columns.highlighted = 0
            columns.focus()
            return
        if fix.action == "drop_columns":
            label.update("Columns to drop, separated by commas; enter writes the copy")
            box.value = ""
        elif fix.action == "split":
            label.update("Largest part, in MB (enter splits)")
            box.value = fix.argument or ""
        elif fix.action != "name":
            label.update(f"{fix.asks} (enter writes the copy)")
            box.value = fix.argument or ""
        else:
            extra = ""
            if self._mentions:
                times = "once" if self._mentions == 1 else f"{self._mentions} times"
                extra = f"; the restart note names {shown_name(self._record.name)} {times}: it will say the new name"
            label.update(f"Upload it as (enter writes the copy{extra})")
            box.value = fix.argument or ""
        box.focus()
        box.select_all()

    @on(Input.Submitted, "#prepare-input")
    def _answered(self, event: Input.Submitted) -> None:
        if self._chosen is not None and not self._busy:
            self._run(self._chosen, event.value)

    @on(SelectionList.SelectionToggled, "#prepare-columns")
    def _ticked(self) -> None:
        self._show_error("")

    def _columns_done(self, picked: list[str]) -> None:
        if self._chosen is None or self._busy:
            return
        if not picked:
            self._show_error("Tick at least one column with space first.")
            return
        self._run(self._chosen, ",".join(picked))

    def _back_to_choices(self) -> None:
        self.query_one("#prepare-ask").display = False
        self.query_one("#prepare-progress").display = False
        self.query_one("#prepare-options").display = True
        self.query_one("#prepare-heading").display = True
        self.query_one(OptionList).focus()

    def action_back(self) -> None:
        if self._busy:
            self._cancel.set()
            self.query_one("#prepare-progress-label", Label).update("Cancelling…")
            return
        if self.query_one("#prepare-ask").display:
            self._chosen = None
            self._back_to_choices()
            return
        self.dismiss(None)

    def _show_error(self, message: str, style: str = "red") -> None:
        if message:
            message = message[:1].upper() + message[1:]
            if message[-1] not in ".!?":
                message += "."
        error = self.query_one("#prepare-error", Static)
        error.update(Text(message, style=style) if message else "")
        error.display = bool(message)

    # --- running ------------------------------------------------------------------------------------

    def _run(self, fix: Fix, argument: str | None) -> None:
        self._busy = True
        self._cancel.clear()
        self.query_one("#prepare-ask").display = False
        self.query_one("#prepare-options").display = False
        self.query_one("#prepare-heading").display = False
        self.query_one("#prepare-progress").display = True
        self.query_one("#prepare-progress-label", Label).update(f"{fix.title}… (esc cancels)")
        self.query_one(ProgressBar).update(total=None, progress=0)
        self.query_one("#prepare-help", Label).update("esc cancels · nothing half-written is kept")
        self._fix(fix, argument)

    @work(thread=True, exclusive=True, group="prepare-run", exit_on_error=False, description="prepare a file")
    def _fix(self, fix: Fix, argument: str | None) -> None:
        last = 0.0

        def progress(done: int, total: int) -> None:
            nonlocal last
            if self._cancel.is_set():
                raise Cancelled
            now = time.monotonic()
            if now - last >= PROGRESS_EVERY or done >= total:
                last = now
                self.app.call_from_thread(self._progress, done, total)

        path = self._root / self._record.path
        try:
            # esc after the last progress report too: core takes back what the fix wrote, nothing is kept.
            done = prepare_fix(path, fix.action, argument, progress=progress, cancelled=self._cancel.is_set)
        except Cancelled:
            self.app.call_from_thread(self._failed, "Cancelled: nothing was written.")
            return
        except FixCancelled as exc:  # taken back by core; a file Windows would not let go of is named
            said = str(exc)
            self.app.call_from_thread(self._failed, f"{said[:1].upper()}{said[1:]}.")
            return
        except PrepareError as exc:
            self.app.call_from_thread(self._failed, str(exc))
            return
        except OSError as exc:
            self.app.call_from_thread(self._failed, f"Could not write the copy: {exc.strerror or exc}")
            return
        except Exception as exc:  # a bug, not bad input: say it, and keep the app (and the dialog) usable
            self.app.call_from_thread(self._failed, f"The fix stopped on an error: {type(exc).__name__}: {exc}")
            return
        prepared = done.prepared
        outcome = PrepareOutcome(fix.action, self._record.path,
                                 [relative(self._root, item.path) for item in prepared.written],
                                 [item.size for item in prepared.written], list(prepared.notes),
                                 new_name=done.new_name, source=done.source, fix=done)
        self.app.call_from_thread(self._done, outcome)

    def _progress(self, done: int, total: int) -> None:
        bar = self.query_one(ProgressBar)
        bar.update(total=max(total, 1), progress=min(done, total))
        if self._chosen is not None and self._chosen.action == "sheet":
            amount = f"{done:,} of {total:,} rows"
        else:
            amount = f"{format_size(done)} of {format_size(total)}"
        if not self._cancel.is_set():
            self.query_one("#prepare-progress-label", Label).update(f"{self._chosen.title if self._chosen else ''}"
                                                                    f"… {amount} (esc cancels)")

    def _failed(self, message: str, style: str = "red") -> None:
        self._busy = False
        self.query_one("#prepare-help", Label).update("enter run · esc close · the original is never changed")
        self._back_to_choices()
        self._show_error(message, style)

    def _done(self, outcome: PrepareOutcome) -> None:
        self._busy = False
        if not outcome.written:  # nothing to do (already small enough, already UTF-8)
            self._failed(" ".join(outcome.notes) or "Nothing was written: the file needs no such fix", "italic")
            return
        self.dismiss(outcome)

"""The import screen (I): pick a conversation in a ChatGPT data export and recover it into the project.

The export's path comes first (by default the newest export zip in your downloads folder); its conversations
are listed in a thread with a progress bar, newest first, with date, model, code cells and files, and can be
searched as you type. Enter imports the highlighted one in a thread: the script, the restart note, the figures.
The screen returns what was written, so the app can say so and read the project again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Input, Label, OptionList, ProgressBar, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from liferaft.core.recover.listing import ConversationSummary
from liferaft.core.recover.sources import Export, ExportError, find_recent_export, open_export
from liferaft.core.scan import shown_name

#: Progress is drawn at most this often (seconds).
PROGRESS_EVERY = 0.1
#: Rows shown at most in the list (the search narrows it).
SHOWN = 2000

Importer = Callable[[Path, Export, str], Any]


def default_importer(root: Path, export: Export, conversation_id: str) -> Any:
    """Import through the recover writer (kept behind a function so tests and the app can swap it)."""
    from liferaft.core.recover.write import import_conversation

    return import_conversation(root, export, conversation_id)


def _date(seconds: float | None) -> str:
    return time.strftime("%Y-%m-%d", time.localtime(seconds)) if seconds else "—"


def _list_width(options: OptionList) -> int:
    """The cells a row of the list has: inside its border and padding, beside a scrollbar if one may show."""
    return max(40, options.scrollable_content_region.width - options.styles.scrollbar_size_vertical)


def row_text(summary: ConversationSummary, width: int = 100) -> Text:
    """One line of the list in `width` cells: date, title, model (when there is room), cells, files."""
    show_model = width >= 84
    title_width = max(12, width - 10 - 2 - 2 - 8 - 2 - 7 - 2 - (24 if show_model else 0))
    title = summary.title if len(summary.title) <= title_width else summary.title[: title_width - 1] + "…"
    cells = f"{summary.code_cells} cell{'' if summary.code_cells == 1 else 's'}"
    files = f"{summary.files} file{'' if summary.files == 1 else 's'}"
    text = Text.assemble((_date(summary.sort_time), "dim"), "  ", (f"{title:<{title_width}}", "bold"))
    if show_model:
        text.append(f"  {(summary.model or '—')[:22]:<22}", style="dim")
    text.append(f"  {cells:>8}  {files:>7}")
    if summary.problems:
        text.append(" ⚠", style="dark_orange")
    if summary.code_cells == 0:
        text.stylize("dim")
    return text


class RecoverImportScreen(Screen[Any]):
    """Returns the importer's result (8B's ImportResult), or None when closed without importing."""

    DEFAULT_CSS = """
    RecoverImportScreen { layout: vertical; }
    #recover-title { text-style: bold; width: 100%; padding: 0 1; }
    #recover-inputs { height: auto; padding: 0 1; }
    #recover-path { width: 2fr; }
    #recover-search { width: 1fr; }
    #recover-progress { height: auto; padding: 0 1; }
    #recover-body { height: 1fr; }
    #recover-list { width: 2fr; height: 1fr; border: round $accent; }
    #recover-side { width: 1fr; height: 1fr; border: round $panel; padding: 0 1; }
    #recover-status { height: auto; padding: 0 1; color: $text-muted; }
    """

    BINDINGS = [
        Binding("escape", "close", "Back", id="recover.close", tooltip="Back to the workbench; nothing is imported"),
        # f3 too: VS Code's terminal keeps ctrl+f for its own search.
        Binding("ctrl+f,f3", "search", "Search", id="recover.search", tooltip="Search the conversations by title"),
        Binding("ctrl+o", "path", "Other export", id="recover.path", tooltip="Type the path of another export"),
    ]
    HELP_TITLE = "importing a ChatGPT export"
    HELP_KEYS = (("↑ ↓", "pick a conversation"), ("enter", "import it (in the path box: list that export)"),
                 ("tab", "between the path, the search and the list"))

    def __init__(self, root: Path, default_path: Path | None = None, importer: Importer | None = None, *,
                 look_in: Path | None = None) -> None:
        """``default_path``: the export to list at once; else the newest export zip found in ``look_in`` (the
        downloads folder: looked at in a thread, since it may be slow or on a network drive)."""
        super().__init__()
        self._recover_root = root
        self._recover_default = default_path
        self._recover_look_in = look_in
        self._recover_importer = importer or default_importer
        self._recover_export: Export | None = None
        self._recover_summaries: list[ConversationSummary] = []
        self._recover_keys: dict[str, ConversationSummary] = {}  # option id -> summary (ids may repeat)
        self._recover_busy = False
        self._recover_width = 0

    def compose(self) -> ComposeResult:
        yield Label("Import a ChatGPT export: recover a conversation's code, outputs and uploads", id="recover-title")
        with Horizontal(id="recover-inputs"):
            yield Input(str(self._recover_default or ""), id="recover-path",
                        placeholder="the export: its .zip, the folder, conversations.json or chat.html")
            yield Input(id="recover-search", placeholder="search titles")
        with Vertical(id="recover-progress"):
            yield ProgressBar(id="recover-bar", show_eta=False)
        with Horizontal(id="recover-body"):
            yield OptionList(id="recover-list")
            with VerticalScroll(id="recover-side"):
                yield Static("", id="recover-details")
        yield Static("", id="recover-status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#recover-progress").display = False
        if self._recover_default is not None:
            self._start_listing(self._recover_default)
        elif self._recover_look_in is not None:
            self._say(f"Looking for an export in {self._recover_look_in}…")
            self._find_export(self._recover_look_in)
        else:
            self._ask_for_path()

    def _ask_for_path(self) -> None:
        self._say("Type the path of your export (Settings → Data controls → Export data in ChatGPT) and "
                  "press enter.")
        self.query_one("#recover-path", Input).focus()

    @work(thread=True, exclusive=True, exit_on_error=False, group="recover-find", description="find an export")
    def _find_export(self, folder: Path) -> None:
        found = find_recent_export(folder)
        self.app.call_from_thread(self._found_export, found)

    def _found_export(self, found: Path | None) -> None:
        box = self.query_one("#recover-path", Input)
        if found is None or box.value.strip():  # nothing there, or the user is typing a path already
            if not self._recover_busy and not self._recover_summaries:
                self._ask_for_path()
            return
        box.value = str(found)
        self._start_listing(found)

    # --- listing ----------------------------------------------------------------------------------
    @on(Input.Submitted, "#recover-path")
    def _path_submitted(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        if value:
            self._start_listing(Path(value).expanduser())

    def _start_listing(self, path: Path) -> None:
        if self._recover_busy:
            return
        if self._recover_export is not None:
            self._recover_export.close()
            self._recover_export = None
        self._recover_busy = True
        self.query_one("#recover-list", OptionList).clear_options()
        self.query_one("#recover-details", Static).update("")
        self.query_one("#recover-progress").display = True
        self.query_one(ProgressBar).update(total=None, progress=0)
        self._say(f"Reading {path.name}…")
        self._list_export(path)

    @work(thread=True, exclusive=True, exit_on_error=False, group="recover-list", description="list an export")
    def _list_export(self, path: Path) -> None:
        worker = get_current_worker()
        last = 0.0

        def progress(done: int, total: int) -> None:
            nonlocal last
            now = time.monotonic()
            if now - last >= PROGRESS_EVERY or done >= total:
                last = now
                self.app.call_from_thread(self._progress, done, total)

        try:
            export = open_export(path)
            summaries = []
            for summary in export.conversations(progress=progress):
                if worker.is_cancelled:
                    export.close()
                    return
                summaries.append(summary)
        except ExportError as exc:
            self.app.call_from_thread(self._list_failed, str(exc))
            return
        except Exception as exc:  # a bug, not bad input: say so and keep the screen usable
            self.app.call_from_thread(self._list_failed, f"Reading stopped on an error: {type(exc).__name__}: {exc}")
            return
        summaries.sort(key=lambda s: s.sort_time, reverse=True)
        self.app.call_from_thread(self._listed, export, summaries)

    def _progress(self, done: int, total: int) -> None:
        self.query_one(ProgressBar).update(total=max(total, 1), progress=min(done, total))

    def _list_failed(self, message: str) -> None:
        self._recover_busy = False
        self.query_one("#recover-progress").display = False
        self._say(message, "red")
        self.query_one("#recover-path", Input).focus()

    def _listed(self, export: Export, summaries: list[ConversationSummary]) -> None:
        self._recover_busy = False
        self._recover_export = export
        self._recover_summaries = summaries
        self._recover_keys = {}
        for summary in summaries:  # the id, or "@N" when the export repeats it: one option each, all unique
            key = export.key_for(summary)
            self._recover_keys[key if key not in self._recover_keys else f"@{summary.position}"] = summary
        self.query_one("#recover-progress").display = False
        with_code = sum(1 for s in summaries if s.code_cells)
        counted = f"{len(summaries):,} conversation{'' if len(summaries) == 1 else 's'}"
        status = (f"{counted} in this {export.kind}, {with_code:,} with code. "
                  "Enter imports the highlighted one.")
        if export.problems:
            status += f"  ⚠ {len(export.problems)} problem(s): " + "; ".join(export.problems[:2])
        self._say(status, "dark_orange" if export.problems else "")
        self._fill(self.query_one("#recover-search", Input).value)
        if summaries:
            self.query_one("#recover-list", OptionList).focus()

    # --- search and details -----------------------------------------------------------------------
    @on(Input.Changed, "#recover-search")
    def _search_changed(self, event: Input.Changed) -> None:
        if not self._recover_busy:
            self._fill(event.value)

    @on(Input.Submitted, "#recover-search")
    def _search_submitted(self) -> None:
        self.query_one("#recover-list", OptionList).focus()

    def on_resize(self) -> None:
        options = self.query_one("#recover-list", OptionList)
        if self._recover_summaries and options.size.width and _list_width(options) != self._recover_width:
            self._fill(self.query_one("#recover-search", Input).value, keep=True)

    def _fill(self, query: str, keep: bool = False) -> None:
        words = query.casefold().split()
        shown = [s for s in self._recover_summaries if all(w in s.title.casefold() for w in words)][:SHOWN]
        options = self.query_one("#recover-list", OptionList)
        width = _list_width(options) if options.size.width else 100
        self._recover_width = width
        highlighted = options.highlighted
        options.clear_options()
        keys = {id(summary): key for key, summary in self._recover_keys.items()}
        options.add_options([Option(row_text(s, width), id=keys.get(id(s), s.id)) for s in shown])
        if shown:
            options.highlighted = min(highlighted or 0, len(shown) - 1) if keep else 0
        else:
            self.query_one("#recover-details", Static).update(
                Text("No conversation matches." if self._recover_summaries else "", style="italic"))

    @on(OptionList.OptionHighlighted, "#recover-list")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        summary = self._by_id(event.option.id)
        if summary is not None:
            self.query_one("#recover-details", Static).update(details_view(summary))

    def _by_id(self, key: str | None) -> ConversationSummary | None:
        return self._recover_keys.get(key or "")

    # --- importing --------------------------------------------------------------------------------
    @on(OptionList.OptionSelected, "#recover-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        summary = self._by_id(event.option.id)
        if summary is None or self._recover_busy or self._recover_export is None:
            return
        self._recover_busy = True
        self._say(f"Importing \"{summary.title}\"…")
        self._import(self._recover_export, summary, str(event.option.id))

    @work(thread=True, exclusive=True, exit_on_error=False, group="recover-import", description="import a chat")
    def _import(self, export: Export, summary: ConversationSummary, key: str) -> None:
        try:
            result = self._recover_importer(self._recover_root, export, key)
        except ExportError as exc:
            self.app.call_from_thread(self._import_failed, str(exc))
            return
        except OSError as exc:
            self.app.call_from_thread(self._import_failed, f"Could not write into the project: {exc.strerror or exc}")
            return
        except Exception as exc:  # the writer's own errors carry a one-line message
            self.app.call_from_thread(self._import_failed, str(exc) or type(exc).__name__)
            return
        self.app.call_from_thread(self._imported, summary, result)

    def _import_failed(self, message: str) -> None:
        self._recover_busy = False
        self._say(f"Not imported: {message}", "red")

    def _imported(self, summary: ConversationSummary, result: Any) -> None:
        self._recover_busy = False
        self.app.notify(imported_message(summary, result), markup=False, timeout=10)
        if self._recover_export is not None:
            self._recover_export.close()
        self.dismiss(result)

    # --- actions ----------------------------------------------------------------------------------
    def _say(self, message: str, style: str = "") -> None:
        self.query_one("#recover-status", Static).update(Text(message, style=style))

    def action_search(self) -> None:
        self.query_one("#recover-search", Input).focus()

    def action_path(self) -> None:
        self.query_one("#recover-path", Input).focus()

    def action_close(self) -> None:
        workers = [w for w in self.workers if w.group == "recover-list"]
        for worker in workers:
            worker.cancel()
        if self._recover_export is not None:
            self._recover_export.close()
        self.dismiss(None)


def details_view(summary: ConversationSummary) -> Text:
    text = Text(summary.title + "\n", style="bold")
    text.append(f"{_date(summary.create_time)} → {_date(summary.update_time)} · {summary.model or 'model unknown'}\n",
                style="dim")
    text.append(f"{summary.code_cells} code cell{'' if summary.code_cells == 1 else 's'} ran\n")
    if summary.shown_cells != summary.code_cells:
        text.append(f"{summary.shown_cells} of them on the branch the chat showed last, which is what is imported; "
                    "the others ran on branches abandoned by an edit (`liferaft import --all-branches` takes "
                    "them too)\n", style="dark_orange" if summary.shown_cells == 0 else "")
    if summary.uploads:
        text.append("\nUploaded\n", style="bold")
        for name in summary.uploads[:30]:
            text.append(f"  {shown_name(name)}\n")
    if summary.generated:
        text.append("\nGenerated in the sandbox (lost with it)\n", style="bold")
        for name in summary.generated[:30]:
            text.append(f"  {shown_name(name)}\n")
        if len(summary.generated) > 30:
            text.append(f"  … and {len(summary.generated) - 30} more\n", style="dim")
    if not summary.code_cells:
        text.append("\nNo code ran in this chat: there is no script to recover.\n", style="italic")
    for problem in summary.problems:
        text.append(f"\n⚠ {problem}\n", style="dark_orange")
    text.append(f"\nid {summary.id}", style="dim")
    return text


def imported_message(summary: ConversationSummary, result: Any) -> str:
    """One notification: what was written, and what is left to regenerate."""
    written = list(getattr(result, "written", []) or [])
    unchanged = list(getattr(result, "unchanged", []) or [])
    parts = [f"Imported \"{summary.title}\"."]
    if written:
        shown = ", ".join(written[:3]) + (f" and {len(written) - 3} more" if len(written) > 3 else "")
        parts.append(f"Wrote {shown}.")
    elif unchanged:
        parts.append("Already imported: nothing changed.")
    present = getattr(result, "outputs_present", None) or {}
    missing = [name for name, there in present.items() if not there]
    if missing:
        parts.append(f"{len(missing)} generated file{'' if len(missing) == 1 else 's'} not in OUTPUT: "
                     "ask the new chat to regenerate them.")
    return " ".join(parts)

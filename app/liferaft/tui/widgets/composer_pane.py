"""The composer pane: the prompt for a new chat, assembled live from a template and the project.

On top the template, whether the saved code goes inline, and the token budget; below, the warnings and
the prompt exactly as it will be copied. The pieces (the upload list with each file's shape, the restart
note, the code) are gathered off the UI thread by the app (:func:`liferaft.core.compose.gather`); the pane
only assembles them (:func:`liferaft.core.compose.assemble`, a few milliseconds) when an option changes.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Static

from liferaft.core import compose
from liferaft.core.scan import Inventory, shown_name
from liferaft.core.units import format_size
from liferaft.core.uploads import UploadPlan
from liferaft.tui.commands import bindings

#: Lines of the prompt drawn at most: laying out a very long text on every keystroke would lag. The whole
#: prompt is copied all the same.
MAX_PREVIEW_LINES = 600

MARKS = {"block": ("✗", "red"), "warn": ("!", "dark_orange"), "ok": ("✓", "green")}


def upload_table(plan: UploadPlan, limit: int = 12) -> RenderableType:
    """The files in upload order with their verdicts (shown until the prompt is ready)."""
    table = Table.grid(padding=(0, 1), expand=True)
    table.add_column(style="dim", justify="right")
    table.add_column(width=1)
    table.add_column(overflow="ellipsis", no_wrap=True, ratio=1)
    table.add_column(justify="right", style="dim", no_wrap=True)
    for number, item in enumerate(plan.items[:limit], 1):
        mark = Text(*MARKS[item.check.verdict]) if item.check is not None else Text(" ")
        name = Text(shown_name(item.record.name))
        if item.original is not None:
            name.append("  prepared", style="dim italic")
        table.add_row(str(number), mark, name, format_size(item.record.size))
    return table


class ComposerPane(Vertical):
    """Shows the assembled prompt; :attr:`prompt` is what ctrl+y copies."""

    BORDER_TITLE = "Composer"
    BINDINGS = bindings("composer")
    ALLOW_MAXIMIZE = True
    can_focus = True

    def __init__(self, now: Callable[[], float], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._now = now
        self.plan: UploadPlan | None = None
        self.context: compose.ComposeContext | None = None
        """What the prompt is made of; None until the app has gathered it."""
        self.prompt: compose.ComposedPrompt | None = None
        """The prompt as assembled with the current options."""
        self.templates, self.template_warnings = compose.load_templates()
        self.template_name = compose.DEFAULT_TEMPLATE if compose.DEFAULT_TEMPLATE in self.templates else \
            next(iter(self.templates))
        self.include_code = False
        self.budget = compose.DEFAULT_BUDGET
        self.note_request: Callable[[str], str] | None = None
        self.assemble_seconds = 0.0
        """How long the last assembly took (shown in the status line of a debug run, used by tests)."""

    def compose(self) -> ComposeResult:
        # One line of text with clickable parts, not form widgets: a Select and an Input cost the first frame
        # ~150 ms, and the keys (t, i, b) do the same.
        yield Static(self._options_line(), id="composer-options")
        yield Static("", id="composer-status")
        with VerticalScroll(id="composer-scroll"):
            yield Static(Text("Putting the prompt together…", style="italic dim"), id="composer-text")
        # Shown instead when the pane is a sliver beside the focused diagnosis (narrow terminals).
        yield Static(Text.assemble("ctrl+y\ncopies\nthe\nprompt", ("\n4 opens", "dim")), classes="pane-sliver")

    _titles: tuple[str, ...] = ("Composer",)

    def _set_titles(self, *titles: str) -> None:
        from liferaft.tui.widgets.text_pane import fit_title

        self._titles = titles
        self.border_title = fit_title(self, titles)

    def on_resize(self) -> None:
        self._set_titles(*self._titles)

    # --- what the app hands over ------------------------------------------------------------------

    def show(self, inventory: Inventory) -> None:
        """Kept for the app's refresh path. Nothing to do: the prompt depends on the gathered context, which
        :meth:`set_context` brings once it is gathered (assembling the old one again would only cost time)."""

    def set_plan(self, plan: UploadPlan | None) -> None:
        self.plan = plan
        if self.context is None:
            self._redraw()

    def upload_paths(self) -> list[Path]:
        """The files the prompt asks to upload, in its order (the data, then the code unless it is inline)."""
        if self.prompt is not None:
            return list(self.prompt.upload_paths)
        if self.context is not None:
            return [*self.context.upload_paths, *([] if self.include_code else self.context.code_paths)]
        return []

    def refresh_prompt(self) -> None:
        """Assemble again (e.g. once the secret scanner is ready)."""
        self._redraw()

    def set_context(self, context: compose.ComposeContext | None) -> None:
        self.context = context
        self._redraw()

    # --- options ------------------------------------------------------------------------------------

    def _options_line(self) -> Content:
        title = self.templates[self.template_name].title
        code = "code inline" if self.include_code else "code uploaded"
        return Content.from_markup(
            "[b]$title[/b] [dim](t)[/dim] ▾ · $code [dim](i)[/dim] · at most $budget tokens [dim](b)[/dim]",
            title=title, code=code, budget=f"{self.budget:,}",
        )

    def _show_options(self) -> None:
        if self.is_mounted:
            self.query_one("#composer-options", Static).update(self._options_line())

    async def on_click(self, event: events.Click) -> None:
        # The options line: its left part switches the template, the middle the code, the right the budget.
        if getattr(event.widget, "id", None) != "composer-options":
            return
        # Which part of the line was clicked: the parts are separated by " · ".
        plain = self._options_line().plain
        first = plain.find(" · ")
        second = plain.find(" · ", first + 1)
        if event.x < first:
            await self.app.run_action("app.cycle_template")
        elif event.x < second:
            await self.app.run_action("app.toggle_code")
        else:
            await self.app.run_action("app.edit_budget")

    def set_template(self, name: str) -> None:
        if name in self.templates:
            self.template_name = name
            self._show_options()
            self._redraw()

    def cycle_template(self) -> str:
        names = list(self.templates)
        self.set_template(names[(names.index(self.template_name) + 1) % len(names)])
        return self.templates[self.template_name].title

    def toggle_code(self) -> bool:
        self.include_code = not self.include_code
        self._show_options()
        self._redraw()
        return self.include_code

    def set_budget(self, budget: int) -> None:
        self.budget = budget
        self._show_options()
        self._redraw()

    # --- drawing ------------------------------------------------------------------------------------

    def _redraw(self) -> None:
        if not self.is_mounted:
            return
        status = self.query_one("#composer-status", Static)
        body = self.query_one("#composer-text", Static)
        context = self.context
        if context is None:
            self.prompt = None
            self._set_titles("Composer")
            parts: list[RenderableType] = [Text("Putting the prompt together…", style="italic dim")]
            if self.plan is not None and self.plan.items:
                parts += [Text("Re-upload list", style="bold"), upload_table(self.plan)]
            status.update("")
            body.update(Group(*parts))
            return
        started = time.perf_counter()
        template = self.templates[self.template_name]
        note_request = self.note_request(context.project) if self.note_request and template.name == "note" else ""
        prompt = compose.assemble(template, context, include_code=self.include_code, budget=self.budget,
                                  date=time.strftime("%Y-%m-%d", time.localtime(self._now())),
                                  note_request=note_request)
        self.prompt = prompt
        if _scanner_ready():  # loading the scanner's rules takes a moment: the app does it in the background
            found = compose.gate(prompt.text, context).findings
            if found:
                kinds = sorted({str(finding.kind) for finding in found})
                prompt.warnings.insert(0, f"{len(found)} possible secret{'s' if len(found) != 1 else ''} "
                                       f"({', '.join(kinds[:3])}): ctrl+y shows them and asks before copying")
            prompt.warnings[:0] = compose.uploaded_code_secrets(prompt, context)
        self.assemble_seconds = time.perf_counter() - started
        how = "" if prompt.tokens_exact else " (estimated)"
        self._set_titles(f"Composer · {template.title} · {prompt.tokens:,} tokens", f"Composer · {template.title}",
                         f"Composer · {prompt.tokens:,} tokens", "Prompt: ctrl+y", "Composer")
        line = Text.assemble((f"{len(prompt.upload_paths)} files to upload", "bold"), " · ",
                             f"{prompt.chars:,} characters · {prompt.tokens:,} tokens{how}")
        lines: list[Text] = [line]
        lines += [Text(f"! {warning}", style="dark_orange") for warning in prompt.warnings]
        lines.append(Text("ctrl+y copies it · u copies the upload list · f opens their folder", style="dim italic"))
        for item in lines:  # one line each: the prompt below matters more; the full warning is in its text
            item.no_wrap, item.overflow = True, "ellipsis"
        status.update(Group(*lines))
        text = prompt.text
        shown = text.splitlines()
        if len(shown) > MAX_PREVIEW_LINES:
            text = "\n".join(shown[:MAX_PREVIEW_LINES]) + (
                f"\n… {len(shown) - MAX_PREVIEW_LINES:,} more lines: all of it is copied")
        body.update(Text(text))


def _scanner_ready() -> bool:
    """True once the secret scanner is loaded. Only asked, never loaded here: importing the scanner compiles a
    few hundred patterns (a tenth of a second), and this runs on the UI thread; the workbench loads it in a
    worker thread and redraws the prompt when it is ready."""
    secrets = sys.modules.get("liferaft.core.secrets")
    return secrets is not None and bool(secrets.ready())

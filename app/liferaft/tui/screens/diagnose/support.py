"""The support report (S): the message for the vendor's support, built from what Liferaft knows and what you add.

Left, the fields support asks for (the exact error, where it happens, browser, request ID, account email,
screenshot); right, the message exactly as it will be copied, and what is still missing. ctrl+y copies it the
way the composer copies a prompt (system clipboard, else the terminal) and always saves a copy under
``RESTART/prompts/``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from rich.console import Group
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Checkbox, Footer, Input, Label, RadioButton, RadioSet, Static, TextArea

from liferaft.core.diagnose.support import (
    REPORT_TEMPLATE,
    SCOPE_LABELS,
    Environment,
    SupportDetails,
    build_report,
)
from liferaft.core.roles import Role

TYPE_CHECKING = False
if TYPE_CHECKING:
    from liferaft.core.delivery import Delivery


class SupportScreen(Screen[None]):
    DEFAULT_CSS = """
    SupportScreen #support-title { width: 100%; text-style: bold; background: $panel; padding: 0 1; }
    SupportScreen #support-body { height: 1fr; }
    SupportScreen #support-form { width: 2fr; min-width: 36; padding: 0 1; }
    SupportScreen #support-form Label { margin-top: 1; color: $text-muted; }
    SupportScreen #support-error { height: 6; }
    SupportScreen #support-scope { width: 100%; }
    SupportScreen #support-side { width: 3fr; border: round $primary 40%; padding: 0 1; }
    SupportScreen #support-missing { margin-top: 1; }
    """

    OWN_COPY = True
    """ctrl+y copies this screen's report, not the composer's prompt (see LiferaftApp.check_action)."""

    BINDINGS = [
        Binding("ctrl+y", "copy", "Copy and save", id="support.copy", priority=True,
                tooltip="Copy the report (system clipboard, else the terminal) and save a copy in RESTART/"),
        Binding("escape", "close", "Close", id="support.close", tooltip="Back"),
    ]
    HELP_TITLE = "the support report"
    HELP_KEYS = (("tab", "to the next field"),)

    def __init__(self, details: SupportDetails, env: Callable[[], Environment], root: Path,
                 role_folders: dict[str, Role], *, saved: Callable[[Path], None] | None = None,
                 email_help: str = "") -> None:
        super().__init__()
        self.details = details
        """What the form holds now."""
        self._env = env
        self._root = root
        self._role_folders = role_folders
        self._saved = saved
        self._email_help = email_help
        self.delivered: Delivery | None = None
        """How the last copy went."""

    def compose(self) -> ComposeResult:
        details = self.details
        yield Label("Support report · ctrl+y copies it and saves a copy in RESTART/", id="support-title")
        with Horizontal(id="support-body"):
            with VerticalScroll(id="support-form"):
                yield Label("The exact error, as shown")
                yield TextArea(details.error_text, id="support-error", soft_wrap=True)
                yield Label("Where it happens")
                with RadioSet(id="support-scope"):
                    for scope_id, label in SCOPE_LABELS.items():
                        yield RadioButton(label, value=details.scope == scope_id, id=f"scope-{scope_id}")
                yield Label("Browser or app")
                yield Input(details.browser, placeholder="e.g. Firefox 133 on Windows 11, or the iOS app",
                            id="support-browser")
                yield Label("Request ID, if one was shown")
                yield Input(details.request_id, placeholder="none", id="support-request")
                yield Label("Account email" + (f" ({self._email_help})" if self._email_help else ""), markup=False)
                yield Input(details.email, placeholder="you@example.com", id="support-email")
                yield Label("What you were doing (optional)")
                yield Input(details.notes, placeholder="e.g. re-running the cleaning step on orders_2025.csv",
                            id="support-notes")
                yield Checkbox("I will attach a screenshot of the error", details.screenshot, id="support-shot")
            with VerticalScroll(id="support-side"):
                yield Static("", id="support-preview")
                yield Static("", id="support-missing")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#support-error" if not self.details.error_text.strip() else "#support-scope").focus()
        self._show()

    @property
    def text(self) -> str:
        """The report exactly as it will be copied."""
        return build_report(self.details, self._env())

    def _show(self) -> None:
        self.query_one("#support-preview", Static).update(Text(self.text))
        missing = self.details.missing()
        if missing:
            body = Group(Text("Support will ask for", style="bold dark_orange"),
                         *[Text(f"· {gap}") for gap in missing])
        else:
            body = Group(Text("Everything support asks for is there.", style="green"))
        self.query_one("#support-missing", Static).update(body)

    # --- the fields ---------------------------------------------------------------------------------------

    @on(TextArea.Changed, "#support-error")
    def _error_changed(self, event: TextArea.Changed) -> None:
        self.details = replace(self.details, error_text=event.text_area.text)
        self._show()

    @on(RadioSet.Changed, "#support-scope")
    def _scope_changed(self, event: RadioSet.Changed) -> None:
        button_id = event.pressed.id or ""
        self.details = replace(self.details, scope=button_id.removeprefix("scope-") or None)
        self._show()

    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        field = {"support-browser": "browser", "support-request": "request_id", "support-email": "email",
                 "support-notes": "notes"}.get(event.input.id or "")
        if field is not None:
            self.details = replace(self.details, **{field: event.value})
            self._show()

    @on(Checkbox.Changed, "#support-shot")
    def _shot_changed(self, event: Checkbox.Changed) -> None:
        self.details = replace(self.details, screenshot=event.value)
        self._show()

    def set_scope(self, scope_id: str) -> None:
        """Pick where it happens (a key of SCOPES), as a click on its button would."""
        self.query_one(f"#scope-{scope_id}", RadioButton).value = True

    # --- copy and save -------------------------------------------------------------------------------------

    def action_copy(self) -> None:
        self._deliver(self.text, self._env().now)

    @work(thread=True, exclusive=True, group="support-copy", exit_on_error=False, description="copy the report")
    def _deliver(self, text: str, now: float) -> None:
        from liferaft.core.delivery import deliver
        from liferaft.core.outbound import release
        from liferaft.core.secrets import SecretScannerUnavailable

        app = self.app
        # A pasted error can carry a key or token (a URL with one, a header): the same gate as the prompt's.
        try:
            cleared = release(text)
        except SecretScannerUnavailable as exc:  # fail closed, and say so
            app.call_from_thread(app.notify, f"Nothing was copied: the secret check could not run ({exc}).",
                                 title="Support report", severity="error", markup=False, timeout=10)
            return
        if cleared.redacted:
            app.call_from_thread(app.notify, f"{cleared.redacted} possible secret(s) in the report were masked "
                                 "before copying.", title="Support report", severity="warning", timeout=8)

        def terminal(payload: str) -> None:
            app.call_from_thread(app.copy_to_clipboard, payload)

        done = deliver(cleared, what="the support report", root=self._root, role_folders=self._role_folders,
                       template=REPORT_TEMPLATE, now=now, terminal=terminal)
        app.call_from_thread(self._delivered, done)

    def _delivered(self, done: Delivery) -> None:
        self.delivered = done
        message = done.message
        if done.warning and done.how != "copied":
            message = f"{message.rstrip('.')} ({done.warning})."
        self.app.notify(message, title="Support report", severity=done.severity, markup=False,  # type: ignore[arg-type]
                        timeout=10)
        if done.saved is not None and self._saved is not None:
            self._saved(done.saved)

    def action_close(self) -> None:
        self.dismiss(None)


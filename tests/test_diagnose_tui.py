"""The diagnosis in the workbench (issue 7's "done when"): pasting "Code interpreter session expired" shows the
session layer, its next steps and how long ago the project was last active; a 429 banner gives the rate-limit
steps; unknown text gets an honest "no known match"; the questions lead to a symptom; a step's key runs its
action; `a` restarts the session clock and it survives a restart; the checklist and the support report work
from their keys and persist."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from textual.widgets import OptionList, Static, TextArea

from liferaft.core import clipboard
from liferaft.core.clipboard import CopyResult
from liferaft.core.diagnose.checklist import load_checklist
from liferaft.core.diagnose.clock import activity_path, load_activity
from liferaft.core.diagnose.knowledge import load_knowledge
from liferaft.core.watch import Change, WatchEvent
from liferaft.tui.app import LiferaftApp
from liferaft.tui.screens.diagnose.actions import back_to_workbench, memory_of
from liferaft.tui.screens.diagnose.checklist import ChecklistScreen
from liferaft.tui.screens.diagnose.screen import DiagnoseScreen
from liferaft.tui.screens.diagnose.support import SupportScreen
from liferaft.tui.widgets.composer_pane import ComposerPane
from liferaft.tui.widgets.diagnosis_pane import DiagnosisPane
from tests.conftest import FROZEN_NOW, write
from tests.test_prepare_tui import rendered, wait_for
from tests.test_tui import settle

HOUR = 3600.0
BANNER_429 = """<div class="text-token-text-error">
  <p>Too many requests in 1 hour. Try again later.</p>
  <p>Error code: 429 — Too Many Requests</p>
</div>"""


def make_app(root: Path, now: float = FROZEN_NOW) -> LiferaftApp:
    return LiferaftApp(root, now=lambda: now, theme="textual-dark")


@pytest.fixture
def no_native_clipboard(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clipboard, "copy_native", lambda text, timeout=2.0: CopyResult(False, "no tool"))


def screen_text(app: LiferaftApp, selector: str) -> str:
    """The text of a Static on the screen, its lines joined (wrapping depends on the width)."""
    return " ".join(rendered(app.screen.query_one(selector, Static).content, 110).split())


async def open_diagnosis(app: LiferaftApp, pilot, text: str = "") -> DiagnoseScreen:  # type: ignore[no-untyped-def]
    await settle(app, pilot)
    await pilot.press("d")
    await wait_for(pilot, lambda: isinstance(app.screen, DiagnoseScreen))
    screen = app.screen
    assert isinstance(screen, DiagnoseScreen)
    if text:
        screen.query_one(TextArea).insert(text)
        await wait_for(pilot, lambda: memory_text(app) == text)  # classified: the list and answer follow
        await pilot.pause()
        await pilot.pause()
    return screen


def memory_text(app: LiferaftApp) -> str:
    return memory_of(app).error_text


async def test_a_session_expired_message_shows_the_session_layer_steps_and_the_clock(project: Path) -> None:
    app = make_app(project, FROZEN_NOW + 2 * HOUR)  # the newest file was saved 5 minutes before FROZEN_NOW
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_diagnosis(app, pilot, "Code interpreter session expired")
        assert screen.symptom is not None and screen.symptom.id == "session_expired"
        answer = screen_text(app, "#diagnose-answer")
        assert "SESSION" in answer and "code interpreter session expired" in answer  # the why
        expected = load_knowledge().symptom("session_expired")
        for step in expected.steps:
            assert step.text in answer
        assert "[1] Copy the rerun prompt" in answer
        evidence = screen_text(app, "#diagnose-evidence")
        assert "Last active 2 h ago: stray_summary.csv was saved" in evidence
        assert "IDLE" in evidence and "of the 13 h window" in evidence


async def test_a_429_banner_gives_the_rate_limit_steps(project: Path) -> None:
    app = make_app(project)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_diagnosis(app, pilot, f"Chat with data\n\n{BANNER_429}\n\nRegenerate")
        assert screen.symptom is not None and screen.symptom.id == "rate_limited"
        answer = screen_text(app, "#diagnose-answer")
        assert "FIX" in answer and "Too many requests" in answer
        assert "Stop clicking regenerate" in answer and "wait a few minutes" in answer
        first = screen.query_one(OptionList).get_option_at_index(0)
        assert first.id == "rate_limited"


async def test_unknown_text_is_no_known_match_with_the_general_flow(project: Path) -> None:
    app = make_app(project)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_diagnosis(app, pilot, "The quarterly totals look a bit low to me")
        assert screen.symptom is None
        answer = screen_text(app, "#diagnose-answer")
        assert "No known match" in answer
        for layer in load_knowledge().layers.values():
            assert layer.question in answer
        assert screen.query_one(OptionList).get_option_at_index(0).id == "-flow-"


async def test_the_questions_lead_to_a_symptom_and_back(project: Path) -> None:
    app = make_app(project)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_diagnosis(app, pilot)
        screen.query_one(OptionList).focus()
        await pilot.press("g")
        assert load_knowledge().first_question.text in screen_text(app, "#diagnose-answer")
        await pilot.press("n", "y", "n")  # not only old outputs; it sat quiet for hours; no "timed out" banner
        assert screen.symptom is not None and screen.symptom.id == "session_expired"
        await pilot.press("backspace")
        assert screen.symptom is None
        await pilot.press("backspace", "n", "n", "y")  # back at "sat quiet?": no; no traceback; can't find a file
        assert screen.symptom is not None and screen.symptom.layer == "FILE"
        assert not app.query_one("#diagnosis").has_focus  # n answered: it did not open the restart note
        assert isinstance(app.screen, DiagnoseScreen)


#: The guided flow's answers (y/n keys) that end on each symptom added for issue 18.
NEW_SYMPTOM_PATHS = {
    "desktop_link": "yy", "chat_timed_out": "nyy", "analysis_error": "nny", "file_unreadable": "nnnnyy",
    "message_too_long": "nnnnny", "at_capacity": "nnnnnnny", "country_blocked": "nnnnnnnnnnyy",
    "unusual_activity": "nnnnnnnnnnyn",
}


async def test_the_questions_reach_each_new_symptom_with_its_steps(project: Path) -> None:
    app = make_app(project)
    async with app.run_test(size=(120, 40)) as pilot:
        # One diagnosis screen: g starts the questions afresh each time (the trail of the last path is dropped),
        # so each path begins where a newly opened screen's would. Opening the screen anew for each path cost a
        # second of drawing per path and proved nothing more.
        screen = await open_diagnosis(app, pilot)
        screen.query_one(OptionList).focus()
        for symptom_id, answers in sorted(NEW_SYMPTOM_PATHS.items()):
            await pilot.press("g")
            assert screen.symptom is None and load_knowledge().first_question.text in screen_text(
                app, "#diagnose-answer"), symptom_id
            await pilot.press(*answers)
            assert screen.symptom is not None and screen.symptom.id == symptom_id
            answer = screen_text(app, "#diagnose-answer")
            symptom = load_knowledge().symptom(symptom_id)
            assert symptom.title in answer, symptom_id
            for step in symptom.steps:
                assert step.text[:40] in " ".join(answer.split()), (symptom_id, step.text)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, DiagnoseScreen))


async def test_a_steps_key_runs_its_action(project: Path, no_native_clipboard: None) -> None:
    app = make_app(project)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await wait_for(pilot, lambda: app.query_one(ComposerPane).prompt is not None)
        await open_diagnosis(app, pilot, "Your code interpreter session has expired.")
        app.screen.query_one(OptionList).focus()
        await pilot.press("1")  # Copy the rerun prompt
        await wait_for(pilot, lambda: bool(app.clipboard))
        assert "expired" in app.clipboard.lower()
        assert list((project / "RESTART" / "prompts").glob("*-rerun.md"))
        await pilot.press("2")  # Check the files: back to the workbench, on the project pane
        await wait_for(pilot, lambda: not isinstance(app.screen, DiagnoseScreen))
        assert app.focused is app.query_one("#project")
        assert any("to upload" in n.message for n in app._notifications)


async def test_i_just_used_the_chat_restarts_the_clock_and_survives_a_restart(project: Path) -> None:
    later = FROZEN_NOW + 20 * HOUR
    app = make_app(project, later)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        pane = app.query_one(DiagnosisPane)
        assert pane.clock().state.value == "likely expired"
        await pilot.press("a")
        await wait_for(pilot, lambda: activity_path(project).exists() and pane.clock().last_kind == "chat")
        assert any("you used the chat" in n.message for n in app._notifications)
        assert "session active" in rendered(app.query_one("#status", Static).content, 300)
        assert "you said you used the chat" in rendered(pane.query_one(".pane-body", Static).content)
    assert [event.kind for event in load_activity(project).events] == ["chat"]
    again = make_app(project, later + 3 * HOUR)
    async with again.run_test(size=(160, 48)) as pilot:
        await settle(again, pilot)
        clock = again.query_one(DiagnosisPane).clock()
        assert clock.last_kind == "chat" and clock.state.value == "idle"
        assert clock.idle_hours == pytest.approx(3)


async def test_folder_changes_are_recorded_at_most_once_a_minute(project: Path) -> None:
    app = make_app(project, FROZEN_NOW + 5 * HOUR)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        app.watcher = object()  # type: ignore[assignment]  # as if watching: _on_watch only acts while it is
        for name in ("OUTPUT/a.png", "OUTPUT/b.png", "OUTPUT/c.png"):
            app.workbench._on_watch(WatchEvent((Change("added", name),), reconciled=False))
        await wait_for(pilot, lambda: bool(load_activity(project).events))
        await app.workers.wait_for_complete()
        await pilot.pause()
        events = load_activity(project).events
        assert [(e.kind, e.detail) for e in events] == [("folder", "OUTPUT/a.png")]
        # written when the minute is up
        assert app.workbench._activity_pending == ("OUTPUT/c.png", FROZEN_NOW + 5 * HOUR)
        app.watcher = None


async def test_the_checklist_ticks_persist_and_hand_off(project: Path) -> None:
    app = make_app(project)
    steps = load_knowledge().checklist
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("l")
        await wait_for(pilot, lambda: isinstance(app.screen, ChecklistScreen))
        await pilot.press("space", "down", "space")
        state = load_checklist(project)
        assert state.is_ticked(steps[0].id) and state.is_ticked(steps[1].id) and not state.is_ticked(steps[2].id)
        assert state.ticked_at(steps[0].id) == FROZEN_NOW
        status = rendered(app.screen.query_one("#checklist-status", Static).content)
        assert "2 of 7 done" in status and steps[2].text in status
        await pilot.press("escape")
        await pilot.press("l")
        await wait_for(pilot, lambda: isinstance(app.screen, ChecklistScreen))
        options = app.screen.query_one(OptionList)
        assert options.highlighted == 2  # opens on the next step to do
        assert "[x]" in str(options.get_option_at_index(0).prompt)
        await pilot.press("up", "up", "o")  # "save your prompt" goes to the composer
        await wait_for(pilot, lambda: not isinstance(app.screen, ChecklistScreen))
        assert app.focused is app.query_one(ComposerPane) or app.query_one(ComposerPane).has_focus_within


async def test_the_checklist_says_where_the_diagnosed_symptom_sits(project: Path) -> None:
    app = make_app(project)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_diagnosis(app, pilot, "Unusual activity has been detected from your device. Try again later.")
        assert memory_of(app).symptom_id == "unusual_activity"
        back_to_workbench(app)
        await settle(app, pilot)
        await pilot.press("l")
        await wait_for(pilot, lambda: isinstance(app.screen, ChecklistScreen))
        notes = rendered(app.screen.query_one("#checklist-notes", Static).content)
        assert "Unusual activity detected" in notes and "VPN" in notes


async def test_the_checklist_clears_for_a_new_problem(project: Path) -> None:
    app = make_app(project)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("l")
        await wait_for(pilot, lambda: isinstance(app.screen, ChecklistScreen))
        await pilot.press("space", "x")
        assert load_checklist(project).done(step.id for step in load_knowledge().checklist) == 0


async def test_the_support_report_is_built_copied_and_saved(project: Path, no_native_clipboard: None,
                                                            isolated_config: Path) -> None:
    write(isolated_config / "config.toml", '[diagnose]\naccount_email = "ana@example.com"\n')
    app = make_app(project)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_diagnosis(app, pilot, "Error 429: Too Many Requests")
        await pilot.press("escape")
        await pilot.press("l", "space", "escape")  # one checklist step done
        await pilot.press("S")
        await wait_for(pilot, lambda: isinstance(app.screen, SupportScreen))
        screen = app.screen
        assert isinstance(screen, SupportScreen)
        screen.set_scope("all_chats")
        await pilot.pause()
        preview = rendered(screen.query_one("#support-preview", Static).content, 120)
        for expected in ("> Error 429: Too Many Requests", "Account: ana@example.com", "in every chat I try",
                         "2026-03-02 12:00:00 UTC", load_knowledge().checklist[0].text, "Liferaft 0.1.0"):
            assert expected in preview
        assert "(all chats)" in preview.splitlines()[0]
        await pilot.press("ctrl+y")
        await wait_for(pilot, lambda: screen.delivered is not None)
        saved = list((project / "RESTART" / "prompts").glob("*-support-report.md"))
        assert len(saved) == 1 and saved[0].read_text(encoding="utf-8") == screen.text
        assert app.clipboard == screen.text  # no native clipboard here: it went to the terminal, like the prompt
        assert any("support report" in n.message and "saved as" in n.message for n in app._notifications)


async def test_a_key_in_the_pasted_error_is_masked_in_the_report(project: Path, no_native_clipboard: None) -> None:
    key = "AKIA" + "Q3EGRF5LT7XPJ2NB"  # an AWS access key id's shape (split: no real key in the source)
    app = make_app(project)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_diagnosis(app, pilot, f"Error 429: Too Many Requests (aws_access_key_id={key})")
        await pilot.press("escape", "S")
        await wait_for(pilot, lambda: isinstance(app.screen, SupportScreen))
        screen = app.screen
        assert isinstance(screen, SupportScreen)
        await pilot.press("ctrl+y")
        await wait_for(pilot, lambda: screen.delivered is not None)
        saved = next((project / "RESTART" / "prompts").glob("*-support-report.md")).read_text(encoding="utf-8")
        assert key not in saved and key not in (app.clipboard or "") and "REDACTED" in saved
        assert any("masked" in n.message for n in app._notifications)


# --- the status page, against a local server only -------------------------------------------------------------


@pytest.fixture
def status_server() -> Iterator[str]:
    body = json.dumps({
        "page": {"name": "Test"}, "status": {"indicator": "major", "description": "Major outage"},
        "components": [{"name": "ChatGPT", "status": "major_outage"}],
        "incidents": [{"name": "Elevated errors on file uploads", "status": "investigating", "impact": "major"}],
    }).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api/v2/summary.json"
    server.shutdown()
    server.server_close()


async def test_the_status_check_runs_in_the_background_and_shows_an_outage(project: Path, status_server: str,
                                                                         isolated_config: Path) -> None:
    write(isolated_config / "config.toml", f'[diagnose]\nstatus_url = "{status_server}"\n')
    app = make_app(project)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_diagnosis(app, pilot, "Internal Server Error")
        screen.query_one(OptionList).focus()
        await pilot.press("s")
        await wait_for(pilot, lambda: "DOWN" in screen_text(app, "#diagnose-evidence"))
        evidence = screen_text(app, "#diagnose-evidence")
        assert "Elevated errors on file uploads" in evidence and "save your prompt and wait" in evidence


async def test_a_refused_status_check_says_unknown(project: Path, isolated_config: Path) -> None:
    import socket

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    write(isolated_config / "config.toml", f'[diagnose]\nstatus_url = "http://127.0.0.1:{port}/summary.json"\n')
    app = make_app(project)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_diagnosis(app, pilot)
        screen.query_one(OptionList).focus()
        await pilot.press("s")
        await wait_for(pilot, lambda: "UNKNOWN" in screen_text(app, "#diagnose-evidence"))
        assert "yourself" in screen_text(app, "#diagnose-evidence")


# --- snapshots -------------------------------------------------------------------------------------------------


def test_diagnose_screen_snapshot(snap_compare, fixed_project: Path) -> None:
    async def paste(pilot) -> None:  # type: ignore[no-untyped-def]
        app = pilot.app
        await settle(app, pilot)
        await wait_for(pilot, lambda: app.plan is not None and bool(app.plan.checks))
        screen = await open_diagnosis(app, pilot, "Code interpreter session expired")
        # The evidence shows the finished upload check (the screen looks for it twice a second).
        await wait_for(pilot, lambda: screen._evidence_plan is not None and screen._evidence_plan is app.plan)
        box = screen.query_one(TextArea)
        box.focus()  # where the user pasted: the cursor is drawn there
        await wait_for(pilot, lambda: box.has_focus)
        await pilot.pause()

    assert snap_compare(make_app(fixed_project), terminal_size=(100, 30), run_before=paste)


def test_checklist_screen_snapshot(snap_compare, fixed_project: Path) -> None:
    async def tick(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot.app, pilot)
        await pilot.press("l", "space", "down")
        await pilot.pause()

    assert snap_compare(make_app(fixed_project), terminal_size=(100, 30), run_before=tick)

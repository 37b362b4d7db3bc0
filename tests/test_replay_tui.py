"""The replay screen (R, or the palette's "Replay the code…"): the plan first, nothing run before enter, live
progress, the choice after an error (edit, skip, stop), interrupting, accepting the results. The run is a fake
(``session.run_replay``, the environment and the results are swapped for stand-ins): no kernel is started."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Checkbox, DataTable, Label, ProgressBar, RichLog, Static, TextArea

from liferaft.core.replay import prepare, sandbox, session
from liferaft.core.replay.prepare import Needs
from liferaft.core.replay.session import CellRecord, Hooks, ReplayPlan, ReplayResult
from liferaft.tui.app import LiferaftApp
from liferaft.tui.screens import replay as replay_screen
from liferaft.tui.screens.replay import ReplayScreen, ResultLine
from tests.conftest import FROZEN_NOW, HANG, write
from tests.test_prepare_tui import wait_for
from tests.test_tui import settle

SCRIPT = '''"""Recovered from the chat "Sales review"."""
from pathlib import Path
SOURCE = Path("SOURCE")

# %% Cell 1 · load the orders
import pandas as pd
orders = pd.read_csv(SOURCE / "orders_2025.csv")
print(orders.shape)
# In the chat it printed:
#   (2, 3)

# %% Cell 2 · revenue by region
by_region = orders.groupby("region")["revenue"].sum()
{cell3}
# %% Cell 4 · save
by_region.to_csv("revenue_by_region.csv")
'''
FAILING = '\n# %% Cell 3 · the chart\nraise ValueError("boom")\n'
HANGING = '\n# %% Cell 3 · the long one\nimport time; time.sleep(3600)\n'
NO_SANDBOX = "bubblewrap is not installed (install the 'bubblewrap' package to sandbox replays)"
STAMP = "2026-03-02_120000"


def script_in(root: Path, cell3: str = FAILING) -> Path:
    return write(root / "CODE" / "recovered" / "sales-review.py", SCRIPT.replace("{cell3}", cell3), FROZEN_NOW)


class FakeRun:
    """``session.run_replay`` without a kernel: each cell "runs" at once and prints a line; a cell that raises
    asks the front end what to do; a cell that sleeps waits until it is interrupted."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.codes: list[str] = []
        self.decisions: list[str] = []
        self.waiting = threading.Event()

    def __call__(self, plan: ReplayPlan, python: Path, *, sandboxed: bool, cell_timeout: float = 600.0,
                 hooks: Hooks | None = None, folder: Path | None = None) -> ReplayResult:
        assert hooks is not None
        self.calls.append({"python": python, "sandboxed": sandboxed, "script": plan.script})
        folder = plan.project / "OUTPUT" / "replayed" / STAMP
        folder.mkdir(parents=True, exist_ok=True)
        result = ReplayResult(plan, folder, sandboxed, "3.11.9", seconds=4.2)
        hooks.on_status("starting the kernel…")
        chosen = plan.chosen
        for at, cell in enumerate(chosen, start=1):
            code, edited = cell.code, False
            while True:
                hooks.on_cell_start(cell, at, len(chosen))
                self.codes.append(code)
                if "time.sleep" in code:
                    self.waiting.set()
                    hooks.stop.wait(HANG)
                    record = CellRecord(cell.number, cell.label, cell.first_line, "interrupted", 1.0, code,
                                        error="stopped by you")
                    result.cells.append(record)
                    hooks.on_cell_end(record)
                    result.stopped = "interrupted"
                    return result
                if "raise" in code:
                    record = CellRecord(cell.number, cell.label, cell.first_line, "error", 0.1, code, edited,
                                        error="ValueError: boom",
                                        traceback=["Traceback (most recent call last):",
                                                   'Cell In[4], line 1: raise ValueError("boom")',
                                                   "ValueError: boom"],
                                        diagnosis="An error in the code: fix the cell and run it again")
                    choice, new_code = hooks.on_error(record, cell)
                    self.decisions.append(choice)
                    if choice == "retry" and new_code is not None:
                        code, edited = new_code, True
                        continue
                    if choice == "skip":
                        record.status = "error, skipped"
                        break
                    result.cells.append(record)
                    hooks.on_cell_end(record)
                    result.stopped = f"stopped at {cell.label}"
                    return result
                hooks.on_output(cell, {"output_type": "stream", "name": "stdout", "text": f"ran {cell.label}\n"})
                output = "(2, 3)\n" if cell.number == 1 else f"ran {cell.label}\n"
                record = CellRecord(cell.number, cell.label, cell.first_line, "ok", 0.5, code, edited, output,
                                    cell.chat_output)
                break
            result.cells.append(record)
            hooks.on_cell_end(record)
        return result


NEEDS = Needs(("pandas==2.2.3", "matplotlib==3.9.2"), ["pandas 2.2.3", "matplotlib 3.9.2"], ["salesutils"],
              ["ace_tools"], None, False)
ROWS = [ResultLine("monthly_trend.png", "regenerated (missing from OUTPUT)", True),
        ResultLine("sales_2025_cleaned.csv", "matches (1,204 rows × 6 columns, same sums)"),
        ResultLine("revenue_by_region.png", "differs: 800×600 here, 1000×600 saved"),
        ResultLine("summary.xlsx", "not regenerated")]


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeRun:
    """The replay's heavy parts swapped for stand-ins: no bubblewrap probe, no environment, no kernel."""
    run = FakeRun()
    monkeypatch.setattr(sandbox, "unavailable", lambda: None)
    monkeypatch.setattr(prepare, "requirements_for", lambda plan, cells=None: NEEDS)
    monkeypatch.setattr(prepare, "environment_for", lambda needs, progress=None, cancel=None: Path("/env/python"))
    monkeypatch.setattr(session, "run_replay", run)
    monkeypatch.setattr(replay_screen, "results_rows", lambda project, folder: list(ROWS))
    return run


def make_app(root: Path) -> LiferaftApp:
    return LiferaftApp(root, now=lambda: FROZEN_NOW, theme="textual-dark")


def text_of(app: LiferaftApp, selector: str) -> str:
    widget = app.screen.query_one(selector)
    if isinstance(widget, Label | Static):
        content = widget.render()
        plain = getattr(content, "plain", None)
        if plain is not None:
            return str(plain)
        from io import StringIO

        from rich.console import Console

        console = Console(width=200, record=True, file=StringIO())
        console.print(widget.content)  # type: ignore[attr-defined]
        return console.export_text()
    raise AssertionError(selector)


def log_text(app: LiferaftApp) -> str:
    return "\n".join(strip.text for strip in app.screen.query_one("#replay-log", RichLog).lines)


async def open_replay(app: LiferaftApp, pilot, script: Path | None = None) -> ReplayScreen:  # type: ignore[no-untyped-def]
    await settle(app, pilot)
    assert app.project is not None
    app.push_screen(ReplayScreen(app.project.root, script))
    await wait_for(pilot, lambda: isinstance(app.screen, ReplayScreen) and app.screen._state != "planning")
    screen = app.screen
    assert isinstance(screen, ReplayScreen)
    return screen


async def test_the_plan_is_shown_and_nothing_runs_before_enter(project: Path, fake: FakeRun) -> None:
    script_in(project)
    app = make_app(project)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_replay(app, pilot)
        assert screen._state == "plan"
        plan = text_of(app, "#replay-plan-body")
        assert "CODE/recovered/sales-review.py" in plan
        assert "4 of 4" in plan and "setup cell" in plan
        assert "Sandbox" in plan and "yes" in plan
        assert "pandas 2.2.3, matplotlib 3.9.2" in plan and "to install" in plan
        assert "salesutils" in plan and "never installed" in plan
        assert not screen.query_one("#replay-unsandboxed").display
        await pilot.pause(0.2)
        assert fake.calls == []  # shown, not run
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen._state == "error")
        assert fake.calls == [{"python": Path("/env/python"), "sandboxed": True,
                               "script": project / "CODE/recovered/sales-review.py"}]


async def test_without_a_sandbox_it_runs_only_once_the_box_is_ticked(project: Path, fake: FakeRun,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox, "unavailable", lambda: NO_SANDBOX)
    script_in(project, HANGING.replace("import time; time.sleep(3600)", "x = 1"))
    app = make_app(project)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_replay(app, pilot)
        assert "not available here" in text_of(app, "#replay-plan-body")
        assert "bubblewrap is not installed" in text_of(app, "#replay-plan-body")
        box = screen.query_one("#replay-unsandboxed", Checkbox)
        assert box.display and app.focused is box and not box.value
        await pilot.press("enter")  # enter on the box does not tick it, and does not run
        await pilot.pause(0.2)
        assert fake.calls == [] and not box.value and screen._state == "plan"
        assert "tick the box" in text_of(app, "#replay-message")
        await pilot.press("space")
        assert box.value
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen._state == "done")
        assert fake.calls[0]["sandboxed"] is False
        assert "not sandboxed" in text_of(app, "#replay-summary")


async def test_progress_and_the_log_show_each_cell_beside_the_chat(project: Path, fake: FakeRun,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    script_in(project, "")
    app = make_app(project)
    async with app.run_test(size=(120, 40)) as pilot:
        seen: list[str] = []
        original = ReplayScreen.on_replay_cell_started

        def spy(self: ReplayScreen, message) -> None:  # type: ignore[no-untyped-def]
            original(self, message)
            seen.append(str(self.query_one("#replay-progress-label", Label).render()))

        monkeypatch.setattr(ReplayScreen, "on_replay_cell_started", spy)
        screen = await open_replay(app, pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen._state == "done")
        assert seen[1].startswith("cell 2 of 4 · Cell 1 · import pandas as pd")
        assert seen[-1].startswith("cell 4 of 4 · Cell 4 · by_region.to_csv(")
        assert " s  (total " in seen[-1]
        bar = screen.query_one("#replay-bar", ProgressBar)
        assert bar.progress == bar.total == 4
        log = log_text(app)
        assert "✓ Cell 1" in log and "in the chat" in log and "(2, 3)" in log and "✓ Cell 4" in log
        summary = text_of(app, "#replay-summary")
        assert "Replayed 3 cells in 4.2 s" in summary and "sandboxed, Python 3.11.9" in summary
        assert f"OUTPUT/replayed/{STAMP}/" in summary
        table = screen.query_one("#replay-table", DataTable)
        assert table.row_count == 4
        assert [str(table.get_row_at(i)[0]) for i in range(4)] == [row.name for row in ROWS]
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, ReplayScreen))


async def test_an_error_offers_edit_skip_and_stop(project: Path, fake: FakeRun) -> None:
    script_in(project)
    app = make_app(project)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_replay(app, pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen._state == "error")
        failure = text_of(app, "#replay-failure-body")
        assert "Cell 3 failed" in failure and "ValueError: boom" in failure
        assert 'raise ValueError("boom")' in failure and "Reading: An error in the code" in failure
        # edit: the cell's code in the editor; esc goes back to the choices; e again, change it, ctrl+r
        await pilot.press("e")
        editor = screen.query_one("#replay-editor", TextArea)
        assert screen._state == "editing" and app.focused is editor
        assert editor.text.strip() == 'raise ValueError("boom")'
        await pilot.press("escape")
        assert screen._state == "error" and fake.decisions == []
        await pilot.press("e")
        editor.text = "chart = 'fixed'\n"
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: screen._state == "done")
        assert fake.decisions == ["retry"]
        assert "chart = 'fixed'\n" in fake.codes
        assert "✓ Cell 3" in log_text(app) and "edited" in log_text(app)


async def test_skip_goes_on_and_stop_keeps_what_ran(project: Path, fake: FakeRun) -> None:
    script_in(project)
    app = make_app(project)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_replay(app, pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen._state == "error")
        await pilot.press("s")
        await wait_for(pilot, lambda: screen._state == "done")
        assert fake.decisions == ["skip"]
        assert "↷ Cell 3" in log_text(app) and "✓ Cell 4" in log_text(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, ReplayScreen))
        screen = await open_replay(app, pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen._state == "error")
        await pilot.click("#replay-stop-button")
        await wait_for(pilot, lambda: screen._state == "done")
        assert fake.decisions == ["skip", "stop"]
        assert "stopped at Cell 3" in text_of(app, "#replay-summary")
        assert "1 failed" in text_of(app, "#replay-summary")
        assert "Cell 4" not in log_text(app)


async def test_closing_while_asked_answers_stop(project: Path, fake: FakeRun) -> None:
    script_in(project)
    app = make_app(project)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_replay(app, pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen._state == "error")
        await pilot.press("escape")  # interrupts: the waiting worker is answered "stop"
        await wait_for(pilot, lambda: screen._state == "done")
        assert fake.decisions == ["stop"]
        assert screen._hooks is not None and screen._hooks.stop.is_set()


async def test_a_screen_taken_away_while_asked_answers_stop(project: Path, fake: FakeRun) -> None:
    script_in(project)
    app = make_app(project)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_replay(app, pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen._state == "error")
        await app.pop_screen()  # not through esc: the app closing it, say
        await wait_for(pilot, lambda: fake.decisions == ["stop"])
        assert screen._hooks is not None and screen._hooks.stop.is_set()


async def test_esc_interrupts_the_running_cell_and_keeps_what_ran(project: Path, fake: FakeRun) -> None:
    script_in(project, HANGING)
    app = make_app(project)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_replay(app, pilot)
        await pilot.press("enter")
        await wait_for(pilot, fake.waiting.is_set)
        await wait_for(pilot, lambda: "Cell 3" in str(screen.query_one("#replay-progress-label", Label).render()))
        assert screen._state == "running"
        await pilot.press("ctrl+c")
        await wait_for(pilot, lambda: screen._state == "done")
        summary = text_of(app, "#replay-summary")
        assert "interrupted" in summary and "Replayed 3 cells" in summary
        log = log_text(app)
        assert "✓ Cell 1" in log and "✓ Cell 2" in log and "✗ Cell 3" in log and "interrupted" in log
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, ReplayScreen))


async def test_a_accepts_the_regenerated_outputs(project: Path, fake: FakeRun, monkeypatch: pytest.MonkeyPatch) -> None:
    script_in(project, "")
    accepted: list[Path] = []

    def accept(root: Path, folder: Path) -> tuple[list[Path], list[Path]]:
        accepted.append(folder)
        return [root / "OUTPUT" / "monthly_trend.png"], [root / "OUTPUT" / "replayed" / STAMP / "summary.xlsx"]

    monkeypatch.setattr(replay_screen, "accept_outputs", accept)
    app = make_app(project)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_replay(app, pilot)
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen._state == "done")
        assert "a moves the regenerated missing outputs" in text_of(app, "#replay-accept-hint")
        await pilot.press("a")
        await wait_for(pilot, lambda: bool(accepted) and screen._accepted)
        assert accepted == [project / "OUTPUT" / "replayed" / STAMP]
        messages = [n.message for n in app._notifications]
        assert any("Moved into OUTPUT: OUTPUT/monthly_trend.png" in m and "summary.xlsx" in m for m in messages)
        # The moved output's row says where it went (it is no longer in the replay folder to be compared).
        table = app.screen.query_one("#replay-table", DataTable)
        await wait_for(pilot, lambda: "accepted" in str(table.get_row_at(0)[1]))
        await pilot.press("a")  # once only
        await pilot.pause(0.1)
        assert len(accepted) == 1


async def test_R_on_a_script_and_the_palette_open_the_screen(project: Path, fake: FakeRun) -> None:
    other = write(project / "CODE" / "extra.py", "x = 1\n\ny = 2\n", FROZEN_NOW)
    script_in(project, "")
    app = make_app(project)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        from liferaft.tui.widgets.project_pane import ProjectPane

        pane = app.query_one(ProjectPane)
        pane.focus()
        for _ in range(pane.last_line + 1):
            if pane.selected_record is not None and pane.selected_record.name == "extra.py":
                break
            await pilot.press("down")
        assert pane.selected_record is not None and pane.selected_record.path == "CODE/extra.py"
        await pilot.press("R")
        await wait_for(pilot, lambda: isinstance(app.screen, ReplayScreen) and app.screen._state == "plan")
        assert "CODE/extra.py" in text_of(app, "#replay-plan-body")
        assert "2 of 2" in text_of(app, "#replay-plan-body")
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, ReplayScreen))
        assert fake.calls == [] and other.exists()
        # The palette's entry, with a file that is no script selected: the default (newest recovered) script.
        while pane.selected_record is None or pane.selected_record.name != "orders_2025.csv":
            await pilot.press("up")
        entries = [c for c in app.get_system_commands(app.screen) if c.title.startswith("Project: Replay the code…")]
        assert entries and "(R, project pane)" in entries[0].title
        await entries[0].callback()
        await wait_for(pilot, lambda: isinstance(app.screen, ReplayScreen) and app.screen._state == "plan")
        assert "CODE/recovered/sales-review.py" in text_of(app, "#replay-plan-body")


async def test_nothing_to_replay_says_so(project: Path, fake: FakeRun) -> None:
    app = make_app(project)  # CODE/ holds clean.py only: that one is the default
    (project / "CODE" / "clean.py").unlink()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_replay(app, pilot)
        assert screen._state == "failed"
        assert "no script to replay in CODE/" in text_of(app, "#replay-plan-body")
        await pilot.press("enter")
        await pilot.pause(0.1)
        assert fake.calls == []


# --- snapshots ----------------------------------------------------------------------------------------------

def _open_at(state: str):  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        app = pilot.app
        await settle(app, pilot)
        app.push_screen(ReplayScreen(app.project.root))
        await wait_for(pilot, lambda: isinstance(app.screen, ReplayScreen) and app.screen._state == "plan")
        if state == "done":
            app.screen.query_one("#replay-unsandboxed", Checkbox).value = True
            await pilot.press("enter")
            await wait_for(pilot, lambda: app.screen._state == "done")
            # The table and the log are filled by messages after the state changes: wait for both, then for
            # every refresh they asked for, so a loaded machine draws the same picture.
            await wait_for(pilot, lambda: app.screen.query_one("#replay-table", DataTable).row_count > 0)
            log = app.screen.query_one("#replay-log", RichLog)
            await wait_for(pilot, lambda: len(log.lines) > 0)
            await pilot.wait_for_scheduled_animations()
            # The log scrolls to its end after a refresh of its own: the picture is taken once it is there.
            await wait_for(pilot, lambda: log.virtual_size.height >= len(log.lines)
                           and log.scroll_y == log.max_scroll_y)
        await pilot.pause()
        await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_replay_plan_snapshot(snap_compare, fixed_project: Path, fake: FakeRun,  # type: ignore[no-untyped-def]
                              monkeypatch: pytest.MonkeyPatch, size: tuple[int, int]) -> None:
    monkeypatch.setattr(sandbox, "unavailable", lambda: NO_SANDBOX)
    script_in(fixed_project, "")
    assert snap_compare(make_app(fixed_project), terminal_size=size, run_before=_open_at("plan"))


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_replay_finished_snapshot(snap_compare, fixed_project: Path, fake: FakeRun,  # type: ignore[no-untyped-def]
                                  monkeypatch: pytest.MonkeyPatch, size: tuple[int, int]) -> None:
    monkeypatch.setattr(sandbox, "unavailable", lambda: NO_SANDBOX)
    script_in(fixed_project, "")
    assert snap_compare(make_app(fixed_project), terminal_size=size, run_before=_open_at("done"))


def test_the_screens_results_and_accept_use_the_real_results_module(tmp_path: Path, run_cli) -> None:
    """The screen's two adapters over core/replay/results.py, on the demo with a replay folder made by hand (the
    screen's other tests fake them; this one keeps them honest)."""
    from liferaft.core.replay.session import REPLAYED_DIR

    project = tmp_path / "demo"
    assert run_cli("demo", "--no-open", str(project)).returncode == 0
    folder = project / "OUTPUT" / REPLAYED_DIR / "2026-12-07_120000"
    folder.mkdir(parents=True)
    (folder / "monthly_trend.png").write_bytes((project / "OUTPUT" / "revenue_by_region.png").read_bytes())
    (folder / "sales_2025_cleaned.csv").write_bytes((project / "OUTPUT" / "sales_2025_cleaned.csv").read_bytes())
    rows = {row.name: row for row in replay_screen.results_rows(project, folder)}
    assert rows["monthly_trend.png"].acceptable
    table = rows["sales_2025_cleaned.csv"]
    assert table.verdict.startswith("matches") and not table.acceptable
    moved, _kept = replay_screen.accept_outputs(project, folder)
    assert [path.as_posix() for path in moved] == ["OUTPUT/monthly_trend.png"]
    assert (project / "OUTPUT" / "monthly_trend.png").is_file()

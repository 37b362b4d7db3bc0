"""The replay's log keeps its end in view when the box around it shrinks (a CI run at 80x24 caught it showing
its first lines after the results table filled in above it), and leaves a reader who scrolled up alone."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from liferaft.tui.widgets.tail_log import TailLog
from tests.test_prepare_tui import wait_for


class LogBelowATable(App[None]):
    CSS = "#above { height: auto; } TailLog { height: 1fr; }"

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("", id="above")
            yield TailLog(id="log")


async def _written(app: LogBelowATable, pilot, lines: int) -> TailLog:  # type: ignore[no-untyped-def]
    log = app.query_one(TailLog)
    for number in range(lines):
        log.write(f"line {number}")
    await wait_for(pilot, lambda: log.max_scroll_y > 0 and log.scroll_y == log.max_scroll_y)
    return log


async def test_a_log_at_its_end_stays_there_when_its_box_shrinks() -> None:
    app = LogBelowATable()
    async with app.run_test(size=(40, 20)) as pilot:
        log = await _written(app, pilot, 30)
        height = log.size.height
        app.query_one("#above", Static).update("\n".join(f"row {n}" for n in range(8)))
        await wait_for(pilot, lambda: log.size.height < height)
        await wait_for(pilot, lambda: log.scroll_y == log.max_scroll_y)
        assert log.max_scroll_y > 0


async def test_a_reader_who_scrolled_up_is_left_where_they_are() -> None:
    app = LogBelowATable()
    async with app.run_test(size=(40, 20)) as pilot:
        log = await _written(app, pilot, 30)
        height = log.size.height
        log.scroll_to(y=3, animate=False)
        await wait_for(pilot, lambda: log.scroll_y == 3)
        app.query_one("#above", Static).update("\n".join(f"row {n}" for n in range(8)))
        await wait_for(pilot, lambda: log.size.height < height)
        await pilot.pause()
        await pilot.pause()
        assert log.scroll_y == 3

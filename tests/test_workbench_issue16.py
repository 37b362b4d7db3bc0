"""The workbench as a newcomer met it (issue 16): readable at 80x24, what is at risk one key away, what a
checkpoint bought, and saved prompts folded into one row."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.style import Style
from textual.widgets import Static

from liferaft.core import clipboard
from liferaft.core.clipboard import CopyResult
from liferaft.core.scan import FileRecord
from liferaft.tui.app import LiferaftApp
from liferaft.tui.screens.risk import RiskScreen
from liferaft.tui.widgets.project_pane import ProjectPane, SavedPrompts
from tests.conftest import FROZEN_NOW, _fixed_folder, write
from tests.test_prepare_tui import rendered, wait_for
from tests.test_tui import settle

PARTS = [f"transactions_2025.part{n}.csv" for n in range(1, 5)]


def _demo_with_parts(root: Path) -> Path:
    """The demo, split into four parts as `p` does, every file an hour old (ages in snapshots stay put)."""
    for number, name in enumerate(PARTS, 1):
        write(root / "SOURCE" / "prepared" / name, "order_id,region\n" + f"{number},North\n" * 50)
    for folder, _dirs, files in os.walk(root):
        for name in files:
            os.utime(Path(folder) / name, (FROZEN_NOW - 3600, FROZEN_NOW - 3600))
    return root


@pytest.fixture
def demo(tmp_path: Path, copy_demo) -> Path:  # type: ignore[no-untyped-def]
    return _demo_with_parts(copy_demo(tmp_path / "demo", big_csv_mb=1))


@pytest.fixture
def fixed_demo(copy_demo) -> Iterator[Path]:  # type: ignore[no-untyped-def]
    """The same at a fixed path, for snapshots (the header shows the path)."""
    with _fixed_folder("demo") as root:
        yield _demo_with_parts(copy_demo(root, big_csv_mb=1))


def make_app(root: Path) -> LiferaftApp:
    return LiferaftApp(root, now=lambda: FROZEN_NOW, theme="textual-dark")


def rows(app: LiferaftApp) -> list[str]:
    pane = app.query_one(ProjectPane)
    return [pane.render_label(node, Style(), Style()).plain
            for node in (pane.get_node_at_line(line) for line in range(pane.last_line + 1)) if node is not None]


def status(app: LiferaftApp) -> str:
    return rendered(app.query_one("#status").content, 300)  # type: ignore[attr-defined]


# --- A: 80x24 is readable ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [(80, 24), (100, 30), (120, 36), (200, 60)])
async def test_split_parts_and_badges_read_at_every_size(demo: Path, size: tuple[int, int]) -> None:
    app = make_app(demo)
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        await wait_for(pilot, lambda: app.risk is not None and app.plan is not None and bool(app.plan.checks))
        await pilot.pause()
        shown = rows(app)
        for number in range(1, 5):  # the four parts can be told apart: their part numbers show
            assert sum(f"part{number}.csv" in row for row in shown) == 1, shown
        final2 = next(row for row in shown if "final2.csv" in row)
        assert "!" in final2 or "warn" in final2  # the badge is there
        assert any("SOURCE" in row and "9 files" in row for row in shown)
        if size[0] >= 200:
            assert any("transactions_2025.part1.csv" in row for row in shown), shown  # room enough: uncut
        text = status(app)
        assert "missing" in text and ("(w)" in text or "w: what to do" in text)
        title = app.query_one("#diagnosis").border_title or ""
        assert "…" not in str(title)


async def test_a_narrow_lower_pane_is_a_sliver_with_a_short_word(demo: Path) -> None:
    app = make_app(demo)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("4")  # the composer: the diagnosis shrinks beside it
        await pilot.pause()
        diagnosis = app.query_one("#diagnosis")
        assert diagnosis.has_class("-sliver") and not app.query_one("#composer").has_class("-sliver")
        assert not diagnosis.query_one(".pane-body").display
        assert diagnosis.query_one(".pane-sliver").display
        await pilot.press("1")
        await pilot.pause()
        assert not diagnosis.has_class("-sliver")


# --- B: what is at risk, one key or a click away -----------------------------------------------------------------


async def test_w_lists_what_is_at_risk_with_what_to_do(demo: Path) -> None:
    app = make_app(demo)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await wait_for(pilot, lambda: app.risk is not None)
        await pilot.press("w")
        await wait_for(pilot, lambda: isinstance(app.screen, RiskScreen))
        text = rendered(app.screen.query_one("#risk-list", Static).content, 76)
        assert "Missing (1)" in text and "monthly_trend.png" in text and "named in: restart note" in text
        assert "Not in a checkpoint (2)" in text and "OUTPUT/revenue_by_region.png" in text
        assert text.count("What to do:") == 2 and "k records a checkpoint" in text
        await pilot.press("k")  # does what it says: a checkpoint, and the list closes
        await wait_for(pilot, lambda: app.risk is not None and app.risk.checkpoints == 1)
        assert not isinstance(app.screen, RiskScreen)
        await pilot.click("#status")  # the at-risk line is clickable
        await wait_for(pilot, lambda: isinstance(app.screen, RiskScreen))
        text = rendered(app.screen.query_one("#risk-list", Static).content, 76)
        assert "Not in a checkpoint" not in text and "monthly_trend.png" in text
        await pilot.press("escape")
        assert not isinstance(app.screen, RiskScreen)


async def test_the_output_group_names_its_missing_outputs(demo: Path) -> None:
    from tests.test_tui import details_text

    app = make_app(demo)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await wait_for(pilot, lambda: app.risk is not None)
        pane = app.query_one(ProjectPane)
        line = next(n for n in range(pane.last_line + 1) if pane.get_node_at_line(n).data.__class__.__name__ == "Role"
                    and pane.get_node_at_line(n).data.value == "output")  # type: ignore[union-attr]
        pane.cursor_line = line
        await pilot.pause()
        text = details_text(app)
        assert "Missing (1)" in text and "monthly_trend.png" in text


def test_the_at_risk_key_is_in_the_palette_help_and_readme() -> None:
    from liferaft.tui.commands import BY_ID
    from liferaft.tui.screens.help import help_content

    assert BY_ID["app.show_risk"].keys == "w" and BY_ID["app.show_risk"].palette
    assert "app.show_risk" in rendered(help_content({}), 140)
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    assert "| `w` or click the status line |" in readme


# --- C: what a checkpoint bought --------------------------------------------------------------------------------


async def test_the_first_checkpoint_says_what_is_safe_and_what_is_not(demo: Path) -> None:
    app = make_app(demo)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await wait_for(pilot, lambda: app.risk is not None)
        await pilot.press("k")
        await wait_for(pilot, lambda: any(n.title == "Checkpoint" for n in app._notifications))
        message = next(n.message for n in app._notifications if n.title == "Checkpoint")
        assert message.startswith("Checkpoint 1 saved: ")
        assert "100 %" not in message and "of the work" not in message
        assert "Safe: " in message and "Not yet: monthly_trend.png (only the chat has it" in message


# --- D: copying, and the saved prompts folded into one row -------------------------------------------------------


async def test_copies_fold_into_one_row_and_say_where_in_one_line(demo: Path, monkeypatch: pytest.MonkeyPatch
                                                                  ) -> None:
    monkeypatch.setattr(clipboard, "copy_native", lambda text, timeout=2.0: CopyResult(True, ""))
    times = iter(FROZEN_NOW + n for n in range(0, 100, 2))
    app = LiferaftApp(demo, now=lambda: next(times, FROZEN_NOW + 200), theme="textual-dark")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await wait_for(pilot, lambda: app.query_one("#composer").prompt is not None)  # type: ignore[attr-defined]
        before = len(rows(app))
        for count in range(1, 4):
            await pilot.press("ctrl+y")
            await wait_for(pilot, lambda count=count: len(list((demo / "RESTART/prompts").glob("*.md"))) == count)
            await settle(app, pilot)
        pane = app.query_one(ProjectPane)
        await wait_for(pilot, lambda: any(isinstance(pane.get_node_at_line(n).data, SavedPrompts)  # type: ignore
                                          for n in range(pane.last_line + 1)))
        shown = rows(app)
        assert len(shown) == before + 1  # three copies, one row
        assert any(row.startswith("prompts: 3 saved") for row in shown), shown
        assert not any(isinstance(pane.get_node_at_line(n).data, FileRecord)  # type: ignore[union-attr]
                       and "/prompts/" in pane.get_node_at_line(n).data.path  # type: ignore[union-attr]
                       for n in range(pane.last_line + 1))
        messages = [n.message for n in app._notifications if n.title == "Rerun from scratch prompt"]
        assert messages and all(m == "On the clipboard; a copy is in RESTART/prompts/." for m in messages)
        assert all(len(m) < 60 for m in messages)


# --- snapshots ---------------------------------------------------------------------------------------------------


async def _ready(pilot) -> None:  # type: ignore[no-untyped-def]
    app = pilot.app
    await settle(app, pilot)
    await wait_for(pilot, lambda: app.risk is not None and app.plan is not None and bool(app.plan.checks))
    await settle(app, pilot)


@pytest.mark.xdist_group("fixed-paths")
@pytest.mark.parametrize("size", [(80, 24), (100, 30)], ids=["80x24", "100x30"])
def test_demo_main_screen_snapshot(snap_compare, fixed_demo: Path, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(fixed_demo), terminal_size=size, run_before=_ready)


@pytest.mark.xdist_group("fixed-paths")
@pytest.mark.parametrize("size", [(80, 24), (100, 30)], ids=["80x24", "100x30"])
def test_at_risk_screen_snapshot(snap_compare, fixed_demo: Path, size: tuple[int, int]) -> None:
    async def open_list(pilot) -> None:  # type: ignore[no-untyped-def]
        await _ready(pilot)
        await pilot.press("w")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, RiskScreen))
        await pilot.pause()

    assert snap_compare(make_app(fixed_demo), terminal_size=size, run_before=open_list)


async def test_the_at_risk_list_works_with_the_mouse(demo: Path) -> None:
    """Its key hints are links: a click on "k checkpoint" records one, a click on "esc close" closes it."""
    app = make_app(demo)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await wait_for(pilot, lambda: app.risk is not None)
        await pilot.click("#status")
        await wait_for(pilot, lambda: isinstance(app.screen, RiskScreen))
        await pilot.click("#risk-help", offset=(2, 0))  # "k checkpoint"
        await wait_for(pilot, lambda: app.risk is not None and app.risk.checkpoints == 1)
        assert not isinstance(app.screen, RiskScreen)
        await pilot.click("#status")
        await wait_for(pilot, lambda: isinstance(app.screen, RiskScreen))
        help_text = app.screen.query_one("#risk-help", Static).content
        assert str(help_text) == "esc close"
        await pilot.click("#risk-help", offset=(2, 0))
        await wait_for(pilot, lambda: not isinstance(app.screen, RiskScreen))


def test_the_at_risk_list_shows_control_characters_not_obeys_them() -> None:
    from liferaft.core.risk import MISSING_REASON, Risk, RiskItem
    from liferaft.tui.screens.risk import risk_view

    evil = "\x1b]0;pwned\x07\u202e"
    risk = Risk([RiskItem(f"OUTPUT/a{evil}.csv", f"a{evil}.csv", "no checkpoint yet")],
                [RiskItem(None, f"b{evil}.png", MISSING_REASON, (f"chat export: {evil}",))], [], 0, None)
    text = rendered(risk_view(risk), 200)
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert "chat export: \\e]0;pwned\\x07\\u202e" in text


def test_what_a_checkpoint_bought_shows_missing_names_safely() -> None:
    from types import SimpleNamespace

    from liferaft.core.checkpoints import saved_message

    checkpoint = SimpleNamespace(number=1, files={}, note=None, since_last=None)
    message = saved_message(checkpoint, outputs=0,  # type: ignore[arg-type]
                             missing=["chart\x1b[2J\u202e.png"])
    assert "\x1b" not in message and "\u202e" not in message and "chart\\e[2J\\u202e.png" in message

"""The upload check in the workbench: verdict badges, problems and fixes in the preview, the FILE step in
the diagnosis pane, and the prepare dialog writing fixed copies that the composer then lists."""

from __future__ import annotations

import hashlib
import io
import os
import time
from pathlib import Path

import pytest
from rich.console import Console
from rich.style import Style
from textual.widgets import Input, OptionList, SelectionList, Static

from liferaft.core import clipboard
from liferaft.core.clipboard import CopyResult
from liferaft.core.scan import FileRecord
from liferaft.tui.app import LiferaftApp
from liferaft.tui.screens.prepare import PrepareScreen
from liferaft.tui.widgets.composer_pane import ComposerPane
from liferaft.tui.widgets.diagnosis_pane import DiagnosisPane
from liferaft.tui.widgets.project_pane import ProjectPane
from tests.conftest import FROZEN_NOW, HANG
from tests.test_tui import _select, details_text, make_app


@pytest.fixture
def demo(tmp_path: Path, copy_demo) -> Path:  # type: ignore[no-untyped-def]
    return copy_demo(tmp_path / "demo")  # the real sizes: the transactions file is over the 50 MB limit


@pytest.fixture
def small_demo(tmp_path: Path, copy_demo) -> Path:  # type: ignore[no-untyped-def]
    """The demo with a 1 MB transactions file, for tests about its other files (checking 60 MB takes a while)."""
    return copy_demo(tmp_path / "demo", big_csv_mb=1)


def digests(root: Path) -> dict[str, str]:
    return {str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(root.rglob("*")) if path.is_file() and ".liferaft" not in path.parts}


def rendered(renderable: object, width: int = 100) -> str:
    console = Console(width=width, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def row_text(app: LiferaftApp, name: str) -> str:
    pane = app.query_one(ProjectPane)
    for line in range(pane.last_line + 1):
        node = pane.get_node_at_line(line)
        if node is not None and isinstance(node.data, FileRecord) and node.data.name == name:
            return pane.render_label(node, Style(), Style()).plain
    raise AssertionError(f"no row for {name}")


def pane_text(app: LiferaftApp, pane: type) -> str:
    return rendered(app.query_one(pane).query_one(".pane-body", Static).content)


async def composer_text(app: LiferaftApp, pilot) -> str:  # type: ignore[no-untyped-def]
    """The composer's status lines and prompt, once the prompt is put together."""
    composer = app.query_one(ComposerPane)
    # The gathered context (tables' shapes read in a worker), not the first draft from the file list alone.
    await wait_for(pilot, lambda: composer.context is not None and composer.prompt is not None)
    await pilot.pause()
    return (rendered(composer.query_one("#composer-status", Static).content, 200)
            + rendered(composer.query_one("#composer-text", Static).content, 200))


async def wait_for(pilot, condition, timeout: float = HANG) -> None:  # type: ignore[no-untyped-def]
    """Let the app run until ``condition()`` holds; fail only if it never does (a hang)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"the condition did not hold within {timeout:g} s")
        await pilot.pause(0.02)


async def checked(app: LiferaftApp, pilot) -> None:  # type: ignore[no-untyped-def]
    await wait_for(pilot, lambda: app.plan is not None and bool(app.plan.checks))
    await pilot.pause()


async def open_prepare(app: LiferaftApp, pilot, name: str) -> PrepareScreen:  # type: ignore[no-untyped-def]
    await _select(name)(pilot)
    await checked(app, pilot)
    await pilot.press("p")
    await wait_for(pilot, lambda: isinstance(app.screen, PrepareScreen)
                   and not app.screen.query_one(OptionList).loading
                   and app.screen.query_one(OptionList).option_count > 0)
    screen = app.screen
    assert isinstance(screen, PrepareScreen)
    return screen


async def test_badges_preview_and_diagnosis_show_the_upload_check(demo: Path) -> None:
    app = LiferaftApp(demo, now=lambda: FROZEN_NOW)
    async with app.run_test(size=(160, 48)) as pilot:
        await _select("transactions_2025.csv")(pilot)
        await checked(app, pilot)
        assert " block " in row_text(app, "transactions_2025.csv")
        assert " warn " in row_text(app, "final2.csv")
        assert "block" not in row_text(app, "analysis.py") and "warn" not in row_text(app, "analysis.py")
        details = details_text(app)
        assert "Upload check  BLOCK" in details
        assert "too big to upload" in details and "split it into 2 parts" in details
        assert "p prepares a fixed copy" in details
        diagnosis = pane_text(app, DiagnosisPane)
        assert "1 BLOCKED · 4 to look at · 0 ok" in diagnosis
        assert "✗ transactions_2025.csv: too big to upload" in diagnosis
        composer = await composer_text(app, pilot)
        assert "1 file will not upload as it is: transactions_2025.csv" in composer
        assert "1. transactions_2025.csv (60.3 MB; 611,276 rows × 12 columns" in composer  # the note lists it first


async def test_split_from_the_dialog_replaces_the_original_in_the_composer(
        demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clipboard, "copy_native", lambda text, timeout=2.0: CopyResult(False, "no tool"))
    before = digests(demo)
    app = LiferaftApp(demo, now=lambda: FROZEN_NOW)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_prepare(app, pilot, "transactions_2025.csv")
        options = screen.query_one(OptionList)
        assert "Split into parts of at most 45 MB" in str(options.get_option_at_index(0).prompt)
        assert "recommended" in str(options.get_option_at_index(0).prompt)
        await pilot.press("enter")  # split…
        box = screen.query_one("#prepare-input", Input)
        assert box.has_focus and box.value == "45"
        await pilot.press("enter")  # …at 45 MB
        await wait_for(pilot, lambda: not isinstance(app.screen, PrepareScreen))
        await checked(app, pilot)
        await wait_for(pilot, lambda: bool(app.plan and app.plan.replaced))
        parts = sorted(path.name for path in (demo / "SOURCE/prepared").iterdir() if path.is_file())
        assert parts == ["transactions_2025.part1.csv", "transactions_2025.part2.csv"]
        assert any("Wrote transactions_2025.part1.csv, transactions_2025.part2.csv" in n.message
                   and "instead of transactions_2025.csv, which is unchanged" in n.message
                   for n in app._notifications)
        await wait_for(pilot, lambda: app.query_one(ComposerPane).context is not None and any(
            line.original for line in app.query_one(ComposerPane).context.uploads))
        composer = await composer_text(app, pilot)
        assert "transactions_2025.part1.csv (45.0 MB; " in composer
        assert "1. transactions_2025.csv, uploaded as 2 parts (" in composer  # one table, put back together
        assert "check that it has 611,276 rows" in app.query_one(ComposerPane).prompt.text  # type: ignore[union-attr]
        assert ". transactions_2025.csv (" not in composer
        assert " prepared " in row_text(app, "transactions_2025.csv")
        assert "BLOCKED" not in pane_text(app, DiagnosisPane)
        await pilot.press("ctrl+y")  # no native clipboard here: the terminal gets it, and a copy is saved
        await wait_for(pilot, lambda: app.clipboard != "")
        assert "transactions_2025.part2.csv (" in app.clipboard and ". transactions_2025.csv (" not in app.clipboard
        assert "keep it once" in app.clipboard
        await wait_for(pilot, lambda: any("Sent to the terminal's clipboard" in n.message
                                          for n in app._notifications))
        saved = list((demo / "RESTART/prompts").glob("*-rerun.md"))
        assert len(saved) == 1 and saved[0].read_text() == app.clipboard
    after = digests(demo)
    assert {path: digest for path, digest in after.items() if path in before} == before


async def test_a_clearer_name_is_a_copy_and_the_note_follows(small_demo: Path) -> None:
    original = (small_demo / "SOURCE/final2.csv").read_bytes()
    app = LiferaftApp(small_demo, now=lambda: FROZEN_NOW)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_prepare(app, pilot, "final2.csv")
        assert "Upload it as channel_spend_2025.csv" in str(screen.query_one(OptionList).get_option_at_index(0)
                                                               .prompt)
        await pilot.press("enter")
        label = str(screen.query_one("#prepare-ask-label").content)  # type: ignore[attr-defined]
        assert "the restart note names final2.csv 3 times" in label
        assert screen.query_one("#prepare-input", Input).value == "channel_spend_2025.csv"
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, PrepareScreen))
        await wait_for(pilot, lambda: bool(app.plan and app.plan.replaced and app.plan.checks))
        messages = [n.message for n in app._notifications]
        assert any("The restart note now says channel_spend_2025.csv (3 times)" in m for m in messages), messages
    assert (small_demo / "SOURCE/final2.csv").read_bytes() == original
    assert (small_demo / "SOURCE/prepared/channel_spend_2025.csv").read_bytes() == original
    note = (small_demo / "RESTART/restart-note.md").read_text()
    assert "final2.csv" not in note and "- channel_spend_2025.csv — monthly marketing spend" in note


async def test_title_lines_are_skipped_from_the_dialog(small_demo: Path) -> None:
    """The dialog asks for the lines to skip in those words (not "Upload it as"), and writes the copy."""
    titled = "Quarterly report\nSource: stats office\n\nregion,q,units\n" + "".join(f"R{n},Q1,{n}\n"
                                                                                  for n in range(1, 21))
    (small_demo / "SOURCE/titled.csv").write_text(titled, encoding="utf-8")
    app = LiferaftApp(small_demo, now=lambda: FROZEN_NOW)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_prepare(app, pilot, "titled.csv")
        await pilot.press("enter")
        label = str(screen.query_one("#prepare-ask-label").content)  # type: ignore[attr-defined]
        assert label.startswith("Lines to skip above the header") and "Upload it as" not in label
        assert screen.query_one("#prepare-input", Input).value == "3"
        await pilot.press("enter")
        await wait_for(pilot, lambda: (small_demo / "SOURCE/prepared/titled.skip3.csv").exists())
    assert (small_demo / "SOURCE/prepared/titled.skip3.csv").read_text().startswith("region,q,units\n")


async def test_drop_columns_picks_from_the_header(small_demo: Path) -> None:
    app = LiferaftApp(small_demo, now=lambda: FROZEN_NOW)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_prepare(app, pilot, "survey_responses.csv")
        options = screen.query_one(OptionList)
        index = next(i for i in range(options.option_count)
                     if "without some columns" in str(options.get_option_at_index(i).prompt))
        options.highlighted = index
        await pilot.press("enter")
        columns = screen.query_one(SelectionList)
        assert columns.has_focus and columns.option_count > 2
        await pilot.press("enter")  # nothing ticked yet
        assert "Tick at least one column" in rendered(screen.query_one("#prepare-error", Static).content)
        await pilot.press("space", "enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, PrepareScreen))
    written = list((small_demo / "SOURCE/prepared").glob("*.trimmed.csv"))
    assert len(written) == 1


async def test_esc_closes_the_dialog_and_nothing_is_written(demo: Path) -> None:
    app = LiferaftApp(demo, now=lambda: FROZEN_NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_prepare(app, pilot, "transactions_2025.csv")
        await pilot.press("enter")  # to the part size
        await pilot.press("escape")  # back to the choices
        assert isinstance(app.screen, PrepareScreen)
        assert app.screen.query_one(OptionList).has_focus
        await pilot.press("escape")
        assert not isinstance(app.screen, PrepareScreen)
    assert not (demo / "SOURCE/prepared").exists()


async def test_a_failing_fix_is_said_in_the_dialog(demo: Path) -> None:
    app = LiferaftApp(demo, now=lambda: FROZEN_NOW)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_prepare(app, pilot, "transactions_2025.csv")
        await pilot.press("enter")
        box = screen.query_one("#prepare-input", Input)
        box.value = "lots"
        await pilot.press("enter")
        await wait_for(pilot, lambda: "number of MB" in rendered(screen.query_one("#prepare-error", Static).content))
        assert isinstance(app.screen, PrepareScreen) and screen.query_one(OptionList).has_focus
    assert not (demo / "SOURCE/prepared").exists()


async def test_prepare_without_a_file_selected_says_so(small_demo: Path) -> None:
    app = LiferaftApp(small_demo, now=lambda: FROZEN_NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await checked(app, pilot)
        await pilot.press("p")  # on the SOURCE group row
        await pilot.pause()
        assert not isinstance(app.screen, PrepareScreen)
        assert any("Select a file first" in n.message for n in app._notifications)


def test_prepare_dialog_snapshot(snap_compare, preview_project: Path) -> None:
    async def ready(pilot) -> None:  # type: ignore[no-untyped-def]
        await open_prepare(pilot.app, pilot, "budget_2026.xlsx")
        await pilot.pause()

    assert snap_compare(make_app(preview_project), terminal_size=(100, 30), run_before=ready)


async def test_bad_files_get_a_verdict_and_nothing_to_run(tmp_path: Path) -> None:
    root = tmp_path / "bad"
    (root / "SOURCE").mkdir(parents=True)
    (root / "SOURCE/junk.csv").write_bytes(bytes(range(256)) * 64)
    (root / "SOURCE/empty.csv").write_bytes(b"")
    os.mkfifo(root / "SOURCE/pipe.csv")
    os.symlink(root / "nowhere.csv", root / "SOURCE/dangling.csv")
    before = digests(root)
    app = LiferaftApp(root, now=lambda: FROZEN_NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_prepare(app, pilot, "junk.csv")
        assert "cannot read" in rendered(screen.query_one("#prepare-check", Static).content)
        option = screen.query_one(OptionList).get_option_at_index(0)
        assert option.disabled and "Nothing Liferaft can prepare" in str(option.prompt)
        await pilot.press("enter", "escape")
        assert not isinstance(app.screen, PrepareScreen)
        assert " block " in row_text(app, "junk.csv")
        assert "BLOCKED" in pane_text(app, DiagnosisPane)
    assert digests(root) == before


async def test_a_cancelled_fix_that_left_a_held_file_says_which(demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On Windows a file another program holds open cannot be taken back: the dialog names it, not "nothing
    was written" (core's FixCancelled says which; the fix itself is stood in for here)."""
    from liferaft.core.operations import FixCancelled
    from liferaft.tui.screens import prepare as prepare_screen

    held = demo / "SOURCE" / "prepared" / "customers_eu.comma.csv"

    def cancelled_with_a_held_file(*_args: object, **_kwargs: object) -> None:
        raise FixCancelled(leftovers=[held])

    monkeypatch.setattr(prepare_screen, "prepare_fix", cancelled_with_a_held_file)
    app = LiferaftApp(demo, now=lambda: FROZEN_NOW)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_prepare(app, pilot, "customers_eu.csv")
        await pilot.press("enter")
        error = screen.query_one("#prepare-error", Static)
        await wait_for(pilot, lambda: "could not be removed" in rendered(error.content, 300))
        said = rendered(error.content, 300)
        assert said.startswith("Cancelled, but") and "customers_eu.comma.csv" in said
        assert "nothing was written" not in said

"""The composer in the workbench: live prompt, template and options, copy with the secret gate, the upload
list, and what the notification says."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Input, OptionList, Static

from liferaft.core import clipboard
from liferaft.core.clipboard import CopyResult
from liferaft.tui.app import LiferaftApp
from liferaft.tui.screens.budget import BudgetScreen
from liferaft.tui.screens.secrets import SecretsScreen
from liferaft.tui.widgets.composer_pane import ComposerPane
from tests.conftest import FROZEN_NOW, write
from tests.test_prepare_tui import composer_text, wait_for

#: A fake OpenAI project key in the real shape, built at run time (never a literal that looks like a real one).
FAKE_KEY = "sk-" + "proj-" + ("Zq7Xw2Lm9Rt4-_aB" * 5)[:74] + "T3Blbk" + "FJ" + ("pQ8rS1tU6vW0xY3z" * 5)[:74]


@pytest.fixture
def demo(tmp_path: Path, copy_demo) -> Path:  # type: ignore[no-untyped-def]
    return copy_demo(tmp_path / "demo", big_csv_mb=1)


@pytest.fixture
def no_native_clipboard(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clipboard, "copy_native", lambda text, timeout=2.0: CopyResult(False, "no tool"))


async def ready(app: LiferaftApp, pilot) -> ComposerPane:  # type: ignore[no-untyped-def]
    composer = app.query_one(ComposerPane)
    await wait_for(pilot, lambda: composer.prompt is not None)
    await pilot.press("4")
    await pilot.pause()
    return composer


async def test_the_prompt_follows_the_options(demo: Path) -> None:
    app = LiferaftApp(demo, now=lambda: FROZEN_NOW)
    async with app.run_test(size=(160, 48)) as pilot:
        composer = await ready(app, pilot)
        assert composer.prompt is not None and composer.prompt.template.name == "rerun"
        text = await composer_text(app, pilot)
        assert "6 files to upload" in text and "monthly_trend.png (made in the earlier chat, never saved)" in text
        assert "6. analysis.py (" in composer.prompt.text  # the code is uploaded, after the data
        without = composer.prompt.tokens
        await pilot.press("i")  # the code goes in
        await pilot.pause()
        assert composer.include_code and "```python" in composer.prompt.text
        assert len(composer.prompt.upload_paths) == 5 and "6. analysis.py" not in composer.prompt.text
        assert composer.prompt.tokens > without
        assert "code inline" in str(composer.query_one("#composer-options", Static).content)
        await pilot.press("t")
        await pilot.pause()
        assert composer.prompt.template.name == "regenerate"
        assert "Regenerate one output" in str(composer.query_one("#composer-options", Static).content)
        assert "The output: **monthly_trend.png**" in composer.prompt.text
        await pilot.press("t", "t")
        assert composer.prompt.template.name == "note"
        assert "## Next prompt if the session expires" in composer.prompt.text
        await pilot.press("t", "b")  # back to rerun; the budget dialog
        await wait_for(pilot, lambda: isinstance(app.screen, BudgetScreen))
        box = app.screen.query_one(Input)
        box.value = "100"
        await pilot.press("enter")  # too small: said, and the dialog stays
        assert isinstance(app.screen, BudgetScreen) and "At least 500" in str(
            app.screen.query_one("#budget-help").content)  # type: ignore[attr-defined]
        box.value = "600"
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, BudgetScreen))
        assert composer.prompt.budget == 600 and composer.prompt.cut  # the code is cut, and it says so
        assert "Left out to fit the token budget" in composer.prompt.text or "are cut to keep" in composer.prompt.text


async def test_clicking_the_options_line_changes_them(demo: Path) -> None:
    app = LiferaftApp(demo, now=lambda: FROZEN_NOW)
    async with app.run_test(size=(160, 48)) as pilot:
        composer = await ready(app, pilot)
        await pilot.click("#composer-options", offset=(2, 0))
        await pilot.pause()
        assert composer.template_name == "regenerate"
        line = str(composer.query_one("#composer-options", Static).content)
        await pilot.click("#composer-options", offset=(line.index("code uploaded") + 2, 0))
        await pilot.pause()
        assert composer.include_code


async def test_copy_saves_a_copy_and_says_what_happened(demo: Path, no_native_clipboard: None) -> None:
    app = LiferaftApp(demo, now=lambda: FROZEN_NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        composer = await ready(app, pilot)
        await pilot.press("ctrl+y")
        await wait_for(pilot, lambda: app.clipboard != "")
        assert app.clipboard == composer.prompt.text  # type: ignore[union-attr]
        saved = list((demo / "RESTART/prompts").glob("*-rerun.md"))
        assert len(saved) == 1 and saved[0].read_text() == app.clipboard
        await wait_for(pilot, lambda: any("Sent to the terminal's clipboard (unconfirmed)" in n.message
                                          and "RESTART/prompts/" in n.message for n in app._notifications))


async def test_a_planted_key_is_held_and_redacted(demo: Path, no_native_clipboard: None) -> None:
    note = demo / "RESTART/restart-note.md"
    note.write_text(note.read_text().replace("## Notes\n", f"## Notes\n\n- the API key was {FAKE_KEY}\n"))
    app = LiferaftApp(demo, now=lambda: FROZEN_NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        composer = await ready(app, pilot)
        assert FAKE_KEY in composer.prompt.text  # type: ignore[union-attr]
        await wait_for(pilot, lambda: "possible secret" in warnings_of(composer))
        await pilot.press("ctrl+y")
        await wait_for(pilot, lambda: isinstance(app.screen, SecretsScreen))
        assert app.clipboard == ""  # held
        await pilot.press("escape")  # cancel: nothing copied
        assert not isinstance(app.screen, SecretsScreen) and app.clipboard == ""
        assert not (demo / "RESTART/prompts").exists()
        await pilot.press("ctrl+y")
        await wait_for(pilot, lambda: isinstance(app.screen, SecretsScreen))
        assert app.screen.query_one(OptionList).highlighted == 0
        await pilot.press("enter")  # redact and copy
        await wait_for(pilot, lambda: app.clipboard != "")
        assert FAKE_KEY not in app.clipboard and "[REDACTED: " in app.clipboard
        saved = next((demo / "RESTART/prompts").glob("*.md")).read_text()
        assert FAKE_KEY not in saved and "[REDACTED: " in saved
        await wait_for(pilot, lambda: any("1 secret redacted" in n.message for n in app._notifications))


def warnings_of(composer: ComposerPane) -> str:
    return " ".join(composer.prompt.warnings) if composer.prompt else ""


async def test_the_upload_list_is_copied_as_full_paths(demo: Path, no_native_clipboard: None) -> None:
    app = LiferaftApp(demo, now=lambda: FROZEN_NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(app, pilot)
        await pilot.press("u")
        await wait_for(pilot, lambda: app.clipboard != "")
        lines = app.clipboard.splitlines()
        assert len(lines) == 6 and all(line.startswith(str(demo / "SOURCE")) for line in lines[:5])
        assert lines[0].endswith("transactions_2025.csv")  # in the order the analysis reads them
        assert lines[-1] == str(demo / "CODE" / "analysis.py")  # the code after the data


async def test_a_user_template_shows_up(demo: Path, isolated_config: Path) -> None:
    write(isolated_config / "templates" / "short.md", "---\nname: short\ntitle: Short one\n---\nFiles:\n{{uploads}}\n")
    app = LiferaftApp(demo, now=lambda: FROZEN_NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        composer = await ready(app, pilot)
        assert "short" in composer.templates
        composer.set_template("short")
        await pilot.pause()
        assert composer.prompt is not None and composer.prompt.text.startswith("Files:\n1. transactions_2025.csv")
        assert "(Not in this message: my restart note's Project brief, Next prompt if the session expires, Files " \
               "used" in composer.prompt.text  # a template without the note says what it leaves out


async def test_the_prompt_is_drawn_without_loading_the_secret_scanner_on_the_ui_thread(
        demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Loading the scanner compiles a few hundred patterns: a key pressed meanwhile waited for it. The composer
    draws the prompt without it (the workbench loads it in a worker thread and the prompt is checked then)."""
    import builtins
    import sys
    import threading

    monkeypatch.delitem(sys.modules, "liferaft.core.secrets", raising=False)
    loaded_on: list[str] = []
    real_import = builtins.__import__

    def watching_import(name: str, globals=None, locals=None, fromlist=(), level=0):  # type: ignore[no-untyped-def]
        if name == "liferaft.core.secrets" or (name == "liferaft.core" and "secrets" in (fromlist or ())):
            loaded_on.append(threading.current_thread().name)
        return real_import(name, globals, locals, fromlist, level)

    monkeypatch.setattr(builtins, "__import__", watching_import)
    app = LiferaftApp(demo, now=lambda: FROZEN_NOW)
    async with app.run_test(size=(160, 48)) as pilot:
        composer = app.query_one(ComposerPane)
        await wait_for(pilot, lambda: composer.prompt is not None)
        composer.refresh_prompt()
        await pilot.pause()
    assert threading.main_thread().name not in loaded_on


async def test_a_result_arriving_just_after_a_key_waits_for_the_keys_screen(
        demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker's result redrawn while a key's screen is being drawn made the key wait: one arriving a moment
    after a key is put on show once that moment is over (and still put on show)."""
    import dataclasses
    import time
    from types import SimpleNamespace

    from liferaft.core import pace
    from liferaft.tui.messages import ContextGathered

    app = LiferaftApp(demo, now=lambda: FROZEN_NOW)
    async with app.run_test(size=(160, 48)) as pilot:
        composer = app.query_one(ComposerPane)
        await wait_for(pilot, lambda: composer.context is not None and app.project is not None)
        assert composer.context is not None and app.project is not None
        newer = dataclasses.replace(composer.context)
        # The key's moment on a clock of the test's: a slow machine cannot let it pass before the first look.
        clock = [time.monotonic()]
        monkeypatch.setattr(pace, "time", SimpleNamespace(monotonic=lambda: clock[0], sleep=time.sleep))
        pace.key_pressed()
        app.workbench.post_message(ContextGathered(app.project.inventory, newer))
        await pilot.pause()
        assert composer.context is not newer  # not while the key's screen is drawn
        clock[0] += pace.KEY_GRACE_S + pace.MAX_WAIT_S  # the moment is over
        await wait_for(pilot, lambda: composer.context is newer)

"""Outputs at risk in the workbench (issue 6's "done when"): a new chart in OUTPUT is flagged as not
checkpointed, a checkpoint clears it, an output the note names but OUTPUT lacks is flagged missing, and a
matching file dropped into the downloads folder is offered and moved into OUTPUT/."""

from __future__ import annotations

from pathlib import Path

import pytest

from liferaft.tui.app import LiferaftApp
from liferaft.tui.screens.downloads import DownloadsScreen
from tests.conftest import FROZEN_NOW, HANG, write
from tests.test_prepare_tui import rendered, row_text, wait_for


@pytest.fixture
def demo(tmp_path: Path, copy_demo) -> Path:  # type: ignore[no-untyped-def]
    return copy_demo(tmp_path / "demo", big_csv_mb=1)


def watching_with_downloads(demo: Path, tmp_path: Path, isolated_config: Path) -> tuple[LiferaftApp, Path]:
    """A watching workbench on ``demo`` whose config names a fresh downloads folder (returned with it)."""
    downloads = tmp_path / "Downloads"
    downloads.mkdir()
    write(isolated_config / "config.toml", f'[watch]\ndownloads = "{downloads}"\n')
    return LiferaftApp(demo, now=lambda: FROZEN_NOW, watch=True), downloads


def status(app: LiferaftApp) -> str:
    return rendered(app.query_one("#status").content, 300)  # type: ignore[attr-defined]


async def test_outputs_at_risk_are_flagged_cleared_and_moved_in(demo: Path, tmp_path: Path,
                                                                isolated_config: Path) -> None:
    app, downloads = watching_with_downloads(demo, tmp_path, isolated_config)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.watcher is not None and app.risk is not None)
        assert "1 missing" in status(app)  # the note names monthly_trend.png; OUTPUT has no such file
        await pilot.press("k")
        await wait_for(pilot, lambda: app.risk is not None and app.risk.checkpoints == 1)
        assert "not checkpointed" not in status(app) and "checkpoints 1" in status(app)
        write(demo / "OUTPUT/forecast.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
        await wait_for(pilot, lambda: "1 not checkpointed" in status(app))
        assert " unsaved " in row_text(app, "forecast.png")
        await wait_for(pilot, lambda: any("not in a checkpoint yet" in n.message for n in app._notifications))
        await pilot.press("k")
        await wait_for(pilot, lambda: app.risk is not None and app.risk.checkpoints == 2)
        assert "not checkpointed" not in status(app)
        assert "50 % rework" in status(app)
        write(downloads / "monthly_trend (1).png", b"\x89PNG\r\n\x1a\n" + b"\1" * 64)
        write(downloads / "holiday.jpg.crdownload", b"partial")
        await wait_for(pilot, lambda: app.risk is not None and bool(app.risk.downloads))
        await wait_for(pilot, lambda: any("m moves it into OUTPUT" in n.message for n in app._notifications))
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, DownloadsScreen))
        await pilot.press("enter")
        await wait_for(pilot, lambda: (demo / "OUTPUT/monthly_trend.png").exists())
        assert not (downloads / "monthly_trend (1).png").exists()
        assert (downloads / "holiday.jpg.crdownload").exists()  # nothing else in Downloads is touched
        await wait_for(pilot, lambda: "missing" not in status(app))


async def test_the_checkpoint_list_shows_what_changed(demo: Path) -> None:
    from textual.widgets import OptionList, Static

    from liferaft.tui.screens.checkpoints import CheckpointsScreen

    app = LiferaftApp(demo, now=lambda: FROZEN_NOW)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.risk is not None)
        await pilot.press("k")
        await wait_for(pilot, lambda: app.risk is not None and app.risk.checkpoints == 1)
        write(demo / "OUTPUT/forecast.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
        await pilot.press("r")
        await wait_for(pilot, lambda: app.risk is not None and bool(app.risk.unsaved_outputs))
        await pilot.press("k")
        await wait_for(pilot, lambda: app.risk is not None and app.risk.checkpoints == 2)
        await pilot.press("K")
        await wait_for(pilot, lambda: isinstance(app.screen, CheckpointsScreen))
        panel = app.screen.query_one("#checkpoints-changes", Static)
        assert "Nothing changed" in rendered(panel.content)  # now vs #2
        await pilot.press("down")  # #2 against #1
        await pilot.pause()
        text = rendered(panel.content)
        assert "From #1 to #2" in text and "added   OUTPUT/forecast.png" in text
        assert app.screen.query_one(OptionList).option_count == 3
        await pilot.press("escape")
        assert not isinstance(app.screen, CheckpointsScreen)


async def test_finding_the_downloads_folder_never_holds_the_screen(demo: Path, tmp_path: Path,
                                                                   isolated_config: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """In WSL, Windows is asked where Downloads is (a few seconds at worst): the workbench answers keys meanwhile,
    and looks at the folder once it is known."""
    import threading

    from liferaft.core import risk

    app, downloads = watching_with_downloads(demo, tmp_path, isolated_config)
    answer = threading.Event()
    real = risk.downloads_to_watch

    def slow(other: object) -> Path | None:
        answer.wait(HANG)  # Windows taking its time
        return real(other)  # type: ignore[arg-type]

    monkeypatch.setattr(risk, "downloads_to_watch", slow)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.watcher is not None and app.watcher.running)
        await pilot.press("f1")  # the help opens while the question is still out
        await wait_for(pilot, lambda: app.screen is not app.workbench)
        assert app.workbench._downloads_dir is None
        await pilot.press("escape")
        answer.set()
        await wait_for(pilot, lambda: app.workbench._downloads_dir == downloads)


async def test_a_download_moved_in_under_a_name_windows_refuses_is_renamed_and_said(
        demo: Path, tmp_path: Path, isolated_config: Path) -> None:
    note = demo / "RESTART" / "restart-note.md"
    note.write_text(note.read_text(encoding="utf-8").replace("monthly_trend.png", "`Q1:Q2.png`"), encoding="utf-8")
    app, downloads = watching_with_downloads(demo, tmp_path, isolated_config)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.watcher is not None and app.risk is not None)
        write(downloads / "Q1:Q2 (1).png", b"\x89PNG\r\n\x1a\n" + b"\1" * 64)
        await wait_for(pilot, lambda: app.risk is not None and bool(app.risk.downloads))
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, DownloadsScreen))
        await pilot.press("enter")
        await wait_for(pilot, lambda: (demo / "OUTPUT/Q1_Q2.png").exists())
        assert not (demo / "OUTPUT/Q1:Q2.png").exists() and not (downloads / "Q1:Q2 (1).png").exists()
        await wait_for(pilot, lambda: any("OUTPUT/Q1_Q2.png. Written as Q1_Q2.png (Q1:Q2.png would not work "
                                          "everywhere" in n.message for n in app._notifications))

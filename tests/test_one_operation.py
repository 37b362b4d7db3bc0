"""One core function per operation (issue 17): the command line and the workbench call the same one, so they
agree. Each test runs the CLI command and the TUI action on the same project (or on two identical copies, for
an operation that changes it) and compares what they produced."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from textual.widgets import OptionList

from liferaft.cli.main import main as cli_main
from liferaft.core import operations
from liferaft.core.state import load_state
from liferaft.tui.app import LiferaftApp
from liferaft.tui.screens.downloads import DownloadsScreen
from liferaft.tui.screens.prepare import PrepareScreen
from tests import recover_fixtures as fx
from tests.conftest import FROZEN_NOW, write
from tests.test_diagnose_tui import open_diagnosis
from tests.test_prepare_tui import open_prepare, wait_for
from tests.test_risk_tui import watching_with_downloads
from tests.test_tui import _select

ERROR = "Code interpreter session expired. Please upload the files again."


@pytest.fixture
def demo(tmp_path: Path, copy_demo) -> Path:  # type: ignore[no-untyped-def]
    return copy_demo(tmp_path / "demo", big_csv_mb=1)


@pytest.fixture
def twin(tmp_path: Path, copy_demo) -> Path:  # type: ignore[no-untyped-def]
    """A second copy of the demo, for an operation that changes the project."""
    return copy_demo(tmp_path / "twin", big_csv_mb=1)


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """Run the command line in this process; its exit code and standard output (its standard error is in
    ``ERRORS``)."""
    capsys.readouterr()
    code = cli_main(list(args))
    captured = capsys.readouterr()
    ERRORS[:] = [captured.err]
    return code, captured.out


ERRORS: list[str] = [""]


def notified(app: LiferaftApp, title: str) -> list[str]:
    return [n.message for n in app._notifications if n.title == title]


def tree(root: Path) -> dict[str, bytes]:
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in sorted(root.rglob("*"))
            if path.is_file()}


# --- assess risk, list downloads ----------------------------------------------------------------------------


async def test_status_and_the_workbench_see_the_same_risk(demo: Path, isolated_config: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    from liferaft.core.recover.write import import_raw

    import_raw(demo, fx.sales_conversation())  # a chat export's record: outputs it generated, uploads it used
    write(demo / "OUTPUT/forecast.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    write(isolated_config / "config.toml", "[watch]\ndownloads = false\n")
    _code, out = cli(capsys, "status", "--json", str(demo))
    from_cli = json.loads(out)
    assert from_cli["missing_outputs"] and from_cli["unsaved_outputs"] and from_cli["missing_uploads"] is not None
    app = LiferaftApp(demo, now=lambda: FROZEN_NOW)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.risk is not None)
        assert app.risk is not None
        from_tui = app.risk.to_json()
    assert from_tui == {key: from_cli[key] for key in from_tui}
    # The chat export's outputs count in both (the workbench used to read them its own way).
    assert any("chat export" in " ".join(item.get("sources", ())) for item in from_tui["missing_outputs"])


async def test_status_and_the_move_dialog_list_the_same_downloads(demo: Path, tmp_path: Path, isolated_config: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    app, downloads = watching_with_downloads(demo, tmp_path, isolated_config)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.watcher is not None and app.risk is not None)
        write(downloads / "monthly_trend (1).png", b"\x89PNG\r\n\x1a\n" + b"\1" * 64)  # the note's missing output
        write(downloads / "summary.csv", "a,b\n1,2\n")  # downloaded while open, and looks like an output
        write(downloads / "holiday.jpg.crdownload", b"partial")  # never offered
        await wait_for(pilot, lambda: app.risk is not None and len(app.risk.downloads) == 2)
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, DownloadsScreen))
        offered = [item.to_json() for item in app.screen._downloads]  # type: ignore[attr-defined]
        await pilot.press("escape")
    _code, out = cli(capsys, "status", "--json", str(demo))
    assert json.loads(out)["downloads"] == offered
    assert [item["name"] for item in offered] == ["monthly_trend (1).png", "summary.csv"]


def test_the_downloads_rule_is_written_once(tmp_path: Path) -> None:
    from liferaft.core.risk import downloads_to_watch

    assert downloads_to_watch({"watch": {"downloads": False}}) is None
    missing = tmp_path / "nowhere"
    assert downloads_to_watch({"watch": {"downloads": str(missing)}}) == missing  # asked for: said to be missing
    for source in ("cli/commands/status.py", "tui/screens/workbench.py", "tui/screens/workbench_watch.py"):
        text = (Path(operations.__file__).parents[1] / source).read_text(encoding="utf-8")
        assert "downloads_folder(" not in text and "is_dir()" not in text, source


# --- record a checkpoint -------------------------------------------------------------------------------------


def _touched(path: Path) -> None:
    """A new modification time, the same bytes: only the time says it changed, the content says it did not."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 100 * 10**9))


async def test_checkpoint_says_the_same_from_both(demo: Path, twin: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for root in (demo, twin):
        code, _out = cli(capsys, "checkpoint", str(root))
        assert code == 0
        write(root / "OUTPUT/forecast.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
        _touched(root / "SOURCE/final2.csv")
    code, said = cli(capsys, "checkpoint", str(demo))
    assert code == 0
    app = LiferaftApp(twin, now=lambda: FROZEN_NOW)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_for(pilot, lambda: app.risk is not None)
        await pilot.press("k")
        await wait_for(pilot, lambda: bool(notified(app, "Checkpoint")))
    assert notified(app, "Checkpoint") == [said.strip()]
    # The real number, and the changes by content: the new chart, not the file only touched.
    assert said.startswith("Checkpoint 2 saved: ") and "; 1 changed since the one before." in said


# --- run a fix -----------------------------------------------------------------------------------------------


async def test_a_fix_writes_the_same_files_from_both(demo: Path, twin: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    code, _out = cli(capsys, "prepare", "SOURCE/final2.csv", str(demo), "--name", "channel_spend_2025.csv")
    assert code == 0
    app = LiferaftApp(twin, now=lambda: FROZEN_NOW)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_prepare(app, pilot, "final2.csv")
        assert "Upload it as channel_spend_2025.csv" in str(screen.query_one(OptionList).get_option_at_index(0)
                                                               .prompt)
        await pilot.press("enter", "enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, PrepareScreen))
        await wait_for(pilot, lambda: bool(notified(app, "Prepared")))
    assert tree(demo / "SOURCE") == tree(twin / "SOURCE")
    assert tree(demo / "SOURCE/prepared") == {"channel_spend_2025.csv": (demo / "SOURCE/final2.csv").read_bytes()}
    from_cli, from_tui = load_state(demo).state.prepared, load_state(twin).state.prepared
    assert from_cli.keys() == from_tui.keys() == {"SOURCE/final2.csv"}
    assert from_cli["SOURCE/final2.csv"].to_json() == from_tui["SOURCE/final2.csv"].to_json()


def test_a_cancelled_fix_leaves_nothing_behind(demo: Path) -> None:
    """Cancelled after its last progress report, the fix is taken back by core (the dialog used to unlink
    the files itself); a split's list of parts and the folder it made go too."""
    path = demo / "SOURCE/transactions_2025.csv"
    before = tree(demo)
    with pytest.raises(operations.FixCancelled):
        operations.prepare_fix(path, "split", "0.4", cancelled=lambda: True)
    assert tree(demo) == before and not (demo / "SOURCE/prepared").exists()
    asked: list[int] = []
    done = operations.prepare_fix(path, "split", "0.4", cancelled=lambda: bool(asked.append(1)))
    assert len(done.written) == 3 and (demo / "SOURCE/prepared/.liferaft").is_dir()
    for item in done.written:  # as if it had never run
        item.unlink()
    for manifest in (demo / "SOURCE/prepared/.liferaft").iterdir():
        manifest.unlink()
    (demo / "SOURCE/prepared/.liferaft").rmdir()
    (demo / "SOURCE/prepared").rmdir()
    last = len(asked)  # the last time it is asked: after the fix has written everything
    count: list[int] = []
    with pytest.raises(operations.FixCancelled):
        operations.prepare_fix(path, "split", "0.4", cancelled=lambda: len(count) >= last - 1 or bool(count.append(1)))
    assert len(count) == last - 1  # cancelled at the very end, not by a progress report
    assert tree(demo) == before and not (demo / "SOURCE/prepared").exists()


# --- reveal a file -------------------------------------------------------------------------------------------


async def test_reveal_runs_the_same_command_from_both(demo: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    commands: list[list[str]] = []

    def fake_run(command: list[str], **_kw: object) -> subprocess.CompletedProcess[bytes]:
        commands.append(list(command))
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(subprocess, "run", fake_run)
    target = demo / "SOURCE/final2.csv"
    code, out = cli(capsys, "open", "--reveal", str(target))
    assert code == 0 and out == f"Opened {target.parent} in the file manager.\n"
    app = LiferaftApp(demo, now=lambda: FROZEN_NOW)
    async with app.run_test(size=(160, 48)) as pilot:
        await _select("final2.csv")(pilot)
        await pilot.press("e")
        await wait_for(pilot, lambda: len(commands) == 2)
        await wait_for(pilot, lambda: any("in the file manager" in n.message for n in app._notifications))
        assert [n.message for n in app._notifications if "in the file manager" in n.message] == [out.strip()]
    assert commands[0] == commands[1] == list(operations.reveal_command(target))


def test_reveal_says_why_it_could_not(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    def failing(command: list[str], **_kw: object) -> subprocess.CompletedProcess[bytes]:
        raise FileNotFoundError(2, "No such file or directory")

    monkeypatch.setattr(subprocess, "run", failing)
    done = operations.reveal(tmp_path)
    assert not done.opened and done.problem == "No such file or directory" and done.folder == tmp_path
    code, _out = cli(capsys, "open", "--reveal", str(tmp_path))
    assert code == 1 and "cannot open a file manager here (No such file or directory)" in ERRORS[0]


# --- build the support report --------------------------------------------------------------------------------


def _stable(report: str) -> list[str]:
    """The report without its volatile lines (the time, and the system it was written on)."""
    return [line for line in report.splitlines() if not line.startswith(("When: ", "System: "))]


async def test_the_support_report_is_the_same_from_both(demo: Path, isolated_config: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    from liferaft.core.diagnose.checklist import set_tick
    from liferaft.core.diagnose.knowledge import load_knowledge
    from liferaft.tui.screens.diagnose.support import SupportScreen

    write(isolated_config / "config.toml", '[diagnose]\naccount_email = "me@example.com"\n')
    first = load_knowledge().checklist[0]
    set_tick(demo, first.id, True, FROZEN_NOW)
    code, out = cli(capsys, "diagnose", "--support", "--dir", str(demo), ERROR)
    assert code == 0
    app = LiferaftApp(demo, now=lambda: FROZEN_NOW)
    async with app.run_test(size=(160, 48)) as pilot:
        await open_diagnosis(app, pilot, ERROR)
        assert app.diagnose_memory.symptom_id is not None  # the diagnosis on show
        await pilot.press("escape", "S")
        await wait_for(pilot, lambda: isinstance(app.screen, SupportScreen))
        report = app.screen.text  # type: ignore[attr-defined]
    assert _stable(report) == _stable(out)
    assert "Account: me@example.com" in out and f"- {first.text}" in out and "> " + ERROR in out
    assert any(line.startswith("Subject: ChatGPT data analysis: ") and "an error" not in line
               for line in out.splitlines())

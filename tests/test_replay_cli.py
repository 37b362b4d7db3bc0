"""`liferaft replay` as a user runs it: the demo and a script recovered from an export replay end to end in the
sandbox, offline once the environment is built; bad input ends in one line and an exit code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import tests.recover_fixtures as fx
from liferaft.core.replay import sandbox
from tests.conftest import cli_env, replay_cache_dir

needs_sandbox = pytest.mark.skipif(sandbox.unavailable() is not None,
                                   reason=f"no replay sandbox here: {sandbox.unavailable()}")


@pytest.fixture
def replay_cli(replay_env, tmp_path_factory):
    """Run `liferaft ARGS` with the replay cache the ``replay_env`` fixture filled (so nothing is downloaded)."""
    env = cli_env(LIFERAFT_CACHE_DIR=str(replay_cache_dir(tmp_path_factory)))

    def run(*args: str, extra: dict[str, str] | None = None, timeout: float = 240) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "liferaft", *args], capture_output=True, text=True,
                              env={**env, **(extra or {})}, timeout=timeout, stdin=subprocess.DEVNULL)

    return run


@needs_sandbox
def test_the_demo_replays_regenerating_the_lost_chart_and_matching_the_saved_table(tmp_path: Path,
                                                                                    replay_cli) -> None:
    project = tmp_path / "demo"
    assert replay_cli("demo", "--no-open", str(project)).returncode == 0
    done = replay_cli("replay", str(project), "--yes", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["sandboxed"] is True and report["errors"] == 0
    rows = {row["name"]: row for row in report["results"]}
    assert rows["monthly_trend.png"]["status"] == "new: can be accepted"
    assert rows["sales_2025_cleaned.csv"]["status"] == "matches"
    folder = project / report["folder"]
    assert (folder / "monthly_trend.png").is_file() and (folder / "replay.ipynb").is_file()
    assert not (project / "OUTPUT" / "monthly_trend.png").exists()  # nothing moves in until it is accepted

    accepted = replay_cli("replay", str(project), "--accept")
    assert accepted.returncode == 0, accepted.stderr
    assert "accepted  OUTPUT/monthly_trend.png" in accepted.stdout
    status = json.loads(replay_cli("status", str(project), "--json").stdout)
    assert "monthly_trend.png" not in json.dumps(status.get("missing_outputs", status))


@needs_sandbox
def test_a_script_recovered_from_an_export_replays_and_writes_what_the_chat_wrote(tmp_path: Path,
                                                                                  replay_cli) -> None:
    export = fx.write_classic_zip(tmp_path / "export.zip", [fx.sales_conversation()])
    project = tmp_path / "proj"
    assert replay_cli("init", str(project)).returncode == 0
    (project / "SOURCE" / "sales.csv").write_text("region,revenue,date\nNorth,10.5,2025-01-02\nSouth,4,2025-02-03\n",
                                                  encoding="utf-8")
    imported = replay_cli("import", str(export), "--into", str(project), "--json")
    assert imported.returncode == 0, imported.stderr
    done = replay_cli("replay", str(project), "--yes", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    # What the chat wrote, and the chart it showed (saved under the name the import gave the chat's copy).
    assert sorted(report["files_written"]) == ["charts/by_region.png", "monthly_trend.csv",
                                               "recovered/sales-by-region-cell03-1.png", "revenue by region.csv"]
    assert [cell["label"] for cell in report["cells"]] == ["setup", "Cell 1", "Cell 2", "Cell 3", "Cell 4", "Cell 5"]
    assert all(cell["status"] == "ok" for cell in report["cells"])  # the cell that failed in the chat is a comment
    first = report["cells"][1]  # what it printed here, beside what the chat showed for it
    assert first["chat_output"].startswith("region revenue") and "North" in first["output"]
    folder = project / report["folder"]
    assert (folder / "revenue by region.csv").read_text(encoding="utf-8").splitlines()[1:] == \
        ["North,10.5", "South,4.0"]


def test_without_a_sandbox_it_refuses_unless_told(tmp_path: Path, run_cli) -> None:
    project = tmp_path / "p"
    (project / "CODE").mkdir(parents=True)
    (project / "CODE" / "a.py").write_text("print(1)\n", encoding="utf-8")
    empty = tmp_path / "bin"
    empty.mkdir()
    done = run_cli("replay", str(project), "--yes", env=cli_env(PATH=str(empty)))
    assert done.returncode == 2
    assert "cannot be sandboxed here" in done.stderr and "--no-sandbox" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (project / "OUTPUT" / "replayed").exists()


def test_it_asks_first_and_a_script_must_say_yes(tmp_path: Path, run_cli) -> None:
    project = tmp_path / "p"
    (project / "CODE").mkdir(parents=True)
    (project / "CODE" / "a.py").write_text("import pandas\nimport totally_unknown_module\n", encoding="utf-8")
    done = run_cli("replay", str(project), "--no-sandbox")
    assert done.returncode == 2
    assert "add --yes" in done.stderr
    assert "NOT installed: totally_unknown_module" in done.stderr  # listed, never installed
    assert not (project / "OUTPUT" / "replayed").exists()


@pytest.mark.parametrize(("args", "said"), [
    (["--from", "0"], "numbered from 1"),
    (["--cell-timeout", "-3"], "more than 0"),
    (["--script", "nope.py"], "no such file"),
])
def test_bad_options_are_one_line(tmp_path: Path, run_cli, args: list[str], said: str) -> None:
    project = tmp_path / "p"
    (project / "CODE").mkdir(parents=True)
    (project / "CODE" / "a.py").write_text("print(1)\n", encoding="utf-8")
    done = run_cli("replay", str(project), "--yes", *args)
    assert done.returncode == 2
    assert said in done.stderr and "Traceback" not in done.stderr


def test_two_scripts_and_no_choice_says_which_to_pick(tmp_path: Path, run_cli) -> None:
    project = tmp_path / "p"
    (project / "CODE").mkdir(parents=True)
    for name in ("a.py", "b.py"):
        (project / "CODE" / name).write_text("print(1)\n", encoding="utf-8")
    done = run_cli("replay", str(project), "--yes")
    assert done.returncode == 2 and "pick one with --script" in done.stderr


def test_accept_with_no_replay_yet(tmp_path: Path, run_cli) -> None:
    (tmp_path / "OUTPUT").mkdir()
    done = run_cli("replay", str(tmp_path), "--accept")
    assert done.returncode == 2 and "run `liferaft replay` first" in done.stderr


@needs_sandbox
def test_an_import_no_package_provides_is_listed_and_its_cell_fails_with_a_reading(tmp_path: Path,
                                                                                  replay_cli) -> None:
    project = tmp_path / "p"
    for folder in ("CODE", "SOURCE", "OUTPUT"):
        (project / folder).mkdir(parents=True)
    (project / "CODE" / "a.py").write_text("import pandas as pd\nimport matplotlib\n\nimport totally_unknown_module\n",
                                           encoding="utf-8")
    done = replay_cli("replay", str(project), "--yes")
    assert done.returncode == 1
    assert "NOT installed: totally_unknown_module" in done.stderr
    assert "ModuleNotFoundError" in done.stderr and "line 4" in done.stderr
    assert "Traceback (most recent call last)" not in done.stderr


def test_a_kernel_that_dies_is_said_by_cell(tmp_path: Path, replay_cli) -> None:
    project = tmp_path / "p"
    for folder in ("CODE", "SOURCE", "OUTPUT"):
        (project / folder).mkdir(parents=True)
    (project / "CODE" / "a.py").write_text("print('ran')\n\nimport os\nos._exit(3)\n", encoding="utf-8")
    done = replay_cli("replay", str(project), "--yes", "--no-sandbox")
    assert done.returncode == 1
    assert "lines 3-4 (died): the kernel ended" in done.stderr, done.stderr

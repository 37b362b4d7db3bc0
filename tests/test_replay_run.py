"""Replay in a real kernel: the project's files are never changed, writes land in the replay folder, and each
kind of failure (an error, a cell that never ends, a write outside, a delete in SOURCE) is reported by cell.

The kernel runs in the environment the ``replay_env`` fixture builds once per test run (tests/conftest.py)."""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from liferaft.core.replay import sandbox, session
from liferaft.core.replay.cells import load_cells, script_cells

needs_sandbox = pytest.mark.skipif(sandbox.unavailable() is not None,
                                   reason=f"no replay sandbox here: {sandbox.unavailable()}")


def _fingerprint(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` but the replays, by content: what a replay must leave as it was."""
    found = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_file() and "/replayed/" not in f"/{rel}":
            found[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def _project(tmp_path: Path, script: str, sources: dict[str, str] | None = None) -> Path:
    project = tmp_path / "proj"
    for folder in ("SOURCE", "CODE", "OUTPUT", "RESTART"):
        (project / folder).mkdir(parents=True)
    for name, text in (sources or {"sales.csv": "region,revenue\nNorth,10.5\nSouth,4\n"}).items():
        (project / "SOURCE" / name).write_text(text, encoding="utf-8")
    (project / "CODE" / "analysis.py").write_text(script, encoding="utf-8")
    return project


# --- cells (no kernel) ------------------------------------------------------------------------------------


def test_a_recovered_script_is_cut_at_its_markers_with_the_chats_output_kept() -> None:
    text = ('"""doc"""\nimport os\nSOURCE = 1\n\n\n# %% Cell 1 · 2025-01-01 10:00 UTC\n# Prompt: hi\n'
            "# Result: ran fine\nprint(1)\n# In the chat it printed:\n#   1\n\n\n# %% Cell 2 · shell step\n"
            "# Result: ran fine\n# Shell step (ran in the chat's sandbox; not run here):\n#     ls\n"
            '# subprocess.run(["ls"], cwd=PROJECT, check=True)\n')
    cells = script_cells(text)
    assert [(c.number, c.label) for c in cells] == [(0, "setup"), (1, "Cell 1"), (2, "Cell 2")]
    assert cells[1].chat_output == "1" and "In the chat" not in cells[1].code
    assert cells[2].shell and 'subprocess.run(["ls"], cwd=PROJECT, check=True)' in cells[2].code.splitlines()


def test_a_plain_script_is_cut_into_paragraphs_and_a_function_stays_whole() -> None:
    text = "import os\nimport sys\n\n# the data\nx = 1\n\n\ndef f():\n    a = 1\n\n    return a\n\nprint(f())\n"
    cells = script_cells(text)
    assert [c.code.strip().splitlines()[0] for c in cells] == ["import os", "# the data", "def f():", "print(f())"]
    assert "return a" in cells[2].code
    assert cells[1].first_line == "x = 1"


def test_a_broken_notebook_is_one_clear_line(tmp_path: Path) -> None:
    path = tmp_path / "n.ipynb"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(session.ReplayError, match="not a notebook"):
        session.plan_replay(tmp_path, notebook=path)


def test_cells_out_of_range_are_refused(tmp_path: Path) -> None:
    project = _project(tmp_path, "a = 1\n\nb = 2\n")
    with pytest.raises(session.ReplayError, match="cells 1-2"):
        session.plan_replay(project, first=3)


def test_a_notebooks_code_cells_and_recorded_outputs(tmp_path: Path) -> None:
    nb = {"cells": [{"cell_type": "markdown", "source": "# t"},
                    {"cell_type": "code", "source": ["x = 1\n", "x"],
                     "outputs": [{"output_type": "execute_result", "data": {"text/plain": "1"}}]},
                    {"cell_type": "code", "source": "", "outputs": []}],
          "nbformat": 4, "nbformat_minor": 5, "metadata": {}}
    path = tmp_path / "a.ipynb"
    path.write_text(json.dumps(nb), encoding="utf-8")
    cells = load_cells(path)
    assert [(c.number, c.chat_output) for c in cells] == [(1, "1")]


# --- in a kernel ------------------------------------------------------------------------------------------

_HOSTILE = '''\
from pathlib import Path
import os, subprocess, time
ROOT = Path(__file__).resolve().parents[1]
SOURCE, OUTPUT = ROOT / "SOURCE", ROOT / "OUTPUT"

# %% Cell 1
(OUTPUT / "fine.csv").write_text("a,b\\n1,2\\n")
print("wrote", (OUTPUT / "fine.csv").read_text().count("\\n"), "lines")

# %% Cell 2
{}["missing"]

# %% Cell 3
while True:
    time.sleep(0.05)

# %% Cell 4
open(OUTSIDE, "w").write("escaped")

# %% Cell 5
os.remove(SOURCE / "sales.csv")

# %% Cell 6
subprocess.run(["rm", "-f", str(SOURCE / "sales.csv")], check=True)

# %% Cell 7
print(open("/mnt/data/sales.csv").read().splitlines()[0])
'''


@needs_sandbox
def test_every_failure_is_reported_by_cell_and_nothing_of_the_project_changes(tmp_path: Path, replay_env) -> None:
    outside = tmp_path / "outside.txt"
    project = _project(tmp_path, _HOSTILE.replace("OUTSIDE", repr(str(outside))))
    (project / "OUTPUT" / "fine.csv").write_text("saved\n", encoding="utf-8")
    before = _fingerprint(project)
    plan = session.plan_replay(project)
    decisions: list[str] = []

    def on_error(record: session.CellRecord, cell) -> session.Decision:
        decisions.append(f"{record.label}:{record.status}")
        return ("skip", None)

    result = session.run_replay(plan, replay_env.python, sandboxed=True, cell_timeout=3,
                                hooks=session.Hooks(on_error=on_error))
    status = {record.label: record.status for record in result.cells}
    assert status["Cell 1"] == "ok"
    assert status["Cell 2"] == "error, skipped"
    assert status["Cell 3"] == "timeout, skipped"
    assert status["Cell 4"].startswith("error") and status["Cell 5"].startswith("error")
    assert status["Cell 6"].startswith("error")
    assert status["Cell 7"] == "ok", by_label_errors(result)
    by_label = {record.label: record for record in result.cells}
    assert "KeyError" in by_label["Cell 2"].error and by_label["Cell 2"].traceback
    assert "Read-only file system" in by_label["Cell 4"].error
    assert "never writes in SOURCE" in by_label["Cell 5"].error
    assert "CalledProcessError" in by_label["Cell 6"].error
    assert by_label["Cell 7"].output.strip() == "region,revenue"
    assert decisions == ["Cell 2:error", "Cell 3:timeout", "Cell 4:error", "Cell 5:error", "Cell 6:error"]
    # The project is as it was; the write went to the replay folder; nothing escaped.
    assert _fingerprint(project) == before
    assert not outside.exists()
    assert (result.folder / "fine.csv").read_text(encoding="utf-8") == "a,b\n1,2\n"
    assert result.written == ["fine.csv"]
    record = json.loads((result.folder / session.RECORD_NAME).read_text(encoding="utf-8"))
    assert record["errors"] == 5 and record["sandboxed"] is True
    notebook = json.loads((result.folder / session.NOTEBOOK_NAME).read_text(encoding="utf-8"))
    assert len([c for c in notebook["cells"] if c["cell_type"] == "code"]) == 8  # the setup and 7 cells


def test_without_the_sandbox_the_kernel_still_never_writes_the_project(tmp_path: Path, replay_env) -> None:
    script = ('from pathlib import Path\nimport os\nROOT = Path(__file__).resolve().parents[1]\n\n'
              '(ROOT / "OUTPUT" / "new.txt").write_text("x")\n\n'
              'os.makedirs(ROOT / "OUTPUT" / "sub", exist_ok=True)\n'
              '(ROOT / "OUTPUT" / "sub" / "t.txt").write_text("y")\n\n'
              'os.remove(ROOT / "SOURCE" / "sales.csv")\n')
    project = _project(tmp_path, script)
    before = _fingerprint(project)
    result = session.run_replay(session.plan_replay(project), replay_env.python, sandboxed=False, cell_timeout=30)
    assert _fingerprint(project) == before
    assert sorted(result.written) == ["new.txt", "sub/t.txt"]
    assert result.cells[-1].status == "error" and "never writes in SOURCE" in result.cells[-1].error


def test_a_stop_interrupts_the_running_cell_and_keeps_what_ran(tmp_path: Path, replay_env) -> None:
    project = _project(tmp_path, "x = 41\n\nimport time\nwhile True:\n    time.sleep(0.05)\n\nprint(x)\n")
    hooks = session.Hooks()

    def started(cell, at: int, of: int) -> None:
        if at == 2:  # the endless cell: stop it once it runs
            import threading

            threading.Timer(0.5, hooks.stop.set).start()

    hooks.on_cell_start = started
    result = session.run_replay(session.plan_replay(project), replay_env.python, sandboxed=False,
                                cell_timeout=60, hooks=hooks)
    assert [record.status for record in result.cells] == ["ok", "interrupted"]
    assert result.stopped == "interrupted"
    assert json.loads((result.folder / session.RECORD_NAME).read_text(encoding="utf-8"))["stopped"] == "interrupted"


def test_ctrl_c_on_the_command_line_stops_the_cell_and_exits_130(tmp_path: Path, replay_env) -> None:
    project = _project(tmp_path, "import time\nprint('started', flush=True)\nwhile True:\n    time.sleep(0.05)\n")
    from tests.conftest import cli_env

    env = cli_env()
    config = tmp_path / "config"
    config.mkdir()
    (config / "config.toml").write_text(f'[replay]\npython = "{replay_env.python}"\n', encoding="utf-8")
    env["LIFERAFT_CONFIG_DIR"] = str(config)
    process = subprocess.Popen([sys.executable, "-m", "liferaft", "replay", str(project), "--yes", "--no-sandbox"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                               stdin=subprocess.DEVNULL)
    assert process.stdout is not None
    first = process.stdout.readline()  # the cell prints this, then never ends
    assert first.strip() == "started"
    process.send_signal(signal.SIGINT)
    rest, errors = process.communicate(timeout=60)
    assert process.returncode == 130, errors
    assert "Traceback" not in errors and "stopping the running cell" in errors
    assert "Replayed 1 cell" in rest
    record = json.loads(next((project / "OUTPUT" / "replayed").glob(f"*/{session.RECORD_NAME}")).read_text(
        encoding="utf-8"))
    assert record["stopped"] == "interrupted"
    assert [cell["status"] for cell in record["cells"]] == ["interrupted"]


def by_label_errors(result: session.ReplayResult) -> dict[str, str]:
    return {record.label: record.error for record in result.cells}


@needs_sandbox
def test_the_sandbox_helpers_a_shell_step_and_a_shown_chart(tmp_path: Path, replay_env) -> None:
    """What the chat's sandbox had: ``ace_tools`` (a stand-in shows the table, nothing is installed), a shell
    step recovered from the export (it runs, from the replay folder), and a chart a cell shows (saved as PNG)."""
    script = ('import subprocess\nPROJECT = None\n\n\n'
              '# %% Cell 1\nimport pandas as pd\nimport ace_tools as tools\n'
              'tools.display_dataframe_to_user("Totals", pd.DataFrame({"a": [1, 2]}))\n'
              'tools.display_text_to_user(name="Final app.py", text="print(1)")\n\n\n'
              '# %% Cell 2 · shell step\n# Result: ran fine\n'
              "# Shell step (ran in the chat's sandbox; not run here: read it, then uncomment the call to run it):\n"
              "#     echo made > made.txt\n"
              '# subprocess.run(["bash", "-lc", "echo made > made.txt"], cwd=PROJECT, check=True)\n\n\n'
              '# %% Cell 3\nimport matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\nplt.show()\n\n\n'
              '# %% Cell 4\nimport os\nprint("run:", os.listdir("/run"), os.environ.get("SSH_AUTH_SOCK"))\n')
    project = _project(tmp_path, script)
    unsandboxed = session.run_replay(session.plan_replay(project), replay_env.python, sandboxed=False,
                                     cell_timeout=60)
    # Without the sandbox nothing routes a shell step's writes: it is skipped, and says why.
    assert [(r.label, r.status) for r in unsandboxed.cells if r.status != "ok"] == [("Cell 2", "skipped")]
    assert not (unsandboxed.folder / "made.txt").exists()
    result = session.run_replay(session.plan_replay(project), replay_env.python, sandboxed=True, cell_timeout=60)
    by_label = {record.label: record for record in result.cells}
    assert all(record.status == "ok" for record in result.cells), {r.label: r.error for r in result.cells}
    assert "[table] Totals" in by_label["Cell 1"].output
    assert "Final app.py\nprint(1)" in by_label["Cell 1"].output  # a helper the stand-in has no copy of, shown
    assert (result.folder / "made.txt").read_text(encoding="utf-8") == "made\n"
    assert by_label["Cell 3"].figures == ["figures/cell-3-1.png"]
    # The host's service sockets (session bus, SSH agent, Docker) are out of reach.
    assert by_label["Cell 4"].output.strip() == "run: [] None"
    assert (result.folder / "figures" / "cell-3-1.png").read_bytes().startswith(b"\x89PNG")
    assert result.written == ["made.txt"]  # the figures are Liferaft's own, not outputs


def test_the_cell_time_limit_from_config_toml(tmp_path: Path, replay_env) -> None:
    """``[replay] cell_timeout`` is the limit when no --cell-timeout is given; from a script (no one to ask) the
    replay stops at the cell that ran past it, and says which."""
    project = _project(tmp_path, "x = 1\n\nimport time\nwhile True:\n    time.sleep(0.05)\n")
    from tests.conftest import cli_env

    config = tmp_path / "config"
    config.mkdir()
    (config / "config.toml").write_text(f'[replay]\npython = "{replay_env.python}"\ncell_timeout = 1.5\n',
                                        encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "liferaft", "replay", str(project), "--yes", "--no-sandbox"],
                          capture_output=True, text=True, env=cli_env(LIFERAFT_CONFIG_DIR=str(config)),
                          stdin=subprocess.DEVNULL, timeout=120)
    assert done.returncode == 1, done.stderr
    assert "lines 3-5 (timeout)" in done.stderr and "stopped at lines 3-5" in done.stdout


def test_what_the_routing_keeps_without_the_sandbox(tmp_path: Path, replay_env) -> None:
    """Found in review: a link in SOURCE written through, shutil.rmtree and copy2 by path, truncate, the script's
    own argv, and sys.exit(0) as the end of a script rather than a failure."""
    elsewhere = tmp_path / "elsewhere.csv"
    elsewhere.write_text("orig\n", encoding="utf-8")
    script = ('import os, shutil, sys\nfrom pathlib import Path\nROOT = Path(__file__).resolve().parents[1]\n\n'
              'try:\n    open(ROOT / "SOURCE" / "linked.csv", "w").write("changed")\n'
              'except PermissionError as exc:\n    print("refused:", exc.strerror)\n\n'
              'shutil.rmtree(ROOT / "OUTPUT", ignore_errors=True)\n'
              'shutil.copy2("/mnt/data/sales.csv", "/mnt/data/copy.csv")\n\n'
              'try:\n    os.truncate(ROOT / "OUTPUT" / "keep.txt", 0)\nexcept OSError:\n    pass\n'
              'print(Path(sys.argv[0]).name)\n\nsys.exit(0)\n\nprint("not reached")\n')
    project = _project(tmp_path, script)
    (project / "SOURCE" / "linked.csv").symlink_to(elsewhere)
    (project / "OUTPUT" / "keep.txt").write_text("keep\n", encoding="utf-8")
    before = _fingerprint(project)
    result = session.run_replay(session.plan_replay(project), replay_env.python, sandboxed=False, cell_timeout=60)
    assert _fingerprint(project) == before and elsewhere.read_text(encoding="utf-8") == "orig\n"
    outputs = "".join(record.output for record in result.cells)
    assert "refused: Liferaft's replay never writes in SOURCE" in outputs and "analysis.py" in outputs
    assert "not reached" not in outputs and (result.folder / "copy.csv").is_file()
    assert all(record.status == "ok" for record in result.cells), {r.label: r.error for r in result.cells}
    assert result.stopped.startswith("the script ended itself")


@needs_sandbox
def test_a_link_left_in_the_replay_folder_is_never_written_through(tmp_path: Path, replay_env) -> None:
    """Found in review: a cell made figures/cell-1-1.png a link to a project file, and Liferaft, saving the
    cell's chart outside the sandbox, wrote through it."""
    project = _project(tmp_path, "")
    victim = project / "SOURCE" / "sales.csv"
    (project / "CODE" / "analysis.py").write_text(
        "import os, base64\nfrom IPython.display import display\nos.makedirs('figures')\n"
        f"os.symlink({str(victim)!r}, 'figures/cell-1-1.png')\n"
        "display({'image/png': base64.b64encode(b'PWNED').decode()}, raw=True)\n", encoding="utf-8")
    before = victim.read_bytes()
    result = session.run_replay(session.plan_replay(project), replay_env.python, sandboxed=True, cell_timeout=60)
    assert victim.read_bytes() == before
    assert result.cells[-1].figures == ["figures/cell-1-2.png"]  # the next free name, never the link


def test_a_cell_that_floods_its_output_is_cut(tmp_path: Path, replay_env, monkeypatch) -> None:
    from liferaft.core.replay import kernel

    monkeypatch.setattr(kernel, "MAX_OUTPUT_CHARS", 10_000)
    project = _project(tmp_path, "for n in range(20_000):\n    print('line', n)\n\nprint('after')\n")
    result = session.run_replay(session.plan_replay(project), replay_env.python, sandboxed=False, cell_timeout=60)
    flood, after = result.cells
    assert len(flood.output) < 12_000 and "the rest is not kept" in flood.output
    assert after.output == "after\n" and flood.status == after.status == "ok"


def test_pandas_excel_work_brings_its_reader(tmp_path: Path) -> None:
    from liferaft.core.replay.prepare import requirements_for

    project = _project(tmp_path, "import pandas as pd\n\ndf = pd.read_excel('/mnt/data/budget.xlsx')\n")
    assert any(spec.startswith("openpyxl") for spec in requirements_for(session.plan_replay(project)).specs)

"""Issue 19 (exports, item 5): shell steps the chat ran in its sandbox (``container.exec``: file conversions, zip,
pip installs, Python run from the shell) are recovered in order among the Python cells, with their status and
output: in the script as commented ``subprocess.run`` calls, in the notebook as ``%%bash`` cells that do not run
by themselves; their ``/mnt/data`` paths point into the project. The message shapes follow 2025 exports (see
``Conversation.shell`` and ``Conversation.shell_output`` in the fixtures)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from liferaft.core.project import init_project
from liferaft.core.recover import listing
from liferaft.core.recover.conversation import STATUS_FAILED, STATUS_NO_RESULT, STATUS_SUCCESS, STATUS_TOOL_ERROR
from liferaft.core.recover.extract import extract, shell_command
from liferaft.core.recover.sources import open_export
from liferaft.core.recover.write import import_raw
from tests import recover_fixtures as fx


@pytest.fixture
def proj(tmp_path: Path) -> Path:
    root = tmp_path / "my project"  # a space in the project's path: the paths given to the shell are quoted
    init_project(root)
    (root / "SOURCE" / "sales.csv").write_text("region,revenue\nNorth,10.5\n", encoding="utf-8")
    return root


def test_shell_steps_are_cells_in_the_order_they_ran_with_status_and_output() -> None:
    conv = extract(fx.shell_conversation())
    assert [(cell.index, cell.shell) for cell in conv.cells] == [(1, True), (2, False), (3, True), (4, True),
                                                                 (5, True)]
    convert, python, pip, from_shell, listed = conv.cells
    assert convert.code.startswith("cd /mnt/data && soffice --headless") and convert.argv is not None
    assert convert.argv[:2] == ["bash", "-lc"] and convert.status == STATUS_SUCCESS
    assert "writer_pdf_Export" in convert.output  # the text reply (agent mode) is its output
    assert python.status == STATUS_SUCCESS and "read_csv" in python.code
    assert pip.status == STATUS_FAILED and pip.error == "Unknown error: exit code: 1"
    assert "Could not find a version" in pip.output
    assert from_shell.code.startswith("python - <<'PY'\nimport zipfile")  # the bare "bash -lc <script>" form
    assert from_shell.status == STATUS_SUCCESS and from_shell.output == "['mnt/data/pdf/report.pdf']\n"
    assert listed.argv == ["ls", "-l", "/mnt/data/my folder"] and listed.code == "ls -l '/mnt/data/my folder'"
    assert conv.failed_cells == [pip]
    assert conv.problems == []


@pytest.mark.parametrize(("text", "shown", "argv"), [
    ('{"cmd":["bash","-lc","ls -l /home/oai/share"], "timeout": 10000}', "ls -l /home/oai/share",
     ["bash", "-lc", "ls -l /home/oai/share"]),
    ('{"cmd": "unzip -o /mnt/data/a.zip"}', "unzip -o /mnt/data/a.zip", ["bash", "-lc", "unzip -o /mnt/data/a.zip"]),
    ('{"command": ["python3", "x.py"]}', "python3 x.py", ["python3", "x.py"]),
    ("bash -lc pwd && ls -la", "pwd && ls -la", ["bash", "-lc", "pwd && ls -la"]),
    ("bash -lc 'echo hi; ls'", "echo hi; ls", ["bash", "-lc", "echo hi; ls"]),
    ("ls -la", "ls -la", ["bash", "-lc", "ls -la"]),
    ('{"cmd":["bash","-lc","ls', '{"cmd":["bash","-lc","ls', None),  # cut off mid-stream
    ('{"cmd": 5}', '{"cmd": 5}', None),
    ("", "", None),
])
def test_every_shape_of_the_call_is_read(text: str, shown: str, argv: list[str] | None) -> None:
    assert shell_command(text) == (shown, argv)


def test_a_conversation_of_only_shell_steps_yields_a_script_where_none_runs(proj: Path) -> None:
    result = import_raw(proj, fx.shell_only_conversation(), notebook=True)
    assert result.script is not None and result.notebook is not None
    text = (proj / result.script).read_text(encoding="utf-8")
    compile(text, result.script, "exec")
    assert text.count("· shell step") == 65 and text.count("# subprocess.run([") == 65
    assert all(line.startswith("# ") for line in text.splitlines() if "subprocess.run(" in line)
    assert "#     ls -l /home/oai/share | head -n 65" in text
    # Running the script runs none of them.
    run = subprocess.run([sys.executable, str(proj / result.script)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr


def test_the_script_maps_paths_and_each_step_runs_once_uncommented(proj: Path) -> None:
    c = fx.Conversation("conv-sh", "Copy and stamp", model="gpt-5-thinking")
    c.user("Copy the sales", attachments=[fx.attachment("sales.csv", 31)])
    c.shell("mkdir -p /mnt/data/out && cp /mnt/data/sales.csv '/mnt/data/out/copy of sales.csv' && "
            "echo \"${HOME:+home}\" > /mnt/data/out/stamp.txt")
    c.shell_output("")
    c.code("import pandas as pd\nprint(len(pd.read_csv('/mnt/data/out/copy of sales.csv')))")
    c.output("1\n")
    result = import_raw(proj, c.build())
    assert result.script is not None
    script = proj / result.script
    text = script.read_text(encoding="utf-8")
    assert "#     mkdir -p {OUTPUT}/out && cp {SOURCE}/sales.csv '{OUTPUT}/out/copy of sales.csv'" in text
    assert "/mnt/data" not in text.split("# %% Cell 1")[1].split("# In the chat")[0].replace("/mnt/data paths", "")
    [call] = [line for line in text.splitlines() if line.startswith("# subprocess.run(")]
    # Quoted for the shell: the project's path has a space. Braces of the shell's own stay as they were.
    script.write_text(text.replace(call, call.removeprefix("# ")).replace(
        "{SOURCE}/sales.csv", "'{SOURCE}/sales.csv'").replace("{OUTPUT}/out && ", "'{OUTPUT}/out' && ").replace(
        "> {OUTPUT}/out/stamp.txt", "> '{OUTPUT}/out/stamp.txt'"), encoding="utf-8")
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "HOME": str(proj)})
    assert run.returncode == 0, run.stderr
    assert (proj / "OUTPUT" / "out" / "copy of sales.csv").read_text(encoding="utf-8").startswith("region,")
    assert (proj / "OUTPUT" / "out" / "stamp.txt").read_text(encoding="utf-8") == "home\n"
    assert run.stdout.strip().endswith("1")  # the Python cell after it read the copy


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_the_notebook_has_bash_cells_that_exit_before_running(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    init_project(root)
    (root / "SOURCE" / "sales.csv").write_text("region\nNorth\n", encoding="utf-8")
    c = fx.Conversation("conv-nb", "Notebook shell", model="gpt-5-thinking")
    c.user("Copy", attachments=[fx.attachment("sales.csv", 13)])
    c.code("x = 1")
    c.output("")
    c.shell("cp /mnt/data/sales.csv /mnt/data/copy.csv && wc -l /mnt/data/copy.csv", style="bare")
    c.shell_output("2 /mnt/data/copy.csv\n", style="execution_output")
    result = import_raw(root, c.build(), notebook=True)
    assert result.notebook is not None
    notebook = json.loads((root / result.notebook).read_text(encoding="utf-8"))
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"][1:]
    assert [cell["id"] for cell in code] == ["cell-1", "cell-2"]
    source = "".join(code[1]["source"])
    assert source.startswith("%%bash\n") and "\nexit 0\n" in source
    assert source.index("exit 0") < source.index("cp SOURCE/sales.csv OUTPUT/copy.csv")
    assert "".join(code[1]["outputs"][0]["text"]) == "2 /mnt/data/copy.csv\n"
    notes = [cell for cell in notebook["cells"] if cell["id"] == "cell-2-note"]
    assert "(shell step)" in "".join(notes[0]["source"])
    body = source.removeprefix("%%bash\n")
    folder = (root / result.notebook).parent
    subprocess.run(["bash", "-c", body], cwd=folder, check=True, timeout=30)
    assert not (root / "OUTPUT" / "copy.csv").exists()  # as it is: the guard stops it
    subprocess.run(["bash", "-c", body.replace("\nexit 0\n", "\n")], cwd=folder, check=True, timeout=30)
    assert (root / "OUTPUT" / "copy.csv").read_text(encoding="utf-8") == "region\nNorth\n"


def test_a_reply_goes_to_its_own_kind_of_call() -> None:
    """A shell reply never answers a Python call, nor a Python reply a shell step, even when one hangs off a
    message that is not its call (a reasoning summary in between)."""
    c = fx.Conversation("conv-mix", "Mixed", model="gpt-5-thinking")
    c.user("Go")
    c.code("print('py')")
    c.shell("echo sh")
    c.add({"author": {"role": "assistant"}, "content": {"content_type": "reasoning_recap", "content": "Thought"}})
    c.shell_output("sh\n")
    c.add({"author": {"role": "assistant"}, "content": {"content_type": "thoughts", "thoughts": []}})
    c.output("py\n")
    c.add({"author": {"role": "tool", "name": "container.exec"},  # a stray reply: no call left to answer
           "content": {"content_type": "text", "parts": ["stray"]}})
    conv = extract(c.build())
    py, sh = conv.cells
    assert (py.shell, py.output, py.status) == (False, "py\n", STATUS_SUCCESS)
    assert (sh.shell, sh.output, sh.status) == (True, "sh\n", STATUS_SUCCESS)


def test_bad_shell_messages_never_crash_and_are_named(proj: Path) -> None:
    c = fx.Conversation("conv-bad", "Bad shell", model="gpt-5")
    c.user("Go")
    c.add({"author": {"role": "assistant"}, "recipient": "container.exec", "status": "in_progress",
           "content": {"content_type": "code", "text": '{"cmd":["bash","-lc","cat /mnt/data/a.txt | he'}})
    c.add({"author": {"role": "assistant"}, "recipient": "container.exec", "content": None})
    c.add({"author": {"role": "assistant"}, "recipient": "container.exec",
           "content": {"content_type": "code", "text": '{"cmd": ["ls", 3]}'}})
    c.shell_output("Command failed due to container TransportError.", style="error")
    c.add({"author": {"role": "tool", "name": "container.exec"}, "content": {"content_type": "system_error"}})
    conv = extract(c.build())
    assert [cell.shell for cell in conv.cells] == [True, True, True]
    cut, empty, odd = conv.cells
    assert cut.argv is None and cut.status == STATUS_NO_RESULT
    assert odd.status == STATUS_TOOL_ERROR and "TransportError" in (odd.error or "")
    assert any("could not be read" in problem for problem in conv.problems)
    result = import_raw(proj, c.build(), notebook=True)
    assert result.script is not None
    text = (proj / result.script).read_text(encoding="utf-8")
    compile(text, result.script, "exec")
    assert '\n# {"cmd":["bash","-lc","cat /mnt/data/a.txt | he\n' in text
    assert empty.code == ""


def test_listing_counts_shell_steps_as_cells(tmp_path: Path) -> None:
    path = fx.write_conversations_json(tmp_path / "conversations.json",
                                       [fx.shell_only_conversation(steps=4), fx.shell_conversation()])
    listed = {summary.id: summary for summary in open_export(path).conversations()}
    assert isinstance(next(iter(listed.values())), listing.ConversationSummary)
    assert listed["690cd704-aaaa-832d-99c2-000000000065"].code_cells == 4
    assert listed["6a3b9e10-7c21-8332-a4f0-5d6e7f8091c2"].code_cells == 5
    assert listed["6a3b9e10-7c21-8332-a4f0-5d6e7f8091c2"].branch_cells == 5

"""File names holding terminal escape sequences (issue #14, item 2): every place a name is shown, printed or
copied shows its control characters as escapes, through one core function; the files themselves are untouched."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.widgets import Static

from liferaft.core import compose
from liferaft.core.project import open_project
from liferaft.core.restart_note import prefill_note, write_note
from liferaft.core.roles import Role
from liferaft.core.scan import CONTROL_NOTE, FileRecord, shown_lines, shown_name
from liferaft.core.uploads import plan_uploads
from liferaft.tui.app import LiferaftApp
from liferaft.tui.widgets.project_pane import ProjectPane
from tests.conftest import FROZEN_NOW, cli_env, write
from tests.test_tui import details_text, settle

#: Names that retitle the terminal, clear the screen, set the clipboard (through tmux) and pass for another.
HOSTILE = {
    "a\x1b]2;pwned\x07.csv": "a\\e]2;pwned\\x07.csv",
    "b\x1b[2J.csv": "b\\e[2J.csv",
    "c\x1b]52;c;ZXZpbA==\x07.png": "c\\e]52;c;ZXZpbA==\\x07.png",
    "d\u202egnp.exe.csv": "d\\u202egnp.exe.csv",
}
BIDI = [chr(code) for code in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]]
RAW = ["\x1b", "\x07", *BIDI]


def raw_controls(text: str) -> list[str]:
    """The control characters (C0 but line breaks and tabs, DEL, C1, bidi overrides) ``text`` holds as such."""
    return [char for char in text if (ord(char) < 0x20 and char not in "\n\t") or 0x7F <= ord(char) <= 0x9F
            or char in BIDI]


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    for name in HOSTILE:
        table = name.endswith(".csv")
        write(root / "SOURCE" / name, "x,y\n1,2\n" if table else b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, FROZEN_NOW)
        write(root / "OUTPUT" / name, "x,y\n1,2\n" if table else b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, FROZEN_NOW)
    write(root / "CODE" / "e\x1b]2;x\x07.py", "import pandas as pd\nprint('\x1b[2J')\n", FROZEN_NOW)
    return root


def names_on_disk(root: Path) -> set[str]:
    return {entry.name for folder in ("SOURCE", "OUTPUT") for entry in (root / folder).iterdir()}


# --- the one function ---------------------------------------------------------------------------------------


def test_shown_name_makes_every_control_character_visible() -> None:
    for name, shown in HOSTILE.items():
        assert shown_name(name) == shown
        assert shown_name(shown) == shown  # escaping twice changes nothing
    assert shown_name("tab\there\nnew\rline") == "tab\\there\\nnew\\rline"
    assert shown_name("del\x7f c1\x9b nul\x00") == "del\\x7f c1\\x9b nul\\x00"
    assert shown_name("iso\u2066late\u2069 lre\u202a") == "iso\\u2066late\\u2069 lre\\u202a"
    assert shown_name("bytes\udcff.csv") == "bytes\\xff.csv"  # a name that is not UTF-8 (os.fsdecode)
    assert shown_name("données été 🙂 a b.csv") == "données été 🙂 a b.csv"
    assert shown_lines("one\x1b[2J\n\ttwo\x07") == "one\\e[2J\n\ttwo\\x07"


# --- the CLI --------------------------------------------------------------------------------------------------


COMMANDS: dict[str, list[list[str]]] = {
    "scan": [["scan"]],
    "check": [["check"]],
    "prompt": [["prompt"]],
    "note": [["note", "--prefill"], ["note"]],
    "status": [["status"]],
    "checkpoint": [["checkpoint"], ["checkpoint"]],
    "prepare": [["prepare", "--utf8", "SOURCE/b\x1b[2J.csv"]],
    "missing file": [["prepare", "--utf8", "SOURCE/gone\x1b]2;pwned\x07.csv"]],
}


@pytest.mark.parametrize("command", COMMANDS.values(), ids=COMMANDS.keys())
def test_cli_output_never_holds_a_names_control_characters(
        command: list[list[str]], hostile: Path, isolated_config: Path,
        run_cli: Callable[..., subprocess.CompletedProcess[str]]) -> None:
    env = cli_env(LIFERAFT_CONFIG_DIR=str(isolated_config))
    before = names_on_disk(hostile)
    for args in command:
        result = run_cli(*args, str(hostile), env=env, timeout=120)
        output = result.stdout + result.stderr
        assert "Traceback" not in output
        for char in RAW:
            assert char not in output, (args, char, output)
        if args[0] in ("scan", "check", "prompt"):
            for shown in HOSTILE.values():
                assert shown in output, (args, shown, output)
    assert names_on_disk(hostile) == before


def test_the_prepared_message_and_error_show_the_name(hostile: Path, isolated_config: Path,
                                                      run_cli: Callable[..., subprocess.CompletedProcess[str]]
                                                      ) -> None:
    env = cli_env(LIFERAFT_CONFIG_DIR=str(isolated_config))
    result = run_cli("prepare", "--utf8", "SOURCE/b\x1b[2J.csv", str(hostile), env=env)
    assert "b\\e[2J.csv is already UTF-8" in result.stdout
    result = run_cli("prepare", "--utf8", "SOURCE/gone\x1b]2;pwned\x07.csv", str(hostile), env=env)
    assert result.returncode == 2
    assert result.stderr == "liferaft: no such file: SOURCE/gone\\e]2;pwned\\x07.csv\n"


def test_the_note_printed_on_a_terminal_shows_old_raw_names(hostile: Path, isolated_config: Path) -> None:
    """A note written before names were escaped still holds them raw: on a terminal they are shown."""
    import pty

    write(hostile / "RESTART" / "restart-note.md", "# Restart note: x\n\n## Files used\n\n- b\x1b[2J.csv\n")
    main, child = pty.openpty()
    try:
        process = subprocess.Popen([sys.executable, "-m", "liferaft", "note", str(hostile)], stdout=child,
                                   stderr=child, stdin=subprocess.DEVNULL,
                                   env=cli_env(LIFERAFT_CONFIG_DIR=str(isolated_config)))
        os.close(child)
        chunks = []
        while True:
            try:
                chunk = os.read(main, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert process.wait(timeout=60) == 0
    finally:
        os.close(main)
    shown = b"".join(chunks).decode("utf-8")
    assert "- b\\e[2J.csv" in shown
    assert "\x1b" not in shown


# --- the prompt and the restart note -----------------------------------------------------------------------


def test_the_prompt_shows_names_escaped_and_says_so(hostile: Path) -> None:
    project = open_project(hostile)
    context = compose.gather(project.root, project.inventory, plan_uploads(project.inventory))
    templates, _ = compose.load_templates(Path("/nonexistent"))
    prompt = compose.assemble(templates["rerun"], context, include_code=True)
    assert raw_controls(prompt.text) == []
    assert all(raw_controls(warning) == [] for warning in prompt.warnings)
    for shown in HOSTILE.values():
        assert f"`{shown}` {CONTROL_NOTE}" in prompt.text
    assert "### CODE/e\\e]2;x\\x07.py" in prompt.text  # the code's heading
    assert "print('\\e[2J')" in prompt.text  # and the code itself: it is printed and copied too
    assert "never saved" not in prompt.text


def test_the_note_prefill_shows_names_escaped_and_they_still_match_the_outputs(hostile: Path) -> None:
    project = open_project(hostile)
    note = prefill_note(project.root, project.inventory)
    text = write_note(note)
    assert raw_controls(text) == []
    for shown in HOSTILE.values():
        assert f"`{shown}` {CONTROL_NOTE}" in text
    # The outputs the note names (escaped) are the ones in OUTPUT/: none is reported missing.
    (hostile / "RESTART").mkdir(exist_ok=True)
    (hostile / "RESTART" / "restart-note.md").write_text(text, encoding="utf-8")
    project = open_project(hostile)
    context = compose.gather(project.root, project.inventory, plan_uploads(project.inventory))
    assert len(compose.named_outputs(note.get("outputs"))) == len(HOSTILE)
    assert context.missing == []


def test_the_support_report_shows_a_pasted_name_escaped() -> None:
    from liferaft.core.diagnose.support import SupportDetails, build_report, environment

    report = build_report(SupportDetails(error_text="cannot open a\x1b]2;pwned\x07.csv\nsecond line"),
                          environment(FROZEN_NOW))
    assert raw_controls(report) == []
    assert "> cannot open a\\e]2;pwned\\x07.csv\n> second line" in report


# --- the workbench -------------------------------------------------------------------------------------------


async def test_the_workbench_shows_names_escaped(hostile: Path) -> None:
    app = LiferaftApp(hostile, now=lambda: FROZEN_NOW, theme="textual-dark")
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        pane = app.query_one(ProjectPane)
        labels = []
        for line in range(pane.last_line + 1):
            node = pane.get_node_at_line(line)
            assert node is not None
            labels.append(node.label.plain)
        assert all(raw_controls(label) == [] for label in labels), labels
        for shown in HOSTILE.values():
            assert any(shown in label for label in labels), (shown, labels)
        assert raw_controls(app.title) == [] and raw_controls(app.sub_title) == []
        await pilot.press("down")  # the first file in SOURCE
        record = pane.selected_record
        assert isinstance(record, FileRecord) and record.role is Role.SOURCE
        details = details_text(app)
        assert raw_controls(details) == [] and shown_name(record.display_path) in details
        preview = app.query_one("#preview")
        assert raw_controls(str(preview.border_title)) == [], preview.border_title
        assert raw_controls(str(app.query_one("#status", Static).render())) == []
        await pilot.press("o")
        await pilot.pause()
        await pilot.press("end", "enter")  # the last choice
        await pilot.pause()
        messages = [notification.message for notification in app._notifications]
        assert any(" is now " in message for message in messages), messages
        assert all(raw_controls(message) == [] for message in messages), messages
        assert any(shown_name(record.display_path) in message for message in messages), messages
    assert names_on_disk(hostile) == set(HOSTILE)


def test_an_exports_upload_names_show_escaped_in_the_import_details() -> None:
    """Titles in an export are cleaned when read; the names of its uploads and sandbox files are shown here."""
    from liferaft.core.recover.listing import ConversationSummary
    from liferaft.tui.screens.recover_import import details_view

    summary = ConversationSummary("c1", "Sales", None, None, None, 1, 2, uploads=("b\x1b[2J.csv",),
                                  generated=("/mnt/data/c\x1b]52;c;ZXZpbA==\x07.png",))
    text = details_view(summary).plain
    assert raw_controls(text) == []
    assert "b\\e[2J.csv" in text and "c\\e]52;c;ZXZpbA==\\x07.png" in text

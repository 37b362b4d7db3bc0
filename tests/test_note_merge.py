"""A restart note changed in two places at once (the editor, and the file on disk): merged section by section,
keeping both sides' text (issue #14)."""

from __future__ import annotations

from pathlib import Path

import pytest

from liferaft.core.restart_note import merge_notes, read_note_text, render_note, save_note, write_note
from liferaft.core.scan import scan
from tests.conftest import write

BASE = render_note("Sales", {"brief": "Old brief.", "files": "- sales.csv", "notes": "- one"})


def merged(mine: str, theirs: str, base: str = BASE) -> str:
    return write_note(merge_notes(base, mine, theirs))


def test_a_section_changed_on_one_side_takes_that_side() -> None:
    mine = BASE.replace("- sales.csv", "- sales.csv\n- customers.xlsx")
    theirs = BASE.replace("Old brief.", "New brief from the export.")
    result = merged(mine, theirs)
    assert "- sales.csv\n- customers.xlsx" in result and "New brief from the export." in result
    assert "Old brief." not in result
    assert merged(mine, BASE) == mine and merged(BASE, theirs) == theirs and merged(mine, mine) == mine


def test_a_section_changed_on_both_sides_keeps_both_texts() -> None:
    mine = BASE.replace("- one", "- one\n- mine").replace("Old brief.", "My brief.")
    theirs = BASE.replace("- one", "- one\n- theirs").replace("Old brief.", "Their brief.")
    result = merged(mine, theirs)
    notes = result.split("## Notes", 1)[1]
    assert notes.strip() == "- one\n- mine\n- theirs"  # a list stays one list; the shared line once
    brief = result.split("## Project brief", 1)[1].split("## Files used", 1)[0]
    assert "My brief." in brief and "Their brief." in brief and brief.index("My") < brief.index("Their")


def test_sections_liferaft_does_not_know_are_kept_from_both_sides() -> None:
    mine = BASE + "\n## My extras\n\nmine only\n"
    theirs = BASE + "\n## Appendix\n\ntheirs only\n"
    result = merged(mine, theirs)
    assert "## My extras\n\nmine only" in result and "## Appendix\n\ntheirs only" in result
    # One side deleting a section the other left as it was deletes it.
    base = BASE + "\n## Old\n\nkept?\n"
    assert "## Old" not in merged(BASE, base.replace("- one", "- one\n- theirs"), base=base)


def test_a_code_block_added_outside_stays_whole() -> None:
    mine = BASE.replace("Old brief.", "Mine.")
    theirs = BASE.replace("Old brief.", "```\nOld brief.\n```")
    brief = merged(mine, theirs).split("## Project brief", 1)[1].split("## Files used", 1)[0]
    assert "Mine." in brief and "```\nOld brief.\n```" in brief


def test_read_note_text(tmp_path: Path) -> None:
    assert read_note_text(tmp_path / "none.md") is None
    write(tmp_path / "n.md", "# Note\n")
    assert read_note_text(tmp_path / "n.md") == "# Note\n"


def test_a_note_that_appeared_since_the_scan_is_replaced_only_when_asked(tmp_path: Path) -> None:
    root = tmp_path / "p"
    (root / "RESTART").mkdir(parents=True)
    inventory = scan(root)  # no note yet
    write(root / "RESTART/restart-note.md", "theirs\n")
    from liferaft.core.restart_note import NoteError, parse_note

    with pytest.raises(NoteError, match="appeared"):
        save_note(root, inventory, parse_note("mine\n"))
    assert (root / "RESTART/restart-note.md").read_text() == "theirs\n"
    save_note(root, inventory, parse_note("mine and theirs\n"), replace=True)
    assert (root / "RESTART/restart-note.md").read_text() == "mine and theirs\n"

"""Importing the chat's reply into the restart note (issue #14, item 9): real handoffs and summaries from public
repositories (tests/data/real/note_replies, see SOURCES there), and one test per rule of the importer."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from liferaft.core.restart_note import (
    merge_reply,
    new_note,
    parse_note,
    render_note,
    reply_section_key,
    split_reply,
    write_note,
)

CORPUS = Path(__file__).parent / "data" / "real" / "note_replies"
LABELS = tomllib.loads((CORPUS / "labels.toml").read_text(encoding="utf-8"))


def _content_lines(reply: str) -> list[str]:
    """The reply's lines that carry text: not blank, not a fence, not a rule."""
    out = []
    for line in reply.split("\n"):
        bare = line.strip()
        if not bare or re.fullmatch(r"(`{3,}|~{3,}).*", bare) or re.fullmatch(r"(?:[-*_][ \t]*){3,}", bare):
            continue
        out.append(bare)
    return out


def _core(line: str) -> str:
    """What must survive of a line: without heading marks, emphasis and list markers."""
    text = re.sub(r"^#{1,6}\s*", "", line).strip()
    text = re.sub(r"^(?:[-*+]|\d{1,3}[.)])\s+", "", text)
    return text.replace("*", "").replace("_", "").strip().rstrip(":").strip()


@pytest.mark.parametrize("name", sorted(LABELS))
def test_real_replies_are_accepted_or_refused_as_labelled_and_lose_no_line(name: str) -> None:
    label = LABELS[name]
    reply = (CORPUS / f"{name}.md").read_text(encoding="utf-8")
    result = merge_reply(new_note("x"), reply, "2026-01-01")
    assert ("refused" if result.refused else "accepted") == label["expected"], result.refused
    if result.refused:
        assert "\n" not in result.refused and write_note(result.note) == write_note(new_note("x"))
        return
    written = write_note(result.note).replace("*", "").replace("_", "")
    for line in _content_lines(reply):
        if line in result.left_out:
            continue
        assert _core(line) in written, f"lost: {line!r}"
    for key, fragment in label.get("lands", []):
        assert fragment in result.note.get(key), (key, fragment)
    for key, fragment in label.get("absent", []):
        assert fragment not in result.note.get(key), (key, fragment)


def test_corpus_accuracy_is_reported() -> None:
    right = sum(
        ("refused" if split_reply((CORPUS / f"{name}.md").read_text(encoding="utf-8")).refused else "accepted")
        == label["expected"]
        for name, label in LABELS.items()
    )
    assert right == len(LABELS)


def test_a_second_import_keeps_the_users_own_text_and_marks_the_chats() -> None:
    reply = "## Project brief\nChat brief.\n\n## Files used\n- a.csv\n\n## Notes\nchat note\n"
    first = merge_reply(new_note("x"), reply, "2026-01-01").note
    first.set("brief", "My own brief, edited by hand.")
    second = merge_reply(first, reply.replace("Chat brief.", "Chat brief, again."), "2026-02-02")
    assert second.note.get("brief") == (
        "My own brief, edited by hand.\n\n(from the chat, 2026-02-02)\n\nChat brief, again."
    )
    assert second.kept == ["brief"] and second.changed == ["brief"]  # files and notes already say it
    assert second.note.get("files") == "- a.csv" and second.note.get("notes") == "chat note"


def test_text_that_fits_no_section_goes_to_notes() -> None:
    reply = "## Goal\nForecast demand.\n\n## Current user accounts\n- ian@example.com\n\n## Files\n- a.csv\n"
    parts = split_reply(reply)
    assert parts.sections["notes"] == "**Current user accounts**\n- ian@example.com"
    assert parts.sections["brief"] == "**Goal**\nForecast demand."


def test_headings_inside_code_blocks_are_not_sections() -> None:
    reply = (
        "## Files used\n- a.csv\n\n## Formulas and code decisions\n```python\n## Notes\nx = 1\n```\n"
        "## Generated outputs\n- b.png\n"
    )
    parts = split_reply(reply)
    assert "notes" not in parts.sections and "## Notes" in parts.sections["decisions"]


def test_sandbox_links_go_to_generated_outputs() -> None:
    reply = (
        "## Goal\nChurn by cohort.\n[Download cohorts.csv](sandbox:/mnt/data/cohorts.csv)\n\n"
        "## Next steps\n- check March\n"
    )
    parts = split_reply(reply)
    assert parts.sections["outputs"] == "- [Download cohorts.csv](sandbox:/mnt/data/cohorts.csv)"
    assert "sandbox" not in parts.sections["brief"]


@pytest.mark.parametrize(
    ("heading", "key"),
    [
        ("What to paste/upload in the new convo", "files"),
        ("First message to send in the new convo", "next_prompt"),
        ("Prompt to paste into the new chat", "next_prompt"),
        ("Your files", "files"),
        ("Current status", "brief"),
        ("🎯 What We Accomplished", "brief"),
        ("Objective", "brief"),
        ("Next phase", "notes"),
        ("What to do next", "notes"),
        ("Key decisions & assumptions", "decisions"),
        ("Deliverables", "outputs"),
        ("Chart ideas", None),
        ("What the Next Chat Should Start With", "next_prompt"),
        ("What to Say in New Chat", "next_prompt"),
        ("Updated kickoff template (Phase 2)", "next_prompt"),
        ("1. The prompt (paste this into the new chat)", "next_prompt"),
        ("Key Technical Decisions Already Made", "decisions"),
        ("Operating conventions (keep these)", "decisions"),
        ("TL;DR", "brief"),
        ("What GASSI Is", "brief"),
        ("1. Repo & core files", "files"),
        ("Files Updated (53 total)", None),
        ("8. Definition of done", None),
        ("Pre-Dockerfile Architecture Checklist", None),
        ("13. Why normalization conventions cause confusion", None),
        ("DNG constraints that drive your decoder and pipeline", None),
    ],
)
def test_common_handoff_headings_are_recognised(heading: str, key: str | None) -> None:
    assert reply_section_key(heading) == key


def test_a_reply_that_fits_by_accident_is_refused_with_one_line() -> None:
    code_fix = "The error comes from the index.\n\n```python\ndf = df.reset_index()\n```\n\nThat should fix it."
    assert split_reply(code_fix).refused == "no restart-note sections found"
    stray = "Here is the fix:\n\n```python\nx = 1\n```\n\nRun it again.\n\n### Next steps\n- rerun the chart\n"
    refused = split_reply(stray).refused
    assert refused is not None and "\n" not in refused and "Next steps" in refused


def test_replies_to_liferafts_own_prompt_still_fill_an_empty_note() -> None:
    reply = render_note("Sales", {"brief": "Revenue by region.", "files": "- sales.csv", "notes": "n"})
    result = merge_reply(parse_note(render_note("Sales")), reply, "2026-01-01")
    assert result.changed == ["brief", "files", "notes"] and result.kept == []
    assert result.note.get("brief") == "Revenue by region." and result.lines == {"brief": 1, "files": 1, "notes": 1}


def test_a_message_offered_for_a_new_chat_goes_to_the_next_prompt() -> None:
    reply = (
        "# Handoff\n\n## Current state\nv0.5 works.\n\n**Paste this into the new chat to begin:**\n\n"
        "> Read TODO.md first.\n\n## Key decisions\n- SQLite\n"
    )
    parts = split_reply(reply)
    assert parts.sections["next_prompt"] == "**Paste this into the new chat to begin:**\n\n> Read TODO.md first."
    assert parts.sections["brief"] == "**Current state**\nv0.5 works."


def test_a_reply_announced_for_a_new_chat_is_accepted_with_one_section() -> None:
    reply = "Here is a brief you can paste into a new chat:\n\nWe built the loader.\n\n## Current status\nDone.\n"
    assert split_reply(reply).refused is None
    answer = "The loader had a bug.\n\nI fixed it below.\n\n## Current status\nDone.\n"
    assert split_reply(answer).refused is not None

"""The restart note as a structured document: lossless round trips, heading variants, prefill, the chat's reply,
loading and saving it safely, and `liferaft note`."""

from __future__ import annotations

import os
import random
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from liferaft.core.project import init_project, open_project
from liferaft.core.restart_note import (
    NOTE_FILENAME,
    SECTIONS,
    NoteError,
    NoteSection,
    RestartNote,
    find_note,
    import_reply,
    load_note,
    new_note,
    parse_note,
    prefill_note,
    render_note,
    reply_sections,
    request_prompt,
    save_note,
    section_key,
    write_note,
)
from tests.conftest import cli_env, write

KEYS = [section.key for section in SECTIONS]
HEADINGS = {section.key: section.heading for section in SECTIONS}

FILLED = render_note("Sales review", {
    "brief": "Revenue by region for the QBR.",
    "files": "- sales.csv — every order line\n- budget.xlsx — the 2026 budget",
    "columns": "- region — sales region\n- revenue — quantity × price",
    "next_prompt": "Load sales.csv and re-run analysis.py.",
})


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, copy_demo) -> Path:  # type: ignore[no-untyped-def]
    return copy_demo(tmp_path_factory.mktemp("demo") / "project", big_csv_mb=1)


def round_trips(text: str) -> RestartNote:
    note = parse_note(text)
    written = write_note(note)
    assert written == text
    assert parse_note(written) == note
    return note


# --- round trips ---------------------------------------------------------------------------------------------

HAND_EDITED = {
    "template": render_note("x"),
    "filled": FILLED,
    "empty file": "",
    "only blank lines": "\n\n\n",
    "no trailing newline": FILLED.rstrip("\n"),
    "no title": FILLED.partition("\n")[2],
    "text before the title": "<!-- kept by hand -->\nSome intro\n\n" + FILLED,
    "front matter": "---\nproject: sales\n---\n" + FILLED,
    "changed title": FILLED.replace("# Restart note: Sales review", "#   My own title   #"),
    "text before the first section": FILLED.replace("\n## Project brief", "\nA line I wrote.\n\n## Project brief"),
    "extra blank lines": FILLED.replace("\n\n", "\n\n\n\n"),
    "no blank lines": FILLED.replace("\n\n", "\n"),
    "crlf": FILLED.replace("\n", "\r\n"),
    "mixed line ends": FILLED.replace("## Files used\n", "## Files used\r\n"),
    "a bom": "\ufeff" + FILLED,
    "star bullets": FILLED.replace("- ", "* "),
    "plus bullets": FILLED.replace("- ", "+ "),
    "numbered": FILLED.replace("- sales.csv", "1. sales.csv").replace("- budget", "2) budget"),
    "nested bullets": FILLED.replace("- budget.xlsx", "  - the Q4 part\n- budget.xlsx"),
    "trailing spaces": FILLED.replace("\n", "  \n"),
    "tabs": FILLED.replace("- region", "\t- region"),
    "heading variants": FILLED.replace("## Files used", "##    files   ").replace("## Notes", "## NOTES ##"),
    "unknown section": FILLED.replace("## Notes", "## Data quality\n\nSome rows are odd.\n\n## Notes"),
    "unknown section first": FILLED.replace("## Project brief", "## Timeline\n\n- March\n\n## Project brief"),
    "duplicate section": FILLED + "\n## Files used\n\n- another.csv\n",
    "sub-headings": FILLED.replace("- region", "### By hand\n\n- region"),
    "heading in a code block": FILLED.replace("Load sales.csv", "```python\n## not a heading\n# nor this\n```\nLoad"),
    "tilde fence": FILLED.replace("Load sales.csv", "~~~\n## still code\n~~~\nLoad"),
    "unclosed fence": FILLED.replace("## Notes", "```\n## Notes"),
    "commented-out section": FILLED.replace("## Notes", "<!--\n## Old section\nold\n-->\n## Notes"),
    "hint kept next to text": FILLED.replace("Revenue by", "<!-- my hint -->\nRevenue by"),
    "empty heading": FILLED.replace("## Notes", "##\n\n## Notes"),
    "not headings": FILLED.replace("## Notes", "##Notes\n#hashtag\n ## indented one\n    ## code\n## Notes"),
    "sections only": "## Files used\n- a.csv\n## Generated outputs\n- b.png",
    "two titles": "# One\n# Two\n\n## Notes\n\nx\n",
    "form feed and line separator": FILLED.replace("QBR.", "QBR.\f\u2028## not a heading"),
    "unicode": FILLED.replace("Sales review", "Ventes — revue 2025 ✓"),
    "only a title": "# Restart note: x",
    "setext-like rule": FILLED.replace("## Notes", "Notes\n-----\n\n## Notes"),
}


@pytest.mark.parametrize("text", HAND_EDITED.values(), ids=HAND_EDITED.keys())
def test_a_hand_edited_note_round_trips_byte_for_byte(text: str) -> None:
    round_trips(text)


def _mutate(text: str, rng: random.Random) -> str:
    lines = text.split("\n")
    for _ in range(rng.randint(1, 6)):
        index = rng.randrange(len(lines) + 1)
        choice = rng.randrange(11)
        if choice == 0:
            lines.insert(index, "")
        elif choice == 1:
            lines.insert(index, rng.choice(["- extra", "* extra", "1. extra", "  - nested", "> quote", "text"]))
        elif choice == 2:
            lines.insert(index, rng.choice(["## Appendix", "## files", "## Outputs", "### Sub", "#  Title"]))
        elif choice == 3:
            lines.insert(index, rng.choice(["```", "~~~", "```python", "<!--", "-->", "<!-- c -->"]))
        elif choice == 4 and lines:
            del lines[min(index, len(lines) - 1)]
        elif choice == 5 and lines:
            lines[min(index, len(lines) - 1)] += rng.choice(["  ", "\t", " #", "\r", " ##"])
        elif choice == 6:
            lines.insert(index, rng.choice(["\u2028", "\f", "\ufeff", "é ✓", "\x00"]))
        elif choice == 7 and lines:
            line = lines[min(index, len(lines) - 1)]
            lines[min(index, len(lines) - 1)] = line.replace("- ", rng.choice(["* ", "+ ", "1. ", "-\t"]), 1)
        elif choice == 8 and lines:
            line = lines[min(index, len(lines) - 1)]
            lines[min(index, len(lines) - 1)] = line.upper() if rng.random() < 0.5 else line.lower()
        elif choice == 9:
            lines.insert(index, rng.choice(["## ", "##", "# ", "#"]))
        else:
            lines.insert(index, " " * rng.randrange(5) + "## " + rng.choice(HEADINGS_VARIANTS))
    joined = "\n".join(lines)
    if rng.random() < 0.2:
        joined = joined.replace("\n", "\r\n")
    if rng.random() < 0.2:
        joined = joined.rstrip("\n")
    return joined


HEADINGS_VARIANTS = ["Files used", "FILES", "Generated outputs", "outputs:", "1. Project brief", "Next prompt",
                     "Columns", "Filters", "Formulas", "Notes", "Whatever", "**Decisions**"]


@pytest.mark.parametrize("seed", range(12))
def test_randomly_hand_edited_notes_round_trip(seed: int) -> None:
    rng = random.Random(seed)
    for base in (render_note("x"), FILLED):
        text = base
        for _ in range(40):
            text = _mutate(text, rng)
            round_trips(text)


VALUES = ["x", "- a.csv\n- b.csv", "", "1. one\n\n2. two", "```python\n## not a heading\n```", "é ✓\n  indented"]


@pytest.mark.parametrize("seed", range(8))
def test_changing_a_hand_edited_note_keeps_everything_else(seed: int) -> None:
    rng = random.Random(1000 + seed)
    text = FILLED
    for _ in range(30):
        text = _mutate(text, rng)
        if any(marker in text for marker in ("```", "~~~", "<!--", "-->")):
            text = FILLED  # an unclosed block would swallow whatever follows it: start again
            continue
        note = parse_note(text)
        before = {key: note.get(key) for key in KEYS}
        unknown = [(section.heading, section.text) for section in note.sections if section.key is None]
        key, value = rng.choice(KEYS), rng.choice(VALUES)
        note.set(key, value)
        again = round_trips(write_note(note))
        assert again.get(key) == value.strip()
        assert all(again.get(other) == before[other] for other in KEYS if other != key)
        assert [(section.heading, section.text) for section in again.sections if section.key is None] == unknown
        merged, _updated = import_reply(again, _mutate(REPLY, rng))  # never raises, whatever the reply
        round_trips(write_note(merged))


def test_the_demo_note_round_trips_and_parses_into_its_sections(demo: Path) -> None:
    text = (demo / "RESTART" / NOTE_FILENAME).read_text(encoding="utf-8")
    note = round_trips(text)
    assert note.title == "Restart note: Sales 2025 review"
    assert [section.key for section in note.sections] == KEYS
    assert not note.is_empty() and all(note.get(key) for key in KEYS)
    assert note.items("files")[0].startswith("transactions_2025.csv — ")
    assert len(note.items("files")) == 5
    assert "monthly_trend.png — monthly revenue, one line per region" in note.items("outputs")
    assert note.get("next_prompt").startswith("I'm continuing a sales analysis")


def test_the_cli_demo_note_round_trips(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "liferaft", "demo", "--no-open", str(tmp_path / "d")],
                            capture_output=True, text=True, env=cli_env(), timeout=120)
    assert result.returncode == 0, result.stderr
    raw = (tmp_path / "d" / "RESTART" / NOTE_FILENAME).read_bytes()
    assert write_note(parse_note(raw.decode("utf-8"))).encode("utf-8") == raw
    shown = subprocess.run([sys.executable, "-m", "liferaft", "note", str(tmp_path / "d")],
                           capture_output=True, env=cli_env(), timeout=60)
    assert shown.returncode == 0 and shown.stdout == raw


def test_the_template_is_empty_and_its_hints_are_not_text() -> None:
    note = round_trips(render_note("Q4"))
    assert note.is_empty()
    assert note.title == "Restart note: Q4" and note.preamble == "\n"
    assert [section.key for section in note.sections] == KEYS
    assert all(note.get(key) == "" and "<!--" in note.section(key).body for key in KEYS)
    assert note.empty_keys() == KEYS


# --- headings ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("heading", "key"), [
    ("Project brief", "brief"), ("brief", "brief"), ("Summary", "brief"), ("PROJECT BRIEF:", "brief"),
    ("Files used", "files"), ("files", "files"), ("Files", "files"), ("Source files", "files"),
    ("Files used (SOURCE/)", "files"), ("1. Files used", "files"), ("**Files used**", "files"),
    ("Data files", "files"), ("Columns used", "columns"), ("columns", "columns"), ("Key columns", "columns"),
    ("Filters applied", "filters"), ("Filters", "filters"), ("filtering", "filters"),
    ("Formulas and code decisions", "decisions"), ("Formulas & code decisions", "decisions"),
    ("Decisions", "decisions"), ("Formulas", "decisions"), ("Code decisions", "decisions"),
    ("Generated outputs", "outputs"), ("Outputs", "outputs"), ("output", "outputs"), ("Output files", "outputs"),
    ("Next prompt if the session expires", "next_prompt"), ("Next prompt", "next_prompt"),
    ("Next prompt (if the session expires)", "next_prompt"), ("Restart prompt", "next_prompt"),
    ("Notes", "notes"), ("notes", "notes"), ("Other notes", "notes"), ("  notes  ", "notes"),
    ("Timeline", None), ("Data quality", None), ("", None), ("Appendix: charts", None),
])
def test_headings_are_matched_case_insensitively_and_tolerantly(heading: str, key: str | None) -> None:
    assert section_key(heading) == key


def test_heading_variants_in_a_note_find_their_sections() -> None:
    text = ("# Restart note: x\n\n## brief\nA.\n\n## Files\n- a.csv\n\n## COLUMNS USED\n- c\n\n## Filters:\nf\n\n"
            "## Decisions\nd\n\n## Outputs ##\n- out.png\n\n## Next prompt\np\n\n## notes\nn\n")
    note = round_trips(text)
    assert [section.key for section in note.sections] == KEYS
    assert note.get("files") == "- a.csv" and note.items("outputs") == ["out.png"]
    assert note.section("outputs").heading == "Outputs"


def test_unknown_and_duplicate_sections_are_kept_in_place() -> None:
    text = FILLED.replace("## Notes", "## Data quality\n\nOdd rows.\n\n## Notes") + "\n## files\n\n- twice.csv\n"
    note = round_trips(text)
    headings = [(section.key, section.heading) for section in note.sections]
    assert headings[-3:] == [(None, "Data quality"), ("notes", "Notes"), (None, "files")]
    assert note.sections[-3].text == "Odd rows."
    assert note.get("files").startswith("- sales.csv")  # the first "Files" section is the one
    note.set("notes", "new")
    assert "## Data quality\n\nOdd rows.\n\n## Notes\n\nnew\n\n## files\n\n- twice.csv\n" in write_note(note)


def test_a_heading_in_a_code_block_or_a_comment_is_text() -> None:
    text = "# T\n\n## Next prompt\n\n```\n## Notes\n```\n\n<!--\n## Files used\n-->\n"
    note = round_trips(text)
    assert [section.key for section in note.sections] == ["next_prompt"]
    assert "## Notes" in note.get("next_prompt") and "Files used" not in note.get("next_prompt")


# --- reading and changing sections ---------------------------------------------------------------------------


def test_items_reads_every_bullet_style() -> None:
    body = ("- dash\n* star\n+ plus\n1. one\n2) two\n- [ ] a task\n- [x] done\n  - nested, not an item\n"
            "- wrapped\n  onto two lines\n<!-- hint -->\n```\n- in code\n```\n---\n")
    section = NoteSection("files", "Files used", body)
    assert section.items() == ["dash", "star", "plus", "one", "two", "a task", "done", "wrapped onto two lines"]
    assert NoteSection("files", "Files", "\na.csv\nb.csv\n\n").items() == ["a.csv", "b.csv"]
    assert NoteSection("files", "Files", "<!-- Each file -->\n").items() == []
    assert RestartNote("t").items("files") == []


def test_text_drops_hint_comments_and_blank_lines() -> None:
    section = NoteSection("brief", "Project brief", "\n<!-- hint -->\n\n  Text, <!-- inline --> kept.  \n\n\n")
    assert section.text == "Text,  kept."
    assert NoteSection("brief", "b", "\n<!-- multi\nline -->\n").text == ""


def test_set_replaces_a_body_and_keeps_the_spacing_around_it() -> None:
    note = parse_note(render_note("x"))
    note.set("files", "- a.csv\n- b.csv\n")
    text = write_note(note)
    assert "## Files used\n\n- a.csv\n- b.csv\n\n## Columns used\n" in text
    assert note.get("files") == "- a.csv\n- b.csv"
    note.set("files", "")
    assert write_note(note) == render_note("x")  # an emptied section shows its hint again
    tight = parse_note("## Files used\n- a\n## Notes\nn")
    tight.set("files", "- b")
    tight.set("notes", "m")
    assert write_note(tight) == "## Files used\n- b\n## Notes\nm\n"


def test_set_to_the_same_text_changes_nothing() -> None:
    text = FILLED.replace("- sales.csv", "*   sales.csv").replace("\n\n", "\n\n\n")
    note = parse_note(text)
    for key in KEYS:
        note.set(key, note.get(key))
    assert write_note(note) == text


def test_set_adds_a_missing_section_in_section_order() -> None:
    note = parse_note("# T\n\nintro\n## Project brief\nb\n## Timeline\nt\n## Notes\nn\n")
    note.set("outputs", "- chart.png")
    note.set("files", "- a.csv")
    # An unknown section stays with the one it follows.
    assert [section.heading for section in note.sections] == [
        "Project brief", "Timeline", "Files used", "Generated outputs", "Notes"]
    again = round_trips(write_note(note))
    assert again.get("outputs") == "- chart.png" and again.get("brief") == "b" and again.get("notes") == "n"
    crlf = parse_note("# T\r\n\r\n## Notes\r\nn\r\n")
    crlf.set("brief", "line one\nline two")
    assert write_note(crlf) == "# T\r\n\r\n## Project brief\r\n\r\nline one\r\nline two\r\n\r\n## Notes\r\nn\r\n"
    with pytest.raises(KeyError):
        note.set("bogus", "x")


def test_a_note_built_in_code_writes_a_readable_file() -> None:
    note = RestartNote("Restart note: fresh")
    note.set("notes", "n")
    note.set("brief", "b")
    text = write_note(note)
    assert text == "# Restart note: fresh\n\n## Project brief\n\nb\n\n## Notes\n\nn\n"
    assert parse_note(text) == parse_note(text) and parse_note(text).get("brief") == "b"
    changed = parse_note(FILLED)
    changed.title = "Restart note: renamed"
    changed.sections[0].heading = "Brief"
    assert write_note(changed).startswith("# Restart note: renamed\n\n## Brief\n\nRevenue")


def test_copy_is_independent() -> None:
    note = parse_note(FILLED)
    copy = note.copy()
    copy.set("brief", "other")
    assert note.get("brief") == "Revenue by region for the QBR." and copy == copy.copy() and copy != note


# --- prefill -------------------------------------------------------------------------------------------------


def test_prefill_fills_only_empty_sections_from_the_project(demo: Path) -> None:
    project = open_project(demo)
    blank = new_note("Demo")
    filled = prefill_note(demo, project.inventory, blank)
    assert blank.is_empty()  # the note given is not changed
    files = filled.items("files")
    assert len(files) == 5 and files[0].startswith("budget_2026.xlsx — xlsx, ")
    assert any(item.startswith("transactions_2025.csv — csv, ") and item.endswith("MB") for item in files)
    columns = filled.items("columns")
    assert "final2.csv: month, channel, spend, clicks, conversions" in columns
    transactions = next(item for item in columns if item.startswith("transactions_2025.csv: "))
    assert transactions.endswith(", … (12 columns)") is False and "order_id, order_date" in transactions
    assert {item.partition(" — ")[0] for item in filled.items("outputs")} == {
        "revenue_by_region.png", "sales_2025_cleaned.csv"}
    assert filled.get("brief") == "" and "<!--" in filled.section("brief").body  # left to the user, hint kept
    assert filled.get("filters") == filled.get("decisions") == filled.get("next_prompt") == ""


def test_prefill_never_overwrites_what_the_user_wrote(demo: Path) -> None:
    project = open_project(demo)
    mine = parse_note(render_note("x", {"files": "- only the one I care about.csv"}))
    filled = prefill_note(demo, project.inventory, mine)
    assert filled.get("files") == "- only the one I care about.csv"
    assert filled.get("columns") and filled.get("outputs")
    again = prefill_note(demo, project.inventory, filled)
    assert write_note(again) == write_note(filled)
    demo_note = prefill_note(demo, project.inventory)  # the project's own note: every section already written
    assert write_note(demo_note) == (demo / "RESTART" / NOTE_FILENAME).read_text(encoding="utf-8")


def test_prefill_caps_wide_tables_and_names_files_within_their_folder(tmp_path: Path) -> None:
    header = ",".join(f"c{i}" for i in range(30))
    write(tmp_path / "SOURCE" / "wide.csv", header + "\n" + ",".join("1" * 30) + "\n")
    write(tmp_path / "SOURCE" / "prepared" / "part1.csv", "a,b\n1,2\n")
    write(tmp_path / "SOURCE" / "empty.csv", "")
    filled = prefill_note(tmp_path, open_project(tmp_path).inventory)
    wide = (tmp_path / "SOURCE" / "wide.csv").stat().st_size
    assert filled.items("files") == ["empty.csv — csv, 0 B", "prepared/part1.csv — csv, 8 B",
                                     f"wide.csv — csv, {wide} B"]
    assert filled.items("columns") == [
        "prepared/part1.csv: a, b", "wide.csv: c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, … (30 columns)"]
    assert filled.get("outputs") == ""


# --- asking the chat, and importing its reply ----------------------------------------------------------------


def test_the_request_prompt_asks_for_exactly_the_note_structure() -> None:
    prompt = request_prompt("Sales 2025 review")
    assert "Sales 2025 review" in prompt
    headings = [line[3:] for line in prompt.splitlines() if line.startswith("## ")]
    assert headings == [section.heading for section in SECTIONS]
    lines = prompt.splitlines()
    for heading in headings:  # one line each on what goes in
        after = lines[lines.index(f"## {heading}") + 1]
        assert after and not after.startswith("#")
    assert "every file" in prompt.lower() and "output" in prompt.lower() and "expires" in prompt
    assert reply_sections(prompt).keys() == set(KEYS)  # the chat's answer in that shape imports whole


REPLY = """Sure! Here is the restart note for your analysis:

```markdown
# Restart note: Sales review

### Project brief
Compare 2025 revenue by region.

### Files used
- sales.csv — order lines
- spend.csv — marketing spend

### Columns used
- revenue — quantity × price

---

### Generated outputs
- chart.png — revenue by region

### Next prompt if the session expires
```text
Load sales.csv and continue.
```

### Notes
- Check the Q4 peak.
```

Let me know if you'd like me to change anything!
"""


def test_import_a_fenced_reply_with_level_three_headings_and_chatter() -> None:
    merged, updated = import_reply(new_note("Sales review"), REPLY)
    assert updated == ["brief", "files", "columns", "outputs", "next_prompt", "notes"]
    assert merged.get("brief") == "Compare 2025 revenue by region."
    assert merged.items("files") == ["sales.csv — order lines", "spend.csv — marketing spend"]
    assert merged.get("columns") == "- revenue — quantity × price"  # the rule between sections is layout
    assert merged.get("next_prompt") == "Load sales.csv and continue."  # a prompt "to copy" loses its fence
    assert merged.get("notes") == "- Check the Q4 peak."  # neither the closing fence nor the chatter
    assert merged.get("filters") == ""
    note = parse_note(FILLED)  # a note with the user's own text: kept, the chat's added below it
    merged, updated = import_reply(note, REPLY, date="2026-03-01")
    assert updated == ["brief", "files", "outputs", "next_prompt", "notes"]  # the columns say the same
    assert merged.get("brief") == ("Revenue by region for the QBR.\n\n(from the chat, 2026-03-01)\n\n"
                                   "Compare 2025 revenue by region.")
    assert note.get("brief") == "Revenue by region for the QBR."
    assert merged.title == note.title and [s.heading for s in merged.sections] == [s.heading for s in note.sections]
    round_trips(write_note(merged))


def test_import_keeps_the_sections_a_partial_reply_leaves_out() -> None:
    note = parse_note(FILLED)
    merged, updated = import_reply(note, "## Filters\n\n- 2025 only\n\n## Decisions\n1. revenue = q × p\n")
    assert updated == ["filters", "decisions"]
    assert merged.get("filters") == "- 2025 only" and merged.get("decisions") == "1. revenue = q × p"
    assert all(merged.get(key) == note.get(key) for key in KEYS if key not in updated)
    assert write_note(merged).startswith(write_note(note).split("## Filters applied")[0])


@pytest.mark.parametrize("reply", [
    "**Project brief**\nNew brief.\n\n**Files used:**\n- x.csv\n",
    "# Project brief\nNew brief.\n# Files used\n- x.csv\n",
    "Here you go.\n\n## 1. Project brief\n\nNew brief.\n\n## 2. Files used\n\n- x.csv\n\nHope this helps!\n",
    "~~~\n## project brief\nNew brief.\n## FILES\n- x.csv\n~~~\nAnything else?\n",
    "## Project brief\r\nNew brief.\r\n## Files used\r\n- x.csv\r\n",
])
def test_import_tolerates_the_shapes_chats_reply_in(reply: str) -> None:
    merged, updated = import_reply(parse_note(render_note("x")), reply)
    assert updated == ["brief", "files"]
    assert merged.get("brief") == "New brief." and merged.get("files") == "- x.csv"


def test_import_ignores_empty_and_repeated_sections_and_replies_without_sections() -> None:
    note = parse_note(FILLED)
    merged, updated = import_reply(note, "## Project brief\n\n## Notes\nfirst\n## Notes\nsecond\n")
    assert updated == ["notes"] and merged.get("notes") == "first\n\nsecond"  # no line of the reply is lost
    assert merged.get("brief") == note.get("brief")
    for reply in ("", "Sorry, I cannot see the files anymore.", "## Chart ideas\n- a\n"):
        merged, updated = import_reply(note, reply)
        assert updated == [] and write_note(merged) == write_note(note)
    same, updated = import_reply(note, f"## Project brief\n{note.get('brief')}\n")
    assert updated == [] and write_note(same) == FILLED


def test_import_drops_chatter_after_the_last_section_but_not_notes_that_read_like_it() -> None:
    reply = ("## Notes\n\n- Check Q4.\n\nIf you want the Q4 split, rerun step 3.\n\n"
             "Would you like me to turn this into a checklist?\n")
    merged, updated = import_reply(new_note("x"), reply)
    assert updated == ["notes"] and merged.get("notes") == "- Check Q4.\n\nIf you want the Q4 split, rerun step 3."
    merged, _updated = import_reply(new_note("x"), "## Notes\nkeep\n\n---\n\n*Let me know!*\n")
    assert merged.get("notes") == "keep"


def test_import_keeps_a_code_block_that_is_part_of_a_section() -> None:
    reply = "## Formulas and code decisions\n\n```python\n## step 1\nrevenue = q * p\n```\n\n## Notes\nn\n"
    merged, updated = import_reply(new_note("x"), reply)
    assert updated == ["decisions", "notes"]
    assert merged.get("decisions") == "```python\n## step 1\nrevenue = q * p\n```"


# --- loading and saving --------------------------------------------------------------------------------------


def test_load_and_save_a_note(demo: Path, tmp_path: Path) -> None:
    root = tmp_path / "p"
    init_project(root)
    inventory = open_project(root).inventory
    note, record = load_note(root, inventory)
    assert note is not None and record is not None and record.path == "RESTART/restart-note.md"
    assert note.is_empty()
    note.set("brief", "A brief.")
    assert save_note(root, inventory, note) == root / "RESTART" / NOTE_FILENAME
    assert parse_note((root / "RESTART" / NOTE_FILENAME).read_text()).get("brief") == "A brief."
    assert not [p for p in (root / "RESTART").iterdir() if p.name.startswith(".liferaft-tmp")]
    assert load_note(tmp_path / "nothing-here-yet", open_project(demo).inventory.__class__(tmp_path)) == (None, None)


def test_save_creates_the_note_in_the_restart_folder_whatever_its_name(tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()
    write(tmp_path / "data" / "a.csv", "x\n1\n")
    inventory = open_project(tmp_path).inventory
    assert load_note(tmp_path, inventory) == (None, None)
    path = save_note(tmp_path, inventory, new_note("t"))
    assert path == tmp_path / "notes" / NOTE_FILENAME
    assert find_note(open_project(tmp_path).inventory) is not None
    bare = tmp_path / "bare"
    bare.mkdir()
    assert save_note(bare, open_project(bare).inventory, new_note("t")) == bare / "RESTART" / NOTE_FILENAME


def test_bad_notes_raise_one_line_note_errors_and_nothing_is_written(tmp_path: Path) -> None:
    def fails(root: Path, match: str) -> None:
        inventory = open_project(root).inventory
        with pytest.raises(NoteError, match=match) as caught:
            load_note(root, inventory)
        assert "\n" not in str(caught.value) and isinstance(caught.value, OSError)

    latin = write(tmp_path / "latin" / "RESTART" / NOTE_FILENAME, "# Caf\xe9\n".encode("latin-1"))
    fails(tmp_path / "latin", "not UTF-8")
    assert latin.read_bytes() == b"# Caf\xe9\n"
    (tmp_path / "folder" / "RESTART" / NOTE_FILENAME).mkdir(parents=True)
    fails(tmp_path / "folder", "is a folder")
    with pytest.raises(NoteError, match="is a folder"):
        save_note(tmp_path / "folder", open_project(tmp_path / "folder").inventory, new_note("x"))
    (tmp_path / "fifo" / "RESTART").mkdir(parents=True)
    os.mkfifo(tmp_path / "fifo" / "RESTART" / NOTE_FILENAME)
    fails(tmp_path / "fifo", "not a regular file")
    (tmp_path / "dangling" / "RESTART").mkdir(parents=True)
    os.symlink(tmp_path / "gone.md", tmp_path / "dangling" / "RESTART" / NOTE_FILENAME)
    fails(tmp_path / "dangling", "is a link")
    outside = write(tmp_path / "elsewhere.md", "# out\n")
    (tmp_path / "out" / "RESTART").mkdir(parents=True)
    os.symlink(outside, tmp_path / "out" / "RESTART" / NOTE_FILENAME)
    fails(tmp_path / "out", "link out of the project")
    big = write(tmp_path / "big" / "RESTART" / NOTE_FILENAME, "x" * (5 * 1024 * 1024))
    fails(tmp_path / "big", "larger than 4 MB")
    assert big.stat().st_size == 5 * 1024 * 1024


def test_a_file_where_the_restart_folder_goes_is_refused_on_save(tmp_path: Path) -> None:
    write(tmp_path / "RESTART", "not a folder\n")
    inventory = open_project(tmp_path).inventory
    assert load_note(tmp_path, inventory) == (None, None)
    with pytest.raises(NoteError, match="RESTART is not a folder"):
        save_note(tmp_path, inventory, new_note("x"))
    assert (tmp_path / "RESTART").read_text() == "not a folder\n"


def test_save_never_writes_through_a_link(tmp_path: Path) -> None:
    root = tmp_path / "p"
    real = write(root / "RESTART" / "real.md", "# real\n")
    os.symlink("real.md", root / "RESTART" / NOTE_FILENAME)
    inventory = open_project(root).inventory
    note, record = load_note(root, inventory)  # a link inside the project may be read...
    assert note is not None and note.title == "real" and record is not None
    note.set("brief", "x")
    with pytest.raises(NoteError, match="is a link"):  # ...never written through
        save_note(root, inventory, note)
    assert real.read_text() == "# real\n" and (root / "RESTART" / NOTE_FILENAME).is_symlink()


# --- the command line ----------------------------------------------------------------------------------------


def note_cli(*args: str, env: dict[str, str] | None = None, stdin: str | None = None,
             cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "liferaft", "note", *args], capture_output=True, text=True,
                          env=env or cli_env(), input=stdin if stdin is not None else "", timeout=60, cwd=cwd)


def one_line_error(result: subprocess.CompletedProcess[str], code: int = 1) -> str:
    assert result.returncode == code, result
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("liferaft: "), result.stderr
    return lines[0]


def snapshot(root: Path) -> dict[str, bytes | str]:
    return {p.relative_to(root).as_posix(): p.read_bytes() if p.is_file() and not p.is_symlink() else "other"
            for p in sorted(root.rglob("*"))}


@pytest.fixture
def editor(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A stand-in editor: appends a line to the file it is given."""
    script = tmp_path_factory.mktemp("bin") / "append-editor"
    write(script, "#!/bin/sh\nprintf 'Edited by hand.\\n' >> \"$1\"\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def test_note_prints_the_file_as_it_is(tmp_path: Path) -> None:
    text = "\ufeffintro\n# Mine\n## files\n* a.csv  \n## Timeline\nsoon"
    write(tmp_path / "RESTART" / NOTE_FILENAME, text)
    result = subprocess.run([sys.executable, "-m", "liferaft", "note", str(tmp_path)], capture_output=True,
                            env=cli_env(), timeout=60)
    assert result.returncode == 0 and result.stdout == text.encode("utf-8") and result.stderr == b""
    assert note_cli(cwd=tmp_path).stdout.endswith("soon")


def test_note_without_a_note_says_how_to_make_one(tmp_path: Path) -> None:
    message = one_line_error(note_cli(str(tmp_path)))
    assert "liferaft init" in message and "liferaft note --edit" in message
    assert list(tmp_path.iterdir()) == []
    one_line_error(note_cli(str(tmp_path / "missing")), code=2)


def test_note_edit_opens_the_editor_on_the_note(tmp_path: Path, editor: Path) -> None:
    init_project(tmp_path / "p")
    result = note_cli("--edit", str(tmp_path / "p"), env=cli_env(EDITOR=str(editor), VISUAL=""))
    assert result.returncode == 0, result.stderr
    assert "sections filled" in result.stdout
    text = (tmp_path / "p" / "RESTART" / NOTE_FILENAME).read_text()
    assert text == render_note("p") + "Edited by hand.\n"
    assert parse_note(text).get("notes") == "Edited by hand."
    visual = note_cli("--edit", str(tmp_path / "p"), env=cli_env(VISUAL=f"{editor} ", EDITOR="false"))
    assert visual.returncode == 0 and (tmp_path / "p" / "RESTART" / NOTE_FILENAME).read_text().endswith(
        "Edited by hand.\nEdited by hand.\n")


def test_note_edit_creates_a_prefilled_note_first(tmp_path: Path, editor: Path) -> None:
    write(tmp_path / "SOURCE" / "orders.csv", "order_id,revenue\n1,2\n")
    write(tmp_path / "OUTPUT" / "chart.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 10)
    result = note_cli("--edit", str(tmp_path), env=cli_env(EDITOR=str(editor), VISUAL=""))
    assert result.returncode == 0, result.stderr
    assert "created  RESTART/restart-note.md" in result.stdout
    note = parse_note((tmp_path / "RESTART" / NOTE_FILENAME).read_text())
    assert note.title == f"Restart note: {tmp_path.name}"
    assert note.items("files") == ["orders.csv — csv, 21 B"]
    assert note.items("columns") == ["orders.csv: order_id, revenue"]
    assert note.items("outputs") == ["chart.png — image, 18 B"]
    assert note.get("notes") == "Edited by hand."


def test_note_edit_with_a_missing_or_failing_editor(tmp_path: Path) -> None:
    init_project(tmp_path / "p")
    before = snapshot(tmp_path / "p")
    message = one_line_error(note_cli("--edit", str(tmp_path / "p"), env=cli_env(VISUAL="no-such-editor-xyz")))
    assert "no-such-editor-xyz" in message and "not found" in message
    env = cli_env(EDITOR="", VISUAL="", PATH=str(tmp_path / "empty-bin"))
    assert "no editor found" in one_line_error(subprocess.run(
        [sys.executable, "-m", "liferaft", "note", "--edit", str(tmp_path / "p")], capture_output=True, text=True,
        env=env, timeout=60))
    assert "exited with status 1" in one_line_error(note_cli("--edit", str(tmp_path / "p"),
                                                             env=cli_env(EDITOR="false", VISUAL="")))
    assert snapshot(tmp_path / "p") == before
    empty = tmp_path / "empty"
    empty.mkdir()
    one_line_error(note_cli("--edit", str(empty), env=cli_env(VISUAL="no-such-editor-xyz")))
    assert list(empty.iterdir()) == []  # nothing created when the editor cannot run


def test_note_prefill_fills_empty_sections_and_says_which(tmp_path: Path) -> None:
    root = tmp_path / "p"
    init_project(root)
    write(root / "SOURCE" / "orders.csv", "order_id,revenue\n1,2\n")
    note_file = root / "RESTART" / NOTE_FILENAME
    note_file.write_text(note_file.read_text().replace(
        "<!-- Every chart, table or file the chat produced, one per line. -->", "- my chart.png"))
    result = note_cli("--prefill", str(root))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["filled   Files used (1 line)", "filled   Columns used (1 line)",
                                          "saved    RESTART/restart-note.md"]
    note = parse_note(note_file.read_text())
    assert note.get("outputs") == "- my chart.png" and note.items("files") == ["orders.csv — csv, 21 B"]
    stamp = note_file.stat().st_mtime_ns
    again = note_cli("--prefill", str(root))
    assert again.returncode == 0 and again.stdout.startswith("Nothing to fill")
    assert note_file.stat().st_mtime_ns == stamp
    fresh = tmp_path / "fresh"
    write(fresh / "data" / "a.csv", "x\n1\n")
    (fresh / "notes").mkdir()
    result = note_cli("--prefill", str(fresh))
    assert result.returncode == 0 and "created  notes/restart-note.md" in result.stdout


def test_note_import_from_a_file_and_from_stdin(tmp_path: Path) -> None:
    root = tmp_path / "p"
    init_project(root)
    reply = write(tmp_path / "reply.md", REPLY)
    result = note_cli("--import", str(reply), str(root))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "imported 7 lines: 1 into Project brief, 2 into Files used, 1 into Columns used, 1 into Generated outputs, "
        "1 into Next prompt if the session expires, 1 into Notes",
        "left out 2 lines of the chat talking: Sure! Here is the restart note for your analysis:; Let me know if "
        "you'd like me to change anything!", "saved    RESTART/restart-note.md"]
    note = parse_note((root / "RESTART" / NOTE_FILENAME).read_text())
    assert note.get("next_prompt") == "Load sales.csv and continue." and note.get("filters") == ""
    piped = note_cli("--import", "-", str(root), stdin="### Filters applied\n- 2025 only\n")
    assert piped.returncode == 0 and piped.stdout.splitlines()[0] == "imported 1 line: 1 into Filters applied"
    note = parse_note((root / "RESTART" / NOTE_FILENAME).read_text())
    assert note.get("filters") == "- 2025 only" and note.get("brief") == "Compare 2025 revenue by region."
    same = note_cli("--import", "-", str(root), stdin="### Filters applied\n- 2025 only\n")
    assert same.returncode == 0 and same.stdout.startswith("Nothing changed")
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    created = note_cli("--import", "-", str(fresh), stdin="## Notes\nfrom the chat\n")
    assert created.returncode == 0 and "created  RESTART/restart-note.md" in created.stdout
    assert parse_note((fresh / "RESTART" / NOTE_FILENAME).read_text()).get("notes") == "from the chat"


def test_note_import_bad_replies_write_nothing(tmp_path: Path) -> None:
    root = tmp_path / "p"
    init_project(root)
    before = snapshot(root)
    assert "no restart-note sections" in one_line_error(note_cli("--import", "-", str(root), stdin="Sorry!"))
    latin = write(tmp_path / "latin.md", "## Notes\ncaf\xe9\n".encode("latin-1"))
    assert "not UTF-8" in one_line_error(note_cli("--import", str(latin), str(root)))
    one_line_error(note_cli("--import", str(tmp_path / "missing.md"), str(root)), code=2)
    one_line_error(note_cli("--import", str(tmp_path), str(root)), code=2)
    os.mkfifo(tmp_path / "pipe")
    one_line_error(note_cli("--import", str(tmp_path / "pipe"), str(root)), code=2)
    one_line_error(note_cli("--import", "", str(root)), code=2)
    one_line_error(note_cli("--edit", "--prefill", str(root)), code=2)
    assert snapshot(root) == before


@pytest.mark.parametrize("option", [[], ["--prefill"], ["--import", "-"], ["--edit"]])
def test_note_commands_refuse_bad_notes_in_one_line(tmp_path: Path, editor: Path, option: list[str]) -> None:
    cases = tmp_path / "cases"
    write(cases / "latin" / "RESTART" / NOTE_FILENAME, "# Caf\xe9\n".encode("latin-1"))
    (cases / "folder" / "RESTART" / NOTE_FILENAME).mkdir(parents=True)
    (cases / "fifo" / "RESTART").mkdir(parents=True)
    os.mkfifo(cases / "fifo" / "RESTART" / NOTE_FILENAME)
    (cases / "dangling" / "RESTART").mkdir(parents=True)
    os.symlink(tmp_path / "gone.md", cases / "dangling" / "RESTART" / NOTE_FILENAME)
    write(tmp_path / "outside.md", "# outside\n")
    (cases / "outside" / "RESTART").mkdir(parents=True)
    os.symlink(tmp_path / "outside.md", cases / "outside" / "RESTART" / NOTE_FILENAME)
    before = snapshot(tmp_path)
    for case in sorted(cases.iterdir()):
        result = note_cli(*option, str(case), env=cli_env(EDITOR=str(editor), VISUAL=""), stdin="## Notes\nx\n")
        one_line_error(result, code=1)
    assert snapshot(tmp_path) == before
    # A link inside the project is shown, but never written through.
    inside = tmp_path / "inside"
    write(inside / "RESTART" / "real.md", "# real\n")
    os.symlink("real.md", inside / "RESTART" / NOTE_FILENAME)
    result = note_cli(*option, str(inside), env=cli_env(EDITOR=str(editor), VISUAL=""), stdin="## Notes\nx\n")
    if option:
        assert "is a link" in one_line_error(result, code=1)
    else:
        assert result.returncode == 0 and result.stdout == "# real\n"
    assert (inside / "RESTART" / "real.md").read_text() == "# real\n"


def test_note_help() -> None:
    result = note_cli("--help")
    assert result.returncode == 0 and "--edit" in result.stdout and "--import" in result.stdout


def test_note_import_says_the_date_it_marks_the_chats_text_with(tmp_path: Path) -> None:
    import datetime

    root = tmp_path / "p"
    init_project(root)
    first = note_cli("--import", "-", str(root), stdin="## Notes\nmy own words\n")
    assert first.returncode == 0, first.stderr
    second = note_cli("--import", "-", str(root), stdin="## Notes\nthe chat's words\n")
    assert second.returncode == 0, second.stderr
    today = datetime.date.today().isoformat()
    assert f"marked (from the chat, {today})" in second.stdout and "{" not in second.stdout
    assert f"(from the chat, {today})" in (root / "RESTART" / NOTE_FILENAME).read_text()

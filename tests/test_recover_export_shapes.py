"""The cases of issue 19, on conversations shaped as 2025-2026 exports hold them (tests/recover_fixtures.py:
every key and status of their messages, the same shapes of upload names, cut-off calls and branches) and on the
fixtures' other conversations."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest

from liferaft.core.project import init_project, open_project
from liferaft.core.recover.record import missing_uploads
from liferaft.core.recover.uploads import find_upload, same_file
from liferaft.core.recover.write import import_raw
from tests import recover_fixtures as fx


@pytest.fixture
def proj(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    init_project(root)
    return root


def _missing(root: Path) -> list[tuple[str, int | None]]:
    return [(item["name"], item["size"]) for item in missing_uploads(root, open_project(root).inventory)]


# --- item 1: uploads whose names differ only by "(n)" ----------------------------------------------------------


def test_uploads_n1_and_n2_of_different_sizes_are_two_files(proj: Path) -> None:
    """A chat uploaded `D02_ THE LONG THAW (1).md` (41,203 B), opened it, then uploaded `... (2).md` (56,114 B):
    two files. Both are missing from an empty SOURCE; with the first back, the second still is."""
    (first, first_size), (second, second_size) = fx.NUMBERED_UPLOADS
    assert (first, second) == ("D02_ THE LONG THAW (1).md", "D02_ THE LONG THAW (2).md")
    result = import_raw(proj, fx.numbered_uploads_conversation())
    assert _missing(proj) == [(first, first_size), (second, second_size)]
    assert sorted(result.uploads_in_source.values(), key=str) == [None, None]

    (proj / "SOURCE" / first).write_bytes(b"x" * first_size)
    assert _missing(proj) == [(second, second_size)]


def test_script_opens_the_n_copy_it_named_not_the_original(tmp_path: Path) -> None:
    """`Untitled document(2).pdf` is another upload than `Untitled document.pdf`: with only the latter in SOURCE,
    the script points at SOURCE/Untitled document(2).pdf, and status lists (2) and (3) as missing."""
    root = tmp_path / "p"
    init_project(root)
    (root / "SOURCE" / "Untitled document.pdf").write_bytes(b"%PDF-1.4\n" + b"a" * 91)  # 100 bytes
    c = fx.Conversation("conv-docs", "Three documents")
    c.user("Compare these", attachments=[fx.attachment("Untitled document.pdf", 100, "application/pdf"),
                                         fx.attachment("Untitled document(2).pdf", 2000, "application/pdf"),
                                         fx.attachment("Untitled document(3).docx", 3000, "application/msword")])
    c.code("import pypdf\nfor n in ('Untitled document.pdf', 'Untitled document(2).pdf'):\n"
           "    pypdf.PdfReader('/mnt/data/' + n)\nopen('/mnt/data/Untitled document(2).pdf', 'rb').read()\n"
           "open('/mnt/data/Untitled document(3).docx', 'rb').read()")
    c.output("")
    result = import_raw(root, c.build())
    assert result.uploads_in_source == {"Untitled document.pdf": "SOURCE/Untitled document.pdf",
                                        "Untitled document(2).pdf": None, "Untitled document(3).docx": None}
    script = (root / str(result.script)).read_text(encoding="utf-8")
    assert "open(str(SOURCE / \"Untitled document(2).pdf\"), 'rb')" in script
    assert _missing(root) == [("Untitled document(2).pdf", 2000), ("Untitled document(3).docx", 3000)]


def test_a_copy_of_the_same_size_is_the_same_file(tmp_path: Path) -> None:
    """The browser's `data (1).csv` of the upload's size stands for `data.csv`; of another size it does not."""
    root = tmp_path / "p"
    init_project(root)
    c = fx.Conversation("conv-data", "Data")
    c.user("Here", attachments=[fx.attachment("data.csv", 120)])
    c.code("import pandas as pd\npd.read_csv('/mnt/data/data.csv')")
    c.output("")
    import_raw(root, c.build())
    copy = root / "SOURCE" / "data (1).csv"
    copy.write_bytes(b"y" * 99)
    assert _missing(root) == [("data.csv", 120)]
    copy.write_bytes(b"y" * 120)
    assert _missing(root) == []


def test_same_file_rules() -> None:
    assert same_file("a.csv", 5, "A.CSV", 9)  # the same name: whatever the size
    assert same_file("a (1).csv", 5, "a.csv", 5) and same_file("a.csv", 5, "a(2).csv", 5)
    assert not same_file("a.csv", 5, "a (1).csv", 6)
    assert same_file("a.csv", None, "a (1).csv", 6)  # no size recorded: the name decides...
    assert not same_file("a.csv", None, "a (1).csv", 6, ambiguous=True)  # ...unless another upload shares it
    assert not same_file("a.csv", 5, "b.csv", 5)
    files = [("x (1).pdf", 10, "first"), ("x.pdf", 20, "second")]
    assert find_upload("x.pdf", 10, files) == "second"  # the same name before a copy of the same size
    assert find_upload("x (2).pdf", 10, files) == "first"
    assert find_upload("x (2).pdf", 11, files) is None
    # macOS writes names decomposed (NFD): the upload the chat knew as "Café.csv" is the same file in SOURCE.
    assert same_file("Café.csv", 5, unicodedata.normalize("NFD", "café.csv"), 9)


# --- item 3: a call cut off mid-stream ---------------------------------------------------------------------------


def test_call_cut_off_mid_stream_is_recovered_as_it_ran(proj: Path) -> None:
    """A call whose message stayed "in_progress" holds the start of its code, cut inside a list; the reply's
    aggregate_result.code holds the whole code that ran. The script has the code that ran, and compiles."""
    from liferaft.core.recover.extract import extract

    conv = fx.cut_off_call_conversation()
    calls = [n["message"] for n in conv["mapping"].values() if (n["message"] or {}).get("recipient") == "python"]
    assert [(m["status"], m["content"]["text"]) for m in calls] == [("in_progress", fx.CUT_OFF_CALL_TEXT)]
    assert fx.CUT_OFF_CALL_TEXT.endswith("summary_table.append([n,title,owner,due,")
    (cell,) = extract(conv).cells
    assert cell.code.endswith("summary_table.append([n,title,owner,due,state,risk,notes])\nsummary_table[0]\n")
    result = import_raw(proj, conv)
    script = (proj / str(result.script)).read_text(encoding="utf-8")
    assert "owner,due,state,risk,notes])" in script
    compile(script, "recovered.py", "exec")


def test_the_code_that_ran_wins_over_the_call_text() -> None:
    from liferaft.core.recover.extract import extract

    c = fx.Conversation("conv-cut", "Cut off")
    c.user("Save it")
    call = c.code("import pandas as pd\ndf = pd.DataFrame({'a': [1]})\ndf.to_csv('/mnt/data/fu")
    c.mapping[call]["message"]["status"] = "in_progress"
    c.output("", code="import pandas as pd\ndf = pd.DataFrame({'a': [1]})\ndf.to_csv('/mnt/data/full.csv')\n")
    conv = extract(c.build())
    assert conv.cells[0].code.endswith("df.to_csv('/mnt/data/full.csv')\n")
    assert [made.path for made in conv.generated] == ["full.csv"]


# --- item 4: --list counts the cells the import takes, and those it leaves on other branches --------------------


def test_branch_counts_in_the_listing() -> None:
    """A chat ran its two cells (each wrote a .docx) on a branch the user then abandoned by editing a prompt: the
    listing says 0 of 2; another ran 41 cells on its branches, 10 on the one shown: 10 of 41. On both of the
    listing's paths (a parsed conversation and the streaming scan)."""
    import io

    from liferaft.core.recover.listing import ArrayScanner, summarize_conversation

    convs = [fx.abandoned_branch_conversation(), fx.many_branches_conversation(), fx.branched_conversation(),
             fx.sales_conversation()]
    expected = [(2, 0), (41, 10), (2, 1), (5, 5)]
    assert [(s.code_cells, s.branch_cells) for s in (summarize_conversation(c, 1) for c in convs)] == expected
    scanned = [summary for summary, _span in ArrayScanner(io.BytesIO(fx.dumps(convs).encode()), "c.json")]
    assert [(s.code_cells, s.branch_cells) for s in scanned] == expected
    # A conversation that is one chain, whose current node is not its last message, is counted from its tree too.
    chain = fx.sales_conversation()
    first_call = next(k for k, n in chain["mapping"].items() if (n["message"] or {}).get("recipient") == "python")
    chain["current_node"] = first_call
    assert summarize_conversation(chain, 1).branch_cells == 1


def test_cli_list_shows_both_counts_and_suggests_all_branches(tmp_path: Path, run_cli) -> None:
    export = fx.write_conversations_json(tmp_path / "conversations.json", [
        fx.abandoned_branch_conversation(), fx.many_branches_conversation(), fx.branched_conversation(),
        fx.sales_conversation()])
    listed = run_cli("import", str(export), "--list")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    rewrite = next(line for line in lines if "Noir style rewrite  [" in line)
    assert "0 of 2 cells" in rewrite
    assert "10 of 41 cells" in next(line for line in lines if "Trim silence from a recording" in line)
    assert "1 of 2 cells" in next(line for line in lines if "Edited question" in line)
    assert "5 cells" in next(line for line in lines if "Sales by region" in line)
    assert "\"Noir style rewrite\" ran its 2 code cells only on branches abandoned by an edit: import it " \
           "with --all-branches." in lines
    data = json.loads(run_cli("import", str(export), "--list", "--json").stdout)
    assert {row["title"]: (row["code_cells"], row["branch_cells"]) for row in data["conversations"]} == {
        "Noir style rewrite": (2, 0), "Trim silence from a recording": (41, 10), "Edited question": (2, 1),
        "Sales by region": (5, 5)}

    project = tmp_path / "p"
    init_project(project)
    imported = run_cli("import", str(export), "--conversation", "Noir style", "--into", str(project))
    assert imported.returncode == 0, imported.stderr
    assert "2 cells ran on branches abandoned by an edit: import again with --all-branches" in imported.stdout
    everything = run_cli("import", str(export), "--conversation", "Noir style", "--into", str(project),
                         "--all-branches", "--json")
    assert everything.returncode == 0, everything.stderr
    assert json.loads(everything.stdout)["code_cells"] == 2

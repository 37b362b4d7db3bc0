"""Canvas documents (the `canmore` tool): replayed to their last state and written into the project."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from liferaft.core.recover.canvas import apply_updates
from liferaft.core.recover.extract import extract
from liferaft.core.recover.sources import open_export
from tests import recover_fixtures as fx


def test_updates_are_applied_in_order_and_a_bad_one_keeps_the_last_good_state() -> None:
    conv = extract(fx.canvas_conversation())
    code, doc = conv.canvases
    assert (code.title, code.doc_type, code.extension) == ("Clean Sales", "code/python", "py")
    # Rewritten whole by ".*" (once, not twice), then one line changed through a group reference.
    assert code.content == "import pandas as pd\n\ndf = pd.read_csv('sales.csv')\nprint(df.describe())\n"
    assert code.applied == 2 and code.skipped == []
    # The refused update changed nothing (no problem), the next applied; the cut-off one (no reply: it goes to the
    # canvas changed last) and the one whose first pattern is not there are skipped whole: "Revenue" stays.
    assert doc.content == "# Findings\n\nRevenue rose 4%.\n"
    assert (doc.applied, doc.refused, len(doc.skipped)) == (1, 1, 2)
    assert conv.problems == [
        'canvas "Findings: Q3 / West": update 3 could not be applied: its JSON in the export is damaged or cut off; '
        "kept as it was before it",
        'canvas "Findings: Q3 / West": update 4 could not be applied: update 1 (\'no such line\') is not found in '
        "the canvas; kept as it was before it"]


@pytest.mark.parametrize("updates, expected", [
    ([{"pattern": ".*", "multiple": True, "replacement": "new"}], "new"),
    ([{"pattern": "b", "multiple": True, "replacement": "B"}], "aBc\naBc"),
    ([{"pattern": "b", "multiple": False, "replacement": "B"}], "aBc\nabc"),
    ([{"pattern": "(a)(b)", "replacement": r"\2\1"}], "bac\nabc"),
    ([{"pattern": "c$", "replacement": r"C\n"}], "abc\nabC\\n"),  # no group: the replacement is taken as written
    ([{"pattern": "(", "replacement": "x"}], None),
    ([{"pattern": "z", "replacement": "x"}], None),
    ([{"pattern": "a"}], None),
    ([], None),
    ("not a list", None),
])
def test_apply_updates(updates: object, expected: str | None) -> None:
    assert apply_updates("abc\nabc", updates)[0] == expected


def test_a_pattern_that_backtracks_for_ever_is_given_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """An update's pattern is the chat's own: one that backtracks for ever on the canvas's text stops at a time
    limit, and the canvas keeps its last state (Python's re would hang the import)."""
    from liferaft.core.recover import canvas

    monkeypatch.setattr(canvas, "PATTERN_TIMEOUT_S", 0.2)
    text, why = apply_updates("a" * 5000 + "!", [{"pattern": "^(a|a?)+$", "multiple": False, "replacement": "x"}])
    assert text is None and "took over 0.2 s to match" in why


def test_prose_canvases_from_a_markdown_wrapper(tmp_path: Path) -> None:
    conv = fx.canvas_prose_conversation()
    export = open_export(fx.write_markdown_wrapper(tmp_path / "0004-survey.md", conv, 4))
    [summary] = list(export.conversations())
    raw = export.load(summary.id)
    assert raw == conv
    extracted = extract(raw)
    first, second = extracted.canvases
    # The title the UI showed (the reply's metadata.canvas.title), not the call's "name".
    assert (first.title, first.doc_type, first.applied) == ("Survey Findings Rewrite", "document", 2)
    second_update = next(n["message"] for n in raw["mapping"].values() if n["message"]
                         and n["message"].get("recipient") == "canmore.update_textdoc"
                         and "SECTION 2" in n["message"]["content"]["parts"][0])
    assert first.content == json.loads(second_update["content"]["parts"][0])["updates"][0]["replacement"]
    # The update the export holds cut off (no reply) leaves the outline as it was created; the
    # get_textdoc_content call answered by a system_error changes nothing and says nothing.
    assert second.title == "Survey Report Outline" and second.applied == 0 and len(second.skipped) == 1
    assert second.content.startswith("TITLE: Hybrid Work Survey 2025")
    assert len(extracted.problems) == 1
    assert "Survey Report Outline" in extracted.problems[0] and "cut off" in extracted.problems[0]


def test_code_canvas_from_a_markdown_wrapper(tmp_path: Path) -> None:
    export = open_export(fx.write_markdown_wrapper(tmp_path / "0070-script.md", fx.canvas_code_conversation(), 70))
    [summary] = list(export.conversations())
    conv = extract(export.load(summary.id))
    [canvas] = conv.canvases
    assert (canvas.title, canvas.extension) == ("Export-survey Tables", "ps1")
    assert canvas.content.startswith("<#\nExport every worksheet") and "Export-Csv" in canvas.content
    assert canvas.applied == 0 and canvas.skipped == [] and conv.problems == [] and export.problems == []


def test_import_writes_canvases_by_title_and_never_over_a_users_file(tmp_path: Path, run_cli) -> None:
    proj = tmp_path / "proj"
    assert run_cli("init", str(proj)).returncode == 0
    mine = proj / "CODE" / "recovered" / "clean-sales.py"
    mine.parent.mkdir(parents=True)
    mine.write_text("# my own\n", encoding="utf-8")
    export = fx.write_single_json(tmp_path / "one.json", fx.canvas_conversation())
    result = run_cli("import", str(export), "--into", str(proj))
    assert result.returncode == 0, result.stderr
    assert mine.read_text(encoding="utf-8") == "# my own\n"
    code = proj / "CODE" / "recovered" / "clean-sales-2.py"
    assert code.read_text(encoding="utf-8").endswith("print(df.describe())\n")
    doc = proj / "RESTART" / "findings-q3-west.md"
    assert doc.read_text(encoding="utf-8") == "# Findings\n\nRevenue rose 4%.\n"
    assert "wrote      CODE/recovered/clean-sales-2.py" in result.stdout
    assert 'Code canvas "Clean Sales" → CODE/recovered/clean-sales-2.py, 2 updates applied.' in result.stdout
    assert ('Canvas "Findings: Q3 / West" → RESTART/findings-q3-west.md, 1 update applied; 2 updates could not be '
            "applied") in result.stdout
    assert "update 4 could not be applied" in result.stderr and "Traceback" not in result.stderr
    # Again: nothing changes; --json says where each canvas is.
    data = json.loads(run_cli("import", str(export), "--into", str(proj), "--json").stdout)
    assert [c["path"] for c in data["canvases"]] == ["CODE/recovered/clean-sales-2.py",
                                                     "RESTART/findings-q3-west.md"]
    assert data["canvases"][1] == {"title": "Findings: Q3 / West", "type": "document", "updates_applied": 1,
                                   "updates_skipped": 2, "path": "RESTART/findings-q3-west.md"}
    assert "CODE/recovered/clean-sales-2.py" in data["unchanged"] and data["written"] == []
    assert not (proj / "CODE" / "recovered" / "clean-sales-3.py").exists()

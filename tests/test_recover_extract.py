"""Extracting one conversation: branch, prompts, cells in both shapes, results, resets, uploads, generated files."""

from __future__ import annotations

import copy

from liferaft.core.recover.extract import extract, sandbox_links, written_paths
from tests import recover_fixtures as fx


def test_sales_cells_results_prompts_and_uploads() -> None:
    conv = extract(fx.sales_conversation())
    assert (conv.id, conv.title, conv.model) == ("conv-sales", "Sales by region", "gpt-4o")
    # The hidden system message and the custom instructions are not prompts.
    assert [p.text for p in conv.prompts] == ["Here are the sales. Total revenue by region, please.",
                                              "Now the monthly trend.", "Add the margin column next."]
    assert all(p.time for p in conv.prompts)
    assert [c.status for c in conv.cells] == ["success", "success", "success", "failed", "success"]
    assert conv.cells[0].code == "import pandas as pd\ndf = pd.read_csv('/mnt/data/sales.csv')\ndf.head()"  # \r\n
    assert conv.cells[3].error == "KeyError: 'date'"
    assert conv.cells[3].prompt == "Now the monthly trend."
    assert [(u.name, u.size, u.mime_type) for u in conv.uploads] == [("sales.csv", 2048, "text/csv")]
    assert len(conv.failed_cells) == 1 and conv.resets == []


def test_generated_files_from_links_code_and_figures() -> None:
    conv = extract(fx.sales_conversation())
    by_kind = {(g.path, g.kind) for g in conv.generated}
    assert ("revenue by region.csv", "code") in by_kind  # %20 in the link, a space in the code: one file
    assert ("charts/by_region.png", "code") in by_kind  # the sub-folder is kept
    assert ("monthly_trend.csv", "code") in by_kind  # the bare link and the code agree
    assert ("file-ChartAAAAAAAAAAAAAAAAAAA", "figure") in by_kind
    assert "sales.csv" not in {g.path for g in conv.generated}  # the upload it read is not an output
    assert len(conv.generated) == 4


def test_2023_era_camel_case_uuid_root_short_reset() -> None:
    conv = extract(fx.era_2023())
    assert conv.uploads[0].name == "data.xlsx" and conv.uploads[0].mime_type == "application/vnd.ms-excel"
    assert conv.uploads[0].size == 9000
    assert [c.status for c in conv.cells] == ["success", "cancelled"]
    assert conv.cells[1].reset and conv.cells[1].epoch == 1 and conv.cells[0].epoch == 0
    assert [(r.epoch, r.cell) for r in conv.resets] == [(1, 2)]
    figure = next(g for g in conv.generated if g.kind == "figure")
    assert figure.file_id == "2073c3f9-f30e-4225-9728-6a3d2d7a41bd"
    # Made before the reset: lost with it, and a link after the reset does not bring it back.
    qr = next(g for g in conv.generated if g.path == "qr.png")
    assert qr.lost and qr.epoch == 0


def test_2025_text_parts_fileservice2_system_error_long_reset_ada() -> None:
    conv = extract(fx.era_2025_text())
    assert conv.cells[0].code.startswith("# Inspect and extract the uploaded ZIP\nimport zipfile\n")
    assert [c.status for c in conv.cells] == ["success", "success", "tool_error", "cancelled"]
    assert conv.cells[2].error.startswith("TransportError")
    assert conv.cells[3].reset and len(conv.resets) == 1
    assert conv.figures[0].file_id == "file-1R4HnhuKkRLspJZ3RgN8D7" and conv.figures[0].width == 640
    paths = {g.path: g for g in conv.generated}
    assert paths["File Inventory.csv"].kind == "visualization"
    assert paths["out/report.md"].kind == "link"  # in backticks, sub-folder kept
    assert "Screenshot 2025-09-22.png" in paths  # URL-decoded
    assert "bundle" not in paths  # a folder is not an output


def test_active_branch_and_all_branches() -> None:
    conv = extract(fx.branched_conversation())
    assert [p.text for p in conv.prompts] == ["Clean the data, dropping empty rows"]
    assert [g.path for g in conv.generated] == ["clean.csv"]
    everything = extract(fx.branched_conversation(), all_branches=True)
    assert [c.abandoned for c in everything.cells] == [True, False]
    assert everything.cells[0].prompt == "Clean the data"
    assert {g.path: g.abandoned for g in everything.generated} == {"abandoned.csv": True, "clean.csv": False}


def test_dangling_current_node_falls_back_to_the_newest_leaf_and_names_unknown_types() -> None:
    conv = extract(fx.dangling_conversation())
    assert [c.status for c in conv.cells] == ["success"]
    assert any("current message" in p for p in conv.problems)
    assert conv.uploads[0].name == "numbers.csv"
    assert not any("do not know" in p for p in conv.problems)  # sonic_webpage is a known kind


def test_unknown_content_type_is_a_problem_not_a_crash() -> None:
    c = fx.Conversation("u", "Unknown")
    c.user("hi")
    c.add({"author": {"role": "assistant"}, "content": {"content_type": "brand_new_kind", "x": 1}})
    conv = extract(c.build())
    assert any("brand_new_kind" in problem for problem in conv.problems)


def test_cycle_in_parents_is_guarded() -> None:
    raw = fx.sales_conversation()
    mapping = raw["mapping"]
    first_user = next(k for k, n in mapping.items() if (n["message"] or {}).get("author", {}).get("role") == "user")
    root = mapping[first_user]["parent"]
    mapping[root]["parent"] = raw["current_node"]  # the root now points back at the leaf
    conv = extract(raw)
    assert conv.cells and any("loop" in p for p in conv.problems)
    assert extract(raw, all_branches=True).cells


def test_huge_output_and_binary_junk() -> None:
    c = fx.Conversation("j", "Junk")
    c.user("go\x00\x01")
    c.code("x = 1\x00\r\nprint('\x07')")
    c.output("y" * 5_000_000)
    conv = extract(c.build())
    assert "\x00" not in conv.cells[0].code and "\r" not in conv.cells[0].code
    assert len(conv.cells[0].output) <= 4000
    assert conv.prompts[0].text.startswith("go")


def test_missing_mapping_and_non_dict_input() -> None:
    assert extract({"title": None}).cells == []
    assert extract("not a conversation").title == "Untitled conversation"
    assert extract({"mapping": {"a": None, "b": 3}, "current_node": "a"}).cells == []


def test_linear_conversation_shape() -> None:
    raw = fx.sales_conversation()
    path = []
    node = raw["current_node"]
    while node:
        path.append(raw["mapping"][node])
        node = raw["mapping"][node]["parent"]
    shared = {"title": "Shared", "linear_conversation": [copy.deepcopy(n) for n in reversed(path)]}
    conv = extract(shared)
    assert len(conv.cells) == 5 and conv.cells[3].status == "failed"


def test_output_without_call_uses_the_code_that_ran() -> None:
    c = fx.Conversation("o", "Orphan")
    c.user("go")
    c.say("thinking")
    c.output("3", code="print(1 + 2)")
    conv = extract(c.build())
    assert [(cell.code, cell.status) for cell in conv.cells] == [("print(1 + 2)", "success")]


def test_link_and_path_helpers() -> None:
    text = ("[a](sandbox:/mnt/data/a%20b.csv) and `sandbox:/mnt/data/sub/c.md`, "
            "bare sandbox:/mnt/data/d.png. and sandbox:/mnt/data/../etc/passwd")
    assert sandbox_links(text) == ["a b.csv", "sub/c.md", "d.png"]
    code = ("pd.read_csv('/mnt/data/in.csv')\nwith open('/mnt/data/notes.txt') as f: pass\n"
            "open('/mnt/data/o.txt', 'w')\n# df.to_csv('/mnt/data/commented.csv')\n"
            "out = '/mnt/data/Report final.pdf'\nsave(f'/mnt/data/{x}.png')\n")
    assert written_paths(code, ["in.csv"]) == ["o.txt", "Report final.pdf"]


def test_links_keep_spaces_in_backticks_and_balance_parentheses() -> None:
    text = ("Here: `sandbox:/mnt/data/My Report (final).pdf` and [Chart (v2)](sandbox:/mnt/data/chart_(v2).png) "
            "and sandbox:/mnt/data/end.csv. (see sandbox:/mnt/data/paren.csv), "
            '[t](sandbox:/mnt/data/titled.csv "Title") and [s](<sandbox:/mnt/data/with space.csv>); '
            "bare sandbox:/mnt/data/bare_(1).csv; ![img](sandbox:/mnt/data/sub%20dir/plot%20(2).png) "
            "**sandbox:/mnt/data/bold.txt**, <sandbox:/mnt/data/angle.md> and `sandbox:/mnt/data/a b.csv`")
    assert sandbox_links(text) == ["My Report (final).pdf", "chart_(v2).png", "end.csv", "paren.csv", "titled.csv",
                                   "with space.csv", "bare_(1).csv", "sub dir/plot (2).png", "bold.txt", "angle.md",
                                   "a b.csv"]


def test_generated_files_from_links_with_spaces_and_parentheses() -> None:
    c = fx.Conversation("bt", "Backticks")
    c.user("go")
    c.say("Here: `sandbox:/mnt/data/My Report (final).pdf` and [Chart (v2)](sandbox:/mnt/data/chart_(v2).png) "
          "and sandbox:/mnt/data/end.csv.")
    assert [made.path for made in extract(c.build()).generated] == ["My Report (final).pdf", "chart_(v2).png",
                                                                     "end.csv"]

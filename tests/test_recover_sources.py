"""Opening every kind of ChatGPT export, loading one conversation, finding assets; bad input."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from liferaft.core.recover.sources import Export, ExportError, open_export
from tests import recover_fixtures as fx


def _summaries(export: Export) -> list[tuple]:
    return [(s.id, s.title, s.create_time, s.update_time, s.model, s.code_cells, s.files)
            for s in export.conversations()]


@pytest.fixture
def convs() -> list[dict]:
    return fx.all_variants()


def _every_kind(tmp_path: Path, convs: list[dict]) -> dict[str, Path]:
    return {
        "classic zip": fx.write_classic_zip(tmp_path / "classic.zip", convs, fx.classic_assets()),
        "sharded zip": fx.write_sharded_zip(tmp_path / "sharded.zip", convs, fx.sharded_assets()),
        "folder": fx.write_folder(tmp_path / "extracted", convs, fx.classic_assets()),
        "conversations.json": fx.write_conversations_json(tmp_path / "c" / "conversations.json", convs),
        "wrapper": fx.write_conversations_json(tmp_path / "w" / "conversations.json", convs, wrapper=True),
        "chat.html": fx.write_html(tmp_path / "h" / "chat.html", convs),
        "zip in a sub-folder": fx.write_classic_zip(tmp_path / "nested.zip", convs, prefix="export-2025/"),
    }


def test_every_kind_lists_the_same_conversations_and_loads_them_unchanged(tmp_path: Path, convs: list[dict]) -> None:
    expected = None
    for kind, path in _every_kind(tmp_path, convs).items():
        with open_export(path) as export:
            listed = _summaries(export)
            assert export.problems == [], kind
            expected = expected or listed
            assert listed == expected, kind
            for conv in convs:
                assert export.load(conv["id"]) == conv, (kind, conv["id"])
    assert [row[0] for row in expected] == [c["id"] for c in convs]


def test_classic_and_sharded_zip_give_the_same_result(tmp_path: Path, convs: list[dict]) -> None:
    classic = open_export(fx.write_classic_zip(tmp_path / "a.zip", convs, fx.classic_assets()))
    sharded = open_export(fx.write_sharded_zip(tmp_path / "b.zip", convs, fx.sharded_assets(), shard_size=4))
    assert "2026" in sharded.kind and "2026" not in classic.kind
    assert len(sharded.documents) == 2
    assert list(classic.conversations()) == [s.__class__(**{**s.__dict__, "document": "conversations.json"})
                                             for s in sharded.conversations()]
    for pointer in ("file-service://file-ChartAAAAAAAAAAAAAAAAAAA",
                    "file-service://2073c3f9-f30e-4225-9728-6a3d2d7a41bd"):
        assert classic.asset(pointer) == sharded.asset(pointer) == fx.PNG_1X1


def test_single_conversation_files_in_both_shapes(tmp_path: Path) -> None:
    conv = fx.sales_conversation()
    for shape in ("api", "exporter"):
        export = open_export(fx.write_single_json(tmp_path / f"{shape}.json", conv, shape=shape))
        [summary] = list(export.conversations())
        assert (summary.id, summary.title, summary.code_cells) == ("conv-sales", "Sales by region", 5)
        assert export.load("Sales by region") == conv


def test_shared_page_linear_conversation_becomes_a_mapping(tmp_path: Path) -> None:
    conv = fx.sales_conversation()
    nodes, nid = [], conv["current_node"]
    while nid:
        nodes.append(conv["mapping"][nid])
        nid = conv["mapping"][nid]["parent"]
    shared = {"title": "Shared", "conversation_id": "share-1", "linear_conversation": nodes[::-1]}
    export = open_export(fx.write_single_json(tmp_path / "shared.json", shared))
    loaded = export.load("share-1")
    assert loaded["id"] == "share-1"
    assert set(loaded["mapping"]) == {n["id"] for n in nodes}
    assert loaded["current_node"] == conv["current_node"]


def test_load_matches_id_prefix_title_and_reports_ambiguity(tmp_path: Path) -> None:
    convs = [fx.sales_conversation("conv-aaa111", "Sales by region"),
             fx.sales_conversation("conv-bbb222", "Sales by month"), fx.plain_chat()]
    export = open_export(fx.write_conversations_json(tmp_path / "conversations.json", convs))
    assert export.load("conv-bbb")["id"] == "conv-bbb222"
    assert export.load("sales BY region")["id"] == "conv-aaa111"
    assert export.load("plain")["id"] == "conv-chat"
    with pytest.raises(ExportError) as many:
        export.load("Sales")
    assert "2 conversations match" in str(many.value) and "conv-aaa111" in str(many.value)
    with pytest.raises(ExportError) as none:
        export.load("nothing like this")
    assert "no conversation matches" in str(none.value) and "\n" not in str(none.value)


def test_load_does_not_parse_the_other_conversations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    convs = [fx.sales_conversation(f"conv-{i}", f"Chat {i}") for i in range(30)]
    export = open_export(fx.write_conversations_json(tmp_path / "conversations.json", convs))
    list(export.conversations())
    calls: list[int] = []
    real = json.JSONDecoder.raw_decode

    def counting(self, s, idx=0):  # type: ignore[no-untyped-def]
        calls.append(len(s))
        return real(self, s, idx)

    monkeypatch.setattr(json.JSONDecoder, "raw_decode", counting)
    assert export.load("conv-17") == convs[17]
    assert calls and max(calls) < len(json.dumps(convs[17], ensure_ascii=False)) * 1.1


def test_assets_by_pointer_name_and_fileservice2(tmp_path: Path, convs: list[dict]) -> None:
    classic = open_export(fx.write_classic_zip(tmp_path / "a.zip", convs, {
        **fx.classic_assets(), "user-abc/file_00000000f9f06209bd573b464a3fb917-photo.jpg": b"\xff\xd8\xffjpeg"}))
    assert classic.asset("file-ChartAAAAAAAAAAAAAAAAAAA") == fx.PNG_1X1
    assert classic.asset('{"url": "file-service://file-ChartAAAAAAAAAAAAAAAAAAA", "bytes": 3}') == fx.PNG_1X1
    assert classic.asset("sediment://file_00000000f9f06209bd573b464a3fb917") == b"\xff\xd8\xffjpeg"
    assert classic.asset("file-service://file-NotInTheZip0000000000") is None
    assert classic.asset("conversations.json") is None  # the data itself is not an asset
    sharded = open_export(fx.write_sharded_zip(tmp_path / "b.zip", convs, fx.sharded_assets()))
    assert sharded.asset_name("file-service://file-ChartAAAAAAAAAAAAAAAAAAA") == "file-ChartAAAAAAAAAAAAAAAAAAA.dat"
    assert sharded.asset("file-ChartAAAAAAAAAAAAAAAAAAA.png") == fx.PNG_1X1  # by its mapped original name
    assert sharded.asset_display_name("file-ChartAAAAAAAAAAAAAAAAAAA.dat") == "file-ChartAAAAAAAAAAAAAAAAAAA.png"


def test_manifest_naming_a_missing_shard_is_a_problem(tmp_path: Path, convs: list[dict]) -> None:
    path = fx.write_sharded_zip(tmp_path / "b.zip", convs, shard_size=2)
    rebuilt = tmp_path / "c.zip"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(rebuilt, "w") as dst:
        for info in src.infolist():
            if info.filename != "conversations-001.json":
                dst.writestr(info, src.read(info))
    export = open_export(rebuilt)
    assert len(list(export.conversations())) == 4
    assert any("conversations-001.json" in p and "missing" in p for p in export.problems)


def test_macos_junk_in_the_zip_is_ignored(tmp_path: Path, convs: list[dict]) -> None:
    path = fx.write_classic_zip(tmp_path / "a.zip", convs, html=False)
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr("__MACOSX/._conversations.json", b"\x00\x05\x16\x07junk")
    export = open_export(path)
    assert len(list(export.conversations())) == len(convs) and not export.problems


def test_html_with_a_big_head_before_the_data(tmp_path: Path) -> None:
    conv = fx.sales_conversation()
    html = "<html><head><style>" + "p{color:red}\n" * 200_000 + "</style></head>" + fx.html_text([conv])
    path = tmp_path / "chat.html"
    path.write_text(html, encoding="utf-8")
    export = open_export(path)
    assert [s.id for s in export.conversations()] == ["conv-sales"]
    assert export.load("conv-sales") == conv


def test_markdown_with_code_becomes_a_conversation(tmp_path: Path) -> None:
    path = tmp_path / "chat.md"
    path.write_text("# Sales review\n\n# User\n\nTotal revenue by region please\n\n# Assistant\n\n"
                    "### Code Interpreter\n\n```python\nimport pandas as pd\ndf = pd.read_csv('/mnt/data/sales.csv')\n"
                    "```\n\n# Tool\n\n### Code Interpreter\n\n```\n   region\n```\n\n# Assistant\n\nDone: "
                    "[chart](sandbox:/mnt/data/chart.png)\n", encoding="utf-8")
    export = open_export(path)
    [summary] = list(export.conversations())
    assert (summary.title, summary.code_cells) == ("Sales review", 1)
    conv = export.load(summary.id)
    calls = [n["message"] for n in conv["mapping"].values() if n["message"] and n["message"].get("recipient")
             == "python"]
    assert "pd.read_csv('/mnt/data/sales.csv')" in calls[0]["content"]["text"]
    assert export.problems == []


def test_markdown_without_code_says_so(tmp_path: Path) -> None:
    path = tmp_path / "chat.md"
    path.write_text("# Sales\n\n#### You:\nPlot it\n\n#### ChatGPT:\nHere is the chart.\n", encoding="utf-8")
    export = open_export(path)
    [summary] = list(export.conversations())
    assert summary.code_cells == 0
    assert any("no executed code" in p for p in export.problems)


@pytest.mark.parametrize("content, expected", [
    (b"", "empty"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "not a ChatGPT export"),
    (b"PK\x03\x04 not really a zip", "damaged or incomplete"),
])
def test_unreadable_files_give_one_line(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "export.bin"
    path.write_bytes(content)
    with pytest.raises(ExportError) as err:
        open_export(path)
    assert expected in str(err.value) and "\n" not in str(err.value)


def test_missing_path_folder_and_zip_without_conversations(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="no such file"):
        open_export(tmp_path / "nope.zip")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ExportError, match=r"no conversations\.json"):
        open_export(tmp_path / "empty")
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as zf:
        zf.writestr("photo.jpg", b"\xff\xd8")
    with pytest.raises(ExportError, match="is it a ChatGPT data export"):
        open_export(tmp_path / "other.zip")


def test_truncated_zip_lists_what_arrived(tmp_path: Path) -> None:
    convs = [fx.sales_conversation(f"conv-{i}", f"Chat {i}") for i in range(40)]
    path = fx.truncate(fx.write_classic_zip(tmp_path / "a.zip", convs, fx.classic_assets(), html=False), 0.5)
    export = open_export(path)
    ids = [s.id for s in export.conversations()]
    assert "incomplete" in export.kind
    assert 5 <= len(ids) < 40 and ids == [f"conv-{i}" for i in range(len(ids))]
    assert any("incomplete" in p and "download the export again" in p for p in export.problems)
    assert any("truncated" in p for p in export.problems)
    assert export.load(ids[-1]) == convs[len(ids) - 1]
    assert export.load(ids[0]) == convs[0]  # seeking back in a member read as a stream


def test_zip_cut_before_any_conversation(tmp_path: Path) -> None:
    path = fx.truncate(fx.write_classic_zip(tmp_path / "a.zip", [fx.plain_chat()]), 0.02)
    with pytest.raises(ExportError) as err:
        open_export(path)
    assert "download the export again" in str(err.value) and "\n" not in str(err.value)


def test_truncated_conversations_json_lists_what_is_complete(tmp_path: Path) -> None:
    convs = [fx.sales_conversation(f"conv-{i}", f"Chat {i}") for i in range(10)]
    path = fx.truncate(fx.write_conversations_json(tmp_path / "conversations.json", convs), 0.55)
    export = open_export(path)
    ids = [s.id for s in export.conversations()]
    assert ids == [f"conv-{i}" for i in range(len(ids))] and 3 <= len(ids) <= 5
    assert len(export.problems) == 1 and "truncated" in export.problems[0]
    assert export.load(ids[-1]) == convs[len(ids) - 1]


def test_a_damaged_shard_does_not_stop_the_others(tmp_path: Path, convs: list[dict]) -> None:
    path = fx.write_sharded_zip(tmp_path / "b.zip", convs, shard_size=2)
    rebuilt = tmp_path / "c.zip"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(rebuilt, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "conversations-001.json":
                data = data[: len(data) // 2]
            dst.writestr(info, data)
    export = open_export(rebuilt)
    ids = [s.id for s in export.conversations()]
    assert {"conv-2023", "conv-chat", "conv-branch", "conv-sales"} <= set(ids)
    assert any("conversations-001.json" in p for p in export.problems)


def test_syntax_error_in_one_conversation(tmp_path: Path) -> None:
    convs = [fx.sales_conversation(f"conv-{i}", f"Chat {i}") for i in range(4)]
    text = fx.dumps(convs)
    # Break the second conversation's mapping: a message's text loses its closing quote.
    second = text.index('"id": "conv-1-n005"')
    broken = text[:second] + '"id": "conv-1-n005, ' + text[second + len('"id": "conv-1-n005"'):]
    path = tmp_path / "conversations.json"
    path.write_text(broken, encoding="utf-8")
    export = open_export(path)
    ids = [s.id for s in export.conversations()]
    assert {"conv-0", "conv-2", "conv-3"} <= set(ids)
    assert export.load("conv-3") == convs[3]
    if "conv-1" in ids:  # listed from its own fields: loading it says what is wrong, in one line
        with pytest.raises(ExportError) as err:
            export.load("conv-1")
        assert "not valid JSON" in str(err.value) and "\n" not in str(err.value)
    else:
        assert export.problems


def test_binary_junk_in_text(tmp_path: Path) -> None:
    conv = fx.sales_conversation()
    conv["title"] = "Sales \x00\x07 by region"
    raw = fx.dumps([conv, fx.plain_chat()]).encode("utf-8")
    raw = raw.replace(b"Here are the sales.", b"Here \xff\xfe\x80 are the sales.")
    path = tmp_path / "conversations.json"
    path.write_bytes(raw)
    export = open_export(path)
    listed = list(export.conversations())
    assert [s.id for s in listed] == ["conv-sales", "conv-chat"]
    assert "\x00" not in listed[0].title and listed[0].title.startswith("Sales")
    loaded = export.load("conv-sales")
    assert loaded["id"] == "conv-sales"


def test_duplicate_ids_are_listed_and_loaded_separately(tmp_path: Path) -> None:
    first, second = fx.sales_conversation("dup", "First"), fx.sales_conversation("dup", "Second")
    export = open_export(fx.write_conversations_json(tmp_path / "c.json", [first, second, fx.plain_chat()]))
    listed = list(export.conversations())
    assert [(s.id, s.title) for s in listed][:2] == [("dup", "First"), ("dup", "Second")]
    assert export.load("First") == first and export.load("Second") == second
    assert export.load(export.key_for(listed[1])) == second and export.load(export.key_for(listed[0])) == first
    assert export.key_for(listed[2]) == "conv-chat"
    with pytest.raises(ExportError) as many:
        export.load("dup")
    assert "2 conversations match" in str(many.value) and "@2" in str(many.value)


def test_a_password_protected_zip_is_one_line(tmp_path: Path, convs: list[dict]) -> None:
    path = fx.mark_encrypted(fx.write_classic_zip(tmp_path / "e.zip", convs, fx.classic_assets()))
    with pytest.raises(ExportError) as err:
        open_export(path)
    assert "password" in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("text", ["{}", '{"id": "user-1", "email": "someone@example.com"}', "[{}]"])
def test_json_that_is_not_a_conversation_is_rejected(tmp_path: Path, text: str) -> None:
    path = tmp_path / "thing.json"
    path.write_text(text, encoding="utf-8")
    export = open_export(path)
    assert list(export.conversations()) == []
    assert len(export.problems) == 1 and "not a ChatGPT conversation" in export.problems[0]


def test_markdown_that_wraps_the_raw_json_reads_the_json(tmp_path: Path) -> None:
    # A wrapper: a heading, a few `- key: value` lines, then the conversation's JSON (keys sorted, indent 2) in a
    # ```json fence; the conversation is one of a 2025 web export's, with every field it writes.
    wrapped = fx.canvas_prose_conversation()
    export = open_export(fx.write_markdown_wrapper(tmp_path / "0004-survey.md", wrapped, 4))
    [summary] = list(export.conversations())
    assert (summary.id, summary.title) == ("68a1c0de-5e1f-8000-9a2b-0c0ffee00004", "Rewriting the survey write-up")
    conv = export.load(summary.id)
    assert conv == wrapped and conv["current_node"] == "68a1c0de-5e1f-8000-9a2b-0c0ffee00004-n013"
    assert len(conv["mapping"]) == 14
    assert export.problems == []
    # The fixture conversation wrapped the same way keeps its cells (pretty-printed, after other fences).
    conv = fx.sales_conversation()
    path = tmp_path / "wrapped.md"
    path.write_text("# Sales by region\n\n```bash\nls\n```\n\n```json\n" + json.dumps(conv, indent=2)
                    + "\n```\n", encoding="utf-8")
    export = open_export(path)
    [summary] = list(export.conversations())
    assert summary.code_cells == 5 and export.load("conv-sales") == conv


def test_markdown_whose_json_block_is_damaged_says_so_in_one_line(tmp_path: Path) -> None:
    text = fx.markdown_wrapper(fx.canvas_prose_conversation(), 4)
    path = tmp_path / "cut.md"
    path.write_text(text[:3000], encoding="utf-8")
    export = open_export(path)
    assert list(export.conversations()) == []
    assert any("cut.md: the conversation's JSON in the fenced block at line 8 is damaged" in p
               for p in export.problems)
    assert all("\n" not in p for p in export.problems)

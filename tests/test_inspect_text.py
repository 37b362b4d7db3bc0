"""Previewing text, code, JSON, JSON Lines and notebooks: what is shown, what is counted, and bad input."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from liferaft.core.inspect import Preview, inspect_file, json_outline, text
from liferaft.core.inspect.json_outline import inspect_json
from liferaft.core.inspect.notebook import inspect_notebook
from liferaft.core.inspect.text import inspect_text


def look(inspector: Callable[..., Preview], path: Path, **options: object) -> Preview:
    """Inspect ``path`` and check the promises every preview keeps: the file is untouched, messages are one line."""
    before = hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime
    preview = inspector(path, **options)
    assert (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime) == before
    for message in (*preview.notes, *([preview.error] if preview.error else [])):
        assert message.strip() and "\n" not in message, message
    return preview


def facts(preview: Preview) -> dict[str, str]:
    return dict(preview.facts)


def make(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


# --- text --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "kind", "text_format"), [
    ("notes.txt", "text", "text"),
    ("README.md", "markdown", "markdown"),
    ("clean.py", "python", "python"),
    ("query.sql", "sql", "sql"),
    ("model.R", "r", "r"),
    ("LICENSE", "text", "text"),
])
def test_text_formats(tmp_path: Path, name: str, kind: str, text_format: str) -> None:
    path = make(tmp_path, name, "first line\nsecond line\nthird")  # 28 bytes
    preview = look(inspect_text, path)
    assert preview.error is None
    assert (preview.kind, preview.text_format) == (kind, text_format)
    assert preview.text == "first line\nsecond line\nthird"
    assert facts(preview) == {"size": "28 B", "lines": "3", "encoding": "utf-8", "line endings": "LF"}
    assert preview.notes == ()


def test_a_long_text_shows_its_first_64_kb_cut_at_a_line(tmp_path: Path) -> None:
    line = "word " * 19 + "end\n"  # 99 bytes
    path = make(tmp_path, "log.txt", line * 32_323)  # 3.2 MB
    preview = look(inspect_text, path)
    assert preview.text is not None
    assert len(preview.text.encode()) <= 64 * 1024
    assert preview.text.endswith("end\n")
    assert set(preview.text.splitlines()) == {line.rstrip("\n")}
    assert "showing the first 64 KB of 3.2 MB" in preview.notes
    assert facts(preview)["lines"] == "32,323"


def test_a_long_text_line_count_is_estimated_past_the_budget(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(text, "COUNT_CHUNK", 8192)
    monkeypatch.setattr(text, "COUNT_SECONDS", 0.0)
    path = make(tmp_path, "log.txt", "0123456789\n" * 100_000)
    lines = facts(look(inspect_text, path))["lines"]
    assert lines.startswith("≈ ")
    assert abs(int(lines[2:].replace(",", "")) - 100_000) < 5000


def test_text_encodings(tmp_path: Path) -> None:
    french = "Le garçon a mangé une crème brûlée à Orléans.\n"
    latin = look(inspect_text, make(tmp_path, "a.txt", french.encode("latin-1")))
    assert latin.text == french
    assert facts(latin)["encoding"].endswith("(guessed)")
    utf16 = look(inspect_text, make(tmp_path, "b.md", "# Titre\n\nÉté\n".encode("utf-16")))
    assert utf16.text == "# Titre\n\nÉté\n"
    assert facts(utf16)["encoding"] == "utf-16-le (BOM)"
    assert facts(utf16)["lines"] == "3"


def test_binary_named_txt(tmp_path: Path) -> None:
    preview = look(inspect_text, make(tmp_path, "x.txt", b"\x7fELF\x02\x01\x01\x00\x00\x00" * 50))
    assert preview.error is not None and preview.error.startswith("this does not look like text: ")
    assert preview.text is None


def test_empty_text(tmp_path: Path) -> None:
    preview = look(inspect_text, make(tmp_path, "empty.py", b""))
    assert preview.error is None
    assert preview.text == ""
    assert preview.notes == ("the file is empty",)


# --- JSON --------------------------------------------------------------------------------------------

RECORDS = [{"id": i, "name": f"n{i}", "day": f"2025-01-{i % 28 + 1:02d}", "score": i * 0.5,
            "tags": ["a", "b", "c", "d"], "extra": {"x": 1} if i % 2 else None} for i in range(120)]


def test_json_array_of_objects_is_a_table_and_an_outline(tmp_path: Path) -> None:
    preview = look(inspect_json, make(tmp_path, "records.json", json.dumps(RECORDS)), max_rows=20)
    assert preview.error is None
    assert preview.kind == "json"
    found = facts(preview)
    assert found["top level"] == "array · 120 items of objects"
    assert found["items"] == "120"
    assert [(c.name, c.type) for c in preview.columns] == [
        ("id", "integer"), ("name", "text"), ("day", "date"), ("score", "decimal"), ("tags", "text"),
        ("extra", "text"),
    ]
    assert preview.columns[-1].sample_nulls == 60
    assert len(preview.rows) == 20
    assert preview.rows[1][:4] == ("1", "n1", "2025-01-02", "0.5")
    assert preview.text is not None
    assert '"score": number' in preview.text and '"extra": null | object' in preview.text
    assert "first 3 items:" in preview.text


def test_json_object_outline(tmp_path: Path) -> None:
    document = {"type": "FeatureCollection", "features": [{"type": "Feature", "id": n} for n in range(40)],
                "meta": {"source": "survey", "year": 2025}}
    preview = look(inspect_json, make(tmp_path, "map.geojson", json.dumps(document, indent=2)))
    assert facts(preview)["top level"] == "object · 3 keys"
    assert preview.columns == ()
    outline = preview.text or ""
    assert '"type": string "FeatureCollection"' in outline
    assert '"features": array · 40 items of objects' in outline
    assert '"meta": object · 2 keys' in outline
    assert '"year": integer 2025' in outline


def test_bad_json_says_where(tmp_path: Path) -> None:
    preview = look(inspect_json, make(tmp_path, "bad.json", '{\n  "a": 1,\n  "b": [1, 2,]\n}\n'))
    assert preview.error is not None
    assert preview.error.startswith("not valid JSON: ")
    assert "line 3, column 14" in preview.error


@pytest.mark.parametrize("name", ["events.jsonl", "events.json"])
def test_json_lines(tmp_path: Path, name: str) -> None:
    path = make(tmp_path, name, "".join(json.dumps({"i": i, "ok": i % 2 == 0}) + "\n" for i in range(30)))
    preview = look(inspect_json, path)
    assert preview.error is None
    assert facts(preview)["format"] == "JSON Lines"
    assert facts(preview)["records"] == "30"
    assert [(c.name, c.type) for c in preview.columns] == [("i", "integer"), ("ok", "boolean")]
    assert preview.rows[0] == ("0", "true")


def test_bad_json_lines_say_which_line(tmp_path: Path) -> None:
    preview = look(inspect_json, make(tmp_path, "bad.jsonl", '{"a": 1}\n{"a": 2}\n{"a": }\n'))
    assert preview.error is not None and "line 3" in preview.error


def test_large_json_is_streamed_not_loaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(json_outline, "LOAD_LIMIT", 10_000)
    monkeypatch.setattr(json_outline, "STREAM_BYTES", 20_000)
    items = [{"id": i, "name": "x" * 30} for i in range(5000)]
    preview = look(inspect_json, make(tmp_path, "big.json", json.dumps(items)))
    assert preview.error is None
    assert facts(preview)["items"].startswith("≈ ")
    assert abs(int(facts(preview)["items"][2:].replace(",", "")) - 5000) < 500
    assert [c.name for c in preview.columns] == ["id", "name"]
    assert preview.rows[0] == ("0", "x" * 30)
    assert any("first 20.0 KB" in note for note in preview.notes)


def test_large_json_syntax_error_in_the_streamed_part(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(json_outline, "LOAD_LIMIT", 1000)
    path = make(tmp_path, "big.json", '[{"a": 1}, {"a": 2,, }' + " " * 5000 + "]")
    preview = look(inspect_json, path)
    assert preview.error is not None and preview.error.startswith("not valid JSON")


def test_large_json_lines_are_streamed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(json_outline, "LOAD_LIMIT", 10_000)
    path = make(tmp_path, "big.jsonl", "".join(json.dumps({"i": i}) + "\n" for i in range(20_000)))
    preview = look(inspect_json, path)
    assert preview.error is None
    assert facts(preview)["records"] == "20,000"
    assert len(preview.rows) == 50


def test_empty_json(tmp_path: Path) -> None:
    preview = look(inspect_json, make(tmp_path, "e.json", b""))
    assert preview.error is None and preview.notes == ("the file is empty",)


# --- notebooks ---------------------------------------------------------------------------------------


def notebook(cells: list[dict[str, object]]) -> str:
    return json.dumps({
        "cells": cells,
        "metadata": {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
                     "language_info": {"name": "python", "version": "3.11.4"}},
        "nbformat": 4, "nbformat_minor": 5,
    }, indent=1)


def code(source: str | list[str], count: int | None,
         outputs: list[dict[str, object]] | None = None) -> dict[str, object]:
    return {"cell_type": "code", "execution_count": count, "metadata": {}, "outputs": outputs or [],
            "source": source}


IMAGE = {"output_type": "display_data", "data": {"image/png": "iVBORw0KGgo" + "A" * 5000, "text/plain": ["<Figure>"]},
         "metadata": {}}


def test_notebook_cells_in_order_with_outputs_summarised(tmp_path: Path) -> None:
    path = make(tmp_path, "analysis.ipynb", notebook([
        {"cell_type": "markdown", "metadata": {}, "source": ["# Sales\n", "Cleaning the data."]},
        code(["import pandas as pd\n", "df = pd.read_csv('sales.csv')"], 1,
             [{"output_type": "stream", "name": "stdout", "text": ["loaded\n"]}]),
        code("df.plot()", 2, [IMAGE]),
        code("df['regio']", 3, [{"output_type": "error", "ename": "KeyError", "evalue": "'regio'", "traceback": []}]),
        code("", None),
    ]))
    preview = look(inspect_notebook, path)
    assert preview.error is None
    assert preview.kind == "notebook"
    assert preview.text_format == "python"
    found = facts(preview)
    assert found["kernel"] == "Python 3 (ipykernel)"
    assert found["language"] == "python 3.11.4"
    assert found["cells"] == "4 code · 1 markdown"
    assert "1 error" in found["outputs"] and "1 image" in found["outputs"]
    shown = preview.text or ""
    assert shown.index("# Sales") < shown.index("# In [1]:") < shown.index("# In [2]:") < shown.index("# In [3]:")
    assert "df = pd.read_csv('sales.csv')" in shown
    assert "# In [ ]:" in shown
    assert "image/png" in shown and "KeyError" in shown
    assert "iVBORw0KGgo" not in shown  # outputs are named, never shown
    assert any("ended in an error" in note for note in preview.notes)


def test_notebook_run_out_of_order_is_noted(tmp_path: Path) -> None:
    path = make(tmp_path, "n.ipynb", notebook([code("a = 1", 5), code("b = a", 2)]))
    assert any("out of order" in note for note in look(inspect_notebook, path).notes)


def test_bad_notebook_json_says_where(tmp_path: Path) -> None:
    path = make(tmp_path, "broken.ipynb", notebook([code("x = 1", 1)])[:-40])
    preview = look(inspect_notebook, path)
    assert preview.error is not None and preview.error.startswith("not valid JSON")
    assert "line " in preview.error and "column " in preview.error


def test_json_that_is_not_a_notebook(tmp_path: Path) -> None:
    preview = look(inspect_notebook, make(tmp_path, "x.ipynb", '{"a": [1, 2]}'))
    assert preview.error is not None and "not a Jupyter notebook" in preview.error


def test_dispatch_by_kind(tmp_path: Path) -> None:
    assert inspect_file(make(tmp_path, "n.ipynb", notebook([code("x", 1)])), "notebook").text_format == "python"
    assert inspect_file(make(tmp_path, "a.json", "[1, 2]"), "json").kind == "json"
    assert inspect_file(make(tmp_path, "q.sql", "select 1;\n"), "sql").text_format == "sql"

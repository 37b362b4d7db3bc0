"""Previewing Parquet files: footer metadata and the first rows, read without loading the file."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from liferaft.core.inspect import inspect_file
from liferaft.core.inspect.parquet import inspect_parquet
from tests.inspect_helpers import facts, look


@pytest.fixture
def sales(tmp_path: Path) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({
        "id": pa.array(range(1, 8), pa.int64()),
        "region": ["North", "South", None, "East", "West", "North", "South"],
        "revenue": [10.5, 7.0, None, 3.25, 1.0, 2.5, 9.75],
        "paid": [True, False, None, True, True, False, True],
        "day": [date(2025, 1, d) for d in range(1, 8)],
        "at": [datetime(2025, 1, 1, 9, 30)] * 7,
        "tags": [["a", "b"], [], None, ["c"], [], [], []],
    })
    path = tmp_path / "sales.parquet"
    pq.write_table(table, path, row_group_size=3, compression="zstd")
    return path


def test_metadata_facts(sales: Path) -> None:
    preview = look(inspect_parquet, sales)
    assert preview.error is None
    found = facts(preview)
    assert found["rows"] == "7"
    assert found["row groups"] == "3"
    assert found["columns"] == "7"
    assert found["compression"] == "ZSTD"
    assert found["created by"].startswith("parquet-cpp-arrow")
    assert found["format version"]
    assert found["rows shown"] == "7"


def test_first_rows_as_text_across_row_groups(sales: Path) -> None:
    preview = look(inspect_parquet, sales, max_rows=5)
    assert len(preview.rows) == 5  # the first row group holds 3: the next one is read too
    assert preview.rows[0] == ("1", "North", "10.5", "true", "2025-01-01", "2025-01-01 09:30:00", "['a', 'b']")
    assert preview.rows[2] == ("3", "", "", "", "2025-01-03", "2025-01-01 09:30:00", "")
    assert preview.rows[1][2] == "7.0"  # a double stays a double


def test_column_types_and_nulls(sales: Path) -> None:
    columns = {c.name: c for c in look(inspect_parquet, sales).columns}
    assert {name: c.type for name, c in columns.items()} == {
        "id": "integer", "region": "text", "revenue": "decimal", "paid": "boolean", "day": "date",
        "at": "datetime", "tags": "text",
    }
    assert columns["region"].sample_nulls == 1
    assert columns["id"].sample_nulls == 0


def test_schema_outline_has_physical_and_logical_types(sales: Path) -> None:
    outline = look(inspect_parquet, sales).text or ""
    lines = {line.split()[0]: line.split()[1:] for line in outline.splitlines()}
    assert lines["id"] == ["INT64"]
    assert lines["region"] == ["BYTE_ARRAY", "String"]
    assert lines["day"] == ["INT32", "Date"]
    assert lines["tags.list.element"] == ["BYTE_ARRAY", "String"]
    assert "is_from_converted_type" not in outline


def test_max_rows_zero_reads_no_rows(sales: Path) -> None:
    preview = look(inspect_parquet, sales, max_rows=0)
    assert preview.rows == () and len(preview.columns) == 7


def test_through_the_registry(sales: Path) -> None:
    assert inspect_file(sales, "parquet", max_rows=2).rows[1][0] == "2"


def test_an_empty_table(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "none.parquet"
    pq.write_table(pa.table({"a": pa.array([], pa.int32())}), path)
    preview = look(inspect_parquet, path)
    assert preview.error is None and preview.rows == () and facts(preview)["rows"] == "0"
    assert preview.columns[0].type == "integer"


def test_truncated(sales: Path, tmp_path: Path) -> None:
    data = sales.read_bytes()
    for cut in (len(data) // 2, len(data) - 1, 6):
        path = tmp_path / f"cut{cut}.parquet"
        path.write_bytes(data[:cut])
        preview = look(inspect_parquet, path)
        assert preview.error is not None and "cut short" in preview.error


def test_not_parquet(tmp_path: Path) -> None:
    path = tmp_path / "sales.parquet"
    path.write_text("order_id,region\n1,North\n")
    preview = look(inspect_parquet, path)
    assert preview.error is not None and "is not a Parquet file" in preview.error and "CSV" in preview.error


def test_damaged_footer(tmp_path: Path) -> None:
    path = tmp_path / "bad.parquet"
    path.write_bytes(b"PAR1" + b"\x00" * 100 + b"\x10\x00\x00\x00PAR1")
    preview = look(inspect_parquet, path)
    assert preview.error is not None and "damaged" in preview.error


def test_impossible_footer_length(tmp_path: Path) -> None:
    path = tmp_path / "bad.parquet"
    path.write_bytes(b"PAR1" + b"\x00" * 10 + b"\xff\xff\xff\x00PAR1")
    assert "footer length is impossible" in (look(inspect_parquet, path).error or "")


def test_empty_and_missing(tmp_path: Path) -> None:
    empty = tmp_path / "empty.parquet"
    empty.write_bytes(b"")
    assert "is empty" in (look(inspect_parquet, empty).error or "")
    assert (inspect_parquet(tmp_path / "gone.parquet").error or "").startswith("cannot read gone.parquet")

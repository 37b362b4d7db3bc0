"""Previewing Excel workbooks: sheets, first rows as a user reads them, and refusing what must not be opened."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date, datetime
from pathlib import Path

import pytest

from liferaft.core.inspect import inspect_file
from liferaft.core.inspect import workbook as workbook_module
from liferaft.core.inspect.workbook import inspect_workbook, ole_stream_names
from tests.inspect_helpers import compound_file, facts, look


def _save(workbook, path: Path) -> Path:
    workbook.save(path)
    return path


@pytest.fixture
def two_sheets(tmp_path: Path) -> Path:
    """Orders (a blank first row, then a table with a formula that has no saved value) and Notes."""
    from openpyxl import Workbook

    book = Workbook()
    orders = book.active
    orders.title = "Orders"
    orders.append([])  # row 1 blank: the header is on row 2
    orders.append(["id", "region", "revenue", "paid", "day", "at", "total", None, "note"])
    orders.append([1, "North", 10.5, True, date(2025, 1, 2), datetime(2025, 1, 2, 9, 30), "=A3*C3", None, "x"])
    orders.append([2, "South", 7, False, date(2025, 1, 3), datetime(2025, 1, 3, 17, 5, 9), "=A4*C4", None, None])
    orders.append([3, None, 0.1 + 0.2, None, None, None, "=A5*C5", None, "#N/A"])
    notes = book.create_sheet("Notes")
    notes.append(["written by", "Ana"])
    return _save(book, tmp_path / "orders.xlsx")


def test_first_sheet_rows_read_as_a_user_reads_them(two_sheets: Path) -> None:
    preview = look(inspect_workbook, two_sheets)
    assert preview.error is None
    assert preview.kind == "xlsx"
    assert preview.sheets == ("Orders", "Notes")
    assert preview.sheet == "Orders"
    assert [c.name for c in preview.columns] == ["id", "region", "revenue", "paid", "day", "at", "total", "H", "note"]
    assert preview.rows[0] == ("1", "North", "10.5", "TRUE", "2025-01-02", "2025-01-02 09:30:00", "", "", "x")
    assert preview.rows[1] == ("2", "South", "7", "FALSE", "2025-01-03", "2025-01-03 17:05:09", "", "", "")
    assert preview.rows[2][:3] == ("3", "", "0.3")  # 0.30000000000000004 reads as Excel shows it
    assert len(preview.rows) == 3


def test_column_types_and_empty_cells(two_sheets: Path) -> None:
    columns = {c.name: c for c in look(inspect_workbook, two_sheets).columns}
    assert {name: c.type for name, c in columns.items()} == {
        "id": "integer", "region": "text", "revenue": "decimal", "paid": "boolean", "day": "date",
        "at": "datetime", "total": "empty", "H": "empty", "note": "text",
    }
    assert columns["region"].sample_nulls == 1
    assert columns["paid"].sample_nulls == 1
    assert columns["total"].sample_nulls == 3


def test_facts_and_notes(two_sheets: Path) -> None:
    preview = look(inspect_workbook, two_sheets)
    found = facts(preview)
    assert found["sheets"] == "2"
    assert found["sheet"] == "Orders"
    assert found["dimensions"] == "A2:I5 (4 rows × 9 columns)"  # as openpyxl saved it
    assert found["rows shown"] == "3"
    assert found["columns shown"] == "9"
    assert any("row 1 is blank" in note and "row 2" in note for note in preview.notes)
    assert any(note.startswith("3 cells are formulas with no saved value") for note in preview.notes)


def test_another_sheet_by_name(two_sheets: Path) -> None:
    preview = look(inspect_workbook, two_sheets, sheet="Notes")
    assert preview.sheet == "Notes"
    assert [c.name for c in preview.columns] == ["written by", "Ana"]
    assert preview.rows == ()
    assert not any("formula" in note for note in preview.notes)


def test_unknown_sheet_falls_back_to_the_first_with_a_note(two_sheets: Path) -> None:
    preview = look(inspect_workbook, two_sheets, sheet="Missing")
    assert preview.sheet == "Orders"
    assert any("no sheet called 'Missing'" in note for note in preview.notes)


def test_chart_sheets_and_hidden_sheets(tmp_path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, Reference

    book = Workbook()
    data = book.active
    data.title = "Data"
    for row in (["a", "b"], [1, 2], [3, 4]):
        data.append(row)
    chart = BarChart()
    chart.add_data(Reference(data, min_col=2, min_row=1, max_row=3), titles_from_data=True)
    book.create_chartsheet("Chart").add_chart(chart)
    book.move_sheet("Chart", offset=-1)
    hidden = book.create_sheet("Hidden")
    hidden.sheet_state = "hidden"
    hidden.append(["x"])
    path = _save(book, tmp_path / "charts.xlsx")
    first = look(inspect_workbook, path)
    assert first.sheets == ("Chart", "Data", "Hidden")
    assert first.sheet == "Data"  # the first sheet with cells
    assert first.rows == (("1", "2"), ("3", "4"))
    chart_sheet = look(inspect_workbook, path, sheet="Chart")
    assert chart_sheet.sheet == "Chart" and chart_sheet.rows == () and chart_sheet.error is None
    assert chart_sheet.notes == ("Chart is a chart sheet: it holds a chart, not cells",)
    assert "Hidden is a hidden sheet" in look(inspect_workbook, path, sheet="Hidden").notes


def test_max_rows_bounds_the_rows_read(tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)  # no <dimension> record: the size must not be found by reading it all
    sheet = book.create_sheet("Big")
    sheet.append(["n", "square"])
    for n in range(30_000):
        sheet.append([n, n * n])
    path = _save(book, tmp_path / "big.xlsx")
    preview = look(inspect_workbook, path, max_rows=5)  # how fast: tests/bench/bounded_bench.py
    assert preview.rows == (("0", "0"), ("1", "1"), ("2", "4"), ("3", "9"), ("4", "16"))
    # No size saved: the cells holding values are counted (at the regular-expression engine's speed).
    assert facts(preview)["dimensions"] == "A1:B30001 (30,001 rows × 2 columns)"


def test_only_the_first_rows_are_ever_parsed(tmp_path: Path) -> None:
    """Past the rows shown the sheet is garbage: a reader that went through it all would fail."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Long")
    for n in range(200):
        sheet.append([n])
    clean = _save(book, tmp_path / "clean.xlsx")

    def spoil(xml: bytes) -> bytes:
        cut = xml.index(b'<row r="100"')
        return xml[:cut] + b'<row r="100"><c r="A100"><v>1</v></c></row><row r="101"><c \x01\x02 not xml'

    path = _rewrite(clean, tmp_path / "spoiled.xlsx", "xl/worksheets/sheet1.xml", spoil)
    preview = look(inspect_workbook, path, max_rows=10)
    assert preview.error is None
    assert [row[0] for row in preview.rows] == [str(n) for n in range(1, 11)]


def test_a_wrong_saved_dimension_does_not_hide_rows(tmp_path: Path, two_sheets: Path) -> None:
    """Some programs always write <dimension ref="A1"/>; the rows are read anyway."""
    path = _rewrite(two_sheets, tmp_path / "a1.xlsx", "xl/worksheets/sheet1.xml",
                    lambda xml: re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1"', xml))
    preview = look(inspect_workbook, path)
    assert facts(preview)["dimensions"] == "A2:I5 (4 rows × 9 columns)"  # counted, not as saved
    assert len(preview.rows) == 3
    assert len(preview.columns) == 9


def test_max_rows_zero_gives_the_header_only(two_sheets: Path) -> None:
    preview = look(inspect_workbook, two_sheets, max_rows=0)
    assert preview.rows == ()
    assert len(preview.columns) == 9


def test_an_empty_sheet(tmp_path: Path) -> None:
    from openpyxl import Workbook

    path = _save(Workbook(), tmp_path / "empty.xlsx")
    preview = look(inspect_workbook, path)
    assert preview.error is None
    assert preview.rows == () and preview.columns == ()
    assert any("empty" in note for note in preview.notes)


def test_a_table_that_starts_further_right(tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet["C3"], sheet["D3"], sheet["C4"], sheet["D4"] = "a", "b", 1, 2
    preview = look(inspect_workbook, _save(book, tmp_path / "offset.xlsx"))
    assert [c.name for c in preview.columns] == ["a", "b"]
    assert preview.rows == (("1", "2"),)
    assert any("column C" in note for note in preview.notes)


def test_through_the_registry(two_sheets: Path) -> None:
    preview = inspect_file(two_sheets, "xlsx", max_rows=1)
    assert preview.error is None and len(preview.rows) == 1


def test_an_xlsx_named_xls_is_read(two_sheets: Path, tmp_path: Path) -> None:
    renamed = tmp_path / "orders.xls"
    renamed.write_bytes(two_sheets.read_bytes())
    preview = look(inspect_workbook, renamed)
    assert preview.error is None and preview.sheets == ("Orders", "Notes")


# --- refusing what must not be opened -----------------------------------------------------------------------


def _bomb(path: Path, size: int) -> Path:
    """A workbook-shaped zip whose sheet is ``size`` bytes of zeros (it deflates about a thousand times)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as member:
            block = b"\x00" * (1024 * 1024)
            for _ in range(size // len(block)):
                member.write(block)
    return path


def test_a_zip_bomb_is_refused_without_inflating_it(tmp_path: Path) -> None:
    path = _bomb(tmp_path / "bomb.xlsx", 8 * 1024 * 1024)
    assert path.stat().st_size < 100_000
    preview = look(inspect_workbook, path)  # how fast: tests/bench/bounded_bench.py
    assert preview.error is not None and "zip bomb" in preview.error
    assert "xl/worksheets/sheet1.xml" in preview.error


def test_parts_read_whole_are_capped(two_sheets: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workbook_module, "MAX_UNCOMPRESSED", 5_000)
    preview = look(inspect_workbook, two_sheets)
    assert preview.error is not None and "too large to preview" in preview.error
    assert "export the sheet you need as CSV" in preview.error


def test_a_truncated_workbook(two_sheets: Path, tmp_path: Path) -> None:
    data = two_sheets.read_bytes()
    for cut in (len(data) // 2, len(data) - 30, 100):
        path = tmp_path / f"cut{cut}.xlsx"
        path.write_bytes(data[:cut])
        preview = look(inspect_workbook, path)
        assert preview.error is not None and "damaged or cut short" in preview.error


def test_a_damaged_part(two_sheets: Path, tmp_path: Path) -> None:
    path = _rewrite(two_sheets, tmp_path / "bad.xlsx", "xl/workbook.xml", lambda xml: xml[: len(xml) // 2])
    preview = look(inspect_workbook, path)
    assert preview.error is not None and preview.error.startswith("cannot read bad.xlsx")
    assert "export the sheet as CSV" in preview.error


def test_text_named_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "sales.xlsx"
    path.write_text("order_id,region\n1,North\n")
    preview = look(inspect_workbook, path)
    assert preview.error is not None and "plain text" in preview.error and ".csv" in preview.error


def test_html_named_xls(tmp_path: Path) -> None:
    path = tmp_path / "report.xls"
    path.write_text("<html><body><table><tr><td>1</td></tr></table></body></html>")
    preview = look(inspect_workbook, path)
    assert preview.error is not None and "web page (HTML)" in preview.error


def test_other_zip_named_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "photos.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("a.txt", "hello")
    preview = look(inspect_workbook, path)
    assert preview.error is not None and "not an Excel workbook" in preview.error


def test_opendocument_named_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "budget.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
    preview = look(inspect_workbook, path)
    assert preview.error is not None and "OpenDocument spreadsheet" in preview.error


def test_an_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.xlsx"
    path.write_bytes(b"")
    assert "is empty" in (look(inspect_workbook, path).error or "")


def test_encrypted_looking_file_is_password_protected(tmp_path: Path) -> None:
    path = tmp_path / "locked.xlsx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    preview = look(inspect_workbook, path)
    assert preview.error == (
        "the workbook is password-protected; open it in Excel, remove the password or export the sheet as CSV"
    )


def test_encrypted_package_is_recognised_in_the_container(tmp_path: Path) -> None:
    path = tmp_path / "locked.xls"  # even named .xls, an EncryptedPackage is an encrypted .xlsx
    path.write_bytes(compound_file(["EncryptionInfo", "EncryptedPackage", "\x06DataSpaces"]))
    assert "password-protected" in (look(inspect_workbook, path).error or "")


def test_old_binary_xls(tmp_path: Path) -> None:
    data = compound_file(["\x05SummaryInformation", "\x05DocumentSummaryInformation", "CompObj", "Workbook"])
    with io.BytesIO(data) as fh:
        assert "Workbook" in ole_stream_names(fh)  # found in the directory's second sector
    path = tmp_path / "legacy.xls"
    path.write_bytes(data)
    error = look(inspect_workbook, path).error or ""
    assert "old binary Excel format (.xls)" in error and "save it as .xlsx" in error
    renamed = tmp_path / "legacy.xlsx"
    renamed.write_bytes(data)
    assert "legacy.xlsx is in fact the old binary Excel format" in (look(inspect_workbook, renamed).error or "")


def test_garbage_never_raises(tmp_path: Path) -> None:
    for index, data in enumerate((b"PK\x03\x04" + b"\x00" * 2000, b"PK" + bytes(range(256)) * 8, b"\xff" * 10)):
        path = tmp_path / f"garbage{index}.xlsx"
        path.write_bytes(data)
        assert look(inspect_workbook, path).error


def test_a_missing_file(tmp_path: Path) -> None:
    preview = look_missing(tmp_path / "gone.xlsx")
    assert preview.error is not None and preview.error.startswith("cannot read gone.xlsx")


def look_missing(path: Path):
    preview = inspect_workbook(path)
    assert preview.error is not None and "\n" not in preview.error
    return preview


def _rewrite(source: Path, target: Path, member: str, change) -> Path:
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            data = old.read(info.filename)
            new.writestr(info.filename, change(data) if info.filename == member else data)
    return target


# --- the size is that of the cells holding values (issue 19, item 6) ------------------------------------------


def _rewrite_parts(path: Path, target: Path, change) -> Path:  # type: ignore[no-untyped-def]
    """A copy of the workbook ``path`` with ``change(name, data)`` applied to each part."""
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as copy:
        for item in source.infolist():
            copy.writestr(item, change(item.filename, source.read(item.filename)))
    return target


def _small(tmp_path: Path) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Data"
    sheet.append(["name", "value"])
    sheet.append(["a", 1])
    sheet.append(["b", 2])
    return _save(book, tmp_path / "small.xlsx")


def test_formatted_but_empty_rows_are_not_data(tmp_path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.append(["name", "value"])
    sheet.append(["a", 1])
    sheet.append(["b", 2])
    for row in range(4, 54):  # 50 rows formatted, nothing in them
        for column in (1, 2):
            sheet.cell(row, column).font = Font(bold=True)
    preview = look(inspect_workbook, _save(book, tmp_path / "formatted.xlsx"))
    assert preview.rows == (("a", "1"), ("b", "2"))
    assert facts(preview)["dimensions"] == "A1:B3 (3 rows × 2 columns)"
    assert facts(preview)["rows shown"] == "2"
    assert [column.sample_nulls for column in preview.columns] == [0, 0]
    assert any("A1:B53" in note and "only A1:B3" in note for note in preview.notes)


def test_a_saved_range_of_the_whole_grid_is_not_the_size(tmp_path: Path) -> None:
    """Some programs save the used range as the whole grid, A1:XFD1048576, for two rows of data."""
    whole = _rewrite_parts(_small(tmp_path), tmp_path / "whole.xlsx", lambda name, data: re.sub(
        rb'<dimension ref="[^"]*" ?/>', b'<dimension ref="A1:XFD1048576"/>', data)
        if name.startswith("xl/worksheets/") else data)
    preview = look(inspect_workbook, whole)
    assert facts(preview)["dimensions"] == "A1:B3 (3 rows × 2 columns)"
    assert not any("16,384 columns" in note and note.startswith("showing") for note in preview.notes)
    assert any("1,048,576 rows × 16,384 columns" in note for note in preview.notes)
    # What checks a saved output against its recorded shape reads the same size.
    from liferaft.core.verify_targets import workbook_targets

    assert workbook_targets(whole).sheets == (("Data", 3, 2),)


def test_a_sheet_too_large_to_count_keeps_its_saved_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    counted: list[object] = []
    real = workbook_module._used_range
    monkeypatch.setattr(workbook_module, "_used_range", lambda *args: counted.append(real(*args)) or counted[-1])
    monkeypatch.setattr(workbook_module, "USED_RANGE_MAX_BYTES", 100)
    preview = look(inspect_workbook, _small(tmp_path))
    assert facts(preview)["dimensions"] == "A1:B3 (3 rows × 2 columns)"  # from its <dimension>, not counted
    assert counted == [None]  # the sheet's XML is larger than the limit: not counted (the limit read when called)


def test_a_strict_open_xml_workbook_says_what_it_is(tmp_path: Path) -> None:
    strict = _rewrite_parts(_small(tmp_path), tmp_path / "strict.xlsx", lambda _name, data: data.replace(
        b"http://schemas.openxmlformats.org/spreadsheetml/2006/main", b"http://purl.oclc.org/ooxml/spreadsheetml/main"
    ).replace(b"http://schemas.openxmlformats.org/officeDocument/2006/relationships",
              b"http://purl.oclc.org/ooxml/officeDocument/relationships"))
    error = look(inspect_workbook, strict).error
    assert error is not None and "Strict Open XML" in error and "has no sheets" not in error

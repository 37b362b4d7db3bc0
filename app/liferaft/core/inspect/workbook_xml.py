"""The file under a workbook, read below openpyxl: what a file named like a workbook holds when it is not one (an
OLE2 container of an old .xls or of an encrypted workbook, a Strict Open XML or OpenDocument package, a web page or
text), openpyxl's read-only workbook with a sheet's size read from its first bytes only, and the formulas saved
without a value, found in a sheet's XML.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    import zipfile

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_PROTECTED = (
    "the workbook is password-protected; open it in Excel, remove the password or export the sheet as CSV"
)
_OLD_XLS = (
    "this is the old binary Excel format (.xls), which Liferaft cannot read; "
    "open it in Excel or LibreOffice and save it as .xlsx, or export the sheet as CSV"
)


# --- before parsing -------------------------------------------------------------------------------------------


#: The namespaces of Strict Open XML (ISO/IEC 29500 Strict), where a transitional workbook has
#: schemas.openxmlformats.org: openpyxl finds no sheets in such a file.
_STRICT_NAMESPACE = b"purl.oclc.org/ooxml/"


def _strict(archive: zipfile.ZipFile, names: set[str]) -> bool:
    """Whether the package is Strict Open XML (its relationships, the first part a reader opens, say so)."""
    if "_rels/.rels" not in names:
        return False
    try:
        with archive.open("_rels/.rels") as member:
            return _STRICT_NAMESPACE in member.read(64 * 1024)
    except Exception:  # unreadable: the main read says what is wrong
        return False


def _not_a_workbook_zip(archive: zipfile.ZipFile, names: set[str], name: str) -> str:
    if "mimetype" in names:
        try:
            with archive.open("mimetype") as member:
                mimetype = member.read(200).decode("ascii", "replace")
        except Exception:
            mimetype = ""
        if "opendocument.spreadsheet" in mimetype:
            return (f"{name} is an OpenDocument spreadsheet (.ods), not an Excel workbook; "
                    "open it in LibreOffice and save it as .xlsx, or export the sheet as CSV")
    return f"{name} is a zip archive but not an Excel workbook (it has no [Content_Types].xml); check the file"


def _not_a_zip_message(path: Path, fh: IO[bytes]) -> str:
    from liferaft.core.roles import sniff_kind

    fh.seek(0)
    head = fh.read(4096)
    kind = sniff_kind(head)
    if kind == "text" or kind == "json":
        text = head.lstrip().lower()
        if text.startswith((b"<!doctype html", b"<html", b"<table")):
            return (f"{path.name} is a web page (HTML) named like a workbook, not a real Excel file; "
                    "open it in a browser or Excel and save it as .xlsx or CSV")
        if text.startswith(b"<?xml"):
            return (f"{path.name} is an XML spreadsheet (Excel 2003 XML), not an .xlsx workbook; "
                    "open it in Excel and save it as .xlsx, or export the sheet as CSV")
        return (f"{path.name} is plain text named like a workbook, not a real Excel file; "
                "if it is comma- or tab-separated, rename it to .csv or .tsv")
    what = {"pdf": "a PDF", "image": "an image", "parquet": "a Parquet file", "archive": "a compressed archive"}
    return (f"{path.name} is not an Excel workbook (.xlsx files are zip archives; this looks like "
            f"{what.get(kind, 'some other binary file')}); check that it is the right file")


def _ole_message(fh: IO[bytes], path: Path) -> str:
    """What an OLE2 compound file (the container of .xls and of encrypted .xlsx) named like a workbook holds."""
    names = ole_stream_names(fh)
    if "EncryptedPackage" in names or "EncryptionInfo" in names:
        return _PROTECTED
    if "Workbook" in names or "Book" in names:
        if path.suffix.lower() == ".xls":
            return _OLD_XLS
        return _OLD_XLS.replace("this is the old", f"{path.name} is in fact the old", 1)
    if path.suffix.lower() == ".xls" and not names:
        return _OLD_XLS
    if names:
        return (f"{path.name} is an old-style Office file but not a workbook; check that it is the right file")
    return _PROTECTED


def ole_stream_names(fh: IO[bytes], *, max_sectors: int = 64) -> set[str]:
    """The names in an OLE2 compound file's directory (a bounded walk; empty when it cannot be read)."""
    try:
        fh.seek(0)
        header = fh.read(512)
        if len(header) < 512 or not header.startswith(OLE_MAGIC):
            return set()
        shift = struct.unpack_from("<H", header, 0x1E)[0]
        if shift not in (9, 12):
            return set()
        size = 1 << shift
        difat = struct.unpack_from("<109I", header, 0x4C)
        per_fat_sector = size // 4
        names: set[str] = set()
        sector = struct.unpack_from("<I", header, 0x30)[0]
        seen: set[int] = set()
        while sector < 0xFFFFFFFA and sector not in seen and len(seen) < max_sectors:
            seen.add(sector)
            fh.seek((sector + 1) * size)
            data = fh.read(size)
            for offset in range(0, len(data) - 127, 128):
                length = struct.unpack_from("<H", data, offset + 0x40)[0]
                if 2 <= length <= 64 and data[offset + 0x42] in (1, 2, 5):
                    names.add(data[offset : offset + length - 2].decode("utf-16-le", "replace"))
            fat_index = sector // per_fat_sector
            if fat_index >= len(difat) or difat[fat_index] >= 0xFFFFFFFA:
                break
            fh.seek((difat[fat_index] + 1) * size + (sector % per_fat_sector) * 4)
            raw = fh.read(4)
            if len(raw) < 4:
                break
            sector = struct.unpack("<I", raw)[0]
        return names
    except (OSError, struct.error, IndexError):
        return set()


# --- reading --------------------------------------------------------------------------------------------------


def _open_read_only(fh: IO[bytes]) -> Any:
    """openpyxl's read-only workbook, except that a sheet's size is read from its first bytes only.

    openpyxl looks for a sheet's ``<dimension>`` with an iterparse that, when the record is missing (files
    written by openpyxl's write-only mode, among others), runs through the whole sheet: once per sheet, at
    load time. Here the search stops where the cells start.
    """
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    # openpyxl's private members used below (`_get_source`, `Workbook._sheets`) are missing from its stubs.
    class Sheet(ReadOnlyWorksheet):
        def _get_size(self) -> None:
            self.declared = _declared_dimension(self._get_source)  # type: ignore[attr-defined]  # see above
            if self.declared is not None:
                self._min_column, self._min_row, self._max_column, self._max_row = self.declared

        def open_source(self) -> IO[bytes]:
            source: IO[bytes] = self._get_source()  # type: ignore[attr-defined]  # see above
            return source

    class Reader(ExcelReader):
        # As ExcelReader.read_worksheets, with Sheet for ReadOnlyWorksheet.
        def read_worksheets(self) -> None:
            for sheet, rel in self.parser.find_sheets():
                if rel.target not in self.valid_files:
                    continue
                if "chartsheet" in rel.Type:
                    # The stubs want a Chartsheet; openpyxl's own reader passes this ChildSheet too.
                    self.read_chartsheet(sheet, rel)  # type: ignore[arg-type]
                    continue
                ws = Sheet(self.wb, sheet.name, rel.target, self.shared_strings)
                # The stubs allow None; the parsed state is never None (it defaults to "visible").
                ws.sheet_state = sheet.state  # type: ignore[assignment]
                self.wb._sheets.append(ws)  # type: ignore[attr-defined]  # see above

    reader = Reader(fh, read_only=True, data_only=True, keep_links=False)
    try:
        reader.read()
    except BaseException:
        reader.archive.close()
        raise
    return reader.wb


def _declared_dimension(open_source: Any) -> tuple[int, int, int, int] | None:
    """(min_col, min_row, max_col, max_row) from the sheet's ``<dimension>``, reading no further than the cells."""
    from xml.etree.ElementTree import iterparse

    from openpyxl.utils.cell import range_boundaries

    try:
        with open_source() as source:
            for _event, element in iterparse(source, events=("start",)):
                tag = element.tag.rpartition("}")[2]
                if tag == "dimension":
                    min_col, min_row, max_col, max_row = range_boundaries(element.get("ref", ""))
                    if min_col is None or min_row is None or max_col is None or max_row is None:
                        return None
                    return min_col, min_row, max_col, max_row
                if tag == "sheetData":
                    return None
    except Exception:  # a damaged sheet is reported when (and only if) it is the one shown
        return None
    return None


def _formulas_without_values(ws: Any, last_row: int) -> int:
    """How many formula cells in rows 1..``last_row`` have no saved value (``data_only`` shows them empty)."""
    from xml.etree.ElementTree import iterparse

    opener = getattr(ws, "open_source", None)
    if opener is None or last_row <= 0:
        return 0
    count = 0
    row_number = 0
    try:
        with opener() as source:
            for event, element in iterparse(source, events=("start", "end")):
                tag = element.tag.rpartition("}")[2]
                if event == "start":
                    if tag == "row":
                        reference = element.get("r")
                        row_number = int(reference) if reference and reference.isdigit() else row_number + 1
                        if row_number > last_row:
                            break
                    continue
                if tag == "c":
                    formula = value = None
                    for child in element:
                        child_tag = child.tag.rpartition("}")[2]
                        if child_tag == "f":
                            formula = child
                        elif child_tag == "v":
                            value = child
                    if formula is not None and (value is None or not (value.text or "").strip()):
                        count += 1
                elif tag == "row":
                    element.clear()
                elif tag == "sheetData":
                    break
    except Exception:
        return count
    return count

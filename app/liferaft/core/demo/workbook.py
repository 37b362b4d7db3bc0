"""SOURCE/budget_2026.xlsx: a real two-sheet workbook, with fixed timestamps inside so the demo is byte-identical."""

from __future__ import annotations

import io
import random
import re
import zipfile
from datetime import date, datetime

from liferaft.core.demo.reference import MONTH_FACTOR

_FIXED_TIME = datetime(2025, 12, 15, 9, 30, 0)


def budget_xlsx() -> bytes:
    """A two-sheet workbook (Budget for 2026, Actuals for 2025), with fixed timestamps inside."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    rng = random.Random(2026)
    departments = {"Sales": 182_000, "Marketing": 96_000, "Operations": 141_000, "IT": 78_000, "HR": 35_000}
    bases = list(departments.values())
    workbook = Workbook()
    workbook.properties.creator = "Finance"
    workbook.properties.created = _FIXED_TIME
    budget = workbook.active
    assert budget is not None  # a new workbook always has one sheet
    budget.title = "Budget"
    actuals = workbook.create_sheet("Actuals")
    for sheet, year, factor in ((budget, 2026, 1.0), (actuals, 2025, 0.95)):
        sheet.append(["Month", *departments])
        for month in range(1, 13):
            seasonal = MONTH_FACTOR[month - 1] ** 0.5
            noise = 0.03 if sheet is budget else 0.08
            row = [base * factor * seasonal * rng.uniform(1 - noise, 1 + noise) for base in bases]
            sheet.append([date(year, month, 1), *[int(round(value, -2)) for value in row]])
            sheet.cell(row=month + 1, column=1).number_format = "mmm yyyy"
            for column in range(2, len(departments) + 2):
                sheet.cell(row=month + 1, column=column).number_format = "#,##0"
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.column_dimensions["A"].width = 12
        sheet.freeze_panes = "B2"
    raw = io.BytesIO()
    workbook.save(raw)
    return _pin_zip_times(raw.getvalue())


def _pin_zip_times(data: bytes) -> bytes:
    """Rewrite an XLSX with fixed entry times and modification date, so the demo is byte-identical."""
    stamp = _FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ")
    out = io.BytesIO()
    when = _FIXED_TIME.timetuple()[:6]
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + stamp.encode(), content)
            target.writestr(zipfile.ZipInfo(info.filename, when), content, zipfile.ZIP_DEFLATED)
    return out.getvalue()

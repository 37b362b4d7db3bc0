"""Outputs to regenerate: what each is (the note, the code that writes it, the file) and the numbers a new chat checks
its copy against (rows, columns, column sums; sheets; pixels), in the rerun prompt."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from liferaft.core import outputs, verify
from tests.conftest import write

CORPUS = Path(__file__).resolve().parent / "data" / "real" / "output_writers"


# --- the writer of an output, on real code -----------------------------------------------------------------


def test_real_scripts_writers_are_found_on_the_labelled_line() -> None:
    labels = json.loads((CORPUS / "labels.json").read_text(encoding="utf-8"))
    found, total, wrong = 0, 0, []
    for name, expected in labels.items():
        if name.startswith("_"):
            continue
        code = [(f"CODE/{name}", (CORPUS / name).read_text(encoding="utf-8"))]
        writers = outputs.find_writers(code, list(expected))
        for output, line in expected.items():
            total += 1
            got = writers.get(output)
            if (got is None and line is None) or (got is not None and got.line == line):
                found += 1
            else:
                wrong.append((name, output, line, got.line if got else None))
    assert total >= 25 and len([n for n in labels if not n.startswith("_")]) >= 15
    assert found == total, wrong  # 26 of 26 when measured


def test_a_figure_is_described_by_what_is_drawn_and_a_table_by_what_is_written() -> None:
    code = ("import pandas as pd\nmonthly = sales.groupby('month')['revenue'].sum()\n"
            "fig, ax = plt.subplots()\nmonthly.plot(ax=ax)\nax.set_title('x')\n"
            "fig.savefig(OUT / 'revenue.png', dpi=100)\nplt.close(fig)\n"
            "summary.to_csv(\n    OUT / 'summary.csv',\n    index=False,\n)\n")
    writers = outputs.find_writers([("CODE/a.py", code)], ["revenue.png", "summary.csv", "other.png"])
    figure = writers["revenue.png"]
    assert figure.line == 6 and figure.drawn == ("monthly.plot(ax=ax)",)
    assert figure.describe() == ("written by CODE/a.py line 6: `monthly.plot(ax=ax)` then "
                                 "`fig.savefig(OUT / 'revenue.png', dpi=100)`")
    table = writers["summary.csv"]
    assert table.line == 8 and table.written == "summary" and "other.png" not in writers


def test_names_in_variables_templates_and_notebook_cells() -> None:
    code = ("path = OUTPUT / 'by_region.xlsx'\nx = 1\nframe.to_excel(path)\n"
            "for region in regions:\n    plt.savefig(f'chart_{region}.png')\n")
    writers = outputs.find_writers([("CODE/a.py", code)], ["by_region.xlsx", "chart_North.png"])
    assert writers["by_region.xlsx"].line == 3 and writers["by_region.xlsx"].via == "path"
    assert writers["chart_North.png"].line == 5
    notebook = "import pandas as pd\n\n# %%\ndf = load()\n\n# %%\ndf.to_parquet('clean.parquet')"
    cell = outputs.find_writers([("CODE/n.ipynb", notebook)], ["clean.parquet"])["clean.parquet"]
    assert cell.cell == 3 and "CODE/n.ipynb cell 3" in cell.describe()


def test_a_generic_template_and_a_comment_are_not_writers() -> None:
    code = "df.to_csv('{}.csv'.format(name))\n# df.to_csv('old.csv')\nprint('saved old.csv')\n"
    assert outputs.find_writers([("CODE/a.py", code)], ["anything.csv", "old.csv"]) == {}


def test_the_note_describes_first_and_the_file_when_nothing_else_does() -> None:
    noted = outputs.note_descriptions("- sales.csv — orders per month (60 rows)\n- `chart 1.png`: the trend\n")
    assert noted == {"sales.csv": "orders per month (60 rows)", "chart 1.png": "the trend"}
    assert outputs.describe("x.csv", from_file="a table with the columns a, b") == "a table with the columns a, b"
    assert outputs.describe("x.csv", note="the totals.", from_file="a table") == "the totals"


def test_a_name_written_in_either_unicode_form_is_one_name(tmp_path: Path) -> None:
    """macOS writes names decomposed (NFD): a note that names Café.png as typed on Linux (NFC) still describes the
    file, and code that writes it is still its writer (issue 20)."""
    import unicodedata

    typed, on_mac = "Café chart.png", unicodedata.normalize("NFD", "café chart.png")
    assert typed.casefold() != on_mac.casefold()  # a plain comparison tells them apart
    noted = outputs.note_descriptions(f"- `{typed}`: the monthly trend\n")
    from liferaft.core.roles import Role
    from liferaft.core.scan import FileRecord

    record = FileRecord(f"OUTPUT/{on_mac}", Role.OUTPUT, False, "image", 10, 0.0)
    found = outputs.details(tmp_path, [record], [], f"- `{typed}`: the monthly trend\n", [], wait=0)
    assert noted and found[on_mac].description.startswith("the monthly trend")
    code = f"plt.savefig('{typed}')\n"
    assert on_mac in outputs.find_writers([("CODE/a.py", code)], [on_mac])


# --- verification targets ----------------------------------------------------------------------------------


def test_csv_rows_columns_and_sums_match_pandas(tmp_path: Path) -> None:
    import pandas as pd

    lines = ["id,region,amount,note,count"]
    for i in range(1, 3001):
        note = f'"line {i}\nsecond, line"' if i % 500 == 0 else f'"n {i}"'
        amount = "" if i % 97 == 0 else f"{i * 1.25:.2f}"
        lines.append(f"{i},R{i % 5},{amount},{note},{i % 7}")
    path = write(tmp_path / "t.csv", "\n".join(lines) + "\n")
    verify_slices = verify.SLICE_BYTES
    verify.SLICE_BYTES = 4096  # many slices, some cut next to a quoted line break
    try:
        targets = verify.table_targets(path)
    finally:
        verify.SLICE_BYTES = verify_slices
    frame = pd.read_csv(path)
    assert targets.error is None and (targets.rows, targets.columns) == frame.shape
    sums = dict(targets.sums)
    assert sums == {"id": f"{frame['id'].sum():,}", "amount": f"{frame['amount'].sum():,.2f}",
                    "count": f"{frame['count'].sum():,}"}
    assert targets.text().startswith("3,000 rows × 5 columns; column sums: id 4,501,500; amount")


def test_semicolons_decimal_commas_and_latin1(tmp_path: Path) -> None:
    path = tmp_path / "eu.csv"
    path.write_bytes("Stadt;Betrag;Menge\nKöln;1,50;2\nMünchen;2,25;3\n".encode("latin-1"))
    targets = verify.table_targets(path)
    assert targets.rows == 2 and dict(targets.sums) == {"Betrag": "3.75", "Menge": "5"}
    utf16 = tmp_path / "wide.csv"
    utf16.write_bytes("a,b\n1,x\n2,y\n".encode("utf-16"))
    assert dict(verify.table_targets(utf16).sums) == {"a": "3"}


def test_a_column_that_stops_being_numeric_has_no_sum(tmp_path: Path) -> None:
    rows = "".join(f"{i},{i}\n" for i in range(2000)) + "2000,n/a here\n"
    targets = verify.table_targets(write(tmp_path / "t.csv", "a,b\n" + rows))
    assert targets.rows == 2001 and dict(targets.sums) == {"a": f"{sum(range(2001)):,}"}
    assert targets.unsummed and "b:" in targets.unsummed[0]


@pytest.mark.parametrize(("content", "says"), [
    (b"", "is empty"),
    (b'a,b\n1,"never closed\n2,3\n', "never closed"),
    (b"\x00\x01\x02\x03" * 100, "does not look like text"),
    (b"\n\n,,,\n", "no header"),
])
def test_bad_tables_say_why_instead_of_raising(tmp_path: Path, content: bytes, says: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    targets = verify.compute(path, "csv")
    assert targets.error is not None and targets.error.startswith("could not compute: ") and says in targets.error


def test_an_unreadable_file_and_a_huge_single_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert verify.compute(tmp_path / "gone.csv", "csv").error.startswith("could not compute: cannot read")
    locked = write(tmp_path / "locked.csv", "a\n1\n")
    real_open = open

    def refusing(file, *args, **kwargs):  # type: ignore[no-untyped-def]
        if str(file) == str(locked):
            raise PermissionError(13, "Permission denied")
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", refusing)
    assert "Permission denied" in verify.compute(locked, "csv").error
    monkeypatch.undo()
    monkeypatch.setattr(verify, "MAX_RECORD_BYTES", 64 * 1024)
    monkeypatch.setattr(verify, "SLICE_BYTES", 16 * 1024)
    huge = write(tmp_path / "huge.csv", "a,b\n" + "1,2\n" * 10 + '3,"' + "x" * 300_000 + '"\n')
    error = verify.compute(huge, "csv").error
    assert error is not None and "longer than" in error


def test_workbook_and_image_targets(tmp_path: Path) -> None:
    from openpyxl import Workbook
    from PIL import Image

    book = Workbook()
    book.active.title = "Data"
    for row in range(5):
        book.active.append([row, row * 2, "x"])
    book.create_sheet("Notes").append(["hello"])
    book.save(tmp_path / "b.xlsx")
    targets = verify.compute(tmp_path / "b.xlsx", "xlsx")
    assert targets.sheets == (("Data", 5, 3), ("Notes", 1, 1)) and targets.text() == "sheets: Data 5 × 3; Notes 1 × 1"
    Image.new("RGB", (321, 123)).save(tmp_path / "c.png")
    assert verify.compute(tmp_path / "c.png", "image").text() == "321 × 123 px"
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    assert verify.compute(tmp_path / "broken.png", "image").error.startswith("could not compute: ")


def test_targets_are_cached_and_can_be_waited_for_off_thread(tmp_path: Path) -> None:
    verify.clear_cache()
    path = write(tmp_path / "t.csv", "a\n1\n2\n")
    ready: list[int] = []
    remove = verify.on_ready(lambda: ready.append(1))
    try:
        first = verify.targets_for(path, "csv", wait=None)
        assert first is not None and first.rows == 2 and ready
        assert verify.cached(path) is first and verify.targets_for(path, "csv", wait=0) is first
        time.sleep(0.01)
        write(path, "a\n1\n2\n3\n")  # changed: computed again
        again = verify.targets_for(path, "csv", wait=None)
        assert again is not None and again.rows == 3
    finally:
        remove()


# --- in the prompt -----------------------------------------------------------------------------------------


def test_the_rerun_prompt_describes_outputs_and_gives_numbers_to_check(tmp_path: Path) -> None:
    from liferaft.core import compose
    from liferaft.core.project import open_project
    from liferaft.core.uploads import plan_uploads

    root = tmp_path / "p"
    write(root / "SOURCE/sales.csv", "region,revenue\nN,1.5\nS,2.5\n")
    write(root / "CODE/run.py", "import pandas as pd\ntotals = pd.read_csv('sales.csv')\n"
                                "totals.to_csv('OUTPUT/totals.csv')\n")
    write(root / "OUTPUT/totals.csv", "region,revenue\nN,1.5\nS,2.5\n")
    write(root / "OUTPUT/broken.csv", 'a,b\n1,"open\n')
    write(root / "OUTPUT/plain.csv", "x,y\n1,2\n")
    project = open_project(root)
    context = compose.gather(project.root, project.inventory, plan_uploads(project.inventory))
    templates, _ = compose.load_templates(Path("/nonexistent"))
    text = compose.assemble(templates["rerun"], context).text
    assert "   - totals.csv: written by CODE/run.py line 3: `totals.to_csv('OUTPUT/totals.csv')`" in text
    assert "     Numbers to check: 2 rows × 2 columns; column sums: revenue 4.0" in text
    assert "   - broken.csv: a table\n     Numbers to check: could not compute: a quote is opened and never closed" \
        in text
    assert "   - plain.csv: a table with the columns x, y\n     Numbers to check: 1 row × 2 columns" in text
    assert "report what your copy gives beside them" in text


def test_a_table_too_big_to_sum_in_time_is_counted_to_the_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Slices of 4 KB and no time to sum: the first slices are summed, the rest counted by their line breaks,
    # blank lines and a last line without a break included, and the prompt says which rows the sums cover.
    monkeypatch.setattr(verify, "SLICE_BYTES", 4096)
    body = "".join(f'{i},"note {i}, checked",{i * 0.5}\n' + ("\n" if i % 997 == 0 else "") for i in range(20_000))
    path = tmp_path / "big.csv"
    path.write_text("id,comment,value\n" + body.rstrip("\n"))
    targets = verify.table_targets(path, sum_seconds=0.0)
    assert targets.error is None
    assert targets.rows == 20_000 and targets.columns == 3
    assert targets.summed_rows is not None and 0 < targets.summed_rows < 20_000
    first = targets.summed_rows
    assert dict(targets.sums)["id"] == f"{sum(range(first)):,}"
    assert f"column sums of the first {first:,} data rows" in targets.text()
    whole = verify.table_targets(path)
    assert whole.rows == 20_000 and whole.summed_rows is None and dict(whole.sums)["id"] == f"{sum(range(20_000)):,}"


def test_a_table_with_line_breaks_in_quotes_is_never_counted_by_lines(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(verify, "SLICE_BYTES", 4096)
    body = "".join(f'{i},"line one\nline two",{i}\n' for i in range(5_000))
    path = tmp_path / "quoted.csv"
    path.write_text("id,comment,value\n" + body)
    targets = verify.table_targets(path, sum_seconds=0.0)
    assert targets.rows == 5_000 and targets.summed_rows is None
    assert dict(targets.sums)["value"] == f"{sum(range(5_000)):,}"


def test_a_file_read_into_a_variable_is_not_taken_for_the_writer_of_an_output() -> None:
    # A real script (tests/data/real/output_writers/apollo__graph.py): `data = pd.read_csv("…/"+name+".csv")` reads
    # its input; the chart it saves is a .png. A CSV output of the project is written by nothing in it.
    real = Path(__file__).parent / "data" / "real" / "output_writers" / "apollo__graph.py"
    code = [("CODE/graph.py", real.read_text(encoding="utf-8"))]
    assert "burn_rate.csv" not in outputs.find_writers(code, ["burn_rate.csv"])
    assert outputs.find_writers(code, ["TSLA.png"])["TSLA.png"].call == "savefig"

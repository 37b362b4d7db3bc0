"""The bundled demo project: its files, their deliberate flaws, and safe writing and refreshing."""

from __future__ import annotations

import ast
import csv
import errno
import io
import json
import os
import shutil
import struct
import zlib
from pathlib import Path

import pytest

from liferaft.core import demo
from liferaft.core.demo import DEMO_MARKER, DemoError, DemoResult, demo_status, write_demo

SMALL = 0.5  # megabytes: keeps the transactions file small and the tests fast

EXPECTED_FILES = {
    "SOURCE/transactions_2025.csv",
    "SOURCE/customers_eu.csv",
    "SOURCE/survey_responses.csv",
    "SOURCE/budget_2026.xlsx",
    "SOURCE/final2.csv",
    "CODE/analysis.py",
    "OUTPUT/revenue_by_region.png",
    "OUTPUT/sales_2025_cleaned.csv",
    "RESTART/restart-note.md",
}
REGIONS = ("North", "South", "East", "West", "Central")
#: matplotlib's tab10, one colour per region in REGIONS order
BAR_COLOURS = ((31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189))


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    """One small demo shared by the read-only tests."""
    return write_demo(tmp_path_factory.mktemp("demo") / "project", big_csv_mb=SMALL)


def is_demo(root: Path) -> bool:
    """Whether ``root`` holds a readable demo marker."""
    return demo_status(root, edits=False) is not None


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` with its content, by relative POSIX path."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def read_transactions(root: Path) -> list[dict[str, str]]:
    with (root / "SOURCE/transactions_2025.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """Split a PNG into (type, data) chunks, checking every CRC."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks: list[tuple[bytes, bytes]] = []
    pos = 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + body), kind
        chunks.append((kind, body))
        pos += 12 + length
    return chunks


# ---- The files ------------------------------------------------------------------------------------------


def test_writes_exactly_the_demo_files_and_the_marker(small_demo: DemoResult) -> None:
    assert set(small_demo.files) == EXPECTED_FILES
    assert small_demo.refreshed is False
    assert set(tree(small_demo.root)) == EXPECTED_FILES | {DEMO_MARKER.as_posix()}
    for name in EXPECTED_FILES:
        assert (small_demo.root / name).stat().st_size > 0, name


def test_marker_lists_the_files(small_demo: DemoResult) -> None:
    marker = json.loads((small_demo.root / DEMO_MARKER).read_text(encoding="utf-8"))
    assert marker["version"] == 1
    assert marker["files"] == list(small_demo.files)
    assert is_demo(small_demo.root)


def test_transactions_have_the_header_the_size_and_2025_dates(small_demo: DemoResult) -> None:
    path = small_demo.root / "SOURCE/transactions_2025.csv"
    assert path.stat().st_size >= SMALL * 1e6
    assert path.stat().st_size < SMALL * 1e6 * 1.05
    header = "order_id,order_date,region,country,product,category,channel,quantity,unit_price,discount"
    assert path.read_bytes().splitlines()[0].decode() == header + ",revenue,customer_id"
    rows = read_transactions(small_demo.root)
    assert len({row["order_id"] for row in rows}) == len(rows)
    assert all(row["order_date"].startswith("2025-") for row in rows)
    assert {row["order_date"][:7] for row in rows} == {f"2025-{m:02d}" for m in range(1, 13)}
    assert {row["region"] for row in rows} == set(REGIONS)
    for row in rows:
        expected = int(row["quantity"]) * float(row["unit_price"]) * (1 - float(row["discount"]))
        assert abs(float(row["revenue"]) - expected) <= 0.0051, row
    # Some rows are returns/cancellations or test orders: the filters in the restart note have work to do.
    assert any(int(row["quantity"]) < 0 for row in rows)
    assert any(int(row["quantity"]) == 0 for row in rows)


def test_cleaned_output_matches_the_transactions(small_demo: DemoResult) -> None:
    rows = [row for row in read_transactions(small_demo.root) if int(row["quantity"]) > 0]
    text = (small_demo.root / "OUTPUT/sales_2025_cleaned.csv").read_text(encoding="utf-8")
    cleaned = list(csv.DictReader(io.StringIO(text)))
    assert len(cleaned) == 5 * 12
    assert sum(int(row["orders"]) for row in cleaned) == len(rows)
    for region in REGIONS:
        recomputed = sum(
            round(int(r["quantity"]) * float(r["unit_price"]) * (1 - float(r["discount"])), 2)
            for r in rows
            if r["region"] == region
        )
        reported = sum(float(row["revenue"]) for row in cleaned if row["region"] == region)
        assert reported == pytest.approx(recomputed, abs=0.05 + 1e-6 * recomputed), region


def test_customers_are_latin1_and_semicolon_separated(small_demo: DemoResult) -> None:
    data = (small_demo.root / "SOURCE/customers_eu.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    text = data.decode("latin-1")
    assert any(letter in text for letter in "üéçøñ")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    assert rows[0] == ["customer_id", "name", "city", "country", "segment", "signup_date"]
    assert len(rows) - 1 == 300
    assert all(len(row) == 6 for row in rows)


def test_survey_starts_with_a_blank_header_row(small_demo: DemoResult) -> None:
    text = (small_demo.root / "SOURCE/survey_responses.csv").read_text(encoding="utf-8")
    first, rest = text.split("\n", 1)
    assert first.strip(",") == ""
    rows = list(csv.reader(io.StringIO(rest, newline="")))
    assert rows[0] == ["response_id", "submitted_at", "region", "satisfaction", "nps", "comment"]
    assert len(rows) - 1 == 200
    assert all(len(row) == 6 for row in rows)
    comments = [row[5] for row in rows[1:]]
    assert any("," in comment for comment in comments)  # quoted correctly, or the column count breaks
    assert all(1 <= int(row[3]) <= 5 and 0 <= int(row[4]) <= 10 for row in rows[1:])


def test_budget_workbook_has_budget_and_actuals(small_demo: DemoResult) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    workbook = openpyxl.load_workbook(small_demo.root / "SOURCE/budget_2026.xlsx", read_only=True)
    assert workbook.sheetnames == ["Budget", "Actuals"]
    for name in workbook.sheetnames:
        rows = list(workbook[name].iter_rows(values_only=True))
        assert rows[0][0] == "Month"
        assert len(rows[0]) >= 4
        assert len(rows) == 13
        assert all(isinstance(value, int) and value > 0 for row in rows[1:] for value in row[1:])
    workbook.close()


def test_badly_named_marketing_file(small_demo: DemoResult) -> None:
    text = (small_demo.root / "SOURCE/final2.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == ["month", "channel", "spend", "clicks", "conversions"]
    assert len(rows) == 48
    assert all(float(row["spend"]) > 0 for row in rows)


def test_png_is_a_valid_bar_chart_of_revenue_by_region(small_demo: DemoResult) -> None:
    chunks = png_chunks((small_demo.root / "OUTPUT/revenue_by_region.png").read_bytes())
    assert [kind for kind, _ in chunks] == [b"IHDR", b"IDAT", b"IEND"]
    width, height, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert (width, height, depth, colour_type, interlace) == (640, 400, 8, 2, 0)
    raw = zlib.decompress(chunks[1][1])
    stride = 1 + 3 * width
    assert len(raw) == height * stride
    rows = [raw[y * stride : (y + 1) * stride] for y in range(height)]
    assert all(row[0] == 0 for row in rows)
    assert rows[0][1:4] == b"\xff\xff\xff"  # white background
    # Each region's bar area follows its revenue in the cleaned output.
    areas = [sum(row[1:].count(bytes(colour)) for row in rows) for colour in BAR_COLOURS]
    assert all(area > 0 for area in areas)
    cleaned = list(csv.DictReader((small_demo.root / "OUTPUT/sales_2025_cleaned.csv").open(encoding="utf-8")))
    revenue = [sum(float(r["revenue"]) for r in cleaned if r["region"] == region) for region in REGIONS]
    assert sorted(range(5), key=areas.__getitem__) == sorted(range(5), key=revenue.__getitem__)


def test_analysis_script_is_valid_python_for_these_files(small_demo: DemoResult) -> None:
    source = (small_demo.root / "CODE/analysis.py").read_text(encoding="utf-8")
    ast.parse(source)
    names = ("transactions_2025.csv", "sales_2025_cleaned.csv", "revenue_by_region.png", "monthly_trend.png")
    for name in names:
        assert name in source


def test_restart_note_lists_a_missing_output(small_demo: DemoResult) -> None:
    note = (small_demo.root / "RESTART/restart-note.md").read_text(encoding="utf-8")
    assert note.startswith("# Restart note: Sales 2025 review")
    outputs = note.split("## Generated outputs", 1)[1].split("\n## ", 1)[0]
    for name in ("sales_2025_cleaned.csv", "revenue_by_region.png"):
        assert name in outputs
        assert (small_demo.root / "OUTPUT" / name).is_file()
    assert "monthly_trend.png" in outputs
    assert not (small_demo.root / "OUTPUT/monthly_trend.png").exists()
    files = note.split("## Files used", 1)[1].split("\n## ", 1)[0]
    for path in (small_demo.root / "SOURCE").iterdir():
        assert path.name in files
    assert "<!--" not in note  # every section is filled in


def test_demo_is_deterministic(tmp_path: Path) -> None:
    write_demo(tmp_path / "a", big_csv_mb=SMALL)
    write_demo(tmp_path / "b", big_csv_mb=SMALL)
    assert tree(tmp_path / "a") == tree(tmp_path / "b")


def test_default_size_is_over_the_upload_limit(tmp_path: Path) -> None:
    result = write_demo(tmp_path / "big")
    size = (result.root / "SOURCE/transactions_2025.csv").stat().st_size
    assert size > 50_000_000
    assert size >= 60_000_000


def test_progress_messages(tmp_path: Path) -> None:
    messages: list[str] = []
    write_demo(tmp_path / "p", progress=messages.append, big_csv_mb=SMALL)
    assert messages[0] == "Writing SOURCE/transactions_2025.csv (0.5 MB)…"
    for name in EXPECTED_FILES:
        assert any(name in message for message in messages), name


# ---- Where it may write ---------------------------------------------------------------------------------


def test_missing_root_is_created_with_parents(tmp_path: Path) -> None:
    root = tmp_path / "a" / "b" / "demo"
    result = write_demo(root, big_csv_mb=SMALL)
    assert result.root == root
    assert result.refreshed is False
    assert is_demo(root)


def test_empty_existing_folder_is_used(tmp_path: Path) -> None:
    (tmp_path / ".DS_Store").write_bytes(b"finder")  # OS clutter does not count
    result = write_demo(tmp_path, big_csv_mb=SMALL)
    assert result.refreshed is False
    assert (tmp_path / "SOURCE/final2.csv").is_file()
    assert (tmp_path / ".DS_Store").read_bytes() == b"finder"


def test_refresh_rewrites_demo_files_and_keeps_user_files(tmp_path: Path) -> None:
    root = tmp_path / "demo"
    write_demo(root, big_csv_mb=SMALL)
    original = tree(root)
    user_files = {
        "notes.txt": b"my own notes\n",
        "SOURCE/my_data.csv": b"a,b\n1,2\n",
        "OUTPUT/monthly_trend.png": b"not really a png",
        "mine/deep/file.bin": bytes(range(256)),
    }
    for name, data in user_files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    (root / "CODE/analysis.py").write_text("print('edited')\n", encoding="utf-8")
    (root / "SOURCE/final2.csv").unlink()

    result = write_demo(root, big_csv_mb=SMALL)

    assert result.refreshed is True
    after = tree(root)
    for name, data in user_files.items():
        assert after[name] == data, name
    assert {name: after[name] for name in original} == original  # edited and deleted demo files are back
    assert set(after) == set(original) | set(user_files)


def test_non_empty_folder_that_is_not_a_demo_is_refused(tmp_path: Path) -> None:
    (tmp_path / "thesis.docx").write_bytes(b"precious")
    with pytest.raises(DemoError, match="is not empty and is not a Liferaft demo") as caught:
        write_demo(tmp_path, big_csv_mb=SMALL)
    assert str(tmp_path) in str(caught.value)
    assert "\n" not in str(caught.value)
    assert tree(tmp_path) == {"thesis.docx": b"precious"}
    assert not is_demo(tmp_path)


def test_unreadable_marker_is_not_a_demo(tmp_path: Path) -> None:
    (tmp_path / DEMO_MARKER).parent.mkdir()
    (tmp_path / DEMO_MARKER).write_text("{not json", encoding="utf-8")
    assert not is_demo(tmp_path)
    with pytest.raises(DemoError, match="not a Liferaft demo"):
        write_demo(tmp_path, big_csv_mb=SMALL)
    assert set(tree(tmp_path)) == {DEMO_MARKER.as_posix()}


def test_file_as_root_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "demo"
    target.write_bytes(b"a file")
    with pytest.raises(DemoError, match="is a file") as caught:
        write_demo(target, big_csv_mb=SMALL)
    assert str(target) in str(caught.value)
    assert target.read_bytes() == b"a file"
    assert not is_demo(target)


def test_refresh_never_overwrites_a_user_file_at_a_new_demo_path(tmp_path: Path) -> None:
    """A demo written by an older version lists fewer files; same-named user files are not clobbered."""
    (tmp_path / DEMO_MARKER).parent.mkdir()
    (tmp_path / DEMO_MARKER).write_text(json.dumps({"version": 1, "files": ["CODE/analysis.py"]}), "utf-8")
    (tmp_path / "SOURCE").mkdir()
    (tmp_path / "SOURCE/final2.csv").write_bytes(b"the user's own final2")
    before = tree(tmp_path)
    with pytest.raises(DemoError, match=r"final2\.csv is not a demo file"):
        write_demo(tmp_path, big_csv_mb=SMALL)
    assert tree(tmp_path) == before


def test_write_failure_is_a_clear_demo_error_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write_bytes = demo.write_bytes

    def failing(path: Path, data: bytes, *, overwrite: bool = True) -> None:
        if path.name == "revenue_by_region.png":
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write_bytes(path, data, overwrite=overwrite)

    monkeypatch.setattr(demo, "write_bytes", failing)
    root = tmp_path / "new"
    with pytest.raises(DemoError) as caught:
        write_demo(root, big_csv_mb=SMALL)
    message = str(caught.value)
    assert str(root / "OUTPUT/revenue_by_region.png") in message
    assert "No space left on device" in message
    assert "\n" not in message
    assert isinstance(caught.value.__cause__, OSError)
    assert not root.exists()  # a failed first write cleans up after itself


def test_refresh_failure_keeps_user_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_demo(tmp_path, big_csv_mb=SMALL)
    (tmp_path / "mine.txt").write_bytes(b"keep me")
    before = set(tree(tmp_path))

    def failing(path: Path, data: bytes, *, overwrite: bool = True) -> None:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(demo, "write_bytes", failing)
    with pytest.raises(DemoError, match="Permission denied"):
        write_demo(tmp_path, big_csv_mb=SMALL)
    assert (tmp_path / "mine.txt").read_bytes() == b"keep me"
    assert set(tree(tmp_path)) == before  # a failed refresh removes nothing, demo files included
    assert is_demo(tmp_path)


@pytest.mark.parametrize("size", [0, -1, float("nan"), float("inf")])
def test_big_csv_size_must_be_positive(tmp_path: Path, size: float) -> None:
    with pytest.raises(ValueError, match="big_csv_mb"):
        write_demo(tmp_path / "x", big_csv_mb=size)
    assert not (tmp_path / "x").exists()


def test_folder_that_cannot_be_created_is_a_demo_error(tmp_path: Path) -> None:
    (tmp_path / "plain").write_bytes(b"x")
    with pytest.raises(DemoError, match="Could not create") as caught:
        write_demo(tmp_path / "plain" / "demo", big_csv_mb=SMALL)
    assert str(tmp_path / "plain" / "demo") in str(caught.value)
    assert (tmp_path / "plain").read_bytes() == b"x"


def test_a_demo_killed_half_way_can_be_run_again(tmp_path: Path) -> None:
    from liferaft.core.storage import TEMP_PREFIX

    root = tmp_path / "demo"
    # What a kill during the big CSV leaves: the marker (written first) and a stray temporary file.
    (root / "SOURCE").mkdir(parents=True)
    stray = root / "SOURCE" / f"{TEMP_PREFIX}abc"
    stray.write_bytes(b"x" * 1000)
    os.utime(stray, (1, 1))
    (root / ".liferaft").mkdir()
    (root / ".liferaft" / "demo.json").write_text('{"version": 1, "files": []}')
    result = write_demo(root, big_csv_mb=0.2)
    assert result.refreshed
    assert not stray.exists()
    assert (root / "RESTART" / "restart-note.md").is_file()


def test_only_temporary_files_do_not_make_a_folder_foreign(tmp_path: Path) -> None:
    from liferaft.core.storage import TEMP_PREFIX

    root = tmp_path / "demo"
    root.mkdir()
    (root / f"{TEMP_PREFIX}old").write_bytes(b"half")
    write_demo(root, big_csv_mb=0.2)
    assert is_demo(root)


def test_refresh_never_writes_through_a_linked_folder(tmp_path: Path) -> None:
    root = tmp_path / "demo"
    write_demo(root, big_csv_mb=0.2)
    elsewhere = tmp_path / "realdata"
    elsewhere.mkdir()
    precious = elsewhere / "final2.csv"
    precious.write_text("precious user data\n")
    shutil.rmtree(root / "SOURCE")
    os.symlink(elsewhere, root / "SOURCE")
    with pytest.raises(DemoError, match="is a link"):
        write_demo(root, big_csv_mb=0.2)
    assert precious.read_text() == "precious user data\n"

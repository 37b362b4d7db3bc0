"""The fixers added to `liferaft prepare`: --comma, --name (copy_as), and how --split-mb cuts, copies and cleans up."""

from __future__ import annotations

import csv
import errno
import hashlib
import io
import os
import random
from pathlib import Path

import pytest

from liferaft.cli import main
from liferaft.core import preflight, prepare, storage


def _hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def _leftovers(folder: Path) -> list[str]:
    return sorted(os.listdir(folder)) if folder.exists() else []


# --- --comma ---------------------------------------------------------------------------------------------


def test_comma_makes_the_demo_customers_pass_the_check(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                       copy_demo) -> None:  # type: ignore[no-untyped-def]
    from liferaft.core.demo import CUSTOMERS

    root = copy_demo(tmp_path / "demo", big_csv_mb=0.3)
    original = root / CUSTOMERS
    before = _hash(original)
    found = {p.code for p in preflight.check_file(original).problems}
    assert {"encoding", "delimiter"} <= found
    code, out, err = _run(capsys, "prepare", CUSTOMERS, str(root), "--comma")
    assert code == 0, err
    target = root / "SOURCE" / "prepared" / "customers_eu.comma.csv"
    assert "wrote  SOURCE/prepared/customers_eu.comma.csv" in out
    assert "semicolon" in out and "latin-1" in out
    fixed = preflight.check_file(target)
    assert not {p.code for p in fixed.problems} & {"encoding", "delimiter", "bad_bytes", "one_column"}, fixed
    assert fixed.verdict == preflight.OK, fixed.problems
    # The same cells, now UTF-8 with commas; the line breaks (CRLF) kept.
    raw = original.read_bytes()
    assert raw.count(b"\r\n") and target.read_bytes().count(b"\r\n") == raw.count(b"\r\n")
    old_rows = list(csv.reader(io.StringIO(raw.decode("latin-1"), newline=""), delimiter=";"))
    new_rows = list(csv.reader(io.StringIO(target.read_bytes().decode("utf-8"), newline="")))
    assert new_rows == old_rows
    assert _hash(original) == before


def test_comma_quotes_cells_as_csv_needs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [["id", "note", "amount"], ["1", "a, b", "1,5"], ["2", 'say "hi"', "2"], ["3", "two\nlines", ""],
            ["4", "", "x;y"], ["5", "Zoë ünïcode", "€"]]
    text = io.StringIO(newline="")
    csv.writer(text, delimiter=";", lineterminator="\n").writerows(rows)
    (tmp_path / "t.csv").write_bytes(text.getvalue().encode("cp1252"))
    code, out, err = _run(capsys, "prepare", "t.csv", str(tmp_path), "--comma")
    assert code == 0, err
    data = (tmp_path / "prepared" / "t.comma.csv").read_bytes().decode("utf-8")
    assert list(csv.reader(io.StringIO(data, newline=""))) == rows
    assert '"a, b","1,5"' in data and '"say ""hi"""' in data and '"two\nlines"' in data
    assert "5 rows" in out


def test_comma_of_a_tsv_and_of_a_file_already_fine(tmp_path: Path) -> None:
    (tmp_path / "t.tsv").write_text("a\tb\n1\tx, y\n", encoding="utf-8")
    result = prepare.to_comma(tmp_path / "t.tsv")
    assert [w.path.name for w in result.written] == ["t.comma.csv"]
    assert result.written[0].path.read_text("utf-8") == 'a,b\n1,"x, y"\n'
    (tmp_path / "ok.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    result = prepare.to_comma(tmp_path / "ok.csv")
    assert result.written == () and "nothing to change" in result.notes[0]
    # A comma file in another encoding is re-encoded.
    text = "name,city\n" + "".join(f"Zoë {i},Málaga\n" for i in range(200))
    (tmp_path / "l1.csv").write_bytes(text.encode("latin-1"))
    result = prepare.to_comma(tmp_path / "l1.csv")
    assert result.written[0].path.read_text("utf-8") == text


def test_comma_never_overwrites(tmp_path: Path) -> None:
    (tmp_path / "s.csv").write_text("a;b\n1;2\n")
    first = prepare.to_comma(tmp_path / "s.csv").written[0].path
    first.write_text("mine")
    second = prepare.to_comma(tmp_path / "s.csv").written[0].path
    assert second.name == "s-2.comma.csv" and first.read_text() == "mine"


def test_utf8_of_a_semicolon_file_suggests_comma(tmp_path: Path) -> None:
    (tmp_path / "eu.csv").write_bytes("a;b\nZoë;1\n".encode("latin-1"))
    result = prepare.to_utf8(tmp_path / "eu.csv")
    assert result.written and any("semicolon" in note and "--comma" in note for note in result.notes)
    (tmp_path / "u.csv").write_text("a;b\nx;1\n", encoding="utf-8")
    result = prepare.to_utf8(tmp_path / "u.csv")
    assert result.written == () and any("--comma" in note for note in result.notes)
    (tmp_path / "c.csv").write_bytes("a,b\nZoë,1\n".encode("latin-1"))
    assert not any("--comma" in note for note in prepare.to_utf8(tmp_path / "c.csv").notes)


def test_comma_streams_with_progress(tmp_path: Path) -> None:
    line = "1;name;2025-01-01;3,5\n"
    (tmp_path / "big.csv").write_text("id;name;date;amount\n" + line * 60_000)
    calls: list[tuple[int, int]] = []
    result = prepare.to_comma(tmp_path / "big.csv", progress=lambda done, total: calls.append((done, total)))
    assert result.written[0].rows == 60_000
    assert len(calls) >= 3 and calls[-1][0] == calls[-1][1] == (tmp_path / "big.csv").stat().st_size
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


# --- --name / copy_as -------------------------------------------------------------------------------------


def test_name_copies_under_a_clearer_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "SOURCE"
    source.mkdir()
    data = os.urandom(300_000)
    (source / "final2.csv").write_bytes(data)
    code, out, err = _run(capsys, "prepare", "SOURCE/final2.csv", str(tmp_path), "--name", "sales_eu_2025")
    assert code == 0, err
    target = source / "prepared" / "sales_eu_2025.csv"
    assert target.read_bytes() == data and (source / "final2.csv").read_bytes() == data
    assert "wrote  SOURCE/prepared/sales_eu_2025.csv" in out and "extension" in out
    # Taken: a new number, never over the first copy.
    code, out, _ = _run(capsys, "prepare", "SOURCE/final2.csv", str(tmp_path), "--name", "sales_eu_2025.csv")
    assert code == 0 and "sales_eu_2025-2.csv" in out and "taken" in out
    assert target.read_bytes() == data
    assert _leftovers(source / "prepared") == ["sales_eu_2025-2.csv", "sales_eu_2025.csv"]


def test_copy_as_api(tmp_path: Path) -> None:
    (tmp_path / "data.xlsx").write_bytes(b"PK\x03\x04 not really")
    calls: list[tuple[int, int]] = []
    result = prepare.copy_as(tmp_path / "data.xlsx", "  budget 2026  ", progress=lambda d, t: calls.append((d, t)))
    assert isinstance(result, prepare.Prepared)
    assert [w.path for w in result.written] == [tmp_path / "prepared" / "budget 2026.xlsx"]
    assert result.written[0].size == 15 and calls[-1] == (15, 15)
    # A known extension is kept as given; an unknown one gets the original's added.
    assert prepare.new_name_for(tmp_path / "a.csv", "b.tsv") == "b.tsv"
    assert prepare.new_name_for(tmp_path / "a.csv", "customers.eu") == "customers.eu.csv"
    assert prepare.new_name_for(tmp_path / "a.csv", "B.CSV") == "B.CSV"
    assert prepare.new_name_for(tmp_path / "README", "notes") == "notes"
    assert prepare.new_name_for(tmp_path / "a.csv", "sales.") == "sales.csv"


@pytest.mark.parametrize(("name", "says"), [
    ("", "empty"), ("   ", "empty"), (".", "not a file name"), ("..", "not a file name"),
    ("../x.csv", "a path"), ("a/b.csv", "a path"), ("a\\b.csv", "a path"), ("/etc/passwd", "a path"),
    ("a\nb.csv", "line break"), ("tab\there", "control character"), ("nul\0.csv", "control character"),
    (os.fsdecode(b"bad\xff.csv"), "not valid text"), (".hidden.csv", "hidden"), ("x" * 300, "255"),
])
def test_name_refusals(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, says: str) -> None:
    (tmp_path / "a.csv").write_text("a\n1\n")
    before = _hash(tmp_path / "a.csv")
    with pytest.raises(prepare.PrepareUsage, match=says):
        prepare.copy_as(tmp_path / "a.csv", name)
    if "\0" not in name:  # argv cannot hold a NUL
        code, out, err = _run(capsys, "prepare", "a.csv", str(tmp_path), "--name", name)
        assert code == 2 and out == ""
        assert err.count("\n") == 1 and err.startswith("liferaft: ") and "Traceback" not in err
    assert not (tmp_path / "prepared").exists()
    assert _hash(tmp_path / "a.csv") == before


# --- --split-mb: how it cuts ------------------------------------------------------------------------------


def _records(data: bytes) -> list[bytes]:
    """The records of ``data``: cut after each line feed outside quotes (the reference, byte by byte)."""
    records, start, inside = [], 0, False
    for index, byte in enumerate(data):
        if byte == 0x22:
            inside = not inside
        elif byte == 0x0A and not inside:
            records.append(data[start:index + 1])
            start = index + 1
    if start < len(data):
        records.append(data[start:])
    return records


def _greedy_parts(data: bytes, limit: int) -> list[bytes]:
    header, *rows = _records(data)
    parts: list[bytes] = []
    current = header
    for row in rows:
        if len(current) + len(row) > limit and current != header:
            parts.append(current)
            current = header
        current += row
    parts.append(current)
    return parts


def _random_csv(rng: random.Random, rows: int) -> bytes:
    lines = [b"id,text,n\r\n"]
    for number in range(rows):
        kind = rng.random()
        if kind < 0.2:
            text = b'"multi\nline ""quoted""\r\n' + b"x" * rng.randrange(0, 300) + b'"'
        elif kind < 0.3:
            text = b"y" * rng.randrange(200, 900)
        else:
            text = b"plain %d" % rng.randrange(10**6)
        lines.append(b"%d,%s,%d%s" % (number, text, rng.randrange(100), rng.choice([b"\n", b"\r\n"])))
    data = b"".join(lines)
    return data if rng.random() < 0.5 else data.rstrip(b"\r\n")


@pytest.mark.parametrize("seed", range(12))
def test_split_cuts_like_the_reference(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int) -> None:
    rng = random.Random(seed)
    monkeypatch.setattr(prepare, "CHUNK", rng.choice([64, 100, 1000, 4096, 1 << 16]))
    data = _random_csv(rng, rng.randrange(200, 1500))
    (tmp_path / "r.csv").write_bytes(data)
    limit = rng.choice([1200, 2000, 5000, 20_000])
    result = prepare.split_csv(tmp_path / "r.csv", limit / prepare.MB)
    parts = [item.path.read_bytes() for item in result.written]
    assert parts == _greedy_parts(data, limit)
    assert [item.size for item in result.written] == [len(part) for part in parts]
    width = len(str(len(parts)))  # part01… when there are ten or more, so that names sort in order
    assert [item.path.name for item in result.written] == [f"r.part{n:0{width}d}.csv" for n in range(1, len(parts) + 1)]
    assert sorted(item.path.name for item in result.written) == [item.path.name for item in result.written]
    names = sorted(item.path.name for item in result.written)
    assert _leftovers(tmp_path / "prepared") == [prepare.MANIFEST_DIR, *names]
    assert _leftovers(tmp_path / "prepared" / prepare.MANIFEST_DIR) == ["r.csv.parts.json"]


def test_split_interrupted_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prepare, "CHUNK", 4096)
    (tmp_path / "r.csv").write_bytes(_random_csv(random.Random(1), 3000))
    before = _hash(tmp_path / "r.csv")
    calls = []

    def interrupt(done: int, total: int) -> None:
        calls.append(done)
        if len(calls) == 40:  # several parts are being written by now
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        prepare.split_csv(tmp_path / "r.csv", 0.005, progress=interrupt)
    assert not (tmp_path / "prepared").exists()
    assert _hash(tmp_path / "r.csv") == before


def test_split_failing_write_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "prepared").mkdir()
    (tmp_path / "prepared" / "mine.txt").write_text("kept")
    (tmp_path / "r.csv").write_bytes(_random_csv(random.Random(2), 3000))
    real = prepare._copy_range
    calls = []

    def copy(src: int, dst: int, offset: int, count: int, name: str) -> None:
        calls.append(offset)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(src, dst, offset, count, name)

    monkeypatch.setattr(prepare, "_copy_range", copy)
    code, _, err = _run(capsys, "prepare", "r.csv", str(tmp_path), "--split-mb", "0.01")
    assert code == 1 and "No space left on device" in err and err.count("\n") == 1
    assert _leftovers(tmp_path / "prepared") == ["mine.txt"]


def test_copy_falls_back_when_the_kernel_cannot_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object) -> int:
        raise OSError(errno.EXDEV, "cross-device")

    monkeypatch.setattr(os, "copy_file_range", refuse, raising=False)
    monkeypatch.setattr(os, "sendfile", refuse, raising=False)
    data = _random_csv(random.Random(3), 2000)
    (tmp_path / "r.csv").write_bytes(data)
    result = prepare.split_csv(tmp_path / "r.csv", 0.02)
    assert [item.path.read_bytes() for item in result.written] == _greedy_parts(data, 20_000)
    copy = prepare.copy_as(tmp_path / "r.csv", "records").written[0].path
    assert copy.read_bytes() == data


def test_split_notes_a_quote_never_closed(tmp_path: Path) -> None:
    (tmp_path / "q.csv").write_bytes(b"a,b\n" + b"1,2\n" * 3000 + b'3,"open\n4,5\n')
    result = prepare.split_csv(tmp_path / "q.csv", 0.005)
    assert len(result.written) >= 2 and "never be closed" in result.notes[0]


def test_split_memory_does_not_grow_with_the_file(tmp_path: Path) -> None:
    import tracemalloc

    (tmp_path / "m.csv").write_bytes(b"id,text\n" + b'1,"a, b"\n' * 3_000_000)  # 27 MB
    tracemalloc.start()
    try:
        prepare.split_csv(tmp_path / "m.csv", 2)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < prepare.CHUNK + 2_000_000


def test_storage_publish_never_overwrites(tmp_path: Path) -> None:
    fd, tmp = storage.new_temp_file(tmp_path / "new")
    os.write(fd, b"data")
    os.close(fd)
    assert tmp.name.startswith(storage.TEMP_PREFIX)
    (tmp_path / "new" / "taken").write_text("mine")
    with pytest.raises(FileExistsError):
        storage.publish(tmp, tmp_path / "new" / "taken")
    assert (tmp_path / "new" / "taken").read_text() == "mine" and tmp.exists()
    storage.publish(tmp, tmp_path / "new" / "free")
    storage.fsync_dir(tmp_path / "new")
    assert (tmp_path / "new" / "free").read_bytes() == b"data" and not tmp.exists()

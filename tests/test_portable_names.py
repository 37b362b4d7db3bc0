"""Issue #20 (2): every name Liferaft suggests or writes is valid on Linux, macOS and Windows alike (no device name
such as CON, no trailing dot or space, none of <>:"|?*, no control character, at most 255 bytes); files whose
names differ only by case, or by Unicode form, are noted by a scan; NFC and NFD forms of a name match."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from liferaft.cli import main
from liferaft.core import prepare
from liferaft.core.names import MAX_NAME, case_clashes, name_problem, portable_name, same_name_key
from liferaft.core.prompt_files import name_key
from liferaft.core.recover.extract import visualization_name
from liferaft.core.recover.write import slugify
from liferaft.core.scan import scan

NFD = unicodedata.normalize("NFD", "café.csv")
NFC = unicodedata.normalize("NFC", "café.csv")


@pytest.mark.parametrize(("name", "portable"), [
    ("sales.csv", "sales.csv"),
    ("CON", "CON_"), ("con.txt", "con_.txt"), ("Aux.tar.gz", "Aux_.tar.gz"), ("nul", "nul_"), ("LPT9.csv", "LPT9_.csv"),
    ("COM1 .txt", "COM1_.txt"), ("COM\u00b9.csv", "COM\u00b9_.csv"), ("console.csv", "console.csv"),
    ("COM10.csv", "COM10.csv"),
    ('a<b>c:d"e|f?g*h.csv', "a_b_c_d_e_f_g_h.csv"), ("tab\there.csv", "tab_here.csv"), ("del\x7f.csv", "del_.csv"),
    ("notes. . ", "notes"), ("...", "file"), ("", "file"), (NFD, NFC),
])
def test_portable_name(name: str, portable: str) -> None:
    assert portable_name(name) == portable
    assert name_problem(portable) is None
    if portable != name:
        assert name_problem(name) is not None or name == NFD


@pytest.mark.parametrize("name", ["x" * 300 + ".csv", "é" * 200 + ".csv", "日本" * 100 + ".xlsx", "\U0001f600" * 100])
def test_a_long_name_is_cut_before_its_extension(name: str) -> None:
    portable = portable_name(name)
    assert len(portable.encode()) <= MAX_NAME and len(portable.encode("utf-16-le")) // 2 <= MAX_NAME
    assert portable.endswith(name[-4:]) if "." in name else True
    assert name_problem(name) is not None and name_problem(portable) is None


def test_the_kept_end_survives_the_cut() -> None:
    assert portable_name("x" * 300 + "-2.utf8.csv", keep=len("-2.utf8.csv")).endswith("x-2.utf8.csv")


def test_names_compare_in_one_unicode_form() -> None:
    assert NFD != NFC and same_name_key(NFD) == same_name_key(NFC)
    assert name_key(NFD) == name_key(NFC) == name_key("CAFÉ.csv")
    assert case_clashes(["Data.csv", "b.csv", "data.CSV", NFD, NFC]) == [["Data.csv", "data.CSV"], sorted([NFD, NFC])]


# --- the names Liferaft writes ---------------------------------------------------------------------------------


def _latin1(path: Path) -> None:
    path.write_bytes(b"name,city\n" + "".join(f"Zoë {i},Málaga\n" for i in range(400)).encode("latin-1"))


@pytest.mark.parametrize(("original", "copy"), [
    ("con.csv", "con_.utf8.csv"), ("a:b?.csv", "a_b_.utf8.csv"), ("trailing. .csv", "trailing.utf8.csv"),
])
def test_prepared_files_have_names_valid_everywhere(tmp_path: Path, original: str, copy: str) -> None:
    _latin1(tmp_path / original)
    written = prepare.to_utf8(tmp_path / original).written
    assert [item.path.name for item in written] == [copy]


def test_split_parts_of_a_device_name_are_renamed(tmp_path: Path) -> None:
    (tmp_path / "aux.csv").write_bytes(b"id,v\n" + b"".join(f"{i},{i * 7}\n".encode() for i in range(4000)))
    names = [item.path.name for item in prepare.split_csv(tmp_path / "aux.csv", 0.01).written]
    assert names and all(name.startswith("aux_.part") and name_problem(name) is None for name in names)


def test_a_prepared_copy_of_a_long_name_fits(tmp_path: Path) -> None:
    original = "r" * 240 + ".csv"
    _latin1(tmp_path / original)
    (name,) = [item.path.name for item in prepare.to_utf8(tmp_path / original).written]
    assert name.endswith(".utf8.csv") and len(name.encode()) <= MAX_NAME


@pytest.mark.parametrize(("new", "why"), [
    ("CON.csv", "device name on Windows"), ("nul", "device name on Windows"), ("a|b.csv", "'|'"),
    ("what?.csv", "'?'"), ('say "hi".csv', "'\"'"), ("a:b.csv", "':'"),
])
def test_name_new_refuses_a_name_some_system_cannot_take(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                         new: str, why: str) -> None:
    (tmp_path / "data.csv").write_text("a,b\n1,2\n")
    code = main(["prepare", "data.csv", str(tmp_path), "--name", new])
    _out, err = capsys.readouterr()
    assert code != 0 and why in err and err.strip().count("\n") == 0 and "Traceback" not in err
    assert not (tmp_path / "prepared").exists()


def test_name_new_is_written_in_nfc(tmp_path: Path) -> None:
    (tmp_path / "data.csv").write_text("a,b\n1,2\n")
    (item,) = prepare.copy_as(tmp_path / "data.csv", NFD).written
    assert item.path.name == NFC


def test_recovered_names_are_valid_everywhere() -> None:
    assert slugify("Con") == "con_" and slugify("Sales by région!") == "sales-by-region"
    assert visualization_name("CON") == "CON_.csv"
    assert visualization_name('Top 10: "best" <clients>?') == "Top 10- -best- -clients.csv"
    assert name_problem(visualization_name("x" * 400)) is None


# --- scan notes names that clash where case is ignored ---------------------------------------------------------


def test_scan_notes_names_that_differ_only_by_case(tmp_path: Path) -> None:
    (tmp_path / "SOURCE").mkdir()
    (tmp_path / "SOURCE" / "Sales.csv").write_text("a\n1\n")
    (tmp_path / "SOURCE" / "sales.csv").write_text("a\n2\n")
    (tmp_path / "other.csv").write_text("a\n3\n")
    notes = [note for note in scan(tmp_path).notes]
    assert [(note.path, "only by case" in note.message) for note in notes] == [("SOURCE/sales.csv", True)]
    assert "SOURCE/Sales.csv" in notes[0].message


def test_scan_notes_one_name_in_two_unicode_forms(tmp_path: Path) -> None:
    (tmp_path / NFD).write_text("a\n1\n")
    (tmp_path / NFC).write_text("a\n2\n")
    notes = scan(tmp_path).notes
    assert len(notes) == 1 and "NFC/NFD" in notes[0].message

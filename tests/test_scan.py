"""The inventory: roles, kinds, junk, ignore file, and every odd entry a real folder can hold."""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
from pathlib import Path

import pytest

from liferaft.core import scan as scan_module
from liferaft.core.roles import Role
from liferaft.core.scan import scan
from tests.conftest import write


def by_path(root: Path) -> dict[str, scan_module.FileRecord]:
    return {record.path: record for record in scan(root).files}


def note_for(inventory: scan_module.Inventory, path: str) -> str:
    messages = [note.message for note in inventory.notes if note.path == path]
    assert messages, f"no note for {path}: {inventory.notes}"
    return messages[0]


def scan_with_deadline(root: Path, seconds: float = 10.0) -> scan_module.Inventory:
    """Scan in a thread so a hang fails the test instead of freezing the run."""
    result: list[scan_module.Inventory] = []
    thread = threading.Thread(target=lambda: result.append(scan(root)), daemon=True)
    thread.start()
    thread.join(seconds)
    assert result, f"scan did not finish within {seconds} s"
    return result[0]


def test_role_folders_are_matched_case_insensitively_with_aliases(tmp_path: Path) -> None:
    write(tmp_path / "Data" / "sales.csv", "a\n1\n")
    write(tmp_path / "raw" / "nested" / "more.tsv", "a\tb\n")
    write(tmp_path / "Scripts" / "clean.py", "x = 1\n")
    write(tmp_path / "notebooks" / "explore.ipynb", "{}")
    write(tmp_path / "Results" / "chart.png", b"\x89PNG\r\n\x1a\n")
    write(tmp_path / "figures" / "trend.svg", "<svg/>")
    write(tmp_path / "Notes" / "restart.md", "# note\n")
    write(tmp_path / "RESTART" / "prompt.txt", "rerun\n")
    files = by_path(tmp_path)
    expected = {
        "Data/sales.csv": Role.SOURCE,
        "raw/nested/more.tsv": Role.SOURCE,
        "Scripts/clean.py": Role.CODE,
        "notebooks/explore.ipynb": Role.CODE,
        "Results/chart.png": Role.OUTPUT,
        "figures/trend.svg": Role.OUTPUT,
        "Notes/restart.md": Role.RESTART,
        "RESTART/prompt.txt": Role.RESTART,
    }
    assert {path: record.role for path, record in files.items()} == expected
    assert not any(record.role_guessed for record in files.values())


def test_files_outside_role_folders_get_a_guessed_role(tmp_path: Path) -> None:
    write(tmp_path / "sales.csv", "a\n1\n")
    write(tmp_path / "budget.xlsx", b"PK\x03\x04")
    write(tmp_path / "analysis.py", "x = 1\n")
    write(tmp_path / "query.sql", "select 1;\n")
    write(tmp_path / "model.R", "x <- 1\n")
    write(tmp_path / "chart.png", b"\x89PNG\r\n\x1a\n")
    write(tmp_path / "sales_cleaned.csv", "a\n1\n")
    write(tmp_path / "restart-note.md", "# note\n")
    write(tmp_path / "paper.pdf", b"%PDF-1.7\n")
    write(tmp_path / "weird.bin", b"\x00\x01\x02\x03")
    write(tmp_path / "misc" / "data.parquet", b"PAR1....")
    files = by_path(tmp_path)
    roles = {path: record.role for path, record in files.items()}
    assert roles == {
        "sales.csv": Role.SOURCE,
        "budget.xlsx": Role.SOURCE,
        "analysis.py": Role.CODE,
        "query.sql": Role.CODE,
        "model.R": Role.CODE,
        "chart.png": Role.OUTPUT,
        "sales_cleaned.csv": Role.OUTPUT,
        "restart-note.md": Role.RESTART,
        "paper.pdf": Role.SOURCE,
        "weird.bin": Role.UNSORTED,
        "misc/data.parquet": Role.SOURCE,
    }
    assert all(record.role_guessed for record in files.values())


def test_overrides_win_and_are_not_marked_guessed(tmp_path: Path) -> None:
    write(tmp_path / "SOURCE" / "summary.csv", "a\n1\n")
    write(tmp_path / "loose.bin", b"\x00\x01")
    inventory = scan(tmp_path, {"SOURCE/summary.csv": Role.OUTPUT, "loose.bin": Role.SOURCE})
    files = {record.path: record for record in inventory.files}
    assert files["SOURCE/summary.csv"].role is Role.OUTPUT
    assert files["loose.bin"].role is Role.SOURCE
    assert not files["loose.bin"].role_guessed


def test_kinds_come_from_the_extension_then_the_content(tmp_path: Path) -> None:
    cases = {
        "a.CSV": ("x,y\n", "csv"),
        "b.tsv": ("x\ty\n", "tsv"),
        "c.xlsx": (b"PK\x03\x04", "xlsx"),
        "d.parquet": (b"PAR1", "parquet"),
        "e.jsonl": ('{"a": 1}\n', "json"),
        "f.txt": ("hello\n", "text"),
        "g.md": ("# hi\n", "markdown"),
        "h.ipynb": ("{}", "notebook"),
        "i.zip": (b"PK\x03\x04", "archive"),
        "no_extension_pdf": (b"%PDF-1.4 rest", "pdf"),
        "no_extension_png": (b"\x89PNG\r\n\x1a\n....", "image"),
        "no_extension_json": (b'  {"key": [1, 2]}', "json"),
        "settings.toml": (b"[tool.x]\nname = 1\n", "text"),
        "blob.dat": (b"\x00\xff\x00\xfe", "other"),
        "latin1.unknown": ("caf\xe9 cr\xe8me".encode("latin-1"), "text"),  # Western text, not UTF-8 (issue 19)
    }
    for name, (content, _) in cases.items():
        write(tmp_path / name, content)
    files = by_path(tmp_path)
    assert {name: files[name].kind for name in cases} == {name: kind for name, (_, kind) in cases.items()}


def test_junk_and_partial_downloads_are_skipped(tmp_path: Path) -> None:
    write(tmp_path / "SOURCE" / "keep.csv", "a\n")
    for junk in (
        ".DS_Store", "Thumbs.db", "SOURCE/~$budget.xlsx", "OUTPUT/chart.png.crdownload", "OUTPUT/big.csv.part",
        "OUTPUT/report.pdf.download", "CODE/.ipynb_checkpoints/x-checkpoint.ipynb", "CODE/__pycache__/x.pyc",
        ".git/HEAD", ".liferaft/state.json",
    ):
        write(tmp_path / junk, "junk")
    assert list(by_path(tmp_path)) == ["SOURCE/keep.csv"]


def test_safaris_partial_download_folder_is_skipped(tmp_path: Path) -> None:
    """Safari downloads X.csv into a folder X.csv.download holding the partial file and an Info.plist."""
    write(tmp_path / "SOURCE" / "keep.csv", "a\n")
    write(tmp_path / "SOURCE" / "sales.csv.download" / "sales.csv", "id,value\n1,")
    write(tmp_path / "SOURCE" / "sales.csv.download" / "Info.plist", "<plist/>")
    write(tmp_path / "OUTPUT" / "deep.zip.download" / "nested" / "x.txt", "x")
    assert list(by_path(tmp_path)) == ["SOURCE/keep.csv"]


def test_ignore_file_uses_gitignore_rules(tmp_path: Path) -> None:
    write(tmp_path / ".liferaftignore", "*.tmp\n!keep.tmp\nscratch/\n/top-only.csv\n# a comment\n")
    write(tmp_path / "a.tmp", "x")
    write(tmp_path / "keep.tmp", "x")
    write(tmp_path / "scratch" / "deep" / "x.csv", "x")
    write(tmp_path / "top-only.csv", "x")
    write(tmp_path / "sub" / "top-only.csv", "x")
    write(tmp_path / "data.csv", "x")
    assert sorted(by_path(tmp_path)) == ["data.csv", "keep.tmp", "sub/top-only.csv"]


def test_symlinks_inside_outside_dangling_looping_and_to_folders(tmp_path: Path) -> None:
    root = tmp_path / "project"
    outside = write(tmp_path / "elsewhere" / "secret.csv", "do not read\n")
    write(root / "SOURCE" / "real.csv", "a,b\n1,2\n")
    os.symlink(root / "SOURCE" / "real.csv", root / "SOURCE" / "alias.csv")
    os.symlink(outside, root / "SOURCE" / "outside.csv")
    os.symlink(root / "SOURCE" / "missing.csv", root / "SOURCE" / "dangling.csv")
    os.symlink(root / "SOURCE" / "loop_b", root / "SOURCE" / "loop_a")
    os.symlink(root / "SOURCE" / "loop_a", root / "SOURCE" / "loop_b")
    os.symlink(root, root / "SOURCE" / "back_to_root")
    os.symlink(tmp_path / "elsewhere", root / "linked_folder")

    inventory = scan_with_deadline(root)
    files = {record.path: record for record in inventory.files}
    assert set(files) == {"SOURCE/real.csv", "SOURCE/alias.csv", "SOURCE/outside.csv"}
    assert files["SOURCE/alias.csv"].flags == ("symlink",)
    assert files["SOURCE/alias.csv"].size == files["SOURCE/real.csv"].size
    assert set(files["SOURCE/outside.csv"].flags) == {"symlink", "outside_root"}
    assert "outside the project" in note_for(inventory, "SOURCE/outside.csv")
    assert "dangling" in note_for(inventory, "SOURCE/dangling.csv")
    assert "loop" in note_for(inventory, "SOURCE/loop_a")
    assert "folder" in note_for(inventory, "SOURCE/back_to_root")
    assert "link" in note_for(inventory, "linked_folder")


def test_fifo_and_socket_are_noted_and_never_opened(tmp_path: Path) -> None:
    write(tmp_path / "data.csv", "a\n")
    os.mkfifo(tmp_path / "pipe")  # no extension: a naive scan would open it to sniff, and block forever
    os.mkfifo(tmp_path / "pipe.csv")
    sock_path = tmp_path / "s.sock"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(sock_path))
        inventory = scan_with_deadline(tmp_path)
    finally:
        server.close()
    assert [record.path for record in inventory.files] == ["data.csv"]
    assert "FIFO" in note_for(inventory, "pipe")
    assert "FIFO" in note_for(inventory, "pipe.csv")
    assert "socket" in note_for(inventory, "s.sock")


def test_names_with_newlines_or_invalid_utf8_are_listed_and_flagged(tmp_path: Path) -> None:
    write(tmp_path / "two\nlines.csv", "a\n")
    bad = os.fsencode(tmp_path) + b"/caf\xe9.csv"
    with open(bad, "wb") as handle:
        handle.write(b"a,b\n")
    inventory = scan(tmp_path)
    files = {record.path: record for record in inventory.files}
    assert "two\nlines.csv" in files
    assert files["two\nlines.csv"].flags == ("odd_name",)
    undecodable = next(record for record in inventory.files if record.path.startswith("caf"))
    assert "odd_name" in undecodable.flags
    assert undecodable.display_path == "caf\ufffd.csv"
    # The kept path still opens the file.
    assert (tmp_path / undecodable.path).read_bytes() == b"a,b\n"
    # JSON output is valid UTF-8.
    text = json.dumps(inventory.to_json(), ensure_ascii=False)
    text.encode("utf-8")
    assert "line break" in note_for(inventory, "two\nlines.csv")


def test_empty_files_are_flagged(tmp_path: Path) -> None:
    write(tmp_path / "SOURCE" / "empty.csv", "")
    record = scan(tmp_path).files[0]
    assert record.flags == ("empty",)
    assert record.kind == "csv"


def test_unreadable_folder_and_file_become_notes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The suite runs as root in CI, where permissions are not enforced: make the OS answer EACCES instead.
    write(tmp_path / "SOURCE" / "ok.csv", "a\n")
    write(tmp_path / "locked" / "hidden.csv", "a\n")
    write(tmp_path / "SOURCE" / "noext", "secret")
    locked = str(tmp_path / "locked")
    noext = str(tmp_path / "SOURCE" / "noext")
    real_scandir, real_open = os.scandir, os.open

    def scandir(path):  # type: ignore[no-untyped-def]
        if os.fspath(path) == locked:
            raise PermissionError(13, "Permission denied", locked)
        return real_scandir(path)

    def os_open(path, flags, *args):  # type: ignore[no-untyped-def]
        if os.fspath(path) == noext:
            raise PermissionError(13, "Permission denied", noext)
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "scandir", scandir)
    monkeypatch.setattr(os, "open", os_open)
    inventory = scan(tmp_path)
    files = {record.path: record for record in inventory.files}
    assert "locked/hidden.csv" not in files
    assert "permission denied" in note_for(inventory, "locked")
    assert files["SOURCE/noext"].flags == ("unreadable",)
    assert "permission denied" in note_for(inventory, "SOURCE/noext")
    assert files["SOURCE/ok.csv"].flags == ()


def test_files_vanishing_mid_scan_become_notes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "SOURCE" / "stays.csv", "a\n")
    write(tmp_path / "SOURCE" / "goes.csv", "a\n")
    write(tmp_path / "OUTPUT" / "gone" / "x.png", "a")
    real_scandir = os.scandir

    class Listing:
        """Lists a folder, then deletes things before the scan gets to stat them."""

        def __init__(self, path):  # type: ignore[no-untyped-def]
            with real_scandir(path) as it:
                self.entries = list(it)
            for entry in self.entries:
                if entry.name == "goes.csv":
                    os.unlink(entry.path)
                if entry.name == "gone":
                    for child in os.listdir(entry.path):
                        os.unlink(os.path.join(entry.path, child))
                    os.rmdir(entry.path)

        def __enter__(self):  # type: ignore[no-untyped-def]
            return iter(self.entries)

        def __exit__(self, *exc):  # type: ignore[no-untyped-def]
            return False

    monkeypatch.setattr(os, "scandir", Listing)
    inventory = scan(tmp_path)
    assert [record.path for record in inventory.files] == ["SOURCE/stays.csv"]
    assert "vanished" in note_for(inventory, "SOURCE/goes.csv")
    assert "vanished" in note_for(inventory, "OUTPUT/gone")


def test_json_shape(project: Path) -> None:
    data = scan(project).to_json()
    assert set(data) == {"root", "files", "notes"}
    assert data["root"] == str(project)
    first = data["files"][0]
    assert set(first) == {"path", "role", "role_guessed", "kind", "size", "mtime", "flags"}
    assert [f["path"] for f in data["files"]] == sorted(f["path"] for f in data["files"])
    stray = next(f for f in data["files"] if f["path"] == "stray_summary.csv")
    assert stray["role"] == "output" and stray["role_guessed"] is True


def test_fast_json_text_is_the_same_document(tmp_path: Path, project: Path) -> None:
    write(project / "odd\n\"quoted\"\tname.csv", "a\n")
    write(project / "OUTPUT" / "empty.png", "")
    write(project / "données été.csv", "a\n")
    os.symlink("/nonexistent/target", project / "dangling.csv")
    inventory = scan(project)
    assert inventory.notes
    assert json.loads(inventory.to_json_text()) == json.loads(json.dumps(inventory.to_json()))


def test_a_bad_line_in_the_ignore_file_is_noted_and_the_rest_applies(tmp_path: Path) -> None:
    write(tmp_path / ".liferaftignore", "*.tmp\n!\n")
    write(tmp_path / "a.tmp", "x")
    write(tmp_path / "b.csv", "x")
    inventory = scan(tmp_path)
    assert [record.path for record in inventory.files] == ["b.csv"]
    assert "line 2 ('!') is not a valid pattern" in note_for(inventory, ".liferaftignore")


def test_fast_json_text_escapes_every_awkward_name(tmp_path: Path) -> None:
    names = ['quote"d.csv', "back\\slash.csv", "tab\there.csv", "del\x7f.csv", "émoji_🙂.csv",
             'fake,"role_guessed":0,x.csv', 'fake,"flags":()}.csv', "plain.csv"]
    for name in names:
        write(tmp_path / "SOURCE" / name, "a\n")
    write(tmp_path / "loose.csv", "")
    inventory = scan(tmp_path)
    assert len(inventory.files) == len(names) + 1
    parsed = json.loads(inventory.to_json_text())
    assert parsed == json.loads(json.dumps(inventory.to_json()))
    assert {f["path"] for f in parsed["files"]} >= {f"SOURCE/{name}" for name in names}
    loose = next(f for f in parsed["files"] if f["path"] == "loose.csv")
    assert loose["role_guessed"] is True and loose["flags"] == ["empty"]


def test_the_allowlist_idiom_keeps_what_it_names(tmp_path: Path) -> None:
    write(tmp_path / ".liferaftignore", "*\n!*/\n!*.csv\n")
    write(tmp_path / "SOURCE" / "a.csv", "x")
    write(tmp_path / "SOURCE" / "b.txt", "x")
    assert [record.path for record in scan(tmp_path).files] == ["SOURCE/a.csv"]


def test_an_ignore_file_saved_with_a_bom_keeps_its_first_line(tmp_path: Path) -> None:
    write(tmp_path / ".liferaftignore", "\ufeff*.tmp\n".encode())
    write(tmp_path / "c.tmp", "x")
    write(tmp_path / "d.csv", "x")
    assert [record.path for record in scan(tmp_path).files] == ["d.csv"]


def test_liferafts_own_files_as_pipes_never_block(tmp_path: Path) -> None:
    from liferaft.core.project import open_project

    write(tmp_path / "a.csv", "x")
    os.mkfifo(tmp_path / ".liferaftignore")
    (tmp_path / ".liferaft").mkdir()
    os.mkfifo(tmp_path / ".liferaft" / "state.json")
    result: list[object] = []
    thread = threading.Thread(target=lambda: result.append(open_project(tmp_path)), daemon=True)
    thread.start()
    thread.join(10)
    assert result, "opening the project blocked on a named pipe"
    project = result[0]
    assert [record.path for record in project.inventory.files] == ["a.csv"]  # type: ignore[attr-defined]
    assert any("not a regular file" in warning for warning in project.warnings)  # type: ignore[attr-defined]
    assert "cannot read the ignore file" in note_for(project.inventory, ".liferaftignore")  # type: ignore[attr-defined]


def test_a_very_deep_tree_is_scanned(tmp_path: Path) -> None:
    folder = str(tmp_path)
    for level in range(1100):  # deeper than Python's default recursion limit of 1000
        folder = f"{folder}/d{level % 10}"
        os.mkdir(folder)
    with open(f"{folder}/deep.csv", "w") as handle:
        handle.write("a\n")
    try:
        files = scan(tmp_path).files
    finally:  # pytest's own clean-up is recursive: take the tower down from the top
        os.unlink(f"{folder}/deep.csv")
        while folder != str(tmp_path):
            os.rmdir(folder)
            folder = os.path.dirname(folder)
    assert len(files) == 1 and files[0].path.endswith("/deep.csv") and files[0].path.count("/") == 1100


def test_rescanning_a_vanished_project_says_so(tmp_path: Path) -> None:
    from liferaft.core.project import ProjectError, open_project

    root = tmp_path / "gone"
    write(root / "a.csv", "x")
    project = open_project(root)
    shutil.rmtree(root)
    with pytest.raises(ProjectError, match="no such folder"):
        project.rescan()


def test_links_out_of_the_project_have_no_size(tmp_path: Path) -> None:
    outside = write(tmp_path / "elsewhere.csv", "x" * 500)
    root = tmp_path / "p"
    root.mkdir()
    os.symlink(outside, root / "link.csv")
    record = scan(root).files[0]
    assert record.size == 0 and "outside_root" in record.flags


def test_an_unreadable_file_note_gives_the_real_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = str(write(tmp_path / "noext", "x"))
    real_open = os.open

    def os_open(path, flags, *args):  # type: ignore[no-untyped-def]
        if os.fspath(path) == target:
            raise OSError(5, "Input/output error", target)
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", os_open)
    inventory = scan(tmp_path)
    assert note_for(inventory, "noext") == "cannot read this file: Input/output error"


def test_fast_json_text_handles_undecodable_names(tmp_path: Path) -> None:
    with open(os.fsencode(tmp_path) + b"/caf\xe9.csv", "wb") as handle:
        handle.write(b"a\n")
    inventory = scan(tmp_path)
    text = inventory.to_json_text()
    text.encode("utf-8")
    assert json.loads(text)["files"][0]["path"] == "caf\ufffd.csv"

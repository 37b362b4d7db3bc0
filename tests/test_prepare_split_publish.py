"""How `prepare --split-mb` puts its parts in place (issue #14, items 3 and 6): the parts appear under their names
only when all are written, a list of them (the manifest) comes last, and `check`/`prompt` never take a set that
does not match its list (or has none) for the whole table; an interruption at any point leaves nothing."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from liferaft.cli import main
from liferaft.core import preflight, prepare, prepare_sets, storage
from liferaft.core.project import open_project
from liferaft.core.uploads import check_project, plan_uploads
from tests.conftest import HANG


def _hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _table(path: Path, rows: int, seed: int = 0) -> bytes:
    rng = random.Random(seed)
    lines = [b"id,name,comment\n"]
    for i in range(rows):
        comment = f'"line one\nline {rng.randrange(1000)}, quoted ""x"""' if rng.random() < 0.2 else str(rng.random())
        lines.append(f"{i},name{i},{comment}\n".encode())
    data = b"".join(lines)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return data


def _everything(folder: Path) -> dict[str, bytes | None]:
    """Every entry under ``folder`` (relative path → bytes, None for a folder)."""
    if not folder.exists():
        return {}
    return {path.relative_to(folder).as_posix(): None if path.is_dir() else path.read_bytes()
            for path in sorted(folder.rglob("*"))}


# --- an interruption at every step -------------------------------------------------------------------------

# (module, name) of each step of a split that an interruption may land on; each is tried at its k-th call for
# every k, before the call and just after it (done, but not yet returned).
_STEPS = [(os, "link"), (os, "unlink"), (os, "replace"), (os, "fsync"), (os, "fdatasync"), (os, "fstat"),
          (storage, "fsync_dir"), (storage, "publish"), (storage, "new_temp_file")]


class _Interrupt:
    """Wraps one function to raise KeyboardInterrupt at its k-th call (from any thread)."""

    def __init__(self, real: Callable[..., Any], k: int, after: bool) -> None:
        self.real, self.k, self.after = real, k, after
        self.calls = 0
        self.lock = threading.Lock()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with self.lock:
            self.calls += 1
            hit = self.calls == self.k
        if hit and not self.after:
            raise KeyboardInterrupt
        result = self.real(*args, **kwargs)
        if hit:
            raise KeyboardInterrupt
        return result


@pytest.mark.parametrize("no_links", [False, True], ids=["link", "no-hard-links"])
@pytest.mark.parametrize("existing", [False, True], ids=["new-folder", "folder-in-use"])
def test_an_interruption_at_any_step_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    existing: bool, no_links: bool) -> None:
    monkeypatch.setattr(prepare, "CHUNK", 4096)
    original = tmp_path / "t.csv"
    _table(original, 1500)
    before = _hash(original)
    folder = tmp_path / "prepared"
    if existing:  # a file of the user's, and a finished split of another table with its list of parts
        folder.mkdir()
        (folder / "mine.txt").write_text("kept")
        _table(tmp_path / "other.csv", 300, seed=1)
        prepare.split_csv(tmp_path / "other.csv", 0.004)
    if no_links:  # a filesystem without hard links: the parts are put in place by rename
        def refuse(*_args: Any, **_kwargs: Any) -> None:
            raise PermissionError(1, "Operation not permitted")

        monkeypatch.setattr(os, "link", refuse)
    listing = _everything(folder)
    published_then_interrupted = 0
    for module, name in _STEPS:
        if no_links and (module, name) == (os, "link"):
            continue
        # A signal is handled between two instructions that check for it: never between new_temp_file returning
        # and its caller storing the result, so it is not interrupted just after.
        for after in (False, True) if name != "new_temp_file" else (False,):
            k = 1
            while True:
                wrapper = _Interrupt(getattr(module, name), k, after)
                with monkeypatch.context() as patch:
                    patch.setattr(module, name, wrapper)
                    try:
                        prepare.split_csv(original, 0.01)
                    except KeyboardInterrupt:
                        interrupted = True
                    else:
                        interrupted = False
                if not interrupted:  # k is past the last call: the split finished; take it back for the next
                    assert wrapper.calls < k
                    written = sorted(folder.glob("t.part*.csv"))
                    assert len(written) >= 5
                    for path in [*written, folder / prepare.MANIFEST_DIR / "t.csv.parts.json"]:
                        path.unlink()
                    if not existing:
                        (folder / prepare.MANIFEST_DIR).rmdir()
                        folder.rmdir()
                    assert _everything(folder) == listing
                    break
                where = f"KeyboardInterrupt {'after' if after else 'at'} call {k} of {name}"
                assert _hash(original) == before, where
                assert _everything(folder) == listing, where  # no part, no list of parts, no temporary file
                assert not [p for p in tmp_path.rglob("*") if p.name.startswith(storage.TEMP_PREFIX)], where
                if name in ("link", "replace", "publish") and after and k > 1:
                    published_then_interrupted += 1
                k += 1
    assert published_then_interrupted >= 5  # interruptions while the parts were being put in place were tried


def test_a_finished_split_is_listed_last_with_its_sizes(tmp_path: Path) -> None:
    data = _table(tmp_path / "t.csv", 1500)
    result = prepare.split_csv(tmp_path / "t.csv", 0.01)
    manifest = json.loads((tmp_path / "prepared" / prepare.MANIFEST_DIR / "t.csv.parts.json").read_text())
    assert manifest["parts"] == [{"name": item.path.name, "size": item.size} for item in result.written]
    assert manifest["source"] == "t.csv" and manifest["source_size"] == len(data)
    # The list is written after every part is in place: it is the newest entry of the folder.
    assert all(item.path.stat().st_mtime_ns <= (tmp_path / "prepared" / prepare.MANIFEST_DIR /
                                                "t.csv.parts.json").stat().st_mtime_ns for item in result.written)
    assert all(prepare.split_part_problem(item.path) is None for item in result.written)
    # A scan never lists the list itself, so it is never offered for upload.
    assert not [path for path in _files_scanned(tmp_path) if "parts.json" in path]


def _files_scanned(root: Path) -> list[str]:
    return [record.path for record in open_project(root).inventory.files]


# --- check and prompt refuse a set that does not match its list --------------------------------------------


def _split_project(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, list[Path]]:
    root = tmp_path / "proj"
    _table(root / "SOURCE" / "big.csv", 3000)
    assert main(["prepare", "SOURCE/big.csv", str(root), "--split-mb", "0.03"]) == 0
    capsys.readouterr()
    parts = sorted((root / "SOURCE" / "prepared").glob("big.part*.csv"))
    assert len(parts) >= 4
    return root, parts


def _check(root: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    code = main(["check", str(root), "--json"])
    return code, json.loads(capsys.readouterr().out)


def _prompt(root: Path, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    assert main(["prompt", str(root)]) == 0
    captured = capsys.readouterr()
    return captured.out, captured.err


def _forget(root: Path) -> None:
    """As after a split killed before it could remember its parts: no record in the project's state."""
    (root / ".liferaft" / "state.json").unlink()


def _damage(case: str, root: Path, parts: list[Path]) -> None:
    manifest = root / "SOURCE" / "prepared" / prepare.MANIFEST_DIR / "big.csv.parts.json"
    if case == "no list":  # killed while the parts were put in place, before the list was written: the mark
        manifest.unlink()  # of the split under way is still there
        pending = prepare_sets.pending_path(parts[0])
        assert pending is not None
        pending.write_text('{"parts": []}')
    elif case == "part missing":
        parts[1].unlink()
    elif case == "last part missing":
        parts[-1].unlink()
    elif case == "extra part":
        (parts[0].parent / f"big.part{len(parts) + 1}.csv").write_bytes(parts[0].read_bytes())
    elif case == "wrong size":
        with open(parts[2], "ab") as handle:
            handle.write(b"9,extra,row\n")
    elif case == "damaged list":
        manifest.write_text("{not json")
    else:
        raise AssertionError(case)


CASES = ["no list", "part missing", "last part missing", "extra part", "wrong size", "damaged list"]


@pytest.mark.parametrize("case", CASES)
def test_check_blocks_and_prompt_leaves_out_parts_that_are_not_the_set(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str) -> None:
    root, parts = _split_project(tmp_path, capsys)
    code, report = _check(root, capsys)
    assert code == 0 and report["summary"]["block"] == 0  # the finished set: fine
    _forget(root)
    code, report = _check(root, capsys)
    assert code == 0 and report["summary"]["block"] == 0  # its list of parts is enough, even without a record
    _damage(case, root, parts)
    code, report = _check(root, capsys)
    assert code == 1
    shown = {entry["path"]: entry for entry in report["files"]}
    left = [f"SOURCE/prepared/{path.name}" for path in sorted((root / "SOURCE" / "prepared").glob("big.part*"))]
    assert left
    for path in left:
        assert shown[path]["verdict"] == "block", (case, shown[path])
        problem = next(p for p in shown[path]["problems"] if p["code"] == "incomplete_split")
        assert "liferaft prepare SOURCE/big.csv " in problem["fix"] and "--split-mb" in problem["fix"]
    project = open_project(root)
    plan = plan_uploads(project.inventory, project.state.prepared, check=False)
    assert [item.record.path for item in plan.items] == ["SOURCE/big.csv"]
    out, err = _prompt(root, capsys)
    assert "big.part" not in out and "big.csv" in out
    assert "not complete" in err and "run the split again" in err


@pytest.mark.parametrize("case", ["part missing", "wrong size", "extra part", "no list"])
def test_a_remembered_split_that_no_longer_matches_is_not_used(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str) -> None:
    root, parts = _split_project(tmp_path, capsys)
    _damage(case, root, parts)
    _code, report = _check(root, capsys)
    original = next(entry for entry in report["files"] if entry["path"] == "SOURCE/big.csv")
    assert "replaced_by" not in original and "stale" in original
    project = open_project(root)
    plan = plan_uploads(project.inventory, project.state.prepared, check=False)
    assert not any("part" in item.record.path for item in plan.items)
    out, _err = _prompt(root, capsys)
    assert "big.part" not in out


def test_the_users_own_part_named_files_in_prepared_are_not_a_split(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "SOURCE" / "prepared"
    folder.mkdir(parents=True)
    for number in (1, 2):  # no list of parts, no split under way: files the user put there, not Liferaft's
        (folder / f"survey.part{number}.csv").write_text("q,a\n1,yes\n")
    assert prepare.split_part_problem(folder / "survey.part2.csv") is None
    code, report = _check(tmp_path, capsys)
    assert code == 0 and report["summary"]["block"] == 0
    # A split of Liferaft's interrupted while it put its parts in place leaves its mark: then they are refused.
    (folder / prepare.MANIFEST_DIR).mkdir()
    (folder / prepare.MANIFEST_DIR / f"survey.csv{prepare_sets.PENDING_SUFFIX}").write_text("{}")
    assert "did not finish" in (prepare.split_part_problem(folder / "survey.part2.csv") or "")


def test_a_part_named_file_elsewhere_is_not_a_split(tmp_path: Path) -> None:
    (tmp_path / "SOURCE").mkdir()
    (tmp_path / "SOURCE" / "notes.part2.csv").write_text("a,b\n1,2\n")
    (tmp_path / "SOURCE" / "prepared").mkdir()
    (tmp_path / "SOURCE" / "prepared" / "book.part1.xlsx").write_bytes(b"PK")
    assert preflight.check_file(tmp_path / "SOURCE" / "notes.part2.csv").verdict != preflight.BLOCK
    assert prepare.split_part_problem(tmp_path / "SOURCE" / "prepared" / "book.part1.xlsx") is None


# --- a real process, killed ---------------------------------------------------------------------------------


def _state_of(folder: Path) -> tuple[list[str], list[str], bool]:
    """(temporary files, visible parts, whether the list of parts is there) in ``folder``."""
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return [], [], False
    temps = [name for name in names if name.startswith(storage.TEMP_PREFIX)]
    parts = [name for name in names if ".part" in name and name.endswith(".csv")]
    return temps, parts, os.path.exists(folder / prepare.MANIFEST_DIR / "big.csv.parts.json")


@pytest.mark.parametrize("seed", range(6))
def test_a_split_killed_on_the_way_is_never_taken_for_the_table(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    root = tmp_path / "proj"
    data = _table(root / "SOURCE" / "big.csv", 40_000, seed=seed)
    before = _hash(root / "SOURCE" / "big.csv")
    folder = root / "SOURCE" / "prepared"
    limit_mb = rng.choice([0.006, 0.01, 0.02])
    expected_parts = len(data) // int(limit_mb * prepare.MB)
    point = rng.choice(["first temporary file", "first part", "some parts", "most parts"])
    wanted = {"first temporary file": 0, "first part": 1, "some parts": rng.randrange(2, expected_parts // 2),
              "most parts": rng.randrange(expected_parts // 2, expected_parts)}[point]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(prepare.__file__).parents[2]),
                                                                      os.environ.get("PYTHONPATH")]))}
    process = subprocess.Popen([sys.executable, "-m", "liferaft", "prepare", "SOURCE/big.csv", str(root),
                                "--split-mb", str(limit_mb)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env=env)
    try:
        deadline = time.monotonic() + HANG
        while process.poll() is None:  # watch as closely as can be, and kill it at the chosen point
            temps, parts, _listed = _state_of(folder)
            if (temps if point == "first temporary file" else len(parts) >= wanted):
                process.send_signal(signal.SIGKILL)
                break
            if time.monotonic() > deadline:
                pytest.fail("the split neither reached the point nor finished")
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=HANG)
    assert _hash(root / "SOURCE" / "big.csv") == before
    _temps, parts, listed = _state_of(folder)
    report = check_project(root)
    checks = {check.path: check for check in report.files}
    project = open_project(root)
    plan = plan_uploads(project.inventory, project.state.prepared, check=False)
    offered = [item.record.path for item in plan.items]
    complete = False
    if listed:
        manifest = json.loads((folder / prepare.MANIFEST_DIR / "big.csv.parts.json").read_text())
        names = [part["name"] for part in manifest["parts"]]
        complete = sorted(names) == sorted(parts) and b"".join(
            (folder / name).read_bytes()[len(b"id,name,comment\n"):] for name in names) == data[16:]
    print(f"killed at {point} ({wanted}): {len(parts)} part(s) visible, list {'there' if listed else 'absent'}, "
          f"{'complete' if complete else 'incomplete'}")
    if complete:  # finished before the kill: the whole set, in full
        assert all(checks[f"SOURCE/prepared/{name}"].verdict != preflight.BLOCK for name in parts)
    else:  # every part left is blocked, none is offered, and check does not pass while one is there
        assert report.clean == (not parts)
        for name in parts:
            check = checks[f"SOURCE/prepared/{name}"]
            assert check.verdict == preflight.BLOCK and "incomplete_split" in {p.code for p in check.problems}
        assert not [path for path in offered if "part" in path]

"""Checkpoints: hashes streamed and reused, the file kept safe through corruption and SIGKILL, diffs, rework."""

from __future__ import annotations

import hashlib
import json
import os
import random
import select
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from liferaft.core import checkpoints as cp
from liferaft.core import storage
from liferaft.core.scan import scan
from tests.conftest import HANG, REPO, write

NOW = 1772452800.0


def _project(root: Path) -> Path:
    write(root / "SOURCE" / "sales.csv", "region,revenue\nnorth,10\n")
    write(root / "OUTPUT" / "chart.png", b"\x89PNG fake")
    write(root / "RESTART" / "restart-note.md", "# Restart note: test\n\n## Generated outputs\n- chart.png\n")
    return root


def _blake(path: Path) -> str:
    return hashlib.blake2b(path.read_bytes(), digest_size=32).hexdigest()


def test_record_and_load_round_trip(tmp_path: Path) -> None:
    root = _project(tmp_path / "p")
    checkpoint = cp.record_checkpoint(root, scan(root), "cleaning", now=NOW)
    assert checkpoint.number == 1
    assert set(checkpoint.files) == {"SOURCE/sales.csv", "OUTPUT/chart.png", "RESTART/restart-note.md"}
    entry = checkpoint.files["SOURCE/sales.csv"]
    assert entry.hash == _blake(root / "SOURCE" / "sales.csv")
    assert entry.size == (root / "SOURCE" / "sales.csv").stat().st_size
    assert entry.mtime_ns == (root / "SOURCE" / "sales.csv").stat().st_mtime_ns
    assert "## Generated outputs" in checkpoint.note
    loaded, warnings = cp.load_checkpoints(root)
    assert warnings == []
    assert [(c.number, c.message, c.time) for c in loaded] == [(1, "cleaning", NOW)]
    assert loaded[0].files == checkpoint.files
    assert loaded[0].note == checkpoint.note
    assert loaded[0].iso_time.endswith("+00:00")  # the suite runs with TZ=UTC
    data = json.loads(cp.checkpoints_path(root).read_text())
    assert data["version"] == cp.CHECKPOINTS_VERSION


def test_no_note_gives_empty_text(tmp_path: Path) -> None:
    root = tmp_path / "p"
    write(root / "a.csv", "x\n1\n")
    assert cp.record_checkpoint(root, scan(root), "", now=NOW).note == ""


def test_unknown_keys_survive_a_new_checkpoint(tmp_path: Path) -> None:
    root = _project(tmp_path / "p")
    cp.record_checkpoint(root, scan(root), "one", now=NOW)
    path = cp.checkpoints_path(root)
    data = json.loads(path.read_text())
    data["future"] = {"a": 1}
    data["checkpoints"][0]["tag"] = "kept"
    path.write_text(json.dumps(data))
    cp.record_checkpoint(root, scan(root), "two", now=NOW + 60)
    data = json.loads(path.read_text())
    assert data["future"] == {"a": 1}
    assert data["checkpoints"][0]["tag"] == "kept"
    assert [c["message"] for c in data["checkpoints"]] == ["one", "two"]


def test_large_file_is_hashed_in_chunks(tmp_path: Path) -> None:
    root = tmp_path / "p"
    big = write(root / "SOURCE" / "big.csv", os.urandom(3 * cp.CHUNK + 17))
    seen: list[int] = []
    checkpoint = cp.record_checkpoint(root, scan(root), "", now=NOW, progress=lambda done, total, _p: seen.append(done))
    assert checkpoint.files["SOURCE/big.csv"].hash == _blake(big)
    assert seen[-1] == big.stat().st_size
    assert len(seen) >= 4  # progress once per chunk at least


def test_unchanged_files_reuse_the_previous_hash(tmp_path: Path) -> None:
    root = _project(tmp_path / "p")
    path = root / "SOURCE" / "sales.csv"
    first = cp.record_checkpoint(root, scan(root), "", now=NOW)
    st = path.stat()
    # Same size and mtime but other bytes: only a re-hash would notice, and a reused hash must not.
    path.write_text("region,revenue\nsouth,10\n")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    second = cp.record_checkpoint(root, scan(root), "", now=NOW + 1)
    assert second.files["SOURCE/sales.csv"].hash == first.files["SOURCE/sales.csv"].hash
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1000))
    third = cp.record_checkpoint(root, scan(root), "", now=NOW + 2)
    assert third.files["SOURCE/sales.csv"].hash == _blake(path) != first.files["SOURCE/sales.csv"].hash


def test_file_changing_while_hashed_is_retried_then_marked(tmp_path: Path) -> None:
    path = write(tmp_path / "growing.csv", os.urandom(2 * cp.CHUNK))
    calls = {"n": 0}

    def grow_always(_count: int) -> None:
        calls["n"] += 1
        with open(path, "ab") as handle:
            handle.write(b"more\n")

    digest, _st, status = cp.hash_file(path, grow_always)
    assert (digest, status) == (None, cp.CHANGING)
    assert calls["n"] >= 4  # two attempts of two chunks each

    once = {"done": False}

    def grow_once(_count: int) -> None:
        if not once["done"]:
            once["done"] = True
            with open(path, "ab") as handle:
                handle.write(b"last\n")

    digest, _st, status = cp.hash_file(path, grow_once)
    assert status == cp.OK and digest == _blake(path)


def test_links_out_and_vanished_or_replaced_files_are_skipped(tmp_path: Path) -> None:
    root = _project(tmp_path / "p")
    outside = write(tmp_path / "elsewhere.csv", "a\n1\n")
    (root / "SOURCE" / "linked.csv").symlink_to(outside)
    write(root / "SOURCE" / "gone.csv", "a\n1\n")
    write(root / "SOURCE" / "pipe.csv", "a\n1\n")
    inventory = scan(root)
    (root / "SOURCE" / "gone.csv").unlink()
    (root / "SOURCE" / "pipe.csv").unlink()
    os.mkfifo(root / "SOURCE" / "pipe.csv")  # a pipe where a file was: never opened for a blocking read
    checkpoint = cp.record_checkpoint(root, inventory, "", now=NOW)
    assert set(checkpoint.skipped) == {"SOURCE/linked.csv", "SOURCE/gone.csv", "SOURCE/pipe.csv"}
    assert "out of the project" in checkpoint.skipped["SOURCE/linked.csv"]
    assert "not a regular file" in checkpoint.skipped["SOURCE/pipe.csv"]
    assert "SOURCE/sales.csv" in checkpoint.files


@pytest.mark.parametrize(("content", "reason"), [
    (b'{"version": 1, "checkpoints": [', "corrupt"),
    (b"\xff\xfe not json", "corrupt"),
    (b'{"version": 99, "checkpoints": []}', "newer"),
    (b'[1, 2]', "corrupt"),
])
def test_unusable_file_is_kept_aside_and_reported(tmp_path: Path, content: bytes, reason: str) -> None:
    root = _project(tmp_path / "p")
    path = write(cp.checkpoints_path(root), content)
    loaded, warnings = cp.load_checkpoints(root)
    assert loaded == []
    assert len(warnings) == 1 and "\n" not in warnings[0] and "kept as" in warnings[0]
    backups = [p for p in path.parent.iterdir() if p.name.startswith(f"checkpoints.json.{reason}-")]
    assert len(backups) == 1 and backups[0].read_bytes() == content
    checkpoint = cp.record_checkpoint(root, scan(root), "after", now=NOW)
    assert checkpoint.number == 1
    assert cp.load_checkpoints(root) == ([checkpoint], []) or cp.load_checkpoints(root)[1] == []


def test_checkpoints_file_that_is_a_folder_refuses_to_save(tmp_path: Path) -> None:
    root = _project(tmp_path / "p")
    cp.checkpoints_path(root).mkdir(parents=True)
    loaded, warnings = cp.load_checkpoints(root)
    assert loaded == [] and len(warnings) == 1
    with pytest.raises(cp.CheckpointError) as info:
        cp.record_checkpoint(root, scan(root), "", now=NOW)
    assert "\n" not in str(info.value)


def test_diff_between_checkpoints_and_with_the_inventory(tmp_path: Path) -> None:
    root = _project(tmp_path / "p")
    first = cp.record_checkpoint(root, scan(root), "", now=NOW)
    write(root / "OUTPUT" / "new.csv", "a\n")
    (root / "SOURCE" / "sales.csv").write_text("region,revenue\nnorth,11\nsouth,3\n")
    (root / "OUTPUT" / "chart.png").unlink()
    note = root / "RESTART" / "restart-note.md"
    st = note.stat()
    os.utime(note, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))  # touched, not changed
    now = scan(root)
    changes = cp.diff(first, now)
    assert changes.added == ["OUTPUT/new.csv"]
    assert changes.removed == ["OUTPUT/chart.png"]
    assert changes.changed == ["RESTART/restart-note.md", "SOURCE/sales.csv"]
    assert cp.diff(first, now, by_hash=True).changed == ["SOURCE/sales.csv"]
    second = cp.record_checkpoint(root, now, "", now=NOW + 60)
    assert cp.diff(first, second).changed == ["RESTART/restart-note.md", "SOURCE/sales.csv"]
    by_hash = cp.diff(first, second, by_hash=True)
    assert (by_hash.added, by_hash.removed, by_hash.changed) == (["OUTPUT/new.csv"], ["OUTPUT/chart.png"],
                                                                 ["SOURCE/sales.csv"])
    assert by_hash.count == 3 and by_hash
    assert not cp.diff(second, scan(root))


def test_rework_follows_the_seed_model() -> None:
    assert cp.rework_percent(0) == 100.0
    assert cp.rework_percent(1) == 100.0
    assert cp.rework_percent(2) == 50.0
    assert cp.rework_percent(10) == 10.0
    assert round(cp.rework_percent(3)) == 33


#: Forks one writer per line it reads (a delay in seconds), each starting with Liferaft imported and the project
#: scanned (a new interpreter per kill spent most of the test starting up). A writer loops writing the checkpoint
#: file; once it has written one checkpoint, it is killed (SIGKILL) after the delay, and this process answers
#: with the writer's exit code. It kills the writer itself, before reaping it: the pid cannot have been reused.
WRITER = textwrap.dedent("""
    import os, signal, sys, time
    from pathlib import Path
    from liferaft.core import checkpoints as cp
    from liferaft.core.scan import scan

    root = Path(sys.argv[1])
    inventory = scan(root)
    while line := sys.stdin.readline():
        delay = float(line)
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(read_end)
                n = 0
                while True:
                    n += 1
                    if n % 4 == 1:
                        # Trimmed before a checkpoint is added, never after: a kill during the trimming write
                        # then leaves at most 8, and the file never holds more than 9.
                        loaded, _ = cp.load_checkpoints(root)
                        if len(loaded) > 7:
                            cp._save(root, loaded[-3:], {})
                        cp.record_checkpoint(root, inventory, f"loop {n}", now=time.time())
                        loaded, _ = cp.load_checkpoints(root)
                        os.write(write_end, b"%d\\n" % n)
                    cp._save(root, loaded, {})  # most of the loop is writing the file: the kills land in writes
            finally:
                os._exit(70)
        os.close(write_end)
        first = os.read(read_end, 64)  # at least one checkpoint written in this run (empty: the writer failed)
        if first:
            time.sleep(delay)
        os.kill(pid, signal.SIGKILL)
        os.close(read_end)
        _, status = os.waitpid(pid, 0)
        print(os.waitstatus_to_exitcode(status) if first else "no checkpoint written", flush=True)
""")


def test_sigkill_during_writes_never_breaks_the_file(tmp_path: Path) -> None:
    root = tmp_path / "p"
    for index in range(1000):  # big enough that a write takes a while, small enough to loop fast
        write(root / "SOURCE" / f"part_{index:03d}_with_a_longish_name.csv", f"a,b\n{index},1\n")
    script = write(tmp_path / "writer.py", WRITER)
    env = {**os.environ, "PYTHONPATH": str(REPO / "app")}
    rng = random.Random(6)
    kills = 0
    mid_write = 0  # kills that left a half-written temporary file: the case this test is about
    writers = subprocess.Popen([sys.executable, str(script), str(root)], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    assert writers.stdin is not None and writers.stdout is not None
    try:
        while kills < 25 or (mid_write == 0 and kills < 100):
            writers.stdin.write(f"{rng.uniform(0.0, 0.25)}\n")
            writers.stdin.flush()
            ready, _, _ = select.select([writers.stdout], [], [], HANG)
            answer = writers.stdout.readline().strip() if ready else "no answer"
            assert answer == str(-signal.SIGKILL), f"{answer}: the writer wrote no checkpoint within {HANG:g} s"
            kills += 1
            folder = cp.checkpoints_path(root).parent
            stray = [p for p in folder.iterdir() if p.name.startswith(storage.TEMP_PREFIX)]
            mid_write += bool(stray)
            for path in stray:  # as if the next start came a while later: the sweep leaves young files alone
                os.utime(path, (time.time() - 3600, time.time() - 3600))
            loaded, warnings = cp.load_checkpoints(root)
            assert warnings == [], warnings
            assert 1 <= len(loaded) <= 9
            assert all(len(c.files) == 1000 for c in loaded)
            assert not [p for p in folder.iterdir() if p.name.startswith(storage.TEMP_PREFIX)]
            assert not [p for p in folder.iterdir() if ".corrupt-" in p.name]
    finally:
        writers.stdin.close()
        try:
            writers.wait(timeout=HANG)
        except subprocess.TimeoutExpired:
            writers.kill()
            writers.wait()
    assert mid_write >= 1

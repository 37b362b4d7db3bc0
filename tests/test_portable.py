"""Issue #20: macOS and Windows get the same Liferaft. Each fallback for a call that only Linux (or only POSIX) has
is tried here on Linux by simulation: the call is taken away, or the platform is faked (see docs/platforms.md)."""

from __future__ import annotations

import errno
import os
import random
import signal
import subprocess
import sys
import threading
import types
from pathlib import Path
from typing import Any

import pytest

from liferaft.cli import main
from liferaft.cli import signals as cli_signals
from liferaft.core import prepare, storage
from liferaft.core.roles import Role
from liferaft.core.state import load_state, update_state
from tests.conftest import HANG, cli_env

# --- without os.pread (Windows) ------------------------------------------------------------------------------


def _table(path: Path, rows: int = 3000) -> bytes:
    rng = random.Random(20)
    lines = [b"id,name,comment\n"]
    for i in range(rows):
        comment = '"two\nlines, ""q"""' if rng.random() < 0.2 else str(rng.random())
        lines.append(f"{i},name{i},{comment}\n".encode())
    data = b"".join(lines)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return data


def _no_positional_io(monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows: no os.pread, no kernel copies."""
    for name in ("pread", "copy_file_range", "sendfile"):
        monkeypatch.delattr(os, name, raising=False)


def _parts(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.glob("big.part*.csv"))}


def test_split_without_pread_gives_the_same_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = _table(tmp_path / "linux" / "big.csv")
    prepare.split_csv(tmp_path / "linux" / "big.csv", 0.02)
    expected = _parts(tmp_path / "linux" / "prepared")
    assert len(expected) >= 4

    (tmp_path / "windows").mkdir()
    (tmp_path / "windows" / "big.csv").write_bytes(data)
    _no_positional_io(monkeypatch)
    handles: list[int] = []
    own_handle = prepare._own_handle
    monkeypatch.setattr(prepare, "_own_handle", lambda source, name: handles.append(1) or own_handle(source, name))
    prepare.split_csv(tmp_path / "windows" / "big.csv", 0.02)
    assert _parts(tmp_path / "windows" / "prepared") == expected
    assert handles == [1]  # the workers seek on a handle of their own, never on the one being read


def test_utf8_without_pread_gives_the_same_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = "name,city\n" + "".join(f"Zoë {i},Málaga\n" for i in range(3000))
    for side in ("linux", "windows"):
        (tmp_path / side).mkdir()
        (tmp_path / side / "eu.csv").write_bytes(text.encode("latin-1"))
    prepare.to_utf8(tmp_path / "linux" / "eu.csv")
    _no_positional_io(monkeypatch)
    prepare.to_utf8(tmp_path / "windows" / "eu.csv")
    copy = (tmp_path / "windows" / "prepared" / "eu.utf8.csv").read_bytes()
    assert copy == (tmp_path / "linux" / "prepared" / "eu.utf8.csv").read_bytes() == text.encode("utf-8")


def test_read_at_without_pread_leaves_the_position(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "f").write_bytes(b"0123456789")
    monkeypatch.delattr(os, "pread")
    fd = os.open(tmp_path / "f", os.O_RDONLY)
    try:
        os.lseek(fd, 3, os.SEEK_SET)
        assert storage.read_at(fd, 4, 5) == b"5678"
        assert storage.read_at(fd, 100, 8) == b"89"
        assert os.read(fd, 2) == b"34"
    finally:
        os.close(fd)


# --- locks without fcntl -------------------------------------------------------------------------------------


@pytest.fixture
def no_fcntl(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "fcntl", None)  # `import fcntl` now fails, as on Windows


def _held(target: Path) -> Path:
    return target.with_name(target.stem + ".lock.held")


def test_without_fcntl_a_lock_file_is_held_for_the_block(tmp_path: Path, no_fcntl: None) -> None:
    target = tmp_path / ".liferaft" / "state.json"
    with storage.locked(target):
        content = _held(target).read_text().split("\n")
        assert content[0] == str(os.getpid()) and content[1] == storage._host()
    assert not _held(target).exists()


def test_without_fcntl_a_second_holder_waits(tmp_path: Path, no_fcntl: None, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "thing.json"
    waiting = threading.Event()
    entered = threading.Event()
    monkeypatch.setattr(storage, "_pause", lambda _seconds: waiting.set())

    def second() -> None:
        with storage.locked(target):
            entered.set()

    with storage.locked(target):
        worker = threading.Thread(target=second)
        worker.start()
        assert waiting.wait(HANG)  # it found the lock held and waits
        assert not entered.is_set()
    worker.join(HANG)
    assert entered.is_set()


def test_without_fcntl_threads_lose_no_record(tmp_path: Path, no_fcntl: None) -> None:
    rounds, threads = 20, 4
    start = threading.Barrier(threads)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            start.wait(timeout=HANG)
            for i in range(rounds):
                update_state(tmp_path, lambda state, key=f"t{n}-{i}.csv": state.overrides.__setitem__(key, Role.SOURCE))
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(HANG)
    assert not errors
    assert len(load_state(tmp_path).state.overrides) == rounds * threads


def test_without_fcntl_two_processes_lose_no_record(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "sys.modules['fcntl'] = None\n"
        "from liferaft.core.roles import Role\n"
        "from liferaft.core.state import update_state\n"
        "print('ready', flush=True)\n"
        "sys.stdin.readline()\n"
        "for i in range(30):\n"
        "    update_state(sys.argv[1], lambda s, k=f'{NAME}-{i}.csv': s.overrides.__setitem__(k, Role.OUTPUT))\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", script.replace("{NAME}", name), str(tmp_path)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=cli_env()) for name in "ab"]
    try:
        for proc in procs:
            assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        for proc in procs:
            _out, err = proc.communicate(timeout=HANG)
            assert proc.returncode == 0, err
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert len(load_state(tmp_path).state.overrides) == 60
    assert not list(tmp_path.glob(".liferaft/*.held*"))


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_lock_file_left_by_a_dead_process_is_broken(tmp_path: Path, no_fcntl: None) -> None:
    target = tmp_path / "state.json"
    _held(target).write_text(f"{_dead_pid()}\n{storage._host()}\nold\n")
    with storage.locked(target):
        assert _held(target).read_text().startswith(f"{os.getpid()}\n")
    assert not _held(target).exists()


def test_an_old_lock_file_of_another_host_is_broken(tmp_path: Path, no_fcntl: None) -> None:
    target = tmp_path / "state.json"
    _held(target).write_text(f"{os.getpid()}\nsome-other-host\nold\n")
    old = _held(target).stat().st_mtime - storage.STALE_LOCK_SECONDS - 10
    os.utime(_held(target), (old, old))
    with storage.locked(target):
        assert _held(target).read_text().startswith(f"{os.getpid()}\n{storage._host()}\n")


class _GaveUp(Exception):
    pass


def test_a_live_lock_file_is_never_broken(tmp_path: Path, no_fcntl: None, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "state.json"
    live = f"{os.getppid()}\n{storage._host()}\nlive\n"  # a process that runs (ours' parent)
    _held(target).write_text(live)
    other = tmp_path / "other.json"
    _held(other).write_text(f"{_dead_pid()}\nsome-other-host\nfresh\n")  # another host's pid says nothing

    def give_up(_seconds: float) -> None:
        raise _GaveUp

    monkeypatch.setattr(storage, "_pause", give_up)
    for path in (target, other):
        with pytest.raises(_GaveUp), storage.locked(path):
            pass
    assert _held(target).read_text() == live and _held(other).exists()


def test_a_lock_released_by_another_holder_is_left_alone(tmp_path: Path, no_fcntl: None) -> None:
    target = tmp_path / "state.json"
    with storage.locked(target):
        _held(target).write_text("1\nelsewhere\nnot-mine\n")  # broken as stale and taken by another meanwhile
    assert _held(target).read_text() == "1\nelsewhere\nnot-mine\n"


def test_where_flock_fails_the_lock_file_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import fcntl

    def no_locks(_fd: int, _op: int) -> None:
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)  # some network shares
    target = tmp_path / "state.json"
    with storage.locked(target):
        assert _held(target).is_file()
    assert not _held(target).exists()


def test_on_windows_the_lock_is_msvcrt_locking(tmp_path: Path, no_fcntl: None, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, int, int]] = []
    refusals = [OSError(errno.EACCES, "held")]  # held by another process once, then free

    def locking(fd: int, mode: int, nbytes: int) -> None:
        calls.append(("lock" if mode == fake.LK_NBLCK else "unlock", os.lseek(fd, 0, os.SEEK_CUR), nbytes))
        if mode == fake.LK_NBLCK and refusals:
            raise refusals.pop()

    fake = types.SimpleNamespace(LK_UNLCK=0, LK_NBLCK=2, locking=locking)
    pauses: list[float] = []
    monkeypatch.setitem(sys.modules, "msvcrt", fake)
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(storage, "_pause", pauses.append)
    target = tmp_path / "state.json"
    with storage.locked(target):
        assert calls == [("lock", 0, 1), ("lock", 0, 1)]
        assert not _held(target).exists()
    assert calls[-1] == ("unlock", 0, 1) and len(pauses) == 1
    assert (tmp_path / "state.lock").is_file()


# --- folders that cannot be opened (Windows) -----------------------------------------------------------------


def test_on_windows_folders_are_not_opened_to_fsync(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[str] = []
    real_open = os.open

    def recording_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        opened.append(str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(os, "open", recording_open)
    storage.fsync_dir(tmp_path)
    storage.write_text(tmp_path / "a.txt", "x")
    assert str(tmp_path) not in opened
    assert (tmp_path / "a.txt").read_text() == "x"


def test_a_folder_that_cannot_be_opened_is_not_fsynced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_open = os.open

    def refuse_folders(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if os.path.isdir(path):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse_folders)
    storage.write_text(tmp_path / "a.txt", "x")
    assert (tmp_path / "a.txt").read_text() == "x"


# --- a replace refused because another program holds the file (Windows) -------------------------------------


def _refusing_replace(monkeypatch: pytest.MonkeyPatch, refusals: int) -> list[float]:
    real_replace = os.replace
    left = [refusals]

    def replace(src: Any, dst: Any) -> None:
        if left[0] > 0:
            left[0] -= 1
            raise PermissionError(errno.EACCES, "Access is denied", str(dst))
        real_replace(src, dst)

    pauses: list[float] = []
    monkeypatch.setattr(os, "replace", replace)
    monkeypatch.setattr(storage, "_pause", pauses.append)
    monkeypatch.setattr(sys, "platform", "win32")
    return pauses


def test_a_held_file_is_replaced_once_it_is_let_go(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "state.json"
    target.write_text("old")
    pauses = _refusing_replace(monkeypatch, 2)
    storage.write_text(target, "new")
    assert target.read_text() == "new"
    assert len(pauses) == 2 and pauses[1] > pauses[0]  # a short back-off
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(storage.TEMP_PREFIX)]


def test_a_file_held_for_good_is_named_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "state.json"
    target.write_text("old")
    pauses = _refusing_replace(monkeypatch, 1000)
    with pytest.raises(storage.FileHeld) as caught:
        storage.write_text(target, "new")
    assert str(caught.value) == (f"{target} is held open by another program (an editor, a viewer, an antivirus or "
                                 "sync tool?): close it and try again")
    assert len(pauses) == storage.REPLACE_TRIES - 1
    assert target.read_text() == "old"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(storage.TEMP_PREFIX)]


def test_on_linux_a_refused_replace_is_not_tried_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pauses = _refusing_replace(monkeypatch, 1)
    monkeypatch.setattr(sys, "platform", "linux")
    with pytest.raises(PermissionError) as caught:
        storage.write_text(tmp_path / "x", "new")
    assert not isinstance(caught.value, storage.FileHeld) and pauses == []


def test_the_command_line_says_which_file_is_held(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "data.csv").write_text("a,b\n1,2\n")
    _refusing_replace(monkeypatch, 1000)
    code = main(["checkpoint", str(tmp_path), "-m", "cleaning"])
    _out, err = capsys.readouterr()
    assert code != 0
    assert err.strip().count("\n") == 0 and "held open by another program" in err and "Traceback" not in err


def test_a_held_file_names_the_programs_holding_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows' Restart Manager says which programs hold the file (faked here): the one line names them."""
    target = tmp_path / "state.json"
    target.write_text("old")
    _refusing_replace(monkeypatch, 1000)
    asked: list[str] = []
    monkeypatch.setattr(storage, "_restart_manager",
                        lambda path: asked.append(path) or ["EXCEL.EXE", "", "EXCEL.EXE", "OneDrive"])
    with pytest.raises(storage.FileHeld) as caught:
        storage.write_text(target, "new")
    assert str(caught.value) == f"{target} is held open by EXCEL.EXE, OneDrive: close it and try again"
    assert asked == [os.path.abspath(target)] and target.read_text() == "old"


def test_when_windows_cannot_say_who_holds_it_the_file_is_named(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "state.json"
    target.write_text("old")
    _refusing_replace(monkeypatch, 1000)

    def no_restart_manager(_path: str) -> list[str]:
        raise OSError("rstrtmgr.dll could not be loaded")

    monkeypatch.setattr(storage, "_restart_manager", no_restart_manager)
    with pytest.raises(storage.FileHeld) as caught:
        storage.write_text(target, "new")
    assert "is held open by another program" in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize("how", ["mode", "attribute"])
def test_a_read_only_file_is_said_to_be_read_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    """Windows refuses to replace a read-only file as it does a held one: that is said at once, not retried."""
    import stat

    target = tmp_path / "state.json"
    target.write_text("old")
    if how == "mode":
        target.chmod(0o444)
    else:  # Windows' stat: the read-only attribute, whatever the mode says
        real_stat = os.stat

        def windows_stat(path: Any, *args: Any, **kwargs: Any) -> Any:
            st = real_stat(path, *args, **kwargs)
            if str(path) != str(target):
                return st
            return types.SimpleNamespace(st_mode=st.st_mode, st_file_attributes=stat.FILE_ATTRIBUTE_READONLY)

        monkeypatch.setattr(os, "stat", windows_stat)
    pauses = _refusing_replace(monkeypatch, 1000)
    monkeypatch.setattr(storage, "_restart_manager", lambda path: ["EXCEL.EXE"])
    with pytest.raises(storage.FileReadOnly) as caught:
        storage.write_text(target, "new")
    assert str(caught.value).startswith(f"{target} is read-only")
    assert "held" not in str(caught.value) and "\n" not in str(caught.value)
    assert pauses == [] and target.read_text() == "old"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(storage.TEMP_PREFIX)]


def test_on_linux_a_refused_read_only_replace_is_left_as_it_is(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "x"
    target.write_text("old")
    target.chmod(0o444)
    pauses = _refusing_replace(monkeypatch, 1)
    monkeypatch.setattr(sys, "platform", "linux")
    asked: list[str] = []
    monkeypatch.setattr(storage, "_restart_manager", lambda path: asked.append(path) or ["EXCEL.EXE"])
    with pytest.raises(PermissionError) as caught:
        storage.write_text(target, "new")
    assert type(caught.value) is PermissionError and pauses == [] and asked == []
    assert storage.holders(target) == [] and asked == []


# --- files another program holds open cannot be removed (Windows) ----------------------------------------------


def _refusing_unlink(monkeypatch: pytest.MonkeyPatch, names: set[str], refusals: int) -> list[float]:
    """Windows: unlinking a file another program holds open is refused (``refusals`` times per name)."""
    real_unlink = os.unlink
    left = dict.fromkeys(names, refusals)

    def unlink(path: Any, *args: Any, **kwargs: Any) -> None:
        name = os.path.basename(path)
        if left.get(name, 0) > 0:
            left[name] -= 1
            raise PermissionError(errno.EACCES, "The process cannot access the file", str(path))
        real_unlink(path, *args, **kwargs)

    pauses: list[float] = []
    monkeypatch.setattr(os, "unlink", unlink)
    monkeypatch.setattr(storage, "_pause", pauses.append)
    monkeypatch.setattr(sys, "platform", "win32")
    return pauses


def test_a_held_temporary_file_is_left_and_counted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    held = tmp_path / f"{storage.TEMP_PREFIX}held"
    free = tmp_path / f"{storage.TEMP_PREFIX}free"
    held.write_bytes(b"12345")
    free.write_bytes(b"123")
    old = held.stat().st_mtime - 3600
    for path in (held, free):
        os.utime(path, (old, old))
    _refusing_unlink(monkeypatch, {held.name}, 1000)
    assert storage.sweep_temp_counts(tmp_path, old + 60) == (1, 3, 1, 5)
    assert held.read_bytes() == b"12345" and not free.exists()
    assert storage.sweep_temp_files(tmp_path) == 0 and held.exists()  # never an error, on the next start either


def _cancelled_at_the_end(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fix runs to its end without progress reports, so it is cancelled after it wrote everything."""
    from liferaft.core import fixes

    real_run_fix = fixes.run_fix
    monkeypatch.setattr(fixes, "run_fix", lambda path, action, argument=None, **_kw: real_run_fix(path, action,
                                                                                                 argument))


def _names(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*"))


def test_a_cancelled_fix_waits_a_moment_for_a_held_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from liferaft.core import operations

    _table(tmp_path / "big.csv")
    before = _names(tmp_path)
    _cancelled_at_the_end(monkeypatch)
    pauses = _refusing_unlink(monkeypatch, {"big.part1.csv"}, 2)  # a scanner looks at it, then lets go
    with pytest.raises(operations.FixCancelled) as caught:
        operations.prepare_fix(tmp_path / "big.csv", "split", "0.02", cancelled=lambda: True)
    assert caught.value.leftovers == [] and str(caught.value) == "cancelled: nothing was written"
    assert len(pauses) == 2 and _names(tmp_path) == before


def test_a_cancelled_fix_names_the_file_it_could_not_take_back(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from liferaft.core import operations

    _table(tmp_path / "big.csv")
    _cancelled_at_the_end(monkeypatch)
    _refusing_unlink(monkeypatch, {"big.part2.csv"}, 1000)  # held open for good (a viewer)
    with pytest.raises(operations.FixCancelled) as caught:
        operations.prepare_fix(tmp_path / "big.csv", "split", "0.02", cancelled=lambda: True)
    held = tmp_path / "prepared" / "big.part2.csv"
    assert caught.value.leftovers == [held] and held.is_file()
    assert str(caught.value) == (f"cancelled, but {held} could not be removed (another program holds it open): "
                                 "delete it once that program has let go")
    assert _names(tmp_path) == ["big.csv", "prepared", "prepared/big.part2.csv"]  # the rest was taken back


# --- Windows' MAX_PATH -------------------------------------------------------------------------------------------


def _deep_folder(tmp_path: Path, length: int) -> Path:
    """A folder whose full path is ``length`` characters long."""
    room = length - len(str(tmp_path)) - 1
    folder = tmp_path / ("d" * room)
    assert len(str(folder)) == length
    return folder


@pytest.mark.parametrize("long_paths", [False, True])
def test_a_path_windows_would_refuse_is_refused_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      long_paths: bool) -> None:
    """Over MAX_PATH with long paths off, Windows refuses the file with "cannot find the path": refused here
    first, in one line, and nothing is written; the temporary name written beside the file counts too."""
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(storage, "_long_paths", [long_paths])
    folder = _deep_folder(tmp_path, 200)
    folder.mkdir()
    fine = folder / "summary.csv"
    storage.write_text(fine, "a\n")  # 212 characters, its temporary name 223
    long_name = folder / ("n" * 70 + ".csv")  # 275 characters
    deeper = _deep_folder(tmp_path, 240)
    deeper.mkdir()
    if long_paths:
        storage.write_text(long_name, "a\n")
        storage.write_text(deeper / "a.csv", "a\n")
        assert long_name.read_text() == "a\n"
        return
    with pytest.raises(storage.PathTooLong) as caught:
        storage.write_text(long_name, "a\n")
    assert "too long for Windows (275 characters; 259 at most" in str(caught.value) and "\n" not in str(caught.value)
    # a.csv: 246 characters, but its temporary name beside it would be 262
    with pytest.raises(storage.PathTooLong):
        storage.write_text(deeper / "a.csv", "a\n")
    with pytest.raises(storage.PathTooLong):
        storage.new_temp_file(deeper)
    assert not long_name.exists() and list(deeper.iterdir()) == []
    assert fine.read_text() == "a\n"


def test_elsewhere_long_paths_are_left_to_the_system(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "darwin")
    folder = _deep_folder(tmp_path, 250)
    folder.mkdir()
    storage.write_text(folder / ("n" * 40 + ".csv"), "a\n")
    assert (folder / ("n" * 40 + ".csv")).read_text() == "a\n"


def test_the_command_line_says_a_path_is_too_long_for_windows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    project = _deep_folder(tmp_path, 235)
    (project / "SOURCE").mkdir(parents=True)
    (project / "SOURCE" / "data.csv").write_text("a,b\n1,2\n")
    monkeypatch.setattr(storage, "_long_paths", [False])
    real_platform = sys.platform
    # Windows from the first write on (the locks before it are Linux's here: msvcrt cannot be had)
    real_check = storage.check_path_length

    def as_on_windows(path: Path | str, **kw: bool) -> None:
        monkeypatch.setattr(sys, "platform", "win32")
        try:
            real_check(path, **kw)
        finally:
            monkeypatch.setattr(sys, "platform", real_platform)

    monkeypatch.setattr(storage, "check_path_length", as_on_windows)
    code = main(["checkpoint", str(project), "-m", "cleaning"])
    _out, err = capsys.readouterr()
    assert code == 1
    assert err.strip().count("\n") == 0 and "too long for Windows" in err and "Traceback" not in err
    assert not [p for p in project.rglob("*") if p.name.startswith(storage.TEMP_PREFIX)]
    assert (project / "SOURCE" / "data.csv").read_text() == "a,b\n1,2\n"


# --- signals ---------------------------------------------------------------------------------------------------


def test_without_sighup_the_stop_signals_adapt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(signal, "SIGHUP")
    monkeypatch.delattr(signal, "SIGBREAK", raising=False)
    assert cli_signals.stop_signal_names() == ("SIGINT", "SIGTERM")
    previous = cli_signals.handle_stop_signals()
    try:
        assert set(previous) == {signal.SIGINT, signal.SIGTERM}
    finally:
        cli_signals.restore_signals(previous)


def test_sigbreak_stops_a_command_where_there_is_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(signal, "SIGBREAK", signal.SIGUSR1, raising=False)  # Windows' Ctrl-Break
    previous = cli_signals.handle_stop_signals()
    try:
        assert signal.getsignal(signal.SIGUSR1) is cli_signals._on_signal
    finally:
        cli_signals.restore_signals(previous)
    assert signal.getsignal(signal.SIGUSR1) is not cli_signals._on_signal


def test_a_stop_signal_without_sighup_or_timers_stops_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    set_to: list[int] = []
    monkeypatch.delattr(signal, "SIGHUP")
    monkeypatch.delattr(signal, "setitimer")  # Windows: no SIGALRM either
    monkeypatch.setattr(signal, "signal", lambda number, _handler: set_to.append(number))
    monkeypatch.setattr(cli_signals, "_in_lock_code", lambda _frame: True)
    with pytest.raises(cli_signals.Interrupted):
        cli_signals._on_signal(signal.SIGTERM, None)
    assert set_to == [signal.SIGTERM]  # a second one is ignored; SIGHUP, missing, is skipped


# --- no chmod by descriptor (Windows before Python 3.13) -------------------------------------------------------


def test_atomic_writes_without_chmod_by_descriptor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_chmod = os.chmod

    def chmod(path: Any, mode: int, **kwargs: Any) -> None:
        if isinstance(path, int):
            raise TypeError("chmod: path should be string, bytes or os.PathLike, not int")
        real_chmod(path, mode, **kwargs)

    monkeypatch.setattr(os, "chmod", chmod)
    monkeypatch.setattr(os, "supports_fd", {call for call in os.supports_fd if call is not real_chmod})
    storage.write_text(tmp_path / "a.txt", "x")
    storage.write_text(tmp_path / "a.txt", "y")
    fd, tmp = storage.new_temp_file(tmp_path)
    os.close(fd)
    assert (tmp_path / "a.txt").read_text() == "y" and tmp.is_file()


# --- reveal in the file manager (Windows) ------------------------------------------------------------------------


def test_on_windows_explorer_exit_code_is_not_a_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from liferaft.core import operations

    ran: list[list[str]] = []

    def run(command: list[str] | str, **_kw: object) -> subprocess.CompletedProcess[bytes]:
        ran.append(command)
        explorer = (command if isinstance(command, str) else command[0]).startswith("explorer")
        return subprocess.CompletedProcess(command, 1 if explorer else 2)

    monkeypatch.setattr(subprocess, "run", run)
    target = tmp_path / "a.csv"
    target.write_text("a\n")
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(operations.reveal_command, "__defaults__", ("win32",))
    assert operations.reveal(target).opened and ran[-1] == f'explorer /select,"{target}"'
    monkeypatch.setattr(operations.reveal_command, "__defaults__", ("linux",))
    assert operations.reveal(target).problem == "xdg-open exited with status 2"


def test_on_windows_a_path_with_a_comma_reaches_explorer_whole(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Explorer splits ``/select,PATH`` at a comma unless the path is quoted, and Python's own quoting of a list
    (the whole argument, and only when it holds a space) is not what explorer reads: the line is written out."""
    from liferaft.core import operations

    ran: list[list[str] | str] = []
    monkeypatch.setattr(subprocess, "run", lambda command, **_kw: ran.append(command)
                        or subprocess.CompletedProcess(command, 1))
    monkeypatch.setattr(operations.reveal_command, "__defaults__", ("win32",))
    for name in ("sales, 2025.csv", "a,b.csv", "plain.csv"):
        target = tmp_path / "Q1, final" / name
        target.parent.mkdir(exist_ok=True)
        target.write_text("a\n")
        assert operations.reveal(target).opened
        assert ran[-1] == f'explorer /select,"{target}"'


# --- the Downloads folder ----------------------------------------------------------------------------------------


def test_a_moved_downloads_folder_is_the_one_watched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Linux: the XDG user-dirs file names the folder (a desktop's settings write it when Downloads is moved)."""
    from liferaft.core import risk

    moved = tmp_path / "home" / "Téléchargements"
    moved.mkdir(parents=True)
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "user-dirs.dirs").write_text('XDG_DOWNLOAD_DIR="$HOME/Téléchargements"\n',
                                                        encoding="utf-8")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setattr(sys, "platform", "linux")
    assert risk.downloads_to_watch({}) == moved


def test_on_windows_the_downloads_known_folder_is_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows: the Downloads known folder, which follows a move or OneDrive's redirection, not
    %USERPROFILE%\\Downloads (platformdirs 4.7+ asks SHGetKnownFolderPath; the lookup is faked here)."""
    import platformdirs
    import platformdirs.windows

    from liferaft.core import risk

    redirected = "D:\\OneDrive - Contoso\\Downloads"
    asked: list[str] = []
    monkeypatch.setattr(platformdirs, "PlatformDirs", platformdirs.windows.Windows)
    monkeypatch.setattr(platformdirs.windows, "get_win_folder", lambda name: asked.append(name) or redirected)
    folder, configured = risk.downloads_folder({})
    assert asked == ["CSIDL_DOWNLOADS"] and not configured
    assert str(folder).replace("/", "\\") == redirected


# --- WSL ------------------------------------------------------------------------------------------------------


def test_wsl_is_told_by_its_variable_or_its_kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from liferaft.core import wsl

    release = tmp_path / "osrelease"
    monkeypatch.setattr(wsl, "OSRELEASE", release)
    monkeypatch.setattr(sys, "platform", "linux")
    assert wsl.is_wsl({"WSL_DISTRO_NAME": "Ubuntu"})
    assert not wsl.is_wsl({})  # no kernel release to read
    release.write_text("5.15.167.4-microsoft-standard-WSL2\n")
    assert wsl.is_wsl({})
    release.write_text("6.8.0-49-generic\n")
    assert not wsl.is_wsl({})
    monkeypatch.setattr(sys, "platform", "darwin")
    assert not wsl.is_wsl({"WSL_DISTRO_NAME": "Ubuntu"})


def _wsl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, users: tuple[str, ...], *,
         profile: str | None) -> list[list[str]]:
    """WSL faked: no ~/Downloads, Windows' users under a fake /mnt/c/Users, and cmd.exe answering ``profile``
    (None: Windows' programs cannot be run from here)."""
    from liferaft.core import wsl

    mnt = tmp_path / "mnt" / "c" / "Users"
    for user in users:
        (mnt / user / "Downloads").mkdir(parents=True)
    (tmp_path / "home").mkdir()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(wsl, "is_wsl", lambda environ=None: True)
    monkeypatch.setattr(wsl, "WINDOWS_USERS", mnt)
    monkeypatch.setattr(wsl, "_downloads", [])
    ran: list[list[str]] = []

    def run(command: list[str], **_kw: Any) -> subprocess.CompletedProcess[bytes]:
        ran.append(command)
        if profile is None:
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", command[0])
        if command[0] == "cmd.exe":
            return subprocess.CompletedProcess(command, 0, f"{profile}\r\n".encode(), b"")
        if command[:2] == ["wslpath", "-u"]:
            name = command[2].rpartition("\\")[2]
            return subprocess.CompletedProcess(command, 0, f"{mnt / name}\n".encode(), b"")
        return subprocess.CompletedProcess(command, 1, b"", b"")

    monkeypatch.setattr(subprocess, "run", run)
    return ran


def test_on_wsl_windows_downloads_folder_is_watched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """WSL's browser is Windows': its downloads are in the user's Windows profile, which Windows is asked for
    (two users there: only the answer tells which)."""
    from liferaft.core import risk

    ran = _wsl(tmp_path, monkeypatch, ("alice", "bob", "Public"), profile="C:\\Users\\bob")
    expected = tmp_path / "mnt" / "c" / "Users" / "bob" / "Downloads"
    assert risk.downloads_to_watch({}) == expected
    assert risk.downloads_to_watch({}) == expected and [command[0] for command in ran] == ["cmd.exe", "wslpath"]
    assert risk.downloads_to_watch({"watch": {"downloads": False}}) is None


def test_on_wsl_without_windows_answering_the_one_users_downloads(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from liferaft.core import risk

    _wsl(tmp_path, monkeypatch, ("bob", "Public", "Default"), profile=None)
    assert risk.downloads_to_watch({}) == tmp_path / "mnt" / "c" / "Users" / "bob" / "Downloads"


def test_on_wsl_downloads_not_found_are_said_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    from liferaft.core import risk, wsl

    _wsl(tmp_path, monkeypatch, ("alice", "bob"), profile=None)  # two users: which one is not guessed
    project = tmp_path / "project"
    (project / "SOURCE").mkdir(parents=True)
    (project / "SOURCE" / "data.csv").write_text("a,b\n1,2\n")
    assert risk.downloads_to_watch({}) == tmp_path / "home" / "Downloads"
    main(["status", str(project)])
    _out, err = capsys.readouterr()
    said = [line for line in err.splitlines() if "Downloads" in line]
    assert len(said) == 1 and "Traceback" not in err
    assert "Windows' Downloads folder was not found" in said[0] and "[watch] downloads" in said[0]
    monkeypatch.setattr(wsl, "is_wsl", lambda environ=None: False)  # plain Linux: no Downloads, nothing to say
    assert risk.downloads_to_watch({}) is None


def test_on_wsl_reveal_asks_windows_explorer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from liferaft.core import operations, wsl

    target = tmp_path / "Q1, final" / "sales 2025.csv"
    target.parent.mkdir()
    target.write_text("a\n")
    shown = "\\\\wsl.localhost\\Ubuntu\\tmp\\Q1, final\\sales 2025.csv"
    ran: list[list[str]] = []
    converts = [True]

    def run(command: list[str], **_kw: Any) -> subprocess.CompletedProcess[bytes]:
        ran.append(command)
        if command[:2] == ["wslpath", "-w"]:
            assert command[2] == str(target)
            return subprocess.CompletedProcess(command, 0 if converts[0] else 1, f"{shown}\n".encode(), b"")
        return subprocess.CompletedProcess(command, 1)  # explorer.exe answers 1 even when it showed the file

    monkeypatch.setattr(subprocess, "run", run)
    monkeypatch.setattr(wsl, "is_wsl", lambda environ=None: True)
    monkeypatch.setattr(operations.reveal_command, "__defaults__", ("linux",))
    assert operations.reveal(target).opened
    assert ran[-1] == ["explorer.exe", f"/select,{shown}"]
    converts[0] = False  # wslpath failed: the Linux way, whose failure is said
    revealed = operations.reveal(target)
    assert ran[-1] == ["xdg-open", str(target.parent)] and revealed.problem == "xdg-open exited with status 1"


# --- the clipboard's routes: macOS, Windows, WSL -----------------------------------------------------------------


class _Tools:
    """The platforms' clipboard programs, scripted: pyperclip's own functions run them through subprocess.Popen.
    ``keeps``: whether a copy reaches the clipboard; ``missing``: the programs are not there; ``slow``: seconds
    powershell.exe takes to start."""

    def __init__(self, *, keeps: bool = True, missing: bool = False, slow: float = 0.0) -> None:
        self.board, self.keeps, self.missing, self.slow = "what was there before", keeps, missing, slow
        self.ran: list[str] = []

    def popen(self, args: list[str], **_kw: Any) -> Any:
        if self.missing:
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", args[0])
        self.ran.append(args[0])
        tools = self

        class Process:
            returncode = 0

            def communicate(self, input: bytes | None = None, timeout: float | None = None) -> tuple[Any, Any]:
                import base64
                import time

                if args[0] in ("pbcopy", "clip.exe") and tools.keeps:
                    assert input is not None
                    tools.board = input.decode("utf-8" if args[0] == "pbcopy" else "utf-16le")
                if args[0] == "pbpaste":
                    return tools.board.encode("utf-8"), None
                if args[0] == "powershell.exe":
                    time.sleep(tools.slow)
                    return base64.b64encode(tools.board.encode("utf-8")) + b"\r\n", b""
                return None, None

        return Process()


def _route(monkeypatch: pytest.MonkeyPatch, platform: str, tools: _Tools) -> None:
    """pyperclip's choice for ``platform`` ("darwin": pbcopy/pbpaste; "win32": the Win32 clipboard, whose
    ctypes calls are faked; "wsl": clip.exe and powershell.exe) on the tools given."""
    import pyperclip

    from liferaft.core import wsl

    monkeypatch.setattr(subprocess, "Popen", tools.popen)
    monkeypatch.setattr(sys, "platform", "linux" if platform == "wsl" else platform)
    monkeypatch.setattr(wsl, "is_wsl", lambda environ=None: platform == "wsl")
    if platform == "win32":
        def copy_windows(text: str) -> None:
            if tools.missing:
                raise pyperclip.PyperclipWindowsException("Error calling OpenClipboard")
            if tools.keeps:
                tools.board = text

        def paste_windows() -> str:
            return tools.board

        monkeypatch.setattr(pyperclip, "determine_clipboard", lambda: (copy_windows, paste_windows))
    else:
        init = pyperclip.init_wsl_clipboard if platform == "wsl" else pyperclip.init_osx_pbcopy_clipboard
        monkeypatch.setattr(pyperclip, "determine_clipboard", init)


def _delivered(tmp_path: Path) -> Any:
    from liferaft.core.delivery import deliver

    root = tmp_path / "project"
    root.mkdir(exist_ok=True)
    return deliver("Rerun the analysis: région.csv ✓\n", what="the rerun prompt", root=root, role_folders={},
                   template="rerun", now=1772452800.0, terminal=None)


@pytest.mark.parametrize("platform", ["darwin", "win32", "wsl"])
def test_each_platforms_clipboard_is_copied_and_read_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          platform: str) -> None:
    tools = _Tools()
    _route(monkeypatch, platform, tools)
    done = _delivered(tmp_path)
    assert done.how == "copied" and done.message.startswith("Copied the rerun prompt") and not done.warning
    assert tools.board == "Rerun the analysis: région.csv ✓\n"
    expected = {"darwin": ["pbcopy", "pbpaste"], "win32": [], "wsl": ["clip.exe", "powershell.exe"]}[platform]
    assert tools.ran == expected


@pytest.mark.parametrize("platform", ["darwin", "win32", "wsl"])
def test_each_platforms_clipboard_that_drops_the_text_is_said(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              platform: str) -> None:
    _route(monkeypatch, platform, _Tools(keeps=False))
    done = _delivered(tmp_path)
    assert done.how == "saved" and "(no clipboard available)" in done.message
    assert done.warning == "no native clipboard: the clipboard did not keep the text"


@pytest.mark.parametrize("platform", ["darwin", "win32", "wsl"])
def test_each_platforms_clipboard_missing_is_said(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  platform: str) -> None:
    monkeypatch.setenv("DISPLAY", ":0")  # says nothing in WSL, where Windows' programs are the clipboard
    _route(monkeypatch, platform, _Tools(missing=True))
    done = _delivered(tmp_path)
    assert done.how == "saved" and done.warning.startswith("no native clipboard: no clipboard tool works here")
    assert ("WSL: clip.exe and powershell.exe could not be run" in done.warning) == (platform == "wsl")
    assert "xclip" not in done.warning and "DISPLAY" not in done.warning


def test_on_wsl_a_slow_read_back_still_counts_as_copied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """powershell.exe often takes longer to start than the usual deadline: WSL gets a longer one (both are
    shortened here, so the test is quick)."""
    from liferaft.core import clipboard

    monkeypatch.setattr(clipboard, "TIMEOUT", 0.2)
    monkeypatch.setattr(clipboard, "WSL_TIMEOUT", 1.5)
    tools = _Tools(slow=0.7)  # past the usual deadline and its grace
    _route(monkeypatch, "wsl", tools)
    assert clipboard.default_timeout() == 1.5
    done = _delivered(tmp_path)
    assert done.how == "copied" and tools.ran == ["clip.exe", "powershell.exe"]
    result = clipboard.copy_native("again", timeout=0.2)  # the usual deadline would have given up
    assert not result.copied and "did not answer within 0.2 s" in result.detail

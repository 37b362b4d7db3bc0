"""Nothing of Liferaft's is left behind: stop signals clean up as Ctrl-C does, stale temporary files are swept
by the next command and by the workbench, `status` says what they still hold, and failures leave nothing half
done (issue #14, items 4 and 10)."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from liferaft import cli
from liferaft.core import leftovers, prepare, storage
from liferaft.core.storage import TEMP_PREFIX
from tests.conftest import HANG, cli_env, eventually, write

posix_only = pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="SIGTERM/SIGHUP handlers are POSIX only")


def temp_files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob(f"{TEMP_PREFIX}*"))


def big_csv(path: Path, rows: int = 200_000) -> Path:
    """About 4.7 MB: split into 1 KB parts it makes thousands of temporary files, a moment's work."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write("id,name,value\n")
        handle.write("".join(f"{i},name{i},{i * 3}\n" for i in range(rows)))
    return path


def start_split(root: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "liferaft", "prepare", "SOURCE/big.csv", str(root),
                             "--split-mb", "0.001"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=cli_env(), stdin=subprocess.DEVNULL)


def run(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "liferaft", *args], capture_output=True, text=True,
                          env=kwargs.pop("env", None) or cli_env(), stdin=subprocess.DEVNULL, timeout=HANG,
                          **kwargs)  # type: ignore[call-overload]


def age(path: Path, seconds: float) -> Path:
    then = time.time() - seconds
    os.utime(path, (then, then))
    return path


# --- (a) SIGTERM and SIGHUP are handled as Ctrl-C is ---------------------------------------------------------


@posix_only
@pytest.mark.parametrize("name", ["SIGTERM", "SIGHUP"])
def test_a_stop_signal_during_a_split_cleans_up_like_ctrl_c(tmp_path: Path, name: str) -> None:
    """`kill` or a closed terminal mid-split: exit 128+signal with one line, no part and no temporary file left
    (without the handler the process dies at once and leaves its temporary files in SOURCE/prepared/)."""
    root = tmp_path / "project"
    big_csv(root / "SOURCE" / "big.csv")
    process = start_split(root)
    try:
        folder = root / "SOURCE" / "prepared"
        eventually(lambda: folder.is_dir() and any(p.name.startswith(TEMP_PREFIX) for p in folder.iterdir()),
                   what="a temporary part in SOURCE/prepared")
        process.send_signal(getattr(signal, name))
        out, err = process.communicate(timeout=HANG)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 128 + getattr(signal, name), (out, err)
    assert err == "liferaft: interrupted\n"
    assert out == ""
    assert temp_files(root) == []
    assert not folder.exists()  # the split made it, and took it back: no visible partial result
    after = run("scan", "--json", str(root))
    assert after.returncode == 0, after.stderr
    assert [f["path"] for f in json.loads(after.stdout)["files"]] == ["SOURCE/big.csv"]
    assert temp_files(root) == []


@posix_only
def test_ctrl_c_still_exits_130() -> None:
    """The stop-signal handling leaves Ctrl-C's exit code alone, and restores the handlers it replaced."""
    before = signal.getsignal(signal.SIGTERM)

    def interrupt(_args: object) -> int:
        raise KeyboardInterrupt

    handlers = dict(cli.HANDLERS)
    try:
        cli.HANDLERS["scan"] = interrupt  # type: ignore[assignment]
        assert cli.main(["scan", "--inspect", __file__]) == 130
    finally:
        cli.HANDLERS.clear()
        cli.HANDLERS.update(handlers)
    assert signal.getsignal(signal.SIGTERM) is before


# --- (b) stale temporary files are swept ----------------------------------------------------------------------


#: Every folder Liferaft writes into, relative to the project.
WRITTEN = ["SOURCE/prepared", "SOURCE/2025/q1/prepared", "prepared", "RESTART", "RESTART/prompts",
           "CODE/recovered", "OUTPUT/recovered", ".liferaft", "SOURCE/prepared/.liferaft"]


def litter(root: Path) -> tuple[list[Path], list[Path]]:
    """A stale temporary file (two minutes old) and a fresh one in every folder Liferaft writes into, and files
    that are not Liferaft's to remove; returns (stale, kept)."""
    write(root / "SOURCE" / "orders.csv", "a,b\n1,2\n")
    write(root / "RESTART" / "restart-note.md", "# Restart note: litter\n")
    stale: list[Path] = []
    kept: list[Path] = []
    for rel in WRITTEN:
        stale.append(age(write(root / rel / f"{TEMP_PREFIX}old{len(stale)}", b"x" * 1000), 120))
        kept.append(write(root / rel / f"{TEMP_PREFIX}new{len(kept)}", b"y" * 10))  # a write going on now
    kept.append(age(write(root / "SOURCE" / "prepared" / "notes-tmp-old.txt", "not ours"), 3600))
    kept.append(age(write(root / "SOURCE" / "prepared" / ".liferaft-tmp", "not the prefix"), 3600))
    kept.append(age(write(root / "misc" / f"{TEMP_PREFIX}elsewhere", "a folder Liferaft never writes to"), 3600))
    outside = root.parent / "outside"
    kept.append(age(write(outside / f"{TEMP_PREFIX}outside", "beyond a link"), 3600))
    (root / "SOURCE" / "linked").mkdir()
    (root / "SOURCE" / "linked" / "prepared").symlink_to(outside, target_is_directory=True)
    return stale, kept


@pytest.mark.parametrize("command", [
    ["scan"], ["check"], ["note"], ["prompt"], ["checkpoint", "--list"], ["status"], ["init"],
    ["prepare", "SOURCE/orders.csv"], ["diagnose", "--dir"], ["import", "missing.zip", "--into"],
])
def test_every_command_on_a_project_sweeps_stale_temp_files(tmp_path: Path, command: list[str]) -> None:
    """A killed Liferaft's temporary files (a minute old or more) go at the start of the next command, in every
    folder Liferaft writes into; younger ones (a live write), other files and anything beyond a link stay."""
    root = tmp_path / "project"
    stale, kept = litter(root)
    after = {"diagnose": ["text"], "prepare": ["--utf8"]}.get(command[0], [])
    result = run(*command, str(root), *after)
    assert "Traceback" not in result.stderr
    assert [path for path in stale if os.path.lexists(path)] == []
    assert [path for path in kept if not os.path.lexists(path)] == []


def test_a_command_without_a_project_sweeps_nothing(tmp_path: Path) -> None:
    root = tmp_path / "project"
    stale, _kept = litter(root)
    run("scan", "--inspect", str(root / "SOURCE" / "orders.csv"), cwd=root)
    run("diagnose", "text", cwd=root)
    assert all(path.exists() for path in stale)


def test_sweep_leftovers_counts_what_it_removed_and_what_remains(tmp_path: Path) -> None:
    root = tmp_path / "project"
    stale, kept = litter(root)
    young = [path for path in kept if path.name.startswith(f"{TEMP_PREFIX}new")]
    done = leftovers.sweep_leftovers(root)
    assert done == leftovers.Leftovers(removed=len(stale), freed=1000 * len(stale), remaining=len(young),
                                       held=10 * len(young))
    assert leftovers.sweep_leftovers(root) == leftovers.Leftovers(0, 0, len(young), 10 * len(young))
    assert leftovers.PREPARED == prepare.PREPARED


def test_a_sigkilled_split_is_swept_once_a_minute_old(tmp_path: Path) -> None:
    """SIGKILL cannot be handled: its temporary parts stay, hidden from `scan`, until the next command finds
    them a minute old."""
    root = tmp_path / "project"
    big_csv(root / "SOURCE" / "big.csv")
    process = start_split(root)
    folder = root / "SOURCE" / "prepared"
    try:
        eventually(lambda: folder.is_dir() and any(p.name.startswith(TEMP_PREFIX) for p in folder.iterdir()),
                   what="a temporary part in SOURCE/prepared")
        process.kill()
        process.communicate(timeout=HANG)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    left = temp_files(root)
    assert left
    assert run("scan", str(root)).returncode == 0
    assert temp_files(root) == left  # under a minute old: maybe another Liferaft's write in progress
    for path in left:
        age(path, 90)
    assert run("scan", str(root)).returncode == 0
    assert temp_files(root) == []


async def test_the_workbench_sweeps_when_it_opens(tmp_path: Path) -> None:
    from liferaft.tui.app import LiferaftApp

    root = tmp_path / "project"
    stale, kept = litter(root)
    app = LiferaftApp(root, theme="textual-dark")
    async with app.run_test(size=(100, 30)) as pilot:
        deadline = time.monotonic() + HANG
        while any(path.exists() for path in stale):
            assert time.monotonic() < deadline, "the stale temporary files were not swept"
            await pilot.pause(0.02)
    assert [path for path in kept if not os.path.lexists(path)] == []


# --- (c) status says what they still hold ---------------------------------------------------------------------


def test_status_reports_the_space_temp_files_still_hold(tmp_path: Path) -> None:
    root = tmp_path / "project"
    write(root / "OUTPUT" / "chart.png", b"\x89PNG\r\n\x1a\n")
    write(root / "SOURCE" / "prepared" / f"{TEMP_PREFIX}live", b"x" * 45_000)  # a write in progress
    shown = run("status", str(root))
    lines = [line for line in shown.stdout.splitlines() if "temporary files" in line]
    assert lines == ["Liferaft's hidden temporary files hold 45.0 KB (1 file): a write in progress, or one "
                     "stopped less than a minute ago; the next command removes them once they are a minute old."]
    as_json = json.loads(run("status", "--json", str(root)).stdout)
    assert as_json["temp_files"] == {"count": 1, "bytes": 45_000}
    os.unlink(root / "SOURCE" / "prepared" / f"{TEMP_PREFIX}live")
    assert "temporary files" not in run("status", str(root)).stdout
    assert "temp_files" not in json.loads(run("status", "--json", str(root)).stdout)


# --- item 10: prompt --copy, init on a full disk, prepare into a read-only folder -----------------------------


def test_prompt_copy_that_neither_copies_nor_saves_fails(tmp_path: Path) -> None:
    """No clipboard, no terminal and the prompts folder unusable: exit 1, and the last line says so."""
    root = tmp_path / "project"
    write(root / "SOURCE" / "orders.csv", "a,b\n1,2\n")
    write(root / "RESTART" / "prompts", "a file where the folder should be")
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    env = cli_env(PATH=str(empty))
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    result = run("prompt", str(root), "--copy", env=env, start_new_session=True)  # no controlling terminal
    assert result.returncode == 1, result.stderr
    assert result.stdout  # the prompt itself is printed
    last = result.stderr.splitlines()[-1]
    assert last.startswith("liferaft: Could not copy or save rerun from scratch (")
    assert last.endswith("no clipboard available; not saved: file exists (RESTART/prompts).")
    assert temp_files(root) == []


@pytest.fixture
def full_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_space(*_args: object, **_kwargs: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(storage, "write_text", no_space)


def test_init_on_a_full_disk_takes_back_the_folders_it_made(tmp_path: Path, full_disk: None,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "new-project"
    assert cli.main(["init", str(target)]) != 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "No space left on device" in err
    assert not target.exists()


def test_init_on_a_full_disk_keeps_what_was_there(tmp_path: Path, full_disk: None,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "project"
    write(root / "data" / "orders.csv", "a,b\n")
    (root / "notes").mkdir()
    assert cli.main(["init", str(root)]) != 0
    assert "No space left on device" in capsys.readouterr().err
    assert sorted(path.name for path in root.iterdir()) == ["data", "notes"]
    assert (root / "data" / "orders.csv").read_text() == "a,b\n"


@pytest.fixture
def read_only(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Make a folder read-only; root ignores the mode, so for root `os.access` is told the same."""
    folders: list[Path] = []
    real_access = os.access

    def access(path: object, mode: int, **kwargs: object) -> bool:
        if mode & os.W_OK and any(os.path.samefile(path, folder) for folder in folders  # type: ignore[arg-type]
                                  if os.path.exists(path)):  # type: ignore[arg-type]
            return False
        return real_access(path, mode, **kwargs)  # type: ignore[arg-type]

    if hasattr(os, "geteuid") and os.geteuid() == 0:
        monkeypatch.setattr(os, "access", access)

    def make(folder: Path) -> Path:
        folder.chmod(0o555)
        folders.append(folder)
        return folder

    yield make
    for folder in folders:
        folder.chmod(0o755)


@pytest.mark.parametrize("prepared_exists", [True, False])
def test_prepare_into_a_read_only_folder_fails_before_reading(tmp_path: Path, read_only, prepared_exists: bool,
                                                               monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "project"
    source = big_csv(root / "SOURCE" / "big.csv", rows=20_000)
    if prepared_exists:
        (root / "SOURCE" / "prepared").mkdir()
        read_only(root / "SOURCE" / "prepared")
    else:
        read_only(root / "SOURCE")
    read: list[Path] = []
    real_head = prepare._head
    monkeypatch.setattr(prepare, "_head", lambda path: read.append(path) or real_head(path))
    code = cli.main(["prepare", "SOURCE/big.csv", str(root), "--split-mb", "0.1"])
    err = capsys.readouterr().err
    assert code == 1
    assert read == []  # refused before a byte of the source was read
    assert err.count("\n") == 1 and TEMP_PREFIX not in err
    prepared = root / "SOURCE" / "prepared"
    if prepared_exists:
        assert err == f"liferaft: cannot write in {prepared}: the folder is read-only or not yours (nothing was " \
                      "written)\n"
        assert list(prepared.iterdir()) == []
    else:
        assert err == f"liferaft: cannot create {prepared}: {source.parent} is read-only or not yours (nothing " \
                      "was written)\n"
        assert not prepared.exists()

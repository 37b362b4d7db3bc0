"""Issue #20: moving files into OUTPUT (a download, a replay's regenerated outputs), a replay's kernel, environment
and images work the same on macOS and Windows. Tried here on Linux by simulation: the platform is faked, os
functions refuse as Windows does (see docs/platforms.md)."""

from __future__ import annotations

import base64
import errno
import os
import sys
from pathlib import Path

import pytest

from liferaft.core import storage
from liferaft.core.replay import environment, results
from liferaft.core.replay import kernel as kernel_module
from liferaft.core.replay.kernel import save_images
from liferaft.core.risk import MoveError, move_into_output
from liferaft.core.scan import scan
from tests.conftest import write


@pytest.fixture
def demo(tmp_path: Path, copy_demo) -> Path:  # type: ignore[no-untyped-def]
    return copy_demo(tmp_path / "demo", big_csv_mb=1)


def _replay(root: Path) -> Path:
    folder = root / "OUTPUT" / "replayed" / "2025-03-04_101500"
    folder.mkdir(parents=True)
    return folder


# --- hard links refused with another error (FAT, exFAT, some network shares on Windows) --------------------------


def _links_refused_as_on_fat(monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows reports a volume without hard links as ERROR_INVALID_FUNCTION, which Python maps to EINVAL."""

    def link(*_args: object, **_kwargs: object) -> None:
        raise OSError(errno.EINVAL, "Incorrect function")

    monkeypatch.setattr(os, "link", link)


def test_a_download_is_copied_in_where_links_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "project"
    write(project / "data.csv", "a\n1\n")
    write(project / "OUTPUT" / "chart.png", b"the user's own")
    download = write(tmp_path / "Downloads" / "chart.png", b"downloaded")
    _links_refused_as_on_fat(monkeypatch)
    moved = move_into_output(project, scan(project), download)
    assert moved == project / "OUTPUT" / "chart-2.png" and moved.read_bytes() == b"downloaded"
    assert (project / "OUTPUT" / "chart.png").read_bytes() == b"the user's own"  # never over a file
    assert not download.exists()
    assert sorted(p.name for p in (project / "OUTPUT").iterdir()) == ["chart-2.png", "chart.png"]


def test_a_replay_output_is_accepted_where_links_are_refused(demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    replay = _replay(demo)
    write(replay / "monthly_trend.png", b"regenerated")
    _links_refused_as_on_fat(monkeypatch)
    done = results.accept(demo, replay)
    assert done.accepted == ("OUTPUT/monthly_trend.png",) and done.problems == ()
    assert (demo / "OUTPUT" / "monthly_trend.png").read_bytes() == b"regenerated"
    assert not (replay / "monthly_trend.png").exists()


# --- the name a download is given in OUTPUT (from the restart note or a chat) ------------------------------------


@pytest.mark.parametrize(("asked", "written", "problem"), [
    ("Q1:Q2.png", "Q1_Q2.png", "':'"),  # on NTFS, "Q1" with an alternate data stream "Q2.png"
    ("con.png", "con_.png", "device name"),
    ("report?.csv", "report_.csv", "'?'"),
    ("chart.png.", "chart.png", "ends with a dot"),
])
def test_a_download_gets_a_name_valid_everywhere_and_says_so(tmp_path: Path, asked: str, written: str,
                                                              problem: str) -> None:
    project = tmp_path / "project"
    write(project / "data.csv", "a\n1\n")
    download = write(tmp_path / "Downloads" / "download.bin", b"downloaded")
    notes: list[str] = []
    moved = move_into_output(project, scan(project), download, name=asked, notes=notes)
    assert moved == project / "OUTPUT" / written and moved.read_bytes() == b"downloaded"
    assert [p.name for p in (project / "OUTPUT").iterdir()] == [written]
    assert len(notes) == 1 and "\n" not in notes[0] and written in notes[0] and problem in notes[0]


def test_a_valid_name_is_kept_without_a_note(tmp_path: Path) -> None:
    project = tmp_path / "project"
    write(project / "data.csv", "a\n1\n")
    download = write(tmp_path / "Downloads" / "chart (1).png", b"png")
    notes: list[str] = []
    assert move_into_output(project, scan(project), download, name="chart.png", notes=notes).name == "chart.png"
    assert notes == []


@pytest.mark.parametrize("asked", ["figures/chart.png", "figures\\chart.png", "..", " . "])
def test_a_path_or_no_name_is_refused_in_one_line(tmp_path: Path, asked: str) -> None:
    project = tmp_path / "project"
    write(project / "data.csv", "a\n1\n")
    download = write(tmp_path / "Downloads" / "chart.png", b"png")
    with pytest.raises(MoveError) as caught:
        move_into_output(project, scan(project), download, name=asked)
    assert "\n" not in str(caught.value) and download.read_bytes() == b"png"


# --- paths over Windows' MAX_PATH (long paths off) are refused before anything is written --------------------------


def _deep(tmp_path: Path) -> Path:
    """A folder whose files' paths are over MAX_PATH (fine on Linux, which is what lets the test write it)."""
    return tmp_path / ("d" * 120) / ("e" * 120)


def _windows_without_long_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(storage, "_long_paths", [False])


def test_a_download_too_deep_for_windows_is_refused_in_one_line(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    project = _deep(tmp_path)
    write(project / "data.csv", "a\n1\n")
    inventory = scan(project)
    download = write(tmp_path / "Downloads" / "chart.png", b"png")
    _windows_without_long_paths(monkeypatch)
    with pytest.raises(MoveError) as caught:
        move_into_output(project, inventory, download)
    message = str(caught.value)
    assert "\n" not in message and "too long for Windows" in message and "LongPathsEnabled" in message
    assert download.read_bytes() == b"png" and not (project / "OUTPUT").exists()


def test_a_replay_output_too_deep_for_windows_is_not_moved(tmp_path: Path, copy_demo,  # type: ignore[no-untyped-def]
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    demo = copy_demo(_deep(tmp_path), big_csv_mb=1)
    replay = _replay(demo)
    write(replay / "charts" / "monthly_trend.png", b"regenerated")
    _windows_without_long_paths(monkeypatch)
    done = results.accept(demo, replay, ["charts/monthly_trend.png"])
    assert done.accepted == () and len(done.problems) == 1
    assert "\n" not in done.problems[0] and "too long for Windows" in done.problems[0]
    assert (replay / "charts" / "monthly_trend.png").read_bytes() == b"regenerated"
    assert not (demo / "OUTPUT" / "monthly_trend.png").exists() and not (demo / "OUTPUT" / "charts").exists()


def _image_output() -> dict[str, object]:
    return {"output_type": "display_data", "data": {"image/png": base64.b64encode(b"\x89PNG\r\n\x1a\n").decode()}}


def test_a_replay_image_too_deep_for_windows_stays_in_the_notebook(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _deep(tmp_path) / "figures"
    _windows_without_long_paths(monkeypatch)
    problems: list[str] = []
    assert save_images([_image_output()], folder, "cell-3", problems) == []
    assert len(problems) == 1 and "\n" not in problems[0] and "too long for Windows" in problems[0]
    assert not folder.exists()
    short = tmp_path / "figures"
    assert save_images([_image_output()], short, "cell-3", problems) == [short / "cell-3-1.png"]
    assert len(problems) == 1


# --- the replay's kernel: no parent pid for ipykernel on Windows (it wants a process handle there) -----------------


@pytest.mark.parametrize(("platform", "parent_pid"), [("linux", True), ("darwin", True), ("win32", False)])
def test_the_kernel_is_told_its_parent_pid_except_on_windows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             platform: str, parent_pid: bool) -> None:
    started: list[dict[str, str]] = []

    def popen(*_args: object, env: dict[str, str], **_kwargs: object) -> None:
        started.append(env)
        raise FileNotFoundError(errno.ENOENT, "No such file or directory")  # no kernel actually starts

    monkeypatch.setattr(kernel_module.subprocess, "Popen", popen)
    monkeypatch.setattr(sys, "platform", platform)
    kernel = kernel_module.Kernel(Path(sys.executable))
    try:
        with pytest.raises(kernel_module.KernelError):
            kernel.start()
    finally:
        kernel.stop()
    assert len(started) == 1
    assert ("JPY_PARENT_PID" in started[0]) is parent_pid
    if parent_pid:
        assert started[0]["JPY_PARENT_PID"] == str(os.getpid())


# --- the replay environment renamed into place while an antivirus scans it (Windows) ------------------------------


def _building(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, platform: str, refusals: int) -> list[float]:
    """A build that only writes a file (no uv), and an os.rename that Windows refuses ``refusals`` times."""
    monkeypatch.setenv("LIFERAFT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(environment, "find_uv", lambda: "uv")

    def build(_uv: str, folder: Path, *_args: object) -> bool:
        (folder / "lib.pyd").write_bytes(b"new")
        return False

    monkeypatch.setattr(environment, "_build", build)
    real_rename = os.rename
    left = [refusals]

    def rename(src: object, dst: object) -> None:
        if left[0] > 0:
            left[0] -= 1
            raise PermissionError(errno.EACCES, "Access is denied", str(src))
        real_rename(src, dst)  # type: ignore[arg-type]

    pauses: list[float] = []
    monkeypatch.setattr(os, "rename", rename)
    monkeypatch.setattr(storage, "_pause", pauses.append)
    monkeypatch.setattr(sys, "platform", platform)
    return pauses


def _leftovers(tmp_path: Path) -> list[str]:
    return [p.name for p in (tmp_path / "cache" / "replay-envs").iterdir() if p.name.startswith(storage.TEMP_PREFIX)]


def test_an_environment_scanned_as_it_is_renamed_is_put_in_place(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    pauses = _building(tmp_path, monkeypatch, "win32", 2)
    env = environment.ensure_environment(["ipykernel>=6.29.0"])
    assert (env.path / "lib.pyd").read_bytes() == b"new" and not env.reused
    assert len(pauses) == 2 and pauses[1] > pauses[0]  # a short back-off
    assert _leftovers(tmp_path) == []


def test_an_environment_refused_for_good_is_one_line_and_nothing_is_left(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    pauses = _building(tmp_path, monkeypatch, "win32", 1000)
    with pytest.raises(environment.ReplayEnvironmentError) as caught:
        environment.ensure_environment(["ipykernel>=6.29.0"])
    message = str(caught.value)
    assert "\n" not in message and "could not be put in place" in message and "try again" in message
    assert len(pauses) == storage.REPLACE_TRIES - 1
    assert [p.name for p in (tmp_path / "cache" / "replay-envs").iterdir() if p.is_dir()] == []  # nothing half-made


def test_on_linux_a_refused_environment_rename_is_not_tried_again(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    pauses = _building(tmp_path, monkeypatch, "linux", 1)
    with pytest.raises(environment.ReplayEnvironmentError) as caught:
        environment.ensure_environment(["ipykernel>=6.29.0"])
    assert "\n" not in str(caught.value) and "Access is denied" in str(caught.value) and pauses == []


def test_a_download_renamed_to_be_valid_everywhere_is_the_output_the_note_names(tmp_path: Path) -> None:
    """Moved in as ``Q1_Q2.png`` because ``Q1:Q2.png`` is no name on Windows, it is no longer missing."""
    from liferaft.core.operations import missing_outputs
    from liferaft.core.project import open_project

    project = tmp_path / "project"
    write(project / "SOURCE" / "data.csv", "a\n1\n")
    asked = ["Q1:Q2.png", "con.png", "report?.csv", "summary.xlsx"]
    write(project / "RESTART" / "restart-note.md",
          "# Restart note\n\n## Generated outputs\n\n" + "".join(f"- `{name}`\n" for name in asked))
    assert sorted(missing_outputs(project, open_project(project).inventory)) == sorted(asked)
    for name in asked[:3]:
        download = write(tmp_path / "Downloads" / "download.bin", b"downloaded")
        move_into_output(project, scan(project), download, name=name)
    assert missing_outputs(project, open_project(project).inventory) == ["summary.xlsx"]

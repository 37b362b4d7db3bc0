"""Issue #20: moving files into OUTPUT (a download, a replay's regenerated outputs), a replay's kernel, environment
and images work the same on macOS and Windows. Tried here on Linux by simulation: the platform is faked, os
functions refuse as Windows does (see docs/platforms.md)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from liferaft.core.replay import results
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

"""End to end: the installed `liferaft` command in a real terminal (tmux), driven with real keys."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import HANG, write

TMUX = shutil.which("tmux")
pytestmark = pytest.mark.skipif(TMUX is None, reason="tmux is not installed (CI installs it)")


def installed_liferaft() -> str:
    script = Path(sys.executable).parent / "liferaft"
    found = str(script) if script.exists() else shutil.which("liferaft")
    assert found, "the liferaft console script is not installed"
    return found


class Terminal:
    """One tmux server of our own (its own socket), so nothing else running in tmux is touched."""

    def __init__(self, socket: str, width: int, height: int) -> None:
        self.socket = socket
        self.width = width
        self.height = height

    def tmux(self, *args: str) -> str:
        assert TMUX is not None
        done = subprocess.run([TMUX, "-L", self.socket, *args], capture_output=True, text=True, timeout=10)
        return done.stdout

    def start(self, command: list[str], env: dict[str, str]) -> None:
        exports = " ".join(f"{key}={value!s}" for key, value in env.items())
        line = " ".join(command)
        self.tmux("new-session", "-d", "-s", "e2e", "-x", str(self.width), "-y", str(self.height),
                  f"env {exports} {line}; sleep 30")

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", "e2e")

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "e2e", *keys)

    def wait_for(self, check: Callable[[str], bool], timeout: float = HANG) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if check(screen):
                return screen
            time.sleep(0.05)
        raise AssertionError(f"the screen never showed what was expected; last screen:\n{screen}")

    def stop(self) -> None:
        self.tmux("kill-server")


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Callable[[int, int], Terminal]]:
    made: list[Terminal] = []

    def make(width: int, height: int) -> Terminal:
        # A socket of its own per terminal: a server still shutting down from the test before must not be
        # reused (that once left this test staring at a blank screen).
        term = Terminal(f"liferaft-e2e-{os.getpid()}-{width}x{height}-{time.monotonic_ns()}", width, height)
        made.append(term)
        return term

    yield make
    for term in made:
        term.stop()


def e2e_project(root: Path) -> Path:
    write(root / "SOURCE" / "sales_q4.csv", "order_id,region,revenue\n1,North,10\n2,South,7\n3,East,12\n")
    write(root / "CODE" / "clean.py", "import pandas as pd\n")
    write(root / "OUTPUT" / "chart.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    write(root / "RESTART" / "restart-note.md", "# Restart note\n")
    return root


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_the_installed_workbench_in_a_real_terminal(terminal, tmp_path: Path, size: tuple[int, int]) -> None:
    root = e2e_project(tmp_path / "quarterly")
    term = terminal(*size)
    env = {"LIFERAFT_CONFIG_DIR": str(tmp_path / "config"), "TERM": "xterm-256color"}
    term.start([installed_liferaft(), str(root)], env)

    first = term.wait_for(lambda s: "sales_q4.csv" in s and "RESTART" in s)
    assert "Liferaft · quarterly" in first
    assert "SOURCE" in first and "CODE" in first and "OUTPUT" in first

    term.keys("Down")  # the CSV
    shown = term.wait_for(lambda s: "Preview · sales_q4.csv" in s)
    assert "SOURCE/sales_q4.csv" in shown

    term.keys("F1")
    term.wait_for(lambda s: "How recovery works" in s or ("Help" in s and "esc to close" in s))
    term.keys("Escape")
    term.wait_for(lambda s: "Help · esc" not in s)

    term.keys("o")
    term.wait_for(lambda s: "Role of SOURCE/sales_q4.csv" in s)
    term.keys("Escape")
    term.wait_for(lambda s: "Role of" not in s)

    term.keys("C-q")
    term.wait_for(lambda s: "Liferaft ·" not in s)

"""ctrl+q in a real terminal: the terminal is given back and the process ends with the workbench's exit code at
once (Textual's taking apart of every widget, a fifth of a second on a 200,000-file project, is skipped); a
workbench that stopped on an error still prints it the usual way."""

from __future__ import annotations

import os
import pty
import select
import struct
import subprocess
import sys
import time
from pathlib import Path

from textual.app import App

from liferaft.tui.leaving import exit_code, stopped_cleanly
from tests.conftest import HANG, cli_env, write


def test_a_clean_stop_is_left_at_once_with_its_code_and_an_error_is_not() -> None:
    app: App[object] = App()
    assert not stopped_cleanly(app)  # still running (or never ran): the usual way
    app._return_code = 0  # what App.exit() sets
    assert stopped_cleanly(app) and exit_code(app) == 0
    app._return_code, app._return_value = 0, 3
    assert exit_code(app) == 3
    app._return_code = 129  # the terminal hung up
    assert stopped_cleanly(app) and exit_code(app) == 129
    app._return_code = 1  # an error: Textual prints it after taking the screen apart
    assert not stopped_cleanly(app)
    app._return_code = 0
    app._exit_renderables.append("a message to print")
    assert not stopped_cleanly(app)


def test_ctrl_q_in_a_terminal_gives_it_back_and_ends_with_0(tmp_path: Path) -> None:
    import fcntl
    import termios

    project = tmp_path / "p"
    write(project / "SOURCE" / "a.csv", "a,b\n1,2\n")
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    env = cli_env(TERM="xterm-256color", XDG_CONFIG_HOME=str(tmp_path / "config"),
                  XDG_DATA_HOME=str(tmp_path / "data"), XDG_CACHE_HOME=str(tmp_path / "cache"))
    process = subprocess.Popen([sys.executable, "-m", "liferaft", str(project)], stdin=slave, stdout=slave,
                               stderr=slave, env=env, start_new_session=True)
    os.close(slave)
    seen = bytearray()
    try:
        deadline = time.monotonic() + HANG
        quit_sent = False
        while process.poll() is None and time.monotonic() < deadline:
            if select.select([master], [], [], 0.05)[0]:
                try:
                    seen += os.read(master, 65536)
                except OSError:
                    break
            if not quit_sent and b"a.csv" in seen:
                os.write(master, b"\x11")  # ctrl+q
                quit_sent = True
        assert quit_sent, seen[-500:]
        assert process.wait(timeout=HANG) == 0
        while select.select([master], [], [], 0)[0]:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        if process.poll() is None:
            process.kill()
        os.close(master)
    tail = bytes(seen[seen.rfind(b"a.csv"):])
    assert b"\x1b[?1049l" in tail and b"\x1b[?25h" in tail  # the alternate screen left, the cursor shown

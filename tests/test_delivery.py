"""Copying a prompt: native clipboard, OSC 52 to the terminal, and the saved copy that is always made.

Real where it matters: the X11 clipboard is a real Xvfb with the real xclip, read back with xclip; OSC 52 goes
through a real tmux (its own socket) and is read back with ``tmux show-buffer``; a tool that forks and holds
the caller's pipes is a real script. Every subprocess has a timeout.
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import signal
import stat
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from liferaft.core import clipboard
from liferaft.core.clipboard import CopyResult, copy_native
from liferaft.core.delivery import OSC52_MAX, deliver, osc52_to_tty, prompts_folder, save_prompt
from liferaft.core.roles import Role
from liferaft.core.scan import scan
from liferaft.core.storage import TEMP_PREFIX
from tests.conftest import FROZEN_NOW

XVFB = shutil.which("Xvfb")
XCLIP = shutil.which("xclip")
TMUX = shutil.which("tmux")
needs_x = pytest.mark.skipif(XVFB is None or XCLIP is None,
                             reason="Xvfb and xclip are not installed (CI installs them: apt-get install xvfb xclip)")

#: FROZEN_NOW in the tests' time zone (UTC, pinned in conftest).
STAMP = "20260302-120000"
TEXT = "Rerun the analysis.\nFiles: sales.csv, région.csv ✓\n"


def no_native(text: str) -> CopyResult:
    return CopyResult(False, "no clipboard tool works here")


def copied(text: str) -> CopyResult:
    return CopyResult(True, "")


def temp_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.name.startswith(TEMP_PREFIX)]


@pytest.fixture
def no_clipboard_tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A PATH with no xclip, xsel or wl-copy on it (and none of the desktop's variables)."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("DISPLAY", ":0")


# --- no clipboard at all --------------------------------------------------------------------------------------


def test_no_clipboard_tool_saves_the_prompt(tmp_path: Path, no_clipboard_tools: None) -> None:
    root = tmp_path / "project"
    root.mkdir()
    done = deliver(TEXT, what="the rerun prompt", root=root, role_folders={}, template="rerun", now=FROZEN_NOW,
                   terminal=None)
    assert done.how == "saved"
    assert done.message == (f"Saved the rerun prompt (51 characters) to RESTART/prompts/{STAMP}-rerun.md "
                            "(no clipboard available).")
    assert "none of xclip, xsel, wl-copy is installed" in done.warning
    assert done.saved == root / "RESTART" / "prompts" / f"{STAMP}-rerun.md"
    assert done.saved.read_text(encoding="utf-8") == TEXT
    assert temp_files(root) == []

    again = deliver(TEXT + "v2", what="the rerun prompt", root=root, role_folders={}, template="rerun",
                    now=FROZEN_NOW, terminal=None)
    assert again.saved == root / "RESTART" / "prompts" / f"{STAMP}-rerun-2.md"
    assert again.message == (f"Saved the rerun prompt (53 characters) to RESTART/prompts/{STAMP}-rerun-2.md "
                             "(no clipboard available).")
    assert done.saved.read_text(encoding="utf-8") == TEXT  # the first copy is untouched
    assert again.saved.read_text(encoding="utf-8") == TEXT + "v2"
    assert sorted(path.name for path in (root / "RESTART" / "prompts").iterdir()) == [
        f"{STAMP}-rerun-2.md", f"{STAMP}-rerun.md"]


def test_no_display_at_all_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    if sys.platform.startswith("linux"):
        result = copy_native("hello")
        assert not result.copied and "DISPLAY is not set" in result.detail


def test_no_clipboard_tool_with_a_terminal_sends_it_there(tmp_path: Path, no_clipboard_tools: None) -> None:
    sent: list[str] = []
    done = deliver(TEXT, what="the rerun prompt", root=tmp_path, role_folders={}, template="rerun", now=FROZEN_NOW,
                   terminal=sent.append)
    assert sent == [TEXT]
    assert done.how == "terminal" and done.severity == "warning"
    assert done.message == (f"Sent the rerun prompt (51 characters) to the terminal (cannot be confirmed); "
                            f"saved as RESTART/prompts/{STAMP}-rerun.md.")
    assert done.warning.startswith("no native clipboard: no clipboard tool works here")
    assert done.saved is not None and done.saved.read_text(encoding="utf-8") == TEXT


def test_macos_terminal_is_said_to_ignore_the_terminal_route(tmp_path: Path) -> None:
    """Terminal.app takes no OSC 52: when that is the only route, the user is told the text is not on the
    clipboard and where the saved copy is, instead of an "unconfirmed" that reads like success (issue 20)."""
    done = deliver(TEXT, what="the rerun prompt", root=tmp_path, role_folders={}, template="rerun", now=FROZEN_NOW,
                   terminal=lambda text: None, native=no_native, environ={"TERM_PROGRAM": "Apple_Terminal"})
    assert done.how == "terminal" and done.saved is not None
    assert done.warning.startswith("macOS Terminal ignores a program's clipboard requests (OSC 52)")
    other = deliver(TEXT, what="the rerun prompt", root=tmp_path, role_folders={}, template="rerun", now=FROZEN_NOW,
                    terminal=lambda text: None, native=no_native, environ={"TERM_PROGRAM": "iTerm.app"})
    assert "macOS Terminal" not in other.warning


def test_a_terminal_that_is_not_there_falls_back_to_the_file(tmp_path: Path) -> None:
    done = deliver(TEXT, what="the rerun prompt", root=tmp_path, role_folders={}, template="rerun", now=FROZEN_NOW,
                   terminal=lambda text: False, native=no_native)
    assert done.how == "saved"
    assert done.message == (f"Saved the rerun prompt (51 characters) to RESTART/prompts/{STAMP}-rerun.md "
                            "(no clipboard available).")
    assert "no terminal to send it to" in done.warning


def test_a_failing_native_route_or_terminal_never_raises(tmp_path: Path) -> None:
    def broken_native(text: str) -> CopyResult:
        raise RuntimeError("boom")

    def broken_terminal(text: str) -> None:
        raise RuntimeError("app is closing")

    done = deliver(TEXT, what="the prompt", root=tmp_path, role_folders={}, template="rerun", now=FROZEN_NOW,
                   terminal=broken_terminal, native=broken_native)
    assert done.how == "saved" and done.saved is not None and done.saved.exists()
    assert "RuntimeError" in done.warning


# --- the native clipboard: real tools -------------------------------------------------------------------------


@pytest.fixture
def xvfb(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A private X server; DISPLAY points at it. Xvfb picks a free display number itself (-displayfd)."""
    assert XVFB is not None
    read_end, write_end = os.pipe()
    server = subprocess.Popen([XVFB, "-displayfd", str(write_end), "-nolisten", "tcp", "-screen", "0", "640x480x24"],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              pass_fds=(write_end,), start_new_session=True)
    os.close(write_end)
    try:
        ready, _, _ = select.select([read_end], [], [], 15)
        number = os.read(read_end, 32).decode().strip() if ready else ""
        if not number:
            pytest.fail("Xvfb did not start within 15 s")
        display = f":{number}"
        monkeypatch.setenv("DISPLAY", display)
        monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
        yield display
    finally:
        os.close(read_end)
        # xclip's background process owns the selection until the server goes; it exits with it.
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


def read_x_clipboard() -> str:
    assert XCLIP is not None
    done = subprocess.run([XCLIP, "-o", "-selection", "clipboard"], capture_output=True, timeout=10)
    return done.stdout.decode("utf-8")


@needs_x
def test_xclip_under_xvfb_is_copied_and_read_back(tmp_path: Path, xvfb: str) -> None:
    done = deliver(TEXT, what="the rerun prompt", root=tmp_path, role_folders={}, template="rerun", now=FROZEN_NOW,
                   terminal=None)
    assert done.how == "copied", done.warning
    assert done.severity == "information" and done.warning == ""
    assert done.message == (f"Copied the rerun prompt (51 characters) to the clipboard; "
                            f"saved as RESTART/prompts/{STAMP}-rerun.md.")
    assert read_x_clipboard() == TEXT
    assert done.saved is not None and done.saved.read_text(encoding="utf-8") == TEXT


@needs_x
def test_xclip_does_not_hang_a_caller_that_captures_its_output(tmp_path: Path, xvfb: str) -> None:
    """xclip forks a process that keeps the selection; it must not hold our caller's pipes open."""
    code = ("import sys\nfrom liferaft.core.clipboard import copy_native\n"
            "result = copy_native(sys.argv[1])\nprint('COPIED' if result.copied else 'NOT ' + result.detail)\n")
    # xclip's child keeps the selection until another program takes it: a caller that waited for the child's
    # pipes would still be waiting when the timeout ends the run.
    run = subprocess.run([sys.executable, "-c", code, "from a captured child"], capture_output=True, text=True,
                         timeout=60, env={**os.environ, "DISPLAY": xvfb})
    assert run.stdout.strip() == "COPIED", run.stderr
    assert read_x_clipboard() == "from a captured child"


@pytest.mark.skipif(XCLIP is None, reason="xclip is not installed (CI installs it: apt-get install xclip)")
def test_a_display_pointing_nowhere_falls_back_quickly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    number = next(n for n in range(190, 400)
                  if not os.path.exists(f"/tmp/.X11-unix/X{n}") and not os.path.exists(f"/tmp/.X{n}-lock"))
    monkeypatch.setenv("DISPLAY", f":{number}")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    result = copy_native("hello", timeout=2.0)
    assert not result.copied  # told apart from a tool that did not answer within its timeout:
    assert result.detail == f"no X display at :{number} (DISPLAY points nowhere)"

    done = deliver(TEXT, what="the rerun prompt", root=tmp_path, role_folders={}, template="rerun", now=FROZEN_NOW,
                   terminal=None)
    assert done.how == "saved"
    assert done.message == (f"Saved the rerun prompt (51 characters) to RESTART/prompts/{STAMP}-rerun.md "
                            "(no clipboard available).")
    assert done.warning == f"no native clipboard: no X display at :{number} (DISPLAY points nowhere)"


def fake_tool(folder: Path, name: str, body: str) -> None:
    folder.mkdir(exist_ok=True)
    script = folder / name
    script.write_text("#!/bin/sh\n" + textwrap.dedent(body))
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the forking X11 tools are a Linux matter")
def test_a_tool_that_forks_and_holds_pipes_does_not_hang_the_caller(tmp_path: Path) -> None:
    """Like xclip: the copy forks a child that keeps stdout and stderr; the caller captures both."""
    bin_dir = tmp_path / "bin"
    store = tmp_path / "selection"
    held = tmp_path / "held.pid"
    fake_tool(bin_dir, "xclip", f"""\
        case "$*" in
          *-out*|*-o*) cat "{store}" ;;
          *) cat > "{store}"; (exec sleep 300) & echo $! > "{held}" ;;
        esac
        """)
    code = ("import sys\nfrom liferaft.core.clipboard import copy_native\n"
            "result = copy_native('held pipes')\nprint('COPIED' if result.copied else 'NOT ' + result.detail)\n")
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", "DISPLAY": ":0"}
    env.pop("WAYLAND_DISPLAY", None)
    try:
        # The forked child holds the pipes for 5 minutes: a caller that waited for them times out here.
        run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
        assert run.stdout.strip() == "COPIED", run.stderr
        assert store.read_text() == "held pipes"
    finally:
        with contextlib.suppress(OSError, ValueError):
            os.kill(int(held.read_text()), signal.SIGKILL)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the forking X11 tools are a Linux matter")
def test_a_selection_not_yet_owned_is_read_again(tmp_path: Path) -> None:
    """On a busy machine xclip's background process takes a moment to own the selection; reading it before
    then fails with "target STRING not available". That failure was taken as the final answer (the prompt
    only saved, "no native clipboard"); now it is read again."""
    bin_dir = tmp_path / "bin"
    store = tmp_path / "selection"
    owned = tmp_path / "owned"
    fake_tool(bin_dir, "xclip", f"""\
        case "$*" in
          *-out*|*-o*)
            if [ -f "{owned}" ]; then cat "{store}"; else touch "{owned}"
              echo "Error: target STRING not available" >&2; exit 1; fi ;;
          *) cat > "{store}" ;;
        esac
        """)
    code = ("from liferaft.core.clipboard import copy_native\n"
            "result = copy_native('not owned yet')\nprint('COPIED' if result.copied else 'NOT ' + result.detail)\n")
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", "DISPLAY": ":0"}
    env.pop("WAYLAND_DISPLAY", None)
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    assert run.stdout.strip() == "COPIED", run.stdout + run.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the forking X11 tools are a Linux matter")
def test_a_tool_that_never_answers_is_killed_at_the_timeout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    pid_file = tmp_path / "pid"
    fake_tool(bin_dir, "xclip", f'echo $$ > "{pid_file}"\nexec sleep 30\n')
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    started = time.monotonic()
    result = copy_native("hello", timeout=0.5)
    assert time.monotonic() - started < 20, "the hung tool was waited for (it sleeps 30 s)"
    assert not result.copied and result.detail == "xclip did not answer within 0.5 s"
    pid = int(pid_file.read_text())
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        os.kill(pid, signal.SIGKILL)
        pytest.fail("the hung clipboard tool was left running")


# --- OSC 52 ---------------------------------------------------------------------------------------------------


@pytest.mark.skipif(TMUX is None, reason="tmux is not installed (CI installs it)")
def test_osc52_through_tmux_reaches_its_buffer(tmp_path: Path) -> None:
    assert TMUX is not None
    socket = f"liferaft-osc52-{uuid.uuid4().hex[:12]}"
    conf = tmp_path / "tmux.conf"
    conf.write_text("set -g set-clipboard on\n")
    text_file = tmp_path / "text"
    text = "OSC 52 from inside tmux: région ✓\nsecond line\n"
    text_file.write_text(text, encoding="utf-8")
    status = tmp_path / "status"
    snippet = ("import pathlib, sys\nfrom liferaft.core.delivery import osc52_to_tty\n"
               "ok = osc52_to_tty(pathlib.Path(sys.argv[1]).read_text(encoding='utf-8'))\n"
               "pathlib.Path(sys.argv[2]).write_text('sent' if ok else 'no tty')\n")
    script = tmp_path / "snippet.py"
    script.write_text(snippet)
    env = {key: value for key, value in os.environ.items() if key not in ("TMUX", "TMUX_PANE")}

    def tmux(*args: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run([TMUX, "-L", socket, "-f", str(conf), *args], capture_output=True, timeout=10,
                              env=env)

    try:
        started = tmux("new-session", "-d", "-s", "osc", "-x", "80", "-y", "24",
                       f"{sys.executable} {script} {text_file} {status}; sleep 30")
        assert started.returncode == 0, started.stderr
        deadline = time.monotonic() + 15
        buffer = b""
        while time.monotonic() < deadline:
            buffer = tmux("show-buffer").stdout
            if buffer:
                break
            time.sleep(0.05)
        assert status.read_text() == "sent"
        assert buffer.decode("utf-8") == text
    finally:
        tmux("kill-server")


def test_osc52_without_a_terminal_says_so(tmp_path: Path) -> None:
    assert osc52_to_tty("hello", tty=str(tmp_path / "no-such-tty")) is False
    assert osc52_to_tty("x" * (OSC52_MAX + 1)) is False


def test_osc52_writes_the_escape(tmp_path: Path) -> None:
    target = tmp_path / "tty"
    target.write_bytes(b"")
    assert osc52_to_tty("hé", tty=str(target)) is True
    assert target.read_bytes() == b"\x1b]52;c;aMOp\x07"


def test_over_the_osc52_limit_the_terminal_is_skipped(tmp_path: Path) -> None:
    sent: list[str] = []
    text = "é" * (OSC52_MAX // 2 + 1)  # under the limit in characters, over it in bytes
    done = deliver(text, what="the rerun prompt", root=tmp_path, role_folders={}, template="rerun", now=FROZEN_NOW,
                   terminal=sent.append, native=no_native)
    assert sent == []
    assert done.how == "saved"
    assert done.message == (f"The rerun prompt ({len(text):,} characters) is too long for the terminal's clipboard: "
                            f"saved as RESTART/prompts/{STAMP}-rerun.md (no clipboard available).")
    assert f"over {OSC52_MAX:,} bytes" in done.warning
    assert done.saved is not None and done.saved.read_text(encoding="utf-8") == text

    at_limit = "x" * OSC52_MAX
    done = deliver(at_limit, what="the rerun prompt", root=tmp_path, role_folders={}, template="rerun",
                   now=FROZEN_NOW, terminal=sent.append, native=no_native)
    assert done.how == "terminal" and sent == [at_limit]


# --- where the copy is saved ----------------------------------------------------------------------------------


def test_a_restart_folder_named_notes_is_used(tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()
    (tmp_path / "data").mkdir()
    role_folders = scan(tmp_path).role_folders
    assert role_folders.get("notes") is Role.RESTART
    assert prompts_folder(tmp_path, role_folders) == tmp_path / "notes" / "prompts"
    done = deliver(TEXT, what="the rerun prompt", root=tmp_path, role_folders=role_folders, template="Rerun prompt",
                   now=FROZEN_NOW, terminal=None, native=copied)
    assert done.message == (f"Copied the rerun prompt (51 characters) to the clipboard; "
                            f"saved as notes/prompts/{STAMP}-rerun-prompt.md.")
    assert not (tmp_path / "RESTART").exists()


def test_without_a_restart_folder_one_is_created(tmp_path: Path) -> None:
    assert prompts_folder(tmp_path, {}) == tmp_path / "RESTART" / "prompts"
    assert not (tmp_path / "RESTART").exists()  # asking does not create it; saving does
    path = save_prompt(tmp_path, {}, "x", "rerun", FROZEN_NOW)
    assert path == tmp_path / "RESTART" / "prompts" / f"{STAMP}-rerun.md"
    assert path.read_text() == "x"


def test_a_restart_folder_called_prompts_is_used_as_it_is(tmp_path: Path) -> None:
    (tmp_path / "prompts").mkdir()
    assert prompts_folder(tmp_path, {"prompts": Role.RESTART}) == tmp_path / "prompts"


def test_a_stale_inventory_still_finds_the_restart_folder(tmp_path: Path) -> None:
    (tmp_path / "restart").mkdir()
    assert prompts_folder(tmp_path, {}) == tmp_path / "restart" / "prompts"


@pytest.mark.parametrize("template,slug", [("rerun", "rerun"), ("Rerun prompt", "rerun-prompt"),
                                           ("résumé/../x", "resume-x"), ("", "prompt"), ("✓✓", "prompt")])
def test_template_names_become_safe_file_names(tmp_path: Path, template: str, slug: str) -> None:
    path = save_prompt(tmp_path, {}, "x", template, FROZEN_NOW)
    assert path.name == f"{STAMP}-{slug}.md" and path.parent == tmp_path / "RESTART" / "prompts"


# --- saving fails ---------------------------------------------------------------------------------------------


def test_a_failed_save_keeps_the_clipboard_result(tmp_path: Path) -> None:
    (tmp_path / "RESTART").write_text("a file where the folder should be")
    done = deliver(TEXT, what="the rerun prompt", root=tmp_path, role_folders={}, template="rerun", now=FROZEN_NOW,
                   terminal=None, native=copied)
    assert done.how == "copied" and done.saved is None and done.severity == "warning"
    assert done.message == ("Copied the rerun prompt (51 characters) to the clipboard; "
                            "not saved: not a directory (RESTART/prompts).")
    assert done.warning == "could not save a copy: not a directory (RESTART/prompts)"


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can write to a read-only folder")
def test_a_read_only_prompts_folder(tmp_path: Path) -> None:
    folder = tmp_path / "RESTART" / "prompts"
    folder.mkdir(parents=True)
    folder.chmod(0o500)
    try:
        sent: list[str] = []
        done = deliver(TEXT, what="the rerun prompt", root=tmp_path, role_folders={}, template="rerun",
                       now=FROZEN_NOW, terminal=sent.append, native=no_native)
        assert done.how == "terminal" and done.saved is None
        assert done.message == ("Sent the rerun prompt (51 characters) to the terminal (cannot be confirmed); "
                                "not saved: permission denied (RESTART/prompts).")
    finally:
        folder.chmod(0o700)


def test_nothing_works_says_so(tmp_path: Path) -> None:
    (tmp_path / "RESTART").write_text("in the way")
    done = deliver(TEXT, what="the rerun prompt", root=tmp_path, role_folders={}, template="rerun", now=FROZEN_NOW,
                   terminal=None, native=no_native)
    assert done.how == "failed" and done.saved is None and done.severity == "error"
    assert done.message == ("Could not copy or save the rerun prompt (51 characters): no clipboard available; "
                            "not saved: not a directory (RESTART/prompts).")
    assert temp_files(tmp_path) == []


def test_copy_native_is_the_default_route(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """deliver() uses clipboard.copy_native, looked up at each call, so patching the module reaches it."""
    monkeypatch.setattr(clipboard, "copy_native", copied)
    done = deliver(TEXT, what="the rerun prompt", root=tmp_path, role_folders={}, template="rerun", now=FROZEN_NOW,
                   terminal=None)
    assert done.how == "copied"


# --- the saved copies: one line to say where, the newest 20 kept in view (issue 16) ------------------------------


def test_the_notice_is_one_short_line_naming_the_folder(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    done = deliver(TEXT, what="the rerun from scratch prompt", root=root, role_folders={}, template="rerun",
                   now=FROZEN_NOW, terminal=None, native=copied)
    assert done.notice == "On the clipboard; a copy is in RESTART/prompts/."
    assert "\n" not in done.notice and STAMP not in done.notice  # no file name to break mid-word
    assert done.message.endswith(f"saved as RESTART/prompts/{STAMP}-rerun.md.")  # the CLI still says which file
    saved = deliver(TEXT, what="the rerun prompt", root=root, role_folders={}, template="rerun", now=FROZEN_NOW,
                    terminal=None, native=no_native)
    assert saved.notice == "No clipboard here: saved in RESTART/prompts/."


def test_only_the_newest_twenty_prompts_stay_and_none_is_deleted(tmp_path: Path) -> None:
    from liferaft.core.delivery import KEEP_PROMPTS, is_saved_prompt

    root = tmp_path / "project"
    folder = root / "RESTART" / "prompts"
    (folder / "old").mkdir(parents=True)
    (folder / "my own notes.md").write_text("mine", encoding="utf-8")
    # One already in old/ under the name the oldest will want: it must not be overwritten.
    (folder / "old" / "20260301-000000-rerun.md").write_text("older still", encoding="utf-8")
    texts = {}
    for minute in range(25):
        now = FROZEN_NOW - 86400 - 12 * 3600 + minute * 60  # 2026-03-01 00:00 onwards
        path = save_prompt(root, {}, f"prompt {minute}", "rerun", now)
        texts[minute] = path.name
    kept = sorted(path.name for path in folder.iterdir() if path.is_file())
    assert len([name for name in kept if name != "my own notes.md"]) == KEEP_PROMPTS
    assert "my own notes.md" in kept  # a file of the user's is never counted or moved
    assert kept[0] == "20260301-000500-rerun.md"  # the five oldest went
    old = sorted(path.name for path in (folder / "old").iterdir())
    assert old == ["20260301-000000-rerun-2.md", "20260301-000000-rerun.md", "20260301-000100-rerun.md",
                   "20260301-000200-rerun.md", "20260301-000300-rerun.md", "20260301-000400-rerun.md"]
    assert (folder / "old" / "20260301-000000-rerun.md").read_text(encoding="utf-8") == "older still"
    assert (folder / "old" / "20260301-000000-rerun-2.md").read_text(encoding="utf-8") == "prompt 0"
    every = [p.read_text(encoding="utf-8") for p in folder.rglob("*.md") if p.name != "my own notes.md"]
    assert sorted(every) == sorted([f"prompt {n}" for n in range(25)] + ["older still"])  # nothing lost
    assert is_saved_prompt("RESTART/prompts/old/20260301-000000-rerun-2.md", "RESTART/prompts")
    assert not is_saved_prompt("RESTART/prompts/my own notes.md", "RESTART/prompts")
    assert temp_files(root) == []


def test_a_file_of_the_users_named_like_a_saved_prompt_is_never_moved(tmp_path: Path) -> None:
    """Only the prompts Liferaft saved move to old/: a copy the user made and named in the same style stays."""
    root = tmp_path / "project"
    folder = root / "RESTART" / "prompts"
    folder.mkdir(parents=True)
    mine = ["20260101-000000-my-edited-copy.md", "20260101-000001-rerun.md"]  # both older than any saved one
    for name in mine:
        (folder / name).write_text("mine", encoding="utf-8")
    for minute in range(25):
        save_prompt(root, {}, f"prompt {minute}", "rerun", FROZEN_NOW - 86400 + minute * 60)
    for name in mine:
        assert (folder / name).read_text(encoding="utf-8") == "mine"
        assert not (folder / "old" / name).exists()
    assert len(list((folder / "old").iterdir())) == 5  # the five oldest of its own went
    assert len([p for p in folder.iterdir() if p.is_file()]) == 20 + len(mine)


def test_two_savers_at_once_never_duplicate_or_lose_a_prompt(tmp_path: Path) -> None:
    """Two workbenches copying at once: every prompt ends up exactly once, in the folder or in old/."""
    import threading

    root = tmp_path / "project"
    barrier = threading.Barrier(2)

    def saver(offset: int) -> None:
        barrier.wait()
        for index in range(30):
            save_prompt(root, {}, f"prompt {offset}-{index}", "rerun", FROZEN_NOW + index)

    threads = [threading.Thread(target=saver, args=(offset,)) for offset in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    folder = root / "RESTART" / "prompts"
    texts = sorted(p.read_text(encoding="utf-8") for p in folder.rglob("*.md"))
    assert texts == sorted(f"prompt {offset}-{index}" for offset in (1, 2) for index in range(30))
    assert len([p for p in folder.iterdir() if p.is_file()]) == 20

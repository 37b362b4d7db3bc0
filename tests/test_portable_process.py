"""Linux-only tunings of the workbench's process, on macOS and Windows (simulated): each is skipped, quietly,
and the workbench runs as it would without it."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from liferaft import _launch
from liferaft.core import memory


@pytest.mark.parametrize("platform", ["darwin", "win32"])
def test_the_workbench_is_not_started_again_off_linux(monkeypatch: pytest.MonkeyPatch, platform: str) -> None:
    """The restart on the C allocator (to give a burst's memory back) is for Linux's glibc only."""
    monkeypatch.setattr(sys, "orig_argv", [sys.executable, "/venv/bin/liferaft", "DIR"])
    monkeypatch.setattr(sys, "platform", platform)
    assert _launch.relaunch_args(["DIR"], {}) is None


def test_without_glibc_the_workbench_is_not_started_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "orig_argv", [sys.executable, "/venv/bin/liferaft", "DIR"])
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(os, "confstr", lambda _name: (_ for _ in ()).throw(ValueError("musl")))
    assert _launch.relaunch_args(["DIR"], {}) is None


@pytest.mark.parametrize("platform", ["darwin", "win32"])
def test_threads_keep_the_process_priority_off_linux(monkeypatch: pytest.MonkeyPatch, platform: str) -> None:
    """Linux gives each thread its own niceness; elsewhere setpriority would lower the whole workbench."""
    from liferaft.tui.threads import lower_this_thread

    called: list[object] = []
    monkeypatch.setattr(sys, "platform", platform)
    monkeypatch.setattr(os, "setpriority", lambda *args: called.append(args), raising=False)
    thread = threading.Thread(target=lower_this_thread)
    thread.start()
    thread.join()
    assert called == []


@pytest.mark.parametrize("platform", ["darwin", "win32"])
def test_giving_memory_back_is_a_quiet_no_op_off_linux(monkeypatch: pytest.MonkeyPatch, platform: str) -> None:
    monkeypatch.setattr(sys, "platform", platform)
    monkeypatch.setattr(memory, "_allocator", memory._UNSET)
    memory.release_memory()
    memory.keep_heap_compact()
    assert memory._glibc() is None

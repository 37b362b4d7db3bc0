"""A terminal that hangs up without sending SIGHUP (the workbench was started with setsid, or by a tool that
then went away) gives endless empty reads, on which Textual's input thread spins, a whole core, for ever. Found
when benchmark workbenches, orphaned by a killed run, kept burning CPU for half an hour: now the workbench ends."""

from __future__ import annotations

import asyncio
import os
import pty
import time
from pathlib import Path

from liferaft.tui.app import EXIT_HANGUP, LiferaftApp, terminal_gone
from tests.conftest import FROZEN_NOW, HANG, write


def test_a_terminal_whose_other_end_closed_is_gone() -> None:
    master, slave = pty.openpty()
    try:
        assert not terminal_gone(slave)
        os.close(master)
        assert terminal_gone(slave)
    finally:
        os.close(slave)
    assert terminal_gone(slave)  # a descriptor closed since


async def test_the_workbench_ends_when_its_terminal_hangs_up(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import liferaft.tui.app as app_module

    monkeypatch.setattr(app_module, "TERMINAL_CHECK_S", 0.05)
    write(tmp_path / "p" / "SOURCE" / "a.csv", "a\n1\n")
    master, slave = pty.openpty()
    app = LiferaftApp(tmp_path / "p", now=lambda: FROZEN_NOW, terminal_fd=slave)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause(0.2)
            assert app.is_running  # the terminal is there: nothing happens
            os.close(master)
            master = -1
            deadline = time.monotonic() + HANG
            while app.is_running and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            assert not app.is_running
        assert app.return_code == EXIT_HANGUP
    finally:
        if master >= 0:
            os.close(master)
        os.close(slave)

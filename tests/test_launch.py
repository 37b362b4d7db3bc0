"""The `liferaft` command starts the workbench on the C allocator on Linux with glibc (liferaft._launch)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from liferaft import _launch

pytestmark = pytest.mark.skipif(not _launch._glibc() or not sys.platform.startswith("linux"),
                                reason="only Linux with glibc starts again")


@pytest.mark.parametrize("argv", [[], ["DIR"], ["open", "DIR"], ["demo"], ["DIR", "--poll"]])
def test_the_workbench_commands_start_again_on_malloc(monkeypatch: pytest.MonkeyPatch, argv: list[str]) -> None:
    monkeypatch.setattr(sys, "orig_argv", [sys.executable, "/venv/bin/liferaft", *argv])
    assert _launch.relaunch_args(argv, {}) == [sys.executable, "/venv/bin/liferaft", *argv]


@pytest.mark.parametrize("argv", [["scan", "DIR"], ["prompt", "DIR", "--copy"], ["--version"], ["DIR", "--help"],
                                  ["check"], ["diagnose", "-"], ["import", "x.zip"]])
def test_other_commands_run_at_once(monkeypatch: pytest.MonkeyPatch, argv: list[str]) -> None:
    monkeypatch.setattr(sys, "orig_argv", [sys.executable, "/venv/bin/liferaft", *argv])
    assert _launch.relaunch_args(argv, {}) is None


@pytest.mark.parametrize("environ", [{"PYTHONMALLOC": "pymalloc"}, {"LIFERAFT_PYTHONMALLOC": "keep"}])
def test_a_choice_already_made_is_kept(monkeypatch: pytest.MonkeyPatch, environ: dict[str, str]) -> None:
    monkeypatch.setattr(sys, "orig_argv", [sys.executable, "/venv/bin/liferaft"])
    assert _launch.relaunch_args([], environ) is None


def test_the_started_again_process_runs_on_malloc_and_only_once(tmp_path: Path) -> None:
    # A stand-in for the console script: it reports the allocator it runs on instead of opening the workbench.
    script = tmp_path / "liferaft"
    script.write_text(
        "import os, sys\n"
        "from liferaft import _launch\n"
        "args = _launch.relaunch_args(sys.argv[1:], os.environ)\n"
        "if args is not None:\n"
        "    os.execve(sys.executable, args, dict(os.environ, PYTHONMALLOC='malloc', LIFERAFT_PYTHONMALLOC='keep'))\n"
        "print(os.environ.get('PYTHONMALLOC'), sys.argv[1:])\n"
    )
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONMALLOC", "LIFERAFT_PYTHONMALLOC")}
    done = subprocess.run([sys.executable, str(script), "some folder"], capture_output=True, text=True, env=env,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "malloc ['some folder']"

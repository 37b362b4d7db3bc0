"""The replay environment: built with uv once, reused after, and never left half-made."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from liferaft.core.replay.environment import (
    MARKER,
    ReplayEnvironmentError,
    ensure_environment,
    environment_key,
    existing_environment,
    installed_versions,
    replay_settings,
)
from liferaft.core.replay.packages import ReplayConfigError
from tests.conftest import replay_cache_dir, replay_index_problem


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LIFERAFT_CACHE_DIR", str(tmp_path))
    return tmp_path / "replay-envs"


def needs_index() -> None:
    problem = replay_index_problem()
    if problem:
        pytest.skip(problem)


def test_the_demo_environment_imports_and_is_reused(replay_env, tmp_path_factory, monkeypatch) -> None:
    code = "import pandas, matplotlib, ipykernel, IPython, numpy; print(pandas.__version__, numpy.__version__)"
    done = subprocess.run([str(replay_env.python), "-c", code], capture_output=True, text=True, check=True)
    versions = installed_versions(replay_env)
    assert done.stdout.split() == [versions["pandas"], versions["numpy"]]
    if sys.version_info[:2] == (3, 11):  # the sandbox's own Python: the sandbox's own versions
        assert versions["pandas"] == "1.5.3" and versions["numpy"] == "1.24.0"
        assert versions["matplotlib"] == "3.6.3" and versions["ipython"] == "8.12.3"
    monkeypatch.setenv("LIFERAFT_CACHE_DIR", str(replay_cache_dir(tmp_path_factory)))
    again = ensure_environment(replay_env.specs)
    assert again.reused and again.path == replay_env.path


def test_a_package_that_fails_is_named_and_leaves_nothing(cache: Path) -> None:
    needs_index()
    lines: list[str] = []
    with pytest.raises(ReplayEnvironmentError) as raised:
        ensure_environment(["ipykernel>=6.29.0", "liferaft-no-such-distribution>=1.0"], progress=lines.append)
    message = str(raised.value)
    assert message.startswith("liferaft-no-such-distribution 1.0 could not be installed for Python ")
    assert "liferaft-no-such-distribution was not found" in message
    assert "[replay.packages]" in message and "\n" not in message
    assert lines  # it said what it was doing
    assert [p.name for p in cache.iterdir() if not p.name.endswith(".lock")] == []


def test_an_interrupted_build_is_not_taken_as_complete(cache: Path) -> None:
    specs: list[str] = []  # an environment with nothing installed: what is tested is the leftovers, not uv
    key = environment_key(specs)
    # What a build killed half-way leaves: its temporary folder, and (had it died after a rename by an older
    # Liferaft) a final folder without the marker.
    leftover = cache / f".liferaft-tmp-{key}-abc123"
    (leftover / "bin").mkdir(parents=True)
    (leftover / MARKER).write_text(json.dumps({"format": 1, "specs": specs}))
    (cache / key / "bin").mkdir(parents=True)
    needs_index()
    env = ensure_environment(specs)
    assert not env.reused
    assert not leftover.exists()
    assert (env.path / MARKER).is_file()
    assert ensure_environment(specs).reused


def test_the_key_is_stable_and_says_the_python() -> None:
    a = environment_key(["pandas>=1.5.3", "ipykernel>=6.29.0"])
    assert a == environment_key(["ipykernel>=6.29.0", "pandas>=1.5.3"])
    assert a != environment_key(["ipykernel>=6.29.0"])
    assert a.startswith(f"py{sys.version_info[0]}{sys.version_info[1]}-")


def test_replay_settings() -> None:
    assert replay_settings({}).python is None
    settings = replay_settings({"replay": {"python": "/usr/bin/python3", "packages": {"pandas": "2.2.3"}}})
    assert settings.python == "/usr/bin/python3" and settings.packages == {"pandas": "2.2.3"}
    assert replay_settings({"replay": {"cell_timeout": 900}}).cell_timeout == 900.0
    bad_timeouts = [{"replay": {"cell_timeout": value}} for value in (0, "10", True)]
    for bad in ({"replay": 1}, {"replay": {"python": 3}}, {"replay": {"packages": "x"}}, {"replay": {"pyton": "x"}},
                *bad_timeouts):
        with pytest.raises(ReplayConfigError):
            replay_settings(bad)


def test_a_configured_python_without_ipykernel_is_refused(tmp_path: Path) -> None:
    bare = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    python = bare / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    with pytest.raises(ReplayEnvironmentError, match=r"has no ipykernel.*-m pip install ipykernel"):
        existing_environment(str(python))
    with pytest.raises(ReplayEnvironmentError, match="does not run"):
        existing_environment(str(tmp_path / "nothing-here"))


def test_a_configured_python_with_ipykernel_is_used_as_it_is(replay_env) -> None:
    env = existing_environment(str(replay_env.python))
    assert env.reused and env.specs == () and env.python == replay_env.python

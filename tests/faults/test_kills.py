"""Fault injection: each command that writes is killed (SIGKILL) at seeded random moments of its run.

Each run is a child forked from one Python process that has Liferaft imported and its secret scanner loaded
(what every `python -m liferaft` spends its first half second on, before it touches a file), so the kills
land in the command's own work, not in the interpreter starting; tests/test_faults_cleanup.py and the
stopped-split test below stop real `python -m liferaft` processes.

After every kill: the user's files are byte-identical, nothing half-made is visible (every file the command
made is exactly what an uninterrupted run makes, and a split is all its parts or none), Liferaft's own files
load without a warning, and the next command leaves no temporary file behind. The moments are drawn between
the start and the length of an uninterrupted run (the median of the whole runs so far: three first, then any
that finished before its moment), so the kills cover the whole run on a fast machine or a slow one; a run
that finishes first is checked too, but only killed runs count towards the KILLS each command gets. Nothing
here asserts how long anything takes.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import select
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from liferaft.core.leftovers import sweep_leftovers
from liferaft.core.prepare import split_part_problem
from liferaft.core.storage import TEMP_PREFIX
from tests import recover_fixtures as fx
from tests.conftest import HANG, cli_env, eventually, write

KILLS = 20

#: The files each command may change (its own results); any other file that existed before must not change.
MAY_CHANGE = {
    "note": {"RESTART/restart-note.md"},
    "import": {"RESTART/restart-note.md"},
}


def liferaft(*args: str) -> list[str]:
    return [sys.executable, "-m", "liferaft", *args]


def env() -> dict[str, str]:
    # No clipboard anywhere: `prompt --copy` saves the prompt, which is the result looked at.
    extra = {"DISPLAY": "", "XDG_SESSION_TYPE": "tty"}
    values = cli_env(**extra)
    values.pop("WAYLAND_DISPLAY", None)
    values["PATH"] = os.pathsep.join(p for p in values.get("PATH", "").split(os.pathsep) if p)
    return values


def files(root: Path) -> dict[str, bytes]:
    """Every regular file under ``root`` (hidden ones too), relative path → content hash."""
    found = {}
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            found[path.relative_to(root).as_posix()] = hashlib.sha256(path.read_bytes()).digest()
    return found


def visible(paths: dict[str, bytes]) -> dict[str, bytes]:
    """What a user (and `scan`) sees: no hidden file or folder, no temp file."""
    return {rel: digest for rel, digest in paths.items()
            if not any(part.startswith(".") for part in rel.split("/"))}


def temp_files(root: Path) -> list[Path]:
    return [path for path in root.rglob(f"{TEMP_PREFIX}*")]


def make_project(root: Path, *, rows: int = 5_000, files: int = 20) -> Path:
    """A project to kill a command in: a table of ``rows`` rows, ``files`` small tables, code, an output and a
    note. Each command gets what makes its run long enough to be cut in many places, and no more."""
    body = "".join(f"{i},2025-{1 + i % 12:02d}-{1 + i % 28:02d},{['North', 'South', 'East'][i % 3]},{i * 1.5:.2f}\n"
                   for i in range(rows))
    write(root / "SOURCE" / "transactions.csv", "order_id,date,region,revenue\n" + body)
    for index in range(files):
        write(root / "SOURCE" / "daily" / f"day_{index:03d}.csv", f"a,b\n{index},1\n")
    write(root / "CODE" / "analysis.py", "import pandas as pd\ndf = pd.read_csv('SOURCE/transactions.csv')\n")
    write(root / "OUTPUT" / "summary.csv", "region,revenue\nNorth,1\n")
    write(root / "RESTART" / "restart-note.md", "# Restart note\n\n## Goal\n\nRevenue by region.\n\n## Notes\n\n"
          "- my own words\n")
    return root


#: What each command's project holds: a split needs a table of many parts, a checkpoint many files to hash.
PROJECTS = {"prepare": {"rows": 150_000}, "checkpoint": {"files": 300}}


COMMANDS: dict[str, Callable[[Path, Path], list[str]]] = {
    "prepare": lambda root, _: liferaft("prepare", "SOURCE/transactions.csv", str(root), "--split-mb", "0.5"),
    "import": lambda root, export: liferaft("import", str(export), "--into", str(root),
                                            "--conversation", "conv-sales"),
    "checkpoint": lambda root, _: liferaft("checkpoint", str(root), "-m", "before the kill"),
    "note": lambda root, _: liferaft("note", str(root), "--prefill"),
    "prompt": lambda root, _: liferaft("prompt", str(root), "--copy"),
}


#: A process that runs `liferaft ARGS` in a child forked from it, for each line of JSON it reads:
#: {"argv": [...], "kill_after": seconds or null}. The child starts with Liferaft imported and the secret scanner
#: loaded; this process kills it (SIGKILL) if it runs longer than kill_after, and answers with one line:
#: {"code": its exit code (-9 when killed), "seconds": how long it ran}. Killing the child here, before it is
#: reaped, means a signal can never reach another process that was given a finished child's pid.
FORKER = textwrap.dedent("""
    import importlib, json, os, pkgutil, select, signal, sys, time
    import liferaft.cli
    import liferaft.core
    from liferaft.core import secrets

    for module in pkgutil.walk_packages(liferaft.core.__path__, "liferaft.core."):
        importlib.import_module(module.name)
    secrets.warm_up()

    def threads():
        try:
            return len(os.listdir("/proc/self/task"))
        except OSError:
            return 1

    while line := sys.stdin.readline():
        order = json.loads(line)
        if threads() != 1:  # a fork copies only the calling thread: a child could hang on a lock
            sys.exit(f"the forker has {threads()} threads: it cannot fork safely")
        started = time.monotonic()
        pid = os.fork()
        if pid == 0:
            code = 70
            try:
                null = os.open(os.devnull, os.O_RDWR)
                for fd in (0, 1, 2):
                    os.dup2(null, fd)
                code = liferaft.cli.main(order["argv"])
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(code)
        if order["kill_after"] is not None:
            waiter = os.pidfd_open(pid)
            if not select.select([waiter], [], [], order["kill_after"])[0]:  # still running
                os.kill(pid, signal.SIGKILL)
            os.close(waiter)
        _, status = os.waitpid(pid, 0)
        print(json.dumps({"code": os.waitstatus_to_exitcode(status), "seconds": time.monotonic() - started}),
              flush=True)
""")


class Forker:
    def __init__(self, log: Path) -> None:
        self.log = log
        with open(log, "wb") as errors:
            self.proc = subprocess.Popen([sys.executable, "-c", FORKER], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=errors, env=env())

    def run(self, command: list[str], kill_after: float | None = None) -> dict[str, float]:
        """Run ``command`` (``liferaft(...)``) in a forked child; kill it after ``kill_after`` seconds."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        assert command[:3] == liferaft()
        self.proc.stdin.write((json.dumps({"argv": command[3:], "kill_after": kill_after}) + "\n").encode())
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], HANG + (kill_after or 0))
        answer = self.proc.stdout.readline() if ready else b""
        if not answer:
            self.close()
            pytest.fail(f"the forker did not answer: {self.log.read_text(errors='replace')}")
        return json.loads(answer)

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=HANG)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def forker(tmp_path: Path) -> Iterator[Forker]:
    started = Forker(tmp_path / "forker.log")
    yield started
    started.close()


def run_whole(forker: Forker, command: list[str]) -> float:
    done = forker.run(command)
    assert done["code"] == 0, forker.log.read_text(errors="replace")
    return done["seconds"]


def kill_at(forker: Forker, command: list[str], delay: float) -> float | None:
    """None if the command was killed; if it finished first (that run is then simply whole), how long it ran."""
    done = forker.run(command, kill_after=delay)
    assert done["code"] in (0, -signal.SIGKILL), done
    return None if done["code"] == -signal.SIGKILL else done["seconds"]


def check_own_files_load(root: Path) -> None:
    from liferaft.core.checkpoints import load_checkpoints
    from liferaft.core.state import load_state

    assert load_state(root).warnings == []
    assert load_checkpoints(root)[1] == []
    assert not [p for p in root.rglob("*") if ".corrupt-" in p.name or ".unusable-" in p.name]


@pytest.mark.parametrize("name", list(COMMANDS))
def test_a_killed_command_leaves_nothing_half_made(tmp_path: Path, name: str, forker: Forker) -> None:
    template = make_project(tmp_path / "template", **PROJECTS.get(name, {}))
    export = fx.write_classic_zip(tmp_path / "export.zip", [fx.sales_conversation()], fx.classic_assets())
    before = files(template)

    lengths = []  # how long whole runs take: the moments are drawn up to their median (a busy machine varies)
    for run in range(3):
        reference = tmp_path / f"reference{run}" / "project"  # the same folder name each time: prompts show it
        shutil.copytree(template, reference)
        lengths.append(run_whole(forker, COMMANDS[name](reference, export)))
    reference = tmp_path / "reference0" / "project"
    made = {rel: digest for rel, digest in visible(files(reference)).items() if before.get(rel) != digest}
    assert made or name == "checkpoint", "the uninterrupted run made nothing to compare with"

    rng = random.Random(f"{name}-kills")
    kills = 0
    for attempt in range(4 * KILLS):  # until KILLS runs were killed: a run may finish before its moment
        if kills == KILLS:
            break
        root = tmp_path / f"run{attempt:02d}" / "project"
        shutil.copytree(template, root)
        finished = kill_at(forker, COMMANDS[name](root, export), rng.uniform(0.0, sorted(lengths)[len(lengths) // 2]))
        if finished is None:
            kills += 1
        else:  # a whole run too: its length counts
            lengths.append(finished)
        after = files(root)
        allowed = MAY_CHANGE.get(name, set())
        for rel, digest in before.items():  # the user's files: byte-identical, and still there
            if rel in allowed:
                assert after.get(rel) in (digest, made.get(rel)), f"{rel} half-written (kill {attempt})"
            elif not rel.startswith(".liferaft/"):
                assert after.get(rel) == digest, f"{rel} changed by a killed {name} (kill {attempt})"
        new = {rel: digest for rel, digest in visible(after).items() if before.get(rel) != digest}
        for rel, digest in new.items():  # nothing half-made in sight (a saved prompt's name holds the time)
            assert digest in made.values(), f"{rel} is not what a whole run makes (kill {attempt})"
        if name == "prepare" and new and set(new) != set(made):
            # Killed while the parts were put in place (one rename each; the list of the parts is written last):
            # the parts in sight must never be taken for a finished set, by `check` or by the prompt.
            refused = [rel for rel in new if split_part_problem(root / rel) is not None]
            assert sorted(refused) == sorted(new), f"a split shows {len(new)} of {len(made)} files as a set"
        check_own_files_load(root)
        for path in temp_files(root):  # as if the next command came a while later
            os.utime(path, (time.time() - 3600, time.time() - 3600))
        # What every command does first (tests/test_faults_cleanup.py proves each one does), in this process:
        # a CLI run per kill would double the time of this test.
        sweep_leftovers(root, also=[root / "SOURCE" / "prepared"])
        assert temp_files(root) == [], f"temp files left after the next command (kill {attempt})"
        shutil.rmtree(root)
    assert kills == KILLS, f"only {kills} of {attempt + 1} runs were killed before they finished"


INTERRUPTS = 5


def small_split(root: Path) -> list[str]:
    """A split into ~250 parts: long enough to be stopped while parts are being written or put in place."""
    return liferaft("prepare", "SOURCE/transactions.csv", str(root), "--split-mb", "0.02")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=["SIGINT", "SIGTERM", "SIGHUP"])
def test_a_stopped_split_takes_back_all_it_made_and_exits(tmp_path: Path, signum: int) -> None:
    """Ctrl-C, `kill` or a closed terminal at any moment of a split: the command ends (no hang in its thread
    pool), says so with the signal's exit code, and leaves no part, list or temporary file, without waiting for
    the next command's sweep."""
    template = make_project(tmp_path / "template", **PROJECTS["prepare"])
    before = files(template)
    reference = tmp_path / "reference"
    shutil.copytree(template, reference)
    proc = subprocess.Popen(small_split(reference), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=env(), stdin=subprocess.DEVNULL)
    eventually(lambda: proc.poll() is not None or (reference / "SOURCE" / "prepared").exists(),
               what="the split to begin")
    begun = time.monotonic()
    assert proc.wait(timeout=HANG) == 0
    length = time.monotonic() - begun  # how long the split itself takes, once begun
    whole = visible(files(reference))
    rng = random.Random(f"split-{int(signum)}")
    stopped = 0
    for attempt in range(4 * INTERRUPTS):  # past INTERRUPTS only while no run was stopped (a busy machine)
        if attempt >= INTERRUPTS and stopped:
            break
        root = tmp_path / f"run{attempt:02d}"
        shutil.copytree(template, root)
        proc = subprocess.Popen(small_split(root), stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, env=env(), stdin=subprocess.DEVNULL, text=True)
        delay = rng.uniform(0.0, length)
        # From the moment the split has begun writing (before that, Python is still starting up).
        eventually(lambda proc=proc, root=root: proc.poll() is not None or (root / "SOURCE" / "prepared").exists(),
                   what="the split to begin")
        try:
            proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            proc.send_signal(signum)
        try:
            _, err = proc.communicate(timeout=HANG)
        except subprocess.TimeoutExpired:
            proc.kill()
            pytest.fail(f"the split did not end after {signal.Signals(signum).name} (attempt {attempt})")
        after = files(root)
        if proc.returncode == 0 or (proc.returncode == -signum and visible(after) == whole):
            continue  # it finished before the signal came (or came as Python was exiting)
        stopped += 1
        assert proc.returncode == 128 + signum, err
        assert "interrupted" in err and "Traceback" not in err, err
        left = set(visible(after)) - set(before)
        assert visible(after) in (visible(before), whole), f"a stopped split left {len(left)} of {len(whole)} files"
        assert temp_files(root) == [], f"temp files left by a stopped split (attempt {attempt})"
        shutil.rmtree(root)
    assert stopped, "every run finished before its signal: nothing was tested"

"""Issue #14 (5): Liferaft's own files in .liferaft/ never lose an update to a concurrent writer.

Every read-modify-write takes the file's lock and reads the file again under it (storage.locked,
state.update_state); the workbench applies its changes to the state as saved, never to its own older copy.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from liferaft.core import storage
from liferaft.core.diagnose.checklist import load_checklist
from liferaft.core.diagnose.clock import load_activity
from liferaft.core.project import open_project
from liferaft.core.roles import Role
from liferaft.core.state import ProjectState, load_state, peek_state, state_path, update_state
from liferaft.tui.widgets.project_pane import ProjectPane
from tests.conftest import HANG, cli_env, write
from tests.test_tui import make_app, settle

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the tests look at the lock with fcntl")


def _state_json(root: Path) -> dict:  # type: ignore[type-arg]
    return json.loads(state_path(root).read_text(encoding="utf-8"))


def _run_together(scripts: list[str], root: Path) -> None:
    """Run each script in its own Python process, all released at the same moment (each says "ready" and
    waits for "go"), and check they all succeed. ``root`` is passed to the scripts as sys.argv[1]."""
    procs = [subprocess.Popen([sys.executable, "-c", "import sys\nprint('ready', flush=True)\nsys.stdin.readline()\n"
                               + script, str(root)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=cli_env()) for script in scripts]
    try:
        for proc in procs:
            assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        for proc in procs:
            _out, err = proc.communicate(timeout=HANG)
            assert proc.returncode == 0, err
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


# --- the lock and update_state ------------------------------------------------------------------------------


def test_update_state_from_many_threads_loses_nothing(tmp_path: Path) -> None:
    rounds, threads = 25, 4
    start = threading.Barrier(threads)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            start.wait(timeout=HANG)
            for i in range(rounds):
                update_state(tmp_path, lambda state, key=f"t{n}-{i}.csv": state.overrides.__setitem__(key, Role.SOURCE))
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(HANG)
    assert not errors
    assert len(load_state(tmp_path).state.overrides) == rounds * threads


def test_update_state_from_two_processes_loses_nothing(tmp_path: Path) -> None:
    script = (
        "from liferaft.core.roles import Role\n"
        "from liferaft.core.state import update_state\n"
        "for i in range(40):\n"
        "    update_state(sys.argv[1], lambda s, k=f'{NAME}-{i}.csv': s.overrides.__setitem__(k, Role.OUTPUT))\n"
    )
    _run_together([script.replace("{NAME}", "a"), script.replace("{NAME}", "b")], tmp_path)
    overrides = load_state(tmp_path).state.overrides
    assert len(overrides) == 80 and overrides["a-39.csv"] is Role.OUTPUT and overrides["b-0.csv"] is Role.OUTPUT


def test_update_state_returns_what_was_saved_and_keeps_other_changes(tmp_path: Path) -> None:
    update_state(tmp_path, lambda state: state.overrides.__setitem__("x.csv", Role.CODE))
    saved = update_state(tmp_path, lambda state: state.overrides.__setitem__("y.csv", Role.OUTPUT))
    assert saved.overrides == {"x.csv": Role.CODE, "y.csv": Role.OUTPUT}
    assert _state_json(tmp_path)["overrides"] == {"x.csv": "code", "y.csv": "output"}
    assert (tmp_path / ".liferaft" / "state.lock").is_file()


def test_update_state_refuses_a_state_file_it_cannot_keep(tmp_path: Path) -> None:
    state_path(tmp_path).mkdir(parents=True)  # not a regular file: saving over it would destroy it
    with pytest.raises(PermissionError, match="not a regular file"):
        update_state(tmp_path, lambda state: state.overrides.__setitem__("x.csv", Role.CODE))
    assert state_path(tmp_path).is_dir()


def test_peek_state_changes_nothing(tmp_path: Path) -> None:
    assert peek_state(tmp_path) is not None and peek_state(tmp_path).overrides == {}  # type: ignore[union-attr]
    write(state_path(tmp_path), "{not json")
    assert peek_state(tmp_path) is None
    assert state_path(tmp_path).read_text() == "{not json"  # left where it is, unlike load_state


def _lock_is_free(lock_file: Path) -> bool:
    """Whether another open file could take the lock now (flock: held per open file, so this works in one
    process as across processes)."""
    import fcntl

    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


def test_the_lock_is_held_for_the_whole_block(tmp_path: Path) -> None:
    target = tmp_path / ".liferaft" / "thing.json"
    with storage.locked(target):
        assert not _lock_is_free(tmp_path / ".liferaft" / "thing.lock")
    assert _lock_is_free(tmp_path / ".liferaft" / "thing.lock")


def test_update_state_changes_the_state_under_its_lock(tmp_path: Path) -> None:
    lock_file = tmp_path / ".liferaft" / "state.lock"
    seen: list[bool] = []
    update_state(tmp_path, lambda state: seen.append(_lock_is_free(lock_file)))
    assert seen == [False]
    assert _lock_is_free(lock_file)


# --- real `liferaft prepare` runs at once ----------------------------------------------------------------------


def test_twelve_prepare_runs_at_once_all_land(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    for n in range(12):
        write(root / f"data_{n:02d}.csv", f"id,value\n{n},{n * 2}\n")
    procs = [subprocess.Popen([sys.executable, "-m", "liferaft", "prepare", f"data_{n:02d}.csv", str(root),
                               "--name", f"clean_{n:02d}"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
                              env=cli_env()) for n in range(12)]
    for proc in procs:
        out, err = proc.communicate(timeout=HANG)
        assert proc.returncode == 0, err
        assert "could not remember" not in out + err
    prepared = _state_json(root)["prepared"]
    assert sorted(prepared) == [f"data_{n:02d}.csv" for n in range(12)]
    assert all(record["files"] == [f"prepared/clean_{n:02d}.csv"] for n, record in enumerate(prepared.values()))


# --- the workbench never writes back a stale copy ------------------------------------------------------------


async def test_a_role_change_in_the_workbench_keeps_a_record_saved_meanwhile(project: Path) -> None:
    app = make_app(project)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        assert app.project is not None and app.project.state.prepared == {}
        # A `liferaft prepare` in another terminal while the workbench is open (the workbench does not watch
        # .liferaft/, and here does not watch at all).
        done = subprocess.run([sys.executable, "-m", "liferaft", "prepare", "SOURCE/orders_2025.csv", str(project),
                               "--name", "orders_clean"], capture_output=True, text=True, env=cli_env(),
                              stdin=subprocess.DEVNULL, timeout=HANG)
        assert done.returncode == 0, done.stderr
        assert "SOURCE/orders_2025.csv" in _state_json(project)["prepared"]

        pane = app.query_one(ProjectPane)
        for _ in range(20):
            if pane.selected_record is not None and pane.selected_record.path == "stray_summary.csv":
                break
            await pilot.press("down")
        assert pane.selected_record is not None and pane.selected_record.path == "stray_summary.csv"
        await pilot.press("o")
        await pilot.pause()
        await pilot.press("home", "enter")  # SOURCE is the first choice
        await settle(app, pilot)

        data = _state_json(project)
        assert data["overrides"] == {"stray_summary.csv": "source"}
        assert data["prepared"]["SOURCE/orders_2025.csv"]["files"] == ["SOURCE/prepared/orders_clean.csv"]
        # ...and the workbench now knows the record too: the composer offers the copy instead of the original.
        assert "SOURCE/orders_2025.csv" in app.project.state.prepared
        assert app.project.state.overrides == {"stray_summary.csv": Role.SOURCE}


def test_a_role_saved_by_another_process_reaches_the_inventory_at_the_next_change(project: Path) -> None:
    opened = open_project(project)
    update_state(project, lambda state: state.overrides.__setitem__("CODE/clean.py", Role.OUTPUT))
    opened.set_role("stray_summary.csv", Role.SOURCE)
    roles = {record.path: record.role for record in opened.inventory.files}
    assert roles["CODE/clean.py"] is Role.OUTPUT and roles["stray_summary.csv"] is Role.SOURCE
    update_state(project, lambda state: state.overrides.pop("CODE/clean.py"))
    opened.set_role("stray_summary.csv", None)
    roles = {record.path: record.role for record in opened.inventory.files}
    assert roles["CODE/clean.py"] is Role.CODE  # back to its folder's role


def test_a_rescan_picks_up_the_state_saved_by_another_process(project: Path) -> None:
    opened = open_project(project)
    update_state(project, lambda state: state.overrides.__setitem__("stray_summary.csv", Role.SOURCE))
    opened.rescan()
    assert opened.state.overrides == {"stray_summary.csv": Role.SOURCE}
    assert next(r for r in opened.inventory.files if r.path == "stray_summary.csv").role is Role.SOURCE
    write(state_path(project), "{damaged")
    opened.rescan()  # an unusable file is neither moved aside nor taken: the copy stays
    assert opened.state.overrides == {"stray_summary.csv": Role.SOURCE}
    assert state_path(project).read_text() == "{damaged"


def test_record_prepared_in_the_workbench_keeps_a_role_saved_meanwhile(project: Path) -> None:
    opened = open_project(project)
    update_state(project, lambda state: state.overrides.__setitem__("stray_summary.csv", Role.OUTPUT))
    write(project / "prepared" / "orders.csv", "order_id\n1\n")
    opened.record_prepared("SOURCE/orders_2025.csv", "name", ["prepared/orders.csv"])
    data = _state_json(project)
    assert data["overrides"] == {"stray_summary.csv": "output"}
    assert data["prepared"]["SOURCE/orders_2025.csv"]["files"] == ["prepared/orders.csv"]
    assert isinstance(opened.state, ProjectState) and "stray_summary.csv" in opened.state.overrides


# --- the other read-modify-writes in .liferaft/ --------------------------------------------------------------


def test_checklist_ticks_from_two_processes_all_land(tmp_path: Path) -> None:
    script = (
        "from liferaft.core.diagnose.checklist import set_tick\n"
        "for i in range(40):\n"
        "    set_tick(sys.argv[1], f'{NAME}-{i}', True, 1000.0 + i)\n"
    )
    _run_together([script.replace("{NAME}", "a"), script.replace("{NAME}", "b")], tmp_path)
    assert len(load_checklist(tmp_path).ticks) == 80


def test_activity_from_two_processes_all_lands(tmp_path: Path) -> None:
    script = (
        "from liferaft.core.diagnose.clock import record_activity\n"
        "for i in range(40):\n"
        "    record_activity(sys.argv[1], 'chat', 1000.0 + 2 * i + {OFFSET}, '')\n"
    )
    _run_together([script.replace("{OFFSET}", "0"), script.replace("{OFFSET}", "1")], tmp_path)
    assert len(load_activity(tmp_path).events) == 80


def test_imports_recorded_from_two_processes_all_land(tmp_path: Path) -> None:
    script = (
        "from liferaft.core.recover.record import record_import\n"
        "for i in range(40):\n"
        "    record_import(sys.argv[1], {'conversation': {'id': f'{NAME}-{i}', 'title': 't'}})\n"
    )
    _run_together([script.replace("{NAME}", "a"), script.replace("{NAME}", "b")], tmp_path)
    from liferaft.core.recover.record import load_imports

    imports, warnings = load_imports(tmp_path)
    assert not warnings and len(imports) == 80

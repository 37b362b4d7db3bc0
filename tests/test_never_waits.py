"""Where the workbench's work runs (issue 17, "a UI that never waits"): the upload check and the gathering in a
worker process, results arriving as from a thread; thread workers nothing waits for at closing; long loops that
let the UI thread in; startup work nobody sees held back while keys come."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from liferaft.core.compose import gather
from liferaft.core.project import open_project
from liferaft.core.uploads import plan_uploads
from liferaft.tui import offload
from liferaft.tui.app import LiferaftApp
from liferaft.tui.threads import DaemonThreads, pacing
from liferaft.tui.widgets.composer_pane import ComposerPane
from tests.conftest import FROZEN_NOW
from tests.test_prepare_tui import wait_for


@pytest.fixture
def demo(tmp_path: Path, copy_demo) -> Path:  # type: ignore[no-untyped-def]
    return copy_demo(tmp_path / "demo", big_csv_mb=1)


async def test_checks_in_a_worker_process_arrive_as_from_a_thread(demo: Path) -> None:
    project = open_project(demo)
    expected_plan = plan_uploads(project.inventory, dict(project.state.prepared))
    expected_context = gather(project.root, project.inventory, expected_plan, name=project.name)
    app = LiferaftApp(demo, now=lambda: FROZEN_NOW, offload=True)
    async with app.run_test(size=(120, 40)) as pilot:
        composer = app.query_one(ComposerPane)
        await wait_for(pilot, lambda: composer.context is not None and composer.prompt is not None)
        assert app.workbench._offload is not None  # it did run in the worker process
        assert app.plan == expected_plan
        assert composer.context == expected_context
    assert app.workbench._offload._closed


def test_a_superseded_job_is_told_to_stop_and_its_result_dropped(demo: Path) -> None:
    project = open_project(demo)
    pool = offload.Offload()
    try:
        plan = pool.run("uploads", offload.check_uploads, project.inventory, dict(project.state.prepared), None,
                        cancelled=lambda: False)
        assert plan == plan_uploads(project.inventory, dict(project.state.prepared))
        assert pool.run("uploads", offload.check_uploads, project.inventory, {}, None, cancelled=lambda: True) is None
    finally:
        pool.close()
    assert pool.run("uploads", offload.check_uploads, project.inventory, {}, None, cancelled=lambda: False) is None


def test_an_inventory_sent_to_a_worker_arrives_whole(tmp_path: Path) -> None:
    """What the worker process receives (an inventory, pickled by column): every record, note and role folder,
    an undecodable name and an empty project included, with its groups made again on arrival."""
    import pickle

    root = tmp_path / "p"
    (root / "SOURCE").mkdir(parents=True)
    (root / "OUTPUT").mkdir()
    (root / "SOURCE" / "sales.csv").write_text("a,b\n1,2\n")
    (root / "OUTPUT" / "chart.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (root / "notes.md").write_text("x")
    odd = os.fsencode(root / "OUTPUT") + b"/caf\xe9.csv"
    with open(odd, "wb") as handle:
        handle.write(b"x\n")
    inventory = open_project(root).inventory
    inventory.grouped()  # a summary made on this side is not sent, and not wrong on the other
    arrived = pickle.loads(pickle.dumps(inventory))
    assert arrived.files == inventory.files and len(arrived.files) == 4
    assert all(type(record) is type(inventory.files[0]) for record in arrived.files)
    assert (arrived.root, arrived.notes, arrived.role_folders) == (inventory.root, inventory.notes,
                                                                   inventory.role_folders)
    assert arrived.grouped() == inventory.grouped()
    (tmp_path / "empty").mkdir()
    assert pickle.loads(pickle.dumps(open_project(tmp_path / "empty").inventory)).files == []


def _gone(pid: int) -> bool:
    """Whether process ``pid`` has ended (a zombie nobody reaped has ended too)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rpartition(")")[2].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_worker_processes_end_when_the_workbench_is_killed(demo: Path) -> None:
    """Killed outright (SIGKILL, the out-of-memory killer), the workbench cannot stop its worker processes: they
    must see it gone and end, not wait for a next job for ever (each holds tens of MB)."""
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from liferaft.core.project import open_project\n"
        "from liferaft.tui import offload\n"
        "project = open_project(Path(sys.argv[1]))\n"
        "pool = offload.Offload()\n"
        "pool.run('uploads', offload.check_uploads, project.inventory, {}, None, cancelled=lambda: False)\n"
        "print(' '.join(str(pid) for pid in pool._pool._processes), flush=True)\n"
        "sys.stdin.read()\n"
    )
    process = subprocess.Popen([sys.executable, "-c", script, str(demo)], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        workers = [int(pid) for pid in process.stdout.readline().split()]
        assert workers and not any(_gone(pid) for pid in workers)
    finally:
        process.kill()
        process.wait()
    deadline = time.monotonic() + 30
    while not all(_gone(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = [pid for pid in workers if not _gone(pid)]
    for pid in left:
        os.kill(pid, 9)
    assert left == []


def test_daemon_threads_run_work_and_never_wait_at_shutdown() -> None:
    executor = DaemonThreads()
    release = threading.Event()
    started = time.monotonic()
    blocked = executor.submit(release.wait, 30)
    assert executor.submit(lambda x: x * 2, 21).result(timeout=5) == 42
    failing = executor.submit(lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        failing.result(timeout=5)

    async def close_a_loop() -> None:
        loop = asyncio.get_running_loop()
        loop.set_default_executor(executor)
        await loop.run_in_executor(None, lambda: None)

    asyncio.run(close_a_loop())  # asyncio.run waits for its default executor: here, not for the blocked call
    assert time.monotonic() - started < 10
    assert not blocked.done()
    release.set()
    assert blocked.result(timeout=5)


def test_pacing_pauses_a_long_loop_and_passes_cancellation_on(monkeypatch: pytest.MonkeyPatch) -> None:
    pauses: list[float] = []
    monkeypatch.setattr("liferaft.tui.threads.time.sleep", pauses.append)
    state = {"cancelled": False}
    check = pacing(lambda: state["cancelled"])
    deadline = time.perf_counter() + 0.1
    while time.perf_counter() < deadline:
        assert check() is False
    assert len(pauses) >= 3  # one pause every slice of work
    state["cancelled"] = True
    assert check() is True


async def test_startup_work_nobody_sees_waits_for_a_pause_in_the_keys(demo: Path) -> None:
    app = LiferaftApp(demo, now=lambda: FROZEN_NOW)
    async with app.run_test(size=(120, 40)) as pilot:
        before = app.last_input
        await pilot.press("down")
        assert app.last_input > before  # a key counts as input
        called: list[float] = []
        app.workbench._when_quiet(lambda: called.append(time.monotonic()), quiet=3.0)
        typing_until = time.monotonic() + 1.5
        while time.monotonic() < typing_until:  # input every 0.1 s (set here: pilot keys are slow on a busy host)
            app.last_input = time.monotonic()
            await pilot.pause(0.1)
        assert called == []
        await wait_for(pilot, lambda: called)
        assert called[0] - app.last_input >= 3.0


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="reads /proc")
def test_the_resource_tracker_never_writes_to_the_terminal() -> None:
    """The tracker inherits descriptor 2, not sys.stderr: started while the terminal is descriptor 2, it printed
    "leaked semaphore objects" into the user's shell after ctrl+q."""
    code = (
        "import os\n"
        "from multiprocessing import resource_tracker\n"
        "from liferaft.tui.offload import start_resource_tracker_quietly\n"
        "start_resource_tracker_quietly()\n"
        "pid = resource_tracker._resource_tracker._pid\n"
        "print(os.readlink(f'/proc/{pid}/fd/2'))\n"
        "print(os.readlink('/proc/self/fd/2') != '/dev/null')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    tracker_err, own_restored = result.stdout.split()
    assert tracker_err == os.devnull
    assert own_restored == "True"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="threads have their own niceness on Linux")
def test_work_nothing_waits_for_runs_below_the_ui() -> None:
    from liferaft.tui.threads import lower_this_thread

    seen: list[int] = []

    def work() -> None:
        lower_this_thread(5)
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    before = os.getpriority(os.PRIO_PROCESS, 0)
    assert seen == [min(19, before + 5)]
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == before  # the caller is untouched


def test_a_kept_thread_lets_go_of_what_its_last_call_set_in_its_context() -> None:
    """Textual's thread worker sets its "active worker" in the thread's context; a thread kept for the next call
    kept that Worker, and the arguments it was given (a 50,000-file inventory after a burst), until it ran
    another call: the burst's memory could not be given back."""
    import contextvars
    import gc
    import weakref

    class Arguments:  # stands in for a worker and what it was given
        pass

    active: contextvars.ContextVar[Arguments] = contextvars.ContextVar("active")
    pool = DaemonThreads("t")
    given = Arguments()
    seen = weakref.ref(given)

    def work(arguments: Arguments) -> str:
        active.set(arguments)
        return threading.current_thread().name

    name = pool.submit(work, given).result(timeout=30)
    del given
    deadline = time.monotonic() + 30
    while pool._idle != 1 and time.monotonic() < deadline:  # the thread waits for its next call, kept
        time.sleep(0.001)
    gc.collect()
    assert seen() is None
    assert pool.submit(lambda: threading.current_thread().name).result(timeout=30) == name  # the same thread
    assert pool.submit(lambda: active.get(None)).result(timeout=30) is None  # each call starts afresh
    pool.shutdown()


def test_daemon_threads_are_reused_and_never_queue_behind_a_busy_one() -> None:
    pool = DaemonThreads("t")
    release = threading.Event()
    busy = pool.submit(lambda: (release.wait(30), threading.current_thread().name)[1])
    beside = pool.submit(lambda: threading.current_thread().name)  # runs although the first one is busy
    second = beside.result(timeout=30)
    deadline = time.monotonic() + 30
    while pool._idle != 1 and time.monotonic() < deadline:  # the second thread goes back to waiting for work
        time.sleep(0.001)
    later = pool.submit(lambda: threading.current_thread().name).result(timeout=30)
    release.set()
    first = busy.result(timeout=30)
    assert first != second
    assert later == second  # the idle thread took it: no new thread per call
    pool.shutdown()

"""The workbench's pure-Python checks in a process of their own, so they cannot hold the UI's interpreter.

The upload check and the gathering of the prompt's parts read and parse files in pure Python (and import the
readers of every format on their first run): in a thread of the UI's process they take the interpreter from the
UI thread for most of a second on a small project, and a key pressed meanwhile waits. Here they run in a worker
process (started on first use with ``spawn``: no copy of the UI's threads or terminal); the inputs and results
travel pickled (an inventory by column, ~0.6 µs a file), which is cheap up to some tens of thousands of files (a
larger project stays in a thread, paced: pickling it would hold the UI's interpreter longer than a key may wait).

A job superseded by a newer one of its kind stops at its next cancellation check (a shared generation number
per kind); its result, if any, is dropped by the caller.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

TYPE_CHECKING = False
if TYPE_CHECKING:
    from liferaft.core.compose import ComposeContext
    from liferaft.core.scan import Inventory
    from liferaft.core.state import PreparedFrom
    from liferaft.core.uploads import UploadPlan
    from liferaft.core.vendor import UploadLimits

#: Projects up to this many files are checked in the worker process (larger ones in a paced thread): sending
#: this many takes the UI's interpreter for ~40 ms. Checking in the workbench's own process also imports the
#: readers of every format there and leaves their caches scattered through the memory a burst of files freed.
MAX_FILES = 60_000
#: The kinds of job, each with its own generation number (a newer job of a kind cancels the older).
KINDS = {"uploads": 0, "compose": 1}

_generations: Any = None  # in a worker process: the shared generation numbers, one per kind


# --- in the worker process ------------------------------------------------------------------------------------


#: How much lower the worker processes run than the workbench (added to their niceness).
WORKER_NICENESS = 10


def _start_worker(generations: Any) -> None:
    global _generations
    _generations = generations
    _leave_with_the_workbench()
    # The terminal belongs to the UI: a warning a file reader prints must not land on the screen.
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        with contextlib.suppress(OSError):
            os.dup2(devnull, fd)
    os.close(devnull)
    import warnings

    warnings.simplefilter("ignore")
    # Below the UI in the scheduler's eyes: on a machine with few cores, a check importing pandas and reading
    # tables must not take the core the workbench needs to answer a key.
    with contextlib.suppress(AttributeError, OSError):  # no os.nice on Windows
        os.nice(WORKER_NICENESS)


def _leave_with_the_workbench() -> None:
    """End this worker process when the workbench's ends, however it ends. Closed normally, the workbench stops
    its workers; killed (SIGKILL, the out-of-memory killer, a crash), it cannot, and a worker waiting for its
    next job would wait for ever, holding its memory. A thread waits on the parent's sentinel (a pipe on POSIX, a
    process handle on Windows), which the system marks ready when the parent is gone."""
    import multiprocessing
    from multiprocessing.connection import wait as wait_for

    parent = multiprocessing.parent_process()
    sentinel = parent.sentinel if parent is not None else None
    if sentinel is None:
        return

    def watch() -> None:
        try:
            wait_for([sentinel])
        except Exception:  # cannot watch: the workbench's close still stops this process
            return
        os._exit(0)

    threading.Thread(target=watch, name="liferaft-leave-with-workbench", daemon=True).start()


def _superseded(kind: int, generation: int) -> Callable[[], bool]:
    return lambda: _generations[kind] != generation


def check_uploads(inventory: Inventory, prepared: dict[str, PreparedFrom], limits: UploadLimits,
                  generation: int) -> UploadPlan:
    from liferaft.core.uploads import plan_uploads

    return plan_uploads(inventory, prepared, limits=limits, cancelled=_superseded(KINDS["uploads"], generation))


def gather_context(root: Path, inventory: Inventory, plan: UploadPlan, name: str, generation: int) -> ComposeContext:
    from liferaft.core.compose import gather

    return gather(root, inventory, plan, name=name, cancelled=_superseded(KINDS["compose"], generation))


# --- on the UI's side -----------------------------------------------------------------------------------------


class Unavailable(RuntimeError):
    """No worker process could be started: the caller does the work itself."""


def _start_resource_tracker() -> None:
    """Start multiprocessing's resource tracker with its error output going nowhere. It passes ``sys.stderr``
    on, and under Textual that is a capture with no file (the start fails); the terminal itself would not do
    either: the tracker's notes on leaving would land in the user's shell after the workbench closes."""
    import sys
    from multiprocessing import resource_tracker

    with open(os.devnull, "w") as quiet:
        shown, sys.stderr = sys.stderr, quiet
        try:
            resource_tracker.ensure_running()
        finally:
            sys.stderr = shown


def start_resource_tracker_quietly() -> None:
    """Start the resource tracker before the workbench draws (call it before the app runs). The tracker is a
    process of its own that inherits this process's file descriptor 2, whatever ``sys.stderr`` is: started
    while the terminal is descriptor 2, its notes when the workbench leaves (semaphores of worker processes
    that were never waited for) would print in the user's shell. So descriptor 2 is the null device while it
    starts; nothing is drawn yet, so nothing is lost."""
    try:
        saved = os.dup(2)
    except OSError:
        return
    try:
        quiet = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(quiet, 2)
            _start_resource_tracker()
        finally:
            os.close(quiet)
            os.dup2(saved, 2)
    except Exception:  # no tracker now: the first worker process starts one, as multiprocessing always does
        pass
    finally:
        os.close(saved)


class Offload:
    """The worker processes of one workbench (started on first use, at most one per kind of job)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        self._generations: Any = None  # a shared array of ints, one per kind (read by the workers)
        self._closed = False

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            import multiprocessing

            context = multiprocessing.get_context("spawn")
            _start_resource_tracker()
            self._generations = context.Array("q", len(KINDS), lock=False)
            self._pool = ProcessPoolExecutor(max_workers=len(KINDS), mp_context=context,
                                             initializer=_start_worker, initargs=(self._generations,))
        return self._pool

    def run(self, kind: str, job: Callable[..., Any], *args: Any, cancelled: Callable[[], bool]) -> Any:
        """Run ``job(*args, generation)`` in a worker process and wait for it (from a worker thread: the wait
        holds no interpreter); None when ``cancelled`` says so first, or once closed (the job is told to stop).
        Raises what the job raised."""
        index = KINDS[kind]
        with self._lock:
            if self._closed:
                return None
            try:
                pool = self._executor()
                self._generations[index] += 1
                generation = self._generations[index]
                future: Future[Any] = pool.submit(job, *args, generation)
            except Exception as exc:  # no process to be had here (a sandbox, a frozen build, no /dev/shm)
                raise Unavailable(f"no worker process: {type(exc).__name__}: {exc}") from exc
        while not future.done():
            if cancelled() or self._closed:
                future.cancel()
                with self._lock:
                    if self._generations[index] == generation:  # no newer job has told it to stop: do
                        self._generations[index] += 1
                return None
            wait([future], timeout=0.05)
        result = future.result()
        return None if cancelled() else result  # a result that came too late is dropped here already

    def close(self) -> None:
        """Stop the worker processes (running jobs are told to stop; nothing waits for them)."""
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
            if self._generations is not None:
                for index in range(len(KINDS)):
                    self._generations[index] += 1
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

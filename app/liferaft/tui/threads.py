"""Where the workbench's thread workers run: daemon threads that nothing waits for when the app closes.

Textual runs a thread worker in the event loop's default executor, a ``ThreadPoolExecutor`` that asyncio shuts
down with ``wait=True`` when the app's loop ends and whose threads Python joins again before it exits: ctrl+q
then waited for a scan or an upload check of a large project to finish (seconds, up to tens of seconds). Work
cancelled by closing has nothing to report, so here each worker gets a daemon thread of its own, and closing
waits for none of them."""

from __future__ import annotations

import contextvars
import queue
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from liferaft.core.pace import give_way


class DaemonThreads(ThreadPoolExecutor):
    """An executor that runs each call in a daemon thread: an idle one if there is one, else a new one (never a
    queue behind a busy one); ``shutdown`` never waits. Threads are kept for the next call: a new thread per call
    left the C library a cached stack for each (tens of MB resident after a burst of rescans). (A
    ``ThreadPoolExecutor`` only because asyncio takes no other kind as a loop's default; none of its pool threads
    is ever started.)"""

    def __init__(self, name: str = "liferaft-worker") -> None:
        super().__init__(max_workers=1, thread_name_prefix=name)
        self._name = name
        self._count = 0
        self._closed = False
        self._idle = 0
        self._guard = threading.Lock()
        self._jobs: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:  # type: ignore[override]
        if self._closed:
            raise RuntimeError("cannot schedule new work after shutdown")
        future: Future[Any] = Future()

        def run() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                # In a context of its own, as in a new thread: what the call sets there is let go when it
                # returns. Textual's thread worker sets its "active worker" in the thread's context; a thread
                # kept for the next call would keep that Worker, its arguments (a 50,000-file inventory after
                # a burst) with it, until it ran another one.
                result = contextvars.Context().run(fn, *args, **kwargs)
            except BaseException as exc:  # handed to whoever awaits the future
                future.set_exception(exc)
            else:
                future.set_result(result)

        with self._guard:
            if self._idle:
                self._idle -= 1
                self._jobs.put(run)
                return future
            self._count += 1
            number = self._count
        # The first call is handed over in a list the thread empties: the Thread object keeps its arguments for
        # as long as it lives, and with them the call's (an inventory of 50,000 files, say).
        threading.Thread(target=self._serve, args=([run],), name=f"{self._name}-{number}", daemon=True).start()
        return future

    def _serve(self, first: list[Callable[[], None]]) -> None:
        job: Callable[[], None] | None = first.pop()
        while job is not None:
            job()
            job = None  # its frames and result are not kept while the thread waits
            with self._guard:
                if self._closed:
                    return
                self._idle += 1
            job = self._jobs.get()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._guard:
            self._closed = True  # running calls go on (cancelled workers stop at their next check); none is awaited
            idle, self._idle = self._idle, 0
        for _ in range(idle):
            self._jobs.put(None)


#: A worker's turn between two pauses (seconds), and its pause: how long the UI thread waits at most for the
#: interpreter while a long check runs (a pure-Python loop only gives it up every 5 ms when asked, and the UI
#: thread asks again after each of its many short waits: for a key, that added up to a second).
SLICE_SECONDS = 0.01
PAUSE_SECONDS = 0.001


def pacing(is_cancelled: Callable[[], bool]) -> Callable[[], bool]:
    """A cancellation check for a long loop in a worker thread that also lets the UI thread in: after each slice
    of work it sleeps a moment (the interpreter is free meanwhile), then says whether the work is cancelled."""
    clock = time.perf_counter
    turn = [clock() + SLICE_SECONDS]

    def cancelled() -> bool:
        if clock() >= turn[0]:
            time.sleep(PAUSE_SECONDS)
            give_way()  # and longer while a key's screen is being drawn
            turn[0] = clock() + SLICE_SECONDS
        return is_cancelled()

    return cancelled


def lower_this_thread(niceness: int = 10) -> None:
    """Let the scheduler put the calling thread ``niceness`` steps below the UI's (Linux gives each thread its
    own niceness): for work nothing on screen waits for, so that on a machine with few cores it never takes the
    core a key needs. Does nothing where threads share one priority or it is not allowed."""
    import contextlib
    import os

    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(AttributeError, OSError):
        thread = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, thread, min(19, os.getpriority(os.PRIO_PROCESS, thread) + niceness))

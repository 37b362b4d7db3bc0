"""Giving memory back to the system once a large burst of work is over.

A long-running process (the workbench) that read 50,000 files and then saw them removed again has freed the
objects, but the C allocator keeps the pages it got for them: glibc's ``malloc`` returns memory to the system
only from the top of its heaps, unless asked (``malloc_trim``). :func:`release_memory` is that request, made
after the references are gone; where there is no glibc (macOS, Windows, musl) it only collects cycles.

``malloc_trim`` alone misses one place: the free top of each thread's arena (the memory a worker thread used,
such as a scan of 50,000 files). glibc gives that back only when a large block (64 KiB or more) is freed in
that arena, and only if the free top is larger than its trim threshold, which it raises (up to 64 MiB) with
the largest block ever freed. So the threshold is set back to glibc's default of 128 KiB, and a few short
threads, all alive at once so that they spread over the arenas, each free one such block.
"""

from __future__ import annotations

import contextlib
import gc
import sys
import threading
from dataclasses import dataclass
from typing import Any

#: ``mallopt``'s parameter numbers (glibc's malloc.h): the largest "fast" block size, and the trim threshold.
_M_MXFAST = 1
_M_TRIM_THRESHOLD = -1
#: glibc's own default trim threshold, which it leaves once large blocks have been freed.
TRIM_THRESHOLD = 128 * 1024
#: A block this large, freed in an arena, makes glibc trim that arena's free top (64 KiB or more; below the
#: smallest threshold at which glibc would map it on its own instead of taking it from the arena).
_POKE_BYTES = 96 * 1024
#: Threads alive at once to reach the thread arenas (the workbench limits them to two; glibc's own limit
#: is eight per core, and those beyond the threads' reach keep their free top).
_POKE_THREADS = 4

_UNSET = object()
_allocator: object = _UNSET


@dataclass(frozen=True)
class _Glibc:
    malloc_trim: Any
    mallopt: Any
    malloc: Any
    free: Any


def _glibc() -> _Glibc | None:
    """glibc's allocator functions, or None where the C library is another one."""
    global _allocator
    if _allocator is _UNSET:
        _allocator = None
        if sys.platform.startswith("linux"):
            try:
                import ctypes

                library = ctypes.CDLL(None)  # the C library this process already uses
                functions = _Glibc(library.malloc_trim, library.mallopt, library.malloc, library.free)
            except (OSError, AttributeError):  # not glibc (musl has no malloc_trim)
                pass
            else:
                functions.malloc_trim.argtypes = [ctypes.c_size_t]
                functions.malloc_trim.restype = ctypes.c_int
                functions.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
                functions.mallopt.restype = ctypes.c_int
                functions.malloc.argtypes = [ctypes.c_size_t]
                functions.malloc.restype = ctypes.c_void_p
                functions.free.argtypes = [ctypes.c_void_p]
                functions.free.restype = None
                _allocator = functions
    return _allocator  # type: ignore[return-value]


def _trim_thread_arenas(glibc: _Glibc) -> None:
    """Free one large block in each arena the threads reach, so that glibc trims the arena's free top."""
    together = threading.Barrier(_POKE_THREADS)

    def poke() -> None:
        with contextlib.suppress(threading.BrokenBarrierError):
            together.wait(timeout=2.0)  # all alive at once: each takes an arena of its own where it can
        block = glibc.malloc(_POKE_BYTES)
        if block:
            glibc.free(block)

    threads = [threading.Thread(target=poke, name="liferaft-trim", daemon=True) for _ in range(_POKE_THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=5.0)


def keep_heap_compact() -> bool:
    """Ask glibc to merge every freed block with its free neighbours at once, for a process that is about to
    see bursts of short-lived objects among long-lived ones (the workbench, once it watches a folder).

    By default glibc keeps freed blocks of up to 128 bytes apart ("fast bins") for reuse, unmerged. Through a
    burst of 50,000 files they pile up among the objects that live on, and the objects made afterwards are
    scattered through them, each holding a page the release cannot give back. With fast bins off, the burst's
    memory merges as it is freed, and what is made afterwards is packed; the cost is a little time per freed
    block. True when the allocator took the setting; False where it is not glibc."""
    glibc = _glibc()
    if glibc is None:
        return False
    try:
        return bool(glibc.mallopt(_M_MXFAST, 0)) and bool(glibc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    except (OSError, ValueError):
        return False


def release_memory() -> bool:
    """Collect unreachable cycles, then ask the C allocator to hand its free pages back to the system (glibc's
    ``malloc_trim(0)``, and the free tops of the thread arenas; the calls release the interpreter lock while
    they work). True when the allocator was asked; False where it cannot be (not glibc), or when asking
    failed."""
    gc.collect()
    glibc = _glibc()
    if glibc is None:
        return False
    try:
        glibc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
        _trim_thread_arenas(glibc)
        glibc.malloc_trim(0)
    except (OSError, ValueError, RuntimeError):  # ctypes' or threads' failures: nothing is broken
        return False
    return True

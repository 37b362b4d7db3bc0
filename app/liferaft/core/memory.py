"""Giving memory back to the system once a large burst of work is over.

A long-running process (the workbench) that read 50,000 files and then saw them removed again has freed the
objects, but the C allocator keeps the pages it got for them: glibc's ``malloc`` returns memory to the system
only from the top of its heaps, unless asked (``malloc_trim``). :func:`release_memory` is that request, made
after the references are gone; where there is no glibc (macOS, Windows, musl) it only collects cycles.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable

_UNSET = object()
_trim: object = _UNSET


def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None where the C library has none."""
    global _trim
    if _trim is _UNSET:
        _trim = None
        if sys.platform.startswith("linux"):
            try:
                import ctypes

                function = ctypes.CDLL(None).malloc_trim  # the C library this process already uses
            except (OSError, AttributeError):  # not glibc (musl has no malloc_trim)
                pass
            else:
                function.argtypes = [ctypes.c_size_t]
                function.restype = ctypes.c_int
                _trim = function
    return _trim  # type: ignore[return-value]


def release_memory() -> bool:
    """Collect unreachable cycles, then ask the C allocator to hand its free pages back to the system (glibc's
    ``malloc_trim(0)``: the call releases the interpreter lock while it works). True when the allocator was
    asked; False where it cannot be (not glibc), or when asking failed."""
    gc.collect()
    trim = _malloc_trim()
    if trim is None:
        return False
    try:
        trim(0)
    except (OSError, ValueError):  # ctypes' own failures: nothing was released, nothing is broken
        return False
    return True

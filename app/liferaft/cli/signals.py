"""Stop signals on the command line: SIGTERM and SIGHUP stop a command the way Ctrl-C does, so every clean-up
runs; a signal that arrives while the main thread holds a lock is handled a moment later, once it is out.

The set adapts to the system: SIGHUP (and SIGALRM, used to handle a signal a moment later) exist only on POSIX;
Windows has SIGBREAK (Ctrl-Break) instead, which stops a command the same way. A signal the system lacks is
skipped, and one that arrives inside lock code without SIGALRM is handled at once."""

from __future__ import annotations

import sys

# Typing-only imports; `typing` itself costs ~2 ms at start-up, which `liferaft scan` is measured on.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class Interrupted(KeyboardInterrupt):
    """SIGTERM, SIGHUP or SIGBREAK (a `kill`, a closed terminal, Ctrl-Break on Windows): handled as Ctrl-C is,
    so every clean-up runs."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


#: Modules whose locks an exception raised half-way through would leave held (a thread pool then hangs for good),
#: and the making of a temporary file (which records it for the clean-up before it returns): a stop signal that
#: arrives while the main thread is in them is handled a moment later, once it is out.
_LOCK_MODULES = ("threading", "queue", "concurrent.futures._base", "concurrent.futures.thread", "tempfile")
_HELD_FUNCTIONS = frozenset({"new_temp_file"})
#: The stop signal waiting for the main thread to leave such code, and the SIGALRM handler it replaced.
_deferred: dict[str, Any] = {}


def _in_lock_code(frame: Any) -> bool:
    files = {getattr(sys.modules.get(name), "__file__", None) for name in _LOCK_MODULES}
    storage_file = getattr(sys.modules.get("liferaft.core.storage"), "__file__", None)
    while frame is not None:
        code = frame.f_code
        if code.co_filename in files or (code.co_filename == storage_file and code.co_name in _HELD_FUNCTIONS):
            return True
        frame = frame.f_back
    return False


def _on_signal(signum: int, frame: Any) -> None:
    import signal

    if _in_lock_code(frame) and hasattr(signal, "setitimer"):
        _deferred["signum"] = signum
        if "alarm" not in _deferred:
            _deferred["alarm"] = signal.signal(signal.SIGALRM, _on_retry)
        signal.setitimer(signal.ITIMER_REAL, 0.02)  # a timer, not a thread: a thread's start takes a lock too
        return
    _deferred.pop("signum", None)
    if signum == signal.SIGINT:  # Ctrl-C: pressed again, it runs the clean-up once more (see prepare._shielded)
        raise KeyboardInterrupt
    import contextlib

    for name in _STOP_SIGNALS:  # a second one must not cut the clean-up short
        number = getattr(signal, name, None)
        if number is not None:  # SIGHUP is not on Windows, SIGBREAK only there
            with contextlib.suppress(OSError, ValueError):
                signal.signal(number, signal.SIG_IGN)
    raise Interrupted(signum)


def _on_retry(_signum: int, frame: Any) -> None:
    if "signum" in _deferred:
        _on_signal(_deferred["signum"], frame)


#: The signals that stop a command the way Ctrl-C does (SIGHUP: the terminal was closed; POSIX only. SIGBREAK:
#: Ctrl-Break; Windows only). Those the system does not have are skipped.
_STOP_SIGNALS = ("SIGTERM", "SIGHUP", "SIGBREAK")


def stop_signal_names() -> tuple[str, ...]:
    """The stop signals this system has (Ctrl-C's SIGINT first)."""
    import signal

    return tuple(name for name in ("SIGINT", *_STOP_SIGNALS) if getattr(signal, name, None) is not None)


def handle_stop_signals() -> dict[int, Any]:
    """Make SIGTERM and SIGHUP (SIGBREAK on Windows) raise :class:`Interrupted` in the main thread, and Ctrl-C its
    KeyboardInterrupt, each only once the main thread is out of code that holds a lock;
    returns the handlers replaced."""
    import signal
    import threading

    previous: dict[int, Any] = {}
    if threading.current_thread() is not threading.main_thread():
        return previous
    for name in stop_signal_names():
        number = getattr(signal, name)
        if name == "SIGINT" and signal.getsignal(number) is not signal.default_int_handler:
            continue  # Ctrl-C ignored (a background job) or handled by whoever runs us: left as it is
        try:
            previous[number] = signal.signal(number, _on_signal)
        except (OSError, ValueError):
            continue
    return previous


def restore_signals(previous: dict[int, Any]) -> None:
    import contextlib
    import signal

    if "alarm" in _deferred:
        with contextlib.suppress(OSError, ValueError, TypeError):
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, _deferred["alarm"] if _deferred["alarm"] is not None else signal.SIG_DFL)
    _deferred.clear()
    for number, handler in previous.items():
        with contextlib.suppress(OSError, ValueError, TypeError):
            signal.signal(number, handler if handler is not None else signal.SIG_DFL)


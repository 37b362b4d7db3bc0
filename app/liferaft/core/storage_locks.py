"""The locks on Liferaft's own files (:func:`locked`): ``flock``, else ``msvcrt.locking``, else a lock file whose
holder, once gone, is found out (:func:`_stale`) and its file removed.

Split from :mod:`liferaft.core.storage`, which re-exports these names.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from liferaft.core.storage_read import read_small_file

# Typing-only imports; `typing` itself costs ~2 ms at start-up, which `liferaft scan` is measured on.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def _pause(seconds: float) -> None:
    """:func:`liferaft.core.storage._pause`, looked up there at each call: the one place to wait, which the tests
    make instant."""
    from liferaft.core import storage  # not at the top: storage imports this module

    storage._pause(seconds)


#: A lock file (the protocol used where neither flock nor msvcrt.locking works) older than this is taken to
#: be left by a holder that is gone even when its process cannot be checked: every hold is a short
#: read-modify-write of a small file.
STALE_LOCK_SECONDS = 120.0
#: The longest pause between two tries to take a lock that is held.
LOCK_PAUSE_MAX = 0.05
#: Errors of flock that mean "no locks on this filesystem" (some network shares): the lock file is used.
_NO_FLOCK = frozenset(getattr(errno, name) for name in ("ENOLCK", "EOPNOTSUPP", "ENOTSUP", "EINVAL", "ENOSYS")
                      if hasattr(errno, name))


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold the exclusive lock for one of Liferaft's own files while the block runs.

    Every read-modify-write of such a file (state, checkpoints, checklist...) reads it again inside this block,
    so two processes, or two threads, never lose each other's change. Not re-entrant: never nest it for the
    same file. Raises OSError when the folder or the lock file cannot be created. The lock is, in this order:

    * ``flock`` on a file beside ``path`` (``state.json`` -> ``state.lock``), where there is fcntl (Linux, macOS):
      held by the open file, so two threads of one process exclude each other too, and it goes with the
      process if that dies;
    * ``msvcrt.locking`` on the first byte of that file on Windows: held by the open handle, released by
      Windows when the process dies;
    * else (no fcntl, or a filesystem where flock fails), a lock file ``state.lock.held`` created with
      O_CREAT|O_EXCL and holding the holder's pid and host: see :func:`_lock_file`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock_path = path.with_suffix(".lock")
    try:
        import fcntl
    except ImportError:
        fcntl = None  # type: ignore[assignment]
    if fcntl is not None:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
            except OSError as exc:
                if exc.errno not in _NO_FLOCK:
                    raise
            else:
                yield
                return
        finally:
            os.close(fd)  # closing the last descriptor releases the lock
    elif sys.platform == "win32":
        try:
            import msvcrt
        except ImportError:
            pass
        else:
            with _msvcrt_lock(msvcrt, lock_path):
                yield
            return
    with _lock_file(lock_path.with_name(lock_path.name + ".held")):
        yield


@contextlib.contextmanager
def _msvcrt_lock(msvcrt: Any, lock_path: Path) -> Iterator[None]:
    """Windows: lock the first byte of ``lock_path`` (non-blocking tries with a short back-off: the blocking
    mode gives up after ten seconds)."""
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o644)
    try:
        pause = 0.001
        while True:
            os.lseek(fd, 0, os.SEEK_SET)
            try:
                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
                break
            except OSError:  # held by another handle
                _pause(pause)
                pause = min(pause * 2, LOCK_PAUSE_MAX)
        try:
            yield
        finally:
            os.lseek(fd, 0, os.SEEK_SET)
            with contextlib.suppress(OSError):
                msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
    finally:
        os.close(fd)


def _host() -> str:
    import socket

    try:
        return socket.gethostname()
    except OSError:
        return ""


def _process_gone(pid: int) -> bool:
    """Whether no process ``pid`` runs on this machine (False when that cannot be told: on Windows
    ``os.kill(pid, 0)`` would end the process, so it is never called there)."""
    if sys.platform == "win32" or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # alive but not ours (EPERM), or cannot tell
        return False
    return False


def _stale(held: Path, content: bytes, now: float) -> bool:
    """Whether the lock file ``held`` (which read ``content``) was left by a holder that is gone: its process
    (on this host) no longer runs, or the file is older than :data:`STALE_LOCK_SECONDS`."""
    try:
        age = now - os.stat(held).st_mtime
    except OSError:
        return False
    if age > STALE_LOCK_SECONDS:
        return True
    fields = content.decode("utf-8", "replace").split("\n")
    if len(fields) >= 2 and fields[1] == _host():
        try:
            return _process_gone(int(fields[0]))
        except ValueError:
            return False
    # Being written (empty for a moment) or another host's: only its age tells.
    return False


@contextlib.contextmanager
def _lock_file(held: Path) -> Iterator[None]:
    """The lock-file protocol: ``held`` exists while the lock is held; it is created with O_CREAT|O_EXCL (which
    only one process or thread wins) and holds ``pid\nhost\ntoken``. A waiter that finds it left by a holder
    that is gone (:func:`_stale`) removes it, under a second, short-lived lock file (``….break``) so that two
    waiters never both remove it, and only if it still holds what was found stale. On release the file is
    removed only if it is still this holder's own."""
    import uuid

    token = uuid.uuid4().hex
    mine = f"{os.getpid()}\n{_host()}\n{token}\n".encode()
    pause = 0.001
    while True:
        try:
            fd = os.open(held, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o644)
        except FileExistsError:
            _break_if_stale(held)
            _pause(pause)
            pause = min(pause * 2, LOCK_PAUSE_MAX)
            continue
        try:
            os.write(fd, mine)
        finally:
            os.close(fd)
        break
    try:
        yield
    finally:
        try:
            still_mine = read_small_file(held, 4096) == mine
        except OSError:
            still_mine = False
        if still_mine:
            with contextlib.suppress(OSError):
                os.unlink(held)


def _break_if_stale(held: Path) -> None:
    try:
        content = read_small_file(held, 4096)
    except OSError:
        return  # released meanwhile, or unreadable: try again
    if not _stale(held, content, time.time()):
        return
    breaker = held.with_name(held.name + ".break")
    try:
        fd = os.open(breaker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        with contextlib.suppress(OSError):  # a breaker that died half-way: its file goes after a while
            if time.time() - os.stat(breaker).st_mtime > STALE_LOCK_SECONDS:
                os.unlink(breaker)
        return
    except OSError:
        return
    os.close(fd)
    try:
        with contextlib.suppress(OSError):
            if read_small_file(held, 4096) == content:  # still the one found stale, not a new holder's
                os.unlink(held)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(breaker)

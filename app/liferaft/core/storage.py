"""Writing files safely: every file Liferaft creates is written atomically.

A plain ``open(path, "w")`` killed half-way leaves a truncated file. Here the bytes go to a temporary
file in the same folder, are flushed and fsynced, and only then replace the target with ``os.replace``
(atomic on POSIX and Windows); the folder is fsynced so the rename itself survives a crash. A crash
leaves at most a stray temporary file, which :func:`sweep_temp_files` removes on the next start.

Portability (see docs/platforms.md): where folders cannot be opened (Windows) they are not fsynced; a replace
that Windows refuses because another program holds the file open is tried again a few times
(:func:`replace_file`), then refused naming the programs that hold it (:func:`holders`, Windows' Restart
Manager), and a read-only target is said to be read-only; the locks are ``flock``, else ``msvcrt.locking``, else
a lock file (:func:`locked`); :func:`read_at` reads at an offset without ``os.pread``.
"""

from __future__ import annotations

import _thread
import contextlib
import errno
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

# Typing-only imports; `typing` itself costs ~2 ms at start-up, which `liferaft scan` is measured on.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, BinaryIO, TypeVar

    T = TypeVar("T")

#: Prefix of the temporary files this module creates; nothing else is ever swept.
TEMP_PREFIX = ".liferaft-tmp-"


def _new_file_mode() -> int:
    """The mode a plain ``open(path, "w")`` would give a new file (mkstemp always makes it 0600)."""
    try:  # Linux reports the umask without changing it; os.umask() can only read it by setting it.
        with open("/proc/self/status", encoding="ascii") as status:
            line = next(line for line in status if line.startswith("Umask:"))
        umask = int(line.split()[1], 8)
    except (OSError, StopIteration, ValueError, IndexError):
        umask = os.umask(0o022)
        os.umask(umask)
    return 0o666 & ~umask


def _chmod_fd(fd: int, mode: int) -> None:
    """Give the open file ``fd`` the mode ``mode``, where modes can be set by descriptor (POSIX; not Windows
    before Python 3.13, where a mode only says read-only or not and the new file is writable already)."""
    if os.chmod in os.supports_fd:
        os.chmod(fd, mode)


def _fsync_dir(folder: Path) -> None:
    if sys.platform == "win32":  # folders cannot be opened there; the rename is still atomic
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # a folder that cannot be opened (a network share, say): nothing to fsync
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


#: Windows' MAX_PATH: a full path must stay under this many characters unless long paths are turned on.
WINDOWS_MAX_PATH = 260
#: The random part mkstemp adds after TEMP_PREFIX.
_TEMP_RANDOM = 8


class PathTooLong(OSError):
    """Windows would refuse the path (over MAX_PATH, long paths off); the message says what to do."""

    def __str__(self) -> str:
        return self.strerror or super().__str__()


_long_paths: list[bool] = []


def windows_long_paths() -> bool:
    """Whether Windows takes paths over MAX_PATH here (``LongPathsEnabled`` in the registry; Python itself is
    built to use them then). Read once; False where it cannot be read."""
    if not _long_paths:
        enabled = False
        try:
            import winreg  # type: ignore[import-not-found,unused-ignore]

            with winreg.OpenKey(winreg.HKEY_LOCAL_MACHINE,  # type: ignore[attr-defined,unused-ignore]
                                r"SYSTEM\CurrentControlSet\Control\FileSystem") as key:
                enabled = winreg.QueryValueEx(key, "LongPathsEnabled")[0] == 1  # type: ignore[attr-defined,unused-ignore]
        except (ImportError, OSError):
            pass
        _long_paths.append(enabled)
    return _long_paths[0]


def check_path_length(path: Path | str, *, temp_in_folder: bool = True) -> None:
    """On Windows without long paths, refuse a path Windows would refuse, before anything is written: the
    file's own full path, and (``temp_in_folder``) the temporary file written beside it first, whose name may
    be the longer. Raises :class:`PathTooLong` with one line saying what to do; elsewhere does nothing."""
    if sys.platform != "win32":
        return
    full = os.path.abspath(path)
    temp = len(os.path.join(os.path.dirname(full), TEMP_PREFIX)) + _TEMP_RANDOM if temp_in_folder else 0
    if max(len(full), temp) < WINDOWS_MAX_PATH or windows_long_paths():
        return
    size = f"{len(full)} characters" if len(full) >= temp else (
        f"{len(full)} characters, and {temp} for the temporary file written beside it first")
    raise PathTooLong(errno.ENAMETOOLONG, f"the path {full} is too long for Windows ({size}; "
                      f"{WINDOWS_MAX_PATH - 1} at most while long paths are off): use a shorter name or a folder "
                      "nearer the top of the drive, or turn long paths on (LongPathsEnabled)")


@contextlib.contextmanager
def atomic_writer(path: Path, *, overwrite: bool = True) -> Iterator[BinaryIO]:
    """Yield a binary file whose content replaces ``path`` only if the block finishes.

    With ``overwrite=False`` an existing target is never replaced: :class:`FileExistsError` is raised
    before anything is written, and again at the end if the target appeared meanwhile.
    """
    path = Path(path)
    check_path_length(path)
    if not overwrite and os.path.lexists(path):
        raise FileExistsError(path)
    import tempfile  # deferred: most commands never write

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=path.parent)
    tmp = Path(tmp_name)
    try:
        try:  # keep the mode of the file being replaced; a new file gets the usual one
            mode = os.stat(path).st_mode & 0o7777
        except OSError:
            mode = _new_file_mode()
        _chmod_fd(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        if overwrite:
            replace_file(tmp, path)
        else:
            publish(tmp, path)  # never over a file that appeared meanwhile
        _fsync_dir(path.parent)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def new_temp_file(folder: Path, made: list[tuple[Path, tuple[int, int]]] | None = None) -> tuple[int, Path]:
    """A new, empty temporary file in ``folder`` (created if missing), open for writing: its descriptor and path.

    For several files written at once and put in place together (see :func:`publish`): it has the mode a new
    file gets and this module's prefix, so one left behind by a crash is swept like any other. Its path and
    identity (device, inode) are added to ``made`` before this returns, so a caller that takes back what it
    made on Ctrl-C never misses one (the command line holds a stop signal until this function has returned).
    """
    import tempfile

    folder = Path(folder)
    check_path_length(folder / TEMP_PREFIX, temp_in_folder=True)
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=folder)
    try:
        _chmod_fd(fd, _new_file_mode())
        if made is not None:
            st = os.fstat(fd)
            made.append((Path(name), (st.st_dev, st.st_ino)))
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise
    return fd, Path(name)


def publish(tmp: Path, path: Path) -> None:
    """Give the finished temporary file ``tmp`` (already flushed and fsynced) the name ``path``.

    Never over an existing file: :class:`FileExistsError` then, and ``tmp`` is left for the caller to remove.
    The folder is not fsynced here; call :func:`fsync_dir` once the last file is in place.
    """
    check_path_length(path, temp_in_folder=False)
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError:  # filesystems without hard links
        if os.path.lexists(path):
            raise FileExistsError(path) from None
        replace_file(tmp, path)
    else:
        os.unlink(tmp)


#: How often a replace that Windows refuses (the file is held open by another program: an editor, a viewer, an
#: antivirus scanner, a sync client) is tried, and the pause before the first retry (doubled each time).
REPLACE_TRIES = 6
REPLACE_FIRST_PAUSE = 0.05


def _pause(seconds: float) -> None:  # one place to wait, so the tests can make it instant
    time.sleep(seconds)


class FileHeld(PermissionError):
    """Windows refused to replace a file because another program holds it open; the message names the file, and
    the programs holding it where Windows says (:func:`holders`)."""

    def __str__(self) -> str:
        return self.strerror or super().__str__()


class FileReadOnly(PermissionError):
    """Windows refused to replace a file because it is read-only (trying again cannot help); the message says so."""

    def __str__(self) -> str:
        return self.strerror or super().__str__()


def _restart_manager(path: str) -> list[str]:
    """The names of the programs that hold ``path`` open, as Windows' Restart Manager lists them (rstrtmgr.dll:
    a session, the file registered in it, its list of processes). Raises OSError (or anything ctypes raises)
    when it cannot be asked; the one place that talks to Windows, so that tests can replace it."""
    import ctypes
    from ctypes import wintypes

    class UniqueProcess(ctypes.Structure):
        _fields_ = [("dwProcessId", wintypes.DWORD), ("ProcessStartTime", wintypes.FILETIME)]

    class ProcessInfo(ctypes.Structure):
        _fields_ = [("Process", UniqueProcess), ("strAppName", wintypes.WCHAR * 256),
                    ("strServiceShortName", wintypes.WCHAR * 64), ("ApplicationType", ctypes.c_int),
                    ("AppStatus", wintypes.ULONG), ("TSSessionId", wintypes.DWORD), ("bRestartable", wintypes.BOOL)]

    rm = getattr(ctypes, "WinDLL")("rstrtmgr")  # noqa: B009 (WinDLL exists only on Windows)
    session = wintypes.DWORD()
    key = ctypes.create_unicode_buffer(33)  # CCH_RM_SESSION_KEY + 1
    if rm.RmStartSession(ctypes.byref(session), 0, key):
        raise OSError("RmStartSession failed")
    try:
        files = (wintypes.LPCWSTR * 1)(path)
        if rm.RmRegisterResources(session, 1, files, 0, None, 0, None):
            raise OSError("RmRegisterResources failed")
        infos = (ProcessInfo * 4)()
        needed, count, reasons = wintypes.UINT(), wintypes.UINT(len(infos)), wintypes.DWORD()
        for _ in range(3):  # ERROR_MORE_DATA (234): the list grew between the calls; ask again with room for it
            result = rm.RmGetList(session, ctypes.byref(needed), ctypes.byref(count), infos, ctypes.byref(reasons))
            if result != 234:
                break
            infos = (ProcessInfo * max(needed.value, 1))()
            count = wintypes.UINT(len(infos))
        if result:
            raise OSError(f"RmGetList failed ({result})")
        return [str(infos[i].strAppName) for i in range(count.value)]
    finally:
        rm.RmEndSession(session)


def holders(path: Path | str) -> list[str]:
    """The programs that hold ``path`` open (their names, each once, in Windows' order), or [] when that cannot
    be asked: not Windows, or the Restart Manager failed. Never raises."""
    if sys.platform != "win32":
        return []
    try:
        names = _restart_manager(os.path.abspath(path))
    except Exception:  # ctypes, rstrtmgr.dll or the session: the message then names only the file
        return []
    return list(dict.fromkeys(name.strip() for name in names if name and name.strip()))


def _read_only(path: Path | str) -> bool:
    """Whether ``path`` is read-only (Windows' read-only attribute where stat reports attributes, else no write
    permission in its mode); False when it cannot be told."""
    import stat

    try:
        st = os.stat(path)
    except OSError:
        return False
    attributes = getattr(st, "st_file_attributes", None)
    if attributes is not None:
        return bool(attributes & getattr(stat, "FILE_ATTRIBUTE_READONLY", 1))
    return not st.st_mode & stat.S_IWUSR


def retry_while_held(operation: Callable[[], T], *, on_refused: Callable[[PermissionError], None] | None = None) -> T:
    """``operation()``, tried again a few times with a short back-off (:data:`REPLACE_TRIES`, from
    :data:`REPLACE_FIRST_PAUSE`, doubled) while Windows refuses it with a PermissionError: another program (an
    editor, a viewer, an antivirus scanner, a sync client) holds a file it touches, and lets go in a moment.
    ``on_refused`` sees each refusal first and may raise instead (a refusal trying again cannot help). The last
    refusal is raised; elsewhere a PermissionError is raised at once (there it means what it says)."""
    pause = REPLACE_FIRST_PAUSE
    for attempt in range(1, REPLACE_TRIES + 1):
        try:
            return operation()
        except PermissionError as exc:
            if sys.platform != "win32":
                raise
            if on_refused is not None:
                on_refused(exc)
            if attempt == REPLACE_TRIES:
                raise
        _pause(pause)
        pause *= 2
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


def replace_file(src: Path | str, dst: Path | str) -> None:
    """``os.replace(src, dst)``, tried again while Windows refuses it (:func:`retry_while_held`); after the last
    try, :class:`FileHeld` says in one line which file is held, and by which programs where Windows' Restart
    Manager says (:func:`holders`). A read-only target is refused at once with :class:`FileReadOnly` (no other
    program is to blame). Elsewhere a PermissionError is raised at once (there it means what it says)."""

    def read_only_first(exc: PermissionError) -> None:
        if _read_only(dst):
            raise FileReadOnly(exc.errno, f"{dst} is read-only (its Read-only attribute is set): clear it in "
                               "the file's properties and try again") from None

    try:
        retry_while_held(lambda: os.replace(src, dst), on_refused=read_only_first)
    except PermissionError as exc:
        if sys.platform != "win32" or isinstance(exc, FileReadOnly):
            raise
        held = Path(dst) if os.path.lexists(dst) else Path(src)
        programs = holders(held)
        if programs:
            raise FileHeld(exc.errno, f"{held} is held open by {', '.join(programs)}: close it and try "
                           "again") from None
        raise FileHeld(exc.errno, f"{held} is held open by another program (an editor, a viewer, an "
                       "antivirus or sync tool?): close it and try again") from None


def remove_file(path: Path | str) -> bool:
    """Remove ``path`` (a file Liferaft made); True when it is gone, False when it is still there. On Windows a
    file another program holds open (a viewer, an antivirus scanner, a sync client) cannot be removed until it
    lets go: that is tried again (:func:`retry_while_held`). Never raises."""
    try:
        retry_while_held(lambda: os.unlink(path))
    except FileNotFoundError:
        return True
    except OSError:
        return not os.path.lexists(path)
    return True


def fsync_dir(folder: Path) -> None:
    """Make the names just created in ``folder`` survive a crash (a no-op where folders cannot be opened)."""
    _fsync_dir(Path(folder))


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


_seek_lock = _thread.allocate_lock()  # _thread is built in: nothing to load at start-up


def read_at(fd: int, size: int, offset: int) -> bytes:
    """Up to ``size`` bytes of the open file ``fd`` from ``offset``, its position left where it was.

    ``os.pread`` where there is one; else (Windows) a seek and a read under one lock, the position put back
    after: safe between threads that all read ``fd`` this way, but a caller that also reads ``fd`` by its
    position meanwhile (a file object) must give this function a descriptor of its own."""
    pread = getattr(os, "pread", None)
    if pread is not None:
        data: bytes = pread(fd, size, offset)
        return data
    with _seek_lock:
        here = os.lseek(fd, 0, os.SEEK_CUR)
        try:
            os.lseek(fd, offset, os.SEEK_SET)
            return os.read(fd, size)
        finally:
            os.lseek(fd, here, os.SEEK_SET)


class NotARegularFile(OSError):
    """The path exists but is a pipe, socket, device or folder: Liferaft does not read it."""


def read_small_file(path: Path, limit: int = 4 * 1024 * 1024) -> bytes:
    """Read a small file of Liferaft's own (state, marker, ignore file) without ever blocking.

    A named pipe at that path would block a plain ``open``; here it is opened non-blocking, checked, and
    refused. Raises FileNotFoundError, :class:`NotARegularFile`, or another OSError; reads at most
    ``limit`` bytes.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        import stat

        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotARegularFile(f"{path} is not a regular file")
        chunks = []
        remaining = limit
        while remaining > 0:
            chunk = os.read(fd, min(remaining, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def write_bytes(path: Path, data: bytes, *, overwrite: bool = True) -> None:
    """Atomically write ``data`` to ``path``."""
    with atomic_writer(path, overwrite=overwrite) as handle:
        handle.write(data)


def write_text(path: Path, text: str, *, overwrite: bool = True, encoding: str = "utf-8") -> None:
    """Atomically write ``text`` to ``path`` (UTF-8 unless told otherwise)."""
    write_bytes(path, text.encode(encoding), overwrite=overwrite)


def sweep_temp_counts(folder: Path | str, cutoff: float) -> tuple[int, int, int, int]:
    """Remove this module's temporary files in ``folder`` last written before ``cutoff`` (epoch seconds).

    Returns ``(removed, bytes freed, remaining, bytes they hold)``; a file that cannot be removed counts as
    remaining. Never raises for an OSError; links are never followed."""
    removed = freed = remaining = held = 0
    try:
        with os.scandir(folder) as it:
            entries = [entry for entry in it if entry.name.startswith(TEMP_PREFIX)]
    except OSError:
        return 0, 0, 0, 0
    for entry in entries:
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if st.st_mtime < cutoff:
            try:
                os.unlink(entry.path)
            except FileNotFoundError:
                continue  # another Liferaft removed it first
            except OSError:
                pass
            else:
                removed += 1
                freed += st.st_size
                continue
        remaining += 1
        held += st.st_size
    return removed, freed, remaining, held


def sweep_temp_files(folder: Path, *, older_than: float = 60.0) -> int:
    """Remove temporary files left in ``folder`` by an interrupted atomic write.

    Only files with this module's prefix and older than ``older_than`` seconds are removed (a younger
    one may belong to a write in progress in another process). Returns how many were removed.
    """
    return sweep_temp_counts(folder, time.time() - older_than)[0]


def backup_name(path: Path, reason: str) -> Path:
    """A free name beside ``path`` to keep an unusable file of Liferaft's aside: ``NAME.REASON-STAMP[-N]``."""
    import time

    stamp = time.strftime("%Y%m%d-%H%M%S")
    candidate = path.with_name(f"{path.name}.{reason}-{stamp}")
    n = 1
    while os.path.lexists(candidate):
        n += 1
        candidate = path.with_name(f"{path.name}.{reason}-{stamp}-{n}")
    return candidate


def move_aside(path: Path, problem: Exception) -> Path:
    """Keep an unusable file of Liferaft's aside under :func:`backup_name` ("newer" when ``problem`` says the
    file is from a newer version, else "corrupt"); returns where it went. Raises OSError when it cannot."""
    backup = backup_name(path, "newer" if "newer" in str(problem) else "corrupt")
    replace_file(path, backup)
    return backup


class UnusableFile(Exception):
    """One of Liferaft's own files cannot be used; the message says why in a few words."""


def load_versioned_json(raw: bytes, newest: int, label: str = "version") -> tuple[dict[str, Any], int]:
    """The JSON object in ``raw`` and its ``version`` (kept in the object), for Liferaft's own versioned files.
    Raises :class:`UnusableFile` for text that is not JSON, not an object, without a valid version, or
    written by a newer Liferaft (the message then says "newer")."""
    import json

    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UnusableFile(f"it is not valid JSON ({exc.__class__.__name__})") from None
    if not isinstance(data, dict):
        raise UnusableFile("it does not hold a JSON object")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise UnusableFile("it has no valid version number")
    if version > newest:
        raise UnusableFile(f"a newer Liferaft wrote it ({label} {version}, this one reads {newest})")
    return data, version


def load_own_json(path: Path, version: int, label: str) -> tuple[dict[str, Any] | None, list[str], bool]:
    """Read one of Liferaft's versioned JSON files in ``.liferaft/``: (the object or None, warnings, writable).

    None with no warning when the file does not exist. A file that is not usable (not JSON, no version, a
    newer version) is moved aside under a backup name and reported; when it cannot be moved, ``writable`` is
    False (saving would destroy it). Never raises.
    """
    shown = f"{path.parent.name}/{path.name}"
    sweep_temp_files(path.parent)
    try:
        raw = read_small_file(path)
    except FileNotFoundError:
        return None, [], True
    except NotARegularFile:
        return None, [f"{shown} is not a regular file: the {label} will not be saved"], False
    except OSError as exc:
        return None, [f"cannot read {shown} ({exc.strerror or exc}): the {label} starts empty for now"], False
    try:
        data, _version = load_versioned_json(raw, version, f"{label} version")
    except UnusableFile as problem:
        try:
            backup = move_aside(path, problem)
        except OSError as exc:
            return None, [f"{shown} is unusable ({problem}) and could not be moved aside ({exc.strerror or exc}): "
                          f"the {label} will not be saved"], False
        return None, [f"{shown} was unusable ({problem}); it is kept as {path.parent.name}/{backup.name} and the "
                      f"{label} starts empty"], True
    return data, [], True


def save_own_json(path: Path, data: dict[str, Any]) -> None:
    """Write one of Liferaft's JSON files atomically (raises OSError when it cannot)."""
    write_text(path, json.dumps(data, indent=2, ensure_ascii=True) + "\n")

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

The locks live in :mod:`liferaft.core.storage_locks` and the reading in :mod:`liferaft.core.storage_read`; their
names are re-exported here.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from liferaft.core.storage_locks import LOCK_PAUSE_MAX as LOCK_PAUSE_MAX
from liferaft.core.storage_locks import STALE_LOCK_SECONDS as STALE_LOCK_SECONDS
from liferaft.core.storage_locks import _host as _host
from liferaft.core.storage_locks import locked as locked
from liferaft.core.storage_read import NotARegularFile as NotARegularFile
from liferaft.core.storage_read import UnusableFile as UnusableFile
from liferaft.core.storage_read import load_versioned_json as load_versioned_json
from liferaft.core.storage_read import read_at as read_at
from liferaft.core.storage_read import read_small_file as read_small_file

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

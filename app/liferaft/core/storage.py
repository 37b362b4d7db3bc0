"""Writing files safely: every file Liferaft creates is written atomically.

A plain ``open(path, "w")`` killed half-way leaves a truncated file. Here the bytes go to a temporary
file in the same folder, are flushed and fsynced, and only then replace the target with ``os.replace``
(atomic on POSIX and Windows); the folder is fsynced so the rename itself survives a crash. A crash
leaves at most a stray temporary file, which :func:`sweep_temp_files` removes on the next start.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

# Typing-only imports; `typing` itself costs ~2 ms at start-up, which `liferaft scan` is measured on.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, BinaryIO

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


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # Windows cannot open folders; the rename is still atomic there.
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_writer(path: Path, *, overwrite: bool = True) -> Iterator[BinaryIO]:
    """Yield a binary file whose content replaces ``path`` only if the block finishes.

    With ``overwrite=False`` an existing target is never replaced: :class:`FileExistsError` is raised
    before anything is written, and again at the end if the target appeared meanwhile.
    """
    path = Path(path)
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
        os.chmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        if overwrite:
            os.replace(tmp, path)
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
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=folder)
    try:
        os.chmod(fd, _new_file_mode())
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
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError:  # filesystems without hard links
        if os.path.lexists(path):
            raise FileExistsError(path) from None
        os.replace(tmp, path)
    else:
        os.unlink(tmp)


def fsync_dir(folder: Path) -> None:
    """Make the names just created in ``folder`` survive a crash (a no-op where folders cannot be opened)."""
    _fsync_dir(Path(folder))


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold the exclusive advisory lock for one of Liferaft's own files while the block runs.

    Every read-modify-write of such a file (state, checkpoints, checklist...) reads it again inside this block,
    so two processes, or two threads, never lose each other's change. The lock is ``flock`` on a file beside
    ``path`` (``state.json`` -> ``state.lock``); it is held by the open file, so two threads of one process
    exclude each other too, and it goes with the process if that dies. Not re-entrant: never nest it for the
    same file. On Windows there is no lock (the writes are still atomic). Raises OSError when the folder or
    the lock file cannot be created.
    """
    try:
        import fcntl
    except ImportError:  # Windows
        yield
        return
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the last descriptor releases the lock


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
    os.replace(path, backup)
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

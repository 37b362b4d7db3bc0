"""Live watching of a project folder, from a background thread.

Native file events (``watchfiles``, i.e. inotify/FSEvents/ReadDirectoryChangesW) are hints, not truth: a
deleted-and-recreated root yields one event and then silence, a folder moved in reports only itself, and an
overflowing queue drops events without an error. So the watcher keeps a *snapshot* of the tree, one
``(size, mtime_ns)`` per file, checks every hinted path against it with a ``stat``, and re-walks the whole tree
(a *reconcile*) at start, after a watcher error, when the root comes back, when a folder appears or vanishes,
when a burst is large enough that events may have been dropped, and on a slow heartbeat. Every
:class:`WatchEvent` therefore carries changes that are true against the previous event: a consumer may apply
them one by one, whatever ``reconciled`` says.

Where native events cannot be had (network and virtual filesystems, a watcher that cannot start, e.g. at the
inotify limit) or when asked to (``poll=True``), the watcher polls: it re-walks the tree on an interval that
grows with the time a walk takes, so polling a big project costs at most a few percent of one core.

The callback runs on the watcher's thread; a UI hands the event over to its own thread
(Textual: ``app.call_from_thread``). Nothing here raises into the caller: a failure becomes a reconcile and
a notice.
"""

from __future__ import annotations

import errno
import logging
import os
import stat
import sys
import threading
import time
from collections.abc import Callable, Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path

from liferaft.core.scan import JUNK_DIRS, JUNK_FILES, JUNK_PREFIXES, PARTIAL_SUFFIXES

logger = logging.getLogger(__name__)

#: Kinds of :class:`Change`.
ADDED = "added"
MODIFIED = "modified"
DELETED = "deleted"
DOWNLOADING = "downloading"
"""A partial download (``.crdownload``, ``.part``, ``.download``) appeared or grew; when it completes, the
partial name is reported ``deleted`` and the final name ``added``. Safari's partial download is a folder
(``X.csv.download/``): it is reported as one file, never what is inside it."""

#: Filesystem types where native events do not arrive (or only for local changes): watched by polling.
POLLING_FSTYPES = frozenset({
    "nfs", "nfs4", "cifs", "smb", "smb2", "smb3", "smbfs", "ncpfs", "afs", "coda", "ceph", "glusterfs",
    "9p", "v9fs", "drvfs", "virtiofs", "vboxsf", "vmhgfs", "prl_fs", "overlay", "aufs", "fakeowner",
    "fuse.sshfs", "fuse.rclone", "fuse.s3fs", "fuse.gcsfuse", "fuse.grpcfuse", "fuse.vmhgfs-fuse", "fuse.osxfs",
    "fuse.davfs", "fuse.smbnetfs", "fuse.goofys", "fuse.mergerfs",
})

#: Raw events in one batch above which the batch is not trusted to be complete (the kernel queue may have
#: overflowed): the tree is re-walked instead of stat-ing each path.
BURST_RECONCILE = 1000
#: How often (s) the tree is re-walked when nothing asked for it: the net under every backend's lost events.
HEARTBEAT_S = 30.0
#: How often (s) a missing root is looked for.
ROOT_CHECK_S = 0.5
#: Longest wait (ms) inside watchfiles before the loop checks the root, the heartbeat and the stop flag.
RUST_TIMEOUT_MS = 500
#: Polling interval bounds (s); between them the interval is 50 × the last walk's duration (≤ 2 % of a core).
POLL_MIN_S = 0.5
POLL_MAX_S = 5.0

Signature = tuple[int, int]


@dataclass(frozen=True)
class Change:
    """One changed file: ``kind`` is ``added``, ``modified``, ``deleted`` or ``downloading``; ``path`` is
    relative to the root, with ``/`` separators."""

    kind: str
    path: str


@dataclass(frozen=True)
class WatchEvent:
    """One coalesced burst of changes.

    ``reconciled`` is true when the changes come from a full walk of the tree (at start — then with no
    changes: it is the baseline, and a consumer re-reads the folder, since anything may have changed between
    its own scan and the watcher's start —, after an error, on a heartbeat, when the root is back, a folder was added
    or removed, or a burst may have overflowed the event queue). ``root_missing`` says the root is gone
    (deleted, renamed, unmounted); the watcher looks for it until it returns, then sends a reconciled event.
    ``polling`` says changes are found by polling. ``notice`` is one line for the user when something
    changed in how watching works.
    """

    changes: tuple[Change, ...]
    reconciled: bool
    root_missing: bool = False
    polling: bool = False
    notice: str = ""


def is_partial(name: str) -> bool:
    return name.endswith(PARTIAL_SUFFIXES)


def partial_folder(rel: str) -> str | None:
    """The partial download folder ``rel`` is inside (Safari downloads ``X.csv`` into a folder ``X.csv.download``
    holding the partial file and an ``Info.plist``), else None."""
    parts = rel.split("/")
    for end, part in enumerate(parts[:-1], start=1):
        if is_partial(part):
            return "/".join(parts[:end])
    return None


def folder_signature(path: str) -> Signature | None:
    """A partial download folder's signature: its files' total size and the latest change in it (None when it
    is gone or cannot be read)."""
    try:
        latest = os.stat(path, follow_symlinks=False).st_mtime_ns
        size = 0
        with os.scandir(path) as it:
            for entry in it:
                if entry.is_file(follow_symlinks=False):
                    st = entry.stat(follow_symlinks=False)
                    size += st.st_size
                    latest = max(latest, st.st_mtime_ns)
    except OSError:
        return None
    return (size, latest)


def download_size(path: Path | str) -> int:
    """How much of a partial download (a file, or Safari's folder) is there; raises OSError when it is gone."""
    if os.path.isdir(path):
        signature = folder_signature(os.fspath(path))
        if signature is None:
            raise FileNotFoundError(errno.ENOENT, "gone", os.fspath(path))
        return signature[0]
    return os.stat(path).st_size


def _skipped_name(name: str) -> bool:
    """Files no scan lists and no event reports: junk, lock files, atomic-write temp files."""
    return name in JUNK_FILES or name.startswith(JUNK_PREFIXES)


# --- filesystems ---------------------------------------------------------------------------------------


def _unescape_mount(field: str) -> str:
    """/proc/mounts escapes space, tab, newline and backslash as octal (``\\040``)."""
    if "\\" not in field:
        return field
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and field[i + 1:i + 4].isdigit() and len(field[i + 1:i + 4]) == 3:
            out.append(chr(int(field[i + 1:i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


#: Filesystem types on macOS and the BSDs (as ``mount`` names them) whose changes made elsewhere send no event.
MOUNT_POLLING_FSTYPES = frozenset({
    "smbfs", "afpfs", "nfs", "webdav", "cifs", "ftp", "macfuse", "osxfuse", "osxfusefs", "fusefs", "fuse",
})
#: Types that are maps or kernel views, not where files live: never a reason to poll, "local" or not.
_MOUNT_MAPS = frozenset({"autofs", "devfs", "fdescfs", "procfs", "linprocfs", "nullfs"})
#: Windows' GetDriveTypeW answer for a network drive.
DRIVE_REMOTE = 4


@dataclass(frozen=True)
class Mount:
    """One line of the mount table: where it is mounted, its type, and whether the system calls it local
    (None where the table does not say: Linux)."""

    point: str
    fstype: str
    local: bool | None = None


def _proc_mounts(mounts: str) -> list[Mount] | None:
    try:
        with open(mounts, encoding="utf-8", errors="replace") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return None
    table = []
    for line in lines:
        fields = line.split()
        if len(fields) >= 3:
            table.append(Mount(_unescape_mount(fields[1]), fields[2]))
    return table


def parse_mount_output(text: str) -> list[Mount]:
    """The table ``mount`` prints on macOS and the BSDs: ``DEVICE on POINT (TYPE, OPTION, ...)``; the point
    may hold spaces, and ``local`` among the options marks a local disk."""
    table = []
    for line in text.splitlines():
        line = line.rstrip()
        if " on " not in line or not line.endswith(")") or " (" not in line:
            continue
        rest = line.split(" on ", 1)[1]
        point, _, options = rest.rpartition(" (")
        words = [word.strip() for word in options[:-1].split(",")]
        if point and words and words[0]:
            table.append(Mount(point, words[0], "local" in words[1:]))
    return table


def _mount_command() -> str:
    import subprocess  # deferred: only macOS and the BSDs read the table this way

    for program in ("/sbin/mount", "mount"):
        try:
            return subprocess.run([program], capture_output=True, text=True, errors="replace", timeout=5,
                                  stdin=subprocess.DEVNULL).stdout
        except (OSError, subprocess.SubprocessError):
            continue
    return ""


def _uses_mount_command(platform: str) -> bool:
    return platform == "darwin" or "bsd" in platform or platform.startswith("dragonfly")


def _mount_of(path: Path | str, mounts: str, platform: str, mount_output: str | None) -> Mount | None:
    """The mount holding ``path`` (the longest mount point above it; the last of equal ones is in effect)."""
    if _uses_mount_command(platform):
        table: list[Mount] | None = parse_mount_output(_mount_command() if mount_output is None else mount_output)
    else:
        table = _proc_mounts(mounts)
    if not table:
        return None
    target = os.path.realpath(path)
    folded = platform == "darwin"  # macOS volumes usually ignore case
    if folded:
        target = target.casefold()
    best: Mount | None = None
    for mount in table:
        point = mount.point.casefold() if folded else mount.point
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and (best is None or len(mount.point) >= len(best.point)):
            best = mount
    return best


def filesystem_type(path: Path | str, mounts: str = "/proc/mounts", *, platform: str = sys.platform,
                    mount_output: str | None = None) -> str | None:
    """The type of the filesystem holding ``path`` (``ext4``, ``nfs4``, ``fuse.sshfs``, ``apfs``, ``smbfs``...),
    from ``/proc/mounts`` on Linux and from ``mount``'s table on macOS and the BSDs (``mount_output`` stands
    in for it in tests); None where neither can be read (Windows)."""
    mount = _mount_of(path, mounts, platform, mount_output)
    return mount.fstype if mount else None


def _windows_network_drive(path: Path | str, drive_type: Callable[[str], int] | None) -> str | None:
    """The network location ``path`` is on (a ``\\\\server\\share`` path or a mapped drive), or None."""
    import ntpath

    text = str(path)
    if text.startswith(("\\\\?\\UNC\\", "//?/UNC/")):
        text = "\\\\" + text[8:]
    elif text.startswith(("\\\\?\\", "//?/")):
        text = text[4:]
    drive = ntpath.splitdrive(text)[0]
    if drive.startswith(("\\\\", "//")):
        return drive
    if not drive:
        return None
    if drive_type is None:
        try:
            import ctypes

            drive_type = ctypes.windll.kernel32.GetDriveTypeW  # type: ignore[attr-defined]
        except (ImportError, AttributeError, OSError):
            return None
    try:
        return f"the network drive {drive}" if drive_type(drive + "\\") == DRIVE_REMOTE else None
    except (OSError, ValueError, TypeError):
        return None


def polling_reason(path: Path | str, mounts: str = "/proc/mounts", *, platform: str = sys.platform,
                   mount_output: str | None = None,
                   drive_type: Callable[[str], int] | None = None) -> str | None:
    """Why ``path`` must be watched by polling (its filesystem sends no native events, or none for changes
    made on another machine), or None. ``mount_output`` and ``drive_type`` (Windows' GetDriveTypeW) stand in
    for the system in tests."""
    if platform == "win32":
        share = _windows_network_drive(path, drive_type)
        if share is None:
            return None
        where = share if share.startswith("the ") else f"the network share {share}"
        return f"the folder is on {where}, which does not report every change made elsewhere"
    mount = _mount_of(path, mounts, platform, mount_output)
    if mount is None:
        return None
    fstype = mount.fstype
    if fstype in POLLING_FSTYPES or fstype.startswith(("nfs", "fuse.sshfs")):
        return f"the folder is on a {fstype} filesystem, which sends no change events"
    if _uses_mount_command(platform) and (
            fstype in MOUNT_POLLING_FSTYPES or fstype.startswith(("fuse", "macfuse", "osxfuse"))
            or (mount.local is False and fstype not in _MOUNT_MAPS)):
        return (f"the folder is on a {fstype} filesystem (not a local disk), which sends no events for changes "
                "made elsewhere")
    return None


def _start_failure_reason(exc: BaseException, platform: str | None = None) -> str:
    """Why native events could not start, in one line; inotify's limit is named only where inotify is."""
    number = getattr(exc, "errno", None)
    text = str(exc)
    linux = (sys.platform if platform is None else platform).startswith("linux")
    if linux and (number in (errno.ENOSPC, errno.EMFILE) or "limit" in text.lower() or "No space left" in text):
        return "the inotify limit is reached (raise fs.inotify.max_user_watches to watch natively)"
    return f"native file events are unavailable ({text or type(exc).__name__})"


# --- the snapshot --------------------------------------------------------------------------------------


class _Walk:
    """One stat walk of the tree: ``files`` maps relative paths to (size, mtime_ns); ``dirs`` holds the
    relative paths of the folders walked. Skips what the scan skips (except partial downloads, which are
    kept to be reported as downloading), never follows a link, never raises."""

    __slots__ = ("dirs", "files", "ok")

    def __init__(self, root: str, ignore: Callable[[str], bool] | None, stop: threading.Event,
                 give_way: Callable[[], object] | None = None) -> None:
        self.files: dict[str, Signature] = {}
        self.dirs: set[str] = set()
        self.ok = True  # False when the root itself could not be listed
        pending: list[tuple[str, str]] = [(root, "")]
        first = True
        while pending and not stop.is_set():
            if give_way is not None:
                give_way()
            folder, prefix = pending.pop()
            try:
                with os.scandir(folder) as it:
                    entries = list(it)
            except OSError:
                if first:
                    self.ok = False
                first = False
                continue
            first = False
            # Each entry is let go once looked at: it keeps the stat result it read (see liferaft.core.scan).
            entries.reverse()
            while entries:
                entry = entries.pop()
                name = entry.name
                rel = prefix + name
                try:
                    if entry.is_dir(follow_symlinks=False):
                        if name in JUNK_DIRS or (ignore is not None and ignore(rel + "/")):
                            continue
                        if is_partial(name):  # a download in progress (Safari's): one partial file
                            signature = folder_signature(entry.path)
                            if signature is not None:
                                self.files[rel] = signature
                            continue
                        self.dirs.add(rel)
                        pending.append((entry.path, rel + "/"))
                        continue
                    if _skipped_name(name) or (ignore is not None and ignore(rel)):
                        continue
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                self.files[rel] = (st.st_size, st.st_mtime_ns)


def diff(old: dict[str, Signature], new: dict[str, Signature]) -> list[Change]:
    """The changes from ``old`` to ``new`` (both path → signature), sorted by path."""
    changes: list[Change] = []
    for path, signature in new.items():
        before = old.get(path)
        if before is None:
            changes.append(Change(DOWNLOADING if is_partial(path) else ADDED, path))
        elif before != signature:
            changes.append(Change(DOWNLOADING if is_partial(path) else MODIFIED, path))
    changes.extend(Change(DELETED, path) for path in old.keys() - new.keys())
    changes.sort(key=lambda change: change.path)
    return changes


# --- the watcher ---------------------------------------------------------------------------------------


class _RootGone(Exception):
    """The root vanished or was replaced while watching."""


class Watcher:
    """Watches ``root`` from a daemon thread and calls ``on_event`` (on that thread) with each
    :class:`WatchEvent`.

    ``poll`` forces polling. ``debounce_ms`` is the longest a burst is held to be coalesced (watchfiles'
    default, 1.6 s, is too slow for a UI). ``heartbeat_s`` is how often the tree is re-walked anyway
    (:data:`HEARTBEAT_S`).
    ``ignore`` is called with relative paths (folders with a trailing ``/``) and drops what it accepts, as
    the project's ignore file does for the scan.
    """

    def __init__(self, root: Path, on_event: Callable[[WatchEvent], None], *, poll: bool = False,
                 debounce_ms: int = 100, heartbeat_s: float | None = None,
                 ignore: Callable[[str], bool] | None = None, give_way: Callable[[], object] | None = None) -> None:
        self.root = Path(os.path.abspath(root))
        self._give_way = give_way
        """Called before each batch of events and each folder walked (see :func:`liferaft.core.pace.give_way`)."""
        self._root = str(self.root)
        self._real_root = os.path.realpath(self._root)
        self._on_event = on_event
        self._force_poll = poll
        self._debounce_ms = max(1, int(debounce_ms))
        self._step_ms = max(1, min(10, self._debounce_ms))
        self._heartbeat_s = HEARTBEAT_S if heartbeat_s is None else heartbeat_s
        self._ignore = ignore
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._files: dict[str, Signature] = {}
        self._dirs: set[str] = set()
        self._own: dict[str, float] = {}
        self._own_lock = threading.Lock()
        self._identity: tuple[int, int] | None = None
        self._last_walk = time.monotonic()
        self._walk_seconds = 0.0
        self.polling = False
        """True while changes are found by polling rather than native events."""
        self.events = 0
        """How many events were sent (for tests and benchmarks)."""

    # --- the caller's side ---

    def start(self) -> None:
        """Start watching, in a daemon thread; the first event (the baseline) follows at once."""
        if self._thread is not None:
            raise RuntimeError("this watcher was already started")
        self._thread = threading.Thread(target=self._run, name="liferaft-watch", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop watching and wait up to ``timeout`` seconds for the thread to end."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def ignore_own_write(self, path: Path | str, seconds: float = 2.0) -> None:
        """Do not report ``path`` (absolute, or relative to the root) as changed for the next ``seconds``:
        the app's own writes (saved prompts, the restart note it saves) are not the user's changes."""
        rel = self._relative(os.fspath(path))
        if rel is None:
            return
        with self._own_lock:
            self._own[rel] = time.monotonic() + seconds

    # --- helpers ---

    def _relative(self, path: str) -> str | None:
        if not os.path.isabs(path):
            rel = os.path.normpath(path).replace(os.sep, "/")
            return None if rel in (".", "") or rel.startswith("../") else rel
        path = os.path.normpath(path)
        for base in (self._root, self._real_root):
            if path.startswith(base + os.sep):
                return path[len(base) + 1:].replace(os.sep, "/")
        return None

    def _is_own(self, rel: str, now: float) -> bool:
        with self._own_lock:
            if not self._own:
                return False
            expiry = self._own.get(rel)
            if len(self._own) > 64:
                for key in [key for key, until in self._own.items() if until < now]:
                    del self._own[key]
        return expiry is not None and expiry >= now

    def _skipped(self, rel: str) -> bool:
        parts = rel.split("/")
        if any(part in JUNK_DIRS for part in parts[:-1]) or _skipped_name(parts[-1]) or parts[-1] in JUNK_DIRS:
            return True
        ignore = self._ignore
        if ignore is None:
            return False
        prefix = ""
        for part in parts[:-1]:
            prefix += part + "/"
            if ignore(prefix):
                return True
        return ignore(rel)

    def _emit(self, changes: Iterable[Change], *, reconciled: bool, root_missing: bool = False,
              notice: str = "") -> None:
        event = WatchEvent(tuple(changes), reconciled, root_missing, self.polling, notice)
        self.events += 1
        try:
            self._on_event(event)
        except Exception:  # the caller's bug must not end the watching
            logger.exception("the watch callback failed")

    def _root_identity(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self._root)
        except OSError:
            return None
        return (st.st_dev, st.st_ino) if stat.S_ISDIR(st.st_mode) else None

    def _check_root(self) -> None:
        if self._root_identity() != self._identity:
            raise _RootGone

    def _reconcile(self, *, emit_empty: bool = False, notice: str = "", baseline: bool = False) -> bool:
        """Re-walk the tree and send what changed (an empty event only if ``emit_empty``); with ``baseline``,
        only remember it and send an empty event. False when the root could not be listed (gone)."""
        started = time.monotonic()
        walk = _Walk(self._root, self._ignore, self._stop, self._give_way)
        self._walk_seconds = time.monotonic() - started
        self._last_walk = time.monotonic()
        if self._stop.is_set():
            return True
        if not walk.ok:
            return False
        now = time.monotonic()
        changes = [] if baseline else [c for c in diff(self._files, walk.files) if not self._is_own(c.path, now)]
        self._files, self._dirs = walk.files, walk.dirs
        if changes or emit_empty or notice or baseline:
            self._emit(changes, reconciled=True, notice=notice)
        return True

    # --- the thread ---

    def _run(self) -> None:
        try:
            self._watch()
        except Exception as exc:  # a last resort: nothing may escape the thread
            logger.exception("the watcher stopped")
            self._emit((), reconciled=False, notice=f"watching stopped ({exc or type(exc).__name__}); "
                                                    "changes are no longer shown until the folder is read again")

    def _watch(self) -> None:
        notice = ""
        reason = "polling was asked for (--poll)" if self._force_poll else polling_reason(self._root)
        if reason is not None:
            self.polling = True
            notice = f"watching by polling: {reason}"
        first = True  # the next walk sends an event even when nothing changed
        started = False  # the baseline walk is done
        failures = 0
        began = time.monotonic()
        while not self._stop.is_set():
            try:
                self._identity = self._root_identity()
                if self._identity is None or not self._reconcile(emit_empty=first, notice=notice,
                                                                 baseline=not started):
                    started = True  # a root missing at start: its files, once back, are reported added
                    self._wait_for_root()
                    continue
                first, notice, started = False, "", True
                began = time.monotonic()
                if self.polling:
                    self._poll_loop()
                else:
                    self._native_loop()
                failures = 0
            except _RootGone:
                self._wait_for_root()
            except Exception as exc:  # a watcher error: say so, re-walk, start again (poll after repeats)
                logger.debug("watcher error", exc_info=True)
                failures = failures + 1 if time.monotonic() - began < 60 else 1  # only failures in a row count
                if not self.polling and failures >= 3:
                    self.polling = True
                    notice = f"watching by polling: the file watcher keeps failing ({exc or type(exc).__name__})"
                else:
                    notice = f"the file watcher failed ({exc or type(exc).__name__}); the folder was read again"
                first = True  # the next reconcile carries the notice even when nothing changed
                self._stop.wait(min(2.0, 0.2 * failures))

    def _wait_for_root(self) -> None:
        """Say the root is gone, look for it every ROOT_CHECK_S; the caller re-walks it once it is back."""
        if self._stop.is_set():
            return
        self._emit((), reconciled=False, root_missing=True,
                   notice=f"the folder {self._root} is gone (deleted, renamed or unmounted); "
                          "waiting for it to come back")
        while not self._stop.wait(ROOT_CHECK_S):
            identity = self._root_identity()
            if identity is not None:
                self._identity = identity
                if self._reconcile(emit_empty=True, notice=f"the folder {self._root} is back; it was read again"):
                    return  # the main loop starts watching it again
        # stopped

    def _poll_loop(self) -> None:
        while True:
            interval = min(POLL_MAX_S, max(POLL_MIN_S, 50 * self._walk_seconds))
            if self._stop.wait(interval):
                return
            self._check_root()
            if not self._reconcile_polled():
                raise _RootGone

    def _reconcile_polled(self) -> bool:
        """One polling round: a walk whose changes are sent as an ordinary burst."""
        started = time.monotonic()
        walk = _Walk(self._root, self._ignore, self._stop, self._give_way)
        self._walk_seconds = time.monotonic() - started
        if self._stop.is_set():
            return True
        if not walk.ok:
            return False
        now = time.monotonic()
        changes = [change for change in diff(self._files, walk.files) if not self._is_own(change.path, now)]
        self._files, self._dirs = walk.files, walk.dirs
        if changes:
            self._emit(changes, reconciled=False)
        return True

    def _native_loop(self) -> None:
        import watchfiles  # deferred: it pulls in anyio, which only the watching thread needs

        batches = watchfiles.watch(
            self._root, watch_filter=None, debounce=self._debounce_ms, step=self._step_ms,
            stop_event=self._stop, rust_timeout=RUST_TIMEOUT_MS, yield_on_timeout=True,
            raise_interrupt=False, force_polling=False, recursive=True, ignore_permission_denied=True,
        )
        try:
            caught_up = False
            while True:
                try:
                    raw = next(batches)
                except StopIteration:
                    return
                except FileNotFoundError:
                    raise _RootGone from None
                except (OSError, RuntimeError) as exc:
                    if caught_up:
                        raise
                    # The watcher could not start (an inotify limit, an unsupported filesystem): poll instead.
                    self.polling = True
                    self._emit((), reconciled=False, notice=f"watching by polling: {_start_failure_reason(exc)}")
                    return
                if self._stop.is_set():
                    return
                if not caught_up:
                    # The native watcher is live from its first answer on: a re-walk now catches whatever
                    # changed between the first walk and then. It is sent even when it found nothing: a
                    # consumer that read the folder itself in that gap (a file made and removed again) must
                    # read it again now, or it keeps what it saw then for ever.
                    caught_up = True
                    self._check_root()
                    if not self._reconcile(emit_empty=True):
                        raise _RootGone
                    raw.clear()  # the walk has seen all of it
                if raw:
                    if self._give_way is not None:
                        self._give_way()
                    try:
                        self._batch(raw)
                    finally:
                        # watchfiles' generator keeps the set it yielded until its next batch, which may be
                        # hours away: emptied here, a 50,000-file burst's paths are not kept until then.
                        raw.clear()
                self._check_root()
                if time.monotonic() - self._last_walk >= self._heartbeat_s and not self._reconcile():
                    raise _RootGone
        finally:
            batches.close()  # stops the native watcher's thread

    def _batch(self, raw: AbstractSet[tuple[object, str]]) -> None:
        """Check one batch of native events against the snapshot and send what really changed."""
        if len(raw) > BURST_RECONCILE:
            if not self._reconcile():
                raise _RootGone
            return
        # Every entry is looked at before the snapshot changes: a folder that appeared or went away means a
        # walk, and the walk must be compared with the snapshot as it was before this batch (a file of the
        # new folder handled first would already be in it, and its change lost).
        # A hint for the root, or for a folder already known with nothing reported inside it, stands for changes
        # that were not reported one by one: a backend that coalesced them (FSEvents' "scan this folder"), or
        # dropped them when its buffer overflowed (ReadDirectoryChangesW). Only a walk can say what they were.
        # (Windows also hints a folder beside each file made in it: the file's own event says what changed.)
        entries: list[tuple[str, Signature | None]] = []
        hinted: list[str] = []
        for _kind, full in raw:
            rel = self._relative(full)
            if rel is None:
                if os.path.normpath(full) in (self._root, self._real_root):
                    self._check_root()
                    if not self._reconcile():
                        raise _RootGone
                    return
                continue
            if self._skipped(rel):
                continue
            folder = partial_folder(rel)
            if folder is not None:  # a partial download folder, or a file in one: the folder is what changed
                entries.append((folder, folder_signature(os.path.join(self._root, *folder.split("/")))))
                continue
            try:
                st: os.stat_result | None = os.lstat(full)
            except OSError:
                st = None
            is_dir = st is not None and stat.S_ISDIR(st.st_mode)
            # A folder appeared (moved in, or made: it reports only itself), or one went away with its files.
            if is_dir and is_partial(rel):  # a partial download folder appeared, or changed
                entries.append((rel, folder_signature(full)))
                continue
            if (is_dir and rel not in self._dirs) or (st is None and rel in self._dirs):
                if not self._reconcile():
                    raise _RootGone
                return
            if is_dir:  # one known, hinted as a whole
                hinted.append(rel)
                continue
            if st is not None:
                entries.append((rel, (st.st_size, st.st_mtime_ns)))
            else:
                entries.append((rel, None))
        if hinted:
            inside = {rel.rpartition("/")[0] for rel, _ in entries}
            if any(not any(parent == folder or parent.startswith(folder + "/") for parent in inside)
                   for folder in hinted):
                if not self._reconcile():
                    raise _RootGone
                return
        now = time.monotonic()
        files = self._files
        changes: dict[str, Change] = {}
        for rel, signature in entries:
            if signature is None:
                if rel in files:
                    del files[rel]
                    if not self._is_own(rel, now):
                        changes[rel] = Change(DELETED, rel)
                continue
            before = files.get(rel)
            if before == signature:
                continue
            files[rel] = signature
            if self._is_own(rel, now):
                continue
            if is_partial(rel):
                changes[rel] = Change(DOWNLOADING, rel)
            else:
                changes[rel] = Change(ADDED if before is None else MODIFIED, rel)
        if changes:
            self._emit(sorted(changes.values(), key=lambda change: change.path), reconciled=False)

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

The snapshot (the stat walk and its diff) lives in :mod:`liferaft.core.watch_walk` and the filesystem
detection in :mod:`liferaft.core.watch_volumes`; their names are re-exported here.
"""

from __future__ import annotations

import logging
import os
import stat
import threading
import time
from collections.abc import Callable, Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path

from liferaft.core.scan import JUNK_DIRS
from liferaft.core.watch_volumes import DRIVE_REMOTE as DRIVE_REMOTE
from liferaft.core.watch_volumes import MOUNT_POLLING_FSTYPES as MOUNT_POLLING_FSTYPES
from liferaft.core.watch_volumes import POLLING_FSTYPES as POLLING_FSTYPES
from liferaft.core.watch_volumes import Mount as Mount
from liferaft.core.watch_volumes import _start_failure_reason
from liferaft.core.watch_volumes import filesystem_type as filesystem_type
from liferaft.core.watch_volumes import parse_mount_output as parse_mount_output
from liferaft.core.watch_volumes import polling_reason as polling_reason
from liferaft.core.watch_walk import ADDED as ADDED
from liferaft.core.watch_walk import DELETED as DELETED
from liferaft.core.watch_walk import DOWNLOADING as DOWNLOADING
from liferaft.core.watch_walk import MODIFIED as MODIFIED
from liferaft.core.watch_walk import Change as Change
from liferaft.core.watch_walk import Signature as Signature
from liferaft.core.watch_walk import _skipped_name, _Walk
from liferaft.core.watch_walk import diff as diff
from liferaft.core.watch_walk import download_size as download_size
from liferaft.core.watch_walk import folder_signature as folder_signature
from liferaft.core.watch_walk import is_partial as is_partial
from liferaft.core.watch_walk import partial_folder as partial_folder

logger = logging.getLogger(__name__)

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

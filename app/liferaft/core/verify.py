"""Verification targets: numbers a new chat checks its regenerated copy of an output against.

* a table (CSV/TSV): rows, columns and the sum of every numeric column, read as a stream (the whole file, in
  slices cut at record boundaries, quote-aware, parsed by pyarrow on two threads; memory stays around the slice
  size whatever the file's size);
* a workbook: every sheet with its rows × columns;
* an image: its size in pixels (from the header);
* a Parquet file: rows and columns (from the footer).

Nothing here raises for a bad file: :attr:`Targets.error` says "could not compute: …" in words. Results are
cached per (path, size, modification time), and :func:`targets_for` can compute off the caller's thread and
report what is not ready yet, so a composer never waits on a 1 GB file twice.

A table's plan and slices are parsed by :mod:`.verify_table`; :class:`Targets` and the other kinds are in
:mod:`.verify_targets`. Their public names are importable from here.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import stat
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Generator
from pathlib import Path

from liferaft.core.units import format_count, format_size
from liferaft.core.verify_table import NA_VALUES as NA_VALUES
from liferaft.core.verify_table import (
    _count_lines,
    _format_sum,
    _parse_slice,
    _Plan,
    _plan,
    _Position,
    _record_end,
    _TableError,
    _Totals,
)
from liferaft.core.verify_targets import SUMS_LISTED as SUMS_LISTED
from liferaft.core.verify_targets import Targets, _fail, image_targets, parquet_targets, workbook_targets

#: Bytes read per slice (each slice is parsed whole; two are in flight at a time).
SLICE_BYTES = 4 << 20
#: A single record longer than this cannot be totalled (a quote never closed reads as one endless record).
MAX_RECORD_BYTES = 64 << 20
#: Totalling a table stops after this long, and says so.
SECONDS = 30.0
#: Summing stops after this long on a big table: its sums are then those of its first rows (the prompt says how
#: many), and its rows are counted to the end by their line breaks, which is ten times faster than parsing.
SUM_SECONDS = 1.2
#: Cached results kept.
CACHE_ENTRIES = 256


# --- tables ------------------------------------------------------------------------------------------------


def _stream(path: Path, plan: _Plan, deadline: float,
            position_out: _Position | None = None) -> Generator[bytes, None, None]:
    """The file's data rows as ASCII-compatible bytes, in slices that each end at a record boundary."""
    separator = plan.separator
    with open(path, "rb", buffering=0) as handle:
        if hasattr(os, "posix_fadvise"):
            os.posix_fadvise(handle.fileno(), 0, 0, os.POSIX_FADV_SEQUENTIAL)
        decoder = codecs.getincrementaldecoder(plan.codec)("replace") if plan.codec else None
        raw = handle.read(SLICE_BYTES)
        first = raw[plan.bom:]
        if decoder is not None:
            first = decoder.decode(first, final=not raw).encode("utf-8")
        # Skip the header (and blank lines before it): its lines are counted from the sample's parse.
        position = 0
        for _ in range(plan.skip_lines):
            found = first.find(separator, position)
            if found < 0:
                return
            position = found + 1
        carry = first[position:]
        ended = not raw
        while True:
            if time.perf_counter() > deadline:
                raise _TableError("timeout")
            if not ended:
                raw = handle.read(SLICE_BYTES)
                ended = not raw
                chunk = (decoder.decode(raw, final=ended).encode("utf-8") if decoder is not None else raw)
                buffer = carry + chunk if carry else chunk
            else:
                buffer = carry
            if ended:
                if buffer.count(b'"') % 2:
                    raise _TableError("quote")
                if position_out is not None:
                    position_out.end = None
                if buffer.strip():
                    yield buffer
                return
            cut = _record_end(buffer, separator)
            if cut < 0:
                if len(buffer) > MAX_RECORD_BYTES:
                    raise _TableError("record")
                carry = buffer
                continue
            carry = buffer[cut:]
            if position_out is not None:
                position_out.end = handle.tell() - len(carry) if decoder is None else None
            yield buffer[:cut]


def table_targets(path: Path, kind: str = "csv", *, seconds: float = SECONDS, workers: int = 2,
                  sum_seconds: float = SUM_SECONDS) -> Targets:
    """Rows, columns and numeric column sums of a CSV/TSV, streaming the whole file. Never raises."""
    started = time.perf_counter()
    path = Path(path)
    try:
        planned = _plan(path, kind)
    except MemoryError:
        return _fail("table", "not enough memory to read its first megabyte")
    if isinstance(planned, Targets):
        return planned
    plan = planned
    totals = _Totals(plan)
    deadline = started + seconds
    try:
        _run(path, plan, totals, deadline, max(1, min(workers, os.cpu_count() or 1)), started + sum_seconds)
    except _TableError as exc:
        why = str(exc)
        if why == "timeout":
            return _fail("table", f"totalling {path.name} ({format_size(path.stat().st_size)}) takes longer than "
                                  f"{seconds:g} s")
        if why == "quote":
            return _fail("table", "a quote is opened and never closed, so the rows cannot be told apart")
        if why == "record":
            return _fail("table", f"one row is longer than {format_size(MAX_RECORD_BYTES)} (a quote never closed?)")
        return _fail("table", why)
    except OSError as exc:
        return _fail("table", f"cannot read {path.name} ({exc.strerror or exc})")
    except MemoryError:
        return _fail("table", "not enough memory")
    sums: list[tuple[str, str]] = []
    for index in sorted(totals.sums):
        if index in totals.dropped:
            continue
        values = totals.sums[index]
        sums.append((plan.names[index], _format_sum(values, totals.types[index], plan.decimals.get(index, 0))))
    notes = []
    if totals.ragged:
        notes.append(f"{format_count(totals.ragged, 'row')} {'has' if totals.ragged == 1 else 'have'} more fields "
                     "than the header: counted, not summed")
    if totals.short:
        notes.append(f"{format_count(totals.short, 'row')} {'has' if totals.short == 1 else 'have'} fewer fields "
                     "than the header: summed, the missing fields empty")
    return Targets("table", rows=totals.rows + totals.counted, columns=len(plan.names), names=tuple(plan.names),
                   sums=tuple(sums), unsummed=tuple(totals.dropped.values()), notes=tuple(notes),
                   summed_rows=totals.summed, seconds=time.perf_counter() - started)


def _run(path: Path, plan: _Plan, totals: _Totals, deadline: float, workers: int, sum_deadline: float) -> None:
    """Parse and total every slice; past ``sum_deadline`` (and when no record so far held a line break inside
    quotes), the rest of the slices are only counted, by their line breaks."""
    from concurrent.futures import Future, ThreadPoolExecutor

    position = _Position()
    stream = _stream(path, plan, deadline, position)
    pending: list[Future[None]] = []
    submitted_end: int | None = None
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="liferaft-verify") as pool:
        try:
            for data in stream:
                if time.perf_counter() > sum_deadline and not totals.quoted_breaks and submitted_end is not None:
                    for future in pending:
                        future.result()
                    pending.clear()
                    if not totals.quoted_breaks:
                        totals.summed = totals.rows
                        stream.close()
                        totals.counted = _count_lines(path, submitted_end, plan.separator, deadline)
                        return
                submitted_end = position.end
                pending.append(pool.submit(_parse_slice, data, totals))
                while len(pending) >= workers + 1:
                    pending.pop(0).result()
            for future in pending:
                future.result()
        finally:
            for future in pending:
                future.cancel()


# --- every kind (workbooks, images, parquet: :mod:`.verify_targets`) ---------------------------------------


_BY_KIND: dict[str, Callable[[Path], Targets]] = {
    "csv": lambda path: table_targets(path, "csv"),
    "tsv": lambda path: table_targets(path, "tsv"),
    "xlsx": workbook_targets,
    "image": image_targets,
    "parquet": parquet_targets,
}


def supported(kind: str) -> bool:
    return kind in _BY_KIND


def compute(path: Path, kind: str) -> Targets:
    """The targets for one file of ``kind`` (a kind from :mod:`liferaft.core.roles`). Never raises."""
    path = Path(path)
    function = _BY_KIND.get(kind)
    if function is None:
        return Targets("other")
    try:
        st = os.stat(path)
    except OSError as exc:
        return _fail(kind, f"cannot read {path.name} ({exc.strerror or exc})")
    if not stat.S_ISREG(st.st_mode):  # a named pipe would block the read for ever, a device never end
        what = "a folder" if stat.S_ISDIR(st.st_mode) else "a named pipe" if stat.S_ISFIFO(st.st_mode) else \
            "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) else "not a regular file"
        return _fail(kind, f"{path.name} is {what}, not a file with data in it")
    try:
        return function(path)
    except MemoryError:
        return _fail(kind, "not enough memory")
    except Exception as exc:  # a bug here must never reach the prompt as a traceback
        return _fail(kind, f"{type(exc).__name__}: {str(exc)[:160]}")


# --- the cache ----------------------------------------------------------------------------------------------


_Key = tuple[str, str, int, int, str]
_lock = threading.Lock()
_cache: OrderedDict[_Key, Targets] = OrderedDict()
_running: dict[_Key, threading.Event] = {}
_listeners: list[Callable[[], None]] = []


def _key(path: Path, kind: str) -> _Key | None:
    """The file (links resolved), its name as given and its kind: two links to one file, named differently or read
    as different kinds, have targets of their own (a result names the file and depends on its kind)."""
    try:
        st = os.stat(path)
        resolved = str(Path(path).resolve())
    except (OSError, RuntimeError):  # RuntimeError: a loop of links, on older Pythons
        return None
    return (resolved, Path(path).name, st.st_size, st.st_mtime_ns, kind)


def cached(path: Path, kind: str | None = None) -> Targets | None:
    """The targets cached for ``path`` read as ``kind`` (default: the kind its name gives)."""
    if kind is None:
        from liferaft.core.roles import kind_from_name

        kind = kind_from_name(Path(path).name) or "other"
    key = _key(path, kind)
    if key is None:
        return None
    with _lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
        return found


def targets_for(path: Path, kind: str, *, wait: float | None = None) -> Targets | None:
    """The targets for ``path``, from the cache or computed once: on a background thread, waited for up to
    ``wait`` seconds (None: until done). None when not ready in time; :func:`on_ready` callbacks run when it is."""
    path = Path(path)
    key = _key(path, kind)
    if key is None:
        return compute(path, kind)  # it cannot be read: say why, nothing to cache
    with _lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
            return found
        event = _running.get(key)
        if event is None:
            event = threading.Event()
            _running[key] = event
            threading.Thread(target=_work, args=(key, path, kind, event), name="liferaft-targets",
                             daemon=True).start()
    if not event.wait(wait):
        return None
    with _lock:
        return _cache.get(key)


def _work(key: _Key, path: Path, kind: str, event: threading.Event) -> None:
    try:
        result = compute(path, kind)
    finally:
        with _lock:
            _running.pop(key, None)
    with _lock:
        _cache[key] = result
        while len(_cache) > CACHE_ENTRIES:
            _cache.popitem(last=False)
        listeners = list(_listeners)
    event.set()
    for listener in listeners:
        with contextlib.suppress(Exception):  # a listener's bug must not stop the others
            listener()


def on_ready(listener: Callable[[], None]) -> Callable[[], None]:
    """Call ``listener`` (on a worker thread) whenever targets computed in the background are ready; returns a
    function that removes it."""
    with _lock:
        _listeners.append(listener)

    def remove() -> None:
        with _lock:
            if listener in _listeners:
                _listeners.remove(listener)

    return remove


def clear_cache() -> None:
    with _lock:
        _cache.clear()

"""The bundled demo project: a realistic, deliberately imperfect session to recover.

``liferaft demo [DIR]`` writes a small Liferaft project that exercises every feature of the product:

* ``SOURCE/transactions_2025.csv`` is generated at demo time and is bigger than ChatGPT's ~50 MB
  spreadsheet upload limit (upload pre-flight);
* ``SOURCE/customers_eu.csv`` is a Latin-1, semicolon-separated European export (encoding checks);
* ``SOURCE/survey_responses.csv`` starts with a blank header row of commas (header detection);
* ``SOURCE/budget_2026.xlsx`` is a real two-sheet workbook (spreadsheet previews);
* ``SOURCE/final2.csv`` is a badly named file (naming checks);
* ``RESTART/restart-note.md`` lists ``monthly_trend.png`` as an output that is not in ``OUTPUT/``
  (missing outputs).

Everything is deterministic (seeded :class:`random.Random`, fixed timestamps), so two demos written with
the same ``big_csv_mb`` are byte-identical. Every file is written atomically; the marker
``.liferaft/demo.json`` lists the demo's files (written first, so that a demo killed half-way is still known as
one) and, once all are written, each one's size and content hash, so that :func:`demo_status` can tell which the user
changed since. A later ``liferaft demo`` opens the demo as it is (writing back only demo files that are
missing); ``liferaft demo --reset`` rewrites the demo files, and nothing else in the folder.

This module is the public API and handles the folder (checks, refresh, undo); the files' contents come from
:mod:`.reference` (the data), :mod:`.transactions`, :mod:`.tables`, :mod:`.workbook`, :mod:`.chart` and
:mod:`.texts`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from liferaft.core.demo.chart import bar_chart
from liferaft.core.demo.reference import generate_customers
from liferaft.core.demo.tables import cleaned_csv, customers_csv, marketing_csv, survey_csv
from liferaft.core.demo.texts import ANALYSIS_SCRIPT, restart_note
from liferaft.core.demo.transactions import write_transactions
from liferaft.core.demo.workbook import budget_xlsx
from liferaft.core.restart_note import NOTE_FILENAME
from liferaft.core.storage import (
    TEMP_PREFIX,
    atomic_writer,
    read_small_file,
    sweep_temp_files,
    write_bytes,
    write_text,
)

#: The file that marks a folder as a Liferaft demo, relative to the demo root.
DEMO_MARKER = Path(".liferaft") / "demo.json"
#: Format version written into the marker.
MARKER_VERSION = 1

TRANSACTIONS = "SOURCE/transactions_2025.csv"
CUSTOMERS = "SOURCE/customers_eu.csv"
SURVEY = "SOURCE/survey_responses.csv"
BUDGET = "SOURCE/budget_2026.xlsx"
BADLY_NAMED = "SOURCE/final2.csv"
SCRIPT = "CODE/analysis.py"
CHART = "OUTPUT/revenue_by_region.png"
CLEANED = "OUTPUT/sales_2025_cleaned.csv"
NOTE = f"RESTART/{NOTE_FILENAME}"

#: Every file the demo writes (the marker aside), in the order it writes them; relative POSIX paths.
DEMO_FILES: tuple[str, ...] = (
    TRANSACTIONS,
    CUSTOMERS,
    SURVEY,
    BUDGET,
    BADLY_NAMED,
    SCRIPT,
    CHART,
    CLEANED,
    NOTE,
)

#: Operating-system clutter that does not make a folder "not empty".
_CLUTTER = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})


#: Receives short human messages while the demo is written.
Progress = Callable[[str], None]


class DemoError(Exception):
    """The demo cannot be written; the message is one line telling the user what is wrong and what to do."""


@dataclass(frozen=True)
class DemoStatus:
    """What an existing demo folder holds of the demo's own files (relative POSIX paths, in writing order).

    ``changed`` is None when the marker does not say how the files were written (an older or interrupted demo):
    then which were edited cannot be told."""

    present: tuple[str, ...]
    missing: tuple[str, ...]
    changed: tuple[str, ...] | None


@dataclass(frozen=True)
class DemoResult:
    """What :func:`write_demo` did.

    ``files`` are the demo files written, as relative POSIX paths (the marker is not listed);
    ``refreshed`` is true when an existing demo was rewritten in place.
    """

    root: Path
    files: tuple[str, ...]
    refreshed: bool


def _marker(root: Path) -> dict[str, object] | None:
    try:
        data = json.loads(read_small_file(root / DEMO_MARKER).decode("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("version"), int):
        return None
    files = data.get("files")
    if not isinstance(files, list) or not all(isinstance(name, str) for name in files):
        return None
    return data


def _marker_files(root: Path) -> list[str] | None:
    """The file list of the demo marker in ``root``, or None if there is no valid marker."""
    data = _marker(root)
    return None if data is None else list(data["files"])  # type: ignore[call-overload]


def _stamp_of(data: bytes) -> list[object]:
    return [len(data), hashlib.blake2b(data, digest_size=16).hexdigest()]


def _unchanged(path: Path, stamp: object) -> bool:
    """Whether ``path`` still holds what the demo wrote (its size, then its content hash: streamed)."""
    if not (isinstance(stamp, list) and len(stamp) == 2):
        return False
    try:
        if path.stat().st_size != stamp[0]:
            return False
        digest = hashlib.blake2b(digest_size=16)
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    except OSError:
        return False
    return bool(digest.hexdigest() == stamp[1])


def demo_status(root: Path, *, edits: bool = True) -> DemoStatus | None:
    """Which of the demo's files ``root`` holds, and which of them changed since the demo wrote them; None when
    ``root`` is not a demo. ``edits=False`` skips reading every file to tell which changed (``changed`` is then
    None): reopening the demo needs only what is missing."""
    root = Path(root)
    data = _marker(root)
    if data is None:
        return None
    present = tuple(name for name in DEMO_FILES if (root / name).is_file())
    missing = tuple(name for name in DEMO_FILES if name not in present)
    stamps = data.get("written")
    changed: tuple[str, ...] | None = None
    if edits and isinstance(stamps, dict):
        changed = tuple(name for name in present if not _unchanged(root / name, stamps.get(name)))
    return DemoStatus(present, missing, changed)


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


@contextlib.contextmanager
def _writing(path: Path) -> Iterator[None]:
    """Turn an OSError raised while writing ``path`` into a one-line :class:`DemoError`."""
    try:
        yield
    except OSError as exc:
        raise DemoError(f"Could not write {path}: {_reason(exc)}; fix that and run the demo again") from exc


def _inspect(root: Path) -> bool:
    """Check that ``root`` can take the demo; return whether this is a refresh of an existing demo."""
    if root.exists() and not root.is_dir():
        raise DemoError(f"{root} is a file, not a folder; choose an empty or new folder")
    if not root.exists():
        return False
    try:
        entries = [entry.name for entry in root.iterdir()
                   if entry.name not in _CLUTTER and not entry.name.startswith(TEMP_PREFIX)]
    except OSError as exc:
        raise DemoError(f"Could not read {root}: {_reason(exc)}; choose another folder") from exc
    if not entries:
        return False
    previous = _marker_files(root)
    if previous is None:
        if (root / DEMO_MARKER).exists():  # damaged: which files are the demo's own cannot be told
            raise DemoError(f"{root} is not a Liferaft demo it can use: its {DEMO_MARKER.as_posix()} is damaged, so "
                            "the demo's own files cannot be told from yours and nothing is written; move the folder "
                            "aside (your files stay) or choose another")
        raise DemoError(f"{root} is not empty and is not a Liferaft demo; choose an empty or new folder")
    # A newer demo may add files: never overwrite a user's file that happens to have such a name.
    for name in DEMO_FILES:
        if name not in previous and (root / name).exists():
            raise DemoError(f"{root / name} is not a demo file; move it or choose an empty or new folder")
    _refuse_links(root)
    return True


def _refuse_links(root: Path) -> None:
    """The demo never writes through a link: a linked folder or file could point anywhere."""
    for name in (*DEMO_FILES, DEMO_MARKER.as_posix()):
        path = root
        for part in Path(name).parts:
            path = path / part
            if path.is_symlink():
                raise DemoError(f"{path} is a link, and the demo never writes through links; "
                                "remove the link or choose another folder")


def _sweep(root: Path) -> None:
    """Remove temporary files an interrupted demo left behind (they are Liferaft's own)."""
    for folder in {(root / name).parent for name in (*DEMO_FILES, DEMO_MARKER.as_posix())}:
        sweep_temp_files(folder, older_than=5.0)


def _undo(root: Path, written: Sequence[str], root_created: bool) -> None:
    """Remove what a failed first-time write left behind (only files it wrote, only empty folders)."""
    for name in written:
        with contextlib.suppress(OSError):
            (root / name).unlink()
    folders = {(root / name).parent for name in (*DEMO_FILES, DEMO_MARKER.as_posix())}
    for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
        if folder != root:
            with contextlib.suppress(OSError):
                folder.rmdir()
    if root_created:
        with contextlib.suppress(OSError):
            root.rmdir()


def write_demo(root: Path, *, progress: Progress | None = None, big_csv_mb: float = 60.0,
               missing_only: bool = False) -> DemoResult:
    """Write the demo project into ``root``, or refresh the demo already there.

    ``root`` may be missing (it is created) or empty; a non-empty folder must be an earlier demo, whose
    demo files are then rewritten in place while every other file in it stays untouched (with
    ``missing_only``, only the demo files it lacks are written: none is replaced). ``progress``
    receives short messages as files are written. ``big_csv_mb`` is the size of the transactions CSV in
    megabytes (10**6 bytes); the file is at least that big. Raises :class:`DemoError` if the folder cannot
    be used or a write fails; a failed first-time write removes what it wrote.
    """
    if not (big_csv_mb > 0 and math.isfinite(big_csv_mb)):
        raise ValueError(f"big_csv_mb must be a positive number, not {big_csv_mb!r}")
    root = Path(root)
    report = progress or (lambda _message: None)
    refreshed = _inspect(root)
    root_created = not root.exists()
    written: list[str] = []
    old = _marker(root) if refreshed else None
    written_before: Any = old.get("written") if isinstance(old, dict) else None
    stamps: dict[str, object] = dict(written_before) if isinstance(written_before, dict) else {}
    marker = json.dumps({"version": MARKER_VERSION, "files": list(DEMO_FILES)}, indent=2) + "\n"

    def skip(name: str) -> bool:
        return missing_only and refreshed and (root / name).exists()

    def put(name: str, data: bytes) -> None:
        if skip(name):
            return
        report(f"Writing {name}…")
        with _writing(root / name):
            write_bytes(root / name, data)
        written.append(name)
        stamps[name] = _stamp_of(data)

    try:
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DemoError(f"Could not create {root}: {_reason(exc)}; choose another folder") from exc
        _sweep(root)
        # The marker goes first: if the demo is killed half-way, the next run finds a demo to refresh.
        if not (missing_only and refreshed):
            with _writing(root / DEMO_MARKER):
                write_text(root / DEMO_MARKER, marker)
            written.append(DEMO_MARKER.as_posix())
        customers = generate_customers()
        if skip(TRANSACTIONS):  # the other files are made from its rows: generate them, write nothing
            sales = write_transactions(_Discard(), math.ceil(big_csv_mb * 1e6), customers)  # type: ignore[arg-type]
        else:
            report(f"Writing {TRANSACTIONS} ({big_csv_mb:g} MB)…")
            hashing = _Discard()
            with _writing(root / TRANSACTIONS), atomic_writer(root / TRANSACTIONS) as handle:
                hashing.inner = handle
                sales = write_transactions(hashing, math.ceil(big_csv_mb * 1e6), customers)  # type: ignore[arg-type]
            written.append(TRANSACTIONS)
            stamps[TRANSACTIONS] = [hashing.size, hashing.digest.hexdigest()]
        put(CUSTOMERS, customers_csv(customers))
        put(SURVEY, survey_csv())
        put(BUDGET, budget_xlsx())
        put(BADLY_NAMED, marketing_csv())
        put(SCRIPT, ANALYSIS_SCRIPT.encode())
        put(CHART, bar_chart(sales.region_totals()))
        put(CLEANED, cleaned_csv(sales))
        put(NOTE, restart_note(sales).encode())
        # Last: what each file holds, so that a later run can tell which the user changed.
        with _writing(root / DEMO_MARKER):
            write_text(root / DEMO_MARKER, json.dumps({"version": MARKER_VERSION, "files": list(DEMO_FILES),
                                                       "written": stamps}, indent=2) + "\n")
    except BaseException:
        if not refreshed:
            _undo(root, written, root_created)
        raise
    return DemoResult(root=root, files=tuple(name for name in written if name in DEMO_FILES) if missing_only
                      else DEMO_FILES, refreshed=refreshed)


class _Discard:
    """A binary sink that hashes what passes through it, and writes it on to ``inner`` when there is one (else
    the transactions' rows are generated again for the files made from them, and written nowhere)."""

    def __init__(self) -> None:
        self.inner: BinaryIO | None = None
        self.digest = hashlib.blake2b(digest_size=16)
        self.size = 0

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        self.size += len(data)
        return self.inner.write(data) if self.inner is not None else len(data)

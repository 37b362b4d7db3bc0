"""PDFs: pages, metadata and encryption, from the file's structure, never its whole content.

PDFs are opened with pypdf from an open file (it seeks; it does not load the file).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from liferaft.core.inspect import DEFAULT_ROWS, Preview
from liferaft.core.inspect.error_text import one_line

_PAPER = {(595, 842): "A4", (612, 792): "US Letter", (612, 1008): "US Legal", (842, 1191): "A3", (420, 595): "A5"}


def inspect_pdf(path: Path, *, max_rows: int = DEFAULT_ROWS, sheet: str | None = None) -> Preview:
    """Pages, title, author, producer, encryption and version of a PDF. Never raises."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(1024)
            size = fh.seek(0, 2)
            fh.seek(max(0, size - 2048))
            tail = fh.read()
            if not head:
                return Preview("pdf", error=f"{path.name} is empty (0 bytes); save or download it again")
            if b"%PDF-" not in head:
                return Preview("pdf", error=_not_pdf(path, head))
            fh.seek(0)
            return _read_pdf(path, fh, head, tail)
    except OSError as exc:
        return Preview("pdf", error=f"cannot read {path.name}: {exc.strerror or exc}")


def _not_pdf(path: Path, head: bytes) -> str:
    from liferaft.core.roles import sniff_kind

    kind = sniff_kind(head)
    what = {"text": "text", "json": "JSON text", "image": "an image", "archive": "an archive"}.get(kind)
    if head.lstrip().lower().startswith((b"<!doctype html", b"<html")):
        what = "a web page (HTML), perhaps an error page saved instead of the file"
    looks = f" (it looks like {what})" if what else ""
    return f"{path.name} is not a PDF{looks}; check that it is the right file or download it again"


def _read_pdf(path: Path, fh: IO[bytes], head: bytes, tail: bytes) -> Preview:
    import warnings

    notes: list[str] = []
    facts: list[tuple[str, str]] = []
    version = re.search(rb"%PDF-(\d+\.\d+)", head)
    with warnings.catch_warnings(), _pypdf_messages() as messages:
        warnings.simplefilter("ignore")
        try:
            from pypdf import PdfReader

            reader = PdfReader(fh, strict=False)
        except MemoryError:
            raise
        except Exception as exc:
            what = "cut short (it has no end-of-file marker)" if b"%%EOF" not in tail else f"damaged ({one_line(exc)})"
            return Preview("pdf", error=f"{path.name} is {what}; save or download it again")
        encrypted = bool(_attempt(lambda: reader.is_encrypted, False))
        locked = False
        encryption = "no"
        if encrypted:
            # Many PDFs are encrypted with an empty password only to restrict printing or copying.
            locked, encryption = _try_empty_password(reader)
        pages = _attempt(lambda: len(reader.pages), None)
        facts.append(("pages", f"{pages:,}" if isinstance(pages, int) else "unknown"))
        if not locked:
            meta = _attempt(lambda: reader.metadata, None)
            for label, key in (("title", "/Title"), ("author", "/Author"), ("producer", "/Producer"),
                               ("created with", "/Creator")):
                value = _attempt(lambda key=key: meta.get(key) if meta else None, None)
                text = " ".join(str(value).split()) if value is not None else ""
                if text:
                    facts.append((label, text[:200]))
            created = _attempt(lambda: meta.creation_date if meta else None, None)
            if isinstance(created, datetime):
                facts.append(("created", created.isoformat(sep=" ", timespec="minutes")))
            paper = _attempt(lambda: _paper(reader.pages[0].mediabox) if pages else None, None)
            if paper:
                facts.append(("page size", paper))
        facts.append(("encrypted", encryption))
        header = _attempt(lambda: reader.pdf_header, "")
        shown = header.removeprefix("%PDF-") if isinstance(header, str) and header else None
        if shown is None and version:
            shown = version.group(1).decode()
        if shown:
            facts.append(("PDF version", shown))
    if b"%%EOF" not in tail:
        notes.append("no end-of-file marker: the PDF is probably cut short; save or download it again")
    if messages:
        notes.append(f"the PDF has structural problems ({messages[0]})")
    if pages is None:
        notes.append("the page count could not be read")
    return Preview("pdf", facts=tuple(facts), notes=tuple(notes))


def _try_empty_password(reader: Any) -> tuple[bool, str]:
    """(whether the content stays locked, the "encrypted" fact) after trying the empty password."""
    from pypdf.errors import DependencyError

    try:
        opened = bool(reader.decrypt(""))
    except DependencyError:  # AES needs the optional `cryptography` package
        return True, "yes (AES; Liferaft cannot tell whether a password is needed)"
    except MemoryError:
        raise
    except Exception:
        opened = False
    return (False, "yes (no password needed)") if opened else (True, "yes, a password is needed to read it")


def _paper(box: Any) -> str:
    width, height = float(box.width), float(box.height)
    key = (round(min(width, height)), round(max(width, height)))
    name = next((label for (w, h), label in _PAPER.items() if abs(w - key[0]) <= 2 and abs(h - key[1]) <= 2), None)
    millimetres = f"{width * 25.4 / 72:.0f} × {height * 25.4 / 72:.0f} mm"
    orientation = " landscape" if width > height else ""
    return f"{name}{orientation} ({millimetres})" if name else millimetres


def _attempt(read: Any, default: Any) -> Any:
    try:
        return read()
    except MemoryError:
        raise
    except Exception:
        return default


@contextmanager
def _pypdf_messages() -> Iterator[list[str]]:
    """Collect what pypdf logs about a damaged file (instead of letting it reach the terminal)."""
    import logging

    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if len(messages) < 5:
                messages.append(one_line(Exception(record.getMessage())))

    logger = logging.getLogger("pypdf")
    handler = Collect(logging.WARNING)
    propagate = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield messages
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate

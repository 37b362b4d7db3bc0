"""Human-readable sizes and times, shared by the CLI and the TUI."""

from __future__ import annotations

import time


def format_size(size: int) -> str:
    """``1536`` → ``'1.5 KB'``. Decimal units, as browsers and the vendor's upload limits use them."""
    if size < 1000:
        return f"{size} B"
    value = float(size)
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1000.0
        if value < 999.95 or unit == "TB":
            return f"{value:.1f} {unit}" if value < 100 else f"{value:.0f} {unit}"
    raise AssertionError("unreachable")


def format_age(mtime: float, now: float | None = None) -> str:
    """How long ago ``mtime`` was, in a few characters: ``'just now'``, ``'3 min ago'``, ``'2 h ago'``."""
    now = time.time() if now is None else now
    seconds = now - mtime
    if seconds < 0:
        return "in the future"
    if seconds < 45:
        return "just now"
    minutes = seconds / 60
    if minutes < 60:
        return f"{max(1, round(minutes))} min ago"
    hours = minutes / 60
    if hours < 36:
        return f"{round(hours)} h ago"
    days = hours / 24
    if days < 60:
        return f"{round(days)} days ago"
    return time.strftime("%Y-%m-%d", time.localtime(mtime))


def format_age_short(mtime: float, now: float | None = None) -> str:
    """At most seven characters, for columns: ``"now"``, ``"3 min"``, ``"2 h"``, ``"12 d"``, ``"2025-03"``."""
    now = time.time() if now is None else now
    seconds = now - mtime
    if seconds < 45:
        return "now" if seconds > -60 else "future"
    if seconds < 3600:
        return f"{max(1, round(seconds / 60))} min"
    if seconds < 36 * 3600:
        return f"{round(seconds / 3600)} h"
    if seconds < 60 * 86400:
        return f"{round(seconds / 86400)} d"
    return time.strftime("%Y-%m", time.localtime(mtime))


def format_count(count: int, noun: str) -> str:
    """``(1, "file")`` → ``'1 file'``; ``(10419, "file")`` → ``'10,419 files'``."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"

"""Background work that keeps out of the way of a key.

The workbench answers a key on its UI thread while threads of the same process may be reading a large folder;
they share one interpreter, and each holds it in turn, so a key's screen took twice as long to draw while a scan
of 200,000 files ran beside it. A front end says when the user just pressed a key (:func:`key_pressed`); long
loops call :func:`give_way` between pieces of work (a scan, once per folder) and wait, briefly, while the key's
screen is being drawn. A process where nobody presses keys (the command line) never waits.
"""

from __future__ import annotations

import time

#: How long after a key background loops wait (seconds): a screen opened by a key is drawn within this.
KEY_GRACE_S = 0.3
#: The longest one call of give_way waits, however many keys arrive: the work must still finish.
MAX_WAIT_S = 0.5

_busy_until = 0.0


def key_pressed(now: float | None = None) -> None:
    """The user just pressed a key (or clicked): background loops wait a moment (``time.monotonic`` seconds)."""
    global _busy_until
    _busy_until = (time.monotonic() if now is None else now) + KEY_GRACE_S


def busy_for(now: float | None = None) -> float:
    """Seconds left of the moment a key's screen is being drawn (0 when no key was pressed just now)."""
    return max(0.0, _busy_until - (time.monotonic() if now is None else now))


def give_way() -> None:
    """Between two pieces of background work: while a key is being answered, wait (at most MAX_WAIT_S)."""
    now = time.monotonic()
    if now >= _busy_until:
        return
    deadline = now + MAX_WAIT_S
    while now < _busy_until and now < deadline:
        time.sleep(min(0.02, _busy_until - now, deadline - now))
        now = time.monotonic()


__all__ = ["KEY_GRACE_S", "MAX_WAIT_S", "busy_for", "give_way", "key_pressed"]

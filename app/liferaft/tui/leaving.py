"""Leaving the workbench at once: the process ends as soon as the terminal is given back.

After the terminal is restored, Textual takes the whole screen apart, widget by widget, before ``App.run``
returns: on a project of 200,000 files that was a fifth of a second after ctrl+q with the shell prompt not yet
back. Nothing in it matters to a process about to end: every file Liferaft writes is written when it is written,
its worker processes end with it (they watch for it), its threads are daemons. So the real workbench (never a
test, never the headless smoke run, which use other drivers) ends its process right after the terminal is
restored, with the exit code it would have returned. A workbench that stopped on an error goes the usual way:
Textual prints the error after taking the screen apart.
"""

from __future__ import annotations

import contextlib
import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from textual.app import App
    from textual.driver import Driver


def exit_code(app: App[object]) -> int:
    """The exit code of a workbench that has stopped: its return code, else its return value when that is one."""
    if app.return_code:
        return app.return_code
    value = app.return_value
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def stopped_cleanly(app: App[object]) -> bool:
    """True when the app stopped without an error to print (when unsure, False: the usual way is always safe)."""
    errors = getattr(app, "_exit_renderables", None)
    return app.return_code is not None and app.return_code != 1 and errors is not None and not errors


def leaving_at_once(base: type[Driver]) -> type[Driver]:
    """``base`` (the platform's terminal driver), ending the process once the terminal is restored."""

    class LeavingDriver(base):  # type: ignore[valid-type, misc]
        def stop_application_mode(self) -> None:
            super().stop_application_mode()
            app = self._app
            if not stopped_cleanly(app):
                return
            code = exit_code(app)
            self.close()  # what is still queued for the terminal (leaving the alternate screen) is written
            for stream in (sys.stdout, sys.stderr):
                with contextlib.suppress(OSError, ValueError, AttributeError):
                    stream.flush()
            os._exit(code)

    LeavingDriver.__name__ = LeavingDriver.__qualname__ = f"Leaving{base.__name__}"
    return LeavingDriver


__all__ = ["exit_code", "leaving_at_once", "stopped_cleanly"]

"""Windows Subsystem for Linux: Linux, with Windows' programs and drives beside it (see docs/platforms.md).

What Liferaft does differently there: the browser is Windows', so downloads land in Windows' Downloads folder
(:func:`windows_downloads`), not ``~/Downloads``; the file manager is Windows' explorer, given a Windows path
(:func:`windows_path`); the clipboard is read back through ``powershell.exe``, which is slow to start (see
:mod:`liferaft.core.clipboard`). :func:`is_wsl` is the one test of where Liferaft runs: every caller asks it
through this module (``wsl.is_wsl()``), so a test can fake it in one place.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

#: The kernel's release: WSL's says "microsoft" ("5.15.90.1-microsoft-standard-WSL2").
OSRELEASE = Path("/proc/sys/kernel/osrelease")
#: Where Windows' user folders are seen from WSL (drive C: mounted at /mnt/c, WSL's default).
WINDOWS_USERS = Path("/mnt/c/Users")
#: The folders under Users that are no one's own.
_NOT_A_USER = frozenset({"public", "default", "default user", "all users"})
#: Seconds to wait for a Windows program asked from WSL (cmd.exe starts in well under a second).
TIMEOUT = 3.0


def is_wsl(environ: Mapping[str, str] | None = None) -> bool:
    """Whether Liferaft runs in WSL: Linux with ``WSL_DISTRO_NAME`` set (WSL sets it in every shell), or a
    kernel whose release says "microsoft" (a process started without that variable)."""
    if sys.platform != "linux":
        return False
    if (os.environ if environ is None else environ).get("WSL_DISTRO_NAME"):
        return True
    try:
        release = OSRELEASE.read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    return "microsoft" in release.casefold()


def _output(command: list[str], cwd: Path | None = None) -> str | None:
    """What ``command`` printed (its first line, stripped), or None when it could not run, failed or took more
    than :data:`TIMEOUT` seconds."""
    import subprocess

    try:
        done = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, timeout=TIMEOUT,
                              cwd=cwd if cwd is not None and cwd.is_dir() else None)
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0 or not isinstance(done.stdout, bytes):
        return None
    lines = done.stdout.decode("utf-8", "replace").strip().splitlines()
    return lines[0].strip() if lines else None


def windows_path(path: Path | str) -> str | None:
    """``path`` as Windows programs name it (``wslpath -w``: ``C:\\...`` or ``\\\\wsl.localhost\\...``), or None
    when it cannot be converted."""
    return _output(["wslpath", "-w", os.path.abspath(path)])


_downloads: list[Path | None] = []


def windows_downloads() -> Path | None:
    """Windows' Downloads folder seen from WSL, or None when it cannot be found. Windows is asked for the user's
    profile folder (``cmd.exe /c echo %USERPROFILE%``, converted by ``wslpath -u``); failing that, the one
    ``/mnt/c/Users/NAME/Downloads`` there is (several users' leave it open which). Asked once a run."""
    if not _downloads:
        _downloads.append(_find_windows_downloads())
    return _downloads[0]


def _find_windows_downloads() -> Path | None:
    # Started from a Linux folder, cmd.exe complains about UNC paths: it is started in a Windows one.
    profile = _output(["cmd.exe", "/d", "/c", "echo %USERPROFILE%"], cwd=WINDOWS_USERS.parent)
    if profile and "%" not in profile:
        seen = _output(["wslpath", "-u", profile])
        if seen and (Path(seen) / "Downloads").is_dir():
            return Path(seen) / "Downloads"
    try:
        users = list(WINDOWS_USERS.iterdir())
    except OSError:
        return None
    found = [user / "Downloads" for user in users
             if user.name.casefold() not in _NOT_A_USER and (user / "Downloads").is_dir()]
    return found[0] if len(found) == 1 else None

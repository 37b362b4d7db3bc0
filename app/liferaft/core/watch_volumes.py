"""Which filesystem a folder is on, and whether it must be watched by polling: the mount table (``/proc/mounts``
on Linux, ``mount``'s output on macOS and the BSDs), network drives on Windows, and why native events could not
start.

Split from :mod:`liferaft.core.watch`, which re-exports these names.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# --- filesystems ---------------------------------------------------------------------------------------


#: Filesystem types where native events do not arrive (or only for local changes): watched by polling.
POLLING_FSTYPES = frozenset({
    "nfs", "nfs4", "cifs", "smb", "smb2", "smb3", "smbfs", "ncpfs", "afs", "coda", "ceph", "glusterfs",
    "9p", "v9fs", "drvfs", "virtiofs", "vboxsf", "vmhgfs", "prl_fs", "overlay", "aufs", "fakeowner",
    "fuse.sshfs", "fuse.rclone", "fuse.s3fs", "fuse.gcsfuse", "fuse.grpcfuse", "fuse.vmhgfs-fuse", "fuse.osxfs",
    "fuse.davfs", "fuse.smbnetfs", "fuse.goofys", "fuse.mergerfs",
})


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

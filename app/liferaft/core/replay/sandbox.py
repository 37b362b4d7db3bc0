"""The replay's isolation: the kernel runs under bubblewrap (Linux) with no network, the whole file system
read-only but for the replay folder and a private runtime folder (its temporary files and home), the real
home folder and ``/tmp`` hidden, its own process and
IPC namespaces. Where that is not possible (no bubblewrap, user namespaces turned off, macOS, Windows) the
reason is given and a replay runs only when the user says so (``--no-sandbox``)."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

#: The Debian/Ubuntu/Fedora package that provides ``bwrap``.
PACKAGE = "bubblewrap"


@functools.cache
def unavailable() -> str | None:
    """Why the kernel cannot be sandboxed here (one line), or None when it can."""
    if not sys.platform.startswith("linux"):
        return f"the replay sandbox uses bubblewrap, which runs on Linux only (this is {sys.platform})"
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return f"bubblewrap is not installed (install the '{PACKAGE}' package to sandbox replays)"
    try:
        probe = subprocess.run([bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-all",
                                "--die-with-parent", "--", "true"], capture_output=True, timeout=20, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"bubblewrap could not be started ({exc})"
    if probe.returncode != 0:
        said = probe.stderr.decode("utf-8", "replace").strip().splitlines()
        why = said[-1] if said else f"exit status {probe.returncode}"
        return f"bubblewrap cannot make a sandbox here ({why}); user namespaces may be turned off"
    return None


def _python_home(python: Path) -> list[Path]:
    """The folders an environment's Python needs to start: the environment and the interpreter it was made
    from (``home`` in pyvenv.cfg), which may live under the hidden home folder (pyenv, uv's own Pythons)."""
    env = python.parent.parent
    needed = [env, python.resolve().parent.parent]
    cfg = env / "pyvenv.cfg"
    try:
        for line in cfg.read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition("=")
            if key.strip() == "home" and value.strip():
                needed.append(Path(value.strip()).resolve().parent)
    except OSError:
        pass
    return needed


def wrap(command: Sequence[str], *, python: Path, project: Path, replay_dir: Path, runtime_dir: Path,
         readable: Sequence[Path] = ()) -> list[str]:
    """``command`` run inside the sandbox. The project is visible read-only at its own path (so the code's
    paths mean what they meant), the replay folder and ``runtime_dir`` (the kernel's sockets) are writable,
    ``/tmp`` and the home folder are empty and private, and there is no network."""
    bwrap = shutil.which("bwrap") or "bwrap"
    args = [bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]
    home = Path(os.path.expanduser("~"))
    if str(home) not in ("/", ""):
        args += ["--tmpfs", str(home)]
    # Sockets of the host's services (the session bus, an SSH agent, Docker's) live under /run: hidden, so the
    # code cannot ask one of them to act outside the sandbox (abstract sockets stay in the host's network). Hidden
    # before the binds below: a project on a drive mounted under /run/media is bound back in.
    services = [hidden for hidden in ("/run", "/var/run") if os.path.isdir(hidden) and not os.path.islink(hidden)]
    for hidden in services:
        args += ["--tmpfs", hidden]
    binds: list[Path] = []
    for folder in [*_python_home(python), project, *readable]:
        folder = folder.resolve()
        if folder.is_dir() and not any(folder == done or done in folder.parents for done in binds):
            binds.append(folder)
    for folder in sorted(binds, key=lambda path: len(path.parts)):
        args += ["--ro-bind", str(folder), str(folder)]
    for folder in (replay_dir.resolve(), runtime_dir.resolve()):
        args += ["--bind", str(folder), str(folder)]
    for hidden in services:
        args += ["--remount-ro", hidden]
    # The empty /tmp and home are read-only too: a write there is refused, not lost in a folder that vanishes.
    args += ["--remount-ro", "/tmp"]
    if str(home) not in ("/", ""):
        args += ["--remount-ro", str(home)]
    runtime = runtime_dir.resolve()
    (runtime / "tmp").mkdir(exist_ok=True)
    for variable in ("DBUS_SESSION_BUS_ADDRESS", "SSH_AUTH_SOCK", "XDG_RUNTIME_DIR", "DISPLAY", "WAYLAND_DISPLAY"):
        args += ["--unsetenv", variable]
    args += ["--setenv", "HOME", str(runtime / "home"), "--setenv", "TMPDIR", str(runtime / "tmp"),
             "--unshare-all", "--die-with-parent",
             "--new-session", "--chdir", str(replay_dir.resolve()), "--"]
    return args + list(command)

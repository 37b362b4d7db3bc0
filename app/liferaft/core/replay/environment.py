"""The virtual environment a replay runs in, built with uv and kept for the next replay that needs the same.

An environment is named by :func:`environment_key`: a hash of its sorted requirement specifiers and the Python it
runs (its real path and version), so two replays with the same needs share one, and nothing is ever installed into
an environment another replay uses. Environments live in :func:`environments_dir` (the user cache folder, or
``LIFERAFT_CACHE_DIR``).

Building one (:func:`ensure_environment`): under a lock for its key, ``uv venv`` makes it in a hidden temporary
folder beside the final one, ``uv pip install`` fills it (the sandbox's versions, see
:mod:`liferaft.core.replay.packages`), the versions installed are written to its marker file
(``.liferaft-env.json``) last, and only then is the folder renamed into place. A folder is complete only with the
marker naming the same specifiers; a build killed half-way leaves a temporary folder, which the next build for that
key removes. uv never downloads a Python: the environment uses the interpreter given (by default the one running
Liferaft), or fails saying so.

``[replay] python = "/path/to/python"`` in config.toml replaces all this: that interpreter is the replay's
environment as it is, nothing installed (:func:`existing_environment`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from liferaft.core import storage
from liferaft.core.replay.packages import ReplayConfigError, distribution_key, sandbox_facts

#: Overrides where environments are kept (tests use it).
CACHE_ENV = "LIFERAFT_CACHE_DIR"
#: The file that makes an environment complete, written last.
MARKER = ".liferaft-env.json"
#: Bumped when the layout of an environment or its marker changes, so old ones are not reused.
FORMAT = 2  # 2: modules compiled at install (the sandbox cannot cache them)


class ReplayEnvironmentError(RuntimeError):
    """The replay's environment could not be made or used; the message is one line saying why and what to do."""


class ReplayCancelled(ReplayEnvironmentError):
    """The build was cancelled; nothing of it is left."""


@dataclass(frozen=True, slots=True)
class Environment:
    path: Path
    """The environment's folder (for ``[replay] python``, that interpreter's ``sys.prefix``)."""
    python: Path
    """The interpreter that runs the kernel."""
    specs: tuple[str, ...]
    """The requirement specifiers it was built for, sorted (empty for ``[replay] python``)."""
    reused: bool
    """True when it was there already (or is the configured interpreter), False when this call built it."""
    newest: bool = False
    """True when the sandbox's versions would not install and the newest ones were installed instead."""


@dataclass(frozen=True, slots=True)
class ReplaySettings:
    """The ``[replay]`` table of config.toml."""

    python: str | None = None
    """``python = "/path/to/python"``: run the replay in that interpreter as it is."""
    packages: Mapping[str, object] | None = None
    """``[replay.packages]``: overrides by import name (see :mod:`liferaft.core.replay.packages`)."""
    cell_timeout: float | None = None
    """``cell_timeout = 900``: seconds a cell may run before it is interrupted (``--cell-timeout`` wins)."""


def replay_settings(other: Mapping[str, object]) -> ReplaySettings:
    """The ``[replay]`` table from :attr:`liferaft.core.config.Settings.other`. Raises :class:`ReplayConfigError`."""
    table = other.get("replay")
    if table is None:
        return ReplaySettings()
    if not isinstance(table, Mapping):
        raise ReplayConfigError("config.toml: [replay] must be a table")
    python = table.get("python")
    if python is not None and (not isinstance(python, str) or not python.strip()):
        raise ReplayConfigError('config.toml: [replay] python must be the path of an interpreter, "/usr/bin/python3"')
    packages = table.get("packages")
    if packages is not None and not isinstance(packages, Mapping):
        raise ReplayConfigError("config.toml: [replay.packages] must be a table of import name = version")
    timeout = table.get("cell_timeout")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0):
        raise ReplayConfigError("config.toml: [replay] cell_timeout must be a number of seconds above 0, e.g. 900")
    unknown = sorted(set(table) - {"python", "packages", "cell_timeout"})
    if unknown:
        raise ReplayConfigError(f"config.toml: [replay] has no setting {unknown[0]}; it takes python, packages "
                                "and cell_timeout")
    return ReplaySettings(python=python.strip() if python else None, packages=packages,
                          cell_timeout=float(timeout) if timeout is not None else None)


# --- where, and under which name -------------------------------------------------------------------------------


def environments_dir() -> Path:
    """Where replay environments are kept: ``replay-envs`` in the user cache folder, or in ``LIFERAFT_CACHE_DIR``."""
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override).expanduser() / "replay-envs"
    import platformdirs

    return platformdirs.user_cache_path("liferaft", appauthor=False) / "replay-envs"


@dataclass(frozen=True, slots=True)
class _Interpreter:
    path: str  # real path of the executable given
    version: tuple[int, int, int]


def _interpreter(python: str | None) -> _Interpreter:
    if python is None or python == sys.executable:
        return _Interpreter(os.path.realpath(sys.executable), sys.version_info[:3])
    found = shutil.which(python) or python
    try:
        done = subprocess.run(
            [found, "-c", "import sys; print(*sys.version_info[:3])"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        major, minor, micro = (int(part) for part in done.stdout.split())
    except (OSError, subprocess.SubprocessError, ValueError):
        raise ReplayEnvironmentError(f"{python} is not a Python interpreter that runs; give the path of one") from None
    return _Interpreter(os.path.realpath(found), (major, minor, micro))


def environment_key(specs: Iterable[str], python: str | None = None) -> str:
    """The folder name of the environment for ``specs`` on ``python`` (default: the Python running Liferaft).

    Stable: the same specifiers in any order and the same interpreter (real path, major.minor) give the same key;
    it starts with the Python version (``py311-``) so the folder says what it is.
    """
    return _key(specs, _interpreter(python))


def _key(specs: Iterable[str], interpreter: _Interpreter) -> str:
    major, minor, _ = interpreter.version
    payload = json.dumps([FORMAT, sorted(set(specs)), interpreter.path, [major, minor]])
    return f"py{major}{minor}-{hashlib.sha256(payload.encode()).hexdigest()[:16]}"


def find_uv() -> str:
    """The uv executable: the one the ``uv`` package (a dependency of Liferaft) ships, else ``uv`` on PATH."""
    try:
        import uv

        return uv.find_uv_bin()
    except (ImportError, FileNotFoundError):
        pass
    found = shutil.which("uv")
    if found:
        return found
    raise ReplayEnvironmentError("uv is not installed; reinstall Liferaft (pip install -e .) or put uv on PATH")


def _env_python(folder: Path) -> Path:
    return folder / "Scripts" / "python.exe" if sys.platform == "win32" else folder / "bin" / "python"


# --- the marker ------------------------------------------------------------------------------------------------


def _read_marker(folder: Path) -> dict[str, object] | None:
    try:
        data = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _complete(folder: Path, specs: tuple[str, ...]) -> dict[str, object] | None:
    """The marker of ``folder`` when it holds a finished environment for ``specs``, else None."""
    marker = _read_marker(folder)
    if marker is None or marker.get("format") != FORMAT or marker.get("specs") != list(specs):
        return None
    return marker if _env_python(folder).exists() else None


def installed_versions(env: Environment) -> dict[str, str]:
    """The distributions installed in ``env`` and their versions, by normalised name (``scikit-learn``).

    Read from the environment's marker; asked of uv (``uv pip freeze``) for one without it.
    """
    marker = _read_marker(env.path)
    versions = marker.get("versions") if marker else None
    if isinstance(versions, dict):
        return {str(name): str(version) for name, version in versions.items()}
    return _freeze(find_uv(), env.python)


def _freeze(uv: str, python: Path) -> dict[str, str]:
    try:
        done = subprocess.run(
            [uv, "pip", "freeze", "--python", str(python)],
            capture_output=True,
            text=True,
            timeout=120,
            env=_uv_env(),
            check=True,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise ReplayEnvironmentError(f"cannot list the packages of {python}: {exc}") from None
    versions: dict[str, str] = {}
    for line in done.stdout.splitlines():
        name, sep, version = line.strip().partition("==")
        if sep and name and version:
            versions[re.sub(r"[-_.]+", "-", name).lower()] = version
    return versions


# --- running uv ------------------------------------------------------------------------------------------------


def _uv_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(UV_PYTHON_DOWNLOADS="never", NO_COLOR="1", UV_NO_PROGRESS="1")
    env.pop("VIRTUAL_ENV", None)  # uv would otherwise say the active one is ignored
    return env


class _Failed(Exception):
    """uv exited with an error; ``output`` is what it printed."""

    def __init__(self, output: tuple[str, ...]) -> None:
        super().__init__("uv failed")
        self.output = output


def _run(command: list[str], progress: Callable[[str], None] | None, cancel: threading.Event | None) -> None:
    """Run uv, passing each line it prints to ``progress``; :class:`_Failed` with its output when it fails."""
    try:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
            env=_uv_env(),
        )
    except OSError as exc:
        raise ReplayEnvironmentError(f"cannot run uv ({command[0]}): {exc.strerror or exc}") from None
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line.rstrip())
        lines.put(None)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    output: list[str] = []
    try:
        while True:
            if cancel is not None and cancel.is_set():
                raise ReplayCancelled("cancelled; nothing was kept")
            try:
                line = lines.get(timeout=0.1)
            except queue.Empty:
                continue
            if line is None:
                break
            output.append(line)
            if progress is not None and line.strip():
                progress(line.strip())
        if process.wait() != 0:
            raise _Failed(tuple(output))
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        reader.join(timeout=5)


_BOX = re.compile(r"^[\s×╰─▶│|:]+")


def _spec_name(spec: str) -> str:
    return re.split(r"[=<>!~ ;\[]", spec, maxsplit=1)[0]


def _wheels_only(specs: Iterable[str]) -> list[str]:
    """uv's options to install from wheels only (no compiler, and an old version without a wheel for this Python
    is passed over for the nearest newer one), but for the few distributions published only as source."""
    source_only = sandbox_facts().source_only
    options = ["--only-binary", ":all:"]
    for spec in specs:
        if distribution_key(_spec_name(spec)) in source_only:
            options += ["--no-binary", _spec_name(spec)]
    return options


def _failure(specs: tuple[str, ...], output: tuple[str, ...], version: tuple[int, int, int]) -> str:
    """One line: which requirement failed (the first of ours uv's message names), uv's reason, and what to do."""
    text = "\n".join(output)
    lowered = re.sub(r"[-_.]+", "-", text.lower())
    python = f"Python {version[0]}.{version[1]}"
    lines = [_BOX.sub("", line).strip() for line in output]
    lines = [line for line in lines if line and not line.startswith(("hint:", "warning:", "Using Python"))]
    because = next((line for line in lines if "Because " in line), None)
    if because is not None:  # "Because pandas==1.5.3 has no usable wheels and you require ..., we can conclude..."
        reason = re.split(r" and you require |, we can conclude ", because.split("Because ", 1)[1])[0]
    else:
        reason = lines[-1].removeprefix("error:").strip() if lines else "uv gave no reason"
    reason = re.sub(r"\s+", " ", reason)
    if len(reason) > 240:
        reason = reason[:237] + "..."
    for spec in specs:
        name = _spec_name(spec)
        pattern = r"(?<![a-z0-9-])" + re.escape(re.sub(r"[-_.]+", "-", name.lower())) + r"(?![a-z0-9])"
        if re.search(pattern, lowered):
            wanted = spec[len(name) :].lstrip("=>")
            named = f"{name} {wanted}" if wanted else name
            fix = "name another distribution" if "not found" in reason else "set another version"
            return (
                f"{named} could not be installed for {python}: {reason}; {fix} for it under [replay.packages] "
                "in config.toml, or set [replay] python to an interpreter that has it"
            )
    return f"the replay environment could not be built for {python}: {reason}"


# --- building --------------------------------------------------------------------------------------------------

#: A temporary build folder of one key: ``.liferaft-tmp-<key>-<random>``.
_TMP_PREFIX = storage.TEMP_PREFIX


def _remove(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    if folder.exists():  # a file left read-only, say: try once more after making it writable
        for root, dirs, files in os.walk(folder):
            for name in dirs + files:
                with contextlib.suppress(OSError):
                    os.chmod(os.path.join(root, name), 0o700)
        shutil.rmtree(folder, ignore_errors=True)


def _rename_into_place(build: Path, final: Path) -> None:
    """``os.rename(build, final)``: never over an existing folder (Windows refuses; elsewhere only an empty one
    would be replaced). On Windows a rename refused with a PermissionError (an antivirus still scanning the new
    .pyd and .dll files, an indexer) is tried again (:func:`storage.retry_while_held`)."""
    storage.retry_while_held(lambda: os.rename(build, final))


def _not_in_place(final: Path, exc: OSError) -> str:
    """One line: the environment was built but could not be given its name ``final``."""
    if isinstance(exc, PermissionError) and sys.platform == "win32":
        reason = (f"Windows kept refusing ({exc.strerror or exc}; an antivirus or another program was probably "
                  "still reading its new files): try again in a moment")
    else:
        reason = f"{exc.strerror or exc}"
    return f"the replay environment was built but could not be put in place as {final}: {reason}"


def ensure_environment(
    specs: Iterable[str],
    *,
    python: str | None = None,
    progress: Callable[[str], None] | None = None,
    cancel: threading.Event | None = None,
) -> Environment:
    """The environment holding ``specs`` on ``python`` (default: the Python running Liferaft), built if needed.

    A complete environment for the same key is reused (``reused=True``). Otherwise it is built (see the module
    docstring) with the sandbox's versions, or, when those do not install on this Python, the newest versions
    (``newest=True``, and ``progress`` says so). ``progress`` gets one line per step and each line uv prints;
    setting ``cancel`` stops the build, removes what it made and raises :class:`ReplayCancelled`. Any failure
    raises :class:`ReplayEnvironmentError` (one line, naming the package that failed) and leaves nothing behind.
    """
    wanted = tuple(sorted(set(specs)))
    interpreter = _interpreter(python)
    key = _key(wanted, interpreter)
    home = environments_dir()
    final = home / key
    say = progress or (lambda _line: None)
    if (marker := _complete(final, wanted)) is not None:
        return Environment(final, _env_python(final), wanted, reused=True, newest=marker.get("newest") is True)
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReplayEnvironmentError(f"cannot create {home}: {exc.strerror or exc}; set {CACHE_ENV}") from None
    uv = find_uv()
    with storage.locked(home / f"{key}.json"):
        # Holding the lock, nobody else is building this key: what is left of one is from a build that died.
        for leftover in home.glob(f"{_TMP_PREFIX}{key}-*"):
            _remove(leftover)
        if (marker := _complete(final, wanted)) is not None:  # built by another process while we waited
            return Environment(final, _env_python(final), wanted, reused=True, newest=marker.get("newest") is True)
        if final.exists():  # not complete: not ours to trust
            _remove(final)
        import tempfile

        build = Path(tempfile.mkdtemp(prefix=f"{_TMP_PREFIX}{key}-", dir=home))
        try:
            newest = _build(uv, build, wanted, interpreter, say, cancel)
            try:
                _rename_into_place(build, final)
            except OSError as exc:
                if _complete(final, wanted) is None:  # the first rename wins; anything else is a real failure
                    raise ReplayEnvironmentError(_not_in_place(final, exc)) from None
                _remove(build)
            storage.fsync_dir(home)
        except BaseException:
            _remove(build)
            raise
    say(f"Replay environment ready: {final}")
    return Environment(final, _env_python(final), wanted, reused=False, newest=newest)


def _build(
    uv: str,
    build: Path,
    specs: tuple[str, ...],
    interpreter: _Interpreter,
    say: Callable[[str], None],
    cancel: threading.Event | None,
) -> bool:
    """Fill ``build`` with an environment for ``specs``; True when the newest versions had to be used."""
    version = interpreter.version
    python_name = f"Python {version[0]}.{version[1]}"
    say(f"Creating the replay environment ({python_name}, {interpreter.path})")
    try:
        _run(
            [uv, "venv", "--quiet", "--relocatable", "--python-preference", "only-system",
             "--python", interpreter.path, str(build)],
            say,
            cancel,
        )  # fmt: skip
    except _Failed as failed:
        reason = _failure((), failed.output, version)
        raise ReplayEnvironmentError(reason) from None
    env_python = _env_python(build)
    # Compiled now: the sandbox mounts the environment read-only, where Python cannot cache what it compiles, and
    # compiling IPython and pandas again at every kernel start costs ~3 s (0.8 s to import them compiled).
    base = [uv, "pip", "install", "--compile-bytecode", "--python", str(env_python)]
    newest = False
    if specs:
        say(f"Installing {len(specs)} packages: {', '.join(specs)}")
        try:
            _run([*base, "--resolution", "lowest-direct", *_wheels_only(specs), *specs], say, cancel)
        except _Failed as failed:
            sandbox = sandbox_facts().python
            first = _failure(specs, failed.output, version)
            say(
                f"The sandbox's versions do not all install on {python_name} (Python {sandbox[0]}.{sandbox[1]} "
                f"in the sandbox): {first}"
            )
            say("Trying the newest versions instead")
            try:
                _run([*base, *specs], say, cancel)
            except _Failed as again:
                raise ReplayEnvironmentError(_failure(specs, again.output, version)) from None
            newest = True
    versions = _freeze(uv, env_python)
    marker = {
        "format": FORMAT,
        "specs": list(specs),
        "python": {"path": interpreter.path, "version": ".".join(map(str, version))},
        "versions": versions,
        "newest": newest,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    with storage.atomic_writer(build / MARKER) as handle:
        handle.write(json.dumps(marker, indent=2, sort_keys=True).encode("utf-8"))
    return newest


# --- an interpreter of the user's ------------------------------------------------------------------------------


def existing_environment(python: str) -> Environment:
    """The interpreter ``[replay] python`` names, as the replay's environment: checked, nothing installed.

    Raises :class:`ReplayEnvironmentError` when it does not run or cannot run a kernel (no ipykernel).
    """
    found = shutil.which(python) or python
    try:
        done = subprocess.run(
            [found, "-c", "import sys\ntry:\n import ipykernel\nexcept ImportError:\n sys.exit(3)\nprint(sys.prefix)"],
            capture_output=True,
            text=True,
            timeout=120,
        )
    except (OSError, subprocess.SubprocessError):
        raise ReplayEnvironmentError(
            f"[replay] python = {python} in config.toml does not run; give the path of a Python interpreter"
        ) from None
    if done.returncode == 3:
        raise ReplayEnvironmentError(
            f"[replay] python = {python} has no ipykernel, which runs the replay; "
            f"install it there ({found} -m pip install ipykernel) or remove [replay] python from config.toml"
        )
    if done.returncode != 0 or not done.stdout.strip():
        raise ReplayEnvironmentError(
            f"[replay] python = {python} in config.toml does not run; give the path of a Python interpreter"
        )
    return Environment(Path(done.stdout.strip()), Path(found), (), reused=True)

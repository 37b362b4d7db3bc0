"""One stateful Jupyter kernel (ipykernel, in the replay's environment) driven with jupyter_client.

The kernel talks over IPC sockets in a private runtime folder (a sandboxed kernel has no network, not even
loopback). A cell that runs too long or that the user stops is interrupted with the protocol's own
``interrupt_request`` (no signal has to cross the sandbox); a kernel that does not come back is killed.
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import secrets
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from liferaft.core import storage

#: How long a kernel may take to start before Liferaft gives up on it.
START_TIMEOUT = 60.0
#: After an interrupt, how long the cell has to stop before the kernel is killed.
INTERRUPT_GRACE = 5.0
#: What a cell may print that is kept (and shown): past it, the rest is counted, not kept.
MAX_OUTPUT_CHARS = 2_000_000
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


class KernelError(RuntimeError):
    """The kernel could not be started or died; the message says why, in one line."""


def plain(text: str) -> str:
    """Terminal colour codes taken out of a traceback line."""
    return _ANSI.sub("", text)


@dataclass(slots=True)
class Execution:
    """What one cell did."""

    status: str = "ok"
    """``ok``, ``error``, ``timeout`` (interrupted after its time limit), ``interrupted`` (stopped by the user)
    or ``died`` (the kernel ended)."""
    outputs: list[dict[str, Any]] = field(default_factory=list)
    """Its outputs in nbformat 4 form (stream, display_data, execute_result, error)."""
    seconds: float = 0.0
    ename: str = ""
    evalue: str = ""
    traceback: list[str] = field(default_factory=list)
    """The traceback's lines, colour codes removed."""

    @property
    def text(self) -> str:
        """Everything it printed or showed as text, in order."""
        parts = []
        for output in self.outputs:
            if output["output_type"] == "stream":
                parts.append(output["text"])
            elif output["output_type"] in ("execute_result", "display_data"):
                data = output.get("data", {})
                if "text/plain" in data:
                    parts.append(data["text/plain"] + "\n")
                elif "image/png" in data:
                    parts.append("[an image]\n")
        return "".join(parts)


def _nb_output(msg_type: str, content: dict[str, Any]) -> dict[str, Any] | None:
    if msg_type == "stream":
        return {"output_type": "stream", "name": content.get("name", "stdout"), "text": content.get("text", "")}
    if msg_type in ("display_data", "execute_result"):
        output = {"output_type": msg_type, "data": content.get("data", {}), "metadata": content.get("metadata", {})}
        if msg_type == "execute_result":
            output["execution_count"] = content.get("execution_count")
        return output
    if msg_type == "error":
        return {"output_type": "error", "ename": content.get("ename", ""), "evalue": content.get("evalue", ""),
                "traceback": [plain(line) for line in content.get("traceback", [])]}
    return None


class Kernel:
    """A kernel process and a client connected to it. ``command`` builds the command line from the connection
    file's path (the sandbox wraps it)."""

    def __init__(self, python: Path, *, wrap: Callable[[list[str], Path], list[str]] | None = None,
                 env: dict[str, str] | None = None, cwd: Path | None = None) -> None:
        self.python = python
        self._wrap = wrap
        self._env = env or {}
        self._cwd = cwd
        self.runtime = Path(tempfile.mkdtemp(prefix="lr-replay-"))
        (self.runtime / "home").mkdir()
        self._process: subprocess.Popen[bytes] | None = None
        self._client: Any = None
        self._lock = threading.Lock()
        self._running: str | None = None
        self.stderr_path = self.runtime / "kernel-stderr.txt"
        self.ready_seconds = 0.0

    # -- life -----------------------------------------------------------------------------------------------
    def start(self, cancel: threading.Event | None = None) -> float:
        """Start the kernel and wait until it answers; the seconds it took. Raises :class:`KernelError`."""
        from jupyter_client.blocking.client import BlockingKernelClient
        from jupyter_client.connect import write_connection_file

        started = time.monotonic()
        # IPC sockets in the runtime folder (a sandboxed kernel has no network at all); Windows has no IPC
        # transport in ZeroMQ, and no sandbox either: loopback TCP there.
        if os.name == "nt":
            connection, _info = write_connection_file(str(self.runtime / "kernel.json"), transport="tcp",
                                                      ip="127.0.0.1", key=secrets.token_hex(16).encode())
        else:
            connection, _info = write_connection_file(str(self.runtime / "kernel.json"), transport="ipc",
                                                      ip=str(self.runtime / "k"), key=secrets.token_hex(16).encode())
        command = [str(self.python), "-m", "ipykernel_launcher", "-f", connection, "--quiet"]
        if self._wrap is not None:
            command = self._wrap(command, self.runtime)
        env = {**os.environ, "PYTHONNOUSERSITE": "1", "PYDEVD_DISABLE_FILE_VALIDATION": "1",
               "JUPYTER_PLATFORM_DIRS": "1", "MPLBACKEND": "module://matplotlib_inline.backend_inline",
               "MPLCONFIGDIR": str(self.runtime / "matplotlib"), "PYTHONUNBUFFERED": "1", **self._env}
        if self._wrap is None and sys.platform != "win32":
            # Unsandboxed, the kernel watches for Liferaft's end (ipykernel's parent poller) and ends with it; in
            # the sandbox, bubblewrap's --die-with-parent does that. On Windows the poller wants an inheritable
            # process handle there, not a pid: nothing is set, and the kernel is ended when the replay stops.
            env["JPY_PARENT_PID"] = str(os.getpid())
        env.pop("PYTHONPATH", None)
        env.pop("VIRTUAL_ENV", None)
        try:
            with open(self.stderr_path, "wb") as stderr:
                self._process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=stderr, stderr=stderr,
                                                 env=env, cwd=self._cwd, start_new_session=True)
        except OSError as exc:
            raise KernelError(f"the kernel could not be started: {exc.strerror or exc}") from None
        client = BlockingKernelClient(connection_file=connection)
        client.load_connection_file()
        client.start_channels()
        self._client = client
        deadline = started + START_TIMEOUT
        while True:
            if cancel is not None and cancel.is_set():
                self.stop()
                raise KernelError("stopped before the kernel was ready")
            if self._process.poll() is not None:
                raise KernelError(f"the kernel ended as it started: {self._last_stderr()}")
            try:
                client.wait_for_ready(timeout=0.5)
                break
            except RuntimeError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise KernelError(f"the kernel did not start within {START_TIMEOUT:.0f} s") from None
        self.ready_seconds = time.monotonic() - started
        return self.ready_seconds

    def _last_stderr(self) -> str:
        try:
            lines = [line for line in self.stderr_path.read_text(encoding="utf-8", errors="replace").splitlines()
                     if line.strip()]
        except OSError:
            lines = []
        return plain(lines[-1]).strip() if lines else "it printed nothing"

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self) -> None:
        """End the kernel and remove its runtime folder. The kernel holds nothing worth a polite shutdown (every
        output is already written, its history is in the runtime folder), and waiting for one costs ~0.3 s."""
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                client.stop_channels()
        self._kill()
        shutil.rmtree(self.runtime, ignore_errors=True)

    def __enter__(self) -> Kernel:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # -- cells ----------------------------------------------------------------------------------------------
    def interrupt(self) -> None:
        """Ask the running cell to stop (KeyboardInterrupt in the kernel)."""
        client = self._client
        if client is None or self._running is None:
            return
        with contextlib.suppress(Exception):
            client.control_channel.send(client.session.msg("interrupt_request", {}))

    def execute(self, code: str, *, timeout: float | None = None, silent: bool = False,
                on_output: Callable[[dict[str, Any]], None] | None = None,
                stop: threading.Event | None = None) -> Execution:
        """Run ``code`` and wait for it; outputs are passed to ``on_output`` as they come. ``timeout``: seconds
        before the cell is interrupted (status ``timeout``); ``stop``: set it to interrupt (``interrupted``)."""
        client = self._client
        if client is None or not self.alive:
            return Execution(status="died", evalue="the kernel is not running")
        result = Execution()
        started = time.monotonic()
        msg_id = client.execute(code, silent=silent, store_history=not silent, allow_stdin=False,
                                stop_on_error=False)
        self._running = msg_id
        interrupted_at: float | None = None
        reason = ""
        kept, cut = 0, False
        try:
            while True:
                now = time.monotonic()
                if interrupted_at is None:
                    if timeout is not None and now - started > timeout:
                        reason = "timeout"
                    elif stop is not None and stop.is_set():
                        reason = "interrupted"
                    if reason:
                        interrupted_at = now
                        self.interrupt()
                elif now - interrupted_at > INTERRUPT_GRACE:
                    self._kill()
                    result.status = "died"
                    result.evalue = "the cell did not stop when interrupted; the kernel was ended"
                    break
                if not self.alive:
                    result.status = "died"
                    result.evalue = f"the kernel ended: {self._last_stderr()}"
                    break
                try:
                    msg = client.get_iopub_msg(timeout=0.2)
                except Exception:  # queue.Empty: nothing yet
                    continue
                if msg["parent_header"].get("msg_id") != msg_id:
                    continue
                kind, content = msg["msg_type"], msg["content"]
                if kind == "status" and content.get("execution_state") == "idle":
                    break
                if kind == "clear_output":
                    result.outputs.clear()
                    continue
                output = _nb_output(kind, content)
                if output is None:
                    continue
                if kind == "stream":
                    kept += len(output["text"])
                    if kept > MAX_OUTPUT_CHARS:
                        if not cut:
                            cut = True
                            output = {"output_type": "stream", "name": "stderr",
                                      "text": f"\n[Liferaft: this cell printed more than {MAX_OUTPUT_CHARS:,} "
                                              "characters; the rest is not kept]\n"}
                        else:
                            continue
                if kind == "error":
                    result.ename = output["ename"]
                    result.evalue = output["evalue"]
                    result.traceback = output["traceback"]
                    result.status = "error"
                result.outputs.append(output)
                if on_output is not None:
                    on_output(output)
        finally:
            self._running = None
        if result.status == "ok":
            self._check_reply(client, msg_id, result)
        if reason and result.status in ("ok", "error"):
            result.status = reason
        result.seconds = time.monotonic() - started
        return result

    @staticmethod
    def _check_reply(client: Any, msg_id: str, result: Execution) -> None:
        """The kernel's own verdict on the cell: an error it could not show as one (IPython failing to format a
        traceback prints a note instead) still makes the cell fail."""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                reply = client.get_shell_msg(timeout=0.5)
            except Exception:  # queue.Empty: the reply is late
                continue
            if reply["parent_header"].get("msg_id") != msg_id:
                continue
            content = reply.get("content", {})
            if content.get("status") == "error":
                result.status = "error"
                result.ename = content.get("ename", "") or "Error"
                result.evalue = content.get("evalue", "")
            elif content.get("status") == "aborted":
                result.status = "error"
                result.evalue = "the kernel did not run it (aborted)"
            return

    def _kill(self) -> None:
        process = self._process
        if process is not None:
            with contextlib.suppress(OSError):
                if hasattr(os, "killpg"):
                    os.killpg(process.pid, signal.SIGKILL)  # the kernel and what it started (its own session)
                else:  # Windows
                    process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=5)


def _own_folder(folder: Path) -> bool:
    """``folder`` is a real folder (made here if missing), not a link the replayed code put in its place."""
    try:
        folder.mkdir(exist_ok=True)
        return stat.S_ISDIR(os.lstat(folder).st_mode)
    except OSError:
        return False


def save_images(outputs: Sequence[dict[str, Any]], folder: Path, stem: str,
                problems: list[str] | None = None) -> list[Path]:
    """The PNG images among a cell's outputs, written to ``folder`` as ``<stem>-<k>.png``. The replayed code can
    write in the replay folder too: a name it took (or a link it left there, to make Liferaft write through it)
    is never followed or overwritten; the image takes the next free number instead, or is not saved. A path
    Windows would refuse (over MAX_PATH, long paths off) is not tried: the images stay in the notebook only, and
    one line saying so is added to ``problems``."""
    saved: list[Path] = []
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    for output in outputs:
        data = output.get("data") if isinstance(output, dict) else None
        png = data.get("image/png") if isinstance(data, dict) else None
        if not isinstance(png, str):
            continue
        try:
            raw = base64.b64decode(png)
        except ValueError:
            continue
        first = folder / f"{stem}-{len(saved) + 1}.png"
        try:
            storage.check_path_length(first, temp_in_folder=False)
        except storage.PathTooLong as exc:
            if problems is not None:
                problems.append(f"the images are kept in the notebook only: {exc}")
            break
        if not _own_folder(folder):
            break
        for number in range(len(saved) + 1, len(saved) + 100):
            path = folder / f"{stem}-{number}.png"
            try:
                storage.check_path_length(path, temp_in_folder=False)
                fd = os.open(path, flags, 0o644)
            except FileExistsError:
                continue
            except OSError:
                break
            with os.fdopen(fd, "wb") as handle:
                handle.write(raw)
            saved.append(path)
            break
    return saved

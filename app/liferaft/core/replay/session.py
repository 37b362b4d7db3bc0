"""A replay: the recovered (or saved) code run again here, cell by cell, in one kernel, with what it writes
kept in ``OUTPUT/replayed/<date-time>/``. This is the one operation the CLI and the TUI both call
(:func:`run_replay`); they differ only in how they show progress and ask what to do after an error.

Nothing runs without a plan the user has seen (:func:`plan_replay`): which file, which cells, where results go,
whether the kernel is sandboxed (and why not, when it cannot be).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from liferaft.core import storage
from liferaft.core.replay import sandbox
from liferaft.core.replay.cells import Cell, CellsError, load_cells
from liferaft.core.replay.kernel import Execution, Kernel, KernelError, save_images
from liferaft.core.roles import Role, role_for_folder
from liferaft.core.scan import Inventory

#: Where a replay writes, inside OUTPUT.
REPLAYED_DIR = "replayed"
NOTEBOOK_NAME = "replay.ipynb"
RECORD_NAME = "replay.json"
FIGURES_DIR = "figures"
#: A cell's time limit when none is given.
DEFAULT_CELL_TIMEOUT = 600.0
#: Lines of a traceback kept in the record and shown.
TRACEBACK_LINES = 6
_SCRIPT_SUFFIXES = (".py", ".ipynb")
#: IPython's traceback frame lines (a rule of dashes, the "Traceback (most recent call last)" header): left out
#: of the lines shown, which keep the cell's own code and the error.
_TRACEBACK_FRAME = re.compile(r"^\s*-{10,}\s*$|Traceback \(most recent call last\)\s*$")


class ReplayError(Exception):
    """A replay that cannot start; the message is one line saying what to do."""


# --- choosing what to run -----------------------------------------------------------------------------------


def top_level_roles(project: Path) -> Inventory:
    """The project's role folders, from its top level alone (enough to find them: no need to scan it all)."""
    inventory = Inventory(project)
    with contextlib.suppress(OSError), os.scandir(project) as entries:
        for entry in entries:
            role = role_for_folder(entry.name) if entry.is_dir(follow_symlinks=False) else None
            if role is not None:
                inventory.role_folders[entry.name] = role
    return inventory


def role_dir(project: Path, role: Role) -> Path:
    """The project's folder for ``role`` (``SOURCE``, or ``data`` say), by the rule the import and ``status``
    use (:func:`liferaft.core.recover.write.role_folder`); ``role.folder`` when there is none."""
    from liferaft.core.recover.write import role_folder

    return project / role_folder(project, top_level_roles(project), role)


def choose_input(project: Path, script: Path | None = None, notebook: Path | None = None) -> Path:
    """The file to replay: the one given, else the newest script in CODE/recovered/, else the one script in CODE.
    Raises :class:`ReplayError` when there is none or several (saying which to pick)."""
    given = script or notebook
    if given is not None:
        path = given if given.is_absolute() else Path.cwd() / given
        if not path.is_file():
            raise ReplayError(f"no such file: {given} (give a script or notebook that exists)")
        return path
    code = role_dir(project, Role.CODE)
    recovered = sorted((p for p in (code / "recovered").glob("*.py") if p.is_file()),
                       key=lambda p: (p.stat().st_mtime_ns, p.name), reverse=True)
    if recovered:
        return recovered[0]
    scripts = sorted(p for p in code.glob("*") if p.is_file() and p.suffix.lower() in _SCRIPT_SUFFIXES) \
        if code.is_dir() else []
    if len(scripts) == 1:
        return scripts[0]
    if not scripts:
        raise ReplayError(f"no script to replay in {code.name}/ (import an export first, or pass --script FILE)")
    names = ", ".join(p.name for p in scripts[:5]) + (" …" if len(scripts) > 5 else "")
    raise ReplayError(f"{len(scripts)} scripts in {code.name}/ ({names}): pick one with --script FILE")


@dataclass(frozen=True, slots=True)
class ReplayPlan:
    project: Path
    script: Path
    cells: tuple[Cell, ...]
    """Every cell of the file (the setup cell too); :attr:`chosen` are the ones that run."""
    first: int
    last: int
    sandbox_problem: str | None
    """Why the kernel cannot be sandboxed here; None when it can."""

    @property
    def chosen(self) -> list[Cell]:
        """The cells that run: the setup cell (always, it defines the folders) and cells first..last."""
        return [cell for cell in self.cells if cell.number == 0 or self.first <= cell.number <= self.last]

    @property
    def total(self) -> int:
        return len([cell for cell in self.cells if cell.number])


def plan_replay(project: Path, *, script: Path | None = None, notebook: Path | None = None,
                first: int | None = None, last: int | None = None) -> ReplayPlan:
    """What a replay would run (reads the file; runs nothing). Raises :class:`ReplayError`."""
    project = project.resolve()  # the sandbox shows the real path only, not a symbolic link to it
    path = choose_input(project, script, notebook).resolve()
    try:
        cells = load_cells(path)
    except CellsError as exc:
        raise ReplayError(str(exc)) from None
    total = len([cell for cell in cells if cell.number])
    first = 1 if first is None else first
    last = total if last is None else last
    if not 1 <= first <= total or not first <= last <= total:
        raise ReplayError(f"{path.name} has cells 1-{total}: --from and --to must be within that, in order")
    return ReplayPlan(project, path, tuple(cells), first, last, sandbox.unavailable())


# --- the record -----------------------------------------------------------------------------------------


@dataclass(slots=True)
class CellRecord:
    number: int
    label: str
    first_line: str
    status: str
    """``ok``, ``error``, ``timeout``, ``interrupted``, ``died`` or ``skipped``."""
    seconds: float = 0.0
    code: str = ""
    edited: bool = False
    output: str = ""
    """What it printed or showed as text here."""
    chat_output: str = ""
    """What the chat showed for it, when the source recorded that."""
    error: str = ""
    """``ename: evalue`` of its error, or what stopped it."""
    traceback: list[str] = field(default_factory=list)
    """The traceback's last lines."""
    diagnosis: str = ""
    """The diagnosis classifier's reading of the error (title, then next step), when it has one."""
    figures: list[str] = field(default_factory=list)
    """Images it showed, saved as PNG files (relative to the replay folder)."""
    outputs: list[dict[str, Any]] = field(default_factory=list, repr=False)

    def as_json(self) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in ("number", "label", "first_line", "status", "seconds",
                                                       "edited", "error", "traceback", "diagnosis", "figures")}
        data["seconds"] = round(self.seconds, 3)
        # What it printed here and in the chat, side by side (cut at 4,000 characters each; the notebook has all).
        data["output"] = self.output[:4000]
        data["chat_output"] = self.chat_output[:4000]
        return data


@dataclass(slots=True)
class ReplayResult:
    plan: ReplayPlan
    folder: Path
    """The replay folder, ``OUTPUT/replayed/<date-time>/``."""
    sandboxed: bool
    python: str
    cells: list[CellRecord] = field(default_factory=list)
    kernel_ready: float = 0.0
    seconds: float = 0.0
    stopped: str = ""
    """Why it ended before the last cell ("stopped at cell 4", "interrupted"); empty when it ran to the end."""
    written: list[str] = field(default_factory=list)
    """Files the code wrote, relative to the replay folder (Liferaft's own files left out)."""

    @property
    def errors(self) -> list[CellRecord]:
        return [cell for cell in self.cells if cell.status not in ("ok", "skipped")]


# --- running ------------------------------------------------------------------------------------------------

#: What the front end answers after a cell failed: run it again with new code, skip it, or stop.
Decision = tuple[str, str | None]
"""(``"retry"`` with the new code | ``"skip"`` | ``"stop"``, code)."""


@dataclass(slots=True)
class Hooks:
    """How the front end follows and steers a replay. Every hook is called on the replay's own thread."""

    on_cell_start: Callable[[Cell, int, int], None] = lambda cell, at, of: None
    """A cell begins: the cell, its place among the cells that run (1-based) and how many run."""
    on_output: Callable[[Cell, dict[str, Any]], None] = lambda cell, output: None
    on_cell_end: Callable[[CellRecord], None] = lambda record: None
    on_error: Callable[[CellRecord, Cell], Decision] = lambda record, cell: ("stop", None)
    """After a cell fails: what to do. The default stops (a script, or no one to ask)."""
    on_status: Callable[[str], None] = lambda text: None
    stop: threading.Event = field(default_factory=threading.Event)
    """Set to interrupt the running cell and stop the replay."""


def new_replay_folder(project: Path, now: float | None = None) -> Path:
    """A fresh ``OUTPUT/replayed/<YYYY-MM-DD_HHMMSS>/`` (``-2``, ``-3``… when that second is taken)."""
    base = role_dir(project, Role.OUTPUT) / REPLAYED_DIR
    stamp = time.strftime("%Y-%m-%d_%H%M%S", time.localtime(now))
    base.mkdir(parents=True, exist_ok=True)
    for n in range(1, 1000):
        folder = base / (stamp if n == 1 else f"{stamp}-{n}")
        try:
            folder.mkdir()
            return folder
        except FileExistsError:
            continue
    raise ReplayError(f"could not make a new folder in {base} (too many replays this second)")


def _kernel_setup(plan: ReplayPlan, folder: Path) -> str:
    config = {"project": str(plan.project), "source": str(role_dir(plan.project, Role.SOURCE)),
              "output": str(role_dir(plan.project, Role.OUTPUT)), "replay": str(folder),
              "file": str(plan.script) if plan.script.suffix.lower() == ".py" else "",
              # Cells cut from a plain script: it shows what it prints, not the value of a bare expression.
              "plain_script": bool(plan.cells) and all(cell.label.startswith(("line", "the whole"))
                                                       for cell in plan.cells)}
    shim = resources.files("liferaft.core").joinpath("data/replay_kernel.py").read_text(encoding="utf-8")
    return f"_LIFERAFT_CONFIG = {config!r}\n{shim}"


def _matplotlibrc(folder: Path) -> None:
    """The sandbox's chart settings (``core/data/replay_sandbox.toml``) as the kernel's matplotlibrc."""
    import tomllib

    try:
        data = tomllib.loads(resources.files("liferaft.core").joinpath("data/replay_sandbox.toml")
                             .read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return
    rc = data.get("matplotlib", {}).get("rc", {})
    lines = []
    for key, value in rc.items():
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        elif isinstance(value, bool):
            value = "True" if value else "False"
        lines.append(f"{key}: {value}")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "matplotlibrc").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _diagnosis(text: str) -> str:
    try:
        from liferaft.core.diagnose.classify import classify

        found = classify(text, evidence=True)
    except Exception:  # the classifier's data could not load: the error itself is still shown
        return ""
    if not found:
        return ""
    symptom = found[0].symptom
    steps = symptom.next_steps
    return f"{symptom.title}: {steps[0]}" if steps else symptom.title


def _record(cell: Cell, at: Execution, code: str, edited: bool, folder: Path,
            say: Callable[[str], None] = lambda _text: None) -> CellRecord:
    record = CellRecord(cell.number, cell.label, cell.first_line, at.status, at.seconds, code, edited,
                        at.text, cell.chat_output, outputs=at.outputs)
    if at.status != "ok":
        if at.ename:
            record.error = f"{at.ename}: {at.evalue}".strip().rstrip(":")
        else:
            record.error = at.evalue or {"timeout": "it ran past its time limit and was interrupted",
                                         "interrupted": "stopped by you"}.get(at.status, at.status)
        lines = [line for text in at.traceback for line in text.splitlines()
                 if line.strip() and not _TRACEBACK_FRAME.search(line)]
        record.traceback = lines[-TRACEBACK_LINES:]
        record.diagnosis = _diagnosis("\n".join(lines[-40:]) or record.error)
    stem = f"cell-{cell.number}" if cell.number else "setup"
    problems: list[str] = []
    saved = save_images(at.outputs, folder / FIGURES_DIR, stem, problems)
    record.figures = [p.relative_to(folder).as_posix() for p in saved]
    for problem in problems:
        say(problem)
    return record


def _shell_code(cell: Cell) -> str:
    """A shell step as it runs in the replay: its ``subprocess.run`` from the replay folder, writing there."""
    code = cell.code.replace("cwd=PROJECT", "cwd=os.getcwd()").replace("{OUTPUT}", "{os.getcwd()}")
    if code.lstrip().startswith("%%bash"):
        code = "\n".join(line for line in code.split("\n") if line.strip() != "exit 0")
    else:
        code = "import os, subprocess\n" + code
    return code


def _own_file(rel: str) -> bool:
    first = rel.split("/", 1)[0]
    return rel in (NOTEBOOK_NAME, RECORD_NAME) or first == FIGURES_DIR or first.startswith(".")


def files_written(folder: Path) -> list[str]:
    """The files a replay's code wrote (relative paths), Liferaft's own files left out. Links are not followed
    (the code may leave one to anywhere) and are not files it wrote."""
    found = []
    for top, dirs, files in os.walk(folder, followlinks=False):
        dirs.sort()
        for name in sorted(files):
            path = Path(top) / name
            rel = path.relative_to(folder).as_posix()
            if not path.is_symlink() and path.is_file() and not _own_file(rel):
                found.append(rel)
    return sorted(found)


def notebook_json(result: ReplayResult) -> dict[str, Any]:
    """The executed notebook: every cell that ran with its outputs (nbformat 4.5)."""
    cells: list[dict[str, Any]] = [{
        "cell_type": "markdown", "id": "about", "metadata": {},
        "source": [f"# Replay of {result.plan.script.name}\n", "\n",
                   f"Run by Liferaft on {time.strftime('%Y-%m-%d %H:%M')}; "
                   f"{'sandboxed' if result.sandboxed else 'not sandboxed'}; Python {result.python}."]}]
    for record in result.cells:
        source = record.code.rstrip("\n").split("\n")
        cells.append({"cell_type": "code", "id": f"cell-{record.number}", "execution_count": None,
                      "metadata": {"liferaft": {"label": record.label, "status": record.status,
                                                "seconds": round(record.seconds, 3)}},
                      "outputs": record.outputs,
                      "source": [line + "\n" for line in source[:-1]] + source[-1:]})
    return {"cells": cells, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                        "language": "python"},
                                         "language_info": {"name": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


def record_json(result: ReplayResult) -> dict[str, Any]:
    try:
        script = result.plan.script.relative_to(result.plan.project).as_posix()
    except ValueError:
        script = str(result.plan.script)
    return {"version": 1, "script": script, "cells_total": result.plan.total,
            "from": result.plan.first, "to": result.plan.last, "sandboxed": result.sandboxed,
            "python": result.python, "kernel_ready_seconds": round(result.kernel_ready, 3),
            "seconds": round(result.seconds, 3), "stopped": result.stopped,
            "cells": [record.as_json() for record in result.cells],
            "errors": len(result.errors), "files_written": result.written}


def write_results(result: ReplayResult) -> None:
    """The executed notebook and the record, written atomically in the replay folder."""
    result.written = files_written(result.folder)
    storage.write_text(result.folder / NOTEBOOK_NAME, json.dumps(notebook_json(result), indent=1) + "\n")
    storage.save_own_json(result.folder / RECORD_NAME, record_json(result))


def run_replay(plan: ReplayPlan, python: Path, *, sandboxed: bool, cell_timeout: float = DEFAULT_CELL_TIMEOUT,
               hooks: Hooks | None = None, folder: Path | None = None) -> ReplayResult:
    """Run ``plan``'s cells in one kernel started from ``python``; the result, written to the replay folder
    (``replay.ipynb``, ``replay.json``) whatever happened. Raises :class:`ReplayError` when it cannot start (a
    sandbox asked for where there is none, a kernel that does not start)."""
    hooks = hooks or Hooks()
    if sandboxed and plan.sandbox_problem:
        raise ReplayError(f"{plan.sandbox_problem}; run with --no-sandbox to replay without it")
    started = time.monotonic()
    folder = folder or new_replay_folder(plan.project)
    result = ReplayResult(plan, folder, sandboxed, "")

    def wrap(command: list[str], runtime: Path) -> list[str]:
        return sandbox.wrap(command, python=python, project=plan.project, replay_dir=folder, runtime_dir=runtime)

    kernel = Kernel(python, wrap=wrap if sandboxed else None, cwd=folder)
    try:
        _matplotlibrc(kernel.runtime / "matplotlib")
        hooks.on_status("starting the kernel…")
        try:
            result.kernel_ready = kernel.start(hooks.stop)
        except KernelError as exc:
            raise ReplayError(str(exc)) from None
        version = kernel.execute("import sys; print('%d.%d.%d' % sys.version_info[:3])", timeout=30)
        result.python = version.text.strip()
        setup = kernel.execute(_kernel_setup(plan, folder), timeout=60, silent=True)
        if setup.status != "ok":
            raise ReplayError(f"the replay could not be prepared in the kernel: {setup.ename}: {setup.evalue}")
        _run_cells(plan, kernel, result, hooks, cell_timeout)
    finally:
        kernel.stop()
        result.seconds = time.monotonic() - started
        try:
            write_results(result)
        except OSError as exc:
            hooks.on_status(f"the replay's record could not be written: {exc.strerror or exc}")
    return result


def _run_cells(plan: ReplayPlan, kernel: Kernel, result: ReplayResult, hooks: Hooks, cell_timeout: float) -> None:
    chosen = plan.chosen
    for at, cell in enumerate(chosen, start=1):
        if hooks.stop.is_set():
            result.stopped = "interrupted"
            return
        if cell.shell and not result.sandboxed:
            # A shell step runs outside Python's routing: only the sandbox keeps it from the project's files.
            record = CellRecord(cell.number, cell.label, cell.first_line, "skipped", code=cell.code,
                                chat_output=cell.chat_output,
                                error="a shell step runs only in the sandbox (nothing routes its writes without it)")
            result.cells.append(record)
            hooks.on_cell_end(record)
            continue
        code, edited = (_shell_code(cell) if cell.shell else cell.code), False
        while True:
            hooks.on_cell_start(cell, at, len(chosen))
            execution = kernel.execute(code, timeout=cell_timeout, stop=hooks.stop,
                                       on_output=functools.partial(hooks.on_output, cell))
            record = _record(cell, execution, code, edited, result.folder, hooks.on_status)
            if record.status == "ok":
                break
            if execution.ename == "SystemExit" and execution.evalue.strip() in ("0", "None", ""):
                # The script ended itself, successfully (sys.exit(0)): as it would have run, nothing after it.
                record.status, record.error, record.traceback, record.diagnosis = "ok", "", [], ""
                result.cells.append(record)
                hooks.on_cell_end(record)
                result.stopped = f"the script ended itself at {cell.label} (sys.exit)"
                return
            if record.status in ("interrupted", "died") or hooks.stop.is_set():
                result.cells.append(record)
                hooks.on_cell_end(record)
                result.stopped = ("interrupted" if record.status == "interrupted" or hooks.stop.is_set()
                                  else f"the kernel ended at {cell.label}")
                return
            choice, new_code = hooks.on_error(record, cell)
            if choice == "retry" and new_code is not None and kernel.alive:
                code, edited = new_code, True
                continue
            if choice == "skip":
                record.status = f"{record.status}, skipped"
                break
            result.cells.append(record)
            hooks.on_cell_end(record)
            result.stopped = f"stopped at {cell.label}"
            return
        result.cells.append(record)
        hooks.on_cell_end(record)

"""The operations both front ends offer, one function each: the command line and the workbench call these and
only put the result on show (print it, or notify it), so they cannot disagree.

- :func:`assess_risk`: what is at risk (`liferaft status`, the workbench's status line and risk screen);
- :func:`checkpoint_project`: record a checkpoint and say what it bought (`liferaft checkpoint`, ``k``);
- :func:`prepare_fix` then :func:`remember_fix`: run a fixer on one file, and tell the project which files
  stand in for it (`liferaft prepare`, ``p``);
- :func:`liferaft.core.risk.downloads_to_watch` and :func:`liferaft.core.risk.list_downloads`: the downloads
  folder and the files in it that look like outputs (`liferaft status`, ``m``);
- :func:`reveal`: show a file or folder in the file manager (`liferaft open --reveal`, ``e``);
- :func:`support_report`: the message for the vendor's support (`liferaft diagnose --support`, ``S``).

No printing and no UI here: each returns a typed result (and raises only the errors it names).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the modules each operation needs are imported when it runs: the CLI starts quickly
    from liferaft.core.checkpoints import Checkpoint
    from liferaft.core.diagnose.support import SupportDetails
    from liferaft.core.prepare_common import Prepared, Progress
    from liferaft.core.project import Project
    from liferaft.core.risk import Risk
    from liferaft.core.scan import Inventory


# --- what is at risk -------------------------------------------------------------------------------------


@dataclass(slots=True)
class RiskReport:
    """What is at risk now (:class:`~liferaft.core.risk.Risk`, its ``warnings`` included) and what the chat
    exports recorded in the project say on top of it."""

    risk: Risk
    imported: bool = False
    """A chat export was imported (`liferaft import`): its record was read."""
    missing_uploads: list[dict[str, Any]] = field(default_factory=list)
    """The uploads of imported conversations that SOURCE lacks (see
    :func:`liferaft.core.recover.record.missing_uploads`)."""

    def to_json(self) -> dict[str, Any]:
        data = self.risk.to_json()
        if self.imported:
            data["missing_uploads"] = self.missing_uploads
        return data


def assess_risk(root: Path, inventory: Inventory, *, downloads_dir: Path | None = None,
                since: float | None = None) -> RiskReport:
    """What is at risk in the project at ``root`` (see :func:`liferaft.core.risk.at_risk`): its checkpoints,
    its restart note and the record of imported chat exports are read now; ``downloads_dir`` (None: not looked
    at) is listed for files modified after ``since``. A checkpoints file or a restart note that cannot be used
    is a warning in ``risk.warnings``, never an error."""
    from liferaft.core.checkpoints import load_checkpoints
    from liferaft.core.recover.record import linked_outputs, load_imports, missing_uploads, recovered_path
    from liferaft.core.restart_note import load_note
    from liferaft.core.risk import at_risk

    root = Path(root)
    checkpoints, warnings = load_checkpoints(root)
    try:
        note, _record = load_note(root, inventory)
    except OSError as exc:  # NoteError, or the note unreadable
        note = None
        warnings.append(f"the restart note cannot be used: {exc}")
    imported = recovered_path(root).exists()  # what chat exports generated and used (`liferaft import`)
    imports = load_imports(root, keep_aside=False)[0] if imported else []
    risk = at_risk(root, inventory, checkpoints, note, downloads_dir=downloads_dir, since=since,
                   linked_outputs=linked_outputs(root, imports))
    risk.warnings[:0] = warnings
    absent = missing_uploads(root, inventory, imports) if imported else []
    return RiskReport(risk, imported, absent)


def missing_outputs(root: Path, inventory: Inventory) -> list[str]:
    """The outputs only the chat has (named in the restart note or a chat export, not in OUTPUT); never raises."""
    from liferaft.core.recover.record import linked_outputs
    from liferaft.core.restart_note import load_note
    from liferaft.core.risk import at_risk

    try:
        note, _record = load_note(root, inventory)
    except OSError:
        note = None
    try:
        risk = at_risk(root, inventory, [], note, linked_outputs=linked_outputs(root))
    except OSError:
        return []
    return [item.name for item in risk.missing_outputs]


# --- recording a checkpoint ------------------------------------------------------------------------------


@dataclass(slots=True)
class CheckpointOutcome:
    """A checkpoint just recorded, and what it bought in words (the same from the CLI and the workbench)."""

    checkpoint: Checkpoint
    """As saved: its real ``number``, ``since_last`` (the hash-based changes), ``warnings``, ``skipped``."""
    outputs: int
    """How many of its files are outputs."""
    missing: list[str]
    """The outputs only the chat has."""
    message: str
    """:func:`liferaft.core.checkpoints.saved_message`."""


def checkpoint_project(root: Path, inventory: Inventory, message: str = "", *, now: float,
                       progress: Callable[[int, int, str], None] | None = None) -> CheckpointOutcome:
    """Record a checkpoint of ``inventory`` (:func:`liferaft.core.checkpoints.record_checkpoint`) and say what
    it bought. Raises :class:`~liferaft.core.checkpoints.CheckpointError` when it cannot be saved."""
    from liferaft.core.checkpoints import record_checkpoint, saved_message
    from liferaft.core.roles import Role

    root = Path(root)
    checkpoint = record_checkpoint(root, inventory, message, now=now, progress=progress)
    outputs = sum(1 for record in inventory.files if record.role is Role.OUTPUT and record.path in checkpoint.files)
    missing = missing_outputs(root, inventory)
    return CheckpointOutcome(checkpoint, outputs, missing, saved_message(checkpoint, outputs=outputs,
                                                                         missing=missing))


# --- running a fix ---------------------------------------------------------------------------------------


class FixCancelled(Exception):
    """The fix was cancelled: nothing it wrote is kept, except ``leftovers`` (files another program held open
    until the end, on Windows), which the message names."""

    def __init__(self, message: str = "cancelled: nothing was written", leftovers: list[Path] | None = None) -> None:
        self.leftovers = list(leftovers or [])
        if self.leftovers:
            names = ", ".join(str(path) for path in self.leftovers)
            message = (f"cancelled, but {names} could not be removed (another program holds it open): delete it "
                       "once that program has let go")
        super().__init__(message)


@dataclass(slots=True)
class FixOutcome:
    """What one fixer wrote for one file (see :func:`prepare_fix`)."""

    action: str
    path: Path
    """The original (never changed)."""
    prepared: Prepared
    """What was written (none: nothing needed doing, and ``prepared.notes`` say why)."""
    source: tuple[int, float]
    """The original's size and modification time when the fix started (a change during it shows as stale)."""

    @property
    def written(self) -> list[Path]:
        return [item.path for item in self.prepared.written]

    @property
    def new_name(self) -> str | None:
        """For a copy under a new name: the name."""
        return self.prepared.written[0].path.name if self.action == "name" and self.prepared.written else None


def prepare_fix(path: Path, action: str, argument: str | None = None, *, progress: Progress | None = None,
                cancelled: Callable[[], bool] | None = None) -> FixOutcome:
    """Run one fixer on ``path`` (:func:`liferaft.core.fixes.run_fix`; the original is never changed).

    ``cancelled`` is asked as the fixer reports progress, and once more when it is done: when it says yes,
    the fixer's own cleanup removes what it was writing, or what it finished is removed here, and
    :class:`FixCancelled` is raised. Raises :class:`~liferaft.core.prepare_common.PrepareError` (or
    ``PrepareUsage``) when the fix cannot be done, OSError when the original cannot be read."""
    from liferaft.core.fixes import run_fix
    from liferaft.core.prepare_common import prepared_folder

    path = Path(path)
    before = os.stat(path)
    folder = prepared_folder(path)
    existed = os.path.lexists(folder)

    def report(done: int, total: int) -> None:
        if cancelled is not None and cancelled():
            raise FixCancelled("cancelled: nothing was written")
        if progress is not None:
            progress(done, total)

    prepared = run_fix(path, action, argument, progress=report if progress or cancelled else None)
    if cancelled is not None and cancelled():  # after the last progress report: keep the promise, nothing kept
        leftovers = _take_back(prepared, folder if not existed else None)
        raise FixCancelled(leftovers=leftovers)
    return FixOutcome(action, path, prepared, (before.st_size, before.st_mtime))


def _take_back(prepared: Prepared, made_folder: Path | None) -> list[Path]:
    """Remove what a finished fix wrote: its files, a split's list of parts, and the folder it made. A file another
    program holds open (Windows) is tried again for a moment (:func:`liferaft.core.storage.remove_file`); the
    files still there after that are returned."""
    from liferaft.core.prepare_sets import MANIFEST_DIR, MANIFEST_SUFFIX
    from liferaft.core.storage import remove_file

    folders: list[Path] = []
    left: list[Path] = []
    for item in prepared.written:
        if not remove_file(item.path):
            left.append(item.path)
        base, part, _number = item.path.name.rpartition(".part")
        if part:  # a split part: its set's list of parts goes too
            manifests = item.path.parent / MANIFEST_DIR
            manifest = manifests / f"{base}{item.path.suffix}{MANIFEST_SUFFIX}"
            if not remove_file(manifest) and manifest not in left:
                left.append(manifest)
            if manifests not in folders:
                folders.append(manifests)
    if made_folder is not None:
        folders.append(made_folder)
    for folder in folders:
        with contextlib.suppress(OSError):
            os.rmdir(folder)  # only ever succeeds on an empty folder
    return left


@dataclass(slots=True)
class Remembered:
    """What :func:`remember_fix` did besides remembering the files."""

    warnings: list[str] = field(default_factory=list)
    """One line each: what could not be done."""
    note_mentions: int = 0
    """How many times the restart note names the original (a copy under a new name)."""
    renamed_in_note: bool = False
    """Those mentions now say the new name."""


def remember_fix(root: Path, outcome: FixOutcome, *, project: Project | None = None,
                 rename_in_note: bool = False) -> Remembered:
    """Tell the project which files stand in for the original (the composer lists them instead of it); a file
    outside the project is not remembered. ``project``: the open project (its state is updated in place),
    else it is read from ``root``. For a copy under a new name, count the restart note's mentions of the
    original and, with ``rename_in_note``, make them say the new name. Never raises: what fails is a warning."""
    from liferaft.core.fixes import relative
    from liferaft.core.project import Project
    from liferaft.core.scan import Inventory
    from liferaft.core.state import ProjectState

    done = Remembered()
    root = Path(root)
    if not outcome.prepared.written:
        return done
    try:
        original = relative(root, outcome.path)
    except ValueError:
        return done  # a file outside the project: nothing to remember it by
    try:
        written = [relative(root, path) for path in outcome.written]
        holder = project if project is not None else Project(root, ProjectState(), Inventory(root))
        holder.record_prepared(original, outcome.action, written, outcome.source)
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        done.warnings.append(f"could not remember the prepared files in .liferaft/ ({reason}): the composer lists "
                             "them beside the original")
    new_name = outcome.new_name
    if new_name is None:
        return done
    from liferaft.core.restart_note import note_mentions
    from liferaft.core.restart_note import rename_in_note as rename

    inventory = project.inventory if project is not None else None
    if inventory is None:
        from liferaft.core.project import open_project

        try:
            inventory = open_project(root).inventory
        except Exception as exc:  # the project unreadable now: the files are written all the same
            done.warnings.append(f"the restart note was not looked at: {exc}")
            return done
    try:
        if rename_in_note:
            done.note_mentions = rename(root, inventory, original, relative(root, outcome.written[0]))
            done.renamed_in_note = done.note_mentions > 0
        else:
            done.note_mentions = note_mentions(root, inventory, original)
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        done.warnings.append(f"the restart note still says {outcome.path.name}: {reason}")
    return done


# --- the file manager ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Revealed:
    """What :func:`reveal` did: ``problem`` is empty when the file manager opened."""

    target: Path
    folder: Path
    """The folder shown (the target's own folder for a file)."""
    command: tuple[str, ...]
    problem: str = ""

    @property
    def opened(self) -> bool:
        return not self.problem


def reveal_command(target: Path, platform: str = sys.platform) -> tuple[str, ...]:
    """The command that shows ``target`` in this platform's file manager (selected, where it can be); in WSL,
    Windows' explorer (``explorer.exe``, the path converted by ``wslpath -w``)."""
    if platform == "darwin":
        return ("open", "-R", str(target))
    if platform == "win32":
        return ("explorer", f"/select,{target}")
    if platform == "linux":
        from liferaft.core import wsl

        if wsl.is_wsl():  # xdg-open is seldom there: Windows' explorer, given the path as Windows names it
            shown = wsl.windows_path(target)
            if shown:
                return ("explorer.exe", f"/select,{shown}")
    folder = target if target.is_dir() else target.parent
    return ("xdg-open", str(folder))


def _command_line(command: tuple[str, ...]) -> list[str] | str:
    """What to hand to ``subprocess.run`` for ``command``. Explorer reads its own command line, and a comma
    ends the path after ``/select,`` unless the path is in quotes; Python would quote the whole argument (and
    only when it holds a space), which explorer does not understand. So explorer gets the line written out,
    the path quoted (a Windows path cannot hold a ``"``). From WSL (``explorer.exe``) the arguments are a list:
    WSL writes the Windows command line, quoting an argument that holds a space."""
    if command[0] == "explorer" and command[1].startswith("/select,"):
        return f'explorer /select,"{command[1].removeprefix("/select,")}"'
    return list(command)


def reveal(target: Path) -> Revealed:
    """Show ``target`` in the file manager. The openers hand over to it and return at once; their exit code
    says if it worked (not Windows' explorer, which answers 1 either way, from WSL too). Never raises: a failure is
    in ``problem``."""
    import subprocess  # deferred: ~8 ms at start-up for a key pressed now and then

    target = Path(target)
    folder = target if target.is_dir() else target.parent
    command = reveal_command(target)
    try:
        done = subprocess.run(_command_line(command), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True, timeout=10)
        # explorer answers 1 even when it showed the file: its exit code says nothing.
        failed = done.returncode and command[0] not in ("explorer", "explorer.exe")
        problem = f"{command[0]} exited with status {done.returncode}" if failed else ""
    except (OSError, subprocess.TimeoutExpired) as exc:
        problem = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return Revealed(target, folder, command, problem)


# --- the support report ----------------------------------------------------------------------------------


@dataclass(slots=True)
class SupportReport:
    """The support report's fields as Liferaft knows them, and the report they make now."""

    details: SupportDetails
    text: str
    """:func:`liferaft.core.diagnose.support.build_report` of ``details``, at ``now``."""
    warnings: list[str] = field(default_factory=list)


def support_report(root: Path | None, settings_other: Mapping[str, Any] | None, *, now: float, error_text: str = "",
                   symptom_id: str | None = None, status: str = "", where: str = "config") -> SupportReport:
    """The support report for the project at ``root`` (None: no project): the pasted error, what it was diagnosed as
    (``symptom_id``; None: the best match :func:`~liferaft.core.diagnose.classify.classify` finds in the text),
    the checklist steps ticked in the project, the status page's answer (``status``) and the account email
    from the config (``settings_other``; ``where`` names it in a warning)."""
    from liferaft.core.diagnose.checklist import load_checklist
    from liferaft.core.diagnose.knowledge import load_knowledge
    from liferaft.core.diagnose.support import SupportDetails, account_email, build_report, environment, tried_steps

    knowledge = load_knowledge()
    email, warnings = account_email(settings_other, where)
    tried: list[str] = []
    if root is not None:  # the checklist's ticks are the project's
        ticks = load_checklist(Path(root))
        tried = tried_steps([(step.id, step.text) for step in knowledge.checklist],
                            {step.id for step in knowledge.checklist if ticks.is_ticked(step.id)})
    if symptom_id is None and error_text.strip():
        from liferaft.core.diagnose.classify import classify

        matches = classify(error_text, knowledge, evidence=True)
        symptom_id = matches[0].symptom.id if matches else None
    symptom = next((s.title for s in knowledge.symptoms if s.id == symptom_id), "")
    details = SupportDetails(error_text=error_text, email=email, symptom=symptom, tried=tried, status=status)
    return SupportReport(details, build_report(details, environment(now)), warnings)


__all__ = [
    "CheckpointOutcome",
    "FixCancelled",
    "FixOutcome",
    "Remembered",
    "Revealed",
    "RiskReport",
    "SupportReport",
    "assess_risk",
    "checkpoint_project",
    "missing_outputs",
    "prepare_fix",
    "remember_fix",
    "reveal",
    "reveal_command",
    "support_report",
]

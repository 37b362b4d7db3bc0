"""`liferaft checkpoint` and `liferaft status`: checkpoints and the at-risk state on the command line.

`checkpoint` records one (every file's size, time and content hash, plus the restart note) and says what it
bought; `--list` and `--diff A B` show them. `status` prints what would be lost if the sandbox died now; its
exit code is 0 when nothing is at risk, 1 when something is.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from liferaft.core.units import format_count

EXIT_OK = 0
EXIT_AT_RISK = 1
EXIT_FAILED = 1

#: How far back `liferaft status` looks in the downloads folder for outputs: the sandbox's lifetime.
DOWNLOADS_WINDOW = 13 * 3600


def add_parsers(commands: argparse._SubParsersAction, dir_help: str) -> None:  # type: ignore[type-arg]
    cmd = commands.add_parser(
        "checkpoint", help="record a checkpoint: every file's size, time and content hash, and the restart note")
    cmd.add_argument("dir", nargs="?", default=".", metavar="DIR", help=dir_help)
    cmd.add_argument("-m", "--message", default="", metavar="MESSAGE", help="what this step was (e.g. 'cleaning')")
    action = cmd.add_mutually_exclusive_group()
    action.add_argument("--list", action="store_true", help="list the checkpoints instead")
    action.add_argument("--diff", nargs=2, type=int, metavar=("A", "B"),
                        help="show what changed between checkpoints A and B (by number, see --list)")

    status = commands.add_parser(
        "status", help="what is at risk now: outputs not checkpointed, outputs never saved, matching downloads")
    status.add_argument("dir", nargs="?", default=".", metavar="DIR", help=dir_help)
    status.add_argument("--json", action="store_true", help="print JSON instead of a report")


def _err(message: str) -> None:
    from liferaft.cli import _err as err

    err(message)


def _percent(value: float) -> str:
    return f"{value:.0f} %"



def run_checkpoint(args: argparse.Namespace) -> int:
    from liferaft.cli import UsageError, _shown
    from liferaft.core import checkpoints as cp
    from liferaft.core.project import check_folder, open_project

    root = check_folder(Path(args.dir))
    if args.list or args.diff:
        checkpoints, warnings = cp.load_checkpoints(root)
        for warning in warnings:
            _err(f"warning: {warning}")
        if args.list:
            if not checkpoints:
                print("No checkpoints yet: `liferaft checkpoint -m MESSAGE` records one.")
                return EXIT_OK
            for checkpoint in checkpoints:
                message = f"  {_shown(checkpoint.message)}" if checkpoint.message else ""
                print(f"{checkpoint.number:>3}  {checkpoint.iso_time}  {format_count(len(checkpoint.files), 'file')}"
                      f"{message}")
            print(f"A lost session now costs about {_percent(cp.rework_percent(len(checkpoints)))} of the work.")
            return EXIT_OK
        by_number = {checkpoint.number: checkpoint for checkpoint in checkpoints}
        a, b = args.diff
        for number in (a, b):
            if number not in by_number:
                known = ", ".join(str(n) for n in by_number) or "none yet"
                raise UsageError(f"no checkpoint {number}; there are: {known}")
        changes = cp.diff(by_number[a], by_number[b], by_hash=True)
        if not changes:
            print(f"Nothing changed between checkpoints {a} and {b}.")
            return EXIT_OK
        for label, paths in (("added  ", changes.added), ("removed", changes.removed), ("changed", changes.changed)):
            for path in paths:
                print(f"{label}  {_shown(path)}")
        print(f"{format_count(changes.count, 'file')} changed between checkpoints {a} and {b}.")
        return EXIT_OK
    project = open_project(root)
    for warning in project.warnings:
        _err(f"warning: {warning}")
    from liferaft.cli import StderrProgress

    progress = StderrProgress("hashing", piped_every=5.0)
    try:
        checkpoint = cp.record_checkpoint(project.root, project.inventory, args.message, now=time.time(),
                                          progress=progress)
    except cp.CheckpointError as exc:
        progress.finish()
        _err(f"no checkpoint saved: {exc}")
        return EXIT_FAILED
    progress.finish()
    for warning in checkpoint.warnings:
        _err(f"warning: {warning}")
    for path, why in checkpoint.skipped.items():
        _err(f"not in the checkpoint: {_shown(path)} ({why})")
    for path in checkpoint.changing:
        _err(f"{_shown(path)} was changing while it was read: recorded without a hash (checkpoint again when it "
             "is done)")
    print(cp.saved_message(checkpoint, outputs=_outputs_in(project.inventory, checkpoint),
                           missing=_missing_outputs(project)))
    return EXIT_OK


def _outputs_in(inventory: object, checkpoint: object) -> int:
    from liferaft.core.roles import Role

    files = getattr(checkpoint, "files", {})
    return sum(1 for record in getattr(inventory, "files", ()) if record.role is Role.OUTPUT and record.path in files)


def _missing_outputs(project: object) -> list[str]:
    """The outputs only the chat has (named in the restart note or a chat export, not in OUTPUT)."""
    from liferaft.core.recover.record import linked_outputs
    from liferaft.core.restart_note import NoteError, load_note
    from liferaft.core.risk import at_risk

    root, inventory = project.root, project.inventory  # type: ignore[attr-defined]
    try:
        note, _record = load_note(root, inventory)
    except (NoteError, OSError):
        note = None
    try:
        risk = at_risk(root, inventory, [], note, linked_outputs=linked_outputs(root))
    except OSError:
        return []
    return [item.name for item in risk.missing_outputs]


def run_status(args: argparse.Namespace) -> int:
    from liferaft.cli import _shown, _write_utf8
    from liferaft.core import checkpoints as cp
    from liferaft.core.config import load_settings
    from liferaft.core.project import check_folder, open_project
    from liferaft.core.restart_note import NoteError, load_note
    from liferaft.core.risk import at_risk, downloads_folder

    root = check_folder(Path(args.dir))
    leftovers = getattr(args, "leftovers", None)
    if leftovers is None:  # the command line sweeps before every command; called on its own, sweep here
        from liferaft.core.leftovers import sweep_leftovers

        leftovers = sweep_leftovers(root)
    project = open_project(root)
    warnings = list(project.warnings)
    checkpoints, more = cp.load_checkpoints(project.root)
    warnings += more
    try:
        note, _record = load_note(project.root, project.inventory)
    except NoteError as exc:
        note = None
        warnings.append(f"the restart note cannot be used: {exc}")
    settings = load_settings()
    warnings += settings.warnings
    downloads, configured = downloads_folder(settings.settings.other)
    if downloads is not None and not configured and not downloads.is_dir():
        downloads = None  # no downloads folder on this machine, and none asked for: nothing to say
    from liferaft.core.recover.record import linked_outputs, load_imports, missing_uploads, recovered_path

    imported = recovered_path(project.root).exists()  # what chat exports generated and used (`liferaft import`)
    imports = load_imports(project.root, keep_aside=False)[0] if imported else []
    risk = at_risk(project.root, project.inventory, checkpoints, note, downloads_dir=downloads,
                   since=time.time() - DOWNLOADS_WINDOW, linked_outputs=linked_outputs(project.root, imports))
    absent_uploads = missing_uploads(project.root, project.inventory, imports)
    warnings += risk.warnings
    for warning in warnings:
        _err(f"warning: {warning}")
    if args.json:
        import json

        data = risk.to_json()
        if imported:
            data["missing_uploads"] = absent_uploads
        if leftovers.remaining:
            data["temp_files"] = {"count": leftovers.remaining, "bytes": leftovers.held}
        _write_utf8(json.dumps(data, ensure_ascii=False) + "\n")
        return EXIT_AT_RISK if risk.at_risk else EXIT_OK
    if risk.unsaved_outputs:
        print(f"Not checkpointed ({len(risk.unsaved_outputs)}):")
        for item in risk.unsaved_outputs:
            print(f"  {_shown(item.path or item.name)}  {item.reason}")
    if risk.missing_outputs:
        print(f"Missing from OUTPUT ({len(risk.missing_outputs)}):")
        for item in risk.missing_outputs:
            print(f"  {_shown(item.name)}  {item.reason} (named in: {_shown(', '.join(item.sources))})")
    if absent_uploads:
        print(f"Uploads not in SOURCE ({len(absent_uploads)}):")
        for upload in absent_uploads:
            print(f"  {_shown(upload['name'])}  used by the chat: put it back before rerunning "
                  f"(named in: {_shown(', '.join(upload['sources']))})")
    if risk.downloads:
        print(f"In Downloads ({len(risk.downloads)}):")
        for item in risk.downloads:
            print(f"  {_shown(item.path or item.name)}  {item.reason}")
    if checkpoints:
        print(f"{format_count(len(checkpoints), 'checkpoint')}, the last at {risk.last_checkpoint}; a lost session now "
              f"costs about {_percent(cp.rework_percent(len(checkpoints)))} of the work.")
    else:
        print("No checkpoint yet: `liferaft checkpoint -m MESSAGE` records one.")
    if not risk.at_risk:
        print("Nothing at risk: every output is saved and checkpointed.")
    if leftovers.remaining:
        from liferaft.core.units import format_size

        print(f"Liferaft's hidden temporary files hold {format_size(leftovers.held)} "
              f"({format_count(leftovers.remaining, 'file')}): a write in progress, or one stopped less than a "
              "minute ago; the next command removes them once they are a minute old.")
    return EXIT_AT_RISK if risk.at_risk else EXIT_OK

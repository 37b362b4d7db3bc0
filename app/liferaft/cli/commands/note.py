"""`liferaft note [DIR]`: print the restart note; --edit, --prefill and --import change it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from liferaft.cli.commands import DIR_HELP
from liferaft.cli.io import (
    EXIT_FAILED,
    EXIT_OK,
    UsageError,
    err,
    printable,
    require_regular_file,
    warn_all,
    write_utf8,
)

# Typing-only imports; `typing` itself costs ~2 ms at start-up, which `liferaft scan` is measured on.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    cmd = subparsers.add_parser(
        "note", help="print the restart note, or edit it, fill its empty sections from the project, or import "
        "the note the chat wrote"
    )
    cmd.add_argument("dir", nargs="?", default=".", metavar="DIR", help=DIR_HELP)
    action = cmd.add_mutually_exclusive_group()
    action.add_argument("--edit", action="store_true",
                        help="open the note in $VISUAL or $EDITOR (else nano, then vi); a missing note is "
                        "created first, with its files, columns and outputs filled from the project")
    action.add_argument("--prefill", action="store_true",
                        help="fill the note's empty sections (files, columns, outputs) from the project and "
                        "save it; text you wrote is never replaced")
    action.add_argument("--import", dest="import_reply", metavar="FILE",
                        help="merge the chat's reply (the note it wrote when asked) into the note and save it; "
                        "FILE is relative to the current folder, - reads standard input")


def run(args: argparse.Namespace) -> int:
    """`liferaft note [DIR]`: print the restart note; --edit, --prefill and --import change it."""
    from liferaft.core import restart_note as rn
    from liferaft.core.project import open_project

    project = open_project(Path(args.dir))
    warn_all(project.warnings)
    root, inventory = project.root, project.inventory
    try:
        note, record = rn.load_note(root, inventory)
        changes = args.edit or args.prefill or args.import_reply is not None
        if changes and record is not None and ("symlink" in record.flags or "outside_root" in record.flags):
            err(f"{printable(record.display_path)} is a link: Liferaft does not write through it; change the note it "
                 "points to")
            return EXIT_FAILED
        if args.edit:
            return _note_edit(root, inventory, note)
        if args.prefill:
            return _note_prefill(root, inventory, note)
        if args.import_reply is not None:
            return _note_import(root, inventory, note, args.import_reply)
    except rn.NoteError as exc:
        err(str(exc))
        return EXIT_FAILED
    if note is None:
        err(f"no restart note in {printable(str(root))}: create one with `liferaft init` or `liferaft note --edit`")
        return EXIT_FAILED
    text = rn.write_note(note)  # the file as it is, byte for byte
    if text and sys.stdout.isatty():
        from liferaft.core.scan import shown_lines

        # On a terminal, control characters (a file name in an older note) are shown, not obeyed.
        text = shown_lines(text.removesuffix("\n")) + "\n"
    write_utf8(text)
    return EXIT_OK


def _note_shown(root: Path, path: Path) -> str:
    try:
        return printable(path.relative_to(root).as_posix())
    except ValueError:
        return printable(str(path))


def _note_edit(root: Path, inventory: Any, note: Any) -> int:
    import subprocess

    from liferaft.core import restart_note as rn
    from liferaft.core.shell import EditorError, editor_command

    try:
        command = editor_command()
    except EditorError as exc:
        err(str(exc))
        return EXIT_FAILED
    created = note is None
    path = rn.save_note(root, inventory, rn.prefill_note(root, inventory)) if created else rn.note_path(root, inventory)
    shown = _note_shown(root, path)
    try:
        finished = subprocess.run([*command, str(path)], check=False)
    except OSError as exc:
        err(f"cannot start the editor {printable(command[0])}: {exc.strerror or exc}")
        return EXIT_FAILED
    if created:
        print(f"created  {shown} (files, columns and outputs filled from the project)")
    if finished.returncode != 0:
        err(f"the editor exited with status {finished.returncode}; {shown} is as it left it")
        return EXIT_FAILED
    from liferaft.core.project import open_project

    edited, _record = rn.load_note(root, open_project(root).inventory)
    if edited is None:
        err(f"{shown} is gone: the editor did not save it")
        return EXIT_FAILED
    empty = edited.empty_keys()
    filled = len(rn.SECTIONS) - len(empty)
    print(f"{shown}: {filled} of {len(rn.SECTIONS)} sections filled"
          + (f" (still empty: {', '.join(_note_heading(key) for key in empty)})" if empty else ""))
    return EXIT_OK


def _note_heading(key: str) -> str:
    from liferaft.core.restart_note import SECTIONS

    return next(section.heading for section in SECTIONS if section.key == key)


def _note_prefill(root: Path, inventory: Any, note: Any) -> int:
    from liferaft.core import restart_note as rn

    base = note if note is not None else rn.new_note(root.name or str(root))
    filled = rn.prefill_note(root, inventory, base)
    keys = rn.changed_keys(base, filled)
    if note is not None and not keys:
        print("Nothing to fill: the sections Liferaft can fill (files, columns, outputs) already have text, or "
              "the project has nothing for them.")
        return EXIT_OK
    path = rn.save_note(root, inventory, filled)
    for key in keys:
        count = len(filled.items(key))
        print(f"filled   {_note_heading(key)} ({count} {'line' if count == 1 else 'lines'})")
    print(f"{'created' if note is None else 'saved  '}  {_note_shown(root, path)}")
    return EXIT_OK


def _note_import(root: Path, inventory: Any, note: Any, source: str) -> int:
    from liferaft.core import restart_note as rn
    from liferaft.core import storage

    if source == "-":
        if sys.stdin.isatty():
            print("Paste the chat's reply, then press Ctrl-D:", file=sys.stderr, flush=True)
        raw = sys.stdin.buffer.read(rn.NOTE_LIMIT + 1)
        shown = "standard input"
    else:
        if not source.strip():
            raise UsageError("the file name is empty")
        path = Path(source).expanduser()
        require_regular_file(path, source)
        raw = storage.read_small_file(path, rn.NOTE_LIMIT + 1)
        shown = printable(source)
    if len(raw) > rn.NOTE_LIMIT:
        err(f"{shown} is larger than 4 MB: not a chat reply Liferaft imports")
        return EXIT_FAILED
    try:
        reply = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        err(f"{shown} is not UTF-8 text: save the reply as UTF-8 and try again (nothing written)")
        return EXIT_FAILED
    base = note if note is not None else rn.new_note(root.name or str(root))
    import datetime

    today = datetime.date.today().isoformat()
    result = rn.merge_reply(base, reply, today)
    if result.refused:
        err(f"{result.refused} in {shown}: nothing written (the reply should be the note the chat wrote, with "
             "headings like `## Files used`, or its summary of the session for a new chat)")
        return EXIT_FAILED
    merged, keys = result.note, result.changed
    if not keys and note is not None:
        print("Nothing changed: the reply says what the note already says.")
        return EXIT_OK
    path = rn.save_note(root, inventory, merged)
    total = sum(result.lines.values())
    print(f"imported {total} {'line' if total == 1 else 'lines'}: "
          + ", ".join(f"{result.lines[key]} into {_note_heading(key)}" for key in keys if key in result.lines))
    if result.kept:
        print(f"kept your text in {', '.join(_note_heading(key) for key in result.kept)}: the chat's was added "
              f"below it, marked (from the chat, {today})")
    if result.left_out:
        count = len(result.left_out)
        print(f"left out {count} {'line' if count == 1 else 'lines'} of the chat talking: "
              + "; ".join(printable(line[:60]) for line in result.left_out[:3]) + ("; …" if count > 3 else ""))
    print(f"{'created' if note is None else 'saved  '}  {_note_shown(root, path)}")
    return EXIT_OK

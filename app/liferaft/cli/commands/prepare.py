"""`liferaft prepare FILE [DIR]` and one action: a fixed copy of FILE under prepared/ next to it.

The actions are the workbench's fixes (:func:`liferaft.core.fixes.run_fix`): --split-mb, --sheet,
--drop-columns, --utf8, --comma, --strip-nul, --skip-rows, --name. The original is never changed.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from liferaft.cli.commands import DIR_HELP
from liferaft.cli.io import EXIT_FAILED, EXIT_OK, UsageError, err, printable, progress_printer, require_regular_file


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    cmd = subparsers.add_parser(
        "prepare", help="write a fixed copy of one file under prepared/ next to it (split, re-encode, commas, "
        "export a sheet, drop columns, a clearer name); the original is never changed"
    )
    cmd.add_argument("file", metavar="FILE", help="the file to prepare (relative to DIR)")
    cmd.add_argument("dir", nargs="?", default=".", metavar="DIR", help=DIR_HELP)
    action = cmd.add_mutually_exclusive_group(required=True)
    action.add_argument("--split-mb", type=float, metavar="N",
                        help="split a CSV/TSV into parts of at most N MB, each with the header row")
    action.add_argument("--sheet", metavar="NAME", help="export one sheet of an .xlsx workbook to UTF-8 CSV")
    action.add_argument("--drop-columns", metavar="A,B", help="write the CSV without these columns (UTF-8, commas)")
    action.add_argument("--utf8", action="store_true", help="re-encode a CSV or text file to UTF-8")
    action.add_argument("--comma", action="store_true",
                        help="write a CSV/TSV as UTF-8 with commas (re-encoded and re-delimited in one pass)")
    action.add_argument("--strip-nul", action="store_true",
                        help="write a copy of a CSV or text file without its stray NUL bytes, the rest byte for byte")
    action.add_argument("--skip-rows", type=int, metavar="N",
                        help="write a copy without the first N lines (title lines above the header), the rest byte "
                        "for byte")
    action.add_argument("--name", metavar="NEW",
                        help="copy the file under a clearer name NEW (its extension kept if NEW has none)")


def fix_for(args: argparse.Namespace) -> tuple[str, str | None]:
    """The fix the options ask for, as :func:`liferaft.core.fixes.run_fix` takes it: (action, argument)."""
    if args.split_mb is not None:
        return "split", repr(args.split_mb)  # the number as given: repr() reads back as the same float
    if args.sheet is not None:
        return "sheet", args.sheet
    if args.drop_columns is not None:
        return "drop_columns", args.drop_columns
    if args.name is not None:
        return "name", args.name
    if args.skip_rows is not None:
        return "skip_rows", str(args.skip_rows)
    if args.strip_nul:
        return "strip_nul", None
    return ("comma", None) if args.comma else ("utf8", None)


def run(args: argparse.Namespace) -> int:
    from liferaft.core import prepare
    from liferaft.core.operations import prepare_fix, remember_fix
    from liferaft.core.project import check_folder

    root = check_folder(Path(args.dir))
    if not args.file.strip():
        raise UsageError("the file name is empty")
    path = Path(args.file).expanduser()
    if not path.is_absolute():
        path = root / path
    if os.path.islink(path) and not os.path.exists(path):
        raise UsageError(f"{args.file} is a link whose target does not exist")
    require_regular_file(path, args.file)
    action, argument = fix_for(args)
    try:
        outcome = prepare_fix(path, action, argument,
                              progress=progress_printer("rows" if action == "sheet" else "bytes"))
    except prepare.PrepareUsage as exc:
        raise UsageError(str(exc)) from None
    except prepare.PrepareError as exc:
        err(str(exc))
        return EXIT_FAILED
    from liferaft.core.units import format_size

    result = outcome.prepared
    for note in result.notes:
        print(printable(note))
    for item in result.written:
        try:
            shown = item.path.relative_to(root).as_posix()
        except ValueError:
            shown = str(item.path)
        rows = f", {item.rows:,} rows" if item.rows is not None else ""
        print(f"wrote  {printable(shown)} ({format_size(item.size)}{rows})")
    if not result.written:
        print("Nothing written.")
        return EXIT_OK
    # The workbench's p changes the restart note for a new name; the command line only says where it is named.
    remembered = remember_fix(root, outcome)
    for warning in remembered.warnings:
        err(warning)
    if remembered.note_mentions:
        print(printable(f"The restart note names {path.name} {remembered.note_mentions} time(s): change it to "
                        f"{outcome.written[0].name} there (in the workbench, p does it for you)."))
    return EXIT_OK

"""`liferaft scan [DIR]`: the project's files by role (a table, or --json); `--inspect FILE` previews one file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from liferaft.cli.commands import DIR_HELP
from liferaft.cli.io import EXIT_FAILED, EXIT_OK, UsageError, err, require_regular_file, warn_all, write_utf8


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    cmd = subparsers.add_parser("scan", help="list the project's files by role")
    cmd.add_argument("dir", nargs="?", default=".", metavar="DIR", help=DIR_HELP)
    cmd.add_argument("--json", action="store_true", help="print JSON instead of a table")
    cmd.add_argument(
        "--inspect", metavar="FILE",
        help="preview one file instead (a table's first rows and schema, a text's start, a JSON outline...); "
        "FILE may be anywhere, and a relative FILE is taken from DIR when DIR is given",
    )


def run(args: argparse.Namespace) -> int:
    if args.inspect is not None:
        return _inspect(args)
    from liferaft.core.project import open_project

    project = open_project(Path(args.dir))
    warn_all(project.warnings)
    if args.json:
        write_utf8(project.inventory.to_json_text())
        return EXIT_OK
    from liferaft.cli.console import print_inventory

    print_inventory(project.inventory)
    return EXIT_OK


def _inspect(args: argparse.Namespace) -> int:
    """`liferaft scan --inspect FILE`: one file's preview, as text or JSON; exit 1 when it cannot be read."""

    if not args.inspect.strip():
        raise UsageError("the file name is empty")
    path = Path(args.inspect).expanduser()
    if not path.is_absolute() and args.dir != ".":
        path = Path(args.dir).expanduser() / path
    from liferaft.core.shell import quote_arg

    require_regular_file(path, str(path), folder_hint=f": list it with `liferaft scan {quote_arg(str(path))}`")
    from liferaft.core.inspect import inspect_file
    from liferaft.core.roles import kind_from_name, sniff_kind

    kind = kind_from_name(path.name)
    if kind is None:
        try:
            with open(path, "rb") as handle:
                kind = sniff_kind(handle.read(512))
        except OSError:
            kind = "other"  # the inspector reports why it cannot be read
    preview = inspect_file(path, kind)
    if args.json:
        import dataclasses
        import json

        sys.stdout.write(json.dumps({"path": str(path), **dataclasses.asdict(preview)}, ensure_ascii=False) + "\n")
    else:
        from liferaft.cli.console import print_preview

        print_preview(preview, path, show_error=False)  # the error goes to stderr, below
    if preview.error:
        err(preview.error)
        return EXIT_FAILED
    return EXIT_OK

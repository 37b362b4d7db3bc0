"""`liferaft check [DIR] [FILES...]`: the files a new chat needs against the upload limits, a verdict per file.

Exit 0 when every file is fine, 1 when anything is warned or blocked. `--fetch-tokenizer` downloads the
tokenizer data once (the one download Liferaft makes, on request) and exits.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from liferaft.cli.commands import DIR_HELP
from liferaft.cli.io import EXIT_FAILED, EXIT_OK, UsageError, err, warn_all, write_utf8

# Typing-only imports; `typing` itself costs ~2 ms at start-up, which `liferaft scan` is measured on.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    cmd = subparsers.add_parser(
        "check", help="check the files a new chat needs (default: every source file: SOURCE/, and data files outside "
             "the role folders) against upload limits"
    )
    cmd.add_argument("dir", nargs="?", default=".", metavar="DIR", help=DIR_HELP)
    cmd.add_argument("files", nargs="*", metavar="FILES", help="check only these files (relative to DIR)")
    cmd.add_argument("--json", action="store_true", help="print JSON instead of a report")
    cmd.add_argument("--fetch-tokenizer", action="store_true",
                     help="download the o200k_base tokenizer data once (about 3.6 MB, into your cache "
                     "folder) so that token counts are exact, then exit; check never downloads it otherwise")


def normalise_argv(argv: list[str]) -> list[str]:
    """`check DIR --json FILES...`: options may sit between DIR and FILES, so they are moved to the front."""
    index = argv.index("check")
    options: list[str] = []
    positionals: list[str] = []
    rest = argv[index + 1 :]
    for position, arg in enumerate(rest):
        if arg == "--":
            positionals += rest[position + 1 :]
            break
        (options if arg.startswith("-") and arg != "-" else positionals).append(arg)
    return [*argv[: index + 1], *options, "--", *positionals] if positionals else [*argv[: index + 1], *options]


def run(args: argparse.Namespace) -> int:
    """`liferaft check`: a verdict per file; exit 1 when anything is warned or blocked."""
    from liferaft.core import preflight
    from liferaft.core.project import check_folder

    if args.fetch_tokenizer:
        return _fetch_tokenizer()
    root = check_folder(Path(args.dir))
    limits = _check_limits()
    if args.files:
        paths: list[tuple[Path, str]] = []
        for entry in args.files:
            if not entry.strip():
                raise UsageError("a file name is empty")
            path = Path(entry).expanduser()
            if not path.is_absolute():
                path = root / path
            if not os.path.lexists(path):
                raise UsageError(f"no such file: {entry}")
            if path.is_dir():
                raise UsageError(f"{entry} is a folder, not a file")
            try:
                shown = path.relative_to(root).as_posix()
            except ValueError:
                shown = str(path)
            from liferaft.core.scan import display_name

            paths.append((path, display_name(shown)))
        report = preflight.check_paths(paths, limits=limits)
    else:
        from liferaft.core.uploads import check_project

        report = check_project(root, limits=limits)
    report = preflight.with_folder(report, os.path.abspath(root))  # its fixes work from any folder
    if args.json:
        import json

        write_utf8(json.dumps(report.to_json(), ensure_ascii=False) + "\n")
    else:
        from liferaft.cli.console import print_check

        print_check(report)
    return EXIT_OK if report.clean else EXIT_FAILED


def _check_limits() -> Any:
    """The upload limits for `check`: the vendor's with the user's [limits]; says on stderr what differs."""
    from liferaft.core.config import configured_limits
    from liferaft.core.vendor import show_number, upload_limits

    limits, warnings = configured_limits()
    warn_all(warnings)
    if limits.overridden:
        vendor = upload_limits()
        changed = ", ".join(f"{name} = {show_number(getattr(limits, name))} (vendor: "
                            f"{show_number(getattr(vendor, name))})" for name in sorted(limits.overridden))
        err(f"using limits from your config: {changed}")
    return limits


def _fetch_tokenizer() -> int:
    """`liferaft check --fetch-tokenizer`: the one download Liferaft makes, on request, with a short timeout."""
    from liferaft.core import tokens

    err(f"downloading the {tokens.ENCODING} tokenizer data (about 3.6 MB)…")
    try:
        target = tokens.fetch_tokenizer()
    except tokens.FetchError as exc:
        err(str(exc))
        return EXIT_FAILED
    print(f"saved {target}: token counts are now exact ({tokens.ENCODING})")
    return EXIT_OK

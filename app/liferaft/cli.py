"""The command line: `liferaft [DIR]` opens the workbench; sub-commands do each pane's work headlessly.

Exit codes: 0 success, 1 a command that ran but failed, 2 a usage error or an unusable folder.
Errors are one line on stderr, never a traceback (set LIFERAFT_DEBUG=1 to see one).
"""

from __future__ import annotations

import argparse
import os
import stat
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from liferaft import __version__
from liferaft.core.project import ProjectError, check_folder

# Typing-only imports; `typing` itself costs ~2 ms at start-up, which `liferaft scan` is measured on.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, NoReturn

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

COMMANDS = ("open", "init", "demo", "scan", "check", "prepare", "note", "prompt", "checkpoint", "status", "diagnose",
            "import")


class UsageError(Exception):
    """Bad arguments: reported in one line with exit code 2."""


def _help_formatter(prog: str) -> argparse.HelpFormatter:
    # argparse's default formatter imports shutil just to learn the width; os answers the same question.
    try:
        width = os.get_terminal_size(sys.stdout.fileno()).columns
    except (OSError, ValueError):
        width = int(os.environ.get("COLUMNS", "0") or 0) or 80
    return argparse.HelpFormatter(prog, width=max(40, min(width, 100)) - 2)


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _help_formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see `{self.prog} --help`)")


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="liferaft",
        description=(
            "A terminal workbench for long ChatGPT data analyses: it keeps the project folder, the restart "
            "note and the rerun prompt ready for when the chat's sandbox expires."
        ),
        epilog="Run `liferaft COMMAND --help` for a command's options. `liferaft DIR` is `liferaft open DIR`.",
    )
    parser.add_argument("--version", action="version", version=f"liferaft {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    dir_help = "the analysis folder (default: the current folder)"
    open_cmd = commands.add_parser("open", help="open the workbench on DIR (the default command)")
    open_cmd.add_argument("dir", nargs="?", default=".", metavar="DIR", help=dir_help)
    # For CI and benchmarks: quit as soon as the first frame is drawn; --headless draws to no terminal.
    open_cmd.add_argument("--first-frame-exit", action="store_true", help=argparse.SUPPRESS)
    open_cmd.add_argument("--headless", action="store_true", help=argparse.SUPPRESS)
    open_cmd.add_argument("--poll", action="store_true",
                          help="watch the folder by polling (for network drives, WSL's /mnt/c, Docker mounts)")

    init_cmd = commands.add_parser(
        "init", help="create SOURCE/ CODE/ OUTPUT/ RESTART/ and a restart-note template (never overwrites)"
    )
    init_cmd.add_argument(
        "dir", nargs="?", default=".", metavar="DIR", help="the folder to set up (created if missing)"
    )

    demo_cmd = commands.add_parser(
        "demo", help="write the demo project and open it; run again, it opens the demo as you left it")
    demo_cmd.add_argument(
        "dir", nargs="?", default=None, metavar="DIR",
        help="where to write it (default: a folder in your user data directory); an existing demo there is "
        "opened as it is",
    )
    demo_cmd.add_argument("--no-open", action="store_true", help="write the demo but do not open the workbench")
    demo_cmd.add_argument("--reset", action="store_true",
                          help="rewrite the demo's own files (your edits to them are lost; nothing else is touched); "
                          "it lists them and asks first")
    demo_cmd.add_argument("--yes", action="store_true", help="with --reset: do not ask (needed when not on a terminal)")

    scan_cmd = commands.add_parser("scan", help="list the project's files by role")
    scan_cmd.add_argument("dir", nargs="?", default=".", metavar="DIR", help=dir_help)
    scan_cmd.add_argument("--json", action="store_true", help="print JSON instead of a table")
    scan_cmd.add_argument(
        "--inspect", metavar="FILE",
        help="preview one file instead (a table's first rows and schema, a text's start, a JSON outline...); "
        "FILE may be anywhere, and a relative FILE is taken from DIR when DIR is given",
    )

    check_cmd = commands.add_parser(
        "check", help="check the files a new chat needs (default: everything in SOURCE) against upload limits"
    )
    check_cmd.add_argument("dir", nargs="?", default=".", metavar="DIR", help=dir_help)
    check_cmd.add_argument("files", nargs="*", metavar="FILES",
                           help="check only these files (relative to DIR)")
    check_cmd.add_argument("--json", action="store_true", help="print JSON instead of a report")
    check_cmd.add_argument("--fetch-tokenizer", action="store_true",
                           help="download the o200k_base tokenizer data once (about 3.6 MB, into your cache "
                           "folder) so that token counts are exact, then exit; check never downloads it otherwise")

    prepare_cmd = commands.add_parser(
        "prepare", help="write a fixed copy of one file under prepared/ next to it (split, re-encode, commas, "
        "export a sheet, drop columns, a clearer name); the original is never changed"
    )
    prepare_cmd.add_argument("file", metavar="FILE", help="the file to prepare (relative to DIR)")
    prepare_cmd.add_argument("dir", nargs="?", default=".", metavar="DIR", help=dir_help)
    action = prepare_cmd.add_mutually_exclusive_group(required=True)
    action.add_argument("--split-mb", type=float, metavar="N",
                        help="split a CSV/TSV into parts of at most N MB, each with the header row")
    action.add_argument("--sheet", metavar="NAME", help="export one sheet of an .xlsx workbook to UTF-8 CSV")
    action.add_argument("--drop-columns", metavar="A,B", help="write the CSV without these columns (UTF-8, commas)")
    action.add_argument("--utf8", action="store_true", help="re-encode a CSV or text file to UTF-8")
    action.add_argument("--comma", action="store_true",
                        help="write a CSV/TSV as UTF-8 with commas (re-encoded and re-delimited in one pass)")
    action.add_argument("--name", metavar="NEW",
                        help="copy the file under a clearer name NEW (its extension kept if NEW has none)")

    note_cmd = commands.add_parser(
        "note", help="print the restart note, or edit it, fill its empty sections from the project, or import "
        "the note the chat wrote"
    )
    note_cmd.add_argument("dir", nargs="?", default=".", metavar="DIR", help=dir_help)
    note_action = note_cmd.add_mutually_exclusive_group()
    note_action.add_argument("--edit", action="store_true",
                             help="open the note in $VISUAL or $EDITOR (else nano, then vi); a missing note is "
                             "created first, with its files, columns and outputs filled from the project")
    note_action.add_argument("--prefill", action="store_true",
                             help="fill the note's empty sections (files, columns, outputs) from the project and "
                             "save it; text you wrote is never replaced")
    note_action.add_argument("--import", dest="import_reply", metavar="FILE",
                             help="merge the chat's reply (the note it wrote when asked) into the note and save it; "
                             "FILE is relative to the current folder, - reads standard input")
    from liferaft import prompt_cmd

    prompt_cmd.add_parser(commands, dir_help)
    from liferaft import status_cmd

    status_cmd.add_parsers(commands, dir_help)
    from liferaft import diagnose_cmd

    diagnose_cmd.add_parser(commands, dir_help)
    from liferaft import import_cmd

    import_cmd.add_parser(commands, dir_help)
    return parser


def _normalise_argv(argv: list[str]) -> list[str]:
    """Make `open` the default command: `liferaft`, `liferaft DIR`, `liferaft DIR --flag`."""
    if argv and argv[0] in ("-h", "--help", "--version"):
        return argv
    first_positional = next((arg for arg in argv if not arg.startswith("-")), None)
    if first_positional == "check":
        return _check_argv(argv)
    if first_positional in COMMANDS:
        return argv
    return ["open", *argv]


def _check_argv(argv: list[str]) -> list[str]:
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


def _err(message: str) -> None:
    one_line = _shown(" ".join(message.split("\n")))  # a file name's control characters shown, not obeyed
    try:
        print(f"liferaft: {one_line}", file=sys.stderr)
    except UnicodeEncodeError:  # a stderr that cannot show every character
        print(f"liferaft: {one_line.encode('ascii', 'backslashreplace').decode()}", file=sys.stderr)


def _require_regular_file(path: Path, shown: str, folder_hint: str = "") -> None:
    """Usage errors for a FILE argument that is missing, a folder, or a pipe/socket/device (never opened)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise UsageError(f"no such file: {shown}") from None
    except OSError as exc:
        raise UsageError(f"cannot open {shown}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(st.st_mode):
        raise UsageError(f"{shown} is a folder, not a file{folder_hint}")
    if not stat.S_ISREG(st.st_mode):
        raise UsageError(f"{shown} is not a regular file (a pipe, socket or device): Liferaft does not open it")


def _write_utf8(text: str) -> None:
    """JSON goes out as UTF-8 whatever the locale says (the README promises UTF-8 JSON)."""
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:
        sys.stdout.write(text)
        return
    sys.stdout.flush()
    buffer.write(text.encode("utf-8"))
    buffer.flush()


def _warn_all(warnings: Sequence[str]) -> None:
    for warning in warnings:
        _err(f"warning: {warning}")


# --- commands -----------------------------------------------------------------------------------------


def _cmd_open(args: argparse.Namespace) -> int:
    root = check_folder(Path(args.dir))
    from liferaft.core.project import ProjectLoader

    loader = ProjectLoader(root)  # scans while Textual is imported (~0.15 s)
    from liferaft.tui.app import run_app

    return run_app(root, first_frame_exit=args.first_frame_exit, headless=args.headless, loader=loader,
                   watch=not args.first_frame_exit, poll=args.poll)


def _cmd_init(args: argparse.Namespace) -> int:
    from liferaft.core.project import init_project

    result = init_project(Path(args.dir))
    for item in result.created:
        print(f"created  {item}")
    for item in result.kept:
        print(f"kept     {item} (already there)")
    if not result.created:
        print("Nothing to do: the project is already set up.")
    return EXIT_OK


def _default_demo_dir() -> Path:
    import platformdirs

    return platformdirs.user_data_path("liferaft", appauthor=False) / "demo"


def _cmd_demo(args: argparse.Namespace) -> int:
    from liferaft.core.demo import DemoError, demo_status, write_demo

    target = Path(args.dir).expanduser() if args.dir else _default_demo_dir()
    if args.yes and not args.reset:
        raise UsageError("--yes only goes with --reset")
    shown = _shown(str(target))

    def progress(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    try:
        status = demo_status(target, edits=args.reset) if target.is_dir() else None  # hashing: only for --reset
        if status is None:
            result = write_demo(target, progress=progress)
            print(f"Demo project written: {_shown(str(result.root))}")
        elif not args.reset:
            if status.missing:
                write_demo(target, progress=progress, missing_only=True)
                print(f"Demo project at {shown}: wrote back its missing "
                      f"{'file' if len(status.missing) == 1 else 'files'} {', '.join(status.missing)}; "
                      "everything else is as you left it.")
            else:
                print(f"Demo project at {shown}: opening it as you left it "
                      f"(`liferaft demo{_demo_dir_arg(args)} --reset` rewrites its files).")
        else:
            if not _confirm_reset(target, status, args):
                print("Nothing replaced.")
                return EXIT_FAILED
            write_demo(target, progress=progress)
            print(f"Demo project reset: {shown}")
    except DemoError as exc:
        _err(str(exc))
        return EXIT_USAGE
    if args.no_open:
        return EXIT_OK
    from liferaft.tui.app import run_app

    return run_app(target, watch=True)


def _demo_dir_arg(args: argparse.Namespace) -> str:
    if not args.dir:
        return ""
    import shlex

    return " " + shlex.quote(_shown(args.dir))


def _confirm_reset(target: Path, status: Any, args: argparse.Namespace) -> bool:
    """Say what `demo --reset` replaces (and what it keeps), then ask; without a terminal --yes is needed."""
    changed = status.changed
    edited = [name for name in status.present if changed is not None and name in changed]
    if not args.yes and not sys.stdin.isatty():
        what = f", {len(edited)} of them changed by you ({', '.join(edited)})" if edited else ""
        raise UsageError(f"--reset would replace the demo's {len(status.present)} files in {_shown(str(target))}"
                         f"{what}: add --yes to do it without a terminal (nothing changed)")
    print(f"--reset rewrites the demo's own files in {_shown(str(target))}:")
    for name in status.present:
        note = "  (changed since the demo wrote it: your edits are lost)" if name in edited else ""
        print(f"  {name}{note}")
    for name in status.missing:
        print(f"  {name}  (missing: written again)")
    if changed is None:
        print("Liferaft cannot tell which of them you changed (this demo was written by an older version).")
    prepared = sorted({str(Path(name).parent / "prepared") for name in status.present
                       if (target / Path(name).parent / "prepared").is_dir()})
    kept = "Everything else stays as it is: your own files, .liferaft/ (checkpoints, roles, the session clock)"
    print(kept + (f", and the copies in {', '.join(prepared)} (out of date once the originals are rewritten: "
                  "prepare them again)." if prepared else "."))
    if args.yes:
        return True
    try:
        answer = input("Replace them? [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


def _cmd_scan(args: argparse.Namespace) -> int:
    if args.inspect is not None:
        return _cmd_inspect(args)
    from liferaft.core.project import open_project

    project = open_project(Path(args.dir))
    _warn_all(project.warnings)
    if args.json:
        _write_utf8(project.inventory.to_json_text())
        return EXIT_OK
    from liferaft.console import print_inventory

    print_inventory(project.inventory)
    return EXIT_OK


def _cmd_inspect(args: argparse.Namespace) -> int:
    """`liferaft scan --inspect FILE`: one file's preview, as text or JSON; exit 1 when it cannot be read."""

    if not args.inspect.strip():
        raise UsageError("the file name is empty")
    path = Path(args.inspect).expanduser()
    if not path.is_absolute() and args.dir != ".":
        path = Path(args.dir).expanduser() / path
    _require_regular_file(path, str(path), folder_hint=f": list it with `liferaft scan {path}`")
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
        from liferaft.console import print_preview

        print_preview(preview, path, show_error=False)  # the error goes to stderr, below
    if preview.error:
        _err(preview.error)
        return EXIT_FAILED
    return EXIT_OK


def _cmd_check(args: argparse.Namespace) -> int:
    """`liferaft check`: a verdict per file; exit 1 when anything is warned or blocked."""
    from liferaft.core import preflight

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

        _write_utf8(json.dumps(report.to_json(), ensure_ascii=False) + "\n")
    else:
        from liferaft.console import print_check

        print_check(report)
    return EXIT_OK if report.clean else EXIT_FAILED


def _check_limits() -> Any:
    """The upload limits for `check`: the vendor's with the user's [limits]; says on stderr what differs."""
    from liferaft.core.config import configured_limits
    from liferaft.core.vendor import show_number, upload_limits

    limits, warnings = configured_limits()
    _warn_all(warnings)
    if limits.overridden:
        vendor = upload_limits()
        changed = ", ".join(f"{name} = {show_number(getattr(limits, name))} (vendor: "
                            f"{show_number(getattr(vendor, name))})" for name in sorted(limits.overridden))
        _err(f"using limits from your config: {changed}")
    return limits


def _fetch_tokenizer() -> int:
    """`liferaft check --fetch-tokenizer`: the one download Liferaft makes, on request, with a short timeout."""
    from liferaft.core import tokens

    _err(f"downloading the {tokens.ENCODING} tokenizer data (about 3.6 MB)…")
    try:
        target = tokens.fetch_tokenizer()
    except tokens.FetchError as exc:
        _err(str(exc))
        return EXIT_FAILED
    print(f"saved {target}: token counts are now exact ({tokens.ENCODING})")
    return EXIT_OK


class StderrProgress:
    """Progress of long work on stderr (``done``, ``total`` in bytes), only once it has taken a second: in place
    on a terminal; when stderr is not one, a line every ``piped_every`` seconds, or nothing when that is None."""

    def __init__(self, label: str, *, piped_every: float | None = None) -> None:
        import time

        self._clock = time.monotonic
        self.label = label
        self.start = self._clock()
        self.last = 0.0
        self.tty = sys.stderr.isatty()
        self.piped_every = piped_every
        self.shown = False

    def __call__(self, done: Any = None, total: Any = None, *_rest: Any) -> None:
        now = self._clock()
        if not self.tty and self.piped_every is None:
            return
        if now - self.start < 1.0 or now - self.last < (0.2 if self.tty else self.piped_every or 0):
            return
        self.last = now
        if isinstance(done, int | float) and isinstance(total, int | float) and total > 0:
            from liferaft.core.units import format_size

            text = f"{self.label}: {100 * done / total:.0f} % ({format_size(int(done))} of {format_size(int(total))})"
        else:
            text = f"{self.label}…"
        if self.tty:
            print(f"\r{text}\033[K", end="", file=sys.stderr, flush=True)
        else:
            print(text, file=sys.stderr, flush=True)
        self.shown = True

    def finish(self) -> None:
        if self.shown and self.tty:
            print("\r\033[K", end="", file=sys.stderr, flush=True)
        self.shown = False


def _progress_printer(label: str) -> Callable[[int, int], None]:
    """Print a line on stderr at every tenth of the work, for work big enough to wait for."""
    state = {"step": 0}

    def report(done: int, total: int) -> None:
        if total < 20_000_000 and label != "rows":
            return
        step = min(10, done * 10 // max(total, 1))
        if step > state["step"] and step < 10:
            state["step"] = step
            print(f"liferaft: {step * 10} % ({done:,} of {total:,} {label})", file=sys.stderr, flush=True)

    return report


def _shown(text: str) -> str:
    """``text`` on one line and inert: line breaks, control characters (terminal escape sequences), bidi
    overrides and bytes that are not UTF-8 are shown escaped (:func:`liferaft.core.scan.shown_name`)."""
    from liferaft.core.scan import shown_name

    return shown_name(text)


def _cmd_prepare(args: argparse.Namespace) -> int:
    """`liferaft prepare FILE [DIR]` and one action: --split-mb, --sheet, --drop-columns, --utf8, --comma, --name."""

    from liferaft.core import prepare

    root = check_folder(Path(args.dir))
    if not args.file.strip():
        raise UsageError("the file name is empty")
    path = Path(args.file).expanduser()
    if not path.is_absolute():
        path = root / path
    if os.path.islink(path) and not os.path.exists(path):
        raise UsageError(f"{args.file} is a link whose target does not exist")
    _require_regular_file(path, args.file)
    before = os.stat(path)
    source = (before.st_size, before.st_mtime)  # as it was read: a change during the fix shows as stale
    try:
        if args.split_mb is not None:
            result = prepare.split_csv(path, args.split_mb, progress=_progress_printer("bytes"))
        elif args.sheet is not None:
            result = prepare.export_sheet(path, args.sheet, progress=_progress_printer("rows"))
        elif args.drop_columns is not None:
            result = prepare.drop_columns(path, args.drop_columns.split(","), progress=_progress_printer("bytes"))
        elif args.name is not None:
            result = prepare.copy_as(path, args.name, progress=_progress_printer("bytes"))
        elif args.comma:
            result = prepare.to_comma(path, progress=_progress_printer("bytes"))
        else:
            result = prepare.to_utf8(path, progress=_progress_printer("bytes"))
    except prepare.PrepareUsage as exc:
        raise UsageError(str(exc)) from None
    except prepare.PrepareError as exc:
        _err(str(exc))
        return EXIT_FAILED
    from liferaft.core.units import format_size

    for note in result.notes:
        print(_shown(note))
    for item in result.written:
        try:
            shown = item.path.relative_to(root).as_posix()
        except ValueError:
            shown = str(item.path)
        rows = f", {item.rows:,} rows" if item.rows is not None else ""
        print(f"wrote  {_shown(shown)} ({format_size(item.size)}{rows})")
    if not result.written:
        print("Nothing written.")
        return EXIT_OK
    _remember_prepared(root, path, args, [item.path for item in result.written], source)
    return EXIT_OK


def _remember_prepared(root: Path, original: Path, args: argparse.Namespace, written: list[Path],
                       source: tuple[int, float]) -> None:
    """Tell the project which files stand in for ``original`` (the composer lists them instead of it)."""
    from liferaft.core.project import record_prepared

    try:
        Path(os.path.abspath(original)).relative_to(Path(os.path.abspath(root)))
    except ValueError:
        return  # a file outside the project: nothing to remember it by
    action = ("split" if args.split_mb is not None else "sheet" if args.sheet is not None
              else "drop_columns" if args.drop_columns is not None else "name" if args.name is not None
              else "comma" if args.comma else "utf8")
    warning = record_prepared(root, original, action, written, source)
    if warning:
        _err(warning)
    if action == "name":
        from liferaft.core.fixes import relative
        from liferaft.core.project import open_project
        from liferaft.core.restart_note import note_mentions

        old_path = relative(root, original)
        mentions = note_mentions(root, open_project(root).inventory, old_path)
        if mentions:
            print(_shown(f"The restart note names {original.name} {mentions} time(s): change it to "
                         f"{written[0].name} there (in the workbench, p does it for you)."))


def _status_cmd() -> Any:
    from liferaft import status_cmd

    return status_cmd


def _lazy(module: str) -> Any:
    import importlib

    return importlib.import_module(f"liferaft.{module}")


def _prompt(args: argparse.Namespace) -> int:
    from liferaft import prompt_cmd

    return prompt_cmd.run(args)


def _cmd_note(args: argparse.Namespace) -> int:
    """`liferaft note [DIR]`: print the restart note; --edit, --prefill and --import change it."""
    from liferaft.core import restart_note as rn
    from liferaft.core.project import open_project

    project = open_project(Path(args.dir))
    _warn_all(project.warnings)
    root, inventory = project.root, project.inventory
    try:
        note, record = rn.load_note(root, inventory)
        changes = args.edit or args.prefill or args.import_reply is not None
        if changes and record is not None and ("symlink" in record.flags or "outside_root" in record.flags):
            _err(f"{_shown(record.display_path)} is a link: Liferaft does not write through it; change the note it "
                 "points to")
            return EXIT_FAILED
        if args.edit:
            return _note_edit(root, inventory, note)
        if args.prefill:
            return _note_prefill(root, inventory, note)
        if args.import_reply is not None:
            return _note_import(root, inventory, note, args.import_reply)
    except rn.NoteError as exc:
        _err(str(exc))
        return EXIT_FAILED
    if note is None:
        _err(f"no restart note in {_shown(str(root))}: create one with `liferaft init` or `liferaft note --edit`")
        return EXIT_FAILED
    text = rn.write_note(note)  # the file as it is, byte for byte
    if text and sys.stdout.isatty():
        from liferaft.core.scan import shown_lines

        # On a terminal, control characters (a file name in an older note) are shown, not obeyed.
        text = shown_lines(text.removesuffix("\n")) + "\n"
    _write_utf8(text)
    return EXIT_OK


def _note_shown(root: Path, path: Path) -> str:
    try:
        return _shown(path.relative_to(root).as_posix())
    except ValueError:
        return _shown(str(path))


def _editor_command() -> list[str]:
    """The editor to run: $VISUAL, else $EDITOR (either may hold arguments), else nano, else vi."""
    import shlex
    import shutil

    for variable in ("VISUAL", "EDITOR"):
        value = os.environ.get(variable, "").strip()
        if not value:
            continue
        try:
            command = shlex.split(value)
        except ValueError:
            raise _EditorError(f"${variable} is not a command Liferaft can run: {_shown(value)}") from None
        if not command:
            continue
        if shutil.which(command[0]) is None:
            raise _EditorError(f"the editor in ${variable} was not found: {_shown(command[0])} (set $VISUAL or "
                               "$EDITOR to an editor that is installed)")
        return command
    for fallback in ("nano", "vi"):
        if shutil.which(fallback) is not None:
            return [fallback]
    raise _EditorError("no editor found: set $VISUAL or $EDITOR (neither nano nor vi is installed)")


class _EditorError(Exception):
    """The editor cannot be run; one line for the user (exit 1)."""


def _note_edit(root: Path, inventory: Any, note: Any) -> int:
    import subprocess

    from liferaft.core import restart_note as rn

    try:
        command = _editor_command()
    except _EditorError as exc:
        _err(str(exc))
        return EXIT_FAILED
    created = note is None
    path = rn.save_note(root, inventory, rn.prefill_note(root, inventory)) if created else rn.note_path(root, inventory)
    shown = _note_shown(root, path)
    try:
        finished = subprocess.run([*command, str(path)], check=False)
    except OSError as exc:
        _err(f"cannot start the editor {_shown(command[0])}: {exc.strerror or exc}")
        return EXIT_FAILED
    if created:
        print(f"created  {shown} (files, columns and outputs filled from the project)")
    if finished.returncode != 0:
        _err(f"the editor exited with status {finished.returncode}; {shown} is as it left it")
        return EXIT_FAILED
    from liferaft.core.project import open_project

    edited, _record = rn.load_note(root, open_project(root).inventory)
    if edited is None:
        _err(f"{shown} is gone: the editor did not save it")
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
        _require_regular_file(path, source)
        raw = storage.read_small_file(path, rn.NOTE_LIMIT + 1)
        shown = _shown(source)
    if len(raw) > rn.NOTE_LIMIT:
        _err(f"{shown} is larger than 4 MB: not a chat reply Liferaft imports")
        return EXIT_FAILED
    try:
        reply = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        _err(f"{shown} is not UTF-8 text: save the reply as UTF-8 and try again (nothing written)")
        return EXIT_FAILED
    base = note if note is not None else rn.new_note(root.name or str(root))
    import datetime

    today = datetime.date.today().isoformat()
    result = rn.merge_reply(base, reply, today)
    if result.refused:
        _err(f"{result.refused} in {shown}: nothing written (the reply should be the note the chat wrote, with "
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
              + "; ".join(_shown(line[:60]) for line in result.left_out[:3]) + ("; …" if count > 3 else ""))
    print(f"{'created' if note is None else 'saved  '}  {_note_shown(root, path)}")
    return EXIT_OK


HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {
    "open": _cmd_open,
    "init": _cmd_init,
    "demo": _cmd_demo,
    "scan": _cmd_scan,
    "check": _cmd_check,
    "prepare": _cmd_prepare,
    "note": _cmd_note,
    "prompt": lambda args: _prompt(args),
    "checkpoint": lambda args: _status_cmd().run_checkpoint(args),
    "status": lambda args: _status_cmd().run_status(args),
    "diagnose": lambda args: _lazy("diagnose_cmd").run(args),
    "import": lambda args: _lazy("import_cmd").run(args),
}


class Interrupted(KeyboardInterrupt):
    """SIGTERM or SIGHUP (a `kill`, a closed terminal): handled as Ctrl-C is, so every clean-up runs."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


#: Modules whose locks an exception raised half-way through would leave held (a thread pool then hangs for good),
#: and the making of a temporary file (which records it for the clean-up before it returns): a stop signal that
#: arrives while the main thread is in them is handled a moment later, once it is out.
_LOCK_MODULES = ("threading", "queue", "concurrent.futures._base", "concurrent.futures.thread", "tempfile")
_HELD_FUNCTIONS = frozenset({"new_temp_file"})
#: The stop signal waiting for the main thread to leave such code, and the SIGALRM handler it replaced.
_deferred: dict[str, Any] = {}


def _in_lock_code(frame: Any) -> bool:
    files = {getattr(sys.modules.get(name), "__file__", None) for name in _LOCK_MODULES}
    storage_file = getattr(sys.modules.get("liferaft.core.storage"), "__file__", None)
    while frame is not None:
        code = frame.f_code
        if code.co_filename in files or (code.co_filename == storage_file and code.co_name in _HELD_FUNCTIONS):
            return True
        frame = frame.f_back
    return False


def _on_signal(signum: int, frame: Any) -> None:
    import signal

    if _in_lock_code(frame) and hasattr(signal, "setitimer"):
        _deferred["signum"] = signum
        if "alarm" not in _deferred:
            _deferred["alarm"] = signal.signal(signal.SIGALRM, _on_retry)
        signal.setitimer(signal.ITIMER_REAL, 0.02)  # a timer, not a thread: a thread's start takes a lock too
        return
    _deferred.pop("signum", None)
    if signum == signal.SIGINT:  # Ctrl-C: pressed again, it runs the clean-up once more (see prepare._shielded)
        raise KeyboardInterrupt
    for name in _STOP_SIGNALS:  # a second one must not cut the clean-up short
        signal.signal(getattr(signal, name), signal.SIG_IGN)
    raise Interrupted(signum)


def _on_retry(_signum: int, frame: Any) -> None:
    if "signum" in _deferred:
        _on_signal(_deferred["signum"], frame)


#: The signals that stop a command the way Ctrl-C does (SIGHUP: the terminal was closed). Not on Windows.
_STOP_SIGNALS = ("SIGTERM", "SIGHUP")


def _handle_stop_signals() -> dict[int, Any]:
    """Make SIGTERM and SIGHUP raise :class:`Interrupted` in the main thread, and Ctrl-C its KeyboardInterrupt,
    each only once the main thread is out of code that holds a lock; returns the handlers replaced."""
    import signal
    import threading

    previous: dict[int, Any] = {}
    if threading.current_thread() is not threading.main_thread():
        return previous
    for name in ("SIGINT", *_STOP_SIGNALS):
        number = getattr(signal, name, None)
        if number is None:
            continue
        if name == "SIGINT" and signal.getsignal(number) is not signal.default_int_handler:
            continue  # Ctrl-C ignored (a background job) or handled by whoever runs us: left as it is
        try:
            previous[number] = signal.signal(number, _on_signal)
        except (OSError, ValueError):
            continue
    return previous


def _restore_signals(previous: dict[int, Any]) -> None:
    import contextlib
    import signal

    if "alarm" in _deferred:
        with contextlib.suppress(OSError, ValueError, TypeError):
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, _deferred["alarm"] if _deferred["alarm"] is not None else signal.SIG_DFL)
    _deferred.clear()
    for number, handler in previous.items():
        with contextlib.suppress(OSError, ValueError, TypeError):
            signal.signal(number, handler if handler is not None else signal.SIG_DFL)


def _project_folder(args: argparse.Namespace) -> Path | None:
    """The project folder the command works on, for the sweep of stale temporary files; None when it takes none
    (the workbench sweeps when it opens, the demo tidies its own folder)."""
    command = args.command
    if command in ("open", "demo"):
        return None
    if (command == "scan" and args.inspect is not None) or (command == "check" and args.fetch_tokenizer) \
            or (command in ("prompt", "import") and args.list):
        return None
    folder = args.into if command == "import" else getattr(args, "dir", None)
    return Path(folder).expanduser() if folder else None


def _sweep_leftovers(args: argparse.Namespace) -> None:
    """Remove the temporary files a killed Liferaft left in the project (older than a minute); what remains is
    kept on ``args.leftovers`` for `status`. Never fails the command."""
    folder = _project_folder(args)
    if folder is None or not folder.is_dir():
        return
    also = []
    if args.command == "prepare" and args.file.strip():
        file = Path(args.file).expanduser()
        also.append((file if file.is_absolute() else folder / file).parent / "prepared")
    try:
        from liferaft.core.leftovers import sweep_leftovers

        args.leftovers = sweep_leftovers(folder, also=also)
    except Exception:  # tidying up must never stand in the way of the command
        if os.environ.get("LIFERAFT_DEBUG"):
            raise


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `liferaft` console script; returns the exit code."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    previous = _handle_stop_signals()
    try:
        args = _build_parser().parse_args(_normalise_argv(args_list))
        if getattr(args, "dir", None) == "":
            raise UsageError("the folder name is empty: give a folder, or leave it out for the current one")
        if args.command in ("open", "demo"):
            _restore_signals(previous)  # the workbench has its own way out, and restores the terminal
        _sweep_leftovers(args)
        return HANDLERS[args.command](args)
    except UsageError as exc:
        _err(str(exc))
        return EXIT_USAGE
    except ProjectError as exc:
        _err(str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt as exc:
        import contextlib

        with contextlib.suppress(OSError):  # the terminal is gone (SIGHUP): nobody to tell
            _err("interrupted")
        return 128 + exc.signum if isinstance(exc, Interrupted) else 130
    except BrokenPipeError:
        # The reader went away (`liferaft scan | head`): not an error worth a message.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except OSError as exc:
        if os.environ.get("LIFERAFT_DEBUG"):
            raise
        where = f" ({exc.filename})" if exc.filename else ""
        _err(f"{exc.strerror or exc}{where}")
        return EXIT_FAILED
    except Exception as exc:  # the last line of defence: one line, not a traceback
        if os.environ.get("LIFERAFT_DEBUG"):
            raise
        _err(f"unexpected error: {exc.__class__.__name__}: {exc} (set LIFERAFT_DEBUG=1 for details; please report it)")
        return EXIT_FAILED
    finally:
        _restore_signals(previous)


if __name__ == "__main__":
    sys.exit(main())

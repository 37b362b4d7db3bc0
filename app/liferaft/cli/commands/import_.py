"""`liferaft import`: recover a lost session from a ChatGPT data export.

`liferaft import EXPORT --list` lists the export's conversations (newest first, with their code cells and files);
`liferaft import EXPORT --conversation ID|TITLE [--into DIR]` writes that conversation's cells as a script in
CODE/recovered/, fills the restart note, copies the figures the export holds into OUTPUT/recovered/ and records
what the chat generated, so that `liferaft status` lists what OUTPUT still lacks. Exit 0 done (a damaged item of
the export is a warning), 1 the export or the conversation cannot be used, 2 a usage error (also several
conversations and none chosen).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterable
from pathlib import Path

from liferaft.cli.io import EXIT_FAILED, EXIT_OK, StderrProgress, UsageError, err, printable, write_utf8
from liferaft.core.units import format_count

# Typing-only imports; `typing` itself costs ~2 ms at start-up, which `liferaft scan` is measured on.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    cmd = subparsers.add_parser(
        "import", help="recover a session from a ChatGPT data export: the code as a script, the note, the outputs")
    cmd.add_argument("export", metavar="EXPORT",
                     help="the export: its .zip, the extracted folder, conversations.json, one conversation's JSON, "
                          "or chat.html")
    cmd.add_argument("--into", default=".", metavar="DIR", help="the project to import into (default: the current "
                                                                 "folder)")
    cmd.add_argument("--conversation", metavar="ID|TITLE",
                     help="the conversation to import, by id or title (see --list); needed when there are several")
    cmd.add_argument("--list", action="store_true", help="list the conversations instead, newest first")
    cmd.add_argument("--all-branches", action="store_true",
                     help="also take the cells of branches abandoned by an edit (they ran, and may have written files)")
    cmd.add_argument("--notebook", action="store_true", help="also write the cells as a Jupyter notebook")
    cmd.add_argument("--json", action="store_true", help="print JSON instead of a report")




def _date(seconds: Any) -> str:
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool):
        return "—"
    try:
        return time.strftime("%Y-%m-%d", time.localtime(seconds))
    except (OverflowError, OSError, ValueError):
        return "—"


def _summary_json(summary: Any) -> dict[str, Any]:
    to_json = getattr(summary, "to_json", None)
    if callable(to_json):
        return to_json()
    return {key: getattr(summary, key, None) for key in ("id", "title", "create_time", "update_time", "model",
                                                         "code_cells", "branch_cells", "files", "problems",
                                                         "position")}


def _newest_first(summaries: list[Any]) -> list[Any]:
    def when(summary: Any) -> float:
        value = getattr(summary, "update_time", None) or getattr(summary, "create_time", None)
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0

    return sorted(summaries, key=when, reverse=True)


def _list(export: Any, as_json: bool) -> int:
    progress = StderrProgress("reading the export", piped_every=None)
    try:
        summaries = _newest_first(list(export.conversations(progress=progress)))
    finally:
        progress.finish()
    problems = [str(problem) for problem in getattr(export, "problems", []) or []]
    if as_json:
        import json

        write_utf8(json.dumps({"conversations": [_summary_json(s) for s in summaries], "problems": problems},
                               ensure_ascii=False) + "\n")
    else:
        for problem in problems:
            err(f"warning: {problem}")
        if not summaries:
            print("The export holds no conversations.")
        width = max((len(_cells(summary)) for summary in summaries), default=0)
        for summary in summaries:
            title = printable(str(getattr(summary, "title", None) or "Untitled conversation"))
            print(f"{_date(getattr(summary, 'update_time', None) or getattr(summary, 'create_time', None))}  "
                  f"{getattr(summary, 'model', None) or '—'!s:<22} "
                  f"{_cells(summary):<{width}} "
                  f"{_count(getattr(summary, 'files', 0), 'file')}  "
                  f"{title}  [{_key(export, summary)}]")
        _branch_notes(summaries)
        if summaries:
            print(f"{format_count(len(summaries), 'conversation')}; import one with "
                  "`liferaft import EXPORT --conversation ID|TITLE --into DIR`.")
    # A damaged item is a warning, as when importing: exit 1 only when nothing could be listed because of one.
    return EXIT_FAILED if problems and not summaries else EXIT_OK


def _branch_counts(summary: Any) -> tuple[int, int]:
    """(cells on the branch the chat showed last, cells on every branch)."""
    total = getattr(summary, "code_cells", 0)
    total = total if isinstance(total, int) else 0
    shown = getattr(summary, "branch_cells", None)
    return (shown if isinstance(shown, int) else total), total


def _cells(summary: Any) -> str:
    """``"   12 cells"``, or ``"   10 of 41 cells"`` when some ran on branches the import leaves out."""
    shown, total = _branch_counts(summary)
    if shown == total:
        return _count(total, "cell")
    return f"{shown:>5,} of {total:,} cells"


def _branch_notes(summaries: list[Any]) -> None:
    """What `N of M cells` means, and the conversations whose code ran only on abandoned branches."""
    split = [s for s in summaries if _branch_counts(s)[0] != _branch_counts(s)[1]]
    if not split:
        return
    print("`N of M cells`: N ran on the branch the chat showed last (the import takes those), M on every branch "
          "(edits leave the others behind; `--all-branches` takes them too).")
    for summary in split:
        shown, total = _branch_counts(summary)
        if shown == 0:
            title = printable(str(getattr(summary, "title", None) or "Untitled conversation"))
            print(f"\"{title}\" ran its {format_count(total, 'code cell')} only on branches abandoned by an edit: "
                  "import it with --all-branches.")


def _key(export: Any, summary: Any) -> str:
    """The id shown in the list, with `@N` (what --conversation takes) when the export repeats the id."""
    cid = getattr(summary, "id", None) or "—"
    key_for = getattr(export, "key_for", None)
    key = key_for(summary) if callable(key_for) else cid
    return cid if key == cid else f"{cid} {key}"


def _some(names: Iterable[str], shown: int = 5) -> str:
    """``a, b, c, d, e and 3 more``."""
    listed = list(names)
    rest = len(listed) - shown
    return ", ".join(listed[:shown]) + (f" and {rest:,} more" if rest > 0 else "")


def _count(number: object, word: str) -> str:
    """``"    1 cell "``, ``"   12 cells"``: a count for the list's aligned columns."""
    value = number if isinstance(number, int) else 0
    return f"{value:>5,} {word if value == 1 else word + 's'}{' ' if value == 1 else ''}"


def run(args: argparse.Namespace) -> int:
    from liferaft.core.recover import sources

    path = Path(args.export)
    if not path.exists():
        raise UsageError(f"no such export: {args.export} (give the .zip you downloaded, or its conversations.json)")
    try:
        export = sources.open_export(path)
    except sources.ExportError as exc:
        err(f"cannot read the export: {exc}")
        return EXIT_FAILED
    with export:
        try:
            return _run(args, export)
        finally:
            if not args.list:
                _export_problems(export)


def _export_problems(export: Any) -> None:
    """The export's per-item problems (a damaged conversation, a shard that cannot be read), once each."""
    shown: set[str] = getattr(export, "_liferaft_shown", set())
    for problem in getattr(export, "problems", []) or []:
        if str(problem) not in shown:
            shown.add(str(problem))
            err(f"warning: {problem}")
    export._liferaft_shown = shown


def _run(args: argparse.Namespace, export: Any) -> int:
    from liferaft.core.project import check_folder, open_project
    from liferaft.core.recover import sources
    from liferaft.core.recover.write import RecoverWriteError, import_conversation

    if args.list:
        try:
            return _list(export, args.json)
        except sources.ExportError as exc:
            err(f"cannot list {args.export}: {exc}")
            return EXIT_FAILED
    root = check_folder(Path(args.into))
    wanted = args.conversation
    if wanted is None:
        progress = StderrProgress("reading the export", piped_every=None)
        try:
            summaries = list(export.conversations(progress=progress))
        except sources.ExportError as exc:
            err(f"cannot read {args.export}: {exc}")
            return EXIT_FAILED
        finally:
            progress.finish()
        if not summaries:
            _export_problems(export)
            err(f"{args.export} holds no conversation that can be read")
            return EXIT_FAILED
        if len(summaries) > 1:
            raise UsageError(f"the export holds {len(summaries):,} conversations: choose one with --conversation "
                             "ID|TITLE (`--list` shows them)")
        wanted = getattr(summaries[0], "id", None) or getattr(summaries[0], "title", None) or ""
    project = open_project(root)
    for warning in project.warnings:
        err(f"warning: {warning}")
    try:
        result = import_conversation(project.root, export, wanted, all_branches=args.all_branches,
                                     notebook=args.notebook, inventory=project.inventory)
    except sources.AmbiguousConversation as exc:  # as with no --conversation: several, and none chosen
        raise UsageError(str(exc)) from None
    except sources.ExportError as exc:
        err(str(exc))
        return EXIT_FAILED
    except RecoverWriteError as exc:
        err(str(exc))  # it says what was written or taken back
        return EXIT_FAILED
    problems = result.conversation.problems + result.problems
    for problem in problems:
        err(f"warning: {result.conversation.title}: {problem}" if problem in result.conversation.problems
             else f"warning: {problem}")
    if args.json:
        import json

        write_utf8(json.dumps(result.to_json(), ensure_ascii=False) + "\n")
        return EXIT_OK
    conv = result.conversation
    for rel in result.written:
        print(f"wrote      {printable(rel)}")
    for rel in result.unchanged:
        print(f"unchanged  {printable(rel)}")
    failed = f" ({len(conv.failed_cells):,} failed)" if conv.failed_cells else ""
    resets = f", {format_count(len(conv.resets), 'sandbox reset')}" if conv.resets else ""
    print(f"{printable(conv.title)}: {format_count(len(conv.cells), 'code cell')}{failed}{resets}.")
    absent = [name for name, where in result.uploads_in_source.items() if where is None]
    if conv.uploads:
        line = f"{format_count(len(conv.uploads), 'upload')}"
        line += f"; not in SOURCE yet: {_some(printable(n) for n in absent)}" if absent else ", all in SOURCE"
        print(line + ".")
    missing = [made for made in conv.generated if not result.outputs_present.get(made.path, False)]
    if conv.generated:
        if missing:
            names = _some(printable(made.name) for made in missing)
            print(f"{format_count(len(conv.generated), 'generated file')}, {len(missing):,} not in OUTPUT: {names}. "
                  "`liferaft prompt` asks a new chat for them again; `liferaft status` lists them.")
        else:
            print(f"{format_count(len(conv.generated), 'generated file')}, all in OUTPUT.")
    for canvas, path in zip(conv.canvases, result.canvases, strict=False):
        kind = "code canvas" if canvas.is_code else "canvas"
        changes = f", {format_count(canvas.applied, 'update')} applied" if canvas.applied else ""
        kept = (f"; {format_count(len(canvas.skipped), 'update')} could not be applied, so it is the last state "
                "that could be rebuilt") if canvas.skipped else ""
        print(f"{kind.capitalize()} \"{printable(canvas.title)}\" → {printable(path)}{changes}{kept}.")
    if result.script:
        print(f"Run `python {printable(result.script)}` once the uploads are back in SOURCE.")
    elif not conv.cells and conv.abandoned_calls:
        print(f"It ran no code on the branch the chat showed last, but {format_count(conv.abandoned_calls, 'cell')} "
              "ran on branches abandoned by an edit: import again with --all-branches to take them.")
    elif not conv.cells:
        print("It ran no code: no script written.")
    if conv.cells and conv.abandoned_calls:
        print(f"{format_count(conv.abandoned_calls, 'more cell')} ran on branches abandoned by an edit; "
              "--all-branches takes them too.")
    return EXIT_OK

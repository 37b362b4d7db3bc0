"""`liferaft replay [DIR]`: run the recovered (or saved) code again here, cell by cell, in a sandboxed kernel,
and set what it makes beside what the project has; `--accept` moves the regenerated missing outputs into
OUTPUT."""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from pathlib import Path

from liferaft.cli.commands import DIR_HELP
from liferaft.cli.io import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, UsageError, err, printable

# Typing-only imports (`typing` itself costs ~2 ms at start-up, which `liferaft scan` is measured on).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from liferaft.core.replay.cells import Cell
    from liferaft.core.replay.session import CellRecord, Decision, ReplayPlan, ReplayResult

#: Exit status when cells failed (the replay itself ran).
EXIT_CELLS_FAILED = 1


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError("must be more than 0 seconds")
    return value


def _cell_number(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a cell number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("cells are numbered from 1")
    return value


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    cmd = subparsers.add_parser(
        "replay", help="rerun the recovered code here, cell by cell, in a sandbox, and regenerate lost outputs",
        description="Rerun a script or notebook cell by cell in one kernel, in an environment shaped like the "
                    "chat's sandbox. What it writes goes to OUTPUT/replayed/<date-time>/; nothing in the project "
                    "is changed. It lists what it will install and asks first.")
    cmd.add_argument("dir", nargs="?", default=".", metavar="DIR", help=DIR_HELP)
    source = cmd.add_mutually_exclusive_group()
    source.add_argument("--script", type=Path, metavar="FILE",
                        help="the script to run (default: the newest in CODE/recovered/, else the one in CODE)")
    source.add_argument("--notebook", type=Path, metavar="FILE", help="a notebook to run instead of a script")
    cmd.add_argument("--from", dest="first", type=_cell_number, metavar="N", help="start at cell N")
    cmd.add_argument("--to", dest="last", type=_cell_number, metavar="N", help="stop after cell N")
    cmd.add_argument("--cell-timeout", type=_positive, default=None, metavar="S",
                     help="interrupt a cell after S seconds (default: [replay] cell_timeout in config.toml, else 600)")
    cmd.add_argument("--no-sandbox", action="store_true",
                     help="run without the sandbox (the code then has your network and your files)")
    cmd.add_argument("--yes", action="store_true", help="do not ask: install what is listed and run")
    cmd.add_argument("--json", action="store_true", help="print the replay's record as JSON")
    cmd.add_argument("--accept", action="store_true",
                     help="move the newest replay's regenerated missing outputs into OUTPUT (never overwriting)")


def _ask(question: str) -> bool:
    print(f"{question} [y/N] ", end="", file=sys.stderr, flush=True)
    try:
        answer = sys.stdin.readline()
    except (OSError, ValueError):
        return False
    return answer.strip().lower() in ("y", "yes")


def _interactive() -> bool:
    try:
        return sys.stdin.isatty() and sys.stderr.isatty()
    except (OSError, ValueError):
        return False


class _Progress:
    """Cell N of M, its first line, elapsed time and a bar, on stderr (in place on a terminal)."""

    def __init__(self, quiet: bool) -> None:
        import time

        self.clock = time.monotonic
        self.quiet = quiet
        self.tty = sys.stderr.isatty()
        self.cell_started = 0.0
        self.line = ""
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.ticker: threading.Thread | None = None

    def start_cell(self, cell: Cell, at: int, of: int) -> None:
        if self.quiet:
            return
        width = 20
        filled = round(width * (at - 1) / max(of, 1))
        bar = "█" * filled + "░" * (width - filled)
        first = printable(cell.first_line)
        first = first if len(first) <= 48 else first[:47] + "…"
        with self.lock:
            self.cell_started = self.clock()
            self.line = f"{bar} cell {at}/{of} ({printable(cell.label)}) {first}"
        if self.tty:
            self._show()
            if self.ticker is None:
                self.ticker = threading.Thread(target=self._tick, daemon=True)
                self.ticker.start()
        else:
            print(self.line, file=sys.stderr, flush=True)

    def output(self, cell: Cell, output: dict[str, Any]) -> None:
        """What a cell prints, on stdout as it comes (as running the script would show it)."""
        if self.quiet:
            return
        if output.get("output_type") == "stream":
            text = output.get("text", "")
        elif output.get("output_type") in ("execute_result", "display_data"):
            data = output.get("data", {})
            text = data.get("text/plain", "[an image]" if "image/png" in data else "") + "\n"
        else:
            return
        self.clear()
        sys.stdout.write(printable_block(text))
        sys.stdout.flush()
        if self.tty:
            self._show()

    def _show(self) -> None:
        with self.lock:
            if self.line:
                seconds = self.clock() - self.cell_started
                print(f"\r{self.line}  {seconds:.0f} s\033[K", end="", file=sys.stderr, flush=True)

    def _tick(self) -> None:
        while not self.done.wait(1.0):
            self._show()

    def clear(self) -> None:
        with self.lock:
            if self.tty and self.line:
                print("\r\033[K", end="", file=sys.stderr, flush=True)
            self.line = ""

    def finish(self) -> None:
        self.done.set()
        self.clear()


def printable_block(text: str) -> str:
    """Text a cell printed, each line with its control characters made visible (newlines and tabs kept)."""
    return "\n".join(printable(line).replace("\\t", "\t") for line in text.split("\n"))


def _show_failure(record: CellRecord) -> None:
    err(f"{record.label} ({record.status}): {printable(record.error)}")
    for line in record.traceback:
        print(f"    {printable(line)}", file=sys.stderr)
    if record.diagnosis:
        print(f"  Reading: {printable(record.diagnosis)}", file=sys.stderr)
    if record.chat_output:
        said = record.chat_output.strip().splitlines()
        print("  In the chat it printed:", file=sys.stderr)
        for line in said[:6]:
            print(f"    {printable(line)}", file=sys.stderr)


def _edit(code: str) -> str | None:
    """The cell's code after the user edits it in $VISUAL/$EDITOR; None when no editor ran or nothing changed."""
    import subprocess
    import tempfile

    from liferaft.core.shell import EditorError, editor_command

    try:
        editor = editor_command()
    except EditorError as exc:
        err(str(exc))
        return None
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False, encoding="utf-8") as handle:
        handle.write(code)
        name = handle.name
    try:
        subprocess.run([*editor, name], check=False)
        edited = Path(name).read_text(encoding="utf-8")
    except (OSError, ValueError) as exc:
        err(f"the editor could not be run ({exc}); set $EDITOR")
        return None
    finally:
        Path(name).unlink(missing_ok=True)
    return edited if edited != code else None


def _on_error(progress: _Progress, interactive: bool) -> Any:
    def decide(record: CellRecord, cell: Cell) -> Decision:
        progress.clear()
        _show_failure(record)
        if not interactive:
            return ("stop", None)
        while True:
            print("  [e]dit the cell and run it again, [s]kip it, or s[t]op? ", end="", file=sys.stderr, flush=True)
            answer = sys.stdin.readline().strip().lower()
            if answer in ("e", "edit"):
                code = _edit(record.code)
                if code is not None:
                    return ("retry", code)
                err("nothing changed in the cell")
            elif answer in ("s", "skip"):
                return ("skip", None)
            elif answer in ("t", "stop", "q", ""):
                return ("stop", None)
    return decide


def _accept(root: Path, as_json: bool) -> int:
    from liferaft.core.replay.results import accept, latest_replay

    folder = latest_replay(root)
    if folder is None:
        raise UsageError("no replay to accept yet: run `liferaft replay` first")
    report = accept(root, folder)
    if as_json:
        print(json.dumps({"replay": folder.name, "accepted": list(report.accepted), "kept": list(report.kept),
                          "problems": list(report.problems)}, indent=2, ensure_ascii=False))
        return EXIT_FAILED if report.problems else EXIT_OK
    for path in report.accepted:
        print(f"accepted  {printable(path)}")
    for path in report.kept:
        print(f"kept      {printable(path)} (OUTPUT has its own copy, left as it is)")
    for problem in report.problems:
        err(problem)
    if not report.accepted and not report.kept and not report.problems:
        print(f"Nothing to accept from {printable(folder.name)}: it regenerated no output that OUTPUT lacks.")
    return EXIT_FAILED if report.problems else EXIT_OK


def _confirm_plan(plan: ReplayPlan, args: argparse.Namespace, install: list[str], unknown: list[str],
                  reused: bool) -> bool:
    chosen = [cell for cell in plan.chosen if cell.number]
    print(f"Replay {printable(plan.script.name)}: {len(chosen)} of {plan.total} cells, "
          f"{'in the sandbox (no network, project read-only)' if not args.no_sandbox else 'WITHOUT the sandbox'}; "
          "results go to OUTPUT/replayed/.", file=sys.stderr)
    if install and not reused:
        print(f"It will install into a new environment: {', '.join(install)}", file=sys.stderr)
    elif install:
        print(f"Environment ready (cached): {', '.join(install)}", file=sys.stderr)
    shells = [cell for cell in chosen if cell.shell]
    if shells:
        print(f"{len(shells)} of them {'is a shell step' if len(shells) == 1 else 'are shell steps'} the chat ran"
              f"{': they run in the sandbox too' if not args.no_sandbox else ', skipped without the sandbox'}.",
              file=sys.stderr)
    if args.no_sandbox:
        print("Without the sandbox only Python's own file calls are kept from your files: run code you have read.",
              file=sys.stderr)
    if unknown:
        print(f"Imports with no known package, NOT installed: {', '.join(unknown)} (name the package in "
              "config.toml under [replay.packages], e.g. mymodule = \"its-pypi-name\")", file=sys.stderr)
    if args.yes:
        return True
    if not _interactive():
        raise UsageError("replay asks before it installs and runs anything: add --yes to run it from a script")
    return _ask("Go ahead?")


def run(args: argparse.Namespace) -> int:
    from liferaft.core.project import check_folder
    from liferaft.core.replay import session
    from liferaft.core.replay.environment import ReplayEnvironmentError
    from liferaft.core.replay.prepare import environment_for, requirements_for

    root = check_folder(Path(args.dir))
    if args.accept:
        return _accept(root, args.json)
    try:
        plan = session.plan_replay(root, script=args.script, notebook=args.notebook, first=args.first,
                                   last=args.last)
    except session.ReplayError as exc:
        raise UsageError(str(exc)) from None
    if not args.no_sandbox and plan.sandbox_problem:
        raise UsageError(f"the replay cannot be sandboxed here: {plan.sandbox_problem}. Run with --no-sandbox "
                         "to replay without it (the code then runs with your network and your files)")
    try:
        needs = requirements_for(plan)
    except ReplayEnvironmentError as exc:
        raise UsageError(str(exc)) from None
    if not _confirm_plan(plan, args, needs.shown, needs.unknown, needs.ready):
        err("nothing was run")
        return EXIT_FAILED
    progress = _Progress(args.json)
    def ended(record: CellRecord) -> None:
        if record.status == "died":  # no choice to offer: the kernel is gone; say why, as for an error
            progress.clear()
            _show_failure(record)

    hooks = session.Hooks(on_cell_start=progress.start_cell, on_error=_on_error(progress, _interactive()),
                          on_output=progress.output, on_cell_end=ended,
                          on_status=lambda text: None if args.json else print(text, file=sys.stderr))
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            env = environment_for(needs, progress=lambda text: None if args.json else print(text, file=sys.stderr),
                                  cancel=hooks.stop)
            outcome["result"] = session.run_replay(plan, env, sandboxed=not args.no_sandbox,
                                                   cell_timeout=args.cell_timeout or needs.cell_timeout,
                                                   hooks=hooks)
        except (session.ReplayError, ReplayEnvironmentError) as exc:
            outcome["error"] = str(exc)
        except BaseException as exc:  # shown by the main thread as one line
            outcome["crash"] = exc

    worker = threading.Thread(target=work, name="replay")
    worker.start()
    interrupted = False
    while worker.is_alive():
        try:
            # Not join(): a stop signal waits while the main thread is in threading's code (cli/signals.py).
            time.sleep(0.1)
        except KeyboardInterrupt:
            interrupted = True
            hooks.stop.set()
            progress.clear()
            err("stopping the running cell… (what ran is kept)")
    progress.finish()
    if "crash" in outcome:
        raise outcome["crash"]
    if "error" in outcome:
        err(outcome["error"])
        return EXIT_FAILED
    result: ReplayResult = outcome["result"]
    return _report(root, result, args.json, interrupted)


def _report(root: Path, result: ReplayResult, as_json: bool, interrupted: bool) -> int:
    from dataclasses import asdict

    from liferaft.core.replay.results import NEW, ReplayError, results_table
    from liferaft.core.replay.session import record_json

    try:
        rows = results_table(root, result.folder)
    except (ReplayError, OSError) as exc:
        err(f"the results could not be compared: {exc}")
        rows = []
    shown_folder = printable(str(result.folder.relative_to(root)))
    if as_json:
        data = record_json(result)
        data["folder"] = shown_folder
        data["results"] = [asdict(row) for row in rows]
        print(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        ran = [record for record in result.cells if record.number]
        failed = [record for record in ran if record.status != "ok"]
        print(f"Replayed {len(ran)} cell{'s' if len(ran) != 1 else ''} in {result.seconds:.1f} s "
              f"({'sandboxed' if result.sandboxed else 'not sandboxed'}, Python {result.python}); "
              f"{len(failed)} failed{'; ' + result.stopped if result.stopped else ''}.")
        print(f"Results: {shown_folder}/ (replay.ipynb, replay.json)")
        for row in rows:
            detail = f" ({printable(row.detail)})" if row.detail and row.detail != row.status else ""
            print(f"  {printable(row.path):<36} {printable(row.status)}{detail}")
        if any(row.status == NEW for row in rows):
            print("`liferaft replay --accept` moves the regenerated missing outputs into OUTPUT.")
    if interrupted:
        return EXIT_INTERRUPTED
    return EXIT_CELLS_FAILED if result.errors else EXIT_OK

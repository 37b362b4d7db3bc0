"""`liferaft diagnose`: which known failure an error message describes, and what to do next.

The text comes as arguments, or from standard input with `-` (or when input is piped). The ranked matches are
printed with their layer, likely cause and next steps (lowest effort first); `--json` prints them as JSON.
Exit 0 when something matched, 1 when nothing did (the general flow is printed instead), 2 for a usage error
(empty text, or nothing piped in). A generic wording ("Session expired", "Error 500") with nothing in the text
that says it came from ChatGPT is only "possible, if this came from ChatGPT": printed as such, exit 1.
`--dir DIR` adds the project's session clock (how long ago it was last active) when the session is in question;
it is also the evidence that the text comes from that project's ChatGPT chat.
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
from pathlib import Path

from liferaft.cli.io import EXIT_NO_MATCH, EXIT_OK, UsageError, err, warn_all, write_utf8

# Typing-only imports; `typing` itself costs ~2 ms at start-up, which `liferaft scan` is measured on.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

#: Standard input is read whole up to this much; past it, its first and last halves of this are kept (an error
#: usually ends a log, and the classifier takes ~0.3 s for 5 MB).
MAX_INPUT = 16_000_000


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    cmd = subparsers.add_parser(
        "diagnose", help="say which failure an error message describes (session, file, outage or your side) and "
        "what to do next",
        description="Paste the exact error from the browser: Liferaft ranks the failures it knows that match it, "
        "with the words that matched, the likely cause and the next steps, lowest effort first. Case, punctuation "
        "and line breaks do not matter. A generic wording (\"Session expired\", \"Error 500\") with nothing "
        "around it that says it came from ChatGPT is only \"possible\" (exit 1); --dir counts as that evidence. "
        "Without TEXT, on a terminal, it lists the failures it knows and the questions of the guided flow, and "
        "exits 1; an empty text or empty piped input is a usage error (exit 2). Exit 0 when something matched, "
        "1 when nothing did.")
    cmd.add_argument("text", nargs="*", metavar="TEXT",
                     help="the error message (quotes optional); - reads it from standard input")
    cmd.add_argument("--json", action="store_true",
                     help='print {"matches": [{"symptom", "cause", "layer", "next_steps", "score", "matched", '
                     '"confidence", "notes"}]}, with "possible": [...] when only possible matches were found')
    cmd.add_argument("--dir", metavar="DIR", default=None,
                     help="the project folder: also show its session clock (when it was last active) for a "
                     "session problem")
    cmd.add_argument("--support", action="store_true",
                     help="print the message for the vendor's support instead (the workbench's S): the error, what "
                     "it was diagnosed as, the time, your system, the account email from the config and, with "
                     "--dir, the checklist steps ticked in that project")




def _read_stdin() -> str:
    """Standard input as text; a long paste is cut (:func:`~liferaft.core.diagnose.classify.excerpt_bytes`)
    before it is decoded, as the classifier would cut it."""
    from liferaft.core.diagnose.classify import excerpt_bytes

    buffer = getattr(sys.stdin, "buffer", None)
    if buffer is None:
        return sys.stdin.read()[-MAX_INPUT:]
    head = buffer.read(MAX_INPUT)
    if len(head) < MAX_INPUT:
        return excerpt_bytes(head).decode("utf-8", errors="replace")
    half = MAX_INPUT // 2
    tail = collections.deque([head[half:]])  # the rest is read through, keeping only its last `half` bytes
    kept = len(tail[0])
    while chunk := buffer.read(1 << 20):
        tail.append(chunk)
        kept += len(chunk)
        while kept - len(tail[0]) >= half:
            kept -= len(tail.popleft())
    end = b"".join(tail)[-half:]
    err(f"note: the input is long; its first and last {half // 1_000_000} MB were read")
    return excerpt_bytes(head[:half] + b"\n" + end).decode("utf-8", errors="replace")


def _input_text(args: argparse.Namespace) -> str | None:
    """The text to diagnose; None when there is none to read (no TEXT, and a terminal on stdin)."""
    words: list[str] = args.text
    if words == ["-"]:
        text = _read_stdin()
        if not text.strip():
            raise UsageError("nothing to diagnose on standard input: paste or pipe the error message")
        return text
    if not words and sys.stdin is not None and not sys.stdin.isatty():
        text = _read_stdin()  # piped in without `-`
        if not text.strip():
            raise UsageError("nothing to diagnose: give the error message as TEXT, or pipe it in")
        return text
    if "-" in words:
        raise UsageError("- (read standard input) cannot be mixed with TEXT")
    if not words:
        return None
    text = " ".join(words)
    if not text.strip():
        raise UsageError("the text to diagnose is empty: give the error message as it reads in the browser")
    return text


def _clock(root_arg: str) -> tuple[Any, list[str]]:
    """The project's session clock and warnings (from the activity log and the newest file)."""
    from liferaft.core.config import load_settings
    from liferaft.core.diagnose.clock import project_clock, session_window
    from liferaft.core.project import check_folder, open_project
    from liferaft.core.summary import last_change

    root = check_folder(Path(root_arg))
    project = open_project(root)
    settings = load_settings()
    window, warnings = session_window(settings.settings.other)
    newest = last_change(project.inventory)
    clock, more = project_clock(project.root, time.time(), window.hours,
                                (newest.mtime, newest.path) if newest else None)
    return clock, [*project.warnings, *settings.warnings, *warnings, *more]


def _clock_line(clock: Any) -> list[str]:
    from liferaft.core.units import format_age

    if clock.last_time is None:
        return ["Session clock: nothing says when this project was last active."]
    lines = [f"Session clock: {clock.state.value.upper()}, last active {format_age(clock.last_time, clock.now)} "
             f"({clock.last_said()}), {clock.idle_hours:.1f} h of the {clock.window_hours:g} h window."]
    if clock.warning:
        lines.append(f"  {clock.warning}")
    return lines


def _print_reference(knowledge: Any) -> None:
    print("Give the error message to diagnose: liferaft diagnose 'TEXT', or pipe it in with -.")
    print()
    print("Failures Liferaft knows:")
    for symptom in knowledge.symptoms:
        if not symptom.catchall:
            print(f"  {symptom.layer:<8} {symptom.title}")
    _print_flow(knowledge)


def _print_flow(knowledge: Any) -> None:
    from liferaft.core.diagnose.knowledge import LAYERS

    print()
    print(f"Work through it layer by layer ({' → '.join(LAYERS)}):")
    for layer in LAYERS:
        print(f"  {layer:<8} {knowledge.layers[layer].question}")
    print()
    print("Quick fixes, lowest effort first (stop when it works):")
    for number, step in enumerate(knowledge.checklist, 1):
        print(f"  {number}. {step.text}")


def _print_match(rank: int, match: Any, knowledge: Any) -> None:
    symptom = match.symptom
    print(f"{rank}. {symptom.title}  [{symptom.layer}]  {match.confidence}, score {match.score:.2f}")
    print(f"   matched: {', '.join(repr(words) for words in match.matched)}")
    for note in match.notes:
        print(f"   note: {note}")
    if match.detail:
        print(f"   the traceback says: {match.detail}")
    print(f"   cause: {symptom.cause}")
    print("   next steps:")
    for number, step in enumerate(symptom.steps, 1):
        action = f" ({knowledge.actions[step.action].lower()} in the workbench)" if step.action else ""
        print(f"     {number}. {step.text}{action}")


def _support(text: str | None, root_arg: str | None) -> int:
    """Print the support report (:func:`liferaft.core.operations.support_report`); exit 0."""
    from liferaft.core.config import config_path, load_settings
    from liferaft.core.operations import support_report

    root = None
    if root_arg is not None:
        from liferaft.core.project import check_folder

        root = check_folder(Path(root_arg))
    settings = load_settings()
    report = support_report(root, settings.settings.other, now=time.time(), error_text=text or "",
                            where=str(config_path()))
    warn_all([*settings.warnings, *report.warnings])
    write_utf8(report.text)
    return EXIT_OK


def run(args: argparse.Namespace) -> int:
    from liferaft.core.diagnose.classify import classify
    from liferaft.core.diagnose.knowledge import load_knowledge

    knowledge = load_knowledge()
    text = _input_text(args)
    if text is None and not args.support:
        if args.json:
            raise UsageError("--json needs the error message: give TEXT, or - to read it from standard input")
        _print_reference(knowledge)
        return EXIT_NO_MATCH
    if args.support:
        if args.json:
            raise UsageError("--support prints the report as text: drop --json")
        return _support(text, args.dir)
    clock = None
    if args.dir is not None:
        clock, warnings = _clock(args.dir)
        warn_all(warnings)
    # The project's session clock says the text comes from its ChatGPT chat: generic wordings count then.
    found = classify(text, knowledge, possible=True, evidence=args.dir is not None)
    matches = [match for match in found if not match.possible]
    possible = [match for match in found if match.possible] if not matches else []
    if args.json:
        import json

        payload: dict[str, Any] = {"matches": [match.to_json() for match in matches]}
        if possible:
            payload["possible"] = [match.to_json() for match in possible]
        if clock is not None:
            payload["session_clock"] = clock.to_json()
        write_utf8(json.dumps(payload, ensure_ascii=False) + "\n")
        return EXIT_OK if matches else EXIT_NO_MATCH
    if possible:
        print("No sure match. Possible, if this came from ChatGPT:")
        print()
        for rank, match in enumerate(possible[:3], 1):
            if rank > 1:
                print()
            _print_match(rank, match, knowledge)
        print()
        print("If it did, paste it with the words around it (the chat, the file, /mnt/data), or give --dir PROJECT.")
        if clock is not None:
            print()
            for line in _clock_line(clock):
                print(line)
        return EXIT_NO_MATCH
    if not matches:
        print("No known match: Liferaft does not recognise this message, so it will not guess.")
        if clock is not None:
            print()
            for line in _clock_line(clock):
                print(line)
        _print_flow(knowledge)
        return EXIT_NO_MATCH
    for rank, match in enumerate(matches, 1):
        if rank > 1:
            print()
        _print_match(rank, match, knowledge)
    if clock is not None and matches[0].layer == "SESSION":
        print()
        for line in _clock_line(clock):
            print(line)
    return EXIT_OK

"""`liferaft prompt`: the composer's work on the command line.

The assembled prompt goes to stdout (or --out FILE), redacted: a credential found in it is replaced by a
marker naming its type and listed, masked, on stderr. --copy also puts it on the clipboard the way the
workbench does (native clipboard, else the terminal, and always a saved copy in RESTART/prompts/).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from liferaft.cli.commands import DIR_HELP
from liferaft.cli.io import EXIT_FAILED, EXIT_OK, UsageError, err, printable, write_utf8


class PromptUsage(Exception):
    """A bad template name, budget or output file: one line, exit 2."""


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    cmd = subparsers.add_parser(
        "prompt", help="print the prompt for a new chat: the rerun instructions, the files to upload with their "
        "shapes, the restart note, the outputs to regenerate (secrets redacted)")
    cmd.add_argument("dir", nargs="?", default=".", metavar="DIR", help=DIR_HELP)
    cmd.add_argument("--template", metavar="NAME", default=None,
                     help="rerun (default), regenerate, brief, note, or a template of yours; --list shows them")
    cmd.add_argument("--list", action="store_true", help="list the templates and exit")
    cmd.add_argument("--include-code", action="store_true",
                     help="put the code from CODE/ in the prompt instead of the upload list")
    cmd.add_argument("--budget", type=int, metavar="TOKENS", default=None,
                     help="the most tokens the prompt may take (default 20,000); the code is cut to fit, and the "
                     "prompt says what was cut")
    cmd.add_argument("--output", metavar="NAME", default=None,
                     help="for the regenerate template: the output to make again (default: the first missing one)")
    cmd.add_argument("--copy", action="store_true",
                     help="also copy it to the clipboard and save a copy in RESTART/prompts/")
    cmd.add_argument("--out", metavar="FILE", default=None, help="write it to FILE (a new file) instead of stdout")
    cmd.add_argument("--allow-secrets", action="store_true",
                     help="keep credentials found in the prompt as they are (they are redacted otherwise)")



def compose_for(root: Path, *, template_name: str | None, include_code: bool, budget: int | None,
                output: str | None, now: float) -> tuple[object, object, list[str]]:
    """(prompt, context, warnings) for the project at ``root``; raises :class:`PromptUsage`."""
    from liferaft.core import compose
    from liferaft.core.project import open_project
    from liferaft.core.restart_note import request_prompt
    from liferaft.core.uploads import plan_uploads

    templates, warnings = compose.load_templates()
    name = (template_name or compose.DEFAULT_TEMPLATE).strip().lower()
    template = templates.get(name)
    if template is None:
        raise PromptUsage(f"no template {name!r}; there are: " + ", ".join(templates))
    if budget is not None and budget < 500:
        raise PromptUsage(f"a budget of {budget} tokens is too small for a prompt; give at least 500")
    project = open_project(root)
    warnings += project.warnings
    plan = plan_uploads(project.inventory, project.state.prepared)
    context = compose.gather(project.root, project.inventory, plan, name=project.name)
    if output is not None and compose.output_key(output) not in {
            compose.output_key(item) for item in [*context.outputs, *context.missing]}:
        known = ", ".join([*context.outputs, *context.missing]) or "none"
        raise PromptUsage(f"no output {output!r} in OUTPUT/ or the restart note; known: {known}")
    prompt = compose.assemble(template, context, include_code=include_code,
                              budget=budget or compose.DEFAULT_BUDGET, output=output,
                              date=time.strftime("%Y-%m-%d", time.localtime(now)),
                              note_request=request_prompt(project.name))
    return prompt, context, warnings


def run(args: argparse.Namespace) -> int:
    from liferaft.core import compose
    from liferaft.core.project import check_folder

    if args.list:
        templates, warnings = compose.load_templates()
        for warning in warnings:
            err(warning)
        for template in templates.values():
            where = "" if template.source == "bundled" else f"  ({template.source})"
            print(f"{template.name:<12} {template.title}: {template.about}{where}")
        return EXIT_OK
    root = check_folder(Path(args.dir))
    out = Path(args.out).expanduser() if args.out else None
    if out is not None:
        if out.exists() or out.is_symlink():
            raise UsageError(f"{args.out} exists already: give a new file name (Liferaft never overwrites a file)")
        if not out.parent.is_dir():
            raise UsageError(f"the folder for {args.out} does not exist: create it first, or give another path")
    now = time.time()
    try:
        prompt, context, warnings = compose_for(root, template_name=args.template, include_code=args.include_code,
                                                budget=args.budget, output=args.output, now=now)
    except PromptUsage as exc:
        raise UsageError(str(exc)) from None
    assert isinstance(prompt, compose.ComposedPrompt) and isinstance(context, compose.ComposeContext)
    from liferaft.core.secrets import SecretScannerUnavailable

    try:  # the one gate for stdout, --out and --copy alike: each writes cleared.text and nothing else
        cleared = compose.release(prompt.text, context, keep_secrets=args.allow_secrets)
    except SecretScannerUnavailable as exc:
        err(f"not printed: the secret scanner could not run ({exc}); reinstall Liferaft")
        return EXIT_FAILED
    if cleared.findings:
        if cleared.kept:
            err(f"kept {len(cleared.findings)} credential(s) in the prompt (--allow-secrets):")
        else:
            err(f"redacted {len(cleared.findings)} credential(s) (--allow-secrets keeps them):")
        for line in cleared.lines():
            print(f"  {printable(line)}", file=sys.stderr)
    text = cleared.text
    import contextlib

    with contextlib.suppress(SecretScannerUnavailable):  # the code to upload leaves as it is: say what it holds
        warnings += compose.uploaded_code_secrets(prompt, context)
    for warning in [*warnings, *prompt.warnings]:
        err(warning)
    how = "exact" if prompt.tokens_exact else "estimated"
    err(f"{prompt.template.title}: {len(text):,} characters, {prompt.tokens:,} tokens ({how}), "
         f"{len(prompt.upload_paths)} file(s) to upload")
    if out is not None:
        from liferaft.core.storage import write_text

        try:
            write_text(out, text, overwrite=False)
        except FileExistsError:
            raise UsageError(f"{args.out} exists already: give a new file name") from None
        except OSError as exc:
            err(f"cannot write {args.out}: {exc.strerror or exc}")
            return EXIT_FAILED
        err(f"wrote {args.out}")
    else:
        # UTF-8 whatever the terminal's locale (the prompt is full of × and —), ending its last line.
        write_utf8(text if text.endswith("\n") else text + "\n")
    if args.copy:
        from liferaft.core.delivery import deliver, osc52_to_tty
        from liferaft.core.project import open_project

        project = open_project(root)
        done = deliver(cleared, what=prompt.template.title.lower(), root=project.root,
                       role_folders=project.inventory.role_folders, template=prompt.template.name, now=now,
                       terminal=osc52_to_tty)
        err(done.message)
        if done.how == "failed":  # neither on the clipboard nor saved: the message says why, in one line
            return EXIT_FAILED
        if done.warning:
            err(done.warning)
    return EXIT_OK

"""Filling a template from a :class:`~liferaft.core.compose_context.ComposeContext` within a token budget: pure
string work (a few milliseconds for 50 files and 200 KB of code), so the preview can follow every keystroke.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from liferaft.core import prompt_files
from liferaft.core.compose_context import _ROWS, ComposeContext, SplitTable, UploadLine, _rows_of, output_key
from liferaft.core.compose_templates import _PLACEHOLDER, Template
from liferaft.core.scan import shown_lines, shown_name, shown_name_noted
from liferaft.core.units import format_count, format_size

#: The token budget when the user sets none: what a chat message comfortably takes.
DEFAULT_BUDGET = 20_000


@dataclass(slots=True)
class ComposedPrompt:
    text: str
    template: Template
    tokens: int
    tokens_exact: bool
    budget: int
    warnings: list[str] = field(default_factory=list)
    cut: list[str] = field(default_factory=list)
    """What was left out to fit the budget, in words ("the last 120 lines of CODE/analysis.py")."""
    upload_paths: list[Path] = field(default_factory=list)
    """Absolute paths of the files this prompt asks to upload, in its order (the data, then the code unless it
    is inline)."""
    unavailable: list[str] = field(default_factory=list)
    """File names the text mentions that the chat will not have (neither uploaded, inlined nor an output)."""

    @property
    def chars(self) -> int:
        return len(self.text)


def count_tokens(text: str) -> tuple[int, bool]:
    """Tokens in ``text``: exact when the tokenizer data is on this machine, else size ÷ 4 (UTF-8 bytes)."""
    from liferaft.core import tokens

    found = tokens.encoding() if tokens.data_file() is not None else None
    if found is not None:
        exact = tokens.count_text(found, text, seconds=0.5)
        if exact is not None:
            return exact, True
    return math.ceil(len(text.encode("utf-8", errors="replace")) / 4), False


def _upload_lines(context: ComposeContext, code_inline: bool = False) -> str:
    code = [] if code_inline else context.code_files
    if not context.uploads and not code:
        return "(no files: the analysis folder has nothing in SOURCE/)"
    lines = [] if context.uploads else ["(no data: the analysis folder has nothing in SOURCE/)"]
    number = 0
    index = 0
    while index < len(context.uploads):
        line = context.uploads[index]
        number += 1
        split = context.splits.get(line.path)
        if split is not None:
            parts = context.uploads[index:index + len(split.parts)]
            lines.append(_split_lines(number, split, parts))
            index += len(parts)
            continue
        index += 1
        facts = [format_size(line.size)]
        if line.shape:
            facts.append(line.shape)
        text = f"{number}. {shown_name_noted(line.name)} ({'; '.join(facts)})"
        if line.original:
            text += f", prepared from {shown_name_noted(line.original)}"
        lines.append(text)
    for line in code:
        number += 1
        lines.append(f"{number}. {shown_name_noted(line.name)} ({format_size(line.size)}; {line.shape})")
    said = [context.order_note] if context.order_note else []
    if code and context.uploads:
        said.append("The code comes after the data.")
    return "\n".join(lines) + ("\n\n" + " ".join(said) if said else "")


def _split_lines(number: int, split: SplitTable, parts: list[UploadLine]) -> str:
    """One table uploaded as parts: the parts, and how to put them back together."""
    shape = _ROWS.sub(f"{split.rows} rows × " if split.rows else "", parts[0].shape, count=1)
    facts = [f"{format_size(sum(part.size for part in parts))} in all"] + ([shape] if shape else [])
    lines = [f"{number}. {shown_name_noted(split.name)}, uploaded as {len(parts)} parts ({'; '.join(facts)}):"]
    for part in parts:
        counted = _rows_of(part.shape)
        rows = "" if counted is None else f"; {'' if counted[1] else '≈ '}{counted[0]:,} rows"
        lines.append(f"   - {shown_name_noted(part.name)} ({format_size(part.size)}{rows})")
    if split.rows and split.exact:
        check = f"check that it has {split.rows} rows"
    elif split.rows:
        check = f"check that it has about {split.rows.removeprefix('≈ ')} rows (an estimate)"
    else:
        check = "check that no row was lost or doubled"
    lines.append(f"   Put these parts back together first: read them in this order and concatenate them into one "
                 f"table, {shown_name(split.name)} (each part starts with the same header row: keep it once), then "
                 f"{check}.")
    return "\n".join(lines)


#: Outputs named one by one in a prompt; past this the rest are counted (a chat cannot use a list of 10,000).
OUTPUTS_LISTED = 60


def _output_lines(context: ComposeContext, *, missing_only: bool = False) -> str:
    names = [] if missing_only else list(context.outputs)
    lines = [_output_line(context, name) for name in names[:OUTPUTS_LISTED]]
    if len(names) > OUTPUTS_LISTED:
        lines.append(f"   - and {len(names) - OUTPUTS_LISTED:,} more files like these in OUTPUT/")
    if context.missing:
        present = {output_key(name) for name in context.outputs}
        missing = [name for name in context.missing if output_key(name) not in present]
        for name in missing[:OUTPUTS_LISTED]:
            lines.append(_output_line(context, name, " (made in the earlier chat, never saved)"))
        if len(missing) > OUTPUTS_LISTED:
            lines.append(f"   - and {len(missing) - OUTPUTS_LISTED:,} more made in the earlier chat, never saved")
    if not lines:
        return "   - every chart, table and file the analysis produces"
    if any(detail.targets and not detail.targets.startswith("could not") and not detail.pending
           for name, detail in context.output_details.items() if name in names[:OUTPUTS_LISTED]):
        lines.append("   For each output with numbers to check, report what your copy gives beside them and say "
                     "which differ and why.")
    return "\n".join(lines)


def _output_line(context: ComposeContext, name: str, suffix: str = "") -> str:
    """One output: its name, what it is (:mod:`liferaft.core.outputs`), and the numbers to check it against."""
    line = f"   - {shown_name_noted(name)}{suffix}"
    detail = context.output_details.get(name)
    if detail is None:
        return line
    if detail.description:
        line += f": {detail.description}"
    if detail.targets:
        line += f"\n     Numbers to check: {detail.targets}"
    return line


#: The heading the note's "Next prompt if the session expires" goes under: it leads the note, as the user wrote it.
OWN_WORDS = "In my own words"


def _note_text(context: ComposeContext, *, with_brief: bool = False) -> str:
    """The restart note's sections: its next prompt first (quoted: the user's own words), then the brief when the
    template has no place of its own for it, then the rest in the note's order."""
    parts = []
    if context.next_prompt:
        quoted = "\n".join(f"> {line}".rstrip() for line in context.next_prompt.splitlines())
        parts.append(f"### {OWN_WORDS}\n\n{quoted}")
    if with_brief and context.brief:
        parts.append(f"### Project brief\n\n{context.brief}")
    parts += [f"### {heading}\n\n{text}" for _key, heading, text in context.note_sections]
    if not parts and context.brief:  # the brief went to its own place: the note holds nothing else
        return "(my restart note holds only the project brief: work from it and the files, and tell me what " \
               "you assume)"
    if not parts:
        return "(no restart note yet: work from the files and tell me what you assume)"
    return "\n\n".join(parts)


def _code_block(path: str, text: str, cut_bytes: int = 0) -> str:
    fence = "```"
    while fence in text:
        fence += "`"
    language = {".py": "python", ".sql": "sql", ".r": "r", ".ipynb": "python"}.get(
        Path(path).suffix.lower(), "")
    path = shown_name(path)
    block = f"### {path}\n\n{fence}{language}\n{text.rstrip()}\n{fence}"
    if cut_bytes:
        block += f"\n\n(The last {format_size(cut_bytes)} of {path} are not included.)"
    return block


def assemble(template: Template, context: ComposeContext, *, include_code: bool = False,
             budget: int = DEFAULT_BUDGET, output: str | None = None, date: str = "",
             note_request: str = "") -> ComposedPrompt:
    """Fill ``template`` from ``context``. The code goes to the upload list, after the data, and the prompt asks
    the chat to run it; with ``include_code`` it goes inline instead, cut (and the cut named in the prompt) when
    the whole would pass ``budget`` tokens."""
    used = {match[1] for match in _PLACEHOLDER.finditer(template.body)}
    takes_code = "code" in used
    inline = include_code and takes_code
    values: dict[str, str] = {
        "project": context.project,
        "brief": (f"About the project ({context.project}): {context.brief}" if context.brief
                  else f"The project: {context.project}."),
        "uploads": _upload_lines(context, inline),
        "note": _note_text(context, with_brief="brief" not in used),
        "outputs": _output_lines(context),
        "output": shown_name(output or (context.missing[0] if context.missing else
                                        context.outputs[0] if context.outputs else "the output")),
        "code_hint": "",
        "code": "",
        "note_request": note_request,
        "date": date,
    }
    warnings: list[str] = []
    code = [(path, text) for path, text in context.code] if inline else []
    values["code_hint"] = _code_hint(context, inline)
    base = _tidy(_fill(template.body, values))
    left_out = _sections_left_out(context, used)
    if left_out:
        base = base.rstrip("\n") + "\n\n" + left_out + "\n"
    base_tokens, _ = count_tokens(base)
    text = base
    cut: list[str] = []
    if code:
        # Fit by measuring, not guessing: the room shrinks by what the last try overshot.
        room = budget - base_tokens
        for _ in range(8):
            section, cut = _code_section(code, context, room, budget)
            text = _tidy(_fill(template.body, {**values, "code": section}))
            if left_out:
                text = text.rstrip("\n") + "\n\n" + left_out + "\n"
            tokens, _exact = count_tokens(text)
            if tokens <= budget or room <= 0:
                break
            room -= tokens - budget + 20
    available = available_names(context, output)
    if template.name == "note":
        unavailable = []
    elif code and not cut:  # the code whole: its names are scanned once, not on every keystroke
        unavailable = prompt_files.names_not_available(base, available, [body for _path, body in code])
    else:
        unavailable = prompt_files.names_not_available(text, available)
    if unavailable:
        text = _say_not_attached(text, values["uploads"], unavailable)
    tokens, exact = count_tokens(text)
    if tokens > budget:
        if base_tokens > budget:
            warnings.append(f"{tokens:,} tokens: over the budget of {budget:,} even without the code; shorten the "
                            "restart note or raise the budget")
        else:
            warnings.append(f"{tokens:,} tokens: over the budget of {budget:,}")
    if not context.note_sections and not context.next_prompt and not context.brief and template.name != "note":
        warnings.append("the restart note is empty: a new chat gets only the file list")
    if unavailable:
        warnings.append(f"the prompt names {format_count(len(unavailable), 'file')} the chat will not have "
                        f"(not uploaded, inline or an output to make): {', '.join(unavailable[:5])}"
                        + (" …" if len(unavailable) > 5 else "") + "; put "
                        + ("it" if len(unavailable) == 1 else "them") + " in SOURCE/, or take "
                        + ("it" if len(unavailable) == 1 else "them") + " out of the restart note")
    warnings += context.problems
    uploads = list(context.upload_paths) + ([] if inline else list(context.code_paths))
    if (context.files_per_window and not context.data_too_many and len(uploads) > context.files_per_window):
        warnings.append(f"{len(uploads)} files to upload with the code: more than the {context.files_per_window} a "
                        f"chat accepts in {context.window_hours:g} hours; upload the data first, or put the code "
                        "inline (i)")
    if include_code and not takes_code:
        warnings.append(f"the {template.title.lower()} template has no place for code: it is in the upload list")
    warnings += [why for why in context.code_skipped if inline or "odd characters" not in why]
    if cut:
        warnings.append("cut to fit the token budget: " + "; ".join(cut))
    warnings = [shown_name(warning) for warning in warnings]
    return ComposedPrompt(text, template, tokens, exact, budget, warnings, [shown_name(part) for part in cut],
                          uploads, unavailable)


_last_index: tuple[ComposeContext, tuple[int, ...], str | None, prompt_files.NameIndex] | None = None


def available_names(context: ComposeContext, output: str | None = None) -> prompt_files.NameIndex:
    """The names the chat will have with this prompt (the uploads, the code, the outputs, and ``output``), ready
    for matching: made once per context, not on every keystroke (the last one made is kept). Calling it where the
    context is gathered makes it there, off the thread that shows the prompt."""
    global _last_index
    shape = (len(context.uploads), len(context.code_files), len(context.outputs), len(context.missing))
    last = _last_index
    if last is not None and last[0] is context and last[1] == shape and last[2] == output:
        return last[3]
    index = prompt_files.NameIndex([
        *(line.name for line in context.uploads), *(line.original for line in context.uploads if line.original),
        *(line.name for line in context.code_files), *context.outputs, *context.missing,
        *([output] if output else [])])
    _last_index = (context, shape, output, index)
    return index


def _code_hint(context: ComposeContext, inline: bool) -> str:
    """How step 3 of the rerun asks for the code to be used: run the attached scripts, or read the code below."""
    if not context.code_files:
        return ""
    where = ""
    if any(("SOURCE" in text or "OUTPUT" in text) and _PROJECT_FOLDERS.search(text) for _path, text in context.code):
        where = (" (it was written for my project folder, with the data in SOURCE/ and the results in OUTPUT/: "
                 "point those paths at /mnt/data/ first)")
    if inline:
        return ", using the code below as the reference" + where
    names = [shown_name(line.name) for line in context.code_files]
    if len(names) == 1:
        return f" by running the attached {names[0]}" + where
    return (f" by running the attached code in the order listed ({', '.join(names[:-1])}, then {names[-1]})"
            + where)


def uploaded_code_secrets(prompt: ComposedPrompt, context: ComposeContext) -> list[str]:
    """Warnings for credentials in the code files ``prompt`` asks to upload: they leave this machine as they are
    (the secret gate only redacts what goes inline). Each file is scanned once and remembered. Raises
    :class:`liferaft.core.secrets.SecretScannerUnavailable` when the scanner cannot run."""
    uploaded = set(prompt.upload_paths)
    warnings = []
    for path, (shown, text) in zip(context.code_paths, context.code, strict=False):
        if path not in uploaded:
            continue
        found = _code_findings(text)
        if found:
            line, kind = found[0]
            more = f" and {len(found) - 1} more" if len(found) > 1 else ""
            warnings.append(f"{shown_name(shown)}, line {line}: a possible {kind}{more} in code that goes in the "
                            "upload list as it is: take it out of the file, or put the code inline (i, "
                            "--include-code), where it is redacted")
    return warnings


@functools.lru_cache(maxsize=64)
def _code_findings(text: str) -> tuple[tuple[int, str], ...]:
    from liferaft.core.secrets import scan_text

    return tuple((finding.line, str(finding.kind)) for finding in scan_text(text))


#: Code that names the project's folders: it must be pointed at /mnt/data/ to run in the chat.
_PROJECT_FOLDERS = re.compile(r"\b(?:SOURCE|OUTPUT)\b")


def _sections_left_out(context: ComposeContext, used: set[str]) -> str:
    """The sentence that names the restart note's sections a template has no place for ("" when it carries them
    all, or asks for a note)."""
    if "note_request" in used or "note" in used:
        return ""
    from liferaft.core.restart_note import SECTIONS

    next_heading = next((section.heading for section in SECTIONS if section.key == "next_prompt"), OWN_WORDS)
    headings = ([next_heading] if context.next_prompt else []) + [heading for _key, heading, _text
                                                                  in context.note_sections]
    if context.brief and "brief" not in used:
        headings.insert(0, "Project brief")
    if not headings:
        return ""
    return (f"(Not in this message: my restart note's {', '.join(headings)}: this template has no place for "
            f"{'it' if len(headings) == 1 else 'them'}.)")


def _say_not_attached(text: str, uploads: str, names: list[str]) -> str:
    """``text`` with a line after the upload list (at the end without one) that says which of the files it names
    the chat will not have, so that it does not look for them."""
    shown = ", ".join(shown_name(name) for name in names)
    it, they = ("it", "It is") if len(names) == 1 else ("them", "They are")
    line = (f"Mentioned in this message but not attached: {shown}. {they} not in this chat: do not look for {it}, "
            f"and tell me if the work needs {it}.")
    anchor = text.find(uploads) if uploads else -1
    if anchor < 0:
        return text.rstrip("\n") + "\n\n" + line + "\n"
    end = anchor + len(uploads)
    return text[:end] + "\n\n" + line + text[end:]


def _tidy(text: str) -> str:
    # Names, and anything else the note or the code holds, made inert: the prompt is printed and copied.
    return shown_lines(re.sub(r"\n{3,}", "\n\n", text).strip()) + "\n"


def _code_section(code: list[tuple[str, str]], context: ComposeContext, room: int,
                  budget: int) -> tuple[str, list[str]]:
    """The code section within ``room`` tokens, and what was left out (in words)."""
    reserve = 60 + 12 * len(code)  # the heading and the sentence that names what was cut
    room -= reserve
    blocks: list[str] = []
    cut: list[str] = []
    for index, (path, body) in enumerate(code):
        block = _code_block(path, body, context.code_cut.get(path, 0))
        block_tokens, _ = count_tokens(block)
        if block_tokens <= room:
            blocks.append(block)
            room -= block_tokens
            continue
        kept = _cut_to(body, room * 4 - 200) if room > 100 else ""
        lines_left = body.count("\n") + 1 - (kept.count("\n") + 1 if kept else 0)
        if kept:
            blocks.append(_code_block(path, kept) + f"\n\n(The last {lines_left:,} lines of {path} are cut "
                          f"to keep this message within {budget:,} tokens.)")
            cut.append(f"the last {lines_left:,} lines of {path}")
        else:
            cut.append(f"{path} ({body.count(chr(10)) + 1:,} lines)")
        cut += [later for later, _ in code[index + 1:]]
        break
    section = "\n\n## The code from the earlier session\n\n" + "\n\n".join(blocks) if blocks else ""
    if cut:
        section += "\n\nLeft out to fit the token budget: " + "; ".join(cut) + ". Ask me for it if you need it."
    return section, cut


def _fill(body: str, values: Mapping[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda match: values.get(match[1], match[0]), body)


def _cut_to(text: str, size: int) -> str:
    """The start of ``text``, at most ``size`` bytes of UTF-8 (what the estimate counts), ending at a line end."""
    if size <= 0:
        return ""
    head = text.encode("utf-8")[:size].decode("utf-8", errors="ignore")
    end = head.rfind("\n")
    return head[:end] if end > 0 else ""

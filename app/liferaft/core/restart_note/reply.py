"""The chat's own restart note: the prompt that asks for it (:func:`request_prompt`), its reply read into
sections whatever shape the chat gave it (:func:`split_reply`), and merged into the note (:func:`merge_reply`).
"""

from __future__ import annotations

import re

from liferaft.core.restart_note.document import (
    _ANY_HEADING,
    _BOLD_HEADING,
    _BULLET,
    _FENCE,
    _KEYS,
    _RULE,
    SECTIONS,
    RestartNote,
    _bare,
    _BlockTracker,
    _clean_text,
    _closes,
    _normalise_heading,
    _rx,
    changed_keys,
    section_key,
)

#: What the chat is asked to put under each heading (the product's wording; the hints are for people).
_ASK: dict[str, str] = {
    "brief": "One or two sentences: the question this analysis answers, for whom, and where it stands now.",
    "files": "Every file I uploaded, one bullet each, with its exact file name and what it holds.",
    "columns": "The columns that matter, one bullet each: exact name, what it means, units or codes.",
    "filters": "Every filter or exclusion applied to the data (rows, periods, outliers), with how many rows it "
               "removed and why.",
    "decisions": "The formulas, definitions, joins, libraries and code choices made, precisely enough to redo "
                 "them.",
    "outputs": "Every chart, table or file you produced, one bullet each, with its exact file name and what it "
               "shows.",
    "next_prompt": "The exact message I should send in a new chat, with the files above re-uploaded, to pick up "
                   "where we are if this session expires.",
    "notes": "Anything else worth keeping: open questions, checks to rerun, figures to verify against.",
}


def request_prompt(project_name: str) -> str:
    """The message that asks the chat to write the restart note itself, in exactly the note's structure."""
    name = " ".join(project_name.split()) or "this analysis"
    lines = [
        f"Please write a restart note for our analysis \u201c{name}\u201d, so that I can continue it in a new "
        "chat if this session expires and its files are gone.",
        "",
        "Fill every section from our conversation so far. Name every file by its exact file name, and list "
        "every output you generated. Be specific: column names, filter values and formulas as you used them.",
        "",
        "Reply with the note only, in Markdown, using exactly these headings in this order (leave a heading "
        "with nothing under it if it does not apply):",
        "",
    ]
    for section in SECTIONS:
        lines.append(f"## {section.heading}")
        lines.append(_ASK[section.key])
        lines.append("")
    lines.append("Write the next prompt as plain text, not in a code block.")
    return "\n".join(lines) + "\n"


_CHATTER = (
    r"(?i)(?:let me know|if you(?:'d| would) like me to|if you want me to|feel free|hope (?:this|that|it) helps|"
    r"i can also|would you like me to|do you want me to|want me to|shall i\b|happy to help|"
    r"you can now (?:copy|paste|save)|anything else\b.{0,40}\?\s*$)"
)
_PLAIN_FENCE_INFO = frozenset({"", "text", "txt", "plain", "plaintext", "markdown", "md"})


#: Headings of handoffs and summaries a chat writes on its own ("Current status", "Your files", "First message
#: to send in the new convo"), matched against the normalised heading (see :func:`_normalise_heading`) when
#: :func:`section_key` does not know it. Only replies are read this way: the note's own headings are not.
#: Order matters: "what to paste and upload" is files, "questions for next session" is notes.
_HANDOFF_KEYS: tuple[tuple[str, str], ...] = (
    (r"what to (?:paste and |paste or )?(?:re-?)?upload\b|(?:files?|data) to (?:re-?)?upload\b|"
     r"(?:re-?)?uploads?\b|attachments?\b", "files"),
    (r"(?:your |the |key |relevant |important |tracking |reference |input |source )?"
     r"(?:files?|data(?:sets?| sets?)?|documents?|docs|sources|inputs|resources|spreadsheets?|tables?)\b|"
     r"(?:[\w-]+ ){1,3}files?$", "files"),
    (r"(?:open |unresolved |remaining |pending )?questions?\b|(?:known )?(?:issues|bugs|caveats|gotchas|risks|"
     r"blockers|warnings|limitations|problems)\b|lessons?\b|(?:loose ends|to ?do|todos?)\b|"
     r"(?:immediate |recommended |suggested |exact )?next (?:steps?|phase|actions?|tasks?|up|session)\b|"
     r"what (?:s |is )?next\b|what to do next\b|what remains\b|remaining\b|pending\b|follow[- ]?ups?\b|"
     r"(?:the )?(?:plan|roadmap|backlog)\b|what (?:doesn t|didn t|did not) work\b", "notes"),
    (r"(?:(?:the )?(?:first|opening|kickoff|kick-off|bootstrap|continuation|starter|resume|restart|handoff|"
     r"handover|transition(?:al)?) )(?:\w+ )?(?:message|prompt)\b|"
     r".*\b(?:paste|send|use|say|type|tell)\b.*\b(?:new|next|fresh) "
     r"(?:chat|convo|conversation|session|thread|account)\b|"
     r".*\b(?:new|next|fresh) (?:chat|convo|conversation|session|thread|agent) "
     r"(?:should )?(?:start|begin|open)s? with\b|"
     r"(?:[\w-]+ )?(?:kickoff|kick-off|starter|restart|resume|continuation) (?:template|message|prompt)\b|"
     r".*\b(?:prompt|message|summary|starter) (?:for|to paste into|to start) (?:a |the )?(?:new|next|fresh) "
     r"(?:chat|convo|conversation|session|thread)\b|"
     r"(?:how )?to (?:continue|resume) in a (?:new|fresh) (?:chat|convo|conversation|session|account)\b|"
     r"resuming in a (?:new|fresh) (?:chat|convo|conversation|session|account)\b|"
     r"(?:new chat|new convo|new conversation) (?:starter|prompt|message)\b", "next_prompt"),
    (r"(?:generated |final |key |completed )?(?:outputs?|deliverables?|results?|artifacts?|artefacts?|"
     r"downloads?|exports?|reports?)\b|what (?:was|we) (?:produced|generated|delivered)\b|"
     r"(?:the )?(?:(?!(?:why|how|what|when|where|which|who|do|does|did|is|are|can|should)\b)[\w-]+ ){1,2}"
     r"(?:outputs|deliverables|results|artifacts|artefacts)(?: [\w-]+){0,2}$", "outputs"),
    (r"(?:key |important |design |technical |main |architectural )?(?:decisions?|assumptions?|constraints?|"
     r"conventions?|rules|formulas?|definitions?|approach|methods?|methodology|technical context|"
     r"architecture|tech stack|stack|setup|configuration|commands?)\b|how (?:to run|it works)\b|"
     r"(?:(?!(?:why|how|what|when|where|which|who|do|does|did|is|are|can|should)\b)[\w-]+ ){1,2}"
     r"(?:decisions?|assumptions?|constraints?|conventions?|rules|commitments|guardrails|invariants|"
     r"architecture)(?: [\w-]+){0,2}$", "decisions"),
    (r"(?:current |main |overall |project |session |the )?(?:goals?|objectives?|context|overview|purpose|"
     r"background|task|mission|brief|summary|recap|status|state|progress|where we are|where things stand)\b|"
     r"what (?:this|we(?: re| are)?) (?:is|are|building|doing|did|accomplished|have done|built)\b|"
     r"tl ?dr\b|what (?:[\w-]+ ){1,3}(?:is|are)$|"
     r"(?:(?!(?:why|how|what|when|where|which|who|do|does|did|is|are|can|should)\b)[\w-]+ )"
     r"(?:goals?|objectives?|overview|purpose)(?: [\w-]+){0,2}$|"
     r"what (?:s |has |was |is )?(?:been )?(?:done|built|working|completed|accomplished)\b|"
     r"(?:work |steps )?(?:done|completed)(?: so far)?\b|accomplishments?\b|achievements?\b|"
     r"(?:handoff|handover|session|context)\b", "brief"),
)

#: A first line that only introduces the reply ("Sure! Here is the restart note:"): chat, not content.
_LEAD_IN = (r"(?i)(?:sure|certainly|of course|absolutely|great|okay|ok|got it|as requested|below is|"
            r"here(?:'s| is| are| you go)\b)")
_SANDBOX = "sandbox:/mnt/data/"

#: A heading over the files a fix changed ("Files updated (53 total)", "Files built so far"): a changelog of code,
#: not the files the work uses; its text goes to Notes, and it does not make a reply a restart note.
#: So is a checklist or a definition of done: a list to tick, not formulas or decisions.
_NO_SECTION = (r"(?:[\w-]+ )?files? (?:updated|changed|modified|created|edited|renamed|touched|added|deleted|"
               r"removed|built|written|fixed)\b|(?:changed|modified|updated|edited|new) files\b|"
               r"definition of done\b|(?:acceptance|success|done|exit) criteria\b|(?:[\w-]+ ){0,3}checklist\b")

#: Words that say the reply is meant for a new chat ("paste this into a new chat", "for the next session",
#: "Handoff", "Kickoff"): in its title, or in the lines before its first section.
#: A line offering a message to carry into a new chat ("Paste this into the new chat to begin:").
_OFFER = (r"(?i)\b(?:paste|send|copy|use|say)\b.*\b(?:new|next|fresh)(?: [\w/]+){0,3} (?:chat|convo|conversation|"
          r"session|thread|agent)\b")

_FOR_NEW_CHAT = (r"(?i)hand-?off|handover|hand over|kick-?off|restart (?:note|prompt)|transition|"
                 r"\b(?:new|next|fresh|another)(?: [\w/]+){0,3} (?:chat|convo|conversation|session|thread|agent|"
                 r"llm chat)\b")


def reply_section_key(heading: str) -> str | None:
    """The note section a heading in the chat's reply stands for: any heading :func:`section_key` knows, and
    the usual headings of a handoff or session summary, mapped by meaning ("Current status" → Project brief,
    "Your files" → Files used, "First message to send in the new chat" → Next prompt…), or None."""
    whole = _normalise_heading(heading)
    if _rx(_NO_SECTION).match(whole):
        return None
    key = section_key(heading)
    if key is not None:
        return key
    normal = _normalise_heading(re.sub(r"\(.*?\)|\[.*?\]", " ", heading)) or whole
    if not normal or len(normal) > 80:
        return None
    for text in (normal, whole) if whole != normal and len(whole) <= 80 else (normal,):
        key = next((key for pattern, key in _HANDOFF_KEYS if _rx(pattern).match(text)), None)
        if key is not None:
            return key
    return None


def _heading_of(line: str) -> tuple[int, str] | None:
    """(level, text) when ``line`` is a Markdown heading or a heading-like bold line (level 7), else None."""
    bare = _bare(line)
    match = _rx(_ANY_HEADING).fullmatch(bare)
    if match:
        return len(match[1]), (match[2] or "").strip()
    match = _rx(_BOLD_HEADING).fullmatch(bare)
    if match and reply_section_key(match[1]) is not None:
        return 7, match[1].strip()
    return None


class ReplyParts:
    """A chat's reply cut into the note's sections. ``sections``: key → text, in the order found (text under a
    heading that names no section, or before the first section, is in ``notes``, under its heading in bold;
    lines with a ``sandbox:/mnt/data/`` link are in ``outputs``). ``left_out``: the lines that are only the
    chat talking ("Sure! Here is…", "Let me know…"). ``headings``: (heading, key) of each section heading.
    ``refused``: why the reply is not a restart note (one line), or None."""

    __slots__ = ("headings", "left_out", "refused", "sections")

    def __init__(self) -> None:
        self.sections: dict[str, str] = {}
        self.left_out: list[str] = []
        self.headings: list[tuple[str, str | None]] = []
        self.refused: str | None = None


_PLAIN_NAMES = {
    "brief": ("brief", "project brief"), "files": ("files", "file", "files used"),
    "columns": ("columns", "column", "columns used"), "filters": ("filters", "filter", "filters applied"),
    "decisions": ("decisions", "formulas and code decisions"), "outputs": ("outputs", "output", "generated outputs"),
    "next_prompt": ("next prompt", "next prompt if the session expires"), "notes": ("notes", "note"),
}


def _is_rule(line: str) -> bool:
    return bool(_rx(_RULE).fullmatch(line.rstrip()))


def _is_chatter(line: str) -> bool:
    return bool(_rx(_CHATTER).match(line.strip().lstrip("*_> ").strip()))


def _is_lead_in(line: str) -> bool:
    return bool(_rx(_LEAD_IN).match(line.strip().lstrip("*_> ").replace("\u2019", "'")))


def split_reply(reply: str) -> ReplyParts:
    """Cut the chat's reply into the note's sections, losing no line: see :class:`ReplyParts`.

    Headings inside fenced code blocks are code. A fence around the whole note is layout; so are the section
    headings and the rules between sections. Whatever stands before the first section (a title, a date) goes
    to Notes, except the chat's lead-in; so does the text under a heading that names no section, and any text
    after a fence that wrapped the note, except the chat's closing words.
    """
    parts = ReplyParts()
    lines = [_bare(line) for line in reply.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    found: list[tuple[int, int, str | None, str]] = []  # (line index, level, key, heading), outside code
    code = [False] * len(lines)
    wrapper: list[int] = []  # the fence lines around a note sent as one block ("```markdown")
    fence: str | None = None
    seen = False  # any content yet (a fence after content is code, not a wrapper)
    blocks = _BlockTracker()
    for index, line in enumerate(lines):
        if not blocks.in_block:
            match = _rx(_FENCE).fullmatch(line)
            if fence is None and not seen and match and match[2].strip().casefold() in _PLAIN_FENCE_INFO:
                fence = match[1]
                wrapper.append(index)
                continue
            if fence is not None and len(wrapper) == 1 and _closes(line, fence):
                wrapper.append(index)
                continue
            marked = _heading_of(line)
            if marked is not None:
                found.append((index, marked[0], reply_section_key(marked[1]), marked[1]))
                continue
        was = blocks.in_block
        blocks.feed(line)
        code[index] = was or blocks.in_block
        if line.strip() and not code[index] and not _is_lead_in(line) and not _is_chatter(line):
            seen = True
    known = [entry for entry in found if entry[2] is not None]
    if len(known) > 1 and known[0][1] == 1 and all(entry[1] > 1 for entry in known[1:]):
        known = known[1:]  # "# Handoff summary" over "##" sections is the reply's title, not a section
    if not known:
        parts.refused = "no restart-note sections found"
        return parts
    levels = [level for _index, level, _key, _heading in known]
    level = max(set(levels), key=lambda value: (levels.count(value), -value))
    first = known[0][0]
    end = wrapper[1] if len(wrapper) == 2 and wrapper[1] > first else len(lines)
    pieces: list[tuple[str | None, str, list[str]]] = []  # (key, heading, lines), in order
    lead_lines: list[str] = []  # above the first heading of the sections' level
    for index in range(first, end):
        line = lines[index]
        if index in wrapper:
            continue
        if not code[index]:
            marked = _heading_of(line)
            if marked is not None and (marked[0] == level or marked[0] < min(level, 7)):
                pieces.append((reply_section_key(marked[1]), marked[1], []))
                continue
        (pieces[-1][2] if pieces else lead_lines).append(line)
    after = lines[end + 1 :]
    preamble = [line for index, line in enumerate(lines[:first]) if index not in wrapper] + lead_lines
    collected: dict[str, list[str]] = {}

    def add(key: str, text: str) -> None:
        text = _clean_text(text)
        if text.strip():
            collected.setdefault(key, []).append(text)

    # Before the first section: the chat's lead-in is left out, the rest (a title, a date) kept in Notes.
    kept: list[str] = []
    lead = 0
    for line in preamble:
        stripped = line.strip()
        if not stripped or _is_rule(line):
            continue
        if not kept and (_is_lead_in(stripped) or _is_chatter(stripped)):
            parts.left_out.append(stripped)
            continue
        title_line = _rx(_ANY_HEADING).fullmatch(stripped)
        if title_line is not None:
            text = (title_line[2] or "").strip()
            if re.match(r"(?i)restart note\b", text):  # the title of the note Liferaft asked for: layout
                continue
            line = f"**{text}**" if text else stripped
        kept.append(line)
        lead += 1
    add("notes", "\n".join(kept))
    for position, (key, heading, body) in enumerate(pieces):
        text, dropped = _reply_body(body, last=position == len(pieces) - 1 and not after)
        parts.left_out.extend(dropped)
        parts.headings.append((heading, key))
        target = key if key is not None else "notes"
        if target != "next_prompt":
            text, links = _move_links(text)
            add("outputs", links)
            text, offered = _move_prompt(text)
            add("next_prompt", offered)
        else:
            text = _unfence(text)
        if _normalise_heading(re.sub(r"\(.*?\)", " ", heading)) not in _PLAIN_NAMES[target]:
            label = f"**{' '.join(heading.split()).strip('*_ ').rstrip(':')}**"
            text = f"{label}\n{text}" if text.strip() else label
        add(target, text)
    tail, dropped = _reply_body(after, last=True)
    parts.left_out.extend(line.strip() for line in after if _is_chatter(line) and line.strip() not in dropped)
    parts.left_out.extend(dropped)
    tail = "\n".join(line for line in tail.split("\n") if not _is_chatter(line) and not _rx(_FENCE).fullmatch(line))
    add("notes", tail)
    parts.sections = {key: "\n\n".join(texts) for key, texts in collected.items()}
    title = found[0][3] if found and found[0][1] == 1 else ""
    opening = " ".join([title, *(line for line in preamble if line.strip())])
    handoff = bool(_rx(_FOR_NEW_CHAT).search(opening))
    parts.refused = None if handoff else _refusal(pieces, lead)
    return parts


def _move_prompt(text: str) -> tuple[str, str]:
    """``text`` without a message it offers for a new chat (a line such as "Paste this into the new chat:" and the
    quote or fenced block right after it), and that message: it belongs in the next prompt."""
    lines = text.split("\n")
    blocks = _BlockTracker()
    for index, line in enumerate(lines):
        was = blocks.in_block
        blocks.feed(line)
        if was or blocks.in_block:
            continue
        bare = line.strip().strip("*_> ").strip()
        if not bare.endswith(":") or not _rx(_OFFER).search(bare):
            continue
        start = index + 1
        while start < len(lines) and not lines[start].strip():
            start += 1
        if start >= len(lines):
            return text, ""
        end = start
        fence = _rx(_FENCE).fullmatch(lines[start])
        if fence:
            closing = next((after for after in range(start + 1, len(lines)) if _closes(lines[after], fence[1])),
                           None)
            if closing is None:
                return text, ""
            end = closing + 1
        elif lines[start].lstrip().startswith(">"):
            while end < len(lines) and lines[end].lstrip().startswith(">"):
                end += 1
        else:
            return text, ""
        moved = "\n".join(lines[index:end])
        kept = "\n".join(lines[:index] + lines[end:])
        return _clean_text(kept), moved
    return text, ""


def _reply_body(lines: list[str], last: bool) -> tuple[str, list[str]]:
    """A section's text from its lines (rules around it are layout), and the chat it ends with, left out."""
    body = list(lines)
    while body and (not body[-1].strip() or _is_rule(body[-1])):
        body.pop()
    while body and (not body[0].strip() or _is_rule(body[0])):
        body.pop(0)
    dropped: list[str] = []
    if last:
        # After the last section: paragraphs of chat ("Let me know…"), and a rule before them, are not the note.
        while body:
            start = len(body)
            while start > 0 and body[start - 1].strip():
                start -= 1
            paragraph = body[start:]
            if start == 0 or not paragraph or not all(_is_chatter(line) for line in paragraph):
                break
            dropped[:0] = [line.strip() for line in paragraph]
            body = body[:start]
            while body and (not body[-1].strip() or _is_rule(body[-1])):
                body.pop()
    return _clean_text("\n".join(body)), dropped


def _move_links(text: str) -> tuple[str, str]:
    """``text`` without its lines (outside code) that link to a file the chat made (``sandbox:/mnt/data/…``),
    and those lines, as list items."""
    if _SANDBOX not in text:
        return text, ""
    kept: list[str] = []
    links: list[str] = []
    blocks = _BlockTracker()
    for line in text.split("\n"):
        was = blocks.in_block
        blocks.feed(line)
        if not was and not blocks.in_block and _SANDBOX in line:
            item = line.strip()
            links.append(item if _rx(_BULLET).fullmatch(item) else f"- {item}")
        else:
            kept.append(line)
    return "\n".join(kept), "\n".join(links)


def _refusal(pieces: list[tuple[str | None, str, list[str]]], lead: int) -> str | None:
    """Why a reply with a section heading is still not a restart note (one line), or None when it is one: a
    reply that names two sections or more is one; so is one that is a single section from its first line."""
    named = [(key, heading) for key, heading, _body in pieces if key is not None]
    if len({key for key, _heading in named}) >= 2 or lead == 0:
        return None
    if named and {key for key, _heading in named} == {"next_prompt"}:
        return None  # a reply whose one section is the message for a new chat is a handoff, whatever precedes it
    heading = " ".join(named[0][1].split()) if named else ""
    return (f"only one heading (\u201c{heading}\u201d) names a section of the note, after {lead} "
            f"{'line' if lead == 1 else 'lines'} of other text: this reads as an ordinary answer, not a "
            "summary of the session")


def _unfence(text: str) -> str:
    """The text of a section that is one plain fenced block (a prompt offered "to copy"), without the fence."""
    lines = text.split("\n")
    if len(lines) < 2:
        return text
    match = _rx(_FENCE).fullmatch(lines[0])
    closing = lines[-1].strip()
    if match and match[2].strip().casefold() in _PLAIN_FENCE_INFO and closing and set(closing) == {match[1][0]} \
            and len(closing) >= len(match[1]):
        inner = lines[1:-1]
        if not any(_rx(_FENCE).fullmatch(line) for line in inner):
            return _clean_text("\n".join(inner))
    return text


def reply_sections(reply: str) -> dict[str, str]:
    """The sections found in a chat's reply (Markdown, perhaps fenced, perhaps with ``###`` headings or bold
    lines, perhaps with chatter around it): key → text, in the order found. Text under other headings, or
    before the first section, is in ``notes``; two sections with the same key are joined. Empty (``{}``) when
    the reply is not a restart note (see :func:`split_reply`)."""
    parts = split_reply(reply)
    return {} if parts.refused else dict(parts.sections)


class ReplyImport:
    """What importing the chat's reply did. ``note``: the merged note (the note passed in is not changed);
    ``changed``: the sections whose text changed, in :data:`SECTIONS` order; ``lines``: key → how many
    non-blank lines of the reply went into that section; ``kept``: the sections where the user's own text was
    kept and the chat's added below it; ``left_out``: the lines that were only the chat talking;
    ``refused``: why nothing was imported (one line), or None."""

    __slots__ = ("changed", "kept", "left_out", "lines", "note", "refused")

    def __init__(self, note: RestartNote) -> None:
        self.note = note
        self.changed: list[str] = []
        self.lines: dict[str, int] = {}
        self.kept: list[str] = []
        self.left_out: list[str] = []
        self.refused: str | None = None


def _count(text: str) -> int:
    return sum(1 for line in text.split("\n") if line.strip())


def merge_reply(note: RestartNote, reply: str, date: str | None = None) -> ReplyImport:
    """Merge the chat's reply (to :func:`request_prompt`, or a handoff or summary it wrote) into ``note``,
    section by section, never replacing what the user wrote: an empty section takes the chat's text; one with
    text keeps it and gets the chat's text below, after a line "(from the chat, ``date``)" (today by default);
    a section that already holds every line the chat wrote is left as it is. Text that fits no section goes
    to Notes, links to the chat's files to Generated outputs. A reply that is not a restart note (no section
    heading, or one stray heading after other text) is refused: ``refused`` says why, nothing changes."""
    parts = split_reply(reply)
    result = ReplyImport(note.copy())
    result.left_out = parts.left_out
    if parts.refused:
        result.refused = parts.refused
        return result
    if date is None:
        import datetime

        date = datetime.date.today().isoformat()
    merged = result.note
    for key in _KEYS:
        text = parts.sections.get(key, "")
        if not text:
            continue
        mine = merged.get(key)
        if not mine:
            merged.set(key, text)
        else:
            have = {line.strip() for line in mine.split("\n")}
            if all(line.strip() in have for line in text.split("\n")):
                continue  # already there (an earlier import of the same reply)
            merged.set(key, f"{mine}\n\n(from the chat, {date})\n\n{text}")
            result.kept.append(key)
        result.lines[key] = _count(text)
    result.changed = changed_keys(note, merged)
    result.lines = {key: count for key, count in result.lines.items() if key in result.changed}
    result.kept = [key for key in result.kept if key in result.changed]
    return result


def import_reply(note: RestartNote, reply: str, date: str | None = None) -> tuple[RestartNote, list[str]]:
    """:func:`merge_reply`, as (the merged note, the keys of the sections whose text changed)."""
    result = merge_reply(note, reply, date)
    return result.note, result.changed

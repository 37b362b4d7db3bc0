"""Which known failure an error message describes: the symptoms it matches, ranked, with the words that matched.

The text may be anything a user pastes from the browser: a banner with its HTML, a message in the middle of a
paragraph, broken over lines, in any case, or a whole log (all of it is read). Both the text and the data file's
phrases are normalised the same way (:func:`normalise`) and phrases match whole words only. HTTP status codes
count only where they read as a status ("error 429", "429 Too Many Requests", "HTTP/1.1 500", "status of 429"),
never inside a longer number, a price or a count ("500 results", "error 500 times").

The ranking is by evidence of which layer failed: advice the chat gives ("please upload the file again") only
nudges a symptom something else matched, and a generic wording that also turns up in everyday text ("session
has expired", "daily limit") counts fully only when it stands on its own or words around it speak of a chat,
a file, code or a request. Anything weaker is only a "possible" match, left out unless asked for. Text that
matches nothing gets an empty list: an honest "no known match", never a guess.
"""

from __future__ import annotations

import re
from functools import cache

from liferaft.core.diagnose.knowledge import load_knowledge
from liferaft.core.diagnose.knowledge_model import ClassifierSettings, Knowledge, Pattern, Symptom
from liferaft.core.diagnose.normalising import _has_cjk, _Lazy, _plain, _words, normalise

# `html` (its entity table), `unicodedata` and the larger expressions below are loaded when a text needs them:
# `liferaft diagnose` is measured against `liferaft --version` (issue 18).


#: Above this many characters a text is read the way a log is: the same matches, found with fewer passes.
LONG_TEXT = 20_000

_SPACE = re.compile(r"\s+")

#: What a pattern match counts for, a code read as a status, and advice the chat gives.
PATTERN_WEIGHT = 0.7
CODE_WEIGHT = 0.8
ADVICE_WEIGHT = 0.05
#: How much a symptom's score keeps when one of its ``excludes`` phrases is present.
EXCLUDED_FACTOR = 0.4


class Match:
    """One symptom a text matches: how sure, and why (``matched``: the words that matched; ``notes``)."""

    __slots__ = ("confidence", "detail", "matched", "notes", "possible", "score", "symptom")

    symptom: Symptom
    score: float
    """0..1: how sure the match is (more and longer matching phrases score higher)."""
    matched: list[str]
    """The words in the text that matched, as they read once normalised (e.g. "session expired", "error 429")."""
    possible: bool
    """Only a possible match: the evidence is a generic wording with nothing around it to say it is ours."""
    confidence: str
    """``certain``, ``likely`` or ``possible`` (see :data:`CERTAIN`)."""
    notes: list[str]
    """Why the confidence is lower than the words alone would make it ("names another product ('flask')")."""
    detail: str
    """For a Python exception in the sandbox: the traceback's own cause, its last exception line."""

    def __init__(self, symptom: Symptom, score: float, matched: list[str], possible: bool = False,
                 confidence: str = "", notes: list[str] | None = None, detail: str = "") -> None:
        self.symptom = symptom
        self.score = score
        self.matched = matched
        self.possible = possible
        self.confidence = confidence or ("possible" if possible else "likely")
        self.notes = notes if notes is not None else []
        self.detail = detail

    def _fields(self) -> tuple[object, ...]:
        return (self.symptom, self.score, self.matched, self.possible, self.confidence, self.notes, self.detail)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Match) and other._fields() == self._fields()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (f"Match(symptom={self.symptom.id!r}, score={self.score!r}, matched={self.matched!r}, "
                f"possible={self.possible!r}, confidence={self.confidence!r}, notes={self.notes!r}, "
                f"detail={self.detail!r})")

    @property
    def layer(self) -> str:
        return self.symptom.layer

    def to_json(self) -> dict[str, object]:
        return {"symptom": self.symptom.id, "title": self.symptom.title, "cause": self.symptom.cause,
                "layer": self.symptom.layer, "next_steps": self.symptom.next_steps, "score": self.score,
                "matched": list(self.matched), "confidence": self.confidence, "notes": list(self.notes),
                **({"traceback_cause": self.detail} if self.detail else {})}


_UNITS = (r"rows?|records?|lines?|items?|files?|bytes?|kb|mb|gb|tb|units?|dollars?|usd|eur|gbp|euros?|"
          r"pounds?|people|users?|customers?|orders?|ms|seconds?|s|km|m|%|percent|times?|results?|x")
#: A plural noun after the number makes it a count ("500 results"), save these words.
_NOT_COUNTS = (r"this|was|has|does|is|its|status|errors|always|unless|perhaps|across|plus|thus|yes|us|as|"
               r"sometimes|process|access|address|success|progress|requests")
_BEFORE = (r"\b(?:https?(?:/\d(?:\.\d)?)?|error(?: occurred| code)?|err|status(?: code)?(?: of)?|code|response|"
           r"returned|got an?|(?:responded|failed|answered) with(?: an?)?(?: status(?: code)?)?(?: of)?)")
_AFTER = (r"(?:too many requests|too many|rate limit|internal server error|internal error|server error|bad gateway|"
          r"service unavailable|gateway time-?out|error\b|status\b)")


@cache
def _code_patterns(code: int) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """A code beside a word that makes it a status, and the code as the whole text."""
    number = (rf"(?<![\w$€£¥.,#/-]){code}(?!\w|[.,]\d)"
              rf"(?!\s*(?:(?:{_UNITS})\b|(?!(?:{_NOT_COUNTS})\b)[a-z]{{2,}}s\b))")
    beside = re.compile(
        rf"{_BEFORE}[\s:#=()\[\]'\"-]{{0,4}}{number}"  # error 429, status code: 429, HTTP/1.1 500, status of 429
        rf"|{number}[\s:()\[\]'\"-]{{0,3}}{_AFTER}"  # 429 Too Many Requests, 500 error
    )
    return beside, re.compile(rf"^[\W]*{number}[\W]*$")


class _Text:
    """One text to classify, with what the matchers need computed once (or when first needed)."""

    def __init__(self, text: str) -> None:
        self.plain = _plain(text)
        self.words = _words(self.plain)
        self.padded = f" {self.words} "
        self.long = len(self.words) > LONG_TEXT
        self._vocab: set[str] | None = None
        self._vocab_text: str | None = None
        self._squashed: str | None = None

    @property
    def vocab(self) -> set[str]:
        if self._vocab is None:
            self._vocab = set(self.words.split())
        return self._vocab

    @property
    def vocab_text(self) -> str:
        """Each distinct word once, with a space before it: where a word start is looked for in a long text."""
        if self._vocab_text is None:
            self._vocab_text = " " + " ".join(self.vocab)
        return self._vocab_text

    def starts_word(self, literal: str) -> bool:
        """Whether some word of the text begins with ``literal`` (words: ``literal`` may be several)."""
        if not self.long:
            return f" {literal}" in self.padded
        first, _space, rest = literal.partition(" ")
        return f" {first}" in self.vocab_text and (not rest or f" {literal}" in self.padded)

    def holds(self, literal: str) -> bool:
        """Whether ``literal`` stands in the text, even inside a word (in a long text: its first word does)."""
        if not self.long:
            return literal in self.words
        return literal.partition(" ")[0] in self.vocab_text

    @property
    def squashed(self) -> str:
        if self._squashed is None:
            self._squashed = _SPACE.sub(" ", self.plain).strip()
        return self._squashed

    def has(self, phrase: str) -> bool:
        if _has_cjk(phrase):  # written without spaces: a phrase is part of a longer "word"
            return phrase in self.words
        if self.long and not all(word in self.vocab for word in phrase.split()):
            return False  # a set look-up per word instead of a pass over megabytes
        return f" {phrase} " in self.padded

    def search(self, pattern: Pattern | re.Pattern[str]) -> str | None:
        """The words ``pattern`` matches in the text; in a long text only where one of its first words stands.

        A pattern whose anchors (:attr:`Pattern.anchors`) begin no word of the text cannot match: it is skipped,
        and not even compiled."""
        anchors = getattr(pattern, "anchors", None)
        if anchors is not None:
            anchors = [anchor for anchor in anchors if self.starts_word(anchor)]
            if not anchors:
                return None
        for words in getattr(pattern, "requires", ()):
            if not any(self.holds(literal) for literal in words):
                return None
        if anchors is None or not self.long:
            hit = pattern.search(self.words)
            return hit.group(0).strip() if hit else None
        starts = _spots(self.padded, [f" {anchor}" for anchor in anchors], limit=200_000)
        if starts is None:
            hit = pattern.search(self.words)
            return hit.group(0).strip() if hit else None
        for start in (spot - 1 for spot in starts):  # padded[i] is words[i - 1]
            end = self.words.find(" ", start + 300)
            hit = pattern.match(self.words, start, end if end > 0 else len(self.words))
            if hit:
                return hit.group(0).strip()
        return None

    def code(self, code: int) -> str | None:
        """``code`` where it reads as a status, as normalised words ("error 429"); None if it does not."""
        needle = str(code)
        if needle not in self.plain:
            return None
        beside, alone = _code_patterns(code)
        if not self.long:
            hit = beside.search(self.squashed) or alone.search(self.squashed)
            return (normalise(hit.group(0)) or needle) if hit else None
        starts = _spots(self.plain, [needle])
        if starts is None:
            hit = beside.search(self.squashed)
            return (normalise(hit.group(0)) or needle) if hit else None
        for start in starts:
            window = _SPACE.sub(" ", self.plain[max(0, start - 60):start + 80])
            hit = beside.search(window)
            if hit and needle in hit.group(0):
                return normalise(hit.group(0)) or needle
        return None


def _spots(text: str, needles: list[str], limit: int = 5000) -> list[int] | None:
    """Where the needles stand in ``text`` (sorted, the index of each needle's first non-space character);
    None when there are more than ``limit`` of them (then one pass over everything is cheaper)."""
    spots: set[int] = set()
    for needle in needles:
        skip = len(needle) - len(needle.lstrip(" "))
        index = text.find(needle)
        while index >= 0:
            spots.add(index + skip)
            if len(spots) > limit:
                return None
            index = text.find(needle, index + 1)
    return sorted(spots)


def _contains(haystack: str, phrase: str) -> bool:
    return f" {phrase} " in haystack


def _weight(phrase: str) -> float:
    """Longer phrases say more: one word 0.55, two 0.65, three 0.75 … at most 0.9. A phrase in a script written
    without spaces (Japanese) is one "word" however long: it counts as a whole sentence of the interface."""
    if _has_cjk(phrase):
        return 0.85
    return min(0.9, 0.45 + 0.1 * len(phrase.split()))


#: How sure an answer is: ``certain`` (the interface's own wording, with nothing against it), ``likely``, or
#: ``possible`` (generic words with no sign they came from ChatGPT, or another product named): not an answer.
CERTAIN, LIKELY, POSSIBLE = "certain", "likely", "possible"
#: A match at least this strong, on a distinctive wording, is ``certain``.
CERTAIN_FROM = 0.85


def _match_symptom(symptom: Symptom, text: _Text, settings: ClassifierSettings, evidence: bool,
                   foreign: str | None) -> Match | None:
    phrases = [phrase for phrase in symptom.phrases if text.has(phrase)]
    # "session expired" inside "code interpreter session expired" is the same evidence, counted once.
    phrases = [phrase for phrase in phrases
               if not any(other != phrase and _contains(f" {other} ", phrase) for other in phrases)]
    found: dict[str, float] = {}
    weak: set[str] = set()
    for phrase in phrases:
        if phrase in symptom.generic and not evidence:
            weak.add(phrase)
            found[phrase] = _weight(phrase) * settings.generic_factor
        else:
            found[phrase] = _weight(phrase)
    for generic, patterns in ((False, symptom.patterns), (True, symptom.generic_patterns)):
        for pattern in patterns:
            hit = text.search(pattern)
            if not hit:
                continue
            overlapping = [phrase for phrase in found
                           if _contains(f" {hit} ", phrase) or _contains(f" {phrase} ", hit)]
            is_weak = generic and not evidence
            if overlapping and (is_weak or not all(phrase in weak for phrase in overlapping)):
                continue  # the same words, already counted
            for phrase in overlapping:  # weak phrases inside a sure pattern: the pattern's word counts
                del found[phrase]
                weak.discard(phrase)
            found[hit] = PATTERN_WEIGHT * (settings.generic_factor if is_weak else 1.0)
            if is_weak:
                weak.add(hit)
    for code in symptom.status_codes:
        shown = text.code(code)
        if shown and shown not in found:
            # A bare status code is what every web server says: it counts fully only from a ChatGPT context.
            found[shown] = CODE_WEIGHT * (1.0 if evidence else settings.generic_factor)
            if not evidence:
                weak.add(shown)
    if not found:
        return None
    miss = 1.0
    for weight in found.values():
        miss *= 1.0 - weight
    for phrase in symptom.advice:  # advice nudges what something else found; alone it is nothing
        if text.has(phrase):
            miss *= 1.0 - ADVICE_WEIGHT
    score = 1.0 - miss
    excluded = next((phrase for phrase in symptom.excludes if text.has(phrase)), None)
    if excluded:
        score *= EXCLUDED_FACTOR
    score = round(score, 3)
    why: list[str] = []
    if weak and len(weak) == len(found):
        why.append("generic wording, nothing says it came from ChatGPT")
    if foreign:
        why.append(f"names another product ({foreign!r})")
    if excluded:
        why.append(f"{excluded!r} points elsewhere")
    # Generic wordings only, and nothing that says the text came from ChatGPT: however many of them there are
    # ("500 Internal Server Error … server is overloaded" is a Flask page), it is only a possible answer.
    possible = bool(foreign) or score < settings.possible_below or bool(weak and len(weak) == len(found))
    if possible:
        confidence = POSSIBLE
    elif score >= CERTAIN_FROM and any(phrase not in weak and (len(phrase.split()) >= 3 or _has_cjk(phrase))
                                       for phrase in found) and not excluded:
        confidence = CERTAIN
    else:
        confidence = LIKELY
    return Match(symptom=symptom, score=score, matched=list(found), possible=possible, confidence=confidence,
                 notes=why)


#: The last line of a Python traceback: ``KeyError: 'region'``, ``FileNotFoundError: [Errno 2] …``, ``MemoryError``.
_EXCEPTION_LINE = _Lazy(  # at a line's start, or after a sentence on the same line ("Error analyzing. KeyError: …")
    r"(?:^[ \t]*|(?<=[.!?:])[ \t]+)"
    r"((?:[A-Za-z_][\w]*\.)*[A-Z][\w]*(?:Error|Exception|Exit|Interrupt|Timeout|Warning|NotFound))"
    r"(?:(?:[ \t]*:[ \t]*|[ \t]{2,})(.{0,300}))?[ \t]*$", re.MULTILINE)
#: How far from its end a long paste is searched for its last exception line.
_TRACEBACK_TAIL = 20_000
#: The sandbox's folder: a file missing there means the sandbox lost it (the SESSION layer), not the file itself.
_SANDBOX_PATH = _Lazy(r"/mnt/data\b|sandbox:")
ANALYSIS_ERROR = "analysis_error"


def traceback_cause(text: str) -> str | None:
    """The last exception line of a pasted Python traceback ("KeyError: 'region'"), or None when there is none.

    A line that names an exception class and what follows its colon; a notebook's banner ("FileNotFoundError
    Traceback (most recent call last)") counts only when nothing better comes after it.
    """
    tail = text[-_TRACEBACK_TAIL:] if len(text) > _TRACEBACK_TAIL else text
    if "Error" not in tail and "Exception" not in tail and "Exit" not in tail and "Interrupt" not in tail:
        return None
    best = None
    for hit in _EXCEPTION_LINE.finditer(tail):
        name, rest = hit.group(1), (hit.group(2) or "").strip()
        if rest.startswith("Traceback"):
            best = best or name
            continue
        best = f"{name}: {rest}" if rest else name
    return best


def _route_traceback(matches: list[Match], text: str, knowledge: Knowledge, evidence: bool,
                     foreign: str | None) -> list[Match]:
    """A Python exception in the sandbox: ``analysis_error`` carries the traceback's own cause; a FileNotFoundError
    on /mnt/data goes first (the sandbox lost its files: the SESSION layer, not the file)."""
    cause = traceback_cause(text)
    if cause is None:
        return matches
    found = next((match for match in matches if match.symptom.id == ANALYSIS_ERROR), None)
    lost = cause.startswith(("FileNotFoundError", "OSError: [Errno 2]")) and bool(_SANDBOX_PATH.search(cause))
    if found is None and not lost:
        return matches
    try:
        symptom = knowledge.symptom(ANALYSIS_ERROR)
    except KeyError:
        return matches
    name = normalise(cause.split(":", 1)[0])
    notes = list(found.notes) if found else []
    if lost:
        notes.append("FileNotFoundError on /mnt/data: the sandbox lost its files (the SESSION layer)")
    if foreign and not any("another product" in note for note in notes):
        notes.append(f"names another product ({foreign!r})")
    matched = list(found.matched) if found else []
    if name and name not in matched:
        matched.append(name)
    others = [match for match in matches if match is not found]
    score = found.score if found else 0.0
    if lost and others:
        score = max(score, min(1.0, round(others[0].score + 0.01, 3)))
    elif lost:
        score = max(score, 0.85)
    possible = bool(foreign) or (found.possible if found else not (evidence or lost))
    confidence = POSSIBLE if possible else CERTAIN if lost else found.confidence if found else LIKELY
    routed = Match(symptom=symptom, score=score, matched=matched, possible=possible, confidence=confidence,
                   notes=notes, detail=cause)
    ranked = sorted([*others, routed], key=lambda match: -match.score)
    return ranked


#: A paste longer than this is read as its head, its tail and the lines between that look like an error.
EXCERPT_OVER = 128_000
EXCERPT_END = 16_000
#: What makes a line in the middle of a long paste worth reading (lower case; non-ASCII lines are kept too), most
#: telling first: each word is one search through the middle (~0.6 ms a megabyte), so a longer paste is searched
#: for fewer of them (:data:`_MIDDLE_SEARCH`), never fewer than :data:`_MIN_WORDS`.
_ERROR_WORDS = ("error", "fail", "expired", "limit", "wrong", "unable", "cannot", "can't", "too many", "timed out",
                "timeout", "denied", "unavailable", "capacity", "unusual", "country", "not found", "no longer",
                "too long", "too large", "exception", "traceback", "lost", "reset", "offline", "sandbox", "mnt/data",
                "chatgpt", "openai", "interpreter", "analy", "upload", "429", "500", "502", "503", "413")
_ERROR_NEEDLES = tuple(word.encode() for word in _ERROR_WORDS)
#: Bytes searched through in the middle, all words together (the middle's length times the words looked for).
_MIDDLE_SEARCH = 3_000_000
_MIN_WORDS = 3
#: At most this many lines from the middle, and this many for any one word (a word on every line of a log
#: must not crowd out the others); a line is cut to :data:`_LINE_CHARS`.
_EXCERPT_LINES = 2_000
_LINES_PER_WORD = 200
_LINE_CHARS = 2_000


def excerpt_bytes(data: bytes) -> bytes:
    """A long paste (UTF-8) cut to what the classifier needs, without decoding it: its first and last
    :data:`EXCERPT_END` bytes and, from the middle, the lines that look like an error (one lower-casing of the
    middle, then one search per word of :data:`_ERROR_WORDS`, fewer the longer the middle) or hold non-ASCII text
    (a localised message). Data no longer than
    :data:`EXCERPT_OVER` is returned as it is."""
    if len(data) <= EXCERPT_OVER:
        return data
    head_end = data.rfind(b"\n", 0, EXCERPT_END) + 1 or EXCERPT_END  # whole lines where there are lines
    tail_start = data.find(b"\n", len(data) - EXCERPT_END)
    tail_start = tail_start + 1 if 0 <= tail_start < len(data) - 1 else len(data) - EXCERPT_END
    middle = data[head_end:tail_start]
    lowered = middle.lower()
    starts: set[int] = set()
    for needle in _ERROR_NEEDLES[:max(_MIN_WORDS, _MIDDLE_SEARCH // max(1, len(middle)))]:
        index, found = lowered.find(needle), 0
        while index >= 0 and found < _LINES_PER_WORD and len(starts) < _EXCERPT_LINES:
            starts.add(lowered.rfind(b"\n", 0, index) + 1)
            found += 1
            end = lowered.find(b"\n", index)
            if end < 0:
                break
            index = lowered.find(needle, end)
    if not middle.isascii():
        for hit in re.finditer(rb"[\x80-\xff]+", middle):
            if len(starts) >= 2 * _EXCERPT_LINES:
                break
            start = middle.rfind(b"\n", 0, hit.start()) + 1
            if start not in starts:
                starts.add(start)
    lines = []
    for start in sorted(starts):
        end = middle.find(b"\n", start)
        lines.append(middle[start:end if end >= 0 else len(middle)][:_LINE_CHARS * 4])
    return b"\n".join([data[:head_end].rstrip(b"\n"), *dict.fromkeys(lines), data[tail_start:]])


def excerpt(text: str) -> str:
    """A long paste cut to what the classifier needs (:func:`excerpt_bytes`); a text no longer than
    :data:`EXCERPT_OVER` characters is returned as it is."""
    if len(text) <= EXCERPT_OVER:
        return text
    data = text.encode("utf-8", "surrogatepass")
    return excerpt_bytes(data).decode("utf-8", "replace")


def _first(text: _Text, phrases: tuple[str, ...]) -> str | None:
    return next((phrase for phrase in phrases if text.has(phrase)), None)


def classify(text: str, knowledge: Knowledge | None = None, *, possible: bool = False,
             evidence: bool = False) -> list[Match]:
    """The symptoms ``text`` matches, best first (ties keep the data file's order); empty when none does.

    Matches scoring below the data's ``possible_below`` are only possible (a generic wording with nothing
    around it that says it is an error of ours), and so is every match in a text that names another product
    (Flask, Jupyter, a bank): left out unless ``possible`` is true. ``evidence`` says the caller knows the text
    comes from a ChatGPT data-analysis chat (the project's session clock), as the words "ChatGPT" or "/mnt/data"
    in it would.
    """
    knowledge = knowledge or load_knowledge()
    text = excerpt(text)
    prepared = _Text(text)
    if not prepared.words:
        return []
    settings = knowledge.classifier
    evidence = evidence or _first(prepared, settings.evidence_phrases) is not None
    foreign = _first(prepared, settings.foreign_phrases)
    matches = []
    for order, symptom in enumerate(knowledge.symptoms):
        if symptom.catchall:
            continue
        match = _match_symptom(symptom, prepared, settings, evidence, foreign)
        if match is not None and (possible or not match.possible):
            matches.append((order, match))
    matches.sort(key=lambda item: (-item[1].score, item[0]))
    ranked = _route_traceback([match for _order, match in matches], text, knowledge, evidence, foreign)
    return ranked if possible else [match for match in ranked if not match.possible]

"""The triage knowledge as objects: symptoms and their patterns, the decision flow, the checklist, the support
fields, the status and classifier settings (read from the data file by :mod:`.knowledge_parse`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

# The records are small plain classes, not dataclasses (`dataclasses` imports `inspect`, ~15 ms) nor named tuples
# (~0.3 ms to make each class): `liferaft diagnose` is measured against `liferaft --version` (issue 18).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from liferaft.core.diagnose.clock import ClockSettings


#: The layers, in the order the decision flow visits them.
LAYERS = ("SESSION", "FILE", "OUTAGE", "FIX")


class KnowledgeError(ValueError):
    """The triage data is malformed: a bug in the data file, reported with where it is."""


class Pattern:
    """A regular expression over the normalised text, compiled when first used.

    ``anchors`` are the words a match must begin with (``\\b(?:code interpreter|python|…)`` → ``code``, ``python``),
    when the pattern says so plainly; the classifier skips (and never compiles) a pattern none of whose anchors
    begins a word of the text. None: not known, the pattern is always tried.
    """

    __slots__ = ("_compiled", "anchors", "pattern", "requires")

    def __init__(self, pattern: str, anchors: tuple[str, ...] | None = None,
                 requires: tuple[tuple[str, ...], ...] = ()) -> None:
        self.pattern = pattern
        self.anchors = anchors
        self.requires = requires
        """Groups of literal words the text must hold one of each (``(?:expired|expire)`` later in the pattern)."""
        self._compiled: re.Pattern[str] | None = None

    @property
    def compiled(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = re.compile(self.pattern)
        return self._compiled

    def search(self, text: str) -> re.Match[str] | None:
        return self.compiled.search(text)

    def match(self, text: str, pos: int = 0, endpos: int = 2**62) -> re.Match[str] | None:
        return self.compiled.match(text, pos, endpos)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Pattern) and other.pattern == self.pattern

    def __hash__(self) -> int:
        return hash(self.pattern)

    def __repr__(self) -> str:
        return f"Pattern({self.pattern!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return Pattern, (self.pattern, self.anchors, self.requires)

    @classmethod
    def read(cls, source: str) -> Pattern:
        return cls(source, pattern_anchors(source), pattern_requires(source))


def pattern_anchors(source: str) -> tuple[str, ...] | None:
    """The literal words one of which every match of ``source`` starts with, at the start of a word (``code
    interpreter``, ``python``); None when unsure.

    Only the plain shapes are read: ``\\b`` then a literal, or ``\\b(?:alt|alt|…)`` (maybe optional) with no nested
    group and no alternation outside it; a letter made optional (``errors?``) is left out of its literal.
    """
    if not source.startswith("\\b") or _top_level_bar(source):
        return None
    rest = source[2:]
    if rest.startswith("(?:"):
        close = rest.find(")")
        inner = rest[3:close] if close > 0 else ""
        quantifier = rest[close + 1:close + 2]
        if close < 0 or "(" in inner or "[" in inner or quantifier in ("*", "{", "+"):
            return None
        alternatives = inner.split("|")
        after = rest[close + 2:] if quantifier == "?" else rest[close + 1:]
        follows = [after] * len(alternatives)
        if quantifier == "?":  # an optional group: a match may also start with what follows it
            alternatives.append(after)
            follows.append("")
    else:
        alternatives, follows = [rest], [""]
    anchors = []
    for alternative, after in zip(alternatives, follows, strict=True):
        literal = re.match(r"[a-z0-9 ]*[a-z0-9]", alternative)
        if literal is None:
            return None
        words = literal.group(0)
        tail = (alternative[len(words):] or after)[:1]
        if tail in ("?", "*", "{"):  # the last letter is optional
            words = words[:-1].rstrip(" ")
        if not words:
            return None
        anchors.append(words)
    return tuple(dict.fromkeys(anchors))


def pattern_requires(source: str) -> tuple[tuple[str, ...], ...]:
    """Literal text every match of ``source`` holds: for each group outside any other that is not optional and
    whose alternatives are all plain words (``(?:expired|expire|reset)``), those alternatives. Empty when the
    pattern has an alternation outside every group."""
    if _top_level_bar(source):
        return ()
    required = []
    for index, char, depth in _syntax(source):
        if char == "(" and depth == 0 and source.startswith("(?:", index):
            close = source.find(")", index)
            inner = source[index + 3:close]
            optional = source[close + 1:close + 2] in ("?", "*") or source.startswith("{0", close + 1)
            alternatives = inner.split("|")
            if (close > 0 and not optional and "(" not in inner
                    and all(re.fullmatch(r" ?[a-z0-9]+(?: [a-z0-9]+)* ?", alt) for alt in alternatives)):
                required.append(tuple(dict.fromkeys(alt.strip() for alt in alternatives)))
    return tuple(required)


def _syntax(source: str) -> Iterator[tuple[int, str, int]]:
    """The characters of ``source`` outside escapes and character classes: index, character, and how many groups
    hold it (a group's own brackets count as outside it)."""
    depth, index, in_class = 0, 0, False
    while index < len(source):
        char = source[index]
        if char == "\\":
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        else:
            if char == ")":
                depth -= 1
            yield index, char, depth
            if char == "(":
                depth += 1
        index += 1


def _top_level_bar(source: str) -> bool:
    """Whether ``source`` has an alternation outside every group (``a|b``)."""
    return any(char == "|" and depth == 0 for _index, char, depth in _syntax(source))


class _Record:
    """An immutable record: its fields in ``_fields`` order, defaults in ``_defaults``; equal, hashed and iterated
    as the tuple of its fields."""

    __slots__ = ()
    _fields: tuple[str, ...] = ()
    _defaults: tuple[tuple[str, Any], ...] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        names = self._fields
        if not kwargs and len(args) == len(names):
            for name, value in zip(names, args, strict=True):
                object.__setattr__(self, name, value)
            return
        if len(args) > len(names):
            raise TypeError(f"{type(self).__name__} takes at most {len(names)} arguments")
        values = dict(zip(names, args, strict=False))
        for key, value in kwargs.items():
            if key not in names or key in values:
                raise TypeError(f"{type(self).__name__}: unexpected or repeated argument {key!r}")
            values[key] = value
        for name in names:
            if name in values:
                value = values[name]
            elif name in dict(self._defaults):
                value = dict(self._defaults)[name]
            else:
                raise TypeError(f"{type(self).__name__}: missing {name!r}")
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only")

    def __iter__(self) -> Any:
        return iter([getattr(self, name) for name in self._fields])

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and tuple(self) == tuple(other)

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{name}={getattr(self, name)!r}' for name in self._fields)})"

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), tuple(self)


class Step(_Record):
    """One next step. ``action`` names something Liferaft can do for it (a key of :attr:`Knowledge.actions`)."""

    _fields = ("text", "action")
    __slots__ = _fields
    _defaults = (("action", None),)

    text: str
    action: str | None


class Symptom(_Record):
    _fields = ("id", "title", "cause", "layer", "steps", "phrases", "patterns", "status_codes", "excludes", "catchall",
               "generic", "generic_patterns", "advice")
    __slots__ = _fields
    _defaults = (("phrases", ()), ("patterns", ()), ("status_codes", ()), ("excludes", ()), ("catchall", False),
                 ("generic", frozenset()), ("generic_patterns", ()), ("advice", ()))

    id: str
    title: str
    cause: str
    layer: str
    steps: tuple[Step, ...]
    phrases: tuple[str, ...]
    """Identifying phrases, already normalised (see :func:`liferaft.core.diagnose.normalising.normalise`)."""
    patterns: tuple[Pattern, ...]
    """Regular expressions over the normalised text."""
    status_codes: tuple[int, ...]
    """HTTP status codes that identify it, matched only where they read as a status (``error 429``)."""
    excludes: tuple[str, ...]
    """Normalised phrases that, when present, mean the plain phrases probably speak of something else."""
    catchall: bool
    """The "something else" symptom the flow ends on; the classifier never offers it."""
    generic: frozenset[str]
    """Phrases (also in :attr:`phrases`) that turn up in everyday text too: they need context to count fully."""
    generic_patterns: tuple[Pattern, ...]
    """Patterns that, like :attr:`generic` phrases, need context to count fully."""
    advice: tuple[str, ...]
    """What the chat tells you to do ("please upload the file again"): it only nudges an existing match."""

    @property
    def next_steps(self) -> list[str]:
        return [step.text for step in self.steps]


class Question(_Record):
    """One yes/no question of the decision flow; ``yes``/``no`` name the next question or a symptom."""

    _fields = ("id", "text", "layer", "yes", "no")
    __slots__ = _fields

    id: str
    text: str
    layer: str
    yes: str
    no: str


class ChecklistStep(_Record):
    _fields = ("id", "text", "action")
    __slots__ = _fields
    _defaults = (("action", None),)

    id: str
    text: str
    action: str | None


class SupportField(_Record):
    _fields = ("id", "label", "source", "required", "help", "choices", "config_key")
    __slots__ = _fields
    _defaults = (("required", False), ("help", ""), ("choices", ()), ("config_key", None))

    id: str
    label: str
    source: str
    """``auto`` (Liferaft fills it in), ``config`` (``[diagnose]`` in config.toml), ``user`` or ``paste``."""
    required: bool
    help: str
    choices: tuple[str, ...]
    config_key: str | None


class Layer(_Record):
    _fields = ("id", "title", "question", "about")
    __slots__ = _fields

    id: str
    title: str
    question: str
    about: str


class StatusSettings(_Record):
    _fields = ("url", "page", "timeout", "components")
    __slots__ = _fields

    url: str
    page: str
    timeout: float
    components: tuple[str, ...]
    """Lower-case words: a status-page component whose name holds one of them matters to a data-analysis chat."""


class ClassifierSettings(_Record):
    _fields = ("possible_below", "generic_factor", "context_window", "context_words", "filler_words",
               "evidence_phrases", "foreign_phrases")
    __slots__ = _fields
    _defaults = (("possible_below", 0.5), ("generic_factor", 0.4), ("context_window", 8),
                 ("context_words", frozenset()), ("filler_words", frozenset()), ("evidence_phrases", ()),
                 ("foreign_phrases", ()))

    possible_below: float
    """A match scoring below this is only "possible"."""
    generic_factor: float
    """What a generic phrase counts for, as a share of its weight, when nothing around it says it is ours."""
    context_window: int
    context_words: frozenset[str]
    filler_words: frozenset[str]
    evidence_phrases: tuple[str, ...]
    """Normalised phrases that say a text comes from a ChatGPT chat ("chatgpt", "mnt data", "code interpreter")."""
    foreign_phrases: tuple[str, ...]
    """Normalised phrases naming another product ("flask", "jupyter", "online banking"): they rule a match out."""


class Knowledge:
    """Everything the triage data says. ``clock`` is built when first asked for: a diagnosis does not need the
    session clock's module."""

    __slots__ = ("_clock", "_clock_numbers", "actions", "checked", "checklist", "checklist_for", "checklist_notes",
                 "classifier", "flow", "layers", "source", "status", "support_fields", "support_notes", "symptoms")

    def __init__(self, symptoms: list[Symptom], flow: list[Question], checklist: list[ChecklistStep],
                 support_fields: list[SupportField], layers: dict[str, Layer], actions: dict[str, str],
                 status: StatusSettings, clock: ClockSettings | tuple[float, float],
                 checklist_notes: dict[str, str] | None = None, checklist_for: dict[str, str] | None = None,
                 support_notes: dict[str, str] | None = None, classifier: ClassifierSettings | None = None,
                 source: str = "", checked: str = "") -> None:
        self.symptoms = symptoms
        self.flow = flow
        self.checklist = checklist
        self.support_fields = support_fields
        self.layers = layers
        self.actions = actions
        """Action id → label, e.g. ``copy_prompt`` → "Copy the rerun prompt"."""
        self.status = status
        if isinstance(clock, tuple):
            self._clock, self._clock_numbers = None, (float(clock[0]), float(clock[1]))
        else:
            self._clock, self._clock_numbers = clock, (clock.idle_after_minutes, clock.warn_hours_left)
        self.checklist_notes = checklist_notes if checklist_notes is not None else {}
        self.checklist_for = checklist_for if checklist_for is not None else {}
        """Symptom id → where it sits in the checklist (shown when the checklist is opened for that symptom)."""
        self.support_notes = support_notes if support_notes is not None else {}
        self.classifier = classifier if classifier is not None else ClassifierSettings()
        self.source = source
        self.checked = checked

    def _fields(self) -> tuple[Any, ...]:
        return (self.symptoms, self.flow, self.checklist, self.support_fields, self.layers, self.actions,
                self.status, self._clock_numbers, self.checklist_notes, self.checklist_for, self.support_notes,
                self.classifier, self.source, self.checked)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Knowledge) and other._fields() == self._fields()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Knowledge({len(self.symptoms)} symptoms, source={self.source!r}, checked={self.checked!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return Knowledge, self._fields()

    @property
    def clock(self) -> ClockSettings:
        """The session clock's rules (``[clock]``)."""
        if self._clock is None:
            from liferaft.core.diagnose.clock import ClockSettings

            self._clock = ClockSettings(*self._clock_numbers)
        return self._clock

    @property
    def status_url(self) -> str:
        return self.status.url

    @property
    def first_question(self) -> Question:
        return self.flow[0]

    def symptom(self, symptom_id: str) -> Symptom:
        for symptom in self.symptoms:
            if symptom.id == symptom_id:
                return symptom
        raise KeyError(symptom_id)

    def question(self, question_id: str) -> Question:
        for question in self.flow:
            if question.id == question_id:
                return question
        raise KeyError(question_id)

    def is_symptom(self, target: str) -> bool:
        return any(symptom.id == target for symptom in self.symptoms)

    @property
    def catchall(self) -> Symptom | None:
        return next((symptom for symptom in self.symptoms if symptom.catchall), None)

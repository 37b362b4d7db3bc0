"""What Liferaft knows about failures, read from ``core/data/triage.toml`` and checked on load.

The symptoms (title, cause, layer, next steps, identifying phrases), the yes/no decision flow SESSION → FILE →
OUTAGE → FIX, the quick-fix checklist and the fields of a support request are data, not code: the vendor's
wording changes, and so do its figures. :func:`load_knowledge` reads and validates them once.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

# The records are small plain classes, not dataclasses (`dataclasses` imports `inspect`, ~15 ms) nor named tuples
# (~0.3 ms to make each class): `liferaft diagnose` is measured against `liferaft --version` (issue 18).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from liferaft.core.diagnose.clock import ClockSettings

#: The layers, in the order the decision flow visits them.
LAYERS = ("SESSION", "FILE", "OUTAGE", "FIX")

#: The file the knowledge is read from, inside the ``liferaft.core`` package (the same as ``clock.DATA_FILE``).
DATA_FILE = "data/triage.toml"


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
        return type(other) is type(self) and tuple(self) == tuple(other)  # type: ignore[arg-type]

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
    """Identifying phrases, already normalised (see :func:`liferaft.core.diagnose.classify.normalise`)."""
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


def _text(table: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> str:
    value = table.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise KnowledgeError(f"{where}: {key!r} must be a non-empty string")
    return value


def _strings(table: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        raise KnowledgeError(f"{where}: {key!r} must be a list of non-empty strings")
    return tuple(value)


def _action(table: Mapping[str, Any], where: str, actions: Mapping[str, str]) -> str | None:
    action = table.get("action")
    if action is None:
        return None
    if action not in actions:
        raise KnowledgeError(f"{where}: unknown action {action!r} (known: {', '.join(actions)})")
    return str(action)


def _table_list(data: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        raise KnowledgeError(f"[[{key}]] must be an array of tables")
    return value


def _unique(ids: list[str], what: str) -> None:
    seen: set[str] = set()
    for item in ids:
        if item in seen:
            raise KnowledgeError(f"{what} {item!r} appears twice")
        seen.add(item)


def _symptom(table: Mapping[str, Any], index: int, actions: Mapping[str, str]) -> Symptom:
    from liferaft.core.diagnose.classify import normalise

    where = f"symptoms[{index}]"
    symptom_id = _text(table, "id", where)
    where = f"symptom {symptom_id!r}"
    layer = _text(table, "layer", where)
    if layer not in LAYERS:
        raise KnowledgeError(f"{where}: layer {layer!r} is not one of {', '.join(LAYERS)}")
    steps = []
    for number, step in enumerate(_table_list(table, "steps"), 1):
        steps.append(Step(_text(step, "text", f"{where} step {number}"),
                          _action(step, f"{where} step {number}", actions)))
    if not steps:
        raise KnowledgeError(f"{where}: has no steps")
    phrases = tuple(dict.fromkeys(normalise(phrase) for phrase in _strings(table, "phrases", where)))
    if any(not phrase for phrase in phrases):
        raise KnowledgeError(f"{where}: a phrase is empty once normalised")
    generic = frozenset(normalise(phrase) for phrase in _strings(table, "generic", where))
    if generic - set(phrases):
        strays = ", ".join(sorted(generic - set(phrases)))
        raise KnowledgeError(f"{where}: generic {strays!r} is not one of its phrases")

    def compiled(key: str) -> list[Pattern]:
        patterns = []
        for source in _strings(table, key, where):
            pattern = Pattern.read(source)
            try:
                pattern.compiled  # noqa: B018 (checked now, not at the first diagnosis)
            except re.error as exc:
                raise KnowledgeError(f"{where}: pattern {source!r} is not a valid regular expression: {exc}") from None
            patterns.append(pattern)
        return patterns

    patterns = compiled("patterns")
    generic_patterns = compiled("generic_patterns")
    codes = table.get("status_codes", [])
    if not isinstance(codes, list) or not all(isinstance(code, int) and 100 <= code <= 599 for code in codes):
        raise KnowledgeError(f"{where}: 'status_codes' must be a list of HTTP status codes")
    catchall = bool(table.get("catchall", False))
    if not catchall and not (phrases or patterns or generic_patterns or codes):
        raise KnowledgeError(f"{where}: nothing identifies it (no phrases, patterns or status codes)")
    return Symptom(
        id=symptom_id, title=_text(table, "title", where), cause=_text(table, "cause", where), layer=layer,
        steps=tuple(steps), phrases=phrases, patterns=tuple(patterns), status_codes=tuple(codes),
        excludes=tuple(normalise(phrase) for phrase in _strings(table, "excludes", where)), catchall=catchall,
        generic=generic, generic_patterns=tuple(generic_patterns),
        advice=tuple(dict.fromkeys(normalise(phrase) for phrase in _strings(table, "advice", where))),
    )


def _classifier(data: Mapping[str, Any]) -> ClassifierSettings:
    table = data.get("classifier", {})
    if not isinstance(table, Mapping):
        raise KnowledgeError("[classifier] must be a table")
    numbers: dict[str, float] = {}
    for key, default in (("possible_below", 0.5), ("generic_factor", 0.4)):
        value = table.get(key, default)
        if not isinstance(value, int | float) or isinstance(value, bool) or not 0 <= value <= 1:
            raise KnowledgeError(f"classifier.{key} must be a number from 0 to 1")
        numbers[key] = float(value)
    window = table.get("context_window", 8)
    if not isinstance(window, int) or isinstance(window, bool) or not 0 <= window <= 100:
        raise KnowledgeError("classifier.context_window must be a whole number of words from 0 to 100")
    words = {key: frozenset(word.lower() for word in _strings(table, key, "classifier"))
             for key in ("context_words", "filler_words")}
    from liferaft.core.diagnose.classify import normalise

    phrases = {key: tuple(dict.fromkeys(normalise(item) for item in _strings(table, key, "classifier")))
               for key in ("evidence_phrases", "foreign_phrases")}
    return ClassifierSettings(context_window=window, **numbers, **words, **phrases)


def _check_flow(flow: list[Question], symptom_ids: set[str]) -> None:
    question_ids = {question.id for question in flow}
    clash = question_ids & symptom_ids
    if clash:
        raise KnowledgeError(f"flow: {', '.join(sorted(clash))} is both a question and a symptom")
    for question in flow:
        for answer in (question.yes, question.no):
            if answer not in question_ids and answer not in symptom_ids:
                raise KnowledgeError(f"flow question {question.id!r}: {answer!r} is neither a question nor a symptom")
    # Every question reachable from the first, and no way round in a circle.
    by_id = {question.id: question for question in flow}
    reached: set[str] = set()

    def walk(question_id: str, path: tuple[str, ...]) -> None:
        if question_id in path:
            raise KnowledgeError(f"flow: a loop through {' → '.join((*path, question_id))}")
        reached.add(question_id)
        question = by_id[question_id]
        for answer in (question.yes, question.no):
            if answer in by_id:
                walk(answer, (*path, question_id))

    walk(flow[0].id, ())
    unreached = question_ids - reached
    if unreached:
        raise KnowledgeError(f"flow: no way to reach {', '.join(sorted(unreached))} from {flow[0].id!r}")
    layer_order = {layer: index for index, layer in enumerate(LAYERS)}
    for question in flow:
        for answer in (question.yes, question.no):
            if answer in by_id and layer_order[by_id[answer].layer] < layer_order[question.layer]:
                raise KnowledgeError(f"flow: {question.id!r} goes back from {question.layer} to "
                                     f"{by_id[answer].layer}; the flow runs {' → '.join(LAYERS)}")


def parse_knowledge(data: Mapping[str, Any]) -> Knowledge:
    """Build and validate :class:`Knowledge` from the parsed TOML; :class:`KnowledgeError` says what is wrong."""
    actions_table = data.get("actions", {})
    if not isinstance(actions_table, Mapping) or not all(isinstance(v, str) for v in actions_table.values()):
        raise KnowledgeError("[actions] must map action ids to labels")
    actions = dict(actions_table)

    layers_table = data.get("layers", {})
    if not isinstance(layers_table, Mapping):
        raise KnowledgeError("[layers] must be a table")
    layers = {}
    for layer_id in LAYERS:
        table = layers_table.get(layer_id)
        if not isinstance(table, Mapping):
            raise KnowledgeError(f"[layers.{layer_id}] is missing")
        where = f"layers.{layer_id}"
        layers[layer_id] = Layer(layer_id, _text(table, "title", where), _text(table, "question", where),
                                 _text(table, "about", where))

    symptoms = [_symptom(table, index, actions) for index, table in enumerate(_table_list(data, "symptoms"))]
    if not symptoms:
        raise KnowledgeError("no [[symptoms]]")
    _unique([symptom.id for symptom in symptoms], "symptom")
    if sum(symptom.catchall for symptom in symptoms) > 1:
        raise KnowledgeError("more than one symptom is marked catchall")

    flow = []
    for index, table in enumerate(_table_list(data, "flow")):
        where = f"flow[{index}]"
        layer = _text(table, "layer", where)
        if layer not in LAYERS:
            raise KnowledgeError(f"{where}: layer {layer!r} is not one of {', '.join(LAYERS)}")
        flow.append(Question(_text(table, "id", where), _text(table, "text", where), layer,
                             _text(table, "yes", where), _text(table, "no", where)))
    if not flow:
        raise KnowledgeError("no [[flow]] questions")
    _unique([question.id for question in flow], "flow question")
    _check_flow(flow, {symptom.id for symptom in symptoms})

    checklist = []
    for index, table in enumerate(_table_list(data, "checklist")):
        where = f"checklist[{index}]"
        checklist.append(ChecklistStep(_text(table, "id", where), _text(table, "text", where),
                                       _action(table, where, actions)))
    if not checklist:
        raise KnowledgeError("no [[checklist]] steps")
    _unique([step.id for step in checklist], "checklist step")

    support_fields = []
    for index, table in enumerate(_table_list(data, "support_fields")):
        where = f"support_fields[{index}]"
        source = _text(table, "source", where)
        if source not in ("auto", "config", "user", "paste"):
            raise KnowledgeError(f"{where}: source {source!r} is not auto, config, user or paste")
        config_key = table.get("config_key")
        if source == "config" and not isinstance(config_key, str):
            raise KnowledgeError(f"{where}: a config field needs a 'config_key'")
        support_fields.append(SupportField(
            id=_text(table, "id", where), label=_text(table, "label", where), source=source,
            required=bool(table.get("required", False)), help=_text(table, "help", where, required=False),
            choices=_strings(table, "choices", where), config_key=config_key if isinstance(config_key, str) else None,
        ))
    _unique([item.id for item in support_fields], "support field")

    status_table = data.get("status", {})
    if not isinstance(status_table, Mapping):
        raise KnowledgeError("[status] must be a table")
    timeout = status_table.get("timeout_seconds", 3)
    if not isinstance(timeout, int | float) or isinstance(timeout, bool) or not 0 < timeout <= 60:
        raise KnowledgeError("status.timeout_seconds must be a number of seconds between 0 and 60")
    status = StatusSettings(
        url=_text(status_table, "url", "status"), page=_text(status_table, "page", "status", required=False),
        timeout=float(timeout),
        components=tuple(word.lower() for word in _strings(status_table, "components", "status")),
    )

    from liferaft.core.diagnose.clock import clock_settings

    try:
        clock = clock_settings(data)
    except ValueError as exc:
        raise KnowledgeError(str(exc)) from None

    def notes(key: str) -> dict[str, str]:
        table = data.get(key, {})
        if not isinstance(table, Mapping) or not all(isinstance(value, str) for value in table.values()):
            raise KnowledgeError(f"[{key}] must map names to text")
        return dict(table)

    checklist_for = notes("checklist_for")
    strays = sorted(set(checklist_for) - {symptom.id for symptom in symptoms})
    if strays:
        raise KnowledgeError(f"[checklist_for]: {', '.join(strays)} is not a symptom")

    return Knowledge(
        symptoms=symptoms, flow=flow, checklist=checklist, support_fields=support_fields, layers=layers,
        actions=actions, status=status, clock=clock, checklist_notes=notes("checklist_notes"),
        checklist_for=checklist_for,
        support_notes=notes("support_notes"), classifier=_classifier(data), source=str(data.get("source", "")),
        checked=str(data.get("checked", "")),
    )


def read_knowledge_text(text: str) -> Knowledge:
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise KnowledgeError(f"not valid TOML: {exc}") from None
    return parse_knowledge(data)


#: Bump when the literal form of the knowledge (:func:`to_literal`) changes shape.
_FORMAT = 3
#: Set to a non-empty value to read the data file every time (nothing compiled is read or written).
NO_CACHE_ENV = "LIFERAFT_NO_KNOWLEDGE_CACHE"
#: The checked knowledge as Python literals, generated from the data file: Python keeps it compiled (``.pyc``),
#: so loading it is one unmarshal and a few hundred small objects (~1 ms, against ~30 ms to read the TOML).
COMPILED_MODULE = "_triage_compiled"
_HERE = os.path.dirname(os.path.abspath(__file__))


def _bundled_bytes() -> bytes:
    path = os.path.join(os.path.dirname(_HERE), DATA_FILE)
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:  # installed in a zip: read it through the package
        from importlib import resources

        return resources.files("liferaft.core").joinpath(DATA_FILE).read_bytes()


def knowledge_digest(raw: bytes) -> str | None:
    """What the compiled knowledge was built from: the data file's bytes and the code that checks and normalises
    it (this module and the classifier's :func:`normalise`). None when the code cannot be read."""
    import zlib

    crc = zlib.crc32(raw)
    for name in ("knowledge.py", "classify.py"):
        try:
            with open(os.path.join(_HERE, name), "rb") as handle:
                crc = zlib.crc32(handle.read(), crc)
        except OSError:
            return None
    return f"{_FORMAT}-{len(raw)}-{crc:08x}"


def _pairs(table: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(table.items())


def to_literal(knowledge: Knowledge) -> tuple[Any, ...]:
    """The knowledge as nested tuples of strings, numbers, booleans and None (what ``marshal`` and ``repr``
    keep exactly); :func:`from_literal` builds it back."""
    def patterns(items: tuple[Pattern, ...]) -> tuple[tuple[Any, ...], ...]:
        return tuple((pattern.pattern, pattern.anchors, pattern.requires) for pattern in items)

    symptoms = tuple(
        (s.id, s.title, s.cause, s.layer, tuple(tuple(step) for step in s.steps), s.phrases, patterns(s.patterns),
         s.status_codes, s.excludes, s.catchall, tuple(sorted(s.generic)), patterns(s.generic_patterns), s.advice)
        for s in knowledge.symptoms)
    c = knowledge.classifier
    classifier = (c.possible_below, c.generic_factor, c.context_window, tuple(sorted(c.context_words)),
                  tuple(sorted(c.filler_words)), c.evidence_phrases, c.foreign_phrases)
    layers = tuple(tuple(layer) for layer in knowledge.layers.values())
    return (symptoms, tuple(tuple(q) for q in knowledge.flow), tuple(tuple(step) for step in knowledge.checklist),
            tuple(tuple(f) for f in knowledge.support_fields), layers,
            _pairs(knowledge.actions), tuple(knowledge.status), knowledge._clock_numbers,
            _pairs(knowledge.checklist_notes), _pairs(knowledge.checklist_for), _pairs(knowledge.support_notes),
            classifier, knowledge.source, knowledge.checked)


def from_literal(data: tuple[Any, ...]) -> Knowledge:
    """:class:`Knowledge` from :func:`to_literal`'s tuples (already checked when they were made)."""
    (symptoms, flow, checklist, fields, layers, actions, status, clock, checklist_notes, checklist_for,
     support_notes, classifier) = data[:12]

    def patterns(items: tuple[tuple[Any, ...], ...]) -> tuple[Pattern, ...]:
        return tuple(Pattern(*item) for item in items)

    built = [Symptom(id_, title, cause, layer, tuple(Step(*step) for step in steps), phrases, patterns(regexes),
                     codes, excludes, catchall, frozenset(generic), patterns(generic_regexes), advice)
             for (id_, title, cause, layer, steps, phrases, regexes, codes, excludes, catchall, generic,
                  generic_regexes, advice) in symptoms]
    possible_below, generic_factor, window, context_words, filler_words, evidence, foreign = classifier
    return Knowledge(
        symptoms=built, flow=[Question(*q) for q in flow], checklist=[ChecklistStep(*step) for step in checklist],
        support_fields=[SupportField(*f) for f in fields], layers={layer[0]: Layer(*layer) for layer in layers},
        actions=dict(actions), status=StatusSettings(*status), clock=tuple(clock),
        checklist_notes=dict(checklist_notes), checklist_for=dict(checklist_for), support_notes=dict(support_notes),
        classifier=ClassifierSettings(possible_below, generic_factor, window, frozenset(context_words),
                                      frozenset(filler_words), evidence, foreign),
        source=data[12], checked=data[13])


def compiled_source(knowledge: Knowledge, digest: str) -> str:
    """The text of the compiled-knowledge module (:data:`COMPILED_MODULE`)."""
    return (f'"""The triage knowledge of data/triage.toml, checked and normalised: generated by\n'
            f'liferaft.core.diagnose.knowledge, rebuilt whenever the data file or that code changes. Do not edit.'
            f'"""\n\n# ruff: noqa\n'
            f"DIGEST = {digest!r}\nDATA = {to_literal(knowledge)!r}\n")


def _from_module(digest: str) -> Knowledge | None:
    try:
        from liferaft.core.diagnose import _triage_compiled as module  # type: ignore[attr-defined]
    except Exception:  # not generated yet, or damaged
        return None
    if getattr(module, "DIGEST", None) != digest:
        return None
    try:
        return from_literal(module.DATA)
    except Exception:
        return None


def _user_cache(digest: str) -> Path | None:
    try:
        import platformdirs

        folder = platformdirs.user_cache_path("liferaft", appauthor=False) / "triage"
    except Exception:  # the cache only saves time
        return None
    return folder / f"knowledge-{digest}.marshal"


def _save_compiled(knowledge: Knowledge, digest: str) -> None:
    """Keep the checked knowledge for the next run in the user's cache folder. The package's own module is never
    written at run time (an installed package is pip's): it is made by :func:`write_module`, and a test checks
    that the committed one matches the data file."""
    from liferaft.core import storage

    cached = _user_cache(digest)
    if cached is None:
        return
    import marshal

    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        storage.write_bytes(cached, marshal.dumps(to_literal(knowledge)))
        for stale in cached.parent.glob("knowledge-*"):  # older data or code: never read again
            if stale != cached:
                stale.unlink(missing_ok=True)
    except (OSError, ValueError):
        pass


def write_module() -> Path:
    """Write the generated module beside this one from the data file (after editing triage.toml, knowledge.py or
    classify.py: ``python -m liferaft.core.diagnose.knowledge``)."""
    from liferaft.core import storage

    raw = _bundled_bytes()
    digest = knowledge_digest(raw)
    if digest is None:
        raise RuntimeError("the knowledge's digest cannot be computed")
    target = Path(_HERE) / f"{COMPILED_MODULE}.py"
    storage.write_bytes(target, compiled_source(read_knowledge_text(raw.decode("utf-8")), digest).encode("utf-8"))
    return target


@cache
def load_knowledge() -> Knowledge:
    """The bundled triage knowledge, read and checked once per process.

    Parsing the TOML, normalising its phrases and checking its patterns takes ~30 ms; the result is kept as a
    generated module beside this one (:data:`COMPILED_MODULE`), keyed by the data file's bytes and this package's
    code, and read back in ~1 ms. Patterns are compiled when a text could match them.
    """
    raw = _bundled_bytes()
    digest = None if os.environ.get(NO_CACHE_ENV) else knowledge_digest(raw)
    if digest is not None:
        knowledge = _from_module(digest)
        if knowledge is not None:
            return knowledge
        cached = _user_cache(digest)
        if cached is not None and cached.is_file():
            import marshal

            try:
                return from_literal(marshal.loads(cached.read_bytes()))
            except Exception:  # damaged: build it again
                pass
    knowledge = read_knowledge_text(raw.decode("utf-8"))
    if digest is not None:
        _save_compiled(knowledge, digest)
    return knowledge


def status_url(settings_other: Mapping[str, Any] | None = None, knowledge: Knowledge | None = None) -> str:
    """The status-page URL: ``[diagnose] status_url`` from the user's config when set, else the bundled one."""
    knowledge = knowledge or load_knowledge()
    table = (settings_other or {}).get("diagnose")
    if isinstance(table, Mapping):
        url = table.get("status_url")
        if isinstance(url, str) and url.strip():
            return url.strip()
    return knowledge.status.url


if __name__ == "__main__":
    print(f"wrote {write_module()}")

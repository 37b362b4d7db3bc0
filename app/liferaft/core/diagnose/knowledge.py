"""What Liferaft knows about failures, read from ``core/data/triage.toml`` and checked on load.

The symptoms (title, cause, layer, next steps, identifying phrases), the yes/no decision flow SESSION → FILE →
OUTAGE → FIX, the quick-fix checklist and the fields of a support request are data, not code: the vendor's
wording changes, and so do its figures. :func:`load_knowledge` reads and validates them once.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from liferaft.core.diagnose.clock import DATA_FILE, ClockSettings, clock_settings

#: The layers, in the order the decision flow visits them.
LAYERS = ("SESSION", "FILE", "OUTAGE", "FIX")

#: The file the knowledge is read from, inside the ``liferaft.core`` package.


class KnowledgeError(ValueError):
    """The triage data is malformed: a bug in the data file, reported with where it is."""


@dataclass(frozen=True, slots=True)
class Step:
    """One next step. ``action`` names something Liferaft can do for it (a key of :attr:`Knowledge.actions`)."""

    text: str
    action: str | None = None


@dataclass(frozen=True, slots=True)
class Symptom:
    id: str
    title: str
    cause: str
    layer: str
    steps: tuple[Step, ...]
    phrases: tuple[str, ...] = ()
    """Identifying phrases, already normalised (see :func:`liferaft.core.diagnose.classify.normalise`)."""
    patterns: tuple[re.Pattern[str], ...] = ()
    """Regular expressions over the normalised text."""
    status_codes: tuple[int, ...] = ()
    """HTTP status codes that identify it, matched only where they read as a status (``error 429``)."""
    excludes: tuple[str, ...] = ()
    """Normalised phrases that, when present, mean the plain phrases probably speak of something else."""
    catchall: bool = False
    """The "something else" symptom the flow ends on; the classifier never offers it."""
    generic: frozenset[str] = frozenset()
    """Phrases (also in :attr:`phrases`) that turn up in everyday text too: they need context to count fully."""
    generic_patterns: tuple[re.Pattern[str], ...] = ()
    """Patterns that, like :attr:`generic` phrases, need context to count fully."""
    advice: tuple[str, ...] = ()
    """What the chat tells you to do ("please upload the file again"): it only nudges an existing match."""

    @property
    def next_steps(self) -> list[str]:
        return [step.text for step in self.steps]


@dataclass(frozen=True, slots=True)
class Question:
    """One yes/no question of the decision flow; ``yes``/``no`` name the next question or a symptom."""

    id: str
    text: str
    layer: str
    yes: str
    no: str


@dataclass(frozen=True, slots=True)
class ChecklistStep:
    id: str
    text: str
    action: str | None = None


@dataclass(frozen=True, slots=True)
class SupportField:
    id: str
    label: str
    source: str
    """``auto`` (Liferaft fills it in), ``config`` (``[diagnose]`` in config.toml), ``user`` or ``paste``."""
    required: bool = False
    help: str = ""
    choices: tuple[str, ...] = ()
    config_key: str | None = None


@dataclass(frozen=True, slots=True)
class Layer:
    id: str
    title: str
    question: str
    about: str


@dataclass(frozen=True, slots=True)
class StatusSettings:
    url: str
    page: str
    timeout: float
    components: tuple[str, ...]
    """Lower-case words: a status-page component whose name holds one of them matters to a data-analysis chat."""


@dataclass(frozen=True, slots=True)
class ClassifierSettings:
    possible_below: float = 0.5
    """A match scoring below this is only "possible"."""
    generic_factor: float = 0.4
    """What a generic phrase counts for, as a share of its weight, when nothing around it says it is ours."""
    context_window: int = 8
    context_words: frozenset[str] = frozenset()
    filler_words: frozenset[str] = frozenset()
    evidence_phrases: tuple[str, ...] = ()
    """Normalised phrases that say a text comes from a ChatGPT chat ("chatgpt", "mnt data", "code interpreter")."""
    foreign_phrases: tuple[str, ...] = ()
    """Normalised phrases naming another product ("flask", "jupyter", "online banking"): they rule a match out."""


@dataclass(frozen=True, slots=True)
class Knowledge:
    symptoms: list[Symptom]
    flow: list[Question]
    checklist: list[ChecklistStep]
    support_fields: list[SupportField]
    layers: dict[str, Layer]
    actions: dict[str, str]
    """Action id → label, e.g. ``copy_prompt`` → "Copy the rerun prompt"."""
    status: StatusSettings
    clock: ClockSettings
    checklist_notes: dict[str, str] = field(default_factory=dict)
    checklist_for: dict[str, str] = field(default_factory=dict)
    """Symptom id → where it sits in the checklist (shown when the checklist is opened for that symptom)."""
    support_notes: dict[str, str] = field(default_factory=dict)
    classifier: ClassifierSettings = field(default_factory=ClassifierSettings)
    source: str = ""
    checked: str = ""

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

    def compiled(key: str) -> list[re.Pattern[str]]:
        patterns = []
        for pattern in _strings(table, key, where):
            try:
                patterns.append(re.compile(pattern))
            except re.error as exc:
                raise KnowledgeError(f"{where}: pattern {pattern!r} is not a valid regular expression: {exc}") from None
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


#: Bump when what is cached changes shape in a way the source files' bytes would not show.
_CACHE_FORMAT = b"1"
#: Set to a non-empty value to read the data file every time (no cache read or written).
NO_CACHE_ENV = "LIFERAFT_NO_KNOWLEDGE_CACHE"


def _bundled_bytes() -> bytes:
    path = Path(__file__).resolve().parent.parent / DATA_FILE
    try:
        return path.read_bytes()
    except OSError:  # installed in a zip: read it through the package
        from importlib import resources

        return resources.files("liferaft.core").joinpath(DATA_FILE).read_bytes()


def _cache_file(raw: bytes) -> Path | None:
    """Where the checked knowledge for these exact bytes (and this exact code) is kept between runs."""
    if os.environ.get(NO_CACHE_ENV):
        return None
    import hashlib

    digest = hashlib.blake2b(_CACHE_FORMAT, digest_size=16)
    digest.update(raw)
    here = Path(__file__).resolve().parent
    for name in ("knowledge.py", "classify.py", "clock.py"):  # the classes and the normalising it depends on
        try:
            digest.update((here / name).read_bytes())
        except OSError:
            return None
    try:
        import platformdirs

        folder = platformdirs.user_cache_path("liferaft", appauthor=False) / "triage"
    except Exception:  # the cache only saves time
        return None
    return folder / f"knowledge-{digest.hexdigest()}.pickle"


@cache
def load_knowledge() -> Knowledge:
    """The bundled triage knowledge, read and checked once per process.

    Parsing the TOML, normalising its phrases and compiling its patterns takes ~20 ms; the result is kept in the
    user's cache folder, keyed by the data file's bytes and this package's code, and read back in ~5 ms.
    """
    import pickle

    raw = _bundled_bytes()
    cached = _cache_file(raw)
    if cached is not None:
        try:
            knowledge = pickle.loads(cached.read_bytes())
            if isinstance(knowledge, Knowledge):
                return knowledge
        except Exception:  # missing, stale or damaged: build it again
            pass
    knowledge = read_knowledge_text(raw.decode("utf-8"))
    if cached is not None:
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            temporary = cached.with_name(f"{cached.name}.{os.getpid()}.tmp")
            temporary.write_bytes(pickle.dumps(knowledge, protocol=pickle.HIGHEST_PROTOCOL))
            os.replace(temporary, cached)
            for stale in cached.parent.glob("knowledge-*.pickle"):  # older data or code: never read again
                if stale != cached:
                    stale.unlink(missing_ok=True)
        except OSError:
            pass
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

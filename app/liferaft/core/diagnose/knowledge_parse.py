"""Reading the triage data file into :class:`~liferaft.core.diagnose.knowledge_model.Knowledge`, every table
checked (a bug in the data file is a :class:`KnowledgeError` that says where) and every phrase normalised.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from liferaft.core.diagnose.knowledge_model import (
    LAYERS,
    ChecklistStep,
    ClassifierSettings,
    Knowledge,
    KnowledgeError,
    Layer,
    Pattern,
    Question,
    StatusSettings,
    Step,
    SupportField,
    Symptom,
)
from liferaft.core.diagnose.normalising import normalise

if TYPE_CHECKING:
    from liferaft.core.diagnose.clock import ClockSettings


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
    actions = _actions(data)
    layers = _layers(data)
    symptoms = _symptoms(data, actions)
    flow = _flow(data, symptoms)
    checklist = _checklist(data, actions)
    support_fields = _support_fields(data)
    status = _status(data)
    clock = _clock(data)
    checklist_for = _notes(data, "checklist_for")
    strays = sorted(set(checklist_for) - {symptom.id for symptom in symptoms})
    if strays:
        raise KnowledgeError(f"[checklist_for]: {', '.join(strays)} is not a symptom")

    return Knowledge(
        symptoms=symptoms, flow=flow, checklist=checklist, support_fields=support_fields, layers=layers,
        actions=actions, status=status, clock=clock, checklist_notes=_notes(data, "checklist_notes"),
        checklist_for=checklist_for,
        support_notes=_notes(data, "support_notes"), classifier=_classifier(data), source=str(data.get("source", "")),
        checked=str(data.get("checked", "")),
    )


def _actions(data: Mapping[str, Any]) -> dict[str, str]:
    actions_table = data.get("actions", {})
    if not isinstance(actions_table, Mapping) or not all(isinstance(v, str) for v in actions_table.values()):
        raise KnowledgeError("[actions] must map action ids to labels")
    return dict(actions_table)


def _layers(data: Mapping[str, Any]) -> dict[str, Layer]:
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
    return layers


def _symptoms(data: Mapping[str, Any], actions: Mapping[str, str]) -> list[Symptom]:
    symptoms = [_symptom(table, index, actions) for index, table in enumerate(_table_list(data, "symptoms"))]
    if not symptoms:
        raise KnowledgeError("no [[symptoms]]")
    _unique([symptom.id for symptom in symptoms], "symptom")
    if sum(symptom.catchall for symptom in symptoms) > 1:
        raise KnowledgeError("more than one symptom is marked catchall")
    return symptoms


def _flow(data: Mapping[str, Any], symptoms: list[Symptom]) -> list[Question]:
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
    return flow


def _checklist(data: Mapping[str, Any], actions: Mapping[str, str]) -> list[ChecklistStep]:
    checklist = []
    for index, table in enumerate(_table_list(data, "checklist")):
        where = f"checklist[{index}]"
        checklist.append(ChecklistStep(_text(table, "id", where), _text(table, "text", where),
                                       _action(table, where, actions)))
    if not checklist:
        raise KnowledgeError("no [[checklist]] steps")
    _unique([step.id for step in checklist], "checklist step")
    return checklist


def _support_fields(data: Mapping[str, Any]) -> list[SupportField]:
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
    return support_fields


def _status(data: Mapping[str, Any]) -> StatusSettings:
    status_table = data.get("status", {})
    if not isinstance(status_table, Mapping):
        raise KnowledgeError("[status] must be a table")
    timeout = status_table.get("timeout_seconds", 3)
    if not isinstance(timeout, int | float) or isinstance(timeout, bool) or not 0 < timeout <= 60:
        raise KnowledgeError("status.timeout_seconds must be a number of seconds between 0 and 60")
    return StatusSettings(
        url=_text(status_table, "url", "status"), page=_text(status_table, "page", "status", required=False),
        timeout=float(timeout),
        components=tuple(word.lower() for word in _strings(status_table, "components", "status")),
    )


def _clock(data: Mapping[str, Any]) -> ClockSettings:
    from liferaft.core.diagnose.clock import clock_settings

    try:
        return clock_settings(data)
    except ValueError as exc:
        raise KnowledgeError(str(exc)) from None


def _notes(data: Mapping[str, Any], key: str) -> dict[str, str]:
    table = data.get(key, {})
    if not isinstance(table, Mapping) or not all(isinstance(value, str) for value in table.values()):
        raise KnowledgeError(f"[{key}] must map names to text")
    return dict(table)


def read_knowledge_text(text: str) -> Knowledge:
    import tomllib

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise KnowledgeError(f"not valid TOML: {exc}") from None
    return parse_knowledge(data)

"""What Liferaft knows about failures, read from ``core/data/triage.toml`` and checked on load.

The symptoms (title, cause, layer, next steps, identifying phrases), the yes/no decision flow SESSION → FILE →
OUTAGE → FIX, the quick-fix checklist and the fields of a support request are data, not code: the vendor's
wording changes, and so do its figures. :func:`load_knowledge` reads and validates them once.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from liferaft.core.diagnose.knowledge_model import LAYERS as LAYERS
from liferaft.core.diagnose.knowledge_model import (
    ChecklistStep,
    ClassifierSettings,
    Knowledge,
    Layer,
    Pattern,
    Question,
    StatusSettings,
    Step,
    SupportField,
    Symptom,
)
from liferaft.core.diagnose.knowledge_model import KnowledgeError as KnowledgeError
from liferaft.core.diagnose.knowledge_model import pattern_anchors as pattern_anchors
from liferaft.core.diagnose.knowledge_model import pattern_requires as pattern_requires
from liferaft.core.diagnose.knowledge_parse import parse_knowledge as parse_knowledge
from liferaft.core.diagnose.knowledge_parse import read_knowledge_text

#: The file the knowledge is read from, inside the ``liferaft.core`` package (the same as ``clock.DATA_FILE``).
DATA_FILE = "data/triage.toml"


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
    it (this module, the model, the parser and :func:`~liferaft.core.diagnose.normalising.normalise`). None when
    the code cannot be read."""
    import zlib

    crc = zlib.crc32(raw)
    for name in ("knowledge.py", "knowledge_model.py", "knowledge_parse.py", "normalising.py"):
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
        from liferaft.core.diagnose import _triage_compiled as module
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
    """Write the generated module beside this one from the data file (after editing triage.toml or the modules
    :func:`knowledge_digest` reads: ``python -m liferaft.core.diagnose.knowledge``)."""
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

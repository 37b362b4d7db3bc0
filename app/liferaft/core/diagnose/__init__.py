"""Symptom diagnosis: the triage knowledge, the error-message classifier and the status-page check.

The session clock (``clock``), the checklist (``checklist``) and the support report (``support``) live beside
them in this package. The status check imports its network modules only when it runs.
"""

from __future__ import annotations

import importlib
from typing import Any

#: Where each name lives. Loaded on first use: the workbench's first frame needs only the clock, not the
#: classifier (its regular expressions cost ~10 ms to import). The classifier function itself is imported from
#: ``liferaft.core.diagnose.classify``: a lazy name cannot be the same as a submodule's.
_HOMES = {
    "Match": "classify", "normalise": "normalising",
    "LAYERS": "knowledge", "ChecklistStep": "knowledge", "Knowledge": "knowledge", "KnowledgeError": "knowledge",
    "Question": "knowledge", "Step": "knowledge", "SupportField": "knowledge", "Symptom": "knowledge",
    "load_knowledge": "knowledge",
    "StatusReport": "status_page", "check_status": "status_page",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)

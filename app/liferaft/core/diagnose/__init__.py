"""Symptom diagnosis: the triage knowledge, the error-message classifier and the status-page check.

The session clock (``clock``), the checklist (``checklist``) and the support report (``support``) live beside
them in this package. The status check imports its network modules only when it runs.
"""

from __future__ import annotations

from liferaft.core.diagnose.classify import Match, classify, normalise
from liferaft.core.diagnose.knowledge import (
    LAYERS,
    ChecklistStep,
    Knowledge,
    KnowledgeError,
    Question,
    Step,
    SupportField,
    Symptom,
    load_knowledge,
)
from liferaft.core.diagnose.status_page import StatusReport, check_status

__all__ = [
    "LAYERS", "ChecklistStep", "Knowledge", "KnowledgeError", "Match", "Question", "StatusReport", "Step",
    "SupportField", "Symptom", "check_status", "classify", "load_knowledge", "normalise",
]

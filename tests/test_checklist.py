"""The quick-fix checklist's ticks: saved per project with their time, in the data file's order, damaged files
kept aside."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from liferaft.core.diagnose.checklist import checklist_path, clear_ticks, load_checklist, set_tick
from liferaft.core.diagnose.knowledge import load_knowledge

NOW = 1772452800.0


def step_ids() -> list[str]:
    return [step.id for step in load_knowledge().checklist]


def test_the_data_has_seven_steps_lowest_effort_first() -> None:
    steps = load_knowledge().checklist
    assert len(steps) == 7
    assert "prompt" in steps[0].text.lower() and "status page" in steps[-1].text.lower()


def test_a_tick_and_its_time_persist(tmp_path: Path) -> None:
    ids = step_ids()
    state = set_tick(tmp_path, ids[0], True, NOW)
    assert state.is_ticked(ids[0]) and state.ticked_at(ids[0]) == NOW
    again = load_checklist(tmp_path)  # as after a restart
    assert again.is_ticked(ids[0]) and again.ticked_at(ids[0]) == NOW
    assert not again.is_ticked(ids[1]) and again.ticked_at(ids[1]) is None
    assert again.done(ids) == 1 and again.next_step(ids) == ids[1]


def test_unticking_keeps_the_time_it_changed_but_counts_as_not_done(tmp_path: Path) -> None:
    ids = step_ids()
    set_tick(tmp_path, ids[2], True, NOW)
    state = set_tick(tmp_path, ids[2], False, NOW + 60)
    assert not state.is_ticked(ids[2]) and state.ticked_at(ids[2]) is None
    saved = json.loads(checklist_path(tmp_path).read_text())["ticks"][ids[2]]
    assert saved == {"ticked": False, "time": NOW + 60}


def test_the_next_step_is_the_first_not_done_in_order(tmp_path: Path) -> None:
    ids = step_ids()
    for step_id in (ids[0], ids[1], ids[3]):
        set_tick(tmp_path, step_id, True, NOW)
    state = load_checklist(tmp_path)
    assert state.next_step(ids) == ids[2] and state.done(ids) == 3
    for step_id in ids:
        state = set_tick(tmp_path, step_id, True, NOW)
    assert state.next_step(ids) is None and state.done(ids) == 7


def test_clearing_starts_the_list_again_and_keeps_unknown_steps(tmp_path: Path) -> None:
    ids = step_ids()
    set_tick(tmp_path, ids[0], True, NOW)
    set_tick(tmp_path, "a_step_from_a_newer_liferaft", True, NOW)
    state = clear_ticks(tmp_path, ids, NOW + 5)
    assert state.done(ids) == 0
    assert load_checklist(tmp_path).is_ticked("a_step_from_a_newer_liferaft")


@pytest.mark.parametrize("content", [b"{oops", b'{"version": 7, "ticks": {}}'])
def test_an_unusable_file_is_kept_aside_and_reported(tmp_path: Path, content: bytes) -> None:
    path = checklist_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    state = load_checklist(tmp_path)
    assert state.ticks == {} and len(state.warnings) == 1 and "kept as .liferaft/checklist.json." in state.warnings[0]
    assert [p.read_bytes() for p in path.parent.iterdir() if p.name.startswith("checklist.json.")] == [content]
    set_tick(tmp_path, step_ids()[0], True, NOW)
    assert load_checklist(tmp_path).done(step_ids()) == 1


def test_bad_entries_are_ignored(tmp_path: Path) -> None:
    path = checklist_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"version": 1, "ticks": {
        "reload": {"ticked": True, "time": NOW}, "a": {"ticked": "yes", "time": NOW}, "b": {"ticked": True},
        "c": [], "d": {"ticked": True, "time": True}}}))
    assert list(load_checklist(tmp_path).ticks) == ["reload"]


def test_a_checklist_that_cannot_be_saved_says_so(tmp_path: Path) -> None:
    checklist_path(tmp_path).mkdir(parents=True)  # a folder in the file's place
    assert not load_checklist(tmp_path).writable
    with pytest.raises(OSError):
        set_tick(tmp_path, "reload", True, NOW)
    assert checklist_path(tmp_path).is_dir()


NEW_SYMPTOMS = ("chat_timed_out", "analysis_error", "at_capacity", "message_too_long", "file_unreadable",
                "unusual_activity", "country_blocked", "desktop_link")


@pytest.mark.parametrize("symptom_id", NEW_SYMPTOMS)
def test_each_new_symptom_says_where_it_sits_in_the_checklist(symptom_id: str) -> None:
    knowledge = load_knowledge()
    note = knowledge.checklist_for[symptom_id]
    assert knowledge.is_symptom(symptom_id) and "step" in note.lower()
    numbers = [int(n) for n in re.findall(r"steps? (\d)", note, re.IGNORECASE)]
    assert numbers and all(1 <= n <= len(knowledge.checklist) for n in numbers)


def test_a_checklist_note_for_an_unknown_symptom_is_a_data_error() -> None:
    from importlib import resources

    from liferaft.core.diagnose.knowledge import KnowledgeError, read_knowledge_text

    text = resources.files("liferaft.core").joinpath("data/triage.toml").read_text(encoding="utf-8")
    with pytest.raises(KnowledgeError, match="not a symptom"):
        read_knowledge_text(text.replace("[checklist_for]\n", "[checklist_for]\nno_such = \"x\"\n", 1))

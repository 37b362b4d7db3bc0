"""No vendor schema exists: random deletions of keys (and values of the wrong type) never crash the extraction,
and the script written from what is left always compiles."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from liferaft.core.recover.extract import extract
from liferaft.core.recover.write import PathMap, render_notebook, render_script
from tests import recover_fixtures as fx

CONVERSATIONS = [fx.era_2023(), fx.era_2025_text(), fx.branched_conversation(), fx.sales_conversation(),
                 fx.dangling_conversation()]
JUNK = ["delete", None, 0, -1.5, "", "x\x00y", [], {}, [None], {"k": None}, True]


def _slots(value: Any, found: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    """Every (container, key) in ``value``, depth first."""
    if isinstance(value, dict):
        for key in list(value):
            found.append((value, key))
            _slots(value[key], found)
    elif isinstance(value, list):
        for index in range(len(value)):
            found.append((value, index))
            _slots(value[index], found)
    return found


def _mutated(conversation: dict[str, Any], picks: list[tuple[int, int]]) -> dict[str, Any]:
    conv = copy.deepcopy(conversation)
    for position, junk in picks:
        slots = _slots(conv, [])
        if not slots:
            break
        container, key = slots[position % len(slots)]
        replacement = JUNK[junk % len(JUNK)]
        if replacement == "delete":
            if isinstance(container, dict):
                container.pop(key, None)
            elif key < len(container):
                container.pop(key)
        else:
            container[key] = copy.deepcopy(replacement)
    return conv


@given(which=st.integers(0, len(CONVERSATIONS) - 1),
       picks=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 100)), min_size=1, max_size=12),
       all_branches=st.booleans())
def test_random_damage_never_crashes(which: int, picks: list[tuple[int, int]], all_branches: bool) -> None:
    conv = extract(_mutated(CONVERSATIONS[which], picks), all_branches=all_branches)
    paths = PathMap({upload.name: None for upload in conv.uploads})
    script = render_script(conv, paths, source_rel="SOURCE", output_rel="OUTPUT", depth=2, export_name="x.zip")
    compile(script, "recovered.py", "exec")
    render_notebook(conv, paths, source_rel="SOURCE", output_rel="OUTPUT", depth=2)
    for cell in conv.cells:
        assert cell.status in ("success", "failed", "cancelled", "tool_error", "unknown", "no_result")

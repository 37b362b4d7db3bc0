"""Benchmark: importing real chat replies into the restart note (issue #14, item 9).

Runs the importer over the labelled corpus of real replies in tests/data/real/note_replies (see SOURCES and
labels.toml there) and reports how often it does what the label says, and where the reply's lines land:

    python tests/bench/run.py note-import
    python tests/bench/note_import_bench.py          # the same figures, plus one line per reply

Figures: replies accepted as labelled / replies labelled "accepted" (and the sections each label names received
their text); look-alikes refused / replies labelled "refused"; the share of the accepted replies' lines that landed
in Notes rather than in a named section (a measure of how much of a real handoff the importer recognises).
"""

from __future__ import annotations

import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

CORPUS = HERE.parent / "data" / "real" / "note_replies"


@dataclass
class CorpusResult:
    accepted_right: int = 0
    accepted_total: int = 0
    refused_right: int = 0
    refused_total: int = 0
    lands_right: int = 0
    lands_total: int = 0
    notes_lines: int = 0
    section_lines: int = 0
    seconds: float = 0.0
    rows: list[str] = field(default_factory=list)


def measure(corpus: Path = CORPUS) -> CorpusResult:
    """Run the importer over every labelled reply and count what went as labelled."""
    from liferaft.core.restart_note import merge_reply, new_note

    labels = tomllib.loads((corpus / "labels.toml").read_text(encoding="utf-8"))
    out = CorpusResult()
    start = time.perf_counter()
    for name in sorted(labels):
        label = labels[name]
        reply = (corpus / f"{name}.md").read_text(encoding="utf-8")
        result = merge_reply(new_note("x"), reply, "2026-01-01")
        got = "refused" if result.refused else "accepted"
        missed = [
            f"{key}:{fragment!r}"
            for key, fragment in label.get("lands", [])
            if got == "accepted" and fragment not in result.note.get(key)
        ]
        missed += [
            f"not {key}:{fragment!r}"
            for key, fragment in label.get("absent", [])
            if got == "accepted" and fragment in result.note.get(key)
        ]
        if label["expected"] == "accepted":
            out.accepted_total += 1
            out.accepted_right += got == "accepted"
            out.lands_total += len(label.get("lands", [])) + len(label.get("absent", []))
            out.lands_right += (
                len(label.get("lands", [])) + len(label.get("absent", [])) - len(missed) if got == "accepted" else 0
            )
            if got == "accepted":
                notes = result.lines.get("notes", 0)
                out.notes_lines += notes
                out.section_lines += sum(result.lines.values()) - notes
        else:
            out.refused_total += 1
            out.refused_right += got == "refused"
        verdict = "ok" if got == label["expected"] and not missed else "WRONG"
        where = ", ".join(f"{key} {count}" for key, count in result.lines.items()) or (result.refused or "")
        out.rows.append(
            f"{verdict:5} {name:34} {label['expected']:8} → {got:8} {where}"
            + (f"   missed: {'; '.join(missed)}" if missed else "")
        )
    out.seconds = time.perf_counter() - start
    return out


def bench_note_import(work: Path, repeat: int) -> list:
    """The corpus figures as benchmark rows: each counts the replies (or lines) the importer got wrong."""
    from run import Figure

    result = measure()
    lines = result.notes_lines + result.section_lines
    notes_share = 100 * result.notes_lines / lines if lines else 0.0
    return [
        Figure(
            f"note import: accepted as labelled {result.accepted_right}/{result.accepted_total}",
            result.accepted_total - result.accepted_right,
            result.accepted_total,
            0,
            unit=" wrong",
            floor_name="replies labelled accepted",
            limit=0,
        ),
        Figure(
            f"note import: sections as labelled {result.lands_right}/{result.lands_total}",
            result.lands_total - result.lands_right,
            result.lands_total,
            0,
            unit=" wrong",
            floor_name="section checks in the labels",
            limit=0,
        ),
        Figure(
            f"note import: look-alikes refused {result.refused_right}/{result.refused_total}",
            result.refused_total - result.refused_right,
            result.refused_total,
            0,
            unit=" wrong",
            floor_name="replies labelled refused",
            limit=0,
        ),
        Figure(
            f"note import: lines in Notes {result.notes_lines}/{lines}",
            notes_share,
            100.0,
            0,
            unit="%",
            floor_name=f"{result.section_lines} lines in named sections",
            limit=60.0,
        ),
    ]


if __name__ == "__main__":
    result = measure()
    print("\n".join(result.rows))
    lines = result.notes_lines + result.section_lines
    print(f"\naccepted as labelled: {result.accepted_right}/{result.accepted_total}")
    print(f"sections as labelled: {result.lands_right}/{result.lands_total}")
    print(f"look-alikes refused:  {result.refused_right}/{result.refused_total}")
    print(f"lines in Notes: {result.notes_lines}/{lines}; in named sections: {result.section_lines}/{lines}")
    print(f"({result.seconds * 1000:.0f} ms for {result.accepted_total + result.refused_total} replies)")

"""Benchmark: listing the conversations of a ~200 MB ChatGPT export (`liferaft import X --list --json`).

The floor is a plain `json.load` of the same conversations.json in its own process, measured in the same run.
Targets (issue #8): at most 0.5x the floor's time, and at most 150 MB peak memory for the whole process.

    python tests/bench/run.py export
"""

from __future__ import annotations

import json
import random
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from run import Figure, liferaft_command, run_measured  # noqa: E402

from recover_fixtures import Conversation, attachment  # noqa: E402

WORDS = ["revenue", "region", "month", "churn", "cohort", "median", "outlier", "pivot", "merge", "column",
         "filter", "season", "forecast", "café", "naïve", "—", "“quoted”", "📈", "margin", "spend", "channel",
         "baseline", "uplift", "variance", "sample", "weight"]


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words))


def _conversation(rng: random.Random, number: int) -> dict:
    """One conversation shaped like a real data-analysis chat: prompts, cells, outputs, prose, metadata."""
    model = rng.choice(["gpt-4o", "gpt-5-thinking", "gpt-4-code-interpreter", "gpt-5-2-thinking"])
    c = Conversation(f"6{number:07d}-aaaa-4bbb-8ccc-{number:012d}", f"Analysis {number}: {_text(rng, 4)}",
                     model=model, start=1_700_000_000.0 + number * 3600.0)
    c.context(_text(rng, 40))
    style = "text" if model.startswith("gpt-5") else "code"
    for turn in range(rng.randint(3, 9)):
        uploads = [attachment(f"data_{number}_{turn}.csv", rng.randint(1000, 10**7))] if turn == 0 else None
        c.user(_text(rng, rng.randint(10, 120)), attachments=uploads)
        for cell in range(rng.randint(1, 4)):
            code = "\n".join(f"df_{cell} = df.groupby('{rng.choice(WORDS)}')['x'].sum()  # {_text(rng, 6)}"
                             for _ in range(rng.randint(3, 25)))
            c.code(code + f"\ndf_{cell}.to_csv('/mnt/data/out_{number}_{turn}_{cell}.csv')", style=style)
            output = "\n".join(f"{rng.random():.6f}  {_text(rng, 5)}" for _ in range(rng.randint(2, 40)))
            if rng.random() < 0.08:
                c.output(exception=("KeyError", "'missing'"), status="failed_with_in_kernel_exception")
            else:
                c.output(output, final=output[:400])
        message = c.say(_text(rng, rng.randint(40, 300))
                        + f" [Download](sandbox:/mnt/data/out_{number}_{turn}_0.csv)")
        c.mapping[message]["message"]["metadata"].update(
            {"citations": [], "content_references": [], "finish_details": {"type": "stop", "stop_tokens": [200002]},
             "is_complete": True, "request_id": f"req-{number}-{turn}", "message_type": "next", "timestamp_": "abs"})
    return c.build()


def generate_export(path: Path, target_bytes: int = 200_000_000, seed: int = 8) -> Path:
    """Write a conversations.json of about `target_bytes` (one long line, like the real export)."""
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    written, number = 0, 0
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as out:
        out.write("[")
        while written < target_bytes:
            text = json.dumps(_conversation(rng, number), ensure_ascii=False)
            out.write((", " if number else "") + text)
            written += len(text.encode("utf-8")) + 2
            number += 1
        out.write("]")
    tmp.replace(path)
    return path


def bench_export(work: Path, repeat: int) -> list[Figure]:
    """`liferaft import EXPORT --list --json` against `json.load` of the same file, time and peak memory."""
    export = work / "export" / "conversations.json"
    if not export.exists():
        generate_export(export)
    floor = [sys.executable, "-c", "import json, sys; json.load(open(sys.argv[1], 'rb'))", str(export)]
    liferaft = [*liferaft_command(), "import", str(export), "--list", "--json"]
    run_measured(floor)  # warm-up: the page cache, compiled modules
    run_measured(liferaft)
    times, memories, floors, floor_memories = [], [], [], []
    for _ in range(repeat):
        elapsed, peak = run_measured(liferaft)
        times.append(elapsed)
        memories.append(peak)
        floor_time, floor_peak = run_measured(floor)
        floors.append(floor_time)
        floor_memories.append(floor_peak)
    size_mb = export.stat().st_size / 1e6
    return [
        Figure(f"import --list, {size_mb:.0f} MB export", statistics.median(times), statistics.median(floors), 0.5,
               floor_name="json.load, same file"),
        Figure("import --list, peak memory (worst run)", max(memories), statistics.median(floor_memories), 0.0,
               unit="MB", floor_name="json.load, same file", limit=150),
    ]


if __name__ == "__main__":  # generate only: python tests/bench/export_bench.py OUT.json [MB]
    generate_export(Path(sys.argv[1]), int(float(sys.argv[2]) * 1e6) if len(sys.argv) > 2 else 200_000_000)

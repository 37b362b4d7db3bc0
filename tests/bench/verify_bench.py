"""Benchmark: verification targets (core/verify.py) and the prompt that gives them.

    python tests/bench/run.py verify

* the targets of a 1 GB CSV (rows, columns, the sum of each numeric column), computed from scratch in a fresh
  process: at most 2 s and 150 MB (floor, for scale: ``wc -l`` on the same file);
* the rerun prompt of the demo project with its outputs' descriptions and targets, gathered and assembled in
  process once the targets are cached (what the composer does after the first time): at most 150 ms.
"""

from __future__ import annotations

import math
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import Figure, big_csv, liferaft_command, run_measured  # noqa: E402

TARGETS_SCRIPT = ("import sys; from pathlib import Path; from liferaft.core.verify import table_targets; "
                  "t = table_targets(Path(sys.argv[1])); print(t.text()); sys.exit(1 if t.error else 0)")


def bench_verify(work: Path, repeat: int) -> list[Figure]:
    big = big_csv(work)
    command = [sys.executable, "-c", TARGETS_SCRIPT, str(big)]
    run_measured(command)  # warm-up: the page cache, compiled modules
    times, memories, floors = [], [], []
    for _ in range(repeat):
        elapsed, peak = run_measured(command)
        times.append(elapsed)
        memories.append(peak)
        floors.append(run_measured(["wc", "-l", str(big)])[0])
    baseline = run_measured([sys.executable, "-c", "import pyarrow.csv"])[1]
    figures = [
        Figure("verification targets, 1 GB CSV", statistics.median(times), statistics.median(floors), math.inf,
               floor_name="wc -l, same file", limit=2.0),
        Figure("verification targets, 1 GB CSV, peak memory", max(memories), baseline, math.inf, unit="MB",
               floor_name="python + import pyarrow.csv", limit=150),
    ]
    figures += _demo_prompt(work, repeat)
    return figures


def _demo_prompt(work: Path, repeat: int) -> list[Figure]:
    from liferaft.core import compose, outputs, verify
    from liferaft.core.project import open_project
    from liferaft.core.roles import Role
    from liferaft.core.uploads import plan_uploads

    demo = work / "demo"
    subprocess.run([*liferaft_command(), "demo", str(demo), "--no-open"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    project = open_project(demo)
    plan = plan_uploads(project.inventory, project.state.prepared, check=False)
    templates, _ = compose.load_templates()
    compose.gather(project.root, project.inventory, plan, name=project.name)  # computes and caches the targets
    times, own = [], []
    records = sorted(project.inventory.by_role()[Role.OUTPUT], key=lambda record: record.path)
    for _ in range(max(repeat, 5) * 3):
        started = time.perf_counter()
        context = compose.gather(project.root, project.inventory, plan, name=project.name, targets_wait=0)
        prompt = compose.assemble(templates["rerun"], context)
        times.append(time.perf_counter() - started)
        started = time.perf_counter()  # the part this adds: descriptions and cached targets, then assembly
        context.output_details = outputs.details(project.root, records, context.missing, context.note_text,
                                                 context.code, wait=0)
        compose.assemble(templates["rerun"], context)
        own.append(time.perf_counter() - started)
    assert "Numbers to check: 60 rows × 4 columns" in prompt.text, prompt.text
    assert all(verify.cached(demo / "OUTPUT" / name) for name in ("sales_2025_cleaned.csv", "revenue_by_region.png"))
    return [Figure("demo rerun prompt with targets (gather+assemble)", statistics.median(times), 0.15, 1.0,
                   floor_name="the 150 ms target", limit=0.15),
            Figure("demo outputs section (describe+targets+assemble)", statistics.median(own), 0.15, 1.0,
                   floor_name="the 150 ms target", limit=0.15)]

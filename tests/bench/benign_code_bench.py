"""Benchmark: the secret gate's false alarms on real, benign analysis files written outside this project.

    python tests/bench/run.py benign-code

The corpus is tests/data/real/benign_code/ (one file per entry of its SOURCES.md): notebooks, Python and R
scripts, SQL, dbt/Airflow YAML, shell scripts, INI/TOML configs, ``.env.example`` files, lockfiles, CSVs and
Markdown guides from public repositories, chosen because they look risky (keys read from the environment,
placeholders, hashes, base64 images) while holding no live credential. Files that did hold one were left out
(SOURCES.md names them), so every finding here is a false alarm. Each file is scanned whole by
:func:`liferaft.core.secrets.scan_text`; every finding is printed (file, line, kind, masked value, and the line
with the value replaced by the mask) so the rule behind it can be fixed. Figure (issue 15: benign redactions
≤ 3 %): the share of files with at least one finding.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import Figure  # noqa: E402

CORPUS = HERE.parent / "data" / "real" / "benign_code"


def corpus_files() -> list[Path]:
    return sorted(p for p in CORPUS.iterdir() if p.is_file() and p.name != "SOURCES.md")


def masked_line(text: str, finding) -> str:
    """The finding's line with its value replaced by the mask (a value spanning lines is cut at the line end)."""
    line_start = text.rfind("\n", 0, finding.start) + 1
    line_end = text.find("\n", finding.start)
    line_end = len(text) if line_end == -1 else line_end
    shown = text[line_start : finding.start] + finding.masked + text[min(finding.end, line_end) : line_end]
    return shown.strip()[:240]


def bench_benign_code(work: Path, repeat: int) -> list[Figure]:
    from liferaft.core.secrets import scan_text, warm_up

    warm_up()
    files = corpus_files()
    characters = 0
    flagged: list[str] = []
    kinds: Counter[str] = Counter()
    started = time.perf_counter()
    report: list[str] = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        characters += len(text)
        findings = scan_text(text)
        if findings:
            flagged.append(path.name)
        for finding in sorted(findings, key=lambda f: f.start):
            kinds[finding.kind] += 1
            report.append(
                f"  {path.name}:{finding.line}  [{finding.kind}]  {finding.masked}\n      {masked_line(text, finding)}"
            )
    elapsed = time.perf_counter() - started
    total = sum(kinds.values())
    print(
        f"(benign-code: {len(files)} files, {characters:,} characters, {total} findings in {len(flagged)} files, "
        f"scanned in {elapsed:.2f} s)"
    )
    for line in report:
        print(line)
    for kind, count in kinds.most_common():
        print(f"  {count:>3} × {kind}")
    share = 100 * len(flagged) / len(files) if files else float("inf")
    return [
        Figure(
            f"benign-code: files with a false alarm ({len(flagged)}/{len(files)})",
            share,
            100.0,
            float("inf"),
            unit="%",
            floor_name="all of them",
            limit=3.0,
        )
    ]

"""Benchmark: `liferaft diagnose` against a corpus of real texts, and its speed on a 1 MB paste.

    python tests/bench/run.py diagnose

The corpus is tests/data/real/diagnose/corpus.jsonl: one JSON object a line with the text, the symptom it shows
(``expected``; null for an unrelated text that only shares words with one), any other symptom that is a fair answer
too (``also``), the source address and who wrote it (``author``: chatgpt-ui, chatgpt-reply, user, other-product).
An answer is the first match that is not merely ``possible`` (what the command prints and exits 0 for).

Items marked ``"generic": true`` are bare generic interface strings ("Something went wrong", "File not found" and
their translations) with nothing in them that says they came from ChatGPT. Issue 18's rule for those is that the
right answer is "possible, if this came from ChatGPT", naming the symptom, with the no-match exit code: the bench
counts such an answer as right *as possible* and reports it on a row of its own. The headline top-1 counts sure
answers plus those; the strict figure (sure answers only) is printed beside it. Figures
(issue 18): top-1 accuracy on the positives (≥ 90 %), negatives matched (≤ 3 %), the calibration table (a
``likely`` answer right ≥ 90 %), the per-symptom confusion, and the whole process on a 1 MB paste against
``liferaft --version`` (≤ 1.3×).
"""

from __future__ import annotations

import json
import math
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import ENV, Figure, liferaft_command  # noqa: E402

CORPUS = HERE.parent / "data" / "real" / "diagnose" / "corpus.jsonl"


def load_corpus(path: Path = CORPUS) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def answer(text: str) -> tuple[str | None, str, str | None]:
    """The symptom `liferaft diagnose` answers with (None for no answer), its confidence, and the first
    "possible" symptom it prints when it gives no answer."""
    from liferaft.core.diagnose.classify import classify

    matches = classify(text, possible=True)
    sure = [match for match in matches if not match.possible]
    if sure:
        return sure[0].symptom.id, sure[0].confidence, None
    return None, "possible" if matches else "none", matches[0].symptom.id if matches else None


def evaluate(items: list[dict]) -> dict:
    rows = []
    for item in items:
        got, confidence, maybe = answer(item["text"])
        accepted = {item["expected"], *item.get("also", [])} if item["expected"] else {None}
        # A bare generic wording with no evidence: "possible, if this came from ChatGPT" naming the symptom is the
        # answer issue 18 asks for.
        as_possible = bool(item.get("generic")) and got is None and maybe in accepted
        rows.append({**item, "got": got, "confidence": confidence, "possible_got": maybe,
                     "sure_right": got in accepted, "as_possible": as_possible,
                     "right": got in accepted or as_possible})
    positives = [row for row in rows if row["expected"]]
    negatives = [row for row in rows if not row["expected"]]
    return {"rows": rows, "positives": positives, "negatives": negatives,
            "top1": sum(row["right"] for row in positives) / max(1, len(positives)),
            "top1_strict": sum(row["sure_right"] for row in positives) / max(1, len(positives)),
            "negatives_matched": sum(row["got"] is not None for row in negatives) / max(1, len(negatives))}


def report(result: dict) -> None:
    positives, negatives, rows = result["positives"], result["negatives"], result["rows"]
    print(f"(diagnose corpus: {len(positives)} positives, {len(negatives)} negatives)")
    generic = [row for row in positives if row.get("generic")]
    sure_right = sum(r["sure_right"] for r in positives)
    as_possible = sum(r["as_possible"] for r in positives)
    print(f"  top-1 on positives: {sum(r['right'] for r in positives)}/{len(positives)} = {result['top1']:.1%}"
          f"  ({sure_right} sure answers right + {as_possible} bare generic wordings answered \"possible\" with the "
          f"right symptom, as issue 18 asks)")
    print(f"    strict (sure answers only): {sure_right}/{len(positives)} = {result['top1_strict']:.1%}")
    print(f"    generic, no evidence (right answer is \"possible\"): {as_possible}/{len(generic)} as possible, "
          f"{sum(r['got'] is not None for r in generic)} answered as sure, "
          f"{sum(r['got'] is None and not r['as_possible'] for r in generic)} missed")
    print(f"  negatives matched: {sum(r['got'] is not None for r in negatives)}/{len(negatives)} "
          f"= {result['negatives_matched']:.1%}")
    by_author: dict[str, list[bool]] = defaultdict(list)
    for row in positives:
        by_author[row["author"]].append(row["right"])
    print("  by author: " + ", ".join(f"{author} {sum(v)}/{len(v)}" for author, v in sorted(by_author.items())))
    print("  calibration (answers given, by confidence):")
    print(f"    {'confidence':<10} {'answers':>7} {'right':>6} {'share':>7}")
    for level in ("certain", "likely"):
        given = [row for row in rows if row["got"] is not None and row["confidence"] == level]
        right = sum(row["right"] for row in given)
        share = f"{right / len(given):.1%}" if given else "-"
        print(f"    {level:<10} {len(given):>7} {right:>6} {share:>7}")
    held = [row for row in rows if row["got"] is None]
    print(f"    {'possible/none (no answer)':<26} {len(held)}: {sum(bool(r['expected']) for r in held)} positives, "
          f"{sum(not r['expected'] for r in held)} negatives")
    maybe = [row for row in held if row["possible_got"] is not None and row["expected"]]
    print(f"      of which \"possible\" on a positive: {len(maybe)}, naming the right symptom "
          f"{sum(row['possible_got'] in {row['expected'], *row.get('also', [])} for row in maybe)} "
          f"({sum(bool(row.get('generic')) for row in maybe)} of them bare generic wordings)")
    print("  per-symptom confusion (expected: right/total; wrong answers):")
    by_symptom: dict[str, list[dict]] = defaultdict(list)
    for row in positives:
        by_symptom[row["expected"]].append(row)
    for symptom, group in sorted(by_symptom.items()):
        wrong = Counter(str(row["got"]) for row in group if not row["right"])
        extra = ", ".join(f"{got} ×{count}" for got, count in wrong.most_common())
        maybe = sum(r["as_possible"] for r in group)
        extra = (f"({maybe} as possible) " if maybe else "") + extra
        print(f"    {symptom:<24} {sum(r['right'] for r in group):>3}/{len(group):<3} {extra}")
    wrong_negatives = Counter(row["got"] for row in negatives if row["got"] is not None)
    if wrong_negatives:
        print("    negatives answered as: " + ", ".join(f"{got} ×{n}" for got, n in wrong_negatives.most_common()))


def big_paste(path: Path, size: int = 1_000_000) -> None:
    """A 1 MB paste: a long Python session log with the error at its end."""
    line = "INFO 2026-03-02 10:14:03 step=transform rows=1234 cols=56 elapsed=0.42s ok\n"
    body = line * (size // len(line))
    body += "Error analyzing\nFileNotFoundError: [Errno 2] No such file or directory: '/mnt/data/sales.csv'\n"
    path.write_text(body, encoding="utf-8")


def _time(command: list[str], stdin_path: Path | None) -> float:
    start = time.perf_counter()
    with open(stdin_path or "/dev/null", "rb") as stdin:
        subprocess.run(command, stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    return time.perf_counter() - start


def bench_diagnose(work: Path, repeat: int) -> list[Figure]:
    result = evaluate(load_corpus())
    report(result)
    figures = [
        Figure("diagnose corpus: top-1 on positives", 1 - result["top1"], 0.10, math.inf, unit="",
               floor_name=f"misses; target ≤ 10 % (top-1 {result['top1']:.1%}, strict "
               f"{result['top1_strict']:.1%})", limit=0.10),
        Figure("diagnose corpus: negatives matched", result["negatives_matched"], 0.03, math.inf, unit="",
               floor_name="target ≤ 3 %", limit=0.03),
    ]
    likely = [row for row in result["rows"] if row["got"] is not None and row["confidence"] == "likely"]
    if likely:
        wrong = 1 - sum(row["right"] for row in likely) / len(likely)
        figures.append(Figure("diagnose corpus: 'likely' answers wrong", wrong, 0.10, math.inf, unit="",
                              floor_name="target ≤ 10 %", limit=0.10))
    work.mkdir(parents=True, exist_ok=True)
    paste = work / "paste.txt"
    big_paste(paste)
    diagnose = [*liferaft_command(), "diagnose", "-"]
    version = [*liferaft_command(), "--version"]
    _time(diagnose, paste)
    _time(version, None)
    times, floors = [], []
    for _ in range(repeat):
        times.append(_time(diagnose, paste))
        floors.append(_time(version, None))
    figures.append(Figure("diagnose 1 MB paste (whole process)", statistics.median(times), statistics.median(floors),
                          1.3, floor_name="liferaft --version"))
    return figures

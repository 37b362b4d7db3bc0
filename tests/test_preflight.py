"""Upload pre-flight (`liferaft check`): verdicts on the demo project, JSON, exit codes, and bad input."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from liferaft.core import preflight
from liferaft.core.demo import write_demo
from liferaft.core.vendor import upload_limits
from tests.conftest import write

#: A spreadsheet limit small enough that a 1 MB demo CSV is over it, to keep the test files small.
SMALL = dataclasses.replace(upload_limits(), spreadsheet_mb=0.5)


def digests(root: Path) -> dict[str, str]:
    return {str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(root.rglob("*")) if path.is_file() and not path.is_symlink()}


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("preflight") / "demo"
    write_demo(root, big_csv_mb=1)
    return root


@pytest.fixture(scope="session")
def report(demo: Path) -> preflight.CheckReport:
    return preflight.check_project(demo, limits=SMALL)


def by_path(report: preflight.CheckReport) -> dict[str, preflight.FileCheck]:
    return {check.path: check for check in report.files}


def codes(check: preflight.FileCheck) -> set[str]:
    return {problem.code for problem in check.problems}


def test_limits_come_from_the_vendor_data() -> None:
    limits = upload_limits()
    assert (limits.hard_limit_mb, limits.spreadsheet_mb, limits.image_mb) == (512, 50, 20)
    assert (limits.text_tokens, limits.files_per_window) == (2_000_000, 80)
    assert limits.source and limits.checked


def test_demo_verdicts(report: preflight.CheckReport) -> None:
    checks = by_path(report)
    assert set(checks) == {"SOURCE/transactions_2025.csv", "SOURCE/final2.csv", "SOURCE/customers_eu.csv",
                           "SOURCE/survey_responses.csv", "SOURCE/budget_2026.xlsx"}
    big = checks["SOURCE/transactions_2025.csv"]
    assert big.verdict == "block" and "too_big" in codes(big)
    assert "split it into" in next(p.fix for p in big.problems if p.code == "too_big")

    final2 = checks["SOURCE/final2.csv"]
    assert final2.verdict == "warn" and codes(final2) == {"name"}
    assert final2.suggested_name == "channel_spend_2025.csv"
    assert final2.suggested_name in final2.problems[0].fix

    customers = checks["SOURCE/customers_eu.csv"]
    assert customers.verdict == "warn" and codes(customers) == {"encoding", "delimiter"}
    assert "latin-1" in customers.problems[0].message
    assert "semicolon" in customers.problems[1].message

    survey = checks["SOURCE/survey_responses.csv"]
    assert survey.verdict == "warn" and codes(survey) == {"blank_header"}

    budget = checks["SOURCE/budget_2026.xlsx"]
    assert budget.verdict == "warn" and codes(budget) == {"several_sheets"}
    assert report.summary == {"ok": 0, "warn": 4, "block": 1}
    assert not report.clean


def test_real_limits_do_not_block_a_small_csv(demo: Path) -> None:
    check = preflight.check_file(demo / "SOURCE/transactions_2025.csv", "t.csv", "csv")
    assert check.verdict == "ok", check.problems


def test_size_limits_per_kind() -> None:
    limits = upload_limits()
    mb = preflight.MB
    assert preflight._size_problems("csv", 51 * mb, limits)[0].severity == "block"
    assert preflight._size_problems("csv", 46 * mb, limits)[0].code == "near_size_limit"
    assert preflight._size_problems("csv", 44 * mb, limits) == []
    assert preflight._size_problems("image", 21 * mb, limits)[0].severity == "block"
    assert preflight._size_problems("parquet", 513 * mb, limits)[0].severity == "block"
    assert preflight._size_problems("parquet", 100 * mb, limits) == []
    assert preflight._token_problems(2_000_001, limits)[0].severity == "block"
    assert "estimate" in preflight._token_problems(1_900_000, limits)[0].message


@pytest.mark.parametrize(("name", "confusing"), [
    ("final2.csv", True), ("Final.csv", True), ("untitled.xlsx", True), ("Copy of sales.csv", True),
    ("sales (1).csv", True), ("new_data.csv", True), ("TEST.csv", True), ("data.csv", True),
    ("sales_2025.csv", False), ("newsletter_signups.csv", False), ("testimonials.csv", False),
    ("customer_data.csv", False), ("finals_scores.csv", False),
])
def test_confusing_names(name: str, confusing: bool) -> None:
    assert (preflight.confusing_name(name) is not None) is confusing


def test_text_token_estimate(tmp_path: Path) -> None:
    note = write(tmp_path / "notes.md", "x" * 4001)
    check = preflight.check_file(note, "notes.md")
    assert (check.kind, check.tokens, check.tokens_exact, check.verdict) == ("markdown", 1001, False, "ok")


def test_csv_table_problems(tmp_path: Path) -> None:
    write(tmp_path / "dup.csv", "a,a,,b\n1,2,3,4\n5,6\n")
    write(tmp_path / "wide.csv", ",".join(f"c{i}" for i in range(250)) + "\n" + ",".join("1" * 250) + "\n")
    assert {"duplicate_columns", "unnamed_columns", "ragged_rows"} <= codes(
        preflight.check_file(tmp_path / "dup.csv", "dup.csv"))
    assert "wide" in codes(preflight.check_file(tmp_path / "wide.csv", "wide.csv"))


def test_bad_input_becomes_problems_and_originals_stay(tmp_path: Path) -> None:
    root = tmp_path / "p"
    write(root / "SOURCE/empty.csv", b"")
    write(root / "SOURCE/header.csv", "a,b\n")
    write(root / "SOURCE/binary.csv", bytes(range(256)) * 20)
    write(root / "SOURCE/odd\nname.csv", "a,b\n1,2\n")
    write(root / "SOURCE/broken.xlsx", b"PK\x03\x04 not really a workbook")
    write(root / "SOURCE/sales_2025.csv", "region,amount\nEU,1\n")
    os.mkfifo(root / "SOURCE/pipe.csv")
    os.symlink("missing.csv", root / "SOURCE/dangling.csv")
    before = digests(root)
    report = preflight.check_project(root)
    after = digests(root)
    assert before == after
    checks = by_path(report)
    assert codes(checks["SOURCE/empty.csv"]) == {"empty"}
    assert codes(checks["SOURCE/header.csv"]) == {"no_rows"}
    assert checks["SOURCE/binary.csv"].verdict == "block"
    assert checks["SOURCE/broken.xlsx"].verdict == "block"
    assert checks["SOURCE/broken.xlsx"].problems[0].message.startswith("cannot read: ")
    assert "odd_name" in codes(checks["SOURCE/odd\nname.csv"])
    assert checks["SOURCE/pipe.csv"].verdict == "block"
    assert checks["SOURCE/dangling.csv"].verdict == "block"
    assert checks["SOURCE/sales_2025.csv"].verdict == "ok"
    # Named directly, a FIFO and a dangling link are problems too, and the FIFO is never opened.
    named = preflight.check_paths([(root / "SOURCE/pipe.csv", "pipe.csv"), (root / "SOURCE/dangling.csv", "d")])
    assert [check.verdict for check in named.files] == ["block", "block"]


def test_too_many_files_warns_on_the_set(tmp_path: Path) -> None:
    paths = [(write(tmp_path / f"sales_{i}.csv", "region,amount\nEU,1\n"), f"sales_{i}.csv") for i in range(3)]
    report = preflight.check_paths(paths, limits=dataclasses.replace(upload_limits(), files_per_window=2))
    assert [p.code for p in report.problems] == ["too_many_files"]
    assert report.summary == {"ok": 3, "warn": 0, "block": 0} and not report.clean


def test_cli_json_and_exit_codes(demo: Path, tmp_path: Path,
                                 run_cli: Callable[..., subprocess.CompletedProcess[str]]) -> None:
    copy = tmp_path / "demo"
    shutil.copytree(demo, copy, symlinks=True)
    before = digests(copy)
    result = run_cli("check", str(copy), "--json")
    assert result.returncode == 1, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"files", "summary"}
    assert set(data["summary"]) == {"ok", "warn", "block"}
    for entry in data["files"]:
        assert set(entry) == {"path", "kind", "size", "tokens", "tokens_exact", "verdict", "problems"}
        for problem in entry["problems"]:
            assert set(problem) == {"code", "message", "fix"}
    assert digests(copy) == before

    narrowed = run_cli("check", str(copy), "--json", "SOURCE/final2.csv")
    assert narrowed.returncode == 1
    assert [entry["path"] for entry in json.loads(narrowed.stdout)["files"]] == ["SOURCE/final2.csv"]

    human = run_cli("check", str(copy), "SOURCE/survey_responses.csv")
    assert human.returncode == 1 and "WARN" in human.stdout and "fix:" in human.stdout
    assert "1 file" in human.stdout.splitlines()[-1]

    clean = tmp_path / "clean"
    write(clean / "SOURCE/sales_2025.csv", "region,amount\nEU,1\n")
    ok = run_cli("check", str(clean))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "1 ok" in ok.stdout

    for args in (("check", str(copy), "SOURCE/nope.csv"), ("check", str(tmp_path / "missing")),
                 ("check", "--bogus")):
        bad = run_cli(*args)
        assert bad.returncode == 2, bad
        assert len(bad.stderr.strip().splitlines()) == 1 and bad.stderr.startswith("liferaft: ")

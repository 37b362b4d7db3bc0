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
from liferaft.core.config import configured_limits, load_settings, save_settings
from liferaft.core.uploads import check_project
from liferaft.core.vendor import upload_limits
from tests.conftest import cli_env, write
from tests.inspect_helpers import compound_file

#: A spreadsheet limit small enough that a 1 MB demo CSV is over it, to keep the test files small.
SMALL = dataclasses.replace(upload_limits(), spreadsheet_mb=0.5)


@pytest.fixture(autouse=True)
def no_tokenizer_data(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Token counts are estimates here, whatever a developer's cache holds (tests/test_tokens.py has exact ones)."""
    folder = tmp_path_factory.mktemp("no-tiktoken")
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(folder))
    return folder


def isolated_env(config: Path, tiktoken: Path) -> dict[str, str]:
    """The CLI's environment: no developer config (cli_env drops LIFERAFT_*) and no tokenizer data."""
    return cli_env(LIFERAFT_CONFIG_DIR=str(config), TIKTOKEN_CACHE_DIR=str(tiktoken))


def digests(root: Path) -> dict[str, str]:
    return {str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(root.rglob("*")) if path.is_file() and not path.is_symlink()}


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory, copy_demo) -> Path:  # type: ignore[no-untyped-def]
    return copy_demo(tmp_path_factory.mktemp("preflight") / "demo", big_csv_mb=1)


@pytest.fixture(scope="session")
def report(demo: Path) -> preflight.CheckReport:
    return check_project(demo, limits=SMALL)


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


def test_check_covers_the_files_the_prompt_would_have_uploaded(tmp_path: Path) -> None:
    """`check DIR` checks what the prompt lists to upload: SOURCE/, and a data file left in the project root (as
    the README says); not the outputs, the code or the restart folder."""
    from liferaft.core.project import open_project
    from liferaft.core.uploads import plan_uploads

    write(tmp_path / "SOURCE" / "sales.csv", "a,b\n1,2\n")
    write(tmp_path / "extra.csv", "a,b\n3,4\n")
    write(tmp_path / "OUTPUT" / "summary.csv", "a\n1\n")
    write(tmp_path / "CODE" / "clean.py", "print(1)\n")
    checked = {check.path for check in check_project(tmp_path).files}
    project = open_project(tmp_path)
    uploaded = {item.record.display_path for item in plan_uploads(project.inventory, project.state.prepared).items}
    assert checked == uploaded == {"SOURCE/sales.csv", "extra.csv"}


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
    report = check_project(root)
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


def test_cli_json_and_exit_codes(demo: Path, tmp_path: Path, isolated_config: Path, no_tokenizer_data: Path,
                                 run_cli: Callable[..., subprocess.CompletedProcess[str]]) -> None:
    copy = tmp_path / "demo"
    shutil.copytree(demo, copy, symlinks=True)
    before = digests(copy)
    env = isolated_env(isolated_config, no_tokenizer_data)
    result = run_cli("check", str(copy), "--json", env=env)
    assert result.returncode == 1, result.stderr
    assert result.stderr == ""
    data = json.loads(result.stdout)
    assert set(data) == {"files", "problems", "summary", "limits"}
    assert data["problems"] == []
    assert set(data["summary"]) == {"ok", "warn", "block", "total_size", "prepared"}
    assert data["summary"]["total_size"] == sum(entry["size"] for entry in data["files"])
    assert data["limits"]["spreadsheet_mb"] == {"value": 50, "source": "vendor data, checked 2026-03-01"}
    for entry in data["files"]:
        assert set(entry) == {"path", "kind", "size", "tokens", "tokens_exact", "verdict", "problems"}
        for problem in entry["problems"]:
            assert set(problem) == {"code", "message", "fix"}
    assert digests(copy) == before

    narrowed = run_cli("check", str(copy), "--json", "SOURCE/final2.csv", env=env)
    assert narrowed.returncode == 1
    assert [entry["path"] for entry in json.loads(narrowed.stdout)["files"]] == ["SOURCE/final2.csv"]

    human = run_cli("check", str(copy), "SOURCE/survey_responses.csv", env=env)
    assert human.returncode == 1 and "WARN" in human.stdout and "fix:" in human.stdout
    assert "1 file" in human.stdout.splitlines()[-1]

    clean = tmp_path / "clean"
    write(clean / "SOURCE/sales_2025.csv", "region,amount\nEU,1\n")
    ok = run_cli("check", str(clean), env=env)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "1 ok" in ok.stdout

    for args in (("check", str(copy), "SOURCE/nope.csv"), ("check", str(tmp_path / "missing")),
                 ("check", "--bogus")):
        bad = run_cli(*args, env=env)
        assert bad.returncode == 2, bad
        assert len(bad.stderr.strip().splitlines()) == 1 and bad.stderr.startswith("liferaft: ")


def test_demo_fixes_name_the_prepare_command(report: preflight.CheckReport) -> None:
    checks = by_path(report)
    fixes = {(path, problem.code): problem.fix for path, check in checks.items() for problem in check.problems}
    assert "liferaft prepare SOURCE/transactions_2025.csv --split-mb " in fixes["SOURCE/transactions_2025.csv",
                                                                             "too_big"]
    assert "liferaft prepare SOURCE/customers_eu.csv --utf8" in fixes["SOURCE/customers_eu.csv", "encoding"]
    assert "liferaft prepare SOURCE/customers_eu.csv --comma" in fixes["SOURCE/customers_eu.csv", "delimiter"]
    assert "liferaft prepare SOURCE/budget_2026.xlsx --sheet NAME" in fixes["SOURCE/budget_2026.xlsx",
                                                                             "several_sheets"]


def test_a_name_with_spaces_is_quoted_in_the_command(tmp_path: Path) -> None:
    path = write(tmp_path / "EU customers.csv", "name;city\nA;B\n")
    check = preflight.check_file(path, "SOURCE/EU customers.csv")
    assert "liferaft prepare 'SOURCE/EU customers.csv' --comma" in check.problems[0].fix


# --- limits from the user's config ----------------------------------------------------------------------------


def test_config_limits_override_the_vendor_figures(isolated_config: Path) -> None:
    write(isolated_config / "config.toml", "[limits]\nspreadsheet_mb = 0.5\ntext_tokens = 1000\n")
    limits, warnings = configured_limits()
    assert warnings == []
    assert (limits.spreadsheet_mb, limits.text_tokens, limits.hard_limit_mb) == (0.5, 1000, 512)
    assert limits.overridden == {"spreadsheet_mb", "text_tokens"}
    assert limits.origin("spreadsheet_mb") == "your config"
    assert limits.origin("image_mb") == "vendor data, checked 2026-03-01"


def test_bad_config_limits_warn_and_keep_the_default(isolated_config: Path) -> None:
    write(isolated_config / "config.toml", "\n".join([
        "[limits]", 'spreadsheet_mb = "100"', "image_mb = -1", "hard_limit_mb = 0", "files_per_window = 2.5",
        "window_hours = true", "text_tokens = nan", "upload_mb = 3", "",
    ]))
    limits, warnings = configured_limits()
    assert limits == upload_limits() and not limits.overridden
    assert len(warnings) == 7
    assert all("\n" not in warning for warning in warnings)
    assert any("upload_mb" in warning and "not a limit" in warning for warning in warnings)
    assert any("files_per_window" in warning and "whole number" in warning for warning in warnings)
    assert any("spreadsheet_mb" in warning and "using 50" in warning for warning in warnings)

    write(isolated_config / "config.toml", "limits = 5\n")
    limits, warnings = configured_limits()
    assert limits == upload_limits() and len(warnings) == 1 and "must be a table" in warnings[0]

    write(isolated_config / "config.toml", "[limits\n")
    limits, warnings = configured_limits()
    assert limits == upload_limits() and len(warnings) == 1 and "not valid TOML" in warnings[0]


def test_saving_the_settings_keeps_the_limits(isolated_config: Path) -> None:
    write(isolated_config / "config.toml", 'theme = "nord"\n\n[limits]\nimage_mb = 10\n')
    loaded = load_settings()
    loaded.settings.theme = "gruvbox"
    save_settings(loaded.settings)
    again = load_settings()
    assert again.settings.theme == "gruvbox" and again.settings.other == {"limits": {"image_mb": 10}}
    assert configured_limits()[0].image_mb == 10


def test_config_limits_are_used_by_check(isolated_config: Path, demo: Path) -> None:
    write(isolated_config / "config.toml", "[limits]\nspreadsheet_mb = 0.5\n")
    checks = by_path(check_project(demo))
    big = checks["SOURCE/transactions_2025.csv"]
    assert "too_big" in codes(big) and "the 0.5 MB limit" in big.problems[0].message


def test_cli_says_which_limits_are_overridden(demo: Path, isolated_config: Path, no_tokenizer_data: Path,
                                             run_cli: Callable[..., subprocess.CompletedProcess[str]]) -> None:
    write(isolated_config / "config.toml", '[limits]\nspreadsheet_mb = 0.5\nimage_mb = "big"\n')
    env = isolated_env(isolated_config, no_tokenizer_data)
    result = run_cli("check", str(demo), "--json", env=env)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 2 and "Traceback" not in result.stderr
    assert "limits.image_mb must be a number above 0" in lines[0]
    assert lines[1] == "liferaft: using limits from your config: spreadsheet_mb = 0.5 (vendor: 50)"
    data = json.loads(result.stdout)
    assert data["limits"]["spreadsheet_mb"] == {"value": 0.5, "source": "your config"}
    assert data["limits"]["image_mb"] == {"value": 20, "source": "vendor data, checked 2026-03-01"}
    big = next(entry for entry in data["files"] if entry["path"] == "SOURCE/transactions_2025.csv")
    assert big["verdict"] == "block"


# --- the whole set -----------------------------------------------------------------------------------------------


def test_set_problems_in_json_and_human_output(tmp_path: Path, isolated_config: Path, no_tokenizer_data: Path,
                                               run_cli: Callable[..., subprocess.CompletedProcess[str]]) -> None:
    root = tmp_path / "p"
    for i in range(3):
        write(root / f"SOURCE/sales_{i}.csv", "region,amount\nEU,1\n")
    write(isolated_config / "config.toml", "[limits]\nfiles_per_window = 2\nhard_limit_mb = 0.00005\n")
    env = isolated_env(isolated_config, no_tokenizer_data)
    data = json.loads(run_cli("check", str(root), "--json", env=env).stdout)
    assert [problem["code"] for problem in data["problems"]] == ["too_many_files", "total_size"]
    for problem in data["problems"]:
        assert set(problem) == {"code", "message", "fix"} and problem["message"] and problem["fix"]
    assert data["summary"]["total_size"] == 3 * len("region,amount\nEU,1\n")
    human = run_cli("check", str(root), env=env)
    assert human.returncode == 1
    assert "WARN   3 files: more than the 2 a chat accepts in 3 hours" in human.stdout
    assert "NOTE   together the files come to 57 B" in human.stdout


def test_a_large_total_is_a_note_that_does_not_fail_the_check(tmp_path: Path) -> None:
    paths = [(write(tmp_path / f"sales_{i}.csv", "region,amount\nEU,1\n"), f"sales_{i}.csv") for i in range(2)]
    report = preflight.check_paths(paths, limits=dataclasses.replace(upload_limits(), hard_limit_mb=0.00003))
    assert [(p.code, p.severity) for p in report.problems] == [("total_size", "note")]
    assert report.clean
    one = preflight.check_paths(paths[:1], limits=dataclasses.replace(upload_limits(), hard_limit_mb=0.00001))
    assert one.problems == ()  # one file over the limit is that file's problem, not the set's


# --- workbooks ----------------------------------------------------------------------------------------------------


def _workbook(path: Path, rows: list[list[object]], *, sheets: int = 1) -> Path:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Data"
    for row in rows:
        sheet.append(row)
    for index in range(1, sheets):
        book.create_sheet(f"Other{index}").append(["x"])
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


def test_a_password_protected_workbook_is_blocked(tmp_path: Path) -> None:
    path = write(tmp_path / "locked.xlsx", compound_file(["EncryptionInfo", "EncryptedPackage"]))
    check = preflight.check_file(path, "locked.xlsx")
    assert check.verdict == "block" and codes(check) == {"password"}
    assert check.problems[0].message == "password-protected: the chat cannot open it"
    assert check.problems[0].fix == "save a copy without a password"


def test_an_old_xls_is_warned(tmp_path: Path) -> None:
    check = preflight.check_file(write(tmp_path / "budget.xls", compound_file(["Workbook"])), "budget.xls")
    assert check.verdict == "warn" and codes(check) == {"old_excel"}


def test_several_tables_in_one_sheet(tmp_path: Path) -> None:
    rows: list[list[object]] = [["region", "amount"], ["EU", 1], ["US", 2], [], [], ["month", "spend"], ["Jan", 3]]
    check = preflight.check_file(_workbook(tmp_path / "bands.xlsx", rows), "bands.xlsx")
    assert codes(check) == {"several_tables"}
    problem = check.problems[0]
    assert problem.message.startswith("several tables in one sheet") and "row 6" in problem.message
    assert problem.fix == "put each table on its own sheet or export each to CSV"
    # Blank rows at the end, and a single table, are fine.
    single = _workbook(tmp_path / "single.xlsx", [["region", "amount"], ["EU", 1], ["US", 2]])
    assert preflight.check_file(single, "single.xlsx").verdict == "ok"


def test_several_tables_row_counts_the_blank_rows_above_the_header(tmp_path: Path) -> None:
    rows: list[list[object]] = [[], ["region", "amount"], ["EU", 1], [], ["total", 1]]
    check = preflight.check_file(_workbook(tmp_path / "bands.xlsx", rows), "bands.xlsx")
    assert codes(check) == {"blank_header", "several_tables"}
    assert "row 5" in next(p.message for p in check.problems if p.code == "several_tables")


def test_the_demo_is_clean_once_its_fixes_are_prepared(
        tmp_path: Path, run_cli: Callable[..., subprocess.CompletedProcess[str]], copy_demo) -> None:  # type: ignore[no-untyped-def]
    """The issue's loop on the real demo: check blocks and warns, each fix it names is run, check passes."""
    root = copy_demo(tmp_path / "demo")
    before = digests(root / "SOURCE")
    first = run_cli("check", str(root), "--json")
    assert first.returncode == 1
    verdicts = {entry["path"]: entry["verdict"] for entry in json.loads(first.stdout)["files"]}
    assert verdicts["SOURCE/transactions_2025.csv"] == "block"
    for fix in (["SOURCE/transactions_2025.csv", "--split-mb", "45"], ["SOURCE/customers_eu.csv", "--comma"],
                ["SOURCE/survey_responses.csv", "--comma"], ["SOURCE/budget_2026.xlsx", "--sheet", "Budget"],
                ["SOURCE/final2.csv", "--name", "channel_spend_2025.csv"]):
        done = run_cli("prepare", fix[0], str(root), *fix[1:])
        assert done.returncode == 0, done.stderr
    second = run_cli("check", str(root), "--json")
    data = json.loads(second.stdout)
    assert second.returncode == 0, second.stdout
    assert data["summary"]["block"] == data["summary"]["warn"] == 0 and data["summary"]["prepared"] == 5
    by_path = {entry["path"]: entry for entry in data["files"]}
    assert by_path["SOURCE/transactions_2025.csv"]["replaced_by"] == [
        "SOURCE/prepared/transactions_2025.part1.csv", "SOURCE/prepared/transactions_2025.part2.csv"]
    assert by_path["SOURCE/transactions_2025.csv"]["verdict"] == "block"  # its own verdict, not counted
    assert all(by_path[path]["verdict"] == "ok" for path in by_path if path.startswith("SOURCE/prepared/"))
    human = run_cli("check", str(root))
    assert "PREP   SOURCE/final2.csv" in human.stdout and "(5 originals replaced by prepared copies)" in human.stdout
    after = digests(root / "SOURCE")
    assert {path: digest for path, digest in after.items() if path in before} == before


def test_a_table_in_fixed_positions_is_said_to_be_one_with_the_reader_that_reads_it(tmp_path: Path) -> None:
    """A real space-aligned table (readr's massey-rating.txt) saved as .csv: the check says its columns sit in
    fixed positions and names read_fwf; it does not call "none" a delimiter nor offer a comma copy that would
    split "Ohio St"."""
    source = Path(__file__).parent / "data" / "real" / "tables" / "readr-massey-rating.txt"
    shutil.copyfile(source, tmp_path / "massey.csv")
    check = preflight.check_file(tmp_path / "massey.csv", "massey.csv", "csv")
    assert "fixed_width" in codes(check) and "delimiter" not in codes(check)
    fixed = next(problem for problem in check.problems if problem.code == "fixed_width")
    assert "read_fwf" in fixed.fix and check.verdict == "warn"

"""The prompt composer: templates, what a prompt is made of, assembly within a token budget, one golden
prompt per template (in snapshots/prompts/, refreshed with --snapshot-update), and `liferaft prompt`."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from liferaft.core import compose
from liferaft.core.project import open_project
from liferaft.core.restart_note import request_prompt
from liferaft.core.uploads import plan_uploads
from tests.conftest import write

GOLDEN = Path(__file__).resolve().parent.parent / "snapshots" / "prompts"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, copy_demo) -> Path:  # type: ignore[no-untyped-def]
    return copy_demo(tmp_path_factory.mktemp("compose") / "demo")


@pytest.fixture(scope="module")
def context(demo: Path) -> compose.ComposeContext:
    project = open_project(demo)
    return compose.gather(project.root, project.inventory, plan_uploads(project.inventory), name="demo")


def test_the_bundled_templates_come_in_order() -> None:
    templates, warnings = compose.load_templates(Path("/nonexistent"))
    assert list(templates) == ["rerun", "regenerate", "brief", "note"] and not warnings
    assert templates["rerun"].title == "Rerun from scratch"


def test_a_user_template_adds_or_replaces_and_a_bad_one_is_skipped(tmp_path: Path) -> None:
    write(tmp_path / "mine.md", "---\nname: mine\ntitle: Mine\n---\nFiles:\n{{uploads}}\n")
    write(tmp_path / "rerun.md", "---\nname: rerun\ntitle: My rerun\n---\n{{brief}}\n")
    write(tmp_path / "broken.md", "---\nname: broken\n---\n{{nonsense}}\n")
    write(tmp_path / "open.md", "---\nname: open\nnever closed\n")
    templates, warnings = compose.load_templates(tmp_path)
    assert templates["mine"].title == "Mine" and templates["rerun"].title == "My rerun"
    assert "broken" not in templates and "open" not in templates
    assert any("unknown placeholder {{nonsense}}" in warning for warning in warnings)
    assert any("never closed" in warning for warning in warnings)


def test_gather_reads_shapes_outputs_and_the_note(context: compose.ComposeContext) -> None:
    by_name = {line.name: line for line in context.uploads}
    assert [line.name for line in context.uploads] == [  # as the note's Files used lists them
        "transactions_2025.csv", "customers_eu.csv", "survey_responses.csv", "budget_2026.xlsx", "final2.csv"]
    assert [line.path for line in context.code_files] == ["CODE/analysis.py"]  # the note names it
    assert re.search(r"rows × 1\d columns; columns: order_id, order_date", by_name["transactions_2025.csv"].shape)
    assert "sheet Budget of 2" in by_name["budget_2026.xlsx"].shape
    assert set(context.outputs) == {"revenue_by_region.png", "sales_2025_cleaned.csv"}
    assert context.missing == ["monthly_trend.png"]
    assert {key for key, _heading, _text in context.note_sections} >= {"files", "columns", "filters", "outputs"}
    assert context.brief.startswith("Review 2025 sales")


def test_the_rerun_prompt_stands_on_its_own(context: compose.ComposeContext) -> None:
    templates, _ = compose.load_templates(Path("/nonexistent"))
    prompt = compose.assemble(templates["rerun"], context)
    text = prompt.text
    for line in context.uploads:  # every file, with its size and shape, in upload order
        assert line.name in text
    positions = [text.index(f". {line.name} (") for line in context.uploads]
    assert positions == sorted(positions)
    assert "monthly_trend.png (made in the earlier chat, never saved)" in text
    assert "fresh download link" in text and "Do not rely on any path, variable or link" in text
    assert "quantity <= 0" in text  # the note's filters, restated
    assert "{{" not in text
    assert prompt.tokens > 0 and not prompt.cut


def test_thousands_of_outputs_are_counted_not_listed(context: compose.ComposeContext) -> None:
    import dataclasses

    many = dataclasses.replace(context, outputs=[f"chart_{n:05d}.png" for n in range(10_000)],
                               missing=["monthly_trend.png", "chart_00001.png"])
    templates, _ = compose.load_templates(Path("/nonexistent"))
    text = compose.assemble(templates["rerun"], many).text
    assert "chart_00000.png" in text and "chart_09999.png" not in text
    assert "and 9,940 more files like these in OUTPUT/" in text
    assert "monthly_trend.png (made in the earlier chat, never saved)" in text  # what is missing is always named
    assert "chart_00001.png (made" not in text  # saved after all
    assert len(text) < 20_000


def test_code_is_cut_to_the_budget_and_the_cut_is_said(context: compose.ComposeContext) -> None:
    templates, _ = compose.load_templates(Path("/nonexistent"))
    whole = compose.assemble(templates["rerun"], context, include_code=True, budget=100_000)
    assert "## The code from the earlier session" in whole.text and "```python" in whole.text
    assert not whole.cut
    tight = compose.assemble(templates["rerun"], context, include_code=True, budget=whole.tokens - 300)
    assert tight.cut and tight.tokens <= whole.tokens - 300
    assert "are cut to keep this message within" in tight.text or "Left out to fit the token budget" in tight.text
    assert any("cut to fit the token budget" in warning for warning in tight.warnings)


def test_an_empty_note_is_warned_about(tmp_path: Path) -> None:
    write(tmp_path / "p/SOURCE/sales.csv", "a,b\n1,2\n")
    project = open_project(tmp_path / "p")
    context = compose.gather(project.root, project.inventory, plan_uploads(project.inventory))
    templates, _ = compose.load_templates(Path("/nonexistent"))
    prompt = compose.assemble(templates["rerun"], context)
    assert any("restart note is empty" in warning for warning in prompt.warnings)
    assert "1. sales.csv (8 B; 1 row × 2 columns; columns: a, b)" in prompt.text


@pytest.mark.parametrize("name", ["rerun", "regenerate", "brief", "note"])
def test_golden_prompt_per_template(name: str, context: compose.ComposeContext,
                                    request: pytest.FixtureRequest) -> None:
    templates, _ = compose.load_templates(Path("/nonexistent"))
    text = compose.assemble(templates[name], context, date="2026-12-01", note_request=request_prompt("demo")).text
    golden = GOLDEN / f"{name}.md"
    if request.config.getoption("--snapshot-update", default=False) or not golden.exists():
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8"), f"{golden} differs: refresh it with --snapshot-update"


@pytest.mark.parametrize(("name", "expected"), [
    ("monthly%20trend%20(1).png", "monthly trend.png"),
    ("sandbox:/mnt/data/Chart.PNG", "chart.png"),
])
def test_outputs_match_by_decoded_name(name: str, expected: str) -> None:
    assert compose.output_key(name) == expected


def test_cli_prompt_prints_redacts_and_saves(demo: Path, tmp_path: Path,
                                             run_cli: Callable[..., subprocess.CompletedProcess[str]]) -> None:
    key = "sk-" + "proj-" + ("A1b2C3d4E5f6G7h8J9k0-_" * 4)[:74] + "T3Blbk" + "FJ" + ("Zz9Yy8Xx7Ww6Vv5Uu4" * 5)[:74]
    code = demo / "CODE" / "secret_step.py"
    write(code, f'import openai\nclient = openai.OpenAI(api_key="{key}")\n')
    note = demo / "RESTART" / "restart-note.md"
    kept_note = note.read_text(encoding="utf-8")
    note.write_text(kept_note.replace("- All of it is in CODE/analysis.py.",
                                      "- All of it is in CODE/analysis.py, then CODE/secret_step.py."),
                    encoding="utf-8")
    try:
        result = run_cli("prompt", str(demo), "--include-code")
        assert result.returncode == 0, result.stderr
        assert key not in result.stdout and key not in result.stderr
        assert "[REDACTED: " in result.stdout
        assert "CODE/secret_step.py, line 2" in result.stderr
        assert "transactions_2025.csv" in result.stdout
        kept = run_cli("prompt", str(demo), "--include-code", "--allow-secrets")
        assert key in kept.stdout
    finally:
        os.unlink(code)
        note.write_text(kept_note, encoding="utf-8")
    listed = run_cli("prompt", "--list", str(demo))
    assert listed.returncode == 0 and "regenerate" in listed.stdout
    bad = run_cli("prompt", str(demo), "--template", "nope")
    assert bad.returncode == 2 and "no template 'nope'" in bad.stderr and "Traceback" not in bad.stderr
    out = tmp_path / "prompt.md"
    written = run_cli("prompt", str(demo), "--out", str(out))
    assert written.returncode == 0 and out.read_text().startswith("My earlier chat's")
    again = run_cli("prompt", str(demo), "--out", str(out))
    assert again.returncode == 2 and "exists already" in again.stderr


def _pem() -> str:
    import random

    rng = random.Random(7)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    body = "\n".join("".join(rng.choice(alphabet) for _ in range(64)) for _ in range(25))
    return "-----BEGIN RSA " + "PRIVATE KEY-----\n" + body + "\n-----END RSA " + "PRIVATE KEY-----\n"


def test_a_private_key_cut_by_the_budget_is_still_caught(tmp_path: Path) -> None:
    pem = _pem()
    write(tmp_path / "p/SOURCE/a.csv", "a,b\n1,2\n")
    write(tmp_path / "p/CODE/a.py", "print('a')\n" * 200)
    write(tmp_path / "p/CODE/b.py", 'KEY = """\n' + pem + '"""\n')
    project = open_project(tmp_path / "p")
    context = compose.gather(project.root, project.inventory, plan_uploads(project.inventory))
    templates, _ = compose.load_templates(Path("/nonexistent"))
    whole = compose.assemble(templates["rerun"], context, include_code=True, budget=100_000)
    for budget in range(whole.tokens - 400, whole.tokens, 60):  # cuts land inside the key
        prompt = compose.assemble(templates["rerun"], context, include_code=True, budget=budget)
        redacted = compose.gate(prompt.text, context).redact(prompt.text)
        for line in pem.splitlines()[1:-1]:
            assert line not in redacted


def test_code_linked_from_outside_is_left_out_and_said(tmp_path: Path) -> None:
    outside = write(tmp_path / "elsewhere.py", "SECRET_THING = 1\n")
    write(tmp_path / "p/SOURCE/a.csv", "a,b\n1,2\n")
    (tmp_path / "p/CODE").mkdir(parents=True)
    os.symlink(outside, tmp_path / "p/CODE/out.py")
    write(tmp_path / "p/CODE/latin.py", "# caf\xe9\n".encode("latin-1"))
    project = open_project(tmp_path / "p")
    context = compose.gather(project.root, project.inventory, plan_uploads(project.inventory))
    templates, _ = compose.load_templates(Path("/nonexistent"))
    prompt = compose.assemble(templates["rerun"], context, include_code=True)
    assert "SECRET_THING" not in prompt.text
    assert any("CODE/out.py is a link out of the project" in warning for warning in prompt.warnings)
    assert any("CODE/latin.py is not UTF-8" in warning for warning in prompt.warnings)


@pytest.mark.parametrize(("line", "names"), [
    ("- Cleaned data (sales_2025_cleaned.csv)", ["sales_2025_cleaned.csv"]),
    ("- revenue_by_region.png and monthly_trend.png", ["revenue_by_region.png", "monthly_trend.png"]),
    ("1. Cleaned data v1.2 exported as clean.csv", ["clean.csv"]),
    ("- e.g. stacked bars", []),
    ("- a.png, b.png", ["a.png", "b.png"]),
    ("- `Monthly trend (1).png` — the chart", ["Monthly trend (1).png"]),
    ("- sandbox:/mnt/data/report%202025.pdf", ["report%202025.pdf"]),
])
def test_output_names_in_the_note(line: str, names: list[str]) -> None:
    assert compose.named_outputs(line) == names


def test_an_unreadable_note_is_said_not_passed_off_as_empty(tmp_path: Path) -> None:
    write(tmp_path / "p/SOURCE/a.csv", "a,b\n1,2\n")
    write(tmp_path / "p/RESTART/restart-note.md", b"\xff\xfe not utf-8 \x81")
    project = open_project(tmp_path / "p")
    context = compose.gather(project.root, project.inventory, plan_uploads(project.inventory))
    assert any("the restart note cannot be used" in problem for problem in context.problems)


def test_the_budget_holds_for_wide_characters_and_many_files(tmp_path: Path) -> None:
    write(tmp_path / "p/SOURCE/a.csv", "a,b\n1,2\n")
    write(tmp_path / "p/CODE/cyrillic.py", "# выручка по регионам и месяцам\nx = 1\n" * 600)
    for number in range(compose.MAX_CODE_FILES - 1):  # every one goes with the prompt
        write(tmp_path / f"p/CODE/step_{number:02d}.py", f"step_{number} = {number}\n")
    project = open_project(tmp_path / "p")
    context = compose.gather(project.root, project.inventory, plan_uploads(project.inventory))
    templates, _ = compose.load_templates(Path("/nonexistent"))
    for budget in (1000, 2500, 5000):
        prompt = compose.assemble(templates["rerun"], context, include_code=True, budget=budget)
        assert prompt.tokens <= budget and prompt.cut
        assert not any("even without the code" in warning for warning in prompt.warnings)


def test_a_template_with_windows_line_endings_and_a_bom(tmp_path: Path) -> None:
    (tmp_path / "win.md").write_bytes("\ufeff---\r\nname: win\r\ntitle: Windows\r\n---\r\n{{uploads}}\r\n"
                                      .encode())
    templates, warnings = compose.load_templates(tmp_path)
    assert not warnings and templates["win"].title == "Windows" and templates["win"].body == "{{uploads}}\n"


def test_cli_prompt_refuses_a_missing_folder_and_survives_a_latin1_terminal(
        demo: Path, tmp_path: Path, run_cli: Callable[..., subprocess.CompletedProcess[str]]) -> None:
    missing = run_cli("prompt", str(demo), "--out", str(tmp_path / "no" / "such" / "p.md"))
    assert missing.returncode == 2 and "does not exist" in missing.stderr
    assert not (tmp_path / "no").exists()
    from tests.conftest import cli_env

    latin = run_cli("prompt", str(demo), env=cli_env(PYTHONIOENCODING="latin-1"))
    assert latin.returncode == 0 and "×" in latin.stdout

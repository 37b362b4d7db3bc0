"""`liferaft import`: listing, importing from every kind of export, and bad input in one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests import recover_fixtures as fx


@pytest.fixture
def proj(tmp_path: Path, run_cli) -> Path:
    root = tmp_path / "proj"
    assert run_cli("init", str(root)).returncode == 0
    (root / "SOURCE" / "sales.csv").write_text("region,revenue\nNorth,1\n", encoding="utf-8")
    return root


def _import_json(run_cli, export: Path, project: Path, *extra: str) -> dict:
    result = run_cli("import", str(export), "--into", str(project), "--json", *extra)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_list_newest_first_text_and_json(tmp_path: Path, run_cli) -> None:
    export = fx.write_classic_zip(tmp_path / "e.zip", fx.all_variants(), fx.classic_assets())
    result = run_cli("import", str(export), "--list")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "Edited question" in lines[0] and "Old code interpreter" in lines[5]
    assert "6 conversations" in lines[-1]
    data = json.loads(run_cli("import", str(export), "--list", "--json").stdout)
    rows = {row["id"]: row for row in data["conversations"]}
    assert data["conversations"][0]["id"] == "conv-branch"
    assert rows["conv-sales"]["code_cells"] == 5 and rows["conv-chat"]["code_cells"] == 0
    assert data["problems"] == []


def test_classic_and_sharded_zip_give_the_same_import(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """What the import makes of each layout, compared: the command runs in this process (a dozen imports; the
    other tests here run it as a user does)."""
    from liferaft.cli import main

    def import_json(export: Path, project: Path, *extra: str) -> dict:
        capsys.readouterr()
        assert main(["import", str(export), "--into", str(project), "--json", *extra]) == 0, capsys.readouterr().err
        return json.loads(capsys.readouterr().out)

    convs = fx.all_variants()
    classic = fx.write_classic_zip(tmp_path / "classic.zip", convs, fx.classic_assets())
    sharded = fx.write_sharded_zip(tmp_path / "sharded.zip", convs, fx.sharded_assets())
    results = []
    for name, export in (("a", classic), ("b", sharded)):
        project = tmp_path / name
        assert main(["init", str(project)]) == 0
        results.append([import_json(export, project, "--conversation", conv["id"]) for conv in convs])
        assert (project / "OUTPUT" / "recovered" / "sales-by-region-cell03-1.png").read_bytes() == fx.PNG_1X1
    assert results[0] == results[1]
    sales = results[0][-1]
    assert (sales["code_cells"], sales["failed_cells"], sales["resets"]) == (5, 1, 0)


@pytest.mark.parametrize("kind", ["folder", "conversations.json", "chat.html", "api", "exporter"])
def test_every_kind_of_export_imports_the_same_conversation(tmp_path: Path, run_cli, proj: Path, kind: str) -> None:
    conv = fx.sales_conversation()
    if kind == "folder":
        export = fx.write_folder(tmp_path / "export", [fx.plain_chat(), conv], fx.classic_assets())
    elif kind == "conversations.json":
        export = fx.write_conversations_json(tmp_path / "conversations.json", [fx.plain_chat(), conv])
    elif kind == "chat.html":
        export = fx.write_html(tmp_path / "chat.html", [fx.plain_chat(), conv])
    else:
        export = fx.write_single_json(tmp_path / "one.json", conv, shape=kind)
    extra = () if kind in ("api", "exporter") else ("--conversation", "Sales by region")
    data = _import_json(run_cli, export, proj, *extra)
    assert data["conversation"]["id"] == "conv-sales"
    assert (data["code_cells"], data["failed_cells"]) == (5, 1)
    assert {g["name"] for g in data["generated_files"]} >= {"by_region.png", "monthly_trend.csv"}
    figure_copied = kind == "folder"
    assert (proj / "OUTPUT" / "recovered" / "sales-by-region-cell03-1.png").exists() == figure_copied


def test_text_report_notebook_and_reimport(tmp_path: Path, run_cli, proj: Path) -> None:
    export = fx.write_classic_zip(tmp_path / "e.zip", [fx.sales_conversation()], fx.classic_assets())
    result = run_cli("import", str(export), "--into", str(proj), "--notebook")
    assert result.returncode == 0, result.stderr
    assert "wrote      CODE/recovered/sales-by-region.py" in result.stdout
    assert "wrote      CODE/recovered/sales-by-region.ipynb" in result.stdout
    assert "5 code cells (1 failed)" in result.stdout
    assert "not in OUTPUT: revenue by region.csv, by_region.png, monthly_trend.csv" in result.stdout
    again = run_cli("import", str(export), "--into", str(proj), "--notebook")
    assert "wrote" not in again.stdout and "unchanged  CODE/recovered/sales-by-region.py" in again.stdout


def test_all_branches(tmp_path: Path, run_cli, proj: Path) -> None:
    export = fx.write_single_json(tmp_path / "b.json", fx.branched_conversation())
    data = _import_json(run_cli, export, proj, "--all-branches")
    assert data["code_cells"] == 2
    assert {g["name"] for g in data["generated_files"]} == {"abandoned.csv", "clean.csv"}


def test_several_conversations_need_a_choice(tmp_path: Path, run_cli, proj: Path) -> None:
    export = fx.write_classic_zip(tmp_path / "e.zip", fx.all_variants())
    result = run_cli("import", str(export), "--into", str(proj))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "--conversation" in result.stderr
    missing = run_cli("import", str(export), "--into", str(proj), "--conversation", "no such thing")
    assert missing.returncode == 1 and missing.stderr.count("\n") == 1
    # Several match what --conversation says: none is chosen, as without it (the README's exit 2).
    several = run_cli("import", str(export), "--into", str(proj), "--conversation", "a")
    assert several.returncode == 2 and several.stderr.count("\n") == 1 and "conversations match" in several.stderr
    assert not (proj / "CODE" / "recovered").exists()


def test_bad_input_is_one_line(tmp_path: Path, run_cli, proj: Path) -> None:
    result = run_cli("import", str(tmp_path / "nope.zip"), "--into", str(proj))
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    zipped = fx.truncate(fx.write_classic_zip(tmp_path / "cut.zip", fx.all_variants()), 0.5)
    result = run_cli("import", str(zipped), "--list")  # what it still holds is listed, with one warning
    assert result.returncode == 0 and "Traceback" not in result.stderr and result.stderr.count("\n") == 1
    assert "warning:" in result.stderr and "incomplete" in result.stderr
    broken = tmp_path / "conversations.json"
    broken.write_text('[{"id": "x", "title": "Broken", "mapping": {"a": ', encoding="utf-8")
    result = run_cli("import", str(broken), "--into", str(proj))
    assert result.returncode in (1, 2) and "Traceback" not in result.stderr
    not_a_project = run_cli("import", str(broken), "--into", str(tmp_path / "missing"), "--conversation", "x")
    assert not_a_project.returncode == 2


def test_a_damaged_conversation_leaves_the_others_importable(tmp_path: Path, run_cli, proj: Path) -> None:
    good = fx.dumps(fx.sales_conversation())
    text = "[" + fx.dumps(fx.plain_chat())[:-1] + ', "mapping": {"x": [1, 2}' + "}, " + good + "]"
    export = tmp_path / "conversations.json"
    export.write_text(text, encoding="utf-8")
    listing = run_cli("import", str(export), "--list")
    assert "Sales by region" in listing.stdout and "Traceback" not in listing.stderr
    # The damaged one is named in one warning; the rest is listed, so the exit is 0 (as the import's).
    assert listing.returncode == 0 and listing.stderr.count("\n") == 1 and "item 1" in listing.stderr
    data = _import_json(run_cli, export, proj, "--conversation", "conv-sales")
    assert data["code_cells"] == 5


def test_markdown_export_with_and_without_code(tmp_path: Path, run_cli, proj: Path) -> None:
    with_code = tmp_path / "chat.md"
    with_code.write_text("# Sales chat\n\n# User\n\nLoad the sales\n\n# Assistant\n\n### Code Interpreter\n\n"
                         "```python\nimport pandas as pd\ndf = pd.read_csv('/mnt/data/sales.csv')\n```\n",
                         encoding="utf-8")
    data = _import_json(run_cli, with_code, proj)
    assert data["code_cells"] == 1
    script = (proj / "CODE" / "recovered" / "sales-chat.py").read_text(encoding="utf-8")
    assert "pd.read_csv(str(SOURCE / \"sales.csv\"))" in script  # SOURCE has it, though Markdown names no upload
    without = tmp_path / "plain.md"
    without.write_text("# Chat\n\n#### You:\n\nhi\n\n#### ChatGPT:\n\nhello\n", encoding="utf-8")
    result = run_cli("import", str(without), "--into", str(proj))
    assert result.returncode == 0 and "no script written" in result.stdout
    assert "holds no executed code" in result.stderr


def test_status_text_lists_uploads_not_in_source(tmp_path: Path, run_cli, proj: Path) -> None:
    export = fx.write_single_json(tmp_path / "one.json", fx.era_2025_text())
    assert run_cli("import", str(export), "--into", str(proj)).returncode == 0
    status = run_cli("status", str(proj))
    assert status.returncode == 1
    assert "Uploads not in SOURCE (1):\n  bundle.zip  used by the chat" in status.stdout
    assert "report.md" in status.stdout and "chat export: GPT-5 thinking analysis" in status.stdout


@pytest.mark.parametrize("bad", [None, {}], ids=["null", "empty-object"])
def test_bad_items_are_warnings_and_the_rest_lists_and_imports(tmp_path: Path, run_cli, proj: Path, bad) -> None:
    """One item that is no conversation in an otherwise good export: a warning naming it, exit 0, for --list as
    for the import (the README's exit 1 is for an export, or a conversation, that cannot be read)."""
    a, b = fx.sales_conversation("conv-a", "A"), fx.sales_conversation("conv-b", "B")
    export = fx.write_conversations_json(tmp_path / "conversations.json", [a, bad, b])
    for extra in ([], ["--json"]):
        listing = run_cli("import", str(export), "--list", *extra)
        assert listing.returncode == 0 and "Traceback" not in listing.stderr
        assert "[conv-a]" in listing.stdout or "conv-a" in listing.stdout
    assert listing.stderr == ""  # --json: the problem is in the JSON
    assert any("item 2" in problem for problem in json.loads(listing.stdout)["problems"])
    text = run_cli("import", str(export), "--list")
    assert text.stderr.count("\n") == 1 and "item 2" in text.stderr
    assert "[conv-a]" in text.stdout and "[conv-b]" in text.stdout
    data = _import_json(run_cli, export, proj, "--conversation", "conv-a")
    assert data["conversation"] == {"id": "conv-a", "title": "A"}


def test_an_export_of_nothing_but_bad_items_fails_to_list(tmp_path: Path, run_cli) -> None:
    export = fx.write_conversations_json(tmp_path / "conversations.json", [None, {}])
    listing = run_cli("import", str(export), "--list")
    assert listing.returncode == 1 and "Traceback" not in listing.stderr and "item 1" in listing.stderr


def test_a_password_protected_zip_and_json_that_is_no_conversation(tmp_path: Path, run_cli, proj: Path) -> None:
    locked = fx.mark_encrypted(fx.write_classic_zip(tmp_path / "e.zip", fx.all_variants()))
    for extra in (["--list"], ["--into", str(proj), "--conversation", "conv-sales"]):
        result = run_cli("import", str(locked), *extra)
        assert result.returncode == 1 and "password" in result.stderr and result.stderr.count("\n") == 1
        assert "unexpected error" not in result.stderr
    empty = tmp_path / "empty.json"
    empty.write_text("{}", encoding="utf-8")
    result = run_cli("import", str(empty), "--into", str(proj))
    assert result.returncode == 1 and "not a ChatGPT conversation" in result.stderr and "Traceback" not in result.stderr
    assert not (proj / "CODE" / "recovered").exists() or not list((proj / "CODE" / "recovered").iterdir())
    assert "Untitled" not in (proj / ".liferaft" / "recovered.json").read_text() \
        if (proj / ".liferaft" / "recovered.json").exists() else True

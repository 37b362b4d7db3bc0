"""Issue 16, the prompt: the code goes with it (uploaded after the data, or inline), every section of the restart
note reaches it (its next prompt first), split parts are put back together with the total row count, the files
are in the order the analysis reads them, and no prompt names a file the chat will not have.

The golden prompts (snapshots/prompts/, refreshed with --snapshot-update) are checked on their text alone: what
they list as attached, inline or to make, against every file name they mention."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

import tests.recover_fixtures as fx
from liferaft.core import compose, prompt_files
from liferaft.core.prepare import read_split_set, split_csv
from liferaft.core.project import open_project, record_prepared
from liferaft.core.restart_note import load_note, request_prompt
from liferaft.core.roles import Role
from liferaft.core.scan import FileRecord
from liferaft.core.uploads import plan_uploads
from tests.conftest import write

GOLDEN = Path(__file__).resolve().parent.parent / "snapshots" / "prompts"
#: The upload the recovered conversation read (sales_conversation: /mnt/data/sales.csv), put back in SOURCE.
SALES = "date,region,revenue\n2025-01-03,North,10.5\n2025-01-04,South,7.25\n2025-02-01,North,3.0\n"


def _cli(*args: str) -> None:
    from liferaft.cli import main

    assert main(list(args)) == 0


def _gather(root: Path, name: str) -> compose.ComposeContext:
    project = open_project(root)
    return compose.gather(project.root, project.inventory, plan_uploads(project.inventory, project.state.prepared),
                          name=name)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, copy_demo) -> Path:  # type: ignore[no-untyped-def]
    return copy_demo(tmp_path_factory.mktemp("files") / "demo")


@pytest.fixture(scope="module")
def split_demo(tmp_path_factory: pytest.TempPathFactory, copy_demo) -> Path:  # type: ignore[no-untyped-def]
    """The demo after `liferaft prepare SOURCE/transactions_2025.csv --split-mb 45`."""
    root = copy_demo(tmp_path_factory.mktemp("split") / "demo")
    _cli("prepare", "SOURCE/transactions_2025.csv", str(root), "--split-mb", "45")
    return root


@pytest.fixture(scope="module")
def recovered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project recovered from a ChatGPT export (`liferaft import`), its upload put back in SOURCE as the import
    asks."""
    base = tmp_path_factory.mktemp("recovered")
    export = fx.write_classic_zip(base / "export.zip", [fx.sales_conversation()], fx.classic_assets())
    root = base / "sales"
    root.mkdir()
    _cli("import", str(export), "--into", str(root))
    write(root / "SOURCE" / "sales.csv", SALES)
    return root


def _prompt(root: Path, name: str, template: str = "rerun", **options: object) -> tuple[str, compose.ComposeContext]:
    context = _gather(root, name)
    templates, _ = compose.load_templates(Path("/nonexistent"))
    prompt = compose.assemble(templates[template], context, date="2026-12-01",
                              note_request=request_prompt(name), **options)  # type: ignore[arg-type]
    return prompt.text, context


# --- what the prompt's own text says ----------------------------------------------------------------------


def _section(text: str, heading: str) -> str:
    start = text.find(f"\n## {heading}")
    if start < 0:
        return ""
    end = text.find("\n## ", start + 4)
    return text[start:] if end < 0 else text[start:end]


def _subsection(text: str, heading: str) -> str:
    start = text.find(f"\n### {heading}\n")
    if start < 0:
        return ""
    end = text.find("\n#", start + 5)
    return text[start:] if end < 0 else text[start:end]


def _said(text: str) -> dict[str, set[str]]:
    """The files the prompt says the chat gets (attached, or the table their parts make), inline, has to make, or
    will not have (keys as names are matched)."""
    key = str  # the names as written: matched as the composer matches them, in check_prompt
    attached = _section(text, "Attached files")
    uploaded = {key(m[1]) for m in re.finditer(r"^\d+\. (.+?)(?: \(|, uploaded as )", attached, re.MULTILINE)}
    uploaded |= {key(m[1]) for m in re.finditer(r"^   - (.+?) \(", attached, re.MULTILINE)}  # the parts
    uploaded |= {key(m[1]) for m in re.finditer(r"prepared from (.+)$", attached, re.MULTILINE)}
    inline = {key(m[1]) for m in re.finditer(r"^### (.+)$", _section(text, "The code from the earlier session"),
                                             re.MULTILINE)}
    to_make = {key(m[1]) for m in re.finditer(r"^   - (.+?)(?: \(made in the earlier chat[^)]*\))?(?::\s.*)?$",
                                              _section(text, "What to do"), re.MULTILINE)}
    to_make |= {key(m[1]) for m in re.finditer(r"^The output: \*\*(.+)\*\*$", text, re.MULTILINE)}
    made = _section(text, "Outputs made so far") + _subsection(text, "Generated outputs")  # what the analysis makes
    to_make |= {key(name) for name in prompt_files.mentioned_names(made)}
    declared = re.search(r"^Mentioned in this message but not attached: (.+?)\. (?:It is|They are) not", text,
                         re.MULTILINE)
    absent = {key(name) for name in declared[1].split(", ")} if declared else set()
    keys = prompt_files.name_key
    return {what: {keys(name) for name in names} for what, names in {
        "uploaded": uploaded, "inline": inline, "to_make": to_make, "absent": absent}.items()} | {
        "names": uploaded | inline | to_make}


def check_prompt(text: str, root: Path) -> None:
    """What every prompt must hold to (the issue's list), read off its text."""
    said = _said(text)
    have = said["uploaded"] | said["inline"] | said["to_make"]
    mentioned = {prompt_files.name_key(name) for name in prompt_files.mentioned_names(text)}
    # Every script it mentions is uploaded or inlined.
    scripts = {k for k in mentioned if k.rpartition(".")[2] in ("py", "ipynb", "r", "sql")}
    assert scripts <= said["uploaded"] | said["inline"], scripts - said["uploaded"] - said["inline"]
    # No file name it mentions is one the chat will not have, unless the prompt itself says so.
    missing = {prompt_files.name_key(name) for name in prompt_files.names_not_available(text, said["names"])}
    assert missing == said["absent"], missing
    assert have  # the prompt lists what the chat gets
    assert not said["absent"] & said["uploaded"]
    # Every section of the restart note reaches it; the next prompt first, quoted as the user's words.
    project = open_project(root)
    note, _record = load_note(project.root, project.inventory)
    assert note is not None
    sections = [section for section in note.sections if section.text]
    assert sections
    for section in sections:
        if section.key == "next_prompt":
            quoted = "\n".join(f"> {line}".rstrip() for line in section.text.splitlines())
            assert f"### {compose.OWN_WORDS}\n\n{quoted}" in text
        else:
            assert section.text in text, section.heading
    if note.get("next_prompt") and "\n## What the earlier session settled\n" in text:
        settled = _section(text, "What the earlier session settled")
        assert settled.index(f"### {compose.OWN_WORDS}") < min(settled.index(f"### {s.heading}") for s in sections
                                                               if s.key not in ("next_prompt", "brief"))


def _golden(name: str, text: str, request: pytest.FixtureRequest) -> None:
    golden = GOLDEN / f"{name}.md"
    if request.config.getoption("--snapshot-update", default=False) or not golden.exists():
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8"), f"{golden} differs: refresh it with --snapshot-update"


@pytest.mark.parametrize("template", ["rerun", "regenerate", "brief"])
def test_the_demo_goldens_hold_to_the_rules(demo: Path, template: str) -> None:
    text = (GOLDEN / f"{template}.md").read_text(encoding="utf-8")
    assert text == _prompt(demo, "demo", template)[0]  # the golden is this version's prompt
    check_prompt(text, demo)
    assert "analysis.py (" in _section(text, "Attached files")  # the code the note names goes with it
    assert "marketing_spend_2025.csv" in _said(text)["absent"]  # the note's wish for a clearer name: not a file


def test_golden_prompt_of_the_split_demo(split_demo: Path, request: pytest.FixtureRequest) -> None:
    text, context = _prompt(split_demo, "demo")
    _golden("rerun-split", text, request)
    check_prompt(text, split_demo)
    # The parts are one table, put back together, and the prompt states the whole table's rows, as counted.
    with open(split_demo / "SOURCE" / "transactions_2025.csv", "rb") as original:
        rows = sum(chunk.count(b"\n") for chunk in iter(lambda: original.read(1 << 20), b"")) - 1
    attached = _section(text, "Attached files")
    assert re.search(r"^1\. transactions_2025\.csv, uploaded as 2 parts \(60\.3 MB in all; "
                     rf"{rows:,} rows × 12 columns", attached, re.MULTILINE)
    assert "   - transactions_2025.part1.csv (45.0 MB; " in attached
    assert "   - transactions_2025.part2.csv (15.3 MB; " in attached
    assert "keep it once" in attached and f"check that it has {rows:,} rows." in attached
    assert attached.count("transactions_2025.csv") == 2  # the table, and what to call it once whole
    assert len(context.upload_paths) == 6  # two parts and four tables; the code after them
    assert [path.name for path in context.code_paths] == ["analysis.py"]


def test_golden_prompt_of_a_project_recovered_from_an_export(recovered: Path,
                                                             request: pytest.FixtureRequest) -> None:
    text, _context = _prompt(recovered, "sales")
    _golden("rerun-recovered", text, request)
    check_prompt(text, recovered)
    said = _said(text)
    assert said["uploaded"] == {"sales.csv", "sales-by-region.py"} and not said["absent"]
    assert "> Add the margin column next." in text  # the chat's last request, as the note's next prompt
    assert "by running the attached sales-by-region.py" in text
    assert "1. sales.csv (" in text and "2. sales-by-region.py (" in text


def test_a_recovered_project_without_its_upload_says_so(recovered: Path, tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "sales"
    shutil.copytree(recovered, root)
    (root / "SOURCE" / "sales.csv").unlink()
    templates, _ = compose.load_templates(Path("/nonexistent"))
    prompt = compose.assemble(templates["rerun"], _gather(root, "sales"))
    assert prompt.unavailable == ["sales.csv"]
    assert any("names 1 file the chat will not have" in warning and "sales.csv" in warning
               for warning in prompt.warnings)
    assert "Mentioned in this message but not attached: sales.csv. It is not in this chat" in prompt.text
    check_prompt(prompt.text, root)


# --- the code ------------------------------------------------------------------------------------------------


def test_the_code_is_uploaded_after_the_data_or_inlined_instead(demo: Path) -> None:
    context = _gather(demo, "demo")
    templates, _ = compose.load_templates(Path("/nonexistent"))
    uploaded = compose.assemble(templates["rerun"], context)
    assert uploaded.upload_paths == [*context.upload_paths, demo / "CODE" / "analysis.py"]
    assert "6. analysis.py (2.8 KB; Python script)" in uploaded.text and "```" not in uploaded.text
    assert "by running the attached analysis.py (it was written for my project folder" in uploaded.text
    assert "The code comes after the data." in uploaded.text
    inline = compose.assemble(templates["rerun"], context, include_code=True)
    assert inline.upload_paths == context.upload_paths and "analysis.py (" not in inline.text
    assert "### CODE/analysis.py\n\n```python" in inline.text and "using the code below as the reference" in inline.text
    check_prompt(inline.text, demo)


def _records(*names: str, mtime: float = 0.0) -> list[FileRecord]:
    kinds = {"py": "python", "ipynb": "notebook", "sql": "sql", "r": "r", "txt": "text"}
    return [FileRecord(f"CODE/{name}", Role.CODE, False, kinds[name.rpartition(".")[2].lower()], 10,
                       mtime + index) for index, name in enumerate(names)]


def test_the_code_that_goes_is_what_the_note_names_else_all_of_it_up_to_a_cap() -> None:
    records = _records("clean.py", "model.ipynb", "scratch.py", "query.sql", "readme.txt")
    chosen, warning = prompt_files.choose_code(records, "- Model in `model.ipynb`, cleaning in CODE/clean.py")
    assert [record.name for record in chosen] == ["model.ipynb", "clean.py"]  # the note's order
    assert warning is not None and "2 scripts in CODE/ not sent: CODE/scratch.py, CODE/query.sql" in warning
    chosen, warning = prompt_files.choose_code(records, "no names here")
    assert [record.name for record in chosen] == ["clean.py", "model.ipynb", "query.sql", "scratch.py"]
    assert warning is None  # a text file goes only when the note names it
    many = _records(*(f"step_{number:02d}.py" for number in range(30)))
    chosen, warning = prompt_files.choose_code(many, "")
    assert len(chosen) == prompt_files.MAX_CODE_FILES and chosen[0].name == "step_10.py"  # the ones changed last
    assert warning is not None and "30 scripts" in warning


def test_the_code_counts_against_the_upload_limit(demo: Path) -> None:
    context = dataclasses.replace(_gather(demo, "demo"), files_per_window=5)
    templates, _ = compose.load_templates(Path("/nonexistent"))
    prompt = compose.assemble(templates["rerun"], context)
    assert any(warning.startswith("6 files to upload with the code: more than the 5 a chat accepts in 3 hours")
               for warning in prompt.warnings)
    assert not any("files to upload with the code" in warning
                   for warning in compose.assemble(templates["rerun"], context, include_code=True).warnings)


# --- the note ------------------------------------------------------------------------------------------------


def test_a_template_without_the_note_says_what_it_leaves_out(demo: Path) -> None:
    context = _gather(demo, "demo")
    template = compose.Template("short", "Short", "", "Files:\n{{uploads}}\n", "test")
    text = compose.assemble(template, context).text
    assert text.rstrip().endswith("(Not in this message: my restart note's Project brief, Next prompt if the "
                                  "session expires, Files used, Columns used, Filters applied, Formulas and code "
                                  "decisions, Generated outputs, Notes: this template has no place for them.)")
    with_note = compose.Template("mine", "Mine", "", "{{note}}\n", "test")
    text = compose.assemble(with_note, context).text
    assert text.startswith(f"### {compose.OWN_WORDS}\n\n> I'm continuing a sales analysis")
    assert "### Project brief\n\nReview 2025 sales" in text and "Not in this message" not in text


# --- the order -----------------------------------------------------------------------------------------------


def test_the_code_tells_the_order_the_files_are_read_in() -> None:
    python = ('DATA = "/mnt/data/"\nPRICES = DATA + "prices.xlsx"\n# orders.csv is the shop export\n'
              'orders = pd.read_csv(os.path.join(DATA, "orders.csv"), sep=";")\n'
              'prices = pd.read_excel(PRICES, sheet_name="2025")\nwith open("/mnt/data/notes.txt") as f:\n    pass\n')
    r = 'survey <- read.csv("survey.csv")\nlibrary(readxl)\nbudget <- readxl::read_excel(\'budget.xlsx\')\n'
    names = ["orders.csv", "prices.xlsx", "notes.txt", "survey.csv", "budget.xlsx", "unused.csv"]
    reads = prompt_files.code_reads([("a.py", python), ("b.R", r)], names)
    ordered = sorted(reads, key=lambda key: reads[key][1:])
    assert ordered == ["orders.csv", "prices.xlsx", "notes.txt", "survey.csv", "budget.xlsx"]  # as they are read
    assert all(reads[key][0] == 0 for key in ordered)  # each by a read call (PRICES: the name it was given)
    assert prompt_files.code_reads([("c.sql", "SELECT * FROM 'orders.csv'")], ["orders.csv"])["orders.csv"][0] == 1
    order, sentence = prompt_files.upload_order([[name] for name in names], "- survey.csv: the answers\n",
                                                [("a.py", python), ("b.R", r)])
    assert [names[index] for index in order] == ["survey.csv", "orders.csv", "prices.xlsx", "notes.txt",
                                                 "budget.xlsx", "unused.csv"]
    assert sentence == ("They are in the order the analysis reads them: as my notes list them, then as the code "
                        "opens them, then the rest by name.")
    assert prompt_files.upload_order([["b.csv"], ["a.csv"]], "", [])[0] == [1, 0]


def test_file_names_the_chat_will_not_have() -> None:
    text = ("Read `revenue by region.csv` and revenue by region.csv, CODE/analysis.py, sandbox:/mnt/data/Chart%20"
            "(1).PNG, pd.read_csv, e.g. v1.2, robjects.r('x'), 0.10 and old_export.xlsx.")
    assert prompt_files.names_not_available(text, ["revenue by region.csv", "analysis.py", "chart.png"]) == [
        "old_export.xlsx"]


def test_the_names_checked_against_follow_the_context(demo: Path) -> None:
    """The names the chat will have are made once per context (the composer assembles on every keystroke), and
    made again when the context is another one or has changed since."""
    context = _gather(demo, "demo")
    mention = "Then open old_export.xlsx."
    assert compose.available_names(context) is compose.available_names(context)
    index = compose.available_names(context)
    assert prompt_files.names_not_available(mention, index) == ["old_export.xlsx"]
    context.outputs.append("old_export.xlsx")  # the same context, one output more
    assert prompt_files.names_not_available(mention, compose.available_names(context)) == []
    other = dataclasses.replace(context, outputs=[])
    assert prompt_files.names_not_available(mention, compose.available_names(other)) == ["old_export.xlsx"]


# --- split parts -------------------------------------------------------------------------------------------


def _split(root: Path, body: str, limit_mb: float) -> list[Path]:
    original = write(root / "SOURCE" / "big.csv", body)
    written = [item.path for item in split_csv(original, limit_mb).written]
    assert len(written) > 1 and record_prepared(root, original, "split", written) is None
    return written


def test_a_split_counts_its_rows_and_the_prompt_puts_the_parts_back_together(tmp_path: Path) -> None:
    root = tmp_path / "p"
    body = "id,name\n" + "".join(f"{number},row {number}\n" for number in range(1, 40_001))
    parts = _split(root, body, 0.2)
    found = read_split_set(parts[0])
    assert found is not None and found.rows == 40_000 and found.source == "big.csv"
    text = compose.assemble(compose.load_templates(Path("/nonexistent"))[0]["rerun"], _gather(root, "p")).text
    assert f"1. big.csv, uploaded as {len(parts)} parts (" in text and "check that it has 40,000 rows." in text


def test_without_a_count_in_the_list_the_parts_are_added_up(tmp_path: Path) -> None:
    root = tmp_path / "p"
    body = 'id,comment\n' + "".join(f'{number},"a ""quoted"" note, {number}"\n' for number in range(1, 20_001))
    parts = _split(root, body, 0.2)
    found = read_split_set(parts[0])
    assert found is not None and found.rows is None  # quote marks: counting them is not cheap, so not counted
    context = _gather(root, "p")
    assert next(iter(context.splits.values())).rows == "20,000"  # the parts' own counts, added up
    manifest = next((root / "SOURCE" / "prepared" / ".liferaft").glob("*.parts.json"))
    data = json.loads(manifest.read_text())
    assert "rows" not in data and len(data["parts"]) == len(parts)


def test_a_credential_in_code_that_is_uploaded_is_warned_about(recovered: Path, tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "sales"
    shutil.copytree(recovered, root)
    key = "sk-" + "proj-" + ("A1b2C3d4E5f6G7h8J9k0-_" * 4)[:74] + "T3Blbk" + "FJ" + ("Zz9Yy8Xx7Ww6Vv5Uu4" * 5)[:74]
    write(root / "CODE" / "recovered" / "client.py", f'import openai\nclient = openai.OpenAI(api_key="{key}")\n')
    context = _gather(root, "sales")
    templates, _ = compose.load_templates(Path("/nonexistent"))
    uploaded = compose.assemble(templates["rerun"], context)
    warnings = compose.uploaded_code_secrets(uploaded, context)
    assert len(warnings) == 1 and warnings[0].startswith("CODE/recovered/client.py, line 2: a possible ")
    assert key not in warnings[0]
    inline = compose.assemble(templates["rerun"], context, include_code=True)
    assert compose.uploaded_code_secrets(inline, context) == []  # inline, the secret gate redacts it

"""Writing an imported conversation: the script, the notebook, the note, the figures, the record; never over a file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from liferaft.core.project import init_project, open_project
from liferaft.core.recover import record
from liferaft.core.recover.write import PathMap, RecoverWriteError, import_raw, map_paths, sniff_extension
from liferaft.core.restart_note import load_note
from tests import recover_fixtures as fx

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64


@pytest.fixture
def proj(tmp_path: Path) -> Path:
    root = tmp_path / "sales"
    init_project(root)
    (root / "SOURCE" / "sales.csv").write_text("region,revenue\nNorth,10.5\nSouth,7\n", encoding="utf-8")
    return root


def _assets(file_id: str) -> bytes | None:
    return {"file-ChartAAAAAAAAAAAAAAAAAAA": JPEG}.get(file_id)


def test_script_maps_paths_stubs_helpers_and_comments_out_failures(proj: Path) -> None:
    result = import_raw(proj, fx.sales_conversation(), asset=_assets)
    assert result.script == "CODE/recovered/sales-by-region.py"
    text = (proj / result.script).read_text(encoding="utf-8")
    compile(text, result.script, "exec")
    assert "pd.read_csv(str(SOURCE / \"sales.csv\"))" in text
    assert "plt.savefig(str(OUTPUT / \"charts/by_region.png\"))" in text
    assert "by_region.to_csv(str(OUTPUT / \"revenue by region.csv\"))" in text
    assert "'/mnt/data" not in text and '"/mnt/data' not in text  # no literal left pointing at the sandbox
    assert "# Result: failed: KeyError: 'date'" in text
    assert "\n# df['month'] = pd.to_datetime(df['date']).dt.to_period('M')\n" in text
    assert "# Prompt: Now the monthly trend." in text
    assert 'sys.modules[_module] = _stub' in text and "def display(" in text
    assert "\r" not in text


def test_what_each_cell_printed_in_the_chat_is_kept_beside_it(proj: Path) -> None:
    """Issue 19 (exports, item 6): a cell's output as the chat recorded it follows the cell, as a short comment in
    the script and as the cell's output in the notebook, so a rerun can be compared with what the chat saw."""
    c = fx.Conversation("conv-out", "Printed things", model="gpt-4o")
    c.user("Go")
    c.code("print('rows', 3)")
    c.output("rows 3")
    c.code("for i in range(12):\n    print('line', i)")
    c.output("\n".join(f"line {i}" for i in range(12)) + "\n\x1b[31mred\x1b[0m")
    c.code("x = 1")
    c.output("")
    result = import_raw(proj, c.build(), notebook=True)
    text = (proj / result.script).read_text(encoding="utf-8")
    compile(text, result.script, "exec")
    assert "print('rows', 3)\n# In the chat it printed:\n#   rows 3\n" in text
    assert "#   line 7\n#   … (5 more lines)\n" in text and "#   line 8" not in text
    assert "\x1b" not in text
    assert text.count("# In the chat it printed:") == 2  # not after a cell that printed nothing
    notebook = json.loads((proj / result.notebook).read_text(encoding="utf-8"))
    outputs = [cell["outputs"] for cell in notebook["cells"] if cell["cell_type"] == "code"][1:]
    assert outputs[0] == [{"output_type": "stream", "name": "stdout", "text": ["rows 3"]}]
    assert "".join(outputs[1][0]["text"]).startswith("line 0\nline 1\n") and outputs[2] == []


def test_the_figure_is_copied_with_its_real_type_and_recorded(proj: Path) -> None:
    result = import_raw(proj, fx.sales_conversation(), asset=_assets)
    assert result.figures == ["OUTPUT/recovered/sales-by-region-cell03-1.jpg"]
    assert (proj / result.figures[0]).read_bytes() == JPEG
    linked = dict(record.linked_outputs(proj))
    assert set(linked) == {"revenue by region.csv", "recovered/sales-by-region-cell03-1.jpg",
                           "charts/by_region.png", "monthly_trend.csv"}
    assert set(linked.values()) == {"chat export: Sales by region"}
    assert result.to_json()["generated_files"][1]["in_output"] is True


def test_note_is_prefilled(proj: Path) -> None:
    import_raw(proj, fx.sales_conversation(), asset=_assets)
    project = open_project(proj)
    note, _ = load_note(proj, project.inventory)
    assert note is not None
    assert "`sales.csv`" in note.get("files") and "in SOURCE/sales.csv" in note.get("files")
    outputs = note.get("outputs")
    assert "`charts/by_region.png` — made in the chat, not saved here" in outputs
    assert "`recovered/sales-by-region-cell03-1.jpg` — copied from the export" in outputs
    assert note.get("next_prompt") == "Add the margin column next."
    decisions = note.items("decisions")
    assert "Cell 2: Total revenue per region" in decisions
    assert not any(item.startswith("Cell 4") for item in decisions)  # the failed one


def test_reimport_is_idempotent(proj: Path) -> None:
    first = import_raw(proj, fx.sales_conversation(), asset=_assets, notebook=True)
    assert ".liferaft/recovered.json" in first.written
    before = {p: p.read_bytes() for p in proj.rglob("*") if p.is_file()}
    again = import_raw(proj, fx.sales_conversation(), asset=_assets, notebook=True)
    assert again.written == []
    assert set(again.unchanged) >= {"CODE/recovered/sales-by-region.py", "CODE/recovered/sales-by-region.ipynb",
                                    "OUTPUT/recovered/sales-by-region-cell03-1.jpg", "RESTART/restart-note.md"}
    assert {p: p.read_bytes() for p in proj.rglob("*") if p.is_file()} == before


def test_different_content_gets_a_new_name_never_overwriting(proj: Path) -> None:
    mine = proj / "CODE" / "recovered" / "sales-by-region.py"
    mine.parent.mkdir(parents=True)
    mine.write_text("# my own script\n", encoding="utf-8")
    result = import_raw(proj, fx.sales_conversation())
    assert result.script == "CODE/recovered/sales-by-region-2.py"
    assert mine.read_text(encoding="utf-8") == "# my own script\n"


def test_user_text_in_the_note_is_kept_and_new_items_appended(proj: Path) -> None:
    note_path = proj / "RESTART" / "restart-note.md"
    text = note_path.read_text(encoding="utf-8")
    text = text.replace("## Generated outputs\n\n", "## Generated outputs\n\n- `monthly_trend.csv` — my own words\n"
                        "<!-- keep me -->\n", 1)
    text = text.replace("## Next prompt if the session expires\n\n", "## Next prompt if the session expires\n\n"
                        "Carry on with margins.\n", 1)
    note_path.write_text(text, encoding="utf-8")
    import_raw(proj, fx.sales_conversation())
    after = note_path.read_text(encoding="utf-8")
    assert "## Generated outputs\n\n- `monthly_trend.csv` — my own words\n<!-- keep me -->\n" in after
    assert after.index("keep me") < after.index("- `revenue by region.csv` — made in the chat") < after.index(
        "## Next prompt")
    assert after.count("monthly_trend.csv") == 1
    assert "Carry on with margins." in after and "Add the margin column next." not in after


def test_an_output_is_matched_by_its_whole_name_not_part_of_another(proj: Path) -> None:
    note_path = proj / "RESTART" / "restart-note.md"
    text = note_path.read_text(encoding="utf-8")
    note_path.write_text(text.replace("## Generated outputs\n\n", "## Generated outputs\n\n"
                                      "- revenue_by_region.png — an older chart\n", 1), encoding="utf-8")
    import_raw(proj, fx.sales_conversation())  # it makes charts/by_region.png
    after = note_path.read_text(encoding="utf-8")
    assert "- `charts/by_region.png` — made in the chat, not saved here" in after
    assert after.count("revenue_by_region.png") == 1


def test_reset_banner_and_notebook(proj: Path) -> None:
    result = import_raw(proj, fx.era_2023(), notebook=True)
    text = (proj / result.script).read_text(encoding="utf-8")
    banner = text.index("# SANDBOX RESET")
    assert text.index("# %% Cell 1") < banner < text.index("# %% Cell 2")
    assert "# Result: did not run: the sandbox had been reset" in text
    notebook = json.loads((proj / result.notebook).read_text(encoding="utf-8"))
    assert notebook["nbformat"] == 4 and notebook["nbformat_minor"] == 5
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert len(code) == 3 and all(cell["id"] for cell in notebook["cells"])
    assert "PROJECT = Path.cwd().resolve().parents[1]" in "".join(code[0]["source"])


def test_other_role_folder_names(tmp_path: Path) -> None:
    root = tmp_path / "p"
    for name in ("data", "scripts", "results", "notes"):
        (root / name).mkdir(parents=True)
    (root / "data" / "raw").mkdir()
    (root / "data" / "raw" / "sales.csv").write_text("a\n1\n", encoding="utf-8")
    result = import_raw(root, fx.sales_conversation())
    assert result.script == "scripts/recovered/sales-by-region.py"
    text = (root / result.script).read_text(encoding="utf-8")
    assert 'SOURCE = PROJECT / "data"' in text and 'OUTPUT = PROJECT / "results"' in text
    assert 'str(SOURCE / "raw/sales.csv")' in text
    assert (root / "notes" / "restart-note.md").is_file()


def test_abandoned_cells_marked_in_all_branches_mode(proj: Path) -> None:
    result = import_raw(proj, fx.branched_conversation(), all_branches=True)
    text = (proj / result.script).read_text(encoding="utf-8")
    assert text.count("abandoned branch") == 1
    assert text.index("abandoned branch") < text.index("dropna")


def test_a_conversation_without_code_writes_no_script(proj: Path) -> None:
    result = import_raw(proj, fx.plain_chat())
    assert result.script is None and not (proj / "CODE" / "recovered").exists()


def test_corrupt_record_is_kept_aside(proj: Path) -> None:
    path = record.recovered_path(proj)
    path.parent.mkdir(exist_ok=True)
    path.write_text("{not json", encoding="utf-8")
    result = import_raw(proj, fx.sales_conversation())
    assert any("kept as" in problem for problem in result.problems)
    assert list(path.parent.glob("recovered.json.corrupt-*"))
    assert record.linked_outputs(proj)


def test_missing_uploads(proj: Path) -> None:
    import_raw(proj, fx.era_2025_text())
    import_raw(proj, fx.sales_conversation())
    inventory = open_project(proj).inventory
    assert [item["name"] for item in record.missing_uploads(proj, inventory)] == ["bundle.zip"]


def test_map_paths_variants() -> None:
    paths = PathMap({"sales.csv": None})
    code = ("a = '/mnt/data/sales.csv'\nb = r\"/mnt/data/out.png\"\nc = f'/mnt/data/{n}.csv'\n"
            "d = os.path.join('/mnt/data', 'x')\ne = '/mnt/data/' + n\nf = b'/mnt/data/raw'\n# '/mnt/data/c.csv'\n")
    mapped = map_paths(code, paths)
    assert "a = str(SOURCE / \"sales.csv\")" in mapped
    assert "b = str(OUTPUT / \"out.png\")" in mapped
    assert "c = mnt_data_path(f'{n}.csv')" in mapped
    assert "d = mnt_data_path('x')" in mapped
    assert "e = MNT_DATA + n" in mapped
    assert "f = b'/mnt/data/raw'" in mapped and "# '/mnt/data/c.csv'" in mapped
    broken = "if x:\n  y = '/mnt/data/sales.csv'\n )"
    assert 'str(SOURCE / "sales.csv")' in map_paths(broken, paths)


def test_sniff_extension() -> None:
    assert sniff_extension(fx.PNG_1X1) == "png"
    assert sniff_extension(JPEG) == "jpg"
    assert sniff_extension(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "webp"
    assert sniff_extension(b"%PDF-1.7") == "pdf"
    assert sniff_extension(b"  <svg xmlns='x'>") == "svg"
    assert sniff_extension(b"hello") is None


def test_ipython_magics_and_unparsable_cells_are_commented(proj: Path) -> None:
    c = fx.Conversation("m", "Magics")
    c.user("go")
    c.code("!pip install foo\n%matplotlib inline\nx = 1")
    c.output("")
    c.code("def broken(:\n    pass")
    c.output("")
    result = import_raw(proj, c.build())
    text = (proj / result.script).read_text(encoding="utf-8")
    assert "# IPython only, not run here: !pip install foo" in text
    assert "# Not valid Python here" in text
    run = subprocess.run([sys.executable, str(proj / result.script)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr


FAKE_PYPLOT = '''
_figures = {}


class _Figure:
    def savefig(self, path):
        open(path, "wb").write(b"\\x89PNG\\r\\n\\x1a\\nfake")


def plot(*args):
    _figures[len(_figures) + 1] = _Figure()


def show():
    pass


def get_fignums():
    return sorted(_figures)


def figure(number):
    return _figures[number]


def close(which):
    _figures.clear()
'''


def test_the_script_saves_the_charts_the_export_lacks(proj: Path, tmp_path: Path) -> None:
    fake = tmp_path / "fake"
    (fake / "matplotlib").mkdir(parents=True)
    (fake / "matplotlib" / "__init__.py").write_text("", encoding="utf-8")
    (fake / "matplotlib" / "pyplot.py").write_text(FAKE_PYPLOT, encoding="utf-8")
    c = fx.Conversation("f", "Two charts")
    c.user("plot twice")
    c.code("import matplotlib.pyplot as plt\nplt.plot([1])\nplt.show()\nplt.plot([2])")
    c.output("", images=["file-service://file-InExport", "file-service://file-NotInExport"])
    c.code("plt.plot([3])")
    c.output("")
    result = import_raw(proj, c.build(), asset={"file-InExport": JPEG}.get)
    copied = proj / "OUTPUT" / "recovered" / "two-charts-cell01-1.jpg"
    assert copied.read_bytes() == JPEG
    assert "recovered/two-charts-cell01-2.png" in dict(record.linked_outputs(proj))
    run = subprocess.run([sys.executable, str(proj / result.script)], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "PYTHONPATH": str(fake)})
    assert run.returncode == 0, run.stderr
    assert copied.read_bytes() == JPEG  # never over the copy from the export
    assert (proj / "OUTPUT" / "recovered" / "two-charts-cell01-2.png").read_bytes().startswith(b"\x89PNG")
    assert sorted(p.name for p in (proj / "OUTPUT" / "recovered").iterdir()) == ["two-charts-cell01-1.jpg",
                                                                                "two-charts-cell01-2.png"]


def test_the_bare_sandbox_folder_becomes_an_object_that_finds_uploads() -> None:
    paths = PathMap({"sales.csv": "raw/sales.csv"})
    code = ("DATA = Path('/mnt/data')\nA = pathlib.Path(\"/mnt/data/\", 'sales.csv')\n"
            "B = os.path.join('/mnt/data', 'sub', 'x.csv')\nC = join('/mnt/data')\nD = '/mnt/data'\n"
            "E = Path('/mnt/data') / 'sales.csv'\nF = os.path.join(\n    '/mnt/data',  # the folder\n    name)\n")
    mapped = map_paths(code, paths)
    assert mapped == ("DATA = MNT_DATA\nA = MNT_DATA.joinpath('sales.csv')\nB = mnt_data_path('sub', 'x.csv')\n"
                      "C = mnt_data_path()\nD = MNT_DATA\nE = MNT_DATA / 'sales.csv'\n"
                      "F = mnt_data_path(  # the folder\n    name)\n")


def test_the_mnt_data_object_resolves_uploads_to_source_and_the_rest_to_output(proj: Path, tmp_path: Path) -> None:
    (proj / "SOURCE" / "raw").mkdir()
    (proj / "SOURCE" / "raw" / "Deep.csv").write_text("a\n1\n", encoding="utf-8")
    c = fx.Conversation("mnt", "Mnt data object")
    c.user("go", attachments=[fx.attachment("sales.csv", 10), fx.attachment("deep.csv", 4)])
    c.code("import os, json\nfrom pathlib import Path\nD = Path('/mnt/data')\nS = '/mnt/data/'\n"
           "print(json.dumps([str(D / 'SALES.csv'), str(D / 'sub' / 'o.csv'), str(D.joinpath('deep.csv')),\n"
           "    os.path.join('/mnt/data', 'sales.csv'), os.path.join('/mnt/data', 'o.csv'), S + 'sales.csv',\n"
           "    str(Path(D, 'o.csv')), os.fspath(D), f'{D}', sorted(p.name for p in D.glob('*.csv')),\n"
           "    D.exists(), D == Path(os.fspath(D))]))")
    c.output("")
    result = import_raw(proj, c.build())
    run = subprocess.run([sys.executable, str(proj / result.script)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    source, output = proj.resolve() / "SOURCE", proj.resolve() / "OUTPUT"
    assert json.loads(run.stdout.splitlines()[-1]) == [
        str(source / "sales.csv"), str(output / "sub" / "o.csv"), str(source / "raw" / "Deep.csv"),
        str(source / "sales.csv"), str(output / "o.csv"), str(source / "sales.csv"), str(output / "o.csv"),
        str(output), str(output), ["Deep.csv", "sales.csv"], True, True]


def test_a_target_that_cannot_be_written_stops_the_import_before_any_file(proj: Path) -> None:
    (proj / "OUTPUT" / "recovered").write_text("in the way\n", encoding="utf-8")  # the figures' folder is a file
    note = proj / "RESTART" / "restart-note.md"
    before = {p: p.read_bytes() for p in proj.rglob("*") if p.is_file()}
    with pytest.raises(RecoverWriteError) as failure:
        import_raw(proj, fx.sales_conversation(), asset=_assets)
    assert "OUTPUT/recovered" in str(failure.value) and "nothing was written" in str(failure.value)
    assert not (proj / "CODE" / "recovered").exists()
    assert {p: p.read_bytes() for p in proj.rglob("*") if p.is_file()} == before
    assert note.read_bytes() == before[note] and not record.recovered_path(proj).exists()


def test_a_record_that_is_a_folder_stops_the_import_before_any_file(proj: Path) -> None:
    record.recovered_path(proj).mkdir(parents=True)
    with pytest.raises(RecoverWriteError) as failure:
        import_raw(proj, fx.sales_conversation(), asset=_assets)
    assert ".liferaft/recovered.json" in str(failure.value)
    assert not (proj / "CODE" / "recovered").exists() and not (proj / "OUTPUT" / "recovered").exists()


def test_a_failure_while_writing_removes_only_what_this_import_created(proj: Path, monkeypatch) -> None:
    first = import_raw(proj, fx.era_2023())  # an earlier import: its files stay
    mine = proj / "CODE" / "recovered" / "sales-by-region.py"
    mine.write_text("# my own script\n", encoding="utf-8")
    note = proj / "RESTART" / "restart-note.md"
    before = {p: p.read_bytes() for p in proj.rglob("*") if p.is_file()}
    real = record.record_import

    def full_disk(root: Path, entry: dict) -> tuple[bool, list[str]]:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(record, "record_import", full_disk)
    with pytest.raises(RecoverWriteError) as failure:
        import_raw(proj, fx.sales_conversation(), asset=_assets, notebook=True)
    assert ".liferaft/recovered.json" in str(failure.value) and "No space left" in str(failure.value)
    after = {p: p.read_bytes() for p in proj.rglob("*") if p.is_file()}
    assert after == before  # the new script, notebook and figure are gone; the note is as it was
    assert not (proj / "OUTPUT" / "recovered").exists()  # the folder it made too
    assert (proj / first.script).is_file() and mine.read_text(encoding="utf-8") == "# my own script\n"
    assert note.read_bytes() == before[note]
    monkeypatch.setattr(record, "record_import", real)
    assert import_raw(proj, fx.sales_conversation(), asset=_assets).script == "CODE/recovered/sales-by-region-2.py"

"""The issue's "Done when": import an export of a data-analysis chat, run the recovered script on the re-uploaded
files up to the first cell that needs a missing one, and `liferaft status` lists exactly what OUTPUT lacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests import recover_fixtures as fx

#: The recovered script runs with the Python running the tests (it has pandas), wherever its environment is.
PYTHON = Path(sys.executable)
CHART_ID = "file-E2eChartAAAAAAAAAAAAAAA"


def analysis() -> dict:
    c = fx.Conversation("conv-e2e", "Quarterly sales review", model="gpt-4o", start=fx.T0 + 40 * 86400)
    c.user("Here are sales and targets: summarise by region.",
           attachments=[fx.attachment("sales.csv", 40), fx.attachment("targets.csv", 30, camel=True)])
    c.code("import pandas as pd\r\ndf = pd.read_csv('/mnt/data/sales.csv')\r\ndf.head()")
    c.output("  region  revenue")
    c.code("# Revenue per region\nsummary = df.groupby('region', as_index=False)['revenue'].sum()\n"
           "summary.to_csv('/mnt/data/summary.csv', index=False)\nsummary")
    c.output("  region  revenue")
    c.code("from PIL import Image\nImage.new('RGB', (4, 4), 'red').save('/mnt/data/charts/by_region.png')\n"
           "import ace_tools as tools\ntools.display_dataframe_to_user(name='Summary table', dataframe=summary)\n"
           "tools.display_text_to_user(name='Method', text='revenue summed by region')\n"
           "display(summary)")
    c.output("", images=[f"file-service://{CHART_ID}"],
             ada=[{"type": "table", "file_id": "file-Ada", "title": "Summary table"}])
    c.say("Done: [summary](sandbox:/mnt/data/summary.csv), `sandbox:/mnt/data/charts/by_region.png`, and the "
          "report [here](sandbox:/mnt/data/report%20final.pdf).")
    c.user("Compare with the targets.")
    c.code("targets = pd.read_csv('/mnt/data/targets.csv')\nmerged = summary.merge(targets, on='region')\n"
           "merged.to_csv('/mnt/data/vs_targets.csv')")
    c.output("")
    c.user("Now add the margin.")
    return c.build()


def test_done_when(tmp_path: Path, run_cli) -> None:
    export = fx.write_classic_zip(tmp_path / "export.zip", [fx.plain_chat(), analysis()],
                                  {f"{CHART_ID}-0b1c2d3e.png": fx.PNG_1X1})
    project = tmp_path / "review"
    assert run_cli("init", str(project)).returncode == 0
    (project / "SOURCE" / "sales.csv").write_text("region,revenue\nNorth,10\nSouth,7\nNorth,5\n", encoding="utf-8")

    result = run_cli("import", str(export), "--conversation", "Quarterly sales review", "--into", str(project),
                     "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["conversation"] == {"id": "conv-e2e", "title": "Quarterly sales review"}
    assert (data["code_cells"], data["failed_cells"], data["resets"]) == (4, 0, 0)
    assert [u["name"] for u in data["uploads"]] == ["sales.csv", "targets.csv"]
    script = project / "CODE" / "recovered" / "quarterly-sales-review.py"
    assert "CODE/recovered/quarterly-sales-review.py" in data["written"]

    # The script runs on the re-uploaded file, and stops at the first cell that needs the missing one.
    run = subprocess.run([str(PYTHON), str(script)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert run.returncode != 0
    assert "FileNotFoundError" in run.stderr and "targets.csv" in run.stderr
    output = project / "OUTPUT"
    assert (output / "summary.csv").read_text(encoding="utf-8").splitlines() == ["region,revenue", "North,15",
                                                                                 "South,7"]
    assert (output / "charts" / "by_region.png").is_file()
    assert (output / "Summary table.csv").is_file()  # the sandbox's interactive table, saved by the stub
    assert "revenue summed by region" in run.stdout  # a helper with no stand-in of its own is printed
    assert (output / "recovered" / "quarterly-sales-review-cell03-1.png").read_bytes() == fx.PNG_1X1
    assert not (output / "vs_targets.csv").exists()

    # `liferaft status` lists exactly the generated files OUTPUT still lacks, and the upload SOURCE lacks.
    status = run_cli("status", str(project), "--json")
    assert status.returncode == 1, status.stderr
    risk = json.loads(status.stdout)
    assert sorted(item["name"] for item in risk["missing_outputs"]) == ["report final.pdf", "vs_targets.csv"]
    assert all(any(s.startswith("chat export: Quarterly") for s in item["sources"]) for item in risk["missing_outputs"])
    assert [item["name"] for item in risk["missing_uploads"]] == ["targets.csv"]

    # The restart note is filled, and the composer's rerun prompt asks for the missing outputs again.
    note = (project / "RESTART" / "restart-note.md").read_text(encoding="utf-8")
    assert "`targets.csv` — uploaded to the chat, 30 B; not in SOURCE yet" in note
    assert "Cell 2: Revenue per region" in note
    assert "## Next prompt if the session expires\n\nNow add the margin." in note
    prompt = run_cli("prompt", str(project))
    assert prompt.returncode == 0, prompt.stderr
    assert "report final.pdf (made in the earlier chat, never saved)" in prompt.stdout
    assert "vs_targets.csv (made in the earlier chat, never saved)" in prompt.stdout

    # Importing again changes nothing.
    again = run_cli("import", str(export), "--conversation", "conv-e2e", "--into", str(project), "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["written"] == []


def _imported(tmp_path: Path, run_cli, conversation: dict, sources: dict[str, str]) -> Path:
    """A new project whose SOURCE holds ``sources`` (name → text), with ``conversation`` imported into it from an
    export: the project."""
    export = fx.write_classic_zip(tmp_path / "export.zip", [conversation])
    project = tmp_path / "proj"
    assert run_cli("init", str(project)).returncode == 0
    for name, text in sources.items():
        (project / "SOURCE" / name).write_text(text, encoding="utf-8")
    result = run_cli("import", str(export), "--into", str(project), "--json")
    assert result.returncode == 0, result.stderr
    return project


def test_a_data_folder_variable_reaches_the_uploads_in_source(tmp_path: Path, run_cli) -> None:
    c = fx.Conversation("conv-paths", "Folder variables", model="gpt-5-thinking")
    c.user("Here", attachments=[fx.attachment("sales.csv", 40), fx.attachment("Physician's Excuse.csv", 20,
                                                                              camel=True),
                                fx.attachment("later.csv", 10)])
    c.code("import pandas as pd, os\nfrom pathlib import Path\nDATA = Path('/mnt/data')\n"
           "df = pd.read_csv(DATA / 'sales.csv')\nprint('rows', len(df))", style="text")
    c.output("rows 2")
    c.code("notes = pd.read_csv(os.path.join('/mnt/data', \"Physician's Excuse.csv\"))\nprint('notes', notes.shape)")
    c.output("notes (1, 1)")
    c.code("df.to_csv(os.path.join('/mnt/data', 'x.csv'), index=False)\n(DATA / 'sub').mkdir(exist_ok=True)\n"
           "df.to_csv(DATA / 'sub' / 'y.csv', index=False)")
    c.output("")
    c.code("later = pd.read_csv(DATA / 'later.csv')")
    c.output("")
    c.code("print('never reached')")
    c.output("never reached")
    project = _imported(tmp_path, run_cli, c.build(), {"sales.csv": "region,revenue\nNorth,10\nSouth,7\n",
                                                       "Physician's Excuse.csv": "note\nok\n"})
    script = project / "CODE" / "recovered" / "folder-variables.py"
    text = script.read_text(encoding="utf-8")
    assert "DATA = MNT_DATA\n" in text and "mnt_data_path(\"Physician's Excuse.csv\")" in text

    run = subprocess.run([str(PYTHON), str(script)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert run.returncode != 0
    assert "rows 2" in run.stdout and "notes (1, 1)" in run.stdout and "never reached" not in run.stdout
    assert "FileNotFoundError" in run.stderr and str(Path("SOURCE") / "later.csv") in run.stderr
    output = project / "OUTPUT"
    assert (output / "x.csv").read_text(encoding="utf-8") == "region,revenue\nNorth,10\nSouth,7\n"
    assert (output / "sub" / "y.csv").is_file()


def test_computed_names_patterns_and_listings_reach_the_uploads_in_source(tmp_path: Path, run_cli) -> None:
    """Issue 19 (exports, item 2): f"/mnt/data/{name}", glob.glob("/mnt/data/*.md") and os.listdir("/mnt/data")
    in the chat's code see the uploads (in SOURCE) as well as the outputs (in OUTPUT) when the script reruns."""
    c = fx.Conversation("conv-computed", "Computed paths", model="gpt-4o")
    c.user("Here", attachments=[fx.attachment("sales.csv", 40), fx.attachment("notes.md", 10)])
    c.code("import glob, os\nimport pandas as pd\nname = 'sales.csv'\ndf = pd.read_csv(f'/mnt/data/{name}')\n"
           "print('rows', len(df))\nfor i in range(2):\n    df.to_csv(f'/mnt/data/part_{i}.csv', index=False)")
    c.output("rows 2")
    c.code("print('notes', [os.path.basename(p) for p in glob.glob('/mnt/data/*.md')])\n"
           "print('listed', sorted(os.listdir('/mnt/data')))\n"
           "print('parts', sorted(os.path.basename(p) for p in glob.iglob('/mnt/data/part_*.csv')))")
    c.output("")
    project = _imported(tmp_path, run_cli, c.build(), {"sales.csv": "region,revenue\nNorth,10\nSouth,7\n",
                                                       "notes.md": "# notes\n"})
    script = project / "CODE" / "recovered" / "computed-paths.py"
    run = subprocess.run([str(PYTHON), str(script)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "rows 2" in run.stdout
    assert "notes ['notes.md']" in run.stdout
    assert "listed ['notes.md', 'part_0.csv', 'part_1.csv', 'sales.csv']" in run.stdout
    assert "parts ['part_0.csv', 'part_1.csv']" in run.stdout
    assert (project / "OUTPUT" / "part_1.csv").is_file() and not (project / "SOURCE" / "part_1.csv").exists()

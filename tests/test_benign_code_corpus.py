"""The shape of the benign analysis-code corpus (tests/data/real/benign_code/), not the gate's results on it: those
are measured by ``python tests/bench/run.py benign-code`` (issue 15)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parent / "data" / "real" / "benign_code"


@pytest.fixture(scope="module")
def sources() -> dict[str, list[str]]:
    rows = {}
    for line in (CORPUS / "SOURCES.md").read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("| ") and len(cells) == 6 and cells[0] not in ("file", "---"):
            rows[cells[0]] = cells[1:]
    return rows


@pytest.fixture(scope="module")
def files() -> list[Path]:
    return sorted(p for p in CORPUS.iterdir() if p.is_file() and p.name != "SOURCES.md")


def test_at_least_sixty_files(files):
    assert len(files) >= 60


def test_every_file_has_a_source_and_every_source_a_file(files, sources):
    names = {p.name for p in files}
    assert names - sources.keys() == set(), "files missing from SOURCES.md"
    assert sources.keys() - names == set(), "SOURCES.md rows without a file"


def test_sources_name_repository_path_commit_and_licence(sources):
    for name, (repo, path, commit, licence, reduction) in sources.items():
        assert re.fullmatch(r"[\w.-]+/[\w.-]+", repo), name
        assert path and licence and reduction, name
        assert re.fullmatch(r"[0-9a-f]{40}", commit), name


def test_the_kinds_of_analysis_material_are_all_there(files):
    suffixes = {p.suffix.lower() for p in files}
    for suffix in (".ipynb", ".py", ".r", ".sql", ".sh", ".yml", ".csv", ".md", ".lock", ".example"):
        assert suffix in suffixes, suffix


def test_notebooks_are_json_and_some_keep_an_embedded_image(files):
    with_image = 0
    for path in files:
        if path.suffix == ".ipynb":
            notebook = json.loads(path.read_text(encoding="utf-8"))
            outputs = [o for c in notebook["cells"] for o in c.get("outputs", [])]
            with_image += any("image/png" in o.get("data", {}) for o in outputs)
    assert with_image >= 3


def test_files_are_utf8_text(files):
    for path in files:
        path.read_text(encoding="utf-8")

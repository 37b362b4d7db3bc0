"""The requirements of a replay: the imports found in chat code, and what they come to (no network)."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

import pytest

from liferaft.core.replay.packages import (
    ReplayConfigError,
    Requirement,
    find_imports,
    plan_requirements,
    requirement_specs,
    sandbox_facts,
)

CODE = Path(__file__).parent / "data" / "replay_code"


def read(name: str) -> str:
    return (CODE / name).read_text(encoding="utf-8")


def installed(plan) -> dict[str, str | None]:
    return {r.distribution: r.version for r in plan.install}


def test_imports_in_chat_code() -> None:
    assert find_imports([read("sales_summary.py")]) == {"pandas", "matplotlib", "ace_tools"}
    # IPython lines (!pip, %matplotlib, df?) do not stop the rest being read; relative imports are left out.
    assert find_imports([read("notebook_cells.py")]) == {"numpy", "seaborn", "scipy", "sklearn", "helpers"}
    # Imports inside functions and try blocks count.
    assert find_imports([read("report_export.py")]) == {
        "os", "json", "pathlib", "docx", "PIL", "fitz", "ace_tools_open", "caas_jupyter_tools", "cv2", "yaml",
        "bs4", "dateutil", "mysterious_internal_lib",
    }  # fmt: skip


def test_imports_of_code_that_does_not_parse_are_read_by_line() -> None:
    source = "import pandas as pd, numpy\nthis is ( not python\nfrom sklearn.cluster import KMeans\nx=1; import yaml"
    assert find_imports([source]) == {"pandas", "numpy", "sklearn", "yaml"}
    assert find_imports(["from . import a\nfrom .b import c\n"]) == set()
    dynamic = "import importlib\nm = importlib.import_module('plotly.express')\n"
    assert find_imports([dynamic]) == {"importlib", "plotly"}


def test_chat_code_maps_to_sandbox_distributions() -> None:
    imports = find_imports([read(name) for name in ("sales_summary.py", "notebook_cells.py", "report_export.py")])
    plan = plan_requirements(imports, local_modules={"helpers"})
    assert installed(plan) == {
        "ipykernel": "6.29.0", "ipython": "8.12.3",
        "numpy": "1.24.0",
        "pandas": "1.5.3",
        "matplotlib": "3.6.3", "matplotlib-inline": "0.1.6",
        "seaborn": "0.12.2",
        "scipy": "1.10.1",
        "scikit-learn": "1.1.3",
        "python-docx": "0.8.11",
        "pillow": "9.2.0",
        "pymupdf": "1.19.6",
        "opencv-python-headless": "4.5.2.54",
        "pyyaml": "6.0.1",
        "beautifulsoup4": "4.8.2",
        "python-dateutil": "2.8.2",
    }
    assert plan.stand_ins == ("ace_tools", "ace_tools_open", "caas_jupyter_tools")
    assert plan.stdlib == ("json", "os", "pathlib")
    assert plan.local == ("helpers",)
    assert plan.unknown == ("mysterious_internal_lib",)
    assert [r.distribution for r in plan.install] == sorted(
        (r.distribution for r in plan.install), key=lambda d: d.lower()
    )


def test_the_brief_mappings() -> None:
    expected = {
        "sklearn": "scikit-learn", "PIL": "pillow", "cv2": "opencv-python-headless", "docx": "python-docx",
        "pptx": "python-pptx", "fitz": "pymupdf", "yaml": "pyyaml", "bs4": "beautifulsoup4",
        "dateutil": "python-dateutil", "skimage": "scikit-image", "Crypto": "pycryptodome",
    }  # fmt: skip
    packages = sandbox_facts().packages
    assert {name: packages[name].distribution for name in expected} == expected
    same_name = {
        "pandas", "numpy", "matplotlib", "seaborn", "scipy", "statsmodels", "openpyxl", "xlrd", "plotly", "networkx",
        "sympy", "tabulate", "pyarrow", "requests", "reportlab", "pypdf", "PyPDF2", "docx2txt", "nltk", "wordcloud",
        "xgboost", "lightgbm",
    }  # fmt: skip
    assert same_name <= packages.keys()


def test_numpy_comes_with_what_is_built_on_it() -> None:
    plan = plan_requirements({"pandas"}, local_modules=set())
    assert installed(plan) == {"ipykernel": "6.29.0", "ipython": "8.12.3", "numpy": "1.24.0", "pandas": "1.5.3"}
    assert requirement_specs(plan, (3, 11)) == ["ipykernel>=6.29.0", "ipython>=8.12.3", "numpy>=1.24.0",
                                                "pandas>=1.5.3"]
    assert installed(plan_requirements({"openpyxl"}, local_modules=set())) == {
        "ipykernel": "6.29.0", "ipython": "8.12.3",
        "openpyxl": "3.0.10",
    }


def test_unknown_and_stand_ins_are_never_installed() -> None:
    plan = plan_requirements({"ace_tools", "caas_jupyter_tools", "torchy_magic", "requests"}, local_modules=set())
    names = {r.import_name for r in plan.install} | {r.distribution for r in plan.install}
    assert not names & {"ace_tools", "ace-tools", "caas_jupyter_tools", "torchy_magic"}
    assert plan.unknown == ("torchy_magic",)
    assert plan.stand_ins == ("ace_tools", "caas_jupyter_tools")
    assert installed(plan) == {"ipykernel": "6.29.0", "ipython": "8.12.3", "requests": "2.31.0"}


def test_the_kernel_is_always_installed() -> None:
    plan = plan_requirements(set(), local_modules=set())
    assert plan.install == (Requirement("ipykernel", "ipykernel", "6.29.0"),
                            Requirement("IPython", "ipython", "8.12.3"))


def test_local_modules_win_over_distributions() -> None:
    plan = plan_requirements({"yaml", "tools"}, local_modules={"yaml", "tools"})
    assert plan.local == ("tools", "yaml")
    assert installed(plan) == {"ipykernel": "6.29.0", "ipython": "8.12.3"}


@pytest.mark.parametrize(
    ("value", "spec"),
    [
        ("2.2.3", "pandas==2.2.3"),
        ("==2.2.3", "pandas==2.2.3"),
        (">=2.2", "pandas>=2.2"),
        ("pandas==2.1.0", "pandas==2.1.0"),
    ],
)
def test_override_forms(value: str, spec: str) -> None:
    plan = plan_requirements({"pandas"}, local_modules=set(), overrides={"pandas": value})
    assert spec in requirement_specs(plan, (3, 11))
    assert "numpy>=1.24.0" in requirement_specs(plan, (3, 11))


def test_an_override_installs_an_unknown_import() -> None:
    plan = plan_requirements({"mymod"}, local_modules=set(), overrides={"mymod": "mydist==1.0"})
    assert plan.unknown == ()
    assert requirement_specs(plan, (3, 12)) == ["ipykernel>=6.29.0", "ipython>=8.12.3", "mydist==1.0"]
    numpy = plan_requirements({"numpy"}, local_modules=set(), overrides={"numpy": "1.26.4"})
    assert requirement_specs(numpy, (3, 12)) == ["ipykernel>=6.29.0", "ipython>=8.12.3", "numpy==1.26.4"]


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"pandas": 2}, "must be a string"),
        ({"pandas": "latest"}, "is not a version"),
        ({"mymod": "mydist"}, "is not a version"),
        ({"mymod": "1.0"}, "names no distribution"),
        ({"pandas": "pandas 2.2"}, "is not a version"),
        ({"ace_tools": "0.0"}, "never installs it"),
        ({"typo_mod": "nonsense!"}, "is not a version"),
    ],
)
def test_bad_overrides_are_one_line_errors(overrides: dict[str, object], words: str) -> None:
    with pytest.raises(ReplayConfigError) as raised:
        plan_requirements({"pandas", "mymod"}, local_modules=set(), overrides=overrides)
    message = str(raised.value)
    assert words in message
    assert "\n" not in message
    assert message.startswith("config.toml: [replay.packages] ")


def test_the_data_file_is_dated_and_complete() -> None:
    data = tomllib.loads(resources.files("liferaft.core").joinpath("data/replay_packages.toml").read_text("utf-8"))
    assert data["checked"] and data["sandbox"]["python"] == "3.11" and data["sandbox"]["source"]
    for name, entry in data["packages"].items():
        assert entry["version"], name  # a floor for each: a bare name would resolve to the oldest release
        assert entry["confirmed"] in {"no", "kernel", "2023-11-10"}, name
        for companion in entry.get("needs", ()):
            assert companion in data["packages"], name
    assert sandbox_facts().python == (3, 11)


@pytest.mark.parametrize(("module", "distribution"), [
    ("gtts", "gTTS"), ("camelot", "camelot-py"), ("pywt", "PyWavelets"), ("cairosvg", "CairoSVG"),
    ("matplotlib_venn", "matplotlib-venn"), ("text_unidecode", "text-unidecode"), ("extract_msg", "extract-msg"),
])
def test_import_names_that_are_not_their_distributions(module: str, distribution: str) -> None:
    plan = plan_requirements({module}, local_modules=set())
    assert distribution in {requirement.distribution for requirement in plan.install}
    assert plan.unknown == ()


def test_what_the_sandbox_never_had_is_asked_about() -> None:
    plan = plan_requirements({"duckdb", "torch", "streamlit"}, local_modules=set())
    assert plan.unknown == ("duckdb", "streamlit", "torch")

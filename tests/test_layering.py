"""The core is a plain library: importing any of it must not pull in Textual."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import liferaft.core


def test_core_never_imports_textual() -> None:
    modules = [f"liferaft.core.{info.name}" for info in pkgutil.iter_modules(liferaft.core.__path__)]
    assert len(modules) >= 5
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def test_scanning_from_the_cli_does_not_import_heavy_modules(tmp_path) -> None:
    code = (
        "import sys\n"
        "from liferaft.cli import main\n"
        f"main(['scan', '--json', {str(tmp_path)!r}])\n"
        "heavy = [m for m in ('textual', 'pandas', 'rich', 'openpyxl', 'numpy') if m in sys.modules]\n"
        "print('HEAVY=' + ','.join(heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY=\n" in result.stdout

"""The command line's structure: `cli/` imports in one direction, one module per sub-command, none too long,
and `liferaft prepare` runs the workbench's fixes (core's `run_fix`), not a copy of them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import liferaft
from liferaft import _launch
from liferaft.cli import main as cli_main
from liferaft.cli.main import COMMANDS, HANDLERS, _build_parser

PACKAGE = Path(liferaft.__file__).parent
CLI = PACKAGE / "cli"


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports, at the top or inside a function (``from a import b`` gives a and a.b)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _cli_imports(path: Path) -> set[str]:
    return {name for name in _imports(path) if name == "liferaft.cli" or name.startswith("liferaft.cli.")}


def test_io_and_signals_import_nothing_of_the_cli() -> None:
    for name in ("io.py", "signals.py", "console.py"):
        assert _cli_imports(CLI / name) == set(), name


def test_commands_import_only_io_and_console() -> None:
    allowed = {"liferaft.cli.io", "liferaft.cli.console", "liferaft.cli.commands", "liferaft.cli.commands.DIR_HELP"}
    modules = sorted((CLI / "commands").glob("*.py"))
    assert len(modules) == len(COMMANDS) + 1  # and the package's __init__
    for path in modules:
        imported = {name for name in _cli_imports(path) if not name.startswith(("liferaft.cli.io.",
                                                                               "liferaft.cli.console."))}
        assert imported <= allowed, (path.name, imported - allowed)


def test_core_and_tui_never_import_the_cli() -> None:
    for folder in ("core", "tui"):
        for path in (PACKAGE / folder).rglob("*.py"):
            assert _cli_imports(path) == set(), path


def test_no_module_is_over_600_lines() -> None:
    """Issue 17: a module a newcomer can read through (the largest were 700 to 760 lines)."""
    over = {str(path.relative_to(PACKAGE)): lines for path in PACKAGE.rglob("*.py")
            if (lines := len(path.read_text(encoding="utf-8").splitlines())) > 600}
    assert over == {}


def test_every_command_has_a_module_with_add_parser_and_run() -> None:
    import importlib

    assert list(HANDLERS) == list(COMMANDS)
    for name in COMMANDS:
        module = importlib.import_module(f"liferaft.cli.commands.{name}_" if name in ("open", "import")
                                         else f"liferaft.cli.commands.{name}")
        assert callable(module.add_parser) and HANDLERS[name] is module.run
    # The launcher keeps its own list (it must not import the command line): the same commands.
    assert set(COMMANDS) - {"open", "demo"} == _launch._OTHER_COMMANDS


@pytest.mark.parametrize(("options", "action", "argument"), [
    (["--split-mb", "0.5"], "split", "0.5"),
    (["--split-mb", "45"], "split", "45.0"),
    (["--sheet", "Data 2025"], "sheet", "Data 2025"),
    (["--drop-columns", "a,,b"], "drop_columns", "a,,b"),
    (["--name", " clear name "], "name", " clear name "),
    (["--utf8"], "utf8", None),
    (["--comma"], "comma", None),
])
def test_prepare_runs_core_run_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                   options: list[str], action: str, argument: str | None) -> None:
    from liferaft.cli.commands.prepare import fix_for
    from liferaft.core import fixes
    from liferaft.core.prepare import PrepareError

    (tmp_path / "SOURCE").mkdir()
    (tmp_path / "SOURCE" / "a.csv").write_text("x\n1\n", encoding="utf-8")
    assert fix_for(_build_parser().parse_args(["prepare", "SOURCE/a.csv", *options])) == (action, argument)
    calls = []

    def fake(path: Path, what: str, given: str | None = None, **_kwargs: object) -> None:
        calls.append((Path(path).name, what, given))
        raise PrepareError("stopped by the test")

    monkeypatch.setattr(fixes, "run_fix", fake)
    assert cli_main(["prepare", "SOURCE/a.csv", str(tmp_path), *options]) == 1
    assert calls == [("a.csv", action, argument)]
    assert "stopped by the test" in capsys.readouterr().err

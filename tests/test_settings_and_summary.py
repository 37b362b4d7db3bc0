"""Settings file, clipboard fallbacks, the vendor's figures, and the project brief."""

from __future__ import annotations

import sys
import time
import tomllib
import types
from pathlib import Path

import pytest

from liferaft.core import clipboard
from liferaft.core.config import Settings, config_path, load_settings, save_settings
from liferaft.core.vendor import session_facts
from tests.conftest import write


def test_settings_round_trip_and_keep_unknown_keys(isolated_config: Path) -> None:
    write(isolated_config / "config.toml", 'account_email = "me@example.com"\ntheme = "nord"\n')
    loaded = load_settings()
    assert loaded.settings.theme == "nord" and loaded.warnings == []
    loaded.settings.theme = "gruvbox"
    loaded.settings.keys["project.set_role"] = "ctrl+o"
    save_settings(loaded.settings)
    data = tomllib.loads(config_path().read_text())
    assert data == {"account_email": "me@example.com", "theme": "gruvbox", "keys": {"project.set_role": "ctrl+o"}}


def test_missing_settings_are_defaults(isolated_config: Path) -> None:
    loaded = load_settings()
    assert loaded.settings == Settings() and loaded.warnings == [] and loaded.writable


@pytest.mark.parametrize("content,expect", [
    (b"theme = [", "not valid TOML"),
    (b"\xff\xfe", "not valid TOML"),
    (b"theme = 3\n", "theme must be a string"),
    (b"keys = 3\n", "[keys] must be a table"),
    (b'[keys]\n"app.help" = 3\n', "must be a key name"),
])
def test_bad_settings_are_warnings(isolated_config: Path, content: bytes, expect: str) -> None:
    write(isolated_config / "config.toml", content)
    loaded = load_settings()
    assert any(expect in warning for warning in loaded.warnings)


def test_an_unparsable_file_is_not_writable(isolated_config: Path) -> None:
    write(isolated_config / "config.toml", "theme = [")
    assert load_settings().writable is False


def test_copy_native_reads_back(monkeypatch: pytest.MonkeyPatch) -> None:
    store: dict[str, str] = {}
    fake = types.SimpleNamespace(copy=lambda text: store.update(v=text), paste=lambda: store.get("v", ""))
    monkeypatch.setitem(sys.modules, "pyperclip", fake)
    assert clipboard.copy_native("hello").copied


def test_copy_native_notices_a_clipboard_that_drops_the_text(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = types.SimpleNamespace(copy=lambda text: None, paste=lambda: "")
    monkeypatch.setitem(sys.modules, "pyperclip", fake)
    result = clipboard.copy_native("hello")
    assert not result.copied and "did not keep" in result.detail


def test_copy_native_without_a_tool(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(text: str) -> None:
        raise RuntimeError("no xclip")

    monkeypatch.setitem(sys.modules, "pyperclip", types.SimpleNamespace(copy=boom, paste=lambda: ""))
    result = clipboard.copy_native("hello")
    assert not result.copied and "no clipboard tool" in result.detail


def test_copy_native_never_hangs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyperclip",
                        types.SimpleNamespace(copy=lambda text: time.sleep(120), paste=lambda: ""))
    started = time.monotonic()
    result = clipboard.copy_native("hello", timeout=0.2)
    assert time.monotonic() - started < 60, "the copy that never returns was waited for"
    assert not result.copied and "did not answer" in result.detail


def test_the_vendor_window_is_data() -> None:
    facts = session_facts()
    assert facts.inactivity_hours == 13 and facts.source and facts.checked


def test_saving_keeps_what_was_edited_in_the_file_since_it_was_loaded(isolated_config: Path) -> None:
    """The app loads the settings at start; the user edits config.toml while it runs; then the app saves the
    theme. The edit stays (issue #14)."""
    write(config_path(), 'theme = "nord"\n\n[keys]\n"project.set_role" = "o"\n')
    loaded = load_settings()
    write(config_path(), 'theme = "nord"\n\n[keys]\n"project.set_role" = "x"\n"note.save" = "ctrl+w"\n\n'
                         '[limits]\nspreadsheet_mb = 100\n')
    loaded.settings.theme = "gruvbox"
    save_settings(loaded.settings)
    data = tomllib.loads(config_path().read_text())
    assert data == {"theme": "gruvbox", "keys": {"project.set_role": "x", "note.save": "ctrl+w"},
                    "limits": {"spreadsheet_mb": 100}}
    # A key changed here wins over the file for that key only; the next save has nothing new to merge.
    loaded.settings.keys["project.set_role"] = "p"
    save_settings(loaded.settings)
    assert tomllib.loads(config_path().read_text())["keys"] == {"project.set_role": "p", "note.save": "ctrl+w"}


def test_saving_refuses_a_file_made_invalid_since_it_was_loaded(isolated_config: Path) -> None:
    write(config_path(), 'theme = "nord"\n')
    loaded = load_settings()
    write(config_path(), 'theme = "nord"\n[keys\n')  # being edited, half-written
    loaded.settings.theme = "gruvbox"
    with pytest.raises(OSError, match="not valid TOML"):
        save_settings(loaded.settings)
    assert config_path().read_text() == 'theme = "nord"\n[keys\n'

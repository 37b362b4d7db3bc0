"""The user's settings: a small TOML file in the platform's config folder.

    theme = "textual-dark"

    [keys]                      # re-bind any command by its id (see the help screen, F1)
    "project.set_role" = "o"

    [limits]                    # override the vendor's upload limits (see core/data/vendor.toml)
    spreadsheet_mb = 100

The folder comes from platformdirs; ``LIFERAFT_CONFIG_DIR`` overrides it (tests use that). A file that
cannot be read or parsed never stops the app: defaults are used and the caller gets a one-line warning.
Saving rewrites only the keys Liferaft manages and keeps any others, atomically. The file may be edited
while the app runs: saving reads it again and keeps what changed there (only what Liferaft itself changed
since loading it is applied on top), and refuses when it is no longer valid TOML.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from liferaft.core import storage

TYPE_CHECKING = False
if TYPE_CHECKING:
    from liferaft.core.vendor import UploadLimits

CONFIG_ENV = "LIFERAFT_CONFIG_DIR"
CONFIG_FILENAME = "config.toml"


def config_dir() -> Path:
    override = os.environ.get(CONFIG_ENV)
    if override:
        return Path(override).expanduser()
    import platformdirs

    return platformdirs.user_config_path("liferaft", appauthor=False)


def config_path() -> Path:
    return config_dir() / CONFIG_FILENAME


@dataclass(slots=True)
class Settings:
    theme: str | None = None
    """The Textual theme chosen last; None for the default."""
    keys: dict[str, str] = field(default_factory=dict)
    """Key overrides by command id, e.g. {"project.set_role": "o"}."""
    other: dict[str, Any] = field(default_factory=dict)
    """Everything else in the file, kept as it was."""
    source: bytes | None = field(default=None, compare=False, repr=False)
    """The file as it was read (None: there was none): what saving compares with, to keep outside edits."""


@dataclass(slots=True)
class LoadedSettings:
    settings: Settings
    warnings: list[str] = field(default_factory=list)
    writable: bool = True
    """False when the file exists but could not be read: saving over it would lose the user's text."""


def load_settings(path: Path | None = None) -> LoadedSettings:
    path = path or config_path()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return LoadedSettings(Settings())
    except OSError as exc:
        return LoadedSettings(
            Settings(), [f"cannot read {path}: {exc.strerror or exc}; using the defaults"], writable=False
        )
    return _from_bytes(raw, path)


def _from_bytes(raw: bytes, path: Path) -> LoadedSettings:
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return LoadedSettings(
            Settings(), [f"{path} is not valid TOML ({exc}); using the defaults until it is fixed"], writable=False
        )
    warnings: list[str] = []
    theme = data.pop("theme", None)
    if theme is not None and not isinstance(theme, str):
        warnings.append(f"{path}: theme must be a string; ignored")
        theme = None
    keys_raw = data.pop("keys", {})
    keys: dict[str, str] = {}
    if isinstance(keys_raw, dict):
        for command_id, value in keys_raw.items():
            if isinstance(value, str) and value.strip():
                keys[str(command_id)] = value.strip()
            else:
                warnings.append(f"{path}: keys.{command_id} must be a key name such as \"ctrl+o\"; ignored")
    else:
        warnings.append(f"{path}: [keys] must be a table; ignored")
    return LoadedSettings(Settings(theme=theme, keys=keys, other=data, source=raw), warnings)


class SettingsChanged(OSError):
    """The config file was changed outside Liferaft and cannot be merged (it is not valid TOML now)."""


def _merge_outside_edit(settings: Settings, path: Path) -> None:
    """When the file is no longer what ``settings`` was loaded from, take what it holds now and apply on top
    only what was changed in ``settings`` since (the theme, single keys). Raises :class:`SettingsChanged`
    when the file cannot be read or parsed now: it is not saved over."""
    try:
        now: bytes | None = path.read_bytes()
    except FileNotFoundError:
        now = None
    except OSError as exc:
        raise SettingsChanged(f"{path} cannot be read ({exc.strerror or exc}): not saved over") from None
    if now == settings.source:
        return
    current = _from_bytes(now, path) if now is not None else LoadedSettings(Settings())
    if not current.writable:
        raise SettingsChanged(f"{path} was changed outside Liferaft and is not valid TOML now: not saved over")
    base = _from_bytes(settings.source, path).settings if settings.source is not None else Settings()
    theirs = current.settings
    if settings.theme == base.theme:
        settings.theme = theirs.theme
    keys = dict(theirs.keys)
    for command_id in set(base.keys) | set(settings.keys):
        if settings.keys.get(command_id) != base.keys.get(command_id):  # changed here: ours wins
            if command_id in settings.keys:
                keys[command_id] = settings.keys[command_id]
            else:
                keys.pop(command_id, None)
    settings.keys = keys
    settings.other = theirs.other
    settings.source = now


def save_settings(settings: Settings, path: Path | None = None) -> None:
    """Write the settings atomically, keeping what was changed in the file since it was loaded. Raises
    OSError when the folder is not writable, :class:`SettingsChanged` when the file was changed outside
    Liferaft into something that cannot be merged."""
    import tomli_w  # deferred: only needed when something changes

    path = path or config_path()
    _merge_outside_edit(settings, path)
    data: dict[str, Any] = dict(settings.other)
    if settings.theme:
        data["theme"] = settings.theme
    if settings.keys:
        data["keys"] = dict(sorted(settings.keys.items()))
    text = tomli_w.dumps(data)
    storage.write_text(path, text)
    settings.source = text.encode("utf-8")


def configured_limits(path: Path | None = None) -> tuple[UploadLimits, list[str]]:
    """The upload limits: the vendor's, with the ``[limits]`` of the user's config applied.

    Also the one-line warnings for what was refused (a value that is not a number above 0, an unknown name,
    a config file that cannot be read). The ``[limits]`` table stays in :attr:`Settings.other`, so saving the
    settings keeps it as the user wrote it.
    """
    from liferaft.core.vendor import override_limits, upload_limits

    path = path or config_path()
    loaded = load_settings(path)
    warnings = [] if loaded.writable else list(loaded.warnings)
    limits, refused = override_limits(upload_limits(), loaded.settings.other.get("limits"), str(path))
    return limits, warnings + refused

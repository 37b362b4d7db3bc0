"""Prompt templates: Markdown files with a small header (``name``, ``title``, ``about``) and ``{{placeholders}}``,
the bundled ones in ``core/data/templates/`` and the user's own in ``<config>/templates/`` (a user template with
a bundled template's name replaces it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

#: Placeholders a template may use.
PLACEHOLDERS = ("project", "brief", "uploads", "note", "outputs", "output", "code", "code_hint", "note_request",
                "date")
#: The template used when none is named.
DEFAULT_TEMPLATE = "rerun"


_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")


class TemplateError(Exception):
    """A template that cannot be used; the message is one line for the user."""


@dataclass(frozen=True, slots=True)
class Template:
    name: str
    title: str
    about: str
    body: str
    source: str
    """"bundled", or the user template's path."""


def _parse_template(text: str, source: str, fallback_name: str) -> Template:
    text = text.removeprefix("\ufeff").replace("\r\n", "\n")
    header: dict[str, str] = {}
    body = text
    if text.startswith("---\n"):
        end = text.find("\n---\n", 4)
        if end < 0:
            raise TemplateError(f"{source}: the header opened by --- is never closed")
        for line in text[4:end].splitlines():
            key, colon, value = line.partition(":")
            if colon:
                header[key.strip().lower()] = value.strip()
        body = text[end + 5:]
    name = header.get("name") or fallback_name
    if not re.fullmatch(r"[a-z0-9][a-z0-9_\-]*", name):
        raise TemplateError(f"{source}: the name {name!r} must be lower-case letters, digits, - and _")
    unknown = sorted({match[1] for match in _PLACEHOLDER.finditer(body)} - set(PLACEHOLDERS))
    if unknown:
        raise TemplateError(f"{source}: unknown placeholder {{{{{unknown[0]}}}}}; known: "
                            + ", ".join(PLACEHOLDERS))
    return Template(name, header.get("title") or name, header.get("about", ""), body, source)


def bundled_templates() -> dict[str, Template]:
    folder = resources.files("liferaft.core").joinpath("data/templates")
    found: dict[str, Template] = {}
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        if entry.name.endswith(".md"):
            template = _parse_template(entry.read_text(encoding="utf-8"), "bundled", entry.name[:-3])
            found[template.name] = template
    return found


def user_templates_dir() -> Path:
    from liferaft.core.config import config_dir

    return config_dir() / "templates"


def load_templates(folder: Path | None = None) -> tuple[dict[str, Template], list[str]]:
    """Every template by name, bundled first (in their order), then the user's; and one-line warnings for
    user templates that cannot be used (they are skipped)."""
    templates = dict(sorted(bundled_templates().items(), key=lambda item: _ORDER.get(item[0], 99)))
    warnings: list[str] = []
    folder = folder or user_templates_dir()
    try:
        entries = sorted(folder.glob("*.md"))
    except OSError:
        entries = []
    for path in entries:
        from liferaft.core.storage import read_small_file

        try:
            text = read_small_file(path, 256 * 1024).decode("utf-8")
            template = _parse_template(text, str(path), path.stem.lower())
        except (OSError, UnicodeDecodeError) as exc:
            warnings.append(f"{path}: cannot read it ({getattr(exc, 'strerror', None) or exc}); skipped")
            continue
        except TemplateError as exc:
            warnings.append(f"{exc}; skipped")
            continue
        templates[template.name] = template
    return templates, warnings


_ORDER = {"rerun": 0, "regenerate": 1, "brief": 2, "note": 3}

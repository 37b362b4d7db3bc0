"""Finding the stylesheet: inside the installed package first, else in the checkout's top-level styles/."""

from __future__ import annotations

from pathlib import Path

import liferaft

STYLESHEET = "liferaft.tcss"


class StylesheetMissing(RuntimeError):
    pass


def stylesheet_path() -> Path:
    package_dir = Path(liferaft.__file__).resolve().parent
    candidates = (
        package_dir / "styles" / STYLESHEET,  # installed wheel (force-included by hatch)
        package_dir.parent.parent / "styles" / STYLESHEET,  # checkout or editable install: app/liferaft → styles/
    )
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise StylesheetMissing(
        f"the stylesheet {STYLESHEET} is missing from {candidates[0].parent}; reinstall liferaft"
    )

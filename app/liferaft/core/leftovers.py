"""Liferaft's own temporary files that a killed process left behind, found and removed.

Every file Liferaft writes goes first to a hidden ``.liferaft-tmp-*`` file beside its target
(:mod:`liferaft.core.storage`). A process stopped by SIGKILL, a power cut or a crash never gets to remove it,
and ``scan`` does not show it: a split of a 1 GB CSV can leave hundreds of MB in ``prepared/``.
:func:`sweep_leftovers` removes them from every folder Liferaft writes into (``.liferaft/``, the role folders,
``RESTART/prompts/``, ``CODE/recovered/``, ``OUTPUT/recovered/`` and every ``prepared/`` folder in the project).

Only files with :data:`~liferaft.core.storage.TEMP_PREFIX` that have not been written to for a minute are
removed: a younger one may belong to a write still going on in another Liferaft (a workbench open on the same
folder). Links are never followed, so nothing outside the project is touched. Pure: no Textual here.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from liferaft.core.storage import sweep_temp_counts

#: Seconds a temporary file must have gone unwritten before it counts as left behind.
STALE_AFTER = 60.0

#: The folder prepared copies go into, next to their original (:data:`liferaft.core.prepare.PREPARED`; not
#: imported from there, which would load the CSV machinery into every command).
PREPARED = "prepared"

#: Sub-folders of a role folder that Liferaft writes into: saved prompts, imported scripts and figures.
_WRITTEN_SUBFOLDERS = ("prompts", "recovered")


@dataclass(frozen=True, slots=True)
class Leftovers:
    """What a sweep did: how many stale temporary files it removed (and their bytes), and how many are still
    there (younger than a minute, or that could not be removed) and the bytes they hold."""

    removed: int = 0
    freed: int = 0
    remaining: int = 0
    held: int = 0


def _is_real_dir(path: str) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def written_folders(root: Path) -> list[str]:
    """The folders of the project at ``root`` that Liferaft writes into and that exist as real folders (not
    links): ``.liferaft/``, the top-level role folders and their ``prompts/`` and ``recovered/``, and every
    ``prepared/`` folder below ``root`` (found by walking the tree, links and ``.git`` and the like left out)."""
    from liferaft.core.roles import role_for_folder
    from liferaft.core.scan import JUNK_DIRS, STATE_DIRNAME

    root_str = os.path.abspath(root)
    found: dict[str, None] = {}  # ordered, without duplicates
    state = os.path.join(root_str, STATE_DIRNAME)
    if _is_real_dir(state):
        found[state] = None
    pending = [(root_str, 0)]
    while pending:
        folder, depth = pending.pop()
        try:
            with os.scandir(folder) as it:
                subfolders = [entry for entry in it if entry.is_dir(follow_symlinks=False)]
        except OSError:
            continue
        for entry in subfolders:
            name = entry.name
            if name in JUNK_DIRS:
                continue
            if name == PREPARED or (depth == 0 and role_for_folder(name) is not None):
                found[entry.path] = None
                if name == PREPARED:  # the lists of a split's parts are written in prepared/.liferaft/
                    manifests = os.path.join(entry.path, STATE_DIRNAME)
                    if _is_real_dir(manifests):
                        found[manifests] = None
                else:
                    for sub in _WRITTEN_SUBFOLDERS:
                        path = os.path.join(entry.path, sub)
                        if _is_real_dir(path):
                            found[path] = None
            pending.append((entry.path, depth + 1))
    return list(found)


def sweep_folders(folders: Iterable[str | Path], *, older_than: float = STALE_AFTER,
                  now: float | None = None) -> Leftovers:
    """Remove the temporary files of Liferaft's in ``folders`` not written to for ``older_than`` seconds; count
    the ones that stay. Never raises for an OSError (a file that cannot be removed is counted as remaining)."""
    cutoff = (time.time() if now is None else now) - older_than
    removed = freed = remaining = held = 0
    for folder in folders:
        counts = sweep_temp_counts(folder, cutoff)
        removed, freed, remaining, held = (total + count for total, count in
                                           zip((removed, freed, remaining, held), counts, strict=True))
    return Leftovers(removed, freed, remaining, held)


def sweep_leftovers(root: Path, *, also: Iterable[str | Path] = (), older_than: float = STALE_AFTER,
                    now: float | None = None) -> Leftovers:
    """Remove the temporary files a killed Liferaft left in the project at ``root`` (see the module's text), and
    in the folders ``also`` (a ``prepared/`` folder outside the project, say). Never raises for an OSError."""
    folders = written_folders(root)
    folders += [os.path.abspath(folder) for folder in also if os.path.abspath(folder) not in folders]
    return sweep_folders(folders, older_than=older_than, now=now)

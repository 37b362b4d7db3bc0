"""What a replay needs before it runs: the packages its cells import (and the ones nobody knows), and the
environment that has them. Both front ends show :class:`Needs` and ask before :func:`environment_for` installs
anything."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from liferaft.core.replay.cells import Cell
from liferaft.core.replay.session import ReplayPlan
from liferaft.core.roles import Role


@dataclass(frozen=True, slots=True)
class Needs:
    specs: tuple[str, ...]
    """What the environment is built from (pip requirement specifiers)."""
    shown: list[str]
    """The packages, as a person reads them ("pandas 1.5.3")."""
    unknown: list[str]
    """Imports no known package provides: listed, never installed."""
    stand_ins: list[str]
    """The sandbox's own modules (ace_tools…), which Liferaft stands in for."""
    python: str | None
    """A Python chosen in config.toml (``[replay] python``), used as it is; None to build an environment."""
    ready: bool
    """The environment exists already (nothing to install)."""
    cell_timeout: float = 600.0
    """Seconds a cell may run: config.toml's ``[replay] cell_timeout``, else the default."""


def _local_modules(plan: ReplayPlan) -> set[str]:
    from liferaft.core.replay.session import role_dir

    names: set[str] = set()
    for folder in {plan.script.parent, role_dir(plan.project, Role.CODE), plan.project}:
        try:
            names |= {path.stem for path in folder.glob("*.py")}
            names |= {path.name for path in folder.iterdir() if (path / "__init__.py").is_file()}
        except OSError:
            continue
    return names


def requirements_for(plan: ReplayPlan, cells: list[Cell] | None = None) -> Needs:
    """The packages the chosen cells import, with config.toml's ``[replay]`` settings. Raises
    :class:`~liferaft.core.replay.environment.ReplayEnvironmentError` (one line) for a bad setting."""
    from liferaft.core.config import load_settings
    from liferaft.core.replay.environment import MARKER as ENV_MARKER
    from liferaft.core.replay.environment import (
        ReplayEnvironmentError,
        environment_key,
        environments_dir,
        replay_settings,
    )
    from liferaft.core.replay.packages import ReplayConfigError, find_imports, plan_requirements, requirement_specs

    try:
        settings = replay_settings(load_settings().settings.other)
        chosen = cells if cells is not None else plan.chosen
        imports = find_imports(cell.code for cell in chosen)
        if "pandas" in imports and any("excel" in cell.code.lower() for cell in chosen):
            imports.add("openpyxl")  # pandas' Excel reader and writer, which the sandbox had: never imported by name
        requirements = plan_requirements(imports, local_modules=_local_modules(plan), overrides=settings.packages)
        specs = tuple(requirement_specs(requirements, sys.version_info[:2]))
    except ReplayConfigError as exc:
        raise ReplayEnvironmentError(str(exc)) from None
    shown = [f"{item.distribution} {item.version}" if item.version else item.distribution
             for item in requirements.install]
    ready = bool(settings.python) or (environments_dir() / environment_key(specs) / ENV_MARKER).is_file()
    from liferaft.core.replay.session import DEFAULT_CELL_TIMEOUT

    return Needs(specs, shown, list(requirements.unknown), list(requirements.stand_ins), settings.python, ready,
                 settings.cell_timeout or DEFAULT_CELL_TIMEOUT)


def environment_for(needs: Needs, *, progress: Callable[[str], None] | None = None,
                    cancel: threading.Event | None = None) -> Path:
    """The Python the kernel runs with: the configured one (checked for ipykernel), or the environment for
    ``needs.specs``, built or reused. Raises ReplayEnvironmentError with what went wrong."""
    from liferaft.core.replay.environment import ensure_environment, existing_environment

    if needs.python:
        return existing_environment(needs.python).python
    return ensure_environment(needs.specs, progress=progress, cancel=cancel).python

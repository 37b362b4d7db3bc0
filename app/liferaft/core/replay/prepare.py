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


def _settings() -> dict[str, object]:
    from liferaft.core.config import load_settings

    replay = load_settings().settings.other.get("replay")
    return replay if isinstance(replay, dict) else {}


def requirements_for(plan: ReplayPlan, cells: list[Cell] | None = None) -> Needs:
    """The packages the chosen cells import, with the settings' overrides. Raises ReplayEnvironmentError for
    a bad setting."""
    from liferaft.core.replay.environment import ReplayEnvironmentError, environment_ready
    from liferaft.core.replay.packages import find_imports, plan_requirements, requirement_specs

    settings = _settings()
    overrides = settings.get("packages")
    if overrides is not None and not isinstance(overrides, dict):
        raise ReplayEnvironmentError("config.toml: [replay.packages] must be a table of module = \"package\"")
    chosen = cells if cells is not None else plan.chosen
    imports = find_imports(cell.code for cell in chosen)
    requirements = plan_requirements(imports, local_modules=_local_modules(plan),
                                     overrides={str(k): str(v) for k, v in (overrides or {}).items()})
    specs = tuple(requirement_specs(requirements, sys.version_info[:2]))
    python = settings.get("python")
    if python is not None and not isinstance(python, str):
        raise ReplayEnvironmentError("config.toml: [replay] python must be the path of a Python interpreter")
    shown = [f"{item.distribution} {item.version}" if item.version else item.distribution
             for item in requirements.install]
    ready = bool(python) or environment_ready(list(specs))
    return Needs(specs, shown, list(requirements.unknown), list(requirements.stand_ins), python or None, ready)


def environment_for(needs: Needs, *, progress: Callable[[str], None] | None = None,
                    cancel: threading.Event | None = None) -> Path:
    """The Python the kernel runs with: the configured one, or the environment for ``needs.specs`` (built, or
    reused). Raises ReplayEnvironmentError with what went wrong."""
    from liferaft.core.replay.environment import ensure_environment, python_with_kernel

    if needs.python:
        return python_with_kernel(needs.python)
    return ensure_environment(list(needs.specs), progress=progress, cancel=cancel).python

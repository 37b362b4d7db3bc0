"""What a recovered chat script needs installed to run again: its imports, mapped to PyPI distributions.

:func:`find_imports` reads the modules a script imports; :func:`plan_requirements` sorts them into what is
installed (a distribution known to have been in the chat's sandbox, at the version the sandbox had), what is left
out (the standard library, the project's own modules, the sandbox-only modules Liferaft stands in for) and what is
unknown. An unknown import is listed for the user to name a distribution for; it is never installed just because
an import names it (a module name is not a distribution name, and guessing one installs whatever squats on it).

The figures are data: ``core/data/replay_packages.toml``, dated, with where each comes from.

Version policy. Each sandbox version is asked for as a floor (``pandas>=1.5.3``) and resolved with uv's
``--resolution lowest-direct --no-build``: the sandbox's own version where it has a wheel for the Python used,
else the nearest newer version that has one (on Python 3.11, the sandbox's: pandas 1.5.3, numpy 1.24.0; on 3.13,
pandas 2.2.3, numpy 2.1.0). Numpy-based distributions bring numpy at its sandbox version as a direct requirement
(``needs`` in the data), so pandas 1.5.3 is never paired with numpy 2. If even that does not install, the
environment is built from the newest versions instead (see :mod:`liferaft.core.replay.environment`).

Overrides: ``[replay.packages]`` in config.toml, one entry per import name. The accepted values are exactly:

* ``pandas = "2.2.3"``: this version of the distribution the import maps to, exactly (``==``);
* ``pandas = ">=2.2"``: at least this version (the lowest that installs, as for sandbox figures);
* ``mymod = "mydist==1.0"`` or ``mymod = "mydist>=1.0"``: the import ``mymod`` comes from the distribution
  ``mydist``, at that version. This is how an unknown import gets installed.

A version is always needed (a bare distribution would resolve to its oldest release under the policy above).
Anything else is a :class:`ReplayConfigError` whose message is one line.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

#: The distribution that runs the replay kernel, always installed.
KERNEL_DISTRIBUTION = "ipykernel"


class ReplayConfigError(ValueError):
    """A ``[replay]`` setting in config.toml that cannot be used; the message is one line saying which and why."""


@dataclass(frozen=True, slots=True, order=True)
class Requirement:
    """One distribution to install, for the import that needs it."""

    import_name: str
    distribution: str
    version: str | None
    """The sandbox's version (a floor), or the version an override asked for; None: no version known."""
    exact: bool = False
    """True when an override asked for exactly :attr:`version` (``==``), False for a floor (``>=``)."""

    def spec(self) -> str:
        """The pip specifier: ``pandas>=1.5.3``, ``pandas==2.2.3``, or the bare name when no version is known."""
        if self.version is None:
            return self.distribution
        return f"{self.distribution}{'==' if self.exact else '>='}{self.version}"


@dataclass(frozen=True, slots=True)
class RequirementPlan:
    """What the imports of a script come to. Every field is sorted."""

    install: tuple[Requirement, ...]
    """Distributions to install, by distribution name; the kernel always among them."""
    stand_ins: tuple[str, ...]
    """Sandbox-only modules Liferaft provides itself (``ace_tools``...): never installed."""
    stdlib: tuple[str, ...]
    """Standard-library modules: nothing to install."""
    local: tuple[str, ...]
    """The project's own modules: nothing to install."""
    unknown: tuple[str, ...]
    """Imports with no known distribution: to be named in ``[replay.packages]``; never installed as they are."""


@dataclass(frozen=True, slots=True)
class _Known:
    distribution: str
    version: str
    needs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SandboxFacts:
    python: tuple[int, int]
    checked: str
    stand_ins: frozenset[str]
    packages: Mapping[str, _Known]
    source_only: frozenset[str]
    """Distributions (normalised names) published without wheels: built from source, the only exception."""


@cache
def sandbox_facts() -> SandboxFacts:
    """The data file, read once."""
    text = resources.files("liferaft.core").joinpath("data/replay_packages.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    major, minor = (int(part) for part in str(data["sandbox"]["python"]).split("."))
    packages = {
        name: _Known(str(entry["dist"]), str(entry["version"]), tuple(str(n) for n in entry.get("needs", ())))
        for name, entry in data["packages"].items()
    }
    return SandboxFacts(
        python=(major, minor),
        checked=str(data["checked"]),
        stand_ins=frozenset(str(m) for m in data["stand_ins"]["modules"]),
        packages=packages,
        source_only=frozenset(
            distribution_key(str(entry["dist"])) for entry in data["packages"].values() if entry.get("source_only")
        ),
    )


# --- finding imports -------------------------------------------------------------------------------------------

#: An IPython line that is not Python: a shell escape (``!pip install x``), a magic (``%matplotlib inline``,
#: ``%%time``), or help (``?df``, ``df?``).
_MAGIC = re.compile(r"^(\s*)(?:[!%?].*|[\w.]+\?\??\s*)$")
_IMPORT_LINE = re.compile(r"^\s*import\s+(.+)$")
_FROM_LINE = re.compile(r"^\s*from\s+([A-Za-z_][\w.]*)\s+import\b")
_DYNAMIC = frozenset({"__import__", "import_module"})


def _top(module: str) -> str | None:
    name = module.strip().split(".", 1)[0]
    return name if name.isidentifier() else None


def _from_tree(tree: ast.AST, found: set[str]) -> None:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if top := _top(alias.name):
                    found.add(top)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module and (top := _top(node.module)):
                found.add(top)
        elif isinstance(node, ast.Call) and node.args:  # importlib.import_module("x"), __import__("x")
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            first = node.args[0]
            if (
                name in _DYNAMIC
                and isinstance(first, ast.Constant)
                and isinstance(first.value, str)
                and not first.value.startswith(".")
                and (top := _top(first.value))
            ):
                found.add(top)


def _from_lines(source: str, found: set[str]) -> None:
    """Imports by line, for code that does not parse even without its IPython lines."""
    for line in source.splitlines():
        line = line.split("#", 1)[0]
        for statement in line.split(";"):
            if match := _FROM_LINE.match(statement):
                if top := _top(match.group(1)):
                    found.add(top)
            elif match := _IMPORT_LINE.match(statement):
                for part in match.group(1).split(","):
                    if (words := part.split()) and (top := _top(words[0])):
                        found.add(top)


def _without_magics(source: str) -> str:
    """``source`` with each IPython line replaced by ``pass`` at its indentation, so the rest still parses."""
    return "\n".join(f"{match.group(1)}pass" if (match := _MAGIC.match(line)) else line for line in source.splitlines())


def find_imports(sources: Iterable[str]) -> set[str]:
    """The top-level names of the modules the code in ``sources`` imports.

    ``import x.y`` and ``from x.y import z`` give ``x``; imports inside functions, ``try`` blocks and ``if``\\ s
    count too; relative imports (``from . import y``) are the project's own and are left out. IPython lines
    (``!pip install``, ``%matplotlib inline``) are skipped; code that still does not parse is read line by line.
    """
    found: set[str] = set()
    for source in sources:
        try:
            tree = ast.parse(_without_magics(source))
        except (SyntaxError, ValueError):  # ValueError: a NUL byte
            _from_lines(source, found)
        else:
            _from_tree(tree, found)
    return found


# --- planning --------------------------------------------------------------------------------------------------

_DIST = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
_VERSION = r"[0-9][0-9A-Za-z.+!_-]*"
_OVERRIDE = re.compile(rf"^\s*(?:(?P<dist>{_DIST})\s*(?=[=>]))?(?P<op>==|>=)?\s*(?P<version>{_VERSION})\s*$")


def parse_override(import_name: str, value: object, known: str | None = None) -> Requirement:
    """The requirement a ``[replay.packages]`` entry asks for (the accepted forms are in the module's docstring).

    ``known`` is the distribution the import maps to in the data, if any. Raises :class:`ReplayConfigError`.
    """
    where = f"config.toml: [replay.packages] {import_name}"
    if not isinstance(value, str):
        raise ReplayConfigError(f'{where} must be a string such as "2.2.3" or "mydist==1.0"')
    match = _OVERRIDE.match(value)
    if match is None or (match.group("dist") and not match.group("op")):
        raise ReplayConfigError(
            f'{where} = "{value}" is not a version; write "2.2.3", ">=2.2", "mydist==1.0" or "mydist>=1.0"'
        )
    distribution = match.group("dist") or known
    if distribution is None:
        raise ReplayConfigError(
            f'{where} = "{value}" names no distribution and Liferaft knows none for {import_name}; '
            f'write "DISTRIBUTION==VERSION", e.g. "{import_name}=={match.group("version")}"'
        )
    return Requirement(import_name, distribution, match.group("version"), exact=match.group("op") != ">=")


def distribution_key(distribution: str) -> str:
    """A distribution's normalised name (PEP 503), so "PyYAML" and "pyyaml" are one."""
    return re.sub(r"[-_.]+", "-", distribution).lower()


def plan_requirements(
    imports: Iterable[str], *, local_modules: set[str], overrides: Mapping[str, object] | None = None
) -> RequirementPlan:
    """Sort ``imports`` (top-level module names) into what to install and what not.

    ``local_modules`` are the project's own modules (its ``.py`` files and packages), which win over a
    distribution of the same name. ``overrides`` is the ``[replay.packages]`` table (see the module docstring);
    an entry for an import the script does not make is ignored. The kernel (``ipykernel``) is always installed.
    Raises :class:`ReplayConfigError` for an override that cannot be used.
    """
    facts = sandbox_facts()
    overrides = dict(overrides or {})
    wanted = set(imports)
    stand_ins = sorted(name for name in wanted if name in facts.stand_ins)
    for name in facts.stand_ins & overrides.keys():
        raise ReplayConfigError(
            f"config.toml: [replay.packages] {name}: Liferaft provides {name} itself and never installs it; "
            "remove the entry"
        )
    local = sorted(name for name in wanted - facts.stand_ins if name in local_modules)
    rest = wanted - facts.stand_ins - set(local)
    stdlib = sorted(name for name in rest if name in sys.stdlib_module_names and name not in overrides)
    rest -= set(stdlib)

    chosen: dict[str, Requirement] = {}  # by normalised distribution name
    from_override: set[str] = set()

    def add(requirement: Requirement, overridden: bool) -> None:
        key = distribution_key(requirement.distribution)
        held = chosen.get(key)
        if held is not None and key in from_override:
            if overridden and (held.version, held.exact) != (requirement.version, requirement.exact):
                raise ReplayConfigError(
                    f"config.toml: [replay.packages] {held.import_name} and {requirement.import_name} ask for "
                    f"different versions of {requirement.distribution}; keep one"
                )
            return
        if held is None or overridden:
            chosen[key] = requirement
            if overridden:
                from_override.add(key)

    def override_for(name: str) -> Requirement | None:
        if name not in overrides:
            return None
        known = facts.packages.get(name)
        return parse_override(name, overrides[name], known.distribution if known else None)

    unknown: list[str] = []
    companions: set[str] = set()
    for name in sorted(rest | {KERNEL_DISTRIBUTION}):
        requirement = override_for(name)
        known = facts.packages.get(name)
        if requirement is not None:
            add(requirement, overridden=True)
        elif known is not None:
            add(Requirement(name, known.distribution, known.version), overridden=False)
        else:
            unknown.append(name)
            continue
        if known is not None:
            companions.update(known.needs)
    for name in sorted(companions):
        requirement = override_for(name)
        known = facts.packages[name]
        add(requirement or Requirement(name, known.distribution, known.version), overridden=requirement is not None)
    # Every override is checked, also one for a module this script does not import: a typo shows at once.
    for name, value in overrides.items():
        known = facts.packages.get(name)
        parse_override(name, value, known.distribution if known else None)

    install = tuple(sorted(chosen.values(), key=lambda r: (distribution_key(r.distribution), r.import_name)))
    return RequirementPlan(
        install=install, stand_ins=tuple(stand_ins), stdlib=tuple(stdlib), local=tuple(local), unknown=tuple(unknown)
    )


def requirement_specs(plan: RequirementPlan, python_version: tuple[int, int]) -> list[str]:
    """The pip specifiers to install ``plan`` on Python ``python_version``, sorted.

    Sandbox versions are floors (``pandas>=1.5.3``), to be resolved with ``--resolution lowest-direct
    --no-build``: on the sandbox's Python that is the sandbox's version; on a newer Python, where an old version
    may have no wheel, the nearest newer one that does. On a Python older than the sandbox's a floor may not
    exist at all (pandas 1.5.3 has no wheel for 3.7): :class:`ValueError` then, naming the Python needed.
    """
    if python_version < (3, 8):
        major, minor = sandbox_facts().python
        raise ValueError(f"Python {python_version[0]}.{python_version[1]} is too old to replay; use {major}.{minor}")
    return sorted(requirement.spec() for requirement in plan.install)

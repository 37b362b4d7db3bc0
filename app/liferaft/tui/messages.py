"""What the workbench's workers hand back: typed messages, posted from the worker's thread and handled on the UI
thread (with ``@on``). A worker never touches what is on show; each result names the inventory it was made for,
so that one arriving after a rescan replaced it is dropped."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual.message import Message

TYPE_CHECKING = False
if TYPE_CHECKING:
    from liferaft.core.compose import ComposeContext
    from liferaft.core.diagnose.clock import ActivityLog
    from liferaft.core.project import Project
    from liferaft.core.replay.cells import Cell
    from liferaft.core.replay.prepare import Needs
    from liferaft.core.replay.session import CellRecord, ReplayPlan, ReplayResult
    from liferaft.core.risk import Risk
    from liferaft.core.scan import Inventory
    from liferaft.core.uploads import UploadPlan
    from liferaft.tui.screens.replay import ResultLine
    from liferaft.tui.widgets.project_pane import Arrangement


@dataclass
class ProjectLoaded(Message):
    """A scan (the first one, or a rescan) finished, with what the screen shows of it made in the scan's
    thread: the upload plan before its checks, and the files as the project pane arranges them."""

    project: Project
    plan: UploadPlan | None = None
    arrangement: Arrangement | None = None
    unchanged: bool = False
    """The folder read again held what it held before: the project kept its inventory (the same object)."""


@dataclass
class ProjectFailed(Message):
    """A scan stopped on an error."""

    error: BaseException


@dataclass
class PlanChecked(Message):
    """The upload plan with its checks, for ``inventory``."""

    inventory: Inventory
    plan: UploadPlan


@dataclass
class PlanCheckFailed(Message):
    """The upload check stopped on an error."""

    error: BaseException


@dataclass
class ContextGathered(Message):
    """What a prompt is made of, gathered from ``inventory``."""

    inventory: Inventory
    context: ComposeContext


@dataclass
class ContextFailed(Message):
    """Gathering what the prompt is made of stopped on an error."""

    error: BaseException


@dataclass
class RiskAssessed(Message):
    """What is at risk, assessed on ``inventory``."""

    inventory: Inventory
    risk: Risk


@dataclass
class ActivityRecorded(Message):
    """The session clock's activity log, as just written (``kind``: "chat" or "folder")."""

    log: ActivityLog
    kind: str


@dataclass
class DownloadsFound(Message):
    """Where the downloads folder is (None: none to look at), found off the UI thread (in WSL, Windows is asked)."""

    folder: Path | None


@dataclass
class DownloadsListed(Message):
    """The downloads folder's top level: names and modification times."""

    seen: frozenset[tuple[str, int]]


@dataclass
class SecretsReady(Message):
    """The secret scanner's rules are loaded."""


# --- the replay screen's worker (``tui/screens/replay.py``) -------------------------------------------------


@dataclass
class ReplayPlanned(Message):
    """What a replay would run, and what it needs installed (a ``ReplayPlan`` and a ``Needs``)."""

    plan: ReplayPlan
    needs: Needs


@dataclass
class ReplayStatus(Message):
    """A line about where the replay is before its cells run (building the environment, starting the kernel)."""

    text: str


@dataclass
class ReplayCellStarted(Message):
    """Cell ``at`` of ``of`` begins."""

    cell: Cell
    at: int
    of: int


@dataclass
class ReplayCellOutput(Message):
    """Text the running cell printed (its last line is shown under the progress bar)."""

    text: str


@dataclass
class ReplayCellEnded(Message):
    """A cell is done (ran, failed and was skipped, or stopped the replay)."""

    record: CellRecord


@dataclass
class ReplayCellFailed(Message):
    """A cell failed: the worker waits for the user's choice (edit and retry, skip, stop)."""

    record: CellRecord
    cell: Cell


@dataclass
class ReplayFinished(Message):
    """The replay ended (to the last cell, stopped or interrupted), with the results table's rows, or why there
    is no table."""

    result: ReplayResult
    rows: list[ResultLine]
    rows_problem: str = ""


@dataclass
class ReplayFailed(Message):
    """Planning or running the replay stopped before any result (one line saying why)."""

    message: str
    planning: bool = False

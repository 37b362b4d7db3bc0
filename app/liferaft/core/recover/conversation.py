"""What :func:`liferaft.core.recover.extract.extract` returns: a conversation as its prompts, code cells (with
their status), sandbox resets, uploads, figures and the files it generated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from liferaft.core.recover.canvas import Canvas

STATUS_SUCCESS = "success"
STATUS_FAILED = "failed"
STATUS_CANCELLED = "cancelled"
STATUS_TOOL_ERROR = "tool_error"
STATUS_UNKNOWN = "unknown"
STATUS_NO_RESULT = "no_result"


@dataclass
class Prompt:
    """A message the user typed (hidden system and context messages are left out)."""

    node_id: str
    text: str
    time: float | None
    abandoned: bool = False


@dataclass
class Upload:
    """A file the user attached; in the sandbox it was ``/mnt/data/<name>``."""

    name: str
    size: int | None = None
    mime_type: str | None = None
    file_id: str | None = None
    time: float | None = None
    project_file: bool = False  # on a hidden system message: a Project's or GPT's knowledge file

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "size": self.size, "mime_type": self.mime_type, "file_id": self.file_id}


@dataclass
class Figure:
    """An image a cell displayed (``file-service://`` or ``sediment://`` pointer), maybe present in the zip."""

    file_id: str
    cell: int
    width: int | None = None
    height: int | None = None


@dataclass
class CodeCell:
    """One run of Python in the sandbox, or a shell step (``shell``: a ``container.exec`` call, whose ``code`` is
    the shell script and ``argv`` the command as the chat gave it, None when it could not be read). ``status`` is
    one of success, failed, cancelled, tool_error (the tool itself failed), unknown (a reply without a recorded
    status), no_result (no reply in the export)."""

    index: int
    node_id: str
    code: str
    time: float | None
    prompt: str | None
    status: str = STATUS_NO_RESULT
    error: str | None = None
    output: str = ""
    epoch: int = 0
    abandoned: bool = False
    reset: bool = False  # the reply was "Code execution state reset.": the cell did not run
    figures: list[Figure] = field(default_factory=list)
    shell: bool = False
    argv: list[str] | None = None

    @property
    def ran(self) -> bool:
        return self.status in (STATUS_SUCCESS, STATUS_UNKNOWN, STATUS_NO_RESULT)


@dataclass
class Reset:
    """The sandbox was wiped before ``cell`` ran: epoch ``epoch`` starts here."""

    node_id: str
    time: float | None
    epoch: int
    cell: int | None


@dataclass
class GeneratedFile:
    """A file the chat made. ``path`` is relative to ``/mnt/data`` (URL-decoded, sub-folders kept); ``kind`` one of
    link, code, visualization, figure; ``epoch`` the sandbox epoch it was made in; ``lost`` True when a reset
    came after it (it was gone even before the sandbox expired)."""

    path: str
    kind: str
    epoch: int = 0
    cell: int | None = None
    file_id: str | None = None
    lost: bool = False
    abandoned: bool = False

    @property
    def name(self) -> str:
        return self.path.rpartition("/")[2]

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "path": self.path, "kind": self.kind, "epoch": self.epoch, "cell": self.cell,
                "lost_in_reset": self.lost}


@dataclass
class Conversation:
    id: str | None
    title: str
    create_time: float | None = None
    update_time: float | None = None
    model: str | None = None
    prompts: list[Prompt] = field(default_factory=list)
    cells: list[CodeCell] = field(default_factory=list)
    resets: list[Reset] = field(default_factory=list)
    uploads: list[Upload] = field(default_factory=list)
    generated: list[GeneratedFile] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    canvases: list[Canvas] = field(default_factory=list)
    """Canvas documents at their last state (on the branch shown last)."""
    problems: list[str] = field(default_factory=list)
    abandoned_calls: int = 0
    """Python calls on branches abandoned by an edit that were not taken (without ``all_branches``)."""

    @property
    def failed_cells(self) -> list[CodeCell]:
        return [cell for cell in self.cells if cell.status in (STATUS_FAILED, STATUS_TOOL_ERROR)]

    @property
    def upload_names(self) -> set[str]:
        return {upload.name for upload in self.uploads}

"""One conversation of a ChatGPT export, as what ran and what it made.

:func:`extract` takes the raw conversation dict (one element of ``conversations.json``) and returns a
:class:`Conversation`: the user's prompts with their times, every code cell the assistant sent to ``python`` (as
it ran: the reply's ``aggregate_result.code`` when it holds it, since a call cut off mid-stream keeps only the
start of its text) with its result (read from the reply's ``metadata.aggregate_result``: the message status says
"finished" even for a failed run), the sandbox resets (each one starts a new epoch: files made before it were
lost), the shell steps it ran in the same sandbox (``container.exec`` calls, as cells marked ``shell``, in the
order they ran among the Python cells), the uploads, and the files the chat generated (``sandbox:/mnt/data/...``
links, paths written by code, interactive tables, figures).

No vendor schema exists, so every key is optional: a missing or odd-typed field is skipped, never a crash. What
could not be read is said in :attr:`Conversation.problems`, one line each.
"""

from __future__ import annotations

from typing import Any

from liferaft.core.names import match_key
from liferaft.core.recover.canvas import replay
from liferaft.core.recover.conversation import (
    STATUS_CANCELLED,
    STATUS_FAILED,
    STATUS_NO_RESULT,
    STATUS_SUCCESS,
    STATUS_TOOL_ERROR,
    STATUS_UNKNOWN,
    CodeCell,
    Conversation,
    GeneratedFile,
    Prompt,
    Reset,
)
from liferaft.core.recover.links import SANDBOX_LINK as SANDBOX_LINK
from liferaft.core.recover.links import sandbox_links, written_paths
from liferaft.core.recover.messages import (
    _dict,
    _error_of,
    _figures_of,
    _is_hidden,
    _is_python_reply,
    _list,
    _num,
    _output_text,
    _shell_status,
    _str,
    _uploads_of,
)
from liferaft.core.recover.messages import clean_text as clean_text
from liferaft.core.recover.messages import pointer_id as pointer_id
from liferaft.core.recover.messages import shell_command as shell_command
from liferaft.core.recover.messages import text_of as text_of
from liferaft.core.recover.messages import visualization_name as visualization_name

#: Start of the tool reply that means the sandbox had been wiped (short 2023-24 form and long 2025 form).
RESET_TEXT = "Code execution state reset."
#: The tools that ran a shell command in the chat's sandbox: the assistant's message has this recipient and its
#: content is JSON, ``{"cmd": ["bash", "-lc", "..."], "timeout": ...}`` (2025 agent and thinking models), or the
#: bare text ``bash -lc <script>``; the tool's reply is authored by the same name (``text`` parts, an
#: ``execution_output`` with ``aggregate_result.status``, or a ``system_error`` when the command failed).
SHELL_RECIPIENTS = frozenset({"container.exec"})

#: The longest output text kept per cell (outputs can be megabytes of printed data frames).
OUTPUT_LIMIT = 4_000
#: The longest prompt text kept.
PROMPT_LIMIT = 20_000
#: The largest code cell kept; beyond it the cell is cut and a problem says so.
CODE_LIMIT = 2_000_000


# --- the tree -----------------------------------------------------------------------------------------------


def _message(node: Any) -> dict[str, Any]:
    return _dict(_dict(node).get("message"))


def _time(node: Any) -> float | None:
    return _num(_message(node).get("create_time"))


def active_path(mapping: dict[str, Any], current: Any, problems: list[str]) -> list[str]:
    """The node ids of the branch the chat showed last, root first: from ``current`` up the ``parent`` chain.
    A missing or dangling ``current`` falls back to the newest leaf; a cycle stops the walk."""
    node_id = current if isinstance(current, str) and current in mapping else None
    if node_id is None:
        leaves = [key for key, node in mapping.items() if not _list(_dict(node).get("children"))]
        if not leaves:
            leaves = list(mapping)
        if leaves:
            node_id = max(leaves, key=lambda key: (_time(mapping[key]) or 0.0, key))
            if current is not None:
                problems.append("its current message is not in the conversation: the newest branch was used")
    path: list[str] = []
    seen: set[str] = set()
    while isinstance(node_id, str) and node_id in mapping and node_id not in seen:
        seen.add(node_id)
        path.append(node_id)
        node_id = _dict(mapping[node_id]).get("parent")
    if isinstance(node_id, str) and node_id in seen:
        problems.append("its messages form a loop: the walk stopped where it repeats")
    path.reverse()
    return path


def all_nodes(mapping: dict[str, Any], active: list[str]) -> list[str]:
    """Every node, in the order things happened: depth first from the roots (children by time), then sorted by
    time, a node without a time taking its parent's. Cycles are guarded."""
    order: dict[str, int] = {}
    effective: dict[str, float] = {}
    kids_of: dict[str, list[str]] = {}
    for key, node in mapping.items():
        listed = [kid for kid in _list(_dict(node).get("children")) if isinstance(kid, str) and kid in mapping]
        kids_of.setdefault(key, []).extend(listed)
    for key, node in mapping.items():  # a child that names its parent, but that its parent does not list
        parent = _dict(node).get("parent")
        if isinstance(parent, str) and parent in mapping and key not in kids_of[parent]:
            kids_of[parent].append(key)
    roots = [key for key, node in mapping.items()
             if not isinstance(_dict(node).get("parent"), str) or _dict(node).get("parent") not in mapping]
    stack: list[tuple[str, float]] = [(key, 0.0) for key in reversed(roots)]
    pending = iter(mapping)  # nodes only reachable inside a cycle have no root: visited afterwards
    while True:
        while stack:
            key, inherited = stack.pop()
            if key in order:
                continue
            order[key] = len(order)
            effective[key] = _time(mapping[key]) or inherited
            kids = sorted(set(kids_of.get(key, ())), key=lambda kid: (_time(mapping[kid]) or 0.0, kid))
            for kid in reversed(kids):
                if kid not in order:
                    stack.append((kid, effective[key]))
        rest = next((key for key in pending if key not in order), None)
        if rest is None:
            break
        stack.append((rest, 0.0))
    return sorted(order, key=lambda key: (effective[key], order[key]))


# --- extraction ---------------------------------------------------------------------------------------------


def _title(conversation: dict[str, Any]) -> str:
    title = _str(conversation.get("title"))
    title = " ".join(clean_text(title).split()) if title else ""
    return title or "Untitled conversation"


def extract(conversation: Any, *, all_branches: bool = False) -> Conversation:
    """The conversation ``conversation`` (a raw dict) as a :class:`Conversation`. Never raises for bad data."""
    conversation = _dict(conversation)
    problems: list[str] = []
    conv_id = _str(conversation.get("id")) or _str(conversation.get("conversation_id"))
    result = Conversation(conv_id, _title(conversation), _num(conversation.get("create_time")),
                          _num(conversation.get("update_time")), _str(conversation.get("default_model_slug")),
                          problems=problems)
    mapping = conversation.get("mapping")
    if not isinstance(mapping, dict):
        linear = _list(conversation.get("linear_conversation"))
        mapping = {}
        previous = None
        for position, node in enumerate(linear):
            node = _dict(node)
            key = _str(node.get("id")) or f"node-{position}"
            mapping[key] = {"id": key, "parent": previous, "children": [], "message": node.get("message")}
            if previous is not None:
                mapping[previous]["children"].append(key)
            previous = key
        if not mapping:
            problems.append("it holds no messages")
            return result
    mapping = {key: node for key, node in mapping.items() if isinstance(key, str)}
    active = active_path(mapping, conversation.get("current_node"), problems)
    on_branch = set(active)
    order = all_nodes(mapping, active) if all_branches else active
    _walk(result, mapping, order, on_branch)
    result.canvases, canvas_problems = replay(mapping, active)  # the canvases as the chat showed them last
    problems.extend(canvas_problems)
    if not all_branches:
        result.abandoned_calls = sum(1 for key, node in mapping.items() if key not in on_branch
                                     and _str(_message(node).get("recipient")) in _CALL_RECIPIENTS
                                     and _str(_dict(_message(node).get("author")).get("role")) == "assistant")
    return result


def _walk(result: Conversation, mapping: dict[str, Any], order: list[str], on_branch: set[str]) -> None:
    walk = _Walk(result, mapping)
    for key in order:
        walk.visit(key, abandoned=key not in on_branch)
    if walk.unknown:
        result.problems.append("messages of a kind Liferaft does not know were skipped: "
                               + ", ".join(sorted(walk.unknown)))


class _Walk:
    """One pass over a conversation's messages in order, filling a :class:`Conversation`: each message is a prompt,
    a code call, the tool's reply to one, or the assistant's text (its sandbox links)."""

    def __init__(self, result: Conversation, mapping: dict[str, Any]) -> None:
        self.result = result
        self.mapping = mapping
        self.cells_by_node: dict[str, CodeCell] = {}
        self.pending: list[CodeCell] = []  # calls still waiting for their reply, newest last
        self.prompts: dict[str, str] = {}  # per node: the text of the prompt it answers (its nearest user ancestor)
        self.epoch = 0
        self.unknown: set[str] = set()
        self.upload_keys: set[str] = set()
        self.link_keys: set[str] = set()

    def prompt_of(self, key: str) -> str:
        mapping, prompts = self.mapping, self.prompts
        chain: list[str] = []
        seen: set[str] = set()
        node_id: Any = key
        found = ""
        while isinstance(node_id, str) and node_id in mapping and node_id not in seen:
            if node_id in prompts:
                found = prompts[node_id]
                break
            seen.add(node_id)
            chain.append(node_id)
            message = _message(mapping[node_id])
            if _str(_dict(message.get("author")).get("role")) == "user" and not _is_hidden(message):
                text = clean_text(text_of(_dict(message.get("content")))).strip()
                if text:
                    found = text
                    break
            node_id = _dict(mapping[node_id]).get("parent")
        for node_id in chain:
            prompts[node_id] = found
        return found

    def visit(self, key: str, *, abandoned: bool) -> None:
        node = _dict(self.mapping.get(key))
        message = _message(node)
        parent = _str(node.get("parent"))
        if not message:
            return
        author = _dict(message.get("author"))
        role = _str(author.get("role"))
        content = _dict(message.get("content"))
        content_type = _str(content.get("content_type")) or ""
        created = _num(message.get("create_time"))
        if role in ("user", "system"):
            for upload in _uploads_of(message, role == "system"):
                if match_key(upload.name) not in self.upload_keys:
                    self.upload_keys.add(match_key(upload.name))
                    self.result.uploads.append(upload)
        if role == "user":
            self._prompt(key, message, content, content_type, created, abandoned)
        elif role == "assistant" and _str(message.get("recipient")) == "python":
            self._call(key, content, created, abandoned)
        elif role == "assistant" and _str(message.get("recipient")) in SHELL_RECIPIENTS:
            self._call(key, content, created, abandoned, shell=True)
        elif role == "tool" and _str(author.get("name")) in SHELL_RECIPIENTS:
            self._reply(key, parent, message, content, content_type, created, abandoned, shell=True)
        elif role == "tool" and _is_python_reply(author, content_type, parent, self.cells_by_node):
            self._reply(key, parent, message, content, content_type, created, abandoned)
        else:
            if role == "assistant":
                self._links(content, abandoned)
            if content_type and content_type not in _KNOWN_TYPES:
                self.unknown.add(content_type)

    def _prompt(self, key: str, message: dict[str, Any], content: dict[str, Any], content_type: str,
                created: float | None, abandoned: bool) -> None:
        if _is_hidden(message):
            return
        text = clean_text(text_of(content)).strip()
        if content_type not in ("text", "multimodal_text", "") and not text:
            return
        if text or _list(_dict(message.get("metadata")).get("attachments")):
            self.result.prompts.append(Prompt(key, text[:PROMPT_LIMIT], created, abandoned))

    def _call(self, key: str, content: dict[str, Any], created: float | None, abandoned: bool, *,
              shell: bool = False) -> None:
        result = self.result
        code = clean_text(text_of(content))
        argv: list[str] | None = None
        if shell:
            code, argv = shell_command(code)
            if argv is None and code:
                result.problems.append("a shell step's command could not be read (cut off?): it is kept as text")
        if len(code) > CODE_LIMIT:
            result.problems.append(f"a code cell of {len(code):,} characters was cut to {CODE_LIMIT:,}")
            code = code[:CODE_LIMIT]
        cell = CodeCell(len(result.cells) + 1, key, code, created, self.prompt_of(key) or None, epoch=self.epoch,
                        abandoned=abandoned, shell=shell, argv=argv)
        result.cells.append(cell)
        self.cells_by_node[key] = cell
        self.pending.append(cell)

    def _reply(self, key: str, parent: str | None, message: dict[str, Any], content: dict[str, Any],
               content_type: str, created: float | None, abandoned: bool, *, shell: bool = False) -> None:
        result = self.result
        metadata = _dict(message.get("metadata"))
        cell = self.cells_by_node.get(parent or "") or self.cells_by_node.get(_str(metadata.get("parent_id")) or "")
        if cell is not None and cell.shell != shell:
            cell = None  # a shell reply never answers a Python call, nor the other way round
        if cell is None:
            cell = next((waiting for waiting in reversed(self.pending) if waiting.shell == shell), None)
        aggregate = _dict(metadata.get("aggregate_result"))
        text = _output_text(aggregate, content)
        if cell is None and shell:
            return  # a shell reply without its call: nothing to show what ran
        if cell is None:
            ran = _str(aggregate.get("code"))
            if not ran and not text.startswith(RESET_TEXT):
                return
            cell = CodeCell(len(result.cells) + 1, key, clean_text(ran or ""), created, self.prompt_of(key) or None,
                            epoch=self.epoch, abandoned=abandoned)
            result.cells.append(cell)
        elif cell.status != STATUS_NO_RESULT:
            # A continued output (one tool reply chained to another): add its text.
            cell.output = (cell.output + clean_text(text))[:OUTPUT_LIMIT]
            self.cells_by_node[key] = cell
            return
        self.cells_by_node[key] = cell
        if cell in self.pending:
            self.pending.remove(cell)
        ran = None if shell else _str(aggregate.get("code"))
        if ran and ran.strip():
            # The code that ran: a call cut off mid-stream (its message "in_progress") holds only the start of it.
            ran = clean_text(ran)
            if len(ran) > CODE_LIMIT:
                if len(cell.code) < CODE_LIMIT:  # not said already for the call
                    result.problems.append(f"a code cell of {len(ran):,} characters was cut to {CODE_LIMIT:,}")
                ran = ran[:CODE_LIMIT]
            cell.code = ran
        cell.output = clean_text(text)[:OUTPUT_LIMIT]
        if shell:
            _shell_status(cell, aggregate, content, content_type, text)
        else:
            self._status(key, cell, aggregate, content, content_type, text, created)
        self._made(cell, aggregate, metadata, abandoned)

    def _status(self, key: str, cell: CodeCell, aggregate: dict[str, Any], content: dict[str, Any],
                content_type: str, text: str, created: float | None) -> None:
        """The cell's status from its reply; a sandbox reset starts a new epoch (what was made before is lost)."""
        status = _str(aggregate.get("status"))
        if text.lstrip().startswith(RESET_TEXT):
            self.epoch += 1
            cell.status, cell.reset, cell.epoch = STATUS_CANCELLED, True, self.epoch
            self.result.resets.append(Reset(key, created, self.epoch, cell.index))
            for made in self.result.generated:
                if made.epoch < self.epoch:
                    made.lost = True
        elif content_type == "system_error":
            name = _str(content.get("name")) or "tool error"
            detail = clean_text(text).strip().splitlines()
            cell.status = STATUS_TOOL_ERROR
            cell.error = f"{name}: {detail[0][:300]}" if detail else name
        elif status == "success":
            cell.status = STATUS_SUCCESS
        elif status == "cancelled":
            cell.status = STATUS_CANCELLED
            cell.error = "cancelled before it finished"
        elif status and status.startswith("failed"):
            cell.status = STATUS_FAILED
            cell.error = _error_of(aggregate, text)
        else:
            cell.status = STATUS_UNKNOWN

    def _made(self, cell: CodeCell, aggregate: dict[str, Any], metadata: dict[str, Any], abandoned: bool) -> None:
        """What the cell made: its figures, its interactive tables, the paths its code wrote."""
        result = self.result
        for figure in _figures_of(aggregate, cell.index):
            if all(other.file_id != figure.file_id for other in cell.figures):
                cell.figures.append(figure)
                result.figures.append(figure)
                result.generated.append(GeneratedFile(figure.file_id, "figure", cell.epoch, cell.index,
                                                      figure.file_id, abandoned=abandoned))
        for item in _list(metadata.get("ada_visualizations")):
            item = _dict(item)
            title = _str(item.get("title"))
            name = visualization_name(title or _str(item.get("file_id")) or "table")
            if match_key(name) not in self.link_keys:
                self.link_keys.add(match_key(name))
                result.generated.append(GeneratedFile(name, "visualization", cell.epoch, cell.index,
                                                      _str(item.get("file_id")), abandoned=abandoned))
        if cell.status in (STATUS_SUCCESS, STATUS_UNKNOWN) and not cell.shell:
            names = result.upload_names
            for path in written_paths(cell.code, names) + written_paths(
                    _str(aggregate.get("final_expression_output")) or "", names):
                _add_generated(result, self.link_keys, path, "code", cell.epoch, cell.index, abandoned)

    def _links(self, content: dict[str, Any], abandoned: bool) -> None:
        text = text_of(content)
        if text and "sandbox:" in text:
            for path in sandbox_links(text):
                if match_key(path) in self.upload_keys:
                    continue
                _add_generated(self.result, self.link_keys, path, "link", self.epoch, None, abandoned)


def _add_generated(result: Conversation, keys: set[str], path: str, kind: str, epoch: int, cell: int | None,
                   abandoned: bool) -> None:
    key = match_key(path)
    if key in keys:
        # Already known: written again by code in a newer epoch, it was made again (a link proves nothing).
        for made in result.generated:
            if kind == "code" and match_key(made.path) == key and made.epoch < epoch:
                made.epoch, made.lost = epoch, False
        return
    keys.add(key)
    result.generated.append(GeneratedFile(path, kind, epoch, cell, abandoned=abandoned))


#: The recipients of the assistant's messages that ran code in the sandbox.
_CALL_RECIPIENTS = frozenset({"python"}) | SHELL_RECIPIENTS

_KNOWN_TYPES = frozenset({
    "text", "multimodal_text", "code", "execution_output", "system_error", "tether_browsing_display",
    "tether_quote", "thoughts", "reasoning_recap", "user_editable_context", "model_editable_context",
    "computer_output", "citable_code_output", "sonic_webpage",
})

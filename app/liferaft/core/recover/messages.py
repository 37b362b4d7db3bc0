"""Reading one message of a ChatGPT export: what :func:`liferaft.core.recover.extract.extract` takes from each.

The small readers (every key optional: a missing or odd-typed field is ``None`` or empty, never a crash), the text
of a message's content made fit to write (:func:`clean_text`), a shell call's command (:func:`shell_command`), and
what a code cell's reply holds: its uploads, its error, its figures, its output text, a shell step's status, and the
file name an interactive table becomes (:func:`visualization_name`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from liferaft.core.recover.conversation import (
    STATUS_CANCELLED,
    STATUS_FAILED,
    STATUS_SUCCESS,
    STATUS_TOOL_ERROR,
    STATUS_UNKNOWN,
    CodeCell,
    Figure,
    Upload,
)
from liferaft.core.recover.links import _decode_path

#: Shells whose ``-c``/``-lc`` argument is the script.
_SHELLS = frozenset({"bash", "sh", "zsh", "/bin/bash", "/bin/sh", "/usr/bin/bash", "/usr/bin/env bash"})
_SHELL_FLAGS = frozenset({"-c", "-lc", "-cl", "-l -c", "-ec", "-xc", "-euo pipefail -c"})

_JUNK = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


# --- small readers: every key optional ----------------------------------------------------------------------


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if value == value and abs(value) != float("inf") else None


def _int(value: Any) -> int | None:
    number = _num(value)
    return int(number) if number is not None and number >= 0 else None


def clean_text(text: str) -> str:
    """``\\r\\n`` made ``\\n``, and control bytes (binary junk) made U+FFFD so the text can be written as source."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _JUNK.sub("\ufffd", text)


def text_of(content: dict[str, Any]) -> str:
    """The text of a message's content: its string parts joined (dict parts' ``text``), else ``text``."""
    parts = content.get("parts")
    if isinstance(parts, list):
        pieces = []
        for part in parts:
            if isinstance(part, str):
                pieces.append(part)
            elif isinstance(part, dict) and isinstance(part.get("text"), str):
                pieces.append(part["text"])
        if pieces:
            return "".join(pieces)
    for key in ("text", "result"):
        value = content.get(key)
        if isinstance(value, str):
            return value
    return ""


def shell_command(text: str) -> tuple[str, list[str] | None]:
    """A shell call's content text as (the script to show, the command as an argument list). The JSON form
    ``{"cmd": [...]}`` (or ``"cmd": "..."``, or ``"command"``) and the bare ``bash -lc <script>`` are read; a
    ``bash -lc`` command shows its script. ``None`` for the list when the text cannot be read as a command
    (JSON cut off mid-stream): the text itself is then shown."""
    import json
    import shlex

    stripped = text.strip()
    argv: list[str] | None = None
    if stripped.startswith("{"):
        try:
            payload = _dict(json.loads(stripped))
        except (ValueError, RecursionError):
            return stripped, None
        cmd = payload.get("cmd", payload.get("command"))
        if isinstance(cmd, str) and cmd.strip():
            argv = ["bash", "-lc", cmd]
        elif isinstance(cmd, list) and cmd and all(isinstance(item, str) for item in cmd):
            argv = list(cmd)
        else:
            return stripped, None
    else:
        for shell in ("bash", "sh"):
            for flag in ("-lc", "-c"):
                prefix = f"{shell} {flag}"
                if stripped.startswith(prefix) and stripped[len(prefix):len(prefix) + 1] in (" ", "\n"):
                    script = stripped[len(prefix):].strip()
                    try:  # bash -lc 'one quoted argument'
                        words = shlex.split(script)
                    except ValueError:
                        words = []
                    if len(words) == 1 and script[:1] in ("'", '"'):
                        script = words[0]
                    argv = [shell, flag, script]
                    break
            if argv is not None:
                break
        if argv is None:
            argv = ["bash", "-lc", stripped] if stripped else None
    if argv is None:
        return stripped, None
    if len(argv) == 3 and argv[0] in _SHELLS and argv[1] in _SHELL_FLAGS:
        return argv[2], argv
    return shlex.join(argv), argv


def pointer_id(url: str) -> str:
    """``file-service://file-AbC`` → ``file-AbC`` (also ``sediment://``)."""
    return url.split("://", 1)[1] if "://" in url else url


# --- one message: its uploads, a reply's error, figures and output -----------------------------------------


def _is_hidden(message: dict[str, Any]) -> bool:
    metadata = _dict(message.get("metadata"))
    return bool(metadata.get("is_visually_hidden_from_conversation")) or \
        _str(_dict(message.get("content")).get("content_type")) in ("user_editable_context", "model_editable_context")


def _uploads_of(message: dict[str, Any], project_file: bool) -> Iterator[Upload]:
    for item in _list(_dict(message.get("metadata")).get("attachments")):
        item = _dict(item)
        name = _str(item.get("name"))
        if not name or not name.strip():
            continue
        name = clean_text(name).strip().rpartition("/")[2] if "/mnt/data/" not in name else \
            (_decode_path(name[name.index("/mnt/data/"):]) or name)
        mime = _str(item.get("mime_type")) or _str(item.get("mimeType")) or None
        yield Upload(name, _int(item.get("size")), mime, _str(item.get("id")), _num(message.get("create_time")),
                     project_file)


def _error_of(result: dict[str, Any], text: str) -> str:
    exception = _dict(result.get("in_kernel_exception")) or _dict(result.get("system_exception"))
    name = _str(exception.get("name"))
    args = [str(arg) for arg in _list(exception.get("args")) if isinstance(arg, (str, int, float))]
    if not name:
        for jupyter in _list(result.get("jupyter_messages")):
            jupyter = _dict(jupyter)
            if jupyter.get("msg_type") == "error":
                content = _dict(jupyter.get("content"))
                name = _str(content.get("ename"))
                value = _str(content.get("evalue"))
                args = [value] if value else []
                break
    if result.get("timeout_triggered") and not name:
        return "the run timed out"
    if name:
        message = "; ".join(args)
        return clean_text(f"{name}: {message}" if message else name)[:500]
    lines = [line for line in clean_text(text).splitlines() if line.strip()]
    status = _str(result.get("status")) or "failed"
    return (lines[-1][:500] if lines else status.replace("_", " "))


def _figures_of(result: dict[str, Any], cell: int) -> list[Figure]:
    found: dict[str, Figure] = {}
    for item in _list(result.get("messages")):
        item = _dict(item)
        url = _str(item.get("image_url"))
        if item.get("message_type") == "image" and url:
            file_id = pointer_id(url)
            found.setdefault(file_id, Figure(file_id, cell, _int(item.get("width")), _int(item.get("height"))))
    for jupyter in _list(result.get("jupyter_messages")):
        data = _dict(_dict(_dict(jupyter).get("content")).get("data"))
        for key, value in data.items():
            if not isinstance(key, str) or not key.startswith("image/vnd.openai.fileservice") or not isinstance(
                    value, str):
                continue
            url, width, height = value, None, None
            if value.lstrip().startswith("{"):
                import json

                try:
                    parsed = _dict(json.loads(value))
                except ValueError:
                    parsed = {}
                url = _str(parsed.get("url")) or ""
                width, height = _int(parsed.get("image_width")), _int(parsed.get("image_height"))
            if url:
                file_id = pointer_id(url)
                found.setdefault(file_id, Figure(file_id, cell, width, height))
    return list(found.values())


def _output_text(result: dict[str, Any], content: dict[str, Any]) -> str:
    text = text_of(content)
    if not text:
        pieces = [_str(_dict(item).get("text")) or "" for item in _list(result.get("messages"))]
        text = "".join(pieces) + (_str(result.get("final_expression_output")) or "")
    return text


def _shell_status(cell: CodeCell, aggregate: dict[str, Any], content: dict[str, Any], content_type: str,
                  text: str) -> None:
    """A shell step's status from its reply: a failed command comes back as a ``system_error`` holding what it
    printed (its last line says why: ``Unknown error: exit code: 1``, a traceback's last line); a container
    that failed to run it says ``Command failed due to container ...``; an ``execution_output`` carries
    ``aggregate_result.status``; a plain ``text`` reply is the command's output after it finished."""
    status = _str(aggregate.get("status"))
    lines = [line.strip() for line in clean_text(text).splitlines() if line.strip()]
    if content_type == "system_error":
        if lines and lines[0].startswith("Command failed due to container"):
            cell.status, cell.error = STATUS_TOOL_ERROR, lines[0][:300]
        else:
            cell.status = STATUS_FAILED
            cell.error = lines[-1][:500] if lines else (_str(content.get("name")) or "the command failed")
    elif status == "success" or (status is None and content_type in ("text", "execution_output", "")):
        cell.status = STATUS_SUCCESS
    elif status == "cancelled":
        cell.status, cell.error = STATUS_CANCELLED, "cancelled before it finished"
    elif status and status.startswith("failed"):
        cell.status, cell.error = STATUS_FAILED, _error_of(aggregate, text)
    else:
        cell.status = STATUS_UNKNOWN


def _is_python_reply(author: dict[str, Any], content_type: str, parent: str | None,
                     cells: dict[str, CodeCell]) -> bool:
    """A tool message answering a python call: named python, or unnamed but an execution output or a tool error
    hanging off a call."""
    name = _str(author.get("name"))
    if name == "python":
        return True
    return name is None and content_type in ("execution_output", "system_error") and (parent or "") in cells


def visualization_name(title: str) -> str:
    """The CSV an interactive table (``display_dataframe_to_user``) becomes: its title, made a file name."""
    from liferaft.core.names import portable_name

    safe = re.sub(r"[\\/:*?\"<>|\x00-\x1f\x7f]+", "-", clean_text(title)).strip(" .-") or "table"
    return portable_name(safe[:120] + ".csv" if not safe.lower().endswith(".csv") else safe[:124], "table.csv")

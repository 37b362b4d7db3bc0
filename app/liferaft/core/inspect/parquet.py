"""Parquet files: the footer's metadata (rows, row groups, schema, compression) and the first rows.

Only the footer and the pages holding the first rows are read: the magic bytes and the footer length are
checked by hand first, so a truncated file or another kind of file named .parquet gets a plain answer.
"""

from __future__ import annotations

import re
import struct
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from liferaft.core.inspect import DEFAULT_ROWS, Column, Preview
from liferaft.core.inspect.workbook import clip
from liferaft.core.units import format_size

#: A footer (the file's metadata) larger than this is not read.
MAX_FOOTER = 64 * 1024 * 1024
#: At most this many columns are shown.
MAX_COLUMNS = 200
#: At most this many columns are listed in the schema outline.
MAX_SCHEMA_LINES = 500
_MAGIC = b"PAR1"
_ENCRYPTED_MAGIC = b"PARE"
# pyarrow spells out flags nobody needs in a timestamp's logical type.
_LOGICAL_NOISE = re.compile(r", (?:is_from_converted_type|force_set_converted_type)=\w+")


def inspect_parquet(path: Path, *, max_rows: int = DEFAULT_ROWS, sheet: str | None = None) -> Preview:
    """Metadata and the first ``max_rows`` rows of a Parquet file. Never raises."""
    path = Path(path)
    try:
        problem = _check_frame(path)
    except OSError as exc:
        return Preview("parquet", error=f"cannot read {path.name}: {exc.strerror or exc}")
    if problem:
        return Preview("parquet", error=problem)
    try:
        return _read(path, max(0, max_rows))
    except MemoryError:
        raise
    except Exception as exc:
        lines = str(exc).strip().splitlines()
        detail = clip(lines[0] if lines else type(exc).__name__, 200)
        if "thrift" in detail.lower():
            detail = "its metadata (footer) is damaged"
        return Preview("parquet", error=f"cannot read {path.name}: {detail}; write or download it again")


def _check_frame(path: Path) -> str | None:
    """Why ``path`` is not a readable Parquet file (wrong kind, cut short, encrypted), or None."""
    with open(path, "rb") as fh:
        head = fh.read(4096)
        size = fh.seek(0, 2)
        if size >= 8:
            fh.seek(size - 8)
        tail = fh.read(8)
    if not head:
        return f"{path.name} is empty (0 bytes); write or download it again"
    if not head.startswith((_MAGIC, _ENCRYPTED_MAGIC)):
        from liferaft.core.roles import sniff_kind

        kind = sniff_kind(head)
        what = {"text": "text, perhaps CSV", "json": "JSON text", "archive": "a compressed archive", "pdf": "a PDF",
                "image": "an image"}.get(kind, "some other binary file")
        return f"{path.name} is not a Parquet file (it looks like {what}); check that it is the right file"
    if tail[4:] == _ENCRYPTED_MAGIC or head.startswith(_ENCRYPTED_MAGIC):
        return f"{path.name} is an encrypted Parquet file; Liferaft cannot read it without its keys"
    if size < 12 or tail[4:] != _MAGIC:
        return f"{path.name} is cut short (its footer is missing); write or download it again"
    footer = struct.unpack("<I", tail[:4])[0]
    if footer + 12 > size:
        return f"{path.name} is damaged or cut short (its footer length is impossible); write or download it again"
    if footer > MAX_FOOTER:
        return (f"{path.name} has {format_size(footer)} of metadata, more than Liferaft reads for a preview "
                f"({format_size(MAX_FOOTER)}); it may have very many columns or row groups")
    return None


def _read(path: Path, max_rows: int) -> Preview:
    import pyarrow.parquet as pq

    # A read buffer makes pages load one at a time instead of whole column chunks.
    with pq.ParquetFile(str(path), memory_map=False, buffer_size=1 << 20, pre_buffer=False) as parquet:
        meta = parquet.metadata
        schema = parquet.schema_arrow
        leaves = parquet.schema
        notes: list[str] = []
        fields = list(schema)[:MAX_COLUMNS]
        if len(schema) > MAX_COLUMNS:
            notes.append(f"showing the first {MAX_COLUMNS} of {len(schema):,} columns")
        compression: set[str] = set()
        if meta.num_row_groups:
            group = meta.row_group(0)
            compression = {str(group.column(j).compression) for j in range(group.num_columns)}
        columns_fact = f"{len(schema):,}"
        if len(leaves) != len(schema):
            columns_fact += f" ({len(leaves):,} leaf columns)"
        facts: list[tuple[str, str]] = [
            ("rows", f"{meta.num_rows:,}"),
            ("row groups", f"{meta.num_row_groups:,}"),
            ("columns", columns_fact),
        ]
        if compression:
            facts.append(("compression", ", ".join(sorted(compression))))
        if meta.created_by:
            facts.append(("created by", str(meta.created_by)))
        facts.append(("format version", str(meta.format_version)))
        batches = []
        if max_rows and meta.num_rows and fields:
            taken = 0
            names = [field.name for field in fields]
            for batch in parquet.iter_batches(batch_size=max_rows, columns=names, use_threads=False):
                batches.append(batch)
                taken += batch.num_rows
                if taken >= max_rows:
                    break
        rows, nulls = _rows(batches, fields, max_rows)
        facts.append(("rows shown", f"{len(rows):,}"))
        columns = tuple(
            Column(field.name, column_type(field.type), nulls[i]) for i, field in enumerate(fields)
        )
        outline = _outline(leaves)
    return Preview("parquet", facts=tuple(facts), columns=columns, rows=rows, text=outline, text_format="text",
                   notes=tuple(notes))


def _rows(batches: list[Any], fields: list[Any], max_rows: int) -> tuple[tuple[tuple[str, ...], ...], list[int]]:
    """The rows as text, and the empty cells per column."""
    texts: list[list[str]] = []
    nulls: list[int] = []
    for index, field in enumerate(fields):
        values: list[Any] = []
        for batch in batches:
            values += _python_values(batch.column(index))
        values = values[:max_rows]
        nulls.append(sum(1 for value in values if value is None))
        single = _is_float32(field.type)
        texts.append([value_text(value, single=single) for value in values])
    count = min((len(column) for column in texts), default=0)
    return tuple(tuple(column[i] for column in texts) for i in range(count)), nulls


def _python_values(array: Any) -> list[Any]:
    try:
        return list(array.to_pylist())
    except Exception:  # out-of-range timestamps and the like: let Arrow spell them
        import pyarrow as pa

        try:
            return list(array.cast(pa.string()).to_pylist())
        except Exception:
            return ["?"] * len(array)


def _is_float32(arrow_type: Any) -> bool:
    import pyarrow as pa

    return bool(pa.types.is_float32(arrow_type) or pa.types.is_float16(arrow_type))


def value_text(value: Any, *, single: bool = False) -> str:
    """One value as text: ISO dates, floats without binary noise, lists and records in JSON-like form."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format(value, ".7g") if single else repr(value)
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    if isinstance(value, bytes):
        return clip(value[:64].hex(" ") + (" …" if len(value) > 64 else ""))
    if isinstance(value, list | dict | tuple):
        return clip(_compact(value))
    return clip(str(value))


def _compact(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {_compact(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_compact(item) for item in value) + "]"
    if isinstance(value, str):
        return repr(value)
    return value_text(value)


def column_type(arrow_type: Any) -> str:
    """The :class:`Column` type for an Arrow type."""
    import pyarrow as pa

    types = pa.types
    if types.is_dictionary(arrow_type):
        arrow_type = arrow_type.value_type
    if types.is_boolean(arrow_type):
        return "boolean"
    if types.is_integer(arrow_type):
        return "integer"
    if types.is_floating(arrow_type) or types.is_decimal(arrow_type):
        return "decimal"
    if types.is_date(arrow_type):
        return "date"
    if types.is_timestamp(arrow_type):
        return "datetime"
    if types.is_null(arrow_type):
        return "empty"
    return "text"


def _outline(leaves: Any) -> str:
    """Each leaf column with its physical and logical Parquet types, aligned."""
    lines = []
    for j in range(min(len(leaves), MAX_SCHEMA_LINES)):
        column = leaves.column(j)
        logical = _LOGICAL_NOISE.sub("", str(column.logical_type))
        lines.append((str(column.path), str(column.physical_type), "" if logical == "None" else logical))
    if not lines:
        return ""
    width_name = min(max(len(name) for name, _, _ in lines), 40)
    width_physical = max(len(physical) for _, physical, _ in lines)
    text = "\n".join(
        f"{name:<{width_name}}  {physical:<{width_physical}}  {logical}".rstrip() for name, physical, logical in lines
    )
    if len(leaves) > MAX_SCHEMA_LINES:
        text += f"\n… and {len(leaves) - MAX_SCHEMA_LINES:,} more columns"
    return text

"""Roles and kinds: what a file is for in the analysis, and what sort of file it is.

A project keeps its files in four role folders (SOURCE, CODE, OUTPUT, RESTART). Folder names are matched
case-insensitively, with common aliases. A file outside any role folder gets a role guessed from its kind
and name, shown as guessed until the user overrides it.
"""

from __future__ import annotations

import re
from enum import StrEnum


class Role(StrEnum):
    SOURCE = "source"
    CODE = "code"
    OUTPUT = "output"
    RESTART = "restart"
    UNSORTED = "unsorted"

    @property
    def folder(self) -> str:
        """The canonical folder name `liferaft init` creates for this role."""
        return self.value.upper()

    @property
    def label(self) -> str:
        return "Unsorted" if self is Role.UNSORTED else self.value.upper()


#: Roles that have a folder of their own, in display order.
FOLDER_ROLES: tuple[Role, ...] = (Role.SOURCE, Role.CODE, Role.OUTPUT, Role.RESTART)

#: What each role folder may be called (compared case-insensitively).
ROLE_ALIASES: dict[Role, frozenset[str]] = {
    Role.SOURCE: frozenset(
        {"source", "sources", "data", "input", "inputs", "raw", "raw_data", "raw-data", "original", "originals"}
    ),
    Role.CODE: frozenset({"code", "src", "script", "scripts", "notebook", "notebooks"}),
    Role.OUTPUT: frozenset(
        {"output", "outputs", "result", "results", "figure", "figures", "chart", "charts", "plots",
         "report", "reports", "exports"}
    ),
    Role.RESTART: frozenset({"restart", "restarts", "restart-notes", "restart_notes", "notes", "prompts"}),
}

_ALIAS_TO_ROLE: dict[str, Role] = {alias: role for role, names in ROLE_ALIASES.items() for alias in names}


def role_for_folder(name: str) -> Role | None:
    """The role a top-level folder called ``name`` plays, if any."""
    return _ALIAS_TO_ROLE.get(name.casefold())


#: Kinds a scan reports, by extension (lower case, with the dot).
KIND_BY_EXTENSION: dict[str, str] = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".xls": "xlsx",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".json": "json",
    ".jsonl": "json",
    ".ndjson": "json",
    ".geojson": "json",
    ".txt": "text",
    ".log": "text",
    ".text": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".pdf": "pdf",
    ".png": "image",
    ".jpg": "image",
    ".jpeg": "image",
    ".gif": "image",
    ".webp": "image",
    ".svg": "image",
    ".bmp": "image",
    ".tif": "image",
    ".tiff": "image",
    ".py": "python",
    ".ipynb": "notebook",
    ".sql": "sql",
    ".r": "r",
    ".rmd": "r",
    ".zip": "archive",
    ".gz": "archive",
    ".tgz": "archive",
    ".tar": "archive",
    ".bz2": "archive",
    ".xz": "archive",
    ".7z": "archive",
}

#: Every kind, for validation and help text.
KINDS: tuple[str, ...] = (
    "csv", "tsv", "xlsx", "parquet", "json", "text", "markdown", "pdf", "image",
    "python", "notebook", "sql", "r", "archive", "other",
)

_JSON_START = re.compile(r'\s*(\{\s*["}]|\[\s*(["{\[\]]|-?\d|true\b|false\b|null\b))')
_DATA_KINDS = frozenset({"csv", "tsv", "xlsx", "parquet", "json"})
_CODE_KINDS = frozenset({"python", "notebook", "sql", "r"})
# Whole words of a file name (split at anything not a letter or digit): "sales_cleaned.csv" is an output,
# "unclean_survey.csv" and "election_results.csv" are not.
_OUTPUT_HINTS = re.compile(r"(?:^|[^a-z0-9])(?:clean|cleaned|output|outputs|summary|report|chart|charts|plot|"
                           r"plots|figure|figures|fig|export|exported)(?:[^a-z0-9]|$)")
_RESTART_HINTS = re.compile(r"(?:^|[^a-z0-9])(?:restart|prompt|prompts|notes?|brief)(?:[^a-z0-9]|$)")


def kind_from_name(name: str) -> str | None:
    """The kind implied by a file name's extension, or None when the extension says nothing."""
    dot = name.rfind(".")
    return KIND_BY_EXTENSION.get(name[dot:].lower()) if dot > 0 else None


#: How many bytes callers pass to :func:`sniff_kind` when the file is at least that long.
SNIFF_SAMPLE = 512


#: Up to this share of a sample's bytes (or one NUL in at least :data:`ONE_NUL_IN` bytes), NUL bytes are strays in
#: a text file, as a crashed writer or a copy over a bad connection leaves them; more, and the file is binary.
NUL_SHARE = 0.01
ONE_NUL_IN = 64
#: Read as Western, text has at most this share of C0 control characters (tab, line breaks, form feed and escape
#: aside)...
TEXT_C0 = 1 / 200
#: ...at least this share of printable characters (the bytes cp1252 leaves undefined count against it)...
TEXT_PRINTABLE = 0.9
#: ...and lines of at most this many characters, in the median.
TEXT_LINE = 10_000

# C0 control characters that text does not contain (tab, line breaks, form feed and escape are allowed).
_C0_TABLE = dict.fromkeys(set(range(32)) - set(map(ord, "\t\n\r\f\v\x1b")))


def control_count(text: str) -> int:
    """The C0 control characters in ``text`` that text does not contain (tab, line breaks, form feed and escape
    aside)."""
    return len(text) - len(text.translate(_C0_TABLE))


def few_nuls(data: bytes) -> bool:
    """Whether the NUL bytes in ``data`` (if any) are few enough to be strays in a text file."""
    nuls = data.count(0)
    return nuls <= len(data) * NUL_SHARE or (nuls == 1 and len(data) >= ONE_NUL_IN)


def western_text(data: bytes, final: bool = True) -> str | None:
    """"cp1252" (or "latin-1", when a byte cp1252 leaves undefined is there) when ``data`` read so has the shape of
    text: hardly any C0 control characters, mostly printable characters, lines of a text's length; else None.

    Bytes 0x80-0x9F are where cp1252 has its quotes, dashes and euro sign: they do not make a file binary; binary
    data read as Western comes out full of control characters. Stray NUL bytes are not counted (see
    :func:`few_nuls`). ``final``: ``data`` is the whole file (else a character cut at its end is left out)."""
    import codecs

    text = codecs.getincrementaldecoder("cp1252")(errors="replace").decode(data.replace(b"\x00", b""), final=final)
    if not text:
        return None
    holes = text.count("\ufffd")
    c0 = control_count(text)
    if c0 > max(2, len(text) * TEXT_C0) or c0 + holes > (1 - TEXT_PRINTABLE) * len(text):
        return None
    lengths = sorted(len(line) for line in text.splitlines()) or [0]
    if lengths[len(lengths) // 2] > TEXT_LINE:
        return None
    return "latin-1" if holes else "cp1252"


def sniff_kind(head: bytes) -> str:
    """The kind implied by a file's first bytes (used when the extension is unknown)."""
    if head.startswith(b"%PDF"):
        return "pdf"
    if head.startswith((b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM")) or (
        head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    ):
        return "image"
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith((b"PK\x03\x04", b"\x1f\x8b", b"7z\xbc\xaf", b"BZh", b"\xfd7zXZ")):
        return "archive"
    if not few_nuls(head):
        return "other"
    head = head.removeprefix(b"\xef\xbb\xbf").replace(b"\x00", b"")
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the end of a full sample is still text; anywhere else it is not UTF-8,
        # and text or binary is told from the shape of the bytes read as a Western code page.
        if len(head) < SNIFF_SAMPLE - 3 or exc.start < len(head) - 3:
            return "text" if western_text(head, final=len(head) < SNIFF_SAMPLE) else "other"
        text = head[: exc.start].decode("utf-8")
    if control_count(text) > max(2, len(text) * TEXT_C0):
        return "other"  # valid UTF-8, but full of control characters
    # '[section]' is INI or TOML: JSON follows a bracket with a value or a quoted key.
    if _JSON_START.match(text):
        return "json"
    return "text"


def guess_role(name: str, kind: str) -> Role:
    """Guess the role of a file found outside any role folder."""
    lowered = name.casefold()
    if kind in _CODE_KINDS:
        return Role.CODE
    if kind in ("markdown", "text") and _RESTART_HINTS.search(lowered):
        return Role.RESTART
    if kind == "image":
        return Role.OUTPUT
    if kind in _DATA_KINDS or kind in ("pdf", "markdown", "text"):
        if _OUTPUT_HINTS.search(lowered):
            return Role.OUTPUT
        return Role.SOURCE
    if kind == "archive":
        return Role.SOURCE
    return Role.UNSORTED

"""Token counts for text files, as the chat counts them (tiktoken's o200k_base), and never over the network.

tiktoken fetches its tokenizer data from the internet on first use. Liferaft does not let it: a file is counted
exactly only when that data file is already on this machine and matches its published checksum, otherwise
the count is an estimate (size ÷ 4) and says so. The data is looked for where tiktoken itself caches it
(``TIKTOKEN_CACHE_DIR`` when set, else Liferaft's cache folder, else tiktoken's default under the temporary
folder), by tiktoken's own name for it (the SHA-1 of its URL) or as ``o200k_base.tiktoken``.
:func:`fetch_tokenizer` downloads it on request only (``liferaft check --fetch-tokenizer``), with a short
timeout.

Counting is bounded: files over :data:`MAX_EXACT_BYTES` are estimated (they are at or past the 2,000,000-token
limit anyway), the text is counted in pieces cut where the tokenizer would cut it too (so the sum is exact),
and a count that takes longer than its time budget gives up and estimates.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import stat
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path

TYPE_CHECKING = False
if TYPE_CHECKING:
    from tiktoken import Encoding

ENCODING = "o200k_base"
#: Where tiktoken downloads the data from; its cache file is named by the SHA-1 of this string.
URL = "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken"
#: The data file's published checksum (tiktoken_ext.openai_public); a file that does not match is not used.
SHA256 = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"
#: o200k_base's pre-tokenizer pattern and special tokens, as tiktoken_ext.openai_public defines them.
PATTERN = "|".join([
    r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
    r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
    r"""\p{N}{1,3}""",
    r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
    r"""\s*[\r\n]+""",
    r"""\s+(?!\S)""",
    r"""\s+""",
])
SPECIAL_TOKENS = {"<|endoftext|>": 199999, "<|endofprompt|>": 200018}

#: Larger files are estimated: at about 4 bytes a token they are already near or over the token limit.
MAX_EXACT_BYTES = 16 * 1000 * 1000
#: The data file is about 3.6 MB; anything much larger under its name is not it.
_MAX_DATA_BYTES = 16 * 1000 * 1000
#: Seconds one file may take to count, and all the files of one check together.
FILE_BUDGET = 3.0
REPORT_BUDGET = 10.0
#: Text is handed to the tokenizer in pieces of about this many characters.
_CHUNK = 1 << 20
#: A line break followed by anything but white space or "/" ends every pre-tokenizer piece: cutting there
#: gives the same tokens as counting the whole text (no piece of the pattern spans such a point).
_CUT = re.compile(r"\n(?=[^\s/])")
#: A run this long of non-space (or space) characters could be one huge piece, slow to merge: estimate instead.
#: (Tried only where a run starts, so the search stays linear.)
_LONG_RUN = re.compile(r"(?<!\S)\S{65536}|(?<!\s)\s{65536}")
#: How long an explicit download may take to connect and to stall.
FETCH_TIMEOUT = 15.0

EXACT = f"exact ({ENCODING})"
ESTIMATE = "an estimate: size ÷ 4"


@dataclass(frozen=True, slots=True)
class TokenCount:
    tokens: int
    exact: bool
    how: str
    """``exact (o200k_base)``, or ``an estimate: size ÷ 4`` and, when it matters, why it is not exact."""


def estimate(size: int, why: str = "") -> TokenCount:
    return TokenCount(math.ceil(size / 4), False, f"{ESTIMATE}; {why}" if why else ESTIMATE)


def cache_dirs() -> list[Path]:
    """Where the tokenizer data is looked for, in order (``TIKTOKEN_CACHE_DIR`` alone when it is set)."""
    override = os.environ.get("TIKTOKEN_CACHE_DIR")
    if override is not None:
        return [Path(override).expanduser()] if override else []  # tiktoken: "" means no cache
    import tempfile

    return [liferaft_cache_dir(), Path(tempfile.gettempdir()) / "data-gym-cache"]


def liferaft_cache_dir() -> Path:
    """Liferaft's own place for the tokenizer data, where :func:`fetch_tokenizer` saves it."""
    override = os.environ.get("TIKTOKEN_CACHE_DIR")
    if override:
        return Path(override).expanduser()
    import platformdirs

    return platformdirs.user_cache_path("liferaft", appauthor=False) / "tiktoken"


def cache_name() -> str:
    """tiktoken's name for the cached data file: the SHA-1 of its URL."""
    return hashlib.sha1(URL.encode()).hexdigest()


def data_file() -> Path | None:
    """The tokenizer data file on this machine, or None. Only names are looked at here, nothing is read."""
    for folder in cache_dirs():
        for name in (cache_name(), f"{ENCODING}.tiktoken"):
            candidate = folder / name
            try:
                if candidate.is_file():
                    return candidate
            except OSError:
                continue
    return None


def encoding() -> Encoding | None:
    """o200k_base from the local data file, or None when there is none or it is not the published file."""
    for folder in cache_dirs():
        for name in (cache_name(), f"{ENCODING}.tiktoken"):
            path = folder / name
            try:
                st = path.stat()
            except OSError:
                continue
            if not stat.S_ISREG(st.st_mode):
                continue
            found = _load(str(path), st.st_mtime_ns, st.st_size, SHA256)
            if found is not None:
                return found
    return None


@cache
def _load(path: str, mtime_ns: int, size: int, expected_sha256: str) -> Encoding | None:
    """Parse and check one data file (cached per file version). Never raises, never touches the network."""
    if size > _MAX_DATA_BYTES:
        return None
    from liferaft.core.storage import read_small_file

    try:  # never a plain open(): a pipe in a shared cache folder would block it for ever
        data = read_small_file(Path(path), _MAX_DATA_BYTES + 1)
    except OSError:
        return None
    if hashlib.sha256(data).hexdigest() != expected_sha256:
        return None
    ranks = parse_ranks(data)
    if ranks is None:
        return None
    try:
        import tiktoken

        return tiktoken.Encoding(ENCODING, pat_str=PATTERN, mergeable_ranks=ranks, special_tokens=SPECIAL_TOKENS)
    except Exception:  # tiktoken missing or refusing the data: estimate instead
        return None


def parse_ranks(data: bytes) -> dict[bytes, int] | None:
    """The ``base64-token rank`` lines of a .tiktoken file, or None when they are not that."""
    import base64
    import binascii

    ranks: dict[bytes, int] = {}
    try:
        for line in data.splitlines():
            if not line:
                continue
            token, rank = line.split()
            ranks[base64.b64decode(token, validate=True)] = int(rank)
    except (ValueError, binascii.Error):
        return None
    # tiktoken cannot encode a byte it has no token for: every single byte must be there.
    if not ranks or any(bytes([byte]) not in ranks for byte in range(256)):
        return None
    return ranks


class Budget:
    """Time for exact counts across one check (only the counting is timed); once spent, the rest are estimated."""

    def __init__(self, seconds: float = REPORT_BUDGET) -> None:
        self.seconds = seconds
        self.spent = 0.0

    def left(self) -> float:
        return self.seconds - self.spent


def count_file(path: Path, size: int, *, budget: Budget | None = None) -> TokenCount:
    """How many tokens a text file is: exact when the data is here and the file small enough, else estimated."""
    if size > MAX_EXACT_BYTES:
        return estimate(size, f"too large to count exactly, over {MAX_EXACT_BYTES // 1000_000} MB")
    if data_file() is None:
        return estimate(size)
    if budget is not None and budget.left() <= 0:
        return estimate(size, "no time left to count exactly")
    found = encoding()
    if found is None:
        return estimate(size)
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_EXACT_BYTES + 1)
    except OSError:
        return estimate(size)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return estimate(size, "not UTF-8 text")
    seconds = FILE_BUDGET if budget is None else min(FILE_BUDGET, budget.left())
    started = time.monotonic()
    tokens = count_text(found, text, seconds)
    if budget is not None:
        budget.spent += time.monotonic() - started
    if tokens is None:
        return estimate(size, "too slow to count exactly")
    return TokenCount(tokens, True, EXACT)


def count_text(found: Encoding, text: str, seconds: float = FILE_BUDGET) -> int | None:
    """The exact token count of ``text``, or None when it cannot be had within ``seconds``."""
    deadline = time.monotonic() + seconds
    total = 0
    start = 0
    while start < len(text):
        end = len(text)
        if start + _CHUNK < len(text):
            cut = _CUT.search(text, start + _CHUNK)
            end = cut.end() if cut else len(text)
        if _LONG_RUN.search(text, start, end):
            return None
        try:
            total += len(found.encode_ordinary(text[start:end]))
        except Exception:
            return None
        start = end
        if start < len(text) and time.monotonic() > deadline:
            return None
    return total


class FetchError(Exception):
    """The tokenizer data could not be downloaded or saved; the message is one line."""


def fetch_tokenizer(url: str = URL, *, timeout: float = FETCH_TIMEOUT, expected_sha256: str | None = None) -> Path:
    """Download the o200k_base data into :func:`liferaft_cache_dir`, check it, save it atomically.

    Raises :class:`FetchError` (offline, timed out, wrong checksum, folder not writable).
    """
    import urllib.error
    import urllib.request

    from liferaft.core import storage

    expected = expected_sha256 or SHA256
    deadline = time.monotonic() + 4 * timeout
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            parts: list[bytes] = []
            received = 0
            while part := response.read(1 << 16):
                parts.append(part)
                received += len(part)
                if received > _MAX_DATA_BYTES or time.monotonic() > deadline:
                    raise TimeoutError("too slow or too large")
            data = b"".join(parts)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise FetchError(f"cannot download the {ENCODING} tokenizer data ({reason}); token counts stay estimates "
                         "(size ÷ 4)") from None
    if hashlib.sha256(data).hexdigest() != expected:
        raise FetchError(f"the {ENCODING} tokenizer data downloaded does not match its published checksum; "
                         "nothing was saved")
    target = liferaft_cache_dir() / cache_name()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        storage.write_bytes(target, data)
    except OSError as exc:
        raise FetchError(f"cannot save the tokenizer data to {target.parent}: {exc.strerror or exc}") from None
    return target

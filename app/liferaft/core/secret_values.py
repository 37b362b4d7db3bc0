"""What a credential's value and name look like, for the gate's own rules (:mod:`liferaft.core.secrets`): names
that hold secrets, placeholders and references that do not, values random enough to be keys, and the ranks a
hit carries when two rules find the same text.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from dataclasses import dataclass

_DB_SCHEMES = frozenset({"postgres", "postgresql", "mysql", "mariadb", "mongodb", "mongodb+srv", "redis", "rediss"})

# How specific a kind is, to choose among overlapping findings (higher wins).
_RANK_LIBRARY = 40
_RANK_OWN_PROVIDER = 30
_RANK_LIBRARY_GENERIC = 20
_RANK_ASSIGNMENT = 10


@dataclass(frozen=True, slots=True)
class _Hit:
    start: int
    end: int
    kind: str
    rank: int
    rule: str = ""


# A password in any URL: scheme://user:password@host (a driver or an uncommon scheme too).
_URL_PASSWORD = re.compile(
    r"""://(?P<user>[^\s:/@"'<>`]{1,128}):(?P<value>[^\s@/"'<>`]{1,256})@(?=[A-Za-z0-9\[._-])"""
)


_SECRET_NAME = re.compile(
    r"(?:^|[_.\- ])(?:token|secret|password|passwd|pwd|pat|pass(?:phrase|wort|word)?|mot[_ ]de[_ ]passe|contrase[nñ]a)$"
    r"|[_.\- ]key$|(?:api|secret|access|private|account|sharedaccess|subscription|master|signing)key$"
    r"|(?:^|[_.\- ])auth$|(?:^|[_.\- ])webhook(?:[_.\- ]?url)?$"
    r"|test[_.\- ]?reporter[_.\- ]?id$"
    r"|^(?:pwd|sig|key|apikey|secret|token|password|passwd|pass|sharedaccesssignature|x-api-key)$",
    re.IGNORECASE,
)
# Keys made to be public: a publishable key, a public token or key (Stripe's pk_, Mapbox's pk., a PEM public key).
_PUBLIC = re.compile(r"public|publishable", re.IGNORECASE)
_CAMEL_NAME = re.compile(r"[a-z0-9](?:Token|Secret|Password|Passwd|Key|Pwd)$")
# *_key names that hold a column, a path or a lookup in analysis code, not a credential.
_PLAIN_KEY_NAMES = frozenset((
    "sort", "join", "merge", "group", "groupby", "primary", "foreign", "partition", "cache", "hash", "index",
    "dict", "map", "lookup", "row", "column", "col", "sheet", "table", "composite", "unique", "natural",
    "surrogate", "dedup", "dedupe", "match", "range", "s3", "object", "bucket", "file", "blob", "cluster", "color",
    "colour", "legend", "label", "category", "series", "date", "time", "id", "name", "key", "sort_by", "order",
    "weight", "metric", "value", "field", "record", "entity", "item", "node", "state", "cell", "region", "segment",
    "cohort", "feature", "target", "level", "layer", "config", "setting", "translation", "i18n", "message", "dim",
    "dimension", "event", "user", "customer", "product", "account_id", "business", "idempotency", "shard",
    "redis", "queue", "topic", "route", "path", "prefix", "suffix", "version", "model", "result", "output", "input",
))  # fmt: skip
_PLACEHOLDER_WORDS = (
    "your", "xxx", "example", "sample", "placeholder", "changeme", "change_me", "replace", "dummy", "redacted",
    "insert", "fake", "todo", "fixme", "here", "...", "…", "***",
)  # fmt: skip
# A template or a variable in place of the value: <token>, ${VAR}, {{ var }}, %(var)s, $(cmd), {name} in an f-string.
_TEMPLATE = re.compile(r"^(?:<|\$\{|\{\{|%\(|\$\()|>$|\}\}$|\{[A-Za-z_][\w.]*\}|\$\{[A-Za-z_]\w*\}")
_NOT_VALUES = frozenset((
    "none", "null", "nil", "true", "false", "undefined", "str", "string", "int", "bytes", "optional", "any", "env",
    "required", "secret", "password", "token", "key", "pass", "passwd", "yes", "no", "on", "off", "empty", "unset",
    "hidden", "masked", "redacted", "secretstr", "bool", "float", "dict", "list", "object", "number", "text",
))  # fmt: skip
# settings.API_KEY, config.db.password, R's token$access_token, self$private_key, pkg::name
_REFERENCE = re.compile(r"^[A-Za-z_][\w.]*(?:(?:\$|::|@|\.)[A-Za-z_]\w*)+$")
# A file path: a folder part, a drive, or a name with a known file extension (a key ending in ".P" is no path).
_PATH = re.compile(
    r"^(?:~|\.{1,2})?/|^[A-Za-z]:[\\/]|^[\w.-]+(?:/[\w .-]+)+$"
    r"|\.(?:csv|tsv|txt|json|jsonl|ya?ml|toml|ini|cfg|conf|env|pem|key|crt|cer|der|p12|pfx|jks|pub|gpg|asc|xml|"
    r"xlsx?|parquet|feather|pkl|pickle|py|ipynb|r|rds|sql|db|sqlite|log|gz|zip|tar|md|html?|png|jpe?g|pdf|json5)$",
    re.IGNORECASE,
)
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TOKEN_ONLY = re.compile(r"(?!.*//)[A-Za-z0-9+/=_.~%-]+(?::[A-Za-z0-9+/=_.~%-]+)?")  # bot123:AAF… too
_COLUMN_TOKEN = re.compile(r"[A-Za-z0-9+/=_.~%!:-]+")
_REGEX = re.compile(r"\[[^\]]{1,40}\]|\{\d+(?:,\d*)?\}|\\[dwsbDWS]|\(\?[:=!P<]")  # a pattern, not a key
# A variable in place of the value: $VAR, %VAR%, @param, $env:VAR.
_VARIABLE = re.compile(
    r"\$(?:env:)?(?:[A-Z_][A-Z0-9_]*|[a-z_][a-z0-9_]*)|%[A-Za-z_]\w*%|@[A-Za-z_]\w*|\$\d"
)  # a conventional name only: `$YYbMDot25P` is a password that starts with $
_CODE_VALUE = re.compile(  # a call (also R's pkg::fn( and obj$fn(), an index, a literal: code, not a value
    r"^[A-Za-z_][\w.]*(?:(?:::|\$)[A-Za-z_][\w.]*)*\(|^[\[{(]|\w\["
)
# Names of a key that is a credential whatever its length (an API key), unlike a plain `*_key` (a column).
_CREDENTIAL_KEY = re.compile(
    r"(?:api|secret|access|private|client|auth|account|sharedaccess|subscription|master|signing|encryption|"
    r"license|licence|service|app|consumer|bot|webhook|openai|azure|aws|gcp|google|stripe|github|slack|license)"
    r"[_.\- ]?key$",
    re.IGNORECASE,
)


def _is_secret_name(name: str) -> tuple[bool, bool]:
    """(is it a credential's name, is it a password's name)."""
    bare = name.rsplit(".", 1)[-1].strip()
    if not (_SECRET_NAME.search(bare) or _CAMEL_NAME.search(bare)) or _PUBLIC.search(bare):
        return False, False
    low = bare.lower()
    if low.endswith("key") and not _CREDENTIAL_KEY.search(low):
        stem = re.sub(r"[_.\- ]?key$", "", low)
        if stem in _PLAIN_KEY_NAMES or re.split(r"[_.\- ]", stem)[-1] in _PLAIN_KEY_NAMES:
            return False, False
    is_password = any(w in low for w in ("pass", "pwd", "contrase", "mot de", "mot_de"))
    return True, is_password


def _entropy(value: str) -> float:
    counts = Counter(value)
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def _is_placeholder(value: str) -> bool:
    low = value.lower()
    return (
        low in _NOT_VALUES
        or len(set(value)) <= 2
        or any(w in low for w in _PLACEHOLDER_WORDS)
        or _TEMPLATE.search(value) is not None
        or low.strip("-_.") in _NOT_VALUES
    )


def _is_path(value: str) -> bool:
    """A file path or name (``data/2024/sales.csv``, ``~/keys/gcp.json``), not a key that holds a slash."""
    if not _PATH.search(value):
        return False
    return not any(_MIXED.search(part) for part in re.split(r"[/\\]", value))


_MIXED = re.compile(r"(?=[^/]*[a-z])(?=[^/]*[A-Z])(?=[^/]*[0-9])^[A-Za-z0-9+=_-]{12,}$")


_HASH_HEX = re.compile(r"(?:[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{56}|[0-9a-f]{64}|[0-9a-f]{96}|[0-9a-f]{128})", re.I)
# sha256=… (pip), sha512-… (SRI), h1:… (go.sum): a checksum named as one.
_HASH_NAMED = re.compile(r"(?:sha\d*|md5|blake2[bs]?|crc32|xxh\d*|h1)[=:-]", re.IGNORECASE)
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)


def _class_changes(value: str) -> float:
    """How often the kind of character (lower, upper, digit) changes from one to the next, separators aside:
    about half the time in a generated key, rarely in a name (``revenue_2024_q1``)."""
    kinds = ["d" if c.isdigit() else "u" if c.isupper() else "l" if c.islower() else "" for c in value]
    pairs = [(a, b) for a, b in itertools.pairwise(kinds) if a and b]
    return sum(a != b for a, b in pairs) / len(pairs) if pairs else 0.0


def token_like(name: str) -> bool:
    """Whether a column name is a generated key (a table whose first row holds a credential, read as its
    header): long, made of token characters only, letters and digits mixed as no name mixes them. A checksum
    or a UUID is not one (a table of file hashes read without its header keeps them)."""
    value = name.strip()
    if len(value) < 20 or len(value) > 512 or not _COLUMN_TOKEN.fullmatch(value) or "//" in value:
        return False
    if _HASH_HEX.fullmatch(value) or _UUID.fullmatch(value) or _HASH_NAMED.match(value) or _is_placeholder(value):
        return False
    if not (re.search(r"[0-9]", value) and re.search(r"[A-Za-z]", value)):
        return False
    if _entropy(value) < 3.5 or (re.search(r"[A-Z]", value) and _wordiness(value) >= 0.3):
        return False  # CamelCase words with digits (MultiIndexUInt16Engine) are a name
    return _class_changes(value) >= 0.35 or _unpronounceable(value)


def _wordiness(value: str) -> float:
    """The share of ``value`` in runs of three or more lowercase letters holding a vowel (``Multi``, ``ndex``,
    ``ngine`` in ``MultiIndexUInt16Engine``): high in a name, low in a generated key."""
    return sum(len(run) for run in re.findall(r"[a-z]{3,}", value) if re.search(r"[aeiouy]", run)) / len(value)


def _unpronounceable(value: str) -> bool:
    """A run of 20 or more letters and digits, with digits, whose letters hold too few vowels for words or their
    abbreviations (a generated lowercase key: ``oy2lx7…``, ``nmaqhbb63zab…``)."""
    chunk = max(re.split(r"[-_.~+/=%!:]", value), key=len)
    letters = [c for c in chunk.lower() if c.isalpha()]
    if len(chunk) < 20 or not re.search(r"[0-9]", chunk) or len(letters) < 12:
        return False
    return sum(c in "aeiou" for c in letters) / len(letters) < 0.3


def _is_reference(value: str) -> bool:
    """``settings.API_KEY``, ``config.db.password``: a name in code, not a value (a dotted key is no name)."""
    return _REFERENCE.match(value) is not None and not any(_looks_random(part) for part in value.split("."))


def _looks_random(value: str) -> bool:
    """Letters and digits mixed, long and varied enough to be a generated key (not a word, a code or a date)."""
    return (
        len(value) >= 16
        and _TOKEN_ONLY.fullmatch(value) is not None
        and re.search(r"[0-9]", value) is not None
        and re.search(r"[A-Za-z]", value) is not None
        and " " not in value
        and _entropy(value) >= 3.0
    )


def _looks_like_value(name: str, value: str, *, form: str) -> bool:
    """Whether ``value``, given to ``name`` in ``form`` ("quoted", "env" for NAME=value alone on a line, "spaced"
    for name = value, "colon" for name: value, "pair" for name=value inside a line, "flag"), is a credential."""
    is_secret, is_password = _is_secret_name(name)
    if not is_secret or _is_placeholder(value) or value.lower() == name.lower() or _restates_name(name, value):
        return False
    if _VARIABLE.fullmatch(value) or _is_reference(value):
        return False
    low_name = name.rsplit(".", 1)[-1].strip().lower()
    if form == "prose":  # a sentence: only a value that cannot be a word
        if is_password:
            return len(value) >= 8 and bool(re.search(r"[0-9]", value)) and bool(re.search(r"[A-Za-z]", value))
        return _looks_random(value.rstrip(".,;:"))
    generic = low_name in ("apikey", "api-key", "token") and form in ("pair", "literal")
    if low_name in ("key", "sig", "auth") or generic:
        return _looks_random(value)  # key="…", ?key=… and sig=… in a URL: only what looks generated
    if form in ("spaced", "colon", "flag") and _CODE_VALUE.search(value):
        return False  # password = get_password(), token: Tokenizer[str]
    if form in ("spaced", "pair", "flag") and _IDENTIFIER.fullmatch(value) and not (
        re.search(r"[0-9]", value) and len(value) >= 6
    ):
        return False  # password = pwd, connect(password=db_password): a variable
    alpha_only = not re.search(r"[0-9\W_]", value)
    if alpha_only:
        if value[:1].isupper() and value[1:].islower() and form != "env":
            return False  # `token: Tokenizer`, `password: Secret`: a type
        if not is_password:
            return len(value) >= 20 and form in ("quoted", "env") and _entropy(value) >= 3.5
        if form == "env":
            return len(value) >= 6
        return len(value) >= 8 and form != "spaced"
    if is_password:
        return len(value) >= 4 and not (value.isdigit() and len(value) < 6)
    if _REGEX.search(value):
        return False  # HEX_PAT = "[0-9A-Fa-f]{1,4}"
    if len(value) < 8 or any(c.isspace() for c in value) or value.isdigit() or _is_path(value):
        return False
    if re.fullmatch(r"[a-z]+(?:[_-][a-z]+)*", value) or re.fullmatch(r"[A-Z]+(?:_[A-Z]+)*", value) or \
            re.fullmatch(r"[A-Za-z]+(?:[_-][A-Za-z]+){2,}", value):
        return False  # a lowercase word, a snake_case name or a CONSTANT: a column or a setting, not a key
    if low_name.endswith("key") and not _CREDENTIAL_KEY.search(low_name) and not _looks_random(value):
        return False  # weight_key = "w_2024Q1": a short code under a plain key name
    return _entropy(value) >= 2.5


# The last word of a credential's name (``POSTGRES_PASSWORD`` -> password, ``apiToken`` -> token).
_NAME_WORD = re.compile(r"(?:^|[_.\- ]|(?<=[a-z0-9])(?=[A-Z]))([A-Za-z][a-z]*|[A-Z]+)$")


def _restates_name(name: str, value: str) -> bool:
    """Whether ``value`` is its name's own word with a number or a mark after it (``password123`` given to
    ``POSTGRES_PASSWORD``, ``token1`` to ``API_TOKEN``): the demo value of a tutorial or a compose file."""
    word = _NAME_WORD.search(name.rsplit(".", 1)[-1].strip())
    stem = value.lower().rstrip("0123456789!@#$%*._-")
    return word is not None and len(stem) >= 3 and stem == word.group(1).lower() and stem != value.lower()

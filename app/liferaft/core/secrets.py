"""The secret gate: find credentials in text before it leaves through the clipboard or a saved file.

Nothing is ever sent anywhere: the scan runs in this process, on this machine.

**Library.** Detection is Kingfisher's (PyPI ``kingfisher-secret-scanner``, import ``kingfisher_sdk``, MongoDB,
Apache-2.0; tested with 1.5.x, accepted ``>=1.5,<2``): ~490 maintained provider rules (the Betterleaks/Gitleaks
catalog and Kingfisher's own) matched natively by Vectorscan, abi3 wheels for Linux (x86_64, aarch64), macOS
(x86_64, arm64) and Windows. Its scanning makes no network request (validation and revocation would, and are
never called). Chosen over ``detect-secrets`` (no release since 2024) and its maintained fork ``bc-detect-secrets``
1.5.52, which are pure Python but took ~575 ms for 250 KB and miss OpenAI project keys, Anthropic, Google API,
Hugging Face and GitHub fine-grained tokens. Kingfisher scans 250 KB in ~1 ms a pass (the whole gate: ~8-16 ms);
the cost is compiling its rules, once per process, on the first scan: ~3.4 s the first time on a machine, ~0.3 s after
that from its compiled-rule cache (kept under Liferaft's cache folder). :func:`warm_up` does it ahead of time.
Base64 decoding is off: a notebook's embedded images are not credentials, and decoding them costs time.

**Gaps in Kingfisher 1.5 we cover ourselves**, each proven by a ``test_gap_*_library_misses_it`` test that
fails once the library covers it (then drop our part):

- *Token boundaries*: most rules accept a key only when a quote, whitespace, ``;`` or the end follows it, so a
  key followed by a comma (a CSV cell), ``]``, ``)``, ``}``, ``>``, ``|`` or ``&`` is missed. We scan a
  second copy of the text with those characters turned into spaces (same length, so offsets hold).
- *AWS access key ID alone*: Kingfisher reports ``AKIA…`` only paired with a secret key. Own pattern.
- *AWS secret access key*: reported only as an invisible helper unless paired; we surface it when "aws" is in
  its context.
- *``.env``-style and code assignments* (``*_KEY=``, ``*_TOKEN=``, ``*_SECRET=``, ``PASSWORD=``,
  ``"password": "…"``): no generic rule. Own rule, with checks that skip references (``os.environ[...]``,
  ``settings.X``), placeholders (``YOUR_API_KEY``, ``<token>``, ``xxxx``, ``sk-...``, ``${VAR}``), numbers,
  file paths and the common non-secret ``*_key`` names of analysis code (``sort_key``, ``join_key``...).
  The same placeholder check drops the library's URL passwords that are placeholders (``user:password@``).
  A default login is no finding either: a password that is the user name given beside it (``POSTGRES_USER=airflow``
  then ``POSTGRES_PASSWORD=airflow``, as ``airflow:airflow@`` in a URL, or curl's ``--user admin:admin``), or its
  name's own word and a number (``POSTGRES_PASSWORD: password123``).
- *CI credentials under an ``*_ID`` name*: CodeClimate's test reporter ID (``CC_TEST_REPORTER_ID``, 64 hex
  characters like a sha256) has no rule; its name is one of the assignment rule's credential names.
- *Google service-account JSON*: its rule needs ``auth_provider_x509_cert_url`` too, and spans the whole
  object; we take the PEM private key (which Kingfisher finds) and name it a service-account key when
  ``client_email`` is beside it.

Findings never hold a full secret: only its offsets and a :func:`mask`.
"""

from __future__ import annotations

import itertools
import math
import re
import string
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

__all__ = ["Finding", "SecretScannerUnavailable", "mask", "ready", "redact", "scan_text", "token_like", "warm_up"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One credential found in a text: where its value is, what it is, and a masked form of it."""

    kind: str  # human name, e.g. "OpenAI API key", "AWS secret access key", "PEM private key"
    line: int  # 1-based line number in the scanned text
    start: int  # offset of the secret value in the text (the value only, not ``KEY=``)
    end: int
    masked: str  # never the full value
    source: str = ""  # where the line came from, filled by the caller (a file name)


class SecretScannerUnavailable(RuntimeError):
    """The detection library could not be loaded: the text was not checked, so it must not be let through."""


def mask(value: str) -> str:
    """``sk-p…(164 chars)…Q3xA``: at most 4 leading and 4 trailing characters, fewer for short values.

    Never more than a quarter of the value shows (an 8-character password shows one character each side).
    """
    n = len(value)
    keep = min(4, n // 8)
    if keep == 0:
        return f"…({n} chars)…"
    return f"{value[:keep]}…({n} chars)…{value[-keep:]}"


def redact(text: str, findings: Sequence[Finding]) -> str:
    """``text`` with each finding's value replaced by ``[REDACTED: <kind>]``; overlapping findings count once."""
    spans: list[list[Any]] = []  # [start, end, kind], overlapping findings joined under the first one's kind
    for f in sorted(findings, key=lambda f: (f.start, -f.end)):
        if spans and f.start < spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], f.end)
        else:
            spans.append([f.start, f.end, f.kind])
    parts: list[str] = []
    pos = 0
    for start, end, kind in spans:
        parts.append(text[pos:start])
        parts.append(f"[REDACTED: {kind}]")
        pos = end
    parts.append(text[pos:])
    return "".join(parts)


# --- the library ------------------------------------------------------------------------------------------------

# Kingfisher rule id (without its "betterleaks." / "kingfisher." prefix) -> the name a person reads.
_KINDS: dict[str, str] = {
    "openai-api-key": "OpenAI API key",
    "kimi-api-key": "sk- API key (OpenAI or Moonshot style)",
    "anthropic-api-key": "Anthropic API key",
    "anthropic-admin-api-key": "Anthropic admin API key",
    "aws-access-token": "AWS access key ID",
    "aws-secret-access-key": "AWS secret access key",
    "aws-session-token": "AWS session token",
    "github-pat": "GitHub personal access token",
    "github-fine-grained-pat": "GitHub fine-grained token",
    "github-oauth": "GitHub OAuth token",
    "github-app-token": "GitHub app token",
    "github-refresh-token": "GitHub refresh token",
    "slack-webhook-url": "Slack webhook URL",
    "slack-bot-token": "Slack bot token",
    "slack-legacy-bot-token": "Slack bot token",
    "slack-user-token": "Slack user token",
    "slack-app-token": "Slack app token",
    "slack-legacy-token": "Slack legacy token",
    "slack-legacy-workspace-token": "Slack workspace token",
    "gcp-api-key": "Google API key",
    "stripe-access-token": "Stripe secret key",
    "huggingface-access-token": "Hugging Face token",
    "huggingface-organization-api-token": "Hugging Face organization token",
    "private-key": "PEM private key",
    "jwt": "JSON Web Token",
    "jwt-base64": "JSON Web Token (base64)",
    "mongodb-connection-string": "MongoDB connection string",
}
# Rules whose finding would wrap a more precise one (or a whole JSON object): not reported as such.
_SKIPPED_RULES = frozenset({"gcp-service-account"})
# A "whole URI" finding dropped when a password finding lies inside it: redact the password, keep the host.
_CONTAINER_RULES = frozenset({"mongodb-connection-string"})
_DB_SCHEMES = frozenset({"postgres", "postgresql", "mysql", "mariadb", "mongodb", "mongodb+srv", "redis", "rediss"})

# How specific a kind is, to choose among overlapping findings (higher wins).
_RANK_LIBRARY = 40
_RANK_OWN_PROVIDER = 30
_RANK_LIBRARY_GENERIC = 20
_RANK_ASSIGNMENT = 10
_GENERIC_RULES = frozenset({"generic-credential-uri", "kimi-api-key"})

_lock = threading.Lock()
_scanner: Any = None

# Characters that end a value but that the library's rules do not accept as an end (see the module docstring).
_BOUNDARIES = bytes.maketrans(b",)]}>|&", b"       ")


def _cache_dir() -> str | None:
    try:
        import platformdirs

        return str(platformdirs.user_cache_path("liferaft", appauthor=False) / "secret-rules")
    except Exception:  # the cache only saves time
        return None


def _get_scanner() -> Any:
    global _scanner
    with _lock:
        if _scanner is None:
            try:
                import kingfisher_sdk
            except ImportError as exc:  # pragma: no cover - the dependency is required
                raise SecretScannerUnavailable(
                    f"the secret scanner kingfisher-secret-scanner is missing: {exc}"
                ) from None
            cache_dir = _cache_dir()
            try:
                rules = kingfisher_sdk.Rules(confidence="low", cache_dir=cache_dir)
            except Exception:  # an unusable cache folder: compile without it
                rules = kingfisher_sdk.Rules(confidence="low", cache=False)
            _scanner = kingfisher_sdk.Scanner(rules, base64=False)
        return _scanner


def warm_up() -> None:
    """Load and compile the detection rules now (a background thread can call this), not on the first scan."""
    _get_scanner()


def ready() -> bool:
    """True once the rules are loaded: a scan then takes milliseconds (before, the first one loads them)."""
    return _scanner is not None


@dataclass(frozen=True, slots=True)
class _Hit:
    start: int
    end: int
    kind: str
    rank: int
    rule: str = ""


def _library_hits(text: str) -> list[_Hit]:
    scanner = _get_scanner()
    data = text.encode("utf-8", "surrogatepass")
    ascii_only = len(data) == len(text)
    hits: list[_Hit] = []
    seen: set[tuple[int, int, str]] = set()
    for blob in (data, data.translate(_BOUNDARIES)):
        for f in scanner.scan(blob):
            rule = f.rule_id.split(".", 1)[-1]
            if rule in _SKIPPED_RULES:
                continue
            loc = f.location
            b_start, b_end = int(loc["start_offset"]), int(loc["end_offset"])
            if ascii_only:
                start, end = b_start, b_end
            else:
                start = len(data[:b_start].decode("utf-8", "surrogatepass"))
                end = start + len(data[b_start:b_end].decode("utf-8", "surrogatepass"))
            # Helpers are shown only for AWS secret keys named as such (see the module docstring).
            if not f.visible and (
                rule != "aws-secret-access-key" or "aws" not in text[max(0, start - 80) : start].lower()
            ):
                continue
            if rule == "generic-credential-uri" and (_is_placeholder(text[start:end]) or _user_is_password(
                    text, start, end)):
                continue  # postgres://user:password@localhost/db as in every tutorial, airflow:airflow@ (a default)
            if "EXAMPLE" in text[start:end]:
                continue  # the documented example keys (AWS's AKIAIOSFODNN7EXAMPLE and its secret)
            if rule == "curl-auth-user" and _default_login(text[start:end]):
                continue  # curl --user "admin":"admin", -u user:password, -u $USER:$PASS
            key = (start, end, rule)
            if key in seen:
                continue
            seen.add(key)
            hits.append(_Hit(start, end, _library_kind(rule, f), _library_rank(rule), rule))
    return hits


def _user_is_password(text: str, start: int, end: int) -> bool:
    """Whether the URL password at text[start:end] is its user name again (``airflow:airflow@``: a default)."""
    for m in _URL_PASSWORD.finditer(text, max(0, start - 300), min(len(text), end + 300)):
        if m.start("value") <= start < m.end("value") or start <= m.start("value") < end:
            return m.group("value") == m.group("user")
    return False


def _default_login(login: str) -> bool:
    """Whether ``user:password`` (as curl's ``--user`` takes it, each part maybe quoted) is a default or a
    placeholder: the password is the user name again (``admin:admin``), a placeholder or a variable."""
    user, _, password = login.partition(":")
    user, password = user.strip("\"'"), password.strip("\"'")
    return password == user or _is_placeholder(password) or _VARIABLE.fullmatch(password) is not None


def _library_kind(rule: str, finding: Any) -> str:
    if rule == "generic-credential-uri":
        scheme = str(finding.captures.get("scheme", "")).lower()
        return "database URL password" if scheme in _DB_SCHEMES else "password in a URL"
    kind = _KINDS.get(rule)
    if kind is not None:
        return kind
    words = rule.rstrip(".0123456789").split("-")
    upper = {"api", "aws", "gcp", "jwt", "pat", "url", "uri", "id", "ssh", "sql", "oauth"}
    return " ".join(w.upper() if w in upper else w for w in words).capitalize() if words else rule


def _library_rank(rule: str) -> int:
    return _RANK_LIBRARY_GENERIC if rule in _GENERIC_RULES else _RANK_LIBRARY


# --- our own patterns, for the gaps named in the module docstring -----------------------------------------------

_AWS_PREFIXES = ("AKIA", "ASIA", "ABIA", "ACCA", "A3T")
_AWS_KEY_ID = re.compile(r"(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}(?![A-Za-z0-9])")

_NAME = r"(?<![A-Za-z0-9_.-])[A-Za-z_][A-Za-z0-9_.-]{0,80}"  # starts only where a name can: no backtracking
# NAME = "value" / NAME: 'value' / "name": "value" / 'name' => "value" / os.environ["NAME"] = "value"
_QUOTED_ASSIGNMENT = re.compile(
    rf"""(?P<nq>["'`]?)(?P<name>{_NAME})(?P=nq)\]?[ \t]*(?:=|:|=>|:=|<-)[ \t]*"""
    rf"""(?P<q>["'`])(?P<value>[^"'`\\\r\n]{{1,512}})(?P=q)"""
)
# .env, INI, YAML and note lines: NAME=value, export NAME=value, name = value, name: value, %env NAME=value,
# each alone on its line (or with a comment); also as a Markdown bullet or a comment (`- API token: value`,
# `# password: value`, `**DB password**: value`), where a name may be a few words.
_BARE_ASSIGNMENT = re.compile(
    r"""^[ \t]*(?P<lead>(?:[-*+>]|\d{1,3}[.)]|\#{1,3}|//|--|;|REM)[ \t]+)?"""
    r"""(?:(?:export|set|setx|%env|%set_env|\$env:|declare[ \t]+-x)[ \t]*)?(?P<mark>\*\*|__|`)?"""
    rf"""(?P<name>{_NAME}(?:[ ][A-Za-z][A-Za-z0-9_-]{{0,30}}){{0,3}})(?P=mark)?"""
    r"""(?P<sep>=|[ \t]+=[ \t]*|[ \t]*:[ \t]+|[ \t]+-[ \t]+)(?P<bq>`?)"""
    r"""(?P<value>[^\s"'`,;]{1,512})(?P=bq)(?:[ \t]+(?:\#|//).*)?[ \t]*\r?$""",
    re.MULTILINE,
)
# A default given with a credential's name: os.getenv("NAME", "value"), os.environ.setdefault("NAME", "value"),
# config.get("password", "value"), Sys.getenv("NAME", unset = "value").
_NAMED_DEFAULT = re.compile(
    r"""(?i:get\w*|\w*env|setdefault|pop|fetch\w*|option|secret\w*|param\w*|setting\w*|config\w*)"""
    rf"""\([ \t]*(?P<nq>["'])(?P<name>{_NAME})(?P=nq)[ \t]*,[ \t]*(?:[A-Za-z_]+[ \t]*=[ \t]*)?"""
    r"""(?P<q>["'])(?P<value>[^"'\\\r\n]{1,512})(?P=q)"""
)
# name=value inside a line: a connection string (`Password=…;`), a URL's query (`?apiKey=…&`), a header value.
_PAIR = re.compile(
    r"""(?:(?<=[;,&?"'\s(])|^)(?P<name>[A-Za-z][A-Za-z0-9_.-]{0,40})[ \t]*=[ \t]*"""
    r"""(?P<value>[^\s;,&"'`]{1,512})""",
    re.MULTILINE,
)
# A credential named in a sentence or a comment: `# the API key was <value> (rotated)`, `token is <value>`.
_PROSE = re.compile(
    rf"""(?P<name>{_NAME})[`*'"]*[ \t]+(?:was|is|=|:|of|set[ \t]+to|->|→|equals|reads|en)[ \t]+[`'"]?"""
    r"""(?P<value>[^\s`'"()\[\]{}<>,;]{6,512}?)[`'"]?(?=[).,;]*(?:\s|$))""",
    re.MULTILINE,
)
# A credential named in a command line: --password X, --api-key=X, docker login -p X, mysql -pX.
_FLAG = re.compile(
    r"""(?<![\w-])(?:--(?P<name>password|passwd|pass|token|api-key|apikey|secret|access-token|auth-token)[ =]"""
    r"""|(?P<short>-p)[ \t]+(?=\S*[0-9])|(?<=\bmysql )\S*?-p(?=\S{4}))"""
    r"""(?P<q>["']?)(?P<value>[^\s"'`]{4,512})(?P=q)"""
)
# A password in any URL: scheme://user:password@host (a driver or an uncommon scheme too).
_URL_PASSWORD = re.compile(
    r"""://(?P<user>[^\s:/@"'<>`]{1,128}):(?P<value>[^\s@/"'<>`]{1,256})@(?=[A-Za-z0-9\[._-])"""
)
_URL_SCHEME = re.compile(r"""(?:jdbc:)?(?P<scheme>[A-Za-z][A-Za-z0-9+.-]{0,40})\Z""")
_SQL_PASSWORD = re.compile(
    r"""(?i)\b(?:identified[ \t]+by|(?<![\w.])password)[ \t]+(?P<q>["'])(?P<value>[^"'\r\n\\]{3,256})(?P=q)"""
)
# Authorization: Bearer <token> (a header in code, curl, R or a note), and Basic/Token/Bot schemes.
_AUTH_HEADER = re.compile(
    r"""(?i)\b(?:authorization|auth)\b["'`]?[ \t]*[:=][ \t]*["'`]?(?:bearer|token|basic|bot|sso-key|apikey)"""
    r"""[ \t]+(?P<value>[^\s"'`]{8,2048})"""
)
_BEARER = re.compile(r"""(?i)(?<![\w-])bearer[ \t]+(?P<value>[^\s"'`]{20,2048})""")
# A header holding a key: -H "X-API-Key: value", {"Ocp-Apim-Subscription-Key": "value"} is an assignment.
_KEY_HEADER = re.compile(
    r"""(?i)(?:-H|--header)[ \t]+["'](?P<name>[A-Za-z][A-Za-z0-9-]{1,60})[ \t]*:[ \t]*"""
    r"""(?P<value>[^\s"']{8,2048})"""
)
# Provider formats Kingfisher 1.5 does not report on their own (each proven by a test_gap_* test).
_AZURE_AD_SECRET = re.compile(r"(?<![\w~.-])[\w~.-]{3}\dQ~[\w~.-]{31,34}(?![\w~.-])")
_DISCORD_WEBHOOK = re.compile(
    r"https://(?:(?:ptb|canary)\.)?discord(?:app)?\.com/api/webhooks/[0-9]{17,20}/[\w-]{50,100}(?![\w-])"
)
_TEAMS_WEBHOOK = re.compile(
    r"https://[\w.-]*(?:office|office365|outlook)\.com/webhook(?:b2)?/[0-9a-f-]{36}@[0-9a-f-]{36}"
    r"/IncomingWebhook/[0-9a-f]{32}/[0-9a-f-]{36}(?:/[\w-]+)?"
)
_DISCORD_BOT = re.compile(r"(?<![\w.-])[MNO][A-Za-z0-9_-]{23,27}\.[\w-]{6}\.[\w-]{27,40}(?![\w.-])")
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


_HINT_WORDS = (
    "token", "secret", "pass", "pwd", "key", "auth", "bearer", "identified", "sig=", "mot de", "contrase", "_pat",
    " pat", "reporter",
)  # fmt: skip


def _hinted_lines(text: str) -> list[tuple[int, int]]:
    """The (start, end) of each line that holds a credential's name: the assignment rule looks at these only.

    ``str.find`` per word, not a regex alternation: ten times faster on 250 KB.
    """
    low = text.lower()
    if len(low) != len(text):  # a few characters lower to two ("İ"), so offsets differ: go line by line
        lines: list[tuple[int, int]] = []
        start = 0
        for line in text.split("\n"):
            lowered = line.lower()
            if any(word in lowered for word in _HINT_WORDS):
                lines.append((start, start + len(line)))
            start += len(line) + 1
        return lines
    hits = []
    for word in _HINT_WORDS:
        pos = low.find(word)
        while pos >= 0:
            hits.append(pos)
            pos = low.find(word, text.find("\n", pos) + 1 or len(low))
    lines = []
    last_end = -1
    for pos in sorted(hits):
        if pos <= last_end:
            continue
        start = text.rfind("\n", 0, pos) + 1
        end = text.find("\n", pos)
        last_end = end = len(text) if end < 0 else end
        lines.append((start, end))
    return lines


def _bare_form(sep: str) -> str:
    if sep == "=":
        return "env"
    return "spaced" if "=" in sep else "colon"


def _assignment_hit(m: re.Match[str], form: str, name: str | None = None) -> _Hit | None:
    return _finish_pair(m, name if name is not None else m.group("name"), len(m.group("value")), form)


def _pair_hit(m: re.Match[str]) -> _Hit | None:
    """name=value inside a line; a call's closing brackets after the value are not part of it, nor a JSON
    string's escaped line end (a notebook's source lines end in ``\\n``)."""
    value = m.group("value")
    if _is_placeholder(value):
        return None  # sk-ant-api03-... (checked before any trimming takes its dots away)
    end = len(value)
    while value.endswith(("\\n", "\\r", "\\t"), 0, end):
        end -= 2
    while end and value[end - 1] in ")]}>" and value.count(_OPENING[value[end - 1]], 0, end) < value.count(
        value[end - 1], 0, end
    ):
        end -= 1
    while end and value[end - 1] in ".,:;":  # the end of a sentence or of a signature
        end -= 1
        while end and value[end - 1] in ")]}>" and value.count(_OPENING[value[end - 1]], 0, end) < value.count(
            value[end - 1], 0, end
        ):
            end -= 1
    if not end or _CODE_VALUE.search(value[:end]):
        return None  # connect(password=get_password()), auth=tokens[0]
    before = m.string[m.start("name") - 1] if m.start("name") else ""
    # In a connection string or a URL's query (after ; ? & or a quote) a value is written out; in a call's
    # arguments (after ( , or a space) a bare word is a variable.
    form = "literal" if before and before in ";?&\"'" else "pair"
    return _finish_pair(m, m.group("name"), end, form)


_OPENING = {")": "(", "]": "[", "}": "{", ">": "<"}


def _finish_pair(m: re.Match[str], name: str, end: int, form: str) -> _Hit | None:
    value = m.group("value")[:end]
    if not _looks_like_value(name, value, form=form):
        return None
    label = name.rsplit(".", 1)[-1].strip()
    is_password = _is_secret_name(name)[1]
    start = m.start("value")
    if is_password and _user_beside(m.string, start, value):
        return None  # POSTGRES_USER=airflow beside POSTGRES_PASSWORD=airflow: a default, as airflow:airflow@
    kind = "password" if is_password else "secret"
    return _Hit(start, start + end, f"{kind} assigned to {label}", _RANK_ASSIGNMENT, "own:assignment")


# The last word of a credential's name (``POSTGRES_PASSWORD`` -> password, ``apiToken`` -> token).
_NAME_WORD = re.compile(r"(?:^|[_.\- ]|(?<=[a-z0-9])(?=[A-Z]))([A-Za-z][a-z]*|[A-Z]+)$")


def _restates_name(name: str, value: str) -> bool:
    """Whether ``value`` is its name's own word with a number or a mark after it (``password123`` given to
    ``POSTGRES_PASSWORD``, ``token1`` to ``API_TOKEN``): the demo value of a tutorial or a compose file."""
    word = _NAME_WORD.search(name.rsplit(".", 1)[-1].strip())
    stem = value.lower().rstrip("0123456789!@#$%*._-")
    return word is not None and len(stem) >= 3 and stem == word.group(1).lower() and stem != value.lower()


# A user name given beside a password: POSTGRES_USER=airflow, user: admin, "login": "admin", User ID=sa.
_USER_NAME = r"""(?i:[A-Za-z0-9]+[_.-])*(?i:user(?:[_ ]?name|[_ ]?id)?|login|uid)"""


def _user_beside(text: str, start: int, value: str) -> bool:
    """Whether a user name given within three lines of a password (before or after it) is the password itself:
    ``POSTGRES_USER=airflow`` beside ``POSTGRES_PASSWORD=airflow``, as ``airflow:airflow@`` in a URL."""
    low = start
    for _ in range(4):
        low = text.rfind("\n", 0, max(0, low - 1)) + 1 if low else 0
    high = start
    for _ in range(4):
        found = text.find("\n", high + 1)
        high = len(text) if found < 0 else found
    pattern = re.compile(
        rf"""(?<![A-Za-z0-9_]){_USER_NAME}["'`]?[ \t]*(?:=|:|=>)[ \t]*["'`]?{re.escape(value)}(?![\w.-])"""
    )
    return pattern.search(text, low, high) is not None


def _url_hits(text: str) -> list[_Hit]:
    hits = []
    for m in _URL_PASSWORD.finditer(text):
        value = m.group("value")
        if _is_placeholder(value) or (value.isdigit() and len(value) <= 5) or value == m.group("user"):
            continue  # user:password@ in a tutorial, ${PGPASSWORD}, host:8080@, airflow:airflow@ (a default)
        scheme_match = _URL_SCHEME.search(text, max(0, m.start() - 48), m.start())
        scheme = scheme_match.group("scheme").lower() if scheme_match else ""
        base = scheme.split("+", 1)[0]
        db = base in _DB_SCHEMES or base in _MORE_DB_SCHEMES
        kind = "database URL password" if db else "password in a URL"
        hits.append(_Hit(m.start("value"), m.end("value"), kind, _RANK_OWN_PROVIDER, "own:url-password"))
    return hits


_MORE_DB_SCHEMES = frozenset({
    "mssql", "sqlserver", "snowflake", "oracle", "oracle+cx_oracle", "db2", "ibm_db_sa", "redshift", "clickhouse",
    "cockroachdb", "teradata", "vertica", "presto", "trino", "hive", "databricks", "bigquery", "amqp", "amqps",
    "neo4j", "bolt", "cassandra", "couchbase", "influxdb", "sybase", "firebird", "exasol", "sqlite", "timescaledb",
})  # fmt: skip


def _provider_hits(text: str) -> list[_Hit]:
    hits: list[_Hit] = []
    for m in _AWS_KEY_ID.finditer(text) if any(p in text for p in _AWS_PREFIXES) else ():
        if "EXAMPLE" not in m.group():
            hits.append(_Hit(m.start(), m.end(), "AWS access key ID", _RANK_OWN_PROVIDER, "own:aws-key-id"))
    if "Q~" in text:
        for m in _AZURE_AD_SECRET.finditer(text):
            hits.append(_Hit(m.start(), m.end(), "Azure AD client secret", _RANK_OWN_PROVIDER, "own:azure-ad"))
    if "discord" in text.lower():
        for m in _DISCORD_WEBHOOK.finditer(text):
            hits.append(_Hit(m.start(), m.end(), "Discord webhook URL", _RANK_OWN_PROVIDER, "own:discord-webhook"))
    if "/IncomingWebhook/" in text:
        for m in _TEAMS_WEBHOOK.finditer(text):
            hits.append(_Hit(m.start(), m.end(), "Microsoft Teams webhook URL", _RANK_OWN_PROVIDER, "own:teams"))
    if "://" in text:
        hits.extend(_url_hits(text))
    return hits


def _discord_bot_hits(text: str, spans: list[tuple[int, int]]) -> list[_Hit]:
    """Discord bot tokens: looked for on lines that name a token, and everywhere in a text that names Discord or
    runs a bot (``client.run("…")``); the pattern is too costly to try at every position of every text."""
    if "discord" in text.lower() or ".run(" in text:
        spans = [(0, len(text))]
    return [
        _Hit(m.start(), m.end(), "Discord bot token", _RANK_OWN_PROVIDER, "own:discord-bot")
        for start, end in spans
        for m in _DISCORD_BOT.finditer(text, start, end)
        if not _is_placeholder(m.group())
    ]


_EXAMPLE_LINE = re.compile(
    r"(?im)(?:^|\s)(?:#+|//|--|;|REM)[ \t]*[^\n]*?\b(?:example|e\.g\.|for instance|such as)\b"
)


def _own_hits(text: str) -> list[_Hit]:
    hits = _provider_hits(text)
    lines = _hinted_lines(text)
    hits.extend(_discord_bot_hits(text, lines))
    for line_start, line_end in lines:
        if _EXAMPLE_LINE.search(text, line_start, line_end):
            continue  # `# Example: flower_basic_auth = user1:password1`: documentation of a setting
        found: list[_Hit | None] = []
        for m in _QUOTED_ASSIGNMENT.finditer(text, line_start, line_end):
            found.append(_assignment_hit(m, "quoted"))
        for m in _NAMED_DEFAULT.finditer(text, line_start, line_end):
            found.append(_assignment_hit(m, "quoted"))
        for m in _BARE_ASSIGNMENT.finditer(text, line_start, line_end):
            form = _bare_form(m.group("sep"))
            if " " in m.group("name").strip() and not m.group("lead") and not m.group("mark"):
                continue  # several words as a name only in a bullet, a comment or bold: `- DB password: …`
            if m.group("sep").strip() == "-" and not m.group("lead"):
                continue
            found.append(_assignment_hit(m, form))
        for m in _PROSE.finditer(text, line_start, line_end):
            found.append(_assignment_hit(m, "prose"))
        for m in _PAIR.finditer(text, line_start, line_end):
            found.append(_pair_hit(m))
        for m in _FLAG.finditer(text, line_start, line_end):
            name = m.group("name") or "password"
            found.append(_assignment_hit(m, "flag", name))
        for m in _SQL_PASSWORD.finditer(text, line_start, line_end):
            if not _is_placeholder(m.group("value")):
                found.append(_Hit(m.start("value"), m.end("value"), "database password", _RANK_ASSIGNMENT + 5,
                                  "own:sql-password"))
        for pattern in (_AUTH_HEADER, _BEARER):
            for m in pattern.finditer(text, line_start, line_end):
                value = m.group("value")
                if not _is_placeholder(value) and not _is_reference(value) and not value.isalpha():
                    found.append(_Hit(m.start("value"), m.end("value"), "authorization header token",
                                      _RANK_ASSIGNMENT + 5, "own:auth-header"))
        for m in _KEY_HEADER.finditer(text, line_start, line_end):
            found.append(_assignment_hit(m, "quoted"))
        hits.extend(h for h in found if h is not None)
    return hits


_SA_PRIVATE_KEY = re.compile(r'"private_key"\s*:\s*"$')


def _relabel_service_accounts(text: str, hits: list[_Hit]) -> list[_Hit]:
    out = []
    for h in hits:
        if h.rule == "private-key" and _SA_PRIVATE_KEY.search(text[max(0, h.start - 40) : h.start]):
            window = text[max(0, h.start - 4000) : h.end + 4000]
            if '"client_email"' in window:
                h = replace(h, kind="Google service-account private key", rank=_RANK_LIBRARY + 5)
        out.append(h)
    return out


def _merge(hits: list[_Hit]) -> list[_Hit]:
    """Overlapping hits become one, spanning them all, named by the most specific (then the longest)."""
    # A wide hit (a whole URI, an assignment's value) that holds a more specific one gives way to it.
    hits = [
        h
        for h in hits
        if (h.rule not in _CONTAINER_RULES and h.rank != _RANK_ASSIGNMENT)
        or not any(o is not h and o.rule != h.rule and h.start <= o.start and o.end <= h.end for o in hits)
    ]
    hits.sort(key=lambda h: (h.start, -h.end))
    merged: list[_Hit] = []
    for h in hits:
        if merged and h.start < merged[-1].end:
            last = merged[-1]
            best = max((last, h), key=lambda x: (x.rank, x.end - x.start))
            merged[-1] = _Hit(last.start, max(last.end, h.end), best.kind, best.rank, best.rule)
        else:
            merged.append(h)
    return merged


# The characters of a token (base64, URL-safe base64, hex, dotted and dashed forms): a redaction covers the
# whole run of them around what a rule matched, so no tail of a longer value is left in sight. "=" ends a
# name (`KEY=`) on the left, and is padding on the right.
_TOKEN_RIGHT = frozenset(string.ascii_letters + string.digits + "-_+/=.~%")
_TOKEN_LEFT = _TOKEN_RIGHT - {"="}
_WIDEN_LIMIT = 512


def _widened(text: str, h: _Hit) -> _Hit:
    start, end = h.start, h.end
    if end - start < 8:
        return h
    stop = min(len(text), end + _WIDEN_LIMIT)
    while end < stop and text[end] in _TOKEN_RIGHT:
        end += 1
    while end > h.end and text[end - 1] in ".-_~":  # a sentence's full stop is not the key's
        end -= 1
    floor = max(0, start - _WIDEN_LIMIT)
    while start > floor and text[start - 1] in _TOKEN_LEFT:
        start -= 1
    if (start, end) == (h.start, h.end):
        return h
    return replace(h, start=start, end=end)


def scan_text(text: str) -> list[Finding]:
    """Every credential in ``text``, sorted by start and never overlapping. Runs offline, in this process.

    Raises :class:`SecretScannerUnavailable` when the detection library cannot be loaded.
    """
    if not text:
        return []
    hits = _relabel_service_accounts(text, _library_hits(text) + _own_hits(text))
    findings = []
    for h in _merge([_widened(text, h) for h in hits]):
        line = text.count("\n", 0, h.start) + 1
        findings.append(Finding(kind=h.kind, line=line, start=h.start, end=h.end, masked=mask(text[h.start : h.end])))
    return findings

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

import re
import string
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from liferaft.core.secret_patterns import _own_hits
from liferaft.core.secret_values import (
    _DB_SCHEMES,
    _RANK_ASSIGNMENT,
    _RANK_LIBRARY,
    _RANK_LIBRARY_GENERIC,
    _URL_PASSWORD,
    _VARIABLE,
    _Hit,
    _is_placeholder,
    token_like,
)

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


# --- combining the library's hits with ours (:mod:`.secret_patterns`, :mod:`.secret_values`) --------------------


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

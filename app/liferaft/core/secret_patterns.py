"""The gate's own patterns, for the gaps in the library named in :mod:`liferaft.core.secrets`: ``.env``-style and
code assignments, connection URLs with a password, authorization headers, provider keys and webhooks.
"""

from __future__ import annotations

import re

from liferaft.core.secret_values import (
    _CODE_VALUE,
    _DB_SCHEMES,
    _RANK_ASSIGNMENT,
    _RANK_OWN_PROVIDER,
    _URL_PASSWORD,
    _Hit,
    _is_placeholder,
    _is_reference,
    _is_secret_name,
    _looks_like_value,
)

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

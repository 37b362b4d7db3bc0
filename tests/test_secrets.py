"""The secret gate (liferaft.core.secrets).

Every fake credential is built at run time from parts and seeded random characters, so no real-looking key is
committed. Assertions are on kinds, offsets and masked strings; redaction is checked by the value's absence,
and test ids name the credential type, never its value: a failure never prints a full secret.
"""

from __future__ import annotations

import base64
import itertools
import random
import string
from collections.abc import Callable
from dataclasses import FrozenInstanceError

import pytest

from liferaft.core.secrets import Finding, _get_scanner, mask, redact, scan_text

ALNUM = string.ascii_letters + string.digits
URLSAFE = ALNUM + "-_"
B32 = string.ascii_uppercase + "234567"


def rand(n: int, chars: str = ALNUM, *, seed: int = 0) -> str:
    rng = random.Random(f"{seed}-{n}-{chars}")
    return "".join(rng.choice(chars) for _ in range(n))


def digits(n: int, seed: int = 0) -> str:
    return rand(n, string.digits, seed=seed)


# type -> (builder, kind). Prefixes are split so that no literal in this file looks like a credential.
TYPES: dict[str, tuple[Callable[[], str], str]] = {
    "openai_legacy": (lambda: "s" + "k-" + rand(20, seed=1) + "T3Blbk" + "FJ" + rand(20, seed=2), "OpenAI API key"),
    "openai_project": (
        lambda: "s" + "k-proj-" + rand(74, URLSAFE, seed=3) + "T3Blbk" + "FJ" + rand(74, URLSAFE, seed=4),
        "OpenAI API key",
    ),
    "anthropic": (lambda: "s" + "k-ant-api03-" + rand(93, URLSAFE, seed=5) + "AA", "Anthropic API key"),
    "aws_access_key_id": (lambda: "AK" + "IA" + rand(16, B32, seed=6), "AWS access key ID"),
    "github_classic": (lambda: "gh" + "p_" + rand(36, seed=7), "GitHub personal access token"),
    "github_fine_grained": (
        lambda: "github" + "_pat_" + rand(22, seed=8) + "_" + rand(59, seed=9),
        "GitHub fine-grained token",
    ),
    "slack_bot": (
        lambda: "xo" + "xb-" + digits(12, 1) + "-" + digits(13, 2) + "-" + rand(24, seed=10),
        "Slack bot token",
    ),
    "slack_user": (
        lambda: "xo" + "xp-" + digits(12, 3) + "-" + digits(12, 4) + "-" + digits(13, 5) + "-" + rand(32, seed=11),
        "Slack user token",
    ),
    "slack_webhook": (
        lambda: (
            "https://hooks.sl"
            + "ack.com/services/T"
            + rand(10, B32, seed=12)
            + "/B"
            + rand(10, B32, seed=13)
            + "/"
            + rand(24, seed=14)
        ),
        "Slack webhook URL",
    ),
    "google_api_key": (lambda: "AI" + "za" + rand(35, URLSAFE, seed=15), "Google API key"),
    "stripe_secret": (lambda: "sk" + "_live_" + rand(99, seed=16), "Stripe secret key"),
    "stripe_restricted": (lambda: "rk" + "_live_" + rand(99, seed=17), "Stripe secret key"),
    "hugging_face": (lambda: "h" + "f_" + rand(34, string.ascii_letters, seed=18), "Hugging Face token"),
    "jwt": (
        lambda: (
            "ey"
            + "JhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
            + "ey"
            + "JzdWIiOiIxMjM0NTY3ODkwIiwiaWF0IjoxNTE2MjM5MDIyfQ."
            + rand(43, URLSAFE, seed=19)
        ),
        "JSON Web Token",
    ),
}

# context -> template with {v}; every one must yield exactly the value's span.
CONTEXTS: dict[str, str] = {
    "bare_line": "notes\n{v}\nmore notes\n",
    "env_assignment": "# settings\nSERVICE_KEY={v}\nDEBUG=1\n",
    "json": '{{"name": "sales", "key": "{v}", "rows": 12}}\n',
    "python_dict": "config = {{'k': '{v}', 'region': 'eu'}}\n",
    "csv_cell": "id,credential,created\n17,{v},2024-03-01\n",
    "in_quotes": 'client = make_client("{v}")\n',
    "in_brackets": "keys = [{v}]\n",
    "end_of_text": "the key is {v}",
    "markdown_code_block": "Run this:\n\n```python\nclient = Client({v})\n```\n",
}


def assert_caught(text: str, value: str, kind: str) -> Finding:
    __tracebackhide__ = True  # its arguments hold the secret: keep them out of failure output
    findings = scan_text(text)
    start = text.index(value)
    end = start + len(value)
    got = [(f.kind, f.start, f.end) for f in findings]
    assert got == [(kind, start, end)]
    finding = findings[0]
    assert finding.line == text.count("\n", 0, start) + 1
    assert finding.masked == mask(value)
    red = redact(text, findings)
    leaked = value in red
    assert not leaked, "the secret is still in the redacted text"
    assert red == text[:start] + f"[REDACTED: {kind}]" + text[end:]
    return finding


@pytest.mark.parametrize("context", list(CONTEXTS))
@pytest.mark.parametrize("kind_name", list(TYPES))
def test_every_type_in_every_context(kind_name: str, context: str) -> None:
    build, kind = TYPES[kind_name]
    value = build()
    assert_caught(CONTEXTS[context].format(v=value), value, kind)


# --- contexts that belong to one type ---------------------------------------------------------------------------


def aws_secret() -> str:
    return rand(40, ALNUM + "/+", seed=20)


@pytest.mark.parametrize(
    "template",
    [
        "aws_secret_access_key = {v}\n",
        "AWS_SECRET_ACCESS_KEY={v}",
        '{{"aws_secret_access_key": "{v}"}}\n',
        "[default]\naws_access_key_id = {k}\naws_secret_access_key = {v}\n",
    ],
    ids=["ini", "env_end_of_text", "json", "credentials_file"],
)
def test_aws_secret_access_key_in_context(template: str) -> None:
    value = aws_secret()
    key_id = TYPES["aws_access_key_id"][0]()
    text = template.format(v=value, k=key_id)
    findings = scan_text(text)
    start = text.index(value)
    assert ("AWS secret access key", start, start + len(value)) in [(f.kind, f.start, f.end) for f in findings]
    leaked = value in redact(text, findings)
    assert not leaked


def test_aws_key_pair_gives_two_findings() -> None:
    key_id, value = TYPES["aws_access_key_id"][0](), aws_secret()
    text = f"aws_access_key_id={key_id}\naws_secret_access_key={value}\n"
    assert [(f.kind, f.line) for f in scan_text(text)] == [("AWS access key ID", 1), ("AWS secret access key", 2)]


DB_URLS = {
    "postgres": "postgres://analyst:{p}@db.internal.acme.io:5432/sales",
    "postgresql": "postgresql://analyst:{p}@10.20.30.40/sales?sslmode=require",
    "mysql": "mysql://root:{p}@mysql.acme.io:3306/shop",
    "mongodb_srv": "mongodb+srv://app:{p}@cluster0.ab1cd.mongodb.net/prod?retryWrites=true",
}


@pytest.mark.parametrize("context", ["bare_line", "env_assignment", "json", "csv_cell", "in_brackets", "end_of_text"])
@pytest.mark.parametrize("scheme", list(DB_URLS))
def test_database_url_password(scheme: str, context: str) -> None:
    password = rand(16, seed=21)
    url = DB_URLS[scheme].format(p=password)
    text = CONTEXTS[context].format(v=url)
    finding = assert_caught(text, password, "database URL password")
    host_kept = DB_URLS[scheme].split("@")[1] in redact(text, [finding])
    assert host_kept


def pem_block(label: str = "PRIVATE KEY") -> str:
    body = "\n".join(rand(64, ALNUM + "+/", seed=22 + i) for i in range(12))
    return (
        "-----BEGIN " + label + "-----\n" + body + "\n" + rand(20, ALNUM, seed=40) + "==\n-----END " + label + "-----"
    )


@pytest.mark.parametrize("label", ["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "OPENSSH PRIVATE KEY"])
@pytest.mark.parametrize("context", ["bare_line", "end_of_text", "markdown_code_block"])
def test_pem_private_key(label: str, context: str) -> None:
    pem = pem_block(label)
    template = {"markdown_code_block": "Key:\n\n```\n{v}\n```\n"}.get(context, CONTEXTS[context])
    assert_caught(template.format(v=pem), pem, "PEM private key")


def service_account(*, full: bool) -> tuple[str, str]:
    pem = pem_block().replace("\n", "\\n") + "\\n"
    fields = [
        '"type": "service_account"',
        '"project_id": "sales-analysis-2024"',
        '"private_key_id": "' + rand(40, "0123456789abcdef", seed=41) + '"',
        '"private_key": "' + pem + '"',
        '"client_email": "loader@sales-analysis-2024.iam.gserviceaccount.com"',
        '"client_id": "' + digits(21, 6) + '"',
    ]
    if full:
        fields += [
            '"auth_uri": "https://accounts.google.com/o/oauth2/auth"',
            '"token_uri": "https://oauth2.googleapis.com/token"',
            '"auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs"',
        ]
    return "{\n  " + ",\n  ".join(fields) + "\n}\n", pem.removesuffix("\\n")


@pytest.mark.parametrize("full", [True, False], ids=["full_file", "private_key_and_client_email"])
def test_google_service_account_json(full: bool) -> None:
    text, pem = service_account(full=full)
    findings = scan_text(text)
    assert [f.kind for f in findings] == ["Google service-account private key"]
    start = findings[0].start
    assert text[start:].startswith("-----BEGIN PRIVATE KEY-----")
    assert findings[0].end >= text.index(pem) + len(pem)
    leaked = pem in redact(text, findings)
    assert not leaked
    assert '"client_email"' in redact(text, findings)


ASSIGNMENTS = {
    "env_key": ("OPENAI_KEY={v}\n", "secret assigned to OPENAI_KEY"),
    "env_token": ("MY_SERVICE_TOKEN={v}\n", "secret assigned to MY_SERVICE_TOKEN"),
    "env_secret_end_of_text": ("CLIENT_SECRET={v}", "secret assigned to CLIENT_SECRET"),
    "env_password": ("PASSWORD={v}\n", "password assigned to PASSWORD"),
    "export_password": ("export DB_PASSWORD={v}\n", "password assigned to DB_PASSWORD"),
    "python_quoted": ('db_password = "{v}"\n', "password assigned to db_password"),
    "python_api_key": ("api_key = '{v}'\n", "secret assigned to api_key"),
    "json": ('{{"user": "etl", "password": "{v}"}}\n', "password assigned to password"),
    "python_dict": ("creds = {{'api_token': '{v}'}}\n", "secret assigned to api_token"),
    "yaml": ("database:\n  password: {v}\n", "password assigned to password"),
    "environ_set": ('os.environ["WAREHOUSE_TOKEN"] = "{v}"\n', "secret assigned to WAREHOUSE_TOKEN"),
    "camel_case": ('const apiKey = "{v}";\n', "secret assigned to apiKey"),
    "markdown_code_block": ("```sh\nexport SNOWFLAKE_PASSWORD={v}\n```\n", "password assigned to SNOWFLAKE_PASSWORD"),
}


@pytest.mark.parametrize("case", list(ASSIGNMENTS))
def test_credential_assignments(case: str) -> None:
    template, kind = ASSIGNMENTS[case]
    value = rand(24, ALNUM + "!#%+", seed=42)
    assert_caught(template.format(v=value), value, kind)


def test_provider_kind_wins_over_assignment() -> None:
    value = TYPES["openai_project"][0]()
    finding = assert_caught(f"OPENAI_API_KEY={value}\n", value, "OpenAI API key")
    assert finding.line == 1


def test_several_findings_sorted_with_lines_and_source_field() -> None:
    gh, hf, akid = (TYPES[n][0]() for n in ("github_classic", "hugging_face", "aws_access_key_id"))
    text = f"a = '{hf}'\nrow,{akid},x\n\nb = {gh}\n"
    findings = scan_text(text)
    assert [(f.kind, f.line) for f in findings] == [
        ("Hugging Face token", 1),
        ("AWS access key ID", 2),
        ("GitHub personal access token", 4),
    ]
    assert all(f.source == "" for f in findings)
    named = [Finding(f.kind, f.line, f.start, f.end, f.masked, source="CODE/load.py") for f in findings]
    assert named[0].source == "CODE/load.py"
    red = redact(text, findings)
    assert red == "a = '[REDACTED: Hugging Face token]'\nrow,[REDACTED: AWS access key ID],x\n\nb = " + (
        "[REDACTED: GitHub personal access token]\n"
    )


def test_offsets_are_characters_after_non_ascii_text() -> None:
    value = TYPES["google_api_key"][0]()
    text = "Umsatz für Köln — 日本 📈\nkey: " + value + ",ok\n"
    assert_caught(text, value, "Google API key")


def test_offsets_hold_when_lowering_changes_the_length() -> None:
    value = rand(20, seed=60)
    text = "İstanbul İzmir\nAPI_TOKEN=" + value + "\n"
    assert_caught(text, value, "secret assigned to API_TOKEN")


def test_windows_line_endings() -> None:
    value = TYPES["github_classic"][0]()
    text = "first\r\nsecond\r\nTOKEN=" + value + "\r\n"
    finding = assert_caught(text, value, "GitHub personal access token")
    assert finding.line == 3


# --- the gaps in the library that our own code covers -----------------------------------------------------------

DROP = "Kingfisher now covers this itself: drop our own code for it in liferaft/core/secret_patterns.py"


def library_rules(text: str, *, visible_only: bool = True) -> list[str]:
    return [f.rule_id for f in _get_scanner().scan(text) if f.visible or not visible_only]


@pytest.mark.parametrize(
    "kind_name", ["openai_project", "anthropic", "google_api_key", "stripe_secret", "hugging_face"]
)
@pytest.mark.parametrize("after", [",", "]", ")", "}"])
def test_gap_token_boundary_library_misses_it(kind_name: str, after: str) -> None:
    value = TYPES[kind_name][0]()
    text = f"17,{value}{after}2024\n"
    assert library_rules(text) == [], DROP + " (a key followed by a comma or a bracket)"
    assert [f.kind for f in scan_text(text)] == [TYPES[kind_name][1]]


def test_gap_aws_access_key_id_alone_library_misses_it() -> None:
    text = "key id: " + TYPES["aws_access_key_id"][0]() + "\n"
    assert library_rules(text, visible_only=False) == [], DROP + " (the AWS key ID pattern)"
    assert [f.kind for f in scan_text(text)] == ["AWS access key ID"]


def test_gap_aws_secret_alone_library_hides_it() -> None:
    text = "aws_secret_access_key = " + aws_secret() + "\n"
    assert library_rules(text) == [], DROP + " (surfacing the invisible aws-secret-access-key helper)"
    assert library_rules(text, visible_only=False) == ["betterleaks.aws-secret-access-key"]
    assert [f.kind for f in scan_text(text)] == ["AWS secret access key"]


@pytest.mark.parametrize("case", ["env_password", "env_token", "python_quoted", "yaml"])
def test_gap_assignment_library_misses_it(case: str) -> None:
    template, kind = ASSIGNMENTS[case]
    text = template.format(v=rand(24, ALNUM + "!#%+", seed=43))
    assert library_rules(text, visible_only=False) == [], DROP + " (the assignment rule)"
    assert [f.kind for f in scan_text(text)] == [kind]


@pytest.mark.parametrize(
    "template",
    [
        "CC_TEST_REPORTER_ID={v}\n",
        "- CC_TEST_REPORTER_ID: {v}\n",
        'CONFIG = {{"cc_test_reporter_id": "{v}"}}\n',
        "%env CC_TEST_REPORTER_ID={v}\n",
        'u = f"https://x.example.com/{{m}}?cc_test_reporter_id={v}&f=csv"\n',
        "  ccTestReporterId: {v}\n",
    ],
)
def test_gap_ci_reporter_id_library_misses_it(template: str) -> None:
    # CodeClimate's test reporter ID: a credential (it uploads coverage as the repository) under an *_ID name, 64
    # hex characters like a sha256; only its name tells it.
    text = template.format(v=rand(64, "0123456789abcdef", seed=44))
    assert library_rules(text, visible_only=False) == [], DROP + " (CI reporter IDs)"
    assert [f.kind.split(" assigned")[0] for f in scan_text(text)] == ["secret"]


def test_gap_service_account_without_cert_url_library_misses_it() -> None:
    text, _ = service_account(full=False)
    rules = library_rules(text)
    assert "betterleaks.gcp-service-account" not in rules, DROP + " (naming service-account keys)"
    assert rules == ["betterleaks.private-key"]


# --- what must not be flagged -----------------------------------------------------------------------------------


def md5(i: int) -> str:
    return rand(32, "0123456789abcdef", seed=100 + i)


def uuid_like(i: int) -> str:
    h = rand(32, "0123456789abcdef", seed=200 + i)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


ANALYSIS_SCRIPT = '''\
"""Clean the channel spend export and chart monthly revenue."""
import os
from pathlib import Path

import numpy as np
import pandas as pd
import matplotlib.pyplot as plt
from openai import OpenAI

DATA = Path("/mnt/data/SOURCE/channel_spend_2025.csv")
OUT = Path("OUTPUT") / "figures"
TOKEN_LIMIT = 2000000
MAX_TOKENS = 4096
MODEL = "gpt-4o"
FALLBACK_MODELS = ["gpt-4o-mini", "claude-3-5-sonnet-20241022", "o1-preview", "text-embedding-3-large"]
client = OpenAI(api_key=os.environ["OPENAI_API_KEY"])
api_key = os.getenv("OPENAI_API_KEY")
token = os.environ.get("HF_TOKEN")
password = getpass.getpass("Warehouse password: ")
db_password = settings.DB_PASSWORD
# Put your key in .env as OPENAI_API_KEY=sk-... (never paste it here)
# export ANTHROPIC_API_KEY=<your key>
api_key = "YOUR_API_KEY"
token = "<token>"
PASSWORD = "xxxx"
SECRET_KEY = "${SECRET_KEY}"
HF_TOKEN = "hf_..."
password: str = ""
sort_key = "order_date_2024"
join_key = "customer_id"


def load(path: Path) -> pd.DataFrame:
    df = pd.read_csv(path, parse_dates=["date"], dtype={"customer_id": "string"})
    df = df.rename(columns=str.lower)
    df["api_key_count"] = df["api_key_count"].fillna(0).astype(int)
    df["password_reset_rate"] = df["password_reset_rate"].clip(0, 1)
    df["token_usage"] = df["prompt_tokens"] + df["completion_tokens"]
    return df.dropna(subset=["revenue"])


def monthly(df: pd.DataFrame) -> pd.DataFrame:
    grouped = df.groupby(pd.Grouper(key="date", freq="MS"))
    out = grouped.agg(revenue=("revenue", "sum"), spend=("spend", "sum"), users=("user_id", "nunique"))
    out["roas"] = out["revenue"] / out["spend"].replace(0, np.nan)
    out["key"] = out.index.strftime("%Y-%m")
    return out.sort_values(by="date", key=lambda s: s.dt.month)


def chart(out: pd.DataFrame) -> Path:
    fig, ax = plt.subplots(figsize=(10, 4))
    ax.plot(out.index, out["revenue"], label="revenue", color="#1f77b4")
    ax.bar(out.index, out["spend"], label="spend", alpha=0.4)
    ax.set_title("Revenue vs spend, 2025")
    ax.legend(loc="upper left")
    OUT.mkdir(parents=True, exist_ok=True)
    target = OUT / "revenue_vs_spend.png"
    fig.savefig(target, dpi=150, bbox_inches="tight")
    return target


def checksum(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


if __name__ == "__main__":
    frame = load(DATA)
    print(frame.describe(include="all"))
    print(frame.pivot_table(index="channel", columns="month", values="revenue", aggfunc="sum"))
    summary = monthly(frame)
    summary.to_csv("OUTPUT/monthly_summary.csv", index=True)
    print(chart(summary))
    print(checksum(DATA))
    for model in FALLBACK_MODELS:
        print(f"{model}: {TOKEN_LIMIT:,} tokens")
    corr = frame[["spend", "revenue", "users"]].corr(method="spearman")
    print(corr.round(3).to_markdown())
    q = frame["revenue"].quantile([0.05, 0.5, 0.95])
    print(q)
    frame.query("channel == 'search' and revenue > 1000").head(20)
    frame.merge(summary, left_on="month", right_index=True, how="left", validate="m:1")
    print(np.percentile(frame["spend"], [25, 50, 75]))
    print(os.path.join("OUTPUT", "figures", "revenue_vs_spend.png"))
    print("sandbox:/mnt/data/OUTPUT/monthly_summary.csv")
    print("C:\\\\Users\\\\ana\\\\Documents\\\\sales\\\\channel_spend_2025.xlsx")
'''


def analysis_text() -> str:
    rows = ["order_id,customer_uuid,file_md5,file_sha1,file_sha256,model,api_key_count,password_reset_rate,revenue"]
    for i in range(60):
        sha1 = rand(40, "0123456789abcdef", seed=300 + i)
        sha256 = rand(64, "0123456789abcdef", seed=400 + i)
        model = ["gpt-4o", "gpt-4o-mini", "claude-3-5-sonnet", "gemini-1.5-pro"][i % 4]
        rows.append(f"{1000 + i},{uuid_like(i)},{md5(i)},{sha1},{sha256},{model},{i % 7},0.0{i % 9},{i * 13.5:.2f}")
    png = base64.b64encode(random.Random(7).randbytes(3000)).decode()
    notebook_cell = (
        '{"cell_type": "code", "execution_count": 3, "outputs": [{"output_type": "display_data", "data": '
        '{"image/png": "' + png + '", "text/plain": ["<Figure size 1000x400 with 1 Axes>"]}}], '
        '"source": ["df.plot()"], "metadata": {"id": "' + uuid_like(99) + '"}}'
    )
    env = "\n".join(
        [
            "OPENAI_API_KEY=sk-...",
            "ANTHROPIC_API_KEY=YOUR_API_KEY",
            "HF_TOKEN=<token>",
            "DB_PASSWORD=xxxx",
            "API_KEY=${API_KEY}",
            "TOKEN_LIMIT=2000000",
            "MAX_TOKENS=4096",
            "CACHE_KEY=",
            "PASSWORD_MIN_LENGTH=12",
        ]
    )
    prose = (
        "Restart note: upload SOURCE/channel_spend_2025.csv (sha256 " + rand(64, "0123456789abcdef", seed=9) + ") "
        "and CODE/clean.py, then rerun with gpt-4o. The session id was " + uuid_like(7) + ". "
        "Commit " + rand(40, "0123456789abcdef", seed=10) + " has the last good version.\n"
    )
    return ANALYSIS_SCRIPT + "\n" + "\n".join(rows) + "\n\n" + notebook_cell + "\n\n" + env + "\n\n" + prose


def test_realistic_analysis_code_and_data_has_no_findings() -> None:
    text = analysis_text()
    assert len(text.splitlines()) > 150
    assert [(f.kind, f.line, f.masked) for f in scan_text(text)] == []


@pytest.mark.parametrize(
    "line",
    [
        'client = OpenAI(api_key=os.environ["OPENAI_API_KEY"])',
        "OPENAI_API_KEY=sk-...",
        'api_key = "YOUR_API_KEY"',
        'token = "<token>"',
        "PASSWORD=xxxx",
        "PASSWORD=********",
        'SECRET_KEY = "{{ secret_key }}"',
        "API_KEY=$API_KEY",
        "password: str",
        "api_key: Optional[str] = None",
        "TOKEN_LIMIT = 2000000",
        "api_key_count,password_reset_rate\n3,0.12",
        "password_reset_rate = 0.12",
        'df.sort_values(key="revenue")',
        's3_key = "SOURCE/2025/channel_spend.csv"',
        "primary_key = 'order_id_2024'",
        'model = "claude-3-5-sonnet-20241022"',
        "sk-proj-...",
        "AKIAIOSFODNN7EXAMPLE",
        "postgres://user:password@localhost/db",
        "postgres://analyst:${PGPASSWORD}@db.example.com/sales",
    ],
)
def test_not_a_secret(line: str) -> None:
    assert [(f.kind, f.masked) for f in scan_text(line + "\n")] == []


def test_hashes_and_uuids_are_not_secrets() -> None:
    text = "\n".join([md5(1), rand(40, "0123456789abcdef", seed=2), rand(64, "0123456789abcdef", seed=3), uuid_like(4)])
    assert scan_text(text) == []


# --- mask, redact, Finding --------------------------------------------------------------------------------------


def test_mask_shows_at_most_four_each_side_and_the_length() -> None:
    value = "s" + "k-p" + rand(156, seed=50) + "Q3xA"
    assert mask(value) == "sk-p…(164 chars)…Q3xA"
    assert mask("abcdefghijklmnop") == "ab…(16 chars)…op"
    assert mask("abcdefgh") == "a…(8 chars)…h"
    assert mask("abc") == "…(3 chars)…"
    assert mask("") == "…(0 chars)…"


def test_masked_finding_never_holds_the_value() -> None:
    for name, (build, _) in TYPES.items():
        value = build()
        for f in scan_text(f"x = {value}\n"):
            shown = f.masked.replace("…", "")
            assert len(shown) - len(f"({len(value)} chars)") <= 8, name
            inside = value in repr(f)
            assert not inside, name


def test_redact_merges_overlaps_and_keeps_text() -> None:
    text = "0123456789abcdef"
    findings = [Finding("a", 1, 2, 6, "…"), Finding("b", 1, 4, 8, "…"), Finding("c", 1, 12, 14, "…")]
    assert redact(text, findings) == "01[REDACTED: a]89ab[REDACTED: c]ef"
    assert redact(text, []) == text


def test_scan_results_never_overlap() -> None:
    value = TYPES["openai_project"][0]()
    text = f'OPENAI_API_KEY="{value}"\nopenai.api_key = "{value}"\n'
    findings = scan_text(text)
    assert len(findings) == 2
    assert all(a.end <= b.start for a, b in itertools.pairwise(findings))


def test_finding_is_frozen_with_slots() -> None:
    f = Finding("PEM private key", 1, 0, 10, "…(10 chars)…")
    with pytest.raises(FrozenInstanceError):
        f.kind = "x"  # type: ignore[misc]
    assert not hasattr(f, "__dict__")


def test_empty_text() -> None:
    assert scan_text("") == []


# --- issue 15: the forms that leaked, and the look-alikes that were redacted --------------------------------------

PW = rand(12, ALNUM, seed=70) + "!7"
TOK = rand(32, ALNUM, seed=71)
HEX = rand(32, "0123456789abcdef", seed=72)

# form -> (text holding {v}, the value planted as {v})
LEAKED_FORMS: dict[str, tuple[str, str]] = {
    "note_bullet": ("- AZURE_CLIENT_SECRET: {v}\n", TOK),
    "note_bullet_words": ("* **DB password**: {v}\n", PW),
    "note_bullet_backticks": ("- API token: `{v}`\n", TOK),
    "getenv_default": ('tok = os.getenv("TWILIO_AUTH_TOKEN", "{v}")\n', HEX),
    "environ_get_default": ('k = os.environ.get("SERVICE_API_KEY", "{v}")\n', TOK),
    "environ_setdefault": ('os.environ.setdefault("SENDGRID_API_KEY", "{v}")\n', TOK),
    "notebook_env": ("%env WAREHOUSE_TOKEN={v}\n", TOK),
    "ini_spaced": ("[db]\nuser = admin\npassword = {v}\n", PW),
    "sql_identified_by": ("CREATE USER analyst IDENTIFIED BY '{v}';\n", PW),
    "sql_with_password": ("ALTER ROLE report WITH LOGIN PASSWORD '{v}';\n", PW),
    "sql_connection_string": ('conn = "Server=tcp:db.example.net,1433;User ID=admin;Password={v};Encrypt=yes"\n', PW),
    "odbc_pwd": ('cs = "DRIVER={{ODBC Driver 18}};SERVER=db;UID=sa;PWD={v};"\n', PW),
    "r_setenv": ('Sys.setenv(OPENAI_API_KEY = "{v}")\n', TOK),
    "r_curl_bearer": ("system(\"curl -H 'Authorization: Bearer {v}' https://api.example.com\")\n", TOK),
    "python_bearer_header": ('headers = {{"Authorization": "Bearer {v}"}}\n', TOK),
    "shell_export": ("export MAPBOX_TOKEN=pk." + rand(20, seed=73) + ".{v}\n", TOK),
    "yaml": ("warehouse:\n  host: db\n  api_token: {v}\n", TOK),
    "fstring_query": ('url = f"https://api.example.com/v2/{{month}}?apiKey={v}&format=csv"\n', TOK),
    "comment_prose": ("# the API token was {v} (rotated since?)\n", TOK),
    "postgres_driver_url": ('e = create_engine("postgresql+psycopg2://analyst:{v}@db.example.com:5432/sales")\n', PW),
    "mssql_driver_url": ('e = create_engine("mssql+pyodbc://sa:{v}@server/db?driver=ODBC+Driver+17")\n', PW),
    "snowflake_url": ('url = "snowflake://jsmith:{v}@myorg-acct/db/schema"\n', PW),
    "sqlserver_url": ('jdbc = "jdbc:sqlserver://dbuser:{v}@10.0.0.5:1433"\n', PW),
    "azure_sas_sig": ('u = "https://a.blob.core.windows.net/c/f.csv?sv=2022-11-02&sp=r&sig={v}"\n',
                      rand(40, ALNUM, seed=74) + "%3D"),
    "azure_redis": ('r = "myredis.redis.cache.windows.net:6380,password={v},ssl=True"\n', TOK + "="),
    "azure_cosmos": ('c = "AccountEndpoint=https://a.documents.azure.com:443/;AccountKey={v};"\n',
                     rand(86, ALNUM + "+/", seed=75) + "=="),
    "azure_ad_secret": ("CLIENT_CREDENTIAL = '{v}'\n", rand(3, seed=76) + "8Q~" + rand(34, URLSAFE, seed=77)),
    "discord_webhook": ('hook = "{v}"\n', "https://discord.com/api/web" + "hooks/" + digits(18, 78) + "/"
                        + rand(68, URLSAFE, seed=79)),
    "discord_bot": ('bot.run("{v}")\n', "MT" + rand(24, seed=80) + "." + rand(6, URLSAFE, seed=81) + "."
                    + rand(38, URLSAFE, seed=82)),
    "teams_webhook": ('TEAMS = "{v}"\n', "https://acme.webhook.office.com/webhookb2/" + uuid_like(1) + "@"
                      + uuid_like(2) + "/IncomingWebhook/" + HEX + "/" + uuid_like(3)),
    "dotenv_short_password": ("DB_PASSWORD={v}\n", "rootpasswd"),
    "value_ending_like_a_file_name": ("API_SECRET={v}\n", TOK[:24] + ".P"),
    "dotted_token": ("GOOGLE_ACCESS_TOKEN={v}\n", "ya29." + rand(60, URLSAFE, seed=83)),
    "token_with_slash": ("SLACK_APP_TOKEN={v}\n", "xa" + "pp-" + digits(12, 84) + "-" + rand(7, seed=85) + "/"
                         + rand(16, seed=86)),
    "personal_access_token": ("AZURE_DEVOPS_PAT={v}\n", rand(52, "abcdefghijklmnopqrstuvwxyz234567", seed=87)),
    "market_data_key": ('ts = TimeSeries(key="{v}", output_format="pandas")\n', rand(16, string.ascii_uppercase
                                                                                  + string.digits, seed=88)),
    "cli_password_flag": ("docker login myreg.azurecr.io -u myreg --password {v}\n", TOK),
    "password_starting_with_dollar": ('c = "Server=db;User ID=a;Password=${v};"\n', "YYbMDot25P"),
    "password_with_brackets": ('c = "Server=db;Password={v};Encrypt=yes"\n', "A:J$NL9~6:u:L$_:VO4tf))h#v0i}O"),
    "django_key_in_bearer": ('h = {{"Authorization": "Bearer {v}"}}\n',
                             "django-insecure-_du9e^cmago!%(^+=gr@cu@v9-v7ulhbk2s3!w&39w4+n3*k*$"),
    # The look-alikes below (a default, a name restated) have these for counterparts: still credentials.
    "password_beside_another_user": ("DB_USER=analyst\nDB_PASSWORD={v}\n", "analyst2024"),
    "word_and_digits_not_the_name": ("DB_PASSWORD={v}\n", "Secret123"),
    "curl_user_and_password": ('curl --user "analyst":"{v}" https://api.example.com\n', PW),
}


@pytest.mark.parametrize("form", list(LEAKED_FORMS))
def test_issue15_form_is_redacted_whole(form: str) -> None:
    template, value = LEAKED_FORMS[form]
    text = template.format(v=value)
    red = redact(text, scan_text(text))
    pieces = {value[i : i + 8] for i in range(max(1, len(value) - 7))}
    left = [piece for piece in pieces if piece in red]
    assert not left, f"{len(left)} pieces of the value are still in the redacted text"


def test_a_redaction_covers_the_whole_token_never_a_piece() -> None:
    # A provider rule that matches the first 20 characters of a longer value must not leave its tail.
    value = "gl" + "pat-" + rand(60, URLSAFE, seed=90)
    text = '{"gitlab_token": "' + value + '"}\n'
    findings = scan_text(text)
    assert len(findings) == 1
    assert text[findings[0].start : findings[0].end] == value


LOOK_ALIKES = [
    'weight_key = "w_2024Q1"',
    'checksums = {"sales.csv": "' + rand(64, "0123456789abcdef", seed=91) + '"}',
    'run_id = "' + uuid_like(9) + '"',
    'MODEL = "gpt-4o-2024-08-06"',
    'model_key = "claude-3-5-sonnet-20241022"',
    'role_arn = "arn:aws:iam::123456789012:role/service-role/etl"',
    'url = "jdbc:postgresql://localhost:5432/postgres"',
    'db = "postgres://analyst@db.example.com:5432/sales"',
    "password = getpass.getpass('Warehouse password: ')",
    "password = base64.b16encode(random_bytes[8:])  # must be valid UTF-8",
    "def load(certfile, keyfile=None, password=None):",
    "self.workbookPassword = workbookPassword",
    "conn = connect(host=h, password=db_password)",
    'HEX_PAT = "[0-9A-Fa-f]{1,4}"',
    "opacity_token = opacity_tokens[0]",
    "value = max(rules, key=get_first_item)[1]",
    "STRIPE_PUBLISHABLE_KEY=pk_live_" + rand(24, seed=92),
    'publicToken: "' + rand(43, seed=93) + '"',
    "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + "EXAMPLEKEY",
    "# the token is read from the TOKEN environment variable",
    'headers = {"Authorization": f"Bearer {token}"}',
    "cmd = 'mysql -u root -p'",
    "commit " + rand(40, "0123456789abcdef", seed=94) + " has the fix",
    # Real lines that were taken for credentials (tests/data/real/benign_code): R references and calls, a
    # notebook's JSON-escaped line end, a placeholder cut short, a phrase, a commented example, user:user@.
    "httr2::req_body_form(access_token = token$access_token) |>",
    "private_key = self$private_key",
    "PWD      = rstudioapi::askForPassword(\"Database password\"),",
    '"    def __init__(self, api_key=None):\\n",',
    "ANTHROPIC_API_KEY=sk-ant-api03-...",
    "#' gs4_auth_configure(api_key = \"the_key_I_got_for_a_google_API\")",
    "# Example: flower_basic_auth = user1:password1,user2:password2",
    "result_backend = db+postgresql://airflow:airflow@postgres/airflow",
    # A default login (the password is the user name again, or the name's own word and a number), as in
    # docker-compose files and API tutorials.
    'curl -X POST \\\n  --user "admin":"admin" \\\n  http://localhost:8080/api/v1/connections',
    "curl -u admin:admin http://localhost:8080/api/v1/dags",
    "    environment:\n      - POSTGRES_USER=airflow\n      - POSTGRES_PASSWORD=airflow\n      - POSTGRES_DB=airflow",
    '{"login": "airflow_admin",\n "password": "airflow_admin"}',
    "    environment:\n      POSTGRES_USER: pandasai\n      POSTGRES_PASSWORD: password123",
    "API_TOKEN=token12345",
]


@pytest.mark.parametrize("line", LOOK_ALIKES)
def test_issue15_look_alike_survives(line: str) -> None:
    assert [(f.kind, f.masked) for f in scan_text(line + "\n")] == []

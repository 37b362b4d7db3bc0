"""Benchmark: the secret gate against a corpus of real scanner fixtures, planted the ways analysis folders hold them.

    python tests/bench/run.py secrets

The corpus is tests/data/real/secrets/ (credentials.jsonl, benign.jsonl, SOURCES.md). Each credential is planted
in a few placements (a restart-note bullet, an ``os.getenv`` default, a notebook ``%env``, a database URL, a CSV
whose first row is data...), each placement in a project of its own, and the prompt is made by the very function
``liferaft prompt`` uses, with and without --include-code, then gated and redacted as the command does. A placement
is *planted* when the credential is in the prompt before the gate (one in a file the prompt never includes is not);
it *leaks* when any 8-character piece of the credential (the whole of a shorter one) is still in the redacted prompt.
A benign look-alike is planted the same way (code, note, CSV) and counts as *redacted* when it does not survive
intact. Figures (issue 15): credentials leaked (0), benign look-alikes redacted (≤ 3 %), and the gate's time on a
project of 50 files and 200 KB of code (≤ 50 ms), beside one plain regex pass over the same text.
"""

from __future__ import annotations

import json
import math
import os
import random
import re
import statistics
import sys
import time
import urllib.parse
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import Figure  # noqa: E402

CORPUS = HERE.parent / "data" / "real" / "secrets"
SEED = 15
#: Placements per credential, by category (tokens and wrapped ones get 3, passwords 4; the few of the other
#: kinds get all theirs).
PER_CREDENTIAL = {"token": 3, "wrapped": 3, "password": 4}


def load_jsonl(name: str) -> list[dict]:
    with open(CORPUS / name, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


# --- the project every placement goes into ------------------------------------------------------------------

BASE_CSV = "order_id,order_date,region,revenue\n" + "".join(
    f"{i},2024-{i % 12 + 1:02d}-{i % 27 + 1:02d},{('North', 'South', 'East', 'West')[i % 4]},{i * 13.7:.2f}\n"
    for i in range(1, 21)
)
BASE_CODE = """import pandas as pd

sales = pd.read_csv("/mnt/data/sales_2024.csv", parse_dates=["order_date"])
monthly = sales.groupby([sales.order_date.dt.to_period("M"), "region"])["revenue"].sum().unstack()
monthly.plot(kind="bar", figsize=(10, 5)).figure.savefig("/mnt/data/revenue_by_region.png")
"""
NOTE_SECTIONS = {
    "Project brief": "Monthly revenue by region for the 2024 board pack.",
    "Files used": "- sales_2024.csv",
    "Columns used": "- revenue: net of refunds, in EUR\n- region: sales region of the order",
    "Filters applied": "- orders before 2024-01-01 left out",
    "Formulas and code decisions": "- monthly totals with pandas groupby, periods by calendar month",
    "Generated outputs": "- revenue_by_region.png",
    "Notes": "- the West region was merged into South in June",
}


@dataclass
class Project:
    files: dict[str, str]
    note: dict[str, str]

    @classmethod
    def base(cls) -> Project:
        return cls({"SOURCE/sales_2024.csv": BASE_CSV, "CODE/analysis.py": BASE_CODE}, dict(NOTE_SECTIONS))

    def add_note(self, section: str, text: str) -> None:
        self.note[section] = self.note[section] + "\n" + text

    def write(self, root: Path) -> None:
        note = "# Restart note: sales 2024\n\n" + "".join(f"## {h}\n\n{t}\n\n" for h, t in self.note.items())
        for rel, text in {**self.files, "RESTART/restart-note.md": note}.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        (root / "OUTPUT").mkdir(exist_ok=True)
        (root / "OUTPUT" / "revenue_by_region.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))


# --- placements ----------------------------------------------------------------------------------------------
# Each takes the project, the credential's variable name and the text to plant (the value, or the value inside
# its URL or connection string), and returns the form the secret takes in the file (quoted, escaped...).


def _py(project: Project, rel: str, code: str) -> None:
    project.files[rel] = project.files.get(rel, "import os\n\n") + code + "\n"


def note_bullet(p: Project, name: str, text: str) -> None:
    p.add_note("Notes", f"- {name}: {text}")


def note_code(p: Project, name: str, text: str) -> None:
    p.add_note(
        "Formulas and code decisions",
        f'- the export is pulled with:\n\n```python\nos.environ["{name}"] = "{text}"\n'
        'df = pull_export(month="2024-06")\n```',
    )


def csv_headerless(p: Project, name: str, text: str) -> None:
    # A credentials export saved without its header row: the first row becomes the column names.
    rows = [f"svc_reporting,{text},2024-03-01,active"] + [
        f"svc_etl_{i},rotated,2024-0{i}-01,inactive" for i in range(1, 6)
    ]
    p.files["SOURCE/service_accounts.csv"] = "\n".join(rows) + "\n"


def tsv_header(p: Project, name: str, text: str) -> None:
    # A pasted config table whose header row holds the values.
    p.files["SOURCE/connections.tsv"] = f"system\t{name}={text}\towner\nwarehouse\tyes\tdata-team\n"


def py_getenv_default(p: Project, name: str, text: str) -> None:
    _py(p, "CODE/load_data.py", f'{name} = os.getenv("{name}", "{text}")')


def py_setdefault(p: Project, name: str, text: str) -> None:
    _py(p, "CODE/settings.py", f'os.environ.setdefault("{name}", "{text}")')


def py_dict(p: Project, name: str, text: str) -> None:
    _py(
        p,
        "CODE/config.py",
        f'CONFIG = {{\n    "region": "eu-west-1",\n    "{name.lower()}": "{text}",\n    "timeout": 30,\n}}',
    )


def py_fstring(p: Project, name: str, text: str) -> None:
    _py(p, "CODE/fetch.py", f'url = f"https://api.example.com/v2/exports/{{month}}?{name.lower()}={text}&format=csv"')


def py_comment(p: Project, name: str, text: str) -> None:
    _py(p, "CODE/analysis_old.py", f"# {name} was {text} (rotated since?)\ndf = load()")


def py_bearer(p: Project, name: str, text: str) -> None:
    _py(p, "CODE/api.py", f'headers = {{"Authorization": "Bearer {text}", "Accept": "text/csv"}}')


def ipynb_env(p: Project, name: str, text: str) -> None:
    _notebook(p, [f"%env {name}={text}", "import pandas as pd\ndf = pd.read_csv('sales_2024.csv')"])


def ipynb_kwarg(p: Project, name: str, text: str) -> None:
    _notebook(p, ["from vendor import Client", f'client = Client(api_key="{text}")\nrows = client.export("2024-06")'])


def _notebook(p: Project, cells: list[str]) -> None:
    notebook = {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": None,
                "metadata": {},
                "outputs": [],
                "source": cell.splitlines(keepends=True),
            }
            for cell in cells
        ],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    p.files["CODE/explore.ipynb"] = json.dumps(notebook, indent=1)


def r_sysenv(p: Project, name: str, text: str) -> None:
    p.files["CODE/report.R"] = f'Sys.setenv({name} = "{text}")\nsales <- read.csv("sales_2024.csv")\n'


def r_curl(p: Project, name: str, text: str) -> None:
    p.files["CODE/download.R"] = (
        f"system(\"curl -s -H 'Authorization: Bearer {text}' "
        'https://api.example.com/v2/exports/2024-06 -o export.csv")\n'
    )


def shell_export(p: Project, name: str, text: str) -> None:
    p.files["CODE/run.sh"] = f"#!/bin/sh\nexport {name}={text}\npython load_data.py\n"


def env_file(p: Project, name: str, text: str) -> None:
    p.files["CODE/.env"] = f"DB_HOST=warehouse.internal\n{name}={text}\nDEBUG=false\n"


def yaml_config(p: Project, name: str, text: str) -> None:
    p.files["CODE/config.yaml"] = f"warehouse:\n  host: warehouse.internal\n  {name.lower()}: {text}\n  port: 5432\n"


def ini_config(p: Project, name: str, text: str) -> None:
    key = "password" if name.endswith("PASSWORD") else name.lower()
    p.files["CODE/settings.ini"] = f"[warehouse]\nhost = warehouse.internal\nuser = analyst\n{key} = {text}\n"


def json_config(p: Project, name: str, text: str) -> None:
    p.files["CODE/config.json"] = json.dumps(
        {"warehouse": {"host": "warehouse.internal", name.lower(): text}}, indent=2
    )


def sql_identified(p: Project, name: str, text: str) -> None:
    p.files["CODE/setup.sql"] = (
        f"CREATE USER report_reader IDENTIFIED BY '{text}';\nGRANT SELECT ON sales TO report_reader;\n"
    )


def sql_connstr(p: Project, name: str, text: str) -> None:
    p.files["CODE/extract.sql"] = (
        "-- run against Server=tcp:sales-db.database.windows.net,1433;Database=sales;"
        f"User ID=analyst;Password={text};Encrypt=yes\nSELECT region, SUM(revenue) FROM sales "
        "GROUP BY region;\n"
    )


DB_URLS = (
    "postgresql+psycopg2://analyst:{pw}@warehouse.internal:5432/sales",
    "mssql+pyodbc://analyst:{pw}@sales-db.database.windows.net/sales?driver=ODBC+Driver+18+for+SQL+Server",
    "snowflake://analyst:{pw}@xy12345.eu-west-1/SALES/PUBLIC?warehouse=REPORTING",
    "sqlserver://analyst:{pw}@sales-db:1433?database=sales",
    "mysql+pymysql://analyst:{pw}@10.0.4.17:3306/sales",
    "mongodb+srv://analyst:{pw}@cluster0.abcde.mongodb.net/sales",
)


def db_url_py(p: Project, name: str, text: str) -> None:
    url = DB_URLS[sum(map(ord, text)) % len(DB_URLS)].format(pw=_URL(text))
    _py(p, "CODE/db.py", f'from sqlalchemy import create_engine\nengine = create_engine("{url}")')


def db_url_r(p: Project, name: str, text: str) -> None:
    url = DB_URLS[(sum(map(ord, text)) + 1) % len(DB_URLS)].format(pw=_URL(text))
    p.files["CODE/warehouse.R"] = f'con <- DBI::dbConnect(odbc::odbc(), .connection_string = "{url}")\n'


def py_basic(p: Project, name: str, text: str) -> None:
    _py(p, "CODE/api.py", f'headers = {{"Authorization": "Basic {text}"}}')


def py_pem(p: Project, name: str, text: str) -> None:
    _py(p, "CODE/sign.py", f'{name} = """{text}\n"""')


def ipynb_pem(p: Project, name: str, text: str) -> None:
    _notebook(p, [f'{name} = """{text}\n"""', "signer = load(PRIVATE_KEY)"])


def note_pem(p: Project, name: str, text: str) -> None:
    p.add_note("Notes", f"- the signing key:\n\n```\n{text}\n```")


@dataclass(frozen=True)
class Placement:
    name: str
    plant: Callable[[Project, str, str], None]
    encode: Callable[[str], str] = lambda text: text
    """The form the planted text takes in the file: escaped for JSON, percent-encoded in a URL."""


_URL = lambda text: urllib.parse.quote(text, safe="")  # noqa: E731
_JSON = lambda text: json.dumps(text)[1:-1]  # noqa: E731
P = {
    placement.name: placement
    for placement in (
        Placement("note bullet", note_bullet),
        Placement("note code block", note_code),
        Placement("CSV first row (no header)", csv_headerless),
        Placement("TSV header cell", tsv_header),
        Placement("py os.getenv default", py_getenv_default),
        Placement("py os.environ.setdefault", py_setdefault),
        Placement("py dict literal", py_dict),
        Placement("py f-string URL", py_fstring),
        Placement("py comment", py_comment),
        Placement("py Bearer header", py_bearer),
        Placement("ipynb %env", ipynb_env),
        Placement("ipynb kwarg", ipynb_kwarg),
        Placement("R Sys.setenv", r_sysenv),
        Placement("R system(curl Bearer)", r_curl),
        Placement("shell export", shell_export),
        Placement(".env", env_file),
        Placement("YAML", yaml_config),
        Placement("INI", ini_config),
        Placement("JSON config", json_config, _JSON),
        Placement("SQL IDENTIFIED BY", sql_identified),
        Placement("SQL connection string", sql_connstr),
        Placement("py database URL", db_url_py, _URL),
        Placement("R database URL", db_url_r, _URL),
        Placement("py Basic header", py_basic),
        Placement("py PEM string", py_pem),
        Placement("ipynb PEM", ipynb_pem),
        Placement("note PEM block", note_pem),
    )
}
BY_CATEGORY = {
    "token": [
        "note bullet",
        "note code block",
        "CSV first row (no header)",
        "TSV header cell",
        "py os.getenv default",
        "py os.environ.setdefault",
        "py dict literal",
        "py f-string URL",
        "py comment",
        "py Bearer header",
        "ipynb %env",
        "ipynb kwarg",
        "R Sys.setenv",
        "R system(curl Bearer)",
        "shell export",
        ".env",
        "YAML",
        "INI",
        "JSON config",
    ],
    "wrapped": [
        "note bullet",
        "CSV first row (no header)",
        "py os.getenv default",
        "py os.environ.setdefault",
        "py dict literal",
        "py comment",
        "ipynb %env",
        "R Sys.setenv",
        "shell export",
        ".env",
        "YAML",
        "INI",
        "JSON config",
    ],
    "password": [
        "note bullet",
        "py os.getenv default",
        "py dict literal",
        "SQL IDENTIFIED BY",
        "SQL connection string",
        "py database URL",
        "R database URL",
        ".env",
        "INI",
        "YAML",
        "JSON config",
        "ipynb %env",
        "shell export",
        "R Sys.setenv",
        # Not "CSV first row (no header)": a password alone in a cell, with no name beside it, is a word like any
        # other cell's; no rule can tell it from data.
    ],
    "bearer": ["py Bearer header", "R system(curl Bearer)", "note bullet", ".env"],
    "header_basic": ["py Basic header", "note bullet", "R Sys.setenv"],
    "pem": ["py PEM string", "ipynb PEM", "note PEM block"],
}
#: Where benign look-alikes go: in code, in the note, in a CSV's first row.
BENIGN_PLACEMENTS = ["py dict literal", "note bullet", "CSV first row (no header)"]
#: A value with nothing of its own to tell it from a checksum, a commit or an id: hex of a digest's length (md5,
#: sha1, sha256...) or a UUID. Alone in a headerless CSV's first row, with no name beside it, it is what the benign
#: look-alikes planted in that very cell are (the md5s, commit SHAs and UUIDs that must survive), so, as for a
#: password, no rule can tell it from data there: such a credential is planted in its other placements only.
CSV_HEADERLESS = "CSV first row (no header)"
DIGEST_LIKE = re.compile(
    r"(?:[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{56}|[0-9a-f]{64}|[0-9a-f]{96}|[0-9a-f]{128}"
    r"|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})",
    re.IGNORECASE,
)


def plan(credentials: list[dict]) -> list[tuple[dict, str]]:
    """(credential, placement name) pairs: each credential in a few placements that suit its kind, the least
    used first (seeded, so the same corpus always gives the same plan)."""
    rng = random.Random(SEED)
    used: Counter[str] = Counter()
    pairs = []
    for credential in credentials:
        category = "wrapped" if credential.get("wrap") else credential["category"]
        choices = list(BY_CATEGORY[category])
        rng.shuffle(choices)
        choices.sort(key=lambda name: used[name])
        count = PER_CREDENTIAL.get(category, len(choices))
        for name in choices[:count]:
            used[name] += 1
        if category != "wrapped" and DIGEST_LIKE.fullmatch(credential["value"]) and CSV_HEADERLESS in choices:
            # The next placement instead (see DIGEST_LIKE); the counts stay as they were, so that no other
            # credential's placements change.
            choices.remove(CSV_HEADERLESS)
        pairs += [(credential, name) for name in choices[:count]]
    return pairs


# --- running the gate ----------------------------------------------------------------------------------------


def prompt_texts(root: Path, include_code: bool) -> tuple[str, str]:
    """(the prompt before the gate, the prompt as `liferaft prompt` prints it) for the project at ``root``."""
    from liferaft.cli.commands.prompt import compose_for
    from liferaft.core import compose

    prompt, context, _ = compose_for(
        root, template_name=None, include_code=include_code, budget=None, output=None, now=time.time()
    )
    assert isinstance(prompt, compose.ComposedPrompt) and isinstance(context, compose.ComposeContext)
    gated = compose.gate(prompt.text, context)
    return prompt.text, (gated.redact(prompt.text) if gated.findings else prompt.text)


def pieces(secret: str) -> set[str]:
    """Every 8-character piece of each line of ``secret`` (a shorter line whole)."""
    found = set()
    for line in secret.split("\n"):
        line = line.strip()
        if len(line) < 8:
            if line:
                found.add(line)
            continue
        found.update(line[i : i + 8] for i in range(len(line) - 7))
    return found


_MARKER = re.compile(r"\[REDACTED: [^\]\n]*\]")


def leaked(secret: str, before: str, after: str) -> bool:
    # Pieces that the prompt holds anyway (a column name, a word of the template) say nothing of a leak, nor do
    # the words of a redaction's own marker ("[REDACTED: database password]").
    after = _MARKER.sub("\0", after)
    around = before.replace(secret, "\0")
    return any(piece in after and piece not in around for piece in pieces(secret))


def mask(value: str) -> str:
    keep = min(4, len(value) // 8)
    return f"{value[:keep]}…({len(value)})…{value[-keep:]}" if keep else f"…({len(value)})…"


@dataclass
class Outcome:
    item: dict
    placement: str
    include_code: bool
    planted: bool
    bad: bool
    """Leaked (a credential) or redacted (a benign look-alike)."""


def run_corpus(work: Path) -> tuple[list[Outcome], list[Outcome]]:
    credentials, benign = load_jsonl("credentials.jsonl"), load_jsonl("benign.jsonl")
    cases: list[tuple[dict, str, bool]] = [(c, name, True) for c, name in plan(credentials)]
    cases += [(b, name, False) for b in benign for name in BENIGN_PLACEMENTS]
    secret_outcomes, benign_outcomes = [], []
    for number, (item, name, is_secret) in enumerate(cases):
        placement = P[name]
        project = Project.base()
        text = item["wrap"].replace("{value}", item["value"]) if item.get("wrap") else item["value"]
        variable = item["name"]
        if placement.encode is _URL and item.get("wrap"):
            continue  # never planned: a whole connection string does not go in a URL
        placement.plant(project, variable, text)
        secret = placement.encode(item["value"])
        root = work / f"p{number:04d}"
        project.write(root)
        for include_code in (True, False):
            before, after = prompt_texts(root, include_code)
            planted = secret in before
            if is_secret:
                bad = planted and leaked(secret, before, after)
                secret_outcomes.append(Outcome(item, name, include_code, planted, bad))
            else:
                benign_outcomes.append(Outcome(item, name, include_code, planted, planted and secret not in after))
    return secret_outcomes, benign_outcomes


# --- the gate's time -----------------------------------------------------------------------------------------


def make_timing_project(root: Path) -> None:
    """50 tables in SOURCE and 4 × 50 KB of varied code in CODE (the project of ``bench_compose``)."""
    for number in range(50):
        path = root / "SOURCE" / f"table_{number:02d}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("id,region,month,revenue\n" + "".join(f"{i},North,2025-01,{i * 1.5}\n" for i in range(200)))
    for number in range(4):
        lines, size, i = [], 0, 0
        while size < 50_000:
            line = (
                f"frame_{number}_{i} = sales.loc[sales['region'] == 'R{i % 7}', ['order_id', 'revenue']]"
                f".assign(share=lambda d: d['revenue'] / {i + 1}.5)  # step {i}: hash {i * 7919:08x}\n"
            )
            lines.append(line)
            size += len(line)
            i += 1
        path = root / "CODE" / f"step_{number}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(lines))


def time_gate(work: Path, repeat: int) -> tuple[float, float, int]:
    """Median seconds of the gate (scan + locate) on the prompt of the timing project, of one regex pass over the
    same text, and the prompt's size."""
    from liferaft.core import compose
    from liferaft.core.project import open_project
    from liferaft.core.uploads import plan_uploads

    root = work / "timing"
    make_timing_project(root)
    project = open_project(root)
    context = compose.gather(project.root, project.inventory, plan_uploads(project.inventory, check=False))
    templates, _ = compose.load_templates()
    prompt = compose.assemble(templates["rerun"], context, include_code=True, budget=200_000)
    text = prompt.text
    floor_pattern = re.compile(r"[A-Za-z0-9_\-+/=.~]{20,}")
    compose.gate(text, context)  # warm-up: the library compiles its rules once per process
    gate_times, floor_times = [], []
    for _ in range(max(repeat, 5) * 6):
        started = time.perf_counter()
        compose.gate(text, context)
        gate_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        floor_pattern.findall(text)
        floor_times.append(time.perf_counter() - started)
    return statistics.median(gate_times), statistics.median(floor_times), len(text)


# --- the report ----------------------------------------------------------------------------------------------


def _table(title: str, rows: dict[str, list[int]], headers: tuple[str, ...]) -> None:
    print(f"\n{title}")
    width = max(len(key) for key in rows) if rows else 10
    print(f"  {'':<{width}}  " + "  ".join(f"{h:>14}" for h in headers))
    for key in sorted(rows):
        print(f"  {key:<{width}}  " + "  ".join(f"{value:>14}" for value in rows[key]))


def report(secrets: list[Outcome], benign: list[Outcome]) -> tuple[int, int, int, int]:
    """Prints the tables; returns (credentials leaked, credentials planted, benign redacted, benign planted)."""

    def caught(outcomes: list[Outcome], key: Callable[[Outcome], str]) -> dict[str, list[int]]:
        rows: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
        for o in outcomes:
            row = rows[key(o)]
            if o.planted:
                column = 0 if o.include_code else 2
                row[column + 1] += 1
                row[column] += 0 if o.bad else 1
        return {k: [f"{r[0]}/{r[1]}", f"{r[2]}/{r[3]}"] for k, r in rows.items()}  # type: ignore[misc]

    headers = ("caught (code)", "caught (no code)")
    _table(
        "Credentials caught / planted, by placement (placements not in the prompt show 0/0):",
        caught(secrets, lambda o: o.placement),
        headers,
    )
    _table("Credentials caught / planted, by type:", caught(secrets, lambda o: o.item["type"]), headers)
    leaks = [o for o in secrets if o.bad]
    print(f"\nLeaks ({len(leaks)} placement-runs):")
    for o in sorted(leaks, key=lambda o: (o.item["type"], o.placement, o.include_code)):
        print(
            f"  {o.item['id']}  {o.item['type']:<32} {o.placement:<28} "
            f"{'--include-code' if o.include_code else 'no code':<15} {mask(o.item['value'])}"
        )
    planted_ids = {o.item["id"] for o in secrets if o.planted}
    leaked_ids = {o.item["id"] for o in leaks}
    never = sorted({o.placement for o in secrets} - {o.placement for o in secrets if o.planted})
    if never:
        print(f"\nPlacements never in the prompt (not counted as planted): {', '.join(never)}")
    redactions = [o for o in benign if o.bad]
    print(f"\nBenign look-alikes redacted ({len(redactions)} placement-runs):")
    for o in sorted(redactions, key=lambda o: (o.item["id"], o.placement, o.include_code)):
        print(
            f"  {o.item['id']}  {o.item['kind']:<34} {o.placement:<28} "
            f"{'--include-code' if o.include_code else 'no code':<15} {o.item['value'][:60]}"
        )
    benign_planted = {o.item["id"] for o in benign if o.planted}
    benign_redacted = {o.item["id"] for o in redactions}
    code_runs = [o for o in secrets if o.planted and o.include_code]
    plain_runs = [o for o in secrets if o.planted and not o.include_code]
    print(
        f"\nCredentials: {len(leaked_ids)} of {len(planted_ids)} leaked; placements with --include-code: "
        f"{sum(o.bad for o in code_runs)} of {len(code_runs)} leaked; without: "
        f"{sum(o.bad for o in plain_runs)} of {len(plain_runs)} leaked "
        f"({len({o.item['id'] for o in plain_runs if o.bad})} credentials)."
    )
    print(
        f"Benign: {len(benign_redacted)} of {len(benign_planted)} look-alikes redacted somewhere "
        f"({len(redactions)} of {sum(o.planted for o in benign)} placement-runs)."
    )
    return len(leaked_ids), len(planted_ids), len(benign_redacted), len(benign_planted)


def bench_secrets(work: Path, repeat: int) -> list[Figure]:
    work.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("LIFERAFT_CONFIG_DIR", str(work / "config"))  # no user templates in the way
    credentials = load_jsonl("credentials.jsonl")
    print(
        f"(secrets: {len(credentials)} credentials of {len({c['type'] for c in credentials})} types, "
        f"{len(load_jsonl('benign.jsonl'))} benign look-alikes, {len(P)} placements)"
    )
    started = time.perf_counter()
    secrets, benign = run_corpus(work / "planted")
    print(f"(secrets: {len(secrets) + len(benign)} prompts made and gated in {time.perf_counter() - started:.1f} s)")
    leaked_count, planted, redacted, benign_planted = report(secrets, benign)
    gate_time, floor_time, size = time_gate(work, repeat)
    print(f"(secrets: the timed prompt is {size:,} characters)\n")
    share = 100 * redacted / benign_planted if benign_planted else math.inf
    return [
        Figure(
            f"secrets: credentials leaked (of {planted})",
            leaked_count,
            planted,
            math.inf,
            unit="",
            floor_name="credentials planted",
            limit=0,
        ),
        Figure(
            f"secrets: benign look-alikes redacted ({redacted}/{benign_planted})",
            share,
            100.0,
            math.inf,
            unit="%",
            floor_name="all of them",
            limit=3.0,
        ),
        Figure(
            "secrets: gate, 50 files + 200 KB code",
            gate_time,
            floor_time,
            math.inf,
            floor_name="one regex pass, same text",
            limit=0.05,
        ),
    ]

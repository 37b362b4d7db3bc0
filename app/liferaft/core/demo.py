"""The bundled demo project: a realistic, deliberately imperfect session to recover.

``liferaft demo [DIR]`` writes a small Liferaft project that exercises every feature of the product:

* ``SOURCE/transactions_2025.csv`` is generated at demo time and is bigger than ChatGPT's ~50 MB
  spreadsheet upload limit (upload pre-flight);
* ``SOURCE/customers_eu.csv`` is a Latin-1, semicolon-separated European export (encoding checks);
* ``SOURCE/survey_responses.csv`` starts with a blank header row of commas (header detection);
* ``SOURCE/budget_2026.xlsx`` is a real two-sheet workbook (spreadsheet previews);
* ``SOURCE/final2.csv`` is a badly named file (naming checks);
* ``RESTART/restart-note.md`` lists ``monthly_trend.png`` as an output that is not in ``OUTPUT/``
  (missing outputs).

Everything is deterministic (seeded :class:`random.Random`, fixed timestamps), so two demos written with
the same ``big_csv_mb`` are byte-identical. Every file is written atomically; the marker
``.liferaft/demo.json`` is written last and is what allows a later ``liferaft demo`` to refresh the folder
without touching anything the user added to it.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import random
import re
import struct
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from liferaft.core.restart_note import NOTE_FILENAME, render_note
from liferaft.core.storage import atomic_writer, write_bytes, write_text

#: The file that marks a folder as a Liferaft demo, relative to the demo root.
DEMO_MARKER = Path(".liferaft") / "demo.json"
#: Format version written into the marker.
MARKER_VERSION = 1

TRANSACTIONS = "SOURCE/transactions_2025.csv"
CUSTOMERS = "SOURCE/customers_eu.csv"
SURVEY = "SOURCE/survey_responses.csv"
BUDGET = "SOURCE/budget_2026.xlsx"
BADLY_NAMED = "SOURCE/final2.csv"
SCRIPT = "CODE/analysis.py"
CHART = "OUTPUT/revenue_by_region.png"
CLEANED = "OUTPUT/sales_2025_cleaned.csv"
NOTE = f"RESTART/{NOTE_FILENAME}"

#: Every file the demo writes (the marker aside), in the order it writes them; relative POSIX paths.
DEMO_FILES: tuple[str, ...] = (
    TRANSACTIONS,
    CUSTOMERS,
    SURVEY,
    BUDGET,
    BADLY_NAMED,
    SCRIPT,
    CHART,
    CLEANED,
    NOTE,
)

#: Operating-system clutter that does not make a folder "not empty".
_CLUTTER = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})


#: Receives short human messages while the demo is written.
Progress = Callable[[str], None]


class DemoError(Exception):
    """The demo cannot be written; the message is one line telling the user what is wrong and what to do."""


@dataclass(frozen=True)
class DemoResult:
    """What :func:`write_demo` did.

    ``files`` are the demo files written, as relative POSIX paths (the marker is not listed);
    ``refreshed`` is true when an existing demo was rewritten in place.
    """

    root: Path
    files: tuple[str, ...]
    refreshed: bool


# --------------------------------------------------------------------------------------------------------
# Reference data. Every name here encodes to Latin-1: customers_eu.csv is written in that encoding.

_REGION_WEIGHTS: dict[str, int] = {"North": 15, "South": 18, "East": 12, "West": 25, "Central": 30}
_REGIONS: tuple[str, ...] = tuple(_REGION_WEIGHTS)
#: Bar colours (matplotlib's tab10, the colours CODE/analysis.py uses), one per region.
_COLOURS: tuple[bytes, ...] = (
    bytes((31, 119, 180)),
    bytes((255, 127, 14)),
    bytes((44, 160, 44)),
    bytes((214, 39, 40)),
    bytes((148, 103, 189)),
)

_COUNTRIES: dict[str, dict[str, tuple[str, ...]]] = {
    "North": {
        "Sweden": ("Stockholm", "Göteborg", "Malmö", "Linköping"),
        "Norway": ("Oslo", "Bergen", "Tromsø", "Trondheim"),
        "Denmark": ("København", "Århus", "Odense", "Aalborg"),
        "Finland": ("Helsinki", "Espoo", "Tampere", "Jyväskylä"),
    },
    "South": {
        "Spain": ("Madrid", "Málaga", "A Coruña", "Córdoba"),
        "Italy": ("Milano", "Torino", "Napoli", "Forlì"),
        "Portugal": ("Lisboa", "Porto", "Évora", "Braga"),
        "Greece": ("Athens", "Thessaloniki", "Pátra", "Irákleio"),
    },
    "East": {
        "Poland": ("Kraków", "Warszawa", "Katowice", "Lublin"),
        "Czechia": ("Praha", "Brno", "Olomouc", "Ostrava"),
        "Hungary": ("Budapest", "Pécs", "Szeged", "Debrecen"),
        "Romania": ("Bucharest", "Cluj-Napoca", "Sibiu", "Oradea"),
    },
    "West": {
        "France": ("Paris", "Besançon", "Orléans", "Nîmes"),
        "Belgium": ("Bruxelles", "Liège", "Antwerpen", "Gent"),
        "Netherlands": ("Amsterdam", "Rotterdam", "Utrecht", "Den Haag"),
        "Ireland": ("Dublin", "Cork", "Galway", "Limerick"),
    },
    "Central": {
        "Germany": ("München", "Köln", "Düsseldorf", "Lübeck"),
        "Austria": ("Wien", "Graz", "Linz", "Salzburg"),
        "Switzerland": ("Zürich", "Genève", "Basel", "Neuchâtel"),
    },
}
_COMPANY_SUFFIX: dict[str, str] = {
    "Sweden": "AB", "Norway": "AS", "Denmark": "ApS", "Finland": "Oy", "Spain": "S.L.", "Italy": "S.r.l.",
    "Portugal": "Lda", "Greece": "AE", "Poland": "Sp. z o.o.", "Czechia": "s.r.o.", "Hungary": "Kft.",
    "Romania": "SRL", "France": "SARL", "Belgium": "NV", "Netherlands": "B.V.", "Ireland": "Ltd",
    "Germany": "GmbH", "Austria": "GmbH", "Switzerland": "AG",
}  # fmt: skip
_FIRST_NAMES = (
    "Jürgen", "Anaïs", "François", "Søren", "Begoña", "Núria", "José", "Zoë", "Björn", "Inés", "Ángel",
    "Chloé", "Maëlle", "Jörg", "Åsa", "Mårten", "Ingrid", "Lars", "Sofia", "Marco", "Giulia", "Hélène",
    "João", "Conceição", "Sinéad", "Seán", "Tomás", "Katarzyna", "Petra", "Eszter", "Dóra", "Andrei",
    "Elena", "Lukas", "Léa", "Noah", "Emma", "Pieter", "Aoife", "Matteo",
)  # fmt: skip
_LAST_NAMES = (
    "Müller", "Schäfer", "Jørgensen", "Gonçalves", "Peña", "Öztürk", "Kovács", "Nowak", "Lindqvist",
    "Ó Briain", "Novák", "Dubois", "Lefèvre", "García", "Muñoz", "Rossi", "Bianchi", "Silva", "Andersen",
    "Nieminen", "Virtanen", "Horváth", "Popescu", "Janssens", "de Vries", "Murphy", "Gruber", "Weiß",
    "Brandão", "Papadopoulos", "Svoboda", "Ibáñez", "Lønne", "Håkansson", "Fernández", "Bäcker",
)  # fmt: skip
_SEGMENTS: dict[str, int] = {"Consumer": 55, "Small Business": 30, "Enterprise": 10, "Public Sector": 5}

#: (product, category, list price in cents, popularity weight)
_PRODUCTS: tuple[tuple[str, str, int, int], ...] = (
    ("Laptop Pro 14", "Computers", 129900, 4),
    ("Laptop Air 13", "Computers", 99900, 5),
    ("Monitor 27in 4K", "Displays", 32900, 8),
    ("Monitor 24in", "Displays", 17900, 9),
    ("Wireless Mouse", "Accessories", 2499, 20),
    ("Mechanical Keyboard", "Accessories", 8900, 12),
    ("USB-C Hub", "Accessories", 4990, 16),
    ("Webcam HD", "Accessories", 5900, 10),
    ("Noise-Cancelling Headphones", "Audio", 24900, 8),
    ("Bluetooth Speaker", "Audio", 7990, 9),
    ("Office Chair", "Furniture", 18900, 5),
    ("Standing Desk", "Furniture", 44900, 3),
    ("Printer Paper A4", "Office Supplies", 549, 14),
    ("Ink Cartridge Black", "Office Supplies", 3250, 11),
)
_MONTH_FACTOR = (0.85, 0.9, 1.0, 1.0, 1.02, 1.0, 0.92, 0.8, 1.05, 1.1, 1.35, 1.45)
_WEEKDAY_FACTOR = (1.0, 1.0, 1.0, 1.0, 1.05, 0.6, 0.45)
_TRANSACTIONS_COLUMNS = (
    "order_id", "order_date", "region", "country", "product", "category", "channel", "quantity", "unit_price",
    "discount", "revenue", "customer_id",
)  # fmt: skip
#: Customers in the customers file; the transactions also use a few more, missing from that export.
_EXPORTED_CUSTOMERS = 300
_ALL_CUSTOMERS = 320
_FIXED_TIME = datetime(2025, 12, 15, 9, 30, 0)


@dataclass(frozen=True)
class _Customer:
    customer_id: str
    name: str
    city: str
    country: str
    region: str
    segment: str
    signup: date


@dataclass(frozen=True)
class _Sales:
    """What the big CSV holds, aggregated: enough for the chart, the cleaned table and the note."""

    rows: int
    excluded: int
    #: (region, month 1-12) -> (orders kept, revenue kept in cents)
    cells: dict[tuple[str, int], tuple[int, int]]

    def region_totals(self) -> list[int]:
        """Revenue kept per region, in cents, in :data:`_REGIONS` order."""
        return [sum(self.cells[region, month][1] for month in range(1, 13)) for region in _REGIONS]


def _money(cents: int) -> str:
    """``123456`` -> ``"1234.56"`` (exact, no float rounding)."""
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def _customers() -> list[_Customer]:
    rng = random.Random(7301)
    regions, weights = list(_REGION_WEIGHTS), list(_REGION_WEIGHTS.values())
    segments, segment_weights = list(_SEGMENTS), list(_SEGMENTS.values())
    first_signup, span = date(2019, 1, 1), (date(2024, 12, 31) - date(2019, 1, 1)).days
    people: list[_Customer] = []
    for number in range(10001, 10001 + _ALL_CUSTOMERS):
        region = rng.choices(regions, weights)[0]
        country = rng.choice(sorted(_COUNTRIES[region]))
        segment = rng.choices(segments, segment_weights)[0]
        first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
        # People as "Last, First" (a comma inside a semicolon-separated file); firms with their legal form.
        name = f"{last}, {first}" if segment == "Consumer" else f"{last} {_COMPANY_SUFFIX[country]}"
        people.append(
            _Customer(
                customer_id=f"C{number}",
                name=name,
                city=rng.choice(_COUNTRIES[region][country]),
                country=country,
                region=region,
                segment=segment,
                signup=first_signup + timedelta(days=rng.randrange(span + 1)),
            )
        )
    return people


# --------------------------------------------------------------------------------------------------------
# SOURCE/transactions_2025.csv: streamed in chunks of one day of orders, in constant memory.


def _order_tails(rng: random.Random, customers: Sequence[_Customer], n: int) -> tuple[list[str], list[int]]:
    """A pool of order lines without id and date, and each one's kept revenue in cents (0 if filtered)."""
    products, product_weights = _PRODUCTS, [p[3] for p in _PRODUCTS]
    tails: list[str] = []
    kept: list[int] = []
    for _ in range(n):
        customer = rng.choice(customers)
        product, category, price, _weight = rng.choices(products, product_weights)[0]
        business = customer.segment != "Consumer"
        if business:
            channel = rng.choices(("Online", "Partner", "Phone"), (35, 40, 25))[0]
            quantity = rng.choice((1, 2, 3, 5, 5, 10, 10, 20)) * (10 if category == "Office Supplies" else 1)
            discount = rng.choice((5, 10, 10, 15, 20, 25))
        else:
            channel = rng.choices(("Online", "Retail", "Phone"), (60, 35, 5))[0]
            quantity = rng.choices((1, 2, 3, 4), (70, 20, 7, 3))[0]
            discount = rng.choices((0, 5, 10, 15), (70, 12, 12, 6))[0]
        roll = rng.random()
        if roll < 0.004:
            quantity = 0  # test orders
        elif roll < 0.016:
            quantity = -rng.choice((1, 1, 2, 3))  # returns and cancellations
        # The shop system rounds each line half-up, in exact arithmetic.
        gross = price * quantity * (100 - discount)
        revenue = (abs(gross) + 50) // 100 * (1 if gross >= 0 else -1)
        tails.append(
            f"{customer.region},{customer.country},{product},{category},{channel},{quantity},{_money(price)},"
            f"{discount / 100:.2f},{_money(revenue)},{customer.customer_id}"
        )
        # analysis.py recomputes it in floats and rounds half-to-even, as pandas does: cents can differ.
        kept.append(round(quantity * (price / 100) * (1 - discount / 100) * 100) if quantity > 0 else 0)
    return tails, kept


def _day_counts(rng: random.Random, total: int) -> list[int]:
    """Split ``total`` orders over the days of 2025, with weekly and seasonal patterns."""
    days = [date(2025, 1, 1) + timedelta(days=offset) for offset in range(365)]
    weights = [_MONTH_FACTOR[d.month - 1] * _WEEKDAY_FACTOR[d.weekday()] for d in days]
    weights = [weight * rng.uniform(0.9, 1.1) for weight in weights]
    scale, cumulative, previous = total / sum(weights), 0.0, 0
    counts: list[int] = []
    for weight in weights:
        cumulative += weight
        boundary = round(cumulative * scale)
        counts.append(boundary - previous)
        previous = boundary
    counts[-1] += total - previous
    return counts


def _write_transactions(handle: BinaryIO, target_bytes: int, customers: Sequence[_Customer]) -> _Sales:
    """Stream at least ``target_bytes`` of order lines dated through 2025 to ``handle``."""
    rng = random.Random(2025)
    tails, kept = _order_tails(rng, customers, 8192)
    region_of = [tail.split(",", 1)[0] for tail in tails]
    pool = range(len(tails))
    header = (",".join(_TRANSACTIONS_COLUMNS) + "\n").encode()
    # "ORD-0000001," + "2025-01-01," + tail + "\n"
    average = 12 + 11 + sum(map(len, tails)) / len(tails) + 1
    planned = max(365, math.ceil((target_bytes - len(header)) / average * 1.005))
    handle.write(header)
    written, next_id = len(header), 1
    monthly: list[Counter[int]] = [Counter() for _ in range(12)]

    def emit(day: date, count: int) -> None:
        nonlocal written, next_id
        picks = rng.choices(pool, k=count)
        monthly[day.month - 1].update(picks)
        middle = f",{day.isoformat()},"
        ids = range(next_id, next_id + count)
        lines = [f"ORD-{i:07d}{middle}{tails[j]}\n" for i, j in zip(ids, picks, strict=True)]
        chunk = "".join(lines).encode()
        handle.write(chunk)
        written += len(chunk)
        next_id += count

    for offset, count in enumerate(_day_counts(rng, planned)):
        emit(date(2025, 1, 1) + timedelta(days=offset), count)
    while written < target_bytes:  # the size estimate fell short: top up with late December orders
        emit(date(2025, 12, 31), 200)

    cells: dict[tuple[str, int], tuple[int, int]] = {(r, m): (0, 0) for r in _REGIONS for m in range(1, 13)}
    excluded = 0
    for month, counter in enumerate(monthly, start=1):
        for index, count in counter.items():
            if kept[index] == 0:
                excluded += count
                continue
            orders, cents = cells[region_of[index], month]
            cells[region_of[index], month] = (orders + count, cents + kept[index] * count)
    return _Sales(rows=next_id - 1, excluded=excluded, cells=cells)


# --------------------------------------------------------------------------------------------------------
# The small files.


def _customers_csv(customers: Sequence[_Customer]) -> bytes:
    """Latin-1, semicolon-separated, dates as dd.mm.yyyy: a typical European CRM export."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(("customer_id", "name", "city", "country", "segment", "signup_date"))
    for c in customers[:_EXPORTED_CUSTOMERS]:
        writer.writerow((c.customer_id, c.name, c.city, c.country, c.segment, c.signup.strftime("%d.%m.%Y")))
    return buffer.getvalue().encode("latin-1")


_COMMENTS: dict[str, tuple[str, ...]] = {
    "good": (
        "Fast delivery, great packaging.",
        "Would recommend to colleagues.",
        "Love the standing desk!",
        "Easy returns process",
        "Good value",
        "Great service.\nWill order again.",
        "",
    ),
    "neutral": (
        "OK",
        'The "Pro" laptop runs hot, otherwise fine.',
        "Delivery was late; the driver left it with a neighbour.",
        "Prices went up, quality did not.",
        "",
        "",
    ),
    "bad": (
        "Support took three days to answer.",
        "Invoice had the wrong VAT number, please fix",
        "Website checkout keeps failing on mobile",
        "Partner discount not applied, had to call twice.",
        "",
    ),
}


def _survey_csv() -> bytes:
    """UTF-8 survey export whose first line is an empty header row of commas."""
    rng = random.Random(4242)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    columns = ("response_id", "submitted_at", "region", "satisfaction", "nps", "comment")
    buffer.write("," * (len(columns) - 1) + "\n")
    writer.writerow(columns)
    start = datetime(2025, 1, 6, 8, 0)
    moments = sorted(start + timedelta(minutes=rng.randrange(355 * 24 * 60)) for _ in range(200))
    for number, submitted in enumerate(moments, start=1):
        satisfaction = rng.choices((1, 2, 3, 4, 5), (5, 10, 20, 40, 25))[0]
        nps = max(0, min(10, satisfaction * 2 + rng.choice((-2, -1, 0, 0, 1))))
        mood = "good" if satisfaction >= 4 else "bad" if satisfaction <= 2 else "neutral"
        region = rng.choices(_REGIONS, list(_REGION_WEIGHTS.values()))[0]
        comment = rng.choice(_COMMENTS[mood])
        stamp = submitted.strftime("%Y-%m-%d %H:%M")
        writer.writerow((f"R{number:04d}", stamp, region, satisfaction, nps, comment))
    return buffer.getvalue().encode()


def _budget_xlsx() -> bytes:
    """A two-sheet workbook (Budget for 2026, Actuals for 2025), with fixed timestamps inside."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    rng = random.Random(2026)
    departments = {"Sales": 182_000, "Marketing": 96_000, "Operations": 141_000, "IT": 78_000, "HR": 35_000}
    bases = list(departments.values())
    workbook = Workbook()
    workbook.properties.creator = "Finance"
    workbook.properties.created = _FIXED_TIME
    budget = workbook.active
    assert budget is not None  # a new workbook always has one sheet
    budget.title = "Budget"
    actuals = workbook.create_sheet("Actuals")
    for sheet, year, factor in ((budget, 2026, 1.0), (actuals, 2025, 0.95)):
        sheet.append(["Month", *departments])
        for month in range(1, 13):
            seasonal = _MONTH_FACTOR[month - 1] ** 0.5
            noise = 0.03 if sheet is budget else 0.08
            row = [base * factor * seasonal * rng.uniform(1 - noise, 1 + noise) for base in bases]
            sheet.append([date(year, month, 1), *[int(round(value, -2)) for value in row]])
            sheet.cell(row=month + 1, column=1).number_format = "mmm yyyy"
            for column in range(2, len(departments) + 2):
                sheet.cell(row=month + 1, column=column).number_format = "#,##0"
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.column_dimensions["A"].width = 12
        sheet.freeze_panes = "B2"
    raw = io.BytesIO()
    workbook.save(raw)
    return _pin_zip_times(raw.getvalue())


def _pin_zip_times(data: bytes) -> bytes:
    """Rewrite an XLSX with fixed entry times and modification date, so the demo is byte-identical."""
    stamp = _FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ")
    out = io.BytesIO()
    when = _FIXED_TIME.timetuple()[:6]
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + stamp.encode(), content)
            target.writestr(zipfile.ZipInfo(info.filename, when), content, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _marketing_csv() -> bytes:
    """Monthly marketing spend per channel, under the unhelpful name final2.csv."""
    rng = random.Random(48)
    # channel -> (typical monthly spend in EUR, clicks per euro)
    channels = {
        "Google Ads": (18_000, 1.9),
        "Meta Ads": (12_500, 2.6),
        "LinkedIn Ads": (7_000, 0.8),
        "Email": (1_500, 9.0),
    }
    lines = ["month,channel,spend,clicks,conversions"]
    for month in range(1, 13):
        for channel, (base, clicks_per_euro) in channels.items():
            spend = round(base * _MONTH_FACTOR[month - 1] * rng.uniform(0.85, 1.15) * 100)
            clicks = int(spend / 100 * clicks_per_euro * rng.uniform(0.8, 1.2))
            conversions = int(clicks * rng.uniform(0.015, 0.045))
            lines.append(f"2025-{month:02d},{channel},{_money(spend)},{clicks},{conversions}")
    return ("\n".join(lines) + "\n").encode()


_ANALYSIS_SCRIPT = '''\
"""Sales 2025 review: clean the shop export, then revenue by region and by month.

Written in a ChatGPT data-analysis session; the files were in /mnt/data there.
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "SOURCE"
OUTPUT = ROOT / "OUTPUT"
OUTPUT.mkdir(exist_ok=True)

REGIONS = ["North", "South", "East", "West", "Central"]
COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd"]

# --- Load ---------------------------------------------------------------------
sales = pd.read_csv(SOURCE / "transactions_2025.csv", parse_dates=["order_date"])
customers = pd.read_csv(SOURCE / "customers_eu.csv", sep=";", encoding="latin-1")
print(f"{len(sales):,} order lines, {len(customers):,} customers")

# --- Clean --------------------------------------------------------------------
# Negative quantities are returns and cancellations; zero-quantity rows are test orders.
sales = sales[sales["quantity"] > 0]
sales = sales[sales["order_date"].dt.year == 2025]
sales["discount"] = sales["discount"].fillna(0).clip(0, 0.5)
# Recompute revenue from its parts so every row follows the same formula.
sales["revenue"] = (sales["quantity"] * sales["unit_price"] * (1 - sales["discount"])).round(2)
sales = sales.merge(customers[["customer_id", "segment"]], on="customer_id", how="left")
sales["month"] = sales["order_date"].dt.to_period("M").astype(str)

# --- Aggregate ----------------------------------------------------------------
summary = (
    sales.groupby(["region", "month"])
    .agg(orders=("order_id", "nunique"), revenue=("revenue", "sum"))
    .reset_index()
    .sort_values(["region", "month"])
)
summary["revenue"] = summary["revenue"].round(2)
summary.to_csv(OUTPUT / "sales_2025_cleaned.csv", index=False)

by_region = summary.groupby("region")["revenue"].sum().reindex(REGIONS)
monthly = summary.pivot(index="month", columns="region", values="revenue")[REGIONS]

# --- Charts -------------------------------------------------------------------
fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=100)
ax.bar(by_region.index, by_region.values / 1e6, color=COLOURS)
ax.set_title("Revenue by region, 2025")
ax.set_ylabel("Revenue (EUR million)")
ax.grid(axis="y", alpha=0.3)
fig.tight_layout()
fig.savefig(OUTPUT / "revenue_by_region.png")
plt.close(fig)

fig, ax = plt.subplots(figsize=(9, 4.5), dpi=100)
(monthly / 1e6).plot(ax=ax, marker="o", color=COLOURS)
ax.set_title("Monthly revenue by region, 2025")
ax.set_xlabel("")
ax.set_ylabel("Revenue (EUR million)")
ax.legend(title="Region", ncol=5, loc="upper left")
fig.tight_layout()
fig.savefig(OUTPUT / "monthly_trend.png")
plt.close(fig)

print(by_region.map("EUR {:,.0f}".format))
'''


def _cleaned_csv(sales: _Sales) -> bytes:
    """What analysis.py saved as OUTPUT/sales_2025_cleaned.csv."""
    lines = ["region,month,orders,revenue"]
    for region in sorted(_REGIONS):
        for month in range(1, 13):
            orders, cents = sales.cells[region, month]
            # pandas writes the float's shortest form: 1234.5, not 1234.50
            lines.append(f"{region},2025-{month:02d},{orders},{cents / 100!r}")
    return ("\n".join(lines) + "\n").encode()


# --------------------------------------------------------------------------------------------------------
# OUTPUT/revenue_by_region.png: a minimal PNG encoder (8-bit RGB, no filtering) and a bar chart.


def _png(width: int, height: int, rows: Sequence[bytes | bytearray]) -> bytes:
    """Encode ``height`` rows of ``width`` RGB pixels as a PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB, deflate, no interlace
    pixels = b"".join(b"\x00" + bytes(row) for row in rows)  # filter type 0 (none) on every row
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(pixels, 9)) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


def _bar_chart(values: Sequence[int], width: int = 640, height: int = 400) -> bytes:
    """A bar chart of ``values`` (one coloured bar each) with axes and light gridlines, as a PNG."""
    canvas = [bytearray(b"\xff" * (3 * width)) for _ in range(height)]

    def fill(x0: int, y0: int, x1: int, y1: int, colour: bytes) -> None:
        for y in range(y0, y1):
            canvas[y][3 * x0 : 3 * x1] = colour * (x1 - x0)

    left, right, top, bottom = 70, width - 30, 30, height - 50
    grid, axis = bytes((225, 225, 225)), bytes((40, 40, 40))
    for step in range(1, 6):
        y = bottom - (bottom - top) * step // 5
        fill(left, y, right, y + 1, grid)
        fill(left - 6, y, left, y + 1, axis)  # tick
    highest = max(max(values), 1) * 1.1
    slot = (right - left) // len(values)
    bar = slot * 3 // 5
    for index, value in enumerate(values):
        x0 = left + index * slot + (slot - bar) // 2
        bar_top = bottom - round((bottom - top) * max(value, 0) / highest)
        fill(x0, bar_top, x0 + bar, bottom, _COLOURS[index % len(_COLOURS)])
        fill(x0 + bar // 2, bottom, x0 + bar // 2 + 1, bottom + 6, axis)  # tick
    fill(left - 1, top, left + 1, bottom + 1, axis)
    fill(left - 1, bottom, right, bottom + 2, axis)
    return _png(width, height, canvas)


# --------------------------------------------------------------------------------------------------------
# RESTART/restart-note.md


def _note(sales: _Sales) -> str:
    """The restart note the user kept; it lists monthly_trend.png, which never reached OUTPUT/."""
    totals = sales.region_totals()
    total, kept = sum(totals), sales.rows - sales.excluded
    largest = _REGIONS[totals.index(max(totals))]
    share = 100 * sales.excluded / max(sales.rows, 1)
    content = {
        "brief": (
            "Review 2025 sales for the regional leads' quarterly business review: revenue and orders by "
            "region and month, what drove the Q4 peak, and how it lines up with marketing spend and the "
            "2026 budget."
        ),
        "files": "\n".join(
            (
                "- transactions_2025.csv — every order line of 2025, exported from the shop system",
                "- customers_eu.csv — customer master data from the CRM (segment, country, signup date)",
                "- survey_responses.csv — customer satisfaction survey, 200 responses",
                "- budget_2026.xlsx — 2026 budget by department (sheet Budget), 2025 actuals (sheet Actuals)",
                "- final2.csv — monthly marketing spend, clicks and conversions per channel",
            )
        ),
        "columns": "\n".join(
            (
                "- order_id — one row per order line; unique",
                "- order_date — ISO date, used for the month",
                "- region, country — sales region (North, South, East, West, Central) and country",
                "- quantity, unit_price, discount — discount is a fraction (0.10 = 10 %)",
                "- revenue — recomputed, see formulas",
                "- customer_id — joins to customers_eu.csv for the segment",
            )
        ),
        "filters": "\n".join(
            (
                f"- Dropped rows with quantity <= 0: returns, cancellations and zero-quantity test orders "
                f"({sales.excluded:,} of {sales.rows:,} rows, {share:.1f} %).",
                "- Kept order_date in 2025 only (the export had nothing outside it).",
                "- Discounts clipped to 0–50 % (no row was outside that range).",
            )
        ),
        "decisions": "\n".join(
            (
                "- revenue = quantity × unit_price × (1 − discount), rounded to cents per line; recomputed "
                "rather than trusting the export's revenue column.",
                "- orders = distinct order_id per region and month.",
                "- Months are calendar months of order_date (pandas Period 'M').",
                "- customers_eu.csv read with sep=';' and encoding='latin-1'; left join on customer_id, so "
                "customers missing from the CRM export keep a blank segment.",
                "- Charts with matplotlib (Agg backend), one fixed colour per region.",
                "- All of it is in CODE/analysis.py.",
            )
        ),
        "outputs": "\n".join(
            (
                "- sales_2025_cleaned.csv — orders and revenue per region and month (60 rows)",
                "- revenue_by_region.png — bar chart of 2025 revenue by region",
                "- monthly_trend.png — monthly revenue, one line per region",
            )
        ),
        "next_prompt": (
            "I'm continuing a sales analysis whose previous session expired. I've attached the source files "
            "and analysis.py from that session, and the restart note below. Load the data with the same "
            "cleaning rules (quantity > 0, 2025 only, revenue = quantity × unit_price × (1 − discount)), "
            "re-run analysis.py, recreate monthly_trend.png (monthly revenue, one line per region) and check "
            "that the region totals match sales_2025_cleaned.csv. Then compare the monthly revenue with the "
            "marketing spend in final2.csv."
        ),
        "notes": "\n".join(
            (
                f"- Check figure: 2025 revenue after filters is EUR {total / 100:,.2f} over {kept:,} orders; "
                f"{largest} is the largest region.",
                "- The session expired before monthly_trend.png was downloaded; the rest was saved.",
                "- Still to do: satisfaction by region from the survey; budget vs actuals from the workbook.",
                "- final2.csv should really be called marketing_spend_2025.csv.",
            )
        ),
    }
    return render_note("Sales 2025 review", content)


# --------------------------------------------------------------------------------------------------------
# The public API.


def _marker_files(root: Path) -> list[str] | None:
    """The file list of the demo marker in ``root``, or None if there is no valid marker."""
    try:
        data = json.loads((root / DEMO_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("version"), int):
        return None
    files = data.get("files")
    if not isinstance(files, list) or not all(isinstance(name, str) for name in files):
        return None
    return files


def is_demo(root: Path) -> bool:
    """Whether ``root`` holds a Liferaft demo, i.e. a readable demo marker."""
    return _marker_files(Path(root)) is not None


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


@contextlib.contextmanager
def _writing(path: Path) -> Iterator[None]:
    """Turn an OSError raised while writing ``path`` into a one-line :class:`DemoError`."""
    try:
        yield
    except OSError as exc:
        raise DemoError(f"Could not write {path}: {_reason(exc)}; fix that and run the demo again") from exc


def _inspect(root: Path) -> bool:
    """Check that ``root`` can take the demo; return whether this is a refresh of an existing demo."""
    if root.exists() and not root.is_dir():
        raise DemoError(f"{root} is a file, not a folder; choose an empty or new folder")
    if not root.exists():
        return False
    try:
        entries = [entry.name for entry in root.iterdir() if entry.name not in _CLUTTER]
    except OSError as exc:
        raise DemoError(f"Could not read {root}: {_reason(exc)}; choose another folder") from exc
    if not entries:
        return False
    previous = _marker_files(root)
    if previous is None:
        raise DemoError(f"{root} is not empty and is not a Liferaft demo; choose an empty or new folder")
    # A newer demo may add files: never overwrite a user's file that happens to have such a name.
    for name in DEMO_FILES:
        if name not in previous and (root / name).exists():
            raise DemoError(f"{root / name} is not a demo file; move it or choose an empty or new folder")
    return True


def _undo(root: Path, written: Sequence[str], root_created: bool) -> None:
    """Remove what a failed first-time write left behind (only files it wrote, only empty folders)."""
    for name in written:
        with contextlib.suppress(OSError):
            (root / name).unlink()
    folders = {(root / name).parent for name in (*DEMO_FILES, DEMO_MARKER.as_posix())}
    for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
        if folder != root:
            with contextlib.suppress(OSError):
                folder.rmdir()
    if root_created:
        with contextlib.suppress(OSError):
            root.rmdir()


def write_demo(root: Path, *, progress: Progress | None = None, big_csv_mb: float = 60.0) -> DemoResult:
    """Write the demo project into ``root``, or refresh the demo already there.

    ``root`` may be missing (it is created) or empty; a non-empty folder must be an earlier demo, whose
    demo files are then rewritten in place while every other file in it stays untouched. ``progress``
    receives short messages as files are written. ``big_csv_mb`` is the size of the transactions CSV in
    megabytes (10**6 bytes); the file is at least that big. Raises :class:`DemoError` if the folder cannot
    be used or a write fails; a failed first-time write removes what it wrote.
    """
    if not (big_csv_mb > 0 and math.isfinite(big_csv_mb)):
        raise ValueError(f"big_csv_mb must be a positive number, not {big_csv_mb!r}")
    root = Path(root)
    report = progress or (lambda _message: None)
    refreshed = _inspect(root)
    root_created = not root.exists()
    written: list[str] = []

    def put(name: str, data: bytes) -> None:
        report(f"Writing {name}…")
        with _writing(root / name):
            write_bytes(root / name, data)
        written.append(name)

    try:
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DemoError(f"Could not create {root}: {_reason(exc)}; choose another folder") from exc
        customers = _customers()
        report(f"Writing {TRANSACTIONS} ({big_csv_mb:g} MB)…")
        with _writing(root / TRANSACTIONS), atomic_writer(root / TRANSACTIONS) as handle:
            sales = _write_transactions(handle, math.ceil(big_csv_mb * 1e6), customers)
        written.append(TRANSACTIONS)
        put(CUSTOMERS, _customers_csv(customers))
        put(SURVEY, _survey_csv())
        put(BUDGET, _budget_xlsx())
        put(BADLY_NAMED, _marketing_csv())
        put(SCRIPT, _ANALYSIS_SCRIPT.encode())
        put(CHART, _bar_chart(sales.region_totals()))
        put(CLEANED, _cleaned_csv(sales))
        put(NOTE, _note(sales).encode())
        marker = json.dumps({"version": MARKER_VERSION, "files": list(DEMO_FILES)}, indent=2) + "\n"
        with _writing(root / DEMO_MARKER):
            write_text(root / DEMO_MARKER, marker)
    except BaseException:
        if not refreshed:
            _undo(root, written, root_created)
        raise
    return DemoResult(root=root, files=DEMO_FILES, refreshed=refreshed)

"""The small CSV files: the CRM export, the survey, the marketing spend (final2.csv) and the cleaned output."""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Sequence
from datetime import datetime, timedelta

from liferaft.core.demo.reference import EXPORTED_CUSTOMERS, MONTH_FACTOR, REGION_WEIGHTS, REGIONS, Customer, money
from liferaft.core.demo.transactions import Sales


def customers_csv(customers: Sequence[Customer]) -> bytes:
    """Latin-1, semicolon-separated, dates as dd.mm.yyyy: a typical European CRM export."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(("customer_id", "name", "city", "country", "segment", "signup_date"))
    for c in customers[:EXPORTED_CUSTOMERS]:
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


def survey_csv() -> bytes:
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
        region = rng.choices(REGIONS, list(REGION_WEIGHTS.values()))[0]
        comment = rng.choice(_COMMENTS[mood])
        stamp = submitted.strftime("%Y-%m-%d %H:%M")
        writer.writerow((f"R{number:04d}", stamp, region, satisfaction, nps, comment))
    return buffer.getvalue().encode()


def marketing_csv() -> bytes:
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
            spend = round(base * MONTH_FACTOR[month - 1] * rng.uniform(0.85, 1.15) * 100)
            clicks = int(spend / 100 * clicks_per_euro * rng.uniform(0.8, 1.2))
            conversions = int(clicks * rng.uniform(0.015, 0.045))
            lines.append(f"2025-{month:02d},{channel},{money(spend)},{clicks},{conversions}")
    return ("\n".join(lines) + "\n").encode()


def cleaned_csv(sales: Sales) -> bytes:
    """What analysis.py saved as OUTPUT/sales_2025_cleaned.csv."""
    lines = ["region,month,orders,revenue"]
    for region in sorted(REGIONS):
        for month in range(1, 13):
            orders, cents = sales.cells[region, month]
            # pandas writes the float's shortest form: 1234.5, not 1234.50
            lines.append(f"{region},2025-{month:02d},{orders},{cents / 100!r}")
    return ("\n".join(lines) + "\n").encode()

"""SOURCE/transactions_2025.csv: streamed in chunks of one day of orders, in constant memory.

Writing it returns :class:`Sales`, the file aggregated: what the chart, the cleaned table and the note show.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import BinaryIO

from liferaft.core.demo.reference import MONTH_FACTOR, PRODUCTS, REGIONS, WEEKDAY_FACTOR, Customer, money

_TRANSACTIONS_COLUMNS = (
    "order_id", "order_date", "region", "country", "product", "category", "channel", "quantity", "unit_price",
    "discount", "revenue", "customer_id",
)  # fmt: skip


@dataclass(frozen=True)
class Sales:
    """What the big CSV holds, aggregated: enough for the chart, the cleaned table and the note."""

    rows: int
    excluded: int
    #: (region, month 1-12) -> (orders kept, revenue kept in cents)
    cells: dict[tuple[str, int], tuple[int, int]]

    def region_totals(self) -> list[int]:
        """Revenue kept per region, in cents, in :data:`REGIONS` order."""
        return [sum(self.cells[region, month][1] for month in range(1, 13)) for region in REGIONS]


def _order_tails(rng: random.Random, customers: Sequence[Customer], n: int) -> tuple[list[str], list[int]]:
    """A pool of order lines without id and date, and each one's kept revenue in cents (0 if filtered)."""
    products, product_weights = PRODUCTS, [p[3] for p in PRODUCTS]
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
            f"{customer.region},{customer.country},{product},{category},{channel},{quantity},{money(price)},"
            f"{discount / 100:.2f},{money(revenue)},{customer.customer_id}"
        )
        # analysis.py recomputes it in floats and rounds half-to-even, as pandas does: cents can differ.
        kept.append(round(quantity * (price / 100) * (1 - discount / 100) * 100) if quantity > 0 else 0)
    return tails, kept


def _day_counts(rng: random.Random, total: int) -> list[int]:
    """Split ``total`` orders over the days of 2025, with weekly and seasonal patterns."""
    days = [date(2025, 1, 1) + timedelta(days=offset) for offset in range(365)]
    weights = [MONTH_FACTOR[d.month - 1] * WEEKDAY_FACTOR[d.weekday()] for d in days]
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


def write_transactions(handle: BinaryIO, target_bytes: int, customers: Sequence[Customer]) -> Sales:
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

    cells: dict[tuple[str, int], tuple[int, int]] = {(r, m): (0, 0) for r in REGIONS for m in range(1, 13)}
    excluded = 0
    for month, counter in enumerate(monthly, start=1):
        for index, count in counter.items():
            if kept[index] == 0:
                excluded += count
                continue
            orders, cents = cells[region_of[index], month]
            cells[region_of[index], month] = (orders + count, cents + kept[index] * count)
    return Sales(rows=next_id - 1, excluded=excluded, cells=cells)

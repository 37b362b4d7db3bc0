"""The demo's text files: CODE/analysis.py, the script of the expired session, and RESTART/restart-note.md."""

from __future__ import annotations

from liferaft.core.demo.reference import REGIONS
from liferaft.core.demo.transactions import Sales
from liferaft.core.restart_note import render_note

ANALYSIS_SCRIPT = '''\
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


def restart_note(sales: Sales) -> str:
    """The restart note the user kept; it lists monthly_trend.png, which never reached OUTPUT/."""
    totals = sales.region_totals()
    total, kept = sum(totals), sales.rows - sales.excluded
    largest = REGIONS[totals.index(max(totals))]
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

"""The reference data every demo file is drawn from: regions, countries, people, products, seasonality.

Every name here encodes to Latin-1: customers_eu.csv is written in that encoding. Amounts are integer cents,
written out exactly by :func:`money`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

REGION_WEIGHTS: dict[str, int] = {"North": 15, "South": 18, "East": 12, "West": 25, "Central": 30}
REGIONS: tuple[str, ...] = tuple(REGION_WEIGHTS)

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
PRODUCTS: tuple[tuple[str, str, int, int], ...] = (
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
MONTH_FACTOR = (0.85, 0.9, 1.0, 1.0, 1.02, 1.0, 0.92, 0.8, 1.05, 1.1, 1.35, 1.45)
WEEKDAY_FACTOR = (1.0, 1.0, 1.0, 1.0, 1.05, 0.6, 0.45)
#: Customers in the customers file; the transactions also use a few more, missing from that export.
EXPORTED_CUSTOMERS = 300
_ALL_CUSTOMERS = 320


@dataclass(frozen=True)
class Customer:
    customer_id: str
    name: str
    city: str
    country: str
    region: str
    segment: str
    signup: date


def money(cents: int) -> str:
    """``123456`` -> ``"1234.56"`` (exact, no float rounding)."""
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def generate_customers() -> list[Customer]:
    """The demo's customers, always the same ones; the CRM export holds the first :data:`EXPORTED_CUSTOMERS`."""
    rng = random.Random(7301)
    regions, weights = list(REGION_WEIGHTS), list(REGION_WEIGHTS.values())
    segments, segment_weights = list(_SEGMENTS), list(_SEGMENTS.values())
    first_signup, span = date(2019, 1, 1), (date(2024, 12, 31) - date(2019, 1, 1)).days
    people: list[Customer] = []
    for number in range(10001, 10001 + _ALL_CUSTOMERS):
        region = rng.choices(regions, weights)[0]
        country = rng.choice(sorted(_COUNTRIES[region]))
        segment = rng.choices(segments, segment_weights)[0]
        first, last = rng.choice(_FIRST_NAMES), rng.choice(_LAST_NAMES)
        # People as "Last, First" (a comma inside a semicolon-separated file); firms with their legal form.
        name = f"{last}, {first}" if segment == "Consumer" else f"{last} {_COMPANY_SUFFIX[country]}"
        people.append(
            Customer(
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

"""The shape of the secret-gate corpus (tests/data/real/secrets/), not the gate's results: those are measured by
``python tests/bench/run.py secrets`` (issue 15)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parent / "data" / "real" / "secrets"
BENCH = Path(__file__).resolve().parent / "bench"


def _load(name: str) -> list[dict]:
    return [json.loads(line) for line in (CORPUS / name).read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def credentials() -> list[dict]:
    return _load("credentials.jsonl")


@pytest.fixture(scope="module")
def benign() -> list[dict]:
    return _load("benign.jsonl")


@pytest.fixture(scope="module")
def sources() -> dict[str, list[str]]:
    rows = {}
    for line in (CORPUS / "SOURCES.md").read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("| ") and len(cells) == 5 and cells[0] not in ("id", "---"):
            rows[cells[0]] = cells[1:]
    return rows


def test_counts_meet_the_issue(credentials: list[dict], benign: list[dict]) -> None:
    assert len(credentials) >= 200
    assert len({item["type"] for item in credentials}) >= 60
    assert len(benign) >= 40


def test_items_are_labelled_and_distinct(credentials: list[dict], benign: list[dict]) -> None:
    for item in credentials:
        assert set(item) >= {"id", "type", "value", "source", "name", "category"}, item
        assert item["category"] in {"token", "password", "pem", "bearer", "header_basic"}, item
        assert re.fullmatch(r"[A-Z][A-Z0-9_]*", item["name"]), item
        assert "{value}" in item.get("wrap", "{value}"), item
        # Documentation placeholders are look-alikes, not credentials.
        assert not re.search(r"(?i)example|xxxxxxxx|your_", item["value"]), item
    for item in benign:
        assert set(item) >= {"id", "kind", "value", "source", "name"}, item
    ids = [item["id"] for item in credentials + benign]
    assert len(ids) == len(set(ids))
    values = [item["value"] for item in credentials]
    assert len(values) == len(set(values))
    assert not set(values) & {item["value"] for item in benign}


def test_every_item_has_a_source(credentials: list[dict], benign: list[dict], sources: dict[str, list[str]]) -> None:
    for item in credentials + benign:
        assert item["source"] in sources, item
    for source, (repository, path, commit, licence) in sources.items():
        assert repository and path and licence, source
        if "/" in repository and " " not in repository:  # a GitHub repository: pinned to a commit
            assert re.fullmatch(r"[0-9a-f]{40}", commit), source


def test_the_bench_plants_in_enough_placements(credentials: list[dict]) -> None:
    sys.path.insert(0, str(BENCH))
    try:
        import secrets_bench
    finally:
        sys.path.remove(str(BENCH))
    pairs = secrets_bench.plan(credentials)
    assert {item["id"] for item, _ in pairs} == {item["id"] for item in credentials}
    # Placements that land in a file the prompt includes (JSON config, in CODE/, is not, today).
    assert len({name for _, name in pairs} - {"JSON config"}) >= 15
    assert pairs == secrets_bench.plan(credentials)  # seeded: the same plan every run


def test_a_digest_like_credential_is_not_planted_where_only_a_checksum_could_be(
    credentials: list[dict], benign: list[dict]
) -> None:
    # Alone (not inside a URL) in a headerless CSV's first row, a 40-hex key or a UUID key is what the benign
    # commit SHAs and UUIDs planted in that very cell are (they must survive): the bench plants it elsewhere, as
    # many times.
    sys.path.insert(0, str(BENCH))
    try:
        import secrets_bench
    finally:
        sys.path.remove(str(BENCH))
    pairs = secrets_bench.plan(credentials)
    digest_like = [
        item for item in credentials if not item.get("wrap") and secrets_bench.DIGEST_LIKE.fullmatch(item["value"])
    ]
    assert len(digest_like) >= 10
    assert any(secrets_bench.DIGEST_LIKE.fullmatch(item["value"]) for item in benign)
    assert secrets_bench.CSV_HEADERLESS in secrets_bench.BENIGN_PLACEMENTS
    for item in digest_like:
        names = [name for planted, name in pairs if planted is item]
        assert secrets_bench.CSV_HEADERLESS not in names, item["id"]
        assert len(names) == len(set(names)) == secrets_bench.PER_CREDENTIAL[item["category"]], item["id"]
    assert any(name == secrets_bench.CSV_HEADERLESS for _, name in pairs)  # the other credentials still are

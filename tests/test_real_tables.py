"""Liferaft's table inspection over real CSV/TSV files from other projects (tests/data/real/tables/, their origin in
SOURCES): no crash, and the delimiter, encoding family and text-or-not each file's label expects."""

from __future__ import annotations

import json
from pathlib import Path

from liferaft.core.inspect.delimited import inspect_delimited

CORPUS = Path(__file__).parent / "data" / "real" / "tables"
#: Files read as labelled (text or not, delimiter, encoding family): 17 of 18 when the corpus was gathered, the
#: same before and after issue 19 items 1-3 (messytables-211.csv, Mac Roman mojibake, is guessed cp1250); 20 of 21
#: with three csvkit files added for items 4, 5 and 7 (csvkit-testfixed.txt, fixed-width with one stray comma, was
#: read as comma-separated until a delimiter most lines do not agree on counted as none). A change that reads fewer
#: fails here; one that reads more should raise it.
FLOOR = 20

_FAMILIES = {"utf-8": "utf-8", "ascii": "utf-8", "latin-1": "western", "cp1252": "western", "iso8859-15": "western",
             "mac-roman": "western", "utf-16-le": "utf-16", "utf-16-be": "utf-16", "big5": "cjk", "big5hkscs": "cjk",
             "cp950": "cjk", "gb18030": "cjk", "gb2312": "cjk", "gbk": "cjk"}


def labels() -> dict[str, dict[str, object]]:
    data: dict[str, dict[str, object]] = json.loads((CORPUS / "labels.json").read_text(encoding="utf-8"))
    data.pop("_about", None)
    return data


def reading(path: Path) -> dict[str, object]:
    """What Liferaft makes of ``path``, in the labels' terms."""
    preview = inspect_delimited(path)
    if preview.error is not None:
        return {"text": False, "error": preview.error}
    facts = dict(preview.facts)
    delimiter = facts.get("delimiter", "none")
    if any("no delimiter found" in note for note in preview.notes):
        delimiter = "none"
    encoding = facts.get("encoding", "").split(" (")[0]
    return {"text": True, "delimiter": delimiter, "encoding": _FAMILIES.get(encoding, encoding)}


def score() -> tuple[int, int, list[str]]:
    """(files read as labelled, files, a line per miss)."""
    found = 0
    misses: list[str] = []
    expected = labels()
    for name, label in sorted(expected.items()):
        got = reading(CORPUS / name)
        wrong = [f"{key} {got.get(key)!r} (expected {label[key]!r})" for key in ("text", "delimiter", "encoding")
                 if got.get(key) != label[key] and (key == "text" or label["text"])]
        if wrong:
            misses.append(f"{name}: " + ", ".join(wrong))
        else:
            found += 1
    return found, len(expected), misses


def test_every_labelled_file_is_there_and_has_its_source() -> None:
    sources = (CORPUS / "SOURCES").read_text(encoding="utf-8")
    names = {path.name for path in CORPUS.iterdir()} - {"SOURCES", "labels.json"}
    assert names == set(labels())
    for name in names:
        assert f"{name}\n  repository: " in sources, name


def test_the_corpus_is_read_as_labelled() -> None:
    found, total, misses = score()
    assert found >= FLOOR, f"{found}/{total} read as labelled (floor {FLOOR}); misses:\n" + "\n".join(misses)
    # Whatever the encoding guess, every file is text and split by its own delimiter.
    for name, label in labels().items():
        got = reading(CORPUS / name)
        assert (got["text"], got.get("delimiter")) == (label["text"], label["delimiter"]), (name, got)


def test_checking_the_corpus_never_blocks_a_text_file() -> None:
    from liferaft.core import preflight

    for name, label in labels().items():
        check = preflight.check_file(CORPUS / name, name)
        assert (check.verdict == preflight.BLOCK) == (not label["text"]), (name, check.problems)


if __name__ == "__main__":
    found, total, misses = score()
    print(f"real tables: {found}/{total} read as labelled")
    for miss in misses:
        print("  " + miss)

"""Liferaft's table inspection over real CSV/TSV files from other projects (tests/data/real/tables/, their origin in
SOURCES): no crash, and the delimiter, encoding family and text-or-not each file's label expects, and the lines above
the header where a label counts them."""

from __future__ import annotations

import json
import re
from pathlib import Path

from liferaft.core.inspect.delimited import inspect_delimited

CORPUS = Path(__file__).parent / "data" / "real" / "tables"
#: Files read as labelled (text or not, delimiter, encoding family): 17 of 18 when the corpus was gathered, the
#: same before and after issue 19 items 1-3 (messytables-211.csv, Mac Roman mojibake, is guessed cp1250); 20 of 21
#: with three csvkit files added for items 4, 5 and 7 (csvkit-testfixed.txt, fixed-width with one stray comma, was
#: read as comma-separated until a delimiter most lines do not agree on counted as none); 28 of 30 with nine files
#: added for issue 19's "real files" (title lines, space-separated, quoted with '). The two misses:
#: messytables-211.csv (encoding cp1250 for Mac Roman, as before) and readr-massey-rating.txt (columns aligned by
#: runs of spaces, labelled space-separated; its Team column holds names with a space, Ohio St, so the lines split
#: at spaces do not agree on one number of fields: it was read as one column with "no delimiter found", and is now
#: said to hold 13 columns in fixed positions, for read_fwf, with no delimiter). A change that reads fewer fails
#: here; one that reads more should raise it.
FLOOR = 28
#: Of them, files whose delimiter is read as labelled: 29 of 30 (readr-massey-rating.txt, above), so that a better
#: encoding guess cannot hide a delimiter read wrong.
DELIMITER_FLOOR = 29
#: Files with a title_lines label whose lines above the header Liferaft reads as labelled: 21 of 26 when labelled
#: (issue 19), 25 of 26 since (a later line is the header when it names at least twice as many columns as an
#: earlier candidate; lines above a header may hold up to half as many cells as it, or be a # comment; a first
#: line of several cells gives way only to a header of names). Read right: the 17 files with the header on line
#: 1, messytables-mixedGLB.csv (3), messytables-excel_pasting.csv (3), messytables-weird_head_padding.csv (11),
#: csvkit-test_skip_lines.csv (3 blank lines, skipped as such), the two frictionless-gla reports (6: a title, four
#: "key,value" lines and a delimiter-only line), messytables-begrotingsanalyse-2011.csv (3) and
#: frictionless-invalid_header_index_1.csv (1, a "# Hey, this CSV..." comment). The miss:
#: - csv-guillotine-sample.csv (3 lines of free text, the second holding a comma): only three data rows, fewer
#:   than a table needs to be told under the titles, so the first line is the header.
TITLE_FLOOR = 25
#: Files labelled with the header on line 1 (title_lines 0) where Liferaft reports lines above the header: none of 17.
FALSE_ALARMS = 0

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
    delimiter = facts.get("delimiter", "none").split(" (")[0]  # "none (fixed width)": no delimiter
    if any("no delimiter found" in note for note in preview.notes):
        delimiter = "none"
    encoding = facts.get("encoding", "").split(" (")[0]
    return {"text": True, "delimiter": delimiter, "encoding": _FAMILIES.get(encoding, encoding),
            "title_lines": _lines_above_header(preview.notes)}


_HEADER_LINE = re.compile(r"line ([\d,]+) is the header")


def _lines_above_header(notes: tuple[str, ...]) -> int:
    """The lines above the header as Liferaft's notes tell them: title lines ("3 title lines above the header
    (…): line 4 is the header") and blank or delimiter-only lines skipped ("skipped the first 3 lines (…); line 4
    is the header"); the later header line when both are said, 0 when neither."""
    lines = [int(found.group(1).replace(",", "")) for note in notes if (found := _HEADER_LINE.search(note))]
    return max(lines) - 1 if lines else 0


def score(keys: tuple[str, ...] = ("text", "delimiter", "encoding")) -> tuple[int, int, list[str]]:
    """(files read as labelled in ``keys``, files, a line per miss)."""
    found = 0
    misses: list[str] = []
    expected = labels()
    for name, label in sorted(expected.items()):
        got = reading(CORPUS / name)
        wrong = [f"{key} {got.get(key)!r} (expected {label[key]!r})" for key in keys
                 if got.get(key) != label[key] and (key == "text" or label["text"])]
        if wrong:
            misses.append(f"{name}: " + ", ".join(wrong))
        else:
            found += 1
    return found, len(expected), misses


def title_score() -> tuple[int, int, int, int, list[str]]:
    """(files with a title_lines label whose lines above the header are read as labelled, such files, files
    labelled 0 where lines above the header are reported (false alarms), files labelled 0, a line per miss)."""
    found = alarms = zeros = 0
    misses: list[str] = []
    expected = {name: label for name, label in labels().items() if "title_lines" in label}
    for name, label in sorted(expected.items()):
        got = reading(CORPUS / name).get("title_lines")
        zeros += label["title_lines"] == 0
        if got == label["title_lines"]:
            found += 1
            continue
        alarms += label["title_lines"] == 0
        misses.append(f"{name}: {got!r} lines above the header (expected {label['title_lines']!r})")
    return found, len(expected), alarms, zeros, misses


def test_every_labelled_file_is_there_and_has_its_source() -> None:
    sources = (CORPUS / "SOURCES").read_text(encoding="utf-8")
    names = {path.name for path in CORPUS.iterdir()} - {"SOURCES", "labels.json"}
    assert names == set(labels())
    for name in names:
        assert f"{name}\n  repository: " in sources, name


def test_the_corpus_is_read_as_labelled() -> None:
    found, total, misses = score()
    assert found >= FLOOR, f"{found}/{total} read as labelled (floor {FLOOR}); misses:\n" + "\n".join(misses)
    found, total, misses = score(("text", "delimiter"))
    assert found >= DELIMITER_FLOOR, \
        f"{found}/{total} delimiters read as labelled (floor {DELIMITER_FLOOR}); misses:\n" + "\n".join(misses)
    # Whatever the encoding or delimiter guess, every text file is read as text.
    for name, label in labels().items():
        assert reading(CORPUS / name)["text"] == label["text"], name


def test_the_lines_above_the_header_are_read_as_labelled() -> None:
    found, total, alarms, zeros, misses = title_score()
    report = "\n".join(misses)
    assert found >= TITLE_FLOOR, \
        f"{found}/{total} title lines read as labelled (floor {TITLE_FLOOR}); misses:\n{report}"
    assert alarms <= FALSE_ALARMS, f"{alarms}/{zeros} files with the header on line 1 get title lines:\n{report}"


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
    found, total, alarms, zeros, misses = title_score()
    print(f"title lines: {found}/{total} read as labelled, {alarms}/{zeros} false alarms")
    for miss in misses:
        print("  " + miss)


def test_a_table_lined_up_in_fixed_positions_is_said_to_be_one() -> None:
    """readr's massey-rating.txt: 13 columns lined up by runs of spaces, a team name holding a space (Ohio St).
    No delimiter splits it; what was found is said (fixed positions, read_fwf), not "no delimiter found"."""
    preview = inspect_delimited(CORPUS / "readr-massey-rating.txt")
    assert dict(preview.facts)["delimiter"] == "none (fixed width)"
    assert any("columns in fixed positions (13 columns" in note and "read_fwf" in note for note in preview.notes)
    assert not any("no delimiter found" in note for note in preview.notes)


def test_prose_and_ragged_text_are_not_taken_for_fixed_width_columns() -> None:
    from liferaft.core.inspect.delimited import aligned_columns

    prose = ("The sandbox is temporary: after about thirteen idle hours it is gone, and with it\n"
             "the uploaded files, the variables and every link to a file it made. The chat\n"
             "survives; the work does not. Recovering means uploading the right files again\n"
             "and sending a precise prompt in a fresh chat, which people do badly under\n"
             "stress, late at night, with a deadline near and the numbers half remembered.\n"
             "A restart note written while things still work is the cheapest insurance.\n")
    assert aligned_columns(prose) is None
    assert aligned_columns("name value\n" + "".join(f"x{i} {i}\n" for i in range(10))) is None  # ragged, 2 columns
    teams = ("Ohio St", "Oregon", "Alabama", "Florida St", "TCU", "Baylor", "Michigan St", "Georgia Tech")
    table = "".join(f"{i:>4} {team:<13} {i * 1.5:>8.1f}\n" for i, team in enumerate(teams))
    assert aligned_columns(table) == 3


def test_a_table_quoted_with_single_quotes_on_some_rows_only_is_read_with_them() -> None:
    """zorba's csv-quote-char-01.csv: two bare rows, then cells quoted with ' (a doubled '' inside, a line break
    inside), then a bare row. Read with ", one record broke in two and its row was reported ragged; read with ', the
    rows agree with the header, and the unusual quote is said."""
    preview = inspect_delimited(CORPUS / "zorba-csv-quote-char-01.csv")
    assert dict(preview.facts)["rows"] == "4" and dict(preview.facts)["columns"] == "3"
    assert preview.rows[1] == ("quoted", "embedded ' quote", "embedded\nnewline")
    assert not any("ragged" in note for note in preview.notes)
    assert any(note.startswith("quoted with '") for note in preview.notes)

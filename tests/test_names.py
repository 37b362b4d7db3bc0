"""Names cut in the middle to fit a column (issue 16): the end that tells siblings apart survives."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from liferaft.core.names import ELLIPSIS, cell_width, cut_middle, split_name


def test_a_name_that_fits_is_left_alone() -> None:
    assert cut_middle("final2.csv", 10) == "final2.csv"
    assert cut_middle("final2.csv", 40) == "final2.csv"


def test_split_parts_keep_their_part_number_and_extension() -> None:
    parts = [f"transactions_2025.part{n}.csv" for n in range(1, 5)]
    cut = [cut_middle(name, 16) for name in parts]
    assert cut == [f"trans….part{n}.csv" for n in range(1, 5)]
    assert len(set(cut)) == 4  # the four rows can be told apart
    # Narrower still, the part number outlives the extension.
    assert cut_middle("transactions_2025.part3.csv", 12) == "trans….part3"
    assert cut_middle("transactions_2025.part03.csv", 9) == "t….part03"


def test_a_path_keeps_its_file_name_before_its_folders() -> None:
    assert cut_middle("prepared/transactions_2025.part1.csv", 34) == "prepa…/transactions_2025.part1.csv"
    assert cut_middle("prepared/transactions_2025.part1.csv", 29) == "…/transactions_2025.part1.csv"
    assert cut_middle("prepared/transactions_2025.part1.csv", 16) == "trans….part1.csv"


@pytest.mark.parametrize(("name", "width", "expected"), [
    ("survey_responses.csv", 16, "survey_r…ses.csv"),  # nothing distinguishing: both ends show
    ("revenue_by_region.png", 12, "revenue….png"),
    ("monthly_trend (1).png", 16, "monthly… (1).png"),  # a browser's copy number
    ("customers_eu.utf8.csv", 16, "custom….utf8.csv"),  # what `liferaft prepare` adds
    ("sales_2025_cleaned_v3.csv", 14, "sales_…_v3.csv"),
    ("budget_2026.xlsx", 12, "budget….xlsx"),  # a year goes before the extension does
    ("README", 4, "REA…"),
])
def test_what_is_kept(name: str, width: int, expected: str) -> None:
    assert cut_middle(name, width) == expected


def test_wide_characters_count_two_cells() -> None:
    name = "売上データ_2025年度版.csv"
    assert cell_width(name) == 25
    cut = cut_middle(name, 16)
    assert cut.endswith(".csv") and ELLIPSIS in cut and cell_width(cut) <= 16
    assert cut_middle("データ.csv", 8) == "デ….csv"  # a wide character that would straddle the edge is left out


def test_combining_marks_stay_with_their_letter() -> None:
    name = "cafe\u0301_re\u0301sume\u0301_final_versio\u0301n.csv"
    cut = cut_middle(name, 16)
    assert cell_width(cut) <= 16
    assert f"{ELLIPSIS}\u0301" not in cut  # never a mark on the ellipsis


def test_split_name() -> None:
    assert split_name("transactions_2025.part1.csv") == ("transactions_2025", ".part1.csv")
    assert split_name("chart.png") == ("chart", ".png")
    assert split_name(".bashrc") == (".bashrc", "")
    assert split_name("notes") == ("notes", "")


@given(st.text(min_size=0, max_size=60), st.integers(min_value=0, max_value=70))
def test_never_wider_than_asked(name: str, width: int) -> None:
    cut = cut_middle(name, width)
    assert cell_width(cut) <= max(width, 0)
    if cell_width(name) <= width:
        assert cut == name
    elif width >= 1:
        assert ELLIPSIS in cut

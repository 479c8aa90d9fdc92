"""The basic number formats of ``lawstats.numbers`` as Chinese spreadsheets and reports write them.

(Property tests and the wider zoo of formats belong to the importer's tests; these are the basics.)
"""

from __future__ import annotations

import pytest

from lawstats.numbers import NumberError, ParsedNumber, header_unit, is_missing, normalise_text, parse_number
from lawstats.registry import AREA, COUNT, RATE


@pytest.mark.parametrize("text, kind, expected", [
    ("25218", COUNT, 25218),
    ("25,218", COUNT, 25218),
    ("25，218", COUNT, 25218),  # full-width comma
    ("２５２１８", COUNT, 25218),  # full-width digits
    (" 7017 ", COUNT, 7017),
    ("162人", COUNT, 162),  # unit inside the cell
    ("2.5万", COUNT, 25000),
    ("0.64%", RATE, 0.64),
    ("100％", RATE, 100),  # full-width percent sign
    ("95.06", RATE, 95.06),
    ("43695", AREA, 43695),
    ("58670.24亩", AREA, 58670.24),
    ("100公顷", AREA, 1500),  # 1 公顷 = 15 亩
    ("未发现", COUNT, 0),  # zero written in words
    (12, COUNT, 12),
    (1.5, AREA, 1.5),
])
def test_exact_numbers(text, kind, expected):
    assert parse_number(text, kind) == ParsedNumber(pytest.approx(expected), approximate=False)


@pytest.mark.parametrize("text, expected", [("约200", 200), ("200余", 200), ("近3000", 3000), ("100多", 100)])
def test_approximate_numbers_keep_the_number_and_say_so(text, expected):
    parsed = parse_number(text, COUNT)
    assert parsed.value == expected and parsed.approximate


@pytest.mark.parametrize("text", ["", "-", "—", "——", " ", None, float("nan"), "暂无"])
def test_missing_is_none_never_zero(text):
    assert is_missing(text)
    assert parse_number(text, COUNT) is None


@pytest.mark.parametrize("text, kind, problem", [
    ("abc", COUNT, "not_a_number"),
    ("12.5%", COUNT, "percent_not_allowed"),
    ("12.5", COUNT, "not_integer"),
    ("-5", COUNT, "negative"),
    ("1,2,3,4", COUNT, "not_a_number"),
    (True, COUNT, "not_a_number"),
    (float("inf"), AREA, "not_a_number"),
])
def test_wrong_numbers_name_the_problem(text, kind, problem):
    with pytest.raises(NumberError) as error:
        parse_number(text, kind)
    assert error.value.kind == problem


def test_header_unit_splits_full_and_half_width_brackets():
    assert header_unit("耕地面积（公顷）") == ("耕地面积", "公顷")
    assert header_unit("耕地面积(亩)") == ("耕地面积", "亩")
    assert header_unit("户籍人口") == ("户籍人口", None)


def test_normalise_text_folds_full_width_and_spaces():
    assert normalise_text("西堡镇\u3000 ") == "西堡镇"
    assert normalise_text("ＡＢＣ１２３") == "ABC123"

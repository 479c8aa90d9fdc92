"""What the upload preview shows (issue 9, item 22): indicator changes as text in each indicator's decimals with
a dash where a value or change is missing (never ``None``), a rate's change in percentage points, the problem
table without the programs' ``kind`` code, the encoding box naming the detected encoding, help text that names
the buttons the upload widget really has, and the report's list text (``汉、藏等``) as written."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import streamlit

from lawstats import summary, uploads
from lawstats.i18n import t
from tests.test_data_page import (ANALYST, BAD_FILE, PASSWORD, _frame_runs_every_time, analyst,  # noqa: F401
                                  frames, log_in, open_data_page, selectbox, users_file)

# 西堡镇 2024 with a new 户籍人口 (rates move by fractions of a point), and 2026, a year the database lacks
CHANGES = "地区,年份,户籍人口,常住人口\n西堡镇,2024,25300,23971\n西堡镇,2026,,23000\n".encode("utf-8")


def test_indicator_changes_are_text_in_their_decimals(fresh_store):
    upload = uploads.inspect_file(fresh_store, "人口.csv", CHANGES)
    table = uploads.indicator_changes_table(upload, "zh")
    old, new, change = (t(k, "zh") for k in ("upload.col_old", "upload.col_new", "upload.col_change"))
    assert len(table)
    for column in (old, new, change):
        cells = table[column].tolist()
        assert all(isinstance(c, str) and c not in ("None", "nan", "NaN", "<NA>") for c in cells), cells
    rows = table.set_index([t("common.indicator", "zh"), t("common.year", "zh")])
    resident = rows.loc[("常住人口比例", 2024)]
    assert re.fullmatch(r"\d+\.\d{2}", resident[old]) and re.fullmatch(r"\d+\.\d{2}", resident[new])
    assert resident[change].startswith("−") and resident[change].endswith("个百分点")
    assert rows.loc[("户籍人口", 2024)][new] == "25,300" and rows.loc[("户籍人口", 2024)][change] == "+82"
    new_year = table[table[t("common.year", "zh")] == 2026]
    assert (new_year[old] == t("common.missing", "zh")).all()  # no earlier value: a dash, not None
    assert (new_year[change] == t("common.missing", "zh")).all()


def test_the_report_list_is_shown_as_written():
    row = pd.Series({"ethnic_groups": ["汉", "藏", "等"]})
    assert summary.minority_notes(row, "zh") == [t("pages.ethnic_groups", "zh", groups="汉、藏等")]


def test_the_uploader_help_names_only_buttons_the_widget_has():
    bundle = "".join(p.read_text(errors="ignore")
                     for p in (Path(streamlit.__file__).parent / "static" / "static" / "js").glob("*.js"))
    named = re.findall(r"“([A-Za-z][A-Za-z ]+)”", t("data.uploader_note", "zh", mb=200))
    named += re.findall(r"“([A-Za-z][A-Za-z ]+)”", t("data.uploader_note", "en", mb=200))
    assert named
    for text in named:
        pattern = re.escape(text).replace("file", r"(file|\$\{[A-Za-z]+\([a-z]\)\})")
        assert re.search(pattern, bundle), f"the upload widget has no “{text}”"


def test_problem_table_without_kind_and_encoding_box_names_the_encoding(app_db, analyst):  # noqa: F811
    at = open_data_page()
    log_in(at)
    at.file_uploader[0].set_value(("坏文件.csv", BAD_FILE, "text/csv")).run()
    assert not at.exception, at.exception
    problems = [f for f in frames(at) if t("problem.col_problem", "zh") in f.columns]
    assert problems and "kind" not in problems[0].columns
    assert not any("not_a_number" in str(v) for v in problems[0].to_numpy().ravel())
    box = selectbox(at, "data.encoding")
    shown = box.format_func(box.options[0]) if callable(getattr(box, "format_func", None)) else box.options[0]
    assert "?" not in shown and "gb18030" in shown.lower(), shown

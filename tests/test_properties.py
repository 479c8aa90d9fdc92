"""Property-based tests (hypothesis) of the reader, the number parser and the whole upload path.

Any input gives either valid rows or a structured error (``LawstatsError``), never another exception, and a
refused upload never writes anything. The vectorised fast paths give exactly the answers of the one-cell
definitions they speed up.
"""

from __future__ import annotations

import csv
import io
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from lawstats import importer, numbers, reader, storage, uploads
from lawstats.errors import LawstatsError
from lawstats.numbers import NumberError, parse_number, parse_numbers
from lawstats.registry import AREA, COUNT, RATE

# Pieces Chinese spreadsheets put in number cells, so that generated texts are often nearly right.
NUMBER_PIECES = ["0", "1", "7", "12", "25218", "1,234", "1，234", "１２３", "3.5", ".5", "5.", "%", "％", "万", "亿",
                 "约", "余", "多", "左右", "近", "+", "-", "—", "−", "人", "户", "亩", "公顷", " ", "\u3000", "e5",
                 "未发现", "无", "N/A", "暂无", ",", "，", "(", ")", "99999999999999999", "0.0000001", "nan", "inf"]
number_texts = st.one_of(st.lists(st.sampled_from(NUMBER_PIECES), max_size=4).map("".join), st.text(max_size=8))
kinds = st.sampled_from([COUNT, AREA, RATE])
factors = st.sampled_from([1.0, 15.0, 10_000.0])
fast = settings(max_examples=300, deadline=None)


def _one(text, kind, factor):
    try:
        parsed = parse_number(text, kind, factor)
    except NumberError as e:
        return math.nan, False, e.kind
    return (math.nan, False, None) if parsed is None else (parsed.value, parsed.approximate, None)


@fast
@given(st.lists(number_texts, min_size=1, max_size=20), kinds, factors)
def test_vectorised_numbers_agree_with_the_one_cell_parser(texts, kind, factor):
    column = parse_numbers(pd.Series(texts, dtype="str"), kind, factor)
    for i, text in enumerate(texts):
        value, approximate, error = _one(text, kind, factor)
        assert column.errors[i] == error, text
        assert bool(column.approximate[i]) == approximate, text
        if math.isnan(value):
            assert math.isnan(column.values[i]), text
        else:
            assert column.values[i] == pytest.approx(value, rel=1e-12), text


@fast
@given(number_texts, kinds)
def test_a_number_is_a_value_or_a_named_problem(text, kind):
    try:
        parsed = parse_number(text, kind)
    except NumberError as e:
        assert e.kind in {"not_a_number", "percent_not_allowed", "not_integer", "negative", "too_large"}
        return
    if parsed is not None:
        assert math.isfinite(parsed.value) and 0 <= parsed.value <= numbers.MAX_MAGNITUDE
        if kind == COUNT:
            assert parsed.value == int(parsed.value)


@fast
@given(st.lists(st.text(max_size=12), min_size=1, max_size=20))
def test_vectorised_normalising_agrees_with_the_one_cell_version(texts):
    series = pd.Series(texts, dtype="str")
    assert numbers.normalise_texts(series).to_pylist() == [numbers.normalise_text(t) for t in texts]
    assert numbers.normalise_texts(series, lower=True).to_pylist() == [numbers.normalise_text(t).lower() for t in texts]
    assert numbers.missing_texts(series).tolist() == [numbers.is_missing(t) for t in texts]
    stems = importer.name_stems(numbers.normalise_texts(series)).to_pylist()
    assert stems == [importer.name_stem(t) for t in texts]
    assert importer.display_names(series) == [importer.display_name(t) for t in texts]


# ---------------------------------------------------------------------------------------------------------
# The reader: bytes in, texts or a refusal out


@fast
@given(st.binary(max_size=400), st.sampled_from(["a.csv", "a.txt", "a.xlsx", "a.tsv", "a"]))
def test_any_bytes_give_a_table_or_a_refusal(data, name):
    try:
        table = reader.read_file(name, data, is_header=importer.header_key)
    except LawstatsError:
        return
    assert isinstance(table.frame, pd.DataFrame) and table.first_data_row >= 2
    assert all(isinstance(v, str) for v in table.frame.to_numpy().ravel())


REGION_CELLS = ["西堡镇", "西堡", " 西 堡 镇 ", "合成村甲", "不存在村", "", "合计", "示例：西堡镇", "<script>x</script>",
                "630122100000", "=1+1", "—"]
YEAR_CELLS = ["2024", "2023年", "２０２２", "1800", "", "20x4", "2024.0", "3000"]
HEADERS = ["地区", "年份", "户籍户数", "户籍人口", "常住人口", "少数民族人口", "少数民族占比", "耕地(公顷)", "备注", "",
           "户籍人口（公顷）", "学习项目", "类型"]
ENCODINGS = ["utf-8", "utf-8-sig", "gb18030", "utf-16"]


CLEAN_REGIONS = ["西堡镇", "西堡", "合成村甲", "合成村甲村"]
CLEAN_YEARS = ["2024", "2023年", "２０２２", "2021"]
CLEAN_NUMBERS = ["0", "12", "1,234", "约200", "2.5万", "", "—", "１２３"]


@st.composite
def csv_files(draw):
    """CSV files near what analysts send: half of them clean (every cell readable), half with anything."""
    clean = draw(st.booleans())
    header = ["地区", "年份"] + draw(st.lists(st.sampled_from(HEADERS[2:7] if clean else HEADERS[2:]), min_size=1,
                                             max_size=4, unique=clean))
    numbers_ = st.sampled_from(CLEAN_NUMBERS) if clean else number_texts
    rows = draw(st.lists(st.tuples(st.sampled_from(CLEAN_REGIONS if clean else REGION_CELLS),
                                   st.sampled_from(CLEAN_YEARS if clean else YEAR_CELLS),
                                   st.lists(numbers_, min_size=len(header) - 2, max_size=len(header) - 2)),
                         min_size=0 if not clean else 1, max_size=6))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for region, year, values in rows:
        writer.writerow([region, year, *values])
    text = buffer.getvalue()
    if not clean and draw(st.booleans()) and len(text) > 2:  # sometimes cut or garble the file
        cut = draw(st.integers(0, len(text)))
        text = text[:cut] + draw(st.sampled_from(["", ",", "\"", "\n\n", ",,,,,\n"]))
    encoding = draw(st.sampled_from(ENCODINGS))
    try:
        return text.encode(encoding)
    except UnicodeEncodeError:
        return text.encode("utf-8")


@pytest.fixture(scope="module")
def store(tmp_path_factory, seeded_template):
    from lawstats import seed
    from tests.conftest import copy_seeded

    store = seed.open_store(copy_seeded(seeded_template, tmp_path_factory.mktemp("properties") / "p.duckdb"))
    uploads.commit_upload(store, uploads.inspect_file(store, "r.csv", "名称,级别,上级\n合成村甲,村,西堡镇\n".encode()),
                          user_name="测试")
    yield store
    store.close()


def _state(store) -> tuple:
    counts = tuple(storage.count_rows(store, t, current=False) for t in storage.TABLES)
    return storage.data_version(store), counts, len(storage.regions(store))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(csv_files(), st.booleans())
def test_any_upload_is_valid_rows_or_a_structured_error_and_never_a_partial_write(store, data, commit):
    before = _state(store)
    try:
        upload = uploads.inspect_file(store, "p.csv", data)
    except LawstatsError as error:
        assert error.message("zh") and error.message("en")
        if error.details is not None:
            assert {"row", "column", "value", "kind"} <= set(error.details.columns)
            table = uploads.problems_table(error, "en")
            assert len(table) == len(error.details)
        assert _state(store) == before
        return
    assert _state(store) == before  # inspecting (and previewing) writes nothing
    if not upload.ready:
        assert upload.unknown_regions
        return
    if commit:
        batch_id = uploads.commit_upload(store, upload, user_name="hypothesis")
        after = _state(store)
        written = sum(a - b for a, b in zip(after[1], before[1]))
        assert after[0] == batch_id == before[0] + 1
        assert written == sum(len(f) for f in upload.prepared.batch.rows.values())


@settings(max_examples=25, deadline=None)
@given(st.lists(st.lists(st.one_of(st.none(), st.integers(-10**6, 10**16), st.floats(allow_nan=True),
                                   st.text(max_size=6), st.booleans(), st.dates()), min_size=1, max_size=5),
                min_size=1, max_size=5))
def test_any_workbook_gives_a_table_or_a_refusal(cells):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["地区", "年份", "户籍人口"])
    for row in cells:
        try:
            sheet.append(row)
        except Exception:  # openpyxl refuses some texts (control characters); such a file cannot exist
            assume(False)
    buffer = io.BytesIO()
    workbook.save(buffer)
    try:
        table = reader.read_file("a.xlsx", buffer.getvalue(), is_header=importer.header_key)
    except LawstatsError:
        return
    assert list(table.frame.columns)[:3] == ["地区", "年份", "户籍人口"]
    assert all(isinstance(v, str) for v in np.asarray(table.frame).ravel())

"""Caches are keyed by the data version: a commit shows on the next run of the page, an undo takes it back,
for the region itself and for the regions above it (their rollups)."""

from __future__ import annotations

import functools

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from lawstats import seed, storage, summary
from tests.conftest import ROOT
from tests.test_partial_data import _numbers, plotly_specs


def registered_persons(at) -> str:
    return next(m.value for m in at.metric if m.label.startswith("户籍人口"))


def correction(region_id: int, persons: int) -> storage.NewBatch:
    rows = pd.DataFrame([{"region_id": region_id, "year": 2024, "registered_persons": persons,
                          "source": "测试更正", "section": None, "approx": []}])
    return storage.NewBatch(file_name="correction.csv", rows={"population": rows})


@pytest.fixture
def store(app_db):
    s = seed.open_store(app_db)
    yield s
    s.close()


def overview(query: dict | None = None) -> AppTest:
    """One view of the overview: the frame and the page, as a browser's rerun runs them. (A second
    ``AppTest.run()`` of the same instance would run the page script alone, without the frame.) The
    Streamlit caches live in the process, so every view after the first is served warm."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at.run()


def test_commit_shows_on_the_next_run_and_undo_takes_it_back(store, monkeypatch):
    computed = []
    original = summary.indicator_table
    monkeypatch.setattr(summary, "indicator_table", lambda *a, **k: computed.append(a[1:3]) or original(*a, **k))
    assert registered_persons(overview()).startswith("25,218")
    assert registered_persons(overview()).startswith("25,218")
    assert len(computed) == 1  # the second view came from the cache
    xibao = storage.find_region_id(store, "西堡镇")
    batch = storage.commit_batch(store, correction(xibao, 26_000))
    assert registered_persons(overview()).startswith("26,000")
    storage.undo_batch(store, batch)
    assert registered_persons(overview()).startswith("25,218")
    assert len(computed) == 3  # each new data version computed once


def test_a_commit_reaches_the_rollups_above_the_region(store):
    county = str(storage.find_region_id(store, "湟中区"))
    at = overview({"region": county})
    assert at.query_params["region"] in (county, [county])
    assert at.session_state["_lawstats_context"].region_name == "湟中区"
    assert registered_persons(at).startswith("25,218")  # the county's sum of its one township
    batch = storage.commit_batch(store, correction(storage.find_region_id(store, "西堡镇"), 25_500))
    assert registered_persons(overview({"region": county})).startswith("25,500")
    storage.undo_batch(store, batch)
    assert registered_persons(overview({"region": county})).startswith("25,218")


def test_an_unknown_region_in_the_link_falls_back_with_a_notice(store):
    at = overview({"region": "99999"})
    assert not at.exception
    assert registered_persons(at).startswith("25,218")
    assert any("99999" in w.value for w in at.warning)


def test_a_link_may_name_the_region_by_code_or_name(store):
    at = overview({"region": "湟中区"})
    assert any(s.value == storage.find_region_id(store, "湟中区") for s in at.sidebar.selectbox)
    assert not at.warning


def test_clearing_the_cache_closes_the_store_and_frees_the_file(app_db, monkeypatch):
    """The app's one Store lives in ``st.cache_resource``; clearing that cache must close it at once. An unclosed
    Store keeps DuckDB's file lock until garbage collection, and meanwhile another process (the CLI, a second
    server) is told the database is in use: a browser test failed in CI this way."""
    import subprocess
    import sys

    import duckdb
    import streamlit as st

    from lawstats import ui

    monkeypatch.setenv("LAWSTATS_DB", str(app_db))
    overview()  # the app opens the store and keeps it in the cache
    cached = ui.get_store()
    assert cached.query_rows("SELECT 1") == [(1,)]
    st.cache_resource.clear()
    with pytest.raises(duckdb.ConnectionException):
        cached.query_rows("SELECT 1")
    opened = subprocess.run([sys.executable, "-c", f"import duckdb; duckdb.connect({str(app_db)!r}).close()"],
                            capture_output=True, text=True, timeout=60)
    assert opened.returncode == 0, opened.stderr


def test_a_figure_is_built_once_per_data_and_language(store, monkeypatch):
    """Building plotly figures was most of a warm rerun: a warm view builds none, a commit that changes a
    chart's numbers builds that chart again (with the new numbers), and each language has its own figure."""
    from lawstats import charts, ui

    built = []
    original = charts.population_structure

    @functools.wraps(original)  # ui.figure finds a builder by module and name: the patched one
    def counted(data, lang, **options):
        built.append(lang)
        return original(data, lang, **options)

    monkeypatch.setattr(charts, "population_structure", counted)
    ui._built_figure.clear()
    overview()
    assert built == ["zh"]
    overview()
    assert built == ["zh"]  # warm: the same figure
    overview({"lang": "en"})
    assert built == ["zh", "en"]
    xibao = storage.find_region_id(store, "西堡镇")
    storage.commit_batch(store, correction(xibao, 26_000))
    at = overview()
    assert built == ["zh", "en", "zh"]
    spec = next(spec for spec in plotly_specs(at) if spec["layout"]["title"]["text"].startswith("户籍与常住"))
    drawn = {v for trace in spec["data"] for v in _numbers(trace["y"])}
    assert 26_000 in drawn and 25_218 not in drawn


BUILT: list[int] = []


def _counting_builder(frame: pd.DataFrame, lang: str) -> dict:
    BUILT.append(len(frame))
    return {"total": float(frame["value"].sum()), "lang": lang}


def test_ui_figure_keys_on_content_and_draws_a_frame_too_long_to_hash_whole_afresh():
    from lawstats import ui

    ui._built_figure.clear()
    BUILT.clear()
    short = pd.DataFrame({"value": [1.0, 2.0, 3.0]})
    assert ui.figure(_counting_builder, short, "zh") is ui.figure(_counting_builder, short.copy(), "zh")
    assert ui.figure(_counting_builder, short.assign(value=[1.0, 2.0, 4.0]), "zh")["total"] == 7.0
    assert ui.figure(_counting_builder, short, "en")["lang"] == "en"
    assert BUILT == [3, 3, 3]  # same content once; a changed value and another language built again
    BUILT.clear()
    long = pd.DataFrame({"value": [1.0] * ui.FULLY_HASHED_ROWS})
    changed = long.copy()
    changed.loc[12_345, "value"] = 1_001.0  # Streamlit's hash of a frame this long samples its rows
    assert ui.figure(_counting_builder, long, "zh")["total"] == ui.FULLY_HASHED_ROWS
    assert ui.figure(_counting_builder, changed, "zh")["total"] == ui.FULLY_HASHED_ROWS + 1_000
    assert BUILT == [ui.FULLY_HASHED_ROWS] * 2

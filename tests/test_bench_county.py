"""The scale benchmark runs in CI at county scale (small repetition counts), so that it cannot rot: every
record is complete, every query with a baseline gives the baseline's answer, and ``--json`` writes them."""

from __future__ import annotations

import json
import math
import os

import pytest

from bench import scale
from lawstats import cli


STORE_VARIABLES = ("LAWSTATS_DB", "LAWSTATS_STORE")


@pytest.fixture(scope="module")
def environment_around_the_bench():
    """The store variables before and after the benchmark ran in this process."""
    return {}


@pytest.fixture(scope="module")
def records(tmp_path_factory, environment_around_the_bench):
    folder = tmp_path_factory.mktemp("bench")
    path = folder / "county.json"
    environment_around_the_bench["before"] = {name: os.environ.get(name) for name in STORE_VARIABLES}
    assert cli.main(["bench", "--scale", "county", "--json", str(path), "--repeats", "2",
                     "--baseline-repeats", "1", "--page-repeats", "1", "--workdir", str(folder / "work")]) == 0
    environment_around_the_bench["after"] = {name: os.environ.get(name) for name in STORE_VARIABLES}
    return json.loads(path.read_text(encoding="utf-8"))


def test_the_bench_leaves_the_store_variables_as_it_found_them(records, environment_around_the_bench):
    # The page measurements point AppTest at the bench's store through the environment; a leak sent every later
    # test's streamlit server (which inherits os.environ) to the bench's county instead of its own database.
    assert environment_around_the_bench["after"] == environment_around_the_bench["before"]


def test_every_record_is_complete(records):
    assert records and all(tuple(r) == scale.RECORD_KEYS for r in records)
    for r in records:
        assert r["scale"] == "county"
        assert r["p50_ms"] > 0 and r["p95_ms"] >= r["p50_ms"], r
        if r["baseline_ms"] is not None:
            assert r["ratio"] == pytest.approx(r["baseline_ms"] / r["p50_ms"], rel=0.02, abs=0.06), r


def test_the_pages_queries_are_measured_for_a_township_a_county_and_the_country(records):
    names = {r["name"] for r in records}
    for region in ("township", "county", "country"):
        for query in ("frame.path", "frame.children", "overview.inputs", "overview.rollup_check",
                      "population.rows", "land.rows", "grid.rows", "governance.rows", "training.summary",
                      "compare.peers", "compare.series", "summary.indicator_table"):
            assert f"{query}/{region}" in names
        for page in ("overview", "compare"):
            assert f"page.{page}.warm_rerun/{region}" in names
    for page in scale.PAGES:
        assert f"page.{page}.warm_rerun/township" in names
    for name in ("import", "compare.all_townships/country", "commit.one_village",
                 "page.overview.first_view_after_commit", "undo.one_village", "page.overview.first_view_after_undo"):
        assert name in names


def test_our_answers_equal_the_naive_baselines(records):
    compared = [r for r in records if r["baseline_ms"] is not None]
    assert len(compared) >= 30
    assert all(r["same_answer"] is True for r in compared), [r["name"] for r in compared if not r["same_answer"]]


def test_import_records_rows_and_peak_memory(records):
    imported = next(r for r in records if r["name"] == "import")
    assert imported["rows"] == 2_400 + 2_250 + 2_400 + 2_250 + 450  # the five tables, ten years
    assert imported["peak_rss_mb"] is not None and 0 < imported["peak_rss_mb"] < 4_096
    assert not math.isnan(imported["p50_ms"])

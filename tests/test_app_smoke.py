"""AppTest smoke tests: every page of ``lawstats.navigation.PAGES`` (the list ``app.py`` builds its navigation
from, so pages added later are covered without touching this file), in 中文 and English, runs without an
exception or an error box; the overview shows the headline figures of the default data."""

from __future__ import annotations

import pytest

from lawstats.i18n import LANGS, t
from lawstats.navigation import PAGES
from tests.conftest import copy_seeded, page_text, run_page
from tests.stores import LAKE_KINDS


@pytest.fixture(scope="module")
def module_db(tmp_path_factory, seeded_template):
    """One copy of the seeded database for the module: these tests only read."""
    return copy_seeded(seeded_template, tmp_path_factory.mktemp("smoke") / "lawstats.duckdb")


@pytest.fixture(autouse=True)
def _use_module_db(module_db, store_kind, request, monkeypatch):
    """The module's DuckDB file; on a lake (``store_kind`` parametrised), the test's own copy of a seeded lake."""
    if store_kind == "duckdb":
        monkeypatch.setenv("LAWSTATS_DB", str(module_db))
    else:
        request.getfixturevalue("app_store")


# Every page in both languages on the DuckDB file, and in 中文 on each lake (issue 12: the pages run unchanged on
# every store; the language does not touch the store, so one language there keeps the suite's time down).
PAGE_RUNS = [pytest.param(page, lang, "duckdb", id=f"{page.url_path}-{lang}") for page in PAGES for lang in LANGS] + [
    pytest.param(page, "zh", kind, id=f"{page.url_path}-zh-{kind}") for kind in LAKE_KINDS for page in PAGES]


@pytest.mark.parametrize("page, lang, store_kind", PAGE_RUNS, indirect=["store_kind"])
def test_page_runs_without_error(page, lang):
    at = run_page(page, lang)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert_page_drew_its_own_content(at)
    # the page speaks the language asked for: its heading never carries the other language's page title
    other = "zh" if lang == "en" else "en"
    assert not any(t(page.title_key, other) in title.value for title in at.title), [x.value for x in at.title]


@pytest.mark.parametrize("lang, store_kind", [(lang, "duckdb") for lang in LANGS] + [("zh", k) for k in LAKE_KINDS],
                         indirect=["store_kind"])
def test_overview_shows_the_headline_figures(lang):
    at = run_page(next(p for p in PAGES if p.default), lang)
    values = [m.value for m in at.metric]
    assert any(v.startswith("25,218") for v in values), values
    assert "0.64%" in values, values
    labels = [m.label for m in at.metric]
    assert any(label.startswith("少数民族人口占比" if lang == "zh" else "Minority share") for label in labels), labels


def test_link_with_the_language_label_works_too():
    """The app writes the label (?lang=English) when someone clicks English; such a link must open in English."""
    at = run_page(next(p for p in PAGES if p.default), "zh", {"lang": "English"})
    assert any(m.label.startswith("Registered persons") for m in at.metric)


def assert_page_drew_its_own_content(at) -> None:
    """The page itself drew a title and something under it, in the main area: the frame's sidebar (title,
    language, region and year pickers) is drawn on every run and proves nothing about the page."""
    titles = [title.value for title in at.main.title]
    assert titles and all(title.strip() for title in titles), f"the page drew no title: {titles}"
    beyond_titles = [line for line in page_text(at, at.main).splitlines() if line.strip() and line not in titles]
    assert beyond_titles, "the page drew nothing but its title"


def test_the_smoke_check_fails_for_a_page_that_draws_nothing_of_its_own():
    """The check above can fail: a run whose frame draws the sidebar but whose page draws nothing."""
    from streamlit.testing.v1 import AppTest

    frame_only = AppTest.from_string(
        "import streamlit as st\n"
        "st.sidebar.caption('乡镇统计看板')\n"
        "st.sidebar.selectbox('地区', ['西堡镇'])\n").run()
    assert page_text(frame_only).strip()  # what the old check looked at: not empty, although the page is
    with pytest.raises(AssertionError, match="no title"):
        assert_page_drew_its_own_content(frame_only)
    title_only = AppTest.from_string("import streamlit as st\nst.title('总览')\n").run()
    with pytest.raises(AssertionError, match="nothing but its title"):
        assert_page_drew_its_own_content(title_only)

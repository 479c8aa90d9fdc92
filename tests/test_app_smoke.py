"""AppTest smoke tests: every page of ``lawstats.navigation.PAGES`` (the list ``app.py`` builds its navigation
from, so pages added later are covered without touching this file), in 中文 and English, runs without an
exception or an error box; the overview shows the headline figures of the default data."""

from __future__ import annotations

import pytest

from lawstats import seed
from lawstats.i18n import LANGS, t
from lawstats.navigation import PAGES
from tests.conftest import page_text, run_page


@pytest.fixture(scope="module")
def module_db(tmp_path_factory):
    """One seeded database for the module (seeding per test would dominate the run time)."""
    path = tmp_path_factory.mktemp("smoke") / "lawstats.duckdb"
    seed.open_store(path).close()
    return path


@pytest.fixture(autouse=True)
def _use_module_db(module_db, monkeypatch):
    monkeypatch.setenv("LAWSTATS_DB", str(module_db))


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("page", PAGES, ids=[p.url_path for p in PAGES])
def test_page_runs_without_error(page, lang):
    at = run_page(page, lang)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert page_text(at).strip(), "the page rendered nothing"
    # the page speaks the language asked for: its heading never carries the other language's page title
    other = "zh" if lang == "en" else "en"
    assert not any(t(page.title_key, other) in title.value for title in at.title), [x.value for x in at.title]


@pytest.mark.parametrize("lang", LANGS)
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

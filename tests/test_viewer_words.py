"""Officials see what they can act on (issue 9, item 21): no page shows an anonymous visitor the analysts' words,
commands or server paths. Commands and paths belong on the data page after login and in ``docs/``."""

from __future__ import annotations

import pytest

from lawstats.navigation import PAGES
from tests.conftest import page_text, run_page

ANALYST_WORDS = ("python -m lawstats", "lawstats import", "SHA-256", "Parquet", "Streamlit", "lawstats 指标登记表",
                 "lawstats indicator registry", "LAWSTATS_", "users.toml", "secrets.toml", ".duckdb", "/work/",
                 "~/.config")


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("spec", PAGES, ids=[p.url_path for p in PAGES])
def test_an_anonymous_visitor_sees_no_analyst_words(app_db, spec, lang):
    at = run_page(spec, lang=lang)
    assert not at.exception
    text = page_text(at)
    found = [word for word in ANALYST_WORDS if word.lower() in text.lower()]
    assert not found, f"{spec.url_path} ({lang}) shows {found}"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_slide_of_the_deck_shows_analyst_words(fresh_store, lang):
    from lawstats import slides, summary

    deck = slides.build(fresh_store, summary.default_region(fresh_store), 2024, lang)  # 西堡镇 2024, in data/
    words = [deck.footer(i) for i in range(len(deck.slides))]
    words += [line for s in deck.slides for line in (s.title, s.subtitle, s.source, *s.lines)]
    found = sorted({w for text in words for w in ANALYST_WORDS if w.lower() in text.lower()})
    assert not found, found

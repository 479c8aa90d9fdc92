"""The generic domain page in a real browser (streamlit server + Debian Chromium), in 中文 and English: its
charts are drawn (AppTest cannot see plotly), one unit per axis, count ticks whole, a long English unit fits its
card, nothing is cut off. With ``LAWSTATS_SCREENSHOTS=<folder>`` the screenshots are kept to look at."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lawstats import seed, storage
from tests import domain_data
from tests.browser import chromium_page, require_chromium, streamlit_server, wait_for_app
from tests.conftest import copy_seeded

SCREENSHOTS = os.environ.get("LAWSTATS_SCREENSHOTS")
WAIT_MS = 90_000  # a shared 2-core machine under load takes more than the helpers' default 30 s for a first run


@pytest.fixture(scope="module")
def server(tmp_path_factory, seeded_template):
    require_chromium()
    db = copy_seeded(seeded_template, tmp_path_factory.mktemp("domain-server") / "lawstats.duckdb")
    store = seed.open_store(db)
    town = storage.default_region_id(store)
    domain_data.commit(store, domain_data.legality_rows(town))
    domain_data.commit(store, domain_data.publicity_rows(town), name="publicity.csv")
    store.close()
    with streamlit_server(db) as url:
        yield url


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_generic_domain_page_draws_its_charts(server, lang, tmp_path):
    with chromium_page(1440, 2400) as page:
        page.goto(server)  # a first request on the frame's root registers the page list (see ui.context)
        wait_for_app(page, timeout_ms=WAIT_MS)
        page.goto(f"{server}/legality_review" + ("?lang=en" if lang == "en" else ""))
        wait_for_app(page, timeout_ms=WAIT_MS)
        page.wait_for_function("document.querySelectorAll('.js-plotly-plot .xtick').length > 0", timeout=WAIT_MS)
        shot = Path(SCREENSHOTS or tmp_path) / f"domain-legality_review-{lang}.png"
        shot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shot))
        assert page.locator('[role="dialog"]').count() == 0  # no "page not found"
        title = page.locator("h1").first.inner_text()
        assert title.startswith("法律顾问与合法性审查" if lang == "zh" else "Legal advisers and legality review")
        # the 名/persons chart and two trend charts (次, 份)
        assert page.locator(".js-plotly-plot").count() == 3
        ticks = page.locator(".js-plotly-plot").first.locator(".xtick text").all_text_contents()
        assert ticks and all(t.replace(",", "").isdigit() for t in ticks), ticks  # whole persons only
        # every card's value fits inside its card (a long English unit is set small, not cut off)
        overflow = page.evaluate("""() => [...document.querySelectorAll('[data-testid="stMetric"]')].filter(card => {
            const value = card.querySelector('[data-testid="stMetricValue"]');
            return value && value.scrollWidth > card.clientWidth + 1; }).length""")
        assert overflow == 0
        bars = page.locator(".js-plotly-plot").first.locator(".point path")
        fills = {bars.nth(i).evaluate("e => getComputedStyle(e).fill") for i in range(bars.count())}
        assert len(fills) == 2 and not any(f.startswith("rgb(183, 28, 28)") for f in fills)  # two measures, no red

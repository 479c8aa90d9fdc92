"""Real browser: ``streamlit run`` on a free port with its own database, Debian's Chromium through Playwright.

What AppTest cannot see: the page as a person's browser renders it, the navigation menu, real page switches,
links. Skips locally without Chromium (with the install command); fails instead when ``CI=true``.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from lawstats.i18n import LANGS, t
from lawstats.navigation import PAGES
from tests.browser import wait_for_app

pytestmark = pytest.mark.browser

ERROR_BOXES = '[data-testid="stException"], [data-testid="stAlertContentError"]'
OVERVIEW = next(p for p in PAGES if p.default)


def main_text(page) -> str:
    return page.locator('[data-testid="stMain"]').inner_text()


METRIC_STARTING_WITH = """(prefix) => [...document.querySelectorAll('[data-testid="stMetricValue"]')]
    .some(card => card.innerText.startsWith(prefix))"""


def metric_values(page, waiting_for: str = "25,218") -> list[str]:
    """The KPI cards' values, read once a card starting with ``waiting_for`` has drawn: the cards come from a
    component the browser loads on first use, one by one, so on a loaded machine the first card alone can be
    there when the run has ended. Returns what is shown after the wait, so a missing figure still fails."""
    try:
        page.wait_for_function(METRIC_STARTING_WITH, arg=waiting_for, timeout=60_000)
    except PlaywrightTimeout:
        pass  # the caller's assertion names what was shown instead
    return page.locator('[data-testid="stMetricValue"]').all_inner_texts()


def active_page_title(page) -> str:
    """The menu entry of the page shown (its icon ligature comes first, the title last)."""
    link = page.locator('[data-testid="stSidebarNavLink"][aria-current="page"]')
    return link.inner_text().strip().splitlines()[-1].strip()


def assert_clean(page, where: str, shots) -> None:
    """No error box and no traceback; on failure keep a screenshot to look at."""
    errors = page.locator(ERROR_BOXES)
    if errors.count() or "Traceback" in main_text(page):
        shot = shots / (re.sub(r"\W+", "_", where) + ".png")
        page.screenshot(path=str(shot), full_page=True)
        details = errors.first.inner_text()[:500] if errors.count() else main_text(page)[:500]
        pytest.fail(f"{where}: error shown (screenshot {shot}):\n{details}")


def page_url(base: str, spec, lang: str | None = None) -> str:
    path = "" if spec.default else spec.url_path
    return f"{base}/{path}" + (f"?lang={lang}" if lang else "")


def test_overview_shows_the_headline_figures(app_server, browser_page, tmp_path):
    page = browser_page
    page.goto(app_server)
    wait_for_app(page)
    assert_clean(page, "overview", tmp_path)
    metrics = metric_values(page)
    assert any(v.startswith("25,218") for v in metrics), metrics
    assert "0.64%" in metrics, metrics
    assert active_page_title(page) == t(OVERVIEW.title_key, "zh")
    assert page.locator('[data-testid="stMain"] h1').count() >= 1


@pytest.mark.parametrize("lang", LANGS)
def test_every_page_through_the_menu(app_server, browser_page, tmp_path, lang):
    """Open the app, then visit every page of PAGES by clicking its menu entry, as a person does."""
    page = browser_page
    page.goto(page_url(app_server, OVERVIEW, lang if lang != "zh" else None))
    wait_for_app(page)
    for spec in PAGES:
        title = t(spec.title_key, lang)
        page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title, exact=True).click()
        if not spec.default:
            page.wait_for_url(re.compile(rf"/{re.escape(spec.url_path)}(\?.*)?$"))
        wait_for_app(page)
        assert_clean(page, f"{spec.url_path}-{lang}", tmp_path)
        assert active_page_title(page) == title, f"{spec.url_path}: menu shows {active_page_title(page)!r}"
        assert page.locator('[data-testid="stMain"] h1').count() >= 1, f"{spec.url_path}: no page title"
        # the language chosen stays chosen on every page
        assert t("app.year", lang) in page.locator('[data-testid="stSidebar"]').inner_text(), spec.url_path


def test_language_switch_in_the_sidebar(app_server, browser_page, tmp_path):
    """(AppTest cannot click the frame's widgets under st.navigation: its rerun keeps the old value.)"""
    page = browser_page
    page.goto(app_server)
    wait_for_app(page)
    labels = page.locator('[data-testid="stMetricLabel"]')
    labels.filter(has_text="户籍人口").first.wait_for(timeout=60_000)  # cards draw one by one, in any order
    assert "户籍人口" in labels.all_inner_texts()[0]  # in page order, the headline card comes first
    page.locator('[data-testid="stSidebar"]').get_by_text("English", exact=True).click()
    page.get_by_text("Registered persons").first.wait_for(timeout=30_000)
    wait_for_app(page)
    assert_clean(page, "switched-to-english", tmp_path)
    assert "lang=en" in page.url.split("?", 1)[-1].split("&")  # the link now reproduces the English view
    assert active_page_title(page) == t(OVERVIEW.title_key, "en")


def test_link_to_a_page_in_english_opens_it_in_english(app_server, browser_page, tmp_path):
    """A shared link (``/<page>?lang=en``) opens that page, in English, and the next page stays English
    (Streamlit resets a value that came from the link on a page switch unless the frame keeps it)."""
    page = browser_page
    spec = next(p for p in PAGES if not p.default)
    page.goto(page_url(app_server, spec, "en"))
    wait_for_app(page)
    assert_clean(page, f"link-{spec.url_path}", tmp_path)
    assert active_page_title(page) == t(spec.title_key, "en")
    other = next(p for p in PAGES if p != spec)
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=t(other.title_key, "en"), exact=True).click()
    wait_for_app(page)
    assert active_page_title(page) == t(other.title_key, "en")


def test_unknown_region_in_the_link_shows_a_notice_and_the_default(app_server, browser_page, tmp_path):
    page = browser_page
    page.goto(f"{app_server}/?region=不存在镇&year=1999")
    wait_for_app(page)
    assert_clean(page, "unknown-region", tmp_path)
    text = main_text(page)
    assert "不存在镇" in text and "1999" in text  # the notices name what the link asked for
    metrics = metric_values(page)
    assert any(v.startswith("25,218") for v in metrics), (metrics, text[:800])

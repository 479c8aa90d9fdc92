"""The language stays in the link as ``?lang=en`` (issue 9 item 18): a copied link reopens in the language it was
copied in. ``?lang=en`` and ``?lang=English`` (older links) both open English; the address bar then says
``lang=en`` on every page the reader moves to; choosing 中文 leaves the parameter out (the default)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from lawstats.i18n import t
from lawstats.navigation import PAGES
from tests.browser import chromium_page, wait_for_app
from tests.conftest import run_page

DEFAULT = next(p for p in PAGES if p.default)
FIRST_RUN_MS = 120_000  # a fresh server seeds its database on the first run: slow on a busy machine


@pytest.mark.parametrize("asked", ["en", "English"])
def test_a_link_in_english_keeps_the_short_code(app_db, asked):
    at = run_page(DEFAULT, "zh", {"lang": asked})
    assert any(m.label.startswith("Registered persons") for m in at.metric)
    assert at.query_params["lang"] == "en"


def test_chinese_is_left_out_of_the_link(app_db):
    at = run_page(DEFAULT, "zh", {"lang": "zh"})
    assert any(m.label.startswith("户籍人口") for m in at.metric)
    assert "lang" not in at.query_params


def lang_in_address_bar(page) -> list[str]:
    """?lang= once the run has written it (on a busy machine a page's run can start after it looks idle)."""
    try:
        page.wait_for_url(lambda url: "lang=" in urlsplit(url).query, timeout=10_000)
    except PlaywrightTimeout:
        pass  # not there after 10 s: the assertion says what is
    return parse_qs(urlsplit(page.url).query).get("lang", [])


def open_page(page, spec, lang: str) -> None:
    page.locator('[data-testid="stSidebarNav"] a', has_text=t(spec.title_key, lang)).first.click()
    path = "/" if spec.default else f"/{spec.url_path}"  # the default page lives at the root
    page.wait_for_url(lambda url: urlsplit(url).path == path)
    wait_for_app(page)


def language_button(page, label: str):
    return page.locator('[data-testid="stSidebar"] button', has_text=label).first


@pytest.mark.browser
@pytest.mark.parametrize("asked", ["en", "English"])
def test_address_bar_keeps_lang_en_across_pages(app_server, asked):
    with chromium_page() as page:
        page.set_default_timeout(FIRST_RUN_MS)
        page.goto(f"{app_server}/?lang={asked}")
        wait_for_app(page, FIRST_RUN_MS)
        assert lang_in_address_bar(page) == ["en"]
        by_path = {p.url_path: p for p in PAGES}
        for spec in [by_path[name] for name in ("population", "glossary", "data", "overview")]:
            open_page(page, spec, "en")
            assert lang_in_address_bar(page) == ["en"], (spec.url_path, page.url)
            assert t(spec.title_key, "en") in page.locator('[data-testid="stSidebarNav"]').inner_text()
            assert page.locator("h1", has_text=t(spec.title_key, "en") if not spec.default else "2024").count()

        language_button(page, "中文").click()  # the reader's choice wins over the link
        wait_for_app(page)
        assert lang_in_address_bar(page) == []
        open_page(page, PAGES[1], "zh")
        assert lang_in_address_bar(page) == [] and page.locator("h1", has_text=t(PAGES[1].title_key, "zh")).count()
        language_button(page, "English").click()
        wait_for_app(page)
        assert lang_in_address_bar(page) == ["en"]

        page.reload()  # the link as copied now reopens in English
        wait_for_app(page)
        assert page.locator("h1", has_text=t(PAGES[1].title_key, "en")).count()

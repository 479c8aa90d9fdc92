"""Offline means offline (issue 9 item 12): on an intranet every request the browser makes goes to the app's own
server. Chromium records every request (``page.on("request")``) of every page in both languages, presentation
mode (start, next slide) and the upload flow (log in, upload, preview, commit), and none leaves 127.0.0.1."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from lawstats import auth
from lawstats.i18n import t
from lawstats.navigation import PAGES
from tests.browser import chromium_page, require_chromium, streamlit_server, wait_for_app

pytestmark = pytest.mark.browser

ANALYST, PASSWORD = "analyst", "a long test password"
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
LOCAL_SCHEMES = {"data", "blob", "about"}  # drawn in the page itself, nothing fetched


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    require_chromium()
    folder = tmp_path_factory.mktemp("offline")
    users = folder / "users.toml"
    auth.UserStore(users).add(ANALYST, PASSWORD)
    with streamlit_server(folder / "app.duckdb", env={auth.USERS_ENV: str(users)}) as url:
        yield url


@pytest.fixture
def recorded():
    """A Chromium page and the list of every URL it requested."""
    with chromium_page() as page:
        page.set_default_timeout(120_000)  # many page loads: a busy machine must not fail them
        urls: list[str] = []
        page.on("request", lambda request: urls.append(request.url))
        yield page, urls


def outside(urls: list[str]) -> list[str]:
    return [u for u in urls if urlsplit(u).scheme not in LOCAL_SCHEMES and urlsplit(u).hostname not in LOCAL_HOSTS]


def settle(page) -> None:
    wait_for_app(page, 120_000)  # a fresh server seeds its database on the first run: slow on a busy machine
    page.wait_for_timeout(800)  # icons, fonts and chart images load after the run


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_requests_only_the_app_server(server, recorded, lang):
    page, urls = recorded
    for spec in PAGES:
        page.goto(f"{server}/{spec.url_path}?lang={lang}")
        settle(page)
    assert len(urls) > 20, "nothing recorded: the check would prove nothing"
    assert outside(urls) == []  # was fonts.gstatic.com/…/bar_chart/default/24px.svg, the page icon
    assert any(urlsplit(u).path.startswith("/media/") for u in urls), "the page icon is not served by the app"


def test_presentation_mode_requests_only_the_app_server(server, recorded):
    page, urls = recorded
    page.goto(f"{server}/present")
    settle(page)
    page.get_by_role("button", name=t("present.start", "zh")).click()
    page.wait_for_url("**present=1**")
    page.wait_for_timeout(3000)  # the slide's chart and fonts (the app's own bars are hidden while presenting)
    page.keyboard.press("ArrowRight")
    page.wait_for_url("**slide=2**")
    page.wait_for_timeout(3000)
    assert outside(urls) == []


def test_upload_flow_requests_only_the_app_server(server, recorded):
    page, urls = recorded
    page.goto(f"{server}/data")
    settle(page)
    page.get_by_label(t("data.user_name", "zh"), exact=True).fill(ANALYST)
    page.get_by_label(t("data.password", "zh"), exact=True).fill(PASSWORD)
    page.get_by_role("button", name=t("data.log_in", "zh")).click()
    page.get_by_role("button", name=t("data.log_out", "zh")).wait_for()
    settle(page)
    data = "地区,年份,户籍人口\n西堡镇,2024,25300\n".encode("gbk")
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        {"name": "人口.csv", "mimeType": "text/csv", "buffer": data})
    page.get_by_text(t("data.preview", "zh")).wait_for()
    settle(page)
    page.get_by_role("button", name=t("data.commit", "zh")).click()
    page.locator('[data-testid="stAlertContentSuccess"]', has_text="第 2 批").wait_for()
    settle(page)
    assert any(urlsplit(u).path.startswith("/_stcore/upload_file") for u in urls), "the upload was not recorded"
    assert outside(urls) == []

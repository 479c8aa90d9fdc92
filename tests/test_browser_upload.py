"""The analysts' flow once in a real browser: a real ``streamlit run`` server and Debian's Chromium.

Log in, upload a GBK-encoded CSV through the file input, see the preview, commit, see the overview show the
new figure, undo, see the old figure again. With ``LAWSTATS_SCREENSHOTS=docs/img`` it also saves the README
screenshots of the data page (中文 and English) on the way.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lawstats import auth
from lawstats.i18n import t
from tests.browser import chromium_page, require_chromium, streamlit_server, wait_for_app

pytestmark = pytest.mark.browser

ANALYST, PASSWORD = "analyst", "a long test password"
GBK_FILE = "地区,年份,户籍人口\n西堡镇,2024,25300\n".encode("gbk")
SCREENSHOTS = os.environ.get("LAWSTATS_SCREENSHOTS")


def shoot(page, name: str) -> None:
    """The whole page: Streamlit scrolls inside its main block, so the window is made as tall as the content."""
    if not SCREENSHOTS:
        return
    Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMainBlockContainer\"]').scrollHeight")
    page.set_viewport_size({"width": size["width"], "height": min(max(size["height"], height + 40), 5000)})
    page.wait_for_timeout(800)
    page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"))
    page.set_viewport_size(size)


def open_page(page, title_key: str, lang: str = "zh") -> None:
    """Follow the sidebar link (the session, and so the login, is kept)."""
    page.locator('[data-testid="stSidebarNav"] a', has_text=t(title_key, lang)).first.click()
    wait_for_app(page)


def undo_second_batch(page) -> None:
    """On the data page: undo batch 2, confirming first (the confirmation names the batch)."""
    open_page(page, "page.data")
    page.get_by_role("button", name=t("data.undo", "zh")).click()
    page.locator('[data-testid="stAlertContentWarning"]', has_text="第 2 批").wait_for()  # confirm first
    wait_for_app(page)
    page.get_by_role("button", name=t("data.undo_yes", "zh")).click()
    page.locator('[data-testid="stAlertContentSuccess"]', has_text="第 2 批已撤销").wait_for()
    wait_for_app(page)


def wait_for_headline(page, value: str, label: str = "户籍人口") -> None:
    """The overview's KPI card shows ``value`` (fails after the timeout if it never does)."""
    card = page.locator('[data-testid="stMetric"]', has_text=label).first
    card.locator('[data-testid="stMetricValue"]', has_text=value).wait_for(timeout=30_000)


@pytest.fixture
def server(tmp_path):
    require_chromium()
    users = tmp_path / "config" / "users.toml"
    auth.UserStore(users).add(ANALYST, PASSWORD)
    with streamlit_server(tmp_path / "app.duckdb", env={auth.USERS_ENV: str(users)}) as url:
        yield url


def test_upload_commit_overview_undo_in_chromium(server):
    with chromium_page() as page:
        dialogs = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(server + "/data")  # a deep link as the server's very first request
        wait_for_app(page)
        assert page.locator('[data-testid="stFileUploaderDropzoneInput"]').count() == 0  # not logged in

        page.get_by_label(t("data.user_name", "zh"), exact=True).fill(ANALYST)
        page.get_by_label(t("data.password", "zh"), exact=True).fill(PASSWORD)
        page.get_by_role("button", name=t("data.log_in", "zh")).click()
        page.get_by_role("button", name=t("data.log_out", "zh")).wait_for()
        wait_for_app(page)
        assert ANALYST in page.locator('[data-testid="stMain"]').inner_text()

        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
            {"name": "人口_GBK.csv", "mimeType": "text/csv", "buffer": GBK_FILE})
        page.get_by_text(t("data.preview", "zh")).wait_for()
        wait_for_app(page)
        main = page.locator('[data-testid="stMain"]').inner_text()
        assert "gb18030" in main.lower()
        changed = page.locator('[data-testid="stMetric"]', has_text=t("data.preview_changed", "zh"))
        assert changed.locator('[data-testid="stMetricValue"]').inner_text() == "1"
        shoot(page, "data_zh")

        page.get_by_label(t("data.note", "zh")).fill("浏览器测试")
        page.get_by_role("button", name=t("data.commit", "zh")).click()
        page.locator('[data-testid="stAlertContentSuccess"]', has_text="第 2 批").wait_for()
        wait_for_app(page)

        open_page(page, "page.overview")
        wait_for_headline(page, "25,300")

        undo_second_batch(page)

        open_page(page, "page.overview")
        wait_for_headline(page, "25,218")
        assert dialogs == []


def test_data_page_screenshots_in_english(server):
    """The English page after logging in and choosing a file (for the README; asserts it is English)."""
    with chromium_page() as page:
        page.goto(server + "/data?lang=en")
        wait_for_app(page)
        page.get_by_label(t("data.user_name", "en"), exact=True).fill(ANALYST)
        page.get_by_label(t("data.password", "en"), exact=True).fill(PASSWORD)
        page.get_by_role("button", name=t("data.log_in", "en")).click()
        page.get_by_role("button", name=t("data.log_out", "en")).wait_for()
        wait_for_app(page)
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
            {"name": "population_GBK.csv", "mimeType": "text/csv", "buffer": GBK_FILE})
        page.get_by_text(t("data.preview", "en")).wait_for()
        wait_for_app(page)
        headers = page.locator('[data-testid="stHeading"]').all_inner_texts()
        assert t("data.section_upload", "en") in "\n".join(headers)
        assert not any("\u4e00" <= ch <= "\u9fff" for ch in "".join(headers))
        shoot(page, "data_en")


def test_template_and_export_downloads_are_built_on_click(server):
    """Download buttons with a callable: the file is built when clicked, in the browser as a user gets it."""
    import io
    import zipfile

    with chromium_page() as page:
        page.goto(server + "/data")
        wait_for_app(page)
        with page.expect_download() as template:
            page.get_by_role("button", name=t("data.template_csv", "zh")).click()
        data = Path(template.value.path()).read_bytes()
        assert template.value.suggested_filename == "模板_人口.csv"
        assert data.startswith(b"\xef\xbb\xbf") and "户籍人口".encode() in data.splitlines()[0]

        # Parquet is a format for analysis software: offered to analysts only (issue 9, item 21)
        assert page.get_by_role("button", name=t("data.export_parquet", "zh")).count() == 0
        page.get_by_label(t("data.user_name", "zh"), exact=True).fill(ANALYST)
        page.get_by_label(t("data.password", "zh"), exact=True).fill(PASSWORD)
        page.get_by_role("button", name=t("data.log_in", "zh")).click()
        page.get_by_role("button", name=t("data.log_out", "zh")).wait_for()
        wait_for_app(page)
        with page.expect_download() as export:
            page.get_by_role("button", name=t("data.export_parquet", "zh")).click()
        names = zipfile.ZipFile(io.BytesIO(Path(export.value.path()).read_bytes())).namelist()
        assert "population.parquet" in names and "regions.parquet" in names

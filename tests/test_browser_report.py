"""The 从报告导入 flow in a real browser (a real ``streamlit run`` server and Debian's Chromium): log in, paste a
report, accept the high-confidence figures, change one measure, reject one figure, commit, see the number on the
overview, undo. With ``LAWSTATS_SCREENSHOTS=docs/img`` it also saves screenshots of the page (中文 and English).
The report text is written for these tests (tests/test_report_page.py)."""

from __future__ import annotations

import pytest

from lawstats.i18n import t
from tests.browser import chromium_page, wait_for_app
from tests.test_browser_upload import ANALYST, PASSWORD, open_page, server, shoot, wait_for_headline  # noqa: F401
from tests.test_report_page import GRIDS, LAND, REPORT

pytestmark = pytest.mark.browser


def log_in_and_paste(page, url: str, lang: str) -> None:
    page.goto(url + "/report" + ("?lang=en" if lang == "en" else ""))
    wait_for_app(page)
    assert page.get_by_label(t("review.paste", lang)).count() == 0  # not before a login
    page.get_by_label(t("data.user_name", lang), exact=True).fill(ANALYST)
    page.get_by_label(t("data.password", lang), exact=True).fill(PASSWORD)
    page.get_by_role("button", name=t("data.log_in", lang)).click()
    page.get_by_role("button", name=t("data.log_out", lang)).wait_for()
    wait_for_app(page)
    box = page.get_by_label(t("review.paste", lang))
    box.fill(REPORT)
    box.press("Control+Enter")  # a text area sends its value on Ctrl+Enter or when it loses focus
    page.get_by_text(t("review.figures", lang)).wait_for()
    wait_for_app(page)


def card(page, index: int):
    """The figure card of the report's figure ``index`` (its container's key)."""
    return page.locator(f".st-key-report_card_{index}")


def test_paste_review_commit_overview_undo_in_chromium(server):  # noqa: F811
    with chromium_page() as page:
        dialogs = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        log_in_and_paste(page, server, "zh")
        main = page.locator('[data-testid="stMain"]').inner_text()
        assert "户籍人口25300人" in main and "将把数据库中的 25,218 改为此值" in main
        assert page.locator('[class*="st-key-report_card_"]').count() == 6

        page.get_by_role("button", name=t("review.accept_all", "zh")).click()
        wait_for_app(page)
        grids = card(page, GRIDS).locator('[data-testid="stSelectbox"]')
        grids.click()
        page.keyboard.type("片区数")
        page.get_by_role("option", name="片区数（个）", exact=True).click()
        wait_for_app(page)
        card(page, GRIDS).get_by_text("将把数据库中的 9 改为此值").wait_for()  # 片区数 holds 9 (子网格数 104)
        card(page, LAND).locator('[data-testid="stCheckbox"]', has_text=t("review.take", "zh")).locator(
            "label").click()
        page.get_by_text("已选 4 个").wait_for()
        wait_for_app(page)
        shoot(page, "report_zh")

        page.get_by_role("button", name=t("review.commit", "zh")).click()
        page.locator('[data-testid="stAlertContentSuccess"]', has_text="已导入第 2 批").wait_for()
        wait_for_app(page)

        open_page(page, "page.overview")
        wait_for_headline(page, "25,300")

        open_page(page, "page.data")
        page.get_by_role("button", name=t("data.undo", "zh")).click()
        page.locator('[data-testid="stAlertContentWarning"]', has_text="第 2 批").wait_for()
        wait_for_app(page)
        page.get_by_role("button", name=t("data.undo_yes", "zh")).click()
        page.locator('[data-testid="stAlertContentSuccess"]', has_text="第 2 批已撤销").wait_for()
        wait_for_app(page)

        open_page(page, "page.overview")
        wait_for_headline(page, "25,218")
        assert dialogs == []


def test_report_page_in_english(server):  # noqa: F811
    """The English page with a report pasted (and its screenshot); asserts it is English."""
    with chromium_page() as page:
        log_in_and_paste(page, server, "en")
        main = page.locator('[data-testid="stMain"]').inner_text()
        assert t("review.accept_all", "en") in main and "changes the database's 25,218 to this value" in main
        assert t("review.figures", "en") in main and t("review.figures", "zh") not in main
        shoot(page, "report_en")

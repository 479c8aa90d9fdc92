"""The 从报告导入 flow in a real browser (a real ``streamlit run`` server and Debian's Chromium): log in, paste a
report, accept the high-confidence figures, change one measure, reject one figure, commit, see the number on the
overview, undo. With ``LAWSTATS_SCREENSHOTS=docs/img`` it also saves screenshots of the page (中文 and English).
The report text is written for these tests (tests/test_report_page.py)."""

from __future__ import annotations

import pytest

from lawstats.i18n import t
from tests.browser import chromium_page, wait_for_app
from tests.test_browser_upload import (ANALYST, PASSWORD, open_page, server, shoot,  # noqa: F401
                                      undo_second_batch, wait_for_headline)
from tests.test_report_page import GRIDS, LAND, REPORT

pytestmark = pytest.mark.browser


def log_in_and_paste(page, url: str, lang: str, report: str = REPORT) -> None:
    page.goto(url + "/report" + ("?lang=en" if lang == "en" else ""))
    wait_for_app(page)
    assert page.get_by_label(t("review.paste", lang)).count() == 0  # not before a login
    page.get_by_label(t("data.user_name", lang), exact=True).fill(ANALYST)
    page.get_by_label(t("data.password", lang), exact=True).fill(PASSWORD)
    page.get_by_role("button", name=t("data.log_in", lang)).click()
    page.get_by_role("button", name=t("data.log_out", lang)).wait_for()
    wait_for_app(page)
    box = page.get_by_label(t("review.paste", lang))
    box.fill(report)
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

        undo_second_batch(page)

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


def choose(page, index: int, label: str, typed: str, option: str) -> None:
    """Pick ``option`` in the select labelled ``label`` on figure card ``index`` (typing to filter the list)."""
    card(page, index).locator('[data-testid="stSelectbox"]', has_text=label).click()
    page.keyboard.type(typed)
    page.get_by_role("option", name=option, exact=True).click()
    wait_for_app(page)


def sentences_tab(page):
    """The glossary's tab of values imported from a report, with their sentences."""
    open_page(page, "page.glossary")
    page.get_by_role("tab", name=t("sentences.title", "zh")).click()
    wait_for_app(page)
    return page.locator('[data-testid="stMain"]')


def test_catalogue_measures_with_items_and_sentences_committed_and_undone_in_chromium(server):  # noqa: F811
    """Issue 11's done-when with every catalogue measure: paste, review, change one measure (and its item),
    reject one figure, commit; the numbers are on the glossary and on the generic domain page with their
    sentences; undo, and they are gone."""
    from tests.test_report_observations import ARTICLES, EVENTS_SENTENCE, PETITIONS, POPULATION_SENTENCE
    from tests.test_report_observations import REPORT as CATALOGUE_REPORT

    with chromium_page() as page:
        dialogs = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        log_in_and_paste(page, server, "zh", CATALOGUE_REPORT)
        assert page.locator('[class*="st-key-report_card_"]').count() == 8
        page.get_by_role("button", name=t("review.accept_all", "zh")).click()
        wait_for_app(page)
        choose(page, ARTICLES, t("review.measure", "zh"), "分层级媒体", "分层级媒体报道篇数（篇）")
        choose(page, ARTICLES, "分项：", "县", "县（市）级")
        card(page, PETITIONS).locator('[data-testid="stCheckbox"]', has_text=t("review.take", "zh")).locator(
            "label").click()
        wait_for_app(page)
        page.get_by_text("将导入：表格数值 3 个，指标观测值 3 个。").wait_for()
        shoot(page, "report_catalogue_zh")

        page.get_by_role("button", name=t("review.commit", "zh")).click()
        page.locator('[data-testid="stAlertContentSuccess"]', has_text="指标观测值 3 个").wait_for()
        wait_for_app(page)

        open_page(page, "page.overview")  # every page's footer: the sources, then the sentences one click away
        wait_for_headline(page, "25,300")
        page.get_by_role("button", name=t("sentences.footer", "zh", count=6)).click()
        page.get_by_text(POPULATION_SENTENCE).first.wait_for()
        page.keyboard.press("Escape")

        main = sentences_tab(page)
        main.get_by_text(EVENTS_SENTENCE).first.wait_for()
        shown = main.inner_text()
        assert "从报告导入的每个数值及其在报告中的原句" in shown
        assert "普法宣传活动场次 40余 场" in shown and "分层级媒体报道篇数·县（市）级 12 篇" in shown
        assert "受理信访件数" not in shown  # the rejected figure

        page.locator('[data-testid="stSidebarNav"] a', has_text="普法宣传").first.click()  # the generic page
        wait_for_app(page)
        page.locator('[data-testid="stMain"]').get_by_text("40").first.wait_for()
        page.get_by_text(t("domain.sentences", "zh", count=1).split("（")[0]).first.click()
        page.get_by_text(EVENTS_SENTENCE).first.wait_for()

        undo_second_batch(page)

        main = sentences_tab(page)
        main.get_by_text("没有从报告导入的数值").wait_for()
        assert EVENTS_SENTENCE not in main.inner_text()
        assert dialogs == []

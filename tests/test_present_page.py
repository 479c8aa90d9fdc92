"""The presentation page (会议展示): AppTest for links, moving between slides, choosing slides and presenting;
a real browser for what AppTest cannot do (the downloaded .pptx, keyboard, the hidden sidebar and menu)."""

from __future__ import annotations

import io
import re

import pytest
from pptx import Presentation

from tests.conftest import run_page

SLIDES = 12  # the 2024 data of 西堡镇: no trend or comparison slides


def title_of(at) -> str:
    return at.title[0].value


def footer_of(at) -> str:
    """The slide's footer: the caption ending in its page number (markdown-escaped: ``3 \\/ 12``)."""
    return next(c.value for c in at.caption if re.search(r"\d+ \\/ \d+$", c.value))


def test_slide_in_the_link_opens_that_slide(app_db):
    at = run_page("present", query={"slide": "3"})
    assert not at.exception
    assert title_of(at) == "人口"
    assert at.pagination(key="slide").value == 3 and at.pagination(key="slide").num_pages == SLIDES
    assert footer_of(at).endswith(f"3 \\/ {SLIDES}")  # the caption's text is escaped markdown


def test_english_link(app_db):
    at = run_page("present", lang="en", query={"slide": "3"})
    assert title_of(at) == "Population"
    assert at.button(key="present_next").label == "Next"


def test_next_and_previous(app_db):
    at = run_page("present", query={"slide": "3"})
    at.button(key="present_next").click().run()
    assert title_of(at) == "土地" and at.pagination(key="slide").value == 4
    at.button(key="present_prev").click().run()
    at.button(key="present_prev").click().run()
    assert title_of(at) == "西堡镇 2024年主要指标"
    at.button(key="present_prev").click().run()
    at.button(key="present_prev").click().run()  # from the first slide back to the last
    assert title_of(at) == "数据来源与说明" and at.pagination(key="slide").value == SLIDES


def test_pagination_jumps(app_db):
    at = run_page("present")
    assert at.pagination(key="slide").value == 1 and title_of(at) == "西堡镇 2024年统计概况"
    at.pagination(key="slide").select(7).run()
    assert title_of(at) == "平安治理"


def test_a_slide_number_beyond_the_deck_opens_the_first(app_db):
    at = run_page("present", query={"slide": "99"})
    assert not at.exception and at.pagination(key="slide").value == 1


def test_presenter_chooses_the_slides(app_db):
    at = run_page("present")
    at.multiselect(key="slides").set_value(["title", "population", "sources"]).run()
    assert at.pagination(key="slide").num_pages == 3
    at.pagination(key="slide").select(2).run()
    assert title_of(at) == "人口"
    assert footer_of(at).endswith("2 \\/ 3")
    at.multiselect(key="slides").set_value([]).run()
    assert not at.exception and len(at.info) == 1 and at.download_button[0].proto.disabled


def test_one_year_offers_no_trend_slides(app_db):
    at = run_page("present")
    assert "trends" not in at.multiselect(key="slides").options
    assert "compare" not in at.multiselect(key="slides").options


def test_start_and_leave_presenting(app_db):
    at = run_page("present", query={"slide": "2"})
    assert [b.label for b in at.button][0] == "开始放映"
    at.button[0].click().run()
    assert at.query_params.get("present") == "1"
    assert at.button[0].label == "退出放映" and title_of(at) == "西堡镇 2024年主要指标"
    at.button[0].click().run()
    assert "present" not in at.query_params and at.button[0].label == "开始放映"


def test_presenting_belongs_to_the_presentation_page(app_db):
    at = run_page("overview", query={"present": "1"})
    assert not at.exception and "present" not in at.query_params


def test_download_button_builds_the_deck_only_when_clicked(app_db):
    at = run_page("present")
    button = at.download_button[0]
    assert button.label == "下载 PowerPoint" and not button.proto.disabled
    assert button.proto.deferred_file_id  # a callable: the .pptx is built when clicked (see the browser test)


# ---------------------------------------------------------------------------------------------------------
# Real browser


@pytest.mark.browser
def test_browser_presents_moves_and_downloads_a_valid_deck(app_server, tmp_path):
    from tests.browser import chromium_page, wait_for_app

    with chromium_page(width=1920, height=1080) as page:
        page.goto(f"{app_server}/present?slide=3&present=1")
        wait_for_app(page)
        page.wait_for_selector("h1:has-text('人口')")
        sidebar = page.locator('[data-testid="stSidebar"]').bounding_box()
        assert sidebar is None or sidebar["width"] == 0 or sidebar["x"] + sidebar["width"] <= 0
        assert page.locator('[data-testid="stSidebarNav"]').count() == 0

        page.keyboard.press("ArrowRight")
        page.wait_for_selector("h1:has-text('土地')")
        page.wait_for_url("**slide=4**")

        with page.expect_download() as download_info:
            page.get_by_role("button", name="下载 PowerPoint").click()
        path = tmp_path / download_info.value.suggested_filename
        download_info.value.save_as(path)
        assert path.suffix == ".pptx"
        prs = Presentation(io.BytesIO(path.read_bytes()))
        assert len(prs.slides) == SLIDES
        chart = next(shape.chart for shape in prs.slides[2].shapes if shape.has_chart)
        assert {s.name: tuple(s.values) for s in chart.plots[0].series}["户籍"][0] == 25_218

        page.get_by_role("button", name="退出放映").click()
        wait_for_app(page)
        page.wait_for_selector('[data-testid="stSidebarNav"]')
        assert "present=1" not in page.url

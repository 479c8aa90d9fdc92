"""English pages speak English (issue 9, item 20): every page rendered in English shows no Chinese except the
names of regions, the titles and sections of source documents, and text quoted from the source and labelled as
such (programme names and ethnic groups as the report writes them, notes recorded in Chinese, the Chinese file
headers the glossary lists); counts of one are singular; a rate's change on a card is in percentage points."""

from __future__ import annotations

import csv
import re

import pytest

from lawstats import catalogue, summary
from lawstats.i18n import singular_counts, t
from lawstats.navigation import PAGES
from lawstats.registry import INDICATORS_BY_ID, PROVENANCE_COLUMNS, ROW_COLUMNS, TABLES
from tests.conftest import ROOT, page_text, run_page

CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
QUOTED_NOTE = re.compile(re.escape(t("pages.note_quoted", "en", item="", note="")).lstrip(" —") + r".*")


def allowed_words() -> list[str]:
    """Region names, document titles and sections, programme names, ethnic groups, and recorded notes, as the
    data files hold them; the Chinese headers and aliases a file may use (the glossary lists them)."""
    words: set[str] = set()
    for path in (ROOT / "data").glob("*.csv"):
        with path.open(encoding="utf-8-sig") as handle:
            for row in csv.DictReader(handle):
                for header, value in row.items():
                    if value and header in ("地区", "名称", "上级地区", "来源", "来源章节", "学习项目", "民族构成",
                                            "说明", "region", "name", "parent", "source", "section", "programme",
                                            "note"):
                        words.add(value)
    for column in [*ROW_COLUMNS, *PROVENANCE_COLUMNS, *(c for table in TABLES for c in table.columns)]:
        words.update([column.zh, *column.aliases])
    # The glossary's catalogue tab has a 中文名 column: every measure's and indicator's Chinese name, by design.
    measures, indicators = catalogue.listing(catalogue.load(), "en")
    words.update(name for name in [*measures["zh"], *indicators["zh"]] if name)
    return sorted(words, key=len, reverse=True)


def chinese_left(text: str, allowed: list[str]) -> list[str]:
    text = QUOTED_NOTE.sub("", text)
    for word in allowed:
        text = text.replace(word, "")
    for part in ("汉", "藏", "等", "、", "；", "（", "）"):  # list and citation punctuation around allowed words
        text = text.replace(part, "")
    return sorted({line.strip() for line in text.splitlines() if CJK.search(line)})


@pytest.mark.parametrize("spec", PAGES, ids=[p.url_path for p in PAGES])
def test_every_page_in_english_shows_no_chinese_but_names_and_quotes(app_db, spec):
    at = run_page(spec, lang="en")
    assert not at.exception
    left = chinese_left(page_text(at).replace("\\", ""), allowed_words())
    left = [line for line in left if line not in ("语言 / Language",)]  # the language switch names both
    assert not left, f"{spec.url_path}: {left}"


def test_counts_of_one_are_singular():
    assert singular_counts("1 communities (1 regions); 1 batches") == "1 community (1 region); 1 batch"
    unchanged = "11 regions, 2.1 regions, 1 persons/sub-grid"
    assert singular_counts(unchanged) == unchanged
    assert t("error.validation_failed", "en", count=1).startswith("The file has 1 problem;")
    assert summary.format_value(1, INDICATORS_BY_ID["registered_persons"], "en") == "1 person"
    assert summary.format_value(2, INDICATORS_BY_ID["registered_persons"], "en") == "2 persons"


def test_a_note_recorded_in_chinese_is_labelled_in_english():
    import pandas as pd

    frame = pd.DataFrame({"item": ["Persons with mental illness managed"], "note": ["报告写作“4名精神病人”"]})
    [note] = summary.notes_of(frame, "en")
    assert "note as recorded (Chinese)" in note and not chinese_left(note, [])


def test_a_rate_changes_by_percentage_points_on_its_card(app_db):
    """A year before 2024 gives the cards a change: a rate's is said in percentage points, as the deck says it."""
    from lawstats import seed, uploads

    store = seed.open_store(app_db)
    earlier = "地区,年份,户籍人口,常住人口\n西堡镇,2023,25000,23900\n".encode("utf-8")
    uploads.commit_upload(store, uploads.inspect_file(store, "2023.csv", earlier), user_name="test")
    store.close()
    for lang in ("zh", "en"):
        at = run_page("overview", lang=lang)
        cards = {m.label.rstrip(" ⚠"): m for m in at.metric}
        rate = cards[INDICATORS_BY_ID["resident_rate"].label(lang)]
        assert str(rate.delta).endswith(t("present.points", lang)), rate.delta
        count = cards[INDICATORS_BY_ID["registered_persons"].label(lang)]
        assert not str(count.delta).endswith(t("present.points", lang)), count.delta


@pytest.mark.browser
@pytest.mark.parametrize("width,height", [(1440, 900), (1280, 720)])
def test_a_card_keeps_its_unit_beside_the_number(app_server, width, height):
    """English units are long (persons/household): on a card they stay on the number's line, inside the card."""
    from tests.browser import chromium_page

    with chromium_page(width, height) as page:
        page.goto(f"{app_server}/?lang=en")
        page.wait_for_selector('[data-testid="stMetricValue"]', timeout=90_000)
        page.wait_for_timeout(1500)
        cards = page.evaluate("""() => [...document.querySelectorAll('[data-testid="stMetricValue"]')].map(v => {
            const unit = v.querySelector('span'), p = v.querySelector('p') || v;
            const number = p.firstChild && p.firstChild.nodeType === 3 ? (() => { const r = document.createRange();
                r.selectNodeContents(p.firstChild); return r.getBoundingClientRect(); })() : p.getBoundingClientRect();
            return {text: v.textContent, unit: unit ? unit.getBoundingClientRect().bottom : null,
                    number: number.bottom, cut: v.scrollWidth > v.clientWidth + 1,
                    outside: v.getBoundingClientRect().right > v.closest('[data-testid="stMetric"]')
                                                              .getBoundingClientRect().right + 1}; })""")
    assert any(c["unit"] is not None for c in cards)
    for card in cards:
        assert not card["cut"] and not card["outside"], card
        if card["unit"] is not None:  # the unit's line ends where the number's line does: the same line
            assert abs(card["unit"] - card["number"]) < 12, card

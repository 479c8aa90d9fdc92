"""The PowerPoint deck (lawstats.deck and ``python -m lawstats deck``), opened again with python-pptx: size,
titles, native charts holding the database's numbers, editable KPI text, footers, fonts, both languages."""

from __future__ import annotations

import io

import pytest
from pptx import Presentation
from pptx.enum.chart import XL_CHART_TYPE
from pptx.oxml.ns import qn

from lawstats import cli, deck, slides, storage, summary
from lawstats.registry import INDICATORS_BY_ID
from tests.test_slides import commit_synthetic

WIDTH, HEIGHT = 12_192_000, 6_858_000  # 16:9 in EMU


@pytest.fixture
def xibao(fresh_store) -> int:
    return summary.find_region(fresh_store, "西堡镇")


def open_deck(data: bytes):
    return Presentation(io.BytesIO(data))


def charts_of(pptx_slide) -> list:
    return [shape.chart for shape in pptx_slide.shapes if shape.has_chart]


def footer_of(pptx_slide) -> str:
    return next(shape.text_frame.text for shape in pptx_slide.shapes if shape.name == deck.FOOTER_NAME)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_deck_is_16_9_with_one_titled_slide_per_slide(fresh_store, xibao, lang):
    built = slides.build(fresh_store, xibao, 2024, lang)
    prs = open_deck(deck.build_pptx(built))
    assert (prs.slide_width, prs.slide_height) == (WIDTH, HEIGHT)
    assert len(prs.slides) == len(built.slides) == 12
    assert [s.shapes.title.text for s in prs.slides] == [s.title for s in built.slides]
    expected = {"zh": ("西堡镇 2024年统计概况", "人口", "数据来源与说明"),
                "en": ("西堡镇: statistics for 2024", "Population", "Sources and notes")}[lang]
    titles = [s.shapes.title.text for s in prs.slides]
    assert titles[0] == expected[0] and titles[2] == expected[1] and titles[-1] == expected[2]


def test_population_chart_is_native_and_holds_the_databases_numbers(fresh_store, xibao):
    stored = storage.table_rows(fresh_store, storage.TABLES_BY_ID["population"], [xibao], [2024]).iloc[0]
    prs = open_deck(deck.build_pptx(slides.build(fresh_store, xibao, 2024, "zh")))
    population = next(s for s in prs.slides if s.shapes.title.text == "人口")
    (chart,) = charts_of(population)
    assert chart.chart_type == XL_CHART_TYPE.COLUMN_CLUSTERED
    series = {s.name: tuple(s.values) for s in chart.plots[0].series}
    assert series["户籍"] == (stored["registered_persons"], stored["registered_households"]) == (25_218, 7_017)
    assert series["常住"] == (stored["resident_persons"], stored["resident_households"]) == (23_971, 6_625)
    assert list(chart.plots[0].categories) == ["人口（人）", "户数（户）"]
    # the numbers travel with the chart: its embedded workbook, for editing in PowerPoint or WPS
    assert chart.part.chart_workbook.xlsx_part is not None


def test_every_domain_chart_matches_its_slide(fresh_store, xibao):
    built = slides.build(fresh_store, xibao, 2024, "zh")
    prs = open_deck(deck.build_pptx(built))
    for source, target in zip(built.slides, prs.slides):
        native = charts_of(target)
        assert len(native) == (source.chart is not None)
        if source.chart is not None:
            got = {s.name: tuple(None if v is None else v for v in s.values) for s in native[0].plots[0].series}
            assert got == {s.name: s.values for s in source.chart.series}


def test_kpis_are_editable_text(fresh_store, xibao):
    prs = open_deck(deck.build_pptx(slides.build(fresh_store, xibao, 2024, "zh")))
    wall = prs.slides[1]
    tiles = {shape.name: shape.text_frame.text for shape in wall.shapes if shape.name.startswith("KPI ")}
    assert "25,218" in tiles["KPI registered_persons"] and "户籍人口" in tiles["KPI registered_persons"]
    assert "0.64%" in tiles["KPI minority_share"]
    assert len(tiles) == sum(1 for i in INDICATORS_BY_ID.values() if i.headline)


@pytest.mark.parametrize("lang, version_text", [("zh", "数据版本：报告年份 2024年  ·  上传于 {when}（第{v}批）"),
                                                 ("en", "Data version: report year 2024  ·  uploaded {when} (batch {v})")])
def test_every_footer_has_source_version_and_page(fresh_store, xibao, lang, version_text):
    version, when = storage.last_update(fresh_store)  # the report year, and separately when it was uploaded
    prs = open_deck(deck.build_pptx(slides.build(fresh_store, xibao, 2024, lang)))
    total = len(prs.slides)
    for number, pptx_slide in enumerate(prs.slides, start=1):
        footer = footer_of(pptx_slide)
        assert version_text.format(v=version, when=when.strftime("%Y-%m-%d %H:%M")) in footer
        assert footer.endswith(f"{number} / {total}")
    assert "西堡镇2024年度法治政府建设工作情况报告" in footer_of(prs.slides[2])


def test_chinese_text_names_yahei_as_east_asian_font(fresh_store, xibao):
    prs = open_deck(deck.build_pptx(slides.build(fresh_store, xibao, 2024, "zh")))
    runs = [r for s in prs.slides for shape in s.shapes if shape.has_text_frame
            for p in shape.text_frame.paragraphs for r in p.runs]
    assert runs
    for run in runs:
        rPr = run._r.find(qn("a:rPr"))
        assert rPr.find(qn("a:ea")).get("typeface") == deck.EAST_ASIAN_FONT == "微软雅黑"
        assert rPr.find(qn("a:latin")).get("typeface") == deck.LATIN_FONT
        assert rPr.get("lang") == "zh-CN"
    theme = prs.slide_master.part.part_related_by(
        "http://schemas.openxmlformats.org/officeDocument/2006/relationships/theme").blob.decode()
    assert theme.count(f'<a:ea typeface="{deck.EAST_ASIAN_FONT}"/>') == 2  # headings and body


def test_definitions_appendix_is_a_table_of_registry_definitions(fresh_store, xibao):
    prs = open_deck(deck.build_pptx(slides.build(fresh_store, xibao, 2024, "en")))
    appendix = [s for s in prs.slides if s.shapes.title.text.startswith("Definitions")]
    assert len(appendix) >= 2
    cells = [[c.text for c in row.cells] for s in appendix for shape in s.shapes if shape.has_table
             for row in list(shape.table.rows)[1:]]
    by_definition = {row[1] for row in cells}
    assert INDICATORS_BY_ID["resident_rate"].definition_en in by_definition
    assert INDICATORS_BY_ID["persons_per_subgrid"].formula_en in {row[2] for row in cells}


def test_one_year_deck_has_no_trend_charts_and_several_years_have_line_charts(fresh_store, xibao):
    one_year = open_deck(deck.build_pptx(slides.build(fresh_store, xibao, 2024, "zh")))
    kinds = [c.chart_type for s in one_year.slides for c in charts_of(s)]
    assert XL_CHART_TYPE.LINE_MARKERS not in kinds
    region_id = commit_synthetic(fresh_store)
    several = open_deck(deck.build_pptx(slides.build(fresh_store, region_id, 2024, "zh")))
    lines = [c for s in several.slides for c in charts_of(s) if c.chart_type == XL_CHART_TYPE.LINE_MARKERS]
    assert len(lines) == 2
    registered = next(s for s in lines[0].plots[0].series if s.name == "户籍人口")
    assert tuple(registered.values) == (3000, 3050, 3100)
    assert list(lines[0].plots[0].categories) == ["2022", "2023", "2024"]


def test_number_formats():
    assert deck.number_format(0, "人") == "#,##0"
    assert deck.number_format(2, "亩") == "#,##0.00"
    assert deck.number_format(1, "%") == '#,##0.0"%"'


def test_cli_writes_the_deck(fresh_store, tmp_path, capsys):
    db = fresh_store.path
    fresh_store.close()  # one process opens a DuckDB file once: the CLI opens its own
    out = tmp_path / "会议.pptx"
    assert cli.main(["--db", db, "deck", str(out), "--region", "西堡镇", "--year", "2024", "--lang", "en"]) == 0
    prs = Presentation(str(out))
    assert len(prs.slides) == 12 and prs.slides[2].shapes.title.text == "Population"
    assert "Wrote" in capsys.readouterr().out
    chosen = tmp_path / "chosen.pptx"
    assert cli.main(["--db", db, "--lang", "zh", "deck", str(chosen), "--slides", "title,kpis,population"]) == 0
    assert [s.shapes.title.text for s in Presentation(str(chosen)).slides] == [
        "西堡镇 2024年统计概况", "西堡镇 2024年主要指标", "人口"]


def test_cli_refuses_unknown_sections_and_regions(fresh_store, tmp_path, capsys):
    db = fresh_store.path
    fresh_store.close()
    assert cli.main(["--db", db, "deck", str(tmp_path / "a.pptx"), "--slides", "title,charts"]) == 2
    assert "charts" in capsys.readouterr().err
    assert cli.main(["--db", db, "deck", str(tmp_path / "b.pptx"), "--region", "不存在镇"]) == 2
    assert not (tmp_path / "a.pptx").exists() and not (tmp_path / "b.pptx").exists()

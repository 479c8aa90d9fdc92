"""A new domain by declaration (issue 10 §3): one TOML file added to a copy of the shipped catalogue, pointed at
by LAWSTATS_CATALOGUE, and the domain is found — with no code change — in the database (observations through
storage.NewBatch and through a CSV upload), the generic page (AppTest), the CLI's catalogue listing and the deck."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import zipfile

import pytest

from lawstats import catalogue, deck, domain_view, exchange, seed, slides, storage, uploads
from tests.conftest import ROOT, run_page

NEW_DOMAIN = """
[domain]
id = "fire_safety"
zh = "消防安全"
en = "Fire safety"
order = 990
chart = "generic"

[[breakdowns]]
id = "fire_check_place"
zh = "检查场所"
en = "Place checked"
items = [
  { id = "shops", zh = "沿街商铺", en = "Street shops" },
  { id = "factories", zh = "工厂企业", en = "Factories" },
]
open = false

[[measures]]
id = "fire_inspections"
zh = "消防检查次数"
en = "Fire inspections"
unit = "次"
kind = "count"
rollup = "sum"
range = [0, 100000]
aliases = ["消防检查"]
breakdown = "fire_check_place"

[[measures]]
id = "fire_hazards_fixed"
zh = "整改火灾隐患次数"
en = "Fire hazards fixed"
unit = "次"
kind = "count"
rollup = "sum"
range = [0, 100000]

[[measures]]
id = "fire_drills"
zh = "消防演练场次"
en = "Fire drills"
unit = "场"
kind = "count"
rollup = "sum"
range = [0, 100000]
"""
CSV = "地区,年份,消防检查次数,整改火灾隐患次数,消防演练场次\n西堡镇,2023,21,8,2\n"


@pytest.fixture
def new_catalogue(tmp_path, monkeypatch):
    folder = tmp_path / "catalogue"
    shutil.copytree(catalogue.FOLDER, folder)
    (folder / "fire_safety.toml").write_text(NEW_DOMAIN, encoding="utf-8")
    monkeypatch.setenv(catalogue.CATALOGUE_ENV, str(folder))
    return folder


@pytest.fixture
def town_with_fire_figures(new_catalogue, app_db):
    """The default data plus the new domain's figures of 2024 (through NewBatch) and 2023 (through a CSV)."""
    import pandas as pd

    store = seed.open_store(app_db)
    try:
        town = storage.default_region_id(store)
        rows = [("fire_inspections", "", 30.0), ("fire_inspections", "shops", 18.0),
                ("fire_inspections", "factories", 12.0), ("fire_hazards_fixed", "", 11.0), ("fire_drills", "", 3.0)]
        storage.commit_batch(store, storage.NewBatch(file_name="fire-2024", observations=pd.DataFrame(
            [{"region_id": town, "year": 2024, "measure_id": m, "item_id": i, "value": v, "source": "消防台账2024"}
             for m, i, v in rows])))
        upload = uploads.inspect_file(store, "fire.csv", CSV.encode("utf-8"))
        assert upload.ready and upload.unknown_columns == []
        uploads.commit_upload(store, upload, user_name="tester")
        values = storage.measure_values(store, [town])
    finally:
        store.close()
    return town, values


def test_the_environment_variable_chooses_the_catalogue(new_catalogue, monkeypatch):
    assert catalogue.load().domain("fire_safety").zh == "消防安全"
    assert catalogue.load().measures["fire_inspections"].breakdown == "fire_check_place"
    monkeypatch.delenv(catalogue.CATALOGUE_ENV)
    with pytest.raises(KeyError):
        catalogue.load().domain("fire_safety")


def test_the_database_holds_the_new_domain_from_a_batch_and_from_a_csv(town_with_fire_figures):
    _, values = town_with_fire_figures
    fire = values[values["measure_id"].str.startswith("fire_")]
    by_key = {(int(r.year), r.measure_id, r.item_id): r.value for r in fire.itertuples()}
    assert by_key[(2024, "fire_inspections", "shops")] == 18 and by_key[(2024, "fire_drills", "")] == 3
    assert by_key[(2023, "fire_inspections", "")] == 21 and by_key[(2023, "fire_hazards_fixed", "")] == 8
    assert [d.id for d in domain_view.domains_with_data(catalogue.load(), values)][-1] == "fire_safety"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_generic_page_lists_and_draws_the_new_domain(town_with_fire_figures, lang):
    at = run_page("overview", lang)
    assert not at.exception, [e.value for e in at.exception]
    at.switch_page("pages/domain.py").run()  # the only catalogue domain with a generic page and data here
    assert not at.exception and not at.error, [e.value for e in [*at.exception, *at.error]]
    assert at.main.title[0].value.startswith("消防安全" if lang == "zh" else "Fire safety")
    metrics = {m.label: m.value for m in at.metric}
    inspections = "消防检查次数" if lang == "zh" else "Fire inspections"
    assert metrics[inspections].startswith("30")
    subheaders = [s.value for s in at.subheader]
    assert ("分项" if lang == "zh" else "Breakdowns") in subheaders
    assert ("历年变化" if lang == "zh" else "Over the years") in subheaders  # 2023 (CSV) and 2024 (batch)
    assert any("消防台账2024" in c.value for c in at.caption)  # the source of the values drawn


def test_the_cli_lists_the_new_domain(new_catalogue):
    out = subprocess.run([sys.executable, "-m", "lawstats", "catalogue", "--format", "csv"], cwd=ROOT,
                         env={**os.environ}, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    rows = [line for line in out.stdout.splitlines() if ",fire_safety," in line]
    assert {r.split(",")[1] for r in rows} >= {"fire_inspections", "fire_hazards_fixed", "fire_drills"}


def test_the_deck_has_a_slide_for_the_new_domain(town_with_fire_figures, app_db):
    town, _ = town_with_fire_figures
    store = seed.open_store(app_db)
    try:
        made = slides.build(store, town, 2024, "zh")
    finally:
        store.close()
    (slide,) = [s for s in made.slides if s.title == "消防安全"]
    assert slide.section == "domains" and "domains" in made.sections
    assert {k.label: k.number for k in slide.kpis}["消防检查次数"] == "30"
    assert slide.chart is not None and slide.chart.unit == "次"  # 检查 and 整改, one unit on the axis
    assert "消防台账2024" in slide.source
    pptx = deck.build_pptx(made)
    with zipfile.ZipFile(io.BytesIO(pptx)) as archive:
        xml = "".join(archive.read(n).decode("utf-8") for n in archive.namelist() if n.startswith("ppt/slides/"))
    assert "消防安全" in xml and "消防检查次数" in xml


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_compare_page_offers_and_ranks_the_new_domains_measure(town_with_fire_figures, lang):
    at = run_page("compare", lang)
    assert not at.exception, [e.value for e in at.exception]
    offered = at.selectbox(key="cmp_indicator").options
    inspections = "消防检查次数" if lang == "zh" else "Fire inspections"
    assert inspections in offered and ("消防演练场次" if lang == "zh" else "Fire drills") in offered
    at.selectbox(key="cmp_indicator").set_value("fire_inspections").run()
    assert not at.exception and not at.error, [e.value for e in [*at.exception, *at.error]]
    trend, table = at.dataframe[0].value, at.dataframe[-1].value  # one town: its trend, then its figure
    value_column = [c for c in table.columns if c in ("数值", "Value")][0]
    assert table[value_column].tolist() == [30]  # 2024: the batch's whole figure (its items are not added twice)
    years = [c for c in trend.columns if c in ("年份", "Year")][0]
    assert dict(zip(trend[years], trend[value_column])) == {2023: 21, 2024: 30}  # the CSV's year and the batch's


def _chart_colours_in_pptx(slide) -> str:
    pptx = deck.build_pptx(slides.Deck("西堡镇", 2024, "zh", 1, "", False, (slide,)))
    with zipfile.ZipFile(io.BytesIO(pptx)) as archive:
        return "".join(archive.read(n).decode("utf-8") for n in archive.namelist() if n.startswith("ppt/charts/"))


def test_slide_charts_colour_each_measure_as_its_page_charts_do(town_with_fire_figures, app_db):
    from dataclasses import replace

    from lawstats import charts, domain_charts, domain_slides

    town, values = town_with_fire_figures
    cat = catalogue.load()
    inspections, fixed = (domain_view.colour_of(cat, m) for m in ("fire_inspections", "fire_hazards_fixed"))
    assert inspections != fixed
    # The deck's slide: its chart is the breakdown of 消防检查次数, in that measure's colour as on the page
    view = domain_view.build(cat, cat.domain("fire_safety"), values, 2024, "zh")
    page = domain_charts.breakdown(view.breakdowns[0], "zh")
    store = seed.open_store(app_db)
    try:
        (slide,) = [s for s in slides.build(store, town, 2024, "zh").slides if s.title == "消防安全"]
    finally:
        store.close()
    assert slide.chart.series[0].colour == inspections and set(page.data[0].marker.color) == {inspections}
    assert charts.slide_chart(slide.chart, 600).data[0].marker.color == inspections  # on the screen
    assert f'val="{inspections.lstrip("#").upper()}"' in _chart_colours_in_pptx(slide)  # in the PowerPoint file
    # Bars of several measures (a unit group): each bar its measure's colour, on the page, the screen and the file
    grouped = replace(view, groups=(domain_view.UnitGroup("次", True, view.cards[:2]),))
    assert [f.measure_id for f in grouped.groups[0].figures] == ["fire_inspections", "fire_hazards_fixed"]
    chart = domain_slides.domain_slide(grouped, "zh").chart
    page_colours = list(domain_charts.unit_group(grouped.groups[0], "", "zh").data[0].marker.color)
    assert list(chart.colours) == page_colours == [inspections, fixed]
    assert list(charts.slide_chart(chart, 600).data[0].marker.color) == [inspections, fixed]
    xml = _chart_colours_in_pptx(replace(slide, chart=chart))
    assert all(f'val="{c.lstrip("#").upper()}"' in xml for c in (inspections, fixed))


def test_the_template_names_the_new_domains_measures_and_imports_once_filled(new_catalogue, app_db, tmp_path):
    out = subprocess.run([sys.executable, "-m", "lawstats", "template", "消防安全", "--format", "csv", "--out", "-"],
                         cwd=ROOT, env={**os.environ}, capture_output=True, timeout=120)
    assert out.returncode == 0, out.stderr.decode()
    header = out.stdout.decode("utf-8-sig").splitlines()[0].split(",")
    assert header[2:5] == ["消防检查次数", "整改火灾隐患次数", "消防演练场次"]
    filled = out.stdout + "西堡镇,2022,7,2,1,消防台账2022\n".encode("utf-8")  # the user fills it in
    store = seed.open_store(app_db)
    try:
        upload = uploads.inspect_file(store, "template.csv", filled)
        assert upload.ready and upload.unknown_columns == []
        uploads.commit_upload(store, upload, user_name="tester")
        values = storage.measure_values(store, [storage.default_region_id(store)], [2022])
    finally:
        store.close()
    stored = {r.measure_id: r.value for r in values.itertuples() if r.measure_id.startswith("fire_")}
    assert stored == {"fire_inspections": 7, "fire_hazards_fixed": 2, "fire_drills": 1}
    xlsx = exchange.template_xlsx("fire_safety", "en")
    from openpyxl import load_workbook

    data_sheet, help_sheet = load_workbook(io.BytesIO(xlsx)).worksheets
    assert [c.value for c in data_sheet[1]][2:5] == ["Fire inspections", "Fire hazards fixed", "Fire drills"]
    assert [row[0] for row in help_sheet.iter_rows(min_row=2, values_only=True)] == [
        "fire_inspections", "fire_hazards_fixed", "fire_drills"]


def test_the_data_page_offers_the_new_domains_template(town_with_fire_figures):
    at = run_page("data", "zh")
    assert not at.exception, [e.value for e in at.exception]
    assert "消防安全" in at.selectbox(key="data_template").options

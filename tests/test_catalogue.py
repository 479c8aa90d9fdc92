"""The measure catalogue (lawstats/catalogue/*.toml and lawstats.catalogue): the shipped declaration loads and
is as broad as the reports, every registry column and indicator keeps its id and meaning, a broken declaration
is refused with every problem named, and the coverage record of real reports (docs/coverage/) maps ≥ 90% of
their statistical figures to a declared measure."""

from __future__ import annotations

import csv
import json
import shutil
import textwrap

import pytest

from lawstats import catalogue, cli, registry
from lawstats.catalogue import CatalogueError
from tests.conftest import ROOT

COVERAGE = ROOT / "docs" / "coverage"
CAT = catalogue.load()


# --- the shipped catalogue ---------------------------------------------------------------------------------


def test_the_shipped_catalogue_is_as_broad_as_the_reports():
    assert len(CAT.measures) >= 120
    assert len(CAT.domains) >= 12
    assert all(CAT.measures_of(d.id) for d in CAT.domains), "a domain without measures"
    assert [d.order for d in CAT.domains] == sorted(d.order for d in CAT.domains)


def test_every_numeric_measure_says_how_reports_write_it_and_what_it_allows():
    for m in CAT.measures.values():
        if m.numeric:
            assert m.phrasings, f"{m.id} has no report phrasings"
            assert m.range is not None and m.range[0] <= m.range[1]
        assert m.unit in CAT.units and m.kind in CAT.units[m.unit].kinds
        assert m.definition_zh and m.definition_en, m.id


def test_the_default_load_is_cached_and_a_folder_load_is_not():
    assert catalogue.load() is catalogue.load()
    assert catalogue.load(catalogue.FOLDER) is not catalogue.load()


_KIND = {registry.COUNT: "count", registry.AREA: "area", registry.RATE: "rate", registry.TEXT: "text",
         registry.LIST: "list", registry.CHOICE: "text"}


@pytest.mark.parametrize("column", [c for t in registry.TABLES for c in t.columns], ids=lambda c: c.id)
def test_every_registry_column_is_a_measure_with_the_same_meaning(column):
    measure = CAT.measures[column.id]
    assert (measure.zh, measure.en) == (column.zh, column.en)
    assert measure.kind == _KIND[column.kind]
    assert measure.unit == column.unit_zh
    assert set(column.aliases) <= set(measure.aliases)
    assert measure.definition_zh.startswith(column.definition_zh)  # the same meaning, perhaps said further
    if column.kind == registry.CHOICE:
        assert measure.choices == column.choices


def test_registry_tables_keep_their_domains():
    for table in registry.TABLES:
        assert {CAT.measures[c.id].domain for c in table.columns} == {table.domain}


@pytest.mark.parametrize("indicator", registry.INDICATORS, ids=lambda i: i.id)
def test_every_registry_indicator_is_declared_over_the_same_inputs(indicator):
    declared = CAT.indicators[indicator.id]
    assert declared.domain == indicator.domain
    assert declared.headline == indicator.headline
    if declared.kind == "code":  # computed over a breakdown: the catalogue names the inputs it reads
        assert set(indicator.inputs) <= set(declared.reads)
    else:
        assert set(declared.reads) == set(indicator.inputs)
        assert catalogue.formula_text(CAT, declared, "zh") == indicator.formula_zh
    if indicator.stated_column:  # the catalogue may add a stated value the registry did not have, never drop one
        assert declared.stated == indicator.stated_column


def test_every_registry_check_and_row_rule_is_declared():
    for check in registry.CHECKS:
        declared = CAT.checks[check.id]
        assert declared.label("zh") == check.zh
        assert set(declared.badge) == set(check.indicators)
    refused = [c for c in CAT.checks.values() if c.on_upload == "refuse"]
    pairs = {(c.left[0], c.right[0]) for c in refused if c.left} | {
        (a, b) for c in refused for i, a in enumerate(c.chain) for b in c.chain[i + 1:]}
    assert set(registry.ROW_RULES) <= pairs


def test_a_formula_in_words_is_built_from_the_parts_when_not_declared():
    density = CAT.indicators["population_density"]
    assert not density.formula_zh
    assert catalogue.formula_text(CAT, density, "zh") == "户籍人口 ÷ 辖区总面积"
    assert catalogue.formula_text(CAT, CAT.indicators["disputes_per_10k"], "en") == \
        "Disputes screened ÷ Registered persons × 10000"


def test_match_phrase_finds_measures_by_how_reports_write_them():
    assert CAT.match_phrase("开展法治宣传“六进”活动")[0].id == "publicity_events"
    assert CAT.match_phrase("组织行政决策合法性审查")[0].id == "legality_reviews"
    assert CAT.match_phrase("14个村(居)")[0].id == "village_units"  # half-width brackets too
    assert CAT.match_phrase("天气晴朗") == []


def test_by_alias_reads_spreadsheet_headers():
    assert CAT.by_alias("参考率").id == "participation_rate_stated"
    assert CAT.by_alias(" 学校数(含教学点) ").id == "schools"  # spaces and bracket widths do not matter
    assert CAT.by_alias("Registered persons").id == "registered_persons"
    assert CAT.by_alias("no such header") is None


def test_units_convert_as_declared():
    assert CAT.convert(596, "公顷", "亩") == pytest.approx(8940)
    assert CAT.convert(64.08, "平方千米", "亩") == pytest.approx(96120)  # an alias of 平方公里
    assert CAT.convert(2.2, "亿元", "万元") == pytest.approx(22000)
    with pytest.raises(KeyError):
        CAT.convert(1, "人", "亩")


# --- a broken declaration is refused ---------------------------------------------------------------------------

UNITS = """
[[units]]
id = "人"
zh = "人"
en = "persons"
kinds = ["count"]

[[units]]
id = "%"
zh = "%"
en = "%"
kinds = ["rate"]
"""

PEOPLE = """
[domain]
id = "people"
zh = "人口"
en = "People"
order = 10

[[breakdowns]]
id = "sex"
zh = "性别"
en = "Sex"
items = [ { id = "male", zh = "男", en = "Male" } ]

[[measures]]
id = "persons"
zh = "人口"
en = "Persons"
unit = "人"
kind = "count"
rollup = "sum"
range = [0, 1000000]
phrasings = ["人口"]
definition_zh = "人口"
definition_en = "Persons"

[[measures]]
id = "persons_by_sex"
zh = "分性别人口"
en = "Persons by sex"
unit = "人"
kind = "count"
rollup = "sum"
range = [0, 1000000]
breakdown = "sex"
"""

STAFF = """
[domain]
id = "staff"
zh = "人员"
en = "Staff"
order = 20

[[measures]]
id = "staff"
zh = "人员"
en = "Staff"
unit = "人"
kind = "count"
rollup = "sum"
range = [0, 1000]

[[indicators]]
id = "staff_share"
zh = "人员占比"
en = "Staff share"
numerator = "staff"
denominator = "persons"
scale = 100
unit = "%"

[[checks]]
id = "staff_le_persons"
zh = "人员 ≤ 人口"
en = "Staff ≤ persons"
kind = "le"
left = "staff"
right = "persons"
"""


def _write(folder, **files):
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / f"{name}.toml").write_text(textwrap.dedent(text), encoding="utf-8")
    return folder


@pytest.fixture
def small(tmp_path):
    """A small valid catalogue: two domains, a breakdown, an indicator and a check across files."""
    return _write(tmp_path / "cat", units=UNITS, people=PEOPLE, staff=STAFF)


def test_a_small_catalogue_loads(small):
    cat = catalogue.load(small)
    assert [d.id for d in cat.domains] == ["people", "staff"]
    assert cat.measures["persons_by_sex"].breakdown == "sex"
    assert cat.indicators["staff_share"].reads == ("staff", "persons")
    assert cat.checks["staff_le_persons"].left == ("staff",)


def test_items_sharing_a_phrasing_are_told_apart_by_their_declared_context(small):
    """One declaration decides which item a figure goes to when a report names two items with the same words:
    the extractor reads the item's ``context`` (words of the measure's phrase), and pages label the item in
    the reader's language."""
    from lawstats.report.extract import extract

    people = PEOPLE.replace('items = [ { id = "male", zh = "男", en = "Male" } ]',
                            'items = [ { id = "farm", zh = "农场职工", en = "Farm staff", phrasings = ["农场"],'
                            ' context = ["职工"] }, { id = "farm_kin", zh = "农场家属", en = "Farm families",'
                            ' phrasings = ["农场"], context = ["家属"] } ]')
    people += """
[[measures]]
id = "staff_of"
zh = "职工人数"
en = "Staff"
unit = "人"
kind = "count"
rollup = "sum"
range = [0, 1000000]
breakdown = "sex"
phrasings = ["职工"]

[[measures]]
id = "kin_of"
zh = "家属人数"
en = "Family members"
unit = "人"
kind = "count"
rollup = "sum"
range = [0, 1000000]
breakdown = "sex"
phrasings = ["家属"]
"""
    cat = catalogue.load(_write(small, people=people))
    found = extract("“农场”家属120人。“农场”职工80人。", catalogue=cat).figures
    assert [(f.measure, f.item) for f in found] == [("kin_of", "farm_kin"), ("staff_of", "farm")]
    sexes = cat.breakdowns["sex"]
    assert [sexes.item_label(name, "en") for name in ("农场家属", "farm", "牧场")] == ["Farm families", "Farm staff",
                                                                                      "牧场"]


def _refused(folder) -> CatalogueError:
    with pytest.raises(CatalogueError) as caught:
        catalogue.load(folder)
    return caught.value


def test_a_duplicate_id_across_two_files_is_refused(small):
    renamed = STAFF.replace('id = "staff"\nzh = "人员"\nen = "Staff"\nunit', 'id = "persons"\nzh = "人员"\nen = "Staff"\nunit')
    _write(small, staff=renamed)
    error = _refused(small)
    assert "duplicate_id" in error.kinds
    problem = next(p for p in error.problems if p.key == "catalogue.duplicate_id")
    assert (problem.file, problem.entry, problem.params["other"]) == ("staff.toml", "persons", "people.toml")
    assert "staff.toml" in error.message("zh") and "people.toml" in error.message("en")


def test_an_unknown_unit_is_refused(small):
    _write(small, staff=STAFF.replace('unit = "人"', 'unit = "斤"'))
    error = _refused(small)
    assert error.kinds == {"unknown_unit"}
    assert "斤" in error.message("zh") and "units.toml" in error.message("en")


def test_a_unit_that_does_not_suit_the_kind_is_refused(small):
    _write(small, staff=STAFF.replace('unit = "人"', 'unit = "%"'))
    assert _refused(small).kinds == {"unit_kind"}


def test_a_derived_rollup_over_a_missing_measure_is_refused(small):
    _write(small, staff=STAFF.replace('rollup = "sum"', 'rollup = "derived"\nrollup_numerator = "staff"\n'
                                                         'rollup_denominator = "no_such_measure"'))
    error = _refused(small)
    assert error.kinds == {"missing_measure"}
    assert "no_such_measure" in error.message("en")


def test_a_formula_over_a_missing_measure_is_refused(small):
    _write(small, staff=STAFF.replace('denominator = "persons"', 'denominator = "households"'))
    error = _refused(small)
    assert error.kinds == {"missing_measure"} and error.problems[0].entry == "staff_share"


def test_a_check_over_a_missing_measure_is_refused(small):
    _write(small, staff=STAFF.replace('right = "persons"', 'right = "residents"'))
    error = _refused(small)
    assert error.kinds == {"missing_measure"} and error.problems[0].entry == "staff_le_persons"


def test_an_unknown_breakdown_is_refused(small):
    _write(small, people=PEOPLE.replace('breakdown = "sex"', 'breakdown = "age"'))
    error = _refused(small)
    assert error.kinds == {"unknown_breakdown"} and "age" in error.message("zh")


@pytest.mark.parametrize("change, kind", [
    (('kind = "count"\nrollup = "sum"\nrange = [0, 1000]', 'kind = "tally"\nrollup = "sum"\nrange = [0, 1000]'),
     "unknown_choice"),
    (('rollup = "sum"\nrange = [0, 1000]', 'rollup = "average"\nrange = [0, 1000]'), "unknown_choice"),
    (("range = [0, 1000]", "range = [1000, 0]"), "bad_range"),
    (('zh = "人员"\nen = "Staff"\nunit', 'en = "Staff"\nunit'), "missing_field"),
    (("range = [0, 1000]", "range = [0, 1000]\nphrasing = [\"人员\"]"), "unknown_field"),
])
def test_other_mistakes_in_a_measure_are_refused(small, change, kind):
    _write(small, staff=STAFF.replace(*change))
    assert kind in _refused(small).kinds


def test_every_problem_is_listed_not_only_the_first(small):
    _write(small, staff=STAFF.replace('unit = "人"', 'unit = "斤"').replace('right = "persons"', 'right = "x"'))
    error = _refused(small)
    assert error.kinds == {"unknown_unit", "missing_measure"}
    assert len(error.details) == 2 and set(error.details["file"]) == {"staff.toml"}
    assert "1" in error.message("en")  # "(and 1 more problem...)"


def test_a_refused_catalogue_leaves_the_shipped_one_alone(small):
    _write(small, staff="this is not toml [")
    assert _refused(small).kinds == {"unreadable"}
    assert catalogue.load() is CAT


def test_an_indicator_may_share_an_id_only_as_the_figure_of_that_measure(small):
    figure = '\n[[indicators]]\nid = "staff"\nkind = "figure"\nmeasure = "staff"\n'
    _write(small, staff=STAFF + figure)
    assert catalogue.load(small).indicators["staff"].kind == "figure"
    _write(small, staff=STAFF + figure.replace('measure = "staff"', 'measure = "persons"'))
    assert _refused(small).kinds == {"duplicate_id"}


def test_two_measures_of_a_domain_may_not_share_a_header(small):
    _write(small, people=PEOPLE.replace('phrasings = ["人口"]', 'aliases = ["分性别人口"]\nphrasings = ["人口"]'))
    assert _refused(small).kinds == {"duplicate_alias"}


def test_the_shipped_catalogue_copied_and_broken_is_refused(tmp_path):
    """The real files, not only the small ones: one wrong reference in land.toml is found."""
    folder = shutil.copytree(catalogue.FOLDER, tmp_path / "cat")
    land = folder / "land.toml"
    land.write_text(land.read_text(encoding="utf-8").replace('numerator = "forest_area"', 'numerator = "forests"'),
                    encoding="utf-8")
    error = _refused(folder)
    assert error.kinds == {"missing_measure"} and error.problems[0].entry == "forest_share"


# --- the coverage record of real reports ---------------------------------------------------------------------


def _rows(name: str) -> list[dict]:
    with (COVERAGE / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


REPORTS, FIGURES = _rows("reports.csv"), _rows("figures.csv")


def test_the_record_covers_at_least_25_reports_from_10_provinces():
    assert len(REPORTS) >= 25
    assert len({r["province"] for r in REPORTS}) >= 10
    assert len({r["id"] for r in REPORTS}) == len(REPORTS)
    assert all(r["url"].startswith("http") and r["town"] for r in REPORTS)


def test_every_report_has_figures_and_every_figure_a_report():
    with_figures = {f["report_id"] for f in FIGURES}
    assert {r["id"] for r in REPORTS} <= with_figures
    assert with_figures <= {r["id"] for r in REPORTS}
    for r in REPORTS:
        assert any(f["statistic"] == "true" for f in FIGURES if f["report_id"] == r["id"]), r["id"]


def test_at_least_90_percent_of_the_statistical_figures_map_to_a_measure():
    statistics = [f for f in FIGURES if f["statistic"] == "true"]
    mapped = [f for f in statistics if f["measure_id"] in CAT.measures]
    assert len(statistics) >= 200
    assert len(mapped) / len(statistics) >= 0.90


def test_the_figure_record_is_well_formed_and_holds_facts_not_sentences():
    for f in FIGURES:
        assert f["approx"] in ("true", "false") and f["statistic"] in ("true", "false")
        assert len(f["label"]) <= 12, f  # a counted noun, not a sentence
        assert "。" not in f["note"] and "，" not in f["note"] and len(f["note"]) <= 80, f
        if f["statistic"] == "false":
            assert not f["measure_id"], f  # a year or a document number is never given a measure


def test_every_mapped_figure_lies_in_its_measures_range():
    """The declared ranges admit what real reports say (a fall as a negative change, -4.2 ℃ in January...)."""
    for f in FIGURES:
        measure = CAT.measures.get(f["measure_id"])
        if f["statistic"] == "true" and measure is not None and measure.numeric:
            low, high = measure.range
            assert low <= float(f["value"]) <= high, f


def test_non_statistics_follow_the_stated_rule():
    """Years, dates, document and index numbers, phone and postal codes and numbers inside names are never
    statistics; the record holds examples of each."""
    never = {"年份", "日期", "文号", "索引号", "电话区号", "邮政编码", "热线名称", "普法规划", "纪念日", "届次"}
    assert all(f["statistic"] == "false" for f in FIGURES if f["label"] in never)
    non = {(f["value"], f["label"]) for f in FIGURES if f["statistic"] == "false"}
    assert {("8890", "热线名称"), ("12345", "热线名称"), ("八五", "普法规划"), ("〔2025〕5号", "文号"),
            ("0976", "电话区号"), ("3·15", "纪念日")} <= non


def test_the_docs_state_the_rule_and_name_every_domain():
    text = (ROOT / "docs" / "catalogue.md").read_text(encoding="utf-8")
    assert "不是统计数" in text and "not a statistic" in text
    for d in CAT.domains:
        assert f"`{d.id}`" in text, f"docs/catalogue.md does not name the domain {d.id}"


# --- the command line -------------------------------------------------------------------------------------------


def test_the_cli_lists_every_measure_and_indicator_as_json(capsys):
    assert cli.main(["catalogue", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {m["id"] for m in out["measures"]} == set(CAT.measures)
    assert {i["id"] for i in out["indicators"]} == set(CAT.indicators)
    first = next(m for m in out["measures"] if m["id"] == "registered_persons")
    assert (first["domain"], first["zh"], first["en"], first["unit"], first["kind"], first["rollup"]) == \
        ("population", "户籍人口", "Registered persons", "人", "count", "sum")
    share = next(i for i in out["indicators"] if i["id"] == "minority_share")
    assert share["formula"] == "少数民族人口 ÷ 户籍人口 × 100%"


def test_the_cli_csv_and_table_name_every_measure(capsys):
    assert cli.main(["--lang", "en", "catalogue", "--format", "csv"]) == 0
    rows = list(csv.DictReader(capsys.readouterr().out.splitlines()))
    assert {r["id"] for r in rows if r["type"] == "measure"} == set(CAT.measures)
    assert next(r for r in rows if r["id"] == "minority_share")["formula"] == \
        "minority persons ÷ registered persons × 100%"
    assert cli.main(["catalogue"]) == 0
    table = capsys.readouterr().out
    assert f"{len(CAT.measures)} 项" in table
    assert all(m in table for m in CAT.measures)


def test_the_cli_says_what_is_wrong_with_a_broken_catalogue(small, monkeypatch, capsys):
    _write(small, staff=STAFF.replace('unit = "人"', 'unit = "斤"'))
    monkeypatch.setattr(catalogue, "_load_default", lambda: catalogue._load(small))
    assert cli.main(["--lang", "en", "catalogue"]) == 2
    err = capsys.readouterr().err
    assert "staff.toml" in err and "斤" in err and "units.toml" in err

"""The slides of a meeting, as plain data: what the presentation page shows and what the PowerPoint deck holds.

``build(store, region_id, year, lang)`` reads the store once and returns a ``Deck``: a title slide, a KPI wall,
one slide per domain (population, land, grid and enterprises, training, safety and disputes), trend and
comparison slides where the data has them, a definitions appendix from the registry and a closing slide of
sources. ``pages/present.py`` draws these slides with plotly and ``lawstats.deck`` writes them as a .pptx with
native charts, so the screen and the file show the same numbers in the same order.

Numbers come from ``lawstats.summary`` (the same frames the domain pages chart), names and units from the
registry, sentences from the message catalog. No Streamlit, plotly or python-pptx here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import pandas as pd

from lawstats import storage, summary
from lawstats.colours import CONCEPT_COLORS, concept_color
from lawstats.errors import LawstatsError
from lawstats.i18n import t
from lawstats.registry import DOMAINS, INDICATORS, INDICATORS_BY_ID, TABLES, TABLES_BY_ID, domain_label

# The parts a presenter can choose, in the order they are shown.
SECTIONS = ("title", "kpis", "population", "land", "grid", "training", "governance", "domains", "trends", "compare",
            "definitions", "sources")  # "domains": the catalogue's other domains (lawstats.domain_slides)
DOMAIN_IDS = tuple(domain for domain, _, _ in DOMAINS)

# Which indicators a domain slide shows beside its chart: a choice of presentation (at most six fit).
DOMAIN_KPIS = {
    "population": ("registered_persons", "resident_persons", "registered_households", "minority_share",
                   "resident_rate", "household_size"),
    "land": ("cultivated_area", "forest_area", "cultivated_per_person", "forest_share"),
    "grid": ("sub_grids", "enterprises", "persons_per_subgrid", "households_per_subgrid", "subgrids_per_area"),
    "training": ("study_sessions", "study_completion_rate", "exam_participation_rate", "exam_pass_rate"),
    "governance": ("key_persons", "key_persons_per_10k", "mental_patients_managed", "dispute_groups",
                   "gang_crime_clues", "belief_venues"),
}
# The lines of each domain's trend slide; the indicators of one chart share a unit.
TREND_INDICATORS = {
    "population": ("registered_persons", "resident_persons"),
    "land": ("cultivated_area", "forest_area"),
    "grid": ("sub_grids", "enterprises"),
    "training": ("study_completion_rate", "exam_participation_rate", "exam_pass_rate"),
    "governance": ("key_persons", "mental_patients_managed"),
}
DEFINITIONS_PER_SLIDE = 7


@dataclass(frozen=True)
class Kpi:
    """One indicator as a tile: its name, its value as text with its unit, the change from the year before."""
    indicator_id: str
    label: str
    value: float | None
    number: str  # "25,218", "95.06%" (a percent sign stays with its number)
    unit: str = ""  # "人", "persons/sub-grid"; shown smaller than the number
    change: str = ""
    warning: str = ""  # a failed consistency check, said in words

    @property
    def text(self) -> str:
        return f"{self.number} {self.unit}" if self.unit else self.number


@dataclass(frozen=True)
class Series:
    name: str
    values: tuple[float | None, ...]
    colour: str = ""  # "#1565c0": the measure's colour on the pages (colours, domain_view.colour_of); "" = by position


@dataclass(frozen=True)
class Chart:
    """A chart as numbers: categories along one axis, one or more series of values (None where missing)."""
    kind: str  # "column" (vertical bars), "bar" (horizontal bars) or "line"
    title: str
    categories: tuple[str, ...]
    series: tuple[Series, ...]
    unit: str
    decimals: int = 0
    colours: tuple[str, ...] = ()  # one per category (bars of different measures), as on the pages; () = by series

    def values(self, series_name: str) -> tuple[float | None, ...]:
        return next(s.values for s in self.series if s.name == series_name)


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths: tuple[float, ...]  # relative column widths


@dataclass(frozen=True)
class Slide:
    section: str  # one of SECTIONS
    title: str
    subtitle: str = ""
    kpis: tuple[Kpi, ...] = ()
    chart: Chart | None = None
    table: Table | None = None
    lines: tuple[str, ...] = ()
    source: str = ""  # "来源：…" for the footer
    notes: str = ""  # speaker notes: the definitions of what the slide shows


@dataclass(frozen=True)
class Deck:
    region: str
    year: int
    lang: str
    version: int
    version_text: str  # "数据版本：第3批，更新于 …"
    synthetic: bool
    slides: tuple[Slide, ...]

    @property
    def sections(self) -> tuple[str, ...]:
        """The sections this deck has slides for (trend slides only where there are several years)."""
        present = {s.section for s in self.slides}
        return tuple(s for s in SECTIONS if s in present)

    def only(self, sections) -> Deck:
        """The deck with the slides of the chosen sections only, in the usual order."""
        chosen = set(sections)
        return replace(self, slides=tuple(s for s in self.slides if s.section in chosen))

    def footer(self, index: int) -> str:
        """The footer of slide ``index`` (0-based): its source, the data version, the page number."""
        slide = self.slides[index]
        parts = [p for p in (slide.source, self.version_text) if p]
        if self.synthetic:
            parts.insert(0, t("app.synthetic_badge", self.lang))
        parts.append(f"{index + 1} / {len(self.slides)}")
        return "  ·  ".join(parts)



def section_label(section: str, lang: str) -> str:
    """How the presenter's choice of slides names a section."""
    if section in DOMAIN_IDS:
        return domain_label(section, lang)
    return t(f"present.section.{section}", lang)


def parse_sections(text: str | None) -> list[str] | None:
    """``title,kpis,population`` (the CLI's --slides) as a list; None for all; an unknown name is an error."""
    if not text:
        return None
    chosen = [s.strip() for s in text.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in SECTIONS]
    if unknown:
        raise LawstatsError("error.unknown_slides", value=", ".join(unknown), sections=", ".join(SECTIONS))
    return chosen


# ---------------------------------------------------------------------------------------------------------
# Building the deck


def build(store: storage.Store, region_id: int, year: int, lang: str = "zh") -> Deck:
    """Every slide the data allows for a region and year (choose some with ``Deck.only``)."""
    data = _Data.load(store, region_id, year, lang)
    made = [title_slide(data), *[s for s in (kpi_slide(data),) if s is not None]]
    # a domain with nothing for the region and year (or before) has no slide: never a slide of "—"
    made += [s for s in (domain_slide(data, domain) for domain in DOMAIN_IDS) if s is not None]
    from lawstats import domain_slides  # late: it builds on this module's slide types

    made += domain_slides.slides(store, region_id, year, lang, skip=DOMAIN_IDS)
    made += [s for s in (trend_slide(data, domain) for domain in DOMAIN_IDS) if s is not None]
    made += [s for s in (year_comparison_slide(data), children_slide(data)) if s is not None]
    made += definition_slides(data, made)
    made.append(sources_slide(data))
    return Deck(data.region, year, lang, data.version, data.version_text, data.synthetic, tuple(made))


@dataclass
class _Data:
    """What the slides are made from, read once."""
    store: storage.Store
    region_id: int
    region: str
    region_path: str
    year: int
    lang: str
    version: int
    version_text: str
    synthetic: bool
    table: pd.DataFrame  # summary.indicator_table, indexed by indicator id
    inputs: pd.DataFrame
    values: pd.DataFrame
    row: pd.Series  # the year's figures
    provenance: pd.DataFrame
    rows: dict[str, pd.DataFrame]  # every stored row of the region, all years, per table id
    year_sources: pd.DataFrame  # (year, source) pairs of those rows

    @classmethod
    def load(cls, store: storage.Store, region_id: int, year: int, lang: str) -> _Data:
        regions = storage.region_path(store, region_id).set_index("region_id")  # the region and its parents only
        table = summary.indicator_table(store, region_id, year, lang, latest=True).set_index("id", drop=False)
        inputs, values, _ = summary.region_values(store, region_id)
        version, when = storage.last_update(store)
        when_text = when.strftime("%Y-%m-%d %H:%M") if when is not None else t("common.missing", lang)
        rows = {declared.id: storage.table_rows(store, declared, [region_id]) for declared in TABLES}
        year_sources = pd.concat([r[["year", "source"]] for r in rows.values()]).dropna().drop_duplicates()
        return cls(store, region_id, str(regions.loc[region_id, "name"]), _region_path(regions, region_id), year,
                   lang, version,  # the report year of the figures, and separately when they were uploaded
                   summary.data_years_line(store, region_id, year, lang)
                   or t("common.data_as_of", lang, version=version, when=when_text),
                   bool(pd.Series([regions.loc[region_id, "synthetic"]]).fillna(False).iloc[0]), table,
                   inputs, values, summary.latest_figures(inputs, year),
                   storage.value_provenance(store, region_id, year), rows, year_sources)

    def documents(self, years) -> list[str]:
        """The source documents of the region's rows in these years (read once per deck, not per slide)."""
        pairs = self.year_sources
        return sorted(set(pairs.loc[pairs["year"].isin([int(y) for y in years]), "source"].astype(str)))

    def kpis(self, ids) -> tuple[Kpi, ...]:
        """Tiles of the indicators that have a value (an earlier year's says so in its footnote)."""
        return tuple(_kpi(self.table.loc[i], self.lang) for i in ids
                     if i in self.table.index and not pd.isna(self.table.loc[i, "value"]))

    def source(self, column_ids, indicator_ids=()) -> str:
        """"来源：…" for a footer: the documents the slide's stored columns (and its tiles' indicators) come
        from, in the year of each value shown (their sections are on the sources slide); the tables' own source
        column where no per-value provenance was recorded."""
        drawn = self.drawn_years(column_ids)  # only the tables and years whose values the slide shows
        for i in indicator_ids:  # a tile's value is of one year: the year of its inputs
            value_year = self.table.loc[i, "value_year"] if i in self.table.index else None
            if value_year is not None and not pd.isna(value_year):
                drawn.update({c: int(value_year) for c in INDICATORS_BY_ID[i].inputs})
        rows = self.provenance[self.provenance["column_id"].isin([c for c, y in drawn.items() if y == self.year])]
        documents = list(dict.fromkeys(rows["source"].dropna().astype(str)))
        for table in TABLES:
            years = {y for c, y in drawn.items() if any(c == col.id for col in table.columns)}
            stored = self.rows[table.id]
            documents += [str(s) for s in stored.loc[stored["year"].isin(years), "source"].dropna()]
        documents = list(dict.fromkeys(documents))
        if not documents and not drawn:
            documents = self.documents([self.year])
        return t("common.source", self.lang, source="；".join(documents) or t("common.missing", self.lang))

    def drawn_years(self, column_ids) -> dict[str, int]:
        """The year of each stored column's value on the slides (an earlier one where the year lacks it)."""
        years = dict(self.row.attrs.get("years", {}))
        trained = summary.latest_rows(self.rows["training"], self.year)
        training_columns = {c.id for c in TABLES_BY_ID["training"].columns}
        if len(trained):
            years.update({c: trained.attrs["year"] for c in training_columns})
        return {c: years[c] for c in column_ids if c in years}

    def notes(self, ids) -> str:
        return "\n".join(f"{INDICATORS_BY_ID[i].label(self.lang)}：{INDICATORS_BY_ID[i].definition(self.lang)}"
                         f"（{INDICATORS_BY_ID[i].formula(self.lang)}）" for i in ids)


def _region_path(regions: pd.DataFrame, region_id: int) -> str:
    """青海省 · 西宁市 · 湟中区 · 西堡镇: the region under its parents."""
    names, current, seen = [], region_id, set()
    while current is not None and not pd.isna(current) and current in regions.index and current not in seen:
        seen.add(current)
        names.append(str(regions.loc[current, "name"]))
        current = regions.loc[current, "parent_id"]
        current = None if current is None or pd.isna(current) else int(current)
    return " · ".join(reversed(names))


def _kpi(row, lang: str) -> Kpi:
    value = None if row["value"] is None or pd.isna(row["value"]) else float(row["value"])
    warning = t("common.check_failed", lang, checks="；".join(row["failed_checks"])) \
        if row["check_status"] == "fail" else ""
    indicator = INDICATORS_BY_ID[row["id"]]
    number = summary.format_value(value, indicator, lang, with_unit=False)
    unit = indicator.unit(lang)
    if unit == "%" and value is not None:
        number, unit = f"{number}%", ""
    return Kpi(row["id"], row["label"], value, number, unit if value is not None else "", _change_text(row, lang),
               warning)


def _change_text(row, lang: str) -> str:
    """同比 +1,234 人 / 同比 +1.20 个百分点: the change from the previous year with data, or nothing."""
    change = row["yoy"]
    value_year = row.get("value_year") if hasattr(row, "get") else None
    if value_year is not None and not pd.isna(value_year) and int(value_year) != int(row.get("year", value_year)):
        return summary.year_label(int(value_year), lang)  # an earlier year's value: “2024年数据”
    if change is None or pd.isna(change):
        return ""
    indicator = INDICATORS_BY_ID[row["id"]]
    sign = "+" if change > 0 else ("−" if change < 0 else "±")
    number = summary.format_number(abs(float(change)), indicator.decimals, lang)
    unit = t("present.points", lang) if indicator.unit(lang) == "%" else indicator.unit(lang)
    return f"{t('common.yoy', lang)} {sign}{number} {unit}".rstrip()


def _value(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


# --- the slides ---


def title_slide(data: _Data) -> Slide:
    lines = [data.region_path, *data.version_text.split("  ·  ")]  # report year and upload time, a line each
    if data.synthetic:
        lines.insert(0, t("app.synthetic_badge", data.lang))
    shown_years = set(data.drawn_years([c.id for table in TABLES for c in table.columns]).values()) or {data.year}
    sources = "；".join(data.documents(sorted(shown_years)))
    return Slide("title", t("present.slide.title", data.lang, region=data.region, year=data.year),
                 subtitle=t("app.title", data.lang), lines=tuple(lines),
                 source=t("common.source", data.lang, source=sources))


def kpi_slide(data: _Data) -> Slide | None:
    ids = [i.id for i in INDICATORS if i.headline]
    if not data.kpis(ids):
        return None
    return Slide("kpis", t("present.slide.kpis", data.lang, region=data.region, year=data.year),
                 kpis=data.kpis(ids), source=data.source([], ids), notes=data.notes(ids))


def _input_columns(indicator_ids) -> list[str]:
    return [c for i in indicator_ids for c in INDICATORS_BY_ID[i].inputs]


def domain_slide(data: _Data, domain: str) -> Slide | None:
    """A domain's tiles beside its chart; None when the region has neither for the year or before."""
    ids = DOMAIN_KPIS[domain]
    chart, columns = DOMAIN_CHARTS[domain](data)
    if chart is None and not data.kpis(ids):
        return None
    return Slide(domain, domain_label(domain, data.lang), kpis=data.kpis(ids), chart=chart,
                 source=data.source(columns, ids), notes=data.notes(ids))


def _grouped(frame: pd.DataFrame, kind: str, title: str, lang: str, category="item", series="series",
             value="value", decimals: int = 0) -> Chart | None:
    """A chart from one of ``summary``'s long frames: categories from one column, series from another."""
    frame = frame.dropna(subset=[value])
    if frame.empty:
        return None
    categories = tuple(dict.fromkeys(frame[category].astype(str)))
    names = tuple(dict.fromkeys(frame[series].astype(str))) if series in frame else (title,)
    measures = "concept" in frame  # the measure ids that key the pages' colours (lawstats.colours)
    out = []
    for name in names:
        part = frame[frame[series].astype(str) == name] if series in frame else frame
        by_category = dict(zip(part[category].astype(str), part[value]))
        colour = _declared_colour(part["concept"]) if measures and series in frame else ""
        out.append(Series(name, tuple(_value(by_category.get(c)) for c in categories), colour))
    colours = ()
    if measures and series not in frame:  # each category a measure: each bar in its colour, as on the pages
        concepts = dict(zip(frame[category].astype(str), frame["concept"]))
        colours = tuple(concept_color(concepts[c]) for c in categories)
    units = frame["unit"].dropna().unique() if "unit" in frame else []
    unit = str(units[0]) if len(units) == 1 else ""
    return Chart(kind, _with_unit(title, unit, lang), categories, tuple(out), unit, decimals, colours)


def _declared_colour(concepts) -> str:
    """The colour the pages give a series' measures (户籍 persons and households: one blue); "" where they have
    none or differ, so that the series is coloured by position and never shares the neutral colour."""
    colours = {CONCEPT_COLORS.get(c, "") for c in concepts}
    return colours.pop() if len(colours) == 1 else ""


def _with_unit(label: str, unit: str, lang: str) -> str:
    """耕地面积（亩） / Cultivated land (mu): the house style of a title with its unit (as charts.unit_title;
    written here so that the CLI's deck does not import plotly)."""
    if not unit or (lang == "en" and unit.lower() == label.lower()):  # not "Persons (persons)"
        return label
    return f"{label}（{unit}）" if lang == "zh" else f"{label} ({unit})"


def population_chart(data: _Data) -> tuple[Chart | None, list[str]]:
    """户籍 vs 常住, persons and households side by side (each category carries its unit)."""
    frame = summary.population_structure(data.row, data.lang).copy()
    frame["category"] = [_with_unit(g, u, data.lang) for g, u in zip(frame["group"], frame["unit"])]
    chart = _grouped(frame, "column", t("pages.chart.population_structure", data.lang), data.lang,
                     category="category")
    return chart, frame.attrs.get("columns", [])


def land_chart(data: _Data) -> tuple[Chart | None, list[str]]:
    frame = summary.land_areas(data.row, data.lang)
    chart = _grouped(frame, "column", t("pages.chart.land_areas", data.lang), data.lang, decimals=2)
    return chart, frame.attrs.get("columns", [])


def grid_chart(data: _Data) -> tuple[Chart | None, list[str]]:
    frame = summary.grid_coverage(data.row, data.lang)
    chart = _grouped(frame, "bar", t("pages.chart.grid_coverage", data.lang), data.lang)
    return chart, frame.attrs.get("columns", [])


def training_chart(data: _Data) -> tuple[Chart | None, list[str]]:
    """Each programme's rates: computed from counts where the report gives them, else as it states them."""
    training = data.rows["training"]
    programmes = summary.latest_rows(training, data.year)
    frame = summary.training_rates(programmes, data.lang, data.year).copy()
    if summary.all_at_target(frame):  # bars all at 100% say nothing the tiles do not: no chart
        return None, frame.attrs.get("columns", [])
    frame["value"] = frame["computed"].where(frame["computed"].notna(), frame["stated"])
    # A programme is either studied or examined: one participation series for both keeps the bars together.
    participation = {t("pages.series.study_participation", data.lang), t("pages.series.exam_participation", data.lang)}
    frame["series"] = [t("present.series.participation", data.lang) if s in participation else s
                       for s in frame["series"]]
    chart = _grouped(frame, "bar", t("present.chart.training_rates", data.lang), data.lang, decimals=1)
    return chart, frame.attrs.get("columns", [])


def no_chart(data: _Data) -> tuple[Chart | None, list[str]]:
    """Safety figures have different units (persons, groups, clues): the tiles say them better than one axis."""
    return None, []


DOMAIN_CHARTS = {"population": population_chart, "land": land_chart, "grid": grid_chart,
                 "training": training_chart, "governance": no_chart}


def trend_slide(data: _Data, domain: str) -> Slide | None:
    """A domain's indicators over the years up to the chosen one; None with fewer than two years of them."""
    ids = list(TREND_INDICATORS[domain])
    values = data.values[data.values["year"] <= data.year]
    frame = summary.indicator_series(values, ids, data.lang)
    years = sorted(int(y) for y in frame["year"].unique())
    if len(years) < 2:
        return None
    series = []
    for indicator_id in ids:
        label = INDICATORS_BY_ID[indicator_id].label(data.lang)
        part = frame[frame["group"] == label]
        by_year = dict(zip(part["year"].astype(int), part["value"]))
        series.append(Series(label, tuple(_value(by_year.get(y)) for y in years),
                             CONCEPT_COLORS.get(indicator_id, "")))  # as the pages' trend lines
    indicator = INDICATORS_BY_ID[ids[0]]
    title = _with_unit(t("present.slide.trend", data.lang, domain=domain_label(domain, data.lang), first=years[0],
                         last=years[-1]), indicator.unit(data.lang), data.lang)
    chart = Chart("line", title, tuple(str(y) for y in years), tuple(series), indicator.unit(data.lang),
                  indicator.decimals)
    sources = "；".join(data.documents(years))
    return Slide("trends", title, chart=chart, source=t("common.source", data.lang, source=sources),
                 notes=data.notes(ids))


def year_comparison_slide(data: _Data) -> Slide | None:
    """The headline indicators of the chosen year beside the latest earlier year with data."""
    earlier = sorted(int(y) for y in data.values["year"] if int(y) < data.year)
    if not earlier:
        return None
    before = earlier[-1]
    previous = data.values[data.values["year"] == before].iloc[0]
    ids = [i.id for i in INDICATORS if i.headline]
    rows = []
    for indicator_id in ids:
        indicator, now = INDICATORS_BY_ID[indicator_id], data.table.loc[indicator_id]
        then = previous[indicator_id]
        if pd.isna(now["value"]) and pd.isna(then):
            continue  # nothing to compare
        rows.append((now["label"], summary.format_value(then, indicator, data.lang), now["formatted"],
                     _difference_text(now["value"], then, indicator, data.lang)))
    header = (t("common.indicator", data.lang), str(before), str(data.year), t("present.change", data.lang))
    sources = "；".join(data.documents([before, data.year]))
    return Slide("compare", t("present.slide.compare", data.lang, before=before, year=data.year),
                 table=Table(header, tuple(rows), (3.2, 2, 2, 2.4)),
                 source=t("common.source", data.lang, source=sources), notes=data.notes(ids))


def _difference_text(now, then, indicator, lang: str) -> str:
    if now is None or then is None or pd.isna(now) or pd.isna(then):
        return t("common.missing", lang)
    change = float(now) - float(then)
    sign = "+" if change > 0 else ("−" if change < 0 else "±")
    unit = t("present.points", lang) if indicator.unit(lang) == "%" else indicator.unit(lang)
    return f"{sign}{summary.format_number(abs(change), indicator.decimals, lang)} {unit}".rstrip()


def children_slide(data: _Data) -> Slide | None:
    """The villages and communities compared, where the data has at least two of them for the year."""
    frame = summary.children_figures(data.store, data.region_id, data.year, data.lang)
    if len(frame) < 2:
        return None
    chart = _grouped(frame, "bar", t("pages.chart.children", data.lang), data.lang)
    return Slide("compare", chart.title, chart=chart,
                 source=t("common.source", data.lang, source="；".join(dict.fromkeys(frame["source"].dropna()))))


def definition_slides(data: _Data, slides: list[Slide]) -> list[Slide]:
    """The definitions appendix: every indicator the deck shows, as the registry declares it."""
    shown = {k.indicator_id for s in slides for k in s.kpis}
    shown |= {i for domain in DOMAIN_IDS for i in TREND_INDICATORS[domain]} if any(
        s.section == "trends" for s in slides) else set()
    indicators = [i for i in INDICATORS if i.id in shown]
    header = (t("common.indicator", data.lang), t("present.definition", data.lang), t("present.formula", data.lang))
    rows = [(_with_unit(i.label(data.lang), i.unit(data.lang), data.lang), i.definition(data.lang),
             i.formula(data.lang)) for i in indicators]
    parts = math.ceil(len(rows) / DEFINITIONS_PER_SLIDE)
    out = []
    for part in range(parts):
        chunk = rows[part * DEFINITIONS_PER_SLIDE:(part + 1) * DEFINITIONS_PER_SLIDE]
        title = t("present.slide.definitions", data.lang, part=part + 1, parts=parts)
        out.append(Slide("definitions", title, table=Table(header, tuple(chunk), (2.6, 4, 4)),
                         source=t("present.source_registry", data.lang)))
    return out


def sources_slide(data: _Data) -> Slide:
    """Where every table's figures come from (document and section), the data version and failed checks."""
    rows = []
    for table in TABLES:
        provenance = data.provenance[data.provenance["table_id"] == table.id].dropna(subset=["source"])
        if provenance.empty:  # the table's rows of the year its values on the slides are of
            stored = data.rows[table.id]
            shown = set(data.drawn_years([c.id for c in table.columns]).values()) or {data.year}
            provenance = stored.loc[stored["year"].isin(shown), ["source", "section"]].dropna(subset=["source"])
        for source in dict.fromkeys(provenance["source"].astype(str)):
            sections = provenance.loc[provenance["source"].astype(str) == source, "section"].dropna()
            rows.append((table.label(data.lang), source, "；".join(dict.fromkeys(sections.astype(str)))))
    lines = [data.version_text]
    failed = sorted({c for checks in data.table["failed_checks"] for c in checks})
    if failed:
        lines.append(t("common.check_failed", data.lang, checks="；".join(failed)))
    if data.synthetic:
        lines.append(t("app.synthetic_badge", data.lang))
    header = (t("present.table", data.lang), t("present.document", data.lang), t("present.section_col", data.lang))
    return Slide("sources", t("present.slide.sources", data.lang), table=Table(header, tuple(rows), (1.6, 4.4, 4)),
                 lines=tuple(lines), source=t("present.source_registry", data.lang), notes=report_sentences(data))


def report_sentences(data: _Data) -> str:
    """The speaker notes of the sources slide: every value of the region and year that came from a report, with
    its sentence (a slide has no room for them; the presenter can still answer "where does this come from?")."""
    from lawstats.report import sentences  # late: the report package builds on storage, as this module does

    frame = sentences.values_with_sentences(data.store, data.region_id, data.year, data.lang)
    if frame.empty:
        return ""
    heading = t("sentences.caption", data.lang, region=data.region, year=data.year)
    return "\n".join([heading, *(f"{value} {quoted}" for value, quoted in sentences.lines(frame, data.lang))])


# ---------------------------------------------------------------------------------------------------------
# Text layout shared by the screen (lawstats.charts) and the file (lawstats.deck)


def text_width(text: str) -> float:
    """Width of a text in ems: a Chinese character is one em, a Latin letter or digit about half of one."""
    return sum(1.0 if ord(ch) > 0x2E7F else 0.56 for ch in str(text))


def fit_number(number: str, unit: str, room: float, largest: float, smallest: float,
               unit_ratio: float = 0.45) -> tuple[int, bool]:
    """How a tile shows a number and its smaller unit in ``room`` (px or pt): (number size, unit on a line of
    its own). The unit stays beside the number where both fit at the largest size, else it goes below, and the
    number shrinks only if it alone does not fit."""
    def width(size: float, with_unit: bool) -> float:  # the number is bold: its digits and % are wider
        return text_width(number) * size * 1.2 + (text_width(f" {unit}") * size * unit_ratio if with_unit else 0)

    room *= 0.95  # fonts differ a little from the estimate
    if width(largest, bool(unit)) <= room:
        return int(largest), False
    size = largest
    while size > smallest and width(size, False) > room:
        size -= 1
    return int(size), bool(unit)


# ---------------------------------------------------------------------------------------------------------
# Auto-advance


def auto_advance(current: int, total: int, shown: tuple[int, float] | None, now: float, seconds: int) -> int:
    """The slide an auto-advance tick shows: the next one (after the last, the first again) once ``current``
    has been on screen for ``seconds``; else ``current``. ``shown`` is (slide, since when) as last recorded,
    so that a slide the presenter just moved to gets its full time."""
    if not seconds or total < 2 or shown is None or shown[0] != current or now - shown[1] < seconds - 0.5:
        return current
    return current % total + 1

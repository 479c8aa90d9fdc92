"""What a catalogue domain's page and slide show, computed from the stored values of one region (no Streamlit).

``build(catalogue, domain, values, year, lang)`` takes a ``storage.measure_values`` frame of one region (several
years) and returns a ``DomainView``: the KPI cards (the domain's ``headline = true`` measures, else its first
ones), the other figures grouped by unit (never two units on one axis), the breakdowns (per item), the trends
over the years, the rates that are all 100% as one line of text, the text measures, and the documents the values
come from. Each figure is the latest value up to the chosen year; an older one carries its year ("2024年数据").

The chart rules of issue 10 §5 live here and in ``figures`` below: one colour per measure everywhere
(``colour_of``), a share under 5% never a donut slice (breakdowns are bars), no alarm red among ordinary bars,
count axes never fractional.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from lawstats.catalogue import Catalogue, Domain, Measure
from lawstats.i18n import singular_counts, t

# One colour per measure, declared once. No red: red is kept for a check that fails.
PALETTE = ("#1565c0", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f", "#5d4037", "#546e7a", "#283593", "#827717",
           "#0277bd")
HEADLINE_CARDS = 4  # a domain that flags no headline measure shows its first four numeric measures
COUNT_KINDS = ("count",)
RATE_UNIT = "%"
FULL_RATE = 100.0


def colour_of(catalogue: Catalogue, measure_id: str) -> str:
    """The measure's colour in every chart: by its place in its domain, so that the measures drawn together
    (one domain) never share a colour while their domain has no more measures than the palette."""
    measure = catalogue.measures[measure_id]
    position = [m.id for m in catalogue.measures_of(measure.domain)].index(measure_id)
    return PALETTE[position % len(PALETTE)]


@dataclass(frozen=True)
class Figure:
    """One measure's value as drawn: the latest up to the chosen year."""
    measure_id: str
    label: str
    unit: str  # in the reader's language
    kind: str
    value: float | None
    text: str  # the value as text with thousands separators (and 约 / about when approximate)
    year: int
    year_note: str  # "2024年数据" when older than the chosen year, else ""
    colour: str
    definition: str = ""
    source: str = ""
    sentence: str = ""  # the report's sentence the value was read from, if it came from a report


@dataclass(frozen=True)
class UnitGroup:
    """Figures that share a unit: one chart with one axis."""
    unit: str
    integer: bool  # a count: its axis has whole ticks only
    figures: tuple[Figure, ...]


@dataclass(frozen=True)
class BreakdownView:
    """One measure per item of its breakdown, in one year."""
    measure_id: str
    title: str
    unit: str
    integer: bool
    year: int
    year_note: str
    colour: str
    items: pd.DataFrame  # item, value, text


@dataclass(frozen=True)
class Trend:
    """The measures of one unit over the years (two or more years)."""
    unit: str
    integer: bool
    frame: pd.DataFrame  # year, measure_id, label, value, colour


@dataclass(frozen=True)
class DomainView:
    domain: Domain
    title: str
    year: int
    cards: tuple[Figure, ...] = ()
    groups: tuple[UnitGroup, ...] = ()
    singles: tuple[Figure, ...] = ()  # numeric figures alone in their unit (not cards): shown as numbers
    rates_line: str = ""  # "文书规范率、程序合规率均为100%"
    breakdowns: tuple[BreakdownView, ...] = ()
    trends: tuple[Trend, ...] = ()
    texts: tuple[Figure, ...] = ()  # text and list measures
    full_rates: tuple[Figure, ...] = ()  # the rates rates_line names
    sources: tuple[str, ...] = ()  # the documents of the values drawn
    sentences: tuple[Figure, ...] = field(default=())  # figures that came with a report's sentence

    @property
    def empty(self) -> bool:
        return not (self.cards or self.groups or self.singles or self.rates_line or self.breakdowns or self.texts)

    @property
    def figures(self) -> tuple[Figure, ...]:
        return (*self.cards, *(f for g in self.groups for f in g.figures), *self.singles, *self.texts)


def domains_with_data(catalogue: Catalogue, values: pd.DataFrame) -> list[Domain]:
    """The catalogue's domains that hold at least one stored value in ``values``, in catalogue order."""
    return domains_of(catalogue, set(values.loc[_has_value(values), "measure_id"]) if len(values) else set())


def domains_of(catalogue: Catalogue, measure_ids: set[str]) -> list[Domain]:
    """The catalogue's domains of some measures (``storage.measures_with_data``), in catalogue order."""
    held = {catalogue.measures[m].domain for m in measure_ids if m in catalogue.measures}
    return [d for d in catalogue.domains if d.id in held]


def _has_value(values: pd.DataFrame) -> pd.Series:
    text = values["text_value"] if "text_value" in values else pd.Series(None, index=values.index)
    return values["value"].notna() | (text.notna() & (text.astype("string").str.strip() != ""))


def build(catalogue: Catalogue, domain: Domain, values: pd.DataFrame, year: int, lang: str) -> DomainView:
    """What the domain's page shows for ``year`` from ``values`` (one region's measure_values, any years)."""
    measures = catalogue.measures_of(domain.id)
    rows = _records(values, {m.id for m in measures}, year)
    totals = _latest_per_year([r for r in rows if not r["item_id"]])  # {measure: {year: row}}
    items = [r for r in rows if r["item_id"]]
    latest = {m.id: _figure(catalogue, m, totals.get(m.id), year, lang) for m in measures}
    latest = {k: v for k, v in latest.items() if v is not None}

    numeric = [latest[m.id] for m in measures if m.id in latest and m.numeric]
    rates = [f for f in numeric if f.unit == _unit(catalogue, RATE_UNIT, lang)]
    rates_line, full_rates = "", ()
    if len(rates) >= 2 and all(f.value == FULL_RATE for f in rates):  # a wall of 100% says one thing
        rates_line, full_rates = _all_full_text(rates, lang), tuple(rates)
        numeric = [f for f in numeric if f not in rates]
    cards = _cards(measures, numeric)
    rest = [f for f in numeric if f not in cards]
    groups, singles = _by_unit(rest)
    texts = tuple(latest[m.id] for m in measures if m.id in latest and not m.numeric)
    breakdowns = tuple(b for b in (_breakdown(catalogue, m, items, year, lang) for m in measures) if b is not None)
    trends = _trends(catalogue, measures, totals, lang)
    drawn = [totals[f.measure_id][f.year] for f in latest.values()]
    drawn += [r for b in breakdowns for r in items if r["measure_id"] == b.measure_id and r["year"] == b.year]
    return DomainView(domain, domain.label(lang), year, tuple(cards), tuple(groups), tuple(singles), rates_line,
                      breakdowns, trends, texts, full_rates, _sources(drawn, lang),
                      tuple(f for f in latest.values() if f.sentence))


def _records(values: pd.DataFrame, measure_ids: set[str], year: int) -> list[dict]:
    """The rows of these measures up to ``year`` that hold a value, as plain dicts (one small region's values:
    plain Python beats a pandas filter per measure by two orders of magnitude)."""
    if not len(values):
        return []
    mine = values[values["measure_id"].isin(measure_ids) & (values["year"] <= year)]
    mine = mine[_has_value(mine)]
    out = []
    for row in mine.to_dict("records"):
        row["item_id"] = "" if row.get("item_id") is None or pd.isna(row.get("item_id")) else str(row["item_id"])
        row["year"] = int(row["year"])
        out.append(row)
    return out


def _order(row: dict) -> float:
    batch = row.get("batch_id")
    return -1.0 if batch is None or pd.isna(batch) else float(batch)


def _latest_per_year(rows: list[dict]) -> dict[str, dict[int, dict]]:
    """{measure: {year: the row of the newest batch}}."""
    out: dict[str, dict[int, dict]] = {}
    for row in sorted(rows, key=_order):
        out.setdefault(row["measure_id"], {})[row["year"]] = row
    return out


def _unit(catalogue: Catalogue, unit_id: str, lang: str) -> str:
    return catalogue.unit_label(unit_id, lang)


def number_text(value: float | None, approx: bool = False, lang: str = "zh") -> str:
    """1,234 · 58,670.24 · 95.5 — full digits, no trailing zeros; 约 / about for an approximate figure."""
    if value is None or pd.isna(value):
        return t("common.missing", lang)
    value = float(value)
    text = f"{value:,.0f}" if value.is_integer() else f"{value:,.2f}".rstrip("0").rstrip(".")
    return (("约" if lang == "zh" else "about ") + text) if approx else text


def with_unit(number: str, unit: str) -> str:
    """"13 次", "95%", "1 person" (an English count of one in the singular)."""
    if not unit:
        return number
    return f"{number}%" if unit == RATE_UNIT else singular_counts(f"{number} {unit}")


def year_note(data_year: int, chosen_year: int, lang: str) -> str:
    return t("domain.year_note", lang, year=data_year) if data_year < chosen_year else ""


def _figure(catalogue: Catalogue, measure: Measure, by_year: dict[int, dict] | None, year: int,
            lang: str) -> Figure | None:
    if not by_year:
        return None
    data_year = max(by_year)
    row = by_year[data_year]
    unit = _unit(catalogue, measure.unit, lang)
    if measure.numeric:
        value = None if _missing(row.get("value")) else float(row["value"])
        text = with_unit(number_text(value, _flag(row, "approx"), lang), unit)
    else:
        value, text = None, _choice_text(measure, str(row["text_value"]), lang)
    definition = measure.definition_zh if lang == "zh" else measure.definition_en
    return Figure(measure.id, measure.label(lang), unit, measure.kind, value, text, data_year,
                  year_note(data_year, year, lang), colour_of(catalogue, measure.id), definition,
                  _text(row, "source"), _text(row, "sentence"))


def _missing(value) -> bool:
    return value is None or pd.isna(value)


def _flag(row: dict, name: str) -> bool:
    return False if _missing(row.get(name)) else bool(row[name])


def _text(row: dict, name: str) -> str:
    return "" if _missing(row.get(name)) else str(row[name])


def _choice_text(measure: Measure, stored: str, lang: str) -> str:
    for value, zh, en in measure.choices:
        if value == stored:
            return zh if lang == "zh" else en
    return stored


def _all_full_text(rates: list[Figure], lang: str) -> str:
    names = ("、" if lang == "zh" else ", ").join(f.label for f in rates)
    notes = sorted({f.year_note for f in rates if f.year_note})
    suffix = f"（{'；'.join(notes)}）" if notes and lang == "zh" else f" ({'; '.join(notes)})" if notes else ""
    return t("domain.all_full", lang, names=names) + suffix


def _cards(measures: list[Measure], numeric: list[Figure]) -> list[Figure]:
    flagged = {m.id for m in measures if m.headline}
    if flagged:
        return [f for f in numeric if f.measure_id in flagged]
    return numeric[:HEADLINE_CARDS]


def _by_unit(figures: list[Figure]) -> tuple[list[UnitGroup], list[Figure]]:
    """Figures grouped by unit, in catalogue order; a unit with one figure has no chart of its own."""
    units = list(dict.fromkeys(f.unit for f in figures))
    groups, singles = [], []
    for unit in units:
        part = [f for f in figures if f.unit == unit]
        if len(part) >= 2:
            groups.append(UnitGroup(unit, all(f.kind in COUNT_KINDS for f in part), tuple(part)))
        else:
            singles.extend(part)
    return groups, singles


def _breakdown(catalogue: Catalogue, measure: Measure, items: list[dict], year: int,
               lang: str) -> BreakdownView | None:
    rows = [r for r in items if r["measure_id"] == measure.id and not _missing(r.get("value"))]
    if not measure.breakdown or not rows:
        return None
    data_year = max(r["year"] for r in rows)
    newest = {r["item_id"]: r for r in sorted((r for r in rows if r["year"] == data_year), key=_order)}
    declared = catalogue.breakdowns[measure.breakdown]
    names = {i.id: (i.zh if lang == "zh" else i.en) for i in declared.items}
    order = {i.id: n for n, i in enumerate(declared.items)}
    picked = sorted(newest.values(), key=lambda r: order.get(r["item_id"], len(order)))
    unit = _unit(catalogue, measure.unit, lang)
    frame = pd.DataFrame({
        "item": [names.get(r["item_id"], r["item_id"]) for r in picked],
        "value": pd.Series([float(r["value"]) for r in picked], dtype="float64"),
        "text": [with_unit(number_text(r["value"], _flag(r, "approx"), lang), unit) for r in picked],
    })
    title = f"{measure.label(lang)} · {declared.zh if lang == 'zh' else declared.en}"
    return BreakdownView(measure.id, title, unit, measure.kind in COUNT_KINDS, data_year,
                         year_note(data_year, year, lang), colour_of(catalogue, measure.id), frame)


def _trends(catalogue: Catalogue, measures: list[Measure], totals: dict[str, dict[int, dict]],
            lang: str) -> tuple[Trend, ...]:
    """One line chart per unit, for the measures with values in two or more years."""
    out = []
    numeric = [m for m in measures if m.numeric]
    for unit_id in dict.fromkeys(m.unit for m in numeric):
        rows = []
        for m in (m for m in numeric if m.unit == unit_id):
            by_year = {y: r for y, r in totals.get(m.id, {}).items() if not _missing(r.get("value"))}
            if len(by_year) < 2:
                continue
            rows += [{"year": y, "measure_id": m.id, "label": m.label(lang), "value": float(by_year[y]["value"]),
                      "colour": colour_of(catalogue, m.id)} for y in sorted(by_year)]
        if rows:
            frame = pd.DataFrame(rows)
            integer = all(catalogue.measures[i].kind in COUNT_KINDS for i in frame["measure_id"].unique())
            out.append(Trend(_unit(catalogue, unit_id, lang), integer, frame))
    return tuple(out)


def _sources(drawn: list[dict], lang: str) -> tuple[str, ...]:
    """The documents of the values drawn (their batch where a value names no document)."""
    names = []
    for row in drawn:
        if _text(row, "source").strip():
            names.append(_text(row, "source"))
        elif not _missing(row.get("batch_id")):
            names.append(t("domain.batch", lang, batch=int(row["batch_id"])))
    return tuple(dict.fromkeys(names))


def source_text(view: DomainView, lang: str) -> str:
    """来源：…, naming the documents of the values drawn."""
    return t("common.source", lang, source="；".join(view.sources) or t("common.missing", lang))

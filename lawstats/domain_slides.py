"""A slide per catalogue domain that has no slide of its own, for the meeting deck (``lawstats.slides.build`` calls
``slides`` here). Each slide shows what ``lawstats.domain_view`` computes for the domain's page: its figures as
tiles (an older year named under the number), the rates that are all 100% as one tile, and one chart (the first
unit group, else the first breakdown), each measure in its page colour (``domain_view.colour_of``). A domain with
nothing up to the chosen year has no slide.
"""

from __future__ import annotations

import pandas as pd

from lawstats import catalogue as catalogue_module
from lawstats import storage
from lawstats.domain_view import DomainView, Figure, build, domains_with_data, source_text
from lawstats.i18n import t
from lawstats.slides import Chart, Kpi, Series, Slide

SECTION = "domains"
TILES = 6  # at most six tiles fit beside a chart


def slides(store: storage.Store, region_id: int, year: int, lang: str, skip=()) -> list[Slide]:
    """The slides of the catalogue domains with figures for the region up to ``year``, in catalogue order;
    ``skip``: domains whose slides are made elsewhere."""
    catalogue = catalogue_module.load()
    values = storage.measure_values(store, [region_id])
    made = []
    for domain in domains_with_data(catalogue, values):
        if domain.id in skip:
            continue
        view = build(catalogue, domain, values, year, lang)
        if not view.empty:
            made.append(domain_slide(view, lang))
    return made


def domain_slide(view: DomainView, lang: str) -> Slide:
    tiles = [_kpi(f, lang) for f in (*view.cards, *view.singles)]
    if view.rates_line:  # one tile for the rates that are all 100% (their names, too long for a tile, in the notes)
        tiles.insert(0, Kpi("all_rates_full", t("domain.rates_tile", lang, count=len(view.full_rates)), 100.0, "100%"))
    notes = "\n".join([view.rates_line] * bool(view.rates_line)
                      + [f"{f.label}：{f.definition}" for f in view.figures if f.definition])
    return Slide(SECTION, view.title, kpis=tuple(tiles[:TILES]), chart=_chart(view, lang),
                 source=source_text(view, lang), notes=notes)


def _kpi(figure: Figure, lang: str) -> Kpi:
    number, unit = figure.text, ""
    if figure.unit and figure.unit != "%" and figure.text.endswith(figure.unit):
        number, unit = figure.text[:-len(figure.unit)].rstrip(), figure.unit
    return Kpi(figure.measure_id, figure.label, figure.value, number, unit, figure.year_note)


def _chart(view: DomainView, lang: str) -> Chart | None:
    """The first unit group as bars, else the first breakdown: one unit on the axis."""
    if view.groups:
        group = view.groups[0]
        labels = tuple(f.label for f in group.figures)
        return Chart("bar", _titled(view.title, group.unit, lang), labels,
                     (Series(view.title, tuple(f.value for f in group.figures)),), group.unit,
                     0 if group.integer else 2, colours=tuple(f.colour for f in group.figures))
    if view.breakdowns:
        part = view.breakdowns[0]
        values = tuple(None if pd.isna(v) else float(v) for v in part.items["value"])
        title = part.title + (f"（{part.year_note}）" if part.year_note and lang == "zh"
                              else f" ({part.year_note})" if part.year_note else "")
        return Chart("bar", _titled(title, part.unit, lang), tuple(part.items["item"]),
                     (Series(part.title, values, colour=part.colour),), part.unit, 0 if part.integer else 2)
    return None


def _titled(title: str, unit: str, lang: str) -> str:
    if not unit:
        return title
    return f"{title}（{unit}）" if lang == "zh" else f"{title} ({unit})"

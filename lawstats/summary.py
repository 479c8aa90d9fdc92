"""What the pages, the CLI and the deck show, as plain DataFrames: indicator values with their metadata,
year-over-year change, check status and sources. No Streamlit here.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from lawstats import catalogue, importer, indicators, storage
from lawstats.errors import NotFound
from lawstats.i18n import singular_counts, t
from lawstats.registry import CHECKS_BY_ID, INDICATORS, INDICATORS_BY_ID, TABLES, Indicator


def format_number(value, decimals: int = 0, lang: str = "zh") -> str:
    """Thousands separators, fixed decimals; missing is a dash, never 0."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or pd.isna(value):
        return t("common.missing", lang)
    return f"{float(value):,.{decimals}f}"


def format_value(value, indicator: Indicator, lang: str = "zh", with_unit: bool = True) -> str:
    """A value as the report would write it: a reported figure keeps only the decimals it has
    (43,695 亩 and 58,670.24 亩), a computed one the indicator's fixed decimals (0.64%, 1.73 亩/人)."""
    decimals = indicator.decimals
    reported_figure = indicator.inputs == (indicator.id,)
    if reported_figure and not pd.isna(value) and float(value).is_integer():
        decimals = 0
    text = format_number(value, decimals, lang)
    unit = indicator.unit(lang)
    if not with_unit or not unit or text == t("common.missing", lang):
        return text
    return f"{text}%" if unit == "%" else singular_counts(f"{text} {unit}") if lang != "zh" else f"{text} {unit}"


def find_region(store: storage.Store, name_or_code: str) -> int:
    """A region id from what a person types: a name (西堡镇 or 西堡), a qualified name (腾冲市新华乡,
    云南省/保山市/腾冲市/新华乡) or a division code; NotFound listing the candidates otherwise."""
    from lawstats import region_lookup  # the one place names people type are resolved

    return region_lookup.find_region(store, name_or_code)


def default_region(store: storage.Store) -> int | None:
    """The region the app opens on: one with figures of its own, real data before synthetic, a township
    before other levels: one query on the region tree, fast on a national database."""
    return storage.default_region_id(store)


def region_values(store: storage.Store, region_id: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(inputs, indicator values, checks) of one region over all its years."""
    inputs = storage.indicator_inputs(store, [region_id])
    figures = indicators._as_floats(inputs)  # once for both
    return inputs, indicators.compute(figures), indicators.run_checks(figures)


def indicator_table(store: storage.Store, region_id: int, year: int, lang: str = "zh",
                    ids: list[str] | None = None, latest: bool = False) -> pd.DataFrame:
    """One row per indicator for a region and year: id, label, value, formatted, unit, yoy, series,
    definition, formula, check status, failed checks and ``value_year`` (the year of the value; None when there
    is none). With ``latest``, an indicator the year lacks takes its value of the latest earlier year that has
    one (``value_year`` says which; no change from the year before is shown for it)."""
    inputs, values, checks = region_values(store, region_id)
    if year not in set(values["year"]):
        raise NotFound("common.no_figures", region=region_id, year=year, what="")
    # one region: a row per year, in year order; read as arrays (pandas per indicator would be most of the time)
    years = values.sort_values("year")
    year_of = years["year"].to_numpy()
    at = int(np.flatnonzero(year_of == year)[0])
    changes = indicators.year_over_year(years)
    these = [INDICATORS_BY_ID[i] for i in ids] if ids else list(INDICATORS)
    # each check's result by (year, check): True, False or missing (read once, not per indicator)
    passed = {(int(y), c): (None if pd.isna(p) else bool(p))
              for y, c, p in checks[["year", "check", "passed"]].itertuples(index=False)}
    out = []
    for ind in these:
        series = years[ind.id].to_numpy(dtype="float64")
        present = ~np.isnan(series)
        value, value_year, change_value = series[at], int(year), changes[ind.id].to_numpy(dtype="float64")[at]
        if not present[at]:
            value_year, change_value = None, math.nan
            earlier = np.flatnonzero(present[:at])
            if latest and len(earlier):
                value, value_year = series[earlier[-1]], int(year_of[earlier[-1]])
        checked_year = value_year if value_year is not None else year  # a value's checks are of its own year
        results = [(c, passed.get((checked_year, c))) for c, chk in CHECKS_BY_ID.items() if ind.id in chk.indicators]
        failed = [c for c, result in results if result is False]
        status = "fail" if failed else ("ok" if any(result is True for _, result in results) else "na")
        out.append({
            "id": ind.id, "label": ind.label(lang), "domain": ind.domain, "value": value,
            "formatted": format_value(value, ind, lang), "unit": ind.unit(lang),
            "year": int(year), "value_year": value_year, "yoy": change_value,
            "series": series[present].tolist(),
            "series_years": year_of[present].tolist(),
            "definition": ind.definition(lang), "formula": ind.formula(lang), "target": ind.target,
            "higher_is_better": ind.higher_is_better, "headline": ind.headline,
            "check_status": status, "failed_checks": [CHECKS_BY_ID[c].label(lang) for c in failed],
        })
    return pd.DataFrame(out)


def sources(store: storage.Store, region_id: int, year: int) -> list[str]:
    """The documents the region's figures of that year come from (its descendants', for rolled-up figures)."""
    return storage.sources_of(store, region_id, year)


# ---------------------------------------------------------------------------------------------------------
# Chart data for the pages. Each function returns one long frame that is both what a chart draws and the
# table shown under it: ``item`` (what a bar or slice is), ``value``, ``unit`` and, where a chart has them,
# ``group`` (a panel of small multiples), ``series`` (a colour), ``formula`` and ``note``.
# Labels come from the registry and the message catalog, in the language asked for.

TABLE_HEADERS = {"group": "pages.col.group", "item": "pages.col.item", "series": "pages.col.series",
                 "value": "common.value", "unit": "common.unit", "share": "pages.col.share",
                 "stated": "pages.col.stated", "computed": "pages.col.computed", "target": "pages.col.target",
                 "year": "common.year", "yoy": "common.yoy", "formula": "pages.col.formula",
                 "note": "pages.col.note", "source": "pages.col.source"}


def _sourced(frame: pd.DataFrame, column_ids: list[str], data_year: int | None = None) -> pd.DataFrame:
    """Record which stored columns a chart's frame was made from, and of which year (its source line is theirs)."""
    frame.attrs["columns"] = list(column_ids)
    if data_year is not None and len(frame):
        frame.attrs["years"] = {c: int(data_year) for c in column_ids}
    return frame


def figures_of(inputs: pd.DataFrame, year: int) -> pd.Series:
    """The input figures of one year (one row of ``storage.indicator_inputs``)."""
    rows = inputs[inputs["year"] == year]
    if rows.empty:
        raise NotFound("common.no_figures", region=str(inputs["region_id"].iloc[0]) if len(inputs) else "",
                       year=year, what="")
    return rows.iloc[0]


# -- Partial data (issue 10 §4): a table that has not arrived for the chosen year yet is shown with its latest
# earlier values, each labelled with its year; a figure no year has is left out (never drawn as 0 or an empty axis).

def latest_figures(inputs: pd.DataFrame, year: int) -> pd.Series:
    """The figures of ``year`` (as ``figures_of``), where a table has no value that year its values of the latest
    earlier year that has them. ``attrs["years"]`` maps every column with a value to the year it comes from.

    Filled per table, not per figure: a 2025 population file without a minority count leaves that count missing
    rather than mixing in 2024's."""
    row = figures_of(inputs, year).copy()
    earlier = inputs[inputs["year"] < year].sort_values("year", ascending=False)
    years: dict[str, int] = {}
    for table in TABLES:
        columns = [c.id for c in table.value_columns if c.id in row.index]
        if table.id == "training":  # per programme rows: ``latest_rows`` picks the year of the programmes
            continue
        if any(_present(row[c]) for c in columns):
            years.update({c: int(year) for c in columns if _present(row[c])})
            continue
        for _, before in earlier.iterrows():
            if any(_present(before[c]) for c in columns):
                for c in columns:
                    row[c] = before[c]
                    if _present(before[c]):
                        years[c] = int(before["year"])
                break
    row.attrs["years"] = years
    row.attrs["earlier"] = earlier  # for a ratio whose two figures are of one earlier year only
    return row


def _present(value) -> bool:
    if isinstance(value, (list, tuple)) or (hasattr(value, "__len__") and not isinstance(value, str)):
        return len(value) > 0
    return value is not None and not pd.isna(value)


def latest_rows(rows: pd.DataFrame, year: int) -> pd.DataFrame:
    """A per-item table's rows (training programmes) of ``year``, or of the latest earlier year that has any
    (``attrs["year"]`` says which; empty when no year up to ``year`` has rows)."""
    chosen = rows[rows["year"] <= year]
    if chosen.empty:
        frame = rows.iloc[0:0]
        frame.attrs["year"] = int(year)
        return frame
    latest = int(chosen["year"].max())
    frame = chosen[chosen["year"] == latest].reset_index(drop=True)
    frame.attrs["year"] = latest
    return frame


def year_label(year: int, lang: str) -> str:
    """“2024年数据” / “2024 data”: how a value from an earlier year than the chosen one is labelled."""
    return t("pages.year_data", lang, year=int(year))


def _labelled(item: str, data_year: int | None, year: int | None, lang: str) -> str:
    if data_year is None or year is None or data_year == year:
        return item
    return f"{item}（{year_label(data_year, lang)}）" if lang == "zh" else f"{item} ({year_label(data_year, lang)})"


def _years_of(row: pd.Series) -> dict[str, int]:
    return row.attrs.get("years", {}) if hasattr(row, "attrs") else {}


def _row_year(row: pd.Series) -> int | None:
    return int(row["year"]) if "year" in row.index and not pd.isna(row["year"]) else None


def _same_year(row: pd.Series, column_ids) -> int | None:
    """The year all these figures come from, or None when one is missing or they come from different years (a
    ratio is computed only from figures of one year)."""
    years = {_years_of(row).get(c, _row_year(row) if _present(row.get(c)) else None) for c in column_ids}
    return years.pop() if len(years) == 1 and None not in years else None


def _number(row: pd.Series, name: str) -> float:
    value = row.get(name) if name in row.index else None
    return float(value) if value is not None and not pd.isna(value) else math.nan


def _column(column_id: str):
    for table in TABLES:
        for column in table.columns:
            if column.id == column_id:
                return column
    raise KeyError(column_id)


def _column_rows(row: pd.Series, column_ids: list[str], lang: str, **extra) -> list[dict]:
    """One row per registry column that has a value: its label (with its year when that is an earlier one than
    the row's), value, unit and the measure id (``concept``, which keys its colour)."""
    out = []
    years = _years_of(row)
    for column_id in column_ids:
        column, value = _column(column_id), _number(row, column_id)
        if math.isnan(value):
            continue  # left out: a missing figure is not a zero bar
        out.append({**extra, "item": _labelled(column.label(lang), years.get(column_id), _row_year(row), lang),
                    "value": value, "unit": column.unit(lang), "concept": column_id})
    return out


def _drawn(frame: pd.DataFrame, row: pd.Series, column_ids: list[str]) -> pd.DataFrame:
    """Record the stored columns a chart's frame was made from and the year of each value drawn (its source
    line names the documents of exactly those)."""
    frame.attrs["columns"] = list(column_ids)
    years = _years_of(row)
    frame.attrs["years"] = {c: years.get(c, _row_year(row)) for c in column_ids
                            if c in years or (_row_year(row) is not None and _present(row.get(c)))}
    return frame


def population_structure(row: pd.Series, lang: str) -> pd.DataFrame:
    """Registered vs resident, persons and households: panels by measure, colours by registered/resident."""
    pairs = (("persons", "registered_persons", "resident_persons"),
             ("households", "registered_households", "resident_households"))
    out = []
    for measure, registered, resident in pairs:
        group = t(f"pages.group.{measure}", lang)
        for series, column_id in (("registered", registered), ("resident", resident)):
            out += _column_rows(row, [column_id], lang, group=group, series=t(f"pages.series.{series}", lang))
    columns = ["group", "series", "item", "value", "unit", "concept"]
    return _drawn(pd.DataFrame(out, columns=columns), row,
                  ["registered_persons", "resident_persons", "registered_households", "resident_households"])


def minority_composition(row: pd.Series, lang: str) -> pd.DataFrame:
    """Minority persons and the other registered persons, as parts of the registered population (nothing when
    the two counts are not of one year)."""
    columns = ["item", "value", "unit", "share", "concept"]
    data_year = _same_year(row, ["registered_persons", "minority_persons"])
    if data_year is None:
        return _drawn(pd.DataFrame(columns=columns), row, [])
    registered, minority = _number(row, "registered_persons"), _number(row, "minority_persons")
    frame = pd.DataFrame([
        {"item": _labelled(_column("minority_persons").label(lang), data_year, _row_year(row), lang),
         "value": minority, "concept": "minority_persons"},
        {"item": _labelled(t("pages.item.other_registered", lang), data_year, _row_year(row), lang),
         "value": registered - minority, "concept": "other_registered"},
    ])
    frame["unit"] = _column("registered_persons").unit(lang)
    frame["share"] = (frame["value"] / registered * 100).round(2) if registered > 0 else math.nan
    return _drawn(frame[columns], row, ["minority_persons", "registered_persons", "minority_share_stated"])


def _ratio_of(row: pd.Series, numerator: str, denominator: str, scale: float = 1.0) -> float:
    """A ratio of two figures of one row and one year; missing (not zero) when the denominator is missing or
    zero, or when the two come from different years."""
    if _years_of(row) and _same_year(row, [numerator, denominator]) is None:
        return math.nan
    bottom = _number(row, denominator)
    return _number(row, numerator) / bottom * scale if bottom > 0 else math.nan


def _ratio_and_year(row: pd.Series, numerator: str, denominator: str) -> tuple[float, int | None]:
    """The ratio of two figures of one year: the row's, or where the row's two are of different years (2025
    population beside 2024 land), the latest earlier year that has both."""
    value = _ratio_of(row, numerator, denominator)
    if not math.isnan(value):
        return value, _same_year(row, [numerator, denominator])
    earlier = row.attrs.get("earlier") if hasattr(row, "attrs") else None
    if earlier is None or earlier.empty or numerator not in earlier or denominator not in earlier:
        return math.nan, None
    both = earlier.dropna(subset=[numerator, denominator])
    both = both[both[denominator] > 0]
    if both.empty:
        return math.nan, None
    latest = both.iloc[0]  # ``earlier`` is newest first
    return float(latest[numerator]) / float(latest[denominator]), int(latest["year"])


def _ratio_rows(row: pd.Series, specs, lang: str, decimals: int) -> list[dict]:
    """One row per (item, numerator, denominator, unit, formula, concept) whose ratio can be computed, labelled
    with its year where that is an earlier one."""
    out = []
    for item, numerator, denominator, unit, formula, concept in specs:
        value, data_year = _ratio_and_year(row, numerator, denominator)
        if math.isnan(value):
            continue
        out.append({"item": _labelled(item, data_year, _row_year(row), lang), "value": round(value, decimals),
                    "unit": unit, "formula": formula, "concept": concept, "_year": data_year,
                    "_inputs": (numerator, denominator)})
    return out


def _ratio_frame(rows: list[dict], column_ids: list[str]) -> pd.DataFrame:
    """A frame of ratios; its source years are those of the figures actually divided."""
    frame = pd.DataFrame(rows, columns=["item", "value", "unit", "formula", "concept", "_year", "_inputs"])
    frame.attrs["columns"] = list(column_ids)
    frame.attrs["years"] = {c: r["_year"] for r in rows for c in r["_inputs"] if r["_year"] is not None}
    out = frame.drop(columns=["_year", "_inputs"])
    out.attrs = frame.attrs
    return out


def household_sizes(row: pd.Series, lang: str) -> pd.DataFrame:
    """Persons per household, registered and resident (the second is computed here from the two counts)."""
    size = INDICATORS_BY_ID["household_size"]
    rows = _ratio_rows(row, [
        (t("pages.series.registered", lang), "registered_persons", "registered_households", size.unit(lang),
         size.formula(lang), "registered_persons"),
        (t("pages.series.resident", lang), "resident_persons", "resident_households", size.unit(lang),
         t("pages.formula.resident_household_size", lang), "resident_persons"),
    ], lang, 2)
    return _ratio_frame(rows, ["registered_persons", "registered_households", "resident_persons",
                               "resident_households"])


def land_areas(row: pd.Series, lang: str) -> pd.DataFrame:
    """Cultivated and forest land in 亩, with each one's share of the two together (when both are there)."""
    frame = pd.DataFrame(_column_rows(row, ["cultivated_area", "forest_area"], lang),
                         columns=["item", "value", "unit", "concept"])
    total = frame["value"].sum(min_count=2)
    frame["share"] = (frame["value"] / total * 100).round(1) if total > 0 else math.nan
    return _drawn(frame[["item", "value", "unit", "share", "concept"]], row, ["cultivated_area", "forest_area"])


def land_per_person(row: pd.Series, lang: str) -> pd.DataFrame:
    """Cultivated (the registry's indicator) and forest land per registered person."""
    per_person = INDICATORS_BY_ID["cultivated_per_person"]
    rows = _ratio_rows(row, [
        (per_person.label(lang), "cultivated_area", "registered_persons", per_person.unit(lang),
         per_person.formula(lang), "cultivated_area"),
        (t("pages.item.forest_per_person", lang), "forest_area", "registered_persons", per_person.unit(lang),
         t("pages.formula.forest_per_person", lang), "forest_area"),
    ], lang, 2)
    return _ratio_frame(rows, ["cultivated_area", "forest_area", "registered_persons"])


def grid_chain(row: pd.Series, region_name: str, lang: str) -> pd.DataFrame:
    """The governance chain: the township, its grid areas and its sub-grids, with counts (nothing when the
    data has neither count)."""
    links = _column_rows(row, ["grid_areas", "sub_grids"], lang)
    columns = ["item", "value", "unit", "concept"]
    if not links:
        return _drawn(pd.DataFrame(columns=columns), row, [])
    return _drawn(pd.DataFrame([
        {"item": region_name, "value": 1.0, "unit": t("pages.unit.township", lang), "concept": "township"},
        *links], columns=columns), row, ["grid_areas", "sub_grids"])


# What the grid covers, in two panels: places people live in, and establishments (all counted in 个, but a
# village and a shop are not one quantity on one axis).
GRID_COVERAGE = (("settlements", ("villages", "communities")),
                 ("establishments", ("enterprises", "schools", "street_shops")))


def grid_coverage(row: pd.Series, lang: str) -> pd.DataFrame:
    """What the grid covers: villages and communities; enterprises, schools and street shops."""
    out = []
    for group, column_ids in GRID_COVERAGE:
        out += _column_rows(row, list(column_ids), lang, group=t(f"pages.group.{group}", lang))
    ids = [c for _, ids in GRID_COVERAGE for c in ids]
    return _drawn(pd.DataFrame(out, columns=["group", "item", "value", "unit", "concept"]), row, ids)


def grid_loads(row: pd.Series, lang: str) -> pd.DataFrame:
    """Registered persons and households per sub-grid (the registry's two load indicators)."""
    specs = []
    for indicator_id, numerator in (("persons_per_subgrid", "registered_persons"),
                                    ("households_per_subgrid", "registered_households")):
        indicator = INDICATORS_BY_ID[indicator_id]
        specs.append((indicator.label(lang), numerator, "sub_grids", indicator.unit(lang), indicator.formula(lang),
                      indicator_id))
    return _ratio_frame(_ratio_rows(row, specs, lang, 1), ["registered_persons", "registered_households",
                                                           "sub_grids"])


SAFETY_COUNTS = (("governance", "key_persons"), ("governance", "mental_patients_managed"),
                 ("governance", "dispute_groups"), ("grid", "belief_venues"), ("governance", "gang_crime_clues"))


def safety_counts(row: pd.Series, provenance: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Key persons, persons with mental illness managed, dispute groups, belief venues and gang-crime clues,
    each with the note on how the report writes it (``未发现`` is recorded as 0), grouped by unit (persons,
    groups and venues, clues: never one axis)."""
    notes = {column_id: _note_of(provenance, table_id, column_id) for table_id, column_id in SAFETY_COUNTS}
    out = _column_rows(row, [c for _, c in SAFETY_COUNTS], lang)
    for item in out:
        item["note"] = notes[item["concept"]]
        item["group"] = item["unit"]
    frame = pd.DataFrame(out, columns=["group", "item", "value", "unit", "note", "concept"])
    return _drawn(frame, row, [c for _, c in SAFETY_COUNTS])


def _note_of(provenance: pd.DataFrame, table_id: str, column_id: str, row_key=None) -> str:
    rows = provenance[(provenance["table_id"] == table_id) & (provenance["column_id"] == column_id)]
    if row_key is not None:
        rows = rows[rows["row_key"] == row_key]
    notes = [n for n in rows["note"].dropna().unique() if str(n).strip()]
    return "；".join(notes)


PROGRAMMES = "programme"  # the catalogue's breakdown of the training programmes


def _programme_label(programme, training: pd.DataFrame, year: int | None, lang: str) -> str:
    """A programme in ``lang`` when the catalogue declares it (学习强国 → Xuexi Qiangguo), else as the data names it."""
    declared = catalogue.load().breakdowns.get(PROGRAMMES)
    name = declared.item_label(str(programme), lang) if declared else str(programme)
    return _labelled(name, training.attrs.get("year"), year, lang)


def training_rates(training: pd.DataFrame, lang: str, year: int | None = None) -> pd.DataFrame:
    """Each programme's rates against the 100% target: as stated in the report and as computed from counts
    (where the counts exist). One row per programme and kind of rate; programmes with no rate are left out."""
    target = INDICATORS_BY_ID["study_completion_rate"].target
    out = []
    for row in training.itertuples(index=False):
        participation_key = "pages.series.exam_participation" if row.programme_kind == "exam" \
            else "pages.series.study_participation"
        rates = [(participation_key, row.participation_rate_stated, row.participants, row.required_persons)]
        if row.programme_kind == "exam":
            rates.append(("pages.series.exam_pass", row.pass_rate_stated, row.passed, row.participants))
        for key, stated, numerator, denominator in rates:
            computed = (float(numerator) / float(denominator) * 100
                        if not pd.isna(numerator) and not pd.isna(denominator) and denominator > 0 else math.nan)
            stated = float(stated) if not pd.isna(stated) else math.nan
            if math.isnan(stated) and math.isnan(computed):
                continue
            out.append({"item": _programme_label(row.programme, training, year, lang), "series": t(key, lang),
                        "stated": stated,
                        "computed": round(computed, 2) if not math.isnan(computed) else math.nan,
                        "target": target, "unit": "%"})
    columns = ["item", "series", "stated", "computed", "target", "unit"]
    return _sourced(pd.DataFrame(out, columns=columns),
                    ["participation_rate_stated", "pass_rate_stated", "participants", "required_persons", "passed"],
                    training.attrs.get("year"))


def all_at_target(rates: pd.DataFrame) -> bool:
    """Every rate (stated and computed) at the 100% target: one line of text says it better than a chart."""
    values = pd.concat([rates["stated"], rates["computed"]]).dropna() if len(rates) else pd.Series(dtype=float)
    return len(values) > 0 and bool((values.round(2) == 100).all())


def at_target_line(rates: pd.DataFrame, lang: str) -> str:
    """“All 5 rates … are 100%”, naming the programmes."""
    items = "、".join(dict.fromkeys(rates["item"].astype(str))) if lang == "zh" else \
        ", ".join(dict.fromkeys(rates["item"].astype(str)))
    return t("pages.rates_all_100", lang, count=len(rates), items=items)


def training_sessions(training: pd.DataFrame, lang: str, year: int | None = None) -> pd.DataFrame:
    """Sessions held per programme (programmes whose sessions the report does not give are left out)."""
    sessions = _column("sessions")
    held = training.dropna(subset=["sessions"])
    frame = pd.DataFrame({"item": [_programme_label(p, training, year, lang) for p in held["programme"]],
                         "value": held["sessions"].astype("float64").to_list(),
                         "unit": sessions.unit(lang)}, columns=["item", "value", "unit"])
    return _sourced(frame, ["sessions"], training.attrs.get("year"))


def indicator_series(values: pd.DataFrame, ids: list[str], lang: str) -> pd.DataFrame:
    """A region's indicators over the years, with the change from the previous year: one row per value."""
    yoy = indicators.year_over_year(values)
    out = []
    for indicator_id in ids:
        indicator = INDICATORS_BY_ID[indicator_id]
        for year, value, change in zip(values["year"], values[indicator_id], yoy[indicator_id]):
            if pd.isna(value):
                continue
            out.append({"group": indicator.label(lang), "year": int(year), "value": round(float(value), 4),
                        "yoy": None if pd.isna(change) else round(float(change), 4), "unit": indicator.unit(lang),
                        "concept": indicator_id})
    frame = pd.DataFrame(out, columns=["group", "year", "value", "yoy", "unit", "concept"])
    order = {INDICATORS_BY_ID[i].label(lang): n for n, i in enumerate(ids)}  # the registry's order, not A-Z
    return frame.sort_values(["group", "year"], key=lambda c: c.map(order) if c.name == "group" else c,
                             kind="stable").reset_index(drop=True)


def for_display(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """A chart's frame as its table: known columns get headers in the reader's language."""
    frame = frame.drop(columns=["concept"], errors="ignore")  # the colour key, not a reader's column
    return frame.rename(columns={c: t(key, lang) for c, key in TABLE_HEADERS.items() if c in frame.columns})


def alt_text(title: str, frame: pd.DataFrame, lang: str, limit: int = 12) -> str:
    """A sentence for screen readers: the title and the numbers the chart draws."""
    parts = []
    for row in frame.head(limit).to_dict("records"):
        label = " ".join(str(row[c]) for c in ("group", "item", "series", "year") if c in row and row[c] is not None)
        value = row.get("value", row.get("stated"))
        parts.append(f"{label} {format_number(value, 2 if isinstance(value, float) and value % 1 else 0, lang)}"
                     f"{row.get('unit', '')}")
    return f"{title}：{'；'.join(parts)}" if lang == "zh" else f"{title}: {'; '.join(parts)}"


def _table_of(column_id: str):
    return next(table for table in TABLES if any(c.id == column_id for c in table.columns))


def drawn_sources(store: storage.Store, region_id: int, drawn: dict[str, int], lang: str) -> str:
    """“来源：<document>（<section>；第N批）”: the documents and import batches of exactly the values a chart
    draws (``drawn``: stored column → year of its value, as ``frame.attrs["years"]`` records it); the
    documents of the region's descendants where the values are rolled up from them."""
    found: dict[str, dict[str, list]] = {}

    def add(source, section, batch_id) -> None:
        if source is None or pd.isna(source):
            return
        entry = found.setdefault(str(source), {"sections": [], "batches": []})
        if isinstance(section, str) and section and section not in entry["sections"]:
            entry["sections"].append(section)
        if batch_id is not None and not pd.isna(batch_id) and int(batch_id) not in entry["batches"]:
            entry["batches"].append(int(batch_id))

    by_year: dict[int, list[str]] = {}
    for column_id, year in drawn.items():
        if year is not None and _has_column(column_id):
            by_year.setdefault(int(year), []).append(column_id)
    for year, column_ids in sorted(by_year.items()):
        provenance = storage.value_provenance(store, region_id, year)
        recorded = provenance[provenance["column_id"].isin(column_ids)].dropna(subset=["source"])
        for row in recorded.itertuples(index=False):
            add(row.source, row.section, row.batch_id)
        rest = [c for c in column_ids if c not in set(recorded["column_id"])]
        for table in dict.fromkeys(_table_of(c) for c in rest):
            rows = storage.table_rows(store, table, [region_id], [year])
            for row in rows.itertuples(index=False):
                add(row.source, row.section, row.batch_id)
    if not found and by_year:  # rolled up from the subdivisions: their documents
        for year in by_year:
            for source in storage.sources_of(store, region_id, year):
                add(source, None, None)
    parts = []
    for source, entry in found.items():
        details = entry["sections"] + [t("common.batch_ref", lang, batch=b) for b in sorted(entry["batches"])]
        if details:
            source = f"{source}（{'；'.join(details)}）" if lang == "zh" else f"{source} ({'; '.join(details)})"
        parts.append(source)
    joined = "；".join(parts) if lang == "zh" else "; ".join(parts)
    return t("common.source", lang, source=joined if parts else t("common.missing", lang))


def data_years(store: storage.Store, region_id: int, year: int, lang: str) -> dict[int, list[str]]:
    """The report year of the figures a page of ``year`` shows, table by table: {2025: [人口], 2024: [土地, …]}."""
    inputs = storage.indicator_inputs(store, [region_id])
    if inputs.empty or year not in set(inputs["year"]):
        return {}
    row = latest_figures(inputs, year)
    by_year: dict[int, list[str]] = {}
    for table in TABLES:
        columns = [c.id for c in table.value_columns]
        table_years = {row.attrs["years"][c] for c in columns if c in row.attrs["years"]}
        if table.id == "training":
            trained = inputs[(inputs["year"] <= year) & inputs["study_rows"].fillna(0).add(
                inputs["exam_rows"].fillna(0)).gt(0)] if "study_rows" in inputs else inputs.iloc[0:0]
            table_years = {int(trained["year"].max())} if len(trained) else set()
        for data_year in table_years:
            by_year.setdefault(int(data_year), []).append(table.label(lang))
    return by_year


def data_years_line(store: storage.Store, region_id: int, year: int, lang: str) -> str:
    """“数据版本：报告年份 2025年（人口）；2024年（土地、…）  ·  上传于 …（第N批）”: the report year of the figures a
    page shows, table by table, and separately when they were uploaded (the newest batch among them)."""
    by_year = data_years(store, region_id, year, lang)
    if not by_year:
        return ""
    listing = ("；" if lang == "zh" else "; ").join(
        f"{t('pages.year_of', lang, year=y)}（{'、'.join(labels)}）" if lang == "zh" else
        f"{t('pages.year_of', lang, year=y)} ({', '.join(labels)})" for y, labels in sorted(by_year.items(), reverse=True))
    if len(by_year) == 1:  # every table of one year: the year says it all
        listing = t("pages.year_of", lang, year=next(iter(by_year)))
    batches = _batches_of(store, region_id, sorted(by_year))
    uploaded = t("common.missing", lang)
    if not batches:  # rolled up from subdivisions: the newest upload of all
        version, when = storage.last_update(store)
        batches = [(version, when)] if when is not None else []
    if batches:
        newest = max(batches, key=lambda b: b[0])
        uploaded = t("common.uploaded", lang, batch=newest[0], when=newest[1].strftime("%Y-%m-%d %H:%M"))
    return t("common.data_years", lang, years=listing or t("common.missing", lang), uploaded=uploaded)


def page_sources(store: storage.Store, region_id: int, year: int) -> list[str]:
    """The documents of every year whose figures a page of ``year`` shows (an earlier year's included)."""
    years = sorted(data_years(store, region_id, year, "zh"), reverse=True) or [year]
    return list(dict.fromkeys(s for y in years for s in storage.sources_of(store, region_id, y)))


def _batches_of(store: storage.Store, region_id: int, years: list[int]) -> list[tuple[int, object]]:
    """(batch id, uploaded at) of the batches holding the region's rows of these years."""
    ids: set[int] = set()
    for table in TABLES:
        rows = storage.table_rows(store, table, [region_id], years) if years else pd.DataFrame()
        if "batch_id" in rows:
            ids |= {int(b) for b in rows["batch_id"].dropna()}
    if not ids:
        return []
    batches = storage.list_batches(store)
    chosen = batches[batches["batch_id"].isin(ids)]
    return [(int(b), when) for b, when in zip(chosen["batch_id"], chosen["created_at"])]


def source_line(provenance: pd.DataFrame, column_ids: list[str], lang: str, fallback: list[str] = ()) -> str:
    """Where a chart's figures come from: the documents and sections of the columns it draws (from the
    per-value provenance); ``fallback`` (the documents of the rows) where no value has provenance recorded."""
    rows = provenance[provenance["column_id"].isin(column_ids)].dropna(subset=["source"])
    sections: dict[str, list[str]] = {}
    for source, section in zip(rows["source"].astype(str), rows["section"]):
        listed = sections.setdefault(source, [])
        if isinstance(section, str) and section and section not in listed:
            listed.append(section)
    parts = [f"{source}（{'；'.join(listed)}）" if listed else source for source, listed in sections.items()]
    parts = parts or list(fallback)
    return t("common.source", lang, source="；".join(parts) if parts else t("common.missing", lang))


# ---------------------------------------------------------------------------------------------------------
# The glossary ("indicators and sources"): every indicator, check and column, derived from the registry.


def _indicator_columns(indicator: Indicator) -> list[str]:
    """The stored columns an indicator reads, plus the column holding the report's own value of it."""
    columns = [c for c in indicator.inputs if _has_column(c)]
    if indicator.id == "study_sessions":
        columns = ["sessions"]
    if indicator.stated_column:
        columns.append(indicator.stated_column)
    return columns


def _has_column(column_id: str) -> bool:
    try:
        _column(column_id)
        return True
    except KeyError:
        return False


def _origin(indicator: Indicator, rows: pd.DataFrame, lang: str) -> str:
    """报告值 when the report writes the value itself, 计算值 when it is computed from reported figures."""
    if rows.empty:
        return t("common.missing", lang)
    stated_only = rows["origin"].eq("stated").all()
    is_figure = indicator.inputs == (indicator.id,)
    rates_only = all(_column(c).kind == "rate" for c in rows["column_id"].unique())
    return t("pages.stated" if stated_only and (is_figure or rates_only) else "pages.computed", lang)


def glossary_indicators(table: pd.DataFrame | None, provenance: pd.DataFrame | None, lang: str) -> pd.DataFrame:
    """One row per indicator: domain, name, value, unit, definition, formula in words, whether the report
    states it or it is computed, source document, section, notes on how the report writes it, check status.

    ``table`` is ``indicator_table`` of the region and year; ``provenance`` is ``storage.value_provenance``;
    both None when the database holds no data yet."""
    from lawstats.registry import domain_label

    status = {"ok": "common.check_ok", "fail": "common.check_failed", "na": "common.check_na"}
    if table is None:  # no data yet: the declarations alone
        table = pd.DataFrame({"id": [i.id for i in INDICATORS], "formatted": t("common.missing", lang),
                              "check_status": "na", "failed_checks": [[] for _ in INDICATORS]})
    if provenance is None:
        provenance = pd.DataFrame(columns=["column_id", "source", "section", "origin", "note"])
    out = []
    for row in table.itertuples(index=False):
        indicator = INDICATORS_BY_ID[row.id]
        rows = provenance[provenance["column_id"].isin(_indicator_columns(indicator))]
        rows = rows.dropna(subset=["source"])
        check = t(status[row.check_status], lang, checks="；".join(row.failed_checks))
        if not any(indicator.id in c.indicators for c in CHECKS_BY_ID.values()):
            check = t("pages.no_check", lang)
        out.append({
            t("pages.col.domain", lang): domain_label(indicator.domain, lang),
            t("common.indicator", lang): indicator.label(lang),
            t("common.value", lang): row.formatted,
            t("common.unit", lang): indicator.unit(lang),
            t("pages.col.definition", lang): indicator.definition(lang),
            t("pages.col.formula", lang): indicator.formula(lang),
            t("pages.col.origin", lang): _origin(indicator, rows, lang),
            t("pages.col.source", lang): "；".join(dict.fromkeys(rows["source"].astype(str))),
            t("pages.col.section", lang): "；".join(dict.fromkeys(rows["section"].dropna().astype(str))),
            t("pages.col.note", lang): "；".join(dict.fromkeys(n for n in rows["note"].dropna().astype(str) if n)),
            t("pages.col.check", lang): check,
        })
    return pd.DataFrame(out)


def glossary_checks(checks: pd.DataFrame | None, year: int | None, lang: str) -> pd.DataFrame:
    """Every consistency check of the registry with its result for the year: passes, fails or cannot be
    checked (figures missing), and the indicators whose badge it drives."""
    from lawstats.registry import CHECKS

    if checks is None:
        checks = pd.DataFrame(columns=["year", "check", "passed"])
    this_year = checks[checks["year"] == year].set_index("check")["passed"]
    out = []
    for check in CHECKS:
        passed = this_year.get(check.id, pd.NA)
        key = "common.check_na" if pd.isna(passed) else ("common.check_ok" if passed else "pages.check_fail")
        out.append({t("pages.col.check_rule", lang): check.label(lang), t("pages.col.check", lang): t(key, lang),
                    t("pages.col.indicators", lang): "、".join(INDICATORS_BY_ID[i].label(lang)
                                                             for i in check.indicators)})
    return pd.DataFrame(out)


def glossary_columns(lang: str) -> pd.DataFrame:
    """Every column of every table as the registry declares it: names in both languages, unit, kind,
    allowed range, the header aliases an upload may use, and the definition."""
    from lawstats.registry import PROVENANCE_COLUMNS, ROW_COLUMNS

    def describe(table_label: str, column) -> dict:
        low, high = column.minimum, column.maximum
        bounds = "" if low is None and high is None else (
            f"≥ {low:g}" if high is None else f"{low:g} – {high:g}")
        return {t("pages.col.table", lang): table_label, t("pages.col.column_zh", lang): column.zh,
                t("pages.col.column_en", lang): column.en, t("common.unit", lang): column.unit(lang),
                t("pages.col.kind", lang): t(f"pages.kind.{column.kind}", lang),
                t("pages.col.range", lang): bounds, t("pages.col.aliases", lang): "、".join(column.aliases),
                t("pages.col.definition", lang): column.definition(lang)}

    out = [describe(t("pages.every_table", lang), c) for c in ROW_COLUMNS + PROVENANCE_COLUMNS]
    for table in TABLES:
        out += [describe(table.label(lang), c) for c in table.columns]
    return pd.DataFrame(out)


def children_figures(store: storage.Store, region_id: int, year: int, lang: str) -> pd.DataFrame:
    """Registered persons of the region's villages and communities in a year (empty when the data holds none:
    the 2024 report does not name the 19 villages)."""
    children = storage.region_children(store, region_id)
    columns = ["item", "value", "unit", "source"]
    if children.empty:
        return pd.DataFrame(columns=columns)
    rows = storage.table_rows(store, storage.TABLES_BY_ID["population"], children["region_id"].tolist(), [year])
    rows = rows.dropna(subset=["registered_persons"])
    names = dict(zip(children["region_id"], children["name"]))
    frame = pd.DataFrame({"item": rows["region_id"].map(names).astype(str).to_list(),
                          "value": rows["registered_persons"].astype("float64").to_list(),
                          "unit": _column("registered_persons").unit(lang), "source": rows["source"].to_list()},
                         columns=columns)
    return frame.sort_values("value", ascending=False, kind="stable").reset_index(drop=True)


def domain_indicator_ids(domain: str) -> list[str]:
    """The ids of a domain's indicators, in registry order."""
    return [i.id for i in INDICATORS if i.domain == domain]


def notes_of(frame: pd.DataFrame, lang: str) -> list[str]:
    """“item: note” for every row of a chart's frame whose figure the report words in a way worth saying."""
    if "note" not in frame.columns:
        return []
    return [t("pages.note_quoted", lang, item=item, note=note) for item, note in zip(frame["item"], frame["note"])
            if note]


def minority_notes(row: pd.Series, lang: str) -> list[str]:
    """The stated minority share checked against the computed one, and the ethnic groups as the report lists
    them."""
    notes = []
    stated, computed = _number(row, "minority_share_stated"), _ratio_of(row, "minority_persons",
                                                                        "registered_persons", 100)
    if not math.isnan(stated) and not math.isnan(computed):
        key = "pages.minority_check_ok" if abs(stated - computed) <= 0.01 + 1e-9 else "pages.minority_check_fail"
        notes.append(t(key, lang, stated=format_number(stated, 2), computed=format_number(computed, 2),
                       minority=format_number(_number(row, "minority_persons")),
                       registered=format_number(_number(row, "registered_persons"))))
    groups = row.get("ethnic_groups") if "ethnic_groups" in row.index else None
    if hasattr(groups, "__len__") and not isinstance(groups, str) and len(groups):  # None, NaN and NA have no length
        notes.append(t("pages.ethnic_groups", lang, groups=importer.join_list(list(groups))))  # 汉、藏等 as written
    return notes


def grid_chain_notes(row: pd.Series, lang: str) -> list[str]:
    """The average number of sub-grids per grid area, said in words under the chain."""
    per_area = _ratio_of(row, "sub_grids", "grid_areas")
    if math.isnan(per_area):
        return []
    return [t("pages.grid_chain_note", lang, per_area=format_number(per_area, 1))]


def training_notes(rates: pd.DataFrame, lang: str) -> list[str]:
    """Says when no rate could be computed from counts (the report gives the rates only)."""
    if rates.empty:
        return [t("pages.no_rates", lang)]
    if rates["computed"].isna().all():
        return [t("pages.training_no_counts", lang)]
    return []

"""The one module of ``lawstats`` that knows Streamlit: the shared store, cached loaders, the frame's
selectors (language, region, year) and the widgets several pages use (KPI cards, charts with their numbers).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

from lawstats import seed, storage, summary
from lawstats.errors import LawstatsError
from lawstats.i18n import DEFAULT_LANG, LANGS, t

CACHE_ENTRIES = 256  # bounded: every entry costs memory on a shared server


@st.cache_resource(show_spinner=False)
def get_store() -> storage.Store:
    """The process's one Store (DuckDB allows one read-write opener per file). Never mutate it."""
    return seed.open_store()


def data_version() -> int:
    return storage.data_version(get_store())


@dataclass(frozen=True)
class Context:
    """What the frame chose for the page: language, region, year and the data version caches key on."""
    lang: str
    region_id: int | None
    region_name: str
    year: int | None
    years: tuple[int, ...]
    version: int
    synthetic: bool = False


def context() -> Context:
    return st.session_state["_lawstats_context"]


def show_error(error: LawstatsError, lang: str) -> None:
    st.error(error.message(lang))
    if error.details is not None and len(error.details):
        st.dataframe(error.details, hide_index=True)


# ---------------------------------------------------------------------------------------------------------
# Cached loaders: keyed on the data version, so every commit and undo invalidates them.


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def regions_table(version: int) -> pd.DataFrame:
    return storage.regions(get_store())


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def regions_with_data(version: int) -> pd.DataFrame:
    return storage.regions_with_data(get_store())


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def indicator_table(version: int, region_id: int, year: int, lang: str) -> pd.DataFrame:
    return summary.indicator_table(get_store(), region_id, year, lang)


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def region_values(version: int, region_id: int):
    return summary.region_values(get_store(), region_id)


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def sources(version: int, region_id: int, year: int) -> list[str]:
    return summary.sources(get_store(), region_id, year)


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def table_rows(version: int, table_id: str, region_ids: tuple[int, ...], years: tuple[int, ...] | None):
    return storage.table_rows(get_store(), storage.TABLES_BY_ID[table_id], list(region_ids),
                              list(years) if years else None)


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def last_update(version: int):
    return storage.last_update(get_store())


# ---------------------------------------------------------------------------------------------------------
# The frame's selectors, bound to the URL so that a link reproduces the view.


def choose_language() -> str:
    lang = st.sidebar.segmented_control(
        t("app.language"), LANGS, default=DEFAULT_LANG, required=True, key="lang", bind="query-params",
        format_func=lambda code: {"zh": "中文", "en": "English"}[code])
    return lang or DEFAULT_LANG


def _validate_query_param(key: str, allowed: list[str], notice_key: str, lang: str) -> None:
    """An unknown value in the URL falls back to the default, and the user is told."""
    value = st.query_params.get(key)
    if value is not None and value not in allowed:
        st.toast(t(notice_key, lang, value=value), icon="⚠️")
        st.session_state.setdefault("_lawstats_notices", []).append(t(notice_key, lang, value=value))
        del st.query_params[key]


def choose_region_and_year(lang: str) -> Context:
    version = data_version()
    regions = regions_table(version)
    with_data = regions_with_data(version)
    region_ids = [int(r) for r in regions.loc[regions["region_id"].isin(with_data["region_id"]), "region_id"]]
    if not region_ids:
        return Context(lang, None, "", None, (), version)
    names = dict(zip(regions["region_id"].astype(int), regions["name"]))
    default_region = summary.default_region(get_store())
    region_ids.sort(key=lambda r: (r != default_region, names[r]))
    _validate_query_param("region", [str(r) for r in region_ids], "app.unknown_region", lang)
    region_id = st.sidebar.selectbox(t("app.region", lang), region_ids, format_func=lambda r: names[r],
                                     key="region", bind="query-params")
    years = sorted(int(y) for y in with_data.loc[with_data["region_id"] == region_id, "year"])
    year_options = sorted(years, reverse=True)
    _validate_query_param("year", [str(y) for y in year_options], "app.unknown_year", lang)
    year = st.sidebar.selectbox(t("app.year", lang), year_options, key="year", bind="query-params")
    synthetic = bool(regions.loc[regions["region_id"] == region_id, "synthetic"].fillna(False).any())
    return Context(lang, int(region_id), names[region_id], int(year), tuple(years), version, synthetic)


def show_notices() -> None:
    for notice in st.session_state.pop("_lawstats_notices", []):
        st.warning(notice)


# ---------------------------------------------------------------------------------------------------------
# Widgets shared by pages


def kpi_cards(table: pd.DataFrame, lang: str, columns: int = 4) -> None:
    """KPI cards: value and unit, change from the previous year with a sparkline, the definition as tooltip,
    and a badge when a consistency check fails."""
    cells = st.columns(columns)
    for i, row in enumerate(table.itertuples(index=False)):
        with cells[i % columns]:
            delta = None
            if row.yoy is not None and not pd.isna(row.yoy):
                delta = summary.format_number(row.yoy, 2, lang)
            help_text = f"{row.definition}\n\n{t('common.indicator', lang)}: {row.formula}"
            label = row.label
            if row.check_status == "fail":
                label = f"{label} ⚠"
                help_text += "\n\n" + t("common.check_failed", lang, checks="；".join(row.failed_checks))
            direction = "normal" if row.higher_is_better is not False else "inverse"
            if row.higher_is_better is None:
                direction = "off"
            st.metric(label, row.formatted, delta, delta_color=direction, help=help_text, border=True,
                      chart_data=row.series if len(row.series) > 1 else None, chart_type="line",
                      delta_description=t("common.yoy", lang) if delta else None)


def data_footer(ctx: Context) -> None:
    """"Data as of" and the sources, under every page's content."""
    version, when = last_update(ctx.version)
    when_text = when.strftime("%Y-%m-%d %H:%M") if when is not None else "—"
    lines = [t("common.data_as_of", ctx.lang, version=version, when=when_text)]
    if ctx.region_id is not None and ctx.year is not None:
        lines.append(t("common.source", ctx.lang, source="；".join(sources(ctx.version, ctx.region_id, ctx.year))))
    st.caption("  \n".join(lines))

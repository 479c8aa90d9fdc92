"""The one module of ``lawstats`` that knows Streamlit: the shared store, cached loaders, the frame's
selectors (language, region, year) and the widgets several pages use (KPI cards, charts with their numbers).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from lawstats import charts, lake, plaintext, region_lookup, seed, storage, summary, uploads
from lawstats.errors import LawstatsError
from lawstats.i18n import DEFAULT_LANG, LANGS, t
from lawstats.registry import INDICATORS_BY_ID

CACHE_ENTRIES = 256  # bounded: every entry costs memory on a shared server
WARNING_ICON = ":material/warning:"  # Streamlit's own icon font: the emoji asks for a font intranet PCs lack


def _close_store(store: storage.Store) -> None:
    # Clearing the cache must free the file: an unreachable, unclosed Store keeps DuckDB's lock until garbage
    # collection, and another process (a CLI import, a second server) is refused meanwhile.
    store.close()


@st.cache_resource(show_spinner=False, on_release=_close_store)
def get_store() -> storage.Store:
    """The process's one Store (DuckDB allows one read-write opener per file). Never mutate it. A lake is read
    through a local replica (``LAWSTATS_LAKE_REPLICA=0`` turns it off): page queries at a file's speed."""
    return seed.open_store(replica=lake.replica_wanted(True))


def data_version() -> int:
    # on a lake: the catalog's snapshot, so another process's commit (the CLI, a second server) shows at once
    return storage.cache_version(get_store())


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
    if "_lawstats_context" not in st.session_state:
        # A deep link (/data) as the first request of a fresh server process runs the page file WITHOUT app.py:
        # because a pages/ folder exists, Streamlit starts in its old pages-folder mode until some run calls
        # st.navigation. Leave that mode and rerun through the frame. (Renaming pages/ would avoid this.)
        from streamlit.runtime.pages_manager import PagesManager

        PagesManager.uses_pages_directory = False
        st.rerun()
    return st.session_state["_lawstats_context"]


def show_error(error: LawstatsError, lang: str) -> None:
    st.error(plain_markdown(error.message(lang)))  # messages carry file names, cells, URL values: plain text
    if error.details is not None and len(error.details):
        st.dataframe(plaintext.frame(error.details), hide_index=True)


# ---------------------------------------------------------------------------------------------------------
# Cached loaders: keyed on the data version, so every commit and undo invalidates them.


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def regions_table(version: int) -> pd.DataFrame:
    return storage.regions(get_store())


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def regions_with_data(version: int) -> pd.DataFrame:
    return storage.regions_with_data(get_store())


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def indicator_table(version: int, region_id: int, year: int, lang: str, latest: bool = False) -> pd.DataFrame:
    return summary.indicator_table(get_store(), region_id, year, lang, latest=latest)


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


LANG_LABELS = {"zh": "中文", "en": "English"}
LANG_IN_LINK = {**{code: code for code in LANG_LABELS}, **{label: code for code, label in LANG_LABELS.items()}}
LANG_URL_STATE = "_lawstats_lang_url"  # what the frame last wrote to ?lang=


def choose_language() -> str:
    """The reader's language, kept in the link as ``?lang=en`` (Chinese, the default, is left out) so that a
    copied link reopens in it. A link may say ``en`` or ``English`` (the label older links carry).

    Not ``bind="query-params"``: a bound widget writes its label (``?lang=English``) and drops ``?lang=en``.
    As with ``?region=``, the frame writes the parameter on every run, so it survives page switches."""
    in_link = st.query_params.get("lang")
    if in_link in LANG_IN_LINK and in_link != st.session_state.get(LANG_URL_STATE):  # a link asks for it
        st.session_state["lang"] = LANG_IN_LINK[in_link]
    # written back on every run: Streamlit 1.67 drops a widget's value on a page switch when the value was set
    # from code (the link) rather than clicked (see _keep_across_pages)
    st.session_state["lang"] = st.session_state.get("lang", DEFAULT_LANG)
    lang = st.sidebar.segmented_control(t("app.language"), LANGS, required=True, key="lang",
                                        format_func=LANG_LABELS.get) or DEFAULT_LANG
    _write_lang_to_link(lang)
    return lang


def _write_lang_to_link(lang: str) -> None:
    value = None if lang == DEFAULT_LANG else lang
    if value is None:
        st.query_params.pop("lang", None)
    else:  # also when it seems there: a switch to the default page ("/") empties the address bar's query
        st.query_params["lang"] = value
    st.session_state[LANG_URL_STATE] = value


def _keep_across_pages(key: str, options) -> None:
    """Streamlit 1.67 resets a URL-bound widget to its default on a page switch when its value came from the
    link (a value the user clicked survives). Writing the current value back before the widget is created
    keeps the view of a shared link on every page. The default (first option) needs no help, and a value no
    longer among the options is left to Streamlit."""
    options = list(options)
    if key in st.session_state and st.session_state[key] in options[1:]:
        st.session_state[key] = st.session_state[key]


def _validate_query_param(key: str, allowed: list[str], notice_key: str, lang: str) -> None:
    """An unknown value in the URL falls back to the default, and the user is told.

    ``allowed`` are the options as the URL writes them: a bound selectbox puts its formatted label there
    (the region's name, not its id). Streamlit itself drops an unknown value from the URL (deleting a
    bound parameter from code would raise), so this only tells the user.
    """
    value = st.query_params.get(key)
    if value is not None and value not in allowed:
        notice = plain_markdown(t(notice_key, lang, value=value))  # the value is whatever the link says
        st.toast(notice, icon=WARNING_ICON)
        st.session_state.setdefault("_lawstats_notices", []).append(notice)


# -- Region and year: the hierarchy picker (province → city → county → township → village) and a search box.
# Only the children of the chosen path are queried (cached per data version), never the whole region table:
# a national database holds some 640,000 regions. The choice lives in the URL as ?region=<id>; a link may
# also give a statistical code or a (unique) name, and an unknown one falls back to the default with a notice.

REGION_STATE = "_lawstats_region"  # the chosen region id (session)
REGION_URL_STATE = "_lawstats_region_url"  # what the frame last wrote to ?region=
SEARCH_KEY = "_lawstats_region_search"
FOUND_KEY = "_lawstats_region_found"
PICK_KEY = "_lawstats_pick_{depth}"


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def default_region(version: int) -> int | None:
    return summary.default_region(get_store())


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def region_info(version: int, region_id: int) -> dict | None:
    return storage.region_info(get_store(), region_id)


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def region_path(version: int, region_id: int) -> list[int]:
    return [int(r) for r in storage.region_path(get_store(), region_id)["region_id"]]


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def region_children(version: int, parent_id: int) -> pd.DataFrame:
    return storage.tree_children(get_store(), parent_id)[["region_id", "name", "level", "code", "n_children"]]


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def region_years(version: int, region_id: int) -> list[int]:
    return storage.effective_years(get_store(), region_id)


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def find_region(version: int, text: str) -> region_lookup.Lookup:
    return region_lookup.lookup_region(get_store(), text, link=True)


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def search_regions(version: int, text: str) -> pd.DataFrame:
    """Regions whose name contains ``text`` or whose code starts with it; else the region a qualified name
    (腾冲市新华乡, 云南省/保山市/腾冲市/新华乡) names, or the regions it may mean: region_id, name, parent_name, code."""
    found = storage.search_regions(get_store(), text)
    if not found.empty:
        return found
    named = region_lookup.lookup_region(get_store(), text)
    ids = [named.region_id] if named.region_id is not None else [c.region_id for c in named.candidates
                                                                   if named.ambiguous]
    paths = storage.region_paths(get_store(), ids)
    paths["parent_name"] = paths["path"].map(lambda path: path[-2] if len(path) > 1 else None)
    return paths[["region_id", "name", "parent_name", "code"]]


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def rollup_status(version: int, region_id: int, year: int | None) -> pd.DataFrame:
    return storage.rollup_status(get_store(), region_id, [year] if year is not None else None)


def region_label(info: dict | None, lang: str) -> str:
    """A region's name; the root is "all regions" in the reader's language."""
    if info is None:
        return ""
    return t("app.all_regions", lang) if info["level"] == storage.ROOT_LEVEL else str(info["name"])


def level_label(level: str, lang: str) -> str:
    from lawstats.registry import LEVELS

    for level_id, zh, en in LEVELS:
        if level_id == level:
            return zh if lang == "zh" else en
    return t("app.all_regions", lang)


def choose_region_and_year(lang: str) -> Context:
    version = data_version()
    default = default_region(version)
    if default is None:
        return Context(lang, None, "", None, (), version)
    region_id = _region_from_state_or_link(version, default, lang)
    _region_search(version, lang)
    _region_picker(version, region_id, lang)
    years = region_years(version, region_id)
    if not years:  # a region whose own and children's figures are all missing
        _notice(message("app.region_no_figures", lang, name=region_label(region_info(version, region_id), lang)))
        region_id = default
        years = region_years(version, region_id)
    _write_region_to_link(region_id, default)
    info = region_info(version, region_id)
    year_options = sorted(years, reverse=True)
    _validate_query_param("year", [str(y) for y in year_options], "app.unknown_year", lang)
    _keep_across_pages("year", year_options)
    year = st.sidebar.selectbox(t("app.year", lang), year_options, key="year", bind="query-params")
    _rollup_notice(version, region_id, int(year), info, lang)
    return Context(lang, int(region_id), region_label(info, lang), int(year), tuple(years), version,
                   bool(info["synthetic"]))


def _notice(text: str) -> None:
    st.toast(text, icon=WARNING_ICON)
    st.session_state.setdefault("_lawstats_notices", []).append(text)


def _region_from_state_or_link(version: int, default: int, lang: str) -> int:
    """The session's region; a link's ?region= (id, code, unique or qualified name) when it names another one.
    A name several regions share is not guessed: the notice lists them with their paths."""
    chosen = st.session_state.get(REGION_STATE)
    value = st.query_params.get("region")
    if value is not None and value != st.session_state.get(REGION_URL_STATE):
        found = find_region(version, value)
        if found.region_id is None:
            _notice(plain_markdown(region_lookup.problem_message(found, lang, prefix="app")))
        else:
            chosen = found.region_id
    if chosen is None or region_info(version, chosen) is None:  # none yet, or undone since
        chosen = default
    st.session_state[REGION_STATE] = chosen
    return chosen


def _write_region_to_link(region_id: int, default: int) -> None:
    """?region=<id>, left out for the default region (as bound widgets leave defaults out)."""
    value = None if region_id == default else str(region_id)
    if value is None:
        if "region" in st.query_params:
            del st.query_params["region"]
    elif st.query_params.get("region") != value:
        st.query_params["region"] = value
    st.session_state[REGION_URL_STATE] = value


WHOLE = -1  # the picker's "all of <parent>" item (None would show as an empty selectbox)


def _picked(key: str, parent_id: int) -> None:
    """A list of the picker changed: the region is the item chosen, or its parent for "all of it"."""
    value = st.session_state.get(key)
    st.session_state[REGION_STATE] = parent_id if value in (None, WHOLE) else int(value)


def _region_picker(version: int, region_id: int, lang: str) -> None:
    """One list per level along the chosen region's path, each holding the children of the level above."""
    path = [storage.ROOT_ID] + region_path(version, region_id)
    for depth, parent in enumerate(path):
        children = region_children(version, parent)
        if children.empty:
            break
        names = dict(zip(children["region_id"].astype(int), children["name"].map(plaintext.visible)))
        chosen = path[depth + 1] if depth + 1 < len(path) else WHOLE
        if parent == storage.ROOT_ID:
            whole = storage.ROOT_ID  # "all regions" is a region of its own (the root of the tree)
            options = ([whole] if len(children) > 1 else []) + list(names)
            label_of_whole = t("app.all_regions", lang)
        else:
            whole = WHOLE
            options = [whole] + list(names)
            label_of_whole = t("app.region_whole", lang, name=plaintext.visible(names_of_path(version, parent, lang)))
        chosen = whole if chosen == WHOLE else chosen
        key = PICK_KEY.format(depth=depth)
        st.session_state[key] = chosen if chosen in options else options[0]
        label = level_label(children["level"].mode().iloc[0], lang)
        st.sidebar.selectbox(label, options, key=key, on_change=_picked, args=(key, parent),
                             format_func=lambda r, names=names, text=label_of_whole: names.get(r, text))
        if chosen == whole:
            break


def names_of_path(version: int, region_id: int, lang: str) -> str:
    return region_label(region_info(version, region_id), lang)


def _found(parent_key: str) -> None:
    value = st.session_state.get(FOUND_KEY)
    if value is not None:
        st.session_state[REGION_STATE] = int(value)
        st.session_state[SEARCH_KEY] = ""
        st.session_state[FOUND_KEY] = None


def _region_search(version: int, lang: str) -> None:
    """A search box: regions whose name contains the text or whose code starts with it."""
    text = st.sidebar.text_input(t("app.region_search", lang), key=SEARCH_KEY,
                                 placeholder=t("app.region_search_hint", lang))
    if not text.strip():
        return
    found = search_regions(version, text.strip())
    if found.empty:
        st.sidebar.caption(plain_markdown(t("app.region_search_none", lang, text=text.strip())))
        return
    labels = {int(r.region_id): plaintext.visible(" · ".join(str(v) for v in (r.name, r.parent_name, r.code)
                                                          if v is not None and v == v))
              for r in found.itertuples(index=False)}
    st.sidebar.selectbox(t("app.region_search_results", lang, count=len(labels)), list(labels), index=None,
                         key=FOUND_KEY, format_func=labels.get, on_change=_found, args=(SEARCH_KEY,),
                         placeholder=t("app.region_search_pick", lang))


def _rollup_notice(version: int, region_id: int, year: int, info: dict, lang: str) -> None:
    """Where the region's own figures and its children's complete sums differ, say so under the picker."""
    if not info or not info["n_children"]:
        return
    status = rollup_status(version, region_id, year)
    disagree = status[status["status"] == "disagree"]
    if len(disagree):
        st.sidebar.warning(t("rollup.disagree_notice", lang, count=len(disagree), year=year), icon=WARNING_ICON)


def show_notices() -> None:
    for notice in st.session_state.pop("_lawstats_notices", []):
        st.warning(notice)


# ---------------------------------------------------------------------------------------------------------
# Widgets shared by pages


def kpi_cards(table: pd.DataFrame, lang: str, columns: int = 4) -> None:
    """KPI cards: value and unit, change from the previous year with a sparkline, the definition as tooltip,
    and a badge when a consistency check fails."""
    st.html(_KPI_WRAP_STYLE)
    if "value" in table:  # a card per figure that exists: never a wall of “—” (issue 10 §4)
        table = table[table["value"].notna()]
    rows = list(table.itertuples(index=False))
    for start in range(0, len(rows), columns):  # row by row, so that the cards of a row share one height
        cells = st.columns(columns)
        for cell, row in zip(cells, rows[start:start + columns]):
            with cell:
                _kpi_card(row, lang)


def _kpi_card(row, lang: str) -> None:
    """One card: value and unit, change with sparkline, definition as tooltip, ⚠ on a failing check."""
    delta = None
    if row.yoy is not None and not pd.isna(row.yoy):  # the change in the indicator's own decimals (counts: none)
        delta = summary.format_number(row.yoy, INDICATORS_BY_ID[row.id].decimals, lang)
        if INDICATORS_BY_ID[row.id].unit(lang) == "%":  # a rate's change is in percentage points, as in the deck
            delta = f"{delta} {t('present.points', lang)}"
    help_text = f"{row.definition}\n\n{t('common.indicator', lang)}: {row.formula}"
    label = row.label
    if getattr(row, "value_year", None) is not None and getattr(row, "year", None) is not None \
            and not pd.isna(row.value_year) and int(row.value_year) != int(row.year):
        label = f"{label} · {summary.year_label(int(row.value_year), lang)}"  # an earlier year's value
    if row.check_status == "fail":
        label = f"{label} ⚠"
        help_text += "\n\n" + t("common.check_failed", lang, checks="；".join(row.failed_checks))
    direction = "normal" if row.higher_is_better is not False else "inverse"
    if row.higher_is_better is None:
        direction = "off"
    st.metric(label, _kpi_value(row), delta, delta_color=direction, help=help_text, border=True,
              chart_data=row.series if len(row.series) > 1 else None, chart_type="line",
              delta_description=t("common.yoy", lang) if delta else None, height="stretch")


# Long labels and units (English ones especially) wrap onto a second line instead of ending in “…”.
_KPI_WRAP_STYLE = """<style>
[data-testid="stMetricLabel"] * {
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important; }
/* The value stays on one line with its unit (issue 9, item 20): the type follows the card's width instead. */
[data-testid="stMetric"] { container-type: inline-size; }
[data-testid="stMetricValue"], [data-testid="stMetricValue"] * { white-space: nowrap !important;
  overflow: visible !important; text-overflow: clip !important; }
[data-testid="stMetricValue"] { font-size: clamp(1.1rem, 13cqi, 2.25rem) !important; }
[data-testid="stMetricValue"] p { line-height: 1.15; font-size: inherit !important; }
[data-testid="stMetricValue"] span { line-height: 1.3; font-size: 0.42em !important; }
</style>"""


def _kpi_value(row) -> str:
    """The value with its unit in small type, so that long units (人/网格, persons/sub-grid) fit a card at
    1440 px instead of being cut to “242.5 人/…”."""
    suffix = f" {row.unit}"
    if row.unit and row.unit != "%" and row.formatted.endswith(suffix):
        return f"{row.formatted[:-len(suffix)]} :small[{row.unit}]"
    return row.formatted


def data_footer(ctx: Context, documents: list[str] | None = None) -> None:
    """"Data as of" and the sources, under every page's content (``documents``: the page's own, when it knows
    exactly which documents its values come from, as the generic domain page does)."""
    version, when = last_update(ctx.version)
    when_text = when.strftime("%Y-%m-%d %H:%M") if when is not None else "—"
    lines = [t("common.data_as_of", ctx.lang, version=version, when=when_text)]
    if ctx.region_id is not None and ctx.year is not None:
        # the report year of the figures shown, table by table, and separately when they were uploaded
        lines = [data_years_line(ctx.version, ctx.region_id, ctx.year, ctx.lang) or lines[0]]
        documents = "；".join(page_sources(ctx.version, ctx.region_id, ctx.year) if documents is None else documents)
        lines.append(message("common.source", ctx.lang, source=documents))
    st.caption("  \n".join(lines))
    if ctx.region_id is not None and ctx.year is not None:
        report_sentences(ctx)


def report_sentences(ctx: Context) -> None:
    """Under the sources: the sentences of the values a report gave, one click away (nothing without any)."""
    from lawstats.report import sentences

    frame = value_sentences(ctx.version, ctx.region_id, ctx.year, ctx.lang)
    if frame.empty:
        return
    with st.popover(t("sentences.footer", ctx.lang, count=len(frame)), icon=":material/format_quote:"):
        for value, quoted in sentences.lines(frame, ctx.lang):
            st.markdown(f"**{plain_markdown(value)}** {plain_markdown(quoted)}")


# ---------------------------------------------------------------------------------------------------------
# Chart pages: every chart goes through ``chart`` (toolbar PNG, SVG button, its numbers one click away,
# its source); domain pages end with ``trend_section``.


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def provenance(version: int, region_id: int, year: int) -> pd.DataFrame:
    return storage.value_provenance(get_store(), region_id, year)


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def children_figures(version: int, region_id: int, year: int, lang: str) -> pd.DataFrame:
    return summary.children_figures(get_store(), region_id, year, lang)


@st.cache_resource(max_entries=CACHE_ENTRIES, show_spinner=False)
def _built_figure(module: str, name: str, args: tuple, kwargs: tuple):
    return getattr(importlib.import_module(module), name)(*args, **dict(kwargs))


FULLY_HASHED_ROWS = 50_000  # Streamlit hashes only a sample of the rows of a longer frame


def figure(builder, *args, **kwargs):
    """``builder(*args, **kwargs)`` (a figure of ``charts`` or ``domain_charts``), built once per arguments and
    shared by every session: building a plotly figure, its validation, was most of a warm page rerun. The
    arguments are hashed by content (a frame's values and columns, not its ``attrs``, which no builder reads);
    a frame too long to be hashed whole is drawn afresh, so that a changed row can never bring back a stale
    figure. A shared figure is never changed: a page that adjusts one builds its own."""
    if any(isinstance(a, pd.DataFrame) and len(a) >= FULLY_HASHED_ROWS for a in (*args, *kwargs.values())):
        return builder(*args, **kwargs)
    return _built_figure(builder.__module__, builder.__name__, args, tuple(sorted(kwargs.items())))


def figures(ctx: Context) -> pd.Series:
    """The stored figures of the page's region and year (one row of ``storage.indicator_inputs``); a table the
    year lacks has its latest earlier values, labelled with their year (``summary.latest_figures``)."""
    inputs, _, _ = region_values(ctx.version, ctx.region_id)
    return summary.latest_figures(inputs, ctx.year)


def training_programmes(ctx: Context) -> pd.DataFrame:
    """The programmes of the year, or of the latest earlier year with any (``attrs["year"]`` says which)."""
    rows = table_rows(ctx.version, "training", (ctx.region_id,), None)
    return summary.latest_rows(rows, ctx.year)


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def drawn_sources(version: int, region_id: int, drawn: tuple[tuple[str, int], ...], lang: str) -> str:
    return summary.drawn_sources(get_store(), region_id, dict(drawn), lang)


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def data_years_line(version: int, region_id: int, year: int, lang: str) -> str:
    return summary.data_years_line(get_store(), region_id, year, lang)


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def page_sources(version: int, region_id: int, year: int) -> list[str]:
    return summary.page_sources(get_store(), region_id, year)


def source_of(ctx: Context, data: pd.DataFrame) -> str:
    """The documents and batches of the values a chart's frame draws (``frame.attrs["years"]``)."""
    drawn = data.attrs.get("years")
    if drawn is None:  # a frame that does not record its years: its columns, of the chosen year
        drawn = {c: ctx.year for c in data.attrs.get("columns", [])}
    return drawn_sources(ctx.version, ctx.region_id, tuple(sorted(drawn.items())), ctx.lang)


def domain_kpis(ctx: Context, domain: str, columns: int = 4) -> None:
    """The KPI cards of one domain's indicators that have a value (an earlier year's labelled with it)."""
    table = indicator_table(ctx.version, ctx.region_id, ctx.year, ctx.lang, latest=True)
    kpi_cards(table[table["domain"] == domain], ctx.lang, columns)


def domain_missing(ctx: Context, domain: str, table_ids: list[str]) -> bool:
    """True (and one line saying what is missing and how to add it) when the region has no figure of the
    domain in the chosen year or before: the page then draws nothing rather than empty charts."""
    from lawstats.registry import TABLES_BY_ID, domain_label

    table = indicator_table(ctx.version, ctx.region_id, ctx.year, ctx.lang, latest=True)
    if table.loc[table["domain"] == domain, "value"].notna().any():
        return False
    if "training" in table_ids and not training_programmes(ctx).empty:
        return False
    st.info(message("pages.domain_empty", ctx.lang, region=ctx.region_name, year=ctx.year,
                    domain=domain_label(domain, ctx.lang),
                    table="、".join(TABLES_BY_ID[i].label(ctx.lang) for i in table_ids)), icon=":material/info:")
    return True


def data_table(frame: pd.DataFrame, lang: str) -> None:
    """A chart's numbers as a table: headers in the reader's language, numbers with thousands separators."""
    shown = plaintext.frame(summary.for_display(frame, lang))
    numeric = {c: st.column_config.NumberColumn(format="localized") for c in shown.columns
               if pd.api.types.is_numeric_dtype(shown[c]) and c != t("common.year", lang)}
    st.dataframe(shown, hide_index=True, column_config=numeric, width="stretch")


def chart(fig, data: pd.DataFrame, file_name: str, ctx: Context, source: str, notes: list[str] = ()) -> None:
    """One chart: the figure (PNG at scale 2 from its toolbar, named ``file_name``), an SVG download drawn
    on the server only when asked for, the table of its numbers one click away, and where they come from."""
    title = fig.layout.title.text or file_name
    st.plotly_chart(fig, theme=None, config=charts.image_config(file_name), key=f"chart_{file_name}",
                    alt=plaintext.visible(summary.alt_text(title, data, ctx.lang)))
    table_column, svg_column = st.columns([4, 1], vertical_alignment="top")
    with table_column.expander(t("common.show_table", ctx.lang), icon=":material/table:"):
        data_table(data, ctx.lang)
    if charts.svg_available():
        svg_column.download_button("SVG", data=lambda: charts.to_svg(fig), file_name=f"{file_name}.svg",
                                   mime="image/svg+xml", on_click="ignore", key=f"svg_{file_name}",
                                   icon=":material/download:", help=t("pages.svg_help", ctx.lang),
                                   type="tertiary")
    # the source names documents from the data: plain text; notes are the page's own markdown (plain_notes)
    st.caption("  \n".join([plain_markdown(source), *[n for n in notes if n]]))


def chart_file_name(ctx: Context, fig) -> str:
    """region_chart-title_year: what a downloaded image is called."""
    return charts.safe_file_name(ctx.region_name, fig.layout.title.text, ctx.year)


def show_chart(ctx: Context, fig, data: pd.DataFrame, notes: list[str] = ()) -> None:
    """``chart`` with the file name and the source line derived from the page's region and year and the
    stored columns the data was made from. A chart with nothing to draw is one line saying what is missing and
    how to add it (never empty axes or a blank donut)."""
    if data.empty:
        from lawstats.registry import TABLES

        columns = set(data.attrs.get("columns", []))
        tables = [tb.label(ctx.lang) for tb in TABLES if columns & {c.id for c in tb.columns}]
        st.info(message("pages.chart_empty", ctx.lang, chart=fig.layout.title.text or "", region=ctx.region_name,
                        year=ctx.year, table="、".join(tables)), icon=":material/info:")
        return
    chart(fig, data, chart_file_name(ctx, fig), ctx, source_of(ctx, data), notes)


def at_target(ctx: Context, rates: pd.DataFrame, notes: list[str] = ()) -> None:
    """A set of rates that are all 100%: one line of text instead of a chart of equal bars, the numbers one
    click away, and their source."""
    st.markdown(plain_markdown(summary.at_target_line(rates, ctx.lang)))
    with st.expander(t("common.show_table", ctx.lang), icon=":material/table:"):
        data_table(rates, ctx.lang)
    st.caption("  \n".join([plain_markdown(source_of(ctx, rates)), *[n for n in notes if n]]))


def trend_section(ctx: Context, indicator_ids: list[str]) -> None:
    """The region's indicators over the years, with the change from the year before. With one year of data
    it says so, and how to add more, instead of drawing a one-point line."""
    st.subheader(t("pages.section.trend", ctx.lang))
    _, values, _ = region_values(ctx.version, ctx.region_id)
    frame = summary.indicator_series(values, indicator_ids, ctx.lang)
    years = sorted(frame["year"].unique())
    if len(years) < 2:
        st.info(t("common.one_year_only", ctx.lang, year=years[0] if years else ctx.year), icon=":material/info:")
        return
    fig = figure(charts.trend_lines, frame, ctx.lang)
    file_name = charts.safe_file_name(ctx.region_name, fig.layout.title.text, f"{years[0]}-{years[-1]}")
    sources_text = "；".join(dict.fromkeys(s for y in years for s in sources(ctx.version, ctx.region_id, int(y))))
    chart(fig, frame, file_name, ctx, t("common.source", ctx.lang, source=sources_text))


def villages_section(ctx: Context) -> None:
    """The villages and communities of the region, compared; or a plain notice that the data has none."""
    st.subheader(t("pages.section.villages", ctx.lang))
    frame = children_figures(ctx.version, ctx.region_id, ctx.year, ctx.lang)
    if frame.empty:
        st.info(message("common.no_children", ctx.lang, region=ctx.region_name), icon=":material/info:")
        return
    fig = figure(charts.children_bars, frame, ctx.lang)
    chart(fig, frame, chart_file_name(ctx, fig), ctx,
          t("common.source", ctx.lang, source="；".join(dict.fromkeys(frame["source"].dropna()))))


def text_table(frame: pd.DataFrame) -> None:
    """A table of words (the glossary's), as wide as the page."""
    st.dataframe(plaintext.frame(frame), hide_index=True, width="stretch", height="content")


# --- report (helper report): each value imported from a report with its sentence (lawstats.report.sentences) ---
@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def value_sentences(version: int, region_id: int, year: int, lang: str) -> pd.DataFrame:
    from lawstats.report import sentences

    return sentences.values_with_sentences(get_store(), region_id, year, lang)


def sentences_table(ctx: Context) -> None:
    """Every value of the page's region and year that came from a report, with its sentence (the glossary)."""
    from lawstats.report import sentences

    frame = value_sentences(ctx.version, ctx.region_id, ctx.year, ctx.lang)
    params = {"region": ctx.region_name, "year": ctx.year}
    if frame.empty:
        st.caption(plain_markdown(t("sentences.none", ctx.lang, **params)))
        return
    st.caption(plain_markdown(t("sentences.caption", ctx.lang, **params)))
    for value, quoted in sentences.lines(frame, ctx.lang):  # text, not a grid: a sentence is read, and it wraps
        st.markdown(f"**{plain_markdown(value)}** {plain_markdown(quoted)}")


def source_panel(indicators: pd.DataFrame, ctx: Context) -> None:
    """One indicator at a time, every fact about it on one card (like the sources panel of a chart on
    Our World in Data): pick it, read what it is, how it is computed, its value, source and checks."""
    name_column = t("common.indicator", ctx.lang)
    chosen = st.selectbox(t("pages.pick_indicator", ctx.lang), list(indicators[name_column]), key="glossary_pick")
    record = indicators[indicators[name_column] == chosen].iloc[0]
    separator = "：" if ctx.lang == "zh" else ": "
    lines = [f"**{plain_markdown(column)}**{separator}{plain_markdown(text)}" for column, text in record.items()
             if column != name_column and isinstance(text, str) and text]
    with st.container(border=True):
        st.markdown(f"#### {plain_markdown(chosen)}")
        st.markdown("  \n".join(lines))


# ---------------------------------------------------------------------------------------------------------
# Plain text and analysts' logins (the rules live in lawstats.auth; this is only their widgets)

def plain_markdown(text) -> str:
    """Text from users, files or the URL placed in a markdown element (titles, st.error, st.caption, toasts,
    labels): shown exactly as typed (``lawstats.plaintext.markdown``; checked in Chromium by
    tests/test_escaping.py)."""
    return plaintext.markdown(text)


def message(key: str, lang: str, **values) -> str:
    """``t(key, lang, **values)`` for a markdown element, the values (region names, sources, link values)
    as plain text and the message's own words as written."""
    return t(key, lang, **{name: plain_markdown(value) if isinstance(value, str) else value
                           for name, value in values.items()})


def plain_notes(notes) -> list[str]:
    """Chart notes that quote the data (a report's wording, its list of ethnic groups) as plain text."""
    return [plain_markdown(note) for note in notes]


def page_title(*parts) -> None:
    """A page's heading from its parts (page name, region, year), the region's name as plain text."""
    st.title(" · ".join(plain_markdown(part) for part in parts if part not in (None, "")))


SESSION_KEY = "_lawstats_analyst"


def _users_file_from_secrets() -> str | None:
    """``[lawstats] users_file = "..."`` in .streamlit/secrets.toml, if there is such a file."""
    if not st.secrets.load_if_toml_exists():
        return None
    section = st.secrets.get("lawstats", {})
    return section.get("users_file") if hasattr(section, "get") else None


def user_store() -> "auth.UserStore":
    """The analysts' accounts ($LAWSTATS_USERS, secrets or ~/.config/lawstats/users.toml). Cheap to build:
    the files are read at every check, so an account added by the CLI counts at once."""
    from lawstats import auth

    return auth.UserStore(auth.users_path(secrets_value=_users_file_from_secrets()))


def current_analyst(lang: str):
    """The logged-in analyst's session (its idle clock restarted), or None; says so when it has expired."""
    session = st.session_state.get(SESSION_KEY)
    if session is None:
        return None
    try:
        session = user_store().check(session)
    except LawstatsError as error:
        del st.session_state[SESSION_KEY]
        show_error(error, lang)
        return None
    st.session_state[SESSION_KEY] = session
    return session


def login_form(lang: str) -> None:
    """User name and password; a right pair stores the session and reruns the page."""
    with st.form("lawstats_login"):
        name = st.text_input(t("data.user_name", lang), autocomplete="username")
        password = st.text_input(t("data.password", lang), type="password", autocomplete="current-password")
        submitted = st.form_submit_button(t("data.log_in", lang), type="primary")
    if submitted:
        try:
            st.session_state[SESSION_KEY] = user_store().login(name, password)
        except LawstatsError as error:
            show_error(error, lang)
            return
        st.rerun()


def analyst_panel(lang: str):
    """Who is here: the logged-in analyst (with a log-out button), else the login form, else (a fresh
    install, no account yet) where the administrator finds how to create the first analyst. Returns the session
    or None."""
    try:
        users = user_store()
        session = current_analyst(lang)
        has_users = session is not None or users.has_users()
    except LawstatsError as error:  # users file inside the repository, or unreadable
        show_error(error, lang)
        return None
    if session is not None:
        left, right = st.columns([4, 1], vertical_alignment="center")
        left.markdown(plain_markdown(t("data.logged_in", lang, name=session.user_name)))
        if right.button(t("data.log_out", lang), key="lawstats_log_out"):
            log_out()
            st.rerun()
        return session
    if not has_users:  # the command and the users file's path are for the server's administrator: in docs/
        st.info(t("data.no_analysts", lang))
        return None
    st.caption(t("data.login_needed", lang) + " " + t("data.login_rules", lang))
    login_form(lang)
    return None


def log_out() -> None:
    st.session_state.pop(SESSION_KEY, None)


def parquet_zip(store: storage.Store) -> bytes:
    """``exchange.export_parquet`` (one file per table, into a folder) as one zip for a download button."""
    import io
    import tempfile
    import zipfile
    from pathlib import Path

    from lawstats import exchange

    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory() as folder, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in exchange.export_parquet(store, folder):
            archive.write(path, arcname=Path(path).name)
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------------------
# Presentation mode (会议展示, pages/present.py). ``?present=1`` asks for it; the frame reads it before it draws
# anything, to collapse the sidebar and hide the page menu.

PRESENT_PARAM = "present"
PRESENT_PAGE = "present"  # the url path of the presentation page


def presenting() -> bool:
    return st.query_params.get(PRESENT_PARAM) == "1"


def start_presenting() -> None:
    st.query_params[PRESENT_PARAM] = "1"


def stop_presenting() -> None:
    st.query_params.pop(PRESENT_PARAM, None)


# A presented slide is laid out on a 1280×720 stage that is scaled to the screen, as slide software does: the
# same slide fits a 1280×720 projector, a 1366×768 laptop and a 1920×1080 screen. The scale is chosen by media
# queries (the largest step at which the stage fits both ways), so no script measures the window. A transform,
# not ``zoom``: plotly and Streamlit measure their containers, and under ``zoom`` they get the zoomed size.
STAGE_WIDTH, STAGE_HEIGHT = 1280, 720
_STAGE_SCALES = (0.5, 0.625, 0.75, 0.8, 0.9, 1, 1.0666, 1.125, 1.25, 1.3333, 1.5, 1.6666, 1.75, 2, 2.5, 3)
# Only the slide shows: the app's own bars are gone, the presenter's controls (exit, settings, download; the
# previous/next bar) appear where the pointer or the keyboard focus is, and the keys work while they are hidden.
_PRESENT_STYLE = """<style>
[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stDecoration"], [data-testid="stSidebar"],
[data-testid="stSidebarCollapsedControl"], [data-testid="stExpandSidebarButton"],
[data-testid="stStatusWidget"], [data-testid="stElementToolbar"], [data-testid="stMain"] .modebar-container
{ display: none !important; }
[data-testid="stMain"] { overflow: hidden !important; align-items: flex-start !important; }
[data-testid="stMainBlockContainer"] { padding: 12px 32px 0 32px !important; margin: 0 !important;
  width: 1280px !important; max-width: none !important; min-width: 0 !important; height: 720px !important;
  transform-origin: top left; transform: scale(var(--stage-scale)); }
[data-testid="stMain"] h1 { font-size: 40px !important; line-height: 52px !important; padding: 0 !important;
  margin: 0 !important; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.st-key-present_controls, .st-key-present_nav { position: fixed; z-index: 999990; opacity: 0;
  transition: opacity .2s; background: rgba(255, 255, 255, .96); padding: 6px 12px; border-radius: 8px;
  width: auto !important; }
.st-key-present_controls { top: 6px; right: 12px; }
.st-key-present_nav { bottom: 6px; left: 50%; transform: translateX(-50%); }
.st-key-present_controls:hover, .st-key-present_controls:focus-within,
.st-key-present_nav:hover, .st-key-present_nav:focus-within { opacity: 1; }
/* Streamlit sizes a plotly figure from its wrapper's on-screen width and its own on-screen height, which the
   scale multiplies: both are divided by the scale (the chart drawn inside at full size), so the figure keeps
   its size on the stage. */
[data-testid="stMainBlockContainer"] div:has(> .stPlotlyChart) { width: calc(100% / var(--stage-scale)) !important;
  overflow: visible !important; }
[data-testid="stMainBlockContainer"] .stPlotlyChart { width: calc(100% * var(--stage-scale)) !important;
  max-width: none !important; height: calc(100% / var(--stage-scale)) !important; overflow: visible !important; }
.st-key-present_footer p { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; margin: 0; }
/* scales */
</style>"""


def present_style() -> str:
    """The CSS of presentation mode (``pages/present.py`` puts it on the page while presenting)."""
    scales = [f":root {{ --stage-scale: {_STAGE_SCALES[0]}; }}"]
    scales += [f"@media (min-width: {STAGE_WIDTH * z:.0f}px) and (min-height: {STAGE_HEIGHT * z:.0f}px) "
               f"{{ :root {{ --stage-scale: {z}; }} }}" for z in _STAGE_SCALES[1:]]
    return _PRESENT_STYLE.replace("/* scales */", "\n".join(scales))


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def slide_deck(version: int, region_id: int, year: int, lang: str):
    """Every slide the data allows for the region and year (``lawstats.slides.Deck``)."""
    from lawstats import slides

    return slides.build(get_store(), region_id, year, lang)


# ---------------------------------------------------------------------------------------------------------
# Catalogue domains (the generic page ``pages/domain.py``; lawstats.domain_view computes what it shows)

DOMAIN_STATE = "_lawstats_domain"  # the domain of the generic page being run (app.py sets it)


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def measure_values(version: int, region_id: int) -> pd.DataFrame:
    """Every stored value of every catalogue measure of the region, all years (storage.measure_values)."""
    return storage.measure_values(get_store(), [region_id])


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def measures_with_data(version: int, region_id: int) -> set[str]:
    """The measures holding a value for the region (storage.measures_with_data: existence tests only)."""
    return storage.measures_with_data(get_store(), region_id)


def domains_with_data(ctx: Context) -> list:
    """The catalogue domains holding figures for the region (in any year), in catalogue order. The menu of
    every page asks, so it tests existence instead of reading every value (issue 10)."""
    from lawstats import catalogue, domain_view

    if ctx.region_id is None:
        return []
    return domain_view.domains_of(catalogue.load(), measures_with_data(ctx.version, ctx.region_id))


def current_domain():
    """The catalogue domain the generic page is asked to draw."""
    from lawstats import catalogue

    return catalogue.load().domain(st.session_state[DOMAIN_STATE])


def domain_cards(figures, lang: str, columns: int = 4) -> None:
    """A domain's figures (``domain_view.Figure``) as cards: value and unit, its year when older than the
    chosen one, the definition (and the report's sentence) as tooltip."""
    st.html(_KPI_WRAP_STYLE)
    figures = list(figures)
    for start in range(0, len(figures), columns):
        for cell, figure in zip(st.columns(columns), figures[start:start + columns]):
            label = figure.label + (f" · {figure.year_note}" if figure.year_note else "")
            help_text = "\n\n".join(p for p in (figure.definition, figure.source, figure.sentence) if p)
            cell.metric(plain_markdown(label), _figure_value(figure), help=plain_markdown(help_text) or None,
                        border=True, height="stretch")


def _figure_value(figure) -> str:
    """The number large and its unit small, as on the KPI cards (a long unit still fits)."""
    if figure.unit and figure.unit != "%" and figure.text.endswith(figure.unit):
        number = figure.text[:-len(figure.unit)].rstrip()
        return f"{plain_markdown(number)} :small[{plain_markdown(figure.unit)}]"
    return plain_markdown(figure.text)


def domain_figures_table(figures, lang: str) -> pd.DataFrame:
    """The numbers of a chart of figures: item, value, unit, year."""
    return pd.DataFrame({"item": [f.label for f in figures], "value": [f.value for f in figures],
                         "unit": [f.unit for f in figures], "year": [f.year for f in figures]})


def domain_trends(ctx: Context, view) -> None:
    """The domain's measures over the years, one chart per unit; one line when there is a single year."""
    from lawstats import domain_charts, domain_view

    st.subheader(t("pages.section.trend", ctx.lang))
    if not view.trends:
        st.info(t("common.one_year_only", ctx.lang, year=ctx.year), icon=":material/info:")
        return
    for trend in view.trends:
        title = f"{view.title}（{trend.unit}）" if ctx.lang == "zh" else f"{view.title} ({trend.unit})"
        fig = figure(domain_charts.trend, trend, title, ctx.lang)
        years = sorted(int(y) for y in trend.frame["year"].unique())
        table = trend.frame.rename(columns={"label": "series"})[["series", "year", "value"]]
        chart(fig, table, charts.safe_file_name(ctx.region_name, title, f"{years[0]}-{years[-1]}"), ctx,
              domain_view.source_text(view, ctx.lang))


def domain_sentences(figures, lang: str) -> None:
    """The report sentences of the domain's values, one click away (plain text: they are the report's)."""
    figures = list(figures)
    if not figures:
        return
    with st.expander(t("domain.sentences", lang, count=len(figures)), icon=":material/format_quote:"):
        for figure in figures:
            origin = f"（{figure.source}）" if figure.source else ""
            st.markdown(f"**{plain_markdown(figure.label)}** {plain_markdown(figure.text)}："
                        f"{plain_markdown(figure.sentence)}{plain_markdown(origin)}")


# ---------------------------------------------------------------------------------------------------------
# The compare page's loaders and widgets (issue 5): cached per data version; every result is bounded
# (compare.MAX_REGIONS regions reach pandas, charts get compare.MAX_MARKS marks at most).


@st.cache_data(max_entries=CACHE_ENTRIES, show_spinner=False)
def descendant_counts(version: int, scope_id: int) -> dict[str, int]:
    return storage.descendant_counts(get_store(), scope_id)


@st.cache_data(max_entries=32, show_spinner=False)
def compare_values(version: int, scope_id: int, level: str, year: int) -> pd.DataFrame:
    """Every indicator and catalogue measure (``compare.choices``) of the regions of ``level`` under the scope,
    in one year."""
    from lawstats import compare

    store = get_store()
    inputs = storage.compare_inputs(store, scope_id, level, [year], limit=compare.MAX_REGIONS)
    regions = storage.compare_regions(store, scope_id, level, limit=compare.MAX_REGIONS)
    measures = storage.measure_values(store, regions["region_id"].astype(int).tolist(), [year])
    return compare.all_values(inputs, regions, measures)


@st.cache_data(max_entries=32, show_spinner=False)
def series_values(version: int, region_ids: tuple[int, ...]) -> pd.DataFrame:
    """Every indicator of a few regions over all their years (for the region × year heatmap)."""
    from lawstats import compare

    store = get_store()
    inputs = storage.effective_inputs(store, list(region_ids))
    names = storage.region_names(store, list(region_ids))
    return compare.all_values(inputs, names, storage.measure_values(store, list(region_ids)))


def rollup_section(ctx: Context) -> None:
    """The chosen region's reported figures beside the sums of its subdivisions, with the disagreements
    flagged (both values kept, neither preferred silently)."""
    info = region_info(ctx.version, ctx.region_id)
    st.subheader(t("compare.section.rollup", ctx.lang))
    st.caption(t("rollup.rule", ctx.lang))
    status = rollup_status(ctx.version, ctx.region_id, ctx.year)
    if not info or not info["n_children"] or status.empty:
        st.info(message("rollup.none", ctx.lang, region=ctx.region_name, year=ctx.year), icon=":material/info:")
        return
    table = summary_rollup_table(status, ctx.lang)
    widths = dict(zip(table.columns, ("small", "medium", "small", "small", "small", "medium")))
    st.dataframe(table, hide_index=True, width="stretch",
                 column_config={c: st.column_config.TextColumn(width=w) for c, w in widths.items()})


def summary_rollup_table(status: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The rollup check as the reader sees it: disagreements first, labels in the reader's language."""
    from lawstats.registry import TABLES_BY_ID

    order = {"disagree": 0, "own_only": 1, "incomplete": 2, "rolled_up": 3, "agree": 4}
    frame = status.assign(order=status["status"].map(order)).sort_values(["order", "table_id", "column_id"])
    decimals = {c.id: (0 if c.kind == "count" else 2) for table in TABLES_BY_ID.values() for c in table.columns}
    status_keys = [f"rollup.status.{s}_none_below" if s == "own_only" and n == 0 else f"rollup.status.{s}"
                   for s, n in zip(frame["status"], frame["children_with_value"])]
    return pd.DataFrame({
        t("rollup.col.table", lang): [TABLES_BY_ID[i].label(lang) for i in frame["table_id"]],
        t("rollup.col.column", lang): [TABLES_BY_ID[ti].column(ci).label(lang)
                                       for ti, ci in zip(frame["table_id"], frame["column_id"])],
        t("rollup.col.own", lang): [summary.format_number(v, decimals[c], lang)
                                    for v, c in zip(frame["own"], frame["column_id"])],
        t("rollup.col.sum", lang): [summary.format_number(v, decimals[c], lang)
                                    for v, c in zip(frame["children_sum"], frame["column_id"])],
        t("rollup.col.children", lang): [f"{int(a):,} / {int(b):,}" for a, b in
                                         zip(frame["children_with_value"], frame["n_children"])],
        t("rollup.col.status", lang): [t(key, lang) for key in status_keys],
    })


def show_upload_preview(upload, lang: str) -> None:
    """What a checked upload (a file or a report's figures) would add and change, before its commit."""
    st.subheader(t("data.preview", lang))
    for table in upload.preview.values():
        st.markdown(f"**{table.label}**")
        new, changed, unchanged = st.columns(3)
        new.metric(t("data.preview_new", lang), f"{table.new_count:,}", border=True)
        changed.metric(t("data.preview_changed", lang), f"{table.changed_count:,}", border=True)
        unchanged.metric(t("data.preview_unchanged", lang), f"{table.unchanged:,}", border=True)
        if len(table.changed):
            st.caption(t("data.preview_changes_title", lang))
            st.dataframe(plaintext.frame(table.changed), hide_index=True, width="stretch")
        if len(table.new_rows):
            st.caption(t("data.preview_new_title", lang))
            st.dataframe(plaintext.frame(table.new_rows), hide_index=True, width="stretch")
        if max(table.new_count, table.changed_count) > uploads.PREVIEW_LIMIT:
            st.caption(t("data.preview_limited", lang, limit=uploads.PREVIEW_LIMIT))
    st.markdown(f"**{t('data.indicator_changes', lang)}**")
    if len(upload.indicator_changes):
        # already text: each indicator in its own decimals, a dash where there is no value or no change
        st.dataframe(plaintext.frame(uploads.indicator_changes_table(upload, lang)), hide_index=True,
                     width="stretch")
    else:
        st.caption(t("data.no_indicator_changes", lang))

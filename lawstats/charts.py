"""Chart builders: pure functions that take plain data and return a plotly figure.

Titles, units and number formats come from the registry; every figure uses the house template
(``lawstats`` for the screen, ``lawstats_present`` with larger type for projectors). Builders never mutate a
shared layout: each makes its own figure.
"""

from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots

from lawstats import plaintext
from lawstats.colours import CONCEPT_COLORS, NEUTRAL_COLOR, concept_color  # noqa: F401 (also read as charts.*)
from lawstats.i18n import t
from lawstats.registry import Indicator
from lawstats.slides import fit_number, text_width  # slide text layout, shared with the .pptx

FONT_FAMILY = "Noto Sans CJK SC, Source Han Sans SC, Microsoft YaHei, PingFang SC, sans-serif"
PALETTE = ["#b71c1c", "#1565c0", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f", "#5d4037", "#546e7a"]
ALARM_COLOR = PALETTE[0]  # red: only for a check that fails, never for ordinary bars
SERIES_COLORS = PALETTE[1:]  # what ordinary marks are coloured from
SMALL_SHARE = 5.0  # a part under 5% of a whole is a bar with its number, not an invisible slice


def _colors(frame, default: str = NEUTRAL_COLOR) -> list[str]:
    concepts = frame["concept"] if "concept" in frame else [None] * len(frame)
    return [concept_color(c, default) for c in concepts]

pio.templates["lawstats"] = go.layout.Template(layout=go.Layout(
    font=dict(family=FONT_FAMILY, size=14, color="#212121"),
    title=dict(font=dict(size=18), x=0, xanchor="left"),
    colorway=SERIES_COLORS,
    paper_bgcolor="white", plot_bgcolor="white",
    margin=dict(l=60, r=30, t=60, b=50),
    xaxis=dict(showgrid=False, linecolor="#9e9e9e", ticks="outside", automargin=True),
    yaxis=dict(gridcolor="#eeeeee", zerolinecolor="#9e9e9e", tickformat=",", automargin=True),
    legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0),
    hoverlabel=dict(font=dict(family=FONT_FAMILY)),
    separators=".,",
))
pio.templates["lawstats_present"] = go.layout.Template(pio.templates["lawstats"]).update(layout=dict(
    font=dict(size=24), title=dict(font=dict(size=34)), margin=dict(l=90, r=40, t=90, b=70),
    paper_bgcolor="white", plot_bgcolor="white"))


def new_figure(title: str, present: bool = False) -> go.Figure:
    """An empty figure in the house style, with its title."""
    fig = go.Figure()
    fig.update_layout(template="lawstats_present" if present else "lawstats", title=dict(text=title))
    return fig


def axis_title(indicator: Indicator, lang: str) -> str:
    unit = indicator.unit(lang)
    return f"{indicator.label(lang)}（{unit}）" if lang == "zh" and unit else (
        f"{indicator.label(lang)} ({unit})" if unit else indicator.label(lang))


def image_config(file_name: str) -> dict:
    """The chart toolbar's download: PNG at twice screen resolution, named for what the chart shows."""
    return {"displaylogo": False, "toImageButtonOptions": {"format": "png", "filename": file_name, "scale": 2},
            "modeBarButtonsToAdd": ["toImage"]}


def safe_file_name(*parts) -> str:
    """A file name from region, indicator and year that every OS accepts (Chinese characters kept)."""
    text = "_".join(str(p) for p in parts if p not in (None, ""))
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in text)[:120]


def plain(text) -> str:
    """Text from the data (region names, cell texts) shown as text in plotly labels and hovers, never as HTML
    or a link (``lawstats.plaintext.plotly``)."""
    return plaintext.plotly(text)


# ---------------------------------------------------------------------------------------------------------
# The pages' charts. Each takes the long frame that ``lawstats.summary`` gives for it (``item``, ``value``,
# ``unit`` and, where it has them, ``group`` and ``series``) and the language, and returns a new figure.
# Numbers are written in full with thousands separators (never ``25k``); text from the data goes through
# ``plain``.

CHART_HEIGHT = 420
TARGET_COLOR = "#424242"


def number_text(value) -> str:
    """25,218 · 58,670.24 · 242.5 — full digits with thousands separators, no trailing zeros."""
    if value is None or value != value:  # NaN
        return "—"
    if float(value).is_integer():
        return f"{float(value):,.0f}"
    return f"{float(value):,.2f}".rstrip("0").rstrip(".")


def with_unit(value, unit: str) -> str:
    text = number_text(value)
    if not unit or text == "—":
        return text
    return f"{text}%" if unit == "%" else f"{text} {unit}"


def unit_title(label: str, unit: str, lang: str) -> str:
    """An axis title with its unit: 户籍人口（人） or Registered persons (persons); not “Persons (persons)”."""
    if not unit or (lang != "zh" and unit.lower() == label.lower()):
        return label
    return f"{label}（{unit}）" if lang == "zh" else f"{label} ({unit})"


def _styled(fig: go.Figure, title: str, present: bool, height: int | None) -> go.Figure:
    fig.update_layout(template="lawstats_present" if present else "lawstats", title=dict(text=title),
                      height=height or CHART_HEIGHT)
    return fig


def _count_axis(values, from_zero: bool = True) -> dict:
    """Ticks of an axis of counts: whole numbers only (never 0.5 persons). A narrow range (up to 8 from zero,
    or a spread of 5 on an axis fitted to the values) would get 0.5 steps: step 1 there."""
    values = [float(v) for v in values if v == v]
    if values and all(v.is_integer() for v in values):
        narrow = max(values) <= 8 if from_zero else max(values) - min(values) <= 5
        return {"tickformat": ",d", **({"dtick": 1} if narrow else {})}
    return {"tickformat": ","}


def _hbars(frame, title: str, axis: str, present: bool, height: int | None, color: str | None = None) -> go.Figure:
    """Horizontal bars, first row on top, each labelled with its value and unit, coloured by concept (an
    empty frame gives a figure with no trace: the page says what is missing instead of drawing it)."""
    fig = new_figure(title, present)
    if frame.empty:
        return fig
    labels = [plain(i) for i in frame["item"]]
    values = frame["value"].astype("float64")
    top = float(values.max()) if values.notna().any() else 0.0
    fig.add_trace(go.Bar(
        y=labels, x=values, orientation="h", marker_color=_colors(frame, color or NEUTRAL_COLOR),
        text=[with_unit(v, u) for v, u in zip(values, frame["unit"])], cliponaxis=False, textangle=0,
        # the label inside a long bar, after a short one: never cut off at the chart's right edge
        textposition=["inside" if top > 0 and v >= 0.55 * top else "outside" for v in values.fillna(0)],
        insidetextanchor="end", insidetextfont=dict(color="white"), outsidetextfont=dict(color="#212121"),
        hovertemplate="%{y}: %{x:,}<extra></extra>"))
    fig.update_layout(showlegend=False, height=height or max(200, 110 + 48 * len(frame)),
                      bargap=0.35 if len(frame) > 2 else 0.5,
                      margin=dict(r=40), uniformtext=dict(minsize=12, mode="show"))
    fig.update_xaxes(title_text=axis, range=[0, top * 1.3 if top > 0 else 1], **_count_axis(values))
    fig.update_yaxes(autorange="reversed", tickformat=None)
    return fig


def _panel_title(part, group: str, lang: str) -> str:
    """“单位：人” for a panel of one unit; “村和社区（个）” for a named group of one unit; the name alone where
    the items' units differ in words (villages, communities)."""
    units = list(dict.fromkeys(part["unit"]))
    if group in units:
        return t("pages.axis.unit", lang, unit=plain(group))
    return unit_title(plain(group), units[0], lang) if len(units) == 1 else plain(group)


def _hbars_by_group(frame, title: str, lang: str, present: bool, height: int | None) -> go.Figure:
    """Horizontal bars in one panel per ``group`` (a unit, or a kind of thing), each panel with its own axis:
    never two units on one axis. One group is plain ``_hbars``."""
    groups = list(dict.fromkeys(frame["group"])) if len(frame) else []
    if len(groups) <= 1:
        unit = frame["unit"].iloc[0] if len(frame) else ""
        axis = unit_title(plain(groups[0]), unit, lang) if groups and groups[0] != unit else t(
            "pages.axis.unit", lang, unit=unit)
        return _hbars(frame, title, axis, present, height)
    sizes = [int((frame["group"] == g).sum()) for g in groups]
    fig = make_subplots(rows=len(groups), cols=1, row_heights=sizes, vertical_spacing=0.16,
                        subplot_titles=[_panel_title(frame[frame["group"] == g], g, lang) for g in groups])
    fig.update_annotations(x=0, xanchor="right")  # over the item labels, ending at the axis: never cut off
    for row, group in enumerate(groups, start=1):
        part = frame[frame["group"] == group]
        values = part["value"].astype("float64")
        top = float(values.max()) if values.notna().any() else 0.0
        fig.add_trace(go.Bar(
            y=[plain(i) for i in part["item"]], x=values, orientation="h", marker_color=_colors(part),
            text=[with_unit(v, u) for v, u in zip(values, part["unit"])], cliponaxis=False, showlegend=False,
            # inside a long bar, after a short one (as _hbars): never cut off at a narrow chart's right edge
            textposition=["inside" if top > 0 and v >= 0.55 * top else "outside" for v in values.fillna(0)],
            insidetextanchor="end", insidetextfont=dict(color="white"), outsidetextfont=dict(color="#212121"),
            hovertemplate="%{y}: %{x:,}<extra></extra>"), row=row, col=1)
        fig.update_xaxes(range=[0, top * 1.3 if top > 0 else 1], row=row, col=1, **_count_axis(values))
        fig.update_yaxes(autorange="reversed", tickformat=None, row=row, col=1)
    fig = _styled(fig, title, present, height or max(260, 120 + 44 * len(frame) + 60 * len(groups)))
    fig.update_layout(bargap=0.35, margin=dict(t=90))
    return fig


def _paneled_bars(frame, title: str, lang: str, present: bool, height: int | None) -> go.Figure:
    """Small multiples: one panel per ``group`` with its own unit, bars per ``series`` in the same colours."""
    groups = list(dict.fromkeys(frame["group"]))
    if not groups:
        return _styled(go.Figure(), title, present, height)
    titles = [unit_title(plain(g), frame.loc[frame["group"] == g, "unit"].iloc[0], lang) for g in groups]
    fig = make_subplots(rows=1, cols=len(groups), horizontal_spacing=0.12, subplot_titles=titles)
    for col, group in enumerate(groups, start=1):
        part = frame[frame["group"] == group]
        fig.add_trace(go.Bar(
            x=[plain(s) for s in part["series"]], y=part["value"].astype("float64"),
            marker_color=_colors(part),
            text=[number_text(v) for v in part["value"]], textposition="outside", cliponaxis=False,
            hovertemplate="%{x}: %{y:,}<extra>" + plain(group) + "</extra>", showlegend=False), row=1, col=col)
        top = float(part["value"].max()) if part["value"].notna().any() else 0.0
        fig.update_yaxes(range=[0, top * 1.15 if top > 0 else 1], row=1, col=col, **_count_axis(part["value"]))
    fig = _styled(fig, title, present, height)
    fig.update_layout(uniformtext=dict(minsize=12, mode="show"), margin=dict(t=90))
    return fig


def _donut(frame, title: str, lang: str, present: bool, height: int | None) -> go.Figure:
    """Parts of a whole, each slice labelled with its value, unit and share. A part under ``SMALL_SHARE``
    percent would be an invisible slice: then the parts are bars labelled with value and share. One part alone
    is no composition: a bar too."""
    fig = new_figure(title, present)
    if frame.empty:
        return fig
    unit = frame["unit"].iloc[0] if len(frame) else ""
    total = float(frame["value"].sum())
    shares = frame["value"].astype("float64") / total * 100 if total > 0 else frame["value"] * 0
    if len(frame) < 2 or float(shares.min()) < SMALL_SHARE:
        return _share_bars(frame, shares, title, present, height)
    unit_text = "%" if unit == "%" else f" {unit}" if unit else ""
    fig.add_trace(go.Pie(
        labels=[plain(i) for i in frame["item"]], values=frame["value"].astype("float64"), hole=0.55, sort=False,
        direction="clockwise", rotation=_first_slice_at_three(frame["value"]), automargin=True,
        marker=dict(colors=_colors(frame), line=dict(color="white", width=2)),
        texttemplate="%{label}<br>%{value:,}" + unit_text + "<br>%{percent:.2%}", textposition="outside",
        textfont=dict(size=12),
        hovertemplate="%{label}: %{value:,}" + unit_text + " (%{percent:.2%})<extra></extra>"))
    fig.update_layout(showlegend=False, height=height or CHART_HEIGHT, margin=dict(l=10, r=10, t=80, b=30))
    return fig


def _share_bars(frame, shares, title: str, present: bool, height: int | None) -> go.Figure:
    """The parts of a whole as horizontal bars, each labelled “162 人 · 0.64%”."""
    fig = new_figure(title, present)
    values = frame["value"].astype("float64")
    top = float(values.max()) if values.notna().any() else 0.0
    fig.add_trace(go.Bar(
        y=[plain(i) for i in frame["item"]], x=values, orientation="h", marker_color=_colors(frame),
        text=[f"{with_unit(v, u)} · {number_text(round(s, 2))}%" if len(frame) > 1 else with_unit(v, u)
              for v, u, s in zip(values, frame["unit"], shares)],
        textposition="outside", cliponaxis=False, hovertemplate="%{y}: %{x:,}<extra></extra>"))
    fig.update_layout(showlegend=False, height=height or max(220, 130 + 60 * len(frame)), bargap=0.4)
    fig.update_xaxes(range=[0, top * 1.45 if top > 0 else 1], **_count_axis(values))
    fig.update_yaxes(autorange="reversed", tickformat=None)
    return fig


def _first_slice_at_three(values) -> float:
    """The pie rotation that centres the first slice at 3 o'clock, so the outside labels sit left and right
    of the ring, never on the title."""
    total = float(values.sum())
    return 90 - (float(values.iloc[0]) / total * 180 if total > 0 else 0)


# --- the charts the pages show ---


def population_structure(frame, lang: str, present: bool = False, height: int | None = None) -> go.Figure:
    """Registered vs resident, persons and households (``summary.population_structure``)."""
    return _paneled_bars(frame, t("pages.chart.population_structure", lang), lang, present, height)


def minority_composition(frame, lang: str, present: bool = False, height: int | None = None) -> go.Figure:
    """Minority persons as a part of the registered population (``summary.minority_composition``)."""
    return _donut(frame, t("pages.chart.minority", lang), lang, present, height)


def household_sizes(frame, lang: str, present: bool = False, height: int | None = None) -> go.Figure:
    """Persons per household, registered and resident (``summary.household_sizes``)."""
    unit = frame["unit"].iloc[0] if len(frame) else ""
    return _hbars(frame, t("pages.chart.household_size", lang), unit_title(t("pages.axis.household_size", lang),
                                                                            unit, lang), present, height)


def land_areas(frame, lang: str, present: bool = False, height: int | None = None) -> go.Figure:
    """Cultivated vs forest land in 亩 (``summary.land_areas``)."""
    unit = frame["unit"].iloc[0] if len(frame) else ""
    return _hbars(frame, t("pages.chart.land_areas", lang), unit_title(t("pages.axis.area", lang), unit, lang),
                  present, height)


def land_composition(frame, lang: str, present: bool = False, height: int | None = None) -> go.Figure:
    """Cultivated and forest land as shares of the two together (``summary.land_areas``)."""
    return _donut(frame, t("pages.chart.land_composition", lang), lang, present, height)


def land_per_person(frame, lang: str, present: bool = False, height: int | None = None) -> go.Figure:
    """Cultivated and forest land per registered person (``summary.land_per_person``)."""
    unit = frame["unit"].iloc[0] if len(frame) else ""
    return _hbars(frame, t("pages.chart.land_per_person", lang),
                  unit_title(t("pages.axis.per_person", lang), unit, lang), present, height)


def grid_chain(frame, lang: str, present: bool = False, height: int | None = None) -> go.Figure:
    """The governance chain 镇 → 片区 → 子网格 as boxes joined by arrows, each box with its count, the last
    arrow with the average branching (``summary.grid_chain``). No split per area is drawn: the report has none."""
    fig = new_figure(t("pages.chart.grid_chain", lang), present)
    values = [float(v) for v in frame["value"]]
    concepts = frame["concept"] if "concept" in frame else [None] * len(frame)
    for i, (item, value, unit, concept) in enumerate(zip(frame["item"], values, frame["unit"], concepts)):
        color = concept_color(concept, SERIES_COLORS[i % len(SERIES_COLORS)])
        fig.add_shape(type="rect", x0=i - 0.36, x1=i + 0.36, y0=0.15, y1=0.85, line=dict(color=color, width=2),
                      fillcolor=color, opacity=0.12, layer="below")
        fig.add_annotation(x=i, y=0.7, text=plain(item), showarrow=False, font=dict(size=15, color="#424242"))
        fig.add_annotation(x=i, y=0.47, text=f"<b>{number_text(value)}</b>", showarrow=False,
                           font=dict(size=30, color=color))
        fig.add_annotation(x=i, y=0.27, text=plain(unit), showarrow=False, font=dict(size=13, color="#616161"))
    for i in range(1, len(values)):
        fig.add_annotation(x=i - 0.37, y=0.5, ax=i - 0.63, ay=0.5, xref="x", yref="y", axref="x", ayref="y",
                           text="", showarrow=True, arrowhead=3, arrowsize=1.4, arrowwidth=2, arrowcolor="#757575")
        if values[i - 1] > 0 and i > 1:
            fig.add_annotation(x=i - 0.5, y=0.08, showarrow=False, font=dict(size=13, color="#616161"),
                               text=t("pages.per_parent", lang, value=number_text(round(values[i] / values[i - 1], 1))))
    fig.update_xaxes(visible=False, range=[-0.5, len(values) - 0.5])
    fig.update_yaxes(visible=False, range=[0, 1])
    fig.update_layout(showlegend=False, height=height or 300, margin=dict(l=10, r=10, t=60, b=10))
    return fig


def grid_coverage(frame, lang: str, present: bool = False, height: int | None = None) -> go.Figure:
    """What the grid covers: villages, communities, enterprises, schools, shops (``summary.grid_coverage``)."""
    return _hbars_by_group(frame, t("pages.chart.grid_coverage", lang), lang, present, height)


def grid_loads(frame, lang: str, present: bool = False, height: int | None = None) -> go.Figure:
    """Registered persons and households per sub-grid (``summary.grid_loads``)."""
    return _hbars(frame, t("pages.chart.grid_load", lang), t("pages.axis.per_subgrid", lang), present, height)


def safety_counts(frame, lang: str, present: bool = False, height: int | None = None) -> go.Figure:
    """Key persons, mental illness managed, dispute groups, belief venues, clues (``summary.safety_counts``)."""
    return _hbars_by_group(frame, t("pages.chart.safety_counts", lang), lang, present, height)


def training_sessions(frame, lang: str, present: bool = False, height: int | None = None) -> go.Figure:
    """Sessions held per programme (``summary.training_sessions``)."""
    unit = frame["unit"].iloc[0] if len(frame) else ""
    return _hbars(frame, t("pages.chart.training_sessions", lang),
                  unit_title(t("pages.chart.training_sessions", lang), unit, lang), present, height, PALETTE[4])


def training_rates(frame, lang: str, present: bool = False, height: int | None = None) -> go.Figure:
    """Each programme's rates against the target: one bar per programme and kind of rate as the report states
    it, a diamond where it is computed from counts, a dashed line at the target (``summary.training_rates``)."""
    fig = new_figure(t("pages.chart.training_rates", lang), present)
    rows = [_rate_row_label(p, s, lang) for p, s in zip(frame["item"], frame["series"])]
    for i, series in enumerate(dict.fromkeys(frame["series"])):
        mask = (frame["series"] == series).to_numpy()
        if frame.loc[mask, "stated"].isna().all():
            continue  # no stated rate of this kind (only computed ones, the diamonds): no empty bar trace
        fig.add_trace(go.Bar(
            y=[r for r, m in zip(rows, mask) if m], x=frame.loc[mask, "stated"].astype("float64"), orientation="h",
            name=plain(series), marker_color=PALETTE[(i + 1) % len(PALETTE)],
            text=[with_unit(v, "%") for v in frame.loc[mask, "stated"]], textposition="inside",
            insidetextanchor="end", textfont=dict(color="white"),
            hovertemplate="%{y}: %{x:,}%<extra>" + t("pages.stated", lang) + "</extra>"))
    computed = frame["computed"].notna().to_numpy()
    if computed.any():
        fig.add_trace(go.Scatter(
            y=[r for r, m in zip(rows, computed) if m], x=frame.loc[computed, "computed"].astype("float64"),
            # with no stated bars to carry the numbers, the diamonds are labelled themselves
            mode="markers" if frame["stated"].notna().any() else "markers+text", name=t("pages.computed", lang),
            text=[with_unit(v, "%") for v in frame.loc[computed, "computed"]], textposition="middle left",
            marker=dict(symbol="diamond", size=14, color=TARGET_COLOR, line=dict(color="white", width=1)),
            hovertemplate="%{y}: %{x:,}%<extra>" + t("pages.computed", lang) + "</extra>"))
    if frame["target"].notna().any():
        target = float(frame["target"].dropna().iloc[0])
        fig.add_vline(x=target, line=dict(color=TARGET_COLOR, dash="dash", width=2),
                      annotation_text=t("pages.target_line", lang, target=number_text(target)),
                      annotation_position="top")
    fig.update_layout(barmode="overlay", bargap=0.3, height=height or max(300, 170 + 44 * len(frame)),
                      uniformtext=dict(minsize=11, mode="show"), margin=dict(b=100),
                      legend=dict(yref="container", y=0.02, yanchor="bottom",
                                  title=dict(text=t("pages.stated", lang) + ("：" if lang == "zh" else ":"))))
    fig.update_xaxes(title_text=unit_title(t("pages.axis.rate", lang), "%", lang), range=[0, 112],
                     tickformat=",")
    fig.update_yaxes(autorange="reversed")
    return fig


def _rate_row_label(programme, series, lang: str) -> str:
    return f"{plain(programme)}（{plain(series)}）" if lang == "zh" else f"{plain(programme)} ({plain(series)})"


def trend_lines(frame, lang: str, present: bool = False, height: int | None = None) -> go.Figure:
    """A region's indicators over the years, one panel per indicator with its own unit
    (``summary.indicator_series``)."""
    groups = list(dict.fromkeys(frame["group"]))
    columns = min(3, max(1, len(groups)))
    rows = -(-len(groups) // columns)
    fig = make_subplots(rows=rows, cols=columns, subplot_titles=[plain(g) for g in groups],
                        horizontal_spacing=0.09, vertical_spacing=0.22 if rows > 1 else 0.1)
    for i, group in enumerate(groups):
        part = frame[frame["group"] == group]
        unit = part["unit"].iloc[0]
        color = concept_color(part["concept"].iloc[0] if "concept" in part else None,
                              SERIES_COLORS[i % len(SERIES_COLORS)])
        changes = [("" if c is None or c != c else f"<br>{t('common.yoy', lang)} {'+' if c >= 0 else ''}"
                    f"{number_text(round(c, 2))}") for c in part["yoy"]]
        fig.add_trace(go.Scatter(
            x=part["year"], y=part["value"].astype("float64"), mode="lines+markers", showlegend=False,
            line=dict(color=color, width=3), marker=dict(size=8, color=color), customdata=changes,
            hovertemplate="%{x}: %{y:,}" + ("%" if unit == "%" else f" {unit}") + "%{customdata}<extra></extra>"),
            row=i // columns + 1, col=i % columns + 1)
        fig.update_yaxes(title_text=unit, row=i // columns + 1, col=i % columns + 1,
                         **_count_axis(part["value"], from_zero=False))
        fig.update_xaxes(tickformat="d", dtick=1, row=i // columns + 1, col=i % columns + 1)
    return _styled(fig, t("pages.chart.trend", lang), present, height or 300 * rows + 80)


def children_bars(frame, lang: str, present: bool = False, height: int | None = None) -> go.Figure:
    """Registered persons of each village or community (``summary.children_figures``)."""
    unit = frame["unit"].iloc[0] if len(frame) else ""
    return _hbars(frame, t("pages.chart.children", lang), unit_title(t("pages.axis.persons", lang), unit, lang),
                  present, height)


def to_svg(fig: go.Figure, width: int = 1000, height: int | None = None) -> bytes:
    """The figure as SVG, drawn server-side by kaleido in the installed Chromium (no download, no CDN:
    plotly.js comes from the plotly package and MathJax is switched off)."""
    import kaleido

    options = {"format": "svg", "width": width, "height": height or fig.layout.height or CHART_HEIGHT}
    return kaleido.calc_fig_sync(fig.to_dict(), opts=options, kopts={"mathjax": False, **_chromium_option()})


def svg_available() -> bool:
    """Whether SVG can be drawn here: kaleido is installed and a Chromium is found."""
    import importlib.util

    return importlib.util.find_spec("kaleido") is not None and bool(_chromium_option() or _which_chromium())


def _chromium_option() -> dict:
    import os

    path = os.environ.get("LAWSTATS_CHROMIUM", "/usr/bin/chromium")
    return {"path": path} if os.path.exists(path) else {}


def _which_chromium() -> str | None:
    import shutil

    return next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)),
                None)



# ---------------------------------------------------------------------------------------------------------
# Slides (会议展示): the presentation page draws ``lawstats.slides`` with these, in the ``lawstats_present``
# template, black on white with large type for a projector. ``lawstats.deck`` draws the same slides natively
# in PowerPoint. Sizes are in pixels for a 1920×1080 screen.

SLIDE_INK = "#000000"  # high contrast: pure black text and axis lines
SLIDE_ACCENT = PALETTE[0]
SLIDE_TILE = "#f2f2f2"


def wrap_text(text, width_em: float) -> str:
    """Break a text into lines at most ``width_em`` wide (Chinese anywhere, Latin at spaces), joined by
    ``<br>`` for plotly; the text is escaped first (``plain``)."""
    lines, line, used = [], "", 0.0
    for token in _wrap_tokens(str(text)):
        width = text_width(token)
        if line and used + width > width_em:
            lines.append(line.rstrip())
            line, used = token.lstrip(), text_width(token.lstrip())
        else:
            line, used = line + token, used + width
    lines.append(line.rstrip())
    return "<br>".join(plain(part) for part in lines)


def _wrap_tokens(text: str) -> list[str]:
    """Chinese characters one by one, Latin words with their following space."""
    tokens, word = [], ""
    for ch in text:
        if ord(ch) > 0x2E7F:
            if word:
                tokens.append(word)
                word = ""
            tokens.append(ch)
        else:
            word += ch
            if ch == " ":
                tokens.append(word)
                word = ""
    if word:
        tokens.append(word)
    return tokens


def _slide_figure(height: int, margin: dict | None = None) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(template="lawstats_present", height=height, font=dict(color=SLIDE_INK),
                      margin=margin or dict(l=10, r=10, t=10, b=10))
    return fig


TILE_LINE = 1.3  # a line of tile text, in ems: the type's height with plotly's line gap
SMALLEST_LABEL = 14  # px: a tile's name never gets smaller (a longer one may then reach its value)


def fitted_label(text: str, width_px: float, size: int, room_px: float) -> tuple[str, int]:
    """A tile's name wrapped to ``width_px`` in the largest type up to ``size`` whose lines fit in ``room_px`` of
    height: a long English name ("Forest share of farm and forest") in a narrow tile takes smaller type rather
    than running into the value. Returns the wrapped text (plotly ``<br>``) and the type size."""
    for fitted in range(size, SMALLEST_LABEL, -1):
        wrapped = wrap_text(text, width_px / fitted)
        if (wrapped.count("<br>") + 1) * fitted * TILE_LINE <= room_px:
            return wrapped, fitted
    return wrap_text(text, width_px / SMALLEST_LABEL), SMALLEST_LABEL


def kpi_tiles(kpis, columns: int, height: int, width: int = 1800) -> go.Figure:
    """Indicator tiles: the name at the top, the value large at the bottom with its unit smaller (beside it, or
    under it where both do not fit), the change from the year before and a failed check in red under that.
    The texts are the slide's own (already formatted)."""
    fig = _slide_figure(height)
    rows = max(1, -(-len(kpis) // columns))
    gap_x, gap_y = 0.02, 0.04
    tile_w, tile_h = (1 - gap_x * (columns - 1)) / columns, (1 - gap_y * (rows - 1)) / rows
    tile_px = tile_h * (height - 20)
    value_size = int(min(64, max(30, tile_px * 0.30)))
    label_size = int(min(28, max(20, tile_px * 0.12)))
    small_size = max(18, int(label_size * 0.8))
    for i, kpi in enumerate(kpis):
        x0 = (i % columns) * (tile_w + gap_x)
        y1 = 1 - (i // columns) * (tile_h + gap_y)
        y0, left = y1 - tile_h, x0 + 0.018
        fig.add_shape(type="rect", xref="paper", yref="paper", x0=x0, x1=x0 + tile_w, y0=y0, y1=y1,
                      fillcolor=SLIDE_TILE, line=dict(width=0), layer="below")
        fig.add_shape(type="rect", xref="paper", yref="paper", x0=x0, x1=x0 + 0.006, y0=y0, y1=y1,
                      fillcolor=ALARM_COLOR if kpi.warning else NEUTRAL_COLOR, line=dict(width=0))
        footnote = "  ".join(plain(p) for p in (kpi.change, kpi.warning) if p)
        bottom = y0 + 0.05 * tile_h
        if footnote:
            fig.add_annotation(x=left, y=bottom, text=footnote, showarrow=False, xref="paper", yref="paper",
                               xanchor="left", yanchor="bottom",
                               font=dict(size=small_size, color=SLIDE_ACCENT if kpi.warning else SLIDE_INK))
            bottom += (small_size * 1.5) / (height - 20)
        size, unit_below = fit_number(kpi.number, kpi.unit, (tile_w - 0.03) * width, value_size, 24)
        unit_size = max(small_size, round(size * 0.45))
        if unit_below:  # a long unit (persons/household) on its own line still fits the tile
            unit_size = min(unit_size, int((tile_w - 0.03) * width * 0.9 / max(text_width(kpi.unit), 1)))
        unit = f' <span style="font-size:{unit_size}px">{plain(kpi.unit)}</span>' if kpi.unit else ""
        if unit_below:  # on a line of its own, under the number
            fig.add_annotation(x=left, y=bottom, text=plain(kpi.unit), showarrow=False, xref="paper",
                               yref="paper", xanchor="left", yanchor="bottom", font=dict(size=unit_size,
                                                                                         color=SLIDE_INK))
            bottom += unit_size * 1.3 / (height - 20)
            unit = ""
        fig.add_annotation(x=left, y=bottom, text=f"<b>{plain(kpi.number)}</b>{unit}", showarrow=False,
                           xref="paper", yref="paper", xanchor="left", yanchor="bottom", align="left",
                           font=dict(size=size, color=SLIDE_INK))
        # the name above the value, in type small enough that its lines end before the value begins
        room_px = (y1 - 0.04 * tile_h - bottom) * (height - 20) - size * TILE_LINE
        label, fitted = fitted_label(kpi.label, (tile_w - 0.03) * width, label_size, room_px)
        fig.add_annotation(x=left, y=y1 - 0.04 * tile_h, text=label, showarrow=False,
                           xref="paper", yref="paper", xanchor="left", yanchor="top", align="left",
                           font=dict(size=fitted, color=SLIDE_INK))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def title_card(subtitle: str, lines, height: int) -> go.Figure:
    """The title slide under its heading: the dashboard's name in the house red, then the region's place in
    the hierarchy and the data version, large, beside a red band."""
    fig = _slide_figure(height)
    fig.add_shape(type="rect", xref="paper", yref="paper", x0=0, x1=0.008, y0=0.50, y1=0.95,
                  fillcolor=SLIDE_ACCENT, line=dict(width=0))
    fig.add_annotation(x=0.025, y=0.92, text=f"<b>{plain(subtitle)}</b>", showarrow=False, xref="paper",
                       yref="paper", xanchor="left", yanchor="top", font=dict(size=48, color=SLIDE_ACCENT))
    text = "<br>".join(wrap_text(line, 30) for line in lines)  # a long data-version line wraps on the card
    fig.add_annotation(x=0.025, y=0.70, text=text, showarrow=False, xref="paper", yref="paper", xanchor="left",
                       yanchor="top", align="left", font=dict(size=32, color=SLIDE_INK))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


def _tick_format(decimals: int) -> str:
    return f",.{decimals}f"


def slide_chart(chart, height: int, titled: bool = True) -> go.Figure:
    """A slide's chart (``lawstats.slides.Chart``): columns, horizontal bars or lines, values written on the
    marks, the title carrying the unit (left out where the slide's own title says it already)."""
    legend = len(chart.series) > 1  # on its own line between the title and the plot
    top = (80 if titled else 20) + (50 if legend else 0)
    fig = _slide_figure(height, margin=dict(l=20, r=40, t=top, b=20))
    fig.update_layout(title=dict(text=plain(chart.title) if titled else "", font=dict(size=30, color=SLIDE_INK),
                                 y=0.98, yanchor="top"),
                      showlegend=legend,
                      legend=dict(font=dict(size=24), orientation="h", y=1.01, yanchor="bottom", x=0,
                                  xanchor="left"))
    categories = [plain(c) for c in chart.categories]
    number = _tick_format(chart.decimals)
    suffix = "%" if chart.unit == "%" else ""
    for i, series in enumerate(chart.series):
        color = PALETTE[(i + 1) % len(PALETTE)] if len(chart.series) > 1 or chart.kind == "line" else PALETTE[1]
        color = series.colour or color  # a measure keeps its page colour on the slide
        if chart.colours and chart.kind != "line":  # bars of different measures, each in its colour
            color = list(chart.colours)
        values = [None if v is None else v for v in series.values]
        labels = ["" if v is None else f"{v:{number}}{suffix}" for v in values]
        if chart.kind == "line":
            fig.add_trace(go.Scatter(x=categories, y=values, name=plain(series.name), mode="lines+markers+text",
                                     text=labels if len(categories) <= 8 else None,
                                     textposition="top center" if i % 2 == 0 else "bottom center",
                                     line=dict(width=5, color=color), marker=dict(size=14, color=color),
                                     textfont=dict(size=22, color=SLIDE_INK)))
        else:
            horizontal = chart.kind == "bar"
            fig.add_trace(go.Bar(x=values if horizontal else categories, y=categories if horizontal else values,
                                 orientation="h" if horizontal else "v", name=plain(series.name),
                                 marker_color=color, text=labels, textposition="outside", cliponaxis=False,
                                 textfont=dict(size=24, color=SLIDE_INK)))
    value_axis = dict(tickformat=",", gridcolor="#d0d0d0", linecolor=SLIDE_INK, tickfont=dict(size=22),
                      rangemode="tozero", automargin=True)
    category_axis = dict(linecolor=SLIDE_INK, linewidth=2, tickfont=dict(size=24, color=SLIDE_INK),
                         automargin=True, type="category")
    top = max((v for s in chart.series for v in s.values if v is not None), default=0) or 1
    if chart.kind == "bar":
        fig.update_xaxes(**value_axis, range=[0, top * 1.2])
        fig.update_yaxes(**category_axis, autorange="reversed")
        fig.update_layout(barmode="group", bargap=0.25)
    else:
        fig.update_xaxes(**category_axis)
        if chart.kind == "line":  # a trend is read from its changes: the axis fits the values
            fig.update_yaxes(**{**value_axis, "rangemode": "normal"})
        else:
            fig.update_yaxes(**value_axis, range=[0, top * 1.15])
        fig.update_layout(barmode="group", bargap=0.3)
    return fig


def slide_table(table, height: int, width: int = 1800, font_size: int = 24) -> go.Figure:
    """A table of words (definitions, sources, a comparison) in large type; long cells wrap to their column."""
    fig = _slide_figure(height)
    total = sum(table.widths)
    ems = [w / total * width / font_size - 1.5 for w in table.widths]
    columns = list(zip(*table.rows)) if table.rows else [() for _ in table.header]
    cells = [[wrap_text(value, ems[i]) for value in column] for i, column in enumerate(columns)]
    fig.add_trace(go.Table(
        columnwidth=list(table.widths),
        header=dict(values=[f"<b>{plain(h)}</b>" for h in table.header], fill_color=SLIDE_ACCENT,
                    font=dict(color="white", size=font_size + 1), align="left", height=52,
                    line=dict(color="white", width=1)),
        cells=dict(values=cells, fill_color=[["white", SLIDE_TILE] * (len(table.rows) // 2 + 1)],
                   font=dict(color=SLIDE_INK, size=font_size), align="left", height=46,
                   line=dict(color="#bdbdbd", width=1))))
    return fig


# ---------------------------------------------------------------------------------------------------------
# Comparison charts (the compare page): ranking, distribution, region × year heatmap, two indicators.
# Each takes the small frames ``lawstats.compare`` returns, so no chart carries more than ~5,000 marks.

HIGHLIGHT_COLOR = "#0d47a1"  # the chosen region: dark blue among grey peers (red is for failing checks)
PEER_COLOR = "#90a4ae"
OTHERS_COLOR = "#cfd8dc"


def _indicator_unit_text(indicator: Indicator, lang: str) -> str:
    unit = indicator.unit(lang)
    return "%" if unit == "%" else (f" {unit}" if unit else "")


def _indicator_axis(indicator: Indicator, values, from_zero: bool = True) -> dict:
    """An indicator's value axis: whole-number ticks for a count (never 2.5 persons)."""
    return _count_axis(values, from_zero) if indicator.decimals == 0 else {"tickformat": ","}


def ranking_bars(rows, indicator: Indicator, title: str, lang: str, present: bool = False) -> go.Figure:
    """Horizontal bars best first: the chosen region in red, an ``others`` bar (the median of the regions
    not shown, with their count) in pale grey, each bar labelled with its value."""
    labels, colors = [], []
    for r in rows.itertuples(index=False):
        if r.kind == "others":
            labels.append(plain(t("compare.others", lang, count=int(r.others_count))))
            colors.append(OTHERS_COLOR)
        else:
            labels.append(f"{int(r.rank)}. {plain(r.name)}")
            colors.append(HIGHLIGHT_COLOR if r.kind == "chosen" else PEER_COLOR)
    values = rows["value"].astype("float64")
    fig = new_figure(title, present)
    fig.add_trace(go.Bar(
        y=labels, x=values, orientation="h", marker_color=colors, cliponaxis=False,
        text=[with_unit(round(v, indicator.decimals), indicator.unit(lang)) for v in values],
        textposition="outside", hovertemplate="%{y}: %{x:,}" + _indicator_unit_text(indicator, lang) + "<extra></extra>"))
    low, high = float(min(values.min(), 0)), float(max(values.max(), 0))
    fig.update_layout(showlegend=False, height=max(260, 110 + 26 * len(rows)), bargap=0.25)
    fig.update_xaxes(title_text=axis_title(indicator, lang), range=[low * 1.25, high * 1.25 if high > 0 else 1],
                     **_indicator_axis(indicator, values))
    fig.update_yaxes(autorange="reversed", tickformat=None, type="category")
    return fig


def distribution_bars(bins, indicator: Indicator, title: str, lang: str, marker: float | None = None,
                      marker_label: str = "", present: bool = False) -> go.Figure:
    """A histogram from precomputed bins (left, right, count), with a line at the chosen region's value."""
    fig = new_figure(title, present)
    centres = (bins["left"] + bins["right"]) / 2
    widths = bins["right"] - bins["left"]
    fig.add_trace(go.Bar(
        x=centres, y=bins["count"], width=widths, marker_color=PALETTE[1], marker_line=dict(color="white", width=1),
        customdata=list(zip(bins["left"], bins["right"])),
        hovertemplate="%{customdata[0]:,.2f} – %{customdata[1]:,.2f}: %{y:,}<extra></extra>"))
    if marker is not None and marker == marker:
        fig.add_vline(x=float(marker), line=dict(color=HIGHLIGHT_COLOR, width=3),
                      annotation_text=plain(marker_label), annotation_position="top",
                      annotation_font_color=HIGHLIGHT_COLOR)
    fig.update_layout(showlegend=False, height=CHART_HEIGHT, bargap=0)
    fig.update_xaxes(title_text=axis_title(indicator, lang), tickformat=",")
    most = int(bins["count"].max()) if len(bins) else 0
    fig.update_yaxes(title_text=t("compare.regions_axis", lang), tickformat=",d", rangemode="tozero",
                     **({"dtick": 1} if most <= 8 else {}))  # counts: no fractional ticks
    return fig


def year_heatmap(matrix, indicator: Indicator, title: str, lang: str, highlight: str | None = None,
                 present: bool = False) -> go.Figure:
    """Regions (rows, in rank order) × years (columns), coloured by value; cells labelled when few."""
    fig = new_figure(title, present)
    z = matrix.to_numpy(dtype="float64")
    rows = [f"<b>{plain(n)}</b>" if n == highlight else plain(n) for n in matrix.index]
    show_text = z.size <= 400
    text = [[number_text(round(v, indicator.decimals)) if v == v else "" for v in row] for row in z]
    reverse = indicator.higher_is_better is False
    fig.add_trace(go.Heatmap(
        z=z, x=[str(c) for c in matrix.columns], y=rows, colorscale="Blues", reversescale=reverse,
        text=text if show_text else None, texttemplate="%{text}" if show_text else None,
        hovertemplate="%{y} · %{x}: %{z:,.2f}" + _indicator_unit_text(indicator, lang) + "<extra></extra>",
        colorbar=dict(title=dict(text=plain(indicator.unit(lang))), tickformat=","), hoverongaps=False))
    fig.update_layout(height=max(300, 120 + 24 * len(rows)))
    fig.update_xaxes(type="category", showgrid=False)
    fig.update_yaxes(autorange="reversed", type="category", tickformat=None, showgrid=False)
    return fig


def indicator_scatter(points, x: Indicator, y: Indicator, title: str, lang: str, highlight=None,
                      binned=None, present: bool = False) -> go.Figure:
    """Two indicators across regions: one dot per region, or (``binned``: x, y, count cells) a density grid
    when there are more regions than a chart should draw; the chosen region as a red diamond."""
    fig = new_figure(title, present)
    if binned is not None:
        fig.add_trace(go.Heatmap(
            x=binned["x"], y=binned["y"], z=binned["count"], colorscale="Blues",
            colorbar=dict(title=dict(text=t("compare.density", lang)), tickformat=",d"),
            hovertemplate="%{x:,.2f}, %{y:,.2f}: %{z:,}<extra></extra>"))
    else:
        fig.add_trace(go.Scattergl(
            x=points["x"], y=points["y"], mode="markers", text=[plain(n) for n in points["name"]],
            marker=dict(color=PEER_COLOR, size=8, opacity=0.75, line=dict(color="white", width=0.5)),
            hovertemplate="%{text}<br>%{x:,.2f}, %{y:,.2f}<extra></extra>"))
    if highlight is not None:
        fig.add_trace(go.Scatter(
            x=[highlight["x"]], y=[highlight["y"]], mode="markers+text", text=[plain(highlight["name"])],
            textposition="top center", textfont=dict(color=HIGHLIGHT_COLOR),
            marker=dict(color=HIGHLIGHT_COLOR, size=15, symbol="diamond", line=dict(color="white", width=1.5)),
            hovertemplate="%{text}<br>%{x:,.2f}, %{y:,.2f}<extra></extra>"))
    fig.update_layout(showlegend=False, height=CHART_HEIGHT + 60)
    x_values = points["x"] if binned is None else binned["x"]
    y_values = points["y"] if binned is None else binned["y"]
    fig.update_xaxes(title_text=axis_title(x, lang), showgrid=True, gridcolor="#eeeeee",
                     **_indicator_axis(x, x_values, from_zero=False))
    fig.update_yaxes(title_text=axis_title(y, lang), **_indicator_axis(y, y_values, from_zero=False))
    return fig

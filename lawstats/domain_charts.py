"""The generic domain page's charts: pure functions from ``lawstats.domain_view`` parts to plotly figures.

Each chart has one unit on its one value axis; each measure keeps its colour (``domain_view.colour_of``); bars
are never alarm red; a count axis has whole ticks only. Text from the data goes through ``plaintext.plotly``.
"""

from __future__ import annotations

import plotly.graph_objects as go

from lawstats import plaintext
from lawstats.charts import CHART_HEIGHT, new_figure
from lawstats.domain_view import BreakdownView, Trend, UnitGroup, number_text

SMALL_COUNT = 10  # up to this top value, a count axis gets a tick at every whole number


def count_axis(top: float) -> dict:
    """Axis settings for counts: whole numbers with thousands separators, never 0.5 persons."""
    settings = {"tickformat": ",d", "rangemode": "tozero"}
    if top <= SMALL_COUNT:
        settings.update(dtick=1, tick0=0)
    return settings


def value_axis(top: float, integer: bool) -> dict:
    return count_axis(top) if integer else {"tickformat": ",", "rangemode": "tozero"}


def _bars(labels, values, texts, colours, title: str, axis_title: str, integer: bool, present: bool,
          height: int | None) -> go.Figure:
    """Horizontal bars, first on top, each labelled with its value and unit."""
    fig = new_figure(title, present)
    numbers = [None if v is None else float(v) for v in values]
    top = max([v for v in numbers if v is not None] or [0.0])
    fig.add_trace(go.Bar(y=[plaintext.plotly(x) for x in labels], x=numbers, orientation="h", marker_color=colours,
                         text=[plaintext.plotly(x) for x in texts], textposition="outside", cliponaxis=False,
                         hovertemplate="%{y}: %{text}<extra></extra>"))
    fig.update_layout(showlegend=False, height=height or max(220, 120 + 48 * len(numbers)),
                      bargap=0.35 if len(numbers) > 2 else 0.5)
    fig.update_xaxes(title_text=axis_title, range=[0, top * 1.3 if top > 0 else 1], **value_axis(top, integer))
    fig.update_yaxes(autorange="reversed", tickformat=None)
    return fig


def unit_group(group: UnitGroup, title: str, lang: str, present: bool = False, height: int | None = None) -> go.Figure:
    """The figures of one unit side by side."""
    labels = [f.label + (f"（{f.year_note}）" if f.year_note and lang == "zh" else
                         f" ({f.year_note})" if f.year_note else "") for f in group.figures]
    return _bars(labels, [f.value for f in group.figures], [f.text for f in group.figures],
                 [f.colour for f in group.figures], title, group.unit,
                 group.integer, present, height)


def breakdown(view: BreakdownView, lang: str, present: bool = False, height: int | None = None) -> go.Figure:
    """One measure per item: bars in the measure's colour (a small share stays readable, unlike a thin slice)."""
    title = view.title + (f"（{view.year_note}）" if view.year_note and lang == "zh" else
                          f" ({view.year_note})" if view.year_note else "")
    items = view.items
    return _bars(list(items["item"]), list(items["value"]), list(items["text"]), [view.colour] * len(items), title,
                 view.unit, view.integer, present, height)


def trend(view: Trend, title: str, lang: str, present: bool = False, height: int | None = None) -> go.Figure:
    """The measures of one unit over the years, one line per measure in its colour."""
    fig = new_figure(title, present)
    frame = view.frame
    years = sorted(frame["year"].unique())
    for measure_id in dict.fromkeys(frame["measure_id"]):
        part = frame[frame["measure_id"] == measure_id]
        fig.add_trace(go.Scatter(
            x=[str(y) for y in part["year"]], y=part["value"].astype("float64"), mode="lines+markers+text",
            name=plaintext.plotly(part["label"].iloc[0]), line=dict(color=part["colour"].iloc[0], width=3),
            # the number only (the unit is on the axis): a long unit at the first or last year would be cut off
            text=[number_text(v) for v in part["value"]], textposition="top center", cliponaxis=False,
            hovertemplate="%{x}: %{text} " + plaintext.plotly(view.unit) + "<extra>"
                          + plaintext.plotly(part["label"].iloc[0]) + "</extra>"))
    top = float(frame["value"].max()) if len(frame) else 0.0
    # the legend under the plot: above it, it would run into the title
    fig.update_layout(height=height or CHART_HEIGHT, showlegend=True,
                      legend=dict(orientation="h", yanchor="top", y=-0.15, xanchor="left", x=0))
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=[str(y) for y in years])
    fig.update_yaxes(title_text=view.unit, range=[0, top * 1.2 if top > 0 else 1], **value_axis(top, view.integer))
    return fig

"""Chart builders: pure functions that take plain data and return a plotly figure.

Titles, units and number formats come from the registry; every figure uses the house template
(``lawstats`` for the screen, ``lawstats_present`` with larger type for projectors). Builders never mutate a
shared layout: each makes its own figure.
"""

from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio

from lawstats.registry import Indicator

FONT_FAMILY = "Noto Sans CJK SC, Source Han Sans SC, Microsoft YaHei, PingFang SC, sans-serif"
PALETTE = ["#b71c1c", "#1565c0", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f", "#5d4037", "#546e7a"]

pio.templates["lawstats"] = go.layout.Template(layout=go.Layout(
    font=dict(family=FONT_FAMILY, size=14, color="#212121"),
    title=dict(font=dict(size=18), x=0, xanchor="left"),
    colorway=PALETTE,
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
    """Text from the data (region names, cell texts) shown as text in plotly labels and hovers, never as HTML:
    plotly renders a subset of HTML tags in labels, so ``<`` and ``&`` are escaped."""
    import html

    return html.escape(str(text), quote=False)

"""总览 Overview: the headline indicators of the chosen region and year, the headline charts, and their sources."""

import streamlit as st

from lawstats import charts, summary, ui
from lawstats.i18n import t

ctx = ui.context()
ui.page_title(ctx.region_name, ctx.year)

# 1. Headline KPI cards (value, unit, YoY and sparkline, definition as tooltip, ⚠ on a failing check)
table = ui.indicator_table(ctx.version, ctx.region_id, ctx.year, ctx.lang, latest=True)
ui.kpi_cards(table[table["headline"]], ctx.lang)  # only figures that exist; an earlier year's labelled so

# 2. Headline charts: population and land, grid and training (a chart with nothing to draw is one line saying
#    what is missing and how to add it)
figures = ui.figures(ctx)
left, right = st.columns(2, gap="large")
with left:
    data = summary.population_structure(figures, ctx.lang)
    ui.show_chart(ctx, ui.figure(charts.population_structure, data, ctx.lang, height=380), data)
with right:
    data = summary.land_areas(figures, ctx.lang)
    ui.show_chart(ctx, ui.figure(charts.land_composition, data, ctx.lang, height=380), data)
left, right = st.columns(2, gap="large")
with left:
    data = summary.grid_coverage(figures, ctx.lang)
    ui.show_chart(ctx, ui.figure(charts.grid_coverage, data, ctx.lang, height=380), data)
with right:
    data = summary.training_rates(ui.training_programmes(ctx), ctx.lang, ctx.year)
    if summary.all_at_target(data):  # every rate 100%: one line of text, the numbers under it
        ui.at_target(ctx, data)
    else:
        ui.show_chart(ctx, ui.figure(charts.training_rates, data, ctx.lang, height=380), data)

# 3. Data as of, and the sources
st.divider()
st.caption(t("pages.overview_more", ctx.lang))
ui.data_footer(ctx)

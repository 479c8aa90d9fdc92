"""人口 Population: registered vs resident persons and households, the minority share, household size."""

import streamlit as st

from lawstats import charts, summary, ui
from lawstats.i18n import t

ctx = ui.context()
ui.page_title(t('page.population', ctx.lang), ctx.region_name, ctx.year)

# 1. KPI cards of the population indicators (the region has none at all: one line saying so and how to add them)
if ui.domain_missing(ctx, "population", ["population"]):
    ui.data_footer(ctx)
    st.stop()
ui.domain_kpis(ctx, "population")

# 2. Registered vs resident, persons and households
figures = ui.figures(ctx)
data = summary.population_structure(figures, ctx.lang)
ui.show_chart(ctx, ui.figure(charts.population_structure, data, ctx.lang), data)

# 3. Minority share (with the report's own figure checked against the computed one), household size
left, right = st.columns(2, gap="large")
with left:
    data = summary.minority_composition(figures, ctx.lang)
    ui.show_chart(ctx, ui.figure(charts.minority_composition, data, ctx.lang), data,
                  notes=ui.plain_notes(summary.minority_notes(figures, ctx.lang)))
with right:
    data = summary.household_sizes(figures, ctx.lang)
    ui.show_chart(ctx, ui.figure(charts.household_sizes, data, ctx.lang, height=charts.CHART_HEIGHT), data)

# 4. Over the years
ui.trend_section(ctx, summary.domain_indicator_ids("population"))
ui.data_footer(ctx)

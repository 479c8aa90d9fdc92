"""网格与企业 Grid and enterprises: the governance chain 镇 → 片区 → 子网格, what the grid covers, the load on
each sub-grid, and the villages (when the data has them)."""

import streamlit as st

from lawstats import charts, summary, ui
from lawstats.i18n import t

ctx = ui.context()
ui.page_title(t('page.grid', ctx.lang), ctx.region_name, ctx.year)

# 1. KPI cards of the grid indicators (the region has none at all: one line saying so and how to add them)
if ui.domain_missing(ctx, "grid", ["grid"]):
    ui.data_footer(ctx)
    st.stop()
ui.domain_kpis(ctx, "grid", columns=5)

# 2. The governance chain and what the grid covers
figures = ui.figures(ctx)
left, right = st.columns(2, gap="large")
with left:
    data = summary.grid_chain(figures, ctx.region_name, ctx.lang)
    ui.show_chart(ctx, ui.figure(charts.grid_chain, data, ctx.lang, height=charts.CHART_HEIGHT), data,
                  notes=summary.grid_chain_notes(figures, ctx.lang))
with right:
    data = summary.grid_coverage(figures, ctx.lang)
    ui.show_chart(ctx, ui.figure(charts.grid_coverage, data, ctx.lang, height=charts.CHART_HEIGHT), data)

# 3. Load per sub-grid
data = summary.grid_loads(figures, ctx.lang)
ui.show_chart(ctx, ui.figure(charts.grid_loads, data, ctx.lang), data)

# 4. Villages and communities, and the years
ui.villages_section(ctx)
ui.trend_section(ctx, summary.domain_indicator_ids("grid"))
ui.data_footer(ctx)

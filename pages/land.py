"""土地 Land: cultivated vs forest land (亩), land per person, and the composition of the two."""

import streamlit as st

from lawstats import charts, summary, ui
from lawstats.i18n import t

ctx = ui.context()
ui.page_title(t('page.land', ctx.lang), ctx.region_name, ctx.year)

# 1. KPI cards of the land indicators (the region has none at all: one line saying so and how to add them)
if ui.domain_missing(ctx, "land", ["land"]):
    ui.data_footer(ctx)
    st.stop()
ui.domain_kpis(ctx, "land")

# 2. Cultivated vs forest land, and their composition
figures = ui.figures(ctx)
areas = summary.land_areas(figures, ctx.lang)
left, right = st.columns(2, gap="large")
with left:
    ui.show_chart(ctx, ui.figure(charts.land_areas, areas, ctx.lang, height=charts.CHART_HEIGHT), areas)
with right:
    ui.show_chart(ctx, ui.figure(charts.land_composition, areas, ctx.lang), areas,
                  notes=[t("pages.land_scope", ctx.lang)])

# 3. Land per registered person
data = summary.land_per_person(figures, ctx.lang)
ui.show_chart(ctx, ui.figure(charts.land_per_person, data, ctx.lang), data)

# 4. Over the years
ui.trend_section(ctx, summary.domain_indicator_ids("land"))
ui.data_footer(ctx)

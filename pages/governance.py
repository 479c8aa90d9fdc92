"""平安治理 Safety and disputes: key persons (and per 10,000 people), persons with mental illness managed,
dispute-resolution groups, folk belief venues and gang-crime clues, with how the report words each."""

import streamlit as st

from lawstats import charts, summary, ui
from lawstats.i18n import t

ctx = ui.context()
ui.page_title(t('page.governance', ctx.lang), ctx.region_name, ctx.year)

# 1. KPI cards of the safety indicators (the region has none at all: one line saying so and how to add them)
if ui.domain_missing(ctx, "governance", ["governance", "grid"]):
    ui.data_footer(ctx)
    st.stop()
ui.domain_kpis(ctx, "governance", columns=3)

# 2. The counts, each with the report's wording (“未发现” is recorded as 0)
figures = ui.figures(ctx)
# the notes of the year the counts come from (an earlier one when the chosen year has no safety table yet)
provenance = ui.provenance(ctx.version, ctx.region_id, figures.attrs["years"].get("key_persons", ctx.year))
data = summary.safety_counts(figures, provenance, ctx.lang)
ui.show_chart(ctx, ui.figure(charts.safety_counts, data, ctx.lang), data,
              notes=ui.plain_notes(summary.notes_of(data, ctx.lang)))

# 3. Over the years
ui.trend_section(ctx, summary.domain_indicator_ids("governance"))
ui.data_footer(ctx)

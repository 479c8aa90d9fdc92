"""学法培训 Legal training: each programme's rates against the 100% target (as reported, and as computed from
counts where the report gives them), and the sessions held."""

import streamlit as st

from lawstats import charts, summary, ui
from lawstats.i18n import t

ctx = ui.context()
ui.page_title(t('page.training', ctx.lang), ctx.region_name, ctx.year)

# 1. KPI cards of the training indicators (the region has none at all: one line saying so and how to add them)
if ui.domain_missing(ctx, "training", ["training"]):
    ui.data_footer(ctx)
    st.stop()
ui.domain_kpis(ctx, "training")

# 2. Rates by programme against the target, stated vs computed
programmes = ui.training_programmes(ctx)
rates = summary.training_rates(programmes, ctx.lang, ctx.year)
if programmes.empty:  # programmes are recorded per township; a parent's cards above are its children's sums
    st.info(ui.message("pages.no_programmes", ctx.lang, region=ctx.region_name, year=ctx.year))
elif rates.empty:
    st.info(t("pages.no_rates", ctx.lang))
elif summary.all_at_target(rates):  # every rate 100%: one line of text (its numbers one click away), no chart
    ui.at_target(ctx, rates, notes=summary.training_notes(rates, ctx.lang))
else:
    ui.show_chart(ctx, ui.figure(charts.training_rates, rates, ctx.lang), rates,
                  notes=summary.training_notes(rates, ctx.lang))

# 3. Sessions held
sessions = summary.training_sessions(programmes, ctx.lang, ctx.year)
if sessions.empty and not programmes.empty:
    st.info(t("pages.no_sessions", ctx.lang))
elif not sessions.empty:
    ui.show_chart(ctx, ui.figure(charts.training_sessions, sessions, ctx.lang), sessions)

# 4. Over the years
ui.trend_section(ctx, summary.domain_indicator_ids("training"))
ui.data_footer(ctx)

"""总览 Overview: the headline indicators of the chosen region and year, with their sources."""

import streamlit as st

from lawstats import ui
from lawstats.i18n import t

ctx = ui.context()
st.title(f"{ctx.region_name} · {ctx.year}")

# 1. Headline KPI cards
table = ui.indicator_table(ctx.version, ctx.region_id, ctx.year, ctx.lang)
ui.kpi_cards(table[table["headline"]], ctx.lang)

# 2. Sources
ui.data_footer(ctx)

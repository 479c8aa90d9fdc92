"""Placeholder until its charts are built."""

import streamlit as st

from lawstats import ui

ctx = ui.context()
st.title(ctx.region_name)
ui.data_footer(ctx)

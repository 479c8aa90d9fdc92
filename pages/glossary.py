"""指标说明 Indicators and sources: every indicator with its definition, formula, unit, value, source document,
section and consistency status; every check; every column of every table; and the whole catalogue (every measure,
every derived indicator with its formula: the same listing as ``python -m lawstats catalogue``)."""

import streamlit as st

from lawstats import catalogue, summary, ui
from lawstats.i18n import t

ctx = ui.context()
st.title(t("page.glossary", ctx.lang))
has_data = ctx.region_id is not None
st.caption(ui.message("pages.glossary_intro", ctx.lang, region=ctx.region_name, year=ctx.year) if has_data
           else t("app.no_data", ctx.lang))

# 1. Every indicator: what it is, how it is computed, its value here, where it comes from, its checks
table = ui.indicator_table(ctx.version, ctx.region_id, ctx.year, ctx.lang) if has_data else None
provenance = ui.provenance(ctx.version, ctx.region_id, ctx.year) if has_data else None
indicators = summary.glossary_indicators(table, provenance, ctx.lang)
tab_indicators, tab_sentences, tab_checks, tab_columns, tab_catalogue = st.tabs(
    [t("pages.tab.indicators", ctx.lang), t("sentences.title", ctx.lang), t("pages.tab.checks", ctx.lang),
     t("pages.tab.columns", ctx.lang), t("pages.tab.catalogue", ctx.lang)])
with tab_indicators:
    ui.source_panel(indicators, ctx)
    ui.text_table(indicators)

# 1b. Every value imported from a report, with the sentence it came from
with tab_sentences:
    if has_data:
        ui.sentences_table(ctx)

# 2. Every consistency check, with its result for the region and year
with tab_checks:
    _, _, checks = ui.region_values(ctx.version, ctx.region_id) if has_data else (None, None, None)
    ui.text_table(summary.glossary_checks(checks, ctx.year, ctx.lang))

# 3. Every column of every table (what an upload may contain)
with tab_columns:
    ui.text_table(summary.glossary_columns(ctx.lang))

# 4. The whole catalogue: every measure and every derived indicator with its formula (as the CLI lists them)
with tab_catalogue:
    cat = catalogue.load()
    measures, indicators = catalogue.listing(cat, ctx.lang)
    domain_names = {d.id: d.label(ctx.lang) for d in cat.domains}  # the id is what the CLI prints; the name is read
    for listed in (measures, indicators):
        listed.insert(listed.columns.get_loc("domain") + 1, "domain_name", listed["domain"].map(domain_names))
    st.caption(t("glossary.catalogue_intro", ctx.lang, measures=len(measures), domains=len(cat.domains),
                 indicators=len(indicators)))
    headers = {c: t(f"glossary.col.{c}", ctx.lang) for c in (*measures.columns, *indicators.columns)}
    st.subheader(t("glossary.measures", ctx.lang))
    ui.text_table(measures.rename(columns=headers))
    st.subheader(t("glossary.indicators", ctx.lang))
    ui.text_table(indicators.rename(columns=headers))

ui.data_footer(ctx)

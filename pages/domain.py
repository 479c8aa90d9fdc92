"""Any catalogue domain without a page of its own (普法宣传, 行政执法, 信访...): KPI cards, the figures grouped by
unit, the breakdowns, the trends, the report sentences the values came from. What is shown is computed by
``lawstats.domain_view``; ``app.py`` registers this page once per domain (url path = domain id)."""

import streamlit as st

from lawstats import catalogue, domain_charts, domain_view, ui
from lawstats.i18n import t

ctx = ui.context()
domain = ui.current_domain()
view = domain_view.build(catalogue.load(), domain, ui.measure_values(ctx.version, ctx.region_id), ctx.year, ctx.lang)
ui.page_title(view.title, ctx.region_name, ctx.year)
definition = domain.definition_zh if ctx.lang == "zh" else domain.definition_en
if definition:
    st.caption(ui.plain_markdown(definition))

# 0. Nothing for this region up to this year: one line, never an empty axis
if view.empty:
    st.info(ui.message("domain.nothing", ctx.lang, region=ctx.region_name, year=ctx.year, domain=view.title),
            icon=":material/info:")
    ui.data_footer(ctx, documents=[])
    st.stop()

# 1. KPI cards (the headline measures), then the figures alone in their unit, and the rates that are all 100%
ui.domain_cards(view.cards, ctx.lang)
ui.domain_cards(view.singles, ctx.lang)
if view.rates_line:
    st.success(ui.plain_markdown(view.rates_line), icon=":material/check_circle:")
source = domain_view.source_text(view, ctx.lang)

# 2. The figures that share a unit, one chart per unit
if view.groups:
    st.subheader(t("domain.section.figures", ctx.lang))
    for group in view.groups:
        title = f"{view.title}（{group.unit}）" if ctx.lang == "zh" else f"{view.title} ({group.unit})"
        fig = ui.figure(domain_charts.unit_group, group, title, ctx.lang)
        ui.chart(fig, ui.domain_figures_table(group.figures, ctx.lang), ui.chart_file_name(ctx, fig), ctx, source)

# 3. Breakdowns: one measure per item
if view.breakdowns:
    st.subheader(t("domain.section.breakdowns", ctx.lang))
    for part in view.breakdowns:
        fig = ui.figure(domain_charts.breakdown, part, ctx.lang)
        ui.chart(fig, part.items[["item", "value"]], ui.chart_file_name(ctx, fig), ctx, source)

# 4. Descriptions (text measures)
if view.texts:
    st.subheader(t("domain.section.texts", ctx.lang))
    for figure in view.texts:
        note = f"（{figure.year_note}）" if figure.year_note else ""
        st.markdown(f"**{ui.plain_markdown(figure.label)}**{ui.plain_markdown(note)}："
                    f"{ui.plain_markdown(figure.text)}")

# 5. Over the years
ui.domain_trends(ctx, view)

# 6. Where the values come from: the report's own sentences of this domain's values, the documents drawn
ui.domain_sentences(view.sentences, ctx.lang)
ui.data_footer(ctx, documents=list(view.sources))

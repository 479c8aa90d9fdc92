"""对比分析 Compare: the chosen region among its peers (or the subdivisions of any region on its path), for any
catalogue indicator or measure with values and any year: ranking, rank and percentile, distribution, region × year
heatmap, two indicators against each other, the numbers (downloadable), and the check of its reported figures
against its subdivisions' sums."""

import streamlit as st

from lawstats import catalogue, charts, compare, exchange, plaintext, storage, ui
from lawstats.i18n import t

ctx = ui.context()
lang = ctx.lang
ui.page_title(t('page.compare', lang), ctx.region_name, ctx.year)

# 1. What to compare: a scope on the chosen region's path, a level under it, the indicators
path = ui.region_path(ctx.version, ctx.region_id)
info = ui.region_info(ctx.version, ctx.region_id)
default_scope, default_level = compare.default_scope(path, info["level"])
scopes = [storage.ROOT_ID] + path
names = {r: plaintext.visible(ui.names_of_path(ctx.version, r, lang)) for r in scopes}
left, middle, right, last = st.columns([3, 2, 3, 2])
scope = left.selectbox(t("compare.scope", lang), scopes, index=scopes.index(default_scope), key="cmp_scope",
                       format_func=names.get)
counts = ui.descendant_counts(ctx.version, scope)
levels = compare.comparable_levels(counts)
too_many = {lv: n for lv, n in counts.items() if n > compare.MAX_REGIONS}
if not levels:
    st.info(ui.message("compare.nothing", lang, scope=names[scope]), icon=":material/info:")
    ui.rollup_section(ctx)
    st.stop()
# One level list per scope (its labels carry the counts), starting from the level chosen last if it is there
level_key = f"cmp_level_{scope}"
if st.session_state.get(level_key) not in levels:
    previous = st.session_state.get("cmp_level_last")
    st.session_state[level_key] = next((lv for lv in (previous, default_level) if lv in levels), levels[0])
level = middle.selectbox(t("compare.level", lang), levels, key=level_key, format_func=lambda lv: t(
    "compare.level_count", lang, level=ui.level_label(lv, lang), count=counts[lv]))
st.session_state["cmp_level_last"] = level
for lv, n in too_many.items():
    st.caption(t("compare.too_many", lang, level=ui.level_label(lv, lang), count=n, limit=compare.MAX_REGIONS))
# Every catalogue indicator and measure that some compared region has a value of that year
values = ui.compare_values(ctx.version, scope, level, ctx.year)
choices = compare.choices(catalogue.load())
indicator_ids = compare.offered_ids(values) or [next(iter(choices))]
indicator_id = right.selectbox(t("compare.indicator", lang), indicator_ids, key="cmp_indicator",
                               format_func=lambda i: choices[i].label(lang))
top_n = last.number_input(t("compare.top_n", lang), min_value=3, max_value=50, value=10, step=1, key="cmp_n")
indicator = choices[indicator_id]

# 2. The figures of every compared region that year, ranked in the indicator's direction
ranking = compare.ranked(values, indicator_id, ctx.year)
if ranking.empty:
    st.info(t("compare.no_values", lang, year=ctx.year, indicator=indicator.label(lang)), icon=":material/info:")
    ui.rollup_section(ctx)
    st.stop()
highlight = ctx.region_id if (values["region_id"] == ctx.region_id).any() else None
where = compare.position(ranking, ctx.region_id)

# 2b. One or two regions: no ranking, histogram or percentile (they would say nothing): their trend instead
if compare.too_few(ranking):
    st.info(t("compare.few_regions", lang, count=len(ranking), indicator=indicator.label(lang), year=ctx.year),
            icon=":material/info:")
    few = ranking["region_id"].astype(int).tolist()
    trend = compare.region_trends(ui.series_values(ctx.version, tuple(few)), indicator_id, few, indicator.unit(lang))
    if trend["year"].nunique() >= 2:
        fig = charts.trend_lines(trend, lang)
        fig.update_layout(title_text=t("compare.chart.few_trend", lang, indicator=indicator.label(lang)))
        ui.chart(fig, trend, charts.safe_file_name(names[scope], indicator.label(lang)), ctx,
                 t("compare.source", lang))
    else:
        st.info(t("common.one_year_only", lang, year=int(trend["year"].iloc[0]) if len(trend) else ctx.year),
                icon=":material/info:")
    table = compare.ranking_table(ranking, indicator.decimals).drop(columns=["rank", "percentile"])
    table["code"] = table["code"].fillna("—")  # a region without a statistical code: a dash, not "None"
    value_header = t("compare.col.value", lang)
    st.dataframe(plaintext.frame(table.rename(columns={"name": t("compare.col.region", lang),
                                                       "code": t("compare.col.code", lang),
                                                       "parent_name": t("compare.col.parent", lang),
                                                       "value": value_header})),
                 hide_index=True, width="stretch",
                 column_config={value_header: st.column_config.NumberColumn(format="localized")})
    ui.rollup_section(ctx)
    ui.data_footer(ctx)
    st.stop()

# 3. The chosen region's rank and percentile
a, b, c, d = st.columns(4)
if where is not None:
    a.metric(t("compare.rank", lang, count=where["count"]),
             t("compare.rank_value", lang, **where), help=t("compare.rank_help", lang), border=True)
    b.metric(t("compare.percentile", lang), t("compare.percentile_value", lang, share=where["percentile"]),
             help=t("compare.percentile_help", lang), border=True)
    c.metric(charts.unit_title(t("compare.value_of", lang), indicator.unit(lang), lang),
             charts.number_text(round(where["value"], indicator.decimals)), border=True)
elif highlight is not None:
    st.caption(ui.message("compare.no_value_selected", lang, region=ctx.region_name, year=ctx.year))
elif ctx.region_id != storage.ROOT_ID:
    st.caption(ui.message("compare.not_in_set", lang, region=ctx.region_name))
d.metric(charts.unit_title(t("compare.median", lang), indicator.unit(lang), lang),
         charts.number_text(round(float(ranking["value"].median()), indicator.decimals)), border=True)

# 4. Ranking: top and bottom N, the chosen region wherever it ranks, the rest summarised
st.subheader(t("compare.section.ranking", lang))
rows = compare.top_and_bottom(ranking, int(top_n), highlight)
title = t("compare.chart.ranking", lang, indicator=indicator.label(lang), year=ctx.year)
fig = ui.figure(charts.ranking_bars, rows, indicator, title, lang)
table = compare.ranking_table(ranking, indicator.decimals)
headers = {k: t(f"compare.col.{k}", lang) for k in ("rank", "code", "value", "percentile")} | {
    "name": t("compare.col.region", lang), "parent_name": t("compare.col.parent", lang)}
shown = table[table["name"].isin(rows["name"])].rename(columns=headers)
ui.chart(fig, shown, charts.safe_file_name(names[scope], title), ctx, t("compare.source", lang))

# 5. Distribution over every compared region, the chosen one marked
st.subheader(t("compare.section.distribution", lang))
bins = compare.distribution(ranking["value"])
title = t("compare.chart.distribution", lang, indicator=indicator.label(lang), year=ctx.year, count=len(ranking))
fig = ui.figure(charts.distribution_bars, bins, indicator, title, lang, where["value"] if where else None,
                ctx.region_name)
ui.chart(fig, bins, charts.safe_file_name(names[scope], title), ctx, t("compare.source", lang))

# 6. Over the years: the regions shown in the ranking × every year
st.subheader(t("compare.section.heatmap", lang))
years = list(ctx.years)
region_ids = compare.heatmap_regions(ranking, int(top_n), highlight, len(years))
series = ui.series_values(ctx.version, tuple(region_ids))
matrix = compare.year_matrix(series, indicator_id, region_ids)
if len(region_ids) < len(ranking):
    st.caption(t("compare.heatmap_rows", lang, n=int(top_n), count=len(ranking)))
if matrix.shape[1]:
    title = t("compare.chart.heatmap", lang, indicator=indicator.label(lang), first=min(matrix.columns),
              last=max(matrix.columns))
    fig = ui.figure(charts.year_heatmap, matrix, indicator, title, lang, ctx.region_name if highlight else None)
    heat_table = matrix.rename(columns=str).reset_index().rename(columns={"name": t("compare.col.region", lang)})
    ui.chart(fig, heat_table,
             charts.safe_file_name(names[scope], title), ctx, t("compare.source", lang))

# 7. Two indicators against each other (when a second one has values)
others = [i for i in indicator_ids if i != indicator_id]
if others:
    st.subheader(t("compare.section.scatter", lang))
    second_id = st.selectbox(t("compare.second_indicator", lang), others, key="cmp_second",
                             index=compare.second_default(others, indicator_id),
                             format_func=lambda i: choices[i].label(lang))
    second = choices[second_id]
    points = compare.scatter_points(values, indicator_id, second_id, ctx.year)
    chosen = (points[points["region_id"] == highlight].iloc[0].to_dict() if highlight in set(points["region_id"])
              else None)
    binned = compare.density(points) if len(points) > compare.MAX_MARKS else None
    if binned is not None:
        st.caption(t("compare.scatter_binned", lang, count=len(points)))
    title = t("compare.chart.scatter", lang, x=indicator.label(lang), y=second.label(lang), year=ctx.year)
    fig = ui.figure(charts.indicator_scatter, points, indicator, second, title, lang, chosen, binned)
    scatter_table = (binned if binned is not None else points[["name", "x", "y"]]).rename(columns={
        "name": t("compare.col.region", lang), "x": indicator.label(lang), "y": second.label(lang)})
    ui.chart(fig, scatter_table.head(compare.MAX_MARKS), charts.safe_file_name(names[scope], title), ctx,
             t("compare.source", lang))

# 8. The numbers: every compared region, downloadable
st.subheader(t("compare.section.table", lang))
st.download_button(t("compare.download", lang), data=lambda: exchange.to_csv_bytes(table.rename(columns=headers)),
                   file_name=f"{charts.safe_file_name(names[scope], indicator.label(lang), ctx.year)}.csv",
                   mime="text/csv", on_click="ignore", icon=":material/download:", key="cmp_download")
st.dataframe(plaintext.frame(table.head(compare.MAX_MARKS).rename(columns=headers)), hide_index=True, width="stretch",
             column_config={headers["value"]: st.column_config.NumberColumn(format="localized")})

# 9. The chosen region's reported figures against its subdivisions' sums
ui.rollup_section(ctx)
ui.data_footer(ctx)

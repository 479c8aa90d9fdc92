"""lawstats, the frame: page config, language, the region and year every page shows, and the page list."""

from pathlib import Path

import streamlit as st

from lawstats import catalogue, navigation, ui
from lawstats.errors import LawstatsError
from lawstats.i18n import t
from lawstats.navigation import PAGES

# A file, not ":material/…:": Streamlit draws a material page icon from fonts.gstatic.com, which an intranet lacks
PAGE_ICON = Path(__file__).resolve().parent / "assets" / "page_icon.png"

presenting = ui.presenting()  # 会议展示: no sidebar and no page menu while presenting
st.set_page_config(page_title="乡镇统计看板 lawstats", page_icon=str(PAGE_ICON), layout="wide",
                   initial_sidebar_state="collapsed" if presenting else "auto")

synthetic_badge = st.sidebar.empty()  # filled below, shown above the pickers so it is seen without scrolling
lang = ui.choose_language()
try:
    context = ui.choose_region_and_year(lang)
except LawstatsError as error:  # a locked or unreadable database: say which file and what to do
    ui.show_error(error, lang)
    st.stop()
st.session_state["_lawstats_context"] = context

if context.synthetic:
    synthetic_badge.warning(t("app.synthetic_badge", lang))

pages = [st.Page(p.path, title=t(p.title_key, lang), icon=p.icon, url_path=p.url_path, default=p.default)
         for p in PAGES]
# The catalogue's other domains, one generic page each, after the domains that have pages of their own; only
# those with figures for the region are listed (the rest are named in one line below the menu).
catalogue_domains = catalogue.load().domains
listed = navigation.generic_domains(ui.domains_with_data(context))
position = navigation.domain_pages_position(catalogue_domains)
pages[position:position] = [
    st.Page(navigation.DOMAIN_PAGE, title=d.label(lang), icon=navigation.DOMAIN_ICON, url_path=d.id) for d in listed]
# expanded: else Streamlit folds the list after ten pages behind an English-only "View N more"
page = st.navigation(pages, position="hidden" if presenting else "sidebar", expanded=True)
st.session_state[ui.DOMAIN_STATE] = page.url_path
if presenting and page.url_path != ui.PRESENT_PAGE:  # only the presentation page presents
    ui.stop_presenting()
    st.rerun()
unlisted = len(navigation.generic_domains(catalogue_domains)) - len(listed)
if unlisted and not presenting:
    st.sidebar.caption(t("domain.other_domains", lang, count=unlisted))
st.sidebar.caption(t("app.title", lang))
ui.show_notices()
if context.region_id is None and page.url_path not in ("data", "glossary"):
    st.info(t("app.no_data", lang))
    st.stop()
page.run()

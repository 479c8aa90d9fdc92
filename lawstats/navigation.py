"""The page list, declared once: ``app.py`` builds ``st.navigation`` from it and the smoke tests run every entry."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PageSpec:
    path: str  # relative to the project root
    title_key: str  # message key of the title
    icon: str
    url_path: str
    section: str = "browse"  # "browse", "analyse" or "manage"
    default: bool = False


PAGES: tuple[PageSpec, ...] = (
    PageSpec("pages/overview.py", "page.overview", ":material/dashboard:", "overview", default=True),
    PageSpec("pages/population.py", "page.population", ":material/groups:", "population"),
    PageSpec("pages/land.py", "page.land", ":material/landscape:", "land"),
    PageSpec("pages/grid.py", "page.grid", ":material/grid_view:", "grid"),
    PageSpec("pages/training.py", "page.training", ":material/school:", "training"),
    PageSpec("pages/governance.py", "page.governance", ":material/shield:", "governance"),
    PageSpec("pages/compare.py", "page.compare", ":material/leaderboard:", "compare", section="analyse"),
    PageSpec("pages/glossary.py", "page.glossary", ":material/menu_book:", "glossary"),
    PageSpec("pages/present.py", "page.present", ":material/slideshow:", "present", section="present"),
    PageSpec("pages/data.py", "page.data", ":material/upload_file:", "data", section="manage"),
    PageSpec("pages/report.py", "page.report", ":material/article:", "report", section="manage"),
)

# Every catalogue domain without a page of its own is drawn by one generic page, one entry per domain (its url
# path is the domain id); only the domains that hold figures for the chosen region are listed.
DOMAIN_PAGE = "pages/domain.py"
DOMAIN_ICON = ":material/topic:"
OWN_PAGES = frozenset(p.url_path for p in PAGES)  # a domain whose id is a page's url path keeps that page


def generic_domains(domains) -> list:
    """The catalogue domains (``catalogue.Domain``) the generic page draws: those without a page of their own."""
    return [d for d in domains if d.id not in OWN_PAGES]


def domain_pages_position(domains) -> int:
    """Where the generic domain pages go in PAGES: after the last domain that has a page of its own."""
    ids = {d.id for d in domains}
    return max((n + 1 for n, p in enumerate(PAGES) if p.url_path in ids), default=1)


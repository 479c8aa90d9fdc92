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

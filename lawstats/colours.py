"""The colour of each measure, declared once: the pages' charts (``lawstats.charts``), the slides
(``lawstats.slides``) and the PowerPoint deck draw a measure in the same colour. No plotly here: the CLI makes
decks without it.
"""

from __future__ import annotations

# One colour per concept, keyed on the measure id (``concept`` in summary's frames): 户籍 is the same blue in the
# structure, the household sizes and the trend; 耕地 the same green in the bar, the donut and the slide.
CONCEPT_COLORS = {
    "registered_persons": "#1565c0", "registered_households": "#1565c0",
    "resident_persons": "#ef6c00", "resident_households": "#ef6c00",
    "minority_persons": "#6a1b9a", "other_registered": "#90a4ae",
    "cultivated_area": "#2e7d32", "forest_area": "#5d4037",
    "persons_per_subgrid": "#1565c0", "households_per_subgrid": "#00838f",
    "township": "#546e7a", "grid_areas": "#00838f", "sub_grids": "#1565c0",
}
NEUTRAL_COLOR = "#1565c0"  # a measure with no colour of its own


def concept_color(concept, default: str = NEUTRAL_COLOR) -> str:
    return CONCEPT_COLORS.get(concept, default) if isinstance(concept, str) else default

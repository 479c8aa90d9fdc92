"""A slide tile's name never runs into its value (seen in the English preview of the land slide: "Forest share
of farm and forest" wrapped over "57.3%"). Checked on the real deck of the default data, both languages, at the
sizes the presentation page draws tiles: beside a chart (two columns, two fifths of the body) and as a wall,
presenting and in the narrower preview."""

from __future__ import annotations

from pathlib import Path

import pytest

from lawstats import charts, slides, summary

ROOT = Path(__file__).resolve().parents[1]
LINE = 1.2  # ems per line of annotation text (plotly draws lines 1.3 em apart; the last needs its height only)


def _present_page_sizes() -> dict[str, tuple[int, int]]:
    """The body sizes pages/present.py draws at, read from the page itself (presenting and preview)."""
    from lawstats import ui

    text = (ROOT / "pages" / "present.py").read_text(encoding="utf-8")

    values = _constants(text)
    body_h = ui.STAGE_HEIGHT - 12 - values["TITLE_HEIGHT"] - values["FOOTER_HEIGHT"] - 3 * 16 - 8
    body_w = ui.STAGE_WIDTH - 2 * 32
    assert f"BODY_HEIGHT = ui.STAGE_HEIGHT - 12 - TITLE_HEIGHT - FOOTER_HEIGHT - 3 * 16 - 8" in text  # as above
    preview_w, preview_h = values["PREVIEW_WIDTH"], values["PREVIEW_HEIGHT"]
    return {"presenting": (body_w, body_h), "preview": (int(body_w * preview_w), int(body_h * preview_h))}


def _constants(text: str) -> dict[str, float]:
    """``A, B = 52, 24`` and ``A = 0.66`` lines of numbers at the top level of a module."""
    found = {}
    for line in text.splitlines():
        names, _, values = line.partition(" = ")
        parts = [v.strip() for v in values.split("#")[0].split(",")]
        if names and names == names.lstrip() and all(p.replace(".", "", 1).isdigit() for p in parts if p):
            found.update(zip([n.strip() for n in names.split(",")], [float(p) for p in parts if p]))
    return found


def _overlaps(fig, height: int) -> list[str]:
    """Per tile: the name's last line against the top of the text under it (the value), in px from the top."""
    problems = []
    notes = list(fig.layout.annotations)
    tops = [a for a in notes if a.yanchor == "top"]  # the names
    for name in tops:
        lines = name.text.count("<br>") + 1
        name_bottom = (1 - name.y) * (height - 20) + lines * name.font.size * LINE
        below = [a for a in notes if a.yanchor == "bottom" and abs(a.x - name.x) < 1e-9 and a.y < name.y]
        value = max(below, key=lambda a: a.y)  # the highest text under the name: the value
        value_top = (1 - value.y) * (height - 20) - value.font.size * LINE
        if name_bottom > value_top + 0.5:
            problems.append(f"{name.text!r} ({lines} lines of {name.font.size}px) ends at {name_bottom:.0f}px, "
                            f"{value.text!r} starts at {value_top:.0f}px")
    return problems


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_no_tile_name_runs_into_its_value(fresh_store, lang):
    region = summary.find_region(fresh_store, "西堡镇")
    deck = slides.build(fresh_store, region, 2024, lang)
    problems = {}
    for mode, (width, height) in _present_page_sizes().items():
        for slide in deck.slides:
            if not slide.kpis:
                continue
            if slide.chart is not None:  # as pages/present.py draws it: tiles in two fifths, two columns
                fig = charts.kpi_tiles(slide.kpis, 2, height, (width - 32) * 2 // 5)
            else:
                fig = charts.kpi_tiles(slide.kpis, 4 if len(slide.kpis) > 6 else 3, height, width)
            found = _overlaps(fig, height)
            if found:
                problems[(mode, slide.section)] = found
    assert not problems, problems


def test_a_long_name_takes_smaller_type_not_more_room():
    kpi = slides.Kpi("x", "Forest share of farm and forest land in the township", 57.3, "57.3%")
    roomy = charts.kpi_tiles([kpi], 1, 600, 900)
    narrow = charts.kpi_tiles([kpi, kpi, kpi, kpi], 2, 400, 380)
    def name_size(fig) -> int:
        return next(a for a in fig.layout.annotations if a.yanchor == "top").font.size

    assert name_size(narrow) < name_size(roomy)
    assert not _overlaps(narrow, 400)

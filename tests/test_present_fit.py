"""Presentation mode on common projector and laptop screens (issue 9, item 19), in a real Chromium.

At 1440×900, 1366×768 and 1280×720, in Chinese and in English, every slide of the default deck is checked by
geometry, not by eye: the title, the figures, the footer and the previous/next bar lie inside the window; no
text of a tile, a chart or a table runs past its tile, figure or cell; no element is scrolled or cut
(``scrollWidth <= clientWidth``); the app's own bars are gone and the presenter's controls are invisible until
the pointer is on them. Screenshots go to ``LAWSTATS_SCREENSHOTS`` (a folder) when it is set, for a person to
look at.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SIZES = [(1440, 900), (1366, 768), (1280, 720)]
SLIDES = 12  # the default data: 西堡镇 2024
TOLERANCE = 1.5  # px: anti-aliasing and sub-pixel layout

# Returns a list of problems (empty when the slide fits), each naming the element and the numbers.
CHECK_SLIDE = """() => {
  const W = window.innerWidth, H = window.innerHeight, tol = %(tol)s, problems = [];
  const box = (e) => e.getBoundingClientRect();
  const inside = (r, o) => r.left >= o.left - tol && r.right <= o.right + tol && r.top >= o.top - tol
                           && r.bottom <= o.bottom + tol;
  const view = {left: 0, top: 0, right: W, bottom: H};
  const say = (what, r) => `${what} at [${Math.round(r.left)},${Math.round(r.top)},${Math.round(r.right)},`
                           + `${Math.round(r.bottom)}] in ${W}x${H}`;
  const shown = (e) => { const r = box(e); return r.width > 0 && r.height > 0; };
  const main = document.querySelector('[data-testid="stMain"]');
  const named = [['title', main.querySelector('h1')],
                 ['footer', document.querySelector('.st-key-present_footer [data-testid="stCaptionContainer"]')],
                 ['previous button', document.querySelector('.st-key-present_prev button')],
                 ['next button', document.querySelector('.st-key-present_next button')],
                 ['page numbers', document.querySelector('.st-key-present_nav [data-testid="stPagination"]')
                                  || document.querySelector('.st-key-present_nav')],
                 ['controls', document.querySelector('.st-key-present_controls')]];
  for (const [what, e] of named) {
    if (!e) { problems.push(`${what}: missing`); continue; }
    if (!inside(box(e), view)) problems.push(say(`${what} off the screen`, box(e)));
  }
  // The app's bars are gone; the presenter's controls are invisible until pointed at.
  for (const id of ['stHeader', 'stToolbar', 'stSidebar', 'stExpandSidebarButton', 'stSidebarCollapsedControl']) {
    const e = document.querySelector(`[data-testid="${id}"]`);
    if (e && shown(e) && getComputedStyle(e).visibility !== 'hidden') problems.push(`${id} visible`);
  }
  for (const e of document.querySelectorAll('.modebar, [data-testid="stElementToolbar"]')) {
    if (shown(e) && getComputedStyle(e).visibility !== 'hidden') problems.push(`a chart toolbar is visible`);
  }
  for (const key of ['present_controls', 'present_nav']) {
    const e = document.querySelector(`.st-key-${key}`);
    const opacity = e ? getComputedStyle(e).opacity : '0';
    if (opacity !== '0') problems.push(`${key} visible (opacity ${opacity})`);
  }
  // Nothing scrolled or cut: the slide's elements, its title and footer text.
  const cut = main.querySelectorAll('[data-testid="stMainBlockContainer"] [data-testid="stElementContainer"], '
                                    + 'h1, .st-key-present_footer p, [data-testid="stVerticalBlock"]');
  for (const e of cut) {
    if (!shown(e)) continue;
    if (e.scrollWidth > e.clientWidth + 1) problems.push(`${e.tagName}.${e.className} cut: scrollWidth `
                                                          + `${e.scrollWidth} > clientWidth ${e.clientWidth}`);
  }
  for (const e of main.querySelectorAll('[data-testid="stVerticalBlock"]')) {
    if (shown(e) && e.scrollHeight > e.clientHeight + 1 && getComputedStyle(e).overflowY !== 'visible')
      problems.push(`a block scrolls: scrollHeight ${e.scrollHeight} > clientHeight ${e.clientHeight}`);
  }
  // Figures: every text inside its figure and the window; a tile's texts inside their tile.
  for (const plot of main.querySelectorAll('.js-plotly-plot')) {
    const svg = plot.querySelector('.main-svg'), frame = box(svg);
    // a text's box includes the font's line gap: a few px past the figure's edge is no ink cut off
    const room = {left: frame.left - 3, top: frame.top - 3, right: frame.right + 3, bottom: frame.bottom + 3};
    if (!inside(frame, view)) problems.push(say('figure off the screen', frame));
    for (const text of plot.querySelectorAll('text')) {
      if (!shown(text) || !text.textContent.trim()) continue;
      const r = box(text);
      if (!inside(r, room)) problems.push(say(`text "${text.textContent}" outside its figure`, r));
    }
    const tiles = [...plot.querySelectorAll('.shapelayer path')].filter(
        p => (p.style.fill || p.getAttribute('fill') || '').replace(/\\s/g, '') === 'rgb(242,242,242)').map(box);
    for (const note of plot.querySelectorAll('.annotation-text')) {
      const r = box(note), cx = (r.left + r.right) / 2, cy = (r.top + r.bottom) / 2;
      const tile = tiles.find(t => cx >= t.left && cx <= t.right && cy >= t.top && cy <= t.bottom);
      if (tiles.length && !tile) problems.push(say(`tile text "${note.textContent}" outside every tile`, r));
      else if (tile && !inside(r, tile)) problems.push(say(`tile text "${note.textContent}" runs out of its tile`, r));
    }
  }
  // Tables (HTML): inside the window and the slide's body, no cell cut.
  for (const table of main.querySelectorAll('table.slide-table')) {
    const r = box(table), body = box(table.closest('[data-testid="stVerticalBlock"]'));
    if (!inside(r, view) || !inside(r, body)) problems.push(say('table off the slide', r));
    for (const cell of table.querySelectorAll('td, th')) {
      if (cell.scrollWidth > cell.clientWidth + 1 || cell.scrollHeight > cell.clientHeight + 1)
        problems.push(`cell "${cell.textContent}" cut: ${cell.scrollWidth}x${cell.scrollHeight} > `
                      + `${cell.clientWidth}x${cell.clientHeight}`);
    }
  }
  return problems;
}""" % {"tol": TOLERANCE}

CONTROLS_SHOWN_ON_HOVER = """(key) => getComputedStyle(document.querySelector(`.st-key-${key}`)).opacity"""


def _wait_for_slide(page, number: int) -> None:
    page.wait_for_url(f"**slide={number}**" if number > 1 else "**present=1**")
    page.wait_for_function(
        """(n) => { const f = document.querySelector('.st-key-present_footer p');
                    return f && f.textContent.trim().endsWith(`${n} / %d`)
                        && document.querySelector('[data-testid="stMain"] .js-plotly-plot .main-svg, table.slide-table')
                        && !document.querySelector('[data-testid="stSkeleton"]'); }""" % SLIDES, arg=number)
    page.wait_for_timeout(700)  # plotly lays out text after it draws the figure


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_slide_fits_each_screen(app_server, lang):
    """Each slide at each size: the window is resized on the slide (the stage's scale is CSS, no rerun)."""
    from tests.browser import chromium_page, wait_for_app

    folder = os.environ.get("LAWSTATS_SCREENSHOTS")
    problems = {}
    with chromium_page(*SIZES[0]) as page:
        page.goto(f"{app_server}/present?present=1" + ("&lang=en" if lang == "en" else ""))
        wait_for_app(page)
        for number in range(1, SLIDES + 1):
            if number > 1:
                page.keyboard.press("ArrowRight")
            _wait_for_slide(page, number)
            for width, height in SIZES:
                page.set_viewport_size({"width": width, "height": height})
                page.mouse.move(width // 2, height // 2)  # on the slide, away from the controls
                page.wait_for_timeout(400)
                found = page.evaluate(CHECK_SLIDE)
                if found:
                    problems[(number, width, height)] = found
                if folder:
                    Path(folder).mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(Path(folder) / f"present-{lang}-{number:02d}-{width}x{height}.png"))
        # The controls are there for the presenter: they show where the pointer is, inside the window.
        for width, height in SIZES:
            page.set_viewport_size({"width": width, "height": height})
            for key in ("present_controls", "present_nav"):
                page.hover(f".st-key-{key}")
                page.wait_for_timeout(400)
                assert page.evaluate(CONTROLS_SHOWN_ON_HOVER, key) == "1", key
                r = page.locator(f".st-key-{key}").bounding_box()
                assert r["x"] >= 0 and r["y"] >= 0
                assert r["x"] + r["width"] <= width and r["y"] + r["height"] <= height, (key, r, width, height)
    assert not problems, problems

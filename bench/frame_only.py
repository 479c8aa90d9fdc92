"""The frame alone (language, region and year selectors), so that the benchmark can time a warm run of it in
AppTest: AppTest reruns a multipage app's page script without its frame, so the two are timed apart."""

from lawstats import ui

ui.choose_region_and_year(ui.choose_language())

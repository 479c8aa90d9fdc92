"""The deck's slides of catalogue domains without a slide of their own (lawstats.domain_slides via slides.build)."""

from __future__ import annotations

from lawstats import slides, storage
from tests import domain_data


def test_no_domain_slide_without_figures_and_one_per_domain_with_them(fresh_store):
    town = storage.default_region_id(fresh_store)
    assert "domains" not in slides.build(fresh_store, town, 2024, "zh").sections  # never a slide of "—"
    domain_data.commit(fresh_store, domain_data.legality_rows(town))
    domain_data.commit(fresh_store, domain_data.publicity_rows(town), name="publicity.csv")
    deck = slides.build(fresh_store, town, 2024, "en")
    made = [s for s in deck.slides if s.section == "domains"]
    assert [s.title for s in made] == ["Legal publicity", "Legal advisers and legality review"]  # catalogue order
    legality = made[1]
    rates = legality.kpis[0]
    # the rates of 100%: one tile naming them, not a chart
    assert (rates.label, rates.number) == ("2 rates, each", "100%")
    assert legality.notes.startswith("Contract review pass rate, Village adviser coverage: all 100%")
    assert legality.chart.unit == "persons" and legality.chart.categories == ("Township legal advisers",
                                                                              "Village legal advisers")
    publicity = made[0]
    assert publicity.chart.categories == ("Square events", "Mobile classes", "Theme days")  # its breakdown
    assert slides.parse_sections("domains") == ["domains"]
    assert slides.section_label("domains", "zh") == "其他领域"
    assert [s.section for s in deck.only(["domains"]).slides] == ["domains", "domains"]

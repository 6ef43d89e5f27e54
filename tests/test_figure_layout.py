"""Every figure of the report, on the demo and on a partial real-data run, in Danish and
English: no two texts overlap, every text lies inside the canvas, no value label is
crossed by a reference line, and nothing changes matplotlib's global state."""

from __future__ import annotations

import itertools
from contextlib import contextmanager
from unittest import mock

import matplotlib

matplotlib.use("Agg")

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.text import Text

from coverage_gap import plot
from coverage_gap.config import parse_config
from coverage_gap.datasets import make_demo_results
from coverage_gap.pipeline import run
from coverage_gap.report import report_charts, report_figures

SAMPLE_TECHNOLOGIES = {
    "fiber": ["download_fiber", "upload_fiber"],
    "cable_tv": ["download_kabel_tv", "upload_kabel_tv"],
    "xdsl": ["download_xdsl"],
    "fixed_wireless": ["download_fasttraadloest"],
}


def real_sample_config(shared):
    """309 real DAR points with BBK 2026 speeds (4 municipalities) against all 17 outlines."""
    sample = shared / "bbk26_sample" / "dar_x_bbk26_adresser_25832.csv"
    return {
        "meta": {
            "area_name": "Region Sjælland",
            "data_year": 2026,
            "denominator": "dwellings",
            "source": "Digitaliseringsstyrelsen, Bredbåndskortlægning 2026 (309 addresses)",
        },
        "households": {
            "path": str(sample),
            "id": "adgangsadresse_id",
            "households": "n_enhedsadresser",
            "municipality": "kommunekode",
            "crs": "EPSG:25832",
        },
        "municipalities": {
            "path": str(shared / "dagi_kommuner" / "kommuner_region_sjaelland_25832.geojson"),
            "code": "kommunekode",
            "name": "kommunenavn",
        },
        "fixed": {
            "path": str(sample),
            "id": "adgangsadresse_id",
            "technologies": SAMPLE_TECHNOLOGIES,
        },
        "mobile": [
            {
                "path": str(sample),
                "id": "adgangsadresse_id",
                "technologies": {"mobile": ["download_mobil", "upload_mobil"]},
            }
        ],
        "demand": {"base_year": 2026, "horizon": 2035, "gb_per_unit_month": 40},
        "standard": {
            "preset": "100/30",
            "name": "100/30",
            "mobile_down_mbps": 100,
            "mobile_up_mbps": 30,
        },
        **WHERE_TO_ACT,
    }


#: Where to act on real data: the sample has no zone (the pool says so) and few addresses.
WHERE_TO_ACT = {
    "areas": [{"grid": "1km"}],
    "pool": {"rule_sets": ["2023", "2024"]},
    "siting": {"sites": 3, "radius_m": 2500, "candidate_spacing_m": 1000},
}


def dar_sample_config(shared):
    """The 1,327 DAR points (no zone) with the compact BBK extract's offers (3 postal districts)."""
    bbk = str(shared / "bbk26_sample" / "bbk26_udbudt_private_postnr_2690_4130_4270.csv")
    return {
        "meta": {"area_name": "Region Sjælland", "data_year": 2026, "denominator": "dwellings"},
        "households": {
            "path": str(shared / "dar_adresser_sample" / "dar_adgangsadresser_sample_25832.csv"),
            "kind": "dawa",
            "id": ["postnr", "vejnavn", "husnr"],
            "households": "n_enhedsadresser",
            "x": "x",
            "y": "y",
        },
        "municipalities": {
            "path": str(shared / "dagi_kommuner" / "kommuner_dk_25832.gpkg"),
            "kind": "dagi",
            "region": "sjaelland",
        },
        "fixed": [{"path": bbk, "kind": "bbk"}],
        "mobile": [{"path": bbk, "kind": "bbk"}],
        "checks": {"min_offer_match_share": 0.2},
        "standard": {"preset": "100/30"},
        **WHERE_TO_ACT,
    }


@pytest.fixture(scope="module")
def demo():
    return make_demo_results(scale=0.01)


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    from .conftest import SHARED

    if not SHARED.is_dir():
        pytest.skip("../shared/data is not present")
    return run(parse_config(real_sample_config(SHARED), tmp_path_factory.mktemp("real")))


@contextmanager
def recording_texts():
    """Record every text matplotlib actually draws, with its box on the canvas."""
    drawn = []
    original = Text.draw

    def spy(self, renderer):
        original(self, renderer)
        if self.get_visible() and self.get_text().strip():
            drawn.append((self.get_text(), self.get_window_extent(renderer)))

    with mock.patch.object(Text, "draw", spy):
        yield drawn


def layout_problems(fig):
    with recording_texts() as drawn:
        fig.canvas.draw()
    width, height = fig.bbox.width, fig.bbox.height
    problems = []
    for text, box in drawn:
        if box.x0 < -0.5 or box.y0 < -0.5 or box.x1 > width + 0.5 or box.y1 > height + 0.5:
            problems.append(f"outside the canvas: {text!r} {box.extents.round(1)}")
    for (ta, a), (tb, b) in itertools.combinations(drawn, 2):
        if a.padded(-1).overlaps(b.padded(-1)):
            problems.append(f"overlap: {ta!r} and {tb!r}")
    return problems, drawn


@pytest.mark.parametrize("lang", ["en", "da"])
@pytest.mark.parametrize("dataset", ["demo", "real"])
def test_every_figure_has_no_overlapping_or_clipped_text(dataset, lang, request):
    results = request.getfixturevalue(dataset)
    names = []
    for name, fig in report_figures(results, lang=lang, claim=0.2):
        problems, drawn = layout_problems(fig)
        assert not problems, f"{dataset} {lang} {name}: {problems[:5]}"
        assert len(drawn) > 5, name
        names.append(name)
    assert {"map_share", "ranking", "hotspots", "breakdown", "demand_region"} <= set(names)
    assert {"map_ddkn_1km", "map_pool", "map_sites"} <= set(names)
    assert sum(n.startswith("fact_sheets/") for n in names) == 17


@pytest.mark.parametrize("lang", ["en", "da"])
def test_where_to_act_maps_on_dar_points_without_zones(lang, tmp_path):
    from .conftest import SHARED

    if not SHARED.is_dir():
        pytest.skip("../shared/data is not present")
    results = run(parse_config(dar_sample_config(SHARED), tmp_path))
    assert results.pool is not None and results.pool.addresses["zone"].isna().all()
    charts = report_charts(results, lang=lang)
    for name in ("map_ddkn_1km", "map_pool", "map_sites"):
        fig = charts[name]()
        problems, drawn = layout_problems(fig)
        assert not problems, f"dar {lang} {name}: {problems[:5]}"
        assert len(drawn) > 5, name
    texts = [t.get_text() for t in charts["map_pool"]().texts]
    no_zone = "The data hold no zone" if lang == "en" else "Data har ingen zone"
    assert any(t.startswith(no_zone) for t in texts)


def test_the_partial_run_has_no_data_rows(real):
    table = real.municipalities
    assert (table["households"] > 0).sum() == 5  # 4 municipalities and the region
    assert table.loc["0269", "households"] == 2


def test_no_text_crosses_a_reference_line(real, demo):
    for results in (real, demo):
        ax = plot.plot_gap_ranking(
            results.municipalities, ax=plot.new_axes(pyplot=False), reference=0.2
        )
        fig = ax.figure
        with recording_texts() as drawn:
            fig.canvas.draw()
        lines = [ln for ln in ax.get_lines() if len(set(ln.get_xdata())) == 1]
        assert len(lines) == 2  # the region and the claim
        top, bottom = ax.get_window_extent().y1, ax.get_window_extent().y0
        for line in lines:
            x = ax.transData.transform((line.get_xdata()[0], 0))[0]
            for text, box in drawn:
                crosses = box.x0 < x < box.x1 and box.y1 > bottom and box.y0 < top
                assert not crosses, text


def _state():
    keys = [k for k in mpl.rcParams if k != "backend"]
    return {k: mpl.rcParams[k] for k in keys}, mpl.is_interactive(), plt.get_fignums()


def test_plot_functions_leave_matplotlib_state_alone(demo):
    from coverage_gap.danish import danish_mobile_growth
    from coverage_gap.demand import TASKFORCE_50

    plt.ion()
    try:
        before, interactive, _ = _state()
        calls = [
            lambda: plot.plot_gap_map(demo.municipalities, demo.boundaries),
            lambda: plot.plot_gap_ranking(demo.municipalities, reference=0.2),
            lambda: plot.plot_gap_breakdown(demo.municipalities),
            lambda: plot.plot_hotspots(demo.households, demo.boundaries),
            lambda: plot.plot_demand(demo.demand),
            lambda: plot.plot_growth_rates(
                danish_mobile_growth(), [TASKFORCE_50], start_year=2026, end_year=2035
            ),
        ]
        for i, call in enumerate(calls, start=1):
            ax = call()
            after, still_interactive, figures = _state()
            assert after == before and still_interactive == interactive
            assert len(figures) == i and ax.figure.number == figures[-1]
    finally:
        plt.ioff()
        plt.close("all")


def test_report_figures_are_not_pyplot_figures(demo):
    before = plt.get_fignums()
    for _, fig in itertools.islice(report_figures(demo), 3):
        assert fig.number if hasattr(fig, "number") else True
    assert plt.get_fignums() == before


def test_class_limits_are_distinct_at_the_datas_precision(real):
    shares = real.municipalities["underserved_share"].drop("region").dropna().tolist()
    edges = plot.nice_breaks(shares)
    labels = plot.class_labels(edges, "da")
    assert len(set(labels)) == len(labels)
    assert labels[0] == "0–0,25 %" and labels[-1] == "1–1,25 %"
    assert edges[-1] >= max(shares)
    np.testing.assert_allclose(np.diff(edges), 0.0025)


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    """The demo's two vintages: the claim check and the change 2025 -> 2026."""
    from coverage_gap.config import load_config
    from coverage_gap.datasets import write_demo_inputs
    from coverage_gap.vintages import change_between, check_runs, run_vintages

    config = load_config(write_demo_inputs(tmp_path_factory.mktemp("history"), scale=0.01))
    runs = run_vintages(config)
    return (
        runs,
        check_runs(runs, config.claim.claim(), config.claim.grid),
        change_between(runs[1], runs[0]),
    )


@pytest.fixture(scope="module")
def real_claim(tmp_path_factory):
    """The claim check on the real sample: dwellings, BBK mobile speeds, one data year."""
    from coverage_gap.claims import Claim
    from coverage_gap.vintages import check_runs

    from .conftest import SHARED

    if not SHARED.is_dir():
        pytest.skip("../shared/data is not present")
    results = run(
        parse_config(real_sample_config(SHARED), tmp_path_factory.mktemp("real_claim")),
        keep_evidence=True,
    )
    return check_runs([results], Claim(0.02, 0.01, "one in fifty"))


@pytest.mark.parametrize("lang", ["en", "da"])
def test_claim_and_change_figures_have_no_overlapping_or_clipped_text(history, lang):
    from coverage_gap.report import fact_sheet

    runs, check, change = history
    figures = {
        "claim_curve": plot.plot_claim_curve(check, ax=plot.new_axes(pyplot=False), lang=lang),
        "change_waterfall": plot.plot_change_waterfall(
            change.municipalities, ax=plot.new_axes(pyplot=False), lang=lang
        ),
        "change_waterfall_0360": plot.plot_change_waterfall(
            change.municipalities, municipality="0360", ax=plot.new_axes(pyplot=False), lang=lang
        ),
        "change_by_municipality": plot.plot_change_by_municipality(
            change.municipalities, ax=plot.new_axes(pyplot=False), lang=lang
        ),
    }
    for name, ax in figures.items():
        problems, drawn = layout_problems(ax.figure)
        assert not problems, f"{lang} {name}: {problems[:5]}"
        assert len(drawn) > 5, name
    for code in ("0253", "0360"):
        fig = fact_sheet(runs[0], code, lang=lang, change=change.municipalities)
        problems, drawn = layout_problems(fig)
        assert not problems, f"{lang} fact sheet {code}: {problems[:5]}"
        texts = [t for t, _ in drawn]
        assert any("2025 → 2026" in t for t in texts)


@pytest.mark.parametrize("lang", ["en", "da"])
def test_the_claim_curve_of_the_real_sample(real_claim, lang):
    # one data year, dwellings and addresses, mobile judged on BBK's per-address speeds
    table = real_claim.specifications
    assert set(table["denominator"]) == {"dwellings", "addresses"}
    mobile = table[table["underserved"] == "no_fixed_and_no_mobile"]
    assert (mobile["mobile_down_mbps"] == mobile["fixed_down_mbps"]).all()
    ax = plot.plot_claim_curve(real_claim, ax=plot.new_axes(pyplot=False), lang=lang)
    problems, _ = layout_problems(ax.figure)
    assert not problems, f"{lang}: {problems[:5]}"
    panel_labels = {t.get_text() for t in ax.figure.axes[1].get_yticklabels()}
    assert {"dwellings", "addresses"} <= panel_labels or {"boliger", "adresser"} <= panel_labels

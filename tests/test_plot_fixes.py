"""Figure review fixes (docs: /work/figreview/REPORT.md): what a reader of the slide sees
is checked on the artists, not on pixels."""

from __future__ import annotations

import matplotlib
import matplotlib.text

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
import shapely
import shapely.affinity

from coverage_gap import plot
from coverage_gap import schema as S
from coverage_gap.config import parse_config
from coverage_gap.datasets import make_demo_results
from coverage_gap.pipeline import run
from coverage_gap.plot.maps import LEADER_GID, NEIGHBOUR_SHARE, _display_affine

from .test_figure_layout import dar_sample_config


@pytest.fixture(scope="module")
def demo():
    return make_demo_results(scale=0.05)


@pytest.fixture(scope="module")
def dar(tmp_path_factory):
    from .conftest import SHARED

    if not SHARED.is_dir():
        pytest.skip("../shared/data is not present")
    config = dar_sample_config(SHARED)
    config["demand"] = {"base_year": 2026, "horizon": 2035, "gb_per_unit_month": 40}
    return run(parse_config(config, tmp_path_factory.mktemp("dar")))


def label_problems(ax, boundaries):
    """Labels whose box lies mostly on a neighbour's land with no leader line to them."""
    fig = ax.figure
    fig.canvas.draw()
    affine = _display_affine(ax)
    renderer = fig.canvas.get_renderer()
    polys = {
        str(name): shapely.affinity.affine_transform(geom, affine)
        for name, geom in zip(boundaries[S.MUNICIPALITY_NAME], boundaries.geometry, strict=True)
    }
    land = shapely.union_all(list(polys.values()))
    leaders = [line.get_xydata() for line in ax.lines if line.get_gid() == LEADER_GID]
    leaders = [ax.transData.transform(xy) for xy in leaders]
    problems, seen = [], 0
    for text in ax.texts:
        name = text.get_text().split("\n")[0]
        if name not in polys:
            continue
        seen += 1
        box = text.get_window_extent(renderer)
        geom = shapely.box(*box.extents)
        own = shapely.area(shapely.intersection(geom, polys[name])) / geom.area
        over = shapely.area(shapely.intersection(geom, land)) / geom.area
        if over - own <= NEIGHBOUR_SHARE + 0.02:
            continue
        anchor = ax.transData.transform(text.xy)
        tied = any(
            np.allclose(line[0], anchor, atol=1.0)
            and shapely.Point(line[-1]).distance(geom) < 6.0
            and np.hypot(*(line[-1] - line[0])) >= 8.0
            for line in leaders
        )
        if not tied:
            problems.append(f"{name}: {over - own:.0%} on a neighbour, no leader line")
    return problems, seen


@pytest.mark.parametrize("lang", ["da", "en"])
def test_map_labels_sit_on_their_own_municipality_or_have_a_leader_line(demo, lang):
    ax = plot.plot_gap_map(
        demo.municipalities, demo.boundaries, ax=plot.new_axes(pyplot=False), lang=lang
    )
    problems, seen = label_problems(ax, demo.boundaries)
    assert seen == 17
    assert not problems


def test_map_labels_on_the_partial_real_run(dar):
    ax = plot.plot_gap_map(
        dar.municipalities, dar.boundaries, ax=plot.new_axes(pyplot=False), lang="da"
    )
    problems, seen = label_problems(ax, dar.boundaries)
    assert seen == 17
    assert not problems


def figure_texts(fig):
    fig.canvas.draw()
    texts = [t.get_text() for t in fig.findobj(matplotlib.text.Text)]
    return [t for t in texts if t]


def sheet(results, code, lang):
    from coverage_gap.plot.factsheet import draw_fact_sheet

    fig = plot.new_axes(pyplot=False).figure
    fig.clear()
    return draw_fact_sheet(fig, results, code, lang=lang)


@pytest.mark.parametrize(
    ("lang", "said"),
    [("da", "kun de 10 af 17 kommuner med data"), ("en", "only the 10 of 17 municipalities")],
)
def test_partial_region_is_said_on_the_demand_chart_and_fact_sheets(dar, lang, said):
    from coverage_gap.report import report_charts

    assert (dar.municipalities["households"] > 0).sum() == 11  # 10 and the region
    texts = figure_texts(report_charts(dar, lang=lang)["demand_region"]())
    assert any(said in t for t in texts), texts[:5]
    texts = figure_texts(sheet(dar, "0340", lang))
    flat = [" ".join(t.split()) for t in texts]
    assert any(f"Region Sjælland ({said}" in t for t in flat), flat


@pytest.mark.parametrize(
    ("lang", "said"),
    [("da", "Tilbud fundet for 61 % af adresserne"), ("en", "Offers found for 61% of the")],
)
def test_a_low_offer_match_is_said_on_the_fact_sheets(dar, demo, lang, said):
    (share,) = {round(m.counted_share, 3) for _, m in dar.offer_matches}
    assert share == round(309 / 507, 3)
    assert any(said in t for t in figure_texts(sheet(dar, "0340", lang)))
    texts = figure_texts(sheet(demo, "0253", lang))
    assert not any("kun de" in t or "only the" in t or said[:12] in t for t in texts)


def test_the_default_area_name_is_danish_in_danish_figures():
    from coverage_gap.demand import CENTRAL, TASKFORCE_50, project_demand
    from coverage_gap.standards import DK_100_30, Provenance

    base = pd.DataFrame(
        {"municipality_code": ["0001", "0002", "region"], "households": [10, 0, 10]}
    )
    p = project_demand(
        base, base_year=2026, horizon=2030, gb_per_unit_month=40, scenarios=[TASKFORCE_50, CENTRAL]
    )
    ax = plot.plot_demand(
        p, ax=plot.new_axes(pyplot=False), lang="da", provenance=Provenance(DK_100_30)
    )
    texts = figure_texts(ax.figure)
    assert any(t.endswith(": Alle kommuner") for t in texts), texts[:3]
    assert any("kun de 1 af 2 kommuner med data" in t for t in texts)
    assert not any("All municipalities" in t for t in texts)


def hotspot_scale(fig):
    (image,) = [im for ax in fig.axes for im in ax.get_images()]
    cmap = image.get_cmap()
    return list(image.norm.boundaries), [tuple(cmap(i)) for i in range(cmap.N)]


@pytest.mark.parametrize("lang", ["da", "en"])
def test_hotspot_colours_mean_the_same_on_every_fact_sheet(demo, dar, lang):
    from coverage_gap.plot.maps import _count_classes, hotspot_grid

    for results, codes in ((demo, ["0253", "0259", "0340"]), (dar, ["0253", "0265", "0340"])):
        region_top = hotspot_grid(results.households)[0].max()
        scales = {code: hotspot_scale(sheet(results, code, lang)) for code in codes}
        edges = _count_classes(region_top)
        for code, (bounds, _) in scales.items():
            assert bounds == edges, code
        assert len({tuple(colours) for _, colours in scales.values()}) == 1
    fig = sheet(dar, "0265", lang)  # Roskilde: at most 2–4 per cell, not the darkest colour
    legend = fig.legends[0]
    title = legend.get_title().get_text()
    assert title.startswith("Underforsynede boliger" if lang == "da" else "Under-served dwellings")
    assert [t.get_text() for t in legend.get_texts()] == ["1", "2–4"]


@pytest.mark.parametrize("lang", ["da", "en"])
def test_the_fact_sheet_demand_legend_lies_on_the_page(demo, lang):
    fig = sheet(demo, "0253", lang)
    fig.set_dpi(200)  # the report's PNGs: text grows a little faster than the page
    fig.canvas.draw()
    margin = 0.05 * fig.dpi
    renderer = fig.canvas.get_renderer()
    (legend,) = [
        lg
        for lg in fig.legends
        if "serie" in " ".join(t.get_text() for t in lg.get_texts())
        or "series" in " ".join(t.get_text() for t in lg.get_texts())
    ]
    joined = " ".join(" ".join(t.get_text().split()) for t in legend.get_texts())
    assert "(dansk serie)" in joined or "(Danish series)" in joined
    for text in legend.get_texts():
        assert text.get_window_extent(renderer).x1 <= fig.bbox.width - margin, text.get_text()


def test_danish_words_in_danish_figures():
    from coverage_gap.datasets.vintage import SOURCE_2025
    from coverage_gap.plot.charts import _scenario_definition, scenario_label

    assert scenario_label("central", "da") == "centralt skøn"
    assert scenario_label("taskforce 50 %", "en") == "taskforce 50%"
    assert "vintage" not in SOURCE_2025
    en = _scenario_definition("decaying: +14.9 % (95 % interval +6 % to +39 %)", "en")
    assert en == "decaying: +14.9% (95% interval +6% to +39%)"


def test_one_dwelling_is_singular(dar):
    texts = figure_texts(
        plot.plot_gap_ranking(dar.municipalities, ax=plot.new_axes(pyplot=False), lang="da").figure
    )
    assert dar.municipalities.loc["0259", "households"] == 1  # Køge
    assert "100,0 % (1 bolig)" in texts
    assert not any("(1 boliger)" in t for t in texts)
    texts = figure_texts(
        plot.plot_gap_ranking(dar.municipalities, ax=plot.new_axes(pyplot=False), lang="en").figure
    )
    assert "100.0% (1 dwelling)" in texts


def test_english_percentages_have_no_space(demo):
    ax = plot.plot_gap_map(
        demo.municipalities, demo.boundaries, ax=plot.new_axes(pyplot=False), lang="en"
    )
    texts = figure_texts(ax.figure)
    assert any("; 95% interval " in t for t in texts)
    assert not any("95 % interval" in t for t in texts)


@pytest.mark.parametrize(
    "title",
    [
        "Hvor 10 nye master når flest husstande uden fast bredbånd ≥ 100/30 Mbit/s",
        "Husstande uden fast bredbånd ≥ 100/30 Mbit/s, pr. kommune",
    ],
)
def test_titles_keep_a_value_with_its_unit(title):
    from coverage_gap.plot.style import _wrap

    fig = plot.new_axes(pyplot=False).figure
    for width in range(200, 900, 25):
        text = fig.text(0, 1, title, fontsize=20)
        _wrap(text, width)
        lines = text.get_text().split("\n")
        assert " ".join(lines) == title  # plain spaces again
        for line in lines[1:]:
            assert not line.startswith(("Mbit/s", "kommune", "100/30")), (width, lines)
        for line in lines[:-1]:
            assert not line.endswith(("≥", "pr.")), (width, lines)
        text.remove()

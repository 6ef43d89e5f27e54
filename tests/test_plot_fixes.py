"""Figure review fixes (docs: /work/figreview/REPORT.md): what a reader of the slide sees
is checked on the artists, not on pixels."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
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

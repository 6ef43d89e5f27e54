"""Where to act, as it leaves the library: the tables of [[areas]], [pool] and [siting] in the
output set (CSV, Danish CSV, workbook, manifest) and their three maps, on the hand-made world
(values worked out by hand in the comments)."""

from __future__ import annotations

import io
import json

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgba
from matplotlib.patches import Circle

from coverage_gap import plot
from coverage_gap.cli import main
from coverage_gap.config import load_config
from coverage_gap.errors import PlotError
from coverage_gap.pipeline import run
from coverage_gap.plot import where

ZONES = {  # id: (zone, inhabitants of the town); everyone else: byzone, a town of 10,000
    "h3": ("Landzone", None),
    "h4": ("Byzone", 1500),
    "h6": ("Byzone", 5000),
    "h11": ("Landzone", None),
}
SECTIONS = """
[[areas]]
grid = "1km"
min_households = 2

[pool]
rule_sets = ["2023", "2024"]
town_population_column = "byindbyggere"
cluster_distance_m = 300

[siting]
sites = 2
radius_m = 600
candidate_spacing_m = 1000
"""


@pytest.fixture
def where_config(world_files):
    folder = world_files.parent
    table = pd.read_csv(folder / "households.csv")
    table["zone"] = table["address_id"].map(lambda i: ZONES.get(i, ("Byzone", None))[0])
    table["byindbyggere"] = table["address_id"].map(lambda i: ZONES.get(i, (None, 10_000))[1])
    table.to_csv(folder / "households.csv", index=False)
    world_files.write_text(world_files.read_text() + SECTIONS)
    return world_files


@pytest.fixture
def results(where_config):
    return run(load_config(where_config))


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _csv(path, **kwargs):
    return pd.read_csv(path, dtype={"municipality_code": str, "rule_set": str}, **kwargs)


def test_the_run_writes_the_tables_of_where_to_act(where_config, tmp_path):
    out = tmp_path / "out"
    assert main(["run", str(where_config), "--out", str(out)]) == 0
    for stem in ("ddkn_1km", "pool", "pool_changes", "pool_clusters", "sites"):
        assert (out / f"{stem}.csv").is_file() and (out / f"{stem}_da.csv").is_file(), stem

    cells = _csv(out / "ddkn_1km.csv").set_index("cell")
    municipalities = _csv(out / "municipalities.csv").set_index("municipality_code")
    # h5 (1 household) and h12 (5, on the corner 1000/1000) share 1km_1_1
    assert cells.loc["1km_1_1", ["households", "underserved_households"]].tolist() == [6, 5]
    assert cells.loc["region", "households"] == municipalities.loc["region", "households"] == 21
    assert cells.loc[["1km_2_0", "1km_0_3"], "small_count"].tolist() == [True, True]

    pool = _csv(out / "pool.csv")
    assert {"municipality_code", "rule_set", "eligible_addresses"} <= set(pool.columns)
    region = pool[pool["municipality_code"] == "region"].set_index("rule_set")
    # 2023: h3 (landzone, fixed wireless without upload); 2024: h4 (byzone, a town of 1,500)
    assert region["eligible_addresses"].to_dict() == {"2023": 1, "2024": 1}
    assert region["eligible_households"].to_dict() == {"2023": 1, "2024": 3}
    assert pool["service_standard"].str.startswith("Bredbåndspuljen").all()
    changes = _csv(out / "pool_changes.csv").set_index("address_id")
    assert changes["change"].to_dict() == {"h3": "leaves", "h4": "enters"}
    assert (changes["data_year"] == 2026).all() and "→" in changes["service_standard"].iloc[0]
    clusters = _csv(out / "pool_clusters.csv")
    assert clusters[["rule_set", "cluster", "addresses"]].values.tolist() == [
        ["2023", 1, 1],
        ["2024", 1, 1],
    ]
    assert clusters["source"].eq("hand-made test world").all()

    # Demand: h2 (2), h3, h4 (3), h6, h12 (5) lack fixed 100/30. Within 600 m of a 1 km
    # cell centre: h4 from (500, 1500), h2 from (1500, 2500), h3 and h6 alone; h12 from
    # none. Greedy: 1km_1_0 (+3), then 1km_2_1 (+2).
    sites = _csv(out / "sites.csv")
    assert sites[["rank", "site_id", "x", "y"]].values.tolist() == [
        [1, "1km_1_0", 500.0, 1500.0],
        [2, "1km_2_1", 1500.0, 2500.0],
    ]
    assert sites["newly_covered_households"].tolist() == [3, 2]
    assert sites["cumulative_covered_households"].tolist() == [3, 5]
    siting = json.loads((out / "manifest.json").read_text())["siting"]
    assert siting["demand_households"] == 12 and siting["reachable_households"] == 7
    assert siting["bounds"]["greedy_households"] == 5.0
    assert siting["bounds"]["lp_upper_bound"] == pytest.approx(5.0)  # greedy is optimal here

    danish = pd.read_csv(out / "pool_da.csv", sep=";", decimal=",", encoding="utf-8-sig", dtype=str)
    assert danish.columns.tolist() == pool.columns.tolist()
    assert len(danish) == len(pool)


def test_where_to_act_outputs_are_byte_identical_on_a_rerun(where_config, tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    assert main(["report", str(where_config), "--out", str(first), "--no-progress"]) == 0
    assert main(["report", str(where_config), "--out", str(second), "--no-progress"]) == 0
    names = sorted(p.relative_to(first).as_posix() for p in first.rglob("*") if p.is_file())
    for name in ("figures/map_ddkn_1km.png", "figures/map_pool.svg", "figures/map_sites.png"):
        assert name in names
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_the_workbook_has_sheets_for_where_to_act(results):
    from openpyxl import load_workbook

    from coverage_gap.report import _workbook_tables, workbook_bytes

    tables, left_out = _workbook_tables(results)
    assert left_out == []
    book = load_workbook(io.BytesIO(workbook_bytes(tables, lang="da")))
    assert book.sheetnames[-5:] == [
        "DDKN 1km",
        "Bredbåndspuljen",
        "Puljen, ændringer",
        "Puljen, klynger",
        "Mastplaceringer",
    ]
    pool = book["Bredbåndspuljen"]
    header = [c.value for c in pool[1]]
    assert header[:3] == ["Regelsæt", "Kommunekode", "Kommune"]
    region_rows = [r for r in range(2, pool.max_row + 1) if pool.cell(r, 2).value == "region"]
    assert len(region_rows) == 2 and all(pool.cell(r, 2).font.bold for r in region_rows)
    changes = book["Puljen, ændringer"]
    values = {c.value for row in changes.iter_rows(min_row=2) for c in row}
    assert {"kommer ind", "falder ud", "støtteberettiget"} <= values
    assert "index" not in [c.value for c in changes[1]]


def test_cell_map_colours_and_small_counts(results):
    """Cells by hand (min 2 households): 1km_1_1 5 under-served (class 5–9), 1km_1_0 3 and
    1km_2_1 2 (class 2–4), 1km_0_0 and 1km_0_1 none, four cells with one household: grey."""
    ((_, cells),) = results.areas
    ax = plot.plot_area_cells(
        cells, results.boundaries, provenance=results.provenance, min_households=2
    )
    image = ax.images[0].get_array()
    x0, x1, y0, y1 = ax.images[0].get_extent()
    assert (x0, x1, y0, y1) == (0.0, 4000.0, 0.0, 3000.0)

    def colour(cell):
        north, east = (int(v) for v in cell.split("_")[1:])
        return tuple(np.round(image[2 - north, east], 6))

    hot = matplotlib.colormaps["YlOrRd"]
    assert colour("1km_1_1") == tuple(np.round(hot(1.0), 6))
    assert colour("1km_1_0") == colour("1km_2_1") == tuple(np.round(hot(0.6), 6))
    assert colour("1km_0_0") == colour("1km_0_1") == tuple(np.round(to_rgba(where.ZERO), 6))
    for small in ("1km_2_0", "1km_2_2", "1km_1_2", "1km_0_3"):
        assert colour(small) == tuple(np.round(to_rgba(where.SMALL), 6)), small
    assert colour("1km_0_2") == (0.0, 0.0, 0.0, 0.0)  # no household: nothing drawn
    texts = [t.get_text() for t in ax.figure.texts]
    # the cell with the most, listed first, with the municipality it lies in
    name = results.boundaries.set_index("municipality_code")["municipality_name"]
    top = next(t for t in texts if "1km_1_1" in t).splitlines()
    assert top[1].startswith("1  ") and top[1].endswith("(1km_1_1): 5")
    assert top[1][3:].split(" (")[0] in set(name)
    legend = [t.get_text() for t in ax.figure.legends[0].get_texts()]
    assert legend == ["1", "2–4", "5–9", "0 (none under-served)", _small("en")]
    numbers = [t.get_text() for t in ax.texts if t.get_text() in {"1", "2", "3"}]
    assert sorted(numbers) == ["1", "2", "3"]


def _small(lang):
    return {
        "en": "Fewer than 2 households:\ncount not shown",
        "da": "Færre end 2 husstande:\nantal ikke vist",
    }[lang]


def test_cell_map_refuses_a_polygon_table(results):
    table = results.municipalities.rename_axis("area_code")
    with pytest.raises(PlotError, match="DDKN cell tables"):
        plot.plot_area_cells(table, results.boundaries)


def test_pool_map_groups_and_notes(results):
    ax = plot.plot_pool(results.pool, results.boundaries, cluster_distance_m=300, lang="en")
    legend = [t.get_text() for t in ax.figure.legends[0].get_texts()]
    assert "Eligible only under 2024 (new) (1)" in legend  # h4
    assert "Eligible only under 2023 (leaves) (1)" in legend  # h3
    assert "Eligible under 2023 and 2024 (0)" in legend
    footer = next(t.get_text() for t in ax.figure.texts if t.get_gid() == plot.FOOTER_TAG)
    assert "Bredbåndspuljen 2024: no fixed offer ≥ 100 Mbit/s down" in footer
    assert "at most 300 m apart" in footer and "not assessed" in footer
    # the world has no mobile speeds: the 2024 mobile condition excludes nobody, and says so
    assert any("No mobile speeds" in t.get_text() for t in ax.figure.texts)


def test_pool_map_without_zones_shows_undetermined(world_files):
    world_files.write_text(world_files.read_text() + '\n[pool]\nrule_sets = ["2023", "2024"]\n')
    results = run(load_config(world_files))
    ax = plot.plot_pool(results.pool, results.boundaries, lang="da")
    legend = [t.get_text() for t in ax.figure.legends[0].get_texts()]
    # 2023: h3, h4 lack 30/5; 2024: h4, h6 lack 100 down; without a zone all undetermined
    # the grey circles are the addresses undetermined under either rule: h3, h4, h6
    assert "Uafklaret efter 2023 eller 2024: zone eller byens størrelse ukendt (3)" in legend
    assert "Støtteberettiget efter 2023 og 2024 (0)" in legend
    assert any(t.get_text().startswith("Data har ingen zone") for t in ax.figure.texts)


def test_sites_map_draws_reach_ranks_and_demand(results):
    ax = plot.plot_sites(results.sites, results.households, results.boundaries, radius_m=600)
    circles = [p for p in ax.patches if isinstance(p, Circle)]
    assert [c.get_center() for c in circles] == [(500.0, 1500.0), (1500.0, 2500.0)]
    assert {c.get_radius() for c in circles} == {600.0}
    reached, out_of_reach = ax.collections[-1], ax.collections[-2]
    assert len(reached.get_offsets()) == 2 and len(out_of_reach.get_offsets()) == 3  # h4, h2
    texts = [t.get_text() for t in ax.figure.texts]
    assert "41.7%" in texts  # 5 of 12 under-served households
    assert any("reaches at least 100%" in t for t in texts)
    assert {t.get_text() for t in ax.texts} >= {"1", "2"}


def test_the_demo_gives_zones_and_town_sizes():
    from coverage_gap.datasets import make_demo

    households = make_demo(scale=0.01).households
    shares = households["zone"].value_counts(normalize=True)
    assert set(shares.index) == {"Byzone", "Landzone", "Sommerhusområde"}
    assert 0.4 < shares["Byzone"] < 0.8 and 0.005 < shares["Sommerhusområde"] < 0.1
    town = households["byindbyggere"]
    assert town.notna().eq(households["zone"] == "Byzone").all()
    assert (town.dropna() % 10 == 0).all() and town.min() > 0


def test_sites_map_without_any_demand_says_so(results):
    from coverage_gap.siting import SitingSpec, choose_sites

    classified = results.households.assign(nobody=False)
    spec = SitingSpec(sites=2, radius_m=600, candidate_spacing_m=1000, demand="nobody")
    sites = choose_sites(classified, results.provenance, spec)
    assert len(sites.sites) == 0
    ax = plot.plot_sites(sites, classified, results.boundaries, radius_m=600, demand="nobody")
    title = ax.figure.texts[0].get_text().replace("\n", " ")
    assert title.startswith("No new mast site")
    assert not [p for p in ax.patches if isinstance(p, Circle)]


def test_a_bound_below_one_never_reads_100_percent(results):
    """819 of 820 proven: 99.88 % floored to 99.8 %, never rounded up to 100 %."""
    import dataclasses

    assert where.floor_percent(819 / 820, "da") == "99,8 %"
    assert where.floor_percent(819 / 820, "en") == "99.8%"
    assert where.floor_percent(0.847, "en") == "84%"  # floored, not 85 %
    assert where.floor_percent(0.99996, "en") == "99.9%"
    assert where.floor_percent(1.0, "da") == "100 %"
    bounds = dataclasses.replace(
        results.sites.bounds,
        greedy_households=819.0,
        lp_upper_bound=820.0,
        online_upper_bound=900.0,
        guarantee_upper_bound=1300.0,
        optimum=None,
        milp_upper_bound=None,
    )
    assert bounds.greedy_share == 819 / 820
    sites = dataclasses.replace(results.sites, bounds=bounds)
    for lang, proven in (("en", "at least 99.8% of the best"), ("da", "mindst 99,8 % af det")):
        ax = plot.plot_sites(sites, results.households, results.boundaries, radius_m=600, lang=lang)
        texts = " ".join(t.get_text().replace("\n", " ") for t in ax.figure.texts)
        assert proven in texts
        assert "100" not in texts.split("Greedy" if lang == "en" else "Grådigt")[1].split(".")[1]


def _legend(ax):
    return [t.get_text() for t in ax.figure.legends[0].get_texts()]


def test_pool_and_sites_maps_explain_the_hatched_municipalities(results):
    """A municipality without data is hatched; the legend says what the hatching means."""
    code = results.boundaries["municipality_code"].iloc[0]
    pool = plot.plot_pool(results.pool, results.boundaries, lang="da", no_data=[code])
    assert "Ingen data (ingen husstande)" in _legend(pool)
    sites = plot.plot_sites(
        results.sites, results.households, results.boundaries, radius_m=600, no_data=[code]
    )
    assert "No data (no households)" in _legend(sites)
    plain = plot.plot_pool(results.pool, results.boundaries, lang="da")
    assert not any(t.startswith("Ingen data") for t in _legend(plain))


def test_pool_clusters_legend_matches_the_rings(results):
    """Clusters are ringed and numbered beside the ring; the legend shows a ring, not a box."""
    ax = plot.plot_pool(results.pool, results.boundaries, cluster_distance_m=300, lang="en")
    legend = ax.figure.legends[0]
    labels = _legend(ax)
    i = labels.index("Largest clusters under 2024 (possible projects)")
    handle = legend.legend_handles[i]
    assert handle.get_marker() == "o" and handle.get_markerfacecolor() == "none"
    rings = [c for c in ax.collections if c.get_facecolor().size == 0 and c.get_zorder() == 5]
    assert rings, "no ring drawn around a cluster"


def test_ring_numbers_sit_beside_their_rings_and_close_rings_merge():
    """Rings closer than their diameter share one ring ("2, 3"); a number never sits
    inside a ring."""
    assert where._ring_groups(np.array([[0.0, 0.0], [10.0, 0.0], [200.0, 0.0]]), 18.0) == [
        [0, 1],
        [2],
    ]
    _fig, ax = plt.subplots(figsize=(6, 6), dpi=100)
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    boxes = where._draw_rings(ax, [("1", 50.0, 50.0), ("2", 80.0, 80.0), ("3", 81.0, 80.0)], [])
    texts = [t for t in ax.texts]
    assert [t.get_text() for t in texts] == ["1", "2, 3"]
    rings = boxes[:2]
    for text in texts:
        box = text.get_window_extent()
        assert not any(box.overlaps(r) for r in rings), text.get_text()


def test_cell_map_in_danish_names_the_municipality_of_each_top_cell(results):
    ((_, cells),) = results.areas
    ax = plot.plot_area_cells(cells, results.boundaries, lang="da", min_households=2)
    text = next(t.get_text() for t in ax.figure.texts if t.get_text().startswith("Celler med"))
    names = set(results.boundaries["municipality_name"])
    for line in text.splitlines()[1:]:
        assert line.split("  ", 1)[1].split(" (")[0] in names, line


def test_english_pool_footer_explains_the_danish_zone_names():
    from coverage_gap.danish.pool import POOL_2024

    text = where.rule_text(POOL_2024, "en")
    assert "landzone (rural zone)" in text and "byzone (urban zone)" in text
    assert "(rural zone)" not in where.rule_text(POOL_2024, "da")


def test_out_of_reach_dots_are_opaque_so_overlaps_keep_one_colour(results):
    ax = plot.plot_sites(results.sites, results.households, results.boundaries, radius_m=600)
    out_of_reach = ax.collections[-2]
    assert out_of_reach.get_facecolor()[0][3] == 1.0
    legend = ax.figure.legends[0]
    i = _legend(ax).index("Under-served households out of reach")
    handle = legend.legend_handles[i]
    assert to_rgba(handle.get_markerfacecolor()) == tuple(out_of_reach.get_facecolor()[0])

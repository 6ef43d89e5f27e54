"""Areas below the municipality: DDKN cells and polygon layers, worked out by hand."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from coverage_gap import (
    ConfigError,
    Provenance,
    ServiceStandard,
    classify_households,
    summarize_gap,
)
from coverage_gap.areas import (
    OUTSIDE,
    AreaSpec,
    ddkn_cell_names,
    ddkn_cells,
    summarize_areas,
)
from coverage_gap.errors import CRSError, SchemaError

STANDARD = ServiceStandard("100/30", fixed_down_mbps=100, fixed_up_mbps=30, mobile_min_dbm=-105)
PROVENANCE = Provenance(STANDARD, data_year=2026, source="test", area_name="Test region")


@pytest.fixture
def classified(households, municipalities, offers, rasters):
    return classify_households(
        households, municipalities, STANDARD, fixed_offers=offers, mobile_rasters=rasters
    )


def test_ddkn_names_follow_the_official_examples():
    # DOMAIN.md: 1km_6223_576, 100m_62237_5756, 10km_622_57 for one point
    x, y = np.array([575_650.0]), np.array([6_223_750.0])
    assert ddkn_cell_names(x, y, "1km").tolist() == ["1km_6223_575"]
    assert ddkn_cell_names(x, y, "100m").tolist() == ["100m_62237_5756"]
    assert ddkn_cell_names(x, y, "250m").tolist() == ["250m_622375_57550"]
    assert ddkn_cell_names(x, y, "10km").tolist() == ["10km_622_57"]
    assert ddkn_cell_names(x, y, "50km").tolist() == ["50km_620_55"]
    assert ddkn_cell_names(x, y, "100km").tolist() == ["100km_62_5"]


def test_ddkn_edges_belong_to_the_cell_to_the_north_east():
    x = np.array([576_000.0, 575_999.999, 576_000.0])
    y = np.array([6_223_000.0, 6_223_000.0, 6_222_999.999])
    assert ddkn_cell_names(x, y).tolist() == ["1km_6223_576", "1km_6223_575", "1km_6222_576"]


def test_ddkn_cells_round_trip_and_reject_bad_names():
    cells = ddkn_cells(["10km_622_57", "100m_62237_5756"])
    assert cells.crs.to_epsg() == 25832
    assert cells["size_m"].tolist() == [10_000, 100]
    assert cells.geometry.bounds.values.tolist() == [
        [570_000, 6_220_000, 580_000, 6_230_000],
        [575_600, 6_223_700, 575_700, 6_223_800],
    ]
    with pytest.raises(SchemaError, match="not DDKN cell names") as info:
        ddkn_cells(["1km_6223_576", "1km_6223", "250m_622370_57550", "2km_1_1"])
    assert info.value.problems[0].count == 3


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(400_000, 900_000, allow_nan=False),
            st.floats(6_000_000, 6_450_000, allow_nan=False),
        ),
        min_size=1,
        max_size=30,
    ),
    st.sampled_from(["100m", "250m", "1km", "10km", "50km", "100km"]),
)
def test_every_point_lies_in_its_named_cell_and_cells_nest(points, size):
    x = np.array([p[0] for p in points])
    y = np.array([p[1] for p in points])
    cells = ddkn_cells(ddkn_cell_names(x, y, size))
    b = cells.geometry.bounds
    assert ((b["minx"] <= x) & (x < b["maxx"]) & (b["miny"] <= y) & (y < b["maxy"])).all()
    # the cell of a point at a coarser size contains its finer cell
    parent = ddkn_cells(ddkn_cell_names(x, y, "100km"))
    assert shapely.contains(parent.geometry.array, cells.geometry.array).all()


def test_1km_table_by_hand(classified):
    table = summarize_areas(classified, PROVENANCE, AreaSpec(grid="1km", min_households=5))
    # Cells (row = northing km, col = easting km), households and under-served (no fixed
    # 100/30: h2 h3 h4 h6 h12). h12 on the corner (1000, 1000) belongs to 1km_1_1;
    # h9 (nearest municipality) is counted, h10 (unassigned) and h11 (invalid) are not.
    expected = {
        "1km_0_0": (1, 4, 0),  # h7
        "1km_0_1": (1, 2, 0),  # h8
        "1km_0_3": (1, 1, 0),  # h9
        "1km_1_0": (1, 3, 3),  # h4
        "1km_1_1": (2, 6, 5),  # h5, h12
        "1km_1_2": (1, 1, 1),  # h6
        "1km_2_0": (1, 1, 0),  # h1
        "1km_2_1": (1, 2, 2),  # h2
        "1km_2_2": (1, 1, 1),  # h3
        "region": (10, 21, 12),
    }
    assert table.index.name == "cell"
    assert table.index.tolist() == list(expected)
    got = table[["addresses", "households", "underserved_households"]]
    assert [tuple(r) for r in got.values.tolist()] == list(expected.values())
    assert table["small_count"].tolist() == [True] * 4 + [False] + [True] * 4 + [False]
    assert table.loc["region", "area_name"] == "Test region"
    assert (table["area_set"] == "DDKN 1km").all()
    assert (table["data_year"] == "2026").all()
    assert table.attrs["excluded"].to_dict("index") == {
        "outside_selection": {"addresses": 0, "households": 0},
        "unassigned": {"addresses": 1, "households": 1},
        "invalid": {"addresses": 1, "households": 1},
    }
    assert "not counted in any municipality" in str(table.attrs["problems"][0])
    np.testing.assert_allclose(table.loc["1km_1_1", "underserved_share"], 5 / 6)


def test_grid_totals_equal_the_municipality_table(classified, municipalities):
    municipal = summarize_gap(classified, municipalities, PROVENANCE)
    for size in ("100m", "250m", "1km", "10km"):
        table = summarize_areas(classified, PROVENANCE, AreaSpec(grid=size))
        columns = ["addresses", "households", "underserved_households", "unserved_both_households"]
        assert table.loc["region", columns].tolist() == municipal.loc["region", columns].tolist()
        assert table.drop(index="region")["households"].sum() == 21


def test_suppression_blanks_small_cells_but_keeps_totals(classified):
    table = summarize_areas(
        classified, PROVENANCE, AreaSpec(min_households=5, small_counts="suppress")
    )
    assert table["households"].isna().sum() == 8
    assert table.loc["1km_1_1", "households"] == 6
    assert pd.isna(table.loc["1km_1_0", "underserved_households"])
    assert np.isnan(table.loc["1km_1_0", "underserved_share"])
    assert table.loc["region", ["households", "underserved_households"]].tolist() == [21, 12]


@pytest.fixture
def districts():
    # "A" is two polygons (one code), "B" the next kilometre, "C" far away and empty.
    return gpd.GeoDataFrame(
        {"postnr": ["A", "B", "A", "C"], "navn": ["Aby", "Bøby", "Aby (2)", "Cby"]},
        geometry=[
            shapely.box(0, 0, 1000, 2000),
            shapely.box(1000, 0, 2000, 3000),
            shapely.box(0, 2000, 1000, 3000),
            shapely.box(9000, 9000, 9100, 9100),
        ],
        crs="EPSG:25832",
    )


def test_polygon_layer_by_hand(classified, districts):
    spec = AreaSpec(grid=None, code="postnr", name="navn", label="postal", min_households=2)
    table = summarize_areas(classified, PROVENANCE, spec, areas=districts)
    # A: h1 h4 h7 h12 (on the A/B border: A comes first) = 1+3+4+5, under-served h4 h12
    # B: h2 h5 h8 = 2+1+2, under-served h2; outside: h3 h6 h9 = 3, under-served h3 h6
    assert table.index.name == "area_code"
    assert table.index.tolist() == ["A", "B", "C", OUTSIDE, "region"]
    assert table["area_name"].tolist() == [
        "Aby",
        "Bøby",
        "Cby",
        "outside every area",
        "Test region",
    ]
    assert table["households"].tolist() == [13, 5, 0, 3, 21]
    assert table["underserved_households"].tolist() == [8, 2, 0, 2, 12]
    assert table["small_count"].tolist() == [False, False, True, False, False]
    assert any("outside" in str(p) for p in table.attrs["problems"])


def test_bad_specs_are_clear(classified, districts):
    with pytest.raises(ConfigError, match="not both or neither"):
        summarize_areas(classified, PROVENANCE, AreaSpec(grid="1km"), areas=districts)
    with pytest.raises(ConfigError, match="not both or neither"):
        summarize_areas(classified, PROVENANCE, AreaSpec(grid=None))
    with pytest.raises(ConfigError, match="grid must be one of"):
        AreaSpec(grid="2km")
    with pytest.raises(ConfigError, match="min_households"):
        AreaSpec(min_households=-1)
    with pytest.raises(SchemaError, match="no column 'code'"):
        summarize_areas(classified, PROVENANCE, AreaSpec(grid=None), areas=districts)
    with pytest.raises(CRSError):
        summarize_areas(
            classified,
            PROVENANCE,
            AreaSpec(grid=None, code="postnr"),
            areas=districts.set_crs("EPSG:3857", allow_override=True),
        )


def test_inputs_are_not_modified(classified, districts):
    before, layer = classified.copy(), districts.copy()
    summarize_areas(classified, PROVENANCE, AreaSpec(grid=None, code="postnr"), areas=districts)
    summarize_areas(classified, PROVENANCE, AreaSpec(small_counts="suppress"))
    pd.testing.assert_frame_equal(classified, before)
    pd.testing.assert_frame_equal(districts, layer)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_grid_counts_match_a_point_by_point_reference(data):
    n = data.draw(st.integers(1, 40))
    xs = data.draw(st.lists(st.floats(0, 2500), min_size=n, max_size=n))
    ys = data.draw(st.lists(st.floats(0, 2500), min_size=n, max_size=n))
    weights = data.draw(st.lists(st.integers(0, 9), min_size=n, max_size=n))
    under = data.draw(st.lists(st.booleans(), min_size=n, max_size=n))
    status = data.draw(
        st.lists(st.sampled_from(["inside", "nearest", "unassigned"]), min_size=n, max_size=n)
    )
    c = pd.DataFrame(
        {"x": xs, "y": ys, "households": weights, "underserved": under, "assignment": status}
    )
    table = summarize_areas(c, PROVENANCE, AreaSpec(grid="250m", min_households=0))
    cells = ddkn_cells(table.index[:-1])
    for cell, box in zip(cells["cell"], cells.geometry, strict=True):
        x0, y0, x1, y1 = box.bounds
        inside = [
            i
            for i in range(n)
            if x0 <= xs[i] < x1 and y0 <= ys[i] < y1 and status[i] != "unassigned"
        ]
        assert table.loc[cell, "households"] == sum(weights[i] for i in inside)
        assert table.loc[cell, "underserved_households"] == sum(
            weights[i] for i in inside if under[i]
        )
    assigned = [i for i in range(n) if status[i] != "unassigned"]
    assert table.loc["region", "households"] == sum(weights[i] for i in assigned)


def test_only_the_selected_municipalities_are_counted(households, municipalities, offers):
    chosen = municipalities.assign(selected=[True, False])
    classified = classify_households(households, chosen, STANDARD, fixed_offers=offers)
    municipal = summarize_gap(classified, chosen, PROVENANCE)
    table = summarize_areas(classified, PROVENANCE, AreaSpec(grid="1km"))
    # 0001 holds h1 h2 h4 h7 h8 h12 (17 households); 0002's four addresses are outside
    assert table.loc["region", "households"] == municipal.loc["region", "households"] == 17
    assert table.attrs["excluded"].loc["outside_selection"].tolist() == [4, 4]

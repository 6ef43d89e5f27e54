"""Bredbåndspuljen under the 2023 and 2024 rules, worked out by hand."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from coverage_gap import DK_100_30, ConfigError, Provenance, gather_evidence
from coverage_gap.danish.pool import (
    POOL_2023,
    POOL_2024,
    PoolRuleSet,
    PoolSpec,
    assess_pool,
    cluster_labels,
    get_pool_rules,
)
from coverage_gap.errors import SchemaError

PROVENANCE = Provenance(DK_100_30, "dwellings", 2026, "test", area_name="Test region")

# id, x, households, zone, town inhabitants, fixed (down, up), mobile down
ADDRESSES = [
    ("a", 100.0, 1, "Landzone", np.nan, (20.0, 2.0), 300.0),
    ("b", 400.0, 2, "Landzone", np.nan, (50.0, 10.0), 300.0),
    ("c", 700.0, 1, "Sommerhusområde", np.nan, None, 700.0),
    ("d", 4000.0, 1, "landzone", np.nan, (150.0, 50.0), 300.0),
    ("e", 6000.0, 3, "Byzone", 1500.0, (40.0, 10.0), 300.0),
    ("f", 6300.0, 1, "BYZONE", 5000.0, (40.0, 10.0), 300.0),
    ("g", 6600.0, 1, "Byzone", np.nan, (40.0, 10.0), 300.0),
    ("h", 9000.0, 2, None, np.nan, (10.0, 1.0), 300.0),
    ("i", 20000.0, 1, "Landzone", np.nan, (5.0, 1.0), 300.0),  # unassigned
    ("j", np.nan, 1, "Landzone", np.nan, (5.0, 1.0), 300.0),  # invalid
]


@pytest.fixture
def boundaries():
    return gpd.GeoDataFrame(
        {"municipality_code": ["0001", "0002"], "municipality_name": ["Aby", "Bøby"]},
        geometry=[shapely.box(0, 0, 5000, 5000), shapely.box(5000, 0, 10000, 5000)],
        crs="EPSG:25832",
    )


def _households(zone=True):
    h = pd.DataFrame(
        {
            "address_id": [a[0] for a in ADDRESSES],
            "households": [a[2] for a in ADDRESSES],
            "x": [a[1] for a in ADDRESSES],
            "y": [np.nan if np.isnan(a[1]) else 100.0 for a in ADDRESSES],
            "town": [a[4] for a in ADDRESSES],
        }
    )
    if zone:
        h["zone"] = [a[3] for a in ADDRESSES]
    h.attrs["crs"] = "EPSG:25832"
    return h


def _offers(which):
    rows = []
    for a in ADDRESSES:
        if which == "fixed" and a[5] is not None:
            rows.append((a[0], *a[5]))
        if which == "mobile" and a[6] is not None:
            rows.append((a[0], a[6], 50.0))
    return pd.DataFrame(rows, columns=["address_id", "down_mbps", "up_mbps"])


def _evidence(boundaries, *, zone=True, mobile=True):
    return gather_evidence(
        _households(zone),
        boundaries,
        fixed_offers=_offers("fixed"),
        mobile_offers=_offers("mobile") if mobile else None,
    )


def _status(result, rule):
    return result.addresses.set_index("address_id")[f"status_{rule}"].astype(str).to_dict()


def test_statuses_by_hand(boundaries):
    result = assess_pool(
        _evidence(boundaries), boundaries, PROVENANCE, PoolSpec(town_population_column="town")
    )
    assert _status(result, "2023") == {
        "a": "eligible",  # 20/2 < 30/5, landzone
        "b": "not eligible (speed)",  # 50/10 meets 30/5
        "c": "eligible",  # no fixed offer at all, summer-house area
        "d": "not eligible (speed)",
        "e": "not eligible (zone)",  # byzone never under 2023
        "f": "not eligible (zone)",
        "g": "not eligible (zone)",
        "h": "undetermined (zone unknown)",
        "i": "eligible",
        "j": "eligible",
    }
    assert _status(result, "2024") == {
        "a": "eligible",
        "b": "eligible",  # 50 < 100 down and mobile 300 < 600
        "c": "not eligible (speed)",  # mobile 700 >= 600
        "d": "not eligible (speed)",
        "e": "eligible",  # byzone in a town of 1,500
        "f": "not eligible (zone)",  # byzone in a town of 5,000
        "g": "undetermined (town size unknown)",
        "h": "undetermined (zone unknown)",
        "i": "eligible",
        "j": "eligible",
    }


def test_summary_by_hand(boundaries):
    result = assess_pool(
        _evidence(boundaries), boundaries, PROVENANCE, PoolSpec(town_population_column="town")
    )
    s = result.summary
    assert s.index.names == ["rule_set", "municipality_code"]
    columns = [
        "addresses",
        "households",
        "eligible_addresses",
        "eligible_households",
        "undetermined_addresses",
        "undetermined_households",
        "clusters",
    ]
    # unassigned i and invalid j are in no row (as in the municipality table)
    assert s.loc[("2023", "0001"), columns].tolist() == [4, 5, 2, 2, 0, 0, 2]
    assert s.loc[("2023", "0002"), columns].tolist() == [4, 7, 0, 0, 1, 2, 0]
    assert s.loc[("2023", "region"), columns].tolist() == [8, 12, 2, 2, 1, 2, 2]
    assert s.loc[("2024", "0001"), columns].tolist() == [4, 5, 2, 3, 0, 0, 1]
    assert s.loc[("2024", "0002"), columns].tolist() == [4, 7, 1, 3, 2, 3, 1]
    assert s.loc[("2024", "region"), columns].tolist() == [8, 12, 3, 6, 2, 3, 2]
    assert s.loc[("2024", "region"), "municipality_name"] == "Test region"
    assert s.loc[("2024", "0001"), "service_standard"] == POOL_2024.describe()
    assert (s["denominator"] == "dwellings").all() and (s["data_year"] == "2026").all()
    messages = " ".join(str(p) for p in result.problems)
    assert "not counted in any municipality" in messages  # i and j: eligible, nowhere


def test_clusters_by_hand(boundaries):
    result = assess_pool(
        _evidence(boundaries), boundaries, PROVENANCE, PoolSpec(town_population_column="town")
    )
    c = result.clusters.set_index(["rule_set", "cluster"])
    # 2023: a (x=100) and c (x=700) are 600 m apart: two clusters of one address
    assert c.loc["2023", "addresses"].tolist() == [1, 1]
    assert c.loc[("2023", 1), "x"] == 100.0
    # 2024: a and b (300 m apart, 3 households) and e alone (3 households): a+b first
    assert c.loc["2024", "households"].tolist() == [3, 3]
    first = c.loc[("2024", 1)]
    assert (first["addresses"], first["municipality_code"]) == (2, "0001")
    assert (first["x_min"], first["x_max"], first["width_m"], first["height_m"]) == (
        100.0,
        400.0,
        300.0,
        0.0,
    )
    assert c.loc[("2024", 2), "municipality_code"] == "0002"
    labels = result.addresses.set_index("address_id")["cluster_2024"]
    assert labels.loc[["a", "b", "e"]].tolist() == [1, 1, 2]
    assert labels.loc[["c", "g", "i", "j"]].isna().all()
    # the distance is inclusive: at 600 m, a and c form one project
    wide = assess_pool(
        _evidence(boundaries), boundaries, PROVENANCE, PoolSpec(cluster_distance_m=600)
    )
    assert wide.clusters.set_index("rule_set").loc["2023", "addresses"] == 2


def test_changes_between_rule_sets(boundaries):
    result = assess_pool(
        _evidence(boundaries), boundaries, PROVENANCE, PoolSpec(town_population_column="town")
    )
    changes = result.changes.set_index("address_id")["change"].astype(str).to_dict()
    assert changes == {"b": "enters", "c": "leaves", "e": "enters", "g": "may enter"}
    backwards = assess_pool(
        _evidence(boundaries),
        boundaries,
        PROVENANCE,
        PoolSpec(town_population_column="town", compare=("2024", "2023")),
    )
    assert backwards.changes.set_index("address_id")["change"].astype(str).to_dict() == {
        "b": "leaves",
        "c": "enters",
        "e": "leaves",
        "g": "may leave",
    }


def test_without_zones_every_speed_candidate_is_undetermined(boundaries):
    result = assess_pool(_evidence(boundaries, zone=False), boundaries, PROVENANCE)
    status = _status(result, "2023")
    # no offer of 30/5: a (20/2), c (none), h (10/1), i and j (5/1)
    assert {k for k, v in status.items() if v.startswith("undetermined")} == set("achij")
    assert {k for k, v in status.items() if v == "not eligible (speed)"} == set("bdefg")
    region = result.summary.loc[("2023", "region")]
    assert (region["eligible_addresses"], region["undetermined_addresses"]) == (0, 3)
    assert result.clusters.empty
    assert any("no zone column" in str(p) for p in result.problems)


def test_an_empty_zone_column_is_no_zone(boundaries):
    """DAWA's reader keeps an empty 'zone' when its file has none: the pool says the data hold
    no zone (and what that means for the counts), not that some addresses lack one."""
    households = _households(zone=False).assign(zone=None)
    evidence = gather_evidence(households, boundaries, fixed_offers=_offers("fixed"))
    result = assess_pool(evidence, boundaries, PROVENANCE)
    (problem,) = [p for p in result.problems if "zone" in p.message]
    assert "the zone column 'zone' is empty" in problem.message
    assert "lower bound" in problem.message and problem.count == len(households)


def test_without_town_sizes_byzone_is_undetermined(boundaries):
    result = assess_pool(_evidence(boundaries), boundaries, PROVENANCE)
    status = _status(result, "2024")
    assert [status[k] for k in "efg"] == ["undetermined (town size unknown)"] * 3
    assert _status(result, "2023")["e"] == "not eligible (zone)"
    assert any("no town sizes were given" in str(p) for p in result.problems)


def test_without_mobile_speeds_the_mobile_condition_excludes_nobody(boundaries):
    result = assess_pool(_evidence(boundaries, mobile=False), boundaries, PROVENANCE)
    assert _status(result, "2024")["c"] == "eligible"
    assert any("no mobile speeds were given" in str(p) for p in result.problems)


def test_bad_inputs_are_clear(boundaries):
    h = _households()
    with pytest.raises(ConfigError, match="holds none"):
        assess_pool(gather_evidence(h, boundaries), boundaries, PROVENANCE)
    with pytest.raises(SchemaError, match="no town-population column"):
        assess_pool(
            _evidence(boundaries), boundaries, PROVENANCE, PoolSpec(town_population_column="x2")
        )
    with pytest.raises(ConfigError, match="unknown pool rule set"):
        get_pool_rules("2019")
    with pytest.raises(ConfigError, match="compare must name two"):
        PoolSpec(compare=("2023", "2025"))
    with pytest.raises(ConfigError, match="zones must be among"):
        PoolRuleSet("x", fixed_down_mbps=10, zones=("bykerne",))


def test_custom_rule_set_and_unrecognised_zones(boundaries):
    h = _households()
    h.loc[0, "zone"] = "Bymidte"
    evidence = gather_evidence(h, boundaries, fixed_offers=_offers("fixed"))
    generous = PoolRuleSet("all zones", fixed_down_mbps=1000, zones=("byzone", "landzone"))
    result = assess_pool(
        evidence, boundaries, PROVENANCE, PoolSpec(rule_sets=(POOL_2023, generous))
    )
    status = _status(result, "all zones")
    assert status["a"] == "undetermined (zone unknown)"
    assert status["f"] == "eligible"  # byzone allowed outright, town size irrelevant
    assert status["c"] == "not eligible (zone)"  # summer houses not in this rule
    assert any("Bymidte" in str(p) for p in result.problems)


def test_inputs_are_not_modified(boundaries):
    evidence = _evidence(boundaries)
    before = evidence.households.copy()
    assess_pool(evidence, boundaries, PROVENANCE, PoolSpec(town_population_column="town"))
    pd.testing.assert_frame_equal(evidence.households, before)


def _reference_clusters(points, distance):
    n = len(points)
    label = [-1] * n
    current = 0
    for start in range(n):
        if label[start] >= 0:
            continue
        label[start] = current
        stack = [start]
        while stack:
            i = stack.pop()
            for j in range(n):
                if label[j] < 0 and np.hypot(*np.subtract(points[i], points[j])) <= distance:
                    label[j] = current
                    stack.append(j)
        current += 1
    return label


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 3000), st.integers(0, 3000)), min_size=0, max_size=40),
    st.sampled_from([0.0, 250.0, 500.0, 1000.0]),
)
def test_clusters_match_a_breadth_first_reference(points, distance):
    x = np.array([p[0] for p in points], dtype=float)
    y = np.array([p[1] for p in points], dtype=float)
    assert cluster_labels(x, y, distance).tolist() == _reference_clusters(points, distance)


def test_rule_descriptions():
    assert POOL_2023.describe() == (
        "Bredbåndspuljen 2023: no fixed offer ≥ 30/5 Mbit/s; landzone, sommerhusområde"
    )


def test_only_selected_municipalities_get_rows(boundaries):
    chosen = boundaries.assign(selected=[True, False])
    evidence = gather_evidence(
        _households(), chosen, fixed_offers=_offers("fixed"), mobile_offers=_offers("mobile")
    )
    result = assess_pool(evidence, chosen, PROVENANCE, PoolSpec(town_population_column="town"))
    s = result.summary
    assert s.loc["2024"].index.tolist() == ["0001", "region"]
    # region = 0001 only: a and b eligible (3 households); e in 0002 is left out
    assert s.loc[("2024", "region"), ["eligible_addresses", "eligible_households"]].tolist() == [
        2,
        3,
    ]
    assert result.clusters.set_index("rule_set").loc["2024", "addresses"] == 2

"""Mast siting: lazy greedy maximal covering against exhaustive search and by hand."""

from __future__ import annotations

import itertools
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from coverage_gap import DK_100_30, ConfigError, Provenance
from coverage_gap.errors import CRSError, SchemaError
from coverage_gap.siting import (
    GREEDY_GUARANTEE,
    SitingSpec,
    candidate_grid,
    choose_sites,
    coverage_matrix,
    greedy_max_cover,
)

PROVENANCE = Provenance(DK_100_30, "households", 2026, "test")


def _optimum(sets, weights, k):
    """Best total weight of k sets, by trying every combination."""
    best = 0.0
    for combo in itertools.combinations(range(len(sets)), min(k, len(sets))):
        covered = set().union(*(sets[i] for i in combo)) if combo else set()
        best = max(best, sum(weights[j] for j in covered))
    return best


def _naive_greedy(sets, weights, k, covered=()):
    """Plain greedy (every gain recomputed each round), ties to the lower index."""
    covered = set(covered)
    chosen, gains = [], []
    for _ in range(k):
        best, best_gain = None, 0.0
        for i, s in enumerate(sets):
            gain = sum(weights[j] for j in s - covered)
            if gain > best_gain:
                best, best_gain = i, gain
        if best is None:
            break
        chosen.append(best)
        gains.append(best_gain)
        covered |= sets[best]
    return chosen, gains


def _matrix(sets, n):
    rows = [i for i, s in enumerate(sets) for _ in s]
    cols = [j for s in sets for j in sorted(s)]
    return sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(sets), n))


instances = st.integers(1, 9).flatmap(
    lambda n: st.tuples(
        st.lists(st.frozensets(st.integers(0, n - 1), max_size=n), min_size=1, max_size=7),
        st.lists(st.integers(0, 9).map(float), min_size=n, max_size=n),
        st.integers(0, 4),
    )
)


@settings(max_examples=150, deadline=None)
@given(instances)
def test_greedy_is_lazy_greedy_and_within_the_guarantee(instance):
    sets, weights, k = instance
    sets = [set(s) for s in sets]
    w = np.array(weights)
    result = greedy_max_cover(_matrix(sets, len(w)), w, k)
    chosen, gains = _naive_greedy(sets, weights, k)
    assert result.chosen.tolist() == chosen
    assert result.gains.tolist() == gains
    assert all(a >= b for a, b in itertools.pairwise(result.gains))  # gains never increase
    best = _optimum(sets, weights, k)
    total = float(result.gains.sum())
    assert total >= GREEDY_GUARANTEE * best - 1e-9
    assert result.online_upper_bound >= best - 1e-9
    assert total / GREEDY_GUARANTEE >= best - 1e-9


@settings(max_examples=80, deadline=None)
@given(instances, st.frozensets(st.integers(0, 8)))
def test_existing_coverage_counts_first(instance, already):
    sets, weights, k = instance
    sets = [set(s) for s in sets]
    n = len(weights)
    covered = np.zeros(n, dtype=bool)
    covered[[j for j in already if j < n]] = True
    result = greedy_max_cover(_matrix(sets, n), np.array(weights), k, covered=covered)
    chosen, gains = _naive_greedy(sets, weights, k, covered=np.flatnonzero(covered))
    assert (result.chosen.tolist(), result.gains.tolist()) == (chosen, gains)
    assert result.covered[covered].all()


@settings(max_examples=80, deadline=None)
@given(instances)
def test_greedy_is_optimal_for_one_site_and_for_disjoint_sets(instance):
    sets, weights, k = instance
    sets = [set(s) for s in sets]
    w = np.array(weights)
    one = greedy_max_cover(_matrix(sets, len(w)), w, 1)
    assert float(one.gains.sum()) == _optimum(sets, weights, 1)
    # make the sets disjoint: each element stays only in the first set that had it
    seen: set[int] = set()
    disjoint = []
    for s in sets:
        disjoint.append(s - seen)
        seen |= s
    result = greedy_max_cover(_matrix(disjoint, len(w)), w, k)
    assert float(result.gains.sum()) == _optimum(disjoint, weights, k)


def test_greedy_can_miss_the_optimum_and_the_bounds_say_so():
    # S0 = {a b c d}, S1 = {a b e}, S2 = {c d f}, unit weights, k = 2:
    # greedy takes S0 (4) then S1 or S2 (+1) = 5; the optimum is S1 + S2 = 6.
    sets = [{0, 1, 2, 3}, {0, 1, 4}, {2, 3, 5}]
    c = pd.DataFrame(
        {"x": [0.0, 1.0, 2.0, 3.0, 4.0, 5.0], "y": 0.0, "households": 1, "underserved": True}
    )
    c.attrs["crs"] = "EPSG:25832"
    sites = pd.DataFrame({"site_id": ["S0", "S1", "S2"], "x": 0.0, "y": 0.0})
    sites.attrs["crs"] = "EPSG:25832"
    result = choose_sites(
        c,
        PROVENANCE,
        SitingSpec(sites=2, radius_m=1, exact=True),
        candidates=sites,
        coverage=_matrix(sets, 6),
    )
    assert result.sites["site_id"].tolist() == ["S0", "S1"]
    assert result.sites["newly_covered_households"].tolist() == [4, 1]
    b = result.bounds
    assert (b.greedy_households, b.optimum) == (5.0, 6.0)
    assert b.lp_upper_bound >= 6.0
    assert b.upper_bound == 6.0
    assert b.greedy_share == pytest.approx(5 / 6)
    assert b.guarantee_upper_bound == pytest.approx(5 / (1 - 1 / math.e))


@settings(max_examples=60, deadline=None)
@given(instances)
def test_lp_and_exact_solution_bracket_the_optimum(instance):
    sets, weights, k = instance
    sets = [set(s) for s in sets]
    n = len(weights)
    c = pd.DataFrame({"x": np.arange(n, dtype=float), "y": 0.0, "households": weights})
    c["households"] = c["households"].astype(int)
    c["underserved"] = True
    c.attrs["crs"] = "EPSG:25832"
    sites = pd.DataFrame({"x": np.zeros(len(sets)), "y": 0.0})
    sites.attrs["crs"] = "EPSG:25832"
    result = choose_sites(
        c,
        PROVENANCE,
        SitingSpec(sites=k, radius_m=1, exact=True),
        candidates=sites,
        coverage=_matrix(sets, n),
    )
    best = _optimum(sets, weights, k)
    b = result.bounds
    assert b.optimum == pytest.approx(best)
    assert b.lp_upper_bound >= best - 1e-7
    assert b.greedy_households <= best + 1e-9
    assert b.greedy_share >= GREEDY_GUARANTEE - 1e-9


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 50), st.integers(0, 50)), min_size=1, max_size=8),
    st.lists(st.tuples(st.integers(0, 50), st.integers(0, 50)), min_size=1, max_size=25),
    st.sampled_from([0.0, 5.0, 10.0, 20.0]),
)
def test_coverage_matrix_matches_distances(sites, clients, radius):
    s = np.array(sites, dtype=float)
    c = np.array(clients, dtype=float)
    m = coverage_matrix(s[:, 0], s[:, 1], c[:, 0], c[:, 1], radius).toarray()
    expected = np.hypot(*(s[:, None, :] - c[None, :, :]).transpose(2, 0, 1)) <= radius
    assert (m.astype(bool) == expected).all()


@pytest.fixture
def line():
    # demand along the x axis; p6 is served (no demand), p7 lies outside every municipality
    c = pd.DataFrame(
        {
            "address_id": [f"p{i}" for i in range(1, 8)],
            "x": [0.0, 100.0, 5000.0, 5100.0, 9000.0, 9050.0, 20000.0],
            "y": 0.0,
            "households": [1, 1, 3, 1, 1, 2, 1],
            "underserved": [True, True, True, True, True, False, True],
            "assignment": ["inside"] * 6 + ["unassigned"],
        }
    )
    c.attrs["crs"] = "EPSG:25832"
    return c


def _points(ids, xs):
    return gpd.GeoDataFrame(
        {"site_id": ids}, geometry=gpd.points_from_xy(xs, [0.0] * len(xs)), crs="EPSG:25832"
    )


def test_choose_sites_by_hand(line):
    candidates = _points(["west", "middle", "east", "far"], [50.0, 5050.0, 9000.0, 30000.0])
    existing = _points(["mast"], [9100.0])
    result = choose_sites(
        line,
        PROVENANCE,
        SitingSpec(sites=3, radius_m=100),
        candidates=candidates,
        existing=existing,
    )
    s = result.sites
    # the mast covers p5 (100 m away: inclusive); then middle (p3 p4: 4), west (p1 p2: 2);
    # east would add nothing, so greedy stops after two new sites
    assert s["rank"].tolist() == [0, 1, 2]
    assert s["site_id"].tolist() == ["mast", "middle", "west"]
    assert s["existing"].tolist() == [True, False, False]
    assert s["newly_covered_households"].tolist() == [1, 4, 2]
    assert s["cumulative_covered_households"].tolist() == [1, 5, 7]
    assert s["newly_covered_addresses"].tolist() == [1, 2, 2]
    assert s["cumulative_share"].tolist() == [1 / 7, 5 / 7, 1.0]
    assert s[["x", "y"]].values.tolist() == [[9100.0, 0.0], [5050.0, 0.0], [50.0, 0.0]]
    assert (s["service_standard"] == DK_100_30.describe()).all()
    assert (result.demand_households, result.demand_addresses) == (7, 5)
    assert result.reachable_households == 7
    assert result.covered_by.tolist() == [2, 2, 1, 1, 0, pd.NA, pd.NA]
    assert result.bounds.greedy_households == 6
    assert result.bounds.upper_bound == 6
    assert "not counted in any municipality" in str(result.problems[0])


def test_explicit_coverage_equals_the_radius(line):
    candidates = _points(["west", "middle", "east"], [50.0, 5050.0, 9000.0])
    by_radius = choose_sites(
        line, PROVENANCE, SitingSpec(sites=2, radius_m=100), candidates=candidates
    )
    cover = coverage_matrix(
        np.array([50.0, 5050.0, 9000.0]),
        np.zeros(3),
        line["x"].to_numpy(),
        line["y"].to_numpy(),
        100,
    )
    # stored values other than 1 (e.g. a signal) only mean "covered"
    cover = cover.astype(float) * -95.0
    explicit = choose_sites(
        line, PROVENANCE, SitingSpec(sites=2, radius_m=0), candidates=candidates, coverage=cover
    )
    pd.testing.assert_frame_equal(by_radius.sites, explicit.sites)


def test_grid_candidates(line):
    grid = candidate_grid((0, 0, 2500, 1000), 1000)
    assert grid["site_id"].tolist() == ["1km_0_0", "1km_0_1", "1km_0_2"]
    assert grid[["x", "y"]].values.tolist() == [[500, 500], [1500, 500], [2500, 500]]
    odd = candidate_grid((0, 0, 700, 300), 300)
    assert odd["site_id"].tolist() == ["grid300m_150_150", "grid300m_150_450"]
    land = gpd.GeoSeries([shapely.box(0, 0, 1000, 1000)], crs="EPSG:25832")
    assert candidate_grid((0, 0, 2500, 1000), 1000, within=land)["site_id"].tolist() == ["1km_0_0"]
    c = pd.DataFrame(
        {
            "x": [1000.0, 1100.0, 6000.0, 6100.0, 10000.0],
            "y": 500.0,
            "households": [1, 1, 3, 1, 1],
            "underserved": True,
        }
    )
    c.attrs["crs"] = "EPSG:25832"
    result = choose_sites(
        c, PROVENANCE, SitingSpec(sites=2, radius_m=600, candidate_spacing_m=1000)
    )
    # cell centres on y = 500 within 600 m of demand: x = 500 and 1500 (p1 p2), 5500 and
    # 6500 (p3 p4), 9500 and 10500 (p5); ties go to the first (westernmost)
    assert result.candidates == 6
    assert result.sites["site_id"].tolist() == ["1km_0_5", "1km_0_0"]
    assert result.sites["newly_covered_households"].tolist() == [4, 2]


def test_bad_inputs_are_clear(line):
    candidates = _points(["a"], [0.0])
    with pytest.raises(ConfigError, match="candidate_spacing_m"):
        choose_sites(line, PROVENANCE, SitingSpec(sites=1, radius_m=10))
    with pytest.raises(ConfigError, match="need the candidate sites"):
        choose_sites(
            line, PROVENANCE, SitingSpec(sites=1, radius_m=10), coverage=sp.csr_matrix((1, 7))
        )
    with pytest.raises(ConfigError, match="one row per site"):
        choose_sites(
            line,
            PROVENANCE,
            SitingSpec(sites=1, radius_m=10),
            candidates=candidates,
            coverage=sp.csr_matrix((1, 3)),
        )
    with pytest.raises(SchemaError, match="no demand column"):
        choose_sites(
            line, PROVENANCE, SitingSpec(sites=1, radius_m=10, demand="nope"), candidates=candidates
        )
    with pytest.raises(CRSError):
        choose_sites(
            line,
            PROVENANCE,
            SitingSpec(sites=1, radius_m=10),
            candidates=candidates.set_crs("EPSG:4326", allow_override=True),
        )
    plain = pd.DataFrame({"x": [0.0], "y": [0.0]})
    with pytest.raises(CRSError, match="no CRS"):
        choose_sites(line, PROVENANCE, SitingSpec(sites=1, radius_m=10), candidates=plain)
    with pytest.raises(ConfigError, match="radius_m"):
        SitingSpec(sites=1, radius_m=-1)
    with pytest.raises(ConfigError, match="sites must be"):
        SitingSpec(sites=1.5, radius_m=1)  # type: ignore[arg-type]


def test_lp_size_limit_is_reported(line):
    candidates = _points(["west", "middle"], [50.0, 5050.0])
    result = choose_sites(
        line,
        PROVENANCE,
        SitingSpec(sites=1, radius_m=100, lp_max_nonzeros=3),
        candidates=candidates,
    )
    assert result.bounds.lp_upper_bound is None
    assert "lp_max_nonzeros" in result.bounds.lp_note


def test_inputs_are_not_modified(line):
    candidates = _points(["west", "middle"], [50.0, 5050.0])
    before, sites_before = line.copy(), candidates.copy()
    choose_sites(line, PROVENANCE, SitingSpec(sites=2, radius_m=100), candidates=candidates)
    pd.testing.assert_frame_equal(line, before)
    pd.testing.assert_frame_equal(candidates, sites_before)


def test_stale_gains_are_refreshed_before_a_choice():
    # After S0, S1's stale gain (4) tops the queue but it now adds only 1; S2 adds 2.
    sets = [{0, 1, 2, 3}, {0, 1, 2, 4}, {5, 6}]
    result = greedy_max_cover(_matrix(sets, 7), np.ones(7), 2)
    assert result.chosen.tolist() == [0, 2]
    assert result.gains.tolist() == [4.0, 2.0]


def test_clients_reached_by_the_same_sites_are_merged_exactly():
    from coverage_gap.siting import _merge_clients

    # clients 0 and 2 are reached by sites {0, 1}, clients 1 and 3 by {1}, client 4 by {0}
    m = sp.csc_matrix(np.array([[1, 0, 1, 0, 1], [1, 1, 1, 1, 0]]))
    merged, w = _merge_clients(m, np.array([1.0, 2.0, 3.0, 4.0, 5.0]))
    columns = {tuple(np.flatnonzero(merged[:, j].toarray().ravel())): w[j] for j in range(3)}
    assert columns == {(0, 1): 4.0, (1,): 6.0, (0,): 5.0}

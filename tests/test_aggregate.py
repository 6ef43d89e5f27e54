"""Hand-checked tables for the twelve-address world."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from coverage_gap import Provenance, ServiceStandard, classify_households, reconcile, summarize_gap
from coverage_gap.aggregate import wilson_interval

STANDARD = ServiceStandard("100/30", fixed_down_mbps=100, fixed_up_mbps=30, mobile_min_dbm=-105)


@pytest.fixture
def classified(households, municipalities, offers, rasters):
    return classify_households(
        households, municipalities, STANDARD, fixed_offers=offers, mobile_rasters=rasters
    )


def test_table_by_hand(classified, municipalities):
    table = summarize_gap(
        classified, municipalities, Provenance(STANDARD, data_year=2026, source="test")
    )
    assert list(table.index) == ["0001", "0002", "region"]
    # 0001: h1 h2 h4 h7 h8 h12 = 1+2+3+4+2+5 households; not served h2 h4 h12 = 2+3+5
    # 0002: h3 h5 h6 h9 = 4 households; not served h3 h6; no mobile h6 h9; both h6
    expected = {
        "addresses": [6, 4, 10],
        "households": [17, 4, 21],
        "underserved_households": [10, 2, 12],
        "fixed_unserved_households": [10, 2, 12],
        "mobile_unserved_households": [3, 2, 5],
        "unserved_both_households": [3, 1, 4],
    }
    for column, values in expected.items():
        assert table[column].tolist() == values, column
    np.testing.assert_allclose(table["underserved_share"], [10 / 17, 2 / 4, 12 / 21])
    assert table.loc["region", "municipality_name"] == "All municipalities"
    assert (table["data_year"] == "2026").all()
    assert table["service_standard"].str.contains("100/30").all()
    assert (table["denominator"] == "households").all()


def _wilson_by_quadratic(k: float, n: float, z: float = 1.959963984540054) -> tuple[float, float]:
    # Independent form: the roots in p of (p_hat - p)^2 = z^2 p (1 - p) / n.
    p_hat = k / n
    a = 1 + z * z / n
    b = -(2 * p_hat + z * z / n)
    c = p_hat * p_hat
    disc = math.sqrt(b * b - 4 * a * c)
    return (-b - disc) / (2 * a), (-b + disc) / (2 * a)


@pytest.mark.parametrize(("k", "n"), [(12, 21), (0, 5), (5, 5), (190, 3779), (1, 2)])
def test_wilson_matches_the_quadratic_form(k, n):
    low, high = wilson_interval(np.array([k]), np.array([n]))
    exp_low, exp_high = _wilson_by_quadratic(k, n)
    assert low[0] == pytest.approx(max(exp_low, 0), abs=1e-12)
    assert high[0] == pytest.approx(min(exp_high, 1), abs=1e-12)


def test_wilson_empty_is_nan():
    low, high = wilson_interval(np.array([0.0]), np.array([0.0]))
    assert np.isnan(low[0]) and np.isnan(high[0])


def test_reconciliation_by_hand(classified):
    table = reconcile(classified)
    assert table.loc["inside"].tolist() == [9, 20]
    assert table.loc["nearest"].tolist() == [1, 1]
    assert table.loc["unassigned"].tolist() == [1, 1]
    assert table.loc["invalid"].tolist() == [1, 1]
    assert table.loc["total"].tolist() == [12, 23]


def test_service_not_assessed_gives_missing_counts(households, municipalities, offers):
    classified = classify_households(households, municipalities, STANDARD, fixed_offers=offers)
    table = summarize_gap(classified, municipalities, Provenance(STANDARD))
    assert table["mobile_unserved_households"].isna().all()
    assert table["unserved_both_households"].isna().all()
    assert table["fixed_unserved_households"].tolist() == [10, 2, 12]


def test_municipality_without_households_gets_a_row(classified, municipalities):
    import geopandas as gpd
    import shapely

    more = pd.concat(
        [
            municipalities,
            gpd.GeoDataFrame(
                {"municipality_code": ["0003"], "municipality_name": ["Cby"]},
                geometry=[shapely.box(9000, 0, 9100, 100)],
                crs="EPSG:25832",
            ),
        ],
        ignore_index=True,
    )
    table = summarize_gap(classified, more, Provenance(STANDARD))
    assert table.loc["0003", "households"] == 0
    assert np.isnan(table.loc["0003", "underserved_share"])
    assert table.loc["region", "households"] == 21


def test_provenance_footer_in_danish():
    footer = Provenance(STANDARD, "dwellings", 2026, "BBK").footer("da")
    assert "Nævner: boliger" in footer and "underforsynet" in footer


@pytest.mark.parametrize("n", [1, 5, 10, 17, 20, 33, 100])
def test_wilson_interval_contains_the_share_at_the_extremes(n):
    from coverage_gap.aggregate import wilson_interval

    for k in (0, n):
        low, high = wilson_interval(float(k), float(n))
        assert low[0] <= k / n <= high[0]
        assert (low[0] == 0.0) if k == 0 else (high[0] == 1.0)

"""Hand-checked classification of the twelve-address world in conftest.py."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from coverage_gap import (
    DK_100_30,
    ConfigError,
    MunicipalityIndex,
    ServiceStandard,
    classify,
    classify_households,
    gather_evidence,
)
from coverage_gap.assign import assign_municipalities
from coverage_gap.errors import CRSError, RasterError
from coverage_gap.evidence import best_signal, match_offers
from coverage_gap.layers import SignalRaster, to_geodataframe

STANDARD = ServiceStandard("100/30", fixed_down_mbps=100, fixed_up_mbps=30, mobile_min_dbm=-105)

EXPECTED_CODE = [
    "0001",
    "0001",
    "0002",
    "0001",
    "0002",
    "0002",
    "0001",
    "0001",
    "0002",
    None,
    None,
    "0001",
]
EXPECTED_ASSIGNMENT = ["inside"] * 8 + ["nearest", "unassigned", "invalid", "inside"]
EXPECTED_FIXED = [True, False, False, False, True, False, True, True, True, True, False, False]
EXPECTED_SIGNAL = [-90, -90, -100, -110, -95, -106, -100, -104, np.nan, np.nan, np.nan, -104]
EXPECTED_MOBILE = [True, True, True, False, True, False, True, True, False, False, False, True]


def test_assignment_by_hand(households, municipalities):
    result = assign_municipalities(households, municipalities)
    assert list(result.index) == list(households.index)
    codes = [None if pd.isna(c) else c for c in result["municipality_code"]]
    assert codes == EXPECTED_CODE
    assert result["assignment"].tolist() == EXPECTED_ASSIGNMENT
    np.testing.assert_allclose(result["distance_m"].to_numpy(), [0] * 8 + [100, np.nan, np.nan, 0])


def test_prepared_index_gives_the_same_assignment(households, municipalities):
    index = MunicipalityIndex.build(municipalities)
    for _ in range(2):  # reused
        result = assign_municipalities(households, index)
        codes = [None if pd.isna(c) else c for c in result["municipality_code"]]
        assert codes == EXPECTED_CODE
        assert result["assignment"].tolist() == EXPECTED_ASSIGNMENT
    with pytest.raises(CRSError, match="differs"):
        assign_municipalities(households, MunicipalityIndex.build(municipalities.to_crs(4326)))


def test_classify_gathered_evidence_by_hand(households, municipalities, offers, rasters):
    evidence = gather_evidence(
        households, municipalities, fixed_offers=offers, mobile_rasters=rasters
    )
    # the offer for "zz" matches no household
    assert evidence.fixed.unmatched == 1 and evidence.fixed.unmatched_ids == ("zz",)
    assert [p.count for p in evidence.problems] == [1, 2, 2]
    # h9 (3100, 500) and h10 (5000, 500) lie outside both rasters (0..3000): said, once each
    assert all("outside the extent" in p.message for p in evidence.problems[1:])
    result = classify(evidence, STANDARD)
    assert result["fixed_served"].tolist() == EXPECTED_FIXED
    assert result["mobile_served"].tolist() == EXPECTED_MOBILE
    # a lower bar on the same evidence: 10/1 also serves h2 (500/20), h6 (99.9/100) and
    # h12 (100/29.99); h3 (upload unknown), h4 (no offer) and h11 still are not
    lenient = STANDARD.with_rule("no_fixed", fixed_down_mbps=10, fixed_up_mbps=1)
    assert classify(evidence, lenient)["fixed_served"].tolist() == [
        True, True, False, False, True, True, True, True, True, True, False, True
    ]  # fmt: skip


def test_matched_offers_must_belong_to_the_households(households, municipalities, offers):
    matched = match_offers(offers, households.iloc[:5])
    with pytest.raises(ConfigError, match="match_offers"):
        gather_evidence(households, municipalities, fixed_offers=matched)


def test_tolerance_zero_leaves_outside_points_unassigned(households, municipalities):
    result = assign_municipalities(households, municipalities, tolerance_m=0)
    assert result["assignment"].tolist()[8] == "unassigned"


def test_shared_border_goes_to_the_first_listed(households, municipalities):
    reversed_order = municipalities.iloc[::-1].reset_index(drop=True)
    result = assign_municipalities(households, reversed_order)
    # h8 lies on x = 1500: with 0002 listed first it goes to 0002.
    assert result["municipality_code"].iloc[7] == "0002"


def judge(households, standard, **evidence):
    """Judge service without placing the households (municipalities=None)."""
    evidence.setdefault("min_match_share", 0.0)
    return classify(gather_evidence(households, None, **evidence), standard)


def test_fixed_service_by_hand(households, offers):
    result = judge(households, STANDARD, fixed_offers=offers)
    assert result["fixed_served"].tolist() == EXPECTED_FIXED
    # h2: best download 500 (cable), best upload 50 (xdsl), still not served
    assert result.loc["row1", ["fixed_down_mbps", "fixed_up_mbps"]].tolist() == [500.0, 50.0]
    assert np.isnan(result.loc["row3", "fixed_down_mbps"])  # h4 has no offer


def test_missing_upload_option(households, offers):
    lenient = ServiceStandard(
        "x", fixed_down_mbps=100, fixed_up_mbps=30, missing_upload="download_only"
    )
    strict = judge(households, STANDARD, fixed_offers=offers)["fixed_served"]
    relaxed = judge(households, lenient, fixed_offers=offers)["fixed_served"]
    assert (relaxed != strict).tolist() == [i == 2 for i in range(12)]  # only h3 changes


def test_fixed_polygons_add_offers(households, offers):
    area = gpd.GeoDataFrame(
        {"down_mbps": [200.0], "up_mbps": [50.0]},
        geometry=[shapely.box(2000, 1000, 3000, 2000)],
        crs="EPSG:25832",
    )
    result = judge(households, STANDARD, fixed_offers=offers, fixed_areas=area)
    expected = list(EXPECTED_FIXED)
    expected[5] = True  # h6 (2500, 1500) lies in the area
    assert result["fixed_served"].tolist() == expected
    only_area = judge(households, STANDARD, fixed_areas=area)["fixed_served"]
    # h5 (1800, 1500) lies outside, h6 inside; the corner (2000, 1000) counts as inside
    assert only_area.tolist() == [i == 5 for i in range(12)]


def test_best_signal_by_hand(households, rasters):
    np.testing.assert_array_equal(best_signal(households, rasters).to_numpy(), EXPECTED_SIGNAL)


def test_mobile_service_by_hand(households, rasters):
    result = judge(households, STANDARD.with_rule("no_mobile"), mobile_rasters=rasters)
    assert result["mobile_served"].tolist() == EXPECTED_MOBILE
    # without municipalities every household is unassigned, or invalid without a point
    assert result["assignment"].tolist() == ["unassigned"] * 10 + ["invalid", "unassigned"]


def test_mobile_without_evidence_is_missing_not_false(households, offers):
    result = judge(households, STANDARD.with_rule("no_fixed"), fixed_offers=offers)
    assert result["mobile_served"].isna().all()


def test_mobile_offers_and_polygons(households):
    standard = ServiceStandard("m", mobile_down_mbps=30, mobile_up_mbps=3, underserved="no_mobile")
    offers = pd.DataFrame(
        {"address_id": ["h1", "h2"], "down_mbps": [50.0, 20.0], "up_mbps": [5.0, 5.0]}
    )
    area = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 1000, 1000)], crs="EPSG:25832")
    # two of twelve addresses have mobile offers: a partial table, accepted on purpose
    result = judge(households, standard, mobile_offers=offers, mobile_areas=area)
    # h1 by its offer; h7 and h12 (corner) by the polygon without attributes
    assert result["mobile_served"].tolist() == [i in (0, 6, 11) for i in range(12)]


def test_classify_by_hand(households, municipalities, offers, rasters):
    result = classify_households(
        households, municipalities, STANDARD, fixed_offers=offers, mobile_rasters=rasters
    )
    assert list(result.index) == list(households.index)
    assert result["underserved"].tolist() == [not f for f in EXPECTED_FIXED]
    both = STANDARD.with_rule("no_fixed_and_no_mobile")
    result = classify_households(
        households, municipalities, both, fixed_offers=offers, mobile_rasters=rasters
    )
    expected = [not f and not m for f, m in zip(EXPECTED_FIXED, EXPECTED_MOBILE, strict=True)]
    assert result["underserved"].tolist() == expected
    # the input was not modified
    assert list(households.columns) == ["address_id", "households", "x", "y"]


def test_classify_accepts_a_geodataframe(households, municipalities, offers):
    points = to_geodataframe(households).drop(columns=["x", "y"])
    result = classify_households(points, municipalities, STANDARD, fixed_offers=offers)
    assert result["fixed_served"].tolist() == EXPECTED_FIXED
    assert result["assignment"].tolist() == EXPECTED_ASSIGNMENT


def test_rule_needing_mobile_without_mobile_data_is_an_error(households, municipalities, offers):
    with pytest.raises(ConfigError, match="mobile"):
        classify_households(
            households,
            municipalities,
            STANDARD.with_rule("no_fixed_and_no_mobile"),
            fixed_offers=offers,
        )


def test_layers_in_another_crs_are_refused(households, municipalities, rasters):
    with pytest.raises(CRSError, match="differs"):
        assign_municipalities(households, municipalities.to_crs(4326))
    other = SignalRaster("x", rasters[0].values, rasters[0].transform, "EPSG:3035")
    with pytest.raises(RasterError, match="differs"):
        best_signal(households, [other])


def test_raster_that_misses_every_household_is_an_error(households, rasters):
    from affine import Affine

    far = SignalRaster(
        "far", rasters[0].values, Affine(1000, 0, 900000, 0, -1000, 3000), "EPSG:25832"
    )
    with pytest.raises(RasterError, match="overlaps none"):
        best_signal(households, [far])


def test_preset_standard_100_30(households, offers):
    assert (
        judge(households, DK_100_30, fixed_offers=offers)["fixed_served"].tolist() == EXPECTED_FIXED
    )

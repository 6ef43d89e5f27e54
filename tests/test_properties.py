"""Property tests: the vectorised classification agrees with a one-at-a-time reference on
random inputs (points on polygon edges and raster cell edges included), households are
conserved, shares stay in [0, 1], and row order does not matter."""

from __future__ import annotations

import warnings
from dataclasses import replace

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coverage_gap import (
    MunicipalityIndex,
    Provenance,
    ServiceStandard,
    classify,
    classify_households,
    gather_evidence,
    reconcile,
    summarize_gap,
)
from coverage_gap.evidence import match_offers
from coverage_gap.layers import SignalRaster

from .reference import reference_classify

CELL = 100.0


@st.composite
def worlds(draw):
    """Triangles and boxes on a 100 m lattice; points on a 50 m lattice (so many lie exactly
    on edges, vertices and raster cell borders), some outside, some without coordinates."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    nx, ny = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    polygons, codes = [], []
    for i in range(nx):
        for j in range(ny):
            x0, y0 = i * 300.0, j * 300.0
            if rng.random() < 0.5:
                polygons.append(shapely.box(x0, y0, x0 + 300, y0 + 300))
            else:  # two triangles: a diagonal edge
                polygons.append(shapely.Polygon([(x0, y0), (x0 + 300, y0), (x0, y0 + 300)]))
                codes.append(f"{len(codes):04d}")
                polygons.append(
                    shapely.Polygon([(x0 + 300, y0), (x0 + 300, y0 + 300), (x0, y0 + 300)])
                )
            codes.append(f"{len(codes):04d}")
    keep = rng.random(len(polygons)) < 0.85  # holes in the map: unassigned and nearest
    keep[0] = True
    polygons = [p for p, k in zip(polygons, keep, strict=True) if k]
    codes = [c for c, k in zip(codes, keep, strict=True) if k]
    order = rng.permutation(len(polygons))
    municipalities = gpd.GeoDataFrame(
        {
            "municipality_code": [codes[i] for i in order],
            "municipality_name": [f"m{codes[i]}" for i in order],
        },
        geometry=[polygons[i] for i in order],
        crs="EPSG:25832",
    )

    n = draw(st.integers(1, 60))
    x = rng.integers(-8, nx * 6 + 8, n) * 50.0
    y = rng.integers(-8, ny * 6 + 8, n) * 50.0
    x[rng.random(n) < 0.05] = np.nan
    households = pd.DataFrame(
        {
            "address_id": [f"a{i}" for i in range(n)],
            "households": rng.integers(0, 6, n),
            "x": x,
            "y": y,
        }
    )
    households.attrs["crs"] = "EPSG:25832"

    m = draw(st.integers(0, 2 * n))
    offers = pd.DataFrame(
        {
            "address_id": [f"a{i}" for i in rng.integers(0, n + 3, m)],  # some unknown ids
            "down_mbps": rng.choice([10.0, 99.0, 100.0, 500.0], m),
            "up_mbps": rng.choice([np.nan, 5.0, 29.0, 30.0, 100.0], m),
        }
    )

    rasters = []
    for k in range(draw(st.integers(1, 3))):
        h, w = rng.integers(2, 12, 2)
        values = rng.choice([-120.0, -106.0, -105.0, -90.0, np.nan], (h, w)).astype("float32")
        ox, oy = rng.integers(-2, 4) * CELL, rng.integers(4, 12) * CELL
        rasters.append(
            SignalRaster(f"op{k}", values, Affine(CELL, 0, ox, 0, -CELL, oy), "EPSG:25832")
        )
    return households, municipalities, offers, rasters


STANDARD = ServiceStandard(
    "t",
    fixed_down_mbps=100,
    fixed_up_mbps=30,
    mobile_min_dbm=-105,
    underserved="no_fixed_and_no_mobile",
)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _visible_rasters(rasters, households):
    # A raster that overlaps no household is an input error; the reference has no such rule.
    x, y = households["x"].to_numpy(), households["y"].to_numpy()
    out = []
    for r in rasters:
        xmin, ymin, xmax, ymax = r.bounds
        if ((x >= xmin) & (x <= xmax) & (y >= ymin) & (y <= ymax)).any():
            out.append(r)
    return out


#: Random worlds test the computation, not the guards against wrong keys or CRSs.
NO_GUARDS = {"min_match_share": 0.0, "min_located_share": 0.0}


@SETTINGS
@given(worlds(), st.sampled_from([0.0, 60.0, 250.0]))
def test_agrees_with_reference(world, tolerance):
    households, municipalities, offers, rasters = world
    rasters = _visible_rasters(rasters, households)
    standard = STANDARD if rasters else STANDARD.with_rule("no_fixed")
    result = classify_households(
        households,
        municipalities,
        standard,
        fixed_offers=offers,
        mobile_rasters=rasters,
        tolerance_m=tolerance,
        **NO_GUARDS,
    )
    expected = reference_classify(households, municipalities, offers, rasters, STANDARD, tolerance)
    codes = [None if pd.isna(c) else c for c in result["municipality_code"]]
    assert codes == [e[0] for e in expected]
    assert result["assignment"].tolist() == [e[1] for e in expected]
    assert result["fixed_served"].tolist() == [e[2] for e in expected]
    if rasters:
        assert result["mobile_served"].tolist() == [e[3] for e in expected]
        np.testing.assert_array_equal(
            result["mobile_signal_dbm"].to_numpy(np.float64),
            np.array([e[4] for e in expected], dtype=np.float64),
        )


@SETTINGS
@given(worlds())
def test_households_conserved_and_shares_bounded(world):
    households, municipalities, offers, rasters = world
    rasters = _visible_rasters(rasters, households)
    standard = STANDARD if rasters else STANDARD.with_rule("no_fixed")
    result = classify_households(
        households,
        municipalities,
        standard,
        fixed_offers=offers,
        mobile_rasters=rasters,
        **NO_GUARDS,
    )
    table = summarize_gap(result, municipalities, Provenance(standard))
    rec = reconcile(result)
    assert rec.loc["total", "households"] == households["households"].sum()
    assert rec.loc["total", "addresses"] == len(households)
    assert table.loc["region", "households"] == rec.loc[["inside", "nearest"], "households"].sum()
    assert table["households"].iloc[:-1].sum() == table.loc["region", "households"]
    shares = table["underserved_share"].dropna()
    assert ((shares >= 0) & (shares <= 1)).all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert (table["share_ci_low"].dropna() <= shares + 1e-12).all()
        assert (table["share_ci_high"].dropna() >= shares - 1e-12).all()


@SETTINGS
@given(worlds(), st.randoms(use_true_random=False))
def test_row_order_does_not_matter(world, random):
    households, municipalities, offers, rasters = world
    rasters = _visible_rasters(rasters, households)
    order = list(range(len(households)))
    random.shuffle(order)
    shuffled = households.iloc[order]
    offers_shuffled = offers.sample(frac=1.0, random_state=random.randint(0, 1000))
    a = classify_households(
        households,
        municipalities,
        STANDARD.with_rule("no_fixed"),
        fixed_offers=offers,
        mobile_rasters=rasters,
        **NO_GUARDS,
    )
    b = classify_households(
        shuffled,
        municipalities,
        STANDARD.with_rule("no_fixed"),
        fixed_offers=offers_shuffled,
        mobile_rasters=rasters,
        **NO_GUARDS,
    )
    pd.testing.assert_frame_equal(a.loc[b.index], b)
    ta = summarize_gap(a, municipalities, Provenance(STANDARD))
    tb = summarize_gap(b, municipalities, Provenance(STANDARD))
    pd.testing.assert_frame_equal(ta, tb)


standards = st.builds(
    ServiceStandard,
    st.just("drawn"),
    fixed_down_mbps=st.sampled_from([10.0, 100.0, 500.0]),
    fixed_up_mbps=st.sampled_from([None, 5.0, 30.0]),
    mobile_min_dbm=st.sampled_from([-110.0, -105.0, -90.0]),
    missing_upload=st.sampled_from(["unserved", "download_only"]),
    underserved=st.sampled_from(["no_fixed", "no_fixed_and_no_mobile"]),
)


@SETTINGS
@given(worlds(), st.lists(standards, min_size=1, max_size=4))
def test_evidence_gathered_once_judges_every_standard(world, drawn):
    """One evidence, several standards: each classification agrees with the reference."""
    households, municipalities, offers, rasters = world
    rasters = _visible_rasters(rasters, households)
    evidence = gather_evidence(
        households,
        MunicipalityIndex.build(municipalities),
        fixed_offers=match_offers(offers, households, min_match_share=0.0),
        mobile_rasters=rasters,
        min_located_share=0.0,
    )
    best_down = offers.groupby("address_id")["down_mbps"].max()
    for standard in drawn:
        if not rasters:
            standard = standard.with_rule("no_fixed")
        result = classify(evidence, standard)
        expected = reference_classify(households, municipalities, offers, rasters, standard, 250)
        assert result["fixed_served"].tolist() == [e[2] for e in expected]
        if rasters:
            assert result["mobile_served"].tolist() == [e[3] for e in expected]
        served = [not (f or (m and standard.underserved != "no_fixed")) for *_, f, m, _ in expected]
        assert result["underserved"].tolist() == served
        # the missing-upload sensitivity is the difference from the other rule's verdict
        other = replace(
            standard,
            missing_upload="download_only" if standard.missing_upload == "unserved" else "unserved",
        )
        flipped = reference_classify(households, municipalities, offers, rasters, other, 250)
        served_other = [
            not (f or (m and other.underserved != "no_fixed")) for *_, f, m, _ in flipped
        ]
        assert result["missing_upload_decides"].tolist() == [
            a != b for a, b in zip(served, served_other, strict=True)
        ]
        np.testing.assert_array_equal(
            result["fixed_down_mbps"].to_numpy(),
            households["address_id"].map(best_down).to_numpy(np.float64),
        )

"""Year-over-year change: the reconciliation new = old − became served + became
under-served + added − removed holds exactly on random vintages, old and new equal
separate runs, and the reasons are the ones worked out by hand."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import coverage_gap as cg
from coverage_gap.changes import CHANGES, FLOWS, compare_vintages
from coverage_gap.errors import ConfigError, SchemaError
from coverage_gap.evidence import gather_evidence

STANDARDS = [
    cg.DK_100_30,
    cg.BASIC_10_1,
    cg.GIGABIT,
    cg.DK_100_30.with_rule("no_fixed", missing_upload="download_only"),
]


def boxes(k: int) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "municipality_code": [f"{i:04d}" for i in range(k)],
            "municipality_name": [f"m{i}" for i in range(k)],
        },
        geometry=[shapely.box(i * 1000, 0, i * 1000 + 1000, 1000) for i in range(k)],
        crs="EPSG:25832",
    )


@st.composite
def vintages(draw):
    """Two vintages of one little area: addresses kept, added, removed, moved, without a
    point, outside every municipality; household counts and offers that change; ids
    that match only after normalisation; the same or another standard."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    k = draw(st.integers(1, 4))
    n = draw(st.integers(0, 50))
    ids = np.array([f"a{i}" for i in range(n)], dtype=object)

    def points(m: int) -> tuple[np.ndarray, np.ndarray]:
        x = rng.uniform(-300, k * 1000 + 300, m)  # some outside: nearest or unassigned
        y = rng.uniform(0, 1000, m)
        x[rng.random(m) < 0.05] = np.nan
        return x, y

    x, y = points(n)
    keep_old = rng.random(n) < 0.9
    keep_new = rng.random(n) < 0.9
    extra_old, extra_new = draw(st.integers(0, 5)), draw(st.integers(0, 5))

    def vintage(keep: np.ndarray, extra: int, prefix: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        ex, ey = points(extra)
        table = pd.DataFrame(
            {
                "address_id": np.concatenate([ids[keep], [f"{prefix}{i}" for i in range(extra)]]),
                "households": rng.integers(0, 5, int(keep.sum()) + extra),
                "x": np.concatenate([x[keep], ex]),
                "y": np.concatenate([y[keep], ey]),
            }
        )
        moved = rng.random(len(table)) < 0.05
        table.loc[moved, "x"] = rng.uniform(0, k * 1000, int(moved.sum()))
        table.attrs["crs"] = "EPSG:25832"
        offered = rng.random(len(table)) < 0.8
        down = rng.choice([5.0, 30.0, 100.0, 1000.0], len(table))
        up = np.where(rng.random(len(table)) < 0.2, np.nan, down / rng.choice([1, 10], len(table)))
        offers = pd.DataFrame(
            {
                "address_id": table["address_id"][offered],
                "down_mbps": down[offered],
                "up_mbps": up[offered],
            }
        )
        return table, offers

    old, old_offers = vintage(keep_old, extra_old, "old")
    new, new_offers = vintage(keep_new, extra_new, "new")
    if len(new) and rng.random() < 0.3:  # an id written differently in the new vintage
        new.loc[new.index[0], "address_id"] = " " + str(new["address_id"].iloc[0]) + " "
    old_standard = STANDARDS[draw(st.integers(0, len(STANDARDS) - 1))]
    new_standard = old_standard if rng.random() < 0.6 else STANDARDS[rng.integers(len(STANDARDS))]
    return boxes(k), (old, old_offers, old_standard), (new, new_offers, new_standard)


def judge(table, offers, standard, municipalities):
    evidence = gather_evidence(
        table, municipalities, fixed_offers=offers, min_match_share=0, min_located_share=0
    )
    return evidence, cg.classify(evidence, standard)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(vintages())
def test_the_change_reconciles_and_old_and_new_equal_separate_runs(world):
    municipalities, (old, old_offers, old_std), (new, new_offers, new_std) = world
    old_evidence, old_classified = judge(old, old_offers, old_std, municipalities)
    _, new_classified = judge(new, new_offers, new_std, municipalities)
    change = compare_vintages(
        old_classified,
        new_classified,
        municipalities,
        old_provenance=cg.Provenance(old_std, data_year=2025),
        new_provenance=cg.Provenance(new_std, data_year=2026),
        old_under_new_standard=cg.classify(old_evidence, new_std)["underserved"],
    )
    table = change.municipalities
    flows = (
        table["old_underserved_households"]
        - table["became_served_households"]
        + table["became_underserved_households"]
        + table["added_underserved_households"]
        - table["removed_underserved_households"]
    )
    assert (flows == table["new_underserved_households"]).all()
    assert (table.loc["region", FLOWS] == table.drop(index="region")[list(FLOWS)].sum()).all()
    for classified, std, side in (
        (old_classified, old_std, "old"),
        (new_classified, new_std, "new"),
    ):
        separate = cg.summarize_gap(classified, municipalities, cg.Provenance(std))
        assert (table[f"{side}_underserved_households"] == separate["underserved_households"]).all()
        assert (table[f"{side}_households"] == separate["households"]).all()
    # every address of either vintage once
    addresses = change.addresses
    matched = addresses["old_households"].notna() & addresses["new_households"].notna()
    assert len(addresses) == len(old) + len(new) - int(matched.sum())
    assert addresses["change"].notna().all() and set(addresses["change"]) <= set(CHANGES)
    # the per-address flows add up to the table
    assert (addresses[list(FLOWS)].sum() == table.loc["region", list(FLOWS)]).all()
    reasons = change.reasons
    region = reasons[reasons["municipality_code"] == "region"]
    assert region["households"].sum() == table.loc["region", list(FLOWS)].sum()


@pytest.fixture
def world():
    municipalities = boxes(2)
    old = pd.DataFrame(
        {
            "address_id": ["a", "b", "c", "d", "e", "f", "g", "h"],
            "households": [1, 2, 1, 1, 3, 1, 1, 2],
            "x": [100.0, 200.0, 300.0, 400.0, 500.0, 600.0, 700.0, 5000.0],
            "y": [500.0] * 8,
        }
    )
    old.attrs["crs"] = "EPSG:25832"
    new = old.copy()
    new.loc[new["address_id"] == "f", "x"] = 1500.0  # moved into 0001
    new.loc[new["address_id"] == "h", "x"] = 800.0  # now inside (was unassigned)
    new = pd.concat(
        [
            new[new["address_id"] != "g"],  # g removed
            pd.DataFrame({"address_id": ["i"], "households": [4], "x": [900.0], "y": [500.0]}),
        ],
        ignore_index=True,
    )
    new.attrs["crs"] = "EPSG:25832"
    old_offers = pd.DataFrame(
        {
            "address_id": ["b", "c", "d", "e", "f", "g", "h"],
            "down_mbps": [50.0, 1000.0, 1000.0, 100.0, 10.0, 10.0, 10.0],
            "up_mbps": [10.0, 1000.0, 1000.0, 20.0, 1.0, 1.0, 1.0],
        }
    )
    new_offers = pd.DataFrame(
        {
            "address_id": ["a", "b", "d", "e", "f", "h", "i"],
            # a: fibre arrives; b: xDSL upgraded; c: its offer is gone; d unchanged;
            # e: 100/20 -> 100/30; f, h, i: 10/1
            "down_mbps": [1000.0, 300.0, 1000.0, 100.0, 10.0, 10.0, 10.0],
            "up_mbps": [1000.0, 30.0, 1000.0, 30.0, 1.0, 1.0, 1.0],
        }
    )
    return municipalities, old, new, old_offers, new_offers


def test_reasons_worked_out_by_hand(world):
    municipalities, old, new, old_offers, new_offers = world
    _, old_c = judge(old, old_offers, cg.DK_100_30, municipalities)
    _, new_c = judge(new, new_offers, cg.DK_100_30, municipalities)
    change = compare_vintages(
        old_c,
        new_c,
        municipalities,
        old_provenance=cg.Provenance(cg.DK_100_30, data_year=2025),
        new_provenance=cg.Provenance(cg.DK_100_30, data_year=2026),
    )
    got = change.addresses.set_index("address_id")[["change", "reason"]].astype(str)
    assert got.to_dict("index") == {
        "a": {"change": "became_served", "reason": "offers_appeared"},
        "b": {"change": "became_served", "reason": "speeds_changed"},
        "c": {"change": "became_underserved", "reason": "offers_disappeared"},
        "d": {"change": "unchanged", "reason": ""},
        "e": {"change": "became_served", "reason": "speeds_changed"},
        "f": {"change": "moved", "reason": "municipality_changed"},
        "h": {"change": "added", "reason": "now_counted"},
        "i": {"change": "added", "reason": "address_added"},
        "g": {"change": "removed", "reason": "address_removed"},
    }
    table = change.municipalities
    # 0000 old: a 1, b 2, e 3, f 1, g 1 under-served = 8; new: c 1, h 2, i 4 = 7
    row = table.loc["0000"]
    assert row[
        [
            "old_underserved_households",
            "became_served_households",
            "became_underserved_households",
            "added_underserved_households",
            "removed_underserved_households",
            "new_underserved_households",
        ]
    ].tolist() == [8, 6, 1, 6, 2, 7]
    # 0001: f arrives (1 household)
    assert table.loc[
        "0001",
        [
            "old_underserved_households",
            "added_underserved_households",
            "new_underserved_households",
        ],
    ].tolist() == [0, 1, 1]
    assert table.loc["region", "net_change_households"] == 0


def test_a_change_of_standard_is_told_from_a_change_of_data(world):
    municipalities, old, new, old_offers, new_offers = world
    old_evidence, old_c = judge(old, old_offers, cg.BASIC_10_1, municipalities)
    _, new_c = judge(new, new_offers, cg.DK_100_30, municipalities)
    kwargs = dict(
        old_provenance=cg.Provenance(cg.BASIC_10_1, data_year=2025),
        new_provenance=cg.Provenance(cg.DK_100_30, data_year=2026),
    )
    with pytest.raises(ConfigError, match="old_under_new_standard"):
        compare_vintages(old_c, new_c, municipalities, **kwargs)
    change = compare_vintages(
        old_c,
        new_c,
        municipalities,
        old_under_new_standard=cg.classify(old_evidence, cg.DK_100_30)["underserved"],
        **kwargs,
    )
    got = change.addresses.set_index("address_id")
    # d (1000/1000 both years) is served either way; e (100/20 -> 100/30) was served
    # under 10/1 and is served under 100/30: unchanged. b (50/10 -> 300/30): served under
    # 10/1 in 2025 and under 100/30 in 2026: unchanged. c lost its offer: data.
    assert got.loc["c", "change"] == "became_underserved"
    assert got.loc["c", "reason"] == "offers_disappeared"
    # the standard alone would not have made a served: its offer appeared
    assert got.loc["a", "reason"] == "offers_appeared"


def test_the_standard_alone_moves_an_address(world):
    municipalities, old, _, old_offers, _ = world
    old_evidence, old_c = judge(old, old_offers, cg.BASIC_10_1, municipalities)
    _, new_c = judge(old, old_offers, cg.DK_100_30, municipalities)  # the same data
    change = compare_vintages(
        old_c,
        new_c,
        municipalities,
        old_provenance=cg.Provenance(cg.BASIC_10_1, data_year=2026),
        new_provenance=cg.Provenance(cg.DK_100_30, data_year=2026),
        old_under_new_standard=cg.classify(old_evidence, cg.DK_100_30)["underserved"],
    )
    flipped = change.addresses[change.addresses["change"] == "became_underserved"]
    assert set(flipped["address_id"]) == {"b", "e", "f", "g"}  # 50/10, 100/20, 10/1, 10/1
    assert set(flipped["reason"].astype(str)) == {"standard_changed"}


def test_ids_that_match_only_after_normalisation_are_reported(world):
    municipalities, old, new, old_offers, new_offers = world
    new = new.assign(address_id=new["address_id"].str.upper())
    new_offers = new_offers.assign(address_id=new_offers["address_id"].str.upper())
    _, old_c = judge(old, old_offers, cg.DK_100_30, municipalities)
    _, new_c = judge(new, new_offers, cg.DK_100_30, municipalities)
    change = compare_vintages(
        old_c,
        new_c,
        municipalities,
        old_provenance=cg.Provenance(cg.DK_100_30, data_year=2025),
        new_provenance=cg.Provenance(cg.DK_100_30, data_year=2026),
    )
    # letters are not UUIDs: "A" and "a" stay different addresses
    assert (change.addresses["change"].astype(str) == "added").sum() == 8
    uuid = "0a3f5081-10e6-32b8-e044-0003ba298018"
    old_u = old_c.assign(address_id=[uuid if i == "a" else i for i in old_c["address_id"]])
    new_u = new_c.assign(
        address_id=[uuid.upper() if i == "A" else i.lower() for i in new_c["address_id"]]
    )
    change = compare_vintages(
        old_u,
        new_u,
        municipalities,
        old_provenance=cg.Provenance(cg.DK_100_30, data_year=2025),
        new_provenance=cg.Provenance(cg.DK_100_30, data_year=2026),
    )
    assert change.addresses.set_index("old_address_id").loc[uuid, "change"] == "became_served"
    assert "only after normalisation" in change.problems[0].message


def test_bad_inputs(world):
    municipalities, old, _, old_offers, _ = world
    _, old_c = judge(old, old_offers, cg.DK_100_30, municipalities)
    prov = dict(
        old_provenance=cg.Provenance(cg.DK_100_30, "households", 2025),
        new_provenance=cg.Provenance(cg.DK_100_30, "addresses", 2026),
    )
    with pytest.raises(ConfigError, match="count different things"):
        compare_vintages(old_c, old_c, municipalities, **prov)
    prov["new_provenance"] = cg.Provenance(cg.DK_100_30, "households", 2026)
    with pytest.raises(SchemaError, match="more than once"):
        compare_vintages(pd.concat([old_c, old_c]), old_c, municipalities, **prov)
    with pytest.raises(SchemaError, match="lack the columns"):
        compare_vintages(old, old_c, municipalities, **prov)

"""The batch command end to end: config in, three files out, totals reconciled."""

from __future__ import annotations

import json

import geopandas as gpd
import pandas as pd
import pytest

from coverage_gap.cli import main
from coverage_gap.config import load_config, parse_config
from coverage_gap.errors import ConfigError, InputError
from coverage_gap.pipeline import run

from .conftest import OPERATOR_A, write_raster

COLUMNS = [
    "municipality_code",
    "municipality_name",
    "households",
    "underserved_households",
    "underserved_share",
    "share_ci_low",
    "share_ci_high",
    "fixed_unserved_households",
    "mobile_unserved_households",
    "unserved_both_households",
]


def test_run_command_writes_the_three_files(world_files, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", str(world_files), "--out", str(out)]) == 0
    table = pd.read_csv(out / "municipalities.csv", dtype={"municipality_code": str})
    assert set(COLUMNS) <= set(table.columns)
    assert table["municipality_code"].tolist() == ["0001", "0002", "region"]
    assert table["underserved_households"].tolist() == [10, 2, 12]
    assert table["mobile_unserved_households"].tolist() == [3, 2, 5]
    assert (table["source"] == "hand-made test world").all()

    households = gpd.read_parquet(out / "households.parquet")
    assert len(households) == 12 and households.crs.to_epsg() == 25832
    assert households.geometry.isna().sum() == 1  # h11 has no point
    assert households["underserved"].sum() == 6  # h2 h3 h4 h6 h11 h12 (h10 served, excluded)

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["reconciliation"]["total"] == {"addresses": 12, "households": 23}
    assert {i["kind"] for i in manifest["inputs"]} == {
        "households",
        "municipalities",
        "table",
        "raster",
    }
    assert all(len(i["sha256"]) == 64 for i in manifest["inputs"])
    assert manifest["parameters"]["standard"]["fixed_up_mbps"] == 30
    assert manifest["versions"]["coverage_gap"]
    assert "12 of 21 households under-served" in capsys.readouterr().out


def test_second_run_gives_identical_files(world_files, tmp_path):
    for name in ("a", "b"):
        assert main(["run", str(world_files), "--out", str(tmp_path / name)]) == 0
    for file in ("municipalities.csv", "households.parquet", "manifest.json", "reconciliation.csv"):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes(), file


def test_all_input_problems_are_reported_at_once(world_files, tmp_path):
    (world_files.parent / "households.csv").write_text(
        "address_id,households,x,y\na,1,500,500\na,-1,600,600\n"
    )
    write_raster(world_files.parent / "operator_b.tif", OPERATOR_A, crs="EPSG:3035")
    with pytest.raises(InputError) as info:
        run(load_config(world_files))
    messages = " | ".join(p.message for p in info.value.problems)
    assert "duplicate address ids" in messages
    assert "negative household counts" in messages
    assert "not the working CRS" in messages


def test_cli_prints_errors_without_traceback(world_files, tmp_path, capsys):
    (world_files.parent / "fixed.csv").unlink()
    assert main(["run", str(world_files), "--out", str(tmp_path / "o")]) == 4
    err = capsys.readouterr().err
    assert "fixed.csv" in err and "file not found" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"households": {"path": "h.csv"}, "standard": {"preset": "100/30"}}, "municipalities"),
        (
            {
                "households": {"path": "h.csv"},
                "municipalities": {"path": "m.gpkg"},
                "standard": {"preset": "nope"},
            },
            "unknown service standard",
        ),
        (
            {
                "households": {"path": "h.csv", "colour": "red"},
                "municipalities": {"path": "m.gpkg"},
                "standard": {"preset": "100/30"},
            },
            "unknown key",
        ),
        (
            {
                "households": {"path": "h.csv"},
                "municipalities": {"path": "m.gpkg"},
                "standard": {"fixed_down_mbps": 100, "underserved": "no_mobile"},
            },
            "needs mobile",
        ),
        (
            {
                "households": {"path": "h.csv"},
                "municipalities": {"path": "m.gpkg"},
                "standard": {"preset": "100/30"},
                "meta": {"denominator": "people"},
            },
            "denominator",
        ),
    ],
)
def test_config_errors(tmp_path, data, message):
    with pytest.raises(ConfigError, match=message):
        parse_config(data, tmp_path)


def test_config_file_errors(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[households\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)


def test_demo_command_small(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--scale", "0.02"]) == 0
    table = pd.read_csv(out / "municipalities.csv", dtype={"municipality_code": str})
    assert len(table) == 18 and table["municipality_code"].iloc[-1] == "region"
    assert (table["source"].str.contains("synthetic demo data")).all()
    region = table.set_index("municipality_code").loc["region"]
    assert 0.05 < region["underserved_share"] < 0.3
    reconciliation = pd.read_csv(out / "reconciliation.csv", index_col=0)
    parts = reconciliation.loc[["inside", "nearest", "unassigned", "invalid"]].sum()
    assert parts.tolist() == reconciliation.loc["total"].tolist()
    assert reconciliation.loc["invalid", "addresses"] == 3
    assert region["households"] == reconciliation.loc[["inside", "nearest"], "households"].sum()


def test_demand_section_writes_demand_csv(world_files, tmp_path):
    text = world_files.read_text()
    world_files.write_text(
        text
        + """
[demand]
base_year = 2026
horizon = 2028
gb_per_unit_month = 10
scenarios = ["taskforce 50 %", "fitted"]
busy_hour_share = 0.1
days_per_month = 30

[[demand.scenario]]
name = "flat"
rate = 0.0
"""
    )
    out = tmp_path / "out"
    assert main(["run", str(world_files), "--out", str(out)]) == 0
    demand = pd.read_csv(out / "demand.csv", dtype={"municipality_code": str})
    assert set(demand["scenario"]) == {"taskforce 50 %", "fitted decaying (Danish series)", "flat"}
    fifty = demand[
        (demand["scenario"] == "taskforce 50 %") & (demand["municipality_code"] == "0001")
    ]
    # 17 households x 10 GB, growing 50 % a year
    assert fifty["demand_gb_month"].tolist() == [170.0, 255.0, 382.5]
    assert fifty["busy_hour_mbps"].iloc[0] == pytest.approx(170 / 30 * 0.1 * 8000 / 3600)
    region = demand[(demand["scenario"] == "flat") & (demand["municipality_code"] == "region")]
    assert region["demand_gb_month"].tolist() == [210.0] * 3
    # areas: 1.5 km x 3 km each
    assert fifty["demand_gb_month_per_km2"].iloc[0] == pytest.approx(170 / 4.5)
    manifest = json.loads((out / "manifest.json").read_text())
    assert (
        manifest["parameters"]["demand"]["scenarios"][0]["definition"] == "constant: +50 % a year"
    )


def test_declared_codes_that_disagree_are_reported(world_files, tmp_path):
    csv = world_files.parent / "households.csv"
    table = pd.read_csv(csv)
    table["kommune"] = ["1", "1", "2", "1", "2", "2", "1", "2", "2", "2", "1", "1"]
    table.to_csv(csv, index=False)
    world_files.write_text(
        world_files.read_text().replace(
            'households = "households"\n',
            'households = "households"\nmunicipality = "kommune"\n',
            1,
        )
    )
    out = tmp_path / "out"
    assert main(["run", str(world_files), "--out", str(out)]) == 0
    warnings = json.loads((out / "manifest.json").read_text())["warnings"]
    (mismatch,) = [w for w in warnings if "another municipality" in w["message"]]
    # h8 lies on the border and goes to 0001 (listed first), but says 0002
    assert mismatch["count"] == 1 and mismatch["rows"] == ["h8"]


def test_offers_for_unknown_addresses_are_reported(world_files, tmp_path):
    csv = world_files.parent / "fixed.csv"
    table = pd.read_csv(csv)
    extra = pd.DataFrame(
        {"address_id": ["nowhere", "elsewhere"], "technology": "fiber", "down_mbps": 1000.0}
    ).assign(up_mbps=1000.0)
    pd.concat([table, extra]).to_csv(csv, index=False)
    out = tmp_path / "out"
    assert main(["run", str(world_files), "--out", str(out)]) == 0
    warnings = json.loads((out / "manifest.json").read_text())["warnings"]
    (unmatched,) = [w for w in warnings if "not among the households" in w["message"]]
    # the fixture's own offer for "zz" (no such address) comes first
    assert unmatched["count"] == 3 and unmatched["rows"] == ["zz", "nowhere", "elsewhere"]
    assert unmatched["source"].endswith("fixed.csv")
    # the extra offers serve nobody: the table is the one without them
    rerun = tmp_path / "plain"
    table.to_csv(csv, index=False)
    assert main(["run", str(world_files), "--out", str(rerun)]) == 0
    assert (out / "municipalities.csv").read_text() == (rerun / "municipalities.csv").read_text()


def test_where_to_act_sections_are_run(world_files):
    text = world_files.read_text() + (
        '\n[[areas]]\ngrid = "1km"\nmin_households = 2\n'
        '\n[pool]\nrule_sets = ["2023", "2024"]\n'
        "\n[siting]\nsites = 2\nradius_m = 600\ncandidate_spacing_m = 1000\n"
    )
    world_files.write_text(text)
    results = run(load_config(world_files))
    ((stem, cells),) = results.areas
    assert stem == "ddkn_1km"
    # the 1 km cells hold exactly the households the municipality table counts
    assert cells.loc["region", "households"] == results.municipalities.loc["region", "households"]
    assert cells.loc["region", "underserved_households"] == 12
    assert results.pool is not None
    assert set(results.pool.summary.index.get_level_values("rule_set")) == {"2023", "2024"}
    # the world has no zone column: the pool says so rather than guessing
    assert any("zone" in p.message for p in results.pool.problems)
    sites = results.sites.sites
    chosen = sites[sites["rank"] > 0]
    assert 1 <= len(chosen) <= 2
    gains = chosen["newly_covered_households"].tolist()
    assert gains == sorted(gains, reverse=True)
    manifest = results.config.to_dict()
    assert (
        manifest["siting"]["spec"]["sites"] == 2 and manifest["areas"][0]["spec"]["grid"] == "1km"
    )


def test_where_to_act_config_errors(tmp_path):
    base = {
        "households": {"path": "h.csv"},
        "municipalities": {"path": "m.gpkg"},
        "standard": {"preset": "100/30"},
    }
    with pytest.raises(ConfigError, match=r"\[siting\] needs radius_m"):
        parse_config({**base, "siting": {"sites": 3}}, tmp_path)
    with pytest.raises(ConfigError, match=r"\[areas\] with a path needs code"):
        parse_config({**base, "areas": {"path": "postnumre.geojson"}}, tmp_path)
    with pytest.raises(ConfigError, match=r"\[pool\]: unknown key"):
        parse_config({**base, "pool": {"rules": ["2024"]}}, tmp_path)


ZONES = {  # id: (zone, inhabitants of the town)
    "h3": ("Landzone", None),
    "h4": ("Byzone", 1500),
    "h6": ("Byzone", 5000),
    "h11": ("Landzone", None),
}


@pytest.mark.parametrize("suffix", [".csv", ".gpkg", ".parquet"])
def test_pool_columns_named_in_the_config_reach_the_pool(world_files, suffix):
    """The [pool] section names household columns (zone, town size): every household
    reader keeps them, so that the pool judges them rather than calling all undetermined."""
    folder = world_files.parent
    table = pd.read_csv(folder / "households.csv")
    table["zone"] = table["address_id"].map(lambda i: ZONES.get(i, ("Byzone", None))[0])
    table["byindbyggere"] = table["address_id"].map(lambda i: ZONES.get(i, (None, 10_000))[1])
    name = f"households_zoned{suffix}"
    if suffix == ".csv":
        table.to_csv(folder / name, index=False)
    else:
        geometry = gpd.points_from_xy(table["x"], table["y"])
        geometry[table["x"].isna().to_numpy()] = None  # h11: no point
        points = gpd.GeoDataFrame(
            table.drop(columns=["x", "y"]), geometry=geometry, crs="EPSG:25832"
        )
        points.to_file(folder / name) if suffix == ".gpkg" else points.to_parquet(folder / name)
    text = world_files.read_text().replace('path = "households.csv"', f'path = "{name}"')
    if suffix != ".csv":
        text = text.replace('crs = "EPSG:25832"\n', "", 1)
    world_files.write_text(
        text + '\n[pool]\nrule_sets = ["2023", "2024"]\ntown_population_column = "byindbyggere"\n'
    )
    pool = run(load_config(world_files)).pool
    status = pool.addresses.set_index("address_id")
    # 2023 (no 30/5; landzone): h3 (fixed wireless without upload) lacks 30/5, h4 and h6
    # are in byzone (the zone is judged first); 2024 (no 100 down; or byzone in a town
    # < 2,000): h4 (no offer) and h6 (99.9 down) lack 100, h6's town has 5,000
    # inhabitants, h3 has 100 down; h11 has no point.
    assert status.loc[["h3", "h4", "h6"], "status_2023"].tolist() == [
        "eligible",
        "not eligible (zone)",
        "not eligible (zone)",
    ]
    assert status.loc[["h3", "h4", "h6"], "status_2024"].tolist() == [
        "not eligible (speed)",
        "eligible",
        "not eligible (zone)",
    ]
    region = pool.summary.xs("region", level="municipality_code")
    assert region["eligible_households"].tolist() == [1, 3]
    assert region["undetermined_addresses"].tolist() == [0, 0]
    changes = pool.changes.set_index("address_id")["change"]
    assert changes.to_dict() == {"h3": "leaves", "h4": "enters"}
    assert not any("zone column" in p.message for p in pool.problems)

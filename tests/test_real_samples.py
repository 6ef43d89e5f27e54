"""Real Danish samples from ../shared/data (skipped when absent).

Expected counts are the hand-computed ones in ../shared/data/bbk26_sample/README.md.
"""

from __future__ import annotations

import pandas as pd
import pytest

from coverage_gap import DK_100_30, GIGABIT
from coverage_gap.cli import main
from coverage_gap.config import parse_config
from coverage_gap.pipeline import run

pytestmark = pytest.mark.shared

TECHNOLOGIES = {
    "fiber": ["download_fiber", "upload_fiber"],
    "cable_tv": ["download_kabel_tv", "upload_kabel_tv"],
    "xdsl": ["download_xdsl"],  # the sample states no xDSL upload
    "fixed_wireless": ["download_fasttraadloest"],  # nor a fixed-wireless upload
}


def _config(shared, preset):
    sample = shared / "bbk26_sample"
    return {
        "meta": {
            "data_year": 2026,
            "denominator": "dwellings",
            "source": "Digitaliseringsstyrelsen, Bredbåndskortlægning 2026",
        },
        "households": {
            "path": str(sample / "dar_x_bbk26_adresser_25832.geojson"),
            "id": "adgangsadresse_id",
            "households": "n_enhedsadresser",
            "municipality": "kommunekode",
        },
        "municipalities": {
            "path": str(shared / "dagi_kommuner" / "kommuner_dk_25832.gpkg"),
            "code": "kommunekode",
            "name": "kommunenavn",
            "codes": ["0253", "0265", "0269", "0326"],
        },
        "fixed": {
            "path": str(sample / "dar_x_bbk26_adresser_25832.csv"),
            "id": "adgangsadresse_id",
            "technologies": TECHNOLOGIES,
        },
        "standard": {"preset": preset},
    }


@pytest.mark.parametrize(
    ("preset", "unserved_addresses", "unserved_units"),
    [
        (
            DK_100_30.name,
            {"0253": 3, "0265": 1, "0269": 0, "0326": 0},
            {"0253": 3, "0265": 1, "0269": 0, "0326": 0},
        ),
        (
            GIGABIT.name,
            {"0253": 6, "0265": 1, "0269": 0, "0326": 0},
            {"0253": 49, "0265": 1, "0269": 0, "0326": 0},
        ),
    ],
)
def test_joined_sample_reproduces_the_readme(
    shared_data, tmp_path, preset, unserved_addresses, unserved_units
):
    results = run(parse_config(_config(shared_data, preset), tmp_path))
    table = results.municipalities
    assert table.loc[["0253", "0265", "0269", "0326"], "addresses"].tolist() == [212, 67, 2, 28]
    assert table.loc[["0253", "0265", "0269", "0326"], "households"].tolist() == [276, 145, 2, 28]
    households = results.households
    unserved = households[~households["fixed_served"]]
    four = list(unserved_addresses)
    by_address = unserved.groupby("municipality_code", observed=False).size()[four]
    by_unit = unserved.groupby("municipality_code", observed=False)["households"].sum()[four]
    assert by_address.to_dict() == unserved_addresses
    assert by_unit.to_dict() == unserved_units
    assert table.loc["0253", "underserved_households"] == unserved_units["0253"]
    # every point lands in the municipality DAR gives it
    declared = households["declared_municipality_code"]
    assert (households["municipality_code"].astype(str) == declared).all()
    assert results.reconciliation.loc["total", "addresses"] == 309


def test_run_command_on_the_real_sample(shared_data, tmp_path):
    import tomllib  # noqa: F401  (the config is written as TOML below)

    cfg = _config(shared_data, "100/30")
    lines = []
    for section in ("meta", "households", "municipalities", "standard"):
        lines.append(f"[{section}]")
        lines += [f"{k} = {_toml(v)}" for k, v in cfg[section].items()]
    lines.append("[fixed]")
    lines += [f"{k} = {_toml(v)}" for k, v in cfg["fixed"].items() if k != "technologies"]
    lines.append("[fixed.technologies]")
    lines += [f"{k} = {_toml(v)}" for k, v in TECHNOLOGIES.items()]
    path = tmp_path / "sample.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    assert main(["run", str(path), "--out", str(tmp_path / "out")]) == 0
    table = pd.read_csv(tmp_path / "out" / "municipalities.csv", dtype={"municipality_code": str})
    assert table.set_index("municipality_code")["underserved_households"].to_dict() == {
        "0253": 3,
        "0265": 1,
        "0269": 0,
        "0326": 0,
        "region": 4,
    }
    assert (table["denominator"] == "dwellings").all()


def _toml(value):
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\") + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return str(value)


def test_dar_points_land_in_their_own_municipality(shared_data, tmp_path):
    from coverage_gap import read_households, read_municipalities
    from coverage_gap.assign import assign_municipalities

    points = read_households(
        shared_data / "dar_adresser_sample" / "dar_adgangsadresser_sample_25832.geojson",
        id="adgangsadresse_id",
        households="n_enhedsadresser",
        municipality="kommunekode",
    )
    boundaries = read_municipalities(
        shared_data / "dagi_kommuner" / "kommuner_dk_25832.gpkg",
        code="kommunekode",
        name="kommunenavn",
    )
    assigned = assign_municipalities(points, boundaries, tolerance_m=0)
    same = assigned["municipality_code"].astype(str) == points["declared_municipality_code"]
    assert len(points) == 1327
    assert same.sum() >= 1325

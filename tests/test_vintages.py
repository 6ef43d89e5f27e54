"""Vintages in the configuration, the claim and diff commands, and the demo's 2025 vintage:
claims.csv and changes.csv against separate runs, exit statuses, deterministic outputs."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest

from coverage_gap.cli import EXIT_CONFIG, EXIT_USAGE, main
from coverage_gap.config import load_config, parse_config
from coverage_gap.errors import ConfigError
from coverage_gap.pipeline import run

from .conftest import OFFERS

#: 2025: h1 had only xDSL and h8 nothing (their fibre came later); h6 had a 100/30 offer
#: that is gone in 2026
OFFERS_2025 = [o for o in OFFERS if o[0] not in ("h1", "h8")] + [
    ("h1", "xdsl", 20.0, 2.0),
    ("h6", "cable_tv", 100.0, 30.0),
]

VINTAGE = """
[[vintage]]
data_year = 2025
source = "hand-made test world, 2025"
[[vintage.fixed]]
path = "fixed_2025.csv"
id = "address_id"
download = "down_mbps"
upload = "up_mbps"
[[vintage.mobile]]
path = "operator_a.tif"
[[vintage.mobile]]
path = "operator_b.tif"
"""

OLD_CONFIG = """
[meta]
data_year = 2025
source = "hand-made test world, 2025"
area_name = "Test region"
[households]
path = "households.csv"
id = "address_id"
households = "households"
crs = "EPSG:25832"
[municipalities]
path = "municipalities.gpkg"
code = "code"
name = "name"
[fixed]
path = "fixed_2025.csv"
id = "address_id"
download = "down_mbps"
upload = "up_mbps"
[[mobile]]
path = "operator_a.tif"
[[mobile]]
path = "operator_b.tif"
[standard]
fixed_down_mbps = 100
fixed_up_mbps = 30
mobile_min_dbm = -105
underserved = "no_fixed"
"""


@pytest.fixture
def two_years(world_files: Path) -> Path:
    folder = world_files.parent
    pd.DataFrame(OFFERS_2025, columns=["address_id", "technology", "down_mbps", "up_mbps"]).to_csv(
        folder / "fixed_2025.csv", index=False
    )
    (folder / "old.toml").write_text(OLD_CONFIG, encoding="utf-8")
    text = world_files.read_text(encoding="utf-8")
    (folder / "both.toml").write_text(text + VINTAGE, encoding="utf-8")
    return folder


def _base() -> dict:
    return {
        "meta": {"data_year": 2026},
        "households": {"path": "h.gpkg"},
        "municipalities": {"path": "m.gpkg"},
        "standard": {"preset": "100/30"},
    }


def test_vintage_sections():
    cfg = parse_config(
        {
            **_base(),
            "vintage": [
                {
                    "data_year": 2025,
                    "source": "BBK 2025",
                    "households": {"path": "h2025.gpkg"},
                    "fixed": [{"path": "f2025.csv"}],
                    "mobile": {"path": "a2025.tif"},
                },
                {"data_year": "2024-06", "fixed": {"path": "f2024.csv"}},
            ],
        },
        Path("/d"),
    )
    configs = cfg.vintage_configs()
    assert [c.data_year for c in configs] == [2026, 2025, "2024-06"]
    assert configs[1].source == "BBK 2025" and configs[2].source == "unknown source"
    assert configs[1].households.path.name == "h2025.gpkg"
    assert configs[2].households.path.name == "h.gpkg"  # the address set did not change
    assert configs[2].mobile == ()  # coverage is never inherited
    assert configs[1].mobile[0].kind == "raster" and configs[1].mobile[0].section == "mobile"
    assert Path("/d/a2025.tif") in cfg.input_paths()


@pytest.mark.parametrize(
    ("vintage", "message"),
    [
        ([{"fixed": {"path": "f.csv"}}], r"\[\[vintage\]\] needs a data_year"),
        ([{"data_year": 2026}], r"occur more than once"),
        ([{"data_year": 2025}, {"data_year": 2025}], r"occur more than once"),
        ([{"data_year": 2025.5}], r"data_year must be a whole number or text"),
        ([{"data_year": 2025, "colour": "red"}], r"\[\[vintage\]\]: unknown key"),
        (
            [{"data_year": 2025, "fixed": {"path": "f.csv", "dl": "x"}}],
            r"\[\[vintage\]\] data_year = 2025: \[fixed\] \(table layer f.csv\): unknown key",
        ),
        ([{"data_year": 2025, "mobile": {"path": "a.tif", "band": "1"}}], r"band must be a whole"),
    ],
)
def test_vintage_errors_name_section_and_key(vintage, message):
    with pytest.raises(ConfigError, match=message):
        parse_config({**_base(), "vintage": vintage}, Path("/d"))


def test_vintages_need_a_data_year_and_their_own_bbk_file():
    with pytest.raises(ConfigError, match=r"\[meta\] data_year is needed"):
        parse_config({**_base(), "meta": {}, "vintage": [{"data_year": 2025}]}, Path("/d"))
    bbk = {**_base(), "households": {"path": "bbk26.csv", "kind": "bbk"}}
    with pytest.raises(ConfigError, match="BBK file, which carries its own year's offers"):
        parse_config({**bbk, "vintage": [{"data_year": 2025}]}, Path("/d"))


def test_claim_section():
    cfg = parse_config(
        {
            **_base(),
            "claim": {
                "share": 0.2,
                "tolerance": 0.03,
                "statement": "one in five",
                "fixed": ["100/30", "1000"],
                "underserved": ["no_fixed"],
                "denominators": ["addresses"],
                "mobile_min_dbm": [-100, -110.5],
                "data_years": [2026],
            },
        },
        Path("/d"),
    )
    claim = cfg.claim
    assert claim.grid.fixed == ((100.0, 30.0), (1000.0, None))
    assert claim.grid.mobile_min_dbm == (-100.0, -110.5)
    assert claim.claim().low == pytest.approx(0.17)
    assert claim.claim(share=0.1, tolerance=0.01).high == pytest.approx(0.11)


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"share": "0.2"}, r"\[claim\] share must be a number"),
        ({"share": 1.5}, r"share must lie between 0 and 1"),
        ({"fixed": ["fast"]}, r"\[claim\] fixed: 'fast' is not a threshold"),
        ({"fixed": "100/30"}, r"\[claim\] fixed must be a list of text"),
        ({"underserved": ["none"]}, r"\[claim\] underserved: unknown rule"),
        ({"mobile_min_dbm": ["-105"]}, r"\[claim\] mobile_min_dbm must be a list of numbers"),
        ({"weights": 1}, r"\[claim\]: unknown key"),
    ],
)
def test_claim_errors_name_the_key(section, message):
    with pytest.raises(ConfigError, match=message):
        parse_config({**_base(), "claim": section}, Path("/d"))


def _hashes(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_claim_command(two_years, tmp_path, capsys):
    out = tmp_path / "claim"
    args = ["claim", str(two_years / "both.toml"), "--share", "0.5", "--out", str(out), "-q"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "holds under" in printed
    table = pd.read_csv(out / "claims.csv", index_col="specification", dtype={"data_year": str})
    assert len(table) == 72 and set(table["data_year"]) == {"2025", "2026"}
    # 2026, 100/30, no fixed, missing upload unserved, households: the world's 12 of 21
    row = table[
        (table["data_year"] == "2026")
        & (table["fixed_down_mbps"] == 100)
        & (table["fixed_up_mbps"] == 30)
        & (table["underserved"] == "no_fixed")
        & (table["missing_upload"] == "unserved")
        & (table["denominator"] == "households")
    ].iloc[0]
    separate = run(load_config(two_years / "run.toml")).municipalities.loc["region"]
    assert row["underserved_households"] == separate["underserved_households"] == 12
    assert row["region_share"] == pytest.approx(separate["underserved_share"], abs=0)
    # 2025: h1 (1) and h8 (2) lack their fibre, h6 (1) had 100/30: 12 + 3 - 1
    row25 = table[(table["data_year"] == "2025") & (table.index.isin(table.index))].loc[
        lambda t: (
            (t["fixed_down_mbps"] == 100)
            & (t["fixed_up_mbps"] == 30)
            & (t["underserved"] == "no_fixed")
            & (t["missing_upload"] == "unserved")
            & (t["denominator"] == "households")
        )
    ]
    old = run(load_config(two_years / "old.toml")).municipalities.loc["region"]
    assert row25["underserved_households"].iloc[0] == old["underserved_households"] == 14
    local = pd.read_csv(out / "claims_municipalities.csv", dtype={"municipality_code": str})
    assert len(local) == 72 * 2
    verdict = (out / "verdict.txt").read_text(encoding="utf-8")
    assert "specifications" in verdict and "specifikationer" in verdict
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["claim"]["specifications"] == 72
    assert [r["data_year"] for r in manifest["runs"]] == ["2026", "2025"]
    assert {"claims.csv", "claims_da.csv", "verdict.txt", "figures/claim_curve.png"} <= set(
        manifest["outputs"]
    )
    first = _hashes(out)
    assert main(args) == 0
    assert _hashes(out) == first  # deterministic, byte for byte


def test_claim_command_needs_a_share(two_years, tmp_path, capsys):
    out = tmp_path / "claim"
    assert main(["claim", str(two_years / "both.toml"), "--out", str(out)]) == EXIT_USAGE
    assert "--share" in capsys.readouterr().err
    bad = two_years / "bad.toml"
    bad.write_text(
        (two_years / "both.toml").read_text(encoding="utf-8") + '\n[claim]\nfixed = ["x"]\n',
        encoding="utf-8",
    )
    assert main(["claim", str(bad), "--share", "0.2", "--out", str(out)]) == EXIT_CONFIG
    assert "[claim] fixed" in capsys.readouterr().err
    assert not out.exists()


def test_diff_command(two_years, tmp_path, capsys):
    out = tmp_path / "diff"
    args = ["diff", str(two_years / "old.toml"), str(two_years / "run.toml"), "--out", str(out)]
    assert main([*args, "-q"]) == 0
    assert "= 12" in capsys.readouterr().out
    table = pd.read_csv(out / "changes.csv", index_col="municipality_code", dtype=str)
    numbers = table.drop(columns=[c for c in table if not c.endswith("_households")]).astype(int)
    old = run(load_config(two_years / "old.toml")).municipalities
    new = run(load_config(two_years / "run.toml")).municipalities
    for code in ("0001", "0002", "region"):
        row = numbers.loc[code]
        assert row["old_underserved_households"] == old.loc[code, "underserved_households"]
        assert row["new_underserved_households"] == new.loc[code, "underserved_households"]
        assert (
            row["old_underserved_households"]
            - row["became_served_households"]
            + row["became_underserved_households"]
            + row["added_underserved_households"]
            - row["removed_underserved_households"]
            == row["new_underserved_households"]
        )
    # h1 (1 household) and h8 (2) got fibre; h6 (1) lost its 100/30 cable
    assert numbers.loc["region", "became_served_households"] == 3
    assert numbers.loc["region", "became_underserved_households"] == 1
    addresses = pd.read_parquet(out / "changes_addresses.parquet")
    got = addresses.set_index("address_id")
    assert got.loc["h1", "change"] == "became_served" and got.loc["h1", "reason"] == (
        "speeds_changed"
    )
    assert got.loc["h8", "reason"] == "offers_appeared"  # h8 had no offer in 2025
    assert got.loc["h6", "change"] == "became_underserved"
    for name in ("change_waterfall.png", "change_by_municipality.svg"):
        assert (out / "figures" / name).exists()
    first = _hashes(out)
    assert main([*args, "-q"]) == 0
    assert _hashes(out) == first


def test_a_report_with_a_vintage_shows_the_change_and_the_claim(two_years, tmp_path):
    config = two_years / "both.toml"
    config.write_text(
        config.read_text(encoding="utf-8") + "\n[claim]\nshare = 0.5\n", encoding="utf-8"
    )
    out = tmp_path / "report"
    assert main(["report", str(config), "--out", str(out), "-q", "--no-progress"]) == 0
    assert (out / "claims.csv").exists() and (out / "changes.csv").exists()
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["change"]["became_served_households"] == 3
    assert {item["path"] for item in manifest["vintage_inputs"]} >= {
        str(two_years / "fixed_2025.csv")
    }


def test_the_demo_has_a_2025_vintage_that_diff_reproduces(tmp_path):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--scale", "0.01", "--no-progress", "-q"]) == 0
    inputs = out / "inputs"
    assert (inputs / "demo_2025.toml").exists()
    claims = pd.read_csv(out / "claims.csv", dtype={"data_year": str})
    assert set(claims["data_year"]) == {"2025", "2026"} and len(claims) == 72
    changes = pd.read_csv(out / "changes.csv", index_col="municipality_code", dtype=str)
    old = run(load_config(inputs / "demo_2025.toml")).municipalities
    new = pd.read_csv(out / "municipalities.csv", index_col="municipality_code", dtype=str)
    region = changes.loc["region"]
    assert int(region["old_underserved_households"]) == old.loc["region", "underserved_households"]
    assert region["new_underserved_households"] == new.loc["region", "underserved_households"]
    assert (
        int(region["became_served_households"]) > 0
        and int(region["added_underserved_households"]) >= 0
    )
    # more under-served households in 2025: fibre was rolled out in between
    assert int(region["old_underserved_households"]) > int(region["new_underserved_households"])
    again = tmp_path / "diff"
    assert (
        main(
            [
                "diff",
                str(inputs / "demo_2025.toml"),
                str(inputs / "demo.toml"),
                "--out",
                str(again),
                "-q",
            ]
        )
        == 0
    )
    assert (again / "changes.csv").read_bytes() == (out / "changes.csv").read_bytes()
    sheet = (out / "fact_sheets" / "0360.png").stat().st_size
    assert sheet > 0

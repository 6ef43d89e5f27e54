"""Regression tests for a held-out sweep of hostile inputs (218 cases run against the CLI).

Each test names the class of the finding: a wrong figure, lost data, a traceback, or a
message that hid the cause. Inputs are built here, from the tiny world of conftest.py.
"""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine

from coverage_gap import classify_households, read_households, read_offers
from coverage_gap.cli import EXIT_CONFIG, EXIT_INPUT, EXIT_OUTPUT, main
from coverage_gap.config import load_config, parse_config
from coverage_gap.danish import read_bbk
from coverage_gap.errors import (
    AssignmentError,
    ConfigError,
    CRSError,
    InputError,
    OfferMatchError,
    RasterError,
)
from coverage_gap.evidence import gather_evidence
from coverage_gap.io import read_municipalities, read_signal_raster
from coverage_gap.pipeline import run
from coverage_gap.standards import ServiceStandard

from .conftest import OPERATOR_A, TRANSFORM, write_raster

MOBILE = ServiceStandard("m", mobile_min_dbm=-105, underserved="no_mobile")
FIXED = ServiceStandard("f", fixed_down_mbps=100, fixed_up_mbps=30)


def _edit(config: Path, old: str, new: str) -> None:
    text = config.read_text()
    assert old in text, old
    config.write_text(text.replace(old, new, 1))


# --- wrong figures -------------------------------------------------------------------


def test_danish_thousands_in_a_plain_table_are_not_guessed(tmp_path):
    path = tmp_path / "o.csv"
    path.write_text("id;down;up\na;2.500;1.000\nb;30;5\n")
    with pytest.raises(InputError, match="Danish thousands"):
        read_offers(path, id="id", download="down", upload="up")
    offers = read_offers(path, id="id", download="down", upload="up", decimal=",")
    assert offers["down_mbps"].tolist() == [2500.0, 30.0]


def test_official_bbk_layout_reads_grouped_thousands(tmp_path):
    header = (
        "adgadr_id;vejnavn;husnr;postnr;kommunenavn;etrs89koordinat_oest;"
        "etrs89koordinat_nord;download_fiber;upload_fiber"
    )
    path = tmp_path / "bbk.csv"
    path.write_text(header + '\n"a";"V";"1";4000;"Køge";"690000,5";"6170000,2";"2.500";"1.000"\n')
    offers = read_bbk(path).offers
    assert offers[["down_mbps", "up_mbps"]].values.tolist() == [[2500.0, 1000.0]]


def test_match_share_is_judged_among_the_reported_municipalities(
    households, municipalities, offers
):
    chosen = municipalities.assign(selected=[False, True])  # report 0002 only
    # offers for 0001's addresses only: 5 of 12 addresses, none of 0002's
    mine = offers[offers["address_id"].isin(["h1", "h2", "h4", "h7", "h8"])]
    with pytest.raises(OfferMatchError, match="reported municipalities"):
        classify_households(households, chosen, FIXED, fixed_offers=mine, min_match_share=0.3)


def test_a_municipality_without_any_offer_row_is_named(households, municipalities, offers):
    mine = offers[~offers["address_id"].isin(["h3", "h5", "h6", "h9"])]  # none of 0002
    evidence = gather_evidence(households, municipalities, fixed_offers=mine, min_match_share=0)
    (gap,) = [p for p in evidence.problems if "no fixed offer row" in p.message]
    assert "0002" in gap.message and "4 addresses" in gap.message


def test_a_coverage_mask_is_not_a_signal_map(households, municipalities, tmp_path):
    mask = np.where(np.isnan(OPERATOR_A), 0, 1).astype("float32")
    path = write_raster(tmp_path / "mask.tif", mask)
    with pytest.raises(RasterError, match="not signal levels in dBm"):
        classify_households(
            households, municipalities, MOBILE, mobile_rasters=[read_signal_raster(path)]
        )


def test_households_outside_a_raster_are_said(households, municipalities, tmp_path):
    half = write_raster(
        tmp_path / "half.tif", OPERATOR_A[:, :1], transform=Affine(1000, 0, 0, 0, -1000, 3000)
    )
    evidence = gather_evidence(
        households, municipalities, mobile_rasters=[read_signal_raster(half)]
    )
    (note,) = [p for p in evidence.problems if "outside the extent" in p.message]
    # the raster covers x 0..1000: h1 h4 h7 h12 (x 500, 500, 500, 1000) of 11 with a point
    assert note.message.startswith("7 of 11 addresses")


def test_denominator_must_match_the_counts(world_files, tmp_path, capsys):
    _edit(world_files, 'households = "households"\n', "")
    _edit(world_files, "[meta]\n", '[meta]\ndenominator = "dwellings"\n')
    assert main(["run", str(world_files), "--out", str(tmp_path / "a")]) == EXIT_INPUT
    assert "no count of dwellings per address" in capsys.readouterr().err


def test_addresses_denominator_counts_addresses(world_files):
    _edit(world_files, "[meta]\n", '[meta]\ndenominator = "addresses"\n')
    results = run(load_config(world_files))
    region = results.municipalities.loc["region"]
    # 10 addresses are counted (h10 unassigned, h11 invalid), not their 21 households
    assert (region["addresses"], region["households"]) == (10, 10)


def test_swapped_speed_columns_are_refused(tmp_path):
    path = tmp_path / "o.csv"
    rows = "\n".join(f"a{i},30,{100 + i}" for i in range(12))
    path.write_text(f"id,down,up\n{rows}\n")
    offers = read_offers(path, id="id", download="down", upload="up")
    from coverage_gap.validate import validate_offers

    (problem,) = validate_offers(offers, source="o.csv")[1]
    assert "look swapped" in problem.message and problem.lines and problem.rows[0] == 2


def test_a_raster_with_several_bands_needs_a_band(tmp_path):
    path = tmp_path / "two.tif"
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=3,
        height=3,
        count=2,
        dtype="float32",
        crs="EPSG:25832",
        transform=TRANSFORM,
    ) as dst:
        dst.write(np.stack([np.full((3, 3), -200.0), np.full((3, 3), -90.0)]).astype("float32"))
    with pytest.raises(RasterError, match="2 bands"):
        read_signal_raster(path)
    assert read_signal_raster(path, band=2).values[0, 0] == -90.0


@pytest.mark.parametrize(
    ("demand", "message"),
    [
        ("busy_hour_share = 5", "busy_hour_share must be a share"),
        ("days_per_month = 0", "days_per_month must lie between"),
        ("horizon = 100000", "more than 50 years"),
    ],
)
def test_demand_settings_are_range_checked(tmp_path, demand, message):
    base = {
        "households": {"path": "h.csv"},
        "municipalities": {"path": "m.gpkg"},
        "standard": {"preset": "100/30"},
    }
    key, value = (part.strip() for part in demand.split("="))
    section = {"base_year": 2026, "horizon": 2035, "gb_per_unit_month": 40, key: int(value)}
    with pytest.raises(ConfigError, match=message):
        parse_config({**base, "demand": section}, tmp_path)


# --- data lost silently ----------------------------------------------------------------


def test_a_changed_output_file_is_not_replaced_silently(world_files, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", str(world_files), "--out", str(out)]) == 0
    (out / "mine").mkdir()
    (out / "mine" / "municipalities.csv").write_text("my own table")
    assert main(["run", str(world_files), "--out", str(out)]) == EXIT_OUTPUT
    assert (out / "mine" / "municipalities.csv").read_text() == "my own table"
    (out / "mine" / "municipalities.csv").unlink()
    (out / "mine").rmdir()
    (out / "municipalities.csv").write_text("edited by hand")
    assert main(["run", str(world_files), "--out", str(out)]) == EXIT_OUTPUT
    assert "changed since" in capsys.readouterr().err


def test_a_linked_output_folder_stays_a_link(world_files, tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    assert main(["run", str(world_files), "--out", str(link)]) == 0
    assert link.is_symlink() and (real / "municipalities.csv").exists()
    assert main(["run", str(world_files), "--out", str(link)]) == 0
    assert link.is_symlink() and not list(tmp_path.glob(".link*"))


# --- tracebacks ------------------------------------------------------------------------------


def test_empty_points_are_rows_without_a_point(tmp_path):
    path = tmp_path / "h.gpkg"
    gpd.GeoDataFrame(
        {"address_id": ["a", "b"]},
        geometry=[shapely.Point(700000, 6100000), shapely.Point()],
        crs="EPSG:25832",
    ).to_file(path)
    table = read_households(path)
    assert table["x"].isna().tolist() == [False, True]


def test_geojson_without_crs_member_in_metres(tmp_path):
    path = tmp_path / "k.geojson"
    path.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": '
        '{"code": "0253", "name": "Greve"}, "geometry": {"type": "Polygon", "coordinates": '
        "[[[700000, 6160000], [710000, 6160000], [710000, 6170000], [700000, 6160000]]]}}]}"
    )
    with pytest.raises(CRSError, match="no crs member"):
        read_municipalities(path, code="code", name="name")
    layer = read_municipalities(path, code="code", name="name", crs="EPSG:25832")
    assert layer.crs.to_epsg() == 25832 and layer.total_bounds[0] == 700000


def test_garbage_working_crs_is_a_configuration_error(world_files, tmp_path, capsys):
    _edit(world_files, "[meta]\n", '[meta]\nworking_crs = "EPSG:999999"\n')
    assert main(["run", str(world_files), "--out", str(tmp_path / "o")]) == EXIT_CONFIG
    assert "cannot understand the CRS" in capsys.readouterr().err


def test_same_column_for_download_and_upload(tmp_path):
    path = tmp_path / "o.csv"
    path.write_text("id,d\na,100\n")
    with pytest.raises(InputError, match="name the same column"):
        read_offers(path, id="id", download="d", upload="d")


def test_fixed_polygons_need_a_speed(tmp_path):
    base = {
        "households": {"path": "h.csv"},
        "municipalities": {"path": "m.gpkg"},
        "standard": {"preset": "100/30"},
    }
    with pytest.raises(ConfigError, match="needs download"):
        parse_config({**base, "fixed": {"path": "areas.gpkg"}}, tmp_path)


@pytest.mark.parametrize(
    ("siting", "message"),
    [
        ({"sites": 3, "radius_m": 1e7, "candidate_spacing_m": 1000}, "radius_m must be"),
        ({"sites": 3, "radius_m": 500, "candidate_spacing_m": 1}, "more than 2,000,000"),
    ],
)
def test_siting_that_would_exhaust_memory_is_refused(world_files, siting, message):
    text = "\n[siting]\n" + "\n".join(f"{k} = {v}" for k, v in siting.items()) + "\n"
    world_files.write_text(world_files.read_text() + text)
    with pytest.raises(ConfigError, match=message):
        run(load_config(world_files))


@pytest.mark.parametrize("scale", ["0", "-1", "nan"])
def test_demo_scale_must_be_positive(tmp_path, scale):
    with pytest.raises(SystemExit) as info:
        main(["demo", "--out", str(tmp_path / "d"), "--scale", scale])
    assert info.value.code == 2


# --- messages that hid the cause ----------------------------------------------------------


def test_a_selection_without_households_is_refused(households, municipalities, tmp_path):
    near = households[households["x"] < 1400].copy()
    near.attrs = dict(households.attrs)
    from coverage_gap.assign import MunicipalityIndex, assign_municipalities, check_counted

    index = MunicipalityIndex.build(municipalities.assign(selected=[False, True]))
    with pytest.raises(AssignmentError, match="none of the 5 addresses lies in the selected"):
        check_counted(assign_municipalities(near, index, tolerance_m=0), index)


def test_mostly_missing_coordinates_are_named(households, municipalities):
    blank = households.copy()
    blank.loc[blank.index[:8], ["x", "y"]] = np.nan
    with pytest.raises(AssignmentError, match="9 of them have no usable coordinates"):
        classify_households(blank, municipalities, FIXED)


def test_a_list_of_key_columns_for_households(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("postnr,vej,nr,x,y\n2690,Vej,1,700000,6100000\n")
    table = read_households(path, id=["postnr", "vej", "nr"], crs="EPSG:25832")
    assert table["address_id"].tolist() == ["2690|Vej|1"]


def test_nan_written_in_a_speed_column_is_text(tmp_path):
    path = tmp_path / "o.csv"
    path.write_text("id,down,up\na,NaN,10\nb,100,10\n")
    with pytest.raises(InputError, match="'NaN'"):
        read_offers(path, id="id", download="down", upload="up")


def test_validation_names_file_lines(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("id,x,y,hh\na,700000,6100000,1\nb,700100,6100000,-2\n")
    table = read_households(path, id="id", households="hh", crs="EPSG:25832")
    from coverage_gap.validate import validate_households

    (problem,) = [p for p in validate_households(table, source="h.csv")[1] if p.count]
    assert problem.lines and problem.rows == (3,) and "first lines: 3" in str(problem)


def test_configuration_saved_with_a_byte_order_mark(world_files):
    world_files.write_bytes(b"\xef\xbb\xbf" + world_files.read_bytes())
    assert load_config(world_files).standard.fixed_down_mbps == 100


def test_swapped_latitude_and_longitude_are_diagnosed(tmp_path):
    from pyproj import Transformer

    boundary = gpd.GeoDataFrame(
        {"municipality_code": ["0253"], "municipality_name": ["Greve"]},
        geometry=[shapely.box(700000, 6150000, 720000, 6170000)],
        crs="EPSG:25832",
    )
    to_lonlat = Transformer.from_crs(25832, 4326, always_xy=True)
    lon, lat = to_lonlat.transform([705000, 710000, 715000], [6155000, 6160000, 6165000])
    path = tmp_path / "h.csv"
    rows = "\n".join(f"h{i},{b:.6f},{a:.6f}" for i, (a, b) in enumerate(zip(lon, lat, strict=True)))
    path.write_text(f"id,lon,lat\n{rows}\n")  # latitude written in the 'lon' column
    households = read_households(path, id="id", crs="EPSG:4326")
    with pytest.raises(AssignmentError, match="longitude and latitude look swapped"):
        classify_households(households, boundary, FIXED)


def test_utf16_text_is_named(tmp_path):
    path = tmp_path / "h.csv"
    path.write_bytes("id,x,y\na,1,2\n".encode("utf-16"))
    with pytest.raises(InputError, match="not 8-bit text"):
        read_households(path, id="id", crs="EPSG:25832")


def test_cleanup_leaves_no_stray_files(world_files, tmp_path):
    out = tmp_path / "o"
    assert main(["run", str(world_files), "--out", str(out)]) == 0
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".o.")]

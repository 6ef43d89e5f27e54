"""Hostile inputs: files, formats and settings that must give a clear error or the exact
right answer, never a traceback, a hang or a silently wrong figure."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from affine import Affine

from coverage_gap import DK_100_30, classify_households, read_offers
from coverage_gap.cli import main
from coverage_gap.danish import read_bbk, read_dawa_addresses
from coverage_gap.errors import ConfigError, CRSError, InputError, RasterError, SchemaError
from coverage_gap.evidence import match_offers
from coverage_gap.io import read_households, read_municipalities, read_signal_raster
from coverage_gap.io.raster import sample_signal_raster
from coverage_gap.layers import check_metric_crs
from coverage_gap.standards import ServiceStandard
from coverage_gap.validate import validate_households

from .conftest import OPERATOR_A, TRANSFORM, write_raster

MOBILE = ServiceStandard("m", mobile_min_dbm=-105, underserved="no_mobile")

# --- BBK files as they come ------------------------------------------------------------

HEADER = (
    '"adgadr_id";"vejnavn";"husnr";"postnr";"kommunenavn";"etrs89koordinat_oest";'
    '"etrs89koordinat_nord";"download_fasttraadloest";"upload_fasttraadloest";'
    '"download_fiber";"upload_fiber";"download_kabel_tv";"upload_kabel_tv";"download_xdsl";'
    '"upload_xdsl";"download_mobil";"upload_mobil"'
)
ROW_A = '"a1";"Vej";"1";4000;"Køge";"690000,5";"6170000,25";;;"1000";"1000";;;;;"600";"30"'
ROW_B = '"a2";"Vej";"2";4000;"Køge";"690100,5";"6170000,25";;;;;;;"50,000";"10,240";;'


def _offers_of(data):
    return sorted(
        data.offers[["address_id", "technology", "down_mbps", "up_mbps"]]
        .astype({"technology": str})
        .itertuples(index=False, name=None)
    )


def test_bbk_with_bom_and_quoted_header(tmp_path):
    path = tmp_path / "bbk.csv"
    path.write_bytes(("\ufeff" + HEADER + "\n" + ROW_A + "\n" + ROW_B + "\n").encode("utf-8"))
    data = read_bbk(path)
    assert data.households["address_id"].tolist() == ["a1", "a2"]
    assert data.households["x"].tolist() == [690000.5, 690100.5]
    assert _offers_of(data) == [
        ("a1", "fiber", 1000.0, 1000.0),
        ("a1", "mobile", 600.0, 30.0),
        ("a2", "xdsl", 50.0, 10.24),
    ]


def test_bbk_with_reordered_columns_reads_the_same(tmp_path):
    names = HEADER.split(";")
    rows = [ROW_A.split(";"), ROW_B.split(";")]
    order = list(reversed(range(len(names))))
    path = tmp_path / "bbk.csv"
    lines = [";".join(names[i] for i in order)] + [";".join(r[i] for i in order) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    original = tmp_path / "orig.csv"
    original.write_text(HEADER + "\n" + ROW_A + "\n" + ROW_B + "\n", encoding="utf-8")
    assert _offers_of(read_bbk(path)) == _offers_of(read_bbk(original))


def test_latin1_bbk_whose_first_mib_is_ascii(tmp_path):
    filler = ROW_A.replace("Køge", "Koege")
    rows = [filler.replace('"a1"', f'"f{i}"') for i in range(15_000)]  # > 1 MiB of ASCII
    rows.append(ROW_B.replace('"a2"', '"last"'))
    path = tmp_path / "bbk.csv"
    path.write_bytes(("\n".join([HEADER, *rows]) + "\n").encode("latin-1"))
    assert path.stat().st_size > 1 << 20
    data = read_bbk(path)
    assert data.households["municipality_name"].iloc[-1] == "Køge"
    assert len(data.households) == 15_001


def test_postal_bbk_sample_is_read_as_shipped(shared_data):
    """The compact extract (no ids, no coordinates) gives the README's reference counts."""
    data = read_bbk(shared_data / "bbk26_sample" / "bbk26_udbudt_private_postnr_2690_4130_4270.csv")
    households = data.households
    assert len(households) == 9882 and households["address_id"].is_unique
    assert households["address_id"].iloc[0] == "2690|Rørhaven|50"
    assert any("no coordinates" in p.message for p in data.household_problems)
    matched = match_offers(data.fixed_offers, households)
    assert matched.matches[0].share == 1.0  # every address listed, offers or not
    by_postnr = households["postnr"].to_numpy()
    for (down, up), expected in (
        ((100, 30), {"2690": 190, "4130": 208, "4270": 71}),
        ((1000, None), {"2690": 314, "4130": 271, "4270": 71}),
    ):
        unserved = ~matched.served(down, up, "unserved")
        assert pd.Series(unserved).groupby(by_postnr).sum().to_dict() == expected


def test_dar_sample_is_read_as_shipped(shared_data):
    path = shared_data / "dar_adresser_sample" / "dar_adgangsadresser_sample_25832.csv"
    table = read_dawa_addresses(path, households="n_enhedsadresser")
    # 1,327 rows, 5 retired (status 2) left out and reported; 2,800 unit addresses in all
    assert len(table) == 1322
    (retired,) = table.attrs["problems"]
    assert retired.count == 5 and retired.severity == "warning"
    assert table.attrs["id_column"] == "adgangsadresse_id"
    raw = pd.read_csv(path, dtype={"status": str})
    assert table["households"].sum() == raw.loc[raw["status"] == "1", "n_enhedsadresser"].sum()
    kept = read_dawa_addresses(path, keep_retired=True)
    assert len(kept) == 1327 and kept["households"].eq(1).all()
    # accuracy from the ASCII column 'noejagtighed': the one 'B' row is a retired one
    assert (kept["accuracy"] == "B").sum() == 1 and (table["accuracy"] == "B").sum() == 0


def test_dar_points_joined_to_the_postal_bbk_by_address(shared_data):
    """DAR points + the compact BBK file, joined on postnr|vejnavn|husnr."""
    dar = read_dawa_addresses(
        shared_data / "dar_adresser_sample" / "dar_adgangsadresser_sample_25832.csv",
        id=["postnr", "vejnavn", "husnr"],
        households="n_enhedsadresser",
    )
    three = dar[dar["postnr"].isin(["2690", "4130", "4270"])].copy()
    three.attrs = dict(dar.attrs)
    bbk = read_bbk(shared_data / "bbk26_sample" / "bbk26_udbudt_private_postnr_2690_4130_4270.csv")
    municipalities = read_municipalities(
        shared_data / "dagi_kommuner" / "kommuner_dk_25832.gpkg",
        code="kommunekode",
        name="kommunenavn",
        codes=["0253", "0265", "0269", "0326"],
    )
    # the BBK file covers 9,882 addresses, the DAR sample 310 of them
    result = classify_households(
        three, municipalities, DK_100_30, fixed_offers=bbk.fixed_offers, min_match_share=0.9
    )
    assert len(three) == 310
    counted = result[result["assignment"].isin(["inside", "nearest"])]
    by = counted.groupby("municipality_code", observed=True)
    # as the joined sample (3 / 1 / 0 / 0 without 100/30), plus Karlslunde Landevej 47:
    # in DAR, not in BBK 2026, so without any offer
    assert by.size().to_dict() == {"0253": 213, "0265": 67, "0269": 2, "0326": 28}
    assert by["underserved"].sum().to_dict() == {"0253": 4, "0265": 1, "0269": 0, "0326": 0}


# --- rasters -------------------------------------------------------------------------------


def _write(path, values, *, transform=TRANSFORM, dtype="float32", crs="EPSG:25832", **tags):
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=values.shape[1],
        height=values.shape[0],
        count=1,
        dtype=dtype,
        crs=crs,
        transform=transform,
        **tags,
    ) as dst:
        dst.write(values.astype(dtype), 1)
    return path


def test_raster_scale_and_offset_are_applied(tmp_path, households, municipalities):
    raw = np.array([[70, 80], [60, 0]], dtype="uint8")  # dBm = raw * 0.5 - 140
    path = _write(tmp_path / "scaled.tif", raw, dtype="uint8", nodata=0)
    with rasterio.open(path, "r+") as dst:
        dst.scales, dst.offsets = (0.5,), (-140.0,)
    raster = read_signal_raster(path)
    np.testing.assert_array_equal(raster.values, [[-105.0, -100.0], [-110.0, np.nan]])


def test_south_up_raster_is_read_like_north_up(tmp_path, households, municipalities):
    north = write_raster(tmp_path / "north.tif", OPERATOR_A)
    flipped = OPERATOR_A[::-1].copy()
    south = _write(
        tmp_path / "south.tif",
        np.where(flipped == -9999, -9999, flipped),
        transform=Affine(1000, 0, 0, 0, 1000, 0),
        nodata=-9999,
    )
    results = [
        classify_households(
            households,
            municipalities,
            MOBILE,
            mobile_rasters=[read_signal_raster(p, bounds=(0, 0, 3000, 3000))],
        )["mobile_signal_dbm"]
        for p in (north, south)
    ]
    pd.testing.assert_series_equal(results[0], results[1])


def test_float64_raster_is_compared_at_its_precision(tmp_path, households, municipalities):
    values = np.full((3, 3), -105.0000001)
    path = _write(tmp_path / "f64.tif", values, dtype="float64")
    result = classify_households(
        households, municipalities, MOBILE, mobile_rasters=[read_signal_raster(path)]
    )
    inside = result["assignment"].isin(["inside"]).to_numpy()
    assert not result.loc[inside, "mobile_served"].any()  # -105.0000001 < -105
    assert result.loc[inside, "mobile_signal_dbm"].iloc[0] == -105.0000001


def test_sparse_households_on_a_huge_raster_read_only_their_blocks(tmp_path, monkeypatch):
    import coverage_gap.io.raster as module

    width = height = 20_000  # 400 M cells: 1.6 GB if read whole
    path = tmp_path / "huge.tif"
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=width,
        height=height,
        count=1,
        dtype="float32",
        crs="EPSG:25832",
        transform=Affine(100, 0, 0, 0, -100, 2_000_000),
        nodata=-9999,
        tiled=True,
        blockxsize=256,
        blockysize=256,
        compress="deflate",
        sparse_ok=True,
    ) as dst:
        dst.write(np.full((256, 256), -80.0, "float32"), 1, window=((0, 256), (0, 256)))
    reads = []
    original = module._read

    def spy(dataset, band, window):
        reads.append(window.width * window.height)
        return original(dataset, band, window)

    monkeypatch.setattr(module, "_read", spy)
    x = np.array([50.0, 150.0, 1_999_950.0, np.nan])
    y = np.array([1_999_950.0, 1_999_950.0, 50.0, np.nan])
    sampled = sample_signal_raster(path, x, y)
    assert sampled.values[:2].tolist() == [-80.0, -80.0]
    assert np.isnan(sampled.values[2:]).all()  # empty (sparse) block: nodata; no point
    assert max(reads) <= 256 * 256 and len(reads) == 2


def test_vrt_with_a_missing_source_names_it(tmp_path):
    (tmp_path / "m.vrt").write_text(
        '<VRTDataset rasterXSize="3" rasterYSize="3"><SRS>EPSG:25832</SRS>'
        "<GeoTransform>0,1000,0,3000,0,-1000</GeoTransform>"
        '<VRTRasterBand dataType="Float32" band="1"><SimpleSource>'
        '<SourceFilename relativeToVRT="1">gone.tif</SourceFilename>'
        "<SourceBand>1</SourceBand></SimpleSource></VRTRasterBand></VRTDataset>"
    )
    with pytest.raises(RasterError, match=r"gone\.tif"):
        read_signal_raster(tmp_path / "m.vrt")


def test_crs_that_only_resembles_the_working_crs_prints_differently(tmp_path):
    path = write_raster(tmp_path / "utm.tif", OPERATOR_A, crs="+proj=utm +zone=32 +ellps=GRS80")
    with pytest.raises(RasterError) as info:
        read_signal_raster(path)
    message = info.value.problems[0].message
    assert "+proj=utm +zone=32 +ellps=GRS80" in message and "EPSG:25832" in message


def test_gcp_only_raster_is_explained(tmp_path):
    from rasterio.control import GroundControlPoint

    path = tmp_path / "gcp.tif"
    gcps = [
        GroundControlPoint(row=0, col=0, x=0, y=3000),
        GroundControlPoint(row=3, col=3, x=3000, y=0),
        GroundControlPoint(row=0, col=3, x=3000, y=3000),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
        with rasterio.open(
            path, "w", driver="GTiff", width=3, height=3, count=1, dtype="float32"
        ) as dst:
            dst.write(OPERATOR_A, 1)
            dst.gcps = (gcps, rasterio.crs.CRS.from_epsg(25832))
    with pytest.raises(RasterError, match="ground control points"):
        read_signal_raster(path)


# --- distances are metres ----------------------------------------------------------------


def test_working_crs_in_degrees_or_web_mercator_is_refused():
    with pytest.raises(CRSError, match="must be metres"):
        check_metric_crs("EPSG:4326")
    x, y = np.array([1_400_000.0]), np.array([7_450_000.0])  # Web Mercator, Sjælland
    with pytest.raises(CRSError, match=r"stretches distances by a factor 1\.7"):
        check_metric_crs("EPSG:3857", x=x, y=y)


def test_run_with_a_degree_working_crs_stops(world_files, tmp_path, capsys):
    text = world_files.read_text().replace(
        'area_name = "Test region"', 'area_name = "Test region"\nworking_crs = "EPSG:4326"'
    )
    world_files.write_text(text)
    assert main(["run", str(world_files), "--out", str(tmp_path / "out")]) == 3
    assert "distances must be metres" in capsys.readouterr().err


# --- files that are not what they seem --------------------------------------------------


def test_a_folder_as_input_or_config(world_files, tmp_path, capsys):
    (tmp_path / "folder.csv").mkdir()
    text = world_files.read_text().replace('path = "fixed.csv"', 'path = "folder.csv"')
    world_files.write_text(text)
    assert main(["run", str(world_files), "--out", str(tmp_path / "out")]) == 4
    assert "is a folder, not a file" in capsys.readouterr().err
    assert main(["run", str(tmp_path), "--out", str(tmp_path / "out")]) == 3
    assert "regular file" in capsys.readouterr().err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_named_pipe_is_refused_without_hanging(world_files, tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    text = world_files.read_text().replace('path = "fixed.csv"', 'path = "pipe.csv"')
    world_files.write_text(text)
    command = [sys.executable, "-m", "coverage_gap.cli", "run", str(world_files), "--out", "o"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 4 and "not a regular file" in done.stderr


def test_duplicate_column_names_are_an_input_error(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("id,x,y,x\na,1,2,3\n")
    with pytest.raises(SchemaError, match=r"\['x'\] more than once"):
        read_households(path, id="id", crs="EPSG:25832")


def test_a_geopackage_with_several_layers_needs_a_layer(tmp_path):
    path = tmp_path / "two.gpkg"
    for name, n in (("a", 1), ("b", 2)):
        gpd.GeoDataFrame(
            {"address_id": [f"{name}{i}" for i in range(n)]},
            geometry=[shapely.Point(700000 + i, 6100000) for i in range(n)],
            crs="EPSG:25832",
        ).to_file(path, layer=name)
    with pytest.raises(InputError, match=r"2 layers: \['a', 'b'\]"):
        read_households(path)
    assert len(read_households(path, layer="b")) == 2


def test_implausible_household_counts_are_refused():
    table = pd.DataFrame(
        {"address_id": ["a", "b"], "households": [2**63 - 1, 1], "x": [7e5, 7e5], "y": [6.1e6] * 2}
    )
    table.attrs["crs"] = "EPSG:25832"
    _, problems = validate_households(table, source="h.csv")
    assert [p.message for p in problems] == ["household counts above 1,000,000 at one address"]


# --- configuration values -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("replace", "by", "message"),
    [
        ("data_year = 2026", 'data_year = 2026\ntolerance_m = "250"', "[meta] tolerance_m must be"),
        ("data_year = 2026", "data_year = 2026.5", "[meta] data_year must be a whole number"),
        ("fixed_down_mbps = 100", 'fixed_down_mbps = "100"', "[standard] fixed_down_mbps must"),
        ("data_year = 2026", "data_year = 2026\ntolerance_m = nan", "tolerance_m must be a finite"),
        ('crs = "EPSG:25832"', "crs = 25832", "[households] crs must be a text"),
        ("[[mobile]]", '[report]\nlnag = "da"\n[[mobile]]', "[report]: unknown key(s) ['lnag']"),
        ("[[mobile]]", "[checks]\nmin_offer_match_share = 2\n[[mobile]]", "between 0 and 1"),
    ],
)
def test_config_values_name_section_and_key(world_files, tmp_path, capsys, replace, by, message):
    text = world_files.read_text()
    assert replace in text
    world_files.write_text(text.replace(replace, by, 1))
    assert main(["run", str(world_files), "--out", str(tmp_path / "out")]) == 3
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_config_that_is_not_utf8(world_files, tmp_path, capsys):
    world_files.write_bytes(world_files.read_text().replace("test world", "tést").encode("latin-1"))
    assert main(["run", str(world_files), "--out", str(tmp_path / "out")]) == 3
    assert "not UTF-8" in capsys.readouterr().err


def test_config_type_errors_in_the_api():
    from coverage_gap.config import parse_config

    with pytest.raises(ConfigError, match=r"\[standard\] underserved"):
        parse_config(
            {
                "households": {"path": "h.csv"},
                "municipalities": {"path": "m.gpkg"},
                "standard": {"preset": "100/30", "underserved": 3},
            },
            Path("."),
        )


def test_offers_of_the_wrong_type_in_wide_layout(tmp_path):
    path = tmp_path / "o.csv"
    path.write_text("id,d\na,1\n")
    with pytest.raises(InputError, match="technology 'fiber'"):
        read_offers(path, id="id", technologies={"fiber": ["d", "u", "x"]})


def test_dawa_kind_reads_the_dar_sample_in_a_run(shared_data, tmp_path, capsys):
    """kind = "dawa" with the DAR extract's own options, offers from the compact BBK file."""
    config = tmp_path / "dawa.toml"
    config.write_text(
        f"""
[meta]
area_name = "Region Sjælland"
data_year = 2026
denominator = "dwellings"
source = "DAR sample, BBK 2026 sample"
[households]
path = "{shared_data / "dar_adresser_sample" / "dar_adgangsadresser_sample_25832.csv"}"
kind = "dawa"
id = ["postnr", "vejnavn", "husnr"]
households = "n_enhedsadresser"
x = "x"
y = "y"
[municipalities]
path = "{shared_data / "dagi_kommuner" / "kommuner_dk_25832.gpkg"}"
kind = "dagi"
region = "sjaelland"
[[fixed]]
path = "{shared_data / "bbk26_sample" / "bbk26_udbudt_private_postnr_2690_4130_4270.csv"}"
kind = "bbk"
[standard]
preset = "100/30"
[checks]
min_offer_match_share = 0.2
""",
        encoding="utf-8",
    )
    assert main(["run", str(config), "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    rec = pd.read_csv(tmp_path / "out" / "reconciliation.csv", index_col=0)
    # 1,327 rows - 5 retired = 1,322; 507 in Region Sjælland (the DAR README's count),
    # the rest lie in other municipalities of the national file
    assert rec.loc["total", "addresses"] == 1322
    assert rec.loc[["inside", "nearest"], "addresses"].sum() == 507
    assert rec.loc["outside_selection", "addresses"] == 815
    assert "309 of 1,322 addresses (23.4%) found at least one offer row" in out
    assert "only 10 of 17 municipalities" in out

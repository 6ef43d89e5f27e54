"""Regression tests for a second held-out sweep of hostile inputs against the CLI.

Each test names the class of the finding (a wrong figure, lost data, a traceback, an
unclear message). Inputs are built here, from the tiny world of conftest.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio

from coverage_gap import classify_households
from coverage_gap.cli import main
from coverage_gap.errors import RasterError
from coverage_gap.evidence import gather_evidence
from coverage_gap.io import read_signal_raster
from coverage_gap.standards import ServiceStandard

from .conftest import NODATA, OPERATOR_A, TRANSFORM, write_raster

MOBILE = ServiceStandard("m", mobile_min_dbm=-105, underserved="no_mobile")


def _untagged(path: Path, values: np.ndarray) -> Path:
    """Write a raster in EPSG:25832 without a nodata tag."""
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=values.shape[1],
        height=values.shape[0],
        count=1,
        dtype="float32",
        crs="EPSG:25832",
        transform=TRANSFORM,
    ) as dst:
        dst.write(values.astype("float32"), 1)
    return path


# --- wrong figures -------------------------------------------------------------------


def test_no_coverage_stored_as_untagged_zero_is_refused(households, municipalities, tmp_path):
    # GDAL's default fill: the cells without coverage hold 0, read as a perfect 0 dBm.
    path = _untagged(tmp_path / "zero.tif", np.where(OPERATOR_A == NODATA, 0.0, OPERATOR_A))
    with pytest.raises(RasterError, match="exactly 0") as info:
        classify_households(
            households, municipalities, MOBILE, mobile_rasters=[read_signal_raster(path)]
        )
    assert "gdal_edit.py -a_nodata 0" in info.value.problems[0].fix


def test_a_raster_without_a_value_under_any_household_is_refused(
    households, municipalities, tmp_path
):
    import pandas as pd

    empty = write_raster(tmp_path / "empty.tif", np.full((3, 3), np.nan, "float32"))
    # Many addresses under it and not one value: a wrong band or nodata, an error.
    many = pd.DataFrame(
        {
            "address_id": [f"a{i}" for i in range(25)],
            "households": 1,
            "x": np.linspace(100.0, 2900.0, 25),
            "y": 1500.0,
        }
    )
    many.attrs["crs"] = "EPSG:25832"
    with pytest.raises(RasterError, match="no value at any of the 25 addresses"):
        classify_households(
            many, municipalities, MOBILE, mobile_rasters=[read_signal_raster(empty)]
        )
    # A handful (the tiny world's 11 with a point under it): an operator may cover none.
    evidence = gather_evidence(
        households, municipalities, mobile_rasters=[read_signal_raster(empty)]
    )
    (note,) = [p for p in evidence.problems if "no value at any" in p.message]
    assert note.severity == "warning" and "of the 9 addresses within its extent" in note.message


def test_a_few_implausible_values_are_a_warning(households, municipalities, tmp_path):
    values = OPERATOR_A.copy()
    values[1, 1] = 5.0  # one cell (h5, h6 lie in it) above any real RSRP
    path = write_raster(tmp_path / "odd.tif", values)
    evidence = gather_evidence(
        households, municipalities, mobile_rasters=[read_signal_raster(path)]
    )
    (note,) = [p for p in evidence.problems if "outside -160 to -20 dBm" in p.message]
    assert note.severity == "warning"


def test_warnings_found_after_validation_reach_the_terminal(world_files, offers, tmp_path, capsys):
    # Offers for none of municipality 0002's addresses (h3, h5, h6, h9): its four
    # addresses count as unserved; the run must say so where the analyst looks.
    mine = offers[~offers["address_id"].isin(["h3", "h5", "h6", "h9"])]
    mine.to_csv(world_files.parent / "fixed.csv", index=False)
    text = world_files.read_text().replace("[checks]", "[checks]\nmin_offer_match_share = 0.1")
    if "[checks]" not in text:
        text += "\n[checks]\nmin_offer_match_share = 0.1\n"
    world_files.write_text(text)
    assert main(["run", str(world_files), "--out", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert "WARNING" in err and "no fixed offer row for any of the 4 addresses in 0002" in err


def test_siting_demand_must_be_true_or_false(line_world=None):
    import pandas as pd

    from coverage_gap.errors import SchemaError
    from coverage_gap.siting import SitingSpec, choose_sites
    from coverage_gap.standards import Provenance, get_standard

    table = pd.DataFrame(
        {
            "address_id": ["a", "b"],
            "households": [3, 1],
            "x": [0.0, 100.0],
            "y": [0.0, 0.0],
            "assignment": ["inside", "inside"],
            "municipality_code": ["0001", "0001"],
        }
    )
    table.attrs["crs"] = "EPSG:25832"
    provenance = Provenance(get_standard("100/30"), "households", 2026, "test")
    with pytest.raises(SchemaError, match="not true/false"):
        choose_sites(table, provenance, SitingSpec(sites=1, radius_m=500, demand="households"))


@pytest.mark.parametrize(
    ("section", "message"),
    [
        (
            "[siting]\nsites = 2\nradius_m = 0\ncandidate_spacing_m = 1000\n",
            "radius_m must be above 0",
        ),
        (
            "[claim]\nshare = 0.2\nmobile_min_dbm = [105]\n",
            "mobile_min_dbm must hold signal levels",
        ),
        ('[engine]\nkind = "dask"\nmemory_limit = "4 gigs"\n', "memory_limit must be a size"),
    ],
)
def test_configuration_values_out_of_range(world_files, section, message, tmp_path, capsys):
    world_files.write_text(world_files.read_text() + "\n" + section)
    assert main(["run", str(world_files), "--out", str(tmp_path / "out")]) == 3
    assert message in capsys.readouterr().err


def test_a_threshold_with_the_wrong_sign_is_refused():
    from coverage_gap.errors import ConfigError

    with pytest.raises(ConfigError, match="RSRP is negative"):
        ServiceStandard("m", mobile_min_dbm=105, underserved="no_mobile")


def test_all_counts_zero_is_an_error_not_nan(world_files, tmp_path, capsys):
    households = world_files.parent / "households.csv"
    text = households.read_text().splitlines()
    header = text[0].split(",")
    col = header.index("households")
    rows = [r.split(",") for r in text[1:]]
    for r in rows:
        r[col] = "0"
    households.write_text("\n".join([text[0], *(",".join(r) for r in rows)]) + "\n")
    assert main(["run", str(world_files), "--out", str(tmp_path / "out")]) == 4
    err = capsys.readouterr().err
    assert "no households are counted" in err and "all have a count of 0" in err


def test_the_deck_never_overwrites_its_template(world_files, tmp_path, capsys):
    from pptx import Presentation

    template = tmp_path / "org.pptx"
    Presentation().save(template)
    before = template.read_bytes()
    code = main(["deck", str(world_files), "--out", str(template), "--template", str(template)])
    assert code == 5
    assert template.read_bytes() == before


def test_replacing_another_commands_outputs_says_what_goes(world_files, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", str(world_files), "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["claim", str(world_files), "--share", "0.2", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "are not part of this output set and are removed" in err
    assert "municipalities.csv" in err


def test_addresses_beyond_a_regional_boundary_file_are_diagnosed_as_such():
    import geopandas as gpd
    import shapely

    from coverage_gap.assign import MunicipalityIndex, check_located_count
    from coverage_gap.errors import AssignmentError

    m = gpd.GeoDataFrame(
        {"municipality_code": ["0001"], "municipality_name": ["A"]},
        geometry=[shapely.box(600_000, 6_100_000, 700_000, 6_200_000)],
        crs="EPSG:25832",
    )
    # A national file against one region's outline: 3 of 10 points lie in its extent.
    x = np.array([650_000.0] * 3 + [500_000.0] * 7)
    y = np.full(10, 6_150_000.0)
    with pytest.raises(AssignmentError, match=r"larger area than the boundary file \(only 30%"):
        check_located_count(3, 10, x, y, MunicipalityIndex.build(m))


def test_speeds_in_kbit_are_refused(tmp_path):
    from coverage_gap import read_offers
    from coverage_gap.validate import validate_offers

    path = tmp_path / "o.csv"
    path.write_text("id,down,up\na,2500000,2500000\nb,5000,\nc,100000,30000\n")
    offers = read_offers(path, id="id", download="down", upload="up")
    found = [p for p in validate_offers(offers, source="o.csv")[1] if "kbit/s" in p.message]
    assert [(p.column, p.count, p.severity) for p in found] == [
        ("down_mbps", 1, "error"),
        ("up_mbps", 1, "error"),
    ]
    assert "up to 2,500,000" in found[0].message

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
    empty = write_raster(tmp_path / "empty.tif", np.full((3, 3), np.nan, "float32"))
    with pytest.raises(RasterError, match="no value at any of the 12 addresses"):
        classify_households(
            households, municipalities, MOBILE, mobile_rasters=[read_signal_raster(empty)]
        )


def test_a_few_implausible_values_are_a_warning(households, municipalities, tmp_path):
    values = OPERATOR_A.copy()
    values[1, 1] = 5.0  # one cell (h5, h6 lie in it) above any real RSRP
    path = write_raster(tmp_path / "odd.tif", values)
    evidence = gather_evidence(
        households, municipalities, mobile_rasters=[read_signal_raster(path)]
    )
    (note,) = [p for p in evidence.problems if "outside -160 to -20 dBm" in p.message]
    assert note.severity == "warning"


def test_warnings_found_after_validation_reach_the_terminal(
    world_files, offers, tmp_path, capsys
):
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

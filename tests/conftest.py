"""Shared fixtures: a hand-checkable world of two municipalities and twelve addresses.

Layout (metres, EPSG:25832)::

    y=3000 +---------+---------+---------+
           | h1      |h2       |      h3 |     municipality 0001 = x 0..1500
           |         |    .    |         |     municipality 0002 = x 1500..3000
    y=2000 +---------+----.----+---------+     raster cells are 1000 m
           | h4      |    .h5  |      h6 |
    y=1000 +-------h12----.----+---------+
           | h7      |   h8    |         |  h9 (3100, 500)   h10 (5000, 500)
    y=0    +---------+---------+---------+
           0        1000      2000      3000

Expected values are worked out by hand in the tests.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from affine import Affine

from coverage_gap.io import write_signal_raster
from coverage_gap.layers import SignalRaster

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
NODATA = -9999.0
TRANSFORM = Affine(1000, 0, 0, 0, -1000, 3000)

OPERATOR_A = np.array([[-90, -100, NODATA], [-110, -95, -120], [NODATA, -104, -80]], "float32")
OPERATOR_B = np.array([[-120, -90, -100], [NODATA, -112, -106], [-100, NODATA, NODATA]], "float32")

HOUSEHOLDS = [
    # id, households, x, y
    ("h1", 1, 500.0, 2500.0),
    ("h2", 2, 1200.0, 2500.0),
    ("h3", 1, 2500.0, 2500.0),
    ("h4", 3, 500.0, 1500.0),
    ("h5", 1, 1800.0, 1500.0),
    ("h6", 1, 2500.0, 1500.0),
    ("h7", 4, 500.0, 500.0),
    ("h8", 2, 1500.0, 500.0),  # on the shared border: goes to 0001, listed first
    ("h9", 1, 3100.0, 500.0),  # 100 m outside 0002: nearest within 250 m
    ("h10", 1, 5000.0, 500.0),  # 2 km outside: unassigned
    ("h11", 1, np.nan, np.nan),  # no point: invalid
    ("h12", 5, 1000.0, 1000.0),  # on a raster cell corner
]

OFFERS = [
    ("h1", "fiber", 1000.0, 1000.0),
    ("h2", "cable_tv", 500.0, 20.0),  # best down and best up come from different offers:
    ("h2", "xdsl", 50.0, 50.0),  # not served, no single offer meets both
    ("h3", "fixed_wireless", 100.0, np.nan),  # upload not stated
    ("h5", "fiber", 100.0, 30.0),  # exactly at the thresholds
    ("h6", "fiber", 99.9, 100.0),
    ("h7", "xdsl", 20.0, 2.0),
    ("h7", "fiber", 1000.0, 1000.0),
    ("h8", "fiber", 300.0, 300.0),
    ("h9", "fiber", 1000.0, 1000.0),
    ("h10", "fiber", 1000.0, 1000.0),
    ("h12", "cable_tv", 100.0, 29.99),
    ("zz", "fiber", 1000.0, 1000.0),  # an offer for an address we do not have
]


def _as_nan(values: np.ndarray) -> np.ndarray:
    out = values.astype("float32").copy()
    out[out == NODATA] = np.nan
    return out


@pytest.fixture
def municipalities() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"municipality_code": ["0001", "0002"], "municipality_name": ["Aby", "Bøby"]},
        geometry=[shapely.box(0, 0, 1500, 3000), shapely.box(1500, 0, 3000, 3000)],
        crs="EPSG:25832",
    )


@pytest.fixture
def households() -> pd.DataFrame:
    table = pd.DataFrame(HOUSEHOLDS, columns=["address_id", "households", "x", "y"])
    table.index = pd.Index([f"row{i}" for i in range(len(table))])
    table.attrs["crs"] = "EPSG:25832"
    return table


@pytest.fixture
def offers() -> pd.DataFrame:
    return pd.DataFrame(OFFERS, columns=["address_id", "technology", "down_mbps", "up_mbps"])


@pytest.fixture
def rasters() -> list[SignalRaster]:
    return [
        SignalRaster("A", _as_nan(OPERATOR_A), TRANSFORM, "EPSG:25832"),
        SignalRaster("B", _as_nan(OPERATOR_B), TRANSFORM, "EPSG:25832"),
    ]


def write_raster(
    path: Path, values: np.ndarray, *, crs: str | None = "EPSG:25832", transform: Affine = TRANSFORM
) -> Path:
    return write_signal_raster(path, _as_nan(values), transform, crs=crs, nodata=NODATA)


@pytest.fixture
def world_files(tmp_path: Path, municipalities, households, offers) -> Path:
    """The tiny world as files plus a config; returns the config path."""
    municipalities.rename(
        columns={"municipality_code": "code", "municipality_name": "name"}
    ).to_file(tmp_path / "municipalities.gpkg")
    households.to_csv(tmp_path / "households.csv", index=False)
    offers.to_csv(tmp_path / "fixed.csv", index=False)
    write_raster(tmp_path / "operator_a.tif", OPERATOR_A)
    write_raster(tmp_path / "operator_b.tif", OPERATOR_B)
    config = tmp_path / "run.toml"
    config.write_text(
        """
[meta]
data_year = 2026
source = "hand-made test world"
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
path = "fixed.csv"
id = "address_id"
download = "down_mbps"
upload = "up_mbps"
technology = "technology"

[[mobile]]
path = "operator_a.tif"
[[mobile]]
path = "operator_b.tif"

[standard]
fixed_down_mbps = 100
fixed_up_mbps = 30
mobile_min_dbm = -105
underserved = "no_fixed"
""",
        encoding="utf-8",
    )
    return config


@pytest.fixture
def shared_data() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared/data is not present")
    return SHARED

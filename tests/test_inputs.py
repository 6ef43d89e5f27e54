"""Readers and validation: every bad input gets a named error naming file, column and fix."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from coverage_gap import (
    InputError,
    read_coverage_polygons,
    read_households,
    read_municipalities,
    read_offers,
    read_signal_raster,
)
from coverage_gap.errors import CRSError, EmptyInputError, RasterError, SchemaError
from coverage_gap.io._common import normalize_codes
from coverage_gap.validate import validate_households, validate_municipalities, validate_offers

from .conftest import NODATA, OPERATOR_A, write_raster


def _csv(tmp_path, text, name="h.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- households -----------------------------------------------------------------------


def test_households_from_csv_lonlat_are_projected(tmp_path):
    path = _csv(tmp_path, "id,lon,lat\na,12.3,55.58333\n")
    table = read_households(path, id="id", crs="EPSG:4326")
    # Greve's town point, as given in the region facts (x 707981.1, y 6164650.1)
    assert table["x"].iloc[0] == pytest.approx(707981.1, abs=0.1)
    assert table["y"].iloc[0] == pytest.approx(6164650.1, abs=0.1)
    assert table["households"].tolist() == [1]
    assert table.attrs["crs"] == "EPSG:25832"


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson", ".shp", ".parquet"])
def test_households_from_vector_formats(tmp_path, households, suffix):
    from coverage_gap.layers import to_geodataframe

    gdf = to_geodataframe(households.iloc[:10]).drop(columns=["x", "y"])
    gdf["kommune"] = [253, 253, 265, 265, 265, 265, 265, 265, 265, 265]
    path = tmp_path / f"h{suffix}"
    if suffix == ".parquet":
        gdf.to_parquet(path)
    else:
        gdf.to_file(path)
    table = read_households(path, households="households", municipality="kommune")
    assert table["address_id"].tolist() == [f"h{i}" for i in range(1, 11)]
    assert table["households"].astype(int).tolist() == households["households"].iloc[:10].tolist()
    np.testing.assert_allclose(table["x"], households["x"].iloc[:10])
    assert table["declared_municipality_code"].iloc[0] == "0253"


def test_geoparquet_native_point_encoding(tmp_path, households):
    from coverage_gap.layers import to_geodataframe

    gdf = to_geodataframe(households.iloc[:10])
    path = tmp_path / "h.parquet"
    gdf.to_parquet(path, geometry_encoding="geoarrow")
    table = read_households(path)
    np.testing.assert_allclose(table["y"], households["y"].iloc[:10])


def test_geoparquet_wkb_with_null_and_empty_points(tmp_path):
    gdf = gpd.GeoDataFrame(
        {"address_id": ["a", "b", "c"]},
        geometry=[shapely.Point(700001, 6100002), None, shapely.Point()],
        crs="EPSG:25832",
    )
    path = tmp_path / "h.parquet"
    gdf.to_parquet(path)
    table = read_households(path)
    assert table["x"].iloc[0] == 700001.0
    assert table["x"].iloc[1:].isna().all()


def test_csv_needs_a_crs(tmp_path):
    path = _csv(tmp_path, "address_id,x,y\na,700000,6100000\n")
    with pytest.raises(InputError, match="explicit CRS") as info:
        read_households(path)
    assert str(path) in str(info.value)


def test_missing_id_column_names_file_and_column(tmp_path):
    path = _csv(tmp_path, "adr,x,y\na,700000,6100000\n")
    with pytest.raises(SchemaError) as info:
        read_households(path, id="address_id", crs="EPSG:25832")
    problem = info.value.problems[0]
    assert problem.column == "address_id" and problem.source == str(path)
    assert "adr" in problem.message and problem.fix


def test_ambiguous_coordinate_columns(tmp_path):
    path = _csv(tmp_path, "address_id,x,y,lon,lat\na,700000,6100000,12,55\n")
    with pytest.raises(InputError, match="ambiguous"):
        read_households(path, crs="EPSG:25832")


def test_lonlat_declared_as_metres(tmp_path):
    path = _csv(tmp_path, "address_id,x,y\na,12.1,55.6\nb,12.2,55.7\n")
    with pytest.raises(CRSError, match="look like lon/lat"):
        read_households(path, crs="EPSG:25832")


def test_metres_declared_as_lonlat(tmp_path):
    path = _csv(tmp_path, "address_id,x,y\na,700000,6100000\n")
    with pytest.raises(CRSError, match="look like metres"):
        read_households(path, crs="EPSG:4326")


def test_layer_without_crs(tmp_path):
    gdf = gpd.GeoDataFrame({"address_id": ["a"]}, geometry=[shapely.Point(700000, 6100000)])
    path = tmp_path / "nocrs.shp"
    with pytest.warns(UserWarning, match="crs"):
        gdf.to_file(path)
    with pytest.raises(CRSError, match="no CRS"):
        read_households(path)
    assert read_households(path, crs="EPSG:25832")["x"].iloc[0] == 700000


def test_crs_that_contradicts_the_file(tmp_path, households):
    from coverage_gap.layers import to_geodataframe

    path = tmp_path / "h.gpkg"
    to_geodataframe(households.iloc[:3]).to_file(path)
    with pytest.raises(CRSError, match="was given"):
        read_households(path, crs="EPSG:3035")


def test_empty_file_and_header_only(tmp_path):
    empty = _csv(tmp_path, "", "empty.csv")
    with pytest.raises(EmptyInputError, match="empty"):
        read_households(empty, crs="EPSG:25832")
    header = _csv(tmp_path, "address_id,x,y\n", "header.csv")
    with pytest.raises(EmptyInputError, match="no rows"):
        read_households(header, crs="EPSG:25832")


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="not found"):
        read_households(tmp_path / "nope.csv", crs="EPSG:25832")


def test_corrupt_vector_file_is_our_error(tmp_path):
    path = tmp_path / "broken.gpkg"
    path.write_bytes(b"this is not a geopackage at all")
    with pytest.raises(InputError, match="cannot read"):
        read_households(path)


def _table(**columns):
    table = pd.DataFrame(columns)
    table.attrs["crs"] = "EPSG:25832"
    return table


def test_nan_and_infinite_coordinates_are_counted_not_fatal():
    table = _table(
        address_id=["a", "b", "c"],
        households=[1, 1, 1],
        x=[700000.0, np.nan, np.inf],
        y=[6.1e6, 6.1e6, 6.1e6],
    )
    _, problems = validate_households(table, source="t.csv")
    assert [p.severity for p in problems] == ["warning"]
    assert problems[0].count == 2 and problems[0].rows == (1, 2)


def test_duplicate_ids_and_bad_counts_collected_at_once():
    table = _table(
        address_id=["a", "a", "b", "c"],
        households=[1, -2, 1.5, "x"],
        x=[700000.0] * 4,
        y=[6.1e6] * 4,
    )
    _, problems = validate_households(table, source="t.csv")
    messages = [p.message for p in problems if p.severity == "error"]
    assert "duplicate address ids: every address must appear once" in messages
    assert "negative household counts" in messages
    assert "household counts that are not whole numbers" in messages
    assert "household counts that are not numbers" in messages
    duplicate = next(p for p in problems if p.message.startswith("duplicate"))
    assert duplicate.rows == ("a",) and duplicate.count == 2


def test_valid_counts_become_integers():
    table = _table(address_id=["a"], households=[2.0], x=[700000.0], y=[6.1e6])
    clean, problems = validate_households(table, source="t")
    assert problems == [] and clean["households"].dtype == np.int64


# --- municipalities --------------------------------------------------------------------


def test_dagi_column_variants_and_code_padding(tmp_path):
    gdf = gpd.GeoDataFrame(
        {"KOMKODE": [253, 265], "KOMNAVN": ["Greve", "Roskilde"]},
        geometry=[shapely.box(7e5, 6.1e6, 7.1e5, 6.11e6), shapely.box(7.1e5, 6.1e6, 7.2e5, 6.11e6)],
        crs="EPSG:25832",
    )
    path = tmp_path / "k.shp"
    gdf.to_file(path)
    layer = read_municipalities(path, code="KOMKODE", name="KOMNAVN")
    assert layer["municipality_code"].tolist() == ["0253", "0265"]
    chosen = read_municipalities(path, code="KOMKODE", name="KOMNAVN", codes=["265"])
    # every polygon stays (it places addresses); only the chosen one is reported
    assert chosen["municipality_name"].tolist() == ["Greve", "Roskilde"]
    assert chosen["selected"].tolist() == [False, True]
    with pytest.raises(SchemaError, match="not in the file"):
        read_municipalities(path, code="KOMKODE", name="KOMNAVN", codes=["0999"])


def test_normalize_codes():
    assert normalize_codes(pd.Series([253, "253", "0253", 1085.0])).tolist() == [
        "0253",
        "0253",
        "0253",
        "1085",
    ]


def test_invalid_polygons_are_repaired_and_reported():
    bow = shapely.Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])
    layer = gpd.GeoDataFrame(
        {"municipality_code": ["0001"], "municipality_name": ["A"]},
        geometry=[bow],
        crs="EPSG:25832",
    )
    fixed, problems = validate_municipalities(layer, source="m.gpkg")
    assert fixed.geometry.is_valid.all() and fixed.area.iloc[0] == pytest.approx(50)
    assert problems[0].severity == "warning" and "repaired" in problems[0].message


def test_parts_with_one_code_are_dissolved():
    layer = gpd.GeoDataFrame(
        {"municipality_code": ["0001", "0001"], "municipality_name": ["A", "A"]},
        geometry=[shapely.box(0, 0, 1, 1), shapely.box(5, 5, 6, 6)],
        crs="EPSG:25832",
    )
    fixed, problems = validate_municipalities(layer, source="m")
    assert len(fixed) == 1 and fixed.area.iloc[0] == pytest.approx(2)
    assert "dissolved" in problems[0].message


def test_non_polygon_and_empty_municipalities():
    layer = gpd.GeoDataFrame(
        {"municipality_code": ["0001", "0002"], "municipality_name": ["A", "B"]},
        geometry=[shapely.Point(0, 0), shapely.Polygon()],
        crs="EPSG:25832",
    )
    _, problems = validate_municipalities(layer, source="m")
    assert {p.message for p in problems} == {
        "geometries that are not polygons",
        "empty or missing geometries",
    }


def test_empty_municipality_layer():
    layer = gpd.GeoDataFrame(
        {"municipality_code": [], "municipality_name": []}, geometry=[], crs="EPSG:25832"
    )
    assert validate_municipalities(layer, source="m")[1][0].message.endswith("no rows")


# --- offers ----------------------------------------------------------------------------


def test_offers_long_layout(tmp_path):
    path = _csv(tmp_path, "id,tech,down,up\n007,fiber,1000,1000\n007,xdsl,20,\n", "o.csv")
    offers = read_offers(path, id="id", download="down", upload="up", technology="tech")
    assert offers["address_id"].tolist() == ["007", "007"]  # ids stay text
    assert offers["up_mbps"].isna().tolist() == [False, True]


def test_offers_decimal_comma_and_text_in_speed_column(tmp_path):
    path = _csv(tmp_path, 'id;down;up\n"a";"50,5";"10,240"\n', "o.csv")
    offers = read_offers(path, id="id", download="down", upload="up", decimal=",")
    assert offers[["down_mbps", "up_mbps"]].values.tolist() == [[50.5, 10.24]]
    bad = _csv(tmp_path, "id,down,up\na,100,10\nb,fast,10\n", "bad.csv")
    with pytest.raises(InputError) as info:
        read_offers(bad, id="id", download="down", upload="up")
    problem = info.value.problems[0]
    assert problem.column == "down" and problem.rows == (3,) and "fast" in problem.message


def test_offer_validation():
    offers = pd.DataFrame(
        {"address_id": ["a", None], "down_mbps": [np.nan, 10.0], "up_mbps": [1.0, -1.0]}
    )
    messages = {p.message for p in validate_offers(offers, source="o")[1]}
    # a row without download lists its address with nothing offered: not an error
    assert messages == {"offers without an address id", "negative upload speeds"}
    nothing = pd.DataFrame({"address_id": ["a"], "down_mbps": [np.nan], "up_mbps": [1.0]})
    assert [p.message for p in validate_offers(nothing, source="o")[1]] == [
        "no row of the offer table has a download speed"
    ]
    infinite = pd.DataFrame({"address_id": ["a"], "down_mbps": [np.inf], "up_mbps": [1.0]})
    assert [p.message for p in validate_offers(infinite, source="o")[1]] == ["infinite speeds"]


# --- rasters and polygons --------------------------------------------------------------


def test_raster_nodata_and_window(tmp_path):
    path = write_raster(tmp_path / "a.tif", OPERATOR_A)
    raster = read_signal_raster(path, bounds=(2100, 100, 2900, 900))
    # the window is the cells around the bounds plus one cell of margin, clipped
    assert raster.values.tolist() == [[-95.0, -120.0], [-104.0, -80.0]]
    assert (raster.transform.c, raster.transform.f) == (1000.0, 2000.0)
    full = read_signal_raster(path)
    assert np.isnan(full.values).sum() == int((OPERATOR_A == NODATA).sum())
    assert full.name == "a"


def test_raster_without_crs_in_other_crs_and_outside(tmp_path):
    nocrs = write_raster(tmp_path / "nocrs.tif", OPERATOR_A, crs=None)
    with pytest.raises(RasterError, match="no CRS"):
        read_signal_raster(nocrs)
    assert read_signal_raster(nocrs, crs="EPSG:25832").values.shape == (3, 3)
    other = write_raster(tmp_path / "laea.tif", OPERATOR_A, crs="EPSG:3035")
    with pytest.raises(RasterError, match="not the working CRS"):
        read_signal_raster(other)
    path = write_raster(tmp_path / "a.tif", OPERATOR_A)
    with pytest.raises(RasterError, match="overlaps none"):
        read_signal_raster(path, bounds=(50000, 50000, 60000, 60000))


def test_not_a_raster(tmp_path):
    path = tmp_path / "x.tif"
    path.write_text("nope")
    with pytest.raises(RasterError, match="not a readable raster"):
        read_signal_raster(path)


def test_coverage_polygons_in_other_crs_are_reprojected(tmp_path):
    gdf = gpd.GeoDataFrame(
        {"dl": ["100"], "ul": [30]}, geometry=[shapely.box(12, 55, 12.1, 55.1)], crs="EPSG:4326"
    )
    path = tmp_path / "c.geojson"
    gdf.to_file(path)
    layer = read_coverage_polygons(path, download="dl", upload="ul")
    assert layer.crs.to_epsg() == 25832 and layer["down_mbps"].tolist() == [100.0]
    assert json.loads(layer.to_json())["features"][0]["geometry"]["type"] == "Polygon"


@pytest.mark.parametrize("suffix", [".parquet", ".gpkg"])
def test_households_that_are_not_points(tmp_path, suffix):
    gdf = gpd.GeoDataFrame(
        {"address_id": ["a", "b"]},
        geometry=[shapely.Point(700000, 6100000), shapely.box(700000, 6100000, 700010, 6100010)],
        crs="EPSG:25832",
    )
    path = tmp_path / f"h{suffix}"
    gdf.to_parquet(path) if suffix == ".parquet" else gdf.to_file(path)
    with pytest.raises(SchemaError, match="must be points") as info:
        read_households(path)
    assert info.value.problems[0].count == 1

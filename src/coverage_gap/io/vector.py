"""Readers for household points, municipality boundaries and coverage polygons.

Formats: CSV (x/y or lon/lat columns plus an explicit CRS), GeoParquet (point
coordinates decoded without shapely), and every vector format GDAL reads through
pyogrio (GeoPackage, GeoJSON, Shapefile, FlatGeobuf, ...). Every layer is brought to the
working CRS (EPSG:25832 unless told otherwise); a layer without a CRS is an error unless
the caller states it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from pyproj import CRS

from .. import schema as S
from ..errors import CRSError, EmptyInputError, InputError, Problem, SchemaError
from ..layers import point_coordinates
from ..validate import check_coordinates_crs
from ._common import (
    PARQUET_SUFFIXES,
    TABLE_SUFFIXES,
    PathLike,
    address_key,
    arrow_to_pandas,
    as_text,
    crs_name,
    existing_file,
    normalize_codes,
    parse_crs,
    pick_columns,
    reading,
    require_columns,
    resolve_crs,
    transform_xy,
)
from .numbers import parse_numbers
from .tabular import parquet_schema, point_xy, read_csv, read_parquet

log = logging.getLogger(__name__)

_XY_CANDIDATES = (
    ("x", "y"),
    ("lon", "lat"),
    ("lng", "lat"),
    ("longitude", "latitude"),
    ("easting", "northing"),
    ("etrs89koordinat_øst", "etrs89koordinat_nord"),
    ("etrs89koordinat_oest", "etrs89koordinat_nord"),
    ("wgs84koordinat_længde", "wgs84koordinat_bredde"),
)


def _geojson_without_crs(path: Path) -> bool:
    """Whether a GeoJSON file leaves its CRS to the format's default (lon/lat, RFC 7946)."""
    if path.suffix.lower() not in (".geojson", ".json"):
        return False
    with open(path, "rb") as handle:
        head = handle.read(1 << 16)
    return b'"crs"' not in head


def layer_crs_of(
    path: Path,
    file_crs: object | None,
    given: object | None,
    bounds: tuple[float, float, float, float] | None,
    *,
    source: str,
) -> CRS:
    """Return the CRS of a layer read from ``path``, checked against its coordinates.

    A GeoJSON file without a ``crs`` member is lon/lat by the format's rule; exports in
    metres often omit the member, so there the caller's ``crs`` decides. Coordinates
    that contradict the CRS (degrees declared as metres, or metres as degrees) are an
    error that names the fix.
    """
    undeclared = _geojson_without_crs(path)
    crs = resolve_crs(None if undeclared and given is not None else file_crs, given, source=source)
    if bounds is not None:
        xmin, ymin, xmax, ymax = bounds
        problems = check_coordinates_crs(
            np.array([xmin, xmax]), np.array([ymin, ymax]), crs, source=source
        )
        if problems:
            if undeclared:
                problems = [
                    replace(
                        p,
                        message=p.message + " (the file has no crs member: GeoJSON is then "
                        "read as longitude/latitude)",
                    )
                    for p in problems
                ]
            raise CRSError(problems)
    return crs


def _reprojected(gdf: gpd.GeoDataFrame, layer_crs: CRS, working_crs: object) -> object:
    """Return the geometry of ``gdf`` read in ``layer_crs``, in the working CRS.

    ``layer_crs`` may differ from the CRS the file reader attached (a GeoJSON without
    a crs member is labelled lon/lat by the reader), so the label is replaced, not
    checked.
    """
    series = gpd.GeoSeries(gdf.geometry.values, index=gdf.index)
    return series.set_crs(layer_crs, allow_override=True).to_crs(working_crs).array


def _bounds_of(gdf: gpd.GeoDataFrame) -> tuple[float, float, float, float] | None:
    bounds = gdf.total_bounds
    return tuple(float(v) for v in bounds) if np.isfinite(bounds).all() else None  # type: ignore[return-value]


def choose_layer(path: Path, layer: str | int | None) -> str | int | None:
    """Return the layer to read: ``layer``, or the only one (several need ``layer``).

    Reading "the first layer" of a GeoPackage with several would read the wrong data
    without a word. A ``layer`` the file lacks is an error listing the layers present.
    """
    with reading(str(path), "vector file"):
        layers = pyogrio.list_layers(path)
    names = [str(name) for name in layers[:, 0]]
    if layer is not None:
        if isinstance(layer, str) and layer not in names:
            close = [n for n in names if n.casefold() == layer.casefold()]
            raise InputError(
                Problem(
                    str(path),
                    f"the file has no layer {layer!r}; layers in the file: {names}",
                    fix=f'write layer = "{close[0]}" (the name differs in case)'
                    if close
                    else 'name one of these with layer = "..."',
                )
            )
        if isinstance(layer, int) and not -len(names) <= layer < len(names):
            raise InputError(
                Problem(
                    str(path),
                    f"the file has no layer number {layer} (it has {len(names)}, numbered "
                    f"from 0); layers in the file: {names}",
                    fix='name one of these with layer = "..."',
                )
            )
        return layer
    if len(layers) > 1:
        raise InputError(
            Problem(
                str(path),
                f"the file has {len(names)} layers: {names}",
                fix='name the one to read with layer = "..."',
            )
        )
    return None


def _read_vector(
    path: Path,
    *,
    columns: list[str] | None,
    layer: str | int | None,
    optional: Sequence[str] = (),
) -> gpd.GeoDataFrame:
    source = str(path)
    layer = choose_layer(path, layer)
    with reading(source, "vector file"):
        info = pyogrio.read_info(path, layer=layer)
        if columns is not None:
            require_columns(list(info["fields"]), columns, source=source, what="layer")
            fields = set(info["fields"])
            columns = [*columns, *(c for c in optional if c in fields and c not in columns)]
        frame = pyogrio.read_dataframe(path, layer=layer, columns=columns)
    if len(frame) == 0:
        raise EmptyInputError(
            Problem(source, "the layer has no features", fix="check the path and the layer name")
        )
    return frame


def read_households(
    path: PathLike,
    *,
    id: str | Sequence[str] = S.ADDRESS_ID,
    households: str | None = None,
    municipality: str | None = None,
    x: str | None = None,
    y: str | None = None,
    crs: object | None = None,
    layer: str | int | None = None,
    decimal: str | None = None,
    working_crs: object = S.WORKING_CRS,
    keep: Sequence[str] = (),
) -> pd.DataFrame:
    r"""Read household address points into the canonical household table.

    Parameters
    ----------
    path
        CSV, GeoParquet/Parquet, GeoPackage, GeoJSON, Shapefile or another vector file.
    id
        Column with the address id (read as text), or several columns that together name
        an address (``["postnr", "vejnavn", "husnr"]``, joined as ``"2690|Rørhaven|50"``).
    households
        Column with households (or dwellings) per address; 1 per address when ``None``.
    municipality
        Optional column with a declared municipality code, kept as
        ``declared_municipality_code`` (normalised to 4-digit text).
    x, y
        Coordinate columns of a CSV or plain Parquet file; found among common names
        (``x``/``y``, ``lon``/``lat``, DAWA's ``etrs89koordinat_øst``/``_nord``) when
        not given.
    crs
        CRS of the coordinates. Required for CSV and plain Parquet; for files with a
        CRS of their own it must agree with it.
    layer
        Layer of a multi-layer file (GeoPackage); required when the file has several.
    decimal
        Decimal mark of text coordinates in a table: ``","`` (``705704,5``), ``"."``,
        or None to detect it. Text that is not a number is an error, never a silently
        "invalid" row (see :mod:`coverage_gap.io.numbers`).
    working_crs
        CRS of the returned coordinates.
    keep
        Further columns carried into the table as they are, where the file has them
        (the zone and town size the broadband pool needs; a run asks for the columns
        its ``[pool]`` section names). Names of the canonical columns are ignored.

    Returns
    -------
    pandas.DataFrame
        ``address_id``, ``households``, ``x``, ``y`` (and
        ``declared_municipality_code``, and the ``keep`` columns present), with
        ``attrs["crs"]``, ``attrs["source"]``,
        ``attrs["id_column"]`` and ``attrs["households_column"]``. Row order and index
        follow the file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "h.csv"
    >>> _ = p.write_text("id,lon,lat,hh\na1,12.0,55.5,2\n")
    >>> t = read_households(p, id="id", households="hh", crs="EPSG:4326")
    >>> t[["address_id", "households"]].values.tolist(), round(t["x"].iloc[0])
    ([['a1', 2]], 689481)
    """
    p = existing_file(path)
    source = str(p)
    key = [id] if isinstance(id, str) else list(id)
    wanted = [*dict.fromkeys([*key, *(c for c in (households, municipality) if c)])]
    suffix = p.suffix.lower()
    if suffix in TABLE_SUFFIXES or suffix in PARQUET_SUFFIXES:
        if suffix in TABLE_SUFFIXES:
            # With a declared decimal comma every column is text: "1.000" must not be
            # inferred as 1.0 before the parser sees it.
            # UTF-8 or Latin-1/cp1252 (Danish Excel), detected as the Danish readers do.
            frame = read_csv(
                p,
                text_columns=[*key, *([municipality] if municipality else [])],
                all_text=decimal == ",",
                encoding=None,
            )
            geo: dict = {}
        else:
            # Only the columns the table needs: a wide address file may carry dozens.
            names, geo = parquet_schema(p)
            kept = [c for c in keep if c in names]
            if geo:
                primary = geo.get("primary_column", "geometry")
                require_columns(names, wanted, source=source, what="household")
                table, _ = read_parquet(p, columns=[*dict.fromkeys([*wanted, primary, *kept])])
            else:
                if x is None or y is None:
                    x, y = pick_columns(names, _XY_CANDIDATES, source=source, what="coordinate")
                require_columns(names, [*wanted, x, y], source=source, what="household")
                table, _ = read_parquet(p, columns=[*dict.fromkeys([*wanted, x, y, *kept])])
            frame = None
        if geo:
            meta = geo["columns"][primary]
            xs, ys = point_xy(table.column(primary), meta.get("encoding", "WKB"), source=source)
            # GeoParquet: a missing "crs" key means OGC:CRS84; an explicit null means unknown.
            file_crs = meta["crs"] if "crs" in meta else "OGC:CRS84"
            extra = [c for c in keep if c in table.column_names and c not in (*wanted, primary)]
            frame = arrow_to_pandas(table.select([*wanted, *extra]))
        else:
            if frame is None:
                frame = arrow_to_pandas(table)
            if x is None or y is None:
                x, y = pick_columns(
                    list(frame.columns), _XY_CANDIDATES, source=source, what="coordinate"
                )
            require_columns(list(frame.columns), [*wanted, x, y], source=source, what="household")
            xs = _coordinates(frame[x], decimal=decimal, source=source, column=x)
            ys = _coordinates(frame[y], decimal=decimal, source=source, column=y)
            file_crs = None
            if crs is None:
                raise InputError(
                    Problem(
                        source,
                        "a table of coordinates needs an explicit CRS",
                        fix='pass crs="EPSG:25832" for ETRS89/UTM 32N '
                        'metres or crs="EPSG:4326" for lon/lat',
                    )
                )
    else:
        gdf = _read_vector(p, columns=wanted, layer=layer, optional=keep)
        xs, ys = point_coordinates(gdf.geometry.array, source=source)
        file_crs = gdf.crs
        frame = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    finite = np.isfinite(xs) & np.isfinite(ys)
    bounds = (
        (
            float(xs[finite].min()),
            float(ys[finite].min()),
            float(xs[finite].max()),
            float(ys[finite].max()),
        )
        if finite.any()
        else None
    )
    layer_crs = layer_crs_of(p, file_crs, crs, bounds, source=source)
    target = parse_crs(working_crs, source="working_crs")
    xs, ys = transform_xy(xs, ys, layer_crs, target)

    out = pd.DataFrame(index=frame.index)
    out[S.ADDRESS_ID] = address_key(frame, id)
    # Counts are checked (and made int64) by validate_households, which names bad rows.
    out[S.HOUSEHOLDS] = (
        _counts(frame[households], decimal=decimal, source=source, column=households)
        if households
        else np.ones(len(frame), dtype=np.int64)
    )
    out[S.X] = xs
    out[S.Y] = ys
    if municipality:
        out[S.DECLARED_MUNICIPALITY] = normalize_codes(frame[municipality])
    for column in keep:
        if column in frame and column not in out and column not in (x, y):
            out[column] = frame[column].to_numpy()
    out.attrs.update(
        crs=crs_name(target),
        source=source,
        source_crs=crs_name(layer_crs),
        id_column=id if isinstance(id, str) else "+".join(id),
        households_column=households,
    )
    if suffix in TABLE_SUFFIXES:
        out.attrs["first_line"] = 2  # rows of a text file are named by its lines
    log.info("read %d addresses from %s", len(out), source)
    return out


def _coordinates(values: pd.Series, *, decimal: str | None, source: str, column: str) -> np.ndarray:
    """Coordinates as float64: empty cells become NaN (an invalid row), text an error."""
    return parse_numbers(
        values,
        decimal=decimal,
        source=source,
        column=column,
        what="coordinate",
        allow_infinite=True,
    )


def _counts(values: pd.Series, *, decimal: str | None, source: str, column: str) -> pd.Series:
    """Household counts: numbers stay as they are (validation checks them), text is parsed."""
    if pd.api.types.is_numeric_dtype(values):
        return values
    numbers = parse_numbers(
        values, decimal=decimal, source=source, column=column, what="household count"
    )
    return pd.Series(numbers, index=values.index)


def read_municipalities(
    path: PathLike,
    *,
    code: str = "code",
    name: str = "name",
    crs: object | None = None,
    layer: str | int | None = None,
    codes: list[str] | None = None,
    working_crs: object = S.WORKING_CRS,
) -> gpd.GeoDataFrame:
    """Read municipality polygons with a code and a name column.

    Codes are kept as text and normalised to four digits (``253`` → ``"0253"``).

    Parameters
    ----------
    path
        Any vector file GDAL reads (GeoPackage, GeoJSON, Shapefile, GeoParquet, ...).
    code, name
        Columns with the municipality code and name.
    crs
        CRS to assume when the file has none (an error otherwise).
    layer
        Layer of a multi-layer file.
    codes
        Report only these municipality codes (a code not in the file is an error). The
        other polygons are kept, marked ``selected = False``: they still place
        addresses, so that an address in a neighbouring municipality is never counted
        in a selected one (see :class:`coverage_gap.MunicipalityIndex`).
    working_crs
        CRS of the returned polygons.

    Returns
    -------
    geopandas.GeoDataFrame
        ``municipality_code``, ``municipality_name``, ``geometry`` in the working CRS
        (and ``selected`` when ``codes`` is given), with ``attrs["source"]``. Not yet
        validated: see :func:`coverage_gap.validate_municipalities`.

    Examples
    --------
    >>> import tempfile, pathlib, shapely
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "m.geojson"
    >>> _ = gpd.GeoDataFrame({"kode": [253], "navn": ["Greve"]},
    ...                      geometry=[shapely.box(700000, 6160000, 710000, 6170000)],
    ...                      crs="EPSG:25832").to_file(p)
    >>> read_municipalities(p, code="kode", name="navn")["municipality_code"].tolist()
    ['0253']
    >>> read_municipalities(p, code="kode", name="navn", codes=["0253"])["selected"].tolist()
    [True]
    """
    p = existing_file(path)
    source = str(p)
    if p.suffix.lower() in PARQUET_SUFFIXES:
        with reading(source, "GeoParquet file"):
            gdf = gpd.read_parquet(p)
        require_columns(list(gdf.columns), [code, name], source=source, what="municipality")
        if len(gdf) == 0:
            raise EmptyInputError(
                Problem(source, "the layer has no features", fix="check the path")
            )
    else:
        gdf = _read_vector(p, columns=[code, name], layer=layer)
    layer_crs = layer_crs_of(p, gdf.crs, crs, _bounds_of(gdf), source=source)
    out = gpd.GeoDataFrame(
        {
            S.MUNICIPALITY_CODE: normalize_codes(gdf[code]).to_numpy(dtype=object),
            S.MUNICIPALITY_NAME: gdf[name].astype(str).to_numpy(dtype=object),
        },
        geometry=_reprojected(gdf, layer_crs, working_crs),
        crs=parse_crs(working_crs, source="working_crs"),
    )
    if codes is not None:
        wanted = [normalize_codes(pd.Series([c])).iloc[0] for c in codes]
        present = set(out[S.MUNICIPALITY_CODE])
        absent = [c for c in wanted if c not in present]
        if absent:
            raise SchemaError(
                Problem(
                    source,
                    f"municipality codes {absent} are not in the file",
                    column=code,
                    fix='check the codes against the boundary file (4-digit text such as "0253")',
                )
            )
        out[S.SELECTED] = out[S.MUNICIPALITY_CODE].isin(wanted).to_numpy()
    out.attrs["source"] = source
    return out


def read_points(
    path: PathLike,
    *,
    crs: object | None = None,
    layer: str | int | None = None,
    working_crs: object = S.WORKING_CRS,
) -> pd.DataFrame:
    """Read a point layer (candidate or existing mast sites) as ``site_id``, ``x``, ``y``.

    ``site_id`` is the row number (from 1) as text; give ids with
    :func:`read_households` (``id=``) when the file has them.

    Examples
    --------
    >>> import tempfile, pathlib, shapely
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "sites.geojson"
    >>> _ = gpd.GeoDataFrame(geometry=[shapely.Point(700000, 6160000)],
    ...                      crs="EPSG:25832").to_file(p)
    >>> read_points(p)[["site_id", "x"]].values.tolist()
    [['1', 700000.0]]
    """
    p = existing_file(path, what="point layer")
    source = str(p)
    gdf = _read_vector(p, columns=[], layer=layer)
    xs, ys = point_coordinates(gdf.geometry.array, source=source)
    layer_crs = layer_crs_of(p, gdf.crs, crs, _bounds_of(gdf), source=source)
    target = parse_crs(working_crs, source="working_crs")
    xs, ys = transform_xy(xs, ys, layer_crs, target)
    out = pd.DataFrame({"site_id": [str(i + 1) for i in range(len(gdf))], S.X: xs, S.Y: ys})
    out.attrs.update(crs=crs_name(target), source=source)
    return out


def read_areas(
    path: PathLike,
    *,
    code: str,
    name: str | None = None,
    crs: object | None = None,
    layer: str | int | None = None,
    working_crs: object = S.WORKING_CRS,
) -> gpd.GeoDataFrame:
    """Read an area layer (postal districts, parishes, ...) with a code and a name column.

    Codes stay text. The columns keep their names (see
    :func:`coverage_gap.areas.summarize_areas`).

    Examples
    --------
    >>> import tempfile, pathlib, shapely
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "postnumre.geojson"
    >>> _ = gpd.GeoDataFrame({"postnr": ["2690"], "navn": ["Karlslunde"]},
    ...                      geometry=[shapely.box(700000, 6160000, 710000, 6170000)],
    ...                      crs="EPSG:25832").to_file(p)
    >>> read_areas(p, code="postnr", name="navn")[["postnr", "navn"]].values.tolist()
    [['2690', 'Karlslunde']]
    """
    p = existing_file(path, what="area layer")
    source = str(p)
    columns = [c for c in (code, name) if c]
    if p.suffix.lower() in PARQUET_SUFFIXES:
        with reading(source, "GeoParquet file"):
            gdf = gpd.read_parquet(p)
        require_columns(list(gdf.columns), columns, source=source, what="area")
    else:
        gdf = _read_vector(p, columns=columns, layer=layer)
    layer_crs = layer_crs_of(p, gdf.crs, crs, _bounds_of(gdf), source=source)
    out = gpd.GeoDataFrame(
        {c: as_text(gdf[c]).to_numpy(dtype=object) for c in columns},
        geometry=_reprojected(gdf, layer_crs, working_crs),
        crs=parse_crs(working_crs, source="working_crs"),
    )
    from ..validate import repair_polygons

    out, problems = repair_polygons(out, source=source)
    out.attrs.update(source=source, problems=tuple(problems))
    return out


def read_coverage_polygons(
    path: PathLike,
    *,
    download: str | None = None,
    upload: str | None = None,
    signal: str | None = None,
    operator: str | None = None,
    crs: object | None = None,
    layer: str | int | None = None,
    working_crs: object = S.WORKING_CRS,
) -> gpd.GeoDataFrame:
    """Read coverage polygons (fixed or mobile) with optional speed or signal attributes.

    Parameters
    ----------
    path
        Any vector file GDAL reads, or GeoParquet.
    download, upload
        Columns with offered download/upload Mbit/s (renamed ``down_mbps``/``up_mbps``).
    signal
        Column with a signal level in dBm (renamed ``signal_dbm``), for mobile polygons.
    operator
        Column naming the operator (renamed ``operator``).
    crs, layer, working_crs
        As in :func:`read_municipalities`.

    Returns
    -------
    geopandas.GeoDataFrame
        Polygons in the working CRS; invalid ones repaired (see
        :func:`coverage_gap.validate.repair_polygons`).

    Examples
    --------
    >>> import tempfile, pathlib, shapely
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "fibre.gpkg"
    >>> _ = gpd.GeoDataFrame({"down": [1000], "up": [1000]},
    ...                      geometry=[shapely.box(700000, 6100000, 700100, 6100100)],
    ...                      crs="EPSG:25832").to_file(p)
    >>> read_coverage_polygons(p, download="down", upload="up").columns.tolist()
    ['down_mbps', 'up_mbps', 'geometry']
    """
    p = existing_file(path)
    source = str(p)
    renames = {
        c: new
        for c, new in (
            (download, S.DOWN),
            (upload, S.UP),
            (signal, "signal_dbm"),
            (operator, "operator"),
        )
        if c
    }
    if p.suffix.lower() in PARQUET_SUFFIXES:
        with reading(source, "GeoParquet file"):
            gdf = gpd.read_parquet(p)
        require_columns(list(gdf.columns), list(renames), source=source, what="coverage")
    else:
        gdf = _read_vector(p, columns=list(renames), layer=layer)
    layer_crs = layer_crs_of(p, gdf.crs, crs, _bounds_of(gdf), source=source)
    out = gpd.GeoDataFrame(
        {new: gdf[old].to_numpy() for old, new in renames.items()},
        geometry=_reprojected(gdf, layer_crs, working_crs),
        crs=parse_crs(working_crs, source="working_crs"),
    )
    for column, what in ((S.DOWN, "speed"), (S.UP, "speed"), ("signal_dbm", "signal")):
        if column in out:
            out[column] = parse_numbers(out[column], source=source, column=column, what=what)
    from ..validate import repair_polygons

    out, problems = repair_polygons(out, source=source)
    for problem in problems:
        log.warning("%s", problem)
    out.attrs["source"] = source
    return out

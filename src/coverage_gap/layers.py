"""In-memory layer types shared by the readers and the computation.

The household table is a DataFrame with ``x``/``y`` columns whose CRS travels in
``attrs["crs"]`` (building millions of shapely points costs seconds and is not needed to
classify); :func:`household_table` also accepts a GeoDataFrame of points, so that a
notebook can pass whatever it has.
"""

from __future__ import annotations

import functools
import math
import warnings
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine
from numpy.typing import NDArray
from pyproj import CRS, Proj, Transformer
from pyproj.exceptions import CRSError as ProjCRSError

from . import schema as S
from .errors import CRSError, Problem, SchemaError


@dataclass(frozen=True, eq=False)
class SignalRaster:
    """One operator's signal raster in memory (values in dBm, nodata as NaN).

    Parameters
    ----------
    name
        Operator or layer name, used in reports.
    values
        2-D float32 array; NaN where the source had nodata.
    transform
        Affine transform of ``values`` (of the window, when read windowed).
    crs
        CRS of the raster.
    source
        Where it came from (a path), for messages and the manifest.

    Examples
    --------
    >>> from affine import Affine
    >>> r = SignalRaster("a", np.full((3, 3), -90, "float32"), Affine(100, 0, 0, 0, -100, 300),
    ...                  "EPSG:25832")
    >>> r.bounds
    (0.0, 0.0, 300.0, 300.0)
    """

    name: str
    values: NDArray[np.float32]
    transform: Affine
    crs: object
    source: str = "<memory>"

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) of the raster."""
        height, width = self.values.shape
        t = self.transform
        cols = np.array([0, width, 0, width])
        rows = np.array([0, 0, height, height])
        corners_x = t.a * cols + t.b * rows + t.c
        corners_y = t.d * cols + t.e * rows + t.f
        return (
            float(np.min(corners_x)),
            float(np.min(corners_y)),
            float(np.max(corners_x)),
            float(np.max(corners_y)),
        )


@dataclass(frozen=True, eq=False)
class SampledSignal:
    """One operator's signal already sampled at each household (dBm; NaN = no signal).

    Made by :func:`coverage_gap.io.raster.sample_signal_raster`, which reads only the
    parts of a raster that the households need.

    Attributes
    ----------
    name, source
        Operator name and file.
    values
        One value per household, in household order (float32 or float64, as stored).
    overlaps
        Whether the raster's extent overlaps the households' at all.
    bounds
        (xmin, ymin, xmax, ymax) of the raster.
    partial
        Whether the values are those of one partition of the households (a partitioned
        run): a partition may lie wholly where the raster has no value.
    """

    name: str
    source: str
    values: NDArray[np.floating]
    overlaps: bool
    bounds: tuple[float, float, float, float]
    partial: bool = False


def point_coordinates(
    geoms: NDArray[np.object_], *, source: str
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """X and y of point geometries; missing or empty points give NaN.

    Raises
    ------
    SchemaError
        When any geometry is not a point (households are address points).

    Examples
    --------
    >>> x, y = point_coordinates(np.array([shapely.Point(1, 2), None, shapely.Point()]),
    ...                          source="h")
    >>> x.tolist()
    [1.0, nan, nan]
    """
    types = np.asarray(shapely.get_type_id(geoms))
    not_point = ~np.isin(types, [-1, 0])
    if not_point.any():
        raise SchemaError(
            Problem(
                source,
                "household geometries must be points",
                column="geometry",
                count=int(not_point.sum()),
                fix="use address points, not polygons or lines",
            )
        )
    # GEOS refuses the coordinates of an empty point: such rows have no point (NaN).
    present = ~np.asarray(shapely.is_missing(geoms) | shapely.is_empty(geoms), dtype=bool)
    x = np.full(len(geoms), np.nan)
    y = np.full(len(geoms), np.nan)
    x[present] = shapely.get_x(geoms[present])
    y[present] = shapely.get_y(geoms[present])
    return x, y


def household_table(
    households: pd.DataFrame | gpd.GeoDataFrame, *, crs: object | None = None
) -> pd.DataFrame:
    """Return the household table in canonical form: ``x``/``y`` columns, CRS in attrs.

    A GeoDataFrame of points gets ``x``/``y`` from its geometry (missing or empty points
    become NaN) and keeps its CRS. A plain DataFrame needs ``x``/``y`` columns and a CRS,
    from ``attrs["crs"]`` or the ``crs`` argument; none is ever guessed.

    Examples
    --------
    >>> t = household_table(pd.DataFrame({"address_id": ["a"], "households": [1],
    ...                                   "x": [1.0], "y": [2.0]}), crs="EPSG:25832")
    >>> t.attrs["crs"]
    'EPSG:25832'

    A table that is canonical already is returned as it is (not copied): nothing in
    coverage_gap modifies it, and copying millions of ids per step would cost seconds.
    """
    if (
        not isinstance(households, gpd.GeoDataFrame)
        and crs is None
        and households.attrs.get("crs") is not None
        and {S.X, S.Y, S.HOUSEHOLDS} <= set(households.columns)
    ):
        return households
    if isinstance(households, gpd.GeoDataFrame) and households._geometry_column_name in households:
        x, y = point_coordinates(households.geometry.array, source="households")
        table = pd.DataFrame(households.drop(columns=households.geometry.name))
        table[S.X] = x
        table[S.Y] = y
        table.attrs["crs"] = crs_name(households.crs) if households.crs else crs
    else:
        table = pd.DataFrame(households).copy()
        table.attrs["crs"] = crs if crs is not None else households.attrs.get("crs")
    if table.attrs.get("crs") is None:
        raise CRSError(
            Problem(
                "households",
                "the household table has no CRS",
                fix="pass crs='EPSG:25832' (or the CRS of the coordinates)",
            )
        )
    if S.HOUSEHOLDS not in table:
        table[S.HOUSEHOLDS] = np.ones(len(table), dtype=np.int64)
    return table


def household_xy(table: pd.DataFrame) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """X and y of a canonical household table as float64 arrays.

    Examples
    --------
    >>> household_xy(pd.DataFrame({"x": [1, 2], "y": [3.0, 4.0]}))[0]
    array([1., 2.])
    """
    return table[S.X].to_numpy(np.float64), table[S.Y].to_numpy(np.float64)


@functools.lru_cache(maxsize=64)
def _parsed(text: str | int) -> CRS:
    return CRS.from_user_input(text)


def as_crs(crs: object, *, source: str = "CRS") -> CRS:
    """Parse a CRS; the same text (``"EPSG:25832"``) is parsed once per process.

    Parsing a CRS costs milliseconds and a run compares the same few CRSs dozens of
    times, so text and integer inputs are cached.

    Raises
    ------
    CRSError
        When the CRS cannot be understood (naming ``source``).

    Examples
    --------
    >>> as_crs("EPSG:25832") is as_crs("EPSG:25832")
    True
    """
    if isinstance(crs, CRS):
        return crs
    try:
        if isinstance(crs, str | int) and not isinstance(crs, bool):
            return _parsed(crs)
        return CRS.from_user_input(crs)
    except (ProjCRSError, TypeError, ValueError) as exc:
        raise CRSError(
            Problem(
                source,
                f"cannot understand the CRS {crs!r} ({exc})",
                fix='give an EPSG code such as "EPSG:25832"',
            )
        ) from None


def crs_name(crs: object) -> str:
    """Return ``EPSG:nnnn`` where the CRS *is* that code, else its own definition (or name).

    A CRS that only resembles a code (UTM zone 32 on GRS80 without a datum is not
    EPSG:25832) keeps its own description, so that two CRSs that differ never print
    alike.

    Examples
    --------
    >>> crs_name(CRS("EPSG:25832"))
    'EPSG:25832'
    >>> crs_name(CRS("+proj=utm +zone=32 +ellps=GRS80 +units=m +no_defs"))
    '+proj=utm +zone=32 +ellps=GRS80 +units=m +no_defs +type=crs'
    """
    crs = as_crs(crs)
    epsg = crs.to_epsg(min_confidence=100)
    if epsg:
        return f"EPSG:{epsg}"
    srs = crs.srs.strip()
    if len(srs) <= 120:
        return srs
    with warnings.catch_warnings():
        # A PROJ string may lose details; it is only printed, never used.
        warnings.simplefilter("ignore", UserWarning)
        proj = crs.to_proj4()
    return proj if proj else f"{crs.name} (WKT)"


def same_crs(a: object, b: object) -> bool:
    """Whether two CRS definitions are equal (ignoring axis order details).

    Examples
    --------
    >>> same_crs("EPSG:25832", "epsg:25832"), same_crs("EPSG:25832", None)
    (True, False)
    """
    if a is None or b is None:
        return False
    return as_crs(a).equals(as_crs(b), ignore_axis_order=True)


#: Largest distortion of distances a working CRS may have where the data lie (1 %).
_MAX_SCALE_ERROR = 0.01


def check_metric_crs(
    crs: object,
    *,
    x: NDArray[np.float64] | None = None,
    y: NDArray[np.float64] | None = None,
    source: str = "working_crs",
) -> None:
    """Refuse a CRS in which distances are not metres on the ground.

    Tolerances and every distance in coverage_gap are metres. A geographic CRS
    (degrees) would turn 250 m into 250°, and Web Mercator (EPSG:3857) measures about
    1.7 "metres" per metre at 55° N. With coordinates, the scale of the projection is
    checked where the data lie (their median point, when it lies in the CRS's area of
    use): more than 1 % off is refused.

    Raises
    ------
    CRSError
        With the CRS, its units or its scale at the data, and the fix.

    Examples
    --------
    >>> check_metric_crs("EPSG:25832", x=np.array([700000.0]), y=np.array([6170000.0]))
    >>> check_metric_crs("EPSG:4326")
    Traceback (most recent call last):
    ...
    coverage_gap.errors.CRSError: 1 problem in the input:
      - working_crs: distances must be metres, but EPSG:4326 is in degree. Fix: ...
    """
    parsed = as_crs(crs, source=source)
    units = {axis.unit_name for axis in parsed.axis_info}
    if not parsed.is_projected or units - {"metre"}:
        raise CRSError(
            Problem(
                source,
                f"distances must be metres, but {crs_name(parsed)} is in "
                f"{', '.join(sorted(units)) or 'unknown units'}",
                fix='work in a projected CRS in metres, e.g. working_crs = "EPSG:25832" '
                "(ETRS89 / UTM 32N) for Denmark",
            )
        )
    if x is None or y is None:
        return
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        return
    cx, cy = float(np.median(x[ok])), float(np.median(y[ok]))
    lon, lat = Transformer.from_crs(parsed, 4326, always_xy=True).transform(cx, cy)
    area = parsed.area_of_use
    if not (math.isfinite(lon) and math.isfinite(lat)) or (
        area is not None and not (area.west <= lon <= area.east and area.south <= lat <= area.north)
    ):
        # Data outside the CRS's area (swapped axes, another CRS) are refused, with a
        # better diagnosis, where addresses are placed in municipalities.
        return
    factors = Proj(parsed).get_factors(lon, lat)
    scale = max(abs(factors.meridional_scale - 1), abs(factors.parallel_scale - 1))
    if scale > _MAX_SCALE_ERROR:
        raise CRSError(
            Problem(
                source,
                f"{crs_name(parsed)} stretches distances by a factor "
                f"{max(factors.meridional_scale, factors.parallel_scale):.2f} where the data "
                f"lie ({lat:.1f}° N, {lon:.1f}° E): a tolerance in metres would be wrong",
                fix='work in a CRS made for the area, e.g. working_crs = "EPSG:25832" for Denmark',
            )
        )


def check_crs(
    table: pd.DataFrame, layer_crs: object, what: str, source: str, error: type = CRSError
) -> None:
    """Raise ``error`` when a layer's CRS differs from the households'.

    Examples
    --------
    >>> t = pd.DataFrame({"x": [0.0], "y": [0.0]})
    >>> t.attrs["crs"] = "EPSG:25832"
    >>> check_crs(t, "EPSG:25832", "raster", "op.tif")
    """
    if not same_crs(table.attrs.get("crs"), layer_crs):
        raise error(
            Problem(
                source,
                f"the {what} CRS ({layer_crs}) differs from the households' CRS "
                f"({table.attrs.get('crs')})",
                fix="read every layer through coverage_gap's readers, which bring it to the "
                "working CRS, or reproject it (gdalwarp/ogr2ogr -t_srs EPSG:25832)",
            )
        )


def to_geodataframe(households: pd.DataFrame) -> gpd.GeoDataFrame:
    """Turn a canonical household (or result) table into a GeoDataFrame of points.

    Examples
    --------
    >>> t = pd.DataFrame({"x": [1.0], "y": [2.0]})
    >>> t.attrs["crs"] = "EPSG:25832"
    >>> to_geodataframe(t).geometry.iloc[0].wkt
    'POINT (1 2)'
    """
    crs = households.attrs.get("crs")
    if crs is None:
        raise CRSError(
            Problem(
                "households",
                "the table has no CRS in attrs['crs']",
                fix="set table.attrs['crs'] = 'EPSG:25832'",
            )
        )
    geometry = gpd.points_from_xy(households[S.X], households[S.Y], crs=crs)
    return gpd.GeoDataFrame(households.copy(), geometry=geometry, crs=crs)

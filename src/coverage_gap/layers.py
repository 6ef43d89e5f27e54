"""In-memory layer types shared by the readers and the computation.

The household table is a DataFrame with ``x``/``y`` columns whose CRS travels in
``attrs["crs"]`` (building millions of shapely points costs seconds and is not needed to
classify); :func:`household_coordinates` also accepts a GeoDataFrame of points, so that a
notebook can pass whatever it has.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine
from numpy.typing import NDArray
from pyproj import CRS

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
    >>> x, y = point_coordinates(np.array([shapely.Point(1, 2), None]), source="h")
    >>> x.tolist()
    [1.0, nan]
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
    return (
        np.asarray(shapely.get_x(geoms), dtype=np.float64),
        np.asarray(shapely.get_y(geoms), dtype=np.float64),
    )


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
        table.attrs["crs"] = _crs_string(households.crs) if households.crs else crs
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


def _crs_string(crs: object) -> str:
    parsed = CRS.from_user_input(crs)
    epsg = parsed.to_epsg()
    return f"EPSG:{epsg}" if epsg else parsed.to_wkt()


def same_crs(a: object, b: object) -> bool:
    """Whether two CRS definitions are equal (ignoring axis order details).

    Examples
    --------
    >>> same_crs("EPSG:25832", "epsg:25832"), same_crs("EPSG:25832", None)
    (True, False)
    """
    if a is None or b is None:
        return False
    return CRS.from_user_input(a).equals(CRS.from_user_input(b), ignore_axis_order=True)


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

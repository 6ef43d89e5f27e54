"""Per-household classification: municipality, fixed and mobile service, under-served.

Every function takes the canonical household table (see :mod:`coverage_gap.schema`),
keeps its index and returns new columns; inputs are never modified.
"""

from __future__ import annotations

from collections.abc import Iterable

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from . import schema as S
from .errors import ConfigError, CRSError, Problem, RasterError
from .geo import (
    locate_points,
    nearest_polygon,
    points_in_polygons,
    raster_cells,
    sample_raster,
)
from .keys import match_keys
from .layers import SignalRaster, household_table, same_crs
from .standards import ServiceStandard

DEFAULT_TOLERANCE_M = 250.0


def _xy(table: pd.DataFrame) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    return table[S.X].to_numpy(np.float64), table[S.Y].to_numpy(np.float64)


def _check_layer_crs(
    table: pd.DataFrame, layer_crs: object, what: str, source: str, error: type = CRSError
) -> None:
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


def assign_municipalities(
    households: pd.DataFrame,
    municipalities: gpd.GeoDataFrame,
    *,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
) -> pd.DataFrame:
    """Assign each household to a municipality.

    Rule: the polygon that contains the point (or has it on its boundary; on a shared
    border, the municipality listed first); else the nearest polygon within
    ``tolerance_m`` (coasts and borders are generalised); else ``"unassigned"``. Rows
    without finite coordinates are ``"invalid"``.

    Parameters
    ----------
    households
        Canonical household table (or GeoDataFrame of points).
    municipalities
        Canonical municipality layer, in the households' CRS.
    tolerance_m
        Largest distance (metres) at which a point outside every polygon is given to the
        nearest one.

    Returns
    -------
    pandas.DataFrame
        Same index as ``households``; columns ``municipality_code`` (categorical),
        ``assignment`` (categorical, one of :data:`coverage_gap.schema.ASSIGNMENTS`) and
        ``distance_m`` (0 inside, NaN when unassigned or invalid).

    Examples
    --------
    >>> import shapely
    >>> m = gpd.GeoDataFrame({"municipality_code": ["0001", "0002"],
    ...                       "municipality_name": ["A", "B"]},
    ...                      geometry=[shapely.box(0, 0, 1000, 1000),
    ...                                shapely.box(1000, 0, 2000, 1000)], crs="EPSG:25832")
    >>> h = pd.DataFrame({"address_id": ["p", "q", "r"], "x": [500.0, 2100.0, 5000.0],
    ...                   "y": [500.0, 500.0, 500.0]})
    >>> h.attrs["crs"] = "EPSG:25832"
    >>> assign_municipalities(h, m)[["municipality_code", "assignment"]].values.tolist()
    [['0001', 'inside'], ['0002', 'nearest'], [nan, 'unassigned']]
    """
    table = household_table(households)
    _check_layer_crs(table, municipalities.crs, "municipality layer", "municipalities")
    x, y = _xy(table)
    polygons = np.asarray(municipalities.geometry.array, dtype=object)
    valid = np.isfinite(x) & np.isfinite(y)
    position = np.full(len(table), -1, dtype=np.int64)
    position[valid] = locate_points(x[valid], y[valid], polygons)
    distance = np.where(position >= 0, 0.0, np.nan)
    outside = np.flatnonzero(valid & (position < 0))
    if outside.size and tolerance_m > 0:
        near, dist = nearest_polygon(x[outside], y[outside], polygons, max_distance=tolerance_m)
        position[outside] = near
        distance[outside] = dist
    assignment = np.full(len(table), 2, dtype=np.int8)  # unassigned
    assignment[position >= 0] = 1  # nearest
    assignment[distance == 0] = 0  # inside
    assignment[~valid] = 3  # invalid
    codes = municipalities[S.MUNICIPALITY_CODE].astype(str).to_numpy()
    return pd.DataFrame(
        {
            S.MUNICIPALITY_CODE: pd.Categorical.from_codes(position, categories=codes),
            S.ASSIGNMENT: pd.Categorical.from_codes(assignment, categories=list(S.ASSIGNMENTS)),
            S.DISTANCE: distance,
        },
        index=table.index,
    )


def _offer_qualifies(
    down: NDArray[np.float64],
    up: NDArray[np.float64],
    min_down: float | None,
    min_up: float | None,
    missing_upload: str,
) -> NDArray[np.bool_]:
    if min_down is None:
        return np.zeros(down.shape, dtype=bool)
    ok = down >= min_down
    if min_up is not None:
        up_ok = up >= min_up
        if missing_upload == "download_only":
            up_ok |= np.isnan(up)
        ok &= up_ok
    return ok


def _pool_offers(
    n: int,
    positions: list[NDArray[np.int64]],
    downs: list[NDArray[np.float64]],
    ups: list[NDArray[np.float64]],
    min_down: float | None,
    min_up: float | None,
    missing_upload: str,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
    """Best download, best upload and "one offer meets both" per household."""
    best_down = np.full(n, np.nan)
    best_up = np.full(n, np.nan)
    served = np.zeros(n, dtype=bool)
    for pos, down, up in zip(positions, downs, ups, strict=True):
        np.fmax.at(best_down, pos, down)
        np.fmax.at(best_up, pos, up)
        served[pos[_offer_qualifies(down, up, min_down, min_up, missing_upload)]] = True
    return best_down, best_up, served


def _table_offers(
    table: pd.DataFrame, offers: pd.DataFrame
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    rows, positions = match_keys(offers[S.ADDRESS_ID], table[S.ADDRESS_ID])
    down = offers[S.DOWN].to_numpy(np.float64, na_value=np.nan)[rows]
    up = offers[S.UP].to_numpy(np.float64, na_value=np.nan)[rows]
    return positions, down, up


def _area_offers(
    table: pd.DataFrame, areas: gpd.GeoDataFrame, what: str
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    _check_layer_crs(table, areas.crs, f"{what} coverage polygons", what)
    x, y = _xy(table)
    pts, polys = points_in_polygons(x, y, np.asarray(areas.geometry.array, dtype=object))
    down = areas[S.DOWN].to_numpy(np.float64, na_value=np.nan)[polys]
    up = (
        areas[S.UP].to_numpy(np.float64, na_value=np.nan)[polys]
        if S.UP in areas
        else np.full(polys.size, np.nan)
    )
    return pts, down, up


def fixed_service(
    households: pd.DataFrame,
    standard: ServiceStandard,
    *,
    offers: pd.DataFrame | None = None,
    areas: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    """Best fixed offer per household and whether one offer meets the standard.

    An address is served when at least one of its offers meets both the download and
    the upload threshold; an address without any offer is not served. Offers come from
    a table keyed by ``address_id`` (several rows per address allowed), from coverage
    polygons with ``down_mbps``/``up_mbps`` (a point inside or on the edge gets the
    polygon's offer), or both.

    Returns
    -------
    pandas.DataFrame
        Same index as ``households``: ``fixed_down_mbps``, ``fixed_up_mbps`` (the best
        download and the best upload over all offers, NaN without offers) and
        ``fixed_served`` (bool).

    Examples
    --------
    >>> from coverage_gap.standards import DK_100_30
    >>> h = pd.DataFrame({"address_id": ["a", "b", "c"], "x": [0.0] * 3, "y": [0.0] * 3})
    >>> h.attrs["crs"] = "EPSG:25832"
    >>> o = pd.DataFrame({"address_id": ["a", "a", "b"], "down_mbps": [1000.0, 50.0, 500.0],
    ...                   "up_mbps": [20.0, 40.0, 100.0]})
    >>> fixed_service(h, DK_100_30, offers=o)["fixed_served"].tolist()
    [False, True, False]
    """
    table = household_table(households)
    positions, downs, ups = [], [], []
    if offers is not None:
        p, d, u = _table_offers(table, offers)
        positions.append(p), downs.append(d), ups.append(u)
    if areas is not None:
        p, d, u = _area_offers(table, areas, "fixed")
        positions.append(p), downs.append(d), ups.append(u)
    best_down, best_up, served = _pool_offers(
        len(table),
        positions,
        downs,
        ups,
        standard.fixed_down_mbps,
        standard.fixed_up_mbps,
        standard.missing_upload,
    )
    return pd.DataFrame(
        {"fixed_down_mbps": best_down, "fixed_up_mbps": best_up, "fixed_served": served},
        index=table.index,
    )


def best_signal(households: pd.DataFrame, rasters: Iterable[SignalRaster]) -> pd.Series:
    """Best signal (dBm) over operator rasters at each household; NaN = no signal.

    Each raster gives the value of the cell that contains the point; nodata or outside
    the raster means no signal from that operator. ``rasters`` may be a generator, so
    that only one raster is in memory at a time.

    Raises
    ------
    RasterError
        When a raster's CRS differs from the households' or it overlaps none of them.

    Examples
    --------
    >>> from affine import Affine
    >>> h = pd.DataFrame({"address_id": ["a", "b"], "x": [50.0, 150.0], "y": [50.0, 50.0]})
    >>> h.attrs["crs"] = "EPSG:25832"
    >>> grid = Affine(100, 0, 0, 0, -100, 100)
    >>> a = SignalRaster("a", np.array([[-100.0, np.nan]], "float32"), grid, "EPSG:25832")
    >>> b = SignalRaster("b", np.array([[-110.0, -95.0]], "float32"), grid, "EPSG:25832")
    >>> best_signal(h, [a, b]).tolist()
    [-100.0, -95.0]
    """
    table = household_table(households)
    x, y = _xy(table)
    best = np.full(len(table), np.nan, dtype=np.float32)
    grid: tuple[object, ...] = ()
    cells = np.empty(0, dtype=np.int64)
    for raster in rasters:
        _check_layer_crs(table, raster.crs, "raster", raster.source, RasterError)
        if grid != (raster.transform, raster.values.shape):
            grid = (raster.transform, raster.values.shape)
            cells = raster_cells(x, y, raster.transform, raster.values.shape)
        values = sample_raster(x, y, raster.values, raster.transform, cells=cells)
        if np.isnan(values).all() and not _overlaps(raster, x, y):
            raise RasterError(
                Problem(
                    raster.source,
                    f"the raster {raster.name!r} (bounds {raster.bounds}) overlaps none of "
                    "the households",
                    fix="check that the raster covers the study area and is in the same CRS",
                )
            )
        np.fmax(best, values, out=best)
    return pd.Series(best, index=table.index, name="mobile_signal_dbm")


def _overlaps(raster: SignalRaster, x: NDArray[np.float64], y: NDArray[np.float64]) -> bool:
    xmin, ymin, xmax, ymax = raster.bounds
    return bool(((x >= xmin) & (x <= xmax) & (y >= ymin) & (y <= ymax)).any())


def mobile_service(
    households: pd.DataFrame,
    standard: ServiceStandard,
    *,
    signal_dbm: pd.Series | None = None,
    areas: gpd.GeoDataFrame | None = None,
    offers: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Whether some operator serves each household at the standard.

    Evidence may come from the best raster signal (``signal_dbm``, compared with
    ``standard.mobile_min_dbm``), from coverage polygons (a polygon with ``signal_dbm``
    is compared with the signal threshold, one with ``down_mbps``/``up_mbps`` with the
    speed thresholds, one with neither means covered), and from per-address mobile
    offers (speed thresholds). A household is served when any evidence meets its
    threshold. Without any evidence, ``mobile_served`` is missing (``<NA>``), never
    False.

    Returns
    -------
    pandas.DataFrame
        ``mobile_signal_dbm``, ``mobile_down_mbps``, ``mobile_up_mbps``,
        ``mobile_served`` (nullable boolean).

    Examples
    --------
    >>> from coverage_gap.standards import ServiceStandard
    >>> s = ServiceStandard("m", mobile_min_dbm=-105, underserved="no_mobile")
    >>> h = pd.DataFrame({"address_id": ["a", "b"], "x": [0.0, 0.0], "y": [0.0, 0.0]})
    >>> h.attrs["crs"] = "EPSG:25832"
    >>> sig = pd.Series([-100.0, np.nan])
    >>> mobile_service(h, s, signal_dbm=sig)["mobile_served"].tolist()
    [True, False]
    """
    table = household_table(households)
    n = len(table)
    served = np.zeros(n, dtype=bool)
    has_evidence = False
    signal = np.full(n, np.nan, dtype=np.float32)
    if signal_dbm is not None:
        signal = np.asarray(signal_dbm, dtype=np.float32)
        if standard.mobile_min_dbm is not None:
            served |= signal >= standard.mobile_min_dbm
            has_evidence = True
    positions, downs, ups = [], [], []
    if areas is not None:
        _check_layer_crs(table, areas.crs, "mobile coverage polygons", "mobile")
        x, y = _xy(table)
        pts, polys = points_in_polygons(x, y, np.asarray(areas.geometry.array, dtype=object))
        has_evidence = True
        if "signal_dbm" in areas:
            area_signal = areas["signal_dbm"].to_numpy(np.float64, na_value=np.nan)[polys]
            np.fmax.at(signal, pts, area_signal.astype(np.float32))
            if standard.mobile_min_dbm is not None:
                served[pts[area_signal >= standard.mobile_min_dbm]] = True
        if S.DOWN in areas:
            positions.append(pts)
            downs.append(areas[S.DOWN].to_numpy(np.float64, na_value=np.nan)[polys])
            ups.append(
                areas[S.UP].to_numpy(np.float64, na_value=np.nan)[polys]
                if S.UP in areas
                else np.full(polys.size, np.nan)
            )
        if "signal_dbm" not in areas and S.DOWN not in areas:
            served[pts] = True
    if offers is not None:
        p, d, u = _table_offers(table, offers)
        positions.append(p), downs.append(d), ups.append(u)
    best_down, best_up, speed_served = _pool_offers(
        n,
        positions,
        downs,
        ups,
        standard.mobile_down_mbps,
        standard.mobile_up_mbps,
        standard.missing_upload,
    )
    if positions and standard.mobile_down_mbps is not None:
        has_evidence = True
    served |= speed_served
    return pd.DataFrame(
        {
            "mobile_signal_dbm": signal,
            "mobile_down_mbps": best_down,
            "mobile_up_mbps": best_up,
            "mobile_served": pd.array(served if has_evidence else [pd.NA] * n, dtype="boolean"),
        },
        index=table.index,
    )


def underserved(
    fixed_served: pd.Series | NDArray[np.bool_] | None,
    mobile_served: pd.Series | None,
    standard: ServiceStandard,
) -> NDArray[np.bool_]:
    """Apply the standard's under-served rule to fixed and mobile service.

    Examples
    --------
    >>> from coverage_gap.standards import DK_100_30
    >>> rule = DK_100_30.with_rule("no_fixed_and_no_mobile", mobile_min_dbm=-105)
    >>> underserved(np.array([True, False, False]), pd.Series([False, True, False]), rule)
    array([False, False,  True])
    """

    def need(values: object, what: str) -> NDArray[np.bool_]:
        if values is None or pd.isna(pd.Series(values)).any():
            raise ConfigError(
                f"the rule {standard.underserved!r} needs {what} coverage for every household, "
                f"but no {what} coverage data were given (or no {what} threshold is set)"
            )
        return np.asarray(values, dtype=bool)

    if standard.underserved == "no_fixed":
        return ~need(fixed_served, "fixed")
    if standard.underserved == "no_mobile":
        return ~need(mobile_served, "mobile")
    return ~need(fixed_served, "fixed") & ~need(mobile_served, "mobile")


def classify_households(
    households: pd.DataFrame | gpd.GeoDataFrame,
    municipalities: gpd.GeoDataFrame,
    standard: ServiceStandard,
    *,
    fixed_offers: pd.DataFrame | None = None,
    fixed_areas: gpd.GeoDataFrame | None = None,
    mobile_rasters: Iterable[SignalRaster] = (),
    mobile_areas: gpd.GeoDataFrame | None = None,
    mobile_offers: pd.DataFrame | None = None,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
) -> pd.DataFrame:
    """Classify every household under a service standard.

    Composes :func:`assign_municipalities`, :func:`fixed_service`, :func:`best_signal`,
    :func:`mobile_service` and :func:`underserved`. All layers must share the
    households' CRS (the readers bring them to the working CRS).

    Returns
    -------
    pandas.DataFrame
        The household table (same index, same rows) plus ``municipality_code``,
        ``assignment``, ``distance_m``, ``fixed_down_mbps``, ``fixed_up_mbps``,
        ``fixed_served``, ``mobile_signal_dbm``, ``mobile_down_mbps``,
        ``mobile_up_mbps``, ``mobile_served`` and ``underserved``.

    Examples
    --------
    >>> import shapely
    >>> from coverage_gap.standards import DK_100_30
    >>> m = gpd.GeoDataFrame({"municipality_code": ["0001"], "municipality_name": ["A"]},
    ...                      geometry=[shapely.box(0, 0, 1000, 1000)], crs="EPSG:25832")
    >>> h = pd.DataFrame({"address_id": ["a", "b"], "households": [1, 3],
    ...                   "x": [100.0, 200.0], "y": [100.0, 100.0]})
    >>> h.attrs["crs"] = "EPSG:25832"
    >>> o = pd.DataFrame({"address_id": ["a"], "down_mbps": [1000.0], "up_mbps": [1000.0]})
    >>> classify_households(h, m, DK_100_30, fixed_offers=o)["underserved"].tolist()
    [False, True]
    """
    table = household_table(households)
    assigned = assign_municipalities(table, municipalities, tolerance_m=tolerance_m)
    fixed = fixed_service(table, standard, offers=fixed_offers, areas=fixed_areas)
    if fixed_offers is None and fixed_areas is None:
        fixed["fixed_served"] = pd.array([pd.NA] * len(table), dtype="boolean")
    rasters = iter(mobile_rasters)
    first = next(rasters, None)
    signal = None
    if first is not None:
        signal = best_signal(table, _chain(first, rasters))
    mobile = mobile_service(
        table, standard, signal_dbm=signal, areas=mobile_areas, offers=mobile_offers
    )
    result = pd.concat([table, assigned, fixed, mobile], axis=1)
    result["underserved"] = underserved(
        result["fixed_served"] if standard.uses_fixed else None,
        result["mobile_served"] if standard.uses_mobile else None,
        standard,
    )
    result.attrs = dict(table.attrs)
    return result


def _chain(first: SignalRaster, rest: Iterable[SignalRaster]) -> Iterable[SignalRaster]:
    yield first
    yield from rest

"""Which municipality each household lies in.

The municipality polygons are prepared once (:class:`MunicipalityIndex`: a label grid of
the polygons) and can be reused for every run over the same boundaries.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from pyproj import Transformer

from . import schema as S
from .errors import AssignmentError, ConfigError, Problem
from .geo import BoundaryTree, LabelGrid
from .layers import as_crs, check_crs, check_metric_crs, household_table, household_xy
from .validate import dissolve_codes

DEFAULT_TOLERANCE_M = 250.0


#: Default of the smallest share of addresses that must lie in or near a municipality.
DEFAULT_MIN_LOCATED_SHARE = 0.5


@dataclass(frozen=True, eq=False)
class MunicipalityIndex:
    """Municipality polygons prepared for assigning millions of points.

    Building burns the polygons into a :class:`~coverage_gap.geo.LabelGrid` (a few
    tenths of a second for Denmark's 98 municipalities); every later assignment only
    looks points up in it. Build it once per boundary set when you classify the same
    households under several standards, and pass it wherever a municipality layer is
    accepted.

    Every polygon of the layer places addresses; when the layer has a ``selected``
    column only the selected municipalities are reported, and an address that lies in
    an unselected one is ``"outside_selection"`` (never given to a selected neighbour).
    Several rows with one code (one row per polygon part, as older exports have) are
    dissolved into one, with a warning in :attr:`problems`.

    Attributes
    ----------
    municipalities
        The canonical municipality layer it was built from (one row per code).
    grid
        The label grid of its polygons.
    boundaries
        Their boundaries in an STR-tree, for points just outside every polygon.
    problems
        Warnings from preparing the layer (codes dissolved).

    Examples
    --------
    >>> import shapely
    >>> m = gpd.GeoDataFrame({"municipality_code": ["0001"], "municipality_name": ["A"]},
    ...                      geometry=[shapely.box(0, 0, 1000, 1000)], crs="EPSG:25832")
    >>> index = MunicipalityIndex.build(m)
    >>> index.codes.tolist()
    ['0001']
    """

    municipalities: gpd.GeoDataFrame
    grid: LabelGrid
    boundaries: BoundaryTree
    problems: tuple[Problem, ...] = ()

    @classmethod
    def build(
        cls, municipalities: gpd.GeoDataFrame, *, cell_size: float | None = None
    ) -> MunicipalityIndex:
        """Prepare ``municipalities`` (grid of about eight million cells, or ``cell_size``)."""
        layer, problems = dissolve_codes(municipalities, source="municipalities")
        polygons = np.asarray(layer.geometry.array, dtype=object)
        return cls(
            layer,
            LabelGrid.build(polygons, cell_size=cell_size),
            BoundaryTree.build(polygons),
            tuple(problems),
        )

    @property
    def crs(self) -> object:
        """CRS of the polygons."""
        return self.municipalities.crs

    @property
    def codes(self) -> NDArray[np.object_]:
        """Municipality codes in polygon order."""
        return self.municipalities[S.MUNICIPALITY_CODE].astype(str).to_numpy()

    @property
    def selected(self) -> NDArray[np.bool_]:
        """Which polygons are reported (all, without a ``selected`` column)."""
        if S.SELECTED not in self.municipalities:
            return np.ones(len(self.municipalities), dtype=bool)
        return self.municipalities[S.SELECTED].to_numpy(dtype=bool)


def as_index(municipalities: gpd.GeoDataFrame | MunicipalityIndex) -> MunicipalityIndex:
    """Return ``municipalities`` as a :class:`MunicipalityIndex`, building it if needed."""
    if isinstance(municipalities, MunicipalityIndex):
        return municipalities
    return MunicipalityIndex.build(municipalities)


def selected_municipalities(
    municipalities: gpd.GeoDataFrame | pd.DataFrame | MunicipalityIndex,
) -> gpd.GeoDataFrame | pd.DataFrame:
    """Return the reported municipalities of a layer (rows whose ``selected`` is true).

    Examples
    --------
    >>> m = pd.DataFrame({"municipality_code": ["0001", "0002"], "selected": [True, False]})
    >>> selected_municipalities(m)["municipality_code"].tolist()
    ['0001']
    """
    if isinstance(municipalities, MunicipalityIndex):
        municipalities = municipalities.municipalities
    if S.SELECTED not in municipalities:
        return municipalities
    return municipalities[municipalities[S.SELECTED].to_numpy(dtype=bool)]


def assign_municipalities(
    households: pd.DataFrame,
    municipalities: gpd.GeoDataFrame | MunicipalityIndex,
    *,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
) -> pd.DataFrame:
    """Assign each household to a municipality.

    Rule: the polygon that contains the point (or has it on its boundary; on a shared
    border, the municipality listed first); else the nearest polygon within
    ``tolerance_m`` (coasts and borders are generalised); else ``"unassigned"``. Rows
    without finite coordinates are ``"invalid"``. Every polygon of the layer takes
    part; a household placed in a municipality that is not selected (see
    :class:`MunicipalityIndex`) is ``"outside_selection"`` and keeps that
    municipality's code.

    Parameters
    ----------
    households
        Canonical household table (or GeoDataFrame of points).
    municipalities
        Canonical municipality layer in the households' CRS, or a
        :class:`MunicipalityIndex` built from one (faster when reused).
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
    >>> m["selected"] = [True, False]
    >>> assign_municipalities(h, m)["assignment"].tolist()
    ['inside', 'outside_selection', 'unassigned']
    """
    table = household_table(households)
    check_crs(table, municipalities.crs, "municipality layer", "municipalities")
    check_tolerance(tolerance_m)
    index = as_index(municipalities)
    x, y = household_xy(table)
    if tolerance_m > 0:
        check_metric_crs(table.attrs.get("crs"), x=x, y=y, source="households")
    # NaN coordinates fall outside the grid (-1) and are marked invalid below.
    position = index.grid.locate(x, y)
    valid = np.isfinite(x) & np.isfinite(y)
    distance = np.where(position >= 0, 0.0, np.nan)
    outside = np.flatnonzero(valid & (position < 0))
    if outside.size and tolerance_m > 0:
        near, dist = index.boundaries.nearest(x[outside], y[outside], max_distance=tolerance_m)
        position[outside] = near
        distance[outside] = dist
    codes = {name: i for i, name in enumerate(S.ASSIGNMENTS)}
    assignment = np.full(len(table), codes["unassigned"], dtype=np.int8)
    assignment[position >= 0] = codes["nearest"]
    assignment[distance == 0] = codes["inside"]
    unselected = ~index.selected
    if unselected.any():
        assignment[(position >= 0) & unselected[np.maximum(position, 0)]] = codes[
            "outside_selection"
        ]
    assignment[~valid] = codes["invalid"]
    return pd.DataFrame(
        {
            S.MUNICIPALITY_CODE: pd.Categorical.from_codes(position, categories=index.codes),
            S.ASSIGNMENT: pd.Categorical.from_codes(assignment, categories=list(S.ASSIGNMENTS)),
            S.DISTANCE: distance,
        },
        index=table.index,
    )


def unplaced(households: pd.DataFrame) -> pd.DataFrame:
    """Return the assignment columns of households not placed in any municipality.

    Rows with a point are ``"unassigned"``, rows without one ``"invalid"``: what
    :func:`assign_municipalities` gives when no polygon is near.

    Examples
    --------
    >>> h = pd.DataFrame({"x": [1.0, np.nan], "y": [2.0, np.nan]})
    >>> unplaced(h)["assignment"].tolist()
    ['unassigned', 'invalid']
    """
    x, y = household_xy(households)
    codes = {name: i for i, name in enumerate(S.ASSIGNMENTS)}
    assignment = np.where(
        np.isfinite(x) & np.isfinite(y), codes["unassigned"], codes["invalid"]
    ).astype(np.int8)
    return pd.DataFrame(
        {
            S.MUNICIPALITY_CODE: pd.Categorical.from_codes(
                np.full(len(households), -1), categories=pd.Index([], dtype=object)
            ),
            S.ASSIGNMENT: pd.Categorical.from_codes(assignment, categories=list(S.ASSIGNMENTS)),
            S.DISTANCE: np.full(len(households), np.nan),
        },
        index=households.index,
    )


def check_tolerance(tolerance_m: float) -> None:
    """Refuse a tolerance that is not a finite number of metres >= 0.

    Examples
    --------
    >>> check_tolerance(float("nan"))
    Traceback (most recent call last):
    ...
    coverage_gap.errors.ConfigError: tolerance_m must be a finite number of metres >= 0, got nan
    """
    if (
        not isinstance(tolerance_m, int | float)
        or not math.isfinite(tolerance_m)
        or (tolerance_m < 0)
    ):
        raise ConfigError(
            f"tolerance_m must be a finite number of metres >= 0, got {tolerance_m!r}"
        )


def check_located(
    households: pd.DataFrame,
    assignment: pd.DataFrame,
    index: MunicipalityIndex,
    *,
    min_share: float = DEFAULT_MIN_LOCATED_SHARE,
    source: str = "households",
) -> None:
    """Refuse a run in which too few addresses lie in or near any municipality.

    Swapped x/y, lon/lat read as metres or a wrong CRS put every address outside the
    boundaries, and the run would report "0 of 0". The error compares the extent of
    the points with the boundaries' and says what probably happened.

    Raises
    ------
    AssignmentError
        When the share of addresses inside, nearest or outside the selection is below
        ``min_share``.

    Examples
    --------
    >>> import shapely
    >>> m = gpd.GeoDataFrame({"municipality_code": ["0001"], "municipality_name": ["A"]},
    ...                      geometry=[shapely.box(700000, 6100000, 710000, 6200000)],
    ...                      crs="EPSG:25832")
    >>> h = pd.DataFrame({"address_id": ["a"], "x": [6150000.0], "y": [705000.0]})
    >>> h.attrs["crs"] = "EPSG:25832"
    >>> index = MunicipalityIndex.build(m)
    >>> check_located(h, assign_municipalities(h, index), index)
    Traceback (most recent call last):
    ...
    coverage_gap.errors.AssignmentError: 1 problem in the input:
      - households: 0 of 1 addresses (0.0%) lie in or near a municipality, ... look swapped. ...
    """
    n = len(assignment)
    if n == 0:
        return
    located = int(assignment[S.ASSIGNMENT].isin(LOCATED).sum())
    if located / n >= min_share:
        return
    check_located_count(
        located,
        n,
        *household_xy(households),
        index,
        min_share=min_share,
        source=source,
        invalid=int((assignment[S.ASSIGNMENT] == "invalid").sum()),
        source_crs=households.attrs.get("source_crs"),
    )


#: Assignments of an address that lies in or near some polygon of the boundary file.
LOCATED = ("inside", "nearest", "outside_selection")


def check_located_count(
    located: int,
    n: int,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    index: MunicipalityIndex,
    *,
    min_share: float = DEFAULT_MIN_LOCATED_SHARE,
    source: str = "households",
    invalid: int = 0,
    source_crs: object | None = None,
) -> None:
    """:func:`check_located` from counts: ``located`` of ``n`` addresses lie in or near one.

    For an input counted in pieces (a partitioned run); ``x`` and ``y`` are the points,
    or a sample of them that keeps their extremes, and serve only to say what probably
    went wrong. ``invalid`` addresses have no usable coordinates; ``source_crs`` is the
    CRS the points were read in (both sharpen the diagnosis).

    Examples
    --------
    >>> import shapely
    >>> m = gpd.GeoDataFrame({"municipality_code": ["0001"], "municipality_name": ["A"]},
    ...                      geometry=[shapely.box(0, 0, 1000, 1000)], crs="EPSG:25832")
    >>> index = MunicipalityIndex.build(m)
    >>> check_located_count(3, 4, np.array([1.0]), np.array([1.0]), index)
    >>> check_located_count(1, 4, np.array([12.0]), np.array([55.0]), index)
    Traceback (most recent call last):
    ...
    coverage_gap.errors.AssignmentError: 1 problem in the input:
      - households: 1 of 4 addresses (25.0%) lie in or near a municipality, ... look swapped. ...
    """
    if n == 0:
        return
    share = located / n
    if share >= min_share:
        return
    cause = (
        f"{invalid:,} of them have no usable coordinates (check the coordinate columns, "
        "their decimal mark and empty cells)"
        if invalid > n / 2
        else _diagnose(x, y, index, source_crs)
    )
    raise AssignmentError(
        Problem(
            source,
            f"{located:,} of {n:,} addresses ({share:.1%}) lie in or near a "
            f"municipality, fewer than the required {min_share:.0%}: " + cause,
            fix="check the coordinate columns (x = east, y = north), the CRS of the "
            "households and the boundary file; if the addresses really lie mostly outside "
            "the boundaries, lower min_assigned_share in [checks] (min_located_share= in "
            "the API)",
        )
    )


def check_counted(
    assignment: pd.DataFrame, index: MunicipalityIndex, *, source: str = "households"
) -> None:
    """Refuse a selection in which not one address is counted.

    The addresses lie in municipalities of the file, but none in (or near) a selected
    one: the table would say "0 of 0".

    Examples
    --------
    >>> import shapely
    >>> m = gpd.GeoDataFrame({"municipality_code": ["0001", "0002"],
    ...                       "municipality_name": ["A", "B"], "selected": [False, True]},
    ...                      geometry=[shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10)],
    ...                      crs="EPSG:25832")
    >>> h = pd.DataFrame({"address_id": ["a"], "x": [5.0], "y": [5.0]})
    >>> h.attrs["crs"] = "EPSG:25832"
    >>> index = MunicipalityIndex.build(m)
    >>> check_counted(assign_municipalities(h, index, tolerance_m=0), index)
    Traceback (most recent call last):
    ...
    coverage_gap.errors.AssignmentError: 1 problem in the input:
      - households: none of the 1 addresses lies in the selected municipalities (B); ...
    """
    counted = assignment[S.ASSIGNMENT].isin(S.COUNTED)
    if counted.any() or len(assignment) == 0:
        return
    chosen = index.municipalities.loc[index.selected, S.MUNICIPALITY_NAME].astype(str).tolist()
    outside = int((assignment[S.ASSIGNMENT] == "outside_selection").sum())
    raise AssignmentError(
        Problem(
            source,
            f"none of the {len(assignment):,} addresses lies in the selected municipalities "
            f"({', '.join(chosen[:8])}{', ...' if len(chosen) > 8 else ''}); {outside:,} lie in "
            "other municipalities of the boundary file",
            fix="select the municipalities the addresses lie in (codes = [...] / region), "
            "or give the addresses of the selected ones",
        )
    )


def _diagnose(
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    index: MunicipalityIndex,
    source_crs: object | None = None,
) -> str:
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        return "no address has usable coordinates"
    xmin, ymin, xmax, ymax = (float(v) for v in index.municipalities.total_bounds)
    px0, py0, px1, py1 = x[ok].min(), y[ok].min(), x[ok].max(), y[ok].max()
    where = (
        f"the points span x {px0:,.0f}–{px1:,.0f}, y {py0:,.0f}–{py1:,.0f}; the municipalities "
        f"x {xmin:,.0f}–{xmax:,.0f}, y {ymin:,.0f}–{ymax:,.0f}"
    )

    def inside(xs: NDArray[np.float64], ys: NDArray[np.float64]) -> float:
        return float(((xs >= xmin) & (xs <= xmax) & (ys >= ymin) & (ys <= ymax)).mean())

    if inside(y[ok], x[ok]) > 0.5:
        return where + ": x and y look swapped"
    if source_crs is not None and as_crs(source_crs).is_geographic:
        # Read as lon/lat: would latitude/longitude (the other order) land inside?
        back = Transformer.from_crs(as_crs(index.crs), as_crs(source_crs), always_xy=True)
        forth = Transformer.from_crs(as_crs(source_crs), as_crs(index.crs), always_xy=True)
        lon, lat = back.transform(x[ok], y[ok], errcheck=False)
        sx, sy = forth.transform(lat, lon, errcheck=False)
        if inside(np.asarray(sx), np.asarray(sy)) > 0.5:
            return where + ": longitude and latitude look swapped (name them with x = "
            '"longitude column", y = "latitude column")'
    if (np.abs(x[ok]) <= 180).all() and (np.abs(y[ok]) <= 90).all():
        return where + ": the points look like longitude/latitude degrees read as metres"
    share = inside(x[ok], y[ok])
    if share > 0.5:
        return where + ": the points lie within the boundaries' extent but outside the polygons"
    if share > 0.01:
        return (
            where + f": the addresses spread over a larger area than the boundary file (only "
            f"{share:.0%} lie within its extent): give a boundary file that covers every "
            "address (a national one, with codes = [...] or region = ... to select), or only "
            "this area's addresses"
        )
    return where + ": the points are probably in another CRS than the one declared"

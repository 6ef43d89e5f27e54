"""Which municipality each household lies in.

The municipality polygons are prepared once (:class:`MunicipalityIndex`: a label grid of
the polygons) and can be reused for every run over the same boundaries.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from . import schema as S
from .errors import CRSError, Problem
from .geo import BoundaryTree, LabelGrid
from .layers import household_table, household_xy, same_crs

DEFAULT_TOLERANCE_M = 250.0


@dataclass(frozen=True, eq=False)
class MunicipalityIndex:
    """Municipality polygons prepared for assigning millions of points.

    Building burns the polygons into a :class:`~coverage_gap.geo.LabelGrid` (a few
    tenths of a second for Denmark's 98 municipalities); every later assignment only
    looks points up in it. Build it once per boundary set when you classify the same
    households under several standards, and pass it wherever a municipality layer is
    accepted.

    Attributes
    ----------
    municipalities
        The canonical municipality layer it was built from.
    grid
        The label grid of its polygons.
    boundaries
        Their boundaries in an STR-tree, for points just outside every polygon.

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

    @classmethod
    def build(
        cls, municipalities: gpd.GeoDataFrame, *, cell_size: float | None = None
    ) -> MunicipalityIndex:
        """Prepare ``municipalities`` (grid of about eight million cells, or ``cell_size``)."""
        polygons = np.asarray(municipalities.geometry.array, dtype=object)
        return cls(
            municipalities,
            LabelGrid.build(polygons, cell_size=cell_size),
            BoundaryTree.build(polygons),
        )

    @property
    def crs(self) -> object:
        """CRS of the polygons."""
        return self.municipalities.crs

    @property
    def codes(self) -> NDArray[np.object_]:
        """Municipality codes in polygon order."""
        return self.municipalities[S.MUNICIPALITY_CODE].astype(str).to_numpy()


def as_index(municipalities: gpd.GeoDataFrame | MunicipalityIndex) -> MunicipalityIndex:
    """Return ``municipalities`` as a :class:`MunicipalityIndex`, building it if needed."""
    if isinstance(municipalities, MunicipalityIndex):
        return municipalities
    return MunicipalityIndex.build(municipalities)


def check_crs(
    table: pd.DataFrame, layer_crs: object, what: str, source: str, error: type = CRSError
) -> None:
    """Raise ``error`` when a layer's CRS differs from the households'."""
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
    municipalities: gpd.GeoDataFrame | MunicipalityIndex,
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
    """
    table = household_table(households)
    check_crs(table, municipalities.crs, "municipality layer", "municipalities")
    index = as_index(municipalities)
    x, y = household_xy(table)
    # NaN coordinates fall outside the grid (-1) and are marked invalid below.
    position = index.grid.locate(x, y)
    valid = np.isfinite(x) & np.isfinite(y)
    distance = np.where(position >= 0, 0.0, np.nan)
    outside = np.flatnonzero(valid & (position < 0))
    if outside.size and tolerance_m > 0:
        near, dist = index.boundaries.nearest(x[outside], y[outside], max_distance=tolerance_m)
        position[outside] = near
        distance[outside] = dist
    assignment = np.full(len(table), 2, dtype=np.int8)  # unassigned
    assignment[position >= 0] = 1  # nearest
    assignment[distance == 0] = 0  # inside
    assignment[~valid] = 3  # invalid
    return pd.DataFrame(
        {
            S.MUNICIPALITY_CODE: pd.Categorical.from_codes(position, categories=index.codes),
            S.ASSIGNMENT: pd.Categorical.from_codes(assignment, categories=list(S.ASSIGNMENTS)),
            S.DISTANCE: distance,
        },
        index=table.index,
    )

"""The coverage gap below the municipality: Danish square-grid cells and any area layer.

Two kinds of area set share one table layout (that of
:func:`~coverage_gap.aggregate.summarize_gap`):

- **DDKN cells** (*Det Danske Kvadratnet*, Danmarks Statistik and the national survey
  agency): squares of 100 m, 250 m, 1 km, 10 km, 50 km or 100 km in EPSG:25832, named by
  the lower-left corner truncated to the cell size, northing first: ``1km_6223_576``
  (northing 6,223 km, easting 576 km), ``100m_62237_5756`` (units of 100 m),
  ``250m_622375_57550`` (units of 10 m), ``10km_622_57``, ``50km_620_55``, ``100km_62_5``.
  Cells nest exactly.
- **Any polygon layer** with a code column (postal districts, parishes, ...): a
  household belongs to the polygon that contains it or has it on its boundary (the
  first polygon of the layer wins where polygons overlap), located with the same label
  grid as the municipalities.

Which households are counted: those counted in a municipality (``inside`` or
``nearest`` a selected one), exactly the households of the municipality table, so that
the total row of an area table equals the ``region`` row of
:func:`~coverage_gap.aggregate.summarize_gap`. Households outside the selection,
unassigned or invalid are not in any area; the table reports them in
``attrs["excluded"]`` and as a warning in ``attrs["problems"]``. Households of a polygon
layer that fall in none of its polygons are counted in a row of their own
(:data:`OUTSIDE`), never dropped.

Small counts: cells with few households identify them. Danmarks Statistik releases grid
statistics only where its discretion rules allow, and tables made under those rules blank
counts below 5; here a cell (or area) with fewer than ``AreaSpec.min_households``
households (default 5) is flagged in ``small_count``, and with
``small_counts="suppress"`` its counts and shares are blanked (``<NA>``) as well. The
total row always keeps the full totals. Suppression is primary only (no complementary
suppression): it keeps small counts off maps and out of casual tables, it is not a
disclosure-control guarantee.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from . import schema as S
from .aggregate import GAP_COUNTS, Provenance, gap_counts, gap_table
from .errors import ConfigError, Problem, ReconciliationError, SchemaError
from .geo import LabelGrid
from .layers import check_crs

#: Side of a DDKN cell in metres, by the unit that starts its name.
DDKN_SIZES: Final = {
    "100m": 100,
    "250m": 250,
    "1km": 1_000,
    "10km": 10_000,
    "50km": 50_000,
    "100km": 100_000,
}
#: Metres per unit of the numbers in a cell name (250 m names count in 10 m, 50 km in 10 km).
_NAME_UNIT: Final = {
    "100m": 100,
    "250m": 10,
    "1km": 1_000,
    "10km": 10_000,
    "50km": 10_000,
    "100km": 100_000,
}
_NAME = re.compile(r"^(100m|250m|1km|10km|50km|100km)_(-?\d+)_(-?\d+)$")

#: Index label of the row of households that lie in none of a layer's polygons.
OUTSIDE: Final = "outside"
#: Default minimum number of households of a cell before it is flagged or suppressed.
MIN_HOUSEHOLDS: Final = 5


@dataclass(frozen=True)
class AreaSpec:
    """Which areas to aggregate to, and the small-count rule.

    Parameters
    ----------
    grid
        DDKN cell size (``"100m"``, ``"250m"``, ``"1km"``, ``"10km"``, ``"50km"``,
        ``"100km"``), or None to aggregate to a polygon layer passed to
        :func:`summarize_areas`.
    code, name
        Columns of the polygon layer with the area code and (optionally) its name.
    label
        Name of the area set written into every row (``area_set``); by default
        ``"DDKN <grid>"`` or ``"areas"``.
    min_households
        Areas with fewer households than this are small (0: none is).
    small_counts
        ``"flag"``: keep their counts and set ``small_count``; ``"suppress"``: also blank
        their counts and shares.

    Examples
    --------
    >>> AreaSpec().set_name
    'DDKN 1km'
    >>> AreaSpec(grid=None, code="postnr", name="postnrnavn", label="postal districts").set_name
    'postal districts'
    """

    grid: str | None = "1km"
    code: str = "code"
    name: str | None = None
    label: str | None = None
    min_households: int = MIN_HOUSEHOLDS
    small_counts: Literal["flag", "suppress"] = "flag"

    def __post_init__(self) -> None:
        problems = []
        if self.grid is not None and self.grid not in DDKN_SIZES:
            problems.append(f"grid must be one of {list(DDKN_SIZES)} or None, got {self.grid!r}")
        if self.small_counts not in ("flag", "suppress"):
            problems.append(f"small_counts must be 'flag' or 'suppress', got {self.small_counts!r}")
        if isinstance(self.min_households, bool) or not isinstance(self.min_households, int):
            problems.append(f"min_households must be a whole number, got {self.min_households!r}")
        elif self.min_households < 0:
            problems.append(f"min_households must be >= 0, got {self.min_households}")
        if problems:
            raise ConfigError("area spec: " + "; ".join(problems))

    @property
    def set_name(self) -> str:
        """Name of the area set in the output."""
        if self.label:
            return self.label
        return f"DDKN {self.grid}" if self.grid is not None else "areas"


def _unit(size: str) -> tuple[int, int]:
    if size not in DDKN_SIZES:
        raise ConfigError(f"DDKN cell size must be one of {list(DDKN_SIZES)}, got {size!r}")
    return DDKN_SIZES[size], _NAME_UNIT[size]


def _cell_indices(
    x: NDArray[np.float64], y: NDArray[np.float64], side: int
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.bool_]]:
    valid = np.isfinite(x) & np.isfinite(y)
    col = np.floor(np.where(valid, x, 0.0) / side).astype(np.int64)
    row = np.floor(np.where(valid, y, 0.0) / side).astype(np.int64)
    return col, row, valid


def _group_cells(
    col: NDArray[np.int64], row: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Distinct cells sorted by northing, then easting; and each point's cell position."""
    if col.size == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, empty
    c0, r0 = col.min(), row.min()
    width = int(col.max() - c0) + 1
    key = (row - r0) * width + (col - c0)
    unique, inverse = np.unique(key, return_inverse=True)
    return unique % width + c0, unique // width + r0, inverse.ravel()


def _names(col: NDArray[np.int64], row: NDArray[np.int64], size: str) -> list[str]:
    side, unit = _unit(size)
    factor = side // unit
    # A loop over cells (thousands), never over households.
    return [
        f"{size}_{n}_{e}"
        for n, e in zip((row * factor).tolist(), (col * factor).tolist(), strict=True)
    ]


def ddkn_cell_names(
    x: NDArray[np.floating] | pd.Series,
    y: NDArray[np.floating] | pd.Series,
    size: str = "1km",
) -> NDArray[np.object_]:
    """Name of the DDKN cell that contains each point (EPSG:25832 metres).

    A point on a cell's western or southern edge belongs to that cell (the corner is
    truncated, as Danmarks Statistik and DAWA do). Points without finite coordinates
    get None.

    Parameters
    ----------
    x, y
        Easting and northing in EPSG:25832.
    size
        ``"100m"``, ``"250m"``, ``"1km"``, ``"10km"``, ``"50km"`` or ``"100km"``.

    Returns
    -------
    numpy.ndarray
        Object array of names such as ``"1km_6223_576"``.

    Examples
    --------
    >>> x, y = np.array([576999.9, 575620.0, np.nan]), np.array([6223500.0, 6223780.0, 0.0])
    >>> ddkn_cell_names(x, y).tolist()
    ['1km_6223_576', '1km_6223_575', None]
    >>> ddkn_cell_names(x[1:2], y[1:2], "100m").tolist()
    ['100m_62237_5756']
    >>> ddkn_cell_names(x[1:2], y[1:2], "250m").tolist()
    ['250m_622375_57550']
    >>> ddkn_cell_names(x[1:2], y[1:2], "10km").tolist()
    ['10km_622_57']
    """
    side, _ = _unit(size)
    col, row, valid = _cell_indices(
        np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64), side
    )
    out = np.full(col.shape, None, dtype=object)
    cols, rows, inverse = _group_cells(col[valid], row[valid])
    out[valid] = np.asarray(_names(cols, rows, size), dtype=object)[inverse]
    return out


def ddkn_cells(names: pd.Series | pd.Index | list[str] | NDArray[np.object_]) -> gpd.GeoDataFrame:
    """Square polygons of DDKN cells from their names (sizes may be mixed).

    Parameters
    ----------
    names
        Cell names such as ``"1km_6223_576"``.

    Returns
    -------
    geopandas.GeoDataFrame
        ``cell``, ``size_m`` and the square ``geometry`` in EPSG:25832, in the order given.

    Raises
    ------
    SchemaError
        For names that are not DDKN cell names (listing the first ones).

    Examples
    --------
    >>> cells = ddkn_cells(["1km_6223_576", "250m_622375_57550"])
    >>> [tuple(map(float, b)) for b in cells.geometry.bounds.values]
    [(576000.0, 6223000.0, 577000.0, 6224000.0), (575500.0, 6223750.0, 575750.0, 6224000.0)]
    """
    text = pd.Series(np.asarray(list(names), dtype=object), dtype=object).astype(str)
    parts = text.str.extract(_NAME)
    unknown = parts[0].isna().to_numpy()
    parts = parts.fillna({0: "1km", 1: "0", 2: "0"})
    unit = parts[0].map(_NAME_UNIT).to_numpy(np.int64)
    side = parts[0].map(DDKN_SIZES).to_numpy(np.int64)
    north = parts[1].astype(np.int64).to_numpy() * unit
    east = parts[2].astype(np.int64).to_numpy() * unit
    # 250 m and 50 km names must sit on their own grid (622375, not 622370).
    bad = unknown | (north % side != 0) | (east % side != 0)
    if bad.any():
        raise SchemaError(
            Problem(
                "cell names",
                "not DDKN cell names (unit_northing_easting, corner on the cell grid)",
                rows=tuple(text[bad].head(5)),
                count=int(bad.sum()),
                fix="use names such as 1km_6223_576, 100m_62237_5756 or 250m_622375_57550",
            )
        )
    geometry = shapely.box(east, north, east + side, north + side)
    return gpd.GeoDataFrame(
        {"cell": text.to_numpy(), "size_m": side}, geometry=geometry, crs=S.WORKING_CRS
    )


def _assigned(classified: pd.DataFrame) -> NDArray[np.bool_]:
    if S.ASSIGNMENT in classified:
        return classified[S.ASSIGNMENT].isin(S.COUNTED).to_numpy()
    x = classified[S.X].to_numpy(np.float64)
    y = classified[S.Y].to_numpy(np.float64)
    return np.isfinite(x) & np.isfinite(y)


def _excluded(classified: pd.DataFrame, assigned: NDArray[np.bool_]) -> pd.DataFrame:
    weights = classified[S.HOUSEHOLDS].to_numpy(np.float64)
    if S.ASSIGNMENT in classified:
        status = classified[S.ASSIGNMENT].astype(object).to_numpy()
    else:
        status = np.where(assigned, "inside", "invalid")
    rows = {}
    for name in (a for a in S.ASSIGNMENTS if a not in S.COUNTED):
        mask = status == name
        rows[name] = [int(mask.sum()), int(np.rint(weights[mask].sum()))]
    return pd.DataFrame.from_dict(rows, orient="index", columns=["addresses", "households"])


def _problems(excluded: pd.DataFrame, spec: AreaSpec, outside: int) -> tuple[Problem, ...]:
    problems = []
    left = excluded[excluded["addresses"] > 0]
    if len(left):
        parts = ", ".join(
            f"{name} {row.addresses} addresses / {row.households} households"
            for name, row in left.iterrows()
        )
        problems.append(
            Problem(
                spec.set_name,
                f"households not counted in any municipality are in no area ({parts}); "
                "the area table covers the same households as the municipality table",
                count=int(left["addresses"].sum()),
                severity="warning",
                fix="see reconcile() for them; check coordinates and the boundary layer",
            )
        )
    if outside:
        problems.append(
            Problem(
                spec.set_name,
                f"{outside} assigned addresses lie in none of the layer's polygons; they are "
                f"counted in the row {OUTSIDE!r}",
                count=outside,
                severity="warning",
                fix="normal for generalised coasts; otherwise check that the layer covers "
                "the whole study area",
            )
        )
    return tuple(problems)


def _small_count_rule(table: pd.DataFrame, spec: AreaSpec, groups: int) -> pd.DataFrame:
    households = table["households"].to_numpy(np.float64)
    small = np.zeros(len(table), dtype=bool)
    small[:groups] = households[:groups] < spec.min_households
    table.insert(table.columns.get_loc("service_standard"), "small_count", small)
    if spec.small_counts == "suppress" and small.any():
        for column in GAP_COUNTS:
            values = table[column].astype("Int64")
            values[small] = pd.NA
            table[column] = values
        for column in ("underserved_share", "share_ci_low", "share_ci_high"):
            table.loc[small, column] = np.nan
    return table


def summarize_areas(
    classified: pd.DataFrame,
    provenance: Provenance,
    spec: AreaSpec = AreaSpec(),
    *,
    areas: gpd.GeoDataFrame | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Tabulate the coverage gap per DDKN cell or per area of a polygon layer.

    Parameters
    ----------
    classified
        Output of :func:`coverage_gap.classify` or
        :func:`coverage_gap.classify_households` (``x``, ``y``, ``households``,
        ``assignment``, ``underserved``, ``fixed_served``, ``mobile_served``).
    provenance
        Standard, denominator, data year and source; written into every row.
    spec
        The area set and the small-count rule (:class:`AreaSpec`).
    areas
        The polygon layer when ``spec.grid`` is None (in the households' CRS), with the
        columns ``spec.code`` and optionally ``spec.name``. Several polygons may share a
        code (they count as one area).
    confidence
        Level of the Wilson interval of the share.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``cell`` (DDKN) or ``area_code`` (polygons): one row per cell with
        at least one assigned address (grid) or per area of the layer, also empty ones
        (polygons), then :data:`OUTSIDE` (polygons only: assigned households in no
        polygon), then the total row ``"region"`` named ``provenance.area_name``. Columns:
        ``area_name`` (the cell name for cells), ``addresses``, ``households``,
        ``underserved_households``, ``underserved_share``, ``share_ci_low``,
        ``share_ci_high``, ``fixed_unserved_households``,
        ``mobile_unserved_households``, ``unserved_both_households``, ``small_count``,
        ``missing_upload_households``, ``area_set`` and the provenance columns.
        ``attrs`` hold ``provenance``, ``excluded`` (addresses and households outside
        the selection, unassigned and invalid) and
        ``problems`` (warnings).

    Raises
    ------
    ConfigError
        When the spec and ``areas`` disagree (a grid and a layer, or neither).
    ReconciliationError
        If the total row differs from the assigned households (a bug).

    Examples
    --------
    >>> from coverage_gap.standards import DK_100_30
    >>> c = pd.DataFrame({"x": [576100.0, 576900.0, 577100.0], "y": [6223100.0] * 3,
    ...                   "households": [2, 1, 4], "underserved": [True, False, True],
    ...                   "assignment": ["inside", "nearest", "inside"]})
    >>> t = summarize_areas(c, Provenance(DK_100_30), AreaSpec(min_households=4))
    >>> t[["households", "underserved_households", "small_count"]].values.tolist()
    [[3, 2, True], [4, 4, False], [7, 6, False]]
    >>> t.index.tolist()
    ['1km_6223_576', '1km_6223_577', 'region']
    """
    if (spec.grid is None) == (areas is None):
        raise ConfigError(
            "give either a DDKN grid size in the area spec or a polygon layer (areas=...) "
            "with AreaSpec(grid=None, code=...), not both or neither"
        )
    assigned = _assigned(classified)
    x = classified[S.X].to_numpy(np.float64)
    y = classified[S.Y].to_numpy(np.float64)
    n = len(classified)
    outside = 0
    if spec.grid is not None:
        side, _ = _unit(spec.grid)
        col, row, valid = _cell_indices(x, y, side)
        keep = assigned & valid
        cols, rows, inverse = _group_cells(col[keep], row[keep])
        labels = _names(cols, rows, spec.grid)
        k = len(labels)
        codes = np.full(n, k, dtype=np.int64)
        codes[keep] = inverse
        index_name, names = "cell", list(labels)
    else:
        assert areas is not None
        labels, names, codes, outside = _locate_in_areas(classified, areas, spec, x, y, assigned)
        k = len(labels)
        index_name = "area_code"
    table = gap_table(
        gap_counts(classified, codes, k),
        pd.Index([*labels, S.REGION_CODE], name=index_name),
        [*names, provenance.area_name],
        provenance,
        name_column="area_name",
        confidence=confidence,
    )
    weights = classified[S.HOUSEHOLDS].to_numpy(np.float64)
    expected = int(np.rint(weights[assigned].sum()))
    if table.loc[S.REGION_CODE, "households"] != expected:
        raise ReconciliationError(
            f"area totals ({table.loc[S.REGION_CODE, 'households']}) differ from the assigned "
            f"households ({expected})"
        )
    groups = k - (1 if spec.grid is None else 0)  # the outside row is never "small"
    table = _small_count_rule(table, spec, groups)
    table.insert(table.columns.get_loc("small_count") + 1, "area_set", spec.set_name)
    excluded = _excluded(classified, assigned)
    table.attrs["provenance"] = provenance
    table.attrs["excluded"] = excluded
    table.attrs["problems"] = _problems(excluded, spec, outside)
    return table


def _locate_in_areas(
    classified: pd.DataFrame,
    areas: gpd.GeoDataFrame,
    spec: AreaSpec,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    assigned: NDArray[np.bool_],
) -> tuple[list[str], list[str], NDArray[np.int64], int]:
    missing = [c for c in (spec.code, spec.name) if c is not None and c not in areas]
    if missing:
        raise SchemaError(
            Problem(
                spec.set_name,
                f"the area layer has no column {missing[0]!r}",
                column=missing[0],
                fix=f"name the code and name columns of the layer; it has {list(areas.columns)}",
            )
        )
    check_crs(classified, areas.crs, "area layer", spec.set_name)
    area_codes = pd.Index(areas[spec.code].astype(str))
    labels = list(pd.unique(area_codes))
    first = pd.Series(np.arange(len(area_codes))).groupby(area_codes.to_numpy()).first()
    if spec.name is not None:
        names = areas[spec.name].astype(str).to_numpy()[first.loc[labels].to_numpy()].tolist()
    else:
        names = list(labels)
    polygon_group = pd.Index(labels).get_indexer(area_codes)
    polygons = np.asarray(areas.geometry.array, dtype=object)
    position = np.full(len(x), -1, dtype=np.int64)
    if assigned.any() and len(polygons):
        position[assigned] = LabelGrid.build(polygons).locate(x[assigned], y[assigned])
    k = len(labels)
    codes = np.full(len(x), k + 1, dtype=np.int64)  # k + 1: not counted
    found = position >= 0
    codes[found] = polygon_group[position[found]]
    lost = assigned & ~found
    codes[lost] = k  # the outside row
    return [*labels, OUTSIDE], [*names, "outside every area"], codes, int(lost.sum())

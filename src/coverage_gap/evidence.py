"""What is known about each household before any service standard is applied.

Gathering evidence does the expensive work once: locating households in municipalities,
joining offers to addresses, finding points in coverage polygons, sampling signal
rasters. Judging the evidence under a :class:`~coverage_gap.standards.ServiceStandard`
(:func:`coverage_gap.classify.classify`) is then a few array comparisons, so an analyst
can try many definitions on the same data in a fraction of a second each.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from . import schema as S
from .assign import (
    DEFAULT_TOLERANCE_M,
    MunicipalityIndex,
    as_index,
    assign_municipalities,
    check_crs,
)
from .errors import ConfigError, Problem, RasterError
from .geo import points_in_polygons, raster_cells, sample_raster
from .keys import match_keys
from .layers import SignalRaster, household_table, household_xy

#: Ids of unmatched offers listed in warnings.
_SHOWN = 5


@dataclass(frozen=True, eq=False)
class MatchedOffers:
    """Offers resolved to households: one entry per offer that found its household.

    Attributes
    ----------
    position
        Position (0-based row) of the household in the household table.
    down_mbps, up_mbps
        The offer's speeds (NaN when unknown).
    n_households
        Rows of the household table the positions refer to.
    unmatched
        Offer rows whose address id matches no household (they serve nobody counted).
    unmatched_ids
        The first few of those ids, for messages.

    Examples
    --------
    >>> m = MatchedOffers(np.array([0, 0, 2]), np.array([50.0, 500.0, 1000.0]),
    ...                   np.array([50.0, 20.0, np.nan]), n_households=3)
    >>> m.served(100, 30, "unserved").tolist()
    [False, False, False]
    >>> m.served(100, 30, "download_only").tolist()
    [False, False, True]
    >>> [v.tolist() for v in m.best()]
    [[500.0, nan, 1000.0], [50.0, nan, nan]]
    """

    position: NDArray[np.int64]
    down_mbps: NDArray[np.float64]
    up_mbps: NDArray[np.float64]
    n_households: int
    unmatched: int = 0
    unmatched_ids: tuple[str, ...] = ()

    def qualifies(
        self, min_down: float | None, min_up: float | None, missing_upload: str
    ) -> NDArray[np.bool_]:
        """Whether each offer meets both thresholds (none does without a download one)."""
        if min_down is None:
            return np.zeros(self.position.shape, dtype=bool)
        ok = self.down_mbps >= min_down
        if min_up is not None:
            up_ok = self.up_mbps >= min_up
            if missing_upload == "download_only":
                up_ok |= np.isnan(self.up_mbps)
            ok &= up_ok
        return ok

    def served(
        self, min_down: float | None, min_up: float | None, missing_upload: str
    ) -> NDArray[np.bool_]:
        """Whether at least one offer of each household meets both thresholds."""
        served = np.zeros(self.n_households, dtype=bool)
        served[self.position[self.qualifies(min_down, min_up, missing_upload)]] = True
        return served

    def best(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Best download and best upload per household (NaN without a known speed)."""
        return _best(self.position, self.down_mbps, self.n_households), _best(
            self.position, self.up_mbps, self.n_households
        )

    @classmethod
    def concat(cls, parts: list[MatchedOffers]) -> MatchedOffers | None:
        """All offers of several sources for the same households; None for no parts."""
        if not parts:
            return None
        if len(parts) == 1:
            return parts[0]
        return cls(
            np.concatenate([p.position for p in parts]),
            np.concatenate([p.down_mbps for p in parts]),
            np.concatenate([p.up_mbps for p in parts]),
            parts[0].n_households,
            sum(p.unmatched for p in parts),
            tuple(i for p in parts for i in p.unmatched_ids)[:_SHOWN],
        )

    def problem(self, source: str) -> Problem | None:
        """Return a warning naming the unmatched offers, or None when every offer matched."""
        if not self.unmatched:
            return None
        return Problem(
            source,
            "offer rows refer to addresses that are not among the households; they are left out",
            column=S.ADDRESS_ID,
            rows=self.unmatched_ids,
            count=self.unmatched,
            severity="warning",
            fix="normal when the offer table covers a larger area than the households; "
            "otherwise check that both use the same address ids (DAR adgangsadresse UUIDs)",
        )


def _best(position: NDArray[np.int64], values: NDArray[np.float64], n: int) -> NDArray[np.float64]:
    # maximum.at is about twice as fast as fmax.at; NaN (unknown) becomes -inf first so
    # that it never wins, and households left at -inf had no known value.
    best = np.full(n, -np.inf)
    np.maximum.at(best, position, np.where(np.isnan(values), -np.inf, values))
    best[best == -np.inf] = np.nan
    return best


def match_offers(offers: pd.DataFrame, households: pd.DataFrame) -> MatchedOffers:
    """Join an offer table (several rows per address allowed) to the households.

    Parameters
    ----------
    offers
        Canonical offer table: ``address_id``, ``down_mbps``, ``up_mbps``.
    households
        Canonical household table; positions refer to its rows in order.

    Returns
    -------
    MatchedOffers
        Offers whose ``address_id`` is a household's, with the count and first ids of
        those that are not.

    Examples
    --------
    >>> h = pd.DataFrame({"address_id": ["a", "b"], "x": [0.0, 0.0], "y": [0.0, 0.0]})
    >>> o = pd.DataFrame({"address_id": ["b", "zz"], "down_mbps": [1000.0, 50.0],
    ...                   "up_mbps": [1000.0, 10.0]})
    >>> m = match_offers(o, h)
    >>> m.position.tolist(), m.unmatched, m.unmatched_ids
    ([1], 1, ('zz',))
    """
    rows, positions = match_keys(offers[S.ADDRESS_ID], households[S.ADDRESS_ID])
    unmatched, unmatched_ids = 0, ()
    if rows.size != len(offers):
        found = np.zeros(len(offers), dtype=bool)
        found[rows] = True
        missing = np.flatnonzero(~found)
        unmatched = int(missing.size)
        unmatched_ids = tuple(
            str(i) for i in offers[S.ADDRESS_ID].iloc[missing[:_SHOWN]].to_numpy(object)
        )
    return MatchedOffers(
        positions, *_speeds(offers, rows), len(households), unmatched, unmatched_ids
    )


def offers_in_areas(
    households: pd.DataFrame, areas: gpd.GeoDataFrame, *, what: str = "fixed"
) -> MatchedOffers:
    """Give each household that lies in or on a coverage polygon the polygon's offer.

    Examples
    --------
    >>> import shapely
    >>> h = pd.DataFrame({"address_id": ["a", "b"], "x": [5.0, 50.0], "y": [5.0, 5.0]})
    >>> h.attrs["crs"] = "EPSG:25832"
    >>> a = gpd.GeoDataFrame({"down_mbps": [1000.0]}, geometry=[shapely.box(0, 0, 10, 10)],
    ...                      crs="EPSG:25832")
    >>> offers_in_areas(h, a).position.tolist()
    [0]
    """
    table = household_table(households)
    check_crs(table, areas.crs, f"{what} coverage polygons", what)
    return _area_offers(areas, *_points_in(table, areas), len(table))


def _area_offers(
    areas: gpd.GeoDataFrame, pts: NDArray[np.int64], polys: NDArray[np.int64], n: int
) -> MatchedOffers:
    return MatchedOffers(pts, *_speeds(areas, polys, upload_optional=True), n)


def _speeds(
    frame: pd.DataFrame, rows: NDArray[np.int64], *, upload_optional: bool = False
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Download and upload of ``frame`` at ``rows``.

    Coverage polygons may lack an upload column (upload unknown, NaN); an offer table
    must have one, as :func:`~coverage_gap.validate.validate_offers` demands.
    """
    down = frame[S.DOWN].to_numpy(np.float64, na_value=np.nan)[rows]
    if upload_optional and S.UP not in frame:
        return down, np.full(rows.size, np.nan)
    return down, frame[S.UP].to_numpy(np.float64, na_value=np.nan)[rows]


def _points_in(
    table: pd.DataFrame, areas: gpd.GeoDataFrame
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    return points_in_polygons(*household_xy(table), np.asarray(areas.geometry.array, dtype=object))


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
    x, y = household_xy(table)
    best = np.full(len(table), np.nan, dtype=np.float32)
    grid: tuple[object, ...] = ()
    cells = np.empty(0, dtype=np.int64)
    for raster in rasters:
        check_crs(table, raster.crs, "raster", raster.source, RasterError)
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


@dataclass(frozen=True, eq=False)
class MobileEvidence:
    """Mobile coverage known at each household, before thresholds.

    Attributes
    ----------
    signal_dbm
        Best signal over rasters and coverage polygons that carry ``signal_dbm``
        (float32, NaN without signal).
    covered
        Inside a coverage polygon that carries neither signal nor speeds (such a
        polygon means "covered"); None without polygons.
    speeds
        Speed offers from polygons with ``down_mbps`` and from per-address offers.
    sources
        Which kinds of evidence were given: ``"raster"``, ``"areas"``, ``"offers"``.
    """

    signal_dbm: NDArray[np.float32]
    covered: NDArray[np.bool_] | None
    speeds: MatchedOffers | None
    sources: frozenset[str]


def mobile_evidence(
    households: pd.DataFrame,
    *,
    signal_dbm: pd.Series | NDArray[np.floating] | None = None,
    areas: gpd.GeoDataFrame | None = None,
    offers: pd.DataFrame | MatchedOffers | None = None,
) -> MobileEvidence:
    """Collect mobile evidence from a raster signal, coverage polygons and offers.

    Examples
    --------
    >>> h = pd.DataFrame({"address_id": ["a", "b"], "x": [0.0, 0.0], "y": [0.0, 0.0]})
    >>> h.attrs["crs"] = "EPSG:25832"
    >>> mobile_evidence(h, signal_dbm=[-100.0, np.nan]).signal_dbm.tolist()
    [-100.0, nan]
    """
    table = household_table(households)
    n = len(table)
    sources: set[str] = set()
    signal = np.full(n, np.nan, dtype=np.float32)
    if signal_dbm is not None:
        signal = np.array(signal_dbm, dtype=np.float32)
        sources.add("raster")
    covered = None
    parts: list[MatchedOffers] = []
    if areas is not None:
        check_crs(table, areas.crs, "mobile coverage polygons", "mobile")
        sources.add("areas")
        pts, polys = _points_in(table, areas)
        if "signal_dbm" in areas:
            area_signal = areas["signal_dbm"].to_numpy(np.float64, na_value=np.nan)[polys]
            np.fmax.at(signal, pts, area_signal.astype(np.float32))
        if S.DOWN in areas:
            parts.append(_area_offers(areas, pts, polys, n))
        if "signal_dbm" not in areas and S.DOWN not in areas:
            covered = np.zeros(n, dtype=bool)
            covered[pts] = True
    if offers is not None:
        sources.add("offers")
        parts.append(offers if isinstance(offers, MatchedOffers) else match_offers(offers, table))
    return MobileEvidence(signal, covered, MatchedOffers.concat(parts), frozenset(sources))


@dataclass(frozen=True, eq=False)
class Evidence:
    """Everything known about each household, independent of any service standard.

    Build it with :func:`gather_evidence`; judge it with
    :func:`coverage_gap.classify.classify` under as many standards as you like.

    Attributes
    ----------
    households
        The canonical household table.
    assignment
        ``municipality_code``, ``assignment``, ``distance_m`` (see
        :func:`~coverage_gap.assign.assign_municipalities`).
    fixed
        Fixed offers per household (table and polygons pooled); None without fixed data.
    fixed_down_mbps, fixed_up_mbps
        Best fixed download and upload per household (NaN without offers).
    mobile
        Mobile evidence.
    mobile_down_mbps, mobile_up_mbps
        Best mobile speeds per household (NaN without speed evidence).
    problems
        Warnings met while gathering: offer tables matched here whose rows match no
        household (offers passed in already matched are the caller's to report).
    """

    households: pd.DataFrame
    assignment: pd.DataFrame
    fixed: MatchedOffers | None
    fixed_down_mbps: NDArray[np.float64]
    fixed_up_mbps: NDArray[np.float64]
    mobile: MobileEvidence
    mobile_down_mbps: NDArray[np.float64]
    mobile_up_mbps: NDArray[np.float64]
    problems: tuple[Problem, ...] = ()


def _matched(
    offers: pd.DataFrame | MatchedOffers,
    table: pd.DataFrame,
    what: str,
    problems: list[Problem],
) -> MatchedOffers:
    if isinstance(offers, MatchedOffers):
        # Whoever matched them has reported their unmatched rows.
        if offers.n_households != len(table):
            raise ConfigError(
                f"the matched {what} offers refer to {offers.n_households} households, the "
                f"household table has {len(table)}; match them to this table with match_offers"
            )
        return offers
    matched = match_offers(offers, table)
    problem = matched.problem(f"{what} offers")
    if problem is not None:
        problems.append(problem)
    return matched


def best_speeds(
    offers: MatchedOffers | None, n: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Best download and upload per household of ``n``; all NaN without offers."""
    if offers is None:
        return np.full(n, np.nan), np.full(n, np.nan)
    return offers.best()


def gather_evidence(
    households: pd.DataFrame | gpd.GeoDataFrame,
    municipalities: gpd.GeoDataFrame | MunicipalityIndex,
    *,
    fixed_offers: pd.DataFrame | MatchedOffers | None = None,
    fixed_areas: gpd.GeoDataFrame | None = None,
    mobile_rasters: Iterable[SignalRaster] = (),
    mobile_areas: gpd.GeoDataFrame | None = None,
    mobile_offers: pd.DataFrame | MatchedOffers | None = None,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
) -> Evidence:
    """Locate every household and collect its fixed and mobile evidence.

    Parameters
    ----------
    households
        Canonical household table (or GeoDataFrame of points).
    municipalities
        Canonical municipality layer, or a :class:`~coverage_gap.assign.MunicipalityIndex`
        built from one (reuse it across runs on the same boundaries).
    fixed_offers, mobile_offers
        Offer tables keyed by ``address_id``, or offers already matched to these
        households (:func:`match_offers`).
    fixed_areas, mobile_areas
        Coverage polygons (see :func:`coverage_gap.classify.fixed_service` and
        :func:`coverage_gap.classify.mobile_service` for their columns).
    mobile_rasters
        Operator signal rasters; may be a generator (one raster in memory at a time).
    tolerance_m
        See :func:`~coverage_gap.assign.assign_municipalities`.

    Returns
    -------
    Evidence

    Examples
    --------
    >>> import shapely
    >>> from coverage_gap.classify import classify
    >>> from coverage_gap.standards import DK_100_30, GIGABIT
    >>> m = gpd.GeoDataFrame({"municipality_code": ["0001"], "municipality_name": ["A"]},
    ...                      geometry=[shapely.box(0, 0, 1000, 1000)], crs="EPSG:25832")
    >>> h = pd.DataFrame({"address_id": ["a", "b"], "x": [100.0, 200.0],
    ...                   "y": [100.0, 100.0]})
    >>> h.attrs["crs"] = "EPSG:25832"
    >>> o = pd.DataFrame({"address_id": ["a", "b"], "down_mbps": [1000.0, 150.0],
    ...                   "up_mbps": [1000.0, 50.0]})
    >>> evidence = gather_evidence(h, m, fixed_offers=o)
    >>> classify(evidence, DK_100_30)["underserved"].tolist()
    [False, False]
    >>> classify(evidence, GIGABIT)["underserved"].tolist()
    [False, True]
    """
    table = household_table(households)
    index = as_index(municipalities)
    assignment = assign_municipalities(table, index, tolerance_m=tolerance_m)
    problems: list[Problem] = []
    fixed_parts = []
    if fixed_offers is not None:
        fixed_parts.append(_matched(fixed_offers, table, "fixed", problems))
    if fixed_areas is not None:
        fixed_parts.append(offers_in_areas(table, fixed_areas, what="fixed"))
    fixed = MatchedOffers.concat(fixed_parts)
    rasters = iter(mobile_rasters)
    first = next(rasters, None)
    signal = None if first is None else best_signal(table, _chain(first, rasters))
    mobile = mobile_evidence(
        table,
        signal_dbm=signal,
        areas=mobile_areas,
        offers=None
        if mobile_offers is None
        else _matched(mobile_offers, table, "mobile", problems),
    )
    n = len(table)
    return Evidence(
        table,
        assignment,
        fixed,
        *best_speeds(fixed, n),
        mobile,
        *best_speeds(mobile.speeds, n),
        tuple(problems),
    )


def _chain(first: SignalRaster, rest: Iterable[SignalRaster]) -> Iterable[SignalRaster]:
    yield first
    yield from rest

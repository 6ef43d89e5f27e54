"""What is known about each household before any service standard is applied.

Gathering evidence does the expensive work once: locating households in municipalities,
joining offers to addresses, finding points in coverage polygons, sampling signal
rasters. Judging the evidence under a :class:`~coverage_gap.standards.ServiceStandard`
(:func:`coverage_gap.classify.classify`) is then a few array comparisons, so an analyst
can try many definitions on the same data in a fraction of a second each.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from . import schema as S
from .assign import (
    DEFAULT_MIN_LOCATED_SHARE,
    DEFAULT_TOLERANCE_M,
    MunicipalityIndex,
    as_index,
    assign_municipalities,
    check_located,
    unplaced,
)
from .errors import ConfigError, OfferMatchError, Problem, RasterError, SchemaError
from .geo import points_in_polygons, raster_cells, sample_raster
from .keys import match_keys_normalized
from .layers import SampledSignal, SignalRaster, check_crs, household_table, household_xy
from .standards import PLAUSIBLE_DBM

#: Ids of unmatched offers listed in warnings.
_SHOWN = 5


#: Default of the smallest share of addresses an offer table must match (see :class:`OfferMatch`).
DEFAULT_MIN_MATCH_SHARE = 0.5


@dataclass(frozen=True)
class OfferMatch:
    """How one offer table met the households: reported with every run.

    A table keyed on the wrong column (a street code instead of the address id) matches
    almost no household and would make everyone "unserved"; the share of addresses that
    found at least one offer row is therefore always reported, and a table that matches
    fewer than ``min_share`` of them stops the run (:meth:`check`).

    Attributes
    ----------
    source
        The offer table (a path, or ``"fixed offers"`` for an in-memory table).
    offer_rows
        Rows of the table.
    unmatched_rows
        Rows whose id is not a household's (they serve nobody counted).
    normalized_rows
        Rows that matched only after id normalisation (spaces, case of UUIDs, Unicode
        form, leading zeros; see :func:`coverage_gap.keys.normalize_ids`).
    ambiguous_rows
        Rows whose id fits several household ids after normalisation (left unmatched).
    addresses_matched, addresses
        Addresses (household rows) with at least one offer row, and all addresses.
    offer_id_column, household_id_column
        The columns that were joined, as named in the files (when known).
    unmatched_ids, household_ids
        The first few offer ids that matched nothing, and the first few household ids.
    normalized_ids
        The first few offer ids that matched only after normalisation.

    Examples
    --------
    >>> m = OfferMatch("o.csv", 10, 10, 0, 0, 0, 3, "vejkode", "address_id")
    >>> m.share
    0.0
    >>> m.check(0.5)
    Traceback (most recent call last):
    ...
    coverage_gap.errors.OfferMatchError: 1 problem in the input:
      - o.csv, column 'vejkode': the offer table matches 0 of 3 addresses (0.0%), ...
    """

    source: str
    offer_rows: int
    unmatched_rows: int
    normalized_rows: int
    ambiguous_rows: int
    addresses_matched: int
    addresses: int
    offer_id_column: str | None = None
    household_id_column: str | None = None
    unmatched_ids: tuple[str, ...] = ()
    household_ids: tuple[str, ...] = ()
    normalized_ids: tuple[str, ...] = ()
    counted: int | None = None
    counted_matched: int | None = None

    @property
    def share(self) -> float:
        """Share of addresses with at least one offer row (NaN without addresses)."""
        return self.addresses_matched / self.addresses if self.addresses else float("nan")

    @property
    def counted_share(self) -> float:
        """The same share among the addresses the table counts (NaN when not known).

        An offer file can cover most of an address file and none of the municipalities
        reported: this share is the one the figures rest on.
        """
        if not self.counted or self.counted_matched is None:
            return float("nan")
        return self.counted_matched / self.counted

    def describe(self) -> str:
        """One line for summaries: how many addresses found an offer row."""
        text = (
            f"{self.source}: {self.addresses_matched:,} of {self.addresses:,} addresses "
            f"({self.share:.1%}) found at least one offer row"
        )
        if self.counted is not None and self.counted != self.addresses:
            text += (
                f"; of the {self.counted:,} counted in the table, {self.counted_matched:,} "
                f"({self.counted_share:.1%})"
            )
        return text

    def check(self, min_share: float) -> None:
        """Raise :class:`~coverage_gap.errors.OfferMatchError` when too few addresses matched.

        The share among the addresses the table counts decides when it is known, the
        share of all addresses otherwise. An empty table is never refused here
        (validation reports it).
        """
        share = self.counted_share if self.counted else self.share
        if self.offer_rows == 0 or not self.addresses or share >= min_share:
            return
        if self.counted and self.share >= min_share:
            raise OfferMatchError(
                Problem(
                    self.source,
                    f"of the {self.counted:,} addresses in the reported municipalities only "
                    f"{self.counted_matched:,} ({share:.1%}) found an offer row, fewer than "
                    f"the required {min_share:.0%} (in the whole address file "
                    f"{self.share:.1%}): the offer file does not cover the municipalities "
                    "reported",
                    column=self.offer_id_column or S.ADDRESS_ID,
                    fix="give an offer file for these municipalities; if they really lack "
                    "offers, lower min_offer_match_share in [checks]",
                )
            )
        offer_col = self.offer_id_column or S.ADDRESS_ID
        household_col = self.household_id_column or S.ADDRESS_ID
        raise OfferMatchError(
            Problem(
                self.source,
                f"the offer table matches {self.addresses_matched:,} of {self.addresses:,} "
                f"addresses ({self.share:.1%}), fewer than the required {min_share:.0%}: its "
                f"ids (column '{offer_col}', e.g. {list(self.unmatched_ids[:3])}) do not look "
                f"like the households' ids (column '{household_col}', e.g. "
                f"{list(self.household_ids[:3])})",
                column=offer_col,
                fix="name the column that holds the address id in both files (id = ...); if "
                "the offer table really covers only part of the addresses, lower "
                "min_offer_match_share in [checks] (min_match_share= in the API)",
            )
        )

    def problems(self) -> list[Problem]:
        """Warnings about rows that matched nothing, or only after normalisation."""
        out = []
        column = self.offer_id_column or S.ADDRESS_ID
        if self.unmatched_rows:
            out.append(
                Problem(
                    self.source,
                    "offer rows refer to addresses that are not among the households; they "
                    "are left out",
                    column=column,
                    rows=self.unmatched_ids,
                    count=self.unmatched_rows,
                    severity="warning",
                    fix="expected when the offer table covers a larger area than the "
                    f"households ({self.addresses_matched:,} of {self.addresses:,} addresses "
                    "found an offer row); otherwise check that both use the same address ids",
                )
            )
        if self.normalized_rows:
            out.append(
                Problem(
                    self.source,
                    "offer ids matched household ids only after normalisation (white space, "
                    "upper/lower case of UUIDs, Unicode form or leading zeros); counted as "
                    "matches",
                    column=column,
                    rows=self.normalized_ids,
                    count=self.normalized_rows,
                    severity="warning",
                    fix="write the ids identically in both files to silence this warning",
                )
            )
        if self.ambiguous_rows:
            out.append(
                Problem(
                    self.source,
                    "offer ids fit several household ids once spaces, case and leading zeros "
                    "are ignored; left out",
                    column=column,
                    count=self.ambiguous_rows,
                    severity="warning",
                    fix="make the household ids distinct",
                )
            )
        return out

    def to_dict(self) -> dict[str, object]:
        """Plain form for the manifest."""
        return {
            "source": self.source,
            "offer_rows": self.offer_rows,
            "unmatched_rows": self.unmatched_rows,
            "normalized_rows": self.normalized_rows,
            "ambiguous_rows": self.ambiguous_rows,
            "addresses_matched": self.addresses_matched,
            "addresses": self.addresses,
            "counted": self.counted,
            "counted_matched": self.counted_matched,
            "share": round(self.share, 6) if self.addresses else None,
            "offer_id_column": self.offer_id_column,
            "household_id_column": self.household_id_column,
        }


@dataclass(frozen=True, eq=False)
class MatchedOffers:
    """Offers resolved to households: one entry per offer that found its household.

    Attributes
    ----------
    position
        Position (0-based row) of the household in the household table.
    down_mbps, up_mbps
        The offer's speeds (NaN when unknown; a NaN download means the address is listed
        but nothing is offered on that row).
    n_households
        Rows of the household table the positions refer to.
    matches
        How each offer table behind these offers met the households (empty for offers
        from coverage polygons).

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
    matches: tuple[OfferMatch, ...] = ()

    @property
    def unmatched(self) -> int:
        """Offer rows whose address id matches no household."""
        return sum(m.unmatched_rows for m in self.matches)

    @property
    def unmatched_ids(self) -> tuple[str, ...]:
        """The first few of those ids."""
        return tuple(i for m in self.matches for i in m.unmatched_ids)[:_SHOWN]

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
            tuple(m for p in parts for m in p.matches),
        )

    def problems(self) -> list[Problem]:
        """Warnings about the offer tables behind these offers (see :class:`OfferMatch`)."""
        return [p for m in self.matches for p in m.problems()]


def _best(position: NDArray[np.int64], values: NDArray[np.float64], n: int) -> NDArray[np.float64]:
    # maximum.at is about twice as fast as fmax.at; NaN (unknown) becomes -inf first so
    # that it never wins, and households left at -inf had no known value.
    best = np.full(n, -np.inf)
    np.maximum.at(best, position, np.where(np.isnan(values), -np.inf, values))
    best[best == -np.inf] = np.nan
    return best


def match_offers(
    offers: pd.DataFrame,
    households: pd.DataFrame,
    *,
    min_match_share: float = DEFAULT_MIN_MATCH_SHARE,
    source: str | None = None,
    numeric_ids: bool | None = None,
    counted: NDArray[np.bool_] | None = None,
) -> MatchedOffers:
    """Join an offer table (several rows per address allowed) to the households.

    Ids are compared byte for byte, then, for the rest, after normalisation (see
    :func:`coverage_gap.keys.match_keys_normalized`); rows that matched only so are
    reported. The share of addresses that found at least one offer row is recorded in
    :attr:`MatchedOffers.matches`, and a table that matches fewer than
    ``min_match_share`` of the addresses is refused: it is almost certainly keyed on
    the wrong column, and would make every address look unserved.

    Parameters
    ----------
    offers
        Canonical offer table: ``address_id``, ``down_mbps``, ``up_mbps``.
    households
        Canonical household table; positions refer to its rows in order.
    min_match_share
        Smallest acceptable share of addresses with at least one offer row; lower it
        (down to 0) on purpose when the table covers only part of the addresses.
    source
        Name used in messages; ``offers.attrs["source"]`` by default.
    numeric_ids
        Whether ids that match only as numbers (``"007"`` = ``"7"``) count; decided
        from the ids when None (see :func:`coverage_gap.keys.match_keys_normalized`).
    counted
        Which households the figures count (inside or nearest a reported municipality);
        the guard then judges the share among those.

    Returns
    -------
    MatchedOffers

    Raises
    ------
    OfferMatchError
        When the table matches fewer than ``min_match_share`` of the addresses.

    Examples
    --------
    >>> h = pd.DataFrame({"address_id": ["a", "b"], "x": [0.0, 0.0], "y": [0.0, 0.0]})
    >>> o = pd.DataFrame({"address_id": ["b", "zz"], "down_mbps": [1000.0, 50.0],
    ...                   "up_mbps": [1000.0, 10.0]})
    >>> m = match_offers(o, h)
    >>> m.position.tolist(), m.unmatched, m.unmatched_ids, m.matches[0].share
    ([1], 1, ('zz',), 0.5)
    """
    name = source or offers.attrs.get("source") or "offers"
    found = match_keys_normalized(
        offers[S.ADDRESS_ID], households[S.ADDRESS_ID], numeric=numeric_ids
    )
    rows, positions = found.rows, found.positions
    ids = offers[S.ADDRESS_ID]
    missing = np.empty(0, dtype=np.int64)
    if rows.size != len(offers):
        hit = np.zeros(len(offers), dtype=bool)
        hit[rows] = True
        missing = np.flatnonzero(~hit)
    listed = np.zeros(len(households), dtype=bool)
    listed[positions] = True
    match = OfferMatch(
        source=name,
        offer_rows=len(offers),
        unmatched_rows=int(missing.size),
        normalized_rows=int(found.normalized.size),
        ambiguous_rows=int(found.ambiguous.size),
        addresses_matched=int(listed.sum()),
        addresses=len(households),
        offer_id_column=offers.attrs.get("id_column"),
        household_id_column=households.attrs.get("id_column"),
        unmatched_ids=_ids(ids, missing),
        household_ids=_ids(households[S.ADDRESS_ID], np.arange(min(len(households), _SHOWN))),
        normalized_ids=_ids(ids, found.normalized),
        counted=None if counted is None else int(counted.sum()),
        counted_matched=None if counted is None else int((listed & counted).sum()),
    )
    match.check(min_match_share)
    return MatchedOffers(positions, *_speeds(offers, rows), len(households), (match,))


def _ids(values: pd.Series, rows: NDArray[np.int64]) -> tuple[str, ...]:
    """Return the first few distinct ids at ``rows`` (for messages)."""
    shown: list[str] = []
    for start in range(0, rows.size, 1000):
        for value in values.iloc[rows[start : start + 1000]].to_numpy(object):
            text = str(value)
            if text not in shown:
                shown.append(text)
                if len(shown) == _SHOWN:
                    return tuple(shown)
    return tuple(shown)


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
    return _offers_in_areas(household_table(households), areas, what)


def _offers_in_areas(table: pd.DataFrame, areas: gpd.GeoDataFrame, what: str) -> MatchedOffers:
    check_crs(table, areas.crs, f"{what} coverage polygons", what)
    if S.DOWN not in areas:
        raise SchemaError(
            Problem(
                f"{what} coverage polygons",
                f"the polygons have no {S.DOWN} column: a polygon of {what} offers needs the "
                "speed offered inside it",
                column=S.DOWN,
                fix="read them with download= (and upload=) naming the speed columns",
            )
        )
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


def best_signal(
    households: pd.DataFrame, rasters: Iterable[SignalRaster | SampledSignal]
) -> pd.Series:
    """Best signal (dBm) over operator rasters at each household; NaN = no signal.

    Each raster gives the value of the cell that contains the point; nodata or outside
    the raster means no signal from that operator. ``rasters`` may be a generator, so
    that only one raster is in memory at a time, and may hold signals already sampled
    at the households (:func:`coverage_gap.io.raster.sample_signal_raster`). Values are
    kept at the precision they are stored in (float64 when any raster is float64).

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
    return _best_signal(household_table(households), rasters)


def _best_signal(
    table: pd.DataFrame,
    rasters: Iterable[SignalRaster | SampledSignal],
    problems: list[Problem] | None = None,
) -> pd.Series:
    x, y = household_xy(table)
    valid = np.isfinite(x) & np.isfinite(y)
    best = np.full(len(table), np.nan, dtype=np.float64)
    grid: tuple[object, ...] = ()
    cells = np.empty(0, dtype=np.int64)
    for raster in rasters:
        if isinstance(raster, SampledSignal):
            if len(raster.values) != len(table):
                raise ConfigError(
                    f"{raster.source}: sampled at {len(raster.values)} points, the household "
                    f"table has {len(table)}"
                )
            values, overlaps, bounds = raster.values, raster.overlaps, raster.bounds
        else:
            check_crs(table, raster.crs, "raster", raster.source, RasterError)
            if grid != (raster.transform, raster.values.shape):
                grid = (raster.transform, raster.values.shape)
                cells = raster_cells(x, y, raster.transform, raster.values.shape)
            values = sample_raster(x, y, raster.values, raster.transform, cells=cells)
            overlaps, bounds = _overlaps(raster, x, y), raster.bounds
        if np.isnan(values).all() and not overlaps:
            raise RasterError(
                Problem(
                    raster.source,
                    f"the raster {raster.name!r} (bounds {tuple(round(v) for v in bounds)}) "
                    "overlaps none of the households",
                    fix="check that the raster covers the study area and is in the same CRS",
                )
            )
        xmin, ymin, xmax, ymax = bounds
        outside = valid & ~((x >= xmin) & (x <= xmax) & (y >= ymin) & (y <= ymax))
        _check_dbm(values, raster, problems, under=int(valid.sum() - outside.sum()))
        if problems is not None:
            if outside.any():
                problems.append(
                    Problem(
                        raster.source,
                        f"{int(outside.sum()):,} of {int(valid.sum()):,} addresses lie outside "
                        f"the extent of the raster {raster.name!r}; they count as without "
                        "signal from this operator",
                        count=int(outside.sum()),
                        severity="warning",
                        fix="give a raster that covers the whole area (or accept that those "
                        "addresses have no signal from this operator)",
                    )
                )
        np.fmax(best, values, out=best)
    return pd.Series(best, index=table.index, name=S.MOBILE_SIGNAL)


#: Addresses under a raster from which on "no value at any of them" is an error, not a warning.
MIN_UNDER = 20

#: Share of the households' raster values that may be exactly 0 before 0 is taken for nodata.
ZERO_SHARE = 0.01


def _check_dbm(
    values: NDArray[np.floating],
    raster: SignalRaster | SampledSignal,
    problems: list[Problem] | None = None,
    *,
    under: int | None = None,
) -> None:
    """Refuse a raster whose values at the households cannot be signal levels in dBm.

    A 0/1 coverage mask or magnitudes written as +105 would pass or fail every
    threshold; both have happened. So has "no coverage" stored as an untagged 0 (GDAL's
    default fill), which reads as a perfect 0 dBm, and a raster that is nodata under
    every household (a wrong band or nodata value), which makes everyone unserved.
    ``under`` is the number of addresses within the raster's extent: with fewer than
    :data:`MIN_UNDER` of them, no value anywhere can be real (a small sample where an
    operator has no coverage) and is a warning.
    """
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        if isinstance(raster, SampledSignal) and raster.partial:
            return
        under = values.size if under is None else under
        empty = Problem(
            raster.source,
            f"the raster {raster.name!r} has no value at any of the {under:,} addresses "
            "within its extent (nodata everywhere under them)",
            fix="check the band and the raster's nodata value; if the operator really "
            "covers none of these addresses, leave its raster out",
        )
        if under >= MIN_UNDER:
            raise RasterError(empty)
        if problems is not None:
            problems.append(replace(empty, severity="warning"))
        return
    low, high = PLAUSIBLE_DBM
    zeros = int((finite == 0).sum())
    if zeros > ZERO_SHARE * finite.size:
        raise RasterError(
            Problem(
                raster.source,
                f"{zeros:,} of the {finite.size:,} values of the raster {raster.name!r} at the "
                "households are exactly 0, which would read as a perfect 0 dBm signal: "
                "probably cells without coverage stored as 0 without a nodata tag",
                count=zeros,
                fix="tag the nodata value (gdal_edit.py -a_nodata 0 FILE), or fill the cells "
                "without coverage with the file's nodata",
            )
        )
    implausible = (finite < low) | (finite > high)
    if implausible.mean() <= 0.5:
        if implausible.any() and problems is not None:
            problems.append(
                Problem(
                    raster.source,
                    f"{int(implausible.sum()):,} of the {finite.size:,} values of the raster "
                    f"{raster.name!r} at the households lie outside {low:g} to {high:g} dBm "
                    f"(between {float(finite.min()):g} and {float(finite.max()):g}); they are "
                    "used as they are",
                    count=int(implausible.sum()),
                    severity="warning",
                    fix="check the raster's nodata value and scale",
                )
            )
        return
    raise RasterError(
        Problem(
            raster.source,
            f"the values of the raster {raster.name!r} at the households lie between "
            f"{float(finite.min()):g} and {float(finite.max()):g} (median "
            f"{float(np.median(finite)):g}): not signal levels in dBm (RSRP lies about "
            f"{low:g} to {high:g})",
            fix="give a signal map in dBm; a coverage mask belongs in a polygon layer; if "
            "the file stores scaled values, set its scale and offset (gdal_edit.py -scale "
            "-offset)",
        )
    )


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
        (float64, NaN without signal).
    covered
        Inside a coverage polygon that carries neither signal nor speeds (such a
        polygon means "covered"); None without polygons.
    speeds
        Speed offers from polygons with ``down_mbps`` and from per-address offers.
    sources
        Which kinds of evidence were given: ``"raster"``, ``"areas"``, ``"offers"``.
    """

    signal_dbm: NDArray[np.float64]
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
    return _mobile_evidence(
        household_table(households), signal_dbm=signal_dbm, areas=areas, offers=offers
    )


def _mobile_evidence(
    table: pd.DataFrame,
    *,
    signal_dbm: pd.Series | NDArray[np.floating] | None = None,
    areas: gpd.GeoDataFrame | None = None,
    offers: pd.DataFrame | MatchedOffers | None = None,
) -> MobileEvidence:
    n = len(table)
    sources: set[str] = set()
    signal = np.full(n, np.nan, dtype=np.float64)
    if signal_dbm is not None:
        signal = np.array(signal_dbm, dtype=np.float64)
        sources.add("raster")
    covered = None
    parts: list[MatchedOffers] = []
    if areas is not None:
        check_crs(table, areas.crs, "mobile coverage polygons", "mobile")
        sources.add("areas")
        pts, polys = _points_in(table, areas)
        if "signal_dbm" in areas:
            area_signal = areas["signal_dbm"].to_numpy(np.float64, na_value=np.nan)[polys]
            np.fmax.at(signal, pts, area_signal)
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

    @property
    def offer_matches(self) -> dict[str, tuple[OfferMatch, ...]]:
        """How each offer table met the households, for ``"fixed"`` and ``"mobile"``."""
        return {
            "fixed": self.fixed.matches if self.fixed is not None else (),
            "mobile": self.mobile.speeds.matches if self.mobile.speeds is not None else (),
        }


def _matched(
    offers: pd.DataFrame | MatchedOffers,
    table: pd.DataFrame,
    what: str,
    problems: list[Problem],
    min_match_share: float,
    counted: NDArray[np.bool_] | None,
) -> MatchedOffers:
    if isinstance(offers, MatchedOffers):
        # Whoever matched them has checked and reported them.
        if offers.n_households != len(table):
            raise ConfigError(
                f"the matched {what} offers refer to {offers.n_households} households, the "
                f"household table has {len(table)}; match them to this table with match_offers"
            )
        return offers
    matched = match_offers(
        offers,
        table,
        min_match_share=min_match_share,
        source=offers.attrs.get("source") or f"{what} offers",
        counted=counted,
    )
    problems.extend(matched.problems())
    return matched


def offer_gaps(
    offers: MatchedOffers, assignment: pd.DataFrame, *, what: str = "fixed"
) -> Problem | None:
    """Warn about municipalities where no address found any offer row.

    An offer file that covers only part of the area makes every address outside it look
    unserved; a municipality with addresses and not one offer row is named, so the gap
    is not mistaken for a finding.

    Examples
    --------
    >>> a = pd.DataFrame({"municipality_code": pd.Categorical(["0001", "0002", "0002"]),
    ...                   "assignment": ["inside"] * 3})
    >>> m = MatchedOffers(np.array([0]), np.array([100.0]), np.array([10.0]), 3)
    >>> offer_gaps(m, a).message.split(":")[0]
    'no fixed offer row for any of the 2 addresses in 0002'
    """
    addresses, matched, names = listed_by_municipality(offers.position, assignment)
    return offer_gaps_from_counts(addresses, matched, names, what=what)


def listed_by_municipality(
    position: NDArray[np.int64], assignment: pd.DataFrame, codes: Sequence[str] | None = None
) -> tuple[NDArray[np.int64], NDArray[np.int64], list[str]]:
    """Count the counted addresses per municipality, and those among them with an offer row.

    ``position`` are the households (rows of ``assignment``) that offer rows reached;
    ``codes`` fixes the municipalities' order (the assignment's categories otherwise),
    so that the counts of several partitions can be added.

    Examples
    --------
    >>> a = pd.DataFrame({"municipality_code": ["0001", "0002", "0002"],
    ...                   "assignment": ["inside", "inside", "unassigned"]})
    >>> addresses, matched, names = listed_by_municipality(np.array([0]), a, ["0001", "0002"])
    >>> addresses.tolist(), matched.tolist(), names
    ([1, 1], [1, 0], ['0001', '0002'])
    """
    raw = assignment[S.MUNICIPALITY_CODE]
    if codes is not None:
        cats = pd.Categorical(raw.astype(object), categories=list(codes))
    elif isinstance(raw.dtype, pd.CategoricalDtype):
        cats = raw.array
    else:
        cats = raw.astype("category").array
    counted = assignment[S.ASSIGNMENT].isin(S.COUNTED).to_numpy()
    group = np.where(counted, np.asarray(cats.codes, dtype=np.int64), -1)
    k = len(cats.categories)
    listed = np.zeros(len(assignment), dtype=bool)
    listed[position] = True
    addresses = np.bincount(group[group >= 0], minlength=k)
    matched = np.bincount(group[(group >= 0) & listed], minlength=k)
    return addresses, matched, [str(c) for c in cats.categories]


def offer_gaps_from_counts(
    addresses: NDArray[np.int64],
    matched: NDArray[np.int64],
    names: Sequence[str],
    *,
    what: str = "fixed",
) -> Problem | None:
    """:func:`offer_gaps` from counts per municipality (added up over partitions).

    Examples
    --------
    >>> gap = offer_gaps_from_counts(np.array([5, 3]), np.array([4, 0]), ["0001", "0002"])
    >>> gap.message.split(":")[0]
    'no fixed offer row for any of the 3 addresses in 0002'
    """
    empty = np.flatnonzero((addresses > 0) & (matched == 0))
    if empty.size == 0 or empty.size == int((addresses > 0).sum()):
        # None empty, or all: the latter is the match guard's business.
        return None
    found = [str(names[i]) for i in empty.tolist()]
    return Problem(
        "offers",
        f"no {what} offer row for any of the {int(addresses[empty].sum()):,} addresses in "
        f"{', '.join(found[:8])}{', ...' if len(found) > 8 else ''}: the offer data may not "
        f"cover {'it' if len(found) == 1 else 'them'}; they count as without {what} service",
        count=int(addresses[empty].sum()),
        severity="warning",
        fix="give offers for these municipalities, or leave them out of the selection",
    )


def best_speeds(
    offers: MatchedOffers | None, n: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Best download and upload per household of ``n``; all NaN without offers."""
    if offers is None:
        return np.full(n, np.nan), np.full(n, np.nan)
    return offers.best()


def gather_evidence(
    households: pd.DataFrame | gpd.GeoDataFrame,
    municipalities: gpd.GeoDataFrame | MunicipalityIndex | None,
    *,
    fixed_offers: pd.DataFrame | MatchedOffers | None = None,
    fixed_areas: gpd.GeoDataFrame | None = None,
    mobile_rasters: Iterable[SignalRaster | SampledSignal] = (),
    mobile_areas: gpd.GeoDataFrame | None = None,
    mobile_offers: pd.DataFrame | MatchedOffers | None = None,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    min_match_share: float = DEFAULT_MIN_MATCH_SHARE,
    min_located_share: float = DEFAULT_MIN_LOCATED_SHARE,
    assignment: pd.DataFrame | None = None,
) -> Evidence:
    """Locate every household and collect its fixed and mobile evidence.

    Parameters
    ----------
    households
        Canonical household table (or GeoDataFrame of points).
    municipalities
        Canonical municipality layer, or a :class:`~coverage_gap.assign.MunicipalityIndex`
        built from one (reuse it across runs on the same boundaries); None to judge
        service only, without placing the households (every one is then
        ``"unassigned"``, or ``"invalid"`` without a point).
    fixed_offers, mobile_offers
        Offer tables keyed by ``address_id``, or offers already matched to these
        households (:func:`match_offers`).
    fixed_areas, mobile_areas
        Coverage polygons: fixed ones with ``down_mbps`` (and ``up_mbps``); mobile ones
        with ``signal_dbm`` (compared with the signal threshold), ``down_mbps``/``up_mbps``
        (the speed thresholds), or neither (covered). A point inside or on the edge gets
        the polygon's offer.
    mobile_rasters
        Operator signal rasters; may be a generator (one raster in memory at a time).
    tolerance_m
        See :func:`~coverage_gap.assign.assign_municipalities`.
    min_match_share
        Smallest share of addresses each offer table must match (see
        :func:`match_offers`); lower it on purpose for a table that covers only part of
        the addresses.
    min_located_share
        Smallest share of addresses that must lie in or near a municipality (see
        :func:`~coverage_gap.assign.check_located`).
    assignment
        The households' municipalities, when already computed with
        :func:`~coverage_gap.assign.assign_municipalities` on the same index and
        tolerance (and checked); computed here otherwise.

    Returns
    -------
    Evidence

    Raises
    ------
    OfferMatchError
        An offer table matches fewer than ``min_match_share`` of the addresses.
    AssignmentError
        Fewer than ``min_located_share`` of the addresses lie in or near a municipality
        (swapped axes, a wrong CRS).

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
    index = None if municipalities is None else as_index(municipalities)
    if assignment is None and index is None:
        assignment = unplaced(table)
    elif assignment is None:
        assert index is not None
        assignment = assign_municipalities(table, index, tolerance_m=tolerance_m)
        check_located(table, assignment, index, min_share=min_located_share)
    elif len(assignment) != len(table):
        raise ConfigError(
            f"the assignment has {len(assignment)} rows, the household table {len(table)}"
        )
    problems: list[Problem] = list(index.problems) if index is not None else []
    counted = assignment[S.ASSIGNMENT].isin(S.COUNTED).to_numpy() if index is not None else None
    fixed_parts = []
    if fixed_offers is not None:
        fixed_parts.append(
            _matched(fixed_offers, table, "fixed", problems, min_match_share, counted)
        )
        if index is not None:
            gap = offer_gaps(fixed_parts[-1], assignment, what="fixed")
            problems.extend([gap] if gap is not None else [])
    if fixed_areas is not None:
        fixed_parts.append(_offers_in_areas(table, fixed_areas, "fixed"))
    fixed = MatchedOffers.concat(fixed_parts)
    rasters = iter(mobile_rasters)
    first = next(rasters, None)
    signal = None if first is None else _best_signal(table, _chain(first, rasters), problems)
    matched_mobile = (
        None
        if mobile_offers is None
        else _matched(mobile_offers, table, "mobile", problems, min_match_share, counted)
    )
    if matched_mobile is not None and index is not None:
        gap = offer_gaps(matched_mobile, assignment, what="mobile")
        problems.extend([gap] if gap is not None else [])
    mobile = _mobile_evidence(table, signal_dbm=signal, areas=mobile_areas, offers=matched_mobile)
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


def _chain(
    first: SignalRaster | SampledSignal, rest: Iterable[SignalRaster | SampledSignal]
) -> Iterable[SignalRaster | SampledSignal]:
    yield first
    yield from rest

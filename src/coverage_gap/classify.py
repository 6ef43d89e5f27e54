"""Per-household classification under a service standard.

The standard-independent work (locating households, joining offers, sampling rasters)
lives in :mod:`coverage_gap.evidence`; this module applies a
:class:`~coverage_gap.standards.ServiceStandard` to that evidence. Every function keeps
the household table's index and returns new columns; inputs are never modified.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from . import schema as S
from .assign import (
    DEFAULT_MIN_LOCATED_SHARE,
    DEFAULT_TOLERANCE_M,
    MunicipalityIndex,
)
from .errors import ConfigError
from .evidence import (
    DEFAULT_MIN_MATCH_SHARE,
    Evidence,
    MatchedOffers,
    MobileEvidence,
    gather_evidence,
)
from .layers import SampledSignal, SignalRaster
from .standards import ServiceStandard

__all__ = ["classify", "classify_households"]


def _unknown(n: int) -> pd.arrays.BooleanArray:
    """Service that no evidence speaks to: missing, never False."""
    return pd.array(np.full(n, pd.NA), dtype="boolean")


def _fixed_served(offers: MatchedOffers | None, standard: ServiceStandard, n: int) -> object:
    if offers is None:
        return _unknown(n)
    return offers.served(standard.fixed_down_mbps, standard.fixed_up_mbps, standard.missing_upload)


def _mobile_served(evidence: MobileEvidence, standard: ServiceStandard, n: int) -> object:
    served = np.zeros(n, dtype=bool)
    has_evidence = "areas" in evidence.sources
    if standard.mobile_min_dbm is not None:
        served |= evidence.signal_dbm >= standard.mobile_min_dbm
        has_evidence |= "raster" in evidence.sources
    if evidence.covered is not None:
        served |= evidence.covered
    if evidence.speeds is not None:
        served |= evidence.speeds.served(
            standard.mobile_down_mbps, standard.mobile_up_mbps, standard.missing_upload
        )
        has_evidence |= standard.mobile_down_mbps is not None
    if not has_evidence:
        return _unknown(n)
    return pd.array(served, dtype="boolean")


def _underserved(
    fixed_served: pd.Series | NDArray[np.bool_] | None,
    mobile_served: pd.Series | None,
    standard: ServiceStandard,
) -> NDArray[np.bool_]:
    """Apply the standard's under-served rule to fixed and mobile service.

    Examples
    --------
    >>> from coverage_gap.standards import DK_100_30
    >>> rule = DK_100_30.with_rule("no_fixed_and_no_mobile", mobile_min_dbm=-105)
    >>> _underserved(np.array([True, False, False]), pd.Series([False, True, False]), rule)
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


def classify(evidence: Evidence, standard: ServiceStandard) -> pd.DataFrame:
    """Classify gathered evidence under a service standard.

    Only thresholds are applied here, so classifying the same
    :class:`~coverage_gap.evidence.Evidence` under another standard costs a few array
    comparisons (about 0.1 s for four million households).

    Besides the verdict, ``missing_upload_decides`` marks the households whose status
    would change under the other ``missing_upload`` rule (offers that state no upload,
    typically xDSL and fixed wireless): the figure's sensitivity to that choice.

    Returns
    -------
    pandas.DataFrame
        As :func:`classify_households`.

    Examples
    --------
    >>> import shapely
    >>> from coverage_gap.evidence import gather_evidence
    >>> from coverage_gap.standards import BASIC_10_1, DK_100_30
    >>> m = gpd.GeoDataFrame({"municipality_code": ["0001"], "municipality_name": ["A"]},
    ...                      geometry=[shapely.box(0, 0, 1000, 1000)], crs="EPSG:25832")
    >>> h = pd.DataFrame({"address_id": ["a"], "x": [100.0], "y": [100.0]})
    >>> h.attrs["crs"] = "EPSG:25832"
    >>> o = pd.DataFrame({"address_id": ["a"], "down_mbps": [50.0], "up_mbps": [np.nan]})
    >>> evidence = gather_evidence(h, m, fixed_offers=o)
    >>> [classify(evidence, s)["fixed_served"].tolist() for s in (DK_100_30, BASIC_10_1)]
    [[False], [False]]
    >>> classify(evidence, BASIC_10_1)["missing_upload_decides"].tolist()
    [True]
    """
    table = evidence.households
    n = len(table)
    columns = {
        S.FIXED_DOWN: evidence.fixed_down_mbps,
        S.FIXED_UP: evidence.fixed_up_mbps,
        S.FIXED_SERVED: _fixed_served(evidence.fixed, standard, n),
        S.MOBILE_SIGNAL: evidence.mobile.signal_dbm,
        S.MOBILE_DOWN: evidence.mobile_down_mbps,
        S.MOBILE_UP: evidence.mobile_up_mbps,
        S.MOBILE_SERVED: _mobile_served(evidence.mobile, standard, n),
    }
    columns[S.UNDERSERVED] = _underserved(
        columns[S.FIXED_SERVED] if standard.uses_fixed else None,
        columns[S.MOBILE_SERVED] if standard.uses_mobile else None,
        standard,
    )
    columns[S.MISSING_UPLOAD_DECIDES] = _missing_upload_decides(
        evidence, standard, np.asarray(columns[S.UNDERSERVED], dtype=bool)
    )
    result = pd.concat(
        [table, evidence.assignment, pd.DataFrame(columns, index=table.index)], axis=1
    )
    result.attrs = dict(table.attrs)
    return result


def _missing_upload_decides(
    evidence: Evidence, standard: ServiceStandard, verdict: NDArray[np.bool_]
) -> NDArray[np.bool_]:
    if standard.fixed_up_mbps is None and standard.mobile_up_mbps is None:
        return np.zeros(len(verdict), dtype=bool)
    other = replace(
        standard,
        missing_upload="download_only" if standard.missing_upload == "unserved" else "unserved",
    )
    n = len(verdict)
    alternative = _underserved(
        _fixed_served(evidence.fixed, other, n) if other.uses_fixed else None,
        _mobile_served(evidence.mobile, other, n) if other.uses_mobile else None,
        other,
    )
    return alternative != verdict


def classify_households(
    households: pd.DataFrame | gpd.GeoDataFrame,
    municipalities: gpd.GeoDataFrame | MunicipalityIndex | None,
    standard: ServiceStandard,
    *,
    fixed_offers: pd.DataFrame | MatchedOffers | None = None,
    fixed_areas: gpd.GeoDataFrame | None = None,
    mobile_rasters: Iterable[SignalRaster | SampledSignal] = (),
    mobile_areas: gpd.GeoDataFrame | None = None,
    mobile_offers: pd.DataFrame | MatchedOffers | None = None,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
    min_match_share: float = DEFAULT_MIN_MATCH_SHARE,
    min_located_share: float = DEFAULT_MIN_LOCATED_SHARE,
) -> pd.DataFrame:
    """Classify every household under a service standard.

    Gathers the evidence (:func:`~coverage_gap.evidence.gather_evidence`: municipality,
    offers, signal) and judges it (:func:`classify`). All layers must share the
    households' CRS (the readers bring them to the working CRS). To classify the same
    data under several standards, gather the evidence once and call :func:`classify`
    for each.

    Returns
    -------
    pandas.DataFrame
        The household table (same index, same rows) plus ``municipality_code``,
        ``assignment``, ``distance_m``, ``fixed_down_mbps``, ``fixed_up_mbps``,
        ``fixed_served``, ``mobile_signal_dbm``, ``mobile_down_mbps``,
        ``mobile_up_mbps``, ``mobile_served``, ``underserved`` and
        ``missing_upload_decides``.

    Raises
    ------
    OfferMatchError, AssignmentError
        See :func:`~coverage_gap.evidence.gather_evidence`: an offer table keyed on
        the wrong column, or addresses that lie outside every municipality.

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
    evidence = gather_evidence(
        households,
        municipalities,
        fixed_offers=fixed_offers,
        fixed_areas=fixed_areas,
        mobile_rasters=mobile_rasters,
        mobile_areas=mobile_areas,
        mobile_offers=mobile_offers,
        tolerance_m=tolerance_m,
        min_match_share=min_match_share,
        min_located_share=min_located_share,
    )
    return classify(evidence, standard)

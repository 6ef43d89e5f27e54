"""Danish rules that are more than a threshold: the subsidy pool and denominators.

*Bredbåndspuljen* (the Danish broadband subsidy pool) makes an address eligible when no
offer beats 10 Mbit/s down and 2 Mbit/s up and it lies in a rural zone (landzone) or a
summer-house area; addresses offered more than 10 but at most 20 Mbit/s down form a
second band that can only be included inside a larger project.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import schema as S
from .aggregate import Provenance, summarize_gap
from .classify import classify
from .evidence import gather_evidence
from .standards import ServiceStandard

SUBSIDY_ZONES = ("landzone", "sommerhusområde")
SUBSIDY_STATUS = ("eligible", "second band", "not eligible (speed)", "not eligible (zone)")


def _above(down: float, up: float, name: str) -> ServiceStandard:
    # "More than 10" as the library's ">=": the next float above 10 (shown as "10").
    return ServiceStandard(
        name,
        fixed_down_mbps=float(np.nextafter(down, np.inf)),
        fixed_up_mbps=float(np.nextafter(up, np.inf)),
    )


def subsidy_pool_status(
    households: pd.DataFrame, offers: pd.DataFrame, *, zone: str = "zone"
) -> pd.Series:
    """Subsidy-pool status of every address (Bredbåndspuljen).

    ``eligible``: no offer beats 10/2 Mbit/s and the zone is landzone or summer-house
    area; ``second band``: the same zones, best offer above 10/2 but no offer beats 20/2;
    otherwise ``not eligible (speed)`` or ``not eligible (zone)``. An offer without an
    upload figure cannot prove more than 2 Mbit/s up.

    Examples
    --------
    >>> h = pd.DataFrame({"address_id": ["a", "b", "c", "d"], "x": [0.0] * 4, "y": [0.0] * 4,
    ...                   "zone": ["Landzone", "Sommerhusområde", "Landzone", "Byzone"]})
    >>> h.attrs["crs"] = "EPSG:25832"
    >>> o = pd.DataFrame({"address_id": ["a", "b", "c", "d"], "down_mbps": [10.0, 15.0, 50.0, 5],
    ...                   "up_mbps": [5.0, 5.0, 10.0, 1]})
    >>> subsidy_pool_status(h, o).tolist()
    ['eligible', 'second band', 'not eligible (speed)', 'not eligible (zone)']
    """
    evidence = gather_evidence(households, None, fixed_offers=offers, min_match_share=0.0)
    above_10 = np.asarray(classify(evidence, _above(10, 2, "> 10/2"))["fixed_served"], bool)
    above_20 = np.asarray(classify(evidence, _above(20, 2, "> 20/2"))["fixed_served"], bool)
    zones = households[zone].astype(str).str.strip().str.casefold()
    in_zone = zones.isin(SUBSIDY_ZONES).to_numpy()
    status = np.full(len(households), 2, dtype=np.int8)
    status[~above_10] = 0
    status[above_10 & ~above_20] = 1
    status[~in_zone] = 3
    return pd.Series(
        pd.Categorical.from_codes(status, categories=list(SUBSIDY_STATUS)),
        index=households.index,
        name="subsidy_pool_status",
    )


def compare_denominators(
    classified: pd.DataFrame,
    municipalities: pd.DataFrame,
    provenance: Provenance,
    counts: dict[str, pd.Series | str],
) -> pd.DataFrame:
    """Tabulate the under-served share under several denominators, side by side.

    Parameters
    ----------
    classified
        Output of :func:`coverage_gap.classify_households`.
    municipalities
        Codes and names.
    provenance
        Standard, data year and source (its denominator is replaced per column).
    counts
        Denominator name → per-address counts: a column of ``classified``, a Series
        indexed by ``address_id``, or ``"addresses"`` for one per address. Names are
        ``"addresses"``, ``"dwellings"`` or ``"households"``.

    Returns
    -------
    pandas.DataFrame
        Indexed by municipality code; for each denominator ``<name>`` and
        ``<name>_underserved`` counts and ``<name>_share``.

    Examples
    --------
    >>> from coverage_gap.standards import DK_100_30
    >>> c = pd.DataFrame({"municipality_code": pd.Categorical(["0001", "0001"]),
    ...                   "address_id": ["a", "b"], "households": [1, 9],
    ...                   "underserved": [True, False]})
    >>> m = pd.DataFrame({"municipality_code": ["0001"], "municipality_name": ["A"]})
    >>> t = compare_denominators(c, m, Provenance(DK_100_30),
    ...                          {"addresses": "addresses", "dwellings": "households"})
    >>> t.loc["0001", ["addresses_share", "dwellings_share"]].tolist()
    [0.5, 0.1]
    """
    from dataclasses import replace

    out = pd.DataFrame(
        index=pd.Index(
            [*municipalities[S.MUNICIPALITY_CODE].astype(str), S.REGION_CODE],
            name=S.MUNICIPALITY_CODE,
        )
    )
    for name, count in counts.items():
        table = classified.copy()
        if isinstance(count, str) and count == "addresses":
            table[S.HOUSEHOLDS] = 1
        elif isinstance(count, str):
            table[S.HOUSEHOLDS] = classified[count]
        else:
            table[S.HOUSEHOLDS] = (
                classified[S.ADDRESS_ID].map(count).fillna(0).astype(np.int64).to_numpy()
            )
        summary = summarize_gap(table, municipalities, replace(provenance, denominator=name))
        out[name] = summary["households"]
        out[f"{name}_underserved"] = summary["underserved_households"]
        out[f"{name}_share"] = summary["underserved_share"]
    return out

"""Danish rules that are more than a threshold: the subsidy pool and denominators.

*Bredbåndspuljen* (the Danish broadband subsidy pool) under each year's rules lives in
:mod:`coverage_gap.danish.pool`. :func:`subsidy_pool_status` keeps the early rule's two bands:
an address is eligible when no offer beats 10 Mbit/s down and 2 Mbit/s up and it lies
in a rural zone (landzone) or a summer-house area; addresses offered more than 10 but at
most 20 Mbit/s down form a second band that can only be included inside a larger
project.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import schema as S
from ..aggregate import Provenance, summarize_gap
from ..errors import Problem, SchemaError
from ..evidence import gather_evidence
from ..layers import household_table
from .pool import POOL_10_2, POOL_STATUS, ZONES, PoolRuleSet, normalize_zones, pool_status

SUBSIDY_ZONES = ("landzone", "sommerhusområde")
SUBSIDY_STATUS = ("eligible", "second band", "not eligible (speed)", "not eligible (zone)")

#: The second band: no offer above 20/2 Mbit/s.
_POOL_20_2 = PoolRuleSet(
    "20/2",
    fixed_down_mbps=float(np.nextafter(20.0, np.inf)),
    fixed_up_mbps=float(np.nextafter(2.0, np.inf)),
)


def subsidy_pool_status(
    households: pd.DataFrame, offers: pd.DataFrame, *, zone: str = "zone"
) -> pd.Series:
    """Subsidy-pool status of every address under the early rule (Bredbåndspuljen, 10/2).

    ``eligible``: no offer beats 10/2 Mbit/s and the zone is landzone or summer-house
    area; ``second band``: the same zones, best offer above 10/2 but no offer beats 20/2;
    otherwise ``not eligible (speed)`` or ``not eligible (zone)``; a missing or
    unrecognised zone counts as ``not eligible (zone)``. An offer without an upload
    figure cannot prove more than 2 Mbit/s up. For the rules of 2023 and 2024, see
    :func:`coverage_gap.danish.pool.assess_pool`.

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
    table = household_table(households)
    if zone not in table:
        raise SchemaError(
            Problem(
                "households",
                f"the household table has no zone column {zone!r}",
                column=zone,
                fix="read DAWA/DAR addresses with their 'zone' or name the column (zone=...)",
            )
        )
    # Early-rule tables list only some addresses: no match-rate guard here.
    evidence = gather_evidence(table, None, fixed_offers=offers, min_match_share=0.0)
    assert evidence.fixed is not None
    fixed = evidence.fixed
    zones, _ = normalize_zones(table[zone])
    first = pool_status(fixed, None, zones, None, POOL_10_2)
    second = pool_status(fixed, None, zones, None, _POOL_20_2)
    eligible = POOL_STATUS.index("eligible")
    too_fast = POOL_STATUS.index("not eligible (speed)")
    status = np.full(len(table), 2, dtype=np.int8)
    status[first == eligible] = 0
    status[(first == too_fast) & (second == eligible)] = 1
    in_zone = np.isin(zones, [ZONES.index(z) for z in SUBSIDY_ZONES])
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

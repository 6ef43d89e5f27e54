"""What changed between two vintages of a mapping, address by address, and why.

Two runs (an older and a newer data year) are joined on the address id with the
library's id join (:func:`coverage_gap.keys.match_keys_normalized`: byte for byte, then
after the documented normalisation), and every address is put in one class:

``became_served``
    counted under-served in the old vintage, served in the new (same municipality);
``became_underserved``
    the reverse;
``unchanged``
    the same status in both;
``added``
    counted only in the new vintage (a new address, or one that now lies in a reported
    municipality: ``reason`` says which);
``removed``
    counted only in the old vintage;
``moved``
    counted in both, but in different municipalities (a corrected point or a boundary
    change): removed from the old municipality and added to the new one;
``not_counted``
    in neither vintage's figures (outside the selection, unassigned or invalid in both).

and, for a change of status, why: ``offers_appeared`` / ``offers_disappeared`` (the
address had no fixed offer in the old / new data), ``speeds_changed`` (offers on both
sides, and the fixed verdict changed), ``mobile_changed`` (the mobile verdict changed),
``standard_changed`` (the old data judged under the new standard already give the new
status: the definition, not the data, moved the address), ``other``.

Counts reconcile exactly, per municipality and for the region::

    new = old − became_served + became_underserved + added − removed

in households of the denominator: a household that became served is counted as it was
in the old vintage, one that became under-served as it is in the new; a change in the
number of households of an address that stays under-served is added or removed
(reason ``households_changed``). ``old`` and ``new`` are exactly the under-served
households of the two runs' own tables (:func:`coverage_gap.summarize_gap`).
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from . import schema as S
from .aggregate import category_codes
from .assign import selected_municipalities
from .errors import ConfigError, Problem, ReconciliationError, SchemaError
from .keys import duplicated_keys, match_keys_normalized
from .standards import Provenance

__all__ = ["CHANGES", "FLOWS", "REASONS", "VintageChange", "compare_vintages"]

#: Classes of an address between two vintages (see the module's documentation).
CHANGES = (
    "became_served",
    "became_underserved",
    "unchanged",
    "added",
    "removed",
    "moved",
    "not_counted",
)
#: Why an address changed class.
REASONS = (
    "offers_appeared",
    "offers_disappeared",
    "speeds_changed",
    "mobile_changed",
    "standard_changed",
    "other",
    "address_added",
    "now_counted",
    "address_removed",
    "no_longer_counted",
    "municipality_changed",
    "households_changed",
    "",
)
#: The four flows between the old and the new under-served count, in households.
FLOWS = (
    "became_served_households",
    "became_underserved_households",
    "added_underserved_households",
    "removed_underserved_households",
)
_NEEDED = (S.ADDRESS_ID, S.HOUSEHOLDS, S.MUNICIPALITY_CODE, S.UNDERSERVED)


@dataclass(frozen=True, eq=False)
class VintageChange:
    """The change between two vintages (see :func:`compare_vintages`).

    Attributes
    ----------
    addresses
        One row per address of either vintage: ``address_id`` (the new id, else the
        old), ``old_address_id``, ``old_municipality_code``, ``new_municipality_code``,
        ``municipality_code`` (the new where counted there, else the old),
        ``old_households``, ``new_households``, ``old_underserved``,
        ``new_underserved`` (missing where the address is not in that vintage),
        ``change``, ``reason``, the four flows of :data:`FLOWS`, the best fixed
        speeds of both vintages, and ``x``/``y`` (the new point, else the old).
    municipalities
        Per municipality and a ``region`` row: ``old_underserved_households``,
        ``new_underserved_households``, the four flows, ``net_change_households``, the
        address counts of each class, the households and shares of both vintages and
        the provenance of both.
    reasons
        Addresses and households per municipality (and region), class and reason.
    problems
        Ids that matched only after normalisation, or that fit several addresses.
    old_provenance, new_provenance
        What each vintage's figures mean.
    """

    addresses: pd.DataFrame
    municipalities: pd.DataFrame
    reasons: pd.DataFrame
    problems: tuple[Problem, ...]
    old_provenance: Provenance
    new_provenance: Provenance


def _check(table: pd.DataFrame, which: str) -> None:
    missing = [c for c in _NEEDED if c not in table]
    if missing:
        raise SchemaError(
            Problem(
                f"{which} vintage",
                f"the classified households lack the columns {missing}",
                fix="pass the output of classify / classify_households (Results.households)",
            )
        )
    if pd.Index(table[S.ADDRESS_ID]).is_unique:
        return
    count, first = duplicated_keys(table[S.ADDRESS_ID])
    if count:
        raise SchemaError(
            Problem(
                f"{which} vintage",
                "address ids occur more than once, so the vintages cannot be joined on them",
                column=S.ADDRESS_ID,
                rows=tuple(first),
                count=count,
                fix="make the address ids unique (validate_households reports them)",
            )
        )


def _take(values: NDArray, positions: NDArray[np.int64], fill: object) -> NDArray:
    """``values[positions]``, with ``fill`` where the position is -1."""
    if values.size == 0:
        return np.full(positions.size, fill, dtype=np.asarray([fill]).dtype)
    out = values[np.maximum(positions, 0)]
    if out.dtype == bool and not isinstance(fill, bool):
        out = out.astype(object)
    out = out.copy()
    out[positions < 0] = fill
    return out


def _column(table: pd.DataFrame, name: str) -> NDArray[np.float64]:
    if name not in table:
        return np.full(len(table), np.nan)
    return table[name].to_numpy(np.float64, na_value=np.nan)


def _flag(table: pd.DataFrame, name: str) -> NDArray[np.float64]:
    """Return a boolean column as 1.0 / 0.0, NaN where unknown (or the column is absent)."""
    if name not in table:
        return np.full(len(table), np.nan)
    return pd.array(table[name], dtype="boolean").to_numpy(np.float64, na_value=np.nan)


def _differs(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Values that differ, NaN equal to NaN."""
    return ~((a == b) | (np.isnan(a) & np.isnan(b)))


def compare_vintages(
    old: pd.DataFrame,
    new: pd.DataFrame,
    municipalities: gpd.GeoDataFrame | pd.DataFrame,
    *,
    old_provenance: Provenance,
    new_provenance: Provenance,
    old_under_new_standard: pd.Series | NDArray[np.bool_] | None = None,
) -> VintageChange:
    """Join two vintages' classified households on the address id and explain the change.

    Parameters
    ----------
    old, new
        Per-household results of the two vintages (:func:`coverage_gap.classify` or
        :attr:`coverage_gap.Results.households`), each judged under its own standard.
    municipalities
        The reported municipalities (code, name; ``selected`` when a selection applies),
        the same for both vintages.
    old_provenance, new_provenance
        Standard, denominator, data year and source of each vintage. The denominators
        must agree.
    old_under_new_standard
        The old vintage judged under the new standard
        (``classify(old_evidence, new_standard)["underserved"]``), in the old table's
        row order; needed when the standards differ, to tell a change of definition
        from a change of data.

    Returns
    -------
    VintageChange

    Raises
    ------
    ConfigError
        The denominators differ, or the standards differ and ``old_under_new_standard``
        is missing.
    SchemaError
        A table is not a classified household table, or its ids repeat.

    Examples
    --------
    >>> from coverage_gap.standards import DK_100_30
    >>> m = pd.DataFrame({"municipality_code": ["0001"], "municipality_name": ["A"]})
    >>> def vintage(ids, households, underserved, down):
    ...     return pd.DataFrame({"address_id": ids, "households": households,
    ...                          "municipality_code": "0001", "underserved": underserved,
    ...                          "fixed_down_mbps": down, "fixed_served": [not u for u in
    ...                          underserved]})
    >>> old = vintage(["a", "b", "c"], [1, 2, 1], [True, True, False], [np.nan, 50.0, 1000.0])
    >>> new = vintage(["a", "b", "d"], [1, 3, 2], [False, True, True], [1000.0, 50.0, np.nan])
    >>> change = compare_vintages(old, new, m,
    ...                           old_provenance=Provenance(DK_100_30, data_year=2025),
    ...                           new_provenance=Provenance(DK_100_30, data_year=2026))
    >>> for row in change.addresses[["address_id", "change", "reason"]].itertuples(index=False):
    ...     print(*row)
    a became_served offers_appeared
    b unchanged households_changed
    d added address_added
    c removed address_removed
    >>> region = change.municipalities.loc["region"]
    >>> [int(region[c]) for c in ("old_underserved_households", "became_served_households",
    ...  "became_underserved_households", "added_underserved_households",
    ...  "removed_underserved_households", "new_underserved_households")]
    [3, 1, 0, 3, 0, 5]
    """
    _check(old, "old")
    _check(new, "new")
    if old_provenance.denominator != new_provenance.denominator:
        raise ConfigError(
            f"the vintages count different things ({old_provenance.denominator} in "
            f"{old_provenance.data_year}, {new_provenance.denominator} in "
            f"{new_provenance.data_year}); use the same [meta] denominator for both"
        )
    same_standard = old_provenance.standard == new_provenance.standard
    if not same_standard:
        if old_under_new_standard is None:
            raise ConfigError(
                "the two vintages are judged under different standards: pass "
                "old_under_new_standard = classify(old_evidence, new_standard)['underserved'] "
                "so that a change of definition can be told from a change of data"
            )
        judged = np.asarray(old_under_new_standard, dtype=bool)
        if judged.shape != (len(old),):
            raise ConfigError(
                f"old_under_new_standard has {judged.size} values, the old vintage {len(old)}"
            )
    reported = selected_municipalities(municipalities)
    codes = reported[S.MUNICIPALITY_CODE].astype(str).tolist()
    k = len(codes)

    # --- the join ---------------------------------------------------------------------
    found = match_keys_normalized(new[S.ADDRESS_ID], old[S.ADDRESS_ID])
    n_new, n_old = len(new), len(old)
    partner = np.full(n_new, -1, dtype=np.int64)
    partner[found.rows] = found.positions
    in_new = np.zeros(n_old, dtype=bool)
    in_new[found.positions] = True
    old_only = np.flatnonzero(~in_new)
    new_pos = np.concatenate([np.arange(n_new, dtype=np.int64), np.full(old_only.size, -1)])
    old_pos = np.concatenate([partner, old_only])
    problems = _problems(new, found)

    # --- both sides on the union of addresses -------------------------------------------
    def side(table: pd.DataFrame, pos: NDArray[np.int64]) -> dict[str, NDArray]:
        code = category_codes(table[S.MUNICIPALITY_CODE], codes)
        return {
            "code": _take(code, pos, -1),
            "households": _take(table[S.HOUSEHOLDS].to_numpy(np.int64), pos, 0),
            "under": _take(np.asarray(table[S.UNDERSERVED], dtype=bool), pos, False),
            "down": _take(_column(table, S.FIXED_DOWN), pos, np.nan),
            "up": _take(_column(table, S.FIXED_UP), pos, np.nan),
            "fixed_served": _take(_flag(table, S.FIXED_SERVED), pos, np.nan),
            "mobile_served": _take(_flag(table, S.MOBILE_SERVED), pos, np.nan),
            "signal": _take(_column(table, S.MOBILE_SIGNAL), pos, np.nan),
            "mobile_down": _take(_column(table, S.MOBILE_DOWN), pos, np.nan),
            "x": _take(_column(table, S.X), pos, np.nan),
            "y": _take(_column(table, S.Y), pos, np.nan),
        }

    o, n = side(old, old_pos), side(new, new_pos)
    o_in = o["code"] >= 0
    n_in = n["code"] >= 0
    o_under = o_in & o["under"].astype(bool)
    n_under = n_in & n["under"].astype(bool)
    o_h, n_h = o["households"], n["households"]
    both = o_in & n_in
    same = both & (o["code"] == n["code"])

    change = np.full(new_pos.size, CHANGES.index("not_counted"), dtype=np.int8)
    change[same] = CHANGES.index("unchanged")
    change[same & o_under & ~n_under] = CHANGES.index("became_served")
    change[same & ~o_under & n_under] = CHANGES.index("became_underserved")
    change[both & ~same] = CHANGES.index("moved")
    change[o_in & ~n_in] = CHANGES.index("removed")
    change[~o_in & n_in] = CHANGES.index("added")

    # --- flows, in households ------------------------------------------------------------
    zero = np.zeros(new_pos.size, dtype=np.int64)
    became_served = np.where(change == CHANGES.index("became_served"), o_h, zero)
    became_under = np.where(change == CHANGES.index("became_underserved"), n_h, zero)
    stays = same & o_under & n_under
    added = np.where(stays, np.maximum(n_h - o_h, 0), zero)
    removed = np.where(stays, np.maximum(o_h - n_h, 0), zero)
    arrives = np.isin(change, [CHANGES.index("added"), CHANGES.index("moved")]) & n_under
    leaves = np.isin(change, [CHANGES.index("removed"), CHANGES.index("moved")]) & o_under
    added = added + np.where(arrives, n_h, zero)
    removed = removed + np.where(leaves, o_h, zero)

    # --- reasons -------------------------------------------------------------------------
    reason = np.full(new_pos.size, REASONS.index(""), dtype=np.int8)
    flipped = np.isin(change, [CHANGES.index("became_served"), CHANGES.index("became_underserved")])
    old_has, new_has = ~np.isnan(o["down"]), ~np.isnan(n["down"])
    if same_standard:
        fixed_flip = _differs(o["fixed_served"], n["fixed_served"])
        mobile_flip = _differs(o["mobile_served"], n["mobile_served"])
    else:
        fixed_flip = _differs(o["down"], n["down"]) | _differs(o["up"], n["up"])
        mobile_flip = _differs(o["signal"], n["signal"]) | _differs(
            o["mobile_down"], n["mobile_down"]
        )
    data = np.full(new_pos.size, REASONS.index("other"), dtype=np.int8)
    data[mobile_flip] = REASONS.index("mobile_changed")
    data[fixed_flip] = REASONS.index("speeds_changed")
    data[fixed_flip & ~old_has & new_has] = REASONS.index("offers_appeared")
    data[fixed_flip & old_has & ~new_has] = REASONS.index("offers_disappeared")
    reason[flipped] = data[flipped]
    if not same_standard:
        old_new = _take(judged, old_pos, False).astype(bool)
        by_definition = flipped & (old_new == n_under)
        reason[by_definition] = REASONS.index("standard_changed")
    reason[stays & (o_h != n_h)] = REASONS.index("households_changed")
    is_added = change == CHANGES.index("added")
    is_removed = change == CHANGES.index("removed")
    reason[is_added] = np.where(
        old_pos[is_added] >= 0, REASONS.index("now_counted"), REASONS.index("address_added")
    )
    reason[is_removed] = np.where(
        new_pos[is_removed] >= 0,
        REASONS.index("no_longer_counted"),
        REASONS.index("address_removed"),
    )
    reason[change == CHANGES.index("moved")] = REASONS.index("municipality_changed")

    # --- the per-address table -------------------------------------------------------------
    # Ids are taken as text arrays (no Python strings per address): the new vintage's,
    # then the old vintage's that are not in the new one.
    old_ids = pd.array(old[S.ADDRESS_ID], dtype="string")
    new_ids = pd.array(new[S.ADDRESS_ID], dtype="string")
    old_id = old_ids.take(old_pos, allow_fill=True)
    address_id = pd.concat(
        [pd.Series(new_ids), pd.Series(old_ids.take(old_only))], ignore_index=True
    ).array
    old_code = np.where(o_in, o["code"], -1)
    new_code = np.where(n_in, n["code"], -1)

    def present(flags: NDArray, pos: NDArray[np.int64]) -> pd.arrays.BooleanArray:
        return pd.arrays.BooleanArray(np.asarray(flags, dtype=bool), pos < 0)

    def counts(values: NDArray, pos: NDArray[np.int64]) -> pd.arrays.IntegerArray:
        return pd.arrays.IntegerArray(np.asarray(values, dtype=np.int64), pos < 0)

    addresses = pd.DataFrame(
        {
            S.ADDRESS_ID: address_id,
            "old_address_id": old_id,
            S.MUNICIPALITY_CODE: pd.Categorical.from_codes(
                np.where(n_in, new_code, old_code), categories=codes
            ),
            "old_municipality_code": pd.Categorical.from_codes(old_code, categories=codes),
            "new_municipality_code": pd.Categorical.from_codes(new_code, categories=codes),
            "old_households": counts(o_h, old_pos),
            "new_households": counts(n_h, new_pos),
            "old_underserved": present(o["under"], old_pos),
            "new_underserved": present(n["under"], new_pos),
            "change": pd.Categorical.from_codes(change, categories=list(CHANGES)),
            "reason": pd.Categorical.from_codes(reason, categories=list(REASONS)),
            "became_served_households": became_served,
            "became_underserved_households": became_under,
            "added_underserved_households": added,
            "removed_underserved_households": removed,
            "old_fixed_down_mbps": o["down"],
            "old_fixed_up_mbps": o["up"],
            "new_fixed_down_mbps": n["down"],
            "new_fixed_up_mbps": n["up"],
            S.X: np.where(new_pos >= 0, n["x"], o["x"]),
            S.Y: np.where(new_pos >= 0, n["y"], o["y"]),
        }
    )
    crs = new.attrs.get("crs") or old.attrs.get("crs")
    if crs is not None:
        addresses.attrs["crs"] = crs

    # --- per municipality -------------------------------------------------------------------
    def count(where: NDArray[np.int64], weights: NDArray) -> NDArray[np.int64]:
        slot = np.where(where >= 0, where, k)
        return np.bincount(slot, weights=weights.astype(np.float64), minlength=k + 1)[:k].astype(
            np.int64
        )

    at_new = np.where(n_in, n["code"], -1)
    at_old = np.where(o_in, o["code"], -1)
    columns: dict[str, NDArray[np.int64]] = {
        "old_households": count(at_old, o_h),
        "new_households": count(at_new, n_h),
        "old_underserved_households": count(at_old, o_h * o_under),
        "new_underserved_households": count(at_new, n_h * n_under),
        "became_served_households": count(at_new, became_served),
        "became_underserved_households": count(at_new, became_under),
        # moved addresses arrive where they are now and leave where they were
        "added_underserved_households": count(at_new, added),
        "removed_underserved_households": count(at_old, removed),
    }
    for name in ("became_served", "became_underserved", "unchanged", "added", "moved"):
        columns[f"{name}_addresses"] = count(at_new, change == CHANGES.index(name))
    columns["removed_addresses"] = count(at_old, change == CHANGES.index("removed"))
    table = _municipal_table(columns, reported, codes, old_provenance, new_provenance)
    reasons = _reasons(addresses, codes)
    return VintageChange(addresses, table, reasons, tuple(problems), old_provenance, new_provenance)


def _municipal_table(
    columns: dict[str, NDArray[np.int64]],
    reported: pd.DataFrame,
    codes: list[str],
    old: Provenance,
    new: Provenance,
) -> pd.DataFrame:
    full = {name: np.append(values, values.sum()) for name, values in columns.items()}
    net = full["new_underserved_households"] - full["old_underserved_households"]
    flows = (
        full["became_underserved_households"]
        + full["added_underserved_households"]
        - full["became_served_households"]
        - full["removed_underserved_households"]
    )
    if not np.array_equal(net, flows):
        raise ReconciliationError(
            f"the change does not reconcile: net {net.tolist()}, flows {flows.tolist()}"
        )
    with np.errstate(invalid="ignore", divide="ignore"):
        old_share = np.where(
            full["old_households"] > 0,
            full["old_underserved_households"] / full["old_households"],
            np.nan,
        )
        new_share = np.where(
            full["new_households"] > 0,
            full["new_underserved_households"] / full["new_households"],
            np.nan,
        )
    names = [*reported[S.MUNICIPALITY_NAME].astype(str), new.area_name]
    order = [
        "old_underserved_households",
        "became_served_households",
        "became_underserved_households",
        "added_underserved_households",
        "removed_underserved_households",
        "new_underserved_households",
    ]
    data: dict[str, object] = {
        S.MUNICIPALITY_NAME: names,
        "old_data_year": "" if old.data_year is None else str(old.data_year),
        "new_data_year": "" if new.data_year is None else str(new.data_year),
        **{name: full[name] for name in order},
        "net_change_households": net,
        "old_households": full["old_households"],
        "new_households": full["new_households"],
        "old_underserved_share": old_share,
        "new_underserved_share": new_share,
        **{name: values for name, values in full.items() if name.endswith("_addresses")},
        "old_service_standard": old.standard.describe(),
        "new_service_standard": new.standard.describe(),
        "denominator": new.denominator,
        "old_source": old.source,
        "new_source": new.source,
    }
    index = pd.Index([*codes, S.REGION_CODE], name=S.MUNICIPALITY_CODE)
    table = pd.DataFrame(data, index=index)
    table.attrs["provenance"] = new
    table.attrs["old_provenance"] = old
    return table


def _reasons(addresses: pd.DataFrame, codes: list[str]) -> pd.DataFrame:
    """Addresses and households per municipality, class and reason (changes only)."""
    moving = addresses[~addresses["change"].isin(["unchanged", "not_counted"])]
    moving = moving.assign(
        households=moving[list(FLOWS)].sum(axis=1).to_numpy(np.int64),
        municipality_code=moving[S.MUNICIPALITY_CODE].astype(object),
        change=moving["change"].astype(str),
        reason=moving["reason"].astype(str),
    )
    also = addresses[addresses["reason"] == "households_changed"].assign(
        households=lambda t: t[list(FLOWS)].sum(axis=1).to_numpy(np.int64),
        municipality_code=lambda t: t[S.MUNICIPALITY_CODE].astype(object),
        change="unchanged",
        reason="households_changed",
    )
    rows = pd.concat([moving, also], ignore_index=True)
    keys = ["change", "reason"]
    local = rows.groupby([S.MUNICIPALITY_CODE, *keys], sort=False).agg(
        addresses=(S.ADDRESS_ID, "size"), households=("households", "sum")
    )
    region = rows.groupby(keys, sort=False).agg(
        addresses=(S.ADDRESS_ID, "size"), households=("households", "sum")
    )
    region = pd.concat({S.REGION_CODE: region}, names=[S.MUNICIPALITY_CODE])
    table = pd.concat([local, region]).reset_index()
    rank = {c: i for i, c in enumerate([*codes, S.REGION_CODE])}
    table = table.sort_values(
        [S.MUNICIPALITY_CODE, "change", "reason"],
        key=lambda s: (
            s.map(rank)
            if s.name == S.MUNICIPALITY_CODE
            else s.map({v: i for i, v in enumerate(CHANGES if s.name == "change" else REASONS)})
        ),
    ).reset_index(drop=True)
    table["addresses"] = table["addresses"].astype(np.int64)
    table["households"] = table["households"].astype(np.int64)
    return table


def _problems(new: pd.DataFrame, found: object) -> list[Problem]:
    out = []
    normalized = getattr(found, "normalized", np.empty(0))
    ambiguous = getattr(found, "ambiguous", np.empty(0))
    ids = new[S.ADDRESS_ID].astype(object).to_numpy()
    if normalized.size:
        out.append(
            Problem(
                "new vintage",
                "address ids matched the old vintage's only after normalisation (white "
                "space, case of UUIDs, Unicode form or leading zeros); counted as the same "
                "addresses",
                column=S.ADDRESS_ID,
                rows=tuple(ids[normalized[:5]]),
                count=int(normalized.size),
                severity="warning",
                fix="write the ids identically in both vintages to silence this warning",
            )
        )
    if ambiguous.size:
        out.append(
            Problem(
                "new vintage",
                "address ids fit several of the old vintage's ids once spaces, case and "
                "leading zeros are ignored; treated as new addresses",
                column=S.ADDRESS_ID,
                rows=tuple(ids[ambiguous[:5]]),
                count=int(ambiguous.size),
                severity="warning",
                fix="make the ids of the old vintage distinct",
            )
        )
    return out

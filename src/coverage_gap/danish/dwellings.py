"""Dwellings per access address: a unit file joined to the addresses, with a guard.

A DAWA unit-address file (``adresser``: one row per unit address, referring to its
access address) or a BBR unit extract (``enhed``: one row per unit, with its use code)
turns one access address into its number of dwellings. The join goes through the
library's id comparison (:func:`coverage_gap.keys.match_keys_normalized`, as the
offer join): byte for byte, then after trimming, Unicode NFC, UUIDs case-insensitive
and leading zeros when both sides hold only digits. Rows matched only so are counted
and reported.

What an address without any row means: no registered unit, i.e. 0 dwellings (a
business address, a garage, a new building). That is right address by address but
wrong for a whole file keyed on another id: the share of addresses that found at
least one row (whatever its use code) is reported, and fewer than
``min_match_share`` (default 50 %, the default of ``[checks] min_offer_match_share``)
stops the run, naming both files, both id columns, the share and ids from each side.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from ..errors import InputError, Problem, SchemaError
from ..io._common import PathLike, arrow_to_pandas, existing_file
from ..keys import match_keys_normalized

#: Share of the addresses that must find a row in the dwelling file; the same default
#: as ``[checks] min_offer_match_share`` (``evidence.DEFAULT_MIN_MATCH_SHARE``).
DEFAULT_MIN_DWELLING_MATCH_SHARE = 0.5

#: Columns that mark a BBR unit extract (the rest is taken for a DAWA unit-address file).
BBR_ADDRESS = "adresseIdentificerer"
BBR_USE = "enh020EnhedensAnvendelse"
UNIT_REFERENCE = "adgangsadresseid"

# A whole number, possibly written with a zero decimal part after an Excel round trip.
_WHOLE = r"^\s*([0-9]+)(?:[.,]0*)?\s*$"
_FIRST_IDS = 5


@dataclass(frozen=True)
class UnitRows:
    """The rows of a dwelling file, reduced to what the join needs.

    Attributes
    ----------
    source
        The file.
    id_column
        The column that refers to the access address.
    ids
        That column, as text (one entry per row).
    counted
        Whether a row counts as a dwelling (1) or not (0: a BBR unit whose use is not
        residential; it still shows that the file knows the address).
    what
        ``"unit addresses"`` or ``"BBR units"``.
    """

    source: str
    id_column: str
    ids: pa.ChunkedArray
    counted: NDArray[np.int64]
    what: str


def whole_numbers(values: pa.ChunkedArray | pa.Array, *, source: str, column: str) -> pa.Array:
    """Parse use codes as whole numbers: ``140``, ``"140"`` and ``"140.0"`` are 140.

    Empty cells stay null (not counted). A fraction (``140.5``) or text is an error
    naming the file, the column and the first lines.

    Examples
    --------
    >>> whole_numbers(pa.array(["140", " 120.0", None, "510,00"]), source="b.csv",
    ...               column="use").to_pylist()
    [140, 120, None, 510]
    >>> whole_numbers(pa.array(["140", "140.5"]), source="b.csv", column="use")
    Traceback (most recent call last):
    ...
    coverage_gap.errors.SchemaError: 1 problem in the input:
      - b.csv, column 'use': use codes must be whole numbers ... first lines: 3)...
    """
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if pa.types.is_integer(values.type):
        return values.cast(pa.int64())
    text = values.cast(pa.string())
    ok = pc.fill_null(pc.match_substring_regex(text, _WHOLE), True)
    if not pc.all(ok).as_py():
        bad = np.flatnonzero(~np.asarray(ok.to_numpy(zero_copy_only=False), dtype=bool))
        shown = [text[int(i)].as_py() for i in bad[:3]]
        raise SchemaError(
            Problem(
                source,
                f"use codes must be whole numbers (BBR codes such as 140), got {shown}",
                column=column,
                rows=tuple(int(i) + 2 for i in bad[:_FIRST_IDS]),
                count=int(bad.size),
                lines=True,
                fix="give the BBR use-code column as exported (140, or 140.0 after Excel); "
                "check that the column is the use code",
            )
        )
    digits = pc.replace_substring_regex(text, _WHOLE, r"\1")
    return pc.cast(digits, pa.int64())


def unit_address_rows(path: PathLike, *, reference: str = UNIT_REFERENCE) -> UnitRows:
    """Read a DAWA unit-address file: every row is one dwelling of its access address."""
    from ..io.tabular import read_csv

    p = existing_file(path)
    frame = read_csv(p, text_columns=[reference], columns=[reference], encoding=None)
    ids = pa.chunked_array([pa.array(frame[reference].astype(object), type=pa.string())])
    return UnitRows(str(p), reference, ids, np.ones(len(frame), np.int64), "unit addresses")


def bbr_unit_rows(
    path: PathLike,
    *,
    address: str = BBR_ADDRESS,
    use: str = BBR_USE,
    residential_codes: Iterable[str | int],
) -> UnitRows:
    """Read a BBR unit extract: a row counts when its use code is residential."""
    from ..io.tabular import read_csv, read_parquet

    p = existing_file(path)
    source = str(p)
    if p.suffix.lower() in (".parquet", ".pq"):
        table, _ = read_parquet(p, columns=[address, use])
        ids = table.column(address).cast(pa.string())
        codes = table.column(use)
    else:
        frame = read_csv(p, text_columns=[address, use], columns=[address, use], encoding=None)
        ids = pa.chunked_array([pa.array(frame[address].astype(object), type=pa.string())])
        codes = pa.chunked_array([pa.array(frame[use].astype(object), type=pa.string())])
    wanted = whole_numbers(
        pa.array([str(c) for c in residential_codes], pa.string()),
        source="residential_codes",
        column="residential_codes",
    )
    parsed = whole_numbers(codes, source=source, column=use)
    counted = pc.fill_null(pc.is_in(parsed, value_set=wanted), False)
    return UnitRows(
        source,
        address,
        ids,
        np.asarray(counted.to_numpy(zero_copy_only=False), dtype=np.int64),
        "BBR units",
    )


def dwelling_rows(
    path: PathLike,
    *,
    reference: str = UNIT_REFERENCE,
    residential_codes: Iterable[str | int] | None = None,
) -> UnitRows:
    """Read a dwelling file: a BBR unit extract (by its columns) or DAWA unit addresses."""
    from ..io.tabular import detect_encoding, header_names, sniff_delimiter
    from .readers import RESIDENTIAL_USE_CODES

    p = existing_file(path)
    if p.suffix.lower() in (".parquet", ".pq"):
        import pyarrow.parquet as pq

        header = list(pq.read_schema(p).names)
    else:
        encoding = detect_encoding(p)
        header = header_names(p, sniff_delimiter(p, encoding), encoding)
    if BBR_USE in header:
        codes = RESIDENTIAL_USE_CODES if residential_codes is None else residential_codes
        return bbr_unit_rows(p, residential_codes=codes)
    return unit_address_rows(p, reference=reference)


@dataclass(frozen=True)
class DwellingMatch:
    """How the addresses of a household file found their rows in a dwelling file.

    Attributes
    ----------
    source, id_column
        The dwelling file and its column that refers to the access address.
    address_source, address_id_column
        The address file and its id column.
    addresses, addresses_matched
        Addresses, and those with at least one row in the dwelling file (whatever the
        use of the unit).
    addresses_normalized
        Matched addresses whose rows matched only after id normalisation.
    rows, rows_unmatched, rows_ambiguous
        Rows of the dwelling file, those whose id is not among the addresses, and those
        whose id fits several addresses after normalisation (left out).
    dwellings
        Dwellings counted at the addresses.
    unmatched_address_ids, unmatched_row_ids, normalized_ids
        The first few of each (the dwelling file's ids as written for the last two).
    what
        ``"unit addresses"`` or ``"BBR units"``.

    Examples
    --------
    >>> m = DwellingMatch("u.csv", "ref", "a.csv", "id", 4, 1, 0, 3, 2, 0, 1)
    >>> m.share
    0.25
    >>> m.check(0.5)
    Traceback (most recent call last):
    ...
    coverage_gap.errors.InputError: 1 problem in the input:
      - u.csv, column 'ref': only 1 of 4 addresses (25.0%) of a.csv found a row ...
    """

    source: str
    id_column: str
    address_source: str
    address_id_column: str
    addresses: int
    addresses_matched: int
    addresses_normalized: int
    rows: int
    rows_unmatched: int
    rows_ambiguous: int
    dwellings: int
    rows_normalized: int = 0
    unmatched_address_ids: tuple[str, ...] = ()
    unmatched_row_ids: tuple[str, ...] = ()
    normalized_ids: tuple[str, ...] = ()
    what: str = "unit addresses"

    @property
    def share(self) -> float:
        """Share of addresses with at least one row (NaN without addresses)."""
        return self.addresses_matched / self.addresses if self.addresses else float("nan")

    def describe(self) -> str:
        """One line: how many addresses found a dwelling count."""
        return (
            f"{self.source}: {self.addresses_matched:,} of {self.addresses:,} addresses "
            f"({self.share:.1%}) found at least one of its {self.what}; "
            f"{self.dwellings:,} dwellings counted"
        )

    def check(self, min_share: float) -> None:
        """Raise :class:`~coverage_gap.errors.InputError` when too few addresses matched."""
        if not self.addresses or self.share >= min_share:
            return
        if not self.rows_unmatched:
            raise InputError(
                Problem(
                    self.source,
                    f"only {self.addresses_matched:,} of {self.addresses:,} addresses "
                    f"({self.share:.1%}) of {self.address_source} found a row in this file "
                    f"of {self.what}, fewer than the required {min_share:.0%}; every row "
                    "matched an address, so the file covers only part of the addresses "
                    f"(without a row, e.g. {list(self.unmatched_address_ids[:3])} in column "
                    f"'{self.address_id_column}') and those would count 0 dwellings",
                    column=self.id_column,
                    fix="give the dwelling file for the whole area of the address file; if "
                    "the addresses really lack dwellings, lower min_dwelling_match_share in "
                    "the layer's section",
                )
            )
        raise InputError(
            Problem(
                self.source,
                f"only {self.addresses_matched:,} of {self.addresses:,} addresses "
                f"({self.share:.1%}) of {self.address_source} found a row in this file of "
                f"{self.what}, fewer than the required {min_share:.0%}: the ids of the "
                f"dwelling file (column '{self.id_column}', e.g. "
                f"{list(self.unmatched_row_ids[:3])}) do not look like the addresses' ids "
                f"(column '{self.address_id_column}', e.g. "
                f"{list(self.unmatched_address_ids[:3])}); every address without a row "
                "would count 0 dwellings",
                column=self.id_column,
                fix="give a dwelling file keyed on the same access-address ids (DAWA "
                "adresser: adgangsadresseid; unit_reference = ... names another column); "
                "if it really covers only part of the addresses, lower "
                "min_dwelling_match_share in the layer's section",
            )
        )

    def problems(self) -> list[Problem]:
        """Warnings: addresses without a row, rows matched only after normalisation."""
        out = []
        missing = self.addresses - self.addresses_matched
        if missing:
            out.append(
                Problem(
                    self.address_source,
                    f"{missing:,} of {self.addresses:,} addresses ({1 - self.share:.1%}) have "
                    f"no row in {self.source} ({self.what}): they count 0 dwellings",
                    column=self.address_id_column,
                    rows=self.unmatched_address_ids,
                    count=missing,
                    severity="warning",
                    fix="expected for addresses without a dwelling (businesses, new "
                    "buildings); otherwise check that both files use the same address ids",
                )
            )
        if self.addresses_normalized:
            out.append(
                Problem(
                    self.source,
                    f"ids matched those of {self.addresses_normalized:,} addresses of "
                    f"{self.address_source} only after id normalisation (white space, "
                    "upper/lower case of UUIDs, Unicode form or leading zeros); counted as "
                    "matches",
                    column=self.id_column,
                    rows=self.normalized_ids,
                    count=self.rows_normalized,
                    severity="warning",
                    fix="write the ids identically in both files to silence this warning",
                )
            )
        if self.rows_ambiguous:
            out.append(
                Problem(
                    self.source,
                    "ids fit several addresses once spaces, case and leading zeros are "
                    "ignored; those rows are left out",
                    column=self.id_column,
                    count=self.rows_ambiguous,
                    severity="warning",
                    fix="make the address ids distinct",
                )
            )
        return out

    def to_dict(self) -> dict[str, object]:
        """Plain form (JSON) for attrs and manifests."""
        return {
            "source": self.source,
            "id_column": self.id_column,
            "address_source": self.address_source,
            "address_id_column": self.address_id_column,
            "addresses": self.addresses,
            "addresses_matched": self.addresses_matched,
            "addresses_normalized": self.addresses_normalized,
            "share": round(self.share, 6) if self.addresses else None,
            "rows": self.rows,
            "rows_unmatched": self.rows_unmatched,
            "rows_ambiguous": self.rows_ambiguous,
            "rows_normalized": self.rows_normalized,
            "dwellings": self.dwellings,
            "what": self.what,
        }


def join_dwellings(
    address_ids: pd.Series,
    units: UnitRows,
    *,
    address_source: str,
    address_id_column: str,
) -> tuple[NDArray[np.int64], DwellingMatch]:
    """Dwellings per address (0 without a counted row) and how the join went.

    Examples
    --------
    >>> units = UnitRows("u.csv", "ref", pa.chunked_array([[" a1", "a1", "b", "zz"]]),
    ...                  np.array([1, 1, 0, 1]), "BBR units")
    >>> counts, m = join_dwellings(pd.Series(["a1", "b", "c"]), units,
    ...                            address_source="a.csv", address_id_column="id")
    >>> counts.tolist(), m.addresses_matched, m.addresses_normalized, m.rows_unmatched
    ([2, 0, 0], 2, 1, 1)
    """
    n = len(address_ids)
    ids = pd.Series(address_ids.to_numpy(), dtype=object)
    match = match_keys_normalized(pd.Series(units.ids.to_pandas(), dtype=object), ids)
    rows, positions = match.rows, match.positions
    dwellings = np.bincount(positions, weights=units.counted[rows], minlength=n)
    counts = np.rint(dwellings).astype(np.int64)
    matched = np.bincount(positions, minlength=n) > 0
    normalized_at = np.zeros(n, dtype=bool)
    if match.normalized.size:
        # normalized rows are a subset of rows: find their positions
        is_norm = np.isin(rows, match.normalized)
        normalized_at[positions[is_norm]] = True
    found = np.zeros(units.counted.size, dtype=bool)
    found[rows] = True
    unmatched_rows = np.flatnonzero(~found)
    ambiguous = set(match.ambiguous.tolist())
    plain_unmatched = [int(r) for r in unmatched_rows[: _FIRST_IDS + len(ambiguous)]]
    plain_unmatched = [r for r in plain_unmatched if r not in ambiguous][:_FIRST_IDS]

    def _ids(values: pa.ChunkedArray, index: Iterable[int]) -> tuple[str, ...]:
        return tuple(str(values[int(i)].as_py()) for i in index)

    first_normalized = match.normalized[: 20 * _FIRST_IDS]
    info = DwellingMatch(
        source=units.source,
        id_column=units.id_column,
        address_source=address_source,
        address_id_column=address_id_column,
        addresses=n,
        addresses_matched=int(matched.sum()),
        addresses_normalized=int((normalized_at & matched).sum()),
        rows=int(units.counted.size),
        rows_unmatched=int(unmatched_rows.size - len(ambiguous)),
        rows_ambiguous=len(ambiguous),
        dwellings=int(counts.sum()),
        unmatched_address_ids=tuple(str(v) for v in ids[~matched].head(_FIRST_IDS)),
        unmatched_row_ids=_ids(units.ids, plain_unmatched),
        normalized_ids=tuple(dict.fromkeys(_ids(units.ids, first_normalized)))[:_FIRST_IDS],
        rows_normalized=int(match.normalized.size),
        what=units.what,
    )
    return counts, info


def dwellings_per_address(
    address_ids: pd.Series,
    path: PathLike,
    *,
    address_source: str,
    address_id_column: str,
    reference: str = UNIT_REFERENCE,
    min_match_share: float = DEFAULT_MIN_DWELLING_MATCH_SHARE,
    residential_codes: Iterable[str | int] | None = None,
) -> tuple[NDArray[np.int64], DwellingMatch, list[Problem]]:
    """Read a dwelling file, join it to the addresses, check and report the join.

    Returns the dwellings per address, the join record and its warnings; raises an
    :class:`~coverage_gap.errors.InputError` when fewer than ``min_match_share`` of the
    addresses found a row.
    """
    if not 0 <= min_match_share <= 1:
        raise InputError(
            Problem(
                str(path),
                f"min_dwelling_match_share must lie between 0 and 1, got {min_match_share!r}",
                fix="give a share such as 0.5",
            )
        )
    units = dwelling_rows(path, reference=reference, residential_codes=residential_codes)
    counts, info = join_dwellings(
        address_ids, units, address_source=address_source, address_id_column=address_id_column
    )
    info.check(min_match_share)
    return counts, info, info.problems()


def count_rows(units: UnitRows) -> pd.Series:
    """Return the counted rows per id as written (the public ``count_*`` functions' form)."""
    frame = arrow_to_pandas(pa.table({"id": units.ids}))
    frame["n"] = units.counted
    counts = frame.loc[frame["n"] > 0].groupby("id", sort=True)["n"].sum()
    counts.index.name = None
    return counts.astype(np.int64).rename("dwellings")


__all__ = [
    "DEFAULT_MIN_DWELLING_MATCH_SHARE",
    "DwellingMatch",
    "UnitRows",
    "bbr_unit_rows",
    "dwelling_rows",
    "dwellings_per_address",
    "join_dwellings",
    "unit_address_rows",
    "whole_numbers",
]

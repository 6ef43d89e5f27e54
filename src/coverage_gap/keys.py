"""Joins and duplicate checks on text keys (address ids), at millions of rows.

Address ids are 36-character UUIDs in Danish data. Hash joins on such strings cost
seconds in pandas or pyarrow at national scale and a fraction of a second in DuckDB's
parallel hash join, so both operations run as DuckDB queries over Arrow arrays
(zero-copy from pandas' Arrow-backed strings).

How ids are compared (:func:`match_keys_normalized`): byte for byte first; the keys
that find no partner are then compared after one documented normalisation
(:func:`normalize_ids`): surrounding white space trimmed, Unicode NFC, UUIDs
case-insensitive, and leading zeros ignored when *both* sides hold only digits. Keys
that match only after normalisation are counted, so that the caller can report them.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

_UUID = r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$"
_DIGITS = r"^[0-9]+$"


def _as_arrow_strings(
    values: pd.Series | pd.Index | NDArray[np.object_] | pa.Array | pa.ChunkedArray,
) -> pa.Array | pa.ChunkedArray:
    # Chunks are kept: combining millions of ids read from Parquet would copy them all.
    array = (
        values
        if isinstance(values, pa.Array | pa.ChunkedArray)
        else pa.array(values, from_pandas=True)
    )
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        array = array.cast(pa.string())
    return array


def _arrow(con: duckdb.DuckDBPyConnection, query: str) -> pa.Table:
    relation = con.sql(query)
    # DuckDB 1.4 added to_arrow_table(); older releases call it arrow().
    fetch = getattr(relation, "to_arrow_table", None) or relation.arrow
    return fetch()


#: Index keys per pass of :func:`match_keys` (bounds the memory of DuckDB's hash table).
_KEYS_PER_PASS = 2_500_000

#: Rows hashed at a time on the fixed-width path (bounds its temporaries).
_BLOCK = 1 << 20
_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)


@dataclass(frozen=True)
class _FixedWidth:
    """Text keys that all have one byte length, as views of their Arrow buffers.

    UUIDs (36 bytes) are the usual case. Each chunk is an ``(n, width)`` uint8 view, no
    copy; ``starts`` are the chunks' first rows.
    """

    parts: tuple[NDArray[np.uint8], ...]
    starts: NDArray[np.int64]
    width: int

    @classmethod
    def of(cls, array: pa.Array | pa.ChunkedArray) -> _FixedWidth | None:
        """Return the keys' fixed-width view, or None (nulls, mixed lengths, no rows)."""
        chunks = array.chunks if isinstance(array, pa.ChunkedArray) else [array]
        parts, starts, width, start = [], [], None, 0
        for chunk in chunks:
            n = len(chunk)
            if n == 0:
                continue
            if chunk.null_count:
                return None
            kind = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
            offsets = np.frombuffer(
                chunk.buffers()[1],
                dtype=kind,
                count=n + 1,
                offset=chunk.offset * np.dtype(kind).itemsize,
            )
            w = int(offsets[1] - offsets[0])
            if w == 0 or (width is not None and w != width):
                return None
            if int(offsets[-1] - offsets[0]) != w * n or not (np.diff(offsets) == w).all():
                return None
            width = w
            data = np.frombuffer(chunk.buffers()[2], dtype=np.uint8)
            parts.append(data[int(offsets[0]) : int(offsets[-1])].reshape(n, w))
            starts.append(start)
            start += n
        if width is None:
            return None
        return cls(tuple(parts), np.array(starts, dtype=np.int64), width)

    def hashes(self) -> NDArray[np.uint64]:
        """Return a 64-bit hash of every key (equal keys hash alike; rarely others)."""
        words = -(-self.width // 8)
        out = []
        for part in self.parts:
            for lo in range(0, len(part), _BLOCK):
                block = part[lo : lo + _BLOCK]
                padded = np.zeros((len(block), words * 8), dtype=np.uint8)
                padded[:, : self.width] = block
                h = np.full(len(block), self.width, dtype=np.uint64)
                for word in padded.view("<u8").T:
                    h ^= word
                    h *= _MULTIPLIER  # wraps modulo 2**64, as intended
                    h ^= h >> np.uint64(29)
                out.append(h)
        return np.concatenate(out) if out else np.empty(0, dtype=np.uint64)


def match_keys(
    keys: pd.Series | pd.Index, index_keys: pd.Series | pd.Index
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Match each key to its position in ``index_keys`` (which must be unique).

    Returns
    -------
    tuple of numpy.ndarray
        ``(rows, positions)``: for every row of ``keys`` found in ``index_keys``, the
        row's position and the position of its match, in no particular order (sorting
        millions of pairs costs more than the join). Keys not found (and null keys) are
        absent.

    Examples
    --------
    >>> rows, positions = match_keys(pd.Series(["b", "x", "a", "b"]), pd.Series(["a", "b"]))
    >>> sorted(zip(rows.tolist(), positions.tolist()))
    [(0, 1), (2, 0), (3, 1)]
    """
    left = pa.table({"k": _as_arrow_strings(keys), "row": np.arange(len(keys), dtype=np.int64)})
    right = pa.table(
        {"k": _as_arrow_strings(index_keys), "pos": np.arange(len(index_keys), dtype=np.int64)}
    )
    # DuckDB's hash table holds about 100 bytes per 36-character index key: at 4 M
    # addresses one pass takes 550 MB at the run's peak, two passes of half the keys
    # each 290 MB, for 15 % more time in the join.
    passes = max(1, -(-len(index_keys) // _KEYS_PER_PASS))
    con = duckdb.connect()
    rows_parts, position_parts = [], []
    try:
        con.execute("SET preserve_insertion_order = false")  # no order is promised
        con.register("l", left)
        con.register("r", right)
        for part in range(passes):
            where = (
                f" WHERE hash(l.k) % {passes} = {part} AND hash(r.k) % {passes} = {part}"
                if passes > 1
                else ""
            )
            out = _arrow(con, "SELECT l.row, r.pos FROM l JOIN r ON l.k = r.k" + where)
            rows_parts.append(out.column("row").to_numpy().astype(np.int64, copy=False))
            position_parts.append(out.column("pos").to_numpy().astype(np.int64, copy=False))
            del out
    finally:
        con.close()
    if passes == 1:
        return rows_parts[0], position_parts[0]
    return np.concatenate(rows_parts), np.concatenate(position_parts)


def duplicated_keys(keys: pd.Series | pd.Index, *, limit: int = 5) -> tuple[int, list[str]]:
    """Count rows whose key occurs more than once, and list the first few such keys.

    Examples
    --------
    >>> duplicated_keys(pd.Series(["a", "b", "a", "c", "a"]))
    (3, ['a'])
    """
    array = _as_arrow_strings(keys)
    fixed = _FixedWidth.of(array)
    if fixed is not None:
        # Equal keys have equal hashes: only rows whose hash repeats can be duplicates,
        # and those (usually none) are counted exactly as text below.
        hashes = fixed.hashes()
        ordered = np.sort(hashes)
        repeated = np.unique(ordered[1:][ordered[1:] == ordered[:-1]])
        if repeated.size == 0:
            return 0, []
        candidates = np.flatnonzero(np.isin(hashes, repeated))
        array = array.take(pa.array(candidates))
    table = pa.table({"k": array})
    con = duckdb.connect()
    try:
        con.register("t", table)
        rows = con.execute(
            "SELECT k, count(*) AS n FROM t WHERE k IS NOT NULL GROUP BY k HAVING n > 1 ORDER BY k"
        ).fetchall()
    finally:
        con.close()
    return int(sum(n for _, n in rows)), [k for k, _ in rows[:limit]]


def normalize_ids(values: pa.Array, *, numeric: bool = False) -> pa.Array:
    """Ids in the form in which coverage_gap compares them when the raw ids differ.

    Surrounding white space is trimmed, text is brought to Unicode NFC, UUIDs are
    lower-cased (they are case-insensitive by definition), and with ``numeric=True``
    (both sides of a join hold only digits) leading zeros are dropped, so that
    ``"001"`` matches ``1``.

    Examples
    --------
    >>> normalize_ids(pa.array([" a1 ", "0A3F5081-10E6-32B8-E044-0003BA298018", "Å"])).to_pylist()
    ['a1', '0a3f5081-10e6-32b8-e044-0003ba298018', 'Å']
    >>> normalize_ids(pa.array(["007", "0", "10"]), numeric=True).to_pylist()
    ['7', '0', '10']
    """
    text = pc.utf8_trim_whitespace(_as_arrow_strings(values))
    if not pc.all(pc.fill_null(pc.string_is_ascii(text), True)).as_py():
        text = pc.utf8_normalize(text, "NFC")
    text = pc.if_else(pc.match_substring_regex(text, _UUID), pc.utf8_lower(text), text)
    if numeric:
        text = pc.replace_substring_regex(text, r"^0+([0-9])", r"\1")
    return text


def all_digits(values: pa.Array | pd.Series | pd.Index | NDArray[np.object_]) -> bool:
    """Whether every id (surrounding spaces ignored, nulls allowed) holds only digits.

    Ids are compared as numbers (leading zeros ignored) only when both sides of a join
    are all digits (see :func:`match_keys_normalized`).

    Examples
    --------
    >>> all_digits(pa.array([" 007", "12", None])), all_digits(pa.array(["007", "a1"]))
    (True, False)
    """
    trimmed = pc.utf8_trim_whitespace(_as_arrow_strings(values))
    return bool(pc.all(pc.fill_null(pc.match_substring_regex(trimmed, _DIGITS), True)).as_py())


@dataclass(frozen=True)
class KeyMatch:
    """Result of :func:`match_keys_normalized`.

    Attributes
    ----------
    rows, positions
        For every matched key: its row and the position of its partner.
    normalized
        Rows that matched only after normalisation (a subset of ``rows``).
    ambiguous
        Rows whose normalised key fits several index keys (left unmatched).
    """

    rows: NDArray[np.int64]
    positions: NDArray[np.int64]
    normalized: NDArray[np.int64]
    ambiguous: NDArray[np.int64]


def match_keys_normalized(
    keys: pd.Series | pd.Index,
    index_keys: pd.Series | pd.Index,
    *,
    numeric: bool | None = None,
) -> KeyMatch:
    """Match keys byte for byte, then the rest after :func:`normalize_ids`.

    ``index_keys`` must be unique as they are; after normalisation several of them may
    coincide (``"a"`` and ``" a"``): keys that fit such a group stay unmatched and are
    reported as ``ambiguous``. Leading zeros are ignored when the unmatched keys and
    ``index_keys`` are all digits (:func:`all_digits`), or as ``numeric`` says: a join
    done in pieces (one hash bucket of a larger input at a time) passes what holds for
    the whole input.

    Examples
    --------
    >>> m = match_keys_normalized(pd.Series(["a", " b", "007", "x"]), pd.Series(["7", "a", "b"]))
    >>> sorted(zip(m.rows.tolist(), m.positions.tolist())), m.normalized.tolist()
    ([(0, 1), (1, 2)], [1])

    ``"007"`` does not match ``"7"`` here: the keys ``"a"`` and ``"b"`` are not digits,
    so ids are not compared as numbers.
    """
    rows, positions = match_keys(keys, index_keys)
    n = len(keys)
    empty = np.empty(0, dtype=np.int64)
    if rows.size == n:
        return KeyMatch(rows, positions, empty, empty)
    found = np.zeros(n, dtype=bool)
    found[rows] = True
    rest = np.flatnonzero(~found)
    left = _as_arrow_strings(keys).take(pa.array(rest))
    right = _as_arrow_strings(index_keys)
    if numeric is None:
        numeric = all_digits(left) and all_digits(right)
    left = normalize_ids(left, numeric=numeric)
    right = normalize_ids(right, numeric=numeric)
    # Index keys that coincide after normalisation cannot be told apart: leave them out.
    counts = pc.value_counts(right)
    repeated = counts.field("values").filter(pc.greater(counts.field("counts"), 1))
    unique_right = pc.if_else(pc.is_in(right, value_set=repeated), None, right)
    extra_rows, extra_positions = match_keys(left, unique_right)
    extra_rows = rest[extra_rows]
    ambiguous = rest[np.asarray(pc.is_in(left, value_set=repeated).to_numpy(zero_copy_only=False))]
    return KeyMatch(
        np.concatenate([rows, extra_rows]),
        np.concatenate([positions, extra_positions]),
        np.sort(extra_rows),
        np.sort(ambiguous),
    )

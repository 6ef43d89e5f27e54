"""Joins and duplicate checks on text keys (address ids), at millions of rows.

Address ids are 36-character UUIDs in Danish data. Hash joins on such strings cost
seconds in pandas or pyarrow at national scale and a fraction of a second in DuckDB's
parallel hash join, so both operations run as DuckDB queries over Arrow arrays
(zero-copy from pandas' Arrow-backed strings).
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
from numpy.typing import NDArray


def _as_arrow_strings(values: pd.Series | pd.Index | NDArray[np.object_]) -> pa.Array:
    array = pa.array(values, from_pandas=True)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        array = array.cast(pa.string())
    return array


def _arrow(con: duckdb.DuckDBPyConnection, query: str) -> pa.Table:
    relation = con.sql(query)
    # DuckDB 1.4 added to_arrow_table(); older releases call it arrow().
    fetch = getattr(relation, "to_arrow_table", None) or relation.arrow
    return fetch()


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
    con = duckdb.connect()
    try:
        con.register("l", left)
        con.register("r", right)
        out = _arrow(con, "SELECT l.row, r.pos FROM l JOIN r ON l.k = r.k")
    finally:
        con.close()
    rows = out.column("row").to_numpy()
    positions = out.column("pos").to_numpy()
    return rows.astype(np.int64, copy=False), positions.astype(np.int64, copy=False)


def duplicated_keys(keys: pd.Series | pd.Index, *, limit: int = 5) -> tuple[int, list[str]]:
    """Count rows whose key occurs more than once, and list the first few such keys.

    Examples
    --------
    >>> duplicated_keys(pd.Series(["a", "b", "a", "c", "a"]))
    (3, ['a'])
    """
    table = pa.table({"k": _as_arrow_strings(keys)})
    con = duckdb.connect()
    try:
        con.register("t", table)
        rows = con.execute(
            "SELECT k, count(*) AS n FROM t WHERE k IS NOT NULL GROUP BY k HAVING n > 1 ORDER BY k"
        ).fetchall()
    finally:
        con.close()
    return int(sum(n for _, n in rows)), [k for k, _ in rows[:limit]]

"""Reading plain tables (CSV, Parquet) and point coordinates from GeoParquet, fast.

CSV goes through pyarrow's multithreaded reader; id and code columns are read as text
so that ``"0253"`` and UUIDs stay as they are. GeoParquet point coordinates are decoded
straight from the WKB bytes (or the native GeoArrow struct) with numpy, without
building shapely objects.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import shapely
from numpy.typing import NDArray

from ..errors import EmptyInputError, InputError, Problem, SchemaError
from ..layers import point_coordinates
from ._common import arrow_to_pandas, reading, require_columns


def sniff_delimiter(path: Path, encoding: str = "utf-8") -> str:
    """Guess the delimiter from the header line: ``;``, ``,``, tab or ``|``."""
    with open(path, encoding=encoding, errors="replace") as handle:
        header = handle.readline()
    counts = {d: header.count(d) for d in (";", ",", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def read_csv(
    path: Path,
    *,
    text_columns: Sequence[str] = (),
    columns: Sequence[str] | None = None,
    sep: str | None = None,
    encoding: str | None = "utf-8",
    all_text: bool = False,
) -> pd.DataFrame:
    """Read a CSV with pyarrow; ``text_columns`` (or all, with ``all_text``) stay text.

    Errors name the file; a header that repeats a column name is an error. With
    ``encoding=None`` the encoding is detected (:func:`detect_encoding`: UTF-8, else
    Latin-1, as Danish Excel saves); a file whose first MiB is plain ASCII and that is
    not UTF-8 further on is read again as Latin-1. Text that is not valid in the given
    encoding is an error naming the encoding and the fix.
    """
    source = str(path)
    if encoding is None:
        detected = detect_encoding(path)
        try:
            return read_csv(
                path,
                text_columns=text_columns,
                columns=columns,
                sep=sep,
                encoding=detected,
                all_text=all_text,
            )
        except NotUtf8Error:
            # Detection reads the first MiB; a Latin-1 file may start with plain ASCII.
            if not _ascii_head(path):
                raise
        return read_csv(
            path,
            text_columns=text_columns,
            columns=columns,
            sep=sep,
            encoding="latin-1",
            all_text=all_text,
        )
    sep = sep or sniff_delimiter(path, encoding)
    header = header_names(path, sep, encoding)
    repeated = sorted({c for c in header if header.count(c) > 1})
    if repeated:
        raise SchemaError(
            Problem(
                source,
                f"the header names the column(s) {repeated} more than once",
                column=repeated[0],
                fix="give every column its own name",
            )
        )
    if columns is not None:
        require_columns(header, list(columns), source=source, what="table")
    try:
        with reading(source, "CSV table"):
            table = pacsv.read_csv(
                path,
                read_options=pacsv.ReadOptions(encoding=encoding),
                parse_options=pacsv.ParseOptions(delimiter=sep),
                convert_options=pacsv.ConvertOptions(
                    column_types={
                        c: pa.string()
                        for c in (header if all_text else text_columns)
                        if c in header
                    },
                    include_columns=list(columns) if columns is not None else None,
                    # Only an empty cell is missing: "NA", "n/a" or "nan" written in a
                    # coordinate or speed column is text (an error there), and an id "NA"
                    # stays an id.
                    null_values=[""],
                    strings_can_be_null=True,
                ),
            )
    except InputError as exc:
        if "invalid utf8" not in str(exc).lower():
            raise
        column = str(exc).split("In CSV column #", 1)[-1].split(":", 1)[0]
        named = header[int(column)] if column.isdigit() and int(column) < len(header) else None
        raise NotUtf8Error(
            Problem(
                source,
                "the file is not UTF-8 text (probably Windows cp1252/Latin-1, as Danish "
                "Excel saves it)",
                column=named,
                fix="save it as UTF-8 (in Excel: 'CSV UTF-8'), or give encoding = "
                '"latin-1" where the reader takes one (the DAWA, BBK and dwelling readers '
                "detect it)",
            )
        ) from None
    if table.num_rows == 0:
        raise EmptyInputError(
            Problem(source, "the table has a header but no rows", fix="re-export the file")
        )
    return arrow_to_pandas(table)


class NotUtf8Error(InputError):
    """A CSV file read as UTF-8 holds bytes that are not UTF-8."""


def detect_encoding(path: Path, sample: int = 1 << 20) -> str:
    r"""Return ``"utf-8"`` (BOM or not) when the file's start decodes so, else ``"latin-1"``.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "k.csv"
    >>> _ = p.write_bytes("kommunenavn\nKøge\n".encode("cp1252"))
    >>> detect_encoding(p)
    'latin-1'
    """
    truncated = path.stat().st_size > sample
    with open(path, "rb") as handle:
        raw = handle.read(sample)
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the end of the sample is not evidence of Latin-1.
        if not (truncated and exc.reason == "unexpected end of data"):
            return "latin-1"
    return "utf-8"


def _ascii_head(path: Path, sample: int = 1 << 20) -> bool:
    with open(path, "rb") as handle:
        return handle.read(sample).isascii()


def header_names(path: Path, sep: str, encoding: str) -> list[str]:
    r"""Column names of a delimited file (quotes and a BOM removed).

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "b.csv"
    >>> _ = p.write_bytes(b'\xef\xbb\xbf"adgadr_id";"postnr"\n"a";1\n')
    >>> header_names(p, ";", "utf-8")
    ['adgadr_id', 'postnr']
    """
    import csv

    with open(path, "rb") as handle:
        head = handle.read(4096)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in head:
        raise InputError(
            Problem(
                str(path),
                "the file is not 8-bit text (UTF-16, or it holds NUL bytes)",
                fix="save it as UTF-8 (in Excel: 'CSV UTF-8'); Latin-1 is read too",
            )
        )
    # utf-8-sig drops a BOM before the csv module sees (and mis-quotes) the first name.
    text_encoding = "utf-8-sig" if encoding.lower().replace("_", "-") == "utf-8" else encoding
    with open(path, encoding=text_encoding, errors="replace", newline="") as handle:
        first = next(csv.reader(handle, delimiter=sep), [])
    return [c.lstrip("\ufeff") for c in first]


def parquet_schema(path: Path) -> tuple[list[str], dict]:
    """Column names and ``geo`` metadata of a (Geo)Parquet file, without reading data."""
    with reading(str(path), "Parquet file"):
        schema = pq.read_schema(path)
    meta = schema.metadata or {}
    return list(schema.names), json.loads(meta[b"geo"]) if b"geo" in meta else {}


def read_parquet(
    path: Path, *, columns: Sequence[str] | None = None, categorical: Sequence[str] = ()
) -> tuple[pa.Table, dict]:
    """Read a (Geo)Parquet file's columns and its ``geo`` metadata (empty when absent)."""
    source = str(path)
    with reading(source, "Parquet file"):
        schema = pq.read_schema(path)
        meta = schema.metadata or {}
        geo = json.loads(meta[b"geo"]) if b"geo" in meta else {}
        if columns is not None:
            require_columns(schema.names, list(columns), source=source, what="table")
        # Low-cardinality text (technology names) stays dictionary-encoded: categorical.
        # Without pre-buffering a local file is decoded column chunk by column chunk
        # instead of being held whole in memory first: the same time, and 220 MB less
        # at the peak for 7.3 M offers.
        table = pq.read_table(
            path,
            columns=list(columns) if columns is not None else None,
            read_dictionary=[c for c in categorical if c in schema.names] or None,
            pre_buffer=False,
        )
    return table, geo


def point_xy(
    column: pa.ChunkedArray | pa.Array, encoding: str, *, source: str
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """x/y of a GeoParquet point column (WKB or native ``point`` encoding); NaN for nulls."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if encoding.lower() == "point":
        x = pc.struct_field(column, "x").to_numpy(zero_copy_only=False)
        y = pc.struct_field(column, "y").to_numpy(zero_copy_only=False)
        valid = column.is_valid().to_numpy(zero_copy_only=False)
        x = np.where(valid, x, np.nan).astype(np.float64)
        y = np.where(valid, y, np.nan).astype(np.float64)
        return x, y
    if encoding.upper() != "WKB":
        raise InputError(
            Problem(
                source,
                f"unsupported GeoParquet geometry encoding {encoding!r}",
                fix="write the file with WKB or native point encoding",
            )
        )
    return _wkb_points_xy(column, source=source)


def _wkb_points_xy(
    column: pa.Array, *, source: str
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    if pa.types.is_large_binary(column.type):
        column = column.cast(pa.binary())
    n = len(column)
    offsets = np.frombuffer(
        column.buffers()[1], dtype=np.int32, count=n + 1, offset=column.offset * 4
    )
    data = column.buffers()[2]
    lengths = np.diff(offsets)
    valid = (
        column.is_valid().to_numpy(zero_copy_only=False) if column.null_count else np.ones(n, bool)
    )
    # A 2-D WKB point is 21 bytes: byte order, type (1), x, y. Anything else (3-D points,
    # empty points, other types) goes through shapely, which is slower but general.
    simple = valid & (lengths == 21)
    raw = np.frombuffer(data, dtype=np.uint8) if data is not None else np.empty(0, np.uint8)
    x = np.full(n, np.nan)
    y = np.full(n, np.nan)
    idx = np.flatnonzero(simple)
    # (an empty column is not "packed": the strided views below need one point at least)
    packed = n > 0 and idx.size == n and offsets[-1] - offsets[0] == 21 * n
    if packed:
        # Every row a 21-byte point, back to back (the usual case): read x and y as
        # strided views of the buffer when all are little-endian 2-D points.
        rows = raw[offsets[0] : offsets[-1]].reshape(n, 21)
        header = rows[:, :5]
        if (header == np.array([1, 1, 0, 0, 0], dtype=np.uint8)).all():
            start = int(offsets[0])
            x = np.ndarray((n,), "<f8", buffer=raw, offset=start + 5, strides=(21,)).copy()
            y = np.ndarray((n,), "<f8", buffer=raw, offset=start + 13, strides=(21,)).copy()
            return x, y
    if idx.size:
        if not packed:
            starts = offsets[:-1][idx].astype(np.int64)
            rows = raw[starts[:, None] + np.arange(21)]
        little = rows[:, 0] == 1
        gtype = np.where(little, rows[:, 1], rows[:, 4])
        is_point = gtype == 1
        for endian, mask in (("<", little & is_point), (">", ~little & is_point)):
            if mask.any():
                xy = np.ascontiguousarray(rows[mask, 5:21]).view(f"{endian}f8").reshape(-1, 2)
                x[idx[mask]] = xy[:, 0]
                y[idx[mask]] = xy[:, 1]
        if not is_point.all():  # 21 bytes but not a point: let shapely name the problem
            simple[idx[~is_point]] = False
    other = np.flatnonzero(valid & ~simple)
    if other.size:
        geoms = shapely.from_wkb(np.asarray(column.take(pa.array(other)).to_pylist(), dtype=object))
        x[other], y[other] = point_coordinates(geoms, source=source)
    return x, y

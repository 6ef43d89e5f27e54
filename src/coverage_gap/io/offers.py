"""Reader for offer tables keyed by address id (fixed broadband or mobile speeds)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyogrio

from .. import schema as S
from ..errors import InputError, Problem
from ._common import (
    PARQUET_SUFFIXES,
    VECTOR_SUFFIXES,
    PathLike,
    arrow_to_pandas,
    as_text,
    existing_file,
    reading,
    require_columns,
)
from .tabular import read_csv, read_parquet


def read_offers(
    path: PathLike,
    *,
    id: str = S.ADDRESS_ID,
    download: str | None = None,
    upload: str | None = None,
    technology: str | None = None,
    technologies: dict[str, tuple[str, str | None]] | None = None,
    sep: str | None = None,
    decimal: str = ".",
    encoding: str = "utf-8",
) -> pd.DataFrame:
    r"""Read offered speeds per address, in long or wide layout.

    Long layout: one row per offer with ``download``/``upload`` columns (and optionally
    a ``technology`` column); several rows per address are allowed. Wide layout: one row
    per address with a download/upload column pair per technology, given as
    ``technologies={"fiber": ("download_fiber", "upload_fiber"), "xdsl": ("download_xdsl",
    None)}``; an empty cell or 0 download means "not offered" and yields no offer, and
    ``None`` for an upload column means the file states no upload.

    Parameters
    ----------
    path
        CSV, Parquet, or a vector file whose attributes hold the speeds (its geometry
        is ignored; offers are joined to households by id).
    id
        Address id column (read as text).
    download, upload, technology
        Columns of the long layout.
    technologies
        Column pairs of the wide layout (instead of ``download``/``upload``).
    sep
        CSV delimiter; sniffed from the header when ``None``.
    decimal
        Decimal mark of the speed columns (``","`` in Danish files).
    encoding
        Text encoding of a CSV file.

    Returns
    -------
    pandas.DataFrame
        ``address_id``, ``down_mbps``, ``up_mbps`` (NaN = not stated), ``technology``
        (when known), with ``attrs["source"]``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "o.csv"
    >>> _ = p.write_text("id;dl_fiber;ul_fiber;dl_dsl\na;1000;1000;\nb;;;20\n")
    >>> o = read_offers(p, id="id", technologies={"fiber": ("dl_fiber", "ul_fiber"),
    ...                                           "xdsl": ("dl_dsl", None)})
    >>> o.values.tolist()
    [['a', 1000.0, 1000.0, 'fiber'], ['b', 20.0, nan, 'xdsl']]
    """
    p = existing_file(path)
    source = str(p)
    if technologies is None and download is None:
        raise InputError(
            Problem(
                source,
                "no speed columns were named",
                fix="give download/upload columns (long layout) or "
                "technologies = {name = [download, upload]} (wide layout)",
            )
        )
    needed = [id]
    if technologies is not None:
        for down_col, up_col in technologies.values():
            needed += [c for c in (down_col, up_col) if c]
    else:
        needed += [c for c in (download, upload, technology) if c]
    text = [id] + ([technology] if technology else [])
    if decimal != ".":
        text += [c for c in needed if c not in text]
    if p.suffix.lower() in PARQUET_SUFFIXES:
        table, _ = read_parquet(p, columns=needed, categorical=[technology] if technology else [])
        frame = arrow_to_pandas(table)
    elif p.suffix.lower() in VECTOR_SUFFIXES:
        with reading(source, "vector file"):
            require_columns(
                list(pyogrio.read_info(p)["fields"]), needed, source=source, what="offer"
            )
            frame = pyogrio.read_dataframe(p, columns=needed, read_geometry=False)
        if decimal != ".":
            frame = frame.astype({c: "string" for c in needed})
    else:
        frame = read_csv(p, text_columns=text, columns=needed, sep=sep, encoding=encoding)
    require_columns(list(frame.columns), needed, source=source, what="offer")

    def speeds(column: str | None) -> pd.Series:
        if column is None:
            return pd.Series(np.nan, index=frame.index)
        values = frame[column]
        if pd.api.types.is_numeric_dtype(values):
            return values.astype(np.float64)
        if decimal != ".":
            values = values.str.replace(".", "", regex=False).str.replace(decimal, ".", regex=False)
        numeric = pd.to_numeric(values, errors="coerce")
        suspect = numeric.isna() & values.notna()
        bad = suspect.copy()
        if suspect.any():
            bad[suspect] = values[suspect].astype(str).str.strip() != ""
        if bad.any():
            first = bad.to_numpy().nonzero()[0][:5]
            # Line numbers: header is line 1, first data row line 2.
            raise InputError(
                Problem(
                    source,
                    f"text in a speed column, e.g. {values[bad].iloc[0]!r}",
                    column=column,
                    rows=tuple(int(i) + 2 for i in first),
                    count=int(bad.sum()),
                    fix="speeds must be numbers in Mbit/s (rows are file lines); "
                    "check the decimal mark and the separator",
                )
            )
        return numeric.astype(np.float64)

    ids = as_text(frame[id])
    if technologies is None:
        out = pd.DataFrame({S.ADDRESS_ID: ids, S.DOWN: speeds(download), S.UP: speeds(upload)})
        if technology:
            out[S.TECHNOLOGY] = frame[technology].astype("category")
    else:
        parts = []
        for name, (down_col, up_col) in technologies.items():
            down = speeds(down_col)
            offered = down.notna() & (down > 0)
            parts.append(
                pd.DataFrame(
                    {
                        S.ADDRESS_ID: ids[offered],
                        S.DOWN: down[offered],
                        S.UP: speeds(up_col)[offered],
                        S.TECHNOLOGY: name,
                    }
                )
            )
        out = pd.concat(parts, ignore_index=True)
    out.attrs["source"] = source
    return out

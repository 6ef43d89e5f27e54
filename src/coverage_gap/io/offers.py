"""Reader for offer tables keyed by address id (fixed broadband or mobile speeds)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import pyogrio

from .. import schema as S
from ..errors import InputError, Problem
from ._common import (
    PARQUET_SUFFIXES,
    VECTOR_SUFFIXES,
    PathLike,
    address_key,
    arrow_to_pandas,
    existing_file,
    reading,
    require_columns,
)
from .numbers import parse_numbers
from .tabular import read_csv, read_parquet


def read_offers(
    path: PathLike,
    *,
    id: str | Sequence[str] = S.ADDRESS_ID,
    download: str | None = None,
    upload: str | None = None,
    technology: str | None = None,
    technologies: Mapping[str, str | Sequence[str | None]] | None = None,
    sep: str | None = None,
    decimal: str | None = None,
    encoding: str = "utf-8",
) -> pd.DataFrame:
    r"""Read offered speeds per address, in long or wide layout.

    Long layout: one row per offer with ``download``/``upload`` columns (and optionally
    a ``technology`` column); several rows per address are allowed. Wide layout: one row
    per address with a download/upload column pair per technology, given as
    ``technologies={"fiber": ("download_fiber", "upload_fiber"), "xdsl": ("download_xdsl",
    None)}``; an empty cell or 0 download means "not offered" and yields no offer, and
    ``None`` for an upload column means the file states no upload. An address with
    nothing offered keeps one row without speed or technology: it is listed in the file
    (see :class:`coverage_gap.evidence.OfferMatch`), and a row without download never
    serves anyone.

    Parameters
    ----------
    path
        CSV, Parquet, or a vector file whose attributes hold the speeds (its geometry
        is ignored; offers are joined to households by id).
    id
        Address id column (read as text), or several columns that together name an
        address (joined as ``"2690|Rørhaven|50"``, see
        :func:`coverage_gap.io._common.address_key`).
    download, upload, technology
        Columns of the long layout.
    technologies
        Column pairs of the wide layout (instead of ``download``/``upload``): a
        download column alone (or with ``None``) means the file states no upload.
    sep
        CSV delimiter; sniffed from the header when ``None``.
    decimal
        Decimal mark of the speed columns: ``","`` (Danish files), ``"."``, or None to
        detect it per column; values that contradict it are an error (see
        :mod:`coverage_gap.io.numbers`).
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
    >>> o.attrs["id_column"]
    'id'

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
    key = [id] if isinstance(id, str) else list(id)
    pairs = None if technologies is None else _pairs(technologies, source=source)
    needed = list(key)
    if pairs is not None:
        for down_col, up_col in pairs.values():
            needed += [c for c in (down_col, up_col) if c and c not in needed]
    else:
        if download is not None and download == upload:
            raise InputError(
                Problem(
                    source,
                    f"download and upload name the same column {download!r}",
                    column=download,
                    fix="name the upload column (upload = ...), or leave it out when the "
                    "file states no upload",
                )
            )
        needed += [c for c in (download, upload, technology) if c and c not in needed]
    text = key + ([technology] if technology else [])
    # Speeds are read as text and parsed strictly: a column of "1.000" would otherwise be
    # inferred as 1.0, and "NaN" as a missing value.
    text += [c for c in needed if c not in text]
    if p.suffix.lower() in PARQUET_SUFFIXES:
        table, _ = read_parquet(p, columns=needed, categorical=[technology] if technology else [])
        frame = arrow_to_pandas(table)
        del table  # the ids are shared with the frame; the speeds' Arrow copies can go
    elif p.suffix.lower() in VECTOR_SUFFIXES:
        with reading(source, "vector file"):
            require_columns(
                list(pyogrio.read_info(p)["fields"]), needed, source=source, what="offer"
            )
            frame = pyogrio.read_dataframe(p, columns=needed, read_geometry=False)
        if decimal == ",":
            frame = frame.astype({c: "string" for c in needed})
    else:
        frame = read_csv(p, text_columns=text, columns=needed, sep=sep, encoding=encoding)
    require_columns(list(frame.columns), needed, source=source, what="offer")

    def speeds(column: str | None) -> pd.Series:
        if column is None:
            return pd.Series(np.nan, index=frame.index)
        numbers = parse_numbers(
            frame[column], decimal=decimal, source=source, column=column, what="speed"
        )
        return pd.Series(numbers, index=frame.index)

    ids = address_key(frame, id)
    if pairs is None:
        # copy=False: the parsed speeds are new arrays already (no second copy of 2 x 7 M).
        out = pd.DataFrame(
            {S.ADDRESS_ID: ids, S.DOWN: speeds(download), S.UP: speeds(upload)}, copy=False
        )
        if technology:
            out[S.TECHNOLOGY] = frame[technology].astype("category")
    else:
        parts = []
        any_offer = np.zeros(len(frame), dtype=bool)
        for name, (down_col, up_col) in pairs.items():
            down = speeds(down_col)
            offered = down.notna() & (down > 0)
            any_offer |= offered.to_numpy()
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
        # Addresses listed with nothing offered keep one row (no speed, no technology):
        # the file speaks about them, which the share of matched addresses must know.
        listed = ~any_offer
        parts.append(
            pd.DataFrame(
                {
                    S.ADDRESS_ID: ids[listed],
                    S.DOWN: np.nan,
                    S.UP: np.nan,
                    S.TECHNOLOGY: None,
                }
            )
        )
        out = pd.concat(parts, ignore_index=True)
        out[S.TECHNOLOGY] = out[S.TECHNOLOGY].astype(pd.CategoricalDtype(list(pairs)))
    out.attrs.update(source=source, id_column=id if isinstance(id, str) else "+".join(id))
    if pairs is None and p.suffix.lower() not in PARQUET_SUFFIXES + VECTOR_SUFFIXES:
        out.attrs["first_line"] = 2  # one offer per line of the text file
    return out


def _pairs(
    technologies: Mapping[str, str | Sequence[str | None]], *, source: str
) -> dict[str, tuple[str, str | None]]:
    """Technology → (download column, upload column or None), from TOML-style values."""
    out: dict[str, tuple[str, str | None]] = {}
    for name, columns in technologies.items():
        pair = [columns] if isinstance(columns, str) else list(columns)
        if not 1 <= len(pair) <= 2 or not isinstance(pair[0], str):
            raise InputError(
                Problem(
                    source,
                    f"technology {name!r}: give [download] or [download, upload] columns, "
                    f"got {columns!r}",
                    fix='e.g. fiber = ["download_fiber", "upload_fiber"]',
                )
            )
        out[name] = (pair[0], pair[1] if len(pair) == 2 else None)
    return out

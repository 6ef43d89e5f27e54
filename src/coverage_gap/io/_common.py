"""Shared helpers of the readers: paths, CRS, codes, dependency errors turned into ours."""

from __future__ import annotations

import contextlib
import hashlib
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from numpy.typing import NDArray
from pyproj import CRS, Transformer

from ..errors import CoverageGapError, CRSError, EmptyInputError, InputError, Problem
from ..layers import as_crs, crs_name
from ..validate import missing_columns

PathLike = str | Path

VECTOR_SUFFIXES = (".gpkg", ".geojson", ".json", ".shp", ".fgb", ".gml", ".kml", ".zip")
TABLE_SUFFIXES = (".csv", ".txt", ".tsv")
PARQUET_SUFFIXES = (".parquet", ".geoparquet", ".pq")


def sha256(path: Path) -> str:
    """SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def existing_file(path: PathLike, *, what: str = "input") -> Path:
    """Return ``path`` as a Path if it is a regular, non-empty file; else an error naming it.

    Folders, named pipes and devices are refused before anything opens them (a pipe
    would block the run forever).

    Examples
    --------
    >>> import tempfile
    >>> existing_file(tempfile.gettempdir())
    Traceback (most recent call last):
    ...
    coverage_gap.errors.InputError: 1 problem in the input:
      - /tmp: the input is a folder, not a file. Fix: ...
    """
    p = Path(path)
    try:
        info = p.stat()
    except FileNotFoundError:
        raise InputError(
            Problem(
                str(p),
                f"{what} file not found",
                fix="check the path (relative paths in a config file are relative to that file)",
            )
        ) from None
    except OSError as exc:
        raise InputError(
            Problem(
                str(p),
                f"cannot open the {what} file: {exc.strerror or exc}",
                fix="check the path and its permissions",
            )
        ) from None
    if stat.S_ISDIR(info.st_mode):
        raise InputError(
            Problem(
                str(p),
                f"the {what} is a folder, not a file",
                fix="give the path of the file itself",
            )
        )
    if not stat.S_ISREG(info.st_mode):
        raise InputError(
            Problem(
                str(p),
                f"the {what} is not a regular file (a pipe, socket or device)",
                fix="save the data to a regular file and give its path",
            )
        )
    if info.st_size == 0:
        raise EmptyInputError(Problem(str(p), "the file is empty", fix="re-export the file"))
    return p


def parse_crs(crs: object, *, source: str) -> CRS:
    """Parse a user-given CRS, with an error that names the source."""
    return as_crs(crs, source=source)


def resolve_crs(file_crs: object | None, given: object | None, *, source: str) -> CRS:
    """Return the layer's CRS: the file's, or the caller's when the file has none.

    A file CRS that contradicts the caller's is an error: never silently overridden.
    """
    if file_crs is None and given is None:
        raise CRSError(
            Problem(
                source,
                "the layer has no CRS and none was given",
                fix='pass crs="EPSG:25832" (or set crs in the config) '
                "for the CRS the coordinates are in",
            )
        )
    if file_crs is None:
        return parse_crs(given, source=source)
    parsed = parse_crs(file_crs, source=source)
    if given is not None and not parse_crs(given, source=source).equals(
        parsed, ignore_axis_order=True
    ):
        raise CRSError(
            Problem(
                source,
                f"the file says its CRS is {crs_name(parsed)} but {given!r} was given",
                fix="drop the crs option (the file's own CRS is used) or fix the file",
            )
        )
    return parsed


def transform_xy(
    x: NDArray[np.float64], y: NDArray[np.float64], src: CRS, dst: CRS
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Vectorised coordinate transformation (x = easting/longitude first)."""
    if src.equals(dst, ignore_axis_order=True):
        return x, y
    transformer = Transformer.from_crs(src, dst, always_xy=True)
    tx, ty = transformer.transform(x, y, errcheck=False)
    tx = np.asarray(tx, dtype=np.float64)
    ty = np.asarray(ty, dtype=np.float64)
    bad = ~(np.isfinite(tx) & np.isfinite(ty))
    tx[bad] = np.nan
    ty[bad] = np.nan
    return tx, ty


def normalize_codes(values: pd.Series) -> pd.Series:
    """Municipality codes as 4-character text: ``253`` and ``"253"`` become ``"0253"``.

    Examples
    --------
    >>> normalize_codes(pd.Series([253, "0265", None, " 360 "])).tolist()
    ['0253', '0265', nan, '0360']
    """

    def one(value: object) -> object:
        if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
            return np.nan
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = str(value).strip()
        return text.zfill(4) if text.isdigit() and len(text) < 4 else text

    unique = pd.unique(values.astype(object))
    mapping = {v: one(v) for v in unique if not _is_missing(v)}
    out = values.astype(object).map(mapping)
    return out.astype(object).where(out.notna(), np.nan)


def _is_missing(value: object) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def as_text(values: pd.Series) -> pd.Series:
    """Text column backed by Arrow (ids, codes); missing stays missing, no copy if already so.

    Examples
    --------
    >>> as_text(pd.Series([7, None])).tolist()  # whole floats (ints with gaps) stay whole
    ['7', <NA>]
    """
    if isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow":
        return values
    if pd.api.types.is_float_dtype(values):
        finite = values.dropna()
        if (finite == np.round(finite)).all():
            values = values.astype("Int64")
    return values.astype(pd.StringDtype("pyarrow"))


def address_key(frame: pd.DataFrame, id: str | Sequence[str]) -> pd.Series:
    """Return the address id column as text, or several columns joined into one key.

    Files without an address id can still be joined on what names an address: the
    columns' trimmed text joined by ``|`` (``"2690|Rørhaven|50"``). A row with a
    missing part has no key.

    Examples
    --------
    >>> f = pd.DataFrame({"postnr": [2690, 4130], "vejnavn": ["Rørhaven ", None],
    ...                   "husnr": ["50", "1"]})
    >>> address_key(f, ["postnr", "vejnavn", "husnr"]).tolist()
    ['2690|Rørhaven|50', <NA>]
    """
    if isinstance(id, str):
        return as_text(frame[id])
    parts = [as_text(frame[column]).str.strip() for column in id]
    key = parts[0]
    for part in parts[1:]:
        key = key + "|" + part
    return key


def arrow_to_pandas(table: pa.Table) -> pd.DataFrame:
    """Arrow table to pandas, keeping text columns Arrow-backed (zero-copy, fast joins)."""
    text = pd.StringDtype("pyarrow")
    return table.to_pandas(types_mapper={pa.string(): text, pa.large_string(): text}.get)


def pick_columns(
    columns: Sequence[str],
    candidates: Sequence[tuple[str, str]],
    *,
    source: str,
    what: str,
) -> tuple[str, str]:
    """Find exactly one pair of coordinate columns among well-known names."""
    lower = {c.lower(): c for c in columns}
    found = [(lower[a], lower[b]) for a, b in candidates if a in lower and b in lower]
    if len(found) == 1:
        return found[0]
    if not found:
        raise InputError(
            Problem(
                source,
                f"no {what} columns found among {list(columns)}",
                fix='name them with x = "..." and y = "..."',
            )
        )
    raise InputError(
        Problem(
            source,
            f"ambiguous {what} columns: {found}",
            fix='choose one pair with x = "..." and y = "..."',
        )
    )


def require_columns(
    columns: Sequence[str], required: Sequence[str], *, source: str, what: str
) -> None:
    """Raise one SchemaError listing every missing column."""
    from ..errors import SchemaError

    problems = missing_columns(columns, required, source=source, what=what)
    if problems:
        raise SchemaError(problems)


@contextlib.contextmanager
def reading(source: str, what: str) -> Iterator[None]:
    """Turn errors from GDAL, Arrow and friends into an InputError naming the file."""
    try:
        yield
    except CoverageGapError:
        raise
    except (OSError, ValueError, TypeError, KeyError, RuntimeError, UnicodeDecodeError) as exc:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        # GDAL often says "see previous exception"; the previous one names the cause.
        cause = exc.__cause__ or exc.__context__
        if cause is not None and "previous exception" in text:
            text = f"{text} ({str(cause).strip() or type(cause).__name__})"
        raise InputError(
            Problem(
                source,
                f"cannot read the {what}: {text}",
                fix=f"check that the file is a valid, complete {what} in a supported format",
            )
        ) from exc

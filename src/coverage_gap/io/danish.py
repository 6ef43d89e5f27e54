"""Readers for Danish open data as published: BBK, DAR/DAWA, BBR and DAGI.

- **BBK** (Bredbåndskortlægning, tjekditnet.dk): address-level offered speeds, ``;``
  separated, quoted, decimal comma, empty cell = not offered, optional BOM, UTF-8 or
  Latin-1, one row per access address with coordinates (ETRS89 / UTM 32N).
- **DAR/DAWA** access addresses (``adgangsadresser``) and unit addresses (``adresser``):
  dwellings per access address = number of unit addresses.
- **BBR** dwelling units: residential units per access address.
- **DAGI** municipality boundaries in their column variants.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyogrio

from .. import schema as S
from ..errors import EmptyInputError, InputError, Problem, SchemaError
from ._common import (
    PathLike,
    arrow_to_pandas,
    as_text,
    existing_file,
    normalize_codes,
    reading,
    require_columns,
)
from .tabular import header_names
from .vector import read_municipalities

#: The 17 municipalities of Region Sjælland (region code 1085).
REGION_SJAELLAND: tuple[str, ...] = (
    "0253",
    "0259",
    "0265",
    "0269",
    "0306",
    "0316",
    "0320",
    "0326",
    "0329",
    "0330",
    "0336",
    "0340",
    "0350",
    "0360",
    "0370",
    "0376",
    "0390",
)
REGIONS: dict[str, tuple[str, ...]] = {"sjaelland": REGION_SJAELLAND, "1085": REGION_SJAELLAND}

BBK_TECHNOLOGIES: dict[str, tuple[str, str]] = {
    "fiber": ("download_fiber", "upload_fiber"),
    "cable_tv": ("download_kabel_tv", "upload_kabel_tv"),
    "xdsl": ("download_xdsl", "upload_xdsl"),
    "fixed_wireless": ("download_fasttraadloest", "upload_fasttraadloest"),
    "mobile": ("download_mobil", "upload_mobil"),
}
"""Technology → (download, upload) columns of the official BBK files."""

BBK_ID = "adgadr_id"
BBK_X, BBK_Y = "etrs89koordinat_oest", "etrs89koordinat_nord"

#: BBR ``enh020EnhedensAnvendelse`` codes counted as (year-round) dwellings by default:
#: farmhouses, detached and semi-detached houses, terraced houses, flats, student
#: housing, institutions' housing, annexes and other year-round dwellings. Holiday homes
#: (5xx) are not in it; pass your own set to count them.
RESIDENTIAL_USE_CODES: frozenset[str] = frozenset(
    {"110", "120", "121", "122", "130", "131", "132", "140", "150", "160", "185", "190"}
)


def detect_encoding(path: Path, sample: int = 1 << 20) -> str:
    r"""Return ``"utf-8"`` (BOM or not) when the file's start decodes so, else ``"latin-1"``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "k.csv"
    >>> _ = p.write_bytes("kommunenavn\nKøge\n".encode("latin-1"))
    >>> detect_encoding(p)
    'latin-1'
    """
    truncated = path.stat().st_size > sample
    raw = _head(path, sample)
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the end of the sample is not evidence of Latin-1.
        if not (truncated and exc.reason == "unexpected end of data"):
            return "latin-1"
    return "utf-8"


def _head(path: Path, size: int) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(size)


class _CountingFile:
    """A binary file that reports how far it has been read (for the progress line)."""

    def __init__(self, path: Path, enabled: bool) -> None:
        self._handle = open(path, "rb")
        self._size = max(path.stat().st_size, 1)
        self._enabled = enabled
        self._shown = -1
        self.closed = False

    def read(self, size: int = -1) -> bytes:
        data = self._handle.read(size)
        if self._enabled:
            percent = int(100 * self._handle.tell() / self._size)
            if percent != self._shown:
                self._shown = percent
                print(f"\rreading {percent:3d} %", end="", file=sys.stderr, flush=True)
        return data

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        if self._enabled and self._shown >= 0:
            print(file=sys.stderr)
        self._handle.close()
        self.closed = True


def _read_text_table(path: Path, *, sep: str, encoding: str, progress: bool) -> pa.Table:
    """Every column as text, streamed in blocks (millions of rows in seconds)."""
    header = header_names(path, sep, encoding)
    source = _CountingFile(path, progress)
    try:
        reader = pacsv.open_csv(
            source,
            read_options=pacsv.ReadOptions(encoding=encoding, block_size=16 << 20),
            parse_options=pacsv.ParseOptions(delimiter=sep, quote_char='"'),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in header},
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
        table = reader.read_all()
    finally:
        source.close()
    return table


def parse_decimal(values: pa.ChunkedArray | pa.Array, *, source: str, column: str) -> np.ndarray:
    """Text with a decimal comma (``"50,000"``) to float64; empty → NaN.

    Raises an InputError naming the file, the column and the first lines (header = 1)
    where a cell is not a number.

    Examples
    --------
    >>> parse_decimal(pa.array(["50,5", None, "", "1.000,25"]), source="f", column="c").tolist()
    [50.5, nan, nan, 1000.25]
    """
    text = pc.utf8_trim_whitespace(values)
    text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
    has_comma = pc.match_substring(text, ",")
    # "1.000,25": dots are thousands separators only where a comma is the decimal mark.
    cleaned = pc.if_else(has_comma, pc.replace_substring(text, ".", ""), text)
    cleaned = pc.replace_substring(cleaned, ",", ".")
    try:
        return pc.cast(cleaned, pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        ok = pc.match_substring_regex(cleaned, r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
        bad = pc.and_(pc.is_valid(cleaned), pc.invert(pc.fill_null(ok, False)))
        rows = np.flatnonzero(bad.to_numpy(zero_copy_only=False))
        first = pc.take(values, pa.array(rows[:1])).to_pylist()[0]
        raise InputError(
            Problem(
                source,
                f"text in a speed column, e.g. {first!r}",
                column=column,
                rows=tuple(int(r) + 2 for r in rows[:5]),
                count=int(rows.size),
                fix="speeds must be numbers (decimal comma allowed); rows are file lines",
            )
        ) from None


@dataclass(frozen=True)
class BbkData:
    """One BBK file, read.

    Attributes
    ----------
    households
        Canonical household table: ``address_id`` (the DAWA access-address id),
        ``households`` (1 per address: BBK counts addresses), ``x``, ``y`` (EPSG:25832),
        ``postnr``, ``municipality_name`` and ``declared_municipality_code`` (the name
        mapped through the boundaries; missing where the name matched none).
    offers
        Long offers: ``address_id``, ``technology`` (fiber, cable_tv, xdsl,
        fixed_wireless, mobile), ``down_mbps``, ``up_mbps`` (NaN = not stated).
    problems
        Warnings, e.g. municipality names that matched no boundary.
    """

    households: pd.DataFrame
    offers: pd.DataFrame
    problems: tuple[Problem, ...] = ()

    @property
    def fixed_offers(self) -> pd.DataFrame:
        """Offers of every technology but mobile."""
        return self.offers[self.offers[S.TECHNOLOGY] != "mobile"].reset_index(drop=True)

    @property
    def mobile_offers(self) -> pd.DataFrame:
        """Offered mobile speeds per address."""
        return self.offers[self.offers[S.TECHNOLOGY] == "mobile"].reset_index(drop=True)


def read_bbk(
    path: PathLike,
    *,
    municipalities: gpd.GeoDataFrame | pd.DataFrame | None = None,
    encoding: str | None = None,
    dwellings: PathLike | None = None,
    progress: bool = False,
) -> BbkData:
    """Read an address-level BBK file (homes, businesses or "technically possible").

    Parameters
    ----------
    path
        The CSV as downloaded from tjekditnet.dk.
    municipalities
        Boundaries (``municipality_code``, ``municipality_name``) to map the file's
        municipality names to codes; names matching none are reported, not dropped.
    encoding
        ``"utf-8"`` or ``"latin-1"``; detected when ``None``.
    dwellings
        A DAWA unit-address CSV or a BBR unit extract: ``households`` becomes the
        dwellings per access address (0 where none are registered) instead of 1 per
        address (BBK itself counts addresses).
    progress
        Show a progress line on stderr while reading.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "bbk.csv"
    >>> cols = ["adgadr_id", "vejnavn", "husnr", "postnr", "kommunenavn",
    ...         "etrs89koordinat_oest", "etrs89koordinat_nord"]
    >>> cols += [f"{d}_{t}" for t in ("fasttraadloest", "fiber", "kabel_tv", "xdsl", "mobil")
    ...          for d in ("download", "upload")]
    >>> row = ['"a1"', '"Vej"', '"1"', "4000", '"Roskilde"', '"690000,5"', '"6170000,25"',
    ...        "", "", '"1000"', '"1000"', "", "", '"50,000"', "", '"600"', '"30"']
    >>> _ = p.write_text(";".join(cols) + "\\n" + ";".join(row) + "\\n", encoding="utf-8")
    >>> data = read_bbk(p)
    >>> data.offers[["technology", "down_mbps", "up_mbps"]].values.tolist()
    [['fiber', 1000.0, 1000.0], ['xdsl', 50.0, nan], ['mobile', 600.0, 30.0]]
    """
    p = existing_file(path)
    source = str(p)
    encoding = encoding or detect_encoding(p)
    header = header_names(p, ";", encoding)
    if len(header) == 1 and ("," in header[0] or "\t" in header[0]):
        raise InputError(
            Problem(
                source,
                "the file is not ';'-separated",
                fix="give the BBK file as published (fields separated by ;)",
            )
        )
    speed_columns = [c for pair in BBK_TECHNOLOGIES.values() for c in pair]
    required = [BBK_ID, "postnr", "kommunenavn", BBK_X, BBK_Y]
    missing_speeds = [c for c in speed_columns if c not in header]
    require_columns(header, required, source=source, what="BBK")
    if len(missing_speeds) == len(speed_columns):
        raise SchemaError(
            Problem(
                source,
                "no speed columns (download_fiber, ...) found",
                fix="give a BBK address-level file",
            )
        )
    with reading(source, "BBK file"):
        try:
            table = _read_text_table(p, sep=";", encoding=encoding, progress=progress)
        except UnicodeDecodeError:
            table = _read_text_table(p, sep=";", encoding="latin-1", progress=progress)
    if table.num_rows == 0:
        raise EmptyInputError(Problem(source, "the BBK file has no rows", fix="re-download it"))
    x = parse_decimal(table[BBK_X], source=source, column=BBK_X)
    y = parse_decimal(table[BBK_Y], source=source, column=BBK_Y)
    ids = as_text(arrow_to_pandas(table.select([BBK_ID]))[BBK_ID])
    households = pd.DataFrame(
        {
            S.ADDRESS_ID: ids,
            S.HOUSEHOLDS: np.ones(table.num_rows, dtype=np.int64),
            S.X: x,
            S.Y: y,
            "postnr": as_text(arrow_to_pandas(table.select(["postnr"]))["postnr"]),
            S.MUNICIPALITY_NAME: arrow_to_pandas(table.select(["kommunenavn"]))["kommunenavn"],
        }
    )
    if dwellings is not None:
        counts = _dwelling_counts(dwellings)
        households[S.HOUSEHOLDS] = (
            households[S.ADDRESS_ID]
            .astype(object)
            .map(counts)
            .fillna(0)
            .astype(np.int64)
            .to_numpy()
        )
    households.attrs.update(
        crs=S.WORKING_CRS,
        source=source,
        households_column="dwellings" if dwellings is not None else None,
    )
    problems: list[Problem] = []
    if missing_speeds:
        problems.append(
            Problem(
                source,
                f"speed columns absent: {missing_speeds}; those technologies count as not offered",
                severity="warning",
            )
        )
    if municipalities is not None:
        codes, unmatched = _codes_by_name(households[S.MUNICIPALITY_NAME], municipalities)
        households[S.DECLARED_MUNICIPALITY] = codes
        if unmatched:
            count = int(households[S.MUNICIPALITY_NAME].isin(unmatched).sum())
            problems.append(
                Problem(
                    source,
                    f"municipality names that match no boundary: {sorted(unmatched)[:5]}",
                    column="kommunenavn",
                    count=count,
                    severity="warning",
                    fix="check the boundary file (the rows are kept and assigned by location)",
                )
            )
    parts = []
    for technology, (down_col, up_col) in BBK_TECHNOLOGIES.items():
        if down_col not in table.column_names:
            continue
        down = parse_decimal(table[down_col], source=source, column=down_col)
        up = (
            parse_decimal(table[up_col], source=source, column=up_col)
            if up_col in table.column_names
            else np.full(table.num_rows, np.nan)
        )
        offered = np.flatnonzero(down > 0)  # empty or 0: not offered
        parts.append(
            pd.DataFrame(
                {
                    S.ADDRESS_ID: ids.iloc[offered].reset_index(drop=True),
                    S.TECHNOLOGY: technology,
                    S.DOWN: down[offered],
                    S.UP: np.where(up[offered] > 0, up[offered], np.nan),
                }
            )
        )
    offers = pd.concat(parts, ignore_index=True)
    offers[S.TECHNOLOGY] = offers[S.TECHNOLOGY].astype(pd.CategoricalDtype(list(BBK_TECHNOLOGIES)))
    offers.attrs["source"] = source
    return BbkData(households, offers, tuple(problems))


def _dwelling_counts(path: PathLike) -> pd.Series:
    p = existing_file(path)
    with open(p, encoding="utf-8", errors="replace") as handle:
        header = handle.readline()
    if "enh020EnhedensAnvendelse" in header:
        return count_bbr_dwellings(p)
    return count_unit_addresses(p)


def _name_key(names: pd.Series) -> pd.Series:
    return names.astype(str).str.strip().str.casefold().str.replace(" kommune", "", regex=False)


def _codes_by_name(names: pd.Series, municipalities: pd.DataFrame) -> tuple[pd.Series, set[str]]:
    lookup = dict(
        zip(
            _name_key(municipalities[S.MUNICIPALITY_NAME]),
            municipalities[S.MUNICIPALITY_CODE],
            strict=True,
        )
    )
    keys = _name_key(names)
    codes = keys.map(lookup)
    unmatched = set(names[codes.isna() & names.notna()].astype(str).unique())
    return codes.astype(object).where(codes.notna(), None), unmatched


def read_dawa_addresses(
    path: PathLike,
    *,
    units: PathLike | None = None,
    id: str = "id",
    unit_reference: str = "adgangsadresseid",
) -> pd.DataFrame:
    """Read a DAWA/DAR access-address CSV export, with dwellings from unit addresses.

    Accuracy (``nøjagtighed``) ``U`` means no usable point: such rows get NaN
    coordinates and are counted as invalid downstream (never dropped silently); ``B``
    (within 100 m) is kept and flagged in ``accuracy``.

    Parameters
    ----------
    path
        Access addresses (``adgangsadresser``) with ``etrs89koordinat_øst``/``_nord``.
    units
        Unit addresses (``adresser``); dwellings per access address = their number
        (an access address without any unit counts 0 dwellings). Without it,
        ``households`` is 1 per access address.
    id, unit_reference
        The access-address id column, and the column of the unit file that refers to it.

    Returns
    -------
    pandas.DataFrame
        Canonical household table plus ``accuracy``, ``zone``, ``postnr``,
        ``declared_municipality_code`` (from ``kommunekode``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "a.csv").write_text("id,kommunekode,etrs89koordinat_øst,etrs89koordinat_nord,"
    ...     "nøjagtighed,zone\\na,253,700000.5,6160000.5,A,Byzone\\nb,253,,,U,Landzone\\n")
    >>> _ = (d / "u.csv").write_text("id,adgangsadresseid\\nu1,a\\nu2,a\\n")
    >>> t = read_dawa_addresses(d / "a.csv", units=d / "u.csv")
    >>> t[["address_id", "households", "accuracy"]].values.tolist()
    [['a', 2, 'A'], ['b', 0, 'U']]
    """
    p = existing_file(path)
    source = str(p)
    from .tabular import read_csv

    frame = read_csv(p, text_columns=[id, "kommunekode", "postnr", "nøjagtighed"])
    x_col = next((c for c in ("etrs89koordinat_øst", "etrs89koordinat_oest") if c in frame), None)
    require_columns(
        list(frame.columns),
        [id, "kommunekode", x_col or "etrs89koordinat_øst", "etrs89koordinat_nord"],
        source=source,
        what="DAWA access-address",
    )
    accuracy = (
        frame["nøjagtighed"].astype(str).str.strip().str.upper()
        if "nøjagtighed" in frame
        else pd.Series("A", index=frame.index)
    )
    x = np.array(pd.to_numeric(frame[x_col], errors="coerce"), dtype=np.float64)
    y = np.array(pd.to_numeric(frame["etrs89koordinat_nord"], errors="coerce"), dtype=np.float64)
    no_point = (accuracy == "U").to_numpy()
    x[no_point] = np.nan
    y[no_point] = np.nan
    out = pd.DataFrame({S.ADDRESS_ID: as_text(frame[id])})
    if units is not None:
        counts = count_unit_addresses(units, reference=unit_reference)
        out[S.HOUSEHOLDS] = out[S.ADDRESS_ID].map(counts).fillna(0).astype(np.int64).to_numpy()
    else:
        out[S.HOUSEHOLDS] = np.ones(len(out), dtype=np.int64)
    out[S.X] = x
    out[S.Y] = y
    out[S.DECLARED_MUNICIPALITY] = normalize_codes(frame["kommunekode"])
    out["accuracy"] = accuracy.to_numpy()
    out["zone"] = frame["zone"].to_numpy() if "zone" in frame else None
    if "postnr" in frame:
        out["postnr"] = frame["postnr"].to_numpy()
    out.attrs.update(
        crs=S.WORKING_CRS,
        source=source,
        households_column="unit addresses" if units is not None else None,
    )
    return out


def count_unit_addresses(path: PathLike, *, reference: str = "adgangsadresseid") -> pd.Series:
    """Count unit addresses (dwellings) per access address in a DAWA ``adresser`` CSV.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "u.csv"
    >>> _ = p.write_text("id,adgangsadresseid\\n1,a\\n2,a\\n3,b\\n")
    >>> count_unit_addresses(p).to_dict()
    {'a': 2, 'b': 1}
    """
    from .tabular import read_csv

    p = existing_file(path)
    frame = read_csv(p, text_columns=[reference], columns=[reference])
    return frame[reference].astype(str).value_counts().sort_index().rename("dwellings")


def count_bbr_dwellings(
    path: PathLike,
    *,
    address: str = "adresseIdentificerer",
    use: str = "enh020EnhedensAnvendelse",
    residential_codes: Iterable[str] = RESIDENTIAL_USE_CODES,
) -> pd.Series:
    """Count residential BBR units per address in a BBR unit (enhed) extract.

    Units whose use code is in ``residential_codes`` are counted (see
    :data:`RESIDENTIAL_USE_CODES`; holiday homes are not in the default set).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "enh.csv"
    >>> _ = p.write_text("adresseIdentificerer,enh020EnhedensAnvendelse\\n"
    ...                  "a,140\\na,140\\na,321\\nb,510\\nc,120\\n")
    >>> count_bbr_dwellings(p).to_dict()
    {'a': 2, 'c': 1}
    """
    from .tabular import read_csv, read_parquet

    p = existing_file(path)
    if p.suffix.lower() in (".parquet", ".pq"):
        table, _ = read_parquet(p, columns=[address, use])
        frame = arrow_to_pandas(table)
    else:
        frame = read_csv(p, text_columns=[address, use], columns=[address, use])
    codes = {str(c) for c in residential_codes}
    residential = frame[use].astype(str).str.strip().isin(codes)
    return (
        frame.loc[residential, address].astype(str).value_counts().sort_index().rename("dwellings")
    )


DAGI_VARIANTS: tuple[tuple[str, str], ...] = (
    ("kommunekode", "kommunenavn"),
    ("kommunekode", "navn"),
    ("kode", "navn"),
    ("KOMKODE", "KOMNAVN"),
)
"""Code/name column pairs of DAGI municipality files from the different channels."""


def read_dagi(
    path: PathLike,
    *,
    region: str | None = None,
    codes: Sequence[str] | None = None,
    layer: str | int | None = None,
    crs: object | None = None,
) -> gpd.GeoDataFrame:
    """Read DAGI municipality boundaries, whatever the channel's column names.

    Parameters
    ----------
    path
        GeoJSON, GeoPackage, Shapefile, ... from Dataforsyningen/Datafordeler/DAWA.
    region
        ``"sjaelland"`` (or ``"1085"``) for Region Sjælland's 17 municipalities; other
        region codes select by the file's ``regionskode`` column.
    codes
        An explicit list of municipality codes (checked against the file).
    layer, crs
        As in :func:`coverage_gap.read_municipalities`.

    Examples
    --------
    >>> import tempfile, pathlib, shapely
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "k.geojson"
    >>> _ = gpd.GeoDataFrame({"kode": ["0253", "0101"], "navn": ["Greve", "København"]},
    ...     geometry=[shapely.box(7e5, 6.16e6, 7.1e5, 6.17e6), shapely.box(7.2e5, 6.17e6,
    ...     7.3e5, 6.18e6)], crs="EPSG:25832").to_file(p)
    >>> read_dagi(p, codes=["253"])["municipality_name"].tolist()
    ['Greve']
    """
    p = existing_file(path)
    source = str(p)
    with reading(source, "DAGI file"):
        fields = list(pyogrio.read_info(p, layer=layer)["fields"])
    pair = next(((c, n) for c, n in DAGI_VARIANTS if c in fields and n in fields), None)
    if pair is None:
        raise SchemaError(
            Problem(
                source,
                f"no DAGI code/name columns among {fields}",
                fix=f"expected one of {list(DAGI_VARIANTS)}",
            )
        )
    selection = list(codes) if codes is not None else None
    if region is not None:
        key = str(region).lower().replace("æ", "ae")
        if key in REGIONS:
            selection = list(REGIONS[key])
        elif "regionskode" in fields:
            table = pyogrio.read_dataframe(
                p, layer=layer, columns=[pair[0], "regionskode"], read_geometry=False
            )
            chosen = table[normalize_codes(table["regionskode"]) == str(region).zfill(4)]
            if chosen.empty:
                raise SchemaError(
                    Problem(
                        source,
                        f"no municipality has region code {region}",
                        column="regionskode",
                        fix="check the region code",
                    )
                )
            selection = normalize_codes(chosen[pair[0]]).tolist()
        else:
            raise SchemaError(
                Problem(
                    source,
                    f"unknown region {region!r} and no regionskode column",
                    fix="use region='sjaelland' or codes=[...]",
                )
            )
    return read_municipalities(p, code=pair[0], name=pair[1], codes=selection, layer=layer, crs=crs)

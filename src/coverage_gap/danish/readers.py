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

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyogrio

from .. import schema as S
from ..errors import EmptyInputError, InputError, Problem, SchemaError
from ..io._common import (
    PathLike,
    address_key,
    arrow_to_pandas,
    as_text,
    existing_file,
    normalize_codes,
    reading,
    require_columns,
)
from ..io.tabular import detect_encoding, header_names
from ..io.vector import choose_layer, read_municipalities
from ..progress import progress_bar
from .dwellings import (
    DEFAULT_MIN_DWELLING_MATCH_SHARE,
    bbr_unit_rows,
    count_rows,
    dwellings_per_address,
    unit_address_rows,
)
from .region import REGIONS

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


def _head(path: Path, size: int) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(size)


class _CountingFile:
    """A binary file that advances a progress bar as it is read."""

    def __init__(self, path: Path, enabled: bool) -> None:
        self._handle = open(path, "rb")
        self._bar = progress_bar(
            path.stat().st_size, desc=f"reading {path.name}", enabled=enabled, unit="B"
        )
        self.closed = False

    def read(self, size: int = -1) -> bytes:
        data = self._handle.read(size)
        self._bar.update(len(data))
        return data

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._bar.close()
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
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
        table = reader.read_all()
    finally:
        source.close()
    return table


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
    household_problems
        Warnings that matter only when the file gives the households (no coordinates).
    """

    households: pd.DataFrame
    offers: pd.DataFrame
    problems: tuple[Problem, ...] = ()
    household_problems: tuple[Problem, ...] = ()

    @property
    def fixed_offers(self) -> pd.DataFrame:
        """Offers of every technology but mobile.

        Every address of the file without a fixed offer keeps a row without speed: it
        is listed, and the share of addresses an offer table matches counts it.
        """
        return self._offers(self.offers[S.TECHNOLOGY] != "mobile")

    @property
    def mobile_offers(self) -> pd.DataFrame:
        """Offered mobile speeds per address, with a row without speed for the others."""
        return self._offers(self.offers[S.TECHNOLOGY] == "mobile")

    def _offers(self, keep: pd.Series) -> pd.DataFrame:
        chosen = self.offers[keep.to_numpy()]
        ids = self.households[S.ADDRESS_ID]
        without = ids[~ids.isin(chosen[S.ADDRESS_ID]).to_numpy()]
        empty = pd.DataFrame(
            {
                S.ADDRESS_ID: without.to_numpy(),
                S.TECHNOLOGY: pd.Categorical(
                    [None] * len(without), dtype=self.offers[S.TECHNOLOGY].dtype
                ),
                S.DOWN: np.nan,
                S.UP: np.nan,
            }
        )
        out = (
            pd.concat([chosen, empty], ignore_index=True)
            if len(empty)
            else chosen.reset_index(drop=True)
        )
        out.attrs = dict(self.offers.attrs)
        return out


#: The columns that name an address in BBK files without an address id (the compact
#: postal-code extracts): joined as "postnr|vejnavn|husnr".
BBK_ADDRESS_KEY = ("postnr", "vejnavn", "husnr")


def read_bbk(
    path: PathLike,
    *,
    municipalities: gpd.GeoDataFrame | pd.DataFrame | None = None,
    encoding: str | None = None,
    dwellings: PathLike | None = None,
    key: Sequence[str] | None = None,
    decimal: str | None = None,
    min_dwelling_match_share: float = DEFAULT_MIN_DWELLING_MATCH_SHARE,
    progress: bool = False,
) -> BbkData:
    """Read an address-level BBK file (homes, businesses or "technically possible").

    Reads the official layout (``;``, quoted, decimal comma, empty = not offered, a
    BOM or not, UTF-8 or Latin-1, columns in any order) and compact extracts of it:
    comma-separated, without the address id (addresses are then named by
    ``postnr|vejnavn|husnr``, see ``key``) or without coordinates (the households then
    have no point: use such a file as an offer layer, joined by key to address points).

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
        dwellings per access address instead of 1 per address (BBK itself counts
        addresses). Ids are compared as in the offer join (trimmed, NFC, UUIDs
        case-insensitive, leading zeros when both sides are digits; see
        :mod:`coverage_gap.danish.dwellings`); an address without any row counts 0
        dwellings. The share of addresses that found a row is reported
        (``households.attrs["dwelling_match"]`` and a warning when not all did).
    key
        Columns that together name an address, instead of ``adgadr_id`` (e.g.
        ``["postnr", "vejnavn", "husnr"]``, the default for files without the id).
    decimal
        Decimal mark; by default ``","`` for ``;``-separated files (the official layout
        writes ``50,5`` and may group thousands as ``2.500``), detected per column for
        other extracts.
    min_dwelling_match_share
        Fewer addresses than this share finding a row in ``dwellings`` is an error
        naming both files and id columns (default 0.5, the default of ``[checks]
        min_offer_match_share``): a file keyed on another id would give 0 dwellings.
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
    from ..io.numbers import parse_numbers
    from ..io.tabular import sniff_delimiter

    p = existing_file(path)
    source = str(p)
    encoding = encoding or detect_encoding(p)
    sep = sniff_delimiter(p, encoding)
    # The official layout (";") writes decimal commas and may group thousands ("2.500"):
    # detection could take "2.500" for 2.5, so the layout decides.
    decimal = decimal if decimal is not None else ("," if sep == ";" else None)
    header = header_names(p, sep, encoding)
    speed_columns = [c for pair in BBK_TECHNOLOGIES.values() for c in pair]
    if not any(c in header for c in speed_columns):
        raise SchemaError(
            Problem(
                source,
                f"no speed columns (download_fiber, ...) among {header}",
                fix="give a BBK address-level file (fields separated by ; or ,)",
            )
        )
    if key is None:
        key = [BBK_ID] if BBK_ID in header else list(BBK_ADDRESS_KEY)
    require_columns(header, list(key), source=source, what="BBK address")
    has_points = BBK_X in header and BBK_Y in header
    if not has_points and (BBK_X in header or BBK_Y in header):
        require_columns(header, [BBK_X, BBK_Y], source=source, what="BBK coordinate")
    table = _read_bbk_table(p, sep=sep, encoding=encoding, progress=progress)
    if table.num_rows == 0:
        raise EmptyInputError(Problem(source, "the BBK file has no rows", fix="re-download it"))
    frame = arrow_to_pandas(
        table.select([c for c in dict.fromkeys([*key, "postnr"]) if c in table.column_names])
    )
    ids = address_key(frame, key[0] if len(key) == 1 else key)
    n = table.num_rows
    problems: list[Problem] = []
    household_problems: list[Problem] = []
    if has_points:
        x = parse_numbers(
            table[BBK_X],
            decimal=decimal,
            source=source,
            column=BBK_X,
            what="coordinate",
            allow_infinite=True,
        )
        y = parse_numbers(
            table[BBK_Y],
            decimal=decimal,
            source=source,
            column=BBK_Y,
            what="coordinate",
            allow_infinite=True,
        )
    else:
        x = y = np.full(n, np.nan)
        household_problems.append(
            Problem(
                source,
                "the file has no coordinates: its addresses have no point",
                severity="warning",
                fix='use it as an offer layer ([fixed] kind = "bbk", key = [...]) joined to '
                "address points that carry the same key",
            )
        )
    households = pd.DataFrame(
        {
            S.ADDRESS_ID: ids,
            S.HOUSEHOLDS: np.ones(n, dtype=np.int64),
            S.X: x,
            S.Y: y,
        }
    )
    if "postnr" in frame:
        households["postnr"] = as_text(frame["postnr"]).to_numpy()
    if "kommunenavn" in table.column_names:
        households[S.MUNICIPALITY_NAME] = arrow_to_pandas(table.select(["kommunenavn"]))[
            "kommunenavn"
        ].to_numpy()
    id_column = key[0] if len(key) == 1 else "+".join(key)
    match_record = None
    if dwellings is not None:
        counts, match, warnings = dwellings_per_address(
            households[S.ADDRESS_ID],
            dwellings,
            address_source=source,
            address_id_column=id_column,
            min_match_share=min_dwelling_match_share,
        )
        households[S.HOUSEHOLDS] = counts
        household_problems.extend(warnings)
        match_record = match.to_dict()
    households.attrs.update(
        crs=S.WORKING_CRS,
        source=source,
        id_column=id_column,
        households_column="dwellings" if dwellings is not None else None,
    )
    if match_record is not None:
        households.attrs["dwelling_match"] = match_record
    absent_down = [d for d, _ in BBK_TECHNOLOGIES.values() if d not in header]
    absent_up = [u for d, u in BBK_TECHNOLOGIES.values() if d in header and u not in header]
    if absent_down:
        problems.append(
            Problem(
                source,
                f"download columns absent: {absent_down}; those technologies count as not offered",
                severity="warning",
            )
        )
    if absent_up:
        problems.append(
            Problem(
                source,
                f"upload columns absent: {absent_up}; those uploads count as not stated "
                "(see missing_upload in the standard)",
                severity="warning",
            )
        )
    if municipalities is not None and S.MUNICIPALITY_NAME in households:
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
        down = parse_numbers(
            table[down_col], decimal=decimal, source=source, column=down_col, what="speed"
        )
        up = (
            parse_numbers(
                table[up_col], decimal=decimal, source=source, column=up_col, what="speed"
            )
            if up_col in table.column_names
            else np.full(n, np.nan)
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
    offers.attrs.update(source=source, id_column=id_column)
    return BbkData(households, offers, tuple(problems), tuple(household_problems))


def _read_bbk_table(path: Path, *, sep: str, encoding: str, progress: bool) -> pa.Table:
    """Every column as text; a file that is not UTF-8 after its first MiB is read as Latin-1."""
    try:
        return _read_text_table(path, sep=sep, encoding=encoding, progress=progress)
    except (UnicodeDecodeError, pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        # Encoding detection looks at the first MiB; a Latin-1 file may start with plain
        # ASCII and only later say "Køge".
        not_utf8 = isinstance(exc, UnicodeDecodeError) or "utf8" in str(exc).lower()
        if encoding == "latin-1" or not not_utf8:
            raise _unreadable(path, exc) from None
    try:
        return _read_text_table(path, sep=sep, encoding="latin-1", progress=progress)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise _unreadable(path, exc) from None


def _unreadable(path: Path, exc: Exception) -> InputError:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return InputError(
        Problem(
            str(path),
            f"cannot read the BBK file: {text}",
            fix="give the file as published (a ; or , separated text file)",
        )
    )


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


#: Column names of the same field in DAWA, DAR and Datafordeler exports.
_DAWA_IDS = ("id", "adgangsadresse_id", "adgangsadresseid", "husnummer_id")
_DAWA_X = ("etrs89koordinat_øst", "etrs89koordinat_oest", "x")
_DAWA_Y = ("etrs89koordinat_nord", "y")
_DAWA_ACCURACY = ("nøjagtighed", "noejagtighed", "nøjagtighedsklasse")
#: Address statuses that are no longer in use: DAWA 2 (nedlagt) and 4 (henlagt).
RETIRED_STATUSES = frozenset({"2", "4", "nedlagt", "henlagt"})


def read_dawa_addresses(
    path: PathLike,
    *,
    units: PathLike | None = None,
    id: str | Sequence[str] | None = None,
    unit_reference: str = "adgangsadresseid",
    households: str | None = None,
    x: str | None = None,
    y: str | None = None,
    keep_retired: bool = False,
    keep: Sequence[str] = (),
    min_dwelling_match_share: float = DEFAULT_MIN_DWELLING_MATCH_SHARE,
) -> pd.DataFrame:
    """Read a DAWA/DAR access-address CSV export, with dwellings per address.

    Reads the exports as they come: DAWA's ``etrs89koordinat_øst``/``_nord`` or a
    DAR extract's ``x``/``y``, ``nøjagtighed`` or ``noejagtighed``, ``id`` or
    ``adgangsadresse_id``. Accuracy ``U`` means no usable point: such rows get NaN
    coordinates and are counted as invalid downstream (never dropped silently); ``B``
    (within 100 m) is kept and flagged in ``accuracy``. Retired addresses (``status``
    2 = nedlagt, 4 = henlagt) are left out and reported (``attrs["problems"]``), unless
    ``keep_retired``.

    Parameters
    ----------
    path
        Access addresses (``adgangsadresser``).
    units
        Unit addresses (``adresser``); dwellings per access address = their number
        (an access address without any unit counts 0 dwellings). Ids are compared as
        in the offer join (trimmed, NFC, UUIDs case-insensitive, leading zeros when
        both sides are digits); the share of addresses with at least one unit is
        reported (``attrs["dwelling_match"]``, a warning when not all have one) and
        checked (``min_dwelling_match_share``).
    id
        The access-address id column (or several columns that together name the
        address, e.g. ``["postnr", "vejnavn", "husnr"]`` to join a file without ids);
        found among the usual names when None.
    unit_reference
        The column of the unit file that refers to the access address.
    households
        A column that already counts dwellings per access address (e.g. DAR's
        ``n_enhedsadresser``), instead of ``units``.
    x, y
        Coordinate columns (ETRS89 / UTM 32N metres); found when None.
    keep_retired
        Keep retired addresses.
    keep
        Further columns carried into the table as they are, where the file has them
        (e.g. a town-population column for the broadband pool).
    min_dwelling_match_share
        Fewer addresses than this share with a unit in ``units`` is an error naming
        both files and id columns (default 0.5, the default of ``[checks]
        min_offer_match_share``).

    The file may be UTF-8 or Latin-1/cp1252 (detected, as Danish Excel saves it).

    Returns
    -------
    pandas.DataFrame
        Canonical household table plus ``accuracy``, ``zone``, ``postnr``,
        ``declared_municipality_code`` (from ``kommunekode``); ``households`` is 1 per
        access address without ``units`` or ``households``.

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
    from ..io.numbers import parse_numbers
    from ..io.tabular import header_names, read_csv, sniff_delimiter

    encoding = detect_encoding(p)
    header = header_names(p, sniff_delimiter(p, encoding), encoding)
    id = id if id is not None else _first_present(header, _DAWA_IDS, source, "id", "address id")
    x = x or _first_present(header, _DAWA_X, source, "x", "east coordinate")
    y = y or _first_present(header, _DAWA_Y, source, "y", "north coordinate")
    key = [id] if isinstance(id, str) else list(id)
    accuracy_col = next((c for c in _DAWA_ACCURACY if c in header), None)
    text = [*key, "kommunekode", "postnr", "status", *([accuracy_col] if accuracy_col else [])]
    frame = read_csv(p, text_columns=[c for c in text if c in header], encoding=None)
    require_columns(
        list(frame.columns),
        [*key, "kommunekode", x, y, *([households] if households else [])],
        source=source,
        what="DAWA access-address",
    )
    problems: list[Problem] = []
    if "status" in frame and not keep_retired:
        status = frame["status"].astype(str).str.strip().str.lower()
        retired = status.isin(RETIRED_STATUSES).to_numpy()
        if retired.any():
            problems.append(
                Problem(
                    source,
                    "retired addresses (status nedlagt/henlagt) are left out",
                    column="status",
                    rows=tuple(address_key(frame, id)[retired].astype(str).head(5)),
                    count=int(retired.sum()),
                    severity="warning",
                    fix="keep_retired = true counts them too",
                )
            )
            frame = frame[~retired].reset_index(drop=True)
    accuracy = (
        frame[accuracy_col].astype(str).str.strip().str.upper()
        if accuracy_col
        else pd.Series("A", index=frame.index)
    )
    xs = parse_numbers(frame[x], source=source, column=x, what="coordinate", allow_infinite=True)
    ys = parse_numbers(frame[y], source=source, column=y, what="coordinate", allow_infinite=True)
    no_point = (accuracy == "U").to_numpy()
    xs[no_point] = np.nan
    ys[no_point] = np.nan
    out = pd.DataFrame({S.ADDRESS_ID: address_key(frame, id)})
    id_column = id if isinstance(id, str) else "+".join(id)
    match_record = None
    if units is not None:
        counts, match, warnings = dwellings_per_address(
            out[S.ADDRESS_ID],
            units,
            address_source=source,
            address_id_column=id_column,
            reference=unit_reference,
            min_match_share=min_dwelling_match_share,
        )
        out[S.HOUSEHOLDS] = counts
        problems.extend(warnings)
        match_record = match.to_dict()
    elif households:
        out[S.HOUSEHOLDS] = frame[households].to_numpy()
    else:
        out[S.HOUSEHOLDS] = np.ones(len(out), dtype=np.int64)
    out[S.X] = xs
    out[S.Y] = ys
    out[S.DECLARED_MUNICIPALITY] = normalize_codes(frame["kommunekode"])
    out["accuracy"] = accuracy.to_numpy()
    out["zone"] = frame["zone"].to_numpy() if "zone" in frame else None
    if "postnr" in frame:
        out["postnr"] = frame["postnr"].to_numpy()
    for column in keep:
        if column in frame and column not in out:
            out[column] = frame[column].to_numpy()
    out.attrs.update(
        crs=S.WORKING_CRS,
        source=source,
        id_column=id_column,
        households_column="unit addresses" if units is not None else households,
        problems=tuple(problems),
    )
    if match_record is not None:
        out.attrs["dwelling_match"] = match_record
    return out


def _first_present(
    header: Sequence[str], names: Sequence[str], source: str, option: str, what: str
) -> str:
    found = next((n for n in names if n in header), None)
    if found is None:
        raise SchemaError(
            Problem(
                source,
                f"no {what} column among {list(header)} (looked for {list(names)})",
                fix=f'name it with {option} = "..."',
            )
        )
    return found


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
    return count_rows(unit_address_rows(path, reference=reference))


def count_bbr_dwellings(
    path: PathLike,
    *,
    address: str = "adresseIdentificerer",
    use: str = "enh020EnhedensAnvendelse",
    residential_codes: Iterable[str | int] = RESIDENTIAL_USE_CODES,
) -> pd.Series:
    """Count residential BBR units per address in a BBR unit (enhed) extract.

    Units whose use code is in ``residential_codes`` are counted (see
    :data:`RESIDENTIAL_USE_CODES`; holiday homes are not in the default set). Use codes
    are read as whole numbers: ``140.0`` (after an Excel round trip) is 140; a fraction
    or text in the column is an error naming the lines. Ids are counted as written;
    :func:`read_bbk` and :func:`read_dawa_addresses` join them to the addresses through
    the id normalisation.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "enh.csv"
    >>> _ = p.write_text("adresseIdentificerer,enh020EnhedensAnvendelse\\n"
    ...                  "a,140\\na,140\\na,321\\nb,510\\nc,120\\n")
    >>> count_bbr_dwellings(p).to_dict()
    {'a': 2, 'c': 1}
    """
    return count_rows(
        bbr_unit_rows(path, address=address, use=use, residential_codes=residential_codes)
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
        ``"sjaelland"`` (or ``"1085"``) for Region Sjælland's 17 municipalities
        (:data:`coverage_gap.danish.REGION_SJAELLAND`); other
        region codes select by the file's ``regionskode`` column.
    codes
        An explicit list of municipality codes (checked against the file).

    With ``region`` or ``codes`` every polygon is still returned, the chosen ones
    marked ``selected`` (see :func:`coverage_gap.read_municipalities`).
    layer, crs
        As in :func:`coverage_gap.read_municipalities`.

    Examples
    --------
    >>> import tempfile, pathlib, shapely
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "k.geojson"
    >>> _ = gpd.GeoDataFrame({"kode": ["0253", "0101"], "navn": ["Greve", "København"]},
    ...     geometry=[shapely.box(7e5, 6.16e6, 7.1e5, 6.17e6), shapely.box(7.2e5, 6.17e6,
    ...     7.3e5, 6.18e6)], crs="EPSG:25832").to_file(p)
    >>> m = read_dagi(p, codes=["253"])
    >>> m["municipality_name"].tolist(), m["selected"].tolist()
    (['Greve', 'København'], [True, False])
    """
    p = existing_file(path)
    source = str(p)
    layer = choose_layer(p, layer)
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
            selection = list(REGIONS[key].codes)
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

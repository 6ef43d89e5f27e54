"""Writers: tables, layers, workbooks, figures and manifests as deterministic bytes and files.

Every ``*_bytes`` function returns the bytes of one file, the same bytes for the same
input (fixed timestamps, fixed metadata, fixed zip entry times), so that a run's
outputs can be checksummed and compared; every ``write_*`` function writes such bytes
atomically (:func:`atomic_write`). Which files a run or a report writes, and in which
folder, is decided in :mod:`coverage_gap.report`; the words of the workbook's headers
are here beside the workbook.

Matplotlib is imported by the figure writers when they run, openpyxl by the workbook's,
so that ``coverage-gap run`` (which writes no figure) does not pay for either.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pyproj import CRS

from .. import schema as S

if TYPE_CHECKING:  # matplotlib is imported by the functions that draw: `run` needs none
    from matplotlib.figure import Figure

_FIXED_TIME = "2000-01-01T00:00:00Z"


# --- files ------------------------------------------------------------------------------


@contextlib.contextmanager
def atomic_write(path: Path, mode: str = "w", **kwargs: Any) -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; rename it onto ``path`` only on success.

    Examples
    --------
    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "a.txt"
    >>> with atomic_write(target) as handle:
    ...     _ = handle.write("done")
    >>> target.read_text()
    'done'
    """
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; give the usual file mode
    try:
        with os.fdopen(fd, mode, **kwargs) as handle:
            yield handle
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


# --- formats ----------------------------------------------------------------------------


def csv_bytes(table: pd.DataFrame, *, index: bool = True) -> bytes:
    r"""Return a table as UTF-8 CSV (``,`` and ``.``, ``\n`` line ends, full float precision).

    Examples
    --------
    >>> csv_bytes(pd.DataFrame({"a": [0.5]}), index=False)
    b'a\n0.5\n'
    """
    return table.to_csv(index=index, lineterminator="\n").encode("utf-8")


def danish_csv_bytes(table: pd.DataFrame, *, index: bool = True) -> bytes:
    r"""Return a table for Danish Excel: UTF-8 with BOM, ``;`` between fields, decimal comma.

    Examples
    --------
    >>> danish_csv_bytes(pd.DataFrame({"a": [0.5], "b": ["x"]}), index=False)
    b'\xef\xbb\xbfa;b\r\n0,5;x\r\n'
    """
    text = table.to_csv(index=index, sep=";", decimal=",", lineterminator="\r\n")
    return text.encode("utf-8-sig")


def write_csv(table: pd.DataFrame, path: Path, *, index: bool = True) -> Path:
    r"""Write a table as UTF-8 CSV with ``\n`` line ends and full float precision."""
    with atomic_write(path, "wb") as handle:
        handle.write(csv_bytes(table, index=index))
    return path


def households_parquet_bytes(classified: pd.DataFrame, *, encoding: str = "WKB") -> bytes:
    """Return the per-household result as GeoParquet bytes (point geometry; null where no point).

    ``encoding="WKB"`` (default; GeoParquet 1.0, read by every GDAL with the Parquet
    driver, QGIS included) or ``"point"`` (GeoParquet 1.1 native encoding, GDAL ≥ 3.9).
    The WKB is built from the ``x``/``y`` columns without creating shapely objects.
    """
    # Column by column, without copying the frame: numbers and Arrow-backed text convert
    # without a copy, categories are decoded to plain text in Arrow (readers without
    # dictionary support, older GDAL among them, see ordinary strings).
    arrays = {}
    for name, values in classified.items():
        array = pa.array(values.array if hasattr(values, "array") else values, from_pandas=True)
        if pa.types.is_dictionary(array.type):
            array = array.cast(array.type.value_type)
        arrays[str(name)] = array
    table = pa.table(arrays)
    x = classified[S.X].to_numpy(np.float64)
    y = classified[S.Y].to_numpy(np.float64)
    valid = np.isfinite(x) & np.isfinite(y)
    if encoding.upper() == "WKB":
        record = np.dtype([("order", "u1"), ("type", "<u4"), ("x", "<f8"), ("y", "<f8")])
        points = np.zeros(int(valid.sum()), dtype=record)
        points["order"], points["type"] = 1, 1  # little endian, Point
        points["x"], points["y"] = x[valid], y[valid]
        offsets = np.zeros(len(x) + 1, dtype=np.int32)
        offsets[1:] = np.cumsum(np.where(valid, record.itemsize, 0))
        geometry = pa.BinaryArray.from_buffers(
            pa.binary(),
            len(x),
            [
                pa.py_buffer(np.packbits(valid, bitorder="little").tobytes()),
                pa.py_buffer(offsets.tobytes()),
                pa.py_buffer(points.tobytes()),
            ],
            null_count=int((~valid).sum()),
        )
        column = {"encoding": "WKB", "geometry_types": ["Point"]}
        geo_version = "1.0.0"
    elif encoding == "point":
        geometry = pa.StructArray.from_arrays(
            [pa.array(np.where(valid, x, 0.0)), pa.array(np.where(valid, y, 0.0))],
            names=["x", "y"],
            mask=pa.array(~valid),
        )
        column = {"encoding": "point", "geometry_types": ["Point"]}
        geo_version = "1.1.0"
    else:
        raise ValueError(f"encoding must be 'WKB' or 'point', got {encoding!r}")
    table = table.append_column("geometry", geometry)
    crs = CRS.from_user_input(classified.attrs["crs"])
    bbox = (
        [float(x[valid].min()), float(y[valid].min()), float(x[valid].max()), float(y[valid].max())]
        if valid.any()
        else []
    )
    geo = {
        "version": geo_version,
        "primary_column": "geometry",
        "columns": {"geometry": {**column, "crs": crs.to_json_dict(), "bbox": bbox}},
    }
    table = table.replace_schema_metadata({b"geo": json.dumps(geo).encode()})
    buffer = io.BytesIO()
    # zstd at level 1: a third of the time of the default level, files a few % larger.
    pq.write_table(table, buffer, compression="zstd", compression_level=1)
    return buffer.getvalue()


def write_households_parquet(
    classified: pd.DataFrame, path: Path, *, encoding: str = "WKB"
) -> Path:
    """Write the per-household result as GeoParquet (WKB points by default).

    Rows without a usable point get a null geometry. ``geopandas.read_parquet``,
    GDAL/QGIS (any version with the Parquet driver) read the file.

    Examples
    --------
    >>> import tempfile, geopandas
    >>> t = pd.DataFrame({"address_id": ["a", "b"], "x": [700000.0, np.nan],
    ...                   "y": [6.1e6, np.nan]})
    >>> t.attrs["crs"] = "EPSG:25832"
    >>> path = write_households_parquet(t, Path(tempfile.mkdtemp()) / "h.parquet")
    >>> back = geopandas.read_parquet(path)
    >>> back.crs.to_epsg(), back.geometry.isna().tolist(), float(back.geometry.x.iloc[0])
    (25832, [False, True], 700000.0)
    """
    with atomic_write(path, "wb") as handle:
        handle.write(households_parquet_bytes(classified, encoding=encoding))
    return path


def geopackage_bytes(layer: gpd.GeoDataFrame, *, name: str) -> bytes:
    """Return a layer as GeoPackage bytes with a fixed timestamp (the same layer, the same bytes).

    Examples
    --------
    >>> import shapely
    >>> g = gpd.GeoDataFrame({"a": [1]}, geometry=[shapely.box(0, 0, 1, 1)], crs=25832)
    >>> geopackage_bytes(g, name="x") == geopackage_bytes(g, name="x")
    True
    """
    import pyogrio

    before = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": "2000-01-01T00:00:00.000Z"})
    try:
        buffer = io.BytesIO()
        pyogrio.write_dataframe(layer, buffer, driver="GPKG", layer=name)
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": before})
    return buffer.getvalue()


# --- the workbook -----------------------------------------------------------------------

HEADERS = {
    S.MUNICIPALITY_CODE: ("Municipality code", "Kommunekode"),
    S.MUNICIPALITY_NAME: ("Municipality", "Kommune"),
    "addresses": ("Addresses", "Adresser"),
    "households": ("{Unit}", "{Unit}"),
    "underserved_households": ("Under-served {unit}", "Underforsynede {unit}"),
    "underserved_share": ("Share under-served", "Andel underforsynede"),
    "share_ci_low": ("95 % interval, low", "95 %-interval, nedre"),
    "share_ci_high": ("95 % interval, high", "95 %-interval, øvre"),
    "fixed_unserved_households": ("Without fixed service", "Uden fast forbindelse"),
    "mobile_unserved_households": ("Without mobile service", "Uden mobilforbindelse"),
    "unserved_both_households": ("Without either", "Uden begge"),
    "missing_upload_households": ("Decided by missing upload", "Afgjort af manglende upload"),
    "municipalities": ("Municipalities", "Kommuner"),
    "municipalities_with_data": ("Municipalities with data", "Kommuner med data"),
    "service_standard": ("Service standard", "Niveau"),
    "denominator": ("Denominator", "Nævner"),
    "data_year": ("Data year", "Dataår"),
    "source": ("Source", "Kilde"),
    "status": ("Status", "Status"),
    "year": ("Year", "År"),
    "scenario": ("Scenario", "Scenarie"),
    "scenario_definition": ("Scenario definition", "Scenariets definition"),
    "demand_gb_month": ("Demand, GB per month", "Efterspørgsel, GB pr. måned"),
    "busy_hour_mbps": ("Busy hour, Mbit/s", "Travleste time, Mbit/s"),
    "demand_gb_month_per_km2": ("GB per month and km²", "GB pr. måned og km²"),
    "busy_hour_mbps_per_km2": ("Busy hour, Mbit/s per km²", "Travleste time, Mbit/s pr. km²"),
    "gb_per_unit_month_base": (
        "GB per unit and month, base year",
        "GB pr. enhed og måned, basisår",
    ),
    # where to act: cells and areas, the broadband pool, mast sites
    "cell": ("DDKN cell", "DDKN-celle"),
    "area_code": ("Area code", "Områdekode"),
    "area_name": ("Area", "Område"),
    "small_count": ("Small count (flagged)", "Lille antal (markeret)"),
    "area_set": ("Area set", "Områdeinddeling"),
    "rule_set": ("Rule set", "Regelsæt"),
    "eligible_addresses": ("Eligible addresses", "Støtteberettigede adresser"),
    "eligible_households": ("Eligible {unit}", "Støtteberettigede {unit}"),
    "undetermined_addresses": ("Undetermined addresses", "Uafklarede adresser"),
    "undetermined_households": ("Undetermined {unit}", "Uafklarede {unit}"),
    "clusters": ("Clusters (possible projects)", "Klynger (mulige projekter)"),
    "cluster": ("Cluster", "Klynge"),
    "address_id": ("Address id", "Adresse-id"),
    "change": ("Change", "Ændring"),
    "x": ("x (EPSG:25832, m)", "x (EPSG:25832, m)"),
    "y": ("y (EPSG:25832, m)", "y (EPSG:25832, m)"),
    "width_m": ("Width, m", "Bredde, m"),
    "height_m": ("Height, m", "Højde, m"),
    "rank": ("Rank", "Rang"),
    "site_id": ("Site", "Placering"),
    "existing": ("Existing site", "Eksisterende mast"),
    "newly_covered_households": ("Newly covered {unit}", "Nyt dækkede {unit}"),
    "cumulative_covered_households": ("Covered {unit}, cumulative", "Dækkede {unit} i alt"),
    "newly_covered_addresses": ("Newly covered addresses", "Nyt dækkede adresser"),
    "cumulative_covered_addresses": ("Covered addresses, cumulative", "Dækkede adresser i alt"),
    "cumulative_share": ("Share of the demand covered", "Andel af behovet dækket"),
}
SHEETS = {
    "municipalities": ("Municipalities", "Kommuner"),
    "reconciliation": ("Reconciliation", "Afstemning"),
    "demand": ("Demand", "Efterspørgsel"),
    "pool": ("Broadband pool", "Bredbåndspuljen"),
    "pool_changes": ("Pool, changes", "Puljen, ændringer"),
    "pool_clusters": ("Pool, clusters", "Puljen, klynger"),
    "sites": ("Mast sites", "Mastplaceringer"),
    "about": ("About", "Om tallene"),
}
#: Danish words for the broadband pool's statuses and changes (workbook and maps).
POOL_DA = {
    "eligible": "støtteberettiget",
    "undetermined (zone unknown)": "uafklaret (zone ukendt)",
    "undetermined (town size unknown)": "uafklaret (byens størrelse ukendt)",
    "not eligible (speed)": "ikke støtteberettiget (hastighed)",
    "not eligible (zone)": "ikke støtteberettiget (zone)",
    "enters": "kommer ind",
    "leaves": "falder ud",
    "may enter": "kan komme ind",
    "may leave": "kan falde ud",
}
#: Tables with more rows than this are left out of the workbook (they stay in the CSVs).
WORKBOOK_MAX_ROWS = 50_000
STATUS_DA = {
    "inside": "inden for en kommune",
    "nearest": "nærmeste kommune inden for tolerancen",
    "unassigned": "uden for alle kommuner",
    "invalid": "uden brugbare koordinater",
    "outside_selection": "i en kommune uden for udvalget",
    "total": "i alt",
}


def _number_format(column: str) -> str | None:
    if column in ("underserved_share", "share_ci_low", "share_ci_high") or column.endswith(
        "_share"
    ):
        return "0.0%"
    if column in ("data_year", "year"):
        return "0"
    if column in ("addresses", "households", "width_m", "height_m") or column.endswith(
        ("_households", "_addresses")
    ):
        return "#,##0"
    if column.startswith(("demand_", "busy_hour", "gb_per")):
        return "#,##0.0"
    return None


def _header(column: str, da: bool) -> str:
    if column in HEADERS:
        return HEADERS[column][da]
    if column.startswith(("status_", "cluster_")):
        kind, _, rule_set = column.partition("_")
        words = {"status": ("Status", "Status"), "cluster": ("Cluster", "Klynge")}[kind]
        return f"{words[da]} {rule_set}"
    return column


def _cell(value: Any) -> Any:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def _year(value: Any) -> Any:
    text = str(value).strip()
    return int(text) if re.fullmatch(r"\d{4}", text) else (text or None)


def workbook_bytes(
    tables: Mapping[str, pd.DataFrame],
    *,
    lang: str = "en",
    about: Sequence[tuple[str, str]] = (),
    denominator: str = "households",
) -> bytes:
    """Return an XLSX workbook for officials: a formatted sheet per table and an "about" sheet.

    Readable headers (Danish with ``lang="da"``), percent and thousands formats, a
    frozen header row, filters, column widths, the region row in bold, years as
    numbers in every sheet, no index column, and fixed timestamps (the same tables
    give the same bytes).

    Examples
    --------
    >>> data = workbook_bytes({"municipalities": pd.DataFrame({"underserved_share": [0.25]})},
    ...                       lang="da")
    >>> pd.read_excel(io.BytesIO(data), sheet_name="Kommuner").iloc[0, 0]
    np.float64(0.25)
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    from ..plot import UNITS

    da = lang == "da"
    unit = UNITS.get(denominator, UNITS["households"])[da][0]
    book = Workbook()
    book.remove(book.active)
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="E8EEF4")
    for key, table in tables.items():
        frame = table.copy()
        if frame.index.name is not None or not isinstance(frame.index, pd.RangeIndex):
            frame = frame.reset_index()
        if "data_year" in frame:
            frame["data_year"] = frame["data_year"].map(_year)
        if da and "status" in frame:
            frame["status"] = frame["status"].map(lambda s: STATUS_DA.get(str(s), s))
        for column in frame.columns:
            if da and (str(column).startswith("status_") or column == "change"):
                frame[column] = frame[column].astype(object).map(lambda s: POOL_DA.get(s, s))
        if da and "scenario" in frame:
            from ..plot import scenario_label

            frame["scenario"] = frame["scenario"].map(lambda s: scenario_label(str(s), "da"))
        title = re.sub(r"[\[\]:*?/\\]", "-", SHEETS.get(key, (key, key))[da])[:31]
        sheet = book.create_sheet(title)
        headers = [_header(str(c), da).format(unit=unit, Unit=unit.capitalize()) for c in frame]
        sheet.append(headers)
        region_rows = []
        code = next((c for c in (S.MUNICIPALITY_CODE, "cell", "area_code") if c in frame), None)
        at = frame.columns.get_loc(code) if code is not None else None
        for i, row in enumerate(frame.itertuples(index=False), start=2):
            sheet.append([_cell(v) for v in row])
            if at is not None and row[at] == S.REGION_CODE:
                region_rows.append(i)
        for j, column in enumerate(frame.columns, start=1):
            letter = get_column_letter(j)
            fmt = _number_format(str(column))
            if fmt:
                for cell in sheet[letter][1:]:
                    cell.number_format = fmt
            values = [
                headers[j - 1],
                *(str(v) for v in frame[column].head(500) if _cell(v) is not None),
            ]
            width = min(max(len(v) for v in values) + 2, 60)
            if fmt == "0.0%":
                width = max(len(headers[j - 1]) + 2, 10)
            sheet.column_dimensions[letter].width = width
        for cell in sheet[1]:
            cell.font = bold
            cell.fill = fill
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for r in region_rows:
            for cell in sheet[r]:
                cell.font = bold
        sheet.freeze_panes = "C2" if S.MUNICIPALITY_NAME in frame else "A2"
        sheet.auto_filter.ref = sheet.dimensions
    if about:
        sheet = book.create_sheet(SHEETS["about"][da])
        for key, value in about:
            sheet.append([key, value])
            sheet.cell(sheet.max_row, 1).font = bold
            sheet.cell(sheet.max_row, 2).alignment = Alignment(wrap_text=True, vertical="top")
        sheet.column_dimensions["A"].width = 28
        sheet.column_dimensions["B"].width = 110
    fixed = datetime(2000, 1, 1)
    book.properties.created = fixed
    book.properties.modified = fixed
    book.properties.creator = "coverage_gap"
    buffer = io.BytesIO()
    book.save(buffer)
    return fixed_zip(buffer.getvalue())


def fixed_zip(data: bytes) -> bytes:
    """Rewrite a zip (XLSX, PPTX) with fixed entry times and creation/modification times.

    The same document gives the same bytes whenever it is written.

    Examples
    --------
    >>> buffer = io.BytesIO()
    >>> with zipfile.ZipFile(buffer, "w") as z:
    ...     z.writestr("a.txt", "a")
    >>> zipfile.ZipFile(io.BytesIO(fixed_zip(buffer.getvalue()))).infolist()[0].date_time
    (1980, 1, 1, 0, 0, 0)
    """
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            info = zipfile.ZipInfo(item.filename, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            content = source.read(item.filename)
            if item.filename == "docProps/core.xml":
                content = re.sub(
                    rb"(<dcterms:(created|modified)[^>]*>)[^<]*",
                    rb"\g<1>" + _FIXED_TIME.encode(),
                    content,
                )
            target.writestr(info, content)
    return out.getvalue()


def write_workbook(tables: Mapping[str, pd.DataFrame], path: Path, *, lang: str = "en") -> Path:
    """Write tables as one formatted XLSX workbook (see :func:`workbook_bytes`).

    Examples
    --------
    >>> import tempfile
    >>> p = write_workbook({"t": pd.DataFrame({"a": [1]})}, Path(tempfile.mkdtemp()) / "x.xlsx")
    >>> pd.read_excel(p, sheet_name="t")["a"].tolist()
    [1]
    """
    with atomic_write(path, "wb") as handle:
        handle.write(workbook_bytes(tables, lang=lang))
    return path


# --- figures ----------------------------------------------------------------------------

_PNG_DPI = 200
# Fixed metadata: the same inputs give byte-identical figures.
_PNG_META = {"Software": "coverage_gap"}
_SVG_META = {"Date": None, "Creator": "coverage_gap"}
#: Fixed PDF metadata (no creation date), for ``savefig`` and ``PdfPages``.
PDF_METADATA = {"Creator": "coverage_gap", "Producer": "coverage_gap", "CreationDate": None}


@contextlib.contextmanager
def figure_save_settings() -> Iterator[None]:
    """Deterministic SVG ids and text as paths, for the saving only (restored after).

    Wrap any ``savefig`` (and a ``PdfPages``) whose bytes must not change between runs.
    """
    import matplotlib as mpl

    hashsalt, fonttype = mpl.rcParams["svg.hashsalt"], mpl.rcParams["svg.fonttype"]
    mpl.rcParams["svg.hashsalt"] = "coverage_gap"
    mpl.rcParams["svg.fonttype"] = "path"
    try:
        yield
    finally:
        mpl.rcParams["svg.hashsalt"] = hashsalt
        mpl.rcParams["svg.fonttype"] = fonttype


def figure_bytes(fig: Figure, fmt: str, *, dpi: int = _PNG_DPI) -> bytes:
    """Return a figure as PNG (200 dpi by default), SVG or PDF bytes, with fixed metadata."""
    meta = {"png": _PNG_META, "svg": _SVG_META, "pdf": PDF_METADATA}[fmt]
    buffer = io.BytesIO()
    with figure_save_settings():
        fig.savefig(buffer, format=fmt, dpi=dpi, metadata=meta)
    return buffer.getvalue()


def save_figure(
    fig: Figure, stem: Path, *, formats: tuple[str, ...] = ("png", "svg")
) -> list[Path]:
    """Save a figure as PNG (200 dpi) and SVG, atomically and reproducibly."""
    paths = []
    for fmt in formats:
        path = stem.with_suffix(f".{fmt}")
        with atomic_write(path, "wb") as handle:
            handle.write(figure_bytes(fig, fmt))
        paths.append(path)
    return paths


# --- manifests --------------------------------------------------------------------------


def manifest_json_bytes(manifest: Mapping[str, Any]) -> bytes:
    r"""Return a manifest as JSON bytes: indented, UTF-8, no NaN, a final newline.

    Values JSON does not know (paths, dates) are written as text.

    Examples
    --------
    >>> manifest_json_bytes({"library": "coverage_gap", "path": Path("a")})
    b'{\n  "library": "coverage_gap",\n  "path": "a"\n}\n'
    """
    text = json.dumps(manifest, indent=2, ensure_ascii=False, default=str, allow_nan=False)
    return (text + "\n").encode("utf-8")


__all__ = [
    "HEADERS",
    "PDF_METADATA",
    "POOL_DA",
    "SHEETS",
    "STATUS_DA",
    "WORKBOOK_MAX_ROWS",
    "atomic_write",
    "csv_bytes",
    "danish_csv_bytes",
    "figure_bytes",
    "figure_save_settings",
    "fixed_zip",
    "geopackage_bytes",
    "households_parquet_bytes",
    "manifest_json_bytes",
    "save_figure",
    "workbook_bytes",
    "write_csv",
    "write_households_parquet",
    "write_workbook",
]

"""Writing results: tables for machines and for officials, GIS layers, figures, manifest.

The outputs of a run are written as one set (:class:`OutputFolder`): into a temporary
folder beside the target, which is swapped in only when everything is written. A
killed or failed run leaves the previous outputs as they were (and at most a hidden
``.NAME.part-*`` folder, removed by the next run); a second run writing to the same
folder at the same time is refused (a lock beside the folder); the manifest's
checksums are those of the bytes this run wrote. The folder is checked before anything
is computed (:func:`check_output_dir`): not a file, creatable, not holding the run's own
inputs, not holding files another program put there.

Outputs are deterministic: the same inputs give byte-identical files.
"""

from __future__ import annotations

import contextlib
import errno as errno_codes
import hashlib
import io
import json
import logging
import os
import platform
import re
import shutil
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pyproj import CRS

from . import schema as S
from .errors import OutputError
from .io._common import sha256
from .pipeline import Results
from .progress import progress_bar
from .standards import Provenance

if TYPE_CHECKING:  # matplotlib is imported by the functions that draw: `run` needs none
    from matplotlib.figure import Figure

    from .changes import VintageChange
    from .claims import ClaimCheck

try:  # POSIX advisory locks; elsewhere an exclusive lock file
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

_DEPENDENCIES = (
    "numpy",
    "pandas",
    "geopandas",
    "shapely",
    "pyproj",
    "pyogrio",
    "pyarrow",
    "rasterio",
    "duckdb",
    "matplotlib",
    "openpyxl",
    "python-pptx",
)
_FIXED_TIME = "2000-01-01T00:00:00Z"


# --- the output folder as one unit ------------------------------------------------------


def _manifest_of(folder: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("library") == "coverage_gap" else None


def _foreign_files(folder: Path) -> list[str]:
    """Files in ``folder`` that the last coverage_gap run there did not write as they are.

    A file is the run's own when the manifest lists it among the outputs (by its path in
    the folder) with the checksum it still has; a listed file changed since, or any
    other file, belongs to someone else and must not be replaced without a word.
    """
    files = sorted(p for p in folder.rglob("*") if not p.is_dir())
    if not files:
        return []
    manifest = _manifest_of(folder)
    if manifest is None:
        return [p.relative_to(folder).as_posix() for p in files]
    outputs = {str(k): v for k, v in manifest.get("outputs", {}).items()}
    inputs = set()
    for item in manifest.get("inputs", []):
        path = str(item.get("path", ""))
        inputs.add(path)
        with contextlib.suppress(ValueError):
            inputs.add(Path(path).resolve().relative_to(folder.resolve()).as_posix())
    foreign = []
    for p in files:
        rel = p.relative_to(folder).as_posix()
        if rel == "manifest.json" or rel in inputs:
            continue
        recorded = outputs.get(rel)
        if isinstance(recorded, str) and len(recorded) == 64 and recorded == sha256(p):
            continue
        foreign.append(rel)
    return foreign


def check_output_dir(out: str | Path, *, inputs: Sequence[str | Path] = ()) -> Path:
    """Check, before anything is computed, that a run can write its outputs to ``out``.

    Raises
    ------
    OutputError
        ``out`` is a file; it cannot be created (a parent is a file, no permission);
        it holds a file the run reads (the outputs would replace it); it holds files
        that no coverage_gap run wrote (they would be lost); or another run is
        writing it.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> (folder / "a.csv").write_text("x")
    1
    >>> check_output_dir(folder / "out", inputs=[folder / "a.csv"]).name
    'out'
    >>> check_output_dir(folder, inputs=[folder / "a.csv"])
    Traceback (most recent call last):
    ...
    coverage_gap.errors.OutputError: the output folder ... holds a.csv, which this run reads: ...
    """
    path = Path(out).absolute()
    if path.exists() and not path.is_dir():
        raise OutputError(f"--out {path} is an existing file, not a folder; give a folder")
    existing = path if path.exists() else next(p for p in path.parents if p.exists())
    if not existing.is_dir():
        raise OutputError(f"cannot create {path}: {existing} is a file, not a folder")
    writable = path.parent if path.exists() else existing
    if not os.access(writable, os.W_OK | os.X_OK):
        raise OutputError(
            f"cannot write {path}: no permission to create files in {writable}; "
            "choose another --out"
        )
    resolved = path.resolve()
    for item in inputs:
        source = Path(item).resolve()
        if resolved == source or resolved in source.parents:
            raise OutputError(
                f"the output folder {path} holds {source.relative_to(resolved)}, which this "
                "run reads: the outputs replace the folder as a whole. Choose another --out "
                "(or move the inputs)"
            )
    if path.is_dir():
        foreign = _foreign_files(path)
        if foreign:
            listed = ", ".join(foreign[:5]) + (
                f" and {len(foreign) - 5} more" if len(foreign) > 5 else ""
            )
            raise OutputError(
                f"the output folder {path} holds files that no coverage_gap run wrote, or "
                f"that were changed since ({listed}); a run replaces the folder as a whole. "
                "Choose a new or empty folder, or move those files"
            )
    lock = _lock_path(path)
    if lock.exists() and _lock_held(lock):
        raise OutputError(_busy_message(path, lock))
    return path


def _lock_path(path: Path) -> Path:
    return path.parent / f".{path.name}.lock"


def _busy_message(path: Path, lock: Path) -> str:
    with contextlib.suppress(OSError):
        pid = lock.read_text(encoding="ascii").strip()
        return (
            f"another coverage-gap run (process {pid}) is writing {path}; wait for it to "
            "finish or choose another --out"
        )
    return f"another coverage-gap run is writing {path}; wait for it or choose another --out"


def _lock_held(lock: Path) -> bool:
    if fcntl is None:  # pragma: no cover
        return True
    try:
        fd = os.open(lock, os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)
    return False


def _os_error(exc: OSError, path: Path | str | None, out: Path, state: str) -> OutputError:
    name = os.strerror(exc.errno) if exc.errno else str(exc)
    code = errno_codes.errorcode.get(exc.errno or 0, "")
    where = path or exc.filename or out
    return OutputError(f"cannot write {where}: {name}{f' ({code})' if code else ''}; {state}")


class OutputFolder:
    """The output folder of one run, written as a whole.

    Files go into a hidden folder beside ``path`` (``.NAME.part-PID``); :meth:`commit`
    swaps it in. Until then ``path`` keeps what it had; on any error the partial folder
    is removed. A lock file beside ``path`` (``.NAME.lock``) refuses a second writer.
    Checksums of the inputs are taken on entry, before anything is written.

    Examples
    --------
    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "out"
    >>> with OutputFolder(target) as folder:
    ...     _ = folder.write_bytes("a.txt", b"done")
    ...     folder.commit()
    >>> (target / "a.txt").read_text(), folder.checksums["a.txt"][:12]
    ('done', 'a4c3ed04a95a')
    """

    def __init__(self, path: str | Path, *, inputs: Sequence[str | Path] = ()) -> None:
        self.path = Path(path).absolute()
        if self.path.is_symlink():
            # Swap the folder the link points to; the link keeps pointing there.
            self.path = self.path.resolve()
        self.inputs = [Path(p) for p in inputs]
        self.checksums: dict[str, str] = {}
        self.input_checksums: dict[str, tuple[str, int]] = {}
        self.staging = self.path.parent / f".{self.path.name}.part-{os.getpid()}"
        self._lock_fd: int | None = None
        self._committed = False

    # context manager ------------------------------------------------------------------
    def __enter__(self) -> OutputFolder:
        check_output_dir(self.path, inputs=self.inputs)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._lock()
            self._clean_stale()
            self.add_inputs(self.inputs)
            self.staging.mkdir()
        except OSError as exc:
            self._release()
            raise _os_error(exc, None, self.path, f"{self.path} was not changed") from exc
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: object
    ) -> None:
        if not self._committed:
            with contextlib.suppress(OSError):
                shutil.rmtree(self.staging)
        self._release()
        if isinstance(exc, OSError) and not isinstance(exc, OutputError):
            raise _os_error(
                exc,
                exc.filename,
                self.path,
                f"{self.path} was left as it was (the incomplete outputs were removed)",
            ) from exc

    # locking --------------------------------------------------------------------------
    def _lock(self) -> None:
        lock = _lock_path(self.path)
        if fcntl is None:  # pragma: no cover - Windows: an exclusive file
            try:
                self._lock_fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_RDWR)
            except FileExistsError:
                raise OutputError(_busy_message(self.path, lock)) from None
            os.write(self._lock_fd, str(os.getpid()).encode())
            return
        while True:
            fd = os.open(lock, os.O_CREAT | os.O_RDWR, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                raise OutputError(_busy_message(self.path, lock)) from None
            # another run may have removed the file between our open and flock
            if os.path.exists(lock) and os.stat(lock).st_ino == os.fstat(fd).st_ino:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._lock_fd = fd

    def _release(self) -> None:
        if self._lock_fd is None:
            return
        with contextlib.suppress(OSError):
            os.unlink(_lock_path(self.path))
        with contextlib.suppress(OSError):
            os.close(self._lock_fd)
        self._lock_fd = None

    def _clean_stale(self) -> None:
        """Remove what killed runs left (we hold the lock: no other writer is active)."""
        parent, name = self.path.parent, self.path.name
        olds = sorted(parent.glob(f".{name}.old-*"))
        if not self.path.exists() and olds:
            os.rename(olds[-1], self.path)  # killed between the two renames of a swap
            olds = olds[:-1]
        for stale in [*parent.glob(f".{name}.part-*"), *olds]:
            shutil.rmtree(stale, ignore_errors=True)

    # writing --------------------------------------------------------------------------
    def add_inputs(self, paths: Sequence[str | Path]) -> None:
        """Record the SHA-256 and size of input files (call before writing outputs)."""
        for p in paths:
            path = Path(p)
            key = str(path.resolve())
            if key not in self.input_checksums and path.is_file():
                self.input_checksums[key] = (sha256(path), path.stat().st_size)

    def target(self, relative: str) -> Path:
        """Where ``relative`` will be once the folder is committed."""
        return self.path / relative

    def write_bytes(self, relative: str, data: bytes) -> Path:
        """Write one output file from bytes in memory and record their checksum."""
        path = self.staging / relative
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            _write_file(path, data)
        except OSError as exc:
            raise _os_error(
                exc,
                self.target(relative),
                self.path,
                f"{self.path} was left as it was (the incomplete outputs were removed)",
            ) from exc
        self.checksums[relative] = hashlib.sha256(data).hexdigest()
        return self.target(relative)

    def adopt(self, relative: str) -> None:
        """List files written into the staging folder by other means among the outputs.

        For example the demo's generated inputs; their checksums are recorded.
        """
        root = self.staging / relative
        for path in sorted([root] if root.is_file() else root.rglob("*")):
            if path.is_file():
                self.checksums[path.relative_to(self.staging).as_posix()] = sha256(path)

    def relative(self, path: str | Path) -> str:
        """``path`` relative to the folder when it lies inside (staged or final), else as is."""
        p = Path(path).absolute()
        for root in (self.staging, self.path):
            with contextlib.suppress(ValueError):
                return p.relative_to(root).as_posix()
        return str(path)

    def _say_what_goes(self) -> None:
        """Warn about files of an earlier run in the folder that this set does not hold.

        Another command's outputs (``run``, then ``claim`` into the same folder) are
        replaced as a set; the analyst is told which results are gone.
        """
        gone = sorted(
            p.relative_to(self.path).as_posix()
            for p in self.path.rglob("*")
            if not p.is_dir() and not (self.staging / p.relative_to(self.path)).exists()
        )
        if gone:
            log.warning(
                "%s: %d file(s) of the earlier run there are not part of this output set and "
                "are removed: %s%s (write to another folder to keep both)",
                self.path,
                len(gone),
                ", ".join(gone[:6]),
                ", ..." if len(gone) > 6 else "",
            )

    def commit(self) -> None:
        """Swap the written set in place of the folder's old content."""
        old = self.path.parent / f".{self.path.name}.old-{os.getpid()}"
        try:
            if self.path.exists():
                self._say_what_goes()
                os.rename(self.path, old)
                try:
                    os.rename(self.staging, self.path)
                except OSError:
                    os.rename(old, self.path)
                    raise
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.rename(self.staging, self.path)
        except OSError as exc:
            raise _os_error(exc, self.path, self.path, f"{self.path} was left as it was") from exc
        self._committed = True


def _write_file(path: Path, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)


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


def municipality_layer(
    table: pd.DataFrame, boundaries: gpd.GeoDataFrame, *, min_households: int | None = None
) -> gpd.GeoDataFrame:
    """Put the municipality table on its polygons: a GeoDataFrame for QGIS or ``.explore()``.

    One row per municipality (no region row) with every column of ``table``, plus
    ``has_data`` (households in the data), ``few_households`` (fewer than
    ``min_households``, default :data:`coverage_gap.schema.SMALL_COUNT`) and
    ``underserved_pct`` (the share in percent, for tooltips); counts of a service that
    was not assessed are NaN. In the CRS of ``boundaries`` (EPSG:25832).

    Examples
    --------
    >>> from coverage_gap.datasets import make_demo_results
    >>> r = make_demo_results(scale=0.01)
    >>> layer = municipality_layer(r.municipalities, r.boundaries)
    >>> len(layer), layer.crs.to_epsg(), bool(layer["has_data"].all())
    (17, 25832, True)
    """
    threshold = S.SMALL_COUNT if min_households is None else min_households
    rows = table[table.index != S.REGION_CODE]
    base = boundaries[[S.MUNICIPALITY_CODE, "geometry"]].set_index(S.MUNICIPALITY_CODE)
    frame = rows.join(base, how="right")
    frame.index.name = S.MUNICIPALITY_CODE
    for column in frame.columns:
        if isinstance(frame[column].dtype, pd.Int64Dtype):
            frame[column] = frame[column].astype("float64")
    households = frame["households"].fillna(0).to_numpy(np.float64)
    frame["has_data"] = households > 0
    frame["few_households"] = (households > 0) & (households < threshold)
    frame["underserved_pct"] = frame["underserved_share"] * 100
    frame = frame.reset_index()
    layer = gpd.GeoDataFrame(frame, geometry="geometry", crs=boundaries.crs)
    return layer


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

    from .plot import UNITS

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
            from .plot import scenario_label

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
    return _fixed_zip(buffer.getvalue())


def _fixed_zip(data: bytes) -> bytes:
    """Rewrite a zip (XLSX) with fixed entry times and properties."""
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


# --- run outputs ------------------------------------------------------------------------


def library_versions() -> dict[str, str]:
    """Versions of coverage_gap, Python and the main dependencies."""
    out = {"python": platform.python_version()}
    for name in ("coverage_gap", *_DEPENDENCIES):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def _relativise(value: Any, folder: OutputFolder) -> Any:
    """Paths inside the output folder as relative paths (the same run, the same manifest)."""
    if isinstance(value, dict):
        return {k: _relativise(v, folder) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_relativise(v, folder) for v in value]
    if isinstance(value, str | Path) and os.path.isabs(str(value)):
        return folder.relative(value)
    return value


def _manifest_bytes(
    results: Results, folder: OutputFolder, extra: Mapping[str, Any] | None = None
) -> bytes:
    folder.add_inputs([spec.path for spec in results.config.inputs])
    inputs = []
    for spec in results.config.inputs:
        digest, size = folder.input_checksums.get(str(Path(spec.path).resolve()), ("", 0))
        inputs.append(
            {"path": folder.relative(spec.path), "kind": spec.kind, "sha256": digest, "bytes": size}
        )
    manifest = {
        "library": "coverage_gap",
        "versions": library_versions(),
        "inputs": inputs,
        "parameters": _relativise(results.config.to_dict(), folder),
        "standard": results.config.standard.describe(),
        "footer": results.provenance.footer(),
        "reconciliation": {
            status: {"addresses": int(row["addresses"]), "households": int(row["households"])}
            for status, row in results.reconciliation.iterrows()
        },
        "checks": _relativise(results.checks(), folder),
        **_siting_manifest(results),
        "warnings": [_relativise(p.to_dict(), folder) for p in results.problems],
        "outputs": dict(sorted(folder.checksums.items())),
        **(extra or {}),
    }
    text = json.dumps(manifest, indent=2, ensure_ascii=False, default=str, allow_nan=False)
    return (text + "\n").encode("utf-8")


def _siting_manifest(results: Results) -> dict[str, Any]:
    """How good the chosen sites are: demand, reach and the bounds on the optimum."""
    sites = results.sites
    if sites is None:
        return {}
    return {
        "siting": {
            "demand_households": sites.demand_households,
            "demand_addresses": sites.demand_addresses,
            "reachable_households": sites.reachable_households,
            "candidates": sites.candidates,
            "bounds": sites.bounds.to_dict(),
        }
    }


def write_manifest(
    results: Results, folder: OutputFolder, extra: Mapping[str, Any] | None = None
) -> Path:
    """Write ``manifest.json``: inputs, parameters, checks and output checksums.

    Input checksums are taken before any output is written; output checksums are those
    of the bytes this run wrote (never re-read from disk).
    """
    return folder.write_bytes("manifest.json", _manifest_bytes(results, folder, extra))


def _pool_frame(
    frame: pd.DataFrame, provenance: Provenance, rules: str | pd.Series
) -> pd.DataFrame:
    """Add the definition to a pool table: the rule (``service_standard``), provenance."""
    out = frame.copy()
    for column, value in provenance.columns().items():
        out[column] = rules if column == "service_standard" else value
    return out


def where_to_act_tables(results: Results) -> list[tuple[str, pd.DataFrame, bool]]:
    """Return the tables of the ``[[areas]]``, ``[pool]`` and ``[siting]`` sections of a run.

    ``(file stem, table, write the index)``: one table per area set (``ddkn_1km``, ...),
    ``pool`` (the summary per rule set and municipality, with a ``region`` row per rule
    set), ``pool_changes`` (addresses entering or leaving between the compared rule
    sets), ``pool_clusters`` (possible projects) and ``sites`` (existing sites, then the
    chosen ones by rank). Every table carries its definition, denominator, data year and
    source.

    Examples
    --------
    >>> from coverage_gap.datasets import make_demo_results
    >>> [name for name, _, _ in where_to_act_tables(make_demo_results(scale=0.01))]
    ['ddkn_1km', 'pool', 'pool_changes', 'pool_clusters', 'sites']
    """
    tables = [(stem, table, True) for stem, table in results.areas]
    pool = results.pool
    if pool is not None:
        described = {r.name: r.describe() for r in pool.rule_sets}
        first, second = (
            c.removeprefix("status_") for c in pool.changes.columns if c.startswith("status_")
        )
        tables += [
            ("pool", pool.summary, True),
            (
                "pool_changes",
                _pool_frame(
                    pool.changes, results.provenance, f"{described[first]} → {described[second]}"
                ),
                False,
            ),
            (
                "pool_clusters",
                _pool_frame(
                    pool.clusters, results.provenance, pool.clusters["rule_set"].map(described)
                ),
                False,
            ),
        ]
    if results.sites is not None:
        tables.append(("sites", results.sites.sites, False))
    return tables


def _write_run_files(results: Results, folder: OutputFolder) -> dict[str, Path]:
    folder.add_inputs(results.config.input_paths())
    paths = {}
    tables = [
        ("municipalities", results.municipalities, True),
        ("reconciliation", results.reconciliation, True),
    ]
    if results.demand is not None:
        tables.append(("demand", results.demand, False))
    tables += where_to_act_tables(results)
    for name, table, index in tables:
        paths[name] = folder.write_bytes(f"{name}.csv", csv_bytes(table, index=index))
        paths[f"{name}_da"] = folder.write_bytes(
            f"{name}_da.csv", danish_csv_bytes(table, index=index)
        )
    paths["households"] = folder.write_bytes(
        "households.parquet", households_parquet_bytes(results.households)
    )
    layer = municipality_layer(results.municipalities, results.boundaries)
    paths["municipalities_gpkg"] = folder.write_bytes(
        "municipalities.gpkg", geopackage_bytes(layer, name="municipalities")
    )
    return paths


def _open(out_dir: str | Path | OutputFolder, results: Results) -> tuple[OutputFolder, bool]:
    if isinstance(out_dir, OutputFolder):
        return out_dir, False
    return OutputFolder(out_dir, inputs=results.config.input_paths()), True


def write_run_outputs(results: Results, out_dir: str | Path | OutputFolder) -> dict[str, Path]:
    """Write the outputs of a run to ``out_dir`` as one set.

    Files: ``municipalities.csv``, ``reconciliation.csv`` (and ``demand.csv`` with a
    projection; with ``[[areas]]``, ``[pool]`` and ``[siting]`` sections the tables of
    :func:`where_to_act_tables`), each beside a ``*_da.csv`` for Danish Excel; the
    siting bounds go into the manifest; ``households.parquet``
    (GeoParquet, WKB points); ``municipalities.gpkg`` (polygons with the table's
    columns); ``manifest.json``. Given a path, the folder is checked, written and
    swapped in as a whole; given an open :class:`OutputFolder`, the files are added to
    it and the caller commits.

    Examples
    --------
    >>> import tempfile
    >>> from coverage_gap.datasets import write_demo_inputs
    >>> from coverage_gap.config import load_config
    >>> from coverage_gap.pipeline import run
    >>> out = Path(tempfile.mkdtemp())
    >>> results = run(load_config(write_demo_inputs(out / "inputs", scale=0.01)))
    >>> sorted(write_run_outputs(results, out / "run"))  # doctest: +NORMALIZE_WHITESPACE
    ['ddkn_1km', 'ddkn_1km_da', 'demand', 'demand_da', 'households', 'manifest',
     'municipalities', 'municipalities_da', 'municipalities_gpkg', 'pool', 'pool_changes',
     'pool_changes_da', 'pool_clusters', 'pool_clusters_da', 'pool_da', 'reconciliation',
     'reconciliation_da', 'sites', 'sites_da']
    """
    folder, own = _open(out_dir, results)
    if not own:
        paths = _write_run_files(results, folder)
        paths["manifest"] = write_manifest(results, folder)
        return paths
    with folder:
        paths = _write_run_files(results, folder)
        paths["manifest"] = write_manifest(results, folder)
        folder.commit()
    return paths


# --- the regional report: figures, workbook, fact sheets -------------------------------

_PNG_DPI = 200
# Fixed metadata: the same inputs give byte-identical figures.
_PNG_META = {"Software": "coverage_gap"}
_SVG_META = {"Date": None, "Creator": "coverage_gap"}
_PDF_META = {"Creator": "coverage_gap", "Producer": "coverage_gap", "CreationDate": None}


@contextlib.contextmanager
def _save_settings() -> Iterator[None]:
    """Deterministic SVG ids and text as paths, for the saving only (restored after)."""
    import matplotlib as mpl

    keys = {"svg.hashsalt": "coverage_gap", "svg.fonttype": "path"}
    before = {k: mpl.rcParams[k] for k in keys}
    mpl.rcParams.update(keys)
    try:
        yield
    finally:
        mpl.rcParams.update(before)


def figure_bytes(fig: Figure, fmt: str, *, dpi: int = _PNG_DPI) -> bytes:
    """Return a figure as PNG (200 dpi by default), SVG or PDF bytes, with fixed metadata."""
    meta = {"png": _PNG_META, "svg": _SVG_META, "pdf": _PDF_META}[fmt]
    buffer = io.BytesIO()
    with _save_settings():
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


def report_charts(
    results: Results,
    *,
    lang: str = "en",
    claim: float | None = None,
    size: tuple[float, float] | None = None,
    title: bool = True,
) -> dict[str, Callable[[], Figure]]:
    """Return the report's charts by name, each a function drawing it on a new slide.

    ``size`` (inches; the 16:9 slide by default) and ``title=False`` lay a chart out
    for the picture area of a presentation slide whose title placeholder holds the
    title (see :func:`coverage_gap.plot.new_axes`); the deck uses them.
    """
    from . import plot
    from .danish.growth import danish_mobile_growth, fit_danish_mobile_growth

    table, prov = results.municipalities, results.provenance

    def slide() -> Any:
        return plot.new_axes(pyplot=False, size=size or plot.SLIDE, title=title)

    charts: dict[str, Callable[[], Figure]] = {
        "map_share": lambda: (
            plot.plot_gap_map(
                table, results.boundaries, ax=slide(), lang=lang, provenance=prov
            ).figure
        ),
        "ranking": lambda: (
            plot.plot_gap_ranking(
                table, ax=slide(), lang=lang, provenance=prov, reference=claim
            ).figure
        ),
        "hotspots": lambda: (
            plot.plot_hotspots(
                results.households, results.boundaries, ax=slide(), lang=lang, provenance=prov
            ).figure
        ),
    }
    with contextlib.suppress(ValueError):
        plot._breakdown_parts(table, prov.standard, lang)
        charts["breakdown"] = lambda: (
            plot.plot_gap_breakdown(table, ax=slide(), lang=lang, provenance=prov).figure
        )
    charts.update(_where_to_act_charts(results, slide, lang))
    demand = results.config.demand
    if results.demand is not None and demand is not None:
        charts["demand_region"] = lambda: (
            plot.plot_demand(results.demand, ax=slide(), lang=lang, provenance=prov).figure
        )
        charts["growth_rates"] = lambda: (
            plot.plot_growth_rates(
                danish_mobile_growth(),
                demand.scenarios,
                start_year=demand.base_year,
                end_year=demand.horizon,
                ax=slide(),
                lang=lang,
                fitted=fit_danish_mobile_growth(),
            ).figure
        )
    return charts


def _root_figure(ax: Any) -> Figure:
    from matplotlib.figure import Figure

    fig = ax.figure
    assert isinstance(fig, Figure)  # a slide's Axes lie on a figure, never a subfigure
    return fig


def _where_to_act_charts(
    results: Results, slide: Callable[[], Any], lang: str
) -> dict[str, Callable[[], Figure]]:
    """Return the maps of the DDKN cell tables, the broadband pool and the chosen sites."""
    from . import plot

    prov, boundaries, config = results.provenance, results.boundaries, results.config
    rows = results.municipalities.drop(index=S.REGION_CODE)
    no_data = rows.index[~(rows["households"] > 0)].tolist()
    charts: dict[str, Callable[[], Figure]] = {}

    def cells(table: pd.DataFrame, min_households: int) -> Callable[[], Figure]:
        def draw() -> Figure:
            ax = plot.plot_area_cells(
                table,
                boundaries,
                ax=slide(),
                lang=lang,
                provenance=prov,
                no_data=no_data,
                min_households=min_households,
            )
            return _root_figure(ax)

        return draw

    for section, (stem, table) in zip(config.areas, results.areas, strict=True):
        if table.index.name == "cell":
            charts[f"map_{stem}"] = cells(table, section.spec.min_households)
    pool, pool_spec = results.pool, config.pool
    if pool is not None:

        def draw_pool() -> Figure:
            assert pool is not None
            ax = plot.plot_pool(
                pool,
                boundaries,
                ax=slide(),
                lang=lang,
                provenance=prov,
                cluster_distance_m=pool_spec.cluster_distance_m if pool_spec else None,
                no_data=no_data,
            )
            return _root_figure(ax)

        charts["map_pool"] = draw_pool
    sites, siting = results.sites, config.siting
    if sites is not None and siting is not None:

        def draw_sites() -> Figure:
            assert sites is not None and siting is not None
            ax = plot.plot_sites(
                sites,
                results.households,
                boundaries,
                radius_m=siting.spec.radius_m,
                demand=siting.spec.demand,
                ax=slide(),
                lang=lang,
                provenance=prov,
                no_data=no_data,
            )
            return _root_figure(ax)

        charts["map_sites"] = draw_sites
    return charts


def fact_sheet(
    results: Results,
    code: str,
    *,
    lang: str = "en",
    size: tuple[float, float] | None = None,
    title: bool = True,
    change: pd.DataFrame | None = None,
) -> Figure:
    """Draw the one-page fact sheet of a municipality (a figure pyplot does not know).

    Its share against the region with the interval, its fixed and mobile gaps beside
    the region's, its map of under-served households and its demand curve. A
    municipality without households in the data gets a page saying so (and where it
    lies) instead of empty charts. ``size`` and ``title`` as in :func:`report_charts`.
    ``change`` (the per-municipality table of
    :func:`coverage_gap.changes.compare_vintages`) adds the change since the older
    vintage.

    Examples
    --------
    >>> from coverage_gap.datasets import make_demo_results
    >>> fig = fact_sheet(make_demo_results(scale=0.01), "0360", lang="da")
    >>> fig.texts[0].get_text()
    'Lolland (0360)'
    """
    from . import plot

    ax = plot.new_axes(pyplot=False, size=size or plot.SLIDE, title=title)
    fig = ax.figure
    ax.remove()
    row = change.loc[code] if change is not None and code in change.index else None
    return plot.draw_fact_sheet(fig, results, code, lang=lang, change=row)


def report_figures(
    results: Results, *, lang: str = "en", claim: float | None = None
) -> Iterator[tuple[str, Figure]]:
    """Every figure of the report, drawn one at a time: ``(name, figure)``.

    Names are the charts' (``"map_share"``, ``"ranking"``, …) and
    ``"fact_sheets/<code>"``.
    """
    for name, draw in report_charts(results, lang=lang, claim=claim).items():
        yield name, draw()
    for code in results.municipalities.index:
        if code != S.REGION_CODE:
            yield f"fact_sheets/{code}", fact_sheet(results, code, lang=lang)


def _workbook_tables(results: Results) -> tuple[dict[str, pd.DataFrame], list[str]]:
    """Return the workbook's tables by sheet key, and the files too long for a sheet."""
    tables = {
        "municipalities": results.municipalities,
        "reconciliation": results.reconciliation,
    }
    if results.demand is not None:
        tables["demand"] = results.demand
    left_out = []
    areas = {stem for stem, _ in results.areas}
    for stem, table, _ in where_to_act_tables(results):
        if len(table) > WORKBOOK_MAX_ROWS:
            left_out.append(f"{stem}.csv")
            continue
        # An area table's sheet is named after its area set ("DDKN 1km").
        key = str(table["area_set"].iloc[0]) if stem in areas and len(table) else stem
        tables[key if key not in tables else stem] = table
    return tables, left_out


def _where_to_act_about(results: Results, da: bool) -> list[tuple[str, str]]:
    from . import plot

    rows = []
    if results.pool is not None:
        for rules in results.pool.rule_sets:
            rows.append(("Puljens regler" if da else "Pool rules", rules.describe()))
    sites = results.sites
    if sites is not None:
        bounds = sites.bounds
        lang = "da" if da else "en"
        share = plot.format_percent(bounds.greedy_share, lang)
        upper = plot.format_number(bounds.upper_bound, lang)
        rows.append(
            (
                "Mastplaceringer" if da else "Mast sites",
                (
                    f"grådigt valg; dækker mindst {share} af, hvad det bedste valg af lige så "
                    f"mange placeringer kunne dække (højst {upper})"
                    if da
                    else f"greedy choice; adds at least {share} of what the best choice of as "
                    f"many sites could add (at most {upper}); {bounds.lp_note}"
                ),
            )
        )
    return rows


def _about(
    results: Results, lang: str, folder: OutputFolder, *, left_out: Sequence[str] = ()
) -> list[tuple[str, str]]:
    from . import plot

    prov, table = results.provenance, results.municipalities
    rows = table[table.index != S.REGION_CODE]
    da = lang == "da"
    n = int((rows["households"] > 0).sum())
    unit = plot.UNITS[prov.denominator][da][0]
    about = [
        ("Niveau" if da else "Service standard", prov.standard.name),
        ("Definition", plot.definition_text(prov.standard, lang)),
        ("Fuld beskrivelse" if da else "Full description", prov.standard.describe(lang)),
        ("Nævner" if da else "Denominator", unit),
        ("Dataår" if da else "Data year", "" if prov.data_year is None else str(prov.data_year)),
        ("Kilde" if da else "Source", prov.source),
        ("Område" if da else "Area", prov.area_name),
        (
            "Kommuner med data" if da else "Municipalities with data",
            f"{n} af {len(rows)}" if da else f"{n} of {len(rows)}",
        ),
        (
            "Få " + unit if da else "Few " + unit,
            (
                f"Under {plot.SMALL_COUNT} {unit}: andelen er usikker og markeres i figurerne"
                if da
                else f"Below {plot.SMALL_COUNT} {unit}: the share is uncertain and marked in "
                "the figures"
            ),
        ),
        (
            "Interval",
            (
                "95 % Wilson-interval; viser hvor præcist antallet af husstande bestemmer "
                "andelen, ikke hvor forkerte operatørernes oplysninger kan være"
                if da
                else "95 % Wilson interval: how precisely the number of households pins the "
                "share down, not how wrong the operators' declarations may be"
            ),
        ),
        ("Lavet med" if da else "Made with", f"coverage_gap {library_versions()['coverage_gap']}"),
    ]
    about += _where_to_act_about(results, da)
    for name in left_out:
        about.append(
            (
                "Kun som CSV" if da else "Only as CSV",
                f"{name}: over {plot.format_number(WORKBOOK_MAX_ROWS, lang)} rækker"
                if da
                else f"{name}: more than {plot.format_number(WORKBOOK_MAX_ROWS, lang)} rows",
            )
        )
    for spec in results.config.inputs:
        about.append(("Inputfil" if da else "Input file", f"{spec.kind}: {Path(spec.path).name}"))
    for problem in results.problems:
        text = str(problem)
        for root in (folder.staging, folder.path):  # paths inside the set: relative
            text = text.replace(f"{root}{os.sep}", "")
        about.append(("Advarsel" if da else "Warning", text))
    return about


class _Steps:
    """Steps of the report on a progress bar, each named as it is done."""

    def __init__(self, bar: Any) -> None:
        self.bar = bar

    def step(self, label: str) -> None:
        self.bar.set_postfix_str(label, refresh=False)
        self.bar.update(1)


def write_report(
    results: Results,
    out_dir: str | Path | OutputFolder,
    *,
    lang: str | None = None,
    progress: bool = False,
    claim: float | None = None,
    deck: bool = False,
    deck_command: str | None = None,
    claim_check: ClaimCheck | None = None,
    change: VintageChange | None = None,
) -> dict[str, Path]:
    """Write the full regional report as one set: run outputs, figures, workbook, fact sheets.

    Files: everything of :func:`write_run_outputs`; ``figures/*.png`` (200 dpi) and
    ``*.svg`` (map, ranking, breakdown, hotspots, with a projection demand and growth,
    and the maps of where to act: ``map_ddkn_1km``, ``map_pool``, ``map_sites``);
    ``tables.xlsx`` (formatted for officials, with an about sheet and the tables of
    where to act); ``fact_sheets/<code>.png`` and all of them in ``fact_sheets.pdf`` (a page per
    municipality). ``claim`` draws a claimed share (0.2 = "1 in 5") on the ranking,
    labelled as the claim. ``lang`` and ``claim`` default to the configuration's
    ``[report]`` section (``lang``, ``claim_share``). Matplotlib's state is not touched
    (figures are made without pyplot). ``deck=True`` adds ``deck.pptx``, the
    presentation of :func:`coverage_gap.deck.write_deck` (``deck_command`` is how to
    regenerate it, for its notes), listed in the manifest like every other file.
    ``claim_check`` adds the claim check's files (:func:`write_claim_files`) and
    ``change`` the change since an older vintage (:func:`write_change_files`), which
    each fact sheet then states.

    Examples
    --------
    >>> import tempfile
    >>> from coverage_gap.datasets import make_demo_results
    >>> out = Path(tempfile.mkdtemp()) / "report"
    >>> paths = write_report(make_demo_results(scale=0.01), out, lang="da")
    >>> (out / "fact_sheets" / "0253.png").exists(), (out / "fact_sheets.pdf").exists()
    (True, True)
    """
    from matplotlib.backends.backend_pdf import PdfPages

    settings = getattr(results.config, "report", None)
    if lang is None:
        lang = getattr(settings, "lang", "en")
    if claim is None:
        claim = getattr(settings, "claim_share", None)
    folder, own = _open(out_dir, results)
    codes = [c for c in results.municipalities.index if c != S.REGION_CODE]
    charts = report_charts(results, lang=lang, claim=claim)
    extra_steps = (claim_check is not None) + (change is not None)
    steps = (len(charts) + len(codes)) * (1 + deck) + 3 + deck + extra_steps
    bar = _Steps(progress_bar(steps, desc="report", enabled=progress))
    changes = change.municipalities if change is not None else None

    def write() -> dict[str, Path]:
        paths = _write_run_files(results, folder)
        bar.step("tables")
        for name, draw in charts.items():
            fig = draw()
            for fmt in ("png", "svg"):
                paths[f"{name}.{fmt}"] = folder.write_bytes(
                    f"figures/{name}.{fmt}", figure_bytes(fig, fmt)
                )
            bar.step(name)
        history: dict[str, Any] = {}
        if claim_check is not None:
            paths.update(write_claim_files(claim_check, folder, lang=lang))
            history["claim"] = claim_check.to_dict()
            bar.step("claim check")
        if change is not None:
            paths.update(write_change_files(change, folder, lang=lang))
            history["change"] = change_manifest(change)
            bar.step("change")
        tables, left_out = _workbook_tables(results)
        paths["tables.xlsx"] = folder.write_bytes(
            "tables.xlsx",
            workbook_bytes(
                tables,
                lang=lang,
                about=_about(results, lang, folder, left_out=left_out),
                denominator=results.provenance.denominator,
            ),
        )
        bar.step("workbook")
        pdf = io.BytesIO()
        with _save_settings(), PdfPages(pdf, metadata=_PDF_META) as pages:
            for code in codes:
                fig = fact_sheet(results, code, lang=lang, change=changes)
                paths[f"fact_sheet_{code}"] = folder.write_bytes(
                    f"fact_sheets/{code}.png", figure_bytes(fig, "png")
                )
                pages.savefig(fig)
                bar.step(f"fact sheet {code}")
        paths["fact_sheets.pdf"] = folder.write_bytes("fact_sheets.pdf", pdf.getvalue())
        bar.step("fact sheets (PDF)")
        if deck:
            from .deck import deck_bytes

            data = deck_bytes(
                results,
                lang=lang,
                claim=claim,
                command=deck_command,
                in_output_set=True,
                progress=lambda label: bar.step(f"deck: {label}"),
            )
            paths["deck.pptx"] = folder.write_bytes("deck.pptx", data)
            bar.step("deck")
        extra = {"language": lang, **history, **vintage_inputs(results.config, folder)}
        paths["manifest"] = write_manifest(results, folder, extra=extra)
        return paths

    try:
        if not own:
            return write()
        with folder:
            paths = write()
            folder.commit()
        return paths
    finally:
        bar.bar.close()


# --- claims and the change between vintages ----------------------------------------------


def _both_csv(folder: OutputFolder, stem: str, table: pd.DataFrame, *, index: bool) -> dict:
    return {
        stem: folder.write_bytes(f"{stem}.csv", csv_bytes(table, index=index)),
        f"{stem}_da": folder.write_bytes(f"{stem}_da.csv", danish_csv_bytes(table, index=index)),
    }


def _figure_files(folder: OutputFolder, name: str, fig: Figure) -> dict[str, Path]:
    return {
        f"{name}.{fmt}": folder.write_bytes(f"figures/{name}.{fmt}", figure_bytes(fig, fmt))
        for fmt in ("png", "svg")
    }


def verdict_text(check: ClaimCheck) -> str:
    """Return the verdict in English and Danish, with the notes (``verdict.txt``)."""
    lines = [check.verdict("en"), "", check.verdict("da")]
    if check.notes:
        lines += ["", *check.notes]
    return "\n".join(lines) + "\n"


def write_claim_files(
    check: ClaimCheck, folder: OutputFolder, *, lang: str = "en"
) -> dict[str, Path]:
    """Add a claim check's files to an open output set.

    Files: ``claims.csv`` (one row per specification), ``claims_municipalities.csv``
    (per specification and municipality), each beside a ``*_da.csv``; ``verdict.txt``
    (English and Danish); ``figures/claim_curve.png`` and ``.svg``.
    """
    from . import plot

    paths = _both_csv(folder, "claims", check.specifications, index=True)
    paths.update(_both_csv(folder, "claims_municipalities", check.municipalities, index=False))
    paths["verdict"] = folder.write_bytes("verdict.txt", verdict_text(check).encode("utf-8"))
    ax = plot.plot_claim_curve(check, ax=plot.new_axes(pyplot=False), lang=lang)
    paths.update(_figure_files(folder, "claim_curve", cast("Figure", ax.figure)))
    return paths


def change_manifest(change: VintageChange) -> dict[str, Any]:
    """Return the change's region row and warnings, for the manifest."""
    region = change.municipalities.loc[S.REGION_CODE]
    keys = [
        "old_underserved_households",
        "became_served_households",
        "became_underserved_households",
        "added_underserved_households",
        "removed_underserved_households",
        "new_underserved_households",
    ]
    return {
        "old_data_year": str(region["old_data_year"]),
        "new_data_year": str(region["new_data_year"]),
        **{key: int(region[key]) for key in keys},
        "warnings": [p.to_dict() for p in change.problems],
    }


def write_change_files(
    change: VintageChange, folder: OutputFolder, *, lang: str = "en"
) -> dict[str, Path]:
    """Add the change between two vintages to an open output set.

    Files: ``changes.csv`` (per municipality and a ``region`` row) and
    ``change_reasons.csv`` (addresses and households per class and reason), each beside
    a ``*_da.csv``; ``changes_addresses.parquet`` (one row per address of either
    vintage, GeoParquet with WKB points); ``figures/change_waterfall`` (the region) and
    ``figures/change_by_municipality``, PNG and SVG.
    """
    from . import plot

    paths = _both_csv(folder, "changes", change.municipalities, index=True)
    paths.update(_both_csv(folder, "change_reasons", change.reasons, index=False))
    paths["changes_addresses"] = folder.write_bytes(
        "changes_addresses.parquet", households_parquet_bytes(change.addresses)
    )
    for name, draw in (
        ("change_waterfall", plot.plot_change_waterfall),
        ("change_by_municipality", plot.plot_change_by_municipality),
    ):
        ax = draw(change.municipalities, ax=plot.new_axes(pyplot=False), lang=lang)
        paths.update(_figure_files(folder, name, cast("Figure", ax.figure)))
    return paths


def vintage_inputs(config: Any, folder: OutputFolder) -> dict[str, Any]:
    """Return the ``[[vintage]]`` files with their checksums, for the manifest."""
    items = []
    for vintage in getattr(config, "vintages", ()):
        folder.add_inputs([spec.path for spec in vintage.inputs])
        for spec in vintage.inputs:
            digest, size = folder.input_checksums.get(str(Path(spec.path).resolve()), ("", 0))
            items.append(
                {
                    "data_year": str(vintage.data_year),
                    "path": folder.relative(spec.path),
                    "kind": spec.kind,
                    "sha256": digest,
                    "bytes": size,
                }
            )
    return {"vintage_inputs": items} if items else {}


def runs_manifest_bytes(
    runs: Sequence[Results], folder: OutputFolder, extra: Mapping[str, Any]
) -> bytes:
    """Return a manifest for outputs made from several runs (``claim``, ``diff``).

    Every run's inputs with checksums and its parameters, the library versions, what
    ``extra`` adds (the claim, the change) and the checksums of the files written.
    """
    entries = []
    for results in runs:
        config = results.config
        folder.add_inputs([spec.path for spec in config.inputs])
        inputs = []
        for spec in config.inputs:
            digest, size = folder.input_checksums.get(str(Path(spec.path).resolve()), ("", 0))
            inputs.append(
                {
                    "path": folder.relative(spec.path),
                    "kind": spec.kind,
                    "sha256": digest,
                    "bytes": size,
                }
            )
        entries.append(
            {
                "data_year": "" if config.data_year is None else str(config.data_year),
                "inputs": inputs,
                "parameters": _relativise(config.to_dict(), folder),
                "footer": results.provenance.footer(),
                "checks": _relativise(results.checks(), folder),
                "warnings": [_relativise(p.to_dict(), folder) for p in results.problems],
            }
        )
    manifest = {
        "library": "coverage_gap",
        "versions": library_versions(),
        "runs": entries,
        **extra,
        "outputs": dict(sorted(folder.checksums.items())),
    }
    text = json.dumps(manifest, indent=2, ensure_ascii=False, default=str, allow_nan=False)
    return (text + "\n").encode("utf-8")


__all__ = [
    "OutputError",
    "OutputFolder",
    "change_manifest",
    "check_output_dir",
    "csv_bytes",
    "danish_csv_bytes",
    "fact_sheet",
    "geopackage_bytes",
    "households_parquet_bytes",
    "municipality_layer",
    "report_charts",
    "report_figures",
    "runs_manifest_bytes",
    "verdict_text",
    "vintage_inputs",
    "where_to_act_tables",
    "workbook_bytes",
    "write_change_files",
    "write_claim_files",
    "write_csv",
    "write_households_parquet",
    "write_manifest",
    "write_report",
    "write_run_outputs",
    "write_workbook",
]

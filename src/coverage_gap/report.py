"""Writing results: tables, the per-household GeoParquet and the manifest.

Every file is written to a temporary name in the same directory and renamed into
place, so an interrupted run never leaves a half-written file that looks complete.
Outputs are deterministic: the same inputs give byte-identical files.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import tempfile
from collections.abc import Iterator
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pyproj import CRS

from . import schema as S
from .pipeline import Results

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
)


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
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, mode, **kwargs) as handle:
            yield handle
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def sha256(path: Path) -> str:
    """SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_csv(table: pd.DataFrame, path: Path, *, index: bool = True) -> Path:
    r"""Write a table as UTF-8 CSV with ``\n`` line ends and full float precision."""
    with atomic_write(path, "w", encoding="utf-8", newline="") as handle:
        table.to_csv(handle, index=index, lineterminator="\n")
    return path


def write_households_parquet(classified: pd.DataFrame, path: Path) -> Path:
    """Write the per-household result as GeoParquet 1.1 with native point geometry.

    Rows without a usable point get a null geometry. ``geopandas.read_parquet`` reads
    the file back as a GeoDataFrame.
    """
    frame = classified.copy()
    for column in frame.columns:
        if isinstance(frame[column].dtype, pd.CategoricalDtype):
            frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    x = classified[S.X].to_numpy(np.float64)
    y = classified[S.Y].to_numpy(np.float64)
    valid = np.isfinite(x) & np.isfinite(y)
    geometry = pa.StructArray.from_arrays(
        [pa.array(np.where(valid, x, 0.0)), pa.array(np.where(valid, y, 0.0))],
        names=["x", "y"],
        mask=pa.array(~valid),
    )
    table = table.append_column("geometry", geometry)
    crs = CRS.from_user_input(classified.attrs["crs"])
    bbox = (
        [float(x[valid].min()), float(y[valid].min()), float(x[valid].max()), float(y[valid].max())]
        if valid.any()
        else []
    )
    geo = {
        "version": "1.1.0",
        "primary_column": "geometry",
        "columns": {
            "geometry": {
                "encoding": "point",
                "geometry_types": ["Point"],
                "crs": crs.to_json_dict(),
                "bbox": bbox,
            }
        },
    }
    metadata = {b"geo": json.dumps(geo).encode()}
    table = table.replace_schema_metadata(metadata)
    with atomic_write(path, "wb") as handle:
        pq.write_table(table, handle, compression="zstd")
    return path


def library_versions() -> dict[str, str]:
    """Versions of coverage_gap, Python and the main dependencies."""
    out = {"python": platform.python_version()}
    for name in ("coverage_gap", *_DEPENDENCIES):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def write_manifest(
    results: Results, out_dir: Path, outputs: list[Path], extra: dict[str, Any] | None = None
) -> Path:
    """Write ``manifest.json``: inputs with SHA-256, parameters, versions, outputs, checks."""
    inputs = [
        {
            "path": str(spec.path),
            "kind": spec.kind,
            "sha256": sha256(spec.path),
            "bytes": spec.path.stat().st_size,
        }
        for spec in results.config.inputs
    ]
    manifest = {
        "library": "coverage_gap",
        "versions": library_versions(),
        "inputs": inputs,
        "parameters": results.config.to_dict(),
        "standard": results.config.standard.describe(),
        "footer": results.provenance.footer(),
        "reconciliation": {
            status: {"addresses": int(row["addresses"]), "households": int(row["households"])}
            for status, row in results.reconciliation.iterrows()
        },
        "warnings": [p.to_dict() for p in results.problems],
        "outputs": {p.name: sha256(p) for p in outputs},
        **(extra or {}),
    }
    path = out_dir / "manifest.json"
    with atomic_write(path, "w", encoding="utf-8") as handle:
        json.dump(manifest, handle, indent=2, ensure_ascii=False, default=str)
        handle.write("\n")
    return path


def write_run_outputs(results: Results, out_dir: str | Path) -> dict[str, Path]:
    """Write the outputs of a run to ``out_dir``.

    Files: ``municipalities.csv``, ``households.parquet``, ``reconciliation.csv`` and
    ``manifest.json``.

    Examples
    --------
    >>> import tempfile
    >>> from coverage_gap.datasets import write_demo_inputs
    >>> from coverage_gap.config import load_config
    >>> from coverage_gap.pipeline import run
    >>> out = Path(tempfile.mkdtemp())
    >>> results = run(load_config(write_demo_inputs(out / "inputs", scale=0.01)))
    >>> sorted(write_run_outputs(results, out))
    ['demand', 'households', 'manifest', 'municipalities', 'reconciliation']
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "municipalities": write_csv(results.municipalities, out / "municipalities.csv"),
        "reconciliation": write_csv(results.reconciliation, out / "reconciliation.csv"),
        "households": write_households_parquet(results.households, out / "households.parquet"),
    }
    if results.demand is not None:
        paths["demand"] = write_csv(results.demand, out / "demand.csv", index=False)
    paths["manifest"] = write_manifest(results, out, list(paths.values()))
    return paths

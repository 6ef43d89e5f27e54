"""Writing results: tables, the per-household GeoParquet and the manifest.

Every file is written to a temporary name in the same directory and renamed into
place, so an interrupted run never leaves a half-written file that looks complete.
Outputs are deterministic: the same inputs give byte-identical files.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import sys
import tempfile
from collections.abc import Callable, Iterator
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from pyproj import CRS

from . import schema as S
from .io._common import sha256
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


def write_csv(table: pd.DataFrame, path: Path, *, index: bool = True) -> Path:
    r"""Write a table as UTF-8 CSV with ``\n`` line ends and full float precision."""
    with atomic_write(path, "w", encoding="utf-8", newline="") as handle:
        table.to_csv(handle, index=index, lineterminator="\n")
    return path


def write_households_parquet(classified: pd.DataFrame, path: Path) -> Path:
    """Write the per-household result as GeoParquet 1.1 with native point geometry.

    Rows without a usable point get a null geometry. ``geopandas.read_parquet`` reads
    the file back as a GeoDataFrame.

    Examples
    --------
    >>> import tempfile, geopandas
    >>> t = pd.DataFrame({"address_id": ["a", "b"], "x": [700000.0, np.nan],
    ...                   "y": [6.1e6, np.nan]})
    >>> t.attrs["crs"] = "EPSG:25832"
    >>> path = write_households_parquet(t, Path(tempfile.mkdtemp()) / "h.parquet")
    >>> back = geopandas.read_parquet(path)
    >>> back.crs.to_epsg(), back.geometry.isna().tolist()
    (25832, [False, True])
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
        "checks": results.checks(),
        "warnings": [p.to_dict() for p in results.problems],
        "outputs": {p.name: sha256(p) for p in outputs},
        **(extra or {}),
    }
    path = out_dir / "manifest.json"
    with atomic_write(path, "w", encoding="utf-8") as handle:
        json.dump(manifest, handle, indent=2, ensure_ascii=False, default=str, allow_nan=False)
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


# --- the regional report: figures, workbook, fact sheets -------------------------------

_PNG_DPI = 200
# Fixed metadata: the same inputs give byte-identical figures.
_PNG_META = {"Software": "coverage_gap"}
_SVG_META = {"Date": None, "Creator": "coverage_gap"}


def save_figure(
    fig: Figure, stem: Path, *, formats: tuple[str, ...] = ("png", "svg")
) -> list[Path]:
    """Save a figure as PNG (200 dpi) and SVG, atomically and reproducibly."""
    paths = []
    for fmt in formats:
        path = stem.with_suffix(f".{fmt}")
        meta = _PNG_META if fmt == "png" else _SVG_META
        with atomic_write(path, "wb") as handle:
            fig.savefig(handle, format=fmt, dpi=_PNG_DPI, metadata=meta)
        paths.append(path)
    return paths


def write_workbook(tables: dict[str, pd.DataFrame], path: Path) -> Path:
    """Write tables as one XLSX workbook, a sheet per table, with fixed timestamps.

    Examples
    --------
    >>> import tempfile
    >>> p = write_workbook({"t": pd.DataFrame({"a": [1]})}, Path(tempfile.mkdtemp()) / "x.xlsx")
    >>> pd.read_excel(p, sheet_name="t")["a"].tolist()
    [1]
    """
    import io
    import re
    import zipfile

    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, table in tables.items():
            table.to_excel(writer, sheet_name=name[:31])
    # Zip entries carry the time of writing; rewrite them with a fixed one.
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    with atomic_write(path, "wb") as handle:
        with zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as target:
            for item in source.infolist():
                info = zipfile.ZipInfo(item.filename, date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                data = source.read(item.filename)
                if item.filename == "docProps/core.xml":
                    # openpyxl stamps the save time into the properties; fix it.
                    data = re.sub(
                        rb"(<dcterms:(created|modified)[^>]*>)[^<]*",
                        rb"\g<1>2000-01-01T00:00:00Z",
                        data,
                    )
                target.writestr(info, data)
    return path


class _Progress:
    """A minimal progress line on stderr; silent when disabled."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total, self.done, self.enabled = total, 0, enabled

    def step(self, label: str) -> None:
        self.done += 1
        if self.enabled:
            print(f"\r[{self.done}/{self.total}] {label:<50}", end="", file=sys.stderr, flush=True)
            if self.done == self.total:
                print(file=sys.stderr)


def write_report(
    results: Results, out_dir: str | Path, *, lang: str = "en", progress: bool = False
) -> dict[str, Path]:
    """Write the full regional report: run outputs, figures, workbook and fact sheets.

    Files: everything of :func:`write_run_outputs`; ``figures/*.png`` (200 dpi) and
    ``*.svg`` (map, ranking, breakdown, hotspots, and demand when projected);
    ``tables.xlsx`` with a sheet per table; ``fact_sheets/<code>.png``, one page per
    municipality. Every figure carries the definition in its footer.

    Examples
    --------
    >>> import tempfile
    >>> from coverage_gap.datasets import make_demo_results
    >>> out = Path(tempfile.mkdtemp())
    >>> paths = write_report(make_demo_results(scale=0.01), out, lang="da")
    >>> (out / "fact_sheets" / "0253.png").exists(), (out / "tables.xlsx").exists()
    (True, True)
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from . import plot

    out = Path(out_dir)
    figures = out / "figures"
    sheets = out / "fact_sheets"
    codes = [c for c in results.municipalities.index if c != S.REGION_CODE]
    charts = _report_charts(results, lang)
    bar = _Progress(len(charts) + len(codes) + 2, progress)
    paths = write_run_outputs(results, out)
    bar.step("tables")
    for name, draw in charts.items():
        with matplotlib.rc_context(plot.STYLE):
            ax = draw()
            for p in save_figure(ax.figure, figures / name):
                paths[f"{name}.{p.suffix[1:]}"] = p
            plt.close(ax.figure)
        bar.step(name)
    tables = {"municipalities": results.municipalities, "reconciliation": results.reconciliation}
    if results.demand is not None:
        tables["demand"] = results.demand
    paths["tables.xlsx"] = write_workbook(tables, out / "tables.xlsx")
    bar.step("workbook")
    for code in codes:
        with matplotlib.rc_context(plot.STYLE):
            fig = fact_sheet(results, code, lang=lang)
            paths[f"fact_sheet_{code}"] = save_figure(fig, sheets / code, formats=("png",))[0]
            plt.close(fig)
        bar.step(f"fact sheet {code}")
    paths["manifest"] = write_manifest(
        results, out, [p for k, p in paths.items() if k != "manifest"], extra={"language": lang}
    )
    return paths


def _report_charts(results: Results, lang: str) -> dict[str, Callable[[], Axes]]:
    from . import plot
    from .demand import danish_mobile_growth

    table, prov = results.municipalities, results.provenance
    charts: dict[str, Callable[[], Axes]] = {
        "map_share": lambda: plot.plot_gap_map(
            table, results.boundaries, lang=lang, provenance=prov
        ),
        "ranking": lambda: plot.plot_gap_ranking(table, lang=lang, provenance=prov),
        "hotspots": lambda: plot.plot_hotspots(
            results.households, results.boundaries, lang=lang, provenance=prov
        ),
    }
    if not table[["fixed_unserved_households", "mobile_unserved_households"]].isna().any(axis=None):
        charts["breakdown"] = lambda: plot.plot_gap_breakdown(table, lang=lang, provenance=prov)
    demand = results.config.demand
    if results.demand is not None and demand is not None:
        charts["demand_region"] = lambda: plot.plot_demand(
            results.demand, lang=lang, provenance=prov
        )
        charts["growth_rates"] = lambda: plot.plot_growth_rates(
            danish_mobile_growth(),
            demand.scenarios,
            start_year=demand.base_year,
            end_year=demand.horizon,
            lang=lang,
            provenance=prov,
        )
    return charts


def fact_sheet(results: Results, code: str, *, lang: str = "en") -> Figure:
    """Draw the one-page fact sheet of a municipality.

    Its share against the region, its counts, its map of under-served households and
    its demand curve, on one slide-sized page.

    Examples
    --------
    >>> from coverage_gap.datasets import make_demo_results
    >>> fig = fact_sheet(make_demo_results(scale=0.01), "0360", lang="da")
    >>> fig.axes[0].get_title().startswith("Lolland")
    True
    """
    import matplotlib.pyplot as plt

    from . import plot

    table, prov = results.municipalities, results.provenance
    row, region = table.loc[code], table.loc[S.REGION_CODE]
    fig = plt.figure(figsize=plot.SLIDE)
    grid = fig.add_gridspec(
        2,
        3,
        left=0.06,
        right=0.97,
        top=0.86,
        bottom=0.14,
        wspace=0.3,
        hspace=0.45,
        width_ratios=[1, 1.2, 1.2],
    )
    bars = fig.add_subplot(grid[0, 0])
    shares = [row["underserved_share"], region["underserved_share"]]
    names = [row[S.MUNICIPALITY_NAME], plot._text("region", lang)]
    bars.bar(names, shares, color=[plot.CATEGORICAL[0], plot.CATEGORICAL[1]])
    bars.errorbar(
        [0, 1],
        shares,
        yerr=[
            [
                s - lo
                for s, lo in zip(shares, [row["share_ci_low"], region["share_ci_low"]], strict=True)
            ],
            [
                hi - s
                for s, hi in zip(
                    shares, [row["share_ci_high"], region["share_ci_high"]], strict=True
                )
            ],
        ],
        fmt="none",
        ecolor="#333333",
        capsize=4,
    )
    for i, s in enumerate(shares):
        bars.text(i, s, plot.format_percent(s, lang), ha="center", va="bottom", fontsize=14)
    bars.yaxis.set_major_formatter(
        plot.ticker.FuncFormatter(lambda v, _: plot.format_percent(v, lang, 0))
    )
    bars.set_title(f"{row[S.MUNICIPALITY_NAME]} ({code})", fontsize=20)

    counts = fig.add_subplot(grid[1, 0])
    counts.set_axis_off()
    lines = [
        (plot._text("n_units", lang, prov), row["households"]),
        (plot._text("n_under", lang, prov), row["underserved_households"]),
        (plot._text("n_no_fixed", lang, prov), row["fixed_unserved_households"]),
        (plot._text("n_both", lang, prov), row["unserved_both_households"]),
    ]
    text = "\n".join(
        f"{label}: {'–' if pd.isna(v) else plot.format_number(float(v), lang)}"
        for label, v in lines
    )
    counts.text(0, 1, text, va="top", fontsize=15, linespacing=1.6)

    where = fig.add_subplot(grid[:, 1])
    own = results.boundaries[results.boundaries[S.MUNICIPALITY_CODE] == code]
    mine = results.households[results.households[S.MUNICIPALITY_CODE] == code]
    plot.plot_hotspots(mine, own, ax=where, lang=lang, provenance=None, colorbar="horizontal")
    where.set_title(plot._text("short_hotspots", lang, prov), fontsize=15)

    trend = fig.add_subplot(grid[:, 2])
    if results.demand is not None:
        plot.plot_demand(results.demand, municipality=code, ax=trend, lang=lang)
        trend.set_title(plot._text("short_demand", lang), fontsize=15)
        trend.set_ylabel("")
        trend.legend(fontsize=10, loc="upper left", frameon=False)
    else:
        trend.set_axis_off()
    plot.add_footer(bars, prov, lang)
    return fig

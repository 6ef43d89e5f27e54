"""Benchmark: the dask engine at 20 M+ addresses, against the in-memory run at 4 M.

    python benchmarks/dask_scale.py --n 20000000 [--small 4000000] [--partition-rows 1000000]

Generates (or reuses) Denmark-scale inputs in partitions with the machinery of
generate.py (the same ragged municipalities, towns, offers and four operator rasters),
never holding more than one chunk of 2 M addresses: households as spatially coherent
GeoParquet files of about ``--partition-rows`` rows (cells of equal counts, as address
registers are exported by area), offers as Parquet files in generation order (an
address's offers lie in any file). Then:

- the dask engine on a local cluster (2 workers of 1 thread) at ``--n`` and at
  ``--small``: wall time of ``run_dask`` (cluster start apart), peak memory of each
  worker (VmHWM, read in the worker at the end) and of the client process;
- ``coverage-gap run`` in memory on the ``--small`` input written as single files, as a
  whole process under ``/usr/bin/time`` (wall time, peak RSS), and whether its
  ``municipalities.csv`` and ``reconciliation.csv`` are byte-identical to the dask run's.

The last line is machine-readable. Inputs go to benchmarks/data (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import (  # noqa: E402
    CELL,
    CRS,
    DEFAULT_DIR,
    HEIGHT,
    LABEL_CELL,
    N_OPERATORS,
    WIDTH,
    X0,
    Y1,
    _land_and_labels,
    _municipalities,
    _offers,
    _ragged,
    _rasters,
    _uuids,
)
from run import CONFIG, DBM, DOWN, TOLERANCE, UP  # noqa: E402

CHUNK = 2_000_000


def _towns(rng: np.random.Generator, land: np.ndarray) -> tuple[np.ndarray, ...]:
    """Return the 400 towns of generate.py's model (centres, weights), fixed for all chunks."""
    w = land.shape[1]
    land_idx = np.flatnonzero(land)
    towns = land_idx[rng.choice(land_idx.size, 400, replace=False)]
    tx = X0 + (towns % w + 0.5) * LABEL_CELL
    ty = Y1 - (towns // w + 0.5) * LABEL_CELL
    weight = rng.pareto(1.2, 400) + 0.2
    return tx, ty, weight / weight.sum()


def _place(rng: np.random.Generator, towns: tuple[np.ndarray, ...], n: int, land: np.ndarray):
    """N addresses as generate.py places them: around towns, a quarter rural, some off the coast."""
    tx, ty, weight = towns
    h, w = land.shape
    x, y = np.empty(n), np.empty(n)
    todo = np.arange(n)
    rural = rng.random(n) < 0.25
    while todo.size:
        k = todo.size
        town = rng.choice(tx.size, k, p=weight)
        sigma = rng.uniform(800, 4000, k)
        cx = tx[town] + rng.normal(0, 1, k) * sigma
        cy = ty[town] + rng.normal(0, 1, k) * sigma
        r = rural[todo]
        cx[r] = rng.uniform(X0, X0 + WIDTH * CELL, r.sum())
        cy[r] = rng.uniform(Y1 - HEIGHT * CELL, Y1, r.sum())
        col = ((cx - X0) / LABEL_CELL).astype(np.int64)
        row = ((Y1 - cy) / LABEL_CELL).astype(np.int64)
        inside = (col >= 0) & (col < w) & (row >= 0) & (row < h)
        ok = np.zeros(k, dtype=bool)
        ok[inside] = land[row[inside], col[inside]]
        x[todo[ok]], y[todo[ok]] = cx[ok], cy[ok]
        todo = todo[~ok]
    off = rng.choice(n, n // 200, replace=False)
    x[off] += rng.normal(0, 200, off.size)
    y[off] += rng.normal(0, 200, off.size)
    households = np.where(rng.random(n) < 0.1, rng.integers(2, 40, n), 1)
    return x, y, households


def _cells(x: np.ndarray, y: np.ndarray, parts: int):
    """Cells of about equal counts: bands of x, each cut into bands of y (from a sample)."""
    nx = max(round(math.sqrt(parts)), 1)
    ny = max(math.ceil(parts / nx), 1)
    xe = np.quantile(x, np.linspace(0, 1, nx + 1)[1:-1])
    band = np.searchsorted(xe, x)
    ye = [np.quantile(y[band == b], np.linspace(0, 1, ny + 1)[1:-1]) for b in range(nx)]
    return xe, ye, ny


def _cell_of(x: np.ndarray, y: np.ndarray, cells) -> np.ndarray:
    xe, ye, ny = cells
    band = np.searchsorted(xe, x)
    cell = np.empty(x.size, dtype=np.int64)
    for b, edges in enumerate(ye):
        mask = band == b
        cell[mask] = b * ny + np.searchsorted(edges, y[mask])
    return cell


def generate_partitioned(
    n: int, *, rows: int, seed: int = 42, directory: Path = DEFAULT_DIR
) -> Path:
    """Write ``n`` addresses in partitions (cached by n, partition rows and seed)."""
    out = directory / f"dask_n{n}_p{rows}_seed{seed}"
    done = out / "done.json"
    if done.exists():
        return out
    if out.exists():
        shutil.rmtree(out)
    (out / "households").mkdir(parents=True)
    (out / "offers").mkdir()
    staging = out / "staging"
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    land, labels, _ = _land_and_labels(rng)
    _municipalities(_ragged(labels, rng)).to_parquet(out / "municipalities.parquet")
    _rasters(rng, land, out)
    towns = _towns(np.random.default_rng([seed, 1]), land)
    parts = max(round(n / rows), 1)
    cells = None
    offer_files = 0
    for c, start in enumerate(range(0, n, CHUNK)):
        k = min(CHUNK, n - start)
        chunk_rng = np.random.default_rng([seed, 2, c])
        x, y, households = _place(chunk_rng, towns, k, land)
        ids = _uuids(chunk_rng, k)
        if cells is None:
            cells = _cells(x, y, parts)
        cell = _cell_of(x, y, cells)
        for p in np.unique(cell):
            mask = cell == p
            piece = pa.table(
                {
                    "address_id": ids.filter(pa.array(mask)),
                    "households": households[mask],
                    "x": x[mask],
                    "y": y[mask],
                }
            )
            (staging / f"p{p:05d}").mkdir(parents=True, exist_ok=True)
            pq.write_table(piece, staging / f"p{p:05d}" / f"c{c:05d}.parquet")
        offers = _offers(chunk_rng, ids, k)
        per_file = max(int(rows * 1.8), 1)
        for first in range(0, offers.num_rows, per_file):
            pq.write_table(
                offers.slice(first, per_file), out / "offers" / f"part-{offer_files:05d}.parquet"
            )
            offer_files += 1
        print(
            f"  chunk {c}: {start + k:,} addresses ({time.perf_counter() - t0:.0f} s)", flush=True
        )
    # One GeoParquet file per cell, as the readers take it (WKB points, CRS).
    for p, folder in enumerate(sorted(staging.iterdir())):
        table = pa.concat_tables([pq.read_table(f) for f in sorted(folder.iterdir())])
        frame = gpd.GeoDataFrame(
            {
                "address_id": table.column("address_id").to_numpy(zero_copy_only=False),
                "households": table.column("households").to_numpy(),
            },
            geometry=gpd.points_from_xy(table.column("x").to_numpy(), table.column("y").to_numpy()),
            crs=CRS,
        )
        frame.to_parquet(out / "households" / f"part-{p:05d}.parquet")
    shutil.rmtree(staging)
    info = {
        "n": n,
        "partition_rows": rows,
        "household_files": parts,
        "offer_files": offer_files,
        "seed": seed,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    done.write_text(json.dumps(info, indent=2))
    return out


def _config_text(households: str, offers: str) -> str:
    mobile = "\n".join(f'[[mobile]]\npath = "operator_{k + 1}.tif"' for k in range(N_OPERATORS))
    text = CONFIG.format(tolerance=TOLERANCE, mobile=mobile, down=DOWN, up=UP, dbm=DBM)
    return text.replace('path = "households.parquet"', f'path = "{households}"').replace(
        'path = "offers.parquet"', f'path = "{offers}"'
    )


def _peak_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def run_engine(data: Path, out: Path, *, workers: int) -> dict:
    """``run_dask`` on a fresh local cluster; wall time and every process's peak memory."""
    from distributed import Client, LocalCluster

    from coverage_gap.config import load_config
    from coverage_gap.engine.dask import run_dask
    from coverage_gap.report import csv_bytes

    config_path = data / "dask.toml"
    config_path.write_text(
        _config_text("households", "offers") + '\n[engine]\nkind = "dask"\n', encoding="utf-8"
    )
    config = load_config(config_path)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with (
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            silence_logs=40,
        ) as cluster,
        Client(cluster) as client,
    ):
        startup = time.perf_counter() - started
        t0 = time.perf_counter()
        results = run_dask(config, households_out=out / "households.parquet", client=client)
        seconds = time.perf_counter() - t0
        workers_mb = sorted(client.run(_peak_mb).values())
    (out / "municipalities.csv").write_bytes(csv_bytes(results.municipalities))
    (out / "reconciliation.csv").write_bytes(csv_bytes(results.reconciliation))
    return {
        "seconds": round(seconds, 1),
        "cluster_start_s": round(startup, 1),
        "worker_peak_mb": [round(m) for m in workers_mb],
        "client_peak_mb": round(_peak_mb()),
        "stages": {k: round(v, 1) for k, v in results.timings.items()},
        "engine": results.engine,
        "addresses": int(results.reconciliation.loc["total", "addresses"]),
    }


def run_in_memory(data: Path, out: Path) -> dict:
    """Run the --small input as single files through ``coverage-gap run`` (whole process)."""
    single = data / "single"
    if not (single / "offers.parquet").exists():
        single.mkdir(exist_ok=True)
        parts = sorted((data / "households").iterdir())
        tables = [pq.read_table(p) for p in parts]
        pq.write_table(
            pa.concat_tables(tables).replace_schema_metadata(tables[0].schema.metadata),
            single / "households.parquet",
        )
        pq.write_table(
            pa.concat_tables([pq.read_table(p) for p in sorted((data / "offers").iterdir())]),
            single / "offers.parquet",
        )
        for name in [
            "municipalities.parquet",
            *(f"operator_{k + 1}.tif" for k in range(N_OPERATORS)),
        ]:
            shutil.copy(data / name, single / name)
    config = single / "memory.toml"
    config.write_text(_config_text("households.parquet", "offers.parquet"), encoding="utf-8")
    command = [
        str(Path(sys.executable).parent / "coverage-gap"),
        "run",
        str(config),
        "--out",
        str(out),
        "-q",
    ]
    with tempfile.NamedTemporaryFile("r") as stats:
        subprocess.run(["/usr/bin/time", "-o", stats.name, "-f", "%e %M", *command], check=True)
        wall, rss_kb = stats.read().split()[-2:]
    return {"seconds": float(wall), "peak_rss_mb": round(int(rss_kb) / 1024)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000_000)
    parser.add_argument("--small", type=int, default=4_000_000)
    parser.add_argument("--partition-rows", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--engine-only", nargs=2, type=Path, metavar=("DATA", "OUT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.engine_only:
        print(json.dumps(run_engine(*args.engine_only, workers=args.workers)))
        return
    report: dict = {}
    with tempfile.TemporaryDirectory(prefix="dask_scale_") as tmp:
        work = Path(tmp)
        for label, n in (("small", args.small), ("large", args.n)):
            print(
                f"generating {n:,} addresses in partitions of {args.partition_rows:,}", flush=True
            )
            data = generate_partitioned(n, rows=args.partition_rows, seed=args.seed)
            print(f"dask engine, {n:,} addresses", flush=True)
            # In a process of its own, so that its peak memory is the engine's alone.
            done = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--engine-only",
                    str(data),
                    str(work / f"dask_{label}"),
                    "--workers",
                    str(args.workers),
                ],
                check=True,
                capture_output=True,
                text=True,
            )
            report[f"dask_{label}"] = json.loads(done.stdout.strip().splitlines()[-1])
            print(json.dumps(report[f"dask_{label}"], indent=1), flush=True)
            if label == "small":
                print(f"in memory, {n:,} addresses", flush=True)
                report["memory_small"] = run_in_memory(data, work / "memory_small")
                report["identical"] = all(
                    (work / "memory_small" / f).read_bytes()
                    == (work / "dask_small" / f).read_bytes()
                    for f in ("municipalities.csv", "reconciliation.csv")
                )
                print(
                    json.dumps(report["memory_small"]),
                    "identical:",
                    report["identical"],
                    flush=True,
                )
            shutil.rmtree(work / f"dask_{label}", ignore_errors=True)
    large, small, memory = report["dask_large"], report["dask_small"], report["memory_small"]
    print(
        f"n={args.n} dask_s={large['seconds']} dask_worker_peak_mb={max(large['worker_peak_mb'])} "
        f"dask_client_peak_mb={large['client_peak_mb']} small={args.small} "
        f"dask_small_s={small['seconds']} dask_small_worker_peak_mb={max(small['worker_peak_mb'])} "
        f"memory_small_s={memory['seconds']} memory_small_peak_mb={memory['peak_rss_mb']} "
        f"partition_rows={args.partition_rows} identical={str(report['identical']).lower()}"
    )


if __name__ == "__main__":
    main()

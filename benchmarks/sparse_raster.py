"""Peak memory of sampling a huge, sparse raster at a few households.

    python benchmarks/sparse_raster.py [--size 50000] [--points 200]

Writes (once) a SIZE × SIZE float32 GeoTIFF, tiled and deflate-compressed, of which only
a few blocks hold values (a few hundred kB on disk), then samples it at POINTS households
spread over it in a fresh process per method and reports wall time and peak RSS:

- ``coverage_gap``: :func:`coverage_gap.io.raster.sample_signal_raster` (reads only the
  blocks under the households);
- ``window``: the band read once over the households' extent, then indexed (what a
  careful analyst does, and what coverage_gap did before: memory grows with the extent).

The last line is machine-readable:
``sparse size=<n> points=<n> cg_s=<t> cg_rss_mb=<m> window_s=<t> window_rss_mb=<m>``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine

from generate import DEFAULT_DIR

CELL = 100.0


def write(path: Path, size: int) -> Path:
    if path.exists():
        return path
    transform = Affine(CELL, 0, 0, 0, -CELL, size * CELL)
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=size,
        height=size,
        count=1,
        dtype="float32",
        crs="EPSG:25832",
        transform=transform,
        nodata=-9999,
        tiled=True,
        blockxsize=256,
        blockysize=256,
        compress="deflate",
        sparse_ok=True,
        BIGTIFF="YES",
    ) as dst:
        rng = np.random.default_rng(3)
        for _ in range(20):
            row, col = (int(v) * 256 for v in rng.integers(0, size // 256, 2))
            block = rng.uniform(-120, -70, (256, 256)).astype("float32")
            dst.write(block, 1, window=((row, row + 256), (col, col + 256)))
    return path


def points(size: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    return rng.uniform(0, size * CELL, n), rng.uniform(0, size * CELL, n)


CHILD = """
import json, resource, sys, time
import numpy as np
sys.path.insert(0, {bench!r})
from sparse_raster import points
size, n, method, path = {size}, {n}, {method!r}, {path!r}
x, y = points(size, n)
start = time.perf_counter()
if method == "cg":
    from coverage_gap.io.raster import sample_signal_raster
    values = sample_signal_raster(path, x, y).values
else:
    import rasterio
    from rasterio.windows import from_bounds
    with rasterio.open(path) as src:
        window = from_bounds(x.min(), y.min(), x.max(), y.max(), src.transform).round_offsets()
        band = src.read(1, window=window.round_lengths())
        t = src.window_transform(window)
        rows, cols = rasterio.transform.rowcol(t, x, y)
        rows = np.clip(np.asarray(rows), 0, band.shape[0] - 1)
        cols = np.clip(np.asarray(cols), 0, band.shape[1] - 1)
        values = band[rows, cols]
seconds = time.perf_counter() - start
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"s": seconds, "rss_mb": rss, "finite": int(np.isfinite(values).sum())}}))
"""


def measure(method: str, path: Path, size: int, n: int) -> dict[str, float]:
    code = CHILD.format(
        bench=str(Path(__file__).parent), size=size, n=n, method=method, path=str(path)
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if done.returncode != 0:
        return {"s": float("nan"), "rss_mb": float("nan"), "error": done.stderr[-300:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=50_000)
    parser.add_argument("--points", type=int, default=200)
    parser.add_argument("--skip-window", action="store_true", help="only time coverage_gap")
    args = parser.parse_args()
    DEFAULT_DIR.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    path = write(DEFAULT_DIR / f"sparse_{args.size}.tif", args.size)
    print(
        f"raster {path} ({path.stat().st_size / 1e3:.0f} kB, {time.perf_counter() - start:.1f} s)"
    )
    cg = measure("cg", path, args.size, args.points)
    print(f"coverage_gap: {cg}")
    window = (
        {"s": float("nan"), "rss_mb": float("nan")}
        if args.skip_window
        else measure("window", path, args.size, args.points)
    )
    print(f"band read over the households' extent: {window}")
    print(
        f"sparse size={args.size} points={args.points} cg_s={cg['s']:.2f} "
        f"cg_rss_mb={cg['rss_mb']:.0f} window_s={window['s']:.2f} "
        f"window_rss_mb={window['rss_mb']:.0f}"
    )


if __name__ == "__main__":
    main()

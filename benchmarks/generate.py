"""Seeded generator of a Denmark-scale synthetic input for the benchmarks.

98 municipalities with ragged boundaries (polygonised from a noisy label grid: thousands
of vertices each, islands, enclaves), N addresses clustered around towns with some just
off the coast, a fixed-offer table with several rows per address keyed by UUID strings,
and four operator signal rasters at 100 m over Denmark (4,600 × 3,700 cells, nodata at
sea). Written as GeoParquet, Parquet, CSV and GeoTIFF into a cache directory; a second
call with the same N and seed reuses the files.

    python benchmarks/generate.py --n 400000
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import shapely
from affine import Affine
from rasterio.features import shapes

from coverage_gap.io import write_signal_raster

CRS = "EPSG:25832"
X0, Y1 = 440_000.0, 6_405_000.0  # north-west corner of the rasters
WIDTH, HEIGHT, CELL = 4600, 3700, 100.0
LABEL_CELL = 250.0  # municipality label grid before polygonising
N_MUNICIPALITIES = 98
N_OPERATORS = 4
DEFAULT_DIR = Path(__file__).resolve().parent / "data"


def _smooth_noise(rng: np.random.Generator, shape: tuple[int, int], block: int) -> np.ndarray:
    coarse = rng.normal(size=(shape[0] // block + 2, shape[1] // block + 2))
    # bilinear upsampling of the coarse field
    yi = np.arange(shape[0]) / block
    xi = np.arange(shape[1]) / block
    y0, x0 = yi.astype(int), xi.astype(int)
    fy, fx = (yi - y0)[:, None], (xi - x0)[None, :]
    a = coarse[np.ix_(y0, x0)]
    b = coarse[np.ix_(y0, x0 + 1)]
    c = coarse[np.ix_(y0 + 1, x0)]
    d = coarse[np.ix_(y0 + 1, x0 + 1)]
    return (a * (1 - fx) + b * fx) * (1 - fy) + (c * (1 - fx) + d * fx) * fy


def _land_and_labels(rng: np.random.Generator):
    h, w = int(HEIGHT * CELL / LABEL_CELL), int(WIDTH * CELL / LABEL_CELL)
    yy, xx = np.mgrid[0:h, 0:w]
    # Land: a few big blobs with a fractal-ish coast.
    blobs = [
        (0.30, 0.35, 0.22),
        (0.55, 0.60, 0.16),
        (0.75, 0.55, 0.10),
        (0.62, 0.80, 0.09),
        (0.93, 0.85, 0.04),
        (0.45, 0.80, 0.07),
    ]
    field = np.full((h, w), -1.0)
    for cx, cy, r in blobs:
        d = np.hypot(xx / w - cx, (yy / h - cy) * h / w) / r
        field = np.maximum(field, 1 - d)
    field += 0.25 * _smooth_noise(rng, (h, w), 12) + 0.08 * _smooth_noise(rng, (h, w), 3)
    land = field > 0
    # Municipalities: nearest of 98 seeds on land, with a noisy distance (ragged borders).
    ly, lx = np.nonzero(land)
    pick = rng.choice(ly.size, N_MUNICIPALITIES, replace=False)
    seeds = np.column_stack([lx[pick], ly[pick]]).astype(float)
    noise = 12 * _smooth_noise(rng, (h, w), 6) + 4 * _smooth_noise(rng, (h, w), 2)
    labels = np.full((h, w), -1, dtype=np.int32)
    best = np.full((h, w), np.inf)
    for i, (sx, sy) in enumerate(seeds):
        d = np.hypot(xx - sx, yy - sy) + noise
        closer = d < best
        best[closer] = d[closer]
        labels[closer] = i
    labels[~land] = -1
    # Enclaves: a few discs handed to a neighbour.
    for _ in range(6):
        sx, sy = seeds[rng.integers(N_MUNICIPALITIES)]
        disc = np.hypot(xx - sx - 15, yy - sy - 10) < 4
        labels[disc & land] = int(rng.integers(N_MUNICIPALITIES))
    return land, labels, seeds


def _ragged(labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Labels at 100 m with ragged borders: border cells copy a random neighbour."""
    rows = (np.arange(HEIGHT) * CELL / LABEL_CELL).astype(int)
    cols = (np.arange(WIDTH) * CELL / LABEL_CELL).astype(int)
    fine = labels[np.ix_(rows, cols)]
    for _ in range(3):
        shifted = np.empty_like(fine)
        direction = rng.integers(0, 4, fine.shape)
        out = fine.copy()
        for k, (dy, dx) in enumerate(((0, 1), (0, -1), (1, 0), (-1, 0))):
            shifted[:] = np.roll(fine, (dy, dx), axis=(0, 1))
            take = (direction == k) & (rng.random(fine.shape) < 0.5) & (fine >= 0) & (shifted >= 0)
            out[take] = shifted[take]
        fine = out
    return fine


def _municipalities(labels: np.ndarray) -> gpd.GeoDataFrame:
    transform = Affine(CELL, 0, X0, 0, -CELL, Y1)
    parts: dict[int, list] = {}
    for geom, value in shapes(labels, mask=labels >= 0, transform=transform, connectivity=4):
        parts.setdefault(int(value), []).append(shapely.geometry.shape(geom))
    codes, geoms = [], []
    for i in range(N_MUNICIPALITIES):
        if i not in parts:
            continue
        codes.append(f"{101 + i * 8:04d}")
        geoms.append(shapely.make_valid(shapely.union_all(parts[i])))
    return gpd.GeoDataFrame(
        {"code": codes, "name": [f"Kommune {c}" for c in codes]}, geometry=geoms, crs=CRS
    )


def _uuids(rng: np.random.Generator, n: int) -> pa.Array:
    raw = np.frombuffer(rng.bytes(16 * n), dtype=np.uint8).reshape(n, 16)
    hexchars = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    digits = np.empty((n, 32), dtype=np.uint8)
    digits[:, 0::2] = hexchars[raw >> 4]
    digits[:, 1::2] = hexchars[raw & 15]
    out = np.full((n, 36), ord("-"), dtype=np.uint8)
    for src, dst in (
        (slice(0, 8), slice(0, 8)),
        (slice(8, 12), slice(9, 13)),
        (slice(12, 16), slice(14, 18)),
        (slice(16, 20), slice(19, 23)),
        (slice(20, 32), slice(24, 36)),
    ):
        out[:, dst] = digits[:, src]
    data = pa.py_buffer(out.tobytes())
    offsets = pa.py_buffer((np.arange(n + 1, dtype=np.int32) * 36).tobytes())
    return pa.Array.from_buffers(pa.string(), n, [None, offsets, data])


def _addresses(rng: np.random.Generator, n: int, land: np.ndarray):
    h, w = land.shape
    land_idx = np.flatnonzero(land)
    n_towns = 400
    towns = land_idx[rng.choice(land_idx.size, n_towns, replace=False)]
    tx = X0 + (towns % w + 0.5) * LABEL_CELL
    ty = Y1 - (towns // w + 0.5) * LABEL_CELL
    weight = rng.pareto(1.2, n_towns) + 0.2
    weight /= weight.sum()
    x = np.empty(n)
    y = np.empty(n)
    todo = np.arange(n)
    rural = rng.random(n) < 0.25
    while todo.size:
        k = todo.size
        town = rng.choice(n_towns, k, p=weight)
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
        x[todo[ok]] = cx[ok]
        y[todo[ok]] = cy[ok]
        todo = todo[~ok]
    # A few addresses just off the coast (generalised coastline).
    off = rng.choice(n, n // 200, replace=False)
    x[off] += rng.normal(0, 200, off.size)
    y[off] += rng.normal(0, 200, off.size)
    households = np.where(rng.random(n) < 0.1, rng.integers(2, 40, n), 1)
    return x, y, households


def _offers(rng: np.random.Generator, ids: pa.Array, n: int) -> pa.Table:
    techs = np.array(["fiber", "cable_tv", "xdsl", "fixed_wireless"])
    rows = []
    for k, (p, down_choices, up_ratio) in enumerate(
        [
            (0.80, [300, 1000, 2500], 1.0),
            (0.35, [500, 1000], 0.1),
            (0.60, [10, 20, 50, 100], 0.1),
            (0.08, [30, 100], np.nan),
        ]
    ):
        mask = rng.random(n) < p
        idx = np.flatnonzero(mask)
        down = rng.choice(np.array(down_choices, dtype=float), idx.size)
        rows.append(
            pa.table(
                {
                    "address_id": ids.take(pa.array(idx)),
                    "technology": pa.array(np.full(idx.size, techs[k])),
                    "down_mbps": down,
                    "up_mbps": down * up_ratio,
                }
            )
        )
    table = pa.concat_tables(rows)
    order = rng.permutation(table.num_rows)
    return table.take(pa.array(order))


def _rasters(
    rng: np.random.Generator,
    land: np.ndarray,
    out: Path,
    numbers: range = range(1, N_OPERATORS + 1),
) -> list[Path]:
    rows = (np.arange(HEIGHT) * CELL / LABEL_CELL).astype(int)
    cols = (np.arange(WIDTH) * CELL / LABEL_CELL).astype(int)
    land100 = land[np.ix_(rows, cols)]
    transform = Affine(CELL, 0, X0, 0, -CELL, Y1)
    paths = []
    for k in numbers:
        signal = (
            -92
            + 9 * _smooth_noise(rng, (HEIGHT, WIDTH), 40)
            + 5 * _smooth_noise(rng, (HEIGHT, WIDTH), 5)
        ).astype(np.float32)
        signal = np.round(signal)
        signal[~land100] = -9999.0
        holes = _smooth_noise(rng, (HEIGHT, WIDTH), 20) > 1.8  # operator has no data here
        signal[holes] = -9999.0
        paths.append(write_signal_raster(out / f"operator_{k}.tif", signal, transform, crs=CRS))
    return paths


def operator_rasters(directory: Path, operators: int, *, seed: int = 42) -> list[Path]:
    """Paths of ``operators`` operator rasters in ``directory``, writing the missing ones.

    The first four are those of :func:`generate`; further ones (for the scaling
    benchmark) are drawn from their own seeded stream over the same land, so that the
    existing files and their results stay as they are. Each is a 3 MB GeoTIFF.
    """
    paths = [directory / f"operator_{k}.tif" for k in range(1, operators + 1)]
    missing = [k for k in range(N_OPERATORS + 1, operators + 1) if not paths[k - 1].exists()]
    if missing:
        land, _, _ = _land_and_labels(np.random.default_rng(seed))  # the first draws of generate
        for k in missing:
            _rasters(np.random.default_rng([seed, k]), land, directory, range(k, k + 1))
    absent = [p for p in paths if not p.exists()]
    if absent:
        raise FileNotFoundError(f"no operator raster {absent[0]}: run generate() first")
    return paths


def generate(n: int, *, seed: int = 42, directory: Path = DEFAULT_DIR) -> Path:
    """Write the inputs for ``n`` addresses; return their directory (cached by n and seed)."""
    out = directory / f"n{n}_seed{seed}"
    done = out / "done.json"
    if done.exists():
        return out
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    land, labels, _ = _land_and_labels(rng)
    municipalities = _municipalities(_ragged(labels, rng))
    municipalities.to_parquet(out / "municipalities.parquet")
    x, y, households = _addresses(rng, n, land)
    ids = _uuids(rng, n)
    points = gpd.GeoDataFrame(
        {"address_id": ids.to_numpy(zero_copy_only=False), "households": households},
        geometry=gpd.points_from_xy(x, y),
        crs=CRS,
    )
    points.to_parquet(out / "households.parquet")
    pacsv.write_csv(
        pa.table({"address_id": ids, "households": households, "x": x, "y": y}),
        out / "households.csv",
    )
    offers = _offers(rng, ids, n)
    pq.write_table(offers, out / "offers.parquet")
    pacsv.write_csv(offers, out / "offers.csv")
    _rasters(rng, land, out)
    vertices = int(shapely.get_num_coordinates(municipalities.geometry.array).sum())
    info = {
        "n": n,
        "seed": seed,
        "municipalities": len(municipalities),
        "vertices": vertices,
        "offers": offers.num_rows,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    done.write_text(json.dumps(info, indent=2))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=400_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    args = parser.parse_args()
    out = generate(args.n, seed=args.seed, directory=args.dir)
    print(out, (out / "done.json").read_text())


if __name__ == "__main__":
    main()

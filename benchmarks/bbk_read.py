"""How fast ``read_bbk`` reads a national-size BBK file (official layout).

    python benchmarks/bbk_read.py --n 3000000

Writes a synthetic file in the official 2026 layout (``;``, quoted, decimal comma,
empty cells) once, then times ``read_bbk`` on it.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from generate import DEFAULT_DIR, _uuids

COLUMNS = (
    "adgadr_id;vejnavn;husnr;postnr;kommunenavn;etrs89koordinat_oest;"
    "etrs89koordinat_nord;download_fasttraadloest;upload_fasttraadloest;download_fiber;"
    "upload_fiber;download_kabel_tv;upload_kabel_tv;download_xdsl;upload_xdsl;"
    "download_mobil;upload_mobil"
).split(";")


def write_file(n: int, path: Path, seed: int = 7) -> Path:
    rng = np.random.default_rng(seed)

    def decimal(values: np.ndarray, empty: np.ndarray) -> pa.Array:
        text = np.char.replace(np.round(values, 3).astype(str), ".", ",")
        return pa.array(np.where(empty, None, text))

    fiber = rng.random(n) < 0.8
    table = pa.table(
        {
            "adgadr_id": _uuids(rng, n),
            "vejnavn": pa.array(np.full(n, "Vejen")),
            "husnr": pa.array(rng.integers(1, 200, n).astype(str)),
            "postnr": pa.array(rng.integers(1000, 9990, n)),
            "kommunenavn": pa.array(rng.choice(["Roskilde", "Køge", "Næstved"], n)),
            "etrs89koordinat_oest": decimal(rng.uniform(4.4e5, 8.9e5, n), np.zeros(n, bool)),
            "etrs89koordinat_nord": decimal(rng.uniform(6.05e6, 6.4e6, n), np.zeros(n, bool)),
            "download_fasttraadloest": decimal(np.full(n, 100.0), rng.random(n) > 0.05),
            "upload_fasttraadloest": decimal(np.full(n, 10.0), np.ones(n, bool)),
            "download_fiber": decimal(np.full(n, 1000.0), ~fiber),
            "upload_fiber": decimal(np.full(n, 1000.0), ~fiber),
            "download_kabel_tv": decimal(np.full(n, 1000.0), rng.random(n) > 0.3),
            "upload_kabel_tv": decimal(np.full(n, 100.0), rng.random(n) > 0.3),
            "download_xdsl": decimal(rng.uniform(5, 100, n), rng.random(n) > 0.5),
            "upload_xdsl": decimal(rng.uniform(1, 20, n), rng.random(n) > 0.4),
            "download_mobil": decimal(np.full(n, 600.0), np.zeros(n, bool)),
            "upload_mobil": decimal(np.full(n, 30.0), np.zeros(n, bool)),
        }
    )
    pacsv.write_csv(
        table, path, write_options=pacsv.WriteOptions(delimiter=";", quoting_style="all_valid")
    )
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3_000_000)
    args = parser.parse_args()
    path = DEFAULT_DIR / f"bbk_{args.n}.csv"
    if not path.exists():
        DEFAULT_DIR.mkdir(parents=True, exist_ok=True)
        write_file(args.n, path)
    from coverage_gap.danish import read_bbk

    t0 = time.perf_counter()
    data = read_bbk(path)
    seconds = time.perf_counter() - t0
    size = path.stat().st_size / 1e6
    print(f"n={args.n} bbk_mb={size:.0f} read_bbk_s={seconds:.2f} offers={len(data.offers)}")


if __name__ == "__main__":
    main()

"""Benchmark: where to act — DDKN aggregation, the broadband pool and mast siting at scale.

    python benchmarks/where_to_act.py --n 400000

Generates (or reuses) the seeded Denmark-scale input of ``generate.py`` with N addresses,
classifies it once under 100/30 (fixed offers and four operator rasters at -105 dBm,
under-served = neither, as in ``run.py``), then times, in memory, as best of
``--rounds`` interleaved rounds:

- ``summarize_areas`` to the DDKN 1 km grid, the 100 m grid and a polygon layer (the
  municipalities, as an area set);
- ``assess_pool`` under the 2023 and 2024 rules, with a synthetic zone column (a seeded
  draw: byzone near towns, landzone elsewhere, some summer-house areas), synthetic town
  sizes and synthetic mobile offers, including the single-linkage clusters;
- ``choose_sites``: ``--k`` new sites among ``--candidates`` candidate sites (a seeded
  sample of address points), radius ``--radius`` m, demand = the households without
  mobile coverage at -105 dBm, with the LP bound; the same from a regular 2 km candidate
  grid; and a stress case with every household as demand.

The last line is machine-readable::

    n=<N> grid_1km_s=<t> pool_s=<t> siting_s=<t> candidates=<c> k=<k>
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import DEFAULT_DIR, generate  # noqa: E402


def _inputs(data: Path):
    """Read the generated files with the public readers; the standard of ``run.py``."""
    import coverage_gap as cg

    households, _ = cg.validate.validate_households(
        cg.read_households(data / "households.parquet", households="households"), source="h"
    )
    boundaries, _ = cg.validate.validate_municipalities(
        cg.read_municipalities(data / "municipalities.parquet", code="code", name="name"),
        source="m",
    )
    index = cg.MunicipalityIndex.build(boundaries)
    offers = cg.read_offers(
        data / "offers.parquet", download="down_mbps", upload="up_mbps", technology="technology"
    )
    fixed = cg.evidence.match_offers(offers, households)
    rasters = [cg.read_signal_raster(p) for p in sorted(data.glob("operator_*.tif"))]
    standard = cg.ServiceStandard(
        "100/30",
        fixed_down_mbps=100,
        fixed_up_mbps=30,
        mobile_min_dbm=-105,
        underserved="no_fixed_and_no_mobile",
    )
    return households, boundaries, index, fixed, rasters, standard


def _pool_households(households: pd.DataFrame, rng: np.random.Generator):
    """Add a synthetic zone and town size to the households; make synthetic mobile offers."""
    table = households.copy()
    n = len(table)
    x = table["x"].to_numpy()
    y = table["y"].to_numpy()
    # Addresses in 1 km cells with many others are in towns (byzone); the rest are rural.
    cell = np.floor(np.nan_to_num(x) / 1000) * 1e4 + np.floor(np.nan_to_num(y) / 1000)
    _, inverse, counts = np.unique(cell, return_inverse=True, return_counts=True)
    dense = counts[inverse] >= 50
    zone = np.where(dense, "Byzone", "Landzone").astype(object)
    zone[rng.random(n) < 0.04] = "Sommerhusområde"
    table["zone"] = zone
    table["town_population"] = np.where(dense, counts[inverse] * 4.0, np.nan)
    table.attrs = dict(households.attrs)
    mobile = pd.DataFrame(
        {
            "address_id": table["address_id"],
            "down_mbps": rng.choice([100.0, 300.0, 600.0, 1000.0], n, p=[0.2, 0.4, 0.3, 0.1]),
            "up_mbps": 50.0,
        }
    )
    return table, mobile


def _race(functions: dict, rounds: int) -> dict[str, float]:
    best = dict.fromkeys(functions, float("inf"))
    for function in functions.values():
        function()
    for _ in range(rounds):
        for name, function in functions.items():
            t0 = time.perf_counter()
            function()
            best[name] = min(best[name], time.perf_counter() - t0)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=400_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--candidates", type=int, default=1000)
    parser.add_argument("--k", type=int, default=25)
    parser.add_argument("--radius", type=float, default=2000.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    import coverage_gap as cg
    from coverage_gap.areas import AreaSpec, summarize_areas
    from coverage_gap.danish.pool import PoolSpec, assess_pool
    from coverage_gap.siting import SitingSpec, choose_sites

    t0 = time.perf_counter()
    data = generate(args.n, seed=args.seed, directory=args.dir)
    households, boundaries, index, fixed, rasters, standard = _inputs(data)
    evidence = cg.gather_evidence(households, index, fixed_offers=fixed, mobile_rasters=rasters)
    classified = cg.classify(evidence, standard)
    # Siting demand: households without mobile coverage at the standard's -105 dBm, and
    # (stress case) every household.
    classified["no_mobile"] = ~classified["mobile_served"].to_numpy(bool)
    classified["everyone"] = True
    provenance = cg.Provenance(standard, source="benchmark")
    rng = np.random.default_rng(args.seed)
    zoned, mobile = _pool_households(households, rng)
    pool_evidence = cg.gather_evidence(
        zoned, index, fixed_offers=fixed, mobile_rasters=rasters, mobile_offers=mobile
    )
    print(f"input ready in {time.perf_counter() - t0:.1f} s: {len(classified)} addresses")
    x = classified["x"].to_numpy()
    y = classified["y"].to_numpy()
    pool_spec = PoolSpec(town_population_column="town_population")

    valid = np.flatnonzero(np.isfinite(x) & np.isfinite(y))
    pick = rng.choice(valid, size=min(args.candidates, valid.size), replace=False)
    candidates = pd.DataFrame(
        {"site_id": [f"c{i}" for i in range(pick.size)], "x": x[pick], "y": y[pick]}
    )
    candidates.attrs["crs"] = classified.attrs["crs"]
    siting_spec = SitingSpec(sites=args.k, radius_m=args.radius, demand="no_mobile")
    grid_spec = SitingSpec(
        sites=args.k, radius_m=args.radius, demand="no_mobile", candidate_spacing_m=2000.0
    )
    stress_spec = SitingSpec(sites=args.k, radius_m=args.radius, demand="everyone")
    area_spec = AreaSpec(grid=None, code="municipality_code", name="municipality_name")

    results: dict[str, object] = {}

    def keep(name, function):
        def run():
            results[name] = function()

        return run

    best = _race(
        {
            "grid_1km_s": keep("1km", lambda: summarize_areas(classified, provenance)),
            "grid_100m_s": keep(
                "100m", lambda: summarize_areas(classified, provenance, AreaSpec(grid="100m"))
            ),
            "polygons_s": keep(
                "polygons",
                lambda: summarize_areas(classified, provenance, area_spec, areas=boundaries),
            ),
            "pool_s": keep(
                "pool", lambda: assess_pool(pool_evidence, boundaries, provenance, pool_spec)
            ),
            "siting_s": keep(
                "siting",
                lambda: choose_sites(classified, provenance, siting_spec, candidates=candidates),
            ),
            "siting_grid_s": keep(
                "siting_grid", lambda: choose_sites(classified, provenance, grid_spec)
            ),
            "siting_all_s": keep(
                "siting_all",
                lambda: choose_sites(classified, provenance, stress_spec, candidates=candidates),
            ),
        },
        args.rounds,
    )
    grid, fine, pool, siting, on_grid, stress = (
        results[k] for k in ("1km", "100m", "pool", "siting", "siting_grid", "siting_all")
    )
    print(f"summarize_areas, DDKN 1 km: {best['grid_1km_s']:.3f} s ({len(grid) - 1} cells)")
    print(f"summarize_areas, DDKN 100 m: {best['grid_100m_s']:.3f} s ({len(fine) - 1} cells)")
    print(f"summarize_areas, {len(boundaries)} polygons: {best['polygons_s']:.3f} s")
    region = pool.summary.xs("region", level="municipality_code")
    print(
        f"assess_pool (2023 + 2024, clusters within 500 m): {best['pool_s']:.3f} s; "
        f"eligible {region['eligible_addresses'].to_dict()}, "
        f"clusters {region['clusters'].to_dict()}"
    )
    b = siting.bounds
    print(
        f"choose_sites, {siting.candidates} candidates, k={args.k}, r={args.radius:g} m, "
        f"{siting.demand_addresses} demand addresses: {best['siting_s']:.3f} s; "
        f"greedy {b.greedy_households:.0f} households, upper bound {b.upper_bound:.0f} "
        f"(greedy >= {b.greedy_share:.1%} of the optimum; {b.lp_note})"
    )
    g = on_grid.bounds
    print(
        f"choose_sites on a 2 km candidate grid ({on_grid.candidates} useful candidates): "
        f"{best['siting_grid_s']:.3f} s; greedy {g.greedy_households:.0f}, "
        f"bound {g.upper_bound:.0f} (greedy >= {g.greedy_share:.1%}; {g.lp_note})"
    )
    a = stress.bounds
    print(
        f"choose_sites, demand = all {stress.demand_addresses} addresses: "
        f"{best['siting_all_s']:.3f} s; greedy {a.greedy_households:.0f}, "
        f"bound {a.upper_bound:.0f} (greedy >= {a.greedy_share:.1%}; {a.lp_note})"
    )
    print(
        f"n={args.n} grid_1km_s={best['grid_1km_s']:.3f} pool_s={best['pool_s']:.3f} "
        f"siting_s={best['siting_s']:.3f} candidates={siting.candidates} k={args.k}"
    )


if __name__ == "__main__":
    main()

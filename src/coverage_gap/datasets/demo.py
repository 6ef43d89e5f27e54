"""A synthetic Region Sjælland for demos, tests and notebooks.

Real municipality codes, names, outlines, populations (1 January 2023, Statistics
Denmark) and main towns; everything else is made up: address points clustered around
towns and villages inside the real outlines, a fixed-offer table (fibre, cable TV, xDSL
with some missing uploads, fixed wireless) and two operators' signal rasters. Households
per municipality are estimated as population / 2.1 (Denmark: 2,788,291 households for
about 5.9 million people on 1 January 2022).

The outlines are a simplified copy of the DAGI municipality boundaries shipped with the
package (``region_sjaelland_kommuner.geojson.gz``, about 30 kB; "Indeholder data fra
Geodatastyrelsen (DAGI/FOT), 2014"; source and processing in the repository's
``data/README.md``). Every output made from the demo says "synthetic demo data". The
files are generated in a few seconds from a fixed seed: the same call gives the same
bytes.
"""

from __future__ import annotations

import functools
import gzip
import json
import tempfile
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from affine import Affine
from numpy.typing import NDArray
from rasterio.features import rasterize

from ..danish.region import REGION_SJAELLAND
from ..io.raster import write_signal_raster
from ..pipeline import Results

DEMO_SOURCE = "synthetic demo data (coverage_gap demo generator)"
CRS = "EPSG:25832"

#: How rural each municipality is made in the demo (0 town-like .. 1 rural): an assumption
#: of the generator that shapes where offers and signal are poor, not a fact.
RURALITY: dict[str, float] = {
    "0253": 0.10,
    "0259": 0.30,
    "0265": 0.20,
    "0269": 0.10,
    "0306": 0.75,
    "0316": 0.50,
    "0320": 0.65,
    "0326": 0.70,
    "0329": 0.50,
    "0330": 0.50,
    "0336": 0.85,
    "0340": 0.60,
    "0350": 0.60,
    "0360": 0.85,
    "0370": 0.45,
    "0376": 0.70,
    "0390": 0.75,
}
MUNICIPALITIES = REGION_SJAELLAND.municipalities

#: The real outlines (simplified DAGI boundaries), shipped with the package; see data/README.md.
OUTLINES_FILE = "region_sjaelland_kommuner.geojson.gz"
OUTLINES_ATTRIBUTION = "Indeholder data fra Geodatastyrelsen (DAGI/FOT), 2014"


@dataclass(frozen=True)
class DemoData:
    """The demo layers in memory."""

    municipalities: gpd.GeoDataFrame
    households: gpd.GeoDataFrame
    fixed_offers: pd.DataFrame
    rasters: dict[str, tuple[NDArray[np.float32], Affine]]


@functools.cache
def _outline_geometries() -> dict[str, shapely.Geometry]:
    """Read the 17 municipality outlines (by code) from the package data."""
    raw = (files("coverage_gap") / "datasets" / OUTLINES_FILE).read_bytes()
    features = json.loads(gzip.decompress(raw))["features"]
    return {
        f["properties"]["code"]: shapely.from_geojson(json.dumps(f["geometry"])) for f in features
    }


def _outline() -> shapely.Geometry:
    return shapely.union_all(list(_outline_geometries().values()))


def _boundaries() -> gpd.GeoDataFrame:
    outlines = _outline_geometries()
    return gpd.GeoDataFrame(
        {"code": [m.code for m in MUNICIPALITIES], "name": [m.name for m in MUNICIPALITIES]},
        geometry=[outlines[m.code] for m in MUNICIPALITIES],
        crs=CRS,
    )


def _sample_in(
    polygon: shapely.Geometry,
    centres: NDArray[np.float64],
    sigma: NDArray[np.float64],
    which: NDArray[np.int64],
    rng: np.random.Generator,
) -> NDArray[np.float64]:
    """Points around ``centres[which]`` (normal, ``sigma``), redrawn until inside."""
    n = which.size
    xy = np.empty((n, 2))
    todo = np.arange(n)
    shapely.prepare(polygon)
    for _ in range(50):
        if todo.size == 0:
            break
        c = centres[which[todo]]
        s = sigma[which[todo]][:, None]
        cand = c + rng.normal(size=(todo.size, 2)) * s
        ok = shapely.contains_xy(polygon, cand[:, 0], cand[:, 1])
        xy[todo[ok]] = cand[ok]
        todo = todo[~ok]
    if todo.size:  # the rest uniformly inside
        xy[todo] = _uniform_in(polygon, todo.size, rng)
    return xy


def _households(
    boundaries: gpd.GeoDataFrame, scale: float, rng: np.random.Generator
) -> tuple[gpd.GeoDataFrame, NDArray[np.float64], NDArray[np.bool_]]:
    frames = []
    dist_parts = []
    rural_parts = []
    centre_parts = []
    for (code, _name, population, _town, tx, ty), polygon in zip(
        MUNICIPALITIES, boundaries.geometry, strict=True
    ):
        rurality = RURALITY[code]
        total = max(round(population / 2.1 * scale), 20)
        # Villages: random points in the municipality, each a small cluster.
        n_villages = 6
        villages = _sample_in(
            polygon,
            np.array([[tx, ty]]),
            np.array([9000.0]),
            np.zeros(n_villages, dtype=np.int64),
            rng,
        )
        centres = np.vstack([[tx, ty], villages])
        sigma = np.array([1800.0] + [500.0] * n_villages)
        # Sizes: rural addresses hold one household; urban ones sometimes a block of flats.
        n_guess = total + 10
        rural = rng.random(n_guess) < rurality * 0.45
        block = ~rural & (rng.random(n_guess) < 0.08)
        size = np.where(block, 2 + rng.poisson(9, n_guess), 1)
        cum = np.cumsum(size)
        n_addr = int(np.searchsorted(cum, total) + 1)
        size = size[:n_addr].copy()
        size[-1] -= cum[n_addr - 1] - total
        rural = rural[:n_addr]
        which = rng.choice(
            centres.shape[0], size=n_addr, p=np.r_[0.55, np.full(n_villages, 0.45 / n_villages)]
        )
        xy = _sample_in(polygon, centres, sigma, which, rng)
        r_idx = np.flatnonzero(rural)
        # Rural addresses: uniform over the municipality.
        xy[r_idx] = _uniform_in(polygon, r_idx.size, rng)
        dist = np.min(np.hypot(xy[:, :1] - centres[:, 0], xy[:, 1:] - centres[:, 1]), axis=1)
        ids = np.char.add(f"{code}-", np.char.zfill(np.arange(n_addr).astype(str), 7))
        frames.append(
            pd.DataFrame(
                {
                    "address_id": ids,
                    "households": size,
                    "x": xy[:, 0],
                    "y": xy[:, 1],
                    "kommunekode": code,
                }
            )
        )
        dist_parts.append(dist)
        rural_parts.append(rural)
        centre_parts.append(centres)
    table = pd.concat(frames, ignore_index=True)
    dist = np.concatenate(dist_parts)
    rural = np.concatenate(rural_parts)
    # Coasts are generalised: some addresses lie on the coast, a little in or out.
    n = len(table)
    coast = rng.choice(n, size=max(n // 400, 3), replace=False)
    rings = shapely.get_exterior_ring(shapely.get_parts(boundaries.geometry.array))
    # Long coasts get more such addresses than the many small islets.
    length = shapely.length(rings)
    ring = rings[rng.choice(len(rings), size=coast.size, p=length / length.sum())]
    on_line = shapely.line_interpolate_point(ring, rng.uniform(0, 1, coast.size), normalized=True)
    angle = rng.uniform(0, 2 * np.pi, coast.size)
    step = rng.uniform(0, 400, coast.size)
    table.loc[coast, "x"] = shapely.get_x(on_line) + step * np.cos(angle)
    table.loc[coast, "y"] = shapely.get_y(on_line) + step * np.sin(angle)
    table["zone"], table["byindbyggere"] = _zones(table, np.vstack(centre_parts), scale)
    geometry = gpd.points_from_xy(table["x"], table["y"], crs=CRS)
    # Three addresses that could not be geocoded.
    invalid = rng.choice(n, size=3, replace=False)
    geometry[invalid] = None
    gdf = gpd.GeoDataFrame(table.drop(columns=["x", "y"]), geometry=geometry, crs=CRS)
    return gdf, dist, rural


#: Radius of the town zone (byzone) around a main town and around a village, metres.
_TOWN_RADIUS_M = (3600.0, 1000.0)
#: The land border with Region Hovedstaden (not coast), as a box: x0, y0, x1, y1.
_LAND_BORDER = (688_000.0, 6_166_500.0, 713_000.0, 6_187_000.0)


def _zones(
    table: pd.DataFrame, centres: NDArray[np.float64], scale: float
) -> tuple[NDArray[np.object_], NDArray[np.float64]]:
    """Planning zone of each address and the inhabitants of its town (byzone only).

    Byzone within two spreads of a town or village centre, Sommerhusområde along
    some stretches of the coast (5 km stretches picked by a fixed rule), Landzone
    elsewhere. Town sizes: the town's households × 2.1 at full scale, to 10 people.
    Uses no random numbers, so the rest of the demo is the same with or without it.
    """
    from scipy.spatial import KDTree

    x, y = table["x"].to_numpy(np.float64), table["y"].to_numpy(np.float64)
    # Seven centres per municipality: its main town first, then six villages.
    radius = np.tile(np.array([_TOWN_RADIUS_M[0]] + [_TOWN_RADIUS_M[1]] * 6), len(centres) // 7)
    distance, town = KDTree(centres).query(np.column_stack([x, y]))
    byzone = distance < radius[town]
    coast = shapely.difference(_outline().boundary, shapely.box(*_LAND_BORDER))
    near_coast = shapely.buffer(coast, 1000.0)
    shapely.prepare(near_coast)
    col, row = np.floor(x / 5000).astype(np.int64), np.floor(y / 5000).astype(np.int64)
    stretch = (col * 7 + row * 13) % 5 < 2
    summer = ~byzone & stretch & shapely.contains_xy(near_coast, x, y)
    zone = np.where(byzone, "Byzone", np.where(summer, "Sommerhusområde", "Landzone"))
    households = table["households"].to_numpy(np.float64)
    in_town = np.bincount(town[byzone], weights=households[byzone], minlength=len(centres))
    inhabitants = np.round(in_town * 2.1 / scale, -1)
    population = np.where(byzone, inhabitants[town], np.nan)
    return zone.astype(object), population


def _uniform_in(polygon: shapely.Geometry, n: int, rng: np.random.Generator) -> NDArray[np.float64]:
    xmin, ymin, xmax, ymax = polygon.bounds
    out = np.empty((n, 2))
    todo = np.arange(n)
    while todo.size:
        cand = rng.uniform([xmin, ymin], [xmax, ymax], size=(todo.size, 2))
        ok = shapely.contains_xy(polygon, cand[:, 0], cand[:, 1])
        out[todo[ok]] = cand[ok]
        todo = todo[~ok]
    return out


def _offers(
    households: gpd.GeoDataFrame,
    dist: NDArray[np.float64],
    rural: NDArray[np.bool_],
    rng: np.random.Generator,
) -> pd.DataFrame:
    n = len(households)
    rurality = households["kommunekode"].map(RURALITY)
    rurality = rurality.to_numpy(np.float64)
    km = dist / 1000
    p_fibre = np.where(rural, 0.62 - 0.35 * rurality, 0.97 - 0.12 * rurality)
    fibre = rng.random(n) < np.clip(p_fibre - 0.01 * km, 0.05, 0.99)
    cable = ~rural & (rng.random(n) < 0.45)
    dsl_down = np.clip(np.round(120 * np.exp(-km / 1.5)), 2, 100)
    fwa = rural & (rng.random(n) < 0.18)
    ids = households["address_id"].to_numpy()
    fibre_speed = rng.choice([300.0, 1000.0, 2500.0], size=n, p=[0.2, 0.6, 0.2])
    parts = [
        pd.DataFrame(
            {
                "address_id": ids[fibre],
                "technology": "fiber",
                "down_mbps": fibre_speed[fibre],
                "up_mbps": fibre_speed[fibre],
            }
        ),
        pd.DataFrame(
            {
                "address_id": ids[cable],
                "technology": "cable_tv",
                "down_mbps": 1000.0,
                "up_mbps": 100.0,
            }
        ),
        pd.DataFrame(
            {
                "address_id": ids,
                "technology": "xdsl",
                "down_mbps": dsl_down,
                # a fifth of the DSL rows state no upload, as in the real mapping
                "up_mbps": np.where(rng.random(n) < 0.2, np.nan, np.round(dsl_down / 8, 1)),
            }
        ),
        pd.DataFrame(
            {
                "address_id": ids[fwa],
                "technology": "fixed_wireless",
                "down_mbps": 100.0,
                "up_mbps": np.nan,
            }
        ),
    ]
    offers = pd.concat(parts, ignore_index=True)
    # Some addresses have no offer at all: a missing row never means served.
    return offers.sample(frac=1.0, random_state=int(rng.integers(2**31))).reset_index(drop=True)


def _signal(
    boundaries: gpd.GeoDataFrame, cell: float, rng: np.random.Generator
) -> dict[str, tuple[NDArray[np.float32], Affine]]:
    outline = _outline()
    xmin, ymin, xmax, ymax = np.floor(np.array(outline.bounds) / 1000) * 1000 + [
        -3000,
        -3000,
        4000,
        4000,
    ]
    width = int((xmax - xmin) / cell)
    height = int((ymax - ymin) / cell)
    transform = Affine(cell, 0, xmin, 0, -cell, ymax)
    land = rasterize(
        [(shapely.buffer(outline, 2000), 1)],
        out_shape=(height, width),
        transform=transform,
        fill=0,
        dtype="uint8",
    ).astype(bool)
    cx = xmin + (np.arange(width) + 0.5) * cell
    cy = ymax - (np.arange(height) + 0.5) * cell
    towns = np.array([(m.x, m.y) for m in MUNICIPALITIES])
    rasters = {}
    for operator, spacing, power in (("operator_a", 10000.0, 0.0), ("operator_b", 13000.0, -2.0)):
        # Sites in every town plus a jittered rural grid.
        gx, gy = np.meshgrid(np.arange(xmin, xmax, spacing), np.arange(ymin, ymax, spacing))
        grid = np.column_stack([gx.ravel(), gy.ravel()]) + rng.normal(0, spacing / 4, (gx.size, 2))
        keep = shapely.contains_xy(outline, grid[:, 0], grid[:, 1]) & (rng.random(len(grid)) < 0.8)
        sites = np.vstack([towns, grid[keep]])
        best = np.full((height, width), -np.inf, dtype=np.float32)
        for sx, sy in sites:
            d_km = np.hypot(cx[None, :] - sx, cy[:, None] - sy) / 1000
            np.maximum(
                best, (-74.0 + power - 36.0 * np.log10(d_km + 0.05)).astype(np.float32), out=best
            )
        # Shadowing: a coarse random field, 3 km blocks, +-7 dB.
        block = int(3000 / cell)
        coarse = rng.normal(0, 7, (height // block + 1, width // block + 1)).astype(np.float32)
        shadow = np.kron(coarse, np.ones((block, block), dtype=np.float32))[:height, :width]
        values = np.round(best + shadow).astype(np.float32)
        values[~land] = -9999.0
        rasters[operator] = (values, transform)
    return rasters


def make_demo(scale: float = 1.0, *, seed: int = 2026, cell_m: float | None = None) -> DemoData:
    """Generate the demo layers in memory.

    Parameters
    ----------
    scale
        Fraction of the realistic household total (about 405,000); 0.01 for fast tests.
    seed
        Random seed; the same seed gives the same data.
    cell_m
        Raster cell size; 100 m at full scale, 500 m below scale 0.2 (faster).

    Examples
    --------
    >>> demo = make_demo(scale=0.01)
    >>> len(demo.municipalities), sorted(demo.rasters)
    (17, ['operator_a', 'operator_b'])
    """
    rng = np.random.default_rng(seed)
    boundaries = _boundaries()
    households, dist, rural = _households(boundaries, scale, rng)
    offers = _offers(households, dist, rural, rng)
    cell = cell_m or (100.0 if scale >= 0.2 else 500.0)
    rasters = _signal(boundaries, cell, rng)
    return DemoData(boundaries, households, offers, rasters)


DEMO_TOML = """\
# Synthetic Region Sjælland, written by coverage_gap's demo generator.
[meta]
area_name = "Region Sjælland"
data_year = 2026
source = "{source}"
denominator = "households"
tolerance_m = 250

[households]
path = "households.parquet"
id = "address_id"
households = "households"
municipality = "kommunekode"

[municipalities]
path = "municipalities.gpkg"
code = "code"
name = "name"

[fixed]
path = "fixed_offers.csv"
id = "address_id"
download = "down_mbps"
upload = "up_mbps"
technology = "technology"

[[mobile]]
path = "operator_a.tif"
name = "Operator A"

[[mobile]]
path = "operator_b.tif"
name = "Operator B"

[demand]
base_year = 2026
horizon = 2035
gb_per_unit_month = 40          # assumed mobile data per household and month today
scenarios = ["taskforce 50 %", "fitted", "central"]
busy_hour_share = 0.08

[standard]
preset = "100/30"
name = "100/30"
mobile_min_dbm = -105
underserved = "no_fixed"

# Where to act: DDKN cells, the broadband pool, ten mast sites
[[areas]]
grid = "1km"

[pool]
rule_sets = ["2023", "2024"]
town_population_column = "byindbyggere"   # the demo's estimated town sizes

[siting]
sites = 10
radius_m = 2500                 # a planning assumption
candidate_spacing_m = 1000      # candidates: the centres of the DDKN 1 km cells
"""


def write_demo_inputs(directory: str | Path, *, scale: float = 1.0, seed: int = 2026) -> Path:
    """Write the demo inputs and a run configuration; return the configuration's path.

    Files: ``municipalities.gpkg``, ``households.parquet`` (GeoParquet, with the
    planning ``zone`` and the estimated town size ``byindbyggere``),
    ``fixed_offers.csv``, ``operator_a.tif``, ``operator_b.tif`` and ``demo.toml``;
    and the 2025 vintage with ``demo_2025.toml`` (:mod:`coverage_gap.datasets.vintage`).

    Examples
    --------
    >>> import tempfile
    >>> write_demo_inputs(tempfile.mkdtemp(), scale=0.01).name
    'demo.toml'
    """
    from ..io.writers import geopackage_bytes

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    demo = make_demo(scale, seed=seed)
    # A GeoPackage stores the time of writing; a fixed one keeps the bytes the same.
    (out / "municipalities.gpkg").write_bytes(
        geopackage_bytes(demo.municipalities, name="municipalities")
    )
    demo.households.to_parquet(out / "households.parquet")
    demo.fixed_offers.to_csv(out / "fixed_offers.csv", index=False, lineterminator="\n")
    for operator, (values, transform) in demo.rasters.items():
        write_signal_raster(out / f"{operator}.tif", values, transform, crs=CRS)
    config = out / "demo.toml"
    config.write_text(DEMO_TOML.format(source=DEMO_SOURCE), encoding="utf-8")
    from .vintage import write_older_vintage

    write_older_vintage(out, demo, config, seed=seed)
    return config


@functools.lru_cache(maxsize=4)
def make_demo_results(scale: float = 1.0, *, seed: int = 2026) -> Results:
    """Generate the demo in a new temporary directory and run it; cached per scale and seed.

    The inputs stay on disk (the manifest of a report hashes them).

    Examples
    --------
    >>> make_demo_results(scale=0.01).municipalities.loc["region", "municipality_name"]
    'Region Sjælland'
    """
    from ..config import load_config
    from ..pipeline import run

    directory = tempfile.mkdtemp(prefix="coverage_gap_demo_")
    return run(load_config(write_demo_inputs(directory, scale=scale, seed=seed)))

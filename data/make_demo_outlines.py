"""Regenerate the demo's municipality outlines from the DAGI boundaries (run once, by hand).

    python data/make_demo_outlines.py [PATH_TO_kommuner_region_sjaelland_25832.geojson]

Reads the 17 Region Sjælland municipalities (EPSG:25832), simplifies them as one
coverage (shared borders simplified once, so neighbours still meet exactly), rounds the
vertices to whole metres and writes
``src/coverage_gap/datasets/region_sjaelland_kommuner.geojson.gz`` (gzip with a zero
timestamp: the same input gives the same bytes). See ``data/README.md``.
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT.parent / "shared" / "data" / "dagi_kommuner"
SOURCE = SOURCE / "kommuner_region_sjaelland_25832.geojson"
TARGET = ROOT / "src" / "coverage_gap" / "datasets" / "region_sjaelland_kommuner.geojson.gz"
TOLERANCE_M = 100.0


def main(source: Path = SOURCE) -> None:
    """Simplify, check and write the outlines."""
    dagi = gpd.read_file(source).sort_values("kommunekode", kind="stable")
    if dagi.crs is None or dagi.crs.to_epsg() != 25832 or len(dagi) != 17:
        raise SystemExit(f"{source}: expected the 17 municipalities in EPSG:25832")
    simple = shapely.coverage_simplify(dagi.geometry.array, TOLERANCE_M)
    simple = shapely.set_precision(simple, 1.0)
    if not (shapely.is_valid(simple).all() and shapely.coverage_is_valid(simple)):
        raise SystemExit("the simplified outlines are not a valid coverage")
    features = []
    for code, name, geometry in zip(dagi["kommunekode"], dagi["kommunenavn"], simple, strict=True):
        geojson = json.loads(shapely.to_geojson(geometry))
        features.append(
            {
                "type": "Feature",
                "properties": {"code": code, "name": name},
                "geometry": {"type": geojson["type"], "coordinates": _ints(geojson["coordinates"])},
            }
        )
    collection = {
        "type": "FeatureCollection",
        "name": "region_sjaelland_kommuner",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::25832"}},
        "features": features,
    }
    text = json.dumps(collection, ensure_ascii=False, separators=(",", ":"))
    TARGET.write_bytes(gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0))
    vertices = int(shapely.get_num_coordinates(simple).sum())
    print(f"{TARGET.name}: {vertices} vertices, {TARGET.stat().st_size / 1024:.0f} kB")


def _ints(coordinates: object) -> object:
    if isinstance(coordinates, list) and coordinates and isinstance(coordinates[0], float | int):
        return [int(np.rint(c)) for c in coordinates]
    return [_ints(c) for c in coordinates]  # type: ignore[union-attr]


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else SOURCE)

"""A slow, obviously-correct reference classification: one household at a time.

Written independently of coverage_gap's kernels (shapely predicates per point and
polygon, rasterio's own row/column lookup, dictionaries for offers), to check the
vectorised code against on random inputs.
"""

from __future__ import annotations

import math

import numpy as np
import rasterio.transform
import shapely


def reference_classify(households, municipalities, offers, rasters, standard, tolerance_m):
    polygons = list(municipalities.geometry)
    codes = list(municipalities["municipality_code"])
    by_address: dict[str, list[tuple[float, float]]] = {}
    for row in offers.itertuples():
        by_address.setdefault(row.address_id, []).append((row.down_mbps, row.up_mbps))
    out = []
    for row in households.itertuples():
        x, y = row.x, row.y
        if not (math.isfinite(x) and math.isfinite(y)):
            code, status = None, "invalid"
        else:
            point = shapely.Point(x, y)
            code, status = None, "unassigned"
            for poly, c in zip(polygons, codes, strict=True):
                if poly.intersects(point):
                    code, status = c, "inside"
                    break
            if code is None:
                distances = [poly.distance(point) for poly in polygons]
                best = min(distances)
                if best <= tolerance_m:
                    code, status = codes[distances.index(best)], "nearest"
        served = False
        for down, up in by_address.get(row.address_id, []):
            up_ok = (
                standard.fixed_up_mbps is None
                or up >= standard.fixed_up_mbps
                or (math.isnan(up) and standard.missing_upload == "download_only")
            )
            if down >= standard.fixed_down_mbps and up_ok:
                served = True
        signal = -math.inf
        for raster in rasters:
            if not (math.isfinite(x) and math.isfinite(y)):
                continue
            r, c = rasterio.transform.rowcol(raster.transform, x, y, op=math.floor)
            if 0 <= r < raster.values.shape[0] and 0 <= c < raster.values.shape[1]:
                value = float(raster.values[r, c])
                if not math.isnan(value):
                    signal = max(signal, value)
        mobile = signal >= standard.mobile_min_dbm
        out.append((code, status, served, mobile, np.nan if signal == -math.inf else signal))
    return out

"""An older vintage (2025) of the synthetic demo, derived deterministically from the 2026 one.

What changed between the two years is made up, but plausible: fibre rolled out to part
of the addresses that have it in 2026 (far more in the countryside than in towns), some
cable-TV networks were upgraded from 500/20 to 1000/100 Mbit/s, a few cable networks
were closed, new addresses were built (in 2026 only) and a few were demolished (in 2025
only), some blocks of flats changed their number of households, and the operators added
sites (the 2025 signal is 2 dB weaker). The files are written beside the 2026 demo with
``_2025`` in their names, with ``demo_2025.toml`` (a configuration of that year alone,
for ``coverage-gap diff``); ``demo.toml`` gets the 2025 vintage as a ``[[vintage]]``
section and the taskforce's claim as a ``[claim]`` section.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from ..io.raster import write_signal_raster
from .demo import CRS, DEMO_SOURCE, RURALITY, DemoData

YEAR = 2025
SOURCE_2025 = "synthetic demo data, 2025 data (coverage_gap demo generator)"
#: Share of 2026's fibre offers that did not exist in 2025, for rural and town addresses.
ROLLOUT = {"rural": 0.2, "town": 0.02}
#: Share of 2026's cable-TV offers that were 500/20 Mbit/s in 2025.
UPGRADED = 0.15
#: Share of the fibre roll-out's addresses that had no offer mapped at all in 2025.
UNMAPPED = 0.1
#: The taskforce's headline (see DOMAIN.md), checked by the demo's report.
CLAIM = {
    "share": 0.2,
    "tolerance": 0.02,
    "statement": "almost one household in five lacks proper internet",
    "statement_da": "næsten hver femte husstand mangler ordentligt internet",
}
_LAYERS = {
    "households": {"id": "address_id", "households": "households", "municipality": "kommunekode"},
    "fixed": {
        "id": "address_id",
        "download": "down_mbps",
        "upload": "up_mbps",
        "technology": "technology",
    },
}


def make_older_vintage(demo: DemoData, *, seed: int = 2026) -> DemoData:
    """Derive the 2025 vintage from the 2026 demo (the same seed gives the same data).

    Examples
    --------
    >>> from coverage_gap.datasets import make_demo
    >>> new = make_demo(scale=0.01)
    >>> old = make_older_vintage(new)
    >>> bool(len(old.fixed_offers) < len(new.fixed_offers)), sorted(old.rasters)
    (True, ['operator_a', 'operator_b'])
    """
    rng = np.random.default_rng([seed, YEAR])
    households = demo.households
    n = len(households)
    valid = ~households.geometry.isna().to_numpy()
    ids = households["address_id"].to_numpy(object)

    # New buildings: addresses of 2026 that did not exist in 2025.
    n_added = max(3, round(0.004 * n))
    added = rng.choice(np.flatnonzero(valid), size=n_added, replace=False)
    keep = np.ones(n, dtype=bool)
    keep[added] = False
    older = households[keep].copy()
    # Blocks of flats whose number of households changed by one.
    blocks = np.flatnonzero(older["households"].to_numpy() > 1)
    changed = rng.choice(
        blocks, size=min(blocks.size, max(1, round(0.01 * blocks.size))), replace=False
    )
    counts = older["households"].to_numpy().copy()
    counts[changed] += rng.choice([-1, 1], size=changed.size)
    older["households"] = counts

    # Demolished: addresses of 2025 that are gone in 2026, near existing ones.
    n_removed = max(2, round(0.0015 * n))
    near = households[valid].iloc[rng.choice(int(valid.sum()), size=n_removed, replace=False)]
    gone = gpd.GeoDataFrame(
        {
            "address_id": [f"{c}-R{i:06d}" for i, c in enumerate(near["kommunekode"])],
            "households": np.ones(n_removed, dtype=np.int64),
            "kommunekode": near["kommunekode"].to_numpy(),
        },
        geometry=gpd.points_from_xy(
            near.geometry.x + rng.uniform(-60, 60, n_removed),
            near.geometry.y + rng.uniform(-60, 60, n_removed),
            crs=CRS,
        ),
        crs=CRS,
    )
    older = pd.concat([older, gone], ignore_index=True)

    offers = demo.fixed_offers
    rurality = offers["address_id"].str.slice(0, 4).map(RURALITY).to_numpy(np.float64)
    tech = offers["technology"].to_numpy(object)
    u = rng.random(len(offers))
    # Fibre rolled out between 2025 and 2026, mostly in the countryside.
    p_new = ROLLOUT["town"] + (ROLLOUT["rural"] - ROLLOUT["town"]) * rurality
    new_fibre = (tech == "fiber") & (u < p_new)
    # Some of them had no offer mapped at all in 2025 (their xDSL line was not reported).
    fibre_ids = offers.loc[new_fibre, "address_id"].to_numpy(object)
    unmapped = rng.choice(fibre_ids, size=round(UNMAPPED * fibre_ids.size), replace=False)
    address = offers["address_id"].to_numpy(object)
    drop = (
        new_fibre | np.isin(address, ids[added]) | ((tech == "xdsl") & np.isin(address, unmapped))
    )
    # Cable networks upgraded (DOCSIS 3.1) between the two years.
    upgraded = (tech == "cable_tv") & (rng.random(len(offers)) < UPGRADED)
    old_offers = offers.copy()
    old_offers.loc[upgraded, ["down_mbps", "up_mbps"]] = [500.0, 20.0]
    old_offers = old_offers[~drop]
    # Cable networks closed by 2026: a few addresses had cable in 2025 only.
    has_cable = set(offers.loc[tech == "cable_tv", "address_id"])
    candidates = np.array([i for i in ids[keep] if i not in has_cable], dtype=object)
    closed = rng.choice(candidates, size=max(2, round(0.002 * n)), replace=False)
    extra = [
        pd.DataFrame(
            {"address_id": closed, "technology": "cable_tv", "down_mbps": 1000.0, "up_mbps": 100.0}
        ),
        pd.DataFrame(
            {
                "address_id": gone["address_id"],
                "technology": "xdsl",
                "down_mbps": 20.0,
                "up_mbps": 2.0,
            }
        ),
    ]
    old_offers = pd.concat([old_offers, *extra], ignore_index=True)
    order = rng.permutation(len(old_offers))
    old_offers = old_offers.iloc[order].reset_index(drop=True)

    rasters = {}
    for name, (values, transform) in demo.rasters.items():
        weaker = values.copy()
        land = weaker > -9999.0
        weaker[land] -= 2.0  # fewer sites in 2025
        rasters[name] = (weaker, transform)
    return DemoData(demo.municipalities, older, old_offers, rasters)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"cannot write {value!r} to TOML")
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def _table(header: str, values: Mapping[str, Any]) -> str:
    lines = [header]
    lines += [f"{key} = {_value(value)}" for key, value in values.items()]
    return "\n".join(lines) + "\n"


def write_older_vintage(directory: str | Path, demo: DemoData, config: Path, *, seed: int) -> Path:
    """Write the 2025 vintage beside the 2026 demo; return ``demo_2025.toml``.

    Files: ``households_2025.parquet``, ``fixed_offers_2025.csv``,
    ``operator_a_2025.tif``, ``operator_b_2025.tif`` and ``demo_2025.toml`` (the
    configuration of 2025 alone, with the 2026 configuration's area, boundaries and
    standard); ``config`` (``demo.toml``) gets a ``[[vintage]]`` section for 2025 and
    a ``[claim]`` section ("almost one household in five": 0.2 ± 0.02).
    """
    out = Path(directory)
    older = make_older_vintage(demo, seed=seed)
    older.households.to_parquet(out / "households_2025.parquet")
    older.fixed_offers.to_csv(out / "fixed_offers_2025.csv", index=False, lineterminator="\n")
    mobile = []
    for operator, (values, transform) in older.rasters.items():
        path = out / f"{operator}_2025.tif"
        write_signal_raster(path, values, transform, crs=CRS)
        mobile.append({"path": path.name, "name": operator.replace("_", " ").title()})
    current = tomllib.loads(config.read_text(encoding="utf-8"))
    meta = {**current.get("meta", {}), "data_year": YEAR, "source": SOURCE_2025}
    households = {"path": "households_2025.parquet", **_LAYERS["households"]}
    fixed = {"path": "fixed_offers_2025.csv", **_LAYERS["fixed"]}
    parts = [
        "# Synthetic Region Sjælland, 2025 vintage, written by coverage_gap's demo generator.",
        _table("[meta]", meta),
        _table("[households]", households),
        _table("[municipalities]", current["municipalities"]),
        _table("[fixed]", fixed),
        *(_table("[[mobile]]", layer) for layer in mobile),
        _table("[standard]", current["standard"]),
    ]
    older_config = out / "demo_2025.toml"
    older_config.write_text("\n".join(parts), encoding="utf-8")
    assert DEMO_SOURCE in str(current["meta"].get("source", DEMO_SOURCE))
    vintage = [
        "\n# The 2025 vintage, for the claim check and the change 2025 -> 2026.",
        _table("[[vintage]]", {"data_year": YEAR, "source": SOURCE_2025}),
        _table("[vintage.households]", households),
        _table("[[vintage.fixed]]", fixed),
        *(_table("[[vintage.mobile]]", layer) for layer in mobile),
        "# The taskforce's headline, checked under every definition the data allow.",
        _table("[claim]", CLAIM),
    ]
    with open(config, "a", encoding="utf-8") as handle:
        handle.write("\n".join(vintage))
    return older_config

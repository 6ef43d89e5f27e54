"""The whole analysis as one readable composition: read → validate → classify → aggregate."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd

from . import schema as S
from .aggregate import Provenance, reconcile, summarize_gap
from .classify import classify
from .config import LayerSpec, RunConfig
from .demand import project_demand
from .errors import CoverageGapError, InputError, Problem, ProblemLog, ReconciliationError
from .evidence import MatchedOffers, gather_evidence, match_offers
from .io.danish import BbkData
from .layers import SignalRaster
from .validate import validate_households, validate_municipalities, validate_offers

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Results:
    """What a run produces.

    Attributes
    ----------
    households
        Per-household classification (see :func:`coverage_gap.classify_households`).
    municipalities
        Per-municipality table with the region row (see :func:`coverage_gap.summarize_gap`).
    reconciliation
        Addresses and households by assignment status, with the total read.
    boundaries
        The validated municipality polygons.
    problems
        Warnings met on the way (errors stop the run instead).
    provenance
        Standard, denominator, data year and source.
    config
        The configuration that was run.
    timings
        Wall-clock seconds per stage (read, validate, classify, aggregate).
    demand
        Projected demand per municipality, year and scenario, when configured.
    """

    households: pd.DataFrame
    municipalities: pd.DataFrame
    reconciliation: pd.DataFrame
    boundaries: gpd.GeoDataFrame
    problems: tuple[Problem, ...]
    provenance: Provenance
    config: RunConfig
    timings: dict[str, float] = field(default_factory=dict)
    demand: pd.DataFrame | None = None


def _try_read(
    spec: LayerSpec, problems: ProblemLog, *, check_only: bool = False, **extra: object
) -> object | None:
    try:
        return spec.check(**extra) if check_only else spec.read(**extra)
    except InputError as exc:
        problems.extend(exc.problems)
    except CoverageGapError as exc:
        problems.add(Problem(str(spec.path), str(exc)))
    return None


def _bounds(households: pd.DataFrame) -> tuple[float, float, float, float] | None:
    x = pd.to_numeric(households[S.X], errors="coerce").to_numpy(np.float64)
    y = pd.to_numeric(households[S.Y], errors="coerce").to_numpy(np.float64)
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        return None
    return (float(x[ok].min()), float(y[ok].min()), float(x[ok].max()), float(y[ok].max()))


def run(config: RunConfig) -> Results:
    """Run the analysis described by ``config``.

    Every input is read and validated before anything is computed; all problems of all
    inputs are raised together as one :class:`~coverage_gap.errors.InputError`.

    Examples
    --------
    >>> import tempfile
    >>> from coverage_gap.datasets import write_demo_inputs
    >>> from coverage_gap.config import load_config
    >>> config = load_config(write_demo_inputs(tempfile.mkdtemp(), scale=0.01))
    >>> results = run(config)
    >>> results.municipalities.loc["region", "municipality_name"]
    'Region Sjælland'
    """
    problems = ProblemLog()
    crs = config.working_crs
    clock = _Clock()
    boundaries = _try_read(config.municipalities, problems, working_crs=crs)
    clock.lap("read municipalities")
    households = _try_read(config.households, problems, working_crs=crs, municipalities=boundaries)
    clock.lap("read households")
    bbk = households if isinstance(households, BbkData) else None
    if bbk is not None:
        households = bbk.households
        problems.extend(bbk.problems)
    if households is not None:
        households, found = validate_households(households, source=str(config.households.path))
        problems.extend(found)
    if boundaries is not None:
        boundaries, found = validate_municipalities(
            boundaries, source=str(config.municipalities.path)
        )
        problems.extend(found)

    fixed_offers, fixed_areas, mobile_offers, mobile_areas, raster_specs = _read_coverage(
        config, problems
    )
    if bbk is not None:
        # A BBK file is households, fixed offers and mobile offers in one.
        fixed_offers.append((str(config.households.path), bbk.fixed_offers))
        mobile_offers.append((str(config.households.path), bbk.mobile_offers))
    clock.lap("read and validate offers and polygons")
    # Rasters are checked now (CRS, overlap) but read one at a time while classifying.
    bounds = _bounds(households) if households is not None else None
    for spec in raster_specs:
        _try_read(spec, problems, check_only=True, working_crs=crs, bounds=bounds)
    for problem in problems.warnings:
        log.warning("%s", problem)
    problems.raise_if_errors()
    clock.lap("validate")

    def rasters() -> Iterator[SignalRaster]:
        for spec in raster_specs:
            yield spec.read(working_crs=crs, bounds=bounds)

    fixed = _match(fixed_offers, households, problems)
    mobile = _match(mobile_offers, households, problems)
    # The matched arrays replace the offer tables (millions of text ids) from here on.
    del fixed_offers, mobile_offers, bbk
    clock.lap("match offers to households")
    evidence = gather_evidence(
        households,
        boundaries,
        fixed_offers=fixed,
        fixed_areas=_concat(fixed_areas),
        mobile_rasters=rasters(),
        mobile_areas=_concat(mobile_areas),
        mobile_offers=mobile,
        tolerance_m=config.tolerance_m,
    )
    classified = classify(evidence, config.standard)
    del evidence, fixed, mobile
    clock.lap("classify (incl. raster reads)")
    provenance = Provenance(
        config.standard, config.denominator, config.data_year, config.source, config.area_name
    )
    table = summarize_gap(classified, boundaries, provenance)
    reconciliation = reconcile(classified)
    mismatch = declared_mismatch(classified, source=str(config.households.path))
    if mismatch is not None:
        log.warning("%s", mismatch)
        problems.add(mismatch)
    assigned = reconciliation.loc[["inside", "nearest"], "households"].sum()
    if assigned != table.loc[S.REGION_CODE, "households"]:
        raise ReconciliationError(
            f"region row counts {table.loc[S.REGION_CODE, 'households']} households, "
            f"the reconciliation {assigned}"
        )
    clock.lap("aggregate and reconcile")
    demand = None
    if config.demand is not None:
        demand = _project(table, boundaries, config)
        clock.lap("project demand")
    return Results(
        classified,
        table,
        reconciliation,
        boundaries,
        tuple(problems.warnings),
        provenance,
        config,
        clock.laps,
        demand,
    )


def _project(table: pd.DataFrame, boundaries: gpd.GeoDataFrame, config: RunConfig) -> pd.DataFrame:
    spec = config.demand
    assert spec is not None
    area = boundaries.set_index(S.MUNICIPALITY_CODE).geometry.area / 1e6
    baseline = table[["households"]].copy()
    baseline["area_km2"] = area.reindex(baseline.index)
    baseline.loc[S.REGION_CODE, "area_km2"] = float(area.sum())
    projection = project_demand(
        baseline,
        base_year=spec.base_year,
        horizon=spec.horizon,
        scenarios=spec.scenarios,
        gb_per_unit_month=spec.gb_per_unit_month,
        busy_hour=spec.busy_hour,
    )
    projection["gb_per_unit_month_base"] = spec.gb_per_unit_month
    projection["denominator"] = config.denominator
    projection["source"] = config.source
    return projection


def declared_mismatch(classified: pd.DataFrame, *, source: str) -> Problem | None:
    """Warn about addresses that lie in another municipality than their declared code.

    Generalised boundaries put a few addresses across a border; the spatial assignment
    counts, and this says how many and which.

    Examples
    --------
    >>> c = pd.DataFrame({"address_id": ["a", "b", "c"],
    ...                   "municipality_code": pd.Categorical(["0265", "0269", None]),
    ...                   "declared_municipality_code": ["0265", "0265", "0265"]})
    >>> p = declared_mismatch(c, source="dar.csv")
    >>> p.count, p.rows
    (1, ('b',))
    """
    if S.DECLARED_MUNICIPALITY not in classified:
        return None
    assigned = classified[S.MUNICIPALITY_CODE].astype(object)
    declared = classified[S.DECLARED_MUNICIPALITY].astype(object)
    differs = (assigned.notna() & declared.notna() & (assigned != declared)).to_numpy(bool)
    if not differs.any():
        return None
    return Problem(
        source,
        "addresses lie in another municipality than their declared code; counted where they lie",
        column=S.DECLARED_MUNICIPALITY,
        rows=tuple(classified[S.ADDRESS_ID].to_numpy(object)[differs][:5]),
        count=int(differs.sum()),
        severity="warning",
        fix="usually a generalised boundary; check the addresses if there are many",
    )


class _Clock:
    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = self.laps.get(name, 0.0) + now - self._last
        self._last = now
        log.info("%s: %.2f s", name, self.laps[name])


def _read_coverage(config: RunConfig, problems: ProblemLog) -> tuple[list, list, list, list, list]:
    """Read and validate the fixed and mobile layers; rasters are only listed."""
    fixed_offers: list[tuple[str, pd.DataFrame]] = []
    mobile_offers: list[tuple[str, pd.DataFrame]] = []
    fixed_areas: list[gpd.GeoDataFrame] = []
    mobile_areas: list[gpd.GeoDataFrame] = []
    raster_specs: list[LayerSpec] = []
    for group, offers, areas in (
        (config.fixed, fixed_offers, fixed_areas),
        (config.mobile, mobile_offers, mobile_areas),
    ):
        for spec in group:
            if spec.kind == "raster":
                raster_specs.append(spec)
                continue
            layer = _try_read(spec, problems, working_crs=config.working_crs)
            if layer is None:
                continue
            if spec.kind == "table":
                layer, found = validate_offers(layer, source=str(spec.path))
                problems.extend(found)
                offers.append((str(spec.path), layer))
            else:
                areas.append(layer)
    return fixed_offers, fixed_areas, mobile_offers, mobile_areas, raster_specs


def _match(
    tables: list[tuple[str, pd.DataFrame]], households: pd.DataFrame, problems: ProblemLog
) -> MatchedOffers | None:
    """Match each offer table to the households, warning about rows that match none."""
    parts = []
    for source, table in tables:
        matched = match_offers(table, households)
        problem = matched.problem(source)
        if problem is not None:
            log.warning("%s", problem)
            problems.add(problem)
        parts.append(matched)
    return MatchedOffers.concat(parts)


def _concat(frames: list[gpd.GeoDataFrame]) -> gpd.GeoDataFrame | None:
    """One layer of several coverage-polygon layers (all in the working CRS)."""
    if not frames:
        return None
    if len(frames) == 1:
        return frames[0]
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=frames[0].crs)

"""The whole analysis as one readable composition: read → validate → classify → aggregate."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd

from . import schema as S
from .aggregate import Provenance, reconcile, summarize_gap
from .assign import (
    MunicipalityIndex,
    assign_municipalities,
    check_counted,
    check_located,
    selected_municipalities,
)
from .classify import classify
from .config import LayerSpec, RunConfig
from .demand import project_demand
from .errors import (
    ConfigError,
    CoverageGapError,
    InputError,
    OfferMatchError,
    Problem,
    ProblemLog,
    ReconciliationError,
)
from .evidence import Evidence, MatchedOffers, OfferMatch, gather_evidence, match_offers
from .io.raster import check_signal_raster, sample_signal_raster
from .io.registry import LayerData, read_layer
from .io.vector import read_areas, read_households, read_points
from .layers import SampledSignal, check_metric_crs, household_xy
from .validate import validate_households, validate_municipalities, validate_offers

if TYPE_CHECKING:  # imported where used: they load scipy
    from .danish.pool import PoolResult
    from .siting import SitingResult

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
    offer_matches
        How each offer table met the households (see
        :class:`~coverage_gap.evidence.OfferMatch`), by ``"fixed"`` / ``"mobile"``.
    areas
        ``(file stem, table)`` per ``[[areas]]`` section (see
        :func:`coverage_gap.areas.summarize_areas`).
    pool
        The broadband pool assessment, with a ``[pool]`` section.
    sites
        The chosen mast sites, with a ``[siting]`` section.
    evidence
        The gathered evidence (:class:`~coverage_gap.evidence.Evidence`), kept when
        ``run(..., keep_evidence=True)``: judging it under other standards costs no
        reading or joining (the claim check, :mod:`coverage_gap.claims`).
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
    offer_matches: tuple[tuple[str, OfferMatch], ...] = ()
    areas: tuple[tuple[str, pd.DataFrame], ...] = ()
    pool: PoolResult | None = None
    sites: SitingResult | None = None
    evidence: Evidence | None = None

    @property
    def coverage(self) -> tuple[int, int]:
        """(municipalities with households, municipalities reported)."""
        region = self.municipalities.loc[S.REGION_CODE]
        return int(region["municipalities_with_data"]), int(region["municipalities"])

    def checks(self) -> dict[str, object]:
        """Return what the guards measured, for the manifest and the summary.

        The share of addresses each offer table matched, how many municipalities have
        data, and how many households the missing-upload rule decides.
        """
        with_data, total = self.coverage
        region = self.municipalities.loc[S.REGION_CODE]
        decides = region["missing_upload_households"]
        return {
            "offer_matches": [
                {"layer": what, **match.to_dict()} for what, match in self.offer_matches
            ],
            "municipalities": total,
            "municipalities_with_data": with_data,
            "missing_upload_households": None if pd.isna(decides) else int(decides),
            "missing_upload_rule": self.provenance.standard.missing_upload,
            "limits": asdict(self.config.checks),
        }


def _read(spec: LayerSpec, problems: ProblemLog, **extra: object) -> LayerData | None:
    """Read a layer; its problems go to the log (so that all inputs report at once)."""
    try:
        data = read_layer(spec.path, spec.kind, spec.options, section=spec.section, **extra)
    except InputError as exc:
        problems.extend(exc.problems)
        return None
    except CoverageGapError as exc:
        problems.add(Problem(str(spec.path), str(exc)))
        return None
    problems.extend(data.problems)
    return data


def run(config: RunConfig, *, progress: bool = False, keep_evidence: bool = False) -> Results:
    """Run the analysis described by ``config``.

    ``progress`` shows a bar while long files (a national BBK file) are read, when
    stderr is a terminal. ``keep_evidence`` keeps the gathered evidence in
    :attr:`Results.evidence` (to judge it under other standards without reading again).

    Every input is read and validated before anything is computed; all problems of all
    inputs are raised together as one :class:`~coverage_gap.errors.InputError`. Then:
    where the addresses lie (refused when too few lie in any municipality), the offers
    joined to them (refused when a table matches too few), the signal at each of them,
    the classification, the tables, and the guards' findings (partial coverage,
    missing-upload sensitivity) in :attr:`Results.problems`.

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
    if config.engine.kind != "memory":
        raise ConfigError(
            f'[engine] kind = "{config.engine.kind}": run it with '
            "coverage_gap.engine.dask.run_dask (coverage-gap run CONFIG --engine dask)"
        )
    problems = ProblemLog()
    crs = config.working_crs
    check_metric_crs(crs, source="[meta] working_crs")
    clock = _Clock()
    source = str(config.households.path)
    municipal = _read(config.municipalities, problems, working_crs=crs)
    boundaries = municipal.municipalities if municipal is not None else None
    clock.lap("read municipalities")
    # The pool judges zone and town size: household columns that readers keep only on request.
    pool_columns = (
        tuple(c for c in (config.pool.zone_column, config.pool.town_population_column) if c)
        if config.pool is not None
        else ()
    )
    read = _read(
        config.households,
        problems,
        working_crs=crs,
        municipalities=boundaries,
        progress=progress,
        keep=pool_columns,
    )
    households = read.households if read is not None else None
    clock.lap("read households")
    if households is not None:
        households, found = validate_households(households, source=source)
        problems.extend(found)
        households = _counted_by(households, config.denominator, problems, source=source)
    if boundaries is not None:
        boundaries, found = validate_municipalities(
            boundaries, source=str(config.municipalities.path)
        )
        problems.extend(found)
    # Where the addresses lie is checked before anything else is compared with them:
    # swapped axes or a wrong CRS would otherwise surface as a raster "overlapping no
    # household" or as a silent "0 of 0".
    index = assignment = None
    if households is not None and boundaries is not None and not problems.errors:
        index = MunicipalityIndex.build(boundaries)
        assignment = assign_municipalities(households, index, tolerance_m=config.tolerance_m)
        check_located(
            households,
            assignment,
            index,
            min_share=config.checks.min_assigned_share,
            source=source,
        )
        check_counted(assignment, index, source=source)
    clock.lap("assign municipalities")

    offers: dict[str, list[tuple[str, pd.DataFrame, float]]] = {"fixed": [], "mobile": []}
    areas: dict[str, list[gpd.GeoDataFrame]] = {"fixed": [], "mobile": []}
    if read is not None and read.fixed_offers is not None:
        # A BBK file is households and offers in one: its offers carry its own ids, so
        # no match share is demanded of them.
        offers["fixed"].append((source, read.fixed_offers, 0.0))
        offers["mobile"].append((source, read.mobile_offers, 0.0))
    del read
    raster_specs = [spec for spec in config.mobile if spec.kind == "raster"]
    _read_offer_layers(config, problems, offers, areas)
    clock.lap("read and validate offers and polygons")
    for spec in raster_specs:
        try:
            check_signal_raster(spec.path, **spec.options, working_crs=crs)
        except InputError as exc:
            problems.extend(exc.problems)
    _raise(problems)
    assert households is not None and boundaries is not None and index is not None
    assert assignment is not None  # set with index: both come from the municipalities
    clock.lap("validate")

    counted = assignment[S.ASSIGNMENT].isin(S.COUNTED).to_numpy()
    fixed = _match(offers["fixed"], households, problems, counted)
    mobile = _match(offers["mobile"], households, problems, counted)
    # The matched arrays replace the offer tables (millions of text ids) from here on.
    del offers
    clock.lap("match offers to households")
    x, y = household_xy(households)
    cells: dict[tuple[object, ...], np.ndarray] = {}  # the cell of each household, per grid

    def signals() -> Iterator[SampledSignal]:
        # One raster at a time, reading only what the households need.
        for spec in raster_specs:
            yield sample_signal_raster(
                spec.path, x, y, **spec.options, working_crs=crs, cells_cache=cells
            )

    evidence = gather_evidence(
        households,
        index,
        fixed_offers=fixed,
        fixed_areas=_concat(areas["fixed"]),
        mobile_rasters=signals(),
        mobile_areas=_concat(areas["mobile"]),
        mobile_offers=mobile,
        tolerance_m=config.tolerance_m,
        assignment=assignment,
    )
    classified = classify(evidence, config.standard)
    _report(problems, evidence.problems)
    offer_matches = tuple(
        (what, match) for what, matches in evidence.offer_matches.items() for match in matches
    )
    cells.clear()
    clock.lap("classify (incl. raster reads)")
    provenance = Provenance(
        config.standard, config.denominator, config.data_year, config.source, config.area_name
    )
    pool = None
    if config.pool is not None:
        from .danish.pool import assess_pool

        pool = assess_pool(evidence, boundaries, provenance, config.pool)
        _report(problems, pool.problems)
        clock.lap("broadband pool")
    kept = evidence if keep_evidence else None
    # The matched offers and raster samples are not needed beyond this point.
    del evidence, fixed, mobile
    table = summarize_gap(classified, boundaries, provenance)
    reconciliation = reconcile(classified)
    findings = (
        partial_coverage(table, source=source, unit=config.denominator),
        declared_mismatch(classified, source=source),
    )
    _report(problems, [f for f in findings if f is not None])
    check_totals(
        table,
        reconciliation,
        config.denominator,
        source=source,
        column=households.attrs.get("households_column"),
    )
    clock.lap("aggregate and reconcile")
    area_tables = _areas(config, classified, provenance, problems)
    sites = _sites(config, classified, provenance, problems)
    if area_tables or sites is not None:
        clock.lap("areas and siting")
    reported = selected_municipalities(boundaries).reset_index(drop=True)
    demand = None
    if config.demand is not None:
        demand = _project(table, reported, config)
        clock.lap("project demand")
    return Results(
        classified,
        table,
        reconciliation,
        reported,
        tuple(problems.warnings),
        provenance,
        config,
        clock.laps,
        demand,
        offer_matches,
        area_tables,
        pool,
        sites,
        kept,
    )


def _areas(
    config: RunConfig, classified: pd.DataFrame, provenance: Provenance, problems: ProblemLog
) -> tuple[tuple[str, pd.DataFrame], ...]:
    """Tabulate the ``[[areas]]`` sections: DDKN cells or polygon layers."""
    from .areas import summarize_areas

    out = []
    for section in config.areas:
        layer = None
        if section.path is not None:
            layer = read_areas(
                section.path,
                code=section.spec.code,
                name=section.spec.name,
                layer=section.layer,
                working_crs=config.working_crs,
            )
            _report(problems, layer.attrs.pop("problems", ()))
        table = summarize_areas(classified, provenance, section.spec, areas=layer)
        _report(problems, table.attrs.get("problems", ()))
        out.append((section.file_stem, table))
    return tuple(out)


def _sites(
    config: RunConfig, classified: pd.DataFrame, provenance: Provenance, problems: ProblemLog
) -> SitingResult | None:
    """Choose the mast sites of the ``[siting]`` section."""
    siting = config.siting
    if siting is None:
        return None
    from .siting import choose_sites

    def points(path: Path | None) -> pd.DataFrame | None:
        if path is None:
            return None
        if siting.site_id is None:
            return read_points(path, working_crs=config.working_crs)
        table = read_households(path, id=siting.site_id, working_crs=config.working_crs)
        return table.rename(columns={S.ADDRESS_ID: "site_id"})

    result = choose_sites(
        classified,
        provenance,
        siting.spec,
        candidates=points(siting.candidates),
        existing=points(siting.existing),
    )
    _report(problems, result.problems)
    return result


def _counted_by(
    households: pd.DataFrame, denominator: str, problems: ProblemLog, *, source: str
) -> pd.DataFrame:
    """Make the household counts mean what the denominator says.

    ``"addresses"`` counts every address once, whatever counts the file carries;
    ``"households"`` and ``"dwellings"`` need a count per address from the file (else
    every address would silently count as one dwelling).
    """
    column = households.attrs.get("households_column")
    if denominator == "addresses":
        if column is not None:
            log.info("denominator addresses: the counts of %r are not used", column)
            counted = households.copy()
            counted.attrs = dict(households.attrs)
            counted[S.HOUSEHOLDS] = np.ones(len(households), dtype=np.int64)
            counted.attrs["households_column"] = None
            return counted
        return households
    if column is None:
        problems.add(
            Problem(
                source,
                f"the denominator is {denominator}, but the household layer gives no count of "
                f"{denominator} per address, so every address would count as one",
                fix='name the column with the counts (households = "..."), give a unit-address '
                'or BBR file (units = / dwellings =), or set denominator = "addresses"',
            )
        )
    return households


def _read_offer_layers(
    config: RunConfig,
    problems: ProblemLog,
    offers: dict[str, list[tuple[str, pd.DataFrame, float]]],
    areas: dict[str, list[gpd.GeoDataFrame]],
) -> None:
    """Read and validate the offer tables and coverage polygons into ``offers``/``areas``.

    A function of its own so that nothing but ``offers`` keeps the tables (millions of
    text ids) alive: the run drops them once they are matched to the households.
    """
    for spec in (*config.fixed, *config.mobile):
        if spec.kind == "raster":
            continue
        data = _read(spec, problems, working_crs=config.working_crs)
        if data is None:
            continue
        for what, table in (("fixed", data.fixed_offers), ("mobile", data.mobile_offers)):
            if table is not None:
                table, found = validate_offers(table, source=str(spec.path), what=what)
                problems.extend(found)
                offers[what].append((str(spec.path), table, config.checks.min_offer_match_share))
        if data.areas is not None:
            areas[spec.section].append(data.areas)


def check_totals(
    table: pd.DataFrame,
    reconciliation: pd.DataFrame,
    denominator: str,
    *,
    source: str,
    column: str | None = None,
) -> None:
    """Check that the region row and the reconciliation agree, and that something counts.

    Raises
    ------
    ReconciliationError
        When the region row and the counted rows of the reconciliation differ.
    InputError
        When addresses are counted but their household counts add up to 0 (every share
        would be 0 of 0).

    Examples
    --------
    >>> rec = pd.DataFrame({"addresses": [2, 0], "households": [0, 0]},
    ...                    index=["inside", "nearest"])
    >>> table = pd.DataFrame({"households": [0]}, index=["region"])
    >>> check_totals(table, rec, "households", source="h.csv")
    Traceback (most recent call last):
    ...
    coverage_gap.errors.InputError: 1 problem in the input:
      - h.csv, column 'households': no households are counted: the 2 addresses ...
    """
    assigned = reconciliation.loc[list(S.COUNTED), "households"].sum()
    if assigned != table.loc[S.REGION_CODE, "households"]:
        raise ReconciliationError(
            f"region row counts {table.loc[S.REGION_CODE, 'households']} households, "
            f"the reconciliation {assigned}"
        )
    counted = reconciliation.loc[list(S.COUNTED)]
    if counted["households"].sum() > 0 or counted["addresses"].sum() == 0:
        return
    raise InputError(
        Problem(
            source,
            f"no {denominator} are counted: the {int(counted['addresses'].sum()):,} addresses "
            "in the reported municipalities all have a count of 0, so every share would be "
            "0 of 0",
            column=str(column or S.HOUSEHOLDS),
            fix="check the count column (households = ...) and the unit or BBR file it comes "
            'from; to count addresses, set denominator = "addresses"',
        )
    )


def _report(problems: ProblemLog, found: Iterable[Problem]) -> None:
    """Add problems found after validation, logging the warnings as they come.

    Validation's warnings are logged by :func:`_raise`; these (offer gaps, addresses
    outside a raster, the pool's and siting's notes) must reach the terminal too, not
    only the manifest.
    """
    for problem in found:
        if problem.severity == "warning":
            log.warning("%s", problem)
        problems.add(problem)


def _raise(problems: ProblemLog) -> None:
    for problem in problems.warnings:
        log.warning("%s", problem)
    problems.raise_if_errors()


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


def partial_coverage(
    table: pd.DataFrame, *, source: str, unit: str = "households"
) -> Problem | None:
    """Warn when some reported municipalities have no households at all.

    The region row then covers only part of the area; the table keeps those
    municipalities (share ``NaN``, never 0 %) and says how many have data.

    Examples
    --------
    >>> t = pd.DataFrame({"municipality_name": ["A", "B", "Region"],
    ...                   "households": [5, 0, 5], "municipalities": [1, 1, 2],
    ...                   "municipalities_with_data": [1, 0, 1]},
    ...                  index=["0001", "0002", "region"])
    >>> print(partial_coverage(t, source="h.csv").message)
    only 1 of 2 municipalities have households in the data (without data: B)
    """
    region = table.loc[S.REGION_CODE]
    with_data, total = int(region["municipalities_with_data"]), int(region["municipalities"])
    if with_data == total:
        return None
    empty = table.drop(index=S.REGION_CODE)
    names = empty.loc[empty["households"] == 0, S.MUNICIPALITY_NAME].astype(str).tolist()
    shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
    return Problem(
        source,
        f"only {with_data} of {total} municipalities have {unit} in the data (without data: "
        f"{shown})",
        severity="warning",
        fix="the region row covers only the municipalities with data: expected for a sample; "
        "for a regional figure use addresses for the whole region",
    )


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


def _match(
    tables: list[tuple[str, pd.DataFrame, float]],
    households: pd.DataFrame,
    problems: ProblemLog,
    counted: np.ndarray,
) -> MatchedOffers | None:
    """Match each offer table to the households, warning about rows that match none.

    A table that matches too few addresses stops the run (its ids are not the
    households'); every table is matched first, so that all such problems are reported
    together.
    """
    parts = []
    refused = ProblemLog()
    for source, table, min_share in tables:
        try:
            matched = match_offers(
                table, households, min_match_share=min_share, source=source, counted=counted
            )
        except InputError as exc:
            refused.extend(exc.problems)
            continue
        for problem in matched.problems():
            log.warning("%s", problem)
            problems.add(problem)
        parts.append(matched)
    if refused.errors:
        raise OfferMatchError(refused.errors)
    return MatchedOffers.concat(parts)


def _concat(frames: list[gpd.GeoDataFrame]) -> gpd.GeoDataFrame | None:
    """One layer of several coverage-polygon layers (all in the working CRS)."""
    if not frames:
        return None
    if len(frames) == 1:
        return frames[0]
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=frames[0].crs)

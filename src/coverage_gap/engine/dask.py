"""The analysis on a dask cluster, for inputs larger than one machine's memory.

``coverage-gap run CONFIG --engine dask`` (or ``[engine] kind = "dask"``) reads households
and offers as partitioned files (a folder of Parquet, GeoParquet or CSV files, or a
glob), runs the work of :mod:`coverage_gap.engine.partitions` on a dask cluster (a local
one by default, or ``--scheduler ADDRESS``) and writes the same outputs as the in-memory
run: ``municipalities.csv`` and ``reconciliation.csv`` are byte-identical to it,
``households.parquet`` is a folder of one file per household partition.

How it runs, in three passes over the data:

1. every household partition is read, validated and located (the shared
   :class:`~coverage_gap.assign.MunicipalityIndex`), every offer file read and
   validated; both hand their ids to hash buckets in a scratch folder;
2. every bucket finds its duplicate household ids and matches its offers to its
   households (:func:`~coverage_gap.evidence.match_offers`); the guards of the in-memory
   run are then judged on the sums over all partitions and buckets, in the same order;
3. every household partition gathers its evidence with its matched offers and the
   rasters read under its own points, classifies it, counts it per municipality and
   writes its part of ``households.parquet``; the counts, whole numbers, are added up.

dask is imported only here, and only when a run asks for it
(``pip install coverage_gap[dask]``).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import schema as S
from ..aggregate import GAP_COUNTS, Provenance, summarize_counts
from ..assign import MunicipalityIndex, check_located_count, selected_municipalities
from ..config import EngineConfig, LayerSpec, RunConfig
from ..errors import (
    ConfigError,
    InputError,
    OfferMatchError,
    Problem,
    ProblemLog,
    ReconciliationError,
)
from ..evidence import OfferMatch, best_signal, offer_gaps_from_counts
from ..io.raster import check_signal_raster
from ..layers import SampledSignal, check_metric_crs

# The in-memory run's helpers: the same reading, timing and projection on both engines.
from ..pipeline import (
    Results,
    _Clock,
    _project,
    _read,
    _report,
    check_totals,
    partial_coverage,
)
from ..validate import (
    duplicate_ids,
    empty_households,
    empty_offers,
    no_download,
    no_usable_points,
    validate_municipalities,
)
from .partitions import (
    SHOWN,
    BucketMatch,
    Exchange,
    HouseholdScan,
    OfferScan,
    PartResult,
    classify_part,
    match_bucket,
    partition_files,
    scan_households,
    scan_offers,
)

log = logging.getLogger(__name__)

#: Household kinds the engine reads per partition (the others join several files).
PARTITIONED_HOUSEHOLDS = ("households", "dawa")


@dataclass(frozen=True)
class PartitionedResults(Results):
    """What a partitioned run produces: :class:`~coverage_gap.pipeline.Results`, and more.

    ``households`` holds no rows here (only the columns): the per-household result is
    in the files of ``household_parts``, one per household partition, in partition
    order (empty partitions have none).

    Attributes
    ----------
    household_parts
        ``(file name, SHA-256)`` of each file written into the ``households_out`` folder.
    partitions
        The files read per partitioned layer: ``(section, path as configured, files)``.
    engine
        How the run was spread: scheduler, workers, partitions, buckets.
    """

    household_parts: tuple[tuple[str, str], ...] = ()
    partitions: tuple[tuple[str, str, tuple[Path, ...]], ...] = ()
    engine: dict[str, Any] = field(default_factory=dict)


#: Sections that need every household in one place: left out of a partitioned run.
IN_MEMORY_SECTIONS = ("areas", "pool", "siting")


def _in_memory_only(config: RunConfig) -> tuple[RunConfig, list[str], Problem | None]:
    """Return the configuration without the where-to-act sections, their names and a warning.

    The demo's configuration (and a region's) carries them; the partitioned run computes
    the municipality table and says, in its warnings and manifest, what it left out.
    """
    skipped = [name for name in IN_MEMORY_SECTIONS if getattr(config, name)]
    if not skipped:
        return config, [], None
    warning = Problem(
        ", ".join(f"[{name}]" for name in skipped),
        "not computed by the dask engine (where to act needs every household in one "
        "process): its tables and maps are not written",
        severity="warning",
        fix='run the configuration with [engine] kind = "memory" (coverage-gap run without '
        "--engine dask) for them",
    )
    return replace(config, areas=(), pool=None, siting=None), skipped, warning


def _unsupported(config: RunConfig) -> None:
    """Refuse what the partitioned run cannot do yet, naming section and key."""
    if config.households.kind not in PARTITIONED_HOUSEHOLDS:
        raise ConfigError(
            f'[households] kind = "{config.households.kind}" cannot be read in partitions; '
            f'with [engine] kind = "dask" use one of {list(PARTITIONED_HOUSEHOLDS)}'
        )
    if config.households.options.get("units") is not None:
        raise ConfigError(
            "[households] units joins another file to every partition: give the dwelling "
            'count as a column (households = "...") with [engine] kind = "dask"'
        )
    for spec in (*config.fixed, *config.mobile):
        if spec.kind not in ("table", "polygons", "raster"):
            raise ConfigError(
                f'[{spec.section}] kind = "{spec.kind}" cannot be read in partitions; with '
                '[engine] kind = "dask" offers are tables (kind = "table"), polygons or rasters'
            )


@contextlib.contextmanager
def cluster(engine: EngineConfig, client: Any = None) -> Iterator[Any]:
    """Yield a dask client: the one given, a running scheduler's, or a local cluster's.

    The local cluster has ``engine.workers`` worker processes (one per core by default)
    of ``engine.threads_per_worker`` threads and ``engine.memory_limit`` each; it is
    closed on leaving.
    """
    if client is not None:
        yield client
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ConfigError(
            '[engine] kind = "dask" needs dask: pip install "coverage_gap[dask]"'
        ) from None
    if engine.scheduler is not None:
        try:
            own = Client(engine.scheduler, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise ConfigError(
                f"[engine] scheduler: cannot reach the dask scheduler at {engine.scheduler!r} "
                f"({exc})"
            ) from None
        with own:
            yield own
        return
    with (
        LocalCluster(
            n_workers=engine.workers or os.cpu_count() or 1,
            threads_per_worker=engine.threads_per_worker,
            memory_limit=engine.memory_limit or "auto",
            processes=True,
            # None does not switch the dashboard off (dask/distributed#8136); a free
            # port keeps two runs on one machine from warning about 8787.
            dashboard_address=":0",
        ) as local,
        Client(local) as own,
    ):
        yield own


def run_dask(
    config: RunConfig,
    *,
    households_out: Path | None = None,
    client: Any = None,
) -> PartitionedResults:
    """Run the analysis of ``config`` on a dask cluster, partition by partition.

    Parameters
    ----------
    config
        The run; ``[engine]`` says where (a local cluster by default). Households and
        offer tables may be folders of files or globs (one partition per file).
    households_out
        Folder for the per-household result, one GeoParquet file per household
        partition (``part-00000.parquet``, ...); not written when None. Every worker
        must be able to write there.
    client
        A ``distributed.Client`` to use instead of starting a cluster.

    Returns
    -------
    PartitionedResults
        The municipality table and the reconciliation are those of the in-memory run
        on the same households, offers and rasters (equal to the last bit); the
        warnings name the partition files.

    Raises
    ------
    InputError, OfferMatchError, AssignmentError, RasterError, ConfigError
        As the in-memory run, judged on the whole input, in the same order.
    """
    config, left_out, skipped = _in_memory_only(config)
    _unsupported(config)
    engine = config.engine
    crs = config.working_crs
    check_metric_crs(crs, source="[meta] working_crs")
    clock = _Clock()
    problems = ProblemLog()
    if skipped is not None:
        problems.add(skipped)
    household_files = partition_files(config.households.path)
    tables = [s for s in (*config.fixed, *config.mobile) if s.kind == "table"]
    table_files = [partition_files(s.path) for s in tables]
    municipal = _read(config.municipalities, problems, working_crs=crs)
    boundaries = municipal.municipalities if municipal is not None else None
    municipal_problems: list[Problem] = []
    if boundaries is not None:
        boundaries, municipal_problems = validate_municipalities(
            boundaries, source=str(config.municipalities.path)
        )
    index = None
    if boundaries is not None and not any(p.severity == "error" for p in municipal_problems):
        index = MunicipalityIndex.build(boundaries)
    clock.lap("read municipalities")
    buckets = engine.buckets or max(len(household_files), 1)
    scratch_parent = engine.scratch
    if scratch_parent is not None:
        scratch_parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="coverage_gap-exchange-", dir=scratch_parent))
    exchange = Exchange(scratch, buckets)
    try:
        with cluster(engine, client) as dask_client:
            workers = len(dask_client.scheduler_info().get("workers", {}))
            result = _run(
                config,
                dask_client,
                exchange=exchange,
                problems=problems,
                municipal_problems=municipal_problems,
                boundaries=boundaries,
                index=index,
                household_files=household_files,
                tables=tables,
                table_files=table_files,
                households_out=households_out,
                clock=clock,
            )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    info = {
        "kind": "dask",
        "scheduler": engine.scheduler or "local cluster",
        "workers": workers,
        "household_partitions": len(household_files),
        "offer_files": [len(files) for files in table_files],
        "buckets": buckets,
        "sections_left_out": left_out,
    }
    return PartitionedResults(**{**result, "engine": info})


def _run(
    config: RunConfig,
    client: Any,
    *,
    exchange: Exchange,
    problems: ProblemLog,
    municipal_problems: list[Problem],
    boundaries: gpd.GeoDataFrame | None,
    index: MunicipalityIndex | None,
    household_files: list[Path],
    tables: list[LayerSpec],
    table_files: list[list[Path]],
    households_out: Path | None,
    clock: _Clock,
) -> dict[str, Any]:
    crs = config.working_crs
    source = str(config.households.path)
    shared_index = client.scatter(index, broadcast=True) if index is not None else None
    household_scans = client.map(
        scan_households,
        range(len(household_files)),
        household_files,
        spec=config.households,
        working_crs=crs,
        index=shared_index,
        tolerance_m=config.tolerance_m,
        exchange=exchange,
        pure=False,
    )
    offer_scans = [
        client.submit(scan_offers, t, q, path, spec, working_crs=crs, exchange=exchange, pure=False)
        for t, (spec, files) in enumerate(zip(tables, table_files, strict=True))
        for q, path in enumerate(files)
    ]
    scans: list[HouseholdScan] = client.gather(household_scans)
    offer_found: list[OfferScan] = client.gather(offer_scans)
    clock.lap("read, validate and locate partitions")

    # --- the guards, judged on the whole input in the in-memory order -------------------
    for scan in scans:
        problems.extend(scan.problems)
    rows = sum(s.rows for s in scans)
    readable = all(s.readable for s in scans)
    if readable and rows == 0:
        problems.add(empty_households(source))
    elif readable and sum(s.points for s in scans) == 0:
        problems.add(no_usable_points(source))
    by_table = [[s for s in offer_found if s.table == t] for t in range(len(tables))]
    matches: list[BucketMatch] = []
    if readable and rows:
        numeric = all(s.all_digits for s in scans)
        plan = [
            (t, spec.section, numeric and all(s.all_digits for s in by_table[t]))
            for t, spec in enumerate(tables)
        ]
        matches = client.gather(
            client.map(
                match_bucket, range(exchange.buckets), exchange=exchange, tables=plan, pure=False
            )
        )
        duplicates = sum(m.duplicate_rows for m in matches)
        if duplicates:
            first = sorted({i for m in matches for i in m.duplicate_ids})[:SHOWN]
            id_column = next((s.id_column for s in scans if s.id_column), None)
            problems.add(duplicate_ids(duplicates, first, source=source, column=id_column))
        clock.lap("duplicate ids and offer matching (buckets)")
    problems.extend(municipal_problems)
    if index is not None and readable and rows and not problems.errors:
        sample_x = np.concatenate([s.sample_x for s in scans])
        sample_y = np.concatenate([s.sample_y for s in scans])
        check_located_count(
            sum(s.located or 0 for s in scans),
            rows,
            sample_x,
            sample_y,
            index,
            min_share=config.checks.min_assigned_share,
            source=source,
        )
    areas: dict[str, list[gpd.GeoDataFrame]] = {"fixed": [], "mobile": []}
    for spec in (*config.fixed, *config.mobile):
        if spec.kind == "table":
            t = tables.index(spec)
            found = by_table[t]
            for offer_scan in found:
                problems.extend(offer_scan.problems)
            if all(s.readable for s in found):
                if sum(s.rows for s in found) == 0:
                    problems.add(empty_offers(str(spec.path), spec.section))
                elif not any(s.has_download for s in found):
                    problems.add(no_download(str(spec.path)))
        elif spec.kind == "polygons":
            data = _read(spec, problems, working_crs=crs)
            if data is not None and data.areas is not None:
                areas[spec.section].append(data.areas)
    rasters = [s for s in config.mobile if s.kind == "raster"]
    for spec in rasters:
        try:
            check_signal_raster(spec.path, **spec.options, working_crs=crs)
        except InputError as exc:
            problems.extend(exc.problems)
    for problem in problems.warnings:
        log.warning("%s", problem)
    problems.raise_if_errors()
    assert boundaries is not None and index is not None and shared_index is not None
    household_id = next((s.id_column for s in scans if s.id_column), None)
    first_ids = tuple(i for s in scans for i in s.first_ids)[:SHOWN]
    offer_matches: list[tuple[str, OfferMatch]] = []
    refused = ProblemLog()
    for t, spec in enumerate(tables):
        match = _offer_match(t, spec, by_table[t], matches, rows, household_id, first_ids)
        try:
            match.check(config.checks.min_offer_match_share)
        except InputError as exc:
            refused.extend(exc.problems)
            continue
        for problem in match.problems():
            log.warning("%s", problem)
            problems.add(problem)
        offer_matches.append((spec.section, match))
    if refused.errors:
        raise OfferMatchError(refused.errors)
    # The in-memory order: fixed tables' matches first, then mobile (as Evidence lists them).
    offer_matches.sort(key=lambda pair: pair[0] != "fixed")
    bbox = _union([s.bbox for s in scans])
    for spec in rasters:
        _check_overlap(spec, bbox, crs)
    clock.lap("guards")

    # --- evidence, classification and counts per partition -------------------------------
    shared_areas = {
        what: client.scatter(_concat(layers), broadcast=True) if layers else None
        for what, layers in areas.items()
    }
    municipalities = pd.DataFrame(boundaries.drop(columns=boundaries.geometry.name))
    parts: list[PartResult] = client.gather(
        client.map(
            classify_part,
            range(len(household_files)),
            household_files,
            spec=config.households,
            working_crs=crs,
            index=shared_index,
            tolerance_m=config.tolerance_m,
            standard=config.standard,
            municipalities=municipalities,
            exchange=exchange,
            fixed_offers=any(s.section == "fixed" for s in tables),
            mobile_offers=any(s.section == "mobile" for s in tables),
            fixed_areas=shared_areas["fixed"],
            mobile_areas=shared_areas["mobile"],
            rasters=rasters,
            source=source,
            out_dir=households_out,
            pure=False,
        )
    )
    clock.lap("evidence and classification (partitions)")
    problems.extend(index.problems)
    provenance = Provenance(
        config.standard, config.denominator, config.data_year, config.source, config.area_name
    )
    table = summarize_counts(_add_counts(parts), boundaries, provenance)
    reconciliation = functools.reduce(lambda a, b: a.add(b), (p.reconciliation for p in parts))
    parts_sum = reconciliation.loc[list(S.ASSIGNMENTS)].sum()
    if (parts_sum != reconciliation.loc["total"]).any() or int(
        reconciliation.loc["total", "addresses"]
    ) != rows:
        raise ReconciliationError(
            f"the partitions account for {reconciliation.loc['total'].to_dict()} of {rows} "
            "rows read"
        )
    names = municipalities[S.MUNICIPALITY_CODE].astype(str).tolist()
    findings = (
        *(_offer_gaps(parts, what, names) for what in ("fixed", "mobile")),
        partial_coverage(table, source=source, unit=config.denominator),
        _declared(parts),
    )
    _report(problems, [f for f in findings if f is not None])
    check_totals(
        table,
        reconciliation,
        config.denominator,
        source=source,
        column=config.households.options.get("households"),
    )
    clock.lap("aggregate and reconcile")
    reported = selected_municipalities(boundaries).reset_index(drop=True)
    demand = None
    if config.demand is not None:
        demand = _project(table, reported, config)
        clock.lap("project demand")
    schema = next((p.schema for p in parts if p.schema is not None), pd.DataFrame())
    schema.attrs = {"crs": crs, "source": source}
    return {
        "households": schema,
        "municipalities": table,
        "reconciliation": reconciliation,
        "boundaries": reported,
        "problems": tuple(problems.warnings),
        "provenance": provenance,
        "config": config,
        "timings": clock.laps,
        "demand": demand,
        "offer_matches": tuple(offer_matches),
        "household_parts": tuple(p.output for p in parts if p.output is not None),
        "partitions": (
            ("households", source, tuple(household_files)),
            *(
                (spec.section, str(spec.path), tuple(files))
                for spec, files in zip(tables, table_files, strict=True)
            ),
        ),
    }


def _offer_match(
    t: int,
    spec: LayerSpec,
    scans: Sequence[OfferScan],
    matches: Sequence[BucketMatch],
    addresses: int,
    household_id: str | None,
    household_ids: tuple[str, ...],
) -> OfferMatch:
    """One offer table's :class:`OfferMatch`: the buckets' counts added up.

    The ids shown are the table's first (by file and row) among those of the buckets.
    """
    parts = [m.tables[t] for m in matches]
    unmatched = sorted(i for p in parts for i in p.unmatched_ids)[:SHOWN]
    normalized = sorted(i for p in parts for i in p.normalized_ids)[:SHOWN]
    return OfferMatch(
        source=str(spec.path),
        offer_rows=sum(p.offer_rows for p in parts),
        unmatched_rows=sum(p.unmatched_rows for p in parts),
        normalized_rows=sum(p.normalized_rows for p in parts),
        ambiguous_rows=sum(p.ambiguous_rows for p in parts),
        addresses_matched=sum(p.addresses_matched for p in parts),
        addresses=addresses,
        counted=sum(m.counted for m in matches),
        counted_matched=sum(p.counted_matched for p in parts),
        offer_id_column=next((s.id_column for s in scans if s.id_column), None),
        household_id_column=household_id,
        unmatched_ids=tuple(i for _, i in unmatched),
        household_ids=household_ids,
        normalized_ids=tuple(i for _, i in normalized),
    )


def _union(
    boxes: Sequence[tuple[float, float, float, float] | None],
) -> tuple[float, float, float, float] | None:
    found = [b for b in boxes if b is not None]
    if not found:
        return None
    array = np.array(found)
    return (
        float(array[:, 0].min()),
        float(array[:, 1].min()),
        float(array[:, 2].max()),
        float(array[:, 3].max()),
    )


def _check_overlap(
    spec: LayerSpec, bbox: tuple[float, float, float, float] | None, crs: str
) -> None:
    """Refuse a raster that overlaps none of the households, as the in-memory run does.

    Judged on the extent of all the households (the union of the partitions'); the
    message is the in-memory one, made by the same function.
    """
    import rasterio

    with rasterio.open(spec.path) as dataset:
        left, bottom, right, top = dataset.bounds
    extent = (min(left, right), min(bottom, top), max(left, right), max(bottom, top))
    if bbox is not None and not (
        bbox[2] < extent[0] or bbox[0] > extent[2] or bbox[3] < extent[1] or bbox[1] > extent[3]
    ):
        return
    name = spec.options.get("name") or spec.path.stem
    nothing = SampledSignal(name, str(spec.path), np.full(1, np.nan), False, extent)
    one = pd.DataFrame({S.ADDRESS_ID: ["-"], S.HOUSEHOLDS: [1], S.X: [np.nan], S.Y: [np.nan]})
    one.attrs["crs"] = crs
    best_signal(one, [nothing])


def _concat(frames: list[gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    if len(frames) == 1:
        return frames[0]
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=frames[0].crs)


def _add_counts(parts: Sequence[PartResult]) -> dict[str, np.ndarray | None]:
    """Add the partitions' counts; a service not assessed for some household stays unassessed."""
    counted = [p.counts for p in parts if p.rows]
    total: dict[str, np.ndarray | None] = {}
    for name in GAP_COUNTS:
        values = [c.get(name) for c in counted]
        found = [v for v in values if v is not None]
        total[name] = np.sum(found, axis=0) if found and len(found) == len(values) else None
    return total


def _offer_gaps(parts: Sequence[PartResult], what: str, names: list[str]) -> Problem | None:
    """Warn, as the in-memory run does, about municipalities without any offer row."""
    found = [p.listed[what] for p in parts if what in p.listed]
    if not found:
        return None
    addresses = np.sum([a for a, _ in found], axis=0)
    matched = np.sum([m for _, m in found], axis=0)
    return offer_gaps_from_counts(addresses, matched, names, what=what)


def _declared(parts: Sequence[PartResult]) -> Problem | None:
    """One warning for the addresses declared in another municipality, over all partitions."""
    found = [p.declared for p in parts if p.declared is not None]
    if not found:
        return None
    rows = tuple(r for p in found for r in p.rows)[:SHOWN]
    return Problem(
        found[0].source,
        found[0].message,
        column=found[0].column,
        rows=rows,
        count=sum(p.count or 0 for p in found),
        severity="warning",
        fix=found[0].fix,
    )


# --- writing ----------------------------------------------------------------------------


def write_partitioned_outputs(results: PartitionedResults, folder: Any) -> dict[str, Path]:
    """Write a partitioned run's outputs into an open :class:`~coverage_gap.report.OutputFolder`.

    The same set as :func:`coverage_gap.report.write_run_outputs`, except that
    ``households.parquet`` is a folder of one GeoParquet file per household partition,
    which the workers wrote into the folder's staging area during the run
    (``run_dask(..., households_out=folder.staging / "households.parquet")``). The
    manifest lists every partition file read, with its SHA-256, and how the run was
    spread.
    """
    from ..io.writers import csv_bytes, danish_csv_bytes, geopackage_bytes
    from ..report import municipality_layer, write_manifest

    paths: dict[str, Path] = {}
    tables = [
        ("municipalities", results.municipalities, True),
        ("reconciliation", results.reconciliation, True),
    ]
    if results.demand is not None:
        tables.append(("demand", results.demand, False))
    for name, table, index in tables:
        paths[name] = folder.write_bytes(f"{name}.csv", csv_bytes(table, index=index))
        paths[f"{name}_da"] = folder.write_bytes(
            f"{name}_da.csv", danish_csv_bytes(table, index=index)
        )
    for name, digest in results.household_parts:
        folder.checksums[f"households.parquet/{name}"] = digest
    paths["households"] = folder.target("households.parquet")
    layer = municipality_layer(results.municipalities, results.boundaries)
    paths["municipalities_gpkg"] = folder.write_bytes(
        "municipalities.gpkg", geopackage_bytes(layer, name="municipalities")
    )
    partitions = {}
    for section, configured, files in results.partitions:
        folder.add_inputs(files)
        partitions[section if section == "households" else configured] = [
            {
                "path": folder.relative(p),
                "sha256": folder.input_checksums[str(Path(p).resolve())][0],
                "bytes": folder.input_checksums[str(Path(p).resolve())][1],
            }
            for p in files
        ]
    paths["manifest"] = write_manifest(
        results, folder, extra={"engine": {**results.engine, "partition_files": partitions}}
    )
    return paths

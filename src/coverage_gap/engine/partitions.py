"""The partitioned engine's work on one partition or one hash bucket, in pandas and numpy.

Households stay in the partitions they were read in (one file each), so that a
partition reads only the raster blocks under its own points; address registers are
exported by municipality or postal code, which keeps a file's points together. Offers
keyed by address id may lie in any file. Both sides are therefore hashed on their id
into *buckets*, written to a scratch folder (:class:`Exchange`): each bucket holds every
household key and every offer row whose ids could be equal, byte for byte or after the
library's id normalisation, and is matched with
:func:`~coverage_gap.evidence.match_offers`, the same function as in memory. The matched
offers are then written back per household partition, where the evidence is gathered and
classified with :func:`~coverage_gap.evidence.gather_evidence` and
:func:`~coverage_gap.classify.classify`, and counted with
:func:`~coverage_gap.aggregate.municipality_counts`. Counts are sums of whole numbers,
so the partitions' counts add up exactly to those of the whole input.

Nothing here imports dask: :mod:`coverage_gap.engine.dask` schedules these functions.
"""

from __future__ import annotations

import glob
import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import duckdb
import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from numpy.typing import NDArray

from .. import schema as S
from ..aggregate import municipality_counts, reconcile
from ..assign import LOCATED, MunicipalityIndex, assign_municipalities
from ..classify import classify
from ..config import LayerSpec
from ..errors import CoverageGapError, EmptyInputError, InputError, Problem
from ..evidence import MatchedOffers, gather_evidence, listed_by_municipality, match_offers
from ..io._common import PARQUET_SUFFIXES, TABLE_SUFFIXES, VECTOR_SUFFIXES
from ..io.raster import sample_signal_raster
from ..io.registry import LayerData, read_layer
from ..keys import all_digits, duplicated_keys
from ..layers import household_xy
from ..standards import ServiceStandard
from ..validate import validate_households, validate_offers

log = logging.getLogger(__name__)

#: Ids listed in warnings, as in memory.
SHOWN = 5
#: Points kept per partition to describe where the addresses lie when too few are located.
_SAMPLE = 1000
#: Offer rows are ordered by (file, row): file number times this plus the row.
_ORDER = 1 << 40

INPUT_SUFFIXES = (*PARQUET_SUFFIXES, *TABLE_SUFFIXES, *VECTOR_SUFFIXES)


def partition_files(path: Path) -> list[Path]:
    """Return the files of a partitioned input: a folder, a glob pattern or one file.

    A folder gives its data files (Parquet, CSV, vector files) in name order, leaving
    out hidden files and the ``_metadata``/``_SUCCESS`` files that writers leave.

    Raises
    ------
    InputError
        When nothing matches.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> for name in ("b.parquet", "a.parquet", "_SUCCESS", ".hidden.csv"):
    ...     _ = (d / name).write_bytes(b"x")
    >>> [p.name for p in partition_files(d)]
    ['a.parquet', 'b.parquet']
    >>> [p.name for p in partition_files(d / "b*.parquet")]
    ['b.parquet']
    """
    text = str(path)
    if path.is_dir():
        files = sorted(
            p
            for p in path.iterdir()
            if p.is_file()
            and not p.name.startswith((".", "_"))
            and p.suffix.lower() in INPUT_SUFFIXES
        )
        what = "the folder holds no data files (Parquet, CSV or vector files)"
    elif any(c in text for c in "*?["):
        files = sorted(Path(p) for p in glob.glob(text) if Path(p).is_file())
        what = "no file matches the pattern"
    else:
        return [path]
    if not files:
        raise InputError(
            Problem(text, what, fix="name a folder of partition files, a glob or one file")
        )
    return files


# --- hashing ids into buckets ----------------------------------------------------------------

_SPACE = np.zeros(256, dtype=bool)
_SPACE[[9, 10, 11, 12, 13, 32]] = True
_UPPER = np.zeros(256, dtype=bool)
_UPPER[65:91] = True


def _strings(values: pa.Array | pd.Series | NDArray[np.object_]) -> pa.Array:
    array = pa.array(values, from_pandas=True) if not isinstance(values, pa.Array) else values
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if not pa.types.is_large_string(array.type):
        array = array.cast(pa.large_string())
    return array


def _buffers(array: pa.Array) -> tuple[NDArray[np.int64], NDArray[np.uint8]]:
    n = len(array)
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int64)[array.offset : array.offset + n + 1]
    data = array.buffers()[2]
    return offsets, np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(
        1, np.uint8
    )


def bucket_keys(values: pa.Array | pd.Series | NDArray[np.object_]) -> pa.Array:
    """Return the key on which ids are bucketed: equal for ids that normalise alike.

    The id trimmed, without leading zeros, with ASCII letters in lower case (after
    Unicode NFC when there is non-ASCII text): a function of the normalised id
    (:func:`coverage_gap.keys.normalize_ids`), so every pair that
    :func:`coverage_gap.keys.match_keys_normalized` can match gets one key (a few more
    pairs share one than could match, which costs nothing). Most ids (a lower-case UUID
    without a leading zero) are their own key and are not copied.

    Examples
    --------
    >>> bucket_keys(pd.Series([" 007", "7", "0A3F-E ", "a3f-e", None])).to_pylist()
    ['7', '7', 'a3f-e', 'a3f-e', None]
    """
    array = _strings(values)
    n = len(array)
    offsets, data = _buffers(array)
    if n and (data[offsets[0] : offsets[-1]] >= 128).any():
        # Non-ASCII text: NFC and Unicode trimming first, as the normalisation does.
        array = _strings(pc.utf8_normalize(pc.utf8_trim_whitespace(array), "NFC"))
        offsets, data = _buffers(array)
    filled = np.diff(offsets) > 0
    if not filled.any():
        return array
    starts = offsets[:-1][filled]
    first = data[starts]
    last = data[offsets[1:][filled] - 1]
    upper = np.logical_or.reduceat(_UPPER[data[offsets[0] : offsets[-1]]], starts - offsets[0])
    rework = np.zeros(n, dtype=bool)
    rework[filled] = _SPACE[first] | (first == ord("0")) | _SPACE[last] | upper
    if not rework.any():
        return array
    rows = pa.array(np.flatnonzero(rework))
    fixed = pc.ascii_lower(pc.utf8_ltrim(pc.utf8_trim_whitespace(array.take(rows)), "0"))
    return pc.replace_with_mask(array, pa.array(rework), fixed)


def id_buckets(
    values: pa.Array | pd.Series | NDArray[np.object_], buckets: int
) -> NDArray[np.int32]:
    """Bucket (0 to ``buckets - 1``) of each id, from DuckDB's hash of :func:`bucket_keys`.

    Ids that may match, as they are or after normalisation, share a bucket; missing ids
    go to bucket 0. The hash is the same in every worker process.

    Examples
    --------
    >>> b = id_buckets(pd.Series([" 007", "7", "0A3F-E", "a3f-e ", None]), 16)
    >>> bool(b[0] == b[1]), bool(b[2] == b[3]), int(b[4])
    (True, True, 0)
    """
    keys = bucket_keys(values)
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int32)
    # No progress bar on a worker's stderr for a long hash.
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        con.register("ids", pa.table({"k": keys}))
        found = con.execute(
            "SELECT coalesce(hash(k) % ?, 0) AS b FROM ids", [buckets]
        ).fetchnumpy()["b"]
    finally:
        con.close()
    out = np.asarray(found, dtype=np.int64).astype(np.int32)
    if keys.null_count:
        out[np.asarray(keys.is_null())] = 0
    return out


# --- the scratch folder ---------------------------------------------------------------------


@dataclass(frozen=True)
class Exchange:
    """Where partitions and buckets hand each other their pieces (a folder all workers see).

    ``h/bNNNNN/pNNNNN.parquet``: household keys of bucket b from partition p;
    ``oTTT/bNNNNN/qNNNNN.parquet``: rows of offer table t in bucket b from file q;
    ``m_fixed|m_mobile/pNNNNN/bNNNNN-tTTT.parquet``: offers matched to partition p.
    """

    root: Path
    buckets: int

    def households(self, bucket: int) -> Path:
        """Folder of the household keys of a bucket."""
        return self.root / "h" / f"b{bucket:05d}"

    def offers(self, table: int, bucket: int) -> Path:
        """Folder of offer table ``table``'s rows in a bucket."""
        return self.root / f"o{table:03d}" / f"b{bucket:05d}"

    def matched(self, what: str, part: int) -> Path:
        """Folder of the ``what`` (fixed/mobile) offers matched to household partition ``part``."""
        return self.root / f"m_{what}" / f"p{part:05d}"

    def split(self, frame: pd.DataFrame, ids: pd.Series, folder: Any, name: str) -> None:
        """Write ``frame``'s rows into one file per bucket of their ids."""
        buckets = id_buckets(ids, self.buckets)
        order = np.argsort(buckets, kind="stable")
        sorted_buckets = buckets[order]
        starts = np.flatnonzero(np.r_[True, sorted_buckets[1:] != sorted_buckets[:-1]])
        ends = np.r_[starts[1:], order.size]
        table = pa.Table.from_pandas(frame, preserve_index=False)
        for start, end in zip(starts, ends, strict=True):
            bucket = int(sorted_buckets[start])
            _write(table.take(pa.array(order[start:end])), folder(bucket) / name)


def _write(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)


def _read_folder(folder: Path, columns: list[str] | None = None) -> pa.Table | None:
    files = sorted(folder.glob("*.parquet")) if folder.is_dir() else []
    if not files:
        return None
    return pa.concat_tables([pq.read_table(f, columns=columns) for f in files])


# --- reading one partition ------------------------------------------------------------------


def read_piece(
    path: Path,
    kind: str,
    options: Mapping[str, Any],
    *,
    section: str,
    working_crs: str,
) -> tuple[Any, list[Problem]]:
    """Read one file of a layer with its kind's reader; problems are returned, not raised.

    An empty file (no rows, or a header only) is an empty partition, as writers of
    partitioned data leave them; an input whose every file is empty is refused by the
    caller, as the in-memory run refuses an empty file.
    """
    try:
        data = read_layer(path, kind, options, section=section, working_crs=working_crs)
    except EmptyInputError:
        log.info("%s: an empty partition", path)
        empty = pd.DataFrame()
        return LayerData(str(path), households=empty, fixed_offers=empty, mobile_offers=empty), []
    except InputError as exc:
        return None, list(exc.problems)
    except CoverageGapError as exc:
        return None, [Problem(str(path), str(exc))]
    return data, list(data.problems)


def read_households_part(
    path: Path, kind: str, options: Mapping[str, Any], *, working_crs: str
) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Read and validate one household partition (the whole-input checks are the caller's)."""
    data, problems = read_piece(path, kind, options, section="households", working_crs=working_crs)
    if data is None:
        return None, problems
    table, found = validate_households(data.households, source=str(path), partition=True)
    return table, problems + found


@dataclass(frozen=True)
class HouseholdScan:
    """What the first pass learns from one household partition.

    ``sample_x``/``sample_y`` are up to 1,000 of its points plus its extreme ones: what a
    refused run says about where the addresses lie.
    """

    part: int
    source: str
    rows: int = 0
    problems: tuple[Problem, ...] = ()
    readable: bool = False
    points: int = 0
    located: int | None = None
    bbox: tuple[float, float, float, float] | None = None
    sample_x: NDArray[np.float64] = field(default_factory=lambda: np.empty(0))
    sample_y: NDArray[np.float64] = field(default_factory=lambda: np.empty(0))
    all_digits: bool = True
    first_ids: tuple[str, ...] = ()
    id_column: str | None = None

    @property
    def errors(self) -> bool:
        """Whether the partition has errors."""
        return any(p.severity == "error" for p in self.problems)


def scan_households(
    part: int,
    path: Path,
    spec: LayerSpec,
    *,
    working_crs: str,
    index: MunicipalityIndex | None,
    tolerance_m: float,
    exchange: Exchange,
) -> HouseholdScan:
    """First pass over a household partition: read, validate, locate, hand out the keys."""
    table, problems = read_households_part(path, spec.kind, spec.options, working_crs=working_crs)
    source = str(path)
    if table is None:
        return HouseholdScan(part, source, problems=tuple(problems))
    n = len(table)
    if n == 0 or S.ADDRESS_ID not in table:
        return HouseholdScan(part, source, rows=n, problems=tuple(problems), readable=n == 0)
    ids = table[S.ADDRESS_ID]
    errors = any(p.severity == "error" for p in problems)
    located = None
    # Which households the tables count: the offer match guard judges its share on them.
    counted = np.zeros(n, dtype=bool)
    if index is not None and not errors:
        assignment = assign_municipalities(table, index, tolerance_m=tolerance_m)
        located = int(assignment[S.ASSIGNMENT].isin(LOCATED).sum())
        counted = assignment[S.ASSIGNMENT].isin(S.COUNTED).to_numpy()
    keys = pd.DataFrame(
        {
            S.ADDRESS_ID: ids,
            "part": np.full(n, part, dtype=np.int32),
            "row": np.arange(n, dtype=np.int64),
            "counted": counted,
        }
    )
    exchange.split(keys, ids, exchange.households, f"p{part:05d}.parquet")
    x, y = household_xy(table) if {S.X, S.Y} <= set(table.columns) else (np.empty(0),) * 2
    ok = np.isfinite(x) & np.isfinite(y)
    bbox = None
    sample = np.empty(0, dtype=np.int64)
    if ok.any():
        xs, ys = x[ok], y[ok]
        bbox = (float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max()))
        finite = np.flatnonzero(ok)
        step = max(finite.size // _SAMPLE, 1)
        extremes = finite[[xs.argmin(), xs.argmax(), ys.argmin(), ys.argmax()]]
        sample = np.unique(np.r_[finite[::step], extremes])
    return HouseholdScan(
        part,
        source,
        rows=n,
        problems=tuple(problems),
        readable=True,
        points=int(ok.sum()),
        located=located,
        bbox=bbox,
        sample_x=x[sample],
        sample_y=y[sample],
        all_digits=all_digits(ids),
        first_ids=tuple(str(i) for i in ids.iloc[:SHOWN].to_numpy(object)),
        id_column=table.attrs.get("id_column"),
    )


@dataclass(frozen=True)
class OfferScan:
    """What the first pass learns from one file of an offer table."""

    table: int
    piece: int
    source: str
    rows: int = 0
    problems: tuple[Problem, ...] = ()
    readable: bool = False
    has_download: bool = False
    all_digits: bool = True
    id_column: str | None = None


def scan_offers(
    table: int,
    piece: int,
    path: Path,
    spec: LayerSpec,
    *,
    working_crs: str,
    exchange: Exchange,
) -> OfferScan:
    """First pass over one file of an offer table: read, validate, hand out its rows."""
    what = spec.section
    data, problems = read_piece(
        path, spec.kind, spec.options, section=what, working_crs=working_crs
    )
    source = str(path)
    frame = None if data is None else (data.fixed_offers if what == "fixed" else data.mobile_offers)
    if frame is None:
        return OfferScan(table, piece, source, problems=tuple(problems))
    frame, found = validate_offers(frame, source=source, what=what, partition=True)
    problems += found
    n = len(frame)
    if n == 0 or not {S.ADDRESS_ID, S.DOWN, S.UP} <= set(frame.columns):
        return OfferScan(table, piece, source, n, tuple(problems), readable=n == 0)
    down = pd.to_numeric(frame[S.DOWN], errors="coerce").to_numpy(np.float64, na_value=np.nan)
    up = pd.to_numeric(frame[S.UP], errors="coerce").to_numpy(np.float64, na_value=np.nan)
    rows = pd.DataFrame(
        {
            S.ADDRESS_ID: frame[S.ADDRESS_ID],
            S.DOWN: down,
            S.UP: up,
            "order": np.int64(piece) * _ORDER + np.arange(n, dtype=np.int64),
        }
    )
    exchange.split(
        rows, frame[S.ADDRESS_ID], lambda b: exchange.offers(table, b), f"q{piece:05d}.parquet"
    )
    return OfferScan(
        table,
        piece,
        source,
        n,
        tuple(problems),
        readable=True,
        has_download=bool(np.isfinite(down).any()),
        all_digits=all_digits(frame[S.ADDRESS_ID]),
        id_column=frame.attrs.get("id_column"),
    )


# --- one bucket -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TableMatch:
    """How the rows of one offer table in one bucket met the bucket's households.

    The ``*_ids`` are the first few ids of such rows with their place in the whole table
    (file, row), so that the whole table's first ids can be picked across buckets.
    """

    offer_rows: int = 0
    unmatched_rows: int = 0
    normalized_rows: int = 0
    ambiguous_rows: int = 0
    addresses_matched: int = 0
    counted_matched: int = 0
    unmatched_ids: tuple[tuple[int, str], ...] = ()
    normalized_ids: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True)
class BucketMatch:
    """Duplicate household ids and offer matches of one bucket."""

    bucket: int
    addresses: int
    counted: int
    duplicate_rows: int
    duplicate_ids: tuple[str, ...]
    tables: tuple[TableMatch, ...]


def _placed(ids: tuple[str, ...], frame: pd.DataFrame) -> tuple[tuple[int, str], ...]:
    """Return the order keys of the rows behind ``ids``: the first rows with those ids.

    Every row of an id is matched alike (unmatched, or matched only after normalisation),
    so the first rows whose id is listed are the rows the listing came from.
    """
    if not ids:
        return ()
    hit = frame[frame[S.ADDRESS_ID].isin(set(ids))].iloc[: len(ids)]
    order = hit["order"].astype(np.int64).tolist()
    return tuple(zip(order, [str(v) for v in hit[S.ADDRESS_ID]], strict=True))


def match_bucket(
    bucket: int,
    exchange: Exchange,
    tables: Sequence[tuple[int, str, bool]],
) -> BucketMatch:
    """Find the bucket's duplicate ids and match each offer table's rows to its households.

    ``tables`` are ``(table number, "fixed" | "mobile", numeric ids)``, where numeric says
    whether ids are compared as numbers, as decided for the whole input. Matched offers
    are written back to the folders of the household partitions they belong to.
    """
    keys = _read_folder(exchange.households(bucket))
    if keys is None:
        keys = pa.table(
            {
                S.ADDRESS_ID: pa.array([], pa.large_string()),
                "part": pa.array([], pa.int32()),
                "row": pa.array([], pa.int64()),
                "counted": pa.array([], pa.bool_()),
            }
        )
    households = keys.to_pandas()
    counted = households["counted"].to_numpy(bool)
    duplicate_rows, duplicate_ids = duplicated_keys(households[S.ADDRESS_ID], limit=SHOWN)
    part = households["part"].to_numpy(np.int32)
    row = households["row"].to_numpy(np.int64)
    results = []
    for table, what, numeric in tables:
        offers_table = _read_folder(exchange.offers(table, bucket))
        if offers_table is None:
            results.append(TableMatch())
            continue
        offers = offers_table.to_pandas()
        matched = match_offers(
            offers, households, min_match_share=0.0, source="offers", numeric_ids=numeric
        )
        found = matched.matches[0]
        results.append(
            TableMatch(
                found.offer_rows,
                found.unmatched_rows,
                found.normalized_rows,
                found.ambiguous_rows,
                found.addresses_matched,
                int(counted[np.unique(matched.position)].sum()),
                _placed(found.unmatched_ids, offers),
                _placed(found.normalized_ids, offers),
            )
        )
        if matched.position.size == 0:
            continue
        back = pd.DataFrame(
            {
                "part": part[matched.position],
                "row": row[matched.position],
                S.DOWN: matched.down_mbps,
                S.UP: matched.up_mbps,
            }
        )
        for p, piece in back.groupby("part", sort=True):
            _write(
                pa.Table.from_pandas(piece.drop(columns="part"), preserve_index=False),
                exchange.matched(what, int(p)) / f"b{bucket:05d}-t{table:03d}.parquet",
            )
    return BucketMatch(
        bucket,
        len(households),
        int(counted.sum()),
        duplicate_rows,
        tuple(duplicate_ids),
        tuple(results),
    )


# --- the second pass over one household partition --------------------------------------------


@dataclass(frozen=True)
class PartResult:
    """What one household partition contributes to the tables.

    Attributes
    ----------
    counts
        :func:`~coverage_gap.aggregate.municipality_counts` of the partition.
    reconciliation
        :func:`~coverage_gap.aggregate.reconcile` of the partition.
    declared
        Addresses lying in another municipality than declared (a warning), if any.
    output
        The partition's file of the per-household result and its SHA-256.
    schema
        The per-household result without rows (its columns and types).
    listed
        Per offer kind, the counted addresses per municipality and those among them
        that an offer row reached (in the order of ``municipalities``).
    """

    part: int
    rows: int
    counts: dict[str, NDArray[np.float64] | None]
    reconciliation: pd.DataFrame
    declared: Problem | None = None
    output: tuple[str, str] | None = None
    schema: pd.DataFrame | None = None
    listed: dict[str, tuple[NDArray[np.int64], NDArray[np.int64]]] = field(default_factory=dict)


def _matched_offers(exchange: Exchange, what: str, part: int, n: int) -> MatchedOffers:
    found = _read_folder(exchange.matched(what, part))
    if found is None:
        empty = np.empty(0, dtype=np.int64)
        return MatchedOffers(empty, empty.astype(np.float64), empty.astype(np.float64), n)
    return MatchedOffers(
        found.column("row").to_numpy().astype(np.int64),
        found.column(S.DOWN).to_numpy().astype(np.float64),
        found.column(S.UP).to_numpy().astype(np.float64),
        n,
    )


def classify_part(
    part: int,
    path: Path,
    spec: LayerSpec,
    *,
    working_crs: str,
    index: MunicipalityIndex,
    tolerance_m: float,
    standard: ServiceStandard,
    municipalities: pd.DataFrame,
    exchange: Exchange,
    fixed_offers: bool,
    mobile_offers: bool,
    fixed_areas: gpd.GeoDataFrame | None,
    mobile_areas: gpd.GeoDataFrame | None,
    rasters: Sequence[LayerSpec],
    source: str,
    out_dir: Path | None,
) -> PartResult:
    """Second pass: gather the partition's evidence, classify it, count it, write it.

    The same functions as in memory, on the partition's households with their matched
    offers, the rasters sampled under their points only (the overlap of a raster with
    the whole input was checked before) and the shared municipality index.
    """
    table, problems = read_households_part(path, spec.kind, spec.options, working_crs=working_crs)
    if table is None or any(p.severity == "error" for p in problems):
        # Checked by the first pass; a file that changed between the passes is a bug.
        raise InputError([p for p in problems if p.severity == "error"] or problems)
    n = len(table)
    if n == 0:
        return PartResult(part, 0, {}, reconcile(_empty_result()))
    assignment = assign_municipalities(table, index, tolerance_m=tolerance_m)
    x, y = household_xy(table)
    cells: dict[tuple[object, ...], NDArray[np.int64]] = {}
    signals = [
        # The overlap with the whole input was checked once; a partition outside a
        # raster simply has no signal from it.
        replace(
            sample_signal_raster(
                raster.path, x, y, **raster.options, working_crs=working_crs, cells_cache=cells
            ),
            overlaps=True,
            partial=True,
        )
        for raster in rasters
    ]
    matched = {
        what: _matched_offers(exchange, what, part, n)
        for what, wanted in (("fixed", fixed_offers), ("mobile", mobile_offers))
        if wanted
    }
    codes = municipalities[S.MUNICIPALITY_CODE].astype(str).tolist()
    listed = {
        what: listed_by_municipality(found.position, assignment, codes)[:2]
        for what, found in matched.items()
    }
    evidence = gather_evidence(
        table,
        index,
        fixed_offers=matched.get("fixed"),
        fixed_areas=fixed_areas,
        mobile_rasters=signals,
        mobile_areas=mobile_areas,
        mobile_offers=matched.get("mobile"),
        tolerance_m=tolerance_m,
        assignment=assignment,
    )
    classified = classify(evidence, standard)
    del evidence, signals
    from ..pipeline import declared_mismatch
    from ..report import households_parquet_bytes

    output = None
    if out_dir is not None:
        data = households_parquet_bytes(classified)
        name = f"part-{part:05d}.parquet"
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / name).write_bytes(data)
        output = (name, hashlib.sha256(data).hexdigest())
    return PartResult(
        part,
        n,
        municipality_counts(classified, municipalities),
        reconcile(classified),
        declared_mismatch(classified, source=source),
        output,
        classified.iloc[:0],
        listed,
    )


def _empty_result() -> pd.DataFrame:
    return pd.DataFrame(
        {
            S.ASSIGNMENT: pd.Categorical([], categories=list(S.ASSIGNMENTS)),
            S.HOUSEHOLDS: np.empty(0, dtype=np.int64),
        }
    )

"""Where new masts help most: the maximal covering location problem, solved greedily.

Choose ``k`` sites among candidates so that the most under-served households lie within
reach of at least one site (households are the weights). Each candidate's coverage set
is a row of a sparse sites × households matrix, built from a KD-tree radius query (or
given explicitly, e.g. from a per-site coverage raster); no dense clients × sites matrix
is ever formed, unlike PySAL spopt's ``MCLP``, whose matrix grows with the product.

The lazy greedy algorithm (Minoux 1978) keeps the candidates in a priority queue by
their last known gain; since gains only shrink as households get covered, a candidate
whose freshly computed gain still beats every stale gain is the true best. Greedy
selection covers at least 1 − 1/e ≈ 63 % of what the best ``k`` sites could (Nemhauser,
Wolsey & Fisher 1978), and usually far more. Each result says how far it can be from
the optimum:

- ``guarantee_upper_bound`` = greedy / (1 − 1/e), always;
- ``online_upper_bound`` = min over the greedy steps of (covered so far + the ``k``
  largest remaining gains), always (Leskovec et al. 2007; valid for any coverage
  problem, usually within a few percent);
- ``lp_upper_bound``: the linear-programming relaxation solved by HiGHS
  (``scipy.optimize.linprog``), when the instance is small enough: households that the
  same set of candidates reaches are merged into one LP row first, and the LP is solved
  when that LP has at most :attr:`SitingSpec.lp_max_nonzeros` non-zeros (default
  250,000; HiGHS's interior-point solver took about 2 s at 130,000 and 8 s at 380,000
  non-zeros on a 2-core machine) and finishes within :attr:`SitingSpec.lp_time_limit_s`;
- with :attr:`SitingSpec.exact`, the integer programme itself (``scipy.optimize.milp``,
  same size limit and time limit): the optimum, or HiGHS's dual bound when time runs out.

Existing sites are kept: the households they reach count as covered before the first
choice, and every bound is about the households the new sites add.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field
from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.spatial import KDTree

from . import schema as S
from .aggregate import Provenance
from .areas import DDKN_SIZES, ddkn_cell_names
from .errors import ConfigError, CRSError, Problem, SchemaError
from .geo import locate_points
from .layers import check_crs, point_coordinates

#: Greedy's worst-case share of the optimum (Nemhauser, Wolsey & Fisher 1978).
GREEDY_GUARANTEE: Final = 1 - 1 / math.e
#: Default size limit (non-zeros after merging) for the LP bound and the exact solution.
LP_MAX_NONZEROS: Final = 250_000
# Coverage matrices larger than this multiple of the limit are not merged (see _solve_bounds).
_MERGE_FACTOR: Final = 10
_SITE_CHUNK: Final = 2_000
# Above this many non-zeros x k, the online bound is computed at about ten steps only.
_BOUND_BUDGET: Final = 200_000_000


#: The largest coverage radius a site may have (metres): beyond, every site covers
#: everyone and the coverage sets exhaust memory.
MAX_RADIUS_M: Final = 50_000.0
#: The most candidate sites a regular grid may have.
MAX_CANDIDATES: Final = 2_000_000


@dataclass(frozen=True)
class SitingSpec:
    """How many sites to choose and what a site covers.

    Parameters
    ----------
    sites
        Number of new sites (k).
    radius_m
        A household within this distance of a site (inclusive) is covered by it.
        Ignored when coverage sets are given explicitly.
    demand
        Boolean column of the classified table marking the households to cover
        (default ``underserved``).
    candidate_spacing_m
        Spacing of a regular grid of candidates (:func:`candidate_grid`), used when no
        candidate sites are given.
    lp_max_nonzeros
        Largest LP (non-zeros of the merged coverage matrix) solved for the bound; 0
        switches the LP off.
    lp_time_limit_s
        Time limit of HiGHS for the LP and the exact solution.
    exact
        Also solve the integer programme (same limits) for the true optimum.

    Examples
    --------
    >>> SitingSpec(sites=5, radius_m=2500).demand
    'underserved'
    """

    sites: int
    radius_m: float
    demand: str = "underserved"
    candidate_spacing_m: float | None = None
    lp_max_nonzeros: int = LP_MAX_NONZEROS
    lp_time_limit_s: float = 60.0
    exact: bool = False

    def __post_init__(self) -> None:
        problems = []
        if isinstance(self.sites, bool) or not isinstance(self.sites, int) or self.sites < 0:
            problems.append(f"sites must be a whole number >= 0, got {self.sites!r}")
        if not (math.isfinite(self.radius_m) and 0 <= self.radius_m <= MAX_RADIUS_M):
            problems.append(
                f"radius_m must be a distance from 0 to {MAX_RADIUS_M:,.0f} m (a mast's reach), "
                f"got {self.radius_m!r}"
            )
        spacing = self.candidate_spacing_m
        if spacing is not None and not (math.isfinite(spacing) and spacing > 0):
            problems.append(f"candidate_spacing_m must be > 0, got {spacing!r}")
        if self.lp_max_nonzeros < 0 or self.lp_time_limit_s <= 0:
            problems.append("lp_max_nonzeros must be >= 0 and lp_time_limit_s > 0")
        if problems:
            raise ConfigError("siting spec: " + "; ".join(problems))


@dataclass(frozen=True)
class SitingBounds:
    """How far the greedy choice can be from the best choice of the same number of sites.

    All values count households the new sites add (beyond existing sites).

    Attributes
    ----------
    greedy_households
        What the greedy choice adds.
    guarantee_upper_bound
        ``greedy / (1 − 1/e)``: no choice adds more.
    online_upper_bound
        The smallest (covered so far + the k largest remaining gains) over the steps.
    lp_upper_bound
        Optimum of the LP relaxation, or None (see ``lp_note``).
    optimum
        The integer optimum when solved exactly, else None.
    milp_upper_bound
        HiGHS's bound when the integer programme ran out of time, else None.
    lp_note
        What happened to the LP and the exact solution.
    """

    greedy_households: float
    guarantee_upper_bound: float
    online_upper_bound: float
    lp_upper_bound: float | None = None
    optimum: float | None = None
    milp_upper_bound: float | None = None
    lp_note: str = ""

    @property
    def upper_bound(self) -> float:
        """The tightest upper bound on what the best choice adds."""
        values = [self.guarantee_upper_bound, self.online_upper_bound]
        for value in (self.lp_upper_bound, self.optimum, self.milp_upper_bound):
            if value is not None:
                values.append(value)
        return max(min(values), self.greedy_households)

    @property
    def greedy_share(self) -> float:
        """Greedy adds at least this share of what the best choice adds."""
        bound = self.upper_bound
        return 1.0 if bound <= 0 else min(1.0, self.greedy_households / bound)

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-serialisable form (for manifests)."""
        return {
            "greedy_households": self.greedy_households,
            "guarantee": GREEDY_GUARANTEE,
            "guarantee_upper_bound": self.guarantee_upper_bound,
            "online_upper_bound": self.online_upper_bound,
            "lp_upper_bound": self.lp_upper_bound,
            "optimum": self.optimum,
            "milp_upper_bound": self.milp_upper_bound,
            "upper_bound": self.upper_bound,
            "greedy_share_at_least": self.greedy_share,
            "lp_note": self.lp_note,
        }


@dataclass(frozen=True, eq=False)
class GreedyCover:
    """The result of :func:`greedy_max_cover`.

    Attributes
    ----------
    chosen
        Rows of the coverage matrix chosen, in order.
    gains
        Weight each choice added (never increasing).
    covered
        Which columns are covered at the end (including the initially covered ones).
    online_upper_bound
        Bound on the best weight ``k`` rows could add (see the module docstring).
    """

    chosen: NDArray[np.int64]
    gains: NDArray[np.float64]
    covered: NDArray[np.bool_]
    online_upper_bound: float


def greedy_max_cover(
    coverage: sp.csr_matrix | sp.csr_array,
    weights: NDArray[np.floating],
    k: int,
    *,
    covered: NDArray[np.bool_] | None = None,
) -> GreedyCover:
    """Lazy greedy maximal covering: pick ``k`` rows that cover the most column weight.

    Parameters
    ----------
    coverage
        Sparse matrix, rows = candidate sites, columns = clients; a stored non-zero
        means the site covers the client.
    weights
        Weight of each client (households), >= 0.
    k
        Number of rows to choose. Fewer are chosen when no row adds anything.
    covered
        Clients covered before the first choice (by existing sites).

    Returns
    -------
    GreedyCover

    Notes
    -----
    Ties go to the lower row. The loop runs over choices and re-evaluations of stale
    gains, never over clients; a re-evaluation sums the weights of one row.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> a = sp.csr_matrix(np.array([[1, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 1]]))
    >>> g = greedy_max_cover(a, np.array([1.0, 5.0, 5.0, 1.0]), 2)
    >>> g.chosen.tolist(), g.gains.tolist()
    ([1, 0], [10.0, 1.0])
    """
    matrix = _binary(coverage)
    n_cols = matrix.shape[1]
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (n_cols,) or (w < 0).any():
        raise ConfigError(f"weights must be {n_cols} values >= 0")
    done = np.zeros(n_cols, dtype=bool) if covered is None else np.asarray(covered, bool).copy()
    residual = np.where(done, 0.0, w)
    indptr, indices = matrix.indptr, matrix.indices
    gains = matrix @ residual
    heap = [(-float(g), int(i)) for i, g in enumerate(gains) if g > 0]
    heapq.heapify(heap)
    bound = _online_bound(0.0, gains, k)
    # The bound costs one pass over the matrix; on big inputs only at about ten steps.
    every = matrix.nnz * k <= _BOUND_BUDGET
    checkpoints = set(np.linspace(1, max(k, 1), min(max(k, 1), 10)).round().astype(int))
    chosen: list[int] = []
    added: list[float] = []
    total = 0.0
    while len(chosen) < k and heap:
        _, i = heapq.heappop(heap)
        cols = indices[indptr[i] : indptr[i + 1]]
        fresh = float(residual[cols].sum())
        if fresh <= 0:
            continue
        if heap and (-fresh, i) > heap[0]:
            heapq.heappush(heap, (-fresh, i))  # stale: someone else may be better now
            continue
        chosen.append(i)
        added.append(fresh)
        total += fresh
        residual[cols] = 0.0
        done[cols] = True
        if every or len(chosen) in checkpoints:
            bound = min(bound, _online_bound(total, matrix @ residual, k))
    if not (every or len(chosen) in checkpoints):
        bound = min(bound, _online_bound(total, matrix @ residual, k))
    return GreedyCover(
        np.asarray(chosen, dtype=np.int64), np.asarray(added, dtype=np.float64), done, bound
    )


def _binary(coverage: sp.spmatrix | sp.sparray) -> sp.csr_matrix:
    """Canonical CSR copy with 1.0 wherever a non-zero is stored.

    Explicit coverage sets may hold any non-zero (a distance, a signal); only presence counts.
    """
    matrix = sp.csr_matrix(coverage, dtype=np.float64, copy=True)
    matrix.sum_duplicates()  # also sorts the indices; a no-op on canonical matrices
    if (matrix.data == 0).any():
        matrix.eliminate_zeros()
    matrix.data[:] = 1.0
    return matrix


def _online_bound(total: float, gains: NDArray[np.float64], k: int) -> float:
    if k <= 0 or gains.size == 0:
        return total
    top = gains if gains.size <= k else np.partition(gains, gains.size - k)[-k:]
    return total + float(top.sum())


def coverage_matrix(
    site_x: NDArray[np.floating],
    site_y: NDArray[np.floating],
    client_x: NDArray[np.floating],
    client_y: NDArray[np.floating],
    radius_m: float,
) -> sp.csr_matrix:
    """Sparse sites × clients matrix: 1 where a client lies within ``radius_m`` of a site.

    Built from two KD-trees (``sparse_distance_matrix``): memory grows with the number
    of covered pairs, not with sites × clients. A distance equal to the radius covers.

    Examples
    --------
    >>> m = coverage_matrix(np.array([0.0]), np.array([0.0]), np.array([3.0, 5.0, 6.0]),
    ...                     np.zeros(3), 5.0)
    >>> m.toarray().tolist()
    [[1, 1, 0]]
    """
    n_sites, n_clients = len(site_x), len(client_x)
    if n_sites == 0 or n_clients == 0:
        return sp.csr_matrix((n_sites, n_clients), dtype=np.int8)
    points = np.column_stack([site_x, site_y]).astype(np.float64)
    clients = KDTree(np.column_stack([client_x, client_y]))
    # Sites in chunks: the pair records (24 bytes each) of one chunk at a time, not all.
    parts = []
    for start in range(0, n_sites, _SITE_CHUNK):
        chunk = KDTree(points[start : start + _SITE_CHUNK])
        pairs = chunk.sparse_distance_matrix(clients, radius_m, output_type="ndarray")
        part = sp.csr_matrix(
            (np.ones(len(pairs), dtype=np.int8), (pairs["i"], pairs["j"])),
            shape=(chunk.n, n_clients),
        )
        part.sort_indices()
        parts.append(part)
    return parts[0] if len(parts) == 1 else sp.vstack(parts, format="csr")


def candidate_grid(
    bounds: tuple[float, float, float, float],
    spacing_m: float,
    *,
    within: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
) -> pd.DataFrame:
    """Lay a regular grid of candidate sites: the centres of square cells of ``spacing_m``.

    Cells are aligned to multiples of the spacing (so a 1,000 m grid is the DDKN 1 km
    grid and its sites are named after their cell, e.g. ``1km_6223_576``; other spacings
    give ``grid<spacing>m_<northing>_<easting>`` in metres). Only cells whose centre
    lies within ``bounds`` (and, if given, inside or on one of the ``within`` polygons)
    are kept.

    Returns
    -------
    pandas.DataFrame
        ``site_id``, ``x``, ``y``; ``attrs["crs"]`` is EPSG:25832 (or ``within``'s CRS).

    Examples
    --------
    >>> candidate_grid((0, 0, 2000, 1000), 1000)["site_id"].tolist()
    ['1km_0_0', '1km_0_1']
    """
    if not (math.isfinite(spacing_m) and spacing_m > 0):
        raise ConfigError(f"spacing_m must be > 0, got {spacing_m!r}")
    xmin, ymin, xmax, ymax = bounds
    c0 = math.floor(xmin / spacing_m)
    r0 = math.floor(ymin / spacing_m)
    count = (math.floor(xmax / spacing_m) + 1 - c0) * (math.floor(ymax / spacing_m) + 1 - r0)
    if count > MAX_CANDIDATES:
        raise ConfigError(
            f"a candidate grid at {spacing_m:g} m over this area has {count:,} sites, more than "
            f"{MAX_CANDIDATES:,}: choose a larger candidate_spacing_m (masts stand hundreds of "
            "metres apart at the least)"
        )
    cols = np.arange(c0, math.floor(xmax / spacing_m) + 1)
    rows = np.arange(r0, math.floor(ymax / spacing_m) + 1)
    cc, rr = np.meshgrid(cols, rows)
    x = (cc.ravel() + 0.5) * spacing_m
    y = (rr.ravel() + 0.5) * spacing_m
    keep = (x >= xmin) & (x <= xmax) & (y >= ymin) & (y <= ymax)
    crs: object = S.WORKING_CRS
    if within is not None:
        crs = within.crs
        polygons = np.asarray(within.geometry.array, dtype=object)
        keep &= locate_points(x.astype(np.float64), y.astype(np.float64), polygons) >= 0
    x, y = x[keep], y[keep]
    size = next((name for name, side in DDKN_SIZES.items() if side == spacing_m), None)
    if size is not None:
        ids = ddkn_cell_names(x, y, size)
    else:
        ids = np.array(
            [f"grid{spacing_m:g}m_{int(b)}_{int(a)}" for a, b in zip(x, y, strict=True)],
            dtype=object,
        )
    table = pd.DataFrame({"site_id": ids, S.X: x, S.Y: y})
    table.attrs["crs"] = crs
    return table


def _site_table(sites: pd.DataFrame | gpd.GeoDataFrame, what: str, crs: object) -> pd.DataFrame:
    """``site_id``, ``x``, ``y`` of a point layer or a table with x/y, in the households' CRS."""
    if isinstance(sites, gpd.GeoDataFrame) and sites._geometry_column_name in sites:
        x, y = point_coordinates(np.asarray(sites.geometry.array, dtype=object), source=what)
        layer_crs = sites.crs
    else:
        missing = [c for c in (S.X, S.Y) if c not in sites]
        if missing:
            raise SchemaError(
                Problem(
                    what,
                    f"no column {missing[0]!r}",
                    column=missing[0],
                    fix="give points (a GeoDataFrame) or a table with x and y columns",
                )
            )
        x = sites[S.X].to_numpy(np.float64)
        y = sites[S.Y].to_numpy(np.float64)
        layer_crs = sites.attrs.get("crs")
    if layer_crs is None:
        raise CRSError(
            Problem(
                what,
                "the sites have no CRS",
                fix="use a GeoDataFrame with a CRS, or set table.attrs['crs'] = 'EPSG:25832'",
            )
        )
    reference = pd.DataFrame()
    reference.attrs["crs"] = crs
    check_crs(reference, layer_crs, what, what)
    bad = ~(np.isfinite(x) & np.isfinite(y))
    if bad.any():
        raise SchemaError(
            Problem(
                what,
                "sites without finite coordinates",
                rows=tuple(sites.index[bad][:5]),
                count=int(bad.sum()),
                fix="drop them or give their coordinates",
            )
        )
    ids = sites["site_id"] if "site_id" in sites else pd.Series(sites.index)
    return pd.DataFrame({"site_id": ids.astype(str).to_numpy(object), S.X: x, S.Y: y})


def _merge_clients(
    matrix: sp.csc_matrix, weights: NDArray[np.float64]
) -> tuple[sp.csc_matrix, NDArray[np.float64]]:
    """Merge clients (columns) reached by exactly the same sites; their weights add up.

    Columns are grouped by their number of sites and two random 64-bit hashes of the
    site set, then every column is compared entry by entry with its group's first
    column, so the merge is exact (on a hash collision nothing is merged).
    """
    matrix = sp.csc_matrix(matrix)
    matrix.sort_indices()
    n_rows, n_cols = matrix.shape
    degree = np.diff(matrix.indptr)
    if n_cols == 0 or matrix.nnz == 0:
        return matrix, weights
    rng = np.random.default_rng(20240412)
    keys = []
    for _ in range(2):
        salt = rng.integers(0, 2**63, size=n_rows, dtype=np.int64).astype(np.uint64)
        # reduceat over each column's entries; an empty column hashes to 0.
        values = np.append(salt[matrix.indices], np.uint64(0))
        sums = np.add.reduceat(values, np.minimum(matrix.indptr[:-1], matrix.nnz))
        keys.append(np.where(degree > 0, sums, np.uint64(0)))
    key = np.column_stack([degree.astype(np.uint64), *keys])
    _, first, group = np.unique(key, axis=0, return_index=True, return_inverse=True)
    group = group.ravel()
    rep = first[group]
    column_of_entry = np.repeat(np.arange(n_cols), degree)
    offset = np.arange(matrix.nnz) - matrix.indptr[column_of_entry]
    mirror = matrix.indptr[rep[column_of_entry]] + offset
    if not np.array_equal(matrix.indices, matrix.indices[mirror]):
        return matrix, weights
    merged = np.bincount(group, weights=weights, minlength=first.size)
    return matrix[:, first], np.asarray(merged, dtype=np.float64)


def _solve_bounds(
    matrix: sp.csr_matrix,
    weights: NDArray[np.float64],
    covered: NDArray[np.bool_],
    greedy: GreedyCover,
    spec: SitingSpec,
) -> SitingBounds:
    total = float(greedy.gains.sum())
    common = {
        "greedy_households": total,
        "guarantee_upper_bound": total / GREEDY_GUARANTEE,
        "online_upper_bound": greedy.online_upper_bound,
    }
    k = spec.sites
    if spec.lp_max_nonzeros == 0:
        return SitingBounds(**common, lp_note="LP switched off (lp_max_nonzeros = 0)")
    open_clients = np.flatnonzero(~covered & (weights > 0))
    sites_per_client = np.bincount(matrix.indices, minlength=matrix.shape[1])
    if sites_per_client[open_clients].sum() > _MERGE_FACTOR * spec.lp_max_nonzeros:
        # Merging shrank real coverage matrices about sixfold; beyond that it is wasted work.
        return SitingBounds(
            **common, lp_note=_too_big(int(sites_per_client[open_clients].sum()), spec)
        )
    reduced = sp.csc_matrix(matrix)[:, open_clients]
    reachable = np.diff(reduced.indptr) > 0
    reduced = reduced[:, reachable]
    w = weights[open_clients][reachable]
    if reduced.nnz == 0 or k == 0:
        return SitingBounds(**common, lp_upper_bound=0.0, optimum=0.0, lp_note="nothing to add")
    merged, w = _merge_clients(reduced, w)
    used = np.flatnonzero(np.diff(sp.csr_matrix(merged).indptr) > 0)
    merged = sp.csr_matrix(merged)[used]
    size = merged.nnz + merged.shape[0] + merged.shape[1]
    if size > spec.lp_max_nonzeros:
        return SitingBounds(**common, lp_note=_too_big(size, spec))
    n_sites, n_groups = merged.shape
    a = sp.vstack(
        [
            sp.hstack([-merged.T.astype(np.float64), sp.identity(n_groups)]),
            sp.hstack([np.ones((1, n_sites)), sp.csr_matrix((1, n_groups))]),
        ],
        format="csr",
    )
    upper = np.append(np.zeros(n_groups), min(k, n_sites))
    cost = np.append(np.zeros(n_sites), -w)
    options = {"time_limit": spec.lp_time_limit_s}
    # The interior-point solver was 2-3 times faster than dual simplex on these LPs.
    lp = linprog(cost, A_ub=a, b_ub=upper, bounds=(0, 1), method="highs-ipm", options=options)
    note = f"LP: {n_sites} sites x {n_groups} merged client groups, {size} non-zeros"
    lp_bound = -float(lp.fun) if lp.status == 0 else None
    if lp.status != 0:
        note += f"; not solved ({lp.message})"
    optimum = milp_bound = None
    if spec.exact:
        integrality = np.append(np.ones(n_sites), np.zeros(n_groups))
        mip = milp(
            cost,
            integrality=integrality,
            bounds=Bounds(0, 1),
            constraints=LinearConstraint(a, -np.inf, upper),
            options=options,
        )
        if mip.status == 0:
            optimum = -float(mip.fun)
            note += "; integer optimum found"
        else:
            dual = getattr(mip, "mip_dual_bound", None)
            milp_bound = None if dual is None or not np.isfinite(dual) else -float(dual)
            note += f"; integer programme not finished ({mip.message})"
    return SitingBounds(
        **common,
        lp_upper_bound=lp_bound,
        optimum=optimum,
        milp_upper_bound=milp_bound,
        lp_note=note,
    )


def _too_big(size: int, spec: SitingSpec) -> str:
    return (
        f"LP not solved: {size} non-zeros > lp_max_nonzeros = {spec.lp_max_nonzeros}; "
        "the (1 - 1/e) and online bounds hold"
    )


@dataclass(frozen=True, eq=False)
class SitingResult:
    """What :func:`choose_sites` chose and how good the choice is.

    Attributes
    ----------
    sites
        Existing sites (``rank`` 0, ``existing`` True) in the order given, then the chosen
        ones (``rank`` 1, 2, ...): ``site_id``, ``x``, ``y``,
        ``newly_covered_households`` (never increasing over the chosen sites),
        ``cumulative_covered_households``, ``newly_covered_addresses``,
        ``cumulative_covered_addresses``, ``cumulative_share`` (of the demand
        households) and the provenance columns.
    bounds
        How far the choice can be from the optimum.
    covered_by
        For every row of the classified table, the rank of the first site that covers
        it (0 for an existing site), ``<NA>`` when it is no demand or not covered.
    demand_households, demand_addresses
        Households (and addresses) to cover: the demand rows with a municipality.
    reachable_households
        Demand households within reach of some candidate or existing site.
    candidates
        Number of candidate sites considered.
    problems
        Warnings (demand households not counted in any municipality are left out).
    """

    sites: pd.DataFrame
    bounds: SitingBounds
    covered_by: pd.Series
    demand_households: int
    demand_addresses: int
    reachable_households: int
    candidates: int
    problems: tuple[Problem, ...] = field(default=())


def choose_sites(
    classified: pd.DataFrame,
    provenance: Provenance,
    spec: SitingSpec,
    *,
    candidates: pd.DataFrame | gpd.GeoDataFrame | None = None,
    existing: pd.DataFrame | gpd.GeoDataFrame | None = None,
    coverage: sp.spmatrix | sp.sparray | None = None,
    existing_coverage: sp.spmatrix | sp.sparray | None = None,
) -> SitingResult:
    """Choose ``spec.sites`` new sites that cover the most demand households.

    Parameters
    ----------
    classified
        Output of :func:`coverage_gap.classify` (``x``, ``y``, ``households``,
        ``assignment`` and the demand column, by default ``underserved``). Demand
        households not counted in any municipality are left out (and reported), as in the
        municipality table.
    provenance
        Standard, denominator, data year and source, written into every row.
    spec
        Number of sites, radius, demand column, candidate grid, bound limits.
    candidates
        Candidate sites: points (GeoDataFrame) or a table with ``x``, ``y`` (CRS in
        ``attrs["crs"]``), optionally ``site_id``. None: a grid of
        ``spec.candidate_spacing_m`` over the demand, keeping only grid points that
        reach some demand household.
    existing
        Sites that stay; what they cover counts first.
    coverage, existing_coverage
        Explicit coverage sets instead of the radius: sparse matrices with one row per
        candidate (existing) site and one column per row of ``classified``; a stored
        non-zero means covered (e.g. from a per-site coverage raster sampled at the
        households). ``existing_coverage`` is needed with ``existing`` when
        ``coverage`` is given.

    Returns
    -------
    SitingResult

    Examples
    --------
    >>> from coverage_gap.standards import DK_100_30
    >>> c = pd.DataFrame({"x": [0.0, 100.0, 5000.0, 5100.0, 9000.0],
    ...                   "y": [0.0] * 5, "households": [1, 1, 3, 1, 1],
    ...                   "underserved": [True] * 5, "assignment": ["inside"] * 5})
    >>> c.attrs["crs"] = "EPSG:25832"
    >>> sites = pd.DataFrame({"site_id": ["west", "middle", "east"],
    ...                       "x": [50.0, 5050.0, 9000.0], "y": [0.0, 0.0, 0.0]})
    >>> sites.attrs["crs"] = "EPSG:25832"
    >>> r = choose_sites(c, Provenance(DK_100_30), SitingSpec(sites=2, radius_m=100),
    ...                  candidates=sites)
    >>> r.sites[["rank", "site_id", "newly_covered_households"]].values.tolist()
    [[1, 'middle', 4], [2, 'west', 2]]
    >>> r.bounds.optimum is None, r.bounds.lp_upper_bound
    (True, 6.0)
    """
    crs = classified.attrs.get("crs")
    if crs is None:
        raise CRSError(Problem("households", "the classified table has no CRS in attrs['crs']"))
    if spec.demand not in classified:
        raise SchemaError(
            Problem(
                "households",
                f"the classified table has no demand column {spec.demand!r}",
                column=spec.demand,
                fix="classify the households first, or name a boolean column in SitingSpec",
            )
        )
    demand_flag = classified[spec.demand]
    if not pd.api.types.is_bool_dtype(demand_flag.dtype):
        raise SchemaError(
            Problem(
                "households",
                f"the demand column {spec.demand!r} holds {demand_flag.dtype} values, not "
                "true/false: a count or a code would make every household with a value demand",
                column=spec.demand,
                fix='name a boolean column of the classified table ("underserved", '
                '"fixed_unserved", "mobile_unserved", ...)',
            )
        )
    if pd.isna(demand_flag).any():
        raise SchemaError(
            Problem(
                "households",
                f"the demand column {spec.demand!r} has missing values",
                column=spec.demand,
                count=int(pd.isna(demand_flag).sum()),
            )
        )
    x_all = classified[S.X].to_numpy(np.float64)
    y_all = classified[S.Y].to_numpy(np.float64)
    assigned = (
        classified[S.ASSIGNMENT].isin(S.COUNTED).to_numpy()
        if S.ASSIGNMENT in classified
        else np.ones(len(classified), dtype=bool)
    )
    wanted = np.asarray(demand_flag, dtype=bool)
    rows = np.flatnonzero(wanted & assigned & np.isfinite(x_all) & np.isfinite(y_all))
    weights_all = classified[S.HOUSEHOLDS].to_numpy(np.float64)
    weights = weights_all[rows]
    x, y = x_all[rows], y_all[rows]
    problems = _demand_problems(wanted & ~assigned, weights_all)

    if coverage is not None and candidates is None:
        raise ConfigError("explicit coverage sets need the candidate sites they belong to")
    if candidates is None:
        if spec.candidate_spacing_m is None:
            raise ConfigError("give candidate sites or SitingSpec(candidate_spacing_m=...)")
        table = _grid_over(x, y, spec)
        matrix = coverage_matrix(table[S.X], table[S.Y], x, y, spec.radius_m)
        useful = np.diff(matrix.indptr) > 0
        table, matrix = table[useful].reset_index(drop=True), matrix[useful]
    else:
        table = _site_table(candidates, "candidate sites", crs)
        matrix = _coverage_for(table, coverage, rows, len(classified), x, y, spec, "candidates")
    covered = np.zeros(rows.size, dtype=bool)
    existing_table = pd.DataFrame({"site_id": [], S.X: [], S.Y: []})
    existing_matrix = sp.csr_matrix((0, rows.size), dtype=np.int8)
    if existing is not None:
        existing_table = _site_table(existing, "existing sites", crs)
        if coverage is not None and existing_coverage is None:
            raise ConfigError("with explicit coverage sets, give existing_coverage too")
        existing_matrix = _coverage_for(
            existing_table, existing_coverage, rows, len(classified), x, y, spec, "existing"
        )
        covered = np.diff(sp.csc_matrix(existing_matrix).indptr) > 0
    greedy = greedy_max_cover(matrix, weights, spec.sites, covered=covered)
    bounds = _solve_bounds(matrix, weights, covered, greedy, spec)
    reach = (np.bincount(matrix.indices, minlength=rows.size) > 0) | covered
    order = sp.vstack([existing_matrix, matrix[greedy.chosen]], format="csr")
    ranks = np.append(
        np.zeros(len(existing_table), dtype=np.int64), np.arange(1, greedy.chosen.size + 1)
    )
    first_rank, new_households, new_addresses = _first_cover(order, ranks, weights)
    chosen = table.iloc[greedy.chosen]
    sites = (
        pd.concat([existing_table, chosen], ignore_index=True)
        if len(existing_table)
        else chosen.reset_index(drop=True)
    )
    demand_total = float(weights.sum())
    sites.insert(0, "rank", ranks)
    sites["existing"] = np.arange(len(sites)) < len(existing_table)
    sites["newly_covered_households"] = np.rint(new_households).astype(np.int64)
    sites["cumulative_covered_households"] = np.cumsum(sites["newly_covered_households"])
    sites["newly_covered_addresses"] = new_addresses
    sites["cumulative_covered_addresses"] = np.cumsum(new_addresses)
    sites["cumulative_share"] = (
        sites["cumulative_covered_households"] / demand_total if demand_total > 0 else np.nan
    )
    for name, value in provenance.columns().items():
        sites[name] = value
    sites.attrs["provenance"] = provenance
    sites.attrs["crs"] = crs
    covered_by = np.full(len(classified), -1, dtype=np.int64)
    covered_by[rows] = first_rank
    return SitingResult(
        sites=sites,
        bounds=bounds,
        covered_by=pd.Series(
            pd.arrays.IntegerArray(np.maximum(covered_by, 0), covered_by < 0),
            index=classified.index,
            name="covered_by_rank",
        ),
        demand_households=int(np.rint(demand_total)),
        demand_addresses=int(rows.size),
        reachable_households=int(np.rint(weights[reach].sum())),
        candidates=len(table),
        problems=problems,
    )


def _grid_over(x: NDArray[np.float64], y: NDArray[np.float64], spec: SitingSpec) -> pd.DataFrame:
    assert spec.candidate_spacing_m is not None
    if x.size == 0:
        return pd.DataFrame({"site_id": pd.Series([], dtype=object), S.X: [], S.Y: []})
    r = spec.radius_m
    bounds = (x.min() - r, y.min() - r, x.max() + r, y.max() + r)
    return candidate_grid(bounds, spec.candidate_spacing_m)


def _coverage_for(
    table: pd.DataFrame,
    explicit: sp.spmatrix | sp.sparray | None,
    rows: NDArray[np.int64],
    n_rows: int,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    spec: SitingSpec,
    what: str,
) -> sp.csr_matrix:
    if explicit is None:
        return coverage_matrix(table[S.X], table[S.Y], x, y, spec.radius_m)
    matrix = _binary(explicit)
    if matrix.shape != (len(table), n_rows):
        raise ConfigError(
            f"the {what} coverage matrix is {matrix.shape}; it must have one row per site "
            f"({len(table)}) and one column per household row ({n_rows})"
        )
    matrix = matrix[:, rows]
    matrix.sort_indices()
    return matrix


def _first_cover(
    order: sp.csr_matrix, ranks: NDArray[np.int64], weights: NDArray[np.float64]
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.int64]]:
    """Rank of the first site covering each client; what each site adds (households, rows)."""
    first = np.full(order.shape[1], -1, dtype=np.int64)
    households = np.zeros(order.shape[0])
    addresses = np.zeros(order.shape[0], dtype=np.int64)
    for i in range(order.shape[0]):  # over sites (k + existing), never over households
        cols = order.indices[order.indptr[i] : order.indptr[i + 1]]
        new = cols[first[cols] < 0]
        first[new] = ranks[i]
        households[i] = weights[new].sum()
        addresses[i] = new.size
    return first, households, addresses


def _demand_problems(lost: NDArray[np.bool_], weights: NDArray[np.float64]) -> tuple[Problem, ...]:
    if not lost.any():
        return ()
    return (
        Problem(
            "households",
            f"{int(np.rint(weights[lost].sum()))} demand households are not counted in any "
            "municipality (outside the selection, unassigned or invalid) and are not "
            "counted as demand",
            count=int(lost.sum()),
            severity="warning",
            fix="see reconcile() for them",
        ),
    )

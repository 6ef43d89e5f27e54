"""Bredbåndspuljen: which addresses the state broadband pool could support, by year's rules.

The pool's rules changed over the years (``../shared/DOMAIN.md``; digst.dk, SDFI):

- **"2023"** (:data:`POOL_2023`): an address qualified when no fixed offer reached
  30 Mbit/s down and 5 Mbit/s up, in landzone or a summer-house area (byzone addresses
  were not eligible).
- **"2024"** (:data:`POOL_2024`): homes, businesses and summer houses with less than
  100 Mbit/s download on fixed broadband **and** less than 600 Mbit/s on mobile
  broadband, in landzone or a summer-house area, or in byzone in a town of fewer than
  2,000 inhabitants.
- **"10/2"** (:data:`POOL_10_2`): the early rule kept by
  :func:`coverage_gap.danish.rules.subsidy_pool_status`: no offer above 10/2 Mbit/s.

Speeds are judged on the standard-independent
:class:`~coverage_gap.evidence.Evidence` (offers already joined to addresses): "less
than 100 Mbit/s" means no single fixed offer reaches 100 Mbit/s; a missing offer never
counts as one that reaches a threshold, and an offer without an upload figure cannot
prove an upload threshold (``missing_upload="unserved"``). "No planned upgrade within
three years" is not in the mapping data and is not assessed.

Zone and town size, when they are unknown:

- The zone comes from the household table's zone column (DAWA ``zone``: ``Byzone``,
  ``Landzone``, ``Sommerhusområde``; case, spaces and ``aa`` for ``å`` do not matter).
  An address whose zone is missing or not one of these three meets the speed condition
  but gets the status ``undetermined (zone unknown)``; without a zone column at all every
  such address does, and a warning says so. Eligible addresses are then a lower bound,
  eligible plus undetermined an upper bound.
- The town size (inhabitants of the town an address lies in) is an explicit input: a
  column named in :attr:`PoolSpec.town_population_column`. Without it, byzone
  addresses that meet the speed condition of a rule set that admits small towns are
  ``undetermined (town size unknown)``, with a warning.

Projects: eligible addresses are grouped into clusters by single linkage: two eligible
addresses belong to one cluster when a chain of eligible addresses joins them with no
step longer than :attr:`PoolSpec.cluster_distance_m` (default 500 m, a planning
assumption, not a pool rule). Pairs within that distance come from a KD-tree and the
clusters are the connected components of that graph.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass, field
from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import KDTree

from .. import schema as S
from ..aggregate import Provenance, category_codes
from ..assign import selected_municipalities
from ..errors import ConfigError, Problem, SchemaError
from ..evidence import Evidence, MatchedOffers
from ..standards import MissingUpload

#: Normalised zone names (DAWA's values, lower case).
ZONES: Final = ("byzone", "landzone", "sommerhusområde")
_BYZONE, _LANDZONE, _SUMMER = 0, 1, 2
_ZONE_MISSING, _ZONE_UNKNOWN = -1, -2
_ZONE_KEYS: Final = {
    "byzone": _BYZONE,
    "landzone": _LANDZONE,
    "sommerhusomrade": _SUMMER,
    "sommerhus": _SUMMER,
}

#: Status of an address under one rule set.
POOL_STATUS: Final = (
    "eligible",
    "undetermined (zone unknown)",
    "undetermined (town size unknown)",
    "not eligible (speed)",
    "not eligible (zone)",
)
_ELIGIBLE, _ZONE_UNKNOWN_STATUS, _TOWN_UNKNOWN, _SPEED, _ZONE = range(5)
# Eligibility level of each status: 2 eligible, 1 undetermined, 0 not eligible.
_LEVEL = np.array([2, 1, 1, 0, 0], dtype=np.int8)

#: How :func:`pool_changes` names a change of level between two rule sets.
CHANGES: Final = ("enters", "leaves", "may enter", "may leave")

DEFAULT_CLUSTER_DISTANCE_M: Final = 500.0


@dataclass(frozen=True)
class PoolRuleSet:
    """One year's eligibility rule of the broadband pool.

    An address meets the speed condition when no fixed offer reaches
    ``fixed_down_mbps`` down (and ``fixed_up_mbps`` up, if set, in the same offer) and,
    if ``mobile_down_mbps`` is set, no mobile offer reaches that download. It meets the
    zone condition in one of ``zones``, or in byzone when ``byzone_town_below`` is set
    and its town has fewer inhabitants than that.

    Parameters
    ----------
    name
        Short name, used in tables and column names (``"2024"``).
    fixed_down_mbps, fixed_up_mbps
        The fixed offer an address must lack.
    mobile_down_mbps
        The mobile download an address must lack; None: no mobile condition.
    zones
        Eligible zones (of :data:`ZONES`).
    byzone_town_below
        Byzone addresses in towns with fewer inhabitants are eligible; None: never.
    missing_upload
        How an offer without an upload figure counts against ``fixed_up_mbps``.
    source
        Where the rule is stated.

    Examples
    --------
    >>> print(POOL_2024.describe().replace("; ", chr(10)))
    Bredbåndspuljen 2024: no fixed offer ≥ 100 Mbit/s down and no mobile offer ≥ 600 Mbit/s down
    landzone, sommerhusområde, or byzone in towns < 2000 inhabitants
    """

    name: str
    fixed_down_mbps: float
    fixed_up_mbps: float | None = None
    mobile_down_mbps: float | None = None
    zones: tuple[str, ...] = ("landzone", "sommerhusområde")
    byzone_town_below: int | None = None
    missing_upload: MissingUpload = "unserved"
    source: str = ""

    def __post_init__(self) -> None:
        problems = []
        for name in (S.FIXED_DOWN, S.FIXED_UP, S.MOBILE_DOWN):
            value = getattr(self, name)
            if value is not None and (not math.isfinite(value) or value < 0):
                problems.append(f"{name} must be a finite number >= 0, got {value!r}")
        unknown = [z for z in self.zones if z not in ZONES]
        if unknown:
            problems.append(f"zones must be among {list(ZONES)}, got {unknown}")
        if self.byzone_town_below is not None and self.byzone_town_below <= 0:
            problems.append(f"byzone_town_below must be > 0, got {self.byzone_town_below}")
        if self.missing_upload not in ("unserved", "download_only"):
            problems.append("missing_upload must be 'unserved' or 'download_only'")
        if problems:
            raise ConfigError(f"pool rule set {self.name!r}: " + "; ".join(problems))

    def describe(self) -> str:
        """One line stating the rule, for tables and footers."""
        fixed = f"{self.fixed_down_mbps:g}"
        if self.fixed_up_mbps is not None:
            fixed += f"/{self.fixed_up_mbps:g}"
        speed = f"no fixed offer ≥ {fixed} Mbit/s" + (" down" if self.fixed_up_mbps is None else "")
        if self.mobile_down_mbps is not None:
            speed += f" and no mobile offer ≥ {self.mobile_down_mbps:g} Mbit/s down"
        zones = ", ".join(self.zones)
        if self.byzone_town_below is not None:
            zones += f", or byzone in towns < {self.byzone_town_below} inhabitants"
        return f"Bredbåndspuljen {self.name}: {speed}; {zones}"


POOL_2023: Final = PoolRuleSet(
    "2023",
    fixed_down_mbps=30,
    fixed_up_mbps=5,
    source="Bredbåndspuljen until 2023 (SDFI): no 30/5 Mbit/s, landzone or summer-house area",
)
POOL_2024: Final = PoolRuleSet(
    "2024",
    fixed_down_mbps=100,
    mobile_down_mbps=600,
    byzone_town_below=2000,
    source="Bredbåndspuljen 2024 and 2025 (SDFI hearing 12 Apr 2024; digst.dk)",
)
POOL_10_2: Final = PoolRuleSet(
    "10/2",
    # "More than 10/2" as the library's ">=": the next float above 10 and 2.
    fixed_down_mbps=float(np.nextafter(10.0, np.inf)),
    fixed_up_mbps=float(np.nextafter(2.0, np.inf)),
    source="Bredbåndspuljen, early rounds: no offer above 10/2 Mbit/s",
)
#: Named rule sets.
POOL_RULES: Final = {r.name: r for r in (POOL_2023, POOL_2024, POOL_10_2)}


def get_pool_rules(name: str | PoolRuleSet) -> PoolRuleSet:
    """Look up a rule set by name (``"2023"``, ``"2024"``, ``"10/2"``); pass one through.

    Examples
    --------
    >>> get_pool_rules("2023").fixed_up_mbps
    5
    """
    if isinstance(name, PoolRuleSet):
        return name
    key = str(name).strip()
    if key not in POOL_RULES:
        raise ConfigError(f"unknown pool rule set {name!r}; known: {list(POOL_RULES)}")
    return POOL_RULES[key]


@dataclass(frozen=True)
class PoolSpec:
    """What :func:`assess_pool` computes.

    Parameters
    ----------
    rule_sets
        Rule sets by name or as :class:`PoolRuleSet`, in output order.
    compare
        Two rule-set names whose difference :attr:`PoolResult.changes` lists; by
        default the first and the last.
    cluster_distance_m
        Largest step (metres) between two eligible addresses of one cluster.
    zone_column
        Column of the household table with the zone (DAWA ``zone``).
    town_population_column
        Column with the inhabitants of the town each address lies in (needed for the
        byzone part of the 2024 rule); None when not known.

    Examples
    --------
    >>> [r.name for r in PoolSpec().rules]
    ['2023', '2024']
    """

    rule_sets: tuple[str | PoolRuleSet, ...] = ("2023", "2024")
    compare: tuple[str, str] | None = None
    cluster_distance_m: float = DEFAULT_CLUSTER_DISTANCE_M
    zone_column: str = "zone"
    town_population_column: str | None = None

    def __post_init__(self) -> None:
        names = [r.name for r in self.rules]
        if not names:
            raise ConfigError("pool spec: give at least one rule set")
        if len(set(names)) != len(names):
            raise ConfigError(f"pool spec: rule set names repeat: {names}")
        if self.compare is not None and (
            len(self.compare) != 2 or not set(self.compare) <= set(names)
        ):
            raise ConfigError(f"pool spec: compare must name two of {names}, got {self.compare}")
        if not (math.isfinite(self.cluster_distance_m) and self.cluster_distance_m >= 0):
            raise ConfigError(
                f"pool spec: cluster_distance_m must be >= 0, got {self.cluster_distance_m}"
            )

    @property
    def rules(self) -> tuple[PoolRuleSet, ...]:
        """The rule sets, resolved."""
        return tuple(get_pool_rules(r) for r in self.rule_sets)

    @property
    def compared(self) -> tuple[str, str]:
        """The two rule sets compared."""
        if self.compare is not None:
            return (self.compare[0], self.compare[1])
        names = [r.name for r in self.rules]
        return names[0], names[-1]


def _zone_key(value: object) -> str:
    text = unicodedata.normalize("NFKD", str(value)).casefold()
    text = "".join(ch for ch in text if ch.isalnum() and not unicodedata.combining(ch))
    return text.replace("aa", "a")


def normalize_zones(
    values: pd.Series | None, n: int | None = None
) -> tuple[NDArray[np.int8], tuple[str, ...]]:
    """Zone of each address as a position in :data:`ZONES`; -1 missing, -2 unrecognised.

    Parameters
    ----------
    values
        Zone values as DAWA writes them (``Byzone``, ``Landzone``,
        ``Sommerhusområde``); case, spaces, accents and ``aa`` for ``å`` do not matter.
        None: no zone column (every zone missing; give ``n``).
    n
        Number of addresses when ``values`` is None.

    Returns
    -------
    tuple
        ``(codes, unrecognised)``: int8 codes and the distinct values not understood.

    Examples
    --------
    >>> values = pd.Series(["Landzone", "SOMMERHUSOMRAADE", None, " ", "by zone", "Bymidte"])
    >>> codes, odd = normalize_zones(values)
    >>> codes.tolist(), odd
    ([1, 2, -1, -1, 0, -2], ('Bymidte',))
    """
    if values is None:
        return np.full(n or 0, _ZONE_MISSING, dtype=np.int8), ()
    codes, uniques = pd.factorize(values.astype(object), use_na_sentinel=True)
    # A loop over the distinct values (a handful), never over addresses.
    blank = [not str(u).strip() for u in uniques]
    mapped = np.array(
        [
            _ZONE_MISSING if empty else _ZONE_KEYS.get(_zone_key(u), _ZONE_UNKNOWN)
            for u, empty in zip(uniques, blank, strict=True)
        ]
        + [_ZONE_MISSING],
        dtype=np.int8,
    )
    unrecognised = tuple(str(u) for u, m in zip(uniques, mapped, strict=False) if m == -2)
    return mapped[codes], unrecognised


def pool_status(
    fixed: MatchedOffers,
    mobile: MatchedOffers | None,
    zones: NDArray[np.int8],
    town_population: NDArray[np.float64] | None,
    rules: PoolRuleSet,
) -> NDArray[np.int8]:
    """Status of every address under one rule set (positions in :data:`POOL_STATUS`).

    Order of the tests: a known zone outside the rule's zones (or byzone in a town known
    to be too large) is ``not eligible (zone)``; otherwise an address with a fast
    enough offer is ``not eligible (speed)``; otherwise an unknown zone or town size
    makes it undetermined; otherwise it is eligible.

    Parameters
    ----------
    fixed, mobile
        Offers matched to the addresses (mobile may be None: no mobile offers known).
    zones
        Output of :func:`normalize_zones`.
    town_population
        Inhabitants of each address's town (NaN unknown), or None when not known at all.
    rules
        The rule set.

    Examples
    --------
    >>> fixed = MatchedOffers(np.array([0, 1]), np.array([50.0, 200.0]),
    ...                       np.array([10.0, 50.0]), n_households=3)
    >>> zones = np.array([1, 1, -1], dtype=np.int8)
    >>> [POOL_STATUS[s] for s in pool_status(fixed, None, zones, None, POOL_2024)]
    ['eligible', 'not eligible (speed)', 'undetermined (zone unknown)']
    """
    n = fixed.n_households
    fast = fixed.served(rules.fixed_down_mbps, rules.fixed_up_mbps, rules.missing_upload)
    if rules.mobile_down_mbps is not None and mobile is not None:
        fast |= mobile.served(rules.mobile_down_mbps, None, rules.missing_upload)
    allowed = np.zeros(len(ZONES), dtype=bool)
    allowed[[ZONES.index(z) for z in rules.zones]] = True
    known = zones >= 0
    in_zone = known & allowed[np.where(known, zones, 0)]
    byzone = zones == _BYZONE
    town_unknown = np.zeros(n, dtype=bool)
    if rules.byzone_town_below is not None and not allowed[_BYZONE]:
        if town_population is None:
            town_unknown = byzone
        else:
            town_unknown = byzone & np.isnan(town_population)
            with np.errstate(invalid="ignore"):
                in_zone |= byzone & (town_population < rules.byzone_town_below)
    status = np.full(n, _ELIGIBLE, dtype=np.int8)
    status[~known & ~fast] = _ZONE_UNKNOWN_STATUS
    status[town_unknown & ~fast] = _TOWN_UNKNOWN
    status[fast] = _SPEED
    status[known & ~in_zone & ~town_unknown] = _ZONE
    return status


@dataclass(frozen=True, eq=False)
class PoolResult:
    """Everything :func:`assess_pool` finds.

    Attributes
    ----------
    addresses
        One row per household (the household table's index): ``address_id``,
        ``municipality_code``, ``assignment``, ``households``, ``x``, ``y``, ``zone``,
        ``town_population``, ``fixed_down_mbps``, ``mobile_down_mbps``, and per rule set
        ``status_<name>`` (one of :data:`POOL_STATUS`) and ``cluster_<name>`` (cluster
        number of an eligible address with a municipality and a point, else ``<NA>``).
    summary
        Indexed by ``rule_set`` and ``municipality_code`` (every municipality of the
        layer, then ``region``): ``municipality_name``, ``addresses``, ``households``,
        ``eligible_addresses``, ``eligible_households``, ``undetermined_addresses``,
        ``undetermined_households``, ``clusters`` (clusters whose largest part lies in
        the municipality), and ``service_standard`` (the rule), ``denominator``,
        ``data_year``, ``source``. Counts cover the addresses with a municipality, as
        the municipality table does.
    changes
        Addresses whose eligibility differs between the two compared rule sets (see
        :func:`pool_changes`).
    clusters
        One row per cluster and rule set (see :func:`pool_clusters`).
    rule_sets
        The rule sets applied.
    problems
        Warnings: missing zones or town sizes, unrecognised zone values, no mobile
        speeds for a rule with a mobile condition, eligible addresses without a
        municipality.
    """

    addresses: pd.DataFrame
    summary: pd.DataFrame
    changes: pd.DataFrame
    clusters: pd.DataFrame
    rule_sets: tuple[PoolRuleSet, ...]
    problems: tuple[Problem, ...] = field(default=())


def _status_column(rules: PoolRuleSet) -> str:
    return f"status_{rules.name}"


def _cluster_column(rules: PoolRuleSet) -> str:
    return f"cluster_{rules.name}"


def _town_population(
    table: pd.DataFrame, spec: PoolSpec, problems: list[Problem]
) -> NDArray[np.float64] | None:
    column = spec.town_population_column
    if column is None:
        return None
    if column not in table:
        raise SchemaError(
            Problem(
                "households",
                f"the household table has no town-population column {column!r}",
                column=column,
                fix="add the inhabitants of each address's town, or set "
                "town_population_column=None (byzone addresses are then undetermined)",
            )
        )
    raw = table[column]
    values = pd.to_numeric(raw, errors="coerce").to_numpy(np.float64, na_value=np.nan)
    bad = np.isnan(values) & raw.notna().to_numpy()
    if bad.any():
        problems.append(
            Problem(
                "households",
                "town populations that are not numbers count as unknown",
                column=column,
                rows=tuple(raw[bad].head(5)),
                count=int(bad.sum()),
                severity="warning",
            )
        )
    return values


def _zone_problems(
    zones: NDArray[np.int8], unrecognised: tuple[str, ...], spec: PoolSpec, present: bool
) -> list[Problem]:
    problems = []
    # An empty column (DAWA's reader keeps 'zone' even when the file has none) is no zone.
    if not present or (len(zones) and (zones == _ZONE_MISSING).all()):
        what = (
            f"no zone column {spec.zone_column!r}"
            if not present
            else f"the zone column {spec.zone_column!r} is empty"
        )
        problems.append(
            Problem(
                "households",
                f"{what}: the zone condition cannot be checked; "
                "addresses that meet the speed condition are 'undetermined (zone unknown)' "
                "(eligible counts are a lower bound, eligible + undetermined an upper bound)",
                column=spec.zone_column,
                count=len(zones),
                severity="warning",
                fix="read DAWA/DAR addresses with their 'zone' (Byzone, Landzone, "
                "Sommerhusområde) or name the zone column in the pool spec",
            )
        )
        return problems
    missing = int((zones == _ZONE_MISSING).sum())
    if missing:
        problems.append(
            Problem(
                "households",
                "addresses without a zone are 'undetermined (zone unknown)' where they meet "
                "the speed condition",
                column=spec.zone_column,
                count=missing,
                severity="warning",
            )
        )
    if unrecognised:
        count = int((zones == _ZONE_UNKNOWN).sum())
        problems.append(
            Problem(
                "households",
                "zone values that are not Byzone, Landzone or Sommerhusområde count as unknown",
                column=spec.zone_column,
                rows=unrecognised[:5],
                count=count,
                severity="warning",
                fix="use DAWA's zone values",
            )
        )
    return problems


def assess_pool(
    evidence: Evidence,
    municipalities: gpd.GeoDataFrame | pd.DataFrame,
    provenance: Provenance,
    spec: PoolSpec = PoolSpec(),
) -> PoolResult:
    """Pool eligibility of every address under each rule set, per municipality.

    Parameters
    ----------
    evidence
        Gathered evidence (:func:`coverage_gap.gather_evidence`) with fixed offers, and
        mobile offers for rule sets with a mobile condition. Its household table holds
        the zone column and, optionally, the town-population column.
    municipalities
        Codes and names (every selected municipality gets a row per rule set).
    provenance
        Denominator, data year and source (its service standard is replaced by the
        rule set in the output).
    spec
        Rule sets, comparison, cluster distance and the zone and town columns.

    Returns
    -------
    PoolResult

    Raises
    ------
    ConfigError
        When the evidence holds no fixed offers.

    Examples
    --------
    >>> import shapely
    >>> from coverage_gap.evidence import gather_evidence
    >>> from coverage_gap.standards import DK_100_30
    >>> m = gpd.GeoDataFrame({"municipality_code": ["0001"], "municipality_name": ["A"]},
    ...                      geometry=[shapely.box(0, 0, 5000, 5000)], crs="EPSG:25832")
    >>> h = pd.DataFrame({"address_id": ["a", "b", "c"], "x": [100.0, 400.0, 4000.0],
    ...                   "y": [100.0, 100.0, 100.0], "zone": ["Landzone"] * 3})
    >>> h.attrs["crs"] = "EPSG:25832"
    >>> o = pd.DataFrame({"address_id": ["a", "b", "c"], "down_mbps": [20.0, 50.0, 60.0],
    ...                   "up_mbps": [2.0, 10.0, 10.0]})
    >>> result = assess_pool(gather_evidence(h, m, fixed_offers=o), m, Provenance(DK_100_30))
    >>> result.summary.loc[("2024", "region"), ["eligible_addresses", "clusters"]].tolist()
    [3, 2]
    >>> result.changes["change"].tolist()
    ['enters', 'enters']
    """
    if evidence.fixed is None:
        raise ConfigError(
            "the broadband pool rules judge fixed offers, but the evidence holds none; "
            "gather evidence with fixed_offers= (or fixed_areas=)"
        )
    table = evidence.households
    n = len(table)
    problems: list[Problem] = []
    present = spec.zone_column in table
    zones, unrecognised = normalize_zones(table[spec.zone_column] if present else None, n)
    problems += _zone_problems(zones, unrecognised, spec, present)
    population = _town_population(table, spec, problems)
    mobile = evidence.mobile.speeds
    rules = spec.rules
    for r in rules:
        if r.mobile_down_mbps is not None and mobile is None:
            problems.append(
                Problem(
                    "mobile offers",
                    f"rule set {r.name!r} has a mobile condition (< {r.mobile_down_mbps:g} "
                    "Mbit/s) but no mobile speeds were given: no address is excluded by "
                    "mobile speed (a missing offer never counts as fast enough)",
                    severity="warning",
                    fix="gather evidence with mobile_offers= (BBK download_mobil)",
                )
            )
        if r.byzone_town_below is not None and population is None:
            affected = int((zones == _BYZONE).sum())
            if affected:
                problems.append(
                    Problem(
                        "households",
                        f"rule set {r.name!r} admits byzone addresses in towns under "
                        f"{r.byzone_town_below} inhabitants, but no town sizes were given: "
                        "byzone addresses that meet the speed condition are 'undetermined "
                        "(town size unknown)'",
                        count=affected,
                        severity="warning",
                        fix="set PoolSpec.town_population_column to a column with the "
                        "inhabitants of each address's town",
                    )
                )
    assignment = evidence.assignment
    assigned = assignment[S.ASSIGNMENT].isin(S.COUNTED).to_numpy()
    x = table[S.X].to_numpy(np.float64)
    y = table[S.Y].to_numpy(np.float64)
    usable = assigned & np.isfinite(x) & np.isfinite(y)
    addresses = pd.DataFrame(
        {
            S.ADDRESS_ID: table[S.ADDRESS_ID] if S.ADDRESS_ID in table else table.index,
            S.MUNICIPALITY_CODE: assignment[S.MUNICIPALITY_CODE],
            S.ASSIGNMENT: assignment[S.ASSIGNMENT],
            S.HOUSEHOLDS: table[S.HOUSEHOLDS],
            S.X: x,
            S.Y: y,
            "zone": pd.Categorical.from_codes(np.maximum(zones, -1), categories=list(ZONES)),
            "town_population": population if population is not None else np.nan,
            S.FIXED_DOWN: evidence.fixed_down_mbps,
            S.MOBILE_DOWN: evidence.mobile_down_mbps,
        },
        index=table.index,
    )
    weights = table[S.HOUSEHOLDS].to_numpy(np.float64)
    cluster_tables = []
    statuses = {}
    for r in rules:
        status = pool_status(evidence.fixed, mobile, zones, population, r)
        statuses[r.name] = status
        addresses[_status_column(r)] = pd.Categorical.from_codes(
            status, categories=list(POOL_STATUS)
        )
        labels = np.full(n, -1, dtype=np.int64)
        members = np.flatnonzero(usable & (status == _ELIGIBLE))
        labels[members] = cluster_labels(x[members], y[members], spec.cluster_distance_m)
        clusters, labels = _cluster_table(labels, x, y, weights, assignment, r)
        addresses[_cluster_column(r)] = pd.arrays.IntegerArray(np.maximum(labels, 0), labels < 0)
        cluster_tables.append(clusters)
        outside = int(((status == _ELIGIBLE) & ~assigned).sum())
        if outside:
            problems.append(
                Problem(
                    "households",
                    f"{outside} addresses eligible under {r.name!r} are not counted in any "
                    "municipality (outside the selection, unassigned or invalid); they are in "
                    "no municipality row and no cluster",
                    count=outside,
                    severity="warning",
                    fix="see reconcile() for them",
                )
            )
    # Empty tables are left out of the concatenation (pandas warns about their dtypes).
    filled = [t for t in cluster_tables if len(t)] or cluster_tables[:1]
    clusters = pd.concat(filled, ignore_index=True)
    a, b = spec.compared
    changes = pool_changes(addresses, a, b)
    summary = _summary(addresses, clusters, municipalities, rules, provenance, assigned)
    for frame in (clusters, changes):
        frame.attrs["provenance"] = provenance
    return PoolResult(addresses, summary, changes, clusters, rules, tuple(problems))


def cluster_labels(
    x: NDArray[np.float64], y: NDArray[np.float64], distance_m: float
) -> NDArray[np.int64]:
    """Single-linkage clusters: points joined by chains of steps of at most ``distance_m``.

    Pairs within the distance come from a KD-tree (``query_pairs``), clusters are the
    connected components of the resulting graph; no loop over points.

    Returns
    -------
    numpy.ndarray
        Cluster label of each point, 0 to (number of clusters - 1), in order of first
        appearance.

    Examples
    --------
    >>> cluster_labels(np.array([0.0, 400.0, 800.0, 2000.0]), np.zeros(4), 500).tolist()
    [0, 0, 0, 1]
    """
    n = len(x)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    points = np.column_stack([x, y])
    pairs = KDTree(points).query_pairs(distance_m, output_type="ndarray")
    graph = coo_matrix(
        (np.ones(len(pairs), dtype=np.int8), (pairs[:, 0], pairs[:, 1])), shape=(n, n)
    )
    _, labels = connected_components(graph, directed=False)
    # Renumber by first appearance, so that labels do not depend on scipy's internals.
    _, first, inverse = np.unique(labels, return_index=True, return_inverse=True)
    order = np.argsort(np.argsort(first))
    return order[inverse].astype(np.int64)


def _cluster_table(
    labels: NDArray[np.int64],
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    weights: NDArray[np.float64],
    assignment: pd.DataFrame,
    rules: PoolRuleSet,
) -> tuple[pd.DataFrame, NDArray[np.int64]]:
    """One row per cluster, numbered 1.. by households (largest first); new labels."""
    members = np.flatnonzero(labels >= 0)
    k = int(labels[members].max()) + 1 if members.size else 0
    lab = labels[members]
    addresses = np.bincount(lab, minlength=k)
    households = np.bincount(lab, weights=weights[members], minlength=k)
    xs, ys = x[members], y[members]
    x_min = np.full(k, np.inf)
    y_min = np.full(k, np.inf)
    x_max = np.full(k, -np.inf)
    y_max = np.full(k, -np.inf)
    np.minimum.at(x_min, lab, xs)
    np.minimum.at(y_min, lab, ys)
    np.maximum.at(x_max, lab, xs)
    np.maximum.at(y_max, lab, ys)
    with np.errstate(invalid="ignore", divide="ignore"):
        cx = np.bincount(lab, weights=xs, minlength=k) / addresses
        cy = np.bincount(lab, weights=ys, minlength=k) / addresses
    codes = assignment[S.MUNICIPALITY_CODE]
    categories = (
        list(codes.cat.categories)
        if hasattr(codes, "cat")
        else sorted(codes.dropna().astype(str).unique())
    )
    muni = category_codes(codes, [str(c) for c in categories])[members]
    majority, count = _majority(lab, muni, weights[members], k)
    # Largest cluster first (households, then addresses, then first appearance).
    order = np.lexsort((np.arange(k), -addresses, -households))
    number = np.empty(k, dtype=np.int64)
    number[order] = np.arange(1, k + 1)
    new_labels = np.full(labels.shape, -1, dtype=np.int64)
    new_labels[members] = number[lab]
    table = pd.DataFrame(
        {
            "rule_set": rules.name,
            "cluster": number,
            "addresses": addresses,
            "households": np.rint(households).astype(np.int64),
            S.MUNICIPALITY_CODE: [str(categories[m]) if m >= 0 else None for m in majority],
            "municipalities": count,
            "x": cx,
            "y": cy,
            "x_min": x_min,
            "y_min": y_min,
            "x_max": x_max,
            "y_max": y_max,
            "width_m": x_max - x_min,
            "height_m": y_max - y_min,
        }
    )
    return table.sort_values("cluster", ignore_index=True), new_labels


def _majority(
    lab: NDArray[np.int64], muni: NDArray[np.int64], weights: NDArray[np.float64], k: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Municipality with most households per cluster (ties: the first), and how many."""
    if k == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    pairs, inverse = np.unique(np.column_stack([lab, muni]), axis=0, return_inverse=True)
    totals = np.bincount(inverse.ravel(), weights=weights, minlength=len(pairs))
    count = np.bincount(pairs[:, 0], minlength=k)
    order = np.lexsort((pairs[:, 1], -totals, pairs[:, 0]))
    first = np.ones(order.size, dtype=bool)
    first[1:] = pairs[order[1:], 0] != pairs[order[:-1], 0]
    majority = np.full(k, -1, dtype=np.int64)
    majority[pairs[order[first], 0]] = pairs[order[first], 1]
    return majority, count


def pool_changes(addresses: pd.DataFrame, first: str, second: str) -> pd.DataFrame:
    """Addresses whose pool eligibility differs between two rule sets.

    Eligibility has three levels (eligible, undetermined, not eligible). ``change`` is
    ``"enters"`` (not eligible → eligible), ``"leaves"`` (eligible → not eligible),
    ``"may enter"`` or ``"may leave"`` (a change to or from undetermined). A change of
    the reason for not being eligible is not a change.

    Parameters
    ----------
    addresses
        :attr:`PoolResult.addresses`.
    first, second
        Rule-set names.

    Returns
    -------
    pandas.DataFrame
        The changed addresses (household index): ``address_id``,
        ``municipality_code``, ``households``, ``x``, ``y``, both status columns and
        ``change``.

    Examples
    --------
    >>> a = pd.DataFrame({"address_id": ["p", "q", "r"], "municipality_code": ["1"] * 3,
    ...                   "households": [1, 1, 1], "x": [0.0] * 3, "y": [0.0] * 3,
    ...                   "status_A": ["eligible", "not eligible (speed)", "eligible"],
    ...                   "status_B": ["eligible", "eligible", "not eligible (zone)"]})
    >>> pool_changes(a, "A", "B")["change"].tolist()
    ['enters', 'leaves']
    """
    columns = []
    levels = []
    for name in (first, second):
        column = f"status_{name}"
        if column not in addresses:
            raise ConfigError(f"no status column for rule set {name!r} ({column})")
        columns.append(column)
        codes = category_codes(addresses[column], list(POOL_STATUS))
        levels.append(_LEVEL[codes])
    a, b = levels
    changed = a != b
    change = np.where(
        (a == 0) & (b == 2),
        "enters",
        np.where((a == 2) & (b == 0), "leaves", np.where(b > a, "may enter", "may leave")),
    )
    keep = [S.ADDRESS_ID, S.MUNICIPALITY_CODE, S.HOUSEHOLDS, S.X, S.Y, *columns]
    out = addresses.loc[changed, keep].copy()
    out["change"] = pd.Categorical(change[changed], categories=list(CHANGES))
    return out


def _summary(
    addresses: pd.DataFrame,
    clusters: pd.DataFrame,
    municipalities: gpd.GeoDataFrame | pd.DataFrame,
    rules: tuple[PoolRuleSet, ...],
    provenance: Provenance,
    assigned: NDArray[np.bool_],
) -> pd.DataFrame:
    municipalities = selected_municipalities(municipalities)
    codes_all = municipalities[S.MUNICIPALITY_CODE].astype(str).tolist()
    names = municipalities[S.MUNICIPALITY_NAME].astype(str).tolist()
    k = len(codes_all)
    codes = category_codes(addresses[S.MUNICIPALITY_CODE], codes_all)
    codes[(codes < 0) | ~assigned] = k
    weights = addresses[S.HOUSEHOLDS].to_numpy(np.float64)

    def count(mask: NDArray[np.bool_] | None, w: NDArray[np.float64] | None) -> NDArray:
        values = np.ones(len(codes)) if w is None else w
        if mask is not None:
            values = values * mask
        per = np.bincount(codes, weights=values, minlength=k + 1)[:k]
        return np.rint(np.append(per, per.sum())).astype(np.int64)

    base = {"addresses": count(None, None), "households": count(None, weights)}
    parts = []
    context = {
        key: value for key, value in provenance.columns().items() if key != "service_standard"
    }
    for r in rules:
        status = category_codes(addresses[_status_column(r)], list(POOL_STATUS))
        eligible = status == _ELIGIBLE
        undetermined = _LEVEL[status] == 1
        of_rule = clusters[clusters["rule_set"] == r.name]
        per_cluster = category_codes(of_rule[S.MUNICIPALITY_CODE].astype(object), codes_all)
        n_clusters = np.bincount(per_cluster[per_cluster >= 0], minlength=k)
        frame = pd.DataFrame(
            {
                S.MUNICIPALITY_NAME: [*names, provenance.area_name],
                **base,
                "eligible_addresses": count(eligible, None),
                "eligible_households": count(eligible, weights),
                "undetermined_addresses": count(undetermined, None),
                "undetermined_households": count(undetermined, weights),
                "clusters": np.append(n_clusters, len(of_rule)),
                "service_standard": r.describe(),
                **context,
            },
            index=pd.MultiIndex.from_product(
                [[r.name], [*codes_all, S.REGION_CODE]], names=["rule_set", S.MUNICIPALITY_CODE]
            ),
        )
        parts.append(frame)
    summary = pd.concat(parts)
    summary.attrs["provenance"] = provenance
    return summary

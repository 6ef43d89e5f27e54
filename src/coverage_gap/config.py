"""Run configuration: a TOML file turned into frozen dataclasses, and nothing more.

Every section and key is checked: an unknown key, a value of the wrong type or out of
range is a :class:`~coverage_gap.errors.ConfigError` that names the section and the
key (``[meta] tolerance_m must be a number, got '250' (text)``). Which options a layer
takes is the business of the reader registry (:mod:`coverage_gap.io.registry`); paths
are relative to the configuration file. See the README for a complete example.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from . import schema as S
from .assign import DEFAULT_MIN_LOCATED_SHARE, DEFAULT_TOLERANCE_M
from .claims import Claim, ClaimGrid, parse_threshold
from .danish.growth import fit_danish_mobile_growth
from .demand import SCENARIOS, BusyHour, GrowthScenario
from .errors import ConfigError, InputError
from .evidence import DEFAULT_MIN_MATCH_SHARE
from .io.registry import (
    BOOL,
    INTEGER,
    NUMBER,
    PATH,
    TEXT,
    TEXTS,
    check_option,
    describe_type,
    kind_for,
    reader_for,
)
from .layers import check_metric_crs
from .standards import DENOMINATORS, PLAUSIBLE_DBM, PRESETS, ServiceStandard, get_standard

if TYPE_CHECKING:  # the where-to-act modules load scipy: imported when a section asks
    from .areas import AreaSpec
    from .danish.pool import PoolSpec
    from .siting import SitingSpec

#: Sections a configuration may have.
SECTIONS = (
    "meta",
    "households",
    "municipalities",
    "fixed",
    "mobile",
    "standard",
    "demand",
    "report",
    "checks",
    "areas",
    "pool",
    "siting",
    "vintage",
    "claim",
    "engine",
)

#: Engines a run can use: ``"memory"`` (one process, the default) or ``"dask"``.
ENGINES = ("memory", "dask")


@dataclass(frozen=True)
class LayerSpec:
    """One input layer: its path, its kind, and its reader's options.

    Examples
    --------
    >>> spec = LayerSpec(Path("fixed.csv"), "table", {"id": "adr", "download": "dl"})
    >>> spec.options["id"]
    'adr'
    """

    path: Path
    kind: str
    options: Mapping[str, Any] = field(default_factory=dict)
    section: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "options", MappingProxyType(dict(self.options)))

    def to_dict(self) -> dict[str, Any]:
        """Plain form for the manifest."""
        return {"path": str(self.path), "kind": self.kind, **_plain(self.options)}


def _plain(options: Mapping[str, Any]) -> dict[str, Any]:
    return {k: str(v) if isinstance(v, Path) else v for k, v in options.items()}


#: The longest demand projection a configuration may ask for (years).
MAX_DEMAND_YEARS = 50


@dataclass(frozen=True)
class DemandConfig:
    """The ``[demand]`` section: projection years, baseline use and scenarios.

    ``scenarios`` may name presets (``"taskforce 50 %"``, ``"low"``, ``"central"``,
    ``"high"``) or ``"fitted"``: the decaying curve fitted to the shipped Danish series,
    started at ``base_year``.
    """

    base_year: int
    horizon: int
    gb_per_unit_month: float
    scenarios: tuple[GrowthScenario, ...]
    busy_hour: BusyHour = field(default_factory=BusyHour)

    def __post_init__(self) -> None:
        if self.horizon <= self.base_year:
            raise ConfigError(
                f"[demand] horizon ({self.horizon}) must come after base_year ({self.base_year})"
            )
        if self.horizon - self.base_year > MAX_DEMAND_YEARS:
            raise ConfigError(
                f"[demand] horizon ({self.horizon}) lies more than {MAX_DEMAND_YEARS} years after "
                f"base_year ({self.base_year}): no growth assumption holds that long"
            )
        if not math.isfinite(self.gb_per_unit_month) or self.gb_per_unit_month < 0:
            raise ConfigError(
                f"[demand] gb_per_unit_month must be a finite number >= 0, "
                f"got {self.gb_per_unit_month!r}"
            )


@dataclass(frozen=True)
class Checks:
    """The ``[checks]`` section: guards against silently wrong figures, and their limits.

    Parameters
    ----------
    min_offer_match_share
        Every offer table must give at least one row to this share of the addresses;
        fewer means the table is probably keyed on the wrong column. Lower it on
        purpose when a table covers only part of the addresses.
    min_assigned_share
        At least this share of the addresses must lie in (or within the tolerance of)
        some polygon of the boundary file; fewer means swapped axes or a wrong CRS.
    """

    min_offer_match_share: float = DEFAULT_MIN_MATCH_SHARE
    min_assigned_share: float = DEFAULT_MIN_LOCATED_SHARE

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not _is_number(value) or not 0 <= value <= 1:
                raise ConfigError(
                    f"[checks] {f.name} must be a share between 0 and 1, got {value!r}"
                )


@dataclass(frozen=True)
class ReportConfig:
    """The ``[report]`` section: how the report is written.

    Parameters
    ----------
    lang
        ``"da"`` or ``"en"`` (the command line's ``--lang`` wins).
    claim_share
        Draw a claim line at this share on the ranking (e.g. 0.2 for "one in five");
        none by default.
    """

    lang: str = "en"
    claim_share: float | None = None

    def __post_init__(self) -> None:
        if self.lang not in ("da", "en"):
            raise ConfigError(f'[report] lang must be "da" or "en", got {self.lang!r}')
        if self.claim_share is not None and not 0 < self.claim_share < 1:
            raise ConfigError(
                f"[report] claim_share must be a share between 0 and 1, got {self.claim_share!r}"
            )


@dataclass(frozen=True)
class EngineConfig:
    """The ``[engine]`` section: where the analysis runs.

    Parameters
    ----------
    kind
        ``"memory"`` (one process; the default) or ``"dask"``: households and offers
        read as partitioned files (a folder of files or a glob), the work spread over a
        dask cluster (see the README, "Beyond one machine").
    scheduler
        Address of a running dask scheduler (``"tcp://10.0.0.5:8786"``); a local
        cluster on this machine when absent.
    workers
        Worker processes of the local cluster (default: one per core).
    threads_per_worker
        Threads per worker of the local cluster.
    memory_limit
        Memory limit per worker of the local cluster (``"4GB"``); dask's default share of
        the machine's memory when absent.
    buckets
        Pieces into which address ids are hashed to join offers to households (and to
        find duplicate ids); default: one per household file. More buckets, smaller
        pieces.
    scratch
        Folder for the exchange between partitions; every worker must reach it (a
        temporary folder by default, enough for a local cluster).
    """

    kind: str = "memory"
    scheduler: str | None = None
    workers: int | None = None
    threads_per_worker: int = 1
    memory_limit: str | None = None
    buckets: int | None = None
    scratch: Path | None = None

    def __post_init__(self) -> None:
        if self.kind not in ENGINES:
            raise ConfigError(f"[engine] kind must be one of {list(ENGINES)}, got {self.kind!r}")
        for name in ("workers", "threads_per_worker", "buckets"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ConfigError(f"[engine] {name} must be a whole number >= 1, got {value!r}")
        if self.memory_limit is not None and self.memory_limit != "auto":
            _check_bytes(self.memory_limit)
        if self.kind == "memory":
            given = [
                name
                for name in ("scheduler", "workers", "memory_limit", "buckets", "scratch")
                if getattr(self, name) is not None
            ]
            if given:
                raise ConfigError(
                    f'[engine] {given[0]} applies to kind = "dask" only (kind is "memory")'
                )


def _check_bytes(text: str) -> None:
    """Refuse a memory limit dask cannot read, before a cluster is started."""
    try:
        from dask.utils import parse_bytes
    except ImportError:  # the engine says how to install dask when it starts
        return
    try:
        parse_bytes(text)
    except (ValueError, TypeError):
        raise ConfigError(
            f'[engine] memory_limit must be a size such as "4GB" or "512 MiB" (or "auto"), '
            f"got {text!r}"
        ) from None


def _engine(table: Mapping[str, Any], base: Path) -> EngineConfig:
    options = _typed(
        "engine",
        table,
        {
            "kind": TEXT,
            "scheduler": TEXT,
            "workers": INTEGER,
            "threads_per_worker": INTEGER,
            "memory_limit": TEXT,
            "buckets": INTEGER,
            "scratch": PATH,
        },
    )
    if "scratch" in options:
        scratch = Path(options["scratch"])
        options["scratch"] = scratch if scratch.is_absolute() else base / scratch
    return EngineConfig(**options)


@dataclass(frozen=True)
class AreasConfig:
    """One ``[[areas]]`` section: DDKN cells, or a polygon layer read from ``path``.

    ``spec`` maps the section's keys (``grid``, ``code``, ``name``, ``label``,
    ``min_households``, ``small_counts``) onto :class:`coverage_gap.areas.AreaSpec`.
    """

    spec: AreaSpec
    path: Path | None = None
    layer: str | int | None = None

    @property
    def file_stem(self) -> str:
        """File name of its table: ``ddkn_1km`` or the label in lower case."""
        if self.spec.grid is not None and self.path is None:
            return f"ddkn_{self.spec.grid}"
        return "areas_" + "".join(c if c.isalnum() else "_" for c in self.spec.set_name.lower())


@dataclass(frozen=True)
class SitingConfig:
    """The ``[siting]`` section: :class:`coverage_gap.siting.SitingSpec` and site files.

    ``candidates`` and ``existing`` are point files (with ``site_id`` named by
    ``site_id``); without candidates, ``candidate_spacing_m`` lays a regular grid.
    """

    spec: SitingSpec
    candidates: Path | None = None
    existing: Path | None = None
    site_id: str | None = None


@dataclass(frozen=True)
class VintageConfig:
    """One ``[[vintage]]`` section: another data year of the same area.

    A vintage lists its own offer and coverage layers (``[[vintage.fixed]]``,
    ``[[vintage.mobile]]``): none is inherited, so that a year never borrows another
    year's coverage. Its address set (``[vintage.households]``) is needed only when the
    addresses changed; without it the configuration's is used (not when that is a BBK
    file, which carries its own year's offers). ``source`` defaults to ``[meta] source``.
    """

    data_year: int | str
    fixed: tuple[LayerSpec, ...] = ()
    mobile: tuple[LayerSpec, ...] = ()
    households: LayerSpec | None = None
    source: str | None = None

    @property
    def inputs(self) -> list[LayerSpec]:
        """The vintage's own layers."""
        own = [self.households] if self.households is not None else []
        return [*own, *self.fixed, *self.mobile]


@dataclass(frozen=True)
class ClaimConfig:
    """The ``[claim]`` section: a claimed share and the grid it is judged under.

    Parameters
    ----------
    share
        The claimed share (0.2 for "one in five"); ``--share`` on the command line wins.
    tolerance
        Half-width of the band in which the claim holds (default 0.02: 18–22 %).
    statement, statement_da
        The claim in words (English, Danish) for the verdict and the chart.
    grid
        The specifications (:class:`coverage_gap.claims.ClaimGrid`; its defaults are
        documented there and in the README).
    """

    share: float | None = None
    tolerance: float = 0.02
    statement: str = ""
    statement_da: str = ""
    grid: ClaimGrid = field(default_factory=ClaimGrid)

    def claim(self, share: float | None = None, tolerance: float | None = None) -> Claim:
        """Return the :class:`~coverage_gap.claims.Claim`; command-line values win.

        Raises
        ------
        ConfigError
            No share is given here or on the command line.
        """
        value = share if share is not None else self.share
        if value is None:
            raise ConfigError("[claim] share is not set: give --share (e.g. 0.2) or share = 0.2")
        return Claim(
            value,
            self.tolerance if tolerance is None else tolerance,
            self.statement,
            self.statement_da,
        )


@dataclass(frozen=True)
class RunConfig:
    """Everything a run needs; built from TOML by :func:`load_config` or in code.

    Parameters
    ----------
    households, municipalities
        The household points and the municipality boundaries.
    standard
        The service standard.
    fixed
        Fixed-broadband layers: offer tables and/or coverage polygons.
    mobile
        Mobile layers: signal rasters (one per operator), coverage polygons, or
        per-address mobile offer tables.
    denominator, data_year, source, area_name
        Provenance written into every output.
    tolerance_m
        Distance in metres within which a point outside every municipality goes to the
        nearest one.
    working_crs
        CRS every layer is brought to; a projected CRS in metres (see
        :func:`coverage_gap.geo.check_metric_crs`).
    demand, checks, report
        The optional sections.
    engine
        Where the analysis runs (``[engine]``; one process by default).
    areas, pool, siting
        Where to act: tables per DDKN cell or area layer, the broadband pool, mast
        siting (see the README section "Where to act").
    vintages
        Other data years of the same area (``[[vintage]]``), for the claim check and the
        change between years.
    claim
        The ``[claim]`` section.
    """

    households: LayerSpec
    municipalities: LayerSpec
    standard: ServiceStandard
    fixed: tuple[LayerSpec, ...] = ()
    mobile: tuple[LayerSpec, ...] = ()
    denominator: str = "households"
    data_year: int | str | None = None
    source: str = "unknown source"
    area_name: str = "All municipalities"
    tolerance_m: float = DEFAULT_TOLERANCE_M
    working_crs: str = S.WORKING_CRS
    demand: DemandConfig | None = None
    checks: Checks = field(default_factory=Checks)
    report: ReportConfig = field(default_factory=ReportConfig)
    areas: tuple[AreasConfig, ...] = ()
    pool: PoolSpec | None = None
    siting: SitingConfig | None = None
    vintages: tuple[VintageConfig, ...] = ()
    claim: ClaimConfig | None = None
    engine: EngineConfig = field(default_factory=EngineConfig)

    def __post_init__(self) -> None:
        # A spec built in code knows its section from the field it is given in.
        for name in ("households", "municipalities"):
            spec = getattr(self, name)
            if spec.section != name:
                object.__setattr__(self, name, replace(spec, section=name))
        for name in ("fixed", "mobile"):
            specs = tuple(replace(s, section=name) for s in getattr(self, name))
            object.__setattr__(self, name, specs)
        for spec in self.inputs:
            reader_for(spec.kind, spec.section)
        self._check_vintages()
        if self.denominator not in DENOMINATORS:
            raise ConfigError(
                f"[meta] denominator must be one of {sorted(DENOMINATORS)}, "
                f"got {self.denominator!r}"
            )
        try:
            check_metric_crs(self.working_crs, source="[meta] working_crs")
        except InputError as exc:
            raise ConfigError(str(exc.problems[0])) from None
        if (
            not _is_number(self.tolerance_m)
            or not math.isfinite(self.tolerance_m)
            or (self.tolerance_m < 0)
        ):
            raise ConfigError(
                f"[meta] tolerance_m must be a finite number of metres >= 0, "
                f"got {self.tolerance_m!r}"
            )

    def _check_vintages(self) -> None:
        if not self.vintages:
            return
        if self.data_year is None:
            raise ConfigError("[meta] data_year is needed when [[vintage]] sections are given")
        years = [str(self.data_year), *(str(v.data_year) for v in self.vintages)]
        repeated = sorted({y for y in years if years.count(y) > 1})
        if repeated:
            raise ConfigError(
                f"[[vintage]] data_year: {repeated} occur more than once ([meta] data_year "
                "counts as one); every data year needs its own data"
            )
        for vintage in self.vintages:
            if vintage.households is None and self.households.kind == "bbk":
                raise ConfigError(
                    f"[[vintage]] data_year = {vintage.data_year}: the households layer is a "
                    "BBK file, which carries its own year's offers; give the vintage its own "
                    "[vintage.households]"
                )

    @property
    def inputs(self) -> list[LayerSpec]:
        """Every input layer."""
        return [self.households, self.municipalities, *self.fixed, *self.mobile]

    def vintage_configs(self) -> tuple[RunConfig, ...]:
        """Return the configuration of every data year: this one, then each ``[[vintage]]``.

        A vintage's configuration is this one with the vintage's data year, source,
        offer and coverage layers (and address set, when it has one). All of them leave
        out the analyses that belong to this configuration's own year: ``[demand]``,
        ``[[areas]]``, ``[pool]``, ``[siting]``, ``[claim]`` and the vintages.

        Examples
        --------
        >>> cfg = parse_config({"meta": {"data_year": 2026},
        ...                     "households": {"path": "h.gpkg"},
        ...                     "municipalities": {"path": "m.gpkg"},
        ...                     "standard": {"preset": "100/30"},
        ...                     "fixed": {"path": "fixed_2026.csv"},
        ...                     "vintage": [{"data_year": 2025,
        ...                                  "fixed": {"path": "fixed_2025.csv"}}]},
        ...                    Path("/data"))
        >>> [(c.data_year, c.fixed[0].path.name) for c in cfg.vintage_configs()]
        [(2026, 'fixed_2026.csv'), (2025, 'fixed_2025.csv')]
        """
        base = replace(self, demand=None, areas=(), pool=None, siting=None, vintages=(), claim=None)
        out = [base]
        for vintage in self.vintages:
            try:
                out.append(
                    replace(
                        base,
                        data_year=vintage.data_year,
                        source=vintage.source if vintage.source is not None else self.source,
                        households=vintage.households or self.households,
                        fixed=vintage.fixed,
                        mobile=vintage.mobile,
                    )
                )
            except ConfigError as exc:
                raise ConfigError(f"[[vintage]] data_year = {vintage.data_year!r}: {exc}") from None
        return tuple(out)

    def input_paths(self) -> list[Path]:
        """Every file the run reads: layer paths and the files named by their options.

        With ``[[vintage]]`` sections, the vintages' files too (the claim check and the
        report read them).
        """
        paths = []
        for spec in [*self.inputs, *(s for v in self.vintages for s in v.inputs)]:
            paths.append(spec.path)
            paths += [v for v in spec.options.values() if isinstance(v, Path)]
        paths += [a.path for a in self.areas if a.path is not None]
        if self.siting is not None:
            paths += [p for p in (self.siting.candidates, self.siting.existing) if p is not None]
        return paths

    def to_dict(self) -> dict[str, Any]:
        """Plain form for the manifest."""
        out = {f.name: _jsonable(getattr(self, f.name)) for f in fields(self)}
        if self.demand is not None:
            out["demand"]["scenarios"] = [
                {**_jsonable(s), "definition": s.describe()} for s in self.demand.scenarios
            ]
        return out


def _jsonable(value: Any) -> Any:
    """Return a value as JSON-friendly data (dataclasses as dicts, paths as text)."""
    if isinstance(value, LayerSpec):
        return value.to_dict()
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Mapping):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_keys(table: Mapping[str, Any], allowed: set[str] | frozenset[str], where: str) -> None:
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {unknown}; allowed: {sorted(allowed)}")


def _section(data: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, Mapping):
        raise ConfigError(f"[{name}] must be a table (a section), got {describe_type(value)}")
    return value


def _typed(section: str, table: Mapping[str, Any], types: Mapping[str, str]) -> dict[str, Any]:
    """Check ``table``'s keys and value types against ``types``; return it as a dict."""
    _check_keys(table, set(types), f"[{section}]")
    for key, value in table.items():
        check_option(section, key, value, types[key])
    return dict(table)


def _layer(table: Any, section: str, base: Path) -> LayerSpec:
    if not isinstance(table, Mapping):
        raise ConfigError(f"[{section}] must be a table (a section), got {describe_type(table)}")
    if "path" not in table:
        raise ConfigError(f"[{section}] needs a path")
    options = dict(table)
    raw_path = options.pop("path")
    check_option(section, "path", raw_path, PATH)
    path = Path(raw_path)
    path = path if path.is_absolute() else base / path
    kind = options.pop("kind", None)
    if kind is not None:
        check_option(section, "kind", kind, TEXT)
    reader = reader_for(kind or kind_for(path, section), section)
    _check_keys(options, set(reader.options), f"[{section}] ({reader.kind} layer {path.name})")
    for key, value in options.items():
        expected = reader.options[key]
        check_option(section, key, value, expected)
        if expected == PATH:
            options[key] = Path(value) if Path(value).is_absolute() else base / value
    if section == "fixed" and reader.kind == "polygons" and "download" not in options:
        raise ConfigError(
            f"[fixed] {path.name}: a polygon layer of fixed offers needs download (and "
            "upload) columns: the speed offered inside each polygon"
        )
    return LayerSpec(path, reader.kind, options, section)


def _standard(table: Mapping[str, Any]) -> ServiceStandard:
    types = {f.name: NUMBER for f in fields(ServiceStandard)}
    types.update(name=TEXT, underserved=TEXT, missing_upload=TEXT, preset=TEXT)
    options = _typed("standard", table, types)
    preset = options.pop("preset", None)
    if preset is not None:
        base = get_standard(preset)
        if "name" not in options and options:
            options["name"] = base.name + " (modified)"
        return ServiceStandard(**{**base.to_dict(), **options})
    options.setdefault("name", "custom")
    return ServiceStandard(**options)


def _demand(table: Mapping[str, Any]) -> DemandConfig:
    types = {
        "base_year": INTEGER,
        "horizon": INTEGER,
        "gb_per_unit_month": NUMBER,
        "scenarios": TEXTS,
        "scenario": "list of tables",
        "busy_hour_share": NUMBER,
        "days_per_month": NUMBER,
    }
    _check_keys(table, set(types), "[demand]")
    for key, value in table.items():
        if key == "scenario":
            if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
                raise ConfigError("[[demand.scenario]] must be tables ([[demand.scenario]])")
        else:
            check_option("demand", key, value, types[key])
    for key in ("base_year", "horizon", "gb_per_unit_month"):
        if key not in table:
            raise ConfigError(f"[demand] needs {key}")
    base_year = table["base_year"]
    scenarios: list[GrowthScenario] = []
    for name in table.get("scenarios", ["taskforce 50 %", "fitted"]):
        if name == "fitted":
            scenarios.append(fit_danish_mobile_growth(start_year=base_year))
        elif name in SCENARIOS:
            scenarios.append(SCENARIOS[name])
        else:
            raise ConfigError(
                f"[demand] scenarios: unknown scenario {name!r}; named ones are "
                f"{sorted(SCENARIOS)} and 'fitted'"
            )
    for custom in table.get("scenario", []):
        try:
            scenarios.append(GrowthScenario(**custom))
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"[[demand.scenario]] {exc}") from None
    try:
        busy = BusyHour(
            float(table.get("busy_hour_share", BusyHour().share_of_day)),
            float(table.get("days_per_month", BusyHour().days_per_month)),
        )
    except ConfigError as exc:
        raise ConfigError(f"[demand] {exc}") from None
    return DemandConfig(
        base_year, table["horizon"], float(table["gb_per_unit_month"]), tuple(scenarios), busy
    )


_AREAS = {
    "grid": TEXT,
    "path": PATH,
    "layer": "layer name or number",
    "code": TEXT,
    "name": TEXT,
    "label": TEXT,
    "min_households": INTEGER,
    "small_counts": TEXT,
}


def _areas(data: Any, base: Path) -> tuple[AreasConfig, ...]:
    from .areas import AreaSpec

    tables = [data] if isinstance(data, Mapping) else data
    if not isinstance(tables, list) or not all(isinstance(t, Mapping) for t in tables):
        raise ConfigError("[areas] must be a table or [[areas]] tables")
    out = []
    for table in tables:
        _check_keys(table, set(_AREAS), "[areas]")
        for key, value in table.items():
            if key == "layer":
                check_option("areas", key, value, "layer name or number")
            else:
                check_option("areas", key, value, _AREAS[key])
        options = dict(table)
        raw = options.pop("path", None)
        layer = options.pop("layer", None)
        path = None if raw is None else (Path(raw) if Path(raw).is_absolute() else base / raw)
        if path is not None:
            options.setdefault("grid", None)
            if "code" not in options:
                raise ConfigError("[areas] with a path needs code (the area code column)")
        elif options.get("grid") is None:
            options["grid"] = "1km"
        out.append(AreasConfig(AreaSpec(**options), path, layer))
    return tuple(out)


def _pool(table: Mapping[str, Any]) -> PoolSpec:
    from .danish.pool import PoolSpec

    options = _typed(
        "pool",
        table,
        {
            "rule_sets": TEXTS,
            "compare": TEXTS,
            "cluster_distance_m": NUMBER,
            "zone_column": TEXT,
            "town_population_column": TEXT,
        },
    )
    if "rule_sets" in options:
        options["rule_sets"] = tuple(options["rule_sets"])
    if "compare" in options:
        if len(options["compare"]) != 2:
            raise ConfigError("[pool] compare must name two rule sets")
        options["compare"] = tuple(options["compare"])
    return PoolSpec(**options)


def _siting(table: Mapping[str, Any], base: Path) -> SitingConfig:
    from .siting import SitingSpec

    options = _typed(
        "siting",
        table,
        {
            "sites": INTEGER,
            "radius_m": NUMBER,
            "demand": TEXT,
            "candidate_spacing_m": NUMBER,
            "lp_max_nonzeros": INTEGER,
            "lp_time_limit_s": NUMBER,
            "exact": BOOL,
            "candidates": PATH,
            "existing": PATH,
            "site_id": TEXT,
        },
    )
    for key in ("sites", "radius_m"):
        if key not in options:
            raise ConfigError(f"[siting] needs {key} (a planning assumption: say it)")
    if _is_number(options["radius_m"]) and options["radius_m"] <= 0:
        # The configuration has no coverage matrix: the radius is each site's reach.
        raise ConfigError(
            f"[siting] radius_m must be above 0 (a mast's reach in metres), got "
            f"{options['radius_m']!r}: a site that reaches nobody chooses nothing"
        )
    files = {
        key: (Path(v) if Path(v).is_absolute() else base / v)
        for key in ("candidates", "existing")
        if (v := options.pop(key, None)) is not None
    }
    site_id = options.pop("site_id", None)
    if "candidates" not in files and "candidate_spacing_m" not in options:
        raise ConfigError("[siting] needs candidates (a point file) or candidate_spacing_m")
    return SitingConfig(SitingSpec(**options), site_id=site_id, **files)


_VINTAGE = {
    "data_year": "whole number or text",
    "source": TEXT,
    "households": "table",
    "fixed": "table or list of tables",
    "mobile": "table or list of tables",
}


def _vintages(data: Any, base: Path) -> tuple[VintageConfig, ...]:
    tables = [data] if isinstance(data, Mapping) else data
    if not isinstance(tables, list) or not all(isinstance(t, Mapping) for t in tables):
        raise ConfigError("[[vintage]] must be tables ([[vintage]] sections)")
    out = []
    for table in tables:
        _check_keys(table, set(_VINTAGE), "[[vintage]]")
        if "data_year" not in table:
            raise ConfigError("[[vintage]] needs a data_year")
        year = table["data_year"]
        if not isinstance(year, str) and not (isinstance(year, int) and not isinstance(year, bool)):
            raise ConfigError(
                f"[[vintage]] data_year must be a whole number or text, got {year!r} "
                f"({describe_type(year)})"
            )
        where = f"[[vintage]] data_year = {year}"
        try:
            if "source" in table:
                check_option("vintage", "source", table["source"], TEXT)
            layers = {}
            for name in ("fixed", "mobile"):
                value = table.get(name, [])
                value = [value] if isinstance(value, Mapping) else value
                if not isinstance(value, list):
                    raise ConfigError(f"[{name}] must be a table or [[vintage.{name}]] tables")
                layers[name] = tuple(_layer(t, name, base) for t in value)
            households = (
                _layer(table["households"], "households", base) if "households" in table else None
            )
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from None
        out.append(
            VintageConfig(year, layers["fixed"], layers["mobile"], households, table.get("source"))
        )
    return tuple(out)


_CLAIM = {
    "share": NUMBER,
    "tolerance": NUMBER,
    "statement": TEXT,
    "statement_da": TEXT,
    "fixed": TEXTS,
    "underserved": TEXTS,
    "missing_upload": TEXTS,
    "denominators": TEXTS,
    "mobile_min_dbm": "list of numbers",
    "data_years": "list of whole numbers or text",
}


def _claim(table: Mapping[str, Any]) -> ClaimConfig:
    _check_keys(table, set(_CLAIM), "[claim]")
    for key, value in table.items():
        expected = _CLAIM[key]
        if expected == "list of numbers":
            ok = isinstance(value, list) and all(_is_number(v) for v in value)
        elif expected == "list of whole numbers or text":
            ok = isinstance(value, list) and all(
                isinstance(v, str) or (isinstance(v, int) and not isinstance(v, bool))
                for v in value
            )
        else:
            check_option("claim", key, value, expected)
            continue
        if not ok:
            raise ConfigError(
                f"[claim] {key} must be a {expected}, got {value!r} ({describe_type(value)})"
            )
    grid: dict[str, Any] = {}
    if "fixed" in table:
        grid["fixed"] = tuple(parse_threshold(t) for t in table["fixed"])
    for key in ("underserved", "missing_upload", "denominators", "data_years"):
        if key in table:
            grid[key] = tuple(table[key])
    if "mobile_min_dbm" in table:
        grid["mobile_min_dbm"] = tuple(float(v) for v in table["mobile_min_dbm"])
        low, high = PLAUSIBLE_DBM
        odd = [v for v in grid["mobile_min_dbm"] if not low <= v <= high]
        if odd:
            raise ConfigError(
                f"[claim] mobile_min_dbm must hold signal levels from {low:g} to {high:g} dBm "
                f"(RSRP is negative), got {odd}"
            )
    share = table.get("share")
    tolerance = float(table.get("tolerance", 0.02))
    if share is not None:
        Claim(float(share), tolerance)  # checks the range, naming the problem
    elif not 0 <= tolerance < 1:
        raise ConfigError(f"[claim] tolerance must lie between 0 and 1, got {tolerance!r}")
    try:
        return ClaimConfig(
            None if share is None else float(share),
            tolerance,
            table.get("statement", ""),
            table.get("statement_da", ""),
            ClaimGrid(**grid),
        )
    except ConfigError as exc:
        message = str(exc)
        raise ConfigError(
            message if message.startswith("[claim]") else f"[claim] {message}"
        ) from None


_META = {
    "denominator": TEXT,
    "data_year": "whole number or text",
    "source": TEXT,
    "area_name": TEXT,
    "tolerance_m": NUMBER,
    "working_crs": TEXT,
}


def _meta(table: Mapping[str, Any]) -> dict[str, Any]:
    _check_keys(table, set(_META), "[meta]")
    for key, value in table.items():
        if key == "data_year":
            if not isinstance(value, str) and not (
                isinstance(value, int) and not isinstance(value, bool)
            ):
                raise ConfigError(
                    f"[meta] data_year must be a whole number or text, got {value!r} "
                    f"({describe_type(value)})"
                )
        else:
            check_option("meta", key, value, _META[key])
    return dict(table)


def parse_config(data: Mapping[str, Any], base_dir: Path) -> RunConfig:
    """Build a :class:`RunConfig` from parsed TOML (a dict); paths relative to ``base_dir``.

    Examples
    --------
    >>> cfg = parse_config({"households": {"path": "h.gpkg"},
    ...                     "municipalities": {"path": "m.gpkg"},
    ...                     "standard": {"preset": "100/30"}}, Path("/data"))
    >>> cfg.households.path.as_posix(), cfg.standard.name
    ('/data/h.gpkg', '100/30')
    >>> parse_config({"households": {"path": "h.gpkg"}, "municipalities": {"path": "m.gpkg"},
    ...               "standard": {"preset": "100/30"}, "meta": {"tolerance_m": "250"}},
    ...              Path("/data"))
    Traceback (most recent call last):
    ...
    coverage_gap.errors.ConfigError: [meta] tolerance_m must be a number, got '250' (text)
    """
    _check_keys(data, set(SECTIONS), "the configuration")
    for required in ("households", "municipalities", "standard"):
        if required not in data:
            raise ConfigError(f"the configuration needs a [{required}] section")
    fixed = data.get("fixed", [])
    fixed = [fixed] if isinstance(fixed, Mapping) else fixed
    mobile = data.get("mobile", [])
    mobile = [mobile] if isinstance(mobile, Mapping) else mobile
    for name, layers in (("fixed", fixed), ("mobile", mobile)):
        if not isinstance(layers, list):
            raise ConfigError(f"[{name}] must be a table or [[{name}]] tables")
    report = _typed("report", _section(data, "report"), {"lang": TEXT, "claim_share": NUMBER})
    checks = _typed(
        "checks",
        _section(data, "checks"),
        {f.name: NUMBER for f in fields(Checks)},
    )
    return RunConfig(
        households=_layer(data["households"], "households", base_dir),
        municipalities=_layer(data["municipalities"], "municipalities", base_dir),
        standard=_standard(_section(data, "standard")),
        fixed=tuple(_layer(t, "fixed", base_dir) for t in fixed),
        mobile=tuple(_layer(t, "mobile", base_dir) for t in mobile),
        demand=_demand(_section(data, "demand")) if "demand" in data else None,
        checks=Checks(**checks),
        report=ReportConfig(**report),
        areas=_areas(data["areas"], base_dir) if "areas" in data else (),
        pool=_pool(_section(data, "pool")) if "pool" in data else None,
        siting=_siting(_section(data, "siting"), base_dir) if "siting" in data else None,
        vintages=_vintages(data["vintage"], base_dir) if "vintage" in data else (),
        claim=_claim(_section(data, "claim")) if "claim" in data else None,
        engine=_engine(_section(data, "engine"), base_dir),
        **_meta(_section(data, "meta")),
    )


def load_config(path: str | Path) -> RunConfig:
    r"""Read a TOML run configuration.

    Raises
    ------
    ConfigError
        When the file is missing, not a regular file, not UTF-8, not valid TOML, or
        incomplete; the message names the file and, for a bad value, the section and key.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "run.toml"
    >>> _ = p.write_text('[households]\npath = "h.gpkg"\n[municipalities]\npath = "m.gpkg"\n'
    ...                  '[standard]\npreset = "gigabit"\n')
    >>> load_config(p).standard.fixed_down_mbps
    1000
    """
    p = Path(path)
    if not p.exists():
        raise ConfigError(f"configuration file not found: {p}")
    if not p.is_file():
        raise ConfigError(f"{p}: the configuration must be a regular file (a .toml file)")
    try:
        # utf-8-sig: an editor's byte-order mark is not a TOML statement.
        data = tomllib.loads(p.read_bytes().decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{p}: not UTF-8 text (byte {exc.start}); save the configuration as UTF-8"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML ({exc})") from None
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read the configuration ({exc.strerror or exc})") from None
    try:
        return parse_config(data, p.resolve().parent)
    except ConfigError as exc:
        raise ConfigError(f"{p}: {exc}") from None
    except TypeError as exc:
        raise ConfigError(f"{p}: {exc}") from None


__all__ = [
    "PRESETS",
    "AreasConfig",
    "Checks",
    "ClaimConfig",
    "DemandConfig",
    "EngineConfig",
    "LayerSpec",
    "ReportConfig",
    "RunConfig",
    "SitingConfig",
    "VintageConfig",
    "load_config",
    "parse_config",
]

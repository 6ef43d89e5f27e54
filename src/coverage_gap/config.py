"""Run configuration: a TOML file turned into frozen dataclasses (only the CLI reads TOML).

See the README for a complete example. Paths are relative to the configuration file.
"""

from __future__ import annotations

import inspect
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any

from . import schema as S
from .aggregate import DENOMINATORS
from .assign import DEFAULT_TOLERANCE_M
from .demand import SCENARIOS, BusyHour, GrowthScenario, fit_danish_mobile_growth
from .errors import ConfigError
from .io import (
    read_coverage_polygons,
    read_households,
    read_municipalities,
    read_offers,
    read_signal_raster,
)
from .io.danish import read_bbk, read_dagi, read_dawa_addresses
from .io.raster import check_signal_raster
from .standards import PRESETS, ServiceStandard, get_standard

RASTER_SUFFIXES = (".tif", ".tiff", ".vrt", ".img", ".asc", ".nc")
TABLE_SUFFIXES = (".csv", ".txt", ".tsv")

READERS: dict[str, Callable[..., Any]] = {
    "households": read_households,
    "municipalities": read_municipalities,
    "table": read_offers,
    "polygons": read_coverage_polygons,
    "raster": read_signal_raster,
    "bbk": read_bbk,
    "dawa": read_dawa_addresses,
    "dagi": read_dagi,
}
# Options that name files: relative to the configuration file, like ``path``.
_PATH_OPTIONS = ("units", "dwellings")
# Options the pipeline sets itself; a config may not.
_RESERVED = {"path", "working_crs", "bounds", "municipalities", "progress"}


@dataclass(frozen=True)
class LayerSpec:
    """One input layer: its path, how to read it, and the reader's options.

    Examples
    --------
    >>> spec = LayerSpec(Path("fixed.csv"), "table", {"id": "adr", "download": "dl"})
    >>> spec.options["id"]
    'adr'
    """

    path: Path
    kind: str
    options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in READERS:
            raise ConfigError(
                f"{self.path}: unknown kind {self.kind!r}; use one of {sorted(READERS)}"
            )
        allowed = set(inspect.signature(READERS[self.kind]).parameters) - _RESERVED
        unknown = sorted(set(self.options) - allowed)
        if unknown:
            raise ConfigError(
                f"{self.path}: unknown option(s) {unknown} for a {self.kind} layer; "
                f"allowed: {sorted(allowed)}"
            )
        object.__setattr__(self, "options", MappingProxyType(dict(self.options)))

    def read(self, **extra: Any) -> Any:
        """Read the layer with its reader; ``extra`` options it does not take are ignored."""
        reader = READERS[self.kind]
        accepted = inspect.signature(reader).parameters
        return reader(
            self.path, **self.options, **{k: v for k, v in extra.items() if k in accepted}
        )

    def check(self, **extra: Any) -> None:
        """Check a raster layer from its header, without reading its cells."""
        check_signal_raster(self.path, **self.options, **extra)


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
        Distance within which a point outside every municipality goes to the nearest.
    working_crs
        CRS every layer is brought to.
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

    def __post_init__(self) -> None:
        if self.denominator not in DENOMINATORS:
            raise ConfigError(
                f"denominator must be one of {sorted(DENOMINATORS)}, got {self.denominator!r}"
            )
        if self.tolerance_m < 0:
            raise ConfigError(f"tolerance_m must be >= 0, got {self.tolerance_m}")

    @property
    def inputs(self) -> list[LayerSpec]:
        """Every input layer."""
        return [self.households, self.municipalities, *self.fixed, *self.mobile]

    def to_dict(self) -> dict[str, Any]:
        """Plain form for the manifest."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, LayerSpec):
                value = _spec_dict(value)
            elif isinstance(value, tuple):
                value = [_spec_dict(v) for v in value]
            elif isinstance(value, ServiceStandard):
                value = value.to_dict()
            elif isinstance(value, DemandConfig):
                value = {
                    **asdict(value),
                    "scenarios": [
                        {**asdict(s), "definition": s.describe()} for s in value.scenarios
                    ],
                }
            out[f.name] = value
        return out


def _spec_dict(spec: LayerSpec) -> dict[str, Any]:
    return {"path": str(spec.path), "kind": spec.kind, **dict(spec.options)}


def _check_keys(table: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {unknown}; allowed: {sorted(allowed)}")


def _layer(table: Mapping[str, Any], section: str, base: Path, kind: str | None) -> LayerSpec:
    if not isinstance(table, Mapping):
        raise ConfigError(f"[{section}] must be a table")
    if "path" not in table:
        raise ConfigError(f"[{section}] needs a path")
    options = dict(table)
    path = Path(options.pop("path"))
    path = path if path.is_absolute() else base / path
    kind = options.pop("kind", None) or kind or _kind_from_suffix(path, section)
    for key in _PATH_OPTIONS:
        if key in options and not Path(options[key]).is_absolute():
            options[key] = base / options[key]
    if "technologies" in options:
        options["technologies"] = {
            k: tuple(v) + (None,) * (2 - len(v)) if isinstance(v, list) else (v, None)
            for k, v in options["technologies"].items()
        }
    return LayerSpec(path, kind, options)


def _kind_from_suffix(path: Path, section: str) -> str:
    suffix = path.suffix.lower()
    if suffix in RASTER_SUFFIXES:
        return "raster"
    if suffix in TABLE_SUFFIXES:
        return "table"
    if suffix in (".parquet", ".geoparquet", ".pq"):
        raise ConfigError(
            f'[{section}] {path.name}: say kind = "table" or kind = "polygons" for a Parquet file'
        )
    return "polygons"


def _standard(table: Mapping[str, Any]) -> ServiceStandard:
    options = dict(table)
    preset = options.pop("preset", None)
    names = {f.name for f in fields(ServiceStandard)}
    _check_keys(options, names | {"preset"}, "[standard]")
    if preset is not None:
        base = get_standard(preset)
        if "name" not in options and options:
            options["name"] = base.name + " (modified)"
        return ServiceStandard(**{**base.to_dict(), **options})
    if "name" not in options:
        options["name"] = "custom"
    return ServiceStandard(**options)


def _demand(table: Mapping[str, Any]) -> DemandConfig:
    options = dict(table)
    allowed = {
        "base_year",
        "horizon",
        "gb_per_unit_month",
        "scenarios",
        "scenario",
        "busy_hour_share",
        "days_per_month",
    }
    _check_keys(options, allowed, "[demand]")
    for key in ("base_year", "horizon", "gb_per_unit_month"):
        if key not in options:
            raise ConfigError(f"[demand] needs {key}")
    base_year = int(options["base_year"])
    scenarios: list[GrowthScenario] = []
    for name in options.get("scenarios", ["taskforce 50 %", "fitted"]):
        if name == "fitted":
            scenarios.append(fit_danish_mobile_growth(start_year=base_year))
        elif name in SCENARIOS:
            scenarios.append(SCENARIOS[name])
        else:
            raise ConfigError(
                f"[demand] unknown scenario {name!r}; named ones are "
                f"{sorted(SCENARIOS)} and 'fitted'"
            )
    for custom in options.get("scenario", []):
        try:
            scenarios.append(GrowthScenario(**custom))
        except TypeError as exc:
            raise ConfigError(f"[[demand.scenario]] {exc}") from None
    busy = BusyHour(
        float(options.get("busy_hour_share", BusyHour().share_of_day)),
        float(options.get("days_per_month", BusyHour().days_per_month)),
    )
    return DemandConfig(
        base_year,
        int(options["horizon"]),
        float(options["gb_per_unit_month"]),
        tuple(scenarios),
        busy,
    )


def parse_config(data: Mapping[str, Any], base_dir: Path) -> RunConfig:
    """Build a :class:`RunConfig` from parsed TOML (a dict); paths relative to ``base_dir``.

    Examples
    --------
    >>> cfg = parse_config({"households": {"path": "h.gpkg"},
    ...                     "municipalities": {"path": "m.gpkg"},
    ...                     "standard": {"preset": "100/30"}}, Path("/data"))
    >>> cfg.households.path.as_posix(), cfg.standard.name
    ('/data/h.gpkg', '100/30')
    """
    known = {
        "households",
        "municipalities",
        "fixed",
        "mobile",
        "standard",
        "meta",
        "demand",
        "report",
    }
    _check_keys(data, known, "the configuration")
    for required in ("households", "municipalities", "standard"):
        if required not in data:
            raise ConfigError(f"the configuration needs a [{required}] section")
    fixed = data.get("fixed", [])
    fixed = [fixed] if isinstance(fixed, Mapping) else fixed
    mobile = data.get("mobile", [])
    mobile = [mobile] if isinstance(mobile, Mapping) else mobile
    meta = dict(data.get("meta", {}))
    allowed_meta = {"denominator", "data_year", "source", "area_name", "tolerance_m", "working_crs"}
    _check_keys(meta, allowed_meta, "[meta]")
    return RunConfig(
        households=_layer(data["households"], "households", base_dir, "households"),
        municipalities=_layer(data["municipalities"], "municipalities", base_dir, "municipalities"),
        standard=_standard(data["standard"]),
        fixed=tuple(_layer(t, "fixed", base_dir, None) for t in fixed),
        mobile=tuple(_layer(t, "mobile", base_dir, None) for t in mobile),
        demand=_demand(data["demand"]) if "demand" in data else None,
        **meta,
    )


def load_config(path: str | Path) -> RunConfig:
    r"""Read a TOML run configuration.

    Raises
    ------
    ConfigError
        When the file is missing, not valid TOML, or incomplete.

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
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"configuration file not found: {p}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML ({exc})") from None
    try:
        return parse_config(data, p.resolve().parent)
    except TypeError as exc:
        raise ConfigError(f"{p}: {exc}") from None


__all__ = ["PRESETS", "LayerSpec", "RunConfig", "load_config", "parse_config"]

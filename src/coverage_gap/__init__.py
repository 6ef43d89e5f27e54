"""coverage_gap: who is under-served by broadband and mobile, per municipality.

The top level holds the verbs an analyst calls, in the order of the data flow — read →
validate → gather evidence → classify under a standard → aggregate — the standards, the
main errors, and the batch run. Everything else is one submodule away:

- :mod:`coverage_gap.io` readers (and :mod:`coverage_gap.io.registry`, the layer kinds);
- :mod:`coverage_gap.danish` the Danish files, rules, presets, region and growth series;
- :mod:`coverage_gap.evidence`, :mod:`coverage_gap.validate`, :mod:`coverage_gap.standards`,
  :mod:`coverage_gap.errors` the building blocks;
- :mod:`coverage_gap.areas` (DDKN cells, any area layer), :mod:`coverage_gap.siting`
  (masts), :mod:`coverage_gap.danish.pool` (Bredbåndspuljen): where to act;
- :mod:`coverage_gap.demand` the demand projection;
- :mod:`coverage_gap.plot`, :mod:`coverage_gap.report` figures, tables and files.

Examples
--------
>>> import coverage_gap as cg
>>> cg.DK_100_30.describe()
'fixed ≥ 100/30 Mbit/s; under-served = no fixed service at the standard'
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from .aggregate import reconcile, summarize_gap
from .assign import MunicipalityIndex
from .classify import classify, classify_households
from .errors import ConfigError, CoverageGapError, InputError
from .evidence import gather_evidence
from .io import (
    read_coverage_polygons,
    read_households,
    read_municipalities,
    read_offers,
    read_signal_raster,
)
from .standards import BASIC_10_1, DK_100_30, GIGABIT, Provenance, ServiceStandard, get_standard

try:
    __version__ = version("coverage_gap")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

__all__ = [
    "BASIC_10_1",
    "DK_100_30",
    "GIGABIT",
    "ConfigError",
    "CoverageGapError",
    "InputError",
    "MunicipalityIndex",
    "Provenance",
    "Results",
    "ServiceStandard",
    "__version__",
    "classify",
    "classify_households",
    "gather_evidence",
    "get_standard",
    "load_config",
    "read_coverage_polygons",
    "read_households",
    "read_municipalities",
    "read_offers",
    "read_signal_raster",
    "reconcile",
    "run",
    "summarize_gap",
]

#: Submodules reachable as attributes (imported on first use: plotting loads matplotlib).
_SUBMODULES = (
    "aggregate",
    "areas",
    "assign",
    "classify",
    "config",
    "danish",
    "datasets",
    "demand",
    "errors",
    "evidence",
    "geo",
    "io",
    "keys",
    "layers",
    "pipeline",
    "plot",
    "report",
    "schema",
    "siting",
    "standards",
    "validate",
)
#: Top-level names that are imported on first use.
_LAZY = {"run": "pipeline", "Results": "pipeline", "load_config": "config"}
#: Where names that used to be at the top level live now.
_MOVED = {
    **dict.fromkeys(
        (
            "read_bbk",
            "read_dagi",
            "read_dawa_addresses",
            "count_bbr_dwellings",
            "count_unit_addresses",
            "BbkData",
            "REGION_SJAELLAND",
            "MOBILE_30_3",
            "subsidy_pool_status",
            "compare_denominators",
            "assess_pool",
            "PoolSpec",
            "PoolRuleSet",
            "PoolResult",
            "POOL_RULES",
        ),
        "danish",
    ),
    **dict.fromkeys(
        ("Evidence", "MatchedOffers", "match_offers", "best_signal", "OfferMatch"), "evidence"
    ),
    **dict.fromkeys(
        (
            "CRSError",
            "EmptyInputError",
            "Problem",
            "RasterError",
            "ReconciliationError",
            "SchemaError",
            "OfferMatchError",
            "AssignmentError",
            "OutputError",
        ),
        "errors",
    ),
    **dict.fromkeys(("BEAD_UNDERSERVED", "BEAD_UNSERVED", "PRESETS"), "standards"),
    **dict.fromkeys(
        ("validate_households", "validate_municipalities", "validate_offers"), "validate"
    ),
    **dict.fromkeys(("SignalRaster", "household_table", "to_geodataframe"), "layers"),
    **dict.fromkeys(("assign_municipalities",), "assign"),
    **dict.fromkeys(("wilson_interval",), "aggregate"),
    **dict.fromkeys(("AreaSpec", "ddkn_cell_names", "ddkn_cells", "summarize_areas"), "areas"),
    **dict.fromkeys(("SitingResult", "SitingSpec", "candidate_grid", "choose_sites"), "siting"),
}


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    if name in _MOVED:
        raise AttributeError(
            f"coverage_gap.{name} is not at the top level; use coverage_gap.{_MOVED[name]}.{name}"
        )
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY, *_SUBMODULES])

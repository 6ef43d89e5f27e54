"""coverage_gap: who is under-served by broadband and mobile, per municipality.

Data flow: read → validate → gather evidence → classify under a standard → aggregate →
(project demand) → plot / report.
"""

from importlib.metadata import PackageNotFoundError, version

from .aggregate import Provenance, reconcile, summarize_gap, wilson_interval
from .assign import MunicipalityIndex, assign_municipalities
from .classify import classify, classify_households
from .danish_rules import compare_denominators, subsidy_pool_status
from .errors import (
    ConfigError,
    CoverageGapError,
    CRSError,
    EmptyInputError,
    InputError,
    Problem,
    RasterError,
    ReconciliationError,
    SchemaError,
)
from .evidence import (
    Evidence,
    MatchedOffers,
    best_signal,
    gather_evidence,
    match_offers,
)
from .io import (
    read_coverage_polygons,
    read_households,
    read_municipalities,
    read_offers,
    read_signal_raster,
)
from .io.danish import (
    REGION_SJAELLAND,
    BbkData,
    count_bbr_dwellings,
    count_unit_addresses,
    read_bbk,
    read_dagi,
    read_dawa_addresses,
)
from .layers import SignalRaster, household_table, to_geodataframe
from .standards import (
    BASIC_10_1,
    BEAD_UNDERSERVED,
    BEAD_UNSERVED,
    DK_100_30,
    GIGABIT,
    MOBILE_30_3,
    PRESETS,
    ServiceStandard,
    get_standard,
)
from .validate import validate_households, validate_municipalities, validate_offers

try:
    __version__ = version("coverage_gap")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

__all__ = [
    "BASIC_10_1",
    "BEAD_UNDERSERVED",
    "BEAD_UNSERVED",
    "DK_100_30",
    "GIGABIT",
    "MOBILE_30_3",
    "PRESETS",
    "REGION_SJAELLAND",
    "BbkData",
    "CRSError",
    "ConfigError",
    "CoverageGapError",
    "EmptyInputError",
    "Evidence",
    "InputError",
    "MatchedOffers",
    "MunicipalityIndex",
    "Problem",
    "Provenance",
    "RasterError",
    "ReconciliationError",
    "SchemaError",
    "ServiceStandard",
    "SignalRaster",
    "__version__",
    "assign_municipalities",
    "best_signal",
    "classify",
    "classify_households",
    "compare_denominators",
    "count_bbr_dwellings",
    "count_unit_addresses",
    "gather_evidence",
    "get_standard",
    "household_table",
    "match_offers",
    "read_bbk",
    "read_coverage_polygons",
    "read_dagi",
    "read_dawa_addresses",
    "read_households",
    "read_municipalities",
    "read_offers",
    "read_signal_raster",
    "reconcile",
    "subsidy_pool_status",
    "summarize_gap",
    "to_geodataframe",
    "validate_households",
    "validate_municipalities",
    "validate_offers",
    "wilson_interval",
]

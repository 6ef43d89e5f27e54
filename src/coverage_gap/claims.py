"""Which definition makes a headline true: one claimed share under a grid of definitions.

A claim such as "almost one household in five lacks proper internet" is a query with
parameters (Wu, Agarwal, Li, Yang & Yu, PVLDB 2014): the speed threshold, whether mobile
counts, how offers without an upload figure count, the denominator and the data year.
:func:`check_claim` computes the region's share, and each municipality's, under every
combination of a :class:`ClaimGrid` — a specification curve (Simonsohn, Simmons & Nelson,
Nature Human Behaviour 2020) — and says under which specifications the claim holds and how
robust it is.

The evidence of each data year is gathered once (:func:`coverage_gap.gather_evidence`, or
``run(config, keep_evidence=True)``); a specification only applies thresholds
(:func:`coverage_gap.classify`) and counts (:func:`coverage_gap.summarize_gap`): nothing is
read or joined per specification.

When a claim holds
    A claim is a share with a tolerance, :class:`Claim`: "almost one in five" = 0.2 ± 0.02.
    It holds under a specification when the region's share lies in the closed band
    ``[share − tolerance, share + tolerance]`` (differences below 1e-9 are rounding).
    "Almost" is not read as "below": 21 % is as near to one in five as 19 %. The 95 %
    interval of each share is reported beside it (``interval_meets_band``) but does not
    decide: at the scale of a region a census share is pinned down to a few tenths of a
    point, and what moves it is the definition. *Robustness* is the share of the
    specifications under which the claim holds.

Which specifications
    Every combination of the grid's fixed thresholds, under-served rules, missing-upload
    rules, mobile thresholds, denominators and data years — with two exceptions that
    would count one definition twice or judge what is not there: a threshold without an
    upload requirement (1000/any) is judged once, not once per missing-upload rule
    (``missing_upload = "not_applicable"``); and a rule that needs mobile coverage is
    judged only for a data year with mobile evidence (the left-out combinations are
    listed in :attr:`ClaimCheck.notes`). Per-address mobile speeds (BBK) are held to the
    specification's fixed thresholds; signal (rasters, polygons) to ``mobile_min_dbm``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd

from . import schema as S
from .aggregate import summarize_gap
from .classify import classify
from .errors import ConfigError
from .evidence import Evidence
from .standards import DENOMINATORS, Provenance, ServiceStandard

__all__ = [
    "DEFAULT_FIXED",
    "DEFAULT_MOBILE_MIN_DBM",
    "Claim",
    "ClaimCheck",
    "ClaimGrid",
    "ClaimSpec",
    "Vintage",
    "check_claim",
    "choice_label",
    "parse_threshold",
]

#: Fixed thresholds of the default grid (down, up) in Mbit/s; ``None`` = no upload requirement.
DEFAULT_FIXED: tuple[tuple[float, float | None], ...] = (
    (10.0, 1.0),
    (30.0, 5.0),
    (100.0, 20.0),
    (100.0, 30.0),
    (1000.0, None),
)
#: Signal threshold (best operator's RSRP) used when neither the grid nor the run's
#: standard gives one: the value of the README's examples and the demo.
DEFAULT_MOBILE_MIN_DBM = -105.0
#: ``missing_upload`` of a specification whose thresholds have no upload requirement.
NOT_APPLICABLE = "not_applicable"
_RULES = ("no_fixed", "no_fixed_and_no_mobile", "no_mobile")
_MISSING = ("unserved", "download_only")
_EPS = 1e-9


def parse_threshold(text: str) -> tuple[float, float | None]:
    """Read a fixed threshold written ``"DOWN/UP"``, ``"DOWN"`` or ``"DOWN/any"`` (Mbit/s).

    Examples
    --------
    >>> parse_threshold("100/30"), parse_threshold("1000"), parse_threshold("1000/any")
    ((100.0, 30.0), (1000.0, None), (1000.0, None))
    >>> parse_threshold("fast")
    Traceback (most recent call last):
    ...
    coverage_gap.errors.ConfigError: [claim] fixed: 'fast' is not a threshold; write "100/30" ...
    """
    down, _, up = str(text).strip().partition("/")
    try:
        down_mbps = float(down.replace(",", "."))
        up_mbps = None if up.strip().lower() in ("", "any") else float(up.replace(",", "."))
    except ValueError:
        raise ConfigError(
            f'[claim] fixed: {text!r} is not a threshold; write "100/30" (download/upload, '
            'Mbit/s) or "1000" (download only)'
        ) from None
    for value in (down_mbps, up_mbps):
        if value is not None and (not math.isfinite(value) or value < 0):
            raise ConfigError(f"[claim] fixed: {text!r} must hold finite speeds >= 0")
    return down_mbps, up_mbps


def _threshold_text(down: float, up: float | None) -> str:
    if up is None or math.isnan(up):
        return f"{down:g}"
    return f"{down:g}/{up:g}"


@dataclass(frozen=True)
class Claim:
    """A claimed share with the tolerance within which it counts as true.

    Parameters
    ----------
    share
        The claimed share, 0 < share < 1 (0.2 for "one in five").
    tolerance
        How far the share may lie from the claim (0.02: 18–22 % for "almost one in five").
    statement, statement_da
        The claim in words (English, Danish), for the verdict and the chart; the
        Danish verdict falls back to ``statement`` and the English one to
        ``statement_da``.

    Examples
    --------
    >>> c = Claim(0.2, 0.02, "almost one household in five")
    >>> c.low, c.high, c.holds(np.array([0.17, 0.18, 0.2, 0.22, 0.23])).tolist()
    (0.18, 0.22, [False, True, True, True, False])
    >>> c.band_text("da")
    '20 % ± 2 procentpoint, 18–22 %'
    """

    share: float
    tolerance: float = 0.02
    statement: str = ""
    statement_da: str = ""

    def __post_init__(self) -> None:
        if not _is_number(self.share) or not 0 < self.share < 1:
            raise ConfigError(f"the claimed share must lie between 0 and 1, got {self.share!r}")
        if not _is_number(self.tolerance) or not 0 <= self.tolerance < 1:
            raise ConfigError(f"the tolerance must lie between 0 and 1, got {self.tolerance!r}")

    @property
    def low(self) -> float:
        """Lower edge of the band (never below 0)."""
        return round(max(0.0, self.share - self.tolerance), 12)

    @property
    def high(self) -> float:
        """Upper edge of the band (never above 1)."""
        return round(min(1.0, self.share + self.tolerance), 12)

    def holds(self, shares: np.ndarray | pd.Series) -> np.ndarray:
        """Whether each share lies in the band (NaN never does)."""
        values = np.asarray(shares, dtype=np.float64)
        return (values >= self.low - _EPS) & (values <= self.high + _EPS)

    def band_text(self, lang: str = "en") -> str:
        """Say the band in words: ``"20% ± 2 points, 18–22%"``."""
        points = _number(100 * self.tolerance, lang)
        word = "procentpoint" if lang == "da" else "points"
        return (
            f"{_percent(self.share, lang)} ± {points} {word}, "
            f"{_percent(self.low, lang, sign=False)}–{_percent(self.high, lang)}"
        )

    def text(self, lang: str = "en") -> str:
        """Return the statement in ``lang`` (or in the other language when only that is given)."""
        first, second = (
            (self.statement_da, self.statement)
            if lang == "da"
            else (self.statement, self.statement_da)
        )
        return first or second

    def to_dict(self) -> dict[str, object]:
        """Plain form for the manifest."""
        return {
            "share": self.share,
            "tolerance": self.tolerance,
            "low": self.low,
            "high": self.high,
            "statement": self.statement,
            "statement_da": self.statement_da,
        }


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True)
class ClaimGrid:
    """The specifications a claim is judged under (the ``[claim]`` section's grid).

    Parameters
    ----------
    fixed
        Fixed thresholds ``(down, up)`` in Mbit/s; ``up`` None = no upload requirement.
        Default: 10/1, 30/5, 100/20, 100/30 and 1000/any (:data:`DEFAULT_FIXED`).
    underserved
        Under-served rules; default ``no_fixed`` and ``no_fixed_and_no_mobile`` (the
        latter only for data years with mobile evidence).
    missing_upload
        How an offer without an upload figure counts; default both ways.
    denominators
        What is counted; None (default) = every denominator the data allow: addresses
        always, and the run's denominator (households, dwellings) when the household
        table carries counts.
    mobile_min_dbm
        Signal thresholds for mobile rules; None (default) = the run's standard's, else
        :data:`DEFAULT_MOBILE_MIN_DBM`.
    data_years
        Data years to judge; None (default) = every vintage given.

    Examples
    --------
    >>> ClaimGrid().fixed[-1], ClaimGrid(fixed=((100, 30),)).underserved
    ((1000.0, None), ('no_fixed', 'no_fixed_and_no_mobile'))
    >>> ClaimGrid(underserved=("nobody",))
    Traceback (most recent call last):
    ...
    coverage_gap.errors.ConfigError: [claim] underserved: unknown rule 'nobody'; ...
    """

    fixed: tuple[tuple[float, float | None], ...] = DEFAULT_FIXED
    underserved: tuple[str, ...] = ("no_fixed", "no_fixed_and_no_mobile")
    missing_upload: tuple[str, ...] = _MISSING
    denominators: tuple[str, ...] | None = None
    mobile_min_dbm: tuple[float, ...] | None = None
    data_years: tuple[int | str, ...] | None = None

    def __post_init__(self) -> None:
        fixed = tuple((float(down), None if up is None else float(up)) for down, up in self.fixed)
        object.__setattr__(self, "fixed", fixed)
        for key in ("fixed", "underserved", "missing_upload"):
            if not getattr(self, key):
                raise ConfigError(f"[claim] {key} must name at least one choice")
        for down, up in fixed:
            for value in (down, up):
                if value is not None and (not math.isfinite(value) or value < 0):
                    raise ConfigError(f"[claim] fixed: speeds must be finite and >= 0, got {value}")
        for rule in self.underserved:
            if rule not in _RULES:
                raise ConfigError(
                    f"[claim] underserved: unknown rule {rule!r}; rules are {list(_RULES)}"
                )
        for rule in self.missing_upload:
            if rule not in _MISSING:
                raise ConfigError(
                    f"[claim] missing_upload: unknown rule {rule!r}; rules are {list(_MISSING)}"
                )
        for name in self.denominators or ():
            if name not in DENOMINATORS:
                raise ConfigError(
                    f"[claim] denominators: unknown denominator {name!r}; "
                    f"denominators are {sorted(DENOMINATORS)}"
                )
        for value in self.mobile_min_dbm or ():
            if not _is_number(value):
                raise ConfigError(f"[claim] mobile_min_dbm: {value!r} is not a finite number")
        for key in ("fixed", "underserved", "missing_upload", "denominators", "mobile_min_dbm"):
            values = getattr(self, key)
            if values is not None and len(set(values)) != len(values):
                raise ConfigError(f"[claim] {key} names a choice twice: {list(values)}")

    def to_dict(self) -> dict[str, object]:
        """Plain form for the manifest."""
        return {
            "fixed": [_threshold_text(d, u) for d, u in self.fixed],
            "underserved": list(self.underserved),
            "missing_upload": list(self.missing_upload),
            "denominators": None if self.denominators is None else list(self.denominators),
            "mobile_min_dbm": None if self.mobile_min_dbm is None else list(self.mobile_min_dbm),
            "data_years": None if self.data_years is None else [str(y) for y in self.data_years],
        }


@dataclass(frozen=True)
class ClaimSpec:
    """One specification: the choices that turn the evidence of a year into one share.

    Examples
    --------
    >>> spec = ClaimSpec(2026, 100, 30, "no_fixed", "unserved", None, None, None, "households")
    >>> spec.standard().describe()
    'fixed ≥ 100/30 Mbit/s; under-served = no fixed service at the standard'
    """

    data_year: int | str | None
    fixed_down_mbps: float
    fixed_up_mbps: float | None
    underserved: str
    missing_upload: str
    mobile_min_dbm: float | None
    mobile_down_mbps: float | None
    mobile_up_mbps: float | None
    denominator: str

    @property
    def fixed(self) -> str:
        """The fixed threshold as text: ``"100/30"``, ``"1000"``."""
        return _threshold_text(self.fixed_down_mbps, self.fixed_up_mbps)

    def standard(self) -> ServiceStandard:
        """Return the service standard of this specification."""
        missing = "unserved" if self.missing_upload == NOT_APPLICABLE else self.missing_upload
        return ServiceStandard(
            self.fixed,
            fixed_down_mbps=self.fixed_down_mbps,
            fixed_up_mbps=self.fixed_up_mbps,
            mobile_min_dbm=self.mobile_min_dbm,
            mobile_down_mbps=self.mobile_down_mbps,
            mobile_up_mbps=self.mobile_up_mbps,
            underserved=self.underserved,  # type: ignore[arg-type]
            missing_upload=missing,  # type: ignore[arg-type]
        )


@dataclass(frozen=True, eq=False)
class Vintage:
    """The evidence of one data year, with what its figures mean.

    Attributes
    ----------
    evidence
        Gathered once (:func:`coverage_gap.gather_evidence`).
    municipalities
        The municipality layer (code, name; ``selected`` when a selection applies).
    provenance
        Of the run: its ``denominator`` says what the household column counts, its
        ``data_year``, ``source`` and ``area_name`` label the rows, and its standard's
        ``mobile_min_dbm`` is the grid's default signal threshold.
    """

    evidence: Evidence
    municipalities: gpd.GeoDataFrame | pd.DataFrame
    provenance: Provenance

    def denominators(self) -> tuple[str, ...]:
        """Return what this year's household table can count: its own unit and addresses.

        The household column carries counts when its reader says so
        (``attrs["households_column"]``, set by every reader) or, for a table built in
        code, when it holds anything other than 1.
        """
        table = self.evidence.households
        if "households_column" in table.attrs:
            counts = table.attrs["households_column"] is not None
        else:
            counts = bool((table[S.HOUSEHOLDS].to_numpy() != 1).any())
        own = self.provenance.denominator
        return (own, "addresses") if counts and own != "addresses" else ("addresses",)

    def mobile(self) -> tuple[bool, bool]:
        """(signal or coverage polygons, per-address or per-polygon speeds) present."""
        mobile = self.evidence.mobile
        return bool(mobile.sources & {"raster", "areas"}), mobile.speeds is not None


def _specifications(vintage: Vintage, grid: ClaimGrid, notes: list[str]) -> list[ClaimSpec]:
    year = vintage.provenance.data_year
    available = vintage.denominators()
    wanted = grid.denominators or available
    missing = [d for d in wanted if d not in available]
    if missing:
        raise ConfigError(
            f"[claim] denominators: {missing} cannot be counted for data year {year}: the "
            f"household table counts {available[0]} (the denominators it allows are "
            f"{list(available)})"
        )
    signal, speeds = vintage.mobile()
    standard_dbm = vintage.provenance.standard.mobile_min_dbm
    dbm_values: tuple[float | None, ...] = (None,)
    if signal:
        dbm_values = grid.mobile_min_dbm or (
            standard_dbm if standard_dbm is not None else DEFAULT_MOBILE_MIN_DBM,
        )
    out = []
    for rule in grid.underserved:
        uses_mobile = rule != "no_fixed"
        if uses_mobile and not (signal or speeds):
            notes.append(
                f"data year {year}: no mobile evidence, so the rule {rule!r} was not judged"
            )
            continue
        for (down, up), dbm in itertools.product(
            grid.fixed, dbm_values if uses_mobile else (None,)
        ):
            rules = grid.missing_upload if up is not None else (NOT_APPLICABLE,)
            for missing_upload, denominator in itertools.product(rules, wanted):
                out.append(
                    ClaimSpec(
                        year,
                        down,
                        up,
                        rule,
                        missing_upload,
                        float(dbm) if uses_mobile and dbm is not None else None,
                        down if uses_mobile and speeds else None,
                        up if uses_mobile and speeds else None,
                        denominator,
                    )
                )
    return out


_SUMMARY = [S.HOUSEHOLDS]
#: Columns of ``claims.csv`` in order (see :func:`check_claim`).
SPEC_COLUMNS = [
    "data_year",
    "fixed_down_mbps",
    "fixed_up_mbps",
    "mobile_min_dbm",
    "mobile_down_mbps",
    "mobile_up_mbps",
    "underserved",
    "missing_upload",
    "denominator",
]


def check_claim(
    vintages: Sequence[Vintage] | Vintage,
    claim: Claim,
    *,
    grid: ClaimGrid | None = None,
    confidence: float = 0.95,
) -> ClaimCheck:
    """Judge a claimed share under every specification of a grid, for every data year.

    Each data year's evidence is judged under each service standard once
    (:func:`~coverage_gap.classify`), and each judgement counted under each denominator
    (:func:`~coverage_gap.summarize_gap`); nothing is read or joined again.

    Parameters
    ----------
    vintages
        The data years: evidence, municipalities and provenance of each.
    claim
        The claimed share and its tolerance.
    grid
        The specifications (default :class:`ClaimGrid`).
    confidence
        Level of the Wilson intervals.

    Returns
    -------
    ClaimCheck
        ``specifications``: one row per specification, indexed by ``specification``
        (1, 2, ...), with the choices (``data_year, fixed_down_mbps, fixed_up_mbps,
        mobile_min_dbm, mobile_down_mbps, mobile_up_mbps, underserved, missing_upload,
        denominator``), ``service_standard``, ``source``, the region's ``households``
        (in the denominator's unit), ``underserved_households``, ``region_share``,
        ``share_ci_low``, ``share_ci_high``, ``claim_share``, ``claim_low``,
        ``claim_high``, ``claim_holds``, ``interval_meets_band``,
        ``municipalities_with_data`` and ``municipalities_holding``; ``municipalities``:
        the same per municipality (one row per specification and municipality).

    Raises
    ------
    ConfigError
        The grid asks for a denominator or data year the data do not have.

    Examples
    --------
    >>> import shapely
    >>> from coverage_gap.evidence import gather_evidence
    >>> from coverage_gap.standards import DK_100_30
    >>> m = gpd.GeoDataFrame({"municipality_code": ["0001"], "municipality_name": ["A"]},
    ...                      geometry=[shapely.box(0, 0, 1000, 1000)], crs="EPSG:25832")
    >>> h = pd.DataFrame({"address_id": list("abcde"), "households": [1, 1, 1, 1, 4],
    ...                   "x": [100.0] * 5, "y": [100.0] * 5})
    >>> h.attrs["crs"] = "EPSG:25832"
    >>> o = pd.DataFrame({"address_id": list("abcde"),
    ...                   "down_mbps": [1000.0, 1000.0, 1000.0, 50.0, 1000.0],
    ...                   "up_mbps": [1000.0, 1000.0, 1000.0, 10.0, 1000.0]})
    >>> v = Vintage(gather_evidence(h, m, fixed_offers=o), m, Provenance(DK_100_30, data_year=2026))
    >>> check = check_claim(v, Claim(0.2, 0.02), grid=ClaimGrid(fixed=((100, 30),)))
    >>> columns = ["missing_upload", "denominator", "region_share", "claim_holds"]
    >>> for row in check.specifications[columns].itertuples():
    ...     print(*row)
    1 unserved households 0.125 False
    2 unserved addresses 0.2 True
    3 download_only households 0.125 False
    4 download_only addresses 0.2 True
    >>> print(check.verdict("da"))  # doctest: +NORMALIZE_WHITESPACE
    En andel på 20 % ± 2 procentpoint, 18–22 %, holder under 2 af 4 specifikationer
    (50 %), alle talt i adresser. Områdets andel ligger mellem 12,5 % og 20,0 %.
    """
    grid = grid or ClaimGrid()
    items = [vintages] if isinstance(vintages, Vintage) else list(vintages)
    if not items:
        raise ConfigError("the claim check needs at least one data year")
    years = [v.provenance.data_year for v in items]
    if len({str(y) for y in years}) != len(years):
        raise ConfigError(f"data years must differ between vintages, got {years}")
    if grid.data_years is not None:
        unknown = [y for y in grid.data_years if str(y) not in {str(v) for v in years}]
        if unknown:
            raise ConfigError(
                f"[claim] data_years: {unknown} are not among the configured data years {years}"
            )
        chosen = {str(y) for y in grid.data_years}
        items = [v for v in items if str(v.provenance.data_year) in chosen]
    notes: list[str] = []
    rows: list[dict[str, object]] = []
    local: list[dict[str, np.ndarray]] = []
    for vintage in items:
        specs = _specifications(vintage, grid, notes)
        prov = vintage.provenance
        # classify only what the counts need: no copies of ids or coordinates per standard
        evidence = replace(vintage.evidence, households=vintage.evidence.households[_SUMMARY])
        # addresses count 1 each, whatever the household column holds
        ones = None
        if not (evidence.households[S.HOUSEHOLDS].to_numpy() == 1).all():
            ones = np.ones(len(evidence.households), dtype=np.int64)
        for standard_spec, group in itertools.groupby(
            specs, key=lambda s: replace(s, denominator="")
        ):
            standard = standard_spec.standard()
            classified = classify(evidence, standard)
            for spec in group:
                frame = classified
                if spec.denominator == "addresses" and ones is not None:
                    frame = classified.assign(**{S.HOUSEHOLDS: ones})
                provenance = Provenance(
                    standard, spec.denominator, prov.data_year, prov.source, prov.area_name
                )
                table = summarize_gap(
                    frame, vintage.municipalities, provenance, confidence=confidence
                )
                number = len(rows) + 1
                rows.append(_spec_row(number, spec, table, claim))
                local.append(_local_rows(number, spec, table, claim))
    if not rows:
        raise ConfigError("the grid leaves no specification to judge: " + "; ".join(notes))
    specifications = pd.DataFrame(rows).set_index("specification")
    municipalities = pd.DataFrame(
        {key: np.concatenate([part[key] for part in local]) for key in local[0]}
    )
    holding = municipalities.groupby("specification", sort=True)["claim_holds"].sum()
    specifications["municipalities_holding"] = holding.reindex(specifications.index).astype(
        np.int64
    )
    area = items[0].provenance.area_name
    return ClaimCheck(claim, specifications, municipalities, area, tuple(dict.fromkeys(notes)))


def _spec_row(number: int, spec: ClaimSpec, table: pd.DataFrame, claim: Claim) -> dict[str, object]:
    region = table.loc[S.REGION_CODE]
    share = float(region["underserved_share"])
    low, high = float(region["share_ci_low"]), float(region["share_ci_high"])
    return {
        "specification": number,
        **_choices(spec),
        "service_standard": region["service_standard"],
        "source": region["source"],
        "households": int(region["households"]),
        "underserved_households": int(region["underserved_households"]),
        "region_share": share,
        "share_ci_low": low,
        "share_ci_high": high,
        "claim_share": claim.share,
        "claim_low": claim.low,
        "claim_high": claim.high,
        "claim_holds": bool(claim.holds(np.array([share]))[0]),
        "interval_meets_band": bool(high >= claim.low - _EPS and low <= claim.high + _EPS),
        "municipalities_with_data": int(region["municipalities_with_data"]),
    }


def _choices(spec: ClaimSpec) -> dict[str, object]:
    def number(value: float | None) -> float:
        return np.nan if value is None else float(value)

    return {
        "data_year": "" if spec.data_year is None else str(spec.data_year),
        "fixed_down_mbps": number(spec.fixed_down_mbps),
        "fixed_up_mbps": number(spec.fixed_up_mbps),
        "mobile_min_dbm": number(spec.mobile_min_dbm),
        "mobile_down_mbps": number(spec.mobile_down_mbps),
        "mobile_up_mbps": number(spec.mobile_up_mbps),
        "underserved": spec.underserved,
        "missing_upload": spec.missing_upload,
        "denominator": spec.denominator,
    }


def _local_rows(
    number: int, spec: ClaimSpec, table: pd.DataFrame, claim: Claim
) -> dict[str, np.ndarray]:
    rows = table.iloc[:-1]  # the region row comes last
    share = rows["underserved_share"].to_numpy(np.float64)
    n = len(rows)
    out: dict[str, np.ndarray] = {"specification": np.full(n, number, dtype=np.int64)}
    for key, value in _choices(spec).items():
        out[key] = np.full(n, value, dtype=object if isinstance(value, str) else np.float64)
    out[S.MUNICIPALITY_CODE] = rows.index.to_numpy(dtype=object)
    out[S.MUNICIPALITY_NAME] = rows[S.MUNICIPALITY_NAME].to_numpy(dtype=object)
    out["households"] = rows["households"].to_numpy(np.int64)
    out["underserved_households"] = rows["underserved_households"].to_numpy(np.int64)
    out["underserved_share"] = share
    out["share_ci_low"] = rows["share_ci_low"].to_numpy(np.float64)
    out["share_ci_high"] = rows["share_ci_high"].to_numpy(np.float64)
    out["claim_holds"] = claim.holds(share)
    return out


# --- words ------------------------------------------------------------------------------

#: The dimensions of a grid, in the order the verdict and the chart name them.
DIMENSIONS = (
    "data_year",
    "fixed",
    "underserved",
    "mobile_min_dbm",
    "missing_upload",
    "denominator",
)

_WORDS: dict[str, dict[str, Any]] = {
    "en": {
        "underserved": {
            "no_fixed": "no fixed",
            "no_fixed_and_no_mobile": "neither fixed nor mobile",
            "no_mobile": "no mobile",
        },
        "missing_upload": {
            "unserved": "fails",
            "download_only": "download decides",
            NOT_APPLICABLE: "no upload threshold",
        },
        "denominator": {
            "households": "households",
            "dwellings": "dwellings",
            "addresses": "addresses",
        },
        "phrase": {
            "data_year": ("with data year {values}", "with data years {values}"),
            "fixed": (
                "with the fixed threshold {values} Mbit/s",
                "with the fixed thresholds {values} Mbit/s",
            ),
            "underserved": ("with under-served = {values}", "with under-served = {values}"),
            "mobile_min_dbm": ("with mobile ≥ {values} dBm", "with mobile ≥ {values} dBm"),
            "missing_upload": ("{values}", "{values}"),
            "denominator": ("counting {values}", "counting {values}"),
        },
        "missing_upload_sentence": {
            "unserved": "with offers that state no upload failing the upload threshold",
            "download_only": "with offers that state no upload judged on their download",
            NOT_APPLICABLE: "without an upload threshold",
        },
        "or": " or ",
        "and": " and ",
        "holds": "{subject} holds under {k} of {n} specifications ({pct}), all of them {what}.",
        "holds_mixed": "{subject} holds under {k} of {n} specifications ({pct}), "
        "with no choice common to all of them.",
        "holds_all": "{subject} holds under all {n} specifications.",
        "holds_none": "{subject} holds under none of the {n} specifications.",
        "holds_one": "{subject} holds under 1 of {n} specifications ({pct}), the one {what}.",
        "range": " The share of the area ranges from {low} to {high}.",
        "subject": 'The claim "{statement}" ({band})',
        "subject_bare": "A share of {band},",
    },
    "da": {
        "underserved": {
            "no_fixed": "ingen fast",
            "no_fixed_and_no_mobile": "hverken fast eller mobil",
            "no_mobile": "ingen mobil",
        },
        "missing_upload": {
            "unserved": "ikke opfyldt",
            "download_only": "download afgør",
            NOT_APPLICABLE: "intet uploadkrav",
        },
        "denominator": {"households": "husstande", "dwellings": "boliger", "addresses": "adresser"},
        "phrase": {
            "data_year": ("med dataår {values}", "med dataår {values}"),
            "fixed": (
                "med det faste hastighedskrav {values} Mbit/s",
                "med de faste hastighedskrav {values} Mbit/s",
            ),
            "underserved": ("med underforsynet = {values}", "med underforsynet = {values}"),
            "mobile_min_dbm": ("med mobil ≥ {values} dBm", "med mobil ≥ {values} dBm"),
            "missing_upload": ("{values}", "{values}"),
            "denominator": ("talt i {values}", "talt i {values}"),
        },
        "missing_upload_sentence": {
            "unserved": "med tilbud uden uploadtal som ikke opfylder uploadkravet",
            "download_only": "med tilbud uden uploadtal bedømt på download",
            NOT_APPLICABLE: "uden uploadkrav",
        },
        "or": " eller ",
        "and": " og ",
        "holds": "{subject} holder under {k} af {n} specifikationer ({pct}), alle {what}.",
        "holds_mixed": "{subject} holder under {k} af {n} specifikationer ({pct}), "
        "uden et valg som er fælles for dem alle.",
        "holds_all": "{subject} holder under alle {n} specifikationer.",
        "holds_none": "{subject} holder under ingen af de {n} specifikationer.",
        "holds_one": "{subject} holder under 1 af {n} specifikationer ({pct}), den {what}.",
        "range": " Områdets andel ligger mellem {low} og {high}.",
        "subject": 'Påstanden "{statement}" ({band})',
        "subject_bare": "En andel på {band},",
    },
}


def _number(value: float, lang: str, decimals: int | None = None) -> str:
    text = f"{value:g}" if decimals is None else f"{value:,.{decimals}f}"
    if lang == "da":
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return text


def _percent(share: float, lang: str, decimals: int | None = None, *, sign: bool = True) -> str:
    if share is None or not np.isfinite(share):
        return "–"
    value = 100 * share
    text = _number(round(value, 6), lang) if decimals is None else _number(value, lang, decimals)
    if not sign:
        return text
    return f"{text} %" if lang == "da" else f"{text}%"


def _lang(lang: str) -> str:
    return "da" if lang == "da" else "en"


def choice_label(dimension: str, value: object, lang: str = "en") -> str:
    """Short label of one choice of a specification, for the chart and the verdict.

    Examples
    --------
    >>> choice_label("fixed", (1000.0, None)), choice_label("underserved", "no_fixed", "da")
    ('1000', 'ingen fast')
    >>> choice_label("mobile_min_dbm", -105.0), choice_label("denominator", "addresses", "da")
    ('−105', 'adresser')
    """
    words = _WORDS[_lang(lang)]
    if dimension == "fixed":
        down, up = cast("tuple[float, float | None]", value)
        return (
            _number(down, lang)
            if up is None or pd.isna(up)
            else (f"{_number(down, lang)}/{_number(up, lang)}")
        )
    if dimension == "mobile_min_dbm":
        return _number(float(value), lang).replace("-", "−")  # type: ignore[arg-type]
    if dimension in ("underserved", "missing_upload", "denominator"):
        return str(words[dimension].get(str(value), value))
    return str(value)


def dimension_values(table: pd.DataFrame, dimension: str) -> list[object]:
    """Return the values a dimension takes in a specification table, in the grid's order.

    Examples
    --------
    >>> t = pd.DataFrame({"fixed_down_mbps": [100.0, 10.0], "fixed_up_mbps": [30.0, 1.0]})
    >>> dimension_values(t, "fixed")
    [(100.0, 30.0), (10.0, 1.0)]
    """
    if dimension == "fixed":
        pairs = zip(table["fixed_down_mbps"], table["fixed_up_mbps"], strict=True)
        values: Iterable[object] = ((float(d), None if pd.isna(u) else float(u)) for d, u in pairs)
    elif dimension == "mobile_min_dbm":
        values = (float(v) for v in table[dimension] if pd.notna(v))
    else:
        values = table[dimension].astype(str)
    return list(dict.fromkeys(values))


@dataclass(frozen=True, eq=False)
class ClaimCheck:
    """A claim judged under a grid of specifications (see :func:`check_claim`).

    Attributes
    ----------
    claim
        The claim.
    specifications
        One row per specification (``claims.csv``).
    municipalities
        One row per specification and municipality.
    area_name
        Name of the whole area.
    notes
        Combinations left out, and why (e.g. no mobile evidence in a year).
    """

    claim: Claim
    specifications: pd.DataFrame
    municipalities: pd.DataFrame
    area_name: str = "All municipalities"
    notes: tuple[str, ...] = ()

    @property
    def total(self) -> int:
        """Number of specifications."""
        return len(self.specifications)

    @property
    def holding(self) -> int:
        """Number of specifications under which the claim holds."""
        return int(self.specifications["claim_holds"].sum())

    @property
    def robustness(self) -> float:
        """Share of the specifications under which the claim holds."""
        return self.holding / self.total

    def dimensions(self) -> list[str]:
        """Return the dimensions on which the specifications differ."""
        return [d for d in DIMENSIONS if len(dimension_values(self.specifications, d)) > 1]

    def verdict(self, lang: str = "en") -> str:
        """One paragraph: under how many specifications the claim holds, and which.

        ``"... holds under 3 of 48 specifications (6%), all of them with data year 2025
        and counting households."`` — the choices named are those shared by every
        specification under which it holds and not by all the others.
        """
        lang = _lang(lang)
        words = _WORDS[lang]
        claim = self.claim
        band = claim.band_text(lang)
        subject = (
            words["subject"].format(statement=claim.text(lang), band=band)
            if claim.text(lang)
            else words["subject_bare"].format(band=band)
        )
        k, n = self.holding, self.total
        pct = _percent(k / n, lang, 0)
        table = self.specifications
        if k == n:
            text = words["holds_all"].format(subject=subject, n=n)
        elif k == 0:
            text = words["holds_none"].format(subject=subject, n=n)
        else:
            held = table[table["claim_holds"].to_numpy(bool)]
            phrases = []
            for dimension in DIMENSIONS:
                every = dimension_values(table, dimension)
                held_values = dimension_values(held, dimension)
                some = [v for v in every if v in held_values]  # in the grid's order
                if dimension == "missing_upload":
                    # "not applicable" follows from the thresholds: not a choice of its own
                    every = [v for v in every if v != NOT_APPLICABLE]
                    some = [v for v in some if v != NOT_APPLICABLE] or some
                if some and len(some) < len(every):
                    labels = [
                        words["missing_upload_sentence"][str(v)]
                        if dimension == "missing_upload"
                        else choice_label(dimension, v, lang)
                        for v in some
                    ]
                    joined = (
                        labels[0]
                        if len(labels) == 1
                        else ", ".join(labels[:-1]) + words["or"] + labels[-1]
                    )
                    phrase = words["phrase"][dimension][len(labels) > 1]
                    phrases.append(phrase.format(values=joined))
            # No phrase when the holding specifications share no choice the others lack
            # (a grid whose every dimension has one value, say).
            what = (
                ""
                if not phrases
                else phrases[0]
                if len(phrases) == 1
                else ", ".join(phrases[:-1]) + words["and"] + phrases[-1]
            )
            if k == 1 and phrases:
                text = words["holds_one"].format(subject=subject, n=n, pct=pct, what=what)
            elif phrases:
                text = words["holds"].format(subject=subject, k=k, n=n, pct=pct, what=what)
            else:
                text = words["holds_mixed"].format(subject=subject, k=k, n=n, pct=pct)
        shares = table["region_share"].to_numpy(np.float64)
        if np.isfinite(shares).any():
            text += words["range"].format(
                low=_percent(float(np.nanmin(shares)), lang, 1),
                high=_percent(float(np.nanmax(shares)), lang, 1),
            )
        return text

    def to_dict(self) -> dict[str, object]:
        """Plain form for the manifest: the claim, the counts and the verdicts."""
        return {
            "claim": self.claim.to_dict(),
            "specifications": self.total,
            "holding": self.holding,
            "robustness": round(self.robustness, 6),
            "verdict": {"en": self.verdict("en"), "da": self.verdict("da")},
            "notes": list(self.notes),
        }

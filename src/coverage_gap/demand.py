"""Demand projection: growth scenarios, fitted growth, doubling time, capacity year.

Demand per municipality and year = baseline units (households or subscriptions) × GB per
unit and month × a growth factor. Three families of growth:

``constant``
    ``(1 + rate) ** t`` — the taskforce's "about 50 % a year" is ``TASKFORCE_50``.
``decaying``
    the growth rate falls every year: continuous rate ``g(t) = g0 · exp(-decay · t)`` with
    ``g0 = ln(1 + rate)``, so demand is ``exp(g0 (1 - exp(-decay t)) / decay)`` (a
    Gompertz curve: it levels off at ``exp(g0 / decay)``).
``logistic``
    ``K / (1 + (K - 1) exp(-g0 t))``: growth at ``rate`` early, saturating at ``K`` times
    today's demand.

Busy-hour throughput: ``busy_hour_mbps = GB/month ÷ days_per_month × busy_hour_share ×
8000 ÷ 3600`` (1 GB = 8,000 Mbit; the busy hour carries ``busy_hour_share`` of a day's
traffic).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from . import schema as S
from .errors import ConfigError

GrowthKind = Literal["constant", "decaying", "logistic"]


@dataclass(frozen=True)
class GrowthScenario:
    """A named growth path.

    Parameters
    ----------
    name
        Shown in tables and charts.
    rate
        Annual growth in the first year (0.5 = +50 %). Must be > -1.
    kind
        ``"constant"``, ``"decaying"`` or ``"logistic"`` (see the module docstring).
    decay
        For ``"decaying"``: how fast the continuous growth rate falls (per year; 0.2
        means it falls by about 18 % a year).
    saturation
        For ``"logistic"``: the ceiling as a multiple of the base-year demand (> 1).
    rate_interval
        For a fitted scenario: the 95 % interval of ``rate`` (from the fit's standard
        errors); None for an assumed one.

    Examples
    --------
    >>> TASKFORCE_50.factor([0, 1, 2]).round(3).tolist()
    [1.0, 1.5, 2.25]
    """

    name: str
    rate: float
    kind: GrowthKind = "constant"
    decay: float = 0.0
    saturation: float | None = None
    rate_interval: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        if not math.isfinite(self.rate) or self.rate <= -1:
            raise ConfigError(
                f"scenario {self.name!r}: growth must be above -100 % a year, got {self.rate:.0%}"
            )
        if self.kind not in ("constant", "decaying", "logistic"):
            raise ConfigError(f"scenario {self.name!r}: unknown kind {self.kind!r}")
        if self.kind == "decaying" and not (self.decay > 0 and math.isfinite(self.decay)):
            raise ConfigError(f"scenario {self.name!r}: a decaying scenario needs decay > 0")
        if self.kind == "logistic" and not (self.saturation and self.saturation > 1):
            raise ConfigError(f"scenario {self.name!r}: a logistic scenario needs saturation > 1")

    def factor(self, years_since_base: ArrayLike) -> NDArray[np.float64]:
        """Demand relative to the base year after ``t`` years (t >= 0, may be fractional)."""
        t = np.asarray(years_since_base, dtype=np.float64)
        if (t < 0).any():
            raise ConfigError("years since the base year must be >= 0")
        g0 = math.log1p(self.rate)
        if self.kind == "constant":
            return np.exp(g0 * t)
        if self.kind == "decaying":
            return np.exp(g0 * (1 - np.exp(-self.decay * t)) / self.decay)
        k = float(self.saturation)  # type: ignore[arg-type]
        return k / (1 + (k - 1) * np.exp(-g0 * t))

    def shifted(self, years: float, name: str | None = None) -> GrowthScenario:
        """Return the same path started ``years`` later (at its growth rate then).

        Examples
        --------
        >>> s = GrowthScenario("d", 0.8, kind="decaying", decay=0.2)
        >>> later = s.shifted(3)
        >>> bool(np.isclose(later.factor(2), s.factor(5) / s.factor(3)))
        True
        """
        if self.kind == "constant":
            return GrowthScenario(name or self.name, self.rate)
        if self.kind == "decaying":
            g0 = math.log1p(self.rate) * math.exp(-self.decay * years)
            return GrowthScenario(
                name or self.name, math.expm1(g0), kind="decaying", decay=self.decay
            )
        k = float(self.saturation)  # type: ignore[arg-type]
        level = float(self.factor(years))
        return (
            GrowthScenario(name or self.name, self.rate, kind="logistic", saturation=k / level)
            if k / level > 1
            else GrowthScenario(name or self.name, 0.0)
        )

    def describe(self) -> str:
        """One line stating the model, for tables and legends.

        Examples
        --------
        >>> CENTRAL.describe()
        'decaying: +27.5 % in the first year, continuous rate falling 8 % a year'
        """
        first = f"+{self.rate:.1%}".replace(".0%", "%").replace("%", " %")
        if self.rate_interval is not None:
            low, high = (f"{v:+.0%}".replace("%", " %") for v in self.rate_interval)
            first += f" (95 % interval {low} to {high})"
        if self.kind == "constant":
            return f"constant: {first} a year"
        if self.kind == "decaying":
            return (
                f"decaying: {first} in the first year, continuous rate falling "
                f"{self.decay:.0%} a year".replace("%", " %").replace("  %", " %")
            )
        return f"logistic: {first} at first, saturating at {self.saturation:g}× today"

    def rate_in_year(self, years_since_base: ArrayLike) -> NDArray[np.float64]:
        """Growth over the year ending ``t`` years after the base year."""
        t = np.asarray(years_since_base, dtype=np.float64)
        return self.factor(t) / self.factor(t - 1) - 1


TASKFORCE_50 = GrowthScenario("taskforce 50 %", 0.50)
"""The taskforce's claim: +50 % a year, every year."""

LOW = GrowthScenario("low", 0.15)
CENTRAL = GrowthScenario("central", 0.275, kind="decaying", decay=0.08)
"""+27.5 % now (Telestatistik H2 2022→H2 2023), the rate falling slowly."""
HIGH = GrowthScenario("high", 0.35)

SCENARIOS: dict[str, GrowthScenario] = {s.name: s for s in (TASKFORCE_50, LOW, CENTRAL, HIGH)}
"""Named scenarios, by name."""


@dataclass(frozen=True)
class BusyHour:
    """Conversion from monthly volume to busy-hour throughput.

    Parameters
    ----------
    share_of_day
        Share of a day's traffic carried in the busiest hour (often 7–10 %).
    days_per_month
        Average days per month.

    Examples
    --------
    >>> round(float(BusyHour(0.1, 30).mbps(30.0)), 4)  # 30 GB/month: 1 GB a day, 10 % in one hour
    0.2222
    """

    share_of_day: float = 0.08
    days_per_month: float = 365.25 / 12

    def __post_init__(self) -> None:
        if not (math.isfinite(self.share_of_day) and 0 < self.share_of_day <= 1):
            raise ConfigError(
                f"busy_hour_share must be a share of a day's traffic, above 0 and at most 1 "
                f"(often 0.07–0.10), got {self.share_of_day!r}"
            )
        if not (math.isfinite(self.days_per_month) and 28 <= self.days_per_month <= 31):
            raise ConfigError(
                f"days_per_month must lie between 28 and 31, got {self.days_per_month!r}"
            )

    def mbps(self, gb_per_month: ArrayLike) -> NDArray[np.float64]:
        """Busy-hour Mbit/s for a monthly volume in GB."""
        gb = np.asarray(gb_per_month, dtype=np.float64)
        return gb / self.days_per_month * self.share_of_day * 8000 / 3600


def doubling_time(rate: float) -> float:
    """Years for demand to double at a constant annual growth ``rate``.

    Examples
    --------
    >>> round(doubling_time(0.5), 2)
    1.71
    """
    if rate <= 0:
        raise ConfigError(f"demand never doubles at a growth of {rate:.0%} a year")
    return math.log(2) / math.log1p(rate)


def implied_growth(first: float, second: float, years: float) -> float:
    """Constant annual growth that turns ``first`` into ``second`` in ``years`` years.

    Examples
    --------
    >>> implied_growth(100, 225, 2)
    0.5
    """
    if first <= 0 or second <= 0:
        raise ConfigError("observations must be > 0 to imply a growth rate")
    if years <= 0:
        raise ConfigError("the second observation must come after the first")
    return (second / first) ** (1 / years) - 1


def project_demand(
    baseline: pd.DataFrame,
    *,
    base_year: int,
    horizon: int,
    scenarios: Sequence[GrowthScenario] = (TASKFORCE_50, CENTRAL),
    gb_per_unit_month: float | None = None,
    busy_hour: BusyHour | None = None,
    units: str = S.HOUSEHOLDS,
) -> pd.DataFrame:
    """Project monthly demand per municipality, year and scenario.

    Parameters
    ----------
    baseline
        One row per municipality with ``municipality_code``, the ``units`` column
        (households or subscriptions) and either a ``gb_per_unit_month`` column or the
        ``gb_per_unit_month`` argument; optionally ``area_km2``. The table of
        :func:`coverage_gap.summarize_gap` works as it is (its region row included).
    base_year, horizon
        First and last year of the projection (inclusive).
    scenarios
        Growth scenarios.
    gb_per_unit_month
        Monthly GB per unit in the base year, when ``baseline`` has no such column.
    busy_hour
        Conversion to busy-hour throughput (default :class:`BusyHour`).
    units
        The baseline column that counts units.

    Returns
    -------
    pandas.DataFrame
        Tidy: ``municipality_code, year, scenario, demand_gb_month, busy_hour_mbps`` and,
        where ``area_km2`` is known, ``demand_gb_month_per_km2`` and
        ``busy_hour_mbps_per_km2``.

    Examples
    --------
    >>> base = pd.DataFrame({"municipality_code": ["0253"], "households": [1000]})
    >>> out = project_demand(base, base_year=2026, horizon=2028, gb_per_unit_month=30,
    ...                      scenarios=[TASKFORCE_50])
    >>> out["demand_gb_month"].tolist()
    [30000.0, 45000.0, 67500.0]
    """
    if horizon < base_year:
        raise ConfigError(f"the horizon {horizon} lies before the base year {base_year}")
    if not scenarios:
        raise ConfigError("give at least one growth scenario")
    frame = baseline.reset_index() if S.MUNICIPALITY_CODE not in baseline else baseline
    for column in (S.MUNICIPALITY_CODE, units):
        if column not in frame:
            raise ConfigError(f"the baseline needs a '{column}' column; it has {list(frame)}")
    if gb_per_unit_month is None and "gb_per_unit_month" not in frame:
        raise ConfigError("give gb_per_unit_month, as an argument or a baseline column")
    per_unit = (
        frame["gb_per_unit_month"].to_numpy(np.float64)
        if gb_per_unit_month is None
        else np.full(len(frame), float(gb_per_unit_month))
    )
    counts = frame[units].to_numpy(np.float64)
    if (per_unit < 0).any() or (counts < 0).any() or not np.isfinite(per_unit * counts).all():
        raise ConfigError("baselines (units and GB per unit) must be finite and >= 0")
    busy_hour = busy_hour or BusyHour()
    years = np.arange(base_year, horizon + 1)
    base = counts * per_unit
    parts = []
    for scenario in scenarios:
        factor = scenario.factor(years - base_year)
        demand = base[:, None] * factor[None, :]
        part = pd.DataFrame(
            {
                S.MUNICIPALITY_CODE: np.repeat(
                    frame[S.MUNICIPALITY_CODE].astype(str).to_numpy(), years.size
                ),
                "year": np.tile(years, len(frame)),
                "scenario": scenario.name,
                "demand_gb_month": demand.ravel(),
            }
        )
        part["scenario_definition"] = scenario.describe()
        part["busy_hour_mbps"] = busy_hour.mbps(part["demand_gb_month"])
        if "area_km2" in frame:
            area = np.repeat(frame["area_km2"].to_numpy(np.float64), years.size)
            with np.errstate(divide="ignore", invalid="ignore"):
                part["demand_gb_month_per_km2"] = part["demand_gb_month"] / area
                part["busy_hour_mbps_per_km2"] = part["busy_hour_mbps"] / area
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def year_capacity_exceeded(
    projection: pd.DataFrame,
    capacity: float | pd.Series,
    *,
    value: str = "busy_hour_mbps",
) -> pd.DataFrame:
    """First projected year in which demand exceeds a capacity, per municipality and scenario.

    Parameters
    ----------
    projection
        Output of :func:`project_demand`.
    capacity
        One capacity for all, or a Series indexed by municipality code (same unit as
        ``value``).
    value
        The projected column to compare (``busy_hour_mbps`` or ``demand_gb_month``).

    Returns
    -------
    pandas.DataFrame
        ``municipality_code, scenario, capacity, year_exceeded`` (``<NA>`` when not
        within the horizon).

    Examples
    --------
    >>> base = pd.DataFrame({"municipality_code": ["a"], "households": [1]})
    >>> p = project_demand(base, base_year=2026, horizon=2032, gb_per_unit_month=100,
    ...                    scenarios=[TASKFORCE_50])
    >>> year_capacity_exceeded(p, 500, value="demand_gb_month")["year_exceeded"].tolist()
    [2030]
    """
    frame = projection.copy()
    if isinstance(capacity, pd.Series):
        frame["capacity"] = frame[S.MUNICIPALITY_CODE].map(capacity).astype(np.float64)
    else:
        frame["capacity"] = float(capacity)
    frame["over"] = frame[value] > frame["capacity"]
    first = (
        frame[frame["over"]].groupby([S.MUNICIPALITY_CODE, "scenario"], sort=False)["year"].min()
    )
    keys = frame[[S.MUNICIPALITY_CODE, "scenario", "capacity"]].drop_duplicates(
        [S.MUNICIPALITY_CODE, "scenario"]
    )
    out = keys.merge(
        first.rename("year_exceeded").reset_index(),
        how="left",
        on=[S.MUNICIPALITY_CODE, "scenario"],
    )
    out["year_exceeded"] = out["year_exceeded"].astype("Int64")
    return out.reset_index(drop=True)


@dataclass(frozen=True)
class GrowthFit:
    """A growth model fitted to a historical series.

    Attributes
    ----------
    scenario
        The fitted model as a :class:`GrowthScenario` (rate in the first year of the
        series, decay where the model has one).
    base_year
        Year the scenario starts from.
    base_value
        Fitted value in ``base_year``.
    rmse_log
        Root-mean-square error of the fit, in natural-log units (0.1 ≈ 10 %).
    fitted
        ``year, observed, fitted`` for plotting the curve beside the data.
    """

    scenario: GrowthScenario
    base_year: float
    base_value: float
    rmse_log: float
    fitted: pd.DataFrame

    def predict(self, years: ArrayLike) -> NDArray[np.float64]:
        """Fitted values at ``years`` (>= the base year)."""
        t = np.asarray(years, dtype=np.float64) - self.base_year
        return self.base_value * self.scenario.factor(t)


def _check_series(years: ArrayLike, values: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(years, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    if y.size == 0 or y.size != v.size:
        raise ConfigError("a growth series needs as many values as years, and at least one")
    if y.size < 3:
        raise ConfigError("fitting growth needs at least three observations")
    if not (np.diff(y) > 0).all():
        raise ConfigError("the years of a growth series must be strictly increasing")
    if not (np.isfinite(v).all() and (v > 0).all()):
        raise ConfigError("the values of a growth series must be finite and > 0")
    return y, v


#: z of a two-sided 95 % interval.
_Z95 = 1.959963984540054


def fit_growth(
    years: ArrayLike, values: ArrayLike, *, kind: GrowthKind = "constant", name: str | None = None
) -> GrowthFit:
    """Fit constant (log-linear) or decaying (Gompertz) growth to a series of levels.

    ``constant`` fits ``ln v = a + g t``; ``decaying`` fits
    ``ln v = a + g0 (1 - exp(-λ t)) / λ``; both by non-linear least squares
    (:func:`scipy.optimize.curve_fit`), whose covariance gives the 95 % interval of the
    first year's growth (``scenario.rate_interval``).

    Examples
    --------
    >>> years = np.arange(2015, 2024)
    >>> truth = GrowthScenario("truth", 0.8, kind="decaying", decay=0.25)
    >>> fit = fit_growth(years, 7 * truth.factor(years - 2015), kind="decaying")
    >>> round(fit.scenario.rate, 3), round(fit.scenario.decay, 3)
    (0.8, 0.25)
    """
    from scipy.optimize import curve_fit

    y, v = _check_series(years, values)
    t = y - y[0]
    logv = np.log(v)
    slope, intercept = np.polyfit(t, logv, 1)

    def constant(t: NDArray[np.float64], a: float, g: float) -> NDArray[np.float64]:
        return a + g * t

    def decaying(t: NDArray[np.float64], a: float, g: float, lam: float) -> NDArray[np.float64]:
        return a + g * -np.expm1(-lam * t) / lam

    model: Callable[..., NDArray[np.float64]]
    if kind == "constant":
        params, cov = curve_fit(constant, t, logv, p0=(intercept, slope))
        model = constant
    elif kind == "decaying":
        if y.size < 4:
            raise ConfigError("a decaying fit to levels needs at least four observations")
        # Start from the log-linear fit and a moderate decay; the decay must stay > 0.
        params, cov = curve_fit(
            decaying,
            t,
            logv,
            p0=(intercept, max(slope, 1e-3) * 1.5, 0.2),
            bounds=([-np.inf, 0.0, 1e-6], [np.inf, np.inf, 50.0]),
            maxfev=20_000,
        )
        model = decaying
    else:
        raise ConfigError(f"fit kind must be 'constant' or 'decaying', got {kind!r}")
    rmse = float(np.sqrt(np.mean((logv - model(t, *params)) ** 2)))
    interval = _interval(float(params[1]), float(cov[1, 1]))
    scenario = GrowthScenario(
        name or f"fitted {kind}",
        math.expm1(float(params[1])),
        kind=kind,
        decay=float(params[2]) if kind == "decaying" else 0.0,
        rate_interval=interval,
    )
    base_value = float(math.exp(params[0]))
    fitted = pd.DataFrame({"year": y, "observed": v, "fitted": base_value * scenario.factor(t)})
    return GrowthFit(scenario, float(y[0]), base_value, rmse, fitted)


def _interval(log_rate: float, variance: float) -> tuple[float, float] | None:
    """95 % interval of ``expm1(log_rate)`` from the variance of ``log_rate``."""
    if not (math.isfinite(variance) and variance >= 0):
        return None
    half = _Z95 * math.sqrt(variance)
    return (math.expm1(log_rate - half), math.expm1(log_rate + half))


def fit_growth_rates(
    years: ArrayLike,
    rates: ArrayLike,
    *,
    kind: GrowthKind = "decaying",
    name: str | None = None,
    start_year: float | None = None,
) -> GrowthScenario:
    """Fit a growth scenario to observed annual growth rates (not levels).

    ``rates[i]`` is the growth over a year centred on ``years[i]``. ``constant`` takes
    the mean continuous rate; ``decaying`` fits ``ln(ln(1 + r)) = ln g0 - λ t`` (a
    continuous growth rate that falls exponentially) by least squares
    (:func:`scipy.optimize.curve_fit`). The scenario starts at ``start_year`` (the
    first observation by default) and carries the 95 % interval of its first year's
    growth (``rate_interval``), from the fit's standard errors.

    Examples
    --------
    >>> s = fit_growth_rates([2015, 2016, 2017], [0.5, 0.5, 0.5], kind="constant")
    >>> round(s.rate, 6), [round(v, 6) for v in s.rate_interval]
    (0.5, [0.5, 0.5])
    """
    from scipy.optimize import curve_fit

    y = np.asarray(years, dtype=np.float64)
    r = np.asarray(rates, dtype=np.float64)
    if y.size == 0 or y.size != r.size:
        raise ConfigError("give as many growth rates as years, and at least one")
    if not (np.diff(y) > 0).all():
        raise ConfigError("the years of a growth series must be strictly increasing")
    if (r <= -1).any() or not np.isfinite(r).all():
        raise ConfigError("growth rates must be finite and above -100 %")
    g = np.log1p(r)
    start = float(y[0]) if start_year is None else float(start_year)
    if kind == "constant":
        variance = float(g.var(ddof=1) / g.size) if g.size > 1 else math.nan
        return GrowthScenario(
            name or "fitted constant",
            math.expm1(float(g.mean())),
            rate_interval=_interval(float(g.mean()), variance),
        )
    if kind != "decaying":
        raise ConfigError(f"fit kind must be 'constant' or 'decaying', got {kind!r}")
    if (g <= 0).any() or y.size < 2:
        raise ConfigError("a decaying fit needs at least two positive growth rates")
    t = y - y[0]

    def line(t: NDArray[np.float64], log_g0: float, decay: float) -> NDArray[np.float64]:
        return log_g0 - decay * t

    slope, intercept = np.polyfit(t, np.log(g), 1)
    if slope >= 0:
        raise ConfigError("the growth rates do not fall over time: fit kind='constant'")
    (log_g0, decay), cov = curve_fit(line, t, np.log(g), p0=(intercept, -slope))
    # The continuous rate at the start: ln g(s) = ln g0 - decay * s, linear in the two
    # parameters, so its variance follows from their covariance.
    s = start - float(y[0])
    log_g = log_g0 - decay * s
    variance = float(cov[0, 0] + s * s * cov[1, 1] - 2 * s * cov[0, 1])
    interval = None
    if math.isfinite(variance) and variance >= 0:
        half = _Z95 * math.sqrt(variance)
        interval = (math.expm1(math.exp(log_g - half)), math.expm1(math.exp(log_g + half)))
    return GrowthScenario(
        name or "fitted decaying",
        math.expm1(math.exp(log_g)),
        kind="decaying",
        decay=float(decay),
        rate_interval=interval,
    )

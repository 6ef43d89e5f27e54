"""The growth of Danish mobile data use: the shipped series and the curve fitted to it.

The series (``dk_mobile_data_growth.csv``) holds annual growth of mobile data per
subscription from Danish Telestatistik and operator reports: +85 % (2014→15), +68 %
(2015→16), 16–32 % a year (2017–21, kept as a range), +27.5 % (2022→23). A constant
50 % a year (the taskforce's figure) doubles every 1.71 years; the fitted curve says how
fast growth has actually fallen.
"""

from __future__ import annotations

from importlib.resources import files

import pandas as pd

from ..demand import GrowthKind, GrowthScenario, fit_growth_rates

__all__ = ["danish_mobile_growth", "fit_danish_mobile_growth"]


def danish_mobile_growth() -> pd.DataFrame:
    """Observed growth of Danish mobile data use, as shipped with the package.

    Returns
    -------
    pandas.DataFrame
        ``period_start, period_end, growth_low, growth_high, source, note``: annual
        growth of mobile data per subscription (0.85 = +85 %) from Danish Telestatistik
        and operator reports, as summarised in the project's domain notes. A range
        (2017–2021) is kept as a range.

    Examples
    --------
    >>> float(danish_mobile_growth()["growth_high"].max())
    0.85
    """
    path = files("coverage_gap") / "danish" / "dk_mobile_data_growth.csv"
    with path.open(encoding="utf-8") as handle:
        return pd.read_csv(handle, comment="#")


def fit_danish_mobile_growth(
    kind: GrowthKind = "decaying", *, start_year: float | None = None
) -> GrowthScenario:
    """Fit a scenario to the shipped Danish series (range midpoints, period centres).

    The scenario starts at the first observation (mid 2014) unless ``start_year`` says
    otherwise; a decaying curve started later starts at its lower, later rate.

    Examples
    --------
    >>> s = fit_danish_mobile_growth()
    >>> s.kind, round(s.rate, 2), round(s.decay, 2)
    ('decaying', 0.74, 0.12)
    >>> later = fit_danish_mobile_growth(start_year=2026)
    >>> round(later.rate, 2), [round(v, 2) for v in later.rate_interval]
    (0.15, [0.06, 0.39])

    The taskforce's 50 % beside the fitted curve, for the demo region (about 405,000
    households at 40 GB a month in 2026), in 2035:

    >>> from coverage_gap.danish import REGION_SJAELLAND
    >>> from coverage_gap.demand import TASKFORCE_50, project_demand
    >>> households = sum(round(m.population / 2.1) for m in REGION_SJAELLAND.municipalities)
    >>> base = pd.DataFrame({"municipality_code": ["region"], "households": [households]})
    >>> p = project_demand(base, base_year=2026, horizon=2035, gb_per_unit_month=40,
    ...                    scenarios=[TASKFORCE_50, fit_danish_mobile_growth(start_year=2026)])
    >>> (p[p["year"] == 2035].set_index("scenario")["demand_gb_month"] / 1e6).round(1).tolist()
    [622.3, 34.7]
    """
    data = danish_mobile_growth()
    centres = (data["period_start"] + data["period_end"]) / 2
    rates = (data["growth_low"] + data["growth_high"]) / 2
    name = f"fitted {kind} (Danish series)"
    return fit_growth_rates(centres, rates, kind=kind, name=name, start_year=start_year)

"""Demand projection: hand-worked growth, fitting recovers known parameters, validation."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from coverage_gap.danish import danish_mobile_growth, fit_danish_mobile_growth
from coverage_gap.demand import (
    CENTRAL,
    TASKFORCE_50,
    BusyHour,
    GrowthScenario,
    doubling_time,
    fit_growth,
    fit_growth_rates,
    implied_growth,
    project_demand,
    year_capacity_exceeded,
)
from coverage_gap.errors import ConfigError

BASE = pd.DataFrame(
    {"municipality_code": ["0253", "0360"], "households": [1000, 250], "area_km2": [50.0, 900.0]}
)


def test_zero_growth_is_flat():
    flat = GrowthScenario("flat", 0.0)
    out = project_demand(BASE, base_year=2026, horizon=2031, gb_per_unit_month=20, scenarios=[flat])
    assert (out.loc[out["municipality_code"] == "0253", "demand_gb_month"] == 20000).all()


@given(st.floats(0.001, 3.0), st.sampled_from(["constant", "decaying", "logistic"]))
def test_positive_growth_is_monotone(rate, kind):
    scenario = GrowthScenario("s", rate, kind=kind, decay=0.3, saturation=20.0)
    factor = scenario.factor(np.arange(0, 30))
    assert (np.diff(factor) >= 0).all() and factor[1] > factor[0]


def test_fifty_percent_doubles_in_1_71_years():
    assert doubling_time(0.5) == pytest.approx(math.log(2) / math.log(1.5))
    assert round(doubling_time(0.5), 2) == 1.71
    assert TASKFORCE_50.factor(doubling_time(0.5)) == pytest.approx(2.0)


def test_projection_by_hand():
    out = project_demand(
        BASE,
        base_year=2026,
        horizon=2028,
        gb_per_unit_month=20,
        scenarios=[TASKFORCE_50],
        busy_hour=BusyHour(0.1, 30),
    )
    greve = out[out["municipality_code"] == "0253"]
    assert greve["year"].tolist() == [2026, 2027, 2028]
    assert greve["demand_gb_month"].tolist() == [20000.0, 30000.0, 45000.0]
    # 20,000 GB a month = 666.7 GB a day; 10 % in the busy hour = 66.67 GB = 533,333 Mbit
    assert greve["busy_hour_mbps"].iloc[0] == pytest.approx(20000 / 30 * 0.1 * 8000 / 3600)
    assert greve["demand_gb_month_per_km2"].iloc[0] == pytest.approx(400.0)
    assert set(out.columns) >= {
        "municipality_code",
        "year",
        "scenario",
        "demand_gb_month",
        "busy_hour_mbps",
    }


def test_projection_from_the_summary_table():
    table = pd.DataFrame(
        {"municipality_name": ["A", "All"], "households": [10, 10]},
        index=pd.Index(["0001", "region"], name="municipality_code"),
    )
    out = project_demand(table, base_year=2026, horizon=2026, gb_per_unit_month=1.0)
    assert sorted(out["municipality_code"].unique()) == ["0001", "region"]
    assert sorted(out["scenario"].unique()) == sorted([TASKFORCE_50.name, CENTRAL.name])


def test_decaying_and_logistic_by_hand():
    d = GrowthScenario("d", math.e - 1, kind="decaying", decay=1.0)  # g0 = 1
    assert d.factor(1.0) == pytest.approx(math.exp(1 - math.exp(-1)))
    assert d.factor(100.0) == pytest.approx(math.e)  # levels off at exp(g0 / decay)
    logistic = GrowthScenario("l", 1.0, kind="logistic", saturation=10.0)
    assert logistic.factor(0.0) == pytest.approx(1.0)
    assert logistic.factor(1.0) == pytest.approx(10 / (1 + 9 * 0.5))
    assert logistic.factor(200.0) == pytest.approx(10.0)


def test_implied_growth():
    assert implied_growth(100, 225, 2) == pytest.approx(0.5)
    assert implied_growth(100, 100, 5) == 0.0


@pytest.mark.parametrize(("rate", "decay"), [(0.8, 0.25), (0.3, 0.05), (1.5, 0.6)])
def test_fit_recovers_decaying_parameters(rate, decay):
    years = np.arange(2012, 2026)
    truth = GrowthScenario("t", rate, kind="decaying", decay=decay)
    fit = fit_growth(years, 3.5 * truth.factor(years - 2012), kind="decaying")
    assert fit.scenario.rate == pytest.approx(rate, rel=1e-4)
    assert fit.scenario.decay == pytest.approx(decay, rel=1e-3)
    assert fit.base_value == pytest.approx(3.5, rel=1e-6)
    assert fit.rmse_log < 1e-6
    np.testing.assert_allclose(fit.fitted["fitted"], fit.fitted["observed"], rtol=1e-5)


def test_fit_recovers_constant_growth_with_noise():
    rng = np.random.default_rng(1)
    years = np.arange(2000, 2030)
    values = 10 * 1.4 ** (years - 2000) * np.exp(rng.normal(0, 0.01, years.size))
    fit = fit_growth(years, values)
    assert fit.scenario.rate == pytest.approx(0.4, abs=0.005)
    assert 0.005 < fit.rmse_log < 0.02


def test_fit_from_growth_rates_recovers_parameters():
    truth = GrowthScenario("t", 0.9, kind="decaying", decay=0.15)
    years = np.arange(0, 10)
    # continuous rate at t: g0 exp(-decay t), as an annual rate
    rates = np.expm1(math.log1p(0.9) * np.exp(-0.15 * years))
    fitted = fit_growth_rates(years, rates)
    assert fitted.rate == pytest.approx(truth.rate) and fitted.decay == pytest.approx(0.15)


def test_danish_series_and_its_fit():
    data = danish_mobile_growth()
    assert data["growth_high"].iloc[0] == 0.85 and data["growth_low"].iloc[-1] == 0.275
    fitted = fit_danish_mobile_growth()
    assert fitted.kind == "decaying"
    # the fitted rate has fallen well below 50 % by the base years of today's plans
    assert fitted.shifted(2026 - 2014.5).rate < 0.25 < TASKFORCE_50.rate


def test_shifted_logistic_and_constant():
    s = GrowthScenario("l", 0.5, kind="logistic", saturation=10)
    later = s.shifted(2)
    assert later.factor(3) == pytest.approx(s.factor(5) / s.factor(2))
    assert TASKFORCE_50.shifted(7).rate == 0.5


def test_capacity_year_by_hand():
    base = pd.DataFrame({"municipality_code": ["a", "b"], "households": [1, 2]})
    p = project_demand(
        base, base_year=2026, horizon=2032, gb_per_unit_month=100, scenarios=[TASKFORCE_50]
    )
    # a: 100, 150, 225, 337.5, 506.25 (2030); b: 200, 300, 450, 675 (2029)
    out = year_capacity_exceeded(p, 500, value="demand_gb_month")
    assert out.set_index("municipality_code")["year_exceeded"].to_dict() == {"a": 2030, "b": 2029}
    per_site = year_capacity_exceeded(p, pd.Series({"a": 50, "b": 1e9}), value="demand_gb_month")
    assert per_site["year_exceeded"].tolist()[0] == 2026
    assert per_site["year_exceeded"].isna().tolist() == [False, True]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: GrowthScenario("x", -1.0), "above -100"),
        (lambda: GrowthScenario("x", -1.5), "above -100"),
        (lambda: GrowthScenario("x", 0.1, kind="decaying"), "decay > 0"),
        (
            lambda: project_demand(BASE, base_year=2030, horizon=2026, gb_per_unit_month=1),
            "before the base year",
        ),
        (
            lambda: project_demand(
                BASE.assign(households=[-1, 2]), base_year=2026, horizon=2027, gb_per_unit_month=1
            ),
            ">= 0",
        ),
        (lambda: fit_growth([2020, 2019, 2021], [1, 2, 3]), "strictly increasing"),
        (lambda: fit_growth([], []), "at least one"),
        (lambda: fit_growth([2020, 2021, 2022], [1, -2, 3]), "> 0"),
        (lambda: doubling_time(0.0), "never doubles"),
    ],
)
def test_validation(call, message):
    with pytest.raises(ConfigError, match=message):
        call()


def test_growth_rate_interval_matches_ordinary_least_squares():
    """The interval comes from the OLS standard errors of ln(ln(1 + r)) = ln g0 - λ t."""
    from coverage_gap.demand import fit_growth_rates

    years = np.array([2014.5, 2015.5, 2017.0, 2019.0, 2021.0, 2023.0])
    rates = np.array([0.85, 0.68, 0.32, 0.24, 0.16, 0.275])
    start = 2026.0
    fitted = fit_growth_rates(years, rates, start_year=start)
    # independent OLS by hand
    t = years - years[0]
    design = np.column_stack([np.ones_like(t), -t])
    target = np.log(np.log1p(rates))
    coef, *_ = np.linalg.lstsq(design, target, rcond=None)
    resid = target - design @ coef
    sigma2 = resid @ resid / (t.size - 2)
    cov = sigma2 * np.linalg.inv(design.T @ design)
    s = start - years[0]
    log_g = coef[0] - coef[1] * s
    se = np.sqrt(cov[0, 0] + s * s * cov[1, 1] - 2 * s * cov[0, 1])
    assert fitted.decay == pytest.approx(coef[1], rel=1e-6)
    assert fitted.rate == pytest.approx(np.expm1(np.exp(log_g)), rel=1e-6)
    low, high = fitted.rate_interval
    assert low == pytest.approx(np.expm1(np.exp(log_g - 1.959964 * se)), rel=1e-5)
    assert high == pytest.approx(np.expm1(np.exp(log_g + 1.959964 * se)), rel=1e-5)
    assert "95 % interval" in fitted.describe()


def test_level_fit_interval_covers_the_truth_without_noise():
    from coverage_gap.demand import GrowthScenario, fit_growth

    years = np.arange(2015, 2025)
    levels = 3 * GrowthScenario("t", 0.4).factor(years - 2015)
    fit = fit_growth(years, levels)
    assert fit.scenario.rate == pytest.approx(0.4)
    low, high = fit.scenario.rate_interval
    assert low == pytest.approx(0.4) and high == pytest.approx(0.4)

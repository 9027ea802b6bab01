"""Chapter 9 answer key: the expected values agree with independent computations (statsmodels
WLS, scipy curve_fit, a numpy trend test of every simulated experiment)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats
from scipy.optimize import curve_fit

import abteach as abt
from abteach.course.answers import ch09
from abteach.course.answers.ch09 import EXERCISES

PUBLIC = ch09.PUBLIC_INPUTS
EFFECT, SE = PUBLIC["09.1"]["effect"], PUBLIC["09.1"]["se"]
LONG_RUN = tuple(PUBLIC["09.3"][k] for k in ("long_run_effect", "amplitude", "seed"))
POWER = (PUBLIC["09.5"]["amplitude"], PUBLIC["09.5"]["seed"])
USER = tuple(PUBLIC["09.8"][k] for k in ("long_run_effect", "amplitude", "seed"))


def _expected(exercise_id: str) -> float:
    return float(next(ex for ex in EXERCISES if ex.id == exercise_id).answer.expected())


def _wls():
    x = sm.add_constant(np.asarray(ch09.DAY, dtype=float))
    return sm.WLS(np.asarray(EFFECT), x, weights=1 / np.asarray(SE) ** 2).fit(
        cov_type="fixed scale")


def test_slope_and_pvalue_match_statsmodels_wls_with_known_scale():
    """The trend test is WLS with weights 1/se^2 and the scale fixed at 1 (statsmodels)."""
    fit = _wls()
    assert _expected("09.1") == pytest.approx(fit.params[1], rel=1e-10)
    assert _expected("09.2") == pytest.approx(fit.pvalues[1], rel=1e-8)


def test_trend_data_is_a_fair_example():
    """The 09.1 data fall (novelty), significantly at 5% two-sided but not at 1%, and the
    unweighted slope differs visibly from the weighted one (the solution quotes both)."""
    assert _expected("09.1") < 0
    assert 0.01 < _expected("09.2") < 0.05
    assert stats.linregress(ch09.DAY, EFFECT).slope == pytest.approx(-0.0017, abs=5e-5)


def test_long_run_effect_matches_scipy_curve_fit():
    """Independent fit of a + b exp(-t / tau) by scipy with absolute sigma, started at the
    true values; the interval of the abteach fit covers the simulated truth."""
    series = ch09._long_run_simulation(*LONG_RUN).by_exposure_day()
    params, _ = curve_fit(lambda t, a, b, tau: a + b * np.exp(-t / tau), series.day,
                          series.effect, p0=[0.004, 0.015, 4.0], sigma=series.se,
                          absolute_sigma=True)
    assert _expected("09.3") == pytest.approx(params[0], rel=1e-4)
    fit = ch09._long_run_fit(*LONG_RUN)
    assert fit.identified
    assert fit.ci_low < PUBLIC["09.3"]["long_run_effect"] < fit.ci_high


def test_power_matches_an_independent_trend_test_of_every_experiment():
    """Recompute the rejection rate from the simulated counts with numpy alone: per-age
    effects and unpooled SEs, closed-form WLS slope, two-sided normal p-value."""
    sim = ch09._power_simulation(*POWER)
    n_c, x_c = sim.n_control.sum(axis=-2), sim.sum_control.sum(axis=-2)
    n_t, x_t = sim.n_treatment.sum(axis=-2), sim.sum_treatment.sum(axis=-2)
    p_c, p_t = x_c / n_c, x_t / n_t
    effect = p_t - p_c
    w = 1 / (p_c * (1 - p_c) / n_c + p_t * (1 - p_t) / n_t)
    t = np.arange(sim.n_days, dtype=float)
    t_bar = (w * t).sum(-1, keepdims=True) / w.sum(-1, keepdims=True)
    y_bar = (w * effect).sum(-1, keepdims=True) / w.sum(-1, keepdims=True)
    sxx = (w * (t - t_bar) ** 2).sum(-1)
    z = (w * (t - t_bar) * (effect - y_bar)).sum(-1) / sxx * np.sqrt(sxx)
    rate = np.mean(2 * stats.norm.sf(np.abs(z)) < 0.05)
    assert _expected("09.5") == pytest.approx(rate, abs=1e-12)
    assert 0.4 < rate < 0.6


def test_first_week_average_overstates_the_long_run_effect():
    """The hint of 09.3 and the solution say the pooled first week is inflated by novelty."""
    assert ch09._first_week_pooled(*LONG_RUN) > 2 * _expected("09.3")


def test_clustered_se_matches_an_independent_sandwich():
    """09.8 recomputed without abteach's fit: user-day rows in pandas, per-age means and
    per-user influence contributions (the cluster-robust covariance of the by-age effects),
    scipy's curve_fit for (a, b, tau) and its Gauss-Newton Jacobian, and the sandwich
    (J'WJ)^-1 J'W Sigma W J (J'WJ)^-1 (Liang & Zeger, 1986)."""
    sim = ch09._user_days(*USER)
    users, ages = sim.values.shape
    rows = pd.DataFrame({"user": np.repeat(np.arange(users), ages),
                         "age": np.tile(np.arange(ages), users),
                         "value": sim.values.ravel(),
                         "treated": np.repeat(sim.treated, ages)}).dropna()
    grouped = rows.groupby(["treated", "age"])["value"]
    rows["mean"] = grouped.transform("mean")
    rows["n"] = grouped.transform("size")
    rows["psi"] = (rows["value"] - rows["mean"]) / np.sqrt(rows["n"] * (rows["n"] - 1))
    psi = rows.pivot_table(index=["treated", "user"], columns="age", values="psi",
                           fill_value=0.0).to_numpy()
    sigma = psi.T @ psi
    means = rows.groupby(["treated", "age"])["value"].mean().unstack(0)
    effect = (means[True] - means[False]).to_numpy()
    se = np.sqrt(np.diag(sigma))
    t = np.arange(ages, dtype=float)
    (a, b, tau), _ = curve_fit(lambda t, a, b, tau: a + b * np.exp(-t / tau), t, effect,
                               p0=[0.3, 1.5, 3.0], sigma=se, absolute_sigma=True)
    x = np.exp(-t / tau)
    jac = np.column_stack([np.ones_like(t), x, b * x * t / tau**2])
    w = np.diag(1 / se**2)
    bread = np.linalg.inv(jac.T @ w @ jac)
    sandwich = bread @ jac.T @ w @ sigma @ w @ jac @ bread
    assert _expected("09.8") == pytest.approx(np.sqrt(sandwich[0, 0]), rel=1e-4)
    # the exercise is worth doing: clustering visibly widens the interval
    assert _expected("09.8") > 1.3 * ch09._user_fit(*USER, clustered=False).long_run_se

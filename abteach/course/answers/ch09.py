"""Answer key of chapter 9, Novelty and primacy effects (``solutions/09_novelty.ipynb``).

Every expected value is computed with abteach when first needed; typical wrong answers are
recomputed the same way so that each gets its own hint. The experiments of exercises 09.3,
09.5 and 09.8 are simulated here with the designs and seeds the notebook states; if the two
ever differ, the solution notebook's checks fail. Class editions draw their own inputs
(:func:`draw_inputs`, see :mod:`abteach.course.editions`): the daily effects of 09.1 and 09.2,
and the effect sizes and seeds of the simulations of 09.3, 09.5 and 09.8; 09.4, 09.6 and 09.7
are multiple choice and cannot vary (``fixed``).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import stats

import abteach as abt
from abteach.course.check import Choice, Exercise, Number
from abteach.course.editions import Substitution

DAY = tuple(range(10))

# The inputs of the public edition (class editions draw their own, see draw_inputs).
PUBLIC_INPUTS = {
    # 09.1 and 09.2: effect (treatment minus control click-through rate) by days since first
    # exposure, with its standard error.
    "09.1": {"effect": (0.026, 0.012, 0.019, 0.008, 0.015, 0.004, 0.011, 0.013, -0.002, 0.009),
             "se": (0.005, 0.006, 0.006, 0.007, 0.007, 0.008, 0.008, 0.009, 0.010, 0.011)},
    # 09.3: a four-week novelty experiment (long-run effect a, amplitude b, seed).
    "09.3": {"long_run_effect": 0.004, "amplitude": 0.015, "seed": 9},
    # 09.5: the amplitude b of the decay to detect in a two-week design, and the seed of the
    # 2,000 simulated experiments.
    "09.5": {"amplitude": 0.012, "seed": 11},
    # 09.8: a two-week user-level experiment with returning users and persistent levels.
    "09.8": {"long_run_effect": 0.3, "amplitude": 1.5, "seed": 19},
}

# The fixed parts of the designs of 09.3, 09.5 and 09.8.
LONG_RUN_DESIGN = dict(profile="novelty", tau=4.0, baseline=0.08, n_days=28, new_users_per_day=5_000,
                       return_rate=0.5)
POWER_DESIGN = dict(profile="novelty", long_run_effect=0.01, tau=4.0, baseline=0.20, n_days=14,
                    new_users_per_day=3_000, return_rate=0.5)
POWER_RUNS = 2_000
USER_DESIGN = dict(profile="novelty", tau=3.0, baseline=10.0, sd=2.0, user_sd=4.0, n_days=14,
                   new_users_per_day=150, return_rate=0.5)


def _draw_trend(rng) -> dict:
    """Ten days of a fading effect a + b exp(-t / tau) with noise, rounded as the notebook shows
    them; drawn again until the weighted slope is negative (the hints say the effect falls)."""
    t = np.arange(len(DAY))
    while True:
        se = np.round(rng.uniform(0.004, 0.006) + np.cumsum(np.r_[0, rng.uniform(0.0003, 0.001, t.size - 1)]), 3)
        mean = rng.uniform(0.004, 0.010) + rng.uniform(0.012, 0.022) * np.exp(-t / rng.uniform(2.0, 5.0))
        inputs = {"effect": tuple(float(v) for v in np.round(mean + se * rng.standard_normal(t.size), 3)),
                  "se": tuple(float(v) for v in se)}
        if _trend(inputs).slope < 0:
            return inputs


def _identified_seed(rng, fit) -> int:
    """A seed with which ``fit(seed)`` is identified (a few seeds give a flat curve)."""
    while True:
        seed = int(rng.integers(20, 100_000))
        if fit(seed):
            return seed


def draw_inputs(group: str, rng) -> dict:
    """A class edition's inputs of ``group`` (see :mod:`abteach.course.editions`)."""
    if group == "09.1":
        return _draw_trend(rng)
    if group == "09.3":
        a, b = float(rng.choice([0.003, 0.005, 0.006])), float(rng.choice([0.012, 0.018, 0.020]))
        return {"long_run_effect": a, "amplitude": b,
                "seed": _identified_seed(rng, lambda seed: _long_run_fit(a, b, seed).identified)}
    if group == "09.5":  # amplitudes far enough from 0.012 that the power is never the public one
        return {"amplitude": float(rng.choice([0.006, 0.008, 0.016, 0.018])), "seed": int(rng.integers(12, 100_000))}
    if group == "09.8":
        a, b = float(rng.choice([0.2, 0.4, 0.5])), float(rng.choice([1.0, 2.0, 2.5]))
        return {"long_run_effect": a, "amplitude": b,
                "seed": _identified_seed(rng, lambda seed: all(_user_fit(a, b, seed, clustered).identified
                                                                for clustered in (True, False)))}
    raise ValueError(f"group must be one of {sorted(PUBLIC_INPUTS)}, got {group!r}")


def _array_line(name: str, values) -> str:
    return f"{name} = np.array([{', '.join(f'{v:.3f}' for v in values)}])"


SUBSTITUTIONS = (
    Substitution(_array_line("effect", PUBLIC_INPUTS["09.1"]["effect"]),
                 lambda i: _array_line("effect", i["09.1"]["effect"])),
    Substitution(_array_line("se", PUBLIC_INPUTS["09.1"]["se"]), lambda i: _array_line("se", i["09.1"]["se"])),
    Substitution("long_run_effect=0.004, amplitude=0.015",
                 lambda i: f"long_run_effect={i['09.3']['long_run_effect']:g}, amplitude={i['09.3']['amplitude']:g}"),
    Substitution("return_rate=0.5,\n                                 rng=9)",
                 lambda i: f"return_rate=0.5,\n                                 rng={i['09.3']['seed']})"),
    Substitution("$b = 0.012$", lambda i: f"$b = {i['09.5']['amplitude']:g}$"),
    Substitution("long_run_effect=0.01, amplitude=0.012,",
                 lambda i: f"long_run_effect=0.01, amplitude={i['09.5']['amplitude']:g},"),
    Substitution("n_experiments=2_000, rng=11)", lambda i: f"n_experiments=2_000, rng={i['09.5']['seed']})"),
    Substitution("long_run_effect=0.3, amplitude=1.5",
                 lambda i: f"long_run_effect={i['09.8']['long_run_effect']:.1f}, amplitude={i['09.8']['amplitude']:.1f}"),
    Substitution("return_rate=0.5, rng=19)", lambda i: f"return_rate=0.5, rng={i['09.8']['seed']})"),
)


def _trend(trend, **options) -> abt.TrendTest:
    return abt.trend_test(DAY, trend["effect"], trend["se"], **options)


def _ols(trend):
    """Unweighted least squares of the effect on the day (scipy), ignoring the SEs."""
    return stats.linregress(DAY, trend["effect"])


def _slope_with_weights(trend, weights: np.ndarray) -> float:
    t, y = np.asarray(DAY, dtype=float), np.asarray(trend["effect"])
    t_bar, y_bar = np.average(t, weights=weights), np.average(y, weights=weights)
    return float(np.sum(weights * (t - t_bar) * (y - y_bar)) / np.sum(weights * (t - t_bar) ** 2))


@lru_cache(maxsize=8)
def _long_run_simulation(long_run_effect: float, amplitude: float, seed: int) -> abt.SimulatedDailyEffects:
    return abt.simulate_daily_effects(**LONG_RUN_DESIGN, long_run_effect=long_run_effect, amplitude=amplitude,
                                      rng=seed)


def _long_run_fit(long_run_effect: float, amplitude: float, seed: int) -> abt.DecayFit:
    return _long_run_simulation(long_run_effect, amplitude, seed).by_exposure_day().fit_decay()


def _first_week_pooled(long_run_effect: float, amplitude: float, seed: int) -> float:
    """Effect over all user-days of the first seven calendar days."""
    sim = _long_run_simulation(long_run_effect, amplitude, seed)
    n_c, x_c, n_t, x_t = (getattr(sim, name)[:7].sum() for name in
                          ("n_control", "sum_control", "n_treatment", "sum_treatment"))
    return float(x_t / n_t - x_c / n_c)


@lru_cache(maxsize=8)
def _power_simulation(amplitude: float, seed: int) -> abt.SimulatedDailyEffects:
    return abt.simulate_daily_effects(**POWER_DESIGN, amplitude=amplitude, n_experiments=POWER_RUNS, rng=seed)


def _power(amplitude: float, seed: int, **options) -> float:
    return abt.trend_test_power(_power_simulation(amplitude, seed), **options).power


def _user_days(long_run_effect: float, amplitude: float, seed: int) -> abt.SimulatedUserDays:
    return abt.simulate_user_days(**USER_DESIGN, long_run_effect=long_run_effect, amplitude=amplitude, rng=seed)


@lru_cache(maxsize=8)
def _user_series(long_run_effect: float, amplitude: float, seed: int) -> abt.DailyEffects:
    return _user_days(long_run_effect, amplitude, seed).by_exposure_day()


def _user_fit(long_run_effect: float, amplitude: float, seed: int, clustered: bool = True) -> abt.DecayFit:
    series = _user_series(long_run_effect, amplitude, seed)
    return abt.fit_decay(series.day, series.effect, series.se,
                         cov=series.cov if clustered else None)


def exercises(inputs: dict) -> tuple[Exercise, ...]:
    """The answer key for ``inputs`` (``PUBLIC_INPUTS`` or a class edition's)."""
    TREND = inputs["09.1"]
    LONG = tuple(inputs["09.3"][k] for k in ("long_run_effect", "amplitude", "seed"))
    POWER = (inputs["09.5"]["amplitude"], inputs["09.5"]["seed"])
    USER = tuple(inputs["09.8"][k] for k in ("long_run_effect", "amplitude", "seed"))
    return (
        Exercise(
            "09.1",
            "slope",
            Number(
                lambda: _trend(TREND).slope,
                rtol=1e-3,
                hint="Regress the effects on the day by weighted least squares with weights "
                "1 / se^2: abt.trend_test(day, effect, se).slope (change of the effect per day).",
                mistakes=[
                    (lambda: _ols(TREND).slope, "That is the unweighted least-squares slope. Late days "
                     "are noisier: weight each day by 1 / se^2, as abt.trend_test does."),
                    (lambda: _slope_with_weights(TREND, 1 / np.asarray(TREND["se"])), "You weighted by 1 / se; "
                     "the precision-weighted regression uses weights 1 / se^2 (inverse variances)."),
                    (lambda: -_trend(TREND).slope, "Wrong sign: the effect falls over the days, so the "
                     "slope of the effect on time is negative."),
                    (lambda: 7 * _trend(TREND).slope, "That is the change per week; give the change per "
                     "day."),
                ],
            ),
        ),
        Exercise(
            "09.2",
            "pvalue",
            Number(
                lambda: _trend(TREND).pvalue,
                rtol=1e-3,
                hint="Use the two-sided p-value of the known-scale test: "
                "abt.trend_test(day, effect, se).pvalue.",
                mistakes=[
                    (lambda: _trend(TREND, alternative="smaller").pvalue, "That is the one-sided p-value "
                     "(H1: the effect falls). The question asks for the two-sided test."),
                    (lambda: _trend(TREND, scale="estimated").pvalue, "That is the t-test with the scale "
                     "estimated from the residuals (scale='estimated'). The daily standard errors "
                     "are known here: use the default scale='known'."),
                    (lambda: _ols(TREND).pvalue, "That is the p-value of an unweighted regression; weight "
                     "each day by 1 / se^2 and treat the standard errors as known."),
                    (lambda: 1 - _trend(TREND).pvalue, "A p-value is the probability of a slope at least "
                     "this far from 0 under H0; you gave 1 minus it."),
                ],
            ),
        ),
        Exercise(
            "09.3",
            "long_run",
            Number(
                lambda: _long_run_fit(*LONG).long_run_effect,
                rtol=1e-4,
                hint="Fit a + b exp(-t / tau) to the effects by days since first exposure: "
                "sim.by_exposure_day().fit_decay().long_run_effect.",
                mistakes=[
                    (lambda: _long_run_simulation(*LONG).by_calendar_day().fit_decay().long_run_effect,
                     "You fitted the calendar-day series. It mixes users of every age and is not of "
                     "the form a + b exp(-t / tau) (the fit is not even identified); fit the series "
                     "by days since first exposure."),
                    (lambda: _long_run_fit(*LONG).long_run_effect + _long_run_fit(*LONG).amplitude, "That is "
                     "a + b, the fitted effect on the first day; the long-run effect is a."),
                    (lambda: _first_week_pooled(*LONG), "That is the pooled first-week effect, inflated by the "
                     "novelty; the question asks for the fitted long-run effect a."),
                    (lambda: _long_run_simulation(*LONG).by_exposure_day().effect.mean(), "That is the "
                     "average of the per-age effects; fit the curve and take its asymptote a."),
                    (lambda: _long_run_simulation(*LONG).by_exposure_day().effect[-1], "That is the "
                     "estimate at the last age alone (few users, large SE); fit the curve to all "
                     "ages and take a."),
                ],
            ),
        ),
        Exercise(
            "09.4",
            "pattern",
            fixed=True,
            answer=Choice(
                "b",
                options=("a", "b", "c", "d"),
                hints={
                    "a": "Novelty makes an effect fade. Here it starts negative and rises with the "
                    "days since first exposure: users are adapting to the change.",
                    "c": "The rise from -0.9 to +0.4 points is many standard errors (0.2 to 0.3 "
                    "points each), and the trend test rejects; this is not noise.",
                    "d": "A fix deployed on one calendar date would change the effect of all users, "
                    "whatever their age, from that date on. The table groups users by days since "
                    "their own first exposure, and the effect depends on that age.",
                },
            ),
        ),
        Exercise(
            "09.5",
            "power",
            Number(
                lambda: _power(*POWER),
                atol=1e-9,
                hint="Simulate the 2,000 experiments exactly as stated (n_experiments=2000, "
                f"rng={POWER[1]}), then abt.trend_test_power(sim).power: by days since first exposure, "
                "two-sided, alpha = 0.05, known scale. Another seed gives a different Monte Carlo "
                "estimate.",
                mistakes=[
                    (lambda: _power(*POWER, by="calendar_day"), "That is the power of the calendar-day "
                     "series; the question asks for the series by days since first exposure "
                     "(by='exposure_day', the default)."),
                    (lambda: _power(*POWER, by="last_day"), "That is the power of the cohorts active on the "
                     "last day; the question asks for the series by days since first exposure."),
                    (lambda: _power(*POWER, alternative="smaller"), "That is the one-sided test; the question "
                     "asks for the two-sided one (the default)."),
                    (lambda: _power(*POWER, scale="estimated"), "That is the test with scale='estimated'; "
                     "use the default known scale."),
                    (lambda: 1 - _power(*POWER), "That is the share of experiments that MISSED the decay "
                     "(the type II error rate); power is the share that detected it."),
                ],
            ),
        ),
        Exercise(
            "09.6",
            "valid_series",
            fixed=True,
            answer=Choice(
                "c",
                options=("a", "b", "c", "d"),
                hints={
                    "a": "A user active on several days contributes to several ages; heavy users "
                    "stay heavy, so the points are positively correlated and the test rejects too "
                    "often (about 13% instead of 5% in the abteach test suite).",
                    "b": "Each calendar day shares returning users with the others: the points are "
                    "dependent and the test rejects too often (about 18% instead of 5% in the "
                    "abteach test suite).",
                    "d": "Estimating the scale makes it worse: correlated points scatter less "
                    "around the line than their SEs say, so the estimated scale shrinks the "
                    "standard error further (about twice the known-scale rejection rate).",
                },
            ),
        ),
        Exercise(
            "09.7",
            "report",
            fixed=True,
            answer=Choice(
                "b",
                options=("a", "b", "c", "d"),
                hints={
                    "a": "The first-week average mixes the curious first days of every user; with a "
                    "fading effect it overstates what will last, by a factor of about three here.",
                    "c": "The day-0 effect is the novelty peak, the least durable part of the effect. "
                    "Every user has only one first day.",
                    "d": "A changing effect does not invalidate the experiment: the per-age curve and "
                    "the identified long-run estimate are exactly what it measured. Report them.",
                },
            ),
        ),
        Exercise(
            "09.8",
            "clustered_se",
            Number(
                lambda: _user_fit(*USER).long_run_se,
                rtol=1e-4,
                hint="sim.by_exposure_day() returns the effects by age with their covariance "
                "clustered by user (abt.clustered_daily_effects); its .fit_decay() passes that "
                "covariance on (fit_decay(..., cov=...)). Store the fit's long_run_se.",
                mistakes=[
                    (lambda: _user_fit(*USER, clustered=False).long_run_se, "That is the standard error "
                     "that treats the ages as independent (fit_decay(day, effect, se) without cov). "
                     "The ages share returning users; pass cov=series.cov, or call "
                     "series.fit_decay()."),
                    (lambda: 1.959964 * _user_fit(*USER).long_run_se, "That is the half-width of the 95% "
                     "interval (1.96 SE); store the standard error itself."),
                    (lambda: _user_fit(*USER).amplitude_se, "That is the standard error of the amplitude "
                     "b; the long-run effect is a (long_run_se)."),
                    (lambda: _user_fit(*USER).tau_se, "That is the standard error of tau; the long-run "
                     "effect is a (long_run_se)."),
                ],
            ),
        ),
    )


EXERCISES = exercises(PUBLIC_INPUTS)

"""Answer key of chapter 7, Variance reduction (``solutions/07_variance_reduction.ipynb``).

Every expected value is computed with abteach when first needed; typical wrong answers are
recomputed the same way so that each gets its own hint. The data of exercises 07.4 and 07.7
are drawn by :func:`_watch_time` with the seed and arm size the notebook uses; if the two ever
differ, the solution notebook's checks fail. Class editions draw their own inputs
(:func:`draw_inputs`, see :mod:`abteach.course.editions`): 07.4 and 07.7 get their own seed and
arm size; 07.5 is multiple choice and cannot vary (``fixed``); 07.6 is a True/False question
whose answer is True in every edition (only the numbers quoted in its text vary).
"""

from __future__ import annotations

import math

import numpy as np

import abteach as abt
from abteach.course.check import Boolean, Choice, Exercise, Number
from abteach.course.editions import Substitution

# The inputs of the public edition (class editions draw their own, see draw_inputs).
PUBLIC_INPUTS = {
    # 07.1: sessions before (pre) and during the experiment of six users per arm.
    "07.1": {"pre_control": (2.0, 0.0, 5.0, 3.0, 1.0, 4.0), "during_control": (3.0, 1.0, 6.0, 2.0, 1.0, 5.0),
             "pre_treatment": (1.0, 3.0, 6.0, 0.0, 2.0, 4.0), "during_treatment": (2.0, 4.0, 8.0, 1.0, 2.0, 6.0)},
    # 07.2: the pre-period correlation.
    "07.2": {"rho": 0.6},
    # 07.3: sd, effect to detect (two-sided alpha 0.05, power 0.8), pre-period correlation.
    "07.3": {"sd": 12.0, "delta": 0.30, "rho": 0.8},
    # 07.4 and 07.7: weekly minutes watched, seeded, users per arm.
    "07.4": {"seed": 7, "n": 3_000},
    # 07.6: the lift of the in-experiment covariate and the p-value of its balance check.
    "07.6": {"lift_percent": 8, "pvalue_exponent": -15},
}
ARMS = ("control", "treatment")


def _sessions(rng) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Six users' sessions before and during the experiment (during = before + small change)."""
    while True:
        pre = rng.integers(0, 7, size=6)
        if np.var(pre) > 0:
            break
    during = np.clip(pre + rng.integers(-1, 3, size=6), 0, None)
    return tuple(float(v) for v in pre), tuple(float(v) for v in during)


def draw_inputs(group: str, rng) -> dict:
    """A class edition's inputs of ``group`` (see :mod:`abteach.course.editions`)."""
    if group == "07.1":
        public = _theta_pooled(PUBLIC_INPUTS["07.1"])
        while True:
            arms = [_sessions(rng) for _ in ARMS]
            inputs = {f"{when}_{arm}": values for arm, pair in zip(ARMS, arms)
                      for when, values in zip(("pre", "during"), pair)}
            if abs(_theta_pooled(inputs) - public) > 0.01 * abs(public):
                return inputs
    if group == "07.2":
        return {"rho": float(rng.choice([0.3, 0.4, 0.45, 0.5, 0.55, 0.65, 0.7, 0.75, 0.85, 0.9]))}
    if group == "07.3":
        public = _n_cuped_plan(PUBLIC_INPUTS["07.3"])
        while True:  # some combinations need the public sample size: draw again
            plan = {"sd": float(rng.choice([8.0, 10.0, 15.0, 20.0, 25.0])),
                    "delta": float(rng.choice([0.20, 0.25, 0.40, 0.50])),
                    "rho": float(rng.choice([0.5, 0.6, 0.7, 0.75, 0.85, 0.9]))}
            if abs(_n_cuped_plan(plan) - public) > 0.01 * public:
                return plan
    if group == "07.4":  # never 3,000 per arm: 07.7's answer then stays far from the public one
        return {"seed": int(rng.integers(8, 10_000)), "n": int(rng.choice([2000, 2500, 3500, 4000, 4500, 5000]))}
    if group == "07.6":
        return {"lift_percent": int(rng.integers(3, 16)), "pvalue_exponent": -int(rng.integers(5, 13))}
    raise ValueError(f"group must be one of {sorted(PUBLIC_INPUTS)}, got {group!r}")


def _array_lines(i) -> str:
    return "\n".join(f"{name} = np.array([{', '.join(str(v) for v in i['07.1'][name])}])"
                     for name in ("pre_control", "during_control", "pre_treatment", "during_treatment"))


def _rho_text(rho: float) -> str:
    return f"$\\rho = {rho:g}$"


SUBSTITUTIONS = (
    Substitution(_array_lines(PUBLIC_INPUTS), _array_lines),
    Substitution("correlates with the metric during the experiment at\n$\\rho = 0.6$",
                 lambda i: "correlates with the metric during the experiment at\n" + _rho_text(i["07.2"]["rho"])),
    Substitution("standard deviation of 12 (currency units)",
                 lambda i: f"standard deviation of {i['07.3']['sd']:g} (currency units)"),
    Substitution("increase of 0.30", lambda i: f"increase of {i['07.3']['delta']:.2f}"),
    Substitution("this month's at $\\rho = 0.8$", lambda i: "this month's at " + _rho_text(i["07.3"]["rho"])),
    Substitution("default_rng(7)", lambda i: f"default_rng({i['07.4']['seed']})"),
    Substitution("size=(2, 3_000)", lambda i: f"size=(2, {i['07.4']['n']:_})", count=2),
    Substitution("3,000 users per arm", lambda i: f"{i['07.4']['n']:,} users per arm"),
    Substitution("the 6,000 users", lambda i: f"the {2 * i['07.4']['n']:,} users"),
    Substitution("page views by 8%", lambda i: f"page views by {i['07.6']['lift_percent']}%"),
    Substitution("covariate_pvalue = 1e-15", lambda i: f"covariate_pvalue = 1e{i['07.6']['pvalue_exponent']}"),
)


def _pooled(s) -> tuple[np.ndarray, np.ndarray]:
    """(y, x) of both arms of the 07.1 inputs ``s`` together."""
    return (np.concatenate([s["during_control"], s["during_treatment"]]),
            np.concatenate([s["pre_control"], s["pre_treatment"]]))


def _theta(y, x) -> float:
    return abt.cuped_adjust(np.asarray(y, dtype=float), np.asarray(x, dtype=float)).theta


def _theta_pooled(s) -> float:
    return _theta(*_pooled(s))


def _rho_pooled(s) -> float:
    return abt.cuped_adjust(*_pooled(s)).rho


def _theta_of_y_on_variance_of_y(s) -> float:
    """cov(Y, X) / var(Y): the slope of X on Y, the wrong way round."""
    y, x = _pooled(s)
    return _theta(x, y)


def _n_cuped(delta: float, sd: float, sd_factor: float) -> float:
    return abt.sample_size_means(delta, sd * sd_factor)


def _n_cuped_plan(plan) -> float:
    """Users per arm of the 07.3 plan analysed with CUPED."""
    return _n_cuped(plan["delta"], plan["sd"], math.sqrt(1 - plan["rho"] ** 2))


def _watch_time(seed: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(y_control, x_control, y_treatment, x_treatment): the notebook's seeded data."""
    rng = np.random.default_rng(seed)
    minutes_pre = rng.gamma(2.0, 15.0, size=(2, n))
    minutes = 0.8 * minutes_pre + rng.gamma(2.0, 10.0, size=(2, n))
    minutes[1] += 1.0
    return minutes[0], minutes_pre[0], minutes[1], minutes_pre[1]


def _watch_test(seed: int, n: int) -> abt.CupedTest:
    return abt.cuped_test(*_watch_time(seed, n))


def _effect_with_thetas(seed: int, n: int, theta_control: float, theta_treatment: float) -> float:
    """(mean Y_t - theta_t mean X_t) - (mean Y_c - theta_c mean X_c)."""
    y_c, x_c, y_t, x_t = _watch_time(seed, n)
    return (y_t.mean() - theta_treatment * x_t.mean()) - (y_c.mean() - theta_control * x_c.mean())


def _effect_per_arm_theta(seed: int, n: int) -> float:
    y_c, x_c, y_t, x_t = _watch_time(seed, n)
    return _effect_with_thetas(seed, n, _theta(y_c, x_c), _theta(y_t, x_t))


def _effect_control_theta(seed: int, n: int) -> float:
    y_c, x_c, _, _ = _watch_time(seed, n)
    theta = _theta(y_c, x_c)
    return _effect_with_thetas(seed, n, theta, theta)


def exercises(inputs: dict) -> tuple[Exercise, ...]:
    """The answer key for ``inputs`` (``PUBLIC_INPUTS`` or a class edition's)."""
    SESSIONS = inputs["07.1"]
    RHO_FACTOR = inputs["07.2"]["rho"]
    plan = inputs["07.3"]
    DELTA, SD, RHO_PLAN = plan["delta"], plan["sd"], plan["rho"]
    WATCH = (inputs["07.4"]["seed"], inputs["07.4"]["n"])
    WATCH_N = WATCH[1]
    moved = inputs["07.6"]
    n_users = 2 * len(SESSIONS["pre_control"])
    return (
        Exercise(
            "07.1",
            "theta",
            Number(
                lambda: _theta_pooled(SESSIONS),
                rtol=1e-4,
                hint=f"Put the {n_users} users of both arms together and divide the covariance of Y and X "
                "by the variance of X (same divisor for both), or use abt.cuped_adjust(y, x).theta "
                "on the pooled arrays.",
                mistakes=[
                    (lambda: _theta(SESSIONS["during_control"], SESSIONS["pre_control"]), "That is theta of the "
                     f"control arm alone; CUPED estimates ONE theta on both arms pooled (all {n_users} users)."),
                    (lambda: _theta(SESSIONS["during_treatment"], SESSIONS["pre_treatment"]), "That is theta of the "
                     "treatment arm alone; CUPED estimates ONE theta on both arms pooled."),
                    (lambda: _rho_pooled(SESSIONS), "That is the correlation rho = corr(Y, X); theta is cov(Y, X) / "
                     "var(X), the least-squares slope of Y on X."),
                    (lambda: _theta_of_y_on_variance_of_y(SESSIONS), "You divided by the variance of Y; theta = "
                     "cov(Y, X) / var(X), the variance of the covariate X."),
                ],
            ),
        ),
        Exercise(
            "07.2",
            "variance_factor",
            Number(
                lambda: 1 - RHO_FACTOR**2,
                rtol=1e-4,
                hint="With the optimal theta, Var(Y - theta X) = Var(Y) (1 - rho^2).",
                mistakes=[
                    (lambda: 1 - RHO_FACTOR, "The variance shrinks by rho SQUARED: the factor is "
                     "1 - rho^2, not 1 - rho."),
                    (lambda: RHO_FACTOR**2, "rho^2 is the share of the variance that CUPED removes; "
                     "the question asks for the share that remains, 1 - rho^2."),
                    (lambda: math.sqrt(1 - RHO_FACTOR**2), "That is the factor of the standard "
                     "deviation (and of the CI width), sqrt(1 - rho^2); the variance is multiplied "
                     "by 1 - rho^2."),
                ],
            ),
        ),
        Exercise(
            "07.3",
            "n_cuped",
            Number(
                lambda: _n_cuped_plan(plan),
                rtol=1e-3,
                hint="CUPED leaves the standard deviation sd * sqrt(1 - rho^2): call "
                f"abt.sample_size_means({DELTA:.2f}, {SD:g} * np.sqrt(1 - {RHO_PLAN:g}**2)) (users per arm).",
                mistakes=[
                    (lambda: _n_cuped(DELTA, SD, 1.0), "That is the plain design without CUPED; use the "
                     "reduced standard deviation sd * sqrt(1 - rho^2)."),
                    (lambda: _n_cuped(DELTA, SD, 1.0) * math.sqrt(1 - RHO_PLAN**2), "The sample size is "
                     "proportional to the VARIANCE: multiply the plain n by 1 - rho^2, not by its "
                     "square root."),
                    (lambda: _n_cuped(DELTA, SD, 1 - RHO_PLAN**2), "You multiplied the standard deviation by "
                     "1 - rho^2; that factor applies to the variance, so the sd gets sqrt(1 - rho^2)."),
                    (lambda: _n_cuped(DELTA, SD, math.sqrt(1 - RHO_PLAN)), "The variance factor is 1 - rho^2 "
                     f"(1 - {RHO_PLAN**2:.4g} = {1 - RHO_PLAN**2:.4g}), not 1 - rho."),
                    (lambda: _n_cuped(DELTA, SD, RHO_PLAN), "rho^2 is the share of the variance removed; the "
                     "share left is 1 - rho^2, so the sd becomes sd * sqrt(1 - rho^2)."),
                    (lambda: 2 * _n_cuped(DELTA, SD, math.sqrt(1 - RHO_PLAN**2)), "That is both arms together; "
                     "give the users of ONE arm."),
                ],
            ),
        ),
        Exercise(
            "07.4",
            "cuped_effect",
            Number(
                lambda: _watch_test(*WATCH).effect,
                rtol=1e-4,
                hint="Run abt.cuped_test(y_control, x_control, y_treatment, x_treatment) and take "
                "its .effect (treatment minus control).",
                mistakes=[
                    (lambda: _watch_test(*WATCH).unadjusted_effect, "That is the plain difference of "
                     "means; the question asks for the CUPED-adjusted effect (.effect)."),
                    (lambda: -_watch_test(*WATCH).effect, "Wrong sign: the effect is treatment minus "
                     "control. Pass the control arm first: cuped_test(y_control, x_control, "
                     "y_treatment, x_treatment)."),
                    (lambda: _effect_with_thetas(*WATCH, 1.0, 1.0), "That is theta = 1, the change from the "
                     "pre-period (Y - X); CUPED uses theta = cov(Y, X) / var(X)."),
                    (lambda: _effect_per_arm_theta(*WATCH), "You used a different theta in each arm; with "
                     "uncentred Y - theta X the constants no longer cancel. Use one theta estimated "
                     "on both arms pooled."),
                    (lambda: _effect_control_theta(*WATCH), "You estimated theta on the control arm only; CUPED "
                     "estimates it on both arms pooled."),
                ],
            ),
        ),
        Exercise(
            "07.5",
            "valid_covariate",
            fixed=True,
            answer=Choice(
                "b",
                options=("a", "b", "c", "d"),
                hints={
                    "a": "Revenue in the experiment's first week is measured after the treatment "
                    "started, so the treatment can move it: CUPED would subtract part of the effect.",
                    "c": "Sessions during the experiment can be changed by the treatment (a faster "
                    "checkout may bring users back more often); that biases the CUPED estimate.",
                    "d": "The cart at the end of the experiment is an outcome of the experiment "
                    "itself; the treatment can move it.",
                },
            ),
        ),
        Exercise(
            "07.6",
            "biased",
            Boolean(
                True,
                hint="CUPED is unbiased only because E[mean X_t - mean X_c] = 0, which randomisation "
                "guarantees for data measured BEFORE the treatment. Here the treatment moved X "
                f"(p = 1e{moved['pvalue_exponent']}), so theta * (mean X_t - mean X_c) removes part of "
                "the real effect, however theta is estimated.",
            ),
        ),
        Exercise(
            "07.7",
            "n_equivalent",
            Number(
                lambda: _watch_test(*WATCH).n_equivalent,
                rtol=1e-3,
                hint="The plain test needs n / (1 - rho^2) users for the precision CUPED reaches "
                f"with n: use the .n_equivalent of the test of exercise 07.4 (both arms, {2 * WATCH_N:,} "
                "users).",
                mistakes=[
                    (lambda: 2 * WATCH_N * _watch_test(*WATCH).variance_factor, "You multiplied by the "
                     "variance factor; the plain test needs MORE users, n / (1 - rho^2)."),
                    (lambda: _watch_test(*WATCH).n_equivalent / 2, "That is per arm; the question asks "
                     "for both arms together."),
                    (lambda: 2 * WATCH_N / math.sqrt(_watch_test(*WATCH).variance_factor), "Precision "
                     "(the variance of the estimate) scales with 1/n, so divide by 1 - rho^2, not "
                     "by its square root."),
                ],
            ),
        ),
    )


EXERCISES = exercises(PUBLIC_INPUTS)

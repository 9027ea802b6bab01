"""Answer key of chapter 7, Variance reduction (``solutions/07_variance_reduction.ipynb``).

Every expected value is computed with abteach when first needed; typical wrong answers are
recomputed the same way so that each gets its own hint. The data of exercises 07.4 and 07.7
are drawn by :func:`_watch_time` with the seed the notebook uses; if the two ever differ, the
solution notebook's checks fail.
"""

from __future__ import annotations

import math

import numpy as np

import abteach as abt
from abteach.course.check import Boolean, Choice, Exercise, Number

# 07.1: sessions before (X) and during (Y) the experiment of six users per arm.
PRE_CONTROL = (2.0, 0.0, 5.0, 3.0, 1.0, 4.0)
DURING_CONTROL = (3.0, 1.0, 6.0, 2.0, 1.0, 5.0)
PRE_TREATMENT = (1.0, 3.0, 6.0, 0.0, 2.0, 4.0)
DURING_TREATMENT = (2.0, 4.0, 8.0, 1.0, 2.0, 6.0)

# 07.2: the pre-period correlation.
RHO_FACTOR = 0.6

# 07.3: sd 12, detect +0.30 (two-sided alpha 0.05, power 0.8), pre-period correlation 0.8.
DELTA, SD, RHO_PLAN = 0.30, 12.0, 0.8

# 07.4 and 07.7: weekly minutes watched, 3,000 users per arm, seed 7.
WATCH_SEED, WATCH_N = 7, 3_000


def _pooled(pre_c, during_c, pre_t, during_t) -> tuple[np.ndarray, np.ndarray]:
    """(y, x) of both arms together."""
    return np.concatenate([during_c, during_t]), np.concatenate([pre_c, pre_t])


def _theta(y, x) -> float:
    return abt.cuped_adjust(np.asarray(y, dtype=float), np.asarray(x, dtype=float)).theta


def _theta_pooled() -> float:
    return _theta(*_pooled(PRE_CONTROL, DURING_CONTROL, PRE_TREATMENT, DURING_TREATMENT))


def _rho_pooled() -> float:
    y, x = _pooled(PRE_CONTROL, DURING_CONTROL, PRE_TREATMENT, DURING_TREATMENT)
    return abt.cuped_adjust(y, x).rho


def _theta_of_y_on_variance_of_y() -> float:
    """cov(Y, X) / var(Y): the slope of X on Y, the wrong way round."""
    y, x = _pooled(PRE_CONTROL, DURING_CONTROL, PRE_TREATMENT, DURING_TREATMENT)
    return _theta(x, y)


def _n_cuped(sd_factor: float) -> float:
    return abt.sample_size_means(DELTA, SD * sd_factor)


def _watch_time() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(y_control, x_control, y_treatment, x_treatment): the notebook's seeded data."""
    rng = np.random.default_rng(WATCH_SEED)
    minutes_pre = rng.gamma(2.0, 15.0, size=(2, WATCH_N))
    minutes = 0.8 * minutes_pre + rng.gamma(2.0, 10.0, size=(2, WATCH_N))
    minutes[1] += 1.0
    return minutes[0], minutes_pre[0], minutes[1], minutes_pre[1]


def _watch_test() -> abt.CupedTest:
    return abt.cuped_test(*_watch_time())


def _effect_with_thetas(theta_control: float, theta_treatment: float) -> float:
    """(mean Y_t - theta_t mean X_t) - (mean Y_c - theta_c mean X_c)."""
    y_c, x_c, y_t, x_t = _watch_time()
    return (y_t.mean() - theta_treatment * x_t.mean()) - (y_c.mean() - theta_control * x_c.mean())


def _effect_per_arm_theta() -> float:
    y_c, x_c, y_t, x_t = _watch_time()
    return _effect_with_thetas(_theta(y_c, x_c), _theta(y_t, x_t))


def _effect_control_theta() -> float:
    y_c, x_c, _, _ = _watch_time()
    theta = _theta(y_c, x_c)
    return _effect_with_thetas(theta, theta)


EXERCISES = (
    Exercise(
        "07.1",
        "theta",
        Number(
            _theta_pooled,
            rtol=1e-4,
            hint="Put the 12 users of both arms together and divide the covariance of Y and X "
            "by the variance of X (same divisor for both), or use abt.cuped_adjust(y, x).theta "
            "on the pooled arrays.",
            mistakes=[
                (lambda: _theta(DURING_CONTROL, PRE_CONTROL), "That is theta of the control arm "
                 "alone; CUPED estimates ONE theta on both arms pooled (all 12 users)."),
                (lambda: _theta(DURING_TREATMENT, PRE_TREATMENT), "That is theta of the "
                 "treatment arm alone; CUPED estimates ONE theta on both arms pooled."),
                (_rho_pooled, "That is the correlation rho = corr(Y, X); theta is cov(Y, X) / "
                 "var(X), the least-squares slope of Y on X."),
                (_theta_of_y_on_variance_of_y, "You divided by the variance of Y; theta = "
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
            lambda: _n_cuped(math.sqrt(1 - RHO_PLAN**2)),
            rtol=1e-3,
            hint="CUPED leaves the standard deviation sd * sqrt(1 - rho^2): call "
            "abt.sample_size_means(0.30, 12 * np.sqrt(1 - 0.8**2)) (users per arm).",
            mistakes=[
                (lambda: _n_cuped(1.0), "That is the plain design without CUPED; use the "
                 "reduced standard deviation sd * sqrt(1 - rho^2)."),
                (lambda: _n_cuped(1.0) * math.sqrt(1 - RHO_PLAN**2), "The sample size is "
                 "proportional to the VARIANCE: multiply the plain n by 1 - rho^2, not by its "
                 "square root."),
                (lambda: _n_cuped(1 - RHO_PLAN**2), "You multiplied the standard deviation by "
                 "1 - rho^2; that factor applies to the variance, so the sd gets sqrt(1 - rho^2)."),
                (lambda: _n_cuped(math.sqrt(1 - RHO_PLAN)), "The variance factor is 1 - rho^2 "
                 "(1 - 0.64 = 0.36), not 1 - rho."),
                (lambda: _n_cuped(RHO_PLAN), "rho^2 is the share of the variance removed; the "
                 "share left is 1 - rho^2, so the sd becomes sd * sqrt(1 - rho^2)."),
                (lambda: 2 * _n_cuped(math.sqrt(1 - RHO_PLAN**2)), "That is both arms together; "
                 "give the users of ONE arm."),
            ],
        ),
    ),
    Exercise(
        "07.4",
        "cuped_effect",
        Number(
            lambda: _watch_test().effect,
            rtol=1e-4,
            hint="Run abt.cuped_test(y_control, x_control, y_treatment, x_treatment) and take "
            "its .effect (treatment minus control).",
            mistakes=[
                (lambda: _watch_test().unadjusted_effect, "That is the plain difference of "
                 "means; the question asks for the CUPED-adjusted effect (.effect)."),
                (lambda: -_watch_test().effect, "Wrong sign: the effect is treatment minus "
                 "control. Pass the control arm first: cuped_test(y_control, x_control, "
                 "y_treatment, x_treatment)."),
                (lambda: _effect_with_thetas(1.0, 1.0), "That is theta = 1, the change from the "
                 "pre-period (Y - X); CUPED uses theta = cov(Y, X) / var(X)."),
                (_effect_per_arm_theta, "You used a different theta in each arm; with "
                 "uncentred Y - theta X the constants no longer cancel. Use one theta estimated "
                 "on both arms pooled."),
                (_effect_control_theta, "You estimated theta on the control arm only; CUPED "
                 "estimates it on both arms pooled."),
            ],
        ),
    ),
    Exercise(
        "07.5",
        "valid_covariate",
        Choice(
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
            "(p = 1e-15), so theta * (mean X_t - mean X_c) removes part of the real effect, "
            "however theta is estimated.",
        ),
    ),
    Exercise(
        "07.7",
        "n_equivalent",
        Number(
            lambda: _watch_test().n_equivalent,
            rtol=1e-3,
            hint="The plain test needs n / (1 - rho^2) users for the precision CUPED reaches "
            "with n: use the .n_equivalent of the test of exercise 07.4 (both arms, 6,000 "
            "users).",
            mistakes=[
                (lambda: 2 * WATCH_N * _watch_test().variance_factor, "You multiplied by the "
                 "variance factor; the plain test needs MORE users, n / (1 - rho^2)."),
                (lambda: _watch_test().n_equivalent / 2, "That is per arm; the question asks "
                 "for both arms together."),
                (lambda: 2 * WATCH_N / math.sqrt(_watch_test().variance_factor), "Precision "
                 "(the variance of the estimate) scales with 1/n, so divide by 1 - rho^2, not "
                 "by its square root."),
            ],
        ),
    ),
)

"""Chapter 7 answer key: the chapter mixes all three kinds of question, and the expected values
agree with independent computations (numpy moments, the closed forms of Deng, Xu, Kohavi &
Walker (2013), section 3.2)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import abteach as abt
from abteach.course.answers import ch07
from abteach.course.answers.ch07 import EXERCISES
from abteach.course.check import CORRECT, Boolean, Choice, Number, evaluate

PUBLIC = ch07.PUBLIC_INPUTS
SESSIONS = PUBLIC["07.1"]
RHO_FACTOR = PUBLIC["07.2"]["rho"]
DELTA, SD, RHO_PLAN = (PUBLIC["07.3"][k] for k in ("delta", "sd", "rho"))
WATCH_SEED, WATCH_N = PUBLIC["07.4"]["seed"], PUBLIC["07.4"]["n"]


def _expected(exercise_id: str) -> float:
    return float(next(ex for ex in EXERCISES if ex.id == exercise_id).answer.expected())


def test_chapter_asks_for_numbers_options_and_true_or_false():
    """Chapter 7 also has a True/False question (07.6), beyond the Number and Choice/Boolean mix
    test_answer_keys.py asks of every chapter."""
    assert {Number, Choice, Boolean} <= {type(ex.answer) for ex in EXERCISES}


def test_theta_is_the_pooled_covariance_over_variance():
    y = np.concatenate([SESSIONS["during_control"], SESSIONS["during_treatment"]])
    x = np.concatenate([SESSIONS["pre_control"], SESSIONS["pre_treatment"]])
    by_numpy = np.cov(y, x, ddof=0)[0, 1] / np.var(x)  # same divisor: it cancels
    assert _expected("07.1") == pytest.approx(by_numpy, rel=1e-12)


def test_variance_factor_is_the_sample_size_ratio():
    """n is proportional to sd^2 for the z-test, so the ratio of abteach's sample sizes with
    sd sqrt(1 - rho^2) and sd 1 is exactly the variance factor 1 - rho^2 (Deng et al. 2013)."""
    rho = RHO_FACTOR
    ratio = abt.sample_size_means(0.1, math.sqrt(1 - rho**2)) / abt.sample_size_means(0.1, 1.0)
    assert _expected("07.2") == pytest.approx(ratio, rel=1e-9)
    assert _expected("07.2") == pytest.approx(0.64, abs=1e-12)


def test_cuped_sample_size_is_the_plain_one_times_one_minus_rho_squared():
    plain = abt.sample_size_means(DELTA, SD)
    assert _expected("07.3") == pytest.approx(plain * (1 - RHO_PLAN**2), rel=1e-9)
    # Kohavi's rule of thumb 16 sd^2 / delta^2 agrees to about 2%
    assert _expected("07.3") == pytest.approx(16 * 0.36 * SD**2 / DELTA**2, rel=0.02)


def test_rounded_up_sample_size_is_accepted():
    assert evaluate("07.3", math.ceil(_expected("07.3"))).status == CORRECT


def test_cuped_effect_matches_the_closed_form_with_numpy_moments():
    """Delta_cv = (mean Y_t - mean Y_c) - theta (mean X_t - mean X_c), theta from both arms."""
    y_c, x_c, y_t, x_t = ch07._watch_time(WATCH_SEED, WATCH_N)
    y, x = np.concatenate([y_c, y_t]), np.concatenate([x_c, x_t])
    theta = np.cov(y, x)[0, 1] / np.var(x, ddof=1)
    by_hand = (y_t.mean() - y_c.mean()) - theta * (x_t.mean() - x_c.mean())
    assert _expected("07.4") == pytest.approx(by_hand, rel=1e-10)


def test_equivalent_sample_size_is_n_over_one_minus_rho_squared():
    y_c, x_c, y_t, x_t = ch07._watch_time(WATCH_SEED, WATCH_N)
    rho = np.corrcoef(np.concatenate([y_c, y_t]), np.concatenate([x_c, x_t]))[0, 1]
    assert _expected("07.7") == pytest.approx(2 * WATCH_N / (1 - rho**2), rel=1e-10)


def test_watch_time_data_is_a_fair_example():
    """The 07.4 data set has a pre-period covariate: the check sees no imbalance, and CUPED
    reduces the variance (the solution's explanation quotes both)."""
    res = ch07._watch_test(WATCH_SEED, WATCH_N)
    assert res.covariate_pvalue > 0.05
    assert res.variance_factor < 0.5
    assert res.ci_low < 1.0 < res.ci_high

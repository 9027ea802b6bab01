"""Chapter 5 answer key: the expected answers agree with independent computations (scipy,
statsmodels, the formulas), and rounded answers are accepted."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest

from abteach.course.answers import ch05
from abteach.course.answers.ch05 import EXERCISES
from abteach.course.check import CORRECT, evaluate

SIGNUP, REVENUE, CTR = (ch05.PUBLIC_INPUTS[group] for group in ("05.1", "05.4", "05.6"))
X_CONTROL, N_CONTROL = SIGNUP["x_control"], SIGNUP["n_control"]
X_TREATMENT, N_TREATMENT = SIGNUP["x_treatment"], SIGNUP["n_treatment"]


def expected(exercise_id: str) -> float:
    exercise = next(ex for ex in EXERCISES if ex.id == exercise_id)
    return float(exercise.answer.expected())


def test_ztest_answers_match_statsmodels():
    """05.1-05.3 recomputed with statsmodels: the pooled z-test, the Wald interval of the
    difference and the log-scale (Katz) interval of the ratio."""
    counts = np.array([X_TREATMENT, X_CONTROL])
    sizes = np.array([N_TREATMENT, N_CONTROL])
    _, pvalue = proportions_ztest(counts, sizes)
    assert expected("05.1") == pytest.approx(pvalue, rel=1e-9)
    low, _ = confint_proportions_2indep(X_TREATMENT, N_TREATMENT, X_CONTROL,
                                        N_CONTROL, method="wald", compare="diff")
    assert expected("05.2") == pytest.approx(low, rel=1e-9)
    low, _ = confint_proportions_2indep(X_TREATMENT, N_TREATMENT, X_CONTROL,
                                        N_CONTROL, method="log", compare="ratio")
    assert expected("05.3") == pytest.approx(low - 1, rel=1e-9)


def test_welch_answers_match_scipy():
    (m_c, s_c, n_c), (m_t, s_t, n_t) = REVENUE["control"], REVENUE["treatment"]
    res = stats.ttest_ind_from_stats(m_t, s_t, n_t, m_c, s_c, n_c, equal_var=False)
    assert expected("05.4") == pytest.approx(res.statistic, rel=1e-12)
    v_c, v_t = s_c**2 / n_c, s_t**2 / n_t
    welch_df = (v_c + v_t) ** 2 / (v_c**2 / (n_c - 1) + v_t**2 / (n_t - 1))
    assert expected("05.5") == pytest.approx(welch_df, rel=1e-12)
    # the t distribution with these df gives scipy's p-value
    assert 2 * stats.t.sf(abs(res.statistic), welch_df) == pytest.approx(res.pvalue, rel=1e-10)


def test_delta_method_answer_is_the_three_term_formula():
    """Deng, Knoblich & Lu (2018), section 3: Var(Y/X) = (s_Y^2/mu_X^2 - 2 mu_Y s_XY/mu_X^3 +
    mu_Y^2 s_X^2/mu_X^4) / n per arm, the arms independent."""
    variance = 0.0
    for clicks, views in ((CTR["clicks_control"], CTR["views_control"]),
                          (CTR["clicks_treatment"], CTR["views_treatment"])):
        y, x = np.asarray(clicks, float), np.asarray(views, float)
        (var_y, cov), (_, var_x) = np.cov(y, x)
        m_y, m_x = y.mean(), x.mean()
        variance += (var_y / m_x**2 - 2 * m_y * cov / m_x**3 + m_y**2 * var_x / m_x**4) / len(y)
    assert expected("05.6") == pytest.approx(math.sqrt(variance), rel=1e-12)


def test_naive_ctr_se_is_smaller_than_the_delta_se():
    """The data of 05.6 are clustered: the naive SE understates the delta-method SE."""
    naive = EXERCISES[5].answer.mistakes[0][0]()
    assert naive < 0.9 * expected("05.6")


def test_rule_of_thumb_answer_and_rounding_up():
    """Kohavi, Tang & Xu (2020) ch. 17: n > 355 s^2; the rounded-up count is accepted."""
    assert expected("05.8") == pytest.approx(355 * 4.5**2, rel=1e-12)
    assert evaluate("05.8", math.ceil(355 * 4.5**2)).status == CORRECT


def test_degrees_of_freedom_rounded_to_a_whole_number_are_accepted():
    assert evaluate("05.5", round(expected("05.5"))).status == CORRECT

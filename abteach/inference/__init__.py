"""Analyzing a finished experiment: tests and confidence intervals (chapter 5).

Tests on sufficient statistics (counts, sums, or means with standard deviations) come first;
the versions on raw per-user arrays compute those statistics and call them. Every function
accepts numpy arrays so that a chapter can analyze 10,000 simulated experiments (or 10 metrics
x 4 variants) in one call: for arguments that are sufficient statistics the arrays broadcast
together, and for raw data the observations lie along the LAST axis (leading axes are
experiments). Treatment minus control, always. One module per section of chapter 5:

=====================================  ==================  ====================================
function                               module              question
=====================================  ==================  ====================================
:func:`ztest_proportions`              ``proportions``     do two conversion rates differ?
:func:`chisq_proportions`              ``proportions``     do k conversion rates differ?
:func:`welch_ttest_from_stats`,        ``means``           do two means differ? (Welch, or
:func:`welch_ttest_from_sums`,                             Student with ``equal_var=True``)
:func:`welch_ttest`
:func:`moments_from_sums`              ``means``           mean and sd from n, sum, sum of
                                                           squares
:func:`ratio_metric_test`              ``ratio``           do two ratio metrics differ? (delta
                                                           method, the user as the unit)
:func:`sample_size_ratio`              ``ratio``           users per arm for a ratio metric
:func:`lift_interval`                  ``lift``            the lift interval at another level
:func:`bootstrap_ci`                   ``bootstrap``       interval for any two-sample
                                                           statistic (percentile, BCa)
:func:`min_sample_size_for_normality`  ``normality``       is n large enough for the normal
                                                           approximation? (355 s^2)
:func:`cap_threshold`,                 ``winsorize``       cap a heavy-tailed metric at a
:func:`winsorize`                                          threshold fixed in advance
:func:`permutation_test`               ``permutation``     randomization p-value of any statistic
:func:`fisher_exact_test`,             ``exact``           exact tests for rare conversions
:func:`barnard_exact_test`
:func:`quantile_test`                  ``quantiles``       do two quantiles (p95) differ? (delta
                                                           method, clustered by user)
=====================================  ==================  ====================================

Relative effects. Every two-arm test reports the lift ``treatment / control - 1`` with two
intervals: the delta method on the log of the ratio (``lift_ci_low``/``lift_ci_high``,
asymmetric, above -100%) and on the ratio itself (``lift_ci_low_symmetric``/
``lift_ci_high_symmetric``); see ``abteach.inference.lift``. The shared numerics are in the
private module ``_core``, the bootstrap's in ``_resampling``.
"""

from abteach.inference.bootstrap import BOOTSTRAP_METHODS, BootstrapCI, bootstrap_ci
from abteach.inference.exact import (
    EXACT_METHODS,
    ExactTest,
    barnard_exact_test,
    fisher_exact_test,
)
from abteach.inference.lift import lift_interval
from abteach.inference.means import (
    MeansTTest,
    Moments,
    moments_from_sums,
    welch_ttest,
    welch_ttest_from_stats,
    welch_ttest_from_sums,
)
from abteach.inference.normality import NORMALITY_FACTOR, min_sample_size_for_normality
from abteach.inference.proportions import (
    ProportionsChiSquare,
    ProportionsZTest,
    chisq_proportions,
    ztest_proportions,
)
from abteach.inference.permutation import PermutationTest, permutation_test
from abteach.inference.quantiles import QuantileTest, quantile_test
from abteach.inference.ratio import (
    RATIO_METHODS,
    RatioMetricTest,
    ratio_metric_test,
    sample_size_ratio,
)
from abteach.inference.winsorize import cap_threshold, winsorize

__all__ = [
    "BOOTSTRAP_METHODS",
    "EXACT_METHODS",
    "NORMALITY_FACTOR",
    "RATIO_METHODS",
    "BootstrapCI",
    "ExactTest",
    "MeansTTest",
    "Moments",
    "ProportionsChiSquare",
    "PermutationTest",
    "ProportionsZTest",
    "QuantileTest",
    "RatioMetricTest",
    "barnard_exact_test",
    "bootstrap_ci",
    "cap_threshold",
    "chisq_proportions",
    "fisher_exact_test",
    "lift_interval",
    "min_sample_size_for_normality",
    "moments_from_sums",
    "permutation_test",
    "quantile_test",
    "ratio_metric_test",
    "sample_size_ratio",
    "welch_ttest",
    "welch_ttest_from_stats",
    "welch_ttest_from_sums",
    "winsorize",
    "ztest_proportions",
]

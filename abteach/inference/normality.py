r"""Section 5.7 (pitfalls): when is the normal approximation good enough? Kohavi's 355 s^2 rule."""

from __future__ import annotations

import numpy as np

from abteach._validate import as_float_array, scalar_or_array

__all__ = ["NORMALITY_FACTOR", "min_sample_size_for_normality"]

#: Kohavi, Tang & Xu (2020) ch. 17 — the mean of n units is close enough to normal when
#: n > 355 s^2, s the skewness of one unit's value.
NORMALITY_FACTOR = 355


def min_sample_size_for_normality(skewness):
    r"""Units per arm above which the mean of a skewed metric is close enough to normal.

    Kohavi, Tang & Xu (2020, ch. 17) recommend :math:`n > 355\, s^2` per variant, where
    :math:`s = E[(X - \mu)^3] / \sigma^3` is the skewness of one unit's value (e.g.
    ``scipy.stats.skew(revenue_per_user)``); it comes from Kohavi, Deng, Longbotham & Xu
    (2014, rule 7). The skewness of a mean of n units is :math:`s/\sqrt n`, so the rule
    keeps it below :math:`1/\sqrt{355} \approx 0.053`. By the Edgeworth expansion of the t
    statistic (Hall, 1992, section 2.6), the one-sided miss rate of a nominal 2.5% bound is
    then off by about :math:`(s/\sqrt n)(2 z^2 + 1)\varphi(z)/6 \le 0.0045` (z = 1.96), and
    the two-sided 95% interval covers at 95% up to terms of order 1/n.

    Revenue is very skewed: a lognormal with log-sd 1 has s = 6.2 and needs 13,580 users,
    one with log-sd 1.5 has s = 33 and needs 400,000. Two arms of equal size with the same
    distribution cancel the skewness in the difference of their means, so the rule matters
    most for unequal splits (a 10% ramp) and one-sided decisions. Capping outliers or
    transforming the metric reduces s.

    Parameters
    ----------
    skewness : float or array of float
        Skewness of the per-unit metric (its sign does not matter).

    Returns
    -------
    float or numpy.ndarray
        :math:`355\, s^2`, unrounded (round up); inf for absurdly large skewness.

    References
    ----------
    Kohavi, R., Tang, D. & Xu, Y. (2020), *Trustworthy Online Controlled Experiments*, ch. 17.
    Kohavi, R., Deng, A., Longbotham, R. & Xu, Y. (2014), Seven rules of thumb for web site
    experimenters, *KDD 2014*.
    Boos, D. D. & Hughes-Oliver, J. M. (2000), How large does n have to be for Z and t
    intervals?, *The American Statistician* 54, 121-128.
    Hall, P. (1992), *The Bootstrap and Edgeworth Expansion*, Springer.

    Examples
    --------
    >>> min_sample_size_for_normality(2.0)
    1420.0
    """
    s = as_float_array("skewness", skewness)
    with np.errstate(over="ignore"):
        return scalar_or_array(NORMALITY_FACTOR * s**2)

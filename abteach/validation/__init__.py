r"""How we know the numbers are right: measured error rates and published values, in two tables.

Every procedure of abteach makes a promise: a test at level alpha rejects a true null
hypothesis with probability alpha, a 95% interval covers the truth 95% of the time, a sample
size gives the power it was designed for, Holm keeps the family-wise error rate at most alpha,
and so on. This module keeps two registries and turns each into a table:

* :data:`ERROR_RATE_CHECKS` and :func:`error_rate_checks`: each check simulates many seeded
  experiments where the truth is known (vectorized, one numpy array per check), applies the
  abteach function, and counts how often the promised event happened. With R runs and a
  promised rate :math:`p_0` the count is Binomial(R, p) with p the true rate, so the measured
  rate :math:`\hat p` has standard error

  .. math:: SE = \sqrt{p_0 (1 - p_0) / R}

  when the promise holds, and the gap :math:`\hat p - p_0` lies within
  :math:`\pm 4.5\,SE` with probability :math:`1 - 6.8 \times 10^{-6}` (normal approximation).
  The verdict is "within band" inside the band; outside it, "conservative" when the promise
  is a bound that the procedure beats (type I error below an "at most" promise, coverage above
  an "at least" promise) and "FAIL" otherwise. For a false discovery proportion, which lies in
  [0, 1] but is not 0/1, the binomial SE is an upper bound of its true SE, so the band is
  wider than needed, never narrower. The band also says what a check can see: with 1,000
  runs it reaches 3.1 points either side of 5%, so a test of size 8% would pass unnoticed.
  Each row reports the band's half-width in points and :func:`runs_to_resolve`, the runs
  that narrow it to one point (9,619 at 5%); the checks a decision rests on run at least
  that many by default, and the slow tests run the others with that many.
* :func:`published_numbers`, :data:`PUBLISHED_CHECKS` and :func:`published_checks`: one row
  per figure of the course's list of published numbers (R, G*Power, Jennison & Turnbull,
  Benjamini & Hochberg, ...), read from ONE data file shipped with the package
  (``abteach/data/published_numbers.json``), recomputed now by abteach and compared at the
  precision the source prints: a value printed with d decimals passes when it is within half
  a unit of the d-th decimal, a value printed with s significant digits within half a unit of
  the s-th digit, a count exactly.

The test suite (``tests/test_validation.py``) runs the same registries, so the appendix page
and the tests report the same checks.

=============================  ================================================================
module                         contents
=============================  ================================================================
:mod:`.rates`                  :data:`ERROR_RATE_CHECKS`, :func:`error_rate_checks`,
                               :func:`run_error_rate_check`, :func:`runs_to_resolve`
:mod:`.published`              :func:`published_numbers`, :data:`PUBLISHED_CHECKS`,
                               :func:`published_checks`
=============================  ================================================================

References
----------
Morris, T. P., White, I. R. & Crowther, M. J. (2019), Using simulation studies to evaluate
statistical methods, *Statistics in Medicine* 38, 2074-2102 (Monte Carlo standard errors).
"""

from __future__ import annotations

from abteach.validation.published import (
    PUBLISHED_CHECKS,
    PublishedCheck,
    published_checks,
    published_numbers,
)
from abteach.validation.rates import (
    BAND_WIDTH,
    ERROR_RATE_CHECKS,
    KINDS,
    MAX_SCALE,
    RESOLUTION_POINTS,
    ErrorRateCheck,
    error_rate_checks,
    run_error_rate_check,
    runs_to_resolve,
)

__all__ = [
    "BAND_WIDTH",
    "ERROR_RATE_CHECKS",
    "KINDS",
    "MAX_SCALE",
    "PUBLISHED_CHECKS",
    "RESOLUTION_POINTS",
    "ErrorRateCheck",
    "PublishedCheck",
    "error_rate_checks",
    "published_checks",
    "published_numbers",
    "run_error_rate_check",
    "runs_to_resolve",
]

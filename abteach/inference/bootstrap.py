r"""Section 5.5: bootstrap intervals (percentile and BCa) for any two-sample statistic.

:func:`bootstrap_ci` resamples each arm with replacement; the resampling, jackknife and BCa
numerics live in the private module ``abteach.inference._resampling``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import special

from abteach._records import Record, brief as _f, format_number
from abteach._validate import (
    as_generator,
    check_alpha,
    check_alternative,
    check_choice,
    check_int,
    check_work,
    scalar_or_array,
)
from abteach.inference._core import _experiments, _first_index, _level, _sample, _where
from abteach.inference._resampling import (
    _apply,
    _bootstrap_interval,
    _cluster_jackknife,
    _cluster_layout,
    _cluster_replicates,
    _difference_in_means,
    _jackknife,
    _replicates,
    _standard_deviation,
)

__all__ = ["BOOTSTRAP_METHODS", "BootstrapCI", "bootstrap_ci"]

BOOTSTRAP_METHODS = ("bca", "percentile")
#: The most resamples :func:`bootstrap_ci` draws (10 million take a few seconds).
MAX_RESAMPLES = 10_000_000


@dataclass(frozen=True, repr=False, eq=False)
class BootstrapCI(Record):
    """Result of :func:`bootstrap_ci`.

    ``replicates`` holds the bootstrap distribution (shape leading axes + (n_resamples,)),
    for a histogram; ``bias_correction`` (z0) and ``acceleration`` (a) are None for the
    percentile method. ``clusters`` holds the number of clusters (control, treatment) that
    each resample drew, or None when the rows themselves were drawn.
    """

    effect: float | np.ndarray
    ci_low: float | np.ndarray
    ci_high: float | np.ndarray
    standard_error: float | np.ndarray
    bias_correction: float | np.ndarray | None
    acceleration: float | np.ndarray | None
    replicates: np.ndarray
    n_control: int
    n_treatment: int
    n_resamples: int
    method: str
    alternative: str
    alpha: float
    clusters: tuple[int, int] | None = None

    def explain(self) -> str:
        """Plain-text description of the resampling with the numbers plugged in."""
        name = {"bca": "BCa (bias-corrected and accelerated)", "percentile": "percentile"}
        head = (
            f"Bootstrap {name[self.method]} interval, {self.alternative}, alpha = "
            f"{format_number(self.alpha, 4)}, {self.n_resamples} resamples"
        )
        level = _level(self.alpha)
        if np.ndim(self.effect) != 0:
            return "\n".join([
                f"{np.size(self.effect)} experiments. " + head,
                f"  mean estimate = {_f(float(np.mean(self.effect)))}, mean {level} "
                f"interval width = {_f(float(np.mean(self.ci_high - self.ci_low)))}",
            ])
        tail = self.alpha / 2 if self.alternative == "two-sided" else self.alpha
        if self.clusters is None:
            draws = (f"  each resample draws {self.n_control} control and {self.n_treatment} "
                     "treatment values with replacement and recomputes the statistic")
        else:
            draws = (f"  each resample draws {self.clusters[0]} control and {self.clusters[1]} "
                     "treatment clusters with replacement (all the values of each)")
        lines = [
            head,
            f"  estimate = statistic(control, treatment) = {_f(self.effect)} "
            f"(n_control {self.n_control}, n_treatment {self.n_treatment})",
            draws,
            f"  bootstrap SE = sd of the {self.n_resamples} replicates = "
            f"{_f(self.standard_error)}",
        ]
        if self.method == "bca":
            z = float(special.ndtri(tail))
            levels = [
                float(special.ndtr(self.bias_correction + (self.bias_correction + s)
                                   / (1 - self.acceleration * (self.bias_correction + s))))
                for s in (z, -z)
            ]
            lines += [
                "  bias correction z0 = Phi^-1(share of replicates below the estimate) = "
                f"{_f(self.bias_correction)}",
                f"  acceleration a (jackknife skewness of the statistic) = "
                f"{_f(self.acceleration)}",
                f"  quantile levels Phi(z0 + (z0 + z)/(1 - a (z0 + z))) for z = "
                f"{_f(z)}, {_f(-z)}: {_f(levels[0])}, {_f(levels[1])} (instead of "
                f"{_f(tail)}, {_f(1 - tail)})",
            ]
        else:
            lines.append(
                f"  percentile interval: the {_f(tail)} and {_f(1 - tail)} quantiles of the "
                "replicates"
            )
        lines.append(f"  {level} CI = [{_f(self.ci_low)}, {_f(self.ci_high)}]")
        return "\n".join(lines)


def bootstrap_ci(
    control,
    treatment,
    *,
    statistic: Callable | None = None,
    method: str = "bca",
    n_resamples: int = 9999,
    alternative: str = "two-sided",
    alpha: float = 0.05,
    clusters_control=None,
    clusters_treatment=None,
    rng,
) -> BootstrapCI:
    r"""Bootstrap confidence interval for a statistic of two independent samples.

    Each of ``n_resamples`` resamples draws n_c control and n_t treatment values with
    replacement from the observed ones (separately: the arms are independent) and recomputes
    the statistic, by default the difference in means (treatment minus control). The
    replicates :math:`\hat\theta^*_b` approximate the sampling distribution of
    :math:`\hat\theta`.

    * ``method="percentile"``: the :math:`\alpha/2` and :math:`1-\alpha/2` quantiles of the
      replicates (Efron & Tibshirani, 1993, ch. 13).
    * ``method="bca"`` (default): the quantiles at the adjusted levels
      :math:`\Phi(z_0 + (z_0 + z_q)/(1 - a (z_0 + z_q)))`, with the bias correction
      :math:`z_0 = \Phi^{-1}(\#\{\hat\theta^*_b < \hat\theta\} / B)` (ties counted half) and
      the acceleration :math:`a` from the jackknife of each sample in turn (Efron &
      Tibshirani, 1993, ch. 14). BCa is second-order accurate: it corrects the percentile
      interval for a biased and skewed statistic, at the cost of the jackknife.

    With ``clusters_control`` / ``clusters_treatment`` (e.g. the user of each page view) a
    resample draws as many CLUSTERS as the arm has, with replacement, each with all its
    observations, and BCa's jackknife leaves out one cluster at a time: the cluster (block)
    bootstrap for data whose observations are correlated within units (Davison & Hinkley,
    1997, section 3.8). Resampling the rows of clustered data treats correlated values as
    independent and gives intervals that are too short.

    Quantiles use linear interpolation (numpy's default). The method, bias correction and
    acceleration follow ``scipy.stats.bootstrap``; this implementation adds experiments on
    leading axes with independent resamples per experiment, the ``rng`` discipline of the
    course and the explain() text.

    Parameters
    ----------
    control, treatment : array of float
        Observations along the last axis (at least 2 per arm); leading axes are separate
        experiments and broadcast together.
    statistic : callable, optional
        ``statistic(control, treatment)`` reducing the LAST axis of both arrays and
        broadcasting the others, e.g. ``lambda c, t: np.median(t, axis=-1) -
        np.median(c, axis=-1)``. Default: ``mean(treatment) - mean(control)``.
    method : {"bca", "percentile"}
    n_resamples : int
        Number of resamples B (>= 1; 9999 by default, as scipy; at most 10,000,000, and
        B (n_c + n_t) times the number of experiments at most 2**28 draws).
    alternative : {"two-sided", "larger", "smaller"}
        "larger" gives the one-sided lower bound [low, inf) at confidence 1 - alpha.
    alpha : float
        The interval has confidence 1 - alpha.
    clusters_control, clusters_treatment : 1-d array, optional
        The cluster (unit) of each observation of a 1-d control / treatment sample; an arm
        without labels resamples its rows. The statistic is then evaluated on one resample at
        a time (1-d arrays of varying length): about B Python calls.
    rng : numpy.random.Generator or int
        Source of randomness (a seed is turned into a Generator).

    Returns
    -------
    BootstrapCI
        ``effect`` (the statistic on the data), ``ci_low``, ``ci_high``, ``standard_error``
        (sd of the replicates), ``bias_correction``, ``acceleration``, ``replicates`` and
        :meth:`~BootstrapCI.explain`.

    Notes
    -----
    Cost: B (n_c + n_t) draws, in blocks of about 4 million values; BCa with a custom
    statistic also evaluates it on n_c + n_t leave-one-out samples (O(n^2) values; the
    default statistic uses a closed form). A bootstrap distribution that is a single point
    (no variation in the data) is refused with a ValueError, as the t-tests refuse a zero
    standard error.

    References
    ----------
    Efron, B. & Tibshirani, R. J. (1993), *An Introduction to the Bootstrap*, Chapman &
    Hall, chapters 13 and 14. Davison, A. C. & Hinkley, D. V. (1997), *Bootstrap Methods and
    their Application*, Cambridge University Press, section 3.8.
    """
    method = check_choice("method", method, BOOTSTRAP_METHODS)
    alternative = check_alternative(alternative)
    alpha = check_alpha(alpha)
    n_resamples = check_int("n_resamples", n_resamples, minimum=1, maximum=MAX_RESAMPLES)
    generator = as_generator(rng)
    if statistic is None:
        statistic = _difference_in_means
    elif not callable(statistic):
        raise TypeError(f"statistic must be a function of (control, treatment), got {statistic!r}")
    c, t = _sample("control", control), _sample("treatment", treatment)
    lead = _experiments("control", c, "treatment", t)
    # Time: every draw (drawn in blocks, not held at once). Memory: the replicates, their
    # sorted copy and the interval's temporaries, about 12 numbers per replicate.
    experiments = float(np.prod(lead))
    check_work("n_resamples * (n_control + n_treatment)" + (" * experiments" if lead else ""),
               float(n_resamples) * experiments * (c.shape[-1] + t.shape[-1]))
    check_work("n_resamples" + (" * experiments" if lead else "") + " * 16 working numbers",
               float(n_resamples) * experiments * 16)
    estimate = _apply(statistic, c, t, lead)
    clustered = clusters_control is not None or clusters_treatment is not None
    if clustered:
        if lead:
            raise ValueError(
                "clusters_control and clusters_treatment need 1-d control and treatment "
                f"samples (one experiment), got leading axes {lead}"
            )
        layouts = (_cluster_layout("clusters_control", clusters_control, c.shape[-1]),
                   _cluster_layout("clusters_treatment", clusters_treatment, t.shape[-1]))
        replicates = _cluster_replicates(statistic, c, t, layouts, n_resamples, generator)
    else:
        replicates = _replicates(statistic, c, t, lead, n_resamples, generator)
    flat = replicates.max(axis=-1) == replicates.min(axis=-1)
    if flat.any():
        raise ValueError(
            "the bootstrap distribution of the statistic is a single point"
            f"{_where(_first_index(flat))}: control and treatment do not vary enough for "
            "a bootstrap interval"
        )
    if method != "bca":
        jackknife = []
    elif clustered:
        jackknife = _cluster_jackknife(statistic, c, t, layouts)
    else:
        jackknife = _jackknife(statistic, c, t, lead)
    low, high, z0, acceleration = _bootstrap_interval(
        replicates, estimate, jackknife, method, alternative, alpha
    )
    return BootstrapCI(
        effect=scalar_or_array(estimate),
        ci_low=scalar_or_array(low),
        ci_high=scalar_or_array(high),
        standard_error=scalar_or_array(_standard_deviation(replicates)),
        bias_correction=None if z0 is None else scalar_or_array(z0),
        acceleration=None if acceleration is None else scalar_or_array(acceleration),
        replicates=replicates,
        n_control=c.shape[-1],
        n_treatment=t.shape[-1],
        n_resamples=n_resamples,
        method=method,
        alternative=alternative,
        alpha=alpha,
        clusters=(int(layouts[0][2].size), int(layouts[1][2].size)) if clustered else None,
    )

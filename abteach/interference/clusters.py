r"""Cluster-randomized experiments (chapter 16): design effect, clusters needed, analysis.

When whole clusters (cities, stores, sellers, friend groups) are randomized, the units of a
cluster share the cluster's level, so n units carry the information of fewer independent
ones. With clusters of m units and intraclass correlation :math:`\rho` (the share of the
variance that lies between clusters) the variance of an arm's mean is multiplied by the
design effect :math:`1 + (m - 1)\rho` (Kish 1965; Donner & Klar 2000).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from abteach._records import Record
from abteach._validate import (
    as_float_array,
    broadcast,
    check_alpha,
    check_alternative,
    check_choice,
    check_closed_unit,
    check_open_unit,
    check_positive,
    check_scalar,
    scalar_or_array,
)
from abteach.interference._private import last_axis, refuse_flat, wald
from abteach.power import power_means, sample_size_means

__all__ = [
    "CLUSTER_METHODS", "ClusterDesign", "ClusterTest", "cluster_design", "cluster_ttest",
    "design_effect",
]

CLUSTER_METHODS = ("means", "ratio")


def design_effect(cluster_size, icc):
    r"""Variance inflation of a mean when clusters of ``cluster_size`` units are randomized.

    .. math:: \mathrm{DE} = 1 + (m - 1)\,\rho

    with m units per cluster and intraclass correlation :math:`\rho =
    \sigma_b^2 / (\sigma_b^2 + \sigma_w^2)` (between-cluster over total variance): the
    variance of a cluster mean is :math:`(\sigma_b^2 + \sigma_w^2 / m)`, that is
    :math:`\sigma^2 \mathrm{DE} / m`, against :math:`\sigma^2 / m` for m independent units.

    Parameters
    ----------
    cluster_size : float or array
        Units per cluster, m >= 1 (the mean size when sizes vary a little).
    icc : float or array
        Intraclass correlation in [0, 1].

    Returns
    -------
    float or numpy.ndarray

    References
    ----------
    Kish, L. (1965), *Survey Sampling*, Wiley, section 5.4.
    Donner, A. & Klar, N. (2000), *Design and Analysis of Cluster Randomization Trials in
    Health Research*, Arnold, ch. 5.

    Examples
    --------
    >>> round(design_effect(50, 0.05), 4)
    3.45
    """
    m = as_float_array("cluster_size", cluster_size)
    if (m < 1).any():
        bad = m[m < 1].flat[0]
        raise ValueError(f"cluster_size must be >= 1, got {bad!r}")
    rho = check_closed_unit("icc", icc)
    return scalar_or_array(1 + (m - 1) * rho)


@dataclass(frozen=True, repr=False, eq=False)
class ClusterDesign(Record):
    """Result of :func:`cluster_design`: units and clusters per arm."""

    clusters: int
    units: int
    power: float
    design_effect: float
    units_individual: float
    delta: float
    sd: float
    cluster_size: float
    icc: float
    alpha: float

    def explain(self) -> str:
        """The steps of the design with the numbers plugged in."""
        return "\n".join([
            f"Cluster-randomized design: delta = {self.delta:.4g}, sd = {self.sd:.4g}, "
            f"m = {self.cluster_size:.4g} units per cluster, ICC = {self.icc:.4g}",
            f"  individual randomization would need n = {self.units_individual:.1f} units "
            "per arm (z-test)",
            f"  design effect 1 + (m - 1) ICC = {self.design_effect:.4f}",
            f"  clusters per arm for the t-test on cluster means: K = {self.clusters} "
            f"({self.units} units), power {self.power:.4f}",
        ])


#: Most clusters per arm :func:`cluster_design` reports (a design beyond it is not a design).
MAX_CLUSTERS = 10**9
_DESIGN_ARGUMENTS = "delta, sd, cluster_size and icc"


def _clusters_needed(delta: float, sd_cluster: float, alpha: float, power: float) -> int:
    """K of the t-test on cluster means, refusing a design beyond MAX_CLUSTERS per arm."""
    try:
        clusters = sample_size_means(delta, sd_cluster, alpha=alpha, power=power, test="t")
    except ValueError as exc:
        raise ValueError(f"{_DESIGN_ARGUMENTS} give no feasible design: {exc}") from None
    if not clusters <= MAX_CLUSTERS:
        raise ValueError(f"{_DESIGN_ARGUMENTS} ask for {clusters:.3g} clusters per arm, more "
                         f"than {MAX_CLUSTERS:,}: the effect is too small for its spread")
    return int(np.ceil(clusters))


def cluster_design(delta, sd, cluster_size, icc, *, alpha=0.05, power=0.8) -> ClusterDesign:
    r"""Clusters per arm for a cluster-randomized test of a difference in means.

    A cluster mean has variance :math:`\sigma^2\,\mathrm{DE}/m` (:func:`design_effect`),
    so the analysis on cluster means (:func:`cluster_ttest`) is a two-sample t-test with
    K clusters per arm and 2K - 2 degrees of freedom. K is the smallest whole number of
    clusters whose exact (noncentral t) power reaches ``power``:

    .. math:: K = \left\lceil n_t\!\left(\delta, \sigma\sqrt{\mathrm{DE}/m}\right)\right\rceil
              \approx \left\lceil \frac{2 (z_{1-\alpha/2} + z_{1-\beta})^2 \sigma^2
              \mathrm{DE}}{m\,\delta^2} \right\rceil + 1,

    the individually randomized sample size times the design effect, divided by m, plus
    about one cluster for the t distribution (Donner & Klar 2000, section 5.2).

    Parameters
    ----------
    delta : float
        Difference in means to detect (not 0).
    sd : float
        Standard deviation of a unit's outcome (> 0), between and within clusters together.
    cluster_size : float
        Units per cluster, m >= 1.
    icc : float
        Intraclass correlation in [0, 1].
    alpha, power : float
        Two-sided significance level and target power.

    Returns
    -------
    ClusterDesign
        ``clusters`` per arm, ``units`` per arm, the exact ``power`` at that K, the
        ``design_effect`` and ``units_individual`` (the unclustered z-test's n per arm).

    Raises
    ------
    ValueError
        For ``delta == 0``, a cluster size above 10**9, or a design that would need more than
        10**9 clusters per arm.

    References
    ----------
    Donner, A. & Klar, N. (2000), *Design and Analysis of Cluster Randomization Trials in
    Health Research*, Arnold, ch. 5.
    """
    alpha = check_alpha(alpha)
    target = check_scalar("power", check_open_unit("power", power))
    delta = check_scalar("delta", as_float_array("delta", delta))
    sd = check_scalar("sd", check_positive("sd", sd))
    m = check_scalar("cluster_size", as_float_array("cluster_size", cluster_size))
    if m > MAX_CLUSTERS:
        raise ValueError(f"cluster_size must be at most {MAX_CLUSTERS:,}, got {cluster_size!r}")
    rho = check_scalar("icc", as_float_array("icc", icc))
    deff = design_effect(m, rho)
    sd_cluster = sd * np.sqrt(deff / m)
    clusters = max(_clusters_needed(delta, sd_cluster, alpha, target), 2)
    return ClusterDesign(
        clusters=clusters,
        units=int(np.ceil(clusters * m)),
        power=float(power_means(delta, sd_cluster, clusters, alpha=alpha, test="t")),
        design_effect=float(deff),
        units_individual=float(sample_size_means(delta, sd, alpha=alpha, power=target)),
        delta=delta, sd=sd, cluster_size=m, icc=rho, alpha=alpha,
    )


@dataclass(frozen=True, repr=False, eq=False)
class ClusterTest(Record):
    """Result of :func:`cluster_ttest`; ``effect`` is treatment minus control."""

    statistic: float | np.ndarray
    pvalue: float | np.ndarray
    effect: float | np.ndarray
    se: float | np.ndarray
    ci_low: float | np.ndarray
    ci_high: float | np.ndarray
    df: float | np.ndarray
    clusters_control: int
    clusters_treatment: int
    method: str
    alternative: str
    alpha: float


def _arm_estimate(sums: np.ndarray, sizes: np.ndarray, method: str):
    """An arm's estimate and its variance: mean of cluster means, or ratio of sums."""
    k = sums.shape[-1]
    if method == "means":
        means = sums / sizes
        return means.mean(axis=-1), means.var(axis=-1, ddof=1) / k
    ratio = sums.sum(axis=-1) / sizes.sum(axis=-1)
    residual = sums - ratio[..., None] * sizes
    return ratio, residual.var(axis=-1, ddof=1) / (k * sizes.mean(axis=-1) ** 2)


def _cluster_arm(sum_name: str, sums, size_name: str, sizes):
    total = last_axis(sum_name, as_float_array(sum_name, sums), 2)
    size = last_axis(size_name, check_positive(size_name, sizes), 2)
    if total.shape != size.shape:
        raise ValueError(f"{sum_name} and {size_name} must have the same shape (one sum and "
                         f"one size per cluster), got {total.shape} and {size.shape}")
    return total, size


def cluster_ttest(sum_control, size_control, sum_treatment, size_treatment, *,
                  method="means", alternative="two-sided", alpha=0.05) -> ClusterTest:
    r"""Test of a cluster-randomized experiment with the cluster as the independent unit.

    Each arm gives, per cluster j, the sum of its units' outcomes :math:`S_j` and its size
    :math:`m_j` (clusters along the last axis; leading axes are separate experiments).

    ``method="means"`` (the cluster-level analysis of Donner & Klar 2000, ch. 6): Welch's
    t-test on the cluster means :math:`\bar y_j = S_j / m_j`, each cluster counting once;
    the estimand is the mean of cluster means.

    ``method="ratio"``: the mean per unit :math:`\sum_j S_j / \sum_j m_j` of each arm with
    its delta-method variance over clusters,
    :math:`\mathrm{Var}(\hat R) = \mathrm{Var}_j(S_j - \hat R m_j) / (K \bar m^2)`
    (as in :func:`~abteach.inference.ratio_metric_test`), which is the cluster-robust (CR)
    standard error of a difference in means; z reference, so it needs many clusters.

    Testing the units as if they were independent (a t-test on all units) ignores the
    design effect and rejects a true null far more often than alpha (chapter 16).

    Parameters
    ----------
    sum_control, size_control, sum_treatment, size_treatment : array of float
        Per-cluster outcome sums and sizes (> 0), at least 2 clusters per arm.
    method : {"means", "ratio"}
    alternative : {"two-sided", "larger", "smaller"}
    alpha : float

    Returns
    -------
    ClusterTest

    References
    ----------
    Donner, A. & Klar, N. (2000), *Design and Analysis of Cluster Randomization Trials in
    Health Research*, Arnold, ch. 6.
    Cameron, A. C. & Miller, D. L. (2015), A practitioner's guide to cluster-robust
    inference, *Journal of Human Resources* 50, 317-372.
    """
    method = check_choice("method", method, CLUSTER_METHODS)
    alternative = check_alternative(alternative)
    alpha = check_alpha(alpha)
    s_c, m_c = _cluster_arm("sum_control", sum_control, "size_control", size_control)
    s_t, m_t = _cluster_arm("sum_treatment", sum_treatment, "size_treatment", size_treatment)
    with np.errstate(over="ignore", invalid="ignore"):
        (est_c, var_c), (est_t, var_t) = _arm_estimate(s_c, m_c, method), _arm_estimate(
            s_t, m_t, method)
        est_c, var_c, est_t, var_t = broadcast(sum_control=est_c, size_control=var_c,
                                               sum_treatment=est_t, size_treatment=var_t)
        effect, se = est_t - est_c, np.sqrt(var_c + var_t)
    names = "sum_control, size_control, sum_treatment and size_treatment"
    refuse_flat(np.where(np.isfinite(effect), se, np.inf), names)
    if method == "means":
        k_c, k_t = s_c.shape[-1], s_t.shape[-1]
        # Welch-Satterthwaite, (v_c + v_t)^2 / (v_c^2/(k_c-1) + v_t^2/(k_t-1)), written with the
        # shares w = v / (v_c + v_t) so that huge variances do not overflow
        w_c, w_t = var_c / (var_c + var_t), var_t / (var_c + var_t)
        df = 1 / (w_c**2 / (k_c - 1) + w_t**2 / (k_t - 1))
    else:
        df = None
    fields = wald(effect, se, alternative, alpha, df)
    return ClusterTest(
        **fields, effect=scalar_or_array(effect),
        df=scalar_or_array(np.full_like(effect, np.inf) if df is None else df),
        clusters_control=s_c.shape[-1], clusters_treatment=s_t.shape[-1],
        method=method, alternative=alternative, alpha=alpha,
    )

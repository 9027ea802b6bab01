r"""Cumulative analyses of a dashboard: one selection as of a day, or all of them at once.

The cumulative statistics as of day :math:`d` are running sums of the table of
:func:`~abteach.dashboard.daily_aggregates`; per arm

.. math:: \bar y = S / n, \qquad s^2 = \frac{Q - S^2 / n}{n - 1}.

A 0/1 metric (:math:`Q = S` on every row) is tested with the two-proportion z-test
(:func:`abteach.inference.ztest_proportions`), any other with Welch's t-test from the means
and standard deviations (:func:`abteach.inference.welch_ttest_from_stats`); the arm sizes go
through :func:`abteach.srm.srm_test`.

References
----------
Kohavi, R., Tang, D. & Xu, Y. (2020), *Trustworthy Online Controlled Experiments*,
Cambridge University Press, ch. 6-7 and 21.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from abteach._records import Record, format_number
from abteach._validate import check_alpha, check_choice, check_int
from abteach.dashboard.aggregates import (
    ALL_SEGMENTS,
    VARIANTS,
    _check_aggregates,
)
from abteach.inference import (
    MeansTTest,
    ProportionsZTest,
    welch_ttest_from_stats,
    ztest_proportions,
)
from abteach.srm import SRMTest, srm_test

TESTS = ("auto", "proportions", "welch")
_KEYS = ["experiment", "metric", "segment"]


def _binary_metrics(frame: pd.DataFrame) -> set:
    """Metrics whose every unit is 0 or 1: sum == sum_sq on every row (exact for counts)."""
    flags = (frame["sum"] == frame["sum_sq"]).groupby(frame["metric"]).all()
    return set(flags.index[flags.to_numpy()])


def _cumulative_arms(frame: pd.DataFrame) -> pd.DataFrame:
    """Running sums by day, segment "all" added, the two variants side by side.

    Rows (experiment, metric, segment, day); columns (statistic, variant). Days before both
    arms hold two units are dropped: no test is defined there.
    """
    everything = frame.groupby(["experiment", "metric", "variant", "day"], as_index=False)[
        ["n", "sum", "sum_sq"]
    ].sum()
    segments = frame if (frame["segment"] == ALL_SEGMENTS).all() else pd.concat(
        [frame, everything.assign(segment=ALL_SEGMENTS)], ignore_index=True
    )
    wide = segments.pivot_table(
        index=[*_KEYS, "day"], columns="variant", values=["n", "sum", "sum_sq"],
        aggfunc="sum", fill_value=0, observed=True,
    ).sort_index()
    cumulative = wide.groupby(level=_KEYS, observed=True).cumsum()
    enough = (cumulative["n"][list(VARIANTS)] >= 2).all(axis=1)
    return cumulative[enough]


def _arm_moments(n, s, ss):
    """Mean and standard deviation (n - 1 divisor) from n, sum and sum of squares."""
    mean = s / n
    variance = np.maximum(ss - s * mean, 0.0) / (n - 1)
    return mean, np.sqrt(variance)


def _test(n_c, s_c, ss_c, n_t, s_t, ss_t, proportions: bool, alpha: float):
    """The abteach test of one metric from the arms' sums (scalars or arrays)."""
    if proportions:
        return ztest_proportions(s_c, n_c, s_t, n_t, alpha=alpha)
    m_c, sd_c = _arm_moments(n_c, s_c, ss_c)
    m_t, sd_t = _arm_moments(n_t, s_t, ss_t)
    return welch_ttest_from_stats(m_c, sd_c, n_c, m_t, sd_t, n_t, alpha=alpha)


def _uses_proportions(test: str, metric: str, binary: set) -> bool:
    if test == "proportions" and metric not in binary:
        raise ValueError(
            f"test='proportions' needs a 0/1 metric, and {metric!r} is not one "
            "(sum != sum_sq on some row)"
        )
    return test == "proportions" or (test == "auto" and metric in binary)


@dataclass(frozen=True, repr=False, eq=False)
class DashboardAnalysis(Record):
    """Result of :func:`analyze`: the cumulative test of one selection as of ``day``.

    ``result`` is the full :class:`~abteach.inference.ProportionsZTest` or
    :class:`~abteach.inference.MeansTTest` and ``srm`` the :class:`~abteach.srm.SRMTest` of the arm sizes;
    the other fields copy their main numbers (treatment minus control; lifts are relative).
    """

    experiment: str
    metric: str
    segment: str
    day: int
    test: str
    n_control: int
    n_treatment: int
    mean_control: float
    mean_treatment: float
    effect: float
    ci_low: float
    ci_high: float
    pvalue: float
    lift: float
    lift_ci_low: float
    lift_ci_high: float
    srm_pvalue: float
    srm_mismatch: bool
    result: ProportionsZTest | MeansTTest = field(repr=False)
    srm: SRMTest = field(repr=False)

    def summary(self) -> str:
        """One line: the selection, the lift with its interval, the p-value, the SRM check."""
        level = format_number(100 * (1 - self.result.alpha), 4)
        srm = "SRM!" if self.srm_mismatch else "split ok"
        return (
            f"{self.experiment} / {self.metric} / {self.segment}, day {self.day}: lift "
            f"{100 * self.lift:+.2f}% ({level}% CI {100 * self.lift_ci_low:+.2f}% to "
            f"{100 * self.lift_ci_high:+.2f}%), p = {format_number(self.pvalue, 3)}; "
            f"SRM p = {self.srm_pvalue:.2g} ({srm})"
        )

    def explain(self) -> str:
        """The selection, the test's derivation and the SRM check's, numbers plugged in."""
        return "\n".join([
            (f"Cumulative analysis of {self.experiment!r}, metric {self.metric!r}, segment "
             f"{self.segment!r}, days 1 to {self.day} ({self.n_control} control and "
             f"{self.n_treatment} treatment units)"),
            "Means and SDs from the running sums: mean = S / n, sd^2 = (Q - S^2 / n) / (n - 1)",
            self.result.explain(),
            self.srm.explain(),
        ])


def _selection(frame: pd.DataFrame, experiment, metric, segment) -> pd.DataFrame:
    """Rows of one experiment and metric (all segments when ``segment`` is "all")."""
    check_choice("experiment", experiment, sorted(frame["experiment"].unique()))
    rows = frame[frame["experiment"] == experiment]
    check_choice("metric", metric, sorted(rows["metric"].unique()))
    rows = rows[rows["metric"] == metric]
    segments = sorted(set(rows["segment"]) - {ALL_SEGMENTS})
    check_choice("segment", segment, [ALL_SEGMENTS, *segments])
    return rows if segment == ALL_SEGMENTS else rows[rows["segment"] == segment]


def analyze(
    aggregates,
    *,
    experiment: str,
    metric: str,
    segment: str = ALL_SEGMENTS,
    day=None,
    alpha: float = 0.05,
    expected_ratios=None,
    test: str = "auto",
) -> DashboardAnalysis:
    r"""The cumulative effect of one experiment and metric (and segment) as of a day, with SRM.

    Sums the rows of the selection over days 1 to ``day`` (and over segments for
    ``"all"``), turns them into per-arm means and standard deviations
    (:math:`\bar y = S/n`, :math:`s^2 = (Q - S^2/n)/(n-1)`) and runs the test: the
    two-proportion z-test for a 0/1 metric (:func:`abteach.inference.ztest_proportions` on S
    successes of n), Welch's t-test otherwise (:func:`abteach.inference.welch_ttest_from_stats`).
    The arm sizes are checked with :func:`abteach.srm.srm_test`.

    Parameters
    ----------
    aggregates : pandas.DataFrame
        The table of :func:`~abteach.dashboard.daily_aggregates`.
    experiment, metric : str
        The selection; an unknown name raises a ValueError listing the valid ones.
    segment : str
        A segment, or ``"all"`` (default) for every unit.
    day : int, optional
        Last day included (1 to the experiment's last day); default the last day.
    alpha : float
        Two-sided significance level; the intervals have confidence 1 - alpha.
    expected_ratios : sequence of two floats, optional
        Designed shares of control and treatment for the SRM check (default 50/50).
    test : {"auto", "proportions", "welch"}
        "auto" uses the z-test for 0/1 metrics (``sum == sum_sq`` on every row) and Welch's
        test otherwise.

    Returns
    -------
    DashboardAnalysis
    """
    frame = _check_aggregates(aggregates)
    alpha = check_alpha(alpha)
    test = check_choice("test", test, TESTS)
    rows = _selection(frame, experiment, metric, segment)
    last = int(rows["day"].max())
    if day is None:
        day = last
    day = check_int("day", day)
    if not 1 <= day <= last:
        raise ValueError(f"day must be between 1 and {last} for {experiment!r}, got {day!r}")
    proportions = _uses_proportions(test, metric, _binary_metrics(frame))
    arms = rows[rows["day"] <= day].groupby("variant")[["n", "sum", "sum_sq"]].sum()
    arms = arms.reindex(list(VARIANTS), fill_value=0)
    (n_c, s_c, ss_c), (n_t, s_t, ss_t) = arms.to_numpy(float)
    if min(n_c, n_t) < 2:
        raise ValueError(
            f"day {day} of {experiment!r}, segment {segment!r} has fewer than 2 units in an "
            f"arm ({int(n_c)} control, {int(n_t)} treatment): no test is defined; pick a "
            "later day"
        )
    result = _test(n_c, s_c, ss_c, n_t, s_t, ss_t, proportions, alpha)
    srm = srm_test([int(n_c), int(n_t)], expected_ratios)
    means = (result.p_control, result.p_treatment) if proportions else (
        result.mean_control, result.mean_treatment
    )
    return DashboardAnalysis(
        experiment=experiment, metric=metric, segment=segment, day=day,
        test="two-proportion z-test" if proportions else "Welch t-test",
        n_control=int(n_c), n_treatment=int(n_t),
        mean_control=float(means[0]), mean_treatment=float(means[1]),
        effect=result.effect, ci_low=result.ci_low, ci_high=result.ci_high,
        pvalue=result.pvalue, lift=result.lift,
        lift_ci_low=result.lift_ci_low, lift_ci_high=result.lift_ci_high,
        srm_pvalue=srm.pvalue, srm_mismatch=srm.mismatch, result=result, srm=srm,
    )



def analyse(aggregates, **selection) -> DashboardAnalysis:
    """Deprecated British spelling of :func:`analyze`; it will be removed in the next release.

    Emits a DeprecationWarning and returns ``analyze(aggregates, **selection)``.
    """
    warnings.warn(
        "abteach.analyse is deprecated and will be removed in the next release; use "
        "abteach.analyze (American spelling, as in the book)",
        DeprecationWarning,
        stacklevel=2,
    )
    return analyze(aggregates, **selection)


def cumulative_effects(aggregates, *, alpha: float = 0.05, expected_ratios=None) -> pd.DataFrame:
    """:func:`analyze` for every experiment, metric, segment (``"all"`` included) and day.

    The tests run once per metric kind on whole arrays (the same abteach functions as
    :func:`analyze`, with ``test="auto"``). Days before both arms of a selection hold two
    units are left out.

    Returns
    -------
    pandas.DataFrame
        One row per (experiment, metric, segment, day), with ``n_control``, ``n_treatment``,
        ``mean_control``, ``mean_treatment``, ``effect``, ``ci_low``, ``ci_high``,
        ``pvalue``, ``lift``, ``lift_ci_low``, ``lift_ci_high``, ``srm_pvalue`` and
        ``srm_mismatch``.
    """
    frame = _check_aggregates(aggregates)
    return _effects(frame, _binary_metrics(frame), check_alpha(alpha), expected_ratios)


def _effects(frame: pd.DataFrame, binary: set, alpha: float, expected_ratios) -> pd.DataFrame:
    """The core of :func:`cumulative_effects`; metrics in ``binary`` get the z-test."""
    arms = _cumulative_arms(frame)
    n = arms["n"][list(VARIANTS)].to_numpy(float)
    s = arms["sum"][list(VARIANTS)].to_numpy(float)
    ss = arms["sum_sq"][list(VARIANTS)].to_numpy(float)
    is_binary = arms.index.get_level_values("metric").isin(binary)
    out = pd.DataFrame(index=arms.index)
    out["n_control"], out["n_treatment"] = n[:, 0].astype(np.int64), n[:, 1].astype(np.int64)
    for proportions in (True, False):
        rows = is_binary == proportions
        if not rows.any():
            continue
        result = _test(n[rows, 0], s[rows, 0], ss[rows, 0], n[rows, 1], s[rows, 1], ss[rows, 1],
                       proportions, alpha)
        means = (result.p_control, result.p_treatment) if proportions else (
            result.mean_control, result.mean_treatment
        )
        columns = {
            "mean_control": means[0], "mean_treatment": means[1],
            **{name: getattr(result, name) for name in (
                "effect", "ci_low", "ci_high", "pvalue", "lift", "lift_ci_low", "lift_ci_high"
            )},
        }
        for name, values in columns.items():
            out.loc[rows, name] = np.atleast_1d(values)
    srm = srm_test(n.astype(np.int64), expected_ratios)
    out["srm_pvalue"] = np.atleast_1d(srm.pvalue)
    out["srm_mismatch"] = np.atleast_1d(srm.mismatch)
    return out.reset_index()

"""Sample ratio mismatch (SRM): are the arms as large as the design says?

An experiment designed to split users 50/50 (or 10/90, or 1/3 each) should see arm sizes
close to those ratios; a split far from them, by more than chance allows, means that users
were lost or added unevenly (a redirect that drops slow browsers, a bot filter, a logging bug,
a cache serving one arm), and every metric of the experiment is then suspect. The check is a
goodness-of-fit test of the arm counts against the designed ratios, run before reading any
metric, and usually every day.

Threshold. abteach flags an SRM when p < 0.0005 (``DEFAULT_THRESHOLD``), the value used by
Fabijan et al. (2019); the literature uses 0.0005 to 0.001. It is strict because the check
runs over and over (every day, every segment, every experiment of a platform) and a false
alarm stops an experiment and sends engineers hunting a bug that is not there, while a real
SRM in a large experiment gives a tiny p-value (Kohavi et al.'s example: 1.8e-6). Checked
cumulatively on each of 30 days, a healthy experiment raises a false alarm with probability
below 30 x 0.0005 = 1.5% (about 0.6% measured); at 0.05 the same routine raises one in about
28% of healthy experiments, and checking each day's own counts in 78%
(:func:`srm_false_alarm_rate` measures these rates).

References
----------
Kohavi, R., Tang, D. & Xu, Y. (2020), *Trustworthy Online Controlled Experiments*, Cambridge
University Press, ch. 3 and 21.
Fabijan, A., Gupchup, J., Gupta, S., Omhover, J., Qin, W., Vermeer, L. & Dmitriev, P. (2019),
Diagnosing sample ratio mismatch in online controlled experiments: a taxonomy and rules of
thumb for practitioners, *KDD 2019*.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from abteach._records import Record, format_number
from abteach._validate import (
    as_float_array,
    as_generator,
    check_choice,
    check_count,
    check_int,
    check_open_unit,
    check_scalar,
    check_work,
    first_bad,
    scalar_or_array,
)

__all__ = [
    "DEFAULT_THRESHOLD",
    "SRM_METHODS",
    "SRMFalseAlarms",
    "SRMMonitor",
    "SRMTest",
    "srm_false_alarm_rate",
    "srm_monitor",
    "srm_test",
]

SRM_METHODS = ("chi2", "exact")
#: p-value below which a sample ratio mismatch is flagged (Fabijan et al., 2019).
DEFAULT_THRESHOLD = 0.0005
# Largest number of outcomes the exact multinomial test enumerates (about 50 MB per arm).
_MAX_OUTCOMES = 2_000_000
# Relative tolerance when comparing outcome probabilities with the observed one: outcomes
# as likely as the observed one, up to rounding, count as "at least as extreme" (R's
# binom.test and scipy.stats.binomtest use the same factor).
_RELATIVE_ERROR = 1 + 1e-7


# --------------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------------


def _check_threshold(threshold) -> float:
    return check_scalar("threshold", check_open_unit("threshold", threshold))


def _check_counts(name: str, counts, *, minimum_ndim: int = 1) -> np.ndarray:
    array = check_count(name, counts)
    if array.ndim < minimum_ndim or array.shape[-1] < 2:
        raise ValueError(
            f"{name} must hold the counts of at least two arms along its last axis, got "
            f"shape {array.shape}"
        )
    return array


def _check_ratios(expected_ratios, arms: int) -> np.ndarray:
    """Designed shares of the arms, one per arm along the last axis, > 0, summing to 1."""
    if expected_ratios is None:
        return np.full(arms, 1 / arms)
    ratios = as_float_array("expected_ratios", expected_ratios)
    if ratios.ndim == 0 or ratios.shape[-1] != arms:
        raise ValueError(
            f"expected_ratios must give one ratio per arm ({arms} arms), got "
            f"{expected_ratios!r}"
        )
    bad = ratios <= 0
    if bad.any():
        raise ValueError(f"expected_ratios must be > 0, got {first_bad(ratios, bad)}")
    total = ratios.sum(axis=-1)
    off = np.abs(total - 1) > 1e-9
    if off.any():
        raise ValueError(
            f"expected_ratios must sum to 1, got a sum of {first_bad(total, off)} "
            f"(from {expected_ratios!r})"
        )
    return ratios / total[..., None]


# --------------------------------------------------------------------------------------------
# p-values
# --------------------------------------------------------------------------------------------


def _pearson(counts: np.ndarray, shares: np.ndarray):
    """Pearson's X^2 = sum (O - E)^2 / E and the expected counts E = N q (X^2 = 0 if N = 0)."""
    total = counts.sum(axis=-1, keepdims=True)
    expected = total * shares
    empty = expected == 0
    statistic = np.sum((counts - expected) ** 2 / np.where(empty, 1.0, expected), axis=-1)
    return statistic, expected


def _binomial_pvalue(x: np.ndarray, n: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Two-sided exact binomial p-value, vectorised: the total probability of the outcomes no
    more likely than x (R's binom.test, scipy.stats.binomtest).

    The pmf rises up to the mode and falls after it, so the outcomes on the far side of
    n p that are no more likely than x form one tail; its end is found by bisection.
    """
    x, n, p = np.broadcast_arrays(x, n, p)
    mean = n * p
    bound = stats.binom.pmf(x, n, p) * _RELATIVE_ERROR
    low_side = x < mean
    # Far side: [ceil(mean), n] when x is low (the pmf does not increase there: the mode
    # floor((n + 1) p) is at most ceil(mean)), [0, floor(mean)] when x is high (the pmf does
    # not decrease there). Bisect for the first (low side) or last (high side) outcome whose
    # pmf is <= bound; the brackets start one step outside the range, as sentinels.
    lo = np.where(low_side, np.ceil(mean) - 1, -1.0)
    hi = np.where(low_side, n + 1.0, np.floor(mean) + 1)
    while True:
        active = hi - lo > 1
        if not active.any():
            break
        mid = np.floor((lo + hi) / 2)
        small = stats.binom.pmf(mid, n, p) <= bound
        move_hi = np.where(low_side, small, ~small) & active
        hi = np.where(move_hi, mid, hi)
        lo = np.where(active & ~move_hi, mid, lo)
    # Low side: P(X <= x) + P(X >= hi); high side: P(X <= lo) + P(X >= x).
    if_low = stats.binom.cdf(x, n, p) + stats.binom.sf(hi - 1, n, p)
    if_high = stats.binom.cdf(lo, n, p) + stats.binom.sf(x - 1, n, p)
    pvalue = np.where(low_side, if_low, if_high)
    return np.where(x == mean, 1.0, np.minimum(pvalue, 1.0))


def _compositions(total: int, arms: int) -> np.ndarray:
    """Every way of splitting ``total`` units over ``arms`` arms, one row each."""
    rows = np.zeros((1, 0), dtype=np.int64)
    remaining = np.array([total], dtype=np.int64)
    for _ in range(arms - 1):
        choices = remaining + 1
        parent = np.repeat(np.arange(len(rows)), choices)
        value = np.arange(choices.sum()) - np.repeat(np.cumsum(choices) - choices, choices)
        rows = np.column_stack([rows[parent], value])
        remaining = remaining[parent] - value
    return np.column_stack([rows, remaining])


def _multinomial_log_pmf(outcomes: np.ndarray, log_shares: np.ndarray) -> np.ndarray:
    total = outcomes.sum(axis=-1)
    return (special.gammaln(total + 1) - special.gammaln(outcomes + 1).sum(axis=-1)
            + np.sum(np.where(outcomes > 0, outcomes * log_shares, 0.0), axis=-1))


def _multinomial_pvalue(counts: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Exact multinomial test: the total probability of the splits no more likely than the
    observed one, by enumerating every split of the same total (one enumeration per distinct
    total and design)."""
    arms = counts.shape[-1]
    flat_counts = counts.reshape(-1, arms)
    flat_shares = np.broadcast_to(shares, counts.shape).reshape(-1, arms)
    keys = np.column_stack([flat_counts.sum(axis=1), flat_shares])
    designs, group = np.unique(keys, axis=0, return_inverse=True)
    outcomes_needed = [int(special.comb(int(t) + arms - 1, arms - 1, exact=True))
                       for t in designs[:, 0]]
    if sum(outcomes_needed) > _MAX_OUTCOMES:
        raise ValueError(
            f"method='exact' with {arms} arms would enumerate {sum(outcomes_needed):,} splits "
            f"of the counts (limit {_MAX_OUTCOMES:,}); it is meant for small counts. Use "
            "method='chi2', accurate when every expected count is 5 or more"
        )
    pvalue = np.empty(len(flat_counts))
    for index, design in enumerate(designs):
        members = group.ravel() == index
        log_shares = np.log(design[1:])
        outcomes = _compositions(int(design[0]), arms)
        log_pmf = _multinomial_log_pmf(outcomes, log_shares)
        observed = _multinomial_log_pmf(flat_counts[members], log_shares)
        ordered = np.sort(log_pmf)
        cumulative = np.cumsum(np.exp(ordered))
        # Number of outcomes no more likely than each observed split (up to rounding).
        position = np.searchsorted(ordered, observed + np.log(_RELATIVE_ERROR), side="right")
        pvalue[members] = np.where(position > 0, cumulative[np.maximum(position - 1, 0)], 0.0)
    return np.minimum(pvalue, 1.0).reshape(counts.shape[:-1])


def _srm_core(counts: np.ndarray, shares: np.ndarray, method: str):
    """(X^2, p-value, expected counts) for counts (..., k); a table without units gets
    X^2 = 0 and p = 1."""
    statistic, expected = _pearson(counts, shares)
    empty = counts.sum(axis=-1) == 0
    if method == "chi2":
        pvalue = stats.chi2.sf(statistic, counts.shape[-1] - 1)
    elif counts.shape[-1] == 2:
        shares = np.broadcast_to(shares, counts.shape)
        pvalue = _binomial_pvalue(counts[..., 0], counts.sum(axis=-1), shares[..., 0])
    else:
        pvalue = _multinomial_pvalue(counts, shares)
    return statistic, np.where(empty, 1.0, pvalue), expected


def _verdict(pvalue, threshold: float) -> str:
    if np.ndim(pvalue) != 0:
        flagged = np.asarray(pvalue) < threshold
        return (
            f"sample ratio mismatch in {int(flagged.sum())} of {flagged.size} tables "
            f"(p < {format_number(threshold)})"
        )
    if pvalue < threshold:
        return (
            f"SAMPLE RATIO MISMATCH: p = {format_number(pvalue, 4)} < "
            f"{format_number(threshold)}. The arms are not the sizes the design promised: "
            "find the cause (assignment, redirects, bot filtering, logging) before trusting "
            "any metric of this experiment."
        )
    return (
        f"no sample ratio mismatch detected: p = {format_number(pvalue, 4)} >= "
        f"{format_number(threshold)}"
    )


# --------------------------------------------------------------------------------------------
# One check
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False, eq=False)
class SRMTest(Record):
    """Result of :func:`srm_test`.

    ``statistic`` is always Pearson's X^2 (df = arms - 1); ``pvalue`` comes from the chosen
    ``method``. ``mismatch`` is ``pvalue < threshold``. Per-arm fields keep the arms on the
    last axis; the others have the shape of the leading axes (scalars for one table).
    """

    statistic: float | np.ndarray
    pvalue: float | np.ndarray
    df: int
    mismatch: bool | np.ndarray
    counts: np.ndarray
    expected_counts: np.ndarray
    observed_shares: np.ndarray
    expected_shares: np.ndarray
    threshold: float
    method: str
    verdict: str

    def explain(self) -> str:
        """Plain-text derivation with the numbers plugged in (a summary for many tables)."""
        how = {
            "chi2": f"1 - F_chi2(X^2; {self.df})",
            "exact": (
                "exact binomial test: total probability of the splits no more likely than "
                "the observed one" if self.counts.shape[-1] == 2 else
                "exact multinomial test: total probability of the splits no more likely "
                "than the observed one"
            ),
        }[self.method]
        head = (
            f"Sample ratio mismatch check, {self.counts.shape[-1]} arms, method "
            f"{self.method!r}, threshold {format_number(self.threshold)}"
        )
        if np.ndim(self.pvalue) != 0:
            return "\n".join([f"{np.size(self.pvalue)} tables. " + head, f"  {self.verdict}"])
        f = lambda value: format_number(value, 4)  # noqa: E731
        lines = [head, f"  total units N = {int(self.counts.sum())}"]
        for arm, (o, e, share, q) in enumerate(zip(
            self.counts, self.expected_counts, self.observed_shares, self.expected_shares
        )):
            lines.append(
                f"  arm {arm + 1}: observed {int(o)} ({f(100 * share)}%), expected N * "
                f"{f(q)} = {f(e)}, (O - E)^2 / E = {f((o - e) ** 2 / e)}"
            )
        if self.counts.shape[-1] == 2 and self.counts[0] > 0:
            lines.append(
                f"  ratio arm 2 / arm 1 = {f(self.counts[1] / self.counts[0])}, "
                f"designed {f(self.expected_shares[1] / self.expected_shares[0])}"
            )
        lines += [
            f"  X^2 = sum (O - E)^2 / E = {f(self.statistic)}, df = {self.df}",
            f"  p-value = {how} = {f(self.pvalue)}",
            f"  {self.verdict}",
        ]
        return "\n".join(lines)


def srm_test(
    counts,
    expected_ratios=None,
    *,
    method: str = "chi2",
    threshold: float = DEFAULT_THRESHOLD,
) -> SRMTest:
    r"""Check the arm sizes of an experiment against its designed split.

    With observed counts :math:`O_i` of N units and designed shares :math:`q_i`, the
    expected counts are :math:`E_i = N q_i` and Pearson's statistic is
    :math:`X^2 = \sum_i (O_i - E_i)^2 / E_i`, chi-square with k - 1 degrees of freedom under
    correct allocation (``method="chi2"``, the standard SRM check, as
    ``scipy.stats.chisquare``).

    ``method="exact"`` computes the p-value without the chi-square approximation, for small
    experiments: with two arms the two-sided exact binomial test (outcomes no more likely
    than the observed one, as R's ``binom.test`` and ``scipy.stats.binomtest``; any N);
    with three or more arms the exact multinomial test, which enumerates every split of the
    N units (C(N + k - 1, k - 1) of them, limited to 2 million: a few thousand units for
    three arms). No Monte Carlo is involved. The statistic reported is still X^2.

    Parameters
    ----------
    counts : array of int, shape (..., k)
        Units per arm, arms along the last axis (k >= 2); leading axes are separate tables
        (days, experiments). Every table must contain at least one unit.
    expected_ratios : array of float, shape (k,) or (..., k), optional
        Designed share of each arm, > 0 and summing to 1 (e.g. ``[0.1, 0.9]``). Default:
        equal shares.
    method : {"chi2", "exact"}
    threshold : float
        Flag a mismatch when ``pvalue < threshold``; default 0.0005 (see the module
        docstring for why it is strict).

    Returns
    -------
    SRMTest
        ``statistic``, ``pvalue``, ``df``, ``mismatch``, ``counts``, ``expected_counts``,
        ``observed_shares``, ``expected_shares``, ``threshold``, ``method``, ``verdict`` and
        :meth:`~SRMTest.explain`.

    References
    ----------
    Kohavi, Tang & Xu (2020), ch. 21 (the 821,588 vs 815,482 example, p = 1.8e-6).
    Fabijan et al. (2019), KDD (taxonomy of causes, the 0.0005 threshold).

    Examples
    --------
    >>> res = srm_test([821588, 815482])
    >>> print(f"{res.pvalue:.1e} {res.mismatch}")
    1.8e-06 True
    """
    method = check_choice("method", method, SRM_METHODS)
    threshold = _check_threshold(threshold)
    observed = _check_counts("counts", counts)
    totals = observed.sum(axis=-1)
    if (totals == 0).any():
        raise ValueError(
            "counts must contain at least one unit, got a total of "
            f"{first_bad(totals, totals == 0)}"
        )
    shares = _check_ratios(expected_ratios, observed.shape[-1])
    try:
        shares = np.broadcast_to(shares, observed.shape)
    except ValueError:
        raise ValueError(
            f"expected_ratios of shape {shares.shape} do not match counts of shape "
            f"{observed.shape}"
        ) from None
    statistic, pvalue, expected = _srm_core(observed, shares, method)
    return SRMTest(
        statistic=scalar_or_array(statistic),
        pvalue=scalar_or_array(pvalue),
        df=observed.shape[-1] - 1,
        mismatch=bool(pvalue < threshold) if pvalue.ndim == 0 else pvalue < threshold,
        counts=np.array(observed),
        expected_counts=expected,
        observed_shares=observed / observed.sum(axis=-1, keepdims=True),
        expected_shares=np.array(shares),
        threshold=threshold,
        method=method,
        verdict=_verdict(scalar_or_array(pvalue), threshold),
    )


# --------------------------------------------------------------------------------------------
# Daily monitoring
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False, eq=False)
class SRMMonitor(Record):
    """Result of :func:`srm_monitor`. Per-day fields have the days on the last axis (before
    the arms for counts); ``first_alarm_day`` is 1-based, 0 when the cumulative check never
    fired."""

    daily_pvalue: np.ndarray
    cumulative_pvalue: np.ndarray
    daily_statistic: np.ndarray
    cumulative_statistic: np.ndarray
    daily_alarm: np.ndarray
    cumulative_alarm: np.ndarray
    first_alarm_day: int | np.ndarray
    daily_counts: np.ndarray
    cumulative_counts: np.ndarray
    expected_shares: np.ndarray
    threshold: float
    method: str
    verdict: str

    def explain(self) -> str:
        """A day-by-day table (a summary when several experiments are monitored)."""
        head = (
            f"SRM monitoring over {self.daily_pvalue.shape[-1]} days, method {self.method!r}, "
            f"threshold {format_number(self.threshold)}"
        )
        if self.daily_pvalue.ndim > 1:
            return "\n".join([head, f"  {self.verdict}"])
        f = lambda value: format_number(value, 4)  # noqa: E731
        lines = [head, "  day  counts today  p today  cumulative counts  p cumulative"]
        for day in range(self.daily_pvalue.shape[-1]):
            flag = "  <- SRM" if self.cumulative_alarm[day] else ""
            lines.append(
                f"  {day + 1:>3}  {'/'.join(str(int(c)) for c in self.daily_counts[day])}"
                f"  {f(self.daily_pvalue[day])}"
                f"  {'/'.join(str(int(c)) for c in self.cumulative_counts[day])}"
                f"  {f(self.cumulative_pvalue[day])}{flag}"
            )
        lines.append(f"  {self.verdict}")
        return "\n".join(lines)


def srm_monitor(
    daily_counts,
    expected_ratios=None,
    *,
    method: str = "chi2",
    threshold: float = DEFAULT_THRESHOLD,
) -> SRMMonitor:
    """Daily and cumulative SRM checks over the days of an experiment, in one call.

    Day d's daily check tests the units that arrived on day d; its cumulative check tests
    every unit up to day d (the counts a dashboard shows). Each check is :func:`srm_test`'s.
    Checking every day is checking many times: even with correct allocation, the chance that
    some check fires grows with the number of checks (the peeking problem of chapter 10; for
    cumulative checks of two arms at 0.05 it is 19% over 10 days), which is one reason the
    threshold is strict. :func:`srm_false_alarm_rate` measures it.

    Parameters
    ----------
    daily_counts : array of int, shape (..., days, k)
        Units assigned to each of the k arms on each day; leading axes are separate
        experiments. A day without any unit has p-value 1.
    expected_ratios, method, threshold
        As in :func:`srm_test`; the design is the same on every day.

    Returns
    -------
    SRMMonitor
        ``daily_pvalue``, ``cumulative_pvalue`` (shape (..., days)), the statistics,
        ``daily_alarm`` and ``cumulative_alarm`` (p < threshold), ``first_alarm_day``
        (1-based, 0 if never), the daily and cumulative counts, ``verdict`` and
        :meth:`~SRMMonitor.explain`.
    """
    method = check_choice("method", method, SRM_METHODS)
    threshold = _check_threshold(threshold)
    daily = _check_counts("daily_counts", daily_counts, minimum_ndim=2)
    shares = _check_ratios(expected_ratios, daily.shape[-1])
    if shares.ndim > 1:
        raise ValueError(
            "expected_ratios must be one design for every day (shape "
            f"({daily.shape[-1]},)), got shape {shares.shape}"
        )
    cumulative = np.cumsum(daily, axis=-2)
    daily_statistic, daily_pvalue, _ = _srm_core(daily, shares, method)
    cumulative_statistic, cumulative_pvalue, _ = _srm_core(cumulative, shares, method)
    alarm = cumulative_pvalue < threshold
    first = np.where(alarm.any(axis=-1), np.argmax(alarm, axis=-1) + 1, 0)
    if alarm.ndim == 1:
        day = int(first)
        verdict = (
            f"cumulative check first below {format_number(threshold)} on day {day}: "
            "sample ratio mismatch" if day else
            f"no cumulative check below {format_number(threshold)}: no sample ratio "
            "mismatch detected"
        )
    else:
        verdict = (
            f"cumulative alarm in {int(alarm.any(axis=-1).sum())} of "
            f"{int(np.prod(alarm.shape[:-1]))} experiments"
        )
    return SRMMonitor(
        daily_pvalue=daily_pvalue,
        cumulative_pvalue=cumulative_pvalue,
        daily_statistic=daily_statistic,
        cumulative_statistic=cumulative_statistic,
        daily_alarm=daily_pvalue < threshold,
        cumulative_alarm=alarm,
        first_alarm_day=int(first) if np.ndim(first) == 0 else first,
        daily_counts=np.array(daily),
        cumulative_counts=cumulative,
        expected_shares=shares,
        threshold=threshold,
        method=method,
        verdict=verdict,
    )


@dataclass(frozen=True, repr=False, eq=False)
class SRMFalseAlarms(Record):
    """Result of :func:`srm_false_alarm_rate`: shares of healthy simulated experiments in
    which a check fired, with their Monte Carlo standard errors."""

    any_cumulative: float
    any_daily: float
    final_only: float
    se_any_cumulative: float
    se_any_daily: float
    se_final_only: float
    units_per_day: int
    days: int
    threshold: float
    method: str
    n_experiments: int


#: The most experiments one call of :func:`srm_false_alarm_rate` simulates.
MAX_EXPERIMENTS = 1_000_000
#: Working numbers counted per simulated count (experiment x day x arm) of
#: :func:`srm_false_alarm_rate`: the daily and cumulative counts, expected counts, statistics,
#: p-values and alarms (about 20 numbers), with a margin for the time the tests take (the
#: exact test costs more), so that any call the size check lets through finishes in a few
#: seconds. The exact test's cost (320 for cumulative counts below 256) doubles every 5 bits
#: of the largest cumulative count.
_CHI2_COST, _EXACT_COST = 128, 320


def srm_false_alarm_rate(
    units_per_day,
    days,
    expected_ratios=None,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    method: str = "chi2",
    n_experiments: int = 10_000,
    rng,
) -> SRMFalseAlarms:
    """Simulate healthy experiments and count how often repeated SRM checks raise an alarm.

    Each of ``n_experiments`` experiments assigns ``units_per_day`` units per day for
    ``days`` days with the designed shares (counts ~ Multinomial(units_per_day,
    expected_ratios) per day, so there is no mismatch), and is checked by
    :func:`srm_monitor`. Returns the share of experiments in which

    * ``any_cumulative``: some cumulative check fired (a dashboard looked at daily),
    * ``any_daily``: some day's own check fired,
    * ``final_only``: the single cumulative check on the last day fired (about threshold).

    With two arms, equal daily traffic and many units per day, ``any_cumulative`` is the
    false-positive rate of peeking at accumulating data (Armitage, McPherson & Rowe, 1969):
    about 0.19 for 10 daily checks at 0.05 (PK01 of the course's published numbers).

    Parameters
    ----------
    units_per_day : int
        Units assigned per day (>= 1).
    days : int
        Number of daily checks (>= 1).
    expected_ratios : array of float, shape (k,), optional
        Designed shares (> 0, summing to 1). Default: two equal arms.
    threshold, method
        As in :func:`srm_monitor`.
    n_experiments : int
        Number of simulated experiments, at most 1,000,000, and n_experiments * days * arms
        at most about 2.1 million counts (fewer with ``method="exact"``).
    rng : numpy.random.Generator or int
        Source of randomness.

    Returns
    -------
    SRMFalseAlarms
        The three rates and their standard errors sqrt(r (1 - r) / n_experiments).
    """
    units = check_int("units_per_day", units_per_day, minimum=1, maximum=2**53)
    days = check_int("days", days, minimum=1)
    size = check_int("n_experiments", n_experiments, minimum=1, maximum=MAX_EXPERIMENTS)
    threshold = _check_threshold(threshold)
    method = check_choice("method", method, SRM_METHODS)
    generator = as_generator(rng)
    if expected_ratios is None:
        shares = np.full(2, 0.5)
    else:
        ratios = as_float_array("expected_ratios", expected_ratios)
        if ratios.ndim != 1:
            raise ValueError(
                f"expected_ratios must be one design (one ratio per arm), got {expected_ratios!r}"
            )
        shares = _check_ratios(ratios, ratios.size)
    # The exact binomial test bisects over the outcomes (one step per bit of the largest
    # cumulative count) and scipy's binomial pmf is slower for large counts: measured, its
    # time doubles about every 5.5 bits beyond 8.
    bits = max(8, (units * days).bit_length())
    cost = _CHI2_COST if method == "chi2" else round(_EXACT_COST * 2 ** ((bits - 8) / 5))
    check_work(f"n_experiments * days * arms * {cost} working numbers",
               float(size) * days * shares.size * cost)
    counts = generator.multinomial(units, shares, size=(size, days))
    monitor = srm_monitor(counts, shares, method=method, threshold=threshold)
    rates = {
        "any_cumulative": float(monitor.cumulative_alarm.any(axis=-1).mean()),
        "any_daily": float(monitor.daily_alarm.any(axis=-1).mean()),
        "final_only": float(monitor.cumulative_alarm[:, -1].mean()),
    }
    return SRMFalseAlarms(
        **rates,
        **{f"se_{name}": float(np.sqrt(rate * (1 - rate) / size)) for name, rate in rates.items()},
        units_per_day=units,
        days=days,
        threshold=threshold,
        method=method,
        n_experiments=size,
    )

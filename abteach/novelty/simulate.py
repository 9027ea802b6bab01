r"""Seeded experiments with a known novelty, primacy or stable effect curve."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from abteach._records import Record, brief as _f
from abteach._validate import (
    as_float_array,
    as_generator,
    check_choice,
    check_closed_unit,
    check_count,
    check_int,
    check_nonnegative,
    check_positive,
    check_scalar,
    check_work,
)
from abteach.novelty._series import _exp_decay
from abteach.novelty.daily import DailyEffects, clustered_daily_effects, daily_effects

__all__ = [
    "METRICS",
    "PROFILES",
    "SimulatedDailyEffects",
    "SimulatedUserDays",
    "simulate_daily_effects",
    "simulate_user_days",
]

PROFILES = ("novelty", "primacy", "stable")
METRICS = ("binary", "continuous")


@dataclass(frozen=True, repr=False, eq=False)
class SimulatedDailyEffects(Record):
    """Sufficient statistics of simulated experiments, per arm, calendar day and age.

    The cell arrays have shape ``leading + (n_days, n_days)``: entry ``[..., d, k]`` holds
    the users active on calendar day d who were first exposed k days earlier (0 where
    k > d). ``sum_sq_*`` are None for a binary metric (a 0/1 value is its own square).
    ``true_effect_by_exposure_day[k]`` is a + b exp(-k / tau);
    ``true_effect_by_calendar_day[d]`` is the average of the age effects weighted by the
    expected number of users of each age active on day d: the value a calendar-day estimate
    targets.
    """

    n_control: np.ndarray
    sum_control: np.ndarray
    sum_sq_control: np.ndarray | None
    n_treatment: np.ndarray
    sum_treatment: np.ndarray
    sum_sq_treatment: np.ndarray | None
    true_effect_by_exposure_day: np.ndarray
    true_effect_by_calendar_day: np.ndarray
    new_users: np.ndarray
    metric: str
    profile: str
    long_run_effect: float
    amplitude: float
    tau: float | None
    baseline: float
    sd: float | None
    return_rate: float

    @property
    def n_days(self) -> int:
        """Length of the experiment in days."""
        return self.new_users.size

    def _effects(self, select, hint: str) -> DailyEffects:
        """daily_effects of the cells reduced by ``select`` (cell array -> (..., T) sums)."""
        def cells(name):
            array = getattr(self, name)
            return None if array is None else select(array)

        n_c, n_t = cells("n_control"), cells("n_treatment")
        minimum = 1 if self.metric == "binary" else 2
        empty = (n_c < minimum) | (n_t < minimum)
        if empty.any():
            day = int(np.argwhere(empty)[0][-1])
            raise ValueError(
                f"day {day} has fewer than {minimum} users in an arm (in at least one "
                f"experiment): {hint.format(day=day)}, or simulate more users"
            )
        return daily_effects(
            np.arange(n_c.shape[-1]), n_c, cells("sum_control"), n_t, cells("sum_treatment"),
            sum_sq_control=cells("sum_sq_control"), sum_sq_treatment=cells("sum_sq_treatment"),
        )

    def by_exposure_day(self, *, max_day: int | None = None) -> DailyEffects:
        """Effects by days since first exposure 0, 1, ..., ``max_day`` (default: all), all
        calendar days pooled.

        Every point compares users of the same age in the experiment: this series shows the
        decay a + b exp(-t / tau) itself. Late ages hold only the earliest cohorts, so
        their standard errors grow. Points share returning users (see :mod:`abteach.novelty`).
        """
        days = self.n_days if max_day is None else check_int("max_day", max_day,
                                                              minimum=0) + 1
        if days > self.n_days:
            raise ValueError(f"max_day must be < n_days = {self.n_days}, got {max_day!r}")
        return self._effects(lambda a: a.sum(axis=-2)[..., :days],
                             "pass max_day < {day} (few users return that late)")

    def by_calendar_day(self) -> DailyEffects:
        """Effects by calendar day: each day mixes new users with returning ones of every
        age, so the decay is smeared and lags (it tracks true_effect_by_calendar_day)."""
        return self._effects(lambda a: a.sum(axis=-1), "no users that day")

    def on_calendar_day(self, day: int | None = None) -> DailyEffects:
        """Effects by days since first exposure among the users active on one calendar day
        (default: the last), ages 0, 1, ..., ``day``.

        Each age is a different arrival cohort, so the points share no users: they are
        independent even when users differ persistently, and being measured on the same
        day, no calendar effect enters the comparison. This is the series on which the
        independence assumption of :func:`trend_test` and :func:`fit_decay` holds in real
        data; it uses one day of data, so it is noisier than :meth:`by_exposure_day`.
        """
        last = self.n_days - 1
        day = last if day is None else check_int("day", day, minimum=0)
        if day > last:
            raise ValueError(f"day must be < n_days = {self.n_days}, got {day!r}")
        return self._effects(lambda a: a[..., day, : day + 1],
                             "few users of that age return on day " + str(day))

    def to_frame(self) -> pd.DataFrame:
        """One row per calendar day, age and arm with users, for one experiment."""
        if self.n_control.ndim != 2:
            raise ValueError(
                "to_frame() needs one experiment: simulate with n_experiments=None, got "
                f"cells of shape {self.n_control.shape}"
            )
        day, age = np.nonzero(np.tri(self.n_days, dtype=bool))
        frames = []
        for arm in ("control", "treatment"):
            columns = {
                "calendar_day": day, "exposure_day": age, "arm": arm,
                "n": getattr(self, f"n_{arm}")[day, age],
                "sum": getattr(self, f"sum_{arm}")[day, age],
            }
            if self.sum_sq_control is not None:
                columns["sum_sq"] = getattr(self, f"sum_sq_{arm}")[day, age]
            frames.append(pd.DataFrame(columns))
        return pd.concat(frames, ignore_index=True)

    def explain(self) -> str:
        """The simulated truth in words and numbers."""
        curve = ("b = 0 (stable)" if self.tau is None else
                 f"b = {'+' if self.profile == 'novelty' else '-'}{_f(self.amplitude)}, tau = "
                 f"{_f(self.tau)} days ({self.profile})")
        shape = self.n_control.shape[:-2]
        return "\n".join([
            f"Simulated {self.metric} metric over {self.n_days} days"
            + (f", {shape[0]} experiments" if shape else ""),
            f"  {int(self.new_users.sum())} users arrive ({_f(self.new_users.mean())} per day), "
            f"half to each arm; each returns on any later day with probability "
            f"{_f(self.return_rate)}",
            f"  effect on a user's k-th day since first exposure: a + b exp(-k / tau), a = "
            f"{_f(self.long_run_effect)}, {curve}",
            f"  day 0: {_f(self.true_effect_by_exposure_day[0])}; day {self.n_days - 1}: "
            f"{_f(self.true_effect_by_exposure_day[-1])} by age, "
            f"{_f(self.true_effect_by_calendar_day[-1])} on the last calendar day (new users "
            "keep arriving at age 0)",
        ])


def _effect_curve(profile, long_run_effect, amplitude, tau, n_days):
    """(a + b exp(-k / tau) for k = 0..n_days-1, tau) after checking the profile's arguments."""
    if profile == "stable":
        if amplitude != 0:
            raise ValueError(f"amplitude must be 0 for profile 'stable', got {amplitude!r}")
        if tau is not None:
            raise ValueError(f"tau must be None for profile 'stable' (no decay), got {tau!r}")
        return np.full(n_days, long_run_effect), None
    if amplitude <= 0:
        raise ValueError(
            f"amplitude must be > 0 for profile {profile!r} (use profile='stable' for no "
            f"decay), got {amplitude!r}"
        )
    if tau is None:
        raise ValueError(f"tau must be given (> 0, in days) for profile {profile!r}, got None")
    tau = check_scalar("tau", check_positive("tau", tau))
    sign = 1.0 if profile == "novelty" else -1.0
    with np.errstate(over="ignore"):  # a huge a + b is refused by the caller
        curve = long_run_effect + sign * amplitude * _exp_decay(np.arange(n_days), tau)
    return curve, tau


def _check_rates(baseline: float, curve: np.ndarray) -> None:
    """Binary metric: the control and treatment rates must lie in [0, 1] on every day."""
    rate = baseline + curve
    bad = ~((rate >= 0) & (rate <= 1))
    if bad.any():
        day = int(np.argmax(bad))
        raise ValueError(
            f"the treatment rate baseline + long_run_effect +/- amplitude exp(-k / tau) must be "
            f"in [0, 1] on every day k, got {float(rate[day])!r} on day {day}"
        )


def _check_magnitudes(baseline: float, curve: np.ndarray, sd: float, users: int) -> None:
    """Continuous metric: refuse means or an sd so large that the sum of squares of a cell of
    ``users`` users overflows floating point (with a margin of 64 for the chi-square draw)."""
    scale = max(abs(baseline) + float(np.max(np.abs(curve))), sd)
    limit = math.sqrt(np.finfo(float).max / (64 * max(users, 1)))
    if not scale <= limit:  # also refuses inf, from a + b overflowing
        raise ValueError(
            f"baseline, long_run_effect, amplitude and sd are too large for floating point: "
            f"with up to {users:,} users in a cell the sums of squares overflow (the largest "
            f"mean or sd, {scale:.3g}, must be at most {limit:.3g})"
        )


def simulate_daily_effects(
    *,
    profile: str,
    long_run_effect: float,
    amplitude: float = 0.0,
    tau: float | None = None,
    baseline: float,
    sd: float | None = None,
    n_days: int,
    new_users_per_day,
    return_rate: float,
    metric: str = "binary",
    n_experiments: int | None = None,
    rng,
) -> SimulatedDailyEffects:
    r"""Simulate experiments whose effect fades (novelty), grows (primacy) or stays put.

    Users arrive over ``n_days`` days (``new_users_per_day``), each assigned to control or
    treatment with probability 1/2 and first exposed on arrival. On every later day a
    user comes back with probability ``return_rate``, independently. On each day it is
    active, a user k days past first exposure produces the metric with mean ``baseline``
    in control and ``baseline`` + :math:`\Delta(k)` in treatment,

    .. math:: \Delta(k) = a + b\,e^{-k/\tau}, \qquad
              b = +\text{amplitude (novelty)},\; -\text{amplitude (primacy)},\; 0
              \text{ (stable)},

    :math:`a` = ``long_run_effect``: Bernoulli for ``metric="binary"`` (``baseline`` is
    the control rate) or normal with standard deviation ``sd`` for ``"continuous"``.

    Everything is drawn cell by cell, vectorized, with exact distributions: the arm sizes
    of each arrival cohort are binomial, the users of cohort c active on day c + k >= c + 1
    are Binomial(cohort size, return_rate), the conversions of a cell are binomial, and for
    a continuous metric the cell's sum is normal and its within-cell sum of squares
    :math:`sd^2 \chi^2_{n-1}`. User-days are independent (no persistent user traits), so
    every cell, and hence every point of either series, is independent of the others.
    The treatment does not change who returns, so users of a given age are comparable
    between arms.

    Parameters
    ----------
    profile : {"novelty", "primacy", "stable"}
    long_run_effect : float
        a, the effect once users have adapted (treatment minus control).
    amplitude : float
        :math:`|b|` > 0 for novelty and primacy; 0 (the default) for stable.
    tau : float, optional
        Time constant in days (> 0) for novelty and primacy; None for stable.
    baseline : float
        Control conversion rate (binary) or control mean (continuous).
    sd : float, optional
        Standard deviation of one user-day's value (continuous metric only).
    n_days : int
        Length of the experiment (>= 2); ``16 * n_days**2`` (times ``n_experiments``) may
        be at most 2**28, the numbers drawn and held at once.
    new_users_per_day : int or array of int, shape (n_days,)
        Users arriving each day (>= 0; at least 2 on the first day).
    return_rate : float
        Probability, in [0, 1], that an exposed user is active on a given later day.
    metric : {"binary", "continuous"}
    n_experiments : int, optional
        None: one experiment. An integer: that many independent experiments along a
        leading axis (for power and coverage studies).
    rng : numpy.random.Generator or int
        Source of randomness.

    Returns
    -------
    SimulatedDailyEffects
        Cells per arm, calendar day and age; the true curves; with the series
        :meth:`~SimulatedDailyEffects.by_exposure_day`,
        :meth:`~SimulatedDailyEffects.by_calendar_day` and
        :meth:`~SimulatedDailyEffects.on_calendar_day`, and
        :meth:`~SimulatedDailyEffects.to_frame`.

    Examples
    --------
    >>> sim = simulate_daily_effects(profile="novelty", long_run_effect=0.005, amplitude=0.02,
    ...                              tau=3, baseline=0.10, n_days=14, new_users_per_day=5000,
    ...                              return_rate=0.4, rng=1)
    >>> print(sim.true_effect_by_exposure_day[[0, 13]].round(4))
    [0.025  0.0053]
    """
    profile = check_choice("profile", profile, PROFILES)
    metric = check_choice("metric", metric, METRICS)
    a = check_scalar("long_run_effect", as_float_array("long_run_effect", long_run_effect))
    amplitude = check_scalar("amplitude", as_float_array("amplitude", amplitude))
    if amplitude < 0:
        raise ValueError(f"amplitude must be >= 0 (the profile sets the sign of b), got "
                         f"{amplitude!r}")
    days = check_int("n_days", n_days, minimum=2)
    lead = () if n_experiments is None else (check_int("n_experiments", n_experiments,
                                                       minimum=1),)
    check_work("16 * n_experiments * n_days**2" if lead else "16 * n_days**2",
               16 * (lead[0] if lead else 1) * days**2)
    curve, tau = _effect_curve(profile, a, amplitude, tau, days)
    baseline = check_scalar("baseline", as_float_array("baseline", baseline))
    if metric == "binary":
        if sd is not None:
            raise ValueError(f"sd is only used for metric='continuous', got sd={sd!r}")
        baseline = check_scalar("baseline", check_closed_unit("baseline", baseline))
        _check_rates(baseline, curve)
    elif sd is None:
        raise ValueError("sd must be given (> 0) for metric='continuous', got None")
    else:
        sd = check_scalar("sd", check_positive("sd", sd))
    new = check_count("new_users_per_day", new_users_per_day)
    new = np.broadcast_to(new, (days,)).copy() if new.ndim == 0 else new
    if new.shape != (days,):
        raise ValueError(f"new_users_per_day must be one number or n_days = {days} numbers, "
                         f"got shape {new.shape}")
    if new[0] < 2:
        raise ValueError(f"new_users_per_day must be >= 2 on the first day, got {new[0]}")
    r = check_scalar("return_rate", check_closed_unit("return_rate", return_rate))
    if r == 0 and (new == 0).any():
        raise ValueError(
            "new_users_per_day must be > 0 on every day when return_rate is 0 (nobody would "
            f"be active on day {int(np.argmax(new == 0))}), got {new[new == 0][0]}"
        )
    if metric == "continuous":
        _check_magnitudes(baseline, curve, sd, int(new.max()))
    generator = as_generator(rng)

    day, age = np.meshgrid(np.arange(days), np.arange(days), indexing="ij")
    valid = age <= day
    cohort = np.where(valid, day - age, 0)
    control_size = generator.binomial(new, 0.5, size=lead + (days,))
    sizes = (control_size, new - control_size)
    means = (np.full(days, baseline), baseline + curve)
    cells = {}
    for arm, size, mean in zip(("control", "treatment"), sizes, means):
        cohort_size = np.where(valid, size[..., cohort], 0)
        n = np.where(age == 0, cohort_size, generator.binomial(cohort_size, r))
        if metric == "binary":
            total, squares = generator.binomial(n, mean), None
        else:
            total = generator.normal(n * mean, np.sqrt(n) * sd)
            within = sd**2 * generator.gamma(np.maximum(n - 1, 0) / 2, 2.0)
            squares = within + np.where(n > 0, total**2 / np.maximum(n, 1), 0.0)
        cells[arm] = (n.astype(np.int64), total, squares)

    weight = np.where(valid, new[cohort] * np.where(age == 0, 1.0, r), 0.0)
    calendar = (weight * curve).sum(axis=1) / weight.sum(axis=1)
    return SimulatedDailyEffects(
        n_control=cells["control"][0], sum_control=cells["control"][1],
        sum_sq_control=cells["control"][2], n_treatment=cells["treatment"][0],
        sum_treatment=cells["treatment"][1], sum_sq_treatment=cells["treatment"][2],
        true_effect_by_exposure_day=curve, true_effect_by_calendar_day=calendar,
        new_users=new, metric=metric, profile=profile, long_run_effect=a,
        amplitude=amplitude, tau=tau, baseline=baseline, sd=sd, return_rate=r,
    )


@dataclass(frozen=True, repr=False, eq=False)
class SimulatedUserDays(Record):
    """User-level simulated experiments: one row per user, one column per day since first
    exposure.

    ``values[..., i, k]`` is user i's metric on its k-th day since first exposure, NaN where
    the user was not active (or the experiment ended first); ``treated[..., i]`` its arm;
    ``arrival[i]`` the calendar day it arrived (the same in every experiment).
    ``true_effect_by_exposure_day[k]`` is a + b exp(-k / tau).
    """

    values: np.ndarray
    treated: np.ndarray
    arrival: np.ndarray
    true_effect_by_exposure_day: np.ndarray
    profile: str
    long_run_effect: float
    amplitude: float
    tau: float | None
    baseline: float
    sd: float
    user_sd: float
    return_rate: float

    @property
    def n_days(self) -> int:
        """Length of the experiment in days."""
        return self.values.shape[-1]

    def by_exposure_day(self, *, max_day: int | None = None) -> DailyEffects:
        """Effects by days since first exposure 0, ..., ``max_day`` (default: all), with their
        covariance clustered by user (:func:`clustered_daily_effects`)."""
        days = self.n_days if max_day is None else check_int("max_day", max_day,
                                                              minimum=0) + 1
        if days > self.n_days:
            raise ValueError(f"max_day must be < n_days = {self.n_days}, got {max_day!r}")
        return clustered_daily_effects(self.values[..., :days], self.treated)

    def explain(self) -> str:
        """The simulated truth in words and numbers."""
        shape = self.values.shape[:-2]
        curve = ("b = 0 (stable)" if self.tau is None else
                 f"b = {'+' if self.profile == 'novelty' else '-'}{_f(self.amplitude)}, tau = "
                 f"{_f(self.tau)} days ({self.profile})")
        return "\n".join([
            f"Simulated users over {self.n_days} days"
            + (f", {shape[0]} experiments" if shape else ""),
            f"  {self.arrival.size} users arrive ({self.arrival.size // self.n_days} per day), "
            f"each to treatment with probability 1/2; each returns on any later day with "
            f"probability {_f(self.return_rate)}",
            f"  value = baseline {_f(self.baseline)} + user level (sd {_f(self.user_sd)}, "
            f"persistent) + day noise (sd {_f(self.sd)}) + effect if treated",
            f"  effect on a user's k-th day since first exposure: a + b exp(-k / tau), a = "
            f"{_f(self.long_run_effect)}, {curve}",
        ])


def simulate_user_days(
    *,
    profile: str,
    long_run_effect: float,
    amplitude: float = 0.0,
    tau: float | None = None,
    baseline: float,
    sd: float,
    user_sd: float,
    n_days: int,
    new_users_per_day: int,
    return_rate: float,
    n_experiments: int | None = None,
    rng,
) -> SimulatedUserDays:
    r"""Simulate experiments user by user, with a persistent user level and returning users.

    ``new_users_per_day`` users arrive on each of ``n_days`` days, each assigned to
    treatment with probability 1/2 and active on its arrival day; on every later day of
    the experiment it comes back with probability ``return_rate``, independently. User i
    has a persistent level :math:`u_i \sim N(0, \text{user\_sd}^2)`, and on its k-th day
    since first exposure, if active, the value

    .. math:: y_{ik} = \text{baseline} + u_i + \Delta(k)\,[i \text{ treated}] + e_{ik},
              \qquad e_{ik} \sim N(0, \text{sd}^2), \qquad \Delta(k) = a + b\,e^{-k/\tau},

    with b as in :func:`simulate_daily_effects`. Unlike that simulator, where every
    (calendar day, age) cell is drawn independently, a returning user carries its level
    into every age at which it is active: the points of a by-age series share users and
    are positively correlated (correlation :math:`\text{user\_sd}^2 / (\text{user\_sd}^2 +
    \text{sd}^2)` between two days of one user), as in real logs.

    Parameters
    ----------
    profile : {"novelty", "primacy", "stable"}
    long_run_effect, amplitude, tau
        The effect curve, as in :func:`simulate_daily_effects`.
    baseline : float
        Control mean.
    sd : float
        Standard deviation of the day-to-day noise (> 0).
    user_sd : float
        Standard deviation of the persistent user level (>= 0; 0: no persistent level).
    n_days : int
        Length of the experiment (>= 2).
    new_users_per_day : int
        Users arriving each day (>= 2).
    return_rate : float
        Probability, in [0, 1], that a user is active on a given later day.
    n_experiments : int, optional
        None: one experiment; an integer: that many along a leading axis.
        ``3 * n_experiments * n_days**2 * new_users_per_day`` may be at most 2**28.
    rng : numpy.random.Generator or int

    Returns
    -------
    SimulatedUserDays
        ``values`` (..., users, n_days) with NaN where inactive, ``treated``, ``arrival``,
        the true curve, and :meth:`~SimulatedUserDays.by_exposure_day`.

    Examples
    --------
    >>> sim = simulate_user_days(profile="novelty", long_run_effect=0.2, amplitude=1.0, tau=3,
    ...                          baseline=10, sd=1, user_sd=2, n_days=7, new_users_per_day=50,
    ...                          return_rate=0.5, rng=1)
    >>> sim.values.shape
    (350, 7)
    >>> print(sim.true_effect_by_exposure_day[[0, 6]].round(4))
    [1.2    0.3353]
    """
    profile = check_choice("profile", profile, PROFILES)
    a = check_scalar("long_run_effect", as_float_array("long_run_effect", long_run_effect))
    amplitude = check_scalar("amplitude", as_float_array("amplitude", amplitude))
    if amplitude < 0:
        raise ValueError(f"amplitude must be >= 0 (the profile sets the sign of b), got "
                         f"{amplitude!r}")
    days = check_int("n_days", n_days, minimum=2)
    new = check_int("new_users_per_day", new_users_per_day, minimum=2)
    lead = () if n_experiments is None else (check_int("n_experiments", n_experiments,
                                                       minimum=1),)
    check_work("3 * n_experiments * n_days**2 * new_users_per_day",
               3 * (lead[0] if lead else 1) * days**2 * new)
    curve, tau = _effect_curve(profile, a, amplitude, tau, days)
    baseline = check_scalar("baseline", as_float_array("baseline", baseline))
    sd = check_scalar("sd", check_positive("sd", sd))
    user_sd = check_scalar("user_sd", check_nonnegative("user_sd", user_sd))
    r = check_scalar("return_rate", check_closed_unit("return_rate", return_rate))
    generator = as_generator(rng)

    arrival = np.repeat(np.arange(days), new)
    age = np.arange(days)
    observed = age[None, :] <= days - 1 - arrival[:, None]  # (users, ages)
    users = lead + (arrival.size,)
    treated = generator.random(users) < 0.5
    level = generator.normal(0.0, user_sd, users)
    returns = (age == 0) | (generator.random(users + (days,)) < r)
    with np.errstate(over="ignore", invalid="ignore"):
        values = (baseline + level[..., None] + np.where(treated[..., None], curve, 0.0)
                  + generator.normal(0.0, sd, users + (days,)))
    if not np.isfinite(values).all():
        raise ValueError("baseline, long_run_effect, amplitude, sd and user_sd are too large "
                         "for floating point: the simulated values overflow")
    return SimulatedUserDays(
        values=np.where(observed & returns, values, np.nan), treated=treated, arrival=arrival,
        true_effect_by_exposure_day=curve, profile=profile, long_run_effect=a,
        amplitude=amplitude, tau=tau, baseline=baseline, sd=sd, user_sd=user_sd, return_rate=r,
    )

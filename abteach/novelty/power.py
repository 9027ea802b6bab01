r"""Power of the trend test against a given decay, by simulation."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from abteach._records import Record, brief as _f, format_number
from abteach._validate import check_choice
from abteach.novelty.simulate import SimulatedDailyEffects

__all__ = ["TrendTestPower", "trend_test_power"]

_BY = ("exposure_day", "calendar_day", "last_day")


@dataclass(frozen=True, repr=False, eq=False)
class TrendTestPower(Record):
    """Result of :func:`trend_test_power`: the share of simulated experiments in which the
    trend test rejected, with its Monte Carlo standard error and Wilson interval."""

    power: float
    mc_se: float
    ci_low: float
    ci_high: float
    rejections: int
    n_simulations: int
    by: str
    scale: str
    alternative: str
    alpha: float

    def explain(self) -> str:
        """The estimate and how precise the simulation is."""
        return "\n".join([
            f"Power of the trend test ({self.by.replace('_', ' ')} series, scale "
            f"{self.scale!r}, {self.alternative}, alpha = {format_number(self.alpha, 4)}) "
            f"by simulation",
            f"  rejected in {self.rejections} of {self.n_simulations} simulated experiments: "
            f"power = {_f(self.power)}",
            f"  Monte Carlo SE = sqrt(p (1 - p) / n) = {_f(self.mc_se)}; 95% Wilson interval "
            f"[{_f(self.ci_low)}, {_f(self.ci_high)}]",
            "  under profile 'stable' this is the type I error rate and should be near alpha",
        ])


def trend_test_power(
    simulation: SimulatedDailyEffects,
    *,
    by: str = "exposure_day",
    max_day: int | None = None,
    scale: str = "known",
    alternative: str = "two-sided",
    alpha: float = 0.05,
) -> TrendTestPower:
    r"""Power of :func:`trend_test` against the decay of a simulation: its rejection rate.

    Recipe: simulate many experiments with the design and the effect curve to detect,
    ``simulate_daily_effects(..., n_experiments=2000, rng=seed)``, then call this function:
    it computes the effects of every experiment ``by`` the chosen series, runs the trend
    test on each and returns the share with p-value < alpha. Under ``profile="stable"`` the
    same call measures the type I error.

    The Monte Carlo standard error is :math:`\sqrt{\hat p(1-\hat p)/R}` for R experiments;
    the interval is Wilson's score interval at 95%, which stays inside [0, 1].

    Parameters
    ----------
    simulation : SimulatedDailyEffects
        From :func:`simulate_daily_effects` with ``n_experiments`` given.
    by : {"exposure_day", "calendar_day", "last_day"}
        The series the test runs on: :meth:`~SimulatedDailyEffects.by_exposure_day` (the
        most powerful for a decay), :meth:`~SimulatedDailyEffects.by_calendar_day`, or
        :meth:`~SimulatedDailyEffects.on_calendar_day` of the last day (the series whose
        points are independent in real data too).
    max_day : int, optional
        Last day since exposure used (``by="exposure_day"`` only).
    scale, alternative, alpha
        As in :func:`trend_test`.

    Returns
    -------
    TrendTestPower
        ``power``, ``mc_se``, ``ci_low``, ``ci_high``, ``rejections``, ``n_simulations``.

    Examples
    --------
    >>> from abteach.novelty import simulate_daily_effects
    >>> sim = simulate_daily_effects(profile="novelty", long_run_effect=0.005, amplitude=0.02,
    ...                              tau=3, baseline=0.10, n_days=14, new_users_per_day=2000,
    ...                              return_rate=0.4, n_experiments=200, rng=1)
    >>> trend_test_power(sim).power
    0.965
    """
    if not isinstance(simulation, SimulatedDailyEffects):
        raise TypeError(f"simulation must come from simulate_daily_effects, got "
                        f"{type(simulation).__name__}")
    if simulation.n_control.ndim != 3:
        raise ValueError("simulation must hold many experiments: call simulate_daily_effects "
                         "with n_experiments=...")
    by = check_choice("by", by, _BY)
    if by == "exposure_day":
        effects = simulation.by_exposure_day(max_day=max_day)
    elif max_day is not None:
        raise ValueError(f"max_day is only used with by='exposure_day', got {max_day!r}")
    elif by == "calendar_day":
        effects = simulation.by_calendar_day()
    else:
        effects = simulation.on_calendar_day()
    if effects.day.size < 3:
        raise ValueError(
            f"the trend test needs at least 3 days, got {effects.day.size}: pass max_day >= 2"
            if by == "exposure_day" else
            f"the trend test needs at least 3 days, got {effects.day.size}: simulate n_days >= 3"
        )
    test = effects.trend_test(scale=scale, alternative=alternative, alpha=alpha)
    reject = np.asarray(test.pvalue) < test.alpha
    runs, count = reject.size, int(reject.sum())
    p = count / runs
    z = stats.norm.isf(0.025)
    center = (p + z**2 / (2 * runs)) / (1 + z**2 / runs)
    half = z * np.sqrt(p * (1 - p) / runs + z**2 / (4 * runs**2)) / (1 + z**2 / runs)
    return TrendTestPower(
        power=p, mc_se=float(np.sqrt(p * (1 - p) / runs)), ci_low=float(max(center - half, 0.0)),
        ci_high=float(min(center + half, 1.0)), rejections=count, n_simulations=runs, by=by,
        scale=test.scale, alternative=test.alternative, alpha=test.alpha,
    )

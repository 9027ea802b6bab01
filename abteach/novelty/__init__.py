r"""Novelty and primacy: treatment effects that change as users get used to a change.

A new feature often moves a metric at first because it is new (novelty: the effect fades) or
hurts it at first because users must unlearn the old one (primacy: the effect grows). The
average effect of a one- or two-week experiment then answers the wrong question: it mixes the
first days of every user with the few later days of the earliest users. This package models
the effect on a user's t-th day since first exposure as

.. math:: \Delta(t) = a + b\,e^{-t/\tau},

with :math:`a` the long-run effect, :math:`a + b` the effect on the first day, :math:`\tau`
the time constant of the adaptation (in days), :math:`b > 0` novelty, :math:`b < 0` primacy
and :math:`b = 0` a stable effect.

==================================  ========================================================
function                            question
==================================  ========================================================
:func:`simulate_daily_effects`      seeded experiment with known truth: users arrive daily,
                                    return, and see an effect that depends on their age
:func:`daily_effects`               effect, SE and CI of each day (or each day since first
                                    exposure) from per-arm sufficient statistics
:func:`trend_test`                  does the effect change over time? (weighted LS slope)
:func:`fit_decay`                   where does it settle? (a + b exp(-t/tau), long-run a)
:func:`clustered_daily_effects`     effects by age from user-level data, with their
                                    covariance clustered by user (for fit_decay's cov)
:func:`simulate_user_days`          seeded users with a persistent level who return
:func:`trend_test_power`            how often does the trend test detect a given decay?
:func:`exposure_effects`            effect by days since first exposure from user-day rows,
                                    trend test with users as clusters
:func:`window_effects`              arrival cohorts compared over a fixed per-user window
==================================  ========================================================

One module per question: ``simulate`` (:func:`simulate_daily_effects`), ``daily``
(:func:`daily_effects`), ``trend`` (:func:`trend_test`), ``decay`` (:func:`fit_decay`) and
``power`` (:func:`trend_test_power`), ``exposure`` (:func:`exposure_effects`,
:func:`window_effects`: user-day rows); ``_series`` holds the checks and weights they share.

Calendar day or day since first exposure?
-----------------------------------------
On calendar day d the treated users are a mix: new ones on their first day, and returning
ones exposed 1, 2, ..., d days earlier. With steady traffic, new users keep arriving with a
fresh novelty effect, so the calendar-day effect changes slowly, never shows the curve's
shape and still differs from the long-run effect at the end of the experiment (above it for
novelty, below it for primacy). Grouping the same data by
days since each user's first exposure (the user's "age" in the experiment) isolates the
decay: every point compares treated and control users of the same age. Report that curve,
and the long-run estimate :math:`\hat a` with its interval, not the average of the first
week. The curve beyond the last observed age is a model's extrapolation; the only direct
measurement of a long-term effect is a longer experiment or a long-term holdout (a small
share of users kept on control for months, Kohavi, Tang & Xu 2020, ch. 23; Hohnhold,
O'Brien & Tang 2015).

Which independence the analyses assume
--------------------------------------
:func:`trend_test` and :func:`fit_decay` treat the points as independent, each with a known
standard error. In :func:`simulate_daily_effects` that holds exactly for every series: each
(calendar day, age) cell is drawn independently, as users there have no persistent traits.
Real users differ persistently (heavy users stay heavy), and a user active on several days
contributes to several calendar days and to several ages: points that share users are
positively correlated, and a trend test that ignores it rejects too often. In a per-user
simulation with persistent user effects (``tests/test_novelty.py``: 21 days, users returning
on 60% of days, user effects 5 times the day-to-day noise, no true trend), the known-scale
test rejected about 13% of the time by exposure day and 18% by calendar day at alpha = 5%,
and ``scale="estimated"`` about twice as often.

Users active on ONE calendar day, grouped by days since their first exposure, belong to
different arrival cohorts, which are disjoint sets of users: those estimates are
independent whatever users are like, and, all measured on the same day, they carry no
calendar effect either. :meth:`SimulatedDailyEffects.on_calendar_day` gives that series (in
the same simulation its test kept its 5% level); it uses one day of data, so it has less
power. The analysis that uses every day validly needs user-level data: regress the user-day
outcome on treatment x age with standard errors clustered by user (or bootstrap users);
:func:`exposure_effects` does exactly that, and :func:`window_effects` compares arrival
cohorts over a fixed per-user window (a cohort's effect "until the end of the experiment"
mixes its follow-up time with the decay). For the decay fit, :func:`clustered_daily_effects`
gives the by-age effects with their covariance clustered by user and :func:`fit_decay`
(``cov=``) the sandwich interval for the long-run effect, which keeps its coverage in
:func:`simulate_user_days` experiments where the independent-points interval covers about
75% (``tests/test_novelty_clustered.py``). A
subtler caveat: if the treatment changes who comes back, users of a given age are no longer
comparable between arms (survivorship); check the users per age and arm (an SRM check per
age).

References
----------
Kohavi, R., Tang, D. & Xu, Y. (2020), *Trustworthy Online Controlled Experiments*,
Cambridge University Press, ch. 3 (primacy and novelty effects) and ch. 23 (measuring
long-term treatment effects).
Hohnhold, H., O'Brien, D. & Tang, D. (2015), Focusing on the long-term: it's good for users
and business, *KDD '15*, 1849-1858.
Sadeghi, S., Gupta, S., Gramatovici, S., Lu, J., Ai, H. & Zhang, R. (2021), Novelty and
primacy: a long-term estimator for online experiments, arXiv:2102.12893.
Bates, D. M. & Watts, D. G. (1988), *Nonlinear Regression Analysis and Its Applications*,
Wiley, ch. 2 and 6 (Wald and profile-likelihood intervals).
"""

from abteach.novelty.daily import DailyEffects, clustered_daily_effects, daily_effects
from abteach.novelty.decay import DecayFit, fit_decay
from abteach.novelty.exposure import (
    SCALES_EXPOSURE,
    ExposureEffects,
    exposure_effects,
    window_effects,
)
from abteach.novelty.power import TrendTestPower, trend_test_power
from abteach.novelty.simulate import (
    METRICS,
    PROFILES,
    SimulatedDailyEffects,
    SimulatedUserDays,
    simulate_daily_effects,
    simulate_user_days,
)
from abteach.novelty.trend import SCALES, TrendTest, trend_test

__all__ = [
    "METRICS",
    "PROFILES",
    "SCALES",
    "SCALES_EXPOSURE",
    "DailyEffects",
    "DecayFit",
    "ExposureEffects",
    "SimulatedDailyEffects",
    "SimulatedUserDays",
    "TrendTest",
    "TrendTestPower",
    "clustered_daily_effects",
    "daily_effects",
    "exposure_effects",
    "fit_decay",
    "simulate_daily_effects",
    "simulate_user_days",
    "trend_test",
    "trend_test_power",
    "window_effects",
]

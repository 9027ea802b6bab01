r"""Experiment dashboards: per-day sufficient statistics, cumulative analyses, two dashboards.

A team running an experiment looks at it every day: is the split healthy (the sample ratio
mismatch check first), and what do the key metrics say so far, overall and per segment? A
dashboard answers both from a small table of **sufficient statistics**: for each experiment,
metric, segment, variant and day, the number of units :math:`n`, the sum :math:`S` of the
metric and the sum of squares :math:`Q`. Sums add up, so the cumulative statistics as of
day :math:`d` are running sums, and everything a test needs follows from them:

.. math:: \bar y = S / n, \qquad s^2 = \frac{Q - S^2 / n}{n - 1}.

A 0/1 metric (conversion) has :math:`Q = S` and is tested with the two-proportion z-test
(:func:`abteach.inference.ztest_proportions`, x = S successes of n); any other metric with Welch's
t-test from the means and standard deviations (:func:`abteach.inference.welch_ttest_from_stats`).
The arm sizes go through :func:`abteach.srm.srm_test`.

==========================  ==================================================================
function                    what it gives
==========================  ==================================================================
:func:`daily_aggregates`    the tidy table (experiment, metric, segment, variant, day, n, sum,
                            sum_sq) from a per-unit table, e.g. ``EventStore.metrics("users")``
:func:`demo_users`,         a seeded demo: three experiments, three metrics, three platforms,
:func:`demo_aggregates`     14 days (one ships, one shows nothing, one has an SRM)
:func:`analyze`             the cumulative test of one experiment, metric and segment as of a
                            day, with its SRM check (a :class:`DashboardAnalysis`)
:func:`cumulative_effects`  the same for every selection and every day, vectorized
:func:`static_dashboard`    one plotly figure with a dropdown (experiment) and a slider (day)
                            that stays interactive on a static web page
:func:`live_dashboard`      ipywidgets controls that recompute :func:`analyze` (needs a kernel)
==========================  ==================================================================

Days are numbered from 1 (the first day of the experiment). A unit belongs to the day of its
first exposure, and its metric values are those measured at the end of the data: the
cumulative analysis "as of day d" covers the units that entered by day d. Segment ``"all"``
is the sum over the segments.

The modules, one per part of chapter 11: ``abteach.dashboard.aggregates`` (the table,
the demo and the check every function runs on a table), ``abteach.dashboard.analysis``
(the cumulative tests), ``abteach.dashboard.static`` (the plotly dashboard) and
``abteach.dashboard.live`` (the ipywidgets dashboard, which loads ipywidgets on first use).

References
----------
Kohavi, R., Tang, D. & Xu, Y. (2020), *Trustworthy Online Controlled Experiments*,
Cambridge University Press, ch. 6-7 (metrics, the overall evaluation criterion and
guardrails), ch. 21 (sample ratio mismatch and other trust checks).
Fabijan, A., Dmitriev, P., Holmström Olsson, H. & Bosch, J. (2018), Effective online
controlled experiment analysis at large scale, *SEAA 2018* (the scorecard and its analysis).
"""

from __future__ import annotations

from abteach.dashboard import aggregates as _aggregates
from abteach.dashboard.aggregates import (
    DEMO_BUG_FROM_DAY,
    DEMO_EXPERIMENTS,
    DEMO_METRICS,
    DEMO_ORDER_MEAN,
    DEMO_SEGMENT_SHARES,
    DEMO_SEGMENTS,
    DEMO_USERS_PER_DAY,
    MAX_DAYS,
    MAX_UNITS,
    VARIANTS,
    daily_aggregates,
    demo_aggregates,
    demo_users,
)
from abteach.dashboard.analysis import (
    TESTS,
    DashboardAnalysis,
    analyse,
    analyze,
    cumulative_effects,
)
from abteach.dashboard.live import live_dashboard
from abteach.dashboard.static import static_dashboard

#: Columns of the tidy table of :func:`daily_aggregates`, in order.
AGGREGATE_COLUMNS = _aggregates.AGGREGATE_COLUMNS
#: The segment that stands for every unit (the sum over the segments).
ALL_SEGMENTS = _aggregates.ALL_SEGMENTS

__all__ = [
    "AGGREGATE_COLUMNS",
    "ALL_SEGMENTS",
    "DEMO_BUG_FROM_DAY",
    "DEMO_EXPERIMENTS",
    "DEMO_METRICS",
    "DEMO_ORDER_MEAN",
    "DEMO_SEGMENTS",
    "DEMO_SEGMENT_SHARES",
    "DEMO_USERS_PER_DAY",
    "MAX_DAYS",
    "MAX_UNITS",
    "TESTS",
    "VARIANTS",
    "DashboardAnalysis",
    "LiveDashboard",
    "analyse",
    "analyze",
    "cumulative_effects",
    "daily_aggregates",
    "demo_aggregates",
    "demo_users",
    "live_dashboard",
    "static_dashboard",
]



def __getattr__(name: str):
    if name == "LiveDashboard":  # an ipywidgets class: built, with ipywidgets, on first use
        from abteach.dashboard import live

        return live.LiveDashboard
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

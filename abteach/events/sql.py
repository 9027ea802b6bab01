"""The metric queries of an event log, in portable SQL (chapter 4).

Each query in :data:`~abteach.events.METRIC_SQL` is built from the common table expressions below and is
complete: it can be printed and run on its own against a table named ``events`` with the
columns of :data:`~abteach.events.EVENT_SCHEMA`.
"""

from __future__ import annotations

from abteach.events.schema import SESSION_GAP_MINUTES, TRIGGER_EVENT


def _with(*ctes: str, select: str) -> str:
    return "WITH\n" + ",\n".join(ctes) + "\n" + select


_FIRST_EXPOSURE = """\
first_exposure AS (
    -- the analysis population: every unit with an exposure, from its first exposure on
    SELECT experiment, variant, unit_id, MIN(timestamp) AS exposed_at
    FROM events
    WHERE event_type = 'exposure'
    GROUP BY experiment, variant, unit_id
)"""

_EXPOSED_EVENTS = """\
exposed_events AS (
    -- a unit's events from its first exposure on: events before it do not count;
    -- previous_at, the unit's previous event, is used to count sessions
    SELECT e.experiment, e.variant, e.unit_id, e.event_type, e.revenue, e.timestamp,
           f.exposed_at,
           LAG(e.timestamp) OVER (
               PARTITION BY e.experiment, e.variant, e.unit_id ORDER BY e.timestamp
           ) AS previous_at
    FROM events AS e
    JOIN first_exposure AS f
      ON e.experiment = f.experiment AND e.variant = f.variant AND e.unit_id = f.unit_id
    WHERE e.timestamp >= f.exposed_at
)"""

_USER_METRICS = f"""\
user_metrics AS (
    -- one row per unit; the ratio metric clicks / page_views keeps its numerator and
    -- denominator per unit (its variance needs both); a session starts with the first
    -- event and after every gap of more than {SESSION_GAP_MINUTES} minutes
    SELECT experiment, variant, unit_id,
           MIN(exposed_at) AS exposed_at,
           COUNT(CASE WHEN previous_at IS NULL
                        OR timestamp > previous_at + INTERVAL {SESSION_GAP_MINUTES} MINUTE
                      THEN 1 END) AS sessions,
           COUNT(CASE WHEN event_type = 'page_view' THEN 1 END) AS page_views,
           COUNT(CASE WHEN event_type = 'click' THEN 1 END) AS clicks,
           COUNT(CASE WHEN event_type = 'purchase' THEN 1 END) AS purchases,
           COALESCE(SUM(revenue), 0) AS revenue,
           MAX(CASE WHEN event_type = 'purchase' THEN 1 ELSE 0 END) AS converted,
           MIN(CASE WHEN event_type = 'purchase' THEN timestamp END) AS converted_at,
           MAX(CASE WHEN event_type = '{TRIGGER_EVENT}' THEN 1 ELSE 0 END) AS triggered
    FROM exposed_events
    GROUP BY experiment, variant, unit_id
)"""

#: The analysis population — every event of an exposed unit from its first exposure on.
EXPOSED_EVENTS_SQL = _with(_FIRST_EXPOSURE, _EXPOSED_EVENTS, select="""\
SELECT experiment, variant, unit_id, event_type, revenue, timestamp, exposed_at
FROM exposed_events
ORDER BY experiment, variant, unit_id, timestamp""")

#: One row per exposed unit — sessions, page views, clicks, purchases, revenue, conversion.
USER_METRICS_SQL = _with(_FIRST_EXPOSURE, _EXPOSED_EVENTS, _USER_METRICS, select="""\
SELECT *
FROM user_metrics
ORDER BY experiment, variant, unit_id""")

#: One row per arm — means and variances of the user-level metrics, the sufficient
#: statistics of the tests (and the covariance that the delta method needs for the ratio).
ARM_SUMMARY_SQL = _with(_FIRST_EXPOSURE, _EXPOSED_EVENTS, _USER_METRICS, select="""\
SELECT experiment, variant,
       COUNT(*) AS users,
       COUNT(CASE WHEN converted = 1 THEN 1 END) AS converters,
       AVG(converted) AS conversion_rate,
       AVG(revenue) AS revenue_per_user,
       VAR_SAMP(revenue) AS revenue_variance,
       AVG(sessions) AS sessions_per_user,
       AVG(page_views) AS page_views_per_user,
       VAR_SAMP(page_views) AS page_views_variance,
       AVG(clicks) AS clicks_per_user,
       VAR_SAMP(clicks) AS clicks_variance,
       COVAR_SAMP(clicks, page_views) AS clicks_page_views_covariance,
       SUM(clicks) / NULLIF(SUM(page_views), 0) AS click_through_rate
FROM user_metrics
GROUP BY experiment, variant
ORDER BY experiment, variant""")

_DAILY = """\
daily_changes AS (
    -- what each UTC day adds: newly exposed units, first purchases, revenue
    SELECT experiment, variant, CAST(exposed_at AS DATE) AS event_date,
           1 AS new_users, 0 AS new_converters, 0 AS revenue
    FROM user_metrics
    UNION ALL
    SELECT experiment, variant, CAST(converted_at AS DATE), 0, 1, 0
    FROM user_metrics
    WHERE converted_at IS NOT NULL
    UNION ALL
    SELECT experiment, variant, CAST(timestamp AS DATE), 0, 0, revenue
    FROM exposed_events
    WHERE event_type = 'purchase'
),
daily AS (
    SELECT experiment, variant, event_date,
           SUM(new_users) AS new_users,
           SUM(new_converters) AS new_converters,
           SUM(revenue) AS revenue
    FROM daily_changes
    GROUP BY experiment, variant, event_date
),
cumulative AS (
    -- running totals: what the analysis would have shown at the end of each day
    SELECT experiment, variant, event_date, new_users,
           SUM(new_users) OVER to_date AS users,
           SUM(new_converters) OVER to_date AS converters,
           SUM(revenue) OVER to_date AS revenue
    FROM daily
    WINDOW to_date AS (
        PARTITION BY experiment, variant ORDER BY event_date
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    )
)"""

#: One row per UTC day and arm — cumulative users, converters and revenue up to that day.
DAILY_SQL = _with(_FIRST_EXPOSURE, _EXPOSED_EVENTS, _USER_METRICS, _DAILY, select="""\
SELECT experiment, variant, event_date,
       CAST(new_users AS BIGINT) AS new_users,
       CAST(users AS BIGINT) AS users,
       CAST(converters AS BIGINT) AS converters,
       converters / users AS conversion_rate,
       revenue,
       revenue / users AS revenue_per_user
FROM cumulative
ORDER BY experiment, variant, event_date""")

#: One row per arm, for the triggered analysis — only units that reached the trigger event.
TRIGGERED_SQL = _with(_FIRST_EXPOSURE, _EXPOSED_EVENTS, _USER_METRICS, select="""\
SELECT experiment, variant,
       COUNT(*) AS users,
       COUNT(CASE WHEN triggered = 1 THEN 1 END) AS triggered_users,
       AVG(triggered) AS trigger_rate,
       COUNT(CASE WHEN triggered = 1 AND converted = 1 THEN 1 END) AS triggered_converters,
       AVG(CASE WHEN triggered = 1 THEN converted END) AS triggered_conversion_rate,
       AVG(CASE WHEN triggered = 1 THEN revenue END) AS triggered_revenue_per_user,
       VAR_SAMP(CASE WHEN triggered = 1 THEN revenue END) AS triggered_revenue_variance
FROM user_metrics
GROUP BY experiment, variant
ORDER BY experiment, variant""")

_EFFECTS = """\
effects AS (
    -- treatment minus control, over all exposed units and over triggered units only
    SELECT experiment,
           AVG(triggered) AS trigger_rate,
           AVG(CASE WHEN variant = 'treatment' THEN converted END)
             - AVG(CASE WHEN variant = 'control' THEN converted END) AS conversion_effect,
           AVG(CASE WHEN variant = 'treatment' AND triggered = 1 THEN converted END)
             - AVG(CASE WHEN variant = 'control' AND triggered = 1 THEN converted END)
             AS triggered_conversion_effect,
           AVG(CASE WHEN variant = 'treatment' THEN revenue END)
             - AVG(CASE WHEN variant = 'control' THEN revenue END) AS revenue_effect,
           AVG(CASE WHEN variant = 'treatment' AND triggered = 1 THEN revenue END)
             - AVG(CASE WHEN variant = 'control' AND triggered = 1 THEN revenue END)
             AS triggered_revenue_effect
    FROM user_metrics
    GROUP BY experiment
)"""

#: One row per experiment — the triggered effect, diluted to all exposed units by the
#: trigger rate, next to the effect measured directly on all exposed units.
DILUTION_SQL = _with(_FIRST_EXPOSURE, _EXPOSED_EVENTS, _USER_METRICS, _EFFECTS, select="""\
SELECT experiment, trigger_rate,
       triggered_conversion_effect,
       triggered_conversion_effect * trigger_rate AS diluted_conversion_effect,
       conversion_effect,
       triggered_revenue_effect,
       triggered_revenue_effect * trigger_rate AS diluted_revenue_effect,
       revenue_effect
FROM effects
ORDER BY experiment""")

#: The metric queries by name, as run by :meth:`~abteach.events.EventStore.metrics`.
METRIC_SQL = {
    "exposed_events": EXPOSED_EVENTS_SQL,
    "users": USER_METRICS_SQL,
    "arms": ARM_SUMMARY_SQL,
    "daily": DAILY_SQL,
    "triggered": TRIGGERED_SQL,
    "dilution": DILUTION_SQL,
}

"""Event logs of an experiment: the schema, an embedded DuckDB store, and metrics in SQL.

An experiment platform does not see "conversions per arm": it sees a stream of events
(exposures, page views, clicks, purchases), each one a row with the fields of
:data:`EVENT_SCHEMA`. This module stores such a stream and turns it into the numbers a test
needs, in SQL, the way an analysis pipeline does.

:class:`EventStore` keeps the events in DuckDB, an embedded database: in memory or in one
file, no server. Ingestion is idempotent (an event whose ``event_id`` is already stored is a
duplicate and adds nothing) and never crashes on a bad event: a malformed event goes to the
``quarantine`` table with the reason, one of :data:`QUARANTINE_REASONS`.

The metric queries are module constants collected in :data:`METRIC_SQL`, so a chapter can
print the SQL it runs. They are written in portable SQL: common table expressions, ``JOIN``,
``GROUP BY``, the window functions ``LAG`` and ``SUM ... OVER``, ``CASE``, ``COALESCE``,
``NULLIF``, ``CAST(... AS DATE)``, ``CAST(... AS BIGINT)`` and the aggregates ``COUNT``,
``SUM``, ``AVG``, ``MIN``, ``MAX``, ``VAR_SAMP`` and ``COVAR_SAMP``, with no DuckDB-only
function (no ``epoch_ms``, ``list``, ``QUALIFY``, ``::`` casts or ``->>``). They run
unchanged on Spark SQL and BigQuery against a table named ``events`` with the columns of
:data:`EVENT_SCHEMA`. The one construct that differs from the ISO standard is the
session gap, written ``INTERVAL 30 MINUTE`` (the form DuckDB, Spark SQL and BigQuery all
accept; ISO SQL and PostgreSQL spell it ``INTERVAL '30' MINUTE``). The ingestion SQL, which
parses and checks raw input, does use DuckDB functions (``TRY_CAST``, ``isfinite``, the
JSON functions); it is plumbing, not analysis.

Timestamps are stored as ``TIMESTAMP`` holding UTC wall-clock time, so that
``CAST(timestamp AS DATE)`` is the UTC day on every engine.

References
----------
Kohavi, Tang & Xu (2020), *Trustworthy Online Controlled Experiments*, ch. 13 (instrumentation),
ch. 20 (triggering) and ch. 21 (data quality).
Deng, A. & Hu, V. (2015), Diluted treatment effect estimation for trigger analysis in online
controlled experiments, *WSDM*.
"""

from __future__ import annotations

from abteach.events import schema as _schema
from abteach.events import sql as _sql
from abteach.events.dilution import DilutedEffect, diluted_effect
from abteach.events.schema import SchemaField
from abteach.events.store import (
    DEFAULT_MEMORY_LIMIT,
    MAX_THREADS,
    MIN_MEMORY_LIMIT,
    EventStore,
    IngestResult,
)

#: The schema of an event, shared by the simulator (:func:`abteach.simulate.simulate_events`)
#: and the store. One row of the log is one event.
EVENT_SCHEMA = _schema.EVENT_SCHEMA
#: The names of the schema's columns, in order.
EVENT_COLUMNS = _schema.EVENT_COLUMNS
#: The two arms and the four event types.
VARIANTS = _schema.VARIANTS
EVENT_TYPES = _schema.EVENT_TYPES
#: The event that triggers the treatment — the changed page is reached by a click.
TRIGGER_EVENT = _schema.TRIGGER_EVENT
#: A gap longer than this between two events of a unit starts a new session.
SESSION_GAP_MINUTES = _schema.SESSION_GAP_MINUTES
#: The plausible time range of an event (UTC) — from ``EARLIEST_TIMESTAMP`` (included) to
#: ``LATEST_TIMESTAMP`` (excluded); an event outside it is quarantined.
EARLIEST_TIMESTAMP = _schema.EARLIEST_TIMESTAMP
LATEST_TIMESTAMP = _schema.LATEST_TIMESTAMP
#: Why an event was quarantined — a JSON line that is not an object, then the checks in order
#: (the first that holds is the reason).
QUARANTINE_REASONS = _schema.QUARANTINE_REASONS
#: The analysis population — every event of an exposed unit from its first exposure on.
EXPOSED_EVENTS_SQL = _sql.EXPOSED_EVENTS_SQL
#: One row per exposed unit — sessions, page views, clicks, purchases, revenue, conversion.
USER_METRICS_SQL = _sql.USER_METRICS_SQL
#: One row per arm — means and variances of the user-level metrics, the sufficient
#: statistics of the tests (and the covariance that the delta method needs for the ratio).
ARM_SUMMARY_SQL = _sql.ARM_SUMMARY_SQL
#: One row per UTC day and arm — cumulative users, converters and revenue up to that day.
DAILY_SQL = _sql.DAILY_SQL
#: One row per arm, for the triggered analysis — only units that reached the trigger event.
TRIGGERED_SQL = _sql.TRIGGERED_SQL
#: One row per experiment — the triggered effect, diluted to all exposed units by the
#: trigger rate, next to the effect measured directly on all exposed units.
DILUTION_SQL = _sql.DILUTION_SQL
#: The metric queries by name, as run by :meth:`EventStore.metrics`.
METRIC_SQL = _sql.METRIC_SQL

__all__ = [
    "ARM_SUMMARY_SQL",
    "DAILY_SQL",
    "DEFAULT_MEMORY_LIMIT",
    "DILUTION_SQL",
    "EARLIEST_TIMESTAMP",
    "EVENT_COLUMNS",
    "EVENT_SCHEMA",
    "EVENT_TYPES",
    "EXPOSED_EVENTS_SQL",
    "LATEST_TIMESTAMP",
    "MAX_THREADS",
    "METRIC_SQL",
    "MIN_MEMORY_LIMIT",
    "QUARANTINE_REASONS",
    "SESSION_GAP_MINUTES",
    "TRIGGERED_SQL",
    "TRIGGER_EVENT",
    "USER_METRICS_SQL",
    "VARIANTS",
    "DilutedEffect",
    "EventStore",
    "IngestResult",
    "SchemaField",
    "diluted_effect",
]

